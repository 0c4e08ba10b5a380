//! Media-chain benchmark: our receive chain against `ffmpeg -threads 1` on
//! the same 60 s 1080p30 screen-like H264 stream, in one run.
//!
//! Run through `scripts/bench-media` (release build). Needs `ffmpeg` with
//! libx264 and drawtext. The stream is generated once and cached under
//! `$CARGO_TARGET_DIR/bench-media/` (or `target/bench-media/`).
//!
//! Prints:
//! (a) our chain — H264Packetizer → RTP → VideoReceiver (reorder,
//!     depacketize, decode every frame, 2 fps gate, scale to 640×360,
//!     JPEG q75) — process CPU seconds (getrusage, user+sys) and the stage
//!     split measured through a `StageProbe`;
//! (b) `ffmpeg -threads 1 -i stream.h264 -f null -` CPU seconds (children
//!     rusage) and the ratio;
//! (c) the same chain if every decoded frame were JPEG-encoded at full
//!     resolution (what the reference does), to show what gating saves.
// getrusage is FFI; the benchmark is not part of any library.
#![allow(unsafe_code)]
// A benchmark measures wall time: the crate's clock ban is for the library.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use h264_rtp::{H264Packetizer, NalType, PacketizerConfig, START_CODE, nal_units};
use rtp::{PayloadType, RtpBuilder, RtpTimestamp, SeqNo, Ssrc};
use video_pipeline::{PipelineSettings, Stage, StageProbe};
use video_receiver::{Output, ReceiverConfig, VideoCodec, VideoReceiver};

const SECONDS: u32 = 60;
const FPS: u32 = 30;

fn cache_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("bench-media")
}

/// Generates the stream with ffmpeg unless cached.
fn stream(dir: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join("screen-1080p30-60s.h264");
    if path.exists() {
        return Ok(path);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let font = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
    let t = format!("fontfile={font}:fontcolor=0xc5c8c6:fontsize=28");
    let mut g = String::from("color=c=0x1d1f21:size=1920x1080:rate=30");
    for (i, line) in [
        "user@host ~/work $ cargo bench -p video-receiver",
        "   Compiling video-receiver v0.1.0",
        "    Finished release profile [optimized] target(s)",
        "running benchmark - decode gate scale jpeg",
    ]
    .iter()
    .enumerate()
    {
        g += &format!(",drawtext={t}:x=30:y={}:text='{line}'", 30 + 44 * i);
    }
    // Changing text: a log line per frame, a clock, a scrolling paragraph.
    g += &format!(
        ",drawtext={t}:fontcolor=0x8ae234:x=30:y=220:text='frame %{{frame_num}} pts %{{pts}}'"
    );
    g += &format!(
        ",drawtext={t}:x=30:y=264:text='%{{eif\\:mod(n*7919\\,1000003)\\:d}} ops/s latency %{{eif\\:mod(n*31\\,997)\\:d}} us'"
    );
    g += &format!(
        ",drawtext={t}:x=30:y='1080-mod(n*4\\,800)':text='Scrolling document text that moves every frame'"
    );
    // Scene changes: a slide (20-30 s), a white document page (40 s on).
    g += ",drawbox=x=0:y=0:w=iw:h=ih:color=0x2a6fdb:t=fill:enable='between(t,20,30)'";
    g += &format!(
        ",drawtext=fontfile={font}:fontcolor=white:fontsize=72:x=100:y=400:text='SLIDE %{{eif\\:floor(t)\\:d}}':enable='between(t,20,30)'"
    );
    g += ",drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='gte(t,40)'";
    g += &format!(
        ",drawtext=fontfile={font}:fontcolor=black:fontsize=36:x=60:y=60:text='Design document, page %{{frame_num}}':enable='gte(t,40)'"
    );
    g += ",format=yuv420p";
    eprintln!("generating {} (once) ...", path.display());
    let status = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            &g,
        ])
        .args([
            "-t",
            &SECONDS.to_string(),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
        ])
        .args([
            "-profile:v",
            "baseline",
            "-bf",
            "0",
            "-g",
            "300",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&path)
        .status()
        .context("run ffmpeg (Debian package ffmpeg)")?;
    ensure!(status.success(), "ffmpeg failed to generate the stream");
    Ok(path)
}

/// Splits an Annex-B stream into access units (one picture each: a new
/// unit starts at an AUD/SPS or at a slice with first_mb_in_slice == 0
/// once the current unit already has a slice).
fn access_units(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut cur = Vec::new();
    let mut has_slice = false;
    for nal in nal_units(data) {
        let Some(&h) = nal.first() else { continue };
        let t = NalType::from_header(h);
        let is_slice = t == NalType::SLICE || t == NalType::IDR;
        let first_mb0 = is_slice && nal.get(1).is_some_and(|b| b & 0x80 != 0);
        let starts = t == NalType::AUD || t == NalType::SPS || first_mb0;
        if starts && has_slice {
            out.push(std::mem::take(&mut cur));
            has_slice = false;
        }
        cur.extend_from_slice(&START_CODE);
        cur.extend_from_slice(nal);
        has_slice |= is_slice;
    }
    if has_slice {
        out.push(cur);
    }
    out
}

fn cpu_seconds(who: i32) -> anyhow::Result<f64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a `rusage` into the pointer it is given,
    // which points to a zeroed, properly aligned struct we own.
    let rc = unsafe { libc::getrusage(who, usage.as_mut_ptr()) };
    ensure!(
        rc == 0,
        "getrusage failed: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: getrusage returned 0, so the struct is initialised (it was
    // zeroed before anyway).
    let u = unsafe { usage.assume_init() };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(tv(u.ru_utime) + tv(u.ru_stime))
}

/// Wall time per stage, accumulated by the probe.
#[derive(Default)]
struct StageTimes {
    mark: Option<Instant>,
    decode: Duration,
    metrics: Duration,
    gate: Duration,
    scale: Duration,
    jpeg: Duration,
}

struct Probe(Arc<Mutex<StageTimes>>);

impl StageProbe for Probe {
    fn stage_done(&mut self, stage: Stage) {
        let now = Instant::now();
        let Ok(mut t) = self.0.lock() else { return };
        let since = t.mark.map_or(Duration::ZERO, |m| now - m);
        match stage {
            Stage::Decode => t.decode += since,
            Stage::Metrics => t.metrics += since,
            Stage::Gate => t.gate += since,
            Stage::Scale => t.scale += since,
            Stage::Jpeg => t.jpeg += since,
        }
        t.mark = Some(now);
    }
}

struct ChainResult {
    cpu: f64,
    wall: Duration,
    times: StageTimes,
    decoded: u64,
    emitted: u64,
    jpeg_bytes: usize,
}

fn run_chain(aus: &[Vec<u8>], settings: PipelineSettings) -> anyhow::Result<ChainResult> {
    let ssrc = Ssrc(0x5eed);
    let pt = PayloadType::new(101).context("payload type")?;
    let mut config = ReceiverConfig::new(VideoCodec::H264, ssrc);
    config.payload_type = Some(pt);
    config.pipeline = settings;
    let mut rx = VideoReceiver::new(config).context("receiver")?;
    let times = Arc::new(Mutex::new(StageTimes::default()));
    rx.set_stage_probe(Some(Box::new(Probe(times.clone()))));
    let mut packetizer =
        H264Packetizer::new(PacketizerConfig::default(), 1, 0x1234_5678).context("packetizer")?;
    let mut buf = Vec::with_capacity(1500);
    let t0 = Instant::now();
    let (mut emitted, mut jpeg_bytes) = (0, 0);
    let cpu0 = cpu_seconds(libc::RUSAGE_SELF)?;
    let wall0 = Instant::now();
    for (i, au) in aus.iter().enumerate() {
        let frame_time = Duration::from_secs(i as u64) / FPS;
        let now = t0 + frame_time;
        for p in packetizer.packetize(au, frame_time).context("packetize")? {
            let mut b = RtpBuilder::new(pt, SeqNo(p.seq), RtpTimestamp(p.timestamp), ssrc);
            b.marker = p.marker;
            buf.clear();
            b.write_to_vec(p.payload, &mut buf).context("rtp")?;
            if let Ok(mut t) = times.lock() {
                t.mark = Some(Instant::now());
            }
            rx.handle_rtp(now, &buf).context("our own packet refused")?;
            while let Some(out) = rx.poll_output() {
                if let Output::Frame(f) = out {
                    emitted += 1;
                    jpeg_bytes += f.frame.jpeg.len();
                }
            }
        }
    }
    let cpu = cpu_seconds(libc::RUSAGE_SELF)? - cpu0;
    let wall = wall0.elapsed();
    let decoded = rx.stats().frames_decoded;
    let times = std::mem::take(&mut *times.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(ChainResult {
        cpu,
        wall,
        times,
        decoded,
        emitted,
        jpeg_bytes,
    })
}

fn print_chain(name: &str, r: &ChainResult) {
    let t = &r.times;
    let total = t.decode + t.metrics + t.gate + t.scale + t.jpeg;
    let pct = |d: Duration| 100.0 * d.as_secs_f64() / total.as_secs_f64().max(1e-9);
    println!("{name}");
    println!(
        "  CPU {:.2} s (wall {:.2} s), {} frames decoded, {} emitted, {:.1} KiB JPEG",
        r.cpu,
        r.wall.as_secs_f64(),
        r.decoded,
        r.emitted,
        r.jpeg_bytes as f64 / 1024.0
    );
    for (label, d) in [
        ("decode", t.decode),
        ("metrics", t.metrics),
        ("gate", t.gate),
        ("scale", t.scale),
        ("jpeg", t.jpeg),
    ] {
        println!("  {label:<8} {:8.3} s  {:5.1} %", d.as_secs_f64(), pct(d));
    }
}

fn main() -> anyhow::Result<()> {
    let dir = cache_dir();
    let path = stream(&dir)?;
    let data = std::fs::read(&path).with_context(|| format!("read {}", path.display()))?;
    let aus = access_units(&data);
    println!(
        "stream: {} ({:.1} MiB, {} access units, 1920x1080 @ {FPS} fps)",
        path.display(),
        data.len() as f64 / (1 << 20) as f64,
        aus.len()
    );

    let gated = run_chain(
        &aus,
        PipelineSettings {
            max_fps: 2.0,
            max_pixels: 640 * 360,
            jpeg_quality: 75,
        },
    )?;

    let c0 = cpu_seconds(libc::RUSAGE_CHILDREN)?;
    let w0 = Instant::now();
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-threads", "1", "-i"])
        .arg(&path)
        .args(["-f", "null", "-"])
        .status()
        .context("run ffmpeg")?;
    ensure!(status.success(), "ffmpeg decode failed");
    let ffmpeg_cpu = cpu_seconds(libc::RUSAGE_CHILDREN)? - c0;
    let ffmpeg_wall = w0.elapsed();

    let full = run_chain(
        &aus,
        PipelineSettings {
            max_fps: 60.0,
            max_pixels: 1920 * 1080,
            jpeg_quality: 75,
        },
    )?;

    println!();
    print_chain(
        "(a) our chain: packetize → RTP → receiver → decode all → 2 fps gate → 640x360 → JPEG q75",
        &gated,
    );
    println!();
    println!("(b) ffmpeg -threads 1 -i stream.h264 -f null -");
    println!(
        "  CPU {ffmpeg_cpu:.2} s (wall {:.2} s)",
        ffmpeg_wall.as_secs_f64()
    );
    println!(
        "  ratio ours / ffmpeg: {:.2}x (target <= 1.2x)",
        gated.cpu / ffmpeg_cpu.max(1e-9)
    );
    let jpeg_share = gated.times.jpeg.as_secs_f64()
        / (gated.times.decode
            + gated.times.metrics
            + gated.times.gate
            + gated.times.scale
            + gated.times.jpeg)
            .as_secs_f64()
            .max(1e-9);
    println!(
        "  JPEG stage share of our pipeline time: {:.1} %",
        100.0 * jpeg_share
    );
    println!();
    print_chain(
        "(c) every decoded frame JPEG-encoded at full resolution (no gate, no scaling), q75",
        &full,
    );
    println!(
        "  gating first saves {:.2} CPU s ({:.0} % of (c)); JPEG time {:.2} s vs {:.2} s",
        full.cpu - gated.cpu,
        100.0 * (full.cpu - gated.cpu) / full.cpu.max(1e-9),
        full.times.jpeg.as_secs_f64(),
        gated.times.jpeg.as_secs_f64()
    );
    Ok(())
}

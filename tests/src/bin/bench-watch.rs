//! `scripts/bench-watch`: mediad watching a Go Live stream from
//! discord-sim, measured.
//!
//! Phase 1: 1080p30 for `--seconds` (decode every frame, 2 fps JPEG):
//! mediad's CPU time (utime + stime from /proc) and RSS (current and peak).
//! Phase 2: 720p30 with every decoded frame emitted: latency from the
//! sim's send of a frame's first packet to this process (standing in for
//! control) receiving the decoded JPEG over IPC, p50/p99. The sim runs in
//! this process, so both ends read the same monotonic clock.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use e2e::gateway_client::{AGENT_TOKEN, SimUser};
use e2e::{Daemon, connect_tool};
use ipc_schema::*;
use sim_gateway::{Action, Scenario, SimConfig, VideoSpecConfig};

use e2e::bench_arg as arg;

fn proc_stat(pid: u32) -> (f64, u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (e2e::proc_cpu_seconds(pid), kb("VmRSS:"), kb("VmHWM:"))
}

fn scenario(width: u32, height: u32, fps: u32) -> anyhow::Result<Scenario> {
    let mut s = Scenario::builtin("demo").context("the built-in demo scenario")?;
    for entry in &mut s.timeline {
        if let Action::StartStream { video, .. } = &mut entry.action {
            *video = VideoSpecConfig {
                width,
                height,
                fps,
                bitrate_kbps: if height >= 1080 { 4500 } else { 2500 },
                layers: vec![],
                ..video.clone()
            };
        }
    }
    Ok(s)
}

struct Run {
    frames: Vec<(Instant, DecodedVideoFrame)>,
    cpu_s: f64,
    rss_kb: u64,
    peak_kb: u64,
    decoded: u64,
    seconds: f64,
    sent: Vec<sim_media_server::SentFrame>,
    me: u64,
}

async fn run(width: u32, height: u32, fps: u32, max_fps: f32, seconds: u64) -> anyhow::Result<Run> {
    let sim = sim_gateway::start(SimConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        scenario: scenario(width, height, fps)?,
        seed: 1,
    })
    .await
    .map_err(|e| anyhow::anyhow!("discord-sim: {e}"))?;
    let dir = tempfile::tempdir().context("tempdir")?;
    let socket = dir.path().join("mediad.sock");
    let mediad = Daemon::start(
        "mediad",
        "mediad",
        dir.path(),
        &[
            "--ipc-socket",
            socket.to_str().context("a temp path that is not UTF-8")?,
            "--extra-ca-file",
            sim.ca_file()
                .to_str()
                .context("a temp path that is not UTF-8")?,
        ],
    );
    let mut link = loop {
        if let Ok(l) = connect_tool(&socket, PROTOCOL_VERSION).await {
            break l;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut user = SimUser::connect(&sim.gateway_url(), AGENT_TOKEN, sim.ca_pem()).await;
    let alice = user.streaming[0];
    let me = user.user_id;
    let voice = user.join_voice().await;
    link.sender
        .send(ControlMsg::VoiceConnect(voice))
        .context("mediad's link closed")?;
    let stream = user.watch(alice).await;
    link.sender
        .send(ControlMsg::SubscribeUserVideo(VideoSubscription {
            user_id: UserId(alice),
            stream_type: None,
            max_fps,
            quality: 100,
            preferred_pixel_count: None,
            jpeg_quality: 75,
        }))
        .context("mediad's link closed")?;
    link.sender
        .send(ControlMsg::StreamWatchConnect(stream))
        .context("mediad's link closed")?;
    let pid = mediad.child.id();
    // Warm up: first frame plus two seconds.
    let mut frames = Vec::new();
    let decoded_at = |stats: &Stats| {
        stats
            .transports
            .iter()
            .find(|t| t.role == Some(TransportRole::StreamWatch))
            .map(|t| t.frames_decoded)
    };
    let mut last_decoded = None;
    let warm_until = Instant::now() + Duration::from_secs(2);
    let mut started: Option<(Instant, f64)> = None;
    let mut decoded_start = None;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), link.receiver.recv())
            .await
            .context("mediad did not answer within 30 s")?
            .context("mediad's link closed")?
            .map_err(|e| anyhow::anyhow!("a message from mediad that does not decode: {e}"))?;
        let now = Instant::now();
        match msg {
            MediadMsg::DecodedVideoFrame(f) if started.is_some() => frames.push((now, f)),
            MediadMsg::Stats(s) => {
                last_decoded = decoded_at(&s).or(last_decoded);
                if started.is_some() && decoded_start.is_none() {
                    decoded_start = last_decoded;
                }
            }
            _ => {}
        }
        if started.is_none() && now >= warm_until {
            started = Some((now, proc_stat(pid).0));
        }
        if let Some((t0, _)) = started
            && now >= t0 + Duration::from_secs(seconds)
        {
            break;
        }
    }
    let (t0, cpu0) = started.context("the measurement never started")?;
    let (cpu1, rss, peak) = proc_stat(pid);
    let elapsed = t0.elapsed().as_secs_f64();
    let sent = sim.stream().sent_frames();
    sim.shutdown().await;
    drop(mediad);
    Ok(Run {
        frames,
        cpu_s: cpu1 - cpu0,
        rss_kb: rss,
        peak_kb: peak,
        decoded: last_decoded
            .unwrap_or(0)
            .saturating_sub(decoded_start.unwrap_or(0)),
        seconds: elapsed,
        sent,
        me,
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let seconds = arg("--seconds", 60);
    let latency_seconds = arg("--latency-seconds", 20);
    println!("bench-watch: mediad watching discord-sim's Go Live stream");

    let a = run(1920, 1080, 30, 2.0, seconds).await?;
    println!(
        "\n1080p30 for {:.0} s (decode all, 2 fps JPEG 640x360):",
        a.seconds
    );
    println!(
        "  mediad CPU            {:>8.2} s  ({:.0} % of one core)",
        a.cpu_s,
        100.0 * a.cpu_s / a.seconds
    );
    println!(
        "  frames decoded        {:>8}    ({:.1} fps)",
        a.decoded,
        a.decoded as f64 / a.seconds
    );
    println!("  JPEG frames received  {:>8}", a.frames.len());
    println!(
        "  RSS now / peak        {:>5.1} MB / {:.1} MB   (target <= 80 MB)",
        a.rss_kb as f64 / 1024.0,
        a.peak_kb as f64 / 1024.0
    );

    let b = run(1280, 720, 30, 30.0, latency_seconds).await?;
    let sent: HashMap<(u32, u32), Instant> = b
        .sent
        .iter()
        .filter(|s| s.receiver == b.me)
        .map(|s| ((s.ssrc, s.rtp_timestamp), s.sent_at))
        .collect();
    let mut lat: Vec<f64> = b
        .frames
        .iter()
        .filter_map(|(at, f)| {
            let sent_at = sent.get(&(f.ssrc.0, f.rtp_timestamp))?;
            Some(at.saturating_duration_since(*sent_at).as_secs_f64() * 1000.0)
        })
        .collect();
    lat.sort_by(f64::total_cmp);
    println!(
        "\n720p30 for {:.0} s, every decoded frame emitted:",
        b.seconds
    );
    println!(
        "  frames matched        {:>8} of {} received",
        lat.len(),
        b.frames.len()
    );
    println!(
        "  latency p50           {:>8.1} ms  (target <= 30 ms)",
        percentile(&lat, 0.5)
    );
    println!(
        "  latency p99           {:>8.1} ms  (target <= 100 ms)",
        percentile(&lat, 0.99)
    );
    println!(
        "  mediad CPU            {:>8.2} s  ({:.0} % of one core)",
        b.cpu_s,
        100.0 * b.cpu_s / b.seconds
    );
    println!(
        "  RSS now / peak        {:>5.1} MB / {:.1} MB",
        b.rss_kb as f64 / 1024.0,
        b.peak_kb as f64 / 1024.0
    );
    Ok(())
}

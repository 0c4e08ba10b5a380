//! `mediad replay`: runs a captured RTP video stream through the same
//! receive chain the transports use (`video-receiver`), with the capture's
//! timestamps as time, and writes the emitted JPEGs.
//!
//! It is the offline way to look at what mediad would make of a stream: a
//! capture from a bug report, a fixture, or a stream recorded with tcpdump.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rtp::{PayloadType, RtpPacket, Ssrc};
use video_pipeline::{DEFAULT_JPEG_QUALITY, DEFAULT_MAX_PIXELS, PipelineSettings};
use video_receiver::{Output, ReceiverConfig, RtxConfig, VideoCodec, VideoReceiver, guess_codec};

/// Codec choice on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CodecArg {
    /// Guess from the payloads (H264 parameter sets, VP8 key frame headers).
    Auto,
    /// H264 (RFC 6184).
    H264,
    /// VP8 (RFC 7741).
    Vp8,
}

/// Arguments of `mediad replay`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Replay a captured RTP video stream through the receive chain and write JPEG frames",
    long_about = "Reads a .pcap, .pcapng or .rtpdump capture, picks one video SSRC (the one with the \
                  most packets unless --ssrc is given), runs its packets through mediad's receive \
                  chain (RTX repair, reordering, depacketizing, decoding, frame-rate gate, scaling, \
                  JPEG) using the capture timestamps as time, and prints one line per emitted frame \
                  and a summary. With --out, the frames are written as frame-NNNNNN.jpg."
)]
pub struct ReplayArgs {
    /// Capture file: .pcap, .pcapng or .rtpdump (detected from its contents).
    pub capture: PathBuf,
    /// Media SSRC to replay (decimal or 0x-hex); default: the SSRC with the most packets.
    #[arg(long, value_parser = parse_u32)]
    pub ssrc: Option<u32>,
    /// Video codec of the stream.
    #[arg(long, value_enum, default_value_t = CodecArg::Auto)]
    pub codec: CodecArg,
    /// Only accept this payload type on the media SSRC (default: any).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..128))]
    pub payload_type: Option<u8>,
    /// SSRC of the RTX stream paired with the media stream (decimal or 0x-hex).
    #[arg(long, value_parser = parse_u32, requires = "rtx_pt")]
    pub rtx_ssrc: Option<u32>,
    /// Payload type of the RTX stream.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..128), requires = "rtx_ssrc")]
    pub rtx_pt: Option<u8>,
    /// Directory to write frame-NNNNNN.jpg files into (created if missing).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Maximum emitted frames per second (the subscriber's rate gate).
    #[arg(long, default_value_t = 2.0)]
    pub fps: f32,
    /// Pixel budget of emitted frames (downscaled to fit, aspect kept).
    #[arg(long, default_value_t = DEFAULT_MAX_PIXELS)]
    pub max_pixels: u32,
    /// JPEG quality (10-100).
    #[arg(long, default_value_t = DEFAULT_JPEG_QUALITY)]
    pub jpeg_quality: u8,
    /// Print JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

fn parse_u32(s: &str) -> Result<u32, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|e| format!("not a 32-bit number: {e}"))
}

/// One RTP packet of the capture.
struct Captured<'a> {
    at: Duration,
    ssrc: Ssrc,
    bytes: &'a [u8],
}

/// Runs the replay; errors are meant for the user as they are.
pub fn run(args: ReplayArgs) -> anyhow::Result<()> {
    let data = std::fs::read(&args.capture)
        .with_context(|| format!("cannot read {}", args.capture.display()))?;
    let (datagrams, _, error) = capture_file::read_all(&data);
    if let Some(e) = &error {
        if datagrams.is_empty() {
            bail!("{}: not a readable capture: {e}", args.capture.display());
        }
        eprintln!("warning: {}: stopped early: {e}", args.capture.display());
    }
    let start = datagrams.first().map(|d| d.timestamp).unwrap_or_default();
    let packets: Vec<Captured<'_>> = datagrams
        .iter()
        .filter(|d| !rtp::is_rtcp(d.payload))
        .filter_map(|d| {
            let p = RtpPacket::parse(d.payload).ok()?;
            Some(Captured {
                at: d.timestamp.saturating_sub(start),
                ssrc: p.ssrc(),
                bytes: d.payload,
            })
        })
        .collect();
    if packets.is_empty() {
        bail!(
            "{}: no RTP packets found ({} UDP datagrams)",
            args.capture.display(),
            datagrams.len()
        );
    }

    let mut counts: HashMap<Ssrc, usize> = HashMap::new();
    for p in &packets {
        *counts.entry(p.ssrc).or_default() += 1;
    }
    let mut by_count: Vec<(Ssrc, usize)> = counts.iter().map(|(&s, &n)| (s, n)).collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let listing = by_count
        .iter()
        .map(|(s, n)| format!("{} ({}: {n} packets)", s, s.0))
        .collect::<Vec<_>>()
        .join(", ");
    let rtx_ssrc = args.rtx_ssrc.map(Ssrc);
    let ssrc = match args.ssrc {
        Some(s) if counts.contains_key(&Ssrc(s)) => Ssrc(s),
        Some(s) => bail!("SSRC {} not in the capture; it has: {listing}", Ssrc(s)),
        None => {
            let Some(&(s, n)) = by_count.iter().find(|(s, _)| Some(*s) != rtx_ssrc) else {
                bail!("no media SSRC in the capture besides the RTX one");
            };
            eprintln!("using SSRC {s} ({n} packets, the most); capture has: {listing}");
            s
        }
    };

    let codec = match args.codec {
        CodecArg::H264 => VideoCodec::H264,
        CodecArg::Vp8 => VideoCodec::Vp8,
        CodecArg::Auto => {
            let payloads = packets
                .iter()
                .filter(|p| p.ssrc == ssrc)
                .filter_map(|p| RtpPacket::parse(p.bytes).ok().map(|r| r.payload()));
            let codec = guess_codec(payloads).context(
                "cannot tell the codec from the payloads; pass --codec h264 or --codec vp8",
            )?;
            eprintln!("codec: {codec} (detected from the payloads)");
            codec
        }
    };

    let mut config = ReceiverConfig::new(codec, ssrc);
    config.payload_type = args.payload_type.map(PayloadType::new).transpose()?;
    if let (Some(rtx), Some(pt)) = (rtx_ssrc, args.rtx_pt) {
        config.rtx = Some(RtxConfig {
            ssrc: rtx,
            payload_type: PayloadType::new(pt)?,
        });
    }
    config.pipeline = PipelineSettings {
        max_fps: args.fps,
        max_pixels: args.max_pixels,
        jpeg_quality: args.jpeg_quality,
    };
    let mut rx = VideoReceiver::new(config).context("cannot create the video pipeline")?;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }

    let mut printer = Printer {
        args: &args,
        base: Instant::now(),
        index: 0,
    };
    let base = printer.base;
    let mut rejected = 0u64;
    for p in packets
        .iter()
        .filter(|p| p.ssrc == ssrc || Some(p.ssrc) == rtx_ssrc)
    {
        let now = base + p.at;
        while let Some(t) = rx.poll_timeout().filter(|&t| t <= now) {
            rx.handle_timeout(t);
            printer.drain(&mut rx)?;
        }
        if rx.handle_rtp(now, p.bytes).is_err() {
            rejected += 1;
        }
        printer.drain(&mut rx)?;
    }
    let end = base + packets.last().map_or(Duration::ZERO, |p| p.at);
    rx.flush(end);
    printer.drain(&mut rx)?;

    let s = rx.stats();
    let errors = s.decode_errors + rx.pipeline_counters().map_or(0, |c| c.encode_errors);
    if args.json {
        println!(
            "{{\"summary\":{{\"ssrc\":{},\"codec\":\"{codec}\",\"packets\":{},\"rejected\":{rejected},\"lost\":{},\"recovered\":{},\"nacks\":{},\"frames_assembled\":{},\"frames_decoded\":{},\"frames_emitted\":{},\"keyframe_requests\":{},\"decode_errors\":{errors}}}}}",
            ssrc.0,
            s.packets,
            s.lost,
            s.rtx_recovered,
            s.nacks_sent,
            s.frames_assembled,
            s.frames_decoded,
            s.frames_emitted,
            s.keyframe_requests
        );
    } else {
        println!(
            "summary: ssrc={ssrc} codec={codec} packets={} rejected={rejected} lost={} recovered={} nacks={} frames_assembled={} frames_decoded={} frames_emitted={} keyframe_requests={} decode_errors={errors}",
            s.packets,
            s.lost,
            s.rtx_recovered,
            s.nacks_sent,
            s.frames_assembled,
            s.frames_decoded,
            s.frames_emitted,
            s.keyframe_requests
        );
    }
    Ok(())
}

/// Prints (and writes) outputs as they come.
struct Printer<'a> {
    args: &'a ReplayArgs,
    base: Instant,
    index: u64,
}

impl Printer<'_> {
    fn drain(&mut self, rx: &mut VideoReceiver) -> anyhow::Result<()> {
        while let Some(out) = rx.poll_output() {
            match out {
                Output::Frame(f) => {
                    let e = &f.frame;
                    let at = f
                        .completed_at
                        .saturating_duration_since(self.base)
                        .as_secs_f64();
                    if let Some(dir) = &self.args.out {
                        let path = dir.join(format!("frame-{:06}.jpg", self.index));
                        std::fs::write(&path, &e.jpeg)
                            .with_context(|| format!("cannot write {}", path.display()))?;
                    }
                    if self.args.json {
                        println!(
                            "{{\"index\":{},\"rtp_ts\":{},\"capture_time\":{at:.6},\"width\":{},\"height\":{},\"jpeg_bytes\":{},\"change\":{:.4},\"ema\":{:.4},\"scene_cut\":{},\"keyframe\":{},\"concealed\":{}}}",
                            self.index,
                            f.rtp_timestamp.0,
                            e.width,
                            e.height,
                            e.jpeg.len(),
                            e.change_score,
                            e.ema_score,
                            e.scene_cut,
                            f.keyframe,
                            f.concealed
                        );
                    } else {
                        println!(
                            "frame {:06} rtp_ts={} t={at:.3}s {}x{} jpeg={}B change={:.4} ema={:.4} scene_cut={}{}",
                            self.index,
                            f.rtp_timestamp.0,
                            e.width,
                            e.height,
                            e.jpeg.len(),
                            e.change_score,
                            e.ema_score,
                            e.scene_cut,
                            if f.concealed { " concealed" } else { "" }
                        );
                    }
                    self.index += 1;
                }
                // Nothing to answer them in a replay; counted in the summary.
                Output::Nack(_) | Output::KeyframeRequest | Output::Event(_) => {}
            }
        }
        Ok(())
    }
}

//! Shared test helpers: the committed ffmpeg captures, a virtual-time driver
//! that can play the RTX-answering sender, PNG/JPEG luma and PSNR.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rtp::{PayloadType, RtpPacket, RtxMapping, SeqNo, Ssrc};
use video_pipeline::PipelineSettings;
use video_receiver::{Output, ReceivedFrame, ReceiverConfig, VideoCodec, VideoReceiver};

pub fn media_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/media")
}

/// One fixture capture: its metadata and its RTP packets with capture
/// times relative to the first packet.
pub struct Fixture {
    pub meta: serde_json::Value,
    pub codec: VideoCodec,
    pub ssrc: Ssrc,
    pub pt: PayloadType,
    pub packets: Vec<(Duration, Vec<u8>)>,
}

pub fn fixture(name: &str) -> Fixture {
    let meta: serde_json::Value = serde_json::from_slice(
        &std::fs::read(media_dir().join(format!("{name}.meta.json"))).unwrap(),
    )
    .unwrap();
    let bytes = std::fs::read(media_dir().join(format!("{name}.pcap"))).unwrap();
    let (datagrams, _, err) = capture_file::read_all(&bytes);
    assert_eq!(err, None);
    let t0 = datagrams[0].timestamp;
    let packets = datagrams
        .iter()
        .map(|d| (d.timestamp - t0, d.payload.to_vec()))
        .collect();
    let codec = match meta["codec"].as_str().unwrap() {
        "H264" => VideoCodec::H264,
        "VP8" => VideoCodec::Vp8,
        other => panic!("codec {other}"),
    };
    Fixture {
        codec,
        ssrc: Ssrc(meta["ssrc"].as_u64().unwrap() as u32),
        pt: PayloadType::new(meta["payload_type"].as_u64().unwrap() as u8).unwrap(),
        meta,
        packets,
    }
}

pub const RTX_SSRC: Ssrc = Ssrc(0xabcd_0001);
pub const RTX_PT: u8 = 97;

/// Every frame emitted, full size, JPEG quality 90.
pub fn config(f: &Fixture, with_rtx: bool) -> ReceiverConfig {
    let mut c = ReceiverConfig::new(f.codec, f.ssrc);
    c.payload_type = Some(f.pt);
    c.pipeline = PipelineSettings {
        max_fps: 60.0,
        max_pixels: 1920 * 1080,
        jpeg_quality: 90,
    };
    if with_rtx {
        c.rtx = Some(video_receiver::RtxConfig {
            ssrc: RTX_SSRC,
            payload_type: PayloadType::new(RTX_PT).unwrap(),
        });
    }
    c
}

pub fn rtx_mapping(f: &Fixture) -> RtxMapping {
    RtxMapping {
        rtx_ssrc: RTX_SSRC,
        rtx_pt: PayloadType::new(RTX_PT).unwrap(),
        primary_ssrc: f.ssrc,
        primary_pt: f.pt,
    }
}

/// What a run produced.
#[derive(Default)]
pub struct RunResult {
    pub frames: Vec<ReceivedFrame>,
    pub nacks: Vec<Vec<SeqNo>>,
    pub keyframe_requests: usize,
    pub retransmitted: usize,
}

/// The sender side of RTX: answers NACKs from `originals` after `delay`.
pub struct RtxSender<'a> {
    pub mapping: RtxMapping,
    pub originals: &'a HashMap<u16, Vec<u8>>,
    pub delay: Duration,
}

/// Drives `rx` in virtual time: `arrivals` at their times, timeouts at
/// `poll_timeout`, and (optionally) RTX answers to NACKs. Ends with a flush.
pub fn run(
    rx: &mut VideoReceiver,
    arrivals: &[(Duration, Vec<u8>)],
    sender: Option<&RtxSender<'_>>,
) -> RunResult {
    // The run's one clock read: a base instant; time then advances virtually.
    #[allow(clippy::disallowed_methods)]
    let t0 = Instant::now();
    let mut result = RunResult::default();
    // (time, order) -> packet: arrivals and scheduled retransmissions.
    let mut queue: BTreeMap<(Duration, u64), Vec<u8>> = BTreeMap::new();
    for (i, (t, p)) in arrivals.iter().enumerate() {
        queue.insert((*t, i as u64), p.clone());
    }
    let mut order = arrivals.len() as u64;
    let mut rtx_seq = SeqNo(1000);
    let mut now = Duration::ZERO;
    loop {
        let next_packet = queue.keys().next().map(|k| k.0);
        let next_timeout = rx.poll_timeout().map(|t| t.saturating_duration_since(t0));
        let horizon = arrivals.last().map_or(Duration::ZERO, |a| a.0) + Duration::from_secs(2);
        if next_packet.is_none() && next_timeout.is_none_or(|t| t > horizon) {
            // Only keyframe-request retries are left: the stream is over.
            break;
        }
        let step = match (next_packet, next_timeout) {
            (None, None) => break,
            (Some(p), Some(t)) if t < p => None,
            (Some(_), _) => next_packet,
            (None, Some(_)) => None,
        };
        match step {
            Some(_) => {
                let ((t, _), packet) = queue.pop_first().unwrap();
                now = now.max(t);
                let _ = rx.handle_rtp(t0 + now, &packet);
            }
            None => {
                now = now.max(next_timeout.unwrap());
                rx.handle_timeout(t0 + now);
            }
        }
        while let Some(out) = rx.poll_output() {
            match out {
                Output::Frame(f) => result.frames.push(f),
                Output::Nack(seqs) => {
                    if let Some(s) = sender {
                        for seq in &seqs {
                            if let Some(orig) = s.originals.get(&seq.0) {
                                let p = RtpPacket::parse(orig).unwrap();
                                let mut wrapped = Vec::new();
                                s.mapping.wrap_into(&p, rtx_seq, &mut wrapped).unwrap();
                                rtx_seq = rtx_seq.next();
                                queue.insert((now + s.delay, order), wrapped);
                                order += 1;
                                result.retransmitted += 1;
                            }
                        }
                    }
                    result.nacks.push(seqs);
                }
                Output::KeyframeRequest => result.keyframe_requests += 1,
                Output::Event(_) => {}
            }
        }
    }
    rx.flush(t0 + now + Duration::from_secs(1));
    while let Some(out) = rx.poll_output() {
        match out {
            Output::Frame(f) => result.frames.push(f),
            Output::KeyframeRequest => result.keyframe_requests += 1,
            _ => {}
        }
    }
    result
}

/// A tiny deterministic xorshift64* generator.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn seq_of(packet: &[u8]) -> u16 {
    u16::from_be_bytes([packet[2], packet[3]])
}

pub fn ts_of(packet: &[u8]) -> u32 {
    u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]])
}

/// Limited-range BT.601 luma of an RGB PNG (how ffmpeg rendered the
/// yuv420p source to RGB), as (pixels, width, height).
pub fn png_luma(file: &str) -> (Vec<u8>, usize, usize) {
    let decoder = png::Decoder::new(std::fs::File::open(media_dir().join(file)).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let (w, h) = (info.width as usize, info.height as usize);
    let luma = buf[..w * h * 3]
        .chunks_exact(3)
        .map(|p| {
            let y = 16.0
                + (65.481 * f64::from(p[0]) + 128.553 * f64::from(p[1]) + 24.966 * f64::from(p[2]))
                    / 255.0;
            y.round().clamp(0.0, 255.0) as u8
        })
        .collect();
    (luma, w, h)
}

/// The luma plane of a JPEG (turbojpeg, grayscale output).
pub fn jpeg_luma(jpeg: &[u8]) -> (Vec<u8>, usize, usize) {
    let img = turbojpeg::decompress(jpeg, turbojpeg::PixelFormat::GRAY).unwrap();
    let mut out = Vec::with_capacity(img.width * img.height);
    for row in 0..img.height {
        out.extend_from_slice(&img.pixels[row * img.pitch..row * img.pitch + img.width]);
    }
    (out, img.width, img.height)
}

pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

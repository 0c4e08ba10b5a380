//! A stream whose payload type changes codec mid-stream (a Discord
//! streamer who switches between H264 and VP8): the receiver follows the
//! payload type, not the codec it was started with.
//!
//! Witnesses that the payload type is the per-packet codec signal:
//! user-docs (`pages/topics/voice-connections.mdx`, Select Protocol codecs):
//! "payload_type … The payload type of the codec", declared per codec by
//! the receiving client; clankvox `src/rtp.rs` `from_payload_type` maps
//! each received packet's PT (H264 103, VP8 105) to its depacketizer.
// Tests read the clock once per case for a base instant; time is virtual after it.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::{fixture, run};
use rtp::{PayloadType, Ssrc};
use video_pipeline::PipelineSettings;
use video_receiver::{PayloadCodec, ReceiverConfig, VideoCodec, VideoReceiver};

const SSRC: Ssrc = Ssrc(0x5151_0001);
const H264_PT: u8 = 101;
const VP8_PT: u8 = 103;

fn pt(n: u8) -> PayloadType {
    PayloadType::new(n).unwrap()
}

/// Rewrites the fixed RTP header: payload type, sequence, timestamp, SSRC.
fn restamp(packet: &[u8], pt: u8, seq: u16, ts: u32) -> Vec<u8> {
    let mut p = packet.to_vec();
    p[1] = (p[1] & 0x80) | pt;
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p[4..8].copy_from_slice(&ts.to_be_bytes());
    p[8..12].copy_from_slice(&SSRC.0.to_be_bytes());
    p
}

fn ts_of(p: &[u8]) -> u32 {
    u32::from_be_bytes([p[4], p[5], p[6], p[7]])
}

/// `first` then `second` as one RTP stream (continuous sequence numbers and
/// timestamps), each with its payload type.
fn joined(first: (&str, u8), second: (&str, u8)) -> (Vec<(Duration, Vec<u8>)>, u32) {
    let mut out = Vec::new();
    let mut seq = 40_000u16;
    let mut t_end = Duration::ZERO;
    let mut ts_shift_end = 0u32;
    let mut switch_ts = 0;
    for (i, (name, pt)) in [first, second].into_iter().enumerate() {
        let f = fixture(name);
        let ts0 = ts_of(&f.packets[0].1);
        let base_t = t_end;
        let base_ts = ts_shift_end;
        if i == 1 {
            switch_ts = base_ts;
        }
        for (t, p) in &f.packets {
            let ts = base_ts.wrapping_add(ts_of(p).wrapping_sub(ts0));
            out.push((base_t + *t, restamp(p, pt, seq, ts)));
            seq = seq.wrapping_add(1);
            t_end = base_t + *t + Duration::from_millis(66);
            ts_shift_end = ts.wrapping_add(6000);
        }
    }
    (out, switch_ts)
}

fn receiver(start: VideoCodec) -> VideoReceiver {
    let mut c = ReceiverConfig::new(start, SSRC);
    c.payload_codecs = vec![
        PayloadCodec {
            payload_type: pt(H264_PT),
            codec: VideoCodec::H264,
            rtx_payload_type: Some(pt(H264_PT + 1)),
        },
        PayloadCodec {
            payload_type: pt(VP8_PT),
            codec: VideoCodec::Vp8,
            rtx_payload_type: Some(pt(VP8_PT + 1)),
        },
    ];
    c.pipeline = PipelineSettings {
        max_fps: 60.0,
        max_pixels: 1920 * 1080,
        jpeg_quality: 80,
    };
    VideoReceiver::new(c).unwrap()
}

#[test]
fn h264_then_vp8_on_one_ssrc_keeps_producing_frames() {
    let (packets, switch_ts) = joined(("h264-baseline", H264_PT), ("vp8", VP8_PT));
    let mut rx = receiver(VideoCodec::H264);
    let r = run(&mut rx, &packets, None);
    let before = r
        .frames
        .iter()
        .filter(|f| f.rtp_timestamp.0 < switch_ts)
        .count();
    let after = r.frames.len() - before;
    // 60 frames each; the old receiver fed VP8 to the H264 depacketizer and
    // produced nothing after the switch.
    assert!(before >= 55, "H264 frames before the switch: {before}");
    assert!(after >= 55, "VP8 frames after the switch: {after}");
    assert_eq!(rx.codec(), VideoCodec::Vp8);
    assert_eq!(rx.stats().codec_switches, 1);
    assert_eq!(rx.stats().decode_errors, 0);
    assert!(r.keyframe_requests >= 1, "the switch asks for a keyframe");
    assert!(
        r.frames
            .iter()
            .all(|f| (f.frame.width, f.frame.height) == (640, 360))
    );
}

#[test]
fn vp8_stream_started_as_h264_follows_its_payload_type() {
    // The receiver was told H264 (e.g. from op 4's video_codec), but the
    // streamer sends VP8: the payload type decides.
    let (packets, switch_ts) = joined(("vp8", VP8_PT), ("h264-baseline", H264_PT));
    let mut rx = receiver(VideoCodec::H264);
    let r = run(&mut rx, &packets, None);
    let vp8 = r
        .frames
        .iter()
        .filter(|f| f.rtp_timestamp.0 < switch_ts)
        .count();
    assert!(vp8 >= 55, "VP8 frames: {vp8}");
    assert!(
        r.frames.len() - vp8 >= 55,
        "H264 frames after switching back"
    );
    assert_eq!(rx.stats().codec_switches, 2);
}

#[test]
fn unlisted_payload_type_is_refused() {
    let f = fixture("vp8");
    let mut rx = receiver(VideoCodec::Vp8);
    let p = restamp(&f.packets[0].1, 96, 1, 0);
    assert!(rx.handle_rtp(std::time::Instant::now(), &p).is_err());
    assert_eq!(rx.stats().foreign, 1);
}

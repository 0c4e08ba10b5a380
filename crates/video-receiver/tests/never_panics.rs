//! Arbitrary packet sequences into `handle_rtp` never panic.
// Tests read the clock once per case for a base instant; time is virtual after it.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use proptest::prelude::*;
use rtp::{PayloadType, RtpBuilder, RtpTimestamp, SeqNo, Ssrc};
use video_receiver::{ReceiverConfig, RtxConfig, VideoCodec, VideoReceiver};

const MEDIA: Ssrc = Ssrc(0x1111);
const RTX: Ssrc = Ssrc(0x2222);

#[derive(Debug, Clone)]
enum Item {
    Raw(Vec<u8>),
    Rtp {
        rtx: bool,
        seq: u16,
        ts: u32,
        marker: bool,
        payload: Vec<u8>,
    },
    Timeout(u16),
}

fn item() -> impl Strategy<Value = Item> {
    // Payloads that look like the codecs' headers, so the depacketizers and
    // decoders get past their first checks.
    let payload = (
        prop::sample::select(vec![
            0x65u8, 0x41, 0x67, 0x68, 0x78, 0x7c, 0x5c, 0x90, 0x10, 0x80,
        ]),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(h, mut rest)| {
            rest.insert(0, h);
            rest
        });
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Item::Raw),
        (any::<bool>(), 0u16..40, 0u32..6, any::<bool>(), payload).prop_map(
            |(rtx, seq, ts, marker, payload)| Item::Rtp {
                rtx,
                seq: seq.wrapping_add(65_520),
                ts: ts * 3000,
                marker,
                payload,
            }
        ),
        (0u16..400).prop_map(Item::Timeout),
    ]
}

fn exercise(codec: VideoCodec, items: &[Item]) {
    let mut config = ReceiverConfig::new(codec, MEDIA);
    config.payload_type = Some(PayloadType::new(96).unwrap());
    config.rtx = Some(RtxConfig {
        ssrc: RTX,
        payload_type: PayloadType::new(97).unwrap(),
    });
    config.pipeline.max_fps = 60.0;
    let mut rx = VideoReceiver::new(config).unwrap();
    let t0 = Instant::now();
    let mut now = t0;
    let mut buf = Vec::new();
    for it in items {
        now += Duration::from_millis(3);
        match it {
            Item::Raw(bytes) => {
                let _ = rx.handle_rtp(now, bytes);
            }
            Item::Rtp {
                rtx,
                seq,
                ts,
                marker,
                payload,
            } => {
                let (ssrc, pt, body) = if *rtx {
                    let mut b = (seq.wrapping_sub(3)).to_be_bytes().to_vec();
                    b.extend_from_slice(payload);
                    (RTX, 97, b)
                } else {
                    (MEDIA, 96, payload.clone())
                };
                let mut b = RtpBuilder::new(
                    PayloadType::new(pt).unwrap(),
                    SeqNo(*seq),
                    RtpTimestamp(*ts),
                    ssrc,
                );
                b.marker = *marker;
                buf.clear();
                b.write_to_vec(&body, &mut buf).unwrap();
                let _ = rx.handle_rtp(now, &buf);
            }
            Item::Timeout(ms) => {
                now += Duration::from_millis(u64::from(*ms));
                rx.handle_timeout(now);
            }
        }
        while rx.poll_output().is_some() {}
        if let Some(t) = rx.poll_timeout() {
            assert!(t + Duration::from_secs(10) > now, "timeout far in the past");
        }
    }
    rx.flush(now);
    while rx.poll_output().is_some() {}
    let s = rx.stats();
    assert!(s.frames_emitted <= s.frames_decoded);
    assert!(s.rtx_recovered <= s.rtx_packets);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn h264_receiver_never_panics(items in prop::collection::vec(item(), 0..60)) {
        exercise(VideoCodec::H264, &items);
    }

    #[test]
    fn vp8_receiver_never_panics(items in prop::collection::vec(item(), 0..60)) {
        exercise(VideoCodec::Vp8, &items);
    }
}

#[test]
fn foreign_and_malformed_packets_are_refused_without_effect() {
    let mut rx = VideoReceiver::new(ReceiverConfig::new(VideoCodec::H264, MEDIA)).unwrap();
    let now = Instant::now();
    assert!(rx.handle_rtp(now, &[0x80, 96, 0]).is_err());
    let mut buf = Vec::new();
    RtpBuilder::new(
        PayloadType::new(96).unwrap(),
        SeqNo(1),
        RtpTimestamp(0),
        Ssrc(9),
    )
    .write_to_vec(&[0x65, 0x88], &mut buf)
    .unwrap();
    let err = rx.handle_rtp(now, &buf).unwrap_err();
    assert!(err.is_foreign() && !err.is_fatal());
    let s = rx.stats();
    assert_eq!((s.malformed, s.foreign, s.packets), (1, 1, 0));
    assert!(rx.poll_output().is_none());
}

//! Hand-built RFC 7741 packets, round trips and never-panic properties.

use std::time::Duration;

use proptest::prelude::*;
use vp8_rtp::{
    DepacketizerConfig, PacketizerConfig, PictureId, Vp8Depacketizer, Vp8Error, Vp8Frame,
    Vp8Packetizer,
};

/// A key frame header for 640x360 followed by `extra` bytes.
fn keyframe(extra: usize) -> Vec<u8> {
    let mut f = vec![0x50, 0x2B, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0x68, 0x01];
    f.extend((0..extra).map(|i| (i * 13) as u8));
    f
}

fn inter(len: usize) -> Vec<u8> {
    let mut f = vec![0x31, 0x05, 0x00];
    f.extend((0..len).map(|i| (i * 7 + 1) as u8));
    f
}

/// Packets with a 7-bit PictureID descriptor, `chunk` data bytes each.
fn packets(frame: &[u8], pid: u8, chunk: usize) -> Vec<Vec<u8>> {
    frame
        .chunks(chunk)
        .enumerate()
        .map(|(i, c)| {
            let mut p = vec![if i == 0 { 0x90 } else { 0x80 }, 0x80, pid & 0x7F];
            p.extend_from_slice(c);
            p
        })
        .collect()
}

fn drain(d: &mut Vp8Depacketizer) -> Vec<Vp8Frame> {
    std::iter::from_fn(|| d.poll()).collect()
}

fn feed(d: &mut Vp8Depacketizer, first_seq: u16, ts: u32, pkts: &[Vec<u8>], skip: Option<usize>) {
    for (i, p) in pkts.iter().enumerate() {
        if Some(i) != skip {
            d.push(first_seq.wrapping_add(i as u16), ts, i + 1 == pkts.len(), p)
                .unwrap();
        }
    }
}

#[test]
fn keyframe_assembled_with_size_and_picture_id() {
    let mut d = Vp8Depacketizer::default();
    let kf = keyframe(50);
    feed(&mut d, 100, 3000, &packets(&kf, 5, 7), None);
    let f = d.poll().unwrap();
    assert_eq!(f.data, kf);
    assert!(f.is_keyframe && !f.damaged && !f.lost_before);
    let size = f.keyframe_size.unwrap();
    assert_eq!((size.width, size.height), (640, 360));
    assert_eq!(f.picture_id, Some(PictureId::Short(5)));
}

#[test]
fn descriptor_without_extensions_and_multiple_partitions() {
    let mut d = Vp8Depacketizer::default();
    d.push(1, 9, false, &[0x10, 0x31, 1]).unwrap(); // S, PID 0
    d.push(2, 9, false, &[0x11, 2, 3]).unwrap(); // S, PID 1: second partition
    d.push(3, 9, true, &[0x01, 4]).unwrap();
    let f = d.poll().unwrap();
    assert_eq!(f.data, [0x31, 1, 2, 3, 4]);
    assert!(!f.damaged && !f.is_keyframe && f.picture_id.is_none());
}

#[test]
fn missing_middle_packet_is_flagged_never_glued() {
    let mut d = Vp8Depacketizer::default();
    let f1 = inter(40);
    let pk = packets(&f1, 1, 10);
    feed(&mut d, 10, 1, &pk, Some(2));
    let f = d.poll().unwrap();
    assert!(f.damaged);
    assert_eq!(f.data, f1[..20], "only the prefix before the gap");
    assert_eq!(d.stats().lost, 1);
}

#[test]
fn missing_first_packet_and_missing_marker() {
    let mut d = Vp8Depacketizer::default();
    d.push(1, 1, true, &packets(&inter(5), 0, 100)[0]).unwrap();
    let pk = packets(&inter(30), 1, 10);
    feed(&mut d, 2, 2, &pk, Some(0)); // start lost
    let pk3 = packets(&inter(30), 2, 10);
    d.push(6, 3, false, &pk3[0]).unwrap(); // marker of ts 3 never comes
    d.push(9, 4, true, &packets(&inter(5), 4, 100)[0]).unwrap();
    let frames = drain(&mut d);
    assert_eq!(
        frames.iter().map(|f| f.timestamp).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert!(!frames[0].damaged);
    assert!(frames[1].damaged && frames[1].data.is_empty());
    assert!(frames[2].damaged && frames[2].data == inter(30)[..10]);
    // Frame 4 is whole, but packets 7-8 (and PictureID 3) were lost before it.
    assert!(!frames[3].damaged && frames[3].lost_before);
}

#[test]
fn picture_id_gap_sets_lost_before() {
    let mut d = Vp8Depacketizer::default();
    feed(&mut d, 1, 1, &packets(&inter(3), 126, 100), None);
    feed(&mut d, 2, 2, &packets(&inter(3), 127, 100), None);
    feed(&mut d, 3, 3, &packets(&inter(3), 0, 100), None);
    feed(&mut d, 4, 4, &packets(&inter(3), 2, 100), None);
    let flags: Vec<_> = drain(&mut d).iter().map(|f| f.lost_before).collect();
    assert_eq!(flags, [false, false, false, true]);
}

#[test]
fn out_of_order_duplicate_and_malformed() {
    let mut d = Vp8Depacketizer::default();
    let pk = packets(&inter(20), 1, 10);
    d.push(1, 1, false, &pk[0]).unwrap();
    d.push(3, 1, false, &pk[2]).unwrap();
    d.push(2, 1, false, &pk[1]).unwrap(); // late: dropped
    d.push(3, 1, false, &pk[2]).unwrap(); // duplicate
    assert_eq!(
        d.push(4, 1, false, &[0x80]),
        Err(Vp8Error::TruncatedDescriptor)
    );
    assert_eq!(d.push(5, 1, false, &[]), Err(Vp8Error::EmptyPayload));
    assert_eq!(
        d.push(6, 1, true, &pk[0]),
        Err(Vp8Error::DuplicateFrameStart)
    );
    let f = d.poll().unwrap();
    assert!(f.damaged);
    assert_eq!(f.data, inter(20)[..10]);
    let s = d.stats();
    assert_eq!((s.late, s.duplicates, s.malformed), (1, 1, 3));
}

#[test]
fn sequence_jump_counts_one_lost_and_reset_keeps_the_counters() {
    let mut d = Vp8Depacketizer::default();
    feed(&mut d, 40000, 1, &packets(&inter(20), 1, 10), None);
    // The sender restarted its numbering: the next frame is whole, but a
    // reference may be missing.
    feed(&mut d, 30000, 2, &packets(&inter(20), 2, 10), None);
    let frames = drain(&mut d);
    assert_eq!(frames.len(), 2);
    assert!(!frames[1].damaged && frames[1].lost_before);
    assert_eq!(d.stats().lost, 1);
    // After a reset the next packet is a first one (no 9997 lost).
    d.reset();
    feed(&mut d, 40000, 3, &packets(&inter(20), 3, 10), None);
    let f = d.poll().unwrap();
    assert!(!f.damaged && !f.lost_before);
    let s = d.stats();
    assert_eq!((s.lost, s.late, s.duplicates, s.frames), (1, 0, 0, 3));
}

#[test]
fn keyframe_with_bad_start_code_is_damaged() {
    let mut d = Vp8Depacketizer::default();
    let mut kf = keyframe(4);
    kf[4] = 0;
    feed(&mut d, 1, 1, &packets(&kf, 0, 100), None);
    let f = d.poll().unwrap();
    assert!(f.is_keyframe && f.keyframe_size.is_none() && f.damaged);
}

#[test]
fn frame_size_limit() {
    let mut d = Vp8Depacketizer::new(DepacketizerConfig {
        max_frame_bytes: 16,
    });
    let pk = packets(&inter(30), 0, 10);
    d.push(1, 1, false, &pk[0]).unwrap();
    assert_eq!(
        d.push(2, 1, false, &pk[1]),
        Err(Vp8Error::FrameTooLarge { limit: 16 })
    );
    d.push(3, 1, true, &pk[2]).unwrap();
    let f = d.poll().unwrap();
    assert!(f.damaged && f.data.is_empty());
}

#[test]
fn packetizer_descriptor_picture_id_and_wrap() {
    let mut p = Vp8Packetizer::new(
        PacketizerConfig {
            max_payload_size: 8,
        },
        65535,
        7,
        0x7FFF,
    )
    .unwrap();
    let frame = inter(7); // 10 bytes -> 3 packets of <= 4 data bytes
    let pk: Vec<_> = p
        .packetize(&frame, Duration::ZERO)
        .unwrap()
        .map(|p| (p.seq, p.marker, p.payload.to_vec()))
        .collect();
    assert_eq!(pk.len(), 3);
    assert_eq!(pk[0].2[..4], [0x90, 0x80, 0xFF, 0xFF]);
    assert_eq!(pk[1].2[..4], [0x80, 0x80, 0xFF, 0xFF]);
    assert_eq!(
        pk.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
        [(65535, false), (0, false), (1, true)]
    );
    let next = p
        .packetize(&frame, Duration::from_millis(100))
        .unwrap()
        .next()
        .unwrap();
    assert_eq!(
        next.payload[..4],
        [0x90, 0x80, 0x80, 0x00],
        "PictureID wrapped to 0"
    );
    assert_eq!(next.timestamp, 7 + 9000);
    assert!(matches!(
        Vp8Packetizer::new(
            PacketizerConfig {
                max_payload_size: 4
            },
            0,
            0,
            0
        ),
        Err(Vp8Error::MaxPayloadTooSmall { .. })
    ));
    assert_eq!(
        p.packetize(&[], Duration::ZERO).err(),
        Some(Vp8Error::EmptyFrame)
    );
}

fn round_trip(frames: &[Vec<u8>], mtu: usize) -> Vec<Vp8Frame> {
    let mut p = Vp8Packetizer::new(
        PacketizerConfig {
            max_payload_size: mtu,
        },
        65000,
        0,
        32760,
    )
    .unwrap();
    let mut d = Vp8Depacketizer::default();
    for (i, f) in frames.iter().enumerate() {
        for pkt in p
            .packetize(f, Duration::from_millis(i as u64 * 33))
            .unwrap()
        {
            assert!(pkt.payload.len() <= mtu);
            d.push(pkt.seq, pkt.timestamp, pkt.marker, pkt.payload)
                .unwrap();
        }
    }
    drain(&mut d)
}

#[test]
fn round_trip_at_several_mtus() {
    let frames = vec![keyframe(3000), inter(800), inter(1), inter(2500)];
    for mtu in [5, 6, 50, 1200, 10_000] {
        let out = round_trip(&frames, mtu);
        assert_eq!(out.len(), frames.len());
        for (o, f) in out.iter().zip(&frames) {
            assert_eq!(&o.data, f, "mtu {mtu}");
            assert!(!o.damaged && !o.lost_before);
        }
        assert!(out[0].is_keyframe && !out[1].is_keyframe);
    }
}

proptest! {
    #[test]
    fn arbitrary_frames_round_trip(
        frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..3000), 1..6),
        mtu in 5usize..1500,
    ) {
        let out = round_trip(&frames, mtu);
        prop_assert_eq!(out.len(), frames.len());
        for (o, f) in out.iter().zip(&frames) {
            prop_assert_eq!(&o.data, f);
            prop_assert!(!o.lost_before);
        }
    }

    #[test]
    fn arbitrary_packets_never_panic(
        packets in proptest::collection::vec(
            (any::<u16>(), 0u32..4, any::<bool>(), proptest::collection::vec(any::<u8>(), 0..48)),
            0..64,
        ),
    ) {
        let mut d = Vp8Depacketizer::default();
        for (seq, ts, marker, payload) in &packets {
            let _ = d.push(*seq, *ts, *marker, payload);
            while let Some(f) = d.poll() {
                d.recycle(f);
            }
        }
        d.flush();
    }

    #[test]
    fn dropping_any_packet_damages_without_glue(
        frame in proptest::collection::vec(any::<u8>(), 2..2000),
        mtu in 5usize..300,
        drop_idx in any::<prop::sample::Index>(),
    ) {
        let mut p = Vp8Packetizer::new(PacketizerConfig { max_payload_size: mtu }, 0, 0, 0).unwrap();
        let pk: Vec<_> = p.packetize(&frame, Duration::ZERO).unwrap()
            .map(|p| (p.seq, p.marker, p.payload.to_vec())).collect();
        let skip = drop_idx.index(pk.len());
        let mut d = Vp8Depacketizer::default();
        d.push(u16::MAX, 999, true, &[0x10, 0x01]).unwrap();
        prop_assert!(!d.poll().unwrap().damaged);
        for (i, (seq, marker, payload)) in pk.iter().enumerate() {
            if i != skip {
                d.push(*seq, 0, *marker, payload).unwrap();
            }
        }
        d.flush();
        match d.poll() {
            Some(out) => {
                prop_assert!(out.damaged);
                prop_assert!(frame.starts_with(&out.data), "output is a prefix, never glued");
            }
            None => prop_assert_eq!(pk.len(), 1),
        }
    }
}

//! Hand-built RFC 6184 packets through the depacketizer.

use h264_rtp::{AccessUnit, DepacketizerConfig, H264Depacketizer, H264Error, NalType};

const SPS: &[u8] = &[0x67, 0x42, 0xC0, 0x1F, 0xDA];
const PPS: &[u8] = &[0x68, 0xCE, 0x3C, 0x80];
const IDR: &[u8] = &[0x65, 0x88, 0x84, 0x21, 0xA0, 0x7F, 0x00, 0x11];

fn annexb(nals: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for n in nals {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(n);
    }
    out
}

fn stap_a(nals: &[&[u8]]) -> Vec<u8> {
    let mut p = vec![0x78]; // NRI 3, type 24
    for n in nals {
        p.extend_from_slice(&(n.len() as u16).to_be_bytes());
        p.extend_from_slice(n);
    }
    p
}

/// FU-A fragments of `nal` with `chunk` data bytes each.
fn fu_a(nal: &[u8], chunk: usize) -> Vec<Vec<u8>> {
    let body = &nal[1..];
    let n = body.len().div_ceil(chunk);
    body.chunks(chunk)
        .enumerate()
        .map(|(i, c)| {
            let mut h = nal[0] & 0x1F;
            if i == 0 {
                h |= 0x80;
            }
            if i + 1 == n {
                h |= 0x40;
            }
            let mut p = vec![(nal[0] & 0xE0) | 28, h];
            p.extend_from_slice(c);
            p
        })
        .collect()
}

fn drain(d: &mut H264Depacketizer) -> Vec<AccessUnit> {
    std::iter::from_fn(|| d.poll()).collect()
}

#[test]
fn stap_a_then_fu_a_builds_one_keyframe() {
    let mut d = H264Depacketizer::default();
    d.push(10, 900, false, &stap_a(&[SPS, PPS])).unwrap();
    let frags = fu_a(IDR, 3);
    assert_eq!(frags.len(), 3);
    for (i, f) in frags.iter().enumerate() {
        d.push(11 + i as u16, 900, i == 2, f).unwrap();
    }
    let aus = drain(&mut d);
    assert_eq!(aus.len(), 1);
    let au = &aus[0];
    assert_eq!(au.data, annexb(&[SPS, PPS, IDR]));
    assert!(au.is_keyframe && au.has_sps && au.has_pps && !au.damaged);
    assert_eq!(au.nal_types, [NalType::SPS, NalType::PPS, NalType::IDR]);
    assert_eq!(au.timestamp, 900);
}

#[test]
fn fu_a_header_is_rebuilt_from_indicator_nri() {
    // Indicator NRI=2 (0x40), fragment type 1: header must be 0x41.
    let mut d = H264Depacketizer::default();
    d.push(1, 5, false, &[0x5C, 0x81, 0xAA]).unwrap();
    d.push(2, 5, true, &[0x5C, 0x41, 0xBB]).unwrap();
    assert_eq!(d.poll().unwrap().data, [0, 0, 0, 1, 0x41, 0xAA, 0xBB]);
}

#[test]
fn fu_a_across_a_gap_is_dropped_not_glued() {
    let mut d = H264Depacketizer::default();
    let slice: Vec<u8> = [0x41].into_iter().chain(1..=40).collect();
    let frags = fu_a(&slice, 10); // 4 fragments
    let small: &[u8] = &[0x41, 0xEE];
    d.push(100, 3000, false, small).unwrap();
    d.push(101, 3000, false, &frags[0]).unwrap();
    d.push(102, 3000, false, &frags[1]).unwrap();
    // 103 lost
    d.push(104, 3000, true, &frags[3]).unwrap();
    let au = d.poll().unwrap();
    assert_eq!(au.data, annexb(&[small]), "only the intact NAL survives");
    assert!(au.damaged);
    assert_eq!(au.damage.lost_packets, 1);
    assert_eq!(au.damage.dropped_nals, [NalType::SLICE]);
    assert_eq!(au.nal_types, [NalType::SLICE]);
}

#[test]
fn fu_a_without_start_is_dropped_once() {
    let mut d = H264Depacketizer::default();
    let frags = fu_a(IDR, 2); // 4 fragments
    for (i, f) in frags.iter().enumerate().skip(1) {
        d.push(i as u16, 1, i == 3, f).unwrap();
    }
    let au = d.poll().unwrap();
    assert!(au.data.is_empty() && au.damaged && !au.is_keyframe);
    assert_eq!(au.damage.dropped_nals, [NalType::IDR]);
}

#[test]
fn lost_marker_packet_is_detected_by_timestamp_change() {
    let mut d = H264Depacketizer::default();
    d.push(1, 100, false, &[0x41, 1]).unwrap();
    d.push(2, 100, false, &[0x41, 2]).unwrap();
    // seq 3 (marker of ts 100) lost
    d.push(4, 200, true, &[0x41, 3]).unwrap();
    let aus = drain(&mut d);
    assert_eq!(aus.len(), 2);
    assert_eq!(aus[0].timestamp, 100);
    assert_eq!(aus[0].data, annexb(&[&[0x41, 1], &[0x41, 2]]));
    assert!(aus[0].damage.missing_marker && aus[0].damaged);
    assert_eq!(aus[1].timestamp, 200);
    assert_eq!(aus[1].data, annexb(&[&[0x41, 3]]));
    assert_eq!(aus[1].damage.lost_packets, 1);
}

#[test]
fn unterminated_fu_a_is_dropped_at_marker_and_timestamp_change() {
    let mut d = H264Depacketizer::default();
    d.push(1, 1, false, &[0x41, 9]).unwrap();
    d.push(2, 1, true, &[0x7C, 0x85, 1, 2]).unwrap(); // FU start, marker, no end
    let au = d.poll().unwrap();
    assert_eq!(au.data, annexb(&[&[0x41, 9]]));
    assert_eq!(au.damage.dropped_nals, [NalType::IDR]);
    d.push(3, 2, false, &[0x7C, 0x85, 1, 2]).unwrap();
    d.push(4, 3, true, &[0x41, 8]).unwrap();
    let aus = drain(&mut d);
    assert_eq!(aus.len(), 2);
    assert!(aus[0].data.is_empty() && aus[0].damage.missing_marker);
    assert_eq!(aus[0].damage.dropped_nals, [NalType::IDR]);
    assert!(!aus[1].damaged);
}

#[test]
fn out_of_order_and_duplicates_are_dropped_without_glue() {
    let mut d = H264Depacketizer::default();
    let frags = fu_a(IDR, 2);
    d.push(10, 7, false, &frags[0]).unwrap();
    d.push(12, 7, false, &frags[2]).unwrap(); // 11 "lost" -> FU dropped
    d.push(11, 7, false, &frags[1]).unwrap(); // arrives late: dropped
    d.push(12, 7, false, &frags[2]).unwrap(); // duplicate
    d.push(13, 7, true, &frags[3]).unwrap();
    let au = d.poll().unwrap();
    assert!(au.data.is_empty());
    assert!(au.damaged);
    let s = d.stats();
    assert_eq!((s.late, s.duplicates, s.lost), (1, 1, 1));
}

#[test]
fn sequence_wraps_without_loss() {
    let mut d = H264Depacketizer::default();
    d.push(65535, 1, false, &[0x41, 1]).unwrap();
    d.push(0, 1, true, &[0x41, 2]).unwrap();
    let au = d.poll().unwrap();
    assert!(!au.damaged);
    assert_eq!(au.nal_types.len(), 2);
}

#[test]
fn large_backwards_jump_is_a_resync_not_late() {
    let mut d = H264Depacketizer::default();
    d.push(40000, 1, true, &[0x41, 1]).unwrap();
    d.push(30000, 2, true, &[0x41, 2]).unwrap();
    let aus = drain(&mut d);
    assert_eq!(aus.len(), 2);
    assert!(aus[1].damage.sequence_jump);
    assert_eq!(aus[1].data, annexb(&[&[0x41, 2]]));
    let s = d.stats();
    assert_eq!((s.late, s.lost, s.damaged_access_units), (0, 0, 1));
}

#[test]
fn interleaved_mode_packets_are_rejected_with_typed_errors() {
    let mut d = H264Depacketizer::default();
    for t in [25u8, 26, 27, 29] {
        assert_eq!(
            d.push(u16::from(t), 1, false, &[0x60 | t, 0, 0, 0]),
            Err(H264Error::UnsupportedPacketType { nal_type: t })
        );
    }
    for t in [0u8, 30, 31] {
        assert_eq!(
            d.push(100 + u16::from(t), 1, false, &[t, 1]),
            Err(H264Error::ReservedNalType { nal_type: t })
        );
    }
    assert_eq!(d.push(200, 1, true, &[]), Err(H264Error::EmptyPayload));
    let au = d.poll().unwrap();
    assert_eq!(au.damage.malformed_packets, 8);
    assert!(au.data.is_empty());
}

#[test]
fn malformed_stap_a_adds_nothing() {
    let mut d = H264Depacketizer::default();
    let mut bad = stap_a(&[SPS, PPS]);
    bad.pop(); // last NAL overruns
    assert!(matches!(
        d.push(1, 1, false, &bad),
        Err(H264Error::MalformedStapA { .. })
    ));
    assert!(d.push(2, 1, false, &[0x78, 0, 0]).is_err()); // zero length
    assert!(d.push(3, 1, false, &[0x78, 0]).is_err()); // truncated size
    assert!(d.push(4, 1, false, &[0x78]).is_err()); // empty
    d.push(5, 1, true, IDR).unwrap();
    let au = d.poll().unwrap();
    assert_eq!(au.data, annexb(&[IDR]));
    assert_eq!(au.damage.malformed_packets, 4);
}

#[test]
fn fu_a_type_mismatch_and_start_end_are_malformed() {
    let mut d = H264Depacketizer::default();
    assert!(matches!(
        d.push(1, 1, false, &[0x7C, 0xC5, 1]),
        Err(H264Error::MalformedFuA { .. })
    ));
    d.push(2, 1, false, &[0x7C, 0x85, 1]).unwrap();
    assert!(matches!(
        d.push(3, 1, false, &[0x7C, 0x41, 2]),
        Err(H264Error::MalformedFuA { .. })
    ));
    assert!(matches!(
        d.push(4, 1, true, &[0x7C]),
        Err(H264Error::MalformedFuA { .. })
    ));
    let au = d.poll().unwrap();
    assert!(au.data.is_empty());
    assert_eq!(au.damage.dropped_nals, [NalType::IDR]);
}

#[test]
fn oversized_access_unit_is_dropped_and_limit_holds() {
    let mut d = H264Depacketizer::new(DepacketizerConfig {
        max_access_unit_bytes: 64,
    });
    let big = [0x41; 40];
    d.push(1, 1, false, &big).unwrap();
    assert_eq!(
        d.push(2, 1, false, &big),
        Err(H264Error::AccessUnitTooLarge { limit: 64 })
    );
    d.push(3, 1, true, &big).unwrap(); // ignored: the AU is already lost
    let au = d.poll().unwrap();
    assert!(au.data.is_empty() && au.damage.oversized);
    d.push(4, 2, true, &big).unwrap();
    assert_eq!(d.poll().unwrap().data.len(), 44);
}

#[test]
fn flush_emits_the_partial_access_unit() {
    let mut d = H264Depacketizer::default();
    d.push(1, 1, false, SPS).unwrap();
    assert!(d.poll().is_none());
    d.flush();
    let au = d.poll().unwrap();
    assert!(au.has_sps && au.damage.missing_marker);
    d.flush();
    assert!(d.poll().is_none());
}

#[test]
fn recycled_buffers_are_reused() {
    let mut d = H264Depacketizer::default();
    d.push(1, 1, true, &[0x41; 500]).unwrap();
    let au = d.poll().unwrap();
    let ptr = au.data.as_ptr();
    d.recycle(au);
    d.push(2, 2, true, &[0x41; 300]).unwrap();
    let au = d.poll().unwrap();
    assert_eq!(au.data.as_ptr(), ptr);
    assert_eq!(au.data.len(), 304);
}

//! Packetizer -> depacketizer round trips and never-panic properties.

use std::time::Duration;

use h264_rtp::{H264Depacketizer, H264Error, H264Packetizer, NalType, PacketizerConfig, nal_units};
use proptest::prelude::*;

fn annexb(nals: &[Vec<u8>]) -> Vec<u8> {
    nals.iter()
        .flat_map(|n| [0, 0, 0, 1].into_iter().chain(n.iter().copied()))
        .collect()
}

/// Packetizes `au` and feeds every packet to a fresh depacketizer; returns
/// the single access unit's bytes and the packet-type counts.
fn round_trip(au: &[u8], config: PacketizerConfig) -> (Vec<u8>, [usize; 3]) {
    let mut p = H264Packetizer::new(config, 65530, 1234).unwrap();
    let mut d = H264Depacketizer::default();
    let mut kinds = [0usize; 3]; // single, STAP-A, FU-A
    let packets: Vec<_> = p
        .packetize(au, Duration::from_millis(100))
        .unwrap()
        .collect();
    for (i, pkt) in packets.iter().enumerate() {
        assert!(pkt.payload.len() <= config.max_payload_size);
        assert_eq!(pkt.marker, i + 1 == packets.len());
        assert_eq!(pkt.timestamp, 1234 + 9000);
        assert_eq!(pkt.seq, 65530u16.wrapping_add(i as u16));
        match pkt.payload[0] & 0x1F {
            24 => kinds[1] += 1,
            28 => kinds[2] += 1,
            _ => kinds[0] += 1,
        }
        d.push(pkt.seq, pkt.timestamp, pkt.marker, pkt.payload)
            .unwrap();
    }
    let out = d.poll().expect("one access unit");
    assert!(d.poll().is_none());
    assert!(!out.damaged, "{:?}", out.damage);
    (out.data, kinds)
}

fn sample_au() -> Vec<u8> {
    let sps = vec![0x67, 0x42, 0xC0, 0x1F, 0xDA, 0x02, 0x80];
    let pps = vec![0x68, 0xCE, 0x3C, 0x80];
    let idr: Vec<u8> = [0x65]
        .into_iter()
        .chain((0..3000u32).map(|i| (i * 7 + 3) as u8 | 1))
        .collect();
    let slice: Vec<u8> = vec![0x41, 0x9A, 0x02, 0x05];
    annexb(&[sps, pps, idr, slice])
}

#[test]
fn round_trip_at_several_mtus() {
    let au = sample_au();
    for mtu in [3, 4, 5, 17, 100, 1200, 5000] {
        for aggregate in [true, false] {
            let (out, kinds) = round_trip(
                &au,
                PacketizerConfig {
                    max_payload_size: mtu,
                    aggregate,
                },
            );
            assert_eq!(out, au, "mtu {mtu} aggregate {aggregate}");
            if mtu < 3000 {
                assert!(kinds[2] > 0, "FU-A expected at mtu {mtu}");
            }
            if aggregate && mtu >= 17 {
                assert!(kinds[1] > 0, "STAP-A expected at mtu {mtu}");
            }
            if !aggregate {
                assert_eq!(kinds[1], 0);
            }
        }
    }
}

#[test]
fn three_byte_start_codes_are_normalised() {
    let au = [0, 0, 1, 0x67, 1, 0, 0, 1, 0x65, 2, 3];
    let (out, _) = round_trip(&au, PacketizerConfig::default());
    assert_eq!(out, [0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x65, 2, 3]);
}

#[test]
fn stap_a_header_takes_max_nri_and_f() {
    let au = annexb(&[vec![0x06, 1], vec![0xE7, 2], vec![0x28, 3]]);
    let mut p = H264Packetizer::new(PacketizerConfig::default(), 0, 0).unwrap();
    let pkts: Vec<_> = p.packetize(&au, Duration::ZERO).unwrap().collect();
    assert_eq!(pkts.len(), 1);
    assert_eq!(
        pkts[0].payload,
        [0xF8, 0, 2, 0x06, 1, 0, 2, 0xE7, 2, 0, 2, 0x28, 3]
    );
}

#[test]
fn sequence_and_timestamps_continue_across_frames() {
    let mut p = H264Packetizer::new(
        PacketizerConfig {
            max_payload_size: 10,
            aggregate: true,
        },
        65535,
        u32::MAX - 100,
    )
    .unwrap();
    let au = annexb(&[vec![0x41; 25]]);
    let a: Vec<_> = p
        .packetize(&au, Duration::ZERO)
        .unwrap()
        .map(|p| (p.seq, p.timestamp))
        .collect();
    assert_eq!(
        a,
        [
            (65535, u32::MAX - 100),
            (0, u32::MAX - 100),
            (1, u32::MAX - 100)
        ]
    );
    let b: Vec<_> = p
        .packetize(&au, Duration::from_secs(1))
        .unwrap()
        .map(|p| (p.seq, p.timestamp))
        .collect();
    assert_eq!(b[0], (2, 90_000 - 101));
    assert_eq!(p.next_seq(), 5);
}

#[test]
fn packetizer_rejects_bad_input() {
    assert!(matches!(
        H264Packetizer::new(
            PacketizerConfig {
                max_payload_size: 2,
                aggregate: true
            },
            0,
            0
        ),
        Err(H264Error::MaxPayloadTooSmall { .. })
    ));
    let mut p = H264Packetizer::new(PacketizerConfig::default(), 0, 0).unwrap();
    assert_eq!(
        p.packetize(&[1, 2, 3], Duration::ZERO).err(),
        Some(H264Error::EmptyAccessUnit)
    );
    assert_eq!(
        p.packetize(&[0, 0, 1], Duration::ZERO).err(),
        Some(H264Error::EmptyAccessUnit)
    );
}

/// A NAL unit: a valid header (types 1..=23, F=0) and a body without
/// start-code emulation (as after the encoder's emulation prevention).
fn nal_strategy() -> impl Strategy<Value = Vec<u8>> {
    (
        0u8..4,
        1u8..24,
        proptest::collection::vec(1u8..=255, 0..600),
    )
        .prop_map(|(nri, t, body)| {
            let mut n = vec![(nri << 5) | t];
            n.extend(body);
            n
        })
}

proptest! {
    #[test]
    fn arbitrary_nal_lists_round_trip(
        nals in proptest::collection::vec(nal_strategy(), 1..12),
        mtu in 3usize..1500,
        aggregate in any::<bool>(),
    ) {
        let au = annexb(&nals);
        let (out, _) = round_trip(&au, PacketizerConfig { max_payload_size: mtu, aggregate });
        prop_assert_eq!(&out, &au);
        let types: Vec<u8> = nal_units(&out).map(|n| n[0] & 0x1F).collect();
        prop_assert_eq!(types, nals.iter().map(|n| n[0] & 0x1F).collect::<Vec<_>>());
    }

    #[test]
    fn arbitrary_packets_never_panic(
        packets in proptest::collection::vec(
            (any::<u16>(), 0u32..4, any::<bool>(), proptest::collection::vec(any::<u8>(), 0..64)),
            0..64,
        ),
    ) {
        let mut d = H264Depacketizer::default();
        for (seq, ts, marker, payload) in &packets {
            let _ = d.push(*seq, *ts, *marker, payload);
            while let Some(au) = d.poll() {
                // Whatever came in, the output is Annex-B holding at least
                // the NALs it reports (a hostile payload may itself contain
                // a start code, which splits it further on re-parsing).
                let types: Vec<NalType> = nal_units(&au.data).map(|n| NalType::from_header(n[0])).collect();
                prop_assert!(types.len() >= au.nal_types.len());
                d.recycle(au);
            }
        }
        d.flush();
    }

    #[test]
    fn dropping_any_packet_never_glues(
        nals in proptest::collection::vec(nal_strategy(), 1..6),
        mtu in 3usize..300,
        drop_idx in any::<prop::sample::Index>(),
    ) {
        let au = annexb(&nals);
        let mut p = H264Packetizer::new(PacketizerConfig { max_payload_size: mtu, aggregate: true }, 0, 0).unwrap();
        let packets: Vec<_> = p.packetize(&au, Duration::ZERO).unwrap()
            .map(|p| (p.seq, p.marker, p.payload.to_vec())).collect();
        let skip = drop_idx.index(packets.len());
        let mut d = H264Depacketizer::default();
        // A previous access unit, so a loss at the very start is visible.
        d.push(u16::MAX, 999, true, &[0x41, 1]).unwrap();
        prop_assert!(!d.poll().unwrap().damaged);
        for (i, (seq, marker, payload)) in packets.iter().enumerate() {
            if i != skip {
                d.push(*seq, 0, *marker, payload).unwrap();
            }
        }
        d.flush();
        let Some(out) = d.poll() else {
            prop_assert_eq!(packets.len(), 1, "only a lost sole packet leaves no access unit");
            return Ok(());
        };
        prop_assert!(out.damaged);
        // Every NAL that came out is one of the originals, intact.
        for nal in nal_units(&out.data) {
            prop_assert!(nals.iter().any(|n| n[..] == *nal), "glued or truncated NAL");
        }
    }
}

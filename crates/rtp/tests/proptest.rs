//! Property tests: no parser panics on arbitrary or mutated input, and the
//! reorder buffer sorts any bounded permutation without inventing gaps.
// Tests need one arbitrary base instant; everything after it is virtual time.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use proptest::prelude::*;
use rtp::rtcp::{self, RtcpPacket};
use rtp::{
    ExtensionElement, HeaderExtension, PayloadType, Released, ReorderBuffer, ReorderConfig,
    RtpBuilder, RtpPacket, RtpTimestamp, RtxMapping, SeqNo, Ssrc,
};

fn mapping() -> RtxMapping {
    RtxMapping {
        rtx_ssrc: Ssrc(0x22),
        rtx_pt: PayloadType::new(104).unwrap(),
        primary_ssrc: Ssrc(0x11),
        primary_pt: PayloadType::new(103).unwrap(),
    }
}

/// Touches every accessor so lazily evaluated parts are exercised too.
fn exercise_rtp(bytes: &[u8]) {
    if let Ok(p) = RtpPacket::parse(bytes) {
        let _ = (
            p.marker(),
            p.payload_type(),
            p.sequence(),
            p.timestamp(),
            p.ssrc(),
        );
        let _ = p.csrcs().count();
        if let Some(ext) = p.extension() {
            let _ = ext.elements().count();
        }
        assert!(p.payload().len() + p.header_len() + p.padding_len() == bytes.len());
        let mut out = Vec::new();
        let _ = mapping().unwrap_into(&p, &mut out);
        // A mapping that always matches, so the RTX path sees every packet.
        let own = RtxMapping {
            rtx_ssrc: p.ssrc(),
            rtx_pt: p.payload_type(),
            ..mapping()
        };
        if let Ok(orig) = own
            .unwrap_into(&p, &mut out)
            .map(|n| out[out.len() - n..].to_vec())
        {
            let q = RtpPacket::parse(&orig).expect("unwrapped RTX is valid RTP");
            assert_eq!(q.ssrc(), Ssrc(0x11));
            assert_eq!(q.payload().len() + 2, p.payload().len());
        }
        let _ = mapping().wrap_into(&p, SeqNo(1), &mut out);
    }
    if let Ok(n) = rtp::rtpsize_header_len(bytes) {
        let _ = rtp::split_rtpsize_plaintext(&bytes[..n], &bytes[n..]);
    }
    for pt in [0xBEDE, 0x1000] {
        let _ = HeaderExtension {
            profile: pt,
            data: bytes,
        }
        .elements()
        .count();
    }
}

fn exercise_rtcp(bytes: &[u8]) {
    let _ = rtp::is_rtcp(bytes);
    for p in rtcp::parse_compound(bytes).flatten() {
        match &p {
            RtcpPacket::SenderReport(sr) => {
                let _ = sr.blocks.clone().count();
            }
            RtcpPacket::ReceiverReport(rr) => {
                let _ = rr.blocks.clone().count();
            }
            RtcpPacket::Nack(n) => {
                // A sender answering a hostile NACK: bounded by the NACK,
                // never panics.
                let now = Instant::now();
                let mut send = rtp::SendStream::new(rtp::SendConfig::video(
                    n.media_ssrc,
                    Some((Ssrc(0x22), PayloadType::new(104).unwrap())),
                    0,
                ));
                for seq in n.lost_sequences().take(4) {
                    let mut pkt = Vec::new();
                    RtpBuilder::new(
                        PayloadType::new(103).unwrap(),
                        seq,
                        RtpTimestamp(0),
                        n.media_ssrc,
                    )
                    .write_to_vec(&[1, 2, 3], &mut pkt)
                    .unwrap();
                    send.record(&pkt, now).unwrap();
                }
                let mut out = Vec::new();
                let answered = send.on_nack(n, &mut out);
                assert!(answered <= n.lost_sequences().count());
                let _ = n.lost_sequences().count();
            }
            RtcpPacket::Fir(f) => {
                let _ = f.entries().count();
            }
            _ => {}
        }
        let _ = p.bye_sources().count();
    }
}

fn valid_rtp() -> Vec<u8> {
    let ext = [ExtensionElement {
        id: 5,
        data: &[0, 0, 0],
    }];
    let b = RtpBuilder {
        marker: true,
        csrcs: &[Ssrc(1), Ssrc(2)],
        extensions: &ext,
        padding: 4,
        ..RtpBuilder::new(
            PayloadType::new(104).unwrap(),
            SeqNo(9),
            RtpTimestamp(90),
            Ssrc(0x22),
        )
    };
    let mut v = Vec::new();
    b.write_to_vec(&[0x12, 0x34, 1, 2, 3, 4, 5], &mut v)
        .unwrap();
    v
}

fn valid_rtcp() -> Vec<u8> {
    let mut v = Vec::new();
    let blk = rtcp::ReportBlock::default();
    rtcp::build::write_sr(&mut v, Ssrc(1), &rtcp::SenderInfo::default(), &[blk]).unwrap();
    rtcp::build::write_rr(&mut v, Ssrc(1), &[blk, blk]).unwrap();
    rtcp::build::write_nack(&mut v, Ssrc(1), Ssrc(2), &[SeqNo(1), SeqNo(5), SeqNo(40)]).unwrap();
    rtcp::build::write_pli(&mut v, Ssrc(1), Ssrc(2)).unwrap();
    let e = rtcp::FirEntry {
        ssrc: Ssrc(2),
        seq_nr: 1,
    };
    rtcp::build::write_fir(&mut v, Ssrc(1), &[e, e]).unwrap();
    v
}

fn mutate(mut v: Vec<u8>, edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
    for &(i, b) in edits {
        let n = v.len();
        if n > 0 {
            v[i % n] = b;
        }
    }
    v.truncate(v.len().saturating_sub(cut));
    v
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        exercise_rtp(&bytes);
        exercise_rtcp(&bytes);
    }

    #[test]
    fn mutated_rtp_never_panics(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6), cut in 0usize..40) {
        exercise_rtp(&mutate(valid_rtp(), &edits, cut));
    }

    #[test]
    fn mutated_rtcp_never_panics(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6), cut in 0usize..60) {
        exercise_rtcp(&mutate(valid_rtcp(), &edits, cut));
    }

    #[test]
    fn nack_round_trip(start in any::<u16>(), gaps in proptest::collection::vec(1u16..40, 1..60)) {
        let mut lost = vec![SeqNo(start)];
        for g in gaps {
            let last = *lost.last().unwrap();
            lost.push(last.wrapping_add(g));
        }
        let mut out = Vec::new();
        rtcp::build::write_nack(&mut out, Ssrc(1), Ssrc(2), &lost).unwrap();
        let Some(Ok(RtcpPacket::Nack(n))) = rtcp::parse_compound(&out).next() else {
            panic!("not a nack")
        };
        prop_assert_eq!(n.lost_sequences().collect::<Vec<_>>(), lost);
    }

    #[test]
    fn builder_parse_round_trip(
        marker in any::<bool>(), pt in 0u8..128, seq in any::<u16>(), ts in any::<u32>(),
        ncsrc in 0usize..16, ext_len in 0usize..17, padding in any::<u8>(),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let csrcs: Vec<Ssrc> = (0..ncsrc as u32).map(Ssrc).collect();
        let data = vec![0xab; ext_len.max(1)];
        let ext = [ExtensionElement { id: 3, data: &data }];
        let b = RtpBuilder {
            marker,
            csrcs: &csrcs,
            extensions: if ext_len == 0 { &[] } else { &ext },
            padding,
            ..RtpBuilder::new(PayloadType::new(pt).unwrap(), SeqNo(seq), RtpTimestamp(ts), Ssrc(7))
        };
        let mut v = Vec::new();
        b.write_to_vec(&payload, &mut v).unwrap();
        let p = RtpPacket::parse(&v).unwrap();
        prop_assert_eq!(p.marker(), marker);
        prop_assert_eq!(p.payload_type().get(), pt);
        prop_assert_eq!(p.sequence(), SeqNo(seq));
        prop_assert_eq!(p.timestamp(), RtpTimestamp(ts));
        prop_assert_eq!(p.csrcs().collect::<Vec<_>>(), csrcs);
        prop_assert_eq!(p.payload(), &payload[..]);
        prop_assert_eq!(p.padding_len(), usize::from(padding));
        if ext_len > 0 {
            prop_assert_eq!(p.extension().unwrap().find(3), Some(&data[..]));
        }
    }

    /// A permutation where every packet is at most `w` places from its
    /// sorted position, all inserted before draining, comes out sorted with
    /// no gaps (even when the first arrival is not the lowest number).
    #[test]
    fn bounded_permutation_is_sorted(start in any::<u16>(), n in 1usize..300, w in 1usize..20, keys in proptest::collection::vec(any::<u32>(), 300)) {
        let mut order: Vec<usize> = (0..n).collect();
        // Sort by i + (random jitter < w): displaces each element by < w.
        order.sort_by_key(|&i| i + (keys[i] as usize % w));
        let t = Instant::now();
        let mut b = ReorderBuffer::new(ReorderConfig::default());
        for &i in &order {
            let s = SeqNo(start).wrapping_add(i as u16);
            b.insert(t, s, s);
        }
        let got: Vec<_> = std::iter::from_fn(|| b.pop_ready()).collect();
        let want: Vec<_> = (0..n).map(|i| {
            let s = SeqNo(start).wrapping_add(i as u16);
            Released::Packet { seq: s, packet: s }
        }).collect();
        prop_assert_eq!(got, want);
    }

    /// Same with draining after every insert and time advancing 1 ms per
    /// packet (well below max_wait): the first packet is kept first so the
    /// head is defined, everything else may be displaced.
    #[test]
    fn bounded_permutation_interleaved(start in any::<u16>(), n in 2usize..300, w in 1usize..20, keys in proptest::collection::vec(any::<u32>(), 300)) {
        let mut order: Vec<usize> = (1..n).collect();
        order.sort_by_key(|&i| i + (keys[i] as usize % w));
        order.insert(0, 0);
        let t = Instant::now();
        let mut b = ReorderBuffer::new(ReorderConfig::default());
        let mut got = Vec::new();
        for (k, &i) in order.iter().enumerate() {
            let s = SeqNo(start).wrapping_add(i as u16);
            b.insert(t + Duration::from_millis(k as u64), s, s);
            got.extend(std::iter::from_fn(|| b.pop_ready()));
        }
        let want: Vec<_> = (0..n).map(|i| {
            let s = SeqNo(start).wrapping_add(i as u16);
            Released::Packet { seq: s, packet: s }
        }).collect();
        prop_assert_eq!(got, want);
        prop_assert!(b.poll_timeout().is_none());
    }
}

//! Hand-written RFC layouts for every RTCP packet this crate reads or writes.

use super::build::*;
use super::*;

#[test]
fn demux_per_rfc5761() {
    for b1 in 0..=255u8 {
        let d = [0x80, b1];
        assert_eq!(is_rtcp(&d), (64..=95).contains(&(b1 & 0x7f)), "byte1 {b1}");
    }
    assert!(is_rtcp(&[0x81, 205]) && is_rtcp(&[0x81, 206]));
    assert!(!is_rtcp(&[0x80, 120]) && !is_rtcp(&[0x90, 0xe7]) && !is_rtcp(&[0x80]));
}

const BLOCK: [u8; 24] = [
    0x00, 0x00, 0x00, 0x2a, // ssrc 42
    0x40, 0xff, 0xff, 0xfe, // fraction 64, cumulative -2
    0x00, 0x01, 0x00, 0x05, // ext highest 65541
    0x00, 0x00, 0x00, 0x10, // jitter 16
    0x11, 0x22, 0x33, 0x44, // lsr
    0x00, 0x01, 0x80, 0x00, // dlsr 1.5 s
];

fn block() -> ReportBlock {
    ReportBlock {
        ssrc: Ssrc(42),
        fraction_lost: 64,
        cumulative_lost: -2,
        extended_highest_seq: 65541,
        jitter: 16,
        last_sr: 0x11223344,
        delay_since_last_sr: 0x18000,
    }
}

#[test]
fn rr_bytes_and_parse() {
    let mut out = Vec::new();
    assert_eq!(write_rr(&mut out, Ssrc(0xaabbccdd), &[block()]), Ok(32));
    let mut expected = vec![0x81, 201, 0x00, 0x07, 0xaa, 0xbb, 0xcc, 0xdd];
    expected.extend_from_slice(&BLOCK);
    assert_eq!(out, expected);
    let pkts: Vec<_> = parse_compound(&out).collect();
    let [Ok(RtcpPacket::ReceiverReport(rr))] = pkts.as_slice() else {
        panic!("{pkts:?}")
    };
    assert_eq!(rr.ssrc, Ssrc(0xaabbccdd));
    assert_eq!(rr.blocks.clone().collect::<Vec<_>>(), vec![block()]);
    // Empty RR: 8 bytes, RC 0.
    let mut out = Vec::new();
    write_rr(&mut out, Ssrc(1), &[]).unwrap();
    assert_eq!(out, [0x80, 201, 0, 1, 0, 0, 0, 1]);
}

#[test]
fn sr_bytes_and_parse() {
    let info = SenderInfo {
        ntp_timestamp: 0x0102030405060708,
        rtp_timestamp: 0x090a0b0c,
        packet_count: 3,
        octet_count: 300,
    };
    let mut out = Vec::new();
    assert_eq!(write_sr(&mut out, Ssrc(5), &info, &[]), Ok(28));
    assert_eq!(
        out,
        [
            0x80, 200, 0, 6, 0, 0, 0, 5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 3, 0, 0,
            1, 44
        ]
    );
    let Some(Ok(RtcpPacket::SenderReport(sr))) = parse_compound(&out).next() else {
        panic!()
    };
    assert_eq!((sr.ssrc, sr.info, sr.blocks.count()), (Ssrc(5), info, 0));
}

#[test]
fn pli_fir_nack_bytes() {
    let mut out = Vec::new();
    write_pli(&mut out, Ssrc(1), Ssrc(2)).unwrap();
    assert_eq!(out, [0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]);

    out.clear();
    let e = FirEntry {
        ssrc: Ssrc(2),
        seq_nr: 7,
    };
    assert_eq!(write_fir(&mut out, Ssrc(1), &[e]), Ok(20));
    assert_eq!(
        out,
        [
            0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 7, 0, 0, 0
        ]
    );
    let Some(Ok(RtcpPacket::Fir(fir))) = parse_compound(&out).next() else {
        panic!()
    };
    assert_eq!(fir.entries().collect::<Vec<_>>(), vec![e]);

    out.clear();
    // 100, 101, 103, 116 fit one pair (bits 0, 2, 15); 117 starts a new one.
    let lost = [100, 101, 103, 116, 117].map(SeqNo);
    assert_eq!(write_nack(&mut out, Ssrc(1), Ssrc(2), &lost), Ok(20));
    assert_eq!(
        out,
        [
            0x81, 205, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 100, 0x80, 0x05, 0, 117, 0, 0
        ]
    );
    let Some(Ok(RtcpPacket::Nack(n))) = parse_compound(&out).next() else {
        panic!()
    };
    assert_eq!((n.sender_ssrc, n.media_ssrc), (Ssrc(1), Ssrc(2)));
    assert_eq!(n.lost_sequences().collect::<Vec<_>>(), lost.to_vec());
}

#[test]
fn nack_across_wrap() {
    let lost = [65534, 65535, 0, 3].map(SeqNo);
    assert_eq!(
        nack_pairs(&lost).collect::<Vec<_>>(),
        vec![(SeqNo(65534), 0b10011)]
    );
    let mut out = Vec::new();
    write_nack(&mut out, Ssrc(1), Ssrc(2), &lost).unwrap();
    let Some(Ok(RtcpPacket::Nack(n))) = parse_compound(&out).next() else {
        panic!()
    };
    assert_eq!(n.lost_sequences().collect::<Vec<_>>(), lost.to_vec());
    assert!(write_nack(&mut out, Ssrc(1), Ssrc(2), &[]).is_err());
}

#[test]
fn compound_with_sdes_bye_app_unknown_and_padding() {
    let mut out = Vec::new();
    write_rr(&mut out, Ssrc(9), &[]).unwrap();
    // SDES, one chunk: ssrc 9, CNAME "ab", end, pad to word.
    out.extend_from_slice(&[0x81, 202, 0, 2, 0, 0, 0, 9, 1, 2, b'a', b'b']);
    // APP subtype 3, name "DISC", 4 bytes data.
    out.extend_from_slice(&[
        0x83, 204, 0, 3, 0, 0, 0, 9, b'D', b'I', b'S', b'C', 1, 2, 3, 4,
    ]);
    // TWCC (RTPFB FMT 15) is not interpreted.
    out.extend_from_slice(&[0x8f, 205, 0, 2, 0, 0, 0, 9, 0, 0, 0, 2]);
    // BYE with one source, reason "x", and 4 bytes of padding (P=1).
    out.extend_from_slice(&[0xa1, 203, 0, 3, 0, 0, 0, 9, 1, b'x', 0, 0, 0, 0, 0, 4]);
    let pkts: Vec<_> = parse_compound(&out).map(Result::unwrap).collect();
    assert_eq!(pkts.len(), 5);
    assert!(matches!(
        pkts[1],
        RtcpPacket::SourceDescription { count: 1, .. }
    ));
    assert_eq!(
        pkts[2],
        RtcpPacket::App {
            subtype: 3,
            ssrc: Ssrc(9),
            name: *b"DISC",
            data: &[1, 2, 3, 4]
        }
    );
    assert!(matches!(
        pkts[3],
        RtcpPacket::Unknown {
            pt: 205,
            fmt: 15,
            ..
        }
    ));
    assert_eq!(pkts[4].bye_sources().collect::<Vec<_>>(), vec![Ssrc(9)]);
    assert!(matches!(
        pkts[4],
        RtcpPacket::Bye {
            reason: Some(b"x"),
            ..
        }
    ));
}

#[test]
fn malformed_compound_stops_with_error() {
    // Length overruns the datagram.
    let d = [0x80, 201, 0, 5, 0, 0, 0, 1];
    let v: Vec<_> = parse_compound(&d).collect();
    assert!(matches!(v.as_slice(), [Err(RtpError::TooShort { .. })]));
    // RR claiming one block but carrying none.
    let d = [0x81, 201, 0, 1, 0, 0, 0, 1];
    assert_eq!(
        parse_compound(&d).next(),
        Some(Err(RtpError::BadRtcp { pt: 201 }))
    );
    // Good packet then a version-1 packet: one Ok, one Err, then the end.
    let d = [0x80, 201, 0, 1, 0, 0, 0, 1, 0x40, 201, 0, 1, 0, 0, 0, 1];
    let v: Vec<_> = parse_compound(&d).collect();
    assert_eq!(v.len(), 2);
    assert!(v[0].is_ok());
    assert_eq!(v[1], Err(RtpError::BadVersion(1)));
    // Padding count 0.
    let d = [0xa0, 201, 0, 1, 0, 0, 0, 0];
    assert!(matches!(
        parse_compound(&d).next(),
        Some(Err(RtpError::BadPadding { .. }))
    ));
}

#[test]
fn cumulative_loss_is_clamped_to_24_bits() {
    let mut out = Vec::new();
    let b = ReportBlock {
        cumulative_lost: 10_000_000,
        ..block()
    };
    write_rr(&mut out, Ssrc(1), &[b]).unwrap();
    let Some(Ok(RtcpPacket::ReceiverReport(rr))) = parse_compound(&out).next() else {
        panic!()
    };
    assert_eq!(rr.blocks.clone().next().unwrap().cumulative_lost, 0x7f_ffff);
}

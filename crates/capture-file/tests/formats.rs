//! Hand-built files in every supported format and byte order.

use std::net::SocketAddr;
use std::time::Duration;

use capture_file::{CaptureError, CaptureReader, Format, PcapWriter, WriterLink, read_all};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// An IPv4/UDP packet with the given payload (no link header).
fn ipv4_udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let total = (28 + payload.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    p
}

fn ethernet(ip: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(ip);
    f
}

fn put32(out: &mut Vec<u8>, big: bool, v: u32) {
    out.extend_from_slice(&if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    });
}
fn put16(out: &mut Vec<u8>, big: bool, v: u16) {
    out.extend_from_slice(&if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    });
}

fn classic(big: bool, nanos: bool, link: u32, records: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
    let mut f = Vec::new();
    put32(&mut f, big, if nanos { 0xA1B2_3C4D } else { 0xA1B2_C3D4 });
    put16(&mut f, big, 2);
    put16(&mut f, big, 4);
    put32(&mut f, big, 0);
    put32(&mut f, big, 0);
    put32(&mut f, big, 65535);
    put32(&mut f, big, link);
    for (sec, frac, data) in records {
        put32(&mut f, big, *sec);
        put32(&mut f, big, *frac);
        put32(&mut f, big, data.len() as u32);
        put32(&mut f, big, data.len() as u32);
        f.extend_from_slice(data);
    }
    f
}

#[test]
fn classic_pcap_all_magics() {
    let pkt = ethernet(&ipv4_udp(
        [1, 2, 3, 4],
        1000,
        [5, 6, 7, 8],
        2000,
        b"payload",
    ));
    for big in [false, true] {
        for nanos in [false, true] {
            let frac = if nanos { 250_000_000 } else { 250_000 };
            let file = classic(big, nanos, 1, &[(10, frac, pkt.clone())]);
            assert_eq!(Format::detect(&file), Some(Format::Pcap));
            let (dgrams, stats, err) = read_all(&file);
            assert_eq!(err, None, "big={big} nanos={nanos}");
            assert_eq!(stats.malformed + stats.not_udp, 0);
            assert_eq!(dgrams.len(), 1);
            assert_eq!(dgrams[0].timestamp, Duration::from_millis(10_250));
            assert_eq!(dgrams[0].src, addr("1.2.3.4:1000"));
            assert_eq!(dgrams[0].dst, addr("5.6.7.8:2000"));
            assert_eq!(dgrams[0].payload, b"payload");
        }
    }
}

#[test]
fn classic_pcap_counts_skipped_packets() {
    let udp = ipv4_udp([1, 1, 1, 1], 1, [2, 2, 2, 2], 2, b"ok");
    let mut tcp = udp.clone();
    tcp[9] = 6;
    let mut arp = vec![0u8; 12];
    arp.extend_from_slice(&[0x08, 0x06, 0, 1]);
    let cut = ethernet(&udp[..udp.len() - 1]);
    let file = classic(
        false,
        false,
        1,
        &[
            (0, 0, ethernet(&tcp)),
            (0, 0, arp),
            (0, 0, cut),
            (0, 0, ethernet(&udp)),
        ],
    );
    let (dgrams, stats, err) = read_all(&file);
    assert_eq!(err, None);
    assert_eq!(dgrams.len(), 1);
    assert_eq!(stats.not_udp, 2);
    assert_eq!(stats.malformed, 1);
}

#[test]
fn raw_and_cooked_link_types() {
    let ip = ipv4_udp([9, 9, 9, 9], 7, [8, 8, 8, 8], 8, b"x");
    let mut sll = vec![0u8; 14];
    sll.extend_from_slice(&[0x08, 0x00]);
    sll.extend_from_slice(&ip);
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend_from_slice(&ip);
    for (link, frame) in [
        (101, ip.clone()),
        (12, ip.clone()),
        (228, ip.clone()),
        (113, sll),
        (0, null),
    ] {
        let file = classic(true, false, link, &[(1, 0, frame)]);
        let (d, _, err) = read_all(&file);
        assert_eq!(err, None);
        assert_eq!(d.len(), 1, "link {link}");
        assert_eq!(d[0].payload, b"x");
    }
    let file = classic(true, false, 147, &[(1, 0, ip)]);
    let (d, stats, _) = read_all(&file);
    assert!(d.is_empty());
    assert_eq!(stats.unsupported_link, 1);
}

#[test]
fn truncated_classic_pcap_yields_whole_records_then_error() {
    let pkt = ethernet(&ipv4_udp([1, 2, 3, 4], 1, [5, 6, 7, 8], 2, b"abcdef"));
    let file = classic(false, false, 1, &[(1, 0, pkt.clone()), (2, 0, pkt)]);
    let cut = &file[..file.len() - 3];
    let mut reader = CaptureReader::new(cut).unwrap();
    assert!(reader.next().unwrap().is_ok());
    let err = reader.next().unwrap().unwrap_err();
    assert!(err.is_truncation(), "{err:?}");
    assert!(reader.next().is_none());
}

/// A pcapng block with header, body padded to 4 and trailing length.
fn block(big: bool, kind: u32, body: &[u8]) -> Vec<u8> {
    let padded = body.len().div_ceil(4) * 4;
    let len = (12 + padded) as u32;
    let mut b = Vec::new();
    put32(&mut b, big, kind);
    put32(&mut b, big, len);
    b.extend_from_slice(body);
    b.resize(8 + padded, 0);
    put32(&mut b, big, len);
    b
}

fn shb(big: bool) -> Vec<u8> {
    let mut body = Vec::new();
    put32(&mut body, big, 0x1A2B_3C4D);
    put16(&mut body, big, 1);
    put16(&mut body, big, 0);
    body.extend_from_slice(&[0xFF; 8]); // section length unknown
    block(big, 0x0A0D_0D0A, &body)
}

fn idb(big: bool, link: u16, tsresol: Option<u8>) -> Vec<u8> {
    let mut body = Vec::new();
    put16(&mut body, big, link);
    put16(&mut body, big, 0);
    put32(&mut body, big, 65535);
    if let Some(r) = tsresol {
        put16(&mut body, big, 9);
        put16(&mut body, big, 1);
        body.extend_from_slice(&[r, 0, 0, 0]);
        put32(&mut body, big, 0); // opt_endofopt
    }
    block(big, 1, &body)
}

fn epb(big: bool, iface: u32, units: u64, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    put32(&mut body, big, iface);
    put32(&mut body, big, (units >> 32) as u32);
    put32(&mut body, big, units as u32);
    put32(&mut body, big, data.len() as u32);
    put32(&mut body, big, data.len() as u32);
    body.extend_from_slice(data);
    block(big, 6, &body)
}

#[test]
fn pcapng_both_orders_interfaces_and_resolutions() {
    let ip = ipv4_udp([10, 0, 0, 1], 5000, [10, 0, 0, 2], 5004, b"rtp1");
    for big in [false, true] {
        let mut f = shb(big);
        f.extend(idb(big, 1, None)); // Ethernet, microseconds
        f.extend(idb(big, 101, Some(9))); // raw IP, nanoseconds
        f.extend(epb(big, 0, 1_500_000, &ethernet(&ip)));
        f.extend(epb(big, 1, 2_000_000_000, &ip));
        f.extend(block(big, 5, &[0; 8])); // interface statistics: skipped
        // Simple packet block: interface 0, no timestamp.
        let mut spb = Vec::new();
        let eth = ethernet(&ip);
        put32(&mut spb, big, eth.len() as u32);
        spb.extend_from_slice(&eth);
        f.extend(block(big, 3, &spb));
        f.extend(epb(big, 7, 0, &ip)); // unknown interface
        assert_eq!(Format::detect(&f), Some(Format::PcapNg));
        let (d, stats, err) = read_all(&f);
        assert_eq!(err, None, "big={big}");
        let times: Vec<_> = d.iter().map(|d| d.timestamp).collect();
        assert_eq!(
            times,
            [
                Duration::from_millis(1500),
                Duration::from_secs(2),
                Duration::from_secs(2)
            ]
        );
        assert!(
            d.iter()
                .all(|d| d.payload == b"rtp1" && d.dst == addr("10.0.0.2:5004"))
        );
        assert_eq!(stats.malformed, 1);
        assert_eq!(stats.other_blocks, 4); // SHB, 2 IDB, ISB
    }
}

#[test]
fn pcapng_second_section_may_switch_byte_order() {
    let ip = ipv4_udp([1, 1, 1, 1], 1, [2, 2, 2, 2], 2, b"z");
    let mut f = shb(false);
    f.extend(idb(false, 101, None));
    f.extend(epb(false, 0, 1, &ip));
    f.extend(shb(true));
    f.extend(idb(true, 228, None));
    f.extend(epb(true, 0, 2, &ip));
    let (d, _, err) = read_all(&f);
    assert_eq!(err, None);
    assert_eq!(d.len(), 2);
}

#[test]
fn pcapng_bad_block_length_is_an_error_after_whole_blocks() {
    let ip = ipv4_udp([1, 1, 1, 1], 1, [2, 2, 2, 2], 2, b"z");
    let mut f = shb(false);
    f.extend(idb(false, 101, None));
    f.extend(epb(false, 0, 1, &ip));
    let mut bad = epb(false, 0, 2, &ip);
    let n = bad.len();
    bad[n - 4] ^= 4; // trailing length mismatch
    f.extend(bad);
    let (d, _, err) = read_all(&f);
    assert_eq!(d.len(), 1);
    assert!(
        matches!(err, Some(CaptureError::Malformed { .. })),
        "{err:?}"
    );
}

fn rtpdump(records: &[(u16, u32, &[u8])]) -> Vec<u8> {
    let mut f = b"#!rtpplay1.0 192.168.0.9/5004\n".to_vec();
    f.extend_from_slice(&100u32.to_be_bytes());
    f.extend_from_slice(&500_000u32.to_be_bytes());
    f.extend_from_slice(&[192, 168, 0, 1]);
    f.extend_from_slice(&6000u16.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    for (plen, ms, data) in records {
        f.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
        f.extend_from_slice(&plen.to_be_bytes());
        f.extend_from_slice(&ms.to_be_bytes());
        f.extend_from_slice(data);
    }
    f
}

#[test]
fn rtpdump_records() {
    let f = rtpdump(&[
        (4, 0, b"abcd"),
        (0, 20, b"rtcp"),
        (9, 40, b"short"),
        (3, 60, b"xyzw"),
    ]);
    assert_eq!(Format::detect(&f), Some(Format::RtpDump));
    let (d, stats, err) = read_all(&f);
    assert_eq!(err, None);
    let got: Vec<_> = d.iter().map(|d| (d.timestamp, d.payload)).collect();
    assert_eq!(
        got,
        [
            (Duration::from_millis(100_500), &b"abcd"[..]),
            (Duration::from_millis(100_520), &b"rtcp"[..]),
            (Duration::from_millis(100_560), &b"xyz"[..]),
        ]
    );
    assert_eq!(stats.malformed, 1); // headers-only record
    assert_eq!(d[0].src, addr("192.168.0.1:6000"));
    assert_eq!(d[0].dst, addr("192.168.0.9:5004"));
    let cut = &f[..f.len() - 2];
    let (d, _, err) = read_all(cut);
    assert_eq!(d.len(), 2);
    assert!(err.is_some_and(|e| e.is_truncation()));
}

#[test]
fn unknown_and_empty_input() {
    assert!(matches!(
        CaptureReader::new(b"GIF89a"),
        Err(CaptureError::UnknownFormat { .. })
    ));
    assert!(matches!(
        CaptureReader::new(b""),
        Err(CaptureError::UnknownFormat { .. })
    ));
    let short = [0xD4, 0xC3, 0xB2, 0xA1, 2, 0];
    assert!(CaptureReader::new(&short).unwrap_err().is_truncation());
}

#[test]
fn writer_round_trips_through_reader() {
    for link in [WriterLink::Ethernet, WriterLink::RawIp] {
        let mut w = PcapWriter::new(link);
        let pairs = [
            (addr("10.1.1.1:40000"), addr("10.1.1.2:5004")),
            (addr("[fd00::1]:40000"), addr("[fd00::2]:5004")),
        ];
        for (i, (s, d)) in pairs.iter().enumerate() {
            let ts = Duration::from_micros(1_700_000_000_123_456 + i as u64);
            w.write_datagram(ts, *s, *d, &[i as u8; 300]).unwrap();
        }
        let bytes = w.into_bytes();
        let (got, stats, err) = read_all(&bytes);
        assert_eq!((err, stats.malformed), (None, 0));
        assert_eq!(got.len(), 2);
        for (i, g) in got.iter().enumerate() {
            assert_eq!((g.src, g.dst), pairs[i]);
            assert_eq!(g.payload, &[i as u8; 300][..]);
            assert_eq!(
                g.timestamp,
                Duration::from_micros(1_700_000_000_123_456 + i as u64)
            );
        }
    }
}

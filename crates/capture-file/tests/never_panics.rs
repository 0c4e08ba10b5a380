//! Property tests: arbitrary and mutated input never panics, and iteration
//! always terminates.

use std::time::Duration;

use capture_file::{CaptureReader, PcapWriter, WriterLink, read_all};
use proptest::prelude::*;

fn valid_pcap(payloads: &[Vec<u8>], link: WriterLink) -> Vec<u8> {
    let mut w = PcapWriter::new(link);
    for (i, p) in payloads.iter().enumerate() {
        let src = "10.0.0.1:1234".parse().unwrap();
        let dst = "10.0.0.2:5004".parse().unwrap();
        w.write_datagram(Duration::from_millis(i as u64), src, dst, p)
            .unwrap();
    }
    w.into_bytes()
}

fn drain(data: &[u8]) -> usize {
    match CaptureReader::new(data) {
        Ok(r) => r.take(100_000).count(),
        Err(_) => 0,
    }
}

/// Magic prefixes so random tails exercise each format's record parser.
const PREFIXES: [&[u8]; 6] = [
    &[0xD4, 0xC3, 0xB2, 0xA1],
    &[0xA1, 0xB2, 0x3C, 0x4D],
    &[0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0, 0x4D, 0x3C, 0x2B, 0x1A],
    &[0x0A, 0x0D, 0x0D, 0x0A, 0, 0, 0, 28, 0x1A, 0x2B, 0x3C, 0x4D],
    b"#!rtpplay1.0 127.0.0.1/5004\n",
    b"#!rtpplay1.0 ",
];

proptest! {
    #[test]
    fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        drain(&data);
    }

    #[test]
    fn arbitrary_tails_after_magic(idx in 0..PREFIXES.len(), tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut data = PREFIXES[idx].to_vec();
        data.extend_from_slice(&tail);
        drain(&data);
    }

    #[test]
    fn mutated_valid_pcap(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..8),
        raw in any::<bool>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let link = if raw { WriterLink::RawIp } else { WriterLink::Ethernet };
        let mut data = valid_pcap(&payloads, link);
        let (whole, _, err) = read_all(&data);
        prop_assert_eq!(whole.len(), payloads.len());
        prop_assert!(err.is_none());
        for (i, v) in flips {
            let n = data.len();
            data[i.index(n)] ^= v;
        }
        drain(&data);
        let n = data.len();
        drain(&data[..cut.index(n)]);
    }
}

//! The committed captures (written by scripts/make-fixtures' own pcap code)
//! read back with the packet counts their meta files record.

use std::path::PathBuf;

use capture_file::{CaptureReader, Format};

#[test]
fn committed_captures_read_completely() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/media");
    for name in ["h264-baseline", "h264-main-slices", "vp8"] {
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.meta.json"))).unwrap())
                .unwrap();
        let bytes = std::fs::read(dir.join(format!("{name}.pcap"))).unwrap();
        let mut reader = CaptureReader::new(&bytes).unwrap();
        assert_eq!(reader.format(), Format::Pcap);
        let mut count = 0u64;
        let mut last = None;
        for d in reader.by_ref() {
            let d = d.unwrap();
            assert_eq!(
                u64::from(d.dst.port()),
                meta["rtp_dst_port"].as_u64().unwrap()
            );
            assert!(d.dst.ip().is_loopback());
            assert!(
                last.is_none_or(|t| t <= d.timestamp),
                "timestamps in capture order"
            );
            last = Some(d.timestamp);
            count += 1;
        }
        assert_eq!(count, meta["rtp_packets"].as_u64().unwrap(), "{name}");
        assert_eq!(reader.stats(), Default::default());
    }
}

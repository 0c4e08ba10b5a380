//! The committed ffmpeg captures (an independent packetizer) through the
//! depacketizer: see scripts/make-fixtures.

use std::path::PathBuf;

use h264_rtp::{H264Depacketizer, NalType, ParameterSetCache};

fn media_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/media")
}

/// RTP header fields and payload (no extensions or padding in these files).
fn parse_rtp(p: &[u8]) -> (u16, u32, bool, u8, &[u8]) {
    assert_eq!(p[0] >> 6, 2);
    assert_eq!(p[0] & 0x30, 0, "fixtures carry no padding or extension");
    let cc = usize::from(p[0] & 0x0F);
    let seq = u16::from_be_bytes([p[2], p[3]]);
    let ts = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
    (seq, ts, p[1] & 0x80 != 0, p[1] & 0x7F, &p[12 + 4 * cc..])
}

fn check(name: &str) {
    let meta: serde_json::Value = serde_json::from_slice(
        &std::fs::read(media_dir().join(format!("{name}.meta.json"))).unwrap(),
    )
    .unwrap();
    let bytes = std::fs::read(media_dir().join(format!("{name}.pcap"))).unwrap();
    let (datagrams, stats, err) = capture_file::read_all(&bytes);
    assert_eq!(err, None);
    assert_eq!(stats.malformed, 0);
    assert_eq!(
        datagrams.len() as u64,
        meta["rtp_packets"].as_u64().unwrap()
    );

    let mut d = H264Depacketizer::default();
    let mut cache = ParameterSetCache::new();
    let (mut stap_a, mut fu_a, mut aus) = (0, 0, Vec::new());
    for dg in &datagrams {
        let (seq, ts, marker, pt, payload) = parse_rtp(dg.payload);
        assert_eq!(u64::from(pt), meta["payload_type"].as_u64().unwrap());
        match payload[0] & 0x1F {
            24 => stap_a += 1,
            28 => fu_a += 1,
            _ => {}
        }
        d.push(seq, ts, marker, payload).unwrap();
        while let Some(au) = d.poll() {
            aus.push(au);
        }
    }
    d.flush();
    assert!(
        d.poll().is_none(),
        "every access unit ended with its marker"
    );
    assert_eq!(aus.len() as u64, meta["frame_count"].as_u64().unwrap());
    assert!(stap_a > 0 && fu_a > 0, "STAP-A {stap_a}, FU-A {fu_a}");
    assert_eq!(stap_a, meta["packet_types"]["stap_a"].as_u64().unwrap());
    assert_eq!(fu_a, meta["packet_types"]["fu_a"].as_u64().unwrap());
    assert!(aus.iter().all(|au| !au.damaged));
    let first = &aus[0];
    assert!(first.is_keyframe && first.has_sps && first.has_pps);
    // -g 30: at least one more keyframe later on.
    assert!(aus.iter().skip(1).any(|au| au.is_keyframe));
    let mut last_ts = None;
    for au in &mut aus {
        assert_ne!(Some(au.timestamp), last_ts, "one access unit per timestamp");
        last_ts = Some(au.timestamp);
        assert!(
            au.nal_types
                .iter()
                .any(|t| *t == NalType::IDR || *t == NalType::SLICE)
        );
        let out = cache.apply(&mut au.data);
        assert!(!out.still_missing);
    }
}

#[test]
fn baseline_capture() {
    check("h264-baseline");
}

#[test]
fn main_profile_sliced_capture() {
    check("h264-main-slices");
}

//! The committed ffmpeg VP8 capture (an independent packetizer) through the
//! depacketizer: see scripts/make-fixtures.

use std::path::PathBuf;

use vp8_rtp::Vp8Depacketizer;

#[test]
fn vp8_capture() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/media");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("vp8.meta.json")).unwrap()).unwrap();
    let bytes = std::fs::read(dir.join("vp8.pcap")).unwrap();
    let (datagrams, _, err) = capture_file::read_all(&bytes);
    assert_eq!(err, None);
    assert_eq!(
        datagrams.len() as u64,
        meta["rtp_packets"].as_u64().unwrap()
    );
    let mut d = Vp8Depacketizer::default();
    let mut frames = Vec::new();
    for dg in &datagrams {
        let p = dg.payload;
        assert_eq!(p[0] & 0x30, 0, "fixtures carry no padding or extension");
        let cc = usize::from(p[0] & 0x0F);
        let seq = u16::from_be_bytes([p[2], p[3]]);
        let ts = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
        d.push(seq, ts, p[1] & 0x80 != 0, &p[12 + 4 * cc..])
            .unwrap();
        frames.extend(std::iter::from_fn(|| d.poll()));
    }
    d.flush();
    assert!(d.poll().is_none());
    assert_eq!(frames.len() as u64, meta["frame_count"].as_u64().unwrap());
    assert!(
        frames
            .iter()
            .all(|f| !f.damaged && !f.lost_before && f.picture_id.is_some())
    );
    let keyframes: Vec<_> = frames.iter().filter(|f| f.is_keyframe).collect();
    assert!(frames[0].is_keyframe);
    assert!(keyframes.len() >= 2, "-g 30 over 60 frames");
    for k in keyframes {
        let size = k.keyframe_size.unwrap();
        assert_eq!(u64::from(size.width), meta["width"].as_u64().unwrap());
        assert_eq!(u64::from(size.height), meta["height"].as_u64().unwrap());
    }
}

//! RTP parse: every accessor of a parsed packet, the rtpsize split and RTX.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rtp::peek_sequence(data);
    let _ = rtp::peek_ssrc(data);
    let _ = rtp::rtpsize_header_len(data);
    if let Ok(p) = rtp::RtpPacket::parse(data) {
        let _ = (p.version(), p.marker(), p.payload_type(), p.sequence());
        let _ = (p.timestamp(), p.ssrc(), p.header_len(), p.padding_len());
        let _ = p.csrcs().count();
        let range = p.payload_range();
        assert!(range.start <= range.end && range.end <= data.len());
        assert_eq!(p.payload().len(), range.len());
        if let Some(ext) = p.extension() {
            let _ = format!("{ext:?}");
        }
    }
});

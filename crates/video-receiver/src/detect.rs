//! Guessing the codec of an RTP stream from its payloads.

use h264_rtp::NalType;
use vp8_rtp::{PayloadDescriptor, keyframe_size};

use crate::VideoCodec;

/// Guesses whether RTP payloads carry H264 (RFC 6184) or VP8 (RFC 7741).
///
/// Payload types are dynamic (Discord clients choose them), so the payload
/// itself is the evidence. Strong evidence: an H264 sequence parameter set
/// (alone or first in a STAP-A), or a VP8 key frame header (start code
/// `9D 01 2A`). Without any, the codec whose payload headers are valid for
/// every packet wins (H264 NAL headers with NRI ≥ 2 set a bit VP8 reserves;
/// VP8 descriptors with X set the bit H264 forbids). `None` when the
/// evidence is missing or contradictory.
pub fn guess_codec<'a>(payloads: impl IntoIterator<Item = &'a [u8]>) -> Option<VideoCodec> {
    let (mut n, mut h264_ok, mut vp8_ok, mut h264_strong, mut vp8_strong) = (0u64, 0, 0, 0, 0);
    for p in payloads {
        let Some(&b0) = p.first() else { continue };
        n += 1;
        let t = b0 & 0x1f;
        if b0 & 0x80 == 0 && (matches!(t, 1..=24) || t == 28) {
            h264_ok += 1;
            let sps_in_stap = t == 24
                && p.get(3)
                    .is_some_and(|&h| NalType::from_header(h) == NalType::SPS);
            if NalType::from_header(b0) == NalType::SPS || sps_in_stap {
                h264_strong += 1;
            }
        }
        if b0 & 0x48 == 0
            && let Ok(d) = PayloadDescriptor::parse(p)
        {
            vp8_ok += 1;
            if d.starts_frame() && p.get(d.len..).and_then(keyframe_size).is_some() {
                vp8_strong += 1;
            }
        }
    }
    match (h264_strong > 0, vp8_strong > 0) {
        (true, false) => return Some(VideoCodec::H264),
        (false, true) => return Some(VideoCodec::Vp8),
        _ => {}
    }
    match (n > 0 && h264_ok == n, n > 0 && vp8_ok == n) {
        (true, false) => Some(VideoCodec::H264),
        (false, true) => Some(VideoCodec::Vp8),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_and_weak_evidence() {
        let sps: &[u8] = &[0x67, 0x42, 0xc0, 0x1f];
        let stap: &[u8] = &[0x78, 0, 4, 0x67, 0x42, 0xc0, 0x1f];
        let fu: &[u8] = &[0x7c, 0x85, 1, 2];
        assert_eq!(guess_codec([sps, fu]), Some(VideoCodec::H264));
        assert_eq!(guess_codec([stap]), Some(VideoCodec::H264));
        assert_eq!(guess_codec([fu, fu]), Some(VideoCodec::H264));
        // VP8: X=1 S=1 PID=0, I=1 with 15-bit PictureID, then a key frame
        // tag (P=0), start code and 640x360.
        let key: &[u8] = &[
            0x90, 0x80, 0x80, 0x01, 0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01,
        ];
        let cont: &[u8] = &[0x80, 0x80, 0x80, 0x01, 9, 9];
        assert_eq!(guess_codec([cont, key]), Some(VideoCodec::Vp8));
        assert_eq!(guess_codec([cont, cont]), Some(VideoCodec::Vp8));
        assert_eq!(guess_codec(std::iter::empty()), None);
        // Plausible as both (NRI 0 / no X) and no strong evidence.
        let both: &[u8] = &[0x01, 0x00];
        assert_eq!(guess_codec([both]), None);
    }
}

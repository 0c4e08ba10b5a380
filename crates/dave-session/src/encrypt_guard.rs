//! Checks in front of davey's frame encryptors, which panic (index out of
//! range) on some malformed frames (found by the `dave_unwrap_group` fuzz
//! target): such frames are refused instead.
//!
//! VP8: davey keeps the payload header unencrypted, 10 bytes of a key frame
//! (the inverse key frame bit 0 clear) and 1 byte of a delta frame, and
//! indexes them without a length check, so an empty frame or a key frame
//! shorter than 10 bytes panics.
//!
//! H264: davey panics (slice index out of range) on an access unit whose
//! slice header, read up to the PPS id, runs past the end of its NAL unit.
//! davey leaves the NAL header and the bytes covering the
//! slice header's first three Exp-Golomb values (`first_mb_in_slice`,
//! `slice_type`, `pic_parameter_set_id`) unencrypted and encrypts the rest
//! of the NAL unit; when those bytes reach beyond the next start code, its
//! slice of the frame is reversed.
//!
//! The NAL boundaries and the covered byte count follow what davey
//! computes (start codes `00 00 01` / `00 00 00 01` found from the NAL
//! header on, emulation-prevention bytes skipped while reading bits, the
//! count being `bits read / 8 + 1`, read across the rest of the frame); this
//! side finds the first start code at or before davey's, so it is never
//! less strict.

/// `nal_unit_type` of a non-IDR and an IDR slice.
const SLICE: u8 = 1;
const IDR: u8 = 5;

/// Where the next NAL unit starts after `from`: (its first byte, the
/// length of its start code), the first `00 00 01` whose three bytes end
/// before the frame's last byte.
fn next_nal(frame: &[u8], from: usize) -> Option<(usize, usize)> {
    let last = frame.len().checked_sub(3)?;
    (from..last)
        .find(|&i| frame[i] == 0 && frame[i + 1] == 0 && frame[i + 2] == 1)
        .map(|i| {
            let long = i >= 1 && frame[i - 1] == 0;
            (i + 3, if long { 4 } else { 3 })
        })
}

/// How many bytes of a slice payload cover its first three Exp-Golomb
/// values, counted as davey counts them (`None`: a run of 32 zero bits,
/// which davey treats as "nothing to keep").
fn pps_covering_bytes(payload: &[u8]) -> Option<u64> {
    let total_bits = payload.len() as u64 * 8;
    let (mut bit, mut zeros, mut values) = (0u64, 0u64, 0);
    while bit < total_bits && values < 3 {
        let (byte_index, bit_index) = ((bit / 8) as usize, bit % 8);
        let byte = payload[byte_index];
        let emulation = bit_index == 0
            && byte_index >= 2
            && byte == 3
            && payload[byte_index - 1] == 0
            && payload[byte_index - 2] == 0;
        if emulation {
            bit += 8;
        } else if byte & (0x80 >> bit_index) == 0 {
            zeros += 1;
            bit += 1;
            if zeros >= 32 {
                return None;
            }
        } else {
            values += 1;
            bit += 1 + zeros;
            zeros = 0;
        }
    }
    Some(bit / 8 + 1)
}

/// Whether davey can encrypt this frame without panicking.
pub(crate) fn encryptable(codec: crate::MediaCodec, frame: &[u8]) -> bool {
    match codec {
        crate::MediaCodec::H264 => h264_slices_fit(frame),
        crate::MediaCodec::Vp8 => vp8_header_fits(frame),
        _ => true,
    }
}

/// A VP8 frame holds the payload header davey keeps in the clear.
fn vp8_header_fits(frame: &[u8]) -> bool {
    match frame.first() {
        None => false,
        Some(b) if b & 1 == 0 => frame.len() >= 10,
        Some(_) => true,
    }
}

/// Whether davey can encrypt this H264 access unit without running a
/// slice header past its NAL unit.
fn h264_slices_fit(frame: &[u8]) -> bool {
    let mut nal = next_nal(frame, 0);
    while let Some((start, _)) = nal {
        if start + 1 >= frame.len() {
            break;
        }
        let next = next_nal(frame, start);
        let end = next.map_or(frame.len(), |(s, len)| s - len);
        if matches!(frame[start] & 0x1F, SLICE | IDR) {
            let covered = pps_covering_bytes(&frame[start + 1..]).unwrap_or(0);
            let fits = (start as u64 + 1)
                .checked_add(covered)
                .is_some_and(|e| e <= end as u64 && covered <= u64::from(u16::MAX));
            if !fits {
                return false;
            }
        }
        nal = next;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vp8_frames_need_their_clear_header() {
        assert!(!vp8_header_fits(&[]));
        assert!(!vp8_header_fits(&[
            0x50, 0x42, 0x00, 0x9D, 0x01, 0x2A, 64, 0, 48
        ]));
        assert!(vp8_header_fits(&[
            0x50, 0x42, 0x00, 0x9D, 0x01, 0x2A, 64, 0, 48, 0
        ]));
        assert!(vp8_header_fits(&[0x51]));
    }

    #[test]
    fn a_well_formed_access_unit_fits() {
        let mut f = vec![0, 0, 0, 1, 0x67, 0x42, 0xC0, 0x1F, 0, 0, 0, 1, 0x68, 0xCE];
        f.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21, 0x43]);
        assert!(h264_slices_fit(&f));
        // Non-slice NAL units only, and a frame without any start code.
        assert!(h264_slices_fit(&[0, 0, 1, 0x67, 0, 0]));
        assert!(h264_slices_fit(b"no start code"));
    }

    #[test]
    fn a_slice_header_running_into_the_next_nal_unit_does_not_fit() {
        // IDR whose payload is zeros up to the next start code: the three
        // Exp-Golomb values are only complete inside the next NAL unit.
        let f = [
            0, 0, 0, 1, 0x65, 0x88, 0x00, 0x07, 0x20, 0, 0, 0, 1, 0x67, 0x42, 0xC0, 0x1F,
        ];
        assert!(!h264_slices_fit(&f));
        // The last slice's header reaching past the end of the frame.
        assert!(!h264_slices_fit(&[0, 0, 0, 1, 0x41, 0x00, 0x00, 0x40]));
    }
}

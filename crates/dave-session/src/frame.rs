//! The receiver's "is this a DAVE protocol frame?" check (protocol §3.7):
//! decides between decrypting and passing a frame through.

/// Magic marker closing every DAVE frame.
const MARKER: [u8; 2] = [0xFA, 0xFA];
/// tag (8) + supplemental size byte (1) + marker (2): the smallest trailer.
const MIN_SUPPLEMENTAL: usize = 11;
/// Truncated AES-GCM tag length.
const TAG_LEN: usize = 8;

/// Reads one ULEB128 value; `None` if truncated or over 64 bits.
fn uleb128(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = buf.split_first()?;
        *buf = rest;
        value |= u64::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// `true` if `frame` carries a well-formed DAVE trailer: marker, sane
/// supplemental size, a 32-bit nonce, and unencrypted ranges that parse
/// exactly to the end, ascend, do not overlap and lie inside the media part.
pub(crate) fn is_protocol_frame(frame: &[u8]) -> bool {
    let len = frame.len();
    if len < MIN_SUPPLEMENTAL || !frame.ends_with(&MARKER) {
        return false;
    }
    let supplemental = usize::from(frame[len - 3]);
    if supplemental < MIN_SUPPLEMENTAL || supplemental > len {
        return false;
    }
    let media_len = len - supplemental;
    let Some(mut meta) = frame.get(media_len + TAG_LEN..len - 3) else {
        return false;
    };
    match uleb128(&mut meta) {
        Some(n) if n <= u64::from(u32::MAX) => {}
        _ => return false,
    }
    let mut end_of_previous = 0u64;
    while !meta.is_empty() {
        let (Some(offset), Some(size)) = (uleb128(&mut meta), uleb128(&mut meta)) else {
            return false;
        };
        let Some(end) = offset.checked_add(size) else {
            return false;
        };
        if offset < end_of_previous || end > media_len as u64 {
            return false;
        }
        end_of_previous = end;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn minimal_opus_trailer_is_recognised() {
        // 3 media bytes, 8 tag bytes, nonce 1, no ranges, size 12, marker.
        let mut f = vec![1, 2, 3];
        f.extend([0u8; 8]);
        f.extend([0x01, 12, 0xFA, 0xFA]);
        assert!(is_protocol_frame(&f));
        // A range past the media part is not a protocol frame.
        let mut g = vec![1, 2, 3];
        g.extend([0u8; 8]);
        g.extend([0x01, 0x02, 0x05, 14, 0xFA, 0xFA]);
        assert!(!is_protocol_frame(&g));
        assert!(!is_protocol_frame(&[0xF8, 0xFF, 0xFE]));
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = is_protocol_frame(&data);
        }
    }
}

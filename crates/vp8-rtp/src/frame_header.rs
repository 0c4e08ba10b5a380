//! The VP8 frame tag and key-frame header (RFC 6386 §9.1), which DAVE
//! leaves in the clear.

/// Picture size from a key frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSize {
    /// Width in pixels (14 bits).
    pub width: u16,
    /// Height in pixels (14 bits).
    pub height: u16,
    /// Horizontal upscaling code (2 bits, 0 = none).
    pub horizontal_scale: u8,
    /// Vertical upscaling code (2 bits, 0 = none).
    pub vertical_scale: u8,
}

/// Key-frame start code following the 3-byte frame tag.
const START_CODE: [u8; 3] = [0x9D, 0x01, 0x2A];

/// Whether the frame tag says key frame (P bit clear).
pub fn is_keyframe(frame: &[u8]) -> bool {
    frame.first().is_some_and(|b| b & 0x01 == 0)
}

/// Size of a key frame, `None` if this is not a key frame or its header is
/// short or lacks the `9D 01 2A` start code.
pub fn keyframe_size(frame: &[u8]) -> Option<FrameSize> {
    if !is_keyframe(frame) || frame.get(3..6)? != START_CODE {
        return None;
    }
    let w = u16::from_le_bytes([*frame.get(6)?, *frame.get(7)?]);
    let h = u16::from_le_bytes([*frame.get(8)?, *frame.get(9)?]);
    Some(FrameSize {
        width: w & 0x3FFF,
        height: h & 0x3FFF,
        horizontal_scale: (w >> 14) as u8,
        vertical_scale: (h >> 14) as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_640x360_with_scaling_bits() {
        let f = [0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x42, 0x68, 0x01];
        let s = keyframe_size(&f).unwrap();
        assert_eq!(
            (s.width, s.height, s.horizontal_scale, s.vertical_scale),
            (640, 360, 1, 0)
        );
        assert_eq!(
            keyframe_size(&[0x11, 0, 0, 0x9D, 0x01, 0x2A, 0, 0, 0, 0]),
            None
        );
        assert_eq!(
            keyframe_size(&[0x10, 0, 0, 0x9D, 0x01, 0x2B, 0, 0, 0, 0]),
            None
        );
        assert_eq!(keyframe_size(&f[..9]), None);
    }
}

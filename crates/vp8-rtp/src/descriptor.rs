//! The RFC 7741 VP8 payload descriptor.

use crate::error::Vp8Error;

/// A VP8 PictureID, 7 or 15 bits wide (the M bit chooses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PictureId {
    /// One-byte form, 0..=127.
    Short(u8),
    /// Two-byte form, 0..=32767.
    Long(u16),
}

impl PictureId {
    /// The numeric value.
    pub fn value(self) -> u16 {
        match self {
            PictureId::Short(v) => u16::from(v),
            PictureId::Long(v) => v,
        }
    }

    /// True if `self` directly follows `prev` (same width, +1 with wrap).
    pub fn follows(self, prev: PictureId) -> bool {
        match (prev, self) {
            (PictureId::Short(a), PictureId::Short(b)) => b == (a.wrapping_add(1) & 0x7F),
            (PictureId::Long(a), PictureId::Long(b)) => b == (a.wrapping_add(1) & 0x7FFF),
            _ => false,
        }
    }
}

/// The parsed payload descriptor at the front of every VP8 RTP payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadDescriptor {
    /// N: the frame is not used as a reference.
    pub non_reference: bool,
    /// S: this packet starts a VP8 partition.
    pub start_of_partition: bool,
    /// PID: partition index (0..=7).
    pub partition_index: u8,
    /// I: PictureID, if present.
    pub picture_id: Option<PictureId>,
    /// L: TL0PICIDX, if present.
    pub tl0_pic_idx: Option<u8>,
    /// T: temporal layer index and the Y (layer sync) bit, if present.
    pub temporal: Option<(u8, bool)>,
    /// K: temporal key-frame index, if present.
    pub key_idx: Option<u8>,
    /// Descriptor length in bytes: the VP8 payload starts here.
    pub len: usize,
}

impl PayloadDescriptor {
    /// True on the packet that starts a frame (S=1 and PID=0).
    pub fn starts_frame(&self) -> bool {
        self.start_of_partition && self.partition_index == 0
    }

    /// Parses the descriptor at the start of `payload`.
    pub fn parse(payload: &[u8]) -> Result<PayloadDescriptor, Vp8Error> {
        let &b0 = payload.first().ok_or(Vp8Error::EmptyPayload)?;
        let mut d = PayloadDescriptor {
            non_reference: b0 & 0x20 != 0,
            start_of_partition: b0 & 0x10 != 0,
            partition_index: b0 & 0x07,
            picture_id: None,
            tl0_pic_idx: None,
            temporal: None,
            key_idx: None,
            len: 1,
        };
        if b0 & 0x80 == 0 {
            return Ok(d);
        }
        let byte = |i: usize| payload.get(i).copied().ok_or(Vp8Error::TruncatedDescriptor);
        let x = byte(1)?;
        let mut off = 2;
        if x & 0x80 != 0 {
            let p = byte(off)?;
            if p & 0x80 != 0 {
                let lo = byte(off + 1)?;
                d.picture_id = Some(PictureId::Long(u16::from_be_bytes([p & 0x7F, lo])));
                off += 2;
            } else {
                d.picture_id = Some(PictureId::Short(p));
                off += 1;
            }
        }
        if x & 0x40 != 0 {
            d.tl0_pic_idx = Some(byte(off)?);
            off += 1;
        }
        if x & 0x30 != 0 {
            let tk = byte(off)?;
            if x & 0x20 != 0 {
                d.temporal = Some((tk >> 6, tk & 0x20 != 0));
            }
            if x & 0x10 != 0 {
                d.key_idx = Some(tk & 0x1F);
            }
            off += 1;
        }
        d.len = off;
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_extensions() {
        // X=1 N=1 S=1 PID=2; I L T K; 15-bit PictureID 0x1234; TL0 9; TID 2 Y KEYIDX 5.
        let p = [0xB2, 0xF0, 0x92, 0x34, 9, 0xA5, 0xEE];
        let d = PayloadDescriptor::parse(&p).unwrap();
        assert!(d.non_reference && d.start_of_partition && !d.starts_frame());
        assert_eq!(d.partition_index, 2);
        assert_eq!(d.picture_id, Some(PictureId::Long(0x1234)));
        assert_eq!(d.tl0_pic_idx, Some(9));
        assert_eq!(d.temporal, Some((2, true)));
        assert_eq!(d.key_idx, Some(5));
        assert_eq!(d.len, 6);
    }

    #[test]
    fn short_picture_id_and_truncation() {
        let d = PayloadDescriptor::parse(&[0x90, 0x80, 0x05, 0xAA]).unwrap();
        assert_eq!((d.picture_id, d.len), (Some(PictureId::Short(5)), 3));
        assert!(d.starts_frame());
        assert_eq!(
            PayloadDescriptor::parse(&[0x90, 0x80, 0x85]),
            Err(Vp8Error::TruncatedDescriptor)
        );
        assert_eq!(
            PayloadDescriptor::parse(&[0x80]),
            Err(Vp8Error::TruncatedDescriptor)
        );
        assert_eq!(PayloadDescriptor::parse(&[]), Err(Vp8Error::EmptyPayload));
        assert_eq!(PayloadDescriptor::parse(&[0x10]).unwrap().len, 1);
    }

    #[test]
    fn picture_id_succession_wraps() {
        assert!(PictureId::Long(0).follows(PictureId::Long(0x7FFF)));
        assert!(PictureId::Short(0).follows(PictureId::Short(127)));
        assert!(!PictureId::Long(3).follows(PictureId::Long(1)));
        assert!(!PictureId::Long(1).follows(PictureId::Short(0)));
    }
}

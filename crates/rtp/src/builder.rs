//! Writing RTP packets into caller-owned buffers.

use crate::{ExtensionElement, PayloadType, RtpError, RtpTimestamp, SeqNo, Ssrc};

/// Everything needed to write one RTP packet. Borrowed slices keep the
/// builder allocation-free; the caller reuses its output buffer.
#[derive(Debug, Clone, Copy)]
pub struct RtpBuilder<'a> {
    /// The M bit.
    pub marker: bool,
    /// Payload type.
    pub payload_type: PayloadType,
    /// Sequence number.
    pub sequence: SeqNo,
    /// Media timestamp.
    pub timestamp: RtpTimestamp,
    /// Synchronisation source.
    pub ssrc: Ssrc,
    /// Contributing sources (at most 15).
    pub csrcs: &'a [Ssrc],
    /// One-byte-form (`0xBEDE`) extension elements; X=1 when non-empty.
    /// Ids 1..=14, data 1..=16 bytes; the block is zero-padded to 4 bytes.
    pub extensions: &'a [ExtensionElement<'a>],
    /// Padding to append, counting the final count byte (0 = no padding,
    /// otherwise 1..=255; sets P=1).
    pub padding: u8,
}

impl<'a> RtpBuilder<'a> {
    /// A builder with no marker, CSRCs, extensions or padding.
    pub fn new(
        payload_type: PayloadType,
        sequence: SeqNo,
        timestamp: RtpTimestamp,
        ssrc: Ssrc,
    ) -> Self {
        RtpBuilder {
            marker: false,
            payload_type,
            sequence,
            timestamp,
            ssrc,
            csrcs: &[],
            extensions: &[],
            padding: 0,
        }
    }

    /// Bytes of extension elements before zero-padding to a word boundary.
    fn ext_elements_len(&self) -> Result<usize, RtpError> {
        let mut n = 0;
        for e in self.extensions {
            if !(1..=14).contains(&e.id) || !(1..=16).contains(&e.data.len()) {
                return Err(RtpError::BadExtensionSpec {
                    id: e.id,
                    len: e.data.len(),
                });
            }
            n += 1 + e.data.len();
        }
        Ok(n)
    }

    /// Header length (fixed + CSRCs + extension block) this builder writes.
    pub fn header_len(&self) -> Result<usize, RtpError> {
        if self.csrcs.len() > 15 {
            return Err(RtpError::TooManyCsrcs(self.csrcs.len()));
        }
        let mut len = 12 + 4 * self.csrcs.len();
        if !self.extensions.is_empty() {
            let words = self.ext_elements_len()?.div_ceil(4);
            if words > usize::from(u16::MAX) {
                return Err(RtpError::TooManyItems(words));
            }
            len += 4 + 4 * words;
        }
        Ok(len)
    }

    /// Total packet length for a payload of `payload_len` bytes.
    pub fn packet_len(&self, payload_len: usize) -> Result<usize, RtpError> {
        Ok(self.header_len()? + payload_len + usize::from(self.padding))
    }

    /// Writes the packet into `out` and returns the number of bytes
    /// written. Fails with [`RtpError::BufferTooSmall`] if `out` is short.
    pub fn write_to_slice(&self, payload: &[u8], out: &mut [u8]) -> Result<usize, RtpError> {
        let header_len = self.header_len()?;
        let total = header_len + payload.len() + usize::from(self.padding);
        let Some(out) = out.get_mut(..total) else {
            return Err(RtpError::BufferTooSmall {
                needed: total,
                got: out.len(),
            });
        };
        let mut b0 = 0x80 | self.csrcs.len() as u8;
        if self.padding > 0 {
            b0 |= 0x20;
        }
        if !self.extensions.is_empty() {
            b0 |= 0x10;
        }
        out[0] = b0;
        out[1] = self.payload_type.get() | if self.marker { 0x80 } else { 0 };
        out[2..4].copy_from_slice(&self.sequence.0.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.0.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.0.to_be_bytes());
        let mut at = 12;
        for c in self.csrcs {
            out[at..at + 4].copy_from_slice(&c.0.to_be_bytes());
            at += 4;
        }
        if !self.extensions.is_empty() {
            let words = ((header_len - at - 4) / 4) as u16;
            out[at..at + 2].copy_from_slice(&crate::ONE_BYTE_PROFILE.to_be_bytes());
            out[at + 2..at + 4].copy_from_slice(&words.to_be_bytes());
            at += 4;
            for e in self.extensions {
                out[at] = (e.id << 4) | (e.data.len() as u8 - 1);
                out[at + 1..at + 1 + e.data.len()].copy_from_slice(e.data);
                at += 1 + e.data.len();
            }
            out[at..header_len].fill(0);
            at = header_len;
        }
        out[at..at + payload.len()].copy_from_slice(payload);
        at += payload.len();
        if self.padding > 0 {
            out[at..total].fill(0);
            out[total - 1] = self.padding;
        }
        Ok(total)
    }

    /// Appends the packet to `out` (clear it first to reuse the buffer for
    /// each packet) and returns the number of bytes appended.
    pub fn write_to_vec(&self, payload: &[u8], out: &mut Vec<u8>) -> Result<usize, RtpError> {
        let total = self.packet_len(payload.len())?;
        let start = out.len();
        out.resize(start + total, 0);
        let res = self.write_to_slice(payload, &mut out[start..]);
        if res.is_err() {
            out.truncate(start);
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RtpPacket;

    #[test]
    fn writes_rfc_layout_byte_for_byte() {
        let ext = [ExtensionElement {
            id: 5,
            data: &[0xaa, 0xbb],
        }];
        let b = RtpBuilder {
            marker: true,
            csrcs: &[Ssrc(0x0a0b0c0d)],
            extensions: &ext,
            padding: 3,
            ..RtpBuilder::new(
                PayloadType::new(96).unwrap(),
                SeqNo(0x1234),
                RtpTimestamp(0xdeadbeef),
                Ssrc(0x01020304),
            )
        };
        let mut v = vec![0xff];
        assert_eq!(b.write_to_vec(&[1, 2, 3], &mut v), Ok(30));
        let expected = [
            0xff, // pre-existing byte is kept
            0xb1, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, //
            0x0a, 0x0b, 0x0c, 0x0d, //
            0xbe, 0xde, 0x00, 0x01, 0x51, 0xaa, 0xbb, 0x00, //
            0x01, 0x02, 0x03, 0x00, 0x00, 0x03,
        ];
        assert_eq!(v, expected);
        let p = RtpPacket::parse(&v[1..]).unwrap();
        assert_eq!(p.payload(), &[1, 2, 3]);
    }

    #[test]
    fn minimal_packet_and_errors() {
        let b = RtpBuilder::new(
            PayloadType::new(120).unwrap(),
            SeqNo(1),
            RtpTimestamp(960),
            Ssrc(7),
        );
        let mut buf = [0u8; 16];
        assert_eq!(b.write_to_slice(&[9, 9], &mut buf), Ok(14));
        assert_eq!(
            &buf[..14],
            &[0x80, 120, 0, 1, 0, 0, 0x03, 0xc0, 0, 0, 0, 7, 9, 9]
        );
        assert_eq!(
            b.write_to_slice(&[0; 5], &mut buf),
            Err(RtpError::BufferTooSmall {
                needed: 17,
                got: 16
            })
        );
        let bad = [ExtensionElement { id: 15, data: &[1] }];
        let b2 = RtpBuilder {
            extensions: &bad,
            ..b
        };
        let mut v = Vec::new();
        assert!(b2.write_to_vec(&[], &mut v).is_err());
        assert!(v.is_empty());
        let csrcs = [Ssrc(0); 16];
        let b3 = RtpBuilder { csrcs: &csrcs, ..b };
        assert_eq!(b3.header_len(), Err(RtpError::TooManyCsrcs(16)));
    }
}

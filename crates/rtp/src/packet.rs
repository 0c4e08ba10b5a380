//! Zero-copy RTP packet view (RFC 3550 §5.1) and the "rtpsize" helpers used
//! by Discord's transport encryption.

use std::ops::Range;

use crate::error::{be16, be32, need};
use crate::{HeaderExtension, PayloadType, RtpError, RtpTimestamp, SeqNo, Ssrc};

/// Size of the fixed RTP header.
pub const FIXED_HEADER_LEN: usize = 12;

/// A parsed, borrowed RTP packet. Construction validates every length, so
/// the accessors cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    buf: &'a [u8],
    /// End of the header including CSRCs and the whole extension block.
    header_len: usize,
    /// Offset of the extension preamble, when X=1.
    ext_at: Option<usize>,
    /// Number of trailing padding bytes (including the count byte).
    padding_len: usize,
}

impl<'a> RtpPacket<'a> {
    /// Parses and validates a plaintext RTP packet: version 2, CSRC list and
    /// extension block within bounds, and (if P=1) a padding count between 1
    /// and the bytes after the header. The payload excludes the padding.
    pub fn parse(buf: &'a [u8]) -> Result<Self, RtpError> {
        need(buf, FIXED_HEADER_LEN)?;
        let b0 = buf[0];
        let version = b0 >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        let cc = usize::from(b0 & 0x0f);
        let mut header_len = FIXED_HEADER_LEN + 4 * cc;
        need(buf, header_len)?;
        let mut ext_at = None;
        if b0 & 0x10 != 0 {
            need(buf, header_len + 4)?;
            let words = usize::from(be16(buf, header_len + 2)?);
            ext_at = Some(header_len);
            header_len += 4 + 4 * words;
            need(buf, header_len)?;
        }
        let mut padding_len = 0;
        if b0 & 0x20 != 0 {
            let available = buf.len() - header_len;
            let count = buf.last().copied().unwrap_or(0);
            if count == 0 || usize::from(count) > available {
                return Err(RtpError::BadPadding { count, available });
            }
            padding_len = usize::from(count);
        }
        Ok(RtpPacket {
            buf,
            header_len,
            ext_at,
            padding_len,
        })
    }

    /// The whole datagram this view was parsed from.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Version field (always 2 after a successful parse).
    pub fn version(&self) -> u8 {
        self.buf[0] >> 6
    }

    /// The P flag.
    pub fn has_padding(&self) -> bool {
        self.buf[0] & 0x20 != 0
    }

    /// The X flag.
    pub fn has_extension(&self) -> bool {
        self.buf[0] & 0x10 != 0
    }

    /// Number of CSRCs (CC field).
    pub fn csrc_count(&self) -> usize {
        usize::from(self.buf[0] & 0x0f)
    }

    /// The M bit.
    pub fn marker(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }

    /// The payload type.
    pub fn payload_type(&self) -> PayloadType {
        PayloadType::from_header_byte(self.buf[1])
    }

    /// The sequence number.
    pub fn sequence(&self) -> SeqNo {
        SeqNo(u16::from_be_bytes([self.buf[2], self.buf[3]]))
    }

    /// The media timestamp.
    pub fn timestamp(&self) -> RtpTimestamp {
        RtpTimestamp(u32::from_be_bytes([
            self.buf[4],
            self.buf[5],
            self.buf[6],
            self.buf[7],
        ]))
    }

    /// The SSRC.
    pub fn ssrc(&self) -> Ssrc {
        Ssrc(u32::from_be_bytes([
            self.buf[8],
            self.buf[9],
            self.buf[10],
            self.buf[11],
        ]))
    }

    /// The contributing sources.
    pub fn csrcs(&self) -> impl Iterator<Item = Ssrc> + 'a {
        let end = FIXED_HEADER_LEN + 4 * self.csrc_count();
        self.buf[FIXED_HEADER_LEN..end]
            .chunks_exact(4)
            .map(|c| Ssrc(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
    }

    /// The header extension block, when X=1.
    pub fn extension(&self) -> Option<HeaderExtension<'a>> {
        let at = self.ext_at?;
        let profile = be16(self.buf, at).ok()?;
        Some(HeaderExtension {
            profile,
            data: self.buf.get(at + 4..self.header_len)?,
        })
    }

    /// Length of the full header (fixed + CSRCs + extension block).
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// Byte range of the payload within [`Self::as_bytes`] (padding excluded).
    pub fn payload_range(&self) -> Range<usize> {
        self.header_len..self.buf.len() - self.padding_len
    }

    /// The payload, padding excluded.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.payload_range()]
    }

    /// Number of padding bytes removed (0 when P=0).
    pub fn padding_len(&self) -> usize {
        self.padding_len
    }
}

/// Length of the part of an RTP header that Discord's "rtpsize" modes leave
/// in the clear and authenticate: `12 + 4*CC + (X ? 4 : 0)`. The extension
/// *elements* are not included — they are encrypted with the payload.
///
/// Fails when `packet` is shorter than that length.
pub fn rtpsize_header_len(packet: &[u8]) -> Result<usize, RtpError> {
    need(packet, FIXED_HEADER_LEN)?;
    let b0 = packet[0];
    let len = FIXED_HEADER_LEN + 4 * usize::from(b0 & 0x0f) + if b0 & 0x10 != 0 { 4 } else { 0 };
    need(packet, len)?;
    Ok(len)
}

/// The pieces of a decrypted rtpsize packet body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpSizeParts<'a> {
    /// The extension block (profile from the clear preamble, elements from
    /// the decrypted body), when X=1.
    pub extension: Option<HeaderExtension<'a>>,
    /// The media payload, with extension elements and padding removed.
    pub payload: &'a [u8],
    /// Number of padding bytes removed.
    pub padding_len: usize,
}

/// Splits the decrypted body of an rtpsize packet.
///
/// `clear_header` is the clear part (exactly [`rtpsize_header_len`] bytes,
/// ending with the extension preamble when X=1) and `plaintext` is what
/// decrypting the rest produced. Skips `4 * length` bytes of extension
/// elements (length from the preamble) and strips padding when P=1.
///
/// If the two halves are contiguous in memory, parsing them together with
/// [`RtpPacket::parse`] gives the same answer; this helper is for callers
/// that decrypted into a separate buffer.
pub fn split_rtpsize_plaintext<'a>(
    clear_header: &'a [u8],
    plaintext: &'a [u8],
) -> Result<RtpSizeParts<'a>, RtpError> {
    let hlen = rtpsize_header_len(clear_header)?;
    let b0 = clear_header[0];
    let mut start = 0;
    let mut extension = None;
    if b0 & 0x10 != 0 {
        let profile = be16(clear_header, hlen - 4)?;
        let words = usize::from(be16(clear_header, hlen - 2)?);
        start = 4 * words;
        need(plaintext, start)?;
        extension = Some(HeaderExtension {
            profile,
            data: &plaintext[..start],
        });
    }
    let mut end = plaintext.len();
    let mut padding_len = 0;
    if b0 & 0x20 != 0 {
        let available = end - start;
        let count = plaintext.last().copied().unwrap_or(0);
        if count == 0 || usize::from(count) > available {
            return Err(RtpError::BadPadding { count, available });
        }
        padding_len = usize::from(count);
        end -= padding_len;
    }
    Ok(RtpSizeParts {
        extension,
        payload: &plaintext[start..end],
        padding_len,
    })
}

/// Reads the sequence number of a (possibly encrypted) RTP datagram without
/// full validation: useful for logging before decryption.
pub fn peek_sequence(packet: &[u8]) -> Option<SeqNo> {
    be16(packet, 2).ok().map(SeqNo)
}

/// Reads the SSRC of a (possibly encrypted) RTP datagram without full
/// validation: the SSRC is always in the clear.
pub fn peek_ssrc(packet: &[u8]) -> Option<Ssrc> {
    be32(packet, 8).ok().map(Ssrc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3550 §5.1 layout written by hand: V=2 P=1 X=1 CC=1, M=1 PT=96,
    /// seq 0x1234, ts 0xdeadbeef, ssrc 0x01020304, csrc 0x0a0b0c0d,
    /// extension 0xBEDE len 1 (id 5 len 2: aa bb, one pad byte),
    /// payload 01 02 03, padding 3 bytes (00 00 03).
    const PKT: [u8; 34] = [
        0xb1, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, //
        0x0a, 0x0b, 0x0c, 0x0d, //
        0xbe, 0xde, 0x00, 0x01, 0x51, 0xaa, 0xbb, 0x00, //
        0x01, 0x02, 0x03, //
        0x00, 0x00, 0x03, //
        0, 0, 0, 0,
    ];

    fn pkt() -> &'static [u8] {
        &PKT[..30]
    }

    #[test]
    fn parses_every_field() {
        let p = RtpPacket::parse(pkt()).unwrap();
        assert_eq!(p.version(), 2);
        assert!(p.has_padding() && p.has_extension() && p.marker());
        assert_eq!(p.payload_type().get(), 96);
        assert_eq!(p.sequence(), SeqNo(0x1234));
        assert_eq!(p.timestamp(), RtpTimestamp(0xdeadbeef));
        assert_eq!(p.ssrc(), Ssrc(0x01020304));
        assert_eq!(p.csrcs().collect::<Vec<_>>(), vec![Ssrc(0x0a0b0c0d)]);
        let ext = p.extension().unwrap();
        assert_eq!(ext.profile, 0xBEDE);
        assert_eq!(ext.find(5), Some(&[0xaa, 0xbb][..]));
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.payload(), &[1, 2, 3]);
        assert_eq!(p.payload_range(), 24..27);
        assert_eq!(p.padding_len(), 3);
        assert_eq!(peek_ssrc(pkt()), Some(Ssrc(0x01020304)));
        assert_eq!(peek_sequence(pkt()), Some(SeqNo(0x1234)));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(
            RtpPacket::parse(&pkt()[..11]),
            Err(RtpError::TooShort { .. })
        ));
        let mut v = pkt().to_vec();
        v[0] = 0x71;
        assert_eq!(RtpPacket::parse(&v), Err(RtpError::BadVersion(1)));
        // Extension length pointing past the end.
        let mut v = pkt().to_vec();
        v[19] = 9;
        assert!(matches!(
            RtpPacket::parse(&v),
            Err(RtpError::TooShort { .. })
        ));
        // Padding count 0 and padding count larger than the body.
        let mut v = pkt().to_vec();
        v[29] = 0;
        assert!(matches!(
            RtpPacket::parse(&v),
            Err(RtpError::BadPadding { count: 0, .. })
        ));
        v[29] = 7;
        assert_eq!(
            RtpPacket::parse(&v),
            Err(RtpError::BadPadding {
                count: 7,
                available: 6
            })
        );
        // All-padding packet is valid with an empty payload.
        v[29] = 6;
        assert_eq!(RtpPacket::parse(&v).unwrap().payload(), &[] as &[u8]);
    }

    #[test]
    fn rtpsize_split() {
        assert_eq!(rtpsize_header_len(pkt()), Ok(20));
        assert_eq!(rtpsize_header_len(&[0x80; 12]), Ok(12));
        assert!(rtpsize_header_len(&pkt()[..19]).is_err());
        let (clear, body) = pkt().split_at(20);
        let parts = split_rtpsize_plaintext(clear, body).unwrap();
        assert_eq!(parts.payload, &[1, 2, 3]);
        assert_eq!(parts.padding_len, 3);
        assert_eq!(parts.extension.unwrap().find(5), Some(&[0xaa, 0xbb][..]));
        assert!(split_rtpsize_plaintext(clear, &body[..3]).is_err());
    }
}

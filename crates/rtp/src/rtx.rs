//! RTX retransmission payload format (RFC 4588 §4): an RTX packet carries
//! the original sequence number (OSN, 2 bytes BE) followed by the original
//! payload, on its own SSRC, payload type and sequence space.

use crate::error::need;
use crate::{PayloadType, RtpError, RtpPacket, SeqNo, Ssrc};

/// The association between an RTX stream and its primary stream
/// (Discord announces `rtx_ssrc` per stream and `rtx_payload_type` per codec).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtxMapping {
    /// SSRC of the RTX stream.
    pub rtx_ssrc: Ssrc,
    /// Payload type of the RTX stream.
    pub rtx_pt: PayloadType,
    /// SSRC of the primary (original) stream.
    pub primary_ssrc: Ssrc,
    /// Payload type of the primary stream (SDP `apt`).
    pub primary_pt: PayloadType,
}

/// Zero-copy view of an RTX packet's contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtxPayload<'a> {
    /// The original sequence number.
    pub osn: SeqNo,
    /// The original payload (padding already excluded).
    pub payload: &'a [u8],
}

impl RtxMapping {
    /// True when `packet` belongs to the RTX stream of this mapping.
    pub fn matches(&self, packet: &RtpPacket<'_>) -> bool {
        packet.ssrc() == self.rtx_ssrc && packet.payload_type() == self.rtx_pt
    }

    /// Reads the OSN and original payload without copying. Fails with
    /// [`RtpError::NotRtx`] for packets of another stream and
    /// [`RtpError::TooShort`] when the payload cannot hold the OSN.
    pub fn view<'a>(&self, packet: &RtpPacket<'a>) -> Result<RtxPayload<'a>, RtpError> {
        if !self.matches(packet) {
            return Err(RtpError::NotRtx);
        }
        let p = packet.payload();
        need(p, 2)?;
        Ok(RtxPayload {
            osn: SeqNo(u16::from_be_bytes([p[0], p[1]])),
            payload: &p[2..],
        })
    }

    /// Rebuilds the original packet into `out` (appended; returns bytes
    /// written): the RTX header, CSRCs and extension block are copied, the
    /// SSRC and payload type become the primary ones, the sequence number
    /// becomes the OSN, the OSN is removed from the payload and any padding
    /// is dropped (P=0). Timestamp and marker are kept, as RFC 4588 requires
    /// them to equal the original's.
    pub fn unwrap_into(
        &self,
        packet: &RtpPacket<'_>,
        out: &mut Vec<u8>,
    ) -> Result<usize, RtpError> {
        let view = self.view(packet)?;
        rewrite(
            packet,
            self.primary_ssrc,
            self.primary_pt,
            view.osn,
            None,
            view.payload,
            out,
        )
    }

    /// Wraps an original packet for retransmission into `out` (appended;
    /// returns bytes written): SSRC and payload type become the RTX ones,
    /// the sequence number becomes `rtx_seq` (the RTX stream's own counter),
    /// the payload is prefixed with the original sequence number, padding is
    /// dropped.
    pub fn wrap_into(
        &self,
        original: &RtpPacket<'_>,
        rtx_seq: SeqNo,
        out: &mut Vec<u8>,
    ) -> Result<usize, RtpError> {
        rewrite(
            original,
            self.rtx_ssrc,
            self.rtx_pt,
            rtx_seq,
            Some(original.sequence()),
            original.payload(),
            out,
        )
    }
}

/// Copies `packet`'s header with new ssrc/pt/seq and P cleared, then an
/// optional OSN prefix and `payload`.
fn rewrite(
    packet: &RtpPacket<'_>,
    ssrc: Ssrc,
    pt: PayloadType,
    seq: SeqNo,
    osn: Option<SeqNo>,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<usize, RtpError> {
    let header = packet
        .as_bytes()
        .get(..packet.header_len())
        .ok_or(RtpError::TooShort {
            needed: packet.header_len(),
            got: packet.as_bytes().len(),
        })?;
    let start = out.len();
    out.extend_from_slice(header);
    let h = &mut out[start..];
    // `header` is at least the 12-byte fixed header (validated by parse).
    h[0] &= !0x20;
    h[1] = (h[1] & 0x80) | pt.get();
    h[2..4].copy_from_slice(&seq.0.to_be_bytes());
    h[8..12].copy_from_slice(&ssrc.0.to_be_bytes());
    if let Some(osn) = osn {
        out.extend_from_slice(&osn.0.to_be_bytes());
    }
    out.extend_from_slice(payload);
    Ok(out.len() - start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> RtxMapping {
        RtxMapping {
            rtx_ssrc: Ssrc(0x22),
            rtx_pt: PayloadType::new(104).unwrap(),
            primary_ssrc: Ssrc(0x11),
            primary_pt: PayloadType::new(103).unwrap(),
        }
    }

    #[test]
    fn unwrap_hand_written_rtx_packet() {
        // RTX: V=2 P=1 X=1, M=1 PT=104, seq 500, ts 9000, ssrc 0x22,
        // ext BEDE len 1 (id 12 len 1 "r" + 2 pad), OSN 0xfffe, payload
        // 7 8 9, padding 2.
        let rtx = [
            0xb0, 0xe8, 0x01, 0xf4, 0, 0, 0x23, 0x28, 0, 0, 0, 0x22, //
            0xbe, 0xde, 0, 1, 0xc0, b'r', 0, 0, //
            0xff, 0xfe, 7, 8, 9, 0, 2,
        ];
        let p = RtpPacket::parse(&rtx).unwrap();
        let m = mapping();
        assert_eq!(
            m.view(&p),
            Ok(RtxPayload {
                osn: SeqNo(0xfffe),
                payload: &[7, 8, 9]
            })
        );
        let mut out = Vec::new();
        assert_eq!(m.unwrap_into(&p, &mut out), Ok(23));
        let expected = [
            0x90, 0xe7, 0xff, 0xfe, 0, 0, 0x23, 0x28, 0, 0, 0, 0x11, //
            0xbe, 0xde, 0, 1, 0xc0, b'r', 0, 0, //
            7, 8, 9,
        ];
        assert_eq!(out, expected);
        // And back again.
        let orig = RtpPacket::parse(&out).unwrap();
        let mut again = Vec::new();
        m.wrap_into(&orig, SeqNo(500), &mut again).unwrap();
        let mut no_pad = rtx[..25].to_vec();
        no_pad[0] &= !0x20;
        assert_eq!(again, no_pad);
    }

    #[test]
    fn rejects_foreign_and_short() {
        let m = mapping();
        let short = [0x80, 104, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x22, 0xaa];
        let p = RtpPacket::parse(&short).unwrap();
        assert!(matches!(m.view(&p), Err(RtpError::TooShort { .. })));
        let other = [0x80, 103, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x22, 0, 1];
        let p = RtpPacket::parse(&other).unwrap();
        assert_eq!(m.view(&p), Err(RtpError::NotRtx));
        let mut out = Vec::new();
        assert!(m.unwrap_into(&p, &mut out).is_err());
        assert!(out.is_empty());
    }
}

//! One outgoing RTP stream to one receiver: its sequence space (the SFU
//! rewrites sequence numbers per receiver; each simulcast layer is its own
//! stream with its own SSRC),
//! a bounded history answering NACKs with RTX, and sender-report counters.

use std::time::{Duration, Instant};

use rtp::rtcp::SenderInfo;
use rtp::{
    ExtensionElement, PayloadType, RtpBuilder, RtpPacket, RtpTimestamp, RtxMapping, SeqNo, Ssrc,
};

/// Packets kept for retransmission per stream (about 2 s of 720p video).
pub(crate) const HISTORY: usize = 512;

/// Interval between RTCP sender reports per stream.
pub(crate) const SR_INTERVAL: Duration = Duration::from_secs(5);

/// Playout-delay extension (id 5, min = max = 0) that Discord's senders put
/// on every video packet; it is encrypted with the payload in rtpsize modes,
/// which is exactly what a receiver must cope with.
const PLAYOUT_DELAY: [u8; 3] = [0, 0, 0];

/// What one packet looks like before encryption.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PacketSpec<'a> {
    /// Payload type as the receiver declared it.
    pub pt: u8,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Marker bit.
    pub marker: bool,
    /// Carry the playout-delay header extension (video).
    pub extension: bool,
    /// RTP padding bytes to add (0 = none).
    pub padding: u8,
    /// The payload (may be empty for an all-padding packet).
    pub payload: &'a [u8],
}

/// State of one (receiver, source SSRC) stream.
#[derive(Debug)]
pub(crate) struct EgressStream {
    /// SSRC the receiver sees.
    pub ssrc: u32,
    /// `(rtx ssrc, rtx payload type)` for retransmissions, if the receiver
    /// declared an RTX payload type for this codec.
    pub rtx: Option<(u32, u8)>,
    next_seq: u16,
    rtx_seq: u16,
    /// Ring of plaintext packets indexed by `seq % HISTORY`.
    history: Vec<Option<Vec<u8>>>,
    packets: u32,
    octets: u32,
    last_timestamp: u32,
    last_sr: Option<Instant>,
}

impl EgressStream {
    /// A stream whose generated sequence numbers start at `first_seq`.
    pub(crate) fn new(ssrc: u32, first_seq: u16, rtx: Option<(u32, u8)>) -> Self {
        Self {
            ssrc,
            rtx,
            next_seq: first_seq,
            rtx_seq: first_seq.wrapping_mul(7),
            history: vec![None; HISTORY],
            packets: 0,
            octets: 0,
            last_timestamp: 0,
            last_sr: None,
        }
    }

    /// Takes the next sequence number of the generated sequence space.
    pub(crate) fn take_seq(&mut self) -> u16 {
        let s = self.next_seq;
        self.next_seq = s.wrapping_add(1);
        s
    }

    /// Writes a plaintext packet into `out` (cleared first), remembers it
    /// for retransmission and counts it.
    pub(crate) fn build(&mut self, seq: u16, spec: &PacketSpec<'_>, out: &mut Vec<u8>) -> bool {
        out.clear();
        let ext = [ExtensionElement {
            id: 5,
            data: &PLAYOUT_DELAY,
        }];
        let Ok(pt) = PayloadType::new(spec.pt) else {
            return false;
        };
        let mut b = RtpBuilder::new(
            pt,
            SeqNo(seq),
            RtpTimestamp(spec.timestamp),
            Ssrc(self.ssrc),
        );
        b.marker = spec.marker;
        b.padding = spec.padding;
        if spec.extension {
            b.extensions = &ext;
        }
        if b.write_to_vec(spec.payload, out).is_err() {
            return false;
        }
        let slot = usize::from(seq) % HISTORY;
        if let Some(h) = self.history.get_mut(slot) {
            match h {
                Some(buf) => {
                    buf.clear();
                    buf.extend_from_slice(out);
                }
                None => *h = Some(out.clone()),
            }
        }
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(spec.payload.len() as u32);
        self.last_timestamp = spec.timestamp;
        true
    }

    /// Writes a retransmission of `seq` into `out` (cleared first): RTX on
    /// `rtx = (ssrc, payload type)` or the original packet when the
    /// receiver declared no RTX payload type. False if not in the history.
    pub(crate) fn retransmit(
        &mut self,
        seq: u16,
        rtx: Option<(u32, u8)>,
        out: &mut Vec<u8>,
    ) -> bool {
        out.clear();
        let Some(Some(stored)) = self.history.get(usize::from(seq) % HISTORY) else {
            return false;
        };
        let Ok(pkt) = RtpPacket::parse(stored) else {
            return false;
        };
        if pkt.sequence() != SeqNo(seq) {
            return false;
        }
        match rtx.and_then(|(s, pt)| PayloadType::new(pt).ok().map(|pt| (s, pt))) {
            Some((rtx_ssrc, rtx_pt)) => {
                let map = RtxMapping {
                    rtx_ssrc: Ssrc(rtx_ssrc),
                    rtx_pt,
                    primary_ssrc: pkt.ssrc(),
                    primary_pt: pkt.payload_type(),
                };
                let rtx_seq = SeqNo(self.rtx_seq);
                self.rtx_seq = self.rtx_seq.wrapping_add(1);
                map.wrap_into(&pkt, rtx_seq, out).is_ok()
            }
            None => {
                out.extend_from_slice(stored);
                true
            }
        }
    }

    /// A sender report is due (first one after the first packet).
    pub(crate) fn sr_due(&self, now: Instant) -> bool {
        self.packets > 0
            && self
                .last_sr
                .is_none_or(|t| now.duration_since(t) >= SR_INTERVAL)
    }

    /// Sender info for an SR sent now; marks the SR as sent.
    pub(crate) fn sender_info(&mut self, now: Instant, ntp_timestamp: u64) -> SenderInfo {
        self.last_sr = Some(now);
        SenderInfo {
            ntp_timestamp,
            rtp_timestamp: self.last_timestamp,
            packet_count: self.packets,
            octet_count: self.octets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nack_answered_with_rtx_carrying_the_original() {
        let mut e = EgressStream::new(1000, 65_534, None);
        let mut buf = Vec::new();
        let mut seqs = Vec::new();
        for i in 0..4u8 {
            let seq = e.take_seq();
            seqs.push(seq);
            let spec = PacketSpec {
                pt: 101,
                timestamp: 90 * u32::from(i),
                marker: true,
                extension: true,
                padding: 0,
                payload: &[i; 10],
            };
            assert!(e.build(seq, &spec, &mut buf));
        }
        assert_eq!(seqs, vec![65_534, 65_535, 0, 1]);
        assert!(e.retransmit(0, Some((1001, 102)), &mut buf));
        let p = RtpPacket::parse(&buf).unwrap();
        assert_eq!(p.ssrc(), Ssrc(1001));
        assert_eq!(p.payload_type().get(), 102);
        assert_eq!(&p.payload()[..2], &[0, 0]);
        assert_eq!(&p.payload()[2..], &[2u8; 10]);
        assert!(e.retransmit(65_535, None, &mut buf));
        assert_eq!(RtpPacket::parse(&buf).unwrap().sequence(), SeqNo(65_535));
        assert!(!e.retransmit(500, None, &mut buf));
    }
}

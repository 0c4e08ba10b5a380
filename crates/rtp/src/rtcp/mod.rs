//! RTCP (RFC 3550 §6, RFC 4585, RFC 5104): demultiplexing, a compound-packet
//! iterator yielding typed views, and builders (see [`build`]).

pub mod build;

use crate::error::{be16, be32, need};
use crate::{RtpError, SeqNo, Ssrc};

/// RTCP packet type: sender report.
pub const PT_SR: u8 = 200;
/// RTCP packet type: receiver report.
pub const PT_RR: u8 = 201;
/// RTCP packet type: source description.
pub const PT_SDES: u8 = 202;
/// RTCP packet type: goodbye.
pub const PT_BYE: u8 = 203;
/// RTCP packet type: application-defined.
pub const PT_APP: u8 = 204;
/// RTCP packet type: transport-layer feedback (RFC 4585).
pub const PT_RTPFB: u8 = 205;
/// RTCP packet type: payload-specific feedback (RFC 4585).
pub const PT_PSFB: u8 = 206;

/// RFC 5761 §4 demultiplexing of RTP and RTCP on one socket: RTCP when the
/// second byte is in 192..=223. The test is `byte1 & 0x7f` in 64..=95, which
/// also sends RTP payload types 64–95 without the marker bit to the RTCP
/// side: RFC 5761 forbids those payload types on a multiplexed session for
/// exactly this reason, so they can only be junk either way. This covers
/// SR/RR/SDES/BYE/APP *and* RTPFB/PSFB (NACK, PLI, FIR), which a
/// 200..=204-only filter would miss.
pub fn is_rtcp(datagram: &[u8]) -> bool {
    match datagram.get(1) {
        Some(&b) => (64..=95).contains(&(b & 0x7f)),
        None => false,
    }
}

/// Sender information of an SR (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// 64-bit NTP timestamp (seconds since 1900 in the high 32 bits).
    pub ntp_timestamp: u64,
    /// RTP timestamp corresponding to `ntp_timestamp`.
    pub rtp_timestamp: u32,
    /// Packets sent since the start.
    pub packet_count: u32,
    /// Payload octets sent since the start.
    pub octet_count: u32,
}

/// One reception report block (RFC 3550 §6.4.1), 24 bytes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// Source this block reports on.
    pub ssrc: Ssrc,
    /// Fraction lost since the previous report, in 1/256 units.
    pub fraction_lost: u8,
    /// Cumulative packets lost (24-bit signed on the wire; clamped when
    /// written).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles << 16 | seq).
    pub extended_highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the last SR's NTP timestamp (0 if none).
    pub last_sr: u32,
    /// Delay since the last SR, in 1/65536 s (0 if none).
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    /// Size of a report block on the wire.
    pub const LEN: usize = 24;

    fn parse(b: &[u8]) -> Result<Self, RtpError> {
        need(b, Self::LEN)?;
        let lost = be32(b, 4)?;
        // Sign-extend the 24-bit cumulative loss.
        let cumulative_lost = ((lost << 8) as i32) >> 8;
        Ok(ReportBlock {
            ssrc: Ssrc(be32(b, 0)?),
            fraction_lost: (lost >> 24) as u8,
            cumulative_lost,
            extended_highest_seq: be32(b, 8)?,
            jitter: be32(b, 12)?,
            last_sr: be32(b, 16)?,
            delay_since_last_sr: be32(b, 20)?,
        })
    }
}

/// Iterator over report blocks; the length was validated when the packet
/// was parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportBlocks<'a> {
    data: &'a [u8],
}

impl Iterator for ReportBlocks<'_> {
    type Item = ReportBlock;
    fn next(&mut self) -> Option<ReportBlock> {
        let block = ReportBlock::parse(self.data).ok()?;
        self.data = self.data.get(ReportBlock::LEN..)?;
        Some(block)
    }
}

/// A sender report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderReport<'a> {
    /// The sender.
    pub ssrc: Ssrc,
    /// Its sender information.
    pub info: SenderInfo,
    /// Report blocks.
    pub blocks: ReportBlocks<'a>,
}

/// A receiver report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverReport<'a> {
    /// The reporter.
    pub ssrc: Ssrc,
    /// Report blocks.
    pub blocks: ReportBlocks<'a>,
}

/// A generic NACK (RTPFB FMT 1, RFC 4585 §6.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nack<'a> {
    /// Who asks.
    pub sender_ssrc: Ssrc,
    /// The media stream with the losses.
    pub media_ssrc: Ssrc,
    /// Raw FCI: PID/BLP pairs, 4 bytes each.
    fci: &'a [u8],
}

impl<'a> Nack<'a> {
    /// The (PID, BLP) pairs.
    pub fn pairs(&self) -> impl Iterator<Item = (SeqNo, u16)> + 'a {
        self.fci.chunks_exact(4).map(|c| {
            (
                SeqNo(u16::from_be_bytes([c[0], c[1]])),
                u16::from_be_bytes([c[2], c[3]]),
            )
        })
    }

    /// Every sequence number requested: each PID followed by PID+i+1 for
    /// each bit i set in its BLP.
    pub fn lost_sequences(&self) -> impl Iterator<Item = SeqNo> + 'a {
        self.pairs().flat_map(|(pid, blp)| {
            std::iter::once(pid).chain(
                (0..16u16)
                    .filter(move |i| blp & (1 << i) != 0)
                    .map(move |i| pid.wrapping_add(i + 1)),
            )
        })
    }
}

/// One FIR entry (RFC 5104 §4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirEntry {
    /// Media sender that should send a keyframe.
    pub ssrc: Ssrc,
    /// Command sequence number (incremented per new request).
    pub seq_nr: u8,
}

/// A full intra request (PSFB FMT 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fir<'a> {
    /// Who asks.
    pub sender_ssrc: Ssrc,
    /// Raw FCI entries, 8 bytes each.
    fci: &'a [u8],
}

impl<'a> Fir<'a> {
    /// The entries.
    pub fn entries(&self) -> impl Iterator<Item = FirEntry> + 'a {
        self.fci.chunks_exact(8).map(|c| FirEntry {
            ssrc: Ssrc(u32::from_be_bytes([c[0], c[1], c[2], c[3]])),
            seq_nr: c[4],
        })
    }
}

/// One typed packet of a compound RTCP datagram. Bodies of packet types
/// this crate does not interpret are kept opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcpPacket<'a> {
    /// SR (200).
    SenderReport(SenderReport<'a>),
    /// RR (201).
    ReceiverReport(ReceiverReport<'a>),
    /// SDES (202), not interpreted.
    SourceDescription {
        /// Chunk count (SC field).
        count: u8,
        /// The chunks.
        data: &'a [u8],
    },
    /// BYE (203).
    Bye {
        /// Leaving sources (SC field entries).
        sources: &'a [u8],
        /// Optional reason text (raw bytes).
        reason: Option<&'a [u8]>,
    },
    /// APP (204), not interpreted.
    App {
        /// Subtype (count field).
        subtype: u8,
        /// Source.
        ssrc: Ssrc,
        /// Four-character name.
        name: [u8; 4],
        /// Application data.
        data: &'a [u8],
    },
    /// Generic NACK (205, FMT 1).
    Nack(Nack<'a>),
    /// Picture loss indication (206, FMT 1).
    Pli {
        /// Who asks.
        sender_ssrc: Ssrc,
        /// Stream that should send a keyframe.
        media_ssrc: Ssrc,
    },
    /// Full intra request (206, FMT 4).
    Fir(Fir<'a>),
    /// Any other packet type or feedback format.
    Unknown {
        /// Packet type.
        pt: u8,
        /// Count/FMT field.
        fmt: u8,
        /// Body after the 4-byte header, padding removed.
        body: &'a [u8],
    },
}

impl RtcpPacket<'_> {
    /// Iterates a BYE's leaving sources (empty for other packets).
    pub fn bye_sources(&self) -> impl Iterator<Item = Ssrc> + '_ {
        let data: &[u8] = match self {
            RtcpPacket::Bye { sources, .. } => sources,
            _ => &[],
        };
        data.chunks_exact(4)
            .map(|c| Ssrc(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
    }
}

/// Iterates the packets of a (plaintext) compound RTCP datagram. A
/// malformed packet yields one `Err` and ends the iteration, since the
/// remaining boundaries cannot be trusted.
pub fn parse_compound(datagram: &[u8]) -> RtcpPackets<'_> {
    RtcpPackets { rest: datagram }
}

/// See [`parse_compound`].
#[derive(Debug, Clone)]
pub struct RtcpPackets<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for RtcpPackets<'a> {
    type Item = Result<RtcpPacket<'a>, RtpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let res = parse_one(self.rest);
        match res {
            Ok((pkt, used)) => {
                self.rest = self.rest.get(used..).unwrap_or(&[]);
                Some(Ok(pkt))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

fn ssrc_at(b: &[u8], at: usize) -> Result<Ssrc, RtpError> {
    be32(b, at).map(Ssrc)
}

/// Parses one packet at the start of `buf`; returns it and its length.
fn parse_one(buf: &[u8]) -> Result<(RtcpPacket<'_>, usize), RtpError> {
    need(buf, 4)?;
    let b0 = buf[0];
    let version = b0 >> 6;
    if version != 2 {
        return Err(RtpError::BadVersion(version));
    }
    let count = b0 & 0x1f;
    let pt = buf[1];
    let bad = RtpError::BadRtcp { pt };
    let total = (usize::from(be16(buf, 2)?) + 1) * 4;
    let Some(pkt) = buf.get(..total) else {
        return Err(RtpError::TooShort {
            needed: total,
            got: buf.len(),
        });
    };
    let mut body = &pkt[4..];
    if b0 & 0x20 != 0 {
        let pad = pkt.last().copied().unwrap_or(0);
        if pad == 0 || usize::from(pad) > body.len() {
            return Err(RtpError::BadPadding {
                count: pad,
                available: body.len(),
            });
        }
        body = &body[..body.len() - usize::from(pad)];
    }
    let blocks_of = |at: usize| -> Result<ReportBlocks<'_>, RtpError> {
        let n = usize::from(count) * ReportBlock::LEN;
        body.get(at..at + n)
            .map(|data| ReportBlocks { data })
            .ok_or(RtpError::BadRtcp { pt })
    };
    let packet = match pt {
        PT_SR => {
            if body.len() < 24 {
                return Err(bad);
            }
            RtcpPacket::SenderReport(SenderReport {
                ssrc: ssrc_at(body, 0)?,
                info: SenderInfo {
                    ntp_timestamp: (u64::from(be32(body, 4)?) << 32) | u64::from(be32(body, 8)?),
                    rtp_timestamp: be32(body, 12)?,
                    packet_count: be32(body, 16)?,
                    octet_count: be32(body, 20)?,
                },
                blocks: blocks_of(24)?,
            })
        }
        PT_RR => {
            if body.len() < 4 {
                return Err(bad);
            }
            RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: ssrc_at(body, 0)?,
                blocks: blocks_of(4)?,
            })
        }
        PT_SDES => RtcpPacket::SourceDescription { count, data: body },
        PT_BYE => {
            let n = usize::from(count) * 4;
            let sources = body.get(..n).ok_or(RtpError::BadRtcp { pt })?;
            let reason = match body.get(n) {
                None => None,
                Some(&len) => Some(
                    body.get(n + 1..n + 1 + usize::from(len))
                        .ok_or(RtpError::BadRtcp { pt })?,
                ),
            };
            RtcpPacket::Bye { sources, reason }
        }
        PT_APP => {
            let name = match body.get(4..8) {
                Some(&[a, b, c, d]) => [a, b, c, d],
                _ => return Err(bad),
            };
            RtcpPacket::App {
                subtype: count,
                ssrc: ssrc_at(body, 0)?,
                name,
                data: &body[8..],
            }
        }
        PT_RTPFB | PT_PSFB => {
            if body.len() < 8 {
                return Err(bad);
            }
            let sender_ssrc = ssrc_at(body, 0)?;
            let media_ssrc = ssrc_at(body, 4)?;
            let fci = &body[8..];
            match (pt, count) {
                (PT_RTPFB, 1) => {
                    if fci.is_empty() || fci.len() % 4 != 0 {
                        return Err(bad);
                    }
                    RtcpPacket::Nack(Nack {
                        sender_ssrc,
                        media_ssrc,
                        fci,
                    })
                }
                (PT_PSFB, 1) => RtcpPacket::Pli {
                    sender_ssrc,
                    media_ssrc,
                },
                (PT_PSFB, 4) => {
                    if fci.is_empty() || fci.len() % 8 != 0 {
                        return Err(bad);
                    }
                    RtcpPacket::Fir(Fir { sender_ssrc, fci })
                }
                _ => RtcpPacket::Unknown {
                    pt,
                    fmt: count,
                    body,
                },
            }
        }
        _ => RtcpPacket::Unknown {
            pt,
            fmt: count,
            body,
        },
    };
    Ok((packet, total))
}

#[cfg(test)]
mod tests;

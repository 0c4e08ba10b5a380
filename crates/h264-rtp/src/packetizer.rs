//! Annex-B access units to RTP payloads (RFC 6184 mode 1).

use std::ops::Range;
use std::time::Duration;

use crate::error::H264Error;
use crate::nal::{NalType, nal_units};

/// FU indicator + FU header + at least one byte of NAL data.
const MIN_PAYLOAD: usize = 3;

/// Tuning for [`H264Packetizer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketizerConfig {
    /// Largest RTP payload produced (the MTU minus IP/UDP/RTP headers,
    /// header extensions and any transport-encryption overhead).
    pub max_payload_size: usize,
    /// Aggregate consecutive small NAL units (typically SPS + PPS) into one
    /// STAP-A packet, saving packets and making them arrive together.
    pub aggregate: bool,
}

impl Default for PacketizerConfig {
    fn default() -> Self {
        PacketizerConfig {
            max_payload_size: 1200,
            aggregate: true,
        }
    }
}

pub use rtp::payloads::{Packet, Packets, rtp_timestamp_90khz};

/// Splits access units into RTP payloads, keeping sequence numbers and
/// timestamps. Output lives in internal buffers reused across calls.
#[derive(Debug, Clone)]
pub struct H264Packetizer {
    config: PacketizerConfig,
    next_seq: u16,
    /// Random RTP timestamp offset chosen by the caller (RFC 3550 §5.1).
    timestamp_base: u32,
    /// All payloads of the last access unit, back to back.
    buf: Vec<u8>,
    /// Each payload's range in `buf`.
    packets: Vec<Range<usize>>,
    /// NAL ranges of the access unit being packetized.
    nals: Vec<Range<usize>>,
}

impl H264Packetizer {
    /// A packetizer whose first packet gets `first_seq` and whose timestamps
    /// are `timestamp_base` + frame time at 90 kHz (pass random values, as
    /// RFC 3550 recommends; this crate has no randomness of its own).
    pub fn new(
        config: PacketizerConfig,
        first_seq: u16,
        timestamp_base: u32,
    ) -> Result<Self, H264Error> {
        if config.max_payload_size < MIN_PAYLOAD {
            return Err(H264Error::MaxPayloadTooSmall {
                max_payload: config.max_payload_size,
                minimum: MIN_PAYLOAD,
            });
        }
        Ok(H264Packetizer {
            config,
            next_seq: first_seq,
            timestamp_base,
            buf: Vec::new(),
            packets: Vec::new(),
            nals: Vec::new(),
        })
    }

    /// The sequence number the next packet will get.
    pub fn next_seq(&self) -> u16 {
        self.next_seq
    }

    /// Packetizes one Annex-B access unit presented at `frame_time` (since
    /// the start of the stream). Returns the packets in send order.
    pub fn packetize(
        &mut self,
        access_unit: &[u8],
        frame_time: Duration,
    ) -> Result<Packets<'_>, H264Error> {
        self.nals.clear();
        let mut it = nal_units(access_unit);
        while let Some(r) = it.next_range() {
            self.nals.push(r);
        }
        if self.nals.is_empty() {
            return Err(H264Error::EmptyAccessUnit);
        }
        self.buf.clear();
        self.packets.clear();
        let max = self.config.max_payload_size;
        let mut i = 0;
        while let Some(range) = self.nals.get(i).cloned() {
            let nal = access_unit.get(range).unwrap_or_default();
            if nal.len() > max {
                self.fragment(nal, max);
                i += 1;
                continue;
            }
            let group = if self.config.aggregate {
                self.aggregatable(access_unit, i)
            } else {
                1
            };
            if group >= 2 {
                self.aggregate(access_unit, i, group);
            } else {
                let start = self.buf.len();
                self.buf.extend_from_slice(nal);
                self.packets.push(start..self.buf.len());
            }
            i += group.max(1);
        }
        Ok(Packets::new(
            &self.buf,
            &self.packets,
            &mut self.next_seq,
            rtp_timestamp_90khz(self.timestamp_base, frame_time),
        ))
    }

    /// How many NAL units starting at `first` fit in one STAP-A.
    fn aggregatable(&self, au: &[u8], first: usize) -> usize {
        let mut size = 1;
        let mut count = 0;
        for r in self.nals.get(first..).unwrap_or_default() {
            let len = au.get(r.clone()).map_or(0, <[u8]>::len);
            if len > usize::from(u16::MAX) || size + 2 + len > self.config.max_payload_size {
                break;
            }
            size += 2 + len;
            count += 1;
        }
        count
    }

    fn aggregate(&mut self, au: &[u8], first: usize, count: usize) {
        let start = self.buf.len();
        self.buf.push(0);
        let (mut f, mut nri) = (0u8, 0u8);
        for r in self.nals.get(first..first + count).unwrap_or_default() {
            let nal = au.get(r.clone()).unwrap_or_default();
            let header = nal.first().copied().unwrap_or(0);
            f |= header & 0x80;
            nri = nri.max(header & 0x60);
            // Lengths were checked against u16::MAX in `aggregatable`.
            self.buf
                .extend_from_slice(&(nal.len() as u16).to_be_bytes());
            self.buf.extend_from_slice(nal);
        }
        if let Some(h) = self.buf.get_mut(start) {
            *h = f | nri | NalType::STAP_A.get();
        }
        self.packets.push(start..self.buf.len());
    }

    fn fragment(&mut self, nal: &[u8], max: usize) {
        let Some((&header, body)) = nal.split_first() else {
            return;
        };
        let indicator = (header & 0xE0) | NalType::FU_A.get();
        let chunk = max - 2; // max >= MIN_PAYLOAD, checked in `new`
        let count = body.len().div_ceil(chunk);
        for (k, piece) in body.chunks(chunk).enumerate() {
            let mut fu_header = header & 0x1F;
            if k == 0 {
                fu_header |= 0x80;
            }
            if k + 1 == count {
                fu_header |= 0x40;
            }
            let start = self.buf.len();
            self.buf.extend_from_slice(&[indicator, fu_header]);
            self.buf.extend_from_slice(piece);
            self.packets.push(start..self.buf.len());
        }
    }
}

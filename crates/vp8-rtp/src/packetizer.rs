//! VP8 frames to RTP payloads (RFC 7741).

use std::ops::Range;
use std::time::Duration;

use crate::error::Vp8Error;

/// X|S byte, I byte, two PictureID bytes.
const DESCRIPTOR_LEN: usize = 4;

/// Tuning for [`Vp8Packetizer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketizerConfig {
    /// Largest RTP payload produced, descriptor included.
    pub max_payload_size: usize,
}

impl Default for PacketizerConfig {
    fn default() -> Self {
        PacketizerConfig {
            max_payload_size: 1200,
        }
    }
}

use rtp::payloads::rtp_timestamp_90khz;
pub use rtp::payloads::{Packet, Packets};

/// Splits VP8 frames into RTP payloads with a 15-bit PictureID that
/// increments per frame and the S bit on each frame's first packet.
#[derive(Debug, Clone)]
pub struct Vp8Packetizer {
    config: PacketizerConfig,
    next_seq: u16,
    timestamp_base: u32,
    /// Next PictureID (15 bits).
    picture_id: u16,
    buf: Vec<u8>,
    packets: Vec<Range<usize>>,
}

impl Vp8Packetizer {
    /// A packetizer starting at the given sequence number, RTP timestamp
    /// offset and PictureID (pass random values; this crate has no
    /// randomness of its own).
    pub fn new(
        config: PacketizerConfig,
        first_seq: u16,
        timestamp_base: u32,
        first_picture_id: u16,
    ) -> Result<Self, Vp8Error> {
        if config.max_payload_size <= DESCRIPTOR_LEN {
            return Err(Vp8Error::MaxPayloadTooSmall {
                max_payload: config.max_payload_size,
                minimum: DESCRIPTOR_LEN + 1,
            });
        }
        Ok(Vp8Packetizer {
            config,
            next_seq: first_seq,
            timestamp_base,
            picture_id: first_picture_id & 0x7FFF,
            buf: Vec::new(),
            packets: Vec::new(),
        })
    }

    /// The sequence number the next packet will get.
    pub fn next_seq(&self) -> u16 {
        self.next_seq
    }

    /// Packetizes one frame presented at `frame_time` since stream start.
    pub fn packetize(
        &mut self,
        frame: &[u8],
        frame_time: Duration,
    ) -> Result<Packets<'_>, Vp8Error> {
        if frame.is_empty() {
            return Err(Vp8Error::EmptyFrame);
        }
        self.buf.clear();
        self.packets.clear();
        let pid = self.picture_id;
        self.picture_id = (pid + 1) & 0x7FFF;
        let [hi, lo] = pid.to_be_bytes();
        for (i, chunk) in frame
            .chunks(self.config.max_payload_size - DESCRIPTOR_LEN)
            .enumerate()
        {
            let start = self.buf.len();
            let s_bit = if i == 0 { 0x10 } else { 0 };
            self.buf
                .extend_from_slice(&[0x80 | s_bit, 0x80, 0x80 | hi, lo]);
            self.buf.extend_from_slice(chunk);
            self.packets.push(start..self.buf.len());
        }
        Ok(Packets::new(
            &self.buf,
            &self.packets,
            &mut self.next_seq,
            rtp_timestamp_90khz(self.timestamp_base, frame_time),
        ))
    }
}

//! What a codec packetizer hands out: the RTP payloads of one frame, laid
//! out in one buffer, numbered with consecutive sequence numbers and one
//! timestamp, the marker on the last. Shared by `h264-rtp` and `vp8-rtp`;
//! the caller builds the RTP headers.

use std::ops::Range;
use std::time::Duration;

/// One RTP packet's worth of output; the caller builds the RTP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// RTP sequence number (wraps at 2^16).
    pub seq: u16,
    /// RTP timestamp (90 kHz), equal for all packets of a frame (access
    /// unit).
    pub timestamp: u32,
    /// Set on the last packet of the frame.
    pub marker: bool,
    /// The RTP payload (for VP8, descriptor included).
    pub payload: &'a [u8],
}

/// The packets of one frame: `ranges` of `buf`, in order.
#[derive(Debug, Clone)]
pub struct Packets<'a> {
    buf: &'a [u8],
    ranges: std::slice::Iter<'a, Range<usize>>,
    seq: u16,
    timestamp: u32,
    remaining: usize,
}

impl<'a> Packets<'a> {
    /// The payloads `ranges` of `buf`, numbered from `*next_seq`, which is
    /// advanced past them (wrapping), all at `timestamp`.
    pub fn new(
        buf: &'a [u8],
        ranges: &'a [Range<usize>],
        next_seq: &mut u16,
        timestamp: u32,
    ) -> Self {
        let first_seq = *next_seq;
        // Truncation to 16 bits is the sequence-number wrap-around.
        *next_seq = first_seq.wrapping_add(ranges.len() as u16);
        Packets {
            buf,
            ranges: ranges.iter(),
            seq: first_seq,
            timestamp,
            remaining: ranges.len(),
        }
    }
}

impl<'a> Iterator for Packets<'a> {
    type Item = Packet<'a>;

    fn next(&mut self) -> Option<Packet<'a>> {
        let range = self.ranges.next()?.clone();
        self.remaining -= 1;
        let packet = Packet {
            seq: self.seq,
            timestamp: self.timestamp,
            marker: self.remaining == 0,
            payload: self.buf.get(range).unwrap_or_default(),
        };
        self.seq = self.seq.wrapping_add(1);
        Some(packet)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Packets<'_> {}

/// `base` + `frame_time` in 90 kHz units, wrapping at 2^32 like RTP time.
pub fn rtp_timestamp_90khz(base: u32, frame_time: Duration) -> u32 {
    let ticks = frame_time.as_nanos() * 90_000 / 1_000_000_000;
    // Truncation to 32 bits is the RTP wrap-around.
    base.wrapping_add(ticks as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_marks_the_last_and_advances_the_counter() {
        let buf = [1u8, 2, 3, 4, 5];
        let ranges = [0..2, 2..3, 3..5];
        let mut next = u16::MAX;
        let packets: Vec<_> = Packets::new(&buf, &ranges, &mut next, 7).collect();
        assert_eq!(next, 2, "65535 + 3 wraps to 2");
        let seqs: Vec<u16> = packets.iter().map(|p| p.seq).collect();
        assert_eq!(seqs, [u16::MAX, 0, 1]);
        let marks: Vec<bool> = packets.iter().map(|p| p.marker).collect();
        assert_eq!(marks, [false, false, true]);
        assert_eq!(packets[2].payload, &[4, 5]);
        assert!(packets.iter().all(|p| p.timestamp == 7));
    }

    #[test]
    fn timestamps_are_90khz_and_wrap() {
        assert_eq!(rtp_timestamp_90khz(0, Duration::from_secs(1)), 90_000);
        assert_eq!(rtp_timestamp_90khz(u32::MAX, Duration::from_millis(1)), 89);
    }
}

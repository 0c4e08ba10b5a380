//! Newtypes for RTP wire quantities and sequence-number arithmetic.

use crate::RtpError;

/// Synchronisation source identifier (RFC 3550 §5.1): the workspace's one
/// `Ssrc`, the IPC's (`ipc_schema::Ssrc`), so the media crates and the
/// daemons' messages share it.
pub use ipc_schema::Ssrc;

/// 16-bit RTP sequence number with wrap-around (serial number) arithmetic.
///
/// Ordering is deliberately not derived: `0 < 65535` numerically, but `0`
/// follows `65535` on the wire. Use [`SeqNo::is_newer_than`] and
/// [`SeqNo::diff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNo(pub u16);

impl SeqNo {
    /// The next sequence number (65535 wraps to 0).
    pub fn next(self) -> Self {
        SeqNo(self.0.wrapping_add(1))
    }

    /// The previous sequence number (0 wraps to 65535).
    pub fn prev(self) -> Self {
        SeqNo(self.0.wrapping_sub(1))
    }

    /// `self + n` modulo 2^16.
    pub fn wrapping_add(self, n: u16) -> Self {
        SeqNo(self.0.wrapping_add(n))
    }

    /// Signed distance `self - earlier` in the shortest direction, in
    /// `-32768..=32767`. Positive means `self` comes after `earlier`.
    pub fn diff(self, earlier: SeqNo) -> i16 {
        self.0.wrapping_sub(earlier.0) as i16
    }

    /// Forward (non-negative) distance from `self` to `later`, modulo 2^16.
    pub fn forward_distance(self, later: SeqNo) -> u16 {
        later.0.wrapping_sub(self.0)
    }

    /// True when `self` is ahead of `other` (RFC 1982 serial comparison).
    /// Exactly half the space apart (32768) is considered neither newer nor
    /// older.
    pub fn is_newer_than(self, other: SeqNo) -> bool {
        self.diff(other) > 0
    }
}

impl std::fmt::Display for SeqNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Extends 16-bit sequence numbers to monotone 64-bit ones by counting
/// wrap-arounds relative to the highest number seen so far.
///
/// The first number seen is placed in cycle 1 (`65536 + seq`), not cycle 0,
/// so that a packet reordered from *before* the first one across a wrap
/// still maps to a smaller value instead of underflowing. Only differences
/// between extended values are meaningful.
#[derive(Debug, Clone, Default)]
pub struct SeqUnwrapper {
    /// Highest extended value returned so far; `None` before the first call.
    highest: Option<u64>,
}

impl SeqUnwrapper {
    /// A fresh unwrapper.
    pub fn new() -> Self {
        Self::default()
    }

    /// Extends `seq`, updating the highest value when it moves forward.
    pub fn unwrap(&mut self, seq: SeqNo) -> u64 {
        let ext = self.peek(seq);
        if self.highest.is_none_or(|h| ext > h) {
            self.highest = Some(ext);
        }
        ext
    }

    /// Extends `seq` without updating state.
    pub fn peek(&self, seq: SeqNo) -> u64 {
        match self.highest {
            None => (1 << 16) + u64::from(seq.0),
            Some(h) => {
                let d = i64::from(seq.diff(SeqNo(h as u16)));
                // The highest value is at least 65536 - 32768 away from zero
                // once backwards steps are accounted for; saturate anyway.
                (h as i64 + d).max(0) as u64
            }
        }
    }

    /// The highest extended value seen, if any.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }
}

/// 32-bit RTP media timestamp with wrapping arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RtpTimestamp(pub u32);

impl RtpTimestamp {
    /// Signed distance `self - earlier` in the shortest direction.
    pub fn diff(self, earlier: RtpTimestamp) -> i32 {
        self.0.wrapping_sub(earlier.0) as i32
    }

    /// `self + ticks` modulo 2^32.
    pub fn wrapping_add(self, ticks: u32) -> Self {
        RtpTimestamp(self.0.wrapping_add(ticks))
    }
}

/// 7-bit RTP payload type. The constructor rejects values above 127 so a
/// `PayloadType` can always be OR-ed with the marker bit safely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PayloadType(u8);

impl PayloadType {
    /// Validates a 7-bit payload type.
    pub fn new(pt: u8) -> Result<Self, RtpError> {
        if pt <= 0x7f {
            Ok(PayloadType(pt))
        } else {
            Err(RtpError::BadPayloadType(pt))
        }
    }

    /// Takes the low 7 bits of a header byte (marker bit dropped).
    pub fn from_header_byte(byte1: u8) -> Self {
        PayloadType(byte1 & 0x7f)
    }

    /// The numeric value (0..=127).
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for PayloadType {
    type Error = RtpError;
    fn try_from(pt: u8) -> Result<Self, RtpError> {
        PayloadType::new(pt)
    }
}

impl std::fmt::Display for PayloadType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_wraps() {
        assert_eq!(SeqNo(65535).next(), SeqNo(0));
        assert_eq!(SeqNo(0).prev(), SeqNo(65535));
        assert_eq!(SeqNo(2).diff(SeqNo(65534)), 4);
        assert_eq!(SeqNo(65534).diff(SeqNo(2)), -4);
        assert!(SeqNo(1).is_newer_than(SeqNo(65500)));
        assert!(!SeqNo(65500).is_newer_than(SeqNo(1)));
        assert!(!SeqNo(5).is_newer_than(SeqNo(5)));
        assert!(!SeqNo(0).is_newer_than(SeqNo(32768)));
        assert!(!SeqNo(32768).is_newer_than(SeqNo(0)));
        assert_eq!(SeqNo(65530).forward_distance(SeqNo(4)), 10);
        assert_eq!(SeqNo(65535).wrapping_add(3), SeqNo(2));
    }

    #[test]
    fn unwrapper_counts_cycles() {
        let mut u = SeqUnwrapper::new();
        let a = u.unwrap(SeqNo(65534));
        assert_eq!(u.unwrap(SeqNo(65535)), a + 1);
        assert_eq!(u.unwrap(SeqNo(0)), a + 2);
        assert_eq!(u.unwrap(SeqNo(3)), a + 5);
        // A reordered packet from before the wrap maps back, without moving
        // the highest value.
        assert_eq!(u.unwrap(SeqNo(65535)), a + 1);
        assert_eq!(u.highest(), Some(a + 5));
        // Before the very first packet, across a wrap: no underflow.
        let mut v = SeqUnwrapper::new();
        let b = v.unwrap(SeqNo(1));
        assert_eq!(v.unwrap(SeqNo(65535)), b - 2);
    }

    #[test]
    fn timestamp_and_pt() {
        assert_eq!(RtpTimestamp(5).diff(RtpTimestamp(u32::MAX)), 6);
        assert_eq!(RtpTimestamp(u32::MAX).wrapping_add(2), RtpTimestamp(1));
        assert_eq!(PayloadType::new(127).map(|p| p.get()), Ok(127));
        assert_eq!(PayloadType::new(128), Err(RtpError::BadPayloadType(128)));
        assert_eq!(PayloadType::from_header_byte(0xe0).get(), 0x60);
    }
}

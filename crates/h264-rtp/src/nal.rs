//! NAL unit types and Annex-B byte-stream splitting.

use std::ops::Range;

/// The 4-byte Annex-B start code used for every NAL this crate writes.
/// DAVE normalises all start codes to this form before encrypting, so the
/// receiver must produce exactly it to keep the frame byte-identical.
pub const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// The 5-bit `nal_unit_type` of an H264 NAL unit header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NalType(u8);

impl NalType {
    /// Coded slice of a non-IDR picture.
    pub const SLICE: NalType = NalType(1);
    /// Coded slice of an IDR picture (a keyframe).
    pub const IDR: NalType = NalType(5);
    /// Supplemental enhancement information.
    pub const SEI: NalType = NalType(6);
    /// Sequence parameter set.
    pub const SPS: NalType = NalType(7);
    /// Picture parameter set.
    pub const PPS: NalType = NalType(8);
    /// Access unit delimiter.
    pub const AUD: NalType = NalType(9);
    /// RTP single-time aggregation packet, type A (RFC 6184).
    pub const STAP_A: NalType = NalType(24);
    /// RTP fragmentation unit, type A (RFC 6184).
    pub const FU_A: NalType = NalType(28);

    /// The type from a NAL unit header byte (low 5 bits).
    pub fn from_header(header: u8) -> NalType {
        NalType(header & 0x1F)
    }

    /// The numeric type, 0..=31.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl std::fmt::Display for NalType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Iterates the NAL units of an Annex-B byte stream (without start codes).
///
/// Both 3-byte (`00 00 01`) and 4-byte (`00 00 00 01`) start codes are
/// recognised; exactly one zero byte before `00 00 01` is taken as part of
/// a 4-byte start code, so a NAL that itself ends in `00` (possible for
/// encrypted payloads) keeps its byte. Bytes before the first start code
/// and empty NAL units are skipped.
pub fn nal_units(data: &[u8]) -> NalUnits<'_> {
    NalUnits {
        data,
        pos: first_start(data),
    }
}

/// Iterator returned by [`nal_units`].
#[derive(Debug, Clone)]
pub struct NalUnits<'a> {
    data: &'a [u8],
    /// Where the current NAL's bytes begin (just after a start code).
    pos: Option<usize>,
}

impl<'a> NalUnits<'a> {
    /// The next NAL unit as a byte range of the input.
    pub(crate) fn next_range(&mut self) -> Option<Range<usize>> {
        loop {
            let start = self.pos?;
            let rest = self.data.get(start..)?;
            let (end, next) = match find_start_code(rest) {
                Some(i) => {
                    let mut end = start + i;
                    if i > 0 && self.data.get(end - 1) == Some(&0) {
                        end -= 1;
                    }
                    (end, Some(start + i + 3))
                }
                None => (self.data.len(), None),
            };
            self.pos = next;
            if end > start {
                return Some(start..end);
            }
        }
    }
}

impl<'a> Iterator for NalUnits<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let range = self.next_range()?;
        self.data.get(range)
    }
}

fn find_start_code(data: &[u8]) -> Option<usize> {
    data.windows(3).position(|w| w == [0, 0, 1])
}

fn first_start(data: &[u8]) -> Option<usize> {
    find_start_code(data).map(|i| i + 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_start_codes() {
        let data = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5,
        ];
        let nals: Vec<_> = nal_units(&data).collect();
        assert_eq!(nals, [&[0x67, 1, 2][..], &[0x68, 3], &[0x65, 4, 5]]);
    }

    #[test]
    fn trailing_zero_of_a_nal_is_kept_before_four_byte_code() {
        // NAL "41 00" followed by a 4-byte start code.
        let data = [0, 0, 0, 1, 0x41, 0, 0, 0, 0, 1, 0x41, 7];
        let nals: Vec<_> = nal_units(&data).collect();
        assert_eq!(nals, [&[0x41, 0][..], &[0x41, 7]]);
    }

    #[test]
    fn garbage_prefix_empty_nals_and_no_start_code() {
        let data = [9, 9, 0, 0, 1, 0, 0, 1, 0x06, 0xAA];
        assert_eq!(nal_units(&data).collect::<Vec<_>>(), [&[0x06, 0xAA][..]]);
        assert_eq!(nal_units(&[1, 2, 3]).count(), 0);
        assert_eq!(nal_units(&[]).count(), 0);
        assert_eq!(nal_units(&[0, 0, 1]).count(), 0);
    }
}

//! Classic libpcap files: both byte orders, microsecond and nanosecond
//! timestamps.

use std::time::Duration;

use crate::bytes::Endian;
use crate::error::CaptureError;
use crate::link::LinkType;
use crate::reader::RawRecord;

const GLOBAL_HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;

/// The four magic byte patterns and what they mean.
pub(crate) fn magic(first4: &[u8]) -> Option<(Endian, bool)> {
    match first4 {
        [0xD4, 0xC3, 0xB2, 0xA1] => Some((Endian::Little, false)),
        [0xA1, 0xB2, 0xC3, 0xD4] => Some((Endian::Big, false)),
        [0x4D, 0x3C, 0xB2, 0xA1] => Some((Endian::Little, true)),
        [0xA1, 0xB2, 0x3C, 0x4D] => Some((Endian::Big, true)),
        _ => None,
    }
}

/// Iterates the records of a classic pcap file held in memory.
#[derive(Debug)]
pub(crate) struct PcapReader<'a> {
    data: &'a [u8],
    endian: Endian,
    /// True for the `a1b23c4d` magic: the fraction field counts nanoseconds.
    nanos: bool,
    link: LinkType,
    offset: usize,
}

impl<'a> PcapReader<'a> {
    /// Parses the global header.
    pub(crate) fn new(data: &'a [u8]) -> Result<Self, CaptureError> {
        let truncated = CaptureError::Truncated {
            offset: 0,
            needed: GLOBAL_HEADER_LEN,
            available: data.len(),
        };
        let (endian, nanos) = data
            .get(..4)
            .and_then(magic)
            .ok_or(CaptureError::Malformed {
                offset: 0,
                reason: "not a pcap magic number",
            })?;
        if data.len() < GLOBAL_HEADER_LEN {
            return Err(truncated);
        }
        let network = endian.u32(data, 20).ok_or(truncated)?;
        // Bits 16..32 carry FCS information (and reserved bits), not the type.
        let link = LinkType((network & 0xFFFF) as u16);
        Ok(PcapReader {
            data,
            endian,
            nanos,
            link,
            offset: GLOBAL_HEADER_LEN,
        })
    }

    /// The next record, `None` at a clean end of file.
    pub(crate) fn next_record(&mut self) -> Option<Result<RawRecord<'a>, CaptureError>> {
        let off = self.offset;
        let rest = self.data.len().saturating_sub(off);
        if rest == 0 {
            return None;
        }
        let truncated = |needed| CaptureError::Truncated {
            offset: off,
            needed,
            available: rest,
        };
        let header = (
            self.endian.u32(self.data, off),
            self.endian.u32(self.data, off + 4),
            self.endian.u32(self.data, off + 8),
        );
        let (Some(sec), Some(frac), Some(incl_len)) = header else {
            return Some(Err(truncated(RECORD_HEADER_LEN)));
        };
        let Ok(incl_len) = usize::try_from(incl_len) else {
            return Some(Err(truncated(usize::MAX)));
        };
        let needed = RECORD_HEADER_LEN.saturating_add(incl_len);
        let start = off + RECORD_HEADER_LEN;
        let Some(frame) = self.data.get(start..start.saturating_add(incl_len)) else {
            return Some(Err(truncated(needed)));
        };
        self.offset = start + incl_len;
        let frac_nanos = if self.nanos {
            u64::from(frac)
        } else {
            u64::from(frac) * 1_000
        };
        // A fraction >= 1 s is out of spec; carry it into seconds instead of failing.
        let timestamp = Duration::from_secs(u64::from(sec)) + Duration::from_nanos(frac_nanos);
        Some(Ok(RawRecord {
            timestamp,
            link: self.link,
            frame,
        }))
    }
}

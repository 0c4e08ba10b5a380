//! pcapng files: section header, interface description, enhanced and simple
//! packet blocks, both byte orders, per-interface link type and timestamp
//! resolution. Other block types are skipped.

use std::time::Duration;

use crate::bytes::Endian;
use crate::error::CaptureError;
use crate::link::LinkType;
use crate::reader::RawRecord;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const SPB: u32 = 3;
const EPB: u32 = 6;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const OPT_END: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

/// The pcapng magic (SHB block type, same in both byte orders).
pub(crate) const MAGIC: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];

/// What one interface description says about its packets.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    /// `if_tsresol`: high bit clear = 10^-n s per unit, set = 2^-n s.
    tsresol: u8,
    /// `if_tsoffset`: seconds added to every timestamp.
    tsoffset: i64,
}

/// One decoded block.
pub(crate) enum Block<'a> {
    /// A packet for the caller.
    Packet(RawRecord<'a>),
    /// A packet that cannot be attributed (bad interface id, bad lengths).
    BadPacket,
    /// A header or a block type carrying no packet.
    Other,
}

/// Iterates the blocks of a pcapng file held in memory.
#[derive(Debug)]
pub(crate) struct PcapNgReader<'a> {
    data: &'a [u8],
    offset: usize,
    endian: Endian,
    /// Interfaces of the current section (a new SHB starts a new list).
    interfaces: Vec<Interface>,
    /// Simple packet blocks carry no time: they inherit the last one seen.
    last_timestamp: Duration,
}

impl<'a> PcapNgReader<'a> {
    /// Prepares to read; the first block must be a section header.
    pub(crate) fn new(data: &'a [u8]) -> Result<Self, CaptureError> {
        if data.get(..4) != Some(&MAGIC[..]) {
            return Err(CaptureError::Malformed {
                offset: 0,
                reason: "missing section header",
            });
        }
        Ok(PcapNgReader {
            data,
            offset: 0,
            endian: Endian::Little,
            interfaces: Vec::new(),
            last_timestamp: Duration::ZERO,
        })
    }

    /// The next block, `None` at a clean end of file.
    pub(crate) fn next_block(&mut self) -> Option<Result<Block<'a>, CaptureError>> {
        let off = self.offset;
        let available = self.data.len().saturating_sub(off);
        if available == 0 {
            return None;
        }
        let truncated = |needed| CaptureError::Truncated {
            offset: off,
            needed,
            available,
        };
        let malformed = |reason| CaptureError::Malformed {
            offset: off,
            reason,
        };
        let Some(block_type) = self.endian.u32(self.data, off) else {
            return Some(Err(truncated(12)));
        };
        if block_type == SHB {
            // The byte order of this section (and of its own length field).
            self.endian = match self.data.get(off + 8..off + 12) {
                Some([0x1A, 0x2B, 0x3C, 0x4D]) => Endian::Big,
                Some([0x4D, 0x3C, 0x2B, 0x1A]) => Endian::Little,
                Some(_) => return Some(Err(malformed("bad byte-order magic"))),
                None => return Some(Err(truncated(12))),
            };
            debug_assert_eq!(self.endian.u32(self.data, off + 8), Some(BYTE_ORDER_MAGIC));
            self.interfaces.clear();
        }
        let Some(len) = self.endian.u32(self.data, off + 4) else {
            return Some(Err(truncated(12)));
        };
        let Ok(len) = usize::try_from(len) else {
            return Some(Err(truncated(usize::MAX)));
        };
        if len < 12 || len % 4 != 0 {
            return Some(Err(malformed(
                "block length not a multiple of 4 or below 12",
            )));
        }
        let Some(block) = self.data.get(off..off.saturating_add(len)) else {
            return Some(Err(truncated(len)));
        };
        if self.endian.u32(block, len - 4) != Some(len as u32) {
            return Some(Err(malformed("trailing block length differs")));
        }
        self.offset = off + len;
        // Body without the 8-byte header and the 4-byte trailer.
        let body = block.get(8..len - 4).unwrap_or_default();
        Some(Ok(match block_type {
            IDB => match self.interface(body) {
                Some(iface) => {
                    self.interfaces.push(iface);
                    Block::Other
                }
                None => return Some(Err(malformed("interface description too short"))),
            },
            EPB => self.enhanced(body),
            SPB => self.simple(body),
            _ => Block::Other,
        }))
    }

    fn interface(&self, body: &[u8]) -> Option<Interface> {
        let link = LinkType(self.endian.u16(body, 0)?);
        let mut iface = Interface {
            link,
            tsresol: 6,
            tsoffset: 0,
        };
        let mut off = 8;
        // Options are best-effort: a broken option list ends the walk, not the file.
        while let (Some(code), Some(olen)) =
            (self.endian.u16(body, off), self.endian.u16(body, off + 2))
        {
            let olen = usize::from(olen);
            let Some(value) = body.get(off + 4..off + 4 + olen) else {
                break;
            };
            match code {
                OPT_END => break,
                OPT_IF_TSRESOL => iface.tsresol = value.first().copied().unwrap_or(6),
                OPT_IF_TSOFFSET => {
                    if let Ok(b) = <[u8; 8]>::try_from(value) {
                        iface.tsoffset = match self.endian {
                            Endian::Little => i64::from_le_bytes(b),
                            Endian::Big => i64::from_be_bytes(b),
                        };
                    }
                }
                _ => {}
            }
            off += 4 + olen.div_ceil(4) * 4;
        }
        Some(iface)
    }

    fn enhanced(&mut self, body: &'a [u8]) -> Block<'a> {
        let e = self.endian;
        let (Some(id), Some(hi), Some(lo), Some(cap)) = (
            e.u32(body, 0),
            e.u32(body, 4),
            e.u32(body, 8),
            e.u32(body, 12),
        ) else {
            return Block::BadPacket;
        };
        let iface = usize::try_from(id)
            .ok()
            .and_then(|i| self.interfaces.get(i))
            .copied();
        let (Some(iface), Ok(cap)) = (iface, usize::try_from(cap)) else {
            return Block::BadPacket;
        };
        let Some(frame) = body.get(20..20usize.saturating_add(cap)) else {
            return Block::BadPacket;
        };
        let units = (u64::from(hi) << 32) | u64::from(lo);
        let timestamp = to_duration(units, iface.tsresol, iface.tsoffset);
        self.last_timestamp = timestamp;
        Block::Packet(RawRecord {
            timestamp,
            link: iface.link,
            frame,
        })
    }

    fn simple(&self, body: &'a [u8]) -> Block<'a> {
        let (Some(orig), Some(iface)) = (self.endian.u32(body, 0), self.interfaces.first()) else {
            return Block::BadPacket;
        };
        let data = body.get(4..).unwrap_or_default();
        let cap = usize::try_from(orig).map_or(data.len(), |o| o.min(data.len()));
        let frame = data.get(..cap).unwrap_or_default();
        Block::Packet(RawRecord {
            timestamp: self.last_timestamp,
            link: iface.link,
            frame,
        })
    }
}

/// Converts interface time units to a duration since the Unix epoch.
fn to_duration(units: u64, tsresol: u8, tsoffset: i64) -> Duration {
    let exp = u32::from(tsresol & 0x7F);
    let nanos: u128 = if tsresol & 0x80 == 0 {
        match 10u128.checked_pow(exp) {
            Some(div) => u128::from(units) * 1_000_000_000 / div,
            None => 0,
        }
    } else if exp < 128 {
        (u128::from(units) * 1_000_000_000) >> exp
    } else {
        0
    };
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    // The remainder is below 10^9 so it always fits.
    let base = Duration::new(secs, (nanos % 1_000_000_000) as u32);
    let shift = Duration::from_secs(tsoffset.unsigned_abs());
    if tsoffset >= 0 {
        base.saturating_add(shift)
    } else {
        base.saturating_sub(shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions() {
        assert_eq!(to_duration(1_500_000, 6, 0), Duration::from_millis(1500));
        assert_eq!(
            to_duration(1_500_000_000, 9, 0),
            Duration::from_millis(1500)
        );
        assert_eq!(to_duration(3, 0x81, 0), Duration::from_millis(1500));
        assert_eq!(to_duration(1, 0, 10), Duration::from_secs(11));
        assert_eq!(to_duration(5, 0, -10), Duration::ZERO);
        assert_eq!(to_duration(u64::MAX, 0xFF, 0), Duration::ZERO);
    }
}

//! Bounds-checked little/big-endian reads over untrusted byte slices.

/// Byte order of a capture file's headers (pcap and pcapng are written in
/// the capturing host's order; rtpdump is always big-endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    /// Least significant byte first.
    Little,
    /// Network byte order.
    Big,
}

impl Endian {
    /// Reads a u16 at `off`, or `None` when out of bounds.
    pub(crate) fn u16(self, data: &[u8], off: usize) -> Option<u16> {
        let b: [u8; 2] = data.get(off..off.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        })
    }

    /// Reads a u32 at `off`, or `None` when out of bounds.
    pub(crate) fn u32(self, data: &[u8], off: usize) -> Option<u32> {
        let b: [u8; 4] = data.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }
}

/// Big-endian u16 at `off`.
pub(crate) fn be16(data: &[u8], off: usize) -> Option<u16> {
    Endian::Big.u16(data, off)
}

/// Big-endian u32 at `off`.
pub(crate) fn be32(data: &[u8], off: usize) -> Option<u32> {
    Endian::Big.u32(data, off)
}

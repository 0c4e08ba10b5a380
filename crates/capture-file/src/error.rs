//! The crate's single error type.

use thiserror::Error;

/// Why a capture file could not be read (further), or a datagram not written.
///
/// Per-packet problems (a non-UDP frame, a mangled IP header) are *not*
/// errors: such packets are skipped and counted in
/// [`SkipStats`](crate::SkipStats). An error ends iteration; everything
/// yielded before it was a whole, valid record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The first bytes match none of pcap, pcapng or rtpdump.
    #[error("unknown capture format (first bytes {magic:02x?})")]
    UnknownFormat {
        /// Up to the first four bytes of the file.
        magic: Vec<u8>,
    },
    /// The file ends inside a header or record.
    #[error("capture truncated at byte {offset}: need {needed} more bytes, {available} available")]
    Truncated {
        /// Offset of the header or record that is cut short.
        offset: usize,
        /// Bytes the header or record claims.
        needed: usize,
        /// Bytes actually left in the file from `offset`.
        available: usize,
    },
    /// A file or block header is structurally invalid.
    #[error("malformed capture at byte {offset}: {reason}")]
    Malformed {
        /// Offset of the offending header or block.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The writer was given a datagram it cannot encode.
    #[error("cannot write datagram: {reason}")]
    Unwritable {
        /// Why not (mixed address families, too large, ...).
        reason: &'static str,
    },
}

impl CaptureError {
    /// True when the file simply stops early (a capture killed mid-write):
    /// every earlier record was valid and has been yielded, so callers may
    /// treat this as a soft end of input.
    pub fn is_truncation(&self) -> bool {
        matches!(self, CaptureError::Truncated { .. })
    }
}

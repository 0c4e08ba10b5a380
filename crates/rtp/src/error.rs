//! The crate's single error type.

/// Everything that can go wrong while parsing or building RTP/RTCP.
///
/// Parse errors describe untrusted input: the policy for all of them is "drop
/// the datagram and carry on" ([`RtpError::is_malformed_input`]). Build errors
/// describe a caller mistake (bad arguments or a too-small buffer) and are
/// reported by [`RtpError::is_usage_error`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtpError {
    /// The input ends before a structure it announces.
    #[error("truncated input: need {needed} bytes, have {got}")]
    TooShort {
        /// Bytes required by the structure being read.
        needed: usize,
        /// Bytes available.
        got: usize,
    },
    /// The version field is not 2.
    #[error("unsupported RTP/RTCP version {0}")]
    BadVersion(u8),
    /// The padding count is zero or larger than the space it claims.
    #[error("bad padding count {count} with {available} bytes available")]
    BadPadding {
        /// The count read from the last byte.
        count: u8,
        /// Bytes that could hold padding (payload + padding).
        available: usize,
    },
    /// A header extension element overruns the extension block.
    #[error("malformed header extension element")]
    BadExtensionElement,
    /// An RTCP packet's length field overruns the datagram or is inconsistent
    /// with the packet type's fixed layout.
    #[error("malformed RTCP packet (type {pt})")]
    BadRtcp {
        /// The RTCP packet type.
        pt: u8,
    },
    /// A payload type above 127 was given where a 7-bit value is required.
    #[error("payload type {0} does not fit in 7 bits")]
    BadPayloadType(u8),
    /// An RTX packet does not belong to the given mapping.
    #[error("packet is not an RTX packet of this mapping")]
    NotRtx,
    /// Sender: a packet handed to a send stream carries another SSRC.
    #[error("packet SSRC {0} is not this stream's")]
    ForeignSsrc(u32),
    /// Builder: more than 15 CSRCs.
    #[error("too many CSRCs: {0} (max 15)")]
    TooManyCsrcs(usize),
    /// Builder: a one-byte extension element with an id outside 1..=14 or a
    /// length outside 1..=16.
    #[error("extension element id {id} / length {len} not encodable in one-byte form")]
    BadExtensionSpec {
        /// The element id.
        id: u8,
        /// The element data length.
        len: usize,
    },
    /// Builder: padding of zero bytes requested with the padding flag, or a
    /// count of more than 255.
    #[error("invalid padding request")]
    BadPaddingSpec,
    /// Builder: a list is too long for its count field (report blocks,
    /// FIR entries, RTCP packet length).
    #[error("too many items for the field ({0})")]
    TooManyItems(usize),
    /// Builder: the caller's output slice is too small.
    #[error("output buffer too small: need {needed}, have {got}")]
    BufferTooSmall {
        /// Bytes required.
        needed: usize,
        /// Bytes available.
        got: usize,
    },
}

impl RtpError {
    /// True for errors caused by untrusted input: drop the datagram and keep
    /// going; never tear down a connection for these.
    pub fn is_malformed_input(&self) -> bool {
        matches!(
            self,
            Self::TooShort { .. }
                | Self::BadVersion(_)
                | Self::BadPadding { .. }
                | Self::BadExtensionElement
                | Self::BadRtcp { .. }
                | Self::NotRtx
        )
    }

    /// True for errors caused by the caller's arguments (a bug or a
    /// configuration mistake, not network input).
    pub fn is_usage_error(&self) -> bool {
        !self.is_malformed_input()
    }
}

/// Checks that `buf` holds at least `needed` bytes.
pub(crate) fn need(buf: &[u8], needed: usize) -> Result<(), RtpError> {
    if buf.len() < needed {
        Err(RtpError::TooShort {
            needed,
            got: buf.len(),
        })
    } else {
        Ok(())
    }
}

/// Reads a big-endian u16 at `at`; the caller guarantees bounds with [`need`],
/// but this still fails gracefully instead of panicking.
pub(crate) fn be16(buf: &[u8], at: usize) -> Result<u16, RtpError> {
    match buf.get(at..at + 2) {
        Some(&[a, b]) => Ok(u16::from_be_bytes([a, b])),
        _ => Err(RtpError::TooShort {
            needed: at + 2,
            got: buf.len(),
        }),
    }
}

/// Reads a big-endian u32 at `at` (see [`be16`]).
pub(crate) fn be32(buf: &[u8], at: usize) -> Result<u32, RtpError> {
    match buf.get(at..at + 4) {
        Some(&[a, b, c, d]) => Ok(u32::from_be_bytes([a, b, c, d])),
        _ => Err(RtpError::TooShort {
            needed: at + 4,
            got: buf.len(),
        }),
    }
}

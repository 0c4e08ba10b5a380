//! The crate's single error type.

/// Everything that can go wrong while decoding or encoding voice gateway
/// messages, binary DAVE frames and IP discovery packets.
///
/// Decode errors describe untrusted input ([`VoiceProtoError::is_malformed_input`]):
/// the usual policy is to log and drop that one message (for ops 18/20,
/// which the user-docs say are sometimes sent with odd shapes, that is
/// exactly right). Encode errors are caller mistakes
/// ([`VoiceProtoError::is_usage_error`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VoiceProtoError {
    /// The text frame is not a JSON object of the form `{"op":N,"d":…}`.
    #[error("malformed voice gateway envelope: {message}")]
    Envelope {
        /// serde's message.
        message: String,
    },
    /// The envelope is fine but `d` does not match the opcode's payload.
    #[error("malformed payload for voice opcode {op}: {message}")]
    Payload {
        /// The opcode number.
        op: u8,
        /// serde's message.
        message: String,
    },
    /// A binary frame is shorter than its fixed header.
    #[error("binary frame truncated: need {needed} bytes, have {got}")]
    TooShort {
        /// Bytes required.
        needed: usize,
        /// Bytes available.
        got: usize,
    },
    /// A binary frame carries an opcode that only flows in the other
    /// direction (e.g. a key package, op 26, from the server).
    #[error("opcode {op} is not valid in this direction")]
    WrongDirection {
        /// The opcode number.
        op: u8,
    },
    /// An encoder was asked to write a message in a direction (or frame
    /// type) the opcode does not use.
    #[error("opcode {op} cannot be encoded here: {reason}")]
    NotEncodable {
        /// The opcode number.
        op: u8,
        /// Why.
        reason: &'static str,
    },
    /// Op 27 with an operation type other than 0 (append) or 1 (revoke).
    #[error("unknown MLS proposals operation type {0}")]
    BadProposalsOperation(u8),
    /// An IP discovery packet is not 74 bytes long.
    #[error("IP discovery packet has {got} bytes, expected 74")]
    IpDiscoveryLength {
        /// Bytes received.
        got: usize,
    },
    /// An IP discovery packet has a type other than 1 or 2, or a length
    /// field other than 70.
    #[error("IP discovery header invalid: type {packet_type}, length field {length}")]
    IpDiscoveryHeader {
        /// The type field.
        packet_type: u16,
        /// The length field.
        length: u16,
    },
    /// The address field of a received IP discovery response has no NUL
    /// terminator or is not printable ASCII.
    #[error("IP discovery address invalid: {reason}")]
    IpDiscoveryAddress {
        /// Why.
        reason: &'static str,
    },
    /// Encoding: the address does not fit the 64-byte field with its NUL
    /// terminator, or contains a NUL byte itself.
    #[error("IP discovery address of {len} bytes cannot be encoded (max 63, no NUL)")]
    AddressNotEncodable {
        /// The address length in bytes.
        len: usize,
    },
}

impl VoiceProtoError {
    /// The opcode number the error is about, when there is one.
    pub fn op(&self) -> Option<u8> {
        match self {
            Self::Payload { op, .. }
            | Self::WrongDirection { op }
            | Self::NotEncodable { op, .. } => Some(*op),
            Self::BadProposalsOperation(_) => Some(27),
            _ => None,
        }
    }

    /// True when the error describes bad input from the peer: drop the
    /// message (or datagram) and carry on.
    pub fn is_malformed_input(&self) -> bool {
        !self.is_usage_error()
    }

    /// True when the error is a caller mistake while encoding.
    pub fn is_usage_error(&self) -> bool {
        matches!(
            self,
            Self::NotEncodable { .. } | Self::AddressNotEncodable { .. }
        )
    }
}

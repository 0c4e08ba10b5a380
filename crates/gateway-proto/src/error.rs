//! The crate's single error type.

/// Everything that can go wrong while decoding main gateway messages or
/// stream keys. All variants describe untrusted input.
///
/// Policy: drop the message and carry on — but if [`GatewayProtoError::seq`]
/// returns a number, it is a dispatch whose payload could not be typed, and
/// that sequence number must still be recorded for heartbeats and resume
/// (otherwise a resume would replay it forever).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayProtoError {
    /// The text frame is not a JSON object of the form `{"op":N,…}`.
    #[error("malformed gateway envelope: {message}")]
    Envelope {
        /// serde's message (or what is wrong).
        message: String,
    },
    /// `d` does not match the opcode's payload.
    #[error("malformed payload for gateway opcode {op}: {message}")]
    Payload {
        /// The opcode number.
        op: u8,
        /// serde's message.
        message: String,
    },
    /// A dispatch's `d` does not match its event type.
    #[error("malformed {event} dispatch (seq {seq:?}): {message}")]
    Dispatch {
        /// The event name (`t`).
        event: String,
        /// The dispatch's sequence number (`s`).
        seq: Option<u64>,
        /// serde's message.
        message: String,
    },
    /// A stream key is not `guild:G:C:U`, `call:C:U` or `test:U`.
    #[error("invalid stream key {key:?}: {reason}")]
    StreamKey {
        /// The offending key.
        key: String,
        /// Why.
        reason: &'static str,
    },
}

impl GatewayProtoError {
    /// The opcode number the error is about, when known.
    pub fn op(&self) -> Option<u8> {
        match self {
            Self::Payload { op, .. } => Some(*op),
            Self::Dispatch { .. } => Some(0),
            _ => None,
        }
    }

    /// The dispatch event name, for dispatch errors.
    pub fn event(&self) -> Option<&str> {
        match self {
            Self::Dispatch { event, .. } => Some(event),
            _ => None,
        }
    }

    /// The sequence number of a dispatch that failed to decode: record it
    /// as received anyway.
    pub fn seq(&self) -> Option<u64> {
        match self {
            Self::Dispatch { seq, .. } => *seq,
            _ => None,
        }
    }
}

//! The crate's one error type.

/// Misuse of the connection API. Bad input from the network is never an
/// error here: it is counted and dropped.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum VoiceSessionError {
    /// Media was sent before SESSION_DESCRIPTION delivered the key.
    #[error("the media session is not keyed yet (no session description)")]
    NotKeyed,
    /// A packet could not be built or sealed.
    #[error("cannot send packet: {0}")]
    Packet(String),
}

impl VoiceSessionError {
    /// True when the caller may simply retry once the connection is ready
    /// (the packet is dropped, the connection is fine).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::NotKeyed)
    }
}

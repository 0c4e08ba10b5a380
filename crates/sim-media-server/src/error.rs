//! The crate's error type.

/// Errors of the media server shell.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimVoiceError {
    /// A socket could not be bound (e.g. the port is taken after a restart).
    #[error("cannot bind {what} on {addr}: {message}")]
    Bind {
        /// `"websocket"` or `"udp"`.
        what: &'static str,
        /// The address tried.
        addr: String,
        /// OS error text.
        message: String,
    },
    /// The server task is gone (after `shutdown`).
    #[error("the media server has stopped")]
    Stopped,
    /// A simulated participant's media source could not be built.
    #[error("media source: {0}")]
    Media(String),
    /// The server's certificate could not be made.
    #[error("TLS: {0}")]
    Tls(String),
    /// `say`: no simulated participant with this user id in the room.
    #[error("no simulated participant {user_id} in room {room}")]
    NoParticipant {
        /// Room.
        room: u64,
        /// User.
        user_id: u64,
    },
    /// `say`: the participant has no audio SSRC (`ParticipantSpec::audio`
    /// is false).
    #[error("participant {0} has no audio")]
    NoAudio(u64),
    /// `say`: the text is not speakable (empty, too long, control
    /// characters) or no packets were given.
    #[error("bad line: {0}")]
    BadLine(String),
    /// `say`: speech synthesis or encoding failed (espeak-ng missing?).
    #[error("speech synthesis: {0}")]
    Speech(String),
}

impl SimVoiceError {
    /// The server cannot continue (as opposed to a per-participant problem).
    /// The caller's request was wrong (unknown participant, no audio, bad
    /// text), as opposed to a server-side failure.
    pub fn is_request_error(&self) -> bool {
        matches!(
            self,
            Self::NoParticipant { .. } | Self::NoAudio(_) | Self::BadLine(_)
        )
    }

    /// The server cannot continue (as opposed to a per-participant problem).
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::Bind { .. } | Self::Stopped | Self::Tls(_))
    }
}

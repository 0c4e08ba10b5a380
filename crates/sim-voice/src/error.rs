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
}

impl SimVoiceError {
    /// The server cannot continue (as opposed to a per-participant problem).
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::Bind { .. } | Self::Stopped | Self::Tls(_))
    }
}

//! The crate's one error type.

/// What can go wrong in the audio path.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AudioError {
    /// libopus refused (bad packet, bad argument).
    #[error("opus: {0}")]
    Opus(String),
    /// A frame of the wrong length was given to the encoder or the VAD.
    #[error("frame of {got} samples, expected {expected}")]
    FrameLength {
        /// Samples expected.
        expected: usize,
        /// Samples given.
        got: usize,
    },
    /// Too many SSRCs are tracked; the packet was ignored.
    #[error("too many audio streams ({0}); packet ignored")]
    TooManyStreams(usize),
}

impl From<opus::Error> for AudioError {
    fn from(e: opus::Error) -> Self {
        AudioError::Opus(e.to_string())
    }
}

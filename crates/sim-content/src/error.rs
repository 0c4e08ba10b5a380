//! The crate's single error type.

/// Everything that can go wrong while building or driving a media source.
///
/// There is no untrusted input in this crate: every error is either a caller
/// mistake in the configuration ([`SimMediaError::is_config_error`]: fix the
/// parameters, retrying cannot help) or a failure reported by the OpenH264
/// encoder ([`SimMediaError::is_encoder_failure`]: the stream should be
/// rebuilt, see [`SimMediaError::should_recreate_stream`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimMediaError {
    /// Width or height is odd, zero, too small for the layout, or larger
    /// than H264 level 5.2 allows (3840×2160 either way round).
    #[error("unsupported frame size {width}x{height}: {reason}")]
    InvalidDimensions {
        /// Requested width in pixels.
        width: u32,
        /// Requested height in pixels.
        height: u32,
        /// Which rule was broken.
        reason: &'static str,
    },
    /// Any other parameter out of range (zero fps, zero period, ...).
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// Embedded packet data failed to parse (a build problem: the crate's
    /// own tests check the fixtures).
    #[error("embedded Opus fixture is corrupt: {0}")]
    CorruptFixture(&'static str),
    /// OpenH264 refused to initialise or to encode a frame.
    #[error("H264 encoder failure: {0}")]
    Encoder(String),
    /// Text for speech synthesis is empty, too long or has control
    /// characters.
    #[error("invalid speech text: {0}")]
    InvalidText(&'static str),
    /// espeak-ng could not be run or failed.
    #[error("espeak-ng failed: {0}")]
    Synthesis(String),
    /// A WAV stream did not parse.
    #[error("bad WAV data: {0}")]
    BadWav(&'static str),
    /// The resampler refused the rates or the data.
    #[error("resampler failure: {0}")]
    Resample(String),
    /// libopus refused to initialise, encode or decode.
    #[error("Opus codec failure: {0}")]
    Opus(String),
}

impl SimMediaError {
    /// The caller asked for something this crate cannot produce; retrying
    /// with the same parameters will fail the same way.
    #[must_use]
    pub fn is_config_error(&self) -> bool {
        matches!(
            self,
            Self::InvalidDimensions { .. } | Self::InvalidConfig(_) | Self::InvalidText(_)
        )
    }

    /// The failure came from the native encoder rather than from the
    /// parameters.
    #[must_use]
    pub fn is_encoder_failure(&self) -> bool {
        matches!(self, Self::Encoder(_))
    }

    /// After this error the encoder's internal state is unknown: drop the
    /// stream and build a new one (which starts with an IDR).
    #[must_use]
    pub fn should_recreate_stream(&self) -> bool {
        self.is_encoder_failure()
    }
}

impl From<opus::Error> for SimMediaError {
    fn from(e: opus::Error) -> Self {
        Self::Opus(e.to_string())
    }
}

impl From<openh264::Error> for SimMediaError {
    fn from(e: openh264::Error) -> Self {
        Self::Encoder(e.to_string())
    }
}

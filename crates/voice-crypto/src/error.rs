//! The crate's single error type.

use crate::CryptoMode;

/// Errors from negotiating a mode, sealing or opening packets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The datagram is too short for the mode's header, tag and nonce.
    #[error("packet too short: need {needed} bytes, have {got}")]
    TooShort {
        /// Minimum length for this mode and header.
        needed: usize,
        /// Actual length.
        got: usize,
    },
    /// The tag did not verify: wrong key, wrong mode, or a forged/corrupted
    /// packet.
    #[error("authentication failed")]
    AuthenticationFailed,
    /// The mode name is not one this crate implements.
    #[error("unsupported encryption mode {0:?}")]
    UnsupportedMode(String),
    /// The mode has no safe RTCP framing (plain `xsalsa20_poly1305` derives
    /// its nonce from the header, which RTCP headers would repeat).
    #[error("mode {0:?} cannot protect RTCP")]
    UnsupportedForRtcp(CryptoMode),
    /// The secret key is not 32 bytes.
    #[error("secret key must be 32 bytes, got {0}")]
    BadKeyLength(usize),
    /// The caller's buffer has no room for the tag and nonce.
    #[error("output buffer too small: need {needed}, have {got}")]
    BufferTooSmall {
        /// Bytes required.
        needed: usize,
        /// Bytes available.
        got: usize,
    },
    /// The cipher refused to encrypt (message beyond the AEAD's limit).
    #[error("encryption failed")]
    EncryptionFailed,
    /// The packet decrypted correctly but is not valid RTP (convenience
    /// functions that also parse).
    #[error("decrypted packet is malformed: {0}")]
    Rtp(#[from] rtp::RtpError),
}

impl CryptoError {
    /// True for errors about one received datagram: drop it, count it, and
    /// keep the connection.
    pub fn should_drop_packet(&self) -> bool {
        matches!(
            self,
            Self::TooShort { .. } | Self::AuthenticationFailed | Self::Rtp(_)
        )
    }

    /// True when the session cannot work as configured (bad key or mode):
    /// retrying packets will not help; renegotiate or disconnect.
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::UnsupportedMode(_) | Self::BadKeyLength(_))
    }
}

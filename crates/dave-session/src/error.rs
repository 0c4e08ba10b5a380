//! The crate's single error type.

/// Why an input was rejected or a frame could not be (de|en)crypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DaveError {
    /// The input needs an MLS session, but the call is transport-only or op 4
    /// has not arrived yet.
    #[error("no DAVE session (protocol version 0 or not initialised)")]
    NoSession,
    /// The protocol version is not supported (only 0 and 1 exist).
    #[error("unsupported DAVE protocol version {0}")]
    UnsupportedProtocolVersion(u16),
    /// Bytes that do not decode as the expected MLS structure.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// Which input.
        what: &'static str,
        /// Decoder detail.
        detail: String,
    },
    /// davey refused an MLS input (proposals, commit, welcome, external sender).
    #[error("{what} rejected: {detail}")]
    Rejected {
        /// Which input.
        what: &'static str,
        /// davey's reason.
        detail: String,
    },
    /// No key to encrypt with yet (group not established / transition pending).
    #[error("not ready to encrypt")]
    NotReady,
    /// Encryption failed inside davey.
    #[error("encryption failed: {0}")]
    EncryptFailed(String),
    /// A non-DAVE frame arrived while passthrough is not allowed.
    #[error("unencrypted frame while passthrough is disabled")]
    UnencryptedWhenPassthroughDisabled,
    /// No decryption key for this sender (not in the group).
    #[error("no decryption key for user {0}")]
    NoKeyForUser(u64),
    /// A DAVE frame failed to decrypt (bad tag, replay, expired key, ...).
    #[error("decryption failed: {0}")]
    DecryptFailed(String),
}

impl DaveError {
    /// `true` if the session cannot continue without outside help. No DAVE
    /// error is fatal: MLS failures are recovered via op 31 + a fresh op 26,
    /// media failures cost one frame.
    pub fn is_fatal(&self) -> bool {
        false
    }

    /// `true` for media errors after which the caller should drop the frame
    /// (and, for video, request a keyframe once keys settle).
    pub fn should_drop_frame(&self) -> bool {
        matches!(
            self,
            Self::NotReady
                | Self::EncryptFailed(_)
                | Self::UnencryptedWhenPassthroughDisabled
                | Self::NoKeyForUser(_)
                | Self::DecryptFailed(_)
        )
    }

    /// `true` if the error concerned a commit or welcome, for which op 31 and a
    /// fresh key package were already queued.
    pub fn triggered_recovery(&self) -> bool {
        matches!(
            self,
            Self::Rejected {
                what: "commit" | "welcome",
                ..
            } | Self::Malformed {
                what: "commit" | "welcome",
                ..
            }
        )
    }
}

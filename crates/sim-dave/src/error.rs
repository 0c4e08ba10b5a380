//! The crate's single error type.

/// Everything the gateway can refuse or fail at.
///
/// Client input errors (bad key package, invalid commit) are reported to the
/// caller so the simulator can log them; the gateway's own state is never left
/// half-updated by them (validation happens before any mutation).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// A message arrived from a user that is not connected to this group.
    #[error("user {0} is not connected to this group")]
    UnknownUser(u64),
    /// A DAVE message arrived while the group runs protocol version 0.
    #[error("DAVE is disabled (protocol version 0) in this group")]
    DaveDisabled,
    /// The binary payload is not valid TLS / MLS encoding.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// Which structure failed to parse.
        what: &'static str,
        /// Parser detail.
        detail: String,
    },
    /// The key package was well-formed but breaks a DAVE rule.
    #[error("key package rejected: {0}")]
    InvalidKeyPackage(String),
    /// The commit arrived for an epoch that already has a winning commit.
    #[error("commit for epoch {commit_epoch} lost the race (group is at epoch {group_epoch})")]
    StaleCommit {
        /// Epoch carried by the commit.
        commit_epoch: u64,
        /// Current epoch of the group.
        group_epoch: u64,
    },
    /// The commit breaks a DAVE commit-validity rule.
    #[error("commit rejected: {0}")]
    InvalidCommit(String),
    /// The welcome accompanying a commit is missing, unexpected or incomplete.
    #[error("welcome rejected: {0}")]
    InvalidWelcome(String),
    /// The requested operation does not fit the group's current state.
    #[error("invalid state: {0}")]
    InvalidState(&'static str),
    /// The signer seed is not a valid P-256 private scalar.
    #[error("invalid signer seed")]
    InvalidSeed,
    /// A simulated member could not encrypt or decrypt a media frame.
    #[error("media: {0}")]
    Media(String),
    /// openmls or davey failed internally (not the peer's fault).
    #[error("MLS library error: {0}")]
    Library(String),
}

impl GatewayError {
    /// `true` if the error blames the sending client's bytes (the simulator may
    /// count it as a protocol violation), `false` for races and local failures.
    pub fn is_client_fault(&self) -> bool {
        matches!(
            self,
            Self::Malformed { .. }
                | Self::InvalidKeyPackage(_)
                | Self::InvalidCommit(_)
                | Self::InvalidWelcome(_)
        )
    }

    /// `true` for the benign loss of the "first commit wins" race: the client
    /// will receive the winning commit and must simply move on.
    pub fn is_lost_race(&self) -> bool {
        matches!(self, Self::StaleCommit { .. })
    }

    pub(crate) fn malformed(what: &'static str, detail: impl std::fmt::Display) -> Self {
        Self::Malformed {
            what,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn library(detail: impl std::fmt::Debug) -> Self {
        Self::Library(format!("{detail:?}"))
    }
}

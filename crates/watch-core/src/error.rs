//! [`Refusal`]: the one error type of the crate, with stable reason strings.

use std::fmt;

use gateway_proto::UserId;

/// A user named in a refusal, with the name we would show for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The user.
    pub user: UserId,
    /// Display name (nick, then global name, then username, then the id).
    pub name: String,
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.user)
    }
}

/// Formats a candidate list as `a (1), b (2)`.
fn list(candidates: &[Candidate]) -> String {
    candidates
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a watch request was refused. [`Refusal::reason`] is a stable
/// snake_case string for logs, metrics and the shell's replies; `Display`
/// is a human sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The guild is not (or no longer) in the registry.
    #[error("this guild is not known")]
    GuildUnknown,
    /// Voice states are known and the requester is not in voice.
    #[error("the requester is not in a voice channel")]
    RequesterNotInVoice,
    /// The target string matched nobody.
    #[error("nobody called {target:?} was found")]
    TargetNotFound {
        /// The normalized target string.
        target: String,
    },
    /// The target exists (member cache) but is not in voice.
    #[error("user {user} is not in voice")]
    TargetNotInVoice {
        /// The resolved user.
        user: UserId,
    },
    /// The target is in voice, but not in the requester's channel.
    #[error("user {user} is in another voice channel")]
    TargetNotInRequesterChannel {
        /// The resolved user.
        user: UserId,
    },
    /// The target names our own account.
    #[error("the target is this account itself")]
    TargetIsSelf,
    /// The target string matched several users equally well.
    #[error("{} users match; name one of: {}", candidates.len(), list(candidates))]
    TargetAmbiguous {
        /// The matching users, by user id.
        candidates: Vec<Candidate>,
    },
    /// No target was given and several people share.
    #[error("several people are sharing; name one of: {}", list(sharers))]
    MultipleSharersNeedTarget {
        /// Who shares, by user id.
        sharers: Vec<Candidate>,
    },
    /// No target was given and nobody shares.
    #[error("nobody is sharing a screen or camera")]
    NoSharer,
    /// The watch book is full ([`crate::MAX_WATCHES`]).
    #[error("too many watches are running")]
    TooManyWatches,
}

impl Refusal {
    /// The stable snake_case reason string.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::GuildUnknown => "guild_unknown",
            Self::RequesterNotInVoice => "requester_not_in_voice",
            Self::TargetNotFound { .. } => "target_not_found",
            Self::TargetNotInVoice { .. } => "target_not_in_voice",
            Self::TargetNotInRequesterChannel { .. } => "target_not_in_requester_channel",
            Self::TargetIsSelf => "target_is_self",
            Self::TargetAmbiguous { .. } => "target_ambiguous",
            Self::MultipleSharersNeedTarget { .. } => "multiple_sharers_need_target",
            Self::NoSharer => "no_sharer",
            Self::TooManyWatches => "too_many_watches",
        }
    }

    /// The user the refusal is about, when there is exactly one.
    pub fn target_user(&self) -> Option<UserId> {
        match self {
            Self::TargetNotInVoice { user } | Self::TargetNotInRequesterChannel { user } => {
                Some(*user)
            }
            _ => None,
        }
    }
}

//! What the session asks its caller to do.

use crate::media::Passthrough;

/// A DAVE message for the voice gateway (payload only; the caller frames it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Op 23 `ready_for_transition`.
    ReadyForTransition {
        /// Transition id.
        transition_id: u16,
    },
    /// Op 26: bare KeyPackage bytes (after the opcode byte).
    KeyPackage(Vec<u8>),
    /// Op 28: commit MLSMessage followed by the optional bare Welcome.
    CommitWelcome(Vec<u8>),
    /// Op 31 `invalid_commit_welcome`.
    InvalidCommitWelcome {
        /// Transition id of the failed commit/welcome.
        transition_id: u16,
    },
}

/// A state change the caller may want to log or react to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaveEvent {
    /// The MLS epoch changed (`0` = pending/no group).
    EpochChanged {
        /// New epoch.
        epoch: u64,
    },
    /// Whether outgoing media can be DAVE-encrypted changed.
    ReadyChanged {
        /// `true` once the sender key of the current epoch is installed.
        can_encrypt: bool,
    },
    /// The receive passthrough policy changed.
    PassthroughChanged {
        /// New policy.
        passthrough: Passthrough,
    },
    /// A transition executed with this protocol version (0 = transport-only).
    ProtocolVersionChanged {
        /// Protocol version now in effect.
        protocol_version: u16,
    },
}

/// One item from [`crate::DaveSession::poll_output`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionOutput {
    /// Send this to the voice gateway.
    Send(Outgoing),
    /// Informational event.
    Event(DaveEvent),
}

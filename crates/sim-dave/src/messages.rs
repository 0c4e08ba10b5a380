//! DAVE voice-gateway messages exchanged with one client, without wire framing.
//!
//! Binary opcodes carry exactly the bytes that follow the opcode byte (and the
//! transition id, for 29/30, as a separate field); JSON opcodes are small
//! structs. The `voice-proto` crate owns the sequence numbers and framing.

/// Operation type of an op 27 proposals message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProposalsOp {
    /// `0`: the vector holds MLSMessages (external proposals) to append.
    Append,
    /// `1`: the vector holds ProposalRefs to withdraw.
    Revoke,
}

impl ProposalsOp {
    /// The wire byte.
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Append => 0,
            Self::Revoke => 1,
        }
    }

    /// Parses the wire byte; `None` for unknown values.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(Self::Append),
            1 => Some(Self::Revoke),
            _ => None,
        }
    }
}

/// A message from the (simulated) voice gateway to one client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerDaveMsg {
    /// Op 11 `clients_connect`: these users are now recognised in the call.
    /// Not a DAVE opcode, but DAVE's add-proposal validation depends on it,
    /// so the gateway emits it in the right order relative to op 27.
    ClientsConnect {
        /// Newly recognised users.
        user_ids: Vec<u64>,
    },
    /// Op 13 `client_disconnect`.
    ClientDisconnect {
        /// The user who left.
        user_id: u64,
    },
    /// Op 21 `dave_protocol_prepare_transition`.
    PrepareTransition {
        /// Transition id (0 = execute immediately).
        transition_id: u16,
        /// Protocol version after the transition (0 = downgrade).
        protocol_version: u16,
    },
    /// Op 22 `dave_protocol_execute_transition`.
    ExecuteTransition {
        /// Transition id.
        transition_id: u16,
    },
    /// Op 24 `dave_protocol_prepare_epoch`.
    PrepareEpoch {
        /// Protocol version.
        protocol_version: u16,
        /// Epoch (1 = group is being (re)created).
        epoch: u64,
    },
    /// Op 25: the TLS-encoded `ExternalSender` (bytes after the opcode byte).
    ExternalSender(Vec<u8>),
    /// Op 27: proposals. The payload after the opcode byte is
    /// `[operation.to_byte()] + vector` (see [`ServerDaveMsg::binary_payload`]).
    Proposals {
        /// Append or revoke.
        operation: ProposalsOp,
        /// One MLS variable-length vector, *including* its length prefix.
        vector: Vec<u8>,
    },
    /// Op 29: the winning commit (an MLSMessage).
    AnnounceCommit {
        /// Transition id.
        transition_id: u16,
        /// The commit MLSMessage.
        commit: Vec<u8>,
    },
    /// Op 30: a bare `Welcome` holding only this joiner's group secrets.
    Welcome {
        /// Transition id.
        transition_id: u16,
        /// The Welcome.
        welcome: Vec<u8>,
    },
}

impl ServerDaveMsg {
    /// The voice-gateway opcode of this message.
    pub fn opcode(&self) -> u8 {
        match self {
            Self::ClientsConnect { .. } => 11,
            Self::ClientDisconnect { .. } => 13,
            Self::PrepareTransition { .. } => 21,
            Self::ExecuteTransition { .. } => 22,
            Self::PrepareEpoch { .. } => 24,
            Self::ExternalSender(_) => 25,
            Self::Proposals { .. } => 27,
            Self::AnnounceCommit { .. } => 29,
            Self::Welcome { .. } => 30,
        }
    }

    /// For binary opcodes, the exact bytes following the opcode byte on the
    /// wire (op 29/30 include the big-endian transition id); `None` for JSON ops.
    pub fn binary_payload(&self) -> Option<Vec<u8>> {
        match self {
            Self::ExternalSender(b) => Some(b.clone()),
            Self::Proposals { operation, vector } => {
                let mut out = Vec::with_capacity(vector.len() + 1);
                out.push(operation.to_byte());
                out.extend_from_slice(vector);
                Some(out)
            }
            Self::AnnounceCommit {
                transition_id,
                commit: body,
            }
            | Self::Welcome {
                transition_id,
                welcome: body,
            } => {
                let mut out = Vec::with_capacity(body.len() + 2);
                out.extend_from_slice(&transition_id.to_be_bytes());
                out.extend_from_slice(body);
                Some(out)
            }
            _ => None,
        }
    }
}

/// A message from one client to the voice gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientDaveMsg {
    /// Op 23 `dave_protocol_ready_for_transition`.
    ReadyForTransition {
        /// Transition id.
        transition_id: u16,
    },
    /// Op 26: a bare KeyPackage (bytes after the opcode byte).
    KeyPackage(Vec<u8>),
    /// Op 28: commit MLSMessage followed by an optional bare Welcome.
    CommitWelcome(Vec<u8>),
    /// Op 31 `dave_mls_invalid_commit_welcome`.
    InvalidCommitWelcome {
        /// Transition id of the commit/welcome that failed.
        transition_id: u16,
    },
}

/// Who an output message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Recipient {
    /// One user.
    User(u64),
    /// Every user connected to the group when the message is delivered.
    Broadcast,
}

/// One message the caller must deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayOutput {
    /// The MLS group (voice channel id, or `rtc_server_id - 1` for streams).
    pub group_id: u64,
    /// Destination.
    pub recipient: Recipient,
    /// The message.
    pub msg: ServerDaveMsg,
}

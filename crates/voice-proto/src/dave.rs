//! DAVE (E2EE) opcodes 21–31: JSON payloads and binary MLS frames.
//!
//! Binary frame layout: server → client `[seq u16 BE][op u8][payload]` on
//! gateway v8+ (`[op u8][payload]` before v8); client → server always
//! `[op u8][payload]`. The MLS contents are opaque bytes here; the DAVE
//! layer parses them.

use serde::{Deserialize, Serialize};

use crate::error::VoiceProtoError;
use crate::opcode::VoiceOpcode;

/// Op 21 DAVE Prepare Transition (server → client): a protocol version
/// change is coming; `protocol_version: 0` is a downgrade, and
/// `transition_id: 0` means "execute immediately, no op 23".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepareTransition {
    /// Transition id.
    pub transition_id: u16,
    /// Protocol version after the transition.
    pub protocol_version: u16,
}

/// Op 22 DAVE Execute Transition (server → client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecuteTransition {
    /// The transition to execute; unknown ids are harmless.
    pub transition_id: u16,
}

/// Op 23 DAVE Transition Ready (client → server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionReady {
    /// The transition the client is ready for.
    pub transition_id: u16,
    /// Added by songbird; not required by the whitepaper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<u16>,
}

/// Op 24 DAVE Prepare Epoch (server → client); `epoch: 1` means the group
/// is being (re)created and the client must send a fresh key package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepareEpoch {
    /// Protocol version for the epoch.
    pub protocol_version: u16,
    /// MLS epoch.
    pub epoch: u64,
}

/// Op 31 MLS Invalid Commit/Welcome (client → server): processing the
/// commit or welcome of this transition failed; the client resets and
/// sends a new key package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidCommitWelcome {
    /// The failed transition.
    pub transition_id: u16,
}

/// Op 27's operation type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProposalsOperation {
    /// 0: the vector holds MLSMessages with new proposals.
    Append,
    /// 1: the vector holds ProposalRefs to withdraw.
    Revoke,
}

impl ProposalsOperation {
    /// The wire byte.
    pub const fn as_u8(self) -> u8 {
        match self {
            Self::Append => 0,
            Self::Revoke => 1,
        }
    }

    /// From the wire byte.
    pub fn from_u8(b: u8) -> Result<Self, VoiceProtoError> {
        match b {
            0 => Ok(Self::Append),
            1 => Ok(Self::Revoke),
            other => Err(VoiceProtoError::BadProposalsOperation(other)),
        }
    }
}

/// A binary DAVE frame (ops 25–30). Payload bytes are MLS structures kept
/// opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaveBinary {
    /// 25, S→C: the gateway's ExternalSender.
    ExternalSender(Vec<u8>),
    /// 26, C→S: the client's (bare) KeyPackage.
    KeyPackage(Vec<u8>),
    /// 27, S→C: proposals to append or revoke.
    Proposals {
        /// Append or revoke.
        operation: ProposalsOperation,
        /// One MLS variable-length vector *including* its varint length
        /// prefix (what davey's `process_proposals` expects).
        proposals: Vec<u8>,
    },
    /// 28, C→S: a Commit MLSMessage optionally followed by a bare Welcome
    /// (no presence flag: the server infers it from trailing bytes).
    CommitWelcome(Vec<u8>),
    /// 29, S→C: the winning commit of a transition.
    AnnounceCommitTransition {
        /// Transition id (u16 BE on the wire).
        transition_id: u16,
        /// Commit MLSMessage.
        commit: Vec<u8>,
    },
    /// 30, S→C: a Welcome for a joiner.
    Welcome {
        /// Transition id (u16 BE on the wire).
        transition_id: u16,
        /// Bare Welcome.
        welcome: Vec<u8>,
    },
    /// Any other opcode in a binary frame, kept verbatim.
    Unknown {
        /// The opcode byte.
        op: u8,
        /// Everything after it.
        payload: Vec<u8>,
    },
}

/// Who may send a binary opcode.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sender {
    Server,
    Client,
    Either,
}

fn sender_of(op: u8) -> Sender {
    match op {
        25 | 27 | 29 | 30 => Sender::Server,
        26 | 28 => Sender::Client,
        _ => Sender::Either,
    }
}

/// Splits `[transition_id u16 BE][rest]`.
fn split_transition(payload: &[u8]) -> Result<(u16, Vec<u8>), VoiceProtoError> {
    match payload {
        [hi, lo, rest @ ..] => Ok((u16::from_be_bytes([*hi, *lo]), rest.to_vec())),
        _ => Err(VoiceProtoError::TooShort {
            needed: 2,
            got: payload.len(),
        }),
    }
}

impl DaveBinary {
    /// The opcode.
    pub fn opcode(&self) -> VoiceOpcode {
        VoiceOpcode::from_u8(self.op_byte())
    }

    fn op_byte(&self) -> u8 {
        match self {
            Self::ExternalSender(_) => 25,
            Self::KeyPackage(_) => 26,
            Self::Proposals { .. } => 27,
            Self::CommitWelcome(_) => 28,
            Self::AnnounceCommitTransition { .. } => 29,
            Self::Welcome { .. } => 30,
            Self::Unknown { op, .. } => *op,
        }
    }

    /// Decodes `[op][payload]` (direction already checked by the callers).
    fn decode_body(op: u8, payload: &[u8]) -> Result<Self, VoiceProtoError> {
        Ok(match op {
            25 => Self::ExternalSender(payload.to_vec()),
            26 => Self::KeyPackage(payload.to_vec()),
            27 => match payload {
                [kind, rest @ ..] => Self::Proposals {
                    operation: ProposalsOperation::from_u8(*kind)?,
                    proposals: rest.to_vec(),
                },
                [] => return Err(VoiceProtoError::TooShort { needed: 1, got: 0 }),
            },
            28 => Self::CommitWelcome(payload.to_vec()),
            29 => {
                let (transition_id, commit) = split_transition(payload)?;
                Self::AnnounceCommitTransition {
                    transition_id,
                    commit,
                }
            }
            30 => {
                let (transition_id, welcome) = split_transition(payload)?;
                Self::Welcome {
                    transition_id,
                    welcome,
                }
            }
            op => Self::Unknown {
                op,
                payload: payload.to_vec(),
            },
        })
    }

    /// Parses a binary frame received from the server. `with_seq` is
    /// [`crate::GatewayVersion::has_seq`]: v8+ frames start with a u16 BE
    /// sequence number, returned alongside the message (it shares the
    /// counter with JSON `seq`). Client-only opcodes (26, 28) are an error.
    pub fn parse_server(
        bytes: &[u8],
        with_seq: bool,
    ) -> Result<(Self, Option<u16>), VoiceProtoError> {
        let (seq, rest) = if with_seq {
            match bytes {
                [hi, lo, rest @ ..] => (Some(u16::from_be_bytes([*hi, *lo])), rest),
                _ => {
                    return Err(VoiceProtoError::TooShort {
                        needed: 3,
                        got: bytes.len(),
                    });
                }
            }
        } else {
            (None, bytes)
        };
        let (op, payload) = rest.split_first().ok_or(VoiceProtoError::TooShort {
            needed: bytes.len() + 1,
            got: bytes.len(),
        })?;
        if sender_of(*op) == Sender::Client {
            return Err(VoiceProtoError::WrongDirection { op: *op });
        }
        Ok((Self::decode_body(*op, payload)?, seq))
    }

    /// Parses a binary frame received from a client (`[op][payload]`, never
    /// a seq). Server-only opcodes (25, 27, 29, 30) are an error.
    pub fn parse_client(bytes: &[u8]) -> Result<Self, VoiceProtoError> {
        let (op, payload) = bytes
            .split_first()
            .ok_or(VoiceProtoError::TooShort { needed: 1, got: 0 })?;
        if sender_of(*op) == Sender::Server {
            return Err(VoiceProtoError::WrongDirection { op: *op });
        }
        Self::decode_body(*op, payload)
    }

    /// Appends `[op][payload]` to `out`.
    fn write_body(&self, out: &mut Vec<u8>) {
        out.push(self.op_byte());
        match self {
            Self::ExternalSender(b)
            | Self::KeyPackage(b)
            | Self::CommitWelcome(b)
            | Self::Unknown { payload: b, .. } => out.extend_from_slice(b),
            Self::Proposals {
                operation,
                proposals,
            } => {
                out.push(operation.as_u8());
                out.extend_from_slice(proposals);
            }
            Self::AnnounceCommitTransition {
                transition_id,
                commit: b,
            }
            | Self::Welcome {
                transition_id,
                welcome: b,
            } => {
                out.extend_from_slice(&transition_id.to_be_bytes());
                out.extend_from_slice(b);
            }
        }
    }

    /// Encodes a server → client frame, with the u16 BE `seq` prefix when
    /// given (v8+). Client-only opcodes cannot be encoded here.
    pub fn encode_server(&self, seq: Option<u16>) -> Result<Vec<u8>, VoiceProtoError> {
        if sender_of(self.op_byte()) == Sender::Client {
            return Err(VoiceProtoError::NotEncodable {
                op: self.op_byte(),
                reason: "client-to-server opcode in a server frame",
            });
        }
        let mut out = Vec::new();
        if let Some(seq) = seq {
            out.extend_from_slice(&seq.to_be_bytes());
        }
        self.write_body(&mut out);
        Ok(out)
    }

    /// Encodes a client → server frame (`[op][payload]`). Server-only
    /// opcodes cannot be encoded here.
    pub fn encode_client(&self) -> Result<Vec<u8>, VoiceProtoError> {
        if sender_of(self.op_byte()) == Sender::Server {
            return Err(VoiceProtoError::NotEncodable {
                op: self.op_byte(),
                reason: "server-to-client opcode in a client frame",
            });
        }
        let mut out = Vec::new();
        self.write_body(&mut out);
        Ok(out)
    }
}

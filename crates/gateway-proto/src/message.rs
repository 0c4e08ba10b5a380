//! The `{op, d, s, t}` envelope ([`GatewayMessage`]) and typed server
//! messages ([`ServerMessage`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dispatch::Dispatch;
use crate::error::GatewayProtoError;
use crate::opcode::GatewayOpcode;
use voice_proto::envelope as wire;

/// An untyped main gateway message: `{"op":N,"d":…,"s":N|null,"t":"…"|null}`.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayMessage {
    /// Opcode.
    pub op: GatewayOpcode,
    /// Payload (`null` when absent).
    pub d: Value,
    /// Dispatch sequence number (op 0 only).
    pub s: Option<u64>,
    /// Dispatch event name (op 0 only).
    pub t: Option<String>,
}

/// Serialized form; `s`/`t` are written as `null` or omitted.
#[derive(Serialize)]
struct OutEnvelope<'a> {
    op: u8,
    d: &'a Value,
    #[serde(skip_serializing_if = "Skip::skip")]
    s: Skip<Option<u64>>,
    #[serde(skip_serializing_if = "Skip::skip")]
    t: Skip<Option<&'a str>>,
}

/// A field that is omitted when `omit` is set and the value is `None`.
#[derive(Serialize)]
#[serde(transparent)]
struct Skip<T> {
    value: T,
    #[serde(skip)]
    omit: bool,
}

impl<T> Skip<Option<T>> {
    fn skip(&self) -> bool {
        self.omit && self.value.is_none()
    }
}

/// Serializes a payload type to a JSON value.
pub(crate) fn to_value<T: Serialize>(v: &T) -> Value {
    // Every payload type in this crate serializes to JSON infallibly: map
    // keys are strings and no Serialize impl returns an error.
    serde_json::to_value(v)
        .expect("infallible: gateway payloads are plain structs with string keys")
}

impl GatewayMessage {
    /// Parses a text frame. Missing `d`/`s`/`t` read as null.
    pub fn from_text(text: &str) -> Result<Self, GatewayProtoError> {
        let envelope = |message: String| GatewayProtoError::Envelope { message };
        let mut obj = wire::object(text).map_err(envelope)?;
        let op = wire::opcode(&obj).map_err(envelope)?;
        let s = wire::sequence(&obj, "s").map_err(envelope)?;
        let t = match obj.remove("t") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => Some(t),
            Some(v) => return Err(envelope(format!("`t` is not a string: {v}"))),
        };
        let d = wire::take_payload(&mut obj);
        Ok(Self {
            op: GatewayOpcode::from_u8(op),
            d,
            s,
            t,
        })
    }

    fn encode(&self, with_nulls: bool) -> String {
        let env = OutEnvelope {
            op: self.op.as_u8(),
            d: &self.d,
            s: Skip {
                value: self.s,
                omit: !with_nulls,
            },
            t: Skip {
                value: self.t.as_deref(),
                omit: !with_nulls,
            },
        };
        // A u8, a Value, an optional u64 and an optional str always
        // serialize.
        serde_json::to_string(&env)
            .expect("infallible: the envelope is a plain struct with string keys")
    }

    /// Encodes, omitting `s` and `t` when unset (the client style).
    pub fn to_text(&self) -> String {
        self.encode(false)
    }

    /// Encodes with all four keys, unset ones as `null` (the server style).
    pub fn to_text_with_nulls(&self) -> String {
        self.encode(true)
    }
}

/// Op 10 Hello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Heartbeat interval in milliseconds (e.g. 41250). The first
    /// heartbeat is due after `interval × jitter`, jitter in [0, 1).
    pub heartbeat_interval: u64,
}

impl Hello {
    /// The heartbeat interval.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.heartbeat_interval)
    }
}

/// A server → client main gateway message.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ServerMessage {
    /// Op 0.
    Dispatch {
        /// `s`; record it for heartbeats and Resume.
        seq: Option<u64>,
        /// The typed event.
        event: Dispatch,
    },
    /// Op 1 from the server: send a heartbeat now.
    HeartbeatRequest,
    /// Op 7: reconnect and resume.
    Reconnect,
    /// Op 9: `d` says whether the session can be resumed.
    InvalidSession {
        /// Resumable.
        resumable: bool,
    },
    /// Op 10.
    Hello(Hello),
    /// Op 11.
    HeartbeatAck,
    /// Any opcode without a typed server payload.
    Unknown {
        /// The opcode number.
        op: u8,
        /// The raw payload.
        d: Value,
    },
}

impl ServerMessage {
    /// The opcode.
    pub fn opcode(&self) -> GatewayOpcode {
        use GatewayOpcode as O;
        match self {
            Self::Dispatch { .. } => O::Dispatch,
            Self::HeartbeatRequest => O::Heartbeat,
            Self::Reconnect => O::Reconnect,
            Self::InvalidSession { .. } => O::InvalidSession,
            Self::Hello(_) => O::Hello,
            Self::HeartbeatAck => O::HeartbeatAck,
            Self::Unknown { op, .. } => O::from_u8(*op),
        }
    }

    /// Types an envelope received by a client. A dispatch whose payload
    /// does not match its event gives [`GatewayProtoError::Dispatch`]
    /// carrying the seq (see [`GatewayProtoError::seq`]); unknown events
    /// give [`Dispatch::Unknown`].
    pub fn from_message(msg: GatewayMessage) -> Result<Self, GatewayProtoError> {
        use GatewayOpcode as O;
        let op = msg.op.as_u8();
        Ok(match msg.op {
            O::Dispatch => {
                let t = msg.t.ok_or_else(|| GatewayProtoError::Envelope {
                    message: "dispatch without `t`".to_owned(),
                })?;
                let event = Dispatch::from_parts(&t, msg.d).map_err(|message| {
                    GatewayProtoError::Dispatch {
                        event: t.clone(),
                        seq: msg.s,
                        message,
                    }
                })?;
                Self::Dispatch { seq: msg.s, event }
            }
            O::Heartbeat => Self::HeartbeatRequest,
            O::Reconnect => Self::Reconnect,
            O::InvalidSession => Self::InvalidSession {
                resumable: match msg.d {
                    Value::Bool(b) => b,
                    Value::Null => false,
                    other => {
                        return Err(GatewayProtoError::Payload {
                            op,
                            message: format!("expected a boolean, got {other}"),
                        });
                    }
                },
            },
            O::Hello => Self::Hello(serde_json::from_value(msg.d).map_err(|e| {
                GatewayProtoError::Payload {
                    op,
                    message: e.to_string(),
                }
            })?),
            O::HeartbeatAck => Self::HeartbeatAck,
            O::Identify
            | O::PresenceUpdate
            | O::VoiceStateUpdate
            | O::VoiceServerPing
            | O::Resume
            | O::RequestGuildMembers
            | O::StreamCreate
            | O::StreamDelete
            | O::StreamWatch
            | O::StreamPing
            | O::StreamSetPaused
            | O::Unknown(_) => Self::Unknown { op, d: msg.d },
        })
    }

    /// The envelope.
    pub fn to_message(&self) -> GatewayMessage {
        let (d, s, t) = match self {
            Self::Dispatch { seq, event } => {
                (event.payload(), *seq, Some(event.event_name().to_owned()))
            }
            Self::HeartbeatRequest | Self::Reconnect | Self::HeartbeatAck => {
                (Value::Null, None, None)
            }
            Self::InvalidSession { resumable } => (Value::Bool(*resumable), None, None),
            Self::Hello(h) => (to_value(h), None, None),
            Self::Unknown { d, .. } => (d.clone(), None, None),
        };
        GatewayMessage {
            op: self.opcode(),
            d,
            s,
            t,
        }
    }

    /// Decodes a text frame sent by the server.
    pub fn from_text(text: &str) -> Result<Self, GatewayProtoError> {
        Self::from_message(GatewayMessage::from_text(text)?)
    }

    /// Encodes as Discord does: `{"op","d","s","t"}` with nulls.
    pub fn to_text(&self) -> String {
        self.to_message().to_text_with_nulls()
    }
}

//! Client → server commands other than Identify/Resume: op 4 voice state,
//! Go Live ops 18–22, and the [`ClientCommand`] enum.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use voice_proto::{ChannelId, GuildId, UserId};

use crate::error::GatewayProtoError;
use crate::identify::{Identify, Resume};
use crate::message::{GatewayMessage, to_value};
use crate::opcode::GatewayOpcode;
use crate::stream_key::StreamKey;

/// Op 4 Voice State Update: join, move or leave voice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateVoiceState {
    /// Guild; `null` for DM calls. Always serialized.
    #[serde(default)]
    pub guild_id: Option<GuildId>,
    /// Channel; `null` leaves voice. Always serialized.
    #[serde(default)]
    pub channel_id: Option<ChannelId>,
    /// Self-mute.
    #[serde(default)]
    pub self_mute: bool,
    /// Self-deafen.
    #[serde(default)]
    pub self_deaf: bool,
    /// Camera on (ignored for bots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_video: Option<bool>,
    /// Preferred media region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_region: Option<String>,
    /// Preferred media regions (user clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_regions: Option<Vec<String>>,
    /// Voice flags (user clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<u32>,
}

impl UpdateVoiceState {
    /// Join `channel_id` (in `guild_id`, or a DM call when `None`), muted
    /// and deafened as given, camera off.
    pub fn join(
        guild_id: Option<GuildId>,
        channel_id: ChannelId,
        self_mute: bool,
        self_deaf: bool,
    ) -> Self {
        Self {
            guild_id,
            channel_id: Some(channel_id),
            self_mute,
            self_deaf,
            self_video: Some(false),
            preferred_region: None,
            preferred_regions: None,
            flags: None,
        }
    }

    /// Leave voice in `guild_id` (or the current DM call when `None`).
    pub fn leave(guild_id: Option<GuildId>) -> Self {
        Self {
            guild_id,
            channel_id: None,
            self_mute: false,
            self_deaf: false,
            self_video: None,
            preferred_region: None,
            preferred_regions: None,
            flags: None,
        }
    }
}

crate::string_enum! {
    /// `type` of op 18 Stream Create.
    StreamKind {
        /// A guild voice channel stream.
        Guild = "guild",
        /// A DM / group DM call stream.
        Call = "call",
    }
}

/// Op 18 Stream Create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateStream {
    /// Guild or call.
    #[serde(rename = "type")]
    pub kind: StreamKind,
    /// Guild; `null` for calls. Always serialized.
    #[serde(default)]
    pub guild_id: Option<GuildId>,
    /// The voice channel the owner is in.
    pub channel_id: ChannelId,
    /// Preferred region, usually `null`. Always serialized.
    #[serde(default)]
    pub preferred_region: Option<String>,
}

impl CreateStream {
    /// A stream in a guild voice channel.
    pub fn guild(guild_id: GuildId, channel_id: ChannelId) -> Self {
        Self {
            kind: StreamKind::Guild,
            guild_id: Some(guild_id),
            channel_id,
            preferred_region: None,
        }
    }

    /// A stream in a DM / group DM call.
    pub fn call(channel_id: ChannelId) -> Self {
        Self {
            kind: StreamKind::Call,
            guild_id: None,
            channel_id,
            preferred_region: None,
        }
    }

    /// The key the stream will have when `owner` creates it; `None` for an
    /// unknown kind or a guild stream without a guild id.
    pub fn stream_key(&self, owner: UserId) -> Option<StreamKey> {
        match (&self.kind, self.guild_id) {
            (StreamKind::Guild, Some(guild_id)) => Some(StreamKey::Guild {
                guild_id,
                channel_id: self.channel_id,
                user_id: owner,
            }),
            (StreamKind::Call, _) => Some(StreamKey::Call {
                channel_id: self.channel_id,
                user_id: owner,
            }),
            _ => None,
        }
    }
}

/// `{stream_key}`: the payload of ops 19, 20 and 21.
#[derive(Serialize, Deserialize)]
struct StreamKeyPayload {
    stream_key: StreamKey,
}

/// Op 22 Stream Set Paused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetStreamPaused {
    /// Own stream.
    pub stream_key: StreamKey,
    /// Paused or not.
    pub paused: bool,
}

/// A client → server main gateway message.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ClientCommand {
    /// Op 1: `d` = last dispatch seq (null before the first).
    Heartbeat(Option<u64>),
    /// Op 2 (boxed: it is several times larger than every other command).
    Identify(Box<Identify>),
    /// Op 4.
    UpdateVoiceState(UpdateVoiceState),
    /// Op 5 (`null`).
    VoiceServerPing,
    /// Op 6.
    Resume(Resume),
    /// Op 18.
    CreateStream(CreateStream),
    /// Op 19 `{stream_key}`: owner stops, viewer leaves.
    DeleteStream(StreamKey),
    /// Op 20 `{stream_key}`.
    WatchStream(StreamKey),
    /// Op 21 `{stream_key}`.
    PingStream(StreamKey),
    /// Op 22.
    SetStreamPaused(SetStreamPaused),
    /// Any opcode without a typed client payload (3, 8, server opcodes,
    /// unknown numbers).
    Unknown {
        /// The opcode number.
        op: u8,
        /// The raw payload.
        d: Value,
    },
}

fn typed<T: for<'de> Deserialize<'de>>(op: u8, d: Value) -> Result<T, GatewayProtoError> {
    serde_json::from_value(d).map_err(|e| GatewayProtoError::Payload {
        op,
        message: e.to_string(),
    })
}

fn key_of(op: u8, d: Value) -> Result<StreamKey, GatewayProtoError> {
    typed::<StreamKeyPayload>(op, d).map(|p| p.stream_key)
}

impl ClientCommand {
    /// The opcode.
    pub fn opcode(&self) -> GatewayOpcode {
        use GatewayOpcode as O;
        match self {
            Self::Heartbeat(_) => O::Heartbeat,
            Self::Identify(_) => O::Identify,
            Self::UpdateVoiceState(_) => O::VoiceStateUpdate,
            Self::VoiceServerPing => O::VoiceServerPing,
            Self::Resume(_) => O::Resume,
            Self::CreateStream(_) => O::StreamCreate,
            Self::DeleteStream(_) => O::StreamDelete,
            Self::WatchStream(_) => O::StreamWatch,
            Self::PingStream(_) => O::StreamPing,
            Self::SetStreamPaused(_) => O::StreamSetPaused,
            Self::Unknown { op, .. } => O::from_u8(*op),
        }
    }

    /// Types an envelope received by a server. `s` and `t` are ignored.
    pub fn from_message(msg: GatewayMessage) -> Result<Self, GatewayProtoError> {
        use GatewayOpcode as O;
        let op = msg.op.as_u8();
        let d = msg.d;
        Ok(match msg.op {
            O::Heartbeat => Self::Heartbeat(typed(op, d)?),
            O::Identify => Self::Identify(typed(op, d)?),
            O::VoiceStateUpdate => Self::UpdateVoiceState(typed(op, d)?),
            O::VoiceServerPing => Self::VoiceServerPing,
            O::Resume => Self::Resume(typed(op, d)?),
            O::StreamCreate => Self::CreateStream(typed(op, d)?),
            O::StreamDelete => Self::DeleteStream(key_of(op, d)?),
            O::StreamWatch => Self::WatchStream(key_of(op, d)?),
            O::StreamPing => Self::PingStream(key_of(op, d)?),
            O::StreamSetPaused => Self::SetStreamPaused(typed(op, d)?),
            O::Dispatch
            | O::PresenceUpdate
            | O::Reconnect
            | O::RequestGuildMembers
            | O::InvalidSession
            | O::Hello
            | O::HeartbeatAck
            | O::Unknown(_) => Self::Unknown { op, d },
        })
    }

    /// The envelope (`s` and `t` unset).
    pub fn to_message(&self) -> GatewayMessage {
        let d = match self {
            Self::Heartbeat(seq) => to_value(seq),
            Self::Identify(p) => to_value(p),
            Self::UpdateVoiceState(p) => to_value(p),
            Self::VoiceServerPing => Value::Null,
            Self::Resume(p) => to_value(p),
            Self::CreateStream(p) => to_value(p),
            Self::DeleteStream(k) | Self::WatchStream(k) | Self::PingStream(k) => {
                to_value(&StreamKeyPayload { stream_key: *k })
            }
            Self::SetStreamPaused(p) => to_value(p),
            Self::Unknown { d, .. } => d.clone(),
        };
        GatewayMessage {
            op: self.opcode(),
            d,
            s: None,
            t: None,
        }
    }

    /// Decodes a text frame sent by a client.
    pub fn from_text(text: &str) -> Result<Self, GatewayProtoError> {
        Self::from_message(GatewayMessage::from_text(text)?)
    }

    /// Encodes as `{"op":N,"d":…}` (no `s`/`t`, as clients send it).
    pub fn to_text(&self) -> String {
        self.to_message().to_text()
    }
}

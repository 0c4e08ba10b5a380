//! [`Dispatch`]: typed op 0 events, keyed by `t`.

use serde::Deserialize;
use serde_json::Value;

use crate::events::{
    CallCreate, CallDelete, CallUpdate, Guild, MessageCreate, Ready, StreamDelete, StreamInfo,
    StreamServerUpdate, VoiceServerUpdate, VoiceState,
};
use crate::message::to_value;

/// A dispatch event. Events this crate does not model are
/// [`Dispatch::Unknown`] with the raw payload.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Dispatch {
    /// `READY`.
    Ready(Ready),
    /// `RESUMED` (payload ignored).
    Resumed,
    /// `GUILD_CREATE`.
    GuildCreate(Guild),
    /// `VOICE_STATE_UPDATE`.
    VoiceStateUpdate(VoiceState),
    /// `VOICE_SERVER_UPDATE`.
    VoiceServerUpdate(VoiceServerUpdate),
    /// `STREAM_CREATE`.
    StreamCreate(StreamInfo),
    /// `STREAM_SERVER_UPDATE`.
    StreamServerUpdate(StreamServerUpdate),
    /// `STREAM_UPDATE`.
    StreamUpdate(StreamInfo),
    /// `STREAM_DELETE`.
    StreamDelete(StreamDelete),
    /// `MESSAGE_CREATE`.
    MessageCreate(MessageCreate),
    /// `CALL_CREATE`.
    CallCreate(CallCreate),
    /// `CALL_UPDATE`.
    CallUpdate(CallUpdate),
    /// `CALL_DELETE`.
    CallDelete(CallDelete),
    /// Any other event.
    Unknown {
        /// Event name.
        t: String,
        /// Raw payload.
        d: Value,
    },
}

fn typed<T: for<'de> Deserialize<'de>>(d: Value) -> Result<T, String> {
    serde_json::from_value(d).map_err(|e| e.to_string())
}

impl Dispatch {
    /// Types an event from its name and payload; the error is serde's
    /// message (wrapped with the name and seq by the caller).
    pub(crate) fn from_parts(t: &str, d: Value) -> Result<Self, String> {
        Ok(match t {
            "READY" => Self::Ready(typed(d)?),
            "RESUMED" => Self::Resumed,
            "GUILD_CREATE" => Self::GuildCreate(typed(d)?),
            "VOICE_STATE_UPDATE" => Self::VoiceStateUpdate(typed(d)?),
            "VOICE_SERVER_UPDATE" => Self::VoiceServerUpdate(typed(d)?),
            "STREAM_CREATE" => Self::StreamCreate(typed(d)?),
            "STREAM_SERVER_UPDATE" => Self::StreamServerUpdate(typed(d)?),
            "STREAM_UPDATE" => Self::StreamUpdate(typed(d)?),
            "STREAM_DELETE" => Self::StreamDelete(typed(d)?),
            "MESSAGE_CREATE" => Self::MessageCreate(typed(d)?),
            "CALL_CREATE" => Self::CallCreate(typed(d)?),
            "CALL_UPDATE" => Self::CallUpdate(typed(d)?),
            "CALL_DELETE" => Self::CallDelete(typed(d)?),
            _ => Self::Unknown { t: t.to_owned(), d },
        })
    }

    /// The event name (`t`).
    pub fn event_name(&self) -> &str {
        match self {
            Self::Ready(_) => "READY",
            Self::Resumed => "RESUMED",
            Self::GuildCreate(_) => "GUILD_CREATE",
            Self::VoiceStateUpdate(_) => "VOICE_STATE_UPDATE",
            Self::VoiceServerUpdate(_) => "VOICE_SERVER_UPDATE",
            Self::StreamCreate(_) => "STREAM_CREATE",
            Self::StreamServerUpdate(_) => "STREAM_SERVER_UPDATE",
            Self::StreamUpdate(_) => "STREAM_UPDATE",
            Self::StreamDelete(_) => "STREAM_DELETE",
            Self::MessageCreate(_) => "MESSAGE_CREATE",
            Self::CallCreate(_) => "CALL_CREATE",
            Self::CallUpdate(_) => "CALL_UPDATE",
            Self::CallDelete(_) => "CALL_DELETE",
            Self::Unknown { t, .. } => t,
        }
    }

    /// The payload `d`.
    pub fn payload(&self) -> Value {
        match self {
            Self::Ready(p) => to_value(p),
            Self::Resumed => Value::Object(serde_json::Map::new()),
            Self::GuildCreate(p) => to_value(p),
            Self::VoiceStateUpdate(p) => to_value(p),
            Self::VoiceServerUpdate(p) => to_value(p),
            Self::StreamCreate(p) | Self::StreamUpdate(p) => to_value(p),
            Self::StreamServerUpdate(p) => to_value(p),
            Self::StreamDelete(p) => to_value(p),
            Self::MessageCreate(p) => to_value(p),
            Self::CallCreate(p) => to_value(p),
            Self::CallUpdate(p) => to_value(p),
            Self::CallDelete(p) => to_value(p),
            Self::Unknown { d, .. } => d.clone(),
        }
    }
}

//! Discord main gateway wire vocabulary: opcodes, the `{op, d, s, t}`
//! envelope, typed dispatch events and client commands (including the
//! user-account Go Live opcodes 18–22), stream keys, close-code policy and
//! bot intents. Pure data and codecs: no IO, no clock, no randomness.
//!
//! The same types serve the project's gateway client (control) and the
//! offline Discord simulator, so every payload both serializes and
//! deserializes and both directions are modelled.
//!
//! # How to drive it
//!
//! * Client side: decode frames with [`ServerMessage::from_text`]; record
//!   `seq` of every [`ServerMessage::Dispatch`] — and of failed dispatches
//!   too, via [`GatewayProtoError::seq`]. Send [`ClientCommand::to_text`]
//!   (`{"op","d"}` only).
//! * Simulator side: [`ClientCommand::from_text`] and
//!   [`ServerMessage::to_text`] (all four envelope keys, as Discord writes
//!   them).
//! * [`GatewayMessage`] is the untyped envelope both go through; use it to
//!   look at opcodes this crate does not type.
//! * Go Live: [`StreamKey`] parses/formats `guild:G:C:U`, `call:C:U` and
//!   `test:U`; [`CreateStream::stream_key`] predicts the key of an own
//!   stream; [`StreamInfo::dave_channel_id`] gives the stream's DAVE group.
//! * On close: [`GatewayCloseCode::should_reconnect`] and
//!   [`GatewayCloseCode::can_resume`].
//!
//! # Design notes
//!
//! * Snowflake ids come from `voice-proto` (re-exported here) so the voice
//!   and gateway sides share one [`UserId`] etc.
//! * Only the fields this project needs are modelled; unknown fields are
//!   ignored on decode, so a round trip drops them (except Identify
//!   `properties`, kept verbatim in [`ConnectionProperties::extra`]).
//! * Nullable fields whose `null` carries meaning (`channel_id: null` =
//!   left voice, `endpoint: null` = reallocating, `guild_id: null` = DM) are
//!   always serialized; other optional fields are omitted when unset.
//! * User and bot Identify differ (`capabilities` vs `intents`); decoding
//!   picks [`Identify::Bot`] exactly when `intents` is present.
//!
//! # Errors
//! One error type, [`GatewayProtoError`]. No parser panics on any input
//! (property-tested).

// The string-enum macro is shared with voice-proto (one definition).
use voice_proto::string_enum;

mod close;
mod commands;
mod dispatch;
mod error;
mod events;
mod identify;
mod intents;
mod message;
mod opcode;
mod stream_key;

pub use close::GatewayCloseCode;
pub use commands::{ClientCommand, CreateStream, SetStreamPaused, StreamKind, UpdateVoiceState};
pub use dispatch::Dispatch;
pub use error::GatewayProtoError;
pub use events::{
    CallCreate, CallDelete, CallUpdate, Channel, Guild, Member, MessageCreate, Ready, StreamDelete,
    StreamDeleteReason, StreamInfo, StreamServerUpdate, User, VoiceServerUpdate, VoiceState,
    stream_dave_channel_id,
};
pub use identify::{
    AUTO_CALL_CONNECT, BotIdentify, ConnectionProperties, DEFAULT_CLIENT_BUILD_NUMBER, Identify,
    Presence, Resume, USER_CAPABILITIES, USER_CLIENT_BROWSER_VERSION, USER_CLIENT_USER_AGENT,
    UserIdentify,
};
pub use intents::Intents;
pub use message::{GatewayMessage, Hello, ServerMessage};
pub use opcode::GatewayOpcode;
pub use stream_key::StreamKey;
pub use voice_proto::{
    ChannelId, GuildId, MessageId, ParseSnowflakeError, Secret, ServerId, UserId,
};

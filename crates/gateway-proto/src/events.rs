//! Payloads of the modelled dispatch events.
//!
//! Only the fields this project uses are modelled; unknown fields are
//! ignored on decode (and therefore dropped by a round trip).

use serde::{Deserialize, Serialize};
use voice_proto::{ChannelId, GuildId, MessageId, Secret, ServerId, UserId};

use crate::stream_key::StreamKey;

/// A user object (minimal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// User id.
    pub id: UserId,
    /// Username.
    #[serde(default)]
    pub username: String,
    /// Legacy discriminator (`"0"` for migrated users).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discriminator: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_name: Option<String>,
    /// True for bot accounts (absent = false).
    #[serde(default)]
    pub bot: bool,
}

/// A guild member (minimal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The user (absent in some partial member objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Guild nickname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nick: Option<String>,
}

/// A channel (minimal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    /// Channel id.
    pub id: ChannelId,
    /// Channel type number, see the associated constants.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Name (absent for DMs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Owning guild (omitted inside GUILD_CREATE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<GuildId>,
    /// DMs and group DMs: the recipients other than the requesting user
    /// (discord-userdoccers `pages/resources/channel.mdx`: `recipients?`
    /// "excluding the requesting user"; absent for guild channels).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<User>,
}

impl Channel {
    /// Guild text channel.
    pub const GUILD_TEXT: u8 = 0;
    /// DM.
    pub const DM: u8 = 1;
    /// Guild voice channel.
    pub const GUILD_VOICE: u8 = 2;
    /// Group DM.
    pub const GROUP_DM: u8 = 3;
    /// Stage channel.
    pub const GUILD_STAGE_VOICE: u8 = 13;

    /// True for channels one can join with voice (voice and stage).
    pub fn is_voice(&self) -> bool {
        matches!(self.kind, Self::GUILD_VOICE | Self::GUILD_STAGE_VOICE)
    }
}

/// A guild as sent in GUILD_CREATE and in a user account's READY (bots get
/// `{id, unavailable: true}` stubs in READY, which this also represents).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guild {
    /// Guild id.
    pub id: GuildId,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// True for an outage / not-yet-loaded stub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<bool>,
    /// Channels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
    /// Members (may be partial).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
    /// Current voice states (without `guild_id`); `self_stream: true`
    /// reveals Go Live streams already running.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub voice_states: Vec<VoiceState>,
}

/// READY.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    /// API version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<u8>,
    /// Own user.
    pub user: User,
    /// Session id for Resume.
    pub session_id: Secret,
    /// URL to resume on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_gateway_url: Option<String>,
    /// Guilds.
    #[serde(default)]
    pub guilds: Vec<Guild>,
    /// User accounts: the DMs and group DMs the user is in
    /// (discord-userdoccers `pages/gateway/gateway-events.mdx` Ready
    /// Structure: `private_channels` "The DMs and group DMs the user is
    /// participating in"). Their ongoing calls are not in READY: they come
    /// as CALL_CREATE ([`CallCreate`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub private_channels: Vec<Channel>,
}

/// A voice state (VOICE_STATE_UPDATE, GUILD_CREATE `voice_states`).
///
/// The own VOICE_STATE_UPDATE's `session_id` is used by both the voice and
/// the stream connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceState {
    /// Guild (absent for DMs and inside GUILD_CREATE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<GuildId>,
    /// Channel; `null` means the user left voice. Always serialized.
    #[serde(default)]
    pub channel_id: Option<ChannelId>,
    /// The user.
    pub user_id: UserId,
    /// Member object (guilds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<Member>,
    /// Voice session id.
    pub session_id: Secret,
    /// Server-deafened.
    #[serde(default)]
    pub deaf: bool,
    /// Server-muted.
    #[serde(default)]
    pub mute: bool,
    /// Self-deafened.
    #[serde(default)]
    pub self_deaf: bool,
    /// Self-muted.
    #[serde(default)]
    pub self_mute: bool,
    /// Go Live active (absent = not streaming).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_stream: Option<bool>,
    /// Camera on.
    #[serde(default)]
    pub self_video: bool,
    /// Suppressed (stage).
    #[serde(default)]
    pub suppress: bool,
    /// ISO-8601 timestamp of a stage speak request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_to_speak_timestamp: Option<String>,
}

impl VoiceState {
    /// True when the user is streaming (Go Live).
    pub fn is_streaming(&self) -> bool {
        self.self_stream == Some(true)
    }
}

/// VOICE_SERVER_UPDATE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceServerUpdate {
    /// Voice token for Identify.
    pub token: Secret,
    /// Guild (`null` for DM calls). Always serialized.
    #[serde(default)]
    pub guild_id: Option<GuildId>,
    /// Voice endpoint (host:port, no scheme); `null` = being reallocated:
    /// disconnect and wait for the next update. Always serialized.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// DM / private calls only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
}

/// The stream object of STREAM_CREATE and STREAM_UPDATE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamInfo {
    /// Which stream.
    pub stream_key: StreamKey,
    /// STREAM_CREATE only: the `server_id` to identify the stream
    /// connection with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtc_server_id: Option<ServerId>,
    /// STREAM_CREATE only: the v9 Identify `channel_id` of the stream
    /// connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtc_channel_id: Option<ChannelId>,
    /// Media region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Current viewers.
    #[serde(default)]
    pub viewer_ids: Vec<UserId>,
    /// Paused by the owner.
    #[serde(default)]
    pub paused: bool,
}

impl StreamInfo {
    /// The DAVE (MLS group) channel id of the stream connection:
    /// `rtc_server_id − 1`. Community-derived (four independent
    /// implementations and the user-docs agree), not in official docs.
    pub fn dave_channel_id(&self) -> Option<u64> {
        self.rtc_server_id.and_then(stream_dave_channel_id)
    }
}

/// STREAM_SERVER_UPDATE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamServerUpdate {
    /// Which stream.
    pub stream_key: StreamKey,
    /// Stream server endpoint; `null` = reallocating. Always serialized.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Token for the stream connection's Identify.
    pub token: Secret,
    /// Guild (`null` for calls). Always serialized.
    #[serde(default)]
    pub guild_id: Option<GuildId>,
}

crate::string_enum! {
    /// Why a stream was deleted (STREAM_DELETE `reason`).
    StreamDeleteReason {
        /// The owner stopped or the viewer left.
        UserRequested = "user_requested",
        /// The stream ended.
        StreamEnded = "stream_ended",
        /// Too many viewers (≈50).
        StreamFull = "stream_full",
        /// Not allowed to watch.
        Unauthorized = "unauthorized",
        /// Guild rate-limited for safety.
        SafetyGuildRateLimited = "safety_guild_rate_limited",
        /// The stream key could not be parsed.
        ParseFailed = "parse_failed",
        /// The channel is not valid for streaming.
        InvalidChannel = "invalid_channel",
    }
}

/// STREAM_DELETE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamDelete {
    /// Which stream.
    pub stream_key: StreamKey,
    /// Why.
    pub reason: StreamDeleteReason,
    /// Set when the stream server became unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<bool>,
}

/// CALL_CREATE: a call in a DM / group DM exists, with who is in it.
///
/// discord-userdoccers `pages/gateway/gateway-events.mdx` "Call Create":
/// "Sent when a user creates a call in a private channel, or to inform the
/// client of an existing call after a Request Call Connect" — and, with the
/// `AUTO_CALL_CONNECT` capability (1 << 12), "for all calls created before
/// the Gateway connection was established" (`using-gateway.mdx`). Fields:
/// `channel_id`, `message_id`, `region`, `ringing` (user ids),
/// `voice_states` ("The voice states of the users already in the call").
/// Captured payloads agree (TurbulenceDev/Turbulence `docs/voice.md`,
/// polyphony-chat/chorus `src/types/events/call.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallCreate {
    /// The DM / group DM channel of the call.
    pub channel_id: ChannelId,
    /// The call's system message (documented; tolerated when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    /// Voice region id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Users being rung.
    #[serde(default)]
    pub ringing: Vec<UserId>,
    /// Voice states of the users already in the call (`guild_id` absent).
    #[serde(default)]
    pub voice_states: Vec<VoiceState>,
}

/// CALL_UPDATE: a call's metadata changed (userdoccers "Call Update":
/// `channel_id`, `message_id`, `region`, `ringing`; no voice states).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallUpdate {
    /// The DM / group DM channel of the call.
    pub channel_id: ChannelId,
    /// The call's system message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    /// Voice region id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Users being rung.
    #[serde(default)]
    pub ringing: Vec<UserId>,
}

/// CALL_DELETE: the call ended, or is unavailable in an outage
/// (userdoccers "Call Delete": `channel_id`, `unavailable?`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallDelete {
    /// The DM / group DM channel of the call.
    pub channel_id: ChannelId,
    /// Set when the call is unavailable due to an outage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<bool>,
}

/// MESSAGE_CREATE (minimal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageCreate {
    /// Message id.
    pub id: MessageId,
    /// Channel.
    pub channel_id: ChannelId,
    /// Guild (absent in DMs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<GuildId>,
    /// Author.
    pub author: User,
    /// Text (empty without the MESSAGE_CONTENT intent).
    #[serde(default)]
    pub content: String,
}

/// The DAVE (MLS group) channel id of a Go Live stream connection:
/// `rtc_server_id − 1` (`None` for 0). The gateway side's one place of this
/// rule; [`StreamInfo::dave_channel_id`] and control's registry use it.
pub fn stream_dave_channel_id(rtc_server_id: ServerId) -> Option<u64> {
    rtc_server_id.get().checked_sub(1)
}

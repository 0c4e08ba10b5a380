//! What the registry stores and reports: names, voice presence, streams
//! and their credentials, our own voice, and [`RegistryEvent`].

use super::*;
use gateway_proto::Secret;

/// What we know of a user's names in a guild.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// Guild nickname.
    pub nick: Option<String>,
    /// Global display name.
    pub global_name: Option<String>,
    /// Username.
    pub username: Option<String>,
}

impl Names {
    pub(super) fn from_user(user: &User) -> Self {
        Self {
            nick: None,
            global_name: user.global_name.as_deref().map(cap_name),
            username: (!user.username.is_empty()).then(|| cap_name(&user.username)),
        }
    }

    pub(super) fn from_member(member: &Member) -> Self {
        let mut names = member
            .user
            .as_ref()
            .map(Self::from_user)
            .unwrap_or_default();
        names.nick = member.nick.as_deref().map(cap_name);
        names
    }

    /// Overwrites the fields `newer` has.
    pub(super) fn merge(&mut self, newer: Names) {
        if newer.nick.is_some() {
            self.nick = newer.nick;
        }
        if newer.global_name.is_some() {
            self.global_name = newer.global_name;
        }
        if newer.username.is_some() {
            self.username = newer.username;
        }
    }

    /// The name to show: nick, then global name, then username.
    pub fn display(&self) -> Option<&str> {
        self.nick
            .as_deref()
            .or(self.global_name.as_deref())
            .or(self.username.as_deref())
    }

    /// Every known name (nick, global name, username).
    pub fn all(&self) -> impl Iterator<Item = &str> {
        [&self.nick, &self.global_name, &self.username]
            .into_iter()
            .filter_map(|n| n.as_deref())
    }
}

/// A user's voice state in a guild, as far as watching cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoicePresence {
    /// The voice channel.
    pub channel_id: ChannelId,
    /// Go Live active.
    pub self_stream: bool,
    /// Camera on.
    pub self_video: bool,
}

/// One Go Live stream the registry knows, discovered from a voice state
/// (`self_stream`, "provisional") or from STREAM_CREATE.
#[derive(Clone, PartialEq, Eq)]
pub struct Stream {
    /// The key (`guild:` form in a guild, `call:` form in a call).
    pub key: StreamKey,
    /// The guild or call.
    pub place: Place,
    /// The voice channel.
    pub channel_id: ChannelId,
    /// The streaming user.
    pub owner: UserId,
    /// STREAM_CREATE seen (otherwise provisional, from a voice state).
    pub created: bool,
    /// From STREAM_CREATE: the stream connection's `server_id`.
    pub rtc_server_id: Option<ServerId>,
    /// From STREAM_CREATE: the stream connection's Identify `channel_id`.
    pub rtc_channel_id: Option<ChannelId>,
    /// Media region.
    pub region: Option<String>,
    /// From STREAM_SERVER_UPDATE: the stream server endpoint.
    pub endpoint: Option<String>,
    /// From STREAM_SERVER_UPDATE: the stream connection token.
    pub token: Option<Secret>,
    /// Paused by its owner.
    pub paused: bool,
    /// Current viewers (capped).
    pub viewer_ids: Vec<UserId>,
    /// Discovery order (larger = newer); replaces a clock.
    pub discovered_seq: u64,
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream")
            .field("key", &self.key.to_string())
            .field("created", &self.created)
            .field("rtc_server_id", &self.rtc_server_id)
            .field("rtc_channel_id", &self.rtc_channel_id)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("token", &self.token)
            .field("paused", &self.paused)
            .field("viewers", &self.viewer_ids.len())
            .field("discovered_seq", &self.discovered_seq)
            .finish()
    }
}

/// What a stream connection needs from the main gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamCredentials {
    /// Stream server endpoint.
    pub endpoint: String,
    /// Stream connection token.
    pub token: Secret,
    /// `server_id` to identify with.
    pub rtc_server_id: ServerId,
    /// DAVE group id ([`stream_dave_group_id`]).
    pub dave_group_id: u64,
}

impl Stream {
    /// Endpoint, token and a usable `rtc_server_id` (≥ 2), when all known.
    pub fn credentials(&self) -> Option<StreamCredentials> {
        let rtc_server_id = self.rtc_server_id.filter(|s| s.get() >= 2)?;
        Some(StreamCredentials {
            endpoint: self.endpoint.clone()?,
            token: self.token.clone()?,
            rtc_server_id,
            dave_group_id: stream_dave_group_id(rtc_server_id),
        })
    }

    /// Ranking for [`Registry::primary_stream`]: credentials, then created,
    /// then newest.
    pub(super) fn rank(&self) -> (u8, u64) {
        let level = if self.credentials().is_some() {
            2
        } else {
            u8::from(self.created)
        };
        (level, self.discovered_seq)
    }
}

/// Credentials from our own VOICE_SERVER_UPDATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceServer {
    /// Voice endpoint.
    pub endpoint: String,
    /// Voice token.
    pub token: Secret,
}

/// Our own voice connection in a guild ([`Registry::own_voice`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnVoice {
    /// Our voice channel.
    pub channel_id: ChannelId,
    /// Our voice session id (shared by the voice and stream connections).
    pub session_id: Secret,
    /// VOICE_SERVER_UPDATE credentials; `None` before the first one or
    /// while the endpoint is being reallocated.
    pub server: Option<VoiceServer>,
}

/// Why a stream left the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEndReason {
    /// STREAM_DELETE.
    Deleted {
        /// Discord's reason.
        reason: StreamDeleteReason,
        /// The stream server became unavailable.
        unavailable: bool,
    },
    /// The owner's voice state says `self_stream: false`.
    OwnerStoppedGoLive,
    /// The owner left voice.
    OwnerLeftVoice,
    /// The owner moved to another channel (a stream belongs to a channel).
    OwnerMovedChannel,
    /// A new READY replaced the whole state.
    SessionReset,
}

impl StreamEndReason {
    /// Stable snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Deleted { .. } => "stream_deleted",
            Self::OwnerStoppedGoLive => "owner_stopped_go_live",
            Self::OwnerLeftVoice => "owner_left_voice",
            Self::OwnerMovedChannel => "owner_moved_channel",
            Self::SessionReset => "session_reset",
        }
    }
}

/// What changed, for the shell (and for [`crate::WatchBook`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryEvent {
    /// A guild was loaded (GUILD_CREATE, or a full guild in READY).
    GuildAvailable {
        /// The guild.
        guild: GuildId,
    },
    /// A guild was not stored because [`Limits::max_guilds`] is reached.
    GuildIgnored {
        /// The guild.
        guild: GuildId,
    },
    /// Another user joined voice.
    UserJoinedVoice {
        /// The guild or call.
        guild: Place,
        /// The user.
        user: UserId,
        /// The channel joined.
        channel: ChannelId,
    },
    /// Another user moved between voice channels.
    UserMovedVoice {
        /// The guild or call.
        guild: Place,
        /// The user.
        user: UserId,
        /// Previous channel.
        from: ChannelId,
        /// New channel.
        to: ChannelId,
    },
    /// Another user left voice.
    UserLeftVoice {
        /// The guild or call.
        guild: Place,
        /// The user.
        user: UserId,
        /// The channel left.
        channel: ChannelId,
    },
    /// Our own voice channel changed (`None` = we left voice).
    SelfVoiceChanged {
        /// The guild or call.
        guild: Place,
        /// Our channel now.
        channel: Option<ChannelId>,
    },
    /// Our VOICE_SERVER_UPDATE arrived (`ready`) or announced reallocation.
    SelfVoiceServerChanged {
        /// The guild or call.
        guild: Place,
        /// Endpoint and token are known.
        ready: bool,
    },
    /// A user's voice state turned `self_stream` on.
    GoLiveStarted {
        /// The guild or call.
        guild: Place,
        /// The streamer.
        user: UserId,
        /// The channel.
        channel: ChannelId,
    },
    /// A user's voice state turned `self_stream` off.
    GoLiveEnded {
        /// The guild or call.
        guild: Place,
        /// The streamer.
        user: UserId,
    },
    /// A user's camera went on or off.
    WebcamChanged {
        /// The guild or call.
        guild: Place,
        /// The user.
        user: UserId,
        /// Camera on.
        on: bool,
    },
    /// A stream entry was created (provisional) or STREAM_CREATE arrived.
    StreamDiscovered {
        /// The stream.
        key: StreamKey,
    },
    /// Endpoint, token and rtc_server_id are all known: connect.
    StreamCredentialsReady {
        /// The stream.
        key: StreamKey,
    },
    /// STREAM_SERVER_UPDATE with `endpoint: null`: disconnect and wait.
    StreamReallocating {
        /// The stream.
        key: StreamKey,
    },
    /// STREAM_UPDATE.
    StreamUpdated {
        /// The stream.
        key: StreamKey,
        /// Paused by its owner.
        paused: bool,
    },
    /// A stream ended (emitted for every guild STREAM_DELETE, known or not,
    /// so that a watch on a synthesized key is torn down too).
    StreamEnded {
        /// The stream.
        key: StreamKey,
        /// Why.
        reason: StreamEndReason,
    },
    /// A stream entry was dropped to respect
    /// [`Limits::max_streams_per_guild`]; the stream itself may go on.
    StreamForgotten {
        /// The stream.
        key: StreamKey,
    },
}

//! [`Place`]: where voice happens: a guild, or a DM / group DM call.

use std::fmt;

use gateway_proto::{ChannelId, GuildId, StreamKey, UserId};

/// Default cap on calls (DM / group DM) the registry keeps at once. A
/// client is in at most one call at a time; calls it only hears about
/// (STREAM_CREATE for a call key) need room too, so a few more.
pub const MAX_CALLS: usize = 16;

/// A place the agent can be in voice: a guild's voice channels, or one
/// private (DM / group DM) call, which Discord identifies by its channel.
///
/// Facts (fact sheet `discord-protocol.md`): a call's voice states and
/// VOICE_SERVER_UPDATE carry `guild_id: null` (§4.3: VOICE_SERVER_UPDATE
/// has `channel_id` "present for DM/private calls"); its stream keys are
/// `call:<channel_id>:<owner>` (§4.4, discord-userdoccers
/// `pages/gateway/gateway-events.mdx`); op 4 joins it with `guild_id: null`
/// (§4.5); its voice connection identifies with `server_id` = the DM
/// channel id (§1.5, Discord-video-stream `serverId = guildId ?? channelId`)
/// and its DAVE group id is the DM channel id (§3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    /// A guild.
    Guild(GuildId),
    /// A DM / group DM call, by its channel.
    Call(ChannelId),
}

impl From<GuildId> for Place {
    fn from(g: GuildId) -> Self {
        Self::Guild(g)
    }
}

impl Place {
    /// The guild, for guild places (the `guild_id` of op 4; `None` = a call).
    pub fn guild_id(self) -> Option<GuildId> {
        match self {
            Self::Guild(g) => Some(g),
            Self::Call(_) => None,
        }
    }

    /// The call's channel, for calls.
    pub fn call_channel(self) -> Option<ChannelId> {
        match self {
            Self::Call(c) => Some(c),
            Self::Guild(_) => None,
        }
    }

    /// True for a DM / group DM call.
    pub fn is_call(self) -> bool {
        matches!(self, Self::Call(_))
    }

    /// The voice connection's Identify `server_id`: the guild id, or for a
    /// call the DM channel id (§1.5).
    pub fn voice_server_id(self) -> u64 {
        match self {
            Self::Guild(g) => g.0,
            Self::Call(c) => c.0,
        }
    }

    /// The key of `user`'s Go Live in `channel` of this place: `guild:G:C:U`,
    /// or `call:C:U` (for a call, `channel` is the call's own channel).
    pub fn stream_key(self, channel: ChannelId, user: UserId) -> StreamKey {
        match self {
            Self::Guild(guild_id) => StreamKey::Guild {
                guild_id,
                channel_id: channel,
                user_id: user,
            },
            Self::Call(_) => StreamKey::Call {
                channel_id: channel,
                user_id: user,
            },
        }
    }

    /// The place of a stream key (`None` for `test:` keys).
    pub fn of_stream_key(key: &StreamKey) -> Option<Self> {
        match *key {
            StreamKey::Guild { guild_id, .. } => Some(Self::Guild(guild_id)),
            StreamKey::Call { channel_id, .. } => Some(Self::Call(channel_id)),
            StreamKey::Test { .. } => None,
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Guild(g) => write!(f, "guild:{g}"),
            Self::Call(c) => write!(f, "call:{c}"),
        }
    }
}

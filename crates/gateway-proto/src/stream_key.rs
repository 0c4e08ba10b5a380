//! Go Live stream keys: `guild:G:C:U`, `call:C:U`, `test:U`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use voice_proto::{ChannelId, GuildId, UserId};

use crate::error::GatewayProtoError;

/// Identifies one Go Live stream: who streams in which channel.
///
/// Parsing is strict (decimal ids without leading zeros, exact number of
/// parts) so that `parse(format(k)) == k` and `format(parse(s)) == s` for
/// every accepted `s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKey {
    /// `guild:<guild_id>:<channel_id>:<owner_user_id>`.
    Guild {
        /// The guild.
        guild_id: GuildId,
        /// The voice channel.
        channel_id: ChannelId,
        /// The streaming user.
        user_id: UserId,
    },
    /// `call:<channel_id>:<owner_user_id>` (DM / group DM call).
    Call {
        /// The DM channel.
        channel_id: ChannelId,
        /// The streaming user.
        user_id: UserId,
    },
    /// `test:<user_id>`: a speed-test stream, to be ignored.
    Test {
        /// The user.
        user_id: UserId,
    },
}

fn bad(key: &str, reason: &'static str) -> GatewayProtoError {
    GatewayProtoError::StreamKey {
        key: key.to_owned(),
        reason,
    }
}

/// One id component: ASCII digits, no leading zero (except "0" itself).
fn component(key: &str, part: &str) -> Result<u64, GatewayProtoError> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(key, "id is not a decimal number"));
    }
    if part.len() > 1 && part.starts_with('0') {
        return Err(bad(key, "id has a leading zero"));
    }
    part.parse()
        .map_err(|_| bad(key, "id does not fit in 64 bits"))
}

impl StreamKey {
    /// Parses a stream key.
    pub fn parse(key: &str) -> Result<Self, GatewayProtoError> {
        let mut parts = key.split(':');
        let kind = parts.next().unwrap_or_default();
        let ids: Vec<&str> = parts.collect();
        let id = |i: usize| component(key, ids.get(i).copied().unwrap_or_default());
        let expected = match kind {
            "guild" => 3,
            "call" => 2,
            "test" => 1,
            _ => return Err(bad(key, "unknown stream kind")),
        };
        if ids.len() != expected {
            return Err(bad(key, "wrong number of parts"));
        }
        Ok(match kind {
            "guild" => Self::Guild {
                guild_id: GuildId(id(0)?),
                channel_id: ChannelId(id(1)?),
                user_id: UserId(id(2)?),
            },
            "call" => Self::Call {
                channel_id: ChannelId(id(0)?),
                user_id: UserId(id(1)?),
            },
            _ => Self::Test {
                user_id: UserId(id(0)?),
            },
        })
    }

    /// The streaming user.
    pub fn owner(&self) -> UserId {
        match *self {
            Self::Guild { user_id, .. } | Self::Call { user_id, .. } | Self::Test { user_id } => {
                user_id
            }
        }
    }

    /// The guild, for guild streams.
    pub fn guild_id(&self) -> Option<GuildId> {
        match *self {
            Self::Guild { guild_id, .. } => Some(guild_id),
            _ => None,
        }
    }

    /// The channel, for guild and call streams.
    pub fn channel_id(&self) -> Option<ChannelId> {
        match *self {
            Self::Guild { channel_id, .. } | Self::Call { channel_id, .. } => Some(channel_id),
            Self::Test { .. } => None,
        }
    }

    /// True for `test:` keys (speed tests; not real streams).
    pub fn is_test(&self) -> bool {
        matches!(self, Self::Test { .. })
    }
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Guild {
                guild_id,
                channel_id,
                user_id,
            } => write!(f, "guild:{guild_id}:{channel_id}:{user_id}"),
            Self::Call {
                channel_id,
                user_id,
            } => write!(f, "call:{channel_id}:{user_id}"),
            Self::Test { user_id } => write!(f, "test:{user_id}"),
        }
    }
}

impl FromStr for StreamKey {
    type Err = GatewayProtoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for StreamKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StreamKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(
            StreamKey::parse("guild:1:2:3").unwrap(),
            StreamKey::Guild {
                guild_id: GuildId(1),
                channel_id: ChannelId(2),
                user_id: UserId(3)
            }
        );
        let call = StreamKey::parse("call:20:30").unwrap();
        assert_eq!(call.channel_id(), Some(ChannelId(20)));
        assert_eq!(call.guild_id(), None);
        assert_eq!(call.owner(), UserId(30));
        let test = StreamKey::parse("test:5").unwrap();
        assert!(test.is_test());
        assert_eq!(test.channel_id(), None);
    }

    #[test]
    fn rejects_malformed_keys() {
        for bad in [
            "",
            "guild",
            "guild:1:2",
            "guild:1:2:3:4",
            "call:1",
            "call:1:2:3",
            "test:",
            "test:1:2",
            "dm:1:2",
            "guild:a:2:3",
            "guild:01:2:3",
            "guild:1::3",
            "GUILD:1:2:3",
            "call:18446744073709551616:1",
            "call:-1:2",
            "call: 1:2",
        ] {
            assert!(StreamKey::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(StreamKey::parse("guild:0:0:0").is_ok());
    }
}

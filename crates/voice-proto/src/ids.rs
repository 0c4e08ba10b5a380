//! Discord snowflake identifiers.
//!
//! Discord sends snowflakes as JSON *strings* because they do not fit in a
//! JavaScript double. Each id is a newtype over `u64` that serializes as a
//! decimal string and deserializes from either a string or a JSON number
//! (some community implementations and old payloads send numbers). The
//! types live here rather than in `gateway-proto` so that the voice side
//! (mediad) does not depend on the main-gateway vocabulary; `gateway-proto`
//! re-exports them.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Error returned when a string is not a decimal `u64` snowflake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a snowflake (decimal u64): {0:?}")]
pub struct ParseSnowflakeError(pub String);

/// Parses a decimal snowflake. Only ASCII digits are accepted (no sign,
/// no whitespace), so every accepted string formats back identically
/// unless it has leading zeros.
fn parse_snowflake(s: &str) -> Result<u64, ParseSnowflakeError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseSnowflakeError(s.to_owned()));
    }
    s.parse::<u64>()
        .map_err(|_| ParseSnowflakeError(s.to_owned()))
}

/// Serde visitor shared by all snowflake types: string or non-negative
/// integer.
struct SnowflakeVisitor;

impl Visitor<'_> for SnowflakeVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a snowflake as a decimal string or a non-negative integer")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        parse_snowflake(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom(format!("negative snowflake {v}")))
    }
}

macro_rules! snowflake {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl $name {
            /// The raw 64-bit value.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl From<u64> for $name {
            fn from(v: u64) -> Self {
                Self(v)
            }
        }

        impl From<$name> for u64 {
            fn from(v: $name) -> u64 {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = ParseSnowflakeError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_snowflake(s).map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any(SnowflakeVisitor).map(Self)
            }
        }
    };
}

snowflake!(
    /// A Discord user id.
    UserId
);
snowflake!(
    /// A Discord guild (server) id.
    GuildId
);
snowflake!(
    /// A Discord channel id (guild channel, DM or group DM).
    ChannelId
);
snowflake!(
    /// A Discord message id.
    MessageId
);
snowflake!(
    /// The `server_id` a voice connection identifies with: the guild id for
    /// guild voice, the DM channel id for calls, or a Go Live stream's
    /// `rtc_server_id` (from STREAM_CREATE) for a stream connection.
    ServerId
);

impl From<GuildId> for ServerId {
    fn from(v: GuildId) -> Self {
        ServerId(v.0)
    }
}

impl From<ChannelId> for ServerId {
    fn from(v: ChannelId) -> Self {
        ServerId(v.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_string() {
        let s = serde_json::to_string(&UserId(80351110224678912)).unwrap();
        assert_eq!(s, r#""80351110224678912""#);
    }

    #[test]
    fn deserializes_from_string_and_number() {
        let a: GuildId = serde_json::from_str(r#""41771983423143937""#).unwrap();
        let b: GuildId = serde_json::from_str("41771983423143937").unwrap();
        assert_eq!(a, GuildId(41771983423143937));
        assert_eq!(a, b);
    }

    #[test]
    fn rejects_bad_snowflakes() {
        assert!(serde_json::from_str::<UserId>(r#""""#).is_err());
        assert!(serde_json::from_str::<UserId>(r#""-1""#).is_err());
        assert!(serde_json::from_str::<UserId>(r#"" 1""#).is_err());
        assert!(serde_json::from_str::<UserId>("-5").is_err());
        assert!(serde_json::from_str::<UserId>("1.5").is_err());
        assert!(serde_json::from_str::<UserId>(r#""18446744073709551616""#).is_err());
        assert!("12a".parse::<ChannelId>().is_err());
    }

    #[test]
    fn max_value_round_trips() {
        let id = ChannelId(u64::MAX);
        let s = serde_json::to_string(&id).unwrap();
        assert_eq!(s, r#""18446744073709551615""#);
        assert_eq!(serde_json::from_str::<ChannelId>(&s).unwrap(), id);
    }
}

//! Discord snowflake ids, defined once for every wire of the workspace.
//!
//! [`UserId`], [`GuildId`], [`ChannelId`], [`MessageId`] and [`ServerId`]
//! are newtypes over `u64`. The same types travel in Discord's gateway
//! JSON (`voice-proto`, `gateway-proto` re-export them) and on the IPC
//! between control and mediad (`ipc-schema` re-exports the ones it
//! carries), so a daemon never converts an id between wire vocabularies.
//!
//! # Representation
//! One `Serialize`/`Deserialize` pair serves both wires, chosen by
//! [`serde::Serializer::is_human_readable`]:
//! - human-readable formats (JSON) write a decimal **string**, as Discord
//!   does (a JavaScript number loses integers above 2^53), and read a
//!   string or a non-negative integer;
//! - compact formats (bincode) write and read a plain `u64`: the bytes a
//!   `#[serde(transparent)]` `u64` newtype writes, so IPC frames (and
//!   `ipc-schema`'s golden vectors) are unchanged.
//!
//! A bad id (empty, signed, not digits, above `u64::MAX`) is an error
//! naming the value, never a panic. Pure data: no IO, no clock.

mod error;
mod repr;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use error::ParseSnowflakeError;

macro_rules! snowflake {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

        /// One line, `Name(123)`, also under `{:#?}`.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
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
                error::parse_snowflake(s).map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                repr::serialize(self.0, serializer)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                repr::deserialize(deserializer).map(Self)
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

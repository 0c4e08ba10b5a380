//! Discord snowflake identifiers, as strings on the voice gateway's JSON.
//!
//! The types are `wire-ids`', the workspace's one definition: the same
//! `UserId` travels in this crate's payloads, in `gateway-proto`'s (which
//! re-exports these) and on the IPC (`ipc-schema`), so mediad and control
//! never convert between them. In JSON they are decimal strings and a
//! non-negative integer is accepted on input (some community
//! implementations and old payloads send numbers).

pub use wire_ids::{ChannelId, GuildId, MessageId, ParseSnowflakeError, ServerId, UserId};

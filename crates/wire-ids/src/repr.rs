//! The one serde representation of every snowflake type, chosen by the
//! format: human-readable formats (JSON) carry a decimal string, compact
//! ones (bincode, the IPC) a plain `u64`.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

use crate::error::parse_snowflake;

/// Writes `v` as a decimal string (human-readable formats: Discord's JSON
/// does this because JavaScript numbers lose integers above 2^53) or as
/// a `u64` (bincode: the bytes a `#[serde(transparent)]` `u64` newtype
/// wrote, so IPC frames are unchanged).
pub(crate) fn serialize<S: Serializer>(v: u64, serializer: S) -> Result<S::Ok, S::Error> {
    if serializer.is_human_readable() {
        serializer.collect_str(&v)
    } else {
        serializer.serialize_u64(v)
    }
}

/// Reads what [`serialize`] writes. A human-readable format may also carry
/// a non-negative integer (older payloads and some peers send numbers).
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    if deserializer.is_human_readable() {
        deserializer.deserialize_any(SnowflakeVisitor)
    } else {
        deserializer.deserialize_u64(SnowflakeVisitor)
    }
}

/// Accepts a decimal string or a non-negative integer.
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

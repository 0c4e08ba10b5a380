//! Op 3 Heartbeat and op 6 Heartbeat ACK in their v<8 and v8+ shapes.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::opcode::GatewayVersion;

/// Op 3 Heartbeat.
///
/// The shape depends on the gateway version: v<8 sends a bare integer
/// nonce, v8+ an object `{t: nonce, seq_ack}`. Decoding does not need the
/// version (the JSON type tells them apart); encoding picks the shape via
/// [`Heartbeat::new`]. Nonces should stay below 2^53 because Discord's
/// JavaScript side reads them as doubles (and rejects strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Heartbeat {
    /// v<8: `"d": nonce`.
    Legacy(u64),
    /// v8+: `"d": {"t": nonce, "seq_ack": last_seq}`.
    Sequenced {
        /// Nonce echoed in the ACK.
        t: u64,
        /// Last sequence number received, omitted before the first one.
        /// A negative value (some clients send -1) reads as `None`.
        #[serde(
            default,
            deserialize_with = "de_seq_ack",
            skip_serializing_if = "Option::is_none"
        )]
        seq_ack: Option<u64>,
    },
    /// `"d": null`: a server asking for an immediate heartbeat. The
    /// server's payload is undocumented; null is assumed.
    Request,
}

impl Heartbeat {
    /// The heartbeat a client sends on gateway `version`.
    pub fn new(version: GatewayVersion, nonce: u64, seq_ack: Option<u64>) -> Self {
        if version.has_seq() {
            Heartbeat::Sequenced { t: nonce, seq_ack }
        } else {
            Heartbeat::Legacy(nonce)
        }
    }

    /// The nonce, unless this is a server request.
    pub fn nonce(&self) -> Option<u64> {
        match *self {
            Heartbeat::Legacy(n) | Heartbeat::Sequenced { t: n, .. } => Some(n),
            Heartbeat::Request => None,
        }
    }

    /// The acknowledgement a server sends back (same shape family), or
    /// `None` for [`Heartbeat::Request`].
    pub fn ack(&self) -> Option<HeartbeatAck> {
        match *self {
            Heartbeat::Legacy(n) => Some(HeartbeatAck::Legacy(n)),
            Heartbeat::Sequenced { t, .. } => Some(HeartbeatAck::Sequenced { t }),
            Heartbeat::Request => None,
        }
    }
}

/// Op 6 Heartbeat ACK: v<8 echoes the bare nonce, v8+ sends `{t}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HeartbeatAck {
    /// v<8: `"d": nonce`.
    Legacy(u64),
    /// v8+: `"d": {"t": nonce}`.
    Sequenced {
        /// The heartbeat's nonce.
        t: u64,
    },
}

impl HeartbeatAck {
    /// The acknowledged nonce.
    pub fn nonce(&self) -> u64 {
        match *self {
            HeartbeatAck::Legacy(n) | HeartbeatAck::Sequenced { t: n } => n,
        }
    }
}

/// Reads `seq_ack`: a non-negative integer, or a negative one / null
/// meaning "nothing received yet" (`None`).
pub(crate) fn de_seq_ack<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct SeqAck;

    impl Visitor<'_> for SeqAck {
        type Value = Option<u64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer sequence number, -1 or null")
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(u64::try_from(v).ok())
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    d.deserialize_any(SeqAck)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructor_follows_version() {
        assert_eq!(
            Heartbeat::new(GatewayVersion::V4, 7, Some(3)),
            Heartbeat::Legacy(7)
        );
        assert_eq!(
            Heartbeat::new(GatewayVersion::V8, 7, Some(3)),
            Heartbeat::Sequenced {
                t: 7,
                seq_ack: Some(3)
            }
        );
    }

    #[test]
    fn ack_matches_shape() {
        assert_eq!(Heartbeat::Legacy(9).ack(), Some(HeartbeatAck::Legacy(9)));
        assert_eq!(
            Heartbeat::Sequenced {
                t: 9,
                seq_ack: None
            }
            .ack(),
            Some(HeartbeatAck::Sequenced { t: 9 })
        );
        assert_eq!(Heartbeat::Request.ack(), None);
        assert_eq!(HeartbeatAck::Sequenced { t: 11 }.nonce(), 11);
    }

    #[test]
    fn negative_seq_ack_is_none() {
        let h: Heartbeat = serde_json::from_str(r#"{"t":5,"seq_ack":-1}"#).unwrap();
        assert_eq!(
            h,
            Heartbeat::Sequenced {
                t: 5,
                seq_ack: None
            }
        );
        let h: Heartbeat = serde_json::from_str(r#"{"t":5}"#).unwrap();
        assert_eq!(
            h,
            Heartbeat::Sequenced {
                t: 5,
                seq_ack: None
            }
        );
        let h: Heartbeat = serde_json::from_str("null").unwrap();
        assert_eq!(h, Heartbeat::Request);
    }
}

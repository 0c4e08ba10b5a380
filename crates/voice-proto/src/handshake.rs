//! Connection set-up and resumption payloads: Identify (0), Select Protocol
//! (1), Ready (2), Session Description (4), Resume (7), Hello (8).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use crate::codec::{CodecDescriptor, StreamDescriptor};
use crate::heartbeat::de_seq_ack;
use crate::ids::{ChannelId, ServerId, UserId};
use ipc_schema::Secret;

/// Op 0 Identify (client → server).
///
/// For a Go Live stream connection `server_id` is the stream's
/// `rtc_server_id`, `session_id` is the *main voice* session id, `video` is
/// true and `streams` holds [`StreamDescriptor::screen_offer`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identify {
    /// Guild id, DM channel id, or stream `rtc_server_id`.
    pub server_id: ServerId,
    /// Own user id.
    pub user_id: UserId,
    /// Session id from the own VOICE_STATE_UPDATE.
    pub session_id: Secret,
    /// Token from VOICE_SERVER_UPDATE / STREAM_SERVER_UPDATE.
    pub token: Secret,
    /// Highest DAVE protocol version supported; absent or 0 means no DAVE,
    /// which the server answers with close 4017 where E2EE is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_dave_protocol_version: Option<u16>,
    /// True when the client intends to send or receive video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<bool>,
    /// Simulcast layers offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub streams: Vec<StreamDescriptor>,
    /// v9 only: voice channel id (or `rtc_channel_id` for a stream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
}

string_enum! {
    /// `protocol` of Select Protocol.
    Protocol {
        /// `"udp"`: raw UDP with transport encryption.
        Udp = "udp",
        /// `"webrtc"`: SDP exchange (not used by this project's client).
        WebRtc = "webrtc",
    }
}

/// `data` of a UDP Select Protocol: the address/port found by IP discovery
/// and the chosen transport encryption mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UdpProtocolData {
    /// External IP address from IP discovery.
    pub address: String,
    /// External UDP port from IP discovery.
    pub port: u16,
    /// Transport encryption mode wire name. A plain string on purpose: the
    /// `voice-crypto` crate owns the mapping (`CryptoMode::as_wire_str`).
    pub mode: String,
}

/// `data` of Select Protocol: an object for UDP, an SDP string for WebRTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SelectProtocolData {
    /// `{address, port, mode}`.
    Udp(UdpProtocolData),
    /// SDP fragment (WebRTC).
    Sdp(String),
}

/// Op 1 Select Protocol (client → server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectProtocol {
    /// `"udp"` or `"webrtc"`.
    pub protocol: Protocol,
    /// Transport parameters.
    pub data: SelectProtocolData,
    /// Codecs the client can send/receive; none means "opus PT 120, no
    /// video" to the server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codecs: Vec<CodecDescriptor>,
    /// Client-generated UUID for analytics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtc_connection_id: Option<String>,
    /// Experiment names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub experiments: Vec<String>,
    /// WebRTC only: the SDP again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp: Option<String>,
}

impl SelectProtocol {
    /// A UDP selection with the given codecs.
    pub fn udp(address: String, port: u16, mode: String, codecs: Vec<CodecDescriptor>) -> Self {
        Self {
            protocol: Protocol::Udp,
            data: SelectProtocolData::Udp(UdpProtocolData {
                address,
                port,
                mode,
            }),
            codecs,
            rtc_connection_id: None,
            experiments: Vec::new(),
            sdp: None,
        }
    }
}

/// Op 2 Ready (server → client).
///
/// Video SSRCs come from `streams`, not from a top-level field. A
/// `heartbeat_interval` some servers add here is wrong and ignored (use
/// [`Hello`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    /// Audio SSRC of this connection.
    pub ssrc: u32,
    /// Media server IP.
    pub ip: String,
    /// Media server UDP port.
    pub port: u16,
    /// Transport encryption modes offered (wire names).
    pub modes: Vec<String>,
    /// Experiment names, e.g. `fixed_keyframe_interval`.
    #[serde(default)]
    pub experiments: Vec<String>,
    /// Allocated video layers with their SSRCs.
    #[serde(default)]
    pub streams: Vec<StreamDescriptor>,
}

/// The 32-byte transport key from Session Description; an array of 32
/// integers on the wire. `Debug` does not print the key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretKey(pub [u8; 32]);

impl SecretKey {
    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Op 4 Session Description (server → client).
///
/// `mode` and `secret_key` are absent for WebRTC sessions (which carry
/// `sdp` instead), hence `Option`; a UDP client uses
/// [`SessionDescription::udp_keying`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDescription {
    /// Transport encryption mode wire name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Transport key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<SecretKey>,
    /// Audio codec the client must send (`"opus"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_codec: Option<String>,
    /// Video codec the client must send (e.g. `"H264"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_codec: Option<String>,
    /// Hex session id (analytics only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_session_id: Option<Secret>,
    /// Initial DAVE protocol version; 0 (or absent) = transport encryption
    /// only.
    #[serde(default)]
    pub dave_protocol_version: u16,
    /// Fixed keyframe interval in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyframe_interval: Option<u64>,
    /// Undocumented experiment flag, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_estimation_experiment: Option<serde_json::Value>,
    /// WebRTC answer SDP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp: Option<String>,
}

impl SessionDescription {
    /// `(mode, key)` when both are present (UDP sessions).
    pub fn udp_keying(&self) -> Option<(&str, &SecretKey)> {
        match (&self.mode, &self.secret_key) {
            (Some(m), Some(k)) => Some((m.as_str(), k)),
            _ => None,
        }
    }
}

/// Op 7 Resume (client → server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// Same as in Identify.
    pub server_id: ServerId,
    /// Same as in Identify.
    pub session_id: Secret,
    /// Same as in Identify.
    pub token: Secret,
    /// v8+: last sequence number seen; a negative value (sent by some
    /// clients before any seq) reads as `None`.
    #[serde(
        default,
        deserialize_with = "de_seq_ack",
        skip_serializing_if = "Option::is_none"
    )]
    pub seq_ack: Option<u64>,
    /// v9 only: same as in Identify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
}

/// Op 8 Hello (server → client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Heartbeat interval in milliseconds. Old servers sent a float
    /// (`41250.0`); it is accepted and rounded.
    #[serde(rename = "heartbeat_interval", deserialize_with = "de_millis")]
    pub heartbeat_interval_ms: u64,
    /// Gateway version echoed by v8+ servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<u8>,
}

impl Hello {
    /// The heartbeat interval.
    pub fn heartbeat_interval(&self) -> Duration {
        Duration::from_millis(self.heartbeat_interval_ms)
    }
}

/// Accepts a non-negative integer or a finite non-negative float below
/// 2^53 (rounded) as milliseconds.
fn de_millis<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = serde_json::Number::deserialize(d)?;
    if let Some(u) = v.as_u64() {
        return Ok(u);
    }
    match v.as_f64() {
        Some(f) if f.is_finite() && (0.0..9.0e15).contains(&f) => {
            // In range by the check above, so the cast is exact after
            // rounding.
            Ok(f.round() as u64)
        }
        _ => Err(serde::de::Error::custom(format!(
            "heartbeat_interval {v} is not a non-negative number of milliseconds"
        ))),
    }
}

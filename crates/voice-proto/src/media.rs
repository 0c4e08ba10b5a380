//! Media-state payloads: Speaking (5), Clients Connect (11), Video (12),
//! Client Disconnect (13), Session Update (14), Backend Version (16),
//! Client Flags (18), Client Platform (20).

use std::ops::BitOr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::codec::{CodecDescriptor, StreamDescriptor};
use crate::ids::UserId;
use ipc_schema::Secret;

/// Speaking bitmask (v4+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SpeakingFlags(pub u32);

impl SpeakingFlags {
    /// Not speaking.
    pub const NONE: Self = Self(0);
    /// Normal voice transmission.
    pub const MICROPHONE: Self = Self(1);
    /// Context audio for video ("soundshare"); what Go Live senders use on
    /// the stream connection.
    pub const SOUNDSHARE: Self = Self(2);
    /// Priority speaker.
    pub const PRIORITY: Self = Self(4);

    /// True when every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for SpeakingFlags {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// Op 5 Speaking. Clients send `{speaking, delay: 0, ssrc}` before their
/// first audio packet; the server relays `{speaking, ssrc, user_id}` so
/// receivers can map SSRCs to users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Speaking {
    /// Speaking flags.
    pub speaking: SpeakingFlags,
    /// Client → server only; always 0 in practice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<u32>,
    /// The audio SSRC.
    pub ssrc: u32,
    /// Server → client only: whose SSRC this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
}

impl Speaking {
    /// The client's own announcement: `{speaking, delay: 0, ssrc}`.
    pub fn announce(speaking: SpeakingFlags, ssrc: u32) -> Self {
        Self {
            speaking,
            delay: Some(0),
            ssrc,
            user_id: None,
        }
    }
}

/// Op 11 Clients Connect (server → client): users present at connect time
/// or joining later. These are the "recognized users" DAVE add-proposals
/// may name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientsConnect {
    /// The users.
    pub user_ids: Vec<UserId>,
}

/// Op 12 Video.
///
/// Sent by a client to announce (or clear, with zero SSRCs and no streams)
/// its video before sending it; relayed by the server with `user_id` and
/// without `rtx_ssrc`. All fields are optional because servers may send
/// partial updates that the receiver merges.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Video {
    /// Server → client: whose video this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// The sender's audio SSRC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_ssrc: Option<u32>,
    /// Primary video SSRC (0 = no video).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_ssrc: Option<u32>,
    /// Client → server only: RTX SSRC (0 = none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtx_ssrc: Option<u32>,
    /// Layers. Always serialized, because an empty list is how a sender
    /// clears its video.
    #[serde(default)]
    pub streams: Vec<StreamDescriptor>,
}

/// Op 13 Client Disconnect (server → client): drop this user's SSRCs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientDisconnect {
    /// The user who left.
    pub user_id: UserId,
}

/// Op 14 Session Update. Clients send `{codecs}`; servers send the
/// renegotiated codecs / keyframe interval.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SessionUpdate {
    /// Client → server: new codec list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codecs: Vec<CodecDescriptor>,
    /// Server → client: audio codec to send now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_codec: Option<String>,
    /// Server → client: video codec to send now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_codec: Option<String>,
    /// Server → client: analytics session id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_session_id: Option<Secret>,
    /// Server → client: keyframe interval in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyframe_interval: Option<u64>,
}

/// Op 16 Voice Backend Version: clients send `{}`, servers answer
/// `{voice, rtc_worker}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BackendVersion {
    /// Voice backend version, e.g. `"0.9.1"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    /// RTC worker version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtc_worker: Option<String>,
}

/// Op 18 Client Flags (server → client). The user-docs note that ops 18
/// and 20 are sometimes sent in stream contexts where they should be
/// ignored; a decode error on them is harmless.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientFlags {
    /// Whose flags.
    pub user_id: UserId,
    /// Bitmask, see the associated constants.
    #[serde(default)]
    pub flags: u32,
}

impl ClientFlags {
    /// Clips enabled.
    pub const CLIPS_ENABLED: u32 = 1;
    /// Voice recording allowed.
    pub const ALLOW_VOICE_RECORDING: u32 = 2;
    /// Any viewer may clip.
    pub const ALLOW_ANY_VIEWER_CLIPS: u32 = 4;
}

/// A client platform as sent in op 20.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// 0.
    Desktop,
    /// 1.
    Mobile,
    /// 2.
    Xbox,
    /// 3.
    PlayStation,
    /// Anything else (never 0–3 when decoded).
    Other(u8),
}

impl Platform {
    /// From the wire number.
    pub const fn from_u8(n: u8) -> Self {
        match n {
            0 => Self::Desktop,
            1 => Self::Mobile,
            2 => Self::Xbox,
            3 => Self::PlayStation,
            n => Self::Other(n),
        }
    }

    /// The wire number.
    pub const fn as_u8(self) -> u8 {
        match self {
            Self::Desktop => 0,
            Self::Mobile => 1,
            Self::Xbox => 2,
            Self::PlayStation => 3,
            Self::Other(n) => n,
        }
    }
}

impl Serialize for Platform {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.as_u8())
    }
}

impl<'de> Deserialize<'de> for Platform {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u8::deserialize(d).map(Self::from_u8)
    }
}

/// Op 20 Client Platform (server → client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientPlatform {
    /// Whose platform.
    pub user_id: UserId,
    /// The platform.
    pub platform: Platform,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaking_flags() {
        let f = SpeakingFlags::MICROPHONE | SpeakingFlags::PRIORITY;
        assert_eq!(f, SpeakingFlags(5));
        assert!(f.contains(SpeakingFlags::PRIORITY));
        assert!(!f.contains(SpeakingFlags::SOUNDSHARE));
    }

    #[test]
    fn platform_numbers() {
        for n in 0..=u8::MAX {
            assert_eq!(Platform::from_u8(n).as_u8(), n);
        }
        assert_eq!(Platform::from_u8(3), Platform::PlayStation);
        assert_eq!(Platform::from_u8(9), Platform::Other(9));
    }
}

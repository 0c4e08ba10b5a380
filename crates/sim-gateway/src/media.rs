//! The world's media-side vocabulary: what the world asks of the two media
//! servers (grants, revocations, simulated participants, speaking), and the
//! scenario's video description.
//!
//! These are plain data owned by this crate, so the world model stays pure
//! and testable; `voice_servers` converts them into `sim-media-server` calls.

use gateway_proto::Secret;
use serde::{Deserialize, Serialize};

/// Which of the two media servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerKind {
    /// Guild voice connections (room = guild id).
    Voice,
    /// Go Live stream connections (room = rtc_server_id).
    Stream,
}

/// What a granted connection is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GrantKind {
    /// A guild voice connection.
    Voice {
        /// Guild id (= room / server_id).
        guild_id: u64,
        /// Voice channel id (= DAVE group id).
        channel_id: u64,
    },
    /// A Go Live stream connection.
    Stream {
        /// `guild:G:C:U`.
        stream_key: String,
        /// The streaming user.
        streamer_id: u64,
        /// The room / server_id (DAVE group id = this − 1).
        rtc_server_id: u64,
    },
}

/// Permission for one client to identify on a media server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// Room = server_id the client identifies with.
    pub room: u64,
    /// The user.
    pub user_id: u64,
    /// The user's main-gateway session id (voice and stream share it).
    pub session_id: Secret,
    /// The token handed out in VOICE_SERVER_UPDATE / STREAM_SERVER_UPDATE.
    pub token: Secret,
    /// Voice or stream.
    pub kind: GrantKind,
}

/// What a simulated participant's video is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoKind {
    /// A Go Live screen share.
    #[default]
    Screen,
    /// A webcam.
    Camera,
}

/// Video codec of a simulated participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoCodec {
    /// H.264 (packetization-mode 1).
    #[default]
    H264,
    /// VP8.
    Vp8,
    /// H.264 and VP8 by turns, `every_frames` frames each, on one SSRC (a
    /// streamer switching codec mid-stream): `{"alternate":{"every_frames":90}}`.
    Alternate {
        /// Frames per codec run.
        every_frames: u32,
    },
}

/// A simulated participant's video, as written in scenarios (every field
/// has a default: 1280x720 H.264 screen at 30 fps, 2500 kbit/s, a keyframe
/// every 2 s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VideoSpecConfig {
    /// Screen or camera.
    pub kind: VideoKind,
    /// Codec.
    pub codec: VideoCodec,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// Target bitrate.
    pub bitrate_kbps: u32,
    /// Periodic IDR distance in frames.
    pub keyframe_interval_frames: u32,
    /// Lower layers served on request: `[quality, width, height]`.
    pub layers: Vec<(u8, u32, u32)>,
}

impl Default for VideoSpecConfig {
    fn default() -> Self {
        Self {
            kind: VideoKind::Screen,
            codec: VideoCodec::H264,
            width: 1280,
            height: 720,
            fps: 30,
            bitrate_kbps: 2500,
            keyframe_interval_frames: 60,
            layers: Vec::new(),
        }
    }
}

impl VideoSpecConfig {
    /// A default webcam: 640x360 camera at 30 fps.
    pub fn default_camera() -> Self {
        Self {
            kind: VideoKind::Camera,
            width: 640,
            height: 360,
            bitrate_kbps: 800,
            ..Self::default()
        }
    }
}

/// A simulated participant (a scenario user who sends media).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Participant {
    /// The user.
    pub user_id: u64,
    /// Has an audio SSRC (sends Opus while speaking).
    pub audio: bool,
    /// Screen (stream room) or camera (voice room).
    pub video: Option<VideoSpecConfig>,
    /// Encrypt end-to-end when the room runs DAVE.
    pub dave: bool,
}

/// One request from the world to a media server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum MediaAction {
    /// Allow a client to identify.
    Grant {
        /// Which server.
        server: ServerKind,
        /// The grant.
        grant: Grant,
    },
    /// Revoke a user's grants on a room and close its sessions.
    Revoke {
        /// Which server.
        server: ServerKind,
        /// Room.
        room: u64,
        /// User.
        user_id: u64,
        /// Close code for live sessions (e.g. 4014 left voice, 4022 stream
        /// deleted); `None` only drops the grants.
        close_code: Option<u16>,
    },
    /// Start sending media as a simulated user.
    AddParticipant {
        /// Which server.
        server: ServerKind,
        /// Room.
        room: u64,
        /// Who and what.
        participant: Participant,
    },
    /// Stop a simulated user's media.
    RemoveParticipant {
        /// Which server.
        server: ServerKind,
        /// Room.
        room: u64,
        /// User.
        user_id: u64,
    },
    /// Speaking on/off for a simulated participant.
    SetSpeaking {
        /// Which server.
        server: ServerKind,
        /// Room.
        room: u64,
        /// User.
        user_id: u64,
        /// On or off.
        speaking: bool,
    },
}

//! Messages from control to mediad.

use crate::hello::Hello;
use crate::ids::{ChannelId, GuildId, Secret, UserId};
use crate::voice::{UtteranceId, VoicePlayChunk};
use serde::{Deserialize, Serialize};

/// Every frame control sends. Variant order is part of the wire format:
/// append only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ControlMsg {
    /// Handshake; always the first frame.
    Hello(Hello),
    /// Connect (or re-point) the voice transport.
    VoiceConnect(VoiceConnect),
    /// Tear the voice transport down.
    VoiceDisconnect(Disconnect),
    /// Connect the Go Live watching transport.
    StreamWatchConnect(StreamConnect),
    /// Tear the watching transport down.
    StreamWatchDisconnect(Disconnect),
    /// Connect the Go Live publishing transport.
    StreamPublishConnect(StreamConnect),
    /// Tear the publishing transport down.
    StreamPublishDisconnect(Disconnect),
    /// Pause publishing (the stream stays up, no frames are sent).
    StreamPublishPause,
    /// Resume publishing after a pause.
    StreamPublishResume,
    /// One picture to publish. Lossy lane.
    StreamPublishFrame(PublishFrame),
    /// Start (or change) receiving one user's video.
    SubscribeUserVideo(VideoSubscription),
    /// Stop receiving one user's video.
    UnsubscribeUserVideo {
        /// Whose video.
        user_id: UserId,
    },
    /// Liveness probe; answered by `MediadMsg::Pong` with the same nonce.
    Ping {
        /// Echoed back.
        nonce: u64,
    },
    /// Ask for a `MediadMsg::Snapshot` of everything mediad holds.
    SnapshotRequest,
    /// One chunk of an utterance to speak on the voice connection
    /// (reliable lane, at most 100 ms of PCM per chunk).
    VoicePlay(VoicePlayChunk),
    /// Barge-in: stop this utterance now (within one 20 ms frame); a queued
    /// utterance of that id is dropped.
    VoiceCancel {
        /// Which utterance.
        id: UtteranceId,
    },
}

/// Credentials and ids for the voice connection, from the main gateway's
/// VOICE_STATE_UPDATE and VOICE_SERVER_UPDATE.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceConnect {
    /// The guild (also the voice server id for the voice role).
    pub guild_id: GuildId,
    /// The voice channel joined.
    pub channel_id: ChannelId,
    /// The bot's own user id.
    pub user_id: UserId,
    /// Main gateway voice session id.
    pub session_id: Secret,
    /// Voice server endpoint (`host:port` or URL) from VOICE_SERVER_UPDATE.
    pub endpoint: String,
    /// Voice server token.
    pub token: Secret,
    /// DAVE MLS group id: the channel id for the voice role.
    pub dave_group_id: u64,
}

/// Credentials for a Go Live stream connection (watch or publish).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamConnect {
    /// The stream key (`guild:G:C:U` or `call:C:U`).
    pub stream_key: String,
    /// Whose stream this is (the streamer).
    pub streamer_id: UserId,
    /// The bot's own user id.
    pub user_id: UserId,
    /// Server id to identify with: the stream's `rtc_server_id`.
    pub server_id: u64,
    /// Main gateway session id.
    pub session_id: Secret,
    /// Stream server endpoint from STREAM_SERVER_UPDATE.
    pub endpoint: String,
    /// Stream server token.
    pub token: Secret,
    /// DAVE MLS group id: `rtc_server_id - 1` for stream connections.
    pub dave_group_id: u64,
}

/// Why a transport is being torn down (logged and echoed in transport_state).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disconnect {
    /// Free-form reason, e.g. `stream_deleted`, `stop_screen_watch`.
    pub reason: String,
}

/// Pixel format of a frame control asks mediad to publish.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PublishFormat {
    /// A JPEG file.
    Jpeg,
    /// A PNG file.
    Png,
    /// Raw planar YUV 4:2:0, tightly packed.
    I420 {
        /// Width in pixels (even).
        width: u32,
        /// Height in pixels (even).
        height: u32,
    },
}

/// One picture for the publish transport.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublishFrame {
    /// How `data` is encoded.
    pub format: PublishFormat,
    /// The picture bytes.
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
    /// When the picture was captured, microseconds since the Unix epoch.
    pub capture_time_us: u64,
}

/// Which kind of video a subscription wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StreamType {
    /// A Go Live screen share (received on the stream_watch transport).
    Screen,
    /// A webcam (received on the voice transport).
    Camera,
}

/// Receive one user's video as decoded JPEG frames.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VideoSubscription {
    /// Whose video.
    pub user_id: UserId,
    /// Which kind of stream; `None` takes whatever the user sends.
    pub stream_type: Option<StreamType>,
    /// Most frames per second to emit (decoding still sees every frame).
    pub max_fps: f32,
    /// Preferred simulcast quality, 0-100 (OP15 `quality`).
    pub quality: u8,
    /// Largest picture to emit, in pixels (scaled down, aspect kept);
    /// `None` means the default 640×360 box.
    pub preferred_pixel_count: Option<u32>,
    /// JPEG quality, 10-100.
    pub jpeg_quality: u8,
}

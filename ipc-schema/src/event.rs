//! Messages from mediad to control.

use crate::command::{StreamConnect, StreamType, VideoSubscription, VoiceConnect};
use crate::hello::Hello;
use crate::ids::{Ssrc, UserId};
use crate::voice::{PlaybackEvent, UserSpeech, UserUtterance};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Every frame mediad sends. Variant order is part of the wire format:
/// append only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum MediadMsg {
    /// Handshake; always the first frame.
    Hello(Hello),
    /// A transport changed state.
    TransportState(TransportState),
    /// What a user is sending (merged OP12/OP18 video state).
    UserVideoState(UserVideoState),
    /// A decoded, gated, scaled, JPEG-encoded frame. Lossy lane.
    DecodedVideoFrame(DecodedVideoFrame),
    /// An encoded frame for a codec mediad does not decode itself. Lossy lane.
    UserVideoFrame(UserVideoFrame),
    /// A user's video stopped.
    UserVideoEnd {
        /// Whose video.
        user_id: UserId,
        /// The stream that ended, when known.
        ssrc: Option<Ssrc>,
    },
    /// Speaking activity changed.
    Speaking(Speaking),
    /// Periodic counters.
    Stats(Stats),
    /// Answer to `ControlMsg::Ping`.
    Pong {
        /// The ping's nonce.
        nonce: u64,
    },
    /// Something went wrong that is not a transport state change.
    Error(ErrorReport),
    /// Everything mediad holds; sent after a handshake and on request.
    Snapshot(Snapshot),
    /// An utterance's playback state changed.
    Playback(PlaybackEvent),
    /// A user started or stopped speaking (voice-activity detection).
    UserSpeech(UserSpeech),
    /// A finished utterance of one user, as 16 kHz PCM.
    UserUtterance(UserUtterance),
}

/// The three Discord media connections mediad can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TransportRole {
    /// The voice channel connection (audio, webcams).
    Voice,
    /// A Go Live stream being watched.
    StreamWatch,
    /// The bot's own Go Live stream.
    StreamPublish,
}

impl TransportRole {
    /// All roles, in a fixed order.
    pub const ALL: [TransportRole; 3] = [
        TransportRole::Voice,
        TransportRole::StreamWatch,
        TransportRole::StreamPublish,
    ];
    /// The snake_case name used in logs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportRole::Voice => "voice",
            TransportRole::StreamWatch => "stream_watch",
            TransportRole::StreamPublish => "stream_publish",
        }
    }
}

impl fmt::Display for TransportRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lifecycle of one transport slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TransportStatus {
    /// Connect requested and accepted; handshake in progress.
    Connecting,
    /// Media is flowing (or may flow).
    Ready,
    /// The WebSocket dropped and a resume is under way.
    Resuming,
    /// Reconnecting from scratch after a failure (capped backoff).
    Reconnecting,
    /// The server ended the session in a way only a new main-gateway
    /// voice/stream session can fix (e.g. close 4006, 4009): control must
    /// rejoin and send new credentials.
    RejoinRequired,
    /// Stopped for good (e.g. kicked, server crashed, retries exhausted).
    Failed,
    /// Torn down on request.
    Disconnected,
}

impl TransportStatus {
    /// The snake_case name used in logs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportStatus::Connecting => "connecting",
            TransportStatus::Ready => "ready",
            TransportStatus::Resuming => "resuming",
            TransportStatus::Reconnecting => "reconnecting",
            TransportStatus::RejoinRequired => "rejoin_required",
            TransportStatus::Failed => "failed",
            TransportStatus::Disconnected => "disconnected",
        }
    }
    /// Whether the slot still holds (or is trying to hold) a connection.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            TransportStatus::Connecting
                | TransportStatus::Ready
                | TransportStatus::Resuming
                | TransportStatus::Reconnecting
        )
    }
}

/// A transport slot changed state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransportState {
    /// Which slot.
    pub role: TransportRole,
    /// Its new status.
    pub status: TransportStatus,
    /// Why, in snake_case words (e.g. `close_4014_disconnected`).
    pub reason: Option<String>,
    /// The WebSocket close code behind the change, if any.
    pub close_code: Option<u16>,
}

/// Video codecs seen on Discord.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VideoCodec {
    /// H.264, decoded by mediad.
    H264,
    /// VP8, decoded by mediad.
    Vp8,
    /// VP9 (forwarded encoded, if at all).
    Vp9,
    /// AV1 (forwarded encoded, if at all).
    Av1,
}

/// One stream (simulcast layer or screen/camera) a user announces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoStreamInfo {
    /// Media SSRC.
    pub ssrc: Ssrc,
    /// Retransmission SSRC.
    pub rtx_ssrc: Option<Ssrc>,
    /// Simulcast rid.
    pub rid: Option<String>,
    /// Quality 0-100.
    pub quality: Option<u8>,
    /// Screen or camera.
    pub stream_type: Option<StreamType>,
    /// Whether the sender says it is active.
    pub active: bool,
    /// Announced bitrate cap.
    pub max_bitrate: Option<u32>,
    /// Announced frame-rate cap.
    pub max_framerate: Option<u32>,
    /// Announced resolution cap (width, height).
    pub max_resolution: Option<(u32, u32)>,
}

/// A user's merged video state on one transport.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserVideoState {
    /// Whose state.
    pub user_id: UserId,
    /// The transport it was seen on.
    pub role: TransportRole,
    /// Audio SSRC, if known.
    pub audio_ssrc: Option<Ssrc>,
    /// Primary video SSRC, if any.
    pub video_ssrc: Option<Ssrc>,
    /// Negotiated video codec.
    pub codec: Option<VideoCodec>,
    /// All announced streams.
    pub streams: Vec<VideoStreamInfo>,
}

/// A decoded frame, gated to the subscription's fps, scaled and JPEG'd.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecodedVideoFrame {
    /// Whose video.
    pub user_id: UserId,
    /// Which stream.
    pub ssrc: Ssrc,
    /// Screen or camera.
    pub stream_type: Option<StreamType>,
    /// JPEG width in pixels.
    pub width: u32,
    /// JPEG height in pixels.
    pub height: u32,
    /// The JPEG file.
    #[serde(with = "serde_bytes")]
    pub jpeg: Vec<u8>,
    /// Visual change against the previously emitted frame, 0-1.
    pub change_score: f32,
    /// Exponential moving average of the per-decoded-frame change.
    pub ema_score: f32,
    /// A scene cut happened since the previously emitted frame.
    pub scene_cut: bool,
    /// RTP timestamp of the access unit (90 kHz).
    pub rtp_timestamp: u32,
    /// When the first packet of this frame arrived, µs since the Unix epoch.
    pub capture_time_us: u64,
    /// Emitted-frame counter for this stream (gaps mean lane drops).
    pub frame_seq: u64,
}

/// An encoded frame of a codec mediad does not decode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserVideoFrame {
    /// Whose video.
    pub user_id: UserId,
    /// Which stream.
    pub ssrc: Ssrc,
    /// The codec of `data`.
    pub codec: VideoCodec,
    /// Whether this frame can be decoded on its own.
    pub keyframe: bool,
    /// RTP timestamp (90 kHz).
    pub rtp_timestamp: u32,
    /// Arrival time, µs since the Unix epoch.
    pub capture_time_us: u64,
    /// The encoded frame (end-to-end decrypted).
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}

/// Speaking activity for one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Speaking {
    /// Who.
    pub user_id: UserId,
    /// Their audio SSRC, when known.
    pub ssrc: Option<Ssrc>,
    /// Started (true) or stopped (false).
    pub speaking: bool,
}

/// Per-transport counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransportStats {
    /// Which slot (`None` never appears on the wire; `Default` needs it).
    pub role: Option<TransportRole>,
    /// RTP/RTCP packets received.
    pub packets_received: u64,
    /// Packets dropped as undecryptable or malformed.
    pub packets_rejected: u64,
    /// Packets recovered through NACK + RTX.
    pub packets_recovered: u64,
    /// Packets given up as lost.
    pub packets_lost: u64,
    /// Video frames decoded.
    pub frames_decoded: u64,
    /// Video frames emitted to control.
    pub frames_emitted: u64,
    /// Keyframe requests sent (PLI/FIR).
    pub keyframe_requests: u64,
    /// End-to-end (DAVE) decrypt failures.
    pub e2ee_failures: u64,
    /// Reconnects and resumes since the slot was created.
    pub reconnects: u64,
}

/// Periodic counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Milliseconds since mediad started.
    pub uptime_ms: u64,
    /// Frames dropped from the lossy lane because control read too slowly.
    pub video_lane_dropped: u64,
    /// Frames sent on the lossy lane.
    pub video_lane_sent: u64,
    /// One entry per existing transport slot.
    pub transports: Vec<TransportStats>,
}

/// Error classes mediad reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    /// Another control is already connected; this connection is refused.
    ControlAlreadyConnected,
    /// A command was well-formed but not acceptable (named in the message).
    InvalidCommand,
    /// A command needs something that is not there (e.g. publish frame
    /// without a publish transport).
    NotReady,
    /// Something failed inside mediad.
    Internal,
}

/// An error report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// Class of error.
    pub code: ErrorCode,
    /// Human-readable detail.
    pub message: String,
}

/// One transport slot as held by mediad.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransportSnapshot {
    /// Which slot.
    pub role: TransportRole,
    /// Its current status.
    pub status: TransportStatus,
    /// Last reason reported.
    pub reason: Option<String>,
    /// The connect command the slot was created from.
    pub params: TransportParams,
}

/// The connect parameters of a slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransportParams {
    /// Voice slot.
    Voice(VoiceConnect),
    /// Stream watch or publish slot.
    Stream(StreamConnect),
}

/// Everything mediad holds on behalf of control.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// mediad's instance id (same as in its Hello).
    pub instance_id: u64,
    /// Milliseconds since mediad started.
    pub uptime_ms: u64,
    /// How many control connections mediad has accepted so far.
    pub control_sessions: u64,
    /// Existing transport slots.
    pub transports: Vec<TransportSnapshot>,
    /// Active video subscriptions.
    pub subscriptions: Vec<VideoSubscription>,
    /// Whether publishing is paused.
    pub publish_paused: bool,
}

//! [`Action`]: the one vocabulary for scenario timelines and the admin API
//! (`POST /admin/actions` takes exactly this JSON). Every fault the sim can
//! inject is an action, so anything a test can do live it can also script.

use gateway_proto::{Secret, StreamDeleteReason};
use serde::{Deserialize, Serialize};

use crate::media::{ServerKind, VideoSpecConfig};
use crate::world::{ChannelRef, UserRef};

fn default_reason() -> StreamDeleteReason {
    StreamDeleteReason::StreamEnded
}

/// One thing that happens in the simulated world. JSON:
/// `{"action": "<snake_case name>", ...fields}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// A simulated user joins a voice channel (camera on when `camera` is
    /// given).
    JoinVoice {
        /// Who.
        user: UserRef,
        /// Voice channel.
        channel: ChannelRef,
        /// Self-muted.
        #[serde(default)]
        self_mute: bool,
        /// Self-deafened.
        #[serde(default)]
        self_deaf: bool,
        /// Webcam.
        #[serde(default)]
        camera: Option<VideoSpecConfig>,
    },
    /// Any user leaves voice (a gateway user's voice connection gets 4014).
    LeaveVoice {
        /// Who.
        user: UserRef,
    },
    /// A simulated user starts Go Live.
    StartStream {
        /// Who.
        user: UserRef,
        /// The screen (defaults: 1280x720 H.264 30 fps).
        #[serde(default)]
        video: VideoSpecConfig,
    },
    /// A user's stream ends (STREAM_DELETE `user_requested` to viewers).
    StopStream {
        /// Who.
        user: UserRef,
    },
    /// A simulated streamer pauses/unpauses (STREAM_UPDATE).
    PauseStream {
        /// Who.
        user: UserRef,
        /// Paused.
        paused: bool,
    },
    /// A simulated user's webcam on/off.
    SetWebcam {
        /// Who.
        user: UserRef,
        /// On.
        on: bool,
        /// Camera spec (default 640x360).
        #[serde(default)]
        video: Option<VideoSpecConfig>,
    },
    /// A simulated user speaks (Opus + op 5) or stops.
    Speak {
        /// Who.
        user: UserRef,
        /// On.
        on: bool,
    },
    /// A simulated user in voice says a line: espeak-ng speech as Opus on
    /// their audio SSRC (op 5 first, the silence tail and op 5 off after;
    /// DAVE-encrypted when the room runs DAVE). From a timeline the line is
    /// synthesized in the background; `POST /admin/say` (or this action
    /// through the admin API) answers with its length.
    Say {
        /// Who (must be a simulated user in a voice channel).
        user: UserRef,
        /// What (1–500 characters, no control characters).
        text: String,
    },
    /// A user posts a message (MESSAGE_CREATE to the guild).
    PostMessage {
        /// Author.
        user: UserRef,
        /// Channel.
        channel: ChannelRef,
        /// Text.
        content: String,
    },
    /// Network emulation on a media server's UDP (0.0–1.0 each).
    Netem {
        /// Voice or stream server.
        server: ServerKind,
        /// Loss probability.
        #[serde(default)]
        loss: f32,
        /// Reorder probability.
        #[serde(default)]
        reorder: f32,
        /// Duplicate probability.
        #[serde(default)]
        duplicate: f32,
        /// Seed (default: the sim's `--seed`).
        #[serde(default)]
        seed: Option<u64>,
    },
    /// Close media WebSocket sessions with a code (4006, 4009, 4014, 4015,
    /// 4017, ...), in one room (server_id) or all.
    CloseMedia {
        /// Voice or stream server.
        server: ServerKind,
        /// Room (guild id or rtc_server_id); all rooms when absent.
        #[serde(default)]
        room: Option<u64>,
        /// Close code.
        code: u16,
    },
    /// A media server crashes (all sockets dropped) until `restart`.
    Crash {
        /// Voice or stream server.
        server: ServerKind,
    },
    /// A crashed media server comes back.
    Restart {
        /// Voice or stream server.
        server: ServerKind,
    },
    /// RTP padding on outgoing media on/off.
    Padding {
        /// Voice or stream server.
        server: ServerKind,
        /// On.
        on: bool,
    },
    /// Delay before a media server answers Identify/Select Protocol.
    HandshakeDelay {
        /// Voice or stream server.
        server: ServerKind,
        /// Milliseconds.
        ms: u64,
    },
    /// Main gateway op 7 Reconnect (then close 4000) to one session, all
    /// sessions of a user, or every session.
    GatewayReconnect {
        /// One session.
        #[serde(default)]
        session_id: Option<Secret>,
        /// All sessions of a user.
        #[serde(default)]
        user: Option<UserRef>,
    },
    /// Main gateway op 9 Invalid Session (`d` = resumable). Not resumable:
    /// the session is dropped (with its voice state); the connection stays
    /// open for a fresh Identify.
    GatewayInvalidSession {
        /// One session.
        #[serde(default)]
        session_id: Option<Secret>,
        /// All sessions of a user.
        #[serde(default)]
        user: Option<UserRef>,
        /// `d`.
        #[serde(default)]
        resumable: bool,
    },
    /// Delete a stream with a reason (STREAM_DELETE to owner and viewers,
    /// stream connections closed with 4022).
    DeleteStream {
        /// The streaming user.
        user: UserRef,
        /// Reason (default `stream_ended`).
        #[serde(default = "default_reason")]
        reason: StreamDeleteReason,
    },
    /// The next `count` REST requests get 429.
    RestRateLimit {
        /// How many requests.
        count: u32,
        /// `retry_after` in milliseconds.
        retry_after_ms: u64,
        /// Global limit (`X-RateLimit-Global`).
        #[serde(default)]
        global: bool,
    },
    /// Delay between STREAM_CREATE and STREAM_SERVER_UPDATE from now on.
    SetStreamServerUpdateDelay {
        /// Milliseconds (0 = none).
        ms: u64,
    },
}

/// A scenario timeline entry: an action at a time since the sim started,
/// optionally repeated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Milliseconds after start (0 = applied before the sim accepts
    /// connections, so READY already reflects it).
    #[serde(default)]
    pub at_ms: u64,
    /// Repeat every this many milliseconds (must be > 0).
    #[serde(default)]
    pub every_ms: Option<u64>,
    /// What happens.
    #[serde(flatten)]
    pub action: Action,
}

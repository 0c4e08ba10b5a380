//! The public configuration and command vocabulary shared with `discord-sim`
//! (see the crate docs and `notes/sim-interface.md`).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde::Serialize;
use voice_proto::Secret;

/// How one media server (guild voice or Go Live stream) is started.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceServerConfig {
    /// Address both the WebSocket and the UDP socket bind to (ports are
    /// chosen by the OS); also the `ip` advertised in Ready unless
    /// `advertise_ip` is set.
    pub bind_ip: IpAddr,
    /// The address clients are told to reach this server at (Ready's `ip`
    /// for UDP, the host of [`crate::VoiceServerHandle::endpoint`]) when it
    /// differs from `bind_ip`: a server bound to `0.0.0.0` in a container
    /// advertises the container's address. `None`: `bind_ip`.
    pub advertise_ip: Option<IpAddr>,
    /// `"voice"` or `"stream"`; only used in logs and the report.
    pub name: String,
    /// Advertised in Hello; a client that sends nothing for more than two
    /// intervals is closed with 4009.
    pub heartbeat_interval: Duration,
    /// Offered transport-encryption modes (Ready `modes`), in order.
    pub modes: Vec<String>,
    /// Offer DAVE (`dave_protocol_version` 1) to clients whose Identify
    /// has `max_dave_protocol_version >= 1`; the server then acts as the
    /// MLS external sender of each room's group (see the crate docs).
    /// Clients that do not offer DAVE are closed with 4017, as Discord does.
    pub dave: bool,
    /// The certificate the WebSocket is served with: TLS only, as
    /// Discord's voice servers (`wss://endpoint/?v=N`). `None` makes a new
    /// CA at start ([`crate::VoiceServerHandle::tls`] gives it to clients);
    /// discord-sim passes its own so that one CA covers all its servers.
    pub tls: Option<sim_tls::SimTls>,
}

impl VoiceServerConfig {
    /// The address clients reach this server at: `advertise_ip`, else
    /// `bind_ip`.
    pub fn public_ip(&self) -> IpAddr {
        self.advertise_ip.unwrap_or(self.bind_ip)
    }
}

impl Default for VoiceServerConfig {
    fn default() -> Self {
        Self {
            bind_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            advertise_ip: None,
            name: "voice".to_owned(),
            heartbeat_interval: Duration::from_millis(13_750),
            modes: vec![
                "aead_aes256_gcm_rtpsize".to_owned(),
                "aead_xchacha20_poly1305_rtpsize".to_owned(),
            ],
            dave: false,
            tls: None,
        }
    }
}

/// A room = one media session group: a guild voice channel (`server_id` =
/// guild id) or one Go Live stream (`server_id` = `rtc_server_id`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RoomId(pub u64);

/// Permission for one client to identify on a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionGrant {
    /// The `server_id` the client identifies with.
    pub room: RoomId,
    /// The client's user id.
    pub user_id: u64,
    /// The main-gateway voice session id of that user.
    pub session_id: Secret,
    /// The token handed out in VOICE_SERVER_UPDATE / STREAM_SERVER_UPDATE.
    pub token: Secret,
    /// What kind of room this is.
    pub kind: RoomKind,
}

/// What a room carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RoomKind {
    /// A guild voice channel; DAVE group id = `channel_id`.
    Voice {
        /// Guild id (= the room's server id).
        guild_id: u64,
        /// Voice channel id.
        channel_id: u64,
    },
    /// One Go Live stream; DAVE group id = `rtc_server_id - 1`.
    Stream {
        /// `guild:<guild>:<channel>:<user>` or `call:<channel>:<user>`.
        stream_key: String,
        /// User who streams.
        streamer_id: u64,
        /// The stream's media server id (= the room's server id).
        rtc_server_id: u64,
    },
}

/// A simulated participant of a room.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantSpec {
    /// Its user id.
    pub user_id: u64,
    /// Has an audio SSRC and sends Opus while speaking.
    pub audio: bool,
    /// Screen (Go Live streamer) or camera (webcam) video.
    pub video: Option<VideoSpec>,
    /// Become an MLS member of the room's DAVE group (when the server runs
    /// DAVE) and encrypt media end-to-end once the group is ready; until
    /// then media goes out unencrypted (passthrough).
    pub dave: bool,
}

/// A simulated participant's video.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoSpec {
    /// Screen share or webcam picture.
    pub kind: VideoKind,
    /// Codec of the frames (each frame is sent with the payload type the
    /// receiver declared for its codec).
    pub codec: VideoCodecSpec,
    /// Full-quality width in pixels.
    pub width: u32,
    /// Full-quality height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// Encoder target bitrate of the full-quality layer.
    pub bitrate_kbps: u32,
    /// Periodic IDR (0 = only on request); PLI/FIR forces one sooner.
    pub keyframe_interval_frames: u32,
    /// Lower layers served when a receiver asks (OP15) for a lower quality
    /// or pixel count: `(quality, width, height)`.
    pub layers: Vec<(u8, u32, u32)>,
}

/// Picture content of a simulated video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum VideoKind {
    /// Screen-like content with readable, changing text.
    Screen,
    /// Camera-like content.
    Camera,
}

/// Video codec of a simulated participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum VideoCodecSpec {
    /// H264 constrained baseline.
    H264,
    /// VP8 (libvpx).
    Vp8,
    /// H264 for `every_frames` frames, then VP8 for as many, and so on: a
    /// streamer who switches codec mid-stream, on the same SSRC (each
    /// switch starts with a keyframe of the new codec).
    Alternate {
        /// Frames per codec run.
        every_frames: u32,
    },
}

/// Fault injection commands.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Network emulation on this server's UDP egress and ingress (0.0–1.0
    /// each), seeded. All zero turns it off.
    Netem {
        /// Probability a datagram is dropped.
        loss: f32,
        /// Probability a datagram is held back and sent after the next one.
        reorder: f32,
        /// Probability a datagram is sent twice.
        duplicate: f32,
        /// Seed of the emulation's random generator.
        seed: u64,
    },
    /// Close every WS session of a room (or all rooms when `None`) with
    /// `code`. Sessions closed with a resumable code (4015, < 4000, 4013)
    /// stay resumable; any other code ends the session.
    Close {
        /// Room to act on, all rooms when `None`.
        room: Option<RoomId>,
        /// WebSocket close code.
        code: u16,
    },
    /// The whole server stops: all WS and UDP sockets dropped, no more
    /// accepts, all sessions forgotten, until [`Fault::Restart`].
    Crash,
    /// Bring a crashed server back on the same ports.
    Restart,
    /// Send RTP padding (incl. all-padding packets) on outgoing media.
    Padding(bool),
    /// Delay (ms) before answering op 0 / op 1 (to create races).
    HandshakeDelay(u64),
}

//! The two media servers (voice and Go Live stream) behind one small
//! interface, plus a log of every request the world made of them (the
//! admin API shows it; tests assert on it).
//!
//! The servers themselves are `sim-media-server`'s. The world speaks its own plain
//! data ([`MediaAction`], [`MediaFault`]); this file is the single place
//! that converts to `sim-media-server` types. [`MediaBackend`] is the seam: it is
//! implemented for `sim_media_server::VoiceServerHandle`.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use sim_media_server::{RoomId, VoiceServerHandle};

use crate::media::{
    Grant, GrantKind, MediaAction, ServerKind, VideoCodec, VideoKind, VideoSpecConfig,
};

/// A fault for a media server (mirrors `sim_media_server::Fault`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum MediaFault {
    /// Seeded loss/reorder/duplication on UDP.
    Netem {
        /// Loss probability.
        loss: f32,
        /// Reorder probability.
        reorder: f32,
        /// Duplicate probability.
        duplicate: f32,
        /// Seed.
        seed: u64,
    },
    /// Close WS sessions of a room (all rooms when `None`) with `code`.
    Close {
        /// Room.
        room: Option<u64>,
        /// Close code.
        code: u16,
    },
    /// The server drops all sockets until `Restart`.
    Crash,
    /// The server comes back.
    Restart,
    /// RTP padding on outgoing media.
    Padding(bool),
    /// Delay before answering op 0 / op 1, in ms.
    HandshakeDelay(u64),
}

/// A frame a client published, decoded to JPEG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedFrameOut {
    /// JPEG bytes (base64 in JSON).
    #[serde(serialize_with = "as_base64")]
    pub jpeg: Vec<u8>,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// RTP timestamp of the frame.
    pub rtp_timestamp: u32,
    /// When the server assembled it.
    pub received_at_unix_ms: u64,
}

fn as_base64<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    use base64::Engine as _;
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// A boxed future (the trait must be object-safe).
pub type BoxFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// What this crate needs from a media server.
pub trait MediaBackend: Send + Sync {
    /// `host:port` for VOICE_SERVER_UPDATE / STREAM_SERVER_UPDATE.
    fn endpoint(&self) -> String;
    /// Grant, revoke, add/remove participants, speaking.
    fn apply(&self, action: &MediaAction);
    /// Inject a fault.
    fn inject(&self, fault: &MediaFault);
    /// What the server saw (JSON for the admin API).
    fn report(&self) -> serde_json::Value;
    /// Frames a client published on a room, newest last.
    fn published_frames(&self, room: u64, user_id: u64) -> Vec<PublishedFrameOut>;
    /// Close everything.
    fn shutdown(&self) -> BoxFuture<'_>;
}

fn video_spec(v: &VideoSpecConfig) -> sim_media_server::VideoSpec {
    sim_media_server::VideoSpec {
        kind: match v.kind {
            VideoKind::Screen => sim_media_server::VideoKind::Screen,
            VideoKind::Camera => sim_media_server::VideoKind::Camera,
        },
        codec: match v.codec {
            VideoCodec::H264 => sim_media_server::VideoCodecSpec::H264,
            VideoCodec::Vp8 => sim_media_server::VideoCodecSpec::Vp8,
            VideoCodec::Alternate { every_frames } => {
                sim_media_server::VideoCodecSpec::Alternate { every_frames }
            }
        },
        width: v.width,
        height: v.height,
        fps: v.fps,
        bitrate_kbps: v.bitrate_kbps,
        keyframe_interval_frames: v.keyframe_interval_frames,
        layers: v.layers.clone(),
    }
}

fn session_grant(g: &Grant) -> sim_media_server::SessionGrant {
    sim_media_server::SessionGrant {
        room: RoomId(g.room),
        user_id: g.user_id,
        session_id: g.session_id.clone(),
        token: g.token.clone(),
        kind: match &g.kind {
            GrantKind::Voice {
                guild_id,
                channel_id,
            } => sim_media_server::RoomKind::Voice {
                guild_id: *guild_id,
                channel_id: *channel_id,
            },
            GrantKind::Stream {
                stream_key,
                streamer_id,
                rtc_server_id,
            } => sim_media_server::RoomKind::Stream {
                stream_key: stream_key.clone(),
                streamer_id: *streamer_id,
                rtc_server_id: *rtc_server_id,
            },
        },
    }
}

fn fault(f: &MediaFault) -> sim_media_server::Fault {
    match f {
        MediaFault::Netem {
            loss,
            reorder,
            duplicate,
            seed,
        } => sim_media_server::Fault::Netem {
            loss: *loss,
            reorder: *reorder,
            duplicate: *duplicate,
            seed: *seed,
        },
        MediaFault::Close { room, code } => sim_media_server::Fault::Close {
            room: room.map(RoomId),
            code: *code,
        },
        MediaFault::Crash => sim_media_server::Fault::Crash,
        MediaFault::Restart => sim_media_server::Fault::Restart,
        MediaFault::Padding(on) => sim_media_server::Fault::Padding(*on),
        MediaFault::HandshakeDelay(ms) => sim_media_server::Fault::HandshakeDelay(*ms),
    }
}

impl MediaBackend for VoiceServerHandle {
    fn endpoint(&self) -> String {
        VoiceServerHandle::endpoint(self)
    }

    fn apply(&self, action: &MediaAction) {
        match action {
            MediaAction::Grant { grant, .. } => self.grant(session_grant(grant)),
            MediaAction::Revoke {
                room,
                user_id,
                close_code,
                ..
            } => {
                self.revoke(RoomId(*room), *user_id, *close_code);
            }
            MediaAction::AddParticipant {
                room, participant, ..
            } => self.add_participant(
                RoomId(*room),
                sim_media_server::ParticipantSpec {
                    user_id: participant.user_id,
                    audio: participant.audio,
                    video: participant.video.as_ref().map(video_spec),
                    dave: participant.dave,
                },
            ),
            MediaAction::RemoveParticipant { room, user_id, .. } => {
                self.remove_participant(RoomId(*room), *user_id);
            }
            MediaAction::SetSpeaking {
                room,
                user_id,
                speaking,
                ..
            } => {
                self.set_speaking(RoomId(*room), *user_id, *speaking);
            }
        }
    }

    fn inject(&self, f: &MediaFault) {
        VoiceServerHandle::inject(self, fault(f));
    }

    fn report(&self) -> serde_json::Value {
        serde_json::to_value(VoiceServerHandle::report(self)).unwrap_or_else(|e| {
            serde_json::Value::String(format!("report does not serialize: {e}"))
        })
    }

    fn published_frames(&self, room: u64, user_id: u64) -> Vec<PublishedFrameOut> {
        VoiceServerHandle::published_frames(self, RoomId(room), user_id)
            .into_iter()
            .map(|f| PublishedFrameOut {
                jpeg: f.jpeg,
                width: f.width,
                height: f.height,
                rtp_timestamp: f.rtp_timestamp,
                received_at_unix_ms: f.received_at_unix_ms,
            })
            .collect()
    }

    fn shutdown(&self) -> BoxFuture<'_> {
        Box::pin(VoiceServerHandle::shutdown(self))
    }
}

/// One logged request (admin API `GET /admin/media/{server}/log`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MediaLogEntry {
    /// A world request.
    Action(MediaAction),
    /// An injected fault.
    Fault(MediaFault),
}

/// How many log entries are kept per server.
const LOG_CAP: usize = 1000;

/// One media server plus its request log.
#[derive(Clone)]
pub struct MediaServer {
    kind: ServerKind,
    backend: Arc<dyn MediaBackend>,
    log: Arc<Mutex<VecDeque<MediaLogEntry>>>,
}

impl MediaServer {
    fn new(kind: ServerKind, backend: Arc<dyn MediaBackend>) -> Self {
        Self {
            kind,
            backend,
            log: Arc::new(Mutex::new(VecDeque::new())),
        }
    }

    fn record(&self, entry: MediaLogEntry) {
        // A poisoned log only means a panic elsewhere; keep logging.
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() == LOG_CAP {
            log.pop_front();
        }
        log.push_back(entry);
    }

    /// Which server this is.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// `host:port`.
    pub fn endpoint(&self) -> String {
        self.backend.endpoint()
    }

    /// Forwards a world request and logs it.
    pub fn apply(&self, action: &MediaAction) {
        self.record(MediaLogEntry::Action(action.clone()));
        self.backend.apply(action);
    }

    /// Forwards a fault and logs it.
    pub fn inject(&self, fault: MediaFault) {
        self.record(MediaLogEntry::Fault(fault.clone()));
        self.backend.inject(&fault);
    }

    /// The backend's report.
    pub fn report(&self) -> serde_json::Value {
        self.backend.report()
    }

    /// Published frames.
    pub fn published_frames(&self, room: u64, user_id: u64) -> Vec<PublishedFrameOut> {
        self.backend.published_frames(room, user_id)
    }

    /// The request log, oldest first.
    pub fn log(&self) -> Vec<MediaLogEntry> {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Stops the server.
    pub async fn shutdown(&self) {
        self.backend.shutdown().await;
    }
}

/// Both servers.
#[derive(Clone)]
pub struct MediaServers {
    /// Guild voice.
    pub voice: MediaServer,
    /// Go Live streams.
    pub stream: MediaServer,
    /// The sim-media-server handles behind `voice` and `stream`.
    pub voice_handle: VoiceServerHandle,
    /// See `voice_handle`.
    pub stream_handle: VoiceServerHandle,
}

/// Media server settings taken from the scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// Offer DAVE.
    pub dave: bool,
    /// Voice-gateway heartbeat interval in ms.
    pub heartbeat_interval_ms: u64,
    /// Bind address.
    pub bind_ip: std::net::IpAddr,
    /// The IP announced in Ready for UDP (differs from `bind_ip` when that
    /// is `0.0.0.0`).
    pub advertise_ip: std::net::IpAddr,
    /// The certificate both servers' WebSockets are served with.
    pub tls: sim_tls::SimTls,
}

impl MediaServers {
    /// Starts both servers.
    pub async fn start(config: &MediaConfig) -> Result<Self, crate::SimError> {
        let server = |name: &str| sim_media_server::VoiceServerConfig {
            bind_ip: config.bind_ip,
            advertise_ip: Some(config.advertise_ip),
            name: name.to_owned(),
            heartbeat_interval: Duration::from_millis(config.heartbeat_interval_ms.max(1)),
            dave: config.dave,
            tls: Some(config.tls.clone()),
            ..sim_media_server::VoiceServerConfig::default()
        };
        let media_err = |e: sim_media_server::SimVoiceError| crate::SimError::Media(e.to_string());
        let voice = sim_media_server::start(server("voice"))
            .await
            .map_err(media_err)?;
        let stream = sim_media_server::start(server("stream"))
            .await
            .map_err(media_err)?;
        Ok(Self {
            voice: MediaServer::new(ServerKind::Voice, Arc::new(voice.clone())),
            stream: MediaServer::new(ServerKind::Stream, Arc::new(stream.clone())),
            voice_handle: voice,
            stream_handle: stream,
        })
    }

    /// The server of a kind.
    pub fn get(&self, kind: ServerKind) -> &MediaServer {
        match kind {
            ServerKind::Voice => &self.voice,
            ServerKind::Stream => &self.stream,
        }
    }

    /// Routes a world request to its server.
    pub fn apply(&self, action: &MediaAction) {
        let kind = match action {
            MediaAction::Grant { server, .. }
            | MediaAction::Revoke { server, .. }
            | MediaAction::AddParticipant { server, .. }
            | MediaAction::RemoveParticipant { server, .. }
            | MediaAction::SetSpeaking { server, .. } => *server,
        };
        self.get(kind).apply(action);
    }
}

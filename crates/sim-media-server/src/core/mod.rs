//! The server's state machine, free of sockets: the tokio shell feeds it
//! WebSocket frames, datagrams, commands and the time, and drains
//! [`Output`]s (frames to write, datagrams to send). Everything a test needs
//! to reason about — handshake, resume, heartbeats, SFU forwarding, RTX,
//! layers — happens here, single-threaded and deterministic for a seed.

mod dave;
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod layer_tests;
mod media;
#[cfg(test)]
mod say_tests;
#[cfg(test)]
mod test_support;
pub(crate) use media::{SayError, SayStarted};
mod udp;
mod ws;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sim_dave::DaveGateway;
use voice_crypto::Sealer;
use voice_proto::{CodecDescriptor, CodecKind, MediaSinkWants, Speaking, StreamDescriptor, Video};

use crate::config::{Fault, ParticipantSpec, RoomId, RoomKind, SessionGrant, VoiceServerConfig};
use crate::egress::EgressStream;
use crate::netem::Netem;
use crate::participant::Participant;
use crate::publish::PublishDecoder;
use crate::replay::ReplayBuffer;
use crate::report::{LayerReport, ParticipantReport, RoomReport, ServerReport, SessionReport};
use crate::shared::Shared;

/// Identifies one WebSocket connection (assigned by the shell).
pub(crate) type ConnId = u64;
/// One user's session on one room.
pub(crate) type SessionKey = (RoomId, u64);

/// A sessions that lost its WebSocket stays resumable this long.
pub(crate) const RESUME_WINDOW: Duration = Duration::from_secs(60);
/// Deferred (delayed) handshake messages kept at most.
const MAX_DEFERRED: usize = 64;
/// Longest the shell sleeps without calling `handle_timeout` (heartbeat
/// checks, sender reports, reorder flushes run on this tick).
const HOUSEKEEPING: Duration = Duration::from_millis(20);

/// A frame to write on a WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WsFrame {
    /// JSON text.
    Text(String),
    /// A binary DAVE frame (ops 25, 27, 29, 30).
    Binary(Vec<u8>),
    /// Close with this code, then drop the connection.
    Close(u16),
}

/// What the core asks the shell to do.
#[derive(Debug)]
pub(crate) enum Output {
    /// Write a frame on a connection.
    Ws(ConnId, WsFrame),
    /// Send a datagram.
    Udp(SocketAddr, Vec<u8>),
    /// Hand a client's audio (or its op 5 off) to the recorder.
    Record(crate::recorder::RecorderEvent),
}

/// Commands from the handle.
#[derive(Debug)]
pub(crate) enum Command {
    Grant(SessionGrant),
    Revoke {
        room: RoomId,
        user_id: u64,
        close_code: Option<u16>,
    },
    AddParticipant(RoomId, ParticipantSpec),
    RemoveParticipant(RoomId, u64),
    SetSpeaking(RoomId, u64, bool),
    Fault(Fault),
}

/// One WebSocket connection.
#[derive(Debug)]
pub(crate) struct Conn {
    version: u8,
    session: Option<SessionKey>,
    last_heartbeat: Instant,
}

/// One client's session (survives its WebSocket while resumable).
pub(crate) struct Session {
    grant: SessionGrant,
    conn: Option<ConnId>,
    version: u8,
    detached_at: Option<Instant>,
    ssrc: u32,
    /// Ready `streams`, with the SSRCs handed out.
    streams: Vec<StreamDescriptor>,
    udp: Option<SocketAddr>,
    sealer: Option<Sealer>,
    codecs: Vec<CodecDescriptor>,
    /// Last seq number used (v8+).
    seq: u64,
    replay: ReplayBuffer,
    wants: MediaSinkWants,
    /// Outgoing streams to this client, by the SSRC it sees.
    egress: HashMap<u32, EgressStream>,
    /// Layer SSRCs of simulated participants this client gets now (its
    /// op 15 asks for them and their keyframe has been sent).
    forwarding: BTreeSet<u32>,
    /// The client's own op 12 / op 5, re-announced to later joiners. Until
    /// the first op 12 the client gets no video (`Core::video_receivers`).
    client_video: Option<Video>,
    client_speaking: Option<Speaking>,
    /// Decoders of video the client publishes, by SSRC.
    publish: HashMap<u32, PublishDecoder>,
    /// The session was told who is in the room.
    announced: bool,
    /// Op 11 with the room's users was sent to this session.
    clients_announced: bool,
    /// The room was told about the session (op 11).
    joined: bool,
    /// Counts packets for the padding fault.
    pad_counter: u32,
    /// `max_dave_protocol_version` of the Identify.
    dave_max: u16,
    /// The MLS group the session is connected to (DAVE negotiated).
    dave_group: Option<u64>,
    report: SessionReport,
}

/// A room's simulated side.
#[derive(Default)]
pub(crate) struct Room {
    kind: Option<RoomKind>,
    participants: std::collections::BTreeMap<u64, Participant>,
}

/// The whole server state.
pub(crate) struct Core {
    config: VoiceServerConfig,
    rng: StdRng,
    start: Instant,
    start_unix_ms: u64,
    ws_port: u16,
    udp_port: u16,
    crashed: bool,
    grants: HashMap<SessionKey, SessionGrant>,
    conns: HashMap<ConnId, Conn>,
    sessions: HashMap<SessionKey, Session>,
    addr_index: HashMap<SocketAddr, SessionKey>,
    rooms: HashMap<RoomId, Room>,
    padding: bool,
    handshake_delay: Duration,
    netem_out: Option<Netem>,
    netem_in: Option<Netem>,
    deferred: Vec<(Instant, ConnId, String)>,
    next_ssrc: u32,
    out: VecDeque<Output>,
    /// Scratch for outgoing datagrams before netem.
    pending_udp: Vec<(SocketAddr, Vec<u8>)>,
    ws_connections_total: u64,
    malformed_ws: u64,
    dropped_datagrams: u64,
    /// The MLS external sender of every room (when `config.dave`).
    dave: Option<DaveGateway>,
    /// MLS group id → room.
    dave_rooms: HashMap<u64, RoomId>,
    shared: Arc<Mutex<Shared>>,
}

impl Core {
    /// A fresh server.
    pub(crate) fn new(
        config: VoiceServerConfig,
        ws_port: u16,
        udp_port: u16,
        seed: u64,
        now: Instant,
        start_unix_ms: u64,
        shared: Arc<Mutex<Shared>>,
    ) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let next_ssrc = rng.random_range(10_000..1_000_000);
        let dave = if config.dave {
            dave::new_gateway(&mut rng)
        } else {
            None
        };
        Self {
            config,
            rng,
            start: now,
            start_unix_ms,
            ws_port,
            udp_port,
            crashed: false,
            grants: HashMap::new(),
            conns: HashMap::new(),
            sessions: HashMap::new(),
            addr_index: HashMap::new(),
            rooms: HashMap::new(),
            padding: false,
            handshake_delay: Duration::ZERO,
            netem_out: None,
            netem_in: None,
            deferred: Vec::new(),
            next_ssrc,
            out: VecDeque::new(),
            pending_udp: Vec::new(),
            ws_connections_total: 0,
            malformed_ws: 0,
            dropped_datagrams: 0,
            dave,
            dave_rooms: HashMap::new(),
            shared,
        }
    }

    /// Next output to execute.
    pub(crate) fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Wall-clock milliseconds at `now`.
    fn unix_ms(&self, now: Instant) -> u64 {
        self.start_unix_ms + now.saturating_duration_since(self.start).as_millis() as u64
    }

    /// Reserves `n` consecutive SSRCs.
    fn alloc_ssrc(&mut self, n: u32) -> u32 {
        let s = self.next_ssrc;
        self.next_ssrc = self.next_ssrc.wrapping_add(n.max(1)).max(1000);
        s
    }

    /// A new WebSocket (the shell already completed the HTTP upgrade).
    pub(crate) fn on_ws_open(&mut self, conn: ConnId, version: u8, now: Instant) {
        self.ws_connections_total += 1;
        self.conns.insert(
            conn,
            Conn {
                version,
                session: None,
                last_heartbeat: now,
            },
        );
        let hello = voice_proto::VoiceMessage::Hello(voice_proto::Hello {
            heartbeat_interval_ms: self.config.heartbeat_interval.as_millis() as u64,
            v: (version >= 8).then_some(version),
        });
        self.out
            .push_back(Output::Ws(conn, WsFrame::Text(hello.to_text(None))));
    }

    /// The peer closed or the connection broke.
    pub(crate) fn on_ws_closed(&mut self, conn: ConnId, now: Instant) {
        if let Some(c) = self.conns.remove(&conn)
            && let Some(key) = c.session
            && let Some(s) = self.sessions.get_mut(&key)
            && s.conn == Some(conn)
        {
            s.conn = None;
            s.detached_at = Some(now);
        }
    }

    /// A command from the handle.
    pub(crate) fn on_command(&mut self, cmd: Command, now: Instant) {
        match cmd {
            Command::Grant(g) => {
                let room = g.room;
                self.rooms.entry(room).or_default().kind = Some(g.kind.clone());
                self.grants.insert((g.room, g.user_id), g);
                self.dave_sync_room(room, now);
            }
            Command::Revoke {
                room,
                user_id,
                close_code,
            } => {
                self.grants.remove(&(room, user_id));
                let key = (room, user_id);
                if let Some(conn) = self.sessions.get(&key).and_then(|s| s.conn) {
                    self.close_conn(conn, close_code.unwrap_or(4014), now);
                }
                self.remove_session(key, now);
            }
            Command::AddParticipant(room, spec) => self.add_participant(room, spec, now),
            Command::RemoveParticipant(room, user) => self.remove_participant(room, user, now),
            Command::SetSpeaking(room, user, on) => self.set_speaking(room, user, on, now),
            Command::Fault(f) => self.on_fault(f, now),
        }
    }

    fn on_fault(&mut self, fault: Fault, now: Instant) {
        match fault {
            Fault::Netem {
                loss,
                reorder,
                duplicate,
                seed,
            } => {
                self.netem_out = Netem::new(loss, reorder, duplicate, seed);
                self.netem_in = Netem::new(loss, reorder, duplicate, seed ^ 0x5EED);
            }
            Fault::Close { room, code } => {
                let conns: Vec<ConnId> = self
                    .sessions
                    .iter()
                    .filter(|(k, _)| room.is_none_or(|r| k.0 == r))
                    .filter_map(|(_, s)| s.conn)
                    .collect();
                for c in conns {
                    self.close_conn(c, code, now);
                }
            }
            Fault::Crash => self.crash(now),
            Fault::Restart => self.crashed = false,
            Fault::Padding(on) => self.padding = on,
            Fault::HandshakeDelay(ms) => self.handshake_delay = Duration::from_millis(ms),
        }
    }

    /// Forgets every connection and session (the shell drops the sockets).
    /// Simulated participants stay, and so do their DAVE groups, which see
    /// every client leave.
    pub(crate) fn crash(&mut self, now: Instant) {
        let keys: Vec<SessionKey> = self.sessions.keys().copied().collect();
        for k in keys {
            self.remove_session(k, now);
        }
        self.crashed = true;
        self.conns.clear();
        self.sessions.clear();
        self.addr_index.clear();
        self.deferred.clear();
        self.out.clear();
        self.pending_udp.clear();
    }

    /// Closes a connection with `code`; the session stays resumable only
    /// for codes whose client action is "resume".
    fn close_conn(&mut self, conn: ConnId, code: u16, now: Instant) {
        self.out.push_back(Output::Ws(conn, WsFrame::Close(code)));
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        let Some(key) = c.session else {
            return;
        };
        let resumable = matches!(
            voice_proto::CloseCode::from_u16(code).action(),
            voice_proto::CloseAction::Resume
        );
        if let Some(s) = self.sessions.get_mut(&key) {
            s.report.close_codes_sent.push(code);
            if s.report.close_codes_sent.len() > 32 {
                s.report.close_codes_sent.remove(0);
            }
            if s.conn == Some(conn) {
                s.conn = None;
                s.detached_at = Some(now);
            }
        }
        if !resumable {
            self.remove_session(key, now);
        }
    }

    /// Drops a session and tells the room (and its DAVE group).
    fn remove_session(&mut self, key: SessionKey, now: Instant) {
        let Some(s) = self.sessions.remove(&key) else {
            return;
        };
        if let Some(group) = s.dave_group {
            self.dave_disconnect(group, key.1, now);
        }
        if let Some(a) = s.udp {
            self.addr_index.remove(&a);
        }
        if let Some(c) = s.conn
            && let Some(conn) = self.conns.get_mut(&c)
        {
            conn.session = None;
        }
        let msg = voice_proto::VoiceMessage::ClientDisconnect(voice_proto::ClientDisconnect {
            user_id: voice_proto::UserId(key.1),
        });
        self.broadcast(key.0, Some(key.1), &msg);
    }

    /// When `handle_timeout` should next run.
    pub(crate) fn poll_timeout(&self, now: Instant) -> Instant {
        let mut t = now + HOUSEKEEPING;
        for room in self.rooms.values() {
            for p in room.participants.values() {
                if let Some(d) = p.next_deadline() {
                    t = t.min(d);
                }
            }
        }
        for (d, _, _) in &self.deferred {
            t = t.min(*d);
        }
        if let Some(d) = self.dave.as_ref().and_then(DaveGateway::poll_timeout) {
            t = t.min(d);
        }
        for n in [&self.netem_out, &self.netem_in].into_iter().flatten() {
            if let Some(d) = n.next_deadline() {
                t = t.min(d);
            }
        }
        t.max(now)
    }

    /// Runs everything due by `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        if self.crashed {
            return;
        }
        // Delayed handshake messages.
        let (due, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.deferred)
            .into_iter()
            .partition(|(d, _, _)| *d <= now);
        self.deferred = keep;
        for (_, conn, text) in due {
            self.on_text_inner(conn, &text, now, false);
        }
        // Heartbeat timeouts: more than two intervals without one.
        let limit = self.config.heartbeat_interval * 2 + Duration::from_millis(50);
        let late: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| now.saturating_duration_since(c.last_heartbeat) > limit)
            .map(|(id, _)| *id)
            .collect();
        for c in late {
            self.close_conn(c, 4009, now);
        }
        // Sessions nobody resumed.
        let expired: Vec<SessionKey> = self
            .sessions
            .iter()
            .filter(|(_, s)| {
                s.detached_at
                    .is_some_and(|t| now.saturating_duration_since(t) > RESUME_WINDOW)
            })
            .map(|(k, _)| *k)
            .collect();
        for k in expired {
            self.remove_session(k, now);
        }
        self.dave_timeout(now);
        self.media_tick(now);
        self.send_sender_reports(now);
        if let Some(n) = self.netem_out.as_mut() {
            let mut v = Vec::new();
            n.flush_due(now, &mut v);
            for (a, d) in v {
                self.out.push_back(Output::Udp(a, d));
            }
        }
        if let Some(n) = self.netem_in.as_mut() {
            let mut v = Vec::new();
            n.flush_due(now, &mut v);
            for (a, d) in v {
                self.handle_datagram(a, d, now);
            }
        }
    }

    /// A snapshot for the handle.
    pub(crate) fn snapshot(&self) -> ServerReport {
        let mut sessions: Vec<SessionReport> = self
            .sessions
            .iter()
            .map(|(k, s)| {
                let mut r = s.report.clone();
                r.connected = s.conn.is_some();
                r.gateway_version = s.version;
                r.dave_group_id = s.dave_group;
                self.fill_forwarded(k.0, s, &mut r);
                if let Some(g) = s
                    .dave_group
                    .and_then(|g| self.dave.as_ref().and_then(|d| d.group(g)))
                {
                    r.dave_epoch = g.epoch();
                    r.dave_in_group = g.members().contains(&k.1);
                }
                r
            })
            .collect();
        sessions.sort_by_key(|r| (r.room, r.user_id));
        let mut rooms: Vec<RoomReport> = self
            .rooms
            .iter()
            .map(|(id, room)| {
                let mut report = RoomReport {
                    room: *id,
                    kind: match room.kind {
                        Some(RoomKind::Voice { .. }) => "voice",
                        Some(RoomKind::Stream { .. }) => "stream",
                        None => "unknown",
                    }
                    .to_owned(),
                    participants: room
                        .participants
                        .values()
                        .map(|p| ParticipantReport {
                            user_id: p.spec.user_id,
                            audio_ssrc: p.audio_ssrc,
                            video_ssrc: p.video.as_ref().map(|v| v.primary_ssrc()),
                            video_layers: p
                                .video
                                .as_ref()
                                .map(|v| {
                                    v.layers
                                        .iter()
                                        .map(|l| LayerReport {
                                            ssrc: l.ssrc,
                                            rtx_ssrc: l.rtx_ssrc,
                                            quality: l.quality,
                                            width: l.width,
                                            height: l.height,
                                        })
                                        .collect()
                                })
                                .unwrap_or_default(),
                            speaking: p.speaking,
                            frames_encoded: p.video.as_ref().map_or(0, |v| v.frames_encoded),
                            keyframes_forced: p.video.as_ref().map_or(0, |v| v.keyframes_forced),
                            dave: p.dave.is_some(),
                            dave_epoch: p.dave.as_ref().and_then(|m| m.epoch()),
                            dave_can_encrypt: p
                                .dave
                                .as_ref()
                                .is_some_and(sim_dave::SimMember::can_encrypt),
                            dave_encrypted_frames: p.dave_stats.encrypted,
                            dave_passthrough_frames: p.dave_stats.passthrough,
                            dave_encrypt_failures: p.dave_stats.failures,
                            dave_commit_failures: p
                                .dave
                                .as_ref()
                                .map_or(0, sim_dave::SimMember::failures),
                        })
                        .collect(),
                    ..RoomReport::default()
                };
                self.fill_dave_room_report(&mut report, room);
                report
            })
            .collect();
        rooms.sort_by_key(|r| r.room);
        ServerReport {
            name: self.config.name.clone(),
            endpoint: std::net::SocketAddr::new(self.config.public_ip(), self.ws_port).to_string(),
            udp_port: self.udp_port,
            crashed: self.crashed,
            ws_connections_total: self.ws_connections_total,
            malformed_ws_messages: self.malformed_ws,
            dropped_datagrams: self.dropped_datagrams,
            sessions,
            rooms,
            recorder: crate::recorder::RecorderReport::default(),
        }
    }

    /// The simulated layers a session gets now, for its report.
    fn fill_forwarded(&self, room: RoomId, s: &Session, r: &mut SessionReport) {
        let Some(room) = self.rooms.get(&room) else {
            return;
        };
        for (user, p) in &room.participants {
            let Some(v) = p.video.as_ref() else {
                continue;
            };
            let on: Vec<&crate::participant::Layer> = v
                .layers
                .iter()
                .filter(|l| s.forwarding.contains(&l.ssrc))
                .collect();
            if on.is_empty() {
                continue;
            }
            let mut ssrcs: Vec<u32> = on.iter().map(|l| l.ssrc).collect();
            ssrcs.sort_unstable();
            r.forwarded_video.insert(*user, ssrcs);
            if let Some(l) = on
                .iter()
                .max_by_key(|l| u64::from(l.width) * u64::from(l.height))
            {
                r.layers.insert(*user, (l.width, l.height));
            }
        }
    }

    /// Records a generated frame sent, for `sent_frames`.
    fn record_sent(&self, frame: crate::report::SentFrame) {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        if shared.sent.len() >= crate::shared::SENT_FRAMES_CAP {
            shared.sent.pop_front();
        }
        shared.sent.push_back(frame);
    }

    /// Stores a published frame for `published_frames`.
    fn store_published(&self, key: SessionKey, frame: crate::report::PublishedFrame) {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        crate::publish::store(shared.published.entry(key).or_default(), frame);
    }
}

/// Payload types a receiver declared (op 1 / op 14), with the defaults a
/// client that declares nothing gets.
fn opus_pt(codecs: &[CodecDescriptor]) -> u8 {
    codecs
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case("opus"))
        .map_or(120, |c| c.payload_type)
}

/// `(payload type, rtx payload type)` of video codec `name` for a receiver
/// that decodes it. A client that declared no video codec at all is
/// assumed to take H264 on 101/102 (lenient: Discord would send no video).
fn video_pts(codecs: &[CodecDescriptor], name: &str) -> Option<(u8, Option<u8>)> {
    let any_video = codecs.iter().any(|c| c.kind == CodecKind::Video);
    if !any_video {
        return name
            .eq_ignore_ascii_case("H264")
            .then_some((101, Some(102)));
    }
    codecs
        .iter()
        .find(|c| c.kind == CodecKind::Video && c.name.eq_ignore_ascii_case(name) && c.decodes())
        .map(|c| (c.payload_type, c.rtx_payload_type))
}

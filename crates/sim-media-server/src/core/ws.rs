//! The voice gateway WebSocket protocol: handshake, heartbeats, resume with
//! replay, and the signalling ops relayed between room members.

use std::time::Instant;

use rand::Rng;
use sim_dave::ClientDaveMsg;
use voice_crypto::{CryptoMode, NonceSeed, Sealer, TransportCipher};
use voice_proto::{
    BackendVersion, ClientsConnect, DaveBinary, Identify, MaxResolution, Protocol, Ready,
    ResolutionType, Resume, Secret, SecretKey, SelectProtocol, SelectProtocolData,
    SessionDescription, Speaking, SpeakingFlags, StreamDescriptor, StreamType, UserId, Video,
    VoiceMessage,
};

use super::{ConnId, Core, MAX_DEFERRED, Output, Session, SessionKey, WsFrame};
use crate::config::{RoomId, RoomKind};
use crate::replay::ReplayBuffer;
use crate::report::SessionReport;

impl Core {
    /// A text frame from a client.
    pub(crate) fn on_text(&mut self, conn: ConnId, text: &str, now: Instant) {
        self.on_text_inner(conn, text, now, true);
    }

    /// A binary frame from a client (DAVE ops 26/28): counted, and handed
    /// to the room's DAVE group when the session negotiated DAVE.
    pub(crate) fn on_binary(&mut self, conn: ConnId, data: &[u8], now: Instant) {
        let key = self.conns.get(&conn).and_then(|c| c.session);
        match DaveBinary::parse_client(data) {
            Ok(msg) => {
                let Some(key) = key else {
                    return;
                };
                if let Some(s) = self.sessions.get_mut(&key) {
                    *s.report
                        .ops_received
                        .entry(msg.opcode().as_u8())
                        .or_default() += 1;
                }
                let client = match msg {
                    DaveBinary::KeyPackage(b) => ClientDaveMsg::KeyPackage(b),
                    DaveBinary::CommitWelcome(b) => ClientDaveMsg::CommitWelcome(b),
                    // Unknown binary opcodes: counted and ignored.
                    _ => return,
                };
                self.on_dave_client(key, client, now);
            }
            Err(e) => {
                self.malformed_ws += 1;
                if let Some(s) = key.and_then(|k| self.sessions.get_mut(&k)) {
                    super::dave::record_error(&mut s.report, format!("binary frame: {e}"));
                }
            }
        }
    }

    pub(super) fn on_text_inner(
        &mut self,
        conn: ConnId,
        text: &str,
        now: Instant,
        may_delay: bool,
    ) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let key = c.session;
        let msg = match VoiceMessage::from_text(text) {
            Ok((m, _seq)) => m,
            Err(_) => {
                self.malformed_ws += 1;
                self.close_conn(conn, 4002, now);
                return;
            }
        };
        let op = msg.opcode().as_u8();
        if let Some(s) = key.and_then(|k| self.sessions.get_mut(&k)) {
            *s.report.ops_received.entry(op).or_default() += 1;
        }
        let delayable = matches!(
            msg,
            VoiceMessage::Identify(_) | VoiceMessage::SelectProtocol(_)
        );
        if delayable && may_delay && !self.handshake_delay.is_zero() {
            if self.deferred.len() < MAX_DEFERRED {
                self.deferred
                    .push((now + self.handshake_delay, conn, text.to_owned()));
            }
            return;
        }
        match msg {
            VoiceMessage::Heartbeat(hb) => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.last_heartbeat = now;
                }
                if let voice_proto::Heartbeat::Sequenced {
                    seq_ack: Some(a), ..
                } = hb
                    && let Some(s) = key.and_then(|k| self.sessions.get_mut(&k))
                {
                    s.replay.ack(a);
                }
                if let Some(ack) = hb.ack() {
                    let text = VoiceMessage::HeartbeatAck(ack).to_text(None);
                    self.out.push_back(Output::Ws(conn, WsFrame::Text(text)));
                }
            }
            VoiceMessage::Identify(id) => self.identify(conn, id, now),
            VoiceMessage::Resume(r) => self.resume(conn, r, now),
            other => {
                let Some(key) = key else {
                    self.close_conn(conn, 4003, now);
                    return;
                };
                self.on_session_message(conn, key, other, now);
            }
        }
    }

    fn on_session_message(
        &mut self,
        conn: ConnId,
        key: SessionKey,
        msg: VoiceMessage,
        now: Instant,
    ) {
        match msg {
            VoiceMessage::SelectProtocol(sp) => self.select_protocol(conn, key, sp, now),
            VoiceMessage::Speaking(sp) => {
                let out = Speaking {
                    user_id: Some(UserId(key.1)),
                    delay: None,
                    ..sp.clone()
                };
                if let Some(s) = self.sessions.get_mut(&key) {
                    s.client_speaking = Some(out.clone());
                }
                if out.speaking.0 == 0 {
                    // Ends the speaker's utterance in the recorder.
                    self.out.push_back(Output::Record(
                        crate::recorder::RecorderEvent::SpeakingOff {
                            room: key.0,
                            user_id: key.1,
                            ssrc: out.ssrc,
                        },
                    ));
                }
                self.broadcast(key.0, Some(key.1), &VoiceMessage::Speaking(out));
            }
            VoiceMessage::Video(v) => {
                let out = Video {
                    user_id: Some(UserId(key.1)),
                    rtx_ssrc: None,
                    ..v.clone()
                };
                if let Some(s) = self.sessions.get_mut(&key) {
                    s.client_video = Some(v);
                }
                self.broadcast(key.0, Some(key.1), &VoiceMessage::Video(out));
            }
            VoiceMessage::SessionUpdate(su) => {
                if let Some(s) = self.sessions.get_mut(&key)
                    && !su.codecs.is_empty()
                {
                    s.report.codecs = su.codecs.iter().map(|c| c.name.clone()).collect();
                    s.codecs = su.codecs;
                }
            }
            VoiceMessage::MediaSinkWants(w) => {
                if let Some(s) = self.sessions.get_mut(&key) {
                    s.report.sink_wants = serde_json::to_string(&w).ok();
                    s.wants = w;
                }
            }
            VoiceMessage::BackendVersion(_) => {
                let v = VoiceMessage::BackendVersion(BackendVersion {
                    voice: Some("0.1.0-sim".to_owned()),
                    rtc_worker: Some("0.1.0-sim".to_owned()),
                });
                self.send(key, &v, false);
            }
            VoiceMessage::DaveTransitionReady(t) => {
                let msg = ClientDaveMsg::ReadyForTransition {
                    transition_id: t.transition_id,
                };
                self.on_dave_client(key, msg, now);
            }
            VoiceMessage::DaveInvalidCommitWelcome(t) => {
                let msg = ClientDaveMsg::InvalidCommitWelcome {
                    transition_id: t.transition_id,
                };
                self.on_dave_client(key, msg, now);
            }
            // No Route, server-only ops and unknown ops are counted (above)
            // and otherwise ignored.
            _ => {}
        }
        let _ = conn;
    }

    /// Sends `msg` to a session: numbered and kept for replay when
    /// `replayable` and the connection speaks v8+.
    pub(super) fn send(&mut self, key: SessionKey, msg: &VoiceMessage, replayable: bool) {
        let Some(s) = self.sessions.get_mut(&key) else {
            return;
        };
        let numbered = replayable && s.version >= 8;
        let frame = if numbered {
            s.seq += 1;
            let f = WsFrame::Text(msg.to_text(Some(s.seq)));
            s.replay.push(s.seq, f.clone());
            f
        } else {
            WsFrame::Text(msg.to_text(None))
        };
        if let Some(c) = s.conn {
            self.out.push_back(Output::Ws(c, frame));
        }
    }

    /// The sessions of `room` (but `except`) that receive video: those that
    /// can receive media and have sent an op 12 of their own.
    ///
    /// Issue 15 item 1: Discord sends no video to a connection that has
    /// not sent op 12; a client that forgets it must not be shown working
    /// here. discord-userdoccers `pages/topics/voice-connections.mdx`
    /// (3dc0ca9): "You must send at least one Video payload before sending
    /// or receiving video data, or you will be disconnected with an Invalid
    /// SSRC error." (The disconnect is not simulated; the video is
    /// withheld.) Used for participants' video (`media.rs`) and forwarded
    /// client video (`udp.rs`); audio does not need op 12.
    pub(super) fn video_receivers(&self, room: RoomId, except: Option<u64>) -> Vec<SessionKey> {
        let mut keys = self.media_receivers(room, except);
        keys.retain(|k| {
            self.sessions
                .get(k)
                .is_some_and(|s| s.client_video.is_some())
        });
        keys
    }

    /// Sends `msg` (replayable) to every session of `room` except `except`.
    pub(super) fn broadcast(&mut self, room: RoomId, except: Option<u64>, msg: &VoiceMessage) {
        let keys: Vec<SessionKey> = self
            .sessions
            .iter()
            .filter(|(k, _)| k.0 == room && Some(k.1) != except)
            .map(|(k, _)| *k)
            .collect();
        for k in keys {
            self.send(k, msg, true);
        }
    }

    fn identify(&mut self, conn: ConnId, id: Identify, now: Instant) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if c.session.is_some() {
            self.close_conn(conn, 4005, now);
            return;
        }
        let version = c.version;
        let key = (RoomId(id.server_id.0), id.user_id.0);
        let ok = self
            .grants
            .get(&key)
            .is_some_and(|g| g.session_id == id.session_id && g.token == id.token);
        let Some(grant) = self.grants.get(&key).filter(|_| ok).cloned() else {
            let known_room = self.grants.keys().any(|k| k.0 == key.0);
            self.close_conn(conn, if known_room { 4004 } else { 4011 }, now);
            return;
        };
        // Issue 15 item 11: a DAVE room refuses a client that does not offer
        // DAVE, with 4017, as Discord does since E2EE became mandatory.
        // discord-api-docs `developers/topics/voice-connections.mdx`:
        // "Sending version 0, or omitting the `max_dave_protocol_version`
        // field, indicates no DAVE protocol support."; `opcodes-and-status-
        // codes.mdx` (PR #8167): 4017 "E2EE/DAVE protocol required — This
        // channel requires a client supporting E2EE via the DAVE Protocol".
        // The session is not created and an older one is left alone.
        if self.dave_required(key.0) && id.max_dave_protocol_version.unwrap_or(0) < 1 {
            self.close_conn(conn, 4017, now);
            return;
        }
        // A new Identify replaces an older session of the same user.
        if let Some(old) = self.sessions.get(&key).and_then(|s| s.conn) {
            self.close_conn(old, 4006, now);
        }
        self.remove_session(key, now);
        let is_stream = matches!(grant.kind, RoomKind::Stream { .. });
        let ssrc = self.alloc_ssrc(1);
        let mut offers = id.streams.clone();
        if offers.is_empty() && (is_stream || id.video == Some(true)) {
            offers.push(StreamDescriptor::offer(StreamType::Video, "100", 100));
        }
        let streams: Vec<StreamDescriptor> = offers
            .into_iter()
            .take(4)
            .map(|o| {
                let v = self.alloc_ssrc(2);
                StreamDescriptor {
                    kind: if is_stream { StreamType::Video } else { o.kind },
                    ssrc: Some(v),
                    rtx_ssrc: Some(v.wrapping_add(1)),
                    active: Some(false),
                    ..o
                }
            })
            .collect();
        let report = SessionReport {
            room: key.0,
            user_id: key.1,
            session_id: grant.session_id.clone(),
            ssrc,
            video_ssrcs: streams.iter().filter_map(|s| s.ssrc).collect(),
            ..SessionReport::default()
        };
        let mut session = Session {
            grant,
            conn: Some(conn),
            version,
            detached_at: None,
            ssrc,
            streams: streams.clone(),
            udp: None,
            sealer: None,
            codecs: Vec::new(),
            seq: 0,
            replay: ReplayBuffer::default(),
            wants: Default::default(),
            egress: Default::default(),
            forwarding: Default::default(),
            client_video: None,
            client_speaking: None,
            publish: Default::default(),
            announced: false,
            clients_announced: false,
            joined: false,
            pad_counter: 0,
            dave_max: id.max_dave_protocol_version.unwrap_or(0),
            dave_group: None,
            report,
        };
        session.report.dave_max_protocol_version = session.dave_max;
        *session.report.ops_received.entry(0).or_default() += 1;
        self.sessions.insert(key, session);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.session = Some(key);
        }
        // Real servers interleave other messages with the handshake;
        // clients must buffer them (op 5 before op 4 broke songbird 0.3,
        // serenity-rs/songbird#172). Do it half of the time, with op 5 and
        // op 12 only: op 11 Clients Connect never precedes Ready.
        // @discordjs/voice (Networking, 0.19.2) takes op 11 only from
        // UdpHandshaking on and drops an earlier one, and that list is the
        // roster DAVE proposals are checked against; the fact sheet (§1.4
        // step 6) has the server send op 11 after op 4.
        if self.rng.random_bool(0.5) {
            self.announce_room(key, false, false);
        }
        let ready = VoiceMessage::Ready(Ready {
            ssrc,
            ip: self.config.public_ip().to_string(),
            port: self.udp_port,
            modes: self.config.modes.clone(),
            experiments: vec!["fixed_keyframe_interval".to_owned()],
            streams,
        });
        self.send(key, &ready, true);
    }

    fn resume(&mut self, conn: ConnId, r: Resume, now: Instant) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if c.session.is_some() {
            self.close_conn(conn, 4005, now);
            return;
        }
        let version = c.version;
        let found = self.sessions.iter().find_map(|(k, s)| {
            (k.0 == RoomId(r.server_id.0)
                && s.grant.session_id == r.session_id
                && s.grant.token == r.token)
                .then_some(*k)
        });
        let Some(key) = found else {
            self.close_conn(conn, 4006, now);
            return;
        };
        let replay = self.sessions.get(&key).map(|s| {
            s.replay
                .after(if version >= 8 { r.seq_ack } else { Some(s.seq) })
        });
        let Some(Ok(frames)) = replay else {
            // The buffer no longer holds what the client missed.
            if let Some(s) = self.sessions.get(&key).and_then(|s| s.conn) {
                self.close_conn(s, 4006, now);
            }
            self.remove_session(key, now);
            self.close_conn(conn, 4006, now);
            return;
        };
        let old = self.sessions.get(&key).and_then(|s| s.conn);
        if let Some(old) = old {
            // The old socket is superseded; drop it without ending the session.
            self.out.push_back(Output::Ws(old, WsFrame::Close(4006)));
            self.conns.remove(&old);
        }
        if let Some(s) = self.sessions.get_mut(&key) {
            s.conn = Some(conn);
            s.version = version;
            s.detached_at = None;
            s.report.resumes += 1;
            *s.report.ops_received.entry(7).or_default() += 1;
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.session = Some(key);
        }
        self.out.push_back(Output::Ws(
            conn,
            WsFrame::Text(VoiceMessage::Resumed.to_text(None)),
        ));
        for f in frames {
            self.out.push_back(Output::Ws(conn, f));
        }
    }

    fn select_protocol(&mut self, conn: ConnId, key: SessionKey, sp: SelectProtocol, now: Instant) {
        if sp.protocol != Protocol::Udp {
            self.close_conn(conn, 4012, now);
            return;
        }
        let SelectProtocolData::Udp(data) = &sp.data else {
            self.close_conn(conn, 4012, now);
            return;
        };
        let mode = CryptoMode::from_wire_str(&data.mode)
            .ok()
            .filter(|_| self.config.modes.contains(&data.mode));
        let Some(mode) = mode else {
            self.close_conn(conn, 4016, now);
            return;
        };
        let mut key_bytes = [0u8; 32];
        self.rng.fill(&mut key_bytes);
        let mut seed = [0u8; 24];
        self.rng.fill(&mut seed);
        let Ok(cipher) = TransportCipher::new(mode, &key_bytes) else {
            self.close_conn(conn, 4016, now);
            return;
        };
        let claimed = format!("{}:{}", data.address, data.port).parse().ok();
        let media_session_id = format!("{:032x}", self.rng.random::<u128>());
        let dave_version = self.dave_version_for(key);
        let Some(s) = self.sessions.get_mut(&key) else {
            return;
        };
        s.report.dave_protocol_version = dave_version;
        s.sealer = Some(Sealer::new(cipher, NonceSeed::from_random(seed)));
        s.report.mode = Some(data.mode.clone());
        s.report.codecs = sp.codecs.iter().map(|c| c.name.clone()).collect();
        s.codecs = sp.codecs.clone();
        if s.udp.is_none()
            && let Some(addr) = claimed
        {
            s.udp = Some(addr);
            s.report.udp_addr = Some(addr.to_string());
            self.addr_index.insert(addr, key);
        }
        let early = self.rng.random_bool(0.5);
        if early {
            self.announce_room_to(key, false);
        }
        let desc = VoiceMessage::SessionDescription(SessionDescription {
            mode: Some(data.mode.clone()),
            secret_key: Some(SecretKey(key_bytes)),
            audio_codec: Some("opus".to_owned()),
            video_codec: Some("H264".to_owned()),
            media_session_id: Some(Secret::new(media_session_id)),
            dave_protocol_version: dave_version,
            keyframe_interval: None,
            bandwidth_estimation_experiment: None,
            sdp: None,
        });
        self.send(key, &desc, true);
        self.announce_room_to(key, true);
        // After op 4 and after the room knows the user (op 11), so every
        // member recognises it before its add proposal arrives.
        if dave_version >= 1 {
            self.dave_connect(key, now);
        }
    }

    /// Tells a session who is in the room (op 11, op 12, op 5) once, and
    /// the room about the session (op 11) when `complete`.
    pub(super) fn announce_room_to(&mut self, key: SessionKey, complete: bool) {
        self.announce_room(key, complete, true);
    }

    /// [`Core::announce_room_to`]; without `with_clients`, op 11 is held
    /// back for a later call.
    fn announce_room(&mut self, key: SessionKey, complete: bool, with_clients: bool) {
        let Some(s) = self.sessions.get(&key) else {
            return;
        };
        if complete && !s.joined {
            if let Some(s) = self.sessions.get_mut(&key) {
                s.joined = true;
            }
            let joined = VoiceMessage::ClientsConnect(ClientsConnect {
                user_ids: vec![UserId(key.1)],
            });
            self.broadcast(key.0, Some(key.1), &joined);
        }
        let Some(s) = self.sessions.get(&key) else {
            return;
        };
        let (media_done, clients_done) = (s.announced, s.clients_announced);
        if media_done && (clients_done || !with_clients) {
            return;
        }
        let mut msgs = Vec::new();
        let mut users = Vec::new();
        let room = self.rooms.get(&key.0);
        let soundshare = matches!(
            room.and_then(|r| r.kind.as_ref()),
            Some(RoomKind::Stream { .. })
        );
        if let Some(room) = room {
            for p in room.participants.values() {
                users.push(UserId(p.spec.user_id));
                if let Some(v) = participant_video(p) {
                    msgs.push(VoiceMessage::Video(v));
                }
                if let (true, Some(ssrc)) = (p.speaking, p.audio_ssrc) {
                    msgs.push(VoiceMessage::Speaking(speaking_msg(
                        p.spec.user_id,
                        ssrc,
                        true,
                        soundshare,
                    )));
                }
            }
        }
        for (k, other) in &self.sessions {
            if k.0 != key.0 || k.1 == key.1 {
                continue;
            }
            users.push(UserId(k.1));
            if let Some(v) = &other.client_video {
                msgs.push(VoiceMessage::Video(Video {
                    user_id: Some(UserId(k.1)),
                    rtx_ssrc: None,
                    ..v.clone()
                }));
            }
            if let Some(sp) = &other.client_speaking {
                msgs.push(VoiceMessage::Speaking(sp.clone()));
            }
        }
        if media_done {
            msgs.clear();
        }
        let clients = with_clients && !clients_done;
        if clients && !users.is_empty() {
            msgs.insert(
                0,
                VoiceMessage::ClientsConnect(ClientsConnect { user_ids: users }),
            );
        }
        for m in &msgs {
            self.send(key, m, true);
        }
        if let Some(s) = self.sessions.get_mut(&key) {
            s.announced = true;
            s.clients_announced |= clients;
        }
    }
}

/// Op 5 for a participant.
pub(super) fn speaking_msg(user: u64, ssrc: u32, on: bool, soundshare: bool) -> Speaking {
    let flag = if soundshare {
        SpeakingFlags::SOUNDSHARE
    } else {
        SpeakingFlags::MICROPHONE
    };
    Speaking {
        speaking: if on { flag } else { SpeakingFlags::NONE },
        delay: None,
        ssrc,
        user_id: Some(UserId(user)),
    }
}

/// Op 12 for a participant with video: one `streams` entry per simulcast
/// layer, each with its own `ssrc`/`rtx_ssrc`, `rid`, `quality` and
/// `max_resolution`; `video_ssrc` is the primary (highest) layer's.
/// discord-userdoccers (`voice-connections.mdx`, "Video Structure"): "For
/// simulcast, this is the authoritative list of primary and RTX SSRCs for
/// every layer"; "The top-level `rtx_ssrc` is not sent by the voice
/// server"; "Simulcasting": "`rid` identifies the RTP stream ID, `quality`
/// describes the layer's intended quality, `ssrc` identifies primary RTP,
/// `rtx_ssrc` identifies retransmissions".
pub(super) fn participant_video(p: &crate::participant::Participant) -> Option<Video> {
    let v = p.video.as_ref()?;
    let full = (u64::from(v.spec.width) * u64::from(v.spec.height)).max(1);
    Some(Video {
        user_id: Some(UserId(p.spec.user_id)),
        audio_ssrc: Some(p.audio_ssrc.unwrap_or(0)),
        video_ssrc: Some(v.primary_ssrc()),
        rtx_ssrc: None,
        streams: v
            .layers
            .iter()
            .map(|l| {
                let pixels = u64::from(l.width) * u64::from(l.height);
                StreamDescriptor {
                    kind: StreamType::Video,
                    rid: l.quality.to_string(),
                    quality: l.quality,
                    ssrc: Some(l.ssrc),
                    rtx_ssrc: Some(l.rtx_ssrc),
                    active: Some(true),
                    max_bitrate: Some(
                        (u64::from(v.spec.bitrate_kbps) * 1000 * pixels / full).max(50_000),
                    ),
                    max_framerate: Some(v.spec.fps),
                    max_resolution: Some(MaxResolution {
                        kind: ResolutionType::Fixed,
                        width: l.width,
                        height: l.height,
                    }),
                }
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    //! The simulator refuses what Discord refuses (issue 15): no video
    //! without op 12 (item 1), 4017 for a client without DAVE in a DAVE
    //! room (item 11). Driven on the core, without sockets.

    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use voice_proto::{Identify, Secret, ServerId, UserId, Video, VoiceMessage};

    use super::super::{Command, Core, Output, WsFrame};
    use crate::config::{
        ParticipantSpec, RoomId, RoomKind, SessionGrant, VideoCodecSpec, VideoKind, VideoSpec,
        VoiceServerConfig,
    };

    const ROOM: RoomId = RoomId(1);
    const CLIENT: u64 = 10;
    const CONN: u64 = 1;
    const SELECT_PROTOCOL: &str = r#"{"op":1,"d":{"protocol":"udp","data":{"address":"127.0.0.1","port":5,"mode":"aead_aes256_gcm_rtpsize"},"codecs":[]}}"#;

    fn core(dave: bool) -> (Core, Instant) {
        core_seeded(dave, 7)
    }

    fn core_seeded(dave: bool, seed: u64) -> (Core, Instant) {
        let now = Instant::now();
        let config = VoiceServerConfig {
            dave,
            ..VoiceServerConfig::default()
        };
        let shared = Arc::new(Mutex::new(Default::default()));
        let mut c = Core::new(config, 1, 2, seed, now, 0, shared);
        let grant = SessionGrant {
            room: ROOM,
            user_id: CLIENT,
            session_id: Secret::new("s"),
            token: Secret::new("t"),
            kind: RoomKind::Voice {
                guild_id: 1,
                channel_id: 2,
            },
        };
        c.on_command(Command::Grant(grant), now);
        c.on_ws_open(CONN, 8, now);
        (c, now)
    }

    fn identify(c: &mut Core, max_dave: Option<u16>, now: Instant) -> Vec<Output> {
        let id = VoiceMessage::Identify(Identify {
            server_id: ServerId(ROOM.0),
            user_id: UserId(CLIENT),
            session_id: Secret::new("s"),
            token: Secret::new("t"),
            max_dave_protocol_version: max_dave,
            video: None,
            streams: vec![],
            channel_id: None,
        });
        c.on_text(CONN, &id.to_text(None), now);
        std::iter::from_fn(|| c.poll_output()).collect()
    }

    fn closed_with(out: &[Output]) -> Option<u16> {
        out.iter().find_map(|o| match o {
            Output::Ws(CONN, WsFrame::Close(code)) => Some(*code),
            _ => None,
        })
    }

    /// Issue 15 item 11: Identify without `max_dave_protocol_version` ≥ 1
    /// in a DAVE room is closed with 4017 and creates no session
    /// (discord-api-docs: 0 or absent "indicates no DAVE protocol
    /// support"; 4017 "This channel requires a client supporting E2EE via
    /// the DAVE Protocol", PR #8167). The old simulator let such a client
    /// in transport-only and sent it media.
    #[test]
    fn dave_room_closes_a_client_without_dave_with_4017() {
        for max_dave in [None, Some(0)] {
            let (mut c, now) = core(true);
            let out = identify(&mut c, max_dave, now);
            assert_eq!(closed_with(&out), Some(4017), "{max_dave:?}");
            assert!(c.sessions.is_empty(), "{max_dave:?}: no session");
            assert!(
                !out.iter().any(|o| matches!(o,
                    Output::Ws(_, WsFrame::Text(t)) if t.contains("\"op\":2"))),
                "{max_dave:?}: no READY"
            );
        }
        // Offering DAVE gets in; so does anyone on a server without DAVE.
        for (dave, max_dave) in [(true, Some(1)), (false, None), (false, Some(0))] {
            let (mut c, now) = core(dave);
            let out = identify(&mut c, max_dave, now);
            assert_eq!(closed_with(&out), None, "dave {dave}, {max_dave:?}");
            assert!(c.sessions.contains_key(&(ROOM, CLIENT)));
        }
        // The client's policy for 4017 is final (voice-proto shares it).
        assert_eq!(
            voice_proto::CloseCode::from_u16(4017).action(),
            voice_proto::CloseAction::Stop
        );
    }

    /// Datagrams to the client that are RTP (the participant has no audio,
    /// so every RTP packet is video).
    fn rtp_to(out: &[Output], to: SocketAddr) -> usize {
        out.iter()
            .filter(|o| matches!(o, Output::Udp(a, d) if *a == to && !rtp::is_rtcp(d)))
            .count()
    }

    fn run(c: &mut Core, from: Instant, ms: u64) -> Vec<Output> {
        let mut out = Vec::new();
        for step in 1..=ms / 20 {
            c.handle_timeout(from + Duration::from_millis(step * 20));
            out.extend(std::iter::from_fn(|| c.poll_output()));
        }
        out
    }

    /// Issue 15 item 1: no video reaches a connection that has not sent
    /// op 12 (discord-userdoccers voice-connections: "You must send at
    /// least one Video payload before sending or receiving video data");
    /// once it has (even an inactive one, as Discord-video-stream sends
    /// right after READY), the participant's video flows. The old
    /// simulator sent video to every keyed session.
    #[test]
    fn no_video_before_the_clients_op12() {
        let (mut c, now) = core(false);
        c.on_command(Command::AddParticipant(ROOM, camera()), now);
        let out = identify(&mut c, None, now);
        assert_eq!(closed_with(&out), None);
        c.on_text(CONN, SELECT_PROTOCOL, now);
        let client: SocketAddr = "127.0.0.1:5".parse().unwrap();
        let mut before = out;
        before.extend(run(&mut c, now, 1500));
        assert!(
            before.iter().any(|o| matches!(o,
                Output::Ws(CONN, WsFrame::Text(t)) if t.contains("\"op\":12"))),
            "the participant's video is announced"
        );
        assert_eq!(rtp_to(&before, client), 0, "no video without op 12");
        let inactive = VoiceMessage::Video(Video {
            user_id: None,
            audio_ssrc: Some(c.sessions[&(ROOM, CLIENT)].ssrc),
            video_ssrc: Some(0),
            rtx_ssrc: Some(0),
            streams: vec![],
        });
        let later = now + Duration::from_millis(1500);
        c.on_text(CONN, &inactive.to_text(None), later);
        let after = run(&mut c, later, 1500);
        assert!(rtp_to(&after, client) > 0, "video after op 12");
    }

    fn camera() -> ParticipantSpec {
        ParticipantSpec {
            user_id: 20,
            audio: false,
            video: Some(VideoSpec {
                kind: VideoKind::Camera,
                codec: VideoCodecSpec::H264,
                width: 320,
                height: 180,
                fps: 10,
                bitrate_kbps: 300,
                keyframe_interval_frames: 10,
                layers: vec![],
            }),
            dave: false,
        }
    }

    /// Found by the independent peer (@discordjs/voice 0.19.2): op 11
    /// Clients Connect sent before op 2 Ready is dropped by its state
    /// machine (it takes op 11 only from UdpHandshaking on), losing the
    /// roster DAVE proposals are checked against. The simulator still
    /// interleaves op 12/op 5 with the handshake (clients must buffer
    /// those), but op 11 always comes after Ready. The old simulator sent
    /// op 11 first in about half of the connections.
    #[test]
    fn op11_never_precedes_ready_but_other_messages_may() {
        let mut early_media = 0;
        for seed in 0..40 {
            let (mut c, now) = core_seeded(false, seed);
            c.on_command(Command::AddParticipant(ROOM, camera()), now);
            let _ = std::iter::from_fn(|| c.poll_output()).count();
            let out = identify(&mut c, None, now);
            let ops: Vec<u64> = out
                .iter()
                .filter_map(|o| match o {
                    Output::Ws(CONN, WsFrame::Text(t)) => {
                        serde_json::from_str::<serde_json::Value>(t).ok()?["op"].as_u64()
                    }
                    _ => None,
                })
                .collect();
            let ready = ops.iter().position(|op| *op == 2).expect("READY");
            assert!(
                !ops[..ready].contains(&11),
                "seed {seed}: op 11 before READY: {ops:?}"
            );
            if ops[..ready].contains(&12) {
                early_media += 1;
            }
            c.on_text(CONN, SELECT_PROTOCOL, now);
            let after: Vec<u64> = std::iter::from_fn(|| c.poll_output())
                .filter_map(|o| match o {
                    Output::Ws(CONN, WsFrame::Text(t)) => {
                        serde_json::from_str::<serde_json::Value>(&t).ok()?["op"].as_u64()
                    }
                    _ => None,
                })
                .collect();
            assert_eq!(
                after.iter().filter(|op| **op == 11).count(),
                1,
                "seed {seed}: one op 11 after op 1: {after:?}"
            );
        }
        assert!(
            early_media > 5,
            "interleaving still exercised: {early_media}/40"
        );
    }
}

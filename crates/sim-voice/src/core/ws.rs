//! The voice gateway WebSocket protocol: handshake, heartbeats, resume with
//! replay, and the signalling ops relayed between room members.

use std::time::Instant;

use dave_gateway::ClientDaveMsg;
use rand::Rng;
use voice_crypto::{CryptoMode, NonceSeed, Sealer, TransportCipher};
use voice_proto::{
    BackendVersion, ClientsConnect, DaveBinary, Identify, MaxResolution, Protocol, Ready,
    ResolutionType, Resume, SecretKey, SelectProtocol, SelectProtocolData, SessionDescription,
    Speaking, SpeakingFlags, StreamDescriptor, StreamType, UserId, Video, VoiceMessage,
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
            client_video: None,
            client_speaking: None,
            publish: Default::default(),
            announced: false,
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
        // clients must buffer them. Do it half of the time.
        if self.rng.random_bool(0.5) {
            self.announce_room_to(key, false);
        }
        let ready = VoiceMessage::Ready(Ready {
            ssrc,
            ip: self.config.bind_ip.to_string(),
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
            media_session_id: Some(media_session_id),
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
        if s.announced {
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
        if !users.is_empty() {
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

/// Op 12 for a participant with video.
pub(super) fn participant_video(p: &crate::participant::Participant) -> Option<Video> {
    let v = p.video.as_ref()?;
    Some(Video {
        user_id: Some(UserId(p.spec.user_id)),
        audio_ssrc: Some(p.audio_ssrc.unwrap_or(0)),
        video_ssrc: Some(v.ssrc),
        rtx_ssrc: None,
        streams: vec![StreamDescriptor {
            kind: StreamType::Video,
            rid: "100".to_owned(),
            quality: 100,
            ssrc: Some(v.ssrc),
            rtx_ssrc: Some(v.rtx_ssrc),
            active: Some(true),
            max_bitrate: Some(u64::from(v.spec.bitrate_kbps) * 1000),
            max_framerate: Some(v.spec.fps),
            max_resolution: Some(MaxResolution {
                kind: ResolutionType::Fixed,
                width: v.spec.width,
                height: v.spec.height,
            }),
        }],
    })
}

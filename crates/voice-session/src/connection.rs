//! [`VoiceConnection`]: the voice gateway WebSocket and its UDP media
//! session as one sans-IO state machine.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use voice_crypto::CryptoMode;
use voice_proto::{
    CloseAction, CloseCode, DaveBinary, Heartbeat, Identify, Resume, SelectProtocol, SpeakingFlags,
    StreamDescriptor, Video, VoiceMessage,
};

use crate::config::{ConnectionConfig, Role};
use crate::error::VoiceSessionError;
use crate::interface::{ConnectionStatus, Counters, Event, Input, MediaInfo, Transmit};
use crate::media::{Datagram, MediaSession};
use crate::speaking::{SpeakingChange, SpeakingTracker};

/// Close code this client uses when it drops a connection it wants to
/// resume (zombie, handshake timeout): not 1000, so the server keeps the
/// session.
const RESUMABLE_CLOSE: u16 = 4000;

/// WebSocket phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ws {
    /// No socket; maybe a retry is scheduled.
    Down,
    /// Connect requested.
    Opening { resume: bool, deadline: Instant },
    /// Identify/Resume sent; waiting for the session.
    Handshaking { resume: bool, deadline: Instant },
    /// Session established.
    Up,
}

/// One voice or stream connection. See the crate docs.
pub struct VoiceConnection {
    config: ConnectionConfig,
    ws: Ws,
    status: ConnectionStatus,
    /// Session that a Resume can continue (READY seen and keyed).
    resumable: bool,
    last_seq: Option<u64>,
    heartbeat_interval: Option<Duration>,
    next_heartbeat: Option<Instant>,
    awaiting_ack: Option<(u64, Instant)>,
    nonce: u64,
    /// Failed attempts in a row.
    failures: u32,
    retry_at: Option<(Instant, bool)>,
    last_reason: String,
    ready: Option<voice_proto::Ready>,
    media: MediaSession,
    speaking: SpeakingTracker,
    counters: Counters,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    identified_once: bool,
}

impl VoiceConnection {
    /// Starts connecting at `now`.
    pub fn new(config: ConnectionConfig, now: Instant) -> Self {
        let media = MediaSession::new(
            config.ip_discovery_retry,
            config.keepalive_interval,
            config.report_interval,
            config.nonce_seed,
        );
        let speaking = SpeakingTracker::new(config.speaking_timeout);
        let mut c = Self {
            config,
            ws: Ws::Down,
            status: ConnectionStatus::Connecting,
            resumable: false,
            last_seq: None,
            heartbeat_interval: None,
            next_heartbeat: None,
            awaiting_ack: None,
            nonce: 0,
            failures: 0,
            retry_at: None,
            last_reason: String::new(),
            ready: None,
            media,
            speaking,
            counters: Counters::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            identified_once: false,
        };
        c.set_status(ConnectionStatus::Connecting, "connecting", None);
        c.open(now, false);
        c
    }

    /// Current status.
    pub fn status(&self) -> ConnectionStatus {
        self.status
    }

    /// The role this connection identifies as.
    pub fn role(&self) -> Role {
        self.config.role
    }

    /// Counters so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Own audio SSRC (after READY).
    pub fn ssrc(&self) -> Option<u32> {
        self.ready.as_ref().map(|r| r.ssrc)
    }

    /// Video layers from READY.
    pub fn ready_streams(&self) -> &[StreamDescriptor] {
        self.ready.as_ref().map_or(&[], |r| &r.streams)
    }

    /// Last envelope sequence number seen.
    pub fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }

    /// Whether media can be sent.
    pub fn is_keyed(&self) -> bool {
        self.media.is_keyed()
    }

    /// Packets received on `ssrc` (for tests and stats).
    pub fn received_packets(&self, ssrc: u32) -> u64 {
        self.media.received(ssrc)
    }

    /// The next thing to do on a socket.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`VoiceConnection::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.status.is_final() {
            return None;
        }
        let ws = match self.ws {
            Ws::Opening { deadline, .. } | Ws::Handshaking { deadline, .. } => Some(deadline),
            Ws::Down | Ws::Up => None,
        };
        [
            ws,
            self.retry_at.map(|(t, _)| t),
            self.next_heartbeat,
            self.media.poll_timeout(),
            self.speaking.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Sends a gateway message (op 5, 12, 15, DAVE ops). Dropped with
    /// `false` while no session is open; the shell re-sends its state on
    /// [`Event::MediaReady`] / [`Event::Resumed`].
    pub fn send_message(&mut self, msg: &VoiceMessage) -> bool {
        if !matches!(self.ws, Ws::Up | Ws::Handshaking { .. }) {
            return false;
        }
        self.transmits
            .push_back(Transmit::WsText(msg.to_text(None)));
        true
    }

    /// Sends a binary DAVE message (ops 26, 28).
    pub fn send_dave(&mut self, msg: &DaveBinary) -> bool {
        if !matches!(self.ws, Ws::Up | Ws::Handshaking { .. }) {
            return false;
        }
        match msg.encode_client() {
            Ok(bytes) => {
                self.transmits.push_back(Transmit::WsBinary(bytes));
                true
            }
            Err(_) => false,
        }
    }

    /// Seals and sends a plaintext RTP packet.
    pub fn send_rtp(&mut self, plain: Vec<u8>) -> Result<(), VoiceSessionError> {
        let sealed = self.media.seal_rtp(plain)?;
        self.transmits.push_back(Transmit::Udp(sealed));
        Ok(())
    }

    /// Seals and sends a plaintext RTCP compound packet.
    pub fn send_rtcp(&mut self, plain: Vec<u8>) -> Result<(), VoiceSessionError> {
        let sealed = self.media.seal_rtcp(plain)?;
        self.transmits.push_back(Transmit::Udp(sealed));
        Ok(())
    }

    /// Asks the sender of `media_ssrc` for a keyframe (PLI + FIR).
    pub fn request_keyframe(&mut self, media_ssrc: u32) -> Result<(), VoiceSessionError> {
        let sealed = self.media.pli(media_ssrc)?;
        self.transmits.push_back(Transmit::Udp(sealed));
        Ok(())
    }

    /// Asks for retransmission of `lost` packets of `media_ssrc`.
    pub fn send_nack(
        &mut self,
        media_ssrc: u32,
        lost: &[rtp::SeqNo],
    ) -> Result<(), VoiceSessionError> {
        if lost.is_empty() {
            return Ok(());
        }
        let sealed = self.media.nack(media_ssrc, lost)?;
        self.transmits.push_back(Transmit::Udp(sealed));
        Ok(())
    }

    /// Closes for good (control asked): 1000, status `Disconnected`.
    pub fn close(&mut self, reason: &str) {
        if self.status.is_final() {
            return;
        }
        if self.ws != Ws::Down {
            self.transmits.push_back(Transmit::WsClose { code: 1000 });
        }
        self.ws = Ws::Down;
        self.stop_timers();
        self.set_status(ConnectionStatus::Disconnected, reason, None);
    }

    /// Feeds one input.
    pub fn handle_input(&mut self, input: Input<'_>, now: Instant) {
        if self.status.is_final() {
            return;
        }
        match input {
            Input::WsConnected => self.on_connected(now),
            Input::WsConnectFailed { reason } => {
                if matches!(self.ws, Ws::Opening { .. }) {
                    let resume = matches!(self.ws, Ws::Opening { resume: true, .. });
                    self.ws = Ws::Down;
                    self.failed_attempt(now, resume, format!("connect_failed: {reason}"), None);
                }
            }
            Input::WsText(text) => self.on_text(text, now),
            Input::WsBinary(bytes) => self.on_binary(bytes),
            Input::WsClosed { code } => self.on_closed(code, now),
            Input::Udp(data) => self.on_datagram(data, now),
        }
    }

    /// Runs timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.status.is_final() {
            return;
        }
        if let Some((at, resume)) = self.retry_at
            && now >= at
        {
            self.retry_at = None;
            self.open(now, resume);
        }
        match self.ws {
            Ws::Opening { deadline, resume } | Ws::Handshaking { deadline, resume }
                if now >= deadline =>
            {
                self.transmits.push_back(Transmit::WsClose {
                    code: RESUMABLE_CLOSE,
                });
                self.ws = Ws::Down;
                self.failed_attempt(now, resume, "handshake_timeout".into(), None);
            }
            _ => {}
        }
        if let Some(t) = self.next_heartbeat
            && now >= t
        {
            self.heartbeat_due(now);
        }
        let mut out = Vec::new();
        if self.media.handle_timeout(now, &mut out).is_err() {
            // No discovery answer: start over with a fresh Identify.
            self.transmits.push_back(Transmit::WsClose {
                code: RESUMABLE_CLOSE,
            });
            self.ws = Ws::Down;
            self.resumable = false;
            self.failed_attempt(now, false, "ip_discovery_timeout".into(), None);
        }
        self.transmits.extend(out.into_iter().map(Transmit::Udp));
        for change in self.speaking.handle_timeout(now) {
            self.push_speaking(change);
        }
    }

    fn open(&mut self, now: Instant, resume: bool) {
        self.transmits.push_back(Transmit::WsConnect {
            url: self.config.gateway_url(),
        });
        self.ws = Ws::Opening {
            resume,
            deadline: now + self.config.handshake_timeout,
        };
    }

    fn on_connected(&mut self, now: Instant) {
        let Ws::Opening { resume, .. } = self.ws else {
            return;
        };
        let c = &self.config;
        let msg = if resume {
            VoiceMessage::Resume(Resume {
                server_id: c.server_id,
                session_id: c.session_id.clone(),
                token: c.token.clone(),
                seq_ack: self.last_seq,
                channel_id: None,
            })
        } else {
            if self.identified_once {
                self.counters.reconnects += 1;
            }
            self.identified_once = true;
            self.last_seq = None;
            self.ready = None;
            self.media.reset();
            VoiceMessage::Identify(Identify {
                server_id: c.server_id,
                user_id: c.user_id,
                session_id: c.session_id.clone(),
                token: c.token.clone(),
                max_dave_protocol_version: Some(c.max_dave_protocol_version),
                video: Some(true),
                streams: c.identify_streams(),
                channel_id: None,
            })
        };
        self.transmits
            .push_back(Transmit::WsText(msg.to_text(None)));
        self.ws = Ws::Handshaking {
            resume,
            deadline: now + self.config.handshake_timeout,
        };
    }

    fn on_text(&mut self, text: &str, now: Instant) {
        let (msg, seq) = match VoiceMessage::from_text(text) {
            Ok(m) => m,
            Err(_) => {
                self.counters.malformed_messages += 1;
                return;
            }
        };
        if let Some(seq) = seq {
            self.saw_seq(seq);
        }
        match msg {
            VoiceMessage::Hello(h) => {
                let interval = h.heartbeat_interval().max(Duration::from_millis(100));
                self.heartbeat_interval = Some(interval);
                self.awaiting_ack = None;
                self.next_heartbeat = Some(now + interval);
            }
            VoiceMessage::HeartbeatAck(ack) => {
                if let Some((nonce, sent)) = self.awaiting_ack
                    && ack.nonce() == nonce
                {
                    self.awaiting_ack = None;
                    self.counters.last_rtt = Some(now.saturating_duration_since(sent));
                }
            }
            VoiceMessage::Heartbeat(Heartbeat::Request) => self.send_heartbeat(now),
            VoiceMessage::Ready(ready) => self.on_ready(ready, now),
            VoiceMessage::SessionDescription(desc) => self.on_session_description(desc, now),
            VoiceMessage::Resumed => {
                if matches!(self.ws, Ws::Handshaking { resume: true, .. }) {
                    self.ws = Ws::Up;
                    self.failures = 0;
                    self.counters.resumes += 1;
                    self.set_status(ConnectionStatus::Ready, "resumed", None);
                    self.events.push_back(Event::Resumed);
                }
            }
            VoiceMessage::Speaking(s) => {
                if let Some(user) = s.user_id {
                    self.speaking.map(s.ssrc, user);
                }
                self.events.push_back(Event::Speaking {
                    user_id: s.user_id,
                    ssrc: s.ssrc,
                    speaking: s.speaking != SpeakingFlags::NONE,
                });
            }
            VoiceMessage::Video(v) => {
                if let (Some(user), Some(audio)) = (v.user_id, v.audio_ssrc)
                    && audio != 0
                {
                    self.speaking.map(audio, user);
                }
                self.events.push_back(Event::Video(v));
            }
            VoiceMessage::ClientsConnect(c) => {
                self.events.push_back(Event::ClientsConnect(c.user_ids));
            }
            VoiceMessage::ClientDisconnect(d) => {
                self.events.push_back(Event::ClientDisconnect(d.user_id));
            }
            other => self.events.push_back(Event::Message(other)),
        }
    }

    fn on_binary(&mut self, bytes: &[u8]) {
        let has_seq = self.config.gateway_version >= 8;
        match DaveBinary::parse_server(bytes, has_seq) {
            Ok((msg, seq)) => {
                if let Some(seq) = seq {
                    self.saw_seq(u64::from(seq));
                }
                self.events.push_back(Event::Dave(msg));
            }
            Err(_) => self.counters.malformed_messages += 1,
        }
    }

    /// Records an envelope `seq` (JSON or binary) as the one to acknowledge.
    ///
    /// Decision (issue 15, item 6): the last value seen, not the highest:
    /// the server's counter is fixed-width and wraps (binary frames carry
    /// a u16), so after 65535 comes 0 and a running maximum would keep
    /// acknowledging 65535 forever. discord-api-docs
    /// `developers/topics/voice-connections.mdx` (Buffered Resume): "The
    /// gateway server uses a fixed bit length sequence number and handles
    /// wrapping the sequence number around. Since voice gateway messages
    /// will always arrive in order, a client only needs to retain the last
    /// sequence number they have seen." Same in @discordjs/voice
    /// `VoiceWebSocket.ts` (`this.sequence = seq`) and Discord-video-stream
    /// `BaseMediaConnection.ts` (`this._sequenceNumber = msg.readUint16BE(0)`).
    fn saw_seq(&mut self, seq: u64) {
        self.last_seq = Some(seq);
    }

    fn on_ready(&mut self, ready: voice_proto::Ready, now: Instant) {
        if !matches!(self.ws, Ws::Handshaking { resume: false, .. }) {
            return;
        }
        let server = match format!("{}:{}", ready.ip, ready.port).parse::<SocketAddr>() {
            Ok(a) => a,
            Err(_) => {
                // An unusable media address: nothing to resume.
                self.counters.malformed_messages += 1;
                self.transmits.push_back(Transmit::WsClose {
                    code: RESUMABLE_CLOSE,
                });
                self.ws = Ws::Down;
                self.failed_attempt(now, false, "ready_bad_media_address".into(), None);
                return;
            }
        };
        let request = self.media.start(server, ready.ssrc, now);
        self.transmits.push_back(Transmit::UdpConnect { server });
        self.transmits.push_back(Transmit::Udp(request));
        self.ready = Some(ready);
    }

    fn on_session_description(&mut self, desc: voice_proto::SessionDescription, now: Instant) {
        let Some((mode, key)) = desc.udp_keying() else {
            self.counters.malformed_messages += 1;
            return;
        };
        let Ok(mode) = CryptoMode::from_wire_str(mode) else {
            self.fail_final(
                ConnectionStatus::Failed,
                "unsupported_mode_in_session_description",
                None,
            );
            return;
        };
        if let Err(e) = self.media.key(mode, key.as_bytes(), now) {
            self.fail_final(
                ConnectionStatus::Failed,
                &format!("keying_failed: {e}"),
                None,
            );
            return;
        }
        self.ws = Ws::Up;
        self.failures = 0;
        self.resumable = true;
        let info = MediaInfo {
            ssrc: self.ready.as_ref().map_or(0, |r| r.ssrc),
            streams: self.ready_streams().to_vec(),
            mode,
            video_codec: desc.video_codec.clone(),
            dave_protocol_version: desc.dave_protocol_version,
        };
        self.set_status(ConnectionStatus::Ready, "session_ready", None);
        self.events.push_back(Event::MediaReady(info));
    }

    fn on_closed(&mut self, code: Option<u16>, now: Instant) {
        if self.ws == Ws::Down {
            return;
        }
        let was_resume = matches!(
            self.ws,
            Ws::Opening { resume: true, .. } | Ws::Handshaking { resume: true, .. }
        );
        self.ws = Ws::Down;
        self.next_heartbeat = None;
        self.awaiting_ack = None;
        let close = CloseCode::from_u16(code.unwrap_or(1006));
        let mut reason = close.reason_str().into_owned();
        if close == CloseCode::E2eeRequired {
            // Final (Stop): the channel requires DAVE (discord-api-docs
            // `opcodes-and-status-codes.mdx`: 4017 "This channel requires a
            // client supporting E2EE via the DAVE Protocol"); say what this
            // connection offered so the cause is plain in the status.
            reason = format!(
                "{reason}: channel requires DAVE, identify offered max_dave_protocol_version {}",
                self.config.max_dave_protocol_version
            );
        }
        match close.action() {
            CloseAction::Resume if self.resumable => {
                self.failed_attempt(now, true, reason, code);
            }
            CloseAction::Resume | CloseAction::Reconnect => {
                // A resume that is refused as a bad request falls back to
                // a fresh Identify too.
                self.resumable = false;
                self.failed_attempt(now, false, reason, code);
            }
            CloseAction::Rejoin => self.fail_final(ConnectionStatus::RejoinRequired, &reason, code),
            CloseAction::Stop => {
                let status = match close {
                    CloseCode::Normal | CloseCode::Disconnected | CloseCode::CallTerminated => {
                        ConnectionStatus::Disconnected
                    }
                    _ if was_resume && close == CloseCode::AuthenticationFailed => {
                        ConnectionStatus::RejoinRequired
                    }
                    _ => ConnectionStatus::Failed,
                };
                self.fail_final(status, &reason, code);
            }
        }
    }

    fn on_datagram(&mut self, data: &[u8], now: Instant) {
        match self.media.on_datagram(data, now) {
            Datagram::Discovered { address, port } => {
                let Some(ready) = &self.ready else { return };
                let Some(mode) = CryptoMode::choose(ready.modes.iter().map(String::as_str)) else {
                    self.fail_final(
                        ConnectionStatus::Failed,
                        "no_supported_encryption_mode",
                        None,
                    );
                    return;
                };
                let select = SelectProtocol::udp(
                    address,
                    port,
                    mode.as_wire_str().to_owned(),
                    self.config.codecs.clone(),
                );
                self.media.selecting();
                self.transmits.push_back(Transmit::WsText(
                    VoiceMessage::SelectProtocol(select).to_text(None),
                ));
                let audio_ssrc = ready.ssrc;
                self.transmits.push_back(Transmit::WsText(
                    VoiceMessage::Video(no_video(audio_ssrc)).to_text(None),
                ));
            }
            Datagram::Rtp(plain) => {
                self.counters.rtp_packets += 1;
                if let Ok(p) = rtp::RtpPacket::parse(&plain)
                    && self.is_audio_pt(p.payload_type().get())
                    && let Some(change) = self.speaking.on_audio(p.ssrc().0, p.payload(), now)
                {
                    self.push_speaking(change);
                }
                self.events.push_back(Event::Rtp(plain));
            }
            Datagram::Rtcp(plain) => {
                self.counters.rtcp_packets += 1;
                self.events.push_back(Event::Rtcp(plain));
            }
            Datagram::Dropped => self.counters.dropped_datagrams += 1,
        }
    }

    fn is_audio_pt(&self, pt: u8) -> bool {
        self.config
            .codecs
            .iter()
            .any(|c| c.kind == voice_proto::CodecKind::Audio && c.payload_type == pt)
    }

    fn push_speaking(&mut self, c: SpeakingChange) {
        self.events.push_back(Event::Speaking {
            user_id: c.user_id,
            ssrc: c.ssrc,
            speaking: c.speaking,
        });
    }

    fn heartbeat_due(&mut self, now: Instant) {
        if self.awaiting_ack.is_some() {
            // The previous beat was never acknowledged: a zombie socket.
            self.counters.missed_acks += 1;
            self.transmits.push_back(Transmit::WsClose {
                code: RESUMABLE_CLOSE,
            });
            let resume = self.resumable;
            self.ws = Ws::Down;
            self.next_heartbeat = None;
            self.awaiting_ack = None;
            self.failed_attempt(now, resume, "heartbeat_ack_missed".into(), None);
            return;
        }
        self.send_heartbeat(now);
    }

    fn send_heartbeat(&mut self, now: Instant) {
        if self.ws == Ws::Down {
            return;
        }
        self.nonce += 1;
        let version = voice_proto::GatewayVersion(self.config.gateway_version);
        let hb = Heartbeat::new(version, self.nonce, self.last_seq);
        self.transmits
            .push_back(Transmit::WsText(VoiceMessage::Heartbeat(hb).to_text(None)));
        self.awaiting_ack = Some((self.nonce, now));
        if let Some(interval) = self.heartbeat_interval {
            self.next_heartbeat = Some(now + interval);
        }
    }

    /// One attempt failed: retry (resume or identify) after the backoff,
    /// or give up when the attempts are used up.
    fn failed_attempt(&mut self, now: Instant, resume: bool, reason: String, code: Option<u16>) {
        self.next_heartbeat = None;
        self.awaiting_ack = None;
        let attempt = self.failures;
        self.failures += 1;
        if attempt as usize > self.config.reconnect_delays.len() {
            let why = format!("gave_up_after_{attempt}_attempts: {reason}");
            self.fail_final(ConnectionStatus::Failed, &why, code);
            return;
        }
        let delay = match attempt {
            0 => Duration::ZERO,
            n => self.config.reconnect_delays[n as usize - 1],
        };
        let status = if resume {
            ConnectionStatus::Resuming
        } else if self.identified_once && self.status != ConnectionStatus::Connecting {
            ConnectionStatus::Reconnecting
        } else {
            ConnectionStatus::Connecting
        };
        self.set_status(status, &reason, code);
        if delay.is_zero() {
            self.open(now, resume);
        } else {
            self.retry_at = Some((now + delay, resume));
        }
    }

    fn fail_final(&mut self, status: ConnectionStatus, reason: &str, code: Option<u16>) {
        if self.ws != Ws::Down {
            self.transmits.push_back(Transmit::WsClose { code: 1000 });
            self.ws = Ws::Down;
        }
        self.stop_timers();
        self.set_status(status, reason, code);
    }

    fn stop_timers(&mut self) {
        self.retry_at = None;
        self.next_heartbeat = None;
        self.awaiting_ack = None;
        self.media.reset();
        self.resumable = false;
    }

    fn set_status(&mut self, status: ConnectionStatus, reason: &str, close_code: Option<u16>) {
        if self.status == status && self.last_reason == reason {
            return;
        }
        self.status = status;
        self.last_reason = reason.to_owned();
        self.events.push_back(Event::Status {
            status,
            reason: reason.to_owned(),
            close_code,
        });
    }
}

/// The op 12 every connection sends right after its op 1, whatever its
/// role: "no video of mine yet" (`video_ssrc` 0, `rtx_ssrc` 0, no streams).
///
/// Decision (issue 15, item 1): the voice server sends no video to a
/// connection that has not sent op 12, so receive-only connections (voice,
/// stream_watch) need it too; stream_publish later announces its active
/// stream from its shell as before. discord-userdoccers
/// `pages/topics/voice-connections.mdx` (3dc0ca9): "You must send at least
/// one Video payload before sending or receiving video data, or you will be
/// disconnected with an Invalid SSRC error." Discord-video-stream
/// `src/client/voice/BaseMediaConnection.ts` (Discord-RE, 601347a) sends
/// exactly this payload on READY, right after its op 1
/// (`setVideoAttributes(false)`: `{audio_ssrc, video_ssrc: 0, rtx_ssrc: 0,
/// streams: []}`).
pub(crate) fn no_video(audio_ssrc: u32) -> Video {
    Video {
        user_id: None,
        audio_ssrc: Some(audio_ssrc),
        video_ssrc: Some(0),
        rtx_ssrc: Some(0),
        streams: Vec::new(),
    }
}

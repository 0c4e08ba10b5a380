//! One transport slot: the tokio task that owns a role's WebSocket, UDP
//! socket and timers, and drives a [`VoiceConnection`]. What it receives
//! is decided by a [`ReceivePlan`] (`stream-plan`: layer choice, which
//! decoder workers exist, where each RTP packet goes, op 15); the slot
//! feeds it events and carries out its [`Action`]s.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use ipc_schema::{
    Speaking, Ssrc, TransportParams, TransportRole, TransportState, TransportStats,
    TransportStatus, UserId, VideoSubscription,
};
use stream_plan::{Action, ReceivePlan, Route};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use video_receiver::PayloadCodec;
use voice_proto::VoiceMessage;
use voice_session::{
    ConnectionConfig, ConnectionStatus, Event, H264_PT, H264_RTX_PT, Input, MediaInfo, Role,
    Transmit, VoiceConnection,
};

use super::dave::SharedDave;
use super::lanes::{self, Inbox, Outbox, Refused, SlotCmd, SlotLanes, VoiceCmd, WorkerAsk};
use super::publish::{PublishSpec, Publisher, StreamIds};
use super::video::{VideoWorker, WorkerSpec};
use super::voice::VoiceAudio;
use super::{TransportEvent, TransportMsg};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long opening a WebSocket may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a slot reports its counters.
const STATS_EVERY: Duration = Duration::from_secs(2);

/// The supervisor's handle on a slot. Nothing here waits: each kind of
/// command has its own bounded lane with its own policy when full
/// ([`lanes`](super::lanes)). Dropping the handle ends the slot as
/// [`stop`](Self::stop) does.
pub struct SlotHandle {
    /// Generation of this slot (events carry it).
    pub generation: u64,
    lanes: Outbox,
    task: JoinHandle<()>,
}

impl SlotHandle {
    /// Hands a command over; a slot that already ended ignores it.
    pub fn send(&self, cmd: SlotCmd) {
        self.lanes.send(cmd);
    }

    /// Hands one chunk to speak over (voice). `Err`: the voice lane is
    /// full and the slot could not be told either, so the caller reports
    /// the utterance `Failed`; otherwise a failure is reported by the slot.
    pub fn play(&self, chunk: ipc_schema::VoicePlayChunk) -> Result<(), Refused> {
        self.lanes.play(chunk)
    }

    /// Asks the slot to close and end (always delivered).
    pub fn stop(mut self, reason: String) {
        self.lanes.stop(reason);
        // Not awaited: the task closes its sockets on its own.
        drop(self.task);
    }
}

/// Starts the slot of `role`.
pub fn spawn_slot(
    role: TransportRole,
    params: &TransportParams,
    subscriptions: Vec<VideoSubscription>,
    generation: u64,
    publish: PublishSettings,
    tls: tls_client::TlsClient,
    events: mpsc::Sender<TransportMsg>,
) -> SlotHandle {
    let (outbox, inbox, lanes) = super::lanes::slot_lanes(subscriptions.clone(), publish.paused);
    let (config, watched_user) = connection_config(role, params);
    let dave = SharedDave::new(config.user_id, dave_group_id(params));
    let payload_codecs = stream_plan::payload_codecs(&config.codecs);
    let audio = (role == TransportRole::Voice).then(|| {
        VoiceAudio::new(
            role,
            generation,
            &config.codecs,
            dave.clone(),
            events.clone(),
            lanes.clone(),
        )
    });
    let plan = ReceivePlan::new(
        role,
        watched_user,
        audio.as_ref().map(VoiceAudio::payload_type),
        subscriptions,
    );
    let slot = Slot {
        audio,
        plan,
        tls,
        payload_codecs,
        dave,
        role,
        generation,
        conn: VoiceConnection::new(config, Instant::now()),
        ws: None,
        connecting: None,
        udp: None,
        events,
        lanes,
        inbox,
        rtp_drops_seen: 0,
        lane_drops_logged: 0,
        workers: BTreeMap::new(),
        media: None,
        reconnects: 0,
        publish,
        publisher: None,
        publish_ssrc: None,
    };
    let task = tokio::spawn(slot.run());
    SlotHandle {
        generation,
        lanes: outbox,
        task,
    }
}

fn random_seed() -> [u8; 24] {
    let mut out = [0u8; 24];
    for chunk in out.chunks_mut(8) {
        // RandomState is seeded from the OS per instance.
        let v = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    out
}

/// The MLS group: the voice channel, or `rtc_server_id - 1` for a stream
/// (control passes it; derived here when it did not).
fn dave_group_id(params: &TransportParams) -> u64 {
    match params {
        TransportParams::Voice(v) if v.dave_group_id != 0 => v.dave_group_id,
        TransportParams::Voice(v) => v.channel_id.0,
        TransportParams::Stream(s) if s.dave_group_id != 0 => s.dave_group_id,
        TransportParams::Stream(s) => dave_session::stream_group_id(s.server_id),
    }
}

fn connection_config(
    role: TransportRole,
    params: &TransportParams,
) -> (ConnectionConfig, Option<UserId>) {
    let (mut config, watched) = match params {
        TransportParams::Voice(v) => (
            ConnectionConfig::new(
                Role::Voice,
                v.endpoint.clone(),
                v.guild_id.into(),
                v.user_id,
                v.session_id.clone(),
                v.token.clone(),
            ),
            None,
        ),
        TransportParams::Stream(s) => (
            ConnectionConfig::new(
                Role::Stream,
                s.endpoint.clone(),
                voice_proto::ServerId(s.server_id),
                s.user_id,
                s.session_id.clone(),
                s.token.clone(),
            ),
            (role == TransportRole::StreamWatch).then_some(s.streamer_id),
        ),
    };
    config.nonce_seed = random_seed();
    config.max_dave_protocol_version = 1;
    if role == TransportRole::StreamPublish {
        // Only what we encode (issue 15 item 17; see `publish_codecs`).
        config.codecs = ConnectionConfig::publish_codecs();
    }
    (config, watched)
}

struct Slot {
    /// Voice audio (voice role only).
    audio: Option<VoiceAudio>,
    /// The receive decisions: layers, workers, routing, op 15.
    plan: ReceivePlan,
    /// The video payload types we declared in op 1, with their codecs.
    payload_codecs: Vec<PayloadCodec>,
    dave: SharedDave,
    role: TransportRole,
    generation: u64,
    conn: VoiceConnection,
    ws: Option<Ws>,
    connecting: Option<JoinHandle<Result<Ws, String>>>,
    udp: Option<(UdpSocket, SocketAddr)>,
    events: mpsc::Sender<TransportMsg>,
    /// The threads' side of the lanes (given to workers, the publisher and
    /// the voice sender), and the drop-oldest lanes drained here.
    lanes: SlotLanes,
    /// The supervisor's lanes.
    inbox: Inbox,
    /// RTP batches dropped so far, as last seen (a new drop asks the
    /// encoder for an IDR).
    rtp_drops_seen: u64,
    /// Lane drops as last logged.
    lane_drops_logged: u64,
    /// Running workers by media SSRC (the ones `plan` asked for).
    workers: BTreeMap<u32, VideoWorker>,
    media: Option<MediaInfo>,
    reconnects: u64,
    publish: PublishSettings,
    /// TLS for `wss://` voice and Go Live servers.
    tls: tls_client::TlsClient,
    publisher: Option<Publisher>,
    /// Own video SSRC on a stream_publish slot.
    publish_ssrc: Option<u32>,
}

/// How a stream_publish slot encodes.
#[derive(Clone, Copy, Debug)]
pub struct PublishSettings {
    /// Encoder size, rate and bitrate.
    pub encoder: video_pipeline::EncoderSettings,
    /// Start paused.
    pub paused: bool,
}

async fn recv_udp(udp: &Option<(UdpSocket, SocketAddr)>, buf: &mut [u8]) -> std::io::Result<usize> {
    match udp {
        Some((s, _)) => s.recv(buf).await,
        None => std::future::pending().await,
    }
}

impl Slot {
    async fn run(mut self) {
        let mut buf = vec![0u8; 2048];
        let mut stats = tokio::time::interval(STATS_EVERY);
        stats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            self.drive().await;
            if self.conn.status().is_final() {
                break;
            }
            let deadline = self.conn.poll_timeout();
            tokio::select! {
                reason = &mut self.inbox.stop => {
                    // A dropped handle stops the slot too.
                    let reason = reason.unwrap_or_else(|_| "slot_dropped".into());
                    // Chunks already handed over reach the voice sender,
                    // which reports their utterances as it ends.
                    while let Some(cmd) = self.inbox.voice.try_recv() {
                        self.on_voice(cmd);
                    }
                    self.conn.close(&reason);
                    self.drive().await;
                    break;
                }
                () = lanes::changed(&mut self.inbox.subscriptions) => {
                    let subs = self.inbox.subscriptions.borrow_and_update().clone();
                    let actions = self.plan.set_subscriptions(subs);
                    self.apply(actions);
                }
                () = lanes::changed(&mut self.inbox.paused) => {
                    let paused = *self.inbox.paused.borrow_and_update();
                    self.on_paused(paused);
                }
                cmd = self.inbox.voice.recv() => self.on_voice(cmd),
                () = self.lanes.shared().feedback.notified() => self.drain_feedback(),
                () = self.lanes.shared().audio.notified() => self.drain_audio(),
                () = self.lanes.shared().rtp.notified() => self.drain_rtp(),
                () = self.lanes.shared().publish.notified() => self.drain_publish(),
                r = daemon_support::join_pending(&mut self.connecting) => match r {
                    Ok(ws) => {
                        self.ws = Some(ws);
                        self.conn.handle_input(Input::WsConnected, Instant::now());
                    }
                    Err(reason) => self.conn.handle_input(Input::WsConnectFailed { reason }, Instant::now()),
                },
                msg = daemon_support::next_or_pending(&mut self.ws) => self.on_ws(msg),
                n = recv_udp(&self.udp, &mut buf) => match n {
                    Ok(n) => self.conn.handle_input(Input::Udp(&buf[..n]), Instant::now()),
                    // ICMP port unreachable and the like: keep going.
                    Err(e) => tracing::trace!(role = %self.role, error = %e, "udp receive error"),
                },
                () = daemon_support::sleep_until(deadline) => self.conn.handle_timeout(Instant::now()),
                _ = stats.tick() => self.send_stats(),
            }
        }
        self.send_stats();
        self.workers.clear();
        tracing::info!(role = %self.role, status = ?self.conn.status(), "transport slot ended");
    }

    fn on_ws(&mut self, msg: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>) {
        let now = Instant::now();
        match msg {
            Some(Ok(Message::Text(t))) => self.conn.handle_input(Input::WsText(t.as_str()), now),
            Some(Ok(Message::Binary(b))) => self.conn.handle_input(Input::WsBinary(&b), now),
            Some(Ok(Message::Close(frame))) => {
                self.ws = None;
                let code = frame.map(|f| u16::from(f.code));
                self.conn.handle_input(Input::WsClosed { code }, now);
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                tracing::debug!(role = %self.role, error = %e, "voice websocket error");
                self.ws = None;
                self.conn.handle_input(Input::WsClosed { code: None }, now);
            }
            None => {
                self.ws = None;
                self.conn.handle_input(Input::WsClosed { code: None }, now);
            }
        }
    }

    fn drain_feedback(&mut self) {
        for ask in lanes::take_batch(&self.lanes.shared().feedback, lanes::FEEDBACK_LANE) {
            match ask {
                WorkerAsk::Keyframe(ssrc) => {
                    if let Err(e) = self.conn.request_keyframe(ssrc) {
                        tracing::debug!(role = %self.role, error = %e, "keyframe request not sent");
                    }
                }
                WorkerAsk::Nack(ssrc, seqs) => {
                    if let Err(e) = self.conn.send_nack(ssrc, &seqs) {
                        tracing::debug!(role = %self.role, error = %e, "nack not sent");
                    }
                }
            }
        }
    }

    fn drain_publish(&mut self) {
        // A pause or resume sent before these frames applies first.
        if self.inbox.paused.has_changed().unwrap_or(false) {
            let paused = *self.inbox.paused.borrow_and_update();
            self.on_paused(paused);
        }
        for frame in lanes::take_batch(&self.lanes.shared().publish, lanes::PUBLISH_LANE) {
            match &self.publisher {
                Some(p) => {
                    if !p.frame(frame) {
                        tracing::debug!(role = %self.role, "publisher busy; frame dropped");
                    }
                }
                None => {
                    tracing::debug!(role = %self.role, "no publish session yet; frame dropped")
                }
            }
        }
    }

    fn on_paused(&mut self, paused: bool) {
        self.publish.paused = paused;
        if let Some(p) = &self.publisher {
            p.paused(paused);
        }
        // Op 12 with `active` following the pause.
        self.announce_publish();
    }

    fn on_voice(&mut self, cmd: VoiceCmd) {
        match &mut self.audio {
            Some(a) => a.on_voice(cmd),
            None => tracing::debug!(role = %self.role, "voice command on a non-voice slot"),
        }
    }

    fn drain_audio(&mut self) {
        for out in lanes::take_batch(&self.lanes.shared().audio, lanes::AUDIO_LANE) {
            if let Some(a) = &mut self.audio {
                a.on_audio_out(&mut self.conn, out);
            }
        }
    }

    fn drain_rtp(&mut self) {
        for packets in lanes::take_batch(&self.lanes.shared().rtp, lanes::RTP_LANE) {
            self.send_rtp(packets);
        }
        let dropped = self.lanes.shared().rtp.dropped();
        if dropped != self.rtp_drops_seen {
            // Whole encoded frames were lost: viewers need an IDR to
            // decode again (no NACK can repair what was never sent).
            self.rtp_drops_seen = dropped;
            tracing::debug!(role = %self.role, dropped, "slot busy; encoded frames dropped, asking for a keyframe");
            if let Some(p) = &self.publisher {
                p.keyframe();
            }
        }
    }

    /// Encoded RTP packets from the publisher thread: seal and send.
    fn send_rtp(&mut self, packets: Vec<Vec<u8>>) {
        let Some(publisher) = self.publisher.as_mut() else {
            return;
        };
        let now = Instant::now();
        for mut p in packets {
            if !publisher.on_send(&mut p, now) {
                continue;
            }
            if self.conn.send_rtp(p).is_err() {
                break;
            }
        }
        // Sender reports ride on the video: due only while it flows.
        let ntp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(rtp::send::ntp_from_unix)
            .unwrap_or(0);
        if let Some(sr) = publisher.sender_report(now, ntp)
            && let Err(e) = self.conn.send_rtcp(sr)
        {
            tracing::debug!(role = %self.role, error = %e, "sender report not sent");
        }
    }

    /// Carries out transmits and handles events until both queues are empty.
    async fn drive(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(t) = self.conn.poll_transmit() {
                progressed = true;
                self.transmit(t).await;
            }
            while let Some(e) = self.conn.poll_event() {
                progressed = true;
                self.on_event(e).await;
            }
            if !progressed {
                break;
            }
        }
    }

    async fn transmit(&mut self, t: Transmit) {
        match t {
            Transmit::WsConnect { url } => {
                self.ws = None;
                if let Some(old) = self.connecting.take() {
                    old.abort();
                }
                let tls = self.tls.clone();
                self.connecting = Some(tokio::spawn(async move {
                    tls.connect_ws(&url, CONNECT_TIMEOUT)
                        .await
                        .map_err(|e| e.to_string())
                }));
            }
            Transmit::WsText(text) => self.ws_send(Message::text(text)).await,
            Transmit::WsBinary(bytes) => self.ws_send(Message::binary(bytes)).await,
            Transmit::WsClose { code } => {
                if let Some(mut ws) = self.ws.take() {
                    let frame = CloseFrame {
                        code: WsCloseCode::from(code),
                        reason: "".into(),
                    };
                    // Bounded: a peer that does not answer the close is dropped.
                    let _ = tokio::time::timeout(Duration::from_millis(500), ws.close(Some(frame)))
                        .await;
                }
            }
            Transmit::UdpConnect { server } => {
                if self.udp.as_ref().is_some_and(|(_, s)| *s == server) {
                    return;
                }
                let bind: SocketAddr = if server.is_ipv4() {
                    ([0, 0, 0, 0], 0).into()
                } else {
                    (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                };
                match UdpSocket::bind(bind).await {
                    Ok(sock) => match sock.connect(server).await {
                        Ok(()) => self.udp = Some((sock, server)),
                        Err(e) => {
                            tracing::warn!(role = %self.role, error = %e, "udp connect failed")
                        }
                    },
                    Err(e) => tracing::warn!(role = %self.role, error = %e, "udp bind failed"),
                }
            }
            Transmit::Udp(bytes) => {
                if let Some((sock, _)) = &self.udp {
                    // A full send buffer drops the datagram, as UDP would.
                    let _ = sock.try_send(&bytes);
                }
            }
        }
    }

    async fn ws_send(&mut self, msg: Message) {
        let Some(ws) = &mut self.ws else { return };
        if let Err(e) = ws.send(msg).await {
            tracing::debug!(role = %self.role, error = %e, "voice websocket send failed");
            self.ws = None;
            self.conn
                .handle_input(Input::WsClosed { code: None }, Instant::now());
        }
    }

    async fn on_event(&mut self, e: Event) {
        match e {
            Event::Status {
                status,
                reason,
                close_code,
            } => {
                if status == ConnectionStatus::Reconnecting {
                    self.reconnects += 1;
                }
                tracing::info!(role = %self.role, ?status, %reason, ?close_code, "transport status");
                let state = TransportState {
                    role: self.role,
                    status: map_status(status),
                    reason: Some(reason),
                    close_code,
                };
                // Status changes are never dropped: wait for room.
                let _ = self
                    .events
                    .send(TransportMsg {
                        role: self.role,
                        generation: self.generation,
                        event: TransportEvent::Status(state),
                    })
                    .await;
            }
            Event::MediaReady(info) => {
                // Op 12 may have come before the key: workers start now.
                self.dave
                    .on_session_description(&mut self.conn, info.dave_protocol_version);
                if let Some(a) = &mut self.audio {
                    a.on_media_ready(&mut self.conn, info.ssrc);
                }
                self.media = Some(info);
                let actions = self.plan.media_ready();
                self.apply(actions);
                self.start_publishing();
            }
            Event::Resumed => {
                if let Some(a) = &self.audio {
                    a.resend_speaking(&mut self.conn);
                }
                let actions = self.plan.resumed();
                self.apply(actions);
                self.announce_publish();
            }
            Event::Rtp(packet) => self.route_rtp(packet),
            Event::Rtcp(plain) => self.on_rtcp(&plain),
            Event::Speaking {
                user_id,
                ssrc,
                speaking,
            } => {
                if let (Some(a), Some(user)) = (&mut self.audio, user_id) {
                    a.map(ssrc, user);
                }
                if let Some(user) = user_id {
                    self.emit(TransportEvent::Speaking(Speaking {
                        user_id: user,
                        ssrc: Some(Ssrc(ssrc)),
                        speaking,
                    }));
                }
            }
            Event::Video(v) => {
                if let Some(a) = &mut self.audio {
                    a.on_video(&v);
                }
                let actions = self.plan.on_video(&v);
                self.apply(actions);
            }
            Event::ClientDisconnect(user) => {
                if let Some(a) = &mut self.audio {
                    a.user_gone(user);
                }
                self.dave.client_disconnect(user);
                let actions = self.plan.user_gone(user);
                self.apply(actions);
            }
            Event::ClientsConnect(users) => self.dave.clients_connect(&users),
            Event::Dave(msg) => self.dave.on_binary(&mut self.conn, msg),
            Event::Message(msg) => self.dave.on_message(&mut self.conn, &msg),
        }
    }

    /// stream_publish: announce the video (op 12, op 5 flag 2) and start
    /// the encoder thread.
    fn start_publishing(&mut self) {
        if self.role != TransportRole::StreamPublish {
            return;
        }
        let Some(layer) = self.media.as_ref().and_then(|m| m.streams.first()) else {
            tracing::warn!("stream_publish: READY allocated no video stream");
            return;
        };
        let Some(vssrc) = layer.ssrc else { return };
        // RTX: READY's rtx_ssrc (or ssrc + 1) with our op 1 RTX type.
        let ids = StreamIds {
            ssrc: vssrc,
            rtx: layer.rtx_ssrc_or_derived().map(|r| (r, H264_RTX_PT)),
        };
        self.publish_ssrc = Some(vssrc);
        self.announce_publish();
        if self.publisher.is_none() {
            let spec = PublishSpec {
                role: self.role,
                ids,
                payload_type: H264_PT,
                settings: self.publish.encoder,
                dave: self.dave.clone(),
            };
            match Publisher::spawn(spec, self.lanes.clone()) {
                Ok(p) => {
                    p.paused(self.publish.paused);
                    self.publisher = Some(p);
                }
                Err(e) => tracing::error!(error = %e, "cannot start the publisher"),
            }
        } else if let Some(p) = &mut self.publisher {
            // A new session (or viewers): start from an IDR.
            p.set_ids(ids);
            p.keyframe();
        }
    }

    /// Op 12 (shape and sources: `publish::announcement`) and op 5.
    fn announce_publish(&mut self) {
        let (Some(vssrc), Some(info)) = (self.publish_ssrc, self.media.as_ref()) else {
            return;
        };
        let Some(layer) = info.streams.first() else {
            return;
        };
        let ids = StreamIds {
            ssrc: vssrc,
            rtx: layer.rtx_ssrc_or_derived().map(|r| (r, H264_RTX_PT)),
        };
        let audio = info.ssrc;
        let video = super::publish::announcement(
            audio,
            layer,
            ids,
            &self.publish.encoder,
            !self.publish.paused,
        );
        self.conn.send_message(&VoiceMessage::Video(video));
        self.conn
            .send_message(&VoiceMessage::Speaking(voice_proto::Speaking::announce(
                voice_proto::SpeakingFlags::SOUNDSHARE,
                audio,
            )));
    }

    /// PLI/FIR for our published video: answer with an IDR. Generic NACK:
    /// answer with RTX from the sent history (`rtp::send`).
    fn on_rtcp(&mut self, plain: &[u8]) {
        let Some(p) = &mut self.publisher else {
            return;
        };
        let vssrc = p.ssrc();
        for pkt in rtp::rtcp::parse_compound(plain) {
            match pkt {
                Ok(rtp::RtcpPacket::Nack(n)) => {
                    for rtx in p.on_nack(&n) {
                        if self.conn.send_rtp(rtx).is_err() {
                            break;
                        }
                    }
                }
                Ok(rtp::RtcpPacket::Pli { media_ssrc, .. }) if media_ssrc.0 == vssrc => {
                    p.keyframe()
                }
                Ok(rtp::RtcpPacket::Fir(f)) if f.entries().any(|e| e.ssrc.0 == vssrc) => {
                    p.keyframe()
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }

    fn emit(&self, event: TransportEvent) {
        let msg = TransportMsg {
            role: self.role,
            generation: self.generation,
            event,
        };
        if self.events.try_send(msg).is_err() {
            tracing::debug!(role = %self.role, "supervisor busy; event dropped");
        }
    }

    /// Carries out the receive plan's actions, in order.
    fn apply(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::StartWorker(planned) => {
                    let spec = WorkerSpec {
                        role: self.role,
                        generation: self.generation,
                        user_id: planned.user_id,
                        stream_type: self.plan.stream_type(),
                        ssrc: planned.ssrc,
                        rtx_ssrc: planned.rtx_ssrc,
                        payload_codecs: self.payload_codecs.clone(),
                        settings: planned.settings,
                        dave: self.dave.clone(),
                    };
                    match VideoWorker::spawn(spec, self.events.clone(), self.lanes.clone()) {
                        Ok(w) => {
                            tracing::info!(role = %self.role, user = planned.user_id.get(), ssrc = planned.ssrc, "video worker started");
                            self.workers.insert(planned.ssrc, w);
                            // Start from a keyframe rather than wait for the next one.
                            let _ = self.conn.request_keyframe(planned.ssrc);
                        }
                        Err(e) => {
                            self.plan.worker_failed(planned.ssrc);
                            tracing::error!(role = %self.role, error = %e, "cannot start a video worker")
                        }
                    }
                }
                Action::UpdateWorker { ssrc, settings } => {
                    if let Some(w) = self.workers.get(&ssrc) {
                        w.set_settings(settings);
                    }
                }
                Action::StopWorker { ssrc } => {
                    self.workers.remove(&ssrc);
                }
                Action::SinkWants(wants) => {
                    self.conn.send_message(&VoiceMessage::MediaSinkWants(wants));
                }
                Action::UserVideo(state) => self.emit(TransportEvent::UserVideo(state)),
                Action::UserVideoEnd { user_id, ssrc } => {
                    self.emit(TransportEvent::UserVideoEnd { user_id, ssrc })
                }
            }
        }
    }

    fn route_rtp(&mut self, packet: Vec<u8>) {
        let (Some(ssrc), Some(b1)) = (rtp::peek_ssrc(&packet), packet.get(1)) else {
            return;
        };
        let now = Instant::now();
        match self.plan.route(b1 & 0x7f, ssrc.0) {
            Route::Audio => {
                if let Some(a) = &mut self.audio {
                    let _ = a.on_rtp(b1 & 0x7f, ssrc.0, packet, now);
                }
            }
            Route::Worker(media_ssrc) => {
                if let Some(w) = self.workers.get(&media_ssrc) {
                    w.push(packet, now);
                }
            }
            Route::Drop => {}
        }
    }

    fn send_stats(&mut self) {
        use std::sync::atomic::Ordering::Relaxed;
        let c = self.conn.counters();
        let mut s = TransportStats {
            role: Some(self.role),
            packets_received: c.rtp_packets,
            packets_rejected: c.dropped_datagrams,
            reconnects: self.reconnects + c.resumes,
            e2ee_failures: self.dave.failures(),
            ..TransportStats::default()
        };
        if let Some(a) = &self.audio {
            let (_frames, dropped, _failed) = a.counters();
            s.packets_lost += dropped;
        }
        for w in self.workers.values() {
            s.packets_recovered += w.counters.recovered.load(Relaxed);
            s.packets_lost += w.counters.lost.load(Relaxed);
            s.frames_decoded += w.counters.decoded.load(Relaxed);
            s.frames_emitted += w.counters.emitted.load(Relaxed);
            s.keyframe_requests += w.counters.keyframe_requests.load(Relaxed);
        }
        self.emit(TransportEvent::Stats(s));
        let drops = self.lanes.drops();
        if drops.total() != self.lane_drops_logged {
            // Not in `TransportStats` (an IPC schema change): logged.
            self.lane_drops_logged = drops.total();
            tracing::debug!(
                role = %self.role,
                publish_frames = drops.publish_frames,
                rtp_batches = drops.rtp_batches,
                audio_packets = drops.audio_packets,
                feedback = drops.feedback,
                voice_refused = drops.voice_refused,
                voice_cancels = drops.voice_cancels,
                "slot lane drops"
            );
        }
    }
}

fn map_status(s: ConnectionStatus) -> TransportStatus {
    match s {
        ConnectionStatus::Connecting => TransportStatus::Connecting,
        ConnectionStatus::Ready => TransportStatus::Ready,
        ConnectionStatus::Resuming => TransportStatus::Resuming,
        ConnectionStatus::Reconnecting => TransportStatus::Reconnecting,
        ConnectionStatus::RejoinRequired => TransportStatus::RejoinRequired,
        ConnectionStatus::Failed => TransportStatus::Failed,
        ConnectionStatus::Disconnected => TransportStatus::Disconnected,
    }
}

//! The task that owns mediad's state and the control connection.
//!
//! Everything that changes state arrives as a [`SupervisorMsg`] or from the
//! attached control connection, and is handled here, one at a time: no shared
//! locks. While no control is attached, a grace deadline runs; when it
//! passes, everything is torn down.

use crate::Config;
use crate::state::{Effect, MediaState};
use crate::transport::{
    PublishSettings, SlotCmd, SlotHandle, TransportEvent, TransportMsg, spawn_slot,
};
use ipc_conn::{ConnError, Connection};
use ipc_schema::*;
use std::collections::{BTreeMap, VecDeque};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

/// Messages to the supervisor.
pub enum SupervisorMsg {
    /// A handshaken control connection wants to attach.
    Attach(Connection<MediadMsg, ControlMsg>),
}

/// The attached control.
struct Attached {
    conn: Connection<MediadMsg, ControlMsg>,
    since: Instant,
}

/// Owner of [`MediaState`] and of the control connection.
pub struct Supervisor {
    config: Config,
    /// TLS for every slot's WebSocket.
    tls: tls_client::TlsClient,
    state: MediaState,
    started: Instant,
    instance_id: u64,
    control: Option<Attached>,
    /// When the state is torn down if no control attaches before.
    grace_deadline: Option<Instant>,
    control_sessions: u64,
    /// Running transport slots.
    slots: BTreeMap<TransportRole, SlotHandle>,
    next_generation: u64,
    transport_tx: mpsc::Sender<TransportMsg>,
    transport_rx: Option<mpsc::Receiver<TransportMsg>>,
    /// Latest counters per role.
    transport_stats: BTreeMap<TransportRole, TransportStats>,
    /// Utterances refused for want of a voice transport (reported once).
    refused_playback: VecDeque<UtteranceId>,
}

/// Events queued from transports (frames are dropped beyond this).
const TRANSPORT_QUEUE: usize = 256;

impl Supervisor {
    /// A supervisor with empty state.
    pub fn new(config: Config) -> Self {
        let (transport_tx, transport_rx) = mpsc::channel(TRANSPORT_QUEUE);
        Self {
            slots: BTreeMap::new(),
            next_generation: 1,
            transport_tx,
            transport_rx: Some(transport_rx),
            transport_stats: BTreeMap::new(),
            refused_playback: VecDeque::new(),
            state: MediaState::default(),
            started: Instant::now(),
            instance_id: config.instance_id,
            control: None,
            grace_deadline: None,
            control_sessions: 0,
            tls: config.tls.clone(),
            config,
        }
    }

    /// The instance id announced in `Hello`.
    pub fn instance_id(&self) -> u64 {
        self.instance_id
    }

    fn uptime_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn snapshot(&self) -> MediadMsg {
        MediadMsg::Snapshot(self.state.snapshot(
            self.instance_id,
            self.uptime_ms(),
            self.control_sessions,
        ))
    }

    /// Runs until `inbox` closes (shutdown).
    pub async fn run(mut self, mut inbox: mpsc::Receiver<SupervisorMsg>) {
        let mut stats = tokio::time::interval(self.config.stats_interval);
        stats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let Some(mut transports) = self.transport_rx.take() else {
            tracing::error!("supervisor run twice");
            return;
        };
        loop {
            let grace = self.grace_deadline;
            tokio::select! {
                msg = inbox.recv() => match msg {
                    Some(SupervisorMsg::Attach(conn)) => self.attach(conn),
                    None => break,
                },
                incoming = recv_control(&mut self.control) => self.on_control(incoming),
                Some(t) = transports.recv() => self.on_transport(t),
                () = sleep_until(grace.unwrap_or_else(Instant::now)), if grace.is_some() => self.grace_expired(),
                _ = stats.tick(), if self.control.is_some() => self.send_stats(),
            }
        }
        let effects = self.state.teardown("mediad_shutdown");
        self.run_effects(effects);
        if let Some(c) = self.control.take() {
            drop(c.conn.sender);
        }
        tracing::info!("supervisor stopped");
    }

    fn attach(&mut self, conn: Connection<MediadMsg, ControlMsg>) {
        let peer = conn.peer.hello.clone();
        if let Some(current) = &self.control {
            tracing::warn!(
                peer_instance = format!("{:016x}", peer.instance_id),
                current_instance = format!("{:016x}", current.conn.peer.hello.instance_id),
                "refusing a second control connection"
            );
            let _ = conn.sender.send(MediadMsg::Error(ErrorReport {
                code: ErrorCode::ControlAlreadyConnected,
                message: format!(
                    "another control (instance {:016x}, connected {}s ago) is already attached to this mediad; only one control may be connected at a time",
                    current.conn.peer.hello.instance_id,
                    current.since.elapsed().as_secs()
                ),
            }));
            // Dropping the connection closes it once the error is written.
            return;
        }
        self.control_sessions += 1;
        let resumed = self.grace_deadline.take().is_some();
        tracing::info!(
            peer_role = %peer.role,
            peer_build = %peer.build,
            peer_protocol = %peer.protocol,
            peer_instance = format!("{:016x}", peer.instance_id),
            transports = self.state.transport_count(),
            subscriptions = self.state.subscription_count(),
            within_grace = resumed,
            "control attached"
        );
        let snapshot = self.snapshot();
        self.control = Some(Attached {
            conn,
            since: Instant::now(),
        });
        self.send(snapshot);
    }

    fn on_control(&mut self, incoming: Option<Result<ControlMsg, ConnError>>) {
        match incoming {
            Some(Ok(msg)) => self.handle(msg),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "control connection failed");
                self.detach("connection_error");
            }
            None => self.detach("control_disconnected"),
        }
    }

    fn handle(&mut self, msg: ControlMsg) {
        tracing::debug!(kind = msg.kind(), "command from control");
        match msg {
            ControlMsg::Ping { nonce } => self.send(MediadMsg::Pong { nonce }),
            ControlMsg::SnapshotRequest => self.send(self.snapshot()),
            ControlMsg::Hello(_) => {
                tracing::warn!("ignoring a second hello from control");
            }
            ControlMsg::VoicePlay(chunk) => {
                let refused = match self.slots.get(&TransportRole::Voice) {
                    Some(slot) => slot.play(chunk).err().map(|r| (r.id, r.reason)),
                    None => Some((chunk.id, "no voice connection".to_string())),
                };
                if let Some((id, reason)) = refused {
                    self.refuse_playback(id, reason);
                }
            }
            ControlMsg::VoiceCancel { id } => {
                if let Some(slot) = self.slots.get(&TransportRole::Voice) {
                    slot.send(SlotCmd::VoiceCancel(id));
                }
            }
            other => {
                let effects = self.state.apply(other);
                self.run_effects(effects);
            }
        }
    }

    /// `VoicePlay` without a voice transport (or that its slot could not
    /// take): `Failed`, once per utterance.
    fn refuse_playback(&mut self, id: UtteranceId, reason: String) {
        if self.refused_playback.contains(&id) {
            return;
        }
        if self.refused_playback.len() >= 32 {
            self.refused_playback.pop_front();
        }
        self.refused_playback.push_back(id);
        tracing::warn!(id = id.0, %reason, "voice_play refused");
        self.send(MediadMsg::Playback(PlaybackEvent {
            id,
            state: PlaybackState::Failed(reason),
            played_ms: 0,
        }));
    }

    fn run_effects(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Emit(msg) => self.send(msg),
                Effect::StartTransport(role, params) => {
                    if let Some(old) = self.slots.remove(&role) {
                        old.stop("connect_replaced".into());
                    }
                    let generation = self.next_generation;
                    self.next_generation += 1;
                    tracing::info!(%role, generation, "starting transport");
                    let subs = self.state.subscriptions().cloned().collect();
                    let publish = PublishSettings {
                        encoder: self.config.publish,
                        paused: self.state.publish_paused(),
                    };
                    let slot = spawn_slot(
                        role,
                        &params,
                        subs,
                        generation,
                        publish,
                        self.tls.clone(),
                        self.transport_tx.clone(),
                    );
                    self.slots.insert(role, slot);
                }
                Effect::StopTransport(role, reason) => {
                    if let Some(slot) = self.slots.remove(&role) {
                        slot.stop(reason.clone());
                    }
                    self.transport_stats.remove(&role);
                    tracing::info!(%role, %reason, "transport stopped")
                }
                Effect::SubscriptionsChanged => {
                    tracing::info!(
                        subscriptions = self.state.subscription_count(),
                        "video subscriptions changed"
                    );
                    let subs: Vec<VideoSubscription> =
                        self.state.subscriptions().cloned().collect();
                    for slot in self.slots.values() {
                        slot.send(SlotCmd::Subscriptions(subs.clone()));
                    }
                }
                Effect::Publish(frame) => match self.slots.get(&TransportRole::StreamPublish) {
                    Some(slot) => slot.send(SlotCmd::Publish(frame)),
                    None => tracing::debug!("publish frame dropped: stream_publish is not running"),
                },
                Effect::PublishPaused(paused) => {
                    if let Some(slot) = self.slots.get(&TransportRole::StreamPublish) {
                        slot.send(SlotCmd::PublishPaused(paused));
                    }
                }
            }
        }
    }

    fn send(&mut self, msg: MediadMsg) {
        let Some(control) = &self.control else { return };
        if let Err(e) = control.conn.sender.send(msg) {
            // The reliable lane is full (control stopped reading) or gone:
            // drop the connection; control will reconnect and get a snapshot.
            tracing::warn!(error = %e, "cannot send to control; detaching it");
            self.detach("send_failed");
        }
    }

    fn send_stats(&mut self) {
        let Some(control) = &self.control else { return };
        let stats = Stats {
            uptime_ms: self.uptime_ms(),
            video_lane_dropped: control.conn.sender.lossy_dropped(),
            video_lane_sent: control.conn.sender.lossy_sent(),
            transports: self.transport_stats.values().cloned().collect(),
        };
        self.send(MediadMsg::Stats(stats));
    }

    fn on_transport(&mut self, msg: TransportMsg) {
        if let TransportEvent::Playback(p) = msg.event {
            // An utterance's end is reported even from a slot that was
            // replaced or stopped (its sender reports `Failed` as it ends).
            self.send(MediadMsg::Playback(p));
            return;
        }
        let current = self.slots.get(&msg.role).map(|s| s.generation);
        if current != Some(msg.generation) {
            // A replaced or stopped slot's last words.
            return;
        }
        match msg.event {
            TransportEvent::Status(state) => {
                self.state
                    .set_status(state.role, state.status, state.reason.clone());
                if !state.status.is_active() {
                    // The slot's task has ended; the state keeps the
                    // failure so a replayed connect restarts it.
                    self.slots.remove(&msg.role);
                }
                self.send(MediadMsg::TransportState(state));
            }
            TransportEvent::Frame(f) => self.send(MediadMsg::DecodedVideoFrame(f)),
            TransportEvent::UserVideo(v) => self.send(MediadMsg::UserVideoState(v)),
            TransportEvent::UserVideoEnd { user_id, ssrc } => {
                self.send(MediadMsg::UserVideoEnd { user_id, ssrc })
            }
            TransportEvent::Speaking(s) => self.send(MediadMsg::Speaking(s)),
            TransportEvent::UserSpeech(s) => self.send(MediadMsg::UserSpeech(s)),
            TransportEvent::UserUtterance(u) => self.send(MediadMsg::UserUtterance(u)),
            TransportEvent::Playback(p) => self.send(MediadMsg::Playback(p)),
            TransportEvent::Stats(s) => {
                self.transport_stats.insert(msg.role, s);
            }
        }
    }

    fn detach(&mut self, reason: &str) {
        if self.control.take().is_none() {
            return;
        }
        let deadline = Instant::now() + self.config.control_grace;
        self.grace_deadline = Some(deadline);
        tracing::info!(
            reason,
            grace_secs = self.config.control_grace.as_secs(),
            transports = self.state.transport_count(),
            subscriptions = self.state.subscription_count(),
            "control detached; keeping state for the grace period"
        );
    }

    fn grace_expired(&mut self) {
        self.grace_deadline = None;
        tracing::warn!(
            transports = self.state.transport_count(),
            subscriptions = self.state.subscription_count(),
            "control grace period expired; tearing everything down"
        );
        let effects = self.state.teardown("control_grace_expired");
        self.run_effects(effects);
    }
}

async fn recv_control(control: &mut Option<Attached>) -> Option<Result<ControlMsg, ConnError>> {
    match control {
        Some(c) => c.conn.receiver.recv().await,
        None => std::future::pending().await,
    }
}

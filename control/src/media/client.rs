//! The task that keeps control connected to mediad.

use super::desired::{
    DesiredMedia, StreamConnectView, VoiceConnectView, connect_msg, disconnect_msg,
};
use gateway_session::RetryBackoff as Backoff;
use ipc_conn::{ConnConfig, ConnError, Connection, handshake};
use ipc_schema::*;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;

/// How control reaches mediad.
#[derive(Clone, Debug)]
pub struct MediaClientConfig {
    /// mediad's socket.
    pub socket: PathBuf,
    /// Version announced in `Hello`.
    pub protocol: ProtocolVersion,
    /// This control's instance id.
    pub instance_id: u64,
    /// Reconnect delays.
    pub backoff: Backoff,
    /// Time allowed for the handshake and the first snapshot.
    pub handshake_timeout: Duration,
    /// How often to ping mediad.
    pub ping_interval: Duration,
}

impl MediaClientConfig {
    /// Defaults for `socket`: 100 ms doubling to 2 s between attempts.
    pub fn new(socket: PathBuf, protocol: ProtocolVersion, instance_id: u64) -> Self {
        Self {
            socket,
            protocol,
            instance_id,
            backoff: Backoff {
                initial: Duration::from_millis(100),
                max: Duration::from_secs(2),
            },
            handshake_timeout: Duration::from_secs(5),
            ping_interval: Duration::from_secs(10),
        }
    }
}

/// The connection's state, for `/healthz` and logs.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediadConnStatus {
    /// Whether a handshaken connection to mediad exists.
    pub connected: bool,
    /// When the current connection (or the last failure) started, ms since epoch.
    pub since_ms: Option<u64>,
    /// mediad's instance id (hex).
    pub mediad_instance: Option<String>,
    /// mediad's build.
    pub mediad_build: Option<String>,
    /// mediad's protocol version.
    pub mediad_protocol: Option<String>,
    /// Successful connections so far.
    pub connects: u64,
    /// Failed attempts since the last success.
    pub failed_attempts: u32,
    /// Why the last attempt or connection failed.
    pub last_error: Option<String>,
    /// Round trip of the last ping, in ms.
    pub rtt_ms: Option<f64>,
}

/// What mediad is known to hold (from its last snapshot and later events),
/// without secrets.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediadView {
    /// Transport slots.
    pub transports: Vec<TransportView>,
    /// Subscribed users.
    pub subscriptions: Vec<SubscriptionView>,
    /// Publish paused.
    pub publish_paused: bool,
    /// How many control sessions mediad has seen.
    pub control_sessions: u64,
}

/// One slot, without secrets.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransportView {
    /// `voice`, `stream_watch` or `stream_publish`.
    pub role: &'static str,
    /// Lifecycle state.
    pub status: &'static str,
    /// Last reason.
    pub reason: Option<String>,
    /// Server endpoint.
    pub endpoint: String,
    /// Stream key for stream roles.
    pub stream_key: Option<String>,
}

/// One subscription.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionView {
    /// User id.
    pub user_id: String,
    /// Frame rate cap.
    pub max_fps: f32,
    /// JPEG quality.
    pub jpeg_quality: u8,
    /// Pixel budget.
    pub preferred_pixel_count: Option<u32>,
    /// Stream type.
    pub stream_type: Option<String>,
}

impl From<&VideoSubscription> for SubscriptionView {
    fn from(s: &VideoSubscription) -> Self {
        Self {
            user_id: s.user_id.0.to_string(),
            max_fps: s.max_fps,
            jpeg_quality: s.jpeg_quality,
            preferred_pixel_count: s.preferred_pixel_count,
            stream_type: s.stream_type.map(|t| format!("{t:?}").to_lowercase()),
        }
    }
}

impl MediadView {
    fn from_snapshot(s: &Snapshot) -> Self {
        Self {
            transports: s
                .transports
                .iter()
                .map(|t| TransportView {
                    role: t.role.as_str(),
                    status: t.status.as_str(),
                    reason: t.reason.clone(),
                    endpoint: match &t.params {
                        TransportParams::Voice(v) => v.endpoint.clone(),
                        TransportParams::Stream(s) => s.endpoint.clone(),
                    },
                    stream_key: match &t.params {
                        TransportParams::Voice(_) => None,
                        TransportParams::Stream(s) => Some(s.stream_key.clone()),
                    },
                })
                .collect(),
            subscriptions: s.subscriptions.iter().map(SubscriptionView::from).collect(),
            publish_paused: s.publish_paused,
            control_sessions: s.control_sessions,
        }
    }
}

/// Desired and known state together.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaView {
    /// What control wants.
    pub desired: DesiredMedia,
    /// Desired subscriptions.
    pub desired_subscriptions: Vec<SubscriptionView>,
    /// What mediad last reported (None until a connection was made).
    pub mediad: Option<MediadView>,
    /// The connection to mediad.
    #[serde(rename = "connection")]
    pub conn: MediadConnStatus,
}

enum MediaCommand {
    SetVoice(Option<VoiceConnect>, String),
    SetStream(TransportRole, Option<StreamConnect>, String),
    Subscribe(VideoSubscription),
    Unsubscribe(UserId),
    PublishFrame(PublishFrame),
    /// Speech for the voice connection (not state: dropped when offline).
    Voice(ControlMsg),
    View(oneshot::Sender<MediaView>),
}

/// Cloneable handle to the media client task.
#[derive(Clone)]
pub struct MediaHandle {
    cmd: mpsc::Sender<MediaCommand>,
    status: watch::Receiver<MediadConnStatus>,
    events: broadcast::Sender<Arc<MediadMsg>>,
}

/// The client task is gone (control is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("the media client has stopped")]
pub struct MediaClientGone;

impl MediaHandle {
    async fn command(&self, c: MediaCommand) -> Result<(), MediaClientGone> {
        self.cmd.send(c).await.map_err(|_| MediaClientGone)
    }
    /// Wants (or stops wanting) the voice transport.
    pub async fn set_voice(
        &self,
        v: Option<VoiceConnect>,
        reason: &str,
    ) -> Result<(), MediaClientGone> {
        self.command(MediaCommand::SetVoice(v, reason.into())).await
    }
    /// Wants (or stops wanting) a stream transport.
    pub async fn set_stream(
        &self,
        role: TransportRole,
        s: Option<StreamConnect>,
        reason: &str,
    ) -> Result<(), MediaClientGone> {
        self.command(MediaCommand::SetStream(role, s, reason.into()))
            .await
    }
    /// Wants one user's video.
    pub async fn subscribe(&self, s: VideoSubscription) -> Result<(), MediaClientGone> {
        self.command(MediaCommand::Subscribe(s)).await
    }
    /// Stops wanting one user's video.
    pub async fn unsubscribe(&self, user: UserId) -> Result<(), MediaClientGone> {
        self.command(MediaCommand::Unsubscribe(user)).await
    }
    /// Publishes one frame (dropped if not connected).
    pub async fn publish_frame(&self, f: PublishFrame) -> Result<(), MediaClientGone> {
        self.command(MediaCommand::PublishFrame(f)).await
    }
    /// One chunk of an utterance to speak (dropped if not connected: the
    /// speech floor's watchdog then frees the floor).
    pub async fn voice_play(&self, c: ipc_schema::VoicePlayChunk) -> Result<(), MediaClientGone> {
        self.command(MediaCommand::Voice(ControlMsg::VoicePlay(c)))
            .await
    }
    /// Stops an utterance now (barge-in).
    pub async fn voice_cancel(&self, id: ipc_schema::UtteranceId) -> Result<(), MediaClientGone> {
        self.command(MediaCommand::Voice(ControlMsg::VoiceCancel { id }))
            .await
    }
    /// Desired and known state.
    pub async fn view(&self) -> Result<MediaView, MediaClientGone> {
        let (tx, rx) = oneshot::channel();
        self.command(MediaCommand::View(tx)).await?;
        rx.await.map_err(|_| MediaClientGone)
    }
    /// The connection status right now.
    pub fn status(&self) -> MediadConnStatus {
        self.status.borrow().clone()
    }
    /// Every message mediad sends (video frames may be skipped when a
    /// subscriber lags).
    pub fn events(&self) -> broadcast::Receiver<Arc<MediadMsg>> {
        self.events.subscribe()
    }
}

/// The media client task.
pub struct MediaClient {
    config: MediaClientConfig,
    desired: DesiredMedia,
    known: Option<MediadView>,
    status_tx: watch::Sender<MediadConnStatus>,
    events: broadcast::Sender<Arc<MediadMsg>>,
    cmd_rx: mpsc::Receiver<MediaCommand>,
    pending_ping: Option<(u64, Instant)>,
    next_nonce: u64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

enum ConnEnd {
    Shutdown,
    Lost(String),
}

impl MediaClient {
    /// Creates the task and its handle; run it with [`MediaClient::run`].
    pub fn new(config: MediaClientConfig) -> (Self, MediaHandle) {
        let (cmd_tx, cmd_rx) = mpsc::channel(64);
        let (status_tx, status_rx) = watch::channel(MediadConnStatus::default());
        let (events, _) = broadcast::channel(256);
        let handle = MediaHandle {
            cmd: cmd_tx,
            status: status_rx,
            events: events.clone(),
        };
        let client = Self {
            config,
            desired: DesiredMedia::default(),
            known: None,
            status_tx,
            events,
            cmd_rx,
            pending_ping: None,
            next_nonce: 1,
        };
        (client, handle)
    }

    /// Runs until `shutdown` resolves.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut attempt: u32 = 0;
        loop {
            match self.connect_once().await {
                Ok(conn) => {
                    attempt = 0;
                    match self.drive(conn, &mut shutdown).await {
                        ConnEnd::Shutdown => return,
                        ConnEnd::Lost(why) => {
                            tracing::warn!(reason = %why, "lost the connection to mediad; reconnecting");
                            self.status_tx.send_modify(|s| {
                                s.connected = false;
                                s.since_ms = Some(now_ms());
                                s.last_error = Some(why);
                                s.rtt_ms = None;
                            });
                        }
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    let is_new =
                        self.status_tx.borrow().last_error.as_deref() != Some(msg.as_str());
                    if !e.is_transient() {
                        tracing::error!(error = %msg, socket = %self.config.socket.display(), "mediad refused this control");
                    } else if is_new || attempt.is_multiple_of(30) {
                        tracing::warn!(error = %msg, socket = %self.config.socket.display(), attempt, "cannot reach mediad; will retry");
                    } else {
                        tracing::debug!(error = %msg, attempt, "cannot reach mediad");
                    }
                    self.status_tx.send_modify(|s| {
                        s.connected = false;
                        s.failed_attempts = attempt + 1;
                        s.last_error = Some(msg);
                    });
                    let delay = self.config.backoff.delay(attempt);
                    attempt = attempt.saturating_add(1);
                    let wake = Instant::now() + delay;
                    // Keep taking commands while waiting, so callers never
                    // block on an absent mediad.
                    loop {
                        tokio::select! {
                            () = &mut shutdown => return,
                            () = tokio::time::sleep_until(wake) => break,
                            cmd = self.cmd_rx.recv() => match cmd {
                                Some(c) => self.apply_offline(c),
                                None => return,
                            },
                        }
                    }
                }
            }
        }
    }

    async fn connect_once(&mut self) -> Result<Connection<ControlMsg, MediadMsg>, ConnError> {
        let mut stream = ipc_conn::socket::connect(&self.config.socket).await?;
        let hello = Hello {
            protocol: self.config.protocol,
            role: PeerRole::Control,
            build: daemon_support::build_info!().to_string(),
            instance_id: self.config.instance_id,
        };
        let (peer, rest) = handshake::<ControlMsg, MediadMsg, _>(
            &mut stream,
            hello,
            self.config.handshake_timeout,
        )
        .await?;
        let mut conn = Connection::spawn(stream, peer, rest, ConnConfig::default());
        // mediad sends a snapshot right after attaching, or an error if it
        // refuses this connection.
        let first = tokio::time::timeout(self.config.handshake_timeout, conn.receiver.recv())
            .await
            .map_err(|_| ConnError::HandshakeTimeout(self.config.handshake_timeout))?;
        match first {
            Some(Ok(MediadMsg::Snapshot(snap))) => {
                self.on_attached(&conn, &snap);
                Ok(conn)
            }
            Some(Ok(MediadMsg::Error(e))) => Err(ConnError::Io(std::io::Error::other(format!(
                "mediad refused the connection ({:?}): {}",
                e.code, e.message
            )))),
            Some(Ok(other)) => Err(ConnError::NoHello(other.kind())),
            Some(Err(e)) => Err(e),
            None => Err(ConnError::Closed),
        }
    }

    fn on_attached(&mut self, conn: &Connection<ControlMsg, MediadMsg>, snap: &Snapshot) {
        let hello = &conn.peer.hello;
        let commands = if self.desired.initialized {
            self.desired.reconcile(snap)
        } else {
            self.desired.adopt(snap);
            tracing::info!(
                transports = snap.transports.len(),
                subscriptions = snap.subscriptions.len(),
                "adopted the state mediad kept"
            );
            vec![]
        };
        tracing::info!(
            mediad_instance = format!("{:016x}", hello.instance_id),
            mediad_build = %hello.build,
            mediad_protocol = %hello.protocol,
            replayed = commands.len(),
            held_transports = snap.transports.len(),
            held_subscriptions = snap.subscriptions.len(),
            "connected to mediad"
        );
        for c in commands {
            tracing::info!(kind = c.kind(), "replaying desired state to mediad");
            if let Err(e) = conn.sender.send(c) {
                tracing::warn!(error = %e, "replay failed");
            }
        }
        self.known = Some(MediadView::from_snapshot(snap));
        self.status_tx.send_modify(|s| {
            s.connected = true;
            s.since_ms = Some(now_ms());
            s.mediad_instance = Some(format!("{:016x}", hello.instance_id));
            s.mediad_build = Some(hello.build.clone());
            s.mediad_protocol = Some(hello.protocol.to_string());
            s.connects += 1;
            s.failed_attempts = 0;
            s.last_error = None;
        });
    }

    async fn drive(
        &mut self,
        mut conn: Connection<ControlMsg, MediadMsg>,
        shutdown: &mut std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
    ) -> ConnEnd {
        // One ping right away (measures the round trip, shows up in
        // ipc-tap), then periodically.
        self.ping(&conn);
        let mut ping = tokio::time::interval_at(
            Instant::now() + self.config.ping_interval,
            self.config.ping_interval,
        );
        loop {
            tokio::select! {
                () = shutdown.as_mut() => return ConnEnd::Shutdown,
                _ = ping.tick() => {
                    if let Some((nonce, at)) = self.pending_ping {
                        if at.elapsed() > self.config.ping_interval * 3 {
                            return ConnEnd::Lost(format!("no pong for ping {nonce} in {:?}", at.elapsed()));
                        }
                    } else {
                        self.ping(&conn);
                    }
                }
                cmd = self.cmd_rx.recv() => match cmd {
                    Some(c) => if let Some(why) = self.apply_online(c, &conn) { return ConnEnd::Lost(why) },
                    None => return ConnEnd::Shutdown,
                },
                msg = conn.receiver.recv() => match msg {
                    Some(Ok(m)) => {
                        if self.on_event(m) {
                            // Refresh the known state after a change.
                            let _ = conn.sender.send(ControlMsg::SnapshotRequest);
                        }
                    }
                    Some(Err(e)) => return ConnEnd::Lost(e.to_string()),
                    None => return ConnEnd::Lost("mediad closed the connection".into()),
                },
            }
        }
    }

    fn ping(&mut self, conn: &Connection<ControlMsg, MediadMsg>) {
        let nonce = self.next_nonce;
        self.next_nonce += 1;
        if conn.sender.send(ControlMsg::Ping { nonce }).is_ok() {
            self.pending_ping = Some((nonce, Instant::now()));
        }
    }

    /// Handles one message from mediad; returns whether the known state
    /// should be refreshed with a snapshot.
    fn on_event(&mut self, m: MediadMsg) -> bool {
        let refresh = matches!(m, MediadMsg::TransportState(_));
        match &m {
            MediadMsg::Pong { nonce } => {
                if let Some((expected, at)) = self.pending_ping
                    && *nonce == expected
                {
                    let rtt = at.elapsed().as_secs_f64() * 1000.0;
                    self.pending_ping = None;
                    self.status_tx.send_modify(|s| s.rtt_ms = Some(rtt));
                    tracing::debug!(rtt_ms = rtt, "mediad pong");
                }
            }
            MediadMsg::Snapshot(s) => self.known = Some(MediadView::from_snapshot(s)),
            MediadMsg::TransportState(t) => {
                tracing::info!(role = %t.role, status = t.status.as_str(), reason = ?t.reason, "mediad transport state");
            }
            MediadMsg::Error(e) => {
                tracing::warn!(code = ?e.code, message = %e.message, "mediad reported an error")
            }
            _ => {}
        }
        // Nobody listening is fine.
        let _ = self.events.send(Arc::new(m));
        refresh
    }

    /// Updates the desired state; returns the command to send, if any.
    fn update_desired(&mut self, c: MediaCommand) -> Option<ControlMsg> {
        self.desired.initialized = true;
        match c {
            MediaCommand::SetVoice(v, reason) => {
                let old = self.desired.voice.take();
                self.desired.voice = v.clone().map(VoiceConnectView);
                match (v, old) {
                    (Some(v), _) => Some(ControlMsg::VoiceConnect(v)),
                    (None, Some(_)) => Some(disconnect_msg(TransportRole::Voice, &reason)),
                    (None, None) => None,
                }
            }
            MediaCommand::SetStream(role, s, reason) => {
                let slot = match role {
                    TransportRole::StreamPublish => &mut self.desired.stream_publish,
                    _ => &mut self.desired.stream_watch,
                };
                let old = slot.take();
                *slot = s.clone().map(StreamConnectView);
                match (s, old) {
                    (Some(s), _) => Some(connect_msg(role, TransportParams::Stream(s))),
                    (None, Some(_)) => Some(disconnect_msg(role, &reason)),
                    (None, None) => None,
                }
            }
            MediaCommand::Subscribe(s) => {
                self.desired.subscriptions.insert(s.user_id, s.clone());
                Some(ControlMsg::SubscribeUserVideo(s))
            }
            MediaCommand::Unsubscribe(u) => self
                .desired
                .subscriptions
                .remove(&u)
                .map(|_| ControlMsg::UnsubscribeUserVideo { user_id: u }),
            MediaCommand::PublishFrame(f) => Some(ControlMsg::StreamPublishFrame(f)),
            MediaCommand::Voice(msg) => Some(msg),
            MediaCommand::View(reply) => {
                let _ = reply.send(self.view());
                None
            }
        }
    }

    fn apply_offline(&mut self, c: MediaCommand) {
        if let MediaCommand::View(reply) = c {
            let _ = reply.send(self.view());
            return;
        }
        // Recorded in the desired state; replayed on the next connection.
        // (A publish frame is perishable and is simply dropped.)
        let _ = self.update_desired(c);
    }

    fn apply_online(
        &mut self,
        c: MediaCommand,
        conn: &Connection<ControlMsg, MediadMsg>,
    ) -> Option<String> {
        let msg = self.update_desired(c)?;
        let changes_state = !matches!(
            msg,
            ControlMsg::StreamPublishFrame(_)
                | ControlMsg::VoicePlay(_)
                | ControlMsg::VoiceCancel { .. }
        );
        if let Err(e) = conn.sender.send(msg) {
            return Some(format!("cannot send to mediad: {e}"));
        }
        if changes_state {
            let _ = conn.sender.send(ControlMsg::SnapshotRequest);
        }
        None
    }

    fn view(&self) -> MediaView {
        MediaView {
            desired: self.desired.clone(),
            desired_subscriptions: self
                .desired
                .subscriptions
                .values()
                .map(SubscriptionView::from)
                .collect(),
            mediad: self.known.clone(),
            conn: self.status_tx.borrow().clone(),
        }
    }
}

//! The main-gateway task: a thin tokio shell around
//! `gateway_session::GatewaySession` (the sans-IO core). It owns the
//! WebSocket and the timers; everything else talks to it through a
//! [`GatewayHandle`]: commands in, [`GatewayEvent`]s out (broadcast).

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Instant;

use futures_util::SinkExt;
use gateway_proto::{ClientCommand, Dispatch, Ready};
use gateway_session::{Event, GatewaySession, Input, SessionConfig, Transmit};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use gateway_session::Account;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Settings of the gateway task.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Gateway URL (Discord's or discord-sim's).
    pub url: String,
    /// Who to identify as.
    pub account: Account,
    /// User accounts: the Identify `client_build_number` (`None`: the
    /// session's default, `gateway_proto::DEFAULT_CLIENT_BUILD_NUMBER`).
    pub client_build_number: Option<u64>,
    /// TLS for `wss://` (the daemon's one client configuration).
    pub tls: tls_client::TlsClient,
    /// On a graceful stop, end the Discord session (close 1000: the
    /// account leaves voice). Off by default: the socket closes with 4000,
    /// the session and our voice state stay, and a restarted control takes
    /// its watches up again (issue 16 §1).
    pub logout_on_stop: bool,
}

/// What the gateway task reports.
#[derive(Clone, Debug)]
pub enum GatewayEvent {
    /// A new session (READY).
    Ready(Arc<Ready>),
    /// The session resumed; missed dispatches follow.
    Resumed,
    /// A dispatch.
    Dispatch(Arc<Dispatch>),
    /// The connection dropped; the session retries by itself.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// Stopped for good (bad token, ...).
    Fatal {
        /// Why.
        reason: String,
    },
}

/// Connection state for `/healthz` and the dashboard.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct GatewayStatus {
    /// READY or RESUMED received on the current connection.
    pub connected: bool,
    /// Own user id once READY arrived (a decimal string in JSON).
    #[schema(value_type = Option<String>)]
    pub user_id: Option<ipc_schema::UserId>,
    /// Last problem, if any.
    pub last_error: Option<String>,
    /// The session stopped for good.
    pub fatal: bool,
}

/// Talks to the gateway task.
#[derive(Clone)]
pub struct GatewayHandle {
    commands: mpsc::Sender<ClientCommand>,
    events: broadcast::Sender<GatewayEvent>,
    status: watch::Receiver<GatewayStatus>,
}

impl GatewayHandle {
    /// Queues a command (op 4, 18, 19, 20, 22, ...). The core keeps it
    /// while disconnected and sends it under the rate limit.
    pub async fn send(&self, cmd: ClientCommand) -> bool {
        self.commands.send(cmd).await.is_ok()
    }

    /// Subscribes to events from now on.
    pub fn events(&self) -> broadcast::Receiver<GatewayEvent> {
        self.events.subscribe()
    }

    /// The current status.
    pub fn status(&self) -> GatewayStatus {
        self.status.borrow().clone()
    }
}

fn jitter() -> f64 {
    let v = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    (v % 1_000_000) as f64 / 1_000_000.0
}

/// The gateway task, built but not connecting yet: start it once every
/// consumer has subscribed to [`GatewayHandle::events`], so none misses
/// READY (a broadcast channel does not replay).
pub struct GatewayStarter {
    task: Task,
}

impl GatewayStarter {
    /// Connects; the task (named `gateway` in `tasks`) runs until the
    /// daemon stops.
    pub fn start(self, tasks: &mut crate::tasks::Tasks) {
        let shutdown = tasks.stopped();
        tasks.spawn("gateway", self.task.run(shutdown));
    }
}

/// Builds the gateway task and its handle; see [`GatewayStarter`].
pub fn spawn_gateway(config: GatewayConfig) -> (GatewayHandle, GatewayStarter) {
    let (cmd_tx, cmd_rx) = mpsc::channel(64);
    let (events, _) = broadcast::channel(1024);
    let (status_tx, status_rx) = watch::channel(GatewayStatus::default());
    let mut session_config = SessionConfig::new(config.url.clone(), config.account.clone());
    session_config.jitter = jitter();
    if let Some(build) = config.client_build_number {
        session_config.client_build_number = build;
    }
    let task = Task {
        tls: config.tls.clone(),
        logout_on_stop: config.logout_on_stop,
        session: GatewaySession::new(session_config, Instant::now()),
        ws: None,
        connecting: None,
        commands: cmd_rx,
        events: events.clone(),
        status: status_tx,
    };
    let handle = GatewayHandle {
        commands: cmd_tx,
        events,
        status: status_rx,
    };
    (handle, GatewayStarter { task })
}

struct Task {
    tls: tls_client::TlsClient,
    logout_on_stop: bool,
    session: GatewaySession,
    ws: Option<Ws>,
    connecting: Option<JoinHandle<Result<Ws, String>>>,
    commands: mpsc::Receiver<ClientCommand>,
    events: broadcast::Sender<GatewayEvent>,
    status: watch::Sender<GatewayStatus>,
}

impl Task {
    async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            self.drive().await;
            let deadline = self.session.poll_timeout();
            tokio::select! {
                () = &mut shutdown => break,
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => {
                        let kind = format!("{:?}", cmd.opcode());
                        if let Err(e) = self.session.send(cmd, Instant::now()) {
                            tracing::warn!(command = %kind, error = %e, "gateway command refused");
                        }
                    }
                    None => break,
                },
                r = daemon_support::join_pending(&mut self.connecting) => match r {
                    Ok(ws) => {
                        self.ws = Some(ws);
                        self.session.handle_input(Instant::now(), Input::Connected);
                    }
                    Err(reason) => self.session.handle_input(Instant::now(), Input::ConnectFailed { reason }),
                },
                msg = daemon_support::next_or_pending(&mut self.ws) => self.on_ws(msg),
                () = daemon_support::sleep_until(deadline) => self.session.handle_timeout(Instant::now()),
            }
        }
        if let Some(mut ws) = self.ws.take() {
            // 1000 is a deliberate logout: it ends the session and with it
            // our voice state. Any other code keeps both, so a restarted
            // control finds the agent still in voice (issue 16 §1).
            let (code, reason) = if self.logout_on_stop {
                (1000u16, "")
            } else {
                (4000u16, "restarting")
            };
            tracing::info!(
                code,
                logout = self.logout_on_stop,
                "closing the gateway connection"
            );
            let _ = tokio::time::timeout(
                std::time::Duration::from_millis(500),
                ws.close(Some(CloseFrame {
                    code: code.into(),
                    reason: reason.into(),
                })),
            )
            .await;
        }
        tracing::info!("gateway task stopped");
    }

    fn on_ws(&mut self, msg: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>) {
        let now = Instant::now();
        match msg {
            Some(Ok(Message::Text(t))) => self.session.handle_input(now, Input::Text(t.as_str())),
            Some(Ok(Message::Close(f))) => {
                self.ws = None;
                let code = f.map(|f| u16::from(f.code));
                self.session.handle_input(now, Input::Closed { code });
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                tracing::debug!(error = %e, "gateway websocket error");
                self.ws = None;
                self.session.handle_input(now, Input::Closed { code: None });
            }
            None => {
                self.ws = None;
                self.session.handle_input(now, Input::Closed { code: None });
            }
        }
    }

    async fn drive(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(t) = self.session.poll_transmit() {
                progressed = true;
                self.transmit(t).await;
            }
            while let Some(e) = self.session.poll_event() {
                progressed = true;
                self.on_event(e);
            }
            if !progressed {
                break;
            }
        }
    }

    async fn transmit(&mut self, t: Transmit) {
        match t {
            Transmit::Connect { url } => {
                self.ws = None;
                if let Some(old) = self.connecting.take() {
                    old.abort();
                }
                let tls = self.tls.clone();
                self.connecting = Some(tokio::spawn(async move {
                    tls.connect_ws(&url, std::time::Duration::from_secs(10))
                        .await
                        .map_err(|e| e.to_string())
                }));
            }
            Transmit::Text(text) => {
                if let Some(ws) = &mut self.ws
                    && let Err(e) = ws.send(Message::text(text)).await
                {
                    tracing::debug!(error = %e, "gateway send failed");
                    self.ws = None;
                    self.session
                        .handle_input(Instant::now(), Input::Closed { code: None });
                }
            }
            Transmit::Close { code } => {
                if let Some(mut ws) = self.ws.take() {
                    let frame = CloseFrame {
                        code: code.into(),
                        reason: "".into(),
                    };
                    let _ = tokio::time::timeout(
                        std::time::Duration::from_millis(500),
                        ws.close(Some(frame)),
                    )
                    .await;
                }
            }
        }
    }

    fn on_event(&mut self, e: Event) {
        let out = match e {
            Event::Ready(r) => {
                tracing::info!(
                    user_id = r.user.id.0,
                    guilds = r.guilds.len(),
                    "gateway ready"
                );
                self.status.send_modify(|s| {
                    s.connected = true;
                    s.user_id = Some(r.user.id);
                    s.last_error = None;
                });
                GatewayEvent::Ready(Arc::from(r))
            }
            Event::Resumed => {
                tracing::info!("gateway resumed");
                self.status.send_modify(|s| s.connected = true);
                GatewayEvent::Resumed
            }
            Event::Dispatch(d) => GatewayEvent::Dispatch(Arc::from(d)),
            Event::Disconnected {
                code,
                reason,
                resume,
                retry_in,
            } => {
                tracing::info!(?code, %reason, resume, ?retry_in, "gateway disconnected");
                self.status.send_modify(|s| {
                    s.connected = false;
                    s.last_error = Some(reason.clone());
                });
                GatewayEvent::Disconnected { reason }
            }
            Event::Unparsed { error } => {
                tracing::debug!(%error, "gateway frame not understood");
                return;
            }
            Event::Fatal { reason } => {
                tracing::error!(%reason, "gateway session stopped for good");
                self.status.send_modify(|s| {
                    s.connected = false;
                    s.fatal = true;
                    s.last_error = Some(reason.clone());
                });
                GatewayEvent::Fatal { reason }
            }
        };
        let _ = self.events.send(out);
    }
}

//! A sans-IO client session for Discord's main gateway.
//!
//! [`GatewaySession`] owns no socket and reads no clock. The shell (a tokio
//! task in `control`) drives it:
//!
//! 1. feed what happened: [`GatewaySession::handle_input`] with
//!    [`Input::Connected`], [`Input::Text`], [`Input::Closed`] or
//!    [`Input::ConnectFailed`], and [`GatewaySession::handle_timeout`] when
//!    the deadline from [`GatewaySession::poll_timeout`] passes;
//! 2. after every call, drain [`GatewaySession::poll_transmit`] (open a
//!    WebSocket, send a text frame, close) and
//!    [`GatewaySession::poll_event`] (READY, dispatches, disconnects).
//!
//! It identifies as a user account or a bot, heartbeats on the HELLO
//! interval (first beat after `interval × jitter`, jitter injected by the
//! caller), treats a missing heartbeat ACK as a zombie connection, resumes
//! after drops, RECONNECT and resumable INVALID_SESSION, identifies afresh
//! when the session cannot be resumed, backs off exponentially between
//! failed attempts, stops for good on close codes that say so (bad token),
//! and keeps outgoing commands under Discord's send rate limit, queueing
//! them while disconnected.

mod backoff;
mod rate;

use backoff::Backoff;
use gateway_proto::{
    BotIdentify, ClientCommand, ConnectionProperties, Dispatch, GatewayCloseCode, Identify,
    Intents, Presence, Ready, Resume, Secret, ServerMessage, USER_CAPABILITIES, UserIdentify,
};
use rate::SendWindow;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How the session identifies. The token is a [`Secret`]: `Debug` prints
/// it redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Account {
    /// A user account (the path that can watch Go Live).
    User {
        /// The user token.
        token: Secret,
    },
    /// A bot account.
    Bot {
        /// The bot token (without the `Bot ` prefix).
        token: Secret,
        /// Gateway intents.
        intents: Intents,
    },
}

impl Account {
    fn token(&self) -> &Secret {
        match self {
            Account::User { token } | Account::Bot { token, .. } => token,
        }
    }
    /// Whether this is a bot account.
    pub fn is_bot(&self) -> bool {
        matches!(self, Account::Bot { .. })
    }
}

/// Session settings.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Gateway URL (`wss://gateway.discord.gg` or discord-sim's); the
    /// version and encoding query is added when absent.
    pub gateway_url: String,
    /// Who to identify as.
    pub account: Account,
    /// A number in [0, 1) from the caller's randomness: scales the first
    /// heartbeat and the invalid-session wait, as Discord asks.
    pub jitter: f64,
    /// Delays between failed connection attempts.
    pub backoff: Backoff,
    /// How long to wait for HELLO after connecting.
    pub hello_timeout: Duration,
    /// How long to wait for READY after IDENTIFY before closing and
    /// identifying again ([`DEFAULT_READY_TIMEOUT`]).
    pub ready_timeout: Duration,
    /// User accounts: `client_build_number` in the Identify properties
    /// ([`gateway_proto::DEFAULT_CLIENT_BUILD_NUMBER`] unless the operator
    /// sets a current one).
    pub client_build_number: u64,
    /// Commands allowed per window (Discord: 120 per 60 s; a few are kept
    /// back for heartbeats).
    pub commands_per_window: u32,
    /// The rate-limit window.
    pub window: Duration,
    /// Commands kept while disconnected; more are refused.
    pub queue_limit: usize,
}

impl SessionConfig {
    /// Defaults for `account` at `gateway_url`.
    pub fn new(gateway_url: impl Into<String>, account: Account) -> Self {
        Self {
            gateway_url: gateway_url.into(),
            account,
            jitter: 0.5,
            backoff: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(60),
            },
            hello_timeout: Duration::from_secs(20),
            ready_timeout: DEFAULT_READY_TIMEOUT,
            client_build_number: gateway_proto::DEFAULT_CLIENT_BUILD_NUMBER,
            commands_per_window: 110,
            window: Duration::from_secs(60),
            queue_limit: 256,
        }
    }
}

/// How long IDENTIFY may go unanswered by READY (issue 15 item 10).
///
/// Decision: 30 s, then close with 4000 and identify again on a fresh
/// connection (with the usual backoff). Discord documents no READY
/// deadline; what it does document is that a valid Identify is answered
/// with READY and an over-limit one with op 9 Invalid Session
/// (discord-userdoccers `pages/gateway/using-gateway.mdx`, "Identifying":
/// "After your client sends a valid identify payload, the Gateway will
/// respond with a Ready event"; "If your client exceeds this limit, the
/// Gateway will respond with an Opcode 9 Invalid Session"). So silence
/// after IDENTIFY is a stuck connection, not a slow answer. Heartbeat ACKs
/// keep coming on such a connection, so zombie detection alone would wait
/// forever. 30 s is longer than the HELLO wait (20 s) because READY of a
/// user account in many guilds is a large payload, and shorter than one
/// default heartbeat interval (41.25 s), so a stuck identify costs less
/// than a missed heartbeat would.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// What happened on the socket.
#[derive(Debug)]
pub enum Input<'a> {
    /// The WebSocket requested by [`Transmit::Connect`] is open.
    Connected,
    /// It could not be opened.
    ConnectFailed {
        /// Why, for logs.
        reason: String,
    },
    /// A text frame arrived.
    Text(&'a str),
    /// The WebSocket closed (`None`: no close frame, an abnormal drop).
    Closed {
        /// Close code.
        code: Option<u16>,
    },
}

/// Something the shell must do on the socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// Open a WebSocket to this URL (closing any previous one).
    Connect {
        /// The URL.
        url: String,
    },
    /// Send a text frame.
    Text(String),
    /// Close the WebSocket with this code (4000: keep the session
    /// resumable; 1000 would invalidate it).
    Close {
        /// Close code.
        code: u16,
    },
}

/// Something the application learns.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Identified; the session is new.
    Ready(Box<Ready>),
    /// Resumed; missed dispatches follow as [`Event::Dispatch`].
    Resumed,
    /// A dispatch (everything but READY and RESUMED).
    Dispatch(Box<Dispatch>),
    /// The connection ended; the session retries by itself.
    Disconnected {
        /// The close code, if any.
        code: Option<u16>,
        /// Why, in words.
        reason: String,
        /// Whether the next attempt resumes (else identifies afresh).
        resume: bool,
        /// When the next attempt starts.
        retry_in: Duration,
    },
    /// A frame that could not be understood (the session carries on).
    Unparsed {
        /// The parser's message.
        error: String,
    },
    /// The session stopped for good (e.g. authentication failed).
    Fatal {
        /// Why.
        reason: String,
    },
}

/// Where the session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Waiting to (re)connect.
    Waiting,
    /// Connect requested.
    Connecting,
    /// Connected, waiting for HELLO.
    AwaitingHello,
    /// IDENTIFY sent, waiting for READY.
    Identifying,
    /// RESUME sent, waiting for RESUMED.
    Resuming,
    /// READY or RESUMED received.
    Running,
    /// Stopped for good.
    Stopped,
}

/// Errors from [`GatewaySession::send`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Too many commands are waiting.
    #[error("{0} commands already queued")]
    QueueFull(usize),
    /// The session has stopped for good.
    #[error("the gateway session has stopped: {0}")]
    Stopped(String),
}

impl SessionError {
    /// Whether trying later may work.
    pub fn is_transient(&self) -> bool {
        matches!(self, SessionError::QueueFull(_))
    }
}

/// Resume state of an identified session.
#[derive(Clone, Debug)]
struct Resumable {
    session_id: Secret,
    resume_url: Option<String>,
}

/// The main-gateway client session.
#[derive(Debug)]
pub struct GatewaySession {
    config: SessionConfig,
    phase: Phase,
    resumable: Option<Resumable>,
    /// Last dispatch sequence number seen.
    seq: Option<u64>,
    /// Failed attempts since the last READY/RESUMED.
    attempts: u32,
    reconnect_at: Option<Instant>,
    hello_deadline: Option<Instant>,
    /// READY must arrive by then (set when IDENTIFY is sent).
    ready_deadline: Option<Instant>,
    heartbeat_interval: Option<Duration>,
    next_heartbeat: Option<Instant>,
    awaiting_ack: bool,
    queue: VecDeque<ClientCommand>,
    /// A session reached READY (or RESUMED) on this client before.
    had_session: bool,
    window: SendWindow,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    stop_reason: Option<String>,
}

/// Adds `?v=10&encoding=json` unless a query is present. A bare host
/// (`wss://gateway.discord.gg`) gets the root path; a URL with a path
/// (discord-sim's `ws://127.0.0.1:P/gateway`) keeps it as is.
fn with_query(url: &str) -> String {
    if url.contains('?') {
        return url.to_string();
    }
    let has_path = url
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/').contains('/'));
    if has_path {
        format!("{}?v=10&encoding=json", url.trim_end_matches('/'))
    } else {
        format!("{}/?v=10&encoding=json", url.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod url_tests {
    use super::with_query;

    #[test]
    fn query_is_added_without_breaking_paths() {
        assert_eq!(
            with_query("wss://gateway.discord.gg"),
            "wss://gateway.discord.gg/?v=10&encoding=json"
        );
        assert_eq!(
            with_query("wss://gateway.discord.gg/"),
            "wss://gateway.discord.gg/?v=10&encoding=json"
        );
        assert_eq!(
            with_query("ws://127.0.0.1:1/gateway"),
            "ws://127.0.0.1:1/gateway?v=10&encoding=json"
        );
        assert_eq!(with_query("ws://h/x?v=9"), "ws://h/x?v=9");
    }
}

impl GatewaySession {
    /// A session that connects right away.
    pub fn new(config: SessionConfig, now: Instant) -> Self {
        let window = SendWindow::new(config.window, config.commands_per_window);
        let mut s = Self {
            config,
            phase: Phase::Waiting,
            resumable: None,
            seq: None,
            attempts: 0,
            reconnect_at: Some(now),
            hello_deadline: None,
            ready_deadline: None,
            heartbeat_interval: None,
            next_heartbeat: None,
            awaiting_ack: false,
            queue: VecDeque::new(),
            had_session: false,
            window,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stop_reason: None,
        };
        s.handle_timeout(now);
        s
    }

    /// Current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The last dispatch sequence number.
    pub fn seq(&self) -> Option<u64> {
        self.seq
    }

    /// Whether a session id is held (the next connection resumes).
    pub fn can_resume(&self) -> bool {
        self.resumable.is_some()
    }

    /// Queues a command; it is sent when connected and the rate limit
    /// allows, in order.
    pub fn send(&mut self, cmd: ClientCommand, now: Instant) -> Result<(), SessionError> {
        if let Some(r) = &self.stop_reason {
            return Err(SessionError::Stopped(r.clone()));
        }
        if self.queue.len() >= self.config.queue_limit {
            return Err(SessionError::QueueFull(self.queue.len()));
        }
        self.queue.push_back(cmd);
        self.flush_queue(now);
        Ok(())
    }

    /// Next thing to do on the socket.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Next thing the application should know.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`GatewaySession::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let queue_wait = (!self.queue.is_empty() && self.phase == Phase::Running)
            .then(|| self.window.next_free());
        [
            self.reconnect_at,
            self.hello_deadline,
            self.ready_deadline,
            self.next_heartbeat,
            queue_wait.flatten(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Feeds one socket event.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        if self.phase == Phase::Stopped {
            return;
        }
        match input {
            Input::Connected => {
                if self.phase == Phase::Connecting {
                    self.phase = Phase::AwaitingHello;
                    self.hello_deadline = Some(now + self.config.hello_timeout);
                }
            }
            Input::ConnectFailed { reason } => {
                if self.phase == Phase::Connecting {
                    self.drop_connection(now, None, format!("connect failed: {reason}"), true);
                }
            }
            Input::Closed { code } => self.on_closed(now, code),
            Input::Text(text) => self.on_text(now, text),
        }
    }

    /// Handles every deadline that has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase == Phase::Stopped {
            return;
        }
        if self.reconnect_at.is_some_and(|t| t <= now) {
            self.reconnect_at = None;
            self.connect();
        }
        if self.hello_deadline.is_some_and(|t| t <= now) {
            self.hello_deadline = None;
            self.transmits.push_back(Transmit::Close { code: 4000 });
            self.drop_connection(now, None, "no HELLO from the gateway".into(), true);
        }
        if self.ready_deadline.is_some_and(|t| t <= now) {
            self.ready_deadline = None;
            self.transmits.push_back(Transmit::Close { code: 4000 });
            self.drop_connection(now, None, "no READY after IDENTIFY".into(), true);
        }
        if self.next_heartbeat.is_some_and(|t| t <= now) {
            if self.awaiting_ack {
                // Zombie connection: close without invalidating the session.
                self.transmits.push_back(Transmit::Close { code: 4000 });
                self.drop_connection(now, None, "no heartbeat ACK".into(), false);
            } else {
                self.heartbeat();
                self.awaiting_ack = true;
                self.next_heartbeat = self.heartbeat_interval.map(|i| now + i);
            }
        }
        self.flush_queue(now);
    }

    fn connect(&mut self) {
        let url = match &self.resumable {
            Some(Resumable {
                resume_url: Some(u),
                ..
            }) => with_query(u),
            _ => with_query(&self.config.gateway_url),
        };
        self.phase = Phase::Connecting;
        self.transmits.push_back(Transmit::Connect { url });
    }

    fn heartbeat(&mut self) {
        self.transmits
            .push_back(Transmit::Text(ClientCommand::Heartbeat(self.seq).to_text()));
    }

    fn identify_payload(&self) -> Identify {
        match &self.config.account {
            // Issue 15 item 13: the complete web-client property set and
            // capabilities (decisions and sources at
            // `ConnectionProperties::user_client` and `USER_CAPABILITIES`),
            // and `client_state` as userdoccers' example Identify sends it.
            Account::User { token } => Identify::User(UserIdentify {
                token: token.clone(),
                capabilities: USER_CAPABILITIES,
                properties: ConnectionProperties::user_client(self.config.client_build_number),
                presence: Some(Presence::user_default()),
                compress: Some(false),
                client_state: Some(serde_json::json!({ "guild_versions": {} })),
            }),
            // Bots: `os`, `browser` and `device` (the library name), as
            // discord-api-docs' Identify Connection Properties describe.
            Account::Bot { token, intents } => Identify::Bot(BotIdentify {
                token: token.clone(),
                properties: ConnectionProperties {
                    os: std::env::consts::OS.to_string(),
                    browser: "screenwatch".into(),
                    device: "screenwatch".into(),
                    ..Default::default()
                },
                intents: *intents,
                shard: None,
                presence: None,
                compress: Some(false),
                large_threshold: None,
            }),
        }
    }

    fn on_text(&mut self, now: Instant, text: &str) {
        let msg = match ServerMessage::from_text(text) {
            Ok(m) => m,
            Err(e) => {
                // Keep acknowledging sequence numbers even of events we
                // cannot read, so a resume does not replay them forever.
                if let Some(s) = e.seq() {
                    self.seq = Some(s);
                }
                self.events.push_back(Event::Unparsed {
                    error: e.to_string(),
                });
                return;
            }
        };
        match msg {
            ServerMessage::Hello(hello) => {
                if self.phase != Phase::AwaitingHello {
                    return;
                }
                self.hello_deadline = None;
                let interval = hello.interval().max(Duration::from_millis(100));
                self.heartbeat_interval = Some(interval);
                self.awaiting_ack = false;
                self.next_heartbeat =
                    Some(now + interval.mul_f64(self.config.jitter.clamp(0.0, 1.0)));
                let token = self.config.account.token().clone();
                let cmd = match &self.resumable {
                    Some(r) => {
                        self.phase = Phase::Resuming;
                        ClientCommand::Resume(Resume {
                            token,
                            session_id: r.session_id.clone(),
                            seq: self.seq,
                        })
                    }
                    None => {
                        self.phase = Phase::Identifying;
                        self.ready_deadline = Some(now + self.config.ready_timeout);
                        // A fresh session: commands queued for the one that
                        // ended (op 4, op 20 sent while it was down) are
                        // stale; the new session starts from nothing and the
                        // application re-sends what it still wants after
                        // READY. Sent first, a stale op 20 would be answered
                        // with STREAM_DELETE (not in voice yet), ending the
                        // watch it meant to keep. A resume keeps the queue.
                        if self.had_session {
                            self.queue.clear();
                        }
                        ClientCommand::Identify(Box::new(self.identify_payload()))
                    }
                };
                self.window.record(now);
                self.transmits.push_back(Transmit::Text(cmd.to_text()));
            }
            ServerMessage::HeartbeatAck => self.awaiting_ack = false,
            ServerMessage::HeartbeatRequest => self.heartbeat(),
            ServerMessage::Reconnect => {
                self.transmits.push_back(Transmit::Close { code: 4000 });
                self.attempts = 0;
                self.drop_connection(now, None, "gateway asked to reconnect".into(), false);
            }
            ServerMessage::InvalidSession { resumable } => {
                if !resumable {
                    self.resumable = None;
                    self.seq = None;
                }
                self.transmits.push_back(Transmit::Close { code: 4000 });
                // Discord asks for a random 1-5 s wait before retrying.
                let wait = Duration::from_secs_f64(1.0 + 4.0 * self.config.jitter.clamp(0.0, 1.0));
                self.schedule(now, None, "invalid session".into(), wait);
            }
            ServerMessage::Dispatch { seq, event } => {
                if let Some(s) = seq {
                    self.seq = Some(s);
                }
                match event {
                    Dispatch::Ready(ready) => {
                        self.resumable = Some(Resumable {
                            session_id: ready.session_id.clone(),
                            resume_url: ready.resume_gateway_url.clone(),
                        });
                        self.running(now);
                        self.events.push_back(Event::Ready(Box::new(ready)));
                    }
                    Dispatch::Resumed => {
                        self.running(now);
                        self.events.push_back(Event::Resumed);
                    }
                    other => self.events.push_back(Event::Dispatch(Box::new(other))),
                }
            }
            // Opcodes this client does not use.
            _ => {}
        }
    }

    fn running(&mut self, now: Instant) {
        self.had_session = true;
        self.phase = Phase::Running;
        self.ready_deadline = None;
        self.attempts = 0;
        self.flush_queue(now);
    }

    fn on_closed(&mut self, now: Instant, code: Option<u16>) {
        if matches!(self.phase, Phase::Waiting) {
            return; // a close we asked for; already handled
        }
        let Some(code) = code else {
            self.drop_connection(now, None, "connection dropped".into(), false);
            return;
        };
        let close = GatewayCloseCode::from_u16(code);
        if !close.should_reconnect() {
            let reason = format!("gateway closed the session: {}", close.reason_str());
            self.phase = Phase::Stopped;
            self.stop_reason = Some(reason.clone());
            self.reconnect_at = None;
            self.next_heartbeat = None;
            self.hello_deadline = None;
            self.ready_deadline = None;
            self.events.push_back(Event::Fatal { reason });
            return;
        }
        if !close.can_resume() {
            self.resumable = None;
            self.seq = None;
        }
        self.drop_connection(now, Some(code), close.reason_str().into_owned(), true);
    }

    /// Ends the current connection and schedules the next attempt.
    fn drop_connection(&mut self, now: Instant, code: Option<u16>, reason: String, failed: bool) {
        let delay = if failed {
            let d = self.config.backoff.delay(self.attempts);
            self.attempts = self.attempts.saturating_add(1);
            d
        } else {
            Duration::ZERO
        };
        self.schedule(now, code, reason, delay);
    }

    fn schedule(&mut self, now: Instant, code: Option<u16>, reason: String, delay: Duration) {
        self.phase = Phase::Waiting;
        self.hello_deadline = None;
        self.ready_deadline = None;
        self.next_heartbeat = None;
        self.awaiting_ack = false;
        self.reconnect_at = Some(now + delay);
        self.events.push_back(Event::Disconnected {
            code,
            reason,
            resume: self.resumable.is_some(),
            retry_in: delay,
        });
    }

    fn flush_queue(&mut self, now: Instant) {
        if self.phase != Phase::Running {
            return;
        }
        while !self.queue.is_empty() && self.window.try_take(now) {
            if let Some(cmd) = self.queue.pop_front() {
                self.transmits.push_back(Transmit::Text(cmd.to_text()));
            }
        }
    }
}

pub use backoff::Backoff as RetryBackoff;

#[cfg(test)]
mod tests;

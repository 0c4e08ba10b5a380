//! The main gateway WebSocket: the HTTP upgrade (done by hand on hyper's
//! upgrade so the lockfile keeps one tungstenite — axum's `ws` feature
//! pins another version) and one task per connection.
//!
//! Connection rules (Discord's): HELLO first; a heartbeat is due every
//! interval and the connection closes with 4009 when none arrives within
//! 1.5 intervals; more than `gateway_rate_limit` frames in 60 s → 4008;
//! undecodable frames → 4002; server-only/unknown opcodes → 4001; commands
//! before Identify → 4003; a second Identify → 4005; unknown token → 4004.
//! Ops 3 and 8 are accepted and ignored. A client close with 1000/1001
//! invalidates the session; any other drop keeps it resumable.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt as _, StreamExt as _};
use gateway_proto::{ClientCommand, Hello, Secret, ServerMessage};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::error::SimError;
use crate::hub::{ConnLink, Hub, Outgoing};
use crate::server::AppState;

/// Largest accepted frame: Discord's limit is 4096 bytes for most
/// payloads; 1 MiB keeps garbage cheap without refusing real clients.
const MAX_FRAME: usize = 1 << 20;

fn header_has(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// `GET /gateway?v=10&encoding=json`: the WebSocket upgrade.
pub(crate) async fn upgrade(State(app): State<AppState>, mut req: Request) -> Response {
    let headers = req.headers();
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .map(|k| derive_accept_key(k.as_bytes()));
    let is_ws = header_has(headers, header::UPGRADE, "websocket")
        && header_has(headers, header::CONNECTION, "upgrade");
    let (Some(accept), true) = (key, is_ws) else {
        return (StatusCode::BAD_REQUEST, "the gateway speaks WebSocket only").into_response();
    };
    if req
        .uri()
        .query()
        .is_some_and(|q| q.contains("encoding=etf"))
    {
        return (StatusCode::BAD_REQUEST, "only encoding=json is simulated").into_response();
    }
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let config = WebSocketConfig::default()
                    .max_message_size(Some(MAX_FRAME))
                    .max_frame_size(Some(MAX_FRAME));
                let ws = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                run_connection(app.hub, ws).await;
            }
            Err(e) => tracing::warn!(error = %e, "gateway upgrade failed"),
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .body(axum::body::Body::empty())
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Per-connection state.
struct Conn {
    hub: Arc<Hub>,
    link: ConnLink,
    session: Option<Secret>,
    interval: Duration,
    deadline: tokio::time::Instant,
    /// Receive times within the last 60 s (rate limit).
    recent: VecDeque<tokio::time::Instant>,
    rate_limit: usize,
}

/// What to do after a frame.
enum Flow {
    Continue,
    Close(u16, &'static str),
}

/// Serves one gateway connection until it closes.
pub(crate) async fn run_connection<S>(hub: Arc<Hub>, mut ws: WebSocketStream<S>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (interval_ms, rate_limit) = {
        let st = hub.lock();
        (
            st.settings.heartbeat_interval_ms.max(1),
            st.settings.gateway_rate_limit,
        )
    };
    let interval = Duration::from_millis(interval_ms);
    let mut shutdown = hub.shutdown.subscribe();
    let mut c = Conn {
        link: ConnLink {
            id: hub.new_conn_id(),
            tx,
        },
        hub,
        session: None,
        interval,
        deadline: tokio::time::Instant::now() + interval + interval / 2,
        recent: VecDeque::new(),
        rate_limit: usize::try_from(rate_limit).unwrap_or(usize::MAX),
    };
    let hello = ServerMessage::Hello(Hello {
        heartbeat_interval: interval_ms,
    })
    .to_text();
    if ws.send(Message::text(hello)).await.is_err() {
        return;
    }
    let mut invalidate = false;
    let close: Option<(u16, String)> = loop {
        tokio::select! {
            incoming = ws.next() => match incoming {
                None | Some(Err(_)) => break None,
                Some(Ok(Message::Text(text))) => match c.handle_text(text.as_str()) {
                    Flow::Continue => {}
                    Flow::Close(code, reason) => break Some((code, reason.to_owned())),
                },
                Some(Ok(Message::Binary(_))) => break Some((4002, "binary frames (etf, compression) are not simulated".to_owned())),
                Some(Ok(Message::Close(frame))) => {
                    invalidate = frame.is_some_and(|f| matches!(u16::from(f.code), 1000 | 1001));
                    break None;
                }
                Some(Ok(_)) => {}
            },
            out = rx.recv() => match out {
                Some(Outgoing::Text(text)) => {
                    if let Err(e) = ws.send(Message::text(text)).await {
                        tracing::debug!(error = %e, "gateway send failed");
                        break None;
                    }
                }
                Some(Outgoing::Close(code, reason)) => break Some((code, reason)),
                Some(Outgoing::SessionDropped) => c.session = None,
                None => {}
            },
            _ = tokio::time::sleep_until(c.deadline) => break Some((4009, "session timed out (no heartbeat)".to_owned())),
            _ = shutdown.changed() => break Some((1001, "sim shutting down".to_owned())),
        }
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code: code.into(),
            reason: reason.into(),
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(Some(frame))).await;
    }
    if let Some(id) = &c.session {
        c.hub.detach(id, c.link.id, invalidate);
    }
}

impl Conn {
    fn send(&self, msg: &ServerMessage) {
        let _ = self.link.tx.send(Outgoing::Text(msg.to_text()));
    }

    fn handle_text(&mut self, text: &str) -> Flow {
        let now = tokio::time::Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            self.recent.pop_front();
        }
        self.recent.push_back(now);
        if self.recent.len() > self.rate_limit {
            return Flow::Close(4008, "rate limited");
        }
        let Ok(cmd) = ClientCommand::from_text(text) else {
            return Flow::Close(4002, "decode error");
        };
        if let Some(id) = &self.session {
            self.hub.record_op(id, cmd.opcode());
        }
        match cmd {
            ClientCommand::Heartbeat(_) => {
                self.deadline = now + self.interval + self.interval / 2;
                self.send(&ServerMessage::HeartbeatAck);
            }
            ClientCommand::Identify(identify) => {
                if self.session.is_some() {
                    return Flow::Close(4005, "already authenticated");
                }
                match self.hub.identify(self.link.clone(), &identify) {
                    Ok(id) => {
                        self.hub
                            .record_op(&id, gateway_proto::GatewayOpcode::Identify);
                        self.session = Some(id);
                    }
                    Err(_) => return Flow::Close(4004, "authentication failed"),
                }
            }
            ClientCommand::Resume(resume) => match self.hub.resume(self.link.clone(), &resume) {
                Ok(id) => {
                    self.hub
                        .record_op(&id, gateway_proto::GatewayOpcode::Resume);
                    self.session = Some(id);
                }
                Err(()) => self.send(&ServerMessage::InvalidSession { resumable: false }),
            },
            ClientCommand::Unknown { op: 3 | 8, .. } => {}
            // Op 13 Request Call Connect `{channel_id}` (userdoccers
            // `opcodes-and-close-codes.mdx`: 13 "Call Connect", Send).
            ClientCommand::Unknown { op: 13, d } => {
                let Some(id) = self.session.clone() else {
                    return Flow::Close(4003, "not authenticated");
                };
                let channel = d
                    .get("channel_id")
                    .and_then(|c| c.as_str())
                    .and_then(|c| c.parse::<u64>().ok());
                let Some(channel) = channel else {
                    return Flow::Close(4002, "decode error");
                };
                self.hub
                    .call_connect(&id, gateway_proto::ChannelId(channel));
            }
            ClientCommand::Unknown { .. } => return Flow::Close(4001, "unknown opcode"),
            other => {
                let Some(id) = self.session.clone() else {
                    return Flow::Close(4003, "not authenticated");
                };
                if let Err(e) = run_command(&self.hub, &id, other) {
                    // Discord ignores commands it cannot apply (e.g. joining
                    // a channel that does not exist); log for test authors.
                    tracing::info!(session = %id, error = %e, "gateway command ignored");
                }
            }
        }
        Flow::Continue
    }
}

/// Applies an identified session's command to the world.
fn run_command(hub: &Arc<Hub>, session_id: &Secret, cmd: ClientCommand) -> Result<(), SimError> {
    let (user, _bot) = hub
        .session_user(session_id)
        .ok_or_else(|| SimError::UnknownSession(session_id.clone()))?;
    let sid = session_id;
    match cmd {
        ClientCommand::UpdateVoiceState(v) => {
            hub.with_world(|w| Ok(((), w.update_voice_state(user, sid, &v)?)))
        }
        ClientCommand::CreateStream(c) => {
            hub.with_world(|w| Ok(((), w.create_stream(user, sid, &c)?)))
        }
        ClientCommand::WatchStream(key) => {
            hub.with_world(|w| Ok(((), w.watch_stream(user, sid, key)?)))
        }
        ClientCommand::DeleteStream(key) => {
            hub.with_world(|w| Ok(((), w.delete_stream(user, key))))
        }
        ClientCommand::SetStreamPaused(p) => {
            hub.with_world(|w| Ok(((), w.set_stream_paused(user, Some(p.stream_key), p.paused))))
        }
        _ => Ok(()),
    }
}

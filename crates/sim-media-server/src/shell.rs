//! The tokio shell: one TCP listener for the WebSocket, one UDP socket for
//! all rooms, one task per WebSocket connection, and one server task that
//! owns the [`Core`] and executes its outputs.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;

use crate::config::{Fault, VoiceServerConfig};
use crate::core::{Command, ConnId, Core, Output, WsFrame};
use crate::error::SimVoiceError;
use crate::shared::Shared;

/// Frames queued per connection before the connection is dropped as stuck.
const CONN_QUEUE: usize = 1024;
/// Largest WebSocket message accepted from a client.
const MAX_WS_MESSAGE: usize = 1 << 20;
/// Largest datagram read.
const MAX_DATAGRAM: usize = 2048;
/// Minimum interval between report snapshots while only media flows.
const SNAPSHOT_INTERVAL: Duration = Duration::from_millis(50);

/// Messages into the server task.
pub(crate) enum ShellMsg {
    Command(Command),
    WsOpened {
        conn: ConnId,
        version: u8,
        tx: mpsc::Sender<WsFrame>,
    },
    WsText(ConnId, String),
    WsBinary(ConnId, Vec<u8>),
    WsClosed(ConnId),
    Datagram(SocketAddr, Vec<u8>),
    /// A simulated participant says a line (packets already encoded).
    Say {
        room: crate::config::RoomId,
        user_id: u64,
        packets: Vec<Vec<u8>>,
        reply: oneshot::Sender<Result<crate::core::SayStarted, crate::core::SayError>>,
    },
    Shutdown(oneshot::Sender<()>),
}

/// Sockets and their tasks; dropped on crash, rebuilt on restart.
struct Sockets {
    udp: Arc<UdpSocket>,
    accept_task: JoinHandle<()>,
    udp_task: JoinHandle<()>,
}

impl Sockets {
    fn stop(self) {
        self.accept_task.abort();
        self.udp_task.abort();
    }
}

/// Binds both sockets on `ip` (ports 0 = any) and spawns their tasks.
async fn bind(
    ip: std::net::IpAddr,
    ws_port: u16,
    udp_port: u16,
    tx: mpsc::UnboundedSender<ShellMsg>,
    next_conn: Arc<AtomicU64>,
    tls: sim_tls::SimTls,
) -> Result<(Sockets, u16, u16), SimVoiceError> {
    let ws_addr = SocketAddr::new(ip, ws_port);
    let err = |what, e: std::io::Error| SimVoiceError::Bind {
        what,
        addr: ws_addr.to_string(),
        message: e.to_string(),
    };
    let sock = if ip.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| err("websocket", e))?;
    sock.set_reuseaddr(true).map_err(|e| err("websocket", e))?;
    sock.bind(ws_addr).map_err(|e| err("websocket", e))?;
    let listener = sock.listen(128).map_err(|e| err("websocket", e))?;
    let ws_port = listener
        .local_addr()
        .map_err(|e| err("websocket", e))?
        .port();
    let udp = UdpSocket::bind(SocketAddr::new(ip, udp_port))
        .await
        .map_err(|e| SimVoiceError::Bind {
            what: "udp",
            addr: SocketAddr::new(ip, udp_port).to_string(),
            message: e.to_string(),
        })?;
    let udp_port = udp.local_addr().map_err(|e| err("udp", e))?.port();
    let udp = Arc::new(udp);
    let accept_task = tokio::spawn(accept_loop(listener, tx.clone(), next_conn, tls));
    let udp_task = tokio::spawn(udp_loop(udp.clone(), tx));
    Ok((
        Sockets {
            udp,
            accept_task,
            udp_task,
        },
        ws_port,
        udp_port,
    ))
}

/// Starts a server; see [`crate::VoiceServerHandle`].
pub(crate) async fn start(
    mut config: VoiceServerConfig,
) -> Result<
    (
        mpsc::UnboundedSender<ShellMsg>,
        String,
        Arc<Mutex<Shared>>,
        sim_tls::SimTls,
    ),
    SimVoiceError,
> {
    let tls = match config.tls.clone() {
        Some(t) => t,
        None => sim_tls::SimTls::generate(&[config.bind_ip], None)
            .map_err(|e| SimVoiceError::Tls(e.to_string()))?,
    };
    config.tls = Some(tls.clone());
    let (tx, rx) = mpsc::unbounded_channel();
    let next_conn = Arc::new(AtomicU64::new(1));
    let (sockets, ws_port, udp_port) = bind(
        config.bind_ip,
        0,
        0,
        tx.clone(),
        next_conn.clone(),
        tls.clone(),
    )
    .await?;
    let endpoint = std::net::SocketAddr::new(config.public_ip(), ws_port).to_string();
    let shared = Arc::new(Mutex::new(Shared::default()));
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let seed = rand::random::<u64>();
    let core = Core::new(
        config.clone(),
        ws_port,
        udp_port,
        seed,
        Instant::now(),
        unix_ms,
        shared.clone(),
    );
    let task = ServerTask {
        tls: tls.clone(),
        core,
        config,
        rx,
        tx: tx.clone(),
        next_conn,
        sockets: Some(sockets),
        ws_port,
        udp_port,
        conns: HashMap::new(),
        shared: shared.clone(),
        last_snapshot: None,
        recorder: crate::recorder_thread::spawn(shared.clone()),
    };
    tokio::spawn(task.run());
    Ok((tx, endpoint, shared, tls))
}

/// One open connection as seen by the server task.
struct ConnHandle {
    tx: mpsc::Sender<WsFrame>,
}

struct ServerTask {
    tls: sim_tls::SimTls,
    core: Core,
    config: VoiceServerConfig,
    rx: mpsc::UnboundedReceiver<ShellMsg>,
    tx: mpsc::UnboundedSender<ShellMsg>,
    next_conn: Arc<AtomicU64>,
    sockets: Option<Sockets>,
    ws_port: u16,
    udp_port: u16,
    conns: HashMap<ConnId, ConnHandle>,
    shared: Arc<Mutex<Shared>>,
    last_snapshot: Option<Instant>,
    /// Client audio to the recorder thread.
    recorder: crate::recorder_thread::RecorderTx,
}

impl ServerTask {
    async fn run(mut self) {
        loop {
            let now = Instant::now();
            let deadline = self.core.poll_timeout(now);
            let mut urgent_snapshot = false;
            tokio::select! {
                msg = self.rx.recv() => {
                    let Some(msg) = msg else { break };
                    let now = Instant::now();
                    match msg {
                        ShellMsg::Shutdown(done) => {
                            self.crash();
                            self.snapshot(true);
                            let _ = done.send(());
                            break;
                        }
                        ShellMsg::Command(Command::Fault(Fault::Crash)) => {
                            self.crash();
                            urgent_snapshot = true;
                        }
                        ShellMsg::Command(Command::Fault(Fault::Restart)) => {
                            self.restart().await;
                            urgent_snapshot = true;
                        }
                        ShellMsg::Command(c) => {
                            self.core.on_command(c, now);
                            urgent_snapshot = true;
                        }
                        ShellMsg::WsOpened { conn, version, tx } => {
                            if self.sockets.is_some() {
                                self.conns.insert(conn, ConnHandle { tx });
                                self.core.on_ws_open(conn, version, now);
                            }
                            urgent_snapshot = true;
                        }
                        ShellMsg::WsText(conn, text) => {
                            self.core.on_text(conn, &text, now);
                            urgent_snapshot = true;
                        }
                        ShellMsg::WsBinary(conn, data) => {
                            self.core.on_binary(conn, &data, now);
                            urgent_snapshot = true;
                        }
                        ShellMsg::WsClosed(conn) => {
                            self.conns.remove(&conn);
                            self.core.on_ws_closed(conn, now);
                            urgent_snapshot = true;
                        }
                        ShellMsg::Datagram(from, data) => self.core.on_datagram(from, data, now),
                        ShellMsg::Say { room, user_id, packets, reply } => {
                            let _ = reply.send(self.core.say(room, user_id, packets, now));
                            urgent_snapshot = true;
                        }
                    }
                }
                () = tokio::time::sleep_until(deadline.into()) => {
                    self.core.handle_timeout(Instant::now());
                }
            }
            self.flush();
            self.snapshot(urgent_snapshot);
        }
    }

    /// Executes the core's outputs.
    fn flush(&mut self) {
        while let Some(o) = self.core.poll_output() {
            match o {
                Output::Ws(conn, frame) => {
                    let close = matches!(frame, WsFrame::Close(_));
                    let stuck = match self.conns.get(&conn) {
                        Some(c) => c.tx.try_send(frame).is_err(),
                        None => false,
                    };
                    if close || stuck {
                        // Dropping the sender ends the connection task after
                        // it wrote what is queued.
                        self.conns.remove(&conn);
                    }
                }
                Output::Udp(to, data) => {
                    if let Some(s) = &self.sockets {
                        // Loss under pressure is what UDP does; never block.
                        let _ = s.udp.try_send_to(&data, to);
                    }
                }
                Output::Record(ev) => self.recorder.send(ev),
            }
        }
    }

    fn snapshot(&mut self, urgent: bool) {
        let now = Instant::now();
        if !urgent
            && self
                .last_snapshot
                .is_some_and(|t| now.duration_since(t) < SNAPSHOT_INTERVAL)
        {
            return;
        }
        self.last_snapshot = Some(now);
        let report = self.core.snapshot();
        self.shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .report = report;
    }

    /// Drops every socket: connection tasks end when their queue sender is
    /// dropped — but without a close frame, since they are aborted.
    fn crash(&mut self) {
        if let Some(s) = self.sockets.take() {
            s.stop();
        }
        for (_, c) in self.conns.drain() {
            // An empty frame queue closed without a Close frame: the task
            // drops the TCP stream (the client sees an abnormal closure).
            drop(c);
        }
        self.core.crash(Instant::now());
    }

    async fn restart(&mut self) {
        if self.sockets.is_some() {
            return;
        }
        match bind(
            self.config.bind_ip,
            self.ws_port,
            self.udp_port,
            self.tx.clone(),
            self.next_conn.clone(),
            self.tls.clone(),
        )
        .await
        {
            Ok((s, _, _)) => {
                self.sockets = Some(s);
                self.core
                    .on_command(Command::Fault(Fault::Restart), Instant::now());
            }
            Err(_) => {
                // Port still taken: stay crashed; a later Restart can retry.
            }
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    tx: mpsc::UnboundedSender<ShellMsg>,
    next: Arc<AtomicU64>,
    tls: sim_tls::SimTls,
) {
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    // Aborting this task drops `tasks`' handles but not the tasks; keep an
    // abort guard so a crash also kills the connections.
    struct AbortAll<'a>(&'a mut Vec<JoinHandle<()>>);
    impl Drop for AbortAll<'_> {
        fn drop(&mut self) {
            for t in self.0.drain(..) {
                t.abort();
            }
        }
    }
    let guard = AbortAll(&mut tasks);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = next.fetch_add(1, Ordering::Relaxed);
        guard.0.retain(|t| !t.is_finished());
        guard.0.push(tokio::spawn(connection(
            stream,
            conn,
            tx.clone(),
            tls.clone(),
        )));
    }
}

async fn udp_loop(udp: Arc<UdpSocket>, tx: mpsc::UnboundedSender<ShellMsg>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        match udp.recv_from(&mut buf).await {
            Ok((n, from)) => {
                let data = buf.get(..n).unwrap_or_default().to_vec();
                if tx.send(ShellMsg::Datagram(from, data)).is_err() {
                    return;
                }
            }
            Err(_) => tokio::task::yield_now().await,
        }
    }
}

/// Gateway version from the request's `?v=N` (4 when absent).
fn version_of(req: &Request) -> Option<u8> {
    let query = req.uri().query().unwrap_or("");
    let v = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("v="))
        .map_or(Some(4), |v| v.parse::<u8>().ok())?;
    (4..=9).contains(&v).then_some(v).or((v > 9).then_some(9))
}

// The callback's error type is fixed by tungstenite's `Callback` trait.
#[allow(clippy::result_large_err)]
async fn connection(
    tcp: TcpStream,
    conn: ConnId,
    tx: mpsc::UnboundedSender<ShellMsg>,
    tls: sim_tls::SimTls,
) {
    // TLS only, like Discord's voice servers: a plain-text client or one
    // that does not trust the CA never reaches the WebSocket.
    let Some(stream) = tls.accept(tcp).await else {
        return;
    };
    let mut version = None;
    let cb = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        version = version_of(req);
        Ok(resp)
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_WS_MESSAGE))
        .max_frame_size(Some(MAX_WS_MESSAGE));
    let Ok(ws) = tokio_tungstenite::accept_hdr_async_with_config(stream, cb, Some(config)).await
    else {
        return;
    };
    let (mut sink, mut source) = ws.split();
    let Some(version) = version else {
        let frame = CloseFrame {
            code: 4020.into(),
            reason: "unsupported gateway version".into(),
        };
        let _ = sink.send(Message::Close(Some(frame))).await;
        return;
    };
    let (out_tx, mut out_rx) = mpsc::channel::<WsFrame>(CONN_QUEUE);
    if tx
        .send(ShellMsg::WsOpened {
            conn,
            version,
            tx: out_tx,
        })
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            frame = out_rx.recv() => match frame {
                Some(WsFrame::Text(t)) => {
                    if sink.send(Message::text(t)).await.is_err() { break; }
                }
                Some(WsFrame::Binary(b)) => {
                    if sink.send(Message::binary(b)).await.is_err() { break; }
                }
                Some(WsFrame::Close(code)) => {
                    let frame = CloseFrame { code: code.into(), reason: "".into() };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    let _ = sink.flush().await;
                    // Give the peer a moment to read the close frame.
                    let _ = tokio::time::timeout(Duration::from_millis(500), async {
                        while let Some(Ok(_)) = source.next().await {}
                    }).await;
                    break;
                }
                // The server task dropped us without a close frame (crash).
                None => break,
            },
            msg = source.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let _ = tx.send(ShellMsg::WsText(conn, t.as_str().to_owned()));
                }
                Some(Ok(Message::Binary(b))) => {
                    let _ = tx.send(ShellMsg::WsBinary(conn, b.to_vec()));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
        }
    }
    let _ = tx.send(ShellMsg::WsClosed(conn));
}

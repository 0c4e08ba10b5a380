//! Test helpers: start a sim, a minimal gateway client, a raw HTTP client.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use gateway_proto::{
    BotIdentify, ClientCommand, ConnectionProperties, Dispatch, Identify, Intents, Presence,
    Secret, ServerMessage, UserIdentify,
};
use sim_gateway::{Scenario, SimConfig, SimHandle};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const USER_TOKEN: &str = "sim-user-agent";
pub const BOT_TOKEN: &str = "sim-bot-agent";
pub const GUILD: u64 = 900_000_000_000_000_001;
pub const TEXT: u64 = 900_000_000_000_000_010;
pub const LOUNGE: u64 = 900_000_000_000_000_011;
pub const ALICE: u64 = 900_000_000_000_000_101;
pub const AGENT: u64 = 900_000_000_000_000_103;

/// Every async test body runs under this bound.
pub async fn within<F: Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("test timed out");
}

/// The demo scenario with settings tweaked by `edit`.
pub fn demo_with(edit: impl FnOnce(&mut Scenario)) -> Scenario {
    let mut s = Scenario::builtin("demo").expect("demo parses");
    // Speaking toggles are irrelevant here; keep the timeline at time zero.
    s.timeline.retain(|e| e.at_ms == 0);
    edit(&mut s);
    s
}

pub async fn start(scenario: Scenario) -> SimHandle {
    let sim = sim_gateway::start(SimConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        scenario,
        seed: 42,
    })
    .await
    .expect("sim starts");
    trust(sim.ca_pem());
    sim
}

/// The CAs of every sim this test binary started: the clients below trust
/// them (plus nothing else), as a daemon given `--extra-ca-file` would.
static TRUSTED: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

fn trust(pem: &str) {
    TRUSTED.lock().expect("lock").push_str(pem);
}

/// A TLS client trusting the sims' CAs.
pub fn tls_client() -> tls_client::TlsClient {
    // One file per call: tests run in parallel threads, and a shared name
    // let one test read the file while another was rewriting it (empty).
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let pem = TRUSTED.lock().expect("lock").clone();
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!(
        "discord-sim-test-cas-{}-{n}.pem",
        std::process::id()
    ));
    std::fs::write(&path, pem).expect("write CA bundle");
    let client = tls_client::TlsClient::new(Some(&path)).expect("CA bundle loads");
    let _ = std::fs::remove_file(&path);
    client
}

/// What the client saw next.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Event {
    Msg(ServerMessage),
    Closed(Option<u16>),
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub seq: Option<u64>,
}

impl Client {
    pub async fn connect(sim: &SimHandle) -> Self {
        let url = format!("{}?v=10&encoding=json", sim.gateway_url());
        let ws = tls_client()
            .connect_ws(&url, Duration::from_secs(5))
            .await
            .expect("wss connect");
        let mut c = Self { ws, seq: None };
        match c.next().await {
            Event::Msg(ServerMessage::Hello(_)) => {}
            other => panic!("expected HELLO first, got {other:?}"),
        }
        c
    }

    pub async fn next(&mut self) -> Event {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    let msg = ServerMessage::from_text(t.as_str()).expect("server frames decode");
                    if let ServerMessage::Dispatch { seq: Some(s), .. } = &msg {
                        self.seq = Some(*s);
                    }
                    return Event::Msg(msg);
                }
                Some(Ok(Message::Close(f))) => return Event::Closed(f.map(|f| u16::from(f.code))),
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return Event::Closed(None),
            }
        }
    }

    pub async fn send(&mut self, cmd: &ClientCommand) {
        self.ws
            .send(Message::text(cmd.to_text()))
            .await
            .expect("send");
    }

    pub async fn send_raw(&mut self, text: &str) {
        let _ = self.ws.send(Message::text(text.to_owned())).await;
    }

    pub async fn identify_user(&mut self, token: &str) {
        let id = Identify::User(UserIdentify {
            token: Secret::new(token),
            capabilities: 16381,
            properties: ConnectionProperties::default(),
            presence: Some(Presence::user_default()),
            compress: Some(false),
            client_state: None,
        });
        self.send(&ClientCommand::Identify(Box::new(id))).await;
    }

    pub async fn identify_bot(&mut self, token: &str) {
        let id = Identify::Bot(BotIdentify {
            token: Secret::new(token),
            properties: ConnectionProperties::default(),
            intents: Intents(Intents::GUILDS.0 | Intents::GUILD_VOICE_STATES.0),
            shard: None,
            presence: None,
            compress: None,
            large_threshold: None,
        });
        self.send(&ClientCommand::Identify(Box::new(id))).await;
    }

    /// Next dispatch named `name`, skipping others; panics on close.
    pub async fn dispatch(&mut self, name: &str) -> Dispatch {
        loop {
            match self.next().await {
                Event::Msg(ServerMessage::Dispatch { event, .. }) if event.event_name() == name => {
                    return event;
                }
                Event::Msg(_) => {}
                Event::Closed(code) => panic!("closed ({code:?}) while waiting for {name}"),
            }
        }
    }

    /// Next non-dispatch message or close, skipping dispatches.
    pub async fn control(&mut self) -> Event {
        loop {
            match self.next().await {
                Event::Msg(ServerMessage::Dispatch { .. }) => {}
                other => return other,
            }
        }
    }

    /// The close code, skipping messages.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            if let Event::Closed(code) = self.next().await {
                return code;
            }
        }
    }

    /// Identify as the agent user and read READY + GUILD_CREATE.
    pub async fn ready_user(sim: &SimHandle) -> (Self, String) {
        let mut c = Self::connect(sim).await;
        c.identify_user(USER_TOKEN).await;
        let Dispatch::Ready(r) = c.dispatch("READY").await else {
            unreachable!()
        };
        c.dispatch("GUILD_CREATE").await;
        (c, r.session_id.expose().to_owned())
    }
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// A raw HTTP/1.1 request (`https://` over TLS trusting the sims' CAs);
/// returns (status, lower-cased headers, body).
pub async fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let (tls, rest) = match url.strip_prefix("https://") {
        Some(rest) => (true, rest),
        None => (false, url.strip_prefix("http://").expect("http(s) url")),
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let tcp = TcpStream::connect(host).await.expect("http connect");
    let mut stream: Box<dyn Io> = if tls {
        let name = host.rsplit_once(':').map_or(host, |(h, _)| h).to_owned();
        let name = rustls_pki_types::ServerName::try_from(name).expect("server name");
        let connector = tokio_rustls::TlsConnector::from(tls_client().config());
        Box::new(connector.connect(name, tcp).await.expect("TLS handshake"))
    } else {
        Box::new(tcp)
    };
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let hdrs = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, hdrs, raw[split + 4..].to_vec())
}

pub fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// POST JSON to the admin API, returning the parsed body.
pub async fn admin_post(sim: &SimHandle, path: &str, body: &str) -> (u16, serde_json::Value) {
    let (status, _, body) = http(
        "POST",
        &format!("{}{path}", sim.admin_base()),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .await;
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

pub async fn admin_get(sim: &SimHandle, path: &str) -> serde_json::Value {
    let (status, _, body) = http("GET", &format!("{}{path}", sim.admin_base()), &[], b"").await;
    assert_eq!(
        status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).expect("admin JSON")
}

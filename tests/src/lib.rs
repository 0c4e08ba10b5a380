//! Support for the end-to-end tests: starting the real binaries as child
//! processes, a minimal HTTP client, and polling helpers.
//!
//! The binaries are looked up next to the test executable's target
//! directory; `scripts/test` builds them (`cargo build --bins`) first.

pub mod gateway_client;
pub mod model_server;
pub mod peer;
pub mod sim_mediad;
pub mod source_tree;
pub mod stack;
pub mod voice;
pub mod watch_http;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Path of a workspace binary (`mediad`, `control`, `ipc-tap`, …).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/<name>; a program
    // of this package (target/<profile>/<bin>) looks beside itself.
    let parent = exe.parent().expect("executable directory");
    let dir = if parent.file_name().is_some_and(|n| n == "deps") {
        parent.parent().expect("target dir")
    } else {
        parent
    };
    let path = dir.join(name);
    assert!(
        path.exists(),
        "binary {} not found; build the binaries first (`cargo build --bins`, which scripts/test does)",
        path.display()
    );
    path
}

/// A running child process whose stderr goes to a file; killed on drop.
pub struct Daemon {
    /// The child.
    pub child: Child,
    /// Its stderr log.
    pub log: PathBuf,
    /// A name for messages.
    pub name: String,
}

impl Daemon {
    /// Starts `bin(name)` with `args`, logging to `dir/<label>.log`.
    pub fn start(name: &str, label: &str, dir: &Path, args: &[&str]) -> Self {
        Self::start_with(name, label, dir, args, Stdio::null())
    }

    /// Like [`Daemon::start`], choosing what happens to stdout.
    pub fn start_with(name: &str, label: &str, dir: &Path, args: &[&str], stdout: Stdio) -> Self {
        Self::start_full(name, label, dir, args, &[], stdout)
    }

    /// Like [`Daemon::start`], with extra environment variables (set after
    /// the defaults, so they win; an empty value reads as unset to
    /// control's provider set-up).
    pub fn start_env(
        name: &str,
        label: &str,
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        Self::start_full(name, label, dir, args, env, Stdio::null())
    }

    fn start_full(
        name: &str,
        label: &str,
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        stdout: Stdio,
    ) -> Self {
        let log = dir.join(format!("{label}.log"));
        let err = std::fs::File::create(&log).expect("log file");
        let child = Command::new(bin(name))
            .args(args)
            // E2E_RUST_LOG=control=debug,info and the like, to dig into a failure.
            .env(
                "RUST_LOG",
                std::env::var("E2E_RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
            )
            .env_remove("DASHBOARD_TOKEN")
            .envs(env.iter().copied())
            .stdout(stdout)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self {
            child,
            log,
            name: label.to_string(),
        }
    }

    /// Everything logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits (up to 10 s) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait_exit(Duration::from_secs(10))
    }

    /// Sends SIGKILL and reaps the process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends a signal.
    pub fn signal(&self, sig: i32) {
        // SAFETY-free: libc::kill with a pid we own.
        let pid = self.child.id() as i32;
        #[allow(unsafe_code)]
        // SAFETY: kill(2) takes plain integers; the pid is our own child.
        unsafe {
            libc::kill(pid, sig);
        }
    }

    /// Waits for the process to exit, panicking after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "{} did not exit within {timeout:?}; log:\n{}",
                    self.name,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A failing test shows what its daemons said (its temp dir goes).
        if std::thread::panicking() {
            let text = self.log_text();
            let lines: Vec<&str> = text.lines().filter(|l| !l.contains("[OpenH264]")).collect();
            let tail = &lines[lines.len().saturating_sub(80)..];
            eprintln!(
                "--- last {} lines of {} ---\n{}",
                tail.len(),
                self.name,
                tail.join("\n")
            );
        }
    }
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// CPU time (user + system, seconds) a process has used so far, from
/// `/proc/PID/stat` (0 when it cannot be read).
pub fn proc_cpu_seconds(pid: u32) -> f64 {
    let ticks = 100.0; // CLK_TCK on Linux
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (field(11) + field(12)) / ticks
}

/// A bench program's `NAME VALUE` numeric argument, or `default`.
pub fn bench_arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sends one HTTP/1.1 request and returns (status, JSON body or Null).
pub async fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
    http_with(addr, method, path, body, &[]).await
}

/// [`http`] with extra request headers.
pub async fn http_with(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, Value)> {
    let reply = http_raw(addr, method, path, None, headers, body).await?;
    Ok((reply.status, reply.json()))
}

/// A whole HTTP/1.1 response: status, header block, body (a chunked body
/// is small JSON in one chunk, here de-chunked).
#[derive(Debug)]
pub struct RawReply {
    /// Status code (0 if the response had none).
    pub status: u16,
    /// Status line and headers.
    pub head: String,
    /// The body, lossily as text.
    pub body: String,
}

impl RawReply {
    /// The body as JSON, or Null.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.body.trim()).unwrap_or(Value::Null)
    }
}

/// One HTTP/1.1 request (`connection: close`) with an optional `Host`
/// override, extra headers and a JSON body.
pub async fn http_raw(
    addr: &str,
    method: &str,
    path: &str,
    host: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> std::io::Result<RawReply> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n{extra}content-type: application/json\r\ncontent-length: {}\r\n\r\n{payload}",
        host.unwrap_or(addr),
        payload.len()
    );
    stream.write_all(req.as_bytes()).await?;
    let mut resp = Vec::new();
    stream.read_to_end(&mut resp).await?;
    let text = String::from_utf8_lossy(&resp);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body.split_once("\r\n")
            .map(|(_, rest)| rest.rsplit_once("\r\n0").map_or(rest, |(b, _)| b))
            .unwrap_or("")
    } else {
        body
    };
    Ok(RawReply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    })
}

/// GET returning JSON, or Null when the server is not answering.
pub async fn get_json(addr: &str, path: &str) -> Value {
    http(addr, "GET", path, None)
        .await
        .map(|(_, v)| v)
        .unwrap_or(Value::Null)
}

/// Polls `f` every 25 ms until it returns `Some`, or panics with `what`.
pub async fn wait_for<T, F, Fut>(timeout: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Connects to mediad as a tool client; returns the link after the
/// handshake, or the error (refusals included).
pub async fn connect_tool(
    socket: &Path,
    protocol: ipc_schema::ProtocolVersion,
) -> Result<ipc_conn::Connection<ipc_schema::ControlMsg, ipc_schema::MediadMsg>, ipc_conn::ConnError>
{
    use ipc_schema::{ControlMsg, Hello, MediadMsg, PeerRole};
    let mut stream = ipc_conn::socket::connect(socket).await?;
    let hello = Hello {
        protocol,
        role: PeerRole::Tool,
        build: "e2e".into(),
        instance_id: 7,
    };
    let (peer, rest) =
        ipc_conn::handshake::<ControlMsg, MediadMsg, _>(&mut stream, hello, Duration::from_secs(5))
            .await?;
    Ok(ipc_conn::Connection::spawn(
        stream,
        peer,
        rest,
        ipc_conn::ConnConfig::default(),
    ))
}

/// Connects as a tool and returns the snapshot mediad sends on attach.
pub async fn mediad_snapshot(socket: &Path) -> Result<ipc_schema::Snapshot, String> {
    let mut link = connect_tool(socket, ipc_schema::PROTOCOL_VERSION)
        .await
        .map_err(|e| e.to_string())?;
    match tokio::time::timeout(Duration::from_secs(5), link.receiver.recv()).await {
        Ok(Some(Ok(ipc_schema::MediadMsg::Snapshot(s)))) => Ok(s),
        other => Err(format!("expected a snapshot, got {other:?}")),
    }
}

/// `GET` with the admin token header; JSON body or Null.
pub async fn get_json_token(addr: &str, path: &str, token: &str) -> Value {
    http_raw(
        addr,
        "GET",
        path,
        None,
        &[("x-dashboard-token", token)],
        None,
    )
    .await
    .map_or(Value::Null, |r| r.json())
}

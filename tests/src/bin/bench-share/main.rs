//! `scripts/bench-share`: share-link frame ingest of the real `control`
//! server under load, against the cost floor of the same frames.
//!
//! An in-process discord-sim holds one voice channel with a crowd in it
//! (the bot account joins it); `mediad` and `control` run as processes.
//! `--sessions` share sessions (default 240) are created through the admin
//! API, one per distinct (requester, target) pair, over `--targets`
//! distinct targets (default: one per session, so 240 link watches; control's
//! watch book holds 256). Each session then posts ~100 KB screen-like JPEGs at 3 frames/s
//! for `--seconds` (default 60) after a warm-up, over its own keep-alive
//! HTTP/1.1 connection bound to its own loopback address (127.0.0.2, …),
//! so control's per-IP limit sees one client per session, as with real
//! browsers.
//!
//! Printed: accepted frames/s, latency (send start → full response) p50,
//! p99, max, errors by kind, and control's CPU time per accepted frame
//! (utime + stime from /proc over the measured window) next to the floor:
//! the CPU time this process needs to base64-decode and 1/8-scale-decode
//! (libjpeg-turbo, to grey, the luma grid) the same request bodies. The
//! floor the target is checked against is sampled through the measured
//! window (one pass over every frame every 4 s) and averaged, like
//! control's own figure: same run, same load, same statistic. Control's
//! own decodes in the window (thread CPU, from `/healthz`) are printed
//! beside it as a check. The fastest 0.15 s round before, under and after
//! the load is printed too, with its ratio: on this VM the fastest round
//! reads ~9 % under the mean of the same loop even on an idle machine, and
//! 20-25 % under the cost of the same work during the load.
//! Also control's own handler steps run in-process, which splits control's
//! cost into its handler and everything around it (HTTP, runtime, kernel,
//! watch manager), and latency p99 per 5 s, which tells a steady queue
//! from bursts (e.g. an OCR run taking a core).
//!
//! `--floor-only` prints the frames and the floor without starting
//! anything.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::Engine;
use e2e::{Daemon, bin, http};
use serde_json::{Value, json};
use sim_gateway::{Scenario, SimConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod frames;
mod measure;
use frames::*;
use measure::*;

const GUILD: u64 = 900_000_000_000_000_001;
const VOICE: u64 = 900_000_000_000_000_011;
const FIRST_USER: u64 = 900_000_000_000_001_000;
/// Distinct targets at most (control's watch book holds 256 watches).
const MAX_TARGETS: usize = 240;
/// Distinct frames, posted in order (30 s of a screen at 3 frames/s), each
/// session starting at its own place in the loop.
const FRAMES: usize = 90;
/// What the frames aim at, in bytes of JPEG.
const FRAME_TARGET_BYTES: usize = 100_000;
const WARM_UP: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn crowd_scenario(users: usize) -> anyhow::Result<Scenario> {
    let mut members: Vec<Value> = (0..users)
        .map(|i| {
            json!({"id": FIRST_USER + i as u64, "name": format!("crowd{i}"),
                   "token": format!("sim-user-crowd{i}")})
        })
        .collect();
    members.push(
        json!({"id": 900_000_000_000_000_104_u64, "name": "agent-bot",
                        "token": "sim-bot-agent", "bot": true}),
    );
    let timeline: Vec<Value> = (0..users)
        .map(|i| json!({"at_ms": 0, "action": "join_voice", "user": format!("crowd{i}"), "channel": "Lounge"}))
        .collect();
    let scenario = json!({
        "name": "crowd",
        "description": "One voice channel full of people; nobody streams (share links only).",
        "settings": {},
        "guilds": [{
            "id": GUILD, "name": "Sim Guild",
            "channels": [
                {"id": 900_000_000_000_000_010_u64, "name": "general", "kind": "text"},
                {"id": VOICE, "name": "Lounge", "kind": "voice"}
            ]
        }],
        "users": members,
        "timeline": timeline,
    });
    Scenario::from_json(&scenario.to_string()).map_err(|e| anyhow::anyhow!("crowd scenario: {e}"))
}

/// control (and mediad) started against the sim; killed on drop.
struct Stack {
    _dir: tempfile::TempDir,
    _mediad: Daemon,
    control: Daemon,
    http: String,
}

fn start_daemon(name: &str, dir: &Path, args: &[&str]) -> anyhow::Result<Daemon> {
    let log = dir.join(format!("{name}.log"));
    let err = std::fs::File::create(&log).with_context(|| format!("{}", log.display()))?;
    let child = Command::new(bin(name))
        .args(args)
        .env("RUST_LOG", "info")
        // A fresh store per run (share links and settings persist).
        .env("CONTROL_DATA_DIR", dir.join("control-data"))
        // The offline provider, whatever this shell has configured.
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("DASHBOARD_TOKEN")
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .with_context(|| format!("cannot start {name}"))?;
    Ok(Daemon {
        child,
        log,
        name: name.to_owned(),
    })
}

async fn start_stack(sim: &sim_gateway::SimHandle) -> anyhow::Result<Stack> {
    let dir = tempfile::tempdir().context("tempdir")?;
    let socket = dir.path().join("mediad.sock");
    let socket = socket
        .to_str()
        .context("a temp path that is not UTF-8")?
        .to_owned();
    let ca = sim
        .ca_file()
        .to_str()
        .context("a temp path that is not UTF-8")?
        .to_owned();
    let mediad = start_daemon(
        "mediad",
        dir.path(),
        &["--ipc-socket", &socket, "--extra-ca-file", &ca],
    )?;
    let (gateway, rest) = (sim.gateway_url(), sim.rest_base());
    let control = start_daemon(
        "control",
        dir.path(),
        &[
            "--mediad-socket",
            &socket,
            "--http-addr",
            "127.0.0.1:0",
            "--gateway-url",
            &gateway,
            "--rest-base",
            &rest,
            "--discord-token",
            "sim-bot-agent",
            "--discord-account",
            "bot",
            "--extra-ca-file",
            &ca,
        ],
    )?;
    let http = e2e::stack::control_addr(&control).await;
    Ok(Stack {
        _dir: dir,
        _mediad: mediad,
        control,
        http,
    })
}

/// Creates the share sessions; returns their tokens.
async fn create_sessions(
    stack: &Stack,
    sessions: usize,
    users: usize,
) -> anyhow::Result<Vec<String>> {
    let mut tokens = Vec::with_capacity(sessions);
    for k in 0..sessions {
        let target = k % users;
        let requester = (target + k / users + 1) % users;
        let body = json!({
            "guildId": GUILD.to_string(),
            "requesterId": (FIRST_USER + requester as u64).to_string(),
            "target": (FIRST_USER + target as u64).to_string(),
        });
        // The first ones wait for the gateway session and the voice join.
        let deadline = Instant::now() + Duration::from_secs(45);
        let token = loop {
            let (status, v) = http(&stack.http, "POST", "/api/voice/share-session", Some(&body))
                .await
                .unwrap_or((0, Value::Null));
            if let Some(url) = v["linkUrl"].as_str().filter(|_| v["ok"] == json!(true)) {
                anyhow::ensure!(
                    v["reused"] == json!(false),
                    "session {k} reused an earlier one: {v}"
                );
                break url.rsplit('/').next().unwrap_or_default().to_owned();
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "share session {k} not created: {status} {v}\ncontrol log tail:\n{}",
                tail(&stack.control.log_text(), 30)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        tokens.push(token);
    }
    Ok(tokens)
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// One keep-alive HTTP/1.1 connection from a given local address.
struct Conn {
    stream: tokio::net::TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(local: IpAddr, server: SocketAddr) -> std::io::Result<Self> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(local, 0))?;
        let stream = socket.connect(server).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(1024),
        })
    }

    /// Sends one request and reads the whole response: (status, body,
    /// whether the server closes the connection).
    async fn request(&mut self, head: &[u8], body: &[u8]) -> Result<(u16, Vec<u8>, bool), String> {
        self.stream.write_all(head).await.map_err(io_kind)?;
        self.stream.write_all(body).await.map_err(io_kind)?;
        self.buf.clear();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = self.stream.read(&mut chunk).await.map_err(io_kind)?;
            if n == 0 {
                return Err("io: connection closed".into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).to_ascii_lowercase();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or("http: response without content-length")?;
        while self.buf.len() < head_end + len {
            let n = self.stream.read(&mut chunk).await.map_err(io_kind)?;
            if n == 0 {
                return Err("io: connection closed".into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        let close = head.contains("connection: close");
        Ok((status, self.buf[head_end..head_end + len].to_vec(), close))
    }
}

fn io_kind(e: std::io::Error) -> String {
    format!("io: {:?}", e.kind())
}

/// One request's outcome.
struct Sample {
    /// When its send began.
    at: Instant,
    /// Send start → full response.
    latency: Duration,
    /// `None` when accepted, else the kind of error.
    error: Option<String>,
}

struct SessionPlan {
    /// Where in the frame loop this session starts: the same for every
    /// session of one target (they all capture that target's screen).
    offset: usize,
    local: IpAddr,
    server: SocketAddr,
    host: String,
    token: String,
    first: Instant,
    interval: Duration,
    /// Set once the measurements are done.
    stop: Arc<std::sync::atomic::AtomicBool>,
    bodies: Arc<Vec<Vec<u8>>>,
}

/// Posts frames on schedule until `stop` is set; a send that falls more
/// than one interval behind drops the backlog (a browser would not catch
/// up either).
async fn run_session(p: SessionPlan) -> (Vec<Sample>, u64) {
    let mut samples = Vec::new();
    let mut late = 0;
    let mut conn: Option<Conn> = None;
    let path = format!("/api/voice/share-session/{}/frame", p.token);
    let mut next = p.first;
    let mut k = 0usize;
    while !p.stop.load(std::sync::atomic::Ordering::Relaxed) {
        tokio::time::sleep_until(next.into()).await;
        let body = &p.bodies[(p.offset + k) % p.bodies.len()];
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            p.host,
            body.len()
        );
        let at = Instant::now();
        let attempt = async {
            if conn.is_none() {
                conn = Some(
                    Conn::open(p.local, p.server)
                        .await
                        .map_err(|e| format!("connect: {:?}", e.kind()))?,
                );
            }
            let c = conn.as_mut().ok_or("no connection")?;
            c.request(head.as_bytes(), body).await
        };
        let result = match tokio::time::timeout(REQUEST_TIMEOUT, attempt).await {
            Ok(r) => r,
            Err(_) => Err("timeout (10 s)".to_owned()),
        };
        let latency = at.elapsed();
        let error = match result {
            Ok((status, body, close)) => {
                if close {
                    conn = None;
                }
                let v: Value = serde_json::from_slice(&body).unwrap_or_default();
                (status != 200 || v["accepted"] != json!(true))
                    .then(|| format!("{status} {}", v["reason"]))
            }
            Err(e) => {
                conn = None;
                Some(e)
            }
        };
        samples.push(Sample { at, latency, error });
        k += 1;
        next += p.interval;
        let now = Instant::now();
        if next + p.interval < now {
            late += 1;
            next = now;
        }
    }
    (samples, late)
}

/// `PATCH /api/settings {"maxFramesPerMinute": 600}` if control has the
/// route (so exactly 3 frames/s never meets the 180/min window edge).
async fn raise_frame_limit(addr: &str) -> bool {
    let body = json!({"maxFramesPerMinute": 600});
    matches!(
        http(addr, "PATCH", "/api/settings", Some(&body)).await,
        Ok((status, _)) if (200..300).contains(&status)
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let seconds = arg("--seconds", 60).max(1);
    let sessions = usize::try_from(arg("--sessions", 240))
        .unwrap_or(240)
        .clamp(1, 240);
    let targets = usize::try_from(arg("--targets", sessions as u64)).unwrap_or(sessions);
    let users = targets.clamp(2, MAX_TARGETS).min(sessions.max(2));
    println!(
        "bench-share: {sessions} share sessions posting ~{} KB JPEGs at 3 frames/s to control for {seconds} s",
        FRAME_TARGET_BYTES / 1000
    );

    let (jpegs, quality) = make_frames()?;
    let bodies: Vec<Vec<u8>> = jpegs
        .iter()
        .map(|j| {
            json!({
                "mimeType": "image/jpeg",
                "dataBase64": base64::engine::general_purpose::STANDARD.encode(j),
                "source": "share_page",
            })
            .to_string()
            .into_bytes()
        })
        .collect();
    let mean_jpeg = jpegs.iter().map(Vec::len).sum::<usize>() / jpegs.len();
    let mean_body = bodies.iter().map(Vec::len).sum::<usize>() / bodies.len();
    println!(
        "  frames: {} distinct 1280x720 JPEGs, quality {quality}, {:.1} KB on average ({:.1} KB as JSON)",
        jpegs.len(),
        mean_jpeg as f64 / 1000.0,
        mean_body as f64 / 1000.0
    );

    let bodies = Arc::new(bodies);
    let floor_now = || {
        let bodies = bodies.clone();
        tokio::task::spawn_blocking(move || measure_floor(&bodies))
    };
    // The floor is measured three times: before the load, under it and
    // after it. Per step the lowest counts: on a shared VM the same work
    // varies by ±15 % from one measurement to the next, and the lowest is
    // the one least disturbed (the strictest floor).
    let floor_before = floor_now().await.context("floor")??;
    if std::env::args().any(|a| a == "--floor-only") {
        print_floor(&floor_before);
        return Ok(());
    }

    let idle0 = machine_busy();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let other = machine_busy() - idle0;
    if other > 0.2 {
        println!(
            "  note: before the start the machine was already busy ({:.0} % of one core): numbers will be noisy",
            other * 100.0
        );
    }

    let sim = sim_gateway::start(SimConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        scenario: crowd_scenario(users)?,
        seed: 1,
    })
    .await
    .map_err(|e| anyhow::anyhow!("discord-sim: {e}"))?;
    let stack = start_stack(&sim).await?;
    let pid = stack.control.child.id();
    let t_setup = Instant::now();
    let tokens = create_sessions(&stack, sessions, users).await?;
    println!(
        "  {} sessions over {users} targets created in {:.1} s; control pid {pid} at {}",
        tokens.len(),
        t_setup.elapsed().as_secs_f64(),
        stack.http
    );
    let raised = raise_frame_limit(&stack.http).await;
    // 3 frames/s exactly with the limit raised; otherwise a little under,
    // so that no 60 s window of a session ever holds more than 180 frames.
    let interval = if raised {
        Duration::from_secs_f64(1.0 / 3.0)
    } else {
        Duration::from_millis(337)
    };
    println!(
        "  pacing: one frame per {:.1} ms per session ({})",
        interval.as_secs_f64() * 1000.0,
        if raised {
            "maxFramesPerMinute raised to 600 through PATCH /api/settings"
        } else {
            "no PATCH /api/settings; kept under the default 180 frames/min"
        }
    );

    let server: SocketAddr = stack.http.parse().context("control's address")?;
    let start = Instant::now() + Duration::from_millis(200);
    let t0 = start + WARM_UP;
    let t1 = t0 + Duration::from_secs(seconds);
    let mut phase_state: u64 = 0x2545_F491_4F6C_DD1D;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::with_capacity(tokens.len());
    for (index, token) in tokens.into_iter().enumerate() {
        // Random phases: browsers are not synchronised.
        phase_state ^= phase_state << 13;
        phase_state ^= phase_state >> 7;
        phase_state ^= phase_state << 17;
        let phase = interval.mul_f64((phase_state % 10_000) as f64 / 10_000.0);
        let octets = u32::try_from(index + 2)?.to_be_bytes();
        let local = IpAddr::V4(Ipv4Addr::new(127, octets[1], octets[2], octets[3]));
        tasks.push(tokio::spawn(run_session(SessionPlan {
            offset: (index % users) * 37,
            local,
            server,
            host: stack.http.clone(),
            token,
            first: start + phase,
            interval,
            stop: stop.clone(),
            bodies: bodies.clone(),
        })));
    }
    // The floor sampled through the measured window: one pass over every
    // frame every 4 s (about 0.1 s of one core each), under the same load,
    // clocks and neighbours as control's frames, averaged like control's
    // own figure.
    let sampler = {
        let texts = Arc::new(floor_texts(&bodies)?);
        tokio::spawn(async move {
            let (mut ns, mut frames, mut passes) = (0u64, 0u64, 0u32);
            let mut next = t0 + Duration::from_secs(1);
            while next + Duration::from_millis(500) < t1 {
                tokio::time::sleep_until(next.into()).await;
                let texts = texts.clone();
                let (n, f) = tokio::task::spawn_blocking(move || floor_pass(&texts)).await??;
                ns += n;
                frames += f;
                passes += 1;
                next += Duration::from_secs(4);
            }
            anyhow::Ok((ns as f64 / 1e9 / frames.max(1) as f64, passes))
        })
    };
    tokio::time::sleep_until(t0.into()).await;
    let decodes0 = e2e::get_json(&stack.http, "/healthz").await;
    let cpu0 = proc_cpu(pid);
    let me0 = proc_cpu(std::process::id());
    let busy0 = machine_busy();
    let steal0 = machine_steal();
    tokio::time::sleep_until(t1.into()).await;
    let cpu1 = proc_cpu(pid);
    let decodes1 = e2e::get_json(&stack.http, "/healthz").await;
    let me1 = proc_cpu(std::process::id());
    let busy1 = machine_busy();
    let steal1 = machine_steal();
    let window = t1.duration_since(t0).as_secs_f64();
    let (floor_during, floor_passes) = sampler.await.context("floor sampler")??;
    // Control's own 1/8-scale decodes in the window (thread CPU, /healthz).
    let ingest = |v: &Value, k: &str| v["frameIngest"][k].as_f64().unwrap_or(0.0);
    let decodes = ingest(&decodes1, "jpegDecoded") - ingest(&decodes0, "jpegDecoded");
    let decode_cpu = (ingest(&decodes1, "jpegDecodeCpuNs") - ingest(&decodes0, "jpegDecodeCpuNs"))
        / 1e9
        / decodes.max(1.0);
    // The floor once more while the load goes on (same caches, clocks and
    // neighbours as control had), then the sessions stop.
    let floor_loaded = floor_now().await.context("floor")??;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut samples = Vec::new();
    let mut late = 0;
    for t in tasks {
        let (s, l) = t.await.context("session task")?;
        samples.extend(s.into_iter().filter(|s| s.at >= t0 && s.at < t1));
        late += l;
    }
    let rss = peak_rss_mb(pid);
    let log = stack.control.log_text();
    let log_copy = std::env::temp_dir().join("bench-share-control.log");
    let _ = std::fs::write(&log_copy, &log);
    drop(stack);
    sim.shutdown().await;

    // Let control's last OCR child finish before the floor is measured again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let floor_after = floor_now().await.context("floor")??;
    let floor = floor_before.min(&floor_loaded).min(&floor_after);

    let accepted = samples.iter().filter(|s| s.error.is_none()).count();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    for s in &samples {
        if let Some(e) = &s.error {
            *errors.entry(e.clone()).or_default() += 1;
        }
    }
    let mut lat: Vec<f64> = samples
        .iter()
        .map(|s| s.latency.as_secs_f64() * 1000.0)
        .collect();
    lat.sort_by(f64::total_cmp);
    let (user, sys) = (cpu1.0 - cpu0.0, cpu1.1 - cpu0.1);
    let children = cpu1.2 - cpu0.2;
    let per_frame = (user + sys) / accepted.max(1) as f64;
    // The target is checked against the floor sampled through the window
    // (a mean, like control's figure). The fastest 0.15 s round out of 24
    // is printed too: on this VM it reads ~9 % below the mean of the same
    // loop even with nothing else running, so it flatters the floor.
    let ratio = per_frame / floor_during;
    let ratio_fastest = per_frame / floor.total;
    let p99 = percentile(&lat, 0.99);
    let check = |ok: bool| if ok { "ok" } else { "MISSED" };

    println!(
        "\nmeasured window {window:.0} s (after a {} s warm-up):",
        WARM_UP.as_secs()
    );
    println!(
        "  requests sent          {:>9}   ({:.1}/s; {late} sends fell behind and skipped ahead)",
        samples.len(),
        samples.len() as f64 / window
    );
    println!(
        "  accepted               {:>9}   ({:.1}/s; offered {:.1}/s)",
        accepted,
        accepted as f64 / window,
        tokens_rate(sessions, interval)
    );
    println!(
        "  latency p50 / p99 / max {:>7.1} / {:.1} / {:.1} ms   (target p99 <= 50 ms: {})",
        percentile(&lat, 0.5),
        p99,
        lat.last().copied().unwrap_or(f64::NAN),
        check(p99 <= 50.0)
    );
    // p99 per 5 s of the window, to tell a steady queue from bursts.
    let buckets = (window / 5.0).ceil() as usize;
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); buckets.max(1)];
    for s in &samples {
        let b = (s.at.duration_since(t0).as_secs_f64() / 5.0) as usize;
        if let Some(v) = per.get_mut(b) {
            v.push(s.latency.as_secs_f64() * 1000.0);
        }
    }
    let series: Vec<String> = per
        .iter_mut()
        .map(|v| {
            v.sort_by(f64::total_cmp);
            format!("{:.0}", percentile(v, 0.99))
        })
        .collect();
    println!("  p99 per 5 s (ms)       {}", series.join(" "));
    println!(
        "  errors                 {:>9}   (target 0: {})",
        samples.len() - accepted,
        check(samples.len() == accepted)
    );
    for (kind, n) in &errors {
        println!("    {n:>7}  {kind}");
    }
    let per = |v: f64| v * 1000.0 / accepted.max(1) as f64;
    println!(
        "\nCPU per accepted frame: control {:.3} ms (user {:.3} + system {:.3})",
        per_frame * 1000.0,
        per(user),
        per(sys)
    );
    println!(
        "  floor {:.3} ms: base64 + 1/8 decode and grid of the same frames, mean of {floor_passes} passes spread over the window   ratio {:.2}x  (target <= 1.5x: {})",
        floor_during * 1000.0,
        ratio,
        check(ratio <= 1.5)
    );
    println!(
        "    control's own 1/8 decodes in the window: {:.3} ms each ({decodes:.0} decodes, thread CPU from /healthz): the decode costs this under the load, in control too",
        decode_cpu * 1000.0
    );
    println!(
        "  fastest 0.15 s round before / under / after the load: {:.3} ms = base64 {:.3} (the faster of control's SIMD decoder and the base64 crate's {:.3}) + 1/8 decode and grid {:.3}   ratio {:.2}x",
        floor.total * 1000.0,
        floor.base64 * 1000.0,
        floor.base64_crate * 1000.0,
        floor.decode * 1000.0,
        ratio_fastest,
    );
    println!(
        "    (fastest round before / under / after: {:.3} / {:.3} / {:.3} ms; mean of the 8 rounds: {:.3} / {:.3} / {:.3} ms)",
        floor_before.total * 1000.0,
        floor_loaded.total * 1000.0,
        floor_after.total * 1000.0,
        floor_before.total_mean * 1000.0,
        floor_loaded.total_mean * 1000.0,
        floor_after.total_mean * 1000.0
    );
    println!(
        "  control's handler steps run here: {:.3} ms = parse {:.3} + base64 (share-core) {:.3} + score {:.3};",
        floor.handler() * 1000.0,
        floor.handler_parse * 1000.0,
        floor.handler_b64 * 1000.0,
        floor.handler_score * 1000.0
    );
    println!(
        "    control beyond them (HTTP, runtime, kernel, watch manager, cache effects): {:.3} ms",
        (per_frame - floor.handler()) * 1000.0
    );
    println!(
        "  control CPU {:.1} s in {window:.0} s ({:.0} % of one core; 2 cores here), children {:.2} s, peak RSS {rss:.0} MB",
        user + sys,
        100.0 * (user + sys) / window,
        children
    );
    let me = (me1.0 + me1.1) - (me0.0 + me0.1);
    let busy = busy1 - busy0;
    println!(
        "  this process (clients + sim) {me:.1} s CPU ({:.0} % of one core); everything else on the machine {:.1} s (OCR children, mediad, other work); hypervisor steal {:.1} s",
        100.0 * me / window,
        (busy - me - user - sys).max(0.0),
        steal1 - steal0
    );
    println!("  control's log: {}", log_copy.display());
    let warnings = log
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .count();
    if warnings > 0 {
        println!(
            "  control logged {warnings} warnings/errors; last ones:\n{}",
            tail(
                &log.lines()
                    .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                5
            )
        );
    }
    Ok(())
}

fn tokens_rate(sessions: usize, interval: Duration) -> f64 {
    sessions as f64 / interval.as_secs_f64()
}

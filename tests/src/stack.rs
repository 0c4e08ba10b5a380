//! One running stack for end-to-end tests: an in-process discord-sim and
//! the real `mediad` and `control` binaries, driven over control's HTTP API.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sim_gateway::{Scenario, SimConfig, SimHandle};

use crate::{Daemon, get_json, get_json_token, http, http_with, wait_for};

const T: Duration = Duration::from_secs(30);
const GUILD: &str = "900000000000000001";

/// One stack at a time: each runs a simulator encoding 720p30 plus both
/// daemons, and two at once on a 2-core machine made frame timing flaky.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// discord-sim plus both daemons in a temporary directory; dropped, the
/// daemons are killed.
pub struct Stack {
    /// The dashboard token control was started with, if any.
    pub token: Option<String>,
    /// The in-process simulator.
    pub sim: SimHandle,
    _mediad: Daemon,
    /// The control process.
    pub control: Daemon,
    /// control's HTTP address (`host:port`).
    pub http: String,
    /// control's arguments (for restarts).
    control_args: Vec<String>,
    /// control's extra environment (for restarts).
    control_env: Vec<(String, String)>,
    restarts: u32,
    // Last: dropped after the daemons, whose logs are in it.
    _dir: tempfile::TempDir,
}

impl Stack {
    /// Starts the sim with `scenario`, mediad, and control with the
    /// Discord `token` and `extra` arguments; waits for the gateway session.
    pub async fn start(scenario: &str, token: &str, extra: &[&str]) -> Self {
        Self::start_with_env(scenario, token, extra, &[]).await
    }

    /// [`Self::start`], with extra environment variables for control (e.g.
    /// `OPENAI_API_KEY` and `OPENAI_BASE_URL` pointing at a test server);
    /// a restart keeps them.
    pub async fn start_with_env(
        scenario: &str,
        token: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let scenario = Scenario::builtin(scenario).expect("scenario");
        Self::start_scenario(scenario, token, extra, env).await
    }

    /// [`Self::start_with_env`] with a scenario made by the test.
    pub async fn start_scenario(
        scenario: Scenario,
        token: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let sim = sim_gateway::start(SimConfig {
            listen: "127.0.0.1:0".parse().expect("literal"),
            scenario,
            seed: 3,
        })
        .await
        .expect("sim");
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("mediad.sock");
        let socket = socket.to_str().expect("utf-8").to_owned();
        // Port 0: control binds a free port itself and logs it (picking a
        // "free" port here and passing it would race with parallel tests).
        let http = "127.0.0.1:0".to_owned();
        let data = dir.path().join("control-data");
        let data = data.to_str().expect("utf-8").to_owned();
        let ca = sim.ca_file().to_str().expect("utf-8").to_owned();
        let mediad = Daemon::start(
            "mediad",
            "mediad",
            dir.path(),
            &["--ipc-socket", &socket, "--extra-ca-file", &ca],
        );
        let gateway = sim.gateway_url();
        let rest = sim.rest_base();
        let mut args = vec![
            "--mediad-socket",
            &socket,
            "--http-addr",
            &http,
            "--gateway-url",
            &gateway,
            "--discord-token",
            token,
            "--rest-base",
            &rest,
            "--data-dir",
            &data,
            "--extra-ca-file",
            &ca,
        ];
        args.extend_from_slice(extra);
        let control = Daemon::start_env("control", "control", dir.path(), &args, env);
        let token = extra
            .iter()
            .position(|a| *a == "--dashboard-token")
            .and_then(|i| extra.get(i + 1))
            .map(|t| (*t).to_owned());
        let http = control_addr(&control).await;
        let control_args = args.iter().map(|a| (*a).to_owned()).collect();
        let control_env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let s = Self {
            control_args,
            control_env,
            restarts: 0,
            token,
            sim,
            _dir: dir,
            _mediad: mediad,
            control,
            http,
        };
        // Wait for the gateway session and GUILD_CREATE (every scenario
        // used here has someone sharing).
        wait_for(T, "control's gateway session", || async {
            let v = s.state().await;
            v["sharers"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
                .then_some(())
        })
        .await;
        s
    }

    /// mediad's process id (CPU accounting in benches).
    pub fn mediad_pid(&self) -> u32 {
        self._mediad.child.id()
    }

    /// Kills control (SIGKILL, as a crash) and starts it again with the
    /// same arguments, data dir and HTTP address; waits for its gateway
    /// session.
    pub async fn restart_control(&mut self) {
        self.restart_control_after(|_| {}).await;
    }

    /// [`Self::restart_control`], calling `while_down` with control's data
    /// dir between the kill and the new start.
    pub async fn restart_control_after(&mut self, while_down: impl FnOnce(&std::path::Path)) {
        self.restart_control_how(false, while_down).await;
    }

    /// Stops control gracefully (SIGTERM, waits for it to exit) and starts
    /// it again, like [`Self::restart_control`].
    pub async fn terminate_and_restart_control(&mut self) {
        self.restart_control_how(true, |_| {}).await;
    }

    async fn restart_control_how(
        &mut self,
        graceful: bool,
        while_down: impl FnOnce(&std::path::Path),
    ) {
        if graceful {
            let status = self.control.terminate();
            assert!(
                status.success(),
                "control exits cleanly on SIGTERM: {status:?}"
            );
        } else {
            self.control.kill();
        }
        while_down(&self._dir.path().join("control-data"));
        self.restarts += 1;
        let mut args = self.control_args.clone();
        if let Some(i) = args.iter().position(|a| a == "--http-addr") {
            args[i + 1] = self.http.clone();
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let label = format!("control-{}", self.restarts);
        let env: Vec<(&str, &str)> = self
            .control_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.control = Daemon::start_env("control", &label, self._dir.path(), &args, &env);
        self.http = control_addr(&self.control).await;
        wait_for(T, "control's gateway session after the restart", || async {
            let v = self.state().await;
            v["sharers"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
                .then_some(())
        })
        .await;
    }

    /// `POST /api/voice/screen-watch` (asserts 200).
    pub async fn watch(&self, body: Value) -> Value {
        let headers: Vec<(&str, &str)> = self
            .token
            .as_deref()
            .map(|t| ("x-dashboard-token", t))
            .into_iter()
            .collect();
        let (status, v) = http_with(
            &self.http,
            "POST",
            "/api/voice/screen-watch",
            Some(&body),
            &headers,
        )
        .await
        .expect("control answers");
        assert_eq!(status, 200, "{v}");
        v
    }

    /// Starts a watch for `requester` (optionally of `target`).
    pub async fn start_watch(&self, requester: &str, target: Option<&str>) -> Value {
        let mut body = json!({"action": "start", "guildId": GUILD, "requesterId": requester});
        if let Some(t) = target {
            body["target"] = json!(t);
        }
        self.watch(body).await
    }

    /// `GET /api/voice/state`.
    pub async fn state(&self) -> Value {
        match &self.token {
            Some(t) => get_json_token(&self.http, "/api/voice/state", t).await,
            None => get_json(&self.http, "/api/voice/state").await,
        }
    }

    /// Waits (≤ 30 s) until no watch is running; panics with `what`
    /// otherwise.
    pub async fn wait_no_watches(&self, what: &str) {
        wait_for(T, what, || async {
            self.state().await["watches"]
                .as_array()
                .is_some_and(Vec::is_empty)
                .then_some(())
        })
        .await;
    }

    /// Waits (≤ 60 s) for the first watch's frameReady; panics with the
    /// state and log tail otherwise.
    pub async fn frame_ready(&self) -> Duration {
        let t0 = Instant::now();
        let mut last = Value::Null;
        while t0.elapsed() < Duration::from_secs(60) {
            last = self.state().await;
            if last["watches"][0]["frameReady"] == json!(true) {
                return t0.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = self.log();
        let tail: String = log
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        let media = get_json(&self.http, "/api/media/state").await;
        panic!(
            "no frameReady within 60 s\nstate: {last}\nmedia: {media}\ncontrol log tail:\n{tail}"
        );
    }

    /// A sim admin action (asserts it was accepted).
    pub async fn action(&self, body: Value) {
        let admin = self.sim.admin_base();
        let addr = admin
            .trim_start_matches("http://")
            .split('/')
            .next()
            .expect("host")
            .to_owned();
        let (status, v) = http(&addr, "POST", "/admin/actions", Some(&body))
            .await
            .expect("sim admin");
        assert!(status < 300, "sim refused {body}: {status} {v}");
    }

    /// control's log so far.
    pub fn log(&self) -> String {
        self.control.log_text()
    }

    /// mediad reports its voice transport ready (through control).
    pub async fn voice_ready(&self) -> bool {
        let media = get_json(&self.http, "/api/media/state").await;
        media["mediad"]["transports"].as_array().is_some_and(|t| {
            t.iter()
                .any(|t| t["role"] == json!("voice") && t["status"] == json!("ready"))
        })
    }

    /// The sim's admin address (`host:port`).
    pub fn sim_admin_addr(&self) -> String {
        let admin = self.sim.admin_base();
        admin
            .trim_start_matches("http://")
            .split('/')
            .next()
            .expect("host")
            .to_owned()
    }

    /// How many share-link offers the sim's text channels received.
    pub async fn offers(&self) -> usize {
        get_json(&self.sim_admin_addr(), "/admin/messages")
            .await
            .to_string()
            .matches("/share/")
            .count()
    }
}

/// Waits for control's "control started" log line and returns its address.
pub async fn control_addr(control: &Daemon) -> String {
    wait_for(T, "control's HTTP address", || {
        let log = control.log_text();
        async move {
            log.lines()
                .find(|l| l.contains("control started"))
                .and_then(|l| l.split("addr=").nth(1))
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_owned)
        }
    })
    .await
}

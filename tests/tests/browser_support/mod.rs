//! The browser harness of `browser.rs`: chromedriver + headless Chromium
//! through fantoccini, screenshots, the admin HTTP helper, the share list,
//! and a TCP relay that stands in for the public host's tunnel.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use e2e::stack::Stack;
use serde_json::{Value, json};

// ---------------------------------------------------------------------
// The browser.
// ---------------------------------------------------------------------

/// One headless Chromium session behind its own chromedriver, with a
/// fresh profile directory. Dropped, chromedriver's process group
/// (chromedriver and the Chromium it launched) is killed.
pub struct Browser {
    pub client: fantoccini::Client,
    driver: std::process::Child,
    _dir: tempfile::TempDir,
}

/// The first existing path among `$env` and `candidates`; a clear failure
/// otherwise.
pub fn executable(env: &str, candidates: &[&str], what: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        let p = PathBuf::from(p);
        assert!(
            p.exists(),
            "{env}={} does not exist (the browser tests need chromium and chromedriver; scripts/setup installs Debian's)",
            p.display()
        );
        return p;
    }
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "{what} not found (looked for {candidates:?}; or set {env}). \
                 The browser tests need Debian's chromium and chromium-driver: run scripts/setup."
            )
        })
}

/// Chromium and chromedriver, or a failure that says how to install them
/// (checked first thing, before a stack is started).
pub fn browser_executables() -> (PathBuf, PathBuf) {
    (
        executable(
            "CHROME",
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
            "chromium",
        ),
        executable(
            "CHROMEDRIVER",
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
            "chromedriver",
        ),
    )
}

impl Browser {
    /// Starts chromedriver on a port it picks itself and opens a Chromium
    /// session with the base flags, the fake media devices and `extra`.
    pub async fn start(extra: &[String]) -> Self {
        Self::start_with(true, extra).await
    }

    /// [`Browser::start`]; `fake_media` false leaves out the fake media
    /// flags (the fake device would take the place of a tab capture).
    pub async fn start_with(fake_media: bool, extra: &[String]) -> Self {
        use std::io::BufRead;
        use std::os::unix::process::CommandExt;
        let (chrome, chromedriver) = browser_executables();
        let dir = tempfile::tempdir().expect("tempdir");
        let profile = dir.path().join("profile");
        let log = dir.path().join("chromedriver.log");
        // Its own process group, so that Drop can end chromedriver and
        // the browser it started together.
        let mut driver = std::process::Command::new(&chromedriver)
            .arg("--port=0")
            .arg(format!("--log-path={}", log.display()))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        // "ChromeDriver was started successfully on port N."
        let stdout = driver.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line
                    .split("started successfully on port ")
                    .nth(1)
                    .and_then(|p| p.trim_end_matches('.').trim().parse::<u16>().ok())
                {
                    let _ = tx.send(port);
                }
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                let _ = driver.kill();
                panic!(
                    "chromedriver did not report its port within 30 s; log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        let mut args: Vec<String> = [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--headless=new",
            "--window-size=1280,1000",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if fake_media {
            args.push("--use-fake-ui-for-media-stream".into());
            args.push("--use-fake-device-for-media-stream".into());
        }
        args.push(format!("--user-data-dir={}", profile.display()));
        args.extend(extra.iter().cloned());
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chrome, "args": args},
        });
        let caps = caps.as_object().cloned().expect("object");
        let url = format!("http://127.0.0.1:{port}");
        let connect = async {
            fantoccini::ClientBuilder::new(
                hyper_util::client::legacy::connect::HttpConnector::new(),
            )
            .capabilities(caps)
            .connect(&url)
            .await
        };
        let client = match tokio::time::timeout(Duration::from_secs(90), connect).await {
            Ok(Ok(c)) => c,
            other => {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                let _ = driver.kill();
                panic!(
                    "no Chromium session from chromedriver ({}): {other:?}\nchromedriver log tail (newest first):\n{}",
                    chrome.display(),
                    tail.join("\n")
                );
            }
        };
        Self {
            client,
            driver,
            _dir: dir,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls `script` until it returns something other than null/false;
    /// on timeout, fails with the page's visible text.
    pub async fn wait_js(&self, timeout: Duration, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.js(script).await;
            if !(v.is_null() || v == json!(false)) {
                return v;
            }
            if Instant::now() > deadline {
                let text = self.js("return document.body.innerText").await;
                panic!(
                    "timed out after {timeout:?} waiting for {what}; the page reads:\n{}",
                    text.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    /// Saves a PNG screenshot as `$CARGO_TARGET_DIR/artifacts/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 1000,
            "a PNG screenshot"
        );
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).expect("artifacts directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &png).expect("write screenshot");
        println!("screenshot: {}", path.display());
        path
    }

    /// Ends the session (chromedriver quits Chromium), then chromedriver.
    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(20), self.client.clone().close()).await;
        // Drop kills what is left.
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver leads its own process group; Chromium inherited it.
        let Ok(pgid) = i32::try_from(self.driver.id()) else {
            return;
        };
        #[allow(unsafe_code)]
        // SAFETY: kill(2) with plain integers; the group is the one this
        // test created for its own chromedriver.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.driver.wait();
    }
}

/// `$CARGO_TARGET_DIR/artifacts`, or `<target>/artifacts` beside the test
/// executable when the variable is not set.
pub fn artifacts_dir() -> PathBuf {
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        let t = PathBuf::from(t);
        if t.is_absolute() {
            return t.join("artifacts");
        }
    }
    // target/<profile>/deps/<test>
    let exe = std::env::current_exe().expect("test executable");
    exe.ancestors()
        .nth(3)
        .map(|t| t.join("artifacts"))
        .expect("target directory")
}

// ---------------------------------------------------------------------
// HTTP helpers.
// ---------------------------------------------------------------------

/// One HTTP/1.1 request with optional `Host` override, admin token and
/// JSON body; (status, JSON body or Null, raw body).
pub async fn request(
    addr: &str,
    method: &str,
    path: &str,
    host: Option<&str>,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value, String) {
    let headers: Vec<(&str, &str)> = token
        .map(|t| ("x-dashboard-token", t))
        .into_iter()
        .collect();
    let reply = e2e::http_raw(addr, method, path, host, &headers, body)
        .await
        .unwrap_or_else(|e| panic!("{method} {path} on {addr}: {e}"));
    (reply.status, reply.json(), reply.body)
}

/// The live share sessions (admin list).
pub async fn share_sessions(s: &Stack) -> Vec<Value> {
    let (status, v, raw) = request(
        &s.http,
        "GET",
        "/api/voice/share-sessions",
        None,
        s.token.as_deref(),
        None,
    )
    .await;
    assert_eq!(status, 200, "share list: {raw}");
    v["sessions"].as_array().cloned().unwrap_or_default()
}

/// A TCP relay standing in for the public host's tunnel: it listens
/// before control starts (so control's `--public-url` can name its port)
/// and forwards every connection to control once its address is known.
pub struct Tunnel {
    pub port: u16,
    listener: Option<tokio::net::TcpListener>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Tunnel {
    pub async fn bind() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind tunnel");
        let port = listener.local_addr().expect("addr").port();
        Self {
            port,
            listener: Some(listener),
            task: None,
        }
    }

    pub fn forward_to(&mut self, target: String) {
        let listener = self.listener.take().expect("forwarding once");
        self.task = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

/// The bound port in `host:port`.
pub fn port_of(addr: &str) -> u16 {
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("host:port")
}

/// Seconds of an `m:ss` countdown.
pub fn countdown_secs(text: &str) -> Option<u64> {
    let (m, s) = text.split_once(':')?;
    let (m, s): (u64, u64) = (m.parse().ok()?, s.parse().ok()?);
    (s < 60 && s.to_string().len() <= 2).then_some(m * 60 + s)
}

// ---------------------------------------------------------------------
// 1. The share page through the public host.
// ---------------------------------------------------------------------

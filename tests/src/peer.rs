//! The @discordjs/voice peer (tests/peers/discordjs/peer.js) as a child
//! process: started with a JSON config, its JSON event lines collected by a
//! task, its stderr in a file. Needs `scripts/setup-peers`.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::sim_mediad::lock;

/// The Node project of the peer.
pub fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/discordjs")
}

/// The Node binary: Node 22 from the `node` npm package (what
/// @discordjs/voice 0.19 asks for), installed by scripts/setup-peers.
pub fn node_bin() -> PathBuf {
    let node = peer_dir().join("node_modules/.bin/node");
    assert!(
        node.exists(),
        "{} not found: run scripts/setup-peers (npm ci in tests/peers/discordjs)",
        node.display()
    );
    node
}

/// The running Node peer: its JSON event lines, its stderr in a file.
pub struct NodePeer {
    child: tokio::process::Child,
    events: Arc<Mutex<Vec<Value>>>,
    stderr: PathBuf,
}

impl NodePeer {
    /// Starts peer.js with `cfg`, trusting `ca_file`, logging to
    /// `dir/peer-discordjs.log`.
    pub fn start(dir: &Path, ca_file: &Path, cfg: &Value) -> Self {
        let stderr = dir.join("peer-discordjs.log");
        let err = std::fs::File::create(&stderr).expect("peer log file");
        let mut child = tokio::process::Command::new(node_bin())
            .arg(peer_dir().join("peer.js"))
            .arg(cfg.to_string())
            .current_dir(peer_dir())
            .env("NODE_EXTRA_CA_CERTS", ca_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .expect("node peer starts");
        let out = child.stdout.take().expect("piped stdout");
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let v = serde_json::from_str(&line)
                    .unwrap_or_else(|_| json!({ "event": "unparsed", "line": line }));
                lock(&sink).push(v);
            }
        });
        Self {
            child,
            events,
            stderr,
        }
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<Value> {
        lock(&self.events).clone()
    }

    /// The events named `name`.
    pub fn named(&self, name: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == name)
            .collect()
    }

    /// The last event named `name`.
    pub fn last(&self, name: &str) -> Option<Value> {
        self.named(name).pop()
    }

    /// Events (but the per-frame `sent`/`decoded`) and the end of the debug
    /// log, for failure messages.
    pub fn describe(&self) -> String {
        let events: Vec<String> = self
            .events()
            .iter()
            .filter(|e| e["event"] != "sent" && e["event"] != "decoded")
            .map(Value::to_string)
            .collect();
        let log = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "peer events: {events:#?}\npeer log tail:\n{}",
            tail.join("\n")
        )
    }

    /// Closes stdin (the peer's stop signal) and waits up to 10 s for its
    /// exit: `None` when it has not exited by then.
    pub async fn stop(&mut self) -> Option<ExitStatus> {
        drop(self.child.stdin.take());
        tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .ok()
            .map(|r| r.expect("peer wait"))
    }
}

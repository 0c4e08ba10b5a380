//! The rig the mediad tests share: an in-process discord-sim and the real
//! mediad binary, driven over IPC by the test (standing in for control).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ipc_conn::Connection;
use ipc_schema::{ControlMsg, MediadMsg, PROTOCOL_VERSION, TransportRole, TransportStatus};
use sim_gateway::{Scenario, SimConfig, SimHandle};

use crate::{Daemon, connect_tool, wait_for};

/// How long the mediad tests wait for any one thing.
pub const T: Duration = Duration::from_secs(60);

/// Locks `m`, taking the data of a poisoned lock (a panicked test task).
pub fn lock<V>(m: &Mutex<V>) -> std::sync::MutexGuard<'_, V> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A sim on a built-in scenario and mediad trusting its CA, connected.
pub struct SimMediad {
    /// Holds mediad's socket and log (and whatever else the test puts there).
    pub dir: tempfile::TempDir,
    /// The mediad process.
    pub mediad: Daemon,
    /// The simulator.
    pub sim: SimHandle,
    /// The IPC connection to mediad, after the tool hello.
    pub conn: Connection<ControlMsg, MediadMsg>,
}

impl SimMediad {
    /// Starts the sim on `scenario` (seed 7) and mediad in a new temp dir.
    pub async fn start(scenario: &str) -> Self {
        Self::start_in(tempfile::tempdir().expect("tempdir"), scenario).await
    }

    /// Like [`SimMediad::start`], in a temp dir the test already made.
    pub async fn start_in(dir: tempfile::TempDir, scenario: &str) -> Self {
        let sim = sim_gateway::start(SimConfig {
            listen: "127.0.0.1:0".parse().expect("literal"),
            scenario: Scenario::builtin(scenario).expect("built-in scenario"),
            seed: 7,
        })
        .await
        .expect("sim starts");
        let socket = dir.path().join("mediad.sock");
        let mediad = Daemon::start(
            "mediad",
            "mediad",
            dir.path(),
            &[
                "--ipc-socket",
                socket.to_str().expect("utf-8 path"),
                "--extra-ca-file",
                sim.ca_file().to_str().expect("utf-8 path"),
            ],
        );
        let conn = wait_for(T, "mediad accepts", || {
            let s = socket.clone();
            async move { connect_tool(&s, PROTOCOL_VERSION).await.ok() }
        })
        .await;
        Self {
            dir,
            mediad,
            sim,
            conn,
        }
    }
}

/// Everything mediad sends on `rx`, collected by a task.
pub fn drain(mut rx: ipc_conn::ConnReceiver<MediadMsg>) -> Arc<Mutex<Vec<MediadMsg>>> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    tokio::spawn(async move {
        while let Some(Ok(m)) = rx.recv().await {
            lock(&sink).push(m);
        }
    });
    log
}

/// Waits up to [`T`] until `from_mediad` holds a voice-slot `Ready`.
pub async fn wait_voice_ready(from_mediad: &Mutex<Vec<MediadMsg>>) {
    wait_for(T, "mediad's voice slot ready", || {
        let ready = lock(from_mediad).iter().any(|m| {
            matches!(m, MediadMsg::TransportState(s)
                if s.role == TransportRole::Voice && s.status == TransportStatus::Ready)
        });
        async move { ready.then_some(()) }
    })
    .await;
}

//! The rig the mediad tests share: an in-process discord-sim and the real
//! mediad binary, driven over IPC by the test (standing in for control).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ipc_conn::{ConnSender, Connection};
use ipc_schema::{
    ControlMsg, MediadMsg, PROTOCOL_VERSION, TransportRole, TransportStatus, UtteranceId,
    VoicePlayChunk,
};
use sim_gateway::{Scenario, SimConfig, SimHandle};

use crate::gateway_client::{AGENT_TOKEN, SimUser};
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

/// A [`SimMediad`] and the agent's own connection to the sim's main
/// gateway: the test joins voice and watches Go Live through it, then
/// hands the grants to mediad.
pub struct AgentMediad {
    /// Holds mediad's socket and log.
    pub dir: tempfile::TempDir,
    /// The mediad process.
    pub mediad: Daemon,
    /// The simulator.
    pub sim: SimHandle,
    /// The IPC connection to mediad, after the tool hello.
    pub conn: Connection<ControlMsg, MediadMsg>,
    /// The agent on the sim's main gateway.
    pub user: SimUser,
}

impl AgentMediad {
    /// [`SimMediad::start`] on `scenario`, then the agent logs in.
    pub async fn start(scenario: &str) -> Self {
        let SimMediad {
            dir,
            mediad,
            sim,
            conn,
        } = SimMediad::start(scenario).await;
        let user = agent_user(&sim).await;
        Self {
            dir,
            mediad,
            sim,
            conn,
            user,
        }
    }

    /// Queues `msg` to mediad.
    pub fn send(&self, msg: ControlMsg) {
        self.conn.sender.send(msg).expect("send to mediad");
    }

    /// mediad's next message, before `deadline`; panics on a timeout
    /// (naming `what()`), a closed connection or an undecodable message.
    pub async fn recv_before(
        &mut self,
        deadline: tokio::time::Instant,
        what: impl FnOnce() -> String,
    ) -> MediadMsg {
        tokio::time::timeout_at(deadline, self.conn.receiver.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {}", what()))
            .expect("mediad connection open")
            .expect("mediad message decodes")
    }
}

/// The agent (the scenario's `sim-user-agent`) logged in to `sim`'s main
/// gateway.
pub async fn agent_user(sim: &SimHandle) -> SimUser {
    SimUser::connect(&sim.gateway_url(), AGENT_TOKEN, sim.ca_pem()).await
}

/// `agent` joins voice through the sim's gateway and hands the grant to
/// mediad on `to_mediad`.
pub async fn hand_voice_to_mediad(agent: &mut SimUser, to_mediad: &ConnSender<ControlMsg>) {
    let voice = agent.join_voice().await;
    to_mediad
        .send(ControlMsg::VoiceConnect(voice))
        .expect("send to mediad");
}

/// Utterance `id` as control streams it: 100 ms `VoicePlay` chunks of
/// `ms` milliseconds of a `hz` sine of peak `amplitude`, 48 kHz mono
/// s16le, the last one marked.
pub fn tone_chunks(id: u64, ms: usize, hz: f64, amplitude: f64) -> Vec<ControlMsg> {
    let samples: Vec<i16> = (0..ms * 48)
        .map(|i| ((i as f64 * hz * std::f64::consts::TAU / 48_000.0).sin() * amplitude) as i16)
        .collect();
    let parts: Vec<&[i16]> = samples.chunks(4800).collect();
    let n = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            ControlMsg::VoicePlay(VoicePlayChunk {
                id: UtteranceId(id),
                seq: i as u32,
                pcm: c.iter().flat_map(|s| s.to_le_bytes()).collect(),
                last: i + 1 == n,
            })
        })
        .collect()
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

//! An independent voice client against the simulator: songbird 0.6.1, the
//! Rust Discord voice library from crates.io (its driver, its voice gateway
//! v4 handshake, its IP discovery, its transport decryption and its Opus
//! decoder; none of this project's crates), joins the simulator's voice
//! server over `wss://` trusting the sim's CA, and must decode the audio of
//! a simulated participant who speaks.
//!
//! The peer is tests/peers/songbird-peer, a standalone Cargo project with
//! its own lockfile, built by scripts/build-peers (scripts/test runs it)
//! into `$CARGO_TARGET_DIR/songbird-peer/release/songbird-peer`. This test
//! obtains the voice credentials from the sim's main gateway itself
//! (`SimUser`) and hands them to the peer, as a bot's gateway library would
//! hand VOICE_STATE_UPDATE/VOICE_SERVER_UPDATE to songbird.
//!
//! Without the binary the test prints why and passes, unless
//! `SONGBIRD_PEER_REQUIRED` is set (then it fails).
//!
//! What songbird holds the simulator to (songbird 0.6.1 and
//! serenity-voice-model 0.3.0 sources, `~/.cargo/registry/src/*/`):
//! - `wss://{endpoint}/?v=4` (songbird `src/driver/connection/mod.rs`
//!   `generate_url`; `GATEWAY_VERSION = 4` in serenity-voice-model
//!   `src/constants.rs`): TLS only, verified against its roots.
//! - op 2 with `ip`, `port`, `ssrc`, `modes`; op 8 with
//!   `heartbeat_interval`; either order, other ops buffered meanwhile.
//! - IP discovery: a 74-byte type 1 request, a type 2 answer whose address
//!   is NUL-terminated text (connection `new_inner`: `IllegalIp` otherwise).
//! - op 4 with `mode`, `secret_key` and a non-optional
//!   `dave_protocol_version` (serenity-voice-model `src/payload.rs`
//!   `SessionDescription`), `mode` equal to the one selected
//!   (`init_cipher`: `CryptoModeInvalid`).
//! - op 3 `d` is the bare nonce in v4 (`Heartbeat` is `serde(transparent)`),
//!   and op 6 must echo it (`src/driver/tasks/ws.rs`: "Heartbeat nonce
//!   mismatch!" is a warning, which fails these tests).
//! - op 5 maps an SSRC to its user before its packets are attributed.
//! - DAVE: a frame ending in the 0xFAFA marker is dropped unless davey
//!   decrypts it (`src/driver/tasks/udp_rx/mod.rs`).
//!
//! songbird drops any message it cannot parse (`src/ws.rs`
//! `convert_ws_message`, logged at debug), so it witnesses the fields above,
//! not the absence of unknown ones.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use e2e::gateway_client::{AGENT_TOKEN, SimUser};
use ipc_schema::VoiceConnect;
use serde_json::{Value, json};
use sim_gateway::{Scenario, SimConfig, SimHandle, TimelineEntry};
use sim_media_server::SessionReport;

/// How long the peer listens after connecting.
const LISTEN_SECS: u64 = 4;
/// The voice server's heartbeat interval (op 8) in these runs.
const HEARTBEAT_MS: u64 = 1000;

/// `$CARGO_TARGET_DIR/songbird-peer/release/songbird-peer`, the target
/// directory being the one this test runs from (or `SONGBIRD_PEER`).
fn peer_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SONGBIRD_PEER") {
        return p.into();
    }
    let exe = std::env::current_exe().expect("test executable path");
    // <target>/<profile>/deps/<test>
    let target = exe.ancestors().nth(3).expect("target directory");
    target.join("songbird-peer/release/songbird-peer")
}

/// Built-in scenario `name` with a 1 s media heartbeat and Bob speaking
/// from the start (the built-ins have him speak 3 s out of every 12), so the
/// peer hears him whenever it joins.
fn scenario(name: &str) -> Scenario {
    let mut s = Scenario::builtin(name).expect("built-in scenario");
    // Several of songbird's (v4, bare-nonce) heartbeats within the window.
    s.settings.media_heartbeat_interval_ms = HEARTBEAT_MS;
    s.timeline
        .retain(|e| !matches!(e.action, sim_gateway::Action::Speak { .. }));
    let speak: TimelineEntry =
        serde_json::from_value(json!({"at_ms": 0, "action": "speak", "user": "bob", "on": true}))
            .expect("timeline entry");
    s.timeline.push(speak);
    s
}

fn user_id(s: &Scenario, name: &str) -> u64 {
    s.users
        .iter()
        .find(|u| u.name == name)
        .map(|u| u.id.0)
        .expect("user in scenario")
}

/// What the peer printed, one JSON object per line.
struct PeerRun {
    lines: Vec<Value>,
    stderr: String,
}

impl PeerRun {
    fn events(&self, name: &str) -> impl Iterator<Item = &Value> {
        self.lines.iter().filter(move |l| l["event"] == name)
    }

    fn one(&self, name: &str) -> &Value {
        self.events(name)
            .next()
            .unwrap_or_else(|| panic!("peer printed no {name}: {self}"))
    }
}

impl std::fmt::Display for PeerRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for l in &self.lines {
            writeln!(f, "{l}")?;
        }
        write!(f, "--- stderr ---\n{}", self.stderr)
    }
}

/// Runs the peer with the grant, trusting the sim's CA through
/// `SSL_CERT_FILE` (songbird-peer's rustls roots come from
/// rustls-native-certs, which reads that file). Returns its output and the
/// sim's report of its session as last seen while connected.
async fn run_peer(
    bin: &PathBuf,
    sim: &SimHandle,
    voice: &VoiceConnect,
    crypto: &str,
) -> (PeerRun, Option<SessionReport>) {
    let input = json!({
        "guild_id": voice.guild_id.0,
        "channel_id": voice.channel_id.0,
        "user_id": voice.user_id.0,
        "session_id": voice.session_id.expose(),
        "endpoint": voice.endpoint,
        "token": voice.token.expose(),
        "seconds": LISTEN_SECS,
        "crypto": crypto,
    });
    let mut child = tokio::process::Command::new(bin)
        .arg(input.to_string())
        .env("SSL_CERT_FILE", sim.ca_file())
        .env_remove("SSL_CERT_DIR")
        .env("RUST_LOG", "songbird=info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("songbird-peer starts");
    let read_all = |pipe: Option<Box<dyn tokio::io::AsyncRead + Send + Unpin>>| {
        tokio::spawn(async move {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_string(&mut text).await;
            }
            text
        })
    };
    let stdout = read_all(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = read_all(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + Duration::from_secs(LISTEN_SECS + 60);
    let mut live = None;
    let status = loop {
        tokio::select! {
            st = child.wait() => break st.expect("songbird-peer exit status"),
            () = tokio::time::sleep(Duration::from_millis(100)) => {
                assert!(Instant::now() < deadline, "songbird-peer did not finish");
                live = sim
                    .voice()
                    .report()
                    .sessions
                    .into_iter()
                    .find(|s| s.user_id == voice.user_id.0 && s.connected)
                    .or(live);
            }
        }
    };
    let run = PeerRun {
        lines: stdout
            .await
            .expect("stdout reader")
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
        stderr: stderr.await.expect("stderr reader"),
    };
    assert!(status.success(), "songbird-peer {status}: {run}");
    (run, live)
}

/// What one run showed: the peer's output, the sim's view of its session,
/// and the peer's audio line for Bob's SSRC.
struct Heard {
    run: PeerRun,
    session: SessionReport,
    audio: Value,
}

/// Starts the sim with `scenario_name` (Bob speaking throughout), joins
/// voice as the agent user, runs songbird-peer with `crypto` as its
/// preferred mode, and checks what holds in every case: songbird connected
/// on v4 with the SSRC the sim gave it, saw op 5 map Bob's SSRC to Bob, and
/// decoded sound (not silence) from that SSRC for most of the window.
/// `None` when the peer is not built (and not required).
async fn songbird_hears_bob(scenario_name: &str, crypto: &str) -> Option<Heard> {
    let bin = peer_binary();
    if !bin.exists() {
        let why = format!(
            "{} not built (scripts/build-peers builds it; scripts/test runs that)",
            bin.display()
        );
        assert!(
            std::env::var_os("SONGBIRD_PEER_REQUIRED").is_none(),
            "SONGBIRD_PEER_REQUIRED is set but {why}"
        );
        eprintln!("skipping: {why}");
        return None;
    }
    let scenario = scenario(scenario_name);
    let bob = user_id(&scenario, "bob");
    let sim = sim_gateway::start(SimConfig {
        listen: "127.0.0.1:0".parse().expect("literal"),
        scenario,
        seed: 7,
    })
    .await
    .expect("sim starts");
    let mut user = SimUser::connect(&sim.gateway_url(), AGENT_TOKEN, sim.ca_pem()).await;
    let voice = user.join_voice().await;

    let (run, session) = run_peer(&bin, &sim, &voice, crypto).await;

    let ssrc = run.one("connected")["ssrc"].as_u64().expect("own ssrc");
    let session = session.unwrap_or_else(|| panic!("the sim saw songbird connected: {run}"));
    let report = sim.voice().report();
    assert_eq!(u64::from(session.ssrc), ssrc, "{run}");
    assert_eq!(session.gateway_version, 4, "songbird speaks v4");
    // songbird heartbeats on the interval of op 8 and checks each op 6 echoes
    // its nonce (a mismatch is a warning, below).
    let heartbeats = session.ops_received.get(&3).copied().unwrap_or(0);
    assert!(
        heartbeats >= LISTEN_SECS * 1000 / HEARTBEAT_MS - 1,
        "{heartbeats} heartbeats: {run}"
    );
    // Nothing songbird found worth a warning: no nonce mismatch, no DAVE
    // decryption failure, no unexpected close.
    assert_eq!(run.events("songbird_log").count(), 0, "{run}");

    // Bob's SSRC, as the sim announces (op 5) and sends it.
    let bob_ssrc = report
        .rooms
        .iter()
        .flat_map(|r| &r.participants)
        .find(|p| p.user_id == bob)
        .and_then(|p| p.audio_ssrc)
        .expect("bob has an audio ssrc");
    let speaking = run
        .events("speaking")
        .find(|s| s["ssrc"] == bob_ssrc)
        .unwrap_or_else(|| panic!("op 5 for bob's ssrc {bob_ssrc}: {run}"));
    assert_eq!(speaking["user_id"], bob, "{run}");

    // songbird decrypted and decoded Bob's Opus into sound: 50 frames a
    // second, most of the listening window.
    let audio = run
        .events("audio")
        .find(|a| a["ssrc"] == bob_ssrc)
        .unwrap_or_else(|| panic!("no audio from bob's ssrc {bob_ssrc}: {run}"))
        .clone();
    assert_eq!(audio["user_id"], bob, "{run}");
    let decoded = audio["decoded_frames"].as_u64().unwrap_or(0);
    let sound = audio["sound_frames"].as_u64().unwrap_or(0);
    let rms = audio["rms"].as_f64().unwrap_or(0.0);
    assert!(
        decoded >= 25 * LISTEN_SECS,
        "decoded {decoded} frames: {run}"
    );
    assert!(
        sound >= decoded / 2,
        "{sound} of {decoded} frames with sound: {run}"
    );
    assert!(rms > 0.005, "decoded RMS {rms}: {run}");
    assert!(run.one("done")["connected"] == true, "{run}");
    eprintln!("songbird ({scenario_name}, {crypto}) decoded bob: {audio}");
    sim.shutdown().await;
    Some(Heard {
        run,
        session,
        audio,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn songbird_decodes_a_simulated_speaker_over_wss() {
    let Some(h) = songbird_hears_bob("demo", "aes256gcm").await else {
        return;
    };
    let chosen = &h.run.one("crypto")["chosen"];
    assert_eq!(chosen, "Aes256Gcm", "{}", h.run);
    assert_eq!(h.session.mode.as_deref(), Some("aead_aes256_gcm_rtpsize"));
    assert_eq!(h.session.dave_protocol_version, 0, "demo has DAVE off");
    assert!(h.audio["packets"].as_u64().unwrap_or(0) > 0);
}

/// The sim's other mode, through songbird's own XChaCha20-Poly1305.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn songbird_decodes_a_simulated_speaker_with_xchacha20() {
    let Some(h) = songbird_hears_bob("demo", "xchacha20").await else {
        return;
    };
    let chosen = &h.run.one("crypto")["chosen"];
    assert_eq!(chosen, "XChaCha20Poly1305", "{}", h.run);
    assert_eq!(
        h.session.mode.as_deref(),
        Some("aead_xchacha20_poly1305_rtpsize")
    );
}

/// DAVE: songbird (davey 0.1) joins the room's MLS group and decrypts
/// Bob's end-to-end encrypted frames before decoding them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn songbird_decodes_a_dave_encrypted_speaker() {
    let Some(h) = songbird_hears_bob("dave", "aes256gcm").await else {
        return;
    };
    assert_eq!(
        h.session.dave_max_protocol_version, 1,
        "songbird offers DAVE 1"
    );
    assert_eq!(h.session.dave_protocol_version, 1, "{}", h.run);
    assert!(h.session.dave_in_group, "{:?}", h.session);
    // songbird drops a frame carrying the DAVE marker that it cannot
    // decrypt (udp_rx: "Silently drop encrypted packets"), so decoding more
    // of Bob's packets than the sim sent it unencrypted means it decrypted
    // DAVE frames.
    let encrypted = h.session.dave_encrypted_frames_sent;
    let plain = h.session.dave_passthrough_frames_sent;
    let packets = h.audio["packets"].as_u64().unwrap_or(0);
    assert!(encrypted > 0, "{:?}", h.session);
    assert!(
        packets > plain,
        "songbird decoded {packets} packets; {plain} were sent without DAVE, {encrypted} with"
    );
    eprintln!(
        "DAVE: {encrypted} frames sent encrypted, {plain} passthrough; songbird decoded {packets}"
    );
}

//! TLS as a user meets it: real Discord is `wss://`/`https://` only, and so
//! is discord-sim. A daemon that does not trust the server's certificate
//! says so plainly (in `/healthz` for control, in the transport status for
//! mediad) instead of hanging; the sim's plain-text listeners do not exist.

use std::time::Duration;

use e2e::gateway_client::{AGENT_TOKEN, SimUser};
use e2e::{Daemon, get_json, wait_for};
use ipc_schema::{ControlMsg, MediadMsg, PROTOCOL_VERSION, TransportRole, TransportStatus};
use sim_gateway::{Scenario, SimConfig};

const T: Duration = Duration::from_secs(20);

async fn sim() -> sim_gateway::SimHandle {
    sim_gateway::start(SimConfig {
        listen: "127.0.0.1:0".parse().expect("literal"),
        scenario: Scenario::builtin("demo").expect("demo"),
        seed: 11,
    })
    .await
    .expect("sim starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_without_the_sims_ca_reports_a_certificate_error_in_healthz() {
    let sim = sim().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let gateway = sim.gateway_url();
    assert!(gateway.starts_with("wss://"), "{gateway}");
    let control = Daemon::start(
        "control",
        "control",
        dir.path(),
        &[
            "--mediad-socket",
            dir.path().join("none.sock").to_str().expect("utf-8"),
            "--http-addr",
            "127.0.0.1:0",
            "--gateway-url",
            &gateway,
            "--rest-base",
            &sim.rest_base(),
            "--discord-token",
            AGENT_TOKEN,
            "--data-dir",
            data.to_str().expect("utf-8"),
        ],
    );
    let http = e2e::stack::control_addr(&control).await;
    let err = wait_for(T, "a certificate error in /healthz", || {
        let http = http.clone();
        async move {
            let h = get_json(&http, "/healthz").await;
            h["gateway"]["last_error"]
                .as_str()
                .filter(|e| e.contains("certificate"))
                .map(str::to_owned)
        }
    })
    .await;
    assert!(err.contains("TLS certificate not accepted"), "{err}");
    assert!(err.contains("UnknownIssuer"), "{err}");
    assert!(err.contains("--extra-ca-file"), "says what to do: {err}");
    let h = get_json(&http, "/healthz").await;
    assert_eq!(h["gateway"]["connected"], false, "{h}");
    assert_eq!(h["status"], "degraded", "{h}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mediad_without_the_sims_ca_names_the_certificate_in_the_transport_status() {
    let sim = sim().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("mediad.sock");
    let _mediad = Daemon::start(
        "mediad",
        "mediad",
        dir.path(),
        &["--ipc-socket", socket.to_str().expect("utf-8")],
    );
    let mut link = wait_for(T, "mediad accepts", || {
        let s = socket.clone();
        async move { e2e::connect_tool(&s, PROTOCOL_VERSION).await.ok() }
    })
    .await;
    let mut user = SimUser::connect(&sim.gateway_url(), AGENT_TOKEN, sim.ca_pem()).await;
    let voice = user.join_voice().await;
    assert!(
        !voice.endpoint.contains("://"),
        "host:port, as Discord's: {}",
        voice.endpoint
    );
    link.sender
        .send(ControlMsg::VoiceConnect(voice))
        .expect("link open");
    let reason = tokio::time::timeout(T, async {
        loop {
            let msg = link
                .receiver
                .recv()
                .await
                .expect("mediad connection open")
                .expect("mediad message decodes");
            if let MediadMsg::TransportState(s) = msg
                && s.role == TransportRole::Voice
                && s.status != TransportStatus::Connecting
                && let Some(r) = s.reason.filter(|r| r.contains("certificate"))
            {
                return r;
            }
        }
    })
    .await
    .expect("a certificate error in the voice transport status");
    assert!(reason.contains("UnknownIssuer"), "{reason}");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_sim_has_no_plain_text_discord_surface() {
    let sim = sim().await;
    let plain = sim.gateway_url().replacen("wss://", "ws://", 1);
    assert!(
        tokio_tungstenite::connect_async(format!("{plain}?v=10&encoding=json"))
            .await
            .is_err()
    );
    let voice = sim.voice().endpoint();
    assert!(
        tokio_tungstenite::connect_async(format!("ws://{voice}/?v=8"))
            .await
            .is_err()
    );
    // REST over plain HTTP gets no HTTP answer (the listener expects TLS).
    let addr = sim
        .rest_base()
        .trim_start_matches("https://")
        .split('/')
        .next()
        .expect("host")
        .to_owned();
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        e2e::http_raw(&addr, "GET", "/api/v10/users/@me", None, &[], None),
    )
    .await
    .expect("answers or closes");
    assert!(
        r.as_ref().is_err() || r.as_ref().is_ok_and(|r| r.status == 0),
        "{:?}",
        r.map(|r| r.head)
    );
    sim.shutdown().await;
}

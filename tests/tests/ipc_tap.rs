//! ipc-tap between the real control and mediad: it shows the handshake and
//! ping/pong, survives a mediad restart, never shows secrets, and its
//! recording replays to the same lines.

use e2e::*;
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

#[tokio::test]
async fn tap_shows_traffic_survives_restarts_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let msock = d.join("mediad.sock");
    let tsock = d.join("tap.sock");
    let rec = d.join("session.tap");
    let out_path = d.join("tap.out");
    let http = format!("127.0.0.1:{}", free_port());
    let t0 = std::time::Instant::now();

    let mut mediad = Daemon::start(
        "mediad",
        "mediad-1",
        d,
        &["--ipc-socket", msock.to_str().unwrap()],
    );
    let out = std::fs::File::create(&out_path).unwrap();
    let mut tap = Daemon::start_with(
        "ipc-tap",
        "tap",
        d,
        &[
            "--listen",
            tsock.to_str().unwrap(),
            "--upstream",
            msock.to_str().unwrap(),
            "--record",
            rec.to_str().unwrap(),
        ],
        Stdio::from(out),
    );
    let tap_out = || std::fs::read_to_string(&out_path).unwrap_or_default();
    wait_for(T, "sockets", || async {
        (msock.exists() && tsock.exists()).then_some(())
    })
    .await;
    let _control = Daemon::start(
        "control",
        "control",
        d,
        &[
            "--mediad-socket",
            tsock.to_str().unwrap(),
            "--http-addr",
            &http,
        ],
    );

    let v = ipc_schema::PROTOCOL_VERSION;
    wait_for(T, "handshake and ping/pong through the tap", || async {
        let o = tap_out();
        (o.contains(&format!(
            "#1 control→mediad hello protocol={v} role=control"
        )) && o.contains(&format!("#1 mediad→control hello protocol={v} role=mediad"))
            && o.contains("#1 control→mediad ping nonce=1")
            && o.contains("#1 mediad→control pong nonce=1")
            && o.contains("#1 mediad→control snapshot"))
        .then_some(())
    })
    .await;

    // Key fields, binary as length, secrets redacted.
    let voice = json!({"guildId":"11","channelId":"22","userId":"33","sessionId":"sess-e2e-secret","endpoint":"127.0.0.1:9","token":"tok-e2e-secret"});
    assert_eq!(
        http_status(&http, "PUT", "/api/media/voice", &voice).await,
        200
    );
    wait_for(T, "voice_connect in the tap", || async {
        let o = tap_out();
        (o.contains(
            "control→mediad voice_connect guild=11 channel=22 user=33 endpoint=127.0.0.1:9",
        ) && o.contains("mediad→control transport_state role=voice status=connecting"))
        .then_some(())
    })
    .await;
    let o = tap_out();
    assert!(
        !o.contains("tok-e2e-secret") && !o.contains("sess-e2e-secret"),
        "secrets leaked:\n{o}"
    );
    assert!(o.contains("token=<secret …cret>"), "{o}");

    // mediad restarts behind the tap: the tap keeps listening, control
    // reconnects through it and replays its state.
    mediad.kill();
    let _mediad2 = Daemon::start(
        "mediad",
        "mediad-2",
        d,
        &["--ipc-socket", msock.to_str().unwrap()],
    );
    wait_for(
        T,
        "a second session through the tap with the replay",
        || async {
            let o = tap_out();
            (o.contains("#2 control→mediad hello") && o.contains("#2 control→mediad voice_connect"))
                .then_some(())
        },
    )
    .await;

    eprintln!("replayed through the tap after {:?}", t0.elapsed());
    // Stop the tap; its recording prints the same lines it printed live.
    assert!(tap.terminate().success());
    eprintln!("tap stopped after {:?}", t0.elapsed());
    let live: Vec<String> = tap_out().lines().map(str::to_string).collect();
    let replay = Command::new(bin("ipc-tap"))
        .args(["replay", rec.to_str().unwrap()])
        .output()
        .expect("replay runs");
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let replayed: Vec<String> = String::from_utf8_lossy(&replay.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert!(live.len() >= 10, "{live:?}");
    assert_eq!(
        replayed, live,
        "the recording replays to exactly the live lines"
    );

    let json_out = Command::new(bin("ipc-tap"))
        .args(["replay", "--json", rec.to_str().unwrap()])
        .output()
        .unwrap();
    // Both sides send their hello at once: the first two records are the
    // two hellos, in whichever order the tap read them.
    let text = String::from_utf8_lossy(&json_out.stdout).into_owned();
    let first_two: Vec<serde_json::Value> = text
        .lines()
        .take(2)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        first_two.iter().all(|v| v["kind"] == "hello"),
        "{first_two:?}"
    );
    let mut directions: Vec<&str> = first_two
        .iter()
        .filter_map(|v| v["direction"].as_str())
        .collect();
    directions.sort_unstable();
    assert_eq!(directions, ["control_to_mediad", "mediad_to_control"]);
    // Snowflake ids are decimal strings in the JSON lines, as everywhere
    // in the project's JSON; secrets stay redacted there too.
    let voice_connect: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["kind"] == "voice_connect")
        .expect("a voice_connect record");
    let fields = &voice_connect["fields"];
    assert_eq!(
        (&fields["guild"], &fields["channel"], &fields["user"]),
        (&json!("11"), &json!("22"), &json!("33")),
        "{voice_connect}"
    );
    assert_eq!(
        fields["token"],
        json!({"redacted": "…cret"}),
        "{voice_connect}"
    );
    assert!(
        !text.contains("tok-e2e-secret") && !text.contains("sess-e2e-secret"),
        "secrets leaked:\n{text}"
    );
}

async fn http_status(addr: &str, method: &str, path: &str, body: &serde_json::Value) -> u16 {
    http(addr, method, path, Some(body))
        .await
        .map(|(s, _)| s)
        .unwrap_or(0)
}

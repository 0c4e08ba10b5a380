//! The simulator's voice (issue 17 §4) against an independent client:
//! @discordjs/voice (tests/peers/discordjs, Opus through opusscript, DAVE
//! through @snazzah/davey) in the DAVE scenario's voice channel as Carol.
//! - Bob (simulated, DAVE) says a line through `POST /admin/say`: the peer
//!   decrypts every frame of it (none left DAVE-encrypted once its session
//!   is ready) and decodes non-silent audio, about as many frames as the
//!   answer's `packets`.
//! - The peer says a 1.5 s 440 Hz tone (encoded by opusscript, encrypted by
//!   davey, followed by @discordjs/voice's silence frames): the sim's
//!   recorder, reached through `GET /admin/recordings` and
//!   `GET /admin/recordings/{id}.wav`, has one utterance of Carol with DAVE
//!   on, about 1500 ms long, whose WAV's dominant frequency is 440 Hz.
//!
//! Needs the Node project installed: `scripts/setup-peers`.

use std::time::Duration;

use e2e::gateway_client::SimUser;
use e2e::peer::NodePeer;
use e2e::sim_mediad::T;
use serde_json::{Value, json};
use sim_gateway::{Scenario, SimConfig, SimHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
const CAROL_TOKEN: &str = "sim-user-carol";

/// Polls `f` every 50 ms for up to [`T`].
async fn poll<R>(peer: &NodePeer, what: &str, mut f: impl FnMut() -> Option<R>) -> R {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        if let Some(r) = f() {
            return r;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            peer.describe()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A plain HTTP/1.1 request to the admin API: (status, body).
async fn admin(sim: &SimHandle, method: &str, path: &str, body: &str) -> (u16, Vec<u8>) {
    let base = sim.admin_base();
    let host = base
        .strip_prefix("http://")
        .and_then(|r| r.split('/').next())
        .expect("admin base");
    let mut s = tokio::net::TcpStream::connect(host).await.expect("connect");
    let req = format!(
        "{method} /admin{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, raw[split + 4..].to_vec())
}

fn goertzel(x: &[i16], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / 48_000.0;
    let c = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &v in x {
        let s0 = f64::from(v) + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - c * s1 * s2
}

fn dominant(x: &[i16]) -> f64 {
    (10..=200)
        .map(|k| f64::from(k) * 10.0)
        .max_by(|a, b| goertzel(x, *a).total_cmp(&goertzel(x, *b)))
        .expect("candidates")
}

fn user_id(s: &Scenario, name: &str) -> u64 {
    s.users
        .iter()
        .find(|u| u.name == name)
        .map(|u| u.id.0)
        .expect("user")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discordjs_hears_a_said_line_and_the_sim_records_its_tone() {
    let mut scenario = Scenario::builtin("dave").expect("dave scenario");
    // Bob speaks only when told to.
    scenario.timeline.retain(|e| e.at_ms == 0);
    let (bob, carol) = (user_id(&scenario, "bob"), user_id(&scenario, "carol"));
    let sim = sim_gateway::start(SimConfig {
        listen: "127.0.0.1:0".parse().expect("literal"),
        scenario,
        seed: 11,
    })
    .await
    .expect("sim starts");
    let dir = tempfile::tempdir().expect("tempdir");
    // 1.5 s of 440 Hz at -10 dBFS, 48 kHz stereo s16le.
    let raw = dir.path().join("tone.raw");
    let mut pcm = Vec::new();
    for n in 0..72_000u32 {
        let v = (0.316
            * 32767.0
            * (2.0 * std::f64::consts::PI * 440.0 * f64::from(n) / 48_000.0).sin())
            as i16;
        pcm.extend_from_slice(&v.to_le_bytes());
        pcm.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(&raw, pcm).expect("raw file");
    let mut gw = SimUser::connect(&sim.gateway_url(), CAROL_TOKEN, sim.ca_pem()).await;
    let grant = gw.join_voice().await;
    let group = grant.dave_group_id;
    let cfg = json!({
        "guild_id": grant.guild_id.0.to_string(),
        "channel_id": grant.channel_id.0.to_string(),
        "user_id": carol.to_string(),
        "session_id": grant.session_id.expose(),
        "endpoint": grant.endpoint,
        "token": grant.token.expose(),
        "listen_to": bob.to_string(),
        "duration_ms": 40_000,
        "play_raw": raw.to_str().expect("utf-8 path"),
        "play_delay_ms": 6000,
    });
    let mut peer = NodePeer::start(dir.path(), sim.ca_file(), &cfg);
    poll(
        &peer,
        "the peer's DAVE session ready at the room's epoch",
        || {
            let d = peer.named("dave").pop()?;
            let e = d["epoch"].as_u64()?;
            let room = sim
                .voice()
                .report()
                .rooms
                .into_iter()
                .find(|r| r.dave_group_id == Some(group))?;
            (d["ready"] == true && e > 0 && room.dave_epoch == e).then_some(())
        },
    )
    .await;

    // 1. Bob says a line; the peer decrypts and decodes it.
    let (status, body) = admin(
        &sim,
        "POST",
        "/say",
        r#"{"user": "bob", "text": "agent, look at my screen"}"#,
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let said: Value = serde_json::from_slice(&body).expect("json");
    let packets = said["packets"].as_u64().expect("packets");
    assert_eq!(said["duration_ms"].as_u64(), Some(packets * 20));
    let want = packets * 9 / 10 / 25 * 25;
    let decoded = poll(&peer, "the peer decodes Bob's line", || {
        let d = peer.named("decoded");
        let frames = d.last()?["frames"].as_u64()?;
        (frames >= want).then_some(d)
    })
    .await;
    let loud = decoded
        .iter()
        .filter(|d| d["rms"].as_f64().is_some_and(|r| r > 0.01))
        .count();
    assert!(
        loud * 2 >= decoded.len(),
        "speech, not silence: {decoded:?}"
    );
    let last = decoded.last().expect("decoded");
    assert_eq!(last["encryptedAfterReady"], 0, "{}", peer.describe());
    assert_eq!(last["daveReady"], true);
    // Once the line and its tail are out, every line frame was encrypted.
    let bob_p = poll(&peer, "Bob's line ends", || {
        let room = sim
            .voice()
            .report()
            .rooms
            .into_iter()
            .find(|r| r.dave_group_id == Some(group))?;
        let p = room.participants.into_iter().find(|p| p.user_id == bob)?;
        (!p.speaking).then_some(p)
    })
    .await;
    assert!(bob_p.dave_encrypted_frames >= packets, "{bob_p:?}");

    // 2. The peer's tone is recorded (DAVE-decrypted by Bob's member).
    poll(&peer, "the peer played its tone", || {
        (!peer.named("played").is_empty()).then_some(())
    })
    .await;
    let carol_id = carol.to_string();
    let mut rec = None;
    for _ in 0..60 {
        let (status, body) = admin(&sim, "GET", "/recordings", "").await;
        assert_eq!(status, 200);
        let list: Value = serde_json::from_slice(&body).expect("json");
        rec = list
            .as_array()
            .expect("array")
            .iter()
            .find(|r| r["user_id"].as_str() == Some(carol_id.as_str()))
            .cloned();
        if rec.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rec = rec.unwrap_or_else(|| panic!("no recording of Carol\n{}", peer.describe()));
    eprintln!("recording: {rec}");
    assert_eq!(rec["dave"], true, "{rec}");
    assert_eq!(rec["end_reason"], "silence_tail", "{rec}");
    let ms = rec["duration_ms"].as_u64().expect("duration_ms");
    assert!(ms.abs_diff(1500) <= 60, "{rec}");
    let id = rec["id"].as_u64().expect("id");
    assert_eq!(rec["wav"], format!("/admin/recordings/{id}.wav"));
    let (status, wav) = admin(&sim, "GET", &format!("/recordings/{id}.wav"), "").await;
    assert_eq!(status, 200);
    let pcm = sim_content::parse_wav_s16(&wav).expect("WAV");
    assert_eq!(pcm.sample_rate, 48_000);
    assert_eq!(pcm.samples.len() as u64, ms * 48);
    let f = dominant(&pcm.samples[4800..pcm.samples.len() - 4800]);
    assert!((f - 440.0).abs() <= 10.0, "dominant {f} Hz");
    let s = sim
        .voice()
        .report()
        .sessions
        .into_iter()
        .find(|s| s.user_id == carol)
        .expect("carol's session");
    assert_eq!(s.audio_dave_failures, 0, "{s:?}");
    assert_eq!(s.audio_dropped_bad_payload_type, 0);
    assert_eq!(s.rtp_dropped_unknown_ssrc, 0);
    peer.stop().await;
    sim.shutdown().await;
}

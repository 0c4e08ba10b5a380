//! The admin API's voice routes (issue 17 §4): `POST /admin/say` (and the
//! `say` action, from the admin API and from a timeline) makes a simulated
//! user speak — the voice server shows them speaking for the line's length,
//! then not; refusals are JSON with 400/404/409; the recordings list, WAV
//! route and clearing answer with their documented shapes.

mod common;

use std::time::{Duration, Instant};

use common::*;
use sim_gateway::TimelineEntry;

const BOB: &str = "900000000000000102";

/// Bob's `speaking` in the voice server's report.
async fn bob_speaking(sim: &sim_gateway::SimHandle) -> Option<bool> {
    let r = admin_get(sim, "/media/voice/report").await;
    r["rooms"].as_array()?.iter().find_map(|room| {
        room["participants"]
            .as_array()?
            .iter()
            .find(|p| p["user_id"].as_u64() == BOB.parse().ok())
            .and_then(|p| p["speaking"].as_bool())
    })
}

async fn wait_speaking(sim: &sim_gateway::SimHandle, want: bool, within: Duration) -> bool {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if bob_speaking(sim).await == Some(want) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn say_makes_bob_speak_for_the_lines_length() {
    within(async {
        let sim = start(demo_with(|_| {})).await;
        assert!(wait_speaking(&sim, false, Duration::from_secs(2)).await);
        let t0 = Instant::now();
        let (status, v) = admin_post(
            &sim,
            "/say",
            r#"{"user": "bob", "text": "agent, look at my screen"}"#,
        )
        .await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["ok"], true);
        assert_eq!(v["user_id"], BOB);
        let ms = v["duration_ms"].as_u64().expect("duration_ms");
        assert!((800..4000).contains(&ms), "{v}");
        assert_eq!(v["packets"].as_u64().map(|p| p * 20), Some(ms));
        assert!(v["ssrc"].as_u64().is_some() && v["room"].as_u64().is_some());
        assert!(
            bob_speaking(&sim).await == Some(true),
            "speaking once queued"
        );
        assert!(wait_speaking(&sim, false, Duration::from_secs(6)).await);
        // The line plus the 100 ms tail (the report lags ≤ 50 ms).
        let took = t0.elapsed().as_millis() as u64;
        assert!(took >= ms, "stopped after {took} ms, line {ms} ms");
        // The same through the action route, by user id.
        let (status, v) = admin_post(
            &sim,
            "/actions/say",
            &format!(r#"{{"user": "{BOB}", "text": "stop watching"}}"#),
        )
        .await;
        assert_eq!(status, 200, "{v}");
        assert!(v["duration_ms"].as_u64().is_some_and(|d| d > 200), "{v}");
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeline_say_is_spoken() {
    within(async {
        let entry: TimelineEntry = serde_json::from_str(
            r#"{"at_ms": 300, "action": "say", "user": "bob", "text": "hello agent"}"#,
        )
        .expect("timeline entry parses");
        let sim = start(demo_with(|s| s.timeline.push(entry))).await;
        assert!(wait_speaking(&sim, true, Duration::from_secs(8)).await);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn say_refusals_and_recording_routes() {
    within(async {
        let sim = start(demo_with(|_| {})).await;
        for (body, want) in [
            (r#"{"user": "nobody", "text": "hi"}"#, 404),
            // The agent is not a simulated user in voice.
            (r#"{"user": "agent", "text": "hi"}"#, 409),
            (r#"{"user": "bob", "text": "  "}"#, 400),
            (r#"{"user": "bob", "text": "a\u0007b"}"#, 400),
            (r#"{"text": "hi"}"#, 400),
            (r#"{"user": "bob"}"#, 400),
            ("not json", 400),
        ] {
            let (status, v) = admin_post(&sim, "/say", body).await;
            assert_eq!(status, want, "{body}: {v}");
            assert!(v["error"].is_string(), "{body}: {v}");
        }
        let list = admin_get(&sim, "/recordings").await;
        assert_eq!(list, serde_json::json!([]));
        let base = sim.admin_base();
        let (status, _, body) = http("GET", &format!("{base}/recordings/1.wav"), &[], b"").await;
        assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
        let (status, _, _) = http("GET", &format!("{base}/recordings/one.mp3"), &[], b"").await;
        assert_eq!(status, 400);
        let (status, _, body) = http("DELETE", &format!("{base}/recordings"), &[], b"").await;
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v, serde_json::json!({"ok": true, "cleared": 0}));
        // The recorder's counters are in the voice server's report.
        let r = admin_get(&sim, "/media/voice/report").await;
        assert_eq!(r["recorder"]["utterances"], 0, "{}", r["recorder"]);
        sim.shutdown().await;
    })
    .await;
}

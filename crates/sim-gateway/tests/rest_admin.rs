//! REST subset, admin API and scenarios.

mod common;

use common::*;
use sim_gateway::{Scenario, SimError};

#[tokio::test]
async fn rest_me_and_auth() {
    within(async {
        let sim = start(demo_with(|_| {})).await;
        let url = format!("{}/users/@me", sim.rest_base());
        let (status, h, body) =
            http("GET", &url, &[("Authorization", "Bot sim-bot-agent")], b"").await;
        assert_eq!(status, 200);
        let me: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(
            (me["username"].as_str(), me["bot"].as_bool()),
            (Some("agent-bot"), Some(true))
        );
        assert!(
            header(&h, "x-ratelimit-limit").is_some() && header(&h, "x-ratelimit-bucket").is_some()
        );
        let (status, _, body) = http("GET", &url, &[("Authorization", USER_TOKEN)], b"").await;
        assert_eq!(status, 200);
        assert!(String::from_utf8_lossy(&body).contains("\"agent\""));
        // Wrong scheme for the account kind, unknown token, no header → 401.
        for auth in [
            &[("Authorization", "Bot sim-user-agent")][..],
            &[("Authorization", "Bot nope")],
            &[],
        ] {
            assert_eq!(http("GET", &url, auth, b"").await.0, 401);
        }
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn messages_are_recorded_and_dispatched() {
    within(async {
        let sim = start(demo_with(|_| {})).await;
        let (mut c, _) = Client::ready_user(&sim).await;
        let url = format!("{}/channels/{TEXT}/messages", sim.rest_base());
        let auth = [
            ("Authorization", "Bot sim-bot-agent"),
            ("Content-Type", "application/json"),
            ("User-Agent", "DiscordBot (https://example.org/lib, 1.2.3)"),
        ];
        let (status, h, body) = http(
            "POST",
            &url,
            &auth,
            br#"{"content": "I can see your screen"}"#,
        )
        .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let msg: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(msg["content"], "I can see your screen");
        assert_eq!(msg["channel_id"], TEXT.to_string());
        assert_eq!(header(&h, "x-ratelimit-remaining"), Some("4"));
        let gateway_proto::Dispatch::MessageCreate(m) = c.dispatch("MESSAGE_CREATE").await else {
            unreachable!()
        };
        assert_eq!(m.id.to_string(), msg["id"].as_str().expect("id"));
        let recorded = admin_get(&sim, "/messages").await;
        assert_eq!(recorded[0]["content"], "I can see your screen");
        assert_eq!(recorded[0]["source"], "rest");
        // Unknown channel → 404, bad token → 401.
        let missing = format!("{}/channels/1/messages", sim.rest_base());
        assert_eq!(
            http("POST", &missing, &auth, br#"{"content": "x"}"#)
                .await
                .0,
            404
        );
        assert_eq!(
            http(
                "POST",
                &url,
                &[("Authorization", "Bot nope")],
                br#"{"content": "x"}"#
            )
            .await
            .0,
            401
        );
        // A bot without the documented User-Agent is refused (400) and
        // nothing is posted.
        let (status, _, body) = http(
            "POST",
            &url,
            &[
                ("Authorization", "Bot sim-bot-agent"),
                ("User-Agent", "screenwatch (https://example.invalid, 0.1)"),
            ],
            br#"{"content": "x"}"#,
        )
        .await;
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
        assert!(String::from_utf8_lossy(&body).contains("DiscordBot ($url, $versionNumber)"));
        assert_eq!(
            admin_get(&sim, "/messages").await.as_array().map(Vec::len),
            Some(1)
        );
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn rest_429_on_demand() {
    within(async {
        let sim = start(demo_with(|_| {})).await;
        let url = format!("{}/channels/{TEXT}/messages", sim.rest_base());
        let auth = [
            ("Authorization", "Bot sim-bot-agent"),
            ("User-Agent", "DiscordBot (https://example.org/lib, 1.2.3)"),
        ];
        let (status, _) = admin_post(
            &sim,
            "/actions/rest_rate_limit",
            r#"{"count": 2, "retry_after_ms": 1500}"#,
        )
        .await;
        assert_eq!(status, 200);
        for _ in 0..2 {
            let (status, h, body) = http("POST", &url, &auth, br#"{"content": "x"}"#).await;
            assert_eq!(status, 429);
            let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
            assert_eq!(v["retry_after"], 1.5);
            assert_eq!(header(&h, "x-ratelimit-remaining"), Some("0"));
            assert_eq!(header(&h, "retry-after"), Some("2"));
        }
        assert_eq!(
            http("POST", &url, &auth, br#"{"content": "x"}"#).await.0,
            200
        );
        assert_eq!(
            admin_get(&sim, "/messages").await.as_array().map(Vec::len),
            Some(1)
        );
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn admin_reports_state_and_rejects_bad_actions() {
    within(async {
        let sim = start(demo_with(|_| {})).await;
        let state = admin_get(&sim, "/state").await;
        assert_eq!(state["scenario"], "demo");
        assert_eq!(state["streams"].as_array().map(Vec::len), Some(1));
        assert_eq!(state["voice_states"].as_array().map(Vec::len), Some(2));
        let (status, _) = admin_post(&sim, "/actions", r#"{"action": "no_such_thing"}"#).await;
        assert_eq!(status, 400);
        let (status, _) = admin_post(&sim, "/actions/leave_voice", r#"{"user": "nobody"}"#).await;
        assert_eq!(status, 404);
        let (status, _) = admin_post(
            &sim,
            "/actions/netem",
            r#"{"server": "stream", "loss": 1.5}"#,
        )
        .await;
        assert_eq!(status, 400);
        let (status, _) = admin_post(&sim, "/actions/crash", r#"{"server": "stream"}"#).await;
        assert_eq!(status, 200);
        let log = admin_get(&sim, "/media/stream/log").await;
        assert!(
            log.as_array()
                .expect("log")
                .iter()
                .any(|e| e["type"] == "fault" && e["fault"] == "crash")
        );
        // Leaving voice via admin removes Alice and her stream.
        admin_post(&sim, "/actions/leave_voice", r#"{"user": "alice"}"#).await;
        let state = admin_get(&sim, "/state").await;
        assert_eq!(state["streams"].as_array().map(Vec::len), Some(0));
        let (status, _, _) = http(
            "GET",
            &format!("{}/media/stream/frames/1/2/latest.jpg", sim.admin_base()),
            &[],
            b"",
        )
        .await;
        assert_eq!(status, 404);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn named_scenarios_load_and_start() {
    within(async {
        for name in Scenario::builtin_names() {
            let s = Scenario::load(name).expect(name);
            assert_eq!(s.name, name);
            let sim = start(s).await;
            let state = admin_get(&sim, "/state").await;
            let streams = state["streams"].as_array().map_or(0, Vec::len);
            let expected = match name {
                "multi-sharer" => 2,
                "webcam-only" => 0,
                _ => 1,
            };
            assert_eq!(streams, expected, "{name}");
            sim.shutdown().await;
        }
        assert!(Scenario::builtin("dave").expect("dave").settings.dave);
        let lossy = Scenario::builtin("lossy").expect("lossy");
        assert!(lossy.timeline.iter().any(|e| matches!(e.action, sim_gateway::Action::Netem { loss, .. } if (loss - 0.1).abs() < 1e-6)));
    })
    .await;
}

#[test]
fn scenario_files_are_validated() {
    assert!(matches!(
        Scenario::from_json("{"),
        Err(SimError::ScenarioParse(_))
    ));
    let base = include_str!("../scenarios/demo.json");
    let bad_ref = base.replace(
        "\"user\": \"bob\", \"channel\": \"Lounge\"",
        "\"user\": \"zed\", \"channel\": \"Lounge\"",
    );
    assert_ne!(bad_ref, base);
    assert!(matches!(
        Scenario::from_json(&bad_ref),
        Err(SimError::UnknownUser(_))
    ));
    let dup_token = base.replace("sim-user-bob", "sim-user-alice");
    assert!(matches!(
        Scenario::from_json(&dup_token),
        Err(SimError::ScenarioInvalid(_))
    ));
    assert!(Scenario::load("/nonexistent/scenario.json").is_err());
    let minimal = r#"{"name": "m", "guilds": [{"id": "1", "name": "g", "channels": [{"id": 2, "name": "v", "kind": "voice"}]}],
        "users": [{"id": 3, "name": "u", "token": "t"}],
        "timeline": [{"at_ms": 5, "every_ms": 10, "action": "join_voice", "user": 3, "channel": "v"}]}"#;
    let s = Scenario::from_json(minimal).expect("minimal scenario");
    assert_eq!(s.settings.heartbeat_interval_ms, 41_250);
    assert_eq!(s.timeline[0].every_ms, Some(10));
}

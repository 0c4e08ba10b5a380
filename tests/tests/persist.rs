//! control's durable state end to end: share links, settings and watch
//! recaps live in its SQLite store and survive a crash (SIGKILL) of the
//! real control binary; settings edited through the admin API apply at
//! once; the per-token ingest limit answers 429.

use std::time::Duration;

use base64::Engine;
use e2e::stack::{SERIAL, Stack};
use e2e::*;
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(30);
const GUILD: &str = "900000000000000001";
const ALICE: &str = "900000000000000101";
const BOB: &str = "900000000000000102";
const ADMIN: &str = "persist-admin";

/// A JPEG: a checkerboard (small) or noise (large, ~100 KB+).
fn jpeg(noise: bool, seed: u32) -> Vec<u8> {
    let (w, h) = (640, 360);
    let mut b = video_pipeline::YuvBuffer::new(w, h);
    let (y, u, v) = b.planes_mut();
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    for (i, p) in y.iter_mut().enumerate() {
        *p = if noise {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x & 0xff) as u8
        } else if ((i % w) / 40 + (i / w) / 40 + seed as usize).is_multiple_of(2) {
            220
        } else {
            30
        };
    }
    u.fill(128);
    v.fill(128);
    video_pipeline::JpegEncoder::new()
        .expect("encoder")
        .encode(&b.as_frame(), 95)
        .expect("jpeg")
}

fn frame_body(data: &[u8]) -> Value {
    json!({
        "mimeType": "image/jpeg",
        "dataBase64": base64::engine::general_purpose::STANDARD.encode(data),
        "source": "test",
    })
}

/// An admin request with the dashboard token; (status, JSON body).
async fn admin(s: &Stack, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    http_with(&s.http, method, path, body, &[("x-dashboard-token", ADMIN)])
        .await
        .expect("control answers")
}

/// Starts a watch that takes the link path and posts its first frame;
/// (URL, token).
async fn open_link(s: &Stack, request: Value) -> (String, String) {
    let r = s.watch(request).await;
    assert_eq!(r["transport"], json!("link"), "{r}");
    let url = r["linkUrl"].as_str().expect("link").to_owned();
    let token = url.rsplit('/').next().expect("token").to_owned();
    let (status, v) = post_frame(s, &token, &jpeg(false, 0)).await;
    assert_eq!((status, v["accepted"].clone()), (200, json!(true)), "{v}");
    (url, token)
}

async fn post_frame(s: &Stack, token: &str, data: &[u8]) -> (u16, Value) {
    let path = format!("/api/voice/share-session/{token}/frame");
    http(&s.http, "POST", &path, Some(&frame_body(data)))
        .await
        .expect("control answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_links_and_settings_survive_a_control_crash() {
    let _serial = SERIAL.lock().await;
    let mut s = Stack::start(
        "demo",
        "sim-bot-agent",
        &[
            "--discord-account",
            "bot",
            "--dashboard-token",
            ADMIN,
            "--public-api-token",
            "ingest-secret",
        ],
    )
    .await;

    // Settings: a bad edit is refused whole, naming each problem.
    let (status, v) = admin(
        &s,
        "PATCH",
        "/api/settings",
        Some(&json!({"maxFrameBytes": 10, "noSuchSetting": true})),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    let errors = v["errors"].as_array().map_or(0, Vec::len);
    assert!(errors >= 2, "every problem named: {v}");
    let (_, v) = admin(&s, "GET", "/api/settings", None).await;
    assert_eq!(
        v["settings"]["maxFrameBytes"],
        json!(350_000),
        "unchanged: {v}"
    );
    // A good one applies and is saved.
    let (status, v) = admin(
        &s,
        "PATCH",
        "/api/settings",
        Some(&json!({"maxFrameBytes": 60000, "keyframeIntervalMs": 900})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["settings"]["maxFrameBytes"], json!(60000));
    // Without the admin token: refused.
    let (status, _) = http(&s.http, "GET", "/api/settings", None)
        .await
        .expect("answers");
    assert_eq!(status, 401);

    // A link.
    let (url, token) = open_link(
        &s,
        json!({"action": "start", "guildId": GUILD, "requesterId": BOB, "target": ALICE, "textChannelId": "900000000000000010"}),
    )
    .await;
    // The direct ingest route feeds the same watch, behind its own token.
    let ingest = |token: &'static str, body: Value| {
        let addr = s.http.clone();
        async move {
            http_with(
                &addr,
                "POST",
                "/api/voice/stream-ingest/frame",
                Some(&body),
                &[("x-public-api-token", token)],
            )
            .await
            .expect("answers")
        }
    };
    let mut body = frame_body(&jpeg(false, 3));
    body["guildId"] = json!(GUILD);
    let (status, v) = ingest("wrong", body.clone()).await;
    assert_eq!(
        (status, v["reason"].clone()),
        (401, json!("unauthorized_public_api_token")),
        "{v}"
    );
    let before = s.state().await["watches"][0]["frames"]
        .as_u64()
        .expect("frames");
    let (status, v) = ingest("ingest-secret", body.clone()).await;
    assert_eq!((status, v["accepted"].clone()), (200, json!(true)), "{v}");
    let after = s.state().await["watches"][0]["frames"]
        .as_u64()
        .expect("frames");
    assert_eq!(after, before + 1, "the ingested frame fed the watch");
    let mut other = body.clone();
    other["streamerUserId"] = json!(BOB);
    let (status, v) = ingest("ingest-secret", other).await;
    assert_eq!(
        (status, v["reason"].clone()),
        (400, json!("target_user_mismatch")),
        "{v}"
    );
    let mut no_guild = body;
    no_guild["guildId"] = json!("");
    let (_, v) = ingest("ingest-secret", no_guild).await;
    assert_eq!(v["reason"], json!("guild_id_required"), "{v}");

    // The new frame limit is live.
    let big = jpeg(true, 1);
    assert!(big.len() > 60_000, "noise frame is {} bytes", big.len());
    let (status, v) = post_frame(&s, &token, &big).await;
    assert_eq!(v["reason"], json!("frame_too_large"), "{status} {v}");

    // Crash and restart control: the link, its watch and the settings are back.
    s.restart_control().await;
    let (_, v) = admin(&s, "GET", "/api/settings", None).await;
    assert_eq!(v["settings"]["maxFrameBytes"], json!(60000), "{v}");
    assert_eq!(v["settings"]["keyframeIntervalMs"], json!(900), "{v}");
    let (status, page) = http(&s.http, "GET", &format!("/share/{token}"), None)
        .await
        .expect("page");
    assert_eq!(status, 200, "the link still opens: {page}");
    let (status, v) = post_frame(&s, &token, &jpeg(false, 1)).await;
    assert_eq!((status, v["accepted"].clone()), (200, json!(true)), "{v}");
    let state = s.state().await;
    assert_eq!(state["watches"][0]["transport"], json!("link"), "{state}");
    assert_eq!(state["watches"][0]["targetUserId"], json!(ALICE), "{state}");
    let (status, v) = post_frame(&s, &token, &big).await;
    assert_eq!(v["reason"], json!("frame_too_large"), "{status} {v}");
    // Reusing the link after the restart returns the same URL.
    let again = s
        .watch(json!({"action": "start", "guildId": GUILD, "requesterId": BOB, "target": ALICE, "preferredTransport": "link"}))
        .await;
    assert_eq!(again["linkUrl"].as_str(), Some(url.as_str()), "{again}");

    // Per-token burst limit: one link posting far faster than any page.
    let small = jpeg(false, 2);
    let mut limited = 0;
    for _ in 0..40 {
        let (status, v) = post_frame(&s, &token, &small).await;
        if status == 429 {
            assert_eq!(v["reason"], json!("ingest_rate_limited"), "{v}");
            limited += 1;
        }
    }
    assert!(limited > 0, "a flood of one token is limited");

    // Stopping the link removes it from the store too.
    let (status, _) = http(
        &s.http,
        "POST",
        &format!("/api/voice/share-session/{token}/stop"),
        None,
    )
    .await
    .expect("stop");
    assert_eq!(status, 200);
    s.restart_control().await;
    let (status, v) = post_frame(&s, &token, &small).await;
    assert_eq!(
        (status, v["reason"].clone()),
        (400, json!("share_session_not_found")),
        "{v}"
    );
    // The full token never reached the logs.
    assert!(!s.log().contains(&token), "token logged");
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_recap_is_saved_when_the_watch_ends() {
    let _serial = SERIAL.lock().await;
    let mut s = Stack::start("demo", "sim-user-agent", &["--dashboard-token", ADMIN]).await;
    let r = s.start_watch(BOB, Some("alice")).await;
    assert_eq!(r["transport"], json!("native"), "{r}");
    wait_for(Duration::from_secs(60), "a screen note", || async {
        let v = s.state().await;
        v["brain"]["notes"]
            .as_array()
            .is_some_and(|n| !n.is_empty())
            .then_some(())
    })
    .await;
    s.watch(json!({"action": "stop", "guildId": GUILD, "requesterId": BOB}))
        .await;
    let recap = wait_for(T, "the recap", || async {
        let v = s.state().await;
        let r = v["brain"]["lastRecap"].clone();
        (!r.is_null()).then_some(r)
    })
    .await;
    assert_eq!(recap["saved"], json!(true), "{recap}");
    let text = recap["text"].as_str().unwrap_or_default().to_owned();
    assert!(text.to_lowercase().contains("alice"), "{recap}");
    let (_, v) = admin(&s, "GET", "/api/voice/recaps", None).await;
    assert_eq!(v["recaps"][0]["summary"], json!(text), "{v}");
    assert!(
        v["recaps"][0]["notes"]
            .as_array()
            .is_some_and(|n| !n.is_empty()),
        "{v}"
    );
    // Saved means durable.
    s.restart_control().await;
    let (_, v) = admin(&s, "GET", "/api/voice/recaps", None).await;
    assert_eq!(v["recaps"][0]["summary"], json!(text), "{v}");
    assert_eq!(
        v["recaps"][0]["targetId"],
        json!(ALICE.parse::<u64>().expect("id")),
        "{v}"
    );
    s.sim.shutdown().await;
}

/// Moves every stored link's expiry to `at` (Unix ms) in control's store,
/// in both the indexed column and the record itself.
fn set_stored_expiry(data_dir: &std::path::Path, at: u64) {
    let conn = rusqlite::Connection::open(data_dir.join("control.sqlite3")).expect("store");
    let rows: Vec<(String, String)> = conn
        .prepare("SELECT token, record FROM share_sessions")
        .expect("query")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("read");
    assert!(!rows.is_empty(), "a stored link");
    for (token, record) in rows {
        let mut v: Value = serde_json::from_str(&record).expect("record");
        let session = &mut v["session"];
        let key = ["expires_at", "expiresAt"]
            .into_iter()
            .find(|k| session.get(*k).is_some())
            .expect("an expiry in the record");
        session[key] = json!(at);
        conn.execute(
            "UPDATE share_sessions SET expires_at_ms = ?1, record = ?2 WHERE token = ?3",
            rusqlite::params![at as i64, v.to_string(), token],
        )
        .expect("update");
    }
}

/// A link's lifetime ends on time in the running daemon and stops the watch
/// it armed (the reference only forgot the record). The TTL floor is two
/// minutes, so while control is down the stored link is given a few seconds
/// to live, as if control came back late in the link's life.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_link_stops_the_watch_it_armed() {
    let _serial = SERIAL.lock().await;
    let mut s = Stack::start(
        "demo",
        "sim-bot-agent",
        &["--discord-account", "bot", "--dashboard-token", ADMIN],
    )
    .await;
    let (_, token) = open_link(
        &s,
        json!({"action": "start", "guildId": GUILD, "requesterId": BOB, "target": ALICE, "preferredTransport": "link"}),
    )
    .await;

    let lifetime = Duration::from_secs(12);
    let expires = std::time::SystemTime::now() + lifetime;
    let at = expires
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64;
    s.restart_control_after(|dir| set_stored_expiry(dir, at))
        .await;
    // The restored link works, and its first frame arms its watch again.
    let (status, v) = post_frame(&s, &token, &jpeg(false, 1)).await;
    assert_eq!((status, v["accepted"].clone()), (200, json!(true)), "{v}");
    let state = s.state().await;
    assert_eq!(state["watches"][0]["transport"], json!("link"), "{state}");
    assert!(
        std::time::SystemTime::now() < expires,
        "the restart took the whole lifetime; the test proves nothing"
    );

    // Nobody posts: the expiry alone ends the link and stops its watch.
    s.wait_no_watches("the expired link's watch to stop").await;
    assert!(
        std::time::SystemTime::now() >= expires,
        "the watch stopped before the link expired"
    );
    assert!(s.log().contains("share link expired"), "expiry logged");
    let (status, v) = post_frame(&s, &token, &jpeg(false, 2)).await;
    assert_eq!(
        (status, v["reason"].clone()),
        (400, json!("share_session_not_found")),
        "{v}"
    );
    let (status, _) = http(&s.http, "GET", &format!("/share/{token}"), None)
        .await
        .expect("page");
    assert_eq!(status, 404, "an expired link's page is gone");
    s.sim.shutdown().await;
}

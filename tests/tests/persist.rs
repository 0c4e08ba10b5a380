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
    assert_eq!(v["recaps"][0]["targetId"], json!(ALICE), "{v}");
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

/// Runs the control binary on `data_dir` (no sim, no mediad: the store is
/// opened before anything connects) and returns its exit status and
/// stderr once it exits, or `None` if it is still running after 15 s
/// (then it is killed).
fn control_on_store(data_dir: &std::path::Path) -> Option<(std::process::ExitStatus, String)> {
    use std::io::Read;
    let sock = data_dir.join("no-mediad.sock");
    let mut child = std::process::Command::new(bin("control"))
        .args(["--data-dir", data_dir.to_str().expect("utf-8")])
        .args([
            "--discord-token",
            "store-test",
            "--http-addr",
            "127.0.0.1:0",
        ])
        .args(["--mediad-socket", sock.to_str().expect("utf-8")])
        .env("RUST_BACKTRACE", "0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("control starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            return Some((status, err));
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Issue 16 §8 with the real binary: a damaged store (zero bytes, or
/// garbage, with no WAL to recover from) stops control with an error that
/// names the file and says to move it aside, and the file is left as it
/// was. The old control started on an empty store instead (links and
/// settings silently gone), or refused without naming the file.
#[test]
fn a_damaged_store_stops_control_naming_the_file() {
    for (what, bytes) in [("empty", Vec::new()), ("garbage", vec![0xA5u8; 8192])] {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("control.sqlite3");
        std::fs::write(&file, &bytes).expect("damaged file");
        let (status, err) =
            control_on_store(dir.path()).unwrap_or_else(|| panic!("{what}: control kept running"));
        assert!(!status.success(), "{what}: {status} {err}");
        assert!(
            err.contains(&file.display().to_string()) && err.contains("move it aside"),
            "{what}: the error names the file and the way out: {err}"
        );
        assert_eq!(
            std::fs::read(&file).expect("kept"),
            bytes,
            "{what}: file untouched"
        );
    }
}

/// Issue 16 §5/§6 against the real binaries: an HTTP-created link with no
/// target is for the requester (it went to whoever was sharing); "hello
/// world" declared as image/jpeg is `invalid_frame_data` (it was
/// accepted); frames are refused with `stream_watch_disabled` while
/// `enabled:false` (they were accepted) and accepted again after; a
/// trailing slash on the direct-ingest route reaches it (it was 404);
/// with nobody sharing and no target, a watch start offers the requester
/// a link (it answered `no_sharer`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_edges_of_issue_16() {
    let _serial = SERIAL.lock().await;
    let s = Stack::start(
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
    let (status, r) = admin(
        &s,
        "POST",
        "/api/voice/share-session",
        Some(&json!({"guildId": GUILD, "requesterId": BOB, "textChannelId": "900000000000000010"})),
    )
    .await;
    assert_eq!((status, r["ok"].clone()), (200, json!(true)), "{r}");
    assert_eq!(
        r["targetUserId"],
        json!(BOB),
        "no target → the requester: {r}"
    );
    let token = r["linkUrl"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("link")
        .to_owned();
    let link_host = s.log().lines().any(|l| {
        l.contains("share link offered") && l.contains("link_host") && !l.contains(&token)
    });
    assert!(
        link_host,
        "the create log line carries the host, not the token"
    );

    let (status, v) = post_frame(&s, &token, b"hello world").await;
    assert_eq!(
        (status, v["reason"].clone()),
        (400, json!("invalid_frame_data")),
        "{v}"
    );
    let (status, v) = post_frame(&s, &token, &jpeg(false, 4)).await;
    assert_eq!((status, v["accepted"].clone()), (200, json!(true)), "{v}");

    let (status, v) = admin(
        &s,
        "PATCH",
        "/api/settings",
        Some(&json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = post_frame(&s, &token, &jpeg(false, 5)).await;
    assert_eq!(
        (status, v["reason"].clone()),
        (400, json!("stream_watch_disabled")),
        "{v}"
    );
    let (status, v) = admin(
        &s,
        "PATCH",
        "/api/settings",
        Some(&json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = post_frame(&s, &token, &jpeg(false, 6)).await;
    assert_eq!((status, v["accepted"].clone()), (200, json!(true)), "{v}");

    // Trailing slash: the same answer as without it.
    let mut body = frame_body(&jpeg(false, 7));
    body["guildId"] = json!(GUILD);
    for path in [
        "/api/voice/stream-ingest/frame",
        "/api/voice/stream-ingest/frame/",
    ] {
        let (status, v) = http_with(
            &s.http,
            "POST",
            path,
            Some(&body),
            &[("x-public-api-token", "ingest-secret")],
        )
        .await
        .expect("answers");
        assert_eq!(
            (status, v["accepted"].clone()),
            (200, json!(true)),
            "{path}: {v}"
        );
    }

    // Nobody sharing, no target: a link for the requester.
    s.action(json!({"action": "stop_stream", "user": "alice"}))
        .await;
    let mut r = Value::Null;
    for _ in 0..50 {
        r = s
            .watch(json!({"action": "start", "guildId": GUILD, "requesterId": ALICE, "textChannelId": "900000000000000010"}))
            .await;
        if r["transport"] == json!("link") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        (
            r["ok"].clone(),
            r["transport"].clone(),
            r["targetUserId"].clone()
        ),
        (json!(true), json!("link"), json!(ALICE)),
        "{r}"
    );

    // A link that cannot be created (watching disabled) posts one
    // "unavailable" message to the known text channel.
    let unavailable = || async {
        get_json(&s.sim_admin_addr(), "/admin/messages")
            .await
            .to_string()
            .matches("a share link is unavailable")
            .count()
    };
    assert_eq!(unavailable().await, 0);
    let (status, v) = admin(
        &s,
        "PATCH",
        "/api/settings",
        Some(&json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let r = s
        .watch(json!({"action": "start", "guildId": GUILD, "requesterId": BOB, "target": BOB, "preferredTransport": "link", "textChannelId": "900000000000000010"}))
        .await;
    assert_eq!(r["ok"], json!(false), "{r}");
    wait_for(T, "the unavailable message", || async {
        (unavailable().await == 1).then_some(())
    })
    .await;
    s.sim.shutdown().await;
}

/// Issue 16 §6: control without a Discord session answers a share page
/// with 503 and an HTML explanation (it was a 404 JSON body).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_share_page_without_a_discord_session_is_503_html() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let sock = dir.path().join("no-mediad.sock");
    let control = Daemon::start(
        "control",
        "control-no-discord",
        dir.path(),
        &[
            "--data-dir",
            data.to_str().expect("utf-8"),
            "--mediad-socket",
            sock.to_str().expect("utf-8"),
            "--http-addr",
            "127.0.0.1:0",
        ],
    );
    let addr = e2e::stack::control_addr(&control).await;
    let r = http_raw(
        &addr,
        "GET",
        "/share/AAAAAAAAAAAAAAAAAAAAAAAA",
        None,
        &[],
        None,
    )
    .await
    .expect("answers");
    assert_eq!(r.status, 503, "{} {}", r.head, r.body);
    assert!(
        r.head
            .to_ascii_lowercase()
            .contains("content-type: text/html"),
        "{}",
        r.head
    );
    assert!(r.body.contains("not connected to Discord"), "{}", r.body);
}

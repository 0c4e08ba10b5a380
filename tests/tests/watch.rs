//! control's screen watching end to end: the real control and mediad
//! binaries against an in-process discord-sim, driven through control's
//! HTTP API (`POST /api/voice/screen-watch`, `GET /api/voice/state`).

use std::time::{Duration, Instant};

use e2e::stack::{SERIAL, Stack};
use e2e::watch_http::*;
use e2e::*;
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(30);
const GUILD: &str = "900000000000000001";
const ALICE: &str = "900000000000000101";
const BOB: &str = "900000000000000102";
const CAROL: &str = "900000000000000105";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_watch_is_frame_ready_within_3s_and_survives_gateway_reconnects() {
    let _serial = SERIAL.lock().await;
    let s = Stack::start("demo", "sim-user-agent", &[]).await;
    // The pre-existing streamer was found by the GUILD_CREATE scan.
    let state = s.state().await;
    assert_eq!(state["sharers"][0]["userId"], json!(ALICE), "{state}");
    let t0 = Instant::now();
    let r = s.start_watch(BOB, Some("alice")).await;
    assert_eq!(r["ok"], json!(true), "{r}");
    assert_eq!(
        (r["started"].clone(), r["transport"].clone()),
        (json!(true), json!("native"))
    );
    assert_eq!(r["targetUserId"], json!(ALICE));
    s.frame_ready().await;
    let ready_after = t0.elapsed();
    eprintln!("frameReady {ready_after:?} after start_screen_watch");
    assert!(
        ready_after < Duration::from_secs(3),
        "frameReady after {ready_after:?}"
    );
    // The same target again: reused.
    let again = s.start_watch(BOB, Some("<@900000000000000101>")).await;
    assert_eq!(
        (again["reused"].clone(), again["started"].clone()),
        (json!(true), json!(false)),
        "{again}"
    );

    // RECONNECT (resume) and a non-resumable INVALID_SESSION (new session).
    s.action(json!({"action": "gateway_reconnect", "user": "agent"}))
        .await;
    s.action(json!({"action": "gateway_invalid_session", "user": "agent", "resumable": false}))
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let frames_before = s.state().await["watches"][0]["frames"]
        .as_u64()
        .expect("watch kept");
    wait_for(
        T,
        "frames continue after the gateway reconnects",
        || async {
            let v = s.state().await;
            (v["watches"][0]["frames"].as_u64().unwrap_or(0) > frames_before + 2).then_some(())
        },
    )
    .await;
    let v = s.state().await;
    assert_eq!(v["watches"].as_array().map(Vec::len), Some(1), "{v}");

    // STREAM_DELETE ends the watch; the voice connection stays.
    s.action(json!({"action": "stop_stream", "user": "alice"}))
        .await;
    s.wait_no_watches("watch torn down").await;
    assert!(s.voice_ready().await, "voice transport kept");
    assert!(s.log().contains("screen watch ended"));
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_choice_rules() {
    let _serial = SERIAL.lock().await;
    let s = Stack::start("multi-sharer", "sim-user-agent", &[]).await;
    // Two sharers and no target: refused, naming them.
    let r = s.start_watch(BOB, None).await;
    assert_eq!(r["ok"], json!(false));
    assert_eq!(r["reason"], json!("multiple_sharers_need_target"), "{r}");
    // An unknown name is refused; never retargeted.
    let r = s.start_watch(BOB, Some("mallory")).await;
    assert_eq!(r["reason"], json!("target_not_found"), "{r}");
    // A target in voice but not sharing: no native path, so a share link.
    let r = s.start_watch(ALICE, Some("bob")).await;
    assert_eq!(
        (r["ok"].clone(), r["transport"].clone(), r["reason"].clone()),
        (json!(true), json!("link"), json!("link_offered")),
        "{r}"
    );
    assert_eq!(r["targetUserId"], json!(BOB));
    assert!(
        r["linkUrl"].as_str().is_some_and(|u| u.contains("/share/")),
        "{r}"
    );
    // The operator CLI says the same, with exit codes.
    let cli = |args: &[&str]| {
        let url = format!("http://{}", s.http);
        let out = std::process::Command::new(bin("control"))
            .args(["watch"])
            .args(args)
            .args(["--server", &url])
            .output()
            .expect("control watch runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = cli(&["start", "--guild", GUILD, "--requester", BOB]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("multiple_sharers_need_target"), "{out}");
    let (code, out) = cli(&["status"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(ALICE), "{out}");
    let (code, _) = std::process::Command::new(bin("control"))
        .args(["watch", "status", "--server", "http://127.0.0.1:1"])
        .output()
        .map(|o| (o.status.code(), ()))
        .expect("runs");
    assert_eq!(code, Some(3), "unreachable control");
    // The requester sharing and no target: their own screen.
    let r = s.start_watch(CAROL, None).await;
    assert_eq!(
        (r["ok"].clone(), r["targetUserId"].clone()),
        (json!(true), json!(CAROL)),
        "{r}"
    );
    assert_eq!(r["reason"], json!("requester_go_live"));
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sharer_is_picked_and_a_bot_takes_the_link_path() {
    let _serial = SERIAL.lock().await;
    let s = Stack::start("demo", "sim-user-agent", &[]).await;
    let r = s.start_watch(BOB, None).await;
    assert_eq!(
        (r["targetUserId"].clone(), r["reason"].clone()),
        (json!(ALICE), json!("single_go_live_in_channel")),
        "{r}"
    );
    s.sim.shutdown().await;

    // A bot without the members intent knows users by id (mention form);
    // it cannot watch Go Live, so it offers a link.
    let bot = Stack::start("demo", "sim-bot-agent", &["--discord-account", "bot"]).await;
    let r = bot.start_watch(BOB, Some("<@900000000000000101>")).await;
    assert_eq!(
        (r["ok"].clone(), r["transport"].clone(), r["reason"].clone()),
        (json!(true), json!("link"), json!("link_offered")),
        "{r}"
    );
    bot.sim.shutdown().await;

    let off = Stack::start(
        "demo",
        "sim-bot-agent",
        &[
            "--discord-account",
            "bot",
            "--stream-link-fallback",
            "false",
        ],
    )
    .await;
    let r = off.start_watch(BOB, Some(ALICE)).await;
    assert_eq!(
        (r["ok"].clone(), r["reason"].clone()),
        (json!(false), json!("bot_cannot_watch_go_live")),
        "{r}"
    );
    off.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_and_commentary_from_the_sims_go_live_reach_state_and_the_text_channel() {
    let _serial = SERIAL.lock().await;
    // Offline provider (no key in the test environment): OCR notes and
    // rule-based commentary.
    let s = Stack::start("demo", "sim-user-agent", &[]).await;
    let r = s
        .watch(json!({"action": "start", "guildId": GUILD, "requesterId": BOB, "target": "alice", "textChannelId": "900000000000000010"}))
        .await;
    assert_eq!(r["ok"], json!(true), "{r}");
    let state = wait_for(
        Duration::from_secs(40),
        "a screen note and a posted commentary",
        || async {
            let v = s.state().await;
            let notes = v["brain"]["notes"]
                .as_array()
                .is_some_and(|n| !n.is_empty());
            let posted = v["brain"]["commentary"]
                .as_array()
                .is_some_and(|c| c.iter().any(|e| e["posted"] == json!(true)));
            (notes && posted).then_some(v)
        },
    )
    .await;
    let brain = &state["brain"];
    assert_eq!(brain["provider"], json!("offline"));
    let note = brain["notes"][0].as_str().expect("note text");
    assert!(
        note.starts_with("Screen text reads:"),
        "OCR'd the sim's screen: {note}"
    );
    assert!(
        brain["promptContext"]
            .as_str()
            .is_some_and(|c| c.contains("Screen text reads")),
        "{brain}"
    );
    // The sim recorded what the agent posted in the text channel.
    let admin = s.sim.admin_base();
    let addr = admin
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("host")
        .to_owned();
    let messages = get_json(&addr, "/admin/messages").await.to_string();
    let posted = brain["commentary"]
        .as_array()
        .and_then(|c| c.iter().find(|e| e["posted"] == json!(true)))
        .and_then(|e| e["text"].as_str())
        .expect("posted commentary");
    let needle = posted.chars().take(20).collect::<String>();
    let needle = serde_json::to_string(&needle).expect("json");
    assert!(messages.contains(needle.trim_matches('"')), "{messages}");
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_offers_a_share_link_whose_frames_feed_the_watch() {
    let _serial = SERIAL.lock().await;
    use base64::Engine;
    let s = Stack::start(
        "demo",
        "sim-bot-agent",
        &[
            "--discord-account",
            "bot",
            "--public-host",
            "share.example.test",
            "--public-url",
            "https://share.example.test",
        ],
    )
    .await;
    let body = json!({"action": "start", "guildId": GUILD, "requesterId": BOB, "target": ALICE, "textChannelId": "900000000000000010"});
    let r = s.watch(body.clone()).await;
    assert_eq!(
        (r["ok"].clone(), r["transport"].clone(), r["reason"].clone()),
        (json!(true), json!("link"), json!("link_offered")),
        "{r}"
    );
    assert_eq!(r["expiresInMinutes"], json!(12));
    let url = r["linkUrl"].as_str().expect("link url").to_owned();
    let token = url.rsplit('/').next().expect("token").to_owned();
    assert_eq!(token.len(), 24);
    // Asking again reuses the link without extending it.
    let again = s.watch(body).await;
    assert_eq!(
        (again["reused"].clone(), again["linkUrl"].clone()),
        (json!(true), json!(url)),
        "{again}"
    );
    // The offer was posted in the text channel; the full token is not logged.
    let admin = s.sim.admin_base();
    let admin_addr = admin
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("host")
        .to_owned();
    let messages = get_json(&admin_addr, "/admin/messages").await.to_string();
    assert!(messages.contains(&token), "offer posted: {messages}");
    assert_eq!(messages.matches(&token).count(), 1, "offered once");
    assert!(
        url.starts_with("https://share.example.test/share/"),
        "{url}"
    );
    // The page loads, also through the public host; admin routes do not.
    let page_path = format!("/share/{token}");
    let (status, _) = http(&s.http, "GET", &page_path, None).await.expect("page");
    assert_eq!(status, 200);
    let (status, page) = raw_get(&s.http, &page_path, "share.example.test").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Start Sharing") && !page.contains("<link "),
        "self-contained page"
    );
    for admin_path in ["/api/voice/state", "/api/media/state", "/healthz"] {
        let (status, _) = raw_get(&s.http, admin_path, "share.example.test").await;
        assert_eq!(status, 404, "{admin_path} hidden on the public host");
    }
    let frame_path = format!("/api/voice/share-session/{token}/frame");
    let b64 = |data: &[u8]| base64::engine::general_purpose::STANDARD.encode(data);
    for cell in [40, 40, 8] {
        let body = json!({"mimeType": "image/jpeg", "dataBase64": b64(&jpeg_frame(cell)), "source": "test"});
        let (status, v) = http(&s.http, "POST", &frame_path, Some(&body))
            .await
            .expect("frame");
        assert_eq!((status, v["accepted"].clone()), (200, json!(true)), "{v}");
    }
    // A declared oversize body is refused before it is sent.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(&s.http)
            .await
            .expect("connect");
        let req = format!(
            "POST {frame_path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 7000000\r\nconnection: close\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await.expect("write");
        let mut resp = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut resp))
            .await
            .expect("answered without the body")
            .expect("read");
        let text = String::from_utf8_lossy(&resp);
        assert!(text.starts_with("HTTP/1.1 413"), "{text}");
        assert!(text.contains("payload_too_large"), "{text}");
    }
    // A wrong type is refused with the reference's reason.
    let bad = json!({"mimeType": "text/plain", "dataBase64": b64(b"hello"), "source": "test"});
    let (status, v) = http(&s.http, "POST", &frame_path, Some(&bad))
        .await
        .expect("frame");
    assert_eq!(
        (status, v["reason"].clone()),
        (400, json!("invalid_mime_type")),
        "{v}"
    );
    let unknown = format!("/api/voice/share-session/{}/frame", "A".repeat(24));
    let (_, v) = http(&s.http, "POST", &unknown, Some(&bad))
        .await
        .expect("frame");
    assert_eq!(v["reason"], json!("share_session_not_found"), "{v}");
    // The frames fed the watch and its brain.
    let state = s.state().await;
    assert_eq!(state["watches"][0]["transport"], json!("link"), "{state}");
    assert_eq!(state["watches"][0]["frames"], json!(3), "{state}");
    assert!(
        state["brain"]["frames"].as_u64().unwrap_or(0) >= 1,
        "{state}"
    );
    // Only the admitted frames were JPEG-decoded (the wrong type and the
    // unknown link were refused first).
    let ingest = get_json(&s.http, "/healthz").await["frameIngest"].clone();
    let counts = |v: &Value| json!([v["admitted"], v["refused"], v["jpegDecoded"]]);
    assert_eq!(counts(&ingest), json!([3, 2, 3]), "{ingest}");
    let decode_cpu = ingest["jpegDecodeCpuNs"].as_u64().unwrap_or(0);
    assert!(decode_cpu > 0, "decode CPU time is counted: {ingest}");
    // The operator CLI: list shows the suffix only; create reshares the
    // same URL; an unknown suffix is exit 1.
    let server = format!("http://{}", s.http);
    let share = |args: &[&str]| {
        let out = std::process::Command::new(bin("control"))
            .arg("share")
            .args(args)
            .args(["--server", &server])
            .output()
            .expect("control share runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = share(&["list"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(&token[16..]) && !out.contains(&token), "{out}");
    let (code, out) = share(&[
        "create",
        "--guild",
        GUILD,
        "--requester",
        BOB,
        "--target",
        ALICE,
    ]);
    assert_eq!((code, out.trim()), (Some(0), url.as_str()));
    let (code, _) = share(&["stop", "nosuchsuffix"]);
    assert_eq!(code, Some(1));
    // Stop Sharing ends the session and its watch.
    let stop = format!("/api/voice/share-session/{token}/stop");
    let (status, _) = http(&s.http, "POST", &stop, Some(&json!({})))
        .await
        .expect("stop");
    assert_eq!(status, 200);
    let good =
        json!({"mimeType": "image/jpeg", "dataBase64": b64(&jpeg_frame(40)), "source": "test"});
    let (_, v) = http(&s.http, "POST", &frame_path, Some(&good))
        .await
        .expect("frame");
    assert_eq!(v["accepted"], json!(false), "{v}");
    // A good JPEG on a stopped link is refused without being decoded.
    let ingest = get_json(&s.http, "/healthz").await["frameIngest"].clone();
    assert_eq!(counts(&ingest), json!([3, 3, 3]), "{ingest}");
    assert_eq!(ingest["jpegDecodeCpuNs"], json!(decode_cpu), "{ingest}");
    let state = s.state().await;
    assert!(
        state["watches"].as_array().is_some_and(Vec::is_empty),
        "{state}"
    );
    assert!(
        !s.log().contains(&token),
        "the full token never appears in control's log"
    );
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_native_watch_is_torn_down_and_the_link_offered_once() {
    let _serial = SERIAL.lock().await;
    let s = Stack::start("demo", "sim-user-agent", &[]).await;
    let r = s
        .watch(json!({"action": "start", "guildId": GUILD, "requesterId": BOB, "target": "alice", "textChannelId": "900000000000000010"}))
        .await;
    assert_eq!(r["transport"], json!("native"), "{r}");
    s.frame_ready().await;
    // The Go Live server dies: mediad's stream_watch gives up after its
    // retries; control tears the native watch down and offers the link.
    s.action(json!({"action": "crash", "server": "stream"}))
        .await;
    let state = wait_for(Duration::from_secs(40), "the link watch", || async {
        let v = s.state().await;
        (v["watches"][0]["transport"] == json!("link")).then_some(v)
    })
    .await;
    assert_eq!(
        state["watches"].as_array().map(Vec::len),
        Some(1),
        "{state}"
    );
    let admin = s.sim.admin_base();
    let addr = admin
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("host")
        .to_owned();
    let messages = get_json(&addr, "/admin/messages").await.to_string();
    assert_eq!(
        messages.matches("/share/").count(),
        1,
        "offered once: {messages}"
    );
    assert!(s.log().contains("native_start_failed"));
    // The voice connection survived the stream server's crash.
    assert!(s.voice_ready().await, "voice transport kept");
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_asked_for_while_native_connects_waits_for_native() {
    let _serial = SERIAL.lock().await;
    let s = Stack::start("demo", "sim-user-agent", &[]).await;
    let start = json!({"action": "start", "guildId": GUILD, "requesterId": BOB, "target": "alice", "textChannelId": "900000000000000010"});
    let mut link = start.clone();
    link["preferredTransport"] = json!("link");

    // The race: STREAM_SERVER_UPDATE comes 1.5 s late, and the link is
    // asked for while the native watch is still connecting.
    s.action(json!({"action": "set_stream_server_update_delay", "ms": 1500}))
        .await;
    let r = s.watch(start.clone()).await;
    assert_eq!(
        (r["transport"].clone(), r["frameReady"].clone()),
        (json!("native"), json!(false)),
        "{r}"
    );
    let t0 = Instant::now();
    let r = s.watch(link.clone()).await;
    // Native won: the link was held, then suppressed before any session.
    assert_eq!(
        (r["ok"].clone(), r["reason"].clone(), r["transport"].clone()),
        (json!(true), json!("native_active"), json!("native")),
        "{r}"
    );
    assert!(r["linkUrl"].is_null(), "{r}");
    assert!(
        t0.elapsed() > Duration::from_millis(500),
        "the link request waited for native ({:?})",
        t0.elapsed()
    );
    assert!(s.log().contains("link_held_for_native"));
    assert!(s.log().contains("link_suppressed"));
    s.frame_ready().await;
    assert_eq!(s.offers().await, 0, "no link offered while native works");
    let v = s.state().await;
    assert_eq!(v["watches"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["watches"][0]["transport"], json!("native"), "{v}");

    // Native loses: a held link proceeds once the native attempt ends
    // (here the streamer stops before the stream server is announced).
    s.watch(json!({"action": "stop", "guildId": GUILD, "requesterId": BOB}))
        .await;
    s.action(json!({"action": "set_stream_server_update_delay", "ms": 3000}))
        .await;
    s.action(json!({"action": "stop_stream", "user": "alice"}))
        .await;
    s.action(json!({"action": "start_stream", "user": "alice"}))
        .await;
    wait_for(T, "alice sharing again", || async {
        let v = s.state().await;
        (v["sharers"][0]["userId"] == json!(ALICE)).then_some(())
    })
    .await;
    let r = s.watch(start).await;
    assert_eq!(r["transport"], json!("native"), "{r}");
    let held = {
        let addr = s.http.clone();
        tokio::spawn(
            async move { http(&addr, "POST", "/api/voice/screen-watch", Some(&link)).await },
        )
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.action(json!({"action": "stop_stream", "user": "alice"}))
        .await;
    let (status, r) = held.await.expect("joined").expect("control answers");
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (r["ok"].clone(), r["transport"].clone(), r["reason"].clone()),
        (json!(true), json!("link"), json!("link_offered")),
        "{r}"
    );
    wait_for(T, "one offer posted", || async {
        (s.offers().await == 1).then_some(())
    })
    .await;
    let v = s.state().await;
    assert_eq!(v["watches"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["watches"][0]["transport"], json!("link"), "{v}");
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_webcam_target_is_watched_on_voice_and_ends_when_they_leave() {
    let _serial = SERIAL.lock().await;
    let s = Stack::start("webcam-only", "sim-user-agent", &[]).await;
    let r = s.start_watch(BOB, Some("alice")).await;
    assert_eq!(
        (r["ok"].clone(), r["transport"].clone()),
        (json!(true), json!("webcam")),
        "{r}"
    );
    s.frame_ready().await;
    // Alice leaves voice: the watch ends, our voice connection stays.
    s.action(json!({"action": "leave_voice", "user": "alice"}))
        .await;
    s.wait_no_watches("watch torn down").await;
    assert!(
        s.log().contains("target_left_voice"),
        "teardown reason logged"
    );
    assert!(s.voice_ready().await, "voice transport kept");
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_streams_the_watch_behind_the_admin_token() {
    let _serial = SERIAL.lock().await;
    let s = Stack::start(
        "demo",
        "sim-user-agent",
        &["--dashboard-token", "dash-secret"],
    )
    .await;
    let body = json!({"action": "start", "guildId": GUILD, "requesterId": BOB, "target": "alice"});
    let (status, _) = http(&s.http, "POST", "/api/voice/screen-watch", Some(&body))
        .await
        .expect("control");
    assert_eq!(status, 401, "admin routes need the token");
    // Issue 19 §3: ids are parsed at the HTTP edge; a field that is not a
    // snowflake is a 400 naming it, and nothing starts or stops.
    for (path, bad, reason) in [
        (
            "/api/voice/screen-watch",
            json!({"action": "start", "guildId": "guild-one", "requesterId": BOB}),
            "guild_id_invalid",
        ),
        (
            "/api/voice/screen-watch",
            json!({"action": "start", "guildId": GUILD, "requesterId": "bob"}),
            "requester_id_invalid",
        ),
        (
            "/api/voice/screen-watch",
            json!({"action": "stop", "guildId": "x", "requesterId": ""}),
            "guild_id_invalid",
        ),
        (
            "/api/voice/share-session",
            json!({"guildId": GUILD, "requesterId": BOB, "textChannelId": "#general"}),
            "text_channel_id_invalid",
        ),
    ] {
        let (status, v) = e2e::http_with(
            &s.http,
            "POST",
            path,
            Some(&bad),
            &[("x-dashboard-token", "dash-secret")],
        )
        .await
        .expect("control");
        assert_eq!(
            (status, v["reason"].clone()),
            (400, json!(reason)),
            "{bad}: {v}"
        );
    }
    let r = http_with_token(&s.http, "/api/voice/screen-watch", &body, "dash-secret").await;
    assert_eq!(r["ok"], json!(true), "{r}");
    wait_for(Duration::from_secs(40), "a screen note", || async {
        let v = s.state().await;
        v["brain"]["notes"]
            .as_array()
            .is_some_and(|n| !n.is_empty())
            .then_some(())
    })
    .await;
    // The page (token in the query: browsers cannot set headers).
    let (status, page) = raw_get(&s.http, "/dashboard?token=dash-secret", "localhost").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("EventSource") && page.contains("Screen notes"),
        "dashboard page"
    );
    let (status, _) = raw_get(&s.http, "/dashboard", "localhost").await;
    assert_eq!(status, 401);
    // The event stream's first event carries the watch and the notes.
    let first = first_sse_event(&s.http, "/api/voice/events?token=dash-secret").await;
    let v: Value = serde_json::from_str(&first).expect("event is JSON");
    assert_eq!(
        v["voice"]["watches"][0]["targetName"],
        json!("alice"),
        "{v}"
    );
    assert!(
        v["voice"]["brain"]["notes"][0]
            .as_str()
            .is_some_and(|n| n.starts_with("Screen text reads")),
        "{v}"
    );
    assert!(
        v["media"]["mediad"]["transports"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "{v}"
    );
    // The latest frame preview is a JPEG.
    let (status, frame) = raw_get(
        &s.http,
        "/api/voice/frame.jpg?token=dash-secret",
        "localhost",
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        frame.contains("image/jpeg"),
        "{}",
        &frame[..frame.len().min(200)]
    );
    s.sim.shutdown().await;
}

/// Issue 15 item 14: a Go Live in a group DM call that was already running
/// when control connected is watchable. The `call` scenario's Trio call
/// (Alice live, Bob) starts before the agent's gateway session; control
/// learns of it only from the CALL_CREATE that follows READY because its
/// Identify asks for AUTO_CALL_CONNECT (discord-userdoccers
/// `pages/gateway/using-gateway.mdx`: "clients will receive Call Create
/// events for all calls created before the Gateway connection was
/// established"). Then it joins the call (op 4, guild_id null), watches
/// `call:<channel>:<alice>` (op 20) and decodes frames. The old control
/// neither asked for the capability nor read CALL_CREATE, so the request
/// was refused with `guild_unknown`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_go_live_in_a_running_group_dm_call_is_watched() {
    const TRIO: &str = "900000000000000050";
    let _serial = SERIAL.lock().await;
    let s = Stack::start("call", "sim-user-agent", &[]).await;
    let body = json!({"action": "start", "channelId": TRIO, "requesterId": BOB, "target": ALICE});
    let r = wait_for(T, "control knows the call", || async {
        let r = s.watch(body.clone()).await;
        (r["reason"] != json!("guild_unknown")).then_some(r)
    })
    .await;
    assert_eq!(r["ok"], json!(true), "{r}");
    assert_eq!(r["transport"], json!("native"), "{r}");
    assert_eq!(r["targetUserId"], json!(ALICE), "{r}");
    s.frame_ready().await;
    let v = s.state().await;
    let w = &v["watches"][0];
    assert_eq!(w["callId"], json!(TRIO), "{v}");
    assert_eq!(w["guildId"], json!(""), "{v}");
    assert_eq!(w["streamKey"], json!(format!("call:{TRIO}:{ALICE}")), "{v}");
    // We are in the call's voice, named by the DM channel.
    assert!(
        v["voice"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["callId"] == json!(TRIO))),
        "{v}"
    );
    s.sim.shutdown().await;
}

/// Frames the watch received during `d`.
async fn frames_during(s: &Stack, d: Duration) -> u64 {
    let count = |v: Value| v["watches"][0]["frames"].as_u64().unwrap_or(0);
    let before = count(s.state().await);
    tokio::time::sleep(d).await;
    count(s.state().await) - before
}

/// Issue 20 §1: the `nativeDiscord*` settings reach mediad's subscription,
/// and a `PATCH /api/settings` during a native watch changes it live. The
/// watch starts on the defaults (2 fps, 640×360, JPEG 60: frames of at
/// most 230 400 pixels whose DC quantizer is IJG quality 60's 13); then
/// 8 fps, 160×90 and JPEG 20 are patched in, and the decoded frames from
/// mediad become 160×90-sized, quantized for quality 20 (40), and come
/// faster. The old control subscribed once with 2 fps, JPEG 75 and no pixel
/// count, whatever the settings said, and never re-subscribed: frames
/// stayed 640×360 at quality 75 (DC 8) and 2 per second. It also sent
/// the subscription before the stream connection (issue 16 §7 wants it
/// after).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_subscription_follows_the_native_discord_settings_live() {
    let _serial = SERIAL.lock().await;
    let s = Stack::start("demo", "sim-user-agent", &[]).await;
    let r = s.start_watch(BOB, Some("alice")).await;
    assert_eq!(r["transport"], json!("native"), "{r}");
    s.frame_ready().await;
    let frame = wait_for(T, "a frame of the watch", || async {
        jpeg_facts(&get_bytes(&s.http, "/api/voice/frame.jpg").await)
    })
    .await;
    // Issue 16 §7: subscribed after the stream connection was requested.
    let log = s.log();
    let connect = log.find("stream credentials to mediad");
    let subscribe = log.find("video subscription to mediad");
    assert!(
        matches!((connect, subscribe), (Some(c), Some(u)) if c < u),
        "connect then subscribe: {connect:?} {subscribe:?}"
    );
    let ((w, h), dc) = frame;
    eprintln!("default subscription: {w}x{h}, DC quantizer {dc}");
    assert!(w * h <= 640 * 360 && w * h > 160 * 90, "{w}x{h}");
    assert_eq!(dc, 13, "JPEG quality 60 (nativeDiscordJpegQuality default)");
    let media = get_json(&s.http, "/api/media/state").await;
    let sub = &media["desiredSubscriptions"][0];
    assert_eq!(sub["userId"], json!(ALICE), "{media}");
    assert_eq!(
        (sub["maxFps"].clone(), sub["jpegQuality"].clone()),
        (json!(2.0), json!(60)),
        "{media}"
    );
    assert_eq!(sub["preferredPixelCount"], json!(640 * 360), "{media}");
    let slow = frames_during(&s, Duration::from_secs(3)).await;

    // The settings reference documents the keys this test changes.
    let reference = get_json(&s.http, "/api/settings/reference").await;
    for key in [
        "nativeDiscordMaxFramesPerSecond",
        "nativeDiscordPreferredPixelCount",
        "nativeDiscordJpegQuality",
    ] {
        let entry = reference["settings"]
            .as_array()
            .and_then(|a| a.iter().find(|e| e["key"] == key))
            .unwrap_or_else(|| panic!("{key} in the reference: {reference}"));
        assert!(
            entry["readBy"]
                .as_str()
                .is_some_and(|r| r.contains("subscription")),
            "{entry}"
        );
    }
    let (status, v) = http(
        &s.http,
        "PATCH",
        "/api/settings",
        Some(&json!({
            "nativeDiscordMaxFramesPerSecond": 8,
            "nativeDiscordPreferredPixelCount": 160 * 90,
            "nativeDiscordJpegQuality": 20,
        })),
    )
    .await
    .expect("control answers");
    assert_eq!(status, 200, "{v}");
    // mediad's output follows: smaller frames, coarser quantization.
    let ((w, h), dc) = wait_for(T, "frames of the patched subscription", || async {
        jpeg_facts(&get_bytes(&s.http, "/api/voice/frame.jpg").await)
            .filter(|((w, h), _)| w * h <= 160 * 90)
    })
    .await;
    eprintln!("patched subscription: {w}x{h}, DC quantizer {dc}");
    assert_eq!(dc, 40, "JPEG quality 20");
    let fast = frames_during(&s, Duration::from_secs(3)).await;
    eprintln!("frames in 3 s: {slow} at 2 fps, {fast} at 8 fps");
    assert!(slow <= 8, "2 fps: {slow} frames in 3 s");
    assert!(fast >= slow * 2 && fast >= 12, "8 fps: {fast} vs {slow}");
    let media = get_json(&s.http, "/api/media/state").await;
    let sub = &media["desiredSubscriptions"][0];
    assert_eq!(
        (sub["maxFps"].clone(), sub["jpegQuality"].clone()),
        (json!(8.0), json!(20)),
        "{media}"
    );
    assert!(
        s.log().contains("stream_watch_resubscribed"),
        "re-sent, not a new watch"
    );
    let v = s.state().await;
    assert_eq!(v["watches"].as_array().map(Vec::len), Some(1), "{v}");
    s.sim.shutdown().await;
}

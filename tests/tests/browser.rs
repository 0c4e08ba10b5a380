//! Real headless-Chromium end-to-end tests: the share page and the
//! dashboard, opened in Chromium (driven through chromedriver with
//! fantoccini) against a stack of the in-process discord-sim and the real
//! `mediad` and `control` binaries.
//!
//! Chromium's fake media devices stand in for the screen
//! (`--use-fake-ui-for-media-stream --use-fake-device-for-media-stream`:
//! `getDisplayMedia` is granted without a prompt and returns a generated
//! 800×450 picture). That picture compresses to under 9 000 bytes at any
//! share-page setting, so the frame-size test captures instead a tab of
//! noise that Chromium selects by its title
//! (`--auto-select-tab-capture-source-by-title`) on a 1920×1080 headless
//! screen. Screenshots land in `$CARGO_TARGET_DIR/artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (scripts/setup installs
//! them); without them these tests fail, they never pass vacuously. Set
//! `CHROME` / `CHROMEDRIVER` to use other executables.

use std::time::{Duration, Instant};

use e2e::stack::{SERIAL, Stack};
use e2e::*;
use serde_json::{Value, json};

const GUILD: &str = "900000000000000001";
const ALICE: &str = "900000000000000101";
const BOB: &str = "900000000000000102";
const TEXT_CHANNEL: &str = "900000000000000010";

mod browser_support;
use browser_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_share_page_through_the_public_host_streams_the_fake_screen_and_stops() {
    browser_executables();
    let _serial = SERIAL.lock().await;
    let t0 = Instant::now();
    let mut tunnel = Tunnel::bind().await;
    let public_url = format!("http://share.test:{}", tunnel.port);
    let s = Stack::start(
        "demo",
        "sim-bot-agent",
        &[
            "--discord-account",
            "bot",
            "--public-host",
            "share.test",
            "--public-url",
            &public_url,
        ],
    )
    .await;
    tunnel.forward_to(s.http.clone());

    // A bot cannot watch Go Live: the request is answered with a link.
    let r = s
        .watch(
            json!({"action": "start", "guildId": GUILD, "requesterId": BOB, "target": ALICE,
            "textChannelId": TEXT_CHANNEL, "preferredTransport": "link"}),
        )
        .await;
    assert_eq!(
        (r["ok"].clone(), r["transport"].clone()),
        (json!(true), json!("link")),
        "{r}"
    );
    let link = r["linkUrl"].as_str().expect("linkUrl").to_owned();
    assert!(
        link.starts_with(&format!("{public_url}/share/")),
        "the link is on the public URL: {link}"
    );
    let token = link.rsplit('/').next().expect("token").to_owned();
    assert!(
        share_sessions(&s)
            .await
            .iter()
            .any(|x| x["framesAccepted"] == json!(0))
    );

    let browser = Browser::start(&[
        "--host-resolver-rules=MAP share.test 127.0.0.1".to_owned(),
        format!("--unsafely-treat-insecure-origin-as-secure={public_url}"),
    ])
    .await;
    browser.goto(&link).await;
    // The page came through the public host, completely: its styles are
    // applied (not the browser's defaults) and its script ran.
    let page = browser
        .wait_js(
            Duration::from_secs(30),
            "the share page to load",
            r#"if (document.readyState !== "complete") return null;
               const start = document.getElementById("start");
               if (!start) return null;
               return {
                 host: location.host, title: document.title,
                 startBg: getComputedStyle(start).backgroundColor,
                 bodyMaxWidth: getComputedStyle(document.body).maxWidth,
                 videoDisplay: getComputedStyle(document.getElementById("video")).display,
                 secure: window.isSecureContext,
                 media: !!(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia),
                 status: document.getElementById("status").textContent,
                 stopDisabled: document.getElementById("stop").disabled,
               };"#,
        )
        .await;
    assert_eq!(
        page,
        json!({
            "host": format!("share.test:{}", tunnel.port), "title": "Share your screen",
            "startBg": "rgb(59, 108, 246)", "bodyMaxWidth": "640px", "videoDisplay": "none",
            "secure": true, "media": true, "status": "Not sharing.", "stopDisabled": true,
        })
    );
    // The countdown shows the link's remaining time (12-minute links).
    let countdown = browser
        .wait_js(
            Duration::from_secs(10),
            "the countdown",
            r#"const t = document.getElementById("countdown").textContent;
               return /^\d+:\d\d$/.test(t) ? t : null;"#,
        )
        .await;
    let left = countdown_secs(countdown.as_str().unwrap_or_default()).expect("m:ss");
    assert!(
        (600..=720).contains(&left),
        "countdown {countdown} for a 12-minute link"
    );
    // A script on the public host cannot reach the admin API.
    let admin = browser
        .js(r#"return fetch("/api/voice/state").then((r) => r.status);"#)
        .await;
    assert_eq!(admin, json!(404), "admin API hidden on the public host");

    browser.click("#start").await;
    let sharing = browser
        .wait_js(
            Duration::from_secs(30),
            "the page to report accepted frames",
            r#"const d = document.getElementById("detail").textContent;
               const m = d.match(/^(\d+) frames sent \((\d+)px, quality ([\d.]+)\)\.$/);
               if (!m || Number(m[1]) < 2) return null;
               const v = document.getElementById("video");
               return { status: document.getElementById("status").textContent, frames: Number(m[1]),
                        width: Number(m[2]), quality: Number(m[3]),
                        videoWidth: v.videoWidth, videoHeight: v.videoHeight,
                        startDisabled: document.getElementById("start").disabled,
                        stopDisabled: document.getElementById("stop").disabled };"#,
        )
        .await;
    println!("sharing: {sharing}");
    assert_eq!(sharing["status"], json!("Sharing."), "{sharing}");
    assert_eq!(
        (
            sharing["startDisabled"].clone(),
            sharing["stopDisabled"].clone()
        ),
        (json!(true), json!(false)),
        "{sharing}"
    );
    assert!(
        sharing["videoWidth"].as_u64().unwrap_or(0) > 0,
        "the fake screen has a size: {sharing}"
    );
    // control counts the frames the page sent, and they feed the watch.
    let first = wait_for(
        Duration::from_secs(30),
        "framesAccepted ≥ 2 in the share list",
        || async {
            let list = share_sessions(&s).await;
            let n = list.first()?["framesAccepted"].as_u64()?;
            (n >= 2).then_some(n)
        },
    )
    .await;
    let more = wait_for(
        Duration::from_secs(30),
        "framesAccepted to keep growing",
        || async {
            let n = share_sessions(&s).await.first()?["framesAccepted"].as_u64()?;
            (n >= first + 2).then_some(n)
        },
    )
    .await;
    let state = s.state().await;
    assert_eq!(state["watches"][0]["transport"], json!("link"), "{state}");
    assert!(
        state["watches"][0]["frames"].as_u64().unwrap_or(0) >= first,
        "{state}"
    );
    assert!(
        state["brain"]["frames"].as_u64().unwrap_or(0) >= 1,
        "the brain got the page's frames: {state}"
    );
    let shot = browser.screenshot("share-page-sharing").await;
    assert!(shot.exists());

    // Stop Sharing: the page says so, the session and its watch end.
    browser.click("#stop").await;
    let ended = browser
        .wait_js(
            Duration::from_secs(10),
            "the page to show that sharing ended",
            r#"const s = document.getElementById("status").textContent;
               if (s !== "Not sharing.") return null;
               return { detail: document.getElementById("detail").textContent,
                        startDisabled: document.getElementById("start").disabled,
                        stopDisabled: document.getElementById("stop").disabled };"#,
        )
        .await;
    assert_eq!(
        ended,
        json!({"detail": "You stopped sharing.", "startDisabled": false, "stopDisabled": true})
    );
    wait_for(
        Duration::from_secs(15),
        "the share session and its watch to end",
        || async {
            let gone = share_sessions(&s).await.is_empty();
            let state = s.state().await;
            let no_watch = state["watches"].as_array().is_some_and(Vec::is_empty);
            (gone && no_watch).then_some(())
        },
    )
    .await;
    // The stopped link refuses frames and its page is gone.
    let (_, v, _) = request(
        &s.http,
        "POST",
        &format!("/api/voice/share-session/{token}/frame"),
        Some(&format!("share.test:{}", tunnel.port)),
        None,
        Some(&json!({"mimeType": "image/jpeg", "dataBase64": "/9j/", "source": "test"})),
    )
    .await;
    assert_eq!(v["accepted"], json!(false), "{v}");
    let (status, _, _) = request(
        &s.http,
        "GET",
        &format!("/share/{token}"),
        Some("share.test"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 404, "the stopped link's page");
    browser.screenshot("share-page-stopped").await;
    println!(
        "share page test: {more} frames accepted, {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    browser.close().await;
    s.sim.shutdown().await;
}

// ---------------------------------------------------------------------
// 2. frame_too_large makes the share page send smaller frames.
// ---------------------------------------------------------------------

const DASH: &str = "dash-secret";

/// A "screen" for tab capture: a 1920-wide tab full of changing noise, so
/// that a JPEG of it at 1920 px / quality 0.75 is far above 50 000 bytes,
/// and at the page's floor (480 px / 0.50) well below. Chromium's fake
/// display device (800×450, mostly flat) stays under 9 000 bytes at any
/// setting, so it can never be too large.
const NOISE_TITLE: &str = "noise-screen";

fn noise_page_url() -> String {
    use base64::Engine;
    let html = format!(
        r#"<!doctype html><title>{NOISE_TITLE}</title><body style="margin:0;overflow:hidden">
<canvas id="n"></canvas><script>
const c = document.getElementById("n"); c.width = innerWidth; c.height = innerHeight;
const g = c.getContext("2d"); let seed = 12345;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 255;
function draw() {{
  const im = g.createImageData(c.width, c.height);
  for (let i = 0; i < im.data.length; i += 4) {{
    im.data[i] = rnd(); im.data[i + 1] = rnd(); im.data[i + 2] = rnd(); im.data[i + 3] = 255;
  }}
  g.putImageData(im, 0, 0); window.drawn = (window.drawn || 0) + 1;
}}
draw(); setInterval(draw, 300);
</script>"#
    );
    format!(
        "data:text/html;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(html)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_too_large_makes_the_share_page_send_smaller_frames() {
    browser_executables();
    let _serial = SERIAL.lock().await;
    let t0 = Instant::now();
    let s = Stack::start(
        "demo",
        "sim-bot-agent",
        &["--discord-account", "bot", "--dashboard-token", DASH],
    )
    .await;
    // The admin settings API: the smallest frame cap, the largest and best
    // share-page frames.
    let patch =
        json!({"maxFrameBytes": 50000, "sharePageMaxWidthPx": 1920, "sharePageJpegQuality": 0.75});
    let (status, _, _) = request(&s.http, "PATCH", "/api/settings", None, None, Some(&patch)).await;
    assert_eq!(status, 401, "PATCH /api/settings needs the admin token");
    let (status, v, raw) = request(
        &s.http,
        "PATCH",
        "/api/settings",
        None,
        Some(DASH),
        Some(&patch),
    )
    .await;
    assert_eq!(
        status, 200,
        "PATCH /api/settings with the admin token (the settings API) answered: {raw}"
    );
    assert_eq!(v["ok"], json!(true), "{v}");
    let (status, got, raw) = request(&s.http, "GET", "/api/settings", None, Some(DASH), None).await;
    assert_eq!(status, 200, "GET /api/settings: {raw}");
    for (k, want) in patch.as_object().expect("object") {
        assert_eq!(&v["settings"][k], want, "PATCH answer {k}: {v}");
        assert_eq!(&got["settings"][k], want, "GET {k}: {got}");
    }

    let (status, r, raw) = request(
        &s.http,
        "POST",
        "/api/voice/share-session",
        None,
        Some(DASH),
        Some(&json!({"guildId": GUILD, "requesterId": BOB, "target": ALICE, "textChannelId": TEXT_CHANNEL})),
    )
    .await;
    assert_eq!((status, r["ok"].clone()), (200, json!(true)), "{raw}");
    let link = r["linkUrl"].as_str().expect("linkUrl").to_owned();

    // No fake devices here: getDisplayMedia captures the noise tab, which
    // Chromium picks by its title; a 1920×1080 headless screen lets the
    // capture be 1920 wide.
    let browser = Browser::start_with(
        false,
        &[
            format!("--auto-select-tab-capture-source-by-title={NOISE_TITLE}"),
            "--window-size=1920,1080".to_owned(),
            "--screen-info={0,0 1920x1080}".to_owned(),
        ],
    )
    .await;
    browser.goto(&noise_page_url()).await;
    browser
        .wait_js(
            Duration::from_secs(20),
            "the noise tab to draw",
            "return window.drawn >= 1 && innerWidth >= 1900 ? innerWidth : null;",
        )
        .await;
    let tab = browser.client.new_window(true).await.expect("new tab");
    browser
        .client
        .switch_to_window(tab.handle)
        .await
        .expect("switch tab");
    browser.goto(&link).await;
    let cfg = browser
        .wait_js(
            Duration::from_secs(30),
            "the share page",
            r#"return document.readyState === "complete" && typeof cfg === "object"
                 ? { maxWidthPx: cfg.maxWidthPx, jpegQuality: cfg.jpegQuality, width, quality } : null;"#,
        )
        .await;
    assert_eq!(
        cfg,
        json!({"maxWidthPx": 1920, "jpegQuality": 0.75, "width": 1920, "quality": 0.75}),
        "the page starts from the patched settings"
    );
    // Record every frame the page posts: its decoded size, its canvas
    // width and quality, and control's answer.
    browser
        .js(r#"window.posts = [];
           const realFetch = window.fetch;
           window.fetch = async (url, opts) => {
             const r = await realFetch(url, opts);
             if (String(url).endsWith("/frame")) {
               const b64 = JSON.parse(opts.body).dataBase64;
               const pad = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
               const answer = await r.clone().json().catch(() => ({}));
               window.posts.push({ bytes: b64.length / 4 * 3 - pad, width, quality,
                 canvasWidth: document.getElementById("canvas").width,
                 videoWidth: document.getElementById("video").videoWidth,
                 status: r.status, accepted: answer.accepted === true, reason: answer.reason || null });
             }
             return r;
           };
           return true;"#)
        .await;
    browser.click("#start").await;
    let posts = browser
        .wait_js(
            Duration::from_secs(60),
            "frames refused as too large, then accepted smaller ones",
            r#"const p = window.posts || [];
               const i = p.findIndex((x) => x.accepted);
               return i > 0 && p.filter((x) => x.accepted).length >= 2 ? p : null;"#,
        )
        .await;
    let posts = posts.as_array().expect("array").clone();
    for p in &posts {
        println!("frame: {p}");
    }
    let first_ok = posts
        .iter()
        .position(|p| p["accepted"] == json!(true))
        .expect("an accepted frame");
    let (too_large, accepted) = posts.split_at(first_ok);
    // The page's own sizing state (`width`, `quality`) for each frame, and
    // the canvas it drew: the capture's width scaled down to `width` (the
    // capture itself may be smaller than 1920 on a loaded machine).
    for p in &posts {
        let (target, video) = (p["width"].as_f64(), p["videoWidth"].as_f64());
        let (target, video) = (target.unwrap_or(0.0), video.unwrap_or(0.0));
        let drawn = (video * (target / video).min(1.0)).round() as u64;
        assert_eq!(p["canvasWidth"].as_u64(), Some(drawn), "{p}");
    }
    assert_eq!(
        (
            too_large[0]["width"].clone(),
            too_large[0]["quality"].clone()
        ),
        (json!(1920), json!(0.75)),
        "the first frame uses the patched settings: {}",
        too_large[0]
    );
    let mut prev: Option<&Value> = None;
    for p in &posts[..=first_ok] {
        if let Some(prev) = prev {
            // After each refusal: width ×0.82 (not below 480), quality
            // −0.04 (not below 0.50).
            let w0 = prev["width"].as_f64().unwrap_or(0.0);
            let q0 = prev["quality"].as_f64().unwrap_or(0.0);
            assert_eq!(
                p["width"].as_f64(),
                Some((w0 * 0.82).floor().max(480.0)),
                "width ×0.82: {prev} → {p}"
            );
            let q1 = p["quality"].as_f64().unwrap_or(0.0);
            assert!(
                (q1 - (q0 - 0.04).max(0.5)).abs() < 1e-9,
                "quality −0.04: {prev} → {p}"
            );
        }
        prev = Some(p);
    }
    for p in too_large {
        assert_eq!(
            (p["status"].clone(), p["reason"].clone()),
            (json!(400), json!("frame_too_large")),
            "{p}"
        );
        assert!(p["bytes"].as_u64().unwrap_or(0) > 50_000, "{p}");
    }
    for p in accepted.iter().take_while(|p| p["accepted"] == json!(true)) {
        assert_eq!(p["status"], json!(200), "{p}");
        let bytes = p["bytes"].as_u64().unwrap_or(u64::MAX);
        assert!(bytes <= 50_000, "accepted under the cap: {p}");
        assert!(
            p["width"].as_f64() < Some(1920.0) && p["quality"].as_f64() < Some(0.75),
            "accepted frames are the shrunk ones: {p}"
        );
    }
    // What the page shows, and what control counted.
    let detail = browser
        .js(r#"return document.getElementById("detail").textContent;"#)
        .await;
    let page_accepted = accepted.len() as u64;
    let detail = detail.as_str().unwrap_or_default().to_owned();
    let shown_width = detail
        .split_once(" frames sent (")
        .and_then(|(_, rest)| rest.split_once("px"))
        .and_then(|(w, _)| w.parse::<u64>().ok());
    assert!(
        shown_width.is_some_and(|w| w < 1920),
        "the page reports the smaller frames: {detail:?}"
    );
    let counted = wait_for(
        Duration::from_secs(10),
        "control to count the accepted frames",
        || async {
            let n = share_sessions(&s).await.first()?["framesAccepted"].as_u64()?;
            (n >= page_accepted).then_some(n)
        },
    )
    .await;
    browser.screenshot("share-page-shrunk").await;
    browser.click("#stop").await;
    wait_for(
        Duration::from_secs(15),
        "the share session to end",
        || async { share_sessions(&s).await.is_empty().then_some(()) },
    )
    .await;
    println!(
        "frame_too_large test: {} refused, {counted} accepted, {:.1} s",
        too_large.len(),
        t0.elapsed().as_secs_f64()
    );
    browser.close().await;
    s.sim.shutdown().await;
}

// ---------------------------------------------------------------------
// 3. The dashboard in a browser.
// ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_transports_sharers_notes_frame_and_share_links() {
    browser_executables();
    let _serial = SERIAL.lock().await;
    let t0 = Instant::now();
    let s = Stack::start(
        "demo",
        "sim-user-agent",
        &["--dashboard-token", DASH, "--public-host", "share.test"],
    )
    .await;
    let (status, r, raw) = request(
        &s.http,
        "POST",
        "/api/voice/screen-watch",
        None,
        Some(DASH),
        Some(&json!({"action": "start", "guildId": GUILD, "requesterId": BOB, "target": "alice", "textChannelId": TEXT_CHANNEL})),
    )
    .await;
    assert_eq!(status, 200, "{raw}");
    assert_eq!(
        (r["ok"].clone(), r["transport"].clone()),
        (json!(true), json!("native")),
        "{r}"
    );
    let port = port_of(&s.http);
    let browser =
        Browser::start(&["--host-resolver-rules=MAP share.test 127.0.0.1".to_owned()]).await;
    browser
        .goto(&format!("http://{}/dashboard?token={DASH}", s.http))
        .await;
    // Tables as arrays of rows of cell texts.
    const TABLES: &str = r##"const rows = (id) => [...document.querySelectorAll(`#${id} tr`)]
          .map((r) => [...r.cells].map((c) => c.textContent));
        const dom = { live: document.getElementById("live").textContent,
          transports: rows("transports"), sharers: rows("sharers"), streams: rows("streams"),
          watches: rows("watches"), shares: rows("shares"),
          provider: document.getElementById("provider").textContent,
          notes: [...document.querySelectorAll("#notes li")].map((l) => l.textContent),
          headings: [...document.querySelectorAll("h2")].map((h) => h.textContent) };"##;
    let dom = browser
        .wait_js(
            Duration::from_secs(60),
            "live transports, alice and a frame-ready native watch",
            &format!(
                r#"{TABLES}
                const t = dom.transports.slice(1);
                const ready = (role) => t.some((r) => r[0] === role && r[1] === "ready");
                const watch = dom.watches.slice(1).find((r) => r[1] === "alice");
                return dom.live === "live" && ready("voice") && t.length >= 2
                  && dom.sharers.some((r) => r[0] === "alice")
                  && dom.streams.length >= 2
                  && watch && watch[2] === "native" && watch[5] === "true" ? dom : null;"#
            ),
        )
        .await;
    println!("dashboard: {dom}");
    assert_eq!(
        dom["transports"][0],
        json!(["role", "status", "reason"]),
        "{dom}"
    );
    assert_eq!(
        dom["sharers"][0],
        json!(["user", "go live", "webcam"]),
        "{dom}"
    );
    assert!(
        dom["sharers"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| *r == json!(["alice", "true", "false"]))),
        "alice is live: {dom}"
    );
    assert!(
        dom["streams"][1][0]
            .as_str()
            .is_some_and(|k| k.contains(ALICE)),
        "alice's stream key: {dom}"
    );
    // Notes from the offline provider appear in the live feed.
    let notes = browser
        .wait_js(
            Duration::from_secs(60),
            "a screen note in the dashboard's feed",
            &format!(
                r#"{TABLES}
                return dom.notes.length > 0 ? {{ notes: dom.notes, provider: dom.provider,
                  context: document.getElementById("context").textContent }} : null;"#
            ),
        )
        .await;
    assert_eq!(notes["provider"], json!("(offline)"), "{notes}");
    assert!(
        notes["notes"][0]
            .as_str()
            .is_some_and(|n| n.starts_with("Screen text reads")),
        "{notes}"
    );
    assert!(
        notes["context"]
            .as_str()
            .is_some_and(|c| c.contains("Screen text reads")),
        "{notes}"
    );
    // The latest frame preview loaded (a decodable JPEG of alice's 720p
    // screen).
    let frame = browser
        .wait_js(
            Duration::from_secs(30),
            "the latest frame preview",
            r#"const img = document.getElementById("frame");
               return img.complete && img.naturalWidth > 0
                 ? { src: img.getAttribute("src"), w: img.naturalWidth, h: img.naturalHeight } : null;"#,
        )
        .await;
    assert!(
        frame["src"]
            .as_str()
            .is_some_and(|s| s.starts_with(&format!("/api/voice/frame.jpg?token={DASH}&n="))),
        "{frame}"
    );
    let (w, h) = (
        frame["w"].as_u64().unwrap_or(0),
        frame["h"].as_u64().unwrap_or(0),
    );
    assert!(
        w >= 320 && h >= 180 && w * 9 == h * 16,
        "16:9 frame: {frame}"
    );
    browser.screenshot("dashboard").await;
    // The share-links section: its table, then a link's row.
    assert!(
        dom["headings"]
            .as_array()
            .is_some_and(|h| h.contains(&json!("Share links"))),
        "{dom}"
    );
    assert_eq!(
        dom["shares"][0],
        json!(["link", "target", "expires in (min)", "frames"]),
        "{dom}"
    );
    let (status, link, raw) = request(
        &s.http,
        "POST",
        "/api/voice/share-session",
        None,
        Some(DASH),
        Some(&json!({"guildId": GUILD, "requesterId": ALICE, "target": BOB, "textChannelId": TEXT_CHANNEL})),
    )
    .await;
    assert_eq!((status, link["ok"].clone()), (200, json!(true)), "{raw}");
    let url = link["linkUrl"].as_str().expect("linkUrl").to_owned();
    let suffix: String = url
        .chars()
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let row = browser
        .wait_js(
            Duration::from_secs(15),
            "the share link's row",
            &format!(
                r#"{TABLES}
                return dom.shares.find((r) => r[1] === "{BOB}") || null;"#
            ),
        )
        .await;
    assert_eq!(row[0], json!(format!("…{suffix}")), "{row}");
    assert_eq!(row[3], json!("0"), "{row}");
    let minutes: f64 = row[2].as_str().and_then(|m| m.parse().ok()).unwrap_or(0.0);
    assert!(minutes > 10.0 && minutes <= 12.0, "{row}");
    assert!(
        !browser
            .js("return document.body.innerText;")
            .await
            .as_str()
            .unwrap_or_default()
            .contains(url.rsplit('/').next().unwrap_or("-")),
        "the dashboard shows only the token's suffix"
    );
    // A link nobody has opened yet does not take the brain away from the
    // watch that is delivering: alice's notes stay on the dashboard.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let kept = browser
        .js(r##"return document.querySelectorAll("#notes li").length;"##)
        .await;
    assert!(kept.as_u64().unwrap_or(0) > 0, "notes kept: {kept}");
    let state = get_json_token(&s.http, "/api/voice/state", DASH).await;
    assert!(
        state["brain"]["notes"]
            .as_array()
            .is_some_and(|n| !n.is_empty()),
        "the brain still follows alice: {}",
        state["brain"]
    );
    browser.screenshot("dashboard-share-link").await;

    // Through the public host the dashboard does not exist.
    browser
        .goto(&format!("http://share.test:{port}/dashboard?token={DASH}"))
        .await;
    let public = browser
        .wait_js(
            Duration::from_secs(15),
            "the dashboard's answer on the public host",
            r#"const nav = performance.getEntriesByType("navigation")[0];
               return document.readyState === "complete"
                 ? { status: nav ? nav.responseStatus : null, text: document.body.innerText.trim(),
                     host: location.host } : null;"#,
        )
        .await;
    // (Issue 16 §4: every error is JSON with a stable reason, this 404 too.)
    let text: Value = serde_json::from_str(public["text"].as_str().unwrap_or_default())
        .unwrap_or_else(|_| panic!("a JSON 404: {public}"));
    assert_eq!(
        (
            public["status"].clone(),
            public["host"].clone(),
            text["reason"].clone()
        ),
        (
            json!(404),
            json!(format!("share.test:{port}")),
            json!("not_found")
        ),
        "{public}"
    );
    let events = browser
        .js(&format!(
            r#"return fetch("/api/voice/events?token={DASH}").then((r) => r.status);"#
        ))
        .await;
    assert_eq!(events, json!(404), "the event stream on the public host");
    println!("dashboard test: {:.1} s", t0.elapsed().as_secs_f64());
    browser.close().await;
    s.sim.shutdown().await;
}

/// Issue 16 §6, on the real share page in Chromium: sizing shrinks with
/// `floor` (960 → 787, 645, 528, then 480, quality −0.04 to 0.50) and grows
/// (`floor(×1.08)`, +0.02) only after 20 accepted frames since the last
/// adjustment; only `frame_too_large` (and a growth) resets that count,
/// so a refusal for another reason in between does not. The page's own
/// requests keep the path prefix it was served under. (The old page
/// rounded — 529 after 645 — and grew on every 20th accepted frame
/// overall, e.g. right after a shrink; it posted to the root.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_share_page_sizes_frames_like_the_reference() {
    browser_executables();
    let _serial = SERIAL.lock().await;
    let s = Stack::start(
        "demo",
        "sim-bot-agent",
        &["--discord-account", "bot", "--dashboard-token", DASH],
    )
    .await;
    let patch = json!({"sharePageMaxWidthPx": 960, "sharePageJpegQuality": 0.62});
    let (status, _, raw) = request(
        &s.http,
        "PATCH",
        "/api/settings",
        None,
        Some(DASH),
        Some(&patch),
    )
    .await;
    assert_eq!(status, 200, "{raw}");
    let (status, r, raw) = request(
        &s.http,
        "POST",
        "/api/voice/share-session",
        None,
        Some(DASH),
        Some(&json!({"guildId": GUILD, "requesterId": BOB, "target": ALICE, "textChannelId": TEXT_CHANNEL})),
    )
    .await;
    assert_eq!((status, r["ok"].clone()), (200, json!(true)), "{raw}");
    let link = r["linkUrl"].as_str().expect("linkUrl").to_owned();
    let browser = Browser::start(&[]).await;
    browser.goto(&link).await;
    browser
        .wait_js(
            Duration::from_secs(30),
            "the share page",
            r#"return document.readyState === "complete" && typeof cfg === "object" ? true : null;"#,
        )
        .await;
    let got = browser
        .js(r#"const out = { start: [width, quality], shrink: [], changed: [] };
           for (let i = 0; i < 5; i++) { out.changed.push(shrink()); out.shrink.push([width, quality]); }
           // 19 accepted: no growth yet.
           for (let i = 0; i < 19; i++) onAccepted();
           out.after19 = [width, quality, sinceAdjust];
           // Another refusal (e.g. frame_rate_limited) changes nothing:
           // the 20th accepted frame grows.
           onAccepted();
           out.after20 = [width, quality, sinceAdjust];
           // 10 more, then frame_too_large resets the count: 19 after it
           // do not grow, the 20th does.
           for (let i = 0; i < 10; i++) onAccepted();
           shrink();
           out.afterShrink = [width, quality];
           for (let i = 0; i < 19; i++) onAccepted();
           out.again19 = [width, sinceAdjust];
           onAccepted();
           out.again20 = [width, quality];
           // At the configured size the count runs on without growing.
           resetSizing();
           for (let i = 0; i < 45; i++) onAccepted();
           out.atMax = [width, quality, sinceAdjust];
           out.prefix = [pathPrefix("/some/path/share/abc"), pathPrefix("/share/abc"), pathPrefix("/a/share/b/share/c")];
           out.frameUrl = frameUrl;
           out.token = token;
           return out;"#)
        .await;
    println!("sizing: {got}");
    assert_eq!(got["start"], json!([960, 0.62]));
    assert_eq!(
        got["shrink"],
        json!([[787, 0.58], [645, 0.54], [528, 0.5], [480, 0.5], [480, 0.5]]),
        "floor(×0.82), not below 480; quality −0.04, not below 0.50"
    );
    assert_eq!(got["changed"], json!([true, true, true, true, false]));
    assert_eq!(got["after19"], json!([480, 0.5, 19]));
    assert_eq!(
        got["after20"],
        json!([518, 0.52, 0]),
        "floor(480×1.08), +0.02"
    );
    assert_eq!(
        got["afterShrink"],
        json!([480, 0.5]),
        "floor(518×0.82)=424 → 480"
    );
    assert_eq!(
        got["again19"],
        json!([480, 19]),
        "frame_too_large reset the count"
    );
    assert_eq!(got["again20"], json!([518, 0.52]));
    assert_eq!(got["atMax"], json!([960, 0.62, 45]));
    assert_eq!(got["prefix"], json!(["/some/path", "", "/a/share/b"]));
    let token = got["token"].as_str().expect("token");
    assert_eq!(
        got["frameUrl"],
        json!(format!("/api/voice/share-session/{token}/frame"))
    );
    browser.close().await;
}

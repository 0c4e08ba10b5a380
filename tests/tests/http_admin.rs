//! Issue 16 §2-§4 against the built control (no Discord session, no
//! mediad: the admin surface, the public-host gate and the error shape do
//! not need them). Requests are written byte for byte, so a test can send
//! two `Host` lines, an absolute-form URI or any header.

use e2e::{Daemon, free_port, wait_for};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PUBLIC: &str = "share.example.test";

struct Control {
    _dir: tempfile::TempDir,
    _daemon: Daemon,
    addr: String,
}

async fn control(extra: &[&str]) -> Control {
    control_with(&format!("127.0.0.1:{}", free_port()), extra, &[]).await
}

/// control on `http_addr` (port 0: it picks one; the address it logs is
/// used) with `extra` arguments and environment.
async fn control_with(http_addr: &str, extra: &[&str], env: &[(&str, &str)]) -> Control {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let sock = dir.path().join("no-mediad.sock");
    let mut args = vec![
        "--http-addr",
        http_addr,
        "--data-dir",
        data.to_str().expect("utf-8"),
        "--mediad-socket",
        sock.to_str().expect("utf-8"),
        "--public-host",
        PUBLIC,
    ];
    args.extend_from_slice(extra);
    let daemon = Daemon::start_env("control", "control", dir.path(), &args, env);
    let addr = e2e::stack::control_addr(&daemon).await;
    let a = addr.clone();
    wait_for(Duration::from_secs(20), "control answering", || {
        let a = a.clone();
        async move {
            (send(
                &a,
                &format!("GET /healthz HTTP/1.1\r\nhost: {a}\r\n\r\n"),
                b"",
            )
            .await
            .0 == 200)
                .then_some(())
        }
    })
    .await;
    Control {
        _dir: dir,
        _daemon: daemon,
        addr,
    }
}

/// Sends `head` (request line and headers, without the blank line; a
/// `connection: close` and the body's length are added) and `body`;
/// returns (status, head, body).
async fn send(addr: &str, head: &str, body: &[u8]) -> (u16, String, String) {
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
        return (0, String::new(), String::new());
    };
    let head = head.trim_end_matches("\r\n");
    let req = format!(
        "{head}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let (mut r, mut w) = s.split();
    let write = async {
        let _ = w.write_all(req.as_bytes()).await;
        let _ = w.write_all(body).await;
    };
    let mut resp = Vec::new();
    let read = r.read_to_end(&mut resp);
    let (_, _) = tokio::join!(write, read);
    let text = String::from_utf8_lossy(&resp).into_owned();
    let (h, b) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = h
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, h.to_owned(), b.to_owned())
}

/// The reply as JSON (a chunked body de-chunked), asserting the JSON
/// content type.
fn json(head: &str, body: &str) -> Value {
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "not JSON:\n{head}\n\n{body}"
    );
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body.split_once("\r\n")
            .map(|(_, rest)| rest.rsplit_once("\r\n0").map_or(rest, |(b, _)| b))
            .unwrap_or("")
    } else {
        body
    };
    serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// Status and reason of a JSON error reply.
async fn refused(addr: &str, head: &str, body: &[u8]) -> (u16, String) {
    let (status, h, b) = send(addr, head, body).await;
    let v = json(&h, &b);
    (status, v["reason"].as_str().unwrap_or_default().to_owned())
}

/// §2: DNS rebinding (`Host: rebind.attacker.test` answered 200 on
/// `/api/settings`) and a cross-site `text/plain` POST (it stopped every
/// watch) reached the admin routes without DASHBOARD_TOKEN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_routes_refuse_foreign_hosts_and_cross_site_requests() {
    let c = control(&[]).await;
    let a = &c.addr;
    // Loopback names and the bound address reach the admin routes.
    for host in [a.as_str(), "localhost:8787", "localhost"] {
        let (status, _, _) = send(
            a,
            &format!("GET /api/settings HTTP/1.1\r\nhost: {host}"),
            b"",
        )
        .await;
        assert_eq!(status, 200, "{host}");
    }
    // A rebinding name does not.
    for host in ["rebind.attacker.test", "rebind.attacker.test:8787"] {
        let r = refused(
            a,
            &format!("GET /api/settings HTTP/1.1\r\nhost: {host}"),
            b"",
        )
        .await;
        assert_eq!(r, (403, "host_not_allowed".into()), "{host}");
    }
    // A cross-site POST, as a web page can send it.
    let stop = br#"{"action":"stop","guildId":"1"}"#;
    for extra in [
        "origin: http://evil.example\r\ncontent-type: text/plain",
        "origin: http://evil.example\r\ncontent-type: application/json",
        "origin: null\r\ncontent-type: application/json",
        "sec-fetch-site: cross-site\r\ncontent-type: application/json",
    ] {
        let r = refused(
            a,
            &format!("POST /api/voice/screen-watch HTTP/1.1\r\nhost: {a}\r\n{extra}"),
            stop,
        )
        .await;
        assert_eq!(r, (403, "cross_site_request".into()), "{extra}");
    }
    // A write without a JSON content type (a form or text/plain POST).
    for ct in ["text/plain", "application/x-www-form-urlencoded"] {
        let r = refused(
            a,
            &format!("POST /api/voice/screen-watch HTTP/1.1\r\nhost: {a}\r\ncontent-type: {ct}"),
            stop,
        )
        .await;
        assert_eq!(r, (415, "json_content_type_required".into()), "{ct}");
    }
    // The same request from the same origin reaches the route (no Discord
    // session here: 503).
    let (status, _) = refused(
        a,
        &format!("POST /api/voice/screen-watch HTTP/1.1\r\nhost: {a}\r\norigin: http://{a}\r\nsec-fetch-site: same-origin\r\ncontent-type: application/json"),
        stop,
    )
    .await;
    assert_eq!(status, 503);
    // Routes that are not admin are untouched by the host rule.
    let (status, _, _) = send(a, "GET /healthz HTTP/1.1\r\nhost: anything.example", b"").await;
    assert_eq!(status, 200);
}

/// §2: `PUT /api/media/voice` without the token answered 422 (a missing
/// field) instead of 401: the body was validated first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_never_runs_before_authentication() {
    let c = control(&["--dashboard-token", "s3cret"]).await;
    let a = &c.addr;
    for (method, path, body) in [
        ("PUT", "/api/media/voice", &br#"{"guildId":"1"}"#[..]),
        ("PUT", "/api/media/voice", b"not json"),
        ("PUT", "/api/media/subscriptions/12", b"[]"),
        ("PATCH", "/api/settings", b"{\"nope\":1}"),
        ("POST", "/api/voice/screen-watch", b"{}"),
    ] {
        let r = refused(
            a,
            &format!("{method} {path} HTTP/1.1\r\nhost: {a}\r\ncontent-type: application/json"),
            body,
        )
        .await;
        assert_eq!(r, (401, "unauthorized".into()), "{method} {path}");
    }
    // With the token, the body is validated: a JSON 400, not a text 422.
    let r = refused(
        a,
        &format!("PUT /api/media/voice HTTP/1.1\r\nhost: {a}\r\nx-dashboard-token: s3cret\r\ncontent-type: application/json"),
        br#"{"guildId":"1"}"#,
    )
    .await;
    assert_eq!(r, (400, "invalid_json_body".into()));
}

/// §3: with PUBLIC_HOST set, each of these forms named the public host
/// past the first line and reached `/api/settings` (200).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_host_gate_reads_every_line_and_form() {
    let c = control(&[]).await;
    let a = &c.addr;
    let get = |extra: &str| format!("GET /api/settings HTTP/1.1\r\n{extra}");
    // Two X-Forwarded-Host lines, the local one first: public → 404.
    let r = refused(
        a,
        &get(&format!(
            "host: {a}\r\nx-forwarded-host: {a}\r\nx-forwarded-host: {PUBLIC}"
        )),
        b"",
    )
    .await;
    assert_eq!(r, (404, "not_found".into()), "two X-Forwarded-Host lines");
    // Forwarded: host=… (alone, among other pairs, quoted with a port).
    for f in [
        format!("host={PUBLIC}"),
        format!("for=192.0.2.1;proto=https;host=\"{PUBLIC}:443\""),
    ] {
        let r = refused(a, &get(&format!("host: {a}\r\nforwarded: {f}")), b"").await;
        assert_eq!(r, (404, "not_found".into()), "Forwarded: {f}");
    }
    // Two Host lines, either order: ambiguous → 400.
    for hosts in [
        format!("host: {a}\r\nhost: {PUBLIC}"),
        format!("host: {PUBLIC}\r\nhost: {a}"),
    ] {
        let r = refused(a, &get(&hosts), b"").await;
        assert_eq!(r, (400, "ambiguous_host".into()), "{hosts}");
    }
    // An absolute-form request URI with the public host.
    let abs = format!("GET http://{PUBLIC}/api/settings HTTP/1.1\r\nhost: {a}");
    let r = refused(a, &abs, b"").await;
    assert_eq!(
        r,
        (400, "ambiguous_host".into()),
        "absolute-form URI, local Host"
    );
    let abs = format!("GET http://{PUBLIC}/api/settings HTTP/1.1\r\nhost: {PUBLIC}");
    let r = refused(a, &abs, b"").await;
    assert_eq!(
        r,
        (404, "not_found".into()),
        "absolute-form URI, public Host"
    );
    // A malformed Forwarded line is refused, not skipped.
    let r = refused(
        a,
        &get(&format!("host: {a}\r\nforwarded: host=\"{PUBLIC}")),
        b"",
    )
    .await;
    assert_eq!(r.0, 400);
    // The local request still works.
    let (status, _, _) = send(a, &get(&format!("host: {a}")), b"").await;
    assert_eq!(status, 200);
}

/// §4: axum's own rejections answered text/plain (400/415/422 on
/// /api/media/*, 413 off the frame routes, an empty 405), and
/// `PUT /api/media/subscriptions/{id}` with `[]` or `{}` created a
/// subscription.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_is_json_with_a_reason() {
    let c = control(&[]).await;
    let a = &c.addr;
    let json_put =
        |path: &str| format!("PUT {path} HTTP/1.1\r\nhost: {a}\r\ncontent-type: application/json");
    for (body, want) in [
        (&b"not json"[..], "invalid_json_body"),
        (br#"{"guildId":"1"}"#, "invalid_json_body"),
    ] {
        let r = refused(a, &json_put("/api/media/voice"), body).await;
        assert_eq!(r, (400, want.into()), "{}", String::from_utf8_lossy(body));
    }
    for (body, want) in [
        (&b"[]"[..], "json_object_required"),
        (b"{}", "subscription_fields_required"),
        (b"{\"bogus\":1}", "invalid_subscription"),
        (b"", "invalid_json_body"),
        (b"{\"maxFps\":\"x\"}", "invalid_subscription"),
    ] {
        let r = refused(a, &json_put("/api/media/subscriptions/12"), body).await;
        assert_eq!(r, (400, want.into()), "{}", String::from_utf8_lossy(body));
    }
    // A path id that does not parse.
    let r = refused(
        a,
        &json_put("/api/media/subscriptions/abc"),
        b"{\"maxFps\":2}",
    )
    .await;
    assert_eq!(r, (400, "user_id_invalid".into()));
    // Method not allowed, unknown route.
    let r = refused(
        a,
        &format!("DELETE /api/settings HTTP/1.1\r\nhost: {a}"),
        b"",
    )
    .await;
    assert_eq!(r, (405, "method_not_allowed".into()));
    let r = refused(a, &format!("GET /nope HTTP/1.1\r\nhost: {a}"), b"").await;
    assert_eq!(r, (404, "not_found".into()));
    // An oversize body off the frame routes: 413 in JSON.
    let big = vec![b' '; 3 * 1024 * 1024];
    let r = refused(
        a,
        &format!("PATCH /api/settings HTTP/1.1\r\nhost: {a}\r\ncontent-type: application/json"),
        &big,
    )
    .await;
    assert_eq!(r, (413, "payload_too_large".into()));
    // The public host's non-API 404 is JSON too.
    let r = refused(
        a,
        &format!("GET /dashboard HTTP/1.1\r\nhost: {PUBLIC}"),
        b"",
    )
    .await;
    assert_eq!(r, (404, "not_found".into()));
}

/// §4: 414 and 431 had empty bodies: hyper answered them before any layer.
/// Now control's own limits (8 KiB request target, 32 KiB / 96 header
/// lines) answer in the outermost layer, and what hyper still refuses by
/// itself (a target over 64 KiB, over 100 header lines, a head over its
/// ~400 KiB buffer, a head that does not parse) goes out with the same JSON
/// through control's connection wrapper. After each, the next connection
/// is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_and_malformed_heads_are_refused_in_json() {
    let c = control(&[]).await;
    let a = &c.addr;
    let long_target = |len: usize| {
        format!(
            "GET /api/settings?x={} HTTP/1.1\r\nhost: {a}",
            "a".repeat(len)
        )
    };
    let header_lines = |n: usize| {
        let lines: String = (0..n).map(|i| format!("\r\nx-h{i}: v")).collect();
        format!("GET /api/settings HTTP/1.1\r\nhost: {a}{lines}")
    };
    let big_header = |len: usize| {
        format!(
            "GET /api/settings HTTP/1.1\r\nhost: {a}\r\nx-big: {}",
            "b".repeat(len)
        )
    };
    let cases: Vec<(&str, String, u16, &str)> = vec![
        // Ours: above control's limits, within hyper's.
        ("9 KiB target", long_target(9 * 1024), 414, "uri_too_long"),
        (
            "40 KiB header",
            big_header(40 * 1024),
            431,
            "headers_too_large",
        ),
        (
            "97 header lines",
            header_lines(94),
            431,
            "headers_too_large",
        ),
        // hyper's own refusals, rewritten.
        ("70 KiB target", long_target(70 * 1024), 414, "uri_too_long"),
        (
            "120 header lines",
            header_lines(120),
            431,
            "headers_too_large",
        ),
        (
            "500 KiB header",
            big_header(500 * 1024),
            431,
            "headers_too_large",
        ),
        (
            "malformed header line",
            format!("GET /api/settings HTTP/1.1\r\nhost: {a}\r\nno colon here"),
            400,
            "bad_request",
        ),
    ];
    for (what, head, status, reason) in cases {
        let (got, h, b) = send(a, &head, b"").await;
        assert_eq!(got, status, "{what}: {h}\n\n{b}");
        let v = json(&h, &b);
        assert_eq!(v["reason"], reason, "{what}: {v}");
        assert_eq!(v["ok"], false, "{what}: {v}");
        assert!(
            v["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: {v}"
        );
        // The server still serves the next connection.
        let (next, _, _) = send(a, &format!("GET /healthz HTTP/1.1\r\nhost: {a}"), b"").await;
        assert_eq!(next, 200, "after {what}");
    }
    // Within the limits: 8 KiB target and 95 lines pass.
    let (ok, _, b) = send(a, &long_target(8 * 1024 - 30), b"").await;
    assert_eq!(ok, 200, "{b}");
    let (ok, _, b) = send(a, &header_lines(90), b"").await;
    assert_eq!(ok, 200, "{b}");
}

/// §2: the admin host names are a flag as well as an environment variable
/// (`--admin-hosts` / `CONTROL_ADMIN_HOSTS`), and the Host check takes the
/// address control actually bound (port 0 here): its IP (loopback ones
/// when bound to loopback; any port, for port forwards), not any IP
/// literal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_hosts_flag_and_the_bound_address() {
    let c = control_with(
        "127.0.0.1:0",
        &["--admin-hosts", "admin.lan,Other.LAN:9"],
        &[],
    )
    .await;
    let a = &c.addr;
    let port: u16 = a
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    assert_ne!(port, 0);
    let other_port = if port == 8787 { 8788 } else { 8787 };
    let get = |host: &str| format!("GET /api/settings HTTP/1.1\r\nhost: {host}");
    for host in [
        a.clone(),
        "127.0.0.1".to_owned(),
        format!("[::1]:{port}"),
        "admin.lan".to_owned(),
        "other.lan:8787".to_owned(),
        "localhost:1".to_owned(),
        // The bound IP under another port: a port forward
        // (ssh -L PORT:127.0.0.1:…) reaches control so.
        format!("127.0.0.1:{other_port}"),
    ] {
        let (status, _, b) = send(a, &get(&host), b"").await;
        assert_eq!(status, 200, "{host}: {b}");
    }
    for host in [
        format!("10.0.0.5:{port}"),
        "192.168.1.20".to_owned(),
        "rebind.attacker.test".to_owned(),
        "admin.lan.attacker.test".to_owned(),
    ] {
        let r = refused(a, &get(&host), b"").await;
        assert_eq!(r, (403, "host_not_allowed".into()), "{host}");
    }
    // The environment variable still works.
    let e = control_with("127.0.0.1:0", &[], &[("CONTROL_ADMIN_HOSTS", "env.lan")]).await;
    let (status, _, b) = send(&e.addr, &get("env.lan"), b"").await;
    assert_eq!(status, 200, "{b}");
    let r = refused(&e.addr, &get("admin.lan"), b"").await;
    assert_eq!(r, (403, "host_not_allowed".into()));
    // --help names the flag, its variable and what it is for.
    let help = std::process::Command::new(e2e::bin("control"))
        .arg("--help")
        .output()
        .expect("control --help");
    // Whitespace collapsed: clap wraps long help lines.
    let help = String::from_utf8_lossy(&help.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for needle in [
        "--admin-hosts",
        "CONTROL_ADMIN_HOSTS",
        "DNS rebinding",
        "bound address",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
}

/// Issue 19 §3: the public host is served by the share router alone. Its
/// routes answer there (503: this control has no Discord session), every
/// other route, another method on a share route and a path token that is
/// not a share token are the same JSON 404 as an unknown route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_host_reaches_only_the_share_routes() {
    let c = control(&[]).await;
    let a = &c.addr;
    const TOK: &str = "AbCdEfGhIjKlMnOpQrStUvWx";
    let on_public = |line: &str| format!("{line} HTTP/1.1\r\nhost: {PUBLIC}");
    for line in [
        format!("POST /api/voice/share-session/{TOK}/frame"),
        format!("POST /api/voice/share-session/{TOK}/stop"),
    ] {
        let (status, head, _b) = send(a, &on_public(&line), b"").await;
        assert_eq!(status, 503, "{line}: {head}{_b}");
    }
    let (status, head, body) = send(a, &on_public(&format!("GET /share/{TOK}")), b"").await;
    assert_eq!(status, 503, "{head}");
    assert!(body.contains("not connected to Discord"), "{body}");
    // The page with a query string, and by HEAD; the direct ingest route
    // with and without its trailing slash (503: neither token is set).
    for line in [
        format!("GET /share/{TOK}?x=1"),
        format!("HEAD /share/{TOK}"),
    ] {
        let (status, head, _b) = send(a, &on_public(&line), b"").await;
        assert_eq!(status, 503, "{line}: {head}");
    }
    for path in [
        "/api/voice/stream-ingest/frame",
        "/api/voice/stream-ingest/frame/",
    ] {
        let (status, head, body) = send(a, &on_public(&format!("POST {path}")), b"").await;
        assert_eq!(status, 503, "{path}: {head}");
        assert_eq!(
            json(&head, &body)["reason"],
            "dashboard_or_public_api_token_required",
            "{path}"
        );
    }
    for line in [
        "GET /healthz".to_owned(),
        "GET /api/settings/reference".into(),
        "GET /api/openapi.json".into(),
        "GET /api/voice/state".into(),
        "POST /api/voice/share-session".into(),
        format!("GET /api/voice/share-session/{TOK}/frame"),
        format!("DELETE /share/{TOK}"),
        "POST /api/voice/share-session/short/frame".into(),
        "POST /api/voice/share-session/short/stop".into(),
        "GET /share/not-a-token".into(),
        "GET /share/assets/share.css".into(),
        "GET /nope".into(),
        "GET /".into(),
        "GET /api".into(),
        "GET /dashboard".into(),
        "GET /api/voice/events".into(),
        "PUT /api/media/voice".into(),
    ] {
        let (status, head, body) = send(a, &on_public(&line), b"").await;
        assert_eq!(status, 404, "{line}");
        let v = json(&head, &body);
        assert_eq!(
            v,
            serde_json::json!({"ok": false, "error": "Not found.", "reason": "not_found"}),
            "{line}"
        );
    }
    // Locally the same malformed token reaches the handler, and the method
    // is named: 405.
    let local = |line: &str| format!("{line} HTTP/1.1\r\nhost: {a}");
    let (status, _, _) = send(a, &local("POST /api/voice/share-session/short/frame"), b"").await;
    assert_eq!(status, 503);
    let r = refused(
        a,
        &local(&format!("GET /api/voice/share-session/{TOK}/frame")),
        b"",
    )
    .await;
    assert_eq!(r, (405, "method_not_allowed".into()));
}

/// Issue 19 §3: the OpenAPI document is an admin route (401 without the
/// token) and describes the routes the daemon answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_served_to_the_admin() {
    let c = control(&["--dashboard-token", "s3cret"]).await;
    let a = &c.addr;
    let r = refused(
        a,
        &format!("GET /api/openapi.json HTTP/1.1\r\nhost: {a}"),
        b"",
    )
    .await;
    assert_eq!(r, (401, "unauthorized".into()));
    let (status, head, body) = send(
        a,
        &format!("GET /api/openapi.json HTTP/1.1\r\nhost: {a}\r\nx-dashboard-token: s3cret"),
        b"",
    )
    .await;
    assert_eq!(status, 200);
    let doc = json(&head, &body);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/healthz",
        "/api/voice/state",
        "/api/voice/share-session/{token}/frame",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    // Each documented GET route without parameters answers something other
    // than the unknown-route 404.
    for (path, item) in paths {
        if path.contains('{') || item.get("get").is_none() || path == "/api/voice/events" {
            continue;
        }
        let (status, _, body) = send(
            a,
            &format!("GET {path} HTTP/1.1\r\nhost: {a}\r\nx-dashboard-token: s3cret"),
            b"",
        )
        .await;
        assert!(
            !(status == 404 && body.contains("\"error\":\"Not found.\"")),
            "{path}: {status} {body}"
        );
    }
}

//! Issue 16 §6, end to end: `PUBLIC_BASE_URL` with a path prefix behind a
//! reverse proxy. A small proxy in the test serves
//! `http://share.test:PORT/some/path/...` by stripping `/some/path` and
//! forwarding to control (real binaries: discord-sim, mediad, control with
//! a bot account, so a watch request is answered with a link). The link
//! carries the prefix; the page is fetched through the proxy; the frame
//! URL is taken from the page's own config and resolved against the page's
//! URL, as the page's script does; a JPEG posted there through the proxy is
//! accepted and counted on the share session. The old page posted to the
//! root, which this proxy (like a real one serving only the prefix) does
//! not forward.

use std::time::Duration;

use e2e::stack::{SERIAL, Stack};
use e2e::watch_http::checkerboard_jpeg;
use e2e::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const GUILD: &str = "900000000000000001";
const ALICE: &str = "900000000000000101";
const BOB: &str = "900000000000000102";
const TEXT_CHANNEL: &str = "900000000000000010";
const PREFIX: &str = "/some/path";
const PUBLIC_HOST: &str = "share.test";

/// The reverse proxy: one request per connection; a path under
/// [`PREFIX`] is forwarded with the prefix stripped (Host kept, as
/// proxies in front of a tunnel do, plus X-Forwarded-Prefix), anything
/// else is a 404 of the proxy's own.
struct Proxy {
    port: u16,
    forwarded: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Binds now (control's `--public-url` names the port); forwards to
    /// the address `upstream` yields once control has started.
    async fn start(upstream: tokio::sync::oneshot::Receiver<String>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let forwarded = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = forwarded.clone();
        let task = tokio::spawn(async move {
            let upstream = upstream.await.expect("control's address");
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, log) = (upstream.clone(), log.clone());
                tokio::spawn(async move {
                    let _ = proxy_one(client, &upstream, &log).await;
                });
            }
        });
        Self {
            port,
            forwarded,
            task,
        }
    }
}

/// Reads one request head and its `content-length` body.
async fn read_request(s: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())
                .flatten()
        })
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok((head, body))
}

async fn proxy_one(
    mut client: TcpStream,
    upstream: &str,
    log: &std::sync::Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let (head, body) = read_request(&mut client).await?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let Some(rest) = target.strip_prefix(PREFIX).filter(|r| r.starts_with('/')) else {
        let msg = "not under the proxy's prefix";
        let resp = format!(
            "HTTP/1.1 404 Not Found\r\nx-served-by: test-proxy\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{msg}",
            msg.len()
        );
        client.write_all(resp.as_bytes()).await?;
        return Ok(());
    };
    log.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(format!("{method} {rest}"));
    let mut out = format!("{method} {rest} HTTP/1.1\r\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or_default().trim();
        if !name.eq_ignore_ascii_case("connection") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str(&format!(
        "x-forwarded-prefix: {PREFIX}\r\nx-forwarded-for: 192.0.2.7\r\nconnection: close\r\n\r\n"
    ));
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(out.as_bytes()).await?;
    server.write_all(&body).await?;
    let mut resp = Vec::new();
    server.read_to_end(&mut resp).await?;
    client.write_all(&resp).await?;
    client.shutdown().await
}

/// A plain JPEG (640×360 checkerboard).
fn jpeg() -> Vec<u8> {
    checkerboard_jpeg(640, 360, 40, 90)
}

/// `http://host:port/path` → (host:port, /path).
fn split_url(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    (authority.to_owned(), path.to_owned())
}

/// Resolves a relative reference (`../a/b`, `a`, `/a`) against a base
/// path, as a browser's `new URL(rel, base)` does for paths.
fn resolve(base_path: &str, rel: &str) -> String {
    if rel.starts_with('/') {
        return rel.to_owned();
    }
    let mut segs: Vec<&str> = base_path.split('/').collect();
    segs.pop(); // the last segment is replaced
    for part in rel.split('/') {
        match part {
            ".." => {
                if segs.len() > 1 {
                    segs.pop();
                }
            }
            "." => {}
            p => segs.push(p),
        }
    }
    segs.join("/")
}

/// The page's `const cfg = {...};`.
fn page_config(html: &str) -> Value {
    let start = html.find("const cfg = ").expect("the page's config") + "const cfg = ".len();
    let end = start + html[start..].find(";\n").expect("end of the config");
    serde_json::from_str(&html[start..end]).expect("the config is JSON")
}

#[test]
fn relative_references_resolve_like_a_browser() {
    assert_eq!(
        resolve(
            "/some/path/share/TOK",
            "../api/voice/share-session/TOK/frame"
        ),
        "/some/path/api/voice/share-session/TOK/frame"
    );
    assert_eq!(resolve("/share/TOK", "../api/x"), "/api/x");
    assert_eq!(resolve("/share/TOK", "/abs"), "/abs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_link_under_a_path_prefix_works_through_a_stripping_proxy() {
    let _serial = SERIAL.lock().await;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let proxy = Proxy::start(rx).await;
    let public_base = format!("http://{PUBLIC_HOST}:{}{PREFIX}/", proxy.port);
    let s = Stack::start(
        "demo",
        "sim-bot-agent",
        &[
            "--discord-account",
            "bot",
            "--public-host",
            PUBLIC_HOST,
            "--public-url",
            &public_base,
        ],
    )
    .await;
    tx.send(s.http.clone()).expect("proxy waiting");

    // A bot cannot watch Go Live: the answer is a link, under the prefix.
    let r = s
        .watch(
            json!({"action": "start", "guildId": GUILD, "requesterId": BOB, "target": ALICE,
            "textChannelId": TEXT_CHANNEL, "preferredTransport": "link"}),
        )
        .await;
    assert_eq!(r["transport"], json!("link"), "{r}");
    let link = r["linkUrl"].as_str().expect("linkUrl").to_owned();
    let page_prefix = format!("http://{PUBLIC_HOST}:{}{PREFIX}/share/", proxy.port);
    assert!(link.starts_with(&page_prefix), "{link} under {page_prefix}");
    let token = link.rsplit('/').next().expect("token").to_owned();
    let (authority, page_path) = split_url(&link);
    let proxy_addr = format!("127.0.0.1:{}", proxy.port);

    // The page, through the proxy (Host: the public host).
    let page = http_raw(&proxy_addr, "GET", &page_path, Some(&authority), &[], None)
        .await
        .expect("proxy answers");
    assert_eq!(page.status, 200, "{}\n{}", page.head, page.body);
    assert!(
        page.head
            .to_ascii_lowercase()
            .contains("content-type: text/html"),
        "{}",
        page.head
    );
    let cfg = page_config(&page.body);
    let frame_ref = cfg["frameUrl"].as_str().expect("frameUrl in the config");
    let stop_ref = cfg["stopUrl"].as_str().expect("stopUrl in the config");
    // The page's script resolves them against its own URL.
    assert!(
        page.body.contains("new URL(cfg.frameUrl, location.href)"),
        "the page posts to the configured frame URL"
    );
    let frame_path = resolve(&page_path, frame_ref);
    let stop_path = resolve(&page_path, stop_ref);
    assert_eq!(
        frame_path,
        format!("{PREFIX}/api/voice/share-session/{token}/frame")
    );

    // A frame posted where the page posts it is accepted.
    let body = json!({
        "mimeType": "image/jpeg",
        "dataBase64": base64_encode(&jpeg()),
        "source": "share_page",
    });
    let reply = http_raw(
        &proxy_addr,
        "POST",
        &frame_path,
        Some(&authority),
        &[],
        Some(&body),
    )
    .await
    .expect("proxy answers");
    let v = reply.json();
    assert_eq!(
        (reply.status, v["accepted"].clone()),
        (200, json!(true)),
        "{v}"
    );
    // …and shows on the share session.
    let token_tail = &token[token.len() - 8..];
    let sessions = wait_for(Duration::from_secs(10), "the frame counted", || async {
        let (status, v) = http(&s.http, "GET", "/api/voice/share-sessions", None)
            .await
            .ok()?;
        (status == 200).then_some(())?;
        let list = v["sessions"].as_array()?.clone();
        list.iter()
            .any(|x| x["framesAccepted"].as_u64().unwrap_or(0) >= 1)
            .then_some(list)
    })
    .await;
    assert!(
        sessions
            .iter()
            .any(|x| x.to_string().contains(token_tail) && x["framesAccepted"] == json!(1)),
        "{sessions:?}"
    );
    // What the old page did: post to the root. The proxy serves only its
    // prefix, so that never reached control.
    let root = http_raw(
        &proxy_addr,
        "POST",
        &format!("/api/voice/share-session/{token}/frame"),
        Some(&authority),
        &[],
        Some(&body),
    )
    .await
    .expect("proxy answers");
    assert_eq!(root.status, 404);
    assert!(
        root.head.contains("x-served-by: test-proxy"),
        "{}",
        root.head
    );
    // Stop through the configured stop URL: the session ends.
    let stop = http_raw(&proxy_addr, "POST", &stop_path, Some(&authority), &[], None)
        .await
        .expect("proxy answers");
    assert_eq!(stop.status, 200, "{}", stop.body);
    wait_for(Duration::from_secs(10), "the session to end", || async {
        let (_, v) = http(&s.http, "GET", "/api/voice/share-sessions", None)
            .await
            .ok()?;
        let list = v["sessions"].as_array()?;
        (!list.iter().any(|x| x.to_string().contains(token_tail))).then_some(())
    })
    .await;
    let forwarded = proxy
        .forwarded
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    println!("link {link}; the page posts to {frame_path}; forwarded {forwarded:?}");
    assert_eq!(
        forwarded,
        vec![
            format!("GET /share/{token}"),
            format!("POST /api/voice/share-session/{token}/frame"),
            format!("POST /api/voice/share-session/{token}/stop"),
        ],
        "what the proxy forwarded, prefix stripped"
    );
}

fn base64_encode(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

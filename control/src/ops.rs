//! Operator commands (`control watch start|stop|status`): they talk to a
//! running control over its HTTP admin API and print the JSON answer.
//!
//! Exit codes: 0 done; 1 refused (target or session not found); 2 not
//! allowed (policy: requester not in voice, link fallback off, ...); 3
//! control unreachable; 4 timed out; 5 bad server URL.

use std::time::Duration;

use serde_json::{Value, json};

/// `control watch ...`.
#[derive(Debug, clap::Subcommand)]
pub enum WatchCommand {
    /// Start watching someone's screen (native Go Live, webcam, or a link).
    Start {
        /// Guild id.
        #[arg(long)]
        guild: String,
        /// Who asks (must be in voice).
        #[arg(long)]
        requester: String,
        /// Whom to watch: display name, username, mention or id. Without
        /// it, a target is chosen only when that is unambiguous.
        #[arg(long)]
        target: Option<String>,
        /// Skip native watching and use the share link.
        #[arg(long)]
        link: bool,
    },
    /// Stop watching (one guild, or everything).
    Stop {
        /// Guild id (all guilds when absent).
        #[arg(long)]
        guild: Option<String>,
    },
    /// Show sharers, streams, transports and watches.
    Status,
}

/// `control share ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ShareCommand {
    /// Create (or reuse) a share link and print its URL.
    Create {
        /// Guild id.
        #[arg(long)]
        guild: String,
        /// Who asks (must be in voice).
        #[arg(long)]
        requester: String,
        /// Whose screen (default: the requester).
        #[arg(long)]
        target: Option<String>,
        /// Text channel to post the offer in.
        #[arg(long)]
        channel: Option<String>,
    },
    /// List live links (token suffixes only).
    List,
    /// Stop the link whose token ends with SUFFIX, or all of them.
    Stop {
        /// Token suffix (as printed by `list`).
        suffix: Option<String>,
        /// Stop every live link.
        #[arg(long, conflicts_with = "suffix")]
        all: bool,
    },
}

/// Runs a share command; returns the process exit code.
pub async fn run_share(cmd: ShareCommand, server: &ServerArgs, token: Option<&str>) -> i32 {
    let (method, path, body, print_url) = match cmd {
        ShareCommand::Create {
            guild,
            requester,
            target,
            channel,
        } => {
            let target = target.unwrap_or_else(|| requester.clone());
            let mut b = json!({"guildId": guild, "requesterId": requester, "target": target});
            if let Some(c) = channel {
                b["textChannelId"] = json!(c);
            }
            ("POST", "/api/voice/share-session", Some(b), true)
        }
        ShareCommand::List => ("GET", "/api/voice/share-sessions", None, false),
        ShareCommand::Stop { suffix, all } => {
            if !all && suffix.is_none() {
                eprintln!("control share stop: give a SUFFIX or --all");
                return 1;
            }
            let b = if all {
                json!({"all": true})
            } else {
                json!({ "suffix": suffix })
            };
            ("POST", "/api/voice/share-sessions/stop", Some(b), false)
        }
    };
    let (status, value) = match call(server, method, path, body.as_ref(), token).await {
        Ok(r) => r,
        Err(code) => return code,
    };
    if print_url && let Some(url) = value["linkUrl"].as_str() {
        println!("{url}");
        return 0;
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
    );
    if status == 404 {
        return 1;
    }
    exit_code(status, &value)
}

/// One request to control, or the exit code of a failed call.
async fn call(
    server: &ServerArgs,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> Result<(u16, Value), i32> {
    let Some(addr) = server_addr(&server.server) else {
        eprintln!(
            "control: --server must be an http:// URL (got {})",
            server.server
        );
        return Err(5);
    };
    let answer = tokio::time::timeout(
        Duration::from_secs(server.timeout_secs),
        request(&addr, method, path, body, token),
    )
    .await;
    match answer {
        Err(_) => {
            eprintln!(
                "control: no answer from {} within {} s",
                server.server, server.timeout_secs
            );
            Err(4)
        }
        Ok(Err(e)) => {
            eprintln!("control: cannot reach control at {}: {e}", server.server);
            Err(3)
        }
        Ok(Ok(r)) => Ok(r),
    }
}

/// `host:port` of an `http://` URL; plain http to a non-loopback host gets
/// a warning (the admin token would travel unencrypted).
fn server_addr(url: &str) -> Option<String> {
    let addr = url
        .strip_prefix("http://")?
        .trim_end_matches('/')
        .to_owned();
    let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h);
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        eprintln!("control: warning: plain http to non-loopback host {host}");
    }
    Some(addr)
}

/// Where the running control is.
#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// control's HTTP address (`http://HOST:PORT`).
    #[arg(
        long,
        env = "CONTROL_URL",
        default_value = "http://127.0.0.1:8787",
        global = true
    )]
    pub server: String,
    /// Seconds to wait for an answer.
    #[arg(long, default_value_t = 15, global = true)]
    pub timeout_secs: u64,
}

/// Runs a watch command; returns the process exit code.
pub async fn run_watch(cmd: WatchCommand, server: &ServerArgs, token: Option<&str>) -> i32 {
    let (method, path, body) = match cmd {
        WatchCommand::Start {
            guild,
            requester,
            target,
            link,
        } => {
            let mut b = json!({"action": "start", "guildId": guild, "requesterId": requester});
            if let Some(t) = target {
                b["target"] = json!(t);
            }
            if link {
                b["preferredTransport"] = json!("link");
            }
            ("POST", "/api/voice/screen-watch", Some(b))
        }
        WatchCommand::Stop { guild } => (
            "POST",
            "/api/voice/screen-watch",
            Some(
                json!({"action": "stop", "guildId": guild.unwrap_or_default(), "requesterId": ""}),
            ),
        ),
        WatchCommand::Status => ("GET", "/api/voice/state", None),
    };
    let (status, value) = match call(server, method, path, body.as_ref(), token).await {
        Ok(r) => r,
        Err(code) => return code,
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
    );
    exit_code(status, &value)
}

fn exit_code(status: u16, v: &Value) -> i32 {
    if status == 401 || status == 403 {
        return 2;
    }
    if status >= 400 {
        return 3;
    }
    if v.get("ok") == Some(&Value::Bool(false)) {
        let reason = v["reason"].as_str().unwrap_or_default();
        return match reason {
            "requester_not_in_voice"
            | "stream_link_fallback_disabled"
            | "bot_cannot_watch_go_live"
            | "link_unavailable"
            | "too_many_watches" => 2,
            _ => 1,
        };
    }
    0
}

/// One request over plain http with hyper's client (`addr` is `host:port`
/// of the local control); the answer's status and JSON body (`null` when
/// the body is not JSON).
async fn request(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> Result<(u16, Value), String> {
    use http_body_util::{BodyExt, Full};
    let payload = body.map(Value::to_string).unwrap_or_default();
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header(hyper::header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        req = req.header("x-dashboard-token", t);
    }
    let req = req
        .body(Full::new(hyper::body::Bytes::from(payload)))
        .map_err(|e| format!("bad request: {e}"))?;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<hyper::body::Bytes>>();
    let resp = client.request(req).await.map_err(|e| {
        // The connect error's source says why (refused, unreachable, ...).
        match std::error::Error::source(&e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        }
    })?;
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?
        .to_bytes();
    Ok((
        status,
        serde_json::from_slice(body.trim_ascii()).unwrap_or(Value::Null),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_reason() {
        assert_eq!(exit_code(200, &json!({"ok": true})), 0);
        assert_eq!(
            exit_code(200, &json!({"ok": false, "reason": "target_not_found"})),
            1
        );
        assert_eq!(
            exit_code(
                200,
                &json!({"ok": false, "reason": "requester_not_in_voice"})
            ),
            2
        );
        assert_eq!(exit_code(401, &json!({})), 2);
        assert_eq!(exit_code(503, &json!({})), 3);
    }

    /// A chunked JSON answer from a server speaking HTTP/1.1 by hand is
    /// read whole, with its status; the request carries the token and the
    /// JSON content type.
    #[tokio::test]
    async fn chunked_answers_are_read_whole() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut buf).await.unwrap();
                assert!(n > 0, "request head cut short");
                head.extend_from_slice(&buf[..n]);
            }
            s.write_all(
                b"HTTP/1.1 409 Conflict\r\ntransfer-encoding: chunked\r\n\r\n\
                  9\r\n{\"ok\":fal\r\n7\r\nse, \"a\"\r\n4\r\n: 1}\r\n0\r\n\r\n",
            )
            .await
            .unwrap();
            String::from_utf8_lossy(&head).to_ascii_lowercase()
        });
        let (status, v) = request(&addr, "GET", "/api/voice/state", None, Some("tok"))
            .await
            .expect("answer");
        assert_eq!(status, 409);
        assert_eq!(v, json!({"ok": false, "a": 1}));
        let head = server.await.unwrap();
        assert!(
            head.starts_with("get /api/voice/state http/1.1\r\n"),
            "{head}"
        );
        assert!(head.contains("x-dashboard-token: tok\r\n"), "{head}");
        assert!(
            head.contains("content-type: application/json\r\n"),
            "{head}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_control_is_an_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        drop(listener);
        let e = request(&addr, "GET", "/healthz", None, None)
            .await
            .expect_err("nothing listens");
        assert!(!e.is_empty());
    }
}

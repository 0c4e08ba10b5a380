//! A recording OpenAI-compatible model server (plain HTTP on loopback,
//! `POST /v1/chat/completions`) for end-to-end tests: every request is
//! logged with what it was for, and answered with a fixed, plain-English
//! line per kind (easy to synthesize and to recognize again).
//!
//! Requests are told apart by what control puts in them: a commentary
//! call's system prompt starts with `COMMENTARY.`, a chat turn's names
//! the "friendly voice agent", summaries and recaps start with `SUMMARY` /
//! `RECAP`, and a note call's user message starts with `Previous notes:`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What control's commentary calls are answered with.
pub const COMMENTARY_LINE: &str = "The build log keeps scrolling.";
/// What chat turns are answered with unless a test sets another line.
pub const CHAT_LINE: &str = "All good here, thanks for asking.";

/// What a request was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A note-loop call.
    Note,
    /// A commentary call.
    Commentary,
    /// A conversation turn.
    Chat,
    /// A compaction summary.
    Summary,
    /// A watch recap.
    Recap,
    /// Anything else.
    Other,
}

/// One request the server saw.
#[derive(Clone, Debug)]
pub struct Seen {
    /// When its body had arrived.
    pub at: Instant,
    /// When its answer was written (None while it is being answered).
    pub answered: Option<Instant>,
    /// kind.
    pub kind: Kind,
    /// model.
    pub model: String,
    /// temperature.
    pub temperature: Option<f64>,
    /// `max_completion_tokens` (OpenAI) or `max_tokens` (compatible).
    pub max_tokens: Option<u64>,
    /// system.
    pub system: String,
    /// (role, text) of the other messages (images left out).
    pub messages: Vec<(String, String)>,
}

/// The recording OpenAI-compatible server.
pub struct ModelServer {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    chat_delay: Arc<Mutex<Duration>>,
    chat_answer: Arc<Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ModelServer {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let chat_delay = Arc::new(Mutex::new(Duration::ZERO));
        let chat_answer = Arc::new(Mutex::new(CHAT_LINE.to_owned()));
        let (s, d, a) = (seen.clone(), chat_delay.clone(), chat_answer.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_connection(stream, s.clone(), d.clone(), a.clone()));
            }
        });
        ModelServer {
            addr,
            seen,
            chat_delay,
            chat_answer,
            task,
        }
    }

    /// `http://ADDR/v1`, for `OPENAI_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    /// The requests of one kind.
    pub fn of(&self, kind: Kind) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.kind == kind).collect()
    }

    /// Delays the answers to chat turns.
    pub fn set_chat_delay(&self, d: Duration) {
        *self.chat_delay.lock().expect("lock") = d;
    }

    /// Answers chat turns with `text` from now on.
    pub fn set_chat_answer(&self, text: &str) {
        *self.chat_answer.lock().expect("lock") = text.to_owned();
    }

    /// A one-line summary of everything seen (for failure messages).
    pub fn summary(&self) -> String {
        let t0 = self.seen().first().map(|s| s.at);
        self.seen()
            .iter()
            .map(|s| {
                format!(
                    "{:>7.3}s {:?} model={} temp={:?} max={:?} answered_after={:?}",
                    t0.map_or(0.0, |t| s.at.duration_since(t).as_secs_f64()),
                    s.kind,
                    s.model,
                    s.temperature,
                    s.max_tokens,
                    s.answered.map(|a| a.duration_since(s.at)),
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Serves one keep-alive HTTP/1.1 connection (the provider's client reuses
/// them): each request is recorded, then answered by kind.
async fn serve_connection(
    mut stream: tokio::net::TcpStream,
    seen: Arc<Mutex<Vec<Seen>>>,
    chat_delay: Arc<Mutex<Duration>>,
    chat_answer: Arc<Mutex<String>>,
) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // Head.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 16 * 1024];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let request_line = head.lines().next().unwrap_or_default().to_owned();
        let length: usize = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 64 * 1024];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Value =
            serde_json::from_slice(&buf[head_end..head_end + length]).unwrap_or(Value::Null);
        buf.drain(..head_end + length);
        let at = Instant::now();

        let (status, answer) = if request_line.starts_with("POST /v1/chat/completions ") {
            let s = record(at, &body);
            let kind = s.kind;
            let index = {
                let mut seen = seen.lock().expect("lock");
                seen.push(s);
                seen.len() - 1
            };
            if kind == Kind::Chat {
                let delay = *chat_delay.lock().expect("lock");
                tokio::time::sleep(delay).await;
            }
            let chat = chat_answer.lock().expect("lock").clone();
            let text = match kind {
                Kind::Note => "Terminal shows a build log scrolling.",
                Kind::Commentary => COMMENTARY_LINE,
                Kind::Chat => chat.as_str(),
                Kind::Summary => "Alice watched a build log.",
                Kind::Recap => r#"{"shouldStore": false, "recap": "A build log scrolled."}"#,
                Kind::Other => "ok",
            };
            let reply = json!({
                "id": format!("chatcmpl-{index}"),
                "object": "chat.completion",
                "model": body["model"],
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            });
            (200, (reply, Some(index)))
        } else {
            (404, (json!({"error": {"message": "not found"}}), None))
        };
        let (reply, index) = answer;
        let payload = reply.to_string();
        let response = format!(
            "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: keep-alive\r\n\r\n{payload}",
            if status == 200 { "OK" } else { "Not Found" },
            payload.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
        let _ = stream.flush().await;
        if let Some(i) = index {
            seen.lock().expect("lock")[i].answered = Some(Instant::now());
        }
    }
}

/// The text of a message's content (a string or text parts).
fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn record(at: Instant, body: &Value) -> Seen {
    let all = body["messages"].as_array().cloned().unwrap_or_default();
    let system = all
        .iter()
        .filter(|m| m["role"] == "system")
        .map(|m| content_text(&m["content"]))
        .collect::<Vec<_>>()
        .join("\n");
    let messages: Vec<(String, String)> = all
        .iter()
        .filter(|m| m["role"] != "system")
        .map(|m| {
            (
                m["role"].as_str().unwrap_or_default().to_owned(),
                content_text(&m["content"]),
            )
        })
        .collect();
    let first_user = messages
        .iter()
        .find(|(r, _)| r == "user")
        .map(|(_, t)| t.as_str())
        .unwrap_or_default();
    let kind = if system.starts_with("COMMENTARY.") {
        Kind::Commentary
    } else if system.contains("friendly voice agent") {
        Kind::Chat
    } else if system.starts_with("SUMMARY") {
        Kind::Summary
    } else if system.starts_with("RECAP") {
        Kind::Recap
    } else if first_user.starts_with("Previous notes:") {
        Kind::Note
    } else {
        Kind::Other
    };
    Seen {
        at,
        answered: None,
        kind,
        model: body["model"].as_str().unwrap_or_default().to_owned(),
        temperature: body["temperature"].as_f64(),
        max_tokens: body["max_completion_tokens"]
            .as_u64()
            .or_else(|| body["max_tokens"].as_u64()),
        system,
        messages,
    }
}

//! The local HTTP server the provider tests run against: it records each
//! request and answers with queued, recorded responses. No test leaves
//! 127.0.0.1.
#![allow(dead_code, unused_imports)] // each test file uses a different part

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use llm::{
    AnthropicConfig, AnthropicProvider, LlmError, Message, OpenAiConfig, OpenAiProvider, Part,
    Provider, Request, RetryPolicy, Role, ToolCall, ToolSpec,
};
use serde_json::{Value, json};

/// What the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One scripted answer.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, &'static str)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Self {
        Reply {
            status,
            headers: vec![("content-type", "application/json")],
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Serves `replies` in order (the last one repeats).
    pub async fn start(replies: Vec<Reply>) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let queue = Arc::new(Mutex::new(VecDeque::from(replies)));
        let seen_task = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen_task.clone();
                let queue = queue.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<Incoming>| {
                        let seen = seen.clone();
                        let queue = queue.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let bytes = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                            seen.lock().expect("lock").push(Seen {
                                method: parts.method.to_string(),
                                path: parts.uri.path().to_owned(),
                                headers: parts
                                    .headers
                                    .iter()
                                    .map(|(k, v)| {
                                        (k.to_string(), v.to_str().unwrap_or_default().to_owned())
                                    })
                                    .collect(),
                                body,
                            });
                            let reply = {
                                let mut q = queue.lock().expect("lock");
                                if q.len() > 1 {
                                    q.pop_front().expect("reply")
                                } else {
                                    q.front().cloned().expect("reply")
                                }
                            };
                            tokio::time::sleep(reply.delay).await;
                            let mut resp = hyper::Response::builder().status(reply.status);
                            for (k, v) in &reply.headers {
                                resp = resp.header(*k, *v);
                            }
                            Ok::<_, Infallible>(
                                resp.body(Full::new(Bytes::from(reply.body)))
                                    .expect("response"),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Server { addr, seen, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub const KEY: &str = "sk-test-SECRET-0123456789";
pub const JPEG: &[u8] = &[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F'];

pub const ANTHROPIC_OK: &str = r#"{"id":"msg_01","type":"message","role":"assistant","model":"claude-test-1","content":[{"type":"text","text":"A terminal shows BUILD FAILED."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1530,"output_tokens":9}}"#;
pub const OPENAI_OK: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":"A terminal shows BUILD FAILED."},"finish_reason":"stop"}],"usage":{"prompt_tokens":812,"completion_tokens":8,"total_tokens":820}}"#;

pub fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(5),
    }
}

pub fn note_request(model: &str) -> Request {
    Request {
        system: "You write short factual notes.".into(),
        messages: vec![Message {
            role: Role::User,
            parts: vec![
                Part::text("change=0.12. Describe the screen."),
                Part::jpeg(JPEG.to_vec()),
            ],
        }],
        max_tokens: 120,
        model: model.into(),
        temperature: Some(0.2),
        ..Request::default()
    }
}

pub fn anthropic(server: &Server, attempts: u32, timeout: Duration) -> AnthropicProvider {
    let mut config = AnthropicConfig::new(KEY);
    config.base_url = server.url();
    config.retry = fast_retry(attempts);
    config.timeout = timeout;
    AnthropicProvider::new(config).expect("provider")
}

pub fn openai(server: &Server, key: Option<&str>, compatible: bool) -> OpenAiProvider {
    let mut config = if compatible {
        OpenAiConfig::compatible(format!("{}/v1", server.url()))
    } else {
        let mut c = OpenAiConfig::openai(key.unwrap_or_default());
        c.base_url = format!("{}/v1", server.url());
        c
    };
    if compatible {
        config.api_key = key.map(llm::ApiKey::new);
    }
    config.retry = fast_retry(3);
    config.timeout = Duration::from_secs(5);
    OpenAiProvider::new(config).expect("provider")
}

pub fn assert_no_key(err: &LlmError) {
    let text = format!("{err} {err:?}");
    assert!(!text.contains("SECRET"), "key leaked: {text}");
}

/// A PNG signature: enough for the wire tests (never decoded).
pub const PNG: &[u8] = &[0x89, b'P', b'N', b'G'];

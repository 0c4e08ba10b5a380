//! The real HTTP client code against a local server that checks request
//! shapes and answers with recorded responses. No test leaves 127.0.0.1.

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
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One scripted answer.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
    delay: Duration,
}

impl Reply {
    fn json(status: u16, body: &str) -> Self {
        Reply {
            status,
            headers: vec![("content-type", "application/json")],
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }
}

struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Serves `replies` in order (the last one repeats).
    async fn start(replies: Vec<Reply>) -> Server {
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

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const KEY: &str = "sk-test-SECRET-0123456789";
const JPEG: &[u8] = &[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F'];

const ANTHROPIC_OK: &str = r#"{"id":"msg_01","type":"message","role":"assistant","model":"claude-test-1","content":[{"type":"text","text":"A terminal shows BUILD FAILED."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1530,"output_tokens":9}}"#;
const OPENAI_OK: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":"A terminal shows BUILD FAILED."},"finish_reason":"stop"}],"usage":{"prompt_tokens":812,"completion_tokens":8,"total_tokens":820}}"#;

fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(5),
    }
}

fn note_request(model: &str) -> Request {
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

fn anthropic(server: &Server, attempts: u32, timeout: Duration) -> AnthropicProvider {
    let mut config = AnthropicConfig::new(KEY);
    config.base_url = server.url();
    config.retry = fast_retry(attempts);
    config.timeout = timeout;
    AnthropicProvider::new(config).expect("provider")
}

fn openai(server: &Server, key: Option<&str>, compatible: bool) -> OpenAiProvider {
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

fn assert_no_key(err: &LlmError) {
    let text = format!("{err} {err:?}");
    assert!(!text.contains("SECRET"), "key leaked: {text}");
}

#[tokio::test]
async fn anthropic_request_shape_and_response() {
    let server = Server::start(vec![Reply::json(200, ANTHROPIC_OK)]).await;
    let provider = anthropic(&server, 1, Duration::from_secs(5));
    let resp = provider
        .complete(note_request("claude-test-1"))
        .await
        .expect("completion");
    assert_eq!(resp.text, "A terminal shows BUILD FAILED.");
    assert_eq!(resp.model, "claude-test-1");
    assert_eq!(
        resp.usage,
        Some(llm::Usage {
            input_tokens: 1530,
            output_tokens: 9
        })
    );

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/messages");
    assert_eq!(req.header("x-api-key"), Some(KEY));
    assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("authorization"), None);
    assert_eq!(
        req.body,
        json!({
            "model": "claude-test-1",
            "max_tokens": 120,
            "system": "You write short factual notes.",
            "temperature": 0.2,
            "messages": [{
                "role": "user",
                "content": [
                    {"type": "text", "text": "change=0.12. Describe the screen."},
                    {"type": "image", "source": {
                        "type": "base64",
                        "media_type": "image/jpeg",
                        "data": "/9j/4AAQSkZJRg==",
                    }},
                ],
            }],
        })
    );
    // The Debug form of the provider hides the key.
    assert!(!format!("{provider:?}").contains("SECRET"));
}

#[tokio::test]
async fn openai_request_shape_and_response() {
    let server = Server::start(vec![Reply::json(200, OPENAI_OK)]).await;
    let provider = openai(&server, Some(KEY), false);
    assert_eq!(provider.name(), "openai");
    let resp = provider
        .complete(note_request(""))
        .await
        .expect("completion");
    assert_eq!(resp.text, "A terminal shows BUILD FAILED.");
    assert_eq!(resp.model, "gpt-test");
    assert_eq!(
        resp.usage,
        Some(llm::Usage {
            input_tokens: 812,
            output_tokens: 8
        })
    );
    let seen = server.seen();
    let req = &seen[0];
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(req.header("x-api-key"), None);
    assert_eq!(
        req.body,
        json!({
            "model": llm::OPENAI_DEFAULT_MODEL,
            "max_completion_tokens": 120,
            "temperature": 0.2,
            "messages": [
                {"role": "system", "content": "You write short factual notes."},
                {"role": "user", "content": [
                    {"type": "text", "text": "change=0.12. Describe the screen."},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQSkZJRg=="}},
                ]},
            ],
        })
    );
}

#[tokio::test]
async fn openai_compatible_without_key() {
    // llama.cpp / Ollama answer in the same shape, often without usage.
    let body = r#"{"id":"x","object":"chat.completion","model":"llava:7b","choices":[{"index":0,"message":{"role":"assistant","content":"[SKIP]"},"finish_reason":"stop"}]}"#;
    let server = Server::start(vec![Reply::json(200, body)]).await;
    let provider = openai(&server, None, true);
    assert_eq!(provider.name(), "openai-compatible");
    let mut req = note_request("llava:7b");
    req.temperature = None;
    let resp = provider.complete(req).await.expect("completion");
    assert_eq!(resp.text, "[SKIP]");
    assert_eq!(resp.usage, None);
    let seen = server.seen();
    let req = &seen[0];
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.header("authorization"), None);
    assert_eq!(req.body["max_tokens"], json!(120));
    assert_eq!(req.body.get("temperature"), None);
    assert_eq!(
        req.body["messages"][1]["content"][1]["image_url"]["url"],
        json!("data:image/jpeg;base64,/9j/4AAQSkZJRg==")
    );
}

#[tokio::test]
async fn rate_limit_is_retried_after_retry_after() {
    let limited = Reply {
        status: 429,
        headers: vec![("content-type", "application/json"), ("retry-after", "0.3")],
        body: r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#.into(),
        delay: Duration::ZERO,
    };
    let server = Server::start(vec![limited, Reply::json(200, ANTHROPIC_OK)]).await;
    let provider = anthropic(&server, 3, Duration::from_secs(5));
    let started = Instant::now();
    let resp = provider
        .complete(note_request("claude-test-1"))
        .await
        .expect("retried");
    assert_eq!(resp.text, "A terminal shows BUILD FAILED.");
    assert_eq!(server.seen().len(), 2);
    // The 0.3 s retry-after replaced the 20 ms backoff.
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn server_errors_retry_until_attempts_run_out() {
    let server = Server::start(vec![Reply::json(
        503,
        r#"{"error":{"message":"upstream overloaded","type":"server_error"}}"#,
    )])
    .await;
    let provider = openai(&server, Some(KEY), false);
    let err = provider
        .complete(note_request("gpt-test"))
        .await
        .expect_err("fails");
    assert!(err.is_retryable());
    assert_eq!(err.status(), Some(503));
    assert!(err.to_string().contains("upstream overloaded"), "{err}");
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn auth_error_is_not_retried_and_hides_the_key() {
    // A server that echoes the key must not get it into the error.
    let body = format!(
        r#"{{"type":"error","error":{{"type":"authentication_error","message":"invalid x-api-key {KEY}"}}}}"#
    );
    let server = Server::start(vec![Reply {
        body,
        ..Reply::json(401, "")
    }])
    .await;
    let provider = anthropic(&server, 3, Duration::from_secs(5));
    let err = provider
        .complete(note_request("claude-test-1"))
        .await
        .expect_err("fails");
    assert!(err.is_auth(), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(server.seen().len(), 1);
    assert!(
        err.to_string().contains("invalid x-api-key [redacted]"),
        "{err}"
    );
    assert_no_key(&err);
}

#[tokio::test]
async fn bad_request_is_final() {
    let server = Server::start(vec![Reply::json(
        400,
        r#"{"error":{"message":"model 'nope' not found","type":"invalid_request_error"}}"#,
    )])
    .await;
    let provider = openai(&server, None, true);
    let err = provider
        .complete(note_request("nope"))
        .await
        .expect_err("fails");
    assert!(matches!(err, LlmError::Api { status: 400, .. }), "{err:?}");
    assert!(!err.is_retryable() && !err.is_auth());
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn timeout_is_reported_and_retried() {
    let slow = Reply {
        delay: Duration::from_secs(3),
        ..Reply::json(200, ANTHROPIC_OK)
    };
    let server = Server::start(vec![slow]).await;
    let provider = anthropic(&server, 2, Duration::from_millis(200));
    let started = Instant::now();
    let err = provider
        .complete(note_request("claude-test-1"))
        .await
        .expect_err("times out");
    assert!(
        matches!(err, LlmError::Timeout { timeout, .. } if timeout == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(server.seen().len(), 2);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn malformed_bodies_are_errors_not_panics() {
    for body in [
        "{\"content\": [",
        "<html>502 Bad Gateway</html>",
        "",
        "{\"type\":\"message\"}",
        "{\"content\":[{\"type\":\"text\",\"text\":5}]}",
    ] {
        let server = Server::start(vec![Reply::json(200, body)]).await;
        let provider = anthropic(&server, 3, Duration::from_secs(5));
        match provider.complete(note_request("claude-test-1")).await {
            Err(err @ LlmError::InvalidResponse { .. }) => {
                assert!(!err.is_retryable());
                assert_eq!(server.seen().len(), 1, "not retried: {body}");
            }
            Ok(resp) => assert_eq!(resp.text, "", "body {body:?}"),
            Err(other) => panic!("unexpected error for {body:?}: {other:?}"),
        }
    }
    for body in ["{\"choices\": 7}", "not json", "{\"choices\":[{}]}"] {
        let server = Server::start(vec![Reply::json(200, body)]).await;
        let provider = openai(&server, Some(KEY), false);
        let err = provider
            .complete(note_request("gpt-test"))
            .await
            .expect_err("invalid");
        assert!(matches!(err, LlmError::InvalidResponse { .. }), "{err:?}");
        assert_no_key(&err);
    }
}

#[tokio::test]
async fn connection_refused_is_a_retryable_connect_error() {
    // Bind and drop to get a port with nothing listening.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let mut config = AnthropicConfig::new(KEY);
    config.base_url = format!("http://{addr}");
    config.retry = fast_retry(2);
    let provider = AnthropicProvider::new(config).expect("provider");
    let err = provider
        .complete(note_request("m"))
        .await
        .expect_err("refused");
    assert!(matches!(err, LlmError::Connect { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_no_key(&err);
}

#[tokio::test]
async fn providers_work_as_trait_objects() {
    let server = Server::start(vec![Reply::json(200, OPENAI_OK)]).await;
    let provider: Arc<dyn Provider> = Arc::new(openai(&server, None, true));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let p = provider.clone();
            tokio::spawn(async move { p.complete(note_request("m")).await })
        })
        .collect();
    for h in handles {
        assert!(h.await.expect("join").is_ok());
    }
    assert_eq!(server.seen().len(), 3);
}

// ---- Tool calling ----

const PNG: &[u8] = &[0x89, b'P', b'N', b'G'];

fn snapshot_tool() -> ToolSpec {
    ToolSpec {
        name: "see_screenshare_snapshot".into(),
        description: "Look at the current frame of the screen share.".into(),
        input_schema: json!({"type": "object", "properties": {}}),
    }
}

fn zoom_tool() -> ToolSpec {
    ToolSpec {
        name: "zoom".into(),
        description: String::new(),
        input_schema: json!({
            "type": "object",
            "properties": {"region": {"type": "string"}},
            "required": ["region"],
        }),
    }
}

/// The first turn of a chat that offers tools.
fn tool_request(model: &str) -> Request {
    Request {
        system: "You chat about the shared screen.".into(),
        messages: vec![Message::user_text("What is on my screen?")],
        max_tokens: 300,
        model: model.into(),
        tools: vec![snapshot_tool(), zoom_tool()],
        ..Request::default()
    }
}

/// The follow-up: the model's calls and their results (one with an image).
fn follow_up(first: &Request, answer: &llm::Response) -> Request {
    let mut req = first.clone();
    req.messages.push(answer.assistant_message());
    req.messages.push(Message {
        role: Role::User,
        parts: vec![
            Part::tool_result(
                answer.tool_calls[0].id.clone(),
                vec![
                    Part::text("Frame of Alice's screen:"),
                    Part::Image {
                        mime: "image/png".into(),
                        data: PNG.to_vec(),
                    },
                ],
            ),
            Part::tool_result(
                answer.tool_calls[1].id.clone(),
                vec![Part::text("zoom is not available")],
            ),
        ],
    });
    req
}

const ANTHROPIC_TOOL_USE: &str = r#"{"id":"msg_02","type":"message","role":"assistant","model":"claude-test-1","content":[{"type":"text","text":"Let me look."},{"type":"tool_use","id":"toolu_01A","name":"see_screenshare_snapshot","input":{}},{"type":"tool_use","id":"toolu_01B","name":"zoom","input":{"region":"top left"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":400,"output_tokens":60}}"#;

#[tokio::test]
async fn anthropic_tool_use_round_trip() {
    let server = Server::start(vec![
        Reply::json(200, ANTHROPIC_TOOL_USE),
        Reply::json(200, ANTHROPIC_OK),
    ])
    .await;
    let provider = anthropic(&server, 1, Duration::from_secs(5));
    let first = tool_request("claude-test-1");
    let answer = provider.complete(first.clone()).await.expect("tool use");
    assert_eq!(answer.text, "Let me look.");
    assert_eq!(
        answer.tool_calls,
        vec![
            ToolCall {
                id: "toolu_01A".into(),
                name: "see_screenshare_snapshot".into(),
                input: json!({}),
            },
            ToolCall {
                id: "toolu_01B".into(),
                name: "zoom".into(),
                input: json!({"region": "top left"}),
            },
        ]
    );
    let done = provider
        .complete(follow_up(&first, &answer))
        .await
        .expect("final answer");
    assert_eq!(done.text, "A terminal shows BUILD FAILED.");
    assert!(done.tool_calls.is_empty());

    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].body,
        json!({
            "model": "claude-test-1",
            "max_tokens": 300,
            "system": "You chat about the shared screen.",
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "What is on my screen?"}]},
            ],
            "tools": [
                {
                    "name": "see_screenshare_snapshot",
                    "description": "Look at the current frame of the screen share.",
                    "input_schema": {"type": "object", "properties": {}},
                },
                {
                    "name": "zoom",
                    "input_schema": {
                        "type": "object",
                        "properties": {"region": {"type": "string"}},
                        "required": ["region"],
                    },
                },
            ],
        })
    );
    let body = &seen[1].body;
    assert_eq!(body["tools"], seen[0].body["tools"]);
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "What is on my screen?"}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_01A", "name": "see_screenshare_snapshot", "input": {}},
                {"type": "tool_use", "id": "toolu_01B", "name": "zoom", "input": {"region": "top left"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01A", "content": [
                    {"type": "text", "text": "Frame of Alice's screen:"},
                    {"type": "image", "source": {
                        "type": "base64", "media_type": "image/png", "data": "iVBORw==",
                    }},
                ]},
                {"type": "tool_result", "tool_use_id": "toolu_01B", "content": [
                    {"type": "text", "text": "zoom is not available"},
                ]},
            ]},
        ])
    );
}

#[tokio::test]
async fn anthropic_tool_results_go_before_other_content() {
    let server = Server::start(vec![Reply::json(200, ANTHROPIC_OK)]).await;
    let provider = anthropic(&server, 1, Duration::from_secs(5));
    let mut req = tool_request("claude-test-1");
    req.messages.push(Message {
        role: Role::Assistant,
        parts: vec![Part::ToolCall(ToolCall {
            id: "toolu_9".into(),
            name: "see_screenshare_snapshot".into(),
            input: Value::Null,
        })],
    });
    req.messages.push(Message {
        role: Role::User,
        parts: vec![
            Part::text("Here it is."),
            Part::tool_result("toolu_9", Vec::new()),
        ],
    });
    provider.complete(req).await.expect("completion");
    let seen = server.seen();
    assert_eq!(
        seen[0].body["messages"][1]["content"],
        json!([{"type": "tool_use", "id": "toolu_9", "name": "see_screenshare_snapshot", "input": {}}])
    );
    assert_eq!(
        seen[0].body["messages"][2]["content"],
        json!([
            {"type": "tool_result", "tool_use_id": "toolu_9"},
            {"type": "text", "text": "Here it is."},
        ])
    );
}

const OPENAI_TOOL_CALLS: &str = r#"{"id":"chatcmpl-2","object":"chat.completion","created":1700000001,"model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_abc","type":"function","function":{"name":"see_screenshare_snapshot","arguments":"{}"}},{"id":"call_def","type":"function","function":{"name":"zoom","arguments":"{\"region\":\"top left\"}"}}],"refusal":null},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":120,"completion_tokens":40,"total_tokens":160}}"#;

#[tokio::test]
async fn openai_tool_calls_round_trip() {
    let server = Server::start(vec![
        Reply::json(200, OPENAI_TOOL_CALLS),
        Reply::json(200, OPENAI_OK),
    ])
    .await;
    let provider = openai(&server, Some(KEY), false);
    let first = tool_request("gpt-test");
    let answer = provider.complete(first.clone()).await.expect("tool calls");
    assert_eq!(answer.text, "");
    assert_eq!(
        answer.tool_calls,
        vec![
            ToolCall {
                id: "call_abc".into(),
                name: "see_screenshare_snapshot".into(),
                input: json!({}),
            },
            ToolCall {
                id: "call_def".into(),
                name: "zoom".into(),
                input: json!({"region": "top left"}),
            },
        ]
    );
    let done = provider
        .complete(follow_up(&first, &answer))
        .await
        .expect("final answer");
    assert_eq!(done.text, "A terminal shows BUILD FAILED.");
    assert!(done.tool_calls.is_empty());

    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].body,
        json!({
            "model": "gpt-test",
            "max_completion_tokens": 300,
            "messages": [
                {"role": "system", "content": "You chat about the shared screen."},
                {"role": "user", "content": "What is on my screen?"},
            ],
            "tools": [
                {"type": "function", "function": {
                    "name": "see_screenshare_snapshot",
                    "description": "Look at the current frame of the screen share.",
                    "parameters": {"type": "object", "properties": {}},
                }},
                {"type": "function", "function": {
                    "name": "zoom",
                    "parameters": {
                        "type": "object",
                        "properties": {"region": {"type": "string"}},
                        "required": ["region"],
                    },
                }},
            ],
        })
    );
    let body = &seen[1].body;
    assert_eq!(body["tools"], seen[0].body["tools"]);
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "You chat about the shared screen."},
            {"role": "user", "content": "What is on my screen?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_abc", "type": "function",
                 "function": {"name": "see_screenshare_snapshot", "arguments": "{}"}},
                {"id": "call_def", "type": "function",
                 "function": {"name": "zoom", "arguments": "{\"region\":\"top left\"}"}},
            ]},
            {"role": "tool", "tool_call_id": "call_abc",
             "content": "Frame of Alice's screen:\n(The result image follows in the next user message.)"},
            {"role": "tool", "tool_call_id": "call_def", "content": "zoom is not available"},
            {"role": "user", "content": [
                {"type": "text", "text": "Image result of tool call call_abc:"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}},
            ]},
        ])
    );
}

#[tokio::test]
async fn openai_compatible_tools_and_lenient_tool_calls() {
    // Some compatible servers send the arguments as an object and no id.
    let body = r#"{"model":"qwen2.5-vl","choices":[{"index":0,"message":{"role":"assistant","content":"","tool_calls":[{"type":"function","function":{"name":"zoom","arguments":{"region":"center"}}},{"id":"","function":{"name":"see_screenshare_snapshot","arguments":""}}]},"finish_reason":"tool_calls"}]}"#;
    let server = Server::start(vec![Reply::json(200, body)]).await;
    let provider = openai(&server, None, true);
    let mut req = tool_request("qwen2.5-vl");
    // Text next to a tool result goes in a user message after the tool
    // message; an assistant text next to its calls is its content.
    req.messages.push(Message {
        role: Role::Assistant,
        parts: vec![
            Part::text("Checking."),
            Part::ToolCall(ToolCall {
                id: "c1".into(),
                name: "zoom".into(),
                input: json!({"region": "all"}),
            }),
        ],
    });
    req.messages.push(Message {
        role: Role::User,
        parts: vec![
            Part::tool_result("c1", vec![Part::text("zoomed")]),
            Part::text("And now?"),
        ],
    });
    let resp = provider.complete(req).await.expect("completion");
    assert_eq!(
        resp.tool_calls,
        vec![
            ToolCall {
                id: "call_0".into(),
                name: "zoom".into(),
                input: json!({"region": "center"}),
            },
            ToolCall {
                id: "call_1".into(),
                name: "see_screenshare_snapshot".into(),
                input: json!({}),
            },
        ]
    );
    let seen = server.seen();
    let body = &seen[0].body;
    assert_eq!(body["max_tokens"], json!(300));
    assert_eq!(body["tools"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        body["messages"].as_array().map(|m| m[2..].to_vec()),
        Some(vec![
            json!({"role": "assistant", "content": "Checking.", "tool_calls": [
                {"id": "c1", "type": "function",
                 "function": {"name": "zoom", "arguments": "{\"region\":\"all\"}"}},
            ]}),
            json!({"role": "tool", "tool_call_id": "c1", "content": "zoomed"}),
            json!({"role": "user", "content": "And now?"}),
        ])
    );
}

#[tokio::test]
async fn malformed_tool_calls_are_invalid_responses() {
    let bad_openai = [
        // Arguments that are not JSON.
        r#"{"choices":[{"message":{"content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"zoom","arguments":"{\"region\": \"top"}}]}}]}"#,
        // Arguments that are JSON but not an object.
        r#"{"choices":[{"message":{"content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"zoom","arguments":"[1,2]"}}]}}]}"#,
        // No function name.
        r#"{"choices":[{"message":{"content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"arguments":"{}"}}]}}]}"#,
        // tool_calls is not a list.
        r#"{"choices":[{"message":{"content":null,"tool_calls":{"id":"call_1"}}}]}"#,
    ];
    for body in bad_openai {
        let server = Server::start(vec![Reply::json(200, body)]).await;
        let provider = openai(&server, Some(KEY), false);
        let err = provider
            .complete(tool_request("gpt-test"))
            .await
            .expect_err("malformed tool call");
        assert!(
            matches!(&err, LlmError::InvalidResponse { provider, .. } if provider == "openai"),
            "{err:?}"
        );
        assert!(!err.is_retryable());
        assert_eq!(server.seen().len(), 1, "not retried: {body}");
        assert_no_key(&err);
    }
    let server = Server::start(vec![Reply::json(200, bad_openai[0])]).await;
    let err = openai(&server, Some(KEY), false)
        .complete(tool_request("gpt-test"))
        .await
        .expect_err("malformed");
    let text = err.to_string();
    assert!(
        text.contains("call_1") && text.contains("not valid JSON"),
        "{text}"
    );

    for body in [
        r#"{"model":"m","content":[{"type":"tool_use","name":"zoom","input":{}}]}"#,
        r#"{"model":"m","content":[{"type":"tool_use","id":"t1","input":{}}]}"#,
        r#"{"model":"m","content":[{"type":"tool_use","id":"t1","name":"zoom","input":"{}"}]}"#,
    ] {
        let server = Server::start(vec![Reply::json(200, body)]).await;
        let provider = anthropic(&server, 3, Duration::from_secs(5));
        let err = provider
            .complete(tool_request("claude-test-1"))
            .await
            .expect_err("malformed tool_use");
        assert!(matches!(err, LlmError::InvalidResponse { .. }), "{err:?}");
        assert_eq!(server.seen().len(), 1, "not retried: {body}");
    }
}

#[tokio::test]
async fn invalid_tool_requests_are_refused_before_sending() {
    let server = Server::start(vec![Reply::json(200, ANTHROPIC_OK)]).await;
    let provider = anthropic(&server, 1, Duration::from_secs(5));
    let compat = openai(&server, None, true);
    let call = ToolCall {
        id: "t1".into(),
        name: "zoom".into(),
        input: json!({}),
    };
    let cases: Vec<(&str, Request)> = vec![
        ("bad tool name", {
            let mut r = tool_request("m");
            r.tools[1].name = "zoom in".into();
            r
        }),
        ("duplicate tool", {
            let mut r = tool_request("m");
            r.tools.push(snapshot_tool());
            r
        }),
        ("schema not an object", {
            let mut r = tool_request("m");
            r.tools[1].input_schema = json!("object");
            r
        }),
        ("tool call in a user message", {
            let mut r = tool_request("m");
            r.messages[0].parts.push(Part::ToolCall(call.clone()));
            r
        }),
        ("tool result in an assistant message", {
            let mut r = tool_request("m");
            r.messages.push(Message {
                role: Role::Assistant,
                parts: vec![Part::tool_result("t1", vec![])],
            });
            r
        }),
        ("nested tool call", {
            let mut r = tool_request("m");
            r.messages[0]
                .parts
                .push(Part::tool_result("t1", vec![Part::ToolCall(call.clone())]));
            r
        }),
        ("input not an object", {
            let mut r = tool_request("m");
            r.messages.push(Message {
                role: Role::Assistant,
                parts: vec![Part::ToolCall(ToolCall {
                    input: json!([1]),
                    ..call.clone()
                })],
            });
            r
        }),
        ("empty call id", {
            let mut r = tool_request("m");
            r.messages[0].parts.push(Part::tool_result("", vec![]));
            r
        }),
    ];
    for (what, req) in cases {
        for p in [&provider as &dyn Provider, &compat] {
            let err = p.complete(req.clone()).await.expect_err(what);
            assert!(
                matches!(err, LlmError::InvalidRequest(_)),
                "{what} ({}): {err:?}",
                p.name()
            );
        }
    }
    assert!(server.seen().is_empty());
}

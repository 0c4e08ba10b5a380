//! What the provider tests share: the local recording server
//! (`http-recorder`: it records each request and answers with queued,
//! recorded responses; no test leaves 127.0.0.1), recorded answers and
//! providers pointed at the server.
#![allow(dead_code, unused_imports)] // each test file uses a different part

use std::time::{Duration, Instant};

pub use http_recorder::{Reply, Seen, Server};
use llm::{
    AnthropicConfig, AnthropicProvider, LlmError, Message, OpenAiConfig, OpenAiProvider, Part,
    Provider, Request, RetryPolicy, Role, ToolCall, ToolSpec,
};
use serde_json::{Value, json};

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

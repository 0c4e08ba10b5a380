//! The real HTTP client code against a local server that checks request
//! shapes and answers with recorded responses. No test leaves 127.0.0.1.
#![allow(unused_imports)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use llm::{
    AnthropicConfig, AnthropicProvider, HttpError, LlmError, Message, OpenAiConfig, OpenAiProvider,
    Part, Provider, Request, RetryPolicy, Role, ToolCall, ToolSpec,
};
use serde_json::{Value, json};

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
        req.json,
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
        req.json,
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
    assert_eq!(req.json["max_tokens"], json!(120));
    assert_eq!(req.json.get("temperature"), None);
    assert_eq!(
        req.json["messages"][1]["content"][1]["image_url"]["url"],
        json!("data:image/jpeg;base64,/9j/4AAQSkZJRg==")
    );
}

#[tokio::test]
async fn rate_limit_is_retried_after_retry_after() {
    let limited = Reply {
        status: 429,
        headers: vec![
            ("content-type", "application/json".into()),
            ("retry-after", "0.3".into()),
        ],
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
        body: body.into(),
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
    assert!(
        matches!(err, LlmError::Http(HttpError::Api { status: 400, .. })),
        "{err:?}"
    );
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
        matches!(err, LlmError::Http(HttpError::Timeout { timeout, .. }) if timeout == Duration::from_millis(200)),
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
            Err(err @ LlmError::Http(HttpError::InvalidResponse { .. })) => {
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
        assert!(
            matches!(err, LlmError::Http(HttpError::InvalidResponse { .. })),
            "{err:?}"
        );
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
    assert!(
        matches!(err, LlmError::Http(HttpError::Connect { .. })),
        "{err:?}"
    );
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

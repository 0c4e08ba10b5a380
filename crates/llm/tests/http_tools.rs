//! Tool calling over the real HTTP client code (Anthropic and OpenAI wire
//! shapes, round trips, malformed calls) against the local test server.
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
/// The two calls both providers' scripted answers make: the snapshot,
/// then a zoom on the top left.
fn snapshot_then_zoom(snapshot_id: &str, zoom_id: &str) -> Vec<ToolCall> {
    vec![
        ToolCall {
            id: snapshot_id.into(),
            name: "see_screenshare_snapshot".into(),
            input: json!({}),
        },
        ToolCall {
            id: zoom_id.into(),
            name: "zoom".into(),
            input: json!({"region": "top left"}),
        },
    ]
}

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
        snapshot_then_zoom("toolu_01A", "toolu_01B")
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
        seen[0].json,
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
    let body = &seen[1].json;
    assert_eq!(body["tools"], seen[0].json["tools"]);
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
        seen[0].json["messages"][1]["content"],
        json!([{"type": "tool_use", "id": "toolu_9", "name": "see_screenshare_snapshot", "input": {}}])
    );
    assert_eq!(
        seen[0].json["messages"][2]["content"],
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
        snapshot_then_zoom("call_abc", "call_def")
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
        seen[0].json,
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
    let body = &seen[1].json;
    assert_eq!(body["tools"], seen[0].json["tools"]);
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
    let body = &seen[0].json;
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
            matches!(&err, LlmError::Http(HttpError::InvalidResponse { provider, .. }) if provider == "openai"),
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
        assert!(
            matches!(err, LlmError::Http(HttpError::InvalidResponse { .. })),
            "{err:?}"
        );
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

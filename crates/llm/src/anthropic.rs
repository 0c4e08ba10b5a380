//! Anthropic Messages API (`POST /v1/messages`).

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use hyper::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};

use crate::error::LlmError;
use crate::http::{DEFAULT_RETRY, Hosted, RetryPolicy};
use crate::types::{Part, Request, Response, ToolCall, Usage};
use crate::{CompletionFuture, Provider, tools};
use provider_http::ApiKey;

/// The public Anthropic API.
pub const ANTHROPIC_DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The API version header sent with every request.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
/// Model used when a request leaves `model` empty.
pub const ANTHROPIC_DEFAULT_MODEL: &str = "claude-sonnet-4-5";

/// Settings of an [`AnthropicProvider`].
#[derive(Debug, Clone)]
pub struct AnthropicConfig {
    /// API root, default [`ANTHROPIC_DEFAULT_BASE_URL`]; `/v1/messages` is
    /// appended.
    pub base_url: String,
    /// The `x-api-key`.
    pub api_key: ApiKey,
    /// Per-attempt timeout (connect, send, and the whole answer).
    pub timeout: Duration,
    /// Retries of retryable failures.
    pub retry: RetryPolicy,
    /// Model for requests whose `model` is empty.
    pub default_model: String,
}

impl AnthropicConfig {
    /// Defaults (public API, 60 s timeout, 3 attempts) with this key.
    pub fn new(api_key: impl Into<String>) -> Self {
        AnthropicConfig {
            base_url: ANTHROPIC_DEFAULT_BASE_URL.to_owned(),
            api_key: ApiKey::new(api_key),
            timeout: Duration::from_secs(60),
            retry: DEFAULT_RETRY,
            default_model: ANTHROPIC_DEFAULT_MODEL.to_owned(),
        }
    }
}

/// Anthropic Messages API client: the system prompt as top-level `system`,
/// images as base64 `image` blocks, `x-api-key` and `anthropic-version`
/// headers.
pub struct AnthropicProvider {
    api: Hosted,
    default_model: String,
}

impl fmt::Debug for AnthropicProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicProvider")
            .field("api", &self.api)
            .field("default_model", &self.default_model)
            .finish()
    }
}

impl AnthropicProvider {
    /// Checks the settings and builds the HTTP client.
    pub fn new(config: AnthropicConfig) -> Result<Self, LlmError> {
        if config.api_key.is_empty() {
            return Err(LlmError::InvalidConfig(
                "the anthropic provider needs an API key (ANTHROPIC_API_KEY)".to_owned(),
            ));
        }
        // A key that cannot be a header fails here, as a config error.
        let headers = vec![
            (
                HeaderName::from_static("x-api-key"),
                config.api_key.header("")?,
            ),
            (
                HeaderName::from_static("anthropic-version"),
                HeaderValue::from_static(ANTHROPIC_VERSION),
            ),
        ];
        let api = Hosted::new(
            "anthropic",
            &config.base_url,
            "/v1/messages",
            Some(config.api_key),
            headers,
            config.timeout,
            config.retry,
        )?;
        Ok(AnthropicProvider {
            api,
            default_model: config.default_model,
        })
    }

    /// The API root in use.
    pub fn base_url(&self) -> &str {
        self.api.base_url()
    }

    async fn run(&self, req: Request) -> Result<Response, LlmError> {
        let body = request_body(&req, &self.default_model)?;
        self.api.call(&body, parse_response).await
    }
}

impl Provider for AnthropicProvider {
    fn complete(&self, req: Request) -> CompletionFuture<'_> {
        Box::pin(self.run(req))
    }

    fn name(&self) -> &str {
        "anthropic"
    }
}

/// The JSON body of a Messages API request. Tool results are moved to the
/// front of their user message (the API wants them before any other
/// content); everything else keeps its order.
pub(crate) fn request_body(req: &Request, default_model: &str) -> Result<Value, LlmError> {
    let model = crate::choose_model(req, default_model)?;
    if req.messages.is_empty() {
        return Err(LlmError::InvalidRequest("no messages".to_owned()));
    }
    tools::check_tools(&req.tools)?;
    let mut messages = Vec::with_capacity(req.messages.len());
    for m in &req.messages {
        let mut results = Vec::new();
        let mut content = Vec::with_capacity(m.parts.len());
        for part in &m.parts {
            tools::check_part_role(part, m.role)?;
            match part {
                Part::ToolResult { call_id, parts } => {
                    tools::check_result(call_id, parts)?;
                    let mut block = json!({"type": "tool_result", "tool_use_id": call_id});
                    if !parts.is_empty() {
                        let inner: Result<Vec<Value>, LlmError> =
                            parts.iter().map(content_block).collect();
                        block["content"] = Value::Array(inner?);
                    }
                    results.push(block);
                }
                other => content.push(content_block(other)?),
            }
        }
        results.append(&mut content);
        messages.push(json!({"role": m.role.as_str(), "content": results}));
    }
    let mut body = json!({
        "model": model,
        "max_tokens": req.max_tokens.max(1),
        "messages": messages,
    });
    if !req.system.is_empty() {
        body["system"] = Value::from(req.system.as_str());
    }
    if let Some(t) = crate::temperature(req) {
        body["temperature"] = Value::from(t);
    }
    tools::set_specs(&mut body, &req.tools, |t| tools::spec(t, "input_schema"));
    Ok(body)
}

/// One content block: text, base64 image or tool use (tool results are
/// built by [`request_body`]).
fn content_block(part: &Part) -> Result<Value, LlmError> {
    Ok(match part {
        Part::Text(text) => json!({"type": "text", "text": text}),
        Part::Image { mime, data } => json!({
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": mime,
                "data": base64::engine::general_purpose::STANDARD.encode(data),
            },
        }),
        Part::ToolCall(call) => json!({
            "type": "tool_use",
            "id": call.id,
            "name": call.name,
            "input": tools::call_input(call)?,
        }),
        Part::ToolResult { call_id, .. } => {
            return Err(LlmError::InvalidRequest(format!(
                "tool result {call_id:?} nested in another part"
            )));
        }
    })
}

/// Reads a Messages API answer: the text blocks joined, the `tool_use`
/// blocks as tool calls, the model, usage.
pub(crate) fn parse_response(body: &[u8]) -> Result<Response, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("response is not JSON: {e}"))?;
    if value.get("type").and_then(Value::as_str) == Some("error") {
        return Err(format!(
            "error object: {}",
            crate::http::error_message(body)
        ));
    }
    let content = value
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| "response has no content array".to_owned())?;
    let text: String = content
        .iter()
        .filter(|block| block.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|block| block.get("text").and_then(Value::as_str))
        .collect();
    let tool_calls = content
        .iter()
        .filter(|block| block.get("type").and_then(Value::as_str) == Some("tool_use"))
        .map(tool_use)
        .collect::<Result<Vec<_>, _>>()?;
    let model = value
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let usage = value.get("usage").map(|u| Usage {
        input_tokens: crate::json_u32(u.get("input_tokens")),
        output_tokens: crate::json_u32(u.get("output_tokens")),
    });
    Ok(Response {
        text,
        model,
        usage,
        tool_calls,
    })
}

/// A `tool_use` block as a [`ToolCall`]: `id` and `name` must be non-empty
/// strings, `input` a JSON object.
fn tool_use(block: &Value) -> Result<ToolCall, String> {
    let field = |name: &str| {
        block
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("tool_use block without a {name}"))
    };
    let id = field("id")?;
    let name = field("name")?;
    let input = tools::received_input(&id, block.get("input"))?;
    Ok(ToolCall { id, name, input })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Message, Role};

    #[test]
    fn body_shape() {
        let req = Request {
            system: "be brief".into(),
            messages: vec![Message {
                role: Role::User,
                parts: vec![Part::text("what is this?"), Part::jpeg(vec![1, 2, 3])],
            }],
            max_tokens: 100,
            model: String::new(),
            temperature: Some(0.2),
            ..Request::default()
        };
        let body = request_body(&req, "m-default").ok();
        let expected = json!({
            "model": "m-default",
            "max_tokens": 100,
            "system": "be brief",
            "temperature": 0.2,
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "AQID"}},
            ]}],
        });
        assert_eq!(body, Some(expected));
    }

    #[test]
    fn responses_parse() {
        let ok = br#"{"id":"m","type":"message","role":"assistant","model":"claude-x",
            "content":[{"type":"text","text":"Hello"},{"type":"text","text":" there"}],
            "usage":{"input_tokens":12,"output_tokens":3}}"#;
        assert_eq!(
            parse_response(ok),
            Ok(Response {
                text: "Hello there".into(),
                model: "claude-x".into(),
                usage: Some(Usage {
                    input_tokens: 12,
                    output_tokens: 3
                }),
                tool_calls: Vec::new(),
            })
        );
        assert!(parse_response(b"{").is_err());
        assert!(parse_response(b"[]").is_err());
        assert!(parse_response(br#"{"content":"x"}"#).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let _ = parse_response(&bytes);
        }
    }
}

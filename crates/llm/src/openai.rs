//! OpenAI Chat Completions (`POST {base}/chat/completions`), which also
//! serves any OpenAI-compatible server (Ollama, llama.cpp, vLLM) by base URL.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use hyper::header::AUTHORIZATION;
use serde_json::{Value, json};

use crate::error::LlmError;
use crate::http::{DEFAULT_RETRY, Hosted, RetryPolicy};
use crate::types::{Message, Part, Request, Response, ToolCall, Usage};
use crate::{CompletionFuture, Provider, tools};
use provider_http::ApiKey;

/// The public OpenAI API root.
pub const OPENAI_DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// Model used against OpenAI when a request leaves `model` empty.
pub const OPENAI_DEFAULT_MODEL: &str = "gpt-4o-mini";

/// Which server the client talks to; decides the provider name, whether a
/// key is required and how the token limit is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenAiFlavor {
    /// api.openai.com (or a proxy of it): key required, the limit is sent
    /// as `max_completion_tokens` (accepted by every current OpenAI model).
    OpenAi,
    /// Ollama, llama.cpp, vLLM and the like: key optional, the limit is
    /// sent as `max_tokens`, which those servers understand.
    Compatible,
}

/// Settings of an [`OpenAiProvider`].
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// API root including the version segment (e.g.
    /// `http://localhost:11434/v1`); `/chat/completions` is appended.
    pub base_url: String,
    /// Bearer token; `None` sends no `Authorization` header.
    pub api_key: Option<ApiKey>,
    /// Per-attempt timeout (connect, send, and the whole answer).
    pub timeout: Duration,
    /// Retries of retryable failures.
    pub retry: RetryPolicy,
    /// Model for requests whose `model` is empty (empty: such requests are
    /// refused).
    pub default_model: String,
    /// OpenAI proper or a compatible server.
    pub flavor: OpenAiFlavor,
}

impl OpenAiConfig {
    /// api.openai.com with this key (60 s timeout, 3 attempts).
    pub fn openai(api_key: impl Into<String>) -> Self {
        OpenAiConfig {
            base_url: OPENAI_DEFAULT_BASE_URL.to_owned(),
            api_key: Some(ApiKey::new(api_key)),
            timeout: Duration::from_secs(60),
            retry: DEFAULT_RETRY,
            default_model: OPENAI_DEFAULT_MODEL.to_owned(),
            flavor: OpenAiFlavor::OpenAi,
        }
    }

    /// An OpenAI-compatible server at `base_url`, without a key and without
    /// a default model (local servers can be slow: 120 s timeout).
    pub fn compatible(base_url: impl Into<String>) -> Self {
        OpenAiConfig {
            base_url: base_url.into(),
            api_key: None,
            timeout: Duration::from_secs(120),
            retry: DEFAULT_RETRY,
            default_model: String::new(),
            flavor: OpenAiFlavor::Compatible,
        }
    }
}

/// Chat Completions client: the system prompt as a leading `system`
/// message, images as `image_url` parts holding `data:` URLs, and
/// `Authorization: Bearer` when a key is set.
pub struct OpenAiProvider {
    api: Hosted,
    default_model: String,
    flavor: OpenAiFlavor,
}

impl fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiProvider")
            .field("api", &self.api)
            .field("default_model", &self.default_model)
            .field("flavor", &self.flavor)
            .finish()
    }
}

impl OpenAiProvider {
    /// Checks the settings and builds the HTTP client.
    pub fn new(config: OpenAiConfig) -> Result<Self, LlmError> {
        let api_key = config.api_key.filter(|k| !k.is_empty());
        // A key that cannot be a header fails here, as a config error.
        let headers = match (&api_key, config.flavor) {
            (None, OpenAiFlavor::OpenAi) => {
                return Err(LlmError::InvalidConfig(
                    "the openai provider needs an API key (OPENAI_API_KEY)".to_owned(),
                ));
            }
            (Some(key), _) => vec![(AUTHORIZATION, key.header("Bearer ")?)],
            (None, OpenAiFlavor::Compatible) => Vec::new(),
        };
        let api = Hosted::new(
            flavor_name(config.flavor),
            &config.base_url,
            "/chat/completions",
            api_key,
            headers,
            config.timeout,
            config.retry,
        )?;
        Ok(OpenAiProvider {
            api,
            default_model: config.default_model,
            flavor: config.flavor,
        })
    }

    /// The API root in use.
    pub fn base_url(&self) -> &str {
        self.api.base_url()
    }

    async fn run(&self, req: Request) -> Result<Response, LlmError> {
        let body = request_body(&req, &self.default_model, self.flavor)?;
        self.api.call(&body, parse_response).await
    }
}

fn flavor_name(flavor: OpenAiFlavor) -> &'static str {
    match flavor {
        OpenAiFlavor::OpenAi => "openai",
        OpenAiFlavor::Compatible => "openai-compatible",
    }
}

impl Provider for OpenAiProvider {
    fn complete(&self, req: Request) -> CompletionFuture<'_> {
        Box::pin(self.run(req))
    }

    fn name(&self) -> &str {
        flavor_name(self.flavor)
    }
}

/// The note sent as (or after) a tool message's text when the result has
/// images: tool messages carry text only, so the images follow in a user
/// message.
pub(crate) const IMAGE_FOLLOWS: &str = "(The result image follows in the next user message.)";

/// The JSON body of a Chat Completions request. Text-only messages are sent
/// with string content (understood by every compatible server); messages
/// with images as content-part arrays.
///
/// Tools: an assistant message's [`Part::ToolCall`]s become its
/// `tool_calls` (content: its text, or `null`); a user message's
/// [`Part::ToolResult`]s become one `tool` message each (its text parts
/// joined by newlines, plus [`IMAGE_FOLLOWS`] when it has images), sent
/// before a `user` message holding, for each result with images, the text
/// `Image result of tool call <id>:` and its `image_url` parts, then the
/// user message's own parts.
pub(crate) fn request_body(
    req: &Request,
    default_model: &str,
    flavor: OpenAiFlavor,
) -> Result<Value, LlmError> {
    let model = crate::choose_model(req, default_model)?;
    if req.messages.is_empty() {
        return Err(LlmError::InvalidRequest("no messages".to_owned()));
    }
    tools::check_tools(&req.tools)?;
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if !req.system.is_empty() {
        messages.push(json!({"role": "system", "content": req.system}));
    }
    for m in &req.messages {
        push_message(m, &mut messages)?;
    }
    let mut body = json!({"model": model, "messages": messages});
    let limit_field = match flavor {
        OpenAiFlavor::OpenAi => "max_completion_tokens",
        OpenAiFlavor::Compatible => "max_tokens",
    };
    body[limit_field] = Value::from(req.max_tokens.max(1));
    if let Some(t) = crate::temperature(req) {
        body["temperature"] = Value::from(t);
    }
    tools::set_specs(
        &mut body,
        &req.tools,
        |t| json!({"type": "function", "function": tools::spec(t, "parameters")}),
    );
    Ok(body)
}

/// Appends the wire message(s) of one neutral message.
fn push_message(m: &Message, out: &mut Vec<Value>) -> Result<(), LlmError> {
    let mut own: Vec<&Part> = Vec::with_capacity(m.parts.len());
    let mut calls = Vec::new();
    // The user message that follows the tool messages: result images.
    let mut result_images: Vec<Value> = Vec::new();
    for part in &m.parts {
        tools::check_part_role(part, m.role)?;
        match part {
            Part::ToolCall(call) => {
                let input = tools::call_input(call)?;
                let arguments = serde_json::to_string(&input).map_err(|e| {
                    LlmError::InvalidRequest(format!("cannot encode tool call input: {e}"))
                })?;
                calls.push(json!({
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": arguments},
                }));
            }
            Part::ToolResult { call_id, parts } => {
                tools::check_result(call_id, parts)?;
                let mut texts: Vec<&str> = parts
                    .iter()
                    .filter_map(|p| match p {
                        Part::Text(text) => Some(text.as_str()),
                        _ => None,
                    })
                    .collect();
                let images: Vec<&Part> = parts
                    .iter()
                    .filter(|p| matches!(p, Part::Image { .. }))
                    .collect();
                if !images.is_empty() {
                    texts.push(IMAGE_FOLLOWS);
                    result_images.push(json!({
                        "type": "text",
                        "text": format!("Image result of tool call {call_id}:"),
                    }));
                    result_images.extend(images.into_iter().map(content_part));
                }
                out.push(json!({
                    "role": "tool",
                    "tool_call_id": call_id,
                    "content": texts.join("\n"),
                }));
            }
            other => own.push(other),
        }
    }
    if !calls.is_empty() {
        let texts = own_texts(&own);
        let mut message = json!({"role": m.role.as_str(), "tool_calls": calls});
        message["content"] = if texts.is_empty() {
            Value::Null
        } else {
            Value::from(texts.join("\n"))
        };
        out.push(message);
        return Ok(());
    }
    if !result_images.is_empty() {
        result_images.extend(own.into_iter().map(content_part));
        out.push(json!({"role": "user", "content": result_images}));
        return Ok(());
    }
    if own.is_empty() && m.parts.iter().any(|p| matches!(p, Part::ToolResult { .. })) {
        // Only tool results: the tool messages say it all.
        return Ok(());
    }
    let has_image = own.iter().any(|p| matches!(p, Part::Image { .. }));
    let content = if has_image {
        Value::Array(own.into_iter().map(content_part).collect())
    } else {
        Value::from(own_texts(&own).join("\n"))
    };
    out.push(json!({"role": m.role.as_str(), "content": content}));
    Ok(())
}

fn own_texts<'a>(parts: &[&'a Part]) -> Vec<&'a str> {
    parts
        .iter()
        .filter_map(|p| match p {
            Part::Text(text) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// A text or image content part (other parts never reach here).
fn content_part(part: &Part) -> Value {
    match part {
        Part::Image { mime, data } => json!({
            "type": "image_url",
            "image_url": {
                "url": format!(
                    "data:{mime};base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(data)
                ),
            },
        }),
        Part::Text(text) => json!({"type": "text", "text": text}),
        Part::ToolCall(_) | Part::ToolResult { .. } => json!({"type": "text", "text": ""}),
    }
}

/// Reads a Chat Completions answer: the first choice's content (a string,
/// or an array of text parts as some servers send), its `tool_calls`, the
/// model, usage.
pub(crate) fn parse_response(body: &[u8]) -> Result<Response, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("response is not JSON: {e}"))?;
    let Some(choice) = value
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
    else {
        if value.get("error").is_some() {
            return Err(format!(
                "error object: {}",
                crate::http::error_message(body)
            ));
        }
        return Err("response has no choices".to_owned());
    };
    let message = choice
        .get("message")
        .ok_or_else(|| "first choice has no message".to_owned())?;
    let text = match message.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        Some(Value::Null) | None => message
            .get("refusal")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Some(_) => return Err("message content is neither text nor parts".to_owned()),
    };
    let tool_calls = match message.get("tool_calls") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(calls)) => calls
            .iter()
            .enumerate()
            .map(|(i, call)| tool_call(i, call))
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err("message tool_calls is not an array".to_owned()),
    };
    let model = value
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let usage = value.get("usage").filter(|u| u.is_object()).map(|u| Usage {
        input_tokens: crate::json_u32(u.get("prompt_tokens")),
        output_tokens: crate::json_u32(u.get("completion_tokens")),
    });
    Ok(Response {
        text,
        model,
        usage,
        tool_calls,
    })
}

/// The `index`th entry of `tool_calls` as a [`ToolCall`]. `type` must be
/// `function` when present; `function.name` a non-empty string;
/// `function.arguments` a string holding a JSON object (empty means `{}`),
/// or the object itself as some compatible servers send it. A missing id
/// (also seen on compatible servers) becomes `call_<index>`.
fn tool_call(index: usize, call: &Value) -> Result<ToolCall, String> {
    match call.get("type").and_then(Value::as_str) {
        None | Some("function") => {}
        Some(other) => return Err(format!("tool call {index} has unsupported type {other:?}")),
    }
    let id = call
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map_or_else(|| format!("call_{index}"), str::to_owned);
    let function = call
        .get("function")
        .filter(|f| f.is_object())
        .ok_or_else(|| format!("tool call {id:?} has no function object"))?;
    let name = function
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("tool call {id:?} has no function name"))?
        .to_owned();
    let input = match function.get("arguments") {
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) => Some(serde_json::from_str::<Value>(text).map_err(|e| {
            format!(
                "tool call {id:?} ({name}) has arguments that are not valid JSON: {e}: {}",
                crate::http::truncate_chars(text, 200)
            )
        })?),
        other => other.cloned(),
    };
    let input =
        tools::received_input(&id, input.as_ref()).map_err(|e| format!("{e} (function {name})"))?;
    Ok(ToolCall { id, name, input })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Message, Role};

    fn request() -> Request {
        Request {
            system: "sys".into(),
            messages: vec![
                Message::user_text("earlier"),
                Message::assistant_text("ok"),
                Message {
                    role: Role::User,
                    parts: vec![Part::text("look"), Part::jpeg(vec![0xff, 0xd8])],
                },
            ],
            max_tokens: 50,
            model: "llava".into(),
            temperature: None,
            ..Request::default()
        }
    }

    #[test]
    fn body_shape_compatible() {
        let body = request_body(&request(), "", OpenAiFlavor::Compatible).ok();
        let expected = json!({
            "model": "llava",
            "max_tokens": 50,
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": "earlier"},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9g="}},
                ]},
            ],
        });
        assert_eq!(body, Some(expected));
    }

    #[test]
    fn openai_uses_max_completion_tokens_and_needs_a_model() {
        let body = request_body(&request(), "", OpenAiFlavor::OpenAi).ok();
        assert_eq!(
            body.as_ref().and_then(|b| b.get("max_completion_tokens")),
            Some(&json!(50))
        );
        let mut req = request();
        req.model.clear();
        assert!(matches!(
            request_body(&req, "", OpenAiFlavor::Compatible),
            Err(LlmError::InvalidRequest(_))
        ));
    }

    #[test]
    fn responses_parse() {
        let ok = br#"{"id":"c","object":"chat.completion","model":"gpt-x",
            "choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}"#;
        assert_eq!(
            parse_response(ok),
            Ok(Response {
                text: "Hi".into(),
                model: "gpt-x".into(),
                usage: Some(Usage {
                    input_tokens: 9,
                    output_tokens: 1
                }),
                tool_calls: Vec::new(),
            })
        );
        let parts = br#"{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}]}"#;
        assert_eq!(parse_response(parts).map(|r| r.text), Ok("ab".to_owned()));
        assert!(parse_response(br#"{"choices":[]}"#).is_err());
        assert!(parse_response(br#"{"error":{"message":"nope"}}"#).is_err());
        assert!(parse_response(b"<html>").is_err());
    }

    #[test]
    fn image_results_and_own_parts_share_the_user_message() {
        let req = Request {
            messages: vec![
                Message {
                    role: Role::Assistant,
                    parts: vec![Part::ToolCall(ToolCall {
                        id: "c1".into(),
                        name: "snap".into(),
                        input: json!({}),
                    })],
                },
                Message {
                    role: Role::User,
                    parts: vec![
                        Part::text("Also this:"),
                        Part::tool_result("c1", vec![Part::jpeg(vec![0xff, 0xd8])]),
                        Part::jpeg(vec![0xff]),
                    ],
                },
            ],
            model: "m".into(),
            ..Request::default()
        };
        let body = request_body(&req, "", OpenAiFlavor::Compatible).ok();
        assert_eq!(
            body.as_ref().map(|b| &b["messages"]),
            Some(&json!([
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "snap", "arguments": "{}"}},
                ]},
                {"role": "tool", "tool_call_id": "c1", "content": IMAGE_FOLLOWS},
                {"role": "user", "content": [
                    {"type": "text", "text": "Image result of tool call c1:"},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9g="}},
                    {"type": "text", "text": "Also this:"},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/w=="}},
                ]},
            ]))
        );
        // No tools offered: no tools key.
        assert_eq!(body.as_ref().and_then(|b| b.get("tools")), None);
    }

    #[test]
    fn tool_call_types_other_than_function_are_refused() {
        let custom = br#"{"choices":[{"message":{"content":null,"tool_calls":[{"id":"x","type":"custom","custom":{"name":"a","input":"b"}}]}}]}"#;
        let err = parse_response(custom).err().unwrap_or_default();
        assert!(err.contains("unsupported type"), "{err}");
        let no_function =
            br#"{"choices":[{"message":{"tool_calls":[{"id":"x","type":"function"}]}}]}"#;
        assert!(parse_response(no_function).is_err());
        let empty = br#"{"choices":[{"message":{"content":"hi","tool_calls":[]}}]}"#;
        assert_eq!(
            parse_response(empty).map(|r| (r.text, r.tool_calls.len())),
            Ok(("hi".to_owned(), 0))
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let _ = parse_response(&bytes);
        }
    }
}

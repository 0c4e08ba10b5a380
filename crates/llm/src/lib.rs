//! LLM providers behind one trait.
//!
//! - [`Provider`]: `complete(Request) -> Response`, object safe, used as
//!   `Arc<dyn Provider>` by the note and commentary loops.
//! - [`AnthropicProvider`]: the Anthropic Messages API.
//! - [`OpenAiProvider`]: OpenAI Chat Completions, and any OpenAI-compatible
//!   server (Ollama, llama.cpp, vLLM) by base URL, with or without a key.
//! - [`OfflineProvider`]: no network; OCR notes and rule-based commentary.
//! - [`provider_from_settings`] and [`default_provider`]: the factory.
//! - [`ProviderSet`]: which provider serves a settings name (`noteProvider`,
//!   `commentaryProvider`); an unconfigured name is refused, never served by
//!   another provider.
//!
//! # HTTP behaviour
//!
//! Both HTTP providers go through `provider-http` (hyper 1 over
//! `tls-client`'s rustls: webpki roots, ring), over `https` or plain
//! `http` (local servers). Every attempt has a timeout
//! covering connect, send and the whole answer; failures that
//! [`LlmError::is_retryable`] (429 honouring `retry-after`, 5xx, timeouts,
//! connect and connection errors) are retried with exponential backoff per
//! [`RetryPolicy`]; 401/403 are [`LlmError::is_auth`] and never retried.
//! Answers are bounded (8 MiB), malformed JSON is an
//! [`HttpError::InvalidResponse`], and error messages never contain the API
//! key ([`ApiKey`] prints `[redacted]`; server messages are scrubbed).
//!
//! # Tool calling
//!
//! A request offers tools in [`Request::tools`] ([`ToolSpec`]: name,
//! description, JSON Schema of the input); with none, no tools are sent.
//! When the model calls some, [`Response::tool_calls`] lists them
//! ([`ToolCall`]: id, name, input object) and [`Response::text`] is often
//! empty. To answer, resend the conversation with
//! [`Response::assistant_message`] (text plus one [`Part::ToolCall`] per
//! call) and then a user message holding one [`Part::ToolResult`] per call
//! (`call_id` = the call's id; text and/or image parts). A tool call in a
//! user message, a tool result in an assistant message, anything but text
//! and images inside a tool result, an empty id, a tool call input that is
//! not a JSON object, or a bad tool list (names other than 1–64 of
//! `[A-Za-z0-9_-]`, duplicates, a schema that is not an object) is an
//! [`LlmError::InvalidRequest`]. On the wire:
//!
//! - **Anthropic**: `tools: [{name, description, input_schema}]`
//!   (`description` left out when empty); [`Part::ToolCall`] is a
//!   `{"type": "tool_use", id, name, input}` block; [`Part::ToolResult`] is
//!   a `{"type": "tool_result", tool_use_id, content: [text and image
//!   blocks]}` block (`content` left out when the result is empty), placed
//!   before the user message's other blocks as the API requires. Answers:
//!   every `tool_use` block becomes a [`ToolCall`] (`id` and `name` must be
//!   non-empty strings, `input` an object; a missing or `null` input is
//!   `{}`).
//! - **OpenAI and compatible servers**: `tools: [{"type": "function",
//!   "function": {name, description, parameters}}]`; an assistant message
//!   with tool calls is sent as `{"role": "assistant", "content": text or
//!   null, "tool_calls": [{id, "type": "function", "function": {name,
//!   arguments}}]}` with `arguments` the input as a JSON string. Each tool
//!   result becomes a `{"role": "tool", tool_call_id, content}` message
//!   whose content is the result's text parts joined by newlines. **Tool
//!   messages cannot carry images**, so a result with images adds the line
//!   `(The result image follows in the next user message.)` to its tool
//!   message, and after all of the message's tool messages comes one
//!   `user` message holding, per result with images, the text `Image
//!   result of tool call <id>:` and its `image_url` parts, followed by the
//!   user message's own parts. Answers: `choices[0].message.tool_calls`
//!   become [`ToolCall`]s; `function.arguments` must be a string holding a
//!   JSON object (an empty string is `{}`; an object instead of a string,
//!   as some compatible servers send, is accepted); a missing id becomes
//!   `call_<index>`.
//!
//! A tool call in an answer that breaks these rules (arguments that are not
//! valid JSON or not an object, no function name, a `type` other than
//! `function`, a `tool_use` block without id) makes the whole answer an
//! [`HttpError::InvalidResponse`] (not retried).
//!
//! # Offline conventions
//!
//! The offline provider decides what a request is from its
//! [`Request::kind`] ([`RequestKind`]), then, for note and chat requests,
//! from its shape; it never reads the system prompt:
//!
//! 0. **Snapshot tool call**: the request offers the tool [`SNAPSHOT_TOOL`]
//!    (`see_screenshare_snapshot`), carries no [`Part::ToolResult`] and no
//!    image, is a [`RequestKind::Chat`] (or `Note`) request, and the text
//!    of its last user message is about the screen
//!    ([`offline::is_about_the_screen`]: a word starting with `screen` or
//!    `look`, the words `see`, `seeing`, `showing`, `this`, or `on my`;
//!    case-insensitive). The reply has empty text and one [`ToolCall`]:
//!    id [`OFFLINE_TOOL_CALL_ID`] (`offline-1`), that tool, input `{}`.
//! 1. **Commentary request** ([`RequestKind::Commentary`]). The reply follows
//!    [`offline::commentary_text`]: speak on a scene cut, speak on new
//!    readable text, otherwise answer [`SKIP`] (`[SKIP]`). "Current text" is
//!    the OCR of the request's last image; with no image, it is the last
//!    non-empty line of the user text. "Previous text" is the rest of the
//!    user text (the notes and context the prompt carries): a word is new
//!    when it has 3+ letters and appears nowhere in it (case-insensitive);
//!    two new words are needed to speak.
//! 2. **Note request**: a note or chat request with an image, including an
//!    image in a [`Part::ToolResult`] (the snapshot the offline provider
//!    asked for is answered like a note). The last image is
//!    OCR'd with `tesseract stdin stdout -l eng` (Debian package
//!    `tesseract-ocr`; killed after [`OfflineConfig::ocr_timeout`]) and the
//!    reply is a short factual note ([`offline::note_text`]): `Screen text
//!    reads: "…".` with at most 30 words of cleaned OCR text, or `Screen
//!    shows no readable text.`, followed by the change metrics when the
//!    prompt carries them.
//! 3. **Recap request** ([`RequestKind::Recap`]). The
//!    reply is JSON `{"shouldStore", "recap"}` from the prompt's `Streamer:`
//!    line and newest readable note ([`offline::recap_text`]).
//! 4. **Summary request** ([`RequestKind::Summary`]).
//!    The reply joins the previous summary and the `- ` items to fold in,
//!    without repeats ([`offline::summary_text`]).
//! 5. **Tool result without an image**: the reply repeats the text of the
//!    last tool result ([`offline::tool_result_reply`]: `The snapshot tool
//!    says: …`).
//! 6. **Chat request with screen notes**: when the user text (tool results
//!    included) carries an offline note (`Screen text reads: "…".` or
//!    `Screen shows no readable text.`), the reply quotes the last one:
//!    `From my latest screen note: Screen text reads: "…".`
//!    ([`offline::chat_text`]).
//! 7. Anything else gets the fixed [`OFFLINE_CHAT_REPLY`].
//!
//! Change metrics are read from the user text by [`parse_metrics`]:
//! `change=0.42` or `change_score: 0.42` (or `42%`), and `scene_cut=true`;
//! the last occurrence of a key wins, so put the current frame's metrics
//! after the notes. Without a `scene_cut` key, the words "scene cut"
//! anywhere (not negated as "no scene cut") mark a cut. For commentary, a
//! change at or above [`OfflineConfig::cut_change_threshold`] (0.40) is a
//! cut too. The offline notes themselves never say "scene cut", so notes
//! quoted in a later prompt do not re-trigger the rule.
//!
//! # Models
//!
//! An empty [`Request::model`] means the provider's default model
//! ([`AnthropicConfig::default_model`], [`OpenAiConfig::default_model`]); an
//! OpenAI-compatible server has none, so its requests must name one.

mod anthropic;
mod error;
mod factory;
mod http;
pub mod offline;
mod openai;
mod registry;
mod tools;
mod types;

use std::future::Future;
use std::pin::Pin;

pub use anthropic::{
    ANTHROPIC_DEFAULT_BASE_URL, ANTHROPIC_DEFAULT_MODEL, ANTHROPIC_VERSION, AnthropicConfig,
    AnthropicProvider,
};
pub use error::LlmError;
pub use factory::{
    PROVIDER_KINDS, default_provider, default_provider_from_env, provider_from_settings,
};
pub use http::{DEFAULT_RETRY, RetryPolicy};
pub use offline::{
    ChangeMetrics, OFFLINE_CHAT_REPLY, OFFLINE_MODEL, OFFLINE_TOOL_CALL_ID, OfflineConfig,
    OfflineProvider, SKIP, SNAPSHOT_TOOL, parse_metrics,
};
pub use openai::{
    OPENAI_DEFAULT_BASE_URL, OPENAI_DEFAULT_MODEL, OpenAiConfig, OpenAiFlavor, OpenAiProvider,
};
pub use provider_http::{ApiKey, HttpError};
pub use registry::{ProviderSet, Unconfigured, XAI_DEFAULT_BASE_URL, provider_family};
pub use types::{Message, Part, Request, RequestKind, Response, Role, ToolCall, ToolSpec, Usage};

/// The future a [`Provider`] returns.
pub type CompletionFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Response, LlmError>> + Send + 'a>>;

/// A source of completions. Object safe; share it as `Arc<dyn Provider>`.
pub trait Provider: Send + Sync {
    /// Sends one request and waits for the whole answer (retries and
    /// timeouts included). Never panics; every failure is an [`LlmError`].
    fn complete(&self, req: Request) -> CompletionFuture<'_>;

    /// The provider kind: `anthropic`, `openai`, `openai-compatible` or
    /// `offline`.
    fn name(&self) -> &str;
}

/// The request's model, or the default when it names none.
pub(crate) fn choose_model<'a>(req: &'a Request, default: &'a str) -> Result<&'a str, LlmError> {
    let model = req.model.trim();
    let model = if model.is_empty() {
        default.trim()
    } else {
        model
    };
    if model.is_empty() {
        return Err(LlmError::InvalidRequest(
            "no model: set the request's model or the provider's default model".to_owned(),
        ));
    }
    Ok(model)
}

/// The request's temperature as JSON-friendly `f64` (3 decimals), when set
/// and finite.
pub(crate) fn temperature(req: &Request) -> Option<f64> {
    req.temperature
        .filter(|t| t.is_finite())
        .map(|t| (f64::from(t) * 1000.0).round() / 1000.0)
}

/// A JSON number as `u32` (0 when absent, negative or not a number).
pub(crate) fn json_u32(value: Option<&serde_json::Value>) -> u32 {
    value
        .and_then(serde_json::Value::as_u64)
        .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
        .unwrap_or(0)
}

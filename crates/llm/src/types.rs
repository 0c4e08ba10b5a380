//! The provider-neutral request and response vocabulary.

use std::fmt;

/// Who wrote a [`Message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The caller (prompt text, frames).
    User,
    /// The model (earlier replies kept as context).
    Assistant,
}

impl Role {
    /// The role's wire name, shared by both HTTP APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One piece of a message's content.
#[derive(Clone, PartialEq, Eq)]
pub enum Part {
    /// Plain text.
    Text(String),
    /// An encoded image (JPEG or PNG bytes) with its MIME type.
    Image {
        /// MIME type, e.g. `image/jpeg`.
        mime: String,
        /// The encoded image bytes (not base64).
        data: Vec<u8>,
    },
    /// A tool call the model made earlier ([`Response::tool_calls`]), sent
    /// back as context. Only valid in an [`Role::Assistant`] message.
    ToolCall(ToolCall),
    /// The result of a tool call, answering the [`ToolCall`] whose
    /// [`ToolCall::id`] is `call_id`. Only valid in a [`Role::User`]
    /// message; `parts` may hold [`Part::Text`] and [`Part::Image`] only.
    ToolResult {
        /// The [`ToolCall::id`] this result answers.
        call_id: String,
        /// The result: text and/or image parts (may be empty).
        parts: Vec<Part>,
    },
}

impl Part {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Part::Text(text.into())
    }

    /// A JPEG image part.
    pub fn jpeg(data: Vec<u8>) -> Self {
        Part::Image {
            mime: "image/jpeg".to_owned(),
            data,
        }
    }

    /// A tool result part answering the call `call_id`.
    pub fn tool_result(call_id: impl Into<String>, parts: Vec<Part>) -> Self {
        Part::ToolResult {
            call_id: call_id.into(),
            parts,
        }
    }

    /// This part followed by the parts nested in it (a tool result's text
    /// and images), in order.
    fn flatten<'a>(&'a self, out: &mut Vec<&'a Part>) {
        out.push(self);
        if let Part::ToolResult { parts, .. } = self {
            for part in parts {
                part.flatten(out);
            }
        }
    }
}

impl fmt::Debug for Part {
    // Images print their size, not their bytes, so that logging a request
    // stays readable.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Text(text) => f.debug_tuple("Text").field(text).finish(),
            Part::Image { mime, data } => f
                .debug_struct("Image")
                .field("mime", mime)
                .field("bytes", &data.len())
                .finish(),
            Part::ToolCall(call) => f.debug_tuple("ToolCall").field(call).finish(),
            Part::ToolResult { call_id, parts } => f
                .debug_struct("ToolResult")
                .field("call_id", call_id)
                .field("parts", parts)
                .finish(),
        }
    }
}

/// A tool the model may call: a name, what it does, and the JSON Schema of
/// its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolSpec {
    /// The tool's name: 1 to 64 ASCII letters, digits, `_` or `-` (what
    /// both APIs accept), unique within a request.
    pub name: String,
    /// What the tool does and when to use it (may be empty; then it is not
    /// sent).
    pub description: String,
    /// JSON Schema of the tool's input; must be a JSON object, e.g.
    /// `{"type": "object", "properties": {}}`.
    pub input_schema: serde_json::Value,
}

/// A call of a [`ToolSpec`] by the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// The provider's id of the call; a [`Part::ToolResult`] answering it
    /// carries the same id as `call_id`.
    pub id: String,
    /// The [`ToolSpec::name`] called.
    pub name: String,
    /// The input the model chose, a JSON object (`{}` when it gave none).
    pub input: serde_json::Value,
}

/// One turn of the conversation sent to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// Its content, in order.
    pub parts: Vec<Part>,
}

impl Message {
    /// A user message with one text part.
    pub fn user_text(text: impl Into<String>) -> Self {
        Message {
            role: Role::User,
            parts: vec![Part::text(text)],
        }
    }

    /// An assistant message with one text part.
    pub fn assistant_text(text: impl Into<String>) -> Self {
        Message {
            role: Role::Assistant,
            parts: vec![Part::text(text)],
        }
    }
}

/// Which of the agent's calls a request is. HTTP providers send the same
/// wire request whatever the kind (a model reads the prompt); the offline
/// provider answers by it (crate docs, "Offline conventions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RequestKind {
    /// A screen note from a frame.
    Note,
    /// A live-commentary turn: one remark, or `[SKIP]`.
    Commentary,
    /// A conversation turn, or any request that is none of the others.
    #[default]
    Chat,
    /// Folding items into the session summary (memory compaction).
    Summary,
    /// The recap of a screen share that ended.
    Recap,
}

/// One completion request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// Which call this is (default [`RequestKind::Chat`]).
    pub kind: RequestKind,
    /// The system prompt (may be empty).
    pub system: String,
    /// The conversation, oldest first.
    pub messages: Vec<Message>,
    /// Upper bound on the reply's tokens.
    pub max_tokens: u32,
    /// Model name; empty means the provider's configured default model.
    pub model: String,
    /// Sampling temperature; `None` leaves the provider's default.
    pub temperature: Option<f32>,
    /// Tools the model may call; empty sends no tools at all.
    pub tools: Vec<ToolSpec>,
}

impl Request {
    /// Every part of every message, tool result contents included (each
    /// right after its [`Part::ToolResult`]), in order.
    fn all_parts(&self) -> Vec<&Part> {
        let mut out = Vec::new();
        for part in self.messages.iter().flat_map(|m| m.parts.iter()) {
            part.flatten(&mut out);
        }
        out
    }

    /// Whether any message carries an image, inside a tool result or not
    /// (the offline provider treats such requests as note requests).
    pub fn has_image(&self) -> bool {
        self.all_parts()
            .iter()
            .any(|p| matches!(p, Part::Image { .. }))
    }

    /// The last image in the request (tool results included), if any.
    pub fn last_image(&self) -> Option<(&str, &[u8])> {
        self.all_parts()
            .into_iter()
            .filter_map(|p| match p {
                Part::Image { mime, data } => Some((mime.as_str(), data.as_slice())),
                _ => None,
            })
            .next_back()
    }

    /// Whether any message carries a [`Part::ToolResult`].
    pub fn has_tool_result(&self) -> bool {
        self.messages
            .iter()
            .flat_map(|m| m.parts.iter())
            .any(|p| matches!(p, Part::ToolResult { .. }))
    }

    /// The offered tool named `name`, if any.
    pub fn tool(&self, name: &str) -> Option<&ToolSpec> {
        self.tools.iter().find(|t| t.name == name)
    }

    /// All text parts of all user messages (tool result text included),
    /// joined by newlines.
    pub fn user_text(&self) -> String {
        let mut out = String::new();
        for message in self.messages.iter().filter(|m| m.role == Role::User) {
            let mut parts = Vec::new();
            for part in &message.parts {
                part.flatten(&mut parts);
            }
            for part in parts {
                if let Part::Text(text) = part {
                    if !out.is_empty() {
                        out.push('\n');
                    }
                    out.push_str(text);
                }
            }
        }
        out
    }
}

/// Token accounting reported by the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Prompt tokens (images included).
    pub input_tokens: u32,
    /// Reply tokens.
    pub output_tokens: u32,
}

/// A completion.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    /// The reply text (text blocks concatenated; often empty when the model
    /// calls tools).
    pub text: String,
    /// The model that answered, as reported by the provider.
    pub model: String,
    /// Token usage, when reported.
    pub usage: Option<Usage>,
    /// The tools the model called, in order; empty when it answered in
    /// text. Run them, then send a follow-up request with
    /// [`Response::assistant_message`] and a user message holding one
    /// [`Part::ToolResult`] per call.
    pub tool_calls: Vec<ToolCall>,
}

impl Response {
    /// This answer as an assistant message to keep in the conversation: its
    /// text (when not empty) followed by one [`Part::ToolCall`] per call.
    pub fn assistant_message(&self) -> Message {
        let mut parts = Vec::with_capacity(self.tool_calls.len() + 1);
        if !self.text.is_empty() {
            parts.push(Part::text(self.text.as_str()));
        }
        parts.extend(self.tool_calls.iter().cloned().map(Part::ToolCall));
        Message {
            role: Role::Assistant,
            parts,
        }
    }
}

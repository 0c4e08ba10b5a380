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
        }
    }
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

/// One completion request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
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
}

impl Request {
    /// Whether any message carries an image (the offline provider treats
    /// such requests as note requests).
    pub fn has_image(&self) -> bool {
        self.messages
            .iter()
            .flat_map(|m| m.parts.iter())
            .any(|p| matches!(p, Part::Image { .. }))
    }

    /// The last image in the request, if any.
    pub fn last_image(&self) -> Option<(&str, &[u8])> {
        self.messages
            .iter()
            .flat_map(|m| m.parts.iter())
            .filter_map(|p| match p {
                Part::Image { mime, data } => Some((mime.as_str(), data.as_slice())),
                Part::Text(_) => None,
            })
            .next_back()
    }

    /// All text parts of all user messages, joined by newlines.
    pub fn user_text(&self) -> String {
        let mut out = String::new();
        for part in self
            .messages
            .iter()
            .filter(|m| m.role == Role::User)
            .flat_map(|m| m.parts.iter())
        {
            if let Part::Text(text) = part {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(text);
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The reply text (text blocks concatenated).
    pub text: String,
    /// The model that answered, as reported by the provider.
    pub model: String,
    /// Token usage, when reported.
    pub usage: Option<Usage>,
}

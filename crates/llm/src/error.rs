//! The crate's one error type and its recovery policy.

use std::time::Duration;

pub use provider_http::HttpError;

/// Everything that can go wrong while asking a provider for a completion.
///
/// Messages never contain API keys: server error bodies are truncated and
/// scrubbed of the key before they land here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// The provider was configured wrongly (unknown kind, missing key, bad
    /// URL). Retrying does not help.
    #[error("invalid LLM provider configuration: {0}")]
    InvalidConfig(String),
    /// The request itself cannot be sent (e.g. no messages).
    #[error("invalid LLM request: {0}")]
    InvalidRequest(String),
    /// The exchange with the provider failed: no connection, a broken
    /// one, no answer within the timeout, a non-success status (429,
    /// 401/403, 5xx, any other) or a success with a body that is not the
    /// expected JSON. See [`HttpError`] for each kind.
    #[error(transparent)]
    Http(HttpError),
    /// The offline provider's OCR step failed (tesseract missing, crashed
    /// or timed out).
    #[error("offline OCR failed: {0}")]
    Ocr(String),
}

impl LlmError {
    /// Whether the same request may succeed when sent again later: rate
    /// limits, server errors, timeouts and connection failures.
    pub fn is_retryable(&self) -> bool {
        matches!(self, LlmError::Http(err) if err.is_retryable())
    }

    /// Whether the credentials are the problem: the caller should stop using
    /// this provider until its settings change.
    pub fn is_auth(&self) -> bool {
        matches!(self, LlmError::Http(err) if err.is_auth())
    }

    /// Whether the configuration is the problem (no use retrying until the
    /// settings change).
    pub fn is_config(&self) -> bool {
        matches!(self, LlmError::InvalidConfig(_))
    }

    /// How long the server asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::Http(err) => err.retry_after(),
            _ => None,
        }
    }

    /// The HTTP status behind the error, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            LlmError::Http(err) => err.status(),
            _ => None,
        }
    }
}

impl provider_http::retry::Retryable for LlmError {
    fn is_retryable(&self) -> bool {
        LlmError::is_retryable(self)
    }

    fn retry_after(&self) -> Option<Duration> {
        LlmError::retry_after(self)
    }
}

impl From<HttpError> for LlmError {
    /// Settings problems are this crate's [`LlmError::InvalidConfig`]; an
    /// answer above the size limit is a broken transfer, sent again like
    /// one; everything else is kept as it is.
    fn from(err: HttpError) -> Self {
        match err {
            HttpError::Config(message) => LlmError::InvalidConfig(message),
            HttpError::TooLarge { provider, limit } => LlmError::Http(HttpError::Transport {
                provider,
                message: format!("the answer is larger than {limit} bytes"),
            }),
            other => LlmError::Http(other),
        }
    }
}

//! The crate's one error type and its recovery policy.

use std::time::Duration;

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
    /// The TCP or TLS connection could not be established.
    #[error("cannot connect to {provider}: {message}")]
    Connect {
        /// Provider name.
        provider: String,
        /// What failed.
        message: String,
    },
    /// The connection failed after it was established (reset, closed early).
    #[error("{provider} connection failed: {message}")]
    Transport {
        /// Provider name.
        provider: String,
        /// What failed.
        message: String,
    },
    /// One attempt took longer than the configured timeout.
    #[error("{provider} did not answer within {}ms", timeout.as_millis())]
    Timeout {
        /// Provider name.
        provider: String,
        /// The per-attempt timeout that expired.
        timeout: Duration,
    },
    /// HTTP 429: too many requests.
    #[error("{provider} rate limited the request (HTTP 429): {message}")]
    RateLimited {
        /// Provider name.
        provider: String,
        /// The server's `retry-after`, when it sent one.
        retry_after: Option<Duration>,
        /// The server's message.
        message: String,
    },
    /// HTTP 401 or 403: the key is missing, wrong or not allowed.
    #[error("{provider} refused the credentials (HTTP {status}): {message}")]
    Auth {
        /// Provider name.
        provider: String,
        /// 401 or 403.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// HTTP 5xx (including Anthropic's 529 "overloaded").
    #[error("{provider} server error (HTTP {status}): {message}")]
    Server {
        /// Provider name.
        provider: String,
        /// The status code.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// Any other non-success status (400 bad request, 404 unknown model, …).
    #[error("{provider} rejected the request (HTTP {status}): {message}")]
    Api {
        /// Provider name.
        provider: String,
        /// The status code.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// A success status with a body that is not the expected JSON.
    #[error("{provider} sent an unusable response: {message}")]
    InvalidResponse {
        /// Provider name.
        provider: String,
        /// What was wrong with it.
        message: String,
    },
    /// The offline provider's OCR step failed (tesseract missing, crashed
    /// or timed out).
    #[error("offline OCR failed: {0}")]
    Ocr(String),
}

impl LlmError {
    /// Whether the same request may succeed when sent again later: rate
    /// limits, server errors, timeouts and connection failures.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            LlmError::Connect { .. }
                | LlmError::Transport { .. }
                | LlmError::Timeout { .. }
                | LlmError::RateLimited { .. }
                | LlmError::Server { .. }
        )
    }

    /// Whether the credentials are the problem: the caller should stop using
    /// this provider until its settings change.
    pub fn is_auth(&self) -> bool {
        matches!(self, LlmError::Auth { .. })
    }

    /// Whether the configuration is the problem (no use retrying until the
    /// settings change).
    pub fn is_config(&self) -> bool {
        matches!(self, LlmError::InvalidConfig(_))
    }

    /// How long the server asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status behind the error, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            LlmError::RateLimited { .. } => Some(429),
            LlmError::Auth { status, .. }
            | LlmError::Server { status, .. }
            | LlmError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

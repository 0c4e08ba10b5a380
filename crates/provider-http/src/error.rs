//! The crate's one error type: what went wrong talking to a provider's
//! HTTP API, classified, and the recovery policy of each kind.

use std::time::Duration;

use crate::ApiKey;
use crate::retry::{self, StatusClass};

/// How much of a server's error message is kept.
const MAX_ERROR_CHARS: usize = 300;

/// A failed exchange with a provider's HTTP API.
///
/// Messages never contain the API key: server error bodies are shortened
/// and scrubbed of the key before they land here. Provider crates wrap this
/// in their own error enum; the kinds they word themselves (`Config`, and
/// for some `Timeout` or `TooLarge`) they map to their own variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// A setting is unusable (base URL, zero timeout, TLS set-up, a key
    /// that cannot be a header). Retrying does not help.
    #[error("{0}")]
    Config(String),
    /// The TCP or TLS connection could not be established.
    #[error("cannot connect to {provider}: {message}")]
    Connect {
        /// Provider name.
        provider: String,
        /// What failed.
        message: String,
    },
    /// The connection failed after it was established (reset, closed
    /// early, the answer cut off).
    #[error("{provider} connection failed: {message}")]
    Transport {
        /// Provider name.
        provider: String,
        /// What failed.
        message: String,
    },
    /// One attempt (connect, send, the whole answer) took longer than the
    /// per-attempt timeout.
    #[error("{provider} did not answer within {}ms", timeout.as_millis())]
    Timeout {
        /// Provider name.
        provider: String,
        /// The per-attempt timeout that expired.
        timeout: Duration,
    },
    /// The answer was longer than the caller's limit.
    #[error("{provider} sent an answer larger than {limit} bytes")]
    TooLarge {
        /// Provider name.
        provider: String,
        /// The limit in bytes.
        limit: usize,
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
    /// HTTP 5xx (Anthropic's 529 "overloaded" included).
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
    /// A success status with a body that is not what was asked for (not
    /// the expected JSON, not audio); the provider crates' parsers say
    /// what was wrong. Not retried.
    #[error("{provider} sent an unusable response: {message}")]
    InvalidResponse {
        /// Provider name.
        provider: String,
        /// What was wrong with it.
        message: String,
    },
}

impl HttpError {
    /// The error for a non-success answer: its status class, the server's
    /// message from `body` (shortened, `key` scrubbed) and, for a 429, the
    /// wait its `Retry-After` asks for.
    pub fn from_status(
        provider: &str,
        status: u16,
        headers: &hyper::HeaderMap,
        body: &[u8],
        key: Option<&ApiKey>,
    ) -> Self {
        let mut message = retry::error_message(body, MAX_ERROR_CHARS);
        if let Some(key) = key {
            message = key.scrub(&message);
        }
        let provider = provider.to_owned();
        match retry::classify(status) {
            StatusClass::RateLimited => HttpError::RateLimited {
                provider,
                retry_after: retry::retry_after(headers),
                message,
            },
            StatusClass::Auth => HttpError::Auth {
                provider,
                status,
                message,
            },
            StatusClass::Server => HttpError::Server {
                provider,
                status,
                message,
            },
            StatusClass::Other => HttpError::Api {
                provider,
                status,
                message,
            },
        }
    }

    /// The error for a request hyper's client could not complete: `Connect`
    /// when no connection was made, else `Transport`.
    pub fn from_client_error(provider: &str, err: &hyper_util::client::legacy::Error) -> Self {
        let (message, is_connect) = retry::describe_client_error(err);
        let provider = provider.to_owned();
        if is_connect {
            HttpError::Connect { provider, message }
        } else {
            HttpError::Transport { provider, message }
        }
    }

    /// Whether the same request may succeed when sent again later: rate
    /// limits, server errors, timeouts and connection failures.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            HttpError::Connect { .. }
                | HttpError::Transport { .. }
                | HttpError::Timeout { .. }
                | HttpError::RateLimited { .. }
                | HttpError::Server { .. }
        )
    }

    /// Whether the credentials are the problem.
    pub fn is_auth(&self) -> bool {
        matches!(self, HttpError::Auth { .. })
    }

    /// How long the server asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            HttpError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status behind the error, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::RateLimited { .. } => Some(429),
            HttpError::Auth { status, .. }
            | HttpError::Server { status, .. }
            | HttpError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl retry::Retryable for HttpError {
    fn is_retryable(&self) -> bool {
        HttpError::is_retryable(self)
    }

    fn retry_after(&self) -> Option<Duration> {
        HttpError::retry_after(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    const KEY: &str = "sk-test-SECRET-0123456789";

    fn failure(status: u16, headers: &hyper::HeaderMap, body: &str) -> HttpError {
        HttpError::from_status(
            "p",
            status,
            headers,
            body.as_bytes(),
            Some(&ApiKey::new(KEY)),
        )
    }

    #[test]
    fn statuses_become_kinds_with_their_policy() {
        let none = hyper::HeaderMap::new();
        let mut wait = hyper::HeaderMap::new();
        wait.insert("retry-after", HeaderValue::from_static("2"));
        let limited = failure(429, &wait, r#"{"error":{"message":"slow down"}}"#);
        assert_eq!(
            limited,
            HttpError::RateLimited {
                provider: "p".into(),
                retry_after: Some(Duration::from_secs(2)),
                message: "slow down".into(),
            }
        );
        assert!(limited.is_retryable() && !limited.is_auth());
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(2)));
        assert_eq!(limited.status(), Some(429));

        let auth = failure(401, &none, &format!(r#"{{"error":"bad key {KEY}"}}"#));
        assert!(auth.is_auth() && !auth.is_retryable());
        assert_eq!(auth.status(), Some(401));
        assert_eq!(
            auth.to_string(),
            "p refused the credentials (HTTP 401): bad key [redacted]"
        );
        assert!(matches!(failure(403, &none, ""), HttpError::Auth { .. }));

        let server = failure(529, &none, "overloaded");
        assert!(matches!(server, HttpError::Server { status: 529, .. }));
        assert!(server.is_retryable());

        let api = failure(404, &none, r#"{"message":"no such model"}"#);
        assert_eq!(
            api.to_string(),
            "p rejected the request (HTTP 404): no such model"
        );
        assert!(!api.is_retryable() && !api.is_auth());
        assert_eq!(api.retry_after(), None);
    }

    #[test]
    fn other_kinds_and_their_policy() {
        let timeout = HttpError::Timeout {
            provider: "p".into(),
            timeout: Duration::from_millis(200),
        };
        assert!(timeout.is_retryable());
        assert_eq!(timeout.to_string(), "p did not answer within 200ms");
        assert_eq!(timeout.status(), None);
        let large = HttpError::TooLarge {
            provider: "p".into(),
            limit: 10,
        };
        assert!(!large.is_retryable());
        let garbage = HttpError::InvalidResponse {
            provider: "p".into(),
            message: "not JSON".into(),
        };
        assert!(!garbage.is_retryable() && !garbage.is_auth());
        assert_eq!(garbage.to_string(), "p sent an unusable response: not JSON");
        assert!(!HttpError::Config("x".into()).is_retryable());
        let refused = HttpError::Connect {
            provider: "p".into(),
            message: "refused".into(),
        };
        assert!(refused.is_retryable() && !refused.is_auth());
        let reset = HttpError::Transport {
            provider: "p".into(),
            message: "reset".into(),
        };
        assert!(reset.is_retryable() && !reset.is_auth());
    }
}

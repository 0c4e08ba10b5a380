//! The HTTP side of the hosted providers: their retry policy and
//! [`Hosted`], what each of them holds (API root, endpoint, key, headers,
//! the `provider-http` client) and how it sends one JSON request, retried
//! per the policy, and parses the answer.

use std::fmt;
use std::time::Duration;

use hyper::Uri;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use provider_http::{ApiClient, ApiKey, Caller, HttpError, Post};

use crate::error::LlmError;
use crate::types::Response;

/// Largest response body accepted (a completion is a few KiB).
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// How much of a server's error message is kept.
const MAX_ERROR_CHARS: usize = 300;
pub use provider_http::retry::RetryPolicy;

/// The hosted providers' retry policy unless configured otherwise: 3
/// attempts, 500 ms doubling up to 8 s, a server's `retry-after` honoured
/// up to 30 s.
pub const DEFAULT_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 3,
    initial_backoff: Duration::from_millis(500),
    max_backoff: Duration::from_secs(8),
    max_retry_after: Duration::from_secs(30),
};

/// A hosted provider's connection: its API root, the endpoint, its key
/// (scrubbed from every message), the headers sent with every request and
/// the HTTP client with its retry policy.
pub(crate) struct Hosted {
    base_url: String,
    endpoint: Uri,
    key: Option<ApiKey>,
    headers: Vec<(HeaderName, HeaderValue)>,
    client: ApiClient,
}

impl fmt::Debug for Hosted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hosted")
            .field("base_url", &self.base_url)
            .field("api_key", &self.key)
            .field("timeout", &self.client.timeout())
            .field("retry", &self.client.retry())
            .finish_non_exhaustive()
    }
}

impl Hosted {
    /// Checks `base_url` and joins `path` to it; `headers` (the key's
    /// among them) go with every request, after `Content-Type:
    /// application/json`. `provider` names it in errors and logs.
    pub(crate) fn new(
        provider: &str,
        base_url: &str,
        path: &str,
        key: Option<ApiKey>,
        headers: Vec<(HeaderName, HeaderValue)>,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<Self, LlmError> {
        let base_url = provider_http::normalize_base_url(base_url)?;
        let endpoint = provider_http::endpoint(&base_url, path)?;
        let caller = Caller {
            user_agent: concat!("llm-crate/", env!("CARGO_PKG_VERSION")),
            what: "LLM request",
        };
        let client = ApiClient::new(provider, timeout, retry, caller)?;
        let mut all = vec![(CONTENT_TYPE, HeaderValue::from_static("application/json"))];
        all.extend(headers);
        Ok(Hosted {
            base_url,
            endpoint,
            key,
            headers: all,
            client,
        })
    }

    /// The API root in use.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// POSTs `body` as JSON, retrying per the policy, and `parse`s the
    /// first 2xx answer; what `parse` refuses is an
    /// [`HttpError::InvalidResponse`] (with the key scrubbed).
    pub(crate) async fn call(
        &self,
        body: &serde_json::Value,
        parse: fn(&[u8]) -> Result<Response, String>,
    ) -> Result<Response, LlmError> {
        let body = serde_json::to_vec(body)
            .map_err(|e| LlmError::InvalidRequest(format!("cannot encode request: {e}")))?;
        let post = Post {
            uri: &self.endpoint,
            headers: &self.headers,
            body: body.into(),
            max_bytes: MAX_BODY_BYTES,
            key: self.key.as_ref(),
        };
        let answer = self.client.post::<LlmError>(&post).await?;
        parse(&answer.bytes).map_err(|message| {
            LlmError::Http(HttpError::InvalidResponse {
                provider: self.client.provider().to_owned(),
                message: match &self.key {
                    Some(key) => key.scrub(&message),
                    None => message,
                },
            })
        })
    }
}

/// A short message from an error body (see
/// [`provider_http::retry::error_message`]), at most `MAX_ERROR_CHARS` long.
pub(crate) fn error_message(body: &[u8]) -> String {
    provider_http::retry::error_message(body, MAX_ERROR_CHARS)
}

pub(crate) use provider_http::retry::truncate_chars;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_follows_the_error_kind() {
        let policy = RetryPolicy {
            max_attempts: 3,
            ..DEFAULT_RETRY
        };
        let limited = |secs| {
            LlmError::Http(HttpError::RateLimited {
                provider: "p".into(),
                retry_after: Some(Duration::from_secs(secs)),
                message: String::new(),
            })
        };
        assert_eq!(
            policy.delay_for(&limited(2), 1),
            Some(Duration::from_secs(2))
        );
        assert_eq!(policy.delay_for(&limited(2), 3), None);
        assert_eq!(policy.delay_for(&limited(3600), 1), None);
        let auth = LlmError::Http(HttpError::Auth {
            provider: "p".into(),
            status: 401,
            message: String::new(),
        });
        assert_eq!(policy.delay_for(&auth, 1), None);
        let server = LlmError::Http(HttpError::Server {
            provider: "p".into(),
            status: 503,
            message: String::new(),
        });
        assert_eq!(
            policy.delay_for(&server, 2),
            Some(policy.initial_backoff * 2)
        );
    }

    #[test]
    fn error_messages_are_extracted_and_bounded() {
        assert_eq!(
            error_message(br#"{"type":"error","error":{"type":"x","message":"bad key"}}"#),
            "bad key"
        );
        assert_eq!(
            error_message(br#"{"error":"model not found"}"#),
            "model not found"
        );
        assert_eq!(error_message(b""), "(empty body)");
        let long = "x".repeat(1000);
        assert_eq!(error_message(long.as_bytes()).chars().count(), 301);
        assert_eq!(error_message(&[0xff, 0xfe]), "\u{fffd}\u{fffd}");
    }
}

//! The HTTP side of the hosted providers: their retry defaults, and
//! `provider-http`'s client (the daemon's one TLS configuration, a
//! per-attempt timeout, bounded answers, retries) set up and called the
//! way speech requests go.

use std::time::Duration;

use hyper::Uri;
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use provider_http::{ApiClient, ApiKey, Caller, Post};

pub(crate) use provider_http::Answer;

use crate::error::SpeechError;

/// How much of a server's error message is kept.
const MAX_ERROR_CHARS: usize = 300;

pub use provider_http::retry::RetryPolicy;

/// The speech providers' retry policy unless configured otherwise: two
/// attempts (speech is interactive, a late answer is a useless one), 300 ms
/// doubling up to 2 s, a server's `retry-after` honoured up to 5 s.
pub const DEFAULT_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 2,
    initial_backoff: Duration::from_millis(300),
    max_backoff: Duration::from_secs(2),
    max_retry_after: Duration::from_secs(5),
};

/// One request body.
pub(crate) struct Body {
    pub content_type: String,
    pub bytes: Bytes,
}

/// A client for `provider` (its name in errors) with a per-attempt
/// `timeout` and the `retry` policy.
pub(crate) fn client(
    provider: &str,
    timeout: Duration,
    retry: RetryPolicy,
) -> Result<ApiClient, SpeechError> {
    let caller = Caller {
        user_agent: concat!("speech-crate/", env!("CARGO_PKG_VERSION")),
        what: "speech request",
    };
    Ok(ApiClient::new(provider, timeout, retry, caller)?)
}

/// POSTs `body` to `uri` (with `Authorization: Bearer <key>` when there is
/// a key), retrying per the client's policy; the first 2xx answer, at most
/// `max_bytes` long.
pub(crate) async fn post(
    client: &ApiClient,
    uri: &Uri,
    body: &Body,
    key: Option<&ApiKey>,
    max_bytes: usize,
) -> Result<Answer, SpeechError> {
    let content_type = HeaderValue::from_str(&body.content_type)
        .map_err(|e| SpeechError::InvalidInput(format!("cannot build the request: {e}")))?;
    let mut headers = vec![(CONTENT_TYPE, content_type)];
    if let Some(key) = key {
        headers.push((AUTHORIZATION, key.header("Bearer ")?));
    }
    let post = Post {
        uri,
        headers: &headers,
        body: body.bytes.clone(),
        max_bytes,
        key,
    };
    client.post(&post).await
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
    use crate::error::HttpError;

    #[test]
    fn retry_delays() {
        let policy = RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(150),
            max_retry_after: Duration::from_secs(2),
        };
        let server = SpeechError::Http(HttpError::Server {
            provider: "p".into(),
            status: 500,
            message: String::new(),
        });
        assert_eq!(
            policy.delay_for(&server, 1),
            Some(Duration::from_millis(100))
        );
        assert_eq!(
            policy.delay_for(&server, 2),
            Some(Duration::from_millis(150))
        );
        assert_eq!(policy.delay_for(&server, 3), None);
        let limited = |s| {
            SpeechError::Http(HttpError::RateLimited {
                provider: "p".into(),
                retry_after: Some(Duration::from_secs(s)),
                message: String::new(),
            })
        };
        assert_eq!(
            policy.delay_for(&limited(1), 1),
            Some(Duration::from_secs(1))
        );
        assert_eq!(policy.delay_for(&limited(60), 1), None);
        let auth = SpeechError::Http(HttpError::Auth {
            provider: "p".into(),
            status: 401,
            message: String::new(),
        });
        assert_eq!(policy.delay_for(&auth, 1), None);
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            error_message(br#"{"error":{"message":"bad file"}}"#),
            "bad file"
        );
        assert_eq!(error_message(br#"{"error":"no model"}"#), "no model");
        assert_eq!(error_message(b""), "(empty body)");
        assert_eq!(
            error_message("x".repeat(999).as_bytes()).chars().count(),
            301
        );
    }
}

//! The HTTP transport shared by the hosted providers: one hyper client per
//! provider (rustls with webpki roots and the ring provider, http and
//! https), a per-attempt timeout, bounded response bodies, status
//! classification and retries with exponential backoff.

use std::fmt;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use hyper::{Method, StatusCode, Uri};
use tls_client::retry::StatusClass;

use crate::error::LlmError;
use crate::key::ApiKey;

/// Largest response body accepted (a completion is a few KiB).
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// How much of a server's error message is kept.
const MAX_ERROR_CHARS: usize = 300;

/// When and how often a failed request is sent again.
///
/// Only errors with [`LlmError::is_retryable`] are retried. The wait before
/// retry `n` (1-based) is `initial_backoff × 2^(n-1)`, capped at
/// `max_backoff`; a 429's `retry-after` (or `retry-after-ms`) replaces it,
/// unless it exceeds `max_retry_after`, in which case the error is returned
/// at once (the caller's loop will come back later anyway).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included (at least 1 is made).
    pub max_attempts: u32,
    /// Wait before the first retry.
    pub initial_backoff: Duration,
    /// Upper bound on the exponential wait.
    pub max_backoff: Duration,
    /// Longest `retry-after` honoured.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries: one attempt only.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The exponential wait before retry number `retry` (1-based).
    pub fn backoff(&self, retry: u32) -> Duration {
        self.shared().backoff(retry)
    }

    /// The wait before sending again after `err` on attempt `attempt`
    /// (1-based), or `None` when the error is final.
    pub fn delay_after(&self, err: &LlmError, attempt: u32) -> Option<Duration> {
        self.shared()
            .delay_after(err.is_retryable(), err.retry_after(), attempt)
    }

    /// The same numbers for `tls_client::retry`.
    fn shared(&self) -> tls_client::retry::Backoff {
        tls_client::retry::Backoff {
            max_attempts: self.max_attempts,
            initial_backoff: self.initial_backoff,
            max_backoff: self.max_backoff,
            max_retry_after: self.max_retry_after,
        }
    }
}

/// Checks a base URL (`http` or `https`, with a host, no query) and returns
/// it without a trailing slash.
pub(crate) fn normalize_base_url(base_url: &str) -> Result<String, LlmError> {
    let trimmed = base_url.trim().trim_end_matches('/');
    let uri: Uri = trimmed
        .parse()
        .map_err(|e| LlmError::InvalidConfig(format!("base URL {trimmed:?} is not a URL: {e}")))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => {
            return Err(LlmError::InvalidConfig(format!(
                "base URL {trimmed:?} must start with http:// or https://"
            )));
        }
    }
    if uri.authority().is_none() {
        return Err(LlmError::InvalidConfig(format!(
            "base URL {trimmed:?} has no host"
        )));
    }
    if uri.query().is_some() {
        return Err(LlmError::InvalidConfig(format!(
            "base URL {trimmed:?} must not have a query"
        )));
    }
    Ok(trimmed.to_owned())
}

/// `base` (normalized) joined with `path` (starting with `/`).
pub(crate) fn endpoint(base: &str, path: &str) -> Result<Uri, LlmError> {
    let joined = format!("{base}{path}");
    joined
        .parse()
        .map_err(|e| LlmError::InvalidConfig(format!("endpoint {joined:?} is not a URL: {e}")))
}

/// A header value holding a secret, marked sensitive so hyper never logs it.
pub(crate) fn secret_header(prefix: &str, key: &ApiKey) -> Result<HeaderValue, LlmError> {
    let mut value = HeaderValue::from_str(&format!("{prefix}{}", key.expose())).map_err(|_| {
        LlmError::InvalidConfig(
            "API key contains characters that are not allowed in an HTTP header".to_owned(),
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// One provider's HTTP client.
pub(crate) struct HttpClient {
    client: tls_client::HttpsClient<Full<Bytes>>,
    provider: String,
    timeout: Duration,
    retry: RetryPolicy,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("provider", &self.provider)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client for `provider` (its name, used in errors) with a per-attempt
    /// `timeout`.
    pub(crate) fn new(
        provider: &str,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<Self, LlmError> {
        if timeout.is_zero() {
            return Err(LlmError::InvalidConfig("timeout must be above zero".into()));
        }
        // The daemon's one TLS configuration (webpki roots plus its
        // --extra-ca-file), installed at start.
        let client = tls_client::TlsClient::global()
            .map_err(|e| LlmError::InvalidConfig(format!("TLS set-up failed: {e}")))?
            .https_client(Some(timeout));
        Ok(HttpClient {
            client,
            provider: provider.to_owned(),
            timeout,
            retry,
        })
    }

    /// The per-attempt timeout.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The retry policy.
    pub(crate) fn retry(&self) -> RetryPolicy {
        self.retry
    }

    /// POSTs `body` (JSON) to `uri` with `headers`, retrying per the policy,
    /// and returns the body of the first 2xx answer. `key` is scrubbed from
    /// every error message.
    pub(crate) async fn post_json(
        &self,
        uri: &Uri,
        headers: &[(HeaderName, HeaderValue)],
        body: Bytes,
        key: Option<&ApiKey>,
    ) -> Result<Bytes, LlmError> {
        tls_client::retry::run(
            &self.provider,
            "LLM request",
            || self.attempt(uri, headers, body.clone(), key),
            |err, attempt| self.retry.delay_after(err, attempt),
        )
        .await
    }

    async fn attempt(
        &self,
        uri: &Uri,
        headers: &[(HeaderName, HeaderValue)],
        body: Bytes,
        key: Option<&ApiKey>,
    ) -> Result<Bytes, LlmError> {
        let mut builder = hyper::Request::builder()
            .method(Method::POST)
            .uri(uri.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("llm-crate/", env!("CARGO_PKG_VERSION")));
        for (name, value) in headers {
            builder = builder.header(name, value.clone());
        }
        let request = builder
            .body(Full::new(body))
            .map_err(|e| LlmError::InvalidRequest(format!("cannot build HTTP request: {e}")))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| self.client_error(&e))?;
            let (parts, incoming) = response.into_parts();
            let bytes = Limited::new(incoming, MAX_BODY_BYTES)
                .collect()
                .await
                .map_err(|e| LlmError::Transport {
                    provider: self.provider.clone(),
                    message: format!("reading the response body failed: {e}"),
                })?
                .to_bytes();
            Ok::<_, LlmError>((parts.status, parts.headers, bytes))
        };
        let (status, headers, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| LlmError::Timeout {
                provider: self.provider.clone(),
                timeout: self.timeout,
            })??;
        if status.is_success() {
            return Ok(bytes);
        }
        Err(self.status_error(status, &headers, &bytes, key))
    }

    fn client_error(&self, err: &hyper_util::client::legacy::Error) -> LlmError {
        let (message, is_connect) = tls_client::retry::describe_client_error(err);
        if is_connect {
            LlmError::Connect {
                provider: self.provider.clone(),
                message,
            }
        } else {
            LlmError::Transport {
                provider: self.provider.clone(),
                message,
            }
        }
    }

    fn status_error(
        &self,
        status: StatusCode,
        headers: &hyper::HeaderMap,
        body: &[u8],
        key: Option<&ApiKey>,
    ) -> LlmError {
        let mut message = error_message(body);
        if let Some(key) = key {
            message = key.scrub(&message);
        }
        let provider = self.provider.clone();
        let code = status.as_u16();
        match tls_client::retry::classify(code) {
            StatusClass::RateLimited => LlmError::RateLimited {
                provider,
                retry_after: tls_client::retry::retry_after(headers),
                message,
            },
            StatusClass::Auth => LlmError::Auth {
                provider,
                status: code,
                message,
            },
            StatusClass::Server => LlmError::Server {
                provider,
                status: code,
                message,
            },
            StatusClass::Other => LlmError::Api {
                provider,
                status: code,
                message,
            },
        }
    }
}

/// A short message from an error body (see
/// [`tls_client::retry::error_message`]), at most `MAX_ERROR_CHARS` long.
pub(crate) fn error_message(body: &[u8]) -> String {
    tls_client::retry::error_message(body, MAX_ERROR_CHARS)
}

pub(crate) use tls_client::retry::truncate_chars;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(700),
            max_retry_after: Duration::from_secs(5),
        };
        assert_eq!(policy.backoff(1), Duration::from_millis(100));
        assert_eq!(policy.backoff(2), Duration::from_millis(200));
        assert_eq!(policy.backoff(3), Duration::from_millis(400));
        assert_eq!(policy.backoff(4), Duration::from_millis(700));
        assert_eq!(policy.backoff(u32::MAX), Duration::from_millis(700));
    }

    #[test]
    fn delay_follows_the_error_kind() {
        let policy = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        let limited = |secs| LlmError::RateLimited {
            provider: "p".into(),
            retry_after: Some(Duration::from_secs(secs)),
            message: String::new(),
        };
        assert_eq!(
            policy.delay_after(&limited(2), 1),
            Some(Duration::from_secs(2))
        );
        assert_eq!(policy.delay_after(&limited(2), 3), None);
        assert_eq!(policy.delay_after(&limited(3600), 1), None);
        let auth = LlmError::Auth {
            provider: "p".into(),
            status: 401,
            message: String::new(),
        };
        assert_eq!(policy.delay_after(&auth, 1), None);
        let server = LlmError::Server {
            provider: "p".into(),
            status: 503,
            message: String::new(),
        };
        assert_eq!(
            policy.delay_after(&server, 2),
            Some(policy.initial_backoff * 2)
        );
    }

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(
            normalize_base_url("https://api.openai.com/v1/").ok(),
            Some("https://api.openai.com/v1".to_owned())
        );
        assert!(normalize_base_url("localhost:11434").is_err());
        assert!(normalize_base_url("ftp://x").is_err());
        assert!(normalize_base_url("http://x/?a=b").is_err());
        assert!(normalize_base_url("").is_err());
        assert!(normalize_base_url("not a url").is_err());
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

//! The HTTP transport of the hosted providers: the daemon's one TLS client
//! configuration (`tls-client`), a per-attempt timeout, bounded answers,
//! status classification and retries with exponential backoff.

use std::fmt;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper::{Method, StatusCode, Uri};
use tls_client::retry::StatusClass;

use crate::error::SpeechError;
use crate::secret::Secret;

/// How much of a server's error message is kept.
const MAX_ERROR_CHARS: usize = 300;

/// When and how often a failed request is sent again.
///
/// Only errors with [`SpeechError::is_retryable`] are retried. The wait
/// before retry `n` (1-based) is `initial_backoff × 2^(n-1)`, capped at
/// `max_backoff`; a 429's `retry-after` replaces it unless it exceeds
/// `max_retry_after` (then the error is returned at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (at least 1 is made).
    pub max_attempts: u32,
    /// Wait before the first retry.
    pub initial_backoff: Duration,
    /// Upper bound on the exponential wait.
    pub max_backoff: Duration,
    /// Longest `retry-after` honoured.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// Two attempts: speech is interactive, a late answer is a useless one.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(300),
            max_backoff: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before sending again after `err` on attempt `attempt`
    /// (1-based), or `None` when the error is final.
    pub fn delay_after(&self, err: &SpeechError, attempt: u32) -> Option<Duration> {
        tls_client::retry::Backoff {
            max_attempts: self.max_attempts,
            initial_backoff: self.initial_backoff,
            max_backoff: self.max_backoff,
            max_retry_after: self.max_retry_after,
        }
        .delay_after(err.is_retryable(), err.retry_after(), attempt)
    }
}

/// Checks a base URL (`http` or `https`, a host, no query) and returns it
/// without a trailing slash.
pub(crate) fn normalize_base_url(base_url: &str) -> Result<String, SpeechError> {
    let trimmed = base_url.trim().trim_end_matches('/');
    let bad = |m: String| SpeechError::InvalidConfig(m);
    let uri: Uri = trimmed
        .parse()
        .map_err(|e| bad(format!("base URL {trimmed:?} is not a URL: {e}")))?;
    if !matches!(uri.scheme_str(), Some("http") | Some("https")) {
        return Err(bad(format!(
            "base URL {trimmed:?} must start with http:// or https://"
        )));
    }
    if uri.authority().is_none() {
        return Err(bad(format!("base URL {trimmed:?} has no host")));
    }
    if uri.query().is_some() {
        return Err(bad(format!("base URL {trimmed:?} must not have a query")));
    }
    Ok(trimmed.to_owned())
}

/// `base` (normalized) joined with `path`.
pub(crate) fn endpoint(base: &str, path: &str) -> Result<Uri, SpeechError> {
    let joined = format!("{base}{path}");
    joined
        .parse()
        .map_err(|e| SpeechError::InvalidConfig(format!("endpoint {joined:?} is not a URL: {e}")))
}

/// One request body.
pub(crate) struct Body {
    pub content_type: String,
    pub bytes: Bytes,
}

/// A successful answer.
pub(crate) struct Answer {
    pub content_type: Option<String>,
    pub bytes: Bytes,
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
    /// A client for `provider` (its name in errors) with a per-attempt
    /// `timeout`.
    pub(crate) fn new(
        provider: &str,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<Self, SpeechError> {
        if timeout.is_zero() {
            return Err(SpeechError::InvalidConfig(
                "timeout must be above zero".into(),
            ));
        }
        // The daemon's one TLS configuration (webpki roots plus its
        // --extra-ca-file), installed at start.
        let client = tls_client::TlsClient::global()
            .map_err(|e| SpeechError::InvalidConfig(format!("TLS set-up failed: {e}")))?
            .https_client(Some(timeout));
        Ok(HttpClient {
            client,
            provider: provider.to_owned(),
            timeout,
            retry,
        })
    }

    /// POSTs `body` to `uri` (with `Authorization: Bearer <key>` when there
    /// is a key), retrying per the policy; the body of the first 2xx
    /// answer, at most `max_bytes` long.
    pub(crate) async fn post(
        &self,
        uri: &Uri,
        body: &Body,
        key: Option<&Secret>,
        max_bytes: usize,
    ) -> Result<Answer, SpeechError> {
        tls_client::retry::run(
            &self.provider,
            "speech request",
            || self.attempt(uri, body, key, max_bytes),
            |err, attempt| self.retry.delay_after(err, attempt),
        )
        .await
    }

    async fn attempt(
        &self,
        uri: &Uri,
        body: &Body,
        key: Option<&Secret>,
        max_bytes: usize,
    ) -> Result<Answer, SpeechError> {
        let mut builder = hyper::Request::builder()
            .method(Method::POST)
            .uri(uri.clone())
            .header(CONTENT_TYPE, &body.content_type)
            .header(
                USER_AGENT,
                concat!("speech-crate/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(key) = key {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| {
                    SpeechError::InvalidConfig(
                        "API key has characters not allowed in an HTTP header".into(),
                    )
                })?;
            value.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, value);
        }
        let request = builder
            .body(Full::new(body.bytes.clone()))
            .map_err(|e| SpeechError::InvalidInput(format!("cannot build the request: {e}")))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| self.client_error(&e))?;
            let (parts, incoming) = response.into_parts();
            let bytes = Limited::new(incoming, max_bytes)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        SpeechError::InvalidResponse {
                            provider: self.provider.clone(),
                            message: format!("the answer is larger than {max_bytes} bytes"),
                        }
                    } else {
                        SpeechError::Transport {
                            provider: self.provider.clone(),
                            message: format!("reading the answer failed: {e}"),
                        }
                    }
                })?
                .to_bytes();
            Ok::<_, SpeechError>((parts.status, parts.headers, bytes))
        };
        let (status, headers, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| SpeechError::Timeout {
                provider: self.provider.clone(),
                timeout: self.timeout,
            })??;
        if status.is_success() {
            let content_type = headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            return Ok(Answer {
                content_type,
                bytes,
            });
        }
        Err(self.status_error(status, &headers, &bytes, key))
    }

    fn client_error(&self, err: &hyper_util::client::legacy::Error) -> SpeechError {
        let (message, is_connect) = tls_client::retry::describe_client_error(err);
        let provider = self.provider.clone();
        if is_connect {
            SpeechError::Connect { provider, message }
        } else {
            SpeechError::Transport { provider, message }
        }
    }

    fn status_error(
        &self,
        status: StatusCode,
        headers: &hyper::HeaderMap,
        body: &[u8],
        key: Option<&Secret>,
    ) -> SpeechError {
        let mut message = error_message(body);
        if let Some(key) = key {
            message = key.scrub(&message);
        }
        let provider = self.provider.clone();
        let code = status.as_u16();
        match tls_client::retry::classify(code) {
            StatusClass::RateLimited => SpeechError::RateLimited {
                provider,
                retry_after: tls_client::retry::retry_after(headers),
                message,
            },
            StatusClass::Auth => SpeechError::Auth {
                provider,
                status: code,
                message,
            },
            StatusClass::Server => SpeechError::Server {
                provider,
                status: code,
                message,
            },
            StatusClass::Other => SpeechError::Api {
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
    fn retry_delays() {
        let policy = RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(150),
            max_retry_after: Duration::from_secs(2),
        };
        let server = SpeechError::Server {
            provider: "p".into(),
            status: 500,
            message: String::new(),
        };
        assert_eq!(
            policy.delay_after(&server, 1),
            Some(Duration::from_millis(100))
        );
        assert_eq!(
            policy.delay_after(&server, 2),
            Some(Duration::from_millis(150))
        );
        assert_eq!(policy.delay_after(&server, 3), None);
        let limited = |s| SpeechError::RateLimited {
            provider: "p".into(),
            retry_after: Some(Duration::from_secs(s)),
            message: String::new(),
        };
        assert_eq!(
            policy.delay_after(&limited(1), 1),
            Some(Duration::from_secs(1))
        );
        assert_eq!(policy.delay_after(&limited(60), 1), None);
        let auth = SpeechError::Auth {
            provider: "p".into(),
            status: 401,
            message: String::new(),
        };
        assert_eq!(policy.delay_after(&auth, 1), None);
    }

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(
            normalize_base_url("https://api.openai.com/v1/").ok(),
            Some("https://api.openai.com/v1".to_owned())
        );
        for bad in [
            "",
            "localhost:8000",
            "ftp://x",
            "http://x/?a=b",
            "not a url",
        ] {
            assert!(normalize_base_url(bad).is_err(), "{bad:?}");
        }
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

//! POSTs to a provider's HTTP API: the daemon's one HTTPS client
//! configuration (`tls-client`), a per-attempt deadline over the whole
//! exchange, a bounded answer, a classified error, and retries per the
//! provider's policy; plus the checks on where requests go (base URL,
//! endpoint).

use std::fmt;
use std::time::Duration;

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use hyper::{Method, Uri};

use crate::retry::{self, RetryPolicy, Retryable};
use crate::{ApiKey, HttpError};

/// A successful (2xx) answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Its `Content-Type`, when it sent a readable one.
    pub content_type: Option<String>,
    /// Its body (at most the limit the caller gave).
    pub bytes: Bytes,
}

/// One POST: where, with which headers (the content type among them) and
/// body, how large an answer may be, and the key to scrub from error
/// messages.
#[derive(Debug, Clone)]
pub struct Post<'a> {
    /// The endpoint.
    pub uri: &'a Uri,
    /// Headers besides `User-Agent`.
    pub headers: &'a [(HeaderName, HeaderValue)],
    /// The body.
    pub body: Bytes,
    /// The largest answer accepted, in bytes.
    pub max_bytes: usize,
    /// The API key, when one is sent.
    pub key: Option<&'a ApiKey>,
}

/// What a provider crate says about its requests: its `User-Agent` and
/// what a request is called in retry warnings ("LLM request").
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    /// The `User-Agent` header value.
    pub user_agent: &'static str,
    /// The name of one request in logs.
    pub what: &'static str,
}

/// One provider's HTTP client.
pub struct ApiClient {
    client: tls_client::HttpsClient<Full<Bytes>>,
    provider: String,
    timeout: Duration,
    retry: RetryPolicy,
    caller: Caller,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("provider", &self.provider)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// A client for `provider` (its name in errors and logs) with a
    /// per-attempt `timeout` and the `retry` policy. Uses the daemon's one
    /// TLS configuration (webpki roots plus its `--extra-ca-file`),
    /// installed at start.
    pub fn new(
        provider: &str,
        timeout: Duration,
        retry: RetryPolicy,
        caller: Caller,
    ) -> Result<Self, HttpError> {
        if timeout.is_zero() {
            return Err(HttpError::Config("timeout must be above zero".into()));
        }
        let client = tls_client::TlsClient::global()
            .map_err(|e| HttpError::Config(format!("TLS set-up failed: {e}")))?
            .https_client(Some(timeout));
        Ok(ApiClient {
            client,
            provider: provider.to_owned(),
            timeout,
            retry,
            caller,
        })
    }

    /// The provider's name.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The retry policy.
    pub fn retry(&self) -> RetryPolicy {
        self.retry
    }

    /// [`Self::post_once`], sent again per the retry policy while the
    /// failure, as the caller's error `E`, is retryable; each retry is
    /// logged as a warning.
    pub async fn post<E>(&self, post: &Post<'_>) -> Result<Answer, E>
    where
        E: From<HttpError> + Retryable + fmt::Display,
    {
        retry::run(
            &self.provider,
            self.caller.what,
            || async { self.post_once(post).await.map_err(E::from) },
            |err, attempt| self.retry.delay_for(err, attempt),
        )
        .await
    }

    /// Sends `post` once, within the timeout, and returns a 2xx answer of
    /// at most `post.max_bytes`. Any other status is classified
    /// ([`HttpError::from_status`]) with the key scrubbed from its message.
    pub async fn post_once(&self, post: &Post<'_>) -> Result<Answer, HttpError> {
        let (key, max_bytes) = (post.key, post.max_bytes);
        let mut request = hyper::Request::new(Full::new(post.body.clone()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = post.uri.clone();
        let sent = request.headers_mut();
        sent.insert(USER_AGENT, HeaderValue::from_static(self.caller.user_agent));
        for (name, value) in post.headers {
            sent.append(name, value.clone());
        }
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| HttpError::from_client_error(&self.provider, &e))?;
            let (parts, incoming) = response.into_parts();
            let bytes = Limited::new(incoming, max_bytes)
                .collect()
                .await
                .map_err(|e| self.body_error(&*e, max_bytes))?
                .to_bytes();
            Ok::<_, HttpError>((parts.status, parts.headers, bytes))
        };
        let (status, headers, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| HttpError::Timeout {
                provider: self.provider.clone(),
                timeout: self.timeout,
            })??;
        if !status.is_success() {
            return Err(HttpError::from_status(
                &self.provider,
                status.as_u16(),
                &headers,
                &bytes,
                key,
            ));
        }
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Answer {
            content_type,
            bytes,
        })
    }

    fn body_error(
        &self,
        err: &(dyn std::error::Error + Send + Sync + 'static),
        limit: usize,
    ) -> HttpError {
        let provider = self.provider.clone();
        if err.is::<LengthLimitError>() {
            HttpError::TooLarge { provider, limit }
        } else {
            HttpError::Transport {
                provider,
                message: format!("reading the answer failed: {err}"),
            }
        }
    }
}

/// Checks a base URL (`http` or `https`, with a host, no query) and returns
/// it without a trailing slash.
pub fn normalize_base_url(base_url: &str) -> Result<String, HttpError> {
    let trimmed = base_url.trim().trim_end_matches('/');
    let bad = |m: String| HttpError::Config(m);
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

/// `base` (normalized) joined with `path` (starting with `/`).
pub fn endpoint(base: &str, path: &str) -> Result<Uri, HttpError> {
    let joined = format!("{base}{path}");
    joined
        .parse()
        .map_err(|e| HttpError::Config(format!("endpoint {joined:?} is not a URL: {e}")))
}

#[cfg(test)]
mod tests;

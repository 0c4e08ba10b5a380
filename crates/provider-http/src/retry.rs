//! The retry rules the hosted providers share (LLM and speech):
//! exponential backoff, a server's `Retry-After`, the class of a
//! non-success status, the message of an error body, and the send-again
//! loop. Each crate keeps its own error enum and policy defaults; this is
//! only the arithmetic and the loop.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

/// When and how often a failed request is sent again. Each provider
/// crate has its own defaults (`llm::DEFAULT_RETRY`,
/// `speech::DEFAULT_RETRY`).
///
/// Only errors that are [`Retryable::is_retryable`] are retried. The wait
/// before retry `n` (1-based) is `initial_backoff × 2^(n-1)`, capped at
/// `max_backoff`; a server's `retry-after` replaces it, unless it exceeds
/// `max_retry_after`, in which case the error is returned at once (the
/// caller's loop will come back later anyway).
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

impl RetryPolicy {
    /// The same policy with one attempt only: no retries.
    pub fn none(self) -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..self
        }
    }

    /// The exponential wait before retry number `retry` (1-based).
    pub fn backoff(&self, retry: u32) -> Duration {
        let shift = retry.saturating_sub(1).min(20);
        self.initial_backoff
            .saturating_mul(1u32 << shift)
            .min(self.max_backoff)
    }

    /// The wait before sending again after a failure on attempt `attempt`
    /// (1-based), or `None` when the failure is final: not `retryable`, the
    /// attempts are used up, or the server asked (`retry_after`) for a
    /// longer wait than `max_retry_after`.
    pub fn delay_after(
        &self,
        retryable: bool,
        retry_after: Option<Duration>,
        attempt: u32,
    ) -> Option<Duration> {
        if !retryable || attempt >= self.max_attempts {
            return None;
        }
        match retry_after {
            Some(wait) if wait > self.max_retry_after => None,
            Some(wait) => Some(wait),
            None => Some(self.backoff(attempt)),
        }
    }

    /// The wait before sending again after `err` on attempt `attempt`
    /// (1-based), or `None` when the error is final.
    pub fn delay_for<E: Retryable>(&self, err: &E, attempt: u32) -> Option<Duration> {
        self.delay_after(err.is_retryable(), err.retry_after(), attempt)
    }
}

/// What the retry rules need to know of an error.
pub trait Retryable {
    /// Whether the same request may succeed when sent again later.
    fn is_retryable(&self) -> bool;
    /// How long the server asked to wait, if it said.
    fn retry_after(&self) -> Option<Duration>;
}

/// Runs `attempt` until it succeeds or `delay_after` (given the error and
/// the 1-based attempt number) says the error is final, sleeping the wait it
/// returns in between. Each retry is logged as a warning naming `provider`
/// and `what` (for example "LLM request").
pub async fn run<T, E, F, Fut>(
    provider: &str,
    what: &str,
    mut attempt: F,
    delay_after: impl Fn(&E, u32) -> Option<Duration>,
) -> Result<T, E>
where
    E: Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut number = 1u32;
    loop {
        let err = match attempt().await {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        let Some(wait) = delay_after(&err, number) else {
            return Err(err);
        };
        tracing::warn!(
            provider,
            attempt = number,
            wait_ms = wait.as_millis() as u64,
            error = %err,
            "{what} failed; retrying"
        );
        tokio::time::sleep(wait).await;
        number += 1;
    }
}

/// What a non-success HTTP status means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// 429: too many requests (retry, honouring `retry-after`).
    RateLimited,
    /// 401 or 403: the credentials are the problem.
    Auth,
    /// 5xx (Anthropic's 529 "overloaded" included).
    Server,
    /// Anything else (400 bad request, 404 unknown model, ...).
    Other,
}

/// The class of a non-success status code.
pub fn classify(status: u16) -> StatusClass {
    match status {
        429 => StatusClass::RateLimited,
        401 | 403 => StatusClass::Auth,
        500..=599 => StatusClass::Server,
        _ => StatusClass::Other,
    }
}

/// The wait a 429 asks for: `retry-after-ms` (milliseconds) or `retry-after`
/// (seconds, possibly fractional), at most a day. HTTP dates and negative
/// or non-numeric values are ignored (the backoff applies instead).
pub fn retry_after(headers: &hyper::HeaderMap) -> Option<Duration> {
    let parse = |name: &str| -> Option<f64> {
        let value = headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()?;
        (value.is_finite() && value >= 0.0).then_some(value)
    };
    if let Some(ms) = parse("retry-after-ms") {
        return Some(Duration::from_secs_f64((ms / 1000.0).min(86_400.0)));
    }
    parse("retry-after").map(|s| Duration::from_secs_f64(s.min(86_400.0)))
}

/// A short message from a non-success answer's body: `error.message`
/// (OpenAI, Anthropic), `error` as a string (some OpenAI-compatible
/// servers), `message`, or the raw body; whitespace collapsed, at most
/// `max_chars` characters.
pub fn error_message(body: &[u8], max_chars: usize) -> String {
    let from_json = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let error = v.get("error");
            error
                .and_then(|e| e.get("message"))
                .and_then(|m| m.as_str())
                .or_else(|| error.and_then(|e| e.as_str()))
                .or_else(|| v.get("message").and_then(|m| m.as_str()))
                .map(str::to_owned)
        });
    let text = from_json.unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    truncate_chars(&text, max_chars)
}

/// `text` cut to at most `max` characters (with an ellipsis when cut).
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max).collect();
    out.push('…');
    out
}

/// A hyper client error as one line (the error and its causes, joined with
/// `: `), and whether the connection could not be made at all.
pub fn describe_client_error(err: &hyper_util::client::legacy::Error) -> (String, bool) {
    use std::error::Error as _;
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    (message, err.is_connect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(700),
            max_retry_after: Duration::from_secs(5),
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = policy();
        assert_eq!(p.backoff(1), Duration::from_millis(100));
        assert_eq!(p.backoff(2), Duration::from_millis(200));
        assert_eq!(p.backoff(3), Duration::from_millis(400));
        assert_eq!(p.backoff(4), Duration::from_millis(700));
        assert_eq!(p.backoff(u32::MAX), Duration::from_millis(700));
    }

    #[test]
    fn delay_follows_retryable_attempts_and_retry_after() {
        let p = policy();
        assert_eq!(p.delay_after(false, None, 1), None);
        assert_eq!(
            p.delay_after(true, None, 2),
            Some(Duration::from_millis(200))
        );
        assert_eq!(p.delay_after(true, None, 3), None);
        let two = Some(Duration::from_secs(2));
        assert_eq!(p.delay_after(true, two, 1), Some(Duration::from_secs(2)));
        assert_eq!(p.delay_after(true, Some(Duration::from_secs(6)), 1), None);
    }

    #[test]
    fn statuses_are_classified() {
        assert_eq!(classify(429), StatusClass::RateLimited);
        assert_eq!(classify(401), StatusClass::Auth);
        assert_eq!(classify(403), StatusClass::Auth);
        assert_eq!(classify(500), StatusClass::Server);
        assert_eq!(classify(529), StatusClass::Server);
        assert_eq!(classify(400), StatusClass::Other);
        assert_eq!(classify(404), StatusClass::Other);
    }

    #[test]
    fn retry_after_headers() {
        let mut headers = hyper::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert("retry-after", HeaderValue::from_static("0.5"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(500)));
        headers.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(150)));
        headers.insert("retry-after-ms", HeaderValue::from_static("-1"));
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[tokio::test(start_paused = true)]
    async fn run_retries_until_final() {
        let mut calls = 0u32;
        let started = tokio::time::Instant::now();
        let result: Result<(), String> = run(
            "p",
            "test request",
            || {
                calls += 1;
                let n = calls;
                async move { Err(format!("failure {n}")) }
            },
            |_, attempt| policy().delay_after(true, None, attempt),
        )
        .await;
        assert_eq!(result, Err("failure 3".to_owned()));
        assert_eq!(calls, 3);
        assert_eq!(started.elapsed(), Duration::from_millis(300));
    }

    #[tokio::test(start_paused = true)]
    async fn run_returns_the_first_success() {
        let mut calls = 0u32;
        let result: Result<u32, String> = run(
            "p",
            "test request",
            || {
                calls += 1;
                let n = calls;
                async move { if n == 2 { Ok(n) } else { Err("no".to_owned()) } }
            },
            |_, attempt| policy().delay_after(true, None, attempt),
        )
        .await;
        assert_eq!(result, Ok(2));
    }

    #[test]
    fn error_messages_are_extracted_and_bounded() {
        assert_eq!(
            error_message(
                br#"{"type":"error","error":{"type":"x","message":"bad key"}}"#,
                300
            ),
            "bad key"
        );
        assert_eq!(
            error_message(br#"{"error":"model not found"}"#, 300),
            "model not found"
        );
        assert_eq!(
            error_message(br#"{"message":"  two   words "}"#, 300),
            "two words"
        );
        assert_eq!(error_message(b"", 300), "(empty body)");
        assert_eq!(
            error_message("x".repeat(1000).as_bytes(), 300)
                .chars()
                .count(),
            301
        );
        assert_eq!(error_message(&[0xff, 0xfe], 300), "\u{fffd}\u{fffd}");
        assert_eq!(truncate_chars("héllo", 2), "hé…");
        assert_eq!(truncate_chars("hé", 2), "hé");
    }
}

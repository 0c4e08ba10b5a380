//! The crate's one error type and its recovery policy.

use std::time::Duration;

/// Everything that can go wrong turning speech into text or text into
/// speech.
///
/// Messages never contain API keys: server error bodies are truncated and
/// scrubbed of the key before they land here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpeechError {
    /// The provider was configured wrongly (bad URL, empty model, a name
    /// that is not a word). Retrying does not help.
    #[error("invalid speech provider configuration: {0}")]
    InvalidConfig(String),
    /// The input cannot be processed (empty text, audio too long, a zero
    /// sample rate).
    #[error("invalid speech input: {0}")]
    InvalidInput(String),
    /// A local program (pocketsphinx, espeak-ng) is not installed.
    #[error("cannot run {program} (install the {package} package): {message}")]
    ToolMissing {
        /// The executable.
        program: String,
        /// The Debian package that provides it.
        package: String,
        /// What the system said.
        message: String,
    },
    /// A local program ran but failed (non-zero exit, unreadable output).
    #[error("{program} failed: {message}")]
    ToolFailed {
        /// The executable.
        program: String,
        /// What went wrong (its stderr, shortened).
        message: String,
    },
    /// A local program or one HTTP attempt took longer than allowed.
    #[error("{provider} did not finish within {}ms", timeout.as_millis())]
    Timeout {
        /// Provider or program name.
        provider: String,
        /// The limit that expired.
        timeout: Duration,
    },
    /// The TCP or TLS connection could not be established.
    #[error("cannot connect to {provider}: {message}")]
    Connect {
        /// Provider name.
        provider: String,
        /// What failed.
        message: String,
    },
    /// The connection failed after it was established.
    #[error("{provider} connection failed: {message}")]
    Transport {
        /// Provider name.
        provider: String,
        /// What failed.
        message: String,
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
    /// HTTP 5xx.
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
    /// JSON, no `text`, not audio, too large).
    #[error("{provider} sent an unusable response: {message}")]
    InvalidResponse {
        /// Provider name.
        provider: String,
        /// What was wrong with it.
        message: String,
    },
    /// Audio bytes that are not a usable WAV file (see [`crate::parse_wav`]).
    #[error("bad WAV audio: {0}")]
    Wav(String),
}

impl SpeechError {
    /// Whether the same request may succeed when sent again later: rate
    /// limits, server errors, timeouts and connection failures.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SpeechError::Connect { .. }
                | SpeechError::Transport { .. }
                | SpeechError::Timeout { .. }
                | SpeechError::RateLimited { .. }
                | SpeechError::Server { .. }
        )
    }

    /// Whether the credentials are the problem: stop using this provider
    /// until its settings change.
    pub fn is_auth(&self) -> bool {
        matches!(self, SpeechError::Auth { .. })
    }

    /// Whether the set-up is the problem (bad settings or a missing
    /// program): no use retrying until an operator acts.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            SpeechError::InvalidConfig(_) | SpeechError::ToolMissing { .. }
        )
    }

    /// Whether this one input is the problem (the next utterance may work).
    pub fn is_input(&self) -> bool {
        matches!(self, SpeechError::InvalidInput(_) | SpeechError::Wav(_))
    }

    /// How long the server asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SpeechError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status behind the error, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            SpeechError::RateLimited { .. } => Some(429),
            SpeechError::Auth { status, .. }
            | SpeechError::Server { status, .. }
            | SpeechError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_policy_by_kind() {
        let server = SpeechError::Server {
            provider: "p".into(),
            status: 503,
            message: String::new(),
        };
        assert!(server.is_retryable() && !server.is_auth());
        assert_eq!(server.status(), Some(503));
        let auth = SpeechError::Auth {
            provider: "p".into(),
            status: 401,
            message: String::new(),
        };
        assert!(auth.is_auth() && !auth.is_retryable());
        let missing = SpeechError::ToolMissing {
            program: "espeak-ng".into(),
            package: "espeak-ng".into(),
            message: "not found".into(),
        };
        assert!(missing.is_config() && !missing.is_retryable());
        assert!(
            missing
                .to_string()
                .contains("install the espeak-ng package")
        );
        let limited = SpeechError::RateLimited {
            provider: "p".into(),
            retry_after: Some(Duration::from_secs(3)),
            message: String::new(),
        };
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(3)));
        assert!(SpeechError::Wav("x".into()).is_input());
    }
}

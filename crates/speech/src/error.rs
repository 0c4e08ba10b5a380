//! The crate's one error type and its recovery policy.

use std::time::Duration;

pub use provider_http::HttpError;

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
    /// The exchange with the provider failed: no connection, a broken
    /// one, a non-success status (429, 401/403, 5xx, any other) or a
    /// success with a body that is not what was asked for (not JSON, no
    /// `text`, not audio, too large). See [`HttpError`] for each kind; an
    /// HTTP timeout is [`Self::Timeout`].
    #[error(transparent)]
    Http(HttpError),
    /// Audio bytes that are not a usable WAV file (see [`crate::parse_wav`]).
    #[error("bad WAV audio: {0}")]
    Wav(String),
}

impl SpeechError {
    /// Whether the same request may succeed when sent again later: rate
    /// limits, server errors, timeouts and connection failures.
    pub fn is_retryable(&self) -> bool {
        match self {
            SpeechError::Timeout { .. } => true,
            SpeechError::Http(err) => err.is_retryable(),
            _ => false,
        }
    }

    /// Whether the credentials are the problem: stop using this provider
    /// until its settings change.
    pub fn is_auth(&self) -> bool {
        matches!(self, SpeechError::Http(err) if err.is_auth())
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
            SpeechError::Http(err) => err.retry_after(),
            _ => None,
        }
    }

    /// The HTTP status behind the error, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            SpeechError::Http(err) => err.status(),
            _ => None,
        }
    }
}

impl provider_http::retry::Retryable for SpeechError {
    fn is_retryable(&self) -> bool {
        SpeechError::is_retryable(self)
    }

    fn retry_after(&self) -> Option<Duration> {
        SpeechError::retry_after(self)
    }
}

impl From<HttpError> for SpeechError {
    /// Settings problems are [`SpeechError::InvalidConfig`], a timeout is
    /// [`SpeechError::Timeout`] (as for local programs) and an answer above
    /// the size limit is an unusable one; everything else is kept as it is.
    fn from(err: HttpError) -> Self {
        match err {
            HttpError::Config(message) => SpeechError::InvalidConfig(message),
            HttpError::Timeout { provider, timeout } => SpeechError::Timeout { provider, timeout },
            HttpError::TooLarge { provider, limit } => {
                SpeechError::Http(HttpError::InvalidResponse {
                    provider,
                    message: format!("the answer is larger than {limit} bytes"),
                })
            }
            other => SpeechError::Http(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_policy_by_kind() {
        let server = SpeechError::Http(HttpError::Server {
            provider: "p".into(),
            status: 503,
            message: String::new(),
        });
        assert!(server.is_retryable() && !server.is_auth());
        assert_eq!(server.status(), Some(503));
        let auth = SpeechError::Http(HttpError::Auth {
            provider: "p".into(),
            status: 401,
            message: String::new(),
        });
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
        let limited = SpeechError::Http(HttpError::RateLimited {
            provider: "p".into(),
            retry_after: Some(Duration::from_secs(3)),
            message: String::new(),
        });
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(3)));
        assert!(SpeechError::Wav("x".into()).is_input());
    }
}

//! API keys that never print.

use std::fmt;

/// A secret (an API key). `Debug` and `Display` print `[redacted]`; the
/// value is only read where a request header is built.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret; surrounding whitespace (a trailing newline from a
    /// file or an environment variable) is trimmed.
    pub fn new(value: impl Into<String>) -> Self {
        let value: String = value.into();
        Secret(value.trim().to_owned())
    }

    /// Whether the secret is empty (after trimming).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value itself, for building the request header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the secret replaced by
    /// `[redacted]` (server messages are echoed into errors and logs).
    pub(crate) fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_owned();
        }
        text.replace(&self.0, "[redacted]")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let key = Secret::new(" sk-very-secret-123\n");
        assert_eq!(format!("{key:?}"), "Secret([redacted])");
        assert_eq!(format!("{key}"), "[redacted]");
        assert_eq!(key.expose(), "sk-very-secret-123");
        assert_eq!(key.scrub("bad sk-very-secret-123!"), "bad [redacted]!");
    }
}

//! API keys that never print.

use std::fmt;

/// An API key. `Debug` and `Display` print `[redacted]`; the key itself is
/// only read where a request header is built.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key; surrounding whitespace (a trailing newline from a file or
    /// an environment variable) is trimmed.
    pub fn new(key: impl Into<String>) -> Self {
        let key: String = key.into();
        ApiKey(key.trim().to_owned())
    }

    /// Whether the key is empty (after trimming).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The key itself, for building the request header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Removes any occurrence of the key from `text` (server messages are
    /// echoed into errors and logs).
    pub(crate) fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_owned();
        }
        text.replace(&self.0, "[redacted]")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_key() {
        let key = ApiKey::new("sk-ant-very-secret-123\n");
        assert_eq!(format!("{key:?}"), "ApiKey([redacted])");
        assert_eq!(format!("{key}"), "[redacted]");
        assert_eq!(key.expose(), "sk-ant-very-secret-123");
        assert_eq!(
            key.scrub("bad key sk-ant-very-secret-123!"),
            "bad key [redacted]!"
        );
    }
}

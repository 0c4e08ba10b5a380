//! API keys that never print.

use std::fmt;

use hyper::header::HeaderValue;

use crate::HttpError;

/// An API key. `Debug` and `Display` print `[redacted]`; the key itself is
/// only read where a request header is built ([`ApiKey::header`]).
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

    /// `{prefix}{key}` as a header value marked sensitive, so hyper never
    /// logs it; a configuration error when the key has characters a header
    /// cannot hold.
    pub fn header(&self, prefix: &str) -> Result<HeaderValue, HttpError> {
        let mut value = HeaderValue::from_str(&format!("{prefix}{}", self.0)).map_err(|_| {
            HttpError::Config(
                "API key contains characters that are not allowed in an HTTP header".to_owned(),
            )
        })?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// `text` with every occurrence of the key replaced by `[redacted]`
    /// (server messages are echoed into errors and logs). Keys shorter than
    /// 4 characters are left alone (they would match ordinary words).
    pub fn scrub(&self, text: &str) -> String {
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
        assert_eq!(key.0, "sk-ant-very-secret-123");
        assert_eq!(
            key.scrub("bad key sk-ant-very-secret-123!"),
            "bad key [redacted]!"
        );
        let key = ApiKey::new(" sk-very-secret-123\n");
        assert_eq!(key.0, "sk-very-secret-123");
        assert_eq!(key.scrub("bad sk-very-secret-123!"), "bad [redacted]!");
        assert!(ApiKey::new(" \n").is_empty());
    }

    #[test]
    fn header_values_are_sensitive_and_checked() {
        let key = ApiKey::new("sk-123");
        let value = key.header("Bearer ").expect("valid");
        assert_eq!(value.to_str().ok(), Some("Bearer sk-123"));
        assert!(value.is_sensitive());
        let err = ApiKey::new("sk\u{7f}bad").header("").expect_err("invalid");
        assert!(matches!(err, HttpError::Config(_)), "{err}");
        assert!(!err.to_string().contains("bad"), "{err}");
    }
}

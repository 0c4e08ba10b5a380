//! Share tokens: the capability carried in a share link.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Number of random bytes in a token.
pub const TOKEN_RANDOM_BYTES: usize = 18;
/// Length of a token's text form (base64url of 18 bytes, no padding).
pub const TOKEN_LEN: usize = 24;
/// Number of trailing characters [`ShareToken::suffix`] shows.
pub const SUFFIX_LEN: usize = 8;

/// A share-link token: 18 random bytes as 24 characters of base64url
/// without padding.
///
/// The token is a bearer capability, so:
/// * [`Debug`](fmt::Debug) and [`Display`](fmt::Display) show only
///   `…` followed by the last [`SUFFIX_LEN`] characters;
/// * equality ([`PartialEq`], [`ShareToken::ct_eq`]) runs in constant
///   time: every byte is compared, no early exit;
/// * there is deliberately no `Ord` or `Hash`, so tokens cannot become
///   keys of ordered or hashed maps whose lookups compare them byte by
///   byte with early exits;
/// * the whole text is available only through [`ShareToken::reveal`]
///   (for building the link and for the persisted store) and through
///   `Serialize` (for the persisted store only; JSON views must not
///   include it).
#[derive(Clone, Copy)]
pub struct ShareToken([u8; TOKEN_LEN]);

/// Why a string is not a share token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not exactly [`TOKEN_LEN`] characters.
    #[error("share token must be {TOKEN_LEN} characters, got {0}")]
    Length(usize),
    /// A character outside `[A-Za-z0-9_-]`.
    #[error("share token contains a character outside base64url")]
    Alphabet,
}

impl ShareToken {
    /// Makes a new token from [`TOKEN_RANDOM_BYTES`] bytes drawn from
    /// `rng` (the caller's cryptographically secure source).
    pub fn generate(rng: &mut impl FnMut(&mut [u8])) -> Self {
        let mut raw = [0u8; TOKEN_RANDOM_BYTES];
        rng(&mut raw);
        Self::from_random_bytes(raw)
    }

    /// The token for the given 18 bytes.
    pub fn from_random_bytes(raw: [u8; TOKEN_RANDOM_BYTES]) -> Self {
        let mut text = [0u8; TOKEN_LEN];
        // 18 bytes always encode to exactly 24 characters; on the
        // impossible size error the buffer stays zeroed, which `parse`
        // would reject, but no panic is possible here.
        let _ = URL_SAFE_NO_PAD.encode_slice(raw, &mut text);
        Self(text)
    }

    /// Parses and validates a token: exactly 24 characters of
    /// `[A-Za-z0-9_-]`. Every such string decodes to exactly 18 bytes
    /// (24 × 6 = 144 bits, no padding bits), so no further check is needed.
    pub fn parse(s: &str) -> Result<Self, TokenError> {
        let bytes = s.as_bytes();
        if bytes.len() != TOKEN_LEN {
            return Err(TokenError::Length(bytes.len()));
        }
        let mut text = [0u8; TOKEN_LEN];
        for (dst, &b) in text.iter_mut().zip(bytes) {
            if !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return Err(TokenError::Alphabet);
            }
            *dst = b;
        }
        Ok(Self(text))
    }

    /// Constant-time comparison: the running time does not depend on where
    /// (or whether) the tokens differ.
    pub fn ct_eq(&self, other: &ShareToken) -> bool {
        #[cfg(test)]
        ct_counter::bump();
        let mut diff = 0u8;
        for (a, b) in self.0.iter().zip(other.0.iter()) {
            diff |= std::hint::black_box(a ^ b);
        }
        std::hint::black_box(diff) == 0
    }

    /// The last [`SUFFIX_LEN`] characters: what logs, `list` output and
    /// the operator CLI use to name a session (48 of the 144 bits; the
    /// other 96 stay secret).
    pub fn suffix(&self) -> &str {
        let tail = &self.0[TOKEN_LEN - SUFFIX_LEN..];
        // The bytes are validated ASCII; the fallback is unreachable.
        std::str::from_utf8(tail).unwrap_or("")
    }

    /// The whole token text. Only for building the share URL and for the
    /// persisted store; never log it.
    pub fn reveal(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The share page path, `/share/<token>` (the alphabet is URL-safe, so
    /// no escaping is needed).
    pub fn share_path(&self) -> String {
        format!("/share/{}", self.reveal())
    }
}

impl PartialEq for ShareToken {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other)
    }
}

impl Eq for ShareToken {}

impl fmt::Debug for ShareToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShareToken(…{})", self.suffix())
    }
}

impl fmt::Display for ShareToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "…{}", self.suffix())
    }
}

impl FromStr for ShareToken {
    type Err = TokenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for ShareToken {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.reveal())
    }
}

impl<'de> Deserialize<'de> for ShareToken {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Counts constant-time comparisons so tests can show lookups use them.
#[cfg(test)]
pub(crate) mod ct_counter {
    use std::cell::Cell;

    thread_local! {
        static COUNT: Cell<u64> = const { Cell::new(0) };
    }

    pub(crate) fn bump() {
        COUNT.with(|c| c.set(c.get() + 1));
    }

    /// Comparisons made on this thread so far.
    pub(crate) fn get() -> u64 {
        COUNT.with(Cell::get)
    }
}

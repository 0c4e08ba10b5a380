//! Newtype ids and the redacting [`Secret`] wrapper as they travel on the wire.
//!
//! The snowflake ids are `wire-ids`' (shared with the Discord wire crates,
//! so no daemon converts them); [`Ssrc`] and [`Secret`] are defined here.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Discord's snowflake ids, the workspace's one definition (`wire-ids`):
/// bincode carries them as plain `u64`s (the bytes are those of a
/// transparent `u64` newtype; the golden vectors prove it), JSON as
/// decimal strings.
pub use wire_ids::{ChannelId, GuildId, UserId};

/// An RTP synchronisation source identifier (RFC 3550 §5.1), on the IPC
/// and in the media crates (`rtp` re-exports it): the workspace's one
/// `Ssrc`. Shown in decimal, as Discord's JSON (op 2, op 5) carries it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ssrc(pub u32);

impl fmt::Debug for Ssrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ssrc({})", self.0)
    }
}
impl fmt::Display for Ssrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A secret string (voice token, session id). `Debug` and `Display` show only
/// its length and last 4 characters, so it can never be logged in full by
/// accident; [`Secret::expose`] is the one deliberate way to read it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// A short, non-identifying hint: `…` plus the last 4 characters (or
    /// fewer when the secret is very short, so that at most half shows).
    pub fn hint(&self) -> String {
        secret_hint(&self.0)
    }
}

/// The redacted form of a secret held as a plain string: `…` plus at most
/// its last 4 characters, and at most half of it. The one redaction rule of
/// the workspace: [`Secret`] prints through it.
pub fn secret_hint(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let show = (chars.len() / 2).min(4);
    let tail: String = chars[chars.len() - show..].iter().collect();
    format!("…{tail}")
}

/// [`Secret`]'s Debug (`Secret(…abcd)`) and Display (`…abcd`). Private:
/// every token and session id is held as a `Secret`, so no plain string
/// needs a redacting view.
#[derive(Clone, Copy)]
struct Redacted<'a>(&'a str);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", secret_hint(self.0))
    }
}
impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&secret_hint(self.0))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&Redacted(&self.0), f)
    }
}
impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Redacted(&self.0), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_in_full() {
        let s = Secret::new("abcdefghijklmnop-very-secret-token");
        let dbg = format!("{s:?} {s}");
        assert!(!dbg.contains("very-secret"), "{dbg}");
        assert!(dbg.contains("oken"));
        assert_eq!(s.expose(), "abcdefghijklmnop-very-secret-token");
        // Short secrets reveal at most half of themselves.
        assert_eq!(Secret::new("ab").hint(), "…b");
        assert_eq!(Secret::new("").hint(), "…");
        assert_eq!(format!("{s:?}"), "Secret(…oken)");
        assert_eq!(format!("{s}"), "…oken");
    }
}

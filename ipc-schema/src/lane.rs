//! Lanes and the trait both message enums implement.

use crate::summary::Fields;
use serde::{Serialize, de::DeserializeOwned};

/// Which queue a message travels through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lane {
    /// Ordered and never dropped: commands, state changes, errors.
    Reliable,
    /// Bounded; the oldest queued message is dropped (and counted) when full.
    /// Only video frames travel here: a newer frame supersedes an older one.
    Lossy,
}

/// What the codec and the transport need to know about a message enum.
pub trait WireMessage: Serialize + DeserializeOwned + Send + 'static {
    /// How many variants this build knows; a variant index at or past this
    /// comes from a newer minor version.
    const KNOWN_KINDS: u32;
    /// Which lane the message travels in.
    fn lane(&self) -> Lane;
    /// The variant's snake_case name (`decoded_video_frame`).
    fn kind(&self) -> &'static str;
    /// Key fields for one-line summaries (ipc-tap, logs). Secrets appear
    /// redacted and binary payloads as their length.
    fn fields(&self) -> Fields;
    /// The handshake frame, if this is one.
    fn as_hello(&self) -> Option<&crate::Hello>;
    /// Wraps a handshake frame.
    fn from_hello(hello: crate::Hello) -> Self;
}

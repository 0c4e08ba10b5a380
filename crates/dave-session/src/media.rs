//! Media-side types: codecs, decrypt results, per-user counters, passthrough.

use std::time::Instant;

/// Media codec of a frame (selects DAVE's codec-aware clear ranges, §3.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaCodec {
    /// Opus audio: fully encrypted.
    Opus,
    /// VP8 video (bitstream frame).
    Vp8,
    /// VP9 video: fully encrypted.
    Vp9,
    /// H264 Annex-B access unit.
    H264,
    /// H265 Annex-B access unit.
    H265,
    /// AV1 temporal unit.
    Av1,
}

impl MediaCodec {
    /// Whether frames of this codec are video.
    pub fn is_video(self) -> bool {
        !matches!(self, Self::Opus)
    }

    pub(crate) fn davey(self) -> (davey::MediaType, davey::Codec) {
        use davey::{Codec, MediaType};
        match self {
            Self::Opus => (MediaType::AUDIO, Codec::OPUS),
            Self::Vp8 => (MediaType::VIDEO, Codec::VP8),
            Self::Vp9 => (MediaType::VIDEO, Codec::VP9),
            Self::H264 => (MediaType::VIDEO, Codec::H264),
            Self::H265 => (MediaType::VIDEO, Codec::H265),
            Self::Av1 => (MediaType::VIDEO, Codec::AV1),
        }
    }
}

/// A successfully received frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decrypted {
    /// The frame was DAVE-encrypted and is now plaintext.
    Plain(Vec<u8>),
    /// The frame was not DAVE-framed and passthrough allowed it as is.
    Passthrough(Vec<u8>),
}

impl Decrypted {
    /// The media bytes, whichever way they arrived.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Self::Plain(b) | Self::Passthrough(b) => b,
        }
    }
}

/// Per-sender receive counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserStats {
    /// Frames decrypted.
    pub decrypted: u64,
    /// Frames accepted unencrypted (passthrough or Opus silence).
    pub passthrough: u64,
    /// Frames refused (decrypt error, or unencrypted without passthrough).
    pub failures: u64,
}

/// When non-DAVE frames are accepted on receive (§3.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passthrough {
    /// Only DAVE frames are accepted.
    Off,
    /// Unencrypted frames are accepted until this instant.
    Until(Instant),
    /// Unencrypted frames are always accepted (transport-only call, or DAVE
    /// session not yet through its first transition).
    Always,
}

impl Passthrough {
    /// Whether an unencrypted frame is acceptable at `now`.
    pub fn allows(self, now: Instant) -> bool {
        match self {
            Self::Off => false,
            Self::Until(t) => now < t,
            Self::Always => true,
        }
    }
}

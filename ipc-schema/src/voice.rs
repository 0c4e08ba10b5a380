//! The voice-audio messages: what control asks mediad to say, and what
//! mediad hears.
//!
//! # Speaking (control → mediad)
//! An utterance travels as numbered [`VoicePlayChunk`]s of 16-bit
//! little-endian mono PCM at 48 kHz ([`VOICE_PLAY_SAMPLE_RATE`]), the last
//! one flagged `last`. Chunks use the **reliable** lane: a dropped chunk would
//! be an audible hole, and the lossy lane evicts. So that a chunk never holds
//! a heartbeat or ping back for long, one chunk carries at most
//! [`VOICE_PLAY_MAX_CHUNK_BYTES`] (100 ms of audio, 9 600 bytes): a ping
//! queued behind a chunk waits for ~10 KB of local socket writes, and mediad
//! takes chunks off the connection at once (they go to the player's own queue,
//! never to the IO tasks), so the connection's inbound queue never backs up behind
//! audio. mediad refuses a larger or odd-length chunk with
//! [`PlaybackState::Failed`]. [`ControlMsg::VoiceCancel`](crate::ControlMsg)
//! stops an utterance within one 20 ms frame (barge-in).
//!
//! # Hearing (mediad → control)
//! [`UserSpeech`] is the voice-activity (VAD) edge of one user, and
//! [`UserUtterance`] a finished stretch of their speech as 16-bit
//! little-endian mono PCM at 16 kHz ([`UTTERANCE_SAMPLE_RATE`]), at most a
//! few hundred KB (mediad caps an utterance's length and splits longer
//! speech).

use crate::ids::{Ssrc, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Sample rate of [`VoicePlayChunk::pcm`].
pub const VOICE_PLAY_SAMPLE_RATE: u32 = 48_000;
/// Sample rate of [`UserUtterance::pcm`].
pub const UTTERANCE_SAMPLE_RATE: u32 = 16_000;
/// Largest `pcm` of one [`VoicePlayChunk`]: 100 ms of 48 kHz mono s16le.
pub const VOICE_PLAY_MAX_CHUNK_BYTES: usize = 9_600;

/// Names one utterance control asks mediad to speak; chosen by control.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UtteranceId(pub u64);

impl fmt::Debug for UtteranceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UtteranceId({})", self.0)
    }
}
impl fmt::Display for UtteranceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
impl From<u64> for UtteranceId {
    fn from(v: u64) -> Self {
        Self(v)
    }
}

/// One chunk of an utterance to speak on the voice connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoicePlayChunk {
    /// Which utterance; a new id starts a new utterance (queued behind the
    /// one playing).
    pub id: UtteranceId,
    /// 0 for the first chunk, then +1.
    pub seq: u32,
    /// s16le mono PCM at 48 kHz, at most [`VOICE_PLAY_MAX_CHUNK_BYTES`].
    #[serde(with = "serde_bytes")]
    pub pcm: Vec<u8>,
    /// Whether this is the utterance's last chunk.
    pub last: bool,
}

impl VoicePlayChunk {
    /// Why this chunk cannot be played, if it cannot: too large or an odd
    /// byte count (not whole 16-bit samples).
    pub fn check(&self) -> Result<(), String> {
        if self.pcm.len() > VOICE_PLAY_MAX_CHUNK_BYTES {
            return Err(format!(
                "voice_play chunk of {} bytes exceeds {VOICE_PLAY_MAX_CHUNK_BYTES} (100 ms of 48 kHz mono s16le)",
                self.pcm.len()
            ));
        }
        if !self.pcm.len().is_multiple_of(2) {
            return Err(format!(
                "voice_play chunk of {} bytes is not whole 16-bit samples",
                self.pcm.len()
            ));
        }
        Ok(())
    }
}

/// Where an utterance's playback is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlaybackState {
    /// The first packet went out.
    Started,
    /// Everything was sent, including the silence tail.
    Finished,
    /// Stopped by `VoiceCancel` (the silence tail was sent).
    Cancelled,
    /// Could not be (fully) played; the reason in words, e.g.
    /// `no voice connection`.
    Failed(String),
}

impl PlaybackState {
    /// The snake_case name used in logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            PlaybackState::Started => "started",
            PlaybackState::Finished => "finished",
            PlaybackState::Cancelled => "cancelled",
            PlaybackState::Failed(_) => "failed",
        }
    }
}

/// A playback state change of one utterance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaybackEvent {
    /// Which utterance.
    pub id: UtteranceId,
    /// Its new state.
    pub state: PlaybackState,
    /// Audio sent so far, in milliseconds (frames × 20, without the
    /// silence tail).
    pub played_ms: u32,
}

/// A user started or stopped speaking, by voice-activity detection on their
/// decoded audio (not packet arrival).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSpeech {
    /// Who.
    pub user_id: UserId,
    /// Their audio SSRC.
    pub ssrc: Ssrc,
    /// Started (true) or stopped (false).
    pub speaking: bool,
}

/// A finished utterance of one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserUtterance {
    /// Who spoke.
    pub user_id: UserId,
    /// s16le mono PCM at 16 kHz.
    #[serde(with = "serde_bytes")]
    pub pcm: Vec<u8>,
    /// Length of `pcm` in milliseconds.
    pub duration_ms: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_check_refuses_big_and_odd_chunks() {
        let mut c = VoicePlayChunk {
            id: UtteranceId(1),
            seq: 0,
            pcm: vec![0; VOICE_PLAY_MAX_CHUNK_BYTES],
            last: false,
        };
        assert_eq!(c.check(), Ok(()));
        c.pcm.push(0);
        assert!(c.check().unwrap_err().contains("exceeds"));
        c.pcm.truncate(3);
        assert!(c.check().unwrap_err().contains("16-bit"));
        c.pcm.clear();
        assert_eq!(c.check(), Ok(()));
    }
}

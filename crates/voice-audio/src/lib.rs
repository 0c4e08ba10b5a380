//! The voice agent's audio, without IO.
//!
//! # Speaking
//! [`Pacer`] turns control's PCM chunks ([`ipc_schema::VoicePlayChunk`],
//! 48 kHz mono s16le) into one 20 ms frame per deadline, with the RTP
//! sequence number (+1 per packet) and timestamp (+960 per 20 ms) each
//! frame goes out with, the op 5 speaking edges, five frames of Opus
//! silence after each utterance and the playback events (started,
//! finished, cancelled, failed). It reads no clock: the shell calls
//! [`Pacer::poll`] with `now` and sleeps until [`Pacer::poll_timeout`].
//! [`OpusEncoder`] encodes a frame as Discord expects (48 kHz stereo,
//! 20 ms, the mono voice on both channels).
//!
//! # Hearing
//! [`Listener`] takes each received Opus payload (transport- and
//! DAVE-decrypted by the caller) with its SSRC and sequence number, decodes
//! it per SSRC with [`OpusDecoder`] straight to 16 kHz mono (libopus
//! resamples and downmixes inside the decoder, with its own filters), runs
//! the WebRTC voice-activity detector ([`Vad`]) on each 20 ms frame and
//! feeds a [`Segmenter`], which decides when a speaker starts and stops and
//! cuts finished utterances: start after a few voiced frames, end after a
//! hangover of silence *or of missing packets* (Discord clients stop sending
//! when they are silent, so a gap must end the utterance by a timeout that
//! [`Listener::handle_timeout`] drives), and split utterances longer than a
//! cap.
//!
//! # Invariants
//! * No clock reads, no threads, no IO (`clippy.toml` bans clock reads);
//!   libopus and the VAD are plain computations.
//! * Bounded: utterances queued, samples buffered, SSRCs tracked and
//!   utterance length all have caps; bad input is an error or a
//!   `Failed` event, never a panic.

mod codec;
mod error;
mod listener;
mod pacer;
mod segmenter;
mod vad;

pub use codec::{OPUS_SILENCE, OpusDecoder, OpusEncoder};
pub use error::AudioError;
pub use listener::{Heard, Listener, ListenerConfig};
pub use pacer::{FrameAudio, OutFrame, Pacer, PacerConfig, PacerOutput};
pub use segmenter::{SegOutput, Segmenter, SegmenterConfig};
pub use vad::Vad;

use std::time::Duration;

/// One frame: 20 ms.
pub const FRAME: Duration = Duration::from_millis(20);
/// Samples in one 20 ms frame at 48 kHz (one channel).
pub const FRAME_SAMPLES_48K: usize = 960;
/// Samples in one 20 ms frame at 16 kHz.
pub const FRAME_SAMPLES_16K: usize = 320;
/// Sample rate of what is sent.
pub const SEND_RATE: u32 = 48_000;
/// Sample rate of what is heard (decoded, VAD, utterances).
pub const HEAR_RATE: u32 = 16_000;

/// s16le bytes to samples (a trailing odd byte is ignored).
pub fn samples_from_le(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// Samples to s16le bytes.
pub fn samples_to_le(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

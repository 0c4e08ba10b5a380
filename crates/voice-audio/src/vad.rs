//! The WebRTC voice-activity detector (libfvad through `webrtc-vad`) on
//! 20 ms frames of 16 kHz mono.

use crate::{AudioError, FRAME_SAMPLES_16K};
use webrtc_vad::{SampleRate, VadMode};

/// One detector (keeps state across frames: use one per speaker).
pub struct Vad {
    inner: webrtc_vad::Vad,
}

impl Vad {
    /// A detector in "aggressive" mode (2 of 0-3): fewer noise frames
    /// taken for speech than the default "quality" mode, still catches
    /// normal speech.
    pub fn new() -> Self {
        Self {
            inner: webrtc_vad::Vad::new_with_rate_and_mode(
                SampleRate::Rate16kHz,
                VadMode::Aggressive,
            ),
        }
    }

    /// Whether this 20 ms frame (320 samples) holds speech.
    pub fn is_voiced(&mut self, frame: &[i16]) -> Result<bool, AudioError> {
        if frame.len() != FRAME_SAMPLES_16K {
            return Err(AudioError::FrameLength {
                expected: FRAME_SAMPLES_16K,
                got: frame.len(),
            });
        }
        self.inner
            .is_voice_segment(frame)
            .map_err(|()| AudioError::FrameLength {
                expected: FRAME_SAMPLES_16K,
                got: frame.len(),
            })
    }
}

impl Default for Vad {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_is_not_voice_and_bad_lengths_are_errors() {
        let mut v = Vad::new();
        for _ in 0..10 {
            assert!(!v.is_voiced(&[0; FRAME_SAMPLES_16K]).unwrap());
        }
        assert!(v.is_voiced(&[]).is_err());
        assert!(v.is_voiced(&[0; 100]).is_err());
    }
}

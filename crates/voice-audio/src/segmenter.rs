//! Utterance segmentation of one speaker, sans-IO.
//!
//! Input: 20 ms frames of 16 kHz mono with the VAD's verdict and the time
//! they arrived. Output: speaking edges and finished utterances.
//!
//! * Start: [`SegmenterConfig::start_frames`] voiced frames in a row. The
//!   utterance then includes up to [`SegmenterConfig::pre_roll`] of audio
//!   before them, so the first syllable is not clipped.
//! * End: [`SegmenterConfig::hangover`] of silence, where silence is
//!   unvoiced frames *plus time without packets*: Discord clients stop
//!   sending while their user is quiet, so the end comes from
//!   [`Segmenter::handle_timeout`] at the instant the hangover runs out
//!   even when no frame arrives. The utterance keeps at most
//!   [`SegmenterConfig::tail_keep`] of the trailing silence.
//! * Cap: an utterance reaching [`SegmenterConfig::max_utterance`] is cut
//!   and emitted; the speaker stays "speaking" and the next part starts.
//! * An utterance with fewer than [`SegmenterConfig::min_voiced_frames`]
//!   voiced frames (a click, a cough) is not emitted; its speaking edges
//!   are.

use crate::{FRAME, FRAME_SAMPLES_16K};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Segmentation parameters.
#[derive(Clone, Debug)]
pub struct SegmenterConfig {
    /// Voiced frames in a row that start speech.
    pub start_frames: u32,
    /// Silence that ends speech.
    pub hangover: Duration,
    /// Audio kept before the start.
    pub pre_roll: Duration,
    /// Trailing silence kept at the end of an utterance.
    pub tail_keep: Duration,
    /// Longest utterance; longer speech is split.
    pub max_utterance: Duration,
    /// Fewest voiced frames an emitted utterance has.
    pub min_voiced_frames: u32,
}

impl Default for SegmenterConfig {
    fn default() -> Self {
        Self {
            start_frames: 3,
            hangover: Duration::from_millis(600),
            pre_roll: Duration::from_millis(200),
            tail_keep: Duration::from_millis(200),
            max_utterance: Duration::from_secs(15),
            min_voiced_frames: 10,
        }
    }
}

/// What a segmenter decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SegOutput {
    /// Speech started (true) or ended (false).
    Speaking(bool),
    /// A finished utterance: 16 kHz mono samples.
    Utterance(Vec<i16>),
}

fn frames_in(d: Duration) -> usize {
    (d.as_millis() / FRAME.as_millis()) as usize
}

#[derive(Debug)]
struct Speech {
    samples: Vec<i16>,
    voiced_frames: u32,
    /// Unvoiced frames since the last voiced one.
    unvoiced_run: u32,
    /// Arrival of the last frame.
    last_frame_at: Instant,
}

/// The segmenter of one speaker.
#[derive(Debug)]
pub struct Segmenter {
    cfg: SegmenterConfig,
    /// Recent frames while silent (pre-roll), newest last.
    recent: VecDeque<Vec<i16>>,
    voiced_run: u32,
    speech: Option<Speech>,
    out: VecDeque<SegOutput>,
}

impl Segmenter {
    /// A silent segmenter.
    pub fn new(cfg: SegmenterConfig) -> Self {
        Self {
            cfg,
            recent: VecDeque::new(),
            voiced_run: 0,
            speech: None,
            out: VecDeque::new(),
        }
    }

    /// Whether the speaker is speaking.
    pub fn is_speaking(&self) -> bool {
        self.speech.is_some()
    }

    /// One 20 ms frame (320 samples) that arrived at `now`.
    pub fn on_frame(&mut self, now: Instant, frame: &[i16], voiced: bool) {
        self.handle_timeout(now);
        match &mut self.speech {
            None => {
                let keep = frames_in(self.cfg.pre_roll).max(self.cfg.start_frames as usize);
                self.recent.push_back(frame.to_vec());
                while self.recent.len() > keep {
                    self.recent.pop_front();
                }
                self.voiced_run = if voiced { self.voiced_run + 1 } else { 0 };
                if self.voiced_run >= self.cfg.start_frames {
                    let samples: Vec<i16> = self.recent.drain(..).flatten().collect();
                    self.speech = Some(Speech {
                        samples,
                        voiced_frames: self.voiced_run,
                        unvoiced_run: 0,
                        last_frame_at: now,
                    });
                    self.voiced_run = 0;
                    self.out.push_back(SegOutput::Speaking(true));
                }
            }
            Some(s) => {
                s.samples.extend_from_slice(frame);
                s.last_frame_at = now;
                if voiced {
                    s.voiced_frames += 1;
                    s.unvoiced_run = 0;
                } else {
                    s.unvoiced_run += 1;
                }
                let silence = FRAME * s.unvoiced_run;
                if silence >= self.cfg.hangover {
                    self.end();
                } else if s.samples.len() >= frames_in(self.cfg.max_utterance) * FRAME_SAMPLES_16K {
                    self.split();
                }
            }
        }
    }

    /// When the hangover runs out if no more frames arrive.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let s = self.speech.as_ref()?;
        let heard = FRAME * s.unvoiced_run;
        Some(s.last_frame_at + self.cfg.hangover.saturating_sub(heard))
    }

    /// Ends speech whose hangover ran out by `now` (packets stopped).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|t| now >= t) {
            self.end();
        }
    }

    /// The next decision.
    pub fn poll_output(&mut self) -> Option<SegOutput> {
        self.out.pop_front()
    }

    /// Emits the utterance so far (trimmed) if it has enough speech.
    fn emit(&mut self, mut s: Speech) {
        let drop_frames = (s.unvoiced_run as usize).saturating_sub(frames_in(self.cfg.tail_keep));
        let keep = s
            .samples
            .len()
            .saturating_sub(drop_frames * FRAME_SAMPLES_16K);
        s.samples.truncate(keep);
        if s.voiced_frames >= self.cfg.min_voiced_frames {
            self.out.push_back(SegOutput::Utterance(s.samples));
        }
    }

    fn end(&mut self) {
        if let Some(s) = self.speech.take() {
            self.emit(s);
            self.out.push_back(SegOutput::Speaking(false));
        }
        self.recent.clear();
        self.voiced_run = 0;
    }

    fn split(&mut self) {
        if let Some(s) = self.speech.as_mut() {
            let part = Speech {
                samples: std::mem::take(&mut s.samples),
                voiced_frames: std::mem::take(&mut s.voiced_frames),
                unvoiced_run: s.unvoiced_run,
                last_frame_at: s.last_frame_at,
            };
            self.emit(part);
        }
    }
}

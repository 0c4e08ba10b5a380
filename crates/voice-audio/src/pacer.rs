//! The real-time send pacer, sans-IO.
//!
//! Chunks of an utterance go in ([`Pacer::push_chunk`]); [`Pacer::poll`]
//! with `now` gives what is due: a 20 ms frame to encode and send with its
//! RTP sequence number and timestamp, an op 5 speaking edge, or a playback
//! event. [`Pacer::poll_timeout`] is when to call again. Frames are due on
//! a fixed 20 ms grid from the first frame of a talkspurt (no drift: the
//! next deadline is the previous deadline + 20 ms, not `now` + 20 ms).
//!
//! Rules:
//! * Op 5 speaking (microphone) goes on before the first frame of a
//!   talkspurt; after each utterance five frames of Opus silence follow
//!   (Discord's rule); speaking goes off after the last of them unless
//!   another utterance is ready to follow at once.
//! * `Started` when the first frame of the utterance is handed out,
//!   `Finished` after its silence tail.
//! * Cancel (barge-in): the next frame slot is silence (the audio stops
//!   within one 20 ms frame), `Cancelled` is reported at once, the tail
//!   follows. A queued utterance that is cancelled is dropped with
//!   `Cancelled`; a cancelled id not seen yet is remembered so that its
//!   chunks are ignored if they arrive later.
//! * Underrun (control's chunks arrive later than real time): the slot is
//!   skipped: nothing is sent for that 20 ms, the RTP timestamp still
//!   advances by 960 (so the receiver's playout stays in real time) while
//!   the sequence number does not (it counts packets, so no loss is
//!   implied). Audio resumes on the grid when chunks arrive. After
//!   [`PacerConfig::underrun_timeout`] without audio the utterance fails
//!   (`Failed("underrun: …")`) and the tail is sent.
//! * A chunk out of sequence, malformed, or beyond the caps fails its
//!   utterance with a reason; nothing panics.

use crate::{FRAME, FRAME_SAMPLES_48K, samples_from_le};
use ipc_schema::{PlaybackEvent, PlaybackState, UtteranceId, VoicePlayChunk};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Opus silence frames after each utterance.
pub const SILENCE_TAIL_FRAMES: u8 = 5;
/// Remembered ids of ended or cancelled utterances (late chunks ignored).
const REMEMBERED_IDS: usize = 64;

/// Limits and timings.
#[derive(Clone, Debug)]
pub struct PacerConfig {
    /// Frames buffered before an utterance starts (its last chunk starts
    /// it regardless). 1: chunks are up to 100 ms, so the first chunk
    /// starts playback at once.
    pub prebuffer_frames: usize,
    /// How long an utterance may starve before it fails.
    pub underrun_timeout: Duration,
    /// Utterances waiting (including the one playing).
    pub max_queued: usize,
    /// Samples one utterance may buffer ahead of playback (48 kHz).
    pub max_buffered_samples: usize,
    /// When the thread ran late by more than this, the grid restarts at
    /// `now` instead of sending a burst of frames to catch up.
    pub max_lateness: Duration,
}

impl Default for PacerConfig {
    fn default() -> Self {
        Self {
            prebuffer_frames: 1,
            underrun_timeout: Duration::from_secs(2),
            max_queued: 8,
            // 10 minutes.
            max_buffered_samples: 48_000 * 600,
            max_lateness: Duration::from_millis(100),
        }
    }
}

/// The audio of one frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameAudio {
    /// 960 mono samples at 48 kHz to encode.
    Pcm(Vec<i16>),
    /// Send the Opus silence frame (`F8 FF FE`).
    Silence,
}

/// One frame to send now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutFrame {
    /// What to send.
    pub audio: FrameAudio,
    /// RTP sequence number.
    pub seq: u16,
    /// RTP timestamp (48 kHz).
    pub timestamp: u32,
    /// RTP marker: first packet of a talkspurt.
    pub marker: bool,
}

/// What the pacer wants done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PacerOutput {
    /// Send op 5 speaking (microphone) on (true) or off (false).
    Speaking(bool),
    /// Encode and send this frame now.
    Frame(OutFrame),
    /// Report this to control.
    Playback(PlaybackEvent),
}

#[derive(Debug)]
struct Utterance {
    id: UtteranceId,
    next_seq: u32,
    samples: VecDeque<i16>,
    complete: bool,
    frames_sent: u32,
    starved_since: Option<Instant>,
}

impl Utterance {
    fn played_ms(&self) -> u32 {
        self.frames_sent.saturating_mul(20)
    }
    fn ready(&self, prebuffer: usize) -> bool {
        self.complete || self.samples.len() >= prebuffer.max(1) * FRAME_SAMPLES_48K
    }
}

#[derive(Debug)]
enum Phase {
    Idle,
    /// The front utterance is playing; `deadline` is its next slot.
    Playing {
        deadline: Instant,
    },
    /// Silence frames after an utterance; `finished` is reported after the
    /// last one.
    Tail {
        deadline: Instant,
        left: u8,
        finished: Option<PlaybackEvent>,
    },
}

/// The pacer of one voice connection.
#[derive(Debug)]
pub struct Pacer {
    cfg: PacerConfig,
    queue: VecDeque<Utterance>,
    phase: Phase,
    seq: u16,
    ts: u32,
    /// When the last frame went out (to advance the timestamp over idle
    /// time).
    last_frame_at: Option<Instant>,
    speaking: bool,
    out: VecDeque<PacerOutput>,
    ended: VecDeque<UtteranceId>,
}

impl Pacer {
    /// A pacer whose first packet has sequence number `seq` and timestamp
    /// `timestamp` (random, chosen by the caller).
    pub fn new(cfg: PacerConfig, seq: u16, timestamp: u32) -> Self {
        Self {
            cfg,
            queue: VecDeque::new(),
            phase: Phase::Idle,
            seq,
            ts: timestamp,
            last_frame_at: None,
            speaking: false,
            out: VecDeque::new(),
            ended: VecDeque::new(),
        }
    }

    /// Whether nothing is playing, queued or pending.
    pub fn is_idle(&self) -> bool {
        matches!(self.phase, Phase::Idle) && self.queue.is_empty() && self.out.is_empty()
    }

    fn event(&mut self, id: UtteranceId, state: PlaybackState, played_ms: u32) {
        if !matches!(state, PlaybackState::Started) {
            self.remember(id);
        }
        self.out.push_back(PacerOutput::Playback(PlaybackEvent {
            id,
            state,
            played_ms,
        }));
    }

    fn remember(&mut self, id: UtteranceId) {
        if !self.ended.contains(&id) {
            if self.ended.len() >= REMEMBERED_IDS {
                self.ended.pop_front();
            }
            self.ended.push_back(id);
        }
    }

    fn is_current(&self, id: UtteranceId) -> bool {
        matches!(self.phase, Phase::Playing { .. })
            && self.queue.front().is_some_and(|u| u.id == id)
    }

    /// One chunk from control. Problems become a `Failed` event of the
    /// chunk's utterance.
    pub fn push_chunk(&mut self, chunk: VoicePlayChunk) {
        let id = chunk.id;
        if self.ended.contains(&id) {
            return;
        }
        if let Err(reason) = chunk.check() {
            self.fail(id, reason);
            return;
        }
        let idx = match self.queue.iter().position(|u| u.id == id) {
            Some(i) => i,
            None => {
                if self.queue.len() >= self.cfg.max_queued {
                    let n = self.queue.len();
                    self.event(
                        id,
                        PlaybackState::Failed(format!("{n} utterances already queued")),
                        0,
                    );
                    return;
                }
                self.queue.push_back(Utterance {
                    id,
                    next_seq: 0,
                    samples: VecDeque::new(),
                    complete: false,
                    frames_sent: 0,
                    starved_since: None,
                });
                self.queue.len() - 1
            }
        };
        let max = self.cfg.max_buffered_samples;
        let u = &mut self.queue[idx];
        if u.complete {
            return;
        }
        if chunk.seq != u.next_seq {
            let reason = format!("chunk {} arrived, {} expected", chunk.seq, u.next_seq);
            self.fail(id, reason);
            return;
        }
        u.next_seq = u.next_seq.saturating_add(1);
        if u.samples.len() + chunk.pcm.len() / 2 > max {
            self.fail(
                id,
                format!("more than {} s of audio buffered", max / 48_000),
            );
            return;
        }
        u.samples.extend(samples_from_le(&chunk.pcm));
        u.complete = chunk.last;
    }

    /// Barge-in: stop `id` now.
    pub fn cancel(&mut self, id: UtteranceId) {
        self.stop(id, None);
    }

    /// Ends `id` with `Failed(reason)` (or `Cancelled` when `reason` is
    /// `None`): the current utterance stops at the next slot and gets its
    /// tail; a queued one is dropped.
    fn stop(&mut self, id: UtteranceId, reason: Option<String>) {
        let state = match reason {
            Some(r) => PlaybackState::Failed(r),
            None => PlaybackState::Cancelled,
        };
        if self.is_current(id) {
            let Some(u) = self.queue.pop_front() else {
                return;
            };
            let Phase::Playing { deadline } = self.phase else {
                return;
            };
            self.event(id, state, u.played_ms());
            self.phase = Phase::Tail {
                deadline,
                left: SILENCE_TAIL_FRAMES,
                finished: None,
            };
        } else if let Some(i) = self.queue.iter().position(|u| u.id == id) {
            if let Some(u) = self.queue.remove(i) {
                self.event(id, state, u.played_ms());
            }
        } else if matches!(state, PlaybackState::Failed(_)) {
            self.event(id, state, 0);
        } else {
            // Not seen yet (or already over): ignore its chunks from now on.
            self.remember(id);
        }
    }

    fn fail(&mut self, id: UtteranceId, reason: String) {
        self.stop(id, Some(reason));
    }

    /// The connection is gone: every utterance fails with `reason`, and
    /// speaking is forgotten (there is nobody to tell).
    pub fn fail_all(&mut self, reason: &str) {
        while let Some(u) = self.queue.pop_front() {
            self.event(u.id, PlaybackState::Failed(reason.into()), u.played_ms());
        }
        if let Phase::Tail {
            finished: Some(f), ..
        } = &self.phase
        {
            // Its audio was all sent; only the tail is lost.
            let f = f.clone();
            self.out.push_back(PacerOutput::Playback(f));
        }
        self.phase = Phase::Idle;
        self.speaking = false;
    }

    /// When [`Pacer::poll`] has something next, if anything is scheduled.
    /// `None` while idle: a chunk (or cancel) is the next thing to wake for.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if !self.out.is_empty() {
            return None;
        }
        match self.phase {
            Phase::Idle => None,
            Phase::Playing { deadline } | Phase::Tail { deadline, .. } => Some(deadline),
        }
    }

    /// What is due at `now`, one output per call; `None` when nothing is.
    pub fn poll(&mut self, now: Instant) -> Option<PacerOutput> {
        if self.out.is_empty() {
            self.step(now);
        }
        self.out.pop_front()
    }

    fn frame(&mut self, audio: FrameAudio, at: Instant, marker: bool) {
        let f = OutFrame {
            audio,
            seq: self.seq,
            timestamp: self.ts,
            marker,
        };
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(FRAME_SAMPLES_48K as u32);
        self.last_frame_at = Some(at);
        self.out.push_back(PacerOutput::Frame(f));
    }

    /// Next slot after `deadline`, or a fresh grid when the caller is late.
    fn next_slot(&self, deadline: Instant, now: Instant) -> Instant {
        if now.saturating_duration_since(deadline) > self.cfg.max_lateness {
            now + FRAME
        } else {
            deadline + FRAME
        }
    }

    fn step(&mut self, now: Instant) {
        match self.phase {
            Phase::Idle => self.start_if_ready(now, now),
            Phase::Playing { deadline } => {
                if now < deadline {
                    return;
                }
                self.play_slot(deadline, now);
            }
            Phase::Tail {
                deadline,
                left,
                ref mut finished,
            } => {
                if now < deadline {
                    return;
                }
                let finished = finished.take();
                self.frame(FrameAudio::Silence, deadline, false);
                let next = self.next_slot(deadline, now);
                if left > 1 {
                    self.phase = Phase::Tail {
                        deadline: next,
                        left: left - 1,
                        finished,
                    };
                    return;
                }
                if let Some(f) = finished {
                    self.out.push_back(PacerOutput::Playback(f));
                }
                self.phase = Phase::Idle;
                let ready = self
                    .queue
                    .front()
                    .is_some_and(|u| u.ready(self.cfg.prebuffer_frames));
                if ready {
                    self.start_if_ready(next, now);
                } else {
                    self.speaking = false;
                    self.out.push_back(PacerOutput::Speaking(false));
                }
            }
        }
    }

    /// Idle: start the front utterance at `at` if it is ready.
    fn start_if_ready(&mut self, at: Instant, now: Instant) {
        let Some(u) = self.queue.front() else { return };
        if !u.ready(self.cfg.prebuffer_frames) {
            return;
        }
        if u.complete && u.samples.is_empty() {
            // Nothing to say.
            let id = u.id;
            self.queue.pop_front();
            self.event(id, PlaybackState::Finished, 0);
            return self.start_if_ready(at, now);
        }
        if !self.speaking {
            self.speaking = true;
            self.out.push_back(PacerOutput::Speaking(true));
        }
        // Timestamps count time, not packets: skip what passed while idle.
        if let Some(last) = self.last_frame_at {
            let idle = at.saturating_duration_since(last);
            let frames = (idle.as_millis() / FRAME.as_millis()).max(1) as u32;
            self.ts = self
                .ts
                .wrapping_add((frames - 1).wrapping_mul(FRAME_SAMPLES_48K as u32));
        }
        self.phase = Phase::Playing { deadline: at };
        if at <= now {
            self.play_slot(at, now);
        }
    }

    fn play_slot(&mut self, deadline: Instant, now: Instant) {
        let timeout = self.cfg.underrun_timeout;
        let next = self.next_slot(deadline, now);
        let Some(u) = self.queue.front_mut() else {
            self.phase = Phase::Idle;
            return;
        };
        let have = u.samples.len();
        if have >= FRAME_SAMPLES_48K || (u.complete && have > 0) {
            let mut pcm: Vec<i16> = u.samples.drain(..have.min(FRAME_SAMPLES_48K)).collect();
            pcm.resize(FRAME_SAMPLES_48K, 0);
            let first = u.frames_sent == 0;
            u.frames_sent += 1;
            u.starved_since = None;
            let id = u.id;
            self.frame(FrameAudio::Pcm(pcm), deadline, first);
            if first {
                self.event(id, PlaybackState::Started, 0);
            }
            self.phase = Phase::Playing { deadline: next };
        } else if u.complete {
            // All audio sent: the tail, then `Finished`.
            let finished = PlaybackEvent {
                id: u.id,
                state: PlaybackState::Finished,
                played_ms: u.played_ms(),
            };
            self.queue.pop_front();
            self.remember(finished.id);
            self.phase = Phase::Tail {
                deadline,
                left: SILENCE_TAIL_FRAMES,
                finished: Some(finished),
            };
            self.step(now);
        } else {
            let since = *u.starved_since.get_or_insert(deadline);
            if deadline.saturating_duration_since(since) >= timeout {
                let id = u.id;
                self.fail(
                    id,
                    format!(
                        "underrun: no audio from control for {} ms",
                        timeout.as_millis()
                    ),
                );
                self.step(now);
            } else {
                // Skip the slot: time advances, no packet.
                self.ts = self.ts.wrapping_add(FRAME_SAMPLES_48K as u32);
                self.phase = Phase::Playing { deadline: next };
            }
        }
    }
}

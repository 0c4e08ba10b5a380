//! Who has the floor in the voice channel: the agent's spoken replies
//! (answers and commentary) queued, synthesized and played one at a time,
//! and cut short when a user starts talking over them (barge-in).
//!
//! Sans-IO: the shell feeds requests, synthesis results, mediad's playback
//! reports and per-user voice activity, each with `now`, and carries out the
//! returned [`FloorAction`]s (synthesize a text, cancel an utterance). A
//! watchdog ([`SpeechFloor::poll_timeout`]) frees the floor when mediad never
//! reports the end of an utterance (it restarted, or the voice connection
//! went away), so a lost report cannot silence the agent for good.
//!
//! Policy:
//! * Replies queue behind the current utterance (at most [`MAX_QUEUED`]
//!   waiting; the oldest commentary goes first when full, then the oldest
//!   answer).
//! * Nothing starts while a user is speaking: the agent does not talk over
//!   people. Queued replies wait for the channel to be free.
//! * Commentary goes stale: one that could not start within
//!   [`COMMENTARY_MAX_WAIT`] of being asked for is dropped (the screen has
//!   moved on). Answers wait as long as it takes.
//! * A user starting to speak while the agent plays cancels the playback
//!   (when barge-in is on).
//! * [`SpeechFloor::busy`] (synthesizing, playing or queued) is the
//!   commentary loop's playback gate.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

/// Utterances waiting behind the current one.
pub const MAX_QUEUED: usize = 4;
/// How long past its own length an utterance may go unreported before the
/// floor is taken back.
pub const PLAYBACK_SLACK: Duration = Duration::from_secs(5);
/// How long a synthesis may take before the floor is taken back.
pub const SYNTHESIS_TIMEOUT: Duration = Duration::from_secs(30);
/// How long mediad may take to report the start of playback.
pub const START_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest a commentary may wait for the floor before it is stale.
pub const COMMENTARY_MAX_WAIT: Duration = Duration::from_secs(8);

/// What an utterance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpeakKind {
    /// A reply to someone who spoke or wrote to the agent.
    Answer,
    /// Unprompted screen commentary.
    Commentary,
}

impl SpeakKind {
    /// For logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answer => "answer",
            Self::Commentary => "commentary",
        }
    }
}

/// Why an utterance was cut short or never played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// A user started speaking (barge-in).
    BargeIn,
    /// The queue was full.
    QueueFull,
    /// Commentary that waited longer than [`COMMENTARY_MAX_WAIT`].
    Stale,
    /// Synthesis failed.
    SynthesisFailed,
    /// mediad reported a failure.
    PlaybackFailed,
    /// No report from mediad in time.
    Timeout,
}

impl DropReason {
    /// For logs and counters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BargeIn => "barge_in",
            Self::QueueFull => "queue_full",
            Self::Stale => "stale",
            Self::SynthesisFailed => "synthesis_failed",
            Self::PlaybackFailed => "playback_failed",
            Self::Timeout => "timeout",
        }
    }
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FloorAction {
    /// Synthesize `text` and stream it to mediad as utterance `id`; report
    /// the outcome with [`SpeechFloor::on_synthesized`].
    Synthesize {
        /// The utterance id (mediad's `UtteranceId`).
        id: u64,
        /// What to say.
        text: String,
        /// Answer or commentary.
        kind: SpeakKind,
    },
    /// Tell mediad to stop utterance `id` now.
    Cancel {
        /// The utterance.
        id: u64,
        /// Why.
        reason: DropReason,
    },
    /// An utterance ended without (fully) playing; for logs and counters.
    Dropped {
        /// The utterance.
        id: u64,
        /// Answer or commentary.
        kind: SpeakKind,
        /// Why.
        reason: DropReason,
    },
}

/// mediad's report on an utterance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaybackReport {
    /// The first packet went out.
    Started,
    /// The whole utterance and its silence tail went out.
    Finished,
    /// Stopped on request.
    Cancelled,
    /// mediad could not play it.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Being synthesized and streamed to mediad; mediad may already have
    /// started playing the first chunks (a long utterance streams for a
    /// while), so `started` can be set here too.
    Synthesizing { since: Instant, started: bool },
    /// Sent to mediad; `deadline` frees the floor if no end is reported.
    Sent { deadline: Instant, started: bool },
    /// A cancel was sent; waiting for mediad's `Cancelled`.
    Cancelling { deadline: Instant },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Current {
    id: u64,
    kind: SpeakKind,
    phase: Phase,
}

/// Counters for views.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FloorStats {
    /// Utterances played to the end.
    pub finished: u64,
    /// Utterances cut by a user speaking.
    pub barge_ins: u64,
    /// Utterances dropped for any other reason.
    pub dropped: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Queued {
    id: u64,
    kind: SpeakKind,
    text: String,
    at: Instant,
}

/// The floor state machine.
#[derive(Debug)]
pub struct SpeechFloor {
    queue: VecDeque<Queued>,
    current: Option<Current>,
    speakers: BTreeSet<u64>,
    next_id: u64,
    barge_in: bool,
    stats: FloorStats,
}

impl SpeechFloor {
    /// A floor whose utterance ids start after `first_id` (pick a fresh
    /// base per process, e.g. from the clock, so a restarted control
    /// never reuses an id mediad still plays).
    pub fn new(first_id: u64, barge_in: bool) -> Self {
        Self {
            queue: VecDeque::new(),
            current: None,
            speakers: BTreeSet::new(),
            next_id: first_id,
            barge_in,
            stats: FloorStats::default(),
        }
    }

    /// Turns barge-in on or off.
    pub fn set_barge_in(&mut self, on: bool) {
        self.barge_in = on;
    }

    /// Synthesizing, playing, or something queued.
    pub fn busy(&self) -> bool {
        self.current.is_some() || !self.queue.is_empty()
    }

    /// The utterance being played (after mediad reported its start).
    pub fn playing(&self) -> Option<u64> {
        self.current.as_ref().and_then(|c| match c.phase {
            Phase::Sent { started: true, .. } | Phase::Synthesizing { started: true, .. } => {
                Some(c.id)
            }
            _ => None,
        })
    }

    /// Utterances waiting.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Counters.
    pub fn stats(&self) -> FloorStats {
        self.stats
    }

    /// Someone (or something) wants the agent to say `text`. Returns the
    /// utterance id it will have, or `None` when it was dropped at once.
    pub fn request(
        &mut self,
        now: Instant,
        text: &str,
        kind: SpeakKind,
        out: &mut Vec<FloorAction>,
    ) -> Option<u64> {
        let text = text.trim();
        if text.is_empty() || !text.chars().any(char::is_alphanumeric) {
            return None;
        }
        let id = self.next_id;
        self.next_id += 1;
        if self.queue.len() >= MAX_QUEUED {
            let victim = self
                .queue
                .iter()
                .position(|q| q.kind == SpeakKind::Commentary)
                .unwrap_or(0);
            if let Some(v) = self.queue.remove(victim) {
                self.drop_one(v.id, v.kind, DropReason::QueueFull, out);
            }
        }
        self.queue.push_back(Queued {
            id,
            kind,
            text: text.to_owned(),
            at: now,
        });
        self.advance(now, out);
        Some(id)
    }

    /// The synthesis of `id` finished: `Ok(length)` when the audio was
    /// handed to mediad, `Err(())` when it failed.
    pub fn on_synthesized(
        &mut self,
        now: Instant,
        id: u64,
        result: Result<Duration, ()>,
        out: &mut Vec<FloorAction>,
    ) {
        let Some(cur) = self.current.as_mut().filter(|c| c.id == id) else {
            return;
        };
        match (result, &cur.phase) {
            (Ok(length), Phase::Synthesizing { started, .. }) => {
                cur.phase = Phase::Sent {
                    deadline: now + START_TIMEOUT + length + PLAYBACK_SLACK,
                    started: *started,
                };
            }
            (Err(()), _) => {
                let kind = cur.kind;
                self.current = None;
                self.drop_one(id, kind, DropReason::SynthesisFailed, out);
                self.advance(now, out);
            }
            // Synthesis reported after a cancel: nothing to do.
            (Ok(_), _) => {}
        }
    }

    /// mediad reported on utterance `id`.
    pub fn on_playback(
        &mut self,
        now: Instant,
        id: u64,
        report: PlaybackReport,
        out: &mut Vec<FloorAction>,
    ) {
        let Some(cur) = self.current.as_mut().filter(|c| c.id == id) else {
            return;
        };
        match report {
            PlaybackReport::Started => {
                if let Phase::Sent { started, .. } | Phase::Synthesizing { started, .. } =
                    &mut cur.phase
                {
                    *started = true;
                }
                return;
            }
            PlaybackReport::Finished => self.stats.finished += 1,
            PlaybackReport::Cancelled => {}
            PlaybackReport::Failed => {
                let kind = cur.kind;
                self.drop_one(id, kind, DropReason::PlaybackFailed, out);
            }
        }
        self.current = None;
        self.advance(now, out);
    }

    /// Voice activity of a user (from mediad's VAD).
    pub fn on_user_speech(
        &mut self,
        now: Instant,
        user: u64,
        speaking: bool,
        out: &mut Vec<FloorAction>,
    ) {
        if !speaking {
            if self.speakers.remove(&user) {
                self.advance(now, out);
            }
            return;
        }
        if !self.speakers.insert(user) || !self.barge_in {
            return;
        }
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        match cur.phase {
            Phase::Cancelling { .. } => {}
            Phase::Synthesizing { .. } | Phase::Sent { .. } => {
                let (id, kind) = (cur.id, cur.kind);
                cur.phase = Phase::Cancelling {
                    deadline: now + START_TIMEOUT,
                };
                self.stats.barge_ins += 1;
                out.push(FloorAction::Cancel {
                    id,
                    reason: DropReason::BargeIn,
                });
                out.push(FloorAction::Dropped {
                    id,
                    kind,
                    reason: DropReason::BargeIn,
                });
            }
        }
    }

    /// mediad's link went away: whatever it was playing is gone, and users'
    /// voice activity is unknown until it reports again.
    pub fn on_media_lost(&mut self, now: Instant, out: &mut Vec<FloorAction>) {
        self.speakers.clear();
        if let Some(cur) = self.current.take()
            && !matches!(cur.phase, Phase::Cancelling { .. })
        {
            self.drop_one(cur.id, cur.kind, DropReason::PlaybackFailed, out);
        }
        self.advance(now, out);
    }

    /// When [`SpeechFloor::handle_timeout`] must run next: the current
    /// utterance's watchdog, or, while users hold the floor, when the oldest
    /// waiting commentary goes stale.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.current {
            Some(c) => Some(match c.phase {
                Phase::Synthesizing { since, .. } => since + SYNTHESIS_TIMEOUT,
                Phase::Sent { deadline, .. } | Phase::Cancelling { deadline } => deadline,
            }),
            None => self
                .queue
                .iter()
                .filter(|q| q.kind == SpeakKind::Commentary)
                .map(|q| q.at + COMMENTARY_MAX_WAIT)
                .min(),
        }
    }

    fn drop_stale(&mut self, now: Instant, out: &mut Vec<FloorAction>) {
        let mut kept = VecDeque::with_capacity(self.queue.len());
        for q in std::mem::take(&mut self.queue) {
            if q.kind == SpeakKind::Commentary && now >= q.at + COMMENTARY_MAX_WAIT {
                self.drop_one(q.id, q.kind, DropReason::Stale, out);
            } else {
                kept.push_back(q);
            }
        }
        self.queue = kept;
    }

    /// Frees the floor when mediad (or synthesis) never reported.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut Vec<FloorAction>) {
        if self.current.is_none() {
            // Waiting for users to finish: only staleness to check.
            self.drop_stale(now, out);
            return;
        }
        let Some(due) = self.poll_timeout() else {
            return;
        };
        if now < due {
            return;
        }
        if let Some(cur) = self.current.take()
            && !matches!(cur.phase, Phase::Cancelling { .. })
        {
            out.push(FloorAction::Cancel {
                id: cur.id,
                reason: DropReason::Timeout,
            });
            self.drop_one(cur.id, cur.kind, DropReason::Timeout, out);
        }
        self.advance(now, out);
    }

    fn drop_one(
        &mut self,
        id: u64,
        kind: SpeakKind,
        reason: DropReason,
        out: &mut Vec<FloorAction>,
    ) {
        self.stats.dropped += 1;
        out.push(FloorAction::Dropped { id, kind, reason });
    }

    fn advance(&mut self, now: Instant, out: &mut Vec<FloorAction>) {
        if self.current.is_some() {
            return;
        }
        self.drop_stale(now, out);
        if !self.speakers.is_empty() {
            return;
        }
        if let Some(q) = self.queue.pop_front() {
            self.current = Some(Current {
                id: q.id,
                kind: q.kind,
                phase: Phase::Synthesizing {
                    since: now,
                    started: false,
                },
            });
            out.push(FloorAction::Synthesize {
                id: q.id,
                text: q.text,
                kind: q.kind,
            });
        }
    }
}

#[cfg(test)]
#[path = "floor_tests.rs"]
mod tests;

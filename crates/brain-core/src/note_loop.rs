//! The note-loop scheduler (reference §4.3): when to make the next vision
//! call that writes one private note. It never speaks and never waits for
//! voice activity.

use std::time::{Duration, Instant};

use crate::intake::FrameMeta;
use crate::notebook::MAX_NOTE_CHARS;
use crate::settings::Settings;
use crate::text::{first_line, truncate_chars};

/// Why a note run started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoteTrigger {
    /// The screen is static and the idle interval passed.
    IdleInterval,
    /// The screen moves and the note interval passed.
    Interval,
    /// A scene cut or a change at or above the threshold, after the
    /// cooldown.
    ChangeDetected,
    /// The first frame of the watch.
    ShareStart,
}

impl NoteTrigger {
    /// The reference's reason string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdleInterval => "idle_interval",
            Self::Interval => "interval",
            Self::ChangeDetected => "change_detected",
            Self::ShareStart => "share_start",
        }
    }
}

/// One vision call to make: describe `frame` (the shell holds the JPEG of
/// the latest frame) and report back with [`NoteLoop::on_note_done`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoteJob {
    /// Why this run started.
    pub trigger: NoteTrigger,
    /// The frame to describe (the latest admitted one).
    pub frame: FrameMeta,
    /// When the run started.
    pub started_at: Instant,
    /// Sequence number of the run, from 1.
    pub seq: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Config {
    interval: Duration,
    idle_interval: Duration,
    change_threshold: f64,
    change_min_interval: Duration,
    static_floor: f64,
}

impl Config {
    fn from_settings(settings: &Settings) -> Self {
        let s = settings.clone().clamped();
        Self {
            interval: s.note_interval(),
            idle_interval: s.note_idle_interval(),
            change_threshold: s.change_threshold,
            change_min_interval: s.change_min_interval(),
            static_floor: s.static_floor,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Running {
    trigger: NoteTrigger,
    started_at: Instant,
}

/// The note-loop scheduler. Feed admitted frames with
/// [`NoteLoop::on_frame`], call [`NoteLoop::poll`] after every input and
/// when [`NoteLoop::poll_timeout`] passes, and report each job's result
/// with [`NoteLoop::on_note_done`].
#[derive(Debug, Clone)]
pub struct NoteLoop {
    cfg: Config,
    frames_seen: u64,
    latest: Option<FrameMeta>,
    immediate: Option<NoteTrigger>,
    next_run_at: Option<Instant>,
    running: Option<Running>,
    change_during_run: bool,
    last_change_capture_at: Option<Instant>,
    seq: u64,
}

impl NoteLoop {
    /// A loop with the intervals and thresholds of `settings` (clamped).
    pub fn new(settings: &Settings) -> Self {
        Self {
            cfg: Config::from_settings(settings),
            frames_seen: 0,
            latest: None,
            immediate: None,
            next_run_at: None,
            running: None,
            change_during_run: false,
            last_change_capture_at: None,
            seq: 0,
        }
    }

    /// Takes new settings; the schedule already set is kept.
    pub fn update_settings(&mut self, settings: &Settings) {
        self.cfg = Config::from_settings(settings);
    }

    /// Forgets the watch (a new or retargeted watch). A run in flight is
    /// forgotten too: its late result is ignored.
    pub fn reset(&mut self) {
        let cfg = self.cfg;
        let seq = self.seq;
        *self = Self {
            cfg,
            seq,
            ..Self::new(&Settings::default())
        };
    }

    fn delay_for(&self, frame: &FrameMeta) -> Duration {
        if frame.is_static(self.cfg.static_floor) {
            self.cfg.idle_interval
        } else {
            self.cfg.interval
        }
    }

    fn cooldown_passed(&self, now: Instant) -> bool {
        self.last_change_capture_at
            .is_none_or(|last| now.saturating_duration_since(last) >= self.cfg.change_min_interval)
    }

    fn schedule(&mut self, at: Instant) {
        // The earlier timer wins.
        if self.next_run_at.is_none_or(|t| at < t) {
            self.next_run_at = Some(at);
        }
    }

    fn raise(&mut self, trigger: NoteTrigger) {
        self.immediate = Some(self.immediate.map_or(trigger, |t| t.max(trigger)));
    }

    /// One admitted frame. The first frame of a watch asks for a run at
    /// once (`share_start`); a significant change after the cooldown asks
    /// for one at once (`change_detected`); otherwise a run is scheduled
    /// one note interval (idle interval when static) after this frame,
    /// unless an earlier one is already scheduled. While a run is in
    /// flight only the frame is kept (and a significant change remembered
    /// for when the run ends).
    pub fn on_frame(&mut self, meta: FrameMeta) {
        let frame = meta.sanitized();
        self.frames_seen = self.frames_seen.saturating_add(1);
        self.latest = Some(frame);
        let significant = frame.is_significant(self.cfg.change_threshold);
        if self.running.is_some() {
            self.change_during_run |= significant;
            return;
        }
        let now = frame.at;
        if self.frames_seen <= 1 {
            self.raise(NoteTrigger::ShareStart);
        } else if significant && self.cooldown_passed(now) {
            self.raise(NoteTrigger::ChangeDetected);
        } else {
            let delay = self.delay_for(&frame);
            self.schedule(now + delay);
        }
    }

    /// The next job, if one is due at `now` and none is in flight.
    pub fn poll(&mut self, now: Instant) -> Option<NoteJob> {
        if self.running.is_some() {
            return None;
        }
        let frame = self.latest?;
        let trigger = match self.immediate.take() {
            Some(trigger) => trigger,
            None if self.next_run_at.is_some_and(|t| t <= now) => {
                if frame.is_static(self.cfg.static_floor) {
                    NoteTrigger::IdleInterval
                } else {
                    NoteTrigger::Interval
                }
            }
            None => return None,
        };
        self.next_run_at = None;
        self.change_during_run = false;
        self.running = Some(Running {
            trigger,
            started_at: now,
        });
        self.seq = self.seq.saturating_add(1);
        Some(NoteJob {
            trigger,
            frame,
            started_at: now,
            seq: self.seq,
        })
    }

    /// The result of the job in flight: the model's raw reply, or an
    /// error. Returns the note to store (see [`parse_note_reply`]), if
    /// any. The loop then reschedules itself one interval from `now`, or
    /// at once for a change seen during the run (after the cooldown). A
    /// result with no job in flight is ignored.
    pub fn on_note_done(&mut self, now: Instant, result: Result<String, String>) -> Option<String> {
        let run = self.running.take()?;
        let note = result.ok().and_then(|raw| parse_note_reply(&raw));
        if note.is_some()
            && matches!(
                run.trigger,
                NoteTrigger::ShareStart | NoteTrigger::ChangeDetected
            )
        {
            self.last_change_capture_at = Some(run.started_at);
        }
        let change_seen = std::mem::take(&mut self.change_during_run);
        if change_seen && self.cooldown_passed(now) {
            self.raise(NoteTrigger::ChangeDetected);
        }
        if let Some(frame) = self.latest {
            let delay = self.delay_for(&frame);
            self.schedule(now + delay);
        }
        note
    }

    /// When [`NoteLoop::poll`] should next be called: `None` while a job
    /// is in flight or before the first frame.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.running.is_some() {
            return None;
        }
        match (self.immediate, self.latest) {
            (Some(_), Some(frame)) => Some(frame.at),
            _ => self.next_run_at,
        }
    }

    /// Whether a vision call is in flight.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The scheduled time of the next timed run.
    pub fn next_run_at(&self) -> Option<Instant> {
        self.next_run_at
    }

    /// The start of the last successful `share_start`/`change_detected`
    /// run (the cooldown's origin).
    pub fn last_change_capture_at(&self) -> Option<Instant> {
        self.last_change_capture_at
    }

    /// Frames seen since creation or reset.
    pub fn frames_seen(&self) -> u64 {
        self.frames_seen
    }
}

/// Turns the note model's reply into one stored note: the `note` field of
/// a JSON object (a surrounding Markdown code fence is tolerated), else
/// the raw text; then the first non-empty line, whitespace-collapsed, at
/// most [`MAX_NOTE_CHARS`] characters. `None` when nothing is left.
pub fn parse_note_reply(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let unfenced = strip_code_fence(trimmed);
    let text = match serde_json::from_str::<serde_json::Value>(unfenced) {
        Ok(serde_json::Value::Object(obj)) => match obj.get("note") {
            Some(serde_json::Value::String(note)) => note.clone(),
            _ => return None,
        },
        _ => trimmed.to_owned(),
    };
    let line = truncate_chars(&first_line(&text), MAX_NOTE_CHARS);
    (!line.is_empty()).then_some(line)
}

fn strip_code_fence(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("```") else {
        return text;
    };
    let Some(body) = rest.strip_suffix("```") else {
        return text;
    };
    // Drop the info string ("json") on the opening line.
    match body.find('\n') {
        Some(newline) => body[newline..].trim(),
        None => body.trim(),
    }
}

#[cfg(test)]
mod tests {
    // Virtual time: every test takes one base instant and adds offsets.
    #![allow(clippy::disallowed_methods)]

    use super::*;

    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    fn moving(t: Instant) -> FrameMeta {
        // Above the static floor, below the change threshold.
        FrameMeta {
            at: t,
            bytes: 100,
            change_score: 0.007,
            ema_score: 0.007,
            scene_cut: false,
        }
    }

    fn still(t: Instant) -> FrameMeta {
        FrameMeta::unscored(t, 100)
    }

    fn cut(t: Instant) -> FrameMeta {
        FrameMeta {
            at: t,
            bytes: 100,
            change_score: 0.6,
            ema_score: 0.2,
            scene_cut: true,
        }
    }

    fn finish(lp: &mut NoteLoop, t: Instant) -> Option<String> {
        lp.on_note_done(t, Ok(r#"{"note":"a note"}"#.to_owned()))
    }

    #[test]
    fn first_frame_runs_at_once() {
        let t0 = Instant::now();
        let mut lp = NoteLoop::new(&Settings::default());
        assert_eq!(lp.poll(t0), None);
        assert_eq!(lp.poll_timeout(), None);
        lp.on_frame(still(t0));
        assert_eq!(lp.poll_timeout(), Some(t0));
        let job = lp.poll(t0).expect("job");
        assert_eq!(job.trigger, NoteTrigger::ShareStart);
        assert_eq!(job.seq, 1);
        assert_eq!(finish(&mut lp, at(t0, 1500)).as_deref(), Some("a note"));
        assert_eq!(lp.last_change_capture_at(), Some(t0));
    }

    #[test]
    fn one_call_in_flight() {
        let t0 = Instant::now();
        let mut lp = NoteLoop::new(&Settings::default());
        lp.on_frame(still(t0));
        assert!(lp.poll(t0).is_some());
        // Cuts and timers while in flight do not start another call.
        lp.on_frame(cut(at(t0, 5_000)));
        assert_eq!(lp.poll(at(t0, 5_000)), None);
        assert_eq!(lp.poll(at(t0, 100_000)), None);
        assert_eq!(lp.poll_timeout(), None);
        assert!(lp.is_running());
        // The cut seen during the run is captured when the run ends.
        finish(&mut lp, at(t0, 100_000));
        let job = lp.poll(at(t0, 100_000)).expect("job");
        assert_eq!(job.trigger, NoteTrigger::ChangeDetected);
        assert_eq!(job.frame.at, at(t0, 5_000));
        // A stray result with nothing in flight is ignored.
        assert!(finish(&mut lp, at(t0, 100_001)).is_some());
        assert_eq!(finish(&mut lp, at(t0, 100_002)), None);
    }

    #[test]
    fn scene_cut_runs_at_once_after_the_cooldown() {
        let t0 = Instant::now();
        let mut lp = NoteLoop::new(&Settings::default()); // cooldown 2 s
        lp.on_frame(still(t0));
        lp.poll(t0).expect("share_start");
        finish(&mut lp, at(t0, 500));
        // 1.5 s after the share_start capture: inside the cooldown.
        lp.on_frame(cut(at(t0, 1_500)));
        assert_eq!(lp.poll(at(t0, 1_500)), None);
        // 2 s after: runs at once.
        lp.on_frame(cut(at(t0, 2_000)));
        let job = lp.poll(at(t0, 2_000)).expect("cut");
        assert_eq!(job.trigger, NoteTrigger::ChangeDetected);
        finish(&mut lp, at(t0, 2_500));
        assert_eq!(lp.last_change_capture_at(), Some(at(t0, 2_000)));
    }

    #[test]
    fn threshold_change_respects_cooldown() {
        let t0 = Instant::now();
        let settings = Settings {
            change_threshold: 0.1,
            change_min_interval_seconds: 5,
            ..Settings::default()
        };
        let mut lp = NoteLoop::new(&settings);
        lp.on_frame(still(t0));
        lp.poll(t0).expect("share_start");
        finish(&mut lp, at(t0, 100));
        let change = |t| FrameMeta {
            at: t,
            bytes: 1,
            change_score: 0.1,
            ema_score: 0.05,
            scene_cut: false,
        };
        let below = |t| FrameMeta {
            at: t,
            bytes: 1,
            change_score: 0.09,
            ema_score: 0.09,
            scene_cut: false,
        };
        lp.on_frame(below(at(t0, 6_000)));
        assert_eq!(lp.poll(at(t0, 6_000)), None, "below the threshold");
        lp.on_frame(change(at(t0, 4_999)));
        assert_eq!(lp.poll(at(t0, 4_999)), None, "cooldown not passed");
        lp.on_frame(change(at(t0, 6_000)));
        let job = lp.poll(at(t0, 6_000)).expect("change");
        assert_eq!(job.trigger, NoteTrigger::ChangeDetected);
        finish(&mut lp, at(t0, 7_000));
        // Cooldown counts from the start of the last change-triggered run.
        lp.on_frame(change(at(t0, 10_999)));
        assert_eq!(lp.poll(at(t0, 10_999)), None);
        lp.on_frame(change(at(t0, 11_000)));
        assert_eq!(
            lp.poll(at(t0, 11_000)).map(|j| j.trigger),
            Some(NoteTrigger::ChangeDetected)
        );
        // A failed change run does not restart the cooldown.
        lp.on_note_done(at(t0, 11_500), Err("timeout".into()));
        assert_eq!(lp.last_change_capture_at(), Some(at(t0, 6_000)));
    }

    #[test]
    fn interval_while_moving_and_idle_interval_while_static() {
        let t0 = Instant::now();
        let mut lp = NoteLoop::new(&Settings::default()); // 10 s / 30 s
        lp.on_frame(still(t0));
        lp.poll(t0).expect("share_start");
        finish(&mut lp, t0);
        // Static: next run 30 s after the run ended.
        assert_eq!(lp.poll_timeout(), Some(at(t0, 30_000)));
        lp.on_frame(still(at(t0, 1_000)));
        assert_eq!(
            lp.poll_timeout(),
            Some(at(t0, 30_000)),
            "earlier timer wins"
        );
        assert_eq!(lp.poll(at(t0, 29_999)), None);
        let job = lp.poll(at(t0, 30_000)).expect("idle");
        assert_eq!(job.trigger, NoteTrigger::IdleInterval);
        finish(&mut lp, at(t0, 30_000));
        // Moving (above the floor, below the threshold): 10 s from the frame.
        lp.on_frame(moving(at(t0, 31_000)));
        assert_eq!(
            lp.poll_timeout(),
            Some(at(t0, 41_000)),
            "earlier timer replaces the idle one"
        );
        let job = lp.poll(at(t0, 41_000)).expect("interval");
        assert_eq!(job.trigger, NoteTrigger::Interval);
        // The loop keeps going without new frames.
        finish(&mut lp, at(t0, 42_000));
        assert_eq!(lp.poll_timeout(), Some(at(t0, 52_000)));
        assert_eq!(
            lp.poll(at(t0, 52_000)).map(|j| j.trigger),
            Some(NoteTrigger::Interval)
        );
    }

    #[test]
    fn failures_reschedule_and_reset_forgets() {
        let t0 = Instant::now();
        let mut lp = NoteLoop::new(&Settings::default());
        lp.on_frame(still(t0));
        lp.poll(t0).expect("job");
        assert_eq!(lp.on_note_done(at(t0, 10), Err("500".into())), None);
        assert_eq!(lp.last_change_capture_at(), None);
        assert_eq!(lp.poll_timeout(), Some(at(t0, 30_010)));
        lp.reset();
        assert_eq!(lp.poll_timeout(), None);
        lp.on_frame(still(at(t0, 50_000)));
        let job = lp.poll(at(t0, 50_000)).expect("share_start again");
        assert_eq!(job.trigger, NoteTrigger::ShareStart);
        assert_eq!(job.seq, 2, "sequence numbers survive a reset");
    }

    #[test]
    fn note_replies_are_parsed() {
        assert_eq!(
            parse_note_reply(r#"{"note":"Score 3-1\nsecond line"}"#).as_deref(),
            Some("Score 3-1")
        );
        assert_eq!(
            parse_note_reply("```json\n{\"note\": \"in a fence\"}\n```").as_deref(),
            Some("in a fence")
        );
        assert_eq!(
            parse_note_reply("  plain   text \n more").as_deref(),
            Some("plain text")
        );
        assert_eq!(parse_note_reply(r#"{"other":1}"#), None);
        assert_eq!(parse_note_reply("  "), None);
        assert_eq!(
            parse_note_reply(&"y".repeat(900)).map(|n| n.len()),
            Some(MAX_NOTE_CHARS)
        );
    }
}

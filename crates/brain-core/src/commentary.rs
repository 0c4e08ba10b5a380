//! The commentary loop (reference §4.6): when the bot may say something
//! about the screen unprompted, and how the model's reply is read (§4.8).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::intake::FrameMeta;
use crate::settings::Settings;
use crate::text::{collapse_whitespace, truncate_chars};

/// Longest `[[NOTE:…]]` directive kept, in characters.
pub const MAX_DIRECTIVE_CHARS: usize = 220;
/// Most users tracked as speaking at once; more are not tracked
/// individually (the gate stays closed while any is tracked).
pub const MAX_TRACKED_SPEAKERS: usize = 256;

/// Why commentary fires. Ordered by priority (share_start highest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CommentaryTrigger {
    /// `commentaryIntervalSeconds` passed since the last commentary.
    Interval,
    /// A significant change after the change cooldown.
    ChangeDetected,
    /// The first frame of the watch.
    ShareStart,
}

impl CommentaryTrigger {
    /// The reference's event type string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Interval => "interval",
            Self::ChangeDetected => "change_detected",
            Self::ShareStart => "share_start",
        }
    }

    /// The synthetic event line given to the brain for this trigger
    /// (`name` is the streamer's display name).
    pub fn transcript(self, name: &str) -> String {
        match self {
            Self::ShareStart => {
                format!("[{name} started screen sharing. You can see the latest frame.]")
            }
            Self::ChangeDetected => {
                format!("[{name} is screen sharing. Something notable just happened on screen.]")
            }
            Self::Interval => format!("[A fresh frame from {name}'s screen share is available.]"),
        }
    }
}

/// Voice-side work that blocks commentary while it is going on ("pending
/// voice work"). Each kind is counted: overlapping pieces of work (two
/// conversation turns answered at once) keep the gate closed until the
/// last one ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BusyKind {
    /// A reply to someone is being generated: a conversation turn's LLM
    /// call (and, with voice output, an open reply).
    PendingReply,
    /// The bot is playing audio (a turn is open or audio is buffered).
    Playback,
    /// Queued voice work: accepted turns in flight, pending transcriptions,
    /// queued user turns, a locked output channel.
    VoiceWork,
}

/// One reason commentary cannot fire now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gate {
    /// The previous commentary call has not been reported done.
    InFlight,
    /// [`BusyKind::PendingReply`] is set.
    PendingReply,
    /// [`BusyKind::Playback`] is set.
    Playback,
    /// [`BusyKind::VoiceWork`] is set.
    VoiceWork,
    /// Someone is speaking, or spoke within the quiet window.
    AudioQuietWindow,
}

impl Gate {
    /// A short reason string for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InFlight => "commentary_in_flight",
            Self::PendingReply => "pending_response",
            Self::Playback => "playback_busy",
            Self::VoiceWork => "queued_voice_work",
            Self::AudioQuietWindow => "audio_quiet_window",
        }
    }
}

/// A commentary turn to run now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CommentaryJob {
    /// The trigger used (the higher of the deferred and the immediate one).
    pub trigger: CommentaryTrigger,
    /// What this frame alone triggered.
    pub immediate: Option<CommentaryTrigger>,
    /// The deferred trigger that was waiting, if any.
    pub deferred: Option<CommentaryTrigger>,
    /// Whether the deferred trigger is the one used.
    pub deferred_used: bool,
    /// How long the deferred trigger waited.
    pub waited: Duration,
    /// The frame to attach (the one that fired).
    pub frame: FrameMeta,
}

/// What [`CommentaryLoop::on_frame`] decided.
#[derive(Debug, Clone, PartialEq)]
pub enum CommentaryDecision {
    /// Nothing to say about this frame.
    Idle,
    /// Autonomous commentary is disabled.
    Disabled,
    /// A trigger is waiting for the gates to open (re-checked on the next
    /// frame).
    Deferred {
        /// The trigger waiting (the higher-priority one).
        trigger: CommentaryTrigger,
        /// What this frame alone triggered.
        immediate: Option<CommentaryTrigger>,
        /// Every gate that is closed.
        blocked: Vec<Gate>,
    },
    /// Run a commentary turn; report its end with
    /// [`CommentaryLoop::on_commentary_done`].
    Fire(CommentaryJob),
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Config {
    enabled: bool,
    interval: Duration,
    change_threshold: f64,
    change_min_interval: Duration,
    quiet: Duration,
}

impl Config {
    fn from_settings(settings: &Settings) -> Self {
        let s = settings.clone().clamped();
        Self {
            enabled: s.autonomous_commentary_enabled,
            interval: s.commentary_interval(),
            change_threshold: s.change_threshold,
            change_min_interval: s.change_min_interval(),
            quiet: s.inbound_audio_quiet(),
        }
    }
}

/// The commentary scheduler. Feed every admitted frame with
/// [`CommentaryLoop::on_frame`], speaking activity with
/// [`CommentaryLoop::on_speaking`], voice-side work with
/// [`CommentaryLoop::set_busy`]. Decisions happen only on frames.
#[derive(Debug, Clone)]
pub struct CommentaryLoop {
    cfg: Config,
    frames_seen: u64,
    last_commentary_at: Option<Instant>,
    pending: Option<(CommentaryTrigger, Instant)>,
    speaking: BTreeSet<u64>,
    last_inbound_audio_at: Option<Instant>,
    busy: [u32; 3],
    in_flight: bool,
}

fn busy_index(kind: BusyKind) -> usize {
    match kind {
        BusyKind::PendingReply => 0,
        BusyKind::Playback => 1,
        BusyKind::VoiceWork => 2,
    }
}

impl CommentaryLoop {
    /// A loop with the settings' interval, thresholds and quiet window.
    pub fn new(settings: &Settings) -> Self {
        Self {
            cfg: Config::from_settings(settings),
            frames_seen: 0,
            last_commentary_at: None,
            pending: None,
            speaking: BTreeSet::new(),
            last_inbound_audio_at: None,
            busy: [0; 3],
            in_flight: false,
        }
    }

    /// Takes new settings.
    pub fn update_settings(&mut self, settings: &Settings) {
        self.cfg = Config::from_settings(settings);
    }

    /// Forgets the watch (frames, last commentary, the deferred trigger,
    /// an in-flight call). Voice state (speaking, busy flags) is kept: it
    /// belongs to the voice session, not the watch.
    pub fn reset(&mut self) {
        self.frames_seen = 0;
        self.last_commentary_at = None;
        self.pending = None;
        self.in_flight = false;
    }

    /// Speaking activity of a user (from mediad): `active` starts or ends
    /// their speech. Any activity restarts the quiet window.
    pub fn on_speaking(&mut self, now: Instant, user: u64, active: bool) {
        self.last_inbound_audio_at = Some(match self.last_inbound_audio_at {
            Some(last) if last > now => last,
            _ => now,
        });
        if active {
            if self.speaking.len() < MAX_TRACKED_SPEAKERS {
                self.speaking.insert(user);
            }
        } else {
            self.speaking.remove(&user);
        }
    }

    /// Sets or clears one kind of voice-side work as a level: `true` is
    /// one piece of work, `false` none (use [`CommentaryLoop::begin_voice_work`]
    /// and [`CommentaryLoop::end_voice_work`] for overlapping work).
    pub fn set_busy(&mut self, kind: BusyKind, busy: bool) {
        self.set_voice_work(kind, u32::from(busy));
    }

    /// One more piece of voice-side work of `kind` started (a conversation
    /// turn's LLM call: [`BusyKind::PendingReply`]). Commentary is deferred
    /// until every piece has ended.
    pub fn begin_voice_work(&mut self, kind: BusyKind) {
        let n = &mut self.busy[busy_index(kind)];
        *n = n.saturating_add(1);
    }

    /// One piece of voice-side work of `kind` ended (an extra end is
    /// ignored).
    pub fn end_voice_work(&mut self, kind: BusyKind) {
        let n = &mut self.busy[busy_index(kind)];
        *n = n.saturating_sub(1);
    }

    /// Sets how many pieces of voice-side work of `kind` are going on (a
    /// loop made for a new watch takes the voice session's count).
    pub fn set_voice_work(&mut self, kind: BusyKind, count: u32) {
        self.busy[busy_index(kind)] = count;
    }

    /// How many pieces of voice-side work of `kind` are going on.
    pub fn voice_work(&self, kind: BusyKind) -> u32 {
        self.busy[busy_index(kind)]
    }

    /// The commentary call fired last has ended (spoken, posted, skipped or
    /// failed).
    pub fn on_commentary_done(&mut self) {
        self.in_flight = false;
    }

    /// The gates closed at `now`.
    pub fn blocked(&self, now: Instant) -> Vec<Gate> {
        let mut gates = Vec::new();
        if self.in_flight {
            gates.push(Gate::InFlight);
        }
        for (kind, gate) in [
            (BusyKind::PendingReply, Gate::PendingReply),
            (BusyKind::Playback, Gate::Playback),
            (BusyKind::VoiceWork, Gate::VoiceWork),
        ] {
            if self.busy[busy_index(kind)] > 0 {
                gates.push(gate);
            }
        }
        let recent_audio = self
            .last_inbound_audio_at
            .is_some_and(|t| now.saturating_duration_since(t) < self.cfg.quiet);
        if !self.speaking.is_empty() || recent_audio {
            gates.push(Gate::AudioQuietWindow);
        }
        gates
    }

    /// One admitted frame: computes this frame's trigger, combines it with
    /// a deferred one, and fires or defers.
    pub fn on_frame(&mut self, meta: FrameMeta) -> CommentaryDecision {
        let frame = meta.sanitized();
        self.frames_seen = self.frames_seen.saturating_add(1);
        if !self.cfg.enabled {
            self.pending = None;
            return CommentaryDecision::Disabled;
        }
        let now = frame.at;
        let since = self
            .last_commentary_at
            .map(|t| now.saturating_duration_since(t));
        let elapsed = |d: Duration| since.is_none_or(|s| s >= d);
        let immediate = if self.frames_seen <= 1 {
            Some(CommentaryTrigger::ShareStart)
        } else if elapsed(self.cfg.change_min_interval)
            && frame.is_significant(self.cfg.change_threshold)
        {
            // Also when the interval has elapsed: change_detected wins.
            Some(CommentaryTrigger::ChangeDetected)
        } else if elapsed(self.cfg.interval) {
            Some(CommentaryTrigger::Interval)
        } else {
            None
        };
        let deferred = self.pending.map(|(t, _)| t);
        let Some(trigger) = immediate.max(deferred) else {
            return CommentaryDecision::Idle;
        };
        let blocked = self.blocked(now);
        if !blocked.is_empty() {
            let queued_at = self.pending.map_or(now, |(_, q)| q);
            self.pending = Some((trigger, queued_at));
            return CommentaryDecision::Deferred {
                trigger,
                immediate,
                blocked,
            };
        }
        let waited = self
            .pending
            .take()
            .map_or(Duration::ZERO, |(_, q)| now.saturating_duration_since(q));
        let deferred_used = deferred.is_some() && (immediate.is_none() || deferred > immediate);
        self.last_commentary_at = Some(now);
        self.in_flight = true;
        CommentaryDecision::Fire(CommentaryJob {
            trigger,
            immediate,
            deferred,
            deferred_used,
            waited,
            frame,
        })
    }

    /// The trigger waiting for the gates, and since when.
    pub fn pending(&self) -> Option<(CommentaryTrigger, Instant)> {
        self.pending
    }

    /// When commentary last fired.
    pub fn last_commentary_at(&self) -> Option<Instant> {
        self.last_commentary_at
    }
}

/// The model's commentary reply, read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Commentary {
    /// Say nothing (`[SKIP]`, or nothing worth saying was left).
    pub skip: bool,
    /// What to post / speak; empty when `skip`.
    pub text: String,
    /// `[[NOTE:…]]` directives to store with the notes (even when
    /// skipping).
    pub notes: Vec<String>,
}

const NOTE_OPEN: &str = "[[note:";
const SKIP: &str = "[skip]";

/// Reads a commentary reply: extracts and strips every `[[NOTE:…]]`
/// directive, then applies the `[SKIP]` rules. See the crate docs for
/// the exact rules.
pub fn parse_commentary(output: &str) -> Commentary {
    let (text, notes) = extract_note_directives(output);
    let (skip, text) = apply_skip(&text);
    Commentary { skip, text, notes }
}

/// Extracts `[[NOTE:…]]` directives (case-insensitive, spanning lines,
/// non-greedy). Returns the text with each directive replaced by a space
/// and whitespace collapsed (only trimmed when there were none), and the
/// notes (whitespace-collapsed, ≤ [`MAX_DIRECTIVE_CHARS`], empty ones
/// dropped). An unterminated directive is cut from the text with
/// everything after it, and its content is dropped.
pub fn extract_note_directives(output: &str) -> (String, Vec<String>) {
    // ASCII lower-casing keeps byte offsets, and the markers are ASCII, so
    // offsets found in `lower` are char boundaries of `output`.
    let lower = output.to_ascii_lowercase();
    let mut text = String::with_capacity(output.len());
    let mut notes = Vec::new();
    let mut found = false;
    let mut pos = 0;
    while let Some(rel) = lower[pos..].find(NOTE_OPEN) {
        found = true;
        let start = pos + rel;
        let body = start + NOTE_OPEN.len();
        text.push_str(&output[pos..start]);
        text.push(' ');
        match lower[body..].find("]]") {
            Some(rel_end) => {
                let note = truncate_chars(
                    &collapse_whitespace(&output[body..body + rel_end]),
                    MAX_DIRECTIVE_CHARS,
                );
                if !note.is_empty() {
                    notes.push(note);
                }
                pos = body + rel_end + 2;
            }
            None => {
                pos = output.len();
                break;
            }
        }
    }
    text.push_str(&output[pos..]);
    let text = if found {
        collapse_whitespace(&text)
    } else {
        text.trim().to_owned()
    };
    (text, notes)
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.is_char_boundary(prefix.len())
        && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    let Some(cut) = text.len().checked_sub(suffix.len()) else {
        return false;
    };
    text.is_char_boundary(cut) && text[cut..].eq_ignore_ascii_case(suffix)
}

/// The `[SKIP]` rules on text already free of directives.
fn apply_skip(text: &str) -> (bool, String) {
    let mut rest = text.trim();
    if starts_with_ignore_case(rest, SKIP) {
        return (true, String::new());
    }
    while ends_with_ignore_case(rest, SKIP) {
        rest = rest[..rest.len() - SKIP.len()].trim_end();
    }
    // A stray [SKIP] inside the text is removed, never posted.
    let cleaned = if rest.to_ascii_lowercase().contains(SKIP) {
        let lower = rest.to_ascii_lowercase();
        let mut out = String::with_capacity(rest.len());
        let mut pos = 0;
        while let Some(rel) = lower[pos..].find(SKIP) {
            out.push_str(&rest[pos..pos + rel]);
            out.push(' ');
            pos += rel + SKIP.len();
        }
        out.push_str(&rest[pos..]);
        collapse_whitespace(&out)
    } else {
        rest.to_owned()
    };
    if !cleaned.chars().any(char::is_alphanumeric) {
        return (true, String::new());
    }
    (false, cleaned)
}

#[cfg(test)]
mod tests {
    // Virtual time: every test takes one base instant and adds offsets.
    #![allow(clippy::disallowed_methods)]

    use super::*;

    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    fn still(t: Instant) -> FrameMeta {
        FrameMeta::unscored(t, 100)
    }

    fn changed(t: Instant) -> FrameMeta {
        FrameMeta {
            at: t,
            bytes: 100,
            change_score: 0.3,
            ema_score: 0.1,
            scene_cut: false,
        }
    }

    fn fired(d: CommentaryDecision) -> CommentaryJob {
        match d {
            CommentaryDecision::Fire(job) => job,
            other => panic!("expected Fire, got {other:?}"),
        }
    }

    #[test]
    fn share_start_fires_on_the_first_frame() {
        let t0 = Instant::now();
        let mut lp = CommentaryLoop::new(&Settings::default());
        let job = fired(lp.on_frame(still(t0)));
        assert_eq!(job.trigger, CommentaryTrigger::ShareStart);
        assert!(!job.deferred_used);
        assert_eq!(lp.last_commentary_at(), Some(t0));
    }

    #[test]
    fn interval_and_change_triggers() {
        let t0 = Instant::now();
        let mut lp = CommentaryLoop::new(&Settings::default()); // 15 s, cooldown 2 s
        fired(lp.on_frame(still(t0)));
        lp.on_commentary_done();
        assert_eq!(lp.on_frame(still(at(t0, 14_999))), CommentaryDecision::Idle);
        assert_eq!(
            fired(lp.on_frame(still(at(t0, 15_000)))).trigger,
            CommentaryTrigger::Interval
        );
        lp.on_commentary_done();
        assert_eq!(
            lp.on_frame(changed(at(t0, 16_999))),
            CommentaryDecision::Idle,
            "change cooldown"
        );
        assert_eq!(
            fired(lp.on_frame(changed(at(t0, 17_000)))).trigger,
            CommentaryTrigger::ChangeDetected
        );
    }

    #[test]
    fn change_detected_label_when_both_hold() {
        let t0 = Instant::now();
        let mut lp = CommentaryLoop::new(&Settings::default());
        fired(lp.on_frame(still(t0)));
        lp.on_commentary_done();
        let job = fired(lp.on_frame(changed(at(t0, 20_000))));
        assert_eq!(job.trigger, CommentaryTrigger::ChangeDetected);
        assert_eq!(job.immediate, Some(CommentaryTrigger::ChangeDetected));
    }

    #[test]
    fn quiet_window_defers_until_the_next_eligible_frame() {
        let t0 = Instant::now();
        let mut lp = CommentaryLoop::new(&Settings::default()); // quiet 2.2 s
        lp.on_speaking(t0, 7, true);
        let d = lp.on_frame(still(at(t0, 100)));
        assert_eq!(
            d,
            CommentaryDecision::Deferred {
                trigger: CommentaryTrigger::ShareStart,
                immediate: Some(CommentaryTrigger::ShareStart),
                blocked: vec![Gate::AudioQuietWindow],
            }
        );
        lp.on_speaking(at(t0, 3_000), 7, false);
        // Inside the quiet window after speech ended: still deferred, and
        // the waiting trigger is not replaced by a lower one.
        let d = lp.on_frame(changed(at(t0, 5_000)));
        assert!(
            matches!(
                d,
                CommentaryDecision::Deferred {
                    trigger: CommentaryTrigger::ShareStart,
                    ..
                }
            ),
            "{d:?}"
        );
        assert_eq!(
            lp.pending(),
            Some((CommentaryTrigger::ShareStart, at(t0, 100)))
        );
        // 2.2 s after the speech ended: the next frame delivers it.
        let job = fired(lp.on_frame(still(at(t0, 5_200))));
        assert_eq!(job.trigger, CommentaryTrigger::ShareStart);
        assert_eq!(
            job.immediate,
            Some(CommentaryTrigger::Interval),
            "first commentary: since is unbounded"
        );
        assert!(job.deferred_used);
        assert_eq!(job.waited, Duration::from_millis(5_100));
        assert_eq!(lp.pending(), None);
    }

    #[test]
    fn deferred_trigger_is_not_dropped_without_a_new_trigger() {
        let t0 = Instant::now();
        let mut lp = CommentaryLoop::new(&Settings::default());
        fired(lp.on_frame(still(t0)));
        lp.on_commentary_done();
        lp.set_busy(BusyKind::Playback, true);
        let d = lp.on_frame(changed(at(t0, 3_000)));
        assert!(
            matches!(d, CommentaryDecision::Deferred { trigger: CommentaryTrigger::ChangeDetected, ref blocked, .. } if blocked == &vec![Gate::Playback])
        );
        lp.set_busy(BusyKind::Playback, false);
        // The next frame triggers nothing itself, but the deferred one fires.
        let job = fired(lp.on_frame(still(at(t0, 4_000))));
        assert_eq!(job.trigger, CommentaryTrigger::ChangeDetected);
        assert_eq!(job.immediate, None);
        assert!(job.deferred_used);
    }

    #[test]
    fn conversation_turns_in_flight_defer_commentary_until_the_last_ends() {
        // Issue 20 §3: a commentary started 0.7 s into a 4 s chat turn.
        let t0 = Instant::now();
        let mut lp = CommentaryLoop::new(&Settings::default()); // interval 15 s
        fired(lp.on_frame(still(t0)));
        lp.on_commentary_done();
        // Two turns overlap: t0+14 s and t0+15 s.
        lp.begin_voice_work(BusyKind::PendingReply);
        lp.begin_voice_work(BusyKind::PendingReply);
        let d = lp.on_frame(still(at(t0, 15_700)));
        assert_eq!(
            d,
            CommentaryDecision::Deferred {
                trigger: CommentaryTrigger::Interval,
                immediate: Some(CommentaryTrigger::Interval),
                blocked: vec![Gate::PendingReply],
            }
        );
        // The first turn ends; the second is still in flight.
        lp.end_voice_work(BusyKind::PendingReply);
        assert_eq!(lp.voice_work(BusyKind::PendingReply), 1);
        let d = lp.on_frame(changed(at(t0, 17_000)));
        assert!(
            matches!(d, CommentaryDecision::Deferred { trigger: CommentaryTrigger::ChangeDetected, ref blocked, .. } if blocked == &vec![Gate::PendingReply]),
            "{d:?}"
        );
        // The last turn ends: the next eligible frame delivers the waiting
        // trigger (no new trigger of its own needed).
        lp.end_voice_work(BusyKind::PendingReply);
        lp.end_voice_work(BusyKind::PendingReply); // extra end: ignored
        assert_eq!(lp.voice_work(BusyKind::PendingReply), 0);
        let job = fired(lp.on_frame(still(at(t0, 19_700))));
        assert_eq!(job.trigger, CommentaryTrigger::ChangeDetected);
        assert!(job.deferred_used);
        assert_eq!(job.waited, Duration::from_millis(4_000));
        // A loop for a new watch takes the session's count.
        let mut next = CommentaryLoop::new(&Settings::default());
        next.set_voice_work(BusyKind::PendingReply, 1);
        assert!(matches!(
            next.on_frame(still(t0)),
            CommentaryDecision::Deferred { .. }
        ));
    }

    #[test]
    fn every_gate_blocks() {
        let t0 = Instant::now();
        for kind in [
            BusyKind::PendingReply,
            BusyKind::Playback,
            BusyKind::VoiceWork,
        ] {
            let mut lp = CommentaryLoop::new(&Settings::default());
            lp.set_busy(kind, true);
            assert!(
                matches!(lp.on_frame(still(t0)), CommentaryDecision::Deferred { .. }),
                "{kind:?}"
            );
        }
        // A fired call blocks the next until reported done.
        let mut lp = CommentaryLoop::new(&Settings::default());
        fired(lp.on_frame(still(t0)));
        let d = lp.on_frame(still(at(t0, 60_000)));
        assert!(
            matches!(d, CommentaryDecision::Deferred { ref blocked, .. } if blocked == &vec![Gate::InFlight])
        );
        lp.on_commentary_done();
        assert_eq!(
            fired(lp.on_frame(still(at(t0, 61_000)))).trigger,
            CommentaryTrigger::Interval
        );
        assert_eq!(Gate::AudioQuietWindow.as_str(), "audio_quiet_window");
    }

    #[test]
    fn disabled_commentary_never_fires_or_queues() {
        let t0 = Instant::now();
        let settings = Settings {
            autonomous_commentary_enabled: false,
            ..Settings::default()
        };
        let mut lp = CommentaryLoop::new(&settings);
        assert_eq!(lp.on_frame(still(t0)), CommentaryDecision::Disabled);
        assert_eq!(lp.pending(), None);
        lp.update_settings(&Settings::default());
        assert_eq!(
            fired(lp.on_frame(still(at(t0, 1_000)))).trigger,
            CommentaryTrigger::Interval
        );
    }

    #[test]
    fn skip_rules() {
        let skip = |s: &str| parse_commentary(s);
        assert!(skip("[SKIP]").skip);
        assert!(skip("  [skip] ").skip);
        assert!(skip("").skip);
        assert!(skip("...").skip, "no word characters");
        let c = skip("hello there [SKIP]");
        assert_eq!((c.skip, c.text.as_str()), (false, "hello there"));
        assert!(skip("[SKIP] [SKIP]").skip);
        let c = skip("[SKIP] nothing new on screen");
        assert_eq!(
            (c.skip, c.text.as_str()),
            (true, ""),
            "leading [SKIP] skips"
        );
        let c = skip("nice [skip] move");
        assert_eq!((c.skip, c.text.as_str()), (false, "nice move"));
        let c = skip("  Nice combo!\nThat was close.  ");
        assert_eq!(
            c.text, "Nice combo!\nThat was close.",
            "no directive: only trimmed"
        );
    }

    #[test]
    fn note_directives_are_extracted_and_stripped() {
        let c = parse_commentary(
            "Nice, [[NOTE: boss at 20% hp ]] keep going [[note:\nplayer low\n on ammo]]!",
        );
        assert_eq!(c.text, "Nice, keep going !");
        assert_eq!(c.notes, vec!["boss at 20% hp", "player low on ammo"]);
        assert!(!c.skip);
        let c = parse_commentary("[SKIP] [[NOTE:x]]");
        assert!(c.skip);
        assert_eq!(c.notes, vec!["x"]);
        let c = parse_commentary("[[NOTE:]] [[NOTE:   ]] ok");
        assert!(c.notes.is_empty());
        assert_eq!(c.text, "ok");
        let c = parse_commentary("Look out [[NOTE: cut off by the token limi");
        assert_eq!(c.text, "Look out");
        assert!(c.notes.is_empty(), "unterminated directive dropped");
        let long = format!("[[NOTE:{}]]", "é".repeat(300));
        assert_eq!(
            parse_commentary(&long).notes[0].chars().count(),
            MAX_DIRECTIVE_CHARS
        );
        let c = parse_commentary("[[NOTE:a]]]] tail");
        assert_eq!(
            (c.text.as_str(), c.notes.clone()),
            ("]] tail", vec!["a".to_owned()])
        );
    }

    #[test]
    fn transcripts_name_the_streamer() {
        assert_eq!(
            CommentaryTrigger::ShareStart.transcript("Alice"),
            "[Alice started screen sharing. You can see the latest frame.]"
        );
        assert!(
            CommentaryTrigger::Interval
                .transcript("Bo")
                .contains("Bo's screen share")
        );
        assert_eq!(
            CommentaryTrigger::ChangeDetected.as_str(),
            "change_detected"
        );
    }
}

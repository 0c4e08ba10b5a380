//! The rolling buffer of short screen notes (reference §4.5).

use std::collections::VecDeque;
use std::time::Instant;

use crate::text::{collapse_whitespace, truncate_chars};

/// Longest stored note, in characters.
pub const MAX_NOTE_CHARS: usize = 400;
/// Most notes waiting for compaction; older ones are dropped (and counted).
pub const MAX_PENDING_COMPACTION: usize = 24;
/// Smallest and largest buffer size.
pub const NOTE_ENTRIES_RANGE: (usize, usize) = (1, 24);

/// Who wrote a note and with what.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoteOrigin {
    /// The streamer's display name, if known.
    pub speaker: Option<String>,
    /// The provider of the note loop's call (`None` for directives).
    pub provider: Option<String>,
    /// The model of the note loop's call (`None` for directives).
    pub model: Option<String>,
}

impl NoteOrigin {
    /// A `[[NOTE:…]]` directive from commentary: no speaker, provider or
    /// model (as in the reference).
    pub fn directive() -> Self {
        Self::default()
    }
}

/// One note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The text: one line, whitespace-collapsed, ≤ [`MAX_NOTE_CHARS`].
    pub text: String,
    /// When it was written (or last repeated).
    pub at: Instant,
    /// Where it came from.
    pub origin: NoteOrigin,
}

impl Note {
    /// `speaker: text`, or just `text`.
    pub fn labelled(&self) -> String {
        match &self.origin.speaker {
            Some(speaker) if !speaker.trim().is_empty() => {
                format!("{}: {}", speaker.trim(), self.text)
            }
            _ => self.text.clone(),
        }
    }
}

/// What [`NoteBook::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// A new note was appended (`evicted` older notes moved to compaction).
    Added {
        /// How many notes were evicted.
        evicted: usize,
    },
    /// The text repeated the last note: its time (and origin) was updated.
    Updated,
    /// The text was empty after normalization.
    Ignored,
}

/// The rolling note buffer with its pending-compaction list.
#[derive(Debug, Clone)]
pub struct NoteBook {
    max: usize,
    entries: VecDeque<Note>,
    pending: VecDeque<String>,
    dropped_pending: u64,
}

/// The comparison key for "identical repeat": lower-case,
/// whitespace-collapsed, trailing sentence punctuation removed.
fn repeat_key(text: &str) -> String {
    collapse_whitespace(text)
        .to_lowercase()
        .trim_end_matches(['.', '!', '?', ' '])
        .to_owned()
}

impl NoteBook {
    /// A book holding at most `max_entries` notes (clamped to 1..=24).
    pub fn new(max_entries: usize) -> Self {
        Self {
            max: max_entries.clamp(NOTE_ENTRIES_RANGE.0, NOTE_ENTRIES_RANGE.1),
            entries: VecDeque::new(),
            pending: VecDeque::new(),
            dropped_pending: 0,
        }
    }

    /// Adds a note. The text is whitespace-collapsed and cut to
    /// [`MAX_NOTE_CHARS`]. An identical repeat of the last note (see the
    /// crate docs) updates that note's time, and its origin fields that are
    /// given; otherwise the note is appended and the oldest notes beyond
    /// the limit move to the pending-compaction list.
    pub fn push(&mut self, at: Instant, text: &str, origin: NoteOrigin) -> PushOutcome {
        let text = truncate_chars(&collapse_whitespace(text), MAX_NOTE_CHARS);
        if text.is_empty() {
            return PushOutcome::Ignored;
        }
        let key = repeat_key(&text);
        if let Some(last) = self.entries.back_mut()
            && repeat_key(&last.text) == key
        {
            last.at = at;
            if origin.speaker.is_some() {
                last.origin.speaker = origin.speaker;
            }
            if origin.provider.is_some() {
                last.origin.provider = origin.provider;
            }
            if origin.model.is_some() {
                last.origin.model = origin.model;
            }
            return PushOutcome::Updated;
        }
        let evicted = self.evict_to(self.max.saturating_sub(1));
        self.entries.push_back(Note { text, at, origin });
        PushOutcome::Added { evicted }
    }

    /// Adds a `[[NOTE:…]]` directive extracted from commentary.
    pub fn add_directive(&mut self, at: Instant, text: &str) -> PushOutcome {
        self.push(at, text, NoteOrigin::directive())
    }

    /// Evicts oldest entries into the pending list until `keep` remain.
    fn evict_to(&mut self, keep: usize) -> usize {
        let mut evicted = 0;
        while self.entries.len() > keep {
            if let Some(old) = self.entries.pop_front() {
                self.pending.push_back(old.labelled());
                evicted += 1;
            }
        }
        while self.pending.len() > MAX_PENDING_COMPACTION {
            self.pending.pop_front();
            self.dropped_pending = self.dropped_pending.saturating_add(1);
        }
        evicted
    }

    /// Changes the limit (clamped to 1..=24). Shrinking moves the excess
    /// to the pending-compaction list.
    pub fn set_max_entries(&mut self, max_entries: usize) {
        self.max = max_entries.clamp(NOTE_ENTRIES_RANGE.0, NOTE_ENTRIES_RANGE.1);
        self.evict_to(self.max);
    }

    /// Moves every note to the pending-compaction list (a new or retargeted
    /// watch starts with an empty book).
    pub fn clear(&mut self) {
        self.evict_to(0);
    }

    /// Takes the evicted notes (each `speaker: text` or `text`), oldest
    /// first.
    pub fn take_pending_compaction(&mut self) -> Vec<String> {
        self.pending.drain(..).collect()
    }

    /// Pending notes dropped because the pending list was full.
    pub fn dropped_pending(&self) -> u64 {
        self.dropped_pending
    }

    /// The notes, oldest first.
    pub fn notes(&self) -> impl ExactSizeIterator<Item = &Note> + DoubleEndedIterator {
        self.entries.iter()
    }

    /// The newest note.
    pub fn latest(&self) -> Option<&Note> {
        self.entries.back()
    }

    /// Number of notes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no notes.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The current limit.
    pub fn max_entries(&self) -> usize {
        self.max
    }

    /// The notes exactly as injected into prompts: one line per note,
    /// oldest first, `- speaker: text (Ns ago)` (`(just now)` under one
    /// second; no `speaker: ` when unknown). Empty when there are no notes.
    pub fn prompt_context(&self, now: Instant) -> String {
        self.prompt_context_last(now, self.entries.len())
    }

    /// [`NoteBook::prompt_context`] limited to the newest `n` notes (the
    /// realtime instructions use 8).
    pub fn prompt_context_last(&self, now: Instant, n: usize) -> String {
        let skip = self.entries.len().saturating_sub(n);
        let mut out = String::new();
        for note in self.entries.iter().skip(skip) {
            if !out.is_empty() {
                out.push('\n');
            }
            let secs = now.saturating_duration_since(note.at).as_secs();
            let age = if secs == 0 {
                "just now".to_owned()
            } else {
                format!("{secs}s ago")
            };
            out.push_str(&format!("- {} ({age})", note.labelled()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    // Virtual time: every test takes one base instant and adds offsets.
    #![allow(clippy::disallowed_methods)]

    use super::*;
    use std::time::Duration;

    fn secs(t0: Instant, s: u64) -> Instant {
        t0 + Duration::from_secs(s)
    }

    fn streamer() -> NoteOrigin {
        NoteOrigin {
            speaker: Some("Alice".into()),
            provider: Some("offline".into()),
            model: Some("ocr".into()),
        }
    }

    #[test]
    fn identical_repeat_updates_the_last_note() {
        let t0 = Instant::now();
        let mut book = NoteBook::new(12);
        assert_eq!(
            book.push(t0, "Editor shows main.rs", streamer()),
            PushOutcome::Added { evicted: 0 }
        );
        assert_eq!(
            book.push(
                secs(t0, 5),
                "  editor SHOWS   main.rs. ",
                NoteOrigin::default()
            ),
            PushOutcome::Updated
        );
        assert_eq!(book.len(), 1);
        let note = book.latest().expect("note");
        assert_eq!(note.at, secs(t0, 5));
        assert_eq!(note.text, "Editor shows main.rs", "text kept");
        assert_eq!(
            note.origin.speaker.as_deref(),
            Some("Alice"),
            "unset origin fields kept"
        );
        // Only the last note is compared.
        book.push(secs(t0, 6), "Terminal", streamer());
        assert_eq!(
            book.push(secs(t0, 7), "Editor shows main.rs", streamer()),
            PushOutcome::Added { evicted: 0 }
        );
        assert_eq!(book.len(), 3);
        assert_eq!(
            book.push(secs(t0, 8), " \n ", streamer()),
            PushOutcome::Ignored
        );
    }

    #[test]
    fn eviction_goes_to_pending_compaction() {
        let t0 = Instant::now();
        let mut book = NoteBook::new(2);
        book.push(t0, "one", streamer());
        book.add_directive(secs(t0, 1), "two");
        assert_eq!(
            book.push(secs(t0, 2), "three", streamer()),
            PushOutcome::Added { evicted: 1 }
        );
        assert_eq!(
            book.push(secs(t0, 3), "four", streamer()),
            PushOutcome::Added { evicted: 1 }
        );
        assert_eq!(book.take_pending_compaction(), vec!["Alice: one", "two"]);
        assert!(book.take_pending_compaction().is_empty());
        let texts: Vec<_> = book.notes().map(|n| n.text.as_str()).collect();
        assert_eq!(texts, vec!["three", "four"]);
    }

    #[test]
    fn shrinking_and_clearing_also_go_to_compaction() {
        let t0 = Instant::now();
        let mut book = NoteBook::new(5);
        for i in 0..5 {
            book.push(secs(t0, i), &format!("n{i}"), NoteOrigin::default());
        }
        book.set_max_entries(2);
        assert_eq!(book.len(), 2);
        assert_eq!(book.take_pending_compaction(), vec!["n0", "n1", "n2"]);
        book.clear();
        assert!(book.is_empty());
        assert_eq!(book.take_pending_compaction(), vec!["n3", "n4"]);
    }

    #[test]
    fn pending_list_is_bounded() {
        let t0 = Instant::now();
        let mut book = NoteBook::new(1);
        for i in 0..40u64 {
            book.push(secs(t0, i), &format!("note {i}"), NoteOrigin::default());
        }
        let pending = book.take_pending_compaction();
        assert_eq!(pending.len(), MAX_PENDING_COMPACTION);
        assert_eq!(pending.first().map(String::as_str), Some("note 15"));
        assert_eq!(book.dropped_pending(), 15);
    }

    #[test]
    fn prompt_context_format() {
        let t0 = Instant::now();
        let mut book = NoteBook::new(12);
        assert_eq!(book.prompt_context(t0), "");
        book.push(t0, "Login page, error 'bad password'", streamer());
        book.add_directive(secs(t0, 30), "user seems stuck");
        assert_eq!(
            book.prompt_context(secs(t0, 30)),
            "- Alice: Login page, error 'bad password' (30s ago)\n- user seems stuck (just now)"
        );
        assert_eq!(
            book.prompt_context_last(secs(t0, 31), 1),
            "- user seems stuck (1s ago)"
        );
        let long = "x".repeat(500);
        book.push(t0, &long, streamer());
        assert_eq!(
            book.latest().map(|n| n.text.chars().count()),
            Some(MAX_NOTE_CHARS)
        );
    }
}

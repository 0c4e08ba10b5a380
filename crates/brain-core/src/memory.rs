//! Memory: compaction of evicted notes and old conversation turns into a
//! running session summary (reference §4.5 "Compaction"), and the recap
//! written when a watch ends (§4.10).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::notebook::NoteBook;
use crate::text::{collapse_whitespace, first_line, truncate_at_sentence, truncate_chars};

/// Longest running summary, in characters.
pub const MAX_SUMMARY_CHARS: usize = 1200;
/// Longest turn or note text given to the summarizer, in characters.
pub const MAX_ITEM_CHARS: usize = 400;
/// Longest recap, in characters.
pub const MAX_RECAP_CHARS: usize = 190;
/// Longest recap memory message, in characters.
pub const MAX_RECAP_MESSAGE_CHARS: usize = 320;
/// How many of the newest notes a recap reads.
pub const RECAP_NOTES: usize = 6;

/// One conversation turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// Who spoke or wrote.
    pub speaker: String,
    /// What they said.
    pub text: String,
}

/// When the [`Compactor`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactorConfig {
    /// Newest turns never summarized (kept verbatim in prompts).
    pub recent_window: usize,
    /// Turns summarized per run.
    pub batch: usize,
    /// Pending notes that start a run on their own.
    pub note_batch: usize,
    /// Most pending notes kept; older ones are dropped (and counted).
    pub max_pending_notes: usize,
    /// Most unsummarized turns kept beyond the recent window + one batch;
    /// older ones are dropped (and counted).
    pub max_turns: usize,
    /// Wait after a failed run before the next.
    pub retry_after: Duration,
}

impl Default for CompactorConfig {
    fn default() -> Self {
        Self {
            recent_window: 50,
            batch: 10,
            note_batch: 12,
            max_pending_notes: 24,
            max_turns: 100,
            retry_after: Duration::from_secs(30),
        }
    }
}

/// One summarization call to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactionJob {
    /// The summary so far (empty at first).
    pub previous_summary: String,
    /// The turns to fold in, oldest first.
    pub turns: Vec<Turn>,
    /// The screen notes to fold in, oldest first.
    pub notes: Vec<String>,
    /// The user prompt for the summarizer: the three parts above, rendered.
    pub prompt: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct InFlight {
    turns_through: u64,
    notes_through: u64,
    /// The ended watch whose notes this run folds in.
    ended: Option<u64>,
}

/// The screen memory of a watch that ended (reference §4.10: a stopped
/// watch keeps its notes, marked inactive). It stays in prompts as
/// "earlier notes only, not live" until a new watch starts
/// ([`Compactor::retire_ended_watch`]) or a compaction run folds it into
/// the session summary.
#[derive(Debug, Clone)]
pub struct EndedWatch {
    /// The streamer's display name.
    pub target_name: String,
    /// Why the watch ended.
    pub reason: String,
    /// Its notes, as they were at the end.
    pub book: NoteBook,
    seq: u64,
}

impl EndedWatch {
    /// The notes exactly as injected into prompts (ages at `now`).
    pub fn prompt_context(&self, now: Instant) -> String {
        self.book.prompt_context(now)
    }
}

/// Decides when to fold old turns and evicted notes into the running
/// summary. One run at a time; a failed run keeps its input and is retried
/// after [`CompactorConfig::retry_after`].
#[derive(Debug, Clone)]
pub struct Compactor {
    cfg: CompactorConfig,
    turns: VecDeque<(u64, Turn)>,
    notes: VecDeque<(u64, String)>,
    next_seq: u64,
    summary: String,
    in_flight: Option<InFlight>,
    retry_at: Option<Instant>,
    dropped: u64,
    ended: Option<EndedWatch>,
}

impl Default for Compactor {
    fn default() -> Self {
        Self::new(CompactorConfig::default())
    }
}

impl Compactor {
    /// A compactor with `cfg` (zero sizes are raised to 1).
    pub fn new(cfg: CompactorConfig) -> Self {
        let cfg = CompactorConfig {
            batch: cfg.batch.max(1),
            note_batch: cfg.note_batch.max(1),
            max_pending_notes: cfg.max_pending_notes.max(1),
            max_turns: cfg.max_turns.max(1),
            ..cfg
        };
        Self {
            cfg,
            turns: VecDeque::new(),
            notes: VecDeque::new(),
            next_seq: 0,
            summary: String::new(),
            in_flight: None,
            retry_at: None,
            dropped: 0,
            ended: None,
        }
    }

    fn seq(&mut self) -> u64 {
        self.next_seq = self.next_seq.saturating_add(1);
        self.next_seq
    }

    /// Records a conversation turn.
    pub fn push_turn(&mut self, turn: Turn) {
        let seq = self.seq();
        self.turns.push_back((seq, turn));
        let cap = self.cfg.recent_window + self.cfg.batch + self.cfg.max_turns;
        while self.turns.len() > cap {
            self.turns.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    /// Records evicted notes ([`NoteBook::take_pending_compaction`]).
    pub fn push_notes(&mut self, notes: impl IntoIterator<Item = String>) {
        for note in notes {
            let seq = self.seq();
            self.notes.push_back((seq, note));
        }
        while self.notes.len() > self.cfg.max_pending_notes {
            self.notes.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    /// A watch ended: its notes stay in prompts, marked inactive, until a
    /// new watch starts or a compaction run folds them into the summary.
    /// Pending compaction notes of the book move to the pending list. A
    /// book without notes keeps nothing. Replaces an earlier ended watch
    /// (whose notes go to the pending list).
    pub fn keep_ended_watch(&mut self, target_name: &str, reason: &str, mut book: NoteBook) {
        self.retire_ended_watch();
        self.push_notes(book.take_pending_compaction());
        if book.is_empty() {
            return;
        }
        let seq = self.seq();
        self.ended = Some(EndedWatch {
            target_name: target_name.to_owned(),
            reason: reason.to_owned(),
            book,
            seq,
        });
    }

    /// A new watch starts: the ended watch's notes leave the prompts and
    /// wait for compaction like evicted notes (nothing leaves memory
    /// without passing through compaction).
    pub fn retire_ended_watch(&mut self) {
        if let Some(mut ended) = self.ended.take() {
            ended.book.clear();
            self.push_notes(ended.book.take_pending_compaction());
        }
    }

    /// The ended watch kept as inactive screen memory, if any.
    pub fn ended_watch(&self) -> Option<&EndedWatch> {
        self.ended.as_ref()
    }

    /// The newest `n` turns, oldest first (the verbatim conversation
    /// context of a prompt).
    pub fn recent_turns(&self, n: usize) -> Vec<Turn> {
        let skip = self.turns.len().saturating_sub(n);
        self.turns
            .iter()
            .skip(skip)
            .map(|(_, t)| t.clone())
            .collect()
    }

    /// The next run, if one is due: when at least one batch of turns is
    /// older than the recent window, or at least `note_batch` notes are
    /// pending. A run takes the oldest batch of eligible turns and every
    /// pending note.
    pub fn poll(&mut self, now: Instant) -> Option<CompactionJob> {
        if self.in_flight.is_some() || self.retry_at.is_some_and(|t| now < t) {
            return None;
        }
        let eligible_turns = self.turns.len().saturating_sub(self.cfg.recent_window);
        let take_turns = if eligible_turns >= self.cfg.batch {
            self.cfg.batch
        } else {
            0
        };
        if take_turns == 0 && self.notes.len() < self.cfg.note_batch {
            return None;
        }
        let turns: Vec<(u64, Turn)> = self.turns.iter().take(take_turns).cloned().collect();
        let notes: Vec<(u64, String)> = self.notes.iter().cloned().collect();
        self.in_flight = Some(InFlight {
            turns_through: turns.last().map_or(0, |(s, _)| *s),
            notes_through: notes.last().map_or(0, |(s, _)| *s),
            ended: self.ended.as_ref().map(|e| e.seq),
        });
        let turns: Vec<Turn> = turns.into_iter().map(|(_, t)| t).collect();
        let mut notes: Vec<String> = notes.into_iter().map(|(_, n)| n).collect();
        // The ended watch's notes are folded in too: once the summary has
        // them they leave the prompts.
        if let Some(ended) = &self.ended {
            notes.extend(ended.book.notes().map(crate::notebook::Note::labelled));
        }
        let prompt = render_compaction_prompt(&self.summary, &turns, &notes);
        Some(CompactionJob {
            previous_summary: self.summary.clone(),
            turns,
            notes,
            prompt,
        })
    }

    /// The result of the run in flight. On success the summary is replaced
    /// (whitespace-collapsed, ≤ [`MAX_SUMMARY_CHARS`], cut at a sentence end
    /// when one falls at ≥ 60 % of the limit) and the folded turns and
    /// notes are forgotten; an empty summary counts as a failure. Ignored
    /// when nothing is in flight.
    pub fn on_summary(&mut self, now: Instant, result: Result<String, String>) {
        let Some(run) = self.in_flight.take() else {
            return;
        };
        let summary = result
            .ok()
            .map(|s| truncate_at_sentence(&collapse_whitespace(&s), MAX_SUMMARY_CHARS))
            .filter(|s| !s.is_empty());
        match summary {
            Some(summary) => {
                self.summary = summary;
                self.retry_at = None;
                self.turns.retain(|(seq, _)| *seq > run.turns_through);
                self.notes.retain(|(seq, _)| *seq > run.notes_through);
                if run.ended.is_some() && self.ended.as_ref().map(|e| e.seq) == run.ended {
                    self.ended = None;
                }
            }
            None => self.retry_at = Some(now + self.cfg.retry_after),
        }
    }

    /// The running summary.
    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// Whether a run is in flight.
    pub fn is_running(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Turns not yet summarized (including the recent window).
    pub fn unsummarized_turns(&self) -> usize {
        self.turns.len()
    }

    /// Notes waiting for compaction.
    pub fn pending_notes(&self) -> usize {
        self.notes.len()
    }

    /// Turns and notes dropped because their lists were full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

fn render_compaction_prompt(summary: &str, turns: &[Turn], notes: &[String]) -> String {
    let mut out = String::from("Session summary so far:\n");
    if summary.is_empty() {
        out.push_str("- none\n");
    } else {
        out.push_str(summary);
        out.push('\n');
    }
    out.push_str("\nConversation turns to fold in:\n");
    if turns.is_empty() {
        out.push_str("- none\n");
    }
    for turn in turns {
        let text = truncate_chars(&collapse_whitespace(&turn.text), MAX_ITEM_CHARS);
        out.push_str(&format!("- {}: {}\n", turn.speaker.trim(), text));
    }
    out.push_str("\nScreen notes to fold in:\n");
    if notes.is_empty() {
        out.push_str("- none\n");
    }
    for note in notes {
        let text = truncate_chars(&collapse_whitespace(note), MAX_ITEM_CHARS);
        out.push_str(&format!("- {text}\n"));
    }
    out
}

/// The input for the end-of-watch recap call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecapRequest {
    /// The user prompt: the speaker, the stop reason and the last notes as
    /// `1. speaker: text`.
    pub prompt: String,
    /// The recap to use when the call fails.
    pub fallback: Recap,
}

/// A recap to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recap {
    /// One sentence, ≤ [`MAX_RECAP_CHARS`].
    pub text: String,
    /// Whether to keep it as a durable memory line.
    pub should_store: bool,
}

impl Recap {
    /// The memory message: `Screen share recap: <text>`, ≤
    /// [`MAX_RECAP_MESSAGE_CHARS`].
    pub fn memory_message(&self) -> String {
        truncate_chars(
            &format!("Screen share recap: {}", self.text),
            MAX_RECAP_MESSAGE_CHARS,
        )
    }
}

/// Builds the recap input at the end of a watch; `None` when there are no
/// notes (nothing to recap). `speaker` is the streamer's display name,
/// `reason` the stop reason.
pub fn recap(notes: &NoteBook, speaker: &str, reason: &str) -> Option<RecapRequest> {
    let latest = notes.latest()?;
    let speaker = match speaker.trim() {
        "" => "the streamer",
        name => name,
    };
    let skip = notes.len().saturating_sub(RECAP_NOTES);
    let mut prompt = format!(
        "Streamer: {speaker}\nStop reason: {}\nNotes:\n",
        reason.trim()
    );
    for (i, note) in notes.notes().skip(skip).enumerate() {
        prompt.push_str(&format!("{}. {}\n", i + 1, note.labelled()));
    }
    let fallback = Recap {
        text: truncate_chars(
            &format!(
                "{speaker} recently screen-shared {}.",
                latest.text.trim_end_matches(['.', '!', '?'])
            ),
            MAX_RECAP_CHARS,
        ),
        should_store: true,
    };
    Some(RecapRequest { prompt, fallback })
}

/// Reads the recap model's reply: JSON `{shouldStore, recap}`; a non-JSON
/// reply is taken as the recap text with `should_store: false`. The text
/// is one line, ≤ [`MAX_RECAP_CHARS`]; `None` when empty.
pub fn parse_recap(raw: &str) -> Option<Recap> {
    let (text, should_store) = match serde_json::from_str::<serde_json::Value>(raw.trim()) {
        Ok(serde_json::Value::Object(obj)) => (
            obj.get("recap")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            obj.get("shouldStore")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false),
        ),
        _ => (raw.to_owned(), false),
    };
    let text = truncate_chars(&first_line(&text), MAX_RECAP_CHARS);
    (!text.is_empty()).then_some(Recap { text, should_store })
}

#[cfg(test)]
mod tests {
    // Virtual time: every test takes one base instant and adds offsets.
    #![allow(clippy::disallowed_methods)]

    use super::*;
    use crate::notebook::NoteOrigin;

    fn turn(i: usize) -> Turn {
        Turn {
            speaker: format!("u{i}"),
            text: format!("turn {i}"),
        }
    }

    fn cfg() -> CompactorConfig {
        CompactorConfig {
            recent_window: 4,
            batch: 2,
            note_batch: 3,
            max_pending_notes: 5,
            max_turns: 10,
            ..CompactorConfig::default()
        }
    }

    #[test]
    fn turns_fold_once_a_batch_is_older_than_the_window() {
        let t0 = Instant::now();
        let mut c = Compactor::new(cfg());
        for i in 0..5 {
            c.push_turn(turn(i));
        }
        assert_eq!(c.poll(t0), None, "only 1 turn beyond the window");
        c.push_turn(turn(5));
        c.push_notes(["Alice: login page".to_owned()]);
        let job = c.poll(t0).expect("job");
        assert_eq!(job.turns, vec![turn(0), turn(1)]);
        assert_eq!(job.notes, vec!["Alice: login page"]);
        assert!(job.prompt.contains("- u0: turn 0\n- u1: turn 1\n"));
        assert!(
            job.prompt
                .contains("Screen notes to fold in:\n- Alice: login page\n")
        );
        assert_eq!(c.poll(t0), None, "one run at a time");
        // Pushed during the run: kept after success.
        c.push_notes(["late".to_owned()]);
        c.on_summary(t0, Ok("Alice logged in.  ".to_owned()));
        assert_eq!(c.summary(), "Alice logged in.");
        assert_eq!(c.unsummarized_turns(), 4);
        assert_eq!(c.pending_notes(), 1);
        let prompt = render_compaction_prompt(c.summary(), &[], &[]);
        assert!(prompt.starts_with("Session summary so far:\nAlice logged in.\n"));
    }

    #[test]
    fn notes_alone_start_a_run_and_failures_retry_later() {
        let t0 = Instant::now();
        let mut c = Compactor::new(cfg());
        c.push_notes(["a".to_owned(), "b".to_owned()]);
        assert_eq!(c.poll(t0), None);
        c.push_notes(["c".to_owned()]);
        let job = c.poll(t0).expect("notes batch");
        assert!(job.turns.is_empty());
        assert!(
            job.prompt
                .contains("Conversation turns to fold in:\n- none\n")
        );
        c.on_summary(t0, Err("timeout".into()));
        assert_eq!(c.poll(t0 + Duration::from_secs(29)), None, "retry wait");
        let again = c.poll(t0 + Duration::from_secs(30)).expect("retry");
        assert_eq!(again.notes, vec!["a", "b", "c"]);
        c.on_summary(t0, Ok(String::new()));
        assert_eq!(c.pending_notes(), 3, "empty summary is a failure");
        // Stray result: ignored.
        c.on_summary(t0, Ok("x".into()));
        assert_eq!(c.summary(), "");
    }

    #[test]
    fn lists_are_bounded() {
        let mut c = Compactor::new(cfg());
        c.push_notes((0..9).map(|i| i.to_string()));
        assert_eq!(c.pending_notes(), 5);
        for i in 0..30 {
            c.push_turn(turn(i));
        }
        assert_eq!(c.unsummarized_turns(), 16);
        assert_eq!(c.dropped(), 4 + 14);
    }

    #[test]
    fn summary_is_capped_at_a_sentence() {
        let t0 = Instant::now();
        let mut c = Compactor::new(cfg());
        c.push_notes(["a".to_owned(), "b".to_owned(), "c".to_owned()]);
        c.poll(t0).expect("job");
        let long = format!("{}. {}", "x".repeat(900), "y".repeat(900));
        c.on_summary(t0, Ok(long));
        assert_eq!(c.summary().chars().count(), 901);
        assert!(c.summary().ends_with('.'));
    }

    #[test]
    fn recap_input_and_fallback() {
        let t0 = Instant::now();
        let mut book = NoteBook::new(12);
        assert_eq!(recap(&book, "Alice", "stopped"), None);
        let alice = NoteOrigin {
            speaker: Some("Alice".into()),
            ..NoteOrigin::default()
        };
        for i in 0..8 {
            book.push(t0, &format!("note {i}"), alice.clone());
        }
        book.add_directive(t0, "debugging a login form.");
        let req = recap(&book, "Alice", "stream_watch_stopped").expect("recap");
        assert!(req.prompt.starts_with(
            "Streamer: Alice\nStop reason: stream_watch_stopped\nNotes:\n1. Alice: note 3\n"
        ));
        assert!(req.prompt.ends_with("6. debugging a login form.\n"));
        assert_eq!(
            req.fallback.text,
            "Alice recently screen-shared debugging a login form."
        );
        assert!(req.fallback.should_store);
        assert_eq!(
            req.fallback.memory_message(),
            "Screen share recap: Alice recently screen-shared debugging a login form."
        );
        assert_eq!(
            recap(&book, " ", "x").map(|r| r.fallback.text.starts_with("the streamer")),
            Some(true)
        );
    }

    fn alice_book(t0: Instant) -> NoteBook {
        let mut book = NoteBook::new(12);
        let alice = NoteOrigin {
            speaker: Some("Alice".into()),
            ..NoteOrigin::default()
        };
        book.push(t0, "login form with an error", alice.clone());
        book.push(t0, "build log shows 3 failures", alice);
        book
    }

    #[test]
    fn a_chat_turn_after_a_watch_ended_sees_its_notes_inactive_and_the_recap() {
        use crate::turns::{CHAT_RECENT_TURNS, ChatContext, ScreenContext, chat_prompt};
        // Issue 20 §2: the notes were emptied at stop and the recap only
        // saved durably, so the next chat turn had no screen context.
        let t0 = Instant::now();
        let mut memory = Compactor::default();
        memory.push_turn(Turn {
            speaker: "bob".into(),
            text: "watch alice's screen".into(),
        });
        let book = alice_book(t0);
        let req = recap(&book, "Alice", "stream_watch_stopped").expect("recap");
        memory.keep_ended_watch("Alice", "stream_watch_stopped", book);
        // The recap goes into the conversation memory.
        memory.push_turn(Turn {
            speaker: "agent".into(),
            text: req.fallback.memory_message(),
        });
        // The next turn (recorded before it is answered).
        let ask = "what did you see on my screen earlier?";
        memory.push_turn(Turn {
            speaker: "bob".into(),
            text: ask.into(),
        });
        let now = t0 + Duration::from_secs(40);
        let ended = memory.ended_watch().expect("kept, inactive");
        assert_eq!(ended.target_name, "Alice");
        assert_eq!(ended.reason, "stream_watch_stopped");
        let notes = ended.prompt_context(now);
        let recent = memory.recent_turns(CHAT_RECENT_TURNS);
        let ctx = ChatContext {
            screen: ScreenContext::Ended {
                name: &ended.target_name,
                notes: &notes,
            },
            summary: memory.summary(),
            recent: &recent,
        };
        let prompt = chat_prompt(&ctx, "bob", ask);
        assert!(prompt.contains("earlier notes only, not live"), "{prompt}");
        assert!(
            prompt.contains(
                "Earlier screen notes (not live):\n- Alice: login form with an error (40s ago)\n\
                 - Alice: build log shows 3 failures (40s ago)\n"
            ),
            "{prompt}"
        );
        assert!(
            prompt.contains(
                "Recent conversation:\n- bob: watch alice's screen\n- agent: Screen share recap: \
                 Alice recently screen-shared build log shows 3 failures.\n\nbob says: "
            ),
            "{prompt}"
        );
        assert!(prompt.ends_with(&format!("bob says: {ask}")));
        assert_eq!(prompt.matches(ask).count(), 1, "the asked turn once");
    }

    #[test]
    fn ended_watch_notes_last_until_a_new_watch_or_a_compaction() {
        let t0 = Instant::now();
        // Nothing to keep without notes.
        let mut memory = Compactor::new(cfg());
        memory.keep_ended_watch("Alice", "stopped", NoteBook::new(4));
        assert!(memory.ended_watch().is_none());
        // A new watch: the notes leave the prompts for compaction.
        memory.keep_ended_watch("Alice", "stopped", alice_book(t0));
        assert_eq!(memory.ended_watch().map(|e| e.book.len()), Some(2));
        memory.retire_ended_watch();
        assert!(memory.ended_watch().is_none());
        assert_eq!(memory.pending_notes(), 2);
        // Compaction: the run folds the ended notes in; a failed run keeps
        // them, a successful one drops them from the prompts.
        let mut memory = Compactor::new(cfg());
        memory.keep_ended_watch("Alice", "stopped", alice_book(t0));
        for i in 0..6 {
            memory.push_turn(turn(i));
        }
        let job = memory.poll(t0).expect("a batch of turns is due");
        assert_eq!(
            job.notes,
            vec![
                "Alice: login form with an error",
                "Alice: build log shows 3 failures"
            ]
        );
        memory.on_summary(t0, Err("timeout".into()));
        assert!(memory.ended_watch().is_some(), "kept after a failed run");
        let job = memory.poll(t0 + Duration::from_secs(30)).expect("retry");
        assert_eq!(job.notes.len(), 2);
        memory.on_summary(t0, Ok("Alice showed a failing build.".into()));
        assert!(memory.ended_watch().is_none(), "compacted into the summary");
        assert_eq!(memory.summary(), "Alice showed a failing build.");
    }

    #[test]
    fn recap_replies_are_parsed() {
        assert_eq!(
            parse_recap(r#"{"shouldStore":true,"recap":"Alice fixed the build."}"#),
            Some(Recap {
                text: "Alice fixed the build.".into(),
                should_store: true
            })
        );
        assert_eq!(
            parse_recap("plain words\nmore"),
            Some(Recap {
                text: "plain words".into(),
                should_store: false
            })
        );
        assert_eq!(parse_recap(r#"{"shouldStore":true,"recap":""}"#), None);
        assert_eq!(
            parse_recap(&"z".repeat(400)).map(|r| r.text.len()),
            Some(MAX_RECAP_CHARS)
        );
    }
}

//! The screen-watch "brain" as sans-IO state machines: what to note, when
//! to comment, what to remember. No IO, no async runtime, no clock reads:
//! every time is a [`std::time::Instant`] passed in by the caller, so the
//! control daemon is a thin shell that calls the LLM and posts messages,
//! and every rule is tested on virtual time.
//!
//! # How the shell drives it
//!
//! For each watch the shell owns one [`FrameIntake`], [`NoteLoop`],
//! [`NoteBook`] and [`CommentaryLoop`], and per voice session one
//! [`Compactor`]. All take their limits from [`Settings`].
//!
//! 1. Every frame (native from mediad, or a share-page JPEG) goes to
//!    [`FrameIntake::admit`]. A rejected frame stops here (reason strings
//!    as in the reference: `frame_too_large`, `frame_rate_limited`, …).
//! 2. An admitted frame goes to [`NoteLoop::on_frame`] and then to
//!    [`CommentaryLoop::on_frame`].
//! 3. Note loop: after every input, and when [`NoteLoop::poll_timeout`]
//!    passes, call [`NoteLoop::poll`]. A [`NoteJob`] means "make the
//!    vision call on the latest frame now"; report the reply (or error)
//!    with [`NoteLoop::on_note_done`], which returns the note text to
//!    [`NoteBook::push`]. Then move [`NoteBook::take_pending_compaction`]
//!    into [`Compactor::push_notes`].
//! 4. Commentary: [`CommentaryLoop::on_frame`] returns a
//!    [`CommentaryDecision`]. On [`CommentaryDecision::Fire`] run the brain
//!    turn with the frame, [`NoteBook::prompt_context`] and the
//!    conversation, read the reply with [`parse_commentary`], store its
//!    `notes` with [`NoteBook::add_directive`], post/speak `text` unless
//!    `skip`, and call [`CommentaryLoop::on_commentary_done`]. Feed speaking
//!    activity with [`CommentaryLoop::on_speaking`] and voice-side work with
//!    [`CommentaryLoop::set_busy`].
//! 5. Conversation turns: attach the current frame when
//!    [`is_screen_question`] says the turn is about the screen; record the
//!    turn with [`Compactor::push_turn`]; run [`Compactor::poll`] jobs and
//!    report with [`Compactor::on_summary`].
//! 6. Watch end: [`recap`] builds the recap input (use its `fallback` when
//!    the call fails; [`parse_recap`] reads the reply). Hand the book to
//!    [`Compactor::keep_ended_watch`] (its notes stay in prompts, inactive)
//!    and record [`Recap::memory_message`] with [`Compactor::push_turn`];
//!    call [`Compactor::retire_ended_watch`] when a new watch starts.
//!    [`chat_prompt`] renders a chat turn's context (live or earlier
//!    notes, summary, recent turns).
//! 7. The words of every model call (note, commentary, summary, recap,
//!    chat) and the fixed calls' parameters are built by the `prompts`
//!    module ([`note_prompt`], [`commentary_prompt`], [`summary_prompt`],
//!    [`recap_prompt`], [`chat_turn_prompt`], [`SUMMARY_CALL`],
//!    [`RECAP_CALL`], [`CHAT_CALL`]); control wraps them in `llm`
//!    requests of the matching `llm::RequestKind`.
//!
//! # Note loop rules ([`NoteLoop`])
//!
//! * The first frame of a watch runs a note at once (`share_start`).
//! * A *significant change* (scene cut, or score or EMA ≥
//!   `changeThreshold`) runs a note at once (`change_detected`) when
//!   `changeMinIntervalSeconds` have passed since the start of the last
//!   successful `share_start`/`change_detected` run. Cuts go through the
//!   same cooldown.
//! * Otherwise a run is scheduled `noteIntervalSeconds` after the frame,
//!   or `noteIdleIntervalSeconds` when the frame is *static* (no cut, score
//!   and EMA < `staticFloor`); an earlier scheduled run is kept. A timed run
//!   is labelled `idle_interval` or `interval` by the latest frame.
//! * One vision call in flight; after it ends (success or failure) the
//!   loop reschedules itself one interval later, so it keeps going without
//!   new frames. There is no voice gate of any kind.
//!
//! # Commentary rules ([`CommentaryLoop`])
//!
//! * Triggers per frame: `share_start` (first frame), `change_detected`
//!   (significant change and the change cooldown since the last
//!   commentary), `interval` (`commentaryIntervalSeconds` since the last
//!   commentary). Priority share_start > change_detected > interval; when
//!   change and interval both hold the label is `change_detected` (the
//!   reference's NEW behaviour).
//! * Gates: a commentary call in flight, [`BusyKind::PendingReply`],
//!   [`BusyKind::Playback`], [`BusyKind::VoiceWork`] (each counted:
//!   [`CommentaryLoop::begin_voice_work`] / [`CommentaryLoop::end_voice_work`];
//!   a conversation turn's LLM call is `PendingReply`), and the inbound-audio
//!   quiet window (someone speaking, or any speaking activity less than
//!   `inboundAudioQuietMs` ago).
//! * A gated trigger is deferred, keeping the higher-priority of the
//!   waiting and the new trigger and the time it first waited, and is
//!   re-checked on the next admitted frame (no timer), which fires it even
//!   if that frame triggers nothing itself.
//! * `autonomousCommentaryEnabled = false`: nothing fires and nothing is
//!   deferred (a waiting trigger is dropped).
//!
//! # Reply rules ([`parse_commentary`])
//!
//! * `[[NOTE:…]]` (case-insensitive, non-greedy, spanning lines): every
//!   directive is extracted (whitespace-collapsed, ≤ 220 characters, empty
//!   ones dropped) and replaced by a space; the text is then
//!   whitespace-collapsed (only trimmed when there was no directive).
//!   Extraction runs before the skip rules, so `[SKIP] [[NOTE:x]]` skips
//!   and stores `x`.
//! * `[SKIP]` (case-insensitive): exactly `[SKIP]` skips; trailing
//!   `[SKIP]`s are stripped and the rest is said; a text left with no
//!   letters or digits skips.
//!
//! # Screen-question rules ([`is_screen_question`])
//!
//! Words are lower-cased; curly apostrophes count as straight ones;
//! `what's`/`whats` read `what is` (also `that's`, `it's`, `who's`, …),
//! other `'s` is dropped. A turn is about the screen when it contains:
//!
//! * always: `screen`, `screens`, `screenshare`, `screenshot` or
//!   `monitor`; a determiner (the/my/your/this/that/…) followed by
//!   `stream`, `share`, `display` or `livestream`; "what do/can/did/could
//!   you see/notice"; "what am/are/is (I/we/…) looking/seeing/watching";
//! * when addressed to the bot ([`is_screen_question`] assumes it; use
//!   [`is_screen_question_in`] otherwise): "can/could/do/did you
//!   see/read"; "can/could you tell what/which/if/…"; "look at
//!   this/that/it/my/the/here"; "take/have a look"; "see/read/check/watch
//!   (one word) this/that/here"; this/that/my/the/your + (one word) + a
//!   screen-content noun (error, code, bug, message, window, tab, page,
//!   button, menu, map, game, terminal, file, line, …); "what/who/where
//!   is this/that"; "is/does/did/was this/that"; "how does it/this look";
//!   an error-like word anywhere (error, exception, traceback, crash, bug,
//!   typo, compiler, syntax).
//!
//! This is broader than the reference on purpose: attaching a frame to a
//! turn that did not need it costs tokens, answering a screen question
//! blind is wrong.
//!
//! # Memory ([`NoteBook`], [`Compactor`], [`recap`])
//!
//! * The book keeps `maxNoteEntries` notes. An *identical repeat* of the
//!   last note (equal after lower-casing, collapsing whitespace and
//!   dropping trailing `.!?`) only updates that note's time and the origin
//!   fields given. Evicted notes go to the pending-compaction list as
//!   `speaker: text`, which keeps the newest 24.
//! * Prompt lines: `- speaker: text (Ns ago)`, `(just now)` under a
//!   second, without `speaker: ` when unknown; oldest first.
//! * The compactor runs when a batch (10) of turns is older than the recent
//!   window (50), or when 12 notes are pending; a run folds the oldest
//!   batch plus every pending note into the summary (≤ 1200 characters, cut
//!   at a sentence end at ≥ 60 %). One run at a time; a failure is retried
//!   30 s later.
//! * A watch that ends keeps its notes in the session's [`Compactor`],
//!   marked inactive ("earlier notes only, not live" in [`chat_prompt`]),
//!   until a new watch starts (they then wait for compaction like evicted
//!   notes) or a compaction run folds them into the summary. The recap's
//!   `Screen share recap: …` line is a conversation turn of the agent.
//! * The recap reads the last 6 notes; its fallback is "`<speaker>` recently
//!   screen-shared `<latest note>`."; recaps are ≤ 190 characters.
//!
//! # Settings ([`Settings`])
//!
//! The whole `voice.streamWatch` table with the reference's defaults and
//! bounds ([`INT_SETTINGS`], [`FLOAT_SETTINGS`], [`STR_SETTINGS`],
//! [`BOOL_SETTINGS`]), plus `inboundAudioQuietMs` (the reference hard-codes
//! 2200 ms; default 2200, 0..=10 000). Three ways in:
//!
//! * serde (camelCase, missing keys default, unknown keys rejected);
//! * [`Settings::apply_patch`] for admin edits: strict, every violation
//!   reported ([`SettingsError`]), legacy names rejected with the new name;
//! * [`Settings::from_json_value`] for stored documents: lenient like the
//!   reference's stored normalization (floor, clamp, numeric strings,
//!   yes/no/on/off booleans, unreadable → default) and the one-time legacy
//!   migration, with a [`LoadReport`] saying what was migrated, adjusted,
//!   dropped or unknown. Legacy mapping (only when the new key is absent):
//!   with `brainContextMode = "context_brain"`: commentaryIntervalSeconds ←
//!   minCommentaryIntervalSeconds, noteIntervalSeconds ←
//!   brainContextMinIntervalSeconds, maxNoteEntries ←
//!   brainContextMaxEntries; otherwise all three from the `direct*` keys
//!   (directMinIntervalSeconds for both intervals, directMaxEntries);
//!   always noteProvider ← brainContextProvider, noteModel ←
//!   brainContextModel, changeThreshold ← directChangeThreshold,
//!   changeMinIntervalSeconds ← directChangeMinIntervalSeconds, notePrompt
//!   ← brainContextPrompt. Legacy keys never survive a load, so writing the
//!   result back completes the migration once.
//!
//! # Decisions on the reference's open points
//!
//! * **Share-page frames have no change metrics** (§4.2 \[observation\]):
//!   kept as an input contract, not fixed here: a frame with zero scores is
//!   static, so it gets idle-interval notes and only share_start/interval
//!   commentary. Control can compute metrics for JPEG frames (the
//!   video-pipeline luma grid) and pass them in; nothing here changes.
//! * **Entries already beyond the limit are silently dropped** (§4.5
//!   \[observation\]): not reproduced. Shrinking the limit
//!   ([`NoteBook::set_max_entries`]) and clearing the book for a new watch
//!   ([`NoteBook::clear`]) move the notes to the pending-compaction list;
//!   nothing leaves the book without passing through compaction (which is
//!   itself bounded, and counts what it drops).
//! * **A leading `[SKIP]` followed by text** (§4.8 \[observation\]):
//!   treated as a skip. The model chose silence and then explained itself;
//!   posting the explanation is the worse failure. A `[SKIP]` in the middle
//!   of text is removed and the text kept; a `[SKIP]` is never posted.
//! * **An unterminated `[[NOTE:`** (the reference leaves it in the text):
//!   cut from the text with everything after it and not stored, since it
//!   is usually a reply truncated by the token limit.
//! * **Rate limit window**: the reference uses a fixed window starting at
//!   the first admitted frame; this uses a sliding 60 s window over admitted
//!   frames, which never admits more than the limit in any minute.
//! * **Frames while a note run is in flight** are ignored by the reference;
//!   here a significant change seen during a run makes the loop consider a
//!   `change_detected` run as soon as the run ends (cooldown permitting),
//!   so a cut followed by a still screen is not left for the idle
//!   interval. The note prompt, the vision call and its timeouts are the
//!   shell's.
//! * **Runtime "0 → default"** (§8: `Number(x) || default`): not
//!   reproduced; stored values are clamped, so `commentaryEagerness = 0`
//!   means the minimal tier rather than 60.
//! * **Commentary call in flight**: the reference fires and forgets; here
//!   the loop also treats its own unfinished call as a gate
//!   ([`Gate::InFlight`]) so two commentary turns never overlap.
//! * **Compaction of notes without conversation**: the reference compacts
//!   only on turn cadence, so a silent watch would drop evicted notes past
//!   24; here 12 pending notes start a run by themselves.
//! * **Model settings** ([`Settings::note_call`], [`Settings::commentary_call`]):
//!   the note call always uses temperature 0.3 and 256 tokens (§4.4) with
//!   `noteModel` (empty → no notes); `noteProvider` is resolved by name by
//!   the shell (`llm::ProviderSet`), and an unconfigured provider means no
//!   note call, never another provider. Commentary uses
//!   `commentaryProvider`/`commentaryModel` only when both are set; the
//!   reference gives no commentary temperature, ours is 0.5. The prompt
//!   carries `Screen watch commentary eagerness: N/100 (<tier>)` and
//!   `- Guidance: <note prompt>` ([`commentary_settings_lines`]).
//! * **Disabled commentary** drops a waiting trigger instead of keeping it
//!   for whenever commentary is re-enabled.
//! * **`whats` / curly apostrophes / "what's on my screen"** (§4.9, not
//!   matched by the reference): matched.
//! * **Stuck speakers**: a user marked speaking stays so until the shell
//!   reports the end (mediad reports both edges); [`CommentaryLoop::reset`]
//!   keeps voice state since it belongs to the voice session.
//! * **Malformed input**: NaN or out-of-range scores are clamped to 0..=1
//!   (NaN → 0); times that go backwards saturate to zero elapsed time;
//!   nothing here panics on any input (property-tested).

mod calls;
mod commentary;
mod floor;
mod intake;
mod memory;
mod note_loop;
mod notebook;
mod prompts;
mod question;
mod settings;
mod settings_reference;
mod text;
mod turns;

pub use calls::{
    COMMENTARY_MAX_TOKENS, COMMENTARY_TEMPERATURE, CallSpec, EagernessTier, NOTE_MAX_TOKENS,
    NOTE_TEMPERATURE, NoteCallUnavailable, commentary_settings_lines,
};
pub use commentary::{
    BusyKind, Commentary, CommentaryDecision, CommentaryJob, CommentaryLoop, CommentaryTrigger,
    Gate, MAX_DIRECTIVE_CHARS, MAX_TRACKED_SPEAKERS, extract_note_directives, parse_commentary,
};
pub use floor::{
    DropReason, FloorAction, FloorStats, MAX_QUEUED, PlaybackReport, SpeakKind, SpeechFloor,
};
pub use intake::{FrameIntake, FrameMeta, FrameRejected, RATE_WINDOW};
pub use memory::{
    CompactionJob, Compactor, CompactorConfig, EndedWatch, MAX_ITEM_CHARS, MAX_RECAP_CHARS,
    MAX_RECAP_MESSAGE_CHARS, MAX_SUMMARY_CHARS, RECAP_NOTES, Recap, RecapRequest, Turn,
    parse_recap, recap,
};
pub use note_loop::{NoteJob, NoteLoop, NoteTrigger, parse_note_reply};
pub use notebook::{
    MAX_NOTE_CHARS, MAX_PENDING_COMPACTION, NOTE_ENTRIES_RANGE, Note, NoteBook, NoteOrigin,
    PushOutcome,
};
pub use prompts::{
    CHAT_CALL, CHAT_SYSTEM, Prompt, RECAP_CALL, SUMMARY_CALL, chat_turn_prompt, commentary_prompt,
    note_prompt, recap_prompt, summary_prompt,
};
pub use question::{is_screen_question, is_screen_question_in};
pub use settings::{
    BOOL_SETTINGS, BUILTIN_NOTE_PROMPT, DEFAULT_NOTE_PROMPT, FLOAT_SETTINGS, FloatSpec,
    INT_SETTINGS, IntSpec, LoadReport, Migration, NOTE_PROMPT_RUNTIME_MAX_CHARS, STR_SETTINGS,
    Settings, SettingsError, StrSpec, VisualizerMode,
};
pub use settings_reference::{
    SettingDoc, markdown_table as settings_markdown_table, reference as settings_reference,
};
pub use turns::{
    CHAT_RECENT_TURNS, ChatContext, ScreenContext, TurnIntent, addressed_text, chat_prompt,
    classify_turn,
};

//! Property tests: arbitrary event sequences never panic and the bounds
//! hold (one note call in flight, bounded note book and pending lists).

#![allow(clippy::disallowed_methods)] // one base instant per case; time is virtual offsets

use std::time::{Duration, Instant};

use brain_core::{
    BusyKind, CommentaryDecision, Compactor, CompactorConfig, FrameIntake, FrameMeta, NoteBook,
    NoteLoop, NoteOrigin, Settings, Turn, is_screen_question, is_screen_question_in,
    parse_commentary, parse_note_reply, parse_recap, recap,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Event {
    Frame {
        dt_ms: u64,
        bytes: usize,
        score: f32,
        ema: f32,
        cut: bool,
    },
    Tick {
        dt_ms: u64,
    },
    NoteDone {
        ok: bool,
        text: String,
    },
    Speaking {
        user: u64,
        active: bool,
    },
    Busy {
        kind: u8,
        on: bool,
    },
    CommentaryDone {
        reply: String,
    },
    Turn {
        text: String,
    },
    Summary {
        ok: bool,
        text: String,
    },
    Settings {
        interval: u32,
        max_notes: u32,
        threshold: f64,
        floor: f64,
        enabled: bool,
    },
    Reset,
}

fn any_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        0.0f32..1.0,
        Just(f32::NAN),
        Just(f32::INFINITY),
        Just(-1.0),
        any::<f32>()
    ]
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (0u64..20_000, 0usize..5_000_000, any_f32(), any_f32(), any::<bool>())
            .prop_map(|(dt_ms, bytes, score, ema, cut)| Event::Frame { dt_ms, bytes, score, ema, cut }),
        2 => (0u64..120_000).prop_map(|dt_ms| Event::Tick { dt_ms }),
        2 => (any::<bool>(), ".{0,80}").prop_map(|(ok, text)| Event::NoteDone { ok, text }),
        1 => (0u64..4, any::<bool>()).prop_map(|(user, active)| Event::Speaking { user, active }),
        1 => (0u8..3, any::<bool>()).prop_map(|(kind, on)| Event::Busy { kind, on }),
        1 => ".{0,60}".prop_map(|reply| Event::CommentaryDone { reply }),
        1 => ".{0,40}".prop_map(|text| Event::Turn { text }),
        1 => (any::<bool>(), ".{0,40}").prop_map(|(ok, text)| Event::Summary { ok, text }),
        1 => (0u32..200, 0u32..40, -1.0f64..2.0, -1.0f64..1.0, any::<bool>())
            .prop_map(|(interval, max_notes, threshold, floor, enabled)| Event::Settings { interval, max_notes, threshold, floor, enabled }),
        1 => Just(Event::Reset),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_event_sequences_never_panic(events in prop::collection::vec(event(), 0..120)) {
        let t0 = Instant::now();
        let mut now = t0;
        let settings = Settings::default();
        let mut intake = FrameIntake::new(&settings);
        let mut notes = NoteLoop::new(&settings);
        let mut book = NoteBook::new(settings.max_note_entries as usize);
        let mut commentary = brain_core::CommentaryLoop::new(&settings);
        let mut compactor = Compactor::new(CompactorConfig { recent_window: 3, batch: 2, note_batch: 2, ..CompactorConfig::default() });
        let mut in_flight = false;
        for event in events {
            match event {
                Event::Frame { dt_ms, bytes, score, ema, cut } => {
                    now += Duration::from_millis(dt_ms);
                    let meta = FrameMeta { at: now, bytes, change_score: score, ema_score: ema, scene_cut: cut };
                    if let Ok(frame) = intake.admit(meta) {
                        notes.on_frame(frame);
                        if let CommentaryDecision::Fire(job) = commentary.on_frame(frame) {
                            prop_assert!(job.waited <= now.duration_since(t0));
                        }
                    }
                }
                Event::Tick { dt_ms } => now += Duration::from_millis(dt_ms),
                Event::NoteDone { ok, text } => {
                    let result = if ok { Ok(text) } else { Err(text) };
                    if let Some(note) = notes.on_note_done(now, result) {
                        book.push(now, &note, NoteOrigin::default());
                    }
                    in_flight = false;
                }
                Event::Speaking { user, active } => commentary.on_speaking(now, user, active),
                Event::Busy { kind, on } => {
                    let kind = match kind { 0 => BusyKind::PendingReply, 1 => BusyKind::Playback, _ => BusyKind::VoiceWork };
                    commentary.set_busy(kind, on);
                }
                Event::CommentaryDone { reply } => {
                    let parsed = parse_commentary(&reply);
                    for note in parsed.notes {
                        book.add_directive(now, &note);
                    }
                    commentary.on_commentary_done();
                }
                Event::Turn { text } => {
                    let _ = is_screen_question(&text);
                    compactor.push_turn(Turn { speaker: "u".into(), text });
                }
                Event::Summary { ok, text } => {
                    compactor.on_summary(now, if ok { Ok(text) } else { Err(text) });
                }
                Event::Settings { interval, max_notes, threshold, floor, enabled } => {
                    let s = Settings {
                        note_interval_seconds: interval,
                        commentary_interval_seconds: interval,
                        max_note_entries: max_notes,
                        change_threshold: threshold,
                        static_floor: floor,
                        autonomous_commentary_enabled: enabled,
                        ..Settings::default()
                    };
                    intake.update_settings(&s);
                    notes.update_settings(&s);
                    commentary.update_settings(&s);
                    book.set_max_entries(max_notes as usize);
                }
                Event::Reset => {
                    intake.reset();
                    notes.reset();
                    commentary.reset();
                    book.clear();
                    in_flight = false;
                }
            }
            if let Some(job) = notes.poll(now) {
                prop_assert!(!in_flight, "a second note call while one is in flight");
                prop_assert!(job.started_at == now);
                in_flight = true;
            }
            prop_assert_eq!(notes.is_running(), in_flight);
            if let Some(deadline) = notes.poll_timeout() {
                // Never asks to be woken before the last frame it knows.
                prop_assert!(deadline >= t0);
            }
            prop_assert!(book.len() <= book.max_entries());
            compactor.push_notes(book.take_pending_compaction());
            let _ = compactor.poll(now);
            prop_assert!(compactor.pending_notes() <= 24);
            let _ = book.prompt_context(now);
            let _ = recap(&book, "s", "r");
        }
    }

    #[test]
    fn text_parsers_never_panic(text in "\\PC{0,200}", noise in prop::collection::vec(prop_oneof![
        Just("[[NOTE:"), Just("]]"), Just("[SKIP]"), Just("[skip]"), Just("é"), Just("\n"), Just("{\"note\":"), Just("\"}"),
    ], 0..12)) {
        let mut mixed = text.clone();
        for (i, piece) in noise.iter().enumerate() {
            let at = (i * 7) % (mixed.len() + 1);
            let at = (0..=at).rev().find(|&i| mixed.is_char_boundary(i)).unwrap_or(0);
            mixed.insert_str(at, piece);
        }
        let c = parse_commentary(&mixed);
        prop_assert!(!c.text.to_ascii_lowercase().contains("[[note:"));
        prop_assert!(c.skip || !c.text.is_empty());
        prop_assert!(!c.skip || c.text.is_empty());
        prop_assert!(c.notes.iter().all(|n| !n.is_empty() && n.chars().count() <= 220));
        let _ = parse_note_reply(&mixed);
        let _ = parse_recap(&mixed);
        let _ = is_screen_question_in(&mixed, false);
        let _ = is_screen_question(&mixed);
    }

    #[test]
    fn stored_settings_always_load_valid(
        keys in prop::collection::vec(prop_oneof![
            Just("noteIntervalSeconds"), Just("maxNoteEntries"), Just("changeThreshold"), Just("staticFloor"),
            Just("enabled"), Just("notePrompt"), Just("visualizerMode"), Just("directMinIntervalSeconds"),
            Just("brainContextMode"), Just("brainContextMaxEntries"), Just("maxFrameBytes"), Just("bogus"),
        ], 0..10),
        values in prop::collection::vec(prop_oneof![
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            ".{0,500}".prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::from),
            Just(serde_json::Value::Null),
            Just(serde_json::json!({"a": [1]})),
            Just(serde_json::Value::from("context_brain")),
        ], 10),
    ) {
        let mut doc = serde_json::Map::new();
        for (key, value) in keys.iter().zip(values) {
            doc.insert((*key).to_owned(), value);
        }
        let (settings, _) = Settings::from_json_value(&serde_json::Value::Object(doc.clone()))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(settings.validate(), Ok(()));
        let _ = Settings::default().apply_patch(&serde_json::Value::Object(doc));
    }
}

proptest! {
    /// Message content from the gateway is untrusted: addressing and intent
    /// classification never panic, whatever the text (multi-byte case
    /// changes included), and an addressed mention never keeps the mention.
    #[test]
    fn turn_parsing_never_panics(
        content in "\\PC{0,80}",
        name in "\\PC{0,12}",
        prefix_mention in any::<bool>(),
    ) {
        let content = if prefix_mention { format!("<@42> {content}") } else { content };
        let addressed = brain_core::addressed_text(&content, 42, &[name.as_str(), "İstanbul"]);
        if let Some(text) = &addressed {
            prop_assert!(!text.contains("<@42>"));
            let _ = brain_core::classify_turn(text);
        }
        let _ = brain_core::classify_turn(&content);
        let _ = brain_core::addressed_text(&format!("{name}{content}"), 42, &[name.as_str()]);
    }
}

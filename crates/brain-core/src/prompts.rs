//! The words of the brain's model calls: the system prompt and user text of
//! the note, commentary, summary, recap and chat calls, and the call
//! parameters of the three calls the settings do not shape (summary,
//! recap, chat; notes and commentary: [`crate::calls`]).
//!
//! control wraps each [`Prompt`] in an `llm::Request` whose typed
//! `llm::RequestKind` says which call it is; no provider reads the kind
//! from these words. The leading words `COMMENTARY.`, `SUMMARY` and `RECAP`
//! and the phrase "friendly voice agent" stay in the system prompts all
//! the same: the e2e recording model server (`tests/src/model_server.rs`)
//! tells the calls apart by them, as a real model server only sees text,
//! and a note call's user text starts with `Previous notes:` for the same
//! reason. The change metrics come last in the user text (`change=…
//! scene_cut=…`), after the notes, so a reader taking the last occurrence
//! finds the current frame's.

use crate::calls::{CallSpec, commentary_settings_lines};
use crate::intake::FrameMeta;
use crate::settings::Settings;

/// One call's text: the system prompt and the user message's text (an
/// image, when the call has one, goes after it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// The system prompt.
    pub system: String,
    /// The user message's text.
    pub user: String,
}

/// The summary (compaction) call: the orchestrator's default model at
/// temperature 0.2 and 256 tokens, as the reference's compaction does;
/// never `noteModel`, which belongs to `noteProvider`.
pub const SUMMARY_CALL: CallSpec = CallSpec {
    provider: None,
    model: String::new(),
    temperature: 0.2,
    max_tokens: 256,
};

/// The recap call of an ended watch: the orchestrator's default model,
/// temperature 0.2, 160 tokens (one sentence of JSON).
pub const RECAP_CALL: CallSpec = CallSpec {
    provider: None,
    model: String::new(),
    temperature: 0.2,
    max_tokens: 160,
};

/// A conversation turn: the orchestrator's default model, temperature
/// 0.4, 300 tokens (one or two spoken sentences).
pub const CHAT_CALL: CallSpec = CallSpec {
    provider: None,
    model: String::new(),
    temperature: 0.4,
    max_tokens: 300,
};

/// The system prompt of a conversation turn.
pub const CHAT_SYSTEM: &str = "You are a friendly voice agent in a Discord call who can watch \
     screen shares. Answer briefly (one or two sentences), grounded in the screen notes and \
     frames; say so when you cannot see something.";

/// `context` or `(none)` when there are no notes yet.
fn or_none(context: &str) -> &str {
    if context.is_empty() {
        "(none)"
    } else {
        context
    }
}

/// The note call: the settings' note prompt as the system prompt; the
/// notes so far, whose screen, the trigger and the frame's metrics as the
/// user text (the frame itself is attached after it).
pub fn note_prompt(
    settings: &Settings,
    context: &str,
    target_name: &str,
    trigger: &str,
    frame: &FrameMeta,
) -> Prompt {
    Prompt {
        system: settings.effective_note_prompt(),
        user: format!(
            "Previous notes:\n{}\n\nCurrent frame of {target_name}'s screen (trigger {trigger}): \
             change={:.2} scene_cut={}",
            or_none(context),
            frame.change_score,
            frame.scene_cut,
        ),
    }
}

/// A commentary turn: the settings' eagerness tier and note guidance in
/// the system prompt ([`commentary_settings_lines`]), the notes and the
/// trigger in the user text, current metrics last.
pub fn commentary_prompt(
    settings: &Settings,
    target_name: &str,
    context: &str,
    trigger: &str,
    frame: &FrameMeta,
) -> Prompt {
    Prompt {
        system: format!(
            "COMMENTARY. Live screen watch: you can see {target_name}'s screen directly in the \
             attached image, in a Discord call with them. Say one short, useful remark about \
             what just changed on screen, or answer [SKIP] if nothing is worth saying. You may \
             add [[NOTE:...]] to remember something.\n{}",
            commentary_settings_lines(settings)
        ),
        user: format!(
            "Notes so far:\n{}\n\nTrigger: {trigger}. Current frame: change={:.2} scene_cut={}",
            or_none(context),
            frame.change_score,
            frame.scene_cut,
        ),
    }
}

/// The summary (compaction) call; `items` is the memory's job prompt (the
/// previous summary and the items to fold in).
pub fn summary_prompt(items: String) -> Prompt {
    Prompt {
        system: "SUMMARY Fold the new items into the session summary of a screen-share watch: \
                 at most 6 short factual sentences, no speculation."
            .to_owned(),
        user: items,
    }
}

/// The recap call of an ended watch; `recap` is [`crate::recap`]'s prompt.
/// The answer is parsed by [`crate::parse_recap`].
pub fn recap_prompt(recap: String) -> Prompt {
    Prompt {
        system: "RECAP Write a one-sentence recap of a screen share that just ended. Reply as \
                 JSON {\"shouldStore\": bool, \"recap\": string}; shouldStore is false when \
                 nothing worth remembering happened."
            .to_owned(),
        user: recap,
    }
}

/// A conversation turn: [`CHAT_SYSTEM`] and the turn's prompt
/// ([`crate::chat_prompt`]).
pub fn chat_turn_prompt(prompt: String) -> Prompt {
    Prompt {
        system: CHAT_SYSTEM.to_owned(),
        user: prompt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A base instant only: prompts never read the frame's time.
    #[allow(clippy::disallowed_methods)]
    fn frame(change_score: f32, scene_cut: bool) -> FrameMeta {
        FrameMeta {
            change_score,
            scene_cut,
            ..FrameMeta::unscored(std::time::Instant::now(), 10)
        }
    }

    #[test]
    fn the_note_prompt_carries_notes_target_trigger_and_metrics_last() {
        let settings = Settings::default();
        let p = note_prompt(&settings, "", "Alice", "scene_cut", &frame(0.456, true));
        assert_eq!(p.system, settings.effective_note_prompt());
        assert_eq!(
            p.user,
            "Previous notes:\n(none)\n\nCurrent frame of Alice's screen (trigger scene_cut): \
             change=0.46 scene_cut=true"
        );
        let p = note_prompt(&settings, "- a note", "Bob", "interval", &frame(0.0, false));
        assert!(
            p.user.starts_with("Previous notes:\n- a note\n\n"),
            "{}",
            p.user
        );
        assert!(
            p.user.ends_with("change=0.00 scene_cut=false"),
            "{}",
            p.user
        );
    }

    #[test]
    fn the_commentary_prompt_follows_the_settings() {
        let mut settings = Settings {
            commentary_eagerness: 10,
            note_prompt: "Track the boss health bar.".into(),
            ..Settings::default()
        };
        let p = commentary_prompt(&settings, "Alice", "- n1", "interval", &frame(0.5, true));
        assert!(p.system.starts_with("COMMENTARY. "), "{}", p.system);
        assert!(p.system.contains("you can see Alice's screen"));
        assert!(
            p.system.contains("eagerness: 10/100 (very low)"),
            "{}",
            p.system
        );
        assert!(p.system.contains("- Guidance: Track the boss health bar."));
        assert_eq!(
            p.user,
            "Notes so far:\n- n1\n\nTrigger: interval. Current frame: change=0.50 scene_cut=true"
        );
        settings.commentary_eagerness = 90;
        let p = commentary_prompt(&settings, "Alice", "", "interval", &frame(0.5, true));
        assert!(p.system.contains("eagerness: 90/100 (very high)"));
        assert!(p.user.starts_with("Notes so far:\n(none)\n"));
    }

    #[test]
    fn summary_recap_and_chat_keep_the_words_servers_read() {
        let s = summary_prompt("- item".into());
        assert!(s.system.starts_with("SUMMARY"));
        assert_eq!(s.user, "- item");
        let r = recap_prompt("Streamer: Alice".into());
        assert!(r.system.starts_with("RECAP"));
        assert!(
            r.system
                .contains("{\"shouldStore\": bool, \"recap\": string}")
        );
        assert_eq!(r.user, "Streamer: Alice");
        let c = chat_turn_prompt("bob: hi".into());
        assert!(c.system.contains("friendly voice agent"));
        assert!(!c.system.contains("COMMENTARY"));
        assert_eq!(c.user, "bob: hi");
    }

    #[test]
    fn the_fixed_calls_use_the_orchestrator_default_model() {
        for call in [&SUMMARY_CALL, &RECAP_CALL, &CHAT_CALL] {
            assert_eq!((call.provider.as_deref(), call.model.as_str()), (None, ""));
        }
        assert_eq!(
            (SUMMARY_CALL.temperature, SUMMARY_CALL.max_tokens),
            (0.2, 256)
        );
        assert_eq!((RECAP_CALL.temperature, RECAP_CALL.max_tokens), (0.2, 160));
        assert_eq!((CHAT_CALL.temperature, CHAT_CALL.max_tokens), (0.4, 300));
    }
}

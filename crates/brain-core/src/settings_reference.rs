//! The `voice.streamWatch` settings reference (issue 20 §4): every key's
//! meaning, default, range and what reads it, in one place. Defaults and
//! ranges come from the schema itself ([`INT_SETTINGS`], [`FLOAT_SETTINGS`],
//! [`STR_SETTINGS`], [`BOOL_SETTINGS`]), so they cannot drift; the meanings
//! and readers are written here, and a test checks that every key of
//! [`Settings`] has exactly one entry. control serves it as
//! `GET /api/settings/reference`, and the README's table is this text
//! (checked by a test).

use serde::Serialize;

use crate::settings::{BOOL_SETTINGS, FLOAT_SETTINGS, INT_SETTINGS, STR_SETTINGS, Settings};

/// One key of the reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingDoc {
    /// The JSON key under `voice.streamWatch`.
    pub key: &'static str,
    /// The default, as JSON text.
    pub default: String,
    /// What values are accepted (edits outside are refused; stored values
    /// are clamped).
    pub range: String,
    /// What it does.
    pub meaning: &'static str,
    /// The code that reads it.
    pub read_by: &'static str,
}

/// (key, meaning, read by), in the schema's order.
const TEXT: &[(&str, &str, &str)] = &[
    (
        "enabled",
        "Master switch: off refuses new watches and share links and stops notes and commentary.",
        "control watch manager, share-core admission, brain-core commentary",
    ),
    (
        "commentaryEagerness",
        "How readily the agent comments: selects the commentary prompt's eagerness tier (0 minimal, ≤15 very low, ≤35 selective, ≤50 moderate-low, ≤65 moderate, ≤80 high, else very high).",
        "brain-core calls.rs (commentary prompt)",
    ),
    (
        "visualizerMode",
        "Outbound music visualizer of the reference. This system publishes no music stream, so nothing reads it; kept so that stored settings and edits from the reference's tools stay valid.",
        "nothing (stored and shown only)",
    ),
    (
        "commentaryIntervalSeconds",
        "Seconds between interval-triggered commentary turns.",
        "brain-core commentary scheduler",
    ),
    (
        "maxFramesPerMinute",
        "Share-link and ingest frames admitted per sliding minute per session.",
        "share-core admission, brain-core intake",
    ),
    (
        "maxFrameBytes",
        "Largest admitted frame, in bytes (declared oversize bodies are refused before they are read).",
        "share-core admission, control share routes",
    ),
    (
        "keyframeIntervalMs",
        "How often the share page captures a frame.",
        "control share page configuration",
    ),
    (
        "autonomousCommentaryEnabled",
        "Whether the agent may comment unprompted (false: only answers when asked).",
        "brain-core commentary scheduler",
    ),
    (
        "noteProvider",
        "Provider of the note loop (anthropic/claude-oauth, openai, xai, openai-compatible, offline; empty: the default provider). An unconfigured provider means no note calls, never a fallback.",
        "brain-core calls.rs, llm ProviderSet",
    ),
    (
        "noteModel",
        "Model of the note loop; empty means no notes. Note calls use temperature 0.3 and 256 tokens.",
        "brain-core calls.rs",
    ),
    (
        "noteIntervalSeconds",
        "Seconds between notes while the screen changes.",
        "brain-core note loop",
    ),
    (
        "noteIdleIntervalSeconds",
        "Seconds between notes while the screen is static.",
        "brain-core note loop",
    ),
    (
        "staticFloor",
        "Change score (and its average) below which the screen counts as static.",
        "brain-core note loop",
    ),
    (
        "maxNoteEntries",
        "Size of the rolling note buffer.",
        "control brain (note book)",
    ),
    (
        "changeThreshold",
        "Change score at or above which a frame is a significant change (change-triggered notes and commentary).",
        "brain-core note loop and commentary scheduler",
    ),
    (
        "changeMinIntervalSeconds",
        "Cooldown between change-triggered notes, and between change-triggered commentary.",
        "brain-core note loop and commentary scheduler",
    ),
    (
        "notePrompt",
        "Guidance for notes (empty: the built-in instruction); also appears as '- Guidance:' in the commentary prompt. Capped at 600 characters when used.",
        "brain-core calls.rs (note and commentary prompts)",
    ),
    (
        "commentaryProvider",
        "Commentary provider override; applies only with commentaryModel. Unconfigured: no commentary, never a fallback.",
        "brain-core calls.rs, llm ProviderSet",
    ),
    (
        "commentaryModel",
        "Commentary model override; applies only with commentaryProvider.",
        "brain-core calls.rs",
    ),
    (
        "inboundAudioQuietMs",
        "Quiet window after users speak during which commentary waits (the reference hard-codes 2200 ms).",
        "brain-core commentary scheduler",
    ),
    (
        "nativeDiscordMaxFramesPerSecond",
        "Frames per second mediad decodes from a native Go Live or webcam stream.",
        "control watch subscription → mediad",
    ),
    (
        "nativeDiscordPreferredQuality",
        "Quality asked for in op 15 Media Sink Wants (0 disables the stream).",
        "control watch subscription → mediad op 15",
    ),
    (
        "nativeDiscordPreferredPixelCount",
        "Output size (pixels) of decoded native frames; the smallest simulcast layer covering it is asked for.",
        "control watch subscription → mediad (op 15 layer choice, scaling)",
    ),
    (
        "nativeDiscordJpegQuality",
        "JPEG quality of decoded native frames.",
        "control watch subscription → mediad JPEG encoder",
    ),
    (
        "nativeDiscordPreferredStreamType",
        "'screen' limits a Go Live watch to the screen share; any other value also accepts the target's camera. Webcam watches always take the camera.",
        "control watch subscription",
    ),
    (
        "sharePageMaxWidthPx",
        "Largest capture width of the share page (it shrinks on frame_too_large and grows back).",
        "control share page configuration",
    ),
    (
        "sharePageJpegQuality",
        "JPEG quality the share page encodes with.",
        "control share page configuration",
    ),
    (
        "spokenReplies",
        "Commentary and answers are spoken in the voice channel (text to speech through mediad). Not a reference setting: the reference always speaks.",
        "control voice (speech floor), brain, conversation",
    ),
    (
        "textChannelReplies",
        "Commentary and answers are also posted to the text channel when one is known. Not a reference setting.",
        "control brain and conversation",
    ),
    (
        "bargeIn",
        "A user starting to speak stops the agent's playback at once (the agent never starts talking over a speaker either way; commentary that waits more than 8 s is dropped). Not a reference setting.",
        "brain-core speech floor",
    ),
];

/// The reference, one entry per key, in the schema's order.
pub fn reference() -> Vec<SettingDoc> {
    let defaults = serde_json::to_value(Settings::default()).unwrap_or_default();
    TEXT.iter()
        .map(|&(key, meaning, read_by)| SettingDoc {
            key,
            default: defaults
                .get(key)
                .map(ToString::to_string)
                .unwrap_or_default(),
            range: range_of(key),
            meaning,
            read_by,
        })
        .collect()
}

fn range_of(key: &str) -> String {
    if let Some(s) = INT_SETTINGS.iter().find(|s| s.key == key) {
        return format!("integer {}–{}", s.min, s.max);
    }
    if let Some(s) = FLOAT_SETTINGS.iter().find(|s| s.key == key) {
        return format!("number {}–{}", s.min, s.max);
    }
    if let Some(s) = STR_SETTINGS.iter().find(|s| s.key == key) {
        return format!("text, at most {} characters", s.max_chars);
    }
    if BOOL_SETTINGS.iter().any(|(k, _)| *k == key) {
        return "true or false".to_owned();
    }
    if key == "visualizerMode" {
        return "off, spectrum, waves, vectorscope or cqt".to_owned();
    }
    String::new()
}

/// The reference as a Markdown table (the README's).
pub fn markdown_table() -> String {
    let mut out =
        String::from("| key | default | range | meaning | read by |\n|---|---|---|---|---|\n");
    for d in reference() {
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            d.key, d.default, d.range, d.meaning, d.read_by
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_the_schema_has_exactly_one_entry() {
        let defaults = serde_json::to_value(Settings::default()).expect("serializes");
        let mut schema: Vec<&str> = defaults
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut documented: Vec<&str> = TEXT.iter().map(|(k, _, _)| *k).collect();
        schema.sort_unstable();
        documented.sort_unstable();
        assert_eq!(documented, schema, "the reference and the schema disagree");
        for d in reference() {
            assert!(!d.default.is_empty() && !d.range.is_empty(), "{d:?}");
        }
    }

    #[test]
    fn defaults_and_ranges_come_from_the_schema() {
        let r = reference();
        let eager = r
            .iter()
            .find(|d| d.key == "commentaryEagerness")
            .expect("listed");
        assert_eq!(
            (eager.default.as_str(), eager.range.as_str()),
            ("60", "integer 0–100")
        );
        let fps = r
            .iter()
            .find(|d| d.key == "nativeDiscordMaxFramesPerSecond")
            .expect("listed");
        assert_eq!(
            (fps.default.as_str(), fps.range.as_str()),
            ("2", "integer 1–10")
        );
    }

    #[test]
    fn the_readme_carries_the_current_reference() {
        let readme = include_str!("../../../README.md");
        let table = markdown_table();
        assert!(
            readme.contains(&table),
            "README.md's settings table is out of date; replace it with:\n{table}"
        );
    }
}

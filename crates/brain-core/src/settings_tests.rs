//! Tests of [`super`]: defaults, clamps, validation, legacy keys.
use super::*;
use serde_json::json;

#[test]
fn defaults_match_the_reference_table() {
    let s = Settings::default();
    assert!(s.enabled && s.autonomous_commentary_enabled);
    assert_eq!(s.commentary_eagerness, 60);
    assert_eq!(s.commentary_interval_seconds, 15);
    assert_eq!(s.max_frames_per_minute, 180);
    assert_eq!(s.max_frame_bytes, 350_000);
    assert_eq!(s.keyframe_interval_ms, 1200);
    assert_eq!(s.note_provider, "claude-oauth");
    assert_eq!(s.note_model, "claude-haiku-4-5");
    assert_eq!(s.note_interval_seconds, 10);
    assert_eq!(s.note_idle_interval_seconds, 30);
    assert_eq!(s.static_floor, 0.005);
    assert_eq!(s.max_note_entries, 12);
    assert_eq!(s.change_threshold, 0.01);
    assert_eq!(s.change_min_interval_seconds, 2);
    assert_eq!(s.commentary_provider, "");
    assert_eq!(s.commentary_model, "");
    assert_eq!(s.inbound_audio_quiet_ms, 2200);
    assert_eq!(s.native_discord_preferred_pixel_count, 640 * 360);
    assert_eq!(s.share_page_max_width_px, 960);
    assert_eq!(s.share_page_jpeg_quality, 0.6);
    assert_eq!(s.visualizer_mode, VisualizerMode::Cqt);
    assert_eq!(s.validate(), Ok(()));
    // Every table entry has a field and its default is the field's.
    let mut probe = Settings::default();
    for spec in INT_SETTINGS {
        assert_eq!(
            probe.int_slot(spec.key).copied(),
            Some(spec.default),
            "{}",
            spec.key
        );
    }
    for spec in FLOAT_SETTINGS {
        assert_eq!(
            probe.float_slot(spec.key).copied(),
            Some(spec.default),
            "{}",
            spec.key
        );
    }
    for spec in STR_SETTINGS {
        assert_eq!(
            probe.str_slot(spec.key).as_deref().map(String::as_str),
            Some(spec.default)
        );
    }
}

#[test]
fn json_is_camel_case_and_round_trips() {
    let value = serde_json::to_value(Settings::default()).expect("serialize");
    let obj = value.as_object().expect("object");
    for key in [
        "noteIntervalSeconds",
        "maxFramesPerMinute",
        "sharePageJpegQuality",
        "visualizerMode",
    ] {
        assert!(obj.contains_key(key), "{key}");
    }
    assert_eq!(obj["visualizerMode"], json!("cqt"));
    let back: Settings = serde_json::from_value(value).expect("deserialize");
    assert_eq!(back, Settings::default());
    let partial: Settings = serde_json::from_value(json!({"noteModel": "m"})).expect("partial");
    assert_eq!(partial.note_model, "m");
    assert_eq!(partial.note_interval_seconds, 10);
}

#[test]
fn clamp_brings_values_into_bounds() {
    let mut s = Settings {
        note_interval_seconds: 1,
        max_note_entries: 99,
        change_threshold: f64::NAN,
        static_floor: 0.5,
        max_frame_bytes: 10,
        note_provider: "p".repeat(50),
        ..Settings::default()
    };
    let changed = s.clamp();
    assert_eq!(s.note_interval_seconds, 3);
    assert_eq!(s.max_note_entries, 24);
    assert_eq!(s.change_threshold, 0.01);
    assert_eq!(s.static_floor, 0.05);
    assert_eq!(s.max_frame_bytes, 50_000);
    assert_eq!(s.note_provider.len(), 40);
    assert_eq!(
        changed,
        vec![
            "maxFrameBytes",
            "noteIntervalSeconds",
            "maxNoteEntries",
            "staticFloor",
            "changeThreshold",
            "noteProvider"
        ]
    );
    assert_eq!(s.validate(), Ok(()));
}

#[test]
fn validate_reports_every_violation_clearly() {
    let s = Settings {
        commentary_interval_seconds: 2,
        change_threshold: f64::INFINITY,
        note_model: "m".repeat(121),
        ..Settings::default()
    };
    let errors = s.validate().expect_err("invalid");
    assert_eq!(errors.len(), 3);
    assert_eq!(
        errors[0].to_string(),
        "commentaryIntervalSeconds = 2 is out of range: allowed 5..=120"
    );
    assert_eq!(
        errors[1].to_string(),
        "changeThreshold must be a finite number"
    );
    assert_eq!(
        errors[2].to_string(),
        "noteModel is 121 characters long: at most 120 allowed"
    );
}

#[test]
fn patches_are_strict() {
    let base = Settings::default();
    let ok = base
        .apply_patch(&json!({"noteIntervalSeconds": 20, "autonomousCommentaryEnabled": false}))
        .expect("valid patch");
    assert_eq!(ok.note_interval_seconds, 20);
    assert!(!ok.autonomous_commentary_enabled);

    let range = base
        .apply_patch(&json!({"maxNoteEntries": 30}))
        .expect_err("range");
    assert_eq!(
        range[0].to_string(),
        "maxNoteEntries = 30 is out of range: allowed 1..=24"
    );

    let legacy = base
        .apply_patch(&json!({"directMaxEntries": 5}))
        .expect_err("legacy");
    assert_eq!(
        legacy[0].to_string(),
        "directMaxEntries is a legacy key: set maxNoteEntries instead"
    );

    let unknown = base.apply_patch(&json!({"bogus": 1})).expect_err("unknown");
    assert!(
        unknown[0].to_string().contains("unknown setting `bogus`"),
        "{}",
        unknown[0]
    );

    // Every problem at once: unknown key, wrong type, out of range.
    let all = base
        .apply_patch(
            &json!({"bogus": 1, "noteModel": 3, "maxNoteEntries": 30, "noteIntervalSeconds": 20}),
        )
        .expect_err("three problems");
    assert_eq!(all.len(), 3, "{all:?}");

    let wrong = base
        .apply_patch(&json!({"noteModel": 3}))
        .expect_err("type");
    assert!(matches!(wrong[0], SettingsError::Json(_)));

    let not_obj = base.apply_patch(&json!([1])).expect_err("array");
    assert_eq!(
        not_obj[0].to_string(),
        "voice.streamWatch settings must be a JSON object, got an array"
    );
}

#[test]
fn lenient_load_normalizes_like_the_reference() {
    let (s, report) = Settings::from_json_value(&json!({
        "noteIntervalSeconds": 7.9,
        "maxNoteEntries": 0,
        "changeThreshold": "0.2",
        "enabled": "off",
        "autonomousCommentaryEnabled": 0,
        "maxFramesPerMinute": {"x": 1},
        "visualizerMode": "WAVES",
        "notePrompt": null,
        "somethingElse": true,
    }))
    .expect("object");
    assert_eq!(s.note_interval_seconds, 7);
    assert_eq!(s.max_note_entries, 1);
    assert_eq!(s.change_threshold, 0.2);
    assert!(!s.enabled);
    assert!(!s.autonomous_commentary_enabled);
    assert_eq!(s.max_frames_per_minute, 180);
    assert_eq!(s.visualizer_mode, VisualizerMode::Waves);
    assert_eq!(s.note_prompt, DEFAULT_NOTE_PROMPT);
    assert_eq!(report.unknown, vec!["somethingElse"]);
    for key in [
        "noteIntervalSeconds",
        "maxNoteEntries",
        "changeThreshold",
        "enabled",
        "maxFramesPerMinute",
        "visualizerMode",
    ] {
        assert!(
            report.adjusted.iter().any(|k| k == key),
            "{key} not reported"
        );
    }
    assert_eq!(s.validate(), Ok(()));
    assert!(matches!(
        Settings::from_json_value(&json!("x")),
        Err(SettingsError::NotAnObject { got: "a string" })
    ));
    let (clean, report) =
        Settings::from_json_value(&serde_json::to_value(Settings::default()).expect("ser"))
            .expect("ok");
    assert_eq!(clean, Settings::default());
    assert!(!report.needs_rewrite(), "{report:?}");
}

#[test]
fn legacy_direct_mode_keys_migrate_once() {
    let (s, report) = Settings::from_json_value(&json!({
        "directMinIntervalSeconds": 20,
        "directMaxEntries": 6,
        "directChangeThreshold": 0.3,
        "directChangeMinIntervalSeconds": 5,
        "brainContextProvider": "openai",
        "brainContextModel": "gpt-x",
        "brainContextPrompt": "watch the minimap",
        "brainContextEnabled": true,
    }))
    .expect("object");
    assert_eq!(s.commentary_interval_seconds, 20);
    assert_eq!(s.note_interval_seconds, 20);
    assert_eq!(s.max_note_entries, 6);
    assert_eq!(s.change_threshold, 0.3);
    assert_eq!(s.change_min_interval_seconds, 5);
    assert_eq!(s.note_provider, "openai");
    assert_eq!(s.note_model, "gpt-x");
    assert_eq!(s.note_prompt, "watch the minimap");
    assert_eq!(report.migrated.len(), 8);
    assert!(report.migrated.contains(&Migration {
        legacy: "directMinIntervalSeconds",
        key: "commentaryIntervalSeconds"
    }));
    assert_eq!(report.dropped_legacy, vec!["brainContextEnabled"]);
    assert!(report.unknown.is_empty());
    assert!(report.needs_rewrite());
    // Saving and reloading: no legacy key remains, nothing to migrate.
    let saved = serde_json::to_value(&s).expect("ser");
    let (again, report) = Settings::from_json_value(&saved).expect("ok");
    assert_eq!(again, s);
    assert!(report.migrated.is_empty() && !report.needs_rewrite());
}

#[test]
fn legacy_context_brain_mode_and_new_keys_win() {
    let (s, report) = Settings::from_json_value(&json!({
        "brainContextMode": "context_brain",
        "minCommentaryIntervalSeconds": 40,
        "brainContextMinIntervalSeconds": 8,
        "brainContextMaxEntries": 9,
        "directMinIntervalSeconds": 99,
        "noteIntervalSeconds": 12,
    }))
    .expect("object");
    assert_eq!(s.commentary_interval_seconds, 40);
    assert_eq!(s.note_interval_seconds, 12, "the new key wins");
    assert_eq!(s.max_note_entries, 9);
    assert!(report.migrated.contains(&Migration {
        legacy: "minCommentaryIntervalSeconds",
        key: "commentaryIntervalSeconds"
    }));
    let mut dropped = report.dropped_legacy.clone();
    dropped.sort();
    assert_eq!(
        dropped,
        vec![
            "brainContextMinIntervalSeconds",
            "brainContextMode",
            "directMinIntervalSeconds"
        ]
    );
}

#[test]
fn overrides_and_durations() {
    let mut s = Settings::default();
    assert_eq!(s.note_provider_override(), Some("claude-oauth"));
    assert_eq!(s.commentary_override(), None);
    s.commentary_provider = "openai".into();
    assert_eq!(s.commentary_override(), None, "needs both");
    s.commentary_model = "gpt".into();
    assert_eq!(s.commentary_override(), Some(("openai", "gpt")));
    s.note_provider = " ".into();
    assert_eq!(s.note_provider_override(), None);
    s.note_prompt.clear();
    assert_eq!(s.effective_note_prompt(), BUILTIN_NOTE_PROMPT);
    assert_eq!(s.inbound_audio_quiet(), Duration::from_millis(2200));
    assert_eq!(s.note_idle_interval(), Duration::from_secs(30));
}

//! Tests of the offline provider's conventions (see `offline.rs`).

use super::*;

fn words(s: &str) -> Vec<String> {
    ocr_words(s)
}

#[test]
fn metrics_syntax() {
    assert_eq!(
        parse_metrics("frame: change=0.62 scene_cut=true"),
        ChangeMetrics {
            change: Some(0.62),
            scene_cut: true
        }
    );
    assert_eq!(
        parse_metrics("Change: 12%, no scene cut").change,
        Some(0.12)
    );
    assert!(!parse_metrics("Change: 12%, no scene cut").scene_cut);
    assert_eq!(parse_metrics("change_score: 0.3.").change, Some(0.3));
    assert!(parse_metrics("trigger change_detected (scene cut)").scene_cut);
    assert_eq!(parse_metrics("interchange=0.9").change, None);
    assert_eq!(parse_metrics("change=NaN change: x").change, None);
    assert_eq!(parse_metrics("").change, None);
    assert_eq!(parse_metrics("change=7").change, Some(1.0));
    // The last key wins, and a key overrides the phrase.
    let m = parse_metrics(
        "note: scene cut earlier\nchange=0.5 scene_cut=true\nnow: change=0.1 scene_cut=false",
    );
    assert_eq!(
        m,
        ChangeMetrics {
            change: Some(0.1),
            scene_cut: false
        }
    );
}

#[test]
fn noise_is_dropped() {
    assert_eq!(
        words("BUILD  FAILED: line 42\n~ | — a I x ©©"),
        vec!["BUILD", "FAILED", "line", "42", "a", "I"]
    );
}

#[test]
fn notes() {
    let m = ChangeMetrics {
        change: Some(0.62),
        scene_cut: true,
    };
    assert_eq!(
        note_text(&words("Build failed"), &m, 30),
        "Screen text reads: \"Build failed\". The screen cut to new content (change 0.62)."
    );
    assert_eq!(
        note_text(&[], &ChangeMetrics::default(), 30),
        "Screen shows no readable text."
    );
    let many = words(&"word ".repeat(100));
    let note = note_text(&many, &ChangeMetrics::default(), 30);
    assert!(note.split_whitespace().count() <= 40, "{note}");
}

#[test]
fn commentary_rules() {
    let config = OfflineConfig::default();
    let calm = ChangeMetrics {
        change: Some(0.05),
        scene_cut: false,
    };
    // Same text as the notes: nothing to say.
    assert_eq!(
        commentary_text(
            &words("BUILD FAILED line 42"),
            "- Screen text reads: \"BUILD FAILED line 42\".",
            &calm,
            &config
        ),
        SKIP
    );
    // New words speak.
    assert_eq!(
        commentary_text(
            &words("BUILD PASSED deploy started"),
            "- Screen text reads: \"BUILD FAILED\".",
            &calm,
            &config
        ),
        "New on screen: \"PASSED deploy started\"."
    );
    // One new word is not enough.
    assert_eq!(
        commentary_text(&words("BUILD PASSED"), "BUILD FAILED", &calm, &config),
        SKIP
    );
    // A cut speaks even without new text.
    let cut = ChangeMetrics {
        change: Some(0.5),
        scene_cut: false,
    };
    assert_eq!(
        commentary_text(&[], "anything", &cut, &config),
        "The screen just changed completely."
    );
}

#[tokio::test]
async fn text_only_commentary_uses_the_last_line() {
    let provider = OfflineProvider::default();
    let req = |text: &str| Request {
        kind: crate::RequestKind::Commentary,
        system: "You are the commentary voice.".into(),
        messages: vec![crate::types::Message::user_text(text)],
        max_tokens: 100,
        model: String::new(),
        temperature: None,
        ..Request::default()
    };
    let quiet = provider
        .complete(req("notes: editor open\nchange=0.01\ncurrent: editor open"))
        .await
        .map(|r| r.text);
    assert_eq!(quiet, Ok(SKIP.to_owned()));
    let fresh = provider
        .complete(req(
            "notes: editor open\ncurrent: terminal shows compile errors",
        ))
        .await
        .map(|r| r.text);
    assert_eq!(
        fresh,
        Ok("New on screen: \"current terminal shows compile errors\".".to_owned())
    );
    let chat = Request {
        kind: crate::RequestKind::Chat,
        system: "chat".into(),
        ..req("hello?")
    };
    assert_eq!(
        provider.complete(chat).await.map(|r| r.text),
        Ok(OFFLINE_CHAT_REPLY.to_owned())
    );
}

#[tokio::test]
async fn missing_tesseract_is_an_ocr_error() {
    let provider = OfflineProvider::new(OfflineConfig {
        tesseract: PathBuf::from("/nonexistent/tesseract"),
        ..OfflineConfig::default()
    });
    let req = Request {
        system: String::new(),
        messages: vec![crate::types::Message {
            role: crate::types::Role::User,
            parts: vec![crate::types::Part::jpeg(vec![1, 2, 3])],
        }],
        max_tokens: 100,
        model: String::new(),
        temperature: None,
        ..Request::default()
    };
    let err = provider.complete(req).await.err();
    assert!(matches!(err, Some(LlmError::Ocr(_))), "{err:?}");
}

/// OCR is background work: tesseract runs under SCHED_IDLE when `chrt`
/// is there (a stand-in "tesseract" reports its own policy as its text).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn ocr_runs_at_idle_priority() {
    if std::process::Command::new("chrt")
        .arg("--help")
        .output()
        .is_err()
    {
        eprintln!("skipped: no chrt on PATH (tesseract then runs niced)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("ocr-idle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("tesseract");
    std::fs::write(&script, "#!/bin/sh\ncat >/dev/null\nchrt -p $$\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let config = OfflineConfig {
        tesseract: script,
        ..OfflineConfig::default()
    };
    let text = ocr(&config, &[0xff, 0xd8, 0xff]).await;
    let _ = std::fs::remove_dir_all(&dir);
    let text = text.unwrap();
    assert!(text.contains("SCHED_IDLE"), "{text}");
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let m = parse_metrics(&text);
        let w = ocr_words(&text);
        let _ = note_text(&w, &m, 30);
        let _ = commentary_text(&w, &text, &m, &OfflineConfig::default());
    }
}

#[test]
fn recap_uses_the_streamer_and_the_newest_readable_note() {
    let prompt = "Streamer: Alice\nStop reason: stopped\nNotes:\n1. Alice: Screen text reads: \"old\".\n2. Alice: Screen text reads: \"Quarterly report\".\n3. Alice: Screen shows no readable text.\n";
    let v: serde_json::Value = serde_json::from_str(&recap_text(prompt)).expect("json");
    assert_eq!(v["shouldStore"], serde_json::json!(true));
    let recap = v["recap"].as_str().expect("text");
    assert!(recap.starts_with("Alice shared"), "{recap}");
    assert!(recap.contains("Quarterly report"), "{recap}");
    let none = recap_text("Streamer: Bob\nNotes:\n1. Bob: Screen shows no readable text.\n");
    let v: serde_json::Value = serde_json::from_str(&none).expect("json");
    assert_eq!(v["shouldStore"], serde_json::json!(false));
}

fn snapshot_spec() -> crate::types::ToolSpec {
    crate::types::ToolSpec {
        name: SNAPSHOT_TOOL.into(),
        description: "Look at the screen share.".into(),
        input_schema: serde_json::json!({"type": "object", "properties": {}}),
    }
}

fn chat(texts: &[&str], tools: bool) -> Request {
    Request {
        system: "You chat with the people in the call.".into(),
        messages: texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if i % 2 == 0 {
                    crate::types::Message::user_text(*t)
                } else {
                    crate::types::Message::assistant_text(*t)
                }
            })
            .collect(),
        max_tokens: 200,
        tools: if tools { vec![snapshot_spec()] } else { vec![] },
        ..Request::default()
    }
}

#[test]
fn screen_keywords() {
    for yes in [
        "What's on my screen?",
        "can you SEE it",
        "look at this",
        "Looking good?",
        "what am I showing you",
        "is the screenshare working",
        "what is this",
    ] {
        assert!(is_about_the_screen(yes), "{yes}");
    }
    for no in [
        "hello there",
        "what's the weather",
        "it seems fine",
        "history lesson",
        "on mystery",
        "",
    ] {
        assert!(!is_about_the_screen(no), "{no}");
    }
}

#[test]
fn snapshot_decision() {
    assert!(wants_snapshot(&chat(&["What is on my screen?"], true)));
    // Only the last user message counts.
    assert!(!wants_snapshot(&chat(
        &["What is on my screen?", "Nothing much.", "ok thanks"],
        true
    )));
    assert!(!wants_snapshot(&chat(&["hello"], true)));
    // The tool must be offered.
    assert!(!wants_snapshot(&chat(&["What is on my screen?"], false)));
    let mut other = chat(&["What is on my screen?"], true);
    other.tools[0].name = "something_else".into();
    assert!(!wants_snapshot(&other));
    // Not once a result is there, nor with an image at hand.
    let mut answered = chat(&["What is on my screen?"], true);
    answered.messages.push(crate::types::Message {
        role: crate::types::Role::User,
        parts: vec![Part::tool_result("offline-1", vec![Part::text("none")])],
    });
    assert!(!wants_snapshot(&answered));
    let mut with_image = chat(&["look at this"], true);
    with_image.messages[0].parts.push(Part::jpeg(vec![1]));
    assert!(!wants_snapshot(&with_image));
    // Commentary, recap and summary requests keep their conventions.
    for kind in [
        crate::RequestKind::Commentary,
        crate::RequestKind::Recap,
        crate::RequestKind::Summary,
    ] {
        let mut other = chat(&["look at this"], true);
        other.kind = kind;
        assert!(!wants_snapshot(&other));
    }
    // The kind decides, not the words: a chat prompt naming commentary
    // still asks for the snapshot.
    let mut worded = chat(&["look at this"], true);
    worded.system = "COMMENTARY".into();
    assert!(wants_snapshot(&worded));
}

#[tokio::test]
async fn offline_calls_the_snapshot_tool() {
    let provider = OfflineProvider::default();
    let resp = provider
        .complete(chat(&["Can you see my screen?"], true))
        .await;
    assert_eq!(
        resp,
        Ok(Response {
            text: String::new(),
            model: OFFLINE_MODEL.into(),
            usage: None,
            tool_calls: vec![ToolCall {
                id: OFFLINE_TOOL_CALL_ID.into(),
                name: SNAPSHOT_TOOL.into(),
                input: serde_json::json!({}),
            }],
        })
    );
    // Not about the screen: the fixed chat reply.
    let resp = provider.complete(chat(&["hello"], true)).await;
    assert_eq!(resp.map(|r| r.text), Ok(OFFLINE_CHAT_REPLY.to_owned()));
}

#[tokio::test]
async fn text_tool_results_and_notes_answer_chat() {
    let provider = OfflineProvider::default();
    let first = chat(&["What's on my screen?"], true);
    let call = provider.complete(first.clone()).await.expect("call");
    let mut follow = first;
    follow.messages.push(call.assistant_message());
    follow.messages.push(crate::types::Message {
        role: crate::types::Role::User,
        parts: vec![Part::tool_result(
            OFFLINE_TOOL_CALL_ID,
            vec![Part::text("  Nobody is sharing\n their screen. ")],
        )],
    });
    let resp = provider.complete(follow).await.map(|r| r.text);
    assert_eq!(
        resp,
        Ok("The snapshot tool says: Nobody is sharing their screen.".to_owned())
    );

    // Notes in the prompt: the newest one answers.
    let prompt = "Notes:\n- Alice: Screen text reads: \"old stuff\". Change since last frame 0.10.\n- Alice: Screen text reads: \"Quarterly \"report\" draft\". Change 0.2.\nQuestion: hi";
    let resp = provider
        .complete(chat(&[prompt], false))
        .await
        .map(|r| r.text);
    assert_eq!(
        resp,
        Ok(
            "From my latest screen note: Screen text reads: \"Quarterly \"report\" draft\"."
                .to_owned()
        )
    );
    assert_eq!(
        chat_text("1. Screen text reads: \"a b\".\n2. Screen shows no readable text."),
        "From my latest screen note: Screen shows no readable text."
    );
    assert_eq!(
        chat_text("Screen text reads: \"cut off"),
        "From my latest screen note: Screen text reads: \"cut off"
    );
    assert_eq!(
        tool_result_reply(""),
        "The screen snapshot came back empty, so I can't tell what is on screen."
    );
}

#[test]
fn summary_folds_items_into_the_previous_summary_without_repeats() {
    let prompt = "Session summary so far:\nAlice opened a report.\n\nConversation turns to fold in:\n- none\n\nScreen notes to fold in:\n- Alice opened a report.\n- A chart appears\n";
    assert_eq!(
        summary_text(prompt),
        "Alice opened a report. A chart appears."
    );
}

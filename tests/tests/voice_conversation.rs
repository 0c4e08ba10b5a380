//! The spoken path end to end, with the real binaries and the offline
//! providers: a simulated user *says* "agent, look at my screen" (espeak-ng
//! → Opus → RTP from the sim), mediad hears it (DAVE/transport decrypt, Opus
//! decode, VAD, utterance), control transcribes it (pocketsphinx) and starts
//! the watch; the commentary is synthesized (espeak-ng), played by mediad
//! (Opus, RTP, op 5) and recorded by the simulator, whose recording the
//! offline recognizer transcribes; and a user speaking over the agent stops
//! it (barge-in), timed from the sim's side: the user's first packet to the
//! agent's last voiced packet.
//!
//! The model is a recording OpenAI-compatible server answering plain
//! English lines (the offline OCR provider's commentary quotes raw screen
//! text, which no recognizer can be held to).

use std::time::Duration;

use e2e::model_server::{COMMENTARY_LINE, ModelServer};
use e2e::stack::{SERIAL, Stack};
use e2e::voice::*;
use e2e::{http, wait_for};
use serde_json::Value;

const T: Duration = Duration::from_secs(90);

async fn speech_state(s: &Stack) -> Value {
    s.state().await["speech"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoken_request_starts_a_watch_its_commentary_is_spoken_and_barge_in_stops_the_agent() {
    if std::process::Command::new("pocketsphinx_continuous")
        .arg("-h")
        .output()
        .is_err()
        || std::process::Command::new("espeak-ng")
            .arg("--version")
            .output()
            .is_err()
    {
        eprintln!(
            "skipped: pocketsphinx_continuous or espeak-ng is not installed (scripts/setup installs them)"
        );
        return;
    }
    let _serial = SERIAL.lock().await;
    let model = ModelServer::start().await;
    let url = model.base_url();
    let s = Stack::start_scenario(
        talk_scenario(true),
        "sim-user-agent",
        &["--voice-channel", HOME_VOICE],
        &[
            ("OPENAI_API_KEY", "test"),
            ("OPENAI_BASE_URL", url.as_str()),
            ("ANTHROPIC_API_KEY", ""),
            ("XAI_API_KEY", ""),
            ("OPENAI_COMPATIBLE_BASE_URL", ""),
        ],
    )
    .await;
    wait_for(T, "the agent in voice (--voice-channel)", || async {
        s.voice_ready().await.then_some(())
    })
    .await;
    let sp = speech_state(&s).await;
    assert!(
        sp["stt"]
            .as_str()
            .is_some_and(|d| d.contains("pocketsphinx"))
            && sp["tts"].as_str().is_some_and(|d| d.contains("espeak")),
        "{sp}"
    );

    // 1-2. Bob, sharing, says it; the watch of Bob's screen starts.
    let asked = say(&s, "bob", "agent, look at my screen").await;
    let watch = wait_for(T, "a watch of Bob's screen", || async {
        let v = s.state().await;
        v["watches"]
            .as_array()
            .and_then(|w| w.first().cloned())
            .filter(|w| w["targetUserId"].as_str() == Some(&BOB.to_string()))
    })
    .await;
    assert_eq!(watch["transport"], "native", "{watch}");
    let sp = speech_state(&s).await;
    let heard = sp["lastTranscript"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(heard.contains("look at my screen"), "{sp}");
    s.frame_ready().await;
    // The agent answered aloud, after Bob finished.
    let answer = agent_recording_after(&s, asked.end_ms, T).await;
    let answer_id = answer["id"].as_u64().expect("id");
    assert!(
        answer["duration_ms"].as_u64().unwrap_or(0) >= 500,
        "{answer}"
    );

    // 3. A spoken commentary.
    let commentary = wait_for(T, "a spoken commentary", || async {
        s.state().await["brain"]["commentary"]
            .as_array()
            .and_then(|c| c.iter().find(|e| e["spoken"] == true).cloned())
    })
    .await;
    let text = commentary["text"].as_str().expect("text").to_owned();
    assert_eq!(text, COMMENTARY_LINE);
    let rec = wait_for(T, "the commentary's recording", || async {
        recordings(&s).await.into_iter().find(|r| {
            r["user_id"].as_str() == Some(&AGENT.to_string())
                && r["id"].as_u64().is_some_and(|id| id > answer_id)
        })
    })
    .await;
    // 4. What the simulator recorded is the commentary: the offline
    // recognizer finds its words.
    let wav = recording_wav(&s, rec["id"].as_u64().expect("id")).await;
    let heard = transcribe_wav(&wav).await;
    let common = common_words(&text, &heard);
    eprintln!(
        "commentary {text:?}; recorded {} ms; recognized {heard:?}; common {common:?}",
        rec["duration_ms"]
    );
    assert!(
        !common.is_empty(),
        "the recording of {text:?} was recognized as {heard:?}"
    );

    // 5. Barge-in: Bob asks something, and speaks over the (long) answer.
    // Commentary off, so the answer is the only thing the agent says.
    let (status, v) = http(
        &s.http,
        "PATCH",
        "/api/settings",
        Some(&serde_json::json!({"autonomousCommentaryEnabled": false})),
    )
    .await
    .expect("control answers");
    assert_eq!(status, 200, "{v}");
    wait_for(T, "the agent silent", || async {
        speech_state(&s).await["busy"]
            .as_bool()
            .is_some_and(|b| !b)
            .then_some(())
    })
    .await;
    model.set_chat_answer(
        "I can see a terminal with a build log that keeps scrolling, several crates compiling one \
         after another, a few warnings about retries, and at the bottom a summary of the tests that \
         have passed so far, with the total time of the build.",
    );
    let q = say(&s, "bob", "agent, what do you see on my screen").await;
    wait_for(T, "the agent speaking its answer", || async {
        let sp = speech_state(&s).await;
        (sp["playing"].as_u64().is_some() && super_recent(q.end_ms)).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let playing = speech_state(&s).await["playing"].clone();
    assert!(
        playing.is_u64(),
        "the answer still plays 400 ms in: {playing}"
    );
    let before = speech_state(&s).await["bargeIns"].as_u64().unwrap_or(0);
    let over = say(&s, "bob", "no wait, stop").await;
    // The agent's utterance that was playing when Bob began.
    let cut = wait_for(T, "the cut answer's recording", || async {
        recordings(&s).await.into_iter().rev().find(|r| {
            r["user_id"].as_str() == Some(&AGENT.to_string())
                && r["started_unix_ms"]
                    .as_u64()
                    .is_some_and(|t| t >= q.end_ms && t < over.start_ms)
        })
    })
    .await;
    let stopped_after = cut["ended_unix_ms"].as_i64().unwrap_or(0) - over.start_ms as i64;
    eprintln!(
        "barge-in: Bob's first packet at {}, the agent's last voiced packet at {} ({stopped_after} ms later; the recording is {} ms)",
        over.start_ms, cut["ended_unix_ms"], cut["duration_ms"]
    );
    wait_for(T, "the barge-in counted", || async {
        (speech_state(&s).await["bargeIns"].as_u64().unwrap_or(0) > before).then_some(())
    })
    .await;
    assert!(
        (0..200).contains(&stopped_after),
        "the agent stopped {stopped_after} ms after Bob began (limit 200 ms): {cut}"
    );
}

/// The question's answer cannot start before the question ended.
fn super_recent(question_end_ms: u64) -> bool {
    unix_ms() >= question_end_ms
}

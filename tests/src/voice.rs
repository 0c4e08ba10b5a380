//! The spoken path seen from the simulator: simulated users say lines
//! (`POST /admin/say`: espeak-ng → Opus → RTP, as a Discord client sends),
//! and the sim records what the agent says (`/admin/recordings`, decoded
//! from the agent's RTP). Shared by the voice e2e test and `bench-voice`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use sim_gateway::Scenario;

use crate::stack::Stack;
use crate::{get_json, http, wait_for};

/// The agent's user id in the `demo`-like scenarios.
pub const AGENT: u64 = 900000000000000103;
/// Bob.
pub const BOB: u64 = 900000000000000102;
/// `--voice-channel` of those scenarios: the guild and its `Lounge`.
pub const HOME_VOICE: &str = "900000000000000001/900000000000000011";

/// The `demo` world without its timed speech (so the only voices are the
/// lines a test says); `bob_shares`: Bob is live instead of Alice.
pub fn talk_scenario(bob_shares: bool) -> Scenario {
    let sharer = if bob_shares { "bob" } else { "alice" };
    let doc = json!({
        "name": "talk",
        "description": "demo's guild and users; one sharer; nobody speaks unless a test says a line",
        "settings": {},
        "guilds": [{
            "id": 900000000000000001u64,
            "name": "Sim Guild",
            "channels": [
                {"id": 900000000000000010u64, "name": "general", "kind": "text"},
                {"id": 900000000000000011u64, "name": "Lounge", "kind": "voice"}
            ]
        }],
        "users": [
            {"id": 900000000000000101u64, "name": "alice", "token": "sim-user-alice"},
            {"id": BOB, "name": "bob", "token": "sim-user-bob"},
            {"id": AGENT, "name": "agent", "token": "sim-user-agent"},
            {"id": 900000000000000104u64, "name": "agent-bot", "token": "sim-bot-agent", "bot": true}
        ],
        "timeline": [
            {"at_ms": 0, "action": "join_voice", "user": "alice", "channel": "Lounge"},
            {"at_ms": 0, "action": "join_voice", "user": "bob", "channel": "Lounge"},
            {"at_ms": 0, "action": "start_stream", "user": sharer,
             "video": {"kind": "screen", "codec": "h264", "width": 1280, "height": 720, "fps": 30,
                       "bitrate_kbps": 2500, "layers": [[50, 640, 360]]}}
        ]
    });
    Scenario::from_json(&doc.to_string()).expect("talk scenario")
}

/// Milliseconds since the Unix epoch (the sim's recording times use it).
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A line a simulated user said.
#[derive(Clone, Copy, Debug)]
pub struct Said {
    /// When its first packet went out (Unix ms, approximately: the request
    /// time plus the sim's `starts_in_ms`).
    pub start_ms: u64,
    /// When its last voiced packet went out.
    pub end_ms: u64,
    /// Its length.
    pub duration_ms: u64,
}

/// `user` (a name) says `text` in voice.
pub async fn say(s: &Stack, user: &str, text: &str) -> Said {
    let before = unix_ms();
    let (status, v) = http(
        &s.sim_admin_addr(),
        "POST",
        "/admin/say",
        Some(&json!({"user": user, "text": text})),
    )
    .await
    .expect("POST /admin/say");
    assert_eq!(status, 200, "say {text:?}: {v}");
    let starts = v["starts_in_ms"].as_u64().unwrap_or(0);
    let duration_ms = v["duration_ms"].as_u64().expect("duration_ms");
    Said {
        start_ms: before + starts,
        end_ms: before + starts + duration_ms,
        duration_ms,
    }
}

/// The sim's recordings (finished utterances), oldest first.
pub async fn recordings(s: &Stack) -> Vec<Value> {
    let v = get_json(&s.sim_admin_addr(), "/admin/recordings").await;
    v.as_array()
        .cloned()
        .or_else(|| v["recordings"].as_array().cloned())
        .unwrap_or_default()
}

/// The first finished recording of the agent that started at or after
/// `after_ms` (Unix ms).
pub async fn agent_recording_after(s: &Stack, after_ms: u64, timeout: Duration) -> Value {
    wait_for(timeout, "a recording of the agent's voice", || async {
        recordings(s).await.into_iter().find(|r| {
            r["user_id"].as_str() == Some(&AGENT.to_string())
                && r["started_unix_ms"].as_u64().is_some_and(|t| t >= after_ms)
        })
    })
    .await
}

/// The WAV of recording `id`.
pub async fn recording_wav(s: &Stack, id: u64) -> Vec<u8> {
    let url = format!("http://{}/admin/recordings/{id}.wav", s.sim_admin_addr());
    let out = tokio::process::Command::new("curl")
        .args(["-fsS", &url])
        .output()
        .await
        .expect("curl");
    assert!(out.status.success(), "GET {url}: {:?}", out.status);
    out.stdout
}

/// What the offline recognizer hears in a WAV: pocketsphinx's free-text
/// language model alone (the product's recognizer also tries its command
/// grammar, which would force any audio towards a command).
pub async fn transcribe_wav(wav: &[u8]) -> String {
    let pcm = speech::parse_wav(wav).expect("a WAV");
    let pcm = speech::resample(&pcm, 16_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("rec16k.wav");
    std::fs::write(&path, speech::write_wav(&pcm)).expect("write WAV");
    let out = tokio::process::Command::new("pocketsphinx_continuous")
        .arg("-infile")
        .arg(&path)
        .args(["-logfn", "/dev/null"])
        .output()
        .await
        .expect("pocketsphinx_continuous");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Lower-case content words of `text` (longer than two letters, not a
/// function word).
pub fn words(text: &str) -> Vec<String> {
    const FUNCTION_WORDS: &[&str] = &[
        "the", "and", "for", "are", "you", "your", "that", "this", "with", "was", "what", "not",
        "but", "have", "has", "its", "it's", "all", "can", "our", "out", "get", "got",
    ];
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(str::to_lowercase)
        .filter(|w| w.len() > 2 && !FUNCTION_WORDS.contains(&w.as_str()))
        .collect()
}

/// Content words of `heard` that match one of `said` (the same word, or
/// the same stem of at least four letters: "keep" / "keeps").
pub fn common_words(said: &str, heard: &str) -> Vec<String> {
    let said = words(said);
    words(heard)
        .into_iter()
        .filter(|h| {
            said.iter().any(|s| {
                s == h
                    || (s.len().min(h.len()) >= 4
                        && (s.starts_with(h.as_str()) || h.starts_with(s.as_str())))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_words_skip_function_words_and_match_stems() {
        assert_eq!(
            common_words("The build log keeps scrolling.", "the real og keep rolling"),
            vec!["keep".to_owned()]
        );
        assert!(common_words("The build log keeps scrolling.", "the and you").is_empty());
    }
}

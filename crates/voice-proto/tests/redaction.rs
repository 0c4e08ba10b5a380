//! Tokens and session ids never appear in `Debug` (ARCHITECTURE.md: secrets
//! never appear in logs), while the wire form keeps them verbatim.

use voice_proto::VoiceMessage;

const TOKEN: &str = "c2a9-very-secret-voice-token-Q7";
const SESSION: &str = "4f8e-voice-session-secret-90ab";

fn parsed(text: &str, secrets: &[&str]) -> String {
    let (msg, seq) = VoiceMessage::from_text(text).unwrap();
    let out = msg.to_text(seq);
    let debug = format!("{msg:?}");
    for s in secrets {
        assert!(out.contains(s), "wire form lost {s:?}: {out}");
        assert!(!debug.contains(s), "{s:?} printed in full: {debug}");
        assert!(
            debug.contains(&s[s.len() - 4..]),
            "no hint of {s:?}: {debug}"
        );
    }
    debug
}

#[test]
fn identify_hides_token_and_session() {
    parsed(
        &format!(
            r#"{{"op":0,"d":{{"server_id":"41771983423143937","user_id":"104694319306248192",
            "session_id":"{SESSION}","token":"{TOKEN}","max_dave_protocol_version":1}}}}"#
        ),
        &[TOKEN, SESSION],
    );
}

#[test]
fn resume_hides_token_and_session() {
    parsed(
        &format!(
            r#"{{"op":7,"d":{{"server_id":"41771983423143937","session_id":"{SESSION}",
            "token":"{TOKEN}","seq_ack":10}}}}"#
        ),
        &[TOKEN, SESSION],
    );
}

#[test]
fn media_session_ids_are_hidden() {
    parsed(
        &format!(
            r#"{{"op":14,"d":{{"video_codec":"VP8","media_session_id":"{SESSION}",
            "keyframe_interval":2000}},"seq":9}}"#
        ),
        &[SESSION],
    );
}

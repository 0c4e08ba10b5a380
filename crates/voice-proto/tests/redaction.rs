//! Tokens and session ids never appear in `Debug` (ARCHITECTURE.md: secrets
//! never appear in logs), while the wire form keeps them verbatim.

use voice_proto::{Identify, Resume, Secret, ServerId, SessionUpdate, UserId, VoiceMessage};

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
    parsed(
        &format!(
            r#"{{"op":4,"d":{{"mode":"aead_xchacha20_poly1305_rtpsize","secret_key":[{key}],
            "media_session_id":"{SESSION}","dave_protocol_version":1}}}}"#,
            key = ["7"; 32].join(",")
        ),
        &[SESSION],
    );
}

/// Holding tokens and session ids as `Secret`s (`#[serde(transparent)]`)
/// leaves the wire byte-for-byte as it was with `String`s: the payloads
/// serialize in field order exactly as before, and whole messages decode
/// and re-encode to the same text.
#[test]
fn secrets_leave_the_wire_unchanged() {
    let identify = Identify {
        server_id: ServerId(41771983423143937),
        user_id: UserId(104694319306248192),
        session_id: Secret::new("my_session_id"),
        token: Secret::new("my_token"),
        max_dave_protocol_version: Some(1),
        video: None,
        streams: Vec::new(),
        channel_id: None,
    };
    assert_eq!(
        serde_json::to_string(&identify).unwrap(),
        r#"{"server_id":"41771983423143937","user_id":"104694319306248192","session_id":"my_session_id","token":"my_token","max_dave_protocol_version":1}"#
    );
    let resume = Resume {
        server_id: ServerId(41771983423143937),
        session_id: Secret::new("s"),
        token: Secret::new("t"),
        seq_ack: Some(10),
        channel_id: None,
    };
    assert_eq!(
        serde_json::to_string(&resume).unwrap(),
        r#"{"server_id":"41771983423143937","session_id":"s","token":"t","seq_ack":10}"#
    );
    let update = SessionUpdate {
        video_codec: Some("VP8".into()),
        media_session_id: Some(Secret::new("msid")),
        keyframe_interval: Some(2000),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_string(&update).unwrap(),
        r#"{"video_codec":"VP8","media_session_id":"msid","keyframe_interval":2000}"#
    );
    // Whole messages (the text the shells send and the simulator reads).
    for text in [
        r#"{"op":0,"d":{"max_dave_protocol_version":1,"server_id":"41771983423143937","session_id":"my_session_id","token":"my_token","user_id":"104694319306248192"}}"#,
        r#"{"op":7,"d":{"seq_ack":10,"server_id":"41771983423143937","session_id":"s","token":"t"}}"#,
        r#"{"op":14,"d":{"keyframe_interval":2000,"media_session_id":"msid","video_codec":"VP8"},"seq":9}"#,
        r#"{"op":4,"d":{"dave_protocol_version":1,"media_session_id":"msid","mode":"aead_xchacha20_poly1305_rtpsize","secret_key":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32]}}"#,
    ] {
        let (msg, seq) = VoiceMessage::from_text(text).unwrap();
        assert_eq!(msg.to_text(seq), text);
    }
}

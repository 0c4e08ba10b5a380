//! Tokens and session ids never appear in `Debug` (ARCHITECTURE.md: secrets
//! never appear in logs), while the wire form keeps them verbatim.

use gateway_proto::{
    BotIdentify, ClientCommand, ConnectionProperties, GuildId, Identify, Intents, Resume, Secret,
    ServerMessage, VoiceServerUpdate,
};

const TOKEN: &str = "MTA0-very-secret-token-Zx9q";
const SESSION: &str = "6a1d9c0f-session-secret-77ab";

fn assert_redacted(debug: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!debug.contains(s), "{s:?} printed in full: {debug}");
        // The hint (last 4 characters) is all that shows.
        assert!(
            debug.contains(&s[s.len() - 4..]),
            "no hint of {s:?}: {debug}"
        );
    }
}

fn server(text: &str) -> ServerMessage {
    let msg = ServerMessage::from_text(text).unwrap();
    // Wire-compatible: the secrets go out exactly as they came in.
    let out = msg.to_text();
    assert!(out.contains(TOKEN) || out.contains(SESSION), "{out}");
    msg
}

fn client(text: &str) -> ClientCommand {
    let cmd = ClientCommand::from_text(text).unwrap();
    let out = cmd.to_text();
    assert!(out.contains(TOKEN), "{out}");
    cmd
}

#[test]
fn ready_hides_its_session_id() {
    let msg = server(&format!(
        r#"{{"op":0,"s":1,"t":"READY","d":{{"user":{{"id":"30","username":"agent","bot":false}},
        "session_id":"{SESSION}","guilds":[]}}}}"#
    ));
    assert_redacted(&format!("{msg:?}"), &[SESSION]);
}

#[test]
fn voice_state_hides_its_session_id() {
    let msg = server(&format!(
        r#"{{"op":0,"s":3,"t":"VOICE_STATE_UPDATE","d":{{"guild_id":"10","channel_id":"20",
        "user_id":"31","session_id":"{SESSION}","deaf":false,"mute":false,"self_deaf":false,
        "self_mute":false}}}}"#
    ));
    assert_redacted(&format!("{msg:?}"), &[SESSION]);
}

#[test]
fn server_updates_hide_their_tokens() {
    let voice = server(&format!(
        r#"{{"op":0,"s":5,"t":"VOICE_SERVER_UPDATE","d":{{"token":"{TOKEN}","guild_id":"10",
        "endpoint":"c-fra05.discord.media:443"}}}}"#
    ));
    assert_redacted(&format!("{voice:?}"), &[TOKEN]);
    let stream = server(&format!(
        r#"{{"op":0,"s":8,"t":"STREAM_SERVER_UPDATE","d":{{"stream_key":"guild:10:20:30",
        "endpoint":"rotterdam1234.discord.media:443","token":"{TOKEN}","guild_id":"10"}}}}"#
    ));
    assert_redacted(&format!("{stream:?}"), &[TOKEN]);
}

#[test]
fn identify_and_resume_hide_token_and_session() {
    let user = client(&format!(
        r#"{{"op":2,"d":{{"token":"{TOKEN}","capabilities":16381,
        "properties":{{"os":"Linux","browser":"Chrome","device":""}}}}}}"#
    ));
    assert_redacted(&format!("{user:?}"), &[TOKEN]);
    let bot = client(&format!(
        r#"{{"op":2,"d":{{"token":"{TOKEN}","intents":513,
        "properties":{{"os":"linux","browser":"agent","device":"agent"}}}}}}"#
    ));
    assert_redacted(&format!("{bot:?}"), &[TOKEN]);
    let resume = client(&format!(
        r#"{{"op":6,"d":{{"token":"{TOKEN}","session_id":"{SESSION}","seq":1337}}}}"#
    ));
    assert_redacted(&format!("{resume:?}"), &[TOKEN, SESSION]);
}

/// Holding tokens and session ids as `Secret`s (`#[serde(transparent)]`)
/// leaves the wire byte-for-byte as it was with `String`s: the payloads
/// serialize in field order exactly as before, and whole messages decode
/// and re-encode to the same text.
#[test]
fn secrets_leave_the_wire_unchanged() {
    let voice = VoiceServerUpdate {
        token: Secret::new("tok"),
        guild_id: Some(GuildId(10)),
        endpoint: Some("c-fra05.discord.media:443".into()),
        channel_id: None,
    };
    assert_eq!(
        serde_json::to_string(&voice).unwrap(),
        r#"{"token":"tok","guild_id":"10","endpoint":"c-fra05.discord.media:443"}"#
    );
    let resume = Resume {
        token: Secret::new("t"),
        session_id: Secret::new("sess"),
        seq: Some(1337),
    };
    assert_eq!(
        serde_json::to_string(&resume).unwrap(),
        r#"{"token":"t","session_id":"sess","seq":1337}"#
    );
    let bot = Identify::Bot(BotIdentify {
        token: Secret::new("Bot x"),
        properties: ConnectionProperties {
            os: "linux".into(),
            browser: "agent".into(),
            device: "agent".into(),
            ..Default::default()
        },
        intents: Intents(641),
        shard: Some([0, 1]),
        presence: None,
        compress: None,
        large_threshold: Some(50),
    });
    assert_eq!(
        serde_json::to_string(&bot).unwrap(),
        r#"{"token":"Bot x","properties":{"os":"linux","browser":"agent","device":"agent"},"intents":641,"shard":[0,1],"large_threshold":50}"#
    );
    // Whole messages (the text the shells send and the simulator reads).
    for text in [
        r#"{"op":2,"d":{"capabilities":16381,"compress":false,"presence":{"activities":[],"afk":false,"since":0,"status":"unknown"},"properties":{"browser":"Chrome","client_build_number":400000,"device":"","os":"Linux"},"token":"user-token"}}"#,
        r#"{"op":2,"d":{"intents":641,"large_threshold":50,"properties":{"browser":"agent","device":"agent","os":"linux"},"shard":[0,1],"token":"Bot x"}}"#,
        r#"{"op":6,"d":{"seq":1337,"session_id":"sess","token":"t"}}"#,
    ] {
        assert_eq!(ClientCommand::from_text(text).unwrap().to_text(), text);
    }
    for text in [
        r#"{"op":0,"d":{"endpoint":"c-fra05.discord.media:443","guild_id":"10","token":"tok"},"s":5,"t":"VOICE_SERVER_UPDATE"}"#,
        r#"{"op":0,"d":{"endpoint":"rotterdam1234.discord.media:443","guild_id":"10","stream_key":"guild:10:20:30","token":"st"},"s":8,"t":"STREAM_SERVER_UPDATE"}"#,
        r#"{"op":0,"d":{"guilds":[],"session_id":"sess","user":{"bot":false,"id":"30","username":"agent"}},"s":1,"t":"READY"}"#,
        r#"{"op":0,"d":{"channel_id":"20","deaf":false,"guild_id":"10","mute":false,"self_deaf":false,"self_mute":false,"self_video":false,"session_id":"sess","suppress":false,"user_id":"31"},"s":3,"t":"VOICE_STATE_UPDATE"}"#,
    ] {
        assert_eq!(ServerMessage::from_text(text).unwrap().to_text(), text);
    }
}

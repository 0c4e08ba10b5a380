//! Tokens and session ids never appear in `Debug` (ARCHITECTURE.md: secrets
//! never appear in logs), while the wire form keeps them verbatim.

use gateway_proto::{ClientCommand, ServerMessage};

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

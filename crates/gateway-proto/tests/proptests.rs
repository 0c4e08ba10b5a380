//! Property tests: parsers never panic; stream keys and envelopes round-trip.

use gateway_proto::*;
use proptest::prelude::*;

const SEEDS: &[&str] = &[
    r#"{"op":0,"s":7,"t":"STREAM_CREATE","d":{"stream_key":"guild:10:20:30","rtc_server_id":"5","rtc_channel_id":"6","viewer_ids":["1"],"paused":false}}"#,
    r#"{"op":0,"s":1,"t":"READY","d":{"user":{"id":"1","username":"u"},"session_id":"s","guilds":[{"id":"2","voice_states":[{"channel_id":"3","user_id":"4","session_id":"x","self_stream":true}]}]}}"#,
    r#"{"op":0,"s":2,"t":"VOICE_SERVER_UPDATE","d":{"token":"t","guild_id":null,"endpoint":null}}"#,
    r#"{"op":2,"d":{"token":"t","capabilities":1,"properties":{"os":"a","browser":"b","device":"c","x":1}}}"#,
    r#"{"op":2,"d":{"token":"t","intents":1,"properties":{"os":"a","browser":"b","device":"c"}}}"#,
    r#"{"op":18,"d":{"type":"call","guild_id":null,"channel_id":"7","preferred_region":null}}"#,
    r#"{"op":22,"d":{"stream_key":"call:1:2","paused":true}}"#,
];

fn key_strategy() -> impl Strategy<Value = StreamKey> {
    prop_oneof![
        (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(g, c, u)| StreamKey::Guild {
            guild_id: GuildId(g),
            channel_id: ChannelId(c),
            user_id: UserId(u),
        }),
        (any::<u64>(), any::<u64>()).prop_map(|(c, u)| StreamKey::Call {
            channel_id: ChannelId(c),
            user_id: UserId(u),
        }),
        any::<u64>().prop_map(|u| StreamKey::Test { user_id: UserId(u) }),
    ]
}

proptest! {
    #[test]
    fn stream_key_format_parse_is_identity(key in key_strategy()) {
        let text = key.to_string();
        prop_assert_eq!(StreamKey::parse(&text).unwrap(), key);
        let json = serde_json::to_string(&key).unwrap();
        prop_assert_eq!(serde_json::from_str::<StreamKey>(&json).unwrap(), key);
    }

    #[test]
    fn stream_key_parse_format_is_identity(s in "(guild|call|test|x)(:[0-9]{0,21}){0,4}") {
        if let Ok(key) = StreamKey::parse(&s) {
            prop_assert_eq!(key.to_string(), s);
        }
    }

    #[test]
    fn stream_key_parse_never_panics(s in ".*") {
        let _ = StreamKey::parse(&s);
    }

    #[test]
    fn parsers_never_panic(s in ".*") {
        let _ = GatewayMessage::from_text(&s);
        let _ = ServerMessage::from_text(&s);
        let _ = ClientCommand::from_text(&s);
    }

    #[test]
    fn mutated_messages_never_panic_and_reencode(seed in 0..SEEDS.len(),
            edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let mut bytes = SEEDS[seed].as_bytes().to_vec();
        for (pos, b) in edits {
            let i = pos % bytes.len();
            bytes[i] = b;
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Ok(msg) = ServerMessage::from_text(&text) {
            prop_assert_eq!(ServerMessage::from_text(&msg.to_text()).unwrap(), msg);
        }
        if let Ok(cmd) = ClientCommand::from_text(&text) {
            prop_assert_eq!(ClientCommand::from_text(&cmd.to_text()).unwrap(), cmd);
        }
    }

    #[test]
    fn envelope_round_trip(op in any::<u8>(), s in prop::option::of(any::<u64>()),
                           t in prop::option::of("[A-Z_]{1,20}"), n in any::<i64>()) {
        let msg = GatewayMessage { op: GatewayOpcode::from_u8(op), d: n.into(), s, t };
        prop_assert_eq!(GatewayMessage::from_text(&msg.to_text()).unwrap(), msg.clone());
        prop_assert_eq!(GatewayMessage::from_text(&msg.to_text_with_nulls()).unwrap(), msg);
    }
}

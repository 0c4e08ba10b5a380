//! Property tests: arbitrary WebSocket frames and datagrams never panic
//! the core and never end another client's session.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use voice_proto::{Identify, Secret, ServerId, UserId, VoiceMessage};

use super::{Command, Core, Output};
use crate::config::{RoomId, RoomKind, SessionGrant, VoiceServerConfig};

fn core() -> (Core, Instant) {
    core_with(VoiceServerConfig::default(), None)
}

fn core_with(config: VoiceServerConfig, max_dave: Option<u16>) -> (Core, Instant) {
    let now = Instant::now();
    let mut c = Core::new(
        config,
        1,
        2,
        7,
        now,
        0,
        Arc::new(Mutex::new(Default::default())),
    );
    c.on_command(
        Command::Grant(SessionGrant {
            room: RoomId(1),
            user_id: 10,
            session_id: Secret::new("s"),
            token: Secret::new("t"),
            kind: RoomKind::Voice {
                guild_id: 1,
                channel_id: 2,
            },
        }),
        now,
    );
    c.on_ws_open(1, 8, now);
    let id = VoiceMessage::Identify(Identify {
        server_id: ServerId(1),
        user_id: UserId(10),
        session_id: Secret::new("s"),
        token: Secret::new("t"),
        max_dave_protocol_version: max_dave,
        video: None,
        streams: vec![],
        channel_id: None,
    });
    c.on_text(1, &id.to_text(None), now);
    (c, now)
}

fn mutated_valid() -> impl Strategy<Value = String> {
    let valid = vec![
        r#"{"op":1,"d":{"protocol":"udp","data":{"address":"127.0.0.1","port":5,"mode":"aead_aes256_gcm_rtpsize"},"codecs":[]}}"#,
        r#"{"op":7,"d":{"server_id":"1","session_id":"s","token":"stolen","seq_ack":3}}"#,
        r#"{"op":15,"d":{"any":100,"streams":{"5":50},"pixelCounts":{"5":921600.0}}}"#,
        r#"{"op":12,"d":{"audio_ssrc":1,"video_ssrc":2,"rtx_ssrc":3,"streams":[]}}"#,
        r#"{"op":3,"d":{"t":1,"seq_ack":-1}}"#,
    ];
    (prop::sample::select(valid), any::<usize>(), any::<u8>()).prop_map(|(s, at, b)| {
        let mut bytes = s.as_bytes().to_vec();
        let i = at % bytes.len();
        bytes[i] = b;
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

proptest! {
    #[test]
    fn arbitrary_input_never_panics(
        texts in prop::collection::vec(prop_oneof![any::<String>(), mutated_valid()], 0..8),
        bins in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..4),
        grams in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..8),
    ) {
        let (mut c, now) = core();
        c.on_ws_open(2, 9, now);
        for t in &texts {
            c.on_text(2, t, now);
        }
        for b in &bins {
            c.on_binary(2, b, now);
        }
        let from: SocketAddr = "127.0.0.1:5".parse().unwrap();
        for g in grams {
            c.on_datagram(from, g, now);
        }
        c.handle_timeout(now + Duration::from_millis(10));
        while c.poll_output().is_some() {}
        // The identified session on connection 1 is untouched (the other
        // connection never holds its token).
        let key = (RoomId(1), 10);
        prop_assert!(c.sessions.get(&key).is_some_and(|s| s.conn == Some(1)));
    }
}

/// A core whose session on connection 1 negotiated DAVE, with a DAVE
/// participant in the room.
fn dave_core() -> (Core, Instant) {
    let config = VoiceServerConfig {
        dave: true,
        ..VoiceServerConfig::default()
    };
    let (mut c, now) = core_with(config, Some(1));
    c.on_command(
        Command::AddParticipant(
            RoomId(1),
            crate::config::ParticipantSpec {
                user_id: 20,
                audio: true,
                video: None,
                dave: true,
            },
        ),
        now,
    );
    c.on_text(1, SELECT_PROTOCOL, now);
    (c, now)
}

const SELECT_PROTOCOL: &str = r#"{"op":1,"d":{"protocol":"udp","data":{"address":"127.0.0.1","port":5,"mode":"aead_aes256_gcm_rtpsize"},"codecs":[]}}"#;

fn dave_input() -> impl Strategy<Value = (bool, Vec<u8>)> {
    let json = prop::sample::select(vec![
        r#"{"op":23,"d":{"transition_id":1}}"#,
        r#"{"op":31,"d":{"transition_id":1}}"#,
        r#"{"op":23,"d":{"transition_id":65535}}"#,
    ]);
    prop_oneof![
        (
            prop::sample::select(vec![26u8, 28, 25, 27, 29, 30, 99]),
            prop::collection::vec(any::<u8>(), 0..300)
        )
            .prop_map(|(op, mut rest)| {
                rest.insert(0, op);
                (false, rest)
            }),
        json.prop_map(|j| (true, j.as_bytes().to_vec())),
    ]
}

proptest! {
    #[test]
    fn arbitrary_dave_input_never_panics(inputs in prop::collection::vec(dave_input(), 0..8)) {
        let (mut c, now) = dave_core();
        prop_assert_eq!(c.sessions.get(&(RoomId(1), 10)).and_then(|s| s.dave_group), Some(2));
        for (i, (text, bytes)) in inputs.iter().enumerate() {
            let t = now + Duration::from_millis(i as u64);
            if *text {
                c.on_text(1, &String::from_utf8_lossy(bytes), t);
            } else {
                c.on_binary(1, bytes, t);
            }
        }
        c.handle_timeout(now + Duration::from_secs(5));
        while c.poll_output().is_some() {}
        let s = c.sessions.get(&(RoomId(1), 10));
        prop_assert!(s.is_some_and(|s| s.conn == Some(1)), "bad DAVE input never ends the session");
    }
}

#[test]
fn dave_session_gets_op4_v1_and_the_external_sender() {
    let (mut c, _) = dave_core();
    let out: Vec<Output> = std::iter::from_fn(|| c.poll_output()).collect();
    let op4 = out.iter().any(|o| {
        matches!(o, Output::Ws(1, super::WsFrame::Text(t))
            if t.contains("\"op\":4") && t.contains("\"dave_protocol_version\":1"))
    });
    assert!(op4, "op 4 with DAVE v1");
    // Binary op 25 with a v8 seq prefix, numbered after op 4.
    let op25 = out.iter().find_map(|o| match o {
        Output::Ws(1, super::WsFrame::Binary(b)) if b.get(2) == Some(&25) => Some(b.clone()),
        _ => None,
    });
    let op25 = op25.expect("op 25 sent");
    let seq = u64::from(u16::from_be_bytes([op25[0], op25[1]]));
    let s = c.sessions.get(&(RoomId(1), 10)).expect("session");
    assert!(seq >= 2 && seq <= s.seq);
    // Replayed on resume like JSON messages.
    assert!(
        s.replay
            .after(Some(seq - 1))
            .expect("in the buffer")
            .first()
            .is_some_and(|f| matches!(f, super::WsFrame::Binary(b) if *b == op25))
    );
}

#[test]
fn heartbeat_is_acked_in_the_version_shape() {
    let (mut c, now) = core();
    while c.poll_output().is_some() {}
    c.on_text(1, r#"{"op":3,"d":{"t":9,"seq_ack":1}}"#, now);
    let out: Vec<Output> = std::iter::from_fn(|| c.poll_output()).collect();
    assert!(out.iter().any(|o| matches!(o, Output::Ws(1, super::WsFrame::Text(t)) if t.contains("\"op\":6") && t.contains("\"t\":9"))));
}

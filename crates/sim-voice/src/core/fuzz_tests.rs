//! Property tests: arbitrary WebSocket frames and datagrams never panic
//! the core and never end another client's session.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use voice_proto::{Identify, ServerId, UserId, VoiceMessage};

use super::{Command, Core, Output};
use crate::config::{RoomId, RoomKind, SessionGrant, VoiceServerConfig};

fn core() -> (Core, Instant) {
    let now = Instant::now();
    let mut c = Core::new(
        VoiceServerConfig::default(),
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
            session_id: "s".to_owned(),
            token: "t".to_owned(),
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
        session_id: "s".to_owned(),
        token: "t".to_owned(),
        max_dave_protocol_version: None,
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
            c.on_binary(2, b);
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

#[test]
fn heartbeat_is_acked_in_the_version_shape() {
    let (mut c, now) = core();
    while c.poll_output().is_some() {}
    c.on_text(1, r#"{"op":3,"d":{"t":9,"seq_ack":1}}"#, now);
    let out: Vec<Output> = std::iter::from_fn(|| c.poll_output()).collect();
    assert!(out.iter().any(|o| matches!(o, Output::Ws(1, super::WsFrame::Text(t)) if t.contains("\"op\":6") && t.contains("\"t\":9"))));
}

//! Property tests: no parser panics on arbitrary or mutated input, and
//! encoders round-trip through the parsers.

use proptest::prelude::*;
use voice_proto::*;

/// Valid frames of several opcodes, used as mutation seeds.
const SEEDS: &[&str] = &[
    r#"{"op":0,"d":{"server_id":"1","user_id":"2","session_id":"s","token":"t","max_dave_protocol_version":1,"video":true,"streams":[{"type":"screen","rid":"100","quality":100}]}}"#,
    r#"{"op":2,"d":{"ssrc":1,"ip":"1.2.3.4","port":5,"modes":["a"],"streams":[{"type":"video","rid":"100","ssrc":2,"rtx_ssrc":3,"quality":100,"active":false}]}}"#,
    r#"{"op":3,"d":{"t":1,"seq_ack":2}}"#,
    r#"{"op":4,"d":{"mode":"m","secret_key":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32],"dave_protocol_version":1}}"#,
    r#"{"op":8,"d":{"v":8,"heartbeat_interval":13750.5}}"#,
    r#"{"op":12,"d":{"audio_ssrc":1,"video_ssrc":2,"streams":[{"rid":"1","quality":1,"max_resolution":{"type":"fixed","width":1,"height":1}}]}}"#,
    r#"{"op":15,"d":{"1":100,"any":3,"streams":{"4":5},"pixelCounts":{"4":1.5}}}"#,
    r#"{"op":21,"d":{"transition_id":1,"protocol_version":1},"seq":3}"#,
];

fn mutate(seed: &str, edits: &[(usize, u8)]) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    for &(pos, b) in edits {
        let i = pos % bytes.len();
        bytes[i] = b;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #[test]
    fn from_text_never_panics(s in ".*") {
        let _ = VoiceMessage::from_text(&s);
    }

    #[test]
    fn from_text_on_envelope_with_arbitrary_payload(op in any::<u8>(), d in "[\\[\\]{}\",:0-9a-z_ -]{0,60}") {
        let _ = VoiceMessage::from_text(&format!(r#"{{"op":{op},"d":{d}}}"#));
    }

    #[test]
    fn mutated_frames_never_panic(seed in 0..SEEDS.len(), edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let text = mutate(SEEDS[seed], &edits);
        if let Ok((msg, seq)) = VoiceMessage::from_text(&text) {
            // Whatever decodes re-encodes to something that decodes to the
            // same value.
            let again = VoiceMessage::from_text(&msg.to_text(seq)).expect("re-encoded text decodes");
            prop_assert_eq!(again, (msg, seq));
        }
    }

    #[test]
    fn parse_server_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64), with_seq in any::<bool>()) {
        let _ = DaveBinary::parse_server(&bytes, with_seq);
    }

    #[test]
    fn parse_client_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = DaveBinary::parse_client(&bytes);
    }

    #[test]
    fn binary_server_round_trip(op in prop::sample::select(vec![25u8, 27, 29, 30, 31, 200]),
                                kind in 0u8..2, tid in any::<u16>(),
                                payload in prop::collection::vec(any::<u8>(), 0..32),
                                seq in prop::option::of(any::<u16>())) {
        let msg = match op {
            25 => DaveBinary::ExternalSender(payload),
            27 => DaveBinary::Proposals { operation: ProposalsOperation::from_u8(kind).unwrap(), proposals: payload },
            29 => DaveBinary::AnnounceCommitTransition { transition_id: tid, commit: payload },
            30 => DaveBinary::Welcome { transition_id: tid, welcome: payload },
            op => DaveBinary::Unknown { op, payload },
        };
        let bytes = msg.encode_server(seq).unwrap();
        prop_assert_eq!(DaveBinary::parse_server(&bytes, seq.is_some()).unwrap(), (msg, seq));
    }

    #[test]
    fn binary_client_round_trip(op in prop::sample::select(vec![26u8, 28, 0, 255]),
                                payload in prop::collection::vec(any::<u8>(), 0..32)) {
        let msg = match op {
            26 => DaveBinary::KeyPackage(payload),
            28 => DaveBinary::CommitWelcome(payload),
            op => DaveBinary::Unknown { op, payload },
        };
        let bytes = msg.encode_client().unwrap();
        prop_assert_eq!(DaveBinary::parse_client(&bytes).unwrap(), msg);
    }

    #[test]
    fn ip_discovery_decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
        let _ = IpDiscovery::decode(&bytes);
    }

    #[test]
    fn ip_discovery_mutated_never_panics(edits in prop::collection::vec((0usize..74, any::<u8>()), 1..8)) {
        let mut bytes = IpDiscovery::Response { ssrc: 7, address: "10.0.0.1".into(), port: 9 }.encode().unwrap();
        for (i, b) in edits {
            bytes[i] = b;
        }
        if let Ok(p) = IpDiscovery::decode(&bytes) {
            // Anything accepted re-encodes to an accepted packet.
            prop_assert_eq!(IpDiscovery::decode(&p.encode().unwrap()).unwrap(), p);
        }
    }

    #[test]
    fn ip_discovery_round_trip(ssrc in any::<u32>(), port in any::<u16>(), address in "[!-~]{1,63}") {
        let resp = IpDiscovery::Response { ssrc, address, port };
        prop_assert_eq!(IpDiscovery::decode(&resp.encode().unwrap()).unwrap(), resp);
        let req = IpDiscovery::Request { ssrc };
        prop_assert_eq!(IpDiscovery::decode(&req.encode().unwrap()).unwrap(), req);
    }

    #[test]
    fn heartbeat_round_trip(nonce in 0u64..(1 << 53), seq_ack in prop::option::of(any::<u64>()), v8 in any::<bool>()) {
        let version = if v8 { GatewayVersion::V8 } else { GatewayVersion::V4 };
        let msg = VoiceMessage::Heartbeat(Heartbeat::new(version, nonce, seq_ack));
        let (back, _) = VoiceMessage::from_text(&msg.to_text(None)).unwrap();
        prop_assert_eq!(&back, &msg);
        let VoiceMessage::Heartbeat(hb) = back else { unreachable!() };
        prop_assert_eq!(hb.nonce(), Some(nonce));
        prop_assert_eq!(hb.ack().map(|a| a.nonce()), Some(nonce));
    }

    #[test]
    fn media_sink_wants_round_trip(any_q in prop::option::of(0u8..=100),
                                   streams in prop::collection::btree_map(any::<u32>(), 0u8..=100, 0..5)) {
        let w = MediaSinkWants { any: any_q, streams, pixel_counts: Default::default() };
        let msg = VoiceMessage::MediaSinkWants(w);
        let (back, _) = VoiceMessage::from_text(&msg.to_text(None)).unwrap();
        prop_assert_eq!(back, msg);
    }
}

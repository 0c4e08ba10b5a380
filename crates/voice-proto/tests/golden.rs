//! Golden JSON for every modelled voice message: hand-written wire text
//! (from the fact sheet's examples and shapes) → typed value → wire text.

use serde_json::{Value, json};
use voice_proto::*;

/// Decodes `text`, checks the typed value and seq, re-encodes and compares
/// with `canonical` as JSON values (field order is irrelevant on the wire).
fn golden(text: &str, expected: VoiceMessage, seq: Option<u64>, canonical: Value) {
    let (msg, got_seq) = VoiceMessage::from_text(text).expect("golden text decodes");
    assert_eq!(msg, expected, "decoded value of {text}");
    assert_eq!(got_seq, seq, "seq of {text}");
    let out: Value = serde_json::from_str(&msg.to_text(got_seq)).unwrap();
    assert_eq!(out, canonical, "re-encoding of {text}");
}

/// Golden case whose wire text is already canonical.
fn golden_same(text: &str, expected: VoiceMessage, seq: Option<u64>) {
    let canonical: Value = serde_json::from_str(text).unwrap();
    golden(text, expected, seq, canonical);
}

#[test]
fn identify_voice_with_dave() {
    golden_same(
        r#"{"op":0,"d":{"server_id":"41771983423143937","user_id":"104694319306248192",
            "session_id":"my_session_id","token":"my_token","max_dave_protocol_version":1}}"#,
        VoiceMessage::Identify(Identify {
            server_id: ServerId(41771983423143937),
            user_id: UserId(104694319306248192),
            session_id: Secret::new("my_session_id"),
            token: Secret::new("my_token"),
            max_dave_protocol_version: Some(1),
            video: None,
            streams: vec![],
            channel_id: None,
        }),
        None,
    );
}

#[test]
fn identify_stream_v9() {
    golden_same(
        r#"{"op":0,"d":{"server_id":"1000000000000000001","user_id":"7","session_id":"s",
            "token":"t","max_dave_protocol_version":1,"video":true,
            "streams":[{"type":"screen","rid":"100","quality":100}],
            "channel_id":"1000000000000000002"}}"#,
        VoiceMessage::Identify(Identify {
            server_id: ServerId(1000000000000000001),
            user_id: UserId(7),
            session_id: Secret::new("s"),
            token: Secret::new("t"),
            max_dave_protocol_version: Some(1),
            video: Some(true),
            streams: vec![StreamDescriptor::screen_offer()],
            channel_id: Some(ChannelId(1000000000000000002)),
        }),
        None,
    );
}

#[test]
fn ready_with_streams_ignores_heartbeat_interval() {
    let text = r#"{"op":2,"d":{"ssrc":12871,"ip":"127.0.0.1","port":1234,
        "modes":["aead_aes256_gcm_rtpsize","aead_xchacha20_poly1305_rtpsize"],
        "experiments":["fixed_keyframe_interval"],
        "streams":[{"type":"video","rid":"100","ssrc":12872,"rtx_ssrc":12873,"quality":100,"active":false}],
        "heartbeat_interval":1},"seq":1}"#;
    let mut stream = StreamDescriptor::offer(StreamType::Video, "100", 100);
    stream.ssrc = Some(12872);
    stream.rtx_ssrc = Some(12873);
    stream.active = Some(false);
    golden(
        text,
        VoiceMessage::Ready(Ready {
            ssrc: 12871,
            ip: "127.0.0.1".into(),
            port: 1234,
            modes: vec![
                "aead_aes256_gcm_rtpsize".into(),
                "aead_xchacha20_poly1305_rtpsize".into(),
            ],
            experiments: vec!["fixed_keyframe_interval".into()],
            streams: vec![stream],
        }),
        Some(1),
        json!({"op":2,"seq":1,"d":{"ssrc":12871,"ip":"127.0.0.1","port":1234,
            "modes":["aead_aes256_gcm_rtpsize","aead_xchacha20_poly1305_rtpsize"],
            "experiments":["fixed_keyframe_interval"],
            "streams":[{"type":"video","rid":"100","ssrc":12872,"rtx_ssrc":12873,"quality":100,"active":false}]}}),
    );
}

#[test]
fn select_protocol_udp_with_codecs() {
    let text = r#"{"op":1,"d":{"protocol":"udp",
        "data":{"address":"203.0.113.7","port":50000,"mode":"aead_aes256_gcm_rtpsize"},
        "codecs":[
          {"name":"opus","type":"audio","priority":1000,"payload_type":120},
          {"name":"H264","type":"video","priority":1000,"payload_type":101,"rtx_payload_type":102,"encode":true,"decode":true},
          {"name":"VP8","type":"video","priority":3000,"payload_type":103,"rtx_payload_type":104,"decode":false}
        ],
        "rtc_connection_id":"d2c2d1b8-52b4-4d5f-9a3c-6a51f9c1c2a1"}}"#;
    let mut h264 = CodecDescriptor::video("H264", 1000, 101, 102);
    h264.encode = Some(true);
    h264.decode = Some(true);
    let mut vp8 = CodecDescriptor::video("VP8", 3000, 103, 104);
    vp8.decode = Some(false);
    let mut sp = SelectProtocol::udp(
        "203.0.113.7".into(),
        50000,
        "aead_aes256_gcm_rtpsize".into(),
        vec![CodecDescriptor::opus(120), h264, vp8],
    );
    sp.rtc_connection_id = Some("d2c2d1b8-52b4-4d5f-9a3c-6a51f9c1c2a1".into());
    golden_same(text, VoiceMessage::SelectProtocol(sp.clone()), None);
    assert!(!sp.codecs[2].decodes() && sp.codecs[2].encodes());
}

#[test]
fn select_protocol_webrtc_data_is_a_string() {
    let text =
        r#"{"op":1,"d":{"protocol":"webrtc","data":"a=fingerprint:x","sdp":"a=fingerprint:x"}}"#;
    let (msg, _) = VoiceMessage::from_text(text).unwrap();
    let VoiceMessage::SelectProtocol(sp) = msg else {
        panic!("not select protocol")
    };
    assert_eq!(sp.protocol, Protocol::WebRtc);
    assert_eq!(sp.data, SelectProtocolData::Sdp("a=fingerprint:x".into()));
}

#[test]
fn session_description_with_secret_key() {
    let key: Vec<u8> = (0u8..32)
        .map(|i| i.wrapping_mul(7).wrapping_add(200))
        .collect();
    let text = format!(
        r#"{{"op":4,"d":{{"mode":"aead_aes256_gcm_rtpsize","secret_key":{key:?},
        "audio_codec":"opus","video_codec":"H264","media_session_id":"89f1d62f166b948746f7646713d39dbb",
        "dave_protocol_version":1,"keyframe_interval":5000}},"seq":2}}"#
    );
    let mut arr = [0u8; 32];
    arr.copy_from_slice(&key);
    let expected = SessionDescription {
        mode: Some("aead_aes256_gcm_rtpsize".into()),
        secret_key: Some(SecretKey(arr)),
        audio_codec: Some("opus".into()),
        video_codec: Some("H264".into()),
        media_session_id: Some(Secret::new("89f1d62f166b948746f7646713d39dbb")),
        dave_protocol_version: 1,
        keyframe_interval: Some(5000),
        bandwidth_estimation_experiment: None,
        sdp: None,
    };
    golden_same(
        &text,
        VoiceMessage::SessionDescription(expected.clone()),
        Some(2),
    );
    let (mode, k) = expected.udp_keying().unwrap();
    assert_eq!(mode, "aead_aes256_gcm_rtpsize");
    assert_eq!(k.as_bytes()[0], 200);
    assert!(
        !format!("{k:?}").contains("200"),
        "Debug must not print the key"
    );
}

#[test]
fn session_description_rejects_short_key() {
    let text = r#"{"op":4,"d":{"mode":"m","secret_key":[1,2,3],"dave_protocol_version":0}}"#;
    let err = VoiceMessage::from_text(text).unwrap_err();
    assert_eq!(err.op(), Some(4));
    assert!(err.is_malformed_input());
}

#[test]
fn session_description_without_dave_field_means_zero() {
    let text = r#"{"op":4,"d":{"mode":"m","secret_key":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}}"#;
    let (VoiceMessage::SessionDescription(sd), _) = VoiceMessage::from_text(text).unwrap() else {
        panic!()
    };
    assert_eq!(sd.dave_protocol_version, 0);
}

#[test]
fn heartbeat_v4_and_v8() {
    golden_same(
        r#"{"op":3,"d":1501184119561}"#,
        VoiceMessage::Heartbeat(Heartbeat::Legacy(1501184119561)),
        None,
    );
    golden_same(
        r#"{"op":3,"d":{"t":1501184119561,"seq_ack":10}}"#,
        VoiceMessage::Heartbeat(Heartbeat::Sequenced {
            t: 1501184119561,
            seq_ack: Some(10),
        }),
        None,
    );
    // DVS sends -1 before any seq; it is read as "none" and omitted.
    golden(
        r#"{"op":3,"d":{"t":42,"seq_ack":-1}}"#,
        VoiceMessage::Heartbeat(Heartbeat::Sequenced {
            t: 42,
            seq_ack: None,
        }),
        None,
        json!({"op":3,"d":{"t":42}}),
    );
    golden_same(
        r#"{"op":6,"d":1501184119561}"#,
        VoiceMessage::HeartbeatAck(HeartbeatAck::Legacy(1501184119561)),
        None,
    );
    golden_same(
        r#"{"op":6,"d":{"t":1501184119561}}"#,
        VoiceMessage::HeartbeatAck(HeartbeatAck::Sequenced { t: 1501184119561 }),
        None,
    );
}

#[test]
fn heartbeat_built_for_version_has_documented_shape() {
    let v4 = VoiceMessage::Heartbeat(Heartbeat::new(GatewayVersion::V4, 99, Some(5)));
    let v8 = VoiceMessage::Heartbeat(Heartbeat::new(GatewayVersion::V8, 99, Some(5)));
    let v4: Value = serde_json::from_str(&v4.to_text(None)).unwrap();
    let v8: Value = serde_json::from_str(&v8.to_text(None)).unwrap();
    assert_eq!(v4, json!({"op":3,"d":99}));
    assert_eq!(v8, json!({"op":3,"d":{"t":99,"seq_ack":5}}));
}

#[test]
fn hello_v8_and_float_interval() {
    golden_same(
        r#"{"op":8,"d":{"v":8,"heartbeat_interval":13750}}"#,
        VoiceMessage::Hello(Hello {
            heartbeat_interval_ms: 13750,
            v: Some(8),
        }),
        None,
    );
    golden(
        r#"{"op":8,"d":{"heartbeat_interval":41250.0}}"#,
        VoiceMessage::Hello(Hello {
            heartbeat_interval_ms: 41250,
            v: None,
        }),
        None,
        json!({"op":8,"d":{"heartbeat_interval":41250}}),
    );
    assert!(VoiceMessage::from_text(r#"{"op":8,"d":{"heartbeat_interval":-5}}"#).is_err());
}

#[test]
fn speaking_both_directions() {
    golden_same(
        r#"{"op":5,"d":{"speaking":2,"delay":0,"ssrc":12871}}"#,
        VoiceMessage::Speaking(Speaking::announce(SpeakingFlags::SOUNDSHARE, 12871)),
        None,
    );
    golden_same(
        r#"{"op":5,"d":{"speaking":1,"ssrc":555,"user_id":"104694319306248192"},"seq":7}"#,
        VoiceMessage::Speaking(Speaking {
            speaking: SpeakingFlags::MICROPHONE,
            delay: None,
            ssrc: 555,
            user_id: Some(UserId(104694319306248192)),
        }),
        Some(7),
    );
}

#[test]
fn resume_and_resumed() {
    golden_same(
        r#"{"op":7,"d":{"server_id":"41771983423143937","session_id":"s","token":"t","seq_ack":10}}"#,
        VoiceMessage::Resume(Resume {
            server_id: ServerId(41771983423143937),
            session_id: Secret::new("s"),
            token: Secret::new("t"),
            seq_ack: Some(10),
            channel_id: None,
        }),
        None,
    );
    golden_same(r#"{"op":9,"d":null}"#, VoiceMessage::Resumed, None);
}

#[test]
fn clients_connect_and_disconnect() {
    golden_same(
        r#"{"op":11,"d":{"user_ids":["1","80351110224678912"]},"seq":3}"#,
        VoiceMessage::ClientsConnect(ClientsConnect {
            user_ids: vec![UserId(1), UserId(80351110224678912)],
        }),
        Some(3),
    );
    golden_same(
        r#"{"op":13,"d":{"user_id":"5"},"seq":4}"#,
        VoiceMessage::ClientDisconnect(ClientDisconnect { user_id: UserId(5) }),
        Some(4),
    );
}

#[test]
fn video_announce_and_relay() {
    let text = r#"{"op":12,"d":{"audio_ssrc":12871,"video_ssrc":12872,"rtx_ssrc":12873,
        "streams":[{"type":"video","rid":"100","ssrc":12872,"rtx_ssrc":12873,"active":true,"quality":100,
        "max_bitrate":2500000,"max_framerate":30,"max_resolution":{"type":"fixed","width":1280,"height":720}}]}}"#;
    let stream = StreamDescriptor {
        kind: StreamType::Video,
        rid: "100".into(),
        quality: 100,
        ssrc: Some(12872),
        rtx_ssrc: Some(12873),
        active: Some(true),
        max_bitrate: Some(2_500_000),
        max_framerate: Some(30),
        max_resolution: Some(MaxResolution {
            kind: ResolutionType::Fixed,
            width: 1280,
            height: 720,
        }),
    };
    golden_same(
        text,
        VoiceMessage::Video(Video {
            user_id: None,
            audio_ssrc: Some(12871),
            video_ssrc: Some(12872),
            rtx_ssrc: Some(12873),
            streams: vec![stream],
        }),
        None,
    );
    // Clearing keeps an explicit empty list.
    golden_same(
        r#"{"op":12,"d":{"audio_ssrc":1,"video_ssrc":0,"rtx_ssrc":0,"streams":[]}}"#,
        VoiceMessage::Video(Video {
            user_id: None,
            audio_ssrc: Some(1),
            video_ssrc: Some(0),
            rtx_ssrc: Some(0),
            streams: vec![],
        }),
        None,
    );
    // Server relay: user_id, no rtx_ssrc, streams without `type`.
    let (msg, _) = VoiceMessage::from_text(
        r#"{"op":12,"d":{"user_id":"9","audio_ssrc":40,"video_ssrc":41,
        "streams":[{"ssrc":41,"rtx_ssrc":42,"rid":"100","quality":100,"active":true,
        "max_framerate":60,"max_resolution":{"type":"source","width":0,"height":0}}]}}"#,
    )
    .unwrap();
    let VoiceMessage::Video(v) = msg else {
        panic!()
    };
    assert_eq!(v.user_id, Some(UserId(9)));
    assert_eq!(v.streams[0].kind, StreamType::Video);
    assert_eq!(v.streams[0].rtx_ssrc, Some(42));
    assert_eq!(
        v.streams[0].max_resolution.as_ref().unwrap().kind,
        ResolutionType::Source
    );
}

#[test]
fn session_update_both_directions() {
    golden_same(
        r#"{"op":14,"d":{"codecs":[{"name":"opus","type":"audio","priority":1000,"payload_type":120}]}}"#,
        VoiceMessage::session_update_codecs(vec![CodecDescriptor::opus(120)]),
        None,
    );
    golden_same(
        r#"{"op":14,"d":{"video_codec":"VP8","media_session_id":"ab","keyframe_interval":2000},"seq":9}"#,
        VoiceMessage::SessionUpdate(SessionUpdate {
            codecs: vec![],
            audio_codec: None,
            video_codec: Some("VP8".into()),
            media_session_id: Some(Secret::new("ab")),
            keyframe_interval: Some(2000),
        }),
        Some(9),
    );
}

/// user-docs ("Media Sink Wants Structure", discord-userdoccers
/// `pages/topics/voice-connections.mdx` @3dc0ca92): `{ssrc}?` keys at the
/// top level, example `{"8964": 100, "any": 50, "pixelCounts": {"8964":
/// 1189844.5769597634}}`. clankvox's nested `streams` is not read (see
/// mediad `transport/sink.rs` for why).
#[test]
fn media_sink_wants_top_level_ssrc_keys() {
    let mut expected = MediaSinkWants {
        any: Some(50),
        ..Default::default()
    };
    expected.streams.insert(8964, 100);
    expected.pixel_counts.insert(8964, 1189844.5769597634);
    golden_same(
        r#"{"op":15,"d":{"8964":100,"any":50,"pixelCounts":{"8964":1189844.5769597634}}}"#,
        VoiceMessage::MediaSinkWants(expected),
        None,
    );
    // Nested (clankvox): only `any` and `pixelCounts` are read.
    let mut nested = MediaSinkWants {
        any: Some(100),
        ..Default::default()
    };
    nested.pixel_counts.insert(12346, 921600.0);
    golden(
        r#"{"op":15,"d":{"any":100,"streams":{"12346":100,"12347":0},"pixelCounts":{"12346":921600.0}}}"#,
        VoiceMessage::MediaSinkWants(nested),
        None,
        json!({"op":15,"d":{"any":100,"pixelCounts":{"12346":921600.0}}}),
    );
    golden(
        r#"{"op":15,"d":{"any":50}}"#,
        VoiceMessage::MediaSinkWants(MediaSinkWants {
            any: Some(50),
            ..Default::default()
        }),
        None,
        json!({"op":15,"d":{"any":50}}),
    );
}

#[test]
fn backend_version_both_directions() {
    golden_same(
        r#"{"op":16,"d":{}}"#,
        VoiceMessage::BackendVersion(BackendVersion::default()),
        None,
    );
    golden_same(
        r#"{"op":16,"d":{"voice":"0.9.1","rtc_worker":"0.5.3"}}"#,
        VoiceMessage::BackendVersion(BackendVersion {
            voice: Some("0.9.1".into()),
            rtc_worker: Some("0.5.3".into()),
        }),
        None,
    );
}

#[test]
fn client_flags_and_platform() {
    golden_same(
        r#"{"op":18,"d":{"user_id":"3","flags":3},"seq":5}"#,
        VoiceMessage::ClientFlags(ClientFlags {
            user_id: UserId(3),
            flags: ClientFlags::CLIPS_ENABLED | ClientFlags::ALLOW_VOICE_RECORDING,
        }),
        Some(5),
    );
    golden_same(
        r#"{"op":20,"d":{"user_id":"3","platform":1},"seq":6}"#,
        VoiceMessage::ClientPlatform(ClientPlatform {
            user_id: UserId(3),
            platform: Platform::Mobile,
        }),
        Some(6),
    );
}

#[test]
fn dave_json_opcodes() {
    golden_same(
        r#"{"op":21,"d":{"transition_id":3,"protocol_version":0},"seq":10}"#,
        VoiceMessage::DavePrepareTransition(PrepareTransition {
            transition_id: 3,
            protocol_version: 0,
        }),
        Some(10),
    );
    golden_same(
        r#"{"op":22,"d":{"transition_id":3},"seq":11}"#,
        VoiceMessage::DaveExecuteTransition(ExecuteTransition { transition_id: 3 }),
        Some(11),
    );
    golden_same(
        r#"{"op":23,"d":{"transition_id":3}}"#,
        VoiceMessage::DaveTransitionReady(TransitionReady {
            transition_id: 3,
            protocol_version: None,
        }),
        None,
    );
    golden_same(
        r#"{"op":23,"d":{"transition_id":0,"protocol_version":1}}"#,
        VoiceMessage::DaveTransitionReady(TransitionReady {
            transition_id: 0,
            protocol_version: Some(1),
        }),
        None,
    );
    golden_same(
        r#"{"op":24,"d":{"protocol_version":1,"epoch":1},"seq":12}"#,
        VoiceMessage::DavePrepareEpoch(PrepareEpoch {
            protocol_version: 1,
            epoch: 1,
        }),
        Some(12),
    );
    golden_same(
        r#"{"op":31,"d":{"transition_id":7}}"#,
        VoiceMessage::DaveInvalidCommitWelcome(InvalidCommitWelcome { transition_id: 7 }),
        None,
    );
}

#[test]
fn no_route_and_unknown_opcodes() {
    golden_same(r#"{"op":32,"d":{}}"#, VoiceMessage::NoRoute, None);
    golden_same(
        r#"{"op":17,"d":{"foo":[1,2]},"seq":8}"#,
        VoiceMessage::Unknown {
            op: 17,
            d: json!({"foo":[1,2]}),
        },
        Some(8),
    );
    golden_same(
        r#"{"op":200,"d":"anything"}"#,
        VoiceMessage::Unknown {
            op: 200,
            d: json!("anything"),
        },
        None,
    );
    // A binary-only opcode in a text frame is kept, not interpreted.
    let (msg, _) = VoiceMessage::from_text(r#"{"op":29,"d":{"x":1}}"#).unwrap();
    assert_eq!(msg.opcode(), VoiceOpcode::MlsAnnounceCommitTransition);
    assert!(matches!(msg, VoiceMessage::Unknown { op: 29, .. }));
}

#[test]
fn envelope_errors() {
    for bad in [
        "",
        "not json",
        "[1,2]",
        r#"{"d":{}}"#,
        r#"{"op":"2","d":{}}"#,
        r#"{"op":256,"d":null}"#,
        r#"{"op":-1}"#,
    ] {
        let err = VoiceMessage::from_text(bad).unwrap_err();
        assert!(
            matches!(err, VoiceProtoError::Envelope { .. }),
            "{bad}: {err:?}"
        );
        assert_eq!(err.op(), None);
    }
    let err = VoiceMessage::from_text(r#"{"op":2,"d":{"ssrc":"x"}}"#).unwrap_err();
    assert!(
        matches!(err, VoiceProtoError::Payload { op: 2, .. }),
        "{err:?}"
    );
}

//! One fixed sample of every message kind, shared by the golden-vector
//! tests, the property tests and the benchmark.
#![allow(dead_code, missing_docs)]

use ipc_schema::*;

pub fn hello(role: PeerRole) -> Hello {
    Hello {
        protocol: ProtocolVersion { major: 1, minor: 0 },
        role,
        build: "golden 0.1.0".into(),
        instance_id: 0x0123_4567_89ab_cdef,
    }
}

pub fn voice_connect() -> VoiceConnect {
    VoiceConnect {
        guild_id: GuildId(111_111_111_111_111_111),
        channel_id: ChannelId(222_222_222_222_222_222),
        user_id: UserId(333_333_333_333_333_333),
        session_id: Secret::new("session-0123456789abcdef"),
        endpoint: "127.0.0.1:40001".into(),
        token: Secret::new("voice-token-abcdef"),
        dave_group_id: 222_222_222_222_222_222,
    }
}

pub fn stream_connect() -> StreamConnect {
    StreamConnect {
        stream_key: "guild:111111111111111111:222222222222222222:444444444444444444".into(),
        streamer_id: UserId(444_444_444_444_444_444),
        user_id: UserId(333_333_333_333_333_333),
        server_id: 555_555_555_555_555_555,
        session_id: Secret::new("session-0123456789abcdef"),
        endpoint: "127.0.0.1:40002".into(),
        token: Secret::new("stream-token-abcdef"),
        dave_group_id: 555_555_555_555_555_554,
    }
}

pub fn subscription() -> VideoSubscription {
    VideoSubscription {
        user_id: UserId(444_444_444_444_444_444),
        stream_type: Some(StreamType::Screen),
        max_fps: 2.0,
        quality: 100,
        preferred_pixel_count: Some(640 * 360),
        jpeg_quality: 75,
    }
}

/// A deterministic pseudo-JPEG of `len` bytes (content is irrelevant to the
/// codec; it starts with the JPEG SOI marker for realism).
pub fn jpeg_bytes(len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    if len >= 2 {
        v[0] = 0xFF;
        v[1] = 0xD8;
    }
    v
}

pub fn decoded_frame(jpeg_len: usize) -> DecodedVideoFrame {
    DecodedVideoFrame {
        user_id: UserId(444_444_444_444_444_444),
        ssrc: Ssrc(0x1122_3344),
        stream_type: Some(StreamType::Screen),
        width: 640,
        height: 360,
        jpeg: jpeg_bytes(jpeg_len),
        change_score: 0.125,
        ema_score: 0.0625,
        scene_cut: false,
        rtp_timestamp: 90_000,
        capture_time_us: 1_790_000_000_000_000,
        frame_seq: 42,
    }
}

/// 1 ms of a 48 kHz ramp, as control would send it.
pub fn voice_play_chunk() -> VoicePlayChunk {
    VoicePlayChunk {
        id: UtteranceId(77),
        seq: 3,
        pcm: (0..48i16)
            .flat_map(|i| (i * 100 - 2400).to_le_bytes())
            .collect(),
        last: true,
    }
}

/// Every control→mediad kind, named after its vector file.
pub fn control_samples() -> Vec<(&'static str, ControlMsg)> {
    vec![
        ("hello", ControlMsg::Hello(hello(PeerRole::Control))),
        ("voice_connect", ControlMsg::VoiceConnect(voice_connect())),
        (
            "voice_disconnect",
            ControlMsg::VoiceDisconnect(Disconnect {
                reason: "left_voice".into(),
            }),
        ),
        (
            "stream_watch_connect",
            ControlMsg::StreamWatchConnect(stream_connect()),
        ),
        (
            "stream_watch_disconnect",
            ControlMsg::StreamWatchDisconnect(Disconnect {
                reason: "stream_deleted".into(),
            }),
        ),
        (
            "stream_publish_connect",
            ControlMsg::StreamPublishConnect(stream_connect()),
        ),
        (
            "stream_publish_disconnect",
            ControlMsg::StreamPublishDisconnect(Disconnect {
                reason: "stopped".into(),
            }),
        ),
        ("stream_publish_pause", ControlMsg::StreamPublishPause),
        ("stream_publish_resume", ControlMsg::StreamPublishResume),
        (
            "stream_publish_frame",
            ControlMsg::StreamPublishFrame(PublishFrame {
                format: PublishFormat::I420 {
                    width: 4,
                    height: 2,
                },
                data: (0u8..12).collect(),
                capture_time_us: 1_790_000_000_000_000,
            }),
        ),
        (
            "subscribe_user_video",
            ControlMsg::SubscribeUserVideo(subscription()),
        ),
        (
            "unsubscribe_user_video",
            ControlMsg::UnsubscribeUserVideo {
                user_id: UserId(444_444_444_444_444_444),
            },
        ),
        ("ping", ControlMsg::Ping { nonce: 0xdead_beef }),
        ("snapshot_request", ControlMsg::SnapshotRequest),
        ("voice_play", ControlMsg::VoicePlay(voice_play_chunk())),
        (
            "voice_cancel",
            ControlMsg::VoiceCancel {
                id: UtteranceId(77),
            },
        ),
    ]
}

/// Every mediad→control kind, named after its vector file.
pub fn mediad_samples() -> Vec<(&'static str, MediadMsg)> {
    vec![
        ("hello", MediadMsg::Hello(hello(PeerRole::Mediad))),
        (
            "transport_state",
            MediadMsg::TransportState(TransportState {
                role: TransportRole::StreamWatch,
                status: TransportStatus::RejoinRequired,
                reason: Some("close_4006_session_invalid".into()),
                close_code: Some(4006),
            }),
        ),
        (
            "user_video_state",
            MediadMsg::UserVideoState(UserVideoState {
                user_id: UserId(444_444_444_444_444_444),
                role: TransportRole::StreamWatch,
                audio_ssrc: Some(Ssrc(1000)),
                video_ssrc: Some(Ssrc(1001)),
                codec: Some(VideoCodec::H264),
                streams: vec![VideoStreamInfo {
                    ssrc: Ssrc(1001),
                    rtx_ssrc: Some(Ssrc(1002)),
                    rid: Some("100".into()),
                    quality: Some(100),
                    stream_type: Some(StreamType::Screen),
                    active: true,
                    max_bitrate: Some(4_000_000),
                    max_framerate: Some(30),
                    max_resolution: Some((1920, 1080)),
                }],
            }),
        ),
        (
            "decoded_video_frame",
            MediadMsg::DecodedVideoFrame(decoded_frame(16)),
        ),
        (
            "user_video_frame",
            MediadMsg::UserVideoFrame(UserVideoFrame {
                user_id: UserId(444_444_444_444_444_444),
                ssrc: Ssrc(1001),
                codec: VideoCodec::Vp9,
                keyframe: true,
                rtp_timestamp: 180_000,
                capture_time_us: 1_790_000_000_000_000,
                data: vec![0x9d, 0x01, 0x2a, 0, 1, 2],
            }),
        ),
        (
            "user_video_end",
            MediadMsg::UserVideoEnd {
                user_id: UserId(444_444_444_444_444_444),
                ssrc: Some(Ssrc(1001)),
            },
        ),
        (
            "speaking",
            MediadMsg::Speaking(Speaking {
                user_id: UserId(444_444_444_444_444_444),
                ssrc: Some(Ssrc(1000)),
                speaking: true,
            }),
        ),
        (
            "stats",
            MediadMsg::Stats(Stats {
                uptime_ms: 60_000,
                video_lane_dropped: 3,
                video_lane_sent: 120,
                transports: vec![TransportStats {
                    role: Some(TransportRole::StreamWatch),
                    packets_received: 10_000,
                    packets_rejected: 2,
                    packets_recovered: 40,
                    packets_lost: 1,
                    frames_decoded: 1800,
                    frames_emitted: 120,
                    keyframe_requests: 1,
                    e2ee_failures: 0,
                    reconnects: 1,
                }],
            }),
        ),
        ("pong", MediadMsg::Pong { nonce: 0xdead_beef }),
        (
            "error",
            MediadMsg::Error(ErrorReport {
                code: ErrorCode::ControlAlreadyConnected,
                message: "another control is connected".into(),
            }),
        ),
        (
            "snapshot",
            MediadMsg::Snapshot(Snapshot {
                instance_id: 0x0123_4567_89ab_cdef,
                uptime_ms: 5_000,
                control_sessions: 2,
                transports: vec![
                    TransportSnapshot {
                        role: TransportRole::Voice,
                        status: TransportStatus::Ready,
                        reason: None,
                        params: TransportParams::Voice(voice_connect()),
                    },
                    TransportSnapshot {
                        role: TransportRole::StreamWatch,
                        status: TransportStatus::Connecting,
                        reason: Some("connect_requested".into()),
                        params: TransportParams::Stream(stream_connect()),
                    },
                ],
                subscriptions: vec![subscription()],
                publish_paused: false,
            }),
        ),
        (
            "playback",
            MediadMsg::Playback(PlaybackEvent {
                id: UtteranceId(77),
                state: PlaybackState::Failed("no voice connection".into()),
                played_ms: 1_240,
            }),
        ),
        (
            "user_speech",
            MediadMsg::UserSpeech(UserSpeech {
                user_id: UserId(444_444_444_444_444_444),
                ssrc: Ssrc(1000),
                speaking: true,
            }),
        ),
        (
            "user_utterance",
            MediadMsg::UserUtterance(UserUtterance {
                user_id: UserId(444_444_444_444_444_444),
                pcm: (0..64u16).flat_map(|i| (i * 300).to_le_bytes()).collect(),
                duration_ms: 2,
            }),
        ),
    ]
}

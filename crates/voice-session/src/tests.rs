//! Virtual-time tests: a scripted server written with `voice-proto` and
//! `voice-crypto` plays the other side; no sockets, no clock.

#![allow(clippy::disallowed_methods)] // tests pick an arbitrary base instant

use std::time::{Duration, Instant};

use proptest::prelude::*;
use rtp::rtcp::RtcpPacket;
use rtp::{PayloadType, RtpBuilder, RtpTimestamp, SeqNo, Ssrc};
use voice_crypto::{CryptoMode, NonceSeed, Sealer, TransportCipher};
use voice_proto::{
    Hello, IpDiscovery, Ready, Secret, SecretKey, SelectProtocolData, ServerId, SessionDescription,
    Speaking, SpeakingFlags, StreamDescriptor, StreamType, UserId, VoiceMessage,
};

use crate::*;

const KEY: [u8; 32] = [7; 32];
const OWN_SSRC: u32 = 11;

struct Harness {
    c: VoiceConnection,
    now: Instant,
    seq: u64,
    server: Sealer,
    opener: TransportCipher,
    /// SSRC the scripted server puts in its IP discovery answer.
    discovery_ssrc: u32,
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn config(role: Role) -> ConnectionConfig {
    ConnectionConfig::new(
        role,
        "127.0.0.1:9000",
        ServerId(500),
        UserId(42),
        Secret::new("sess"),
        Secret::new("tok"),
    )
}

impl Harness {
    fn new(role: Role) -> Self {
        let now = Instant::now();
        let mode = CryptoMode::AeadAes256GcmRtpSize;
        Self {
            c: VoiceConnection::new(config(role), now),
            now,
            seq: 0,
            server: Sealer::new(
                TransportCipher::new(mode, &KEY).unwrap(),
                NonceSeed::default(),
            ),
            opener: TransportCipher::new(mode, &KEY).unwrap(),
            discovery_ssrc: OWN_SSRC,
        }
    }

    fn transmits(&mut self) -> Vec<Transmit> {
        std::iter::from_fn(|| self.c.poll_transmit()).collect()
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.c.poll_event()).collect()
    }

    fn texts(&mut self) -> Vec<VoiceMessage> {
        self.transmits()
            .into_iter()
            .filter_map(|t| match t {
                Transmit::WsText(s) => Some(VoiceMessage::from_text(&s).unwrap().0),
                _ => None,
            })
            .collect()
    }

    fn input(&mut self, i: Input<'_>) {
        self.c.handle_input(i, self.now);
    }

    fn server_says(&mut self, m: VoiceMessage) {
        self.seq += 1;
        let text = m.to_text(Some(self.seq));
        self.c.handle_input(Input::WsText(&text), self.now);
    }

    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(t) = self.c.poll_timeout().filter(|t| *t <= end) {
            self.now = t.max(self.now);
            self.c.handle_timeout(self.now);
            if self.now == end {
                break;
            }
        }
        self.now = end;
    }

    fn statuses(events: &[Event]) -> Vec<(ConnectionStatus, String, Option<u16>)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Status {
                    status,
                    reason,
                    close_code,
                } => Some((*status, reason.clone(), *close_code)),
                _ => None,
            })
            .collect()
    }

    /// Runs the whole handshake; returns the Identify that was sent.
    fn handshake(&mut self) -> voice_proto::Identify {
        let t = self.transmits();
        assert!(
            matches!(&t[..], [Transmit::WsConnect { url }] if url == "wss://127.0.0.1:9000/?v=8"),
            "{t:?}"
        );
        self.input(Input::WsConnected);
        let sent = self.texts();
        let [VoiceMessage::Identify(identify)] = &sent[..] else {
            panic!("expected identify: {sent:?}");
        };
        let identify = identify.clone();
        self.server_says(VoiceMessage::Hello(Hello {
            heartbeat_interval_ms: 1000,
            v: Some(8),
        }));
        let mut stream = StreamDescriptor::offer(StreamType::Screen, "100", 100);
        stream.ssrc = Some(OWN_SSRC + 1);
        stream.rtx_ssrc = Some(OWN_SSRC + 2);
        self.server_says(VoiceMessage::Ready(Ready {
            ssrc: OWN_SSRC,
            ip: "127.0.0.1".into(),
            port: 5000,
            modes: vec![
                "xsalsa20_poly1305".into(),
                "aead_xchacha20_poly1305_rtpsize".into(),
                "aead_aes256_gcm_rtpsize".into(),
            ],
            experiments: vec![],
            streams: vec![stream],
        }));
        let t = self.transmits();
        assert_eq!(
            t[0],
            Transmit::UdpConnect {
                server: "127.0.0.1:5000".parse().unwrap()
            }
        );
        let Transmit::Udp(req) = &t[1] else {
            panic!("{t:?}")
        };
        assert_eq!(
            IpDiscovery::decode(req).unwrap(),
            IpDiscovery::Request { ssrc: OWN_SSRC }
        );
        let resp = IpDiscovery::Response {
            ssrc: self.discovery_ssrc,
            address: "203.0.113.9".into(),
            port: 40000,
        }
        .encode()
        .unwrap();
        self.input(Input::Udp(&resp));
        let sent = self.texts();
        // Op 1, then the inactive op 12 every role sends (issue 15 item 1).
        let [VoiceMessage::SelectProtocol(sp), VoiceMessage::Video(video)] = &sent[..] else {
            panic!("expected op 1 and op 12: {sent:?}")
        };
        assert_eq!(
            video,
            &voice_proto::Video {
                user_id: None,
                audio_ssrc: Some(OWN_SSRC),
                video_ssrc: Some(0),
                rtx_ssrc: Some(0),
                streams: vec![],
            }
        );
        let SelectProtocolData::Udp(d) = &sp.data else {
            panic!()
        };
        assert_eq!((d.address.as_str(), d.port), ("203.0.113.9", 40000));
        assert_eq!(d.mode, "aead_aes256_gcm_rtpsize", "AES-GCM preferred");
        let names: Vec<_> = sp
            .codecs
            .iter()
            .map(|c| (c.name.as_str(), c.rtx_payload_type))
            .collect();
        assert_eq!(
            names,
            vec![
                ("opus", None),
                ("H264", Some(H264_RTX_PT)),
                ("VP8", Some(VP8_RTX_PT))
            ]
        );
        self.server_says(VoiceMessage::SessionDescription(SessionDescription {
            mode: Some("aead_aes256_gcm_rtpsize".into()),
            secret_key: Some(SecretKey(KEY)),
            audio_codec: Some("opus".into()),
            video_codec: Some("H264".into()),
            media_session_id: None,
            dave_protocol_version: 0,
            keyframe_interval: None,
            bandwidth_estimation_experiment: None,
            sdp: None,
        }));
        assert_eq!(self.c.status(), ConnectionStatus::Ready);
        identify
    }

    fn sealed_rtp(&mut self, pt: u8, ssrc: u32, seq: u16, payload: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let b = RtpBuilder::new(
            PayloadType::new(pt).unwrap(),
            SeqNo(seq),
            RtpTimestamp(seq as u32 * 3000),
            Ssrc(ssrc),
        );
        let mut plain = Vec::new();
        b.write_to_vec(payload, &mut plain).unwrap();
        let mut sealed = plain.clone();
        self.server.seal_rtp(&mut sealed).unwrap();
        (plain, sealed)
    }

    fn open_rtcp(&self, sealed: &[u8]) -> Vec<u8> {
        let mut b = sealed.to_vec();
        let o = self
            .opener
            .open_rtcp_in_place(&mut b)
            .expect("client RTCP opens");
        b.truncate(o.plain_len);
        b
    }
}

#[test]
fn debug_output_never_holds_the_token_or_session_id() {
    let token = "voice-token-very-secret-X1";
    let session = "voice-session-secret-Y2";
    let cfg = ConnectionConfig::new(
        Role::Voice,
        "127.0.0.1:9000",
        ServerId(500),
        UserId(42),
        Secret::new(session),
        Secret::new(token),
    );
    let config = format!("{cfg:?}");
    let mut c = VoiceConnection::new(cfg, Instant::now());
    c.handle_input(Input::WsConnected, Instant::now());
    let sent: Vec<Transmit> = std::iter::from_fn(|| c.poll_transmit()).collect();
    // The Identify goes out with both, verbatim...
    assert!(
        sent.iter()
            .any(|t| matches!(t, Transmit::WsText(s) if s.contains(token) && s.contains(session))),
        "{sent:?}"
    );
    // ...and prints without them.
    let printed = format!("{config} {sent:?}");
    assert!(printed.contains("Identify"), "{printed}");
    for secret in [token, session] {
        assert!(!printed.contains(secret), "{secret}: {printed}");
    }
}

#[test]
fn identify_differs_per_role() {
    let mut v = Harness::new(Role::Voice);
    let id = v.handshake();
    assert_eq!(
        (
            id.server_id.0,
            id.user_id.0,
            id.session_id.expose(),
            id.token.expose()
        ),
        (500, 42, "sess", "tok")
    );
    assert!(id.streams.is_empty());
    assert_eq!(id.max_dave_protocol_version, Some(0));
    let mut s = Harness::new(Role::Stream);
    let id = s.handshake();
    assert_eq!(id.video, Some(true));
    assert_eq!(id.streams, vec![StreamDescriptor::screen_offer()]);
    let ev = s.events();
    let ready = ev.iter().find_map(|e| match e {
        Event::MediaReady(m) => Some(m.clone()),
        _ => None,
    });
    let ready = ready.expect("media ready");
    assert_eq!(
        (ready.ssrc, ready.mode),
        (OWN_SSRC, CryptoMode::AeadAes256GcmRtpSize)
    );
    assert_eq!(ready.streams[0].ssrc, Some(OWN_SSRC + 1));
    assert_eq!(
        Harness::statuses(&ev).last().map(|s| s.0),
        Some(ConnectionStatus::Ready)
    );
}

#[test]
fn media_is_decrypted_and_tampering_dropped() {
    let mut h = Harness::new(Role::Stream);
    h.handshake();
    h.events();
    let (plain, sealed) = h.sealed_rtp(101, 900, 1, &[0x65, 1, 2, 3]);
    h.input(Input::Udp(&sealed));
    assert_eq!(h.events(), vec![Event::Rtp(plain)]);
    let (_, mut bad) = h.sealed_rtp(101, 900, 2, &[0x65, 1, 2, 3]);
    let n = bad.len();
    bad[n - 6] ^= 1;
    h.input(Input::Udp(&bad));
    h.input(Input::Udp(&[0x80]));
    assert!(h.events().is_empty());
    assert_eq!(h.c.counters().dropped_datagrams, 2);
    assert_eq!(h.c.received_packets(900), 1);
    // Keyframe requests and NACKs leave sealed.
    h.c.request_keyframe(900).unwrap();
    h.c.send_nack(900, &[SeqNo(2), SeqNo(4)]).unwrap();
    let t = h.transmits();
    let [Transmit::Udp(pli), Transmit::Udp(nack)] = &t[..] else {
        panic!("{t:?}")
    };
    let pli = h.open_rtcp(pli);
    let kinds: Vec<String> = rtp::rtcp::parse_compound(&pli)
        .map(|p| format!("{:?}", p.unwrap()))
        .collect();
    assert!(
        kinds[0].starts_with("Pli") && kinds[1].starts_with("Fir"),
        "{kinds:?}"
    );
    let nack = h.open_rtcp(nack);
    let lost: Vec<SeqNo> = match rtp::rtcp::parse_compound(&nack).next().unwrap().unwrap() {
        RtcpPacket::Nack(n) => n.lost_sequences().collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(lost, vec![SeqNo(2), SeqNo(4)]);
}

#[test]
fn sending_before_keying_is_refused() {
    let mut h = Harness::new(Role::Voice);
    assert_eq!(
        h.c.send_rtp(vec![0x80, 0, 0, 1]),
        Err(VoiceSessionError::NotKeyed)
    );
    assert!(VoiceSessionError::NotKeyed.is_transient());
}

#[test]
fn heartbeats_carry_seq_ack_and_a_missed_ack_resumes() {
    let mut h = Harness::new(Role::Stream);
    h.handshake();
    h.events();
    h.advance(ms(1000));
    let beats = h.texts();
    let [VoiceMessage::Heartbeat(voice_proto::Heartbeat::Sequenced { t, seq_ack })] = &beats[..]
    else {
        panic!("{beats:?}")
    };
    assert_eq!(*seq_ack, Some(h.seq));
    h.server_says(VoiceMessage::HeartbeatAck(
        voice_proto::HeartbeatAck::Sequenced { t: *t },
    ));
    h.advance(ms(1000));
    assert_eq!(h.texts().len(), 1, "second beat");
    // No ACK for it: at the third interval the socket is a zombie.
    h.advance(ms(1000));
    let t = h.transmits();
    assert_eq!(t[0], Transmit::WsClose { code: 4000 });
    assert!(
        matches!(&t[1], Transmit::WsConnect { .. }),
        "resume at once: {t:?}"
    );
    let st = Harness::statuses(&h.events());
    assert_eq!(
        st,
        vec![(
            ConnectionStatus::Resuming,
            "heartbeat_ack_missed".into(),
            None
        )]
    );
    h.input(Input::WsConnected);
    let sent = h.texts();
    let [VoiceMessage::Resume(r)] = &sent[..] else {
        panic!("{sent:?}")
    };
    assert_eq!(r.seq_ack, Some(h.seq));
    assert_eq!((r.server_id.0, r.session_id.expose()), (500, "sess"));
    h.server_says(VoiceMessage::Hello(Hello {
        heartbeat_interval_ms: 1000,
        v: Some(8),
    }));
    h.server_says(VoiceMessage::Resumed);
    let ev = h.events();
    assert!(ev.contains(&Event::Resumed));
    assert_eq!(
        Harness::statuses(&ev),
        vec![(ConnectionStatus::Ready, "resumed".into(), None)]
    );
    // UDP and keys survived: media still sends and opens.
    h.c.send_rtp(vec![0x80, 120, 0, 1, 0, 0, 0, 1, 0, 0, 0, 11, 1])
        .unwrap();
    assert_eq!(h.c.counters().resumes, 1);
}

#[test]
fn close_code_policy() {
    let cases: &[(Option<u16>, ConnectionStatus, bool)] = &[
        (Some(4015), ConnectionStatus::Resuming, true),
        (None, ConnectionStatus::Resuming, true),
        (Some(4006), ConnectionStatus::RejoinRequired, false),
        (Some(4009), ConnectionStatus::RejoinRequired, false),
        (Some(4014), ConnectionStatus::Disconnected, false),
        (Some(4022), ConnectionStatus::Disconnected, false),
        (Some(4021), ConnectionStatus::Failed, false),
        (Some(4004), ConnectionStatus::Failed, false),
        (Some(4001), ConnectionStatus::Reconnecting, true),
        // Issue 15 item 8: every code below 4000 resumes, 1000/1001
        // included (@discordjs/voice and Discord-video-stream: `canResume =
        // code === 4_015 || code < 4_000`). The old policy ended on 1000.
        (Some(1000), ConnectionStatus::Resuming, true),
        (Some(1001), ConnectionStatus::Resuming, true),
        (Some(1011), ConnectionStatus::Resuming, true),
        (Some(3999), ConnectionStatus::Resuming, true),
        (Some(4017), ConnectionStatus::Failed, false),
    ];
    for &(code, status, retries) in cases {
        let mut h = Harness::new(Role::Voice);
        h.handshake();
        h.events();
        h.input(Input::WsClosed { code });
        let st = Harness::statuses(&h.events());
        assert_eq!(st.len(), 1, "{code:?}: {st:?}");
        assert_eq!((st[0].0, st[0].2), (status, code), "{code:?}");
        let t = h.transmits();
        assert_eq!(
            matches!(t.first(), Some(Transmit::WsConnect { .. })),
            retries,
            "{code:?}: {t:?}"
        );
        if !retries {
            assert_eq!(h.c.poll_timeout(), None, "a final state has no timers");
        }
        if status == ConnectionStatus::Reconnecting {
            h.input(Input::WsConnected);
            assert!(
                matches!(h.texts()[..], [VoiceMessage::Identify(_)]),
                "fresh identify"
            );
            assert!(!h.c.is_keyed());
        }
    }
}

#[test]
fn unreachable_server_backs_off_then_fails() {
    let mut h = Harness::new(Role::Stream);
    h.handshake();
    h.events();
    h.transmits();
    let t0 = h.now;
    h.input(Input::WsClosed { code: None });
    let mut connects = Vec::new();
    for _ in 0..30 {
        let t = h.transmits();
        if t.iter().any(|t| matches!(t, Transmit::WsConnect { .. })) {
            connects.push(h.now - t0);
            h.input(Input::WsConnectFailed {
                reason: "refused".into(),
            });
            continue;
        }
        match h.c.poll_timeout() {
            Some(at) => h.advance(at - h.now),
            None => break,
        }
    }
    assert_eq!(connects, [0, 250, 750, 1750, 3750, 5750].map(ms).to_vec());
    let st = Harness::statuses(&h.events());
    let last = st.last().unwrap();
    assert_eq!(last.0, ConnectionStatus::Failed);
    assert!(last.1.starts_with("gave_up_after_6_attempts"), "{}", last.1);
    assert_eq!(h.c.poll_timeout(), None);
}

#[test]
fn handshake_timeout_retries() {
    let mut h = Harness::new(Role::Voice);
    h.transmits();
    h.input(Input::WsConnected);
    h.transmits();
    h.advance(Duration::from_secs(10));
    let t = h.transmits();
    assert_eq!(t[0], Transmit::WsClose { code: 4000 });
    assert!(matches!(t[1], Transmit::WsConnect { .. }));
}

#[test]
fn keepalive_and_receiver_reports() {
    let mut h = Harness::new(Role::Stream);
    h.handshake();
    h.transmits();
    for seq in 0..10u16 {
        let (_, sealed) = h.sealed_rtp(101, 900, seq * 2, &[1]);
        h.input(Input::Udp(&sealed));
    }
    // Answer heartbeats so the connection stays up.
    let mut datagrams = Vec::new();
    for _ in 0..5 {
        h.advance(ms(1000));
        for t in h.transmits() {
            match t {
                Transmit::WsText(s) => {
                    if let (VoiceMessage::Heartbeat(hb), _) = VoiceMessage::from_text(&s).unwrap() {
                        h.server_says(VoiceMessage::HeartbeatAck(hb.ack().unwrap()));
                    }
                }
                Transmit::Udp(d) => datagrams.push(d),
                other => panic!("{other:?}"),
            }
        }
    }
    assert!(
        datagrams.contains(&OWN_SSRC.to_be_bytes().to_vec()),
        "keepalive"
    );
    let rr = datagrams
        .iter()
        .find(|d| d.len() > 4)
        .expect("a receiver report");
    let rr = h.open_rtcp(rr);
    let Some(Ok(RtcpPacket::ReceiverReport(r))) = rtp::rtcp::parse_compound(&rr).next() else {
        panic!()
    };
    assert_eq!(r.ssrc, Ssrc(OWN_SSRC));
    let blocks: Vec<_> = r.blocks.collect();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].ssrc, Ssrc(900));
    assert_eq!(blocks[0].cumulative_lost, 9, "every other packet missing");
    assert_eq!(h.c.status(), ConnectionStatus::Ready);
}

#[test]
fn speaking_from_op5_and_audio() {
    let mut h = Harness::new(Role::Voice);
    h.handshake();
    h.events();
    h.server_says(VoiceMessage::Speaking(Speaking {
        speaking: SpeakingFlags::MICROPHONE,
        delay: None,
        ssrc: 77,
        user_id: Some(UserId(9)),
    }));
    assert_eq!(
        h.events(),
        vec![Event::Speaking {
            user_id: Some(UserId(9)),
            ssrc: 77,
            speaking: true
        }]
    );
    let (plain, sealed) = h.sealed_rtp(OPUS_PT, 77, 1, &[0xFC, 1, 2, 3]);
    h.input(Input::Udp(&sealed));
    assert_eq!(
        h.events(),
        vec![
            Event::Speaking {
                user_id: Some(UserId(9)),
                ssrc: 77,
                speaking: true
            },
            Event::Rtp(plain)
        ]
    );
    h.advance(ms(500));
    let ev: Vec<_> = h
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::Speaking { .. }))
        .collect();
    assert_eq!(
        ev,
        vec![Event::Speaking {
            user_id: Some(UserId(9)),
            ssrc: 77,
            speaking: false
        }]
    );
}

#[test]
fn clients_connect_and_disconnect_carry_user_ids() {
    let mut h = Harness::new(Role::Voice);
    h.handshake();
    h.events();
    h.server_says(VoiceMessage::ClientsConnect(voice_proto::ClientsConnect {
        user_ids: vec![UserId(5), UserId(u64::MAX)],
    }));
    h.server_says(VoiceMessage::ClientDisconnect(
        voice_proto::ClientDisconnect { user_id: UserId(5) },
    ));
    assert_eq!(
        h.events(),
        vec![
            Event::ClientsConnect(vec![UserId(5), UserId(u64::MAX)]),
            Event::ClientDisconnect(UserId(5)),
        ]
    );
}

#[test]
fn close_by_control_is_final() {
    let mut h = Harness::new(Role::Voice);
    h.handshake();
    h.events();
    h.transmits();
    h.c.close("closed_by_control");
    assert_eq!(h.transmits(), vec![Transmit::WsClose { code: 1000 }]);
    assert_eq!(
        Harness::statuses(&h.events()),
        vec![(
            ConnectionStatus::Disconnected,
            "closed_by_control".into(),
            None
        )]
    );
    h.input(Input::WsClosed { code: Some(4015) });
    assert!(h.transmits().is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn garbage_never_panics_or_breaks_the_session(
        inputs in proptest::collection::vec((0u8..3, proptest::collection::vec(any::<u8>(), 0..200)), 0..40)
    ) {
        let mut h = Harness::new(Role::Stream);
        h.handshake();
        for (kind, bytes) in &inputs {
            match kind {
                0 => h.input(Input::WsText(&String::from_utf8_lossy(bytes))),
                1 => h.input(Input::WsBinary(bytes)),
                _ => h.input(Input::Udp(bytes)),
            }
        }
        prop_assert_eq!(h.c.status(), ConnectionStatus::Ready);
        let (plain, sealed) = h.sealed_rtp(101, 900, 5, &[9, 9]);
        h.events();
        h.input(Input::Udp(&sealed));
        prop_assert_eq!(h.events(), vec![Event::Rtp(plain)]);
    }
}

/// Issue 15 item 1: every role announces "no video" with op 12 right after
/// op 1, in Discord-video-stream's shape (`BaseMediaConnection.ts`
/// `setVideoAttributes(false)`), because the server sends no video to a
/// connection that has not sent op 12 (discord-userdoccers
/// voice-connections: "You must send at least one Video payload before
/// sending or receiving video data"). The old client sent none on voice
/// and stream_watch connections, so the handshake's op 1 + op 12 check
/// failed for both roles.
#[test]
fn every_role_sends_an_inactive_op12_before_op4() {
    let wire: serde_json::Value =
        serde_json::from_str(&VoiceMessage::Video(crate::connection::no_video(11)).to_text(None))
            .unwrap();
    assert_eq!(
        wire,
        serde_json::json!({"op": 12, "d": {
            "audio_ssrc": 11, "video_ssrc": 0, "rtx_ssrc": 0, "streams": []}})
    );
    for role in [Role::Voice, Role::Stream] {
        let mut h = Harness::new(role);
        // Asserts op 1 then the inactive op 12, before op 4 is answered.
        h.handshake();
        // A resume keeps the server's session (and its op 12): not re-sent.
        h.events();
        h.transmits();
        h.input(Input::WsClosed { code: Some(4015) });
        h.transmits();
        h.input(Input::WsConnected);
        h.server_says(VoiceMessage::Resumed);
        assert!(
            h.texts()
                .iter()
                .all(|m| !matches!(m, VoiceMessage::Video(_))),
            "{role:?}"
        );
    }
}

/// Issue 15 item 6: `seq_ack` is the last `seq` seen, also across the
/// wrap of the server's fixed-width counter (discord-api-docs
/// voice-connections, Buffered Resume: "a client only needs to retain the
/// last sequence number they have seen"). The old running maximum kept
/// acknowledging 65535 after the counter wrapped to 0 and 1.
#[test]
fn seq_ack_is_the_last_seq_seen_across_a_wrap() {
    let mut h = Harness::new(Role::Voice);
    h.handshake();
    h.events();
    h.transmits();
    let connect = || {
        VoiceMessage::ClientsConnect(voice_proto::ClientsConnect {
            user_ids: vec![UserId(77)],
        })
    };
    h.seq = 65_534;
    h.server_says(connect());
    assert_eq!(h.c.last_seq(), Some(65_535));
    // A binary frame's u16 seq wraps to 0.
    let bin = voice_proto::DaveBinary::ExternalSender(vec![1, 2, 3])
        .encode_server(Some(0))
        .unwrap();
    h.input(Input::WsBinary(&bin));
    assert_eq!(h.c.last_seq(), Some(0));
    // The next JSON message is 1.
    h.seq = 0;
    h.server_says(connect());
    assert_eq!(h.c.last_seq(), Some(1));
    h.events();
    h.advance(ms(1000));
    let beats = h.texts();
    let [VoiceMessage::Heartbeat(voice_proto::Heartbeat::Sequenced { seq_ack, .. })] = &beats[..]
    else {
        panic!("{beats:?}")
    };
    assert_eq!(*seq_ack, Some(1), "heartbeat acks the last seq seen");
    h.input(Input::WsClosed { code: Some(4015) });
    h.transmits();
    h.input(Input::WsConnected);
    let sent = h.texts();
    let [VoiceMessage::Resume(r)] = &sent[..] else {
        panic!("{sent:?}")
    };
    assert_eq!(r.seq_ack, Some(1), "resume acks the last seq seen");
}

/// Issue 15 item 7: an IP discovery answer that does not echo our SSRC is
/// still the answer (@discordjs/voice `VoiceUDPSocket.ts`
/// `performIPDiscovery` checks only the packet type, then reads address
/// and port). The old client dropped it and never sent op 1, so the
/// handshake's op 1 check failed.
#[test]
fn ip_discovery_answer_need_not_echo_our_ssrc() {
    for ssrc in [0, OWN_SSRC + 1, u32::MAX] {
        let mut h = Harness::new(Role::Voice);
        h.discovery_ssrc = ssrc;
        h.handshake();
        assert!(h.c.is_keyed(), "answer with ssrc {ssrc}");
    }
}

/// Issue 15 item 11 (client side): 4017 is final, and its reason says the
/// channel requires DAVE and what this connection offered
/// (discord-api-docs opcodes-and-status-codes: 4017 "This channel
/// requires a client supporting E2EE via the DAVE Protocol").
#[test]
fn close_4017_is_final_with_a_clear_reason() {
    let mut h = Harness::new(Role::Voice);
    h.handshake();
    h.events();
    h.transmits();
    h.input(Input::WsClosed { code: Some(4017) });
    let st = Harness::statuses(&h.events());
    assert_eq!(
        st,
        vec![(
            ConnectionStatus::Failed,
            "close_4017_e2ee_required: channel requires DAVE, identify offered \
             max_dave_protocol_version 0"
                .into(),
            Some(4017)
        )]
    );
    assert!(ConnectionStatus::Failed.is_final());
    assert!(h.transmits().is_empty(), "no reconnect");
    assert_eq!(h.c.poll_timeout(), None);
}

//! End-to-end tests over loopback with a minimal client written here.

mod common;

use std::time::Duration;

use common::*;
use futures_util::SinkExt;
use h264_rtp::H264Depacketizer;
use rtp::{RtpPacket, Ssrc};
use sim_media_server::{Fault, ParticipantSpec, VoiceServerConfig};
use tokio_tungstenite::tungstenite::Message;
use video_pipeline::{H264Decoder, VideoDecoder};
use voice_proto::{MediaSinkWants, VoiceMessage};

const T: Duration = Duration::from_secs(60);

fn screen_participant(user: u64, layers: Vec<(u8, u32, u32)>) -> ParticipantSpec {
    ParticipantSpec {
        user_id: user,
        audio: true,
        video: Some(screen_video(20, layers)),
        dave: false,
    }
}

async fn server(hb_ms: u64) -> sim_media_server::VoiceServerHandle {
    sim_media_server::start(VoiceServerConfig {
        name: "stream".to_owned(),
        heartbeat_interval: Duration::from_millis(hb_ms),
        ..VoiceServerConfig::default()
    })
    .await
    .expect("start")
}

/// The video SSRCs the server announced for `user` (op 12).
fn announced_video(seen: &[VoiceMessage], user: u64) -> Option<(u32, u32)> {
    seen.iter().find_map(|m| match m {
        VoiceMessage::Video(v) if v.user_id.map(|u| u.0) == Some(user) => {
            let s = v.streams.first()?;
            Some((s.ssrc?, s.rtx_ssrc?))
        }
        _ => None,
    })
}

/// The primary SSRC of layer `i` the server announced for `user` (op 12).
fn announced_layer(seen: &[VoiceMessage], user: u64, i: usize) -> Option<u32> {
    seen.iter().rev().find_map(|m| match m {
        VoiceMessage::Video(v) if v.user_id.map(|u| u.0) == Some(user) => v.streams.get(i)?.ssrc,
        _ => None,
    })
}

/// Receives video on `ssrc` until a picture decodes; returns its size.
async fn decode_one(
    c: &Client,
    ssrc: u32,
    depack: &mut H264Depacketizer,
    dec: &mut H264Decoder,
) -> (usize, usize) {
    loop {
        let Ok(pkt) = c.recv_media().await else {
            continue;
        };
        let p = RtpPacket::parse(&pkt).expect("parse");
        if p.ssrc() != Ssrc(ssrc) || p.payload().is_empty() {
            continue;
        }
        assert_eq!(
            p.payload_type().get(),
            H264_PT,
            "forwarded with the receiver's PT"
        );
        let _ = depack.push(p.sequence().0, p.timestamp().0, p.marker(), p.payload());
        while let Some(au) = depack.poll() {
            if let Ok(Some(frame)) = dec.decode(&au.data) {
                return (frame.width(), frame.height());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_watch_decodes_and_client_media_reaches_the_server() {
    within(T, async {
        let srv = server(5000).await;
        let g = granted(&srv, stream_grant(42));
        srv.add_participant(STREAM_ROOM, screen_participant(900, vec![]));
        srv.set_speaking(STREAM_ROOM, 900, true);
        let mut c = handshake(&srv, &g, true, 8).await;
        // Ready carries stream SSRCs for a stream connection.
        let s0 = c.ready.streams.first().expect("streams in Ready");
        assert!(s0.ssrc.is_some() && s0.rtx_ssrc.is_some());
        // The participant is announced with op 12 (maybe before op 2/op 4).
        let (vssrc, _) = c
            .announced(|s| announced_video(s, 900))
            .await
            .expect("op 12 for the streamer");
        let mut depack = H264Depacketizer::default();
        let mut dec = H264Decoder::new().expect("decoder");
        assert_eq!(
            decode_one(&c, vssrc, &mut depack, &mut dec).await,
            (640, 360)
        );
        // Participant audio arrives with the receiver's Opus PT.
        let pkt = c
            .recv_rtp_where(|p| p.payload_type().get() == OPUS_PT)
            .await;
        assert!(!RtpPacket::parse(&pkt).unwrap().payload().is_empty());
        // One packet the other way.
        let mut plain = Vec::new();
        let b = rtp::RtpBuilder::new(
            rtp::PayloadType::new(OPUS_PT).unwrap(),
            rtp::SeqNo(1),
            rtp::RtpTimestamp(960),
            Ssrc(c.ready.ssrc),
        );
        b.write_to_vec(&[0xF8, 0xFF, 0xFE], &mut plain).unwrap();
        c.send_sealed_rtp(plain).await;
        let ok = poll_report(&srv, |r| {
            r.sessions
                .iter()
                .any(|s| s.user_id == 42 && s.rtp_ssrcs.get(&c.ready.ssrc) == Some(&1))
        })
        .await;
        assert!(ok, "server report shows the client's packet");
        srv.shutdown().await;
    })
    .await;
}

async fn poll_report(
    srv: &sim_media_server::VoiceServerHandle,
    f: impl Fn(&sim_media_server::ServerReport) -> bool,
) -> bool {
    for _ in 0..100 {
        if f(&srv.report()) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nack_is_answered_with_rtx_and_op15_switches_layer() {
    within(T, async {
        let srv = server(5000).await;
        let g = granted(&srv, stream_grant(43));
        srv.add_participant(STREAM_ROOM, screen_participant(900, vec![(50, 480, 270)]));
        let mut c = handshake(&srv, &g, true, 9).await;
        let (vssrc, rtx_ssrc) = c
            .announced(|s| announced_video(s, 900))
            .await
            .expect("op 12");
        // Remember a video packet, NACK it, expect the RTX copy.
        let pkt = c
            .recv_rtp_where(|p| p.ssrc() == Ssrc(vssrc) && !p.payload().is_empty())
            .await;
        let p = RtpPacket::parse(&pkt).unwrap();
        let (seq, payload) = (p.sequence(), p.payload().to_vec());
        let mut nack = Vec::new();
        rtp::rtcp::build::write_nack(&mut nack, Ssrc(c.ready.ssrc), Ssrc(vssrc), &[seq]).unwrap();
        c.send_sealed_rtcp(nack).await;
        let pkt = c.recv_rtp_where(|p| p.ssrc() == Ssrc(rtx_ssrc)).await;
        let p = RtpPacket::parse(&pkt).unwrap();
        assert_eq!(p.payload_type().get(), H264_RTX_PT);
        assert_eq!(&p.payload()[..2], &seq.0.to_be_bytes());
        assert_eq!(&p.payload()[2..], &payload[..]);
        // Full layer first, then op 15 for the quality-50 layer, which has
        // its own SSRC (user-docs "Simulcasting"), and the full one off.
        let mut depack = H264Depacketizer::default();
        let mut dec = H264Decoder::new().unwrap();
        assert_eq!(
            decode_one(&c, vssrc, &mut depack, &mut dec).await,
            (640, 360)
        );
        let small = announced_layer(&c.seen, 900, 1).expect("a second layer in op 12");
        assert_ne!(small, vssrc);
        let mut wants = MediaSinkWants::single(small, 100);
        wants.streams.insert(vssrc, 0);
        send(&mut c.ws, &VoiceMessage::MediaSinkWants(wants)).await;
        let mut depack = H264Depacketizer::default();
        let mut dec = H264Decoder::new().unwrap();
        assert_eq!(
            decode_one(&c, small, &mut depack, &mut dec).await,
            (480, 270)
        );
        let ok = poll_report(&srv, |r| {
            r.sessions
                .iter()
                .any(|s| s.user_id == 43 && s.forwarded_video.get(&900) == Some(&vec![small]))
        })
        .await;
        assert!(ok, "the report shows only the small layer forwarded");
        srv.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_4015_replays_missed_messages() {
    within(T, async {
        let srv = server(5000).await;
        let g = granted(&srv, voice_grant(44));
        let mut c = handshake(&srv, &g, false, 8).await;
        let before = c.last_seq.expect("v8 messages carry seq");
        srv.inject(Fault::Close {
            room: Some(VOICE_ROOM),
            code: 4015,
        });
        let close = close_code(&mut c.ws).await;
        assert_eq!(close, Some(4015));
        // Missed while disconnected: a participant joins (op 11 + op 12).
        srv.add_participant(VOICE_ROOM, ParticipantSpec {
            user_id: 901,
            audio: true,
            video: None,
            dave: false,
        });
        srv.set_speaking(VOICE_ROOM, 901, true);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut ws = connect(&srv, 8).await;
        let resume = VoiceMessage::Resume(voice_proto::Resume {
            server_id: voice_proto::ServerId(g.room.0),
            session_id: g.session_id.clone(),
            token: g.token.clone(),
            seq_ack: Some(before),
            channel_id: None,
        });
        send(&mut ws, &resume).await;
        let mut last = None;
        let mut got = Vec::new();
        while got.len() < 4 {
            let m = next_msg(&mut ws, &mut last).await.expect("resumed connection open");
            got.push(m);
            if got.iter().any(|m| matches!(m, VoiceMessage::Speaking(_))) {
                break;
            }
        }
        assert!(got.iter().any(|m| matches!(m, VoiceMessage::Resumed)), "{got:?}");
        assert!(got.iter().any(|m| matches!(m, VoiceMessage::ClientsConnect(c) if c.user_ids.iter().any(|u| u.0 == 901))), "{got:?}");
        assert!(got.iter().any(|m| matches!(m, VoiceMessage::Speaking(s) if s.user_id.map(|u| u.0) == Some(901))), "{got:?}");
        assert!(last.expect("replayed seq") > before);
        // UDP and crypto survived the resume: participant audio still opens.
        let pkt = loop {
            if let Ok(p) = c.recv_media().await {
                break p;
            }
        };
        assert_eq!(RtpPacket::parse(&pkt).unwrap().payload_type().get(), OPUS_PT);
        let r = srv.report();
        assert_eq!(r.sessions.iter().find(|s| s.user_id == 44).map(|s| s.resumes), Some(1));
        srv.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_heartbeats_close_with_4009() {
    within(T, async {
        let srv = server(200).await;
        let g = granted(&srv, voice_grant(45));
        let mut ws = connect(&srv, 4).await;
        send(&mut ws, &identify(&g, false)).await;
        let started = std::time::Instant::now();
        let code = close_code(&mut ws).await;
        assert_eq!(code, Some(4009));
        assert!(started.elapsed() >= Duration::from_millis(400));
        srv.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_never_kills_other_sessions() {
    use rand::{Rng, SeedableRng};
    within(T, async {
        let srv = server(5000).await;
        let g = granted(&srv, voice_grant(46));
        let mut good = handshake(&srv, &g, false, 8).await;
        let mut rng = rand::rngs::StdRng::seed_from_u64(99);
        let junk_udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for round in 0..40u64 {
            let mut ws = connect(&srv, 8).await;
            let len = rng.random_range(0..300);
            let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            let text = match round % 4 {
                0 => String::from_utf8_lossy(&bytes).into_owned(),
                1 => format!("{{\"op\":{},\"d\":{}}}", rng.random_range(0..40), rng.random::<i64>()),
                2 => "{\"op\":1,\"d\":{\"protocol\":\"udp\",\"data\":{\"address\":\"x\",\"port\":1,\"mode\":\"nope\"}}}".to_owned(),
                _ => format!("{{\"op\":0,\"d\":{{\"server_id\":\"{}\"}}}}", rng.random::<u64>()),
            };
            let _ = ws.send(Message::text(text)).await;
            let _ = ws.send(Message::binary(bytes.clone())).await;
            drop(ws);
            junk_udp.send_to(&bytes, good.server_udp).await.unwrap();
            // Garbage from the good client's own address too.
            good.udp.send_to(&bytes, good.server_udp).await.unwrap();
        }
        good.heartbeat(7).await;
        let mut seq = good.last_seq;
        let mut seen = Vec::new();
        let ack = wait_for(&mut good.ws, &mut seq, &mut seen, |m| matches!(m, VoiceMessage::HeartbeatAck(_))).await;
        assert!(matches!(ack, VoiceMessage::HeartbeatAck(a) if a.nonce() == 7));
        let r = srv.report();
        assert!(r.malformed_ws_messages > 0);
        assert!(r.sessions.iter().any(|s| s.user_id == 46 && s.connected));
        srv.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_video_is_decoded_to_jpeg_and_forwarded() {
    within(T, async {
        let srv = server(5000).await;
        let (gp, gw) = (stream_grant(47), stream_grant(48));
        srv.grant(gp.clone());
        srv.grant(gw.clone());
        let mut publisher = handshake(&srv, &gp, true, 8).await;
        let watcher = handshake(&srv, &gw, true, 8).await;
        let vssrc = publisher.ready.streams[0].ssrc.unwrap();
        publish_screen(&mut publisher, vssrc, 5, |au| au).await;
        let f = last_published_frame(&srv, STREAM_ROOM, 47).await;
        assert_eq!((f.width, f.height), (640, 360));
        assert_eq!(&f.jpeg[..2], &[0xFF, 0xD8]);
        // SFU: the watcher receives the publisher's video on its SSRC.
        let pkt = watcher.recv_rtp_where(|p| p.ssrc() == Ssrc(vssrc)).await;
        assert_eq!(
            RtpPacket::parse(&pkt).unwrap().payload_type().get(),
            H264_PT
        );
        srv.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_drops_connections_and_restart_serves_the_same_ports() {
    within(T, async {
        let srv = server(5000).await;
        let g = granted(&srv, voice_grant(49));
        let mut c = handshake(&srv, &g, false, 8).await;
        srv.inject(Fault::Crash);
        // Abnormal closure: no close frame with a code.
        let code = close_code(&mut c.ws).await;
        assert_eq!(code, None);
        assert!(poll_report(&srv, |r| r.crashed && r.sessions.is_empty()).await);
        assert!(
            try_connect(&srv, &format!("wss://{}/?v=8", srv.endpoint()))
                .await
                .is_err()
        );
        srv.inject(Fault::Restart);
        assert!(poll_report(&srv, |r| !r.crashed).await);
        let c2 = handshake(&srv, &g, false, 8).await;
        assert_eq!(c2.server_udp, c.server_udp, "same UDP port after restart");
        srv.shutdown().await;
    })
    .await;
}

/// Discord's voice servers speak `wss://` only; so does the simulator. A
/// plain-text client and a client that does not trust the CA are refused
/// before any voice-gateway message, and a trusting client gets Hello.
#[tokio::test]
async fn the_voice_websocket_is_tls_only() {
    within(Duration::from_secs(20), async {
        let srv = sim_media_server::start(VoiceServerConfig::default())
            .await
            .unwrap();
        let plain = tokio_tungstenite::connect_async(format!("ws://{}/?v=8", srv.endpoint())).await;
        assert!(
            plain.is_err(),
            "plain ws:// must not reach the voice gateway"
        );
        let untrusted = tls_client::TlsClient::new(None)
            .unwrap()
            .connect_ws(
                &format!("wss://{}/?v=8", srv.endpoint()),
                Duration::from_secs(5),
            )
            .await;
        let e = untrusted
            .expect_err("an untrusted CA must be refused")
            .to_string();
        assert!(e.contains("UnknownIssuer"), "{e}");
        let mut ws = connect(&srv, 8).await;
        let mut seq = None;
        assert!(matches!(
            next_msg(&mut ws, &mut seq).await,
            Some(VoiceMessage::Hello(_))
        ));
        srv.shutdown().await;
    })
    .await;
}

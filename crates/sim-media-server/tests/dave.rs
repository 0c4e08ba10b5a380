//! DAVE end to end: a minimal client driving the project's client-side
//! `dave_session::DaveSession` against the server's external sender and
//! its simulated MLS members.

mod audio_util;
mod common;

use std::time::{Duration, Instant};

use common::*;
use dave_session::{
    DaveConfig, DaveSession, Decrypted, MediaCodec, Outgoing, SessionOutput, stream_group_id,
};
use futures_util::SinkExt;
use h264_rtp::H264Depacketizer;
use rtp::{RtpPacket, Ssrc};
use sim_media_server::{ParticipantSpec, ServerReport, VoiceServerConfig, VoiceServerHandle};
use tokio_tungstenite::tungstenite::Message;
use video_pipeline::{H264Decoder, VideoDecoder};
use voice_proto::{DaveBinary, InvalidCommitWelcome, TransitionReady, VoiceMessage};

const T: Duration = Duration::from_secs(90);
const STREAMER: u64 = 900;

fn participant(user: u64, audio: bool, video: bool, dave: bool) -> ParticipantSpec {
    ParticipantSpec {
        user_id: user,
        audio,
        video: video.then(|| screen_video(10, vec![])),
        dave,
    }
}

async fn server(dave: bool) -> VoiceServerHandle {
    sim_media_server::start(VoiceServerConfig {
        name: "stream".to_owned(),
        heartbeat_interval: Duration::from_secs(20),
        dave,
        ..VoiceServerConfig::default()
    })
    .await
    .expect("start")
}

async fn poll_report(srv: &VoiceServerHandle, f: impl Fn(&ServerReport) -> bool) -> bool {
    for _ in 0..200 {
        if f(&srv.report()) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// The voice room's DAVE group is at `epoch` and every simulated member
/// can encrypt.
fn voice_group_at(r: &ServerReport, epoch: u64) -> bool {
    r.rooms.iter().any(|x| {
        x.room == VOICE_ROOM
            && x.dave_epoch == epoch
            && x.participants.iter().all(|p| p.dave_can_encrypt)
    })
}

/// The client's DAVE side: feeds every server frame to the session and
/// sends what it asks for.
struct DaveClient {
    c: Client,
    dave: DaveSession,
}

impl DaveClient {
    async fn new(c: Client, user: u64, group: u64) -> Self {
        let mut d = Self {
            dave: DaveSession::new(user, group, DaveConfig::default()),
            c,
        };
        // Op 11s that arrived during the handshake.
        let seen = std::mem::take(&mut d.c.seen);
        for m in &seen {
            d.on_text(m);
        }
        d.c.seen = seen;
        d.dave
            .on_session_description(d.c.dave_protocol_version, Instant::now())
            .expect("op 4");
        d.flush().await;
        d
    }

    fn on_text(&mut self, m: &VoiceMessage) {
        let now = Instant::now();
        let r = match m {
            VoiceMessage::ClientsConnect(c) => {
                let ids: Vec<u64> = c.user_ids.iter().map(|u| u.0).collect();
                self.dave.on_clients_connect(&ids);
                Ok(())
            }
            VoiceMessage::ClientDisconnect(c) => {
                self.dave.on_client_disconnect(c.user_id.0);
                Ok(())
            }
            VoiceMessage::DavePrepareTransition(t) => {
                self.dave
                    .on_prepare_transition(t.transition_id, t.protocol_version, now)
            }
            VoiceMessage::DaveExecuteTransition(t) => {
                self.dave.on_execute_transition(t.transition_id, now)
            }
            VoiceMessage::DavePrepareEpoch(e) => {
                self.dave.on_prepare_epoch(e.protocol_version, e.epoch, now)
            }
            _ => Ok(()),
        };
        r.expect("DAVE JSON op accepted");
    }

    fn on_binary(&mut self, b: &[u8]) {
        let now = Instant::now();
        let (msg, seq) = DaveBinary::parse_server(b, true).expect("binary DAVE frame");
        assert!(seq.is_some(), "v8 binary frames carry a seq");
        let r = match msg {
            DaveBinary::ExternalSender(es) => self.dave.on_external_sender(&es),
            DaveBinary::Proposals {
                operation,
                proposals,
            } => self.dave.on_proposals(operation.as_u8(), &proposals),
            DaveBinary::AnnounceCommitTransition {
                transition_id,
                commit,
            } => self.dave.on_announce_commit(transition_id, &commit, now),
            DaveBinary::Welcome {
                transition_id,
                welcome,
            } => self.dave.on_welcome(transition_id, &welcome, now),
            other => panic!("unexpected binary op {other:?}"),
        };
        r.expect("DAVE binary op accepted");
    }

    async fn flush(&mut self) {
        while let Some(o) = self.dave.poll_output() {
            let SessionOutput::Send(o) = o else { continue };
            match o {
                Outgoing::KeyPackage(kp) => {
                    let b = DaveBinary::KeyPackage(kp).encode_client().unwrap();
                    self.c.ws.send(Message::binary(b)).await.unwrap();
                }
                Outgoing::CommitWelcome(cw) => {
                    let b = DaveBinary::CommitWelcome(cw).encode_client().unwrap();
                    self.c.ws.send(Message::binary(b)).await.unwrap();
                }
                Outgoing::ReadyForTransition { transition_id } => {
                    let m = VoiceMessage::DaveTransitionReady(TransitionReady {
                        transition_id,
                        protocol_version: None,
                    });
                    send(&mut self.c.ws, &m).await;
                }
                Outgoing::InvalidCommitWelcome { transition_id } => {
                    let m = VoiceMessage::DaveInvalidCommitWelcome(InvalidCommitWelcome {
                        transition_id,
                    });
                    send(&mut self.c.ws, &m).await;
                }
            }
        }
    }

    /// Handles server frames until `done` holds (after a flush).
    async fn drive_until(&mut self, done: impl Fn(&DaveSession) -> bool) {
        while !done(&self.dave) {
            let f = next_frame(&mut self.c.ws, &mut self.c.last_seq)
                .await
                .expect("connection closed during DAVE setup");
            match f {
                Frame::Text(m) => {
                    self.on_text(&m);
                    self.c.seen.push(m);
                }
                Frame::Binary(b) => self.on_binary(&b),
            }
            self.flush().await;
        }
    }
}

/// The participant's announced (op 12) video and audio SSRCs.
fn announced(seen: &[VoiceMessage], user: u64) -> Option<(u32, u32)> {
    seen.iter().find_map(|m| match m {
        VoiceMessage::Video(v) if v.user_id.map(|u| u.0) == Some(user) => {
            Some((v.streams.first()?.ssrc?, v.audio_ssrc?))
        }
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dave_stream_watch_decrypts_and_decodes_the_streamer() {
    within(T, async {
        let srv = server(true).await;
        let g = granted(&srv, stream_grant(42));
        srv.add_participant(STREAM_ROOM, participant(STREAMER, true, true, true));
        srv.set_speaking(STREAM_ROOM, STREAMER, true);
        let c = handshake_dave(&srv, &g, true, 8, 1).await;
        assert_eq!(c.dave_protocol_version, 1, "op 4 offers DAVE v1");
        let group = stream_group_id(STREAM_ROOM.0);
        let mut d = DaveClient::new(c, 42, group).await;
        // Epoch 1 with the streamer in the group, sender key installed.
        d.drive_until(|s| {
            s.epoch() == Some(1) && s.group_user_ids().contains(&STREAMER) && s.can_encrypt()
        })
        .await;
        let (vssrc, assrc) =
            d.c.announced(|s| announced(s, STREAMER))
                .await
                .expect("op 12 for the streamer");

        // Media: wait for DAVE-encrypted video that decrypts and decodes.
        let mut depack = H264Depacketizer::default();
        let mut dec = H264Decoder::new().expect("decoder");
        let (mut plain_video, mut plain_audio) = (0u32, 0u32);
        let mut picture = None;
        while picture.is_none() || plain_audio == 0 {
            let Ok(pkt) = d.c.recv_media().await else {
                continue;
            };
            let p = RtpPacket::parse(&pkt).expect("parse");
            if p.payload().is_empty() {
                continue;
            }
            let now = Instant::now();
            if p.ssrc() == Ssrc(assrc) {
                assert_eq!(p.payload_type().get(), OPUS_PT);
                if let Ok(Decrypted::Plain(opus)) =
                    d.dave.decrypt(STREAMER, MediaCodec::Opus, p.payload(), now)
                {
                    assert!(!opus.is_empty());
                    plain_audio += 1;
                }
                continue;
            }
            if p.ssrc() != Ssrc(vssrc) {
                continue;
            }
            let _ = depack.push(p.sequence().0, p.timestamp().0, p.marker(), p.payload());
            while let Some(au) = depack.poll() {
                match d.dave.decrypt(STREAMER, MediaCodec::H264, &au.data, now) {
                    Ok(Decrypted::Plain(frame)) => {
                        plain_video += 1;
                        if let Ok(Some(yuv)) = dec.decode(&frame) {
                            picture = Some((yuv.width(), yuv.height()));
                        }
                    }
                    Ok(Decrypted::Passthrough(frame)) => {
                        // Sent before the streamer's key was live.
                        let _ = dec.decode(&frame);
                    }
                    Err(e) => panic!("DAVE frame did not decrypt: {e}"),
                }
            }
        }
        assert_eq!(picture, Some((640, 360)));
        assert!(plain_video > 0 && plain_audio > 0);
        assert!(d.dave.stats(STREAMER).decrypted > 0);

        // The report shows it.
        let ok = poll_report(&srv, |r| {
            let s = r.sessions.iter().find(|s| s.user_id == 42);
            let room = r.rooms.iter().find(|x| x.room == STREAM_ROOM);
            let p = room.and_then(|x| x.participants.iter().find(|p| p.user_id == STREAMER));
            s.is_some_and(|s| {
                s.dave_protocol_version == 1
                    && s.dave_max_protocol_version == 1
                    && s.dave_group_id == Some(group)
                    && s.dave_epoch >= 1
                    && s.dave_in_group
                    && s.dave_encrypted_frames_sent > 0
                    && s.dave_errors == 0
                    && s.dave_ops_sent.get(&25) == Some(&1)
                    && s.dave_ops_sent.contains_key(&30)
                    && s.dave_ops_sent.contains_key(&22)
                    && s.ops_received.get(&26) == Some(&1)
                    && s.ops_received.contains_key(&23)
            }) && room.is_some_and(|x| {
                x.dave_group_id == Some(group)
                    && x.dave_epoch >= 1
                    && x.dave_members.contains(&42)
                    && x.dave_members.contains(&STREAMER)
            }) && p.is_some_and(|p| p.dave && p.dave_can_encrypt && p.dave_encrypted_frames > 0)
        })
        .await;
        assert!(ok, "report shows DAVE state: {:#?}", srv.report());
        // The client leaves: the streamer, alone, gets the sole-member
        // reset (op 24 epoch 1 + op 21 id 0) and stops encrypting.
        srv.revoke(STREAM_ROOM, 42, None);
        let ok = poll_report(&srv, |r| {
            let room = r.rooms.iter().find(|x| x.room == STREAM_ROOM);
            r.sessions.is_empty()
                && room.is_some_and(|x| {
                    x.dave_epoch == 0
                        && x.dave_members.is_empty()
                        && x.dave_connected == [STREAMER]
                        && x.participants.iter().all(|p| !p.dave_can_encrypt)
                })
        })
        .await;
        assert!(ok, "sole-member reset: {:#?}", srv.report());
        srv.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dave_published_video_is_decrypted_before_decoding() {
    within(T, async {
        let srv = server(true).await;
        let g = granted(&srv, stream_grant(47));
        // A DAVE participant in the room holds the group's keys.
        srv.add_participant(STREAM_ROOM, participant(STREAMER, false, false, true));
        let c = handshake_dave(&srv, &g, true, 8, 1).await;
        let mut d = DaveClient::new(c, 47, stream_group_id(STREAM_ROOM.0)).await;
        d.drive_until(|s| s.epoch() == Some(1) && s.can_encrypt())
            .await;
        let vssrc = d.c.ready.streams[0].ssrc.unwrap();
        let dave = &mut d.dave;
        publish_screen(&mut d.c, vssrc, 5, |au| {
            let enc = dave.encrypt(MediaCodec::H264, &au).expect("encrypt");
            assert_ne!(enc, au, "the frame is DAVE-framed");
            enc
        })
        .await;
        let f = last_published_frame(&srv, STREAM_ROOM, 47).await;
        assert_eq!((f.width, f.height), (640, 360));
        let ok = poll_report(&srv, |r| {
            r.sessions.iter().any(|s| {
                s.user_id == 47 && s.dave_published_decrypted >= 1 && s.dave_published_failures == 0
            })
        })
        .await;
        assert!(ok, "report counts decrypted frames: {:#?}", srv.report());
        srv.shutdown().await;
    })
    .await;
}

/// A voice room whose two simulated members already formed the group:
/// the client is added to the established group (proposals to both
/// members, commit by one of them, welcome to the client).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dave_voice_client_joins_an_established_group() {
    within(T, async {
        let srv = server(true).await;
        let g = granted(&srv, voice_grant(43));
        srv.add_participant(VOICE_ROOM, participant(901, true, false, true));
        srv.add_participant(VOICE_ROOM, participant(902, true, false, true));
        srv.set_speaking(VOICE_ROOM, 902, true);
        let formed = poll_report(&srv, |r| voice_group_at(r, 1)).await;
        assert!(formed, "the members form a group: {:#?}", srv.report());
        let c = handshake_dave(&srv, &g, false, 8, 1).await;
        assert_eq!(c.dave_protocol_version, 1);
        // Voice rooms use the channel id as group id.
        let mut d = DaveClient::new(c, 43, 77).await;
        d.drive_until(|s| s.epoch() == Some(2) && s.group_user_ids().len() == 3 && s.can_encrypt())
            .await;
        // 902 speaks: its Opus frames decrypt.
        let mut decrypted = 0;
        while decrypted < 3 {
            let Ok(pkt) = d.c.recv_media().await else {
                continue;
            };
            let p = RtpPacket::parse(&pkt).unwrap();
            if p.payload_type().get() != OPUS_PT || p.payload().is_empty() {
                continue;
            }
            if let Ok(Decrypted::Plain(_)) =
                d.dave
                    .decrypt(902, MediaCodec::Opus, p.payload(), Instant::now())
            {
                decrypted += 1;
            }
        }
        let r = srv.report();
        let room = r.rooms.iter().find(|x| x.room == VOICE_ROOM).unwrap();
        assert_eq!(room.dave_group_id, Some(77));
        assert_eq!(room.dave_members.len(), 3);
        // 901 leaves: a remove proposal, a commit, epoch 3 without it.
        srv.remove_participant(VOICE_ROOM, 901);
        d.drive_until(|s| {
            let mut ids = s.group_user_ids();
            ids.sort_unstable();
            s.epoch() == Some(3) && ids == [43, 902]
        })
        .await;
        let ok = poll_report(&srv, |r| {
            r.rooms
                .iter()
                .any(|x| x.room == VOICE_ROOM && x.dave_epoch == 3 && x.dave_members.len() == 2)
                && r.sessions
                    .iter()
                    .any(|s| s.user_id == 43 && s.dave_in_group && s.dave_errors == 0)
        })
        .await;
        assert!(ok, "901 removed: {:#?}", srv.report());
        srv.shutdown().await;
    })
    .await;
}

/// The server does not offer DAVE: transport-only, no DAVE frames, media
/// arrives unencrypted. (A client that asks for version 0 on a DAVE server
/// is closed with 4017, as Discord does: `core::ws::tests`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_dave_media_is_plain_and_no_dave_ops_are_sent() {
    within(T, async {
        for (server_dave, client_max) in [(false, 1u16), (false, 0u16)] {
            let srv = server(server_dave).await;
            let g = granted(&srv, stream_grant(44));
            srv.add_participant(STREAM_ROOM, participant(STREAMER, false, true, true));
            let mut c = handshake_dave(&srv, &g, true, 8, client_max).await;
            assert_eq!(c.dave_protocol_version, 0);
            let (vssrc, _) = c.announced(|s| announced(s, STREAMER)).await.unwrap();
            let mut depack = H264Depacketizer::default();
            let mut dec = H264Decoder::new().unwrap();
            let size = loop {
                let Ok(pkt) = c.recv_media().await else {
                    continue;
                };
                let p = RtpPacket::parse(&pkt).unwrap();
                if p.ssrc() != Ssrc(vssrc) || p.payload().is_empty() {
                    continue;
                }
                let _ = depack.push(p.sequence().0, p.timestamp().0, p.marker(), p.payload());
                let mut got = None;
                while let Some(au) = depack.poll() {
                    assert!(!au.data.ends_with(&[0xFA, 0xFA]), "no DAVE trailer");
                    if let Ok(Some(f)) = dec.decode(&au.data) {
                        got = Some((f.width(), f.height()));
                    }
                }
                if let Some(s) = got {
                    break s;
                }
            };
            assert_eq!(size, (640, 360));
            let r = srv.report();
            let s = r.sessions.iter().find(|s| s.user_id == 44).unwrap();
            assert_eq!(s.dave_protocol_version, 0);
            assert_eq!(s.dave_group_id, None);
            assert!(s.dave_ops_sent.is_empty());
            assert_eq!(s.dave_encrypted_frames_sent, 0);
            let room = r.rooms.iter().find(|x| x.room == STREAM_ROOM).unwrap();
            assert_eq!(room.dave_group_id.is_some(), server_dave);
            assert_eq!(room.dave_epoch, 0, "a lone member establishes no group");
            srv.shutdown().await;
        }
    })
    .await;
}

/// Issue 17 §4 with DAVE: a simulated DAVE speaker's spoken line reaches a
/// DAVE client encrypted (every line packet decrypts with the client's
/// `dave-session` to a 20 ms stereo Opus frame), and the client's own
/// DAVE-encrypted tone is decrypted by the room's member and recorded:
/// the WAV has the tone's length and pitch and says DAVE was on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dave_lines_are_encrypted_and_dave_audio_is_recorded() {
    within(T, async {
        let srv = server(true).await;
        let g = granted(&srv, voice_grant(44));
        srv.add_participant(VOICE_ROOM, participant(901, false, false, true));
        srv.add_participant(VOICE_ROOM, participant(902, true, false, true));
        let formed = poll_report(&srv, |r| voice_group_at(r, 1)).await;
        assert!(formed, "{:#?}", srv.report());
        let c = handshake_dave(&srv, &g, false, 8, 1).await;
        let mut d = DaveClient::new(c, 44, 77).await;
        d.drive_until(|s| s.epoch() == Some(2) && s.group_user_ids().len() == 3 && s.can_encrypt())
            .await;
        let ok = poll_report(&srv, |r| voice_group_at(r, 2)).await;
        assert!(ok, "{:#?}", srv.report());
        let said = srv
            .say(VOICE_ROOM, 902, "agent, look at my screen")
            .await
            .expect("say");
        let mut line = 0;
        let mut decrypted = 0;
        while line < said.packets {
            let Ok(pkt) = d.c.recv_media().await else {
                continue;
            };
            let p = RtpPacket::parse(&pkt).unwrap();
            if p.ssrc().0 != said.ssrc || p.payload()[..] == sim_content::OPUS_SILENCE_FRAME {
                continue;
            }
            line += 1;
            if let Ok(Decrypted::Plain(f)) =
                d.dave
                    .decrypt(902, MediaCodec::Opus, p.payload(), Instant::now())
            {
                assert_eq!(f[0] & 0x07, 0x04, "a 20 ms stereo frame");
                decrypted += 1;
            }
        }
        assert_eq!(decrypted, said.packets, "every line packet DAVE-decrypts");
        // The client speaks, DAVE-encrypted.
        let ssrc = d.c.ready.ssrc;
        let sp = voice_proto::Speaking::announce(voice_proto::SpeakingFlags::MICROPHONE, ssrc);
        send(&mut d.c.ws, &VoiceMessage::Speaking(sp)).await;
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let tone = audio_util::tone_packets(440.0, 1000);
        for (i, p) in tone.iter().enumerate() {
            tick.tick().await;
            let e = d.dave.encrypt(MediaCodec::Opus, p).expect("encrypt");
            let pkt = audio_util::rtp(OPUS_PT, i as u16, 960 * i as u32, ssrc, &e);
            d.c.send_sealed_rtp(pkt).await;
        }
        for i in 50..55u32 {
            tick.tick().await;
            let pkt = audio_util::rtp(
                OPUS_PT,
                i as u16,
                960 * i,
                ssrc,
                &sim_content::OPUS_SILENCE_FRAME,
            );
            d.c.send_sealed_rtp(pkt).await;
        }
        let mut rec = None;
        for _ in 0..100 {
            rec = srv.recordings().into_iter().find(|r| r.user_id == 44);
            if rec.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let rec = rec.expect("a recording");
        assert!(rec.dave, "{rec:?}");
        assert_eq!(rec.packets, 50);
        assert!(rec.duration_ms.abs_diff(1000) <= 20, "{rec:?}");
        let pcm = sim_content::parse_wav_s16(&srv.recording_wav(rec.id).unwrap()).unwrap();
        let f = audio_util::dominant(&pcm.samples[4800..]);
        assert!((f - 440.0).abs() <= 10.0, "dominant {f} Hz");
        let r = srv.report();
        let s = r.sessions.iter().find(|s| s.user_id == 44).unwrap();
        assert_eq!(s.audio_dave_decrypted, 50);
        assert_eq!(s.audio_dave_failures, 0);
        srv.shutdown().await;
    })
    .await;
}

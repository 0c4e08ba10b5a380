//! Spoken lines and recordings over real sockets: a client receives a
//! simulated participant's line (op 5 first, 20 ms packets, +960, tail,
//! op 5 off) and ffmpeg — an independent decoder — decodes it to speech of
//! the announced length; the recorder turns a client's transport-encrypted
//! tone into a WAV of the right length and pitch; garbage is counted.

mod audio_util;
mod common;

use std::time::Duration;

use audio_util::*;
use common::*;
use rtp::RtpPacket;
use sim_media_server::{EndReason, ParticipantSpec, VoiceServerConfig, VoiceServerHandle};
use tokio::time::timeout;
use voice_proto::{Speaking, SpeakingFlags, VoiceMessage};

const T: Duration = Duration::from_secs(60);
const BOB: u64 = 800;

async fn server() -> VoiceServerHandle {
    sim_media_server::start(VoiceServerConfig {
        name: "voice".to_owned(),
        heartbeat_interval: Duration::from_secs(20),
        ..VoiceServerConfig::default()
    })
    .await
    .expect("start")
}

fn bob() -> ParticipantSpec {
    ParticipantSpec {
        user_id: BOB,
        audio: true,
        video: None,
        dave: false,
    }
}

/// What the client saw, in arrival order.
#[derive(Debug)]
enum Ev {
    Speaking(u32),
    Rtp {
        pt: u8,
        seq: u16,
        ts: u32,
        ssrc: u32,
        payload: Vec<u8>,
    },
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_said_line_arrives_as_speech_ffmpeg_decodes() {
    timeout(T, async {
        let srv = server().await;
        let g = voice_grant(41);
        srv.grant(g.clone());
        srv.add_participant(VOICE_ROOM, bob());
        let mut c = handshake(&srv, &g, false, 8).await;
        let said = srv
            .say(VOICE_ROOM, BOB, "agent, look at my screen")
            .await
            .expect("say");
        assert!((800..4000).contains(&said.duration_ms), "{said:?}");
        assert_eq!(said.duration_ms, said.packets as u64 * 20);
        let mut evs = Vec::new();
        let mut silence = 0;
        while silence < 5 {
            let mut buf = vec![0u8; 2048];
            tokio::select! {
                f = next_frame(&mut c.ws, &mut c.last_seq) => {
                    if let Some(Frame::Text(VoiceMessage::Speaking(s))) = f {
                        evs.push(Ev::Speaking(s.speaking.0));
                    }
                }
                r = c.udp.recv_from(&mut buf) => {
                    let n = r.expect("udp").0;
                    let mut d = buf[..n].to_vec();
                    if rtp::is_rtcp(&d) { continue; }
                    let o = c.cipher.open_rtp_in_place(&mut d).expect("opens");
                    d.truncate(o.plain_len);
                    let p = RtpPacket::parse(&d).expect("rtp");
                    if p.payload()[..] == sim_content::OPUS_SILENCE_FRAME { silence += 1; }
                    evs.push(Ev::Rtp {
                        pt: p.payload_type().get(),
                        seq: p.sequence().0,
                        ts: p.timestamp().0,
                        ssrc: p.ssrc().0,
                        payload: p.payload().to_vec(),
                    });
                }
            }
        }
        // Op 5 off follows the tail (it may already have been read).
        if !evs.iter().any(|e| matches!(e, Ev::Speaking(0))) {
            wait_for(&mut c.ws, &mut c.last_seq, &mut c.seen, |m| {
                matches!(m, VoiceMessage::Speaking(s) if s.speaking.0 == 0 && s.ssrc == said.ssrc)
            })
            .await;
        } else {
            let last_rtp = evs.iter().rposition(|e| matches!(e, Ev::Rtp { .. }));
            let off = evs.iter().position(|e| matches!(e, Ev::Speaking(0)));
            assert!(
                off > last_rtp.map(|i| i.saturating_sub(5)),
                "op 5 off not before the tail"
            );
        }
        assert!(
            matches!(evs.first(), Some(Ev::Speaking(f)) if *f & 1 == 1),
            "op 5 (microphone) before any audio: {:?}",
            evs.first()
        );
        let rtp: Vec<(u8, u16, u32, u32, Vec<u8>)> = evs
            .into_iter()
            .filter_map(|e| match e {
                Ev::Rtp {
                    pt,
                    seq,
                    ts,
                    ssrc,
                    payload,
                } => Some((pt, seq, ts, ssrc, payload)),
                Ev::Speaking(_) => None,
            })
            .collect();
        assert_eq!(rtp.len(), said.packets + 5);
        for w in rtp.windows(2) {
            assert_eq!(w[1].1, w[0].1.wrapping_add(1), "consecutive seq");
            assert_eq!(w[1].2, w[0].2.wrapping_add(960), "+960 per packet");
        }
        assert!(rtp.iter().all(|p| p.0 == OPUS_PT && p.3 == said.ssrc));
        // Every line packet is a 20 ms stereo code-0 frame.
        let line: Vec<Vec<u8>> = rtp[..said.packets].iter().map(|p| p.4.clone()).collect();
        assert!(
            line.iter().all(|p| p[0] & 0x07 == 0x04),
            "stereo, one frame"
        );
        // ffmpeg decodes it: its length and that it is not silence.
        let pcm = ffmpeg_decode(&ogg_opus(&line, 2));
        let ms = pcm.len() as u64 * 1000 / 48_000;
        assert!(
            ms.abs_diff(said.duration_ms) <= 20,
            "{ms} vs {}",
            said.duration_ms
        );
        let level = rms(&pcm);
        assert!(level > 500.0, "speech, not silence: rms {level}");
        // Speech has pauses: some 20 ms windows are much quieter than others.
        let windows: Vec<f64> = pcm.chunks(960).map(rms).collect();
        let loud = windows.iter().filter(|&&r| r > level).count();
        let quiet = windows.iter().filter(|&&r| r < level / 10.0).count();
        assert!(loud > 5 && quiet > 2, "loud {loud}, quiet {quiet}");
        srv.shutdown().await;
    })
    .await
    .expect("timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recorder_turns_a_clients_tone_into_a_wav() {
    timeout(T, async {
        let srv = server().await;
        let g = voice_grant(42);
        srv.grant(g.clone());
        let mut c = handshake(&srv, &g, false, 8).await;
        let ssrc = c.ready.ssrc;
        let sp = Speaking::announce(SpeakingFlags::MICROPHONE, ssrc);
        send(&mut c.ws, &VoiceMessage::Speaking(sp)).await;
        let mut seq = 100u16;
        let mut ts = 5_000u32;
        // Garbage first: undeclared PT, unannounced SSRC, a payload libopus
        // refuses (counted by the recorder), an unsealed datagram.
        c.send_sealed_rtp(rtp(96, 1, 0, ssrc, &[0xFC, 1, 2])).await;
        c.send_sealed_rtp(rtp(OPUS_PT, 1, 0, ssrc ^ 0xFFFF, &[0xFC, 1, 2]))
            .await;
        c.udp
            .send_to(&rtp(OPUS_PT, 2, 0, ssrc, &[7; 20]), c.server_udp)
            .await
            .unwrap();
        c.send_sealed_rtp(rtp(OPUS_PT, 99, 0, ssrc, &[0x03, 0x00]))
            .await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let tone = tone_packets(440.0, 1000);
        let tail = vec![sim_content::OPUS_SILENCE_FRAME.to_vec(); 5];
        for p in tone.iter().chain(tail.iter()) {
            tick.tick().await;
            c.send_sealed_rtp(rtp(OPUS_PT, seq, ts, ssrc, p)).await;
            seq = seq.wrapping_add(1);
            ts = ts.wrapping_add(960);
        }
        let mut recs = Vec::new();
        for _ in 0..100 {
            recs = srv.recordings();
            if recs.iter().any(|r| r.packets >= 50) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let rec = recs
            .iter()
            .find(|r| r.packets >= 50)
            .expect("a recording")
            .clone();
        assert_eq!(rec.user_id, 42);
        assert_eq!(rec.ssrc, ssrc);
        assert_eq!(rec.end_reason, EndReason::SilenceTail);
        assert!(!rec.dave);
        assert!(rec.duration_ms.abs_diff(1000) <= 20, "{rec:?}");
        let wav = srv.recording_wav(rec.id).expect("wav");
        let pcm = sim_content::parse_wav_s16(&wav).expect("parses");
        assert_eq!(pcm.sample_rate, 48_000);
        let f = dominant(&pcm.samples[4800..]);
        assert!((f - 440.0).abs() <= 10.0, "dominant {f} Hz");
        let r = srv.report();
        let s = r.sessions.iter().find(|s| s.user_id == 42).unwrap();
        assert_eq!(s.audio_dropped_bad_payload_type, 1);
        assert_eq!(s.rtp_dropped_unknown_ssrc, 1);
        assert!(r.recorder.decode_errors >= 1, "{:?}", r.recorder);
        assert_eq!(s.decrypt_failures, 1);
        assert_eq!(
            r.recorder.stored_ms,
            srv.recordings().iter().map(|r| r.duration_ms).sum::<u64>()
        );
        assert!(srv.clear_recordings() >= 1);
        assert!(srv.recordings().is_empty());
        assert!(srv.recording_wav(rec.id).is_none());
        srv.shutdown().await;
    })
    .await
    .expect("timeout");
}

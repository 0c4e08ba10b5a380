//! Spoken lines and client audio on the core, on virtual time: op 5
//! before the first packet, N packets 20 ms apart with +960 timestamps
//! and consecutive sequence numbers on the participant's SSRC with the
//! receiver's Opus payload type, the five-frame silence tail, op 5 off;
//! and the strictness of what a client sends (unknown SSRC, undeclared
//! payload type: dropped and counted; the rest handed to the recorder).

use std::time::{Duration, Instant};

use serde_json::Value;
use voice_crypto::{CryptoMode, NonceSeed, Sealer, TransportCipher};

use super::test_support::{CLIENT, CONN, ROOM, client_addr, voice_core};
use super::{Core, Output, SayError, WsFrame};
use crate::config::ParticipantSpec;
use crate::recorder::RecorderEvent;

const BOB: u64 = 20;
/// The client declares Opus on 109 (not the common 120/111): the sim must
/// use what this receiver negotiated.
const OPUS_PT: u8 = 109;

/// A room with Bob (audio, no DAVE) and our client through op 1.
fn setup() -> (Core, Instant, TransportCipher, u32) {
    let now = Instant::now();
    let mut c = voice_core(
        7,
        ParticipantSpec {
            user_id: BOB,
            audio: true,
            video: None,
            dave: false,
        },
        now,
    );
    c.on_text(
        CONN,
        r#"{"op":0,"d":{"server_id":"1","user_id":"10","session_id":"s","token":"t"}}"#,
        now,
    );
    c.on_text(
        CONN,
        &format!(
            r#"{{"op":1,"d":{{"protocol":"udp","data":{{"address":"127.0.0.1","port":5,"mode":"aead_aes256_gcm_rtpsize"}},"codecs":[{{"name":"opus","type":"audio","priority":1000,"payload_type":{OPUS_PT}}}]}}}}"#
        ),
        now,
    );
    let out: Vec<Output> = std::iter::from_fn(|| c.poll_output()).collect();
    let (mut key, mut ssrc) = (None, 0);
    for o in &out {
        if let Output::Ws(_, WsFrame::Text(t)) = o {
            let v: Value = serde_json::from_str(t).expect("json");
            if v["op"] == 4 {
                key = Some(
                    v["d"]["secret_key"]
                        .as_array()
                        .expect("key")
                        .iter()
                        .map(|b| b.as_u64().expect("byte") as u8)
                        .collect::<Vec<u8>>(),
                );
            }
            if v["op"] == 2 {
                ssrc = v["d"]["ssrc"].as_u64().expect("ssrc") as u32;
            }
        }
    }
    let cipher = TransportCipher::new(CryptoMode::AeadAes256GcmRtpSize, &key.expect("op 4"))
        .expect("cipher");
    (c, now, cipher, ssrc)
}

/// What the client saw, in order.
#[derive(Debug, PartialEq)]
enum Seen {
    Speaking(u64),
    Rtp {
        pt: u8,
        seq: u16,
        ts: u32,
        ssrc: u32,
        payload: Vec<u8>,
    },
}

fn seen(out: Vec<Output>, cipher: &TransportCipher) -> Vec<Seen> {
    let mut v = Vec::new();
    for o in out {
        match o {
            Output::Ws(_, WsFrame::Text(t)) => {
                let j: Value = serde_json::from_str(&t).expect("json");
                if j["op"] == 5 {
                    v.push(Seen::Speaking(j["d"]["speaking"].as_u64().expect("flags")));
                }
            }
            Output::Udp(a, mut d) if a == client_addr() && !rtp::is_rtcp(&d) => {
                let p = cipher.open_rtp_packet(&mut d).expect("opens");
                v.push(Seen::Rtp {
                    pt: p.payload_type().get(),
                    seq: p.sequence().0,
                    ts: p.timestamp().0,
                    ssrc: p.ssrc().0,
                    payload: p.payload().to_vec(),
                });
            }
            _ => {}
        }
    }
    v
}

fn run(c: &mut Core, from: Instant, ms: u64) -> Vec<Output> {
    let mut out: Vec<Output> = std::iter::from_fn(|| c.poll_output()).collect();
    for step in 1..=ms / 10 {
        c.handle_timeout(from + Duration::from_millis(step * 10));
        out.extend(std::iter::from_fn(|| c.poll_output()));
    }
    out
}

#[test]
fn a_line_is_op5_then_n_packets_then_the_tail_then_op5_off() {
    let (mut c, now, cipher, _) = setup();
    let line: Vec<Vec<u8>> = (0..12u8).map(|i| vec![0x78 | 4, i, i, i]).collect();
    let started = c.say(ROOM, BOB, line.clone(), now).expect("said");
    assert_eq!(started.packets, 12);
    assert_eq!(started.duration_ms, 240);
    let bob_ssrc = started.ssrc;
    let got = seen(run(&mut c, now, 600), &cipher);
    assert_eq!(got.first(), Some(&Seen::Speaking(1)), "op 5 first: {got:?}");
    assert_eq!(got.last(), Some(&Seen::Speaking(0)), "op 5 off last");
    let rtp: Vec<&Seen> = got[1..got.len() - 1].iter().collect();
    assert_eq!(rtp.len(), 12 + 5, "line + silence tail");
    let mut prev: Option<(u16, u32)> = None;
    for (i, s) in rtp.iter().enumerate() {
        let Seen::Rtp {
            pt,
            seq,
            ts,
            ssrc,
            payload,
        } = s
        else {
            panic!("not RTP: {s:?}");
        };
        assert_eq!(*pt, OPUS_PT);
        assert_eq!(*ssrc, bob_ssrc);
        if i < 12 {
            assert_eq!(payload, &line[i]);
        } else {
            assert_eq!(payload[..], sim_content::OPUS_SILENCE_FRAME);
        }
        if let Some((pseq, pts)) = prev {
            assert_eq!(*seq, pseq.wrapping_add(1));
            assert_eq!(*ts, pts.wrapping_add(960));
        }
        prev = Some((*seq, *ts));
    }
    // Paced 20 ms apart: 12 + 5 packets need 340 ms after the first.
    let (mut c, now, cipher, _) = setup();
    c.say(ROOM, BOB, line, now).expect("said");
    let early = seen(run(&mut c, now, 200), &cipher);
    let n = early
        .iter()
        .filter(|s| matches!(s, Seen::Rtp { .. }))
        .count();
    assert_eq!(n, 10, "20 ms each: packets at 20, 40, … 200 ms");
}

#[test]
fn say_refuses_unknown_participants_and_empty_lines() {
    let (mut c, now, _, _) = setup();
    assert_eq!(
        c.say(ROOM, 99, vec![vec![1]], now),
        Err(SayError::NoParticipant)
    );
    assert_eq!(c.say(ROOM, BOB, Vec::new(), now), Err(SayError::Empty));
    // A second line queues behind the first: no second op 5.
    c.say(ROOM, BOB, vec![vec![0xFC, 1]; 5], now)
        .expect("first");
    let second = c
        .say(ROOM, BOB, vec![vec![0xFC, 2]; 5], now)
        .expect("second");
    assert_eq!(second.starts_in_ms, 120);
}

/// A client RTP packet, sealed as the client would.
fn client_rtp(
    sealer: &mut Sealer,
    ssrc: u32,
    pt: u8,
    seq: u16,
    ts: u32,
    payload: &[u8],
) -> Vec<u8> {
    let mut b = vec![0x80, pt & 0x7F];
    b.extend_from_slice(&seq.to_be_bytes());
    b.extend_from_slice(&ts.to_be_bytes());
    b.extend_from_slice(&ssrc.to_be_bytes());
    b.extend_from_slice(payload);
    sealer.seal_rtp(&mut b).expect("seal");
    b
}

#[test]
fn client_audio_is_checked_then_recorded() {
    let (mut c, now, cipher, own) = setup();
    let mut sealer = Sealer::new(cipher, NonceSeed::default());
    let records = |c: &mut Core| -> Vec<RecorderEvent> {
        std::iter::from_fn(|| c.poll_output())
            .filter_map(|o| match o {
                Output::Record(e) => Some(e),
                _ => None,
            })
            .collect()
    };
    // Good: own SSRC, declared PT.
    let d = client_rtp(&mut sealer, own, OPUS_PT, 1, 960, &[0xFC, 0xAA]);
    c.on_datagram(client_addr(), d, now);
    let r = records(&mut c);
    assert!(
        matches!(&r[..], [RecorderEvent::Audio(a)] if a.ssrc == own && a.user_id == CLIENT && a.payload == [0xFC, 0xAA] && !a.dave),
        "{r:?}"
    );
    // Undeclared payload type, unannounced SSRC, garbage: dropped, counted.
    let d = client_rtp(&mut sealer, own, 120, 2, 1920, &[0xFC]);
    c.on_datagram(client_addr(), d, now);
    let d = client_rtp(&mut sealer, own + 1000, OPUS_PT, 3, 2880, &[0xFC]);
    c.on_datagram(client_addr(), d, now);
    c.on_datagram(
        client_addr(),
        vec![0x80, 0x6D, 0, 4, 1, 2, 3, 4, 0, 0, 0, 9, 1, 2, 3],
        now,
    );
    assert!(records(&mut c).is_empty());
    let rep = c.snapshot();
    let s = rep
        .sessions
        .iter()
        .find(|s| s.user_id == CLIENT)
        .expect("session");
    assert_eq!(s.audio_received, 1);
    assert_eq!(s.audio_dropped_bad_payload_type, 1);
    assert_eq!(s.rtp_dropped_unknown_ssrc, 1);
    assert_eq!(s.decrypt_failures, 1);
    // Op 5 speaking 0 from the client ends its utterance.
    c.on_text(
        CONN,
        &format!(r#"{{"op":5,"d":{{"speaking":0,"delay":0,"ssrc":{own}}}}}"#),
        now,
    );
    let r = records(&mut c);
    assert!(
        matches!(
            &r[..],
            [RecorderEvent::SpeakingOff {
                user_id: CLIENT,
                ..
            }]
        ),
        "{r:?}"
    );
}

//! The recorder on virtual time, fed by a client-side encoder: libopus
//! through the `opus` crate directly (mono, 32 kbit/s, `Audio`: not the
//! sim's own line encoder settings).

use std::time::{Duration, Instant};

use super::*;

const ROOM: RoomId = RoomId(1);
const SSRC: u32 = 4242;

/// Client-side packets: a `freq` Hz tone, `ms` long, 20 ms each.
fn tone_packets(freq: f64, ms: u32) -> Vec<Vec<u8>> {
    let mut enc =
        opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Audio).unwrap();
    enc.set_bitrate(opus::Bitrate::Bits(32_000)).unwrap();
    let n = (ms / 20) as usize;
    (0..n)
        .map(|k| {
            let frame: Vec<i16> = (0..960)
                .map(|i| {
                    let t = (k * 960 + i) as f64 / 48_000.0;
                    (9000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16
                })
                .collect();
            enc.encode_vec(&frame, 1500).unwrap()
        })
        .collect()
}

fn audio(payload: Vec<u8>, ts: u32, at: Instant) -> RecorderEvent {
    RecorderEvent::Audio(AudioIn {
        room: ROOM,
        user_id: 7,
        ssrc: SSRC,
        timestamp: ts,
        payload,
        dave: false,
        at,
        unix_ms: 1_000,
    })
}

/// Goertzel power of `freq` in `x` (48 kHz).
fn goertzel(x: &[i16], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / 48_000.0;
    let c = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &v in x {
        let s0 = f64::from(v) + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - c * s1 * s2
}

/// The strongest of 100..2000 Hz in 10 Hz steps.
pub(crate) fn dominant(x: &[i16]) -> f64 {
    (10..=200)
        .map(|k| f64::from(k) * 10.0)
        .max_by(|a, b| goertzel(x, *a).total_cmp(&goertzel(x, *b)))
        .unwrap()
}

/// Feeds packets 20 ms apart from `t0`, timestamps from `ts0`.
fn feed(r: &mut Recorder, pkts: &[Vec<u8>], t0: Instant, ts0: u32) -> Vec<Recording> {
    let mut out = Vec::new();
    for (i, p) in pkts.iter().enumerate() {
        let at = t0 + Duration::from_millis(20 * i as u64);
        out.extend(r.on_event(audio(p.clone(), ts0.wrapping_add(960 * i as u32), at)));
    }
    out
}

#[test]
fn a_tone_then_the_silence_tail_is_one_recording_of_its_length_and_pitch() {
    let t0 = Instant::now();
    let mut r = Recorder::new();
    let pkts = tone_packets(440.0, 1000);
    // Timestamps wrap inside the utterance.
    assert!(feed(&mut r, &pkts, t0, u32::MAX - 960 * 10).is_empty());
    let tail = vec![OPUS_SILENCE_FRAME.to_vec(); 5];
    let done = feed(&mut r, &tail, t0 + Duration::from_secs(1), 960 * 40);
    assert_eq!(done.len(), 1);
    let rec = &done[0];
    assert_eq!(rec.info.end_reason, EndReason::SilenceTail);
    assert_eq!(rec.info.packets, 50);
    assert_eq!(rec.info.duration_ms, 1000);
    assert_eq!(rec.info.user_id, 7);
    assert_eq!(rec.info.ssrc, SSRC);
    assert!(!rec.info.dave);
    let mut store = RecordingStore::default();
    store.push(rec.clone());
    let wav = store.wav(rec.info.id).unwrap();
    let pcm = sim_content::parse_wav_s16(&wav).unwrap();
    assert_eq!(pcm.sample_rate, 48_000);
    assert_eq!(pcm.samples.len(), 48_000);
    let f = dominant(&pcm.samples[4800..]);
    assert!((f - 440.0).abs() <= 10.0, "{f}");
    assert_eq!(r.stats.silence_frames, 5);
    assert!(r.next_deadline().is_none());
}

#[test]
fn a_gap_over_300ms_or_speaking_off_ends_an_utterance() {
    let t0 = Instant::now();
    let mut r = Recorder::new();
    let pkts = tone_packets(300.0, 200);
    feed(&mut r, &pkts, t0, 0);
    let last = t0 + Duration::from_millis(180);
    assert!(r.poll(last + Duration::from_millis(300)).is_empty());
    assert_eq!(
        r.next_deadline(),
        Some(last + GAP_END + Duration::from_millis(1))
    );
    let done = r.poll(last + Duration::from_millis(301));
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].info.end_reason, EndReason::Gap);
    assert_eq!(done[0].info.duration_ms, 200);
    // A gap seen by the next packet (before any poll) also splits.
    let t1 = t0 + Duration::from_secs(2);
    feed(&mut r, &pkts, t1, 50_000);
    let done = feed(&mut r, &pkts, t1 + Duration::from_millis(600), 90_000);
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].info.end_reason, EndReason::Gap);
    let done = r.on_event(RecorderEvent::SpeakingOff {
        room: ROOM,
        user_id: 7,
        ssrc: SSRC,
    });
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].info.end_reason, EndReason::SpeakingOff);
    assert!(done[0].info.id > 1);
}

#[test]
fn lost_packets_are_concealed_and_late_ones_dropped() {
    let t0 = Instant::now();
    let mut r = Recorder::new();
    let pkts = tone_packets(500.0, 400);
    for (i, p) in pkts.iter().enumerate() {
        if i == 5 || i == 6 {
            continue; // lost
        }
        let at = t0 + Duration::from_millis(20 * i as u64);
        r.on_event(audio(p.clone(), 960 * i as u32, at));
    }
    // A late duplicate of packet 3.
    r.on_event(audio(
        pkts[3].clone(),
        960 * 3,
        t0 + Duration::from_millis(390),
    ));
    let done = r.on_event(RecorderEvent::SpeakingOff {
        room: ROOM,
        user_id: 7,
        ssrc: SSRC,
    });
    assert_eq!(done[0].info.duration_ms, 400);
    assert_eq!(done[0].info.packets, 18);
    assert_eq!(done[0].info.concealed_packets, 2);
    assert_eq!(r.stats.late_packets, 1);
}

#[test]
fn garbage_is_counted_never_a_panic() {
    let t0 = Instant::now();
    let mut r = Recorder::new();
    // TOC of code 3 with a frame count of 0, a code-2 length past the end,
    // random bytes: libopus refuses them.
    let garbage: Vec<Vec<u8>> = vec![vec![0x03, 0x00], vec![0x02, 0xFF], vec![0xFF; 3]];
    for (i, g) in garbage.iter().enumerate() {
        r.on_event(audio(g.clone(), 960 * i as u32, t0));
    }
    assert!(r.stats.decode_errors >= 2, "{:?}", r.stats);
    // Nothing decoded: closing makes no recording.
    assert!(r.poll(t0 + Duration::from_secs(1)).is_empty());
}

#[test]
fn the_store_keeps_at_most_ten_minutes() {
    let mut store = RecordingStore::default();
    let minute = |id| Recording {
        info: RecordingInfo {
            id,
            room: ROOM,
            user_id: 1,
            ssrc: 1,
            started_unix_ms: 0,
            ended_unix_ms: 0,
            duration_ms: 60_000,
            packets: 3000,
            concealed_packets: 0,
            dave: false,
            end_reason: EndReason::MaxLength,
        },
        samples: vec![0; 48_000 * 60],
    };
    let mut evicted = 0;
    for id in 1..=12 {
        evicted += store.push(minute(id));
    }
    assert_eq!(evicted, 2);
    assert_eq!(store.stored_ms(), 600_000);
    assert_eq!(store.list().first().map(|i| i.id), Some(3));
    assert!(store.wav(1).is_none());
    assert_eq!(store.wav(12).map(|w| w.len()), Some(44 + 2 * 48_000 * 60));
    assert_eq!(store.clear(), 10);
    assert_eq!(store.stored_ms(), 0);
}

proptest::proptest! {
    /// Arbitrary payloads, timestamps and arrival times: counted or
    /// recorded, never a panic; every recording's length matches its
    /// samples.
    #[test]
    fn arbitrary_audio_never_panics(
        pkts in proptest::collection::vec(
            (proptest::collection::vec(proptest::prelude::any::<u8>(), 1..64),
             proptest::prelude::any::<u32>(),
             0u64..1000),
            0..40,
        )
    ) {
        let t0 = Instant::now();
        let mut r = Recorder::new();
        let mut at = t0;
        let mut done = Vec::new();
        for (payload, ts, gap) in pkts {
            at += Duration::from_millis(gap);
            done.extend(r.on_event(audio(payload, ts, at)));
            done.extend(r.poll(at));
        }
        done.extend(r.poll(at + Duration::from_secs(1)));
        for d in done {
            proptest::prop_assert_eq!(d.info.duration_ms, d.samples.len() as u64 / 48);
            proptest::prop_assert!(d.samples.len() <= 48 * 60_000 + 5760 + 14_400);
        }
    }
}

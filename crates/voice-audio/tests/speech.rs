//! The receive pipeline on real speech: espeak-ng says a sentence, it is
//! encoded to Opus as mediad would send it, and the listener (decode to
//! 16 kHz, WebRTC VAD, segmentation) must hear exactly one utterance of
//! about the sentence's length; silence makes none. Skipped, with the
//! reason printed, when espeak-ng is not installed.
#![allow(clippy::disallowed_methods)] // a base instant for virtual time

use std::process::Command;
use std::time::{Duration, Instant};
use voice_audio::{FRAME, Heard, Listener, ListenerConfig, OPUS_SILENCE, OpusEncoder};

/// espeak-ng's WAV (mono s16le) as samples and rate.
fn espeak(text: &str) -> Option<(Vec<i16>, u32)> {
    let dir = tempfile::tempdir().ok()?;
    let path = dir.path().join("s.wav");
    let status = Command::new("espeak-ng")
        .arg("-w")
        .arg(&path)
        .arg(text)
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => {
            println!("SKIP: espeak-ng not usable ({other:?})");
            return None;
        }
    }
    let bytes = std::fs::read(&path).ok()?;
    let rate = u32::from_le_bytes(bytes[24..28].try_into().ok()?);
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().ok()?) as usize;
        if id == b"data" {
            let end = (at + 8 + len).min(bytes.len());
            return Some((voice_audio::samples_from_le(&bytes[at + 8..end]), rate));
        }
        at += 8 + len;
    }
    None
}

/// Linear-interpolation resampling to 48 kHz (test input only).
fn to_48k(s: &[i16], rate: u32) -> Vec<i16> {
    let n = s.len() as u64 * 48_000 / u64::from(rate);
    (0..n)
        .map(|i| {
            let x = i as f64 * f64::from(rate) / 48_000.0;
            let j = x as usize;
            let f = x - j as f64;
            let a = f64::from(s[j.min(s.len() - 1)]);
            let b = f64::from(s[(j + 1).min(s.len() - 1)]);
            (a + (b - a) * f) as i16
        })
        .collect()
}

/// Encodes 48 kHz audio into 20 ms Opus packets.
fn encode(pcm: &[i16]) -> Vec<Vec<u8>> {
    let mut enc = OpusEncoder::new(64_000).unwrap();
    pcm.chunks(960)
        .map(|c| {
            let mut f = c.to_vec();
            f.resize(960, 0);
            enc.encode(&f).unwrap()
        })
        .collect()
}

/// Feeds packets 20 ms apart from `t0`, then 3 s without packets.
fn listen(packets: &[Vec<u8>]) -> Vec<Heard> {
    let t0 = Instant::now();
    let mut l = Listener::new(ListenerConfig::default());
    let mut heard = Vec::new();
    let mut now = t0;
    for (i, p) in packets.iter().enumerate() {
        now = t0 + FRAME * i as u32;
        l.on_packet(now, 4242, 100u16.wrapping_add(i as u16), p)
            .unwrap();
        while let Some(h) = l.poll_output() {
            heard.push(h);
        }
    }
    let end = now + Duration::from_secs(3);
    while let Some(t) = l.poll_timeout().filter(|t| *t <= end) {
        l.handle_timeout(t);
        while let Some(h) = l.poll_output() {
            heard.push(h);
        }
    }
    heard
}

/// Milliseconds between the first and last sample above a small amplitude.
fn speech_span_ms(s: &[i16], rate: u32) -> u64 {
    let first = s.iter().position(|x| x.unsigned_abs() > 500).unwrap_or(0);
    let last = s.iter().rposition(|x| x.unsigned_abs() > 500).unwrap_or(0);
    (last.saturating_sub(first)) as u64 * 1000 / u64::from(rate)
}

#[test]
fn espeak_sentence_is_one_utterance_of_its_length() {
    let Some((wav, rate)) = espeak("agent, look at my screen and tell me what you see") else {
        return;
    };
    let span = speech_span_ms(&wav, rate);
    let mut pcm = vec![0i16; 48_000 / 2]; // 0.5 s of silence first
    pcm.extend(to_48k(&wav, rate));
    let heard = listen(&encode(&pcm));
    let utterances: Vec<_> = heard
        .iter()
        .filter_map(|h| match h {
            Heard::Utterance {
                ssrc,
                duration_ms,
                pcm,
                ..
            } => Some((*ssrc, *duration_ms, pcm.len())),
            _ => None,
        })
        .collect();
    let edges: Vec<_> = heard
        .iter()
        .filter_map(|h| match h {
            Heard::Speech { speaking, .. } => Some(*speaking),
            _ => None,
        })
        .collect();
    println!("speech span {span} ms; heard {utterances:?}; edges {edges:?}");
    assert_eq!(utterances.len(), 1, "{heard:?}");
    assert_eq!(edges, vec![true, false]);
    let (ssrc, ms, samples) = utterances[0];
    assert_eq!(ssrc, 4242);
    assert_eq!(samples as u32, ms * 16);
    // The utterance covers the speech (VAD may trim soft edges; pre-roll
    // and the kept tail add up to 400 ms).
    assert!(
        ms as f64 >= span as f64 * 0.8 && ms as u64 <= span + 700,
        "utterance {ms} ms vs speech {span} ms"
    );
}

#[test]
fn silence_and_opus_silence_frames_make_nothing() {
    let quiet = encode(&vec![0i16; 48_000 * 3]);
    assert!(listen(&quiet).is_empty());
    let dtx: Vec<Vec<u8>> = (0..150).map(|_| OPUS_SILENCE.to_vec()).collect();
    assert!(listen(&dtx).is_empty());
}

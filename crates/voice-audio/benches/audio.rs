//! `cargo bench -p voice-audio`: on espeak-ng speech (skipped, with the
//! reason, without espeak-ng),
//! - encode time per 20 ms frame (`OpusEncoder`, 48 kHz stereo, 64 kbps),
//! - CPU per second of received speech of the hearing path
//!   (`Listener`: Opus decode to 16 kHz, WebRTC VAD, segmentation), the
//!   work of mediad's `voice-listen` thread per speaker,
//!
//! measured as this thread's CPU time (`cpu-time`). A program that
//! measures, not a timed assertion.
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock

use cpu_time::ThreadTime;
use std::process::Command;
use std::time::{Duration, Instant};
use voice_audio::{FRAME, Heard, Listener, ListenerConfig, OpusEncoder};

const TEXT: &str = "The quick brown fox jumps over the lazy dog. \
    Agent, look at my screen and tell me what you see. \
    Stop watching now, thank you. What is in the top left corner of the window?";

fn espeak_48k() -> Option<Vec<i16>> {
    let dir = tempfile::tempdir().ok()?;
    let wav = dir.path().join("s.wav");
    let ok = Command::new("espeak-ng")
        .arg("-w")
        .arg(&wav)
        .arg(TEXT)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        println!("SKIP: espeak-ng not available");
        return None;
    }
    let bytes = std::fs::read(&wav).ok()?;
    let rate = u32::from_le_bytes(bytes[24..28].try_into().ok()?);
    let data = bytes.windows(4).position(|w| w == b"data")? + 8;
    let s = voice_audio::samples_from_le(&bytes[data..]);
    let n = s.len() as u64 * 48_000 / u64::from(rate);
    Some(
        (0..n)
            .map(|i| {
                let x = i as f64 * f64::from(rate) / 48_000.0;
                let j = (x as usize).min(s.len() - 1);
                s[j]
            })
            .collect(),
    )
}

fn main() {
    let Some(pcm) = espeak_48k() else { return };
    let seconds = pcm.len() as f64 / 48_000.0;
    let mut enc = OpusEncoder::new(64_000).expect("encoder");
    let frames: Vec<Vec<i16>> = pcm
        .chunks(960)
        .map(|c| {
            let mut f = c.to_vec();
            f.resize(960, 0);
            f
        })
        .collect();
    // Encode (three passes, the last one counted).
    let mut packets = Vec::new();
    let mut per_frame = Duration::ZERO;
    for _ in 0..3 {
        packets.clear();
        let t = ThreadTime::now();
        for f in &frames {
            packets.push(enc.encode(f).expect("encode"));
        }
        per_frame = t.elapsed() / frames.len() as u32;
    }
    let bytes: usize = packets.iter().map(Vec::len).sum();
    println!(
        "encode: {} frames ({seconds:.1} s of speech), {:.1} µs CPU per 20 ms frame, {:.0} kbps",
        frames.len(),
        per_frame.as_secs_f64() * 1e6,
        bytes as f64 * 8.0 / seconds / 1000.0
    );
    // Hear (ten passes over the same speech, as ten speakers would).
    let t0 = Instant::now();
    let cpu = ThreadTime::now();
    let mut utterances = 0;
    let passes = 10u32;
    for pass in 0..passes {
        let mut l = Listener::new(ListenerConfig::default());
        let mut now = t0;
        for (i, p) in packets.iter().enumerate() {
            now = t0 + FRAME * i as u32;
            l.on_packet(now, pass, i as u16, p).expect("packet");
        }
        l.handle_timeout(now + Duration::from_secs(5));
        while let Some(h) = l.poll_output() {
            if matches!(h, Heard::Utterance { .. }) {
                utterances += 1;
            }
        }
    }
    let used = cpu.elapsed();
    let per_second = used.as_secs_f64() / (seconds * f64::from(passes));
    println!(
        "hear: {:.1} s of speech ×{passes}: {:.2} ms CPU per second of speech ({:.2}% of one core per speaker), {} utterances per pass",
        seconds,
        per_second * 1000.0,
        per_second * 100.0,
        utterances / passes
    );
}

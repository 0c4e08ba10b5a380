//! Utterance segmentation on synthetic voiced/unvoiced frame sequences, on
//! virtual time.
#![allow(clippy::disallowed_methods)] // a base instant for virtual time

use std::time::{Duration, Instant};
use voice_audio::{SegOutput, Segmenter, SegmenterConfig};

const F: Duration = Duration::from_millis(20);

/// A frame whose samples all carry `tag`, so cuts can be checked.
fn frame(tag: i16) -> Vec<i16> {
    vec![tag; 320]
}

struct Run {
    seg: Segmenter,
    t0: Instant,
    now: Instant,
    out: Vec<(Duration, SegOutput)>,
}

impl Run {
    fn new() -> Self {
        let t0 = Instant::now();
        Self {
            seg: Segmenter::new(SegmenterConfig::default()),
            t0,
            now: t0,
            out: Vec::new(),
        }
    }
    fn drain(&mut self) {
        while let Some(o) = self.seg.poll_output() {
            self.out.push((self.now - self.t0, o));
        }
    }
    /// `n` frames 20 ms apart, tagged `tag`.
    fn frames(&mut self, n: usize, voiced: bool, tag: i16) {
        for _ in 0..n {
            self.seg.on_frame(self.now, &frame(tag), voiced);
            self.drain();
            self.now += F;
        }
    }
    /// No packets for `d`, with the shell's timer.
    fn gap(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(t) = self.seg.poll_timeout().filter(|t| *t <= end) {
            self.now = t.max(self.now);
            self.seg.handle_timeout(self.now);
            self.drain();
        }
        self.now = end;
    }
    fn utterances(&self) -> Vec<Vec<i16>> {
        self.out
            .iter()
            .filter_map(|(_, o)| match o {
                SegOutput::Utterance(u) => Some(u.clone()),
                _ => None,
            })
            .collect()
    }
    fn edges(&self) -> Vec<(u128, bool)> {
        self.out
            .iter()
            .filter_map(|(t, o)| match o {
                SegOutput::Speaking(s) => Some((t.as_millis(), *s)),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn speech_starts_after_three_voiced_frames_and_ends_after_the_hangover() {
    let mut r = Run::new();
    r.frames(20, false, 0); // 0..400 ms silence
    r.frames(50, true, 1); // 400..1400 ms speech
    r.frames(40, false, 2); // silence frames keep arriving
    // Started on the third voiced frame (440 ms); ended on the 30th
    // unvoiced frame (600 ms of silence: the frame at 1980 ms).
    assert_eq!(r.edges(), vec![(440, true), (1980, false)]);
    let u = r.utterances();
    assert_eq!(u.len(), 1);
    let u = &u[0];
    // 200 ms pre-roll (10 frames: 7 silent + 3 voiced), 47 more voiced,
    // 10 trailing silent frames kept.
    assert_eq!(u.len(), (10 + 47 + 10) * 320);
    assert!(u[..7 * 320].iter().all(|s| *s == 0));
    assert!(u[7 * 320..57 * 320].iter().all(|s| *s == 1));
    assert!(u[57 * 320..].iter().all(|s| *s == 2));
}

#[test]
fn stopped_packets_end_speech_by_the_timeout() {
    let mut r = Run::new();
    r.frames(30, true, 1); // 0..600 ms
    // The client stops sending: nothing more arrives.
    r.gap(Duration::from_secs(3));
    // Last frame at 580 ms, + 600 ms.
    assert_eq!(r.edges(), vec![(40, true), (1180, false)]);
    let u = r.utterances();
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].len(), 30 * 320);
    assert_eq!(r.seg.poll_timeout(), None);
}

#[test]
fn trailing_unvoiced_frames_count_toward_a_gap() {
    let mut r = Run::new();
    r.frames(20, true, 1); // 0..400
    r.frames(10, false, 2); // 400..600: 200 ms heard silence
    r.gap(Duration::from_secs(2));
    // Last frame at 580 ms; 400 ms of hangover left after it.
    assert_eq!(r.edges(), vec![(40, true), (980, false)]);
}

#[test]
fn short_pauses_do_not_split_an_utterance() {
    let mut r = Run::new();
    for _ in 0..5 {
        r.frames(25, true, 1);
        r.frames(15, false, 2); // 300 ms pause < 600 ms hangover
    }
    r.gap(Duration::from_secs(2));
    assert_eq!(r.edges().len(), 2);
    assert_eq!(r.utterances().len(), 1);
}

#[test]
fn long_speech_is_split_at_the_cap() {
    let mut r = Run::new();
    r.frames(40 * 50, true, 1); // 40 s of speech
    r.gap(Duration::from_secs(2));
    let u = r.utterances();
    let secs: Vec<f64> = u.iter().map(|x| x.len() as f64 / 16_000.0).collect();
    assert_eq!(secs, vec![15.0, 15.0, 10.0]);
    assert_eq!(r.edges().len(), 2, "one start, one stop: {:?}", r.edges());
}

#[test]
fn clicks_and_isolated_voiced_frames_make_no_utterance() {
    let mut r = Run::new();
    // Voiced frames never three in a row: never speaking.
    for _ in 0..50 {
        r.frames(2, true, 1);
        r.frames(1, false, 0);
    }
    assert!(r.out.is_empty());
    // A 100 ms burst starts speech but is too short to be an utterance.
    r.frames(5, true, 1);
    r.gap(Duration::from_secs(2));
    assert_eq!(r.edges().len(), 2);
    assert!(r.utterances().is_empty());
}

#[test]
fn silence_only_makes_nothing() {
    let mut r = Run::new();
    r.frames(500, false, 0);
    r.gap(Duration::from_secs(5));
    assert!(r.out.is_empty());
}

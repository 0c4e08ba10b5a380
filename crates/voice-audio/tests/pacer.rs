//! The send pacer on virtual time: one frame per 20 ms, timestamps +960,
//! sequence +1, speaking edges, the five-frame silence tail, cancel, and
//! the underrun rule.
#![allow(clippy::disallowed_methods)] // a base instant for virtual time

use ipc_schema::{PlaybackEvent, PlaybackState, UtteranceId, VoicePlayChunk};
use std::time::{Duration, Instant};
use voice_audio::{FrameAudio, OutFrame, Pacer, PacerConfig, PacerOutput};

const MS: Duration = Duration::from_millis(1);

fn chunk(id: u64, seq: u32, frames: usize, last: bool) -> VoicePlayChunk {
    let pcm: Vec<i16> = (0..frames * 960).map(|i| (i % 200) as i16 + 1).collect();
    VoicePlayChunk {
        id: UtteranceId(id),
        seq,
        pcm: voice_audio::samples_to_le(&pcm),
        last,
    }
}

/// Everything the pacer outputs from `t0` to `t0 + until`, driving it
/// exactly as the shell does: poll until `None`, then jump to the timeout.
fn run(
    p: &mut Pacer,
    t0: Instant,
    from: Duration,
    until: Duration,
) -> Vec<(Duration, PacerOutput)> {
    let mut out = Vec::new();
    let mut now = t0 + from;
    loop {
        while let Some(o) = p.poll(now) {
            out.push((now - t0, o));
        }
        match p.poll_timeout() {
            Some(t) if t <= t0 + until => now = now.max(t),
            _ => break,
        }
    }
    out
}

fn frames(out: &[(Duration, PacerOutput)]) -> Vec<(Duration, OutFrame)> {
    out.iter()
        .filter_map(|(t, o)| match o {
            PacerOutput::Frame(f) => Some((*t, f.clone())),
            _ => None,
        })
        .collect()
}

fn events(out: &[(Duration, PacerOutput)]) -> Vec<(Duration, PlaybackEvent)> {
    out.iter()
        .filter_map(|(t, o)| match o {
            PacerOutput::Playback(e) => Some((*t, e.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_whole_utterance_is_paced_numbered_and_tailed() {
    let t0 = Instant::now();
    let mut p = Pacer::new(PacerConfig::default(), 65_534, u32::MAX - 960);
    // 0.5 s in 5 chunks of 100 ms.
    for seq in 0..5 {
        p.push_chunk(chunk(1, seq, 5, seq == 4));
    }
    let out = run(&mut p, t0, Duration::ZERO, Duration::from_secs(5));
    assert_eq!(out[0], (Duration::ZERO, PacerOutput::Speaking(true)));
    let fr = frames(&out);
    assert_eq!(fr.len(), 25 + 5, "25 audio frames + 5 silence");
    for (i, (t, f)) in fr.iter().enumerate() {
        assert_eq!(*t, 20 * MS * i as u32, "frame {i} on the 20 ms grid");
        assert_eq!(f.seq, 65_534u16.wrapping_add(i as u16));
        assert_eq!(f.timestamp, (u32::MAX - 960).wrapping_add(960 * i as u32));
        assert_eq!(f.marker, i == 0);
        match (&f.audio, i < 25) {
            (FrameAudio::Pcm(pcm), true) => assert_eq!(pcm.len(), 960),
            (FrameAudio::Silence, false) => {}
            other => panic!("frame {i}: {other:?}"),
        }
    }
    let ev = events(&out);
    assert_eq!(ev.len(), 2);
    assert_eq!(
        (ev[0].0, &ev[0].1.state),
        (Duration::ZERO, &PlaybackState::Started)
    );
    // Finished after the last silence frame (frame 29 at 580 ms).
    assert_eq!(ev[1].0, 580 * MS);
    assert_eq!(ev[1].1.state, PlaybackState::Finished);
    assert_eq!(ev[1].1.played_ms, 500);
    assert_eq!(out.last().unwrap().1, PacerOutput::Speaking(false));
    assert!(p.is_idle());
    assert_eq!(p.poll_timeout(), None);
}

#[test]
fn a_partial_last_frame_is_padded_with_silence() {
    let t0 = Instant::now();
    let mut p = Pacer::new(PacerConfig::default(), 0, 0);
    let mut c = chunk(3, 0, 1, true);
    c.pcm.extend(voice_audio::samples_to_le(&[7i16; 100]));
    p.push_chunk(c);
    let fr = frames(&run(&mut p, t0, Duration::ZERO, Duration::from_secs(1)));
    assert_eq!(fr.len(), 2 + 5);
    let FrameAudio::Pcm(second) = &fr[1].1.audio else {
        panic!()
    };
    assert_eq!(&second[..100], &[7i16; 100][..]);
    assert!(second[100..].iter().all(|s| *s == 0));
}

#[test]
fn cancel_mid_utterance_stops_within_one_frame_then_tails() {
    let t0 = Instant::now();
    let mut p = Pacer::new(PacerConfig::default(), 10, 1000);
    for seq in 0..10 {
        p.push_chunk(chunk(5, seq, 5, seq == 9));
    }
    let before = run(&mut p, t0, Duration::ZERO, 110 * MS);
    assert_eq!(frames(&before).len(), 6, "frames at 0..=100 ms");
    // Cancel at 115 ms: the next slot (120 ms) is silence.
    p.cancel(UtteranceId(5));
    let after = run(&mut p, t0, 115 * MS, Duration::from_secs(3));
    let ev = events(&after);
    assert_eq!(ev[0].1.state, PlaybackState::Cancelled);
    assert_eq!(ev[0].1.played_ms, 120);
    assert!(ev[0].0 <= 120 * MS, "reported at once: {:?}", ev[0].0);
    let fr = frames(&after);
    assert_eq!(fr.len(), 5, "only the silence tail");
    assert_eq!(fr[0].0, 120 * MS);
    assert!(fr.iter().all(|(_, f)| f.audio == FrameAudio::Silence));
    // Numbering continues without a gap.
    assert_eq!(fr[0].1.seq, 16);
    assert_eq!(fr[0].1.timestamp, 1000 + 6 * 960);
    assert_eq!(after.last().unwrap().1, PacerOutput::Speaking(false));
    // Late chunks of the cancelled utterance are ignored.
    p.push_chunk(chunk(5, 10, 5, true));
    assert!(run(&mut p, t0, Duration::from_secs(3), Duration::from_secs(4)).is_empty());
}

#[test]
fn cancelling_a_queued_or_unseen_utterance() {
    let t0 = Instant::now();
    let mut p = Pacer::new(PacerConfig::default(), 0, 0);
    p.push_chunk(chunk(1, 0, 2, true));
    p.push_chunk(chunk(2, 0, 2, true));
    p.cancel(UtteranceId(2));
    // Cancel before its chunks: they will be ignored.
    p.cancel(UtteranceId(3));
    p.push_chunk(chunk(3, 0, 2, true));
    let out = run(&mut p, t0, Duration::ZERO, Duration::from_secs(2));
    let ev: Vec<_> = events(&out)
        .into_iter()
        .map(|(_, e)| (e.id.0, e.state))
        .collect();
    assert_eq!(
        ev,
        vec![
            (2, PlaybackState::Cancelled),
            (1, PlaybackState::Started),
            (1, PlaybackState::Finished),
        ]
    );
    assert_eq!(frames(&out).len(), 2 + 5);
}

#[test]
fn back_to_back_utterances_keep_speaking_on() {
    let t0 = Instant::now();
    let mut p = Pacer::new(PacerConfig::default(), 0, 0);
    p.push_chunk(chunk(1, 0, 2, true));
    p.push_chunk(chunk(2, 0, 3, true));
    let out = run(&mut p, t0, Duration::ZERO, Duration::from_secs(2));
    let speaking: Vec<_> = out
        .iter()
        .filter(|(_, o)| matches!(o, PacerOutput::Speaking(_)))
        .collect();
    assert_eq!(speaking.len(), 2, "on once, off once: {speaking:?}");
    let fr = frames(&out);
    assert_eq!(fr.len(), 2 + 5 + 3 + 5);
    // One grid and one numbering across both.
    for (i, (t, f)) in fr.iter().enumerate() {
        assert_eq!(*t, 20 * MS * i as u32);
        assert_eq!(f.seq, i as u16);
        assert_eq!(f.timestamp, 960 * i as u32);
    }
    assert!(fr[7].1.marker, "the second utterance starts a talkspurt");
}

#[test]
fn underrun_skips_slots_advancing_the_timestamp_then_resumes() {
    let t0 = Instant::now();
    let mut p = Pacer::new(PacerConfig::default(), 0, 0);
    p.push_chunk(chunk(1, 0, 2, false));
    // The shell wakes at every deadline: slots 40..=100 ms find nothing.
    let a = run(&mut p, t0, Duration::ZERO, 100 * MS);
    assert_eq!(frames(&a).len(), 2, "frames at 0 and 20 ms, then starved");
    assert_eq!(p.poll_timeout(), Some(t0 + 120 * MS));
    // The next chunk arrives at 105 ms: slots 40, 60, 80, 100 were skipped.
    p.push_chunk(chunk(1, 1, 1, true));
    let b = run(&mut p, t0, 105 * MS, Duration::from_secs(1));
    let fr = frames(&b);
    assert_eq!(fr[0].0, 120 * MS, "back on the grid");
    assert_eq!(fr[0].1.seq, 2, "no sequence gap");
    assert_eq!(fr[0].1.timestamp, 6 * 960, "timestamp kept real time");
    assert_eq!(fr.len(), 1 + 5);
    assert_eq!(events(&b).last().unwrap().1.state, PlaybackState::Finished);
}

#[test]
fn a_long_underrun_fails_the_utterance() {
    let t0 = Instant::now();
    let mut p = Pacer::new(PacerConfig::default(), 0, 0);
    p.push_chunk(chunk(9, 0, 1, false));
    let out = run(&mut p, t0, Duration::ZERO, Duration::from_secs(5));
    let ev = events(&out);
    let failed = &ev.last().unwrap();
    let PlaybackState::Failed(reason) = &failed.1.state else {
        panic!("{ev:?}")
    };
    assert!(reason.contains("underrun"), "{reason}");
    // Starved from the 20 ms slot; fails at the slot 2 s later.
    assert_eq!(failed.0, 2020 * MS);
    assert_eq!(frames(&out).len(), 1 + 5);
    assert_eq!(out.last().unwrap().1, PacerOutput::Speaking(false));
}

#[test]
fn bad_chunks_fail_their_utterance_with_a_reason() {
    let t0 = Instant::now();
    let mut p = Pacer::new(PacerConfig::default(), 0, 0);
    // Out of sequence.
    p.push_chunk(chunk(1, 1, 1, false));
    // Too big.
    p.push_chunk(VoicePlayChunk {
        id: UtteranceId(2),
        seq: 0,
        pcm: vec![0; 20_000],
        last: true,
    });
    // Odd length.
    p.push_chunk(VoicePlayChunk {
        id: UtteranceId(3),
        seq: 0,
        pcm: vec![0; 3],
        last: true,
    });
    let ev = events(&run(&mut p, t0, Duration::ZERO, Duration::from_secs(1)));
    let reasons: Vec<_> = ev
        .iter()
        .map(|(_, e)| match &e.state {
            PlaybackState::Failed(r) => (e.id.0, r.clone()),
            s => panic!("{s:?}"),
        })
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons[0].1.contains("chunk 1 arrived, 0 expected"));
    assert!(reasons[1].1.contains("exceeds"));
    assert!(reasons[2].1.contains("16-bit"));
    assert!(p.is_idle());
}

#[test]
fn a_late_thread_restarts_the_grid_instead_of_bursting() {
    let t0 = Instant::now();
    let mut p = Pacer::new(PacerConfig::default(), 0, 0);
    p.push_chunk(chunk(1, 0, 5, false));
    p.push_chunk(chunk(1, 1, 5, true));
    let _ = run(&mut p, t0, Duration::ZERO, 40 * MS);
    // The thread wakes 500 ms late: one frame now, then 20 ms steps.
    let out = run(&mut p, t0, 540 * MS, 600 * MS);
    let fr = frames(&out);
    let times: Vec<_> = fr.iter().map(|(t, _)| t.as_millis()).collect();
    assert_eq!(times, vec![540, 560, 580, 600]);
}

#[test]
fn fail_all_reports_every_utterance() {
    let t0 = Instant::now();
    let mut p = Pacer::new(PacerConfig::default(), 0, 0);
    p.push_chunk(chunk(1, 0, 5, false));
    p.push_chunk(chunk(2, 0, 5, true));
    let _ = run(&mut p, t0, Duration::ZERO, 30 * MS);
    p.fail_all("voice connection closed");
    let ev = events(&run(&mut p, t0, 40 * MS, Duration::from_secs(1)));
    let got: Vec<_> = ev.iter().map(|(_, e)| (e.id.0, e.played_ms)).collect();
    assert_eq!(got, vec![(1, 40), (2, 0)]);
    assert!(ev.iter().all(
        |(_, e)| matches!(&e.state, PlaybackState::Failed(r) if r == "voice connection closed")
    ));
    assert!(p.is_idle());
}

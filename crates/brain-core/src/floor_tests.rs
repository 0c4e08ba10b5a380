use super::*;

/// The one clock read: an arbitrary base; every later time is derived from
/// it (virtual time).
#[allow(clippy::disallowed_methods)]
fn t0() -> Instant {
    Instant::now()
}

fn ms(t: Instant, n: u64) -> Instant {
    t + Duration::from_millis(n)
}

fn synth_ids(out: &[FloorAction]) -> Vec<u64> {
    out.iter()
        .filter_map(|a| match a {
            FloorAction::Synthesize { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

#[test]
fn answers_play_one_at_a_time_in_order() {
    let t = t0();
    let mut f = SpeechFloor::new(100, true);
    let mut out = Vec::new();
    let a = f
        .request(t, "first answer", SpeakKind::Answer, &mut out)
        .unwrap();
    let b = f
        .request(t, "second answer", SpeakKind::Answer, &mut out)
        .unwrap();
    assert_eq!((a, b), (100, 101));
    assert_eq!(synth_ids(&out), vec![100], "only the first is synthesized");
    assert!(f.busy());
    out.clear();
    f.on_synthesized(ms(t, 300), a, Ok(Duration::from_secs(2)), &mut out);
    f.on_playback(ms(t, 320), a, PlaybackReport::Started, &mut out);
    assert_eq!(f.playing(), Some(a));
    assert!(out.is_empty());
    f.on_playback(ms(t, 2400), a, PlaybackReport::Finished, &mut out);
    assert_eq!(
        synth_ids(&out),
        vec![b],
        "the next starts when the first ends"
    );
    out.clear();
    f.on_synthesized(ms(t, 2500), b, Ok(Duration::from_secs(1)), &mut out);
    f.on_playback(ms(t, 3600), b, PlaybackReport::Finished, &mut out);
    assert!(!f.busy());
    assert_eq!(f.stats().finished, 2);
}

#[test]
fn a_user_speaking_cancels_playback_and_the_queue_waits_for_them() {
    let t = t0();
    let mut f = SpeechFloor::new(1, true);
    let mut out = Vec::new();
    let a = f
        .request(t, "an answer", SpeakKind::Answer, &mut out)
        .unwrap();
    let c = f
        .request(t, "a comment", SpeakKind::Commentary, &mut out)
        .unwrap();
    let b = f
        .request(t, "another answer", SpeakKind::Answer, &mut out)
        .unwrap();
    f.on_synthesized(t, a, Ok(Duration::from_secs(3)), &mut out);
    f.on_playback(t, a, PlaybackReport::Started, &mut out);
    out.clear();
    f.on_user_speech(ms(t, 500), 7, true, &mut out);
    assert_eq!(
        out,
        vec![
            FloorAction::Cancel {
                id: a,
                reason: DropReason::BargeIn
            },
            FloorAction::Dropped {
                id: a,
                kind: SpeakKind::Answer,
                reason: DropReason::BargeIn
            }
        ]
    );
    assert_eq!(f.stats().barge_ins, 1);
    // A second speech start of the same user cancels nothing more.
    out.clear();
    f.on_user_speech(ms(t, 520), 7, true, &mut out);
    assert!(out.is_empty());
    // mediad confirms; nothing starts while the user talks.
    f.on_playback(ms(t, 540), a, PlaybackReport::Cancelled, &mut out);
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(f.queued(), 2);
    // The user stops: the queue goes on in order.
    f.on_user_speech(ms(t, 2_000), 7, false, &mut out);
    assert_eq!(synth_ids(&out), vec![c]);
    out.clear();
    f.on_synthesized(ms(t, 2_100), c, Ok(Duration::from_secs(1)), &mut out);
    f.on_playback(ms(t, 3_200), c, PlaybackReport::Finished, &mut out);
    assert_eq!(synth_ids(&out), vec![b]);
}

#[test]
fn without_barge_in_playback_continues() {
    let t = t0();
    let mut f = SpeechFloor::new(1, false);
    let mut out = Vec::new();
    let a = f
        .request(t, "an answer", SpeakKind::Answer, &mut out)
        .unwrap();
    f.on_synthesized(t, a, Ok(Duration::from_secs(3)), &mut out);
    out.clear();
    f.on_user_speech(ms(t, 500), 7, true, &mut out);
    assert!(out.iter().all(|a| !matches!(a, FloorAction::Cancel { .. })));
    assert!(f.busy());
}

#[test]
fn nothing_starts_over_a_speaker_and_waiting_commentary_goes_stale() {
    let t = t0();
    let mut f = SpeechFloor::new(1, true);
    let mut out = Vec::new();
    f.on_user_speech(t, 7, true, &mut out);
    let c = f
        .request(t, "look at that", SpeakKind::Commentary, &mut out)
        .unwrap();
    let a = f
        .request(ms(t, 100), "sure", SpeakKind::Answer, &mut out)
        .unwrap();
    assert!(
        out.is_empty(),
        "nothing starts while a user speaks: {out:?}"
    );
    assert!(f.busy());
    // The commentary's freshness is the next deadline.
    assert_eq!(f.poll_timeout(), Some(t + COMMENTARY_MAX_WAIT));
    f.handle_timeout(t + COMMENTARY_MAX_WAIT, &mut out);
    assert_eq!(
        out,
        vec![FloorAction::Dropped {
            id: c,
            kind: SpeakKind::Commentary,
            reason: DropReason::Stale
        }]
    );
    assert_eq!(f.poll_timeout(), None, "answers do not go stale");
    out.clear();
    f.on_user_speech(ms(t, 20_000), 7, false, &mut out);
    assert_eq!(synth_ids(&out), vec![a]);
}

#[test]
fn commentary_that_waited_briefly_still_plays() {
    let t = t0();
    let mut f = SpeechFloor::new(1, true);
    let mut out = Vec::new();
    f.on_user_speech(t, 7, true, &mut out);
    let c = f
        .request(t, "nice move", SpeakKind::Commentary, &mut out)
        .unwrap();
    f.on_user_speech(ms(t, 3_000), 7, false, &mut out);
    assert_eq!(synth_ids(&out), vec![c]);
}

#[test]
fn empty_and_wordless_texts_are_not_spoken() {
    let mut f = SpeechFloor::new(1, true);
    let mut out = Vec::new();
    for text in ["", "   ", "…", "[ ] !!"] {
        assert_eq!(
            f.request(t0(), text, SpeakKind::Answer, &mut out),
            None,
            "{text:?}"
        );
    }
    assert!(out.is_empty() && !f.busy());
}

#[test]
fn a_full_queue_drops_commentary_before_answers() {
    let t = t0();
    let mut f = SpeechFloor::new(1, true);
    let mut out = Vec::new();
    f.request(t, "playing", SpeakKind::Answer, &mut out);
    let c = f
        .request(t, "comment", SpeakKind::Commentary, &mut out)
        .unwrap();
    for i in 0..MAX_QUEUED - 1 {
        f.request(t, &format!("answer {i}"), SpeakKind::Answer, &mut out);
    }
    assert_eq!(f.queued(), MAX_QUEUED);
    out.clear();
    f.request(t, "one more", SpeakKind::Answer, &mut out);
    assert_eq!(
        out,
        vec![FloorAction::Dropped {
            id: c,
            kind: SpeakKind::Commentary,
            reason: DropReason::QueueFull
        }]
    );
    assert_eq!(f.queued(), MAX_QUEUED);
}

#[test]
fn a_lost_report_frees_the_floor_after_the_length_and_slack() {
    let t = t0();
    let mut f = SpeechFloor::new(1, true);
    let mut out = Vec::new();
    let a = f.request(t, "hello", SpeakKind::Answer, &mut out).unwrap();
    let b = f.request(t, "next", SpeakKind::Answer, &mut out).unwrap();
    f.on_synthesized(t, a, Ok(Duration::from_secs(2)), &mut out);
    let due = f.poll_timeout().unwrap();
    assert_eq!(
        due,
        t + START_TIMEOUT + Duration::from_secs(2) + PLAYBACK_SLACK
    );
    out.clear();
    f.handle_timeout(due - Duration::from_millis(1), &mut out);
    assert!(out.is_empty(), "not before the deadline");
    f.handle_timeout(due, &mut out);
    assert!(out.contains(&FloorAction::Cancel {
        id: a,
        reason: DropReason::Timeout
    }));
    assert_eq!(synth_ids(&out), vec![b]);
}

#[test]
fn failures_move_on_to_the_next_utterance() {
    let t = t0();
    let mut f = SpeechFloor::new(1, true);
    let mut out = Vec::new();
    let a = f.request(t, "one", SpeakKind::Answer, &mut out).unwrap();
    let b = f.request(t, "two", SpeakKind::Answer, &mut out).unwrap();
    let c = f.request(t, "three", SpeakKind::Answer, &mut out).unwrap();
    out.clear();
    f.on_synthesized(t, a, Err(()), &mut out);
    assert_eq!(synth_ids(&out), vec![b]);
    out.clear();
    f.on_synthesized(t, b, Ok(Duration::from_secs(1)), &mut out);
    f.on_playback(t, b, PlaybackReport::Failed, &mut out);
    assert_eq!(synth_ids(&out), vec![c]);
    out.clear();
    f.on_media_lost(t, &mut out);
    assert!(out.contains(&FloorAction::Dropped {
        id: c,
        kind: SpeakKind::Answer,
        reason: DropReason::PlaybackFailed
    }));
    assert!(!f.busy());
    assert_eq!(f.stats().dropped, 3);
}

#[test]
fn reports_for_other_utterances_change_nothing() {
    let t = t0();
    let mut f = SpeechFloor::new(1, true);
    let mut out = Vec::new();
    let a = f.request(t, "one", SpeakKind::Answer, &mut out).unwrap();
    out.clear();
    f.on_playback(t, a + 50, PlaybackReport::Finished, &mut out);
    f.on_synthesized(t, a + 50, Err(()), &mut out);
    assert!(out.is_empty());
    assert!(f.busy());
}

#[test]
fn playback_may_start_before_the_whole_utterance_is_streamed() {
    let t = t0();
    let mut f = SpeechFloor::new(1, true);
    let mut out = Vec::new();
    let a = f
        .request(t, "a long answer", SpeakKind::Answer, &mut out)
        .unwrap();
    // mediad plays the first chunks while the rest are still being sent.
    f.on_playback(ms(t, 300), a, PlaybackReport::Started, &mut out);
    assert_eq!(f.playing(), Some(a));
    f.on_synthesized(ms(t, 900), a, Ok(Duration::from_secs(12)), &mut out);
    assert_eq!(f.playing(), Some(a), "still playing once streamed");
    f.on_playback(ms(t, 12_400), a, PlaybackReport::Finished, &mut out);
    assert!(!f.busy());
}

//! Property tests for `SeqTracker`: it agrees with a model written in
//! signed serial-number distance, and its counters add up.

use proptest::prelude::*;
use rtp::{SeqCounts, SeqNo, SeqStep, SeqTracker};

/// The expected step from the signed distance to the newest number.
fn model(newest: Option<u16>, seq: u16, window: u16) -> SeqStep {
    let Some(newest) = newest else {
        return SeqStep::InOrder { lost: 0 };
    };
    let d = i32::from(SeqNo(seq).diff(SeqNo(newest)));
    if d == 0 {
        SeqStep::Duplicate
    } else if d > 0 {
        SeqStep::InOrder {
            lost: u16::try_from(d - 1).unwrap(),
        }
    } else if -d <= i32::from(window) {
        SeqStep::Late
    } else {
        SeqStep::Jump
    }
}

/// Sequence numbers that stay near each other most of the time, with
/// wraps, repeats and the occasional far-away one.
fn seq_stream() -> impl Strategy<Value = Vec<u16>> {
    (
        any::<u16>(),
        prop::collection::vec(
            prop_oneof![
                4 => -3i32..=5,
                1 => -1100i32..=-900,
                1 => prop_oneof![Just(0x7FFF), Just(0x8000), Just(0x8001), Just(-0x8000)],
                1 => any::<i32>(),
            ],
            1..200,
        ),
    )
        .prop_map(|(start, steps)| {
            let mut seq = start;
            steps
                .into_iter()
                .map(|d| {
                    seq = seq.wrapping_add(d as u16);
                    seq
                })
                .collect()
        })
}

proptest! {
    #[test]
    fn agrees_with_the_signed_distance_model(
        seqs in seq_stream(),
        window in prop_oneof![Just(SeqTracker::DEFAULT_REORDER_WINDOW), any::<u16>()],
    ) {
        let mut t = SeqTracker::new(window);
        let mut newest = None;
        let mut expected = SeqCounts::default();
        for seq in seqs {
            let want = model(newest, seq, window);
            prop_assert_eq!(t.observe(SeqNo(seq)), want, "seq {} after {:?}", seq, newest);
            match want {
                SeqStep::Duplicate => expected.duplicates += 1,
                SeqStep::Late => expected.late += 1,
                SeqStep::InOrder { lost } => expected.lost += u64::from(lost),
                SeqStep::Jump => expected.jumps += 1,
            }
            if matches!(want, SeqStep::InOrder { .. } | SeqStep::Jump) {
                newest = Some(seq);
            }
            prop_assert_eq!(t.newest(), newest.map(SeqNo));
        }
        prop_assert_eq!(t.counts(), expected);
    }

    #[test]
    fn an_ordered_stream_with_drops_counts_exactly_the_drops(
        start in any::<u16>(),
        keep in prop::collection::vec(any::<bool>(), 1..3000),
    ) {
        let mut t = SeqTracker::default();
        let mut seq = SeqNo(start);
        let mut dropped = 0u64;
        let mut seen_first = false;
        for k in keep {
            if k {
                let step = t.observe(seq);
                prop_assert!(matches!(step, SeqStep::InOrder { .. }), "{:?}", step);
                seen_first = true;
            } else if seen_first {
                dropped += 1;
            }
            seq = seq.next();
        }
        // Drops after the last kept packet are not known yet.
        let trailing = t.newest().map_or(0, |n| u64::from(n.forward_distance(seq)) - 1);
        let c = t.counts();
        prop_assert_eq!(c.lost, dropped - trailing);
        prop_assert_eq!((c.duplicates, c.late, c.jumps), (0, 0, 0));
    }
}

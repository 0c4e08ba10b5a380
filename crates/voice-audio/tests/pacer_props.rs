//! Property tests of the pacer: any mix of chunks (good, oversized, odd,
//! out of order), cancels and irregular wake-ups never panics, keeps the
//! RTP numbering sound (sequence +1 per packet, timestamp advancing by a
//! positive multiple of 960), ends every utterance at most once, and leaves
//! speaking off once everything is over.
#![allow(clippy::disallowed_methods)] // a base instant for virtual time

use ipc_schema::{PlaybackState, UtteranceId, VoicePlayChunk};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use voice_audio::{Pacer, PacerConfig, PacerOutput};

#[derive(Debug, Clone)]
enum Op {
    Chunk {
        id: u64,
        seq: u32,
        bytes: usize,
        last: bool,
    },
    Cancel(u64),
    Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u64..4, 0u32..4, 0usize..10_000, any::<bool>())
            .prop_map(|(id, seq, bytes, last)| Op::Chunk { id, seq, bytes, last }),
        1 => (0u64..4).prop_map(Op::Cancel),
        4 => (0u64..400).prop_map(Op::Wait),
    ]
}

proptest! {
    #[test]
    fn numbering_and_endings_hold(ops in proptest::collection::vec(op(), 0..60), seq0 in any::<u16>(), ts0 in any::<u32>()) {
        let t0 = Instant::now();
        let mut now = t0;
        let mut p = Pacer::new(PacerConfig::default(), seq0, ts0);
        let mut last: Option<(u16, u32)> = None;
        let mut ended: BTreeMap<u64, u32> = BTreeMap::new();
        let mut speaking = false;
        let mut drive = |p: &mut Pacer, until: Instant, now: &mut Instant| -> Result<(), TestCaseError> {
            loop {
                while let Some(o) = p.poll(*now) {
                    match o {
                        PacerOutput::Frame(f) => {
                            if let Some((s, t)) = last {
                                prop_assert_eq!(f.seq, s.wrapping_add(1));
                                let d = f.timestamp.wrapping_sub(t);
                                prop_assert!(d >= 960 && d % 960 == 0, "ts step {}", d);
                            }
                            last = Some((f.seq, f.timestamp));
                        }
                        PacerOutput::Speaking(on) => {
                            prop_assert_ne!(on, speaking, "speaking edges alternate");
                            speaking = on;
                        }
                        PacerOutput::Playback(e) => {
                            if e.state != PlaybackState::Started {
                                *ended.entry(e.id.0).or_default() += 1;
                            }
                        }
                    }
                }
                match p.poll_timeout() {
                    Some(t) if t <= until => *now = t.max(*now),
                    _ => break,
                }
            }
            *now = until.max(*now);
            Ok(())
        };
        for op in ops {
            match op {
                Op::Chunk { id, seq, bytes, last } => p.push_chunk(VoicePlayChunk {
                    id: UtteranceId(id),
                    seq,
                    pcm: vec![1; bytes],
                    last,
                }),
                Op::Cancel(id) => p.cancel(UtteranceId(id)),
                Op::Wait(ms) => {
                    let until = now + Duration::from_millis(ms);
                    drive(&mut p, until, &mut now)?;
                }
            }
        }
        // Cancel everything and let the tails run out.
        for id in 0..4 {
            p.cancel(UtteranceId(id));
        }
        let until = now + Duration::from_secs(5);
        drive(&mut p, until, &mut now)?;
        prop_assert!(ended.values().all(|n| *n == 1), "{:?}", ended);
        prop_assert!(!speaking);
        prop_assert!(p.is_idle());
    }
}

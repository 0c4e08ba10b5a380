//! The codec-independent half of a video depacketizer: packets grouped into
//! frames by RTP timestamp, closed by the marker bit, by a new timestamp
//! (the marker was lost) or by a flush; sequence continuity through
//! [`SeqTracker`]; an output queue; buffers handed back for reuse; the
//! counters. The codec half ([`FrameAssembler`]) turns one frame's
//! payloads into a frame (`h264-rtp`, `vp8-rtp`).

use std::collections::VecDeque;

use crate::{SeqCounts, SeqNo, SeqStep, SeqTracker};

/// Frames handed back through [`Depacketizer::recycle`] that are kept.
const SPARE_FRAMES: usize = 4;

/// Counters kept by [`Depacketizer`], from which a codec builds its own
/// statistics ([`FrameAssembler::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DepacketizerCounts {
    /// Packets pushed.
    pub packets: u64,
    /// Duplicate, late, lost and jumped packets (the [`SeqTracker`]'s).
    pub seq: SeqCounts,
    /// Packets the assembler refused with an error.
    pub malformed: u64,
    /// Frames emitted.
    pub frames: u64,
    /// Frames emitted that [`FrameAssembler::is_damaged`] says are damaged.
    pub damaged_frames: u64,
}

/// A codec's half of a [`Depacketizer`]: what one frame's payloads become.
/// The depacketizer calls [`start`](Self::start), then per packet
/// [`gap`](Self::gap) (if packets are missing before it) and
/// [`payload`](Self::payload) (then [`malformed`](Self::malformed) if that
/// failed), and [`finish`](Self::finish) once the frame is closed.
pub trait FrameAssembler: std::fmt::Debug {
    /// Tuning (size limits).
    type Config;
    /// One assembled frame.
    type Frame: std::fmt::Debug;
    /// Why a payload was refused.
    type Error;
    /// The codec's lifetime counters.
    type Stats;

    /// An assembler with the given limits.
    fn new(config: Self::Config) -> Self;

    /// A frame at `timestamp` begins. `spare` holds frames handed back
    /// through [`Depacketizer::recycle`], whose buffers may be reused.
    fn start(&mut self, timestamp: u32, spare: &mut Vec<Self::Frame>);

    /// Packets are missing before the next payload: `lost` of them, or an
    /// unknown number after a sequence `jump` (the sender restarted).
    fn gap(&mut self, lost: u16, jump: bool);

    /// One packet's payload of the current frame.
    ///
    /// # Errors
    /// The codec's error for a payload that does not parse or does not
    /// fit; the depacketizer then calls [`malformed`](Self::malformed).
    fn payload(&mut self, payload: &[u8]) -> Result<(), Self::Error>;

    /// The last payload was refused: the frame is damaged.
    fn malformed(&mut self);

    /// Closes the current frame, at `timestamp`; `missing_marker` when it
    /// was cut short by a new timestamp or a flush.
    fn finish(&mut self, timestamp: u32, missing_marker: bool) -> Self::Frame;

    /// Whether a finished frame is damaged (for the counters).
    fn is_damaged(frame: &Self::Frame) -> bool;

    /// Forgets the frame in progress and any state kept between frames.
    fn reset(&mut self);

    /// The codec's statistics from the depacketizer's counters.
    fn stats(counts: &DepacketizerCounts) -> Self::Stats;
}

/// Assembles RTP payloads into frames with a codec's [`FrameAssembler`].
///
/// Feed packets in sequence order with [`push`](Self::push), then drain
/// [`poll`](Self::poll) until `None`, even when `push` returned an error
/// (one push can complete up to two frames: the previous one cut short by
/// a new timestamp, and the new one if it ends on a marker). Every RTP
/// timestamp accepted yields exactly one frame, complete or flagged.
#[derive(Debug)]
pub struct Depacketizer<A: FrameAssembler> {
    assembler: A,
    seq: SeqTracker,
    /// A frame is being assembled, at `timestamp`.
    active: bool,
    timestamp: u32,
    ready: VecDeque<A::Frame>,
    /// Frames handed back through [`recycle`](Self::recycle), so the steady
    /// state does not allocate.
    spare: Vec<A::Frame>,
    /// All but `seq`, which `seq` keeps.
    counts: DepacketizerCounts,
}

impl<A: FrameAssembler> Default for Depacketizer<A>
where
    A::Config: Default,
{
    fn default() -> Self {
        Self::new(A::Config::default())
    }
}

impl<A: FrameAssembler> Depacketizer<A> {
    /// A depacketizer with the given limits.
    pub fn new(config: A::Config) -> Self {
        Depacketizer {
            assembler: A::new(config),
            seq: SeqTracker::default(),
            active: false,
            timestamp: 0,
            ready: VecDeque::with_capacity(2),
            spare: Vec::new(),
            counts: DepacketizerCounts::default(),
        }
    }

    /// Processes one RTP packet's payload (padding and header extensions
    /// already removed). Duplicate and late packets are dropped. On error
    /// the packet's data is left out and the current frame is damaged.
    ///
    /// # Errors
    /// The assembler's error for a payload it refused.
    pub fn push(
        &mut self,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<(), A::Error> {
        self.counts.packets += 1;
        let (lost, jump) = match self.seq.observe(SeqNo(seq)) {
            SeqStep::Duplicate | SeqStep::Late => return Ok(()),
            SeqStep::InOrder { lost } => (lost, false),
            SeqStep::Jump => (0, true),
        };
        if self.active && timestamp != self.timestamp {
            self.finish(true);
        }
        if !self.active {
            self.active = true;
            self.timestamp = timestamp;
            self.assembler.start(timestamp, &mut self.spare);
        }
        if lost > 0 || jump {
            self.assembler.gap(lost, jump);
        }
        let result = self.assembler.payload(payload);
        if result.is_err() {
            self.counts.malformed += 1;
            self.assembler.malformed();
        }
        if marker {
            self.finish(false);
        }
        result
    }

    /// The next completed frame, oldest first.
    pub fn poll(&mut self) -> Option<A::Frame> {
        self.ready.pop_front()
    }

    /// Emits the frame in progress (end of stream), marked as missing its
    /// marker. Drain [`poll`](Self::poll) afterwards.
    pub fn flush(&mut self) {
        if self.active {
            self.finish(true);
        }
    }

    /// Hands an emitted frame's buffers back for reuse.
    pub fn recycle(&mut self, frame: A::Frame) {
        if self.spare.len() < SPARE_FRAMES {
            self.spare.push(frame);
        }
    }

    /// Forgets all state (e.g. after an SSRC change): the next packet is a
    /// first one; queued output is dropped. The counters are kept.
    pub fn reset(&mut self) {
        self.active = false;
        self.assembler.reset();
        self.seq.restart();
        self.ready.clear();
    }

    /// Lifetime counters, in the codec's terms.
    pub fn stats(&self) -> A::Stats {
        A::stats(&self.counts())
    }

    /// The counters themselves.
    pub fn counts(&self) -> DepacketizerCounts {
        DepacketizerCounts {
            seq: self.seq.counts(),
            ..self.counts
        }
    }

    fn finish(&mut self, missing_marker: bool) {
        let frame = self.assembler.finish(self.timestamp, missing_marker);
        self.counts.frames += 1;
        self.counts.damaged_frames += u64::from(A::is_damaged(&frame));
        self.ready.push_back(frame);
        self.active = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame is its payloads' first bytes, with what the shell told it.
    #[derive(Debug, Default)]
    struct Toy {
        bytes: Vec<u8>,
        gaps: Vec<(u16, bool)>,
        malformed: u32,
        reused: bool,
    }

    #[derive(Debug, PartialEq, Eq)]
    struct ToyFrame {
        timestamp: u32,
        bytes: Vec<u8>,
        gaps: Vec<(u16, bool)>,
        missing_marker: bool,
        malformed: u32,
        reused: bool,
    }

    impl FrameAssembler for Toy {
        type Config = ();
        type Frame = ToyFrame;
        type Error = ();
        type Stats = DepacketizerCounts;

        fn new((): ()) -> Self {
            Toy::default()
        }
        fn start(&mut self, _timestamp: u32, spare: &mut Vec<ToyFrame>) {
            self.reused = spare.pop().is_some();
        }
        fn gap(&mut self, lost: u16, jump: bool) {
            self.gaps.push((lost, jump));
        }
        fn payload(&mut self, payload: &[u8]) -> Result<(), ()> {
            let &b = payload.first().ok_or(())?;
            self.bytes.push(b);
            Ok(())
        }
        fn malformed(&mut self) {
            self.malformed += 1;
        }
        fn finish(&mut self, timestamp: u32, missing_marker: bool) -> ToyFrame {
            ToyFrame {
                timestamp,
                bytes: std::mem::take(&mut self.bytes),
                gaps: std::mem::take(&mut self.gaps),
                missing_marker,
                malformed: std::mem::take(&mut self.malformed),
                reused: self.reused,
            }
        }
        fn is_damaged(frame: &ToyFrame) -> bool {
            frame.missing_marker || frame.malformed > 0 || !frame.gaps.is_empty()
        }
        fn reset(&mut self) {
            *self = Toy::default();
        }
        fn stats(counts: &DepacketizerCounts) -> DepacketizerCounts {
            *counts
        }
    }

    fn drain(d: &mut Depacketizer<Toy>) -> Vec<ToyFrame> {
        std::iter::from_fn(|| d.poll()).collect()
    }

    #[test]
    fn frames_close_on_marker_new_timestamp_and_flush() {
        let mut d = Depacketizer::<Toy>::default();
        d.push(1, 100, false, &[1]).unwrap();
        d.push(2, 100, true, &[2]).unwrap();
        d.push(3, 200, false, &[3]).unwrap();
        // New timestamp without the marker: 200 is cut short.
        d.push(4, 300, false, &[4]).unwrap();
        d.flush();
        let f = drain(&mut d);
        let got: Vec<_> = f
            .iter()
            .map(|f| (f.timestamp, f.bytes.clone(), f.missing_marker))
            .collect();
        assert_eq!(
            got,
            [
                (100, vec![1, 2], false),
                (200, vec![3], true),
                (300, vec![4], true)
            ]
        );
        d.flush();
        assert!(d.poll().is_none(), "nothing in progress, nothing flushed");
        let c = d.stats();
        assert_eq!((c.packets, c.frames, c.damaged_frames), (4, 3, 2));
    }

    #[test]
    fn gaps_errors_duplicates_and_late_packets() {
        let mut d = Depacketizer::<Toy>::default();
        d.push(10, 1, false, &[1]).unwrap();
        d.push(13, 1, false, &[2]).unwrap(); // 11, 12 lost
        d.push(12, 1, false, &[9]).unwrap(); // late: dropped
        d.push(13, 1, false, &[9]).unwrap(); // duplicate: dropped
        assert_eq!(d.push(14, 1, false, &[]), Err(()));
        d.push(5000, 1, true, &[3]).unwrap(); // forward by 4986
        let f = d.poll().unwrap();
        assert_eq!(f.bytes, [1, 2, 3]);
        assert_eq!(f.gaps, [(2, false), (4985, false)]);
        assert_eq!(f.malformed, 1);
        d.push(1000, 2, true, &[4]).unwrap(); // 4000 behind: a jump
        assert_eq!(d.poll().unwrap().gaps, [(0, true)]);
        let c = d.counts();
        assert_eq!((c.packets, c.malformed, c.frames), (7, 1, 2));
        assert_eq!(
            (c.seq.lost, c.seq.late, c.seq.duplicates, c.seq.jumps),
            (4987, 1, 1, 1)
        );
    }

    #[test]
    fn recycled_frames_are_offered_to_the_next_frames_up_to_four() {
        let mut d = Depacketizer::<Toy>::default();
        for i in 0..6u16 {
            d.push(i, u32::from(i), true, &[1]).unwrap();
        }
        for f in drain(&mut d) {
            d.recycle(f);
        }
        for i in 6..12u16 {
            d.push(i, u32::from(i), true, &[1]).unwrap();
        }
        let reused: Vec<_> = drain(&mut d).iter().map(|f| f.reused).collect();
        assert_eq!(reused, [true, true, true, true, false, false]);
    }

    #[test]
    fn reset_drops_output_and_state_but_keeps_the_counters() {
        let mut d = Depacketizer::<Toy>::default();
        d.push(100, 1, true, &[1]).unwrap();
        d.push(101, 2, false, &[2]).unwrap();
        d.reset();
        assert!(d.poll().is_none());
        // After the reset 40000 is a first packet, not a jump.
        d.push(40000, 3, true, &[3]).unwrap();
        let f = d.poll().unwrap();
        assert_eq!((f.bytes.clone(), f.gaps.clone()), (vec![3], vec![]));
        let c = d.counts();
        assert_eq!((c.packets, c.frames, c.seq.jumps), (3, 2, 0));
    }
}

//! Sequence continuity for a depacketizer: one incoming packet's sequence
//! number against the newest one accepted so far. Duplicates and late
//! packets are to be dropped; a forward step says how many packets are
//! missing; a large step backwards is a restart of the sender's numbering.
//! Both video depacketizers (`h264-rtp`, `vp8-rtp`) run on it.

use crate::SeqNo;

/// What one packet's sequence number means for the stream so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqStep {
    /// The newest sequence number again: drop the packet.
    Duplicate,
    /// Behind the newest one by at most the reorder window (it arrived
    /// after later packets): drop the packet.
    Late,
    /// Ahead of the newest one by less than half the number space (or the
    /// first packet, `lost: 0`); `lost` numbers in between never arrived.
    InOrder {
        /// Packets skipped since the newest one (0: the very next one).
        lost: u16,
    },
    /// Further behind than the reorder window, or exactly half the number
    /// space away: the sender restarted its numbering, how many packets
    /// were lost is unknown.
    Jump,
}

/// Lifetime counters of a [`SeqTracker`] (kept across
/// [`SeqTracker::restart`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqCounts {
    /// [`SeqStep::Duplicate`] packets.
    pub duplicates: u64,
    /// [`SeqStep::Late`] packets.
    pub late: u64,
    /// Sum of [`SeqStep::InOrder`]'s `lost`.
    pub lost: u64,
    /// [`SeqStep::Jump`] packets.
    pub jumps: u64,
}

/// Tracks the newest accepted sequence number of one stream (sans-IO:
/// numbers in, [`SeqStep`]s out).
#[derive(Debug, Clone)]
pub struct SeqTracker {
    reorder_window: u16,
    newest: Option<SeqNo>,
    counts: SeqCounts,
}

impl Default for SeqTracker {
    fn default() -> Self {
        Self::new(Self::DEFAULT_REORDER_WINDOW)
    }
}

impl SeqTracker {
    /// Packets at most this far behind the newest one are late; further
    /// behind is a [`SeqStep::Jump`].
    pub const DEFAULT_REORDER_WINDOW: u16 = 1000;

    /// A tracker that has seen no packet; `reorder_window` as in
    /// [`DEFAULT_REORDER_WINDOW`](Self::DEFAULT_REORDER_WINDOW).
    pub fn new(reorder_window: u16) -> Self {
        SeqTracker {
            reorder_window,
            newest: None,
            counts: SeqCounts::default(),
        }
    }

    /// Classifies `seq` and counts it. `InOrder` and `Jump` make `seq` the
    /// newest; `Duplicate` and `Late` leave the state as it was.
    pub fn observe(&mut self, seq: SeqNo) -> SeqStep {
        let step = match self.newest {
            None => SeqStep::InOrder { lost: 0 },
            Some(newest) => match newest.forward_distance(seq) {
                0 => SeqStep::Duplicate,
                ahead @ 1..0x8000 => SeqStep::InOrder { lost: ahead - 1 },
                ahead if ahead.wrapping_neg() <= self.reorder_window => SeqStep::Late,
                _ => SeqStep::Jump,
            },
        };
        match step {
            SeqStep::Duplicate => self.counts.duplicates += 1,
            SeqStep::Late => self.counts.late += 1,
            SeqStep::InOrder { lost } => self.counts.lost += u64::from(lost),
            SeqStep::Jump => self.counts.jumps += 1,
        }
        if matches!(step, SeqStep::InOrder { .. } | SeqStep::Jump) {
            self.newest = Some(seq);
        }
        step
    }

    /// Forgets the newest number (e.g. after an SSRC change): the next
    /// packet is a first one. The counters are kept.
    pub fn restart(&mut self) {
        self.newest = None;
    }

    /// The newest accepted sequence number, if any.
    pub fn newest(&self) -> Option<SeqNo> {
        self.newest
    }

    /// Lifetime counters.
    pub fn counts(&self) -> SeqCounts {
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(seqs: &[u16]) -> (Vec<SeqStep>, SeqCounts) {
        let mut t = SeqTracker::default();
        let steps = seqs.iter().map(|&s| t.observe(SeqNo(s))).collect();
        (steps, t.counts())
    }

    #[test]
    fn first_packet_is_in_order_without_loss() {
        for first in [0, 1, 0x8000, 65535] {
            assert_eq!(steps(&[first]).0, [SeqStep::InOrder { lost: 0 }]);
        }
    }

    #[test]
    fn wraps_from_65535_to_0_without_loss() {
        let (s, c) = steps(&[65534, 65535, 0, 1]);
        assert!(
            s.iter().all(|s| *s == SeqStep::InOrder { lost: 0 }),
            "{s:?}"
        );
        assert_eq!(c, SeqCounts::default());
        // A gap across the wrap counts the skipped numbers.
        assert_eq!(steps(&[65533, 2]).0[1], SeqStep::InOrder { lost: 4 });
    }

    #[test]
    fn duplicate_and_late_are_dropped_and_leave_the_newest() {
        // The inputs of the depacketizers' own tests: 10, 12 (11 lost),
        // 11 late, 12 again, 13.
        let mut t = SeqTracker::default();
        let got: Vec<_> = [10, 12, 11, 12, 13]
            .iter()
            .map(|&s| t.observe(SeqNo(s)))
            .collect();
        assert_eq!(
            got,
            [
                SeqStep::InOrder { lost: 0 },
                SeqStep::InOrder { lost: 1 },
                SeqStep::Late,
                SeqStep::Duplicate,
                SeqStep::InOrder { lost: 0 },
            ]
        );
        assert_eq!(t.newest(), Some(SeqNo(13)));
        let c = t.counts();
        assert_eq!((c.late, c.duplicates, c.lost, c.jumps), (1, 1, 1, 0));
    }

    #[test]
    fn reorder_window_edge_and_big_jumps() {
        let w = SeqTracker::DEFAULT_REORDER_WINDOW;
        assert_eq!(steps(&[5000, 5000 - w]).0[1], SeqStep::Late);
        assert_eq!(steps(&[5000, 5000 - w - 1]).0[1], SeqStep::Jump);
        // Late across the wrap: 65535 is one behind 0.
        assert_eq!(steps(&[0, 65535]).0[1], SeqStep::Late);
        // The depacketizers' resync test: 40000 then 30000.
        let (s, c) = steps(&[40000, 30000, 30001]);
        assert_eq!(s[1..], [SeqStep::Jump, SeqStep::InOrder { lost: 0 }]);
        assert_eq!((c.jumps, c.lost), (1, 0));
    }

    #[test]
    fn half_the_number_space_is_the_boundary() {
        // 0x7FFF ahead is a (huge) forward gap, 0x8000 away a jump.
        assert_eq!(steps(&[0, 0x7FFF]).0[1], SeqStep::InOrder { lost: 0x7FFE });
        assert_eq!(steps(&[0, 0x8000]).0[1], SeqStep::Jump);
        assert_eq!(steps(&[0x8000, 0]).0[1], SeqStep::Jump);
        assert_eq!(steps(&[0, 0x8001]).0[1], SeqStep::Jump);
    }

    #[test]
    fn a_window_of_zero_has_no_late_packets() {
        let mut t = SeqTracker::new(0);
        t.observe(SeqNo(10));
        assert_eq!(t.observe(SeqNo(9)), SeqStep::Jump);
        assert_eq!(t.observe(SeqNo(9)), SeqStep::Duplicate);
    }

    #[test]
    fn restart_forgets_the_newest_but_keeps_the_counts() {
        let mut t = SeqTracker::default();
        t.observe(SeqNo(7));
        t.observe(SeqNo(7));
        t.restart();
        assert_eq!(t.newest(), None);
        assert_eq!(t.observe(SeqNo(7)), SeqStep::InOrder { lost: 0 });
        assert_eq!(t.counts().duplicates, 1);
    }
}

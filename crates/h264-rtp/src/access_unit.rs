//! The depacketizer's output: one access unit per RTP timestamp.

use crate::nal::NalType;

/// What went wrong while assembling an access unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Damage {
    /// Packets missing from the sequence just before or inside this access
    /// unit (the gap may have held the head of this access unit or whole
    /// earlier ones; either way references may be missing).
    pub lost_packets: u32,
    /// The sequence number jumped by more than the reorder window
    /// (sender restart or heavy loss): how much was lost is unknown.
    pub sequence_jump: bool,
    /// The access unit ended by a timestamp change or a flush instead of a
    /// marker bit, so its tail may be missing.
    pub missing_marker: bool,
    /// Fragmented NAL units dropped because some of their FU-A fragments
    /// were missing (never glued across a gap), by type.
    pub dropped_nals: Vec<NalType>,
    /// Packets of this access unit rejected as malformed or unsupported.
    pub malformed_packets: u32,
    /// The access unit exceeded the size limit and its data was discarded.
    pub oversized: bool,
}

impl Damage {
    /// True if anything at all went wrong.
    pub fn is_damaged(&self) -> bool {
        self.lost_packets > 0
            || self.sequence_jump
            || self.missing_marker
            || !self.dropped_nals.is_empty()
            || self.malformed_packets > 0
            || self.oversized
    }

    pub(crate) fn clear(&mut self) {
        self.lost_packets = 0;
        self.sequence_jump = false;
        self.missing_marker = false;
        self.dropped_nals.clear();
        self.malformed_packets = 0;
        self.oversized = false;
    }
}

/// One access unit (all NAL units sharing an RTP timestamp) in Annex-B form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessUnit {
    /// Every received NAL unit, each prefixed by `00 00 00 01`, in arrival
    /// order: byte-identical to the sender's (possibly DAVE-encrypted) frame
    /// when nothing was lost.
    pub data: Vec<u8>,
    /// RTP timestamp (90 kHz) shared by the access unit's packets.
    pub timestamp: u32,
    /// Contains an IDR slice (NAL type 5).
    pub is_keyframe: bool,
    /// Contains a sequence parameter set.
    pub has_sps: bool,
    /// Contains a picture parameter set.
    pub has_pps: bool,
    /// Shorthand for `damage.is_damaged()`: the data is not known to be the
    /// whole access unit. Decoding it may show artifacts; a keyframe
    /// request is advisable.
    pub damaged: bool,
    /// Details of what was lost.
    pub damage: Damage,
    /// Types of the NAL units in `data`, in order.
    pub nal_types: Vec<NalType>,
}

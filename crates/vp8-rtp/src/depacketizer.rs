//! RTP payloads to whole VP8 frames.

use std::collections::VecDeque;

use rtp::{SeqNo, SeqStep, SeqTracker};

use crate::descriptor::{PayloadDescriptor, PictureId};
use crate::error::Vp8Error;
use crate::frame_header::{FrameSize, is_keyframe, keyframe_size};

/// One VP8 frame (all packets sharing an RTP timestamp).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vp8Frame {
    /// The VP8 bitstream frame (descriptors removed), byte-identical to the
    /// sender's (possibly DAVE-encrypted) frame unless `damaged`. For a
    /// damaged frame, only the intact prefix before the first loss.
    pub data: Vec<u8>,
    /// RTP timestamp (90 kHz).
    pub timestamp: u32,
    /// The frame tag's P bit is clear.
    pub is_keyframe: bool,
    /// Picture size, for key frames with a valid header.
    pub keyframe_size: Option<FrameSize>,
    /// PictureID of the frame's first packet, if the sender sends one.
    pub picture_id: Option<PictureId>,
    /// Data is missing (lost or malformed packet, missing start or end, bad
    /// key-frame header): do not decode; request a keyframe.
    pub damaged: bool,
    /// The frame is whole, but packets (possibly whole frames) were lost
    /// just before it, detected by sequence or PictureID gaps: a reference
    /// may be missing, so it may decode with artifacts.
    pub lost_before: bool,
}

/// Tuning for [`Vp8Depacketizer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepacketizerConfig {
    /// Largest frame assembled; bigger ones are dropped.
    pub max_frame_bytes: usize,
}

impl Default for DepacketizerConfig {
    fn default() -> Self {
        DepacketizerConfig {
            max_frame_bytes: 8 << 20,
        }
    }
}

/// Counters over the depacketizer's lifetime.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DepacketizerStats {
    /// Packets pushed.
    pub packets: u64,
    /// Duplicate packets (dropped).
    pub duplicates: u64,
    /// Late packets within the reorder window (dropped).
    pub late: u64,
    /// Packets missing according to sequence numbers.
    pub lost: u64,
    /// Packets rejected with an error.
    pub malformed: u64,
    /// Frames emitted.
    pub frames: u64,
    /// Frames emitted with `damaged` set.
    pub damaged_frames: u64,
}

/// Assembles RFC 7741 payloads into VP8 frames.
///
/// Feed packets in sequence order with [`push`](Self::push), then drain
/// [`poll`](Self::poll) until `None` (even after an error). Every RTP
/// timestamp seen yields exactly one [`Vp8Frame`], complete or flagged.
#[derive(Debug)]
pub struct Vp8Depacketizer {
    config: DepacketizerConfig,
    active: bool,
    timestamp: u32,
    data: Vec<u8>,
    /// The frame's first packet (S=1, PID=0) was received.
    started: bool,
    /// Data was lost inside the frame: nothing more is appended to it, so
    /// bytes on either side of a gap are never glued.
    broken: bool,
    missing_marker: bool,
    lost_before: bool,
    picture_id: Option<PictureId>,
    last_picture_id: Option<PictureId>,
    /// Duplicate, late, lost and jumped packets (`rtp`'s shared rules).
    seq: SeqTracker,
    ready: VecDeque<Vp8Frame>,
    /// Buffers handed back through [`recycle`](Self::recycle).
    spare: Vec<Vec<u8>>,
    /// Counters, but for the sequence ones (`duplicates`, `late`, `lost`),
    /// which `seq` keeps.
    stats: DepacketizerStats,
}

impl Default for Vp8Depacketizer {
    fn default() -> Self {
        Self::new(DepacketizerConfig::default())
    }
}

impl Vp8Depacketizer {
    /// A depacketizer with the given limits.
    pub fn new(config: DepacketizerConfig) -> Self {
        Vp8Depacketizer {
            config,
            active: false,
            timestamp: 0,
            data: Vec::new(),
            started: false,
            broken: false,
            missing_marker: false,
            lost_before: false,
            picture_id: None,
            last_picture_id: None,
            seq: SeqTracker::default(),
            ready: VecDeque::with_capacity(2),
            spare: Vec::new(),
            stats: DepacketizerStats::default(),
        }
    }

    /// Processes one RTP packet's payload (padding and header extensions
    /// already removed).
    pub fn push(
        &mut self,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<(), Vp8Error> {
        self.stats.packets += 1;
        let lost = match self.seq.observe(SeqNo(seq)) {
            SeqStep::Duplicate | SeqStep::Late => return Ok(()),
            SeqStep::InOrder { lost } => lost,
            SeqStep::Jump => 1, // amount unknown, at least "some"
        };

        if self.active && timestamp != self.timestamp {
            self.missing_marker = true;
            self.finish();
        }
        if !self.active {
            self.start(timestamp);
        }
        if lost > 0 {
            if self.started || !self.data.is_empty() {
                self.broken = true;
            } else {
                self.lost_before = true;
            }
        }
        let result = self.handle(payload);
        if result.is_err() {
            self.stats.malformed += 1;
            self.broken = true;
        }
        if marker {
            self.finish();
        }
        result
    }

    /// The next completed frame, oldest first.
    pub fn poll(&mut self) -> Option<Vp8Frame> {
        self.ready.pop_front()
    }

    /// Emits the frame in progress (end of stream), marked damaged.
    pub fn flush(&mut self) {
        if self.active {
            self.missing_marker = true;
            self.finish();
        }
    }

    /// Hands an emitted frame's buffer back for reuse.
    pub fn recycle(&mut self, frame: Vp8Frame) {
        if self.spare.len() < 4 {
            self.spare.push(frame.data);
        }
    }

    /// Forgets all state (e.g. after an SSRC change); queued output is dropped.
    pub fn reset(&mut self) {
        self.active = false;
        self.data.clear();
        self.seq.restart();
        self.last_picture_id = None;
        self.ready.clear();
    }

    /// Lifetime counters.
    pub fn stats(&self) -> DepacketizerStats {
        let seq = self.seq.counts();
        DepacketizerStats {
            duplicates: seq.duplicates,
            late: seq.late,
            // A sequence jump counts as one lost packet (amount unknown).
            lost: seq.lost + seq.jumps,
            ..self.stats
        }
    }

    fn start(&mut self, timestamp: u32) {
        self.active = true;
        self.timestamp = timestamp;
        self.started = false;
        self.broken = false;
        self.missing_marker = false;
        self.lost_before = false;
        self.picture_id = None;
        if self.data.capacity() == 0
            && let Some(buf) = self.spare.pop()
        {
            self.data = buf;
        }
        self.data.clear();
    }

    fn handle(&mut self, payload: &[u8]) -> Result<(), Vp8Error> {
        let desc = PayloadDescriptor::parse(payload)?;
        let body = payload.get(desc.len..).unwrap_or_default();
        if desc.starts_frame() {
            if self.started || !self.data.is_empty() {
                return Err(Vp8Error::DuplicateFrameStart);
            }
            self.started = true;
            self.picture_id = desc.picture_id;
        } else if !self.started {
            // The frame's first packet is missing.
            self.broken = true;
        }
        if self.broken {
            return Ok(());
        }
        if self.data.len().saturating_add(body.len()) > self.config.max_frame_bytes {
            self.data.clear();
            return Err(Vp8Error::FrameTooLarge {
                limit: self.config.max_frame_bytes,
            });
        }
        self.data.extend_from_slice(body);
        Ok(())
    }

    fn finish(&mut self) {
        let data = std::mem::take(&mut self.data);
        let keyframe = self.started && is_keyframe(&data);
        let size = if keyframe { keyframe_size(&data) } else { None };
        let damaged =
            self.broken || self.missing_marker || !self.started || (keyframe && size.is_none());
        let mut lost_before = self.lost_before;
        if let (Some(prev), Some(now)) = (self.last_picture_id, self.picture_id) {
            lost_before |= !now.follows(prev);
        }
        if self.picture_id.is_some() {
            self.last_picture_id = self.picture_id;
        }
        let frame = Vp8Frame {
            data,
            timestamp: self.timestamp,
            is_keyframe: keyframe,
            keyframe_size: size,
            picture_id: self.picture_id,
            damaged,
            lost_before,
        };
        self.stats.frames += 1;
        self.stats.damaged_frames += u64::from(damaged);
        self.ready.push_back(frame);
        self.active = false;
    }
}

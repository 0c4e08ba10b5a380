//! RTP payloads to whole VP8 frames.

use rtp::{Depacketizer, DepacketizerCounts, FrameAssembler};

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

/// Assembles RFC 7741 payloads into VP8 frames: [`rtp::Depacketizer`] over
/// [`Vp8Assembler`].
///
/// Feed packets in sequence order with [`push`](rtp::Depacketizer::push),
/// then drain [`poll`](rtp::Depacketizer::poll) until `None` (even after an
/// error). Every RTP timestamp seen yields exactly one [`Vp8Frame`],
/// complete or flagged.
pub type Vp8Depacketizer = Depacketizer<Vp8Assembler>;

/// The VP8 half of a [`Vp8Depacketizer`]: one frame's payloads, descriptors
/// removed, into the frame.
#[derive(Debug)]
pub struct Vp8Assembler {
    config: DepacketizerConfig,
    data: Vec<u8>,
    /// The frame's first packet (S=1, PID=0) was received.
    started: bool,
    /// Data was lost inside the frame: nothing more is appended to it, so
    /// bytes on either side of a gap are never glued.
    broken: bool,
    lost_before: bool,
    picture_id: Option<PictureId>,
    last_picture_id: Option<PictureId>,
}

impl FrameAssembler for Vp8Assembler {
    type Config = DepacketizerConfig;
    type Frame = Vp8Frame;
    type Error = Vp8Error;
    type Stats = DepacketizerStats;

    fn new(config: DepacketizerConfig) -> Self {
        Vp8Assembler {
            config,
            data: Vec::new(),
            started: false,
            broken: false,
            lost_before: false,
            picture_id: None,
            last_picture_id: None,
        }
    }

    fn start(&mut self, _timestamp: u32, spare: &mut Vec<Vp8Frame>) {
        self.started = false;
        self.broken = false;
        self.lost_before = false;
        self.picture_id = None;
        if self.data.capacity() == 0
            && let Some(frame) = spare.pop()
        {
            self.data = frame.data;
        }
        self.data.clear();
    }

    /// Before the frame's first data: a reference may be missing
    /// (`lost_before`); inside the frame: it is broken.
    fn gap(&mut self, _lost: u16, _jump: bool) {
        if self.started || !self.data.is_empty() {
            self.broken = true;
        } else {
            self.lost_before = true;
        }
    }

    fn payload(&mut self, payload: &[u8]) -> Result<(), Vp8Error> {
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

    fn malformed(&mut self) {
        self.broken = true;
    }

    fn finish(&mut self, timestamp: u32, missing_marker: bool) -> Vp8Frame {
        let data = std::mem::take(&mut self.data);
        let keyframe = self.started && is_keyframe(&data);
        let size = if keyframe { keyframe_size(&data) } else { None };
        let damaged =
            self.broken || missing_marker || !self.started || (keyframe && size.is_none());
        let mut lost_before = self.lost_before;
        if let (Some(prev), Some(now)) = (self.last_picture_id, self.picture_id) {
            lost_before |= !now.follows(prev);
        }
        if self.picture_id.is_some() {
            self.last_picture_id = self.picture_id;
        }
        Vp8Frame {
            data,
            timestamp,
            is_keyframe: keyframe,
            keyframe_size: size,
            picture_id: self.picture_id,
            damaged,
            lost_before,
        }
    }

    fn is_damaged(frame: &Vp8Frame) -> bool {
        frame.damaged
    }

    fn reset(&mut self) {
        self.data.clear();
        self.last_picture_id = None;
    }

    fn stats(counts: &DepacketizerCounts) -> DepacketizerStats {
        DepacketizerStats {
            packets: counts.packets,
            duplicates: counts.seq.duplicates,
            late: counts.seq.late,
            // A sequence jump counts as one lost packet (amount unknown).
            lost: counts.seq.lost + counts.seq.jumps,
            malformed: counts.malformed,
            frames: counts.frames,
            damaged_frames: counts.damaged_frames,
        }
    }
}

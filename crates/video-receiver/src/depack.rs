//! One depacketizer interface over both codecs.

use h264_rtp::{AccessUnit, H264Depacketizer, NalType, ParameterSetCache, nal_units};
use vp8_rtp::{Vp8Depacketizer, Vp8Frame};

use crate::VideoCodec;

/// A frame as the depacketizer assembled it.
#[derive(Debug)]
pub(crate) enum Assembled {
    H264(AccessUnit),
    Vp8(Vp8Frame),
}

impl Assembled {
    pub(crate) fn data(&self) -> &[u8] {
        match self {
            Self::H264(au) => &au.data,
            Self::Vp8(f) => &f.data,
        }
    }

    pub(crate) fn data_mut(&mut self) -> &mut Vec<u8> {
        match self {
            Self::H264(au) => &mut au.data,
            Self::Vp8(f) => &mut f.data,
        }
    }

    pub(crate) fn timestamp(&self) -> u32 {
        match self {
            Self::H264(au) => au.timestamp,
            Self::Vp8(f) => f.timestamp,
        }
    }

    pub(crate) fn is_keyframe(&self) -> bool {
        match self {
            Self::H264(au) => au.is_keyframe,
            Self::Vp8(f) => f.is_keyframe,
        }
    }

    /// Data is missing or malformed somewhere in or just before the frame.
    pub(crate) fn damaged(&self) -> bool {
        match self {
            Self::H264(au) => au.damaged,
            Self::Vp8(f) => f.damaged,
        }
    }

    /// Packets (maybe whole frames) were lost before this frame.
    pub(crate) fn lost_before(&self) -> bool {
        match self {
            // H264 reports gaps as damage of the next access unit.
            Self::H264(_) => false,
            Self::Vp8(f) => f.lost_before,
        }
    }

    /// The frame's data is cut short: a decoder cannot use it at all
    /// (VP8 keeps only the prefix before a loss; H264 access units keep
    /// every whole NAL unit and can be decoded with concealment).
    pub(crate) fn truncated(&self) -> bool {
        match self {
            Self::H264(_) => false,
            Self::Vp8(f) => f.damaged,
        }
    }

    /// A keyframe whose data is known whole, so decoding can restart from
    /// it. `gap_inside` says whether the receiver saw a sequence gap between
    /// two packets of this frame. Call after the frame transform (the check
    /// reads the first slice header).
    pub(crate) fn is_clean_keyframe(&self, gap_inside: bool) -> bool {
        match self {
            Self::H264(au) => {
                // The depacketizer charges a gap *before* the access unit to
                // it too, so `damaged` alone would refuse an intact IDR that
                // follows a lost packet. Instead: the tail is there (marker),
                // nothing inside was lost or dropped, and the first slice
                // starts the picture (so the head is there too).
                let d = &au.damage;
                au.is_keyframe
                    && !gap_inside
                    && !d.missing_marker
                    && !d.oversized
                    && d.malformed_packets == 0
                    && d.dropped_nals.is_empty()
                    && first_slice_starts_picture(&au.data)
            }
            Self::Vp8(f) => f.is_keyframe && !f.damaged,
        }
    }
}

/// True when the first slice NAL unit of an Annex-B access unit has
/// `first_mb_in_slice == 0`: its Exp-Golomb code is the single bit `1`,
/// the first bit after the one-byte NAL header.
pub(crate) fn first_slice_starts_picture(access_unit: &[u8]) -> bool {
    for nal in nal_units(access_unit) {
        let Some(&header) = nal.first() else { continue };
        let t = NalType::from_header(header);
        if t == NalType::SLICE || t == NalType::IDR {
            return nal.get(1).is_some_and(|b| b & 0x80 != 0);
        }
    }
    false
}

/// The codec-specific depacketizer (and, for H264, the parameter-set cache).
#[derive(Debug)]
pub(crate) enum Depacketizer {
    H264 {
        depack: H264Depacketizer,
        params: ParameterSetCache,
    },
    Vp8(Vp8Depacketizer),
}

impl Depacketizer {
    pub(crate) fn new(codec: VideoCodec) -> Self {
        match codec {
            VideoCodec::H264 => Self::H264 {
                depack: H264Depacketizer::default(),
                params: ParameterSetCache::new(),
            },
            VideoCodec::Vp8 => Self::Vp8(Vp8Depacketizer::default()),
        }
    }

    /// Pushes one payload; `Err(true)` means the packet lost picture data
    /// worth a keyframe request.
    pub(crate) fn push(
        &mut self,
        seq: u16,
        ts: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<(), bool> {
        match self {
            Self::H264 { depack, .. } => depack
                .push(seq, ts, marker, payload)
                .map_err(|e| e.should_request_keyframe()),
            Self::Vp8(d) => d
                .push(seq, ts, marker, payload)
                .map_err(|e| e.should_request_keyframe()),
        }
    }

    pub(crate) fn poll(&mut self) -> Option<Assembled> {
        match self {
            Self::H264 { depack, .. } => depack.poll().map(Assembled::H264),
            Self::Vp8(d) => d.poll().map(Assembled::Vp8),
        }
    }

    pub(crate) fn flush(&mut self) {
        match self {
            Self::H264 { depack, .. } => depack.flush(),
            Self::Vp8(d) => d.flush(),
        }
    }

    /// Re-inserts cached SPS/PPS in front of an IDR that lacks them (H264
    /// only). Returns true when the frame is an IDR that still lacks them.
    pub(crate) fn apply_parameter_sets(&mut self, frame: &mut Assembled) -> bool {
        match (self, frame) {
            (Self::H264 { params, .. }, Assembled::H264(au)) => {
                params.apply(&mut au.data).still_missing
            }
            _ => false,
        }
    }

    pub(crate) fn recycle(&mut self, frame: Assembled) {
        match (self, frame) {
            (Self::H264 { depack, .. }, Assembled::H264(au)) => depack.recycle(au),
            (Self::Vp8(d), Assembled::Vp8(f)) => d.recycle(f),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_mb_check_reads_the_first_slice() {
        // SPS, then an IDR slice with first_mb_in_slice = 0 (bit 1).
        let au = [0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x65, 0x88, 0x80];
        assert!(first_slice_starts_picture(&au));
        // first_mb_in_slice = 1 ("010"): a later slice, the head is missing.
        let au = [0, 0, 0, 1, 0x65, 0x40, 0x80];
        assert!(!first_slice_starts_picture(&au));
        assert!(!first_slice_starts_picture(&[0, 0, 0, 1, 0x67, 0x42]));
        assert!(!first_slice_starts_picture(&[0, 0, 0, 1, 0x65]));
    }
}

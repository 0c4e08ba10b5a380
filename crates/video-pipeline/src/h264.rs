//! Persistent OpenH264 decoder for one H264 stream.
//!
//! The safe `openh264::Decoder::decode` treats every non-zero decoding state as
//! fatal, including "error concealed", which is the normal state after packet
//! loss. We therefore call the raw `DecodeFrameNoDelay` entry point and
//! interpret the state bits ourselves, the way the reference does:
//! - states made only of {ref lost, data error concealed, frame pending} are
//!   tolerated (the picture is usable, but a keyframe is requested);
//! - anything else (bitstream error, no parameter sets, ...) is a decode error.
//!
//! This module is the only place that reads OpenH264 memory directly, hence
//! the local `unsafe_code` allowance; every block states why it is sound.
#![allow(unsafe_code)]

use std::os::raw::{c_int, c_void};
use std::ptr::null_mut;

use openh264::decoder::Decoder;
use openh264_sys2 as sys;

use crate::decoder::{DecoderStats, ErrorPolicy, VideoDecoder};
use crate::error::{Codec, Result, VideoError};
use crate::frame::{YuvFrame, chroma_extent};

/// State bits that still come with a usable picture.
const TOLERATED_STATE: u32 =
    (sys::dsRefLost | sys::dsDataErrorConcealed | sys::dsFramePending) as u32;
/// State bits meaning the picture is built partly from concealment.
const DEGRADED_STATE: u32 = (sys::dsRefLost | sys::dsDataErrorConcealed) as u32;

/// What kind of picture an access unit carries, from its first slice NAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SliceKind {
    /// No slice NAL (parameter sets, SEI, garbage).
    None,
    /// A non-IDR slice (NAL type 1).
    NonIdr,
    /// An IDR slice (NAL type 5).
    Idr,
}

/// Scans the Annex-B start codes of `au` and classifies its first slice.
/// All slices of one access unit share the IDR-ness, so scanning stops at
/// the first slice header; parameter sets before it are a few bytes.
pub(crate) fn classify_access_unit(au: &[u8]) -> SliceKind {
    let mut from = 0;
    while let Some(offset) = au
        .get(from..)
        .and_then(|rest| rest.windows(3).position(|w| w == [0, 0, 1]))
    {
        let header_at = from + offset + 3;
        match au.get(header_at).map(|h| h & 0x1f) {
            Some(5) => return SliceKind::Idr,
            Some(1) => return SliceKind::NonIdr,
            Some(_) => from = header_at,
            None => break,
        }
    }
    SliceKind::None
}

/// Creates an OpenH264 decoder with slice-copy error concealment across IDRs
/// (the reference's setting: keeps showing a picture through packet loss).
fn new_native() -> Result<Decoder> {
    let init_error = |detail: String| VideoError::Init {
        what: "OpenH264 decoder",
        detail,
    };
    let mut decoder = Decoder::new().map_err(|e| init_error(e.to_string()))?;
    let mut idc: c_int = sys::ERROR_CON_SLICE_COPY_CROSS_IDR;
    // SAFETY: `raw_api` is unsafe only because raw options can break the
    // wrapper's assumptions; the error-concealment mode is not one the wrapper
    // relies on (it is what the wrapper itself sets, with a different value,
    // at construction). `idc` outlives the call, and SetOption reads exactly
    // one int for DECODER_OPTION_ERROR_CON_IDC.
    let rc = unsafe {
        decoder.raw_api().set_option(
            sys::DECODER_OPTION_ERROR_CON_IDC,
            (&raw mut idc).cast::<c_void>(),
        )
    };
    if rc != 0 {
        return Err(init_error(format!(
            "SetOption(ERROR_CON_IDC) returned {rc}"
        )));
    }
    Ok(decoder)
}

/// A persistent OpenH264 decoder for one video stream (create one per SSRC /
/// stream, drop it when the stream goes away).
///
/// Feed it every Annex-B access unit in order. Pictures are withheld until
/// the first IDR has been decoded (before that they would be concealment of
/// nothing), and a keyframe request is raised when slices arrive before any
/// IDR, when references are lost, and when the decoder is reset after
/// [`crate::MAX_CONSECUTIVE_ERRORS`] consecutive errors.
pub struct H264Decoder {
    native: Decoder,
    policy: ErrorPolicy,
}

impl std::fmt::Debug for H264Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Decoder")
            .field("stats", &self.policy.stats)
            .finish_non_exhaustive()
    }
}

impl H264Decoder {
    /// Creates a decoder.
    ///
    /// # Errors
    /// [`VideoError::Init`] if OpenH264 cannot be initialised.
    pub fn new() -> Result<Self> {
        Ok(Self {
            native: new_native()?,
            policy: ErrorPolicy::new(),
        })
    }

    /// Counts a rejected access unit and resets the native decoder when the
    /// error run reaches the limit ([`ErrorPolicy::reject`]).
    fn fail(&mut self, status: u32) -> VideoError {
        self.policy
            .reject(Codec::H264, status, &mut self.native, new_native)
    }
}

impl VideoDecoder for H264Decoder {
    fn codec(&self) -> Codec {
        Codec::H264
    }

    fn decode(&mut self, access_unit: &[u8]) -> Result<Option<YuvFrame<'_>>> {
        let admitted = self.policy.admit::<c_int, _>(
            Codec::H264,
            access_unit,
            &mut self.native,
            new_native,
        )?;
        let Some(len) = admitted else {
            return Ok(None);
        };
        let kind = classify_access_unit(access_unit);
        if kind == SliceKind::NonIdr && !self.policy.seen_keyframe() {
            self.policy.need_keyframe();
        }

        let mut dst: [*mut u8; 3] = [null_mut(); 3];
        let mut info = sys::SBufferInfo::default();
        // SAFETY: `access_unit` is valid for `len` bytes (len fits c_int and
        // equals the slice length); OpenH264 only reads it during the call.
        // `dst` is the 3-pointer array DecodeFrameNoDelay writes, `info` a
        // properly initialised SBufferInfo; both outlive the call.
        let state = unsafe {
            self.native.raw_api().decode_frame_no_delay(
                access_unit.as_ptr(),
                len,
                dst.as_mut_ptr(),
                &raw mut info,
            )
        };
        // DECODING_STATE is a bit set; reinterpret the int's bits.
        let state = state as u32;
        if state & !TOLERATED_STATE != 0 {
            return Err(self.fail(state));
        }
        self.policy.success();
        if kind == SliceKind::Idr {
            // Concealment bits on an IDR describe the *previous*, incomplete
            // picture that this one flushed out; the IDR itself needs no
            // references, so it ends the episode either way.
            self.policy.keyframe_decoded();
        } else if state & DEGRADED_STATE != 0 {
            self.policy.need_keyframe();
        }

        if info.iBufferStatus != 1 && kind != SliceKind::None {
            // OpenH264 holds a picture back when a stream's SPS does not rule
            // out reordering (main profile without VUI reorder limits). Our
            // senders never reorder (no B-frames on WebRTC paths), so the
            // picture just decoded is complete: take it out now instead of
            // one access unit later.
            // SAFETY: same `dst`/`info` contract as the decode call above;
            // FlushFrame reads no input and writes only these two.
            let flushed = unsafe {
                self.native
                    .raw_api()
                    .flush_frame(dst.as_mut_ptr(), &raw mut info)
            };
            if (flushed as u32) & !TOLERATED_STATE != 0 {
                return Ok(None);
            }
        }
        if info.iBufferStatus != 1 || !self.policy.seen_keyframe() {
            return Ok(None);
        }
        // SAFETY: `sSystemBuffer` is the union's only member, and OpenH264
        // filled it because iBufferStatus == 1.
        let picture = unsafe { info.UsrData.sSystemBuffer };
        if picture.iFormat != sys::videoFormatI420 as c_int || dst.iter().any(|p| p.is_null()) {
            return Ok(None);
        }
        let as_len = |v: c_int| usize::try_from(v).ok().filter(|&v| v > 0);
        let (Some(width), Some(height), Some(y_stride), Some(uv_stride)) = (
            as_len(picture.iWidth),
            as_len(picture.iHeight),
            as_len(picture.iStride[0]),
            as_len(picture.iStride[1]),
        ) else {
            return Ok(None);
        };
        if y_stride < width || uv_stride < chroma_extent(width) {
            return Ok(None);
        }
        let (cw, ch) = (chroma_extent(width), chroma_extent(height));
        let y_len = y_stride * (height - 1) + width;
        let uv_len = uv_stride * (ch - 1) + cw;
        // SAFETY: OpenH264 returned non-null plane pointers for an I420
        // picture of `width`×`height` with these strides; its picture buffer
        // holds at least `height` luma rows and `ceil(height/2)` chroma rows of
        // the given strides (plus padding), and we read no more than the
        // visible part of the last row. The buffer stays untouched until the
        // next call on this decoder, which the `&mut self` borrow carried by
        // the returned frame rules out.
        let planes = unsafe {
            [
                std::slice::from_raw_parts(dst[0].cast_const(), y_len),
                std::slice::from_raw_parts(dst[1].cast_const(), uv_len),
                std::slice::from_raw_parts(dst[2].cast_const(), uv_len),
            ]
        };
        match YuvFrame::new(planes, [y_stride, uv_stride, uv_stride], width, height) {
            Ok(frame) => {
                self.policy.stats.frames += 1;
                Ok(Some(frame))
            }
            Err(_) => Ok(None),
        }
    }

    fn take_keyframe_request(&mut self) -> bool {
        self.policy.take_request()
    }

    fn stats(&self) -> DecoderStats {
        self.policy.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_first_slice() {
        let sps_pps_idr = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 1, 0x65, 9];
        assert_eq!(classify_access_unit(&sps_pps_idr), SliceKind::Idr);
        assert_eq!(
            classify_access_unit(&[0, 0, 1, 0x41, 7, 7]),
            SliceKind::NonIdr
        );
        assert_eq!(classify_access_unit(&[0, 0, 1, 0x67, 7]), SliceKind::None);
        assert_eq!(classify_access_unit(&[0, 0, 1]), SliceKind::None);
        assert_eq!(classify_access_unit(&[]), SliceKind::None);
    }
}

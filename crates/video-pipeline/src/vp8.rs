//! In-process VP8 decoding through the system libvpx (`env-libvpx-sys`
//! bindings, pre-generated for libvpx 1.12, so no bindgen at build time).
//!
//! This module owns the only libvpx calls in the crate, hence the local
//! `unsafe_code` allowance; every block states why it is sound.
#![allow(unsafe_code)]

use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_uint};
use std::ptr::null_mut;

use vpx_sys as vpx;

use crate::decoder::{DecoderStats, ErrorPolicy, VideoDecoder};
use crate::error::{Codec, Result, VideoError};
use crate::frame::{YuvFrame, chroma_extent};

/// True when a VP8 frame's 3-byte frame tag marks a keyframe (bit 0 of the
/// first byte is 0 for key frames, RFC 6386 §9.1).
#[must_use]
pub fn is_vp8_keyframe(frame: &[u8]) -> bool {
    frame.first().is_some_and(|b| b & 1 == 0)
}

/// An initialised libvpx VP8 decoding context.
///
/// Boxed so its address never changes between `vpx_codec_dec_init_ver` and
/// `vpx_codec_destroy`: libvpx keeps internal state keyed to the context.
struct Context(Box<vpx::vpx_codec_ctx_t>);

// SAFETY: a libvpx decoder context is plain heap state with no thread
// affinity; it only must not be used from two threads at once, which `&mut`
// access through the owning `Vp8Decoder` guarantees.
unsafe impl Send for Context {}

impl Context {
    fn new() -> Result<Self> {
        // SAFETY: an all-zero vpx_codec_ctx_t is valid (null pointers, a null
        // union pointer, VPX_CODEC_OK = 0 for `err`); it is what C callers pass
        // to the init function.
        let mut ctx: Box<vpx::vpx_codec_ctx_t> =
            Box::new(unsafe { MaybeUninit::zeroed().assume_init() });
        // Single-threaded: the pipeline runs many streams on few cores.
        let cfg = vpx::vpx_codec_dec_cfg_t {
            threads: 1,
            w: 0,
            h: 0,
        };
        // SAFETY: `ctx` is a valid, exclusively owned context; the interface
        // pointer comes from libvpx itself; `cfg` is read during the call only;
        // the ABI version is the one the bindings were generated for.
        let rc = unsafe {
            vpx::vpx_codec_dec_init_ver(
                &raw mut *ctx,
                vpx::vpx_codec_vp8_dx(),
                &raw const cfg,
                0,
                vpx::VPX_DECODER_ABI_VERSION as c_int,
            )
        };
        if rc != vpx::vpx_codec_err_t::VPX_CODEC_OK {
            return Err(VideoError::Init {
                what: "libvpx VP8 decoder",
                detail: format!("vpx_codec_dec_init_ver returned {rc:?}"),
            });
        }
        Ok(Self(ctx))
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: the context was successfully initialised in `new` (otherwise
        // no `Context` exists) and is destroyed exactly once, here.
        unsafe {
            vpx::vpx_codec_destroy(&raw mut *self.0);
        }
    }
}

/// A persistent libvpx VP8 decoder for one video stream.
///
/// Feed it every VP8 frame in order. Pictures are withheld until a keyframe
/// has been decoded; a keyframe request is raised when inter frames arrive
/// first and when the decoder is reset after
/// [`crate::MAX_CONSECUTIVE_ERRORS`] consecutive errors.
pub struct Vp8Decoder {
    ctx: Context,
    policy: ErrorPolicy,
}

impl std::fmt::Debug for Vp8Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vp8Decoder")
            .field("stats", &self.policy.stats)
            .finish_non_exhaustive()
    }
}

impl Vp8Decoder {
    /// Creates a decoder.
    ///
    /// # Errors
    /// [`VideoError::Init`] if libvpx refuses to initialise.
    pub fn new() -> Result<Self> {
        Ok(Self {
            ctx: Context::new()?,
            policy: ErrorPolicy::new(),
        })
    }

    /// Counts a rejected frame and resets the libvpx context when the
    /// error run reaches the limit ([`ErrorPolicy::reject`]).
    fn fail(&mut self, status: u32) -> VideoError {
        self.policy
            .reject(Codec::Vp8, status, &mut self.ctx, Context::new)
    }
}

impl VideoDecoder for Vp8Decoder {
    fn codec(&self) -> Codec {
        Codec::Vp8
    }

    fn decode(&mut self, access_unit: &[u8]) -> Result<Option<YuvFrame<'_>>> {
        let admitted =
            self.policy
                .admit::<c_uint, _>(Codec::Vp8, access_unit, &mut self.ctx, Context::new)?;
        let Some(len) = admitted else {
            return Ok(None);
        };
        let keyframe = is_vp8_keyframe(access_unit);
        if !keyframe && !self.policy.seen_keyframe() {
            // libvpx would reject it anyway; ask for a keyframe and skip.
            self.policy.need_keyframe();
            return Ok(None);
        }
        // SAFETY: the context is initialised and exclusively borrowed;
        // `access_unit` is valid for `len` bytes and only read during the
        // call; no user_priv; deadline 0 = best quality / no deadline.
        let rc = unsafe {
            vpx::vpx_codec_decode(
                &raw mut *self.ctx.0,
                access_unit.as_ptr(),
                len,
                null_mut(),
                0,
            )
        };
        if rc != vpx::vpx_codec_err_t::VPX_CODEC_OK {
            return Err(self.fail(rc as u32));
        }
        self.policy.success();
        if keyframe {
            self.policy.keyframe_decoded();
        }

        // VP8 yields at most one picture per compressed frame; take the last
        // one the iterator offers.
        let mut iter: vpx::vpx_codec_iter_t = std::ptr::null();
        let mut image: *const vpx::vpx_image_t = std::ptr::null();
        loop {
            // SAFETY: initialised, exclusively borrowed context; `iter`
            // starts null as the API requires and is only touched by libvpx.
            let next = unsafe { vpx::vpx_codec_get_frame(&raw mut *self.ctx.0, &raw mut iter) };
            if next.is_null() {
                break;
            }
            image = next.cast_const();
        }
        // SAFETY: a non-null image returned by vpx_codec_get_frame points to a
        // vpx_image_t owned by the context and valid until the next decode
        // call; we copy its header fields out.
        let Some(img) = (unsafe { image.as_ref() }) else {
            return Ok(None);
        };
        if img.fmt != vpx::vpx_img_fmt::VPX_IMG_FMT_I420
            || img.x_chroma_shift != 1
            || img.y_chroma_shift != 1
        {
            return Ok(None);
        }
        let as_len = |v: c_int| usize::try_from(v).ok().filter(|&v| v > 0);
        let (Ok(width), Ok(height)) = (usize::try_from(img.d_w), usize::try_from(img.d_h)) else {
            return Ok(None);
        };
        let (Some(ys), Some(us), Some(vs)) = (
            as_len(img.stride[0]),
            as_len(img.stride[1]),
            as_len(img.stride[2]),
        ) else {
            return Ok(None);
        };
        let (cw, ch) = (chroma_extent(width), chroma_extent(height));
        if width == 0
            || height == 0
            || ys < width
            || us < cw
            || vs < cw
            || img.planes[..3].iter().any(|p| p.is_null())
        {
            return Ok(None);
        }
        // SAFETY: libvpx describes an I420 image of `d_w`×`d_h` visible
        // pixels with these positive strides and non-null planes; each plane
        // holds at least its visible rows at its stride (libvpx allocates
        // aligned, padded frame buffers). We read no more than the visible
        // part of the last row. The memory belongs to the context and stays
        // valid until the next call on it, which the `&mut self` borrow held
        // by the returned frame prevents.
        let planes = unsafe {
            [
                std::slice::from_raw_parts(img.planes[0].cast_const(), ys * (height - 1) + width),
                std::slice::from_raw_parts(img.planes[1].cast_const(), us * (ch - 1) + cw),
                std::slice::from_raw_parts(img.planes[2].cast_const(), vs * (ch - 1) + cw),
            ]
        };
        match YuvFrame::new(planes, [ys, us, vs], width, height) {
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

//! VP8 encoding of any [`FrameSource`](crate::FrameSource) through the
//! system libvpx (behind a [`VideoStream`]), for
//! simulated participants that stream VP8 (Discord clients may send VP8:
//! user-docs list it among the available video codecs).
//!
//! This module owns the crate's only libvpx calls, hence the local
//! `unsafe_code` allowance; every block states why it is sound.
#![allow(unsafe_code)]

use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_ulong};
use std::ptr::null;

use vpx_sys as vpx;

use crate::video::{PictureEncoder, VideoEncoderConfig, VideoStream};
use crate::{I420Frame, SimMediaError};

/// Encoder parameters of a [`Vp8Stream`] (`content` is only carried along).
pub type Vp8Config = VideoEncoderConfig;

/// A [`FrameSource`](crate::FrameSource) encoded to VP8 frames (one frame
/// per call, realtime one-pass CBR, no lag, single-threaded, deterministic
/// for a source). [`EncodedFrame::annexb`](crate::EncodedFrame::annexb)
/// holds the raw VP8 frame.
pub type Vp8Stream<S> = VideoStream<S, Vp8Encoder>;

/// An initialised libvpx VP8 encoder context, boxed so its address never
/// changes between init and destroy.
struct Context(Box<vpx::vpx_codec_ctx_t>);

// SAFETY: a libvpx encoder context is heap state without thread affinity;
// `&mut` access through the owning `Vp8Encoder` prevents concurrent use.
unsafe impl Send for Context {}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: a `Context` exists only after a successful init, and is
        // destroyed exactly once, here.
        unsafe {
            vpx::vpx_codec_destroy(&raw mut *self.0);
        }
    }
}

/// The libvpx VP8 encoder behind a [`Vp8Stream`].
pub struct Vp8Encoder {
    ctx: Context,
    width: u32,
    height: u32,
    /// Contiguous I420 copy of the source picture handed to libvpx.
    scratch: Vec<u8>,
}

fn encoder_error(what: &str, rc: vpx::vpx_codec_err_t) -> SimMediaError {
    SimMediaError::Encoder(format!("libvpx VP8 {what} returned {rc:?}"))
}

impl PictureEncoder for Vp8Encoder {
    const STREAM_NAME: &'static str = "Vp8Stream";

    fn open(
        config: &VideoEncoderConfig,
        width: u32,
        height: u32,
        fps: u32,
    ) -> Result<Self, SimMediaError> {
        // SAFETY: an all-zero config is a valid destination for libvpx to
        // fill; the interface pointer comes from libvpx itself.
        let mut cfg: vpx::vpx_codec_enc_cfg_t = unsafe { MaybeUninit::zeroed().assume_init() };
        let rc =
            unsafe { vpx::vpx_codec_enc_config_default(vpx::vpx_codec_vp8_cx(), &raw mut cfg, 0) };
        if rc != vpx::vpx_codec_err_t::VPX_CODEC_OK {
            return Err(encoder_error("config_default", rc));
        }
        cfg.g_w = width;
        cfg.g_h = height;
        cfg.g_timebase = vpx::vpx_rational {
            num: 1,
            den: fps as c_int,
        };
        cfg.g_threads = 1;
        cfg.g_lag_in_frames = 0;
        cfg.g_pass = vpx::vpx_enc_pass::VPX_RC_ONE_PASS;
        cfg.rc_end_usage = vpx::vpx_rc_mode::VPX_CBR;
        cfg.rc_target_bitrate = (config.bitrate_bps / 1000).max(1);
        if config.keyframe_interval > 0 {
            cfg.kf_mode = vpx::vpx_kf_mode::VPX_KF_AUTO;
            cfg.kf_max_dist = config.keyframe_interval;
        } else {
            cfg.kf_mode = vpx::vpx_kf_mode::VPX_KF_DISABLED;
        }
        // SAFETY: as for the config above, an all-zero context is what C
        // callers pass to init.
        let mut ctx: Box<vpx::vpx_codec_ctx_t> =
            Box::new(unsafe { MaybeUninit::zeroed().assume_init() });
        // SAFETY: `ctx` is exclusively owned and boxed (stable address);
        // `cfg` is read during the call only; the ABI version is the one the
        // bindings were generated for.
        let rc = unsafe {
            vpx::vpx_codec_enc_init_ver(
                &raw mut *ctx,
                vpx::vpx_codec_vp8_cx(),
                &raw const cfg,
                0,
                vpx::VPX_ENCODER_ABI_VERSION as c_int,
            )
        };
        if rc != vpx::vpx_codec_err_t::VPX_CODEC_OK {
            return Err(encoder_error("enc_init", rc));
        }
        Ok(Self {
            ctx: Context(ctx),
            width,
            height,
            scratch: Vec::new(),
        })
    }

    fn encode(
        &mut self,
        picture: &I420Frame,
        frame_index: u64,
        _fps: u32,
        force_keyframe: bool,
    ) -> Result<(Vec<u8>, bool), SimMediaError> {
        let (w, h) = (self.width, self.height);
        self.scratch.clear();
        self.scratch.extend_from_slice(picture.y_plane());
        self.scratch.extend_from_slice(picture.u_plane());
        self.scratch.extend_from_slice(picture.v_plane());
        // SAFETY: zeroed image is the destination vpx_img_wrap fills; the
        // scratch buffer holds exactly w*h + 2*(w/2*h/2) bytes of I420 with
        // stride w (sources have even sizes) and outlives the encode call.
        let mut img: vpx::vpx_image_t = unsafe { MaybeUninit::zeroed().assume_init() };
        let wrapped = unsafe {
            vpx::vpx_img_wrap(
                &raw mut img,
                vpx::vpx_img_fmt::VPX_IMG_FMT_I420,
                w,
                h,
                1,
                self.scratch.as_mut_ptr(),
            )
        };
        if wrapped.is_null() {
            return Err(SimMediaError::Encoder("vpx_img_wrap failed".to_owned()));
        }
        let flags = if force_keyframe {
            vpx::VPX_EFLAG_FORCE_KF as vpx::vpx_enc_frame_flags_t
        } else {
            0
        };
        // SAFETY: context initialised in `new`; `img` points into scratch,
        // valid for the call; pts/duration are plain integers.
        let rc = unsafe {
            vpx::vpx_codec_encode(
                &raw mut *self.ctx.0,
                &raw const img,
                frame_index as vpx::vpx_codec_pts_t,
                1,
                flags,
                vpx::VPX_DL_REALTIME as c_ulong,
            )
        };
        if rc != vpx::vpx_codec_err_t::VPX_CODEC_OK {
            return Err(encoder_error("encode", rc));
        }
        let mut data = Vec::new();
        let mut keyframe = false;
        let mut iter: vpx::vpx_codec_iter_t = null();
        loop {
            // SAFETY: the iterator protocol of libvpx: `iter` starts null
            // and is advanced by the call; packets stay valid until the next
            // encode call, and are copied out at once.
            let pkt = unsafe { vpx::vpx_codec_get_cx_data(&raw mut *self.ctx.0, &raw mut iter) };
            if pkt.is_null() {
                break;
            }
            // SAFETY: non-null packet from libvpx; `frame` is the active
            // union member for VPX_CODEC_CX_FRAME_PKT, whose buf/sz describe
            // a live buffer of sz bytes.
            unsafe {
                if (*pkt).kind == vpx::vpx_codec_cx_pkt_kind::VPX_CODEC_CX_FRAME_PKT {
                    let f = (*pkt).data.frame;
                    if !f.buf.is_null() {
                        data.extend_from_slice(std::slice::from_raw_parts(
                            f.buf.cast::<u8>(),
                            f.sz as usize,
                        ));
                    }
                    keyframe |= f.flags & vpx::VPX_FRAME_IS_KEY != 0;
                }
            }
        }
        Ok((data, keyframe))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CameraConfig, CameraSource, ScreenConfig, ScreenSource};

    #[test]
    fn first_frame_and_forced_frames_are_keyframes() {
        let mut c = ScreenConfig::new(640, 360);
        c.fps = 15;
        let src = ScreenSource::new(c).unwrap();
        let mut s = Vp8Stream::new(src, Vp8Config::screen()).unwrap();
        let f0 = s.next_frame(0).unwrap();
        assert!(f0.keyframe);
        // RFC 6386 §9.1: key frame tag bit 0 = 0, then the start code and
        // the 14-bit width/height.
        assert_eq!(f0.annexb[0] & 1, 0);
        assert_eq!(&f0.annexb[3..6], &[0x9d, 0x01, 0x2a]);
        assert_eq!(
            u16::from_le_bytes([f0.annexb[6], f0.annexb[7]]) & 0x3fff,
            640
        );
        assert_eq!(
            u16::from_le_bytes([f0.annexb[8], f0.annexb[9]]) & 0x3fff,
            360
        );
        let f1 = s.next_frame(1).unwrap();
        assert!(!f1.keyframe);
        assert_eq!(f1.annexb[0] & 1, 1);
        assert_eq!(f1.pts_90khz, 6000);
        s.force_keyframe();
        assert!(s.next_frame(2).unwrap().keyframe);
        assert!(!s.next_frame(3).unwrap().keyframe);
    }

    #[test]
    fn camera_and_bad_config() {
        let src = CameraSource::new(CameraConfig::new(320, 180)).unwrap();
        let mut cfg = Vp8Config::camera();
        cfg.bitrate_bps = 0;
        assert!(Vp8Stream::new(src, cfg).unwrap_err().is_config_error());
        let src = CameraSource::new(CameraConfig::new(320, 180)).unwrap();
        let mut s = Vp8Stream::new(src, Vp8Config::camera()).unwrap();
        assert!(s.next_frame(0).unwrap().keyframe);
    }
}

//! The crate's single error type and its recovery policy.

use std::fmt;

/// Which video codec a decoder handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// H.264 (Annex-B access units), decoded by OpenH264.
    H264,
    /// VP8 (one compressed frame per access unit), decoded by libvpx.
    Vp8,
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::H264 => "H264",
            Self::Vp8 => "VP8",
        })
    }
}

/// Everything that can go wrong in this crate.
///
/// Decode errors are normal on a lossy network; the caller decides what to do
/// through [`VideoError::should_request_keyframe`] and [`VideoError::is_fatal`]
/// rather than by inspecting messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VideoError {
    /// The native decoder or JPEG codec could not be created.
    #[error("{what} initialisation failed: {detail}")]
    Init {
        /// Which component failed ("OpenH264 decoder", "libvpx VP8 decoder", ...).
        what: &'static str,
        /// The native library's message.
        detail: String,
    },
    /// The decoder rejected an access unit.
    #[error("{codec} decode failed (native status {status:#x}){}", if *.decoder_reset { ", decoder reset" } else { "" })]
    Decode {
        /// Codec of the failing decoder.
        codec: Codec,
        /// Native status (OpenH264 `DECODING_STATE` bits, or libvpx `vpx_codec_err_t`).
        status: u32,
        /// True when this error pushed the consecutive-error count over the
        /// limit and the decoder was replaced by a fresh instance.
        decoder_reset: bool,
    },
    /// An access unit larger than the decoder accepts.
    #[error("access unit of {len} bytes exceeds the {max}-byte limit")]
    AccessUnitTooLarge {
        /// Size of the rejected access unit.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Plane sizes, strides or dimensions do not describe a valid I420 image.
    #[error("invalid I420 frame: {0}")]
    InvalidFrame(&'static str),
    /// turbojpeg failed to encode.
    #[error("JPEG encode failed: {0}")]
    JpegEncode(String),
    /// An incoming JPEG could not be decoded.
    #[error("JPEG decode failed: {0}")]
    JpegDecode(String),
    /// An incoming JPEG declares dimensions beyond what we agree to decode.
    #[error("JPEG of {width}x{height} exceeds the {max}-pixel side limit")]
    JpegTooLarge {
        /// Declared width.
        width: usize,
        /// Declared height.
        height: usize,
        /// Largest accepted side.
        max: usize,
    },
}

impl VideoError {
    /// True when the sender should be asked for a keyframe (PLI / OP15
    /// reassertion) because the decoder cannot make progress without one.
    #[must_use]
    pub fn should_request_keyframe(&self) -> bool {
        matches!(self, Self::Decode { .. } | Self::AccessUnitTooLarge { .. })
    }

    /// True when the pipeline that produced this error cannot continue and
    /// should be dropped; every other error affects one frame only.
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::Init { .. })
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = VideoError> = std::result::Result<T, E>;

//! Everything `mediad` does with pixels: video decode (OpenH264 for H264,
//! libvpx for VP8), visual change metrics, per-subscriber frame-rate gating,
//! downscaling and JPEG encoding. No sockets, no async, no clock reads: the
//! caller passes time in.
//!
//! # How to drive it
//! One [`FramePipeline`] per (video stream, subscriber):
//! 1. Create it with [`FramePipeline::h264`] / [`FramePipeline::vp8`] (or
//!    [`FramePipeline::new`] over any [`VideoDecoder`], e.g. [`FakeDecoder`])
//!    and the subscriber's [`PipelineSettings`].
//! 2. For **every** reassembled access unit of the stream, in order, call
//!    [`FramePipeline::push`] with its capture/receive time. `Ok(Some(frame))`
//!    is an [`EmittedFrame`] to send; `Ok(None)` means the picture was gated
//!    out or not ready; `Err` is a per-frame problem unless
//!    [`VideoError::is_fatal`].
//! 3. After each push, poll [`FramePipeline::take_keyframe_request`]; on true
//!    send a PLI / reassert OP15 (rate-limited on the caller's side).
//! 4. Drop the pipeline when the stream or subscription goes away: decoders
//!    are per stream, never per user, and are freed with it.
//!
//! Settings changes ([`FramePipeline::set_settings`]) apply to the next
//! access unit. The stages are also public on their own ([`H264Decoder`],
//! [`LumaGrid`], [`ChangeTracker`], [`FrameGate`], [`Scaler`],
//! [`JpegEncoder`]) and [`FramePipeline::push_probed`] reports stage
//! boundaries to a [`StageProbe`], so a benchmark can time each stage.
//!
//! # Why it is shaped this way
//! - **Gate before pixels.** Every access unit must be decoded to keep
//!   reference state, but at the default 2 fps only one picture in fifteen
//!   is shown. The gate is consulted right after decoding, before any
//!   scaling or JPEG work; the only per-frame pixel cost is the luma grid.
//! - **No copies, no RGB.** Decoders lend their picture buffer as a
//!   [`YuvFrame`]; the scaler works on I420 planes and turbojpeg encodes
//!   I420 planes directly. A picture that already fits the pixel budget is
//!   encoded straight from the decoder's buffer.
//! - **Metrics on every decoded frame, reported per emission.** The grid is
//!   scored against both the previous decoded frame and the last emitted
//!   one, so a cut between two emissions is never lost (see
//!   [`EmissionChange`] for exactly what an emitted frame reports).
//! - **Error policy in the decoder.** Concealed pictures are shown (as the
//!   reference does) but raise one keyframe request per episode;
//!   [`MAX_CONSECUTIVE_ERRORS`] rejected access units in a row replace the
//!   native decoder and request a keyframe.
//!
//! Only `h264.rs` and `vp8.rs` contain `unsafe` (FFI), each block justified.

mod decoder;
mod encode;
mod error;
mod fake;
mod frame;
mod gate;
mod h264;
mod jpeg;
mod metrics;
mod pipeline;
mod scale;
mod vp8;

pub use decoder::{DecoderStats, MAX_ACCESS_UNIT_BYTES, MAX_CONSECUTIVE_ERRORS, VideoDecoder};
pub use encode::{EncodedPicture, EncoderSettings, InputFormat, PublishEncoder};
pub use error::{Codec, Result, VideoError};
pub use fake::FakeDecoder;
pub use frame::{MAX_DIMENSION, YuvBuffer, YuvFrame, chroma_extent};
pub use gate::{DEFAULT_MAX_FPS, FrameGate, MAX_FPS_RANGE};
pub use h264::H264Decoder;
pub use jpeg::{DEFAULT_JPEG_QUALITY, JpegEncoder, JpegGridScorer, clamp_quality, score_jpeg};
pub use metrics::{
    ChangeTracker, EMA_ALPHA, EmissionChange, FrameChange, GRID_CELLS, GRID_COLS, GRID_ROWS,
    LumaGrid, ROW_SAMPLING_MIN_ROWS, SCENE_CUT_THRESHOLD,
};
pub use pipeline::{
    EmittedFrame, FramePipeline, NoProbe, PipelineCounters, PipelineSettings, Stage, StageProbe,
};
pub use scale::{DEFAULT_MAX_PIXELS, MIN_MAX_PIXELS, Scaler, fit_dimensions};
pub use vp8::{Vp8Decoder, is_vp8_keyframe};

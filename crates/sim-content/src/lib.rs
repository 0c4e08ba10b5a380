//! Synthetic media for the offline Discord simulator: what simulated
//! participants send. Pure: no sockets, no threads, no clock reads, no
//! global randomness — every picture and packet is a function of a seed and
//! a frame or packet index that the caller passes in. One exception:
//! [`synthesize`] runs espeak-ng as a subprocess (blocking; call it off
//! async tasks).
//!
//! # How to drive it
//!
//! Video (Go Live screen share or webcam):
//! 1. Build a source: [`ScreenSource::new`]`(`[`ScreenConfig`]`)` or
//!    [`CameraSource::new`]`(`[`CameraConfig`]`)`. Both implement
//!    [`FrameSource`]: `render(frame_index)` returns an [`I420Frame`].
//! 2. Wrap it: [`H264Stream::new`]`(source, `[`H264Config::screen`]`())`
//!    (aliases [`H264ScreenStream`], [`H264CameraStream`]).
//! 3. Every `1/fps` seconds of *your* clock call
//!    [`H264Stream::next_frame`]`(n)` with `n = 0, 1, 2, …` and packetize
//!    [`EncodedFrame::annexb`] with timestamp [`EncodedFrame::pts_90khz`].
//!    On a PLI/FIR call [`H264Stream::force_keyframe`]; the next frame is an
//!    IDR with SPS/PPS.
//!
//! The screen source also answers "what should a viewer see":
//! [`ScreenSource::text_at`] lists the visible lines (to check OCR output)
//! and [`ScreenSource::scene_at`] says which scene a frame belongs to (to
//! check scene-change detection).
//!
//! Audio: [`OpusSpeaker::packets_for`]`(duration_ms)` returns 20 ms Opus
//! packets for a speaking period; advance the RTP timestamp by
//! [`OPUS_TIMESTAMP_STEP`] (960) per packet and end with
//! [`OpusSpeaker::silence_tail`].
//!
//! Spoken lines: [`synthesize`]`(text, &SpeechVoice::default())` (espeak-ng,
//! resampled to 48 kHz by `rubato`) then [`encode_line`] (libopus, 20 ms
//! stereo packets). [`OpusMonoDecoder`] decodes what clients send;
//! [`wav_mono_s16`] writes recordings.
//!
//! # Why it looks like this
//! - Screen text uses an embedded 5×7 bitmap font drawn in solid scaled
//!   pixels (×2 at 360p, ×3 at 720p, ×4 at 1080p): crisp edges on flat
//!   backgrounds are what real screen shares look like and what OCR reads
//!   best.
//! - The screen buffer persists and only changed regions are repainted, so
//!   1280×720 at 30 fps renders and encodes in real time on one core;
//!   repainted regions are drawn completely from the frame index, so the
//!   picture never depends on the order frames were requested in.
//! - The encoder is single-threaded, constrained baseline, no frame
//!   skipping, no scene-change IDRs: output is deterministic and every
//!   `next_frame` call yields one access unit, like a WebRTC sender.
//! - The looping fixture voices are embedded libopus output (no encoding
//!   at run time); spoken lines are encoded live with libopus (the `opus`
//!   crate, built from source), in stereo as Discord clients send.
//! - VP8 too: [`Vp8Stream`] wraps any source in the system libvpx
//!   (realtime CBR, one thread, no lag), because Discord streamers may send
//!   VP8 and may switch codec mid-stream. Both streams are one
//!   [`VideoStream`] (parameter checks, keyframe requests, timestamps) over
//!   a [`PictureEncoder`] per codec.
//!
//! # Errors
//! One error type, [`SimMediaError`]; configuration mistakes are reported by
//! constructors ([`SimMediaError::is_config_error`]), never by panics.

mod camera;
mod error;
mod font;
mod frame;
mod h264;
mod opus;
mod opus_codec;
mod rng;
mod screen;
mod source;
mod speech;
mod video;
mod vp8;
mod wav;

pub use camera::{CameraConfig, CameraSource};
pub use error::SimMediaError;
pub use frame::{I420Frame, Rgb, Yuv};
pub use h264::{
    H264CameraStream, H264Config, H264Encoder, H264ScreenStream, H264Stream, nal_unit_types,
};
pub use opus::{
    OPUS_CLOCK_RATE, OPUS_FRAME_MS, OPUS_SILENCE_FRAME, OPUS_TIMESTAMP_STEP, OpusSpeaker,
    OpusVoice, SILENCE_TAIL_FRAMES,
};
pub use opus_codec::{FRAME_SAMPLES, LINE_BITRATE, OpusMonoDecoder, encode_line};
pub use screen::{SceneInfo, ScreenConfig, ScreenScene, ScreenSource};
pub use source::FrameSource;
pub use speech::{MAX_LINE_CHARS, SpeechVoice, check_line_text, resample_to_48k, synthesize};
pub use video::{
    ContentKind, EncodedFrame, PictureEncoder, VIDEO_CLOCK_RATE, VideoEncoderConfig, VideoStream,
};
pub use vp8::{Vp8Config, Vp8Encoder, Vp8Stream};
pub use wav::{WAV_HEADER_LEN, WavPcm, parse_wav_s16, wav_mono_s16};

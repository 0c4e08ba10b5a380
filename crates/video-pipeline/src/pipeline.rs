//! Per-stream, per-subscriber frame pipeline: decode → metrics → gate →
//! scale → JPEG.

use std::time::Duration;

use crate::decoder::{DecoderStats, VideoDecoder};
use crate::error::Result;
use crate::gate::{DEFAULT_MAX_FPS, FrameGate};
use crate::h264::H264Decoder;
use crate::jpeg::{DEFAULT_JPEG_QUALITY, JpegEncoder, clamp_quality};
use crate::metrics::{ChangeTracker, FrameChange, LumaGrid};
use crate::scale::{DEFAULT_MAX_PIXELS, Scaler, fit_dimensions};
use crate::vp8::Vp8Decoder;

/// What a subscriber asked for. Changes apply from the next access unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PipelineSettings {
    /// Maximum emitted frames per second (clamped, see [`crate::MAX_FPS_RANGE`]).
    pub max_fps: f32,
    /// Pixel budget for emitted frames (aspect kept, never upscaled).
    pub max_pixels: u32,
    /// JPEG quality, clamped to 10–100.
    pub jpeg_quality: u8,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            max_fps: DEFAULT_MAX_FPS,
            max_pixels: DEFAULT_MAX_PIXELS,
            jpeg_quality: DEFAULT_JPEG_QUALITY,
        }
    }
}

/// A frame that passed the gate, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct EmittedFrame {
    /// Baseline 4:2:0 JPEG.
    pub jpeg: Vec<u8>,
    /// JPEG width.
    pub width: u32,
    /// JPEG height.
    pub height: u32,
    /// Decoded picture width before scaling.
    pub source_width: u32,
    /// Decoded picture height before scaling.
    pub source_height: u32,
    /// Change against the previously **emitted** frame, in `[0, 1]`
    /// (0 for the first emission).
    pub change_score: f32,
    /// EMA (α = 0.35) of `change_score` over emitted frames.
    pub ema_score: f32,
    /// A scene cut happened since the previous emission, either between two
    /// decoded frames the gate dropped or against the previous emission.
    pub scene_cut: bool,
    /// Largest decoded-frame-to-decoded-frame change since the previous
    /// emission, this frame included.
    pub peak_frame_change: f32,
    /// The `now` the access unit was pushed with.
    pub captured_at: Duration,
}

/// Counters since the pipeline was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PipelineCounters {
    /// Access units pushed.
    pub access_units: u64,
    /// Pictures the decoder produced (all of them update the metrics).
    pub decoded: u64,
    /// Pictures emitted as JPEG.
    pub emitted: u64,
    /// Pictures dropped by the rate gate before any pixel work.
    pub gated: u64,
    /// Access units the decoder rejected.
    pub decode_errors: u64,
    /// Keyframe requests handed to the caller.
    pub keyframe_requests: u64,
    /// Frames that passed the gate but failed to scale or encode.
    pub encode_errors: u64,
}

/// The processing steps, reported to a [`StageProbe`] as each one finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Native decode of the access unit.
    Decode,
    /// Luma grid and change tracking (every decoded frame).
    Metrics,
    /// Rate-gate decision.
    Gate,
    /// Downscaling (reported even when no scaling was needed).
    Scale,
    /// JPEG encoding.
    Jpeg,
}

/// Observer of stage boundaries. The pipeline reads no clock; a benchmark
/// implements this (e.g. a closure taking `Instant::now()`) to measure each
/// stage's share, e.g. the JPEG stage's.
pub trait StageProbe {
    /// Called right after `stage` finished for the current access unit.
    fn stage_done(&mut self, stage: Stage);
}

impl<F: FnMut(Stage)> StageProbe for F {
    fn stage_done(&mut self, stage: Stage) {
        self(stage);
    }
}

/// Probe that ignores everything (what [`FramePipeline::push`] uses).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProbe;

impl StageProbe for NoProbe {
    fn stage_done(&mut self, _stage: Stage) {}
}

/// Decode → metrics → gate → scale → JPEG for one stream and one
/// subscriber's settings.
///
/// Every access unit is decoded (reference state) and every decoded picture
/// updates the change metrics, but only pictures the gate admits are scaled
/// and encoded; pictures that already fit the pixel budget go to the encoder
/// straight from the decoder's buffer.
pub struct FramePipeline {
    decoder: Box<dyn VideoDecoder>,
    settings: PipelineSettings,
    gate: FrameGate,
    tracker: ChangeTracker,
    scaler: Scaler,
    encoder: JpegEncoder,
    counters: PipelineCounters,
    last_change: Option<FrameChange>,
}

impl std::fmt::Debug for FramePipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FramePipeline")
            .field("codec", &self.decoder.codec())
            .field("settings", &self.settings)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl FramePipeline {
    /// A pipeline over any decoder (real or fake).
    ///
    /// # Errors
    /// [`crate::VideoError::Init`] if the JPEG encoder cannot be created.
    pub fn new(decoder: Box<dyn VideoDecoder>, settings: PipelineSettings) -> Result<Self> {
        Ok(Self {
            decoder,
            settings,
            gate: FrameGate::new(settings.max_fps),
            tracker: ChangeTracker::new(),
            scaler: Scaler::new(),
            encoder: JpegEncoder::new()?,
            counters: PipelineCounters::default(),
            last_change: None,
        })
    }

    /// A pipeline with a fresh [`H264Decoder`].
    ///
    /// # Errors
    /// [`crate::VideoError::Init`] if OpenH264 or turbojpeg cannot be initialised.
    pub fn h264(settings: PipelineSettings) -> Result<Self> {
        Self::new(Box::new(H264Decoder::new()?), settings)
    }

    /// A pipeline with a fresh [`Vp8Decoder`].
    ///
    /// # Errors
    /// [`crate::VideoError::Init`] if libvpx or turbojpeg cannot be initialised.
    pub fn vp8(settings: PipelineSettings) -> Result<Self> {
        Self::new(Box::new(Vp8Decoder::new()?), settings)
    }

    /// Current settings.
    #[must_use]
    pub const fn settings(&self) -> PipelineSettings {
        self.settings
    }

    /// Replaces the settings; they apply from the next access unit.
    pub fn set_settings(&mut self, settings: PipelineSettings) {
        self.gate.set_max_fps(settings.max_fps);
        self.settings = PipelineSettings {
            jpeg_quality: clamp_quality(settings.jpeg_quality),
            ..settings
        };
    }

    /// Pushes one access unit captured at `now` (any monotonic origin:
    /// receive time or RTP time converted to a `Duration`).
    ///
    /// Returns the emitted frame if this picture passed the gate.
    ///
    /// # Errors
    /// Decode errors (see [`crate::VideoError::should_request_keyframe`]; the
    /// pipeline stays usable), encode errors (this frame only), and
    /// [`crate::VideoError::Init`] if a decoder reset failed (fatal).
    pub fn push(&mut self, access_unit: &[u8], now: Duration) -> Result<Option<EmittedFrame>> {
        self.push_probed(access_unit, now, &mut NoProbe)
    }

    /// [`push`](Self::push), reporting each stage boundary to `probe`.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn push_probed(
        &mut self,
        access_unit: &[u8],
        now: Duration,
        probe: &mut impl StageProbe,
    ) -> Result<Option<EmittedFrame>> {
        self.counters.access_units += 1;
        let decoded = self.decoder.decode(access_unit);
        probe.stage_done(Stage::Decode);
        let frame = match decoded {
            Ok(Some(frame)) => frame,
            Ok(None) => return Ok(None),
            Err(e) => {
                self.counters.decode_errors += 1;
                return Err(e);
            }
        };
        self.counters.decoded += 1;

        self.last_change = Some(self.tracker.observe(LumaGrid::from_frame(&frame)));
        probe.stage_done(Stage::Metrics);

        let admitted = self.gate.would_admit(now);
        probe.stage_done(Stage::Gate);
        if !admitted {
            self.counters.gated += 1;
            return Ok(None);
        }

        let (source_width, source_height) = (frame.width(), frame.height());
        let (w, h) = fit_dimensions(source_width, source_height, self.settings.max_pixels);
        let quality = self.settings.jpeg_quality;
        let encoded = if (w, h) == (source_width, source_height) {
            probe.stage_done(Stage::Scale);
            self.encoder.encode(&frame, quality)
        } else {
            match self.scaler.scale(&frame, w, h) {
                Ok(scaled) => {
                    probe.stage_done(Stage::Scale);
                    self.encoder.encode(&scaled, quality)
                }
                Err(e) => Err(e),
            }
        };
        probe.stage_done(Stage::Jpeg);
        let jpeg = encoded.inspect_err(|_| self.counters.encode_errors += 1)?;

        self.gate.record_emission(now);
        let change = self.tracker.commit_emission();
        self.counters.emitted += 1;
        let to_u32 = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Ok(Some(EmittedFrame {
            jpeg,
            width: to_u32(w),
            height: to_u32(h),
            source_width: to_u32(source_width),
            source_height: to_u32(source_height),
            change_score: change.change_score,
            ema_score: change.ema_score,
            scene_cut: change.scene_cut,
            peak_frame_change: change.peak_frame_change,
            captured_at: now,
        }))
    }

    /// True once per keyframe request raised by the decoder since the last
    /// call; turn it into a PLI / OP15 reassertion (rate-limit on your side).
    pub fn take_keyframe_request(&mut self) -> bool {
        let request = self.decoder.take_keyframe_request();
        if request {
            self.counters.keyframe_requests += 1;
        }
        request
    }

    /// Pipeline counters.
    #[must_use]
    pub const fn counters(&self) -> PipelineCounters {
        self.counters
    }

    /// The decoder's own counters (errors, resets, ...).
    #[must_use]
    pub fn decoder_stats(&self) -> DecoderStats {
        self.decoder.stats()
    }

    /// Change metrics of the most recent decoded picture, emitted or not.
    #[must_use]
    pub const fn last_change(&self) -> Option<FrameChange> {
        self.last_change
    }
}

//! What the two video encoders (OpenH264 in `h264.rs`, libvpx VP8 in
//! `vp8.rs`) share: their parameters, the encoded-frame type, and
//! [`VideoStream`], which checks the parameters, feeds a [`FrameSource`]'s
//! pictures to a [`PictureEncoder`], applies keyframe requests and stamps
//! the 90 kHz presentation time.

use crate::{FrameSource, I420Frame, SimMediaError};

/// The RTP clock rate of video (RFC 6184, RFC 7741).
pub const VIDEO_CLOCK_RATE: u32 = 90_000;

/// What kind of picture is encoded; selects OpenH264's tuning (libvpx
/// streams only carry it along).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    /// Screen sharing (OpenH264 `SCREEN_CONTENT_REAL_TIME`).
    Screen,
    /// Camera video (OpenH264 `CAMERA_VIDEO_REAL_TIME`).
    Camera,
}

/// Encoder parameters, the same for both codecs ([`crate::H264Config`]
/// and [`crate::Vp8Config`] are this type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoEncoderConfig {
    /// Target bitrate in bits per second.
    pub bitrate_bps: u32,
    /// A keyframe every this many frames; 0 means only the first frame and
    /// frames after [`VideoStream::force_keyframe`] are keyframes.
    pub keyframe_interval: u32,
    /// Encoder tuning.
    pub content: ContentKind,
}

impl VideoEncoderConfig {
    /// 2.5 Mbit/s, a keyframe every 10 s at 30 fps, screen tuning — roughly
    /// what a 720p Go Live stream carries.
    #[must_use]
    pub fn screen() -> Self {
        Self {
            bitrate_bps: 2_500_000,
            keyframe_interval: 300,
            content: ContentKind::Screen,
        }
    }

    /// 1 Mbit/s, a keyframe every 10 s at 30 fps, camera tuning.
    #[must_use]
    pub fn camera() -> Self {
        Self {
            bitrate_bps: 1_000_000,
            keyframe_interval: 300,
            content: ContentKind::Camera,
        }
    }
}

/// One encoded picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedFrame {
    /// H264: the access unit, NAL units each preceded by a `00 00 00 01`
    /// start code (an IDR access unit starts with SPS and PPS). VP8: the
    /// raw frame (the name is shared; VP8 has no Annex B). Empty only if
    /// the encoder dropped the frame (frame skipping is disabled, so this
    /// is not expected).
    pub annexb: Vec<u8>,
    /// A keyframe (H264: the access unit contains an IDR slice).
    pub keyframe: bool,
    /// The index passed to [`VideoStream::next_frame`].
    pub frame_index: u64,
    /// Presentation time on the 90 kHz RTP clock, `frame_index * 90000 /
    /// fps`, wrapping like an RTP timestamp.
    pub pts_90khz: u32,
}

/// A codec behind a [`VideoStream`].
pub trait PictureEncoder: Sized {
    /// The stream's name in `Debug` output.
    const STREAM_NAME: &'static str;

    /// Builds the encoder for pictures of `width`×`height` at `fps`
    /// (already checked: positive bitrate, `fps` in 1..=240).
    ///
    /// # Errors
    /// [`SimMediaError::Encoder`] if the codec library refuses.
    fn open(
        config: &VideoEncoderConfig,
        width: u32,
        height: u32,
        fps: u32,
    ) -> Result<Self, SimMediaError>;

    /// Encodes one picture, a keyframe if `force_keyframe`; returns the
    /// encoded bytes and whether they are a keyframe.
    ///
    /// # Errors
    /// [`SimMediaError::Encoder`] if the codec library reports a failure.
    fn encode(
        &mut self,
        picture: &I420Frame,
        frame_index: u64,
        fps: u32,
        force_keyframe: bool,
    ) -> Result<(Vec<u8>, bool), SimMediaError>;
}

/// A [`FrameSource`] feeding an encoder: one [`EncodedFrame`] per
/// [`next_frame`](Self::next_frame) call.
pub struct VideoStream<S: FrameSource, E: PictureEncoder> {
    source: S,
    encoder: E,
    config: VideoEncoderConfig,
    /// Set by [`Self::force_keyframe`]; applied to the next encode.
    keyframe_pending: bool,
}

impl<S: FrameSource, E: PictureEncoder> std::fmt::Debug for VideoStream<S, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(E::STREAM_NAME)
            .field("width", &self.source.width())
            .field("height", &self.source.height())
            .field("config", &self.config)
            .field("keyframe_pending", &self.keyframe_pending)
            .finish_non_exhaustive()
    }
}

impl<S: FrameSource, E: PictureEncoder> VideoStream<S, E> {
    /// Creates the encoder for `source`'s size and frame rate.
    ///
    /// # Errors
    /// [`SimMediaError::InvalidConfig`] for a zero bitrate or a source frame
    /// rate outside 1..=240, [`SimMediaError::Encoder`] if the codec
    /// library refuses.
    pub fn new(source: S, config: VideoEncoderConfig) -> Result<Self, SimMediaError> {
        if config.bitrate_bps == 0 {
            return Err(SimMediaError::InvalidConfig("bitrate must be positive"));
        }
        let fps = source.fps();
        if fps == 0 || fps > 240 {
            return Err(SimMediaError::InvalidConfig(
                "source fps must be in 1..=240",
            ));
        }
        let encoder = E::open(&config, source.width(), source.height(), fps)?;
        Ok(Self {
            source,
            encoder,
            config,
            keyframe_pending: false,
        })
    }

    /// The wrapped source (for `text_at`, `scene_at`, ...).
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The encoder parameters.
    pub fn config(&self) -> &VideoEncoderConfig {
        &self.config
    }

    /// Makes the next encoded frame a keyframe (answer to a PLI or FIR).
    pub fn force_keyframe(&mut self) {
        self.keyframe_pending = true;
    }

    /// Renders and encodes `frame_index`. Indices should increase by one
    /// per call for a realistic stream, but any sequence is accepted.
    ///
    /// # Errors
    /// [`SimMediaError::Encoder`] if the codec library reports a failure.
    pub fn next_frame(&mut self, frame_index: u64) -> Result<EncodedFrame, SimMediaError> {
        let fps = self.source.fps().max(1);
        let force = std::mem::take(&mut self.keyframe_pending);
        let picture = self.source.render(frame_index);
        let (annexb, keyframe) = self.encoder.encode(picture, frame_index, fps, force)?;
        Ok(EncodedFrame {
            annexb,
            keyframe,
            frame_index,
            pts_90khz: pts_90khz(frame_index, fps),
        })
    }
}

/// `frame_index / fps` seconds on the 90 kHz clock, wrapping modulo 2^32
/// like an RTP timestamp.
fn pts_90khz(frame_index: u64, fps: u32) -> u32 {
    (u128::from(frame_index) * u128::from(VIDEO_CLOCK_RATE) / u128::from(fps.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pts_is_frame_time_on_the_90khz_clock_and_wraps() {
        assert_eq!(pts_90khz(0, 30), 0);
        assert_eq!(pts_90khz(1, 15), 6000);
        assert_eq!(pts_90khz(30, 30), 90_000);
        assert_eq!(pts_90khz(1, 0), 90_000, "fps 0 is treated as 1");
        // 3000 ticks a frame at 30 fps: frame 1_431_655 is 2296 ticks
        // short of 2^32, the next one has wrapped to 704.
        assert_eq!(pts_90khz(1_431_655, 30), u32::MAX - 2295);
        assert_eq!(pts_90khz(1_431_656, 30), 704);
    }
}

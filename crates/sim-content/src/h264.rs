//! OpenH264 wrapper: any [`FrameSource`] in, Annex-B access units out.

use openh264::OpenH264API;
use openh264::Timestamp;
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Profile,
    RateControlMode, UsageType,
};

use crate::{CameraSource, FrameSource, ScreenSource, SimMediaError};

/// The RTP clock rate of video (RFC 6184).
pub const VIDEO_CLOCK_RATE: u32 = 90_000;

/// What kind of picture is encoded; selects OpenH264's tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    /// Screen sharing (OpenH264 `SCREEN_CONTENT_REAL_TIME`).
    Screen,
    /// Camera video (OpenH264 `CAMERA_VIDEO_REAL_TIME`).
    Camera,
}

/// Encoder parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H264Config {
    /// Target bitrate in bits per second.
    pub bitrate_bps: u32,
    /// An IDR every this many frames; 0 means only the first frame and
    /// frames after [`H264Stream::force_keyframe`] are IDRs.
    pub keyframe_interval: u32,
    /// Encoder tuning.
    pub content: ContentKind,
}

impl H264Config {
    /// 2.5 Mbit/s, an IDR every 10 s at 30 fps, screen tuning — roughly what
    /// a 720p Go Live stream carries.
    #[must_use]
    pub fn screen() -> Self {
        Self {
            bitrate_bps: 2_500_000,
            keyframe_interval: 300,
            content: ContentKind::Screen,
        }
    }

    /// 1 Mbit/s, an IDR every 10 s at 30 fps, camera tuning.
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
    /// The access unit: NAL units each preceded by a `00 00 00 01` start
    /// code. An IDR access unit starts with SPS and PPS. Empty only if the
    /// encoder dropped the frame (frame skipping is disabled, so this is
    /// not expected).
    pub annexb: Vec<u8>,
    /// The access unit contains an IDR slice (NAL type 5).
    pub keyframe: bool,
    /// The index passed to [`H264Stream::next_frame`].
    pub frame_index: u64,
    /// Presentation time on the 90 kHz RTP clock, `frame_index * 90000 /
    /// fps`, wrapping like an RTP timestamp.
    pub pts_90khz: u32,
}

/// A [`FrameSource`] feeding an OpenH264 encoder configured the way a
/// WebRTC sender is: constrained baseline (no B-frames, so decode order is
/// presentation order), one slice per picture, no frame skipping,
/// single-threaded (deterministic output for deterministic input).
pub struct H264Stream<S: FrameSource> {
    source: S,
    encoder: Encoder,
    config: H264Config,
    /// Set by [`Self::force_keyframe`]; applied just before the next encode.
    keyframe_pending: bool,
    /// OpenH264 initialises itself on the first encode; forcing an IDR
    /// before that is pointless (the first picture is an IDR anyway).
    encoded_any: bool,
}

/// H264 stream of a simulated Go Live screen share.
pub type H264ScreenStream = H264Stream<ScreenSource>;
/// H264 stream of a simulated webcam.
pub type H264CameraStream = H264Stream<CameraSource>;

impl<S: FrameSource> std::fmt::Debug for H264Stream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Stream")
            .field("width", &self.source.width())
            .field("height", &self.source.height())
            .field("config", &self.config)
            .field("keyframe_pending", &self.keyframe_pending)
            .finish_non_exhaustive()
    }
}

impl<S: FrameSource> H264Stream<S> {
    /// Creates the encoder for `source`'s size and frame rate.
    ///
    /// # Errors
    /// [`SimMediaError::InvalidConfig`] for a zero bitrate or an out-of-range
    /// source frame rate, [`SimMediaError::Encoder`] if OpenH264 cannot be
    /// created.
    pub fn new(source: S, config: H264Config) -> Result<Self, SimMediaError> {
        if config.bitrate_bps == 0 {
            return Err(SimMediaError::InvalidConfig("bitrate must be positive"));
        }
        let fps = source.fps();
        if fps == 0 || fps > 240 {
            return Err(SimMediaError::InvalidConfig(
                "source fps must be in 1..=240",
            ));
        }
        let usage = match config.content {
            ContentKind::Screen => UsageType::ScreenContentRealTime,
            ContentKind::Camera => UsageType::CameraVideoRealTime,
        };
        // OpenH264 switches these off for screen content anyway (and warns
        // on stderr if asked for them).
        let camera = config.content == ContentKind::Camera;
        let enc_config = EncoderConfig::new()
            .adaptive_quantization(camera)
            .background_detection(camera)
            .profile(Profile::Baseline)
            .bitrate(BitRate::from_bps(config.bitrate_bps))
            .max_frame_rate(FrameRate::from_hz(fps as f32))
            .rate_control_mode(RateControlMode::Bitrate)
            .usage_type(usage)
            .skip_frames(false)
            // Keyframes come only from the interval and from explicit
            // requests, like a WebRTC sender answering PLI/FIR.
            .scene_change_detect(false)
            .intra_frame_period(IntraFramePeriod::from_num_frames(config.keyframe_interval))
            .complexity(Complexity::Low)
            .num_threads(1);
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), enc_config)?;
        Ok(Self {
            source,
            encoder,
            config,
            keyframe_pending: false,
            encoded_any: false,
        })
    }

    /// The wrapped source (for `text_at`, `scene_at`, ...).
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The encoder parameters.
    pub fn config(&self) -> &H264Config {
        &self.config
    }

    /// Makes the next encoded frame an IDR (answer to a PLI or FIR).
    pub fn force_keyframe(&mut self) {
        self.keyframe_pending = true;
    }

    /// Renders and encodes `frame_index`. Indices should increase by one
    /// per call for a realistic stream, but any sequence is accepted.
    ///
    /// # Errors
    /// [`SimMediaError::Encoder`] if OpenH264 reports a failure.
    pub fn next_frame(&mut self, frame_index: u64) -> Result<EncodedFrame, SimMediaError> {
        let fps = u64::from(self.source.fps().max(1));
        if self.keyframe_pending && self.encoded_any {
            self.encoder.force_intra_frame();
        }
        self.keyframe_pending = false;
        let ts = Timestamp::from_millis(frame_index.saturating_mul(1000) / fps);
        let picture = self.source.render(frame_index);
        let bitstream = self.encoder.encode_at(picture, ts)?;
        self.encoded_any = true;
        let mut annexb = Vec::new();
        if bitstream.frame_type() != FrameType::Skip {
            bitstream.write_vec(&mut annexb);
        }
        let keyframe = nal_unit_types(&annexb).contains(&5);
        // RTP timestamps wrap modulo 2^32 by definition.
        let pts_90khz =
            (u128::from(frame_index) * u128::from(VIDEO_CLOCK_RATE) / u128::from(fps)) as u32;
        Ok(EncodedFrame {
            annexb,
            keyframe,
            frame_index,
            pts_90khz,
        })
    }
}

/// The `nal_unit_type` (low five bits of the NAL header) of every NAL unit
/// in an Annex-B byte string, in order. Accepts 3- and 4-byte start codes;
/// bytes before the first start code are ignored. Never panics.
#[must_use]
pub fn nal_unit_types(annexb: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    let mut i = 0;
    while let Some(rest) = annexb.get(i..) {
        let Some(pos) = rest.windows(3).position(|w| w == [0, 0, 1]) else {
            break;
        };
        let header = i + pos + 3;
        if let Some(&b) = annexb.get(header) {
            types.push(b & 0x1F);
        }
        i = header;
    }
    types
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nal_types_of_hand_built_stream() {
        let s = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 9, 0, 0, 0, 1, 0x65, 0xAA,
        ];
        assert_eq!(nal_unit_types(&s), vec![7, 8, 5]);
        assert_eq!(nal_unit_types(&[]), Vec::<u8>::new());
        assert_eq!(nal_unit_types(&[0, 0, 1]), Vec::<u8>::new());
        assert_eq!(nal_unit_types(&[9, 9, 0, 0, 1, 0x41]), vec![1]);
    }

    proptest::proptest! {
        #[test]
        fn nal_scanner_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let t = nal_unit_types(&bytes);
            proptest::prop_assert!(t.iter().all(|&x| x < 32));
        }
    }
}

//! OpenH264 behind a [`VideoStream`]: any [`FrameSource`](crate::FrameSource)
//! in, Annex-B access units out.

use openh264::OpenH264API;
use openh264::Timestamp;
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Profile,
    RateControlMode, UsageType,
};

use crate::video::{ContentKind, PictureEncoder, VideoEncoderConfig, VideoStream};
use crate::{CameraSource, I420Frame, ScreenSource, SimMediaError};

/// Encoder parameters of an [`H264Stream`].
pub type H264Config = VideoEncoderConfig;

/// A [`FrameSource`](crate::FrameSource) feeding an OpenH264 encoder
/// configured the way a WebRTC sender is: constrained baseline (no
/// B-frames, so decode order is presentation order), one slice per picture,
/// no frame skipping, single-threaded (deterministic output for
/// deterministic input).
pub type H264Stream<S> = VideoStream<S, H264Encoder>;

/// H264 stream of a simulated Go Live screen share.
pub type H264ScreenStream = H264Stream<ScreenSource>;
/// H264 stream of a simulated webcam.
pub type H264CameraStream = H264Stream<CameraSource>;

/// The OpenH264 encoder behind an [`H264Stream`].
pub struct H264Encoder {
    encoder: Encoder,
    /// OpenH264 initialises itself on the first encode; forcing an IDR
    /// before that is pointless (the first picture is an IDR anyway).
    encoded_any: bool,
}

impl PictureEncoder for H264Encoder {
    const STREAM_NAME: &'static str = "H264Stream";

    fn open(
        config: &VideoEncoderConfig,
        _width: u32,
        _height: u32,
        fps: u32,
    ) -> Result<Self, SimMediaError> {
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
            encoder,
            encoded_any: false,
        })
    }

    fn encode(
        &mut self,
        picture: &I420Frame,
        frame_index: u64,
        fps: u32,
        force_keyframe: bool,
    ) -> Result<(Vec<u8>, bool), SimMediaError> {
        if force_keyframe && self.encoded_any {
            self.encoder.force_intra_frame();
        }
        let ts = Timestamp::from_millis(frame_index.saturating_mul(1000) / u64::from(fps));
        let bitstream = self.encoder.encode_at(picture, ts)?;
        self.encoded_any = true;
        let mut annexb = Vec::new();
        if bitstream.frame_type() != FrameType::Skip {
            bitstream.write_vec(&mut annexb);
        }
        let keyframe = nal_unit_types(&annexb).contains(&5);
        Ok((annexb, keyframe))
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

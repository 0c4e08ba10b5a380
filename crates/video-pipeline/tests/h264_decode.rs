//! H264Decoder against streams made by the OpenH264 encoder.

mod common;

use proptest::prelude::*;
use video_pipeline::{H264Decoder, MAX_CONSECUTIVE_ERRORS, VideoDecoder, VideoError};

use common::{encode_h264, luma, psnr, screen_frame};

/// `frames` pictures; with `cut`, the second half is a different scene
/// (which the encoder turns into a new IDR).
fn stream(
    width: usize,
    height: usize,
    frames: u32,
    cut: bool,
) -> (Vec<video_pipeline::YuvBuffer>, Vec<Vec<u8>>) {
    let pictures: Vec<_> = (0..frames)
        .map(|t| screen_frame(width, height, u32::from(cut && t >= frames / 2), t))
        .collect();
    let aus = encode_h264(&pictures);
    (pictures, aus)
}

#[test]
fn decodes_every_frame_with_the_right_size_and_content() {
    let (pictures, aus) = stream(640, 360, 20, true);
    let mut decoder = H264Decoder::new().unwrap();
    let mut decoded = 0;
    for (i, au) in aus.iter().enumerate() {
        let frame = decoder
            .decode(au)
            .unwrap()
            .expect("one picture per access unit");
        assert_eq!((frame.width(), frame.height()), (640, 360));
        let quality = psnr(&luma(&frame), &luma(&pictures[i].as_frame()));
        assert!(quality > 32.0, "frame {i}: {quality:.1} dB");
        decoded += 1;
    }
    assert_eq!(decoded, 20);
    let stats = decoder.stats();
    assert_eq!(
        (stats.frames, stats.errors, stats.keyframe_requests),
        (20, 0, 0)
    );
    assert!(!decoder.take_keyframe_request());
}

#[test]
fn starting_without_an_idr_requests_a_keyframe_and_shows_nothing() {
    let (_, aus) = stream(320, 240, 6, false);
    let mut decoder = H264Decoder::new().unwrap();
    // P frames first (as when joining a stream mid-GOP).
    for au in &aus[2..4] {
        assert!(!matches!(decoder.decode(au), Ok(Some(_))));
    }
    assert!(decoder.take_keyframe_request());
    assert!(!decoder.take_keyframe_request(), "one request per episode");
    // The IDR arrives: pictures flow.
    assert!(decoder.decode(&aus[0]).unwrap().is_some());
    assert!(decoder.decode(&aus[1]).unwrap().is_some());
}

#[test]
fn fifty_consecutive_errors_reset_the_decoder_and_request_a_keyframe() {
    let (_, aus) = stream(320, 240, 4, false);
    let mut decoder = H264Decoder::new().unwrap();
    assert!(decoder.decode(&aus[0]).unwrap().is_some());
    // A slice NAL whose payload is garbage: a bitstream error every time.
    let garbage = [0u8, 0, 0, 1, 0x65, 0xff, 0x12, 0x34, 0x56];
    for i in 1..MAX_CONSECUTIVE_ERRORS {
        match decoder.decode(&garbage) {
            Err(VideoError::Decode {
                decoder_reset: false,
                ..
            }) => {}
            other => panic!("error {i}: {other:?}"),
        }
    }
    // The first error already asked for a keyframe (references are broken).
    assert!(decoder.take_keyframe_request());
    assert_eq!(decoder.stats().resets, 0);
    let err = decoder.decode(&garbage).unwrap_err();
    assert_eq!(
        err,
        VideoError::Decode {
            codec: video_pipeline::Codec::H264,
            status: 4,
            decoder_reset: true
        }
    );
    assert!(err.should_request_keyframe() && !err.is_fatal());
    assert_eq!(decoder.stats().resets, 1);
    assert!(
        decoder.take_keyframe_request(),
        "reset raises a fresh request"
    );
    // The fresh instance has no parameter sets: P frames cannot decode.
    assert!(decoder.decode(&aus[1]).is_err());
    // After the keyframe the stream decodes again.
    assert!(decoder.decode(&aus[0]).unwrap().is_some());
    assert!(decoder.decode(&aus[1]).unwrap().is_some());
    assert_eq!(decoder.stats().consecutive_errors, 0);
}

#[test]
fn truncated_access_units_never_panic_and_the_stream_recovers() {
    let (_, aus) = stream(320, 240, 8, true);
    let mut decoder = H264Decoder::new().unwrap();
    for au in &aus {
        for cut in [
            1,
            4,
            5,
            au.len() / 3,
            au.len() / 2,
            au.len().saturating_sub(1),
        ] {
            let _ = decoder.decode(&au[..cut.min(au.len())]);
        }
    }
    // A clean pass from the IDR decodes fully.
    for (i, au) in aus.iter().enumerate() {
        assert!(decoder.decode(au).unwrap().is_some(), "frame {i}");
    }
}

#[test]
fn oversized_access_unit_is_rejected_without_decoding() {
    let mut decoder = H264Decoder::new().unwrap();
    let big = vec![0u8; video_pipeline::MAX_ACCESS_UNIT_BYTES + 1];
    assert!(matches!(
        decoder.decode(&big),
        Err(VideoError::AccessUnitTooLarge { .. })
    ));
    assert_eq!(decoder.stats().errors, 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_bytes_never_panic(
        prefix in prop::bool::ANY,
        body in prop::collection::vec(any::<u8>(), 0..4096),
    ) {
        let mut decoder = H264Decoder::new().unwrap();
        let mut au = if prefix { vec![0, 0, 0, 1] } else { Vec::new() };
        au.extend_from_slice(&body);
        let _ = decoder.decode(&au);
        let _ = decoder.decode(&body);
    }

    #[test]
    fn mutated_stream_never_panics(
        flips in prop::collection::vec((0usize..4, any::<prop::sample::Index>(), any::<u8>()), 1..24),
    ) {
        let (_, mut aus) = stream(160, 96, 4, false);
        for (which, at, value) in flips {
            let au = &mut aus[which];
            // Keep the first start code so the garbage reaches the parser.
            let at = 5 + at.index(au.len() - 5);
            au[at] = value;
        }
        let mut decoder = H264Decoder::new().unwrap();
        for au in &aus {
            if let Ok(Some(frame)) = decoder.decode(au) {
                prop_assert!(frame.width() > 0 && frame.height() > 0);
            }
        }
    }
}

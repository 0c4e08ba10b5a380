//! JpegEncoder / score_jpeg on synthetic screen pictures.

mod common;

use proptest::prelude::*;
use video_pipeline::{JpegEncoder, JpegGridScorer, LumaGrid, score_jpeg};

use common::{jpeg_luma, psnr, screen_frame};

#[test]
fn encodes_from_planes_at_clamped_quality() {
    let picture = screen_frame(640, 360, 0, 3);
    let mut encoder = JpegEncoder::new().unwrap();
    let high = encoder.encode(&picture.as_frame(), 95).unwrap();
    let low = encoder.encode(&picture.as_frame(), 0).unwrap();
    let clamped = encoder.encode(&picture.as_frame(), 10).unwrap();
    assert_eq!(low, clamped, "quality below 10 is clamped to 10");
    assert!(low.len() < high.len());
    let (w, h, y) = jpeg_luma(&high);
    assert_eq!((w, h), (640, 360));
    assert!(psnr(&y, &common::luma(&picture.as_frame())) > 35.0);
}

#[test]
fn odd_sized_frames_encode() {
    let mut encoder = JpegEncoder::new().unwrap();
    let picture = screen_frame(161, 91, 1, 0);
    let jpeg = encoder.encode(&picture.as_frame(), 80).unwrap();
    let (w, h, _) = jpeg_luma(&jpeg);
    assert_eq!((w, h), (161, 91));
}

#[test]
fn jpeg_grid_matches_the_decoded_frame_grid() {
    let a = screen_frame(1280, 720, 0, 0);
    let b = screen_frame(1280, 720, 1, 0);
    let mut encoder = JpegEncoder::new().unwrap();
    let jpeg_a = encoder.encode(&a.as_frame(), 80).unwrap();
    let jpeg_b = encoder.encode(&b.as_frame(), 80).unwrap();
    let grid_a = LumaGrid::from_frame(&a.as_frame());
    let mut scorer = JpegGridScorer::new().unwrap();
    let from_jpeg_a = scorer.score(&jpeg_a).unwrap();
    assert!(from_jpeg_a.change_score(&grid_a) < 0.02);
    let from_jpeg_b = score_jpeg(&jpeg_b).unwrap();
    assert!(
        from_jpeg_b.change_score(&from_jpeg_a) >= 0.4,
        "scene change is a cut"
    );
}

#[test]
fn truncated_jpeg_is_an_error_not_a_panic() {
    let mut encoder = JpegEncoder::new().unwrap();
    let jpeg = encoder
        .encode(&screen_frame(320, 240, 0, 0).as_frame(), 80)
        .unwrap();
    assert!(score_jpeg(&jpeg[..10]).is_err());
    assert!(score_jpeg(&[]).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn garbage_and_mutated_jpegs_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..1024),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
    ) {
        let mut scorer = JpegGridScorer::new().unwrap();
        let _ = scorer.score(&body);
        let mut encoder = JpegEncoder::new().unwrap();
        let mut jpeg = encoder.encode(&screen_frame(96, 64, 0, 0).as_frame(), 70).unwrap();
        for (at, value) in flips {
            let i = at.index(jpeg.len());
            jpeg[i] = value;
        }
        let _ = scorer.score(&jpeg);
    }
}

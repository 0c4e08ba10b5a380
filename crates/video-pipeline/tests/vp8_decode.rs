//! Vp8Decoder against a committed IVF made by ffmpeg/libvpx:
//! `ffmpeg -f lavfi -i testsrc=size=320x240:rate=10 -frames:v 10 -c:v libvpx
//! -b:v 300k -g 100 -f ivf testsrc_320x240_10f.ivf`

mod common;

use proptest::prelude::*;
use video_pipeline::{FramePipeline, PipelineSettings, VideoDecoder, Vp8Decoder, is_vp8_keyframe};

const IVF: &[u8] = include_bytes!("fixtures/testsrc_320x240_10f.ivf");

#[test]
fn decodes_the_fixture() {
    let (width, height, frames) = common::parse_ivf(IVF);
    assert_eq!((width, height, frames.len()), (320, 240, 10));
    assert!(is_vp8_keyframe(&frames[0]));
    assert!(!is_vp8_keyframe(&frames[1]));
    let mut decoder = Vp8Decoder::new().unwrap();
    let mut previous: Option<Vec<u8>> = None;
    for frame in &frames {
        let picture = decoder.decode(frame).unwrap().expect("a picture per frame");
        assert_eq!((picture.width(), picture.height()), (320, 240));
        let luma = common::luma(&picture);
        // testsrc has colour bars and a moving gradient: far from flat...
        let (min, max) = (luma.iter().min().unwrap(), luma.iter().max().unwrap());
        assert!(max - min > 150);
        // ...and it animates.
        if let Some(prev) = previous.replace(luma.clone()) {
            assert_ne!(prev, luma);
        }
    }
    assert_eq!(decoder.stats().frames, 10);
    assert!(!decoder.take_keyframe_request());
}

#[test]
fn inter_frames_before_a_keyframe_request_one() {
    let (_, _, frames) = common::parse_ivf(IVF);
    let mut decoder = Vp8Decoder::new().unwrap();
    assert!(decoder.decode(&frames[1]).unwrap().is_none());
    assert!(decoder.decode(&frames[2]).unwrap().is_none());
    assert!(decoder.take_keyframe_request());
    assert!(!decoder.take_keyframe_request());
    assert!(decoder.decode(&frames[0]).unwrap().is_some());
}

#[test]
fn vp8_pipeline_emits_jpegs() {
    let (_, _, frames) = common::parse_ivf(IVF);
    let mut pipeline = FramePipeline::vp8(PipelineSettings {
        max_fps: 5.0,
        ..PipelineSettings::default()
    })
    .unwrap();
    let emitted: Vec<_> = frames
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            pipeline
                .push(f, std::time::Duration::from_millis(100 * i as u64))
                .unwrap()
        })
        .collect();
    // 10 fps in, 5 fps out.
    assert_eq!(emitted.len(), 5);
    let (w, h, _) = common::jpeg_luma(&emitted[0].jpeg);
    assert_eq!((w, h), (320, 240));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_and_mutated_frames_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..2048),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
    ) {
        let (_, _, mut frames) = common::parse_ivf(IVF);
        let mut decoder = Vp8Decoder::new().unwrap();
        let _ = decoder.decode(&body);
        for (at, value) in flips {
            let i = at.index(frames[0].len());
            frames[0][i] = value;
        }
        for frame in &frames {
            let _ = decoder.decode(frame);
        }
    }
}

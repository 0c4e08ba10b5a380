//! FramePipeline end to end: H264 in, gated/scaled JPEG out, with metrics.
// Tests need one arbitrary base instant; everything after it is virtual time.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use video_pipeline::{
    EmittedFrame, FakeDecoder, FramePipeline, PipelineSettings, Stage, YuvBuffer,
};

use common::{encode_h264, half_luma, jpeg_luma, psnr, screen_frame};

/// Frame `i` of a 30 fps stream.
fn at(i: usize) -> Duration {
    Duration::from_secs(i as u64) / 30
}

/// Runs `aus` through a pipeline at 30 fps; returns (frame index, emission).
fn run(pipeline: &mut FramePipeline, aus: &[Vec<u8>]) -> Vec<(usize, EmittedFrame)> {
    aus.iter()
        .enumerate()
        .filter_map(|(i, au)| pipeline.push(au, at(i)).unwrap().map(|e| (i, e)))
        .collect()
}

/// `n` frames of scene A with a cut to scene B at frame `cut`.
fn cut_stream(width: usize, height: usize, n: usize, cut: usize) -> Vec<Vec<u8>> {
    let pictures: Vec<_> = (0..n)
        .map(|i| screen_frame(width, height, u32::from(i >= cut), i as u32))
        .collect();
    encode_h264(&pictures)
}

#[test]
fn gate_emits_two_fps_out_of_thirty_and_counts_everything() {
    let aus = cut_stream(320, 180, 120, usize::MAX);
    let mut pipeline = FramePipeline::h264(PipelineSettings::default()).unwrap();
    let emitted = run(&mut pipeline, &aus);
    let indices: Vec<usize> = emitted.iter().map(|(i, _)| *i).collect();
    assert_eq!(indices, vec![0, 15, 30, 45, 60, 75, 90, 105]);
    let c = pipeline.counters();
    assert_eq!(
        (c.access_units, c.decoded, c.emitted, c.gated),
        (120, 120, 8, 112)
    );
    assert_eq!((c.decode_errors, c.encode_errors), (0, 0));
    assert!(!pipeline.take_keyframe_request());
}

#[test]
fn hard_cut_on_an_emitted_frame_is_reported() {
    let aus = cut_stream(320, 180, 60, 30);
    let mut pipeline = FramePipeline::h264(PipelineSettings::default()).unwrap();
    for (i, frame) in run(&mut pipeline, &aus) {
        if i == 30 {
            assert!(frame.scene_cut, "{frame:?}");
            assert!(frame.change_score >= 0.4 && frame.peak_frame_change >= 0.4);
        } else {
            assert!(!frame.scene_cut, "frame {i}: {frame:?}");
            assert!(
                frame.change_score < 0.05,
                "frame {i}: {}",
                frame.change_score
            );
        }
    }
}

#[test]
fn hard_cut_between_emitted_frames_is_not_lost() {
    // Emissions at 0, 15, 30, 45; the cut lands on frame 37, never emitted.
    let aus = cut_stream(320, 180, 60, 37);
    let mut pipeline = FramePipeline::h264(PipelineSettings::default()).unwrap();
    let emitted = run(&mut pipeline, &aus);
    let cut_flags: Vec<(usize, bool)> = emitted.iter().map(|(i, f)| (*i, f.scene_cut)).collect();
    assert_eq!(
        cut_flags,
        vec![(0, false), (15, false), (30, false), (45, true)]
    );
    let (_, at45) = &emitted[3];
    assert!(
        at45.change_score >= 0.4,
        "vs last emitted: {}",
        at45.change_score
    );
    // Frame 45 itself differs little from frame 44: what carries the cut is
    // the comparison against the last emission plus the remembered peak.
    assert!(at45.peak_frame_change >= 0.4);
    assert_eq!(pipeline.counters().decoded, 60);
}

#[test]
fn flash_between_emissions_is_a_cut_even_if_the_picture_is_back() {
    // Fake decoder: picture 0 = scene A, 1 = scene B. B shows for frames
    // 20..=24 only; the emission at 30 sees A again.
    let pictures = vec![screen_frame(160, 90, 0, 0), screen_frame(160, 90, 1, 0)];
    let mut pipeline = FramePipeline::new(
        Box::new(FakeDecoder::new(pictures)),
        PipelineSettings::default(),
    )
    .unwrap();
    let aus: Vec<Vec<u8>> = (0..50)
        .map(|i| vec![u8::from((20..=24).contains(&i))])
        .collect();
    let emitted = run(&mut pipeline, &aus);
    let (i, frame) = &emitted[2];
    assert_eq!(*i, 30);
    assert!(frame.scene_cut);
    assert!(
        frame.change_score < 1e-6,
        "same picture as the last emission"
    );
    assert!(frame.peak_frame_change >= 0.4);
    assert!(!emitted[1].1.scene_cut && !emitted[3].1.scene_cut);
}

#[test]
fn static_picture_scores_no_change() {
    let pictures: Vec<_> = (0..45).map(|_| screen_frame(320, 180, 0, 1)).collect();
    let aus = encode_h264(&pictures);
    let mut pipeline = FramePipeline::h264(PipelineSettings::default()).unwrap();
    for (_, frame) in run(&mut pipeline, &aus) {
        assert!(frame.change_score < 0.002, "{}", frame.change_score);
        assert!(frame.ema_score < 0.002 && !frame.scene_cut);
        let last = pipeline.last_change().unwrap();
        assert!(last.vs_previous < 0.002);
    }
}

#[test]
fn jpeg_is_downscaled_into_the_budget_and_close_to_the_source() {
    let pictures: Vec<_> = (0..3).map(|t| screen_frame(1280, 720, 0, t)).collect();
    let aus = encode_h264(&pictures);
    let mut pipeline = FramePipeline::h264(PipelineSettings {
        jpeg_quality: 85,
        ..PipelineSettings::default()
    })
    .unwrap();
    let emitted = pipeline
        .push(&aus[0], Duration::ZERO)
        .unwrap()
        .expect("first frame passes");
    assert_eq!((emitted.width, emitted.height), (640, 360));
    assert_eq!((emitted.source_width, emitted.source_height), (1280, 720));
    let (w, h, jpeg_y) = jpeg_luma(&emitted.jpeg);
    assert_eq!((w, h), (640, 360));
    // Reference: the original picture, halved by an independent box filter.
    let source = common::luma(&pictures[0].as_frame());
    let expected = half_luma(&source, 1280, 720);
    let quality = psnr(&jpeg_y, &expected);
    eprintln!("emitted JPEG luma PSNR {quality:.1} dB");
    assert!(quality >= 30.0, "PSNR {quality:.1} dB");
}

#[test]
fn small_sources_are_not_scaled() {
    let aus = encode_h264(&[screen_frame(320, 240, 1, 0)]);
    let mut pipeline = FramePipeline::h264(PipelineSettings::default()).unwrap();
    let emitted = pipeline.push(&aus[0], Duration::ZERO).unwrap().unwrap();
    assert_eq!((emitted.width, emitted.height), (320, 240));
    assert_eq!(jpeg_luma(&emitted.jpeg).0, 320);
}

#[test]
fn settings_apply_on_the_next_frame() {
    let pictures = vec![screen_frame(640, 360, 0, 0)];
    let mut pipeline = FramePipeline::new(
        Box::new(FakeDecoder::new(pictures)),
        PipelineSettings::default(),
    )
    .unwrap();
    let first = pipeline.push(&[0], Duration::ZERO).unwrap().unwrap();
    assert_eq!((first.width, first.height), (640, 360));
    assert!(
        pipeline
            .push(&[0], Duration::from_millis(100))
            .unwrap()
            .is_none()
    );
    pipeline.set_settings(PipelineSettings {
        max_fps: 10.0,
        max_pixels: 320 * 180,
        jpeg_quality: 200,
    });
    assert_eq!(pipeline.settings().jpeg_quality, 100);
    let second = pipeline
        .push(&[0], Duration::from_millis(100))
        .unwrap()
        .unwrap();
    assert_eq!((second.width, second.height), (320, 180));
    // Higher quality at a quarter of the pixels: different bytes, valid JPEG.
    assert_eq!(jpeg_luma(&second.jpeg).0, 320);
}

#[test]
fn decode_errors_are_counted_and_surface_keyframe_requests() {
    let mut pipeline = FramePipeline::new(
        Box::new(FakeDecoder::new(vec![YuvBuffer::new(64, 36)])),
        PipelineSettings::default(),
    )
    .unwrap();
    let err = pipeline
        .push(&[FakeDecoder::ERROR_BYTE], Duration::ZERO)
        .unwrap_err();
    assert!(err.should_request_keyframe());
    assert!(pipeline.take_keyframe_request());
    assert!(!pipeline.take_keyframe_request());
    let c = pipeline.counters();
    assert_eq!((c.decode_errors, c.keyframe_requests, c.decoded), (1, 1, 0));
}

#[test]
fn probe_sees_the_stage_split() {
    let aus = cut_stream(1280, 720, 2, usize::MAX);
    let mut pipeline = FramePipeline::h264(PipelineSettings::default()).unwrap();
    let mut stages = Vec::new();
    pipeline
        .push_probed(&aus[0], at(0), &mut |s: Stage| stages.push(s))
        .unwrap();
    assert_eq!(
        stages,
        [
            Stage::Decode,
            Stage::Metrics,
            Stage::Gate,
            Stage::Scale,
            Stage::Jpeg
        ]
    );
    stages.clear();
    // Gated frame: no scale, no JPEG.
    pipeline
        .push_probed(&aus[1], at(1), &mut |s: Stage| stages.push(s))
        .unwrap();
    assert_eq!(stages, [Stage::Decode, Stage::Metrics, Stage::Gate]);
}

/// Not a benchmark: prints the best of several runs of each stage for one
/// 1080p frame (decode, grid, scale to 640×360, JPEG of the 640×360).
/// `cargo test -p video-pipeline --release --test pipeline -- --ignored --nocapture`
#[test]
#[ignore = "timing printout, run by hand"]
fn stage_timing_printout() {
    use std::time::Instant;
    use video_pipeline::{H264Decoder, JpegEncoder, LumaGrid, Scaler, VideoDecoder};
    let pictures: Vec<_> = (0..10).map(|t| screen_frame(1920, 1080, 0, t)).collect();
    let aus = encode_h264(&pictures);
    let best = |f: &mut dyn FnMut()| {
        (0..10)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .min()
            .unwrap()
    };
    let mut decoder = H264Decoder::new().unwrap();
    let t = Instant::now();
    decoder.decode(&aus[0]).unwrap().unwrap();
    let idr = t.elapsed();
    let p_frames = aus[1..]
        .iter()
        .map(|au| {
            let t = Instant::now();
            decoder.decode(au).unwrap().unwrap();
            t.elapsed()
        })
        .min()
        .unwrap();
    let source = pictures[0].as_frame();
    let grid = best(&mut || {
        std::hint::black_box(LumaGrid::from_frame(&source));
    });
    let mut scaler = Scaler::new();
    let scale = best(&mut || {
        scaler.scale(&source, 640, 360).unwrap();
    });
    let small = scaler.scale(&source, 640, 360).unwrap();
    let mut small_copy = YuvBuffer::default();
    small.copy_into(&mut small_copy);
    let mut encoder = JpegEncoder::new().unwrap();
    let jpeg = best(&mut || {
        encoder.encode(&small_copy.as_frame(), 75).unwrap();
    });
    println!(
        "1080p IDR decode {idr:?} ({} B), best P decode {p_frames:?}, grid {grid:?}, \
         scale to 640x360 {scale:?}, JPEG 640x360 q75 {jpeg:?}",
        aus[0].len()
    );
}

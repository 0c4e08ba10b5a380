//! The receive plan driven by events alone (it has no time to advance).

use super::*;
use voice_proto::{MaxResolution, ResolutionType, StreamDescriptor};

const OPUS: u8 = 120;

fn sub(user: u64, stream_type: Option<StreamType>) -> VideoSubscription {
    VideoSubscription {
        user_id: UserId(user),
        stream_type,
        max_fps: 2.0,
        quality: 100,
        preferred_pixel_count: None,
        jpeg_quality: 75,
    }
}

fn layer(rid: &str, quality: u8, ssrc: u32, size: Option<(u32, u32)>) -> StreamDescriptor {
    StreamDescriptor {
        kind: voice_proto::StreamType::Video,
        rid: rid.to_owned(),
        quality,
        ssrc: Some(ssrc),
        rtx_ssrc: Some(ssrc + 1),
        active: Some(true),
        max_bitrate: Some(u64::MAX),
        max_framerate: Some(30),
        max_resolution: size.map(|(width, height)| MaxResolution {
            kind: ResolutionType::Fixed,
            width,
            height,
        }),
    }
}

fn video(user: u64, streams: Vec<StreamDescriptor>) -> Video {
    Video {
        user_id: Some(voice_proto::UserId(user)),
        audio_ssrc: Some(0),
        video_ssrc: None,
        rtx_ssrc: None,
        streams,
    }
}

fn starts(actions: &[Action]) -> Vec<(u64, u32)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::StartWorker(w) => Some((w.user_id.get(), w.ssrc)),
            _ => None,
        })
        .collect()
}

fn stops(actions: &[Action]) -> Vec<u32> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::StopWorker { ssrc } => Some(*ssrc),
            _ => None,
        })
        .collect()
}

fn wants(actions: &[Action]) -> Option<&MediaSinkWants> {
    actions.iter().rev().find_map(|a| match a {
        Action::SinkWants(w) => Some(w),
        _ => None,
    })
}

fn camera_plan(subs: Vec<VideoSubscription>) -> ReceivePlan {
    ReceivePlan::new(TransportRole::Voice, None, Some(OPUS), subs)
}

#[test]
fn nothing_starts_or_is_asked_before_media_ready() {
    let mut plan = camera_plan(vec![sub(7, None)]);
    let a = plan.on_video(&video(7, vec![layer("100", 100, 10, Some((1280, 720)))]));
    // The state is reported at once; the worker and op 15 wait.
    assert!(matches!(a.as_slice(), [Action::UserVideo(s)] if s.video_ssrc == Some(Ssrc(10))));
    assert_eq!(plan.workers().count(), 0);
    assert!(plan.resumed().is_empty());
    let a = plan.media_ready();
    assert_eq!(starts(&a), vec![(7, 10)]);
    let w = wants(&a).expect("op 15 after media ready");
    assert_eq!(w.streams.get(&10), Some(&100));
    assert_eq!(
        w.any, None,
        "the voice connection never asks for unknown cameras"
    );
    // A resume re-sends the same op 15 and starts nothing.
    let r = plan.resumed();
    assert_eq!(wants(&r), Some(w));
    assert!(starts(&r).is_empty());
}

#[test]
fn one_worker_on_the_smallest_covering_layer() {
    let mut plan = camera_plan(vec![sub(7, None)]);
    plan.media_ready();
    let a = plan.on_video(&video(
        7,
        vec![
            layer("100", 100, 10, Some((1920, 1080))),
            layer("50", 50, 20, Some((640, 360))),
        ],
    ));
    assert_eq!(starts(&a), vec![(7, 20)]);
    let w = wants(&a).expect("op 15");
    assert_eq!(
        (w.streams.get(&20), w.streams.get(&10)),
        (Some(&100), Some(&0))
    );
    // A bigger output moves to the full layer: old worker stops first.
    let mut big = sub(7, None);
    big.preferred_pixel_count = Some(1920 * 1080);
    let a = plan.set_subscriptions(vec![big]);
    assert_eq!(stops(&a), vec![20]);
    assert_eq!(starts(&a), vec![(7, 10)]);
    let stop_at = a
        .iter()
        .position(|x| matches!(x, Action::StopWorker { .. }));
    let start_at = a.iter().position(|x| matches!(x, Action::StartWorker(_)));
    assert!(stop_at < start_at);
    assert_eq!(plan.workers().map(|w| w.ssrc).collect::<Vec<_>>(), vec![10]);
}

#[test]
fn changed_settings_retune_the_running_worker() {
    let mut plan = camera_plan(vec![sub(7, None)]);
    plan.media_ready();
    plan.on_video(&video(7, vec![layer("100", 100, 10, None)]));
    // Same subscription again: nothing for the worker, op 15 again.
    let a = plan.set_subscriptions(vec![sub(7, None)]);
    assert!(a.iter().all(|x| matches!(x, Action::SinkWants(_))), "{a:?}");
    let mut faster = sub(7, None);
    faster.max_fps = 5.0;
    let a = plan.set_subscriptions(vec![faster]);
    assert!(matches!(
        a.first(),
        Some(Action::UpdateWorker { ssrc: 10, settings }) if settings.max_fps == 5.0
    ));
    assert!(starts(&a).is_empty() && stops(&a).is_empty());
}

#[test]
fn unsubscribing_and_leaving_stop_the_worker() {
    let mut plan = camera_plan(vec![sub(7, None), sub(8, None)]);
    plan.media_ready();
    plan.on_video(&video(7, vec![layer("100", 100, 10, None)]));
    plan.on_video(&video(8, vec![layer("100", 100, 30, None)]));
    assert_eq!(plan.workers().count(), 2);
    let a = plan.set_subscriptions(vec![sub(8, None)]);
    assert_eq!(stops(&a), vec![10]);
    let w = wants(&a).expect("op 15");
    assert_eq!(
        (w.streams.get(&10), w.streams.get(&30)),
        (Some(&0), Some(&100))
    );
    let a = plan.user_gone(UserId(8));
    assert_eq!(stops(&a), vec![30]);
    assert!(a.contains(&Action::UserVideoEnd {
        user_id: UserId(8),
        ssrc: Some(Ssrc(30)),
    }));
    // Op 12 with no active layer ends the video the same way.
    let a = plan.on_video(&video(7, vec![]));
    assert!(a.contains(&Action::UserVideoEnd {
        user_id: UserId(7),
        ssrc: Some(Ssrc(10)),
    }));
    // A user we never saw: nothing to do.
    assert!(plan.user_gone(UserId(99)).is_empty());
    assert!(wants(&plan.resumed()).is_some_and(|w| w.streams.is_empty()));
}

#[test]
fn stream_watch_receives_only_the_streamer_and_only_screens() {
    let mut plan = ReceivePlan::new(
        TransportRole::StreamWatch,
        Some(UserId(7)),
        None,
        vec![sub(7, Some(StreamType::Camera)), sub(8, None)],
    );
    plan.media_ready();
    // The camera subscription does not apply on a stream.
    let a = plan.on_video(&video(7, vec![layer("100", 100, 10, None)]));
    assert!(starts(&a).is_empty());
    let w = wants(&a).expect("op 15");
    assert_eq!(w.any, Some(100));
    assert_eq!(w.streams.get(&10), Some(&0));
    // Someone else on the stream server is never received.
    assert!(starts(&plan.on_video(&video(8, vec![layer("100", 100, 40, None)]))).is_empty());
    let a = plan.set_subscriptions(vec![sub(7, Some(StreamType::Screen)), sub(8, None)]);
    assert_eq!(starts(&a), vec![(7, 10)]);
    let state = plan.on_video(&video(7, vec![layer("100", 100, 10, Some((1280, 720)))]));
    match state.first() {
        Some(Action::UserVideo(s)) => {
            assert_eq!(s.role, TransportRole::StreamWatch);
            assert_eq!(s.streams[0].stream_type, Some(StreamType::Screen));
            assert_eq!(s.streams[0].rtx_ssrc, Some(Ssrc(11)));
            assert_eq!(s.streams[0].max_bitrate, Some(u32::MAX));
            assert_eq!(s.audio_ssrc, None, "SSRC 0 is no SSRC");
        }
        other => panic!("expected the user's state first, got {other:?}"),
    }
}

#[test]
fn packets_route_by_payload_type_then_ssrc_then_rtx() {
    let mut plan = camera_plan(vec![sub(7, None)]);
    plan.media_ready();
    plan.on_video(&video(7, vec![layer("100", 100, 10, None)]));
    assert_eq!(plan.route(OPUS, 10), Route::Audio);
    assert_eq!(plan.route(101, 10), Route::Worker(10));
    assert_eq!(
        plan.route(102, 11),
        Route::Worker(10),
        "RTX goes to its layer's worker"
    );
    assert_eq!(plan.route(101, 12), Route::Drop);
    // A stream slot has no audio type: Opus-numbered packets are video's.
    let stream = ReceivePlan::new(TransportRole::StreamWatch, Some(UserId(7)), None, vec![]);
    assert_eq!(stream.route(OPUS, 5), Route::Drop);
}

#[test]
fn a_failed_worker_is_asked_for_again() {
    let mut plan = camera_plan(vec![sub(7, None)]);
    plan.media_ready();
    let a = plan.on_video(&video(7, vec![layer("100", 100, 10, None)]));
    assert_eq!(starts(&a), vec![(7, 10)]);
    plan.worker_failed(10);
    assert_eq!(plan.route(101, 10), Route::Drop);
    let a = plan.set_subscriptions(vec![sub(7, None)]);
    assert_eq!(starts(&a), vec![(7, 10)]);
}

#[test]
fn settings_follow_the_subscription() {
    let mut s = sub(7, None);
    s.max_fps = 4.0;
    s.jpeg_quality = 60;
    assert_eq!(
        settings_of(&s).max_pixels,
        PipelineSettings::default().max_pixels
    );
    s.preferred_pixel_count = Some(320 * 180);
    let got = settings_of(&s);
    assert_eq!(
        (got.max_fps, got.jpeg_quality, got.max_pixels),
        (4.0, 60, 320 * 180)
    );
}

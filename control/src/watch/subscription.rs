//! The video subscription a watch asks mediad for, built from the live
//! `voice.streamWatch` `nativeDiscord*` settings (reference §5.7 step 8 and
//! the settings table of §8). Pure: the manager re-sends the result when
//! the settings change during a watch.

use brain_core::Settings;
use ipc_schema::{StreamType, UserId, VideoSubscription};

/// Which path of a watch subscribes to the target's video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VideoPath {
    /// The target's Go Live, on the stream_watch transport.
    GoLive,
    /// The target's camera, on the voice transport.
    Webcam,
}

/// The subscription for `user` on `path` under the settings `s`:
/// * `nativeDiscordMaxFramesPerSecond` → `max_fps`;
/// * `nativeDiscordPreferredQuality` → `quality` (op 15's per-stream
///   quality for the chosen layer);
/// * `nativeDiscordPreferredPixelCount` → `preferred_pixel_count` (the
///   layer mediad picks and the size it scales frames down to);
/// * `nativeDiscordJpegQuality` → `jpeg_quality`;
/// * `nativeDiscordPreferredStreamType` → `stream_type` on the Go Live path
///   (see [`preferred_stream_type`]); the webcam path always asks for the
///   camera, as the reference's webcam path ignores the setting.
pub(crate) fn video_subscription(s: &Settings, user: u64, path: VideoPath) -> VideoSubscription {
    VideoSubscription {
        user_id: UserId(user),
        stream_type: match path {
            VideoPath::GoLive => preferred_stream_type(&s.native_discord_preferred_stream_type),
            VideoPath::Webcam => Some(StreamType::Camera),
        },
        max_fps: s.native_discord_max_frames_per_second as f32,
        quality: u8::try_from(s.native_discord_preferred_quality.min(100)).unwrap_or(100),
        preferred_pixel_count: Some(s.native_discord_preferred_pixel_count),
        jpeg_quality: u8::try_from(s.native_discord_jpeg_quality.clamp(10, 100)).unwrap_or(100),
    }
}

/// `nativeDiscordPreferredStreamType`, trimmed and lower-cased as the
/// reference does at runtime. `"screen"` restricts the subscription to the
/// Go Live video. Any other value means "no restriction" (`None`): the
/// target's camera on the voice transport is decoded as well. mediad's
/// stream type is a filter, not the reference's ranking preference, so a
/// camera-only filter on a Go Live watch would leave it without frames when
/// the target has no camera, which the reference's preference never does.
pub(crate) fn preferred_stream_type(setting: &str) -> Option<StreamType> {
    (setting.trim().to_lowercase() == "screen").then_some(StreamType::Screen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with(patch: serde_json::Value) -> Settings {
        Settings::default().apply_patch(&patch).expect("valid edit")
    }

    #[test]
    fn defaults_are_the_references_subscription() {
        let sub = video_subscription(&Settings::default(), 7, VideoPath::GoLive);
        assert_eq!(
            sub,
            VideoSubscription {
                user_id: UserId(7),
                stream_type: Some(StreamType::Screen),
                max_fps: 2.0,
                quality: 100,
                preferred_pixel_count: Some(640 * 360),
                jpeg_quality: 60,
            }
        );
    }

    #[test]
    fn max_frames_per_second_sets_the_subscription_rate() {
        let sub = video_subscription(
            &with(json!({"nativeDiscordMaxFramesPerSecond": 7})),
            7,
            VideoPath::GoLive,
        );
        assert_eq!(sub.max_fps, 7.0);
        let cam = video_subscription(
            &with(json!({"nativeDiscordMaxFramesPerSecond": 1})),
            7,
            VideoPath::Webcam,
        );
        assert_eq!(cam.max_fps, 1.0, "the webcam path follows it too");
    }

    #[test]
    fn jpeg_quality_sets_the_subscription_jpeg_quality() {
        let sub = video_subscription(
            &with(json!({"nativeDiscordJpegQuality": 35})),
            7,
            VideoPath::GoLive,
        );
        assert_eq!(sub.jpeg_quality, 35);
    }

    #[test]
    fn preferred_pixel_count_sets_the_subscription_pixel_count() {
        let sub = video_subscription(
            &with(json!({"nativeDiscordPreferredPixelCount": 1280 * 720})),
            7,
            VideoPath::GoLive,
        );
        assert_eq!(sub.preferred_pixel_count, Some(1280 * 720));
    }

    #[test]
    fn preferred_quality_sets_the_op15_quality() {
        let sub = video_subscription(
            &with(json!({"nativeDiscordPreferredQuality": 40})),
            7,
            VideoPath::GoLive,
        );
        assert_eq!(sub.quality, 40);
    }

    #[test]
    fn preferred_stream_type_restricts_only_when_it_is_screen() {
        for (value, want) in [
            ("screen", Some(StreamType::Screen)),
            (" Screen ", Some(StreamType::Screen)),
            ("video", None),
            ("", None),
        ] {
            let sub = video_subscription(
                &with(json!({"nativeDiscordPreferredStreamType": value})),
                7,
                VideoPath::GoLive,
            );
            assert_eq!(sub.stream_type, want, "{value:?}");
            let cam = video_subscription(
                &with(json!({"nativeDiscordPreferredStreamType": value})),
                7,
                VideoPath::Webcam,
            );
            assert_eq!(cam.stream_type, Some(StreamType::Camera), "{value:?}");
        }
    }
}

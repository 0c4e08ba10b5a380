//! The typed answers of the admin and share routes (besides health and the
//! voice state, in `api_doc.rs`): each is what its handler writes and what
//! the OpenAPI document describes.
//!
//! Answers that were `json!` views before they were typed are written
//! through a `serde_json::Value` ([`super::api_doc::sorted_json`]) so their
//! bytes are unchanged (keys sorted at every level); `GET /api/media/state`
//! was written straight from its struct and still is (its fields in
//! declaration order).

use serde::Serialize;
use utoipa::ToSchema;

/// The frame and stop answers: built by the watch manager (and from
/// share-core's refusals), written by the share handlers.
pub(super) use crate::watch::{FrameAnswer, ShareStopAnswer};

use crate::media::desired::{StreamConnectState, VoiceConnectState};

/// `{"ok": true}`: the change was handed to mediad.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(super) struct Done {
    /// Always `true`.
    pub ok: bool,
}

impl Done {
    pub(super) const OK: Done = Done { ok: true };
}

/// `GET /api/settings`, `PATCH /api/settings` (200): the live
/// `voice.streamWatch` settings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(super) struct SettingsAnswer {
    /// Always `true`.
    pub ok: bool,
    /// Every `voice.streamWatch` key (camelCase) with its live value.
    #[schema(value_type = super::schemas::SettingsSchema)]
    pub settings: brain_core::Settings,
}

/// `PATCH /api/settings` (400): every problem named; nothing changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(super) struct SettingsRefused {
    /// The problems joined by `; `.
    pub error: String,
    /// One line per problem.
    pub errors: Vec<String>,
    /// Always `false`.
    pub ok: bool,
}

/// `GET /api/settings/reference`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(super) struct SettingsReference {
    /// Always `true`.
    pub ok: bool,
    /// Every `voice.streamWatch` key with its meaning, default, range and
    /// reader.
    #[schema(value_type = Vec<super::schemas::SettingDocSchema>)]
    pub settings: Vec<brain_core::SettingDoc>,
}

/// `GET /api/voice/recaps`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(super) struct Recaps {
    /// Always `true`.
    pub ok: bool,
    /// The newest saved watch recaps, newest first.
    pub recaps: Vec<crate::store::RecapRecord>,
}

/// `GET /api/media/state`: what control wants mediad to hold and what
/// mediad last reported, without secrets.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct MediaState {
    /// What control wants.
    pub desired: DesiredState,
    /// The video subscriptions control wants.
    pub desired_subscriptions: Vec<crate::media::client::SubscriptionView>,
    /// What mediad last reported; `null` until a connection was made.
    pub mediad: Option<crate::media::client::MediadView>,
    /// The connection to mediad (as `mediad` in `/healthz`).
    #[serde(rename = "connection")]
    pub conn: crate::media::MediadConnStatus,
}

/// The desired transports, without their tokens and session ids.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct DesiredState {
    /// The voice connection, if any.
    pub voice: Option<VoiceConnectState>,
    /// The Go Live watch connection, if any.
    pub stream_watch: Option<StreamConnectState>,
    /// The Go Live publish connection, if any.
    pub stream_publish: Option<StreamConnectState>,
    /// Whether publishing is paused.
    pub publish_paused: bool,
    /// False until something was set or adopted from mediad.
    pub initialized: bool,
}

impl From<crate::media::client::MediaView> for MediaState {
    fn from(v: crate::media::client::MediaView) -> Self {
        let d = &v.desired;
        Self {
            desired: DesiredState {
                voice: d.voice.as_ref().map(VoiceConnectState::from),
                stream_watch: d.stream_watch.as_ref().map(StreamConnectState::from),
                stream_publish: d.stream_publish.as_ref().map(StreamConnectState::from),
                publish_paused: d.publish_paused,
                initialized: d.initialized,
            },
            desired_subscriptions: v.desired_subscriptions,
            mediad: v.mediad,
            conn: v.conn,
        }
    }
}

/// The dashboard's event (`GET /api/voice/events`, one a second): media,
/// voice (with brain and speech) and share links together.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(super) struct DashboardState {
    /// As `GET /api/media/state` (`null` if the media client stopped).
    pub media: Option<MediaState>,
    /// As `GET /api/voice/state` (`null` without a Discord session).
    pub voice: Option<super::api_doc::VoiceState>,
    /// As `GET /api/voice/share-sessions` (`null` without a Discord
    /// session).
    pub shares: Option<crate::watch::ShareListing>,
}

/// What the capture page is configured with (written into the page).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SharePageConfig {
    /// Seconds left on the link.
    pub expires_in_seconds: u64,
    /// Where frames go, relative to the page.
    pub frame_url: String,
    /// The page's JPEG quality.
    pub jpeg_quality: f64,
    /// How often the page sends a frame when nothing changed.
    pub keyframe_interval_ms: u32,
    /// The page's capture width limit.
    pub max_width_px: u32,
    /// The page's Stop Sharing, relative to the page.
    pub stop_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipc_schema::{ChannelId, GuildId, Secret, StreamConnect, UserId, VoiceConnect};
    use serde_json::json;

    fn text<T: Serialize>(v: &T) -> String {
        serde_json::to_string(v).expect("serialize")
    }

    /// As written through a `Value` (keys sorted).
    fn sorted<T: Serialize>(v: &T) -> String {
        serde_json::to_value(v).expect("value").to_string()
    }

    /// The answers that were `json!` views write the same bytes now, the
    /// way their handlers write them (sorted through a `Value`, or as is).
    #[test]
    fn typed_answers_write_the_old_bytes() {
        assert_eq!(text(&Done::OK), json!({"ok": true}).to_string());
        let settings = brain_core::Settings::default();
        assert_eq!(
            sorted(&SettingsAnswer {
                ok: true,
                settings: settings.clone(),
            }),
            json!({"ok": true, "settings": settings}).to_string()
        );
        let errors = vec!["a: too big".to_owned(), "b: unknown".to_owned()];
        assert_eq!(
            sorted(&SettingsRefused {
                error: errors.join("; "),
                errors: errors.clone(),
                ok: false,
            }),
            json!({"ok": false, "error": errors.join("; "), "errors": errors}).to_string()
        );
        let reference = brain_core::settings_reference();
        assert_eq!(
            sorted(&SettingsReference {
                ok: true,
                settings: reference.clone(),
            }),
            json!({"ok": true, "settings": reference}).to_string()
        );
        assert_eq!(
            text(&FrameAnswer::accepted()),
            json!({"accepted": true, "reason": null}).to_string()
        );
        assert_eq!(
            text(&FrameAnswer::refused("guild_id_required")),
            json!({"accepted": false, "reason": "guild_id_required"}).to_string()
        );
        let config = SharePageConfig {
            expires_in_seconds: 600,
            frame_url: "../f".into(),
            jpeg_quality: 0.72,
            keyframe_interval_ms: 1500,
            max_width_px: 1280,
            stop_url: "../s".into(),
        };
        let old = json!({
            "keyframeIntervalMs": 1500u32,
            "maxWidthPx": 1280u32,
            "jpegQuality": 0.72f64,
            "expiresInSeconds": 600u64,
            "frameUrl": "../f",
            "stopUrl": "../s",
        });
        assert_eq!(text(&config), old.to_string());
    }

    fn media_view() -> crate::media::client::MediaView {
        use crate::media::desired::{StreamConnectView, VoiceConnectView};
        let voice = VoiceConnect {
            guild_id: GuildId(1),
            channel_id: ChannelId(2),
            user_id: UserId(3),
            session_id: Secret::new("session-secret"),
            endpoint: "voice.example:443".into(),
            token: Secret::new("token-secret"),
            dave_group_id: 2,
        };
        let stream = StreamConnect {
            stream_key: "guild:1:2:4".into(),
            streamer_id: UserId(4),
            user_id: UserId(3),
            server_id: 99,
            session_id: Secret::new("session-secret"),
            endpoint: "stream.example:443".into(),
            token: Secret::new("token-secret"),
            dave_group_id: 7,
        };
        crate::media::client::MediaView {
            desired: crate::media::DesiredMedia {
                voice: Some(VoiceConnectView(voice)),
                stream_watch: Some(StreamConnectView(stream)),
                stream_publish: None,
                publish_paused: true,
                initialized: true,
                ..Default::default()
            },
            desired_subscriptions: vec![crate::media::client::SubscriptionView {
                user_id: "4".into(),
                max_fps: 2.0,
                jpeg_quality: 75,
                preferred_pixel_count: None,
                stream_type: Some("screen".into()),
            }],
            mediad: Some(crate::media::client::MediadView::default()),
            conn: crate::media::MediadConnStatus::default(),
        }
    }

    /// `GET /api/media/state` writes what `Json(MediaView)` wrote, byte
    /// for byte, and no secret; the dashboard event writes what its
    /// `json!` view wrote.
    #[test]
    fn media_state_and_the_dashboard_event_keep_their_bytes() {
        let view = media_view();
        let old = text(&view);
        let new = text(&MediaState::from(view.clone()));
        assert_eq!(new, old);
        assert!(!new.contains("secret"), "{new}");
        assert!(new.contains("\"daveGroupId\":\"7\""), "{new}");
        let shares = crate::watch::ShareListing::default();
        let old = json!({
            "media": serde_json::to_value(&view).expect("value"),
            "voice": serde_json::Value::Null,
            "shares": serde_json::to_value(&shares).expect("value"),
        });
        let event = DashboardState {
            media: Some(MediaState::from(view)),
            voice: None,
            shares: Some(shares),
        };
        assert_eq!(sorted(&event), old.to_string());
        let empty = DashboardState {
            media: None,
            voice: None,
            shares: None,
        };
        assert_eq!(
            sorted(&empty),
            json!({"media": null, "voice": null, "shares": null}).to_string()
        );
    }

    /// Every refusal share-core writes is a [`FrameAnswer`]: it parses as
    /// one (unknown fields refused) and writes back the same keys.
    #[test]
    fn share_core_refusals_are_frame_answers() {
        use share_core::FrameRejection as R;
        for r in [
            R::TokenRequired,
            R::InvalidJson,
            R::PayloadTooLarge,
            R::IngestRateLimited {
                retry_after: std::time::Duration::from_millis(250),
            },
            R::SessionNotFound,
            R::SessionExpired { ended: None },
            R::SessionStopped,
            R::StreamWatchDisabled,
            R::InvalidMimeType,
            R::FrameDataRequired,
            R::InvalidFrameData,
            R::FrameTooLarge {
                max_frame_bytes: 800_000,
            },
            R::FrameRateLimited {
                max_frames_per_minute: 90,
            },
        ] {
            let body = serde_json::to_value(r.body()).expect("value");
            assert_eq!(sorted(&FrameAnswer::from(r.body())), body.to_string());
            let answer: FrameAnswer =
                serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert!(!answer.accepted);
            assert_eq!(answer.reason.as_deref(), Some(r.reason()));
            assert_eq!(sorted(&answer), body.to_string());
        }
        // A field the schema does not name is caught.
        assert!(
            serde_json::from_value::<FrameAnswer>(
                json!({"accepted": false, "reason": "x", "extra": 1})
            )
            .is_err()
        );
    }
}

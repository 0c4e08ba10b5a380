//! The admin routes' handlers (media, voice, settings, the dashboard).
//! They run behind the admin router's route layer (`guard.rs`): host,
//! origin, content type and token are checked before any of them, or
//! their extractors, sees the request.
// Handlers return early with a ready `Response` as their error value.
#![allow(clippy::result_large_err)]

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ipc_schema::*;
use serde::Deserialize;

use super::api_doc::sorted_json;
use super::views::{Done, MediaState, Recaps, SettingsAnswer, SettingsRefused};
use super::{AppState, combined_state, error, error_with, json_body, watch_and_body, watch_of};

/// `GET /dashboard` (admin; never on the public host).
pub(super) async fn dashboard() -> Response {
    axum::response::Html(include_str!("dashboard.html")).into_response()
}

/// `GET /api/voice/events` (admin): server-sent events, the combined state
/// once a second.
pub(super) async fn events(State(state): State<AppState>) -> Response {
    let stream = futures_util::stream::unfold((state, true), |(state, first)| async move {
        if !first {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        // Through a `Value`: keys sorted, as the dashboard has always had them.
        let v = serde_json::to_value(combined_state(&state).await).unwrap_or_default();
        let event = axum::response::sse::Event::default().data(v.to_string());
        Some((Ok::<_, std::convert::Infallible>(event), (state, false)))
    });
    axum::response::Sse::new(stream)
        .keep_alive(axum::response::sse::KeepAlive::default())
        .into_response()
}

/// `GET /api/voice/frame.jpg` (admin): the latest frame of the watch.
pub(super) async fn latest_frame(State(state): State<AppState>) -> Response {
    match &state.brain {
        Some(b) => match b.latest_frame().await {
            Some(jpeg) => (
                [
                    (axum::http::header::CONTENT_TYPE, "image/jpeg"),
                    (axum::http::header::CACHE_CONTROL, "no-store"),
                ],
                jpeg,
            )
                .into_response(),
            None => error(StatusCode::NOT_FOUND, "no frame yet"),
        },
        None => error(StatusCode::NOT_FOUND, "no frame yet"),
    }
}

/// `POST /api/voice/screen-watch`: `{"action": "start"|"stop", "guildId",
/// "requesterId", "target"?, "preferredTransport"?}`. In a DM / group DM
/// call, `"channelId"` (the DM channel) replaces `"guildId"`.
pub(super) async fn screen_watch(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Response {
    let (watch, body) = match watch_and_body::<super::ids::ScreenWatchBody>(&state, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = match body.action.as_str() {
        "start" => match body.start.into_request() {
            Ok(req) => watch.start(req).await,
            Err(r) => return r,
        },
        // The guild, else the call; neither: every watch. The requester
        // is not needed to stop.
        "stop" => match body.start.place() {
            Ok(place) => watch.stop(place).await,
            Err(r) => return r,
        },
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("unknown action {other:?} (start or stop)"),
            );
        }
    };
    Json(result).into_response()
}

/// `POST /api/voice/go-live` (admin): `{action: start|pause|resume|stop,
/// guildId}`: our own Go Live through the gateway (op 18/22/19).
pub(super) async fn go_live(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let watch = match watch_of(&state) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match json_body::<super::ids::GoLiveBody>(&body).and_then(super::ids::GoLiveBody::into_request)
    {
        Ok(req) => Json(watch.go_live(req).await).into_response(),
        Err(r) => r,
    }
}

/// `GET /api/settings` (admin): the live `voice.streamWatch` settings.
pub(super) async fn get_settings(State(state): State<AppState>) -> Response {
    sorted_json(&SettingsAnswer {
        ok: true,
        settings: state.settings.current(),
    })
}

/// `PATCH /api/settings` (admin): a JSON object with some of the
/// `voice.streamWatch` keys. Strict: unknown or legacy keys, wrong types
/// and out-of-range values are refused (400) with every problem named;
/// nothing changes unless everything is valid. Saved before it applies.
pub(super) async fn patch_settings(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Response {
    let patch: serde_json::Value = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match state.settings.patch(&patch).await {
        Ok(settings) => sorted_json(&SettingsAnswer { ok: true, settings }),
        Err(crate::settings::PatchError::Invalid(problems)) => {
            let errors: Vec<String> = problems.iter().map(ToString::to_string).collect();
            let body = SettingsRefused {
                error: errors.join("; "),
                errors,
                ok: false,
            };
            (StatusCode::BAD_REQUEST, sorted_json(&body)).into_response()
        }
        Err(crate::settings::PatchError::NotSaved(e)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("settings not saved, nothing changed: {e}"),
        ),
    }
}

/// `GET /api/voice/recaps` (admin): the newest saved watch recaps.
pub(super) async fn recaps(State(state): State<AppState>) -> Response {
    match state.store.load_recaps(20).await {
        Ok(recaps) => sorted_json(&Recaps { ok: true, recaps }),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// `GET /api/voice/state`: sharers, streams, own voice and watches, with
/// the brain's and speech's views.
pub(super) async fn voice_state(State(state): State<AppState>) -> Response {
    let watch = match watch_of(&state) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Some(view) = watch.state().await else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "watch manager stopped");
    };
    let brain = match &state.brain {
        Some(b) => b.view().await,
        None => None,
    };
    super::api_doc::sorted_json(&super::api_doc::VoiceState {
        view: Some(view),
        brain,
        speech: state.speech.as_ref().map(|sp| sp.state().borrow().clone()),
    })
}

/// `GET /api/media/state`: desired and known media state.
pub(super) async fn media_state(State(state): State<AppState>) -> Response {
    match state.media.view().await {
        Ok(v) => Json(MediaState::from(v)).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

fn parse_id(s: &str, field: &str) -> Result<u64, Response> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| error(StatusCode::BAD_REQUEST, &format!("{field}_invalid")))
}

/// The body of `PUT /api/media/voice`: a voice server to connect mediad
/// to. Every field is required; ids are snowflakes as strings.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct VoiceBody {
    /// The guild.
    guild_id: String,
    /// The voice channel (also the DAVE group).
    channel_id: String,
    /// Our own user.
    user_id: String,
    /// The gateway's voice session id (a secret: never logged).
    session_id: String,
    /// The voice server's host (not blank).
    endpoint: String,
    /// The voice server's token (a secret: never logged).
    token: String,
}

pub(super) async fn put_voice(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let Ok(b) = serde_json::from_slice::<VoiceBody>(&body) else {
        return error(StatusCode::BAD_REQUEST, "invalid_json_body");
    };
    let ids = (|| {
        Ok::<_, Response>((
            parse_id(&b.guild_id, "guild_id")?,
            parse_id(&b.channel_id, "channel_id")?,
            parse_id(&b.user_id, "user_id")?,
        ))
    })();
    let (guild, channel, user) = match ids {
        Ok(v) => v,
        Err(r) => return r,
    };
    if b.endpoint.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "endpoint_required");
    }
    let v = VoiceConnect {
        guild_id: GuildId(guild),
        channel_id: ChannelId(channel),
        user_id: UserId(user),
        session_id: Secret::new(b.session_id),
        endpoint: b.endpoint,
        token: Secret::new(b.token),
        dave_group_id: channel,
    };
    match state.media.set_voice(Some(v), "admin_api").await {
        Ok(()) => Json(Done::OK).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

pub(super) async fn delete_voice(State(state): State<AppState>) -> Response {
    match state.media.set_voice(None, "admin_api").await {
        Ok(()) => Json(Done::OK).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

/// The body of `PUT /api/media/subscriptions/{user_id}`: a JSON object
/// with at least one of these keys and no other.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub(super) struct SubscriptionBody {
    /// `screen`, or `camera` (also `video`); absent: any.
    stream_type: Option<String>,
    /// Frames per second mediad forwards (default 2).
    #[schema(default = 2.0)]
    max_fps: Option<f32>,
    /// Stream quality asked of the sender (default 100).
    #[schema(default = 100, maximum = 255)]
    quality: Option<u8>,
    /// Resolution asked for, in pixels (absent: the sender's).
    preferred_pixel_count: Option<u32>,
    /// JPEG quality of forwarded frames (default 75).
    #[schema(default = 75, maximum = 255)]
    jpeg_quality: Option<u8>,
}

pub(super) async fn put_subscription(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let user = match parse_id(&user_id, "user_id") {
        Ok(u) => u,
        Err(r) => return r,
    };
    let b = match subscription_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let stream_type = match b.stream_type.as_deref() {
        None => None,
        Some("screen") => Some(StreamType::Screen),
        Some("camera") | Some("video") => Some(StreamType::Camera),
        Some(_) => return error(StatusCode::BAD_REQUEST, "stream_type_invalid"),
    };
    let s = VideoSubscription {
        user_id: UserId(user),
        stream_type,
        max_fps: b.max_fps.unwrap_or(2.0),
        quality: b.quality.unwrap_or(100),
        preferred_pixel_count: b.preferred_pixel_count,
        jpeg_quality: b.jpeg_quality.unwrap_or(75),
    };
    match state.media.subscribe(s).await {
        Ok(()) => Json(Done::OK).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

/// A subscription body: a JSON object naming at least one known field.
/// `[]`, `{}`, unknown keys and an empty body are refused (they used to
/// create a subscription with every default).
fn subscription_body(body: &[u8]) -> Result<SubscriptionBody, Response> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| error(StatusCode::BAD_REQUEST, "invalid_json_body"))?;
    match &v {
        serde_json::Value::Object(m) if !m.is_empty() => {}
        serde_json::Value::Object(_) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "subscription_fields_required",
            ));
        }
        _ => return Err(error(StatusCode::BAD_REQUEST, "json_object_required")),
    }
    serde_json::from_value(v).map_err(|e| {
        error_with(
            StatusCode::BAD_REQUEST,
            "invalid_subscription",
            &format!("invalid subscription: {e}"),
        )
    })
}

pub(super) async fn delete_subscription(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> Response {
    let user = match parse_id(&user_id, "user_id") {
        Ok(u) => u,
        Err(r) => return r,
    };
    match state.media.unsubscribe(UserId(user)).await {
        Ok(()) => Json(Done::OK).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

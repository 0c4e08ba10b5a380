//! The API's shapes in one place: the typed answers of the routes whose
//! shape is part of the API, and the OpenAPI document served at
//! `GET /api/openapi.json` (admin), generated with `utoipa`. Every route
//! the router has is in it (checked against `super::route_list`).
//!
//! Answers that went through a `serde_json::Value` before they were typed
//! (health, voice state, share listings, errors, settings, recaps) are
//! still written through one ([`sorted_json`]), so their bytes are
//! unchanged: keys in sorted order at every level. The other typed answers
//! are in `views.rs`; the frame and stop answers in `watch/link.rs`, where
//! the watch manager builds them; the schemas of parts whose types live in
//! pure crates in `schemas.rs`. Every answer is documented down to its
//! leaves (tested); the only free-form answer is this document itself.
//! Every JSON request body has a schema too (tested): the structs the
//! handlers parse into (`ids.rs`, `admin.rs`) derive theirs; bodies read
//! by share-core or from a JSON value (frames, settings patch, share stop)
//! have schema-only mirrors in `schemas.rs` and `share.rs`.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::views;

/// A JSON answer written through a `serde_json::Value` (keys sorted).
pub(super) fn sorted_json<T: Serialize>(v: &T) -> Response {
    Json(serde_json::to_value(v).unwrap_or_default()).into_response()
}

/// Every error answer: `error` says it, `reason` is stable.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(super) struct ErrorBody {
    /// What went wrong, for a person.
    pub error: String,
    /// Always `false`.
    pub ok: bool,
    /// A stable `snake_case` code.
    pub reason: String,
}

/// Frames through the two frame routes since start.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct IngestView {
    /// Admitted by the watch manager.
    pub admitted: u64,
    /// Refused (session, presence, MIME, size, rate).
    pub refused: u64,
    /// JPEGs decoded at 1/8 scale for change metrics.
    pub jpeg_decoded: u64,
    /// Thread CPU time those decodes took, in ns.
    pub jpeg_decode_cpu_ns: u64,
}

/// `GET /healthz`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct Health {
    /// `ok`, or `degraded` when mediad or the Discord gateway is not
    /// connected.
    pub status: &'static str,
    /// Seconds since control started.
    pub uptime_secs: u64,
    /// The connection to mediad.
    pub mediad: crate::media::MediadConnStatus,
    /// The Discord gateway session (`null` without one).
    pub gateway: Option<crate::discord::GatewayStatus>,
    /// Frame ingest counters.
    pub frame_ingest: IngestView,
}

/// `GET /api/voice/state`: the watch manager's view, with the brain's and
/// speech's when they run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(super) struct VoiceState {
    /// Own user, voice channels, sharers, streams and watches
    /// (`userId`, `voice`, `sharers`, `streams`, `watches`); always there
    /// on `GET /api/voice/state`, absent from a dashboard event whose watch
    /// manager did not answer.
    #[serde(flatten)]
    #[schema(value_type = crate::watch::VoiceStateView)]
    pub view: Option<crate::watch::VoiceStateView>,
    /// The brain's notes, loops and calls (absent without a brain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brain: Option<crate::brain::BrainView>,
    /// Speech in and out (absent without speech).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speech: Option<crate::voice::VoiceState>,
}

/// The token header the admin routes take.
struct DashboardToken;

impl Modify for DashboardToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "dashboardToken",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-dashboard-token",
                "DASHBOARD_TOKEN (browser routes also take `?token=`); without one, control listens on loopback only",
            ))),
        );
        components.add_security_scheme(
            "publicApiToken",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-public-api-token",
                "PUBLIC_API_TOKEN, for the direct ingest route",
            ))),
        );
    }
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "control",
        description = "control's HTTP API: health, the admin API (media, voice, watches, share links, settings, the dashboard) and the public share-link routes. Every error is JSON: `{\"ok\": false, \"error\": …, \"reason\": …}`. Only the share routes are reachable through the public host."
    ),
    paths(
        doc::healthz,
        doc::settings_reference,
        doc::share_frame,
        doc::share_stop,
        doc::stream_ingest,
        doc::stream_ingest_slash,
        doc::share_page,
        doc::media_state,
        doc::screen_watch,
        doc::go_live,
        doc::voice_state,
        doc::get_settings,
        doc::patch_settings,
        doc::recaps,
        doc::create_share,
        doc::list_shares,
        doc::stop_shares,
        doc::put_voice,
        doc::delete_voice,
        doc::put_subscription,
        doc::delete_subscription,
        doc::openapi,
        doc::dashboard,
        doc::events,
        doc::latest_frame,
    ),
    components(schemas(
        ErrorBody,
        Health,
        IngestView,
        VoiceState,
        crate::watch::WatchResult,
        crate::watch::ShareListing,
        crate::watch::ShareSessionView,
        crate::watch::VoiceStateView,
        crate::watch::WatchView,
        views::Done,
        views::SettingsAnswer,
        views::SettingsRefused,
        views::SettingsReference,
        views::Recaps,
        views::MediaState,
        views::DesiredState,
        crate::media::desired::VoiceConnectState,
        crate::media::desired::StreamConnectState,
        crate::media::MediadConnStatus,
        crate::media::client::MediadView,
        crate::media::client::TransportView,
        crate::media::client::SubscriptionView,
        crate::discord::GatewayStatus,
        crate::brain::BrainView,
        crate::brain::CommentaryEntry,
        crate::brain::EarlierView,
        crate::brain::RecapView,
        crate::voice::VoiceState,
        crate::voice::TranscriptView,
        crate::store::RecapRecord,
        crate::watch::OwnVoiceView,
        crate::watch::SharerView,
        crate::watch::StreamView,
        crate::watch::FrameAnswer,
        crate::watch::ShareStopAnswer,
        super::schemas::SettingsSchema,
        super::schemas::SettingDocSchema,
        super::schemas::SettingsPatchSchema,
        super::schemas::FrameBodySchema,
        super::schemas::IngestFrameBodySchema,
        super::ids::StartBody,
        super::ids::ScreenWatchBody,
        super::ids::GoLiveBody,
        super::share::StopSharesBody,
        super::admin::VoiceBody,
        super::admin::SubscriptionBody,
        views::DashboardState
    )),
    modifiers(&DashboardToken),
    tags(
        (name = "health", description = "No token; local hosts only."),
        (name = "share", description = "Share-link routes: the token in the path (or PUBLIC_API_TOKEN) is the capability; the only routes of the public host."),
        (name = "admin", description = "Admin routes: Host allowlist, same-origin, JSON writes and the dashboard token, checked before anything reads the request."),
    )
)]
pub(crate) struct ApiDoc;

/// The document as JSON.
pub(crate) fn document() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}

/// `GET /api/openapi.json` (admin).
pub(super) async fn openapi_json() -> Response {
    Json(document()).into_response()
}

/// The routes' descriptions (the handlers are in `mod.rs`, `admin.rs` and
/// `share.rs`).
#[allow(dead_code)]
mod doc {
    use super::views::{
        Done, FrameAnswer, MediaState, Recaps, SettingsAnswer, SettingsReference, SettingsRefused,
        ShareStopAnswer,
    };
    use super::{ErrorBody, Health, VoiceState};

    #[utoipa::path(get, path = "/healthz", tag = "health",
        responses((status = 200, description = "Health (status `degraded` when mediad or the gateway is down)", body = Health)))]
    fn healthz() {}

    #[utoipa::path(get, path = "/api/settings/reference", tag = "health",
        responses((status = 200, description = "Every `voice.streamWatch` key with its meaning, default, range and reader", body = SettingsReference)))]
    fn settings_reference() {}

    #[utoipa::path(post, path = "/api/voice/share-session/{token}/frame", tag = "share",
        params(("token" = String, Path, description = "The share link's token")),
        request_body(content = crate::http::schemas::FrameBodySchema, description = "A frame", content_type = "application/json"),
        responses(
            (status = 200, description = "`{accepted: true, reason: null}`", body = FrameAnswer),
            (status = 400, description = "`{accepted: false, reason}`: a refused frame", body = FrameAnswer),
            (status = 413, description = "Declared body over the limit", body = FrameAnswer),
            (status = 429, description = "Rate limited (per client, per token)", body = FrameAnswer),
            (status = 503, description = "No Discord session", body = ErrorBody)))]
    fn share_frame() {}

    #[utoipa::path(post, path = "/api/voice/share-session/{token}/stop", tag = "share",
        params(("token" = String, Path, description = "The share link's token")),
        responses(
            (status = 200, description = "Stopped", body = ShareStopAnswer),
            (status = 400, description = "No such link (`share_session_not_found`)", body = ShareStopAnswer),
            (status = 503, description = "No Discord session", body = ErrorBody)))]
    fn share_stop() {}

    #[utoipa::path(post, path = "/api/voice/stream-ingest/frame", tag = "share",
        request_body(content = crate::http::schemas::IngestFrameBodySchema, description = "A frame and the watch it is for", content_type = "application/json"),
        responses(
            (status = 200, description = "`{accepted: true, reason: null}`", body = FrameAnswer),
            (status = 400, description = "`{accepted: false, reason}`", body = FrameAnswer),
            (status = 401, description = "Neither `x-public-api-token` nor the dashboard token", body = FrameAnswer),
            (status = 429, description = "Rate limited", body = FrameAnswer),
            (status = 503, description = "Neither token is configured, or no Discord session", body = FrameAnswer)),
        security(("publicApiToken" = []), ("dashboardToken" = [])))]
    fn stream_ingest() {}

    #[utoipa::path(post, path = "/api/voice/stream-ingest/frame/", tag = "share",
        request_body(content = crate::http::schemas::IngestFrameBodySchema, description = "As without the trailing slash", content_type = "application/json"),
        responses((status = 200, description = "As `/api/voice/stream-ingest/frame`", body = FrameAnswer)),
        security(("publicApiToken" = []), ("dashboardToken" = [])))]
    fn stream_ingest_slash() {}

    #[utoipa::path(get, path = "/share/{token}", tag = "share",
        params(("token" = String, Path, description = "The share link's token")),
        responses(
            (status = 200, description = "The capture page", content_type = "text/html"),
            (status = 404, description = "Expired or unknown link", content_type = "text/html"),
            (status = 503, description = "No Discord session", content_type = "text/html")))]
    fn share_page() {}

    #[utoipa::path(get, path = "/api/media/state", tag = "admin",
        responses(
            (status = 200, description = "Desired and known media state", body = MediaState),
            (status = 401, description = "No or wrong token", body = ErrorBody),
            (status = 503, description = "The mediad connection task stopped", body = ErrorBody)),
        security(("dashboardToken" = [])))]
    fn media_state() {}

    #[utoipa::path(post, path = "/api/voice/screen-watch", tag = "admin",
        request_body(content = crate::http::ids::ScreenWatchBody, description = "Start or stop a watch: `guildId`, or `channelId` for a DM call; ids are snowflake strings", content_type = "application/json"),
        responses(
            (status = 200, description = "The watch result", body = crate::watch::WatchResult),
            (status = 400, description = "Bad JSON, unknown action, or an id that is not a snowflake (`reason`: `<field>_invalid`)", body = ErrorBody),
            (status = 401, description = "No or wrong token", body = ErrorBody),
            (status = 503, description = "No Discord session", body = ErrorBody)),
        security(("dashboardToken" = [])))]
    fn screen_watch() {}

    #[utoipa::path(post, path = "/api/voice/go-live", tag = "admin",
        request_body(content = crate::http::ids::GoLiveBody, description = "What to do with our own Go Live, and where", content_type = "application/json"),
        responses(
            (status = 200, description = "The result (`ok`, `reason`)", body = crate::watch::WatchResult),
            (status = 400, description = "Bad JSON or id", body = ErrorBody),
            (status = 503, description = "No Discord session", body = ErrorBody)),
        security(("dashboardToken" = [])))]
    fn go_live() {}

    #[utoipa::path(get, path = "/api/voice/state", tag = "admin",
        responses(
            (status = 200, description = "Sharers, streams, own voice, watches, brain and speech", body = VoiceState),
            (status = 503, description = "No Discord session, or the watch manager stopped", body = ErrorBody)),
        security(("dashboardToken" = [])))]
    fn voice_state() {}

    #[utoipa::path(get, path = "/api/settings", tag = "admin",
        responses((status = 200, description = "The live `voice.streamWatch` settings", body = SettingsAnswer)),
        security(("dashboardToken" = [])))]
    fn get_settings() {}

    #[utoipa::path(patch, path = "/api/settings", tag = "admin",
        request_body(content = crate::http::schemas::SettingsPatchSchema, description = "Some `voice.streamWatch` keys", content_type = "application/json"),
        responses(
            (status = 200, description = "The settings after saving", body = SettingsAnswer),
            (status = 400, description = "Every problem named; nothing changed", body = SettingsRefused),
            (status = 500, description = "Not saved; nothing changed", body = ErrorBody)),
        security(("dashboardToken" = [])))]
    fn patch_settings() {}

    #[utoipa::path(get, path = "/api/voice/recaps", tag = "admin",
        responses(
            (status = 200, description = "The newest saved watch recaps", body = Recaps),
            (status = 500, description = "The store failed", body = ErrorBody)),
        security(("dashboardToken" = [])))]
    fn recaps() {}

    #[utoipa::path(post, path = "/api/voice/share-session", tag = "admin",
        request_body(content = crate::http::ids::StartBody, description = "Whom the link is for (`target` defaults to the requester; `preferredTransport` is always `link`)", content_type = "application/json"),
        responses(
            (status = 200, description = "The watch result, with `linkUrl` and `expiresInMinutes`", body = crate::watch::WatchResult),
            (status = 400, description = "Bad JSON or id", body = ErrorBody),
            (status = 503, description = "No Discord session", body = ErrorBody)),
        security(("dashboardToken" = [])))]
    fn create_share() {}

    #[utoipa::path(get, path = "/api/voice/share-sessions", tag = "admin",
        responses(
            (status = 200, description = "Live links (token suffixes only)", body = crate::watch::ShareListing),
            (status = 503, description = "No Discord session", body = ErrorBody)),
        security(("dashboardToken" = [])))]
    fn list_shares() {}

    #[utoipa::path(post, path = "/api/voice/share-sessions/stop", tag = "admin",
        request_body(content = crate::http::share::StopSharesBody, description = "`{suffix}` or `{all: true}`", content_type = "application/json"),
        responses(
            (status = 200, description = "`{ok: true, stopped}`", body = ShareStopAnswer),
            (status = 400, description = "Neither suffix nor all", body = ErrorBody),
            (status = 404, description = "No link with that suffix", body = ShareStopAnswer),
            (status = 409, description = "More than one link ends with that suffix", body = ShareStopAnswer)),
        security(("dashboardToken" = [])))]
    fn stop_shares() {}

    #[utoipa::path(put, path = "/api/media/voice", tag = "admin",
        request_body(content = crate::http::admin::VoiceBody, description = "The voice server to connect to", content_type = "application/json"),
        responses(
            (status = 200, description = "`{ok: true}`", body = Done),
            (status = 400, description = "`invalid_json_body`, `<field>_invalid`, `endpoint_required`", body = ErrorBody),
            (status = 503, description = "mediad unreachable", body = ErrorBody)),
        security(("dashboardToken" = [])))]
    fn put_voice() {}

    #[utoipa::path(delete, path = "/api/media/voice", tag = "admin",
        responses((status = 200, description = "`{ok: true}`", body = Done)),
        security(("dashboardToken" = [])))]
    fn delete_voice() {}

    #[utoipa::path(put, path = "/api/media/subscriptions/{user_id}", tag = "admin",
        params(("user_id" = String, Path, description = "The user (snowflake)")),
        request_body(content = crate::http::admin::SubscriptionBody, description = "At least one key", content_type = "application/json"),
        responses(
            (status = 200, description = "`{ok: true}`", body = Done),
            (status = 400, description = "`user_id_invalid`, `json_object_required`, `subscription_fields_required`, `invalid_subscription`, `stream_type_invalid`", body = ErrorBody)),
        security(("dashboardToken" = [])))]
    fn put_subscription() {}

    #[utoipa::path(delete, path = "/api/media/subscriptions/{user_id}", tag = "admin",
        params(("user_id" = String, Path, description = "The user (snowflake)")),
        responses(
            (status = 200, description = "`{ok: true}`", body = Done),
            (status = 400, description = "`user_id_invalid`", body = ErrorBody)),
        security(("dashboardToken" = [])))]
    fn delete_subscription() {}

    // Free-form by design: the answer is an OpenAPI document, whose shape
    // is OpenAPI's, not this API's (allowlisted in the leaf test).
    #[utoipa::path(get, path = "/api/openapi.json", tag = "admin",
        responses((status = 200, description = "This document", body = Object)),
        security(("dashboardToken" = [])))]
    fn openapi() {}

    #[utoipa::path(get, path = "/dashboard", tag = "admin",
        params(("token" = Option<String>, Query, description = "The dashboard token, for a browser")),
        responses((status = 200, description = "The dashboard page", content_type = "text/html")),
        security(("dashboardToken" = [])))]
    fn dashboard() {}

    #[utoipa::path(get, path = "/api/voice/events", tag = "admin",
        params(("token" = Option<String>, Query, description = "The dashboard token, for a browser")),
        responses((status = 200, description = "Server-sent events: `{media, voice, shares}` once a second", content_type = "text/event-stream")),
        security(("dashboardToken" = [])))]
    fn events() {}

    #[utoipa::path(get, path = "/api/voice/frame.jpg", tag = "admin",
        params(("token" = Option<String>, Query, description = "The dashboard token, for a browser")),
        responses(
            (status = 200, description = "The latest frame", content_type = "image/jpeg"),
            (status = 404, description = "No frame yet", body = ErrorBody)),
        security(("dashboardToken" = [])))]
    fn latest_frame() {}
}

#[cfg(test)]
mod tests;

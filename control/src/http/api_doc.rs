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
//! Request bodies are still described in words (`content = Object` with
//! the fields listed): their parsers are in `ids.rs`, `admin.rs` and
//! share-core.

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
        request_body(content = Object, description = "`{dataBase64, mimeType?, …}`", content_type = "application/json"),
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
        request_body(content = Object, description = "`{dataBase64, mimeType?, guildId, streamerUserId?}`", content_type = "application/json"),
        responses(
            (status = 200, description = "`{accepted: true, reason: null}`", body = FrameAnswer),
            (status = 400, description = "`{accepted: false, reason}`", body = FrameAnswer),
            (status = 401, description = "Neither `x-public-api-token` nor the dashboard token", body = FrameAnswer),
            (status = 429, description = "Rate limited", body = FrameAnswer),
            (status = 503, description = "Neither token is configured, or no Discord session", body = FrameAnswer)),
        security(("publicApiToken" = []), ("dashboardToken" = [])))]
    fn stream_ingest() {}

    #[utoipa::path(post, path = "/api/voice/stream-ingest/frame/", tag = "share",
        request_body(content = Object, description = "As without the trailing slash", content_type = "application/json"),
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
        request_body(content = Object, description = "`{action: start|stop, guildId | channelId (a DM call), requesterId, target?, preferredTransport?, textChannelId?}`; ids are snowflake strings", content_type = "application/json"),
        responses(
            (status = 200, description = "The watch result", body = crate::watch::WatchResult),
            (status = 400, description = "Bad JSON, unknown action, or an id that is not a snowflake (`reason`: `<field>_invalid`)", body = ErrorBody),
            (status = 401, description = "No or wrong token", body = ErrorBody),
            (status = 503, description = "No Discord session", body = ErrorBody)),
        security(("dashboardToken" = [])))]
    fn screen_watch() {}

    #[utoipa::path(post, path = "/api/voice/go-live", tag = "admin",
        request_body(content = Object, description = "`{action: start|pause|resume|stop, guildId}`", content_type = "application/json"),
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
        request_body(content = Object, description = "Some `voice.streamWatch` keys", content_type = "application/json"),
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
        request_body(content = Object, description = "`{guildId, requesterId, target?, textChannelId?}` (target defaults to the requester)", content_type = "application/json"),
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
        request_body(content = Object, description = "`{suffix}` or `{all: true}`", content_type = "application/json"),
        responses(
            (status = 200, description = "`{ok: true, stopped}`", body = ShareStopAnswer),
            (status = 400, description = "Neither suffix nor all", body = ErrorBody),
            (status = 404, description = "No link with that suffix", body = ShareStopAnswer),
            (status = 409, description = "More than one link ends with that suffix", body = ShareStopAnswer)),
        security(("dashboardToken" = [])))]
    fn stop_shares() {}

    #[utoipa::path(put, path = "/api/media/voice", tag = "admin",
        request_body(content = Object, description = "`{guildId, channelId, userId, sessionId, endpoint, token}`", content_type = "application/json"),
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
        request_body(content = Object, description = "`{streamType?, maxFps?, quality?, preferredPixelCount?, jpegQuality?}` (at least one)", content_type = "application/json"),
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
mod tests {
    use super::*;

    /// Every route the router has is in the document, with its method, and
    /// the document names no route the router lacks.
    #[test]
    fn the_document_covers_every_route() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0", "{}", doc["openapi"]);
        assert_eq!(doc["info"]["title"], "control");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        let mut documented = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                documented.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
        let routes: std::collections::BTreeSet<(String, String)> = super::super::route_list()
            .into_iter()
            .map(|(m, p)| (m.to_owned(), p.to_owned()))
            .collect();
        assert_eq!(
            routes.len(),
            super::super::route_list().len(),
            "a route listed twice"
        );
        let missing: Vec<_> = routes.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&routes).collect();
        assert!(
            missing.is_empty(),
            "routes not in the document: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "documented routes the router lacks: {extra:?}"
        );
        // Parses back as JSON text, as served.
        let text = serde_json::to_string(&doc).expect("serialize");
        let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back, doc);
        assert!(
            doc["components"]["securitySchemes"]["dashboardToken"].is_object(),
            "{}",
            doc["components"]
        );
        for schema in [
            "Health",
            "ErrorBody",
            "VoiceState",
            "WatchResult",
            "ShareListing",
        ] {
            assert!(
                doc["components"]["schemas"][schema].is_object(),
                "{schema} missing"
            );
        }
        assert_eq!(
            doc["paths"]["/api/voice/share-session"]["post"]["responses"]["200"]["content"]["application/json"]
                ["schema"]["$ref"],
            "#/components/schemas/WatchResult"
        );
    }

    /// The schema a `$ref` names, or the schema itself.
    fn resolve<'a>(
        doc: &'a serde_json::Value,
        schema: &'a serde_json::Value,
    ) -> &'a serde_json::Value {
        match schema["$ref"].as_str() {
            Some(r) => {
                let name = r
                    .strip_prefix("#/components/schemas/")
                    .unwrap_or_else(|| panic!("not a component: {r}"));
                let found = &doc["components"]["schemas"][name];
                assert!(found.is_object(), "{r} is not in the components");
                found
            }
            None => schema,
        }
    }

    /// Every documented answer of every route says what it is: a JSON 200
    /// (and every JSON error) has a schema with named properties (not
    /// `{"type": "object"}`), except the document itself; the page, event
    /// stream and frame routes answer another content type.
    #[test]
    fn every_json_answer_has_a_schema_with_properties() {
        let doc = document();
        let mut json_200 = 0;
        // The properties of a schema, through `$ref`s and `allOf` parts.
        fn properties(doc: &serde_json::Value, schema: &serde_json::Value) -> Vec<String> {
            let schema = resolve(doc, schema);
            let mut out: Vec<String> = schema["properties"]
                .as_object()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            for part in schema["allOf"].as_array().into_iter().flatten() {
                out.extend(properties(doc, part));
            }
            out
        }
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                let responses = op["responses"].as_object().expect("responses");
                assert!(responses.contains_key("200"), "{method} {path}: no 200");
                for (status, r) in responses {
                    let content = r["content"].as_object();
                    let Some(json) = content.and_then(|c| c.get("application/json")) else {
                        assert!(
                            content.is_some_and(|c| !c.is_empty()),
                            "{method} {path} {status}: no content"
                        );
                        continue;
                    };
                    if path == "/api/openapi.json" {
                        continue;
                    }
                    let props = properties(&doc, &json["schema"]);
                    assert!(
                        !props.is_empty(),
                        "{method} {path} {status}: a schema without properties: {}",
                        json["schema"]
                    );
                    if status == "200" {
                        json_200 += 1;
                    }
                }
            }
        }
        assert!(json_200 >= 18, "only {json_200} JSON 200 answers");
        // The dashboard's event is documented too, and media state's
        // desired voice connection is typed down to its fields.
        let dash = &doc["components"]["schemas"]["DashboardState"]["properties"];
        for key in ["media", "voice", "shares"] {
            assert!(dash[key].is_object(), "DashboardState.{key}: {dash}");
        }
        let state = properties(&doc, &doc["components"]["schemas"]["VoiceState"]);
        for key in [
            "userId", "voice", "sharers", "streams", "watches", "brain", "speech",
        ] {
            assert!(
                state.iter().any(|k| k == key),
                "VoiceState.{key}: {state:?}"
            );
        }
        let voice = &doc["components"]["schemas"]["VoiceConnectState"]["properties"];
        for key in ["channelId", "daveGroupId", "endpoint", "guildId", "userId"] {
            assert!(voice[key].is_object(), "VoiceConnectState.{key}: {voice}");
        }
        assert!(voice.get("token").is_none() && voice.get("sessionId").is_none());
    }

    /// Answers that are free-form by design, by route and status: only
    /// these may be (or hold) an object schema without named properties.
    const FREE_FORM: &[(&str, &str, &str)] = &[(
        "/api/openapi.json",
        "200",
        "the document itself: OpenAPI's own shape, not this API's",
    )];

    /// Where a schema, or any schema inside it (properties, items, the
    /// parts of `allOf` / `oneOf` / `anyOf`, map values, through `$ref`s),
    /// is an object without named properties or a schema that says
    /// nothing (`{}`): the places an answer's shape is not documented.
    fn bare_objects(doc: &serde_json::Value, schema: &serde_json::Value, at: &str) -> Vec<String> {
        fn walk(
            doc: &serde_json::Value,
            schema: &serde_json::Value,
            at: String,
            seen: &mut std::collections::BTreeSet<String>,
            out: &mut Vec<String>,
        ) {
            if let Some(r) = schema["$ref"].as_str() {
                if seen.insert(r.to_owned()) {
                    walk(doc, resolve(doc, schema), format!("{at} ({r})"), seen, out);
                }
                return;
            }
            let Some(obj) = schema.as_object() else {
                out.push(format!("{at}: not a schema: {schema}"));
                return;
            };
            let is_object = match &schema["type"] {
                serde_json::Value::String(t) => t == "object",
                serde_json::Value::Array(ts) => ts.iter().any(|t| t == "object"),
                _ => false,
            };
            let has_properties = schema["properties"]
                .as_object()
                .is_some_and(|p| !p.is_empty());
            let map_values = schema["additionalProperties"].is_object();
            let says_something = [
                "type",
                "allOf",
                "oneOf",
                "anyOf",
                "enum",
                "const",
                "properties",
            ]
            .iter()
            .any(|k| obj.contains_key(*k));
            if (is_object && !has_properties && !map_values) || !says_something {
                out.push(format!("{at}: {schema}"));
            }
            for (name, p) in schema["properties"].as_object().into_iter().flatten() {
                walk(doc, p, format!("{at}.{name}"), seen, out);
            }
            if schema["items"].is_object() {
                walk(doc, &schema["items"], format!("{at}[]"), seen, out);
            }
            if map_values {
                walk(
                    doc,
                    &schema["additionalProperties"],
                    format!("{at}{{}}"),
                    seen,
                    out,
                );
            }
            for k in ["allOf", "oneOf", "anyOf"] {
                for (i, part) in schema[k].as_array().into_iter().flatten().enumerate() {
                    walk(doc, part, format!("{at}.{k}[{i}]"), seen, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(
            doc,
            schema,
            at.to_owned(),
            &mut Default::default(),
            &mut out,
        );
        out
    }

    /// Every JSON answer is documented down to its leaves: no object
    /// without named properties anywhere inside it (the settings, the
    /// media state's mediad view and connection, health's gateway, the
    /// voice state's voice, sharers, streams, brain and speech, the
    /// recaps), except the allowlisted free-form answers; every
    /// component is complete too.
    #[test]
    fn every_json_answer_is_typed_down_to_its_leaves() {
        let doc = document();
        let mut bare = Vec::new();
        let mut allowed = 0;
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                for (status, r) in op["responses"].as_object().expect("responses") {
                    let Some(json) = r["content"].get("application/json") else {
                        continue;
                    };
                    if FREE_FORM.iter().any(|(p, s, _)| p == path && s == status) {
                        allowed += 1;
                        continue;
                    }
                    bare.extend(bare_objects(
                        &doc,
                        &json["schema"],
                        &format!("{method} {path} {status}"),
                    ));
                }
            }
        }
        assert_eq!(allowed, FREE_FORM.len(), "an allowlisted answer is gone");
        for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
            bare.extend(bare_objects(&doc, schema, name));
        }
        assert!(
            bare.is_empty(),
            "schemas without properties:\n{}",
            bare.join("\n")
        );
        // The check sees what it is for: a bare object inside an answer,
        // behind a `$ref` and an optional, is caught.
        let mut probe = doc.clone();
        probe["components"]["schemas"]["Health"]["properties"]["mediad"] =
            serde_json::json!({"type": "object"});
        let health = serde_json::json!({"$ref": "#/components/schemas/DashboardState"});
        assert!(bare_objects(&probe, &health, "probe").is_empty());
        let health = serde_json::json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Health"}]});
        let found = bare_objects(&probe, &health, "probe");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains(".mediad"), "{found:?}");
        assert_eq!(bare_objects(&probe, &serde_json::json!({}), "any").len(), 1);
    }

    /// The typed answers write the same bytes as the `json!` views they
    /// replaced.
    #[test]
    fn typed_answers_keep_their_bytes() {
        let e = ErrorBody {
            error: "Not found.".into(),
            ok: false,
            reason: "not_found".into(),
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            serde_json::json!({"ok": false, "error": "Not found.", "reason": "not_found"})
                .to_string()
        );
        let h = Health {
            status: "degraded",
            uptime_secs: 7,
            mediad: crate::media::MediadConnStatus::default(),
            gateway: None,
            frame_ingest: IngestView {
                admitted: 1,
                refused: 2,
                jpeg_decoded: 3,
                jpeg_decode_cpu_ns: 4,
            },
        };
        let old = serde_json::json!({
            "status": "degraded",
            "uptimeSecs": 7,
            "mediad": crate::media::MediadConnStatus::default(),
            "gateway": Option::<crate::discord::GatewayStatus>::None,
            "frameIngest": {"admitted": 1, "refused": 2, "jpegDecoded": 3, "jpegDecodeCpuNs": 4},
        });
        assert_eq!(
            serde_json::to_value(&h).unwrap().to_string(),
            old.to_string()
        );
        let listing = crate::watch::ShareListing {
            sessions: vec![crate::watch::ShareSessionView {
                suffix: "QrStUvWx".into(),
                guild_id: "1".into(),
                requester_id: "2".into(),
                target_id: "3".into(),
                expires_in_minutes: 14,
                frames_accepted: 5,
            }],
        };
        let old = serde_json::json!({"sessions": [{
            "suffix": "QrStUvWx",
            "guildId": "1",
            "requesterId": "2",
            "targetId": "3",
            "expiresInMinutes": 14,
            "framesAccepted": 5,
        }]});
        assert_eq!(
            serde_json::to_value(&listing).unwrap().to_string(),
            old.to_string()
        );
    }
}

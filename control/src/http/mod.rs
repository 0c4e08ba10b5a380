//! The HTTP server: health, and the admin API over the media state.
// Handlers return early with a ready `Response` as their error value; boxing
// it would only add noise to every handler.
#![allow(clippy::result_large_err)]

use crate::media::MediaHandle;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use ipc_schema::*;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

mod guard;
pub mod serve;
mod share;
use share::{
    create_share, list_shares, share_answer, share_frame, share_page, share_stop, stop_shares,
    stream_ingest,
};

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    media: MediaHandle,
    gateway: Option<crate::discord::GatewayHandle>,
    watch: Option<crate::watch::WatchHandle>,
    brain: Option<crate::brain::BrainHandle>,
    speech: Option<crate::voice::VoiceHandle>,
    share: share_core::ShareSettings,
    gate: Arc<share_core::PublicHostGate>,
    /// Who may reach the admin routes (host, origin, content type).
    admin_policy: Arc<share_core::AdminPolicy>,
    ingest_limit: Arc<std::sync::Mutex<share_core::RateLimiter<std::net::IpAddr>>>,
    /// Per share token (the last path segment's token), so one link cannot
    /// flood the server from many addresses.
    token_limit: Arc<std::sync::Mutex<share_core::RateLimiter<String>>>,
    settings: crate::settings::SettingsHub,
    store: crate::store::Store,
    dashboard_token: Option<Arc<str>>,
    public_api_token: Option<Arc<str>>,
    started: Instant,
    ingest: Arc<IngestCounters>,
}

/// Frames through the two frame routes since start (shown by `/healthz`).
#[derive(Default)]
pub(crate) struct IngestCounters {
    /// Admitted by the watch manager.
    pub(crate) admitted: std::sync::atomic::AtomicU64,
    /// Refused by the watch manager (session, presence, MIME, size, rate).
    pub(crate) refused: std::sync::atomic::AtomicU64,
    /// JPEGs decoded at 1/8 scale for change metrics: only admitted ones.
    pub(crate) jpeg_decoded: std::sync::atomic::AtomicU64,
    /// Thread CPU time those decodes took, in ns.
    pub(crate) jpeg_decode_cpu_ns: std::sync::atomic::AtomicU64,
}

impl IngestCounters {
    pub(crate) fn bump(counter: &std::sync::atomic::AtomicU64) {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn view(&self) -> serde_json::Value {
        let get = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        json!({
            "admitted": get(&self.admitted),
            "refused": get(&self.refused),
            "jpegDecoded": get(&self.jpeg_decoded),
            "jpegDecodeCpuNs": get(&self.jpeg_decode_cpu_ns),
        })
    }
}

/// What the HTTP server is built from.
pub struct AppParts {
    /// mediad.
    pub media: MediaHandle,
    /// Guards the admin routes when set.
    pub dashboard_token: Option<String>,
    /// `PUBLIC_API_TOKEN`: the direct ingest route's header token.
    pub public_api_token: Option<String>,
    /// The Discord session, if any.
    pub gateway: Option<crate::discord::GatewayHandle>,
    /// The watch manager (with a Discord session).
    pub watch: Option<crate::watch::WatchHandle>,
    /// The brain (with a Discord session).
    pub brain: Option<crate::brain::BrainHandle>,
    /// Speech in and out (with a Discord session).
    pub speech: Option<crate::voice::VoiceHandle>,
    /// Share rules at start (the body limit is fixed from them).
    pub share: share_core::ShareSettings,
    /// The public host, if the share page is public.
    pub public_host: Option<String>,
    /// Live settings.
    pub settings: crate::settings::SettingsHub,
    /// The store.
    pub store: crate::store::Store,
    /// Host names besides `localhost` that may reach the admin routes
    /// (`--admin-hosts` / `CONTROL_ADMIN_HOSTS`).
    pub admin_hosts: Vec<String>,
    /// The address the HTTP server is bound to (IP literals in `Host` must
    /// name it).
    pub bound_addr: std::net::SocketAddr,
}

impl AppState {
    /// The handlers' state.
    pub fn new(p: AppParts) -> Self {
        Self {
            media: p.media,
            gateway: p.gateway,
            watch: p.watch,
            brain: p.brain,
            speech: p.speech,
            share: p.share,
            gate: Arc::new(share_core::PublicHostGate::new(p.public_host.as_deref())),
            admin_policy: Arc::new(
                share_core::AdminPolicy::new(p.admin_hosts.iter().map(String::as_str))
                    .bound_to(p.bound_addr),
            ),
            ingest_limit: Arc::new(std::sync::Mutex::new(share_core::RateLimiter::new(
                share_core::RateLimit::PER_IP,
                4096,
            ))),
            token_limit: Arc::new(std::sync::Mutex::new(share_core::RateLimiter::new(
                share_core::RateLimit::PER_TOKEN,
                4096,
            ))),
            settings: p.settings,
            store: p.store,
            dashboard_token: p.dashboard_token.map(Arc::from),
            public_api_token: p
                .public_api_token
                .filter(|t| !t.trim().is_empty())
                .map(Arc::from),
            started: Instant::now(),
            ingest: Arc::default(),
        }
    }
}

/// All routes.
pub fn router(state: AppState) -> Router {
    // Frame routes take bodies up to the share rules' limit (plus slack).
    let frame_limit = axum::extract::DefaultBodyLimit::max(
        usize::try_from(state.share.max_body_bytes)
            .unwrap_or(usize::MAX)
            .saturating_add(1024),
    );
    // Admin routes: the guard (host, origin, content type, token) runs
    // before any extractor reads a body.
    let admin = Router::new()
        .route("/api/media/state", get(media_state))
        .route("/api/voice/screen-watch", post(screen_watch))
        .route("/api/voice/go-live", post(go_live))
        .route("/api/voice/state", get(voice_state))
        .route("/api/settings", get(get_settings).patch(patch_settings))
        .route("/api/voice/recaps", get(recaps))
        .route("/dashboard", get(dashboard))
        .route("/api/voice/events", get(events))
        .route("/api/voice/frame.jpg", get(latest_frame))
        .route("/api/voice/share-session", post(create_share))
        .route("/api/voice/share-sessions", get(list_shares))
        .route("/api/voice/share-sessions/stop", post(stop_shares))
        .route("/api/media/voice", put(put_voice).delete(delete_voice))
        .route(
            "/api/media/subscriptions/{user_id}",
            put(put_subscription).delete(delete_subscription),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::admin_guard,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/settings/reference", get(settings_reference))
        .route(
            "/api/voice/share-session/{token}/frame",
            post(share_frame).layer(frame_limit),
        )
        .route("/api/voice/share-session/{token}/stop", post(share_stop))
        .route(
            "/api/voice/stream-ingest/frame",
            post(stream_ingest).layer(frame_limit),
        )
        .route(
            "/api/voice/stream-ingest/frame/",
            post(stream_ingest).layer(frame_limit),
        )
        .route("/share/{token}", get(share_page))
        .merge(admin)
        .fallback(|| async { error_with(StatusCode::NOT_FOUND, "not_found", "Not found.") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            public_gate,
        ))
        .layer(axum::middleware::from_fn(guard::json_errors))
        .layer(axum::middleware::from_fn(guard::head_limits))
        .with_state(state)
}

/// Public-host gating and the per-IP ingest limit. Requests whose
/// `X-Forwarded-Host` or `Host` is the public host reach only the share
/// routes (frame, stop, the page); everything else answers 404 there.
async fn public_gate(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(serve::Peer(peer)): axum::extract::ConnectInfo<serve::Peer>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // Every Host / X-Forwarded-Host / Forwarded line and an absolute-form
    // URI: public if any names the public host; ambiguous ones refused.
    let decision = state.gate.check_all(
        req.method().as_str(),
        req.uri().path(),
        &guard::host_sources(&req),
    );
    let headers = req.headers();
    let public = match decision {
        share_core::GateDecision::AllowLocal => false,
        share_core::GateDecision::AllowPublic(_) => true,
        share_core::GateDecision::NotFound(_) => {
            return error_with(StatusCode::NOT_FOUND, "not_found", "Not found.");
        }
        share_core::GateDecision::Ambiguous(a) => {
            return error_with(StatusCode::BAD_REQUEST, a.reason(), a.reason());
        }
    };
    let is_ingest = req.method() == axum::http::Method::POST
        && (req.uri().path().starts_with("/api/voice/share-session/")
            || req
                .uri()
                .path()
                .trim_end_matches('/')
                .ends_with("/api/voice/stream-ingest/frame"));
    if is_ingest {
        // Refuse a declared oversize body before anything reads it.
        if let Some(len) = headers
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            && let Err(r) = share_core::check_declared_length(len, state.share.max_body_bytes)
        {
            let mut resp = share_answer((r.http_status(), r.body()));
            resp.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            return resp;
        }
    }
    // Rate limits apply to frames only: stopping is never held back.
    let is_frame = is_ingest && req.uri().path().trim_end_matches('/').ends_with("/frame");
    if is_frame {
        // Behind the public host's proxy, the client is the first
        // X-Forwarded-For address; locally, the peer.
        let client = public
            .then(|| {
                headers
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(',').next())
                    .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok())
            })
            .flatten()
            .unwrap_or(peer.ip());
        let verdict = state
            .ingest_limit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .check(&client, Instant::now());
        if let Err(limited) = verdict {
            let r: share_core::FrameRejection = limited.into();
            return (StatusCode::TOO_MANY_REQUESTS, Json(r.body())).into_response();
        }
        // …and per token (`/api/voice/share-session/{token}/frame`).
        if let Some(token) = req
            .uri()
            .path()
            .strip_prefix("/api/voice/share-session/")
            .and_then(|rest| rest.strip_suffix("/frame"))
            .filter(|t| !t.is_empty() && !t.contains('/'))
        {
            let verdict = state
                .token_limit
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .check(&token.to_owned(), Instant::now());
            if let Err(limited) = verdict {
                let r: share_core::FrameRejection = limited.into();
                return (StatusCode::TOO_MANY_REQUESTS, Json(r.body())).into_response();
            }
        }
    }
    next.run(req).await
}

/// 503 for Discord routes when control runs without a gateway session.
fn no_session() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "no Discord session (set DISCORD_TOKEN)",
    )
}

/// The admin check and the watch manager, for the admin Discord routes.
fn admin_watch<'a>(
    state: &'a AppState,
    headers: &HeaderMap,
) -> Result<&'a crate::watch::WatchHandle, Response> {
    require_admin(state, headers)?;
    state.watch.as_ref().ok_or_else(no_session)
}

/// A JSON error response: `error` says it, `reason` is stable (the
/// message itself when it is a `snake_case` code, else the status's).
fn error(status: StatusCode, message: &str) -> Response {
    let code = !message.is_empty()
        && message
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    let reason = if code {
        message
    } else {
        guard::status_reason(status)
    };
    error_with(status, reason, message)
}

/// A JSON error response with an explicit stable reason.
fn error_with(status: StatusCode, reason: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"ok": false, "error": message, "reason": reason})),
    )
        .into_response()
}

/// A JSON request body, or the 400 that names why it is not one.
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| {
        error_with(
            StatusCode::BAD_REQUEST,
            "invalid_json_body",
            &format!("invalid JSON body: {e}"),
        )
    })
}

/// Constant-time comparison, so the token cannot be guessed byte by byte
/// from response times.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8 | u8::from(a.len() != b.len());
    for (x, y) in a.iter().zip(b.iter().cycle().take(a.len())) {
        diff |= x ^ y;
    }
    diff == 0 && !b.is_empty()
}

/// Admin check: with a DASHBOARD_TOKEN, the `x-dashboard-token` header must
/// match; without one, control only listens on loopback (checked at start).
fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), Response> {
    let Some(expected) = &state.dashboard_token else {
        return Ok(());
    };
    let given = headers
        .get("x-dashboard-token")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if constant_time_eq(given, expected.as_bytes()) {
        return Ok(());
    }
    Err(error_with(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Unauthorized. Provide x-dashboard-token.",
    ))
}

/// Admin check for browser routes (page, event stream, frame), which cannot
/// set headers: the header or a `token` query parameter.
fn require_admin_browser(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<(), Response> {
    let Some(expected) = &state.dashboard_token else {
        return Ok(());
    };
    let from_query = query
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .unwrap_or_default();
    if constant_time_eq(from_query.as_bytes(), expected.as_bytes()) {
        return Ok(());
    }
    require_admin(state, headers)
}

async fn healthz(State(state): State<AppState>) -> Json<serde_json::Value> {
    let link = state.media.status();
    let gateway = state.gateway.as_ref().map(|g| g.status());
    let gateway_ok = gateway.as_ref().is_none_or(|g| g.connected);
    Json(json!({
        "status": if link.connected && gateway_ok { "ok" } else { "degraded" },
        "uptimeSecs": state.started.elapsed().as_secs(),
        "mediad": link,
        "gateway": gateway,
        "frameIngest": state.ingest.view(),
    }))
}

/// The dashboard's combined state (media, voice + brain, share links).
async fn combined_state(state: &AppState) -> serde_json::Value {
    let media = match state.media.view().await {
        Ok(v) => serde_json::to_value(v).unwrap_or_default(),
        Err(_) => serde_json::Value::Null,
    };
    let mut voice = serde_json::Value::Null;
    let mut shares = serde_json::Value::Null;
    if let Some(w) = &state.watch {
        if let Some(v) = w.state().await {
            voice = serde_json::to_value(v).unwrap_or_default();
        }
        shares = w.share_list().await.unwrap_or_default();
    }
    if let Some(b) = &state.brain
        && let Some(view) = b.view().await
    {
        voice["brain"] = serde_json::to_value(view).unwrap_or_default();
    }
    if let Some(sp) = &state.speech {
        voice["speech"] = serde_json::to_value(&*sp.state().borrow()).unwrap_or_default();
    }
    json!({ "media": media, "voice": voice, "shares": shares })
}

/// `GET /dashboard` (admin; never on the public host).
async fn dashboard(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    if let Err(r) = require_admin_browser(&state, &headers, uri.query()) {
        return r;
    }
    axum::response::Html(include_str!("dashboard.html")).into_response()
}

/// `GET /api/voice/events` (admin): server-sent events, the combined state
/// once a second.
async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    if let Err(r) = require_admin_browser(&state, &headers, uri.query()) {
        return r;
    }
    let stream = futures_util::stream::unfold((state, true), |(state, first)| async move {
        if !first {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        let v = combined_state(&state).await;
        let event = axum::response::sse::Event::default().data(v.to_string());
        Some((Ok::<_, std::convert::Infallible>(event), (state, false)))
    });
    axum::response::Sse::new(stream)
        .keep_alive(axum::response::sse::KeepAlive::default())
        .into_response()
}

/// `GET /api/voice/frame.jpg` (admin): the latest frame of the watch.
async fn latest_frame(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    if let Err(r) = require_admin_browser(&state, &headers, uri.query()) {
        return r;
    }
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
async fn screen_watch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let watch = match admin_watch(&state, &headers) {
        Ok(w) => w,
        Err(r) => return r,
    };
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        action: String,
        #[serde(flatten)]
        start: crate::watch::StartRequest,
    }
    let body: Body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let result = match body.action.as_str() {
        "start" => watch.start(body.start).await,
        "stop" => {
            // A call is named `call:<channelId>` on the stop path.
            let guild = Some(body.start.guild_id)
                .filter(|g| !g.trim().is_empty())
                .or_else(|| body.start.channel_id.map(|c| format!("call:{}", c.trim())));
            watch.stop(guild).await
        }
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
async fn go_live(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let watch = match admin_watch(&state, &headers) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match json_body::<crate::watch::GoLiveRequest>(&body) {
        Ok(req) => Json(watch.go_live(req).await).into_response(),
        Err(r) => r,
    }
}

/// `GET /api/settings` (admin): the live `voice.streamWatch` settings.
/// `GET /api/settings/reference`: every `voice.streamWatch` key with its
/// meaning, default, range and reader (static documentation, no secrets).
async fn settings_reference() -> Response {
    Json(json!({"ok": true, "settings": brain_core::settings_reference()})).into_response()
}

async fn get_settings(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = require_admin(&state, &headers) {
        return r;
    }
    Json(json!({"ok": true, "settings": state.settings.current()})).into_response()
}

/// `PATCH /api/settings` (admin): a JSON object with some of the
/// `voice.streamWatch` keys. Strict: unknown or legacy keys, wrong types
/// and out-of-range values are refused (400) with every problem named;
/// nothing changes unless everything is valid. Saved before it applies.
async fn patch_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = require_admin(&state, &headers) {
        return r;
    }
    let patch: serde_json::Value = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match state.settings.patch(&patch).await {
        Ok(s) => Json(json!({"ok": true, "settings": s})).into_response(),
        Err(crate::settings::PatchError::Invalid(problems)) => {
            let errors: Vec<String> = problems.iter().map(ToString::to_string).collect();
            (
                StatusCode::BAD_REQUEST,
                Json(json!({"ok": false, "error": errors.join("; "), "errors": errors})),
            )
                .into_response()
        }
        Err(crate::settings::PatchError::NotSaved(e)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("settings not saved, nothing changed: {e}"),
        ),
    }
}

/// `GET /api/voice/recaps` (admin): the newest saved watch recaps.
async fn recaps(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = require_admin(&state, &headers) {
        return r;
    }
    match state.store.load_recaps(20).await {
        Ok(list) => Json(json!({"ok": true, "recaps": list})).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// `GET /api/voice/state`: sharers, streams, own voice and watches.
async fn voice_state(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let watch = match admin_watch(&state, &headers) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Some(view) = watch.state().await else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "watch manager stopped");
    };
    let mut v = serde_json::to_value(view).unwrap_or_default();
    if let Some(brain) = &state.brain
        && let Some(b) = brain.view().await
    {
        v["brain"] = serde_json::to_value(b).unwrap_or_default();
    }
    if let Some(sp) = &state.speech {
        v["speech"] = serde_json::to_value(&*sp.state().borrow()).unwrap_or_default();
    }
    Json(v).into_response()
}

async fn media_state(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = require_admin(&state, &headers) {
        return r;
    }
    match state.media.view().await {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

fn parse_id(s: &str, field: &str) -> Result<u64, Response> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| error(StatusCode::BAD_REQUEST, &format!("{field}_invalid")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VoiceBody {
    guild_id: String,
    channel_id: String,
    user_id: String,
    session_id: String,
    endpoint: String,
    token: String,
}

async fn put_voice(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = require_admin(&state, &headers) {
        return r;
    }
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
        Ok(()) => Json(json!({"ok": true})).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

async fn delete_voice(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = require_admin(&state, &headers) {
        return r;
    }
    match state.media.set_voice(None, "admin_api").await {
        Ok(()) => Json(json!({"ok": true})).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
struct SubscriptionBody {
    stream_type: Option<String>,
    max_fps: Option<f32>,
    quality: Option<u8>,
    preferred_pixel_count: Option<u32>,
    jpeg_quality: Option<u8>,
}

async fn put_subscription(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = require_admin(&state, &headers) {
        return r;
    }
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
        Ok(()) => Json(json!({"ok": true})).into_response(),
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

async fn delete_subscription(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Response {
    if let Err(r) = require_admin(&state, &headers) {
        return r;
    }
    let user = match parse_id(&user_id, "user_id") {
        Ok(u) => u,
        Err(r) => return r,
    };
    match state.media.unsubscribe(UserId(user)).await {
        Ok(()) => Json(json!({"ok": true})).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secreT", b"secret"));
        assert!(!constant_time_eq(b"secret-longer", b"secret"));
        assert!(!constant_time_eq(b"", b"secret"));
        assert!(
            !constant_time_eq(b"", b""),
            "an empty expected token never matches"
        );
    }
}

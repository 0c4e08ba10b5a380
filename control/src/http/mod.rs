//! The HTTP server: health, and the admin API over the media state.
// Handlers return early with a ready `Response` as their error value; boxing
// it would only add noise to every handler.
#![allow(clippy::result_large_err)]

use crate::media::MediaHandle;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use std::sync::Arc;
use std::time::Instant;

mod admin;
mod api_doc;
mod guard;
mod ids;
mod schemas;
pub mod serve;
mod share;
mod views;

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

    fn view(&self) -> api_doc::IngestView {
        let get = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        api_doc::IngestView {
            admitted: get(&self.admitted),
            refused: get(&self.refused),
            jpeg_decoded: get(&self.jpeg_decoded),
            jpeg_decode_cpu_ns: get(&self.jpeg_decode_cpu_ns),
        }
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

/// One group of routes and the `(method, path)` pairs it serves, built by
/// the same calls, so the list cannot miss a route the router has (the
/// OpenAPI document is checked against it).
pub(crate) struct Routes {
    router: Router<AppState>,
    list: Vec<(&'static str, &'static str)>,
}

impl Routes {
    fn new() -> Self {
        Self {
            router: Router::new(),
            list: Vec::new(),
        }
    }

    /// `path` served for `methods` (upper case, as in the method router).
    fn route(
        mut self,
        path: &'static str,
        methods: &[&'static str],
        handler: axum::routing::MethodRouter<AppState>,
    ) -> Self {
        self.router = self.router.route(path, handler);
        self.list.extend(methods.iter().map(|m| (*m, path)));
        self
    }
}

/// Health and the static settings reference: no token, local hosts only.
fn health_routes() -> Routes {
    Routes::new()
        .route("/healthz", &["GET"], get(healthz))
        .route("/api/settings/reference", &["GET"], get(settings_reference))
}

/// The share routes: the token in the path (or the ingest token) is the
/// capability. The only routes the public host reaches; there
/// (`public`), a path token that is not a well-formed share token is the
/// public host's 404.
fn share_routes(state: &AppState, public: bool) -> Routes {
    // Frame routes take bodies up to the share rules' limit (plus slack).
    let frame_limit = axum::extract::DefaultBodyLimit::max(
        usize::try_from(state.share.max_body_bytes)
            .unwrap_or(usize::MAX)
            .saturating_add(1024),
    );
    let declared = || axum::middleware::from_fn_with_state(state.clone(), guard::declared_length);
    let rate = || axum::middleware::from_fn_with_state(state.clone(), guard::frame_rate);
    let frame = post(share::share_frame)
        .layer(frame_limit)
        .route_layer(rate())
        .route_layer(declared());
    let stop = post(share::share_stop).route_layer(declared());
    let ingest = || {
        post(share::stream_ingest)
            .layer(frame_limit)
            .route_layer(rate())
            .route_layer(declared())
    };
    let (frame, stop, page) = if public {
        let token = || axum::middleware::from_fn(guard::public_token);
        (
            frame.route_layer(token()),
            stop.route_layer(token()),
            get(share::share_page).route_layer(token()),
        )
    } else {
        (frame, stop, get(share::share_page))
    };
    Routes::new()
        .route("/api/voice/share-session/{token}/frame", &["POST"], frame)
        .route("/api/voice/share-session/{token}/stop", &["POST"], stop)
        .route("/api/voice/stream-ingest/frame", &["POST"], ingest())
        .route("/api/voice/stream-ingest/frame/", &["POST"], ingest())
        .route("/share/{token}", &["GET"], page)
}

/// The admin routes that take the token in `x-dashboard-token` only.
fn admin_routes() -> Routes {
    Routes::new()
        .route("/api/media/state", &["GET"], get(admin::media_state))
        .route(
            "/api/voice/screen-watch",
            &["POST"],
            post(admin::screen_watch),
        )
        .route("/api/voice/go-live", &["POST"], post(admin::go_live))
        .route("/api/voice/state", &["GET"], get(admin::voice_state))
        .route(
            "/api/settings",
            &["GET", "PATCH"],
            get(admin::get_settings).patch(admin::patch_settings),
        )
        .route("/api/voice/recaps", &["GET"], get(admin::recaps))
        .route(
            "/api/voice/share-session",
            &["POST"],
            post(share::create_share),
        )
        .route(
            "/api/voice/share-sessions",
            &["GET"],
            get(share::list_shares),
        )
        .route(
            "/api/voice/share-sessions/stop",
            &["POST"],
            post(share::stop_shares),
        )
        .route(
            "/api/media/voice",
            &["PUT", "DELETE"],
            put(admin::put_voice).delete(admin::delete_voice),
        )
        .route(
            "/api/media/subscriptions/{user_id}",
            &["PUT", "DELETE"],
            put(admin::put_subscription).delete(admin::delete_subscription),
        )
        .route("/api/openapi.json", &["GET"], get(api_doc::openapi_json))
}

/// The admin routes a browser opens by URL (the dashboard, its event
/// stream and frame), which cannot set headers: the token may also come
/// as a `token` query parameter.
fn admin_browser_routes() -> Routes {
    Routes::new()
        .route("/dashboard", &["GET"], get(admin::dashboard))
        .route("/api/voice/events", &["GET"], get(admin::events))
        .route("/api/voice/frame.jpg", &["GET"], get(admin::latest_frame))
}

/// Every `(method, path)` control serves (`GET` routes answer `HEAD`
/// too).
#[cfg(test)]
pub(crate) fn route_list() -> Vec<(&'static str, &'static str)> {
    [
        health_routes().list,
        admin_routes().list,
        admin_browser_routes().list,
    ]
    .into_iter()
    .flatten()
    .chain(route_list_share())
    .collect()
}

/// The share routes' pairs (their router needs the state for its layers;
/// the list does not).
fn route_list_share() -> Vec<(&'static str, &'static str)> {
    vec![
        ("POST", "/api/voice/share-session/{token}/frame"),
        ("POST", "/api/voice/share-session/{token}/stop"),
        ("POST", "/api/voice/stream-ingest/frame"),
        ("POST", "/api/voice/stream-ingest/frame/"),
        ("GET", "/share/{token}"),
    ]
}

/// All routes: health, share and admin routers merged for local hosts;
/// a request through the public host is served by the share router alone
/// (anything else there is the same JSON 404). The admin routers' route
/// layer (`guard::admin_guard`) checks host, origin, content type and the
/// token before any extractor runs.
pub fn router(state: AppState) -> Router {
    let admin = admin_routes()
        .router
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::admin_guard,
        ));
    let browser = admin_browser_routes()
        .router
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::admin_browser_guard,
        ));
    let local_share = share_routes(&state, false);
    debug_assert_eq!(local_share.list, route_list_share());
    let public = share_routes(&state, true)
        .router
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .with_state(state.clone());
    let local = Router::new()
        .merge(health_routes().router)
        .merge(local_share.router)
        .merge(admin)
        .merge(browser)
        .fallback(not_found)
        .with_state(state.clone());
    // The gate runs before any routing: the local router is the outer
    // router's fallback, so no route of it has matched (nor taken path
    // parameters) when a public request goes to the share router instead.
    Router::new()
        .fallback_service(local)
        .layer(axum::middleware::from_fn_with_state(
            PublicRouter {
                gate: state.gate.clone(),
                public,
            },
            public_gate,
        ))
        .layer(axum::middleware::from_fn(guard::json_errors))
        .layer(axum::middleware::from_fn(guard::head_limits))
}

/// The JSON 404 of an unknown route (and of any non-share route on the
/// public host).
async fn not_found() -> Response {
    error_with(StatusCode::NOT_FOUND, "not_found", "Not found.")
}

/// What the public-host gate hands a public request to.
#[derive(Clone)]
struct PublicRouter {
    gate: Arc<share_core::PublicHostGate>,
    public: Router,
}

/// A request that came through the public host (an extension set by the
/// gate; the frame rate limit then takes the client from
/// `X-Forwarded-For`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ThroughPublicHost;

/// Public-host gating: every Host / X-Forwarded-Host / Forwarded line and
/// an absolute-form URI are read; ambiguous ones are refused, a request
/// naming the public host is served by the share router alone, any other
/// goes on to every route.
async fn public_gate(
    State(p): State<PublicRouter>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match p.gate.is_public_request(&guard::host_sources(&req)) {
        Err(a) => error_with(StatusCode::BAD_REQUEST, a.reason(), a.reason()),
        Ok(false) => next.run(req).await,
        Ok(true) => {
            req.extensions_mut().insert(ThroughPublicHost);
            match tower::ServiceExt::oneshot(p.public, req).await {
                Ok(r) => r,
                Err(never) => match never {},
            }
        }
    }
}

/// 503 for Discord routes when control runs without a gateway session.
fn no_session() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "no Discord session (set DISCORD_TOKEN)",
    )
}

/// The watch manager, or the 503 of a control without a Discord session.
fn watch_of(state: &AppState) -> Result<&crate::watch::WatchHandle, Response> {
    state.watch.as_ref().ok_or_else(no_session)
}

/// The watch manager and a request's JSON body, or the answer refusing it
/// (no session first, then an invalid body).
fn watch_and_body<'a, T: serde::de::DeserializeOwned>(
    state: &'a AppState,
    body: &[u8],
) -> Result<(&'a crate::watch::WatchHandle, T), Response> {
    let watch = watch_of(state)?;
    Ok((watch, json_body(body)?))
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
    let body = api_doc::ErrorBody {
        error: message.to_owned(),
        ok: false,
        reason: reason.to_owned(),
    };
    (status, Json(body)).into_response()
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

/// `GET /healthz`.
async fn healthz(State(state): State<AppState>) -> Response {
    let conn = state.media.status();
    let gateway = state.gateway.as_ref().map(|g| g.status());
    let gateway_ok = gateway.as_ref().is_none_or(|g| g.connected);
    api_doc::sorted_json(&api_doc::Health {
        status: if conn.connected && gateway_ok {
            "ok"
        } else {
            "degraded"
        },
        uptime_secs: state.started.elapsed().as_secs(),
        mediad: conn,
        gateway,
        frame_ingest: state.ingest.view(),
    })
}

/// The dashboard's combined state (media, voice + brain, share links).
/// `voice` is `null` only when none of the watch manager, the brain and
/// speech has a view.
async fn combined_state(state: &AppState) -> views::DashboardState {
    let media = state.media.view().await.ok().map(views::MediaState::from);
    let (mut view, mut shares) = (None, None);
    if let Some(w) = &state.watch {
        view = w.state().await;
        shares = Some(w.share_list().await.unwrap_or_default());
    }
    let brain = match &state.brain {
        Some(b) => b.view().await,
        None => None,
    };
    let speech = state.speech.as_ref().map(|sp| sp.state().borrow().clone());
    let voice =
        (view.is_some() || brain.is_some() || speech.is_some()).then_some(api_doc::VoiceState {
            view,
            brain,
            speech,
        });
    views::DashboardState {
        media,
        voice,
        shares,
    }
}

/// `GET /api/settings/reference`: every `voice.streamWatch` key with its
/// meaning, default, range and reader (static documentation, no secrets).
async fn settings_reference() -> Response {
    api_doc::sorted_json(&views::SettingsReference {
        ok: true,
        settings: brain_core::settings_reference(),
    })
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

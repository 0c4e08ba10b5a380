//! The shell of the request rules in `share_core`: every `Host`,
//! `X-Forwarded-Host` and `Forwarded` line for the public-host gate, the
//! admin routes' host / origin / content-type / token check (before any
//! extractor reads or validates a body), and one JSON error shape for
//! whatever axum itself answers (rejections, 405, 413).

use axum::Json;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

use super::serve::Peer;
use super::{AppState, ThroughPublicHost, error_with, require_admin, require_admin_browser};

/// Every line of one header.
fn lines<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a [u8]> {
    headers
        .get_all(name)
        .iter()
        .map(axum::http::HeaderValue::as_bytes)
        .collect()
}

/// Everywhere a request names its host.
pub(super) fn host_sources(req: &Request) -> share_core::HostSources<'_> {
    let headers = req.headers();
    share_core::HostSources {
        host: lines(headers, "host"),
        uri_authority: req.uri().authority().map(|a| a.as_str().as_bytes()),
        forwarded_host: lines(headers, "x-forwarded-host"),
        forwarded: lines(headers, "forwarded"),
    }
}

/// Where an admin route takes its token from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TokenFrom {
    /// `x-dashboard-token` only.
    Header,
    /// The header or a `token` query parameter (pages a browser opens by
    /// URL, which cannot set headers).
    HeaderOrQuery,
}

/// The admin routes' check, as a route layer: host, origin and content
/// type (`share_core::AdminPolicy`), then the token; only then do the
/// handler's extractors run, so an unauthenticated request is a 401
/// whatever its body.
pub(super) async fn admin_guard(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    match admin_check(&state, &req, TokenFrom::Header) {
        Ok(()) => next.run(req).await,
        Err(r) => r,
    }
}

/// [`admin_guard`] for the browser routes: the token may come in the
/// query.
pub(super) async fn admin_browser_guard(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    match admin_check(&state, &req, TokenFrom::HeaderOrQuery) {
        Ok(()) => next.run(req).await,
        Err(r) => r,
    }
}

fn admin_check(state: &AppState, req: &Request, from: TokenFrom) -> Result<(), Response> {
    let headers = req.headers();
    let check = share_core::AdminRequest {
        method: req.method().as_str(),
        hosts: host_sources(req),
        origin: lines(headers, "origin"),
        sec_fetch_site: lines(headers, "sec-fetch-site"),
        content_type: lines(headers, "content-type"),
    };
    if let Err(refusal) = state.admin_policy.check(&check) {
        let status = StatusCode::from_u16(refusal.http_status()).unwrap_or(StatusCode::FORBIDDEN);
        tracing::debug!(
            reason = refusal.reason(),
            path = req.uri().path(),
            "admin request refused"
        );
        return Err(error_with(status, refusal.reason(), refusal.reason()));
    }
    match from {
        TokenFrom::HeaderOrQuery => require_admin_browser(state, headers, req.uri().query()),
        TokenFrom::Header => require_admin(state, headers),
    }
}

/// Share routes: a declared oversize body is refused before anything
/// reads it (and the connection closed).
pub(super) async fn declared_length(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && let Err(r) = share_core::check_declared_length(len, state.share.max_body_bytes)
    {
        let mut resp = super::share::share_answer((r.http_status(), r.body()));
        resp.headers_mut().insert(
            header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return resp;
    }
    next.run(req).await
}

/// Frame routes: the per-client and (for a share link's frames) the
/// per-token rate limits; stopping is never held back. Behind the public
/// host's proxy the client is the first `X-Forwarded-For` address;
/// locally, the peer.
pub(super) async fn frame_rate(
    State(state): State<AppState>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    token: Option<Path<String>>,
    req: Request,
    next: Next,
) -> Response {
    let public = req.extensions().get::<ThroughPublicHost>().is_some();
    let client = public
        .then(|| {
            req.headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok())
        })
        .flatten()
        .unwrap_or(peer.ip());
    let limited = |r: share_core::RateLimited| {
        let r: share_core::FrameRejection = r.into();
        (StatusCode::TOO_MANY_REQUESTS, Json(r.body())).into_response()
    };
    let verdict = state
        .ingest_limit
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .check(&client, Instant::now());
    if let Err(r) = verdict {
        return limited(r);
    }
    if let Some(Path(token)) = token.filter(|t| !t.0.is_empty()) {
        let verdict = state
            .token_limit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .check(&token, Instant::now());
        if let Err(r) = verdict {
            return limited(r);
        }
    }
    next.run(req).await
}

/// Share routes on the public host: a path token that is not a
/// well-formed share token is the public host's 404, as for any route it
/// does not serve.
pub(super) async fn public_token(Path(token): Path<String>, req: Request, next: Next) -> Response {
    if req.extensions().get::<ThroughPublicHost>().is_some()
        && share_core::ShareToken::parse(&token).is_err()
    {
        return error_with(StatusCode::NOT_FOUND, "not_found", "Not found.");
    }
    next.run(req).await
}

/// Outermost layer: control's own limits on the request head
/// (`share_core::HeadLimits`): a long request target is a 414
/// `uri_too_long`, a large header section a 431 `headers_too_large`, in
/// JSON, and the connection is closed after the answer. Heads beyond
/// hyper's own limits never get here (see `serve.rs`).
pub(super) async fn head_limits(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let target = uri.scheme_str().map_or(0, |s| s.len() + 3)
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(0, |p| p.as_str().len());
    let lines = req
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().len(), value.len()));
    if let Err(refusal) = share_core::HeadLimits::default().check(target, lines) {
        tracing::debug!(reason = refusal.reason(), "request head refused");
        let status = StatusCode::from_u16(refusal.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        let mut resp = error_with(status, refusal.reason(), refusal.message());
        resp.headers_mut().insert(
            header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return resp;
    }
    next.run(req).await
}

/// The stable reason of an error status that axum or hyper-level code
/// answered without one.
pub(super) fn status_reason(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        411 => "length_required",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "invalid_body",
        429 => "rate_limited",
        431 => "headers_too_large",
        500..=599 => "internal_error",
        _ => "request_failed",
    }
}

/// Outermost layer: an error answer that is not JSON (axum's text/plain
/// rejections, an empty 405, a body-limit 413) becomes
/// `{"ok":false,"error":…,"reason":…}` with the same status and headers.
/// HTML pages (the share page's "link expired") stay HTML.
pub(super) async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ct.starts_with("application/json") || ct.starts_with("text/html") {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_owned();
    let reason = status_reason(status);
    let message = if text.is_empty() {
        reason.to_owned()
    } else {
        text
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    let fresh = error_with(status, reason, &message);
    let (fresh_parts, body) = fresh.into_parts();
    for (k, v) in &fresh_parts.headers {
        parts.headers.insert(k, v.clone());
    }
    Response::from_parts(parts, body).into_response()
}

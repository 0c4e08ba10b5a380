//! The shell of the request rules in `share_core`: every `Host`,
//! `X-Forwarded-Host` and `Forwarded` line for the public-host gate, the
//! admin routes' host / origin / content-type / token check (before any
//! extractor reads or validates a body), and one JSON error shape for
//! whatever axum itself answers (rejections, 405, 413).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppState, error_with, require_admin, require_admin_browser};

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

/// The admin routes' check, as a route layer: host, origin and content
/// type (`share_core::AdminPolicy`), then the token; only then do the
/// handler's extractors run, so an unauthenticated request is a 401
/// whatever its body.
pub(super) async fn admin_guard(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let headers = req.headers();
    let check = share_core::AdminRequest {
        method: req.method().as_str(),
        hosts: host_sources(&req),
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
        return error_with(status, refusal.reason(), refusal.reason());
    }
    // Browser routes (the dashboard, its event stream and frame) cannot set
    // headers: they may carry the token in the query.
    let browser = matches!(
        req.uri().path(),
        "/dashboard" | "/api/voice/events" | "/api/voice/frame.jpg"
    ) && matches!(req.method().as_str(), "GET" | "HEAD");
    let auth = if browser {
        require_admin_browser(&state, req.headers(), req.uri().query())
    } else {
        require_admin(&state, req.headers())
    };
    if let Err(r) = auth {
        return r;
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

//! The share-link routes: creating and listing links (admin), a link's
//! frames and stop (the token is the capability), the direct ingest route,
//! and the capture page.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::views::{FrameAnswer, SharePageConfig};
use super::{
    AppState, constant_time_eq, error, no_session, require_admin, watch_and_body, watch_of,
};

/// `POST /api/voice/share-session` (admin): a share link for a target, as
/// `start_screen_watch` with `preferredTransport: "link"`.
pub(super) async fn create_share(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Response {
    let (watch, body) = match watch_and_body::<super::ids::StartBody>(&state, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut req = match body.into_request() {
        Ok(r) => r,
        Err(r) => return r,
    };
    req.preferred_transport = Some("link".into());
    default_target_to_requester(&mut req);
    Json(watch.start(req).await).into_response()
}

/// A link created over HTTP without a target is for the requester, as the
/// CLI's `share create` (it used to go to whoever was sharing).
fn default_target_to_requester(req: &mut crate::watch::StartRequest) {
    if req.target.as_deref().is_none_or(|t| t.trim().is_empty()) {
        req.target = Some(req.requester.0.to_string());
    }
}

/// `GET /api/voice/share-sessions` (admin): live links, by suffix.
pub(super) async fn list_shares(State(state): State<AppState>) -> Response {
    match &state.watch {
        Some(w) => match w.share_list().await {
            Some(v) => super::api_doc::sorted_json(&v),
            None => error(StatusCode::SERVICE_UNAVAILABLE, "watch manager stopped"),
        },
        None => no_session(),
    }
}

/// `POST /api/voice/share-sessions/stop` (admin): `{"suffix": "…"}` or
/// `{"all": true}`.
pub(super) async fn stop_shares(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Response {
    let w = match watch_of(&state) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match stop_target(&body) {
        Ok(suffix) => share_answer(w.share_stop_suffix(suffix).await),
        Err(r) => r,
    }
}

/// What a stop body names ([`StopSharesBody`]'s keys): `None` for every
/// link, else the suffix; neither (or not JSON) is the 400.
#[allow(clippy::result_large_err)] // A ready `Response` as the error.
fn stop_target(body: &[u8]) -> Result<Option<String>, Response> {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    if v["all"].as_bool() == Some(true) {
        return Ok(None);
    }
    match v["suffix"].as_str() {
        Some(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "give \"suffix\" or \"all\": true",
        )),
    }
}

/// The body of `POST /api/voice/share-sessions/stop`, for the document
/// only: the handler reads these two keys from the JSON value (anything
/// else is ignored; neither usable is a 400).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // A schema only.
pub(super) struct StopSharesBody {
    /// The end of a link's token, as the listing shows it (trimmed; not
    /// blank).
    suffix: Option<String>,
    /// `true` stops every link (wins over `suffix`).
    all: Option<bool>,
}

/// A frame or stop answer with its status (the watch manager's, or
/// share-core's refusal): typed until here.
pub(super) fn share_answer<T: serde::Serialize>((status, body): (u16, T)) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(body)).into_response()
}

/// `POST /api/voice/share-session/{token}/frame`: the token is the
/// capability. Oversized bodies are refused from their declared length
/// before they are read.
pub(super) async fn share_frame(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let Some(watch) = &state.watch else {
        return no_session();
    };
    // Declared oversize bodies were refused by `guard::declared_length` before this
    // extractor read anything; undeclared ones stop at the body limit.
    let max_body = state.share.max_body_bytes;
    let frame = match share_core::FrameBody::parse(&body, max_body) {
        Ok(f) => f,
        Err(r) => return share_answer((r.http_status(), r.body())),
    };
    let (data, decoded_len) = match decode_base64(&state, &frame) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let admission = watch
        .share_frame(crate::watch::LinkFrame {
            token,
            mime: frame.mime_type.clone(),
            decoded_len,
        })
        .await;
    feed(&state, admission, data, &frame.mime_type).await
}

/// A frame body's picture, base64-decoded (SIMD: a few tens of µs for a
/// 100 KB frame), or only its size when it is over the live
/// `maxFrameBytes`. Text that is not base64, or bytes without the
/// declared image type's signature, are answered here, before admission
/// (`invalid_frame_data`).
fn decode_base64(
    state: &AppState,
    frame: &share_core::FrameBody<'_>,
) -> Result<(Vec<u8>, usize), Response> {
    let decoded = frame
        .decode(state.settings.share().max_frame_bytes)
        .and_then(|d| d.check_signature(&frame.mime_type).map(|()| d));
    match decoded {
        Ok(share_core::DecodedFrame::Bytes(b)) => {
            let n = b.len();
            Ok((b, n))
        }
        Ok(share_core::DecodedFrame::TooLarge { decoded_len }) => Ok((Vec::new(), decoded_len)),
        Err(r) => Err(share_answer((r.http_status(), r.body()))),
    }
}

/// Answers a frame's admission and, when it was admitted with a watch to
/// feed, scores it and hands it on: a JPEG's luma grid from a 1/8-scale
/// decode (off the async workers, with the blocking thread's kept
/// decompressor) goes through the session's change tracker, then the
/// frame and its metrics go to the brain. Only admitted frames are
/// decoded: a frame refused for its session, presence, MIME, size or rate
/// costs no JPEG decode.
pub(super) async fn feed(
    state: &AppState,
    admission: crate::watch::Admission,
    data: Vec<u8>,
    mime: &str,
) -> Response {
    let accepted = || Json(FrameAnswer::accepted()).into_response();
    let counters = &state.ingest;
    let admitted = match admission {
        Ok(Some(a)) => a,
        Ok(None) => {
            super::IngestCounters::bump(&counters.admitted);
            return accepted();
        }
        Err(answer) => {
            super::IngestCounters::bump(&counters.refused);
            return share_answer(answer);
        }
    };
    super::IngestCounters::bump(&counters.admitted);
    if data.is_empty() {
        return accepted();
    }
    let is_jpeg = matches!(mime, "image/jpeg" | "image/jpg" | "");
    let tracker = admitted.tracker;
    let ingest = state.ingest.clone();
    let measure = move |data: Vec<u8>| {
        let grid = if is_jpeg {
            let t0 = cpu_time::ThreadTime::try_now().ok();
            let grid = score(&data);
            if let Some(spent) = t0.and_then(|t| t.try_elapsed().ok()) {
                let ns = u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX);
                ingest
                    .jpeg_decode_cpu_ns
                    .fetch_add(ns, std::sync::atomic::Ordering::Relaxed);
            }
            grid
        } else {
            None
        };
        let metrics = grid.map(|grid| {
            // A poisoned lock only means a panic elsewhere mid-update; the
            // tracker's numbers are still usable.
            let mut t = tracker.lock().unwrap_or_else(|e| e.into_inner());
            let frame = t.observe(grid);
            let e = t.commit_emission();
            (e.change_score, e.ema_score, e.scene_cut || frame.scene_cut)
        });
        (data, metrics.unwrap_or((0.0, 0.0, false)))
    };
    let (data, (change, ema, cut)) = if is_jpeg {
        super::IngestCounters::bump(&counters.jpeg_decoded);
        match tokio::task::spawn_blocking(move || measure(data)).await {
            Ok(r) => r,
            Err(_) => return accepted(),
        }
    } else {
        measure(data)
    };
    if let Some(brain) = &state.brain {
        brain
            .link_frame(admitted.watch_id, admitted.target, data, change, ema, cut)
            .await;
    }
    accepted()
}

thread_local! {
    /// One 1/8-scale decompressor per thread that scores frames (blocking
    /// pool threads are reused while frames keep coming), kept across
    /// frames.
    static SCORER: std::cell::RefCell<Option<video_pipeline::JpegGridScorer>> =
        const { std::cell::RefCell::new(None) };
}

/// The luma grid of a JPEG (`None` if it does not decode), with this
/// thread's decompressor.
fn score(jpeg: &[u8]) -> Option<video_pipeline::LumaGrid> {
    SCORER.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        if slot.is_none() {
            *slot = video_pipeline::JpegGridScorer::new().ok();
        }
        let grid = slot.as_mut()?.score(jpeg);
        if grid.is_err() {
            // A fresh decompressor for the next frame: nothing of a bad
            // frame's state carries over.
            *slot = None;
        }
        grid.ok()
    })
}

/// `POST /api/voice/stream-ingest/frame`: frames for a running watch from
/// another capture tool. Allowed with `x-public-api-token` equal to
/// `PUBLIC_API_TOKEN`, or the admin token. Unlike the reference (always
/// 200), a rejected frame answers 400, as on the share route.
pub(super) async fn stream_ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let refuse = |status: StatusCode, reason: &str| {
        (status, Json(FrameAnswer::refused(reason))).into_response()
    };
    let by_api_token = state.public_api_token.as_ref().is_some_and(|expected| {
        let given = headers
            .get("x-public-api-token")
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        constant_time_eq(given, expected.as_bytes())
    });
    let by_admin = state.dashboard_token.is_some() && require_admin(&state, &headers).is_ok();
    if !(by_api_token || by_admin) {
        return match (&state.dashboard_token, &state.public_api_token) {
            (None, None) => refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "dashboard_or_public_api_token_required",
            ),
            (_, Some(_)) => refuse(StatusCode::UNAUTHORIZED, "unauthorized_public_api_token"),
            (Some(_), None) => refuse(StatusCode::UNAUTHORIZED, "unauthorized_dashboard_token"),
        };
    }
    let Some(watch) = &state.watch else {
        return no_session();
    };
    // One parse: the frame fields and the target ids come from the same body.
    let frame = match share_core::FrameBody::parse(&body, state.share.max_body_bytes) {
        Ok(f) => f,
        Err(r) => return share_answer((r.http_status(), r.body())),
    };
    let Some(guild_id) = frame.guild_id.as_deref().filter(|g| !g.trim().is_empty()) else {
        return refuse(StatusCode::BAD_REQUEST, "guild_id_required");
    };
    // Ids parsed here, once; a bad one is named.
    let Ok(guild) = super::ids::snowflake(guild_id, "guild_id") else {
        return refuse(StatusCode::BAD_REQUEST, "guild_id_invalid");
    };
    let streamer = match frame.streamer_user_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => match super::ids::snowflake(s, "streamer_user_id") {
            Ok(u) => Some(gateway_proto::UserId(u)),
            Err(_) => return refuse(StatusCode::BAD_REQUEST, "streamer_user_id_invalid"),
        },
    };
    let (data, decoded_len) = match decode_base64(&state, &frame) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let mime = if frame.mime_type.is_empty() {
        "image/jpeg".to_owned()
    } else {
        frame.mime_type
    };
    let admission = watch
        .ingest_frame(crate::watch::IngestFrame {
            guild: gateway_proto::GuildId(guild),
            streamer,
            mime: mime.clone(),
            decoded: !data.is_empty(),
            decoded_len,
        })
        .await;
    feed(&state, admission, data, &mime).await
}

/// `POST /api/voice/share-session/{token}/stop`.
pub(super) async fn share_stop(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    let Some(watch) = &state.watch else {
        return no_session();
    };
    share_answer(watch.share_stop(token).await)
}

/// `GET /share/{token}`: the capture page (self-contained: no external
/// assets, so it loads completely through any host).
pub(super) async fn share_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    let Some(watch) = &state.watch else {
        return no_session_page();
    };
    let Some(left) = watch.share_remaining(token.clone()).await else {
        return (
            StatusCode::NOT_FOUND,
            axum::response::Html("<!doctype html><title>Link expired</title><p>This share link has expired or does not exist. Ask the agent for a new one.</p>"),
        )
            .into_response();
    };
    let share = state.settings.share();
    let config = SharePageConfig {
        keyframe_interval_ms: share.keyframe_interval_ms,
        max_width_px: share.share_page_max_width_px,
        jpeg_quality: share.share_page_jpeg_quality,
        expires_in_seconds: left,
        // Relative to the page (`…/share/{token}`), so they keep any path
        // prefix the page was served under. The token is a live session's,
        // so only base64url characters.
        frame_url: format!("../api/voice/share-session/{token}/frame"),
        stop_url: format!("../api/voice/share-session/{token}/stop"),
    };
    let config = serde_json::to_string(&config).unwrap_or_default();
    let page = include_str!("share_page.html").replace("__SHARE_CONFIG__", &config);
    (
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::response::Html(page),
    )
        .into_response()
}

/// The capture page when control runs without a Discord session: 503
/// with an explanation a person can read (it was a 404 JSON body).
fn no_session_page() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::response::Html(
            "<!doctype html><meta charset=\"utf-8\"><title>Screen share link unavailable</title>\
             <h1>Screen share link unavailable</h1>\
             <p>The agent is not connected to Discord right now, so it cannot receive your screen. \
             Try again in a moment, or ask the agent for a new link once it is back in your voice channel.</p>",
        ),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::score;

    /// A stop body is read by the two keys its schema names, and only by
    /// them: `all: true` wins, a blank or missing suffix is the 400.
    #[test]
    fn a_stop_body_is_read_by_the_keys_its_schema_names() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(super::StopSharesBody::schema()).expect("schema");
        let mut keys: Vec<&String> = schema["properties"]
            .as_object()
            .expect("props")
            .keys()
            .collect();
        keys.sort();
        assert_eq!(keys, ["all", "suffix"]);
        let target = |b: &str| super::stop_target(b.as_bytes()).map_err(|r| r.status().as_u16());
        assert_eq!(target(r#"{"suffix":" QrSt "}"#), Ok(Some("QrSt".into())));
        assert_eq!(target(r#"{"all":true,"suffix":"x"}"#), Ok(None));
        assert_eq!(
            target(r#"{"all":false,"suffix":"x"}"#),
            Ok(Some("x".into()))
        );
        for bad in [
            r#"{}"#,
            r#"{"suffix":"  "}"#,
            r#"{"all":false}"#,
            "not json",
            r#"{"other":1}"#,
        ] {
            assert_eq!(target(bad), Err(400), "{bad}");
        }
    }

    /// Issue 16 §6: no target → the requester (it used to be left empty,
    /// so selection picked whoever was sharing); a given target is kept.
    #[test]
    fn a_link_without_a_target_is_for_the_requester() {
        let mut req = crate::watch::StartRequest::new(None, gateway_proto::UserId(42));
        super::default_target_to_requester(&mut req);
        assert_eq!(req.target.as_deref(), Some("42"));
        req.target = Some("  ".into());
        super::default_target_to_requester(&mut req);
        assert_eq!(req.target.as_deref(), Some("42"));
        req.target = Some("7".into());
        super::default_target_to_requester(&mut req);
        assert_eq!(req.target.as_deref(), Some("7"));
    }

    /// Issue 16 §6: without a Discord session the page answers 503 HTML.
    #[tokio::test]
    async fn the_page_without_a_session_is_503_html() {
        let r = super::no_session_page();
        assert_eq!(r.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        let ct = r.headers()[axum::http::header::CONTENT_TYPE]
            .to_str()
            .expect("ct");
        assert!(ct.starts_with("text/html"), "{ct}");
        let body = axum::body::to_bytes(r.into_body(), 1 << 16)
            .await
            .expect("body");
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("not connected to Discord"), "{body}");
    }

    fn jpeg(luma: u8) -> Vec<u8> {
        let (w, h) = (64, 48);
        let y = vec![luma; w * h];
        let uv = vec![128u8; w * h / 4];
        let frame =
            video_pipeline::YuvFrame::new([&y, &uv, &uv], [w, w / 2, w / 2], w, h).expect("frame");
        video_pipeline::JpegEncoder::new()
            .expect("encoder")
            .encode(&frame, 80)
            .expect("encode")
    }

    /// The worker's kept decompressor scores like a fresh one, and a frame
    /// that does not decode leaves nothing behind for the next.
    #[test]
    fn the_kept_decompressor_scores_like_a_fresh_one() {
        let (dark, light) = (jpeg(30), jpeg(220));
        let fresh = |j: &[u8]| video_pipeline::score_jpeg(j).expect("score");
        assert_eq!(score(&dark), Some(fresh(&dark)));
        assert_eq!(score(&light), Some(fresh(&light)));
        assert_ne!(score(&dark), score(&light));
        assert_eq!(score(b"not a jpeg"), None);
        assert_eq!(score(&light), Some(fresh(&light)));
    }
}

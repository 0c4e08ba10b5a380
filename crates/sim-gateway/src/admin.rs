//! The admin HTTP API under `/admin` (loopback peers only, no auth: the
//! sim is a test tool). Reads report what the sim received; writes are
//! [`Action`]s.
//!
//! | route | what |
//! |---|---|
//! | `GET /admin` | this route list |
//! | `GET /admin/state` | users, channels, voice states, streams, sessions, message count |
//! | `GET /admin/sessions` | gateway sessions: user, connected, seq, op counts, last ops |
//! | `GET /admin/voice_states` | current voice states |
//! | `GET /admin/streams` | running Go Live streams (key, rtc ids, viewers, paused) |
//! | `GET /admin/messages` | posted messages (REST and timeline) |
//! | `POST /admin/actions` | run an action: body `{"action": "...", ...}` |
//! | `POST /admin/actions/{name}` | the same with the name in the path and the fields as body |
//! | `GET /admin/media/{voice\|stream}/report` | the media server's `report()` |
//! | `GET /admin/media/{voice\|stream}/log` | every grant/revoke/participant/fault sent to it |
//! | `GET /admin/media/{voice\|stream}/frames/{room}/{user}` | published frames, JPEG as base64 JSON |
//! | `GET /admin/media/{voice\|stream}/frames/{room}/{user}/latest.jpg` | newest frame as `image/jpeg` |
//! | `POST /admin/say` | a simulated user says a line (see `admin_speech`) |
//! | `GET /admin/recordings` | what clients said on the voice server, per utterance |
//! | `GET /admin/recordings/{id}.wav` | one utterance, 48 kHz mono WAV |
//! | `DELETE /admin/recordings` | forget the recordings |

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gateway_proto::Secret;
use serde::Serialize;
use serde_json::Value;

use crate::actions::Action;
use crate::error::SimError;
use crate::hub::OpRecord;
use crate::media::ServerKind;
use crate::server::AppState;
use crate::timeline::run_action;
use crate::world::{ChannelRecord, PostedMessage, StreamRecord, UserRecord, VoiceStateRecord};

/// Refuses non-loopback peers with 403.
pub(crate) async fn loopback_only(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    if peer.ip().is_loopback() {
        next.run(req).await
    } else {
        (
            StatusCode::FORBIDDEN,
            "the admin API answers loopback peers only",
        )
            .into_response()
    }
}

fn err_response(e: &SimError) -> Response {
    let status = if e.is_not_found() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::BAD_REQUEST
    };
    (status, Json(serde_json::json!({"error": e.to_string()}))).into_response()
}

/// A session as reported.
#[derive(Serialize)]
struct SessionReport {
    /// Serialized in full (the admin API is the simulator's loopback
    /// control panel; tests resume or target a session by it), never
    /// `Debug`-printed: a `Secret`.
    session_id: Secret,
    user_id: String,
    user_name: String,
    bot: bool,
    connected: bool,
    seq: u64,
    op_counts: std::collections::BTreeMap<String, u64>,
    recent_ops: Vec<OpRecord>,
}

fn sessions(app: &AppState) -> Vec<SessionReport> {
    let st = app.hub.lock();
    st.session_ids()
        .iter()
        .filter_map(|id| st.sessions.get(id))
        .map(|s| SessionReport {
            session_id: s.id.clone(),
            user_id: s.user_id.to_string(),
            user_name: st
                .world
                .user(s.user_id)
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            bot: s.bot,
            connected: s.conn.is_some(),
            seq: s.seq,
            op_counts: s.op_counts.clone(),
            recent_ops: s.op_log.iter().cloned().collect(),
        })
        .collect()
}

/// `GET /admin/state`.
#[derive(Serialize)]
struct StateReport {
    scenario: String,
    users: Vec<UserRecord>,
    channels: Vec<ChannelRecord>,
    voice_states: Vec<VoiceStateRecord>,
    streams: Vec<StreamRecord>,
    sessions: Vec<SessionReport>,
    message_count: usize,
}

pub(crate) async fn index() -> Response {
    let routes = [
        "GET /admin/state",
        "GET /admin/sessions",
        "GET /admin/voice_states",
        "GET /admin/streams",
        "GET /admin/messages",
        "POST /admin/actions",
        "POST /admin/actions/{name}",
        "GET /admin/media/{voice|stream}/report",
        "GET /admin/media/{voice|stream}/log",
        "GET /admin/media/{voice|stream}/frames/{room}/{user}",
        "GET /admin/media/{voice|stream}/frames/{room}/{user}/latest.jpg",
        "POST /admin/say",
        "GET /admin/recordings",
        "GET /admin/recordings/{id}.wav",
        "DELETE /admin/recordings",
    ];
    Json(routes).into_response()
}

pub(crate) async fn state(State(app): State<AppState>) -> Response {
    let sessions = sessions(&app);
    let st = app.hub.lock();
    Json(StateReport {
        scenario: app.scenario_name.clone(),
        users: st.world.users().cloned().collect(),
        channels: st.world.channels().cloned().collect(),
        voice_states: st.world.voice_states().cloned().collect(),
        streams: st.world.streams().cloned().collect(),
        sessions,
        message_count: st.world.messages().len(),
    })
    .into_response()
}

pub(crate) async fn sessions_route(State(app): State<AppState>) -> Response {
    Json(sessions(&app)).into_response()
}

pub(crate) async fn voice_states(State(app): State<AppState>) -> Response {
    let v: Vec<VoiceStateRecord> = app.hub.lock().world.voice_states().cloned().collect();
    Json(v).into_response()
}

pub(crate) async fn streams(State(app): State<AppState>) -> Response {
    let v: Vec<StreamRecord> = app.hub.lock().world.streams().cloned().collect();
    Json(v).into_response()
}

pub(crate) async fn messages(State(app): State<AppState>) -> Response {
    let v: Vec<PostedMessage> = app.hub.lock().world.messages().to_vec();
    Json(v).into_response()
}

async fn act(app: &AppState, body: Value) -> Response {
    let action: Action = match serde_json::from_value(body) {
        Ok(a) => a,
        Err(e) => return err_response(&SimError::BadRequest(format!("not an action: {e}"))),
    };
    // A line is synthesized before the answer, which says how long it is.
    if let Action::Say { user, text } = &action {
        return crate::admin_speech::say_response(&app.hub, user, text).await;
    }
    match run_action(&app.hub, &action) {
        Ok(v) => Json(v).into_response(),
        Err(e) => err_response(&e),
    }
}

fn json_body(body: &[u8]) -> Result<Value, SimError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(body).map_err(|e| SimError::BadRequest(format!("body is not JSON: {e}")))
}

pub(crate) async fn actions(State(app): State<AppState>, body: axum::body::Bytes) -> Response {
    match json_body(&body) {
        Ok(v) => act(&app, v).await,
        Err(e) => err_response(&e),
    }
}

pub(crate) async fn named_action(
    State(app): State<AppState>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let mut v = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return err_response(&e),
    };
    let Some(obj) = v.as_object_mut() else {
        return err_response(&SimError::BadRequest("body must be a JSON object".into()));
    };
    obj.insert("action".into(), Value::String(name));
    act(&app, v).await
}

fn server_kind(name: &str) -> Result<ServerKind, SimError> {
    match name {
        "voice" => Ok(ServerKind::Voice),
        "stream" => Ok(ServerKind::Stream),
        other => Err(SimError::BadRequest(format!(
            "media server is `voice` or `stream`, not {other:?}"
        ))),
    }
}

pub(crate) async fn media_report(
    State(app): State<AppState>,
    Path(server): Path<String>,
) -> Response {
    match server_kind(&server) {
        Ok(k) => Json(app.hub.media.get(k).report()).into_response(),
        Err(e) => err_response(&e),
    }
}

pub(crate) async fn media_log(State(app): State<AppState>, Path(server): Path<String>) -> Response {
    match server_kind(&server) {
        Ok(k) => Json(app.hub.media.get(k).log()).into_response(),
        Err(e) => err_response(&e),
    }
}

pub(crate) async fn frames(
    State(app): State<AppState>,
    Path((server, room, user)): Path<(String, u64, u64)>,
) -> Response {
    match server_kind(&server) {
        Ok(k) => Json(app.hub.media.get(k).published_frames(room, user)).into_response(),
        Err(e) => err_response(&e),
    }
}

pub(crate) async fn latest_frame(
    State(app): State<AppState>,
    Path((server, room, user)): Path<(String, u64, u64)>,
) -> Response {
    let k = match server_kind(&server) {
        Ok(k) => k,
        Err(e) => return err_response(&e),
    };
    match app.hub.media.get(k).published_frames(room, user).pop() {
        Some(f) => ([(header::CONTENT_TYPE, "image/jpeg")], f.jpeg).into_response(),
        None => (StatusCode::NOT_FOUND, "no frame published yet").into_response(),
    }
}

//! The admin API's voice routes: simulated users say lines, and the voice
//! server's recordings of what clients (the agent) said.
//!
//! | route | what |
//! |---|---|
//! | `POST /admin/say` | `{"user": "bob" \| 123, "text": "..."}` (or `"user_id": "123"`) → `{"ok": true, "user_id": "123", "room": 1, "ssrc": 4711, "packets": 85, "duration_ms": 1700, "starts_in_ms": 20}` |
//! | `GET /admin/recordings` | finished utterances of clients on the voice server, oldest first |
//! | `GET /admin/recordings/{id}.wav` | one as a 48 kHz mono 16-bit WAV (`audio/wav`) |
//! | `DELETE /admin/recordings` | forget them all → `{"ok": true, "cleared": N}` |

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::SimError;
use crate::hub::Hub;
use crate::server::AppState;
use crate::world::UserRef;

/// Body of `POST /admin/say`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SayBody {
    #[serde(default)]
    user: Option<UserRef>,
    #[serde(default)]
    user_id: Option<UserRef>,
    text: String,
}

/// One recording in `GET /admin/recordings`.
#[derive(Debug, Serialize)]
struct RecordingOut {
    id: u64,
    /// Voice room (guild id).
    room: u64,
    /// Snowflake as a string, as elsewhere in the admin API.
    user_id: String,
    ssrc: u32,
    started_unix_ms: u64,
    ended_unix_ms: u64,
    duration_ms: u64,
    packets: u64,
    concealed_packets: u64,
    dave: bool,
    end_reason: sim_media_server::EndReason,
    /// Where the WAV is.
    wav: String,
}

fn error(status: StatusCode, e: &SimError) -> Response {
    (status, Json(json!({"error": e.to_string()}))).into_response()
}

fn status_of(e: &SimError) -> StatusCode {
    match e {
        SimError::Speech(_) => StatusCode::INTERNAL_SERVER_ERROR,
        e if e.is_not_found() => StatusCode::NOT_FOUND,
        SimError::NotInVoice(_) => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// `(room, user id)` of a simulated user who can speak.
pub(crate) fn speaker(hub: &Hub, user: &UserRef) -> Result<(u64, u64), SimError> {
    let st = hub.lock();
    let id = st.world.resolve_user(user)?;
    Ok((st.world.speaker_room(id)?, id.get()))
}

/// Says a line and waits until it is queued (synthesis included).
pub(crate) async fn say(hub: &Hub, user: &UserRef, text: &str) -> Result<Value, SimError> {
    let (room, user_id) = speaker(hub, user)?;
    let o = hub
        .media
        .voice_handle
        .say(sim_media_server::RoomId(room), user_id, text)
        .await
        .map_err(|e| {
            if e.is_request_error() {
                SimError::BadRequest(e.to_string())
            } else {
                SimError::Speech(e.to_string())
            }
        })?;
    Ok(json!({
        "ok": true,
        "user_id": user_id.to_string(),
        "room": room,
        "ssrc": o.ssrc,
        "packets": o.packets,
        "duration_ms": o.duration_ms,
        "starts_in_ms": o.starts_in_ms,
    }))
}

/// Answers an action that is a `say` (the admin API waits for it).
pub(crate) async fn say_response(hub: &Hub, user: &UserRef, text: &str) -> Response {
    match say(hub, user, text).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(status_of(&e), &e),
    }
}

/// `POST /admin/say`.
pub(crate) async fn say_route(State(app): State<AppState>, body: axum::body::Bytes) -> Response {
    let b: SayBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            let e = SimError::BadRequest(format!(
                "body must be {{\"user\": name or id, \"text\": \"...\"}}: {e}"
            ));
            return error(StatusCode::BAD_REQUEST, &e);
        }
    };
    let Some(user) = b.user.or(b.user_id) else {
        let e = SimError::BadRequest("`user` (or `user_id`) is required".into());
        return error(StatusCode::BAD_REQUEST, &e);
    };
    say_response(&app.hub, &user, &b.text).await
}

/// `GET /admin/recordings`.
pub(crate) async fn recordings(State(app): State<AppState>) -> Response {
    let list: Vec<RecordingOut> = app
        .hub
        .media
        .voice_handle
        .recordings()
        .into_iter()
        .map(|r| RecordingOut {
            id: r.id,
            room: r.room.0,
            user_id: r.user_id.to_string(),
            ssrc: r.ssrc,
            started_unix_ms: r.started_unix_ms,
            ended_unix_ms: r.ended_unix_ms,
            duration_ms: r.duration_ms,
            packets: r.packets,
            concealed_packets: r.concealed_packets,
            dave: r.dave,
            end_reason: r.end_reason,
            wav: format!("/admin/recordings/{}.wav", r.id),
        })
        .collect();
    Json(list).into_response()
}

/// `GET /admin/recordings/{id}.wav`.
pub(crate) async fn recording_wav(
    State(app): State<AppState>,
    Path(file): Path<String>,
) -> Response {
    let Some(id) = file
        .strip_suffix(".wav")
        .and_then(|n| n.parse::<u64>().ok())
    else {
        let e = SimError::BadRequest(format!("expected {{id}}.wav, not {file:?}"));
        return error(StatusCode::BAD_REQUEST, &e);
    };
    match app.hub.media.voice_handle.recording_wav(id) {
        Some(wav) => ([(header::CONTENT_TYPE, "audio/wav")], wav).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no recording {id} (cleared, or dropped past the 10-minute cap)")})),
        )
            .into_response(),
    }
}

/// `DELETE /admin/recordings`.
pub(crate) async fn clear_recordings(State(app): State<AppState>) -> Response {
    let n = app.hub.media.voice_handle.clear_recordings();
    Json(json!({"ok": true, "cleared": n})).into_response()
}

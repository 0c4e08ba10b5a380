//! Executing [`Action`]s (timeline and admin API alike) and the timeline
//! runner.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

use gateway_proto::{Secret, StreamDeleteReason};
use serde_json::{Value, json};

use crate::actions::{Action, TimelineEntry};
use crate::error::SimError;
use crate::hub::{Hub, SessionSelector};
use crate::server::unix_ms;
use crate::voice_servers::MediaFault;
use crate::world::{MessageSource, UserRef};

fn check_prob(p: f32) -> Result<f32, SimError> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(SimError::BadRequest(format!(
            "probability {p} is outside 0.0..=1.0"
        )))
    }
}

fn selector(
    hub: &Hub,
    session_id: &Option<Secret>,
    user: &Option<UserRef>,
) -> Result<SessionSelector, SimError> {
    Ok(match (session_id, user) {
        (Some(id), _) => SessionSelector::Session(id.clone()),
        (None, Some(u)) => SessionSelector::User(hub.lock().world.resolve_user(u)?),
        (None, None) => SessionSelector::All,
    })
}

/// Applies one action now. The result is a small JSON summary for the
/// admin API (e.g. the sessions an op 7 went to, the posted message id).
pub(crate) fn run_action(hub: &Arc<Hub>, action: &Action) -> Result<Value, SimError> {
    let ok = Ok(json!({"ok": true}));
    let user_of = |u: &UserRef| hub.lock().world.resolve_user(u);
    match action {
        Action::JoinVoice {
            user,
            channel,
            self_mute,
            self_deaf,
            camera,
        } => {
            let user = user_of(user)?;
            hub.with_world(|w| {
                let channel = w.resolve_channel(channel)?;
                Ok((
                    (),
                    w.sim_join(user, channel, *self_mute, *self_deaf, camera.clone())?,
                ))
            })?;
            ok
        }
        Action::LeaveVoice { user } => {
            let user = user_of(user)?;
            hub.with_world(|w| Ok(((), w.force_leave(user))))?;
            ok
        }
        Action::StartStream { user, video } => {
            let user = user_of(user)?;
            hub.with_world(|w| Ok(((), w.sim_start_stream(user, video.clone())?)))?;
            ok
        }
        Action::StopStream { user } => {
            let user = user_of(user)?;
            hub.with_world(|w| Ok(((), w.stop_stream(user, StreamDeleteReason::UserRequested)?)))?;
            ok
        }
        Action::DeleteStream { user, reason } => {
            let user = user_of(user)?;
            hub.with_world(|w| Ok(((), w.stop_stream(user, reason.clone())?)))?;
            ok
        }
        Action::PauseStream { user, paused } => {
            let user = user_of(user)?;
            hub.with_world(|w| Ok(((), w.set_stream_paused(user, None, *paused))))?;
            ok
        }
        Action::SetWebcam { user, on, video } => {
            let user = user_of(user)?;
            hub.with_world(|w| Ok(((), w.set_webcam(user, *on, video.clone())?)))?;
            ok
        }
        Action::Speak { user, on } => {
            let user = user_of(user)?;
            hub.with_world(|w| Ok(((), w.speak(user, *on)?)))?;
            ok
        }
        Action::Say { user, text } => {
            let (room, user) = crate::admin_speech::speaker(hub, user)?;
            let voice = hub.media.voice_handle.clone();
            let text = text.clone();
            tokio::spawn(async move {
                match voice.say(sim_media_server::RoomId(room), user, &text).await {
                    Ok(o) => tracing::info!(user, duration_ms = o.duration_ms, "line said"),
                    Err(e) => tracing::warn!(user, error = %e, "say failed"),
                }
            });
            Ok(json!({"ok": true, "queued": true}))
        }
        Action::PostMessage {
            user,
            channel,
            content,
        } => {
            let user = user_of(user)?;
            let now = unix_ms();
            let id = hub.with_world(|w| {
                let channel = w.resolve_channel(channel)?;
                let (m, fx) =
                    w.post_message(user, channel, content, now, MessageSource::Timeline)?;
                Ok((m.id, fx))
            })?;
            Ok(json!({"ok": true, "message_id": id.to_string()}))
        }
        Action::Netem {
            server,
            loss,
            reorder,
            duplicate,
            seed,
        } => {
            let fault = MediaFault::Netem {
                loss: check_prob(*loss)?,
                reorder: check_prob(*reorder)?,
                duplicate: check_prob(*duplicate)?,
                seed: seed.unwrap_or(hub.seed),
            };
            hub.media.get(*server).inject(fault);
            ok
        }
        Action::CloseMedia { server, room, code } => {
            hub.media.get(*server).inject(MediaFault::Close {
                room: *room,
                code: *code,
            });
            ok
        }
        Action::Crash { server } => {
            hub.media.get(*server).inject(MediaFault::Crash);
            ok
        }
        Action::Restart { server } => {
            hub.media.get(*server).inject(MediaFault::Restart);
            ok
        }
        Action::Padding { server, on } => {
            hub.media.get(*server).inject(MediaFault::Padding(*on));
            ok
        }
        Action::HandshakeDelay { server, ms } => {
            hub.media
                .get(*server)
                .inject(MediaFault::HandshakeDelay(*ms));
            ok
        }
        Action::GatewayReconnect { session_id, user } => {
            let sessions = hub.reconnect(&selector(hub, session_id, user)?);
            Ok(json!({"ok": true, "sessions": sessions}))
        }
        Action::GatewayInvalidSession {
            session_id,
            user,
            resumable,
        } => {
            let sessions = hub.invalid_session(&selector(hub, session_id, user)?, *resumable);
            Ok(json!({"ok": true, "sessions": sessions}))
        }
        Action::RestRateLimit {
            count,
            retry_after_ms,
            global,
        } => {
            hub.lock()
                .rest
                .force(*count, Duration::from_millis(*retry_after_ms), *global);
            ok
        }
        Action::SetStreamServerUpdateDelay { ms } => {
            hub.lock().world.settings.stream_server_update_delay = Duration::from_millis(*ms);
            ok
        }
    }
}

/// Applies the `at_ms == 0` entries now (before the sim accepts
/// connections) and returns the rest for [`run_timeline`].
pub(crate) fn apply_initial(
    hub: &Arc<Hub>,
    timeline: &[TimelineEntry],
) -> Result<Vec<TimelineEntry>, SimError> {
    let mut later = Vec::new();
    for entry in timeline {
        if entry.at_ms == 0 {
            run_action(hub, &entry.action)?;
            if let Some(every) = entry.every_ms {
                later.push(TimelineEntry {
                    at_ms: every,
                    ..entry.clone()
                });
            }
        } else {
            later.push(entry.clone());
        }
    }
    Ok(later)
}

/// Runs timeline entries at their times (relative to `hub.started`),
/// repeating `every_ms` entries, until the task is aborted. Failing actions
/// are logged and skipped (e.g. a speak after the user left).
pub(crate) async fn run_timeline(hub: Arc<Hub>, entries: Vec<TimelineEntry>) {
    // Min-heap on (time, index) keeps equal-time entries in file order.
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| Reverse((e.at_ms, i)))
        .collect();
    let start = tokio::time::Instant::from_std(hub.started);
    while let Some(Reverse((at, i))) = heap.pop() {
        let Some(entry) = entries.get(i) else {
            continue;
        };
        tokio::time::sleep_until(start + Duration::from_millis(at)).await;
        if let Err(e) = run_action(&hub, &entry.action) {
            tracing::warn!(at_ms = at, error = %e, "timeline action failed");
        }
        if let Some(every) = entry.every_ms.filter(|e| *e > 0) {
            heap.push(Reverse((at.saturating_add(every), i)));
        }
    }
}

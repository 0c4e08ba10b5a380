//! The REST subset under `/api/v10`:
//!
//! * `GET /users/@me` — `Authorization: Bot <token>` for bots, the bare
//!   token for user accounts; anything else → 401.
//! * `POST /channels/{id}/messages` — `{content}`; recorded (admin API
//!   `GET /admin/messages`), MESSAGE_CREATE to the guild, returns a message
//!   object; unknown channel → 404 (`code` 10003).
//! * `GET /gateway`, `GET /gateway/bot` — the gateway URL.
//!
//! Every response carries `X-RateLimit-Limit/Remaining/Reset-After/Bucket`;
//! 429s (`retry_after` in seconds, `Retry-After` header) only when the
//! admin switch asks for them.

use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gateway_proto::{ChannelId, User, UserId};
use serde::{Deserialize, Serialize};

use crate::rest_limit::RateDecision;
use crate::server::{AppState, unix_ms};
use crate::world::MessageSource;

/// Discord's error body.
#[derive(Serialize)]
struct ApiError {
    message: String,
    code: u32,
}

/// 429 body.
#[derive(Serialize)]
struct RateLimited {
    message: &'static str,
    retry_after: f64,
    global: bool,
}

/// `POST /channels/{id}/messages` body (only `content` is used).
#[derive(Deserialize)]
struct CreateMessage {
    #[serde(default)]
    content: String,
}

/// The message object returned by a create.
#[derive(Serialize)]
struct MessageObject {
    id: String,
    channel_id: ChannelId,
    guild_id: gateway_proto::GuildId,
    author: User,
    content: String,
    timestamp: String,
    #[serde(rename = "type")]
    kind: u8,
}

/// `{url}` of `GET /gateway`.
#[derive(Serialize)]
struct GatewayInfo {
    url: String,
}

fn error(status: StatusCode, message: &str, code: u32) -> Response {
    (
        status,
        Json(ApiError {
            message: message.to_owned(),
            code,
        }),
    )
        .into_response()
}

fn with_headers(mut resp: Response, d: &RateDecision) -> Response {
    let h = resp.headers_mut();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    put("x-ratelimit-limit", d.limit.to_string());
    put("x-ratelimit-remaining", d.remaining.to_string());
    put("x-ratelimit-reset-after", format!("{:.3}", d.reset_after));
    put("x-ratelimit-bucket", d.bucket.clone());
    if let Some((retry, global)) = d.refuse {
        put("retry-after", format!("{}", retry.ceil()));
        put(
            "x-ratelimit-scope",
            if global { "global" } else { "user" }.to_owned(),
        );
        if global {
            put("x-ratelimit-global", "true".to_owned());
        }
    }
    resp
}

/// Accounts the request.
fn rate(app: &AppState, route: &str) -> RateDecision {
    app.hub.lock().rest.check(route, Instant::now())
}

/// The 429 for a refused request.
fn too_many(d: &RateDecision, retry_after: f64, global: bool) -> Response {
    let body = RateLimited {
        message: "You are being rate limited.",
        retry_after,
        global,
    };
    with_headers(
        (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response(),
        d,
    )
}

/// Bots must identify their library in `User-Agent` as
/// `DiscordBot ($url, $versionNumber)` (discord-api-docs `reference.mdx`,
/// "User Agent": "Clients using the HTTP API must provide a valid User
/// Agent which specifies information about the client library and version
/// in the following format"). The docs do not say how Discord answers a
/// bad one; the simulator refuses it with a 400 so that a client that
/// sends something else fails here rather than against Discord.
fn refuse_bot_user_agent(headers: &HeaderMap) -> Option<Response> {
    let bot = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.trim_start().starts_with("Bot "));
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    (bot && !is_bot_user_agent(ua)).then(|| {
        error(
            StatusCode::BAD_REQUEST,
            "bots must send User-Agent: DiscordBot ($url, $versionNumber)",
            0,
        )
    })
}

/// `DiscordBot (URL, VERSION)` with a non-empty http(s) URL and version.
pub(crate) fn is_bot_user_agent(ua: &str) -> bool {
    let Some(inner) = ua
        .strip_prefix("DiscordBot (")
        .and_then(|r| r.split_once(')'))
        .map(|(inner, _)| inner)
    else {
        return false;
    };
    let Some((url, version)) = inner.split_once(',') else {
        return false;
    };
    let (url, version) = (url.trim(), version.trim());
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "https://".len()
        && !version.is_empty()
        && !version.contains(' ')
}

/// The account behind `Authorization` (`Bot <token>` must be a bot, a
/// bare token must be a user account).
fn authenticate(app: &AppState, headers: &HeaderMap) -> Option<UserId> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (token, want_bot) = match auth.strip_prefix("Bot ") {
        Some(t) => (t.trim(), true),
        None => (auth, false),
    };
    let st = app.hub.lock();
    st.world
        .user_by_token(token)
        .filter(|u| u.bot == want_bot)
        .map(|u| u.id)
}

pub(crate) async fn me(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let d = rate(&app, "GET /users/@me");
    if let Some((retry_after, global)) = d.refuse {
        return too_many(&d, retry_after, global);
    }
    let resp =
        match authenticate(&app, &headers).and_then(|u| app.hub.lock().world.user_object(u).ok()) {
            Some(user) => Json(user).into_response(),
            None => error(StatusCode::UNAUTHORIZED, "401: Unauthorized", 0),
        };
    with_headers(resp, &d)
}

pub(crate) async fn create_message(
    State(app): State<AppState>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let d = rate(&app, &format!("POST /channels/{channel}/messages"));
    if let Some((retry_after, global)) = d.refuse {
        return too_many(&d, retry_after, global);
    }
    let resp = create_message_inner(&app, &channel, &headers, &body);
    with_headers(resp, &d)
}

fn create_message_inner(
    app: &AppState,
    channel: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let Some(author) = authenticate(app, headers) else {
        return error(StatusCode::UNAUTHORIZED, "401: Unauthorized", 0);
    };
    if let Some(refusal) = refuse_bot_user_agent(headers) {
        return refusal;
    }
    let Ok(channel_id) = channel.parse::<u64>().map(ChannelId) else {
        return error(StatusCode::NOT_FOUND, "Unknown Channel", 10003);
    };
    if app.hub.lock().world.channel(channel_id).is_err() {
        return error(StatusCode::NOT_FOUND, "Unknown Channel", 10003);
    }
    let Ok(msg) = serde_json::from_slice::<CreateMessage>(body) else {
        return error(StatusCode::BAD_REQUEST, "400: Bad Request", 50109);
    };
    if msg.content.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "Cannot send an empty message",
            50006,
        );
    }
    let now = unix_ms();
    let posted = app.hub.with_world(|w| {
        let (m, fx) = w.post_message(author, channel_id, &msg.content, now, MessageSource::Rest)?;
        let user = w.user_object(author)?;
        Ok(((m, user), fx))
    });
    match posted {
        Ok((m, author)) => Json(MessageObject {
            id: m.id.to_string(),
            channel_id: m.channel_id,
            guild_id: m.guild_id,
            author,
            content: m.content,
            timestamp: crate::server::iso8601(m.timestamp_unix_ms),
            kind: 0,
        })
        .into_response(),
        Err(e) if e.is_not_found() => error(StatusCode::NOT_FOUND, "Unknown Channel", 10003),
        Err(_) => error(StatusCode::FORBIDDEN, "Missing Access", 50001),
    }
}

pub(crate) async fn gateway_info(State(app): State<AppState>) -> Response {
    Json(GatewayInfo {
        url: app.hub.gateway_url.clone(),
    })
    .into_response()
}

#[cfg(test)]
mod user_agent_tests {
    use super::is_bot_user_agent;

    #[test]
    fn the_documented_shape_and_nothing_else() {
        // discord-api-docs' own example.
        assert!(is_bot_user_agent(
            "DiscordBot (https://github.com/discord/discord-api-docs, 1.0)"
        ));
        assert!(is_bot_user_agent(
            "DiscordBot (https://x.example, 0.1.0) extra"
        ));
        for bad in [
            "",
            "screenwatch (https://example.invalid, 0.1)",
            "DiscordBot",
            "DiscordBot ()",
            "DiscordBot (https://x.example)",
            "DiscordBot (x.example, 1.0)",
            "DiscordBot (https://x.example, )",
            "Mozilla/5.0",
        ] {
            assert!(!is_bot_user_agent(bad), "{bad:?}");
        }
    }
}

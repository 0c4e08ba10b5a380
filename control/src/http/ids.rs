//! Ids are parsed once, here at the HTTP edge: request bodies carry
//! snowflakes as strings (as Discord's JSON does), the watch manager takes
//! typed ids. A field that is not a snowflake is a JSON 400 whose reason
//! names it (`guild_id_invalid`, `requester_id_invalid`, …).
// Parsers return a ready `Response` as their error value.
#![allow(clippy::result_large_err)]

use axum::http::StatusCode;
use axum::response::Response;
use gateway_proto::{ChannelId, GuildId, UserId};
use watch_core::Place;

use super::error;

/// A snowflake given as a string (surrounding blanks allowed), or the 400
/// naming `field` (`snake_case`).
pub(super) fn snowflake(value: &str, field: &str) -> Result<u64, Response> {
    value
        .trim()
        .parse::<u64>()
        .map_err(|_| error(StatusCode::BAD_REQUEST, &format!("{field}_invalid")))
}

/// An optional id: absent or blank is `None`.
fn optional(value: Option<&str>, field: &str) -> Result<Option<u64>, Response> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => snowflake(v, field).map(Some),
        None => Ok(None),
    }
}

/// The body of `POST /api/voice/screen-watch` (with `action`) and
/// `POST /api/voice/share-session`, as sent. Ids are snowflakes as
/// strings (surrounding blanks allowed); one that is not is a 400
/// `<field>_invalid`.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct StartBody {
    /// Guild id (empty or absent for a DM / group DM call, see
    /// `channelId`).
    #[serde(default)]
    pub guild_id: String,
    /// The call's channel (the DM / group DM channel) when `guildId` is
    /// empty. Ignored with a guild.
    #[serde(default)]
    pub channel_id: Option<String>,
    /// Who asked (a user id; required, though a stop does not use it).
    pub requester_id: String,
    /// Whom to watch (display name, username, mention or id).
    #[serde(default)]
    pub target: Option<String>,
    /// `"link"` skips native watching (`POST /api/voice/share-session`
    /// always sets it).
    #[serde(default)]
    pub preferred_transport: Option<String>,
    /// Text channel for commentary and link offers.
    #[serde(default)]
    pub text_channel_id: Option<String>,
}

impl StartBody {
    /// Where: `guildId`, else the call named by `channelId`; neither is
    /// `None` (stop: every watch; start: refused by the manager).
    pub(super) fn place(&self) -> Result<Option<Place>, Response> {
        if let Some(g) = optional(Some(&self.guild_id), "guild_id")? {
            return Ok(Some(Place::Guild(GuildId(g))));
        }
        Ok(optional(self.channel_id.as_deref(), "channel_id")?.map(|c| Place::Call(ChannelId(c))))
    }

    /// The start request, every id parsed.
    pub(super) fn into_request(self) -> Result<crate::watch::StartRequest, Response> {
        let place = self.place()?;
        let requester = UserId(snowflake(&self.requester_id, "requester_id")?);
        let text_channel = optional(self.text_channel_id.as_deref(), "text_channel_id")?;
        Ok(crate::watch::StartRequest {
            place,
            requester,
            target: self.target,
            preferred_transport: self.preferred_transport,
            text_channel: text_channel.map(ChannelId),
        })
    }
}

/// The body of `POST /api/voice/screen-watch`, as sent.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ScreenWatchBody {
    /// `start` or `stop` (anything else is a 400). A stop needs no
    /// target; without a guild or call it stops every watch.
    pub action: String,
    /// Where, who asked and whom to watch.
    #[serde(flatten)]
    pub start: StartBody,
}

/// The body of `POST /api/voice/go-live`, as sent.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct GoLiveBody {
    /// `start`, `pause`, `resume` or `stop` (the watch manager answers
    /// any other with `ok: false`).
    action: String,
    /// The guild (a snowflake string; empty or absent: none).
    #[serde(default)]
    guild_id: String,
}

impl GoLiveBody {
    /// The request, its guild parsed (absent or blank: none).
    pub(super) fn into_request(self) -> Result<crate::watch::GoLiveRequest, Response> {
        Ok(crate::watch::GoLiveRequest {
            guild: optional(Some(&self.guild_id), "guild_id")?.map(GuildId),
            action: self.action,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(json: &str) -> Result<crate::watch::StartRequest, (u16, String)> {
        let body: StartBody = serde_json::from_str(json).expect("body");
        body.into_request().map_err(|r| {
            let status = r.status().as_u16();
            let reason =
                futures_util::FutureExt::now_or_never(axum::body::to_bytes(r.into_body(), 4096))
                    .expect("ready")
                    .expect("body");
            let v: serde_json::Value = serde_json::from_slice(&reason).expect("json");
            (status, v["reason"].as_str().unwrap_or_default().to_owned())
        })
    }

    #[test]
    fn a_start_request_names_a_call_by_channel_id_and_a_guild_as_before() {
        let call = start(r#"{"channelId":"500","requesterId":"202"}"#).unwrap();
        assert_eq!(call.place, Some(Place::Call(ChannelId(500))));
        assert_eq!(call.requester, UserId(202));
        let guild =
            start(r#"{"guildId":" 1 ","channelId":"500","requesterId":"202","textChannelId":"9"}"#)
                .unwrap();
        assert_eq!(guild.place, Some(Place::Guild(GuildId(1))));
        assert_eq!(guild.text_channel, Some(ChannelId(9)));
        let neither = start(r#"{"requesterId":"202","guildId":""}"#).unwrap();
        assert_eq!(neither.place, None);
        assert_eq!(neither.text_channel, None);
    }

    #[test]
    fn an_id_that_is_not_a_snowflake_is_a_400_naming_its_field() {
        for (json, field) in [
            (r#"{"guildId":"abc","requesterId":"2"}"#, "guild_id_invalid"),
            (
                r#"{"channelId":"-1","requesterId":"2"}"#,
                "channel_id_invalid",
            ),
            (
                r#"{"guildId":"1","requesterId":""}"#,
                "requester_id_invalid",
            ),
            (
                r#"{"guildId":"1","requesterId":"x1"}"#,
                "requester_id_invalid",
            ),
            (
                r##"{"guildId":"1","requesterId":"2","textChannelId":"#general"}"##,
                "text_channel_id_invalid",
            ),
        ] {
            assert_eq!(start(json).unwrap_err(), (400, field.to_owned()), "{json}");
        }
    }

    #[test]
    fn go_live_parses_its_guild() {
        let b: GoLiveBody = serde_json::from_str(r#"{"action":"start","guildId":"7"}"#).unwrap();
        assert_eq!(b.into_request().unwrap().guild, Some(GuildId(7)));
        let b: GoLiveBody = serde_json::from_str(r#"{"action":"stop"}"#).unwrap();
        assert_eq!(b.into_request().unwrap().guild, None);
        let b: GoLiveBody = serde_json::from_str(r#"{"action":"start","guildId":"g"}"#).unwrap();
        assert_eq!(
            b.into_request().unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
    }
}

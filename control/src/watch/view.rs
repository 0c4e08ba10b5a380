//! `GET /api/voice/state`: what control knows and does, without secrets.

use super::*;

/// Our voice channel in one guild or call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnVoiceView {
    /// The DM or group DM call's channel (`null` in a guild).
    pub call_id: Option<String>,
    /// The voice channel we are in.
    pub channel_id: String,
    /// The guild (`null` for a call).
    pub guild_id: Option<String>,
    /// Whether mediad was given this voice connection.
    pub mediad_voice: bool,
}

/// A user sharing (Go Live or camera) in a voice channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SharerView {
    /// The DM or group DM call's channel (`null` in a guild).
    pub call_id: Option<String>,
    /// Their voice channel.
    pub channel_id: String,
    /// Go Live is on.
    pub go_live: bool,
    /// The guild (`null` for a call).
    pub guild_id: Option<String>,
    /// Their display name (their id when none is known).
    pub name: String,
    /// Who.
    pub user_id: String,
    /// The camera is on.
    pub webcam: bool,
}

/// A Go Live stream control knows of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamView {
    /// Whether its connection credentials arrived (never the credentials).
    pub credentials: bool,
    /// Whose stream.
    pub owner: String,
    /// Paused by its owner.
    pub paused: bool,
    /// Its RTC server, once STREAM_CREATE told it.
    pub rtc_server_id: Option<String>,
    /// The stream key.
    pub stream_key: String,
    /// How many watch it.
    pub viewers: u64,
}

impl Manager {
    pub(super) fn view(&self) -> VoiceStateView {
        let mut voice = Vec::new();
        let mut sharers = Vec::new();
        let mut streams = Vec::new();
        let guilds: Vec<Place> = self
            .book
            .watches()
            .map(|w| w.guild)
            .chain(self.join_sent.keys().copied())
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for g in guilds.into_iter().chain(self.registry_guilds()) {
            if !seen.insert(g) {
                continue;
            }
            if let Some(v) = self.registry.own_voice(g) {
                voice.push(OwnVoiceView {
                    call_id: g.call_channel().map(|c| c.0.to_string()),
                    channel_id: v.channel_id.0.to_string(),
                    guild_id: g.guild_id().map(|g| g.0.to_string()),
                    mediad_voice: self.voice_sent.contains_key(&g),
                });
            }
            for (u, p) in self.registry.voice_states(g) {
                if p.self_stream || p.self_video {
                    sharers.push(SharerView {
                        call_id: g.call_channel().map(|c| c.0.to_string()),
                        channel_id: p.channel_id.0.to_string(),
                        go_live: p.self_stream,
                        guild_id: g.guild_id().map(|g| g.0.to_string()),
                        name: self.registry.display_name(g, u),
                        user_id: u.0.to_string(),
                        webcam: p.self_video,
                    });
                }
            }
            for s in self.registry.streams(g) {
                streams.push(StreamView {
                    credentials: s.credentials().is_some(),
                    owner: s.owner.0.to_string(),
                    paused: s.paused,
                    rtc_server_id: s.rtc_server_id.map(|r| r.get().to_string()),
                    stream_key: s.key.to_string(),
                    viewers: s.viewer_ids.len() as u64,
                });
            }
        }
        let watches = self
            .book
            .watches()
            .map(|w| {
                let p = self.progress.get(&w.id);
                WatchView {
                    watch_id: w.id.0,
                    guild_id: w
                        .guild
                        .guild_id()
                        .map_or_else(String::new, |g| g.0.to_string()),
                    call_id: w.guild.call_channel().map(|c| c.0.to_string()),
                    target_user_id: w.target.0.to_string(),
                    target_name: self.registry.display_name(w.guild, w.target),
                    transport: transport_name(&w.transport).into(),
                    stream_key: match w.transport {
                        WatchTransport::Native { stream_key } => Some(stream_key.to_string()),
                        _ => None,
                    },
                    native_active: w.native_active,
                    frame_ready: p.is_some_and(|p| p.frames > 0),
                    frames: p.map_or(0, |p| p.frames),
                    requesters: w.requesters.iter().map(|u| u.0.to_string()).collect(),
                }
            })
            .collect();
        VoiceStateView {
            user_id: self.registry.own_user().map(|u| u.0.to_string()),
            voice,
            sharers,
            streams,
            watches,
        }
    }

    pub(super) fn registry_guilds(&self) -> Vec<Place> {
        self.registry.places().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{OwnVoiceView, SharerView, StreamView};
    use serde_json::json;

    fn sorted<T: serde::Serialize>(v: &T) -> String {
        serde_json::to_value(v).expect("value").to_string()
    }

    /// The typed entries write what the `json!` objects they replaced
    /// wrote (through a `Value`, as `GET /api/voice/state` does), and as
    /// they are (fields in key order).
    #[test]
    fn entries_keep_the_bytes_of_their_json_objects() {
        let voice = OwnVoiceView {
            call_id: None,
            channel_id: "2".into(),
            guild_id: Some("1".into()),
            mediad_voice: true,
        };
        let old = json!({"guildId": Some("1"), "callId": Option::<String>::None, "channelId": "2", "mediadVoice": true});
        assert_eq!(sorted(&voice), old.to_string());
        assert_eq!(serde_json::to_string(&voice).unwrap(), old.to_string());
        let sharer = SharerView {
            call_id: Some("9".into()),
            channel_id: "9".into(),
            go_live: true,
            guild_id: None,
            name: "Alice".into(),
            user_id: "3".into(),
            webcam: false,
        };
        let old = json!({"guildId": Option::<String>::None, "callId": Some("9"), "userId": "3", "name": "Alice", "goLive": true, "webcam": false, "channelId": "9"});
        assert_eq!(sorted(&sharer), old.to_string());
        assert_eq!(serde_json::to_string(&sharer).unwrap(), old.to_string());
        let stream = StreamView {
            credentials: false,
            owner: "3".into(),
            paused: true,
            rtc_server_id: Some("77".into()),
            stream_key: "guild:1:2:3".into(),
            viewers: 2,
        };
        let old = json!({"streamKey": "guild:1:2:3", "owner": "3", "rtcServerId": Some("77"), "credentials": false, "paused": true, "viewers": 2usize});
        assert_eq!(sorted(&stream), old.to_string());
        assert_eq!(serde_json::to_string(&stream).unwrap(), old.to_string());
    }
}

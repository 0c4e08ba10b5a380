//! `GET /api/voice/state`: what control knows and does, without secrets.

use super::*;

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
                voice.push(serde_json::json!({"guildId": g.guild_id().map(|g| g.0.to_string()), "callId": g.call_channel().map(|c| c.0.to_string()), "channelId": v.channel_id.0.to_string(), "mediadVoice": self.voice_sent.contains_key(&g)}));
            }
            for (u, p) in self.registry.voice_states(g) {
                if p.self_stream || p.self_video {
                    sharers.push(serde_json::json!({"guildId": g.guild_id().map(|g| g.0.to_string()), "callId": g.call_channel().map(|c| c.0.to_string()), "userId": u.0.to_string(), "name": self.registry.display_name(g, u), "goLive": p.self_stream, "webcam": p.self_video, "channelId": p.channel_id.0.to_string()}));
                }
            }
            for s in self.registry.streams(g) {
                streams.push(serde_json::json!({"streamKey": s.key.to_string(), "owner": s.owner.0.to_string(), "rtcServerId": s.rtc_server_id.map(|r| r.get().to_string()), "credentials": s.credentials().is_some(), "paused": s.paused, "viewers": s.viewer_ids.len()}));
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

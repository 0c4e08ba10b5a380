//! Carrying out a watch's connections: joining voice (op 4, a fresh one
//! per gateway session), the Go Live stream connection (op 20 credentials
//! to mediad) and the video subscription that follows the live settings.

use super::*;

impl Manager {
    pub(super) async fn ensure_voice(&mut self, guild: impl Into<Place>, channel: ChannelId) {
        let guild = guild.into();
        let own = self.registry.own_voice(guild);
        let in_channel = own.as_ref().is_some_and(|v| v.channel_id == channel);
        // In the channel but without an op 4 of this gateway session (a
        // restarted control finds the voice state of the dead session):
        // join again, so the voice state carries this session's id and a
        // fresh VOICE_SERVER_UPDATE arrives (issue 16 §1).
        if !in_channel || !self.join_sent.contains_key(&guild) {
            if self.join_sent.get(&guild) != Some(&channel) {
                self.send_join(guild, channel).await;
            }
            return;
        }
        let (Some(own), Some(user)) = (own, self.registry.own_user()) else {
            return;
        };
        let Some(server) = own.server else { return };
        let creds = (own.session_id.clone(), server.token.clone());
        if self.voice_sent.get(&guild) == Some(&creds) {
            return;
        }
        tracing::info!(
            event = "voice_connection_started",
            place = %guild,
            channel = channel.0,
            "voice credentials to mediad"
        );
        // Identify's `server_id` is the guild id, or the DM channel id in a
        // call (fact sheet §1.5; Discord-video-stream `serverId = guildId ??
        // channelId`); the DAVE group id is the voice channel, which in a
        // call is the DM channel (§3.4).
        let connect = VoiceConnect {
            guild_id: ipc_schema::GuildId(guild.voice_server_id()),
            channel_id: channel,
            user_id: user,
            session_id: own.session_id,
            endpoint: server.endpoint,
            token: server.token,
            dave_group_id: channel.0,
        };
        if self
            .media
            .set_voice(Some(connect), "screen_watch")
            .await
            .is_ok()
        {
            self.voice_sent.insert(guild, creds);
        }
    }

    pub(super) async fn send_join(&mut self, guild: impl Into<Place>, channel: ChannelId) {
        let guild = guild.into();
        self.join_sent.insert(guild, channel);
        tracing::info!(
            event = "voice_join_requested",
            place = %guild,
            channel = channel.0,
            "joining voice (op 4)"
        );
        // In a call, op 4 carries `guild_id: null` and the DM channel
        // (fact sheet §4.5 step 1, Discord-video-stream `joinVoice`).
        let cmd = UpdateVoiceState::join(guild.guild_id(), channel, false, false);
        self.gateway
            .send(ClientCommand::UpdateVoiceState(cmd))
            .await;
    }

    pub(super) async fn connect_stream(
        &mut self,
        id: WatchId,
        target: UserId,
        key: StreamKey,
        own: Option<UserId>,
    ) {
        let Some(creds) = self.registry.stream(&key).and_then(|s| s.credentials()) else {
            return;
        };
        let Some(own_voice) = Place::of_stream_key(&key).and_then(|p| self.registry.own_voice(p))
        else {
            return;
        };
        let Some(own) = own else { return };
        let sent = (creds.token.clone(), creds.rtc_server_id.get());
        if self
            .progress
            .get(&id)
            .and_then(|p| p.stream_connected.as_ref())
            == Some(&sent)
        {
            return;
        }
        tracing::info!(event = "stream_server_received", key = %key, rtc_server_id = creds.rtc_server_id.get(), "stream credentials to mediad");
        let connect = StreamConnect {
            stream_key: key.to_string(),
            streamer_id: target,
            user_id: own,
            server_id: creds.rtc_server_id.get(),
            session_id: own_voice.session_id,
            endpoint: creds.endpoint,
            token: creds.token,
            dave_group_id: creds.dave_group_id,
        };
        if self
            .media
            .set_stream(TransportRole::StreamWatch, Some(connect), "screen_watch")
            .await
            .is_ok()
            && let Some(p) = self.progress.get_mut(&id)
        {
            p.stream_connected = Some(sent);
        }
        // After the stream connection was requested (issue 16 §7).
        self.subscribe(id, target, VideoPath::GoLive).await;
    }

    /// Subscribes to the target's video on `path` with the live
    /// `nativeDiscord*` settings; nothing is sent when mediad already has
    /// that subscription from this watch.
    pub(super) async fn subscribe(&mut self, id: WatchId, target: UserId, path: VideoPath) {
        let sub = match &self.video_settings_rx {
            Some(rx) => video_subscription(&rx.borrow(), target.0, path),
            None => video_subscription(&brain_core::Settings::default(), target.0, path),
        };
        let Some(p) = self.progress.get_mut(&id) else {
            return;
        };
        if p.subscribed.as_ref() == Some(&(path, sub.clone())) {
            return;
        }
        if p.subscribed.is_some() {
            tracing::info!(
                event = "stream_watch_resubscribed",
                watch = %id,
                max_fps = sub.max_fps,
                quality = sub.quality,
                pixels = ?sub.preferred_pixel_count,
                jpeg_quality = sub.jpeg_quality,
                "video subscription changed by the settings"
            );
        } else {
            tracing::info!(
                event = "stream_watch_subscribed",
                watch = %id,
                max_fps = sub.max_fps,
                pixels = ?sub.preferred_pixel_count,
                jpeg_quality = sub.jpeg_quality,
                "video subscription to mediad"
            );
        }
        p.subscribed = Some((path, sub.clone()));
        let _ = self.media.subscribe(sub).await;
    }

    /// The settings changed: every subscribed watch gets the subscription
    /// they now imply (mediad replaces a user's subscription in place).
    pub(super) async fn resubscribe(&mut self) {
        let subscribed: Vec<(WatchId, VideoPath)> = self
            .progress
            .iter()
            .filter_map(|(id, p)| p.subscribed.as_ref().map(|(path, _)| (*id, *path)))
            .collect();
        for (id, path) in subscribed {
            if let Some(target) = self.book.get(id).map(|w| w.target) {
                self.subscribe(id, target, path).await;
            }
        }
    }
}

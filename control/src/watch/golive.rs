//! Our own Go Live through the main gateway: carries out
//! `watch_core::OwnGoLive` (op 18 + op 22 to start, the stream_publish
//! transport from STREAM_CREATE + STREAM_SERVER_UPDATE, op 22 to pause or
//! resume, op 19 to stop). Decision and sources:
//! `crates/watch-core/src/golive.rs` (issue 15 item 18). The media admin
//! path (credentials handed to mediad directly) is untouched.

use super::*;
use watch_core::{GoLiveOutput, OwnGoLive};

fn ok(reason: &str, key: Option<StreamKey>) -> WatchResult {
    if let Some(key) = key {
        tracing::debug!(key = %key, reason, "go live");
    }
    WatchResult {
        ok: true,
        reason: Some(reason.to_owned()),
        transport: Some("go_live".into()),
        ..WatchResult::default()
    }
}

impl Manager {
    /// `POST /api/voice/go-live`.
    pub(super) async fn go_live(&mut self, req: GoLiveRequest) -> WatchResult {
        match req.action.as_str() {
            "start" => {
                if self.config.bot_account {
                    // Discord refuses bots with STREAM_DELETE `unauthorized`.
                    return refused("bot_cannot_go_live");
                }
                let Some(guild) = req.guild else {
                    return refused("invalid_guild_id");
                };
                if let Some(live) = &self.own_live {
                    return ok("already_live", Some(live.key()));
                }
                let (Some(own), Some(voice)) =
                    (self.registry.own_user(), self.registry.own_voice(guild))
                else {
                    return refused("agent_not_in_voice");
                };
                let (live, out) = OwnGoLive::start(guild, voice.channel_id, own);
                let key = live.key();
                tracing::info!(event = "go_live_requested", key = %key, "starting our Go Live (op 18, op 22)");
                self.own_live = Some(live);
                self.apply_go_live(out).await;
                ok("go_live_requested", Some(key))
            }
            "pause" | "resume" => {
                let paused = req.action == "pause";
                let Some(live) = self.own_live.as_mut() else {
                    return refused("not_live");
                };
                let key = live.key();
                let out = live.set_paused(paused);
                self.apply_go_live(out).await;
                ok(if paused { "paused" } else { "resumed" }, Some(key))
            }
            "stop" => {
                let Some(mut live) = self.own_live.take() else {
                    return refused("not_live");
                };
                let key = live.key();
                let out = live.stop("stopped_by_request");
                self.apply_go_live(out).await;
                ok("stopped", Some(key))
            }
            _ => refused("unknown_action"),
        }
    }

    /// A registry event for our Go Live.
    pub(super) async fn own_live_event(&mut self, e: &RegistryEvent) {
        let Some(live) = self.own_live.as_mut() else {
            return;
        };
        let out = live.on_registry_event(&self.registry, e);
        self.apply_go_live(out).await;
    }

    /// Ends our Go Live without a gateway command (the session is gone).
    pub(super) async fn end_own_live(&mut self, reason: &str) {
        if self.own_live.take().is_some() {
            self.apply_go_live(vec![GoLiveOutput::Ended {
                reason: reason.to_owned(),
            }])
            .await;
        }
    }

    async fn apply_go_live(&mut self, out: Vec<GoLiveOutput>) {
        for o in out {
            match o {
                GoLiveOutput::Gateway(cmd) => {
                    self.gateway.send(cmd).await;
                }
                GoLiveOutput::Connect {
                    stream_key,
                    credentials,
                    session_id,
                } => {
                    let Some(own) = self.registry.own_user() else {
                        continue;
                    };
                    tracing::info!(event = "go_live_server_received", key = %stream_key, rtc_server_id = credentials.rtc_server_id.get(), "our stream's credentials to mediad (stream_publish)");
                    let connect = StreamConnect {
                        stream_key: stream_key.to_string(),
                        streamer_id: own,
                        user_id: own,
                        server_id: credentials.rtc_server_id.get(),
                        session_id,
                        endpoint: credentials.endpoint,
                        token: credentials.token,
                        dave_group_id: credentials.dave_group_id,
                    };
                    let _ = self
                        .media
                        .set_stream(TransportRole::StreamPublish, Some(connect), "go_live")
                        .await;
                }
                GoLiveOutput::Disconnect => {
                    let _ = self
                        .media
                        .set_stream(TransportRole::StreamPublish, None, "stream_reallocating")
                        .await;
                }
                GoLiveOutput::Ended { reason } => {
                    tracing::info!(event = "go_live_ended", %reason, "our Go Live ended");
                    self.own_live = None;
                    let _ = self
                        .media
                        .set_stream(TransportRole::StreamPublish, None, &reason)
                        .await;
                }
            }
        }
    }
}

//! The screen-watch manager: one task that owns control's Discord
//! knowledge ([`watch_core::Registry`]) and the watches
//! ([`watch_core::WatchBook`]), and turns `start_screen_watch` /
//! `stop_screen_watch` into gateway commands and mediad transports.
//!
//! Decisions (whom to watch, which transport, when to tear down) are made
//! by `watch-core`; this file only carries them out:
//! * native Go Live: join the target's voice channel (op 4), hand the voice
//!   credentials to mediad, watch the stream (op 20), and once
//!   STREAM_SERVER_UPDATE arrived connect mediad's stream_watch slot and
//!   subscribe to the streamer's video;
//! * webcam: join the channel and subscribe to the target's camera on the
//!   voice connection;
//! * link: not built yet (`link_unavailable`).
//!
//! `frameReady` turns true when mediad delivers a decoded frame of the
//! target.
//!
//! Every step is a tracing event with an `event` field named after the
//! reference's events (`screen_watch_requested`, `voice_join_requested`,
//! `voice_connection_started`, `stream_watch_requested`,
//! `stream_server_received`, `screen_watch_frame_ready`,
//! `native_start_failed`, `link_fallback_unavailable`,
//! `screen_watch_refused`, `screen_watch_ended`); stream keys are logged,
//! tokens and session ids never. The voice connection outlives every watch; a mediad voice slot
//! that needs a new session (4006/4009) is re-joined through op 4.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use gateway_proto::{
    ChannelId, ClientCommand, Dispatch, GuildId, StreamKey, UpdateVoiceState, UserId,
};
use ipc_schema::{
    MediadMsg, Secret, StreamConnect, StreamType, TransportRole, TransportStatus,
    VideoSubscription, VoiceConnect,
};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot};
use watch_core::{
    PlanOptions, Registry, RegistryEvent, StartOutcome, TransportPlan, WatchBook, WatchId,
    WatchRequest, WatchTransport,
};

use crate::discord::{GatewayEvent, GatewayHandle};
use crate::media::MediaHandle;

/// How watching behaves.
#[derive(Clone, Copy, Debug)]
pub struct WatchConfig {
    /// The account is a bot (cannot watch Go Live).
    pub bot_account: bool,
    /// `STREAM_LINK_FALLBACK`: the share-link path may be used.
    pub link_fallback_enabled: bool,
}

/// `start_screen_watch`.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartRequest {
    /// Guild id.
    pub guild_id: String,
    /// Who asked.
    pub requester_id: String,
    /// Whom to watch (display name, username, mention or id).
    #[serde(default)]
    pub target: Option<String>,
    /// `"link"` skips native watching.
    #[serde(default)]
    pub preferred_transport: Option<String>,
    /// Text channel for commentary and link offers.
    #[serde(default)]
    pub text_channel_id: Option<String>,
}

/// The result of `start_screen_watch`, as the reference reports it.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WatchResult {
    /// Accepted.
    pub ok: bool,
    /// A new watch began.
    pub started: bool,
    /// An existing watch of the same target was reused.
    pub reused: bool,
    /// Why not, or why this transport.
    pub reason: Option<String>,
    /// A decoded frame of the target exists for this watch.
    pub frame_ready: bool,
    /// `native`, `webcam` or `link`.
    pub transport: Option<String>,
    /// The watched user.
    pub target_user_id: Option<String>,
    /// Capture link (share-link path).
    pub link_url: Option<String>,
    /// Link lifetime.
    pub expires_in_minutes: Option<u32>,
    /// The watch id.
    pub watch_id: Option<u64>,
}

/// One watch, for `GET /api/voice/state`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchView {
    /// Id.
    pub watch_id: u64,
    /// Guild.
    pub guild_id: String,
    /// Target.
    pub target_user_id: String,
    /// Target's name.
    pub target_name: String,
    /// Transport.
    pub transport: String,
    /// Native stream key, if any.
    pub stream_key: Option<String>,
    /// mediad's stream transport is up.
    pub native_active: bool,
    /// A frame arrived.
    pub frame_ready: bool,
    /// Frames received for this watch.
    pub frames: u64,
    /// Requesters.
    pub requesters: Vec<String>,
}

/// `GET /api/voice/state`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VoiceStateView {
    /// Own user id.
    pub user_id: Option<String>,
    /// Own voice channel per guild.
    pub voice: Vec<serde_json::Value>,
    /// Users sharing (Go Live or camera), per guild.
    pub sharers: Vec<serde_json::Value>,
    /// Known streams.
    pub streams: Vec<serde_json::Value>,
    /// Watches.
    pub watches: Vec<WatchView>,
}

enum Cmd {
    Start(StartRequest, oneshot::Sender<WatchResult>),
    Stop(Option<String>, oneshot::Sender<WatchResult>),
    State(oneshot::Sender<VoiceStateView>),
}

/// Talks to the watch manager.
#[derive(Clone)]
pub struct WatchHandle {
    tx: mpsc::Sender<Cmd>,
}

impl WatchHandle {
    /// `start_screen_watch`.
    pub async fn start(&self, req: StartRequest) -> WatchResult {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Start(req, tx)).await.is_err() {
            return refused("control_stopping");
        }
        rx.await.unwrap_or_else(|_| refused("control_stopping"))
    }

    /// `stop_screen_watch` (one guild, or every watch).
    pub async fn stop(&self, guild_id: Option<String>) -> WatchResult {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Stop(guild_id, tx)).await.is_err() {
            return refused("control_stopping");
        }
        rx.await.unwrap_or_else(|_| refused("control_stopping"))
    }

    /// What control knows and does.
    pub async fn state(&self) -> Option<VoiceStateView> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::State(tx)).await.ok()?;
        rx.await.ok()
    }
}

fn refused(reason: &str) -> WatchResult {
    WatchResult {
        reason: Some(reason.to_owned()),
        ..WatchResult::default()
    }
}

/// Per-watch bookkeeping beyond the book.
#[derive(Default)]
struct Progress {
    watch_sent: bool,
    stream_connected: Option<(String, u64)>,
    subscribed: bool,
    frames: u64,
}

/// Starts the manager task.
pub fn spawn_watch_manager(
    config: WatchConfig,
    gateway: GatewayHandle,
    media: MediaHandle,
    brain: Option<crate::brain::BrainHandle>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> WatchHandle {
    let (tx, rx) = mpsc::channel(32);
    let manager = Manager {
        brain,
        config,
        registry: Registry::new(),
        book: WatchBook::new(),
        progress: BTreeMap::new(),
        gw_events: gateway.events(),
        media_events: media.events(),
        gateway,
        media,
        commands: rx,
        join_sent: BTreeMap::new(),
        voice_sent: BTreeMap::new(),
    };
    tokio::spawn(manager.run(shutdown));
    WatchHandle { tx }
}

struct Manager {
    brain: Option<crate::brain::BrainHandle>,
    config: WatchConfig,
    registry: Registry,
    book: WatchBook,
    progress: BTreeMap<WatchId, Progress>,
    gateway: GatewayHandle,
    media: MediaHandle,
    gw_events: broadcast::Receiver<GatewayEvent>,
    media_events: broadcast::Receiver<Arc<MediadMsg>>,
    commands: mpsc::Receiver<Cmd>,
    /// Voice channel we asked to join, per guild.
    join_sent: BTreeMap<GuildId, ChannelId>,
    /// Voice credentials handed to mediad, per guild (session, token).
    voice_sent: BTreeMap<GuildId, (String, String)>,
}

fn parse_id(s: &str) -> Option<u64> {
    s.trim().parse().ok()
}

impl Manager {
    async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.on_cmd(cmd).await,
                    None => break,
                },
                ev = self.gw_events.recv() => match ev {
                    Ok(ev) => self.on_gateway(ev).await,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        // Dispatches were missed: the registry may be stale
                        // until the next READY/GUILD_CREATE.
                        tracing::warn!(missed = n, "watch manager lagged behind the gateway");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                ev = self.media_events.recv() => match ev {
                    Ok(msg) => self.on_media(&msg).await,
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    }

    async fn on_cmd(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Start(req, reply) => {
                let r = self.start(req).await;
                let _ = reply.send(r);
            }
            Cmd::Stop(guild, reply) => {
                let guild = guild.as_deref().and_then(parse_id).map(GuildId);
                let ids: Vec<WatchId> = self
                    .book
                    .watches()
                    .filter(|w| guild.is_none_or(|g| w.guild == g))
                    .map(|w| w.id)
                    .collect();
                let stopped = !ids.is_empty();
                for id in ids {
                    self.teardown(id, "stopped_by_request").await;
                }
                let _ = reply.send(WatchResult {
                    ok: true,
                    reason: Some(if stopped { "stopped" } else { "no_watch" }.into()),
                    ..WatchResult::default()
                });
            }
            Cmd::State(reply) => {
                let _ = reply.send(self.view());
            }
        }
    }

    async fn start(&mut self, req: StartRequest) -> WatchResult {
        let (Some(guild), Some(requester)) = (parse_id(&req.guild_id), parse_id(&req.requester_id))
        else {
            return refused("invalid_guild_or_requester_id");
        };
        let (guild, requester) = (GuildId(guild), UserId(requester));
        let selection = match watch_core::select_target(
            &self.registry,
            guild,
            requester,
            req.target.as_deref(),
        ) {
            Ok(s) => s,
            Err(refusal) => {
                tracing::info!(
                    event = "screen_watch_refused",
                    guild = guild.0,
                    requester = requester.0,
                    reason = refusal.reason(),
                    "screen watch refused"
                );
                let mut r = refused(refusal.reason());
                r.target_user_id = refusal.target_user().map(|u| u.0.to_string());
                return r;
            }
        };
        let target = selection.target;
        let options = PlanOptions {
            bot_account: self.config.bot_account,
            link_fallback_enabled: self.config.link_fallback_enabled,
            preferred_link: req
                .preferred_transport
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("link")),
        };
        let plan = watch_core::plan_transport(&self.registry, guild, target, options);
        tracing::info!(event = "screen_watch_requested", guild = guild.0, target = target.0, ?plan, reason = ?selection.reason, "screen watch requested");
        let transport = match &plan {
            TransportPlan::Link { reason } => {
                // The share-link session manager is not built yet.
                let mut r = refused("link_unavailable");
                r.target_user_id = Some(target.0.to_string());
                r.transport = Some("link".into());
                tracing::info!(
                    event = "link_fallback_unavailable",
                    target = target.0,
                    plan_reason = reason.as_str(),
                    "link fallback unavailable"
                );
                return r;
            }
            TransportPlan::Unavailable { reason } => {
                let mut r = refused(reason.as_str());
                r.target_user_id = Some(target.0.to_string());
                return r;
            }
            other => match other.watch_transport() {
                Some(t) => t,
                None => return refused("no_transport"),
            },
        };
        // One screen at a time: a watch of someone else ends first.
        let others: Vec<WatchId> = self
            .book
            .watches()
            .filter(|w| w.target != target || w.guild != guild)
            .map(|w| w.id)
            .collect();
        for id in others {
            self.teardown(id, "replaced_by_new_watch").await;
        }
        let request = WatchRequest {
            guild,
            target,
            requester,
            channel: selection.channel,
            transport,
        };
        let outcome = match self.book.start(request, Instant::now()) {
            Ok(o) => o,
            Err(refusal) => return refused(refusal.reason()),
        };
        let id = outcome.id();
        self.progress.entry(id).or_default();
        if let Some(brain) = &self.brain {
            brain
                .watch_started(crate::brain::BrainWatch {
                    watch_id: id.0,
                    target: target.0,
                    target_name: self.registry.display_name(guild, target),
                    text_channel: req.text_channel_id.as_deref().and_then(parse_id),
                })
                .await;
        }
        self.advance().await;
        let frames = self.progress.get(&id).map_or(0, |p| p.frames);
        WatchResult {
            ok: true,
            started: matches!(outcome, StartOutcome::Started(_)),
            reused: matches!(outcome, StartOutcome::Reused(_)),
            reason: Some(selection.reason.as_str().to_owned()),
            frame_ready: frames > 0,
            transport: Some(transport_name(&transport).into()),
            target_user_id: Some(target.0.to_string()),
            link_url: None,
            expires_in_minutes: None,
            watch_id: Some(id.0),
        }
    }

    async fn on_gateway(&mut self, ev: GatewayEvent) {
        let events = match &ev {
            GatewayEvent::Ready(r) => self.registry.on_ready(r),
            GatewayEvent::Dispatch(d) => match d.as_ref() {
                Dispatch::GuildCreate(g) => self.registry.on_guild_create(g),
                Dispatch::VoiceStateUpdate(v) => self.registry.on_voice_state_update(v),
                Dispatch::VoiceServerUpdate(v) => self.registry.on_voice_server_update(v),
                Dispatch::StreamCreate(s) => self.registry.on_stream_create(s),
                Dispatch::StreamServerUpdate(s) => self.registry.on_stream_server_update(s),
                Dispatch::StreamUpdate(s) => self.registry.on_stream_update(s),
                Dispatch::StreamDelete(s) => self.registry.on_stream_delete(s),
                _ => Vec::new(),
            },
            GatewayEvent::Resumed
            | GatewayEvent::Disconnected { .. }
            | GatewayEvent::Fatal { .. } => Vec::new(),
        };
        if matches!(ev, GatewayEvent::Ready(_)) {
            // A new gateway session (after a non-resumable INVALID_SESSION,
            // say): the registry starts over, but the watches stay. Everything
            // is requested again once GUILD_CREATE has refilled the registry:
            // op 4, fresh voice credentials, op 20, fresh stream credentials.
            tracing::info!(
                watches = self.book.len(),
                "new gateway session; watches carried over"
            );
            self.join_sent.clear();
            self.voice_sent.clear();
            for p in self.progress.values_mut() {
                p.watch_sent = false;
                p.stream_connected = None;
            }
            return;
        }
        for e in &events {
            tracing::debug!(event = ?e, "registry");
            for t in self.book.on_registry_event(e) {
                tracing::info!(event = "screen_watch_ended", watch = %t.watch_id, reason = t.reason.as_str(), "screen watch ended");
                self.cleanup(&t.watch, t.reason.as_str()).await;
                if let Some(brain) = &self.brain {
                    brain.watch_ended(t.watch_id.0).await;
                }
                self.progress.remove(&t.watch_id);
            }
            if let RegistryEvent::SelfVoiceChanged {
                guild,
                channel: None,
            } = e
            {
                self.voice_sent.remove(guild);
                self.join_sent.remove(guild);
            }
        }
        self.advance().await;
    }

    async fn on_media(&mut self, msg: &MediadMsg) {
        match msg {
            MediadMsg::DecodedVideoFrame(f) => {
                let target = UserId(f.user_id.0);
                let id = self
                    .book
                    .watches()
                    .find(|w| w.target == target)
                    .map(|w| w.id);
                if let Some(p) = id.and_then(|id| self.progress.get_mut(&id)) {
                    if p.frames == 0 {
                        tracing::info!(
                            event = "screen_watch_frame_ready",
                            target = target.0,
                            "first frame for the screen watch"
                        );
                    }
                    p.frames += 1;
                }
            }
            MediadMsg::TransportState(s) => match (s.role, s.status) {
                (TransportRole::StreamWatch, TransportStatus::Ready) => {
                    let ids: Vec<WatchId> = self
                        .book
                        .watches()
                        .filter(|w| matches!(w.transport, WatchTransport::Native { .. }))
                        .map(|w| w.id)
                        .collect();
                    for id in ids {
                        self.book.set_native_active(id, true);
                    }
                }
                (
                    TransportRole::StreamWatch,
                    TransportStatus::Failed | TransportStatus::RejoinRequired,
                ) => {
                    let ids: Vec<WatchId> = self
                        .book
                        .watches()
                        .filter(|w| matches!(w.transport, WatchTransport::Native { .. }))
                        .map(|w| w.id)
                        .collect();
                    for id in ids {
                        tracing::warn!(event = "native_start_failed", watch = %id, reason = ?s.reason, "native transport failed; watch torn down");
                        self.teardown(id, "stream_transport_failed").await;
                    }
                }
                (TransportRole::Voice, TransportStatus::RejoinRequired) => {
                    // A new voice session is needed: join again.
                    let guilds: Vec<(GuildId, ChannelId)> =
                        self.join_sent.iter().map(|(g, c)| (*g, *c)).collect();
                    self.voice_sent.clear();
                    for (g, c) in guilds {
                        tracing::info!(guild = g.0, "voice session lost; re-joining");
                        self.send_join(g, c).await;
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// Brings the world towards what the watches need.
    async fn advance(&mut self) {
        let watches: Vec<watch_core::Watch> = self.book.watches().cloned().collect();
        for w in watches {
            let channel = self.registry.voice_channel(w.guild, w.target).or(w.channel);
            let Some(channel) = channel else { continue };
            self.ensure_voice(w.guild, channel).await;
            let voice_ready = self.voice_sent.contains_key(&w.guild);
            let own = self.registry.own_user();
            match w.transport {
                WatchTransport::Native { stream_key } => {
                    let p = self.progress.entry(w.id).or_default();
                    if !p.watch_sent
                        && self
                            .registry
                            .own_voice(w.guild)
                            .is_some_and(|v| v.channel_id == channel)
                    {
                        p.watch_sent = true;
                        tracing::info!(event = "stream_watch_requested", key = %stream_key, "watching the Go Live stream (op 20)");
                        self.gateway
                            .send(ClientCommand::WatchStream(stream_key))
                            .await;
                    }
                    self.connect_stream(w.id, w.target, stream_key, own).await;
                }
                WatchTransport::Webcam => {
                    if voice_ready {
                        self.subscribe(w.id, w.target, StreamType::Camera).await;
                    }
                }
                WatchTransport::Link => {}
            }
        }
    }

    async fn ensure_voice(&mut self, guild: GuildId, channel: ChannelId) {
        let own = self.registry.own_voice(guild);
        let in_channel = own.as_ref().is_some_and(|v| v.channel_id == channel);
        if !in_channel {
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
            guild = guild.0,
            channel = channel.0,
            "voice credentials to mediad"
        );
        let connect = VoiceConnect {
            guild_id: ipc_schema::GuildId(guild.0),
            channel_id: ipc_schema::ChannelId(channel.0),
            user_id: ipc_schema::UserId(user.0),
            session_id: Secret::new(own.session_id),
            endpoint: server.endpoint,
            token: Secret::new(server.token),
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

    async fn send_join(&mut self, guild: GuildId, channel: ChannelId) {
        self.join_sent.insert(guild, channel);
        tracing::info!(
            event = "voice_join_requested",
            guild = guild.0,
            channel = channel.0,
            "joining voice (op 4)"
        );
        let cmd = UpdateVoiceState::join(Some(guild), channel, false, false);
        self.gateway
            .send(ClientCommand::UpdateVoiceState(cmd))
            .await;
    }

    async fn connect_stream(
        &mut self,
        id: WatchId,
        target: UserId,
        key: StreamKey,
        own: Option<UserId>,
    ) {
        let Some(creds) = self.registry.stream(&key).and_then(|s| s.credentials()) else {
            return;
        };
        let Some(own_voice) = key.guild_id().and_then(|g| self.registry.own_voice(g)) else {
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
            streamer_id: ipc_schema::UserId(target.0),
            user_id: ipc_schema::UserId(own.0),
            server_id: creds.rtc_server_id.get(),
            session_id: Secret::new(own_voice.session_id),
            endpoint: creds.endpoint,
            token: Secret::new(creds.token),
            dave_group_id: creds.dave_group_id,
        };
        self.subscribe(id, target, StreamType::Screen).await;
        if self
            .media
            .set_stream(TransportRole::StreamWatch, Some(connect), "screen_watch")
            .await
            .is_ok()
            && let Some(p) = self.progress.get_mut(&id)
        {
            p.stream_connected = Some(sent);
        }
    }

    async fn subscribe(&mut self, id: WatchId, target: UserId, kind: StreamType) {
        let Some(p) = self.progress.get_mut(&id) else {
            return;
        };
        if p.subscribed {
            return;
        }
        p.subscribed = true;
        let sub = VideoSubscription {
            user_id: ipc_schema::UserId(target.0),
            stream_type: Some(kind),
            max_fps: 2.0,
            quality: 100,
            preferred_pixel_count: None,
            jpeg_quality: 75,
        };
        let _ = self.media.subscribe(sub).await;
    }

    async fn teardown(&mut self, id: WatchId, reason: &str) {
        if let Some(w) = self.book.stop(id) {
            tracing::info!(event = "screen_watch_ended", watch = %id, reason, "screen watch ended");
            self.cleanup(&w, reason).await;
            if let Some(brain) = &self.brain {
                brain.watch_ended(id.0).await;
            }
        }
        self.progress.remove(&id);
    }

    /// Undoes a watch's transports; the voice connection stays.
    async fn cleanup(&mut self, w: &watch_core::Watch, reason: &str) {
        let _ = self.media.unsubscribe(ipc_schema::UserId(w.target.0)).await;
        if let WatchTransport::Native { stream_key } = w.transport {
            let _ = self
                .media
                .set_stream(TransportRole::StreamWatch, None, reason)
                .await;
            self.gateway
                .send(ClientCommand::DeleteStream(stream_key))
                .await;
        }
    }

    fn view(&self) -> VoiceStateView {
        let mut voice = Vec::new();
        let mut sharers = Vec::new();
        let mut streams = Vec::new();
        let guilds: Vec<GuildId> = self
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
                voice.push(serde_json::json!({"guildId": g.0.to_string(), "channelId": v.channel_id.0.to_string(), "mediadVoice": self.voice_sent.contains_key(&g)}));
            }
            for (u, p) in self.registry.voice_states(g) {
                if p.self_stream || p.self_video {
                    sharers.push(serde_json::json!({"guildId": g.0.to_string(), "userId": u.0.to_string(), "name": self.registry.display_name(g, u), "goLive": p.self_stream, "webcam": p.self_video, "channelId": p.channel_id.0.to_string()}));
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
                    guild_id: w.guild.0.to_string(),
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

    fn registry_guilds(&self) -> Vec<GuildId> {
        self.registry.guilds().collect()
    }
}

fn transport_name(t: &WatchTransport) -> &'static str {
    match t {
        WatchTransport::Native { .. } => "native",
        WatchTransport::Webcam => "webcam",
        WatchTransport::Link => "link",
    }
}

//! The screen-watch manager: one task that owns control's Discord
//! knowledge ([`watch_core::Registry`]) and the watches
//! ([`watch_core::WatchBook`]), and turns `start_screen_watch` /
//! `stop_screen_watch` into gateway commands and mediad transports.
//!
//! Decisions (whom to watch, which transport, which other screen ends,
//! when to tear down) are made by `watch-core`: a start request becomes a
//! typed [`watch_core::StartPlan`] that `start` matches on. This file only
//! carries them out:
//! * native Go Live: join the target's voice channel (op 4), hand the voice
//!   credentials to mediad, watch the stream (op 20), and once
//!   STREAM_SERVER_UPDATE arrived connect mediad's stream_watch slot and
//!   subscribe to the streamer's video;
//! * webcam: join the channel and subscribe to the target's camera on the
//!   voice connection;
//! * link: a share link posted to the channel (`link.rs`, with `share-core`'s
//!   rules); its frames come in over HTTP, not from mediad.
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
    MediadMsg, Secret, StreamConnect, TransportRole, TransportStatus, VideoSubscription,
    VoiceConnect,
};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot};
use watch_core::{
    Place, PlanOptions, Registry, RegistryEvent, StartOutcome, StartPlan, StartRefusal, WatchBook,
    WatchId, WatchRequest, WatchTransport,
};

use crate::discord::{GatewayEvent, GatewayHandle};
use crate::media::MediaHandle;

mod api;
mod connect;
mod golive;
mod link;
pub mod persist;
mod recovery;
mod resume;
mod subscription;
mod view;

use api::Cmd;
pub use api::{
    Admission, Admitted, GoLiveRequest, HomeVoice, IngestFrame, LinkConfig, LinkFrame,
    ShareListing, ShareSessionView, SharedTracker, StartRequest, VoiceStateView, WatchConfig,
    WatchHandle, WatchResult, WatchView,
};
use link::PendingLink;
pub use link::{FrameAnswer, FrameReply, ShareStopAnswer, StopReply};
use subscription::{VideoPath, video_subscription};
pub use view::{OwnVoiceView, SharerView, StreamView};

/// A reply to send once the loop iteration is done.
struct Reply(oneshot::Sender<WatchResult>, WatchResult);

impl Reply {
    fn answer(self) {
        let _ = self.0.send(self.1);
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
    /// Where to offer a link if native watching fails.
    text_channel: Option<ChannelId>,
    watch_sent: bool,
    stream_connected: Option<(Secret, u64)>,
    /// The video subscription last sent for this watch, and its path
    /// (re-sent when the `nativeDiscord*` settings change it).
    subscribed: Option<(VideoPath, VideoSubscription)>,
    frames: u64,
    /// What a lost stream transport leads to (native watches).
    recovery: Option<watch_core::StreamRecovery>,
}

/// Starts the manager task.
pub fn spawn_watch_manager(
    config: WatchConfig,
    gateway: GatewayHandle,
    media: MediaHandle,
    brain: Option<crate::brain::BrainHandle>,
    links: LinkConfig,
    rest: Option<crate::discord::rest::RestClient>,
    tasks: &mut crate::tasks::Tasks,
) -> WatchHandle {
    let (tx, rx) = mpsc::channel(32);
    let mut shares = share_core::SessionManager::new(links.share.clone());
    let mut link_text = BTreeMap::new();
    if let Some(store) = &links.store {
        match store.share_sessions() {
            Ok(records) => {
                for r in &records {
                    if let Some(c) = r.text_channel_id {
                        link_text.insert(r.session.id.0, c);
                    }
                }
                let restored = shares.restore(
                    records.into_iter().map(|r| r.session).collect(),
                    std::time::SystemTime::now(),
                );
                tracing::info!(
                    restored = restored.restored,
                    ended = restored.ended.len(),
                    "share sessions restored from the store"
                );
            }
            Err(e) => tracing::error!(error = %e, "stored share sessions not loaded"),
        }
    }
    let watch_store = links.store.as_ref().and_then(|s| s.path()).and_then(|p| {
        persist::WatchStore::open(p)
            .map_err(|e| tracing::error!(error = %e, "watch table not opened; watches will not survive a restart"))
            .ok()
    });
    let to_resume = match watch_store.as_ref().map(persist::WatchStore::load) {
        Some(Ok(w)) => w,
        Some(Err(e)) => {
            tracing::error!(error = %e, "stored watches not loaded");
            Vec::new()
        }
        None => Vec::new(),
    };
    if !to_resume.is_empty() {
        tracing::info!(
            watches = to_resume.len(),
            "stored watches to take up after the gateway's READY"
        );
    }
    let settings_rx = links.settings.clone();
    let video_settings_rx = links.stream_watch_settings.clone();
    let manager = Manager {
        video_settings_rx,
        shares,
        link_text,
        saved_share_revision: None,
        settings_rx,
        links,
        rest,
        link_watches: BTreeMap::new(),
        trackers: BTreeMap::new(),
        ingest_windows: BTreeMap::new(),
        ingest_trackers: BTreeMap::new(),
        pending_links: Vec::new(),
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
        own_live: None,
        watch_store,
        saved_watches: None,
        to_resume,
        adoption_deadline: None,
        adoption_done: false,
    };
    tasks.spawn("watch manager", manager.run(tasks.stopped()));
    WatchHandle { tx }
}

struct Manager {
    shares: share_core::SessionManager,
    /// Share session id → text channel of its offer (commentary goes there).
    link_text: BTreeMap<u64, u64>,
    /// `shares.revision()` last written to the store (`None`: never written).
    saved_share_revision: Option<u64>,
    settings_rx: Option<tokio::sync::watch::Receiver<share_core::ShareSettings>>,
    /// The live `voice.streamWatch` settings, for the `nativeDiscord*` video
    /// subscription (defaults when absent).
    video_settings_rx: Option<tokio::sync::watch::Receiver<brain_core::Settings>>,
    links: LinkConfig,
    rest: Option<crate::discord::rest::RestClient>,
    /// Share session id → the watch it feeds.
    link_watches: BTreeMap<u64, WatchId>,
    /// Change metrics per share session (updated by the HTTP handler that
    /// scores an admitted frame).
    trackers: BTreeMap<u64, SharedTracker>,
    /// Direct-ingest frame windows (start, count) and change metrics, per watch.
    ingest_windows: BTreeMap<WatchId, (Instant, u32)>,
    ingest_trackers: BTreeMap<WatchId, SharedTracker>,
    pending_links: Vec<PendingLink>,
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
    /// Voice channel we asked to join, per guild or call.
    join_sent: BTreeMap<Place, ChannelId>,
    /// Voice credentials handed to mediad, per guild or call (session, token).
    voice_sent: BTreeMap<Place, (Secret, Secret)>,
    /// Our own Go Live, when one was started through the gateway.
    own_live: Option<watch_core::OwnGoLive>,
    /// Where the watches are kept across restarts (`None`: no file).
    watch_store: Option<persist::WatchStore>,
    /// What was last written there.
    saved_watches: Option<Vec<persist::StoredWatch>>,
    /// Stored watches not yet taken up or dropped.
    to_resume: Vec<persist::StoredWatch>,
    /// End of the adoption window after the first READY: stored watches
    /// still waiting are dropped, and mediad transports no watch wants
    /// are closed.
    adoption_deadline: Option<Instant>,
    adoption_done: bool,
}

fn parse_id(s: &str) -> Option<u64> {
    s.trim().parse().ok()
}

/// A guild id, or `call:<channel id>` for a DM / group DM call (the form
/// `stop` and the views use).
fn parse_place(s: &str) -> Option<Place> {
    match s.trim().strip_prefix("call:") {
        Some(c) => parse_id(c).map(|c| Place::Call(ChannelId(c))),
        None => parse_id(s).map(|g| Place::Guild(GuildId(g))),
    }
}

impl Manager {
    async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        self.persist_shares().await;
        loop {
            let deadline = [self.next_deadline(), self.adoption_deadline]
                .into_iter()
                .flatten()
                .min();
            let settings_changed = async {
                match self.settings_rx.as_mut() {
                    Some(rx) => rx.changed().await.is_ok(),
                    None => std::future::pending().await,
                }
            };
            let video_settings_changed = async {
                match self.video_settings_rx.as_mut() {
                    Some(rx) => rx.changed().await.is_ok(),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = &mut shutdown => break,
                changed = video_settings_changed => {
                    if changed {
                        self.resubscribe().await;
                    } else {
                        self.video_settings_rx = None;
                    }
                }
                changed = settings_changed => {
                    match self.settings_rx.as_ref().filter(|_| changed) {
                        Some(rx) => {
                            let share = rx.borrow().clone();
                            self.shares.set_settings(share);
                        }
                        None => self.settings_rx = None,
                    }
                }
                () = daemon_support::sleep_until(deadline) => {
                    self.on_timer().await;
                    self.on_adoption_timer().await;
                }
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
                    Ok(msg) => {
                        self.on_media(&msg).await;
                        if !self.pending_links.is_empty()
                            && matches!(*msg, MediadMsg::TransportState(_))
                        {
                            self.serve_pending_links().await;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
            self.persist_shares().await;
            self.persist_watches().await;
        }
    }

    async fn on_cmd(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Start(req, reply) => {
                if let Some(r) = self.start(req, reply).await {
                    r.answer();
                }
            }
            cmd @ (Cmd::ShareList(..)
            | Cmd::ShareStopSuffix(..)
            | Cmd::ShareInfo(..)
            | Cmd::ShareFrame(..)
            | Cmd::ShareStop(..)) => self.on_share_cmd(cmd).await,
            Cmd::IngestFrame(frame, reply) => {
                let answer = self.ingest_frame(*frame).await;
                let _ = reply.send(answer);
            }
            Cmd::Stop(guild, reply) => {
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
            Cmd::GoLive(req, reply) => {
                let answer = self.go_live(req).await;
                let _ = reply.send(answer);
            }
        }
    }

    /// `start_screen_watch`: watch-core's [`watch_core::plan_start`]
    /// decides; native and webcam start at once; the link path may wait
    /// for our voice connection (the reply is sent when it is ready).
    async fn start(
        &mut self,
        req: StartRequest,
        reply: oneshot::Sender<WatchResult>,
    ) -> Option<Reply> {
        let Some(guild) = req.place else {
            return Some(Reply(reply, refused("invalid_guild_or_requester_id")));
        };
        let requester = req.requester;
        let options = PlanOptions {
            bot_account: self.config.bot_account,
            link_fallback_enabled: self.config.link_fallback_enabled,
            preferred_link: req
                .preferred_transport
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("link")),
        };
        let plan = watch_core::plan_start(
            &self.registry,
            &self.book,
            guild,
            requester,
            req.target.as_deref(),
            options,
        );
        match plan {
            StartPlan::Refused { refusal, target } => {
                match &refusal {
                    StartRefusal::Selection(_) => tracing::info!(
                        event = "screen_watch_refused",
                        place = %guild,
                        requester = requester.0,
                        reason = refusal.reason(),
                        "screen watch refused"
                    ),
                    StartRefusal::Unavailable(reason) => {
                        tracing::info!(event = "screen_watch_requested", place = %guild, target = ?target.map(|t| t.0), plan_reason = reason.as_str(), "screen watch requested; no transport")
                    }
                }
                let mut r = refused(refusal.reason());
                r.target_user_id = target.map(|u| u.0.to_string());
                Some(Reply(reply, r))
            }
            StartPlan::Watch {
                request,
                replace,
                reason,
            } => {
                tracing::info!(event = "screen_watch_requested", place = %guild, target = request.target.0, transport = ?request.transport, reason = ?reason, "screen watch requested");
                let r = self.start_watch(&req, request, replace, reason).await;
                Some(Reply(reply, r))
            }
            StartPlan::Link {
                target,
                reason,
                selection,
            } => {
                match selection {
                    None => {
                        tracing::info!(event = "screen_watch_requested", place = %guild, target = target.0, plan_reason = reason.as_str(), "nobody sharing; offering the requester a link")
                    }
                    Some(selection) => {
                        tracing::info!(event = "screen_watch_requested", place = %guild, target = target.0, plan_reason = reason.as_str(), reason = ?selection, "screen watch requested");
                        tracing::info!(
                            event = "link_fallback_unavailable",
                            target = target.0,
                            plan_reason = reason.as_str(),
                            "link fallback unavailable"
                        );
                    }
                }
                self.start_link(req, guild, requester, target, reply).await
            }
        }
    }

    /// A [`StartPlan::Watch`]: the screens it replaces end first (one
    /// screen at a time), then the watch starts (or is reused).
    async fn start_watch(
        &mut self,
        req: &StartRequest,
        request: WatchRequest,
        replace: Vec<WatchId>,
        reason: watch_core::SelectionReason,
    ) -> WatchResult {
        for id in replace {
            self.teardown(id, watch_core::REPLACED_BY_NEW_WATCH).await;
        }
        let (guild, target, transport) = (request.guild, request.target, request.transport);
        let outcome = match self.book.start(request, Instant::now()) {
            Ok(o) => o,
            Err(refusal) => return refused(refusal.reason()),
        };
        let id = outcome.id();
        self.progress.entry(id).or_default().text_channel = req.text_channel;
        if let Some(brain) = &self.brain {
            brain
                .watch_started(crate::brain::BrainWatch {
                    watch_id: id.0,
                    guild: guild.guild_id().map_or(0, |g| g.0),
                    target: target.0,
                    target_name: self.registry.display_name(guild, target),
                    text_channel: req.text_channel.map(|c| c.0),
                })
                .await;
        }
        self.advance().await;
        let frames = self.progress.get(&id).map_or(0, |p| p.frames);
        WatchResult {
            ok: true,
            started: matches!(outcome, StartOutcome::Started(_)),
            reused: matches!(outcome, StartOutcome::Reused(_)),
            reason: Some(reason.as_str().to_owned()),
            frame_ready: frames > 0,
            transport: Some(transport_name(&transport).into()),
            target_user_id: Some(target.0.to_string()),
            link_url: None,
            expires_in_minutes: None,
            watch_id: Some(id.0),
        }
    }

    /// A [`StartPlan::Link`]: join the requester's channel if we are not
    /// there, and create the link once watch-core's
    /// [`watch_core::link_can_proceed`] says so (at most
    /// [`watch_core::LINK_WAIT`] later).
    async fn start_link(
        &mut self,
        req: StartRequest,
        place: Place,
        requester: UserId,
        target: UserId,
        reply: oneshot::Sender<WatchResult>,
    ) -> Option<Reply> {
        // The share-link path is a guild text-channel offer; in a call
        // there is no link fallback (yet).
        let Some(guild) = place.guild_id() else {
            return Some(Reply(reply, refused("link_unavailable_in_call")));
        };
        let Some(channel) = self.registry.voice_channel(guild, requester) else {
            return Some(Reply(reply, refused("requester_not_in_voice")));
        };
        self.ensure_voice(guild, channel).await;
        let pending = PendingLink {
            req,
            guild,
            requester,
            target,
            channel,
            reply,
            deadline: Instant::now() + watch_core::LINK_WAIT,
        };
        if self.link_can_proceed(&pending) {
            let result = self.create_link(&pending).await;
            return Some(Reply(pending.reply, result));
        }
        if self.native_resolving(guild, target) {
            tracing::info!(
                event = "link_held_for_native",
                target = target.0,
                "a native watch of this target is still connecting; the link waits for it"
            );
        }
        self.pending_links.push(pending);
        None
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
                Dispatch::CallCreate(c) => self.registry.on_call_create(c),
                Dispatch::CallDelete(c) => self.registry.on_call_delete(c),
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
            if !self.adoption_done && self.adoption_deadline.is_none() {
                self.adoption_deadline = Some(Instant::now() + resume::ADOPTION_WINDOW);
            }
            self.end_own_live("session_reset").await;
            for p in self.progress.values_mut() {
                p.watch_sent = false;
                p.stream_connected = None;
                // The carry-over re-watches from scratch; a retry planned
                // for the old session's transport is moot.
                p.recovery = None;
            }
            return;
        }
        for e in &events {
            tracing::debug!(event = ?e, "registry");
            self.own_live_event(e).await;
            for t in self.book.on_registry_event(e) {
                tracing::info!(event = "screen_watch_ended", watch = %t.watch_id, reason = t.reason.as_str(), "screen watch ended");
                self.cleanup(&t.watch, t.reason.as_str()).await;
                if let Some(brain) = &self.brain {
                    brain.watch_ended(t.watch_id.0, t.reason.as_str()).await;
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
        self.resume_stored(false).await;
        self.advance().await;
        self.serve_pending_links().await;
    }

    async fn on_media(&mut self, msg: &MediadMsg) {
        match msg {
            MediadMsg::DecodedVideoFrame(f) => {
                let target = f.user_id;
                let id = self
                    .book
                    .watches()
                    .find(|w| w.target == target)
                    .map(|w| w.id);
                if let Some(id) = id
                    && self
                        .book
                        .get(id)
                        .is_some_and(|w| w.transport != WatchTransport::Link && !w.native_active)
                {
                    // A webcam watch is active once its frames arrive.
                    self.book.set_native_active(id, true);
                }
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
                (TransportRole::StreamWatch, _) => self.on_stream_status(s).await,
                (TransportRole::Voice, TransportStatus::RejoinRequired) => {
                    // A new voice session is needed: join again.
                    let guilds: Vec<(Place, ChannelId)> =
                        self.join_sent.iter().map(|(g, c)| (*g, *c)).collect();
                    self.voice_sent.clear();
                    for (g, c) in guilds {
                        tracing::info!(place = %g, "voice session lost; re-joining");
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
        if let Some(home) = self.config.home_voice {
            self.ensure_voice(home.guild, home.channel).await;
        }
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
                        self.subscribe(w.id, w.target, VideoPath::Webcam).await;
                    }
                }
                WatchTransport::Link => {}
            }
        }
    }

    async fn teardown(&mut self, id: WatchId, reason: &str) {
        if let Some(w) = self.book.stop(id) {
            tracing::info!(event = "screen_watch_ended", watch = %id, reason, "screen watch ended");
            self.cleanup(&w, reason).await;
            if let Some(brain) = &self.brain {
                brain.watch_ended(id.0, reason).await;
            }
        }
        self.progress.remove(&id);
        self.ingest_windows.remove(&id);
        self.ingest_trackers.remove(&id);
    }

    /// Undoes a watch's transports; the voice connection stays.
    async fn cleanup(&mut self, w: &watch_core::Watch, reason: &str) {
        if w.transport == WatchTransport::Link {
            let sessions: Vec<u64> = self
                .link_watches
                .iter()
                .filter(|(_, id)| **id == w.id)
                .map(|(s, _)| *s)
                .collect();
            for sid in sessions {
                self.link_watches.remove(&sid);
                self.trackers.remove(&sid);
                let token = self.shares.list().find(|s| s.id.0 == sid).map(|s| s.token);
                if let Some(token) = token {
                    self.shares.stop(&token, reason);
                }
            }
            return;
        }
        let _ = self.media.unsubscribe(w.target).await;
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
}

fn transport_name(t: &WatchTransport) -> &'static str {
    match t {
        WatchTransport::Native { .. } => "native",
        WatchTransport::Webcam => "webcam",
        WatchTransport::Link => "link",
    }
}

#[cfg(test)]
mod call_request_tests {
    use super::*;

    #[test]
    fn a_stored_place_names_a_call_or_a_guild() {
        assert_eq!(parse_place("call:500"), Some(Place::Call(ChannelId(500))));
        assert_eq!(parse_place("7"), Some(Place::Guild(GuildId(7))));
        assert_eq!(parse_place("call:x"), None);
    }
}

//! The share-link path of the watch manager: sessions (`share-core`), the
//! offer, link frames, expiry, and the link after a native failure.

use super::*;

// Every live share link can arm its own watch.
const _: () =
    assert!(watch_core::MAX_WATCHES >= share_core::ShareSettings::DEFAULT_MAX_ACTIVE_SESSIONS);

/// The answer to a frame on either frame route: accepted, or why not
/// (with the limit that refused it, when one did). Refusals come from
/// share-core ([`share_core::FrameRefusal`]) and the watch manager; the
/// fields are the union of theirs, in key order (the bytes of the sorted
/// `json!` objects they replaced).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FrameAnswer {
    /// Whether the frame was taken.
    pub accepted: bool,
    /// `frame_too_large`: the live `maxFrameBytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frame_bytes: Option<u64>,
    /// `frame_rate_limited`: the live `maxFramesPerMinute`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frames_per_minute: Option<u64>,
    /// Why not (`null` when accepted): a stable `snake_case` code.
    pub reason: Option<String>,
    /// `ingest_rate_limited`: when to try again, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl FrameAnswer {
    /// `{"accepted": true, "reason": null}`.
    pub fn accepted() -> Self {
        Self {
            accepted: true,
            ..Self::default()
        }
    }

    /// `{"accepted": false, "reason": reason}`.
    pub fn refused(reason: &str) -> Self {
        Self {
            reason: Some(reason.to_owned()),
            ..Self::default()
        }
    }
}

impl From<share_core::FrameRefusal> for FrameAnswer {
    fn from(r: share_core::FrameRefusal) -> Self {
        Self {
            accepted: r.accepted,
            max_frame_bytes: r.max_frame_bytes.map(|n| n as u64),
            max_frames_per_minute: r.max_frames_per_minute.map(u64::from),
            reason: Some(r.reason.into_owned()),
            retry_after_ms: r.retry_after_ms,
        }
    }
}

/// The answer of the stop routes (`…/{token}/stop`,
/// `/api/voice/share-sessions/stop`), fields in key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareStopAnswer {
    /// Whether a link was stopped (`/share-sessions/stop`: whether the
    /// request was carried out).
    pub ok: bool,
    /// Why not: `share_session_not_found`, `suffix_ambiguous`,
    /// `control_stopping`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `/share-sessions/stop`: how many links were stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<u64>,
}

impl ShareStopAnswer {
    /// `{"ok": false, "reason": reason}`.
    pub fn refused(reason: &str) -> Self {
        Self {
            ok: false,
            reason: Some(reason.to_owned()),
            stopped: None,
        }
    }

    /// `{"ok": true}`, with `stopped` when given.
    pub fn stopped(stopped: Option<u64>) -> Self {
        Self {
            ok: true,
            reason: None,
            stopped,
        }
    }
}

/// A frame's refusal: HTTP status and body.
pub type FrameReply = (u16, FrameAnswer);

/// A stop's answer: HTTP status and body.
pub type StopReply = (u16, ShareStopAnswer);

/// The registry as share-core's view of voice presence.
pub(super) struct RegistryPresence<'a>(&'a Registry);

impl share_core::Presence for RegistryPresence<'_> {
    fn in_voice(&self, guild: GuildId, user: UserId) -> Option<ChannelId> {
        self.0.voice_channel(guild, user)
    }
    fn self_in_voice(&self, guild: GuildId) -> Option<ChannelId> {
        self.0.own_voice(guild).map(|v| v.channel_id)
    }
}

pub(super) fn fill_random(buf: &mut [u8]) {
    use rand::RngCore;
    rand::rng().fill_bytes(buf);
}

/// A link start waiting for our voice connection.
pub(super) struct PendingLink {
    pub(super) req: StartRequest,
    pub(super) guild: GuildId,
    pub(super) requester: UserId,
    pub(super) target: UserId,
    pub(super) channel: ChannelId,
    pub(super) reply: oneshot::Sender<WatchResult>,
    pub(super) deadline: Instant,
}

/// The host (with its port, if any) of a link URL, for logs: never the
/// path, which carries the token, nor user info.
pub(super) fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

/// The "unavailable" message for a link that could not be created.
pub(super) fn link_unavailable_message(target: UserId, reason: &str) -> String {
    format!(
        "<@{}> I can't watch your screen right now, and a share link is unavailable too ({}).",
        target.0,
        reason.replace('_', " ")
    )
}

impl Manager {
    /// The share-link commands.
    pub(super) async fn on_share_cmd(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::ShareList(reply) => {
                let now = std::time::SystemTime::now();
                let sessions = self
                    .shares
                    .list()
                    .filter(|s| s.is_live(now))
                    .map(|s| ShareSessionView {
                        suffix: s.token.suffix().to_string(),
                        guild_id: s.guild.0.to_string(),
                        requester_id: s.requester.0.to_string(),
                        target_id: s.target.0.to_string(),
                        expires_in_minutes: s.expires_in_minutes(now),
                        frames_accepted: s.frames_accepted,
                    })
                    .collect();
                let _ = reply.send(ShareListing { sessions });
            }
            Cmd::ShareStopSuffix(suffix, reply) => {
                let tokens: Vec<share_core::ShareToken> = match &suffix {
                    None => self.shares.list().map(|s| s.token).collect(),
                    Some(sfx) => self
                        .shares
                        .find_by_suffix(sfx)
                        .into_iter()
                        .map(|s| s.token)
                        .collect(),
                };
                let answer = match (&suffix, tokens.len()) {
                    (Some(_), 0) => (404, ShareStopAnswer::refused("share_session_not_found")),
                    (Some(_), n) if n > 1 => (409, ShareStopAnswer::refused("suffix_ambiguous")),
                    _ => {
                        let mut stopped = 0;
                        for t in tokens {
                            if let Some(ended) = self.shares.stop(&t, "stopped_by_operator") {
                                stopped += 1;
                                self.link_ended(ended.session.id.0, "share_stopped_by_operator")
                                    .await;
                            }
                        }
                        (200, ShareStopAnswer::stopped(Some(stopped)))
                    }
                };
                // Durable before the answer: a stopped link stays stopped.
                self.persist_shares().await;
                let _ = reply.send(answer);
            }
            Cmd::ShareInfo(token, reply) => {
                let now = std::time::SystemTime::now();
                let left = share_core::ShareToken::parse(&token).ok().and_then(|t| {
                    self.shares
                        .get_live(&t, now)
                        .map(|s| s.remaining(now).as_secs())
                });
                let _ = reply.send(left);
            }
            Cmd::ShareFrame(frame, reply) => {
                let answer = self.share_frame(*frame).await;
                let _ = reply.send(answer);
            }
            Cmd::ShareStop(token, reply) => {
                let answer = match share_core::ShareToken::parse(&token) {
                    Ok(t) => match self.shares.stop(&t, "stopped_by_user") {
                        Some(ended) => {
                            self.link_ended(ended.session.id.0, "share_stopped_by_user")
                                .await;
                            (200, ShareStopAnswer::stopped(None))
                        }
                        None => (400, ShareStopAnswer::refused("share_session_not_found")),
                    },
                    Err(_) => (400, ShareStopAnswer::refused("share_session_not_found")),
                };
                self.persist_shares().await;
                let _ = reply.send(answer);
            }
            _ => {}
        }
    }

    /// Creates (or reuses) the share session, arms its watch and offers the
    /// link in the text channel, with the two suppression checkpoints.
    pub(super) async fn create_link(&mut self, p: &PendingLink) -> WatchResult {
        // Checkpoint 1: native became active for this target meanwhile.
        if let Some(w) = self.book.find_by_target(p.guild, p.target)
            && w.native_active
        {
            tracing::info!(
                event = "link_suppressed",
                target = p.target.0,
                checkpoint = 1,
                "native watch active; no link"
            );
            return WatchResult {
                ok: true,
                reused: true,
                reason: Some("native_active".into()),
                transport: Some(transport_name(&w.transport).into()),
                target_user_id: Some(p.target.0.to_string()),
                watch_id: Some(w.id.0),
                ..WatchResult::default()
            };
        }
        let now = std::time::SystemTime::now();
        for ended in self.shares.expire(now) {
            self.link_ended(ended.session.id.0, "share_session_expired")
                .await;
        }
        let text_channel = p.req.text_channel.map(|c| c.0);
        let request = share_core::CreateRequest {
            guild: p.guild,
            requester: p.requester,
            target: Some(p.target),
            channel: Some(p.channel),
            now,
        };
        let created =
            match self
                .shares
                .create(request, &RegistryPresence(&self.registry), &mut fill_random)
            {
                Ok(c) => c,
                Err(refusal) => {
                    for ended in refusal.ended.clone() {
                        self.link_ended(ended.session.id.0, "share_presence_lost")
                            .await;
                    }
                    self.post_link_unavailable(text_channel, p.target, refusal.reason())
                        .await;
                    let mut r = refused(refusal.reason());
                    r.transport = Some("link".into());
                    r.target_user_id = Some(p.target.0.to_string());
                    return r;
                }
            };
        let session = created.session.clone();
        let url = format!(
            "{}{}",
            self.links.public_url.trim_end_matches('/'),
            session.token.share_path()
        );
        let minutes = session.expires_in_minutes(now);
        if let Some(c) = text_channel {
            self.link_text.insert(session.id.0, c);
        }
        let id = match self.arm_link_watch(&session).await {
            Ok(id) => id,
            Err(refusal) => {
                self.shares.stop(&session.token, "watch_refused");
                self.post_link_unavailable(text_channel, p.target, refusal.reason())
                    .await;
                return refused(refusal.reason());
            }
        };
        // Durable before the link is handed out: a restart keeps it valid.
        self.persist_shares().await;
        let offer = format!(
            "<@{}> I can't watch your screen directly here. Share it with me through this link: {url} (it expires in {minutes} min).",
            p.target.0
        );
        // Checkpoint 2: the offer is composed; native may have won the race.
        if watch_core::suppress_link(&self.book, id) {
            tracing::info!(
                event = "link_suppressed",
                target = p.target.0,
                checkpoint = 2,
                "native watch active; offer not sent"
            );
            self.shares.stop(&session.token, "native_active");
            return refused("native_active");
        }
        let mut posted = false;
        if !created.reused
            && let (Some(rest), Some(channel)) = (&self.rest, text_channel)
        {
            match rest.post_message(channel, &offer).await {
                Ok(()) => posted = true,
                Err(e) => tracing::warn!(error = %e, "link offer not posted"),
            }
        }
        tracing::info!(event = "link_fallback_started", target = p.target.0, token = %session.token, link_host = url_host(&url), reused = created.reused, posted, "share link offered");
        WatchResult {
            ok: true,
            started: !created.reused,
            reused: created.reused,
            reason: Some("link_offered".into()),
            frame_ready: self.progress.get(&id).is_some_and(|p| p.frames > 0),
            transport: Some("link".into()),
            target_user_id: Some(p.target.0.to_string()),
            link_url: Some(url),
            expires_in_minutes: Some(u32::try_from(minutes).unwrap_or(u32::MAX)),
            watch_id: Some(id.0),
        }
    }

    /// A link could not be created: one "unavailable" message in the text
    /// channel, when one is known (the reference's explicit-request path),
    /// so the people in the call hear why nothing happens.
    async fn post_link_unavailable(&self, text_channel: Option<u64>, target: UserId, reason: &str) {
        let (Some(rest), Some(channel)) = (&self.rest, text_channel) else {
            return;
        };
        let message = link_unavailable_message(target, reason);
        match rest.post_message(channel, &message).await {
            Ok(()) => tracing::info!(
                event = "link_unavailable_posted",
                target = target.0,
                reason,
                "link unavailable message posted"
            ),
            Err(e) => tracing::warn!(error = %e, reason, "link unavailable message not posted"),
        }
    }

    /// After a native failure: the share link, offered once, with nobody
    /// waiting for the answer.
    pub(super) async fn offer_link_after_failure(
        &mut self,
        guild: GuildId,
        requester: UserId,
        target: UserId,
        text_channel: ChannelId,
    ) {
        let Some(channel) = self.registry.voice_channel(guild, requester) else {
            return;
        };
        tracing::info!(
            event = "link_fallback_started",
            target = target.0,
            "native failed; offering the share link"
        );
        let (reply, _) = oneshot::channel();
        let pending = PendingLink {
            req: StartRequest {
                place: Some(Place::Guild(guild)),
                requester,
                target: Some(target.0.to_string()),
                preferred_transport: Some("link".into()),
                text_channel: Some(text_channel),
            },
            guild,
            requester,
            target,
            channel,
            reply,
            deadline: Instant::now() + watch_core::LINK_WAIT,
        };
        if self
            .registry
            .own_voice(guild)
            .is_some_and(|v| v.channel_id == channel)
        {
            // The native watch is gone, so this is the one offer; the
            // link watch that replaces it cannot fail natively again.
            let r = self.create_link(&pending).await;
            tracing::info!(ok = r.ok, reason = ?r.reason, "link after native failure");
        } else {
            self.pending_links.push(pending);
        }
    }

    /// A frame posted to a link: admission (the HTTP handler scores it
    /// and feeds the brain once admitted).
    pub(super) async fn share_frame(&mut self, f: LinkFrame) -> Admission {
        let Ok(token) = share_core::ShareToken::parse(&f.token) else {
            let r = share_core::FrameRejection::SessionNotFound;
            return Err((r.http_status(), r.body().into()));
        };
        let meta = share_core::FrameMeta {
            mime: &f.mime,
            decoded_len: f.decoded_len,
            now: std::time::SystemTime::now(),
        };
        let accepted =
            match self
                .shares
                .check_frame(&token, meta, &RegistryPresence(&self.registry))
            {
                Ok(a) => a,
                Err(rejection) => {
                    if let Some(ended) = rejection.ended() {
                        let id = ended.session.id.0;
                        self.link_ended(id, rejection.reason()).await;
                    }
                    return Err((rejection.http_status(), rejection.body().into()));
                }
            };
        let watch = match self.link_watches.get(&accepted.id.0) {
            Some(&w) => w,
            None => {
                // A session restored after a restart: its watch is armed by
                // its first frame (names are known by then).
                let session = self.shares.list().find(|s| s.id == accepted.id).cloned();
                match session {
                    Some(s) => match self.arm_link_watch(&s).await {
                        Ok(id) => id,
                        Err(refusal) => {
                            tracing::warn!(reason = refusal.reason(), "restored link not armed");
                            return Ok(None);
                        }
                    },
                    None => return Ok(None),
                }
            }
        };
        if let Some(p) = self.progress.get_mut(&watch) {
            p.frames += 1;
        }
        Ok(Some(Admitted {
            watch_id: watch.0,
            target: accepted.target.0,
            tracker: self.trackers.entry(accepted.id.0).or_default().clone(),
        }))
    }

    /// Arms (or reuses) the link watch a share session feeds and has the
    /// brain follow it.
    pub(super) async fn arm_link_watch(
        &mut self,
        session: &share_core::ShareSession,
    ) -> Result<WatchId, watch_core::Refusal> {
        let id = self
            .book
            .start(
                WatchRequest {
                    guild: session.guild.into(),
                    target: session.target,
                    requester: session.requester,
                    channel: session.channel,
                    transport: WatchTransport::Link,
                },
                Instant::now(),
            )?
            .id();
        self.link_watches.insert(session.id.0, id);
        self.progress.entry(id).or_default();
        if let Some(brain) = &self.brain {
            brain
                .watch_started(crate::brain::BrainWatch {
                    watch_id: id.0,
                    guild: session.guild.0,
                    target: session.target.0,
                    target_name: self.registry.display_name(session.guild, session.target),
                    text_channel: self.link_text.get(&session.id.0).copied(),
                })
                .await;
        }
        Ok(id)
    }

    /// Writes the live share sessions to the store when the set changed.
    pub(super) async fn persist_shares(&mut self) {
        let Some(store) = self.links.store.clone() else {
            return;
        };
        let revision = self.shares.revision();
        if self.saved_share_revision == Some(revision) {
            return;
        }
        let ids: std::collections::BTreeSet<u64> = self.shares.list().map(|s| s.id.0).collect();
        self.link_text.retain(|sid, _| ids.contains(sid));
        let records: Vec<crate::store::StoredShare> = self
            .shares
            .list()
            .map(|s| crate::store::StoredShare {
                session: s.clone(),
                text_channel_id: self.link_text.get(&s.id.0).copied(),
            })
            .collect();
        match store.save_share_sessions(records).await {
            Ok(()) => self.saved_share_revision = Some(revision),
            Err(e) => tracing::error!(
                error = %e,
                "share sessions not saved; live links will not survive a restart"
            ),
        }
    }

    /// A frame from the direct ingest route: it feeds the running watch of
    /// the guild (of `streamerUserId` when given) with the same change
    /// metrics as link frames. Checks, in order: guild id, stream watch
    /// enabled (`stream_watch_disabled`, the reference's order), a watch,
    /// target match, MIME, size, frames per minute.
    pub(super) async fn ingest_frame(&mut self, f: IngestFrame) -> Admission {
        let reject = |answer: FrameAnswer| Err((400, answer));
        let guild = f.guild;
        if !self.shares.settings().stream_watch_enabled {
            return reject(FrameAnswer::refused("stream_watch_disabled"));
        }
        let streamer = f.streamer;
        let in_guild: Vec<&watch_core::Watch> = self
            .book
            .watches()
            .filter(|w| w.guild == Place::Guild(guild))
            .collect();
        let watch = match (streamer, in_guild.as_slice()) {
            (_, []) => return reject(FrameAnswer::refused("watch_not_active")),
            (Some(s), list) => match list.iter().find(|w| w.target == s) {
                Some(w) => (*w).clone(),
                None => return reject(FrameAnswer::refused("target_user_mismatch")),
            },
            (None, [one]) => (*one).clone(),
            (None, _) => return reject(FrameAnswer::refused("streamer_user_id_required")),
        };
        if !share_core::ShareSettings::mime_allowed(&f.mime) {
            return reject(FrameAnswer::refused("invalid_mime_type"));
        }
        let settings = self.shares.settings().clone();
        if !f.decoded || f.decoded_len > settings.max_frame_bytes {
            return reject(FrameAnswer {
                max_frame_bytes: Some(settings.max_frame_bytes as u64),
                ..FrameAnswer::refused("frame_too_large")
            });
        }
        let now = Instant::now();
        let window = self.ingest_windows.entry(watch.id).or_insert((now, 0));
        if now.duration_since(window.0) >= watch_core::LINK_FRAME_WINDOW {
            *window = (now, 0);
        }
        if window.1 >= settings.max_frames_per_minute {
            return reject(FrameAnswer {
                max_frames_per_minute: Some(u64::from(settings.max_frames_per_minute)),
                ..FrameAnswer::refused("frame_rate_limited")
            });
        }
        window.1 += 1;
        if let Some(p) = self.progress.get_mut(&watch.id) {
            p.frames += 1;
        }
        Ok(Some(Admitted {
            watch_id: watch.id.0,
            target: watch.target.0,
            tracker: self.ingest_trackers.entry(watch.id).or_default().clone(),
        }))
    }

    /// A share session ended: its watch ends too.
    pub(super) async fn link_ended(&mut self, session_id: u64, reason: &str) {
        self.trackers.remove(&session_id);
        if let Some(id) = self.link_watches.remove(&session_id) {
            self.teardown(id, reason).await;
        }
    }

    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let pending = self.pending_links.iter().map(|p| p.deadline).min();
        let expiry = self.shares.next_expiry().map(|t| {
            let wait = t
                .duration_since(std::time::SystemTime::now())
                .unwrap_or_default();
            Instant::now() + wait
        });
        [pending, expiry, self.recovery_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    pub(super) async fn on_timer(&mut self) {
        self.on_recovery_timer().await;
        let now = Instant::now();
        let (late, keep): (Vec<PendingLink>, Vec<PendingLink>) =
            std::mem::take(&mut self.pending_links)
                .into_iter()
                .partition(|p| now >= p.deadline);
        self.pending_links = keep;
        for p in late {
            let answer = match self.book.find_by_target(p.guild, p.target) {
                // Still connecting natively: no link now (two transports for
                // one target are never run); if native fails, the link is
                // offered then.
                Some(w) if self.native_resolving(p.guild, p.target) => WatchResult {
                    ok: true,
                    reused: true,
                    reason: Some("native_still_connecting".into()),
                    transport: Some(transport_name(&w.transport).into()),
                    target_user_id: Some(p.target.0.to_string()),
                    watch_id: Some(w.id.0),
                    ..WatchResult::default()
                },
                _ => refused("voice_join_timeout"),
            };
            let _ = p.reply.send(answer);
        }
        for ended in self.shares.expire(std::time::SystemTime::now()) {
            tracing::info!(event = "share_session_expired", token = %ended.session.token, "share link expired");
            self.link_ended(ended.session.id.0, "share_session_expired")
                .await;
        }
    }

    /// A native (or webcam) watch of `target` is still connecting
    /// (watch-core's [`WatchBook::native_resolving`]).
    pub(super) fn native_resolving(&self, guild: GuildId, target: UserId) -> bool {
        self.book.native_resolving(guild, target)
    }

    /// A pending link can be created (watch-core's
    /// [`watch_core::link_can_proceed`]).
    pub(super) fn link_can_proceed(&self, p: &PendingLink) -> bool {
        let own = self.registry.own_voice(p.guild).map(|v| v.channel_id);
        watch_core::link_can_proceed(&self.book, p.guild, own, p.channel, p.target)
    }

    /// Link starts whose voice connection is now there.
    pub(super) async fn serve_pending_links(&mut self) {
        let ready: Vec<usize> = self
            .pending_links
            .iter()
            .enumerate()
            .filter(|(_, p)| self.link_can_proceed(p))
            .map(|(i, _)| i)
            .collect();
        for i in ready.into_iter().rev() {
            let p = self.pending_links.remove(i);
            let result = self.create_link(&p).await;
            let _ = p.reply.send(result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 16 §6: the create log line carries the link's host, never
    /// its path (the token) or user info.
    #[test]
    fn the_logged_host_has_no_token() {
        let url = "https://h.example:8443/some/path/share/AbCdEfGhIjKlMnOpQrStUvWx";
        assert_eq!(url_host(url), "h.example:8443");
        assert_eq!(
            url_host("http://u:p@127.0.0.1:3000/share/x?y#z"),
            "127.0.0.1:3000"
        );
        assert_eq!(url_host("h.example/share/x"), "h.example");
        assert_eq!(url_host(""), "");
    }

    /// Issue 16 §5: the message names the target and the reason.
    #[test]
    fn the_unavailable_message_names_target_and_reason() {
        let m = link_unavailable_message(UserId(7), "share_session_limit_reached");
        assert!(m.starts_with("<@7> "), "{m}");
        assert!(m.contains("share session limit reached"), "{m}");
    }
}

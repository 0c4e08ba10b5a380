//! Taking up the watches a previous control ran (issue 16 §1): they are
//! kept in the store (`persist.rs`); after the gateway's READY each is
//! resumed under its id as soon as GUILD_CREATE shows its place (the
//! decision is `watch_core::resume_decision`), `advance` then rejoins
//! voice with a fresh op 4 and re-requests the stream; at the end of the
//! adoption window the mediad transports and subscriptions that no watch
//! wants (adopted from mediad's snapshot) are closed with a reason.

use super::*;

/// How long after the first READY stored watches may wait for their place,
/// and after which unwanted adopted transports are closed.
pub(super) const ADOPTION_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);

/// The reason mediad's unwanted stream transport is closed with.
pub(super) const ORPHAN_REASON: &str = "orphaned_after_control_restart";

impl Manager {
    /// Resumes or drops the stored watches the registry can now decide.
    pub(super) async fn resume_stored(&mut self, window_over: bool) {
        if self.to_resume.is_empty() || self.registry.own_user().is_none() {
            return;
        }
        let now = Instant::now();
        for stored in std::mem::take(&mut self.to_resume) {
            let Some(w) = stored.to_watch(now) else {
                tracing::warn!(watch = stored.id, "stored watch not understood; dropped");
                continue;
            };
            match watch_core::resume_decision(&self.registry, &w, window_over) {
                watch_core::ResumeDecision::Wait => self.to_resume.push(stored),
                watch_core::ResumeDecision::Drop(reason) => {
                    tracing::info!(event = "screen_watch_not_resumed", watch = %w.id, reason, "stored watch not taken up");
                }
                watch_core::ResumeDecision::Resume => {
                    let id = w.id;
                    if !self.book.restore(w.clone()) {
                        tracing::warn!(watch = %id, "stored watch clashes with a running one; dropped");
                        continue;
                    }
                    tracing::info!(
                        event = "screen_watch_resumed",
                        watch = %id,
                        place = %w.guild,
                        target = w.target.0,
                        transport = transport_name(&w.transport),
                        "screen watch taken up after a restart"
                    );
                    // The store keeps the id as text.
                    let text_channel = stored.text_channel.as_deref().and_then(parse_id);
                    self.progress.entry(id).or_default().text_channel = text_channel.map(ChannelId);
                    if let Some(sid) = stored.share_session {
                        self.link_watches.insert(sid, id);
                    }
                    if let Some(brain) = &self.brain {
                        brain
                            .watch_started(crate::brain::BrainWatch {
                                watch_id: id.0,
                                guild: w.guild.guild_id().map_or(0, |g| g.0),
                                target: w.target.0,
                                target_name: self.registry.display_name(w.guild, w.target),
                                text_channel,
                            })
                            .await;
                    }
                }
            }
        }
    }

    /// The adoption window is over: drop stored watches still waiting and
    /// close what mediad holds that no watch wants.
    pub(super) async fn on_adoption_timer(&mut self) {
        if self.adoption_deadline.is_none_or(|d| Instant::now() < d) {
            return;
        }
        self.adoption_deadline = None;
        self.adoption_done = true;
        self.resume_stored(true).await;
        let Ok(view) = self.media.view().await else {
            return;
        };
        let native = self
            .book
            .watches()
            .any(|w| matches!(w.transport, WatchTransport::Native { .. }));
        if let Some(s) = &view.desired.stream_watch
            && !native
        {
            tracing::info!(
                event = "orphaned_transport_closed",
                role = "stream_watch",
                key = %s.0.stream_key,
                reason = ORPHAN_REASON,
                "no watch wants mediad's stream transport"
            );
            let _ = self
                .media
                .set_stream(TransportRole::StreamWatch, None, ORPHAN_REASON)
                .await;
        }
        let wanted: std::collections::BTreeSet<u64> = self
            .book
            .watches()
            .filter(|w| w.transport != WatchTransport::Link)
            .map(|w| w.target.0)
            .collect();
        for user in view.desired.subscriptions.keys() {
            if !wanted.contains(&user.0) {
                tracing::info!(
                    event = "orphaned_subscription_closed",
                    user = user.0,
                    reason = ORPHAN_REASON,
                    "no watch wants mediad's subscription"
                );
                let _ = self.media.unsubscribe(*user).await;
            }
        }
    }

    /// Writes the watches (and those still waiting to be taken up) to the
    /// store when they changed.
    pub(super) async fn persist_watches(&mut self) {
        let Some(store) = self.watch_store.clone() else {
            return;
        };
        let mut records: Vec<persist::StoredWatch> = self
            .book
            .watches()
            .map(|w| {
                let text = self
                    .progress
                    .get(&w.id)
                    .and_then(|p| p.text_channel.map(|c| c.0.to_string()));
                let session = self
                    .link_watches
                    .iter()
                    .find(|(_, id)| **id == w.id)
                    .map(|(s, _)| *s);
                persist::StoredWatch::of(w, text, session)
            })
            .collect();
        records.extend(self.to_resume.iter().cloned());
        records.sort_by_key(|r| r.id);
        if self.saved_watches.as_ref() == Some(&records) {
            return;
        }
        match store.save(records.clone()).await {
            Ok(()) => self.saved_watches = Some(records),
            Err(e) => tracing::error!(
                error = %e,
                "watches not saved; they will not survive a restart"
            ),
        }
    }
}

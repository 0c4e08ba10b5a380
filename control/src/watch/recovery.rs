//! Carries out `watch_core::StreamRecovery` for native watches: every
//! stream_watch status from mediad goes to the recovery of each native
//! watch that wanted its transport up; a retry forgets the failed
//! credentials and sends op 20 again; giving up ends the watch with
//! `stream_transport_lost` (logged, sent to the brain and the dashboard),
//! then offers the link fallback once. The decision and its sources are in
//! `crates/watch-core/src/recovery.rs` (issue 15 item 9).

use super::*;
use watch_core::{
    RecoveryAction, RecoveryPolicy, STREAM_TRANSPORT_LOST, StreamRecovery, StreamStatus,
};

fn stream_status(s: TransportStatus) -> StreamStatus {
    match s {
        TransportStatus::Connecting => StreamStatus::Connecting,
        TransportStatus::Ready => StreamStatus::Ready,
        TransportStatus::Resuming => StreamStatus::Resuming,
        TransportStatus::Reconnecting => StreamStatus::Reconnecting,
        TransportStatus::RejoinRequired => StreamStatus::RejoinRequired,
        TransportStatus::Failed => StreamStatus::Failed,
        TransportStatus::Disconnected => StreamStatus::Disconnected,
    }
}

impl Manager {
    /// Native watches whose stream transport control wants up: credentials
    /// were handed to mediad, or a retry is under way.
    fn stream_watches(&self) -> Vec<WatchId> {
        self.book
            .watches()
            .filter(|w| matches!(w.transport, WatchTransport::Native { .. }))
            .filter(|w| {
                self.progress.get(&w.id).is_some_and(|p| {
                    p.stream_connected.is_some()
                        || p.recovery.as_ref().is_some_and(StreamRecovery::recovering)
                })
            })
            .map(|w| w.id)
            .collect()
    }

    /// A stream_watch status from mediad.
    pub(super) async fn on_stream_status(&mut self, s: &ipc_schema::TransportState) {
        let now = Instant::now();
        let status = stream_status(s.status);
        if status == StreamStatus::Ready {
            let native: Vec<WatchId> = self
                .book
                .watches()
                .filter(|w| matches!(w.transport, WatchTransport::Native { .. }))
                .map(|w| w.id)
                .collect();
            for id in native {
                self.book.set_native_active(id, true);
            }
        }
        for id in self.stream_watches() {
            let Some(p) = self.progress.get_mut(&id) else {
                continue;
            };
            let recovery = p
                .recovery
                .get_or_insert_with(|| StreamRecovery::new(RecoveryPolicy::default()));
            let action = recovery.on_status(now, status, s.close_code, s.reason.as_deref());
            if !matches!(status, StreamStatus::Ready | StreamStatus::Connecting) {
                tracing::warn!(event = "stream_transport_lost", watch = %id, status = s.status.as_str(), close_code = ?s.close_code, reason = ?s.reason, retries = recovery.attempts(), "stream transport of a native watch reported a problem");
            }
            self.act_on_recovery(id, action).await;
        }
    }

    /// The earliest recovery deadline of any watch.
    pub(super) fn recovery_deadline(&self) -> Option<Instant> {
        self.progress
            .values()
            .filter_map(|p| p.recovery.as_ref().and_then(StreamRecovery::poll_timeout))
            .min()
    }

    /// Runs due retries and notices retries that did not connect.
    pub(super) async fn on_recovery_timer(&mut self) {
        let now = Instant::now();
        let due: Vec<(WatchId, RecoveryAction)> = self
            .progress
            .iter_mut()
            .filter_map(|(id, p)| {
                let r = p.recovery.as_mut()?;
                r.poll_timeout()
                    .is_some_and(|t| t <= now)
                    .then(|| (*id, r.handle_timeout(now)))
            })
            .collect();
        for (id, action) in due {
            self.act_on_recovery(id, action).await;
        }
    }

    async fn act_on_recovery(&mut self, id: WatchId, action: RecoveryAction) {
        match action {
            RecoveryAction::None => {}
            RecoveryAction::Rewatch { attempt } => {
                let Some(WatchTransport::Native { stream_key }) =
                    self.book.get(id).map(|w| w.transport)
                else {
                    return;
                };
                tracing::info!(event = "stream_watch_retry", watch = %id, key = %stream_key, attempt, "asking the gateway for the stream again (op 20)");
                self.registry.forget_stream_credentials(&stream_key);
                if let Some(p) = self.progress.get_mut(&id) {
                    p.stream_connected = None;
                    // `advance` sends op 20 again and connects the fresh
                    // credentials when they come.
                    p.watch_sent = false;
                }
                self.advance().await;
            }
            RecoveryAction::End { detail } => {
                tracing::warn!(event = "native_start_failed", watch = %id, reason = STREAM_TRANSPORT_LOST, %detail, "stream transport could not be brought back; watch ended");
                let fallback = self
                    .book
                    .get(id)
                    .cloned()
                    .zip(self.progress.get(&id).and_then(|p| p.text_channel));
                self.teardown(id, STREAM_TRANSPORT_LOST).await;
                // Offer the link once, when requester and text channel are known.
                if let Some((w, text_channel)) = fallback
                    && self.config.link_fallback_enabled
                    && let Some(&requester) = w.requesters.first()
                    && let Some(guild) = w.guild.guild_id()
                {
                    // No link fallback in a DM / group DM call.
                    self.offer_link_after_failure(guild, requester, w.target, text_channel)
                        .await;
                }
            }
        }
    }
}

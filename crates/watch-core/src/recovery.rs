//! [`StreamRecovery`]: what control does when the stream_watch transport
//! of a native watch stops (issue 15 item 9).
//!
//! # Decision
//!
//! A watch must never die silently. mediad reports the stream_watch slot's
//! state (`TransportStatus` over IPC); before this, control ended the watch
//! on `Failed`/`RejoinRequired` at once and ignored `Disconnected`, so a
//! stream server that closed the connection (4014 "disconnected", 4022
//! "call terminated", or a plain 1000) left a watch that looked alive and
//! never got another frame.
//!
//! Now every loss of a transport control wanted up counts:
//!
//! * `Failed`, `RejoinRequired`, and `Disconnected` **with a close code**
//!   (the server closed it) are losses. `Disconnected` without a close code
//!   is mediad confirming a disconnect control itself asked for (mediad's
//!   `state.rs` reports it with the caller's reason and no code): ignored.
//! * After a loss, control waits a capped backoff and then retries: it
//!   drops the old credentials and re-sends op 20 Stream Watch, which makes
//!   the gateway hand out a fresh STREAM_CREATE + STREAM_SERVER_UPDATE
//!   (fact sheet §4.2 "op 20 → STREAM_CREATE + STREAM_SERVER_UPDATE, or
//!   STREAM_DELETE with reason"; §4.5 step 6: on STREAM_SERVER_UPDATE
//!   again, reconnect to the new endpoint). A fresh token is needed because
//!   the voice server refuses a reused session (discord-api-docs
//!   voice-connections: "never reuse the old session", fact sheet §4.3).
//!   mediad's own slot already resumes and reconnects what can be resumed
//!   without the main gateway (`Resuming`/`Reconnecting`, not counted here).
//! * An attempt that does not reach `Ready` within
//!   [`RecoveryPolicy::attempt_timeout`] counts as another loss (a retry
//!   whose credentials never come must not hang either).
//! * After [`RecoveryPolicy::max_attempts`] retries without `Ready`, the
//!   watch ends with [`STREAM_TRANSPORT_LOST`] and a detail naming the
//!   last status, close code and reason, which control logs, gives the
//!   brain (`watch_ended`) and shows on the dashboard.
//! * `Ready` resets the count: a stream that recovers and later drops
//!   again gets its retries again.
//!
//! If the stream itself is gone, the retry's op 20 is answered with
//! STREAM_DELETE and the registry ends the watch with Discord's reason
//! before the attempts run out.

use std::time::{Duration, Instant};

/// The reason a watch ends with when its stream transport cannot be
/// brought back.
pub const STREAM_TRANSPORT_LOST: &str = "stream_transport_lost";

/// A stream_watch transport's state as mediad reports it (mirrors
/// `ipc_schema::TransportStatus`; watch-core does not depend on the IPC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStatus {
    /// Handshake in progress.
    Connecting,
    /// Media flows.
    Ready,
    /// mediad is resuming the WebSocket.
    Resuming,
    /// mediad is reconnecting with the same credentials.
    Reconnecting,
    /// Only new credentials from the main gateway can help.
    RejoinRequired,
    /// mediad gave up.
    Failed,
    /// Closed (by the server when a close code is given, else on request).
    Disconnected,
}

impl StreamStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Ready => "ready",
            Self::Resuming => "resuming",
            Self::Reconnecting => "reconnecting",
            Self::RejoinRequired => "rejoin_required",
            Self::Failed => "failed",
            Self::Disconnected => "disconnected",
        }
    }
}

/// Bounds of the recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryPolicy {
    /// Retries (op 20 again) before the watch ends.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled per retry.
    pub first_delay: Duration,
    /// Cap of the wait.
    pub max_delay: Duration,
    /// How long a retry may take to reach `Ready`.
    pub attempt_timeout: Duration,
}

impl Default for RecoveryPolicy {
    /// 3 retries after 1 s, 2 s, 4 s, each given 20 s to connect: a lost
    /// stream ends its watch (with a reason) within about a minute and a
    /// half at worst, while a server failover (new STREAM_SERVER_UPDATE
    /// within seconds) is ridden out.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            attempt_timeout: Duration::from_secs(20),
        }
    }
}

/// What control must do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoveryAction {
    /// Nothing.
    None,
    /// Forget the stream credentials sent to mediad and send op 20 with the
    /// watch's key again; connect the credentials that come back.
    Rewatch {
        /// 1 for the first retry.
        attempt: u32,
    },
    /// Give up: end the watch with [`STREAM_TRANSPORT_LOST`].
    End {
        /// What happened last, for logs and the dashboard.
        detail: String,
    },
}

/// The recovery state of one native watch's stream transport.
#[derive(Debug, Clone)]
pub struct StreamRecovery {
    policy: RecoveryPolicy,
    /// Retries made since the last `Ready`.
    attempts: u32,
    retry_at: Option<Instant>,
    attempt_deadline: Option<Instant>,
    last_problem: Option<String>,
}

impl StreamRecovery {
    /// Nothing lost yet.
    pub fn new(policy: RecoveryPolicy) -> Self {
        Self {
            policy,
            attempts: 0,
            retry_at: None,
            attempt_deadline: None,
            last_problem: None,
        }
    }

    /// Retries made since the last `Ready`.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether a retry is waiting or under way.
    pub fn recovering(&self) -> bool {
        self.retry_at.is_some() || self.attempt_deadline.is_some()
    }

    /// A status report for the stream_watch transport of this watch.
    pub fn on_status(
        &mut self,
        now: Instant,
        status: StreamStatus,
        close_code: Option<u16>,
        reason: Option<&str>,
    ) -> RecoveryAction {
        match status {
            StreamStatus::Ready => {
                self.attempts = 0;
                self.retry_at = None;
                self.attempt_deadline = None;
                self.last_problem = None;
                RecoveryAction::None
            }
            StreamStatus::Connecting | StreamStatus::Resuming | StreamStatus::Reconnecting => {
                RecoveryAction::None
            }
            StreamStatus::Disconnected if close_code.is_none() => RecoveryAction::None,
            StreamStatus::Disconnected | StreamStatus::Failed | StreamStatus::RejoinRequired => {
                let mut problem = status.as_str().to_owned();
                if let Some(code) = close_code {
                    problem.push_str(&format!(" (close {code})"));
                }
                if let Some(r) = reason.filter(|r| !r.is_empty()) {
                    problem.push_str(": ");
                    problem.extend(r.chars().take(200));
                }
                if self.retry_at.is_some() {
                    // A retry is already scheduled; keep the newest detail.
                    self.last_problem = Some(problem);
                    return RecoveryAction::None;
                }
                self.lost(now, problem)
            }
        }
    }

    fn lost(&mut self, now: Instant, problem: String) -> RecoveryAction {
        self.attempt_deadline = None;
        if self.attempts >= self.policy.max_attempts {
            self.retry_at = None;
            return RecoveryAction::End {
                detail: format!(
                    "{problem}; gave up after {} retr{}",
                    self.attempts,
                    if self.attempts == 1 { "y" } else { "ies" }
                ),
            };
        }
        let factor = 1u32 << self.attempts.min(16);
        let delay = self
            .policy
            .first_delay
            .saturating_mul(factor)
            .min(self.policy.max_delay);
        self.retry_at = Some(now + delay);
        self.last_problem = Some(problem);
        RecoveryAction::None
    }

    /// When [`StreamRecovery::handle_timeout`] is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.retry_at, self.attempt_deadline]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs a due retry or notices a retry that did not connect.
    pub fn handle_timeout(&mut self, now: Instant) -> RecoveryAction {
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
            self.attempts += 1;
            self.attempt_deadline = Some(now + self.policy.attempt_timeout);
            return RecoveryAction::Rewatch {
                attempt: self.attempts,
            };
        }
        if self.attempt_deadline.is_some_and(|t| t <= now) {
            let last = self.last_problem.take().unwrap_or_default();
            let problem = format!(
                "no stream connection {} s after retry {} (before: {last})",
                self.policy.attempt_timeout.as_secs(),
                self.attempts
            );
            return self.lost(now, problem);
        }
        RecoveryAction::None
    }
}

#[cfg(test)]
#[path = "recovery_tests.rs"]
mod tests;

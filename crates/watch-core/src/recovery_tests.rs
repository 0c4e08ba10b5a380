//! [`StreamRecovery`] on virtual time.

// One arbitrary base instant; everything after it is virtual.
#![allow(clippy::disallowed_methods)]

use super::*;

fn policy() -> RecoveryPolicy {
    RecoveryPolicy::default()
}

/// Issue 15 item 9: the server closes a watched stream (4014). The old
/// manager ignored `Disconnected` entirely (the watch stayed, frameless,
/// forever); now it is a loss that leads to a retry.
#[test]
fn server_disconnect_is_retried_after_a_backoff() {
    let t0 = Instant::now();
    let mut r = StreamRecovery::new(policy());
    assert_eq!(
        r.on_status(t0, StreamStatus::Ready, None, None),
        RecoveryAction::None
    );
    let a = r.on_status(
        t0,
        StreamStatus::Disconnected,
        Some(4014),
        Some("close_4014_disconnected"),
    );
    assert_eq!(a, RecoveryAction::None);
    assert_eq!(r.poll_timeout(), Some(t0 + Duration::from_secs(1)));
    assert_eq!(
        r.handle_timeout(t0 + Duration::from_millis(999)),
        RecoveryAction::None
    );
    assert_eq!(
        r.handle_timeout(t0 + Duration::from_secs(1)),
        RecoveryAction::Rewatch { attempt: 1 }
    );
    assert!(r.recovering());
    // The retry connects: everything is reset.
    r.on_status(t0 + Duration::from_secs(2), StreamStatus::Ready, None, None);
    assert_eq!(r.attempts(), 0);
    assert!(!r.recovering());
    assert_eq!(r.poll_timeout(), None);
}

/// A disconnect control asked for (no close code) is not a loss.
#[test]
fn requested_disconnect_is_ignored() {
    let t0 = Instant::now();
    let mut r = StreamRecovery::new(policy());
    let a = r.on_status(
        t0,
        StreamStatus::Disconnected,
        None,
        Some("replaced_by_new_watch"),
    );
    assert_eq!(a, RecoveryAction::None);
    assert_eq!(r.poll_timeout(), None);
    // mediad working on it by itself is not a loss either.
    for s in [
        StreamStatus::Connecting,
        StreamStatus::Resuming,
        StreamStatus::Reconnecting,
    ] {
        assert_eq!(r.on_status(t0, s, None, None), RecoveryAction::None);
    }
    assert_eq!(r.poll_timeout(), None);
}

/// Bounded: after `max_attempts` retries that fail, the watch ends with a
/// reason naming what happened. The old manager ended at the first
/// `Failed` without any retry.
#[test]
fn failures_end_the_watch_after_bounded_retries_with_a_reason() {
    let t0 = Instant::now();
    let mut r = StreamRecovery::new(policy());
    let mut now = t0;
    let mut rewatches = Vec::new();
    let end = loop {
        let a = r.on_status(
            now,
            StreamStatus::Failed,
            Some(4016),
            Some("unknown_encryption_mode"),
        );
        if let RecoveryAction::End { detail } = a {
            break detail;
        }
        let due = r.poll_timeout().expect("a retry is scheduled");
        rewatches.push(due - now);
        now = due;
        match r.handle_timeout(now) {
            RecoveryAction::Rewatch { attempt } => assert_eq!(attempt as usize, rewatches.len()),
            other => panic!("expected a rewatch, got {other:?}"),
        }
        assert!(rewatches.len() <= 3, "unbounded retries");
    };
    assert_eq!(
        rewatches,
        [1, 2, 4].map(Duration::from_secs),
        "capped exponential backoff"
    );
    assert!(
        end.contains("failed (close 4016): unknown_encryption_mode"),
        "{end}"
    );
    assert!(end.contains("gave up after 3 retries"), "{end}");
    assert_eq!(r.poll_timeout(), None);
}

/// A retry whose credentials never come (no `Ready`, no failure either)
/// counts as a loss after `attempt_timeout`: no silent hang.
#[test]
fn a_retry_that_never_connects_times_out() {
    let t0 = Instant::now();
    let mut r = StreamRecovery::new(RecoveryPolicy {
        max_attempts: 1,
        ..policy()
    });
    r.on_status(t0, StreamStatus::RejoinRequired, Some(4006), None);
    let t1 = r.poll_timeout().expect("retry");
    assert_eq!(r.handle_timeout(t1), RecoveryAction::Rewatch { attempt: 1 });
    let deadline = r.poll_timeout().expect("attempt deadline");
    assert_eq!(deadline, t1 + Duration::from_secs(20));
    let RecoveryAction::End { detail } = r.handle_timeout(deadline) else {
        panic!("the watch must end");
    };
    assert!(detail.contains("no stream connection"), "{detail}");
    assert!(detail.contains("rejoin_required (close 4006)"), "{detail}");
}

#[test]
fn losses_while_a_retry_waits_do_not_stack() {
    let t0 = Instant::now();
    let mut r = StreamRecovery::new(policy());
    r.on_status(t0, StreamStatus::Failed, None, None);
    let due = r.poll_timeout();
    r.on_status(t0, StreamStatus::Disconnected, Some(1000), None);
    assert_eq!(r.poll_timeout(), due);
    assert_eq!(r.attempts(), 0);
}

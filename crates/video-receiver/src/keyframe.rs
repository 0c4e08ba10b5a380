//! Rate limiting of keyframe requests.

use std::time::{Duration, Instant};

/// Decides when a keyframe request (PLI) actually goes out.
///
/// Requests raised while one was sent less than `min_interval` ago are
/// remembered and sent when the interval has passed, so the last reason
/// is never lost. While the receiver is waiting for a keyframe, the request
/// is repeated every `retry_interval` (a PLI can be lost or ignored).
#[derive(Debug, Clone)]
pub(crate) struct KeyframeRequester {
    min_interval: Duration,
    retry_interval: Duration,
    /// When the last request went out.
    last_sent: Option<Instant>,
    /// A request was raised and has not gone out yet.
    pending: bool,
    /// The receiver holds frames back until a keyframe arrives.
    awaiting: bool,
}

impl KeyframeRequester {
    pub(crate) fn new(min_interval: Duration, retry_interval: Duration) -> Self {
        KeyframeRequester {
            min_interval,
            // Retrying faster than the minimum spacing would break the limit.
            retry_interval: retry_interval.max(min_interval),
            last_sent: None,
            pending: false,
            awaiting: false,
        }
    }

    /// Raises a request; `awaiting` also starts the retry cycle.
    pub(crate) fn request(&mut self, awaiting: bool) {
        self.pending = true;
        self.awaiting |= awaiting;
    }

    /// A keyframe arrived: nothing is owed any more.
    pub(crate) fn keyframe_received(&mut self) {
        self.pending = false;
        self.awaiting = false;
    }

    /// Stops retrying without forgetting a pending request (the receiver
    /// gave up waiting and decodes through the damage).
    pub(crate) fn stop_awaiting(&mut self) {
        self.awaiting = false;
    }

    /// True when a request must be sent at `now` (and records it as sent).
    pub(crate) fn poll(&mut self, now: Instant) -> bool {
        let due = match self.last_sent {
            None => self.pending,
            Some(t) => {
                (self.pending && now >= t + self.min_interval)
                    || (self.awaiting && now >= t + self.retry_interval)
            }
        };
        if due {
            self.last_sent = Some(now);
            self.pending = false;
        }
        due
    }

    /// When [`poll`](Self::poll) may next return true, if anything is owed.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        let last = self.last_sent?;
        let pending = self.pending.then(|| last + self.min_interval);
        let retry = self.awaiting.then(|| last + self.retry_interval);
        match (pending, retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

// Each test reads the clock once for a base instant; time is virtual after it.
#[cfg(test)]
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn first_request_goes_out_at_once_then_is_spaced() {
        let t0 = Instant::now();
        let mut k = KeyframeRequester::new(500 * MS, 1500 * MS);
        assert!(!k.poll(t0), "nothing raised");
        k.request(false);
        assert!(k.poll(t0));
        assert!(!k.poll(t0), "sent once");
        k.request(false);
        assert!(!k.poll(t0 + 499 * MS), "rate limited");
        assert_eq!(k.next_timeout(), Some(t0 + 500 * MS));
        assert!(k.poll(t0 + 500 * MS), "deferred request is not lost");
        assert_eq!(k.next_timeout(), None);
    }

    #[test]
    fn retries_while_awaiting_until_keyframe() {
        let t0 = Instant::now();
        let mut k = KeyframeRequester::new(500 * MS, 1500 * MS);
        k.request(true);
        assert!(k.poll(t0));
        assert_eq!(k.next_timeout(), Some(t0 + 1500 * MS));
        assert!(!k.poll(t0 + 1000 * MS));
        assert!(k.poll(t0 + 1500 * MS), "retry");
        k.keyframe_received();
        assert_eq!(k.next_timeout(), None);
        assert!(!k.poll(t0 + 5000 * MS));
    }

    #[test]
    fn retry_never_faster_than_min_interval() {
        let t0 = Instant::now();
        let mut k = KeyframeRequester::new(500 * MS, 10 * MS);
        k.request(true);
        assert!(k.poll(t0));
        assert!(!k.poll(t0 + 100 * MS));
        assert!(k.poll(t0 + 500 * MS));
    }
}

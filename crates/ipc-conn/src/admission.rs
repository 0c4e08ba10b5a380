//! Admission of connections that have not finished the handshake: how many
//! may be pending at once, and how often refusals are logged.

use std::time::{Duration, Instant};

/// Connections allowed to be in the handshake at the same time. Only one
/// control is ever expected (plus a tap or a tool now and then); anything
/// beyond this is refused at accept, before a byte is read.
pub const MAX_PENDING_HANDSHAKES: usize = 8;

/// Rate limit for "refused a peer" WARN lines: one line per refused peer,
/// but at most `per_window` lines in each `window`; the lines skipped are
/// counted and reported on the next line that is written.
#[derive(Clone, Debug)]
pub struct RefusalLog {
    window: Duration,
    per_window: u32,
    window_start: Option<Instant>,
    logged_in_window: u32,
    suppressed: u64,
}

impl Default for RefusalLog {
    /// Ten lines per ten seconds.
    fn default() -> Self {
        Self::new(10, Duration::from_secs(10))
    }
}

impl RefusalLog {
    /// At most `per_window` (≥ 1) lines per `window`.
    pub fn new(per_window: u32, window: Duration) -> Self {
        Self {
            window,
            per_window: per_window.max(1),
            window_start: None,
            logged_in_window: 0,
            suppressed: 0,
        }
    }

    /// A peer was refused at `now`. `Some(n)` means: log this refusal, and
    /// say that `n` earlier ones were not logged; `None` means stay quiet
    /// (the refusal is counted).
    pub fn on_refusal(&mut self, now: Instant) -> Option<u64> {
        let fresh = match self.window_start {
            Some(start) => now.saturating_duration_since(start) >= self.window,
            None => true,
        };
        if fresh {
            self.window_start = Some(now);
            self.logged_in_window = 0;
        }
        if self.logged_in_window < self.per_window {
            self.logged_in_window += 1;
            Some(std::mem::take(&mut self.suppressed))
        } else {
            self.suppressed = self.suppressed.saturating_add(1);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_up_to_the_limit_then_counts_and_reports_the_skipped() {
        let t0 = Instant::now();
        let mut log = RefusalLog::new(3, Duration::from_secs(10));
        let got: Vec<_> = (0..10)
            .map(|i| log.on_refusal(t0 + Duration::from_millis(i)))
            .collect();
        assert_eq!(&got[..3], &[Some(0), Some(0), Some(0)]);
        assert!(got[3..].iter().all(Option::is_none), "{got:?}");
        // A new window: the next line says how many were skipped.
        assert_eq!(log.on_refusal(t0 + Duration::from_secs(10)), Some(7));
        assert_eq!(log.on_refusal(t0 + Duration::from_secs(11)), Some(0));
    }

    #[test]
    fn a_clock_going_backwards_does_not_panic_or_reset() {
        let t0 = Instant::now() + Duration::from_secs(5);
        let mut log = RefusalLog::new(1, Duration::from_secs(10));
        assert_eq!(log.on_refusal(t0), Some(0));
        assert_eq!(log.on_refusal(t0 - Duration::from_secs(5)), None);
    }
}

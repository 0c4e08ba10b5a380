//! Capped exponential backoff as a pure function.

use std::time::Duration;

/// Delays that double from `initial` up to `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// First delay.
    pub initial: Duration,
    /// Largest delay.
    pub max: Duration,
}

impl Backoff {
    /// The delay before retry number `attempt` (0-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
        };
        let d: Vec<u64> = (0..8).map(|a| b.delay(a).as_millis() as u64).collect();
        assert_eq!(d, vec![100, 200, 400, 800, 1600, 2000, 2000, 2000]);
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(2));
    }
}

//! REST rate-limit bookkeeping: informative `X-RateLimit-*` headers on
//! every response and 429s only on demand (an admin switch), so tests
//! decide exactly when a client meets a rate limit.
//!
//! Pure: the caller passes `now`.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Requests per bucket window advertised in the headers (Discord's
/// message-create bucket: 5 per 5 s).
pub const BUCKET_LIMIT: u32 = 5;
/// The bucket window.
pub const BUCKET_WINDOW: Duration = Duration::from_secs(5);

/// A forced-429 switch set by the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forced429 {
    /// Requests still to refuse.
    pub remaining: u32,
    /// `retry_after`.
    pub retry_after: Duration,
    /// Global (vs per-route).
    pub global: bool,
}

/// What to put on one response.
#[derive(Debug, Clone, PartialEq)]
pub struct RateDecision {
    /// Bucket id (`X-RateLimit-Bucket`).
    pub bucket: String,
    /// `X-RateLimit-Limit`.
    pub limit: u32,
    /// `X-RateLimit-Remaining`.
    pub remaining: u32,
    /// `X-RateLimit-Reset-After` in seconds.
    pub reset_after: f64,
    /// `Some` → answer 429 with this `retry_after` (seconds) and global flag.
    pub refuse: Option<(f64, bool)>,
}

/// Per-route request times and the forced-429 switch.
#[derive(Debug, Default)]
pub struct RestLimiter {
    buckets: BTreeMap<String, VecDeque<Instant>>,
    forced: Option<Forced429>,
}

impl RestLimiter {
    /// Refuse the next `count` requests.
    pub fn force(&mut self, count: u32, retry_after: Duration, global: bool) {
        self.forced = (count > 0).then_some(Forced429 {
            remaining: count,
            retry_after,
            global,
        });
    }

    /// Accounts one request on `route` at `now`.
    pub fn check(&mut self, route: &str, now: Instant) -> RateDecision {
        let bucket = format!("{:016x}", fnv1a(route));
        let times = self.buckets.entry(bucket.clone()).or_default();
        while times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= BUCKET_WINDOW)
        {
            times.pop_front();
        }
        times.push_back(now);
        let used = u32::try_from(times.len()).unwrap_or(u32::MAX);
        let reset_after = times
            .front()
            .map_or(BUCKET_WINDOW, |t| {
                BUCKET_WINDOW.saturating_sub(now.saturating_duration_since(*t))
            })
            .as_secs_f64();
        let refuse = match &mut self.forced {
            Some(f) if f.remaining > 0 => {
                f.remaining -= 1;
                let r = (f.retry_after.as_secs_f64(), f.global);
                if f.remaining == 0 {
                    self.forced = None;
                }
                Some(r)
            }
            _ => None,
        };
        RateDecision {
            bucket,
            limit: BUCKET_LIMIT,
            remaining: if refuse.is_some() {
                0
            } else {
                BUCKET_LIMIT.saturating_sub(used)
            },
            reset_after: refuse.map_or(reset_after, |(r, _)| r),
            refuse,
        }
    }
}

/// A stable bucket id per route (FNV-1a; Discord's ids are opaque too).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_counts_down_and_window_refills() {
        let mut l = RestLimiter::default();
        let t0 = Instant::now();
        let a = l.check("POST /channels/1/messages", t0);
        let b = l.check("POST /channels/1/messages", t0);
        assert_eq!(
            (a.remaining, b.remaining),
            (BUCKET_LIMIT - 1, BUCKET_LIMIT - 2)
        );
        assert_eq!(a.bucket, b.bucket);
        assert_ne!(a.bucket, l.check("GET /users/@me", t0).bucket);
        let later = l.check("POST /channels/1/messages", t0 + BUCKET_WINDOW);
        assert_eq!(later.remaining, BUCKET_LIMIT - 1);
        assert!(a.refuse.is_none() && later.refuse.is_none());
    }

    #[test]
    fn forced_429_applies_to_exactly_count_requests() {
        let mut l = RestLimiter::default();
        let t0 = Instant::now();
        l.force(2, Duration::from_millis(1500), false);
        let r1 = l.check("x", t0);
        let r2 = l.check("y", t0);
        let r3 = l.check("x", t0);
        assert_eq!(r1.refuse, Some((1.5, false)));
        assert_eq!(r1.remaining, 0);
        assert!(r2.refuse.is_some());
        assert_eq!(r3.refuse, None);
    }
}

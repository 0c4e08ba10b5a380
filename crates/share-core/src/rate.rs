//! Token-bucket rate limiting, sans-IO (time comes in as [`Instant`]).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::frame::FrameRejection;

/// A bucket's shape: up to `burst` requests at once, refilled at
/// `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Bucket capacity (at least 1).
    pub burst: u32,
    /// Refill rate in requests per second (positive, finite).
    pub per_second: f64,
}

impl RateLimit {
    /// Per client IP: the reference's 1200 requests per 60 s (20/s), with a
    /// burst of 40.
    pub const PER_IP: RateLimit = RateLimit {
        burst: 40,
        per_second: 20.0,
    };
    /// Per session: above the highest frames-per-minute setting (600/min =
    /// 10/s) so this limiter only catches abuse, burst 20.
    pub const PER_TOKEN: RateLimit = RateLimit {
        burst: 20,
        per_second: 12.0,
    };

    fn sane(self) -> Self {
        let per_second = if self.per_second.is_finite() && self.per_second > 0.0 {
            self.per_second
        } else {
            1.0
        };
        Self {
            burst: self.burst.max(1),
            per_second,
        }
    }
}

/// A refusal from [`RateLimiter::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    /// When one request will be allowed again.
    pub retry_after: Duration,
}

impl From<RateLimited> for FrameRejection {
    fn from(r: RateLimited) -> Self {
        FrameRejection::IngestRateLimited {
            retry_after: r.retry_after,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets keyed by `K` (a client IP, a [`crate::SessionId`]),
/// with a bounded number of keys.
///
/// Do not key it by a [`crate::ShareToken`] or a path containing one: map
/// lookups compare keys with early exits. Key per-token limits by the
/// session's [`crate::SessionId`] instead.
#[derive(Debug)]
pub struct RateLimiter<K: Ord + Clone> {
    limit: RateLimit,
    max_keys: usize,
    buckets: BTreeMap<K, Bucket>,
}

impl<K: Ord + Clone> RateLimiter<K> {
    /// Default key bound.
    pub const DEFAULT_MAX_KEYS: usize = 4096;

    /// A limiter with the given shape, holding at most `max_keys` buckets
    /// (at least 1).
    pub fn new(limit: RateLimit, max_keys: usize) -> Self {
        Self {
            limit: limit.sane(),
            max_keys: max_keys.max(1),
            buckets: BTreeMap::new(),
        }
    }

    /// Takes one request from `key`'s bucket at `now`.
    ///
    /// A new key when the map is full first prunes full (idle) buckets,
    /// then evicts the least recently used one, so memory stays bounded.
    pub fn check(&mut self, key: &K, now: Instant) -> Result<(), RateLimited> {
        let limit = self.limit;
        if !self.buckets.contains_key(key) && self.buckets.len() >= self.max_keys {
            self.prune(now);
            if self.buckets.len() >= self.max_keys {
                let oldest = self
                    .buckets
                    .iter()
                    .min_by_key(|(_, b)| b.last)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    self.buckets.remove(&k);
                }
            }
        }
        let bucket = self.buckets.entry(key.clone()).or_insert(Bucket {
            tokens: f64::from(limit.burst),
            last: now,
        });
        refill(bucket, limit, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - bucket.tokens;
            let secs = (missing / limit.per_second).clamp(0.0, 86_400.0);
            Err(RateLimited {
                retry_after: Duration::from_secs_f64(secs),
            })
        }
    }

    /// Drops buckets that have refilled completely by `now` (they behave
    /// exactly like absent ones).
    pub fn prune(&mut self, now: Instant) {
        let limit = self.limit;
        self.buckets.retain(|_, b| {
            refill(b, limit, now);
            b.tokens < f64::from(limit.burst)
        });
    }

    /// Forgets `key` (e.g. when its session ends).
    pub fn remove(&mut self, key: &K) {
        self.buckets.remove(key);
    }

    /// Buckets held.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether no bucket is held.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

fn refill(b: &mut Bucket, limit: RateLimit, now: Instant) {
    let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
    b.tokens = (b.tokens + elapsed * limit.per_second).min(f64::from(limit.burst));
    if now > b.last {
        b.last = now;
    }
}

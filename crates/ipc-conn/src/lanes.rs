//! The lossy lane: a small queue that drops its oldest entry when full.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Notify;

/// A bounded drop-oldest queue shared by producers and one writer task.
///
/// Video frames are perishable: when control reads slowly, the freshest
/// frame is worth more than an old one, so a full queue evicts its oldest
/// entry and counts it. A std `Mutex` is right here: it is held only for a
/// push or pop, never across an await.
#[derive(Debug)]
pub struct LossyLane<T> {
    queue: Mutex<VecDeque<T>>,
    capacity: usize,
    notify: Notify,
    dropped: AtomicU64,
    pushed: AtomicU64,
}

impl<T> LossyLane<T> {
    /// A lane holding at most `capacity` (≥ 1) entries.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            queue: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity,
            notify: Notify::new(),
            dropped: AtomicU64::new(0),
            pushed: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<T>> {
        // A poisoned lock only means a panic elsewhere while holding it; the
        // queue itself is still a valid VecDeque.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `item`, evicting the oldest entry if full. Returns whether an
    /// entry was dropped.
    pub fn push(&self, item: T) -> bool {
        self.push_evicting(item, |_| true)
    }

    /// Queues `item`; when full, evicts the oldest entry that is
    /// `evictable` (the oldest entry of all if none is), so that entries
    /// that must not be lost (a state edge between media packets) survive
    /// while perishable ones around them are dropped. The queue never holds
    /// more than its capacity. Returns whether an entry was dropped.
    pub fn push_evicting(&self, item: T, evictable: impl Fn(&T) -> bool) -> bool {
        let dropped = {
            let mut q = self.lock();
            let dropped = if q.len() >= self.capacity {
                let at = q.iter().position(&evictable).unwrap_or(0);
                q.remove(at).is_some()
            } else {
                false
            };
            q.push_back(item);
            dropped
        };
        self.pushed.fetch_add(1, Ordering::Relaxed);
        if dropped {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.notify.notify_one();
        dropped
    }

    /// Takes the oldest entry.
    pub fn pop(&self) -> Option<T> {
        self.lock().pop_front()
    }

    /// Waits until something may have been pushed.
    pub async fn notified(&self) {
        self.notify.notified().await;
    }

    /// Stores a wake-up for the consumer without pushing anything.
    pub fn renotify(&self) {
        self.notify.notify_one();
    }

    /// Entries dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Entries pushed so far (including dropped ones).
    pub fn pushed(&self) -> u64 {
        self.pushed.load(Ordering::Relaxed)
    }

    /// Entries waiting.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_oldest_and_counts() {
        let lane = LossyLane::new(3);
        for i in 0..10 {
            lane.push(i);
        }
        assert_eq!(lane.dropped(), 7);
        assert_eq!(lane.pushed(), 10);
        assert_eq!(lane.pop(), Some(7));
        assert_eq!(lane.pop(), Some(8));
        assert_eq!(lane.pop(), Some(9));
        assert_eq!(lane.pop(), None);
    }

    #[test]
    fn push_evicting_keeps_what_must_not_be_lost() {
        // Negative entries are edges that must survive; others perish.
        let lane = LossyLane::new(3);
        lane.push(-1);
        for i in 1..=5 {
            lane.push_evicting(i, |v| *v >= 0);
        }
        assert_eq!((lane.dropped(), lane.pushed(), lane.len()), (3, 6, 3));
        assert_eq!(lane.pop(), Some(-1));
        assert_eq!(lane.pop(), Some(4));
        assert_eq!(lane.pop(), Some(5));
        // Nothing evictable: the oldest goes, the bound holds.
        for i in 0..4 {
            lane.push_evicting(-10 - i, |v| *v >= 0);
        }
        assert_eq!(lane.len(), 3);
        assert_eq!(lane.pop(), Some(-11));
    }
}

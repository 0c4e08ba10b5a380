//! Discord's gateway send limit: a fixed number of commands per window.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A sliding window of send times.
#[derive(Debug)]
pub struct SendWindow {
    window: Duration,
    limit: u32,
    sent: VecDeque<Instant>,
}

impl SendWindow {
    /// At most `limit` sends per `window`.
    pub fn new(window: Duration, limit: u32) -> Self {
        Self {
            window,
            limit: limit.max(1),
            sent: VecDeque::new(),
        }
    }

    fn expire(&mut self, now: Instant) {
        while self
            .sent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
        {
            self.sent.pop_front();
        }
    }

    /// Takes a slot if one is free.
    pub fn try_take(&mut self, now: Instant) -> bool {
        self.expire(now);
        if self.sent.len() < self.limit as usize {
            self.sent.push_back(now);
            true
        } else {
            false
        }
    }

    /// Records a send that bypasses the limit (identify, resume).
    pub fn record(&mut self, now: Instant) {
        self.expire(now);
        self.sent.push_back(now);
    }

    /// When the next slot frees up, if the window is full.
    pub fn next_free(&self) -> Option<Instant> {
        if self.sent.len() < self.limit as usize {
            return None;
        }
        self.sent.front().map(|t| *t + self.window)
    }
}

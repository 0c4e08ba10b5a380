//! The v8+ replay buffer: every sequence-numbered server message is kept
//! until acknowledged, so a resumed connection can be sent what it missed.

use std::collections::VecDeque;

use crate::core::WsFrame;

/// Most messages kept per session. Beyond that the oldest are dropped and a
/// resume that needs them fails with 4006, like Discord's bounded buffer.
pub(crate) const REPLAY_CAPACITY: usize = 512;

/// Sequence-numbered frames not yet acknowledged.
#[derive(Debug, Default)]
pub(crate) struct ReplayBuffer {
    frames: VecDeque<(u64, WsFrame)>,
    /// Highest sequence number dropped for capacity (not acknowledged).
    lost_up_to: Option<u64>,
}

/// A resume asked for messages the buffer no longer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReplayGap;

impl ReplayBuffer {
    /// Keeps `frame` (numbered `seq`, increasing).
    pub(crate) fn push(&mut self, seq: u64, frame: WsFrame) {
        if self.frames.len() >= REPLAY_CAPACITY
            && let Some((old, _)) = self.frames.pop_front()
        {
            self.lost_up_to = Some(old);
        }
        self.frames.push_back((seq, frame));
    }

    /// Forgets everything up to and including `ack`.
    pub(crate) fn ack(&mut self, ack: u64) {
        while self.frames.front().is_some_and(|(s, _)| *s <= ack) {
            self.frames.pop_front();
        }
    }

    /// The frames after `ack` (all frames when `None`), or a gap if some
    /// of them were dropped for capacity.
    pub(crate) fn after(&self, ack: Option<u64>) -> Result<Vec<WsFrame>, ReplayGap> {
        if let Some(lost) = self.lost_up_to
            && ack.is_none_or(|a| a < lost)
        {
            return Err(ReplayGap);
        }
        Ok(self
            .frames
            .iter()
            .filter(|(s, _)| ack.is_none_or(|a| *s > a))
            .map(|(_, f)| f.clone())
            .collect())
    }

    /// Number of frames held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.frames.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: u64) -> WsFrame {
        WsFrame::Text(n.to_string())
    }

    #[test]
    fn replays_only_after_ack_and_detects_gaps() {
        let mut b = ReplayBuffer::default();
        for s in 1..=5 {
            b.push(s, text(s));
        }
        assert_eq!(b.after(Some(3)).unwrap(), vec![text(4), text(5)]);
        b.ack(2);
        assert_eq!(b.len(), 3);
        assert_eq!(b.after(None).unwrap().len(), 3);
        for s in 6..(6 + REPLAY_CAPACITY as u64) {
            b.push(s, text(s));
        }
        assert_eq!(b.len(), REPLAY_CAPACITY);
        assert_eq!(b.after(Some(3)), Err(ReplayGap));
        let last = 5 + REPLAY_CAPACITY as u64;
        assert_eq!(b.after(Some(last - 1)).unwrap(), vec![text(last)]);
    }
}

//! Who is speaking, from op 5 and from audio RTP arrival.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use voice_proto::UserId;

/// One change of a user's (or an SSRC's) speaking state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeakingChange {
    /// The user, when the SSRC has been mapped (op 5 / op 12).
    pub user_id: Option<UserId>,
    /// Audio SSRC.
    pub ssrc: u32,
    /// Speaking now.
    pub speaking: bool,
}

/// Tracks audio activity per SSRC: the first non-silent packet after a
/// silence starts speaking; `timeout` without one stops it. Opus DTX
/// silence frames (`F8 FF FE`) do not count as speech.
#[derive(Debug, Clone)]
pub struct SpeakingTracker {
    timeout: Duration,
    users: BTreeMap<u32, UserId>,
    last_audio: BTreeMap<u32, Instant>,
}

/// Most SSRCs tracked; more are ignored (a call has far fewer speakers).
const MAX_SSRCS: usize = 256;

impl SpeakingTracker {
    /// A tracker that ends speaking after `timeout` of silence.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            users: BTreeMap::new(),
            last_audio: BTreeMap::new(),
        }
    }

    /// Maps an audio SSRC to its user.
    pub fn map(&mut self, ssrc: u32, user_id: UserId) {
        if self.users.len() < MAX_SSRCS || self.users.contains_key(&ssrc) {
            self.users.insert(ssrc, user_id);
        }
    }

    /// The user of an audio SSRC.
    pub fn user(&self, ssrc: u32) -> Option<UserId> {
        self.users.get(&ssrc).copied()
    }

    /// An audio packet arrived. Returns a change when speaking starts.
    pub fn on_audio(&mut self, ssrc: u32, payload: &[u8], now: Instant) -> Option<SpeakingChange> {
        if payload.is_empty() || payload == [0xF8, 0xFF, 0xFE] {
            return None;
        }
        if !self.last_audio.contains_key(&ssrc) && self.last_audio.len() >= MAX_SSRCS {
            return None;
        }
        let started = self.last_audio.insert(ssrc, now).is_none();
        started.then(|| SpeakingChange {
            user_id: self.user(ssrc),
            ssrc,
            speaking: true,
        })
    }

    /// When the next silence timeout falls due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.last_audio.values().min().map(|t| *t + self.timeout)
    }

    /// Ends speaking for every SSRC silent for `timeout`.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<SpeakingChange> {
        let timeout = self.timeout;
        let stopped: Vec<u32> = self
            .last_audio
            .iter()
            .filter(|(_, t)| now >= **t + timeout)
            .map(|(s, _)| *s)
            .collect();
        stopped
            .into_iter()
            .map(|ssrc| {
                self.last_audio.remove(&ssrc);
                SpeakingChange {
                    user_id: self.user(ssrc),
                    ssrc,
                    speaking: false,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::disallowed_methods)] // tests pick an arbitrary base instant
    use super::*;

    #[test]
    fn starts_on_speech_and_stops_after_silence() {
        let t0 = Instant::now();
        let mut s = SpeakingTracker::new(Duration::from_millis(400));
        s.map(7, UserId(42));
        assert_eq!(s.on_audio(7, &[0xF8, 0xFF, 0xFE], t0), None, "DTX silence");
        let start = s.on_audio(7, &[1, 2, 3, 4], t0).expect("start");
        assert_eq!((start.user_id, start.speaking), (Some(UserId(42)), true));
        assert_eq!(
            s.on_audio(7, &[1, 2, 3, 4], t0 + Duration::from_millis(20)),
            None
        );
        assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_millis(420)));
        assert!(s.handle_timeout(t0 + Duration::from_millis(300)).is_empty());
        let stop = s.handle_timeout(t0 + Duration::from_millis(420));
        assert_eq!(
            stop,
            vec![SpeakingChange {
                user_id: Some(UserId(42)),
                ssrc: 7,
                speaking: false
            }]
        );
        assert_eq!(s.poll_timeout(), None);
    }
}

//! Frame admission: the byte limit and a sliding-minute rate limit, and the
//! latest admitted frame's metadata.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::settings::Settings;

/// The rate-limit window.
pub const RATE_WINDOW: Duration = Duration::from_secs(60);

/// What the brain knows about one frame (the JPEG itself stays with the
/// shell).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameMeta {
    /// When the frame arrived.
    pub at: Instant,
    /// Encoded size in bytes.
    pub bytes: usize,
    /// Instantaneous change score, 0..=1 (0 for share-page frames).
    pub change_score: f32,
    /// Smoothed (EMA) change score, 0..=1.
    pub ema_score: f32,
    /// Whether the frame is a scene cut.
    pub scene_cut: bool,
}

impl FrameMeta {
    /// A frame with no change metrics (share-page frames).
    pub fn unscored(at: Instant, bytes: usize) -> Self {
        Self {
            at,
            bytes,
            change_score: 0.0,
            ema_score: 0.0,
            scene_cut: false,
        }
    }

    /// The same frame with both scores forced into 0..=1 (NaN → 0).
    #[must_use]
    pub fn sanitized(mut self) -> Self {
        self.change_score = unit(self.change_score);
        self.ema_score = unit(self.ema_score);
        self
    }

    /// A significant change: a scene cut, or the score or the EMA at or
    /// above `threshold` (reference §4.3).
    pub fn is_significant(&self, threshold: f64) -> bool {
        self.scene_cut
            || f64::from(unit(self.change_score)) >= threshold
            || f64::from(unit(self.ema_score)) >= threshold
    }

    /// Static motion: no cut and both scores below `floor` (reference §4.3).
    pub fn is_static(&self, floor: f64) -> bool {
        !self.scene_cut
            && f64::from(unit(self.change_score)) < floor
            && f64::from(unit(self.ema_score)) < floor
    }
}

fn unit(score: f32) -> f32 {
    if score.is_nan() {
        0.0
    } else {
        score.clamp(0.0, 1.0)
    }
}

/// Why a frame was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameRejected {
    /// The frame has no data.
    #[error("frame_data_required")]
    Empty,
    /// The frame is larger than `maxFrameBytes`.
    #[error("frame_too_large: {bytes} bytes, limit {limit}")]
    TooLarge {
        /// The frame's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// `maxFramesPerMinute` frames were already admitted in the last minute.
    #[error("frame_rate_limited: limit {limit} per minute")]
    RateLimited {
        /// The limit.
        limit: usize,
    },
}

impl FrameRejected {
    /// The reference's reason string.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Empty => "frame_data_required",
            Self::TooLarge { .. } => "frame_too_large",
            Self::RateLimited { .. } => "frame_rate_limited",
        }
    }
}

/// Admits frames by size and rate and keeps the latest admitted frame.
#[derive(Debug, Clone)]
pub struct FrameIntake {
    max_bytes: usize,
    max_per_minute: usize,
    admitted_at: VecDeque<Instant>,
    latest: Option<FrameMeta>,
    admitted_total: u64,
    rejected_total: u64,
}

impl FrameIntake {
    /// An intake with the limits of `settings` (clamped).
    pub fn new(settings: &Settings) -> Self {
        let mut intake = Self {
            max_bytes: 0,
            max_per_minute: 0,
            admitted_at: VecDeque::new(),
            latest: None,
            admitted_total: 0,
            rejected_total: 0,
        };
        intake.update_settings(settings);
        intake
    }

    /// Takes new limits; the window and the latest frame are kept.
    pub fn update_settings(&mut self, settings: &Settings) {
        let s = settings.clone().clamped();
        self.max_bytes = s.max_frame_bytes as usize;
        self.max_per_minute = s.max_frames_per_minute as usize;
        while self.admitted_at.len() > self.max_per_minute {
            self.admitted_at.pop_front();
        }
    }

    /// Admits or rejects one frame. Checks size first, then rate; only
    /// admitted frames count toward the rate. An admitted frame (scores
    /// sanitized) becomes [`FrameIntake::latest`].
    pub fn admit(&mut self, meta: FrameMeta) -> Result<FrameMeta, FrameRejected> {
        let result = self.check(meta.at, meta.bytes);
        match result {
            Ok(()) => {
                let meta = meta.sanitized();
                self.admitted_at.push_back(meta.at);
                self.latest = Some(meta);
                self.admitted_total = self.admitted_total.saturating_add(1);
                Ok(meta)
            }
            Err(e) => {
                self.rejected_total = self.rejected_total.saturating_add(1);
                Err(e)
            }
        }
    }

    fn check(&mut self, now: Instant, bytes: usize) -> Result<(), FrameRejected> {
        if bytes == 0 {
            return Err(FrameRejected::Empty);
        }
        if bytes > self.max_bytes {
            return Err(FrameRejected::TooLarge {
                bytes,
                limit: self.max_bytes,
            });
        }
        self.expire(now);
        if self.admitted_at.len() >= self.max_per_minute {
            return Err(FrameRejected::RateLimited {
                limit: self.max_per_minute,
            });
        }
        Ok(())
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&first) = self.admitted_at.front() {
            if now.saturating_duration_since(first) >= RATE_WINDOW {
                self.admitted_at.pop_front();
            } else {
                break;
            }
        }
    }

    /// Frames admitted in the minute before `now`.
    pub fn window_count(&mut self, now: Instant) -> usize {
        self.expire(now);
        self.admitted_at.len()
    }

    /// The latest admitted frame.
    pub fn latest(&self) -> Option<&FrameMeta> {
        self.latest.as_ref()
    }

    /// Frames admitted since creation or the last reset.
    pub fn admitted_total(&self) -> u64 {
        self.admitted_total
    }

    /// Frames rejected since creation or the last reset.
    pub fn rejected_total(&self) -> u64 {
        self.rejected_total
    }

    /// Forgets everything (a new watch).
    pub fn reset(&mut self) {
        self.admitted_at.clear();
        self.latest = None;
        self.admitted_total = 0;
        self.rejected_total = 0;
    }
}

#[cfg(test)]
mod tests {
    // Virtual time: every test takes one base instant and adds offsets.
    #![allow(clippy::disallowed_methods)]

    use super::*;

    fn settings(per_minute: u32, bytes: u32) -> Settings {
        Settings {
            max_frames_per_minute: per_minute,
            max_frame_bytes: bytes,
            ..Settings::default()
        }
    }

    #[test]
    fn rejects_empty_and_oversized_frames() {
        let t0 = Instant::now();
        let mut intake = FrameIntake::new(&settings(180, 60_000));
        assert_eq!(
            intake.admit(FrameMeta::unscored(t0, 0)),
            Err(FrameRejected::Empty)
        );
        assert_eq!(
            intake.admit(FrameMeta::unscored(t0, 60_001)),
            Err(FrameRejected::TooLarge {
                bytes: 60_001,
                limit: 60_000
            })
        );
        assert!(intake.admit(FrameMeta::unscored(t0, 60_000)).is_ok());
        assert_eq!(intake.latest().map(|m| m.bytes), Some(60_000));
        assert_eq!(intake.rejected_total(), 2);
        assert_eq!(FrameRejected::Empty.reason(), "frame_data_required");
    }

    #[test]
    fn limits_are_clamped_from_settings() {
        let t0 = Instant::now();
        // 1 frame/min clamps to 6; 1 byte clamps to 50 000.
        let mut intake = FrameIntake::new(&settings(1, 1));
        assert!(intake.admit(FrameMeta::unscored(t0, 50_000)).is_ok());
        for i in 1..6 {
            assert!(
                intake
                    .admit(FrameMeta::unscored(t0 + Duration::from_secs(i), 10))
                    .is_ok()
            );
        }
        assert_eq!(
            intake.admit(FrameMeta::unscored(t0 + Duration::from_secs(7), 10)),
            Err(FrameRejected::RateLimited { limit: 6 })
        );
    }

    #[test]
    fn rate_window_slides() {
        let t0 = Instant::now();
        let mut intake = FrameIntake::new(&settings(6, 350_000));
        for i in 0..6 {
            assert!(
                intake
                    .admit(FrameMeta::unscored(t0 + Duration::from_secs(i * 10), 10))
                    .is_ok()
            );
        }
        // At 59 s the first frame (t0) is still inside the window.
        let at = t0 + Duration::from_secs(59);
        assert!(intake.admit(FrameMeta::unscored(at, 10)).is_err());
        // Rejected frames do not count; the latest stays the last admitted.
        assert_eq!(
            intake.latest().map(|m| m.at),
            Some(t0 + Duration::from_secs(50))
        );
        // At 60 s the t0 frame leaves; exactly one slot frees up.
        let at = t0 + Duration::from_secs(60);
        assert!(intake.admit(FrameMeta::unscored(at, 10)).is_ok());
        assert!(intake.admit(FrameMeta::unscored(at, 10)).is_err());
        // At 70 s the 10 s frame leaves.
        assert!(
            intake
                .admit(FrameMeta::unscored(t0 + Duration::from_secs(70), 10))
                .is_ok()
        );
        assert_eq!(intake.window_count(t0 + Duration::from_secs(70)), 6);
        assert_eq!(intake.admitted_total(), 8);
    }

    #[test]
    fn scores_are_sanitized_and_classified() {
        let t0 = Instant::now();
        let mut intake = FrameIntake::new(&Settings::default());
        let meta = FrameMeta {
            at: t0,
            bytes: 5,
            change_score: f32::NAN,
            ema_score: 7.0,
            scene_cut: false,
        };
        let admitted = intake.admit(meta).expect("admitted");
        assert_eq!(admitted.change_score, 0.0);
        assert_eq!(admitted.ema_score, 1.0);
        let quiet = FrameMeta::unscored(t0, 1);
        assert!(quiet.is_static(0.005) && !quiet.is_significant(0.01));
        let cut = FrameMeta {
            scene_cut: true,
            ..quiet
        };
        assert!(cut.is_significant(0.5) && !cut.is_static(0.005));
        let ema = FrameMeta {
            ema_score: 0.02,
            ..quiet
        };
        assert!(ema.is_significant(0.01));
    }
}

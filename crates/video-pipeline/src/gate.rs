//! Per-subscriber frame-rate gate, consulted before any pixel work.

use std::time::Duration;

/// Default emission rate (the reference's default subscription).
pub const DEFAULT_MAX_FPS: f32 = 2.0;
/// Accepted `max_fps` range; values outside are clamped, non-finite values
/// fall back to [`DEFAULT_MAX_FPS`].
pub const MAX_FPS_RANGE: (f32, f32) = (0.05, 60.0);

/// Admits frames at no more than `max_fps`, on caller-provided time.
///
/// Unlike "emit if now − last ≥ interval" (which loses up to one input frame
/// period per emission, so 30 fps in at 2 fps out yields ~1.9 fps), the gate
/// keeps a schedule: each admission moves the next due time one interval
/// forward, so the long-run rate matches `max_fps` exactly. After a pause in
/// input longer than one interval the schedule restarts from the first frame
/// that arrives, so a burst never follows a stall. Time going backwards by
/// more than one interval (a new stream's clock) also restarts the schedule.
#[derive(Debug, Clone)]
pub struct FrameGate {
    interval: Duration,
    /// Earliest time the next frame may pass; `None` until the first frame.
    next_due: Option<Duration>,
}

impl FrameGate {
    /// A gate admitting at most `max_fps` frames per second.
    #[must_use]
    pub fn new(max_fps: f32) -> Self {
        Self {
            interval: interval_for(max_fps),
            next_due: None,
        }
    }

    /// Changes the rate; applies to the next decision. The current schedule
    /// is re-based so a slower rate takes effect immediately.
    pub fn set_max_fps(&mut self, max_fps: f32) {
        let interval = interval_for(max_fps);
        if interval != self.interval {
            if let Some(due) = self.next_due {
                // Re-anchor the pending due time on the new interval.
                self.next_due = Some(due.saturating_sub(self.interval) + interval);
            }
            self.interval = interval;
        }
    }

    /// The minimum spacing between admitted frames.
    #[must_use]
    pub const fn interval(&self) -> Duration {
        self.interval
    }

    /// Would a frame at `now` pass? Does not change state.
    #[must_use]
    pub fn would_admit(&self, now: Duration) -> bool {
        match self.next_due {
            None => true,
            Some(due) => now >= due || now + self.interval < due.saturating_sub(self.interval),
        }
    }

    /// Records an emission at `now` (call after the frame was really sent;
    /// a frame that failed to encode leaves the schedule untouched).
    pub fn record_emission(&mut self, now: Duration) {
        let next = match self.next_due {
            Some(due) if now >= due && now < due + self.interval => due + self.interval,
            // First frame, a stall longer than one interval, or time jumped
            // backwards: restart the schedule at `now`.
            _ => now + self.interval,
        };
        self.next_due = Some(next);
    }

    /// [`would_admit`](Self::would_admit) then, if admitted,
    /// [`record_emission`](Self::record_emission).
    pub fn admit(&mut self, now: Duration) -> bool {
        let pass = self.would_admit(now);
        if pass {
            self.record_emission(now);
        }
        pass
    }
}

fn interval_for(max_fps: f32) -> Duration {
    let fps = if max_fps.is_finite() {
        max_fps.clamp(MAX_FPS_RANGE.0, MAX_FPS_RANGE.1)
    } else {
        DEFAULT_MAX_FPS
    };
    // Whole microseconds: exact for the usual rates, immune to f32 noise.
    Duration::from_micros((1e6 / f64::from(fps)).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_admitted(gate: &mut FrameGate, input_fps: u32, seconds: u32) -> usize {
        (0..input_fps * seconds)
            .filter(|&i| gate.admit(Duration::from_secs(u64::from(i)) / input_fps))
            .count()
    }

    #[test]
    fn two_fps_out_of_thirty() {
        let mut gate = FrameGate::new(2.0);
        // 10 s of 30 fps input → 20 emissions (frames 0, 15, 30, ...).
        assert_eq!(count_admitted(&mut gate, 30, 10), 20);
    }

    #[test]
    fn jittered_input_keeps_the_long_run_rate() {
        let mut gate = FrameGate::new(2.0);
        // 30 fps with ±10 ms deterministic jitter over 60 s.
        let admitted = (0..1800u64)
            .filter(|&i| {
                let jitter = (i * 7919 % 21) as i64 - 10;
                let ms = (i * 1000 / 30) as i64 + jitter;
                gate.admit(Duration::from_millis(ms.max(0) as u64))
            })
            .count();
        assert!((118..=121).contains(&admitted), "admitted {admitted}");
    }

    #[test]
    fn slower_input_passes_everything() {
        let mut gate = FrameGate::new(5.0);
        assert_eq!(count_admitted(&mut gate, 2, 5), 10);
    }

    #[test]
    fn no_burst_after_a_stall() {
        let mut gate = FrameGate::new(2.0);
        assert!(gate.admit(Duration::ZERO));
        // Nothing for 5 s, then 30 fps again: one frame passes, then the
        // schedule resumes at 2 fps.
        let after: Vec<bool> = (0..30)
            .map(|i| gate.admit(Duration::from_secs(5) + Duration::from_millis(i * 33)))
            .collect();
        assert_eq!(after.iter().filter(|&&b| b).count(), 2);
        assert!(after[0]);
    }

    #[test]
    fn clock_jumping_back_restarts() {
        let mut gate = FrameGate::new(2.0);
        assert!(gate.admit(Duration::from_secs(100)));
        assert!(gate.admit(Duration::from_secs(1)));
        assert!(!gate.admit(Duration::from_millis(1100)));
    }

    #[test]
    fn rate_change_applies_to_next_frame() {
        let mut gate = FrameGate::new(1.0);
        assert!(gate.admit(Duration::ZERO));
        assert!(!gate.would_admit(Duration::from_millis(200)));
        gate.set_max_fps(5.0);
        assert!(gate.admit(Duration::from_millis(200)));
        assert_eq!(gate.interval(), Duration::from_millis(200));
    }

    #[test]
    fn silly_rates_are_clamped() {
        assert_eq!(
            FrameGate::new(f32::NAN).interval(),
            Duration::from_millis(500)
        );
        assert_eq!(
            FrameGate::new(1000.0).interval(),
            Duration::from_micros(16_667)
        );
        assert_eq!(FrameGate::new(0.0).interval(), Duration::from_secs(20));
    }
}

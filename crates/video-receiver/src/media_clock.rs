//! Mapping RTP timestamps to the pipeline's time axis.

use std::time::Duration;

use rtp::RtpTimestamp;

/// Beyond this disagreement between media time and arrival time the media
/// clock is re-anchored (sender restart, timestamp jump, long stall).
const RESYNC_THRESHOLD: Duration = Duration::from_secs(2);

/// Gives each frame a time on the stream's *media* clock: the arrival time
/// of the first frame plus the RTP timestamp difference since then.
///
/// Why not the arrival time: frames held back by a hole come out in a burst
/// when it is filled or given up; on arrival time a frame-rate gate would
/// see them as simultaneous and drop all but one, and the emitted
/// `captured_at` would lie about when the pictures were taken. The media
/// clock is only trusted while it stays within [`RESYNC_THRESHOLD`] of the
/// arrival time; otherwise it is re-anchored there.
#[derive(Debug, Clone)]
pub(crate) struct MediaClock {
    clock_rate: u64,
    /// (extended timestamp, time) of the anchor frame.
    anchor: Option<(i64, Duration)>,
    /// The last timestamp seen and its extended value.
    last: Option<(RtpTimestamp, i64)>,
}

impl MediaClock {
    pub(crate) fn new(clock_rate: u32) -> Self {
        MediaClock {
            clock_rate: u64::from(clock_rate.max(1)),
            anchor: None,
            last: None,
        }
    }

    /// The media time of a frame with timestamp `ts` that completed at
    /// `arrival` (both on the receiver's time axis).
    pub(crate) fn map(&mut self, ts: RtpTimestamp, arrival: Duration) -> Duration {
        let ext = match self.last {
            None => 0,
            Some((prev, prev_ext)) => prev_ext.saturating_add(i64::from(ts.diff(prev))),
        };
        self.last = Some((ts, ext));
        let (anchor_ext, anchor_at) = *self.anchor.get_or_insert((ext, arrival));
        let ticks = ext.saturating_sub(anchor_ext);
        let offset_nanos = i128::from(ticks) * 1_000_000_000 / i128::from(self.clock_rate);
        let media = i128::try_from(anchor_at.as_nanos()).unwrap_or(i128::MAX) + offset_nanos;
        let arrival_nanos = i128::try_from(arrival.as_nanos()).unwrap_or(i128::MAX);
        if media < 0 || (media - arrival_nanos).unsigned_abs() > RESYNC_THRESHOLD.as_nanos() {
            self.anchor = Some((ext, arrival));
            return arrival;
        }
        Duration::from_nanos(u64::try_from(media).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn follows_timestamps_through_a_burst_and_a_wrap() {
        let mut c = MediaClock::new(90_000);
        let base = u32::MAX - 3000; // wraps after the first frame
        assert_eq!(c.map(RtpTimestamp(base), 100 * MS), 100 * MS);
        // Three frames 1/30 s apart released together at 400 ms.
        let t1 = c.map(RtpTimestamp(base.wrapping_add(3000)), 400 * MS);
        let t2 = c.map(RtpTimestamp(base.wrapping_add(6000)), 400 * MS);
        assert_eq!(t1, 100 * MS + Duration::from_nanos(33_333_333));
        assert_eq!(t2, 100 * MS + Duration::from_nanos(66_666_666));
    }

    #[test]
    fn reanchors_on_a_jump() {
        let mut c = MediaClock::new(90_000);
        c.map(RtpTimestamp(1000), Duration::ZERO);
        // The sender restarted with a new random base.
        assert_eq!(c.map(RtpTimestamp(2_000_000_000), 50 * MS), 50 * MS);
        let next = c.map(RtpTimestamp(2_000_000_000 + 9000), 150 * MS);
        assert_eq!(next, 150 * MS);
        // Backwards before the anchor would be negative: re-anchor too.
        let mut c = MediaClock::new(90_000);
        c.map(RtpTimestamp(1_000_000), 10 * MS);
        assert_eq!(c.map(RtpTimestamp(1_000_000 - 90_000), 20 * MS), 20 * MS);
    }
}

//! Per-SSRC receive statistics for RTCP receiver reports (RFC 3550 §6.4.1,
//! A.3 and A.8). One [`ReceiveStats`] per incoming SSRC; time is passed in.

use std::time::Instant;

use crate::rtcp::ReportBlock;
use crate::{RtpTimestamp, SeqNo, SeqUnwrapper, Ssrc};

/// Counters for one incoming stream.
#[derive(Debug, Clone)]
pub struct ReceiveStats {
    /// Media clock rate in Hz (48000 for Opus, 90000 for video), used to
    /// convert arrival times to timestamp units for jitter.
    clock_rate: u32,
    unwrapper: SeqUnwrapper,
    /// Extended sequence number of the first packet (defines `expected`).
    base_ext: u64,
    received: u64,
    /// `expected` and `received` at the previous report, for the
    /// fraction-lost interval.
    expected_prior: u64,
    received_prior: u64,
    /// Reference point for arrival times; the first packet's arrival.
    epoch: Option<Instant>,
    /// Previous relative transit time (arrival − timestamp), wrapping.
    last_transit: Option<u32>,
    /// Jitter estimate in timestamp units, kept fractional so the 1/16 gain
    /// does not round small deviations away.
    jitter: f64,
    /// Middle 32 bits of the last SR's NTP time and when it arrived.
    last_sr: Option<(u32, Instant)>,
}

impl ReceiveStats {
    /// Statistics for a stream with the given media clock rate.
    pub fn new(clock_rate: u32) -> Self {
        ReceiveStats {
            clock_rate,
            unwrapper: SeqUnwrapper::new(),
            base_ext: 0,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            epoch: None,
            last_transit: None,
            jitter: 0.0,
            last_sr: None,
        }
    }

    /// Records one received packet (after transport decryption, before
    /// reordering: jitter wants network arrival order).
    pub fn on_packet(&mut self, arrival: Instant, seq: SeqNo, ts: RtpTimestamp) {
        let ext = self.unwrapper.unwrap(seq);
        if self.received == 0 {
            self.base_ext = ext;
        } else if ext < self.base_ext {
            // A packet from before the first one arrived late: it extends
            // the expected range backwards.
            self.base_ext = ext;
        }
        self.received += 1;

        let epoch = *self.epoch.get_or_insert(arrival);
        let nanos = arrival.saturating_duration_since(epoch).as_nanos();
        let arrival_ts = (nanos * u128::from(self.clock_rate) / 1_000_000_000) as u32;
        let transit = arrival_ts.wrapping_sub(ts.0);
        if let Some(last) = self.last_transit {
            let d = f64::from((transit.wrapping_sub(last) as i32).unsigned_abs());
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.last_transit = Some(transit);
    }

    /// Records an incoming sender report for this SSRC (for LSR/DLSR).
    pub fn on_sender_report(&mut self, arrival: Instant, ntp_timestamp: u64) {
        self.last_sr = Some(((ntp_timestamp >> 16) as u32, arrival));
    }

    /// Packets received, duplicates included (as RFC 3550 counts them).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Packets expected: highest − first + 1.
    pub fn expected(&self) -> u64 {
        match self.unwrapper.highest() {
            Some(h) if self.received > 0 => h - self.base_ext + 1,
            _ => 0,
        }
    }

    /// Cumulative packets lost (negative with duplicates).
    pub fn cumulative_lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    /// Extended highest sequence number in RR form: cycles since the first
    /// packet << 16 | highest sequence number.
    pub fn extended_highest_seq(&self) -> u32 {
        match self.unwrapper.highest() {
            Some(h) => (h - (self.base_ext & !0xffff)) as u32,
            None => 0,
        }
    }

    /// Interarrival jitter in timestamp units.
    pub fn jitter(&self) -> u32 {
        self.jitter as u32
    }

    /// Builds a report block and starts a new fraction-lost interval.
    /// `now` is used for the delay since the last SR.
    pub fn report_block(&mut self, now: Instant, ssrc: Ssrc) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = self.received - self.received_prior;
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / expected_interval as i64).min(255) as u8
        };
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some((lsr, at)) => {
                let d = now.saturating_duration_since(at);
                let units = d.as_secs_f64() * 65536.0;
                (lsr, units.min(f64::from(u32::MAX)) as u32)
            }
            None => (0, 0),
        };
        ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost: self
                .cumulative_lost()
                .clamp(i64::from(i32::MIN), i64::from(i32::MAX))
                as i32,
            extended_highest_seq: self.extended_highest_seq(),
            jitter: self.jitter(),
            last_sr,
            delay_since_last_sr,
        }
    }
}

#[cfg(test)]
// Tests need one arbitrary base instant; everything after it is virtual time.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn loss_fraction_and_wrap() {
        let t0 = Instant::now();
        let mut s = ReceiveStats::new(90_000);
        // 65530..=65535, 0..=3 with 65533 and 1 missing: 10 expected, 8 got.
        for seq in [65530u16, 65531, 65532, 65534, 65535, 0, 2, 3] {
            s.on_packet(t0, SeqNo(seq), RtpTimestamp(0));
        }
        assert_eq!(s.expected(), 10);
        assert_eq!(s.cumulative_lost(), 2);
        assert_eq!(s.extended_highest_seq(), (1 << 16) | 3);
        let b = s.report_block(t0, Ssrc(1));
        assert_eq!(b.fraction_lost, (2 * 256 / 10) as u8);
        assert_eq!(b.cumulative_lost, 2);
        // Next interval: 4..=7 expected, 4 received with 6 missing and 5
        // duplicated, so the interval shows no loss (RFC 3550 counts
        // duplicates) and the cumulative loss stays at 2.
        for seq in [4u16, 5, 5, 7] {
            s.on_packet(t0, SeqNo(seq), RtpTimestamp(0));
        }
        let b = s.report_block(t0, Ssrc(1));
        assert_eq!(b.fraction_lost, 0);
        assert_eq!(b.cumulative_lost, 2);
        // Empty interval reports zero.
        assert_eq!(s.report_block(t0, Ssrc(1)).fraction_lost, 0);
    }

    #[test]
    fn jitter_follows_rfc_a8() {
        // Packets every 20 ms with timestamps every 960 ticks at 48 kHz:
        // zero jitter. Then one packet 10 ms late: D = 480 ticks, J = 30.
        let t0 = Instant::now();
        let mut s = ReceiveStats::new(48_000);
        for i in 0..5u32 {
            s.on_packet(
                t0 + Duration::from_millis(20 * u64::from(i)),
                SeqNo(i as u16),
                RtpTimestamp(960 * i),
            );
        }
        assert_eq!(s.jitter(), 0);
        s.on_packet(
            t0 + Duration::from_millis(110),
            SeqNo(5),
            RtpTimestamp(960 * 5),
        );
        assert_eq!(s.jitter(), 30);
    }

    #[test]
    fn lsr_and_dlsr() {
        let t0 = Instant::now();
        let mut s = ReceiveStats::new(90_000);
        s.on_packet(t0, SeqNo(1), RtpTimestamp(0));
        s.on_sender_report(t0, 0x1122_3344_5566_7788);
        let b = s.report_block(t0 + Duration::from_millis(1500), Ssrc(3));
        assert_eq!(b.last_sr, 0x3344_5566);
        assert_eq!(b.delay_since_last_sr, 98_304);
    }
}

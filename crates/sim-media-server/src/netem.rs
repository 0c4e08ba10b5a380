//! Seeded network emulation (loss, reorder, duplicate) on datagrams.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A held (reordered) datagram is released at the latest after this long,
/// so a quiet stream does not keep it forever.
pub(crate) const REORDER_HOLD: Duration = Duration::from_millis(30);

/// Loss/reorder/duplicate emulation for one direction.
#[derive(Debug)]
pub(crate) struct Netem {
    loss: f64,
    reorder: f64,
    duplicate: f64,
    rng: StdRng,
    /// At most one datagram held back; it goes out after the next one.
    held: Option<(Instant, SocketAddr, Vec<u8>)>,
}

impl Netem {
    /// Probabilities are clamped to 0..=1; `None` when all are zero.
    pub(crate) fn new(loss: f32, reorder: f32, duplicate: f32, seed: u64) -> Option<Self> {
        let clamp = |p: f32| {
            if p.is_finite() {
                f64::from(p.clamp(0.0, 1.0))
            } else {
                0.0
            }
        };
        let (loss, reorder, duplicate) = (clamp(loss), clamp(reorder), clamp(duplicate));
        if loss == 0.0 && reorder == 0.0 && duplicate == 0.0 {
            return None;
        }
        Some(Self {
            loss,
            reorder,
            duplicate,
            rng: StdRng::seed_from_u64(seed),
            held: None,
        })
    }

    /// Passes one datagram through; what comes out is appended to `out`.
    pub(crate) fn process(
        &mut self,
        now: Instant,
        to: SocketAddr,
        data: Vec<u8>,
        out: &mut Vec<(SocketAddr, Vec<u8>)>,
    ) {
        if self.rng.random_bool(self.loss) {
            return;
        }
        if self.held.is_none() && self.rng.random_bool(self.reorder) {
            self.held = Some((now, to, data));
            return;
        }
        if self.rng.random_bool(self.duplicate) {
            out.push((to, data.clone()));
        }
        out.push((to, data));
        if let Some((_, addr, held)) = self.held.take() {
            out.push((addr, held));
        }
    }

    /// Releases a datagram held for longer than [`REORDER_HOLD`].
    pub(crate) fn flush_due(&mut self, now: Instant, out: &mut Vec<(SocketAddr, Vec<u8>)>) {
        if self
            .held
            .as_ref()
            .is_some_and(|(t, _, _)| now.duration_since(*t) >= REORDER_HOLD)
            && let Some((_, addr, d)) = self.held.take()
        {
            out.push((addr, d));
        }
    }

    /// When [`Self::flush_due`] has something to do.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.held.as_ref().map(|(t, _, _)| *t + REORDER_HOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 9))
    }

    #[test]
    fn all_zero_is_off() {
        assert!(Netem::new(0.0, 0.0, 0.0, 1).is_none());
    }

    #[test]
    fn loss_is_seeded_and_roughly_right() {
        let run = |seed| {
            let mut n = Netem::new(0.3, 0.0, 0.0, seed).unwrap();
            let now = Instant::now();
            let mut out = Vec::new();
            for i in 0..1000u32 {
                n.process(now, addr(), i.to_be_bytes().to_vec(), &mut out);
            }
            out
        };
        let a = run(7);
        assert_eq!(a, run(7));
        assert!((600..800).contains(&a.len()), "{}", a.len());
    }

    #[test]
    fn reorder_and_duplicate_keep_every_datagram() {
        let mut n = Netem::new(0.0, 0.2, 0.1, 3).unwrap();
        let now = Instant::now();
        let mut out = Vec::new();
        for i in 0..500u32 {
            n.process(now, addr(), i.to_be_bytes().to_vec(), &mut out);
        }
        n.flush_due(now + REORDER_HOLD, &mut out);
        let mut seen: Vec<u32> = out
            .iter()
            .map(|(_, d)| u32::from_be_bytes([d[0], d[1], d[2], d[3]]))
            .collect();
        let in_order = seen.windows(2).all(|w| w[0] <= w[1]);
        assert!(!in_order, "some reordering expected");
        assert!(seen.len() > 500, "some duplicates expected");
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 500);
    }
}

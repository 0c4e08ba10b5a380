//! A tiny deterministic PRNG (SplitMix64) so that every picture and packet is
//! a pure function of `(seed, index)`. Nothing here is cryptographic.

/// SplitMix64: one 64-bit state word, good statistical quality for
/// synthetic content, and cheap enough to run per pixel for camera noise.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose stream depends on all the given words.
    pub(crate) fn new(words: &[u64]) -> Self {
        let mut state = 0x243F_6A88_85A3_08D3u64;
        for &w in words {
            state = mix(state ^ w);
        }
        Self { state }
    }

    /// Next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// A value in `0..n` (`n` must be non-zero; the tiny modulo bias is
    /// irrelevant for synthetic text).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Picks one element of a non-empty slice.
    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let i = self.below(items.len() as u64) as usize;
        items.get(i).copied().unwrap_or("")
    }
}

/// The SplitMix64 output function (a bijective avalanche mix).
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_words_same_stream_different_words_different_stream() {
        let mut a = SplitMix64::new(&[1, 2]);
        let mut b = SplitMix64::new(&[1, 2]);
        let mut c = SplitMix64::new(&[2, 1]);
        let xa: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let xc: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = SplitMix64::new(&[7]);
        for n in 1..50 {
            assert!(r.below(n) < n);
        }
    }
}

//! A small seeded generator for tokens, session ids and fault seeds.
//!
//! The world model must be reproducible from `--seed`, so it owns one of
//! these instead of reading global randomness.

/// SplitMix64: tiny, seedable, good enough for identifiers in a test tool.
#[derive(Debug, Clone)]
pub struct SimRng {
    state: u64,
}

impl SimRng {
    /// A generator seeded with `seed` (same seed, same sequence).
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 32 lowercase hex characters (128 bits), the shape of Discord's
    /// session ids and voice tokens.
    pub fn hex_token(&mut self) -> String {
        format!("{:016x}{:016x}", self.next_u64(), self.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_tokens_different_seed_differs() {
        let (mut a, mut b, mut c) = (SimRng::new(7), SimRng::new(7), SimRng::new(8));
        let ta = a.hex_token();
        assert_eq!(ta, b.hex_token());
        assert_ne!(ta, c.hex_token());
        assert_eq!(ta.len(), 32);
        assert_ne!(ta, a.hex_token());
    }
}

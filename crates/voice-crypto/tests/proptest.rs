//! open() never panics on arbitrary or mutated input, for every mode.

mod common;

use common::{sealer, vectors};
use proptest::prelude::*;
use voice_crypto::CryptoMode;

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120), m in 0usize..6) {
        let v = vectors();
        let s = sealer(&v, CryptoMode::PREFERENCE[m], 0);
        let mut a = bytes.clone();
        let _ = s.cipher().open_rtp_in_place(&mut a);
        let mut b = bytes.clone();
        let _ = s.cipher().open_rtcp_in_place(&mut b);
        let mut c = bytes.clone();
        let _ = s.cipher().open_rtp_packet(&mut c);
        let mut out = Vec::new();
        let _ = s.cipher().open_rtp_into(&bytes, &mut out);
    }

    #[test]
    fn mutated_vectors_never_panic(idx in any::<usize>(), edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4), cut in 0usize..30) {
        let v = vectors();
        let c = &v.cases[idx % v.cases.len()];
        let mut buf = c.sealed.clone();
        for &(i, b) in &edits {
            let n = buf.len();
            buf[i % n] = b;
        }
        buf.truncate(buf.len().saturating_sub(cut));
        let s = sealer(&v, c.mode, 0);
        let mut copy = buf.clone();
        let _ = s.cipher().open_rtp_packet(&mut copy);
        let res = if c.rtcp {
            s.cipher().open_rtcp_in_place(&mut buf)
        } else {
            s.cipher().open_rtp_in_place(&mut buf)
        };
        // Unmodified input must open; anything else may fail but not panic.
        if edits.is_empty() && cut == 0 {
            prop_assert!(res.is_ok());
        }
    }
}

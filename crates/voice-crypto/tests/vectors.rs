//! Known-answer tests against vectors produced by
//! `scripts/gen-voice-crypto-vectors.py` (Python `cryptography` and
//! libsodium via PyNaCl), i.e. independently of this crate.

mod common;

use common::{sealer, vectors};
use voice_crypto::CryptoMode;

#[test]
fn every_mode_and_packet_kind_is_covered() {
    let v = vectors();
    for mode in CryptoMode::PREFERENCE {
        let n = v.cases.iter().filter(|c| c.mode == mode).count();
        assert!(n >= 4, "{mode}: {n} cases");
        assert!(v.cases.iter().any(|c| c.mode == mode && !c.rtcp));
        if mode != CryptoMode::XSalsa20Poly1305 {
            assert!(v.cases.iter().any(|c| c.mode == mode && c.rtcp));
        }
    }
}

#[test]
fn seal_matches_vectors_byte_for_byte() {
    let v = vectors();
    for c in &v.cases {
        let mut s = sealer(&v, c.mode, c.counter);
        let mut buf = c.plain.clone();
        let n = if c.rtcp {
            s.seal_rtcp(&mut buf)
        } else {
            s.seal_rtp(&mut buf)
        }
        .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert_eq!(n, buf.len());
        assert_eq!(buf, c.sealed, "{}", c.name);
        // The header part really is in the clear.
        assert_eq!(buf[..c.clear_len], c.plain[..c.clear_len], "{}", c.name);
    }
}

#[test]
fn open_recovers_vectors() {
    let v = vectors();
    for c in &v.cases {
        let s = sealer(&v, c.mode, 0);
        let mut buf = c.sealed.clone();
        let o = if c.rtcp {
            s.cipher().open_rtcp_in_place(&mut buf)
        } else {
            s.cipher().open_rtp_in_place(&mut buf)
        }
        .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert_eq!(&buf[..o.plain_len], &c.plain[..], "{}", c.name);
        assert_eq!(o.header_len, c.clear_len, "{}", c.name);
        let counter_modes = !matches!(
            c.mode,
            CryptoMode::XSalsa20Poly1305 | CryptoMode::XSalsa20Poly1305Suffix
        );
        assert_eq!(
            o.nonce_counter,
            counter_modes.then_some(c.counter),
            "{}",
            c.name
        );

        // The copying variant gives the same plaintext.
        let mut out = Vec::new();
        if c.rtcp {
            s.cipher().open_rtcp_into(&c.sealed, &mut out).unwrap();
        } else {
            s.cipher().open_rtp_into(&c.sealed, &mut out).unwrap();
        }
        assert_eq!(out, c.plain, "{}", c.name);
    }
}

#[test]
fn open_rtp_packet_strips_extension_and_padding() {
    let v = vectors();
    for c in v.cases.iter().filter(|c| !c.rtcp) {
        let s = sealer(&v, c.mode, 0);
        let mut buf = c.sealed.clone();
        let p = s.cipher().open_rtp_packet(&mut buf).unwrap();
        let expected = rtp::RtpPacket::parse(&c.plain).unwrap();
        assert_eq!(p.payload(), expected.payload(), "{}", c.name);
        assert_eq!(p.extension(), expected.extension(), "{}", c.name);
        if c.name.ends_with("rtp_csrc_ext_pad") {
            assert_eq!(p.payload(), b"hello");
            assert_eq!(p.padding_len(), 4);
            assert_eq!(p.extension().and_then(|e| e.find(2)), Some(&[1, 2, 3][..]));
        }
        if c.name.ends_with("rtp_all_padding") {
            assert!(p.payload().is_empty());
        }
    }
}

#[test]
fn rtpsize_modes_encrypt_extension_elements() {
    // In the video vector the element bytes 52 00 00 00 follow the 16-byte
    // clear header; rtpsize modes must not leave them readable, while the
    // 12-byte-header legacy modes encrypt the whole preamble too.
    let v = vectors();
    for c in v.cases.iter().filter(|c| c.name.ends_with("rtp_video_ext")) {
        let expected_clear = if c.mode.is_rtpsize() { 16 } else { 12 };
        assert_eq!(c.clear_len, expected_clear, "{}", c.name);
        assert_ne!(c.sealed[16..20], c.plain[16..20], "{}", c.name);
    }
}

//! Transport decryption: hostile datagrams opened in every mode, and what
//! a sealer sealed must open back to the same plaintext.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voice_crypto::{CryptoMode, NonceSeed, Sealer, TransportCipher};

const MODES: [CryptoMode; 5] = [
    CryptoMode::AeadAes256GcmRtpSize,
    CryptoMode::AeadXChaCha20Poly1305RtpSize,
    CryptoMode::XSalsa20Poly1305LiteRtpSize,
    CryptoMode::XSalsa20Poly1305Lite,
    CryptoMode::XSalsa20Poly1305Suffix,
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mode = MODES[usize::from(sel) % MODES.len()];
    let key = [0x42u8; 32];
    let Ok(cipher) = TransportCipher::new(mode, &key) else {
        return;
    };
    let mut out = Vec::new();
    let _ = cipher.open_rtp_into(rest, &mut out);
    let _ = cipher.open_rtcp_into(rest, &mut out);
    let mut inplace = rest.to_vec();
    let _ = cipher.open_rtp_packet(&mut inplace);

    // Round trip: seal the input as a packet, open it again.
    let Ok(sealing) = TransportCipher::new(mode, &key) else {
        return;
    };
    let mut sealer = Sealer::new(sealing, NonceSeed::default());
    let rtcp = sel & 0x80 != 0;
    let mut buf = rest.to_vec();
    let sealed = if rtcp {
        sealer.seal_rtcp(&mut buf)
    } else {
        sealer.seal_rtp(&mut buf)
    };
    if sealed.is_ok() {
        let opened = if rtcp {
            cipher.open_rtcp_into(&buf, &mut out)
        } else {
            cipher.open_rtp_into(&buf, &mut out)
        };
        let opened = opened.expect("what was sealed opens");
        assert_eq!(&out[..opened.plain_len], rest, "round trip");
    }
});

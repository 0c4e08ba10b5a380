//! Encryption mode names, negotiation order and per-mode framing constants.

use crate::CryptoError;

/// A Discord voice UDP encryption mode (op 1 `mode`, op 4 `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CryptoMode {
    /// `aead_aes256_gcm_rtpsize`: AES-256-GCM, rtpsize AAD, 4-byte counter.
    AeadAes256GcmRtpSize,
    /// `aead_xchacha20_poly1305_rtpsize`: XChaCha20-Poly1305 (IETF), rtpsize
    /// AAD, 4-byte counter. Discord's mandatory-to-implement mode.
    AeadXChaCha20Poly1305RtpSize,
    /// `xsalsa20_poly1305_lite_rtpsize` (legacy, rejected by Discord since
    /// 2024-11-18).
    XSalsa20Poly1305LiteRtpSize,
    /// `xsalsa20_poly1305_lite` (legacy).
    XSalsa20Poly1305Lite,
    /// `xsalsa20_poly1305_suffix` (legacy).
    XSalsa20Poly1305Suffix,
    /// `xsalsa20_poly1305` (legacy; nonce = RTP header).
    XSalsa20Poly1305,
}

impl CryptoMode {
    /// Every mode, best first: the order [`CryptoMode::choose`] applies.
    pub const PREFERENCE: [CryptoMode; 6] = [
        CryptoMode::AeadAes256GcmRtpSize,
        CryptoMode::AeadXChaCha20Poly1305RtpSize,
        CryptoMode::XSalsa20Poly1305LiteRtpSize,
        CryptoMode::XSalsa20Poly1305Lite,
        CryptoMode::XSalsa20Poly1305Suffix,
        CryptoMode::XSalsa20Poly1305,
    ];

    /// The mode's name on the voice gateway. The only place names are
    /// spelled out.
    pub fn as_wire_str(self) -> &'static str {
        match self {
            CryptoMode::AeadAes256GcmRtpSize => "aead_aes256_gcm_rtpsize",
            CryptoMode::AeadXChaCha20Poly1305RtpSize => "aead_xchacha20_poly1305_rtpsize",
            CryptoMode::XSalsa20Poly1305LiteRtpSize => "xsalsa20_poly1305_lite_rtpsize",
            CryptoMode::XSalsa20Poly1305Lite => "xsalsa20_poly1305_lite",
            CryptoMode::XSalsa20Poly1305Suffix => "xsalsa20_poly1305_suffix",
            CryptoMode::XSalsa20Poly1305 => "xsalsa20_poly1305",
        }
    }

    /// Parses a gateway mode name (exact, case-sensitive match).
    pub fn from_wire_str(name: &str) -> Result<Self, CryptoError> {
        Self::PREFERENCE
            .into_iter()
            .find(|m| m.as_wire_str() == name)
            .ok_or_else(|| CryptoError::UnsupportedMode(name.to_owned()))
    }

    /// Picks the best mode among the names a server offers (op 2 `modes`),
    /// ignoring names this crate does not know. `None` when nothing fits.
    pub fn choose<'a>(offered: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        offered
            .into_iter()
            .filter_map(|n| Self::from_wire_str(n).ok())
            .min_by_key(|m| Self::PREFERENCE.iter().position(|p| p == m))
    }

    /// True for the AEAD modes Discord still accepts.
    pub fn is_aead(self) -> bool {
        matches!(
            self,
            CryptoMode::AeadAes256GcmRtpSize | CryptoMode::AeadXChaCha20Poly1305RtpSize
        )
    }

    /// True when the clear RTP header is the rtpsize one
    /// (`12 + 4·CC + (X ? 4 : 0)` bytes) rather than the fixed 12 bytes.
    pub fn is_rtpsize(self) -> bool {
        !matches!(
            self,
            CryptoMode::XSalsa20Poly1305Lite
                | CryptoMode::XSalsa20Poly1305Suffix
                | CryptoMode::XSalsa20Poly1305
        )
    }

    /// Bytes of nonce material appended after the sealed data.
    pub fn nonce_trailer_len(self) -> usize {
        match self {
            CryptoMode::XSalsa20Poly1305Suffix => 24,
            CryptoMode::XSalsa20Poly1305 => 0,
            _ => 4,
        }
    }

    /// Bytes a sealed packet has beyond its plaintext (16-byte tag plus the
    /// nonce trailer). Reserve this much after a packet to seal in place.
    pub fn overhead(self) -> usize {
        TAG_LEN + self.nonce_trailer_len()
    }
}

impl std::fmt::Display for CryptoMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_wire_str())
    }
}

/// Poly1305 / GCM tag length, the same for every mode.
pub const TAG_LEN: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in CryptoMode::PREFERENCE {
            assert_eq!(CryptoMode::from_wire_str(m.as_wire_str()), Ok(m));
        }
        assert_eq!(
            CryptoMode::from_wire_str("aead_aes256_gcm"),
            Err(CryptoError::UnsupportedMode("aead_aes256_gcm".into()))
        );
    }

    #[test]
    fn choose_prefers_aes_then_xchacha_then_legacy() {
        let offer = [
            "xsalsa20_poly1305",
            "aead_xchacha20_poly1305_rtpsize",
            "aead_aes256_gcm_rtpsize",
            "something_new",
        ];
        assert_eq!(
            CryptoMode::choose(offer),
            Some(CryptoMode::AeadAes256GcmRtpSize)
        );
        assert_eq!(
            CryptoMode::choose(offer[..2].iter().copied()),
            Some(CryptoMode::AeadXChaCha20Poly1305RtpSize)
        );
        assert_eq!(
            CryptoMode::choose(["xsalsa20_poly1305", "xsalsa20_poly1305_lite"]),
            Some(CryptoMode::XSalsa20Poly1305Lite)
        );
        assert_eq!(CryptoMode::choose(["aead_aes256_gcm"]), None);
    }
}

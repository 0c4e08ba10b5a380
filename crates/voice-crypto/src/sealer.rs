//! The sending half: one nonce counter per connection.

use crate::cipher::{NonceInput, PacketKind};
use crate::{CryptoError, CryptoMode, TransportCipher};

/// Initial nonce state, supplied by the caller so this crate needs no
/// randomness source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NonceSeed {
    /// First value of the 4-byte packet counter (songbird starts at a
    /// random value, other clients at 0; both are accepted).
    pub counter: u32,
    /// Suffix mode only: fixed random bytes 4..24 of every 24-byte nonce,
    /// after the 4-byte counter. Unpredictable per connection, unique per
    /// packet through the counter.
    pub suffix_salt: [u8; 20],
}

impl NonceSeed {
    /// Builds a seed from 24 random bytes: the counter from the first 4
    /// (big-endian), the salt from the rest.
    pub fn from_random(bytes: [u8; 24]) -> Self {
        let mut suffix_salt = [0u8; 20];
        suffix_salt.copy_from_slice(&bytes[4..]);
        NonceSeed {
            counter: u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
            suffix_salt,
        }
    }
}

/// Seals outgoing packets. One `Sealer` per voice connection: every RTP
/// (audio, video, RTX) and RTCP packet sent on it takes the next counter
/// value, so nonces never repeat under one key until 2^32 packets.
///
/// The cipher is shared with the receive direction through
/// [`Sealer::cipher`] (Discord uses the same key both ways).
#[derive(Debug)]
pub struct Sealer {
    cipher: TransportCipher,
    /// Next nonce counter value (wraps modulo 2^32).
    counter: u32,
    suffix_salt: [u8; 20],
}

impl Sealer {
    /// A sealer starting at `seed`.
    pub fn new(cipher: TransportCipher, seed: NonceSeed) -> Self {
        Sealer {
            cipher,
            counter: seed.counter,
            suffix_salt: seed.suffix_salt,
        }
    }

    /// The cipher, for opening received packets.
    pub fn cipher(&self) -> &TransportCipher {
        &self.cipher
    }

    /// The mode.
    pub fn mode(&self) -> CryptoMode {
        self.cipher.mode()
    }

    /// The counter value the next sealed packet will use.
    pub fn next_counter(&self) -> u32 {
        self.counter
    }

    fn nonce(&self) -> NonceInput {
        match self.cipher.mode() {
            CryptoMode::XSalsa20Poly1305 => NonceInput::Header,
            CryptoMode::XSalsa20Poly1305Suffix => {
                let mut n = [0u8; 24];
                n[..4].copy_from_slice(&self.counter.to_be_bytes());
                n[4..].copy_from_slice(&self.suffix_salt);
                NonceInput::Suffix(n)
            }
            _ => NonceInput::Counter(self.counter),
        }
    }

    fn seal(
        &mut self,
        kind: PacketKind,
        buf: &mut [u8],
        plain_len: usize,
    ) -> Result<usize, CryptoError> {
        let nonce = self.nonce();
        let n = self.cipher.seal(kind, buf, plain_len, nonce)?;
        if !matches!(nonce, NonceInput::Header) {
            self.counter = self.counter.wrapping_add(1);
        }
        Ok(n)
    }

    fn seal_vec(&mut self, kind: PacketKind, buf: &mut Vec<u8>) -> Result<usize, CryptoError> {
        let plain_len = buf.len();
        buf.resize(plain_len + self.cipher.mode().overhead(), 0);
        match self.seal(kind, buf, plain_len) {
            Ok(n) => {
                buf.truncate(n);
                Ok(n)
            }
            Err(e) => {
                buf.truncate(plain_len);
                Err(e)
            }
        }
    }

    /// Seals the plaintext RTP packet in `buf` in place, growing it by
    /// [`CryptoMode::overhead`] bytes; returns the sealed length. On error
    /// `buf` is left as it was.
    pub fn seal_rtp(&mut self, buf: &mut Vec<u8>) -> Result<usize, CryptoError> {
        self.seal_vec(PacketKind::Rtp, buf)
    }

    /// Seals the plaintext RTCP (compound) packet in `buf` in place; see
    /// [`Self::seal_rtp`]. The first 8 bytes stay clear.
    pub fn seal_rtcp(&mut self, buf: &mut Vec<u8>) -> Result<usize, CryptoError> {
        self.seal_vec(PacketKind::Rtcp, buf)
    }

    /// Seals the RTP packet in `buf[..plain_len]` in place inside a fixed
    /// buffer that has at least [`CryptoMode::overhead`] spare bytes after
    /// it; returns the sealed length.
    pub fn seal_rtp_in(&mut self, buf: &mut [u8], plain_len: usize) -> Result<usize, CryptoError> {
        self.seal(PacketKind::Rtp, buf, plain_len)
    }

    /// RTCP version of [`Self::seal_rtp_in`].
    pub fn seal_rtcp_in(&mut self, buf: &mut [u8], plain_len: usize) -> Result<usize, CryptoError> {
        self.seal(PacketKind::Rtcp, buf, plain_len)
    }

    /// Copies `plain` into `out` (cleared first) and seals it there.
    pub fn seal_rtp_into(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<usize, CryptoError> {
        out.clear();
        out.extend_from_slice(plain);
        self.seal_rtp(out)
    }

    /// RTCP version of [`Self::seal_rtp_into`].
    pub fn seal_rtcp_into(
        &mut self,
        plain: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<usize, CryptoError> {
        out.clear();
        out.extend_from_slice(plain);
        self.seal_rtcp(out)
    }
}

//! The stateless half of transport encryption: key schedule, framing and
//! opening. Sealing needs a nonce counter and lives in [`crate::Sealer`].

use aes_gcm::Aes256Gcm;
use chacha20poly1305::XChaCha20Poly1305;
use xsalsa20poly1305::XSalsa20Poly1305;

use crate::{CryptoError, CryptoMode, TAG_LEN};

/// Clear prefix of an RTCP packet: V/P/RC, PT, length and sender SSRC, as in
/// SRTCP (RFC 3711) and the songbird / Discord-video-stream framing.
///
/// The sources conflict here (discord-protocol.md §2.6): clankvox keeps
/// only the 4-byte header clear and counts tag and nonce in the length
/// field, and reports PLI/FIR being ignored by Discord — plausibly because
/// of that framing. We follow the 8-byte convention and leave the RTCP
/// length field describing the plaintext packet.
pub const RTCP_CLEAR_LEN: usize = 8;

/// Which kind of packet is being protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PacketKind {
    Rtp,
    Rtcp,
}

/// Where the nonce of a packet being sealed comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NonceInput {
    /// 4-byte big-endian counter (AEAD and lite modes).
    Counter(u32),
    /// Full 24-byte nonce sent as a suffix (suffix mode).
    Suffix([u8; 24]),
    /// The 12-byte RTP header (plain xsalsa20_poly1305).
    Header,
}

enum Engine {
    /// Boxed: the expanded AES key schedule is over 1 KiB.
    Aes(Box<Aes256Gcm>),
    XChaCha(XChaCha20Poly1305),
    XSalsa(XSalsa20Poly1305),
}

/// Result of opening a packet in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    /// Length of the plaintext packet now at the start of the buffer: for
    /// RTP a complete RTP packet (header, CSRCs, extension block, payload,
    /// padding) that `rtp::RtpPacket::parse` accepts; for RTCP the compound
    /// packet for `rtp::rtcp::parse_compound`.
    pub plain_len: usize,
    /// Length of the part that was in the clear; `buf[header_len..plain_len]`
    /// is exactly what was encrypted (for rtpsize RTP: extension elements,
    /// payload and padding).
    pub header_len: usize,
    /// The 4-byte nonce counter of counter-based modes (useful for replay
    /// or loss diagnostics), `None` for suffix and header-nonce modes.
    pub nonce_counter: Option<u32>,
}

/// Encrypts and decrypts Discord voice UDP packets for one mode and key.
/// Opening is stateless (`&self`); sealing goes through [`crate::Sealer`],
/// which owns the nonce counter.
pub struct TransportCipher {
    mode: CryptoMode,
    engine: Engine,
}

impl std::fmt::Debug for TransportCipher {
    // Never print key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportCipher")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

fn too_short(needed: usize, got: usize) -> CryptoError {
    CryptoError::TooShort { needed, got }
}

impl TransportCipher {
    /// Creates a cipher from the 32-byte `secret_key` of op 4.
    pub fn new(mode: CryptoMode, key: &[u8]) -> Result<Self, CryptoError> {
        let bad = |_| CryptoError::BadKeyLength(key.len());
        let engine = match mode {
            CryptoMode::AeadAes256GcmRtpSize => {
                use aes_gcm::KeyInit;
                Engine::Aes(Box::new(Aes256Gcm::new_from_slice(key).map_err(bad)?))
            }
            CryptoMode::AeadXChaCha20Poly1305RtpSize => {
                use chacha20poly1305::KeyInit;
                Engine::XChaCha(XChaCha20Poly1305::new_from_slice(key).map_err(bad)?)
            }
            _ => {
                use xsalsa20poly1305::KeyInit;
                Engine::XSalsa(
                    XSalsa20Poly1305::new_from_slice(key)
                        .map_err(|_| CryptoError::BadKeyLength(key.len()))?,
                )
            }
        };
        Ok(TransportCipher { mode, engine })
    }

    /// The mode this cipher implements.
    pub fn mode(&self) -> CryptoMode {
        self.mode
    }

    /// Length of the clear (and, for AEAD modes, authenticated) prefix.
    pub(crate) fn clear_len(&self, kind: PacketKind, packet: &[u8]) -> Result<usize, CryptoError> {
        let len = match kind {
            PacketKind::Rtcp => {
                if self.mode == CryptoMode::XSalsa20Poly1305 {
                    return Err(CryptoError::UnsupportedForRtcp(self.mode));
                }
                RTCP_CLEAR_LEN
            }
            PacketKind::Rtp if self.mode.is_rtpsize() => {
                rtp::rtpsize_header_len(packet).map_err(|e| match e {
                    rtp::RtpError::TooShort { needed, got } => too_short(needed, got),
                    _ => too_short(rtp::FIXED_HEADER_LEN, packet.len()),
                })?
            }
            PacketKind::Rtp => rtp::FIXED_HEADER_LEN,
        };
        if packet.len() < len {
            return Err(too_short(len, packet.len()));
        }
        Ok(len)
    }

    /// Decrypts an RTP datagram in place (see [`Opened`]). On error the
    /// buffer's contents are unspecified.
    pub fn open_rtp_in_place(&self, buf: &mut [u8]) -> Result<Opened, CryptoError> {
        self.open(PacketKind::Rtp, buf)
    }

    /// Decrypts an RTCP datagram in place; `buf[..plain_len]` is then the
    /// plaintext compound packet. On error the contents are unspecified.
    pub fn open_rtcp_in_place(&self, buf: &mut [u8]) -> Result<Opened, CryptoError> {
        self.open(PacketKind::Rtcp, buf)
    }

    /// Convenience: decrypts in place and parses the result, so extension
    /// elements and padding are already separated from the payload
    /// (`RtpPacket::payload` is what a depacketizer or DAVE wants).
    pub fn open_rtp_packet<'a>(
        &self,
        buf: &'a mut [u8],
    ) -> Result<rtp::RtpPacket<'a>, CryptoError> {
        let opened = self.open(PacketKind::Rtp, buf)?;
        let buf: &'a [u8] = buf;
        let plain = buf
            .get(..opened.plain_len)
            .ok_or(too_short(opened.plain_len, buf.len()))?;
        Ok(rtp::RtpPacket::parse(plain)?)
    }

    /// Copies `packet` into `out` (cleared first; reuse it across packets)
    /// and opens it there as an RTP packet; `out` is truncated to the
    /// plaintext packet.
    pub fn open_rtp_into(&self, packet: &[u8], out: &mut Vec<u8>) -> Result<Opened, CryptoError> {
        self.open_into(PacketKind::Rtp, packet, out)
    }

    /// Like [`Self::open_rtp_into`] for RTCP.
    pub fn open_rtcp_into(&self, packet: &[u8], out: &mut Vec<u8>) -> Result<Opened, CryptoError> {
        self.open_into(PacketKind::Rtcp, packet, out)
    }

    fn open_into(
        &self,
        kind: PacketKind,
        packet: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Opened, CryptoError> {
        out.clear();
        out.extend_from_slice(packet);
        let res = self.open(kind, out);
        match res {
            Ok(o) => out.truncate(o.plain_len),
            Err(_) => out.clear(),
        }
        res
    }

    fn open(&self, kind: PacketKind, buf: &mut [u8]) -> Result<Opened, CryptoError> {
        let h = self.clear_len(kind, buf)?;
        let trailer = self.mode.nonce_trailer_len();
        let needed = h + TAG_LEN + trailer;
        if buf.len() < needed {
            return Err(too_short(needed, buf.len()));
        }
        let body_end = buf.len() - trailer;
        let (rest, nonce_bytes) = buf.split_at_mut(body_end);
        let counter = match *nonce_bytes {
            [a, b, c, d] => Some(u32::from_be_bytes([a, b, c, d])),
            _ => None,
        };
        let plain_len = body_end - TAG_LEN;
        match &self.engine {
            Engine::Aes(c) => {
                use aes_gcm::AeadInOut;
                let (aad, rest) = rest.split_at_mut(h);
                let (ct, tag) = rest.split_at_mut(plain_len - h);
                let tag =
                    aes_gcm::Tag::try_from(&*tag).map_err(|_| CryptoError::AuthenticationFailed)?;
                let nonce = aes_gcm::Nonce::from(counter_nonce::<12>(counter.unwrap_or(0)));
                c.decrypt_inout_detached(&nonce, aad, ct.into(), &tag)
                    .map_err(|_| CryptoError::AuthenticationFailed)?;
            }
            Engine::XChaCha(c) => {
                use chacha20poly1305::AeadInOut;
                let (aad, rest) = rest.split_at_mut(h);
                let (ct, tag) = rest.split_at_mut(plain_len - h);
                let tag = chacha20poly1305::Tag::try_from(&*tag)
                    .map_err(|_| CryptoError::AuthenticationFailed)?;
                let nonce =
                    chacha20poly1305::XNonce::from(counter_nonce::<24>(counter.unwrap_or(0)));
                c.decrypt_inout_detached(&nonce, aad, ct.into(), &tag)
                    .map_err(|_| CryptoError::AuthenticationFailed)?;
            }
            Engine::XSalsa(c) => {
                #[allow(deprecated)]
                use xsalsa20poly1305::aead::AeadInPlace;
                let nonce = self.legacy_nonce(rest, nonce_bytes, counter);
                let (mac, ct) = rest[h..].split_at_mut(TAG_LEN);
                let mut tag = [0u8; TAG_LEN];
                tag.copy_from_slice(mac);
                c.decrypt_in_place_detached(
                    &xsalsa20poly1305::Nonce::from(nonce),
                    &[],
                    ct,
                    &xsalsa20poly1305::Tag::from(tag),
                )
                .map_err(|_| CryptoError::AuthenticationFailed)?;
                // MAC-first layout: move the plaintext over the MAC so the
                // buffer starts with a contiguous plaintext packet.
                buf.copy_within(h + TAG_LEN..body_end, h);
            }
        }
        Ok(Opened {
            plain_len,
            header_len: h,
            nonce_counter: counter,
        })
    }

    /// The 24-byte XSalsa20 nonce of a legacy packet.
    fn legacy_nonce(&self, packet: &[u8], trailer: &[u8], counter: Option<u32>) -> [u8; 24] {
        let mut nonce = [0u8; 24];
        match self.mode {
            CryptoMode::XSalsa20Poly1305 => {
                if let Some(h) = packet.get(..rtp::FIXED_HEADER_LEN) {
                    nonce[..rtp::FIXED_HEADER_LEN].copy_from_slice(h);
                }
            }
            CryptoMode::XSalsa20Poly1305Suffix => {
                if trailer.len() == 24 {
                    nonce.copy_from_slice(trailer);
                }
            }
            _ => nonce = counter_nonce::<24>(counter.unwrap_or(0)),
        }
        nonce
    }

    /// Seals `buf[..plain_len]` in place; `buf` must have
    /// [`CryptoMode::overhead`] spare bytes after it. Returns the sealed
    /// length.
    pub(crate) fn seal(
        &self,
        kind: PacketKind,
        buf: &mut [u8],
        plain_len: usize,
        nonce: NonceInput,
    ) -> Result<usize, CryptoError> {
        let total = plain_len.saturating_add(self.mode.overhead());
        if buf.len() < total {
            return Err(CryptoError::BufferTooSmall {
                needed: total,
                got: buf.len(),
            });
        }
        let buf = &mut buf[..total];
        let h = self.clear_len(kind, &buf[..plain_len])?;
        let enc_err = |_| CryptoError::EncryptionFailed;
        match (&self.engine, nonce) {
            (Engine::Aes(c), NonceInput::Counter(n)) => {
                use aes_gcm::AeadInOut;
                let (aad, rest) = buf.split_at_mut(h);
                let (pt, trailer) = rest.split_at_mut(plain_len - h);
                let nonce = aes_gcm::Nonce::from(counter_nonce::<12>(n));
                let tag = c
                    .encrypt_inout_detached(&nonce, aad, pt.into())
                    .map_err(enc_err)?;
                trailer[..TAG_LEN].copy_from_slice(&tag);
                trailer[TAG_LEN..].copy_from_slice(&n.to_be_bytes());
            }
            (Engine::XChaCha(c), NonceInput::Counter(n)) => {
                use chacha20poly1305::AeadInOut;
                let (aad, rest) = buf.split_at_mut(h);
                let (pt, trailer) = rest.split_at_mut(plain_len - h);
                let nonce = chacha20poly1305::XNonce::from(counter_nonce::<24>(n));
                let tag = c
                    .encrypt_inout_detached(&nonce, aad, pt.into())
                    .map_err(enc_err)?;
                trailer[..TAG_LEN].copy_from_slice(&tag);
                trailer[TAG_LEN..].copy_from_slice(&n.to_be_bytes());
            }
            (Engine::XSalsa(c), input) => {
                #[allow(deprecated)]
                use xsalsa20poly1305::aead::AeadInPlace;
                // The nonce and the bytes appended after the ciphertext.
                let mut tr = [0u8; 24];
                let (nonce, tr_len) = match input {
                    NonceInput::Counter(n) => {
                        tr[..4].copy_from_slice(&n.to_be_bytes());
                        (counter_nonce::<24>(n), 4)
                    }
                    NonceInput::Suffix(s) => {
                        tr = s;
                        (s, 24)
                    }
                    NonceInput::Header => (self.legacy_nonce(buf, &[], None), 0),
                };
                buf.copy_within(h..plain_len, h + TAG_LEN);
                let ct_end = plain_len + TAG_LEN;
                let tag = c
                    .encrypt_in_place_detached(
                        &xsalsa20poly1305::Nonce::from(nonce),
                        &[],
                        &mut buf[h + TAG_LEN..ct_end],
                    )
                    .map_err(|_| CryptoError::EncryptionFailed)?;
                buf[h..h + TAG_LEN].copy_from_slice(&tag);
                buf[ct_end..].copy_from_slice(&tr[..tr_len]);
            }
            _ => {
                return Err(CryptoError::UnsupportedMode(
                    self.mode.as_wire_str().to_owned(),
                ));
            }
        }
        Ok(total)
    }
}

/// Counter big-endian in bytes 0..4, zeros after.
fn counter_nonce<const N: usize>(counter: u32) -> [u8; N] {
    let mut nonce = [0u8; N];
    for (dst, src) in nonce.iter_mut().zip(counter.to_be_bytes()) {
        *dst = src;
    }
    nonce
}

//! Discord voice UDP transport encryption (AEAD "rtpsize" modes and the
//! legacy xsalsa20 modes) for RTP and RTCP. Pure: no IO, no clock, no
//! randomness — the initial nonce state is passed in.
//!
//! # How to drive it
//! 1. Negotiate: [`CryptoMode::choose`] over the server's offered names,
//!    send [`CryptoMode::as_wire_str`] in op 1.
//! 2. On op 4, build a [`TransportCipher`] from the 32-byte `secret_key`
//!    and wrap it in a [`Sealer`] with a [`NonceSeed`] (from the caller's
//!    RNG). Keep one `Sealer` per connection: its counter is shared by all
//!    packets sent on it.
//! 3. Send: write the plaintext packet (e.g. with `rtp::RtpBuilder`) into a
//!    reusable `Vec`, call [`Sealer::seal_rtp`] / [`Sealer::seal_rtcp`],
//!    send the bytes.
//! 4. Receive: demultiplex with `rtp::is_rtcp`, then
//!    [`TransportCipher::open_rtp_in_place`] /
//!    [`TransportCipher::open_rtcp_in_place`]. Decryption happens in the
//!    receive buffer; afterwards `buf[..plain_len]` is an ordinary
//!    plaintext RTP (or RTCP) packet, so `rtp::RtpPacket::parse` strips the
//!    extension elements and padding. [`TransportCipher::open_rtp_packet`]
//!    does both steps. Errors for which [`CryptoError::should_drop_packet`]
//!    holds mean "drop this datagram and carry on".
//!
//! # Wire formats
//! AEAD modes: `clear header (AAD) | ciphertext | 16-byte tag | 4-byte BE
//! counter`. The nonce is the counter big-endian in its first 4 bytes,
//! zero elsewhere (12 bytes for AES-256-GCM, 24 for XChaCha20-Poly1305).
//! For RTP the clear header is `12 + 4·CC + (X ? 4 : 0)` bytes — the
//! extension *elements* are encrypted with the payload, unlike SRTP; for
//! RTCP it is the first 8 bytes (header and sender SSRC), see
//! [`RTCP_CLEAR_LEN`] for why.
//!
//! Legacy modes (XSalsa20-Poly1305 secretbox, rejected by Discord since
//! November 2024, kept for simulators and old servers): `clear header |
//! 16-byte MAC | ciphertext | nonce trailer`, no AAD. The clear RTP header
//! is 12 bytes (rtpsize for `xsalsa20_poly1305_lite_rtpsize`). Nonces: the
//! 12-byte RTP header plus zeros (`xsalsa20_poly1305`, no trailer; not
//! usable for RTCP), 24 bytes sent as trailer (`_suffix`: counter plus a
//! per-connection salt), or a 4-byte counter plus zeros (`_lite`).
//!
//! # Why the design
//! * In-place operation: the hot receive path does no allocation and no
//!   copy beyond the cipher itself (the reference implementation allocated
//!   up to three buffers per packet).
//! * The rtpsize header length comes from the `rtp` crate
//!   (`rtp::rtpsize_header_len`) so the AAD boundary rule exists once.

mod cipher;
mod error;
mod mode;
mod sealer;

pub use cipher::{Opened, RTCP_CLEAR_LEN, TransportCipher};
pub use error::CryptoError;
pub use mode::{CryptoMode, TAG_LEN};
pub use sealer::{NonceSeed, Sealer};

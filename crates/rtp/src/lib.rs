//! RTP/RTCP (RFC 3550, 5761, 4585, 4588, 8285): headers, extensions,
//! sequence arithmetic, RTCP feedback, RTX and a reorder buffer. Pure: no
//! IO, no clock reads, no randomness — time comes in as `Instant` arguments.
//!
//! # How to drive it
//!
//! Receive path, per datagram (after transport decryption, see the
//! `voice-crypto` crate):
//! 1. [`is_rtcp`] splits RTCP from RTP on the shared socket (RFC 5761).
//! 2. RTCP: iterate [`rtcp::parse_compound`]; react to
//!    [`RtcpPacket::Nack`] (retransmit via [`RtxMapping::wrap_into`]),
//!    [`RtcpPacket::Pli`] / [`RtcpPacket::Fir`] (send a keyframe).
//! 3. RTP: [`RtpPacket::parse`] gives a zero-copy view with padding
//!    stripped and extension elements available through
//!    [`RtpPacket::extension`]. RTX packets are turned back into the
//!    primary stream with [`RtxMapping::view`] (zero-copy) or
//!    [`RtxMapping::unwrap_into`].
//! 4. Feed [`ReceiveStats::on_packet`] (for RTCP RR) and
//!    [`ReorderBuffer::insert`]; drain [`ReorderBuffer::pop_ready`]; send
//!    NACKs built with [`rtcp::build::write_nack`] from
//!    [`ReorderBuffer::poll_nack_into`]; wake up at
//!    [`ReorderBuffer::poll_timeout`] and call
//!    [`ReorderBuffer::handle_timeout`].
//!
//! Video depacketizers are a [`Depacketizer`] over a codec's
//! [`FrameAssembler`]: frames by timestamp and marker, an output queue,
//! buffer reuse, and sequence continuity through a [`SeqTracker`]
//! ([`SeqStep`]: duplicate, late, in order with a loss count, or a jump).
//!
//! Send path: [`RtpBuilder`] writes packets into a caller-owned buffer that
//! can be reused for every packet; the RTCP builders in [`rtcp::build`]
//! append to a `Vec` so a compound packet is a sequence of calls.
//! [`SendStream`] keeps a sent video stream's history (NACK → RTX) and
//! its sender reports; [`send::playout_delay`] is the header extension
//! Discord expects on video packets (id [`send::PLAYOUT_DELAY_ID`]).
//!
//! # Discord "rtpsize"
//! Discord's AEAD modes authenticate only `12 + 4·CC + (X ? 4 : 0)` header
//! bytes ([`rtpsize_header_len`]) and encrypt the extension *elements*
//! together with the payload. Once decrypted in place the packet is an
//! ordinary RTP packet again; [`split_rtpsize_plaintext`] handles the case
//! where the plaintext lives in a separate buffer.
//!
//! # Errors
//! One error type, [`RtpError`]. Every parser returns it for malformed
//! input and none of them panics on any byte string (property-tested);
//! [`RtpError::is_malformed_input`] says "drop this datagram".

mod builder;
mod continuity;
mod depacketizer;
mod error;
mod ext;
mod packet;
pub mod payloads;
mod reorder;
pub mod rtcp;
mod rtx;
pub mod send;
mod stats;
mod types;

pub use builder::RtpBuilder;
pub use continuity::{SeqCounts, SeqStep, SeqTracker};
pub use depacketizer::{Depacketizer, DepacketizerCounts, FrameAssembler};
pub use error::RtpError;
pub use ext::{ExtensionElement, ExtensionElements, HeaderExtension, ONE_BYTE_PROFILE};
pub use packet::{
    FIXED_HEADER_LEN, RtpPacket, RtpSizeParts, peek_sequence, peek_ssrc, rtpsize_header_len,
    split_rtpsize_plaintext,
};
pub use reorder::{InsertOutcome, Released, ReorderBuffer, ReorderConfig};
pub use rtcp::{RtcpPacket, is_rtcp};
pub use rtx::{RtxMapping, RtxPayload};
pub use send::{SendConfig, SendCounters, SendStream};
pub use stats::ReceiveStats;
pub use types::{PayloadType, RtpTimestamp, SeqNo, SeqUnwrapper, Ssrc};

//! H264 over RTP (RFC 6184, packetization-mode 1): a depacketizer producing
//! Annex-B access units, a parameter-set cache, and a packetizer. Pure: no
//! IO, no clock, no randomness.
//!
//! # Receive: driving the depacketizer
//!
//! The caller parses RTP, strips padding and header extensions, repairs
//! order (RTX, reorder buffer) and then, per SSRC:
//!
//! ```
//! use h264_rtp::{H264Depacketizer, ParameterSetCache};
//! let mut depack = H264Depacketizer::default();
//! let mut params = ParameterSetCache::new();
//! # let packets: [(u16, u32, bool, &[u8]); 1] = [(7, 3000, true, &[0x65, 0x88, 0x84])];
//! for (seq, timestamp, marker, payload) in packets {
//!     if let Err(e) = depack.push(seq, timestamp, marker, payload) {
//!         // Malformed packet: its data is left out, the access unit is flagged.
//!         let _ = e.should_request_keyframe();
//!     }
//!     while let Some(mut au) = depack.poll() {
//!         if au.damaged { /* maybe send a PLI, maybe skip decoding */ }
//!         // ... DAVE-decrypt au.data here, THEN:
//!         params.apply(&mut au.data);
//!         // ... decode ...
//!         depack.recycle(au); // reuse the buffers: no allocation in steady state
//!     }
//! }
//! ```
//!
//! One access unit is emitted per RTP timestamp: on the marker bit, or when
//! a packet with a new timestamp shows the previous one ended without it
//! (then flagged `damage.missing_marker`). Sequence gaps flag the access
//! unit as damaged, and an FU-A whose fragments straddle a gap is *dropped*,
//! never glued: a glued NAL unit decodes as garbage and, with DAVE, fails
//! authentication anyway. Out-of-order and duplicate packets are dropped
//! and counted (reordering is the caller's job).
//!
//! # Why the output is exact Annex-B
//!
//! DAVE end-to-end encryption is applied to the whole encoded frame before
//! packetization, with codec-aware clear ranges computed over the Annex-B
//! frame with 4-byte start codes. The depacketizer therefore rebuilds the
//! frame byte for byte: every NAL unit (single, STAP-A member, reassembled
//! FU-A) prefixed by `00 00 00 01`, nothing added. That is also why
//! parameter-set insertion ([`ParameterSetCache`]) is a separate step that
//! runs after decryption.
//!
//! # Send
//!
//! [`H264Packetizer`] turns an Annex-B access unit into payloads (single NAL
//! unit, STAP-A for runs of small NAL units, FU-A for large ones) with
//! sequence numbers, 90 kHz timestamps and the marker on the last packet.

mod access_unit;
mod depacketizer;
mod error;
mod nal;
mod packetizer;
mod param_sets;

pub use access_unit::{AccessUnit, Damage};
pub use depacketizer::{DepacketizerConfig, DepacketizerStats, H264Assembler, H264Depacketizer};
pub use error::H264Error;
pub use nal::{NalType, NalUnits, START_CODE, nal_units};
pub use packetizer::{H264Packetizer, Packet, PacketizerConfig, Packets, rtp_timestamp_90khz};
pub use param_sets::{ParameterSetCache, ParameterSetOutcome};

//! VP8 over RTP (RFC 7741): depacketizer and packetizer. Pure: no IO, no
//! clock, no randomness.
//!
//! # Receive
//!
//! After RTP parsing, padding/extension removal and reordering, per SSRC:
//!
//! ```
//! use vp8_rtp::Vp8Depacketizer;
//! let mut depack = Vp8Depacketizer::default();
//! # let packets: [(u16, u32, bool, &[u8]); 1] = [(1, 90, true, &[0x10, 0x11, 0x22])];
//! for (seq, timestamp, marker, payload) in packets {
//!     let _ = depack.push(seq, timestamp, marker, payload); // Err: packet dropped, frame flagged
//!     while let Some(frame) = depack.poll() {
//!         if !frame.damaged {
//!             // ... DAVE-decrypt frame.data, decode ...
//!         }
//!         depack.recycle(frame); // buffer reuse: no allocation in steady state
//!     }
//! }
//! ```
//!
//! A frame starts at the packet with S=1 and PID=0 and ends at the marker
//! bit; each RTP timestamp yields exactly one [`Vp8Frame`]. A frame with a
//! missing packet (sequence gap, missing start or end, malformed packet) is
//! flagged `damaged` and holds only the data before the first loss: bytes
//! on both sides of a gap are never glued (a glued frame decodes as garbage
//! and fails DAVE authentication). A whole frame that follows lost packets
//! or a PictureID gap is flagged `lost_before` instead.
//!
//! The output is the VP8 bitstream frame exactly as the sender's encoder
//! (and DAVE) produced it: DAVE encrypts the frame before packetization and
//! leaves the first 10 bytes of a key frame (or 1 byte otherwise) clear, so
//! key-frame detection and the size parse ([`keyframe_size`]) work on
//! still-encrypted frames.
//!
//! # Send
//!
//! [`Vp8Packetizer`] writes a 4-byte descriptor (X=1, I=1, 15-bit
//! PictureID incremented per frame, S on the first packet).

mod depacketizer;
mod descriptor;
mod error;
mod frame_header;
mod packetizer;

pub use depacketizer::{
    DepacketizerConfig, DepacketizerStats, Vp8Assembler, Vp8Depacketizer, Vp8Frame,
};
pub use descriptor::{PayloadDescriptor, PictureId};
pub use error::Vp8Error;
pub use frame_header::{FrameSize, is_keyframe, keyframe_size};
pub use packetizer::{Packet, PacketizerConfig, Packets, Vp8Packetizer};

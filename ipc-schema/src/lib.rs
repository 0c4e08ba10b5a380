//! The wire protocol between `control` and `mediad`: the only serialized
//! boundary in the system.
//!
//! # Frame format
//! Every message travels as one frame: a 4-byte big-endian payload length,
//! then the payload, a [bincode] 2.x encoding (standard config: little-endian
//! varints) of [`ControlMsg`] (control → mediad) or [`MediadMsg`]
//! (mediad → control). A frame longer than [`MAX_FRAME_LEN`] is rejected
//! *before* anything is allocated for it. Binary data (JPEG, encoded video,
//! publish frames) is carried as raw bytes, never base64.
//!
//! # Driving the codec
//! The codec is pure: [`frame::split_frame`] looks at a byte buffer and says
//! whether a whole frame is there ([`frame::Split::Incomplete`] is not an
//! error), then [`frame::decode_payload`] turns the payload into a message.
//! [`frame::encode_frame`] appends one frame to a buffer. Sockets, lanes and
//! back-pressure live in the `ipc-conn` crate.
//!
//! # Handshake and versioning
//! The first frame each way is [`Hello`] (variant 0 of both message enums;
//! its encoding is frozen forever so that peers of *any* version can read it
//! and name each other's version in an error). Peers with different
//! [`ProtocolVersion::major`] refuse each other. A peer with a newer minor is
//! accepted; minor versions may only:
//! - add new variants at the *end* of [`ControlMsg`] / [`MediadMsg`]
//!   (an older peer skips them: [`frame::DecodeError::UnknownKind`]), and
//! - append fields at the *end* of a top-level message's own struct
//!   (an older peer ignores trailing payload bytes).
//!
//! Anything else is a major version bump. The golden vectors under
//! `tests/vectors/` make every wire change visible as a diff.
//!
//! # Lanes
//! Each message knows its [`Lane`]: video frames are [`Lane::Lossy`] (a
//! bounded queue that drops the oldest frame when full), everything else is
//! [`Lane::Reliable`] (ordered, never dropped). Voice audio to play
//! ([`VoicePlayChunk`]) is reliable too, in chunks of at most 100 ms so that
//! it never holds a ping back (see the `voice` module's notes).

mod command;
mod event;
pub mod frame;
mod hello;
mod ids;
mod lane;
mod summary;
mod voice;

pub use command::*;
pub use event::*;
pub use hello::{Hello, PROTOCOL_VERSION, PeerRole, ProtocolVersion, VersionCheck};
pub use ids::{ChannelId, GuildId, Secret, Ssrc, UserId, secret_hint};
pub use lane::{Lane, WireMessage};
pub use summary::{FieldValue, Fields};
pub use voice::*;

/// Largest payload a frame may carry: 16 MiB. Checked before allocating.
pub const MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

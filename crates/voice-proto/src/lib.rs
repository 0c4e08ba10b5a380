//! Discord voice gateway wire vocabulary: opcodes, typed JSON payloads,
//! binary DAVE frames, close-code policy and UDP IP discovery. Pure data
//! and codecs: no IO, no clock, no randomness.
//!
//! The same types serve both ends of the wire — the project's voice and
//! Go Live stream clients (mediad) and the offline Discord simulator — so
//! every payload both serializes and deserializes, and messages of both
//! directions are modelled (fields that exist in one direction only are
//! `Option`s and documented as such).
//!
//! # How to drive it
//!
//! * Text frames: [`VoiceMessage::from_text`] returns the message and the
//!   envelope `seq` (v8+ servers number replayable messages; feed it to
//!   your `seq_ack`). [`VoiceMessage::to_text`] writes `{"op","d","seq"?}`;
//!   clients pass `None` for `seq`.
//! * Binary frames (DAVE ops 25–30): a client reads with
//!   [`DaveBinary::parse_server`]`(bytes, version.has_seq())` and writes
//!   with [`DaveBinary::encode_client`]; the simulator uses
//!   [`DaveBinary::parse_client`] and [`DaveBinary::encode_server`]. The
//!   binary u16 seq and the JSON seq share one counter.
//! * Heartbeats depend on the [`GatewayVersion`]: build them with
//!   [`Heartbeat::new`]; a server answers with [`Heartbeat::ack`].
//! * After the socket closes, [`CloseCode::action`] says whether to resume,
//!   re-join through the main gateway, reconnect or stop.
//! * UDP: [`IpDiscovery`] encodes/decodes the 74-byte discovery packets.
//!
//! # Design notes
//!
//! * Opcode numbering follows the official table and the user-docs (12 =
//!   Video, 14 = Session Update, 15 = Media Sink Wants, 16 = Backend
//!   Version, 18 = Client Flags, 20 = Client Platform), not the older
//!   serenity-voice-model numbering. Each numeric or string wire enum has
//!   exactly one conversion table and an `Unknown`/`Other` variant, so new
//!   values from Discord are data, not errors.
//! * Snowflakes ([`UserId`], [`GuildId`], [`ChannelId`], [`ServerId`],
//!   [`MessageId`]) are strings on the wire; they are `wire-ids`' (the one
//!   definition, also the IPC's), re-exported here and by `gateway-proto`.
//! * Transport encryption mode names stay `String`s: `voice-crypto` owns
//!   that mapping. SSRCs are `u32`: this crate does not depend on `rtp`.
//! * Decoding is lenient where real peers differ (float heartbeat
//!   intervals, `seq_ack: -1`, both Media Sink Wants shapes, a missing
//!   stream `type`); encoding always produces one canonical shape. Unknown
//!   JSON fields are ignored, so a decode→encode round trip drops them.
//!
//! # Errors
//! One error type, [`VoiceProtoError`]. No parser panics on any input
//! (property-tested); [`VoiceProtoError::is_malformed_input`] means "drop
//! this message and carry on".

#[macro_use]
mod wire_enum;

mod close;
mod codec;
mod dave;
#[doc(hidden)]
pub mod envelope;
mod error;
mod handshake;
mod heartbeat;
mod ids;
mod ip_discovery;
mod media;
mod message;
mod opcode;
mod sink_wants;

pub use close::{CloseAction, CloseCode};
pub use codec::{
    CodecDescriptor, CodecKind, MaxResolution, ResolutionType, StreamDescriptor, StreamType,
};
pub use dave::{
    DaveBinary, ExecuteTransition, InvalidCommitWelcome, PrepareEpoch, PrepareTransition,
    ProposalsOperation, TransitionReady,
};
pub use error::VoiceProtoError;
pub use handshake::{
    Hello, Identify, Protocol, Ready, Resume, SecretKey, SelectProtocol, SelectProtocolData,
    SessionDescription, UdpProtocolData,
};
pub use heartbeat::{Heartbeat, HeartbeatAck};
pub use ids::{ChannelId, GuildId, MessageId, ParseSnowflakeError, ServerId, UserId};
pub use ip_discovery::{IP_DISCOVERY_LEN, IpDiscovery};
/// Tokens and session ids print redacted: the workspace's one `Secret`,
/// from `ipc-schema` (its lowest crate).
pub use ipc_schema::Secret;
pub use media::{
    BackendVersion, ClientDisconnect, ClientFlags, ClientPlatform, ClientsConnect, Platform,
    SessionUpdate, Speaking, SpeakingFlags, Video,
};
pub use message::VoiceMessage;
pub use opcode::{GatewayVersion, VoiceOpcode};
pub use sink_wants::MediaSinkWants;

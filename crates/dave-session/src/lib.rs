//! Client side of Discord's DAVE (Audio/Video end-to-end encryption): a
//! sans-IO state machine over [`davey`] for one voice or stream connection.
//!
//! # Contract
//! * Create one [`DaveSession`] per transport (voice, stream watch, stream
//!   publish) with the MLS group id: the voice channel id, or
//!   [`stream_group_id`]`(rtc_server_id)` for Go Live connections.
//! * Feed it every DAVE-related gateway message through the `on_*` methods
//!   (binary ops with the bytes after the opcode byte; op 29/30 with their
//!   transition id split off). Then drain [`DaveSession::poll_output`]:
//!   [`Outgoing`] messages (ops 23/26/28/31) must be sent in order.
//! * Media: [`DaveSession::encrypt`] before packetizing, and
//!   [`DaveSession::decrypt`] after reassembling a whole frame.
//! * Time is passed in (`now`); the crate reads no clock and owns no RNG
//!   (davey/openmls generate MLS keys with their own RNG).
//!
//! # State machine (protocol sheet §3.5, davey 0.2 contract)
//! * op 4 pv>0 → (re)initialise MLS and send op 26; pv=0 → transport-only.
//! * op 25 → store the external sender (davey creates the pending group).
//!   It never triggers a second key package: two key packages in flight race
//!   with the proposals the gateway issued for the first.
//! * op 27 → if a commit results, send op 28.
//! * op 29/30 → process, then `prepare_transition(T)`; op 23 unless T=0 (then
//!   executed at once). On failure: op 31, reset, fresh op 26.
//! * op 21 → prepare (pv 0 opens a receive-passthrough window); op 23 unless
//!   T=0. op 22 → execute (switches the sender key). Unknown T is harmless.
//! * op 24 epoch 1 → reset and send a fresh op 26.
//!
//! # Passthrough (why it is decided here)
//! davey's decryptors read the wall clock for passthrough expiry; to keep the
//! policy testable with a caller-supplied `now`, this crate decides itself
//! whether a frame is a DAVE protocol frame (trailer check of §3.7) and
//! whether an unencrypted one is acceptable ([`Passthrough`]). Passthrough is
//! `Always` until the first transition to a DAVE version executes (nothing can
//! be decrypted before that), `Until(now + 10 s)` after an upgrade executes,
//! `Until(now + 24 s)` once a downgrade is announced and `Always` once it
//! executes. davey's own sender-side ratchet expiry and replay windows still
//! use davey's internal clock — davey 0.2 offers no way to pass time in.

mod decode;
mod encrypt_guard;
mod error;
mod frame;
mod media;
mod messages;
mod session;
#[cfg(feature = "test-support")]
pub mod test_group;

pub use error::DaveError;
pub use media::{Decrypted, MediaCodec, Passthrough, UserStats};
pub use messages::{DaveEvent, Outgoing, SessionOutput};
pub use session::{DaveConfig, DaveSession, ProposalsOp, stream_group_id};

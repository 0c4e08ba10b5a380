//! The voice gateway's side of Discord's DAVE (Audio/Video E2EE), for the
//! offline simulator: the MLS **external sender** that admits and removes
//! members, arbitrates commits and orchestrates transitions.
//!
//! # Contract
//! * Create one [`DaveGateway`] (one P-256 signing identity, shared by all its
//!   groups, as the real gateway's op 25 package is per server).
//! * Per call/stream, use [`DaveGateway::group_mut`] with the MLS group id
//!   (voice channel id, or `rtc_server_id - 1` for stream connections) and feed
//!   it [`GroupMut::client_connected`] / [`GroupMut::client_disconnected`] and
//!   every DAVE message from clients ([`GroupMut::handle_client`]).
//! * Drain [`DaveGateway::poll_output`] after every call and deliver messages
//!   **in order** per recipient (op 11 must precede the op 27 that adds a user,
//!   op 29 must precede proposals of the next epoch). Call
//!   [`DaveGateway::handle_timeout`] at [`DaveGateway::poll_timeout`].
//! * Messages carry exactly the bytes after the opcode byte; framing (sequence
//!   numbers, opcode byte, JSON) belongs to the caller.
//!
//! # Behaviour
//! * Op 26 key packages are validated (signature, ciphersuite 2, basic
//!   credential = sender's user id, lifetime `[0, 2^64-1]`) and answered with an
//!   Add proposal (op 27) signed as external sender index 0. With no group yet,
//!   the earliest connected user with a key package is the *creator*: only it
//!   receives proposals and may commit epoch 0 → 1.
//! * The first op 28 of an epoch that references exactly the outstanding
//!   proposals, by reference only, from a current member at the right leaf
//!   (with a welcome iff it adds) wins: op 29 goes to the remaining members and
//!   each joiner gets op 30 with only its own group secrets. Op 22 follows once
//!   all participants sent op 23, or after [`GatewayConfig::transition_timeout`].
//! * Leaving users are removed by a Remove proposal; if one member remains it
//!   gets the whitepaper's sole-member reset (op 24 epoch 1, op 21 id 0).
//! * Op 31 marks the member broken: it is removed by proposal and re-added when
//!   its fresh op 26 arrives; if no healthy member remains the group restarts.
//!
//! # Limits (why)
//! The gateway is not an MLS member and never sees a GroupInfo, so it cannot
//! compute the group context and verify a commit's signature or membership
//! tag: a commit tampered in its cryptographic parts passes the gateway and is
//! rejected by the clients (op 31 → recovery), as members are the ones holding
//! the keys. Structural tampering (epoch, group, proposal coverage, sender,
//! welcome coverage) is rejected here. The leaf assignment the gateway tracks
//! follows RFC 9420 §12.3 (removes, then adds into the leftmost blank leaf).
//!
//! [`SimMember`] is a davey-driven client for the simulator's own participants
//! (streamers): it joins through the same messages and encrypts media.

mod decode;
mod error;
mod gateway;
mod group;
mod member;
mod messages;
mod sender;
mod tls;
mod wire;

pub use error::GatewayError;
pub use gateway::{DaveGateway, GatewayConfig, GroupMut, GroupView};
pub use member::SimMember;
pub use messages::{ClientDaveMsg, GatewayOutput, ProposalsOp, Recipient, ServerDaveMsg};
pub use sender::GatewaySigner;

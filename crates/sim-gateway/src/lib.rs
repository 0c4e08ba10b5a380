//! An offline Discord for tests and the demo. It speaks the real
//! protocols, so the project's daemons connect to it unmodified; only base
//! URLs differ.
//!
//! # How to drive it
//!
//! ```no_run
//! # async fn demo() -> Result<(), sim_gateway::SimError> {
//! let sim = sim_gateway::start(sim_gateway::SimConfig {
//!     listen: "127.0.0.1:0".parse().expect("literal address"),
//!     scenario: sim_gateway::Scenario::builtin("demo")?,
//!     seed: 1,
//! })
//! .await?;
//! println!("{} {} {}", sim.gateway_url(), sim.rest_base(), sim.admin_base());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! * Main gateway (`gateway_url()`, JSON over WebSocket): HELLO, IDENTIFY
//!   (user and bot tokens; unknown → 4004), heartbeats (none within 1.5
//!   intervals → 4009), RESUME with replay after `seq`, RECONNECT and
//!   INVALID_SESSION on demand, READY + GUILD_CREATE with voice states,
//!   op 4 → VOICE_STATE_UPDATE + VOICE_SERVER_UPDATE, Go Live ops 18–22 →
//!   STREAM_CREATE / STREAM_SERVER_UPDATE / STREAM_UPDATE / STREAM_DELETE,
//!   120 commands per 60 s (→ 4008). Undecodable frames close 4002,
//!   unknown opcodes 4001, commands before Identify 4003.
//! * REST (`rest_base()`): `GET /users/@me`, `POST /channels/{id}/messages`,
//!   rate-limit headers, 429 on demand.
//! * Admin (`admin_base()`, loopback only unless [`SimNetwork`] asks
//!   otherwise: it has no authentication): what the sim received, and
//!   every [`Action`] (the scenario timeline vocabulary, faults included).
//! * Reached by name ([`start_with`], `--advertise-host`): the certificate,
//!   the URLs and the media endpoints name a host (a compose service)
//!   while the sim listens on `0.0.0.0`.
//! * Media: two media servers, one for guild voice and one for Go Live
//!   streams, so a stream-server crash leaves voice untouched. The world
//!   grants a client there before handing out its token, revokes with 4014
//!   when a user leaves voice and 4022 when a stream ends.
//!
//! # Design notes
//!
//! * The world model ([`World`]) is pure: each mutation returns ordered
//!   [`Effect`]s (typed dispatches for an [`Audience`], media requests).
//!   The hub applies them under one lock, assigning each session's `seq`
//!   and buffering for RESUME, so all sessions see one event order.
//! * The gateway WebSocket is upgraded by hand on hyper's upgrade instead
//!   of axum's `ws` feature: that feature pins another tungstenite version
//!   than the workspace's.
//! * Bots cannot Go Live: op 18 and op 20 from a bot session are answered
//!   with STREAM_DELETE `unauthorized`, as Discord does.
//! * Scenarios are JSON (no extra parser dependency); see [`scenario`](Scenario).

mod actions;
mod admin;
mod admin_speech;
mod advertise;
mod error;
mod gateway;
mod hub;
mod media;
mod rest;
mod rest_limit;
mod rng;
mod scenario;
mod server;
mod timeline;
mod tls_listener;
mod voice_servers;
mod world;
mod world_ops;
mod world_sim;

#[cfg(test)]
mod world_tests;

pub use actions::{Action, TimelineEntry};
pub use error::SimError;
pub use media::{
    Grant, GrantKind, MediaAction, Participant, ServerKind, VideoCodec, VideoKind, VideoSpecConfig,
};
pub use rest_limit::{RateDecision, RestLimiter};
pub use rng::SimRng;
pub use scenario::{ChannelSpec, GuildSpec, Scenario, ScenarioSettings, UserSpec};
pub use server::{SimConfig, SimHandle, SimNetwork, start, start_with};
pub use voice_servers::{MediaBackend, MediaFault, MediaLogEntry, MediaServer, PublishedFrameOut};
pub use world::{
    Audience, ChannelKind, ChannelRecord, ChannelRef, Effect, MessageSource, PostedMessage,
    StreamRecord, UserRecord, UserRef, VoiceStateRecord, World, WorldSettings,
};

//! What a receiving media slot decides, without IO.
//!
//! mediad's transport slot (`mediad/src/transport/slot.rs`) owns the
//! sockets, the decoder threads and the supervisor channel; this crate owns
//! the decisions it carries out:
//!
//! - [`sink`]: which simulcast layer of a user's video to take (the
//!   smallest that covers the output size), the op 15 Media Sink Wants
//!   payload, and the codec a video payload type carries (decisions and
//!   their sources in the module doc);
//! - [`plan`]: the [`ReceivePlan`], fed the slot's events (subscriptions,
//!   media ready, a resume, op 12 video, a user gone) and answering with
//!   [`Action`]s — start, retune or stop a decoder worker, send op 15,
//!   report a user's video state — plus [`ReceivePlan::route`], the
//!   destination of each received RTP packet.
//!
//! No clock, no threads, no tokio (`clippy.toml` bans clock reads, thread
//! spawns and ambient randomness); nothing here waits for time, so the
//! tests drive it by events alone.

pub mod plan;
pub mod sink;

pub use plan::{Action, PlannedWorker, ReceivePlan, Route};
pub use sink::{Layer, UserWants, choose_layer, layers_of, payload_codecs, sink_wants};

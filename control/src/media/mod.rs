//! control's side of the IPC with mediad.
//!
//! control owns the *desired* media state ([`desired::DesiredMedia`]): which
//! transports and video subscriptions should exist. [`client`] keeps a connection
//! to mediad alive (reconnecting with capped backoff while mediad is absent)
//! and, after every handshake, reconciles mediad's snapshot with the desired
//! state, so a restarted mediad gets everything replayed and a mediad that
//! kept its state through a control restart is not disturbed.

pub mod client;
pub mod desired;

pub use client::{MediaClient, MediaHandle, MediadConnStatus};
pub use desired::DesiredMedia;

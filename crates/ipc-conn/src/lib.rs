//! The tokio side of the IPC between control and mediad.
//!
//! [`ipc_schema`] defines bytes; this crate moves them:
//! - [`socket`]: file-path local sockets (mode 0600, stale-file recovery,
//!   removal on drop) through `interprocess`.
//! - [`handshake`]: the `Hello` exchange and version check, with a timeout;
//!   before it completes at most [`MAX_HELLO_FRAME_LEN`] is buffered.
//! - [`RefusalLog`] and [`MAX_PENDING_HANDSHAKES`]: how a server admits
//!   peers that have not finished the handshake, and logs refusals.
//! - [`Connection`]: a handshaken connection split into a [`ConnSender`] and a
//!   [`ConnReceiver`], with two lanes per direction. The reliable lane is
//!   ordered and never drops, but is bounded: when it overflows, the peer is
//!   declared stuck and the connection is closed (the peer reconnects and resyncs
//!   from a snapshot) rather than buffering without bound. The lossy lane
//!   (video frames) keeps at most a few messages and drops the oldest.
//!
//! Everything is generic over `AsyncRead + AsyncWrite`, so tests run over
//! in-memory pipes.

mod admission;
mod conn;
mod error;
mod handshake;
mod lanes;
pub mod socket;

pub use admission::{MAX_PENDING_HANDSHAKES, RefusalLog};
pub use conn::{ConnConfig, ConnCounters, ConnReceiver, ConnSender, Connection};
pub use error::ConnError;
pub use handshake::{MAX_HELLO_FRAME_LEN, PeerInfo, handshake, split_hello};
pub use lanes::LossyLane;

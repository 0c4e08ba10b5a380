//! The crate's error type and its recovery policy.

use ipc_schema::frame::FrameError;
use ipc_schema::{PeerRole, ProtocolVersion};

/// Why a connection could not be set up or ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnError {
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The peer sent bytes that are not a valid frame.
    #[error("bad frame from peer: {0}")]
    Frame(#[from] FrameError),
    /// No `Hello` within the handshake timeout.
    #[error("peer sent no hello within {0:?}")]
    HandshakeTimeout(std::time::Duration),
    /// The peer announced a first frame larger than any `Hello`.
    #[error("peer announced a {len}-byte first frame; a hello is at most {max} bytes")]
    HelloTooLarge {
        /// The announced length.
        len: usize,
        /// [`crate::MAX_HELLO_FRAME_LEN`].
        max: usize,
    },
    /// The peer's first frame was not a `Hello`.
    #[error("peer's first frame was {0}, not hello")]
    NoHello(&'static str),
    /// Protocol majors differ: the connection is refused.
    #[error(
        "protocol version mismatch: this {our_role} speaks {ours}, the {their_role} peer speaks {theirs}; major versions must match"
    )]
    VersionMismatch {
        /// Our role.
        our_role: PeerRole,
        /// Our version.
        ours: ProtocolVersion,
        /// The peer's role.
        their_role: PeerRole,
        /// The peer's version.
        theirs: ProtocolVersion,
    },
    /// The peer closed the connection.
    #[error("peer closed the connection")]
    Closed,
    /// The reliable lane overflowed: the peer stopped reading.
    #[error("reliable lane full ({0} messages queued): peer is not reading")]
    ReliableLaneFull(usize),
}

impl ConnError {
    /// Whether trying again later may succeed. A version mismatch will not
    /// fix itself until one side is upgraded, but retrying (slowly) is still
    /// right for a daemon: the peer may be replaced by a matching build.
    pub fn is_transient(&self) -> bool {
        !matches!(self, ConnError::VersionMismatch { .. })
    }
}

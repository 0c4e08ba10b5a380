//! What goes in and out of [`VoiceConnection`](crate::VoiceConnection):
//! the socket events the shell feeds ([`Input`]), the actions it must take
//! ([`Transmit`]), what it reports ([`Event`], [`ConnectionStatus`],
//! [`MediaInfo`]) and the drop counters ([`Counters`]).

use std::net::SocketAddr;
use std::time::Duration;

use voice_crypto::CryptoMode;
use voice_proto::{DaveBinary, StreamDescriptor, UserId, Video, VoiceMessage};

/// What happened on the sockets.
#[derive(Debug)]
pub enum Input<'a> {
    /// The WebSocket asked for by [`Transmit::WsConnect`] is open.
    WsConnected,
    /// It could not be opened.
    WsConnectFailed {
        /// Why, for logs.
        reason: String,
    },
    /// A text frame.
    WsText(&'a str),
    /// A binary frame (DAVE ops).
    WsBinary(&'a [u8]),
    /// The WebSocket closed by the peer or dropped (`None`: no close frame).
    /// Not reported for a socket this machine closed with
    /// [`Transmit::WsClose`] or replaced with [`Transmit::WsConnect`].
    WsClosed {
        /// Close code.
        code: Option<u16>,
    },
    /// A UDP datagram from the media server.
    Udp(&'a [u8]),
}

/// Something the shell must do.
#[derive(Clone, PartialEq, Eq)]
pub enum Transmit {
    /// Open a WebSocket to `url`, silently replacing any open one.
    WsConnect {
        /// Full URL with `?v=`.
        url: String,
    },
    /// Send a text frame.
    WsText(String),
    /// Send a binary frame.
    WsBinary(Vec<u8>),
    /// Close the WebSocket with `code` (no [`Input::WsClosed`] follows).
    WsClose {
        /// Close code.
        code: u16,
    },
    /// Use a UDP socket aimed at `server` (keep the current one when the
    /// address is unchanged).
    UdpConnect {
        /// Media server address from READY.
        server: SocketAddr,
    },
    /// Send a datagram to the media server.
    Udp(Vec<u8>),
}

impl std::fmt::Debug for Transmit {
    /// A text frame prints as the message it holds, whose tokens and
    /// session ids print redacted (Identify and Resume carry them); other
    /// frames as they are, datagrams by length.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WsConnect { url } => f.debug_struct("WsConnect").field("url", url).finish(),
            Self::WsText(text) => match voice_proto::VoiceMessage::from_text(text) {
                Ok((message, _)) => f.debug_tuple("WsText").field(&message).finish(),
                Err(_) => write!(f, "WsText(<{} bytes, not a voice message>)", text.len()),
            },
            Self::WsBinary(bytes) => f.debug_tuple("WsBinary").field(bytes).finish(),
            Self::WsClose { code } => f.debug_struct("WsClose").field("code", code).finish(),
            Self::UdpConnect { server } => f
                .debug_struct("UdpConnect")
                .field("server", server)
                .finish(),
            Self::Udp(bytes) => write!(f, "Udp(<{} bytes>)", bytes.len()),
        }
    }
}

/// Lifecycle of the connection, as reported to control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectionStatus {
    /// First connection in progress.
    Connecting,
    /// Keyed and flowing.
    Ready,
    /// Resuming the session after a drop.
    Resuming,
    /// Identifying afresh after a failure.
    Reconnecting,
    /// The session is gone: control must re-join through the main gateway
    /// (new voice state / stream watch) and connect again.
    RejoinRequired,
    /// Stopped for good (bad token, rate limit, retries exhausted, ...).
    Failed,
    /// Ended normally (closed, kicked, call or stream ended).
    Disconnected,
}

impl ConnectionStatus {
    /// True once the connection will not try again on its own.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::RejoinRequired | Self::Failed | Self::Disconnected
        )
    }
}

/// The keyed media session, as negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaInfo {
    /// Own audio SSRC.
    pub ssrc: u32,
    /// Video layers allocated in READY (stream connections).
    pub streams: Vec<StreamDescriptor>,
    /// Transport mode in use.
    pub mode: CryptoMode,
    /// Video codec the server asked for, if any.
    pub video_codec: Option<String>,
    /// DAVE protocol version of the session (0 = transport crypto only).
    pub dave_protocol_version: u16,
}

/// Something that happened, for the shell.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The status changed.
    Status {
        /// New status.
        status: ConnectionStatus,
        /// Why, snake_case.
        reason: String,
        /// The close code that caused it, if any.
        close_code: Option<u16>,
    },
    /// The media session is keyed (after Identify; not after a resume).
    MediaReady(MediaInfo),
    /// The session was resumed; UDP and keys are unchanged.
    Resumed,
    /// A decrypted RTP packet (header + payload, padding included).
    Rtp(Vec<u8>),
    /// A decrypted RTCP compound packet.
    Rtcp(Vec<u8>),
    /// A user's speaking state (from op 5 or audio arrival).
    Speaking {
        /// The user, if known.
        user_id: Option<UserId>,
        /// Audio SSRC.
        ssrc: u32,
        /// Speaking now.
        speaking: bool,
    },
    /// Op 12: a user's video state.
    Video(Video),
    /// Op 11: users present/joining.
    ClientsConnect(Vec<UserId>),
    /// Op 13: a user left.
    ClientDisconnect(UserId),
    /// A binary DAVE message from the server.
    Dave(DaveBinary),
    /// Any other server message (DAVE JSON ops, op 15, ...).
    Message(VoiceMessage),
}

/// Counters of dropped or notable input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Text/binary frames that did not parse.
    pub malformed_messages: u64,
    /// Datagrams dropped (undecryptable, before keying, ...).
    pub dropped_datagrams: u64,
    /// RTP packets delivered.
    pub rtp_packets: u64,
    /// RTCP packets delivered.
    pub rtcp_packets: u64,
    /// Resumes completed.
    pub resumes: u64,
    /// Fresh identifies after the first.
    pub reconnects: u64,
    /// Heartbeats without an ACK in time.
    pub missed_acks: u64,
    /// Last heartbeat round trip.
    pub last_rtt: Option<Duration>,
}

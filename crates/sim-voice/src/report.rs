//! What the server saw, for the admin API and tests.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::RoomId;

/// Snapshot of a server (refreshed by the server task at most every few
/// tens of milliseconds and on every WebSocket event).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServerReport {
    /// `VoiceServerConfig::name`.
    pub name: String,
    /// `host:port` of the WebSocket listener.
    pub endpoint: String,
    /// Port of the UDP media socket.
    pub udp_port: u16,
    /// Between `Fault::Crash` and `Fault::Restart`.
    pub crashed: bool,
    /// WebSocket connections accepted since start.
    pub ws_connections_total: u64,
    /// Text or binary frames that did not decode.
    pub malformed_ws_messages: u64,
    /// Datagrams that were dropped: undecryptable, unparsable or from an
    /// unknown address.
    pub dropped_datagrams: u64,
    /// Live and resumable sessions.
    pub sessions: Vec<SessionReport>,
    /// Rooms with simulated participants or sessions.
    pub rooms: Vec<RoomReport>,
}

/// One client session (one user on one room).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SessionReport {
    /// Room (server id).
    pub room: RoomId,
    /// The client's user id.
    pub user_id: u64,
    /// Main-gateway session id it identified with.
    pub session_id: String,
    /// Voice gateway version of the current (or last) connection.
    pub gateway_version: u8,
    /// A WebSocket is attached (false = waiting for a resume).
    pub connected: bool,
    /// Successful resumes (op 7 → op 9).
    pub resumes: u32,
    /// Audio SSRC handed out in Ready.
    pub ssrc: u32,
    /// Video SSRCs handed out in Ready `streams`.
    pub video_ssrcs: Vec<u32>,
    /// Client address learned from IP discovery (or op 1).
    pub udp_addr: Option<String>,
    /// Negotiated transport-encryption mode.
    pub mode: Option<String>,
    /// Codec names the client declared in op 1 / op 14.
    pub codecs: Vec<String>,
    /// Count of received ops by opcode number (text and binary).
    pub ops_received: BTreeMap<u8, u64>,
    /// Close codes the server sent to this session.
    pub close_codes_sent: Vec<u16>,
    /// RTP packets received and decrypted.
    pub rtp_received: u64,
    /// RTCP packets received and decrypted.
    pub rtcp_received: u64,
    /// Datagrams from this client that failed decryption or parsing.
    pub decrypt_failures: u64,
    /// SSRCs seen in the client's RTP, with packet counts.
    pub rtp_ssrcs: BTreeMap<u32, u64>,
    /// Payload types seen in the client's RTP.
    pub payload_types: Vec<u8>,
    /// Media datagrams sent to the client.
    pub packets_sent: u64,
    /// NACKed sequence numbers received from the client.
    pub nacked: u64,
    /// RTX packets sent in answer to NACKs.
    pub rtx_sent: u64,
    /// PLI/FIR received from the client.
    pub keyframe_requests: u64,
    /// Access units the client published that decoded.
    pub published_frames: u64,
    /// Current video layer `(width, height)` per watched user.
    pub layers: BTreeMap<u64, (u32, u32)>,
    /// Last Media Sink Wants received, as JSON.
    pub sink_wants: Option<String>,
}

/// One room.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RoomReport {
    /// Room (server id).
    pub room: RoomId,
    /// `"voice"`, `"stream"` or `"unknown"` (participants added before any
    /// grant).
    pub kind: String,
    /// Simulated participants.
    pub participants: Vec<ParticipantReport>,
}

/// One simulated participant.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ParticipantReport {
    /// Its user id.
    pub user_id: u64,
    /// Audio SSRC (if it has audio).
    pub audio_ssrc: Option<u32>,
    /// Video SSRC (if it has video).
    pub video_ssrc: Option<u32>,
    /// Speaking now.
    pub speaking: bool,
    /// Video frames encoded (all layers).
    pub frames_encoded: u64,
    /// Keyframes forced by PLI/FIR or layer switches.
    pub keyframes_forced: u64,
}

/// A frame a client published, decoded and re-encoded as JPEG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedFrame {
    /// JPEG bytes.
    pub jpeg: Vec<u8>,
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
    /// RTP timestamp of the access unit.
    pub rtp_timestamp: u32,
    /// Wall-clock receive time.
    pub received_at_unix_ms: u64,
}

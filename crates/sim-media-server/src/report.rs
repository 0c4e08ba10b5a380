//! What the server saw, for the admin API and tests.

use std::collections::BTreeMap;

use serde::Serialize;
use voice_proto::Secret;

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
    /// The recorder of client audio (`recordings()`).
    pub recorder: crate::recorder::RecorderReport,
}

/// One client session (one user on one room).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SessionReport {
    /// Room (server id).
    pub room: RoomId,
    /// The client's user id.
    pub user_id: u64,
    /// Main-gateway session id it identified with (serialized in full for
    /// the admin report, redacted by `Debug`).
    pub session_id: Secret,
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
    /// Audio packets accepted on the session's SSRC with its Opus payload
    /// type (forwarded and recorded).
    pub audio_received: u64,
    /// Packets on the audio SSRC with another payload type than the
    /// client's declared Opus one: dropped.
    pub audio_dropped_bad_payload_type: u64,
    /// RTP on an SSRC the client never announced (not its Ready/op 5
    /// audio SSRC, not an op 12 / Ready video or RTX SSRC): dropped.
    pub rtp_dropped_unknown_ssrc: u64,
    /// DAVE audio frames from the client decrypted for the recorder.
    pub audio_dave_decrypted: u64,
    /// DAVE audio frames nobody in the room could decrypt: not recorded.
    pub audio_dave_failures: u64,
    /// Audio frames without a DAVE trailer from a DAVE session (silence
    /// frames, or a sender not ready yet): recorded as they came.
    pub audio_dave_passthrough: u64,
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
    /// RTCP sender reports (PT 200) received from the client, on any of
    /// its SSRCs (user docs: one about every 5 s per sent media SSRC).
    pub sender_reports_received: u64,
    /// Published video packets without the playout-delay extension (id 6,
    /// 3 bytes), which the user docs say Discord expects on video.
    pub video_without_playout_delay: u64,
    /// Sequence numbers of published video the server NACKed.
    pub publish_nacked: u64,
    /// RTX packets received from the publisher (RTX SSRC and payload type
    /// as announced).
    pub publish_rtx_received: u64,
    /// RTX packets that filled a NACKed hole.
    pub publish_rtx_repaired: u64,
    /// Holes in published video given up on (never repaired).
    pub publish_lost: u64,
    /// Packets on the RTX SSRC with a payload type that is not the
    /// client's declared RTX type (dropped).
    pub publish_bad_rtx: u64,
    /// Size `(width, height)` of the largest video layer forwarded to
    /// this client now, per simulated user.
    pub layers: BTreeMap<u64, (u32, u32)>,
    /// The layer SSRCs of each simulated user's video that this client
    /// gets now (its op 15 asks for them and they started on a keyframe),
    /// ascending.
    pub forwarded_video: BTreeMap<u64, Vec<u32>>,
    /// Video frames of simulated participants sent to this client, per
    /// layer SSRC and codec.
    pub video_frames_sent: BTreeMap<u32, CodecFrames>,
    /// Last Media Sink Wants received, as JSON.
    pub sink_wants: Option<String>,
    /// `max_dave_protocol_version` from the client's Identify.
    pub dave_max_protocol_version: u16,
    /// `dave_protocol_version` answered in op 4 (0 = transport-only).
    pub dave_protocol_version: u16,
    /// MLS group the session belongs to (voice channel id, or
    /// `rtc_server_id - 1` on stream rooms); `None` without DAVE.
    pub dave_group_id: Option<u64>,
    /// Epoch of that group as the server's external sender tracks it
    /// (0 = no group established yet).
    pub dave_epoch: u64,
    /// The user is in the group's roster (joined by commit or welcome).
    pub dave_in_group: bool,
    /// DAVE messages sent to the client, by opcode (21–30).
    pub dave_ops_sent: BTreeMap<u8, u64>,
    /// DAVE messages from the client the external sender refused (bad key
    /// package, invalid commit, DAVE not negotiated, malformed frame).
    pub dave_errors: u64,
    /// The last such refusal, for diagnosis.
    pub dave_last_error: Option<String>,
    /// Commits from the client that lost the "first commit of the epoch
    /// wins" race (benign: not counted in `dave_errors`).
    pub dave_lost_commit_races: u64,
    /// Media frames of simulated participants sent to this client
    /// DAVE-encrypted (audio frames and video access units).
    pub dave_encrypted_frames_sent: u64,
    /// Media frames of DAVE participants sent to this DAVE client
    /// unencrypted because the sender was not ready yet (passthrough).
    pub dave_passthrough_frames_sent: u64,
    /// Published access units decrypted before decoding.
    pub dave_published_decrypted: u64,
    /// Published access units that were not DAVE-framed (decoded as is).
    pub dave_published_passthrough: u64,
    /// Published DAVE access units no simulated member could decrypt
    /// (dropped).
    pub dave_published_failures: u64,
}

/// Frames of one stream by codec.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CodecFrames {
    /// H.264 access units.
    pub h264: u64,
    /// VP8 frames.
    pub vp8: u64,
}

/// One simulcast layer of a simulated participant, as op 12 announces it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LayerReport {
    /// Primary SSRC.
    pub ssrc: u32,
    /// RTX SSRC.
    pub rtx_ssrc: u32,
    /// Quality 0–100 (also its `rid`).
    pub quality: u8,
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
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
    /// MLS group id of the room when the server runs DAVE.
    pub dave_group_id: Option<u64>,
    /// The group's epoch (0 = not established).
    pub dave_epoch: u64,
    /// The group's protocol version.
    pub dave_protocol_version: u16,
    /// Users in the group's roster, in leaf order.
    pub dave_members: Vec<u64>,
    /// Users connected to the group (recognised), ascending.
    pub dave_connected: Vec<u64>,
    /// Commits the external sender accepted.
    pub dave_commits_accepted: u64,
}

/// One simulated participant.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ParticipantReport {
    /// Its user id.
    pub user_id: u64,
    /// Audio SSRC (if it has audio).
    pub audio_ssrc: Option<u32>,
    /// Primary video SSRC, the highest layer's (if it has video).
    pub video_ssrc: Option<u32>,
    /// Its simulcast layers, highest quality first.
    pub video_layers: Vec<LayerReport>,
    /// Speaking now.
    pub speaking: bool,
    /// Video frames encoded (all layers).
    pub frames_encoded: u64,
    /// Keyframes forced by PLI/FIR or layer switches.
    pub keyframes_forced: u64,
    /// The participant is an MLS member client (`ParticipantSpec::dave` on
    /// a DAVE server).
    pub dave: bool,
    /// Its MLS epoch (`None` without a session, 0 while pending).
    pub dave_epoch: Option<u64>,
    /// It encrypts its media now.
    pub dave_can_encrypt: bool,
    /// Frames it DAVE-encrypted (audio frames plus video access units per
    /// layer).
    pub dave_encrypted_frames: u64,
    /// Frames it sent unencrypted while its group was not ready.
    pub dave_passthrough_frames: u64,
    /// Frames whose encryption failed (dropped for DAVE receivers).
    pub dave_encrypt_failures: u64,
    /// Op 31s it sent (failed commit or welcome).
    pub dave_commit_failures: u64,
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

/// When the server handed the first packet of a generated video frame to
/// a receiver (before network emulation), for latency measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentFrame {
    /// The receiving user.
    pub receiver: u64,
    /// Video SSRC.
    pub ssrc: u32,
    /// RTP timestamp of the frame.
    pub rtp_timestamp: u32,
    /// When it was sent.
    pub sent_at: std::time::Instant,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The admin report carries the session id a client identified with
    /// (tests match sessions by it); `Debug` shows only its tail.
    #[test]
    fn session_id_is_serialized_but_never_debug_printed() {
        let report = SessionReport {
            session_id: Secret::new("main-session-0123456789abcdef"),
            ..SessionReport::default()
        };
        let json = serde_json::to_value(&report).expect("report JSON");
        assert_eq!(json["session_id"], "main-session-0123456789abcdef");
        let printed = format!("{report:?}");
        assert!(
            !printed.contains("main-session-0123456789abcdef"),
            "{printed}"
        );
        assert!(printed.contains("cdef"), "{printed}");
    }
}

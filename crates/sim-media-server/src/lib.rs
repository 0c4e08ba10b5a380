//! Offline Discord voice and Go Live media servers for the simulator
//! (`discord-sim`). Each [`start`]ed server speaks the real protocols on
//! loopback, so the project's media daemon and independent clients
//! (songbird) connect to it unmodified:
//!
//! * voice gateway WebSocket, versions 4, 8 and 9 (`?v=N`): Hello first,
//!   Identify accepted before or after it, Ready (with `streams[]` SSRCs
//!   for stream rooms and video identifies), Select Protocol → Session
//!   Description, heartbeats (ack shaped per version; close 4009 after two
//!   missed intervals), `seq` on replayable messages (v8+), Resume (op 7)
//!   with replay of the messages after `seq_ack`, op 5/11/12/13
//!   announcements of who is in the room;
//! * UDP on one socket for all rooms: IP discovery, the UDP ping, strict
//!   rtpsize AEAD transport encryption for RTP and RTCP (via
//!   `voice-crypto`), NACK → RTX from a per-stream history, PLI/FIR →
//!   keyframe, RTCP sender reports every 5 s;
//! * simulated participants (`sim-content` screen/camera H264 or VP8, or
//!   both by turns on one SSRC, and Opus) and SFU forwarding of what
//!   clients publish, with per-receiver payload types (from each
//!   receiver's op 1 codecs) and per-receiver sequence numbers. A
//!   participant's simulcast layers are announced in op 12 `streams[]`,
//!   one entry per layer with its own `ssrc`/`rtx_ssrc`, `rid`, `quality`
//!   and `max_resolution` (user-docs' model); each receiver gets the layer
//!   SSRCs its op 15 wants above 0 (top-level SSRC keys, `any` for the
//!   rest, everything before any op 15), starting on a keyframe, and none
//!   it set to 0. A nested `streams` object in op 15 is not read (see
//!   `voice_proto::MediaSinkWants`); `pixelCounts` does not pick layers;
//! * DAVE (`VoiceServerConfig::dave`): clients whose Identify allows it get
//!   `dave_protocol_version` 1 in op 4 and take part in their room's MLS
//!   group, run by `sim-dave` as Discord's external sender (op 25, op 26
//!   → op 27, op 28 → op 29/op 30, op 21/22/23 transitions, op 24, op 31
//!   recovery, removal of leavers). Group id = voice channel id, or
//!   `rtc_server_id - 1` for stream rooms. Binary ops carry the v8 `seq`
//!   prefix from the JSON counter and are replayed on resume like JSON.
//!   Participants with `ParticipantSpec::dave` join the same group as
//!   in-process `SimMember`s and DAVE-encrypt their Opus frames and H264
//!   access units (before packetization) once their sender key is live,
//!   unencrypted (passthrough) before;
//! * client-published H264 decoded and re-encoded as JPEG
//!   ([`VoiceServerHandle::published_frames`]), DAVE-framed access units
//!   first decrypted by a simulated member of the room's group;
//! * spoken lines ([`VoiceServerHandle::say`]): espeak-ng speech encoded
//!   by libopus (20 ms stereo), sent as the participant's audio: op 5
//!   Speaking (microphone) to the room first, the packets from the next
//!   frame period on (each receiver's Opus payload type, DAVE-encrypted for
//!   DAVE receivers once the participant's key is live), the five silence
//!   frames, then op 5 `speaking: 0`;
//! * client audio: accepted only on the session's audio SSRC with the Opus
//!   payload type it declared (others dropped and counted:
//!   `audio_dropped_bad_payload_type`, `rtp_dropped_unknown_ssrc`),
//!   DAVE-decrypted by a simulated member of the room when the session
//!   runs DAVE, and recorded per utterance ([`VoiceServerHandle::recordings`],
//!   [`VoiceServerHandle::recording_wav`]): decoded to 48 kHz mono on the
//!   recorder's own thread, cut at the first silence frame, a gap of more
//!   than 300 ms or op 5 `speaking: 0`; at most 10 minutes are kept, the
//!   oldest dropped and counted (`report().recorder`);
//! * faults on demand ([`Fault`]): close codes, crash/restart on the same
//!   ports, seeded netem, RTP padding incl. all-padding packets, handshake
//!   delays.
//!
//! # How to drive it
//! `start(VoiceServerConfig::default()).await?` on a tokio runtime, hand
//! [`VoiceServerHandle::endpoint`] to clients in VOICE_SERVER_UPDATE /
//! STREAM_SERVER_UPDATE, and [`VoiceServerHandle::grant`] each client's
//! (room, user, session id, token) before it connects. Rooms exist
//! implicitly: a grant names the room's kind, participants can be added
//! at any time. [`VoiceServerHandle::report`] shows what the server saw.
//!
//! # Design
//! All protocol logic lives in a socket-free state machine (`core`): the
//! shell feeds it frames, datagrams, commands and the time, and executes
//! its outputs. One server task owns it — rooms are plain data inside it —
//! so there is no locking on the media path and every decision (SSRCs,
//! keys, injected message order, netem) follows one seeded generator. The
//! SFU rewrites sequence numbers of simulated streams per receiver (each
//! layer is its own stream, started for a receiver on one of its
//! keyframes), while forwarded client streams keep their sequence numbers
//! so real loss stays visible to the receiver's NACKs.
//!
//! Buffers are bounded: replay buffer 512 messages per session, RTX
//! history 512 packets per stream, 1024 queued frames per WebSocket, 1 MiB
//! WebSocket messages, 32 published frames per user.
//!
//! DAVE messages are delivered in the gateway's order: to clients over
//! their WebSocket, to simulated members directly (their replies go back
//! to the gateway in the same turn). Op 11/op 13 for clients come from the
//! room announcements, which always precede the user's DAVE connection.
//!
//! # Not implemented
//! The WebRTC flavour of op 1 is refused with 4012. A connection that has
//! not sent op 12 gets no video; Discord would also disconnect it ("Invalid
//! SSRC") once it sends or receives video, which is not simulated. DAVE
//! simplifications: a client that does not offer DAVE on a DAVE server is
//! closed with 4017 at Identify (Discord may instead downgrade a call;
//! never simulated); no downgrade/upgrade is ever initiated; published
//! DAVE video decodes only if the room has a DAVE participant (the server
//! itself is no MLS member); bad DAVE messages are refused and counted in
//! the report (`dave_errors`), never answered with a close. Client DAVE
//! audio is recorded only if the room has a DAVE participant (the same
//! reason); frames nobody can decrypt are counted (`audio_dave_failures`).
//! Only the voice server's recordings are on the admin API (the Go Live
//! server records too, but nobody speaks there).

mod config;
mod core;
mod egress;
mod error;
mod handle;
mod netem;
mod participant;
mod publish;
mod recorder;
mod recorder_thread;
mod replay;
mod report;
mod shared;
mod shell;

pub use config::{
    Fault, ParticipantSpec, RoomId, RoomKind, SessionGrant, VideoCodecSpec, VideoKind, VideoSpec,
    VoiceServerConfig,
};
pub use error::SimVoiceError;
pub use handle::{SayOutcome, VoiceServerHandle, start};
pub use recorder::{
    EndReason, GAP_END, MAX_TOTAL_SECONDS, MAX_UTTERANCE, RECORDING_RATE, RecorderReport,
    RecordingInfo,
};
pub use report::{
    CodecFrames, LayerReport, ParticipantReport, PublishedFrame, RoomReport, SentFrame,
    ServerReport, SessionReport,
};

//! A sans-IO client for one Discord voice-server connection: the voice
//! gateway WebSocket and the UDP media session behind it, as one state
//! machine.
//!
//! [`VoiceConnection`] owns no socket and reads no clock. The shell (a
//! tokio task in `mediad`, one per transport role) drives it:
//!
//! 1. feed what happened: [`VoiceConnection::handle_input`] with an
//!    [`Input`] (WebSocket opened/failed/text/binary/closed, a UDP
//!    datagram), and [`VoiceConnection::handle_timeout`] when the deadline
//!    from [`VoiceConnection::poll_timeout`] passes;
//! 2. after every call, drain [`VoiceConnection::poll_transmit`] (open a
//!    WebSocket, send a frame, close it, point the UDP socket at the media
//!    server, send a datagram) and [`VoiceConnection::poll_event`] (status
//!    changes, decrypted RTP/RTCP, speaking, video announcements).
//!
//! # What it does
//! * Identifies per role ([`Role`]): a voice connection uses the guild as
//!   `server_id`; Go Live stream connections use the stream's
//!   `rtc_server_id`, `video: true` and the screen stream entry.
//! * Gateway v8: tracks the last envelope `seq` seen (JSON and binary
//!   frames; the counter wraps, so the last, not the highest) and sends it
//!   as `seq_ack` in heartbeats and Resume. Heartbeats every HELLO
//!   interval; a heartbeat still un-ACKed when the next is due marks the
//!   connection a zombie: it is closed and resumed.
//! * Close-code policy ([`voice_proto::CloseCode::action`]): resume on
//!   4015 and every code below 4000, 1000/1001 included (UDP, keys and
//!   SSRCs are kept), ask control to re-join on 4006/4009, re-identify on
//!   client-bug codes (bounded), stop on 4014/4017/4021/4022 and the other
//!   final codes. Every change is an
//!   [`Event::Status`] with a reason and the close code.
//! * Op 12: every connection, whatever its role, sends an inactive op 12
//!   (`video_ssrc` 0, no streams) right after its op 1, because the server
//!   sends video only to connections that have sent one.
//! * UDP: IP discovery (retried; any answer is taken, whatever SSRC it
//!   echoes), SELECT_PROTOCOL with Opus, H264 + RTX
//!   and VP8 + RTX, the mode preference of `voice-crypto` (AES-GCM rtpsize,
//!   then XChaCha rtpsize), a keepalive every 5 s, RTCP receiver reports
//!   every 5 s from per-SSRC receive statistics, PLI/FIR and NACK builders
//!   ([`VoiceConnection::request_keyframe`], [`VoiceConnection::send_nack`]),
//!   and decryption of everything received ([`Event::Rtp`], [`Event::Rtcp`]).
//!   RTX unwrapping, reordering and decoding belong to the per-stream
//!   receivers the shell runs off this task (`video-receiver`).
//! * Speaking: op 5 from the server and audio RTP arrival per SSRC (with a
//!   silence timeout) become [`Event::Speaking`].
//!
//! # Errors
//! Bad input never panics: malformed gateway messages and undecryptable
//! datagrams are counted ([`VoiceConnection::counters`]) and dropped.
//! [`VoiceSessionError`] is returned only for misuse of the API (sending
//! media before the session is keyed).

mod config;
mod connection;
mod error;
mod interface;
mod media;
mod speaking;

#[cfg(test)]
mod tests;

pub use config::{
    ConnectionConfig, H264_PT, H264_RTX_PT, OPUS_PT, Role, VP8_PT, VP8_RTX_PT, default_codecs,
};
pub use connection::VoiceConnection;
pub use error::VoiceSessionError;
pub use interface::{ConnectionStatus, Counters, Event, Input, MediaInfo, Transmit};
pub use speaking::{SpeakingChange, SpeakingTracker};

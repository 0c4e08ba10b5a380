//! Transport slots: one task per role (voice, stream_watch,
//! stream_publish), each a thin tokio shell around a sans-IO
//! [`voice_session::VoiceConnection`], with video decoding on dedicated
//! threads ([`video`]).
//!
//! # Invariants
//! * A slot owns its WebSocket, its UDP socket and its timers; slots share
//!   nothing, so one failing or reconnecting never disturbs another.
//! * Nothing reaching a slot grows without bound: its inbound commands
//!   travel on lanes split by kind, each bounded with its own policy when
//!   full ([`lanes`]: stop always delivered, state as the newest value,
//!   media drop-oldest and counted, an utterance that does not fit fails).
//! * The slot task never decodes, scales or JPEG-encodes: it decrypts,
//!   routes RTP to the per-stream worker thread with a bounded, non-blocking
//!   hand-off (full ⇒ the packet is dropped and counted, NACK recovers it),
//!   and sends what the workers ask for (NACK, PLI).
//! * Every status change reaches the supervisor as a
//!   [`TransportEvent::Status`]; frames use a bounded channel with
//!   `try_send`, so a slow supervisor or control drops frames, never stalls
//!   a socket.
//! * Voice audio is paced, encoded and DAVE-encrypted on the `voice-send`
//!   thread and heard (DAVE-decrypted, decoded, VAD, segmented) on the
//!   `voice-listen` thread ([`voice`]); the slot only seals, sends and
//!   hands received audio RTP over without waiting.
//! * Events carry the slot's generation: after a slot is replaced, late
//!   events of the old one are ignored by the supervisor.

mod dave;
mod lanes;
mod publish;
mod slot;
mod video;
mod voice;
mod voice_listen;
mod voice_send;

pub use lanes::{Refused, SlotCmd};
pub use slot::{PublishSettings, SlotHandle, spawn_slot};

use ipc_schema::{
    DecodedVideoFrame, PlaybackEvent, Speaking, TransportRole, TransportState, TransportStats,
    UserId, UserSpeech, UserUtterance, UserVideoState,
};

/// Something a slot reports.
#[derive(Debug)]
pub enum TransportEvent {
    /// Lifecycle change.
    Status(TransportState),
    /// Op 12: a user's video state on this connection.
    UserVideo(UserVideoState),
    /// A user's video ended.
    UserVideoEnd {
        /// Who.
        user_id: UserId,
        /// Which SSRC ended, if known.
        ssrc: Option<ipc_schema::Ssrc>,
    },
    /// A decoded, gated, scaled JPEG frame.
    Frame(DecodedVideoFrame),
    /// Speaking activity.
    Speaking(Speaking),
    /// Counters, sent periodically.
    Stats(TransportStats),
    /// An utterance's playback state (voice sender thread).
    Playback(PlaybackEvent),
    /// Voice activity of a user (voice listener thread).
    UserSpeech(UserSpeech),
    /// A finished utterance of a user (voice listener thread).
    UserUtterance(UserUtterance),
}

/// A [`TransportEvent`] with its origin.
#[derive(Debug)]
pub struct TransportMsg {
    /// The slot's role.
    pub role: TransportRole,
    /// The slot's generation.
    pub generation: u64,
    /// What happened.
    pub event: TransportEvent,
}

//! The public handle discord-sim drives.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, oneshot};

use crate::config::RoomId as Room;
use crate::config::{Fault, ParticipantSpec, RoomId, SessionGrant, VoiceServerConfig};
use crate::core::{Command, SayError};
use crate::error::SimVoiceError;
use crate::recorder::RecordingInfo;
use crate::report::{PublishedFrame, ServerReport};
use crate::shared::Shared;
use crate::shell::{self, ShellMsg};

/// A line accepted by [`VoiceServerHandle::say`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SayOutcome {
    /// Room.
    pub room: Room,
    /// Speaker.
    pub user_id: u64,
    /// The speaker's audio SSRC.
    pub ssrc: u32,
    /// Opus packets (20 ms each).
    pub packets: usize,
    /// Length of the line: packets × 20 ms (the silence tail not included).
    pub duration_ms: u64,
    /// When its first packet goes out, from now (one frame period, plus
    /// lines still playing ahead of it).
    pub starts_in_ms: u64,
}

/// Starts a media server: binds a WebSocket listener and a UDP socket on
/// `config.bind_ip` (OS-chosen ports) and spawns its tasks on the current
/// tokio runtime.
///
/// # Errors
/// [`SimVoiceError::Bind`] if a socket cannot be bound.
pub async fn start(config: VoiceServerConfig) -> Result<VoiceServerHandle, SimVoiceError> {
    let (tx, endpoint, shared, tls) = shell::start(config).await?;
    Ok(VoiceServerHandle {
        inner: Arc::new(Inner {
            tx,
            endpoint,
            shared,
            tls,
        }),
    })
}

struct Inner {
    tx: mpsc::UnboundedSender<ShellMsg>,
    endpoint: String,
    shared: Arc<Mutex<Shared>>,
    tls: sim_tls::SimTls,
}

/// Controls one running media server. Cheap to clone; commands are applied
/// in the order they are issued, before any later WebSocket event.
#[derive(Clone)]
pub struct VoiceServerHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for VoiceServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceServerHandle")
            .field("endpoint", &self.inner.endpoint)
            .finish_non_exhaustive()
    }
}

impl VoiceServerHandle {
    fn command(&self, c: Command) {
        // After shutdown there is nobody to tell; that is not an error for
        // fire-and-forget commands.
        let _ = self.inner.tx.send(ShellMsg::Command(c));
    }

    /// `"127.0.0.1:PORT"`: what VOICE_SERVER_UPDATE / STREAM_SERVER_UPDATE
    /// carry as `endpoint` (host:port, no scheme, as Discord's; clients
    /// connect to `wss://endpoint/?v=N`).
    pub fn endpoint(&self) -> String {
        self.inner.endpoint.clone()
    }

    /// The certificate authority the WebSocket's certificate chains to
    /// (clients add [`sim_tls::SimTls::ca_file`] to their trusted roots).
    pub fn tls(&self) -> &sim_tls::SimTls {
        &self.inner.tls
    }

    /// Allows one client to identify: token, server_id, user_id and
    /// session_id must match its op 0 / op 7.
    pub fn grant(&self, grant: SessionGrant) {
        self.command(Command::Grant(grant));
    }

    /// Revokes the grant and closes any session of this user on this room
    /// with `close_code` (default 4014).
    pub fn revoke(&self, room: RoomId, user_id: u64, close_code: Option<u16>) {
        self.command(Command::Revoke {
            room,
            user_id,
            close_code,
        });
    }

    /// Adds a simulated participant (replacing one with the same user id),
    /// announced with op 11 / op 12 to the room.
    pub fn add_participant(&self, room: RoomId, p: ParticipantSpec) {
        self.command(Command::AddParticipant(room, p));
    }

    /// Removes a simulated participant (op 13 to the room).
    pub fn remove_participant(&self, room: RoomId, user_id: u64) {
        self.command(Command::RemoveParticipant(room, user_id));
    }

    /// Speaking on/off for a participant: Opus packets while on, op 5 to
    /// the others on every change.
    pub fn set_speaking(&self, room: RoomId, user_id: u64, speaking: bool) {
        self.command(Command::SetSpeaking(room, user_id, speaking));
    }

    /// A simulated participant says `text`: espeak-ng → 48 kHz → Opus
    /// (20 ms stereo packets, on a blocking thread), then op 5 Speaking
    /// (microphone) to the room, the packets on the participant's audio
    /// SSRC with each receiver's Opus payload type (DAVE-encrypted for DAVE
    /// receivers once the participant's key is ready), the five silence
    /// frames and op 5 `speaking: 0`. Lines said while one plays are
    /// queued after it.
    ///
    /// # Errors
    /// [`SimVoiceError::BadLine`] for unspeakable text,
    /// [`SimVoiceError::Speech`] when synthesis fails, and those of
    /// [`VoiceServerHandle::say_opus`].
    pub async fn say(
        &self,
        room: RoomId,
        user_id: u64,
        text: &str,
    ) -> Result<SayOutcome, SimVoiceError> {
        sim_content::check_line_text(text).map_err(|e| SimVoiceError::BadLine(e.to_string()))?;
        let text = text.to_owned();
        let packets = tokio::task::spawn_blocking(move || {
            let pcm = sim_content::synthesize(&text, &sim_content::SpeechVoice::default())?;
            sim_content::encode_line(&pcm)
        })
        .await
        .map_err(|e| SimVoiceError::Speech(e.to_string()))?
        .map_err(|e| {
            if e.is_config_error() {
                SimVoiceError::BadLine(e.to_string())
            } else {
                SimVoiceError::Speech(e.to_string())
            }
        })?;
        self.say_opus(room, user_id, packets).await
    }

    /// [`VoiceServerHandle::say`] with ready-made 20 ms Opus packets.
    ///
    /// # Errors
    /// [`SimVoiceError::NoParticipant`], [`SimVoiceError::NoAudio`],
    /// [`SimVoiceError::BadLine`] (no packets), [`SimVoiceError::Stopped`].
    pub async fn say_opus(
        &self,
        room: RoomId,
        user_id: u64,
        packets: Vec<Vec<u8>>,
    ) -> Result<SayOutcome, SimVoiceError> {
        let (reply, rx) = oneshot::channel();
        self.inner
            .tx
            .send(ShellMsg::Say {
                room,
                user_id,
                packets,
                reply,
            })
            .map_err(|_| SimVoiceError::Stopped)?;
        let started = rx.await.map_err(|_| SimVoiceError::Stopped)?;
        match started {
            Ok(s) => Ok(SayOutcome {
                room,
                user_id,
                ssrc: s.ssrc,
                packets: s.packets,
                duration_ms: s.duration_ms,
                starts_in_ms: s.starts_in_ms,
            }),
            Err(SayError::NoParticipant) => Err(SimVoiceError::NoParticipant {
                room: room.0,
                user_id,
            }),
            Err(SayError::NoAudio) => Err(SimVoiceError::NoAudio(user_id)),
            Err(SayError::Empty) => Err(SimVoiceError::BadLine("no packets".into())),
        }
    }

    /// Finished utterances of clients, oldest first (at most 10 minutes of
    /// audio in total; older ones are dropped and counted in
    /// `report().recorder.evicted`).
    pub fn recordings(&self) -> Vec<RecordingInfo> {
        self.inner
            .shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recordings
            .list()
    }

    /// One recording as a 48 kHz mono 16-bit WAV file.
    pub fn recording_wav(&self, id: u64) -> Option<Vec<u8>> {
        self.inner
            .shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recordings
            .wav(id)
    }

    /// Forgets every finished recording; returns how many there were.
    pub fn clear_recordings(&self) -> usize {
        let mut s = self
            .inner
            .shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let n = s.recordings.clear();
        s.recorder.stored_ms = 0;
        n
    }

    /// Fault injection.
    pub fn inject(&self, fault: Fault) {
        self.command(Command::Fault(fault));
    }

    /// What the server saw (a snapshot at most ~50 ms old while media
    /// flows, fresh after every WebSocket event).
    pub fn report(&self) -> ServerReport {
        let s = self
            .inner
            .shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut r = s.report.clone();
        r.recorder = s.recorder;
        r
    }

    /// Frames a client published on a room, decoded to JPEG, newest last
    /// (at most 32, at most ~10 per second).
    pub fn published_frames(&self, room: RoomId, user_id: u64) -> Vec<PublishedFrame> {
        self.inner
            .shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .published
            .get(&(room, user_id))
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Generated video frames sent to receivers (first packet handed to
    /// the network emulation), oldest first, at most the last 8192.
    pub fn sent_frames(&self) -> Vec<crate::report::SentFrame> {
        self.inner
            .shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .sent
            .iter()
            .copied()
            .collect()
    }

    /// Stops everything (closes all sockets) and waits for the server task.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.inner.tx.send(ShellMsg::Shutdown(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

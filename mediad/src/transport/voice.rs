//! The voice slot's audio: what the slot does with control's utterances
//! and with received audio, kept out of `slot.rs`. Owns the sender and
//! listener threads ([`voice_send`](super::voice_send),
//! [`voice_listen`](super::voice_listen)) and the SSRC → user map of the
//! connection (from op 5 and op 12).

use std::collections::{BTreeMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::time::Instant;

use ipc_schema::{PlaybackEvent, PlaybackState, TransportRole, UtteranceId, VoicePlayChunk};
use tokio::sync::mpsc;
use voice_proto::{Speaking, SpeakingFlags, UserId, VoiceMessage};
use voice_session::VoiceConnection;

use super::dave::SharedDave;
use super::lanes::{AudioOut, SlotLanes, VoiceCmd};
use super::voice_listen::VoiceListener;
use super::voice_send::{SendSpec, VoiceSender};
use super::{TransportEvent, TransportMsg};

/// Most SSRC → user entries kept.
const MAX_USERS: usize = 256;

/// Audio of the voice slot.
pub(crate) struct VoiceAudio {
    role: TransportRole,
    generation: u64,
    /// The Opus payload type we declared in op 1.
    opus_pt: u8,
    dave: SharedDave,
    sender: Option<VoiceSender>,
    listener: Option<VoiceListener>,
    users: BTreeMap<u32, UserId>,
    /// Whether op 5 says we are speaking (re-sent on a new session).
    speaking: bool,
    /// Utterances already refused while not ready (one report each).
    refused: VecDeque<UtteranceId>,
    events: mpsc::Sender<TransportMsg>,
    slot: SlotLanes,
}

fn random_u32() -> u32 {
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish() as u32
}

impl VoiceAudio {
    pub(crate) fn new(
        role: TransportRole,
        generation: u64,
        codecs: &[voice_proto::CodecDescriptor],
        dave: SharedDave,
        events: mpsc::Sender<TransportMsg>,
        slot: SlotLanes,
    ) -> Self {
        // The Opus payload type we declare in op 1 (120 by default).
        let opus_pt = codecs
            .iter()
            .find(|c| c.kind == voice_proto::CodecKind::Audio)
            .map_or(voice_session::OPUS_PT, |c| c.payload_type);
        Self {
            role,
            generation,
            opus_pt,
            dave,
            sender: None,
            listener: None,
            users: BTreeMap::new(),
            refused: VecDeque::new(),
            speaking: false,
            events,
            slot,
        }
    }

    /// The media session is keyed with our audio `ssrc`: start the threads
    /// (once; a new session only changes the SSRC).
    pub(crate) fn on_media_ready(&mut self, conn: &mut VoiceConnection, ssrc: u32) {
        self.resend_speaking(conn);
        match &self.sender {
            Some(s) => s.set_ssrc(ssrc),
            None => {
                let spec = SendSpec {
                    role: self.role,
                    generation: self.generation,
                    ssrc,
                    payload_type: self.opus_pt,
                    dave: self.dave.clone(),
                    seq: random_u32() as u16,
                    timestamp: random_u32(),
                };
                match VoiceSender::spawn(spec, self.slot.clone(), self.events.clone()) {
                    Ok(s) => self.sender = Some(s),
                    Err(e) => tracing::error!(error = %e, "cannot start the voice sender"),
                }
            }
        }
        if self.listener.is_none() {
            match VoiceListener::spawn(
                self.role,
                self.generation,
                self.dave.clone(),
                self.events.clone(),
            ) {
                Ok(l) => self.listener = Some(l),
                Err(e) => tracing::error!(error = %e, "cannot start the voice listener"),
            }
        }
    }

    /// A user's audio SSRC (op 5 or op 12).
    pub(crate) fn map(&mut self, ssrc: u32, user: UserId) {
        if ssrc != 0 && (self.users.len() < MAX_USERS || self.users.contains_key(&ssrc)) {
            self.users.insert(ssrc, user);
        }
    }

    /// Op 12 names a user's audio SSRC.
    pub(crate) fn on_video(&mut self, v: &voice_proto::Video) {
        if let (Some(user), Some(audio)) = (v.user_id, v.audio_ssrc) {
            self.map(audio, user);
        }
    }

    /// A user left: their streams end (a running utterance is finished).
    pub(crate) fn user_gone(&mut self, user: UserId) {
        let gone: Vec<u32> = self
            .users
            .iter()
            .filter(|(_, u)| **u == user)
            .map(|(s, _)| *s)
            .collect();
        for ssrc in gone {
            self.users.remove(&ssrc);
            if let Some(l) = &self.listener {
                l.gone(ssrc);
            }
        }
    }

    /// The Opus payload type declared in op 1: packets of this type are
    /// audio (see `stream_plan::Route`).
    pub(crate) fn payload_type(&self) -> u8 {
        self.opus_pt
    }

    /// An RTP packet of payload type `pt`: taken (true) when it is audio.
    pub(crate) fn on_rtp(
        &mut self,
        pt: u8,
        ssrc: u32,
        packet: Vec<u8>,
        at: Instant,
    ) -> Option<Vec<u8>> {
        if pt != self.opus_pt {
            return Some(packet);
        }
        if let Some(l) = &self.listener {
            l.push(self.users.get(&ssrc).copied(), packet, at);
        }
        None
    }

    /// Remembers `id` as refused: its later chunks are dropped here (they
    /// would play with a hole). False if it already was.
    fn remember_refused(&mut self, id: UtteranceId) -> bool {
        if self.refused.contains(&id) {
            return false;
        }
        if self.refused.len() >= 32 {
            self.refused.pop_front();
        }
        self.refused.push_back(id);
        true
    }

    /// Reports `id` failed from here (the sender has none of it, or is
    /// gone), once.
    fn refuse(&mut self, id: UtteranceId, reason: String) {
        if !self.remember_refused(id) {
            return;
        }
        tracing::warn!(id = id.0, %reason, "voice playback refused");
        let msg = TransportMsg {
            role: self.role,
            generation: self.generation,
            event: TransportEvent::Playback(PlaybackEvent {
                id,
                state: PlaybackState::Failed(reason),
                played_ms: 0,
            }),
        };
        if self.events.try_send(msg).is_err() {
            tracing::warn!("supervisor busy; playback failure not reported");
        }
    }

    /// `id` cannot be completed: the sender stops what it has of it and
    /// reports it `Failed(reason)` once; its later chunks are dropped here.
    fn fail(&mut self, id: UtteranceId, reason: String) {
        if self.refused.contains(&id) {
            return;
        }
        match &self.sender {
            Some(s) if s.fail(id, reason.clone()) => {
                tracing::warn!(id = id.0, %reason, "voice playback fails");
                self.remember_refused(id);
            }
            _ => self.refuse(id, reason),
        }
    }

    /// A chunk to speak.
    pub(crate) fn play(&mut self, chunk: VoicePlayChunk) {
        let id = chunk.id;
        if self.refused.contains(&id) {
            return;
        }
        match &self.sender {
            Some(s) => {
                if let Err(reason) = s.chunk(chunk) {
                    self.fail(id, reason);
                }
            }
            None => self.refuse(
                id,
                "voice connection not ready (no media session yet)".into(),
            ),
        }
    }

    /// Barge-in.
    pub(crate) fn cancel(&mut self, id: UtteranceId) {
        if let Some(s) = &self.sender {
            s.cancel(id);
        }
    }

    /// The voice lane's commands (from control, in order).
    pub(crate) fn on_voice(&mut self, cmd: VoiceCmd) {
        match cmd {
            VoiceCmd::Play(chunk) => self.play(chunk),
            VoiceCmd::Cancel(id) => self.cancel(id),
            VoiceCmd::Fail(id, reason) => self.fail(id, reason),
        }
    }

    /// The voice sender's output (in order).
    pub(crate) fn on_audio_out(&mut self, conn: &mut VoiceConnection, out: AudioOut) {
        match out {
            AudioOut::Speaking(on) => {
                // Op 5 with the microphone flag before the first packet,
                // 0 after the silence tail.
                self.speaking = on;
                self.send_speaking(conn);
            }
            AudioOut::Packet(packet) => {
                if let Err(e) = conn.send_rtp(packet) {
                    tracing::trace!(error = %e, "audio packet not sent");
                }
            }
        }
    }

    fn send_speaking(&self, conn: &mut VoiceConnection) {
        if let Some(ssrc) = conn.ssrc() {
            let flags = if self.speaking {
                SpeakingFlags::MICROPHONE
            } else {
                SpeakingFlags::NONE
            };
            conn.send_message(&VoiceMessage::Speaking(Speaking::announce(flags, ssrc)));
        }
    }

    /// A new or resumed session while speaking: say so again (the server
    /// maps our SSRC from op 5).
    pub(crate) fn resend_speaking(&self, conn: &mut VoiceConnection) {
        if self.speaking {
            self.send_speaking(conn);
        }
    }

    /// Listener counters: (frames decoded, packets dropped, failures).
    pub(crate) fn counters(&self) -> (u64, u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.listener.as_ref().map_or((0, 0, 0), |l| {
            (
                l.counters.frames.load(Relaxed),
                l.counters.dropped.load(Relaxed),
                l.counters.failed.load(Relaxed),
            )
        })
    }
}

//! The voice listener thread: every audio RTP packet of the voice
//! connection (already transport-decrypted by the slot) is DAVE-decrypted
//! for its sender, then decoded, voice-activity-detected and segmented per
//! SSRC by `voice_audio::Listener`. Speech edges and finished utterances
//! (16 kHz s16le) go to the supervisor. The slot's hand-off is
//! non-blocking and bounded: when the thread falls behind, packets are
//! dropped and counted, the slot's task never waits.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::time::Instant;

use dave_session::MediaCodec;
use ipc_schema::{Ssrc, TransportRole, UserId, UserSpeech, UserUtterance};
use tokio::sync::mpsc as tmpsc;
use voice_audio::{Heard, Listener, ListenerConfig, samples_to_le};

use super::dave::SharedDave;
use super::{TransportEvent, TransportMsg};

/// Packets waiting (50 per second per speaker: seconds of slack).
const QUEUE: usize = 512;

enum ListenIn {
    Packet {
        user: Option<UserId>,
        packet: Vec<u8>,
        at: Instant,
    },
    Gone(u32),
}

/// Counters readable by the slot.
#[derive(Default, Debug)]
pub(crate) struct ListenCounters {
    /// Packets dropped because the thread was behind.
    pub dropped: AtomicU64,
    /// Packets whose DAVE decryption or Opus decoding failed.
    pub failed: AtomicU64,
    /// 20 ms frames decoded.
    pub frames: AtomicU64,
}

/// Handle on the thread; dropping it ends the thread.
pub(crate) struct VoiceListener {
    tx: SyncSender<ListenIn>,
    pub counters: Arc<ListenCounters>,
}

impl VoiceListener {
    pub(crate) fn spawn(
        role: TransportRole,
        generation: u64,
        dave: SharedDave,
        events: tmpsc::Sender<TransportMsg>,
    ) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let counters = Arc::new(ListenCounters::default());
        let c = counters.clone();
        std::thread::Builder::new()
            .name("voice-listen".into())
            .spawn(move || run(role, generation, dave, rx, events, c))?;
        Ok(Self { tx, counters })
    }

    /// One audio packet (plaintext RTP) of `user`, if known.
    pub(crate) fn push(&self, user: Option<UserId>, packet: Vec<u8>, at: Instant) {
        if self
            .tx
            .try_send(ListenIn::Packet { user, packet, at })
            .is_err()
        {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A speaker's stream ended.
    pub(crate) fn gone(&self, ssrc: u32) {
        let _ = self.tx.try_send(ListenIn::Gone(ssrc));
    }
}

fn run(
    role: TransportRole,
    generation: u64,
    dave: SharedDave,
    rx: mpsc::Receiver<ListenIn>,
    events: tmpsc::Sender<TransportMsg>,
    counters: Arc<ListenCounters>,
) {
    let mut listener = Listener::new(ListenerConfig::default());
    let mut users: BTreeMap<u32, UserId> = BTreeMap::new();
    let emit = |event: TransportEvent| {
        let _ = events.blocking_send(TransportMsg {
            role,
            generation,
            event,
        });
    };
    loop {
        let msg = match listener.poll_timeout() {
            Some(t) => rx.recv_timeout(t.saturating_duration_since(Instant::now())),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match msg {
            Ok(ListenIn::Packet { user, packet, at }) => {
                let Ok(p) = rtp::RtpPacket::parse(&packet) else {
                    counters.failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let ssrc = p.ssrc().0;
                if let Some(u) = user
                    && (users.len() < 256 || users.contains_key(&ssrc))
                {
                    users.insert(ssrc, u);
                }
                let mut frame = p.payload().to_vec();
                match users.get(&ssrc) {
                    Some(u) => {
                        if let Err(e) = dave.decrypt(*u, MediaCodec::Opus, &mut frame) {
                            tracing::trace!(ssrc, error = %e, "audio frame not decrypted");
                            counters.failed.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    }
                    // DAVE decrypts per sender: without the SSRC's user a
                    // DAVE frame (ending in its 0xFAFA marker) cannot be
                    // opened, and its ciphertext must not reach the decoder
                    // (libopus may decode it as noise).
                    None if frame.ends_with(&[0xFA, 0xFA]) => {
                        counters.failed.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    None => {}
                }
                if let Err(e) = listener.on_packet(at, ssrc, p.sequence().0, &frame) {
                    tracing::trace!(ssrc, error = %e, "audio packet not decoded");
                    counters.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(ListenIn::Gone(ssrc)) => listener.remove(ssrc, Instant::now()),
            Err(RecvTimeoutError::Timeout) => listener.handle_timeout(Instant::now()),
            Err(RecvTimeoutError::Disconnected) => return,
        }
        counters
            .frames
            .store(listener.frames_decoded(), Ordering::Relaxed);
        while let Some(h) = listener.poll_output() {
            let ssrc = match &h {
                Heard::Speech { ssrc, .. } | Heard::Utterance { ssrc, .. } => *ssrc,
            };
            let Some(user) = users.get(&ssrc).copied() else {
                tracing::debug!(ssrc, "speech from an SSRC with no known user; not reported");
                continue;
            };
            match h {
                Heard::Speech { speaking, .. } => {
                    tracing::debug!(user = user.get(), ssrc, speaking, "voice activity");
                    emit(TransportEvent::UserSpeech(UserSpeech {
                        user_id: user,
                        ssrc: Ssrc(ssrc),
                        speaking,
                    }));
                }
                Heard::Utterance {
                    pcm, duration_ms, ..
                } => {
                    tracing::info!(user = user.get(), ssrc, duration_ms, "utterance heard");
                    emit(TransportEvent::UserUtterance(UserUtterance {
                        user_id: user,
                        pcm: samples_to_le(&pcm),
                        duration_ms,
                    }));
                }
            }
        }
    }
}

//! The voice sender thread: control's PCM chunks are paced (the sans-IO
//! `voice_audio::Pacer`), Opus-encoded, DAVE-encrypted when the group can
//! encrypt, and written as RTP; the slot only seals and sends the packets
//! ([`SlotCmd::SendAudio`]) and the op 5 edges ([`SlotCmd::AudioSpeaking`]).
//!
//! The thread sleeps until the pacer's next deadline or the next input,
//! whichever comes first; encoding never runs on the slot's task. Playback
//! events go straight to the supervisor. When the slot ends (the handle is
//! dropped), every utterance still queued or playing is reported
//! `Failed("voice connection closed")`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Instant;

use dave_session::MediaCodec;
use ipc_schema::{PlaybackEvent, PlaybackState, TransportRole, UtteranceId, VoicePlayChunk};
use rtp::{PayloadType, RtpBuilder, RtpTimestamp, SeqNo, Ssrc};
use tokio::sync::mpsc as tmpsc;
use voice_audio::{FrameAudio, OPUS_SILENCE, OpusEncoder, Pacer, PacerConfig, PacerOutput};

use super::dave::SharedDave;
use super::slot::SlotCmd;
use super::{TransportEvent, TransportMsg};

/// Inputs waiting for the thread (a 100 ms chunk each: 100 s of audio).
const QUEUE: usize = 1024;
/// Opus bitrate for speech.
const BITRATE: i32 = 64_000;

enum SendIn {
    Chunk(VoicePlayChunk),
    Cancel(UtteranceId),
    Ssrc(u32),
}

/// Where the sender's packets and events go.
pub(crate) struct SendSpec {
    pub role: TransportRole,
    pub generation: u64,
    /// Our audio SSRC (READY).
    pub ssrc: u32,
    /// The Opus payload type we declared.
    pub payload_type: u8,
    pub dave: SharedDave,
    /// Random first sequence number and timestamp.
    pub seq: u16,
    pub timestamp: u32,
}

/// Handle on the thread; dropping it ends the thread. The channel is
/// unbounded so that a cancel is never refused or waited for; chunks are
/// bounded by a count of those not yet taken by the thread.
pub(crate) struct VoiceSender {
    tx: Sender<SendIn>,
    queued: Arc<AtomicUsize>,
}

impl VoiceSender {
    pub(crate) fn spawn(
        spec: SendSpec,
        slot: tmpsc::UnboundedSender<SlotCmd>,
        events: tmpsc::Sender<TransportMsg>,
    ) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let q = queued.clone();
        std::thread::Builder::new()
            .name("voice-send".into())
            .spawn(move || run(spec, rx, q, slot, events))?;
        Ok(Self { tx, queued })
    }

    /// Queues a chunk; `Err` with a reason when the thread cannot take it.
    pub(crate) fn chunk(&self, c: VoicePlayChunk) -> Result<(), String> {
        if self.queued.load(Ordering::Relaxed) >= QUEUE {
            return Err(format!("voice sender busy ({QUEUE} chunks queued)"));
        }
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.tx
            .send(SendIn::Chunk(c))
            .map_err(|_| "voice sender stopped".to_string())
    }

    pub(crate) fn cancel(&self, id: UtteranceId) {
        let _ = self.tx.send(SendIn::Cancel(id));
    }

    /// A new session allocated another SSRC.
    pub(crate) fn set_ssrc(&self, ssrc: u32) {
        let _ = self.tx.send(SendIn::Ssrc(ssrc));
    }
}

struct Shell {
    spec: SendSpec,
    pt: PayloadType,
    encoder: OpusEncoder,
    slot: tmpsc::UnboundedSender<SlotCmd>,
    events: tmpsc::Sender<TransportMsg>,
}

impl Shell {
    fn report(&self, e: PlaybackEvent) {
        tracing::info!(
            id = e.id.0,
            state = e.state.as_str(),
            played_ms = e.played_ms,
            "voice playback"
        );
        let msg = TransportMsg {
            role: self.spec.role,
            generation: self.spec.generation,
            event: TransportEvent::Playback(e),
        };
        // A std thread may block on the supervisor's queue; playback
        // events are never dropped.
        let _ = self.events.blocking_send(msg);
    }

    fn output(&mut self, o: PacerOutput) {
        match o {
            PacerOutput::Speaking(on) => {
                let _ = self.slot.send(SlotCmd::AudioSpeaking(on));
            }
            PacerOutput::Playback(e) => self.report(e),
            PacerOutput::Frame(f) => {
                let payload = match f.audio {
                    FrameAudio::Pcm(pcm) => match self.encoder.encode(&pcm) {
                        // Opus frames are encrypted whole (no clear ranges).
                        Ok(opus) => self.spec.dave.encrypt(MediaCodec::Opus, opus),
                        Err(e) => {
                            tracing::warn!(error = %e, "opus encode failed; frame skipped");
                            return;
                        }
                    },
                    // Silence frames pass DAVE unencrypted by definition.
                    FrameAudio::Silence => OPUS_SILENCE.to_vec(),
                };
                let mut b = RtpBuilder::new(
                    self.pt,
                    SeqNo(f.seq),
                    RtpTimestamp(f.timestamp),
                    Ssrc(self.spec.ssrc),
                );
                b.marker = f.marker;
                let mut packet =
                    vec![0u8; b.packet_len(payload.len()).unwrap_or(12 + payload.len())];
                match b.write_to_slice(&payload, &mut packet) {
                    Ok(n) => {
                        packet.truncate(n);
                        let _ = self.slot.send(SlotCmd::SendAudio(packet));
                    }
                    Err(e) => tracing::warn!(error = %e, "audio RTP not built"),
                }
            }
        }
    }
}

fn run(
    spec: SendSpec,
    rx: mpsc::Receiver<SendIn>,
    queued: Arc<AtomicUsize>,
    slot: tmpsc::UnboundedSender<SlotCmd>,
    events: tmpsc::Sender<TransportMsg>,
) {
    let mut pacer = Pacer::new(PacerConfig::default(), spec.seq, spec.timestamp);
    let encoder = match OpusEncoder::new(BITRATE) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "cannot create the Opus encoder; voice playback fails");
            for msg in rx.iter() {
                if let SendIn::Chunk(c) = msg {
                    queued.fetch_sub(1, Ordering::Relaxed);
                    let _ = events.blocking_send(TransportMsg {
                        role: spec.role,
                        generation: spec.generation,
                        event: TransportEvent::Playback(PlaybackEvent {
                            id: c.id,
                            state: PlaybackState::Failed(format!("opus encoder: {e}")),
                            played_ms: 0,
                        }),
                    });
                }
            }
            return;
        }
    };
    let Ok(pt) = PayloadType::new(spec.payload_type) else {
        tracing::error!(pt = spec.payload_type, "bad Opus payload type");
        return;
    };
    let mut shell = Shell {
        spec,
        pt,
        encoder,
        slot,
        events,
    };
    loop {
        let now = Instant::now();
        while let Some(o) = pacer.poll(now) {
            shell.output(o);
        }
        let msg = match pacer.poll_timeout() {
            Some(t) => rx.recv_timeout(t.saturating_duration_since(Instant::now())),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match msg {
            Ok(SendIn::Chunk(c)) => {
                queued.fetch_sub(1, Ordering::Relaxed);
                pacer.push_chunk(c)
            }
            Ok(SendIn::Cancel(id)) => pacer.cancel(id),
            Ok(SendIn::Ssrc(s)) => shell.spec.ssrc = s,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                pacer.fail_all("voice connection closed");
                while let Some(o) = pacer.poll(Instant::now()) {
                    if let PacerOutput::Playback(e) = o {
                        shell.report(e);
                    }
                }
                return;
            }
        }
    }
}

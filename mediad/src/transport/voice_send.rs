//! The voice sender thread: control's PCM chunks are paced (the sans-IO
//! `voice_audio::Pacer`), Opus-encoded, DAVE-encrypted when the group can
//! encrypt, and written as RTP; the slot only seals and sends the packets
//! ([`AudioOut::Packet`]) and the op 5 edges ([`AudioOut::Speaking`]), which
//! reach it in order on the slot's audio lane (drop-oldest packets when the
//! slot is behind; an edge is never dropped).
//!
//! The thread sleeps until the pacer's next deadline or the next input,
//! whichever comes first; encoding never runs on the slot's task. Playback
//! events go straight to the supervisor. When the slot ends (the handle is
//! dropped), every utterance still queued or playing is reported
//! `Failed("voice connection closed")`.

use std::collections::VecDeque;
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
use super::lanes::{AudioOut, SlotLanes};
use super::{TransportEvent, TransportMsg};

/// Inputs waiting for the thread (a 100 ms chunk each: 100 s of audio).
pub(crate) const QUEUE: usize = 1024;
/// Utterances remembered as ended, and as failing (see [`SendIn::Fail`]).
const REMEMBERED: usize = 64;
/// Opus bitrate for speech.
const BITRATE: i32 = 64_000;

enum SendIn {
    Chunk(VoicePlayChunk),
    Cancel(UtteranceId),
    /// The utterance cannot be completed (the slot's voice lane
    /// overflowed): it stops and is reported `Failed(reason)`, once.
    Fail(UtteranceId, String),
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
        slot: SlotLanes,
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

    /// Stops `id` and reports it `Failed(reason)`; false if the thread
    /// has stopped.
    pub(crate) fn fail(&self, id: UtteranceId, reason: String) -> bool {
        self.tx.send(SendIn::Fail(id, reason)).is_ok()
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
    slot: SlotLanes,
    events: tmpsc::Sender<TransportMsg>,
    outcomes: Outcomes,
}

/// Which utterances ended, and which are to end `Failed` rather than
/// `Cancelled` (the pacer only cancels from outside).
#[derive(Default)]
struct Outcomes {
    ended: VecDeque<UtteranceId>,
    failing: VecDeque<(UtteranceId, String)>,
}

impl Outcomes {
    /// Rewrites a cancel of a failing utterance, and remembers ends.
    fn on_event(&mut self, mut e: PlaybackEvent) -> PlaybackEvent {
        if matches!(e.state, PlaybackState::Started) {
            return e;
        }
        if let Some(i) = self.failing.iter().position(|(id, _)| *id == e.id)
            && let Some((_, reason)) = self.failing.remove(i)
            && matches!(e.state, PlaybackState::Cancelled)
        {
            e.state = PlaybackState::Failed(reason);
        }
        if !self.ended.contains(&e.id) {
            if self.ended.len() >= REMEMBERED {
                self.ended.pop_front();
            }
            self.ended.push_back(e.id);
        }
        e
    }

    /// `id` is to fail: false if it already ended.
    fn fail(&mut self, id: UtteranceId, reason: String) -> bool {
        if self.ended.contains(&id) {
            return false;
        }
        if self.failing.len() >= REMEMBERED {
            self.failing.pop_front();
        }
        self.failing.push_back((id, reason));
        true
    }

    /// The failure still owed for `id` (the pacer had nothing of it).
    fn owed(&mut self, id: UtteranceId) -> Option<String> {
        let i = self.failing.iter().position(|(f, _)| *f == id)?;
        self.failing.remove(i).map(|(_, reason)| reason)
    }
}

impl Shell {
    fn report(&mut self, e: PlaybackEvent) {
        let e = self.outcomes.on_event(e);
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
            PacerOutput::Speaking(on) => self.slot.audio(AudioOut::Speaking(on)),
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
                        self.slot.audio(AudioOut::Packet(packet));
                    }
                    Err(e) => tracing::warn!(error = %e, "audio RTP not built"),
                }
            }
        }
    }
}

/// Fails `id` with `reason`: what to carry out now. A queued or playing
/// utterance stops (the pacer's cancel, reported as the failure); one never
/// seen is reported here, and its late chunks are ignored by the pacer; one
/// already over is left alone.
fn fail_utterance(
    pacer: &mut Pacer,
    outcomes: &mut Outcomes,
    id: UtteranceId,
    reason: String,
    now: Instant,
) -> Vec<PacerOutput> {
    if !outcomes.fail(id, reason) {
        return Vec::new();
    }
    pacer.cancel(id);
    let mut out: Vec<PacerOutput> = std::iter::from_fn(|| pacer.poll(now))
        .map(|o| match o {
            PacerOutput::Playback(e) => PacerOutput::Playback(outcomes.on_event(e)),
            o => o,
        })
        .collect();
    if let Some(reason) = outcomes.owed(id) {
        out.push(PacerOutput::Playback(outcomes.on_event(PlaybackEvent {
            id,
            state: PlaybackState::Failed(reason),
            played_ms: 0,
        })));
    }
    out
}

fn run(
    spec: SendSpec,
    rx: mpsc::Receiver<SendIn>,
    queued: Arc<AtomicUsize>,
    slot: SlotLanes,
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
        outcomes: Outcomes::default(),
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
            Ok(SendIn::Fail(id, reason)) => {
                let outputs =
                    fail_utterance(&mut pacer, &mut shell.outcomes, id, reason, Instant::now());
                for o in outputs {
                    shell.output(o);
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn event(id: u64, state: PlaybackState) -> PlaybackEvent {
        PlaybackEvent {
            id: UtteranceId(id),
            state,
            played_ms: 40,
        }
    }

    #[test]
    fn a_failing_utterance_is_reported_failed_once() {
        let mut o = Outcomes::default();
        assert!(o.fail(UtteranceId(1), "voice slot busy".into()));
        // The pacer's cancel of it becomes the failure.
        let e = o.on_event(event(1, PlaybackState::Cancelled));
        assert_eq!(e.state, PlaybackState::Failed("voice slot busy".into()));
        assert_eq!(e.played_ms, 40);
        assert_eq!(o.owed(UtteranceId(1)), None);
        // Ended: a second failure is not reported.
        assert!(!o.fail(UtteranceId(1), "again".into()));
        // Other utterances' cancels stay cancels.
        let e = o.on_event(event(2, PlaybackState::Cancelled));
        assert_eq!(e.state, PlaybackState::Cancelled);
    }

    #[test]
    fn a_failing_utterance_the_pacer_never_saw_is_owed() {
        let mut o = Outcomes::default();
        assert!(o.fail(UtteranceId(3), "busy".into()));
        assert_eq!(o.owed(UtteranceId(3)), Some("busy".into()));
        assert_eq!(o.owed(UtteranceId(3)), None);
        // Started is not an end.
        o.on_event(event(4, PlaybackState::Started));
        assert!(o.fail(UtteranceId(4), "busy".into()));
        let e = o.on_event(event(4, PlaybackState::Finished));
        assert_eq!(
            e.state,
            PlaybackState::Finished,
            "a finished one stays finished"
        );
    }

    fn playback(out: &[PacerOutput]) -> Vec<(u64, PlaybackState)> {
        out.iter()
            .filter_map(|o| match o {
                PacerOutput::Playback(e) => Some((e.id.0, e.state.clone())),
                _ => None,
            })
            .collect()
    }

    fn chunk(id: u64, seq: u32) -> VoicePlayChunk {
        VoicePlayChunk {
            id: UtteranceId(id),
            seq,
            pcm: vec![0; 9_600],
            last: false,
        }
    }

    #[test]
    fn failing_a_playing_utterance_stops_it_with_one_failed_event() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(PacerConfig::default(), 1, 1);
        let mut outcomes = Outcomes::default();
        pacer.push_chunk(chunk(1, 0));
        pacer.push_chunk(chunk(1, 1));
        let started: Vec<_> = std::iter::from_fn(|| pacer.poll(t0)).collect();
        assert_eq!(playback(&started), vec![(1, PlaybackState::Started)]);
        let busy = "voice slot busy".to_string();
        let out = fail_utterance(&mut pacer, &mut outcomes, UtteranceId(1), busy.clone(), t0);
        assert_eq!(
            playback(&out),
            vec![(1, PlaybackState::Failed(busy.clone()))]
        );
        // Its late chunks are ignored; nothing more is reported for it.
        pacer.push_chunk(chunk(1, 2));
        let mut later = Vec::new();
        for ms in (20..400).step_by(20) {
            later.extend(std::iter::from_fn(|| {
                pacer.poll(t0 + Duration::from_millis(ms))
            }));
        }
        assert!(playback(&later).is_empty(), "{:?}", playback(&later));
        assert!(fail_utterance(&mut pacer, &mut outcomes, UtteranceId(1), busy, t0).is_empty());
    }

    #[test]
    fn failing_an_utterance_never_seen_reports_it_and_ignores_its_chunks() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(PacerConfig::default(), 1, 1);
        let mut outcomes = Outcomes::default();
        let out = fail_utterance(&mut pacer, &mut outcomes, UtteranceId(9), "busy".into(), t0);
        assert_eq!(
            playback(&out),
            vec![(9, PlaybackState::Failed("busy".into()))]
        );
        pacer.push_chunk(chunk(9, 0));
        assert!(std::iter::from_fn(|| pacer.poll(t0)).next().is_none());
    }
}

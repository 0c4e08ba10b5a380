//! Speech in and out, control's side of the voice channel.
//!
//! * In: mediad cuts each user's speech into utterances (voice activity
//!   detection) and sends them as 16 kHz PCM; they are transcribed here
//!   (`speech` providers, off this task) and published as [`Heard`] for the
//!   conversation, which treats them exactly as text turns.
//! * Out: the agent's answers and commentary ([`VoiceHandle::speak`]) go
//!   through `brain_core::SpeechFloor`, which plays them one at a time and
//!   cuts them on barge-in; each is synthesized (off this task), streamed to
//!   mediad in 100 ms chunks, and paced and encoded there.
//! * [`VoiceState`] tells the brain when the agent is busy speaking (the
//!   commentary's playback gate) and how many transcriptions are pending
//!   (queued voice work).

pub mod providers;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use brain_core::{FloorAction, PlaybackReport, Settings, SpeakKind, SpeechFloor};
use ipc_schema::{
    MediadMsg, PlaybackState, UtteranceId, VOICE_PLAY_MAX_CHUNK_BYTES, VoicePlayChunk,
};
use serde::Serialize;
use speech::Pcm;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::media::MediaHandle;
pub use providers::{SpeechArgs, SpeechProviders};

/// Transcriptions running or waiting at once; utterances beyond are
/// dropped (and counted) rather than queued without bound.
pub const MAX_PENDING_TRANSCRIPTIONS: u32 = 4;

/// Transcripts kept for the views.
pub const RECENT_TRANSCRIPTS: usize = 8;

/// A transcript as the views show it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptView {
    /// Who spoke (a snowflake, as a string like the rest of the API).
    pub user_id: String,
    /// What was recognized.
    pub text: String,
    /// How long the utterance was.
    pub utterance_ms: u32,
    /// How long recognition took.
    pub stt_ms: u64,
}

/// One transcribed utterance.
#[derive(Clone, Debug)]
pub struct Heard {
    /// Who spoke.
    pub user_id: u64,
    /// What was recognized.
    pub text: String,
    /// How long the utterance was.
    pub utterance_ms: u32,
    /// How long the recognition took.
    pub stt_ms: u64,
    /// When the transcript was ready.
    pub at: Instant,
}

/// What `/api/voice/state` and the brain see.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = SpeechState)]
pub struct VoiceState {
    /// Speech to text provider (never a key).
    pub stt: Option<String>,
    /// Text to speech provider.
    pub tts: Option<String>,
    /// Synthesizing, playing or queued replies.
    pub busy: bool,
    /// The utterance being played.
    pub playing: Option<u64>,
    /// Replies waiting.
    pub queued: usize,
    /// Transcriptions running.
    pub transcriptions_pending: u32,
    /// Utterances transcribed (non-empty).
    pub heard: u64,
    /// Utterances dropped before transcription (too many pending).
    pub heard_dropped: u64,
    /// Replies played to the end.
    pub spoken: u64,
    /// Replies cut by a user speaking.
    pub barge_ins: u64,
    /// Replies dropped (stale commentary, failures, timeouts).
    pub dropped: u64,
    /// The latest transcript.
    pub last_transcript: Option<String>,
    /// The newest transcripts, oldest first (at most
    /// [`RECENT_TRANSCRIPTS`]).
    pub recent_transcripts: Vec<TranscriptView>,
    /// The latest speech failure.
    pub last_error: Option<String>,
}

enum Cmd {
    Speak {
        text: String,
        kind: SpeakKind,
        reply: oneshot::Sender<Option<u64>>,
    },
}

enum Done {
    Synthesized(u64, Result<Duration, String>),
    Transcribed(u64, u32, Result<speech::Transcript, String>),
}

/// Cloneable handle to the voice task.
#[derive(Clone)]
pub struct VoiceHandle {
    tx: mpsc::Sender<Cmd>,
    heard: broadcast::Sender<Arc<Heard>>,
    state: watch::Receiver<VoiceState>,
    agent_name: Arc<str>,
}

impl VoiceHandle {
    /// Asks the agent to say `text`; the utterance id, or `None` when it
    /// was not queued (nothing to say, stale commentary, no speech output).
    pub async fn speak(&self, text: &str, kind: SpeakKind) -> Option<u64> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Speak {
                text: text.to_owned(),
                kind,
                reply,
            })
            .await
            .ok()?;
        rx.await.ok().flatten()
    }

    /// Transcripts as they are ready.
    pub fn heard(&self) -> broadcast::Receiver<Arc<Heard>> {
        self.heard.subscribe()
    }

    /// The state, updated after every step.
    pub fn state(&self) -> watch::Receiver<VoiceState> {
        self.state.clone()
    }

    /// The agent's spoken name (lower case).
    pub fn agent_name(&self) -> &str {
        &self.agent_name
    }
}

/// Starts the voice task.
pub fn spawn_voice(
    providers: SpeechProviders,
    media: &MediaHandle,
    settings: watch::Receiver<Settings>,
    tasks: &mut crate::tasks::Tasks,
) -> VoiceHandle {
    let (tx, commands) = mpsc::channel(32);
    let (heard, _) = broadcast::channel(32);
    let state = VoiceState {
        stt: providers.stt.as_ref().map(|s| s.describe()),
        tts: providers.tts.as_ref().map(|t| t.describe()),
        ..VoiceState::default()
    };
    let (state_tx, state_rx) = watch::channel(state.clone());
    let barge_in = settings.borrow().barge_in;
    // Utterance ids start from the clock so that a restarted control never
    // reuses an id a running mediad may still be playing.
    let first_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(1);
    let (done_tx, done_rx) = mpsc::channel(32);
    let task = VoiceTask {
        floor: SpeechFloor::new(first_id, barge_in),
        media: media.clone(),
        events: media.events(),
        providers: providers.clone(),
        settings,
        commands,
        done_tx,
        done_rx,
        heard: heard.clone(),
        state,
        state_tx,
        cancels: HashMap::new(),
        started_at: HashMap::new(),
    };
    tasks.spawn("voice", task.run(tasks.stopped()));
    VoiceHandle {
        tx,
        heard,
        state: state_rx,
        agent_name: providers.agent_name.into(),
    }
}

struct VoiceTask {
    floor: SpeechFloor,
    media: MediaHandle,
    events: broadcast::Receiver<Arc<MediadMsg>>,
    providers: SpeechProviders,
    settings: watch::Receiver<Settings>,
    commands: mpsc::Receiver<Cmd>,
    done_tx: mpsc::Sender<Done>,
    done_rx: mpsc::Receiver<Done>,
    heard: broadcast::Sender<Arc<Heard>>,
    state: VoiceState,
    state_tx: watch::Sender<VoiceState>,
    /// Per utterance being synthesized or streamed: set to stop streaming.
    cancels: HashMap<u64, Arc<AtomicBool>>,
    /// When a user's speech started (barge-in latency in logs).
    started_at: HashMap<u64, Instant>,
}

impl VoiceTask {
    async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let deadline = self.floor.poll_timeout();
            let mut out = Vec::new();
            tokio::select! {
                () = &mut shutdown => break,
                Ok(()) = self.settings.changed() => {
                    let on = self.settings.borrow_and_update().barge_in;
                    self.floor.set_barge_in(on);
                }
                cmd = self.commands.recv() => match cmd {
                    Some(Cmd::Speak { text, kind, reply }) => {
                        let id = if self.providers.tts.is_some()
                            && self.settings.borrow().spoken_replies
                        {
                            self.floor.request(Instant::now(), &text, kind, &mut out)
                        } else {
                            None
                        };
                        let _ = reply.send(id);
                    }
                    None => break,
                },
                ev = self.events.recv() => match ev {
                    Ok(msg) => self.on_media(&msg, &mut out),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "voice task lagged behind mediad's events");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                Some(done) = self.done_rx.recv() => self.on_done(done, &mut out),
                () = daemon_support::sleep_until(deadline) => {
                    self.floor.handle_timeout(Instant::now(), &mut out);
                }
            }
            self.carry_out(out).await;
            self.publish();
        }
    }

    fn on_media(&mut self, msg: &MediadMsg, out: &mut Vec<FloorAction>) {
        let now = Instant::now();
        match msg {
            MediadMsg::UserSpeech(s) => {
                if s.speaking {
                    self.started_at.insert(s.user_id.0, now);
                }
                self.floor.on_user_speech(now, s.user_id.0, s.speaking, out);
                if s.speaking && out.iter().any(|a| matches!(a, FloorAction::Cancel { .. })) {
                    tracing::info!(
                        event = "voice_barge_in",
                        user = s.user_id.0,
                        "a user spoke over the agent: playback cancelled"
                    );
                }
            }
            MediadMsg::Playback(p) => {
                let report = match &p.state {
                    PlaybackState::Started => PlaybackReport::Started,
                    PlaybackState::Finished => PlaybackReport::Finished,
                    PlaybackState::Cancelled => PlaybackReport::Cancelled,
                    PlaybackState::Failed(reason) => {
                        tracing::warn!(utterance = p.id.0, %reason, "mediad could not play an utterance");
                        self.state.last_error = Some(format!("playback failed: {reason}"));
                        PlaybackReport::Failed
                    }
                };
                tracing::info!(
                    event = "voice_playback",
                    utterance = p.id.0,
                    state = p.state.as_str(),
                    played_ms = p.played_ms,
                    "playback"
                );
                if report != PlaybackReport::Started {
                    self.cancels.remove(&p.id.0);
                }
                self.floor.on_playback(now, p.id.0, report, out);
            }
            MediadMsg::UserUtterance(u) => self.transcribe(u),
            _ => {}
        }
    }

    fn transcribe(&mut self, u: &ipc_schema::UserUtterance) {
        let Some(stt) = self.providers.stt.clone() else {
            return;
        };
        if self.state.transcriptions_pending >= MAX_PENDING_TRANSCRIPTIONS {
            self.state.heard_dropped += 1;
            tracing::warn!(
                user = u.user_id.0,
                pending = self.state.transcriptions_pending,
                "utterance dropped: too many transcriptions pending"
            );
            return;
        }
        self.state.transcriptions_pending += 1;
        let samples: Vec<i16> = u
            .pcm
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        let pcm = Pcm::new(ipc_schema::UTTERANCE_SAMPLE_RATE, samples);
        let (user, ms, done) = (u.user_id.0, u.duration_ms, self.done_tx.clone());
        tokio::spawn(async move {
            let r = stt.transcribe(&pcm).await.map_err(|e| e.to_string());
            let _ = done.send(Done::Transcribed(user, ms, r)).await;
        });
    }

    fn on_done(&mut self, done: Done, out: &mut Vec<FloorAction>) {
        let now = Instant::now();
        match done {
            Done::Synthesized(id, r) => {
                if let Err(e) = &r {
                    tracing::warn!(utterance = id, error = %e, "text to speech failed");
                    self.state.last_error = Some(format!("text to speech: {e}"));
                    self.cancels.remove(&id);
                }
                self.floor.on_synthesized(now, id, r.map_err(|_| ()), out);
            }
            Done::Transcribed(user, ms, r) => {
                self.state.transcriptions_pending =
                    self.state.transcriptions_pending.saturating_sub(1);
                match r {
                    Ok(t) if !t.text.trim().is_empty() => {
                        self.state.heard += 1;
                        self.state.last_transcript = Some(t.text.clone());
                        self.state.recent_transcripts.push(TranscriptView {
                            user_id: user.to_string(),
                            text: t.text.clone(),
                            utterance_ms: ms,
                            stt_ms: t.elapsed.as_millis() as u64,
                        });
                        let excess = self
                            .state
                            .recent_transcripts
                            .len()
                            .saturating_sub(RECENT_TRANSCRIPTS);
                        self.state.recent_transcripts.drain(..excess);
                        tracing::info!(
                            event = "voice_transcript",
                            user,
                            utterance_ms = ms,
                            stt_ms = t.elapsed.as_millis() as u64,
                            text = %t.text,
                            "heard"
                        );
                        let _ = self.heard.send(Arc::new(Heard {
                            user_id: user,
                            text: t.text,
                            utterance_ms: ms,
                            stt_ms: t.elapsed.as_millis() as u64,
                            at: now,
                        }));
                    }
                    Ok(_) => tracing::debug!(user, utterance_ms = ms, "nothing recognized"),
                    Err(e) => {
                        tracing::warn!(user, error = %e, "speech to text failed");
                        self.state.last_error = Some(format!("speech to text: {e}"));
                    }
                }
            }
        }
    }

    async fn carry_out(&mut self, out: Vec<FloorAction>) {
        for action in out {
            match action {
                FloorAction::Synthesize { id, text, kind } => self.synthesize(id, text, kind),
                FloorAction::Cancel { id, reason } => {
                    if let Some(flag) = self.cancels.remove(&id) {
                        flag.store(true, Ordering::Relaxed);
                    }
                    tracing::info!(
                        utterance = id,
                        reason = reason.as_str(),
                        "utterance cancelled"
                    );
                    if self.media.voice_cancel(UtteranceId(id)).await.is_err() {
                        tracing::debug!("media client gone; cancel not sent");
                    }
                }
                FloorAction::Dropped { id, kind, reason } => {
                    tracing::info!(
                        event = "voice_reply_dropped",
                        utterance = id,
                        kind = kind.as_str(),
                        reason = reason.as_str(),
                        "reply not (fully) spoken"
                    );
                }
            }
        }
    }

    fn synthesize(&mut self, id: u64, text: String, kind: SpeakKind) {
        let Some(tts) = self.providers.tts.clone() else {
            let _ = self
                .done_tx
                .try_send(Done::Synthesized(id, Err("no text to speech".into())));
            return;
        };
        let cancelled = Arc::new(AtomicBool::new(false));
        self.cancels.insert(id, cancelled.clone());
        let (media, done) = (self.media.clone(), self.done_tx.clone());
        tracing::info!(event = "voice_reply", utterance = id, kind = kind.as_str(), text = %text, "speaking");
        tokio::spawn(async move {
            let r = match tts.synthesize(&text).await {
                Ok(pcm) => stream_to_mediad(&media, id, &pcm, &cancelled)
                    .await
                    .map(|()| pcm.duration()),
                Err(e) => Err(e.to_string()),
            };
            let _ = done.send(Done::Synthesized(id, r)).await;
        });
    }

    fn publish(&mut self) {
        let stats = self.floor.stats();
        self.state.busy = self.floor.busy();
        self.state.playing = self.floor.playing();
        self.state.queued = self.floor.queued();
        self.state.spoken = stats.finished;
        self.state.barge_ins = stats.barge_ins;
        self.state.dropped = stats.dropped;
        let now = self.state.clone();
        self.state_tx.send_if_modified(|s| {
            let changed = serde_json::to_value(&*s).ok() != serde_json::to_value(&now).ok();
            if changed {
                *s = now;
            }
            changed
        });
    }
}

/// Sends `pcm` (48 kHz mono) to mediad as utterance `id` in chunks of at
/// most [`VOICE_PLAY_MAX_CHUNK_BYTES`]; stops early when `cancelled` is set.
async fn stream_to_mediad(
    media: &MediaHandle,
    id: u64,
    pcm: &Pcm,
    cancelled: &AtomicBool,
) -> Result<(), String> {
    let pcm = if pcm.sample_rate == ipc_schema::VOICE_PLAY_SAMPLE_RATE {
        std::borrow::Cow::Borrowed(pcm)
    } else {
        std::borrow::Cow::Owned(speech::resample(pcm, ipc_schema::VOICE_PLAY_SAMPLE_RATE))
    };
    let per_chunk = VOICE_PLAY_MAX_CHUNK_BYTES / 2;
    let chunks: Vec<&[i16]> = pcm.samples.chunks(per_chunk).collect();
    let n = chunks.len();
    if n == 0 {
        return Err("the synthesized audio is empty".into());
    }
    for (seq, samples) in chunks.into_iter().enumerate() {
        if cancelled.load(Ordering::Relaxed) {
            return Ok(());
        }
        let chunk = VoicePlayChunk {
            id: UtteranceId(id),
            seq: seq as u32,
            pcm: samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
            last: seq + 1 == n,
        };
        media.voice_play(chunk).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

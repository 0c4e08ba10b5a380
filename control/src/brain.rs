//! The screen-watch brain's shell: frames of the watched user feed
//! `brain-core`'s note and commentary schedulers; their jobs become LLM
//! calls (`llm` providers: offline OCR by default, Anthropic/OpenAI when a
//! key is configured), notes go to the note book, commentary is spoken in
//! the voice channel (`crate::voice`, setting `spokenReplies`) and posted to
//! the text channel through Discord REST (`textChannelReplies`). The voice
//! gates are real: users' voice activity (mediad's VAD) for the quiet
//! window, the speech floor for playback, pending transcriptions for
//! queued voice work. One watch at a time; LLM calls run on their own tasks
//! and never block this loop.

mod requests;
mod view;
use requests::*;
use std::sync::Arc;
use std::time::Instant;
pub use view::*;

use brain_core::{
    BusyKind, CommentaryDecision, CommentaryLoop, Compactor, FrameIntake, FrameMeta, NoteBook,
    NoteLoop, NoteOrigin, Settings, SpeakKind, parse_commentary,
};
use ipc_schema::MediadMsg;
use llm::{Message, Part, Provider, Request, RequestKind, Role};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::discord::rest::RestClient;
use crate::media::MediaHandle;
use crate::store::{RecapRecord, Store};
use crate::voice::{VoiceHandle, VoiceState};

/// The watch the brain follows.
#[derive(Clone, Debug)]
pub struct BrainWatch {
    /// Watch id.
    pub watch_id: u64,
    /// Guild.
    pub guild: u64,
    /// Watched user.
    pub target: u64,
    /// Their display name.
    pub target_name: String,
    /// Where commentary is posted, if known.
    pub text_channel: Option<u64>,
}

enum Cmd {
    LatestFrame(oneshot::Sender<Option<Vec<u8>>>),
    TurnContext(oneshot::Sender<TurnContext>),
    Turn(brain_core::Turn),
    Frame(LinkFrameIn),
    Start(BrainWatch),
    End(u64, String),
    View(oneshot::Sender<BrainView>),
    /// A conversation turn started (`true`) or ended (`false`).
    TurnInFlight(bool),
}

/// Held while a conversation turn is answered: commentary is deferred
/// until every turn's guard is dropped.
pub struct TurnGuard {
    tx: mpsc::Sender<Cmd>,
}

impl Drop for TurnGuard {
    fn drop(&mut self) {
        let tx = self.tx.clone();
        if let Err(mpsc::error::TrySendError::Full(cmd)) = tx.try_send(Cmd::TurnInFlight(false)) {
            tokio::spawn(async move {
                let _ = tx.send(cmd).await;
            });
        }
    }
}

/// Talks to the brain task.
#[derive(Clone)]
pub struct BrainHandle {
    tx: mpsc::Sender<Cmd>,
    /// The (watch, target) pairs the brain takes frames of: its followed
    /// watch and the one waiting to take over.
    interest: watch::Receiver<Interest>,
    /// The watch most recently announced through this handle (its frames
    /// are sent even before the brain has published its interest in it).
    announced: Arc<std::sync::atomic::AtomicU64>,
}

/// Whose link frames the brain uses; every other frame would only wake
/// the brain to be dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Interest {
    active: Option<(u64, u64)>,
    waiting: Option<(u64, u64)>,
}

impl BrainHandle {
    /// Follows a new watch (replacing the previous one).
    pub async fn watch_started(&self, w: BrainWatch) {
        self.announced
            .store(w.watch_id, std::sync::atomic::Ordering::Relaxed);
        let _ = self.tx.send(Cmd::Start(w)).await;
    }
    /// The watch ended (its recap is made and saved).
    pub async fn watch_ended(&self, watch_id: u64, reason: &str) {
        let _ = self.tx.send(Cmd::End(watch_id, reason.to_owned())).await;
    }
    /// A frame that came through a share link (already admitted).
    pub async fn link_frame(
        &self,
        watch_id: u64,
        target: u64,
        jpeg: Vec<u8>,
        change_score: f32,
        ema_score: f32,
        scene_cut: bool,
    ) {
        let wanted = {
            let i = *self.interest.borrow();
            i.active == Some((watch_id, target))
                || i.waiting == Some((watch_id, target))
                || self.announced.load(std::sync::atomic::Ordering::Relaxed) == watch_id
        };
        if !wanted {
            return;
        }
        let f = LinkFrameIn {
            watch_id,
            target,
            jpeg,
            change_score,
            ema_score,
            scene_cut,
        };
        let _ = self.tx.send(Cmd::Frame(f)).await;
    }

    /// What a conversation turn is answered from.
    pub async fn turn_context(&self) -> TurnContext {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::TurnContext(tx)).await.is_err() {
            return TurnContext::default();
        }
        rx.await.unwrap_or_default()
    }

    /// A conversation turn is being answered until the guard is dropped;
    /// autonomous commentary waits meanwhile (pending voice work).
    pub async fn turn_started(&self) -> TurnGuard {
        let _ = self.tx.send(Cmd::TurnInFlight(true)).await;
        TurnGuard {
            tx: self.tx.clone(),
        }
    }

    /// A conversation turn (folded into the session summary over time).
    pub async fn record_turn(&self, speaker: &str, text: &str) {
        let turn = brain_core::Turn {
            speaker: speaker.to_owned(),
            text: text.to_owned(),
        };
        let _ = self.tx.send(Cmd::Turn(turn)).await;
    }

    /// The latest admitted frame of the watch (JPEG).
    pub async fn latest_frame(&self) -> Option<Vec<u8>> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::LatestFrame(tx)).await.ok()?;
        rx.await.ok().flatten()
    }

    /// The current view.
    pub async fn view(&self) -> Option<BrainView> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::View(tx)).await.ok()?;
        rx.await.ok()
    }
}

struct LinkFrameIn {
    watch_id: u64,
    target: u64,
    jpeg: Vec<u8>,
    change_score: f32,
    ema_score: f32,
    scene_cut: bool,
}

enum Done {
    Note(u64, Result<String, String>),
    Commentary(u64, String, Result<String, String>),
    /// A compaction run of the session memory (not tied to a watch).
    Summary(Result<String, String>),
    Recap(RecapView),
}

struct Active {
    watch: BrainWatch,
    started: Instant,
    intake: FrameIntake,
    notes: NoteLoop,
    commentary: CommentaryLoop,
    book: NoteBook,
    latest_jpeg: Option<Arc<Vec<u8>>>,
    latest_at: Option<Instant>,
    log: Vec<CommentaryEntry>,
}

/// Starts the brain task.
pub fn spawn_brain(
    settings: watch::Receiver<Settings>,
    store: Option<Store>,
    provider: Arc<dyn Provider>,
    rest: Option<RestClient>,
    media: &MediaHandle,
    voice: Option<VoiceHandle>,
    tasks: &mut crate::tasks::Tasks,
) -> BrainHandle {
    let (tx, rx) = mpsc::channel(32);
    let (interest_tx, interest) = watch::channel(Interest::default());
    let current = settings.borrow().clone();
    let providers = llm::ProviderSet::from_env(provider.clone(), |name| std::env::var(name).ok());
    let task = Brain {
        providers,
        notes_unavailable: None,
        commentary_unavailable: None,
        interest: interest_tx,
        settings: current,
        settings_rx: settings,
        store,
        last_recap: None,
        waiting: None,
        provider,
        rest,
        media: media.events(),
        commands: rx,
        active: None,
        done_tx: mpsc::channel(16).0,
        llm_errors: 0,
        memory: Compactor::default(),
        turns_in_flight: 0,
        voice_state: voice.as_ref().map(VoiceHandle::state),
        voice,
    };
    tasks.spawn("brain", task.run(tasks.stopped()));
    BrainHandle {
        tx,
        interest,
        announced: Arc::default(),
    }
}

struct Brain {
    /// Published after every step: whose link frames are wanted.
    interest: watch::Sender<Interest>,
    settings: Settings,
    settings_rx: watch::Receiver<Settings>,
    store: Option<Store>,
    last_recap: Option<RecapView>,
    /// A newer watch that takes over with its first frame.
    waiting: Option<BrainWatch>,
    provider: Arc<dyn Provider>,
    /// Serves `noteProvider` / `commentaryProvider` by name.
    providers: llm::ProviderSet,
    /// Why notes are not made (logged once per reason).
    notes_unavailable: Option<String>,
    /// Why commentary is not made (logged once per reason).
    commentary_unavailable: Option<String>,
    rest: Option<RestClient>,
    media: broadcast::Receiver<Arc<MediadMsg>>,
    commands: mpsc::Receiver<Cmd>,
    active: Option<Active>,
    done_tx: mpsc::Sender<Done>,
    llm_errors: u64,
    /// The voice session's memory: conversation turns, the summary, the
    /// ended watch's notes (inactive).
    memory: Compactor,
    /// Conversation turns being answered (pending voice work).
    turns_in_flight: u32,
    /// Spoken replies.
    voice: Option<VoiceHandle>,
    /// The speech floor and transcriptions (playback and voice-work gates).
    voice_state: Option<watch::Receiver<VoiceState>>,
}

impl Brain {
    async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let (done_tx, mut done_rx) = mpsc::channel(16);
        self.done_tx = done_tx;
        loop {
            let deadline = self.active.as_ref().and_then(|a| a.notes.poll_timeout());
            tokio::select! {
                () = &mut shutdown => break,
                Ok(()) = self.settings_rx.changed() => {
                    let s = self.settings_rx.borrow_and_update().clone();
                    self.apply_settings(s);
                }
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.on_cmd(cmd),
                    None => break,
                },
                ev = self.media.recv() => match ev {
                    Ok(msg) => self.on_media(&msg),
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                Some(done) = done_rx.recv() => self.on_done(done).await,
                Ok(()) = async {
                    match &mut self.voice_state {
                        Some(rx) => rx.changed().await,
                        None => std::future::pending().await,
                    }
                } => self.apply_voice_gates(),
                () = daemon_support::sleep_until(deadline) => {}
            }
            self.poll_notes();
            self.poll_memory();
            let now = Interest {
                active: self
                    .active
                    .as_ref()
                    .map(|a| (a.watch.watch_id, a.watch.target)),
                waiting: self.waiting.as_ref().map(|w| (w.watch_id, w.target)),
            };
            self.interest
                .send_if_modified(|i| std::mem::replace(i, now) != now);
        }
    }

    /// Follows `w` from now on (the previous watch gets its recap).
    fn follow(&mut self, w: BrainWatch) {
        self.end_watch("replaced_by_new_watch");
        // A new watch: the ended watch's notes leave the prompts.
        self.memory.retire_ended_watch();
        tracing::info!(
            watch = w.watch_id,
            target = w.target,
            provider = self.provider.name(),
            "brain follows the watch"
        );
        let mut commentary = CommentaryLoop::new(&self.settings);
        commentary.set_voice_work(BusyKind::PendingReply, self.turns_in_flight);
        if let Some(rx) = &self.voice_state {
            let v = rx.borrow();
            commentary.set_busy(BusyKind::Playback, v.busy);
            commentary.set_voice_work(BusyKind::VoiceWork, v.transcriptions_pending);
        }
        self.active = Some(Active {
            started: Instant::now(),
            intake: FrameIntake::new(&self.settings),
            notes: NoteLoop::new(&self.settings),
            commentary,
            book: NoteBook::new(self.settings.max_note_entries as usize),
            latest_jpeg: None,
            latest_at: None,
            log: Vec::new(),
            watch: w,
        });
    }

    /// New settings apply at once to the loops of the current watch.
    fn apply_settings(&mut self, s: Settings) {
        if let Some(a) = &mut self.active {
            a.intake.update_settings(&s);
            a.notes.update_settings(&s);
            a.commentary.update_settings(&s);
            a.book.set_max_entries(s.max_note_entries as usize);
        }
        self.settings = s;
    }

    /// Folds evicted notes into the running summary, one call at a time.
    fn poll_memory(&mut self) {
        if let Some(a) = &mut self.active {
            let evicted = a.book.take_pending_compaction();
            if !evicted.is_empty() {
                self.memory.push_notes(evicted);
            }
        }
        let Some(job) = self.memory.poll(Instant::now()) else {
            return;
        };
        let req = summary_request(job.prompt);
        spawn_call(
            self.provider.clone(),
            req,
            self.done_tx.clone(),
            Done::Summary,
            0,
        );
    }

    /// The watch ended: its recap is asked for and saved (off this task).
    fn end_watch(&mut self, reason: &str) {
        let Some(a) = self.active.take() else { return };
        tracing::info!(
            watch = a.watch.watch_id,
            reason,
            "brain stops following the watch"
        );
        let recap = brain_core::recap(&a.book, &a.watch.target_name, reason);
        let notes: Vec<String> = a.book.notes().map(|n| n.text.clone()).collect();
        // The notes stay in prompts, marked inactive (reference §4.10).
        self.memory
            .keep_ended_watch(&a.watch.target_name, reason, a.book);
        let Some(recap) = recap else {
            return;
        };
        let provider = self.provider.clone();
        let store = self.store.clone();
        let done = self.done_tx.clone();
        let w = a.watch;
        let reason = reason.to_owned();
        tokio::spawn(async move {
            let req = recap_request(recap.prompt.clone());
            let made = match provider.complete(req).await {
                Ok(r) => brain_core::parse_recap(&r.text).unwrap_or(recap.fallback),
                Err(e) => {
                    tracing::warn!(error = %e, "recap call failed; using the notes' recap");
                    recap.fallback
                }
            };
            let mut view = RecapView {
                watch_id: w.watch_id,
                target_name: w.target_name.clone(),
                text: made.text.clone(),
                saved: false,
                id: None,
                not_saved_reason: None,
            };
            match (&store, made.should_store) {
                (_, false) => view.not_saved_reason = Some("nothing worth keeping".into()),
                (None, true) => view.not_saved_reason = Some("no store".into()),
                (Some(store), true) => {
                    let record = RecapRecord {
                        id: 0,
                        watch_id: w.watch_id,
                        guild_id: w.guild.into(),
                        target_id: w.target.into(),
                        target_name: w.target_name,
                        ended_at_ms: std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                        reason,
                        summary: made.text,
                        notes,
                    };
                    match store.save_recap(record).await {
                        Ok(id) => {
                            view.saved = true;
                            view.id = Some(id);
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "recap not saved");
                            view.not_saved_reason = Some(e.to_string());
                        }
                    }
                }
            }
            tracing::info!(event = "screen_watch_recap", watch = view.watch_id, saved = view.saved, text = %view.text, "screen share recap");
            let _ = done.send(Done::Recap(view)).await;
        });
    }

    fn on_cmd(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::LatestFrame(reply) => {
                let jpeg = self
                    .active
                    .as_ref()
                    .and_then(|a| a.latest_jpeg.as_ref())
                    .map(|j| j.as_ref().clone());
                let _ = reply.send(jpeg);
            }
            Cmd::TurnContext(reply) => {
                let now = Instant::now();
                let mut ctx = match (&self.active, self.memory.ended_watch()) {
                    (Some(a), _) => TurnContext {
                        watching: Some(a.watch.target_name.clone()),
                        notes: a.book.prompt_context(now),
                        frame: a
                            .latest_jpeg
                            .clone()
                            .zip(a.latest_at.map(|t| now.saturating_duration_since(t))),
                        ..TurnContext::default()
                    },
                    (None, Some(ended)) => TurnContext {
                        ended: Some(ended.target_name.clone()),
                        notes: ended.prompt_context(now),
                        ..TurnContext::default()
                    },
                    (None, None) => TurnContext::default(),
                };
                ctx.summary = self.memory.summary().to_owned();
                ctx.recent = self.memory.recent_turns(brain_core::CHAT_RECENT_TURNS + 1);
                let _ = reply.send(ctx);
            }
            Cmd::Turn(turn) => self.memory.push_turn(turn),
            Cmd::TurnInFlight(started) => {
                self.turns_in_flight = if started {
                    self.turns_in_flight.saturating_add(1)
                } else {
                    self.turns_in_flight.saturating_sub(1)
                };
                if let Some(a) = &mut self.active {
                    a.commentary
                        .set_voice_work(BusyKind::PendingReply, self.turns_in_flight);
                }
            }
            Cmd::Frame(f) => {
                // A waiting watch takes over with its first frame.
                if let Some(w) = self
                    .waiting
                    .take_if(|w| w.watch_id == f.watch_id && w.target == f.target)
                {
                    self.follow(w);
                }
                if self
                    .active
                    .as_ref()
                    .is_some_and(|a| a.watch.watch_id == f.watch_id && a.watch.target == f.target)
                {
                    self.on_frame(f.jpeg, f.change_score, f.ema_score, f.scene_cut);
                }
            }
            Cmd::Start(w) => {
                if self
                    .active
                    .as_ref()
                    .is_some_and(|a| a.watch.watch_id == w.watch_id)
                {
                    return;
                }
                // A watch that is delivering is not dropped for one that may
                // never deliver (a share link nobody opens): the new one
                // waits for its first frame.
                if self
                    .active
                    .as_ref()
                    .is_some_and(|a| a.latest_jpeg.is_some())
                {
                    tracing::info!(watch = w.watch_id, "new watch waits for its first frame");
                    self.waiting = Some(w);
                    return;
                }
                self.follow(w);
            }
            Cmd::End(id, reason) => {
                if self.waiting.as_ref().is_some_and(|w| w.watch_id == id) {
                    self.waiting = None;
                }
                if self.active.as_ref().is_some_and(|a| a.watch.watch_id == id) {
                    self.end_watch(&reason);
                }
            }
            Cmd::View(reply) => {
                let now = Instant::now();
                let earlier = self.memory.ended_watch().map(|e| EarlierView {
                    target_name: e.target_name.clone(),
                    reason: e.reason.clone(),
                    notes: e.book.notes().map(|n| n.text.clone()).collect(),
                    prompt_context: e.prompt_context(now),
                    live: false,
                });
                let mut view = match &self.active {
                    Some(a) => BrainView {
                        provider: self.provider.name().to_owned(),
                        watch_id: Some(a.watch.watch_id),
                        frames: a.intake.admitted_total(),
                        notes: a.book.notes().map(|n| n.text.clone()).collect(),
                        prompt_context: a.book.prompt_context(now),
                        commentary: a.log.clone(),
                        llm_errors: self.llm_errors,
                        last_recap: self.last_recap.clone(),
                        ..BrainView::default()
                    },
                    None => BrainView {
                        provider: self.provider.name().to_owned(),
                        llm_errors: self.llm_errors,
                        last_recap: self.last_recap.clone(),
                        ..BrainView::default()
                    },
                };
                view.notes_unavailable.clone_from(&self.notes_unavailable);
                view.commentary_unavailable
                    .clone_from(&self.commentary_unavailable);
                view.summary = self.memory.summary().to_owned();
                view.earlier = earlier;
                view.turns_in_flight = self.turns_in_flight;
                let _ = reply.send(view);
            }
        }
    }

    fn on_media(&mut self, msg: &MediadMsg) {
        if let MediadMsg::DecodedVideoFrame(f) = msg
            && let Some(w) = self.waiting.take_if(|w| w.target == f.user_id.0)
        {
            self.follow(w);
        }
        let Some(a) = &mut self.active else { return };
        match msg {
            MediadMsg::DecodedVideoFrame(f) if f.user_id.0 == a.watch.target => {
                let (jpeg, c, e, cut) = (f.jpeg.clone(), f.change_score, f.ema_score, f.scene_cut);
                self.on_frame(jpeg, c, e, cut);
            }
            // Voice activity from mediad's VAD (not op 5, which only says
            // a client transmits).
            MediadMsg::UserSpeech(s) => {
                a.commentary
                    .on_speaking(Instant::now(), s.user_id.0, s.speaking);
            }
            _ => {}
        }
    }

    /// The speech floor's and the transcriptions' state into the gates.
    fn apply_voice_gates(&mut self) {
        let (Some(rx), Some(a)) = (&mut self.voice_state, &mut self.active) else {
            return;
        };
        let v = rx.borrow_and_update();
        a.commentary.set_busy(BusyKind::Playback, v.busy);
        a.commentary
            .set_voice_work(BusyKind::VoiceWork, v.transcriptions_pending);
    }

    /// A frame of the watched user, native or from a link.
    fn on_frame(&mut self, jpeg: Vec<u8>, change_score: f32, ema_score: f32, scene_cut: bool) {
        let Some(a) = &mut self.active else { return };
        let meta = FrameMeta {
            at: Instant::now(),
            bytes: jpeg.len(),
            change_score,
            ema_score,
            scene_cut,
        };
        let Ok(meta) = a.intake.admit(meta) else {
            return;
        };
        a.latest_jpeg = Some(Arc::new(jpeg));
        a.latest_at = Some(meta.at);
        a.notes.on_frame(meta);
        if let CommentaryDecision::Fire(job) = a.commentary.on_frame(meta) {
            let trigger = job.trigger.as_str().to_owned();
            let call = self.settings.commentary_call();
            let Some(provider) = available(
                self.providers.resolve(call.provider.as_deref()),
                &mut self.commentary_unavailable,
                "commentary",
            ) else {
                a.commentary.on_commentary_done();
                return;
            };
            let req = commentary_request(&self.settings, &call, a, &trigger, &meta);
            spawn_call(
                provider,
                req,
                self.done_tx.clone(),
                move |r| Done::Commentary(0, trigger, r),
                a.watch.watch_id,
            );
        }
    }

    fn poll_notes(&mut self) {
        let Some(a) = &mut self.active else { return };
        let Some(job) = a.notes.poll(Instant::now()) else {
            return;
        };
        let Some(jpeg) = a.latest_jpeg.clone() else {
            a.notes.on_note_done(Instant::now(), Err("no frame".into()));
            return;
        };
        // No model or no configured provider: no call at all (the loop
        // carries on, so notes resume as soon as the settings allow).
        let call = note_call(&self.settings, &self.providers);
        let Some((call, provider)) = available(call, &mut self.notes_unavailable, "notes") else {
            a.notes
                .on_note_done(Instant::now(), Err("notes unavailable".into()));
            return;
        };
        let context = a.book.prompt_context(Instant::now());
        let prompt = brain_core::note_prompt(
            &self.settings,
            &context,
            &a.watch.target_name,
            job.trigger.as_str(),
            &job.frame,
        );
        let req = note_request(&call, prompt, jpeg.as_ref().clone());
        spawn_call(
            provider,
            req,
            self.done_tx.clone(),
            |r| Done::Note(0, r),
            a.watch.watch_id,
        );
    }

    async fn on_done(&mut self, done: Done) {
        let now = Instant::now();
        match done {
            Done::Note(id, result) => {
                if result.is_err() {
                    self.llm_errors += 1;
                }
                let Some(a) = self.active.as_mut().filter(|a| a.watch.watch_id == id) else {
                    return;
                };
                if let Err(e) = &result {
                    tracing::warn!(error = %e, "note call failed; the loop carries on");
                }
                if let Some(note) = a.notes.on_note_done(now, result) {
                    let origin = NoteOrigin {
                        speaker: Some(a.watch.target_name.clone()),
                        provider: Some(self.provider.name().to_owned()),
                        model: None,
                    };
                    a.book.push(now, &note, origin);
                    tracing::info!(event = "screen_note", watch = id, note = %note, "screen note");
                }
            }
            Done::Summary(result) => {
                if result.is_err() {
                    self.llm_errors += 1;
                }
                self.memory.on_summary(now, result);
            }
            Done::Recap(view) => {
                // The recap joins the conversation memory (reference
                // §4.10: ingested as a message of the agent).
                let recap = brain_core::Recap {
                    text: view.text.clone(),
                    should_store: view.saved,
                };
                self.memory.push_turn(brain_core::Turn {
                    speaker: RECAP_SPEAKER.to_owned(),
                    text: recap.memory_message(),
                });
                self.last_recap = Some(view);
            }
            Done::Commentary(id, trigger, result) => {
                let Some(a) = self.active.as_mut().filter(|a| a.watch.watch_id == id) else {
                    return;
                };
                a.commentary.on_commentary_done();
                let text = match result {
                    Ok(t) => t,
                    Err(e) => {
                        self.llm_errors += 1;
                        tracing::warn!(error = %e, "commentary call failed; the loop carries on");
                        return;
                    }
                };
                let c = parse_commentary(&text);
                for n in &c.notes {
                    a.book.add_directive(now, n);
                }
                if c.skip || c.text.trim().is_empty() {
                    return;
                }
                let mut posted = false;
                let spoken = match (&self.voice, self.settings.spoken_replies) {
                    (Some(v), true) => v.speak(&c.text, SpeakKind::Commentary).await.is_some(),
                    _ => false,
                };
                if let (Some(rest), Some(channel), true) = (
                    &self.rest,
                    a.watch.text_channel,
                    self.settings.text_channel_replies,
                ) {
                    match rest.post_message(channel, &c.text).await {
                        Ok(()) => posted = true,
                        Err(e) => tracing::warn!(error = %e, channel, "commentary not posted"),
                    }
                }
                tracing::info!(event = "screen_commentary", trigger = %trigger, posted, spoken, text = %c.text, "commentary");
                let at_secs = a.started.elapsed().as_secs_f64();
                a.log.push(CommentaryEntry {
                    trigger,
                    text: c.text,
                    posted,
                    spoken,
                    at_secs,
                });
                if a.log.len() > 100 {
                    a.log.remove(0);
                }
            }
        }
    }
}

/// Who the recap's `Screen share recap: …` turn is from (the agent, as its
/// conversation replies).
pub const RECAP_SPEAKER: &str = "agent";

//! A slot's inbound lanes: what reaches a slot's task, split by kind, each
//! bounded with its own policy when full.
//!
//! | lane | from | bound | when full |
//! |---|---|---|---|
//! | stop | supervisor | one message (`oneshot`) | cannot be full: always delivered |
//! | subscriptions, paused | supervisor | one value (`watch`) | the newest state replaces an unread one |
//! | voice | supervisor | [`VOICE_CHUNKS`] chunks + [`VOICE_RESERVE`] cancels/failures | the chunk's utterance fails (`Playback::Failed`, reported once by the voice sender) and its later chunks are refused; a cancel past the reserve is dropped, counted and logged |
//! | publish | supervisor | [`PUBLISH_LANE`] frames | drop-oldest, counted (raw pictures: no keyframe needed) |
//! | video RTP | publisher thread | [`RTP_LANE`] batches (one encoded frame each) | drop-oldest, counted; the slot asks the encoder for an IDR |
//! | audio | voice sender thread | [`AUDIO_LANE`] entries (20 ms packets) | drop-oldest packet, counted; op 5 speaking edges are never evicted |
//! | feedback | decoder workers | [`FEEDBACK_LANE`] requests | drop-oldest NACK/keyframe request, counted (the receiver asks again) |
//!
//! The supervisor never waits on a lane; the media threads never wait on
//! the slot (a thread blocked on the slot while the slot waits on it would
//! deadlock: see `Publisher::paused`). Drop-oldest lanes are
//! [`ipc_conn::LossyLane`]s, the same type as the IPC's video lane.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use ipc_conn::LossyLane;
use ipc_schema::{PublishFrame, UtteranceId, VideoSubscription, VoicePlayChunk};
use tokio::sync::{mpsc, oneshot, watch};

/// Publish frames waiting for the slot (newest kept).
pub(crate) const PUBLISH_LANE: usize = 3;
/// Encoded video frames (RTP batches) waiting to be sealed and sent.
pub(crate) const RTP_LANE: usize = 8;
/// Audio packets and speaking edges waiting (25 packets: 500 ms).
pub(crate) const AUDIO_LANE: usize = 25;
/// NACK and keyframe requests of the decoder workers waiting.
pub(crate) const FEEDBACK_LANE: usize = 64;
/// Utterance chunks waiting for the slot: as many as the voice sender
/// itself queues (100 ms each, at most ~10 MB).
pub(crate) const VOICE_CHUNKS: usize = super::voice_send::QUEUE;
/// Room on the voice lane kept for cancels and overflow failures, which
/// chunks cannot take.
pub(crate) const VOICE_RESERVE: usize = 64;
/// Utterances remembered as refused (their later chunks are dropped).
const REFUSED_IDS: usize = 32;

/// Commands from the supervisor.
#[derive(Debug)]
pub enum SlotCmd {
    /// The video subscriptions changed.
    Subscriptions(Vec<VideoSubscription>),
    /// A frame to publish (stream_publish).
    Publish(PublishFrame),
    /// Publishing paused or resumed.
    PublishPaused(bool),
    /// Barge-in (voice). (Chunks to speak go through
    /// [`SlotHandle::play`](super::SlotHandle::play).)
    VoiceCancel(UtteranceId),
}

/// The voice lane, in order: chunks and cancels of utterances.
#[derive(Debug)]
pub(crate) enum VoiceCmd {
    Play(VoicePlayChunk),
    Cancel(UtteranceId),
    /// The lane overflowed while this utterance was arriving: it fails
    /// with this reason (its earlier chunks stop playing).
    Fail(UtteranceId, String),
}

/// What a decoder worker asks the slot to send.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WorkerAsk {
    /// A keyframe on this SSRC (PLI).
    Keyframe(u32),
    /// These packets again (Generic NACK).
    Nack(u32, Vec<rtp::SeqNo>),
}

/// What the voice sender thread hands the slot, in order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AudioOut {
    /// Op 5 microphone on (before the first packet) or off (after the
    /// silence tail).
    Speaking(bool),
    /// One audio RTP packet to seal and send.
    Packet(Vec<u8>),
}

/// A `VoicePlay` the supervisor must report as failed itself (the slot
/// could not be told).
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    /// The utterance.
    pub id: UtteranceId,
    /// Why.
    pub reason: String,
}

/// Drops counted on a slot's lanes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LaneDrops {
    pub publish_frames: u64,
    pub rtp_batches: u64,
    pub audio_packets: u64,
    pub feedback: u64,
    /// Utterances failed because the voice lane was full.
    pub voice_refused: u64,
    /// Cancels dropped past the voice lane's reserve.
    pub voice_cancels: u64,
}

impl LaneDrops {
    pub(crate) fn total(&self) -> u64 {
        self.publish_frames
            + self.rtp_batches
            + self.audio_packets
            + self.feedback
            + self.voice_refused
            + self.voice_cancels
    }
}

/// The drop-oldest lanes and counters, shared by the supervisor's handle,
/// the slot and its threads.
#[derive(Debug)]
pub(crate) struct Shared {
    pub publish: LossyLane<PublishFrame>,
    pub rtp: LossyLane<Vec<Vec<u8>>>,
    pub audio: LossyLane<AudioOut>,
    pub feedback: LossyLane<WorkerAsk>,
    /// Chunks on the voice lane not yet taken by the slot.
    voice_chunks: AtomicUsize,
    voice_refused: AtomicU64,
    voice_cancels: AtomicU64,
}

/// The slot's threads' side of the lanes (cheap to clone).
#[derive(Clone, Debug)]
pub(crate) struct SlotLanes(Arc<Shared>);

impl SlotLanes {
    /// From a decoder worker; a full lane drops the oldest request.
    pub(crate) fn ask(&self, ask: WorkerAsk) {
        self.0.feedback.push(ask);
    }

    /// From the publisher thread; a full lane drops the oldest batch.
    pub(crate) fn send_rtp(&self, packets: Vec<Vec<u8>>) {
        self.0.rtp.push(packets);
    }

    /// From the voice sender; a full lane drops the oldest packet, never a
    /// speaking edge.
    pub(crate) fn audio(&self, out: AudioOut) {
        self.0
            .audio
            .push_evicting(out, |o| matches!(o, AudioOut::Packet(_)));
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.0
    }

    pub(crate) fn drops(&self) -> LaneDrops {
        let s = &self.0;
        LaneDrops {
            publish_frames: s.publish.dropped(),
            rtp_batches: s.rtp.dropped(),
            audio_packets: s.audio.dropped(),
            feedback: s.feedback.dropped(),
            voice_refused: s.voice_refused.load(Ordering::Relaxed),
            voice_cancels: s.voice_cancels.load(Ordering::Relaxed),
        }
    }
}

/// The slot task's receiving side of the supervisor's lanes.
pub(crate) struct Inbox {
    pub stop: oneshot::Receiver<String>,
    pub subscriptions: watch::Receiver<Vec<VideoSubscription>>,
    pub paused: watch::Receiver<bool>,
    pub voice: VoiceRx,
}

/// The receiving end of the voice lane.
pub(crate) struct VoiceRx {
    rx: mpsc::Receiver<VoiceCmd>,
    lanes: SlotLanes,
}

impl VoiceRx {
    /// A voice command already waiting.
    pub(crate) fn try_recv(&mut self) -> Option<VoiceCmd> {
        let cmd = self.rx.try_recv().ok()?;
        if matches!(cmd, VoiceCmd::Play(_)) {
            self.lanes.0.voice_chunks.fetch_sub(1, Ordering::Relaxed);
        }
        Some(cmd)
    }

    /// The next voice command; pending forever once the handle is gone
    /// (the stop lane ends the slot then).
    pub(crate) async fn recv(&mut self) -> VoiceCmd {
        match self.rx.recv().await {
            Some(cmd) => {
                if matches!(cmd, VoiceCmd::Play(_)) {
                    self.lanes.0.voice_chunks.fetch_sub(1, Ordering::Relaxed);
                }
                cmd
            }
            None => std::future::pending().await,
        }
    }
}

/// Takes at most `limit` entries, leaving a wake-up for any rest, so a
/// producer pushing as fast as the slot drains cannot hold the slot's task
/// in one branch.
pub(crate) fn take_batch<T>(lane: &LossyLane<T>, limit: usize) -> Vec<T> {
    let batch: Vec<T> = std::iter::from_fn(|| lane.pop()).take(limit).collect();
    if !lane.is_empty() {
        lane.renotify();
    }
    batch
}

/// Waits for a new value; pending forever once the sender is gone.
pub(crate) async fn changed<T>(rx: &mut watch::Receiver<T>) {
    if rx.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The supervisor's sending side.
#[derive(Debug)]
pub(crate) struct Outbox {
    stop: Option<oneshot::Sender<String>>,
    subscriptions: watch::Sender<Vec<VideoSubscription>>,
    paused: watch::Sender<bool>,
    voice: mpsc::Sender<VoiceCmd>,
    lanes: SlotLanes,
    /// Utterances whose chunks are refused from now on.
    refused: Mutex<VecDeque<UtteranceId>>,
}

/// A slot's lanes: the supervisor's end, the slot task's end, and the
/// threads' end.
pub(crate) fn slot_lanes(
    subscriptions: Vec<VideoSubscription>,
    paused: bool,
) -> (Outbox, Inbox, SlotLanes) {
    let lanes = SlotLanes(Arc::new(Shared {
        publish: LossyLane::new(PUBLISH_LANE),
        rtp: LossyLane::new(RTP_LANE),
        audio: LossyLane::new(AUDIO_LANE),
        feedback: LossyLane::new(FEEDBACK_LANE),
        voice_chunks: AtomicUsize::new(0),
        voice_refused: AtomicU64::new(0),
        voice_cancels: AtomicU64::new(0),
    }));
    let (stop_tx, stop_rx) = oneshot::channel();
    let (subs_tx, subs_rx) = watch::channel(subscriptions);
    let (paused_tx, paused_rx) = watch::channel(paused);
    let (voice_tx, voice_rx) = mpsc::channel(VOICE_CHUNKS + VOICE_RESERVE);
    let outbox = Outbox {
        stop: Some(stop_tx),
        subscriptions: subs_tx,
        paused: paused_tx,
        voice: voice_tx,
        lanes: lanes.clone(),
        refused: Mutex::new(VecDeque::new()),
    };
    let inbox = Inbox {
        stop: stop_rx,
        subscriptions: subs_rx,
        paused: paused_rx,
        voice: VoiceRx {
            rx: voice_rx,
            lanes: lanes.clone(),
        },
    };
    (outbox, inbox, lanes)
}

impl Outbox {
    /// Hands `cmd` over without waiting.
    pub(crate) fn send(&self, cmd: SlotCmd) {
        match cmd {
            SlotCmd::Subscriptions(subs) => {
                self.subscriptions.send_replace(subs);
            }
            SlotCmd::PublishPaused(p) => {
                self.paused.send_replace(p);
            }
            SlotCmd::Publish(frame) => {
                if self.lanes.0.publish.push(frame) {
                    tracing::debug!("slot busy; oldest publish frame dropped");
                }
            }
            SlotCmd::VoiceCancel(id) => {
                if let Err(mpsc::error::TrySendError::Full(_)) =
                    self.voice.try_send(VoiceCmd::Cancel(id))
                {
                    self.lanes.0.voice_cancels.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(id = id.0, "voice lane full; cancel dropped");
                }
            }
        }
    }

    fn refused(&self) -> std::sync::MutexGuard<'_, VecDeque<UtteranceId>> {
        self.refused.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands a chunk to speak over without waiting. `Err` only for a chunk
    /// whose failure the slot could not be told (the caller reports it).
    pub(crate) fn play(&self, chunk: VoicePlayChunk) -> Result<(), Refused> {
        let id = chunk.id;
        if self.refused().contains(&id) {
            // Already failed: the rest of it would play with a hole.
            return Ok(());
        }
        let queued = &self.lanes.0.voice_chunks;
        if queued.load(Ordering::Relaxed) < VOICE_CHUNKS {
            queued.fetch_add(1, Ordering::Relaxed);
            match self.voice.try_send(VoiceCmd::Play(chunk)) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    // The slot ended; its voice sender reported what it held.
                    queued.fetch_sub(1, Ordering::Relaxed);
                    return Ok(());
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    queued.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
        let reason = format!("voice slot busy ({VOICE_CHUNKS} chunks queued)");
        tracing::warn!(id = id.0, %reason, "voice_play chunk refused; utterance fails");
        self.lanes.0.voice_refused.fetch_add(1, Ordering::Relaxed);
        {
            let mut refused = self.refused();
            if refused.len() >= REFUSED_IDS {
                refused.pop_front();
            }
            refused.push_back(id);
        }
        // In order behind its earlier chunks, on the reserved room.
        match self.voice.try_send(VoiceCmd::Fail(id, reason.clone())) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => Err(Refused { id, reason }),
        }
    }

    /// Asks the slot to close and end; always delivered.
    pub(crate) fn stop(&mut self, reason: String) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipc_schema::PublishFormat;

    fn frame(n: u8) -> PublishFrame {
        PublishFrame {
            format: PublishFormat::Jpeg,
            data: vec![n],
            capture_time_us: 0,
        }
    }

    fn chunk(id: u64, seq: u32) -> VoicePlayChunk {
        VoicePlayChunk {
            id: UtteranceId(id),
            seq,
            pcm: vec![0; 960],
            last: false,
        }
    }

    #[test]
    fn publish_frames_drop_oldest_and_are_counted() {
        let (out, _inbox, lanes) = slot_lanes(Vec::new(), false);
        for n in 0..50 {
            out.send(SlotCmd::Publish(frame(n)));
            assert!(lanes.shared().publish.len() <= PUBLISH_LANE);
        }
        assert_eq!(lanes.drops().publish_frames, 50 - PUBLISH_LANE as u64);
        let kept: Vec<u8> = std::iter::from_fn(|| lanes.shared().publish.pop())
            .map(|f| f.data[0])
            .collect();
        assert_eq!(kept, vec![47, 48, 49]);
    }

    #[test]
    fn rtp_batches_and_worker_asks_drop_oldest() {
        let (_out, _inbox, lanes) = slot_lanes(Vec::new(), false);
        for n in 0..(RTP_LANE as u8 + 2) {
            lanes.send_rtp(vec![vec![n]]);
        }
        assert_eq!(lanes.drops().rtp_batches, 2);
        assert_eq!(lanes.shared().rtp.pop(), Some(vec![vec![2]]));
        for n in 0..(FEEDBACK_LANE as u32 + 1) {
            lanes.ask(WorkerAsk::Keyframe(n));
        }
        assert_eq!(lanes.drops().feedback, 1);
        assert_eq!(lanes.shared().feedback.pop(), Some(WorkerAsk::Keyframe(1)));
    }

    #[tokio::test]
    async fn a_batch_is_bounded_and_the_rest_wakes_the_slot_again() {
        let lane = LossyLane::new(10);
        for n in 0..10 {
            lane.push(n);
        }
        lane.notified().await;
        assert_eq!(take_batch(&lane, 4), vec![0, 1, 2, 3]);
        // Woken again for the rest, at once.
        lane.notified().await;
        assert_eq!(take_batch(&lane, 100).len(), 6);
        assert!(take_batch(&lane, 4).is_empty());
    }

    #[test]
    fn audio_lane_never_evicts_a_speaking_edge() {
        let (_out, _inbox, lanes) = slot_lanes(Vec::new(), false);
        lanes.audio(AudioOut::Speaking(true));
        for n in 0..100u8 {
            lanes.audio(AudioOut::Packet(vec![n]));
        }
        lanes.audio(AudioOut::Speaking(false));
        let audio = &lanes.shared().audio;
        assert_eq!(audio.len(), AUDIO_LANE);
        assert_eq!(lanes.drops().audio_packets, 100 + 2 - AUDIO_LANE as u64);
        let got: Vec<AudioOut> = std::iter::from_fn(|| audio.pop()).collect();
        // The edges keep their places around the newest packets.
        assert_eq!(got.first(), Some(&AudioOut::Speaking(true)));
        assert_eq!(got.last(), Some(&AudioOut::Speaking(false)));
        assert_eq!(got[1], AudioOut::Packet(vec![100 - (AUDIO_LANE as u8 - 2)]));
    }

    #[tokio::test]
    async fn stop_is_delivered_whatever_else_is_queued() {
        let (mut out, mut inbox, lanes) = slot_lanes(Vec::new(), false);
        for n in 0..10 {
            out.send(SlotCmd::Publish(frame(n)));
            lanes.send_rtp(vec![vec![n]]);
        }
        for seq in 0..VOICE_CHUNKS as u32 + 5 {
            let _ = out.play(chunk(1, seq));
        }
        for id in 0..2 * VOICE_RESERVE as u64 {
            out.send(SlotCmd::VoiceCancel(UtteranceId(id)));
        }
        out.stop("bye".into());
        assert_eq!((&mut inbox.stop).await.unwrap(), "bye");
        // A handle dropped without stop ends the slot too.
        let (out, inbox, _lanes) = slot_lanes(Vec::new(), false);
        drop(out);
        assert!(inbox.stop.await.is_err());
    }

    #[tokio::test]
    async fn subscriptions_and_pause_keep_the_newest_state() {
        let (out, mut inbox, _lanes) = slot_lanes(Vec::new(), false);
        for paused in [true, false, true] {
            out.send(SlotCmd::PublishPaused(paused));
        }
        changed(&mut inbox.paused).await;
        assert!(*inbox.paused.borrow_and_update());
        out.send(SlotCmd::Subscriptions(Vec::new()));
        changed(&mut inbox.subscriptions).await;
        assert!(!inbox.paused.has_changed().unwrap());
    }

    #[tokio::test]
    async fn voice_over_capacity_fails_the_utterance_once() {
        let (out, mut inbox, lanes) = slot_lanes(Vec::new(), false);
        for seq in 0..VOICE_CHUNKS as u32 {
            assert_eq!(out.play(chunk(7, seq)), Ok(()));
        }
        // One over: utterance 7 fails, in order behind its chunks.
        assert_eq!(out.play(chunk(7, VOICE_CHUNKS as u32)), Ok(()));
        // Its later chunks are refused without a second report, even
        // once there is room again.
        let first = inbox.voice.recv().await;
        assert!(matches!(first, VoiceCmd::Play(c) if c.seq == 0));
        assert_eq!(out.play(chunk(7, VOICE_CHUNKS as u32 + 1)), Ok(()));
        // Cancels still get through past the chunks' bound.
        out.send(SlotCmd::VoiceCancel(UtteranceId(8)));
        let mut rest = Vec::new();
        for _ in 0..VOICE_CHUNKS + 1 {
            rest.push(inbox.voice.recv().await);
        }
        assert!(
            matches!(&rest[VOICE_CHUNKS - 1], VoiceCmd::Fail(UtteranceId(7), r) if r.contains("busy"))
        );
        assert!(matches!(
            rest[VOICE_CHUNKS],
            VoiceCmd::Cancel(UtteranceId(8))
        ));
        assert!(
            inbox.voice.try_recv().is_none(),
            "no chunk after the failure"
        );
        assert_eq!(lanes.drops().voice_refused, 1);
        assert_eq!(lanes.shared().voice_chunks.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn voice_overflow_with_no_reserve_left_is_reported_by_the_caller() {
        let (out, _inbox, lanes) = slot_lanes(Vec::new(), false);
        for seq in 0..VOICE_CHUNKS as u32 {
            out.play(chunk(1, seq)).unwrap();
        }
        for id in 100..100 + VOICE_RESERVE as u64 + 3 {
            out.send(SlotCmd::VoiceCancel(UtteranceId(id)));
        }
        assert_eq!(lanes.drops().voice_cancels, 3);
        let refused = out.play(chunk(2, 0)).unwrap_err();
        assert_eq!(refused.id, UtteranceId(2));
        // Once only.
        assert_eq!(out.play(chunk(2, 1)), Ok(()));
    }
}

//! Per-stream video workers: one OS thread per received video SSRC runs
//! the receive chain of `video-receiver` (RTX, reorder/NACK, depacketize,
//! decode, gate, scale, JPEG, change metrics), off the slot's task.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ipc_schema::{DecodedVideoFrame, Ssrc, StreamType, TransportRole, UserId};
use tokio::sync::mpsc as tmpsc;
use video_pipeline::PipelineSettings;
use video_receiver::{
    FrameTransform, Output, PayloadCodec, ReceiverConfig, RtxConfig, VideoCodec, VideoReceiver,
};

use super::lanes::{SlotLanes, WorkerAsk};
use super::{TransportEvent, TransportMsg};

/// Packets queued per worker before new ones are dropped (about 1 s of
/// 1080p30 screen video).
const WORKER_QUEUE: usize = 1024;

enum WorkerIn {
    Rtp(Vec<u8>, Instant),
    Settings(PipelineSettings),
}

/// What a worker decodes.
pub(crate) struct WorkerSpec {
    pub role: TransportRole,
    pub generation: u64,
    pub user_id: UserId,
    pub stream_type: StreamType,
    pub ssrc: u32,
    pub rtx_ssrc: Option<u32>,
    /// Every video payload type we declared, with its codec: the worker
    /// follows the payload type of the packets (see `stream_plan::sink`).
    pub payload_codecs: Vec<PayloadCodec>,
    pub settings: PipelineSettings,
    /// The slot's DAVE session: frames are decrypted after reassembly.
    pub dave: super::dave::SharedDave,
}

/// Counters shared with the worker thread.
#[derive(Default)]
pub(crate) struct WorkerCounters {
    pub queue_dropped: AtomicU64,
    pub packets: AtomicU64,
    pub recovered: AtomicU64,
    pub lost: AtomicU64,
    pub decoded: AtomicU64,
    pub emitted: AtomicU64,
    pub keyframe_requests: AtomicU64,
    pub frames_dropped: AtomicU64,
}

/// Handle of one worker thread; dropping it stops the thread.
/// Which user and SSRCs it serves is the slot's receive plan's record
/// (`stream_plan::ReceivePlan::workers`).
pub(crate) struct VideoWorker {
    tx: Option<SyncSender<WorkerIn>>,
    thread: Option<JoinHandle<()>>,
    pub counters: Arc<WorkerCounters>,
}

impl VideoWorker {
    pub(crate) fn spawn(
        spec: WorkerSpec,
        events: tmpsc::Sender<TransportMsg>,
        slot: SlotLanes,
    ) -> std::io::Result<Self> {
        // The first codec is only where the receiver starts: it switches at
        // the first packet whose payload type says otherwise.
        let start = spec
            .payload_codecs
            .first()
            .map_or(VideoCodec::H264, |c| c.codec);
        let mut config = ReceiverConfig::new(start, rtp::Ssrc(spec.ssrc));
        config.payload_codecs = spec.payload_codecs.clone();
        config.rtx = spec.rtx_ssrc.and_then(|ssrc| {
            Some(RtxConfig {
                ssrc: rtp::Ssrc(ssrc),
                payload_type: spec.payload_codecs.first()?.rtx_payload_type?,
            })
        });
        config.pipeline = spec.settings;
        let (tx, rx) = mpsc::sync_channel(WORKER_QUEUE);
        let counters = Arc::new(WorkerCounters::default());
        let shared = counters.clone();
        let ssrc = spec.ssrc;
        let thread = std::thread::Builder::new()
            .name(format!("video-{}-{ssrc}", spec.role.as_str()))
            .spawn(move || run(spec, config, rx, events, slot, shared))?;
        Ok(Self {
            tx: Some(tx),
            thread: Some(thread),
            counters,
        })
    }

    /// Hands a packet over without blocking; a full queue drops it.
    pub(crate) fn push(&self, packet: Vec<u8>, now: Instant) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(WorkerIn::Rtp(packet, now)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.counters.queue_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn set_settings(&self, settings: PipelineSettings) {
        if let Some(tx) = &self.tx {
            // Settings are tiny and rare; if the queue is full the next
            // change will get through.
            let _ = tx.try_send(WorkerIn::Settings(settings));
        }
    }
}

impl Drop for VideoWorker {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop; joining is left to
        // the thread itself (it may be mid-decode), so a slot never blocks.
        self.tx.take();
        self.thread.take();
    }
}

fn wall_clock_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// DAVE decryption of a worker's frames, with the codec the receiver is
/// decoding now (DAVE's clear ranges depend on it).
struct DaveTransform {
    dave: super::dave::SharedDave,
    user: UserId,
    codec: dave_session::MediaCodec,
}

impl FrameTransform for DaveTransform {
    fn transform(&mut self, frame: &mut Vec<u8>) -> Result<(), String> {
        self.dave.decrypt(self.user, self.codec, frame)
    }

    fn set_codec(&mut self, codec: VideoCodec) {
        self.codec = match codec {
            VideoCodec::H264 => dave_session::MediaCodec::H264,
            VideoCodec::Vp8 => dave_session::MediaCodec::Vp8,
        };
    }
}

fn run(
    spec: WorkerSpec,
    config: ReceiverConfig,
    rx: mpsc::Receiver<WorkerIn>,
    events: tmpsc::Sender<TransportMsg>,
    slot: SlotLanes,
    counters: Arc<WorkerCounters>,
) {
    let mut receiver = match VideoReceiver::new(config) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(ssrc = spec.ssrc, error = %e, "cannot create the video receiver");
            return;
        }
    };
    receiver.set_transform(Box::new(DaveTransform {
        dave: spec.dave.clone(),
        user: spec.user_id,
        codec: dave_session::MediaCodec::H264,
    }));
    let mut frame_seq = 0u64;
    loop {
        let wait = receiver
            .poll_timeout()
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(1));
        match rx.recv_timeout(wait) {
            Ok(WorkerIn::Rtp(packet, at)) => {
                if let Err(e) = receiver.handle_rtp(at, &packet) {
                    tracing::trace!(ssrc = spec.ssrc, error = %e, "packet rejected");
                }
            }
            Ok(WorkerIn::Settings(s)) => receiver.set_pipeline_settings(s),
            Err(RecvTimeoutError::Timeout) => receiver.handle_timeout(Instant::now()),
            Err(RecvTimeoutError::Disconnected) => break,
        }
        while let Some(out) = receiver.poll_output() {
            match out {
                Output::Frame(f) => {
                    frame_seq += 1;
                    let e = f.frame;
                    let frame = DecodedVideoFrame {
                        user_id: spec.user_id,
                        ssrc: Ssrc(spec.ssrc),
                        stream_type: Some(spec.stream_type),
                        width: e.width,
                        height: e.height,
                        jpeg: e.jpeg,
                        change_score: e.change_score,
                        ema_score: e.ema_score,
                        scene_cut: e.scene_cut,
                        rtp_timestamp: f.rtp_timestamp.0,
                        capture_time_us: wall_clock_us(),
                        frame_seq,
                    };
                    let msg = TransportMsg {
                        role: spec.role,
                        generation: spec.generation,
                        event: TransportEvent::Frame(frame),
                    };
                    if events.try_send(msg).is_err() {
                        counters.frames_dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Output::Nack(seqs) => {
                    slot.ask(WorkerAsk::Nack(spec.ssrc, seqs));
                }
                Output::KeyframeRequest => {
                    slot.ask(WorkerAsk::Keyframe(spec.ssrc));
                }
                Output::Event(ev) => {
                    tracing::debug!(ssrc = spec.ssrc, event = ?ev, "video receiver")
                }
            }
        }
        let s = receiver.stats();
        counters.packets.store(s.packets, Ordering::Relaxed);
        counters.recovered.store(s.rtx_recovered, Ordering::Relaxed);
        counters.lost.store(s.lost, Ordering::Relaxed);
        counters.decoded.store(s.frames_decoded, Ordering::Relaxed);
        counters.emitted.store(s.frames_emitted, Ordering::Relaxed);
        counters
            .keyframe_requests
            .store(s.keyframe_requests, Ordering::Relaxed);
    }
    tracing::debug!(ssrc = spec.ssrc, "video worker stopped");
}

//! The recorder's thread: Opus decoding and segmentation off the server
//! task. The server task hands events over a bounded queue without
//! blocking (a full queue drops the event and counts it); finished
//! recordings and counters go to the shared state the handle reads.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::recorder::{Recorder, RecorderEvent, Recording};
use crate::shared::Shared;

/// Events queued for the recorder (about 40 s of one speaker's packets).
const QUEUE: usize = 2048;
/// Longest sleep without an event.
const IDLE: Duration = Duration::from_millis(500);

/// The server task's end of the queue.
pub(crate) struct RecorderTx {
    tx: SyncSender<RecorderEvent>,
    shared: Arc<Mutex<Shared>>,
}

impl RecorderTx {
    /// Queues an event; never blocks.
    pub(crate) fn send(&self, ev: RecorderEvent) {
        if let Err(TrySendError::Full(_)) = self.tx.try_send(ev) {
            self.shared
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .recorder
                .queue_full_dropped += 1;
        }
    }
}

/// Starts the thread; it ends when the returned sender is dropped.
pub(crate) fn spawn(shared: Arc<Mutex<Shared>>) -> RecorderTx {
    let (tx, rx) = sync_channel(QUEUE);
    let s = shared.clone();
    let spawned = std::thread::Builder::new()
        .name("sim-media-server-recorder".into())
        .spawn(move || run(&rx, &s));
    if spawned.is_err() {
        // No thread: the receiver is gone and every send is a no-op.
    }
    RecorderTx { tx, shared }
}

fn run(rx: &Receiver<RecorderEvent>, shared: &Arc<Mutex<Shared>>) {
    let mut rec = Recorder::new();
    loop {
        let wait = rec
            .next_deadline()
            .map_or(IDLE, |d| d.saturating_duration_since(Instant::now()));
        let mut done = match rx.recv_timeout(wait) {
            Ok(ev) => rec.on_event(ev),
            Err(RecvTimeoutError::Timeout) => Vec::new(),
            Err(RecvTimeoutError::Disconnected) => return,
        };
        done.extend(rec.poll(Instant::now()));
        publish(shared, &rec, done);
    }
}

fn publish(shared: &Arc<Mutex<Shared>>, rec: &Recorder, done: Vec<Recording>) {
    let mut s = shared.lock().unwrap_or_else(PoisonError::into_inner);
    let dropped = s.recorder.queue_full_dropped;
    let mut evicted = s.recorder.evicted;
    for r in done {
        evicted += s.recordings.push(r);
    }
    s.recorder = crate::recorder::RecorderReport {
        queue_full_dropped: dropped,
        evicted,
        stored_ms: s.recordings.stored_ms(),
        ..rec.stats
    };
}

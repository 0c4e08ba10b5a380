//! A handshaken connection: writer and reader tasks, two lanes each way.

use crate::ConnError;
use crate::handshake::PeerInfo;
use crate::lanes::LossyLane;
use ipc_schema::frame::{FrameBuffer, encode_frame};
use ipc_schema::{Lane, WireMessage};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Lane sizes.
#[derive(Clone, Debug)]
pub struct ConnConfig {
    /// Reliable messages that may wait for the socket before the peer is
    /// declared stuck and the connection closed.
    pub reliable_capacity: usize,
    /// Lossy messages kept; older ones are dropped.
    pub lossy_capacity: usize,
    /// Messages received but not yet taken by the application. When full,
    /// reliable messages wait (back-pressure onto the socket) and lossy ones
    /// are dropped so that reliable ones behind them keep flowing.
    pub inbound_capacity: usize,
}

impl Default for ConnConfig {
    fn default() -> Self {
        Self {
            reliable_capacity: 4096,
            lossy_capacity: 4,
            inbound_capacity: 256,
        }
    }
}

/// Counters of one connection, readable at any time.
#[derive(Debug, Default)]
pub struct ConnCounters {
    /// Frames written.
    pub frames_sent: AtomicU64,
    /// Frames read and delivered.
    pub frames_received: AtomicU64,
    /// Inbound lossy messages dropped because the application was slow.
    pub inbound_dropped: AtomicU64,
    /// Inbound frames of unknown kinds (newer peer) skipped.
    pub unknown_skipped: AtomicU64,
}

/// The sending half. Cheap to clone; the writer task ends (after flushing
/// what is queued) when every clone is dropped.
pub struct ConnSender<Out> {
    reliable: mpsc::Sender<Out>,
    lossy: Arc<LossyLane<Out>>,
    capacity: usize,
}

impl<Out> Clone for ConnSender<Out> {
    fn clone(&self) -> Self {
        Self {
            reliable: self.reliable.clone(),
            lossy: self.lossy.clone(),
            capacity: self.capacity,
        }
    }
}

impl<Out: WireMessage> ConnSender<Out> {
    /// Queues `msg` on its lane without waiting. A lossy message always
    /// succeeds (possibly evicting an older one). A reliable message fails
    /// with [`ConnError::ReliableLaneFull`] when the peer has stopped
    /// reading, or [`ConnError::Closed`] when the connection is gone.
    pub fn send(&self, msg: Out) -> Result<(), ConnError> {
        match msg.lane() {
            Lane::Lossy => {
                if self.reliable.is_closed() {
                    return Err(ConnError::Closed);
                }
                self.lossy.push(msg);
                Ok(())
            }
            Lane::Reliable => self.reliable.try_send(msg).map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => ConnError::ReliableLaneFull(self.capacity),
                mpsc::error::TrySendError::Closed(_) => ConnError::Closed,
            }),
        }
    }

    /// Lossy messages dropped so far because the peer read slowly.
    pub fn lossy_dropped(&self) -> u64 {
        self.lossy.dropped()
    }

    /// Lossy messages queued so far.
    pub fn lossy_sent(&self) -> u64 {
        self.lossy.pushed()
    }

    /// Whether the writer task has stopped.
    pub fn is_closed(&self) -> bool {
        self.reliable.is_closed()
    }
}

/// The receiving half.
pub struct ConnReceiver<In> {
    rx: mpsc::Receiver<Result<In, ConnError>>,
}

impl<In> ConnReceiver<In> {
    /// The next message; `Err` once when the connection fails, then `None`.
    /// `None` alone means the peer closed cleanly.
    pub async fn recv(&mut self) -> Option<Result<In, ConnError>> {
        self.rx.recv().await
    }
}

/// A running connection: its halves, its peer and its tasks.
pub struct Connection<Out, In> {
    /// Send half.
    pub sender: ConnSender<Out>,
    /// Receive half.
    pub receiver: ConnReceiver<In>,
    /// Who is on the other side.
    pub peer: PeerInfo,
    /// Counters.
    pub counters: Arc<ConnCounters>,
    /// The writer and reader tasks; both end when the connection is done.
    pub tasks: [JoinHandle<()>; 2],
}

impl<Out: WireMessage, In: WireMessage> Connection<Out, In> {
    /// Starts the reader and writer tasks over a handshaken `stream`.
    /// `leftover` holds bytes the handshake read past the peer's hello.
    pub fn spawn<S>(stream: S, peer: PeerInfo, leftover: FrameBuffer, config: ConnConfig) -> Self
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read_half, write_half) = tokio::io::split(stream);
        let (reliable_tx, reliable_rx) = mpsc::channel(config.reliable_capacity.max(1));
        let lossy = Arc::new(LossyLane::new(config.lossy_capacity));
        let (in_tx, in_rx) = mpsc::channel(config.inbound_capacity.max(1));
        let counters = Arc::new(ConnCounters::default());
        let writer = tokio::spawn(write_loop(
            write_half,
            reliable_rx,
            lossy.clone(),
            counters.clone(),
        ));
        let reader = tokio::spawn(read_loop::<In, _>(
            read_half,
            leftover,
            in_tx,
            peer.is_newer_minor(),
            counters.clone(),
        ));
        Self {
            sender: ConnSender {
                reliable: reliable_tx,
                lossy,
                capacity: config.reliable_capacity,
            },
            receiver: ConnReceiver { rx: in_rx },
            peer,
            counters,
            tasks: [writer, reader],
        }
    }
}

async fn write_loop<Out: WireMessage, W: AsyncWrite + Unpin>(
    mut w: W,
    mut reliable: mpsc::Receiver<Out>,
    lossy: Arc<LossyLane<Out>>,
    counters: Arc<ConnCounters>,
) {
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        buf.clear();
        let mut frames = 0u64;
        tokio::select! {
            // Reliable first: state changes must not wait behind video.
            biased;
            msg = reliable.recv() => match msg {
                Some(m) => {
                    encode_or_log(&m, &mut buf, &mut frames);
                    // Batch whatever else is already queued into one write.
                    while buf.len() < 256 * 1024 {
                        match reliable.try_recv() {
                            Ok(m) => encode_or_log(&m, &mut buf, &mut frames),
                            Err(_) => break,
                        }
                    }
                }
                None => break,
            },
            () = lossy.notified() => {
                while let Some(m) = lossy.pop() {
                    encode_or_log(&m, &mut buf, &mut frames);
                    if buf.len() >= 256 * 1024 { break; }
                }
                if !lossy.is_empty() {
                    // Entries left behind by the batch limit: come back for
                    // them on the next turn, after any reliable message.
                    lossy.renotify();
                }
            }
        }
        if buf.is_empty() {
            continue;
        }
        if let Err(e) = w.write_all(&buf).await {
            tracing::debug!(error = %e, "ipc write failed; closing connection");
            return;
        }
        counters.frames_sent.fetch_add(frames, Ordering::Relaxed);
    }
    let _ = w.flush().await;
    let _ = w.shutdown().await;
}

fn encode_or_log<M: WireMessage>(m: &M, buf: &mut Vec<u8>, frames: &mut u64) {
    match encode_frame(m, buf) {
        Ok(()) => *frames += 1,
        // Only an oversized message can fail to encode; drop it, loudly.
        Err(e) => {
            tracing::error!(kind = m.kind(), error = %e, "dropping message that cannot be encoded")
        }
    }
}

async fn read_loop<In: WireMessage, R: AsyncRead + Unpin>(
    mut r: R,
    mut buf: FrameBuffer,
    tx: mpsc::Sender<Result<In, ConnError>>,
    peer_newer: bool,
    counters: Arc<ConnCounters>,
) {
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        loop {
            let raw = match buf.next_frame() {
                Ok(Some(raw)) => raw,
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            };
            let msg = match raw.decode::<In>() {
                Ok(m) => m,
                Err(e) if !e.is_fatal(peer_newer) => {
                    counters.unknown_skipped.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(error = %e, "skipping message from newer peer");
                    continue;
                }
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            };
            counters.frames_received.fetch_add(1, Ordering::Relaxed);
            match msg.lane() {
                Lane::Reliable => {
                    if tx.send(Ok(msg)).await.is_err() {
                        return; // application gone
                    }
                }
                Lane::Lossy => match tx.try_send(Ok(msg)) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        counters.inbound_dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => return,
                },
            }
        }
        let read = tokio::select! {
            read = r.read(&mut chunk) => read,
            // The application dropped its receiver: nobody wants more.
            () = tx.closed() => return,
        };
        match read {
            Ok(0) => {
                if buf.pending() > 0 {
                    let _ = tx.send(Err(ConnError::Closed)).await;
                }
                return; // clean close: the channel ends with None
            }
            Ok(n) => buf.extend(&chunk[..n]),
            Err(e) => {
                let _ = tx.send(Err(e.into())).await;
                return;
            }
        }
    }
}

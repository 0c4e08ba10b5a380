//! Accepts control connections and hands them to the supervisor.
//!
//! Before the handshake a peer is unknown, so what it can cost is bounded:
//! at most [`MAX_PENDING_HANDSHAKES`] connections are in the handshake at
//! once (more are closed at accept, before a byte is read or written), each
//! has [`HANDSHAKE_TIMEOUT`] and may make mediad buffer at most
//! [`ipc_conn::MAX_HELLO_FRAME_LEN`]. Every refused peer gets one WARN line,
//! rate-limited by [`RefusalLog`], except a peer that hangs up before
//! sending a single byte: that is a probe (a health check reading mediad's
//! Hello, `mediad health`), logged at debug and counted.

use crate::Config;
use crate::supervisor::SupervisorMsg;
use ipc_conn::socket::SocketListener;
use ipc_conn::{ConnConfig, Connection, MAX_PENDING_HANDSHAKES, RefusalLog, handshake};
use ipc_schema::{ControlMsg, Hello, MediadMsg, PeerRole};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Semaphore, mpsc};

/// How long a connecting peer has to send its hello.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Accepts connections until `shutdown` resolves. Each connection is
/// handshaken on its own task so a silent client cannot block others.
pub async fn serve(
    listener: SocketListener,
    config: Config,
    supervisor: mpsc::Sender<SupervisorMsg>,
    shutdown: impl Future<Output = ()>,
) {
    let hello = Hello {
        protocol: config.protocol,
        role: PeerRole::Mediad,
        build: daemon_support::build_info!().to_string(),
        instance_id: config.instance_id,
    };
    serve_with(
        listener,
        hello,
        MAX_PENDING_HANDSHAKES,
        supervisor,
        shutdown,
    )
    .await;
}

/// [`serve`] with an explicit hello and pending-handshake limit.
pub async fn serve_with(
    listener: SocketListener,
    hello: Hello,
    max_pending: usize,
    supervisor: mpsc::Sender<SupervisorMsg>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let pending = Arc::new(Semaphore::new(max_pending.max(1)));
    let refusals = Arc::new(Refusals::default());
    let mut handshakes = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(stream) => match pending.clone().try_acquire_owned() {
                    Ok(permit) => {
                        let refusals = refusals.clone();
                        let task = accept_one(stream, hello.clone(), supervisor.clone(), refusals);
                        handshakes.spawn(async move {
                            task.await;
                            drop(permit);
                        });
                    }
                    Err(_) => {
                        // Closed at once: no hello, no buffer, no task.
                        drop(stream);
                        refused(
                            &refusals,
                            &format!("{max_pending} connections already in the handshake"),
                        );
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = handshakes.join_next(), if !handshakes.is_empty() => {}
        }
    }
    handshakes.shutdown().await;
    drop(listener); // removes the socket file
}

/// What the server keeps about refused peers.
#[derive(Default)]
struct Refusals {
    /// Rate limit of the WARN lines.
    log: Mutex<RefusalLog>,
    /// Peers that hung up before sending a byte (probes), since start.
    probes: AtomicU64,
}

/// One WARN line for a refused peer, unless the rate limit says quiet.
fn refused(refusals: &Refusals, reason: &str) {
    let decision = refusals
        .log
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .on_refusal(Instant::now());
    if let Some(suppressed) = decision {
        tracing::warn!(
            reason,
            earlier_refusals_not_logged = suppressed,
            "refused a control connection"
        );
    }
}

/// Whether a failed handshake is a peer that left without a word: it sent
/// nothing, and the connection ended (EOF, or a reset / broken pipe because
/// it closed with our Hello unread).
fn is_silent_hangup(error: &ipc_conn::ConnError, bytes_from_peer: u64) -> bool {
    if bytes_from_peer != 0 {
        return false;
    }
    match error {
        ipc_conn::ConnError::Closed => true,
        ipc_conn::ConnError::Io(e) => matches!(
            e.kind(),
            io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof
        ),
        _ => false,
    }
}

async fn accept_one(
    stream: ipc_conn::socket::Stream,
    hello: Hello,
    supervisor: mpsc::Sender<SupervisorMsg>,
    refusals: Arc<Refusals>,
) {
    let mut stream = CountReads::new(stream);
    match handshake::<MediadMsg, ControlMsg, _>(&mut stream, hello, HANDSHAKE_TIMEOUT).await {
        Ok((peer, rest)) => {
            let conn = Connection::spawn(stream.into_inner(), peer, rest, ConnConfig::default());
            let _ = supervisor.send(SupervisorMsg::Attach(conn)).await;
        }
        Err(e) if is_silent_hangup(&e, stream.bytes_read) => {
            let total = refusals.probes.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::debug!(
                error = %e,
                probes_total = total,
                "a peer hung up before sending anything (a health check?)"
            );
        }
        Err(e) => refused(&refusals, &e.to_string()),
    }
}

/// A stream that counts the bytes read from it (during the handshake only:
/// the connection gets the inner stream).
struct CountReads<S> {
    inner: S,
    bytes_read: u64,
}

impl<S> CountReads<S> {
    fn new(inner: S) -> Self {
        Self {
            inner,
            bytes_read: 0,
        }
    }

    fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for CountReads<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        let added = buf.filled().len().saturating_sub(before);
        self.bytes_read = self.bytes_read.saturating_add(added as u64);
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for CountReads<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn hello() -> Hello {
        Hello {
            protocol: ipc_schema::PROTOCOL_VERSION,
            role: PeerRole::Mediad,
            build: "test".into(),
            instance_id: 7,
        }
    }

    /// Reads until EOF or `limit`; returns the bytes read.
    async fn read_some(s: &mut ipc_conn::socket::Stream, limit: Duration) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut chunk = [0u8; 1024];
        tokio::time::timeout(limit, async {
            loop {
                match s.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => out.extend_from_slice(&chunk[..n]),
                }
            }
        })
        .await
        .ok()?;
        Some(out)
    }

    #[test]
    fn only_a_peer_that_sent_nothing_and_left_is_a_silent_hangup() {
        use ipc_conn::ConnError;
        let reset = || ConnError::Io(io::Error::from(io::ErrorKind::ConnectionReset));
        assert!(is_silent_hangup(&ConnError::Closed, 0));
        assert!(is_silent_hangup(&reset(), 0));
        assert!(is_silent_hangup(
            &ConnError::Io(io::Error::from(io::ErrorKind::BrokenPipe)),
            0
        ));
        // It said something first: a refused peer, worth a warning.
        assert!(!is_silent_hangup(&ConnError::Closed, 3));
        assert!(!is_silent_hangup(&reset(), 1));
        // Silent but still there until the timeout: it held a slot.
        assert!(!is_silent_hangup(
            &ConnError::HandshakeTimeout(HANDSHAKE_TIMEOUT),
            0
        ));
        assert!(!is_silent_hangup(
            &ConnError::Io(io::Error::from(io::ErrorKind::PermissionDenied)),
            0
        ));
    }

    #[tokio::test]
    async fn connections_beyond_the_pending_limit_are_closed_without_a_hello() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sock");
        let listener = ipc_conn::socket::listen(&path).await.unwrap();
        let (sup_tx, _sup_rx) = mpsc::channel(4);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_with(listener, hello(), 2, sup_tx, async {
            let _ = stop_rx.await;
        }));
        // Two silent peers hold both handshake slots (each gets our hello).
        let mut held = Vec::new();
        for _ in 0..2 {
            let mut s = ipc_conn::socket::connect(&path).await.unwrap();
            let mut first = [0u8; 4];
            s.read_exact(&mut first).await.expect("hello prefix");
            held.push(s);
        }
        // The third is closed at once, before any byte of a hello.
        let mut third = ipc_conn::socket::connect(&path).await.unwrap();
        let got = read_some(&mut third, Duration::from_secs(2))
            .await
            .expect("closed promptly, not held until the handshake timeout");
        assert!(got.is_empty(), "refused peer got {} bytes", got.len());
        // A slot frees when a pending peer leaves: the next one is served.
        drop(held.pop());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut fourth = ipc_conn::socket::connect(&path).await.unwrap();
        let mut first = [0u8; 4];
        fourth.read_exact(&mut first).await.expect("served again");
        let _ = stop_tx.send(());
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_huge_first_frame_is_refused_without_waiting_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sock");
        let listener = ipc_conn::socket::listen(&path).await.unwrap();
        let (sup_tx, _sup_rx) = mpsc::channel(4);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_with(listener, hello(), 2, sup_tx, async {
            let _ = stop_rx.await;
        }));
        let mut s = ipc_conn::socket::connect(&path).await.unwrap();
        s.write_all(&(16u32 * 1024 * 1024 - 1).to_be_bytes())
            .await
            .unwrap();
        // mediad's hello arrives, then the connection is closed at once
        // (the old code waited for 16 MiB of payload or the 5 s timeout).
        let got = read_some(&mut s, Duration::from_secs(2))
            .await
            .expect("closed promptly");
        assert!(!got.is_empty());
        let _ = stop_tx.send(());
        server.await.unwrap();
    }
}

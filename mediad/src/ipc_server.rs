//! Accepts control connections and hands them to the supervisor.
//!
//! Before the handshake a peer is unknown, so what it can cost is bounded:
//! at most [`MAX_PENDING_HANDSHAKES`] connections are in the handshake at
//! once (more are closed at accept, before a byte is read or written), each
//! has [`HANDSHAKE_TIMEOUT`] and may make mediad buffer at most
//! [`ipc_link::MAX_HELLO_FRAME_LEN`]. Every refused peer gets one WARN line,
//! rate-limited by [`RefusalLog`].

use crate::Config;
use crate::supervisor::SupervisorMsg;
use ipc_link::socket::SocketListener;
use ipc_link::{Link, LinkConfig, MAX_PENDING_HANDSHAKES, RefusalLog, handshake};
use ipc_schema::{ControlMsg, Hello, MediadMsg, PeerRole};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
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
    let refusals = Arc::new(Mutex::new(RefusalLog::default()));
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

/// One WARN line for a refused peer, unless the rate limit says quiet.
fn refused(log: &Mutex<RefusalLog>, reason: &str) {
    let decision = log
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

async fn accept_one(
    mut stream: ipc_link::socket::Stream,
    hello: Hello,
    supervisor: mpsc::Sender<SupervisorMsg>,
    refusals: Arc<Mutex<RefusalLog>>,
) {
    match handshake::<MediadMsg, ControlMsg, _>(&mut stream, hello, HANDSHAKE_TIMEOUT).await {
        Ok((peer, rest)) => {
            let link = Link::spawn(stream, peer, rest, LinkConfig::default());
            let _ = supervisor.send(SupervisorMsg::Attach(link)).await;
        }
        Err(e) => refused(&refusals, &e.to_string()),
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
    async fn read_some(s: &mut ipc_link::socket::Stream, limit: Duration) -> Option<Vec<u8>> {
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

    #[tokio::test]
    async fn connections_beyond_the_pending_limit_are_closed_without_a_hello() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sock");
        let listener = ipc_link::socket::listen(&path).await.unwrap();
        let (sup_tx, _sup_rx) = mpsc::channel(4);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_with(listener, hello(), 2, sup_tx, async {
            let _ = stop_rx.await;
        }));
        // Two silent peers hold both handshake slots (each gets our hello).
        let mut held = Vec::new();
        for _ in 0..2 {
            let mut s = ipc_link::socket::connect(&path).await.unwrap();
            let mut first = [0u8; 4];
            s.read_exact(&mut first).await.expect("hello prefix");
            held.push(s);
        }
        // The third is closed at once, before any byte of a hello.
        let mut third = ipc_link::socket::connect(&path).await.unwrap();
        let got = read_some(&mut third, Duration::from_secs(2))
            .await
            .expect("closed promptly, not held until the handshake timeout");
        assert!(got.is_empty(), "refused peer got {} bytes", got.len());
        // A slot frees when a pending peer leaves: the next one is served.
        drop(held.pop());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut fourth = ipc_link::socket::connect(&path).await.unwrap();
        let mut first = [0u8; 4];
        fourth.read_exact(&mut first).await.expect("served again");
        let _ = stop_tx.send(());
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_huge_first_frame_is_refused_without_waiting_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sock");
        let listener = ipc_link::socket::listen(&path).await.unwrap();
        let (sup_tx, _sup_rx) = mpsc::channel(4);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_with(listener, hello(), 2, sup_tx, async {
            let _ = stop_rx.await;
        }));
        let mut s = ipc_link::socket::connect(&path).await.unwrap();
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

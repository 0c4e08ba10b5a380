//! The socket relay.

use crate::describe::{Direction, Line, describe};
use crate::record;
use ipc_schema::frame::FrameBuffer;
use std::future::Future;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Settings of a running tap.
#[derive(Clone, Debug)]
pub struct TapConfig {
    /// Socket control connects to.
    pub listen: PathBuf,
    /// mediad's socket.
    pub upstream: PathBuf,
    /// JSON lines instead of text.
    pub json: bool,
    /// Recording file.
    pub record: Option<PathBuf>,
}

/// One frame seen, for the output task.
struct Seen {
    line: Line,
    frame: Option<Vec<u8>>,
}

/// Runs the tap until `shutdown` resolves.
pub async fn run(config: TapConfig, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let listener = ipc_conn::socket::listen(&config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen.display()))?;
    let mut recorder = match &config.record {
        Some(path) => {
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(path)
                    .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?,
            );
            record::write_header(&mut f)?;
            f.flush()?;
            Some(f)
        }
        None => None,
    };
    tracing::info!(listen = %config.listen.display(), upstream = %config.upstream.display(), "ipc-tap relaying");
    // Output is decoupled from forwarding: a slow terminal never slows the
    // traffic. Lines beyond the buffer are counted, never traffic.
    let (tx, mut rx) = mpsc::channel::<Seen>(8192);
    let json = config.json;
    let output = tokio::task::spawn_blocking(move || {
        let stdout = std::io::stdout();
        while let Some(seen) = rx.blocking_recv() {
            let text = if json {
                seen.line.to_json().to_string()
            } else {
                seen.line.to_text()
            };
            let mut out = stdout.lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
            if let (Some(f), Some(frame)) = (&mut recorder, &seen.frame)
                && let Err(e) = record::write_record(
                    f,
                    seen.line.direction,
                    seen.line.time,
                    seen.line.session,
                    frame,
                )
                .and_then(|()| f.flush())
            {
                tracing::error!(error = %e, "recording failed; continuing without it");
                recorder = None;
            }
        }
    });
    let recording = config.record.is_some();
    tokio::pin!(shutdown);
    let mut session = 0u64;
    let mut sessions = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(client) => {
                    session += 1;
                    match ipc_conn::socket::connect(&config.upstream).await {
                        Ok(upstream) => {
                            tracing::info!(session, "control connected; relaying to mediad");
                            sessions.spawn(relay_session(session, client, upstream, tx.clone(), recording));
                        }
                        Err(e) => {
                            // Closing the client makes control retry later.
                            tracing::warn!(session, error = %e, upstream = %config.upstream.display(), "mediad unreachable; closing control's connection");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "accept failed"),
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    sessions.shutdown().await;
    drop(tx);
    let _ = output.await;
    drop(listener);
    Ok(())
}

async fn relay_session<A, B>(
    session: u64,
    client: A,
    upstream: B,
    tx: mpsc::Sender<Seen>,
    recording: bool,
) where
    A: AsyncRead + AsyncWrite + Send + 'static,
    B: AsyncRead + AsyncWrite + Send + 'static,
{
    let (cr, cw) = tokio::io::split(client);
    let (ur, uw) = tokio::io::split(upstream);
    let up = pump(session, Direction::ToMediad, cr, uw, tx.clone(), recording);
    let down = pump(session, Direction::ToControl, ur, cw, tx, recording);
    tokio::pin!(up, down);
    // Local sockets cannot be half-closed here, so when one side is done the
    // whole session ends: the other direction gets a moment to drain what
    // is in flight, then both sockets are dropped, which the peer sees as
    // the connection closing (as it would without the tap).
    let drain = Duration::from_millis(200);
    let (a, b) = tokio::select! {
        a = &mut up => (Some(a), tokio::time::timeout(drain, &mut down).await.ok()),
        b = &mut down => (tokio::time::timeout(drain, &mut up).await.ok(), Some(b)),
    };
    tracing::info!(session, control_to_mediad_bytes = ?a, mediad_to_control_bytes = ?b, "session closed");
}

/// Copies bytes from `r` to `w` as they arrive, and describes every whole
/// frame on the side. Returns the number of bytes forwarded.
async fn pump<R, W>(
    session: u64,
    dir: Direction,
    mut r: R,
    mut w: W,
    tx: mpsc::Sender<Seen>,
    recording: bool,
) -> u64
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 64 * 1024];
    let mut frames = FrameBuffer::new();
    let mut parsing = true;
    let mut total = 0u64;
    let mut skipped_lines = 0u64;
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if w.write_all(&buf[..n]).await.is_err() {
            break;
        }
        total += n as u64;
        if !parsing {
            continue;
        }
        frames.extend(&buf[..n]);
        loop {
            match frames.next_frame() {
                Ok(Some(raw)) => {
                    let line = describe(
                        SystemTime::now(),
                        session,
                        dir,
                        raw.payload(),
                        raw.bytes.len(),
                    );
                    let frame = recording.then(|| raw.bytes.clone());
                    if tx.try_send(Seen { line, frame }).is_err() {
                        skipped_lines += 1;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    // Keep forwarding; only the printing of this direction stops.
                    parsing = false;
                    let line = Line {
                        time: SystemTime::now(),
                        session,
                        direction: dir,
                        kind: "undecodable".into(),
                        fields: vec![("error".into(), ipc_schema::FieldValue::Str(e.to_string()))],
                        bytes: 0,
                    };
                    let _ = tx.try_send(Seen { line, frame: None });
                    break;
                }
            }
        }
    }
    let _ = w.shutdown().await;
    if skipped_lines > 0 {
        tracing::warn!(
            session,
            skipped_lines,
            "output could not keep up; some lines were not printed (traffic was forwarded)"
        );
    }
    total
}

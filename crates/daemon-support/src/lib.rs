//! Shared plumbing for the project's binaries (`control`, `mediad`,
//! `ipc-tap`, `discord-sim`): logging set-up and the shutdown signal, so each
//! `main.rs` stays a few lines long.

use tracing_subscriber::EnvFilter;

/// How log lines are written (to stderr).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the global tracing subscriber writing to stderr. The filter
/// comes from `RUST_LOG`, else `default_filter` (e.g. `info`).
pub fn init_tracing(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // Colours only for a terminal: logs captured to files stay greppable.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    // `try_init` fails only if a subscriber is already set (tests that call
    // this twice); keeping the first one is right.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Resolves on SIGTERM or ctrl-c (SIGINT).
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only ctrl-c will stop this process");
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => tracing::info!("ctrl-c received; shutting down"),
            _ = term.recv() => tracing::info!("SIGTERM received; shutting down"),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// A random 64-bit id for this process (used in IPC `Hello` as the instance
/// id). Taken from the OS's randomness through std's hasher seeds, which is
/// enough for telling process instances apart.
pub fn instance_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish()
}

/// A build description for `Hello`: package name and version.
#[macro_export]
macro_rules! build_info {
    () => {
        concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION"))
    };
}

/// Sleeps until `deadline` (a sans-IO core's `poll_timeout`), or forever
/// when there is none: the timer arm of a shell's `select!`.
pub async fn sleep_until(deadline: Option<std::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
        None => std::future::pending().await,
    }
}

/// Awaits a spawned connect attempt, or forever when there is none; clears
/// the slot once it finished (the connect arm of a shell's `select!`).
pub async fn join_pending<T>(
    task: &mut Option<tokio::task::JoinHandle<Result<T, String>>>,
) -> Result<T, String> {
    match task {
        Some(h) => {
            let r = h
                .await
                .map_err(|e| format!("connect task failed: {e}"))
                .and_then(|r| r);
            *task = None;
            r
        }
        None => std::future::pending().await,
    }
}

/// The next item of an optional stream (an open socket), or forever when
/// there is none: the receive arm of a shell's `select!`.
pub async fn next_or_pending<S: futures_util::Stream + Unpin>(
    stream: &mut Option<S>,
) -> Option<S::Item> {
    use futures_util::StreamExt;
    match stream {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

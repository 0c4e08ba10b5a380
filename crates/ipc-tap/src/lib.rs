//! ipc-tap sits between control and mediad, forwards every byte unchanged,
//! and prints one line per IPC message (time, direction, kind, key fields;
//! binary payloads as their length, secrets redacted).
//!
//! - [`describe`]: turning a raw frame into a printable [`describe::Line`].
//! - [`record`]: the recording file format and its reader.
//! - [`relay`]: the socket relay.
//!
//! Forwarding never depends on parsing: bytes are written to the other side
//! as soon as they are read, and a parse failure only stops the printing of
//! that direction. Either side may restart; the tap keeps listening.

pub mod describe;
pub mod record;
pub mod relay;

use clap::{Parser, Subcommand};
use std::future::Future;
use std::io::Write as _;
use std::path::PathBuf;

/// Command line of `ipc-tap`.
#[derive(Debug, Parser)]
#[command(
    name = "ipc-tap",
    version,
    about = "Transparent tap between control and mediad: forwards every IPC frame unchanged and prints one line per message.",
    long_about = "Transparent tap between control and mediad. Point control's --mediad-socket at --listen, and \
                  give mediad's socket as --upstream. Every frame is forwarded byte for byte; one line per \
                  message is printed (time, direction, message kind, key fields; binary payloads shown as their \
                  length, secrets redacted). Either side may restart: the tap keeps listening and reconnects \
                  upstream for each new control connection."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Socket path to listen on (control connects here).
    #[arg(long)]
    listen: Option<PathBuf>,
    /// mediad's socket path.
    #[arg(long)]
    upstream: Option<PathBuf>,
    /// Print JSON lines instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Also write every frame to this recording file (replay it with `ipc-tap replay FILE`).
    #[arg(long)]
    record: Option<PathBuf>,
    /// Log format of ipc-tap's own diagnostics on stderr.
    #[arg(long, value_enum, default_value_t, global = true)]
    pub log_format: daemon_support::LogFormat,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a recording made with --record.
    Replay {
        /// The recording file.
        file: PathBuf,
    },
}

/// Runs ipc-tap from its command line.
pub async fn main_with(cli: Cli, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Replay { file }) => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            record::replay(&file, cli.json, &mut out)?;
            out.flush()?;
            Ok(())
        }
        None => {
            let (Some(listen), Some(upstream)) = (cli.listen, cli.upstream) else {
                anyhow::bail!(
                    "ipc-tap needs --listen PATH and --upstream PATH (or the `replay FILE` subcommand); see --help"
                );
            };
            relay::run(
                relay::TapConfig {
                    listen,
                    upstream,
                    json: cli.json,
                    record: cli.record,
                },
                shutdown,
            )
            .await
        }
    }
}

//! mediad, the media daemon.
//!
//! It holds Discord's media connections (voice, Go Live watch, Go Live
//! publish) and the video pipeline, on behalf of `control`, which drives it
//! over the IPC protocol of `ipc-schema`.
//!
//! # Shape
//! - [`ipc_server`] accepts control connections on a 0600 file socket,
//!   performs the handshake, and hands each connection to the supervisor.
//! - [`supervisor`] is the one task that owns mediad's state ([`state`]): it
//!   applies control's commands, answers pings and snapshot requests, and
//!   keeps everything through a control restart for a grace period.
//! - [`transport`] runs one slot per role (voice, stream_watch,
//!   stream_publish): a thin tokio shell around `voice-session`'s sans-IO
//!   connection, with video decoding on dedicated threads.
//!
//! # Surviving control restarts
//! When control disconnects, transports and subscriptions are kept for
//! `--control-grace-secs`. A control that reconnects in time is sent a
//! snapshot of everything held and carries on; after the grace period,
//! everything is torn down.

pub mod health;
pub mod ipc_server;
pub mod replay;
pub mod state;
pub mod supervisor;
pub mod transport;

use clap::Parser;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// Command line of `mediad`.
#[derive(Debug, Parser)]
#[command(
    name = "mediad",
    version,
    about = "Media daemon: Discord voice/Go Live transports and the video pipeline, driven by control over IPC.",
    long_about = "Media daemon: holds Discord voice and Go Live (watch, publish) connections and decodes \
                  video into JPEG frames for control. control connects to --ipc-socket; only one control \
                  may be connected at a time. If control goes away, everything is kept for \
                  --control-grace-secs so a restarted control can carry on."
)]
pub struct Cli {
    /// Path of the local socket control connects to (created with mode 0600).
    #[arg(long, env = "MEDIAD_SOCKET", default_value_os_t = default_socket_path())]
    pub ipc_socket: PathBuf,
    /// Seconds to keep transports and subscriptions after control disconnects.
    #[arg(long, default_value_t = 30)]
    pub control_grace_secs: u64,
    /// Log format on stderr (filter with RUST_LOG).
    #[arg(long, value_enum, default_value_t)]
    pub log_format: daemon_support::LogFormat,
    /// Testing aid: announce this IPC protocol version (MAJOR.MINOR) instead
    /// of the built-in one.
    #[arg(long, hide = true)]
    pub ipc_protocol_override: Option<ipc_schema::ProtocolVersion>,
    /// Go Live publish: encoded width (even).
    #[arg(long, default_value_t = 1280)]
    pub publish_width: usize,
    /// Go Live publish: encoded height (even).
    #[arg(long, default_value_t = 720)]
    pub publish_height: usize,
    /// Go Live publish: frames per second the stream is paced at (1-60).
    #[arg(long, default_value_t = 15)]
    pub publish_fps: u32,
    /// Go Live publish: target bitrate in kbit/s.
    #[arg(long, default_value_t = 2500)]
    pub publish_bitrate_kbps: u32,
    /// A PEM bundle of extra certificate authorities to trust for the
    /// voice and Go Live servers' `wss://` (a test simulator's CA, a
    /// corporate proxy's root). It adds to the built-in webpki roots; TLS
    /// verification (chain and host name) cannot be turned off.
    #[arg(long, env = "EXTRA_CA_FILE")]
    pub extra_ca_file: Option<PathBuf>,
    /// A tool to run instead of the daemon.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `mediad` subcommands; without one, mediad runs the daemon.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Replay a captured RTP video stream through the receive chain and write JPEG frames.
    Replay(replay::ReplayArgs),
    /// Check that a mediad answers on its IPC socket (reads its Hello, hangs
    /// up without a word); exit 0 or 1 with a one-line reason. For health
    /// checks: it never takes control's place.
    Health(health::HealthArgs),
}

/// The default socket path: `$XDG_RUNTIME_DIR/screenwatch/mediad.sock`, else
/// under the temp dir with the user id in the name.
pub fn default_socket_path() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) => PathBuf::from(dir).join("screenwatch").join("mediad.sock"),
        None => std::env::temp_dir()
            .join(format!("screenwatch-{}", current_uid()))
            .join("mediad.sock"),
    }
}

fn current_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(0)
}

/// Runtime settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Socket path.
    pub ipc_socket: PathBuf,
    /// Grace period after control disconnects.
    pub control_grace: Duration,
    /// The protocol version announced in `Hello`.
    pub protocol: ipc_schema::ProtocolVersion,
    /// How often stats are sent to control.
    pub stats_interval: Duration,
    /// This process's id, announced in `Hello` and snapshots.
    pub instance_id: u64,
    /// How stream_publish encodes.
    pub publish: video_pipeline::EncoderSettings,
    /// TLS for the voice and Go Live WebSockets.
    pub tls: tls_client::TlsClient,
}

impl Config {
    /// The settings `cli` asks for; fails on an unusable extra CA file.
    pub fn from_cli(cli: &Cli) -> anyhow::Result<Self> {
        let tls = tls_client::TlsClient::new(cli.extra_ca_file.as_deref())
            .map_err(|e| anyhow::anyhow!("{e} (--extra-ca-file / EXTRA_CA_FILE)"))?;
        Ok(Self {
            ipc_socket: cli.ipc_socket.clone(),
            control_grace: Duration::from_secs(cli.control_grace_secs),
            protocol: cli
                .ipc_protocol_override
                .unwrap_or(ipc_schema::PROTOCOL_VERSION),
            stats_interval: Duration::from_secs(5),
            instance_id: daemon_support::instance_id(),
            publish: video_pipeline::EncoderSettings {
                width: cli.publish_width,
                height: cli.publish_height,
                fps: cli.publish_fps,
                bitrate_bps: cli.publish_bitrate_kbps.saturating_mul(1000),
                keyframe_interval: cli.publish_fps.saturating_mul(10).max(1),
            },
            tls,
        })
    }
}

/// Runs the daemon from its command line until `shutdown` resolves.
pub async fn main_with(cli: Cli, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let config = Config::from_cli(&cli)?;
    if let Some(ca) = config.tls.extra_ca() {
        tracing::info!(extra_ca = %ca.display(), "trusting an extra CA besides the webpki roots");
    }
    config
        .publish
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid --publish-* option: {e}"))?;
    run(config, shutdown).await
}

/// Runs the daemon until `shutdown` resolves; then stops accepting, closes
/// the control connection, tears transports down and removes the socket file.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let listener = ipc_conn::socket::listen(&config.ipc_socket)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.ipc_socket.display()))?;
    tracing::info!(socket = %config.ipc_socket.display(), protocol = %config.protocol, "mediad listening");
    let (sup_tx, sup_rx) = tokio::sync::mpsc::channel(16);
    let supervisor = tokio::spawn(supervisor::Supervisor::new(config.clone()).run(sup_rx));
    let server = ipc_server::serve(listener, config, sup_tx, shutdown);
    server.await;
    // `serve` returned: the supervisor's inbox is closed, so it shuts down.
    if let Err(e) = supervisor.await {
        tracing::error!(error = %e, "supervisor task failed");
    }
    tracing::info!("mediad stopped");
    Ok(())
}

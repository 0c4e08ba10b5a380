//! `discord-sim`: the offline Discord as a process. Thin: parse arguments,
//! start the library's sim, print the URLs and the CA file, wait for a
//! signal.

use std::io::Write as _;

use clap::Parser;

const AFTER_HELP: &str = "\
SCENARIOS
  --scenario takes a built-in name or a JSON file path. Built-ins:
    demo          Alice live with a 1280x720 screen share, Bob speaking now and then,
                  a text channel; tokens: user 'sim-user-agent', bot 'sim-bot-agent'
    multi-sharer  two users streaming
    webcam-only   a user with the camera on, no Go Live
    dave          demo with DAVE on both media servers
    lossy         demo plus 10% loss / 5% reorder on the stream server
  File format: {name, description, settings, guilds[{id,name,members?,channels[{id,name,kind}]}],
  users[{id,name,token,bot?}], timeline[{at_ms, every_ms?, action, ...}]} (see the crate docs).

TLS: gateway (wss://), REST (https://), voice and Go Live servers (wss://host:port) are
  TLS-only with a CA made at start; its file is printed as ca_file=. The certificate names
  localhost, 127.0.0.1, ::1, the --listen address and --advertise-host.

ADMIN API (plain HTTP on its own port, no auth; loopback only unless --admin-listen is a
  non-loopback address), under admin_base:
  GET  /state /sessions /voice_states /streams /messages
  GET  /media/{voice|stream}/report | /log | /frames/{room}/{user}[/latest.jpg]
  POST /actions            body {\"action\": NAME, ...}
  POST /actions/{NAME}     body = the action's fields
  Actions: join_voice leave_voice start_stream stop_stream pause_stream set_webcam speak
  post_message netem close_media crash restart padding handshake_delay gateway_reconnect
  gateway_invalid_session delete_stream rest_rate_limit set_stream_server_update_delay";

/// Offline Discord: main gateway, REST, Go Live, media servers, admin API.
#[derive(Parser, Debug)]
#[command(version, about, after_help = AFTER_HELP)]
struct Args {
    /// Address for gateway and REST (port 0 = any free port). The voice and
    /// Go Live servers listen on the same IP (0.0.0.0 without
    /// --advertise-host: loopback).
    #[arg(long, env = "SIM_LISTEN", default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
    /// The host name (or IP) clients reach the sim at, e.g. a compose
    /// service name while listening on 0.0.0.0. It is added to the TLS
    /// certificate, and gateway_url, rest_base and the voice / Go Live
    /// endpoints name it (with the real ports). With --listen 0.0.0.0 it
    /// must resolve here: the media servers announce its IP for UDP.
    #[arg(long, env = "SIM_ADVERTISE_HOST")]
    advertise_host: Option<String>,
    /// Address of the admin API (port 0 = any free port). Default: loopback
    /// on a free port. The admin API has no authentication and drives the
    /// whole simulated world, so it answers loopback peers only unless this
    /// is a non-loopback address (then every peer that reaches it).
    #[arg(long, env = "SIM_ADMIN_LISTEN")]
    admin_listen: Option<std::net::SocketAddr>,
    /// Built-in scenario name or JSON file.
    #[arg(long, default_value = "demo")]
    scenario: String,
    /// Seed for tokens, session ids and network emulation.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also write the CA certificate (PEM) here. Every listener but the
    /// admin API is TLS-only; clients trust this CA (control and mediad:
    /// `--extra-ca-file`; Node: `NODE_EXTRA_CA_CERTS`). Without it the CA is
    /// in a private temporary file, printed as `ca_file=`.
    #[arg(long)]
    ca_file: Option<std::path::PathBuf>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = daemon_support::LogFormat::Text)]
    log_format: daemon_support::LogFormat,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    daemon_support::init_tracing(args.log_format, "info");
    let scenario = sim_gateway::Scenario::load(&args.scenario)?;
    let sim = sim_gateway::start_with(
        sim_gateway::SimConfig {
            listen: args.listen,
            scenario,
            seed: args.seed,
        },
        sim_gateway::SimNetwork {
            advertise_host: args.advertise_host,
            admin_listen: args.admin_listen,
        },
    )
    .await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "gateway_url={}", sim.gateway_url())?;
    writeln!(out, "rest_base={}", sim.rest_base())?;
    writeln!(out, "admin_base={}", sim.admin_base())?;
    if let Some(path) = &args.ca_file {
        std::fs::write(path, sim.ca_pem())
            .map_err(|e| anyhow::anyhow!("cannot write --ca-file {}: {e}", path.display()))?;
        writeln!(out, "ca_file={}", path.display())?;
    } else {
        writeln!(out, "ca_file={}", sim.ca_file().display())?;
    }
    out.flush()?;
    drop(out);
    daemon_support::shutdown_signal().await;
    sim.shutdown().await;
    Ok(())
}

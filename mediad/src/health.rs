//! `mediad health`: is a mediad answering on its IPC socket?
//!
//! It connects, reads mediad's `Hello` (mediad speaks first) and hangs up
//! without sending a byte, so it never becomes mediad's control and never
//! displaces the one that is connected; mediad logs such a probe at debug.
//! Exit 0 with one line on stdout when a mediad Hello of a compatible
//! protocol arrived in time, 1 with one line on stderr saying why not.
//! Used by the container health check (compose.yaml).

use std::io::Read as _;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ipc_conn::split_hello;
use ipc_schema::frame::Split;
use ipc_schema::{MediadMsg, PeerRole, VersionCheck, WireMessage as _};

/// `mediad health` arguments.
#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// The socket to check (default: mediad's `--ipc-socket`, i.e.
    /// `MEDIAD_SOCKET` or the default path).
    #[arg(long)]
    pub ipc_socket: Option<PathBuf>,
    /// Seconds to wait for the Hello.
    #[arg(long, default_value_t = 3.0)]
    pub timeout_secs: f64,
}

/// What a healthy mediad said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Healthy {
    /// Its protocol version.
    pub protocol: ipc_schema::ProtocolVersion,
    /// Its build description.
    pub build: String,
    /// Its process instance id.
    pub instance_id: u64,
}

/// Checks the mediad on `socket`; the error is the one-line reason.
pub fn check(socket: &Path, timeout: Duration) -> Result<Healthy, String> {
    let place = socket.display();
    let mut stream =
        UnixStream::connect(socket).map_err(|e| format!("cannot connect to {place}: {e}"))?;
    let deadline = Instant::now() + timeout;
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    let payload = loop {
        match split_hello(&buf) {
            Ok(Split::Frame { payload, .. }) => break payload,
            Ok(Split::Incomplete { .. }) => {}
            Err(e) => return Err(format!("{place} is not a mediad: {e}")),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "no Hello from {place} within {:.1} s (mediad busy or stuck?)",
                timeout.as_secs_f64()
            ));
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| format!("{place}: {e}"))?;
        match stream.read(&mut chunk) {
            Ok(0) => {
                return Err(format!(
                    "{place} hung up after {} bytes, before a whole Hello \
                     (too many connections in the handshake?)",
                    buf.len()
                ));
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading from {place}: {e}")),
        }
    };
    let msg: MediadMsg = ipc_schema::frame::decode_payload(payload)
        .map_err(|e| format!("{place} sent a first frame that does not decode: {e}"))?;
    let Some(hello) = msg.as_hello() else {
        return Err(format!("{place} sent {} first, not a Hello", msg.kind()));
    };
    if hello.role != PeerRole::Mediad {
        return Err(format!("{place} is a {}, not mediad", hello.role));
    }
    let check = VersionCheck::compare(ipc_schema::PROTOCOL_VERSION, hello.protocol);
    if !check.is_compatible() {
        return Err(format!(
            "the mediad on {place} speaks protocol {}, this tool {}",
            hello.protocol,
            ipc_schema::PROTOCOL_VERSION
        ));
    }
    Ok(Healthy {
        protocol: hello.protocol,
        build: hello.build.clone(),
        instance_id: hello.instance_id,
    })
}

/// Runs `mediad health`; `default_socket` is mediad's `--ipc-socket`.
/// Returns whether mediad is healthy, having printed one line.
pub fn run(args: &HealthArgs, default_socket: &Path) -> bool {
    let socket = args.ipc_socket.as_deref().unwrap_or(default_socket);
    let timeout =
        Duration::try_from_secs_f64(args.timeout_secs.max(0.1)).unwrap_or(Duration::from_secs(3));
    match check(socket, timeout) {
        Ok(h) => {
            println!(
                "healthy: mediad on {} (protocol {}, instance {:016x}, {})",
                socket.display(),
                h.protocol,
                h.instance_id,
                h.build
            );
            true
        }
        Err(reason) => {
            eprintln!("unhealthy: {reason}");
            false
        }
    }
}

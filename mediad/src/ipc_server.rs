//! Accepts control connections and hands them to the supervisor.

use crate::Config;
use crate::supervisor::SupervisorMsg;
use ipc_link::socket::SocketListener;
use ipc_link::{Link, LinkConfig, handshake};
use ipc_schema::{ControlMsg, Hello, MediadMsg, PeerRole};
use std::future::Future;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a connecting peer has to send its hello.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Accepts connections until `shutdown` resolves. Each connection is
/// handshaken on its own task so a silent client cannot block others.
pub async fn serve(
    listener: SocketListener,
    config: Config,
    supervisor: mpsc::Sender<SupervisorMsg>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut handshakes = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(stream) => {
                    let hello = Hello {
                        protocol: config.protocol,
                        role: PeerRole::Mediad,
                        build: daemon_support::build_info!().to_string(),
                        instance_id: config.instance_id,
                    };
                    handshakes.spawn(accept_one(stream, hello, supervisor.clone()));
                }
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

async fn accept_one(
    mut stream: ipc_link::socket::Stream,
    hello: Hello,
    supervisor: mpsc::Sender<SupervisorMsg>,
) {
    match handshake::<MediadMsg, ControlMsg, _>(&mut stream, hello, HANDSHAKE_TIMEOUT).await {
        Ok((peer, rest)) => {
            let link = Link::spawn(stream, peer, rest, LinkConfig::default());
            let _ = supervisor.send(SupervisorMsg::Attach(link)).await;
        }
        Err(e) => tracing::error!(error = %e, "refused a control connection"),
    }
}

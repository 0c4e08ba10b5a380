//! The `Hello` exchange.

use crate::LinkError;
use ipc_schema::frame::{FrameBuffer, encode_to_vec};
use ipc_schema::{Hello, VersionCheck, WireMessage};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What we learned about the peer.
#[derive(Clone, Debug)]
pub struct PeerInfo {
    /// The peer's hello.
    pub hello: Hello,
    /// How its version relates to ours.
    pub check: VersionCheck,
}

impl PeerInfo {
    /// Whether unknown message kinds from this peer are expected (and
    /// skipped) rather than a protocol violation.
    pub fn is_newer_minor(&self) -> bool {
        self.check == VersionCheck::PeerNewerMinor
    }
}

/// Sends our `Hello` (as an `Out` message) and reads the peer's (as an `In`
/// message), both within `timeout`. Both sides send first, so each can name
/// the other's version even when they are incompatible.
///
/// Returns the peer info and any bytes read past the hello (the start of
/// the peer's next frames), which must seed the link's receive buffer.
pub async fn handshake<Out, In, S>(
    stream: &mut S,
    ours: Hello,
    timeout: Duration,
) -> Result<(PeerInfo, FrameBuffer), LinkError>
where
    Out: WireMessage,
    In: WireMessage,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let our_role = ours.role;
    let our_version = ours.protocol;
    let frame = encode_to_vec(&Out::from_hello(ours))?;
    let exchange = async {
        stream.write_all(&frame).await?;
        stream.flush().await?;
        let mut buf = FrameBuffer::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(raw) = buf.next_frame()? {
                let msg: In = raw.decode()?;
                return match msg.as_hello() {
                    Some(h) => Ok((h.clone(), buf)),
                    None => Err(LinkError::NoHello(msg.kind())),
                };
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(LinkError::Closed);
            }
            buf.extend(&chunk[..n]);
        }
    };
    let (hello, rest) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| LinkError::HandshakeTimeout(timeout))??;
    let check = VersionCheck::compare(our_version, hello.protocol);
    if !check.is_compatible() {
        return Err(LinkError::VersionMismatch {
            our_role,
            ours: our_version,
            their_role: hello.role,
            theirs: hello.protocol,
        });
    }
    Ok((PeerInfo { hello, check }, rest))
}

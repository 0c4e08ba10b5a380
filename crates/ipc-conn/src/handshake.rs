//! The `Hello` exchange.

use crate::ConnError;
use ipc_schema::frame::{FrameBuffer, LEN_PREFIX, Split, encode_to_vec, split_frame};
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

/// The largest `Hello` frame payload accepted. A hello is a few dozen
/// bytes (two version numbers, a role, a short build string, an id); before
/// the handshake the peer is unknown, so nothing near the general
/// [`ipc_schema::MAX_FRAME_LEN`] (16 MiB) may be buffered for it.
pub const MAX_HELLO_FRAME_LEN: usize = 4096;

/// Looks for the peer's hello frame at the start of `buf`, refusing a
/// length prefix above [`MAX_HELLO_FRAME_LEN`] as soon as its four bytes
/// have arrived, before any of its payload is waited for or stored.
pub fn split_hello(buf: &[u8]) -> Result<Split<'_>, ConnError> {
    if let Some(prefix) = buf.get(..LEN_PREFIX) {
        let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
        if len > MAX_HELLO_FRAME_LEN {
            return Err(ConnError::HelloTooLarge {
                len,
                max: MAX_HELLO_FRAME_LEN,
            });
        }
    }
    Ok(split_frame(buf)?)
}

/// Sends our `Hello` (as an `Out` message) and reads the peer's (as an `In`
/// message), both within `timeout`. Both sides send first, so each can name
/// the other's version even when they are incompatible.
///
/// Returns the peer info and any bytes read past the hello (the start of
/// the peer's next frames), which must seed the connection's receive buffer.
///
/// Until the hello has arrived at most [`MAX_HELLO_FRAME_LEN`] plus one
/// read (4 KiB) is buffered: a larger announced frame ends the handshake
/// with [`ConnError::HelloTooLarge`].
pub async fn handshake<Out, In, S>(
    stream: &mut S,
    ours: Hello,
    timeout: Duration,
) -> Result<(PeerInfo, FrameBuffer), ConnError>
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
        let mut buf: Vec<u8> = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Split::Frame { payload, consumed } = split_hello(&buf)? {
                let msg: In = ipc_schema::frame::decode_payload(payload)?;
                return match msg.as_hello() {
                    Some(h) => {
                        let mut rest = FrameBuffer::new();
                        rest.extend(&buf[consumed..]);
                        Ok((h.clone(), rest))
                    }
                    None => Err(ConnError::NoHello(msg.kind())),
                };
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(ConnError::Closed);
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    let (hello, rest) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| ConnError::HandshakeTimeout(timeout))??;
    let check = VersionCheck::compare(our_version, hello.protocol);
    if !check.is_compatible() {
        return Err(ConnError::VersionMismatch {
            our_role,
            ours: our_version,
            their_role: hello.role,
            theirs: hello.protocol,
        });
    }
    Ok((PeerInfo { hello, check }, rest))
}

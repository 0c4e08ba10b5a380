//! control's listener for `axum::serve`: every accepted connection is
//! wrapped so that the refusals hyper writes by itself, before any layer
//! runs (a head beyond hyper's limits: 431 past its ~400 KiB read buffer
//! or 100 header lines, 414 past a 64 KiB request target, 400 for a head
//! that does not parse), carry the same JSON body with a stable `reason`
//! as every other error (`share_core::automatic_refusal_as_json`). Heads
//! within hyper's limits but above control's own
//! (`share_core::HeadLimits`) are refused by the outermost layer
//! (`guard::head_limits`).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The TCP listener whose connections answer hyper's own refusals in JSON.
pub struct JsonRefusalListener {
    inner: TcpListener,
}

impl JsonRefusalListener {
    /// Wraps a bound listener.
    pub fn new(inner: TcpListener) -> Self {
        Self { inner }
    }
}

impl axum::serve::Listener for JsonRefusalListener {
    type Io = JsonRefusals<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, peer)) => return (JsonRefusals::new(stream), peer),
                Err(e) => {
                    // Out of file descriptors and the like: wait, retry.
                    tracing::warn!(error = %e, "accepting an HTTP connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// The peer of a connection (`ConnectInfo<Peer>` in handlers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, JsonRefusalListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, JsonRefusalListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

/// A connection whose writes are passed through, except a whole bodiless
/// 400/414/431 response in one write (what hyper writes when it cannot
/// take a head), which goes out with a JSON body instead. It does not
/// offer vectored writes, so hyper hands it each response head whole.
pub struct JsonRefusals<T> {
    inner: T,
    /// A replacement response still to be written, and how much of it is.
    pending: Vec<u8>,
    sent: usize,
}

impl<T> JsonRefusals<T> {
    /// Wraps a connection.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            sent: 0,
        }
    }
}

impl<T: AsyncWrite + Unpin> JsonRefusals<T> {
    /// Writes what is left of a replacement response.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.pending.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for JsonRefusals<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for JsonRefusals<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.drain(cx))?;
        if let Some(json) = share_core::automatic_refusal_as_json(buf) {
            tracing::debug!(
                status = %String::from_utf8_lossy(&buf[..buf.len().min(12)]),
                "a request head hyper refused itself, answered in JSON"
            );
            this.pending = json;
            this.sent = 0;
            if let Poll::Ready(Err(e)) = this.drain(cx) {
                return Poll::Ready(Err(e));
            }
            // The rest goes out on the next write, flush or shutdown.
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn hypers_bodiless_refusal_goes_out_as_json_and_the_rest_untouched() {
        let (a, mut b) = tokio::io::duplex(16);
        let mut w = JsonRefusals::new(a);
        let writer = tokio::spawn(async move {
            w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await
                .unwrap();
            w.write_all(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n",
            )
            .await
            .unwrap();
            w.shutdown().await.unwrap();
        });
        let mut out = String::new();
        b.read_to_string(&mut out).await.unwrap();
        writer.await.unwrap();
        let (first, second) = out.split_at("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".len());
        assert_eq!(first, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        assert!(second.starts_with("HTTP/1.1 431 "), "{second}");
        assert!(
            second.contains("content-type: application/json"),
            "{second}"
        );
        assert!(
            second.ends_with(r#""reason":"headers_too_large"}"#),
            "{second}"
        );
    }
}

//! The simulator's listener: plain TCP, plus a handle on each connection so a
//! request handler can cut its own connection off (the `reset` fault).
//!
//! axum hands a handler no way to drop the connection it is answering on, so
//! every accepted stream is wrapped: once its [`ConnHandle`] is killed, the
//! next read or write fails, hyper drops the stream, and the socket (set to a
//! zero linger first) closes with a TCP RST instead of a response.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Pause after a failed accept (out of file descriptors, ...) before the next one.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// A TCP listener whose connections can be reset by their handler.
pub(crate) struct FaultListener(pub TcpListener);

/// The handler's hold on its connection; cloned into every request's extensions.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnHandle {
    kill: Arc<AtomicBool>,
}

impl ConnHandle {
    /// Marks the connection for a reset: no response will reach the client.
    pub fn kill(&self) {
        self.kill.store(true, Ordering::SeqCst);
    }
}

/// A TCP stream that fails every operation once its handle is killed.
pub(crate) struct FaultStream {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

impl FaultStream {
    /// `Some(error)` once killed; arms the zero linger so the close is a reset.
    fn killed(&self) -> Option<io::Error> {
        if !self.kill.load(Ordering::SeqCst) {
            return None;
        }
        // Best effort: without it the close is a FIN, still no response.
        let _ = self.inner.set_zero_linger();
        Some(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "simulated connection reset",
        ))
    }
}

impl AsyncRead for FaultStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl Listener for FaultListener {
    type Io = FaultStream;
    type Addr = ConnHandle;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((inner, _)) => {
                    let handle = ConnHandle::default();
                    let stream = FaultStream {
                        inner,
                        kill: Arc::clone(&handle.kill),
                    };
                    return (stream, handle);
                }
                Err(e) => {
                    tracing::warn!(target: "actsm::sim", "accept failed: {e}");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        // axum asks only for its own `local_addr`, which the simulator does not use.
        Ok(ConnHandle::default())
    }
}

impl Connected<IncomingStream<'_, FaultListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, FaultListener>) -> Self {
        stream.remote_addr().clone()
    }
}

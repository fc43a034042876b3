//! gRPC over the process's stdin/stdout. BuildKit serves LLBBridge on the
//! other ends of those pipes; we are an HTTP/2 client with prior knowledge.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tonic::transport::{Channel, Endpoint, Uri};

/// BuildKit's gRPC message limit (both directions).
pub const MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

/// Why the connection to BuildKit could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error(
        "{stream} is not a pipe or socket ({source}); this program is a BuildKit frontend and \
         must be started by BuildKit (e.g. via `# syntax=` in the build file), not from a terminal"
    )]
    NotAPipe {
        stream: &'static str,
        source: io::Error,
    },
    #[error("cannot use {stream}: {source}")]
    Io {
        stream: &'static str,
        source: io::Error,
    },
    #[error("cannot connect to BuildKit over stdio: {0}")]
    Connect(#[from] tonic::transport::Error),
}

type BoxedRead = Pin<Box<dyn AsyncRead + Send>>;
type BoxedWrite = Pin<Box<dyn AsyncWrite + Send>>;

/// Connects over fd 0 (read) and fd 1 (write). Must run inside a Tokio
/// runtime with I/O enabled.
///
/// Uses non-blocking pipe handles rather than `tokio::io::stdin()`, whose
/// blocking reader thread kept the process alive after BuildKit was done.
pub async fn connect_stdio() -> Result<Channel, TransportError> {
    let reader = stdio_reader()?;
    let writer = stdio_writer()?;
    connect_io(tokio::io::join(reader, writer)).await
}

/// Connects over any duplex byte stream (stdio in production, an in-memory
/// pipe in tests). The stream can be used once: a reconnect fails.
pub async fn connect_io<IO>(io: IO) -> Result<Channel, TransportError>
where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let slot = Arc::new(Mutex::new(Some(io)));
    let connector = tower::service_fn(move |_: Uri| {
        let taken = slot.lock().ok().and_then(|mut guard| guard.take());
        async move {
            taken.map(TokioIo::new).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotConnected,
                    "the stdio connection to BuildKit is closed and cannot be re-dialled",
                )
            })
        }
    });
    // The URI is never resolved; the connector ignores it.
    let channel = Endpoint::from_static("http://buildkit.invalid")
        .connect_with_connector(connector)
        .await?;
    Ok(channel)
}

fn stdio_reader() -> Result<BoxedRead, TransportError> {
    let stream = "stdin";
    let fd = dup(std::io::stdin().as_fd(), stream)?;
    match tokio::net::unix::pipe::Receiver::from_owned_fd(fd) {
        Ok(pipe) => Ok(Box::pin(pipe)),
        Err(pipe_err) => socket(dup(std::io::stdin().as_fd(), stream)?, stream, pipe_err)
            .map(|s| Box::pin(s) as BoxedRead),
    }
}

fn stdio_writer() -> Result<BoxedWrite, TransportError> {
    let stream = "stdout";
    let fd = dup(std::io::stdout().as_fd(), stream)?;
    match tokio::net::unix::pipe::Sender::from_owned_fd(fd) {
        Ok(pipe) => Ok(Box::pin(pipe)),
        Err(pipe_err) => socket(dup(std::io::stdout().as_fd(), stream)?, stream, pipe_err)
            .map(|s| Box::pin(s) as BoxedWrite),
    }
}

/// Duplicates a standard descriptor so we own a handle without `unsafe`.
fn dup(fd: std::os::fd::BorrowedFd<'_>, stream: &'static str) -> Result<OwnedFd, TransportError> {
    fd.try_clone_to_owned()
        .map_err(|source| TransportError::Io { stream, source })
}

/// Some runtimes hand over a socket instead of a pipe; accept that too.
fn socket(
    fd: OwnedFd,
    stream: &'static str,
    pipe_err: io::Error,
) -> Result<tokio::net::UnixStream, TransportError> {
    let not_a_pipe = |_| TransportError::NotAPipe {
        stream,
        source: io::Error::new(pipe_err.kind(), pipe_err.to_string()),
    };
    let std_stream = std::os::unix::net::UnixStream::from(fd);
    // A non-socket fails here (ENOTSOCK), e.g. a terminal.
    std_stream.peer_addr().map_err(not_a_pipe)?;
    std_stream
        .set_nonblocking(true)
        .map_err(|source| TransportError::Io { stream, source })?;
    tokio::net::UnixStream::from_std(std_stream)
        .map_err(|source| TransportError::Io { stream, source })
}

//! Running a frontend as BuildKit does: a child process whose stdin/stdout are OS pipes to
//! the fake bridge.

use std::io::{self, Read as _};
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::unix::pipe;

use super::fake::{FakeBridge, serve_on};

/// What every HTTP/2 client (a gRPC client) writes first.
pub const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How a frontend child process ended.
#[derive(Debug)]
pub struct FrontendRun {
    pub status: ExitStatus,
    /// Everything it wrote to stderr (lossy UTF-8).
    pub stderr: String,
    /// The first bytes it wrote to stdout (up to the length of [`HTTP2_PREFACE`]).
    pub stdout_start: Vec<u8>,
    /// How many bytes it wrote to stdout in all.
    pub stdout_len: u64,
}

impl FrontendRun {
    /// Whether stdout began as an HTTP/2 connection (anything printed before the gRPC client
    /// started would break this; anything printed later breaks the framing the fake parses).
    pub fn stdout_was_grpc(&self) -> bool {
        self.stdout_start == HTTP2_PREFACE
    }
}

#[derive(Default)]
struct StdoutTap {
    start: Vec<u8>,
    len: u64,
}

/// The child's stdout (read, tapped) and stdin (written) as one stream for the server.
struct PipeIo {
    from_child: pipe::Receiver,
    to_child: pipe::Sender,
    tap: Arc<Mutex<StdoutTap>>,
}

impl tonic::transport::server::Connected for PipeIo {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for PipeIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.from_child).poll_read(cx, buf);
        let new = &buf.filled()[before..];
        if !new.is_empty() {
            let mut tap = self.tap.lock().unwrap_or_else(PoisonError::into_inner);
            let room = HTTP2_PREFACE.len().saturating_sub(tap.start.len());
            tap.start.extend_from_slice(&new[..room.min(new.len())]);
            tap.len += new.len() as u64;
        }
        polled
    }
}

impl AsyncWrite for PipeIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.to_child).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.to_child).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.to_child).poll_shutdown(cx)
    }
}

/// Spawns `command` with stdin/stdout piped to `fake` (stderr captured) and waits for it to
/// exit. The fake keeps both pipes open meanwhile, as BuildKit does, so the frontend must exit
/// on its own after `Return`. Past `timeout` the child is killed and an error returned.
pub fn run_frontend(
    fake: &FakeBridge,
    mut command: Command,
    timeout: Duration,
) -> io::Result<FrontendRun> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let missing = || io::Error::other("child pipes were not created");
    let to_child = OwnedFd::from(child.stdin.take().ok_or_else(missing)?);
    let from_child = OwnedFd::from(child.stdout.take().ok_or_else(missing)?);
    let mut stderr_pipe = child.stderr.take().ok_or_else(missing)?;
    // Drained on a thread so a chatty child never blocks on a full stderr pipe.
    let stderr_reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });

    let tap = Arc::new(Mutex::new(StdoutTap::default()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let waited = runtime.block_on(async {
        let io = PipeIo {
            from_child: pipe::Receiver::from_owned_fd(from_child)?,
            to_child: pipe::Sender::from_owned_fd(to_child)?,
            tap: Arc::clone(&tap),
        };
        serve_on(fake.clone(), io);
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(Some(status));
            }
            if started.elapsed() > timeout {
                return Ok::<_, io::Error>(None);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    // Dropping the runtime closes our pipe ends.
    drop(runtime);
    let status = match waited {
        Ok(Some(status)) => status,
        Ok(None) | Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = stderr_reader.join().unwrap_or_default();
            let why = match waited {
                Err(error) => error.to_string(),
                _ => format!("did not exit within {timeout:?}"),
            };
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("frontend {why}; its stderr:\n{stderr}"),
            ));
        }
    };
    let stderr = stderr_reader.join().unwrap_or_default();
    let tap = tap.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(FrontendRun {
        status,
        stderr,
        stdout_start: tap.start.clone(),
        stdout_len: tap.len,
    })
}

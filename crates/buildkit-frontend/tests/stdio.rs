//! Runs [`buildkit_frontend::run`] in a real child process (this same test
//! binary, re-executed) whose stdin/stdout are OS pipes to a fake BuildKit,
//! as BuildKit runs a frontend. Checks that the child returns its result and
//! exits while the fake still holds the pipes open, and that it refuses to
//! run when stdin is not a pipe.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::process::{Command, ExitCode, Stdio};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use buildkit_frontend::{Client, FrontendResult};
use buildkit_proto::{gateway, pb};
use common::{FakeBridge, returned, serve_on};
use tokio::io::{AsyncRead, AsyncWrite, Join, ReadBuf};
use tokio::net::unix::pipe;

const ROLE: &str = "BUILDKIT_FRONTEND_STDIO_TEST_ROLE";

fn main() -> ExitCode {
    if std::env::var(ROLE).as_deref() == Ok("frontend") {
        return frontend();
    }
    frontend_over_pipes_returns_and_exits();
    frontend_refuses_non_pipe_stdin();
    eprintln!("stdio: 2 passed");
    ExitCode::SUCCESS
}

/// The child: a tiny frontend that solves, reads a file and returns it.
fn frontend() -> ExitCode {
    buildkit_frontend::run(|client: Client| async move {
        let imports = client.opts().cache_imports()?;
        let solved = client
            .solve(pb::Definition::default(), &imports, false)
            .await?;
        let data = client.read_file(&solved.id, "layercake.yaml", None).await?;
        let mut result = FrontendResult::metadata_only();
        result.add_metadata("echo", data);
        Ok(result)
    })
}

/// The child's stdout and stdin as one duplex stream for the fake server.
struct PipeIo(Join<pipe::Receiver, pipe::Sender>);

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
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for PipeIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn frontend_over_pipes_returns_and_exits() {
    let fake = FakeBridge {
        files: BTreeMap::from([("layercake.yaml".to_string(), b"services: {}\n".to_vec())]),
        ..FakeBridge::default()
    };
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(ROLE, "frontend")
        .env(
            "BUILDKIT_FRONTEND_OPT_0",
            "cache-from=reg.example/app:cache",
        )
        .env("BUILDKIT_SESSION_ID", "sess")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let to_child = OwnedFd::from(child.stdin.take().unwrap());
    let from_child = OwnedFd::from(child.stdout.take().unwrap());

    runtime().block_on(async {
        let io = PipeIo(tokio::io::join(
            pipe::Receiver::from_owned_fd(from_child).unwrap(),
            pipe::Sender::from_owned_fd(to_child).unwrap(),
        ));
        serve_on(fake.clone(), io);

        // The server keeps both pipes open: the child must still exit.
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "frontend did not exit while BuildKit held its pipes open"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(status.success(), "frontend exited with {status}");
    });

    let result = returned(&fake).result.expect("a result, not an error");
    assert_eq!(result.metadata["echo"], b"services: {}\n");
    assert!(result.result.is_none());
    let recorded = fake.recorded.lock().unwrap();
    let imports: Vec<&gateway::CacheOptionsEntry> =
        recorded.solves[0].cache_imports.iter().collect();
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0].attrs["ref"], "reg.example/app:cache");
    assert_eq!(recorded.reads[0].r#ref, "ref-1");
}

fn frontend_refuses_non_pipe_stdin() {
    let output = Command::new(std::env::current_exe().unwrap())
        .env(ROLE, "frontend")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "nothing may be written to stdout");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("stdin is not a pipe or socket"),
        "unexpected stderr: {stderr}"
    );
}

//! Runs [`buildkit_frontend::run`] in a real child process (this same test
//! binary, re-executed) whose stdin/stdout are OS pipes to a fake BuildKit,
//! as BuildKit runs a frontend. Checks that the child returns its result and
//! exits while the fake still holds the pipes open, and that it refuses to
//! run when stdin is not a pipe.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use buildkit_frontend::testing::{FakeBridge, run_frontend};
use buildkit_frontend::{Client, FrontendResult};
use buildkit_proto::{gateway, pb};

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

fn frontend_over_pipes_returns_and_exits() {
    let fake = FakeBridge {
        files: BTreeMap::from([("layercake.yaml".to_string(), b"services: {}\n".to_vec())]),
        ..FakeBridge::default()
    };
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .env(ROLE, "frontend")
        .env(
            "BUILDKIT_FRONTEND_OPT_0",
            "cache-from=reg.example/app:cache",
        )
        .env("BUILDKIT_SESSION_ID", "sess");
    // The fake keeps both pipes open: the child must still exit.
    let run = run_frontend(&fake, command, Duration::from_secs(20))
        .expect("frontend did not exit while BuildKit held its pipes open");
    assert!(
        run.status.success(),
        "frontend exited with {}: {}",
        run.status,
        run.stderr
    );
    assert!(run.stdout_was_grpc(), "stdout began {:?}", run.stdout_start);

    let returns = fake.returns();
    assert_eq!(returns.len(), 1, "exactly one Return");
    let result = returns[0].clone().result.expect("a result, not an error");
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

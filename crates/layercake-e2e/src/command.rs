//! Running host tools and keeping what they printed.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::HarnessError;

/// What a finished command left behind.
#[derive(Debug, Clone)]
pub(crate) struct Ran {
    pub(crate) success: bool,
    pub(crate) status: String,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
}

impl Ran {
    pub(crate) fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub(crate) fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

fn describe<S: AsRef<OsStr>>(program: &str, args: &[S]) -> String {
    let mut text = program.to_owned();
    for arg in args {
        text.push(' ');
        text.push_str(&arg.as_ref().to_string_lossy());
    }
    text
}

/// Runs `program args…` (stdin closed) and returns what happened, whatever the exit status.
pub(crate) fn run_any<S: AsRef<OsStr>>(
    program: &str,
    args: &[S],
    dir: Option<&Path>,
    env: &[(String, String)],
) -> Result<Ran, HarnessError> {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().map_err(|source| HarnessError::Spawn {
        program: program.to_owned(),
        source,
    })?;
    Ok(Ran {
        success: status.success(),
        status: status
            .code()
            .map_or_else(|| status.to_string(), |code| code.to_string()),
        stdout,
        stderr,
    })
}

/// Runs `program args…` and fails with everything it printed unless it exits 0.
pub(crate) fn run_ok<S: AsRef<OsStr>>(program: &str, args: &[S]) -> Result<Ran, HarnessError> {
    let ran = run_any(program, args, None, &[])?;
    if ran.success {
        Ok(ran)
    } else {
        Err(HarnessError::Failed {
            command: describe(program, args),
            status: ran.status.clone(),
            stdout: ran.stdout_text(),
            stderr: ran.stderr_text(),
        })
    }
}

/// `docker args…`, which must succeed; returns its trimmed stdout.
pub(crate) fn docker<S: AsRef<OsStr>>(args: &[S]) -> Result<String, HarnessError> {
    Ok(run_ok("docker", args)?.stdout_text().trim().to_owned())
}

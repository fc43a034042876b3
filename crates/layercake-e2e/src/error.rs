use std::path::PathBuf;

/// Why the harness could not do what a test asked (not: the product misbehaved).
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("`{command}` exited with {status}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}")]
    Failed {
        command: String,
        status: String,
        stdout: String,
        stderr: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the build failed (exit {status}):\n{output}")]
    BuildFailed { status: String, output: String },
    #[error("no step named `{prefix}…` in the build; steps were:\n{names}")]
    NoSuchStep { prefix: String, names: String },
    #[error("several steps are named `{prefix}…`:\n{names}")]
    AmbiguousStep { prefix: String, names: String },
    #[error(
        "container {container} did not become healthy within {seconds}s: {why}\n--- health ---\n{health}\n--- container log ---\n{log}"
    )]
    NotHealthy {
        container: String,
        seconds: u64,
        why: String,
        health: String,
        log: String,
    },
    #[error("HTTP GET {url}: {why}")]
    Http { url: String, why: String },
    #[error("unexpected answer from {what}: {why}")]
    Unexpected { what: String, why: String },
    #[error("{0}")]
    Json(#[from] serde_json::Error),
}

impl HarnessError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn unexpected(what: impl Into<String>, why: impl Into<String>) -> Self {
        Self::Unexpected {
            what: what.into(),
            why: why.into(),
        }
    }
}

//! What can go wrong in the tool commands.

use std::path::PathBuf;

use layercake_plan::PlanError;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Spec errors, already rendered with file, line and a snippet.
    #[error("{0}")]
    Spec(String),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("{0}")]
    Usage(String),
    #[error("{} already exists; pass --force to overwrite it", path.display())]
    Exists { path: PathBuf },
    #[error(
        "no project found in {} or its subfolders (looked for uv.lock with pyproject.toml, requirements.txt, and package.json with package-lock.json)",
        dir.display()
    )]
    NothingFound { dir: PathBuf },
    #[error("cannot write to stdout: {0}")]
    Stdout(std::io::Error),
    #[error(transparent)]
    Context(#[from] crate::context_fs::ContextError),
    /// A context file the plan needs, with where the spec names it.
    #[error("{0}")]
    Missing(String),
}

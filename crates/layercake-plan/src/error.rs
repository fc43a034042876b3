//! What can go wrong between a valid spec and a plan.

use thiserror::Error;

/// A plan that cannot be made. Spec-level mistakes are caught earlier, with positions, by
/// `layercake-spec`; these need facts only the build has (the target, the context's files).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("unknown target `{target}`; the spec's services are: {}", services.join(", "))]
    UnknownTarget {
        target: String,
        services: Vec<String>,
    },
    #[error(
        "the spec has several services ({}) and no `default:`; choose one with --target",
        services.join(", ")
    )]
    NoTarget { services: Vec<String> },
    #[error("service `{service}`: `{path}` is outside the build context")]
    OutsideContext { service: String, path: String },
    #[error("service `{service}`: `{path}` was not found in the build context")]
    MissingFile { service: String, path: String },
    #[error("the files the plan needs did not settle after {rounds} rounds (last asked: {last})")]
    FilesNeverSettled { rounds: usize, last: String },
    #[error(
        "service `{service}`: `{file}` includes `{include}`, which is outside the build context"
    )]
    IncludeOutsideContext {
        service: String,
        file: String,
        include: String,
    },
    #[error(
        "service `{service}`: the `-r` includes nest deeper than {limit} files (the last was \
         named by `{file}`); is there a loop?"
    )]
    IncludesTooDeep {
        service: String,
        file: String,
        limit: usize,
    },
    #[error(
        "service `{service}`: the requirement files hold more than {limit} bytes together \
         (reached at `{file}`)"
    )]
    RequirementsTooLarge {
        service: String,
        file: String,
        limit: usize,
    },
    #[error(
        "service `{service}`: `{file}` is not a requirements file (pip's format: one requirement \
         a line); name requirement files in `requirements:`"
    )]
    NotARequirementsFile { service: String, file: String },
    #[error("{0}")]
    Requirements(#[from] crate::requirements::RequirementsError),
    #[error(
        "service `{service}`: `{name}` is pinned twice to different versions, and both lines can \
         apply: {first} and {second}; keep one, or give them disjoint markers"
    )]
    ConflictingPins {
        service: String,
        name: String,
        first: String,
        second: String,
    },
    #[error(
        "service `{service}`: no Python version: give `python.version`, or the project one in \
         `.python-version` or pyproject.toml's `requires-python`"
    )]
    NoPythonVersion { service: String },
    #[error("service `{service}`: no python project in `{folder}`: {found}")]
    NoPythonProject {
        service: String,
        folder: String,
        found: &'static str,
    },
    #[error(
        "service `{service}`: `groups`, `extras` and `package` are for uv, Poetry and \
         pyproject.toml projects, and `{folder}` is none of them (it has a requirements.txt)"
    )]
    SelectionWithoutProject { service: String, folder: String },
    #[error("service `{service}`: {error}")]
    Pyproject {
        service: String,
        error: crate::pyproject::PyprojectError,
    },
    #[error("service `{service}`: {error}")]
    UvLock {
        service: String,
        error: crate::uv_lock::UvLockError,
    },
    #[error("service `{service}`: {error}")]
    PoetryLock {
        service: String,
        error: crate::poetry_lock::PoetryLockError,
    },
    #[error("service `{service}`: {lock} is out of date with pyproject.toml: {reason}")]
    LockStale {
        service: String,
        lock: &'static str,
        reason: String,
    },
    #[error(
        "service `{service}`: `packages.pip` adds packages beside requirement files; in a \
         project with {lock}, add them to pyproject.toml and lock again"
    )]
    PipPackagesInLockedProject { service: String, lock: &'static str },
    #[error(
        "service `{service}`: `package` names a uv workspace member; a Poetry or pyproject.toml \
         project has none"
    )]
    PackageWithoutWorkspace { service: String },
}

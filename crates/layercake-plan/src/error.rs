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
    #[error("service `{service}`: no python project in `{folder}`: {found}")]
    NoPythonProject {
        service: String,
        folder: String,
        found: &'static str,
    },
    #[error(
        "service `{service}`: `groups`, `extras` and `package` are for uv and pyproject.toml \
         projects, and `{folder}` is neither (it has a requirements.txt)"
    )]
    UvOptionsWithoutUv { service: String, folder: String },
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
    #[error("service `{service}`: uv.lock is out of date with pyproject.toml: {reason}")]
    UvLockStale { service: String, reason: String },
    #[error(
        "service `{service}`: `packages.pip` adds packages beside requirement files; in a uv \
         project, add them with `uv add`"
    )]
    PipPackagesInUvProject { service: String },
}

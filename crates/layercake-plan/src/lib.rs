//! # layercake-plan
//!
//! The heart of layercake: a service spec becomes a [`Plan`] — stages and steps as plain data,
//! snapshot-testable and printable — and a plan becomes LLB. Nothing here does IO: the frontend
//! reads files and resolves images, then hands the facts in.
//!
//! ```text
//! Spec ──settings──▶ ServiceSettings ──plan──▶ Plan ──lower──▶ LLB Definition + ImageConfig
//! ```
//!
//! The stage design is what makes rebuilds fast: dependency stages see only dependency files
//! (requirement files; package.json + lockfile), their results are real layers (cache mounts are
//! not exported by `--cache-to`), and the code is copied last.

mod engine;
mod error;
mod from_spec;
mod ignore;
mod image_config;
mod lint;
mod lock;
mod locked;
mod lower;
mod model;
mod needed_files;
mod nginx;
mod planner;
mod poetry_lock;
mod pyproject;
mod python_deps;
mod python_project;
mod python_runtime;
mod requirements;
mod secret_digest;
mod settings;
mod stage_id;
mod uv_lock;

/// `--no-cache` and `--no-cache-filter`, as buildkit-frontend's options read them.
pub use buildkit_llb::NoCache;
pub use engine::EngineFeatures;
pub use error::PlanError;
pub use from_spec::services_from_spec;
pub use ignore::{IgnoreError, IgnoreRule, IgnoreRules, literal_pattern};
pub use image_config::{ContainerConfig, Empty, Healthcheck, ImageConfig, env_to_map, map_to_env};
pub use lint::{Finding, Severity, lint, lint_files};
pub use lock::{LOCK_REPORT, Lock, LockError, LockedPackage};
pub use lower::{DEFAULT_PATH, LowerError, LowerInputs, Lowered, ResolvedImage, lower};
pub use model::{
    Base, CacheSharing, ContextInput, CopyStep, FileSource, Mount, Network, Part, Plan, Platform,
    RunStep, RunsOn, Stage, StageId, StageKind, StageOutput, Step, WriteFileStep,
};
pub use needed_files::{FileScope, GatherError, Gathered, gather, gather_async};
pub use pep508_rs::PackageName;
pub use planner::{
    ContextFiles, DEFAULT_WHEEL_GROUP_SIZE, PROBE_PATH, PlanOptions, describe_requirements,
    join_in_context, lock_plan, plan, rfc3339_utc,
};
pub use poetry_lock::PoetryLockError;
pub use pyproject::PyprojectError;
pub use python_deps::{MAX_INCLUDE_DEPTH, MAX_REQUIREMENT_BYTES};
pub use requirements::{
    LineKind, Requirement, RequirementLine, RequirementsError, RequirementsFile,
};
pub use secret_digest::{DIGEST_MOUNT_DIR, digest_salt, secret_digest};
pub use settings::{
    AssetCopy, HealthProbe, HealthSettings, NginxSettings, NodeSettings, NpmInstall,
    PythonSettings, RunAs, SecretExpose, SecretUse, Service, ServiceSettings, Toolchain,
};
pub use uv_lock::UvLockError;

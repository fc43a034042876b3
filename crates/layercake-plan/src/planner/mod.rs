//! Resolved services → [`Plan`]: the stage design.
//!
//! Python: `requirements` (only the requirement files) → `wheels` (`pip wheel` into a mount of its
//! own, so the stage's result is just the wheels) → `runtime` (installs from a read-only mount of
//! the wheels with the network off, then copies the code last). With every requirement pinned,
//! the wheels are built in hash groups (`wheels-1`, `wheels-2`), each keyed by its own lines, and,
//! on engines with DiffOp and MergeOp, installed as one layer per group (`install-1`,
//! `install-2`) onto `system` (the runtime image, its packages, its user). `resolve` proves the
//! set complete, and `runtime` merges them with the `code` layer.
//! npm: `manifests` (only package.json, the lockfile, .npmrc) → `deps` (`npm ci`) → `sources`
//! (the code laid over `node_modules`) → `build` (`npm run build`, on the build platform: its output
//! does not depend on the target) → `serve` (nginx, non-root) or `dist` (just the files).

use std::collections::{BTreeMap, BTreeSet};

use buildkit_llb::NoCache;

use crate::engine::EngineFeatures;
use crate::error::PlanError;
use crate::image_config::ImageConfig;
use crate::lock::Lock;
use crate::model::{ContextInput, Plan, Platform, Stage, StageId};
use crate::python_deps::{Route, collect, requirement_closure};
use crate::python_project::{
    Project, decided, locked_files, member_pyproject, probes, project, uv_files,
};
use crate::python_runtime::{python_runtime, version_files};
use crate::settings::{ServiceSettings, Toolchain};

/// Where the frontend's own binary (the HTTP health probe) is, in the frontend image and in the
/// images without Python that merge (or copy) it from there.
pub const PROBE_PATH: &str = "/usr/local/bin/layercake";
/// Pinned requirements per wheel step unless the build says otherwise (see `bucket_count`).
pub const DEFAULT_WHEEL_GROUP_SIZE: usize = 4;
/// Where requirement files are mounted in the wheels and install steps (context layout below it).
const REQUIREMENTS_MOUNT: &str = "/src";
const WHEELS_DIR: &str = "/wheels";
/// The lock stage's output mount: the resolved closure as a requirements file.
const LOCK_DIR: &str = "/lock";

/// The image config's `variant`: absent when the platform has none.
fn image_variant(platform: &Platform) -> Option<String> {
    Some(platform.variant.clone()).filter(|v| !v.is_empty())
}

/// Everything about this build that is not in the spec.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// The platform of the image.
    pub platform: Platform,
    /// The platform the engine runs on: platform-independent work (the npm build) runs there.
    pub build_platform: Platform,
    /// `--label` values; they win over the spec's labels.
    pub labels: BTreeMap<String, String>,
    pub no_cache: NoCache,
    /// Prefix for cache-mount ids (`BUILDKIT_CACHE_MOUNT_NS`).
    pub cache_namespace: String,
    /// `SOURCE_DATE_EPOCH`, as seconds: the image's `created` time.
    pub source_date_epoch: Option<i64>,
    /// About how many pinned requirements share one wheel step (1: one step per requirement).
    pub wheel_group_size: usize,
    /// What the engine can do ([`EngineFeatures::from_caps`]); the plan carries it to lowering.
    /// Without [`EngineFeatures::merge_diff`], one `pip install` over all wheels and no merged
    /// layers.
    pub engine: EngineFeatures,
    /// The lock stage's answer for this target platform (see [`lock_plan`]): requirement sets
    /// that are not a complete closure are built per package from it. Without it (the CLI, the
    /// Dockerfile renderer) they are built in one `pip wheel -r` step over the files.
    pub lock: Option<Lock>,
}

impl PlanOptions {
    /// Options for a plain single-platform `linux/amd64` build.
    pub fn new(platform: Platform) -> PlanOptions {
        PlanOptions {
            build_platform: platform.clone(),
            platform,
            labels: BTreeMap::new(),
            no_cache: NoCache::Off,
            cache_namespace: String::new(),
            source_date_epoch: None,
            wheel_group_size: DEFAULT_WHEEL_GROUP_SIZE,
            engine: EngineFeatures::all(),
            lock: None,
        }
    }
}

/// Contents of files the plan depends on (requirement files), keyed by context-relative path.
pub type ContextFiles = BTreeMap<String, String>;

/// Context-relative paths the planner still needs to read for `target`, given what is `known`:
/// the files that tell a python project's kind (optional: an absent one is an answer too), then
/// its uv files or its requirement files and whatever they include with `-r`/`-c`. Asked
/// round by round by [`crate::gather`] (`FileScope::Plan`); `asked` is what was asked before,
/// so a folder whose probes were all asked and none exists is an error here, while reading.
pub(crate) fn files_to_read(
    services: &[ServiceSettings],
    target: &str,
    known: &ContextFiles,
    asked: &BTreeSet<String>,
) -> Result<Wanted, PlanError> {
    let service = find(services, target)?;
    let mut wanted = Wanted::default();
    if let Toolchain::Python(py) = &service.toolchain {
        wanted.optional = probes(service, py);
        // Without a spec `version`, the files that may say the project's.
        for file in version_files(service, py) {
            if !wanted.optional.contains(&file) {
                wanted.optional.push(file);
            }
        }
        if !decided(service, py, known) {
            if wanted.optional.iter().all(|probe| asked.contains(probe)) {
                // The error says what the folder holds instead.
                project(service, py, known)?;
            }
            return Ok(wanted);
        }
        let needed = match project(service, py, known) {
            Ok(Project::Uv(uv)) => {
                let mut files: Vec<String> = uv_files(service)
                    .map(|(a, b)| vec![a, b])
                    .unwrap_or_default();
                // A member's own pyproject.toml, for the staleness check.
                files.extend(member_pyproject(service, uv, known).and_then(Result::ok));
                files
            }
            Ok(Project::Poetry(_)) => locked_files(service, "poetry.lock")
                .map(|(a, b)| vec![a, b])
                .unwrap_or_default(),
            Ok(Project::Pyproject(_)) => uv_files(service)
                .map(|(pyproject, _)| vec![pyproject])
                .unwrap_or_default(),
            Ok(Project::Requirements(_)) => requirement_closure(service, py, known)?,
            // The plan reports it; nothing more to read for it.
            Err(_) => Vec::new(),
        };
        for file in needed {
            if !known.contains_key(&file) && !wanted.required.contains(&file) {
                wanted.required.push(file);
            }
        }
    }
    Ok(wanted)
}

/// What a round of [`files_to_read`] asks for.
#[derive(Debug, Default)]
pub(crate) struct Wanted {
    /// Files the plan cannot be made without.
    pub required: Vec<String>,
    /// Files whose absence is an answer (what a service folder holds).
    pub optional: Vec<String>,
}

/// Builds the plan of `target`.
pub fn plan(
    services: &[ServiceSettings],
    target: &str,
    files: &ContextFiles,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let service = find(services, target)?;
    let mut builder = Planner::new(options);
    let (output, image) = match &service.toolchain {
        Toolchain::Python(py) => builder.python(service, py, files)?,
        Toolchain::Node(node) => builder.node(service, node)?,
    };
    Ok(builder.into_plan(service, output, image))
}

/// The plan of `target`'s lock stage, when its requirements need one: the requirement files
/// (and the spec's `packages.pip`) resolved by uv for the wheels' base image's interpreter on
/// the target platform, keyed by exactly those files, that image and that platform. Its output
/// holds the closure as a requirements file at [`LOCK_REPORT`]; the caller solves it, reads it
/// into a [`Lock`] and plans with `PlanOptions::lock`. `None` when the files are already a complete closure, hold
/// direct references, or the service installs nothing.
pub fn lock_plan(
    services: &[ServiceSettings],
    target: &str,
    files: &ContextFiles,
    options: &PlanOptions,
) -> Result<Option<Plan>, PlanError> {
    let service = find(services, target)?;
    let Toolchain::Python(py) = &service.toolchain else {
        return Ok(None);
    };
    let requirement_files = requirement_closure(service, py, files)?;
    let collected = collect(service, py, &requirement_files, files)?;
    if collected.route() != Route::Lock {
        return Ok(None);
    }
    let mut builder = Planner::new(options);
    let project = project(service, py, files)?;
    let (_, lock) = builder.lock_stages(
        service,
        py,
        project.requirement_files(),
        &requirement_files,
        &collected.packages,
        &python_runtime(service, py, files)?,
    );
    Ok(Some(builder.into_plan(
        service,
        lock,
        ImageConfig::default(),
    )))
}

/// How `target`'s requirements are built, in a sentence (`--call outline`); `None` for services
/// without Python.
pub fn describe_requirements(
    services: &[ServiceSettings],
    target: &str,
    files: &ContextFiles,
) -> Result<Option<String>, PlanError> {
    let service = find(services, target)?;
    let Toolchain::Python(py) = &service.toolchain else {
        return Ok(None);
    };
    let project = project(service, py, files)?;
    let python = python_runtime(service, py, files)?;
    let version = format!(
        "python {} (from {}): {}",
        python.version, python.from, python.image
    );
    if let Some(dependencies) = locked_dependencies(service, py, &project, files)? {
        let count = dependencies.pinned.requirements.len();
        let lock = match project {
            Project::Poetry(_) => "poetry.lock",
            _ => "uv.lock",
        };
        let mut how = format!(
            "python requirements: the {count} packages {lock} locks for them (markers \
             evaluated in the image), built and installed per package"
        );
        for member in &dependencies.members {
            how.push_str(&format!(
                "; the workspace member `{}` built as a wheel from `{}`",
                member.name, member.folder
            ));
        }
        if let Some(package) = &dependencies.package {
            how.push_str(&format!(
                "; the project `{}` built as a wheel from `{}` and installed without \
                 dependencies",
                package.name, package.folder
            ));
        }
        return Ok(Some(format!("{version}\n{}\n{how}", project.describe(py))));
    }
    let closure = requirement_closure(service, py, files)?;
    let collected = collect(service, py, &closure, files)?;
    let count = collected.requirements.len() + collected.packages.len();
    let how = match collected.route() {
        Route::Nothing => "python requirements: none".to_owned(),
        Route::Closure => format!(
            "python requirements: a complete pinned closure ({count} packages): built and \
             installed per package"
        ),
        Route::Files => "python requirements: built in one `pip wheel` step over the files \
                         (they hold editables, URLs or paths)"
            .to_owned(),
        Route::Lock => format!(
            "python requirements: {count} top-level requirement(s), resolved in the lock stage \
             for the target platform, then built and installed per package"
        ),
    };
    Ok(Some(format!("{version}\n{}\n{how}", project.describe(py))))
}

fn find<'a>(services: &'a [ServiceSettings], name: &str) -> Result<&'a ServiceSettings, PlanError> {
    services
        .iter()
        .find(|service| service.name == name)
        .ok_or_else(|| PlanError::UnknownTarget {
            target: name.to_owned(),
            services: services.iter().map(|s| s.name.clone()).collect(),
        })
}

/// Joins context-relative path parts, normalising `.` and `..`; `None` if it leaves the context.
pub fn join_in_context(base: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in base.split('/').chain(rel.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

struct Planner<'o> {
    options: &'o PlanOptions,
    stages: Vec<Stage>,
    follow_paths: BTreeSet<String>,
    /// See [`ContextInput::include_patterns`].
    include_patterns: BTreeSet<String>,
    /// See [`ContextInput::exclude_patterns`].
    exclude_patterns: BTreeSet<String>,
    /// The digest stage of each `rebuild_on_change` secret a step mounts, by service and id.
    secret_digests: BTreeMap<(String, String), StageId>,
}

impl<'o> Planner<'o> {
    fn new(options: &'o PlanOptions) -> Self {
        Planner {
            options,
            stages: Vec::new(),
            follow_paths: BTreeSet::new(),
            include_patterns: BTreeSet::new(),
            exclude_patterns: BTreeSet::new(),
            secret_digests: BTreeMap::new(),
        }
    }

    /// The plan of what was planned: its stages, the context they read, and the result.
    fn into_plan(self, service: &ServiceSettings, output: StageId, image: ImageConfig) -> Plan {
        Plan {
            service: service.name.clone(),
            platform: self.options.platform.clone(),
            context: ContextInput {
                follow_paths: self.follow_paths.into_iter().collect(),
                include_patterns: self.include_patterns.into_iter().collect(),
                exclude_patterns: self.exclude_patterns.into_iter().collect(),
            },
            stages: self.stages,
            output,
            image,
            engine: self.options.engine,
        }
    }
}

// The planner is one `Planner` whose methods live in a file per concern.
mod draft;
mod health;
mod image;
mod lock;
mod node;
mod python;
mod python_install;
mod python_locked;

pub(crate) use python_locked::{LocalBuild, locked_dependencies};
mod python_wheels;
mod serve;
mod steps;

pub use image::rfc3339_utc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_stays_inside_the_context() {
        assert_eq!(
            join_in_context("backend", "req/a.txt").as_deref(),
            Some("backend/req/a.txt")
        );
        assert_eq!(
            join_in_context("backend", "../shared.txt").as_deref(),
            Some("shared.txt")
        );
        assert_eq!(join_in_context("", "./a.txt").as_deref(), Some("a.txt"));
        assert_eq!(join_in_context("backend", "../../x"), None);
    }
}

//! Resolved services → [`Plan`]: the stage design.
//!
//! Python: `requirements` (only the requirement files) → `wheels` (`pip wheel` into a mount of its
//! own, so the stage's result is just the wheels) → `runtime` (installs from a read-only mount of
//! the wheels with the network off, then copies the code last). With every requirement pinned,
//! the wheels are built in hash groups (`wheel-six`, `wheels-2`), each keyed by its own lines, and,
//! on engines with DiffOp and MergeOp, installed as one layer per group (`install-six`,
//! `installs-2`) onto `system` (the runtime image, its packages, its user). `resolve` proves the
//! set complete, and `runtime` merges them with the `code` layer.
//! npm: `manifests` (only package.json, the lockfile, .npmrc) → `deps` (`npm ci`) → `sources`
//! (the code laid over `node_modules`) → `build` (`npm run build`, on the build platform: its output
//! does not depend on the target) → `serve` (nginx, non-root) or `dist` (just the files).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use buildkit_llb::NoCache;
use pep508_rs::PackageName;
use sha2::{Digest as _, Sha256};

use crate::engine::EngineFeatures;
use crate::error::PlanError;
use crate::image_config::{ContainerConfig, Empty, Healthcheck, ImageConfig, map_to_env};
use crate::lock::{LOCK_REPORT, Lock};
use crate::model::{
    Base, CacheSharing, ContextInput, CopyStep, FileSource, Mount, Network, Plan, Platform,
    RunStep, Stage, StageId, StageOutput, Step, WriteFileStep,
};
use crate::nginx;
use crate::python_deps::{
    PinnedRequirement, PinnedRequirements, Route, collect, requirement_closure,
};
use crate::settings::{
    HealthProbe, HealthSettings, NginxSettings, NodeSettings, NpmInstall, PythonSettings, RunAs,
    SecretExpose, ServiceSettings, Toolchain,
};

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
/// Where the lock stage's resolver is installed (the `uv` stage's output mount).
const UV_DIR: &str = "/tool";
/// Where the spec's `packages.pip` file is mounted in the lock step.
const PACKAGES_MOUNT: &str = "/extra";
/// The resolver of the lock stage: a uv release, installed from its wheel by version and hash
/// (PyPI's files for linux: x86_64, aarch64 (also musl), i686, armv7l, ppc64le, s390x, musl
/// x86_64). Resolving the example closure of 25 packages with pip 23 took 4.9–7.1 s (it
/// downloads every distribution to read its metadata); uv takes 0.6 s.
const UV_VERSION: &str = "0.13.9";
const UV_WHEEL_SHA256: [&str; 7] = [
    "d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19",
    "5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe",
    "db5c8df7145c21ffea9c0f74e38823bac3af60cbadf0e26b8633f08627b17bab",
    "16963d19594e18d746a70c7fce82237bde4f2cac4cfcf0ca2b84796fe9d0c6e9",
    "c5dbdb7c8737cd183a9dce95b39cfd1f3d54ec2a27a1bb58f160293f9ba2c805",
    "a6e845f387e4ed55bb59342957a9179e24a631fcc7668bda3426ae1cef8ed4b9",
    "2c45530751517d6c3bbc69a19473f6effe47cce047bede01ffd8af7ea7b36b25",
];
/// pip's index settings in `pip_env` and the names uv reads them under.
const PIP_TO_UV_ENV: [(&str, &str); 4] = [
    ("PIP_INDEX_URL", "UV_INDEX_URL"),
    ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"),
    ("PIP_FIND_LINKS", "UV_FIND_LINKS"),
    ("PIP_PRE", "UV_PRERELEASE"),
];
const NODE_APP_DIR: &str = "/app";
/// Probe interval during a health check's start period.
const START_INTERVAL: Duration = Duration::from_secs(1);

/// The image config's `variant`: absent when the platform has none.
fn image_variant(platform: &Platform) -> Option<String> {
    Some(platform.variant.clone()).filter(|v| !v.is_empty())
}

/// Whether the stage `id` skips the cache; `family` is the name it also answers to (the stage a
/// user knows it as: the wheel groups are `wheels`, the install layers `runtime`). A stage
/// answers to its service, its name, its family, and `service/name` or `service/family`.
fn skips_cache(no_cache: &NoCache, id: &StageId, family: &str) -> bool {
    [
        id.service.clone(),
        id.stage.clone(),
        family.to_owned(),
        id.to_string(),
        format!("{}/{family}", id.service),
    ]
    .iter()
    .any(|name| no_cache.applies_to(name))
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

/// Context-relative paths of requirement files the planner still needs to read for `target`
/// (the declared files, then whatever they include with `-r`/`-c`), given what is `known`.
/// Asked round by round by [`crate::gather`] (`FileScope::Plan`).
pub(crate) fn files_to_read(
    services: &[ServiceSettings],
    target: &str,
    known: &ContextFiles,
) -> Result<Vec<String>, PlanError> {
    let service = find(services, target)?;
    let mut wanted = Vec::new();
    if let Toolchain::Python(py) = &service.toolchain {
        for file in requirement_closure(service, py, known)? {
            if !known.contains_key(&file) && !wanted.contains(&file) {
                wanted.push(file);
            }
        }
    }
    Ok(wanted)
}

/// Builds the plan of `target`.
pub fn plan(
    services: &[ServiceSettings],
    target: &str,
    files: &ContextFiles,
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    let service = find(services, target)?;
    let mut builder = Planner {
        options,
        stages: Vec::new(),
        follow_paths: BTreeSet::new(),
        include_patterns: BTreeSet::new(),
        exclude_patterns: BTreeSet::new(),
    };
    let (output, image) = match &service.toolchain {
        Toolchain::Python(py) => builder.python(services, service, py, files)?,
        Toolchain::Node(node) => builder.node(service, node)?,
    };
    Ok(Plan {
        service: service.name.clone(),
        platform: options.platform.clone(),
        context: ContextInput {
            follow_paths: builder.follow_paths.into_iter().collect(),
            include_patterns: builder.include_patterns.into_iter().collect(),
            exclude_patterns: builder.exclude_patterns.into_iter().collect(),
        },
        stages: crate::secret_digest::add_secret_digests(builder.stages, services),
        output,
        image,
        engine: options.engine,
    })
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
    let mut builder = Planner {
        options,
        stages: Vec::new(),
        follow_paths: BTreeSet::new(),
        include_patterns: BTreeSet::new(),
        exclude_patterns: BTreeSet::new(),
    };
    let (_, lock) = builder.lock_stages(service, py, &requirement_files);
    Ok(Some(Plan {
        service: service.name.clone(),
        platform: options.platform.clone(),
        context: ContextInput {
            follow_paths: builder.follow_paths.into_iter().collect(),
            include_patterns: builder.include_patterns.into_iter().collect(),
            exclude_patterns: builder.exclude_patterns.into_iter().collect(),
        },
        stages: crate::secret_digest::add_secret_digests(builder.stages, services),
        output: lock,
        image: ImageConfig::default(),
        engine: options.engine,
    }))
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
    let closure = requirement_closure(service, py, files)?;
    let collected = collect(service, py, &closure, files)?;
    let count = collected.requirements.len() + py.pip_packages.len();
    Ok(Some(match collected.route() {
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
    }))
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
}

/// Steps of one stage, numbered when the stage is finished: `[api wheels 2/3] pip wheel …`.
struct StageDraft {
    id: StageId,
    /// What `--no-cache-filter` also calls the stage (its own name unless set).
    family: Option<&'static str>,
    purpose: String,
    platform: Platform,
    base: Base,
    steps: Vec<Step>,
}

impl StageDraft {
    fn new(service: &str, stage: &str, purpose: &str, platform: &Platform, base: Base) -> Self {
        StageDraft {
            id: StageId::new(service, stage),
            family: None,
            purpose: purpose.to_owned(),
            platform: platform.clone(),
            base,
            steps: Vec::new(),
        }
    }

    /// The stage also answers to `family` in `--no-cache-filter`: a wheel group to `wheels`, the
    /// install layers and their base and code to `runtime`, as the single-step stages they split.
    fn answering_to(mut self, family: &'static str) -> Self {
        self.family = Some(family);
        self
    }

    /// Adds a run step as root in `/`; `shape` sets the rest.
    fn run(&mut self, label: &str, args: Vec<String>, shape: impl FnOnce(&mut RunStep)) {
        let mut step = RunStep {
            name: label.to_owned(),
            args,
            env: BTreeMap::new(),
            cwd: "/".into(),
            user: "0:0".into(),
            mounts: Vec::new(),
            network: Network::Default,
        };
        shape(&mut step);
        self.steps.push(Step::Run(step));
    }

    fn copy(&mut self, step: CopyStep) {
        self.steps.push(Step::Copy(step));
    }

    fn write(&mut self, label: &str, path: &str, contents: String) {
        self.steps.push(Step::WriteFile(WriteFileStep {
            name: label.to_owned(),
            path: path.to_owned(),
            contents,
            mode: 0o644,
        }));
    }
}

/// No pip self-update check, no warning about running as root (the step is a build, not a host).
fn quiet_pip(step: &mut RunStep) {
    step.env
        .insert("PIP_DISABLE_PIP_VERSION_CHECK".into(), "1".into());
    step.env
        .insert("PIP_ROOT_USER_ACTION".into(), "ignore".into());
}

/// `/bin/sh -c SCRIPT sh ARGS…`: a fixed script whose values arrive as `$1`, `$2`, … (or
/// `"$@"`), so no value is ever parsed as shell syntax.
fn sh_with_args(script: &str, args: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut argv = vec![
        "/bin/sh".to_owned(),
        "-c".to_owned(),
        script.to_owned(),
        "sh".to_owned(),
    ];
    argv.extend(args);
    argv
}

fn escape_step_name(mut step: Step) -> Step {
    let name = match &mut step {
        Step::Run(s) => &mut s.name,
        Step::Copy(s) => &mut s.name,
        Step::WriteFile(s) => &mut s.name,
    };
    if let std::borrow::Cow::Owned(escaped) = layercake_spec::shown(name) {
        *name = escaped;
    }
    step
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Planner<'_> {
    /// A stage whose step names the caller sets; not yet added to the plan.
    fn finish_unnumbered(
        &self,
        draft: StageDraft,
        output: StageOutput,
        export_cache: bool,
    ) -> Stage {
        Stage {
            ignore_cache: skips_cache(
                &self.options.no_cache,
                &draft.id,
                draft.family.unwrap_or(draft.id.stage.as_str()),
            ),
            id: draft.id,
            purpose: draft.purpose,
            platform: draft.platform,
            base: draft.base,
            // Step names reach BuildKit's progress and the terminal: what a value holds that
            // would be invisible or act on the terminal is shown escaped.
            steps: draft.steps.into_iter().map(escape_step_name).collect(),
            output,
            export_cache,
            secret_derived: false,
        }
    }

    fn finish(
        &mut self,
        mut draft: StageDraft,
        output: StageOutput,
        export_cache: bool,
    ) -> StageId {
        let total = draft.steps.len();
        for (index, step) in draft.steps.iter_mut().enumerate() {
            let prefix = format!(
                "[{} {} {}/{}] ",
                draft.id.service,
                draft.id.stage,
                index + 1,
                total
            );
            match step {
                Step::Run(s) => s.name.insert_str(0, &prefix),
                Step::Copy(s) => s.name.insert_str(0, &prefix),
                Step::WriteFile(s) => s.name.insert_str(0, &prefix),
            }
        }
        let id = draft.id.clone();
        let stage = self.finish_unnumbered(draft, output, export_cache);
        self.stages.push(stage);
        id
    }

    fn cache_id(&self, tool: &str, version: &str, platform: Option<&Platform>) -> String {
        let mut id = format!("{}layercake-{tool}-{version}", self.options.cache_namespace);
        if let Some(platform) = platform {
            id.push('-');
            // A short, path-safe form of the platform: `linux-arm64-v8`.
            id.push_str(&platform.to_string().replace('/', "-"));
        }
        id
    }

    fn context_copy(&mut self, service: &ServiceSettings, name: &str, dest: &str) -> CopyStep {
        // The transfer carries what the copy takes: the service's `include` (under its folder)
        // rather than the whole folder, and none of what its `exclude` leaves out. (Excludes
        // with a `!` would re-include past `.dockerignore` there: then the folder goes whole.)
        let under = |pattern: &str| {
            if service.path.is_empty() {
                pattern.to_owned()
            } else {
                format!(
                    "{}/{pattern}",
                    crate::ignore::literal_pattern(&service.path)
                )
            }
        };
        if service.include.is_empty() {
            self.follow_paths.insert(if service.path.is_empty() {
                ".".into()
            } else {
                service.path.clone()
            });
        } else {
            self.include_patterns
                .extend(service.include.iter().map(|p| under(p)));
        }
        if !service.exclude.iter().any(|p| p.starts_with('!')) {
            self.exclude_patterns
                .extend(service.exclude.iter().map(|p| under(p)));
        }
        CopyStep {
            name: name.to_owned(),
            from: FileSource::Context {
                path: service.path.clone(),
            },
            dest: dest.to_owned(),
            contents_only: true,
            include: service.include.clone(),
            exclude: service.exclude.clone(),
            owner: None,
        }
    }

    fn apt_install(&self, draft: &mut StageDraft, image: &str, packages: &[String]) {
        let platform = draft.platform.clone();
        let image_key: String = image
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let archives = self.cache_id("apt-archives", &image_key, Some(&platform));
        let lists = self.cache_id("apt-lists", &image_key, Some(&platform));
        // The names are arguments of a fixed script, never part of it (they are validated as
        // Debian package names too).
        let label = format!("apt-get install {}", packages.join(" "));
        let args = sh_with_args(
            "apt-get update && apt-get install -y --no-install-recommends \"$@\"",
            packages.iter().cloned(),
        );
        draft.run(&label, args, |step| {
            step.env
                .insert("DEBIAN_FRONTEND".into(), "noninteractive".into());
            // Package lists and downloads live in locked cache mounts: never in a layer, and two
            // builds never write them at once.
            step.mounts.push(Mount::Cache {
                target: "/var/cache/apt".into(),
                id: archives,
                sharing: CacheSharing::Locked,
            });
            step.mounts.push(Mount::Cache {
                target: "/var/lib/apt/lists".into(),
                id: lists,
                sharing: CacheSharing::Locked,
            });
        });
    }

    fn create_user(draft: &mut StageDraft, user: &RunAs) {
        if let RunAs::User { name, uid, gid } = user {
            // Debian-style images have useradd; Alpine-style ones busybox adduser.
            // $1 name, $2 uid, $3 gid: values of a fixed script.
            let script = "if command -v useradd >/dev/null 2>&1; then \
                 groupadd --system --gid \"$3\" \"$1\" && \
                 useradd --system --uid \"$2\" --gid \"$3\" --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \"$1\"; \
                 else addgroup -S -g \"$3\" \"$1\" && adduser -S -D -H -u \"$2\" -G \"$1\" -s /sbin/nologin \"$1\"; fi";
            let label = format!("create user {name} ({uid}:{gid})");
            let args = sh_with_args(script, [name.clone(), uid.to_string(), gid.to_string()]);
            draft.run(&label, args, |step| step.network = Network::None);
        }
    }

    fn dependency_secrets(service: &ServiceSettings, step: &mut RunStep) {
        for secret in &service.secrets {
            step.mounts.push(match &secret.expose {
                SecretExpose::Env(name) => Mount::SecretEnv {
                    name: name.clone(),
                    id: secret.id.clone(),
                    required: secret.required,
                },
                SecretExpose::File(target) => Mount::SecretFile {
                    target: target.clone(),
                    id: secret.id.clone(),
                    required: secret.required,
                },
            });
        }
        if service.ssh {
            step.mounts.push(Mount::Ssh { required: true });
        }
    }

    fn pip_cache(&self, py: &PythonSettings) -> Mount {
        Mount::Cache {
            target: "/root/.cache/pip".into(),
            id: self.cache_id("pip", &py.version, Some(&self.options.platform)),
            sharing: CacheSharing::Shared,
        }
    }

    /// What every `pip wheel` step shares: env, the output folder, the download cache, secrets.
    fn pip_wheel_step(
        service: &ServiceSettings,
        py: &PythonSettings,
        cache: Mount,
        step: &mut RunStep,
    ) {
        step.env = py.pip_env.clone();
        quiet_pip(step);
        step.env
            .insert("PIP_CACHE_DIR".into(), "/root/.cache/pip".into());
        step.mounts.push(Mount::Output {
            target: WHEELS_DIR.into(),
            from: None,
        });
        step.mounts.push(cache);
        Self::dependency_secrets(service, step);
    }

    /// Wheel stages for a pinned requirement set, then `wheels` merging their results.
    ///
    /// Requirements go into buckets by a hash of their name, so a changed pin, an added or a
    /// removed requirement changes one bucket's step and no other. Each bucket is one `pip wheel
    /// --no-deps` over its lines only. One requirement per bucket is the finest cache grain, but
    /// every step pays pip's start-up: `wheel_group_size` trades the two (see docs/benchmarks.md).
    fn wheel_per_requirement<'p>(
        &mut self,
        service: &ServiceSettings,
        py: &PythonSettings,
        builder: &Base,
        pinned: &'p PinnedRequirements,
    ) -> (StageId, Vec<WheelGroup<'p>>) {
        let name = service.name.as_str();
        let platform = self.options.platform.clone();
        let buckets = bucket_count(pinned.requirements.len(), self.options.wheel_group_size);
        let mut groups: Vec<Vec<&PinnedRequirement>> = vec![Vec::new(); buckets];
        for requirement in &pinned.requirements {
            groups[bucket_of(&requirement.name, buckets)].push(requirement);
        }
        groups.retain(|group| !group.is_empty());
        let total = groups.len();
        let mut parts = Vec::with_capacity(total);
        let mut built = Vec::with_capacity(total);
        for (index, group) in groups.into_iter().enumerate() {
            let mut draft = StageDraft::new(
                name,
                &group_stage_name(("wheel", "wheels"), &group, index),
                "wheels of a few requirements, keyed by their lines only",
                &platform,
                builder.clone(),
            )
            .answering_to("wheels");
            // The step sees only its own lines (plus the files' global options), written to a
            // file so `--hash` options and markers keep working.
            let mut contents: Vec<&str> = pinned.options.iter().map(String::as_str).collect();
            contents.extend(group.iter().map(|r| r.line.as_str()));
            let mut args = strings(&[
                "/bin/sh",
                "-c",
                "printf '%s\\n' \"$1\" > /tmp/requirements.txt && shift && \
                 exec python3 -m pip wheel --no-deps --wheel-dir /wheels -r /tmp/requirements.txt \"$@\"",
                "pip-wheel",
            ]);
            args.push(contents.join("\n"));
            args.extend(py.pip_flags.iter().cloned());
            let cache = self.pip_cache(py);
            let noun = if group.len() == 1 { "wheel" } else { "wheels" };
            let shown = shown_group(&group);
            draft.run(
                &format!("[{name} {noun} {}/{total}] {shown}", index + 1),
                args,
                |step| Self::pip_wheel_step(service, py, cache, step),
            );
            let id = draft.id.clone();
            let stage = self.finish_unnumbered(draft, StageOutput::Mount(WHEELS_DIR.into()), true);
            self.stages.push(stage);
            parts.push(id.clone());
            built.push(WheelGroup {
                wheels: id,
                requirements: group,
            });
        }
        let wheels = StageDraft::new(
            name,
            "wheels",
            "the wheels of every requirement, merged",
            &platform,
            Base::Merge(parts),
        );
        (self.finish(wheels, StageOutput::Root, false), built)
    }

    /// One layer per wheel group: `pip install --no-deps` of the group's wheels onto `system`,
    /// taken as a diff, so a changed pin reinstalls and re-exports one small layer. The first
    /// id returned is the `resolve` stage: it resolves every requirement from the merged wheels
    /// alone (network off), the proof that the set is complete which the single `pip install`
    /// gave. It runs beside the installs and adds only an empty layer to the image.
    fn install_layers(
        &mut self,
        service: &ServiceSettings,
        system: &StageId,
        wheels: &StageId,
        groups: &[WheelGroup<'_>],
        shown: &str,
        lock: Option<&StageId>,
    ) -> Vec<StageId> {
        let name = service.name.as_str();
        let platform = self.options.platform.clone();
        let mut layers = Vec::with_capacity(groups.len() + 1);

        let mut resolve = StageDraft::new(
            name,
            "resolve",
            "proves the wheel set is complete: every requirement resolves from the wheels alone",
            &platform,
            Base::Stage(system.clone()),
        )
        .answering_to("runtime");
        // Over the pinned lines (hashes dropped, as for the installs), not the files: a wheel
        // built from an sdist would fail the files' `--hash` check.
        let all: Vec<&PinnedRequirement> = groups
            .iter()
            .flat_map(|group| group.requirements.iter().copied())
            .collect();
        let args = pip_install_lines(&["--dry-run"], &all);
        resolve.run(
            &format!(
                "pip install --dry-run --no-index: the {} pinned requirements of {shown}",
                all.len()
            ),
            args,
            |step| {
                Self::pip_install_step(step);
                step.mounts
                    .push(Mount::stage_root(WHEELS_DIR, wheels.clone()));
                step.mounts.extend(lock.cloned().map(lock_mount));
            },
        );
        layers.push(self.finish(resolve, StageOutput::Diff, true));

        let total = groups.len();
        for (index, group) in groups.iter().enumerate() {
            let mut draft = StageDraft::new(
                name,
                &group_stage_name(("install", "installs"), &group.requirements, index),
                "the installed files of a few requirements, as a layer keyed by their wheels",
                &platform,
                Base::Stage(system.clone()),
            )
            .answering_to("runtime");
            // Installed by requirement line, not by wheel file, so pip records `name==version`
            // (a file path would show in `pip freeze` as `name @ file:///wheels/…`).
            let args = pip_install_lines(&["--no-deps"], &group.requirements);
            let shown = shown_group(&group.requirements);
            let label = format!("[{name} install {}/{total}] {shown}", index + 1);
            draft.run(&label, args, |step| {
                Self::pip_install_step(step);
                step.mounts
                    .push(Mount::stage_root(WHEELS_DIR, group.wheels.clone()));
            });
            let stage = self.finish_unnumbered(draft, StageOutput::Diff, true);
            layers.push(stage.id.clone());
            self.stages.push(stage);
        }
        layers
    }

    /// The code (and assets) copied onto scratch, to be merged last (like `COPY --link`): the
    /// merge needs none of the layers below it, so layers restored from a registry cache are
    /// not downloaded and unpacked just to copy the code onto them.
    fn code_layer(&mut self, name: &str, platform: &Platform, code: Vec<CopyStep>) -> StageId {
        let mut code_layer = StageDraft::new(
            name,
            "code",
            "the code (and assets) alone, as the image's last layer",
            platform,
            Base::Scratch,
        )
        .answering_to("runtime");
        for copy in code {
            code_layer.copy(copy);
        }
        self.finish(code_layer, StageOutput::Root, false)
    }

    /// The runtime image's own steps, before anything is installed: its apt packages, its user.
    fn system_steps(&self, draft: &mut StageDraft, service: &ServiceSettings, py: &PythonSettings) {
        if !py.runtime_packages.is_empty() {
            self.apt_install(draft, &py.image, &py.runtime_packages);
        }
        Self::create_user(draft, &service.user);
    }

    /// What every `pip install` from the wheels shares: no network (the wheels are all there is),
    /// no cache, and nothing written outside the installed files (the step may be a layer).
    fn pip_install_step(step: &mut RunStep) {
        quiet_pip(step);
        // pip's own modules stay uncompiled; the installed packages are still byte-compiled
        // (pip compiles them explicitly).
        step.env
            .insert("PYTHONDONTWRITEBYTECODE".into(), "1".into());
        step.network = Network::None;
        step.mounts.push(Mount::Tmpfs {
            target: "/tmp".into(),
        });
    }

    /// The `requirements` stage: exactly the requirement files, at their context paths; the key
    /// of the steps that read the files (the unpinned `pip wheel`, the single `pip install`).
    /// Made once, by the first step that needs it: with pinned requirements and install layers
    /// no step does, as every step gets its own lines.
    fn requirements_stage(&mut self, service: &ServiceSettings, files: &[String]) -> StageId {
        let id = StageId::new(&service.name, "requirements");
        if self.stages.iter().any(|stage| stage.id == id) {
            return id;
        }
        let mut requirements = StageDraft::new(
            &service.name,
            "requirements",
            "the requirement files, nothing else: the key of the steps that read them",
            &self.options.platform.clone(),
            Base::Scratch,
        );
        for path in files {
            self.follow_paths.insert(path.clone());
        }
        requirements.copy(CopyStep {
            name: format!("copy {}", files.join(" ")),
            from: FileSource::Context {
                path: String::new(),
            },
            dest: "/".into(),
            contents_only: true,
            // Paths, not patterns: `req[1].txt` is that file.
            include: files
                .iter()
                .map(|f| crate::ignore::literal_pattern(f))
                .collect(),
            exclude: Vec::new(),
            owner: None,
        });
        self.finish(requirements, StageOutput::Root, false)
    }

    /// The wheels' base: the builder image, with build packages in a `builder` stage of its own
    /// when the spec lists any. Made once.
    fn builder_base(&mut self, service: &ServiceSettings, py: &PythonSettings) -> Base {
        if py.build_packages.is_empty() {
            return Base::Image(py.builder_image.clone());
        }
        let id = StageId::new(&service.name, "builder");
        if self.stages.iter().any(|stage| stage.id == id) {
            return Base::Stage(id);
        }
        let mut builder = StageDraft::new(
            &service.name,
            "builder",
            "the wheel-building image with its build packages",
            &self.options.platform.clone(),
            Base::Image(py.builder_image.clone()),
        );
        self.apt_install(&mut builder, &py.builder_image, &py.build_packages);
        Base::Stage(self.finish(builder, StageOutput::Root, false))
    }

    /// The `requirements`, `builder`, `uv` and `lock` stages: uv (a pinned release, installed by
    /// hash) resolves the requirement files and the spec's packages for the wheels' base image's
    /// own interpreter on this platform, and writes the closure, hashed, as a requirements file
    /// into the `lock` stage's output. Keyed only by the files' contents, the packages, the
    /// image and the platform, so the same files give the same lock, CACHED, on a fresh machine
    /// with registry cache too. Returns the builder base and the lock stage.
    fn lock_stages(
        &mut self,
        service: &ServiceSettings,
        py: &PythonSettings,
        requirement_files: &[String],
    ) -> (Base, StageId) {
        let name = service.name.as_str();
        let platform = self.options.platform.clone();
        let mut copied = requirement_files.to_vec();
        copied.sort();
        let requirements = (!copied.is_empty()).then(|| self.requirements_stage(service, &copied));
        // The spec's packages as a file of their own: uv reads requirements from files, and a
        // value never becomes part of a command line it could be parsed from.
        let packages = (!py.pip_packages.is_empty()).then(|| {
            let mut draft = StageDraft::new(
                name,
                "packages",
                "the spec's `packages.pip`, as a requirements file",
                &platform,
                Base::Scratch,
            );
            let mut contents = py.pip_packages.join("\n");
            contents.push('\n');
            draft.write("write packages.txt", "/packages.txt", contents);
            self.finish(draft, StageOutput::Root, false)
        });
        let builder = self.builder_base(service, py);

        let mut tool = StageDraft::new(
            name,
            "uv",
            "the lock stage's resolver: a pinned uv release, installed by hash",
            &platform,
            builder.clone(),
        );
        let mut args = strings(&[
            "/bin/sh",
            "-c",
            "printf '%s\\n' \"$1\" > /tmp/uv.txt && \
             exec python3 -m pip install --no-deps --no-cache-dir --only-binary=:all: \
             --target /tool -r /tmp/uv.txt",
            "pip-install",
        ]);
        args.push(uv_requirement());
        tool.run(
            &format!("pip install uv=={UV_VERSION} (by hash)"),
            args,
            |step| {
                step.env = py.pip_env.clone();
                quiet_pip(step);
                step.mounts.push(Mount::Output {
                    target: UV_DIR.into(),
                    from: None,
                });
                Self::dependency_secrets(service, step);
            },
        );
        let tool = self.finish(tool, StageOutput::Mount(UV_DIR.into()), true);

        let mut lock = StageDraft::new(
            name,
            "lock",
            "the complete pinned closure of the requirements for this platform, as uv resolves it",
            &platform,
            builder.clone(),
        );
        let mut args = vec![
            format!("{UV_DIR}/bin/uv"),
            "pip".into(),
            "compile".into(),
            // Index certificates from the image's own store (corporate proxies, private CAs).
            "--system-certs".into(),
            "--python".into(),
            "python3".into(),
            "--generate-hashes".into(),
            "--output-file".into(),
            format!("{LOCK_DIR}/{LOCK_REPORT}"),
        ];
        args.extend(uv_flags(&py.pip_flags));
        args.extend(
            requirement_file_args(service, py)
                .into_iter()
                .filter(|arg| arg != "-r"),
        );
        if packages.is_some() {
            args.push(format!("{PACKAGES_MOUNT}/packages.txt"));
        }
        let mut resolved: Vec<&str> = py.requirements.iter().map(String::as_str).collect();
        resolved.extend(py.pip_packages.iter().map(String::as_str));
        let label = format!(
            "uv pip compile: resolve {} for {}",
            resolved.join(" "),
            platform
        );
        let cache = Mount::Cache {
            target: "/root/.cache/uv".into(),
            id: self.cache_id("uv", UV_VERSION, Some(&platform)),
            sharing: CacheSharing::Shared,
        };
        lock.run(&label, args, |step| {
            step.env = py.pip_env.clone();
            // pip's index settings, as uv reads them.
            for (pip, uv) in PIP_TO_UV_ENV {
                if let Some(value) = py.pip_env.get(pip) {
                    step.env.insert(uv.into(), value.clone());
                }
            }
            step.env
                .insert("UV_CACHE_DIR".into(), "/root/.cache/uv".into());
            step.env.insert("UV_NO_PROGRESS".into(), "1".into());
            // Resolve for the image's interpreter; never download one.
            step.env
                .insert("UV_PYTHON_DOWNLOADS".into(), "never".into());
            step.mounts.push(Mount::Output {
                target: LOCK_DIR.into(),
                from: None,
            });
            step.mounts.push(cache);
            step.mounts.push(Mount::stage_root(UV_DIR, tool));
            if let Some(requirements) = requirements {
                step.mounts
                    .push(Mount::stage_root(REQUIREMENTS_MOUNT, requirements));
            }
            if let Some(packages) = packages {
                step.mounts
                    .push(Mount::stage_root(PACKAGES_MOUNT, packages));
            }
            Self::dependency_secrets(service, step);
            // A private index given as a secret env for pip reaches uv under uv's name.
            let twins: Vec<Mount> = step
                .mounts
                .iter()
                .filter_map(|mount| match mount {
                    Mount::SecretEnv { name, id, required } => PIP_TO_UV_ENV
                        .iter()
                        .find(|(pip, _)| pip == name)
                        .map(|(_, uv)| Mount::SecretEnv {
                            name: (*uv).to_owned(),
                            id: id.clone(),
                            required: *required,
                        }),
                    _ => None,
                })
                .collect();
            step.mounts.extend(twins);
        });
        let lock = self.finish(lock, StageOutput::Mount(LOCK_DIR.into()), true);
        (builder, lock)
    }

    fn python(
        &mut self,
        services: &[ServiceSettings],
        service: &ServiceSettings,
        py: &PythonSettings,
        files: &ContextFiles,
    ) -> Result<(StageId, ImageConfig), PlanError> {
        let platform = self.options.platform.clone();
        let name = service.name.as_str();
        let requirement_files = requirement_closure(service, py, files)?;
        let collected = collect(service, py, &requirement_files, files)?;
        let mut copied_files = requirement_files.clone();
        copied_files.sort();
        // `requirements.txt -r dev.txt` and `-r requirements.txt -r dev.txt uwsgi`, for step names.
        let mut shown = py.requirements.join(" -r ");
        let mut shown_args: Vec<String> =
            py.requirements.iter().map(|f| format!("-r {f}")).collect();
        shown_args.extend(py.pip_packages.iter().cloned());
        let shown_args = shown_args.join(" ");
        if !py.pip_packages.is_empty() {
            if !shown.is_empty() {
                shown.push(' ');
            }
            shown.push_str(&py.pip_packages.join(" "));
        }

        // What is installed, and how: nothing; a pinned closure (the files themselves, or the
        // lock stage's answer), built per bucket; or the files in one `pip wheel -r` step.
        let mut lock_stage = None;
        let dependencies = match (collected.route(), &self.options.lock) {
            (Route::Nothing, _) => Dependencies::Nothing,
            (Route::Closure, _) => Dependencies::Pinned(PinnedRequirements::from_files(&collected)),
            (Route::Lock, Some(lock)) => {
                let (_, stage) = self.lock_stages(service, py, &requirement_files);
                lock_stage = Some(stage);
                Dependencies::Pinned(PinnedRequirements::from_lock(&collected, lock))
            }
            // Direct references, or no lock answer (the CLI, the Dockerfile renderer).
            (Route::Files | Route::Lock, _) => {
                // 1. requirements: the requirement files, for the steps that read them.
                if !copied_files.is_empty() {
                    self.requirements_stage(service, &copied_files);
                }
                Dependencies::Files
            }
        };

        // 2. builder, 3. wheels: with a pinned closure, one `pip wheel --no-deps` per group of a
        // few requirements, each keyed by its own lines only, merged into one folder; otherwise
        // one `pip wheel` over the files. Either way the result holds only wheels.
        let (wheels, groups) = match &dependencies {
            Dependencies::Nothing => (None, None),
            Dependencies::Pinned(pinned) => {
                let builder = self.builder_base(service, py);
                let (wheels, groups) = self.wheel_per_requirement(service, py, &builder, pinned);
                (Some(wheels), Some(groups))
            }
            Dependencies::Files => {
                let builder = self.builder_base(service, py);
                let requirements = (!copied_files.is_empty())
                    .then(|| self.requirements_stage(service, &copied_files));
                let mut wheels = StageDraft::new(
                    name,
                    "wheels",
                    "every wheel the service needs, built once per requirements change",
                    &platform,
                    builder,
                );
                let mut args =
                    strings(&["python3", "-m", "pip", "wheel", "--wheel-dir", WHEELS_DIR]);
                args.extend(requirement_file_args(service, py));
                args.extend(py.pip_packages.iter().cloned());
                args.extend(py.pip_flags.iter().cloned());
                let cwd = format!("{REQUIREMENTS_MOUNT}/{}", service.path)
                    .trim_end_matches('/')
                    .to_owned();
                let cache = self.pip_cache(py);
                wheels.run(&format!("pip wheel {shown_args}"), args, |step| {
                    Self::pip_wheel_step(service, py, cache, step);
                    if let Some(requirements) = requirements {
                        step.cwd = cwd.clone();
                        step.mounts
                            .push(Mount::stage_root(REQUIREMENTS_MOUNT, requirements));
                    }
                });
                (
                    Some(self.finish(wheels, StageOutput::Mount(WHEELS_DIR.into()), true)),
                    None,
                )
            }
        };

        // Assets from node services are built before the runtime needs them.
        let mut asset_sources = Vec::new();
        for asset in &py.assets {
            let from = find(services, &asset.from)?;
            let Toolchain::Node(node) = &from.toolchain else {
                return Err(PlanError::AssetsNotNode {
                    service: name.to_owned(),
                    from: asset.from.clone(),
                });
            };
            let build = self.node_build(from, node)?;
            asset_sources.push((asset, build, node.output.clone()));
        }

        // The code, then the assets: the last layers of the image.
        let mut code = vec![self.context_copy(
            service,
            &format!("copy {} to {}", display_dir(&service.path), service.workdir),
            &service.workdir,
        )];
        for (asset, build, output) in asset_sources {
            let dest = join_in_context(&service.workdir, &asset.to).unwrap_or_default();
            code.push(CopyStep {
                name: format!("copy {} build output to /{dest}", asset.from),
                from: FileSource::Stage {
                    stage: build,
                    path: format!("/{output}"),
                },
                dest: format!("/{dest}"),
                contents_only: true,
                include: Vec::new(),
                exclude: Vec::new(),
                owner: None,
            });
        }

        // 4. runtime: packages, user, the installed wheels (network off), code last. With the
        // wheels in groups and an engine that merges, each group is installed as its own layer
        // onto `system` (the runtime image with its packages and user) and the layers are merged;
        // otherwise one `pip install` over all wheels.
        let merged = match (&groups, &wheels) {
            (Some(groups), Some(wheels)) => Some((groups, wheels)),
            _ => None,
        }
        .filter(|_| self.options.engine.merge_diff());
        let nothing_to_install = matches!(dependencies, Dependencies::Nothing);
        let mut runtime = match merged {
            _ if nothing_to_install && self.options.engine.merge_diff() => {
                let mut system = StageDraft::new(
                    name,
                    "system",
                    "the runtime image with its packages and user",
                    &platform,
                    Base::Image(py.image.clone()),
                )
                .answering_to("runtime");
                self.system_steps(&mut system, service, py);
                let system = self.finish(system, StageOutput::Root, false);
                let code_layer = self.code_layer(name, &platform, code);
                StageDraft::new(
                    name,
                    "runtime",
                    "the image: the code merged onto the runtime image (no requirements)",
                    &platform,
                    Base::Merge(vec![system, code_layer]),
                )
            }
            Some((groups, wheels)) => {
                let mut system = StageDraft::new(
                    name,
                    "system",
                    "the runtime image with its packages and user: the base of every install layer",
                    &platform,
                    Base::Image(py.image.clone()),
                )
                .answering_to("runtime");
                self.system_steps(&mut system, service, py);
                let system = self.finish(system, StageOutput::Root, false);
                let layers = self.install_layers(
                    service,
                    &system,
                    wheels,
                    groups,
                    &shown,
                    lock_stage.as_ref(),
                );
                let code_layer = self.code_layer(name, &platform, code);
                let mut parts = vec![system];
                parts.extend(layers);
                parts.push(code_layer);
                StageDraft::new(
                    name,
                    "runtime",
                    "the image: the install layers and the code merged onto the runtime image",
                    &platform,
                    Base::Merge(parts),
                )
            }
            None => {
                let mut runtime = StageDraft::new(
                    name,
                    "runtime",
                    "the image: runtime packages, installed wheels, then the code",
                    &platform,
                    Base::Image(py.image.clone()),
                );
                self.system_steps(&mut runtime, service, py);
                let wheels_mount = wheels.map(|wheels| Mount::stage_root(WHEELS_DIR, wheels));
                let lock_mount = lock_stage.clone().map(lock_mount);
                if let (Dependencies::Pinned(pinned), Some(wheels_mount)) =
                    (&dependencies, wheels_mount.clone())
                {
                    // Old engines and `layercake dockerfile`: one install of the pinned lines
                    // without their hashes, as the install layers take them (a wheel built from
                    // an sdist never matches the sdist's hash). With dependencies, from the
                    // wheels alone: it proves the wheel set is complete.
                    let all: Vec<&PinnedRequirement> = pinned.requirements.iter().collect();
                    runtime.run(
                        &format!(
                            "pip install --no-index: the {} pinned requirements of {shown}",
                            all.len()
                        ),
                        pip_install_lines(&[], &all),
                        |step| {
                            Self::pip_install_step(step);
                            step.mounts.push(wheels_mount);
                            step.mounts.extend(lock_mount);
                        },
                    );
                } else if let Some(wheels_mount) = wheels_mount {
                    let requirements = (!copied_files.is_empty())
                        .then(|| self.requirements_stage(service, &copied_files));
                    let mut args = strings(&[
                        "python3",
                        "-m",
                        "pip",
                        "install",
                        "--no-index",
                        "--no-cache-dir",
                        "--find-links",
                        WHEELS_DIR,
                    ]);
                    args.extend(requirement_file_args(service, py));
                    args.extend(py.pip_packages.iter().cloned());
                    runtime.run(
                        &format!("pip install --no-index {shown_args}"),
                        args,
                        |step| {
                            quiet_pip(step);
                            // The working directory stays `/`: one inside a mount would be
                            // created in the image as an empty folder. Requirement paths are
                            // absolute, and pip resolves `-r`/`-c` includes against the
                            // including file anyway. Installing from the wheels alone proves the
                            // wheel set is complete.
                            step.network = Network::None;
                            step.mounts.push(wheels_mount);
                            if let Some(requirements) = requirements {
                                step.mounts
                                    .push(Mount::stage_root(REQUIREMENTS_MOUNT, requirements));
                            }
                        },
                    );
                }
                for copy in code {
                    runtime.copy(copy);
                }
                runtime
            }
        };
        for command in &py.build_steps {
            runtime.run(&command.join(" "), command.clone(), |step| {
                step.cwd = service.workdir.clone();
                step.env = service.env.clone();
            });
        }
        let runtime = self.finish(runtime, StageOutput::Root, false);

        let mut env = BTreeMap::from([
            ("PYTHONDONTWRITEBYTECODE".to_owned(), "1".to_owned()),
            ("PYTHONUNBUFFERED".to_owned(), "1".to_owned()),
        ]);
        env.extend(service.env.clone());
        let health = service
            .healthcheck
            .as_ref()
            .map(|h| healthcheck(h, service.port, HttpProber::Python))
            .transpose()?;
        Ok((runtime, self.image_config(service, env, health)))
    }
    /// The `manifests`, `deps`, `sources` and `build` stages of a node service; returns `build`.
    fn node_build(
        &mut self,
        service: &ServiceSettings,
        node: &NodeSettings,
    ) -> Result<StageId, PlanError> {
        let build_id = StageId::new(&service.name, "build");
        if self.stages.iter().any(|stage| stage.id == build_id) {
            return Ok(build_id);
        }
        let platform = self.options.build_platform.clone();
        let name = service.name.as_str();

        // 1. manifests: package.json, the lockfile and .npmrc, nothing else.
        let mut manifests = StageDraft::new(
            name,
            "manifests",
            "package.json, the lockfile and .npmrc: the key of the npm install",
            &platform,
            Base::Scratch,
        );
        let mut wanted = strings(&["package.json", "package-lock.json"]);
        if node.npmrc {
            wanted.push(".npmrc".into());
        }
        for file in &wanted {
            if let Some(path) = join_in_context(&service.path, file) {
                self.follow_paths.insert(path);
            }
        }
        manifests.copy(CopyStep {
            name: format!("copy {}", wanted.join(" ")),
            from: FileSource::Context {
                path: service.path.clone(),
            },
            dest: "/".into(),
            contents_only: true,
            include: wanted,
            exclude: Vec::new(),
            owner: None,
        });
        let manifests = self.finish(manifests, StageOutput::Root, false);

        // 2. deps: npm ci into the /app mount, so the result is the app folder with node_modules.
        let mut deps = StageDraft::new(
            name,
            "deps",
            "node_modules, installed once per lockfile change",
            &platform,
            Base::Image(node.image.clone()),
        );
        let (verb, label) = match node.install {
            NpmInstall::Ci => ("ci", "npm ci"),
            NpmInstall::Install => ("install", "npm install"),
        };
        let mut args = strings(&["npm", verb, "--no-audit", "--no-fund"]);
        args.extend(node.install_flags.iter().cloned());
        let label = std::iter::once(label)
            .chain(node.install_flags.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        let npm_cache = self.cache_id("npm", &node.version, None);
        deps.run(&label, args, |step| {
            step.cwd = NODE_APP_DIR.into();
            step.env
                .insert("npm_config_update_notifier".into(), "false".into());
            step.mounts.push(Mount::Output {
                target: NODE_APP_DIR.into(),
                from: Some(manifests),
            });
            step.mounts.push(Mount::Cache {
                target: "/root/.npm".into(),
                id: npm_cache,
                sharing: CacheSharing::Shared,
            });
            Self::dependency_secrets(service, step);
        });
        let deps = self.finish(deps, StageOutput::Mount(NODE_APP_DIR.into()), true);

        // 3. sources: the code laid over the installed app folder.
        let mut sources = StageDraft::new(
            name,
            "sources",
            "the code on top of node_modules",
            &platform,
            Base::Stage(deps),
        );
        let mut copy = self.context_copy(
            service,
            &format!("copy {}", display_dir(&service.path)),
            "/",
        );
        // A stray local node_modules or old build output must never shadow the built ones,
        // and is not transferred either.
        copy.exclude.push("node_modules".into());
        // `output` is a path: as an exclude pattern, escaped.
        copy.exclude
            .push(crate::ignore::literal_pattern(&node.output));
        for left_out in ["node_modules", node.output.as_str()] {
            self.exclude_patterns
                .insert(match join_in_context(&service.path, left_out) {
                    Some(path) => crate::ignore::literal_pattern(&path),
                    None => continue,
                });
        }
        sources.copy(copy);
        let sources = self.finish(sources, StageOutput::Root, false);

        // 4. build: npm run <script>.
        let mut build = StageDraft::new(
            name,
            "build",
            "the built files (platform independent: runs on the build platform)",
            &platform,
            Base::Image(node.image.clone()),
        );
        let args = strings(&["npm", "run", node.script.as_str()]);
        build.run(&format!("npm run {}", node.script), args, |step| {
            step.cwd = NODE_APP_DIR.into();
            step.env = node.env.clone();
            step.env
                .insert("npm_config_update_notifier".into(), "false".into());
            step.mounts.push(Mount::Output {
                target: NODE_APP_DIR.into(),
                from: Some(sources),
            });
        });
        Ok(self.finish(build, StageOutput::Mount(NODE_APP_DIR.into()), false))
    }

    fn node(
        &mut self,
        service: &ServiceSettings,
        node: &NodeSettings,
    ) -> Result<(StageId, ImageConfig), PlanError> {
        let build = self.node_build(service, node)?;
        let built = FileSource::Stage {
            stage: build,
            path: format!("/{}", node.output),
        };
        let name = service.name.as_str();
        match &node.serve {
            None => {
                let mut dist = StageDraft::new(
                    name,
                    "dist",
                    "only the built files",
                    &self.options.platform,
                    Base::Scratch,
                );
                dist.copy(CopyStep {
                    name: format!("copy {}", node.output),
                    from: built,
                    dest: "/".into(),
                    contents_only: true,
                    include: Vec::new(),
                    exclude: Vec::new(),
                    owner: None,
                });
                let dist = self.finish(dist, StageOutput::Root, false);
                let image = ImageConfig {
                    architecture: self.options.platform.architecture.clone(),
                    os: self.options.platform.os.clone(),
                    variant: image_variant(&self.options.platform),
                    created: self.created(),
                    config: ContainerConfig {
                        labels: self.labels(service),
                        ..ContainerConfig::default()
                    },
                };
                Ok((dist, image))
            }
            Some(nginx_settings) => self.nginx(service, nginx_settings, built),
        }
    }

    fn nginx(
        &mut self,
        service: &ServiceSettings,
        settings: &NginxSettings,
        built: FileSource,
    ) -> Result<(StageId, ImageConfig), PlanError> {
        let port = service.port.unwrap_or(match service.user {
            RunAs::Root => 80,
            RunAs::User { .. } => 8080,
        });
        let mut serve = StageDraft::new(
            &service.name,
            "serve",
            if self.options.engine.merge_diff() {
                "nginx with its user and config: the base of the image"
            } else {
                "nginx with its user and config, the health probe and the built files"
            },
            &self.options.platform,
            Base::Image(settings.image.clone()),
        );
        Self::create_user(&mut serve, &service.user);
        serve.write("write nginx.conf", nginx::MAIN_CONF, nginx::main_conf());
        match &settings.config {
            Some(config) => {
                let path = join_in_context(&service.path, config).ok_or_else(|| {
                    PlanError::OutsideContext {
                        service: service.name.clone(),
                        path: config.clone(),
                    }
                })?;
                self.follow_paths.insert(path.clone());
                serve.copy(CopyStep {
                    name: format!("copy {config}"),
                    from: FileSource::Context { path },
                    dest: nginx::SERVER_CONF.into(),
                    contents_only: false,
                    include: Vec::new(),
                    exclude: Vec::new(),
                    owner: None,
                });
            }
            None => serve.write(
                "write conf.d/default.conf",
                nginx::SERVER_CONF,
                nginx::server_conf(port, settings.spa),
            ),
        }
        let health = service.healthcheck.clone().or_else(default_http_health);
        let probe = matches!(
            health.as_ref().map(|h| &h.probe),
            Some(HealthProbe::Http { .. })
        );
        let output = CopyStep {
            name: "copy build output".into(),
            from: built,
            dest: nginx::HTML_ROOT.into(),
            contents_only: true,
            include: Vec::new(),
            exclude: Vec::new(),
            owner: None,
        };
        let serve = if self.options.engine.merge_diff() {
            // The probe and the built files are layers of their own, merged onto nginx (like
            // `COPY --link`). The probe layer is the frontend image's own layer, blob and all:
            // no build compresses it again, and a registry that has the frontend image stores
            // it once. The built files merge last without the layers below them, so a
            // fresh machine does not download nginx's layers from the cache to copy onto them.
            let serve = self.finish(serve, StageOutput::Root, false);
            let mut parts = vec![serve];
            if probe {
                let probe = StageDraft::new(
                    &service.name,
                    "probe",
                    "the frontend image itself: its one layer holds the health probe",
                    &self.options.platform,
                    Base::Frontend,
                )
                .answering_to("serve");
                parts.push(self.finish(probe, StageOutput::Root, false));
            }
            let mut html = StageDraft::new(
                &service.name,
                "html",
                "the built files alone, as the image's last layer",
                &self.options.platform,
                Base::Scratch,
            )
            .answering_to("serve");
            html.copy(output);
            parts.push(self.finish(html, StageOutput::Root, false));
            let image = StageDraft::new(
                &service.name,
                "image",
                "the image: the probe and the built files merged onto nginx",
                &self.options.platform,
                Base::Merge(parts),
            )
            .answering_to("serve");
            self.finish(image, StageOutput::Root, false)
        } else {
            if probe {
                serve.copy(CopyStep {
                    name: "copy health probe".into(),
                    from: FileSource::Frontend {
                        path: PROBE_PATH.into(),
                    },
                    dest: PROBE_PATH.into(),
                    contents_only: false,
                    include: Vec::new(),
                    exclude: Vec::new(),
                    owner: None,
                });
            }
            serve.copy(output);
            self.finish(serve, StageOutput::Root, false)
        };
        let health = health
            .as_ref()
            .map(|h| healthcheck(h, Some(port), HttpProber::Probe))
            .transpose()?;
        let mut service = service.clone();
        service.port = Some(port);
        service.command = Some(strings(&["nginx", "-g", "daemon off;"]));
        if service.stop_signal.is_none() {
            // nginx finishes in-flight requests on SIGQUIT.
            service.stop_signal = Some("SIGQUIT".into());
        }
        let image = self.image_config(&service, service.env.clone(), health);
        Ok((serve, image))
    }

    fn created(&self) -> Option<String> {
        self.options.source_date_epoch.map(rfc3339_utc)
    }

    fn labels(&self, service: &ServiceSettings) -> BTreeMap<String, String> {
        let mut labels = service.labels.clone();
        labels.extend(self.options.labels.clone());
        labels
    }

    fn image_config(
        &self,
        service: &ServiceSettings,
        env: BTreeMap<String, String>,
        healthcheck: Option<Healthcheck>,
    ) -> ImageConfig {
        let platform = &self.options.platform;
        ImageConfig {
            architecture: platform.architecture.clone(),
            os: platform.os.clone(),
            variant: image_variant(platform),
            created: self.created(),
            config: ContainerConfig {
                user: Some(match &service.user {
                    RunAs::Root => "0:0".to_owned(),
                    // Numeric, so Kubernetes' runAsNonRoot can verify it.
                    RunAs::User { uid, gid, .. } => format!("{uid}:{gid}"),
                }),
                exposed_ports: service
                    .port
                    .map(|port| (format!("{port}/tcp"), Empty {}))
                    .into_iter()
                    .collect(),
                env: map_to_env(&env),
                entrypoint: service.entrypoint.clone(),
                cmd: service.command.clone(),
                volumes: service
                    .volumes
                    .iter()
                    .map(|v| (v.clone(), Empty {}))
                    .collect(),
                working_dir: Some(service.workdir.clone())
                    .filter(|_| matches!(service.toolchain, Toolchain::Python(_))),
                labels: self.labels(service),
                stop_signal: service.stop_signal.clone(),
                healthcheck,
                shell: None,
            },
        }
    }
}

fn display_dir(path: &str) -> String {
    if path.is_empty() {
        ".".into()
    } else {
        format!("{path}/")
    }
}

/// nginx services get an HTTP check of `/` unless the spec says otherwise.
fn default_http_health() -> Option<HealthSettings> {
    Some(HealthSettings {
        probe: HealthProbe::Http {
            path: "/".into(),
            port: None,
        },
        interval: Duration::from_secs(30),
        timeout: Duration::from_secs(5),
        start_period: Duration::from_secs(5),
        retries: 3,
    })
}

/// How an HTTP health check runs inside the image.
enum HttpProber {
    /// The image has Python: urllib, nothing added.
    Python,
    /// The frontend's static binary, copied to [`PROBE_PATH`].
    Probe,
}

fn healthcheck(
    settings: &HealthSettings,
    service_port: Option<u16>,
    prober: HttpProber,
) -> Result<Healthcheck, PlanError> {
    let test = match &settings.probe {
        HealthProbe::Disabled => vec!["NONE".to_owned()],
        HealthProbe::Command(args) => std::iter::once("CMD".to_owned())
            .chain(args.iter().cloned())
            .collect(),
        HealthProbe::Shell(script) => vec!["CMD-SHELL".to_owned(), script.clone()],
        HealthProbe::Http { path, port } => {
            let port = port
                .or(service_port)
                .ok_or(PlanError::HealthcheckWithoutPort)?;
            let url = format!("http://127.0.0.1:{port}{path}");
            match prober {
                HttpProber::Python => {
                    let timeout = settings.timeout.as_secs().max(1);
                    vec![
                        "CMD".to_owned(),
                        "python3".to_owned(),
                        "-c".to_owned(),
                        format!(
                            "import urllib.request; urllib.request.urlopen('{url}', timeout={timeout})"
                        ),
                    ]
                }
                HttpProber::Probe => vec![
                    "CMD".to_owned(),
                    PROBE_PATH.to_owned(),
                    "probe".to_owned(),
                    url,
                ],
            }
        }
    };
    // During the start period probe often, so a container is reported healthy seconds after it
    // is ready instead of a whole interval later.
    let start_interval = if settings.start_period.is_zero() {
        Duration::ZERO
    } else {
        settings.interval.min(START_INTERVAL)
    };
    Ok(Healthcheck {
        test,
        interval: settings.interval,
        timeout: settings.timeout,
        start_period: settings.start_period,
        retries: settings.retries,
        start_interval,
    })
}

/// Seconds since the epoch → `YYYY-MM-DDTHH:MM:SSZ` in UTC (Howard Hinnant's civil-from-days,
/// proleptic Gregorian): image `created` times and OCI labels, from `SOURCE_DATE_EPOCH` or a commit.
pub fn rfc3339_utc(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// A requirement group's stage: named for its only requirement (`wheel-six`) or its number
/// (`wheels-2`), so a stage keeps its name while its group keeps its one requirement.
fn group_stage_name(
    (one, many): (&str, &str),
    group: &[&PinnedRequirement],
    index: usize,
) -> String {
    match group {
        [only] => format!("{one}-{}", only.name),
        _ => format!("{many}-{}", index + 1),
    }
}

/// `pip install` from the wheels alone of exactly these requirement lines (without hashes),
/// written to a requirements file on the step's tmpfs so markers keep working.
fn pip_install_lines(options: &[&str], requirements: &[&PinnedRequirement]) -> Vec<String> {
    let lines: Vec<&str> = requirements.iter().map(|r| r.unhashed.as_str()).collect();
    let options: String = options.iter().map(|option| format!(" {option}")).collect();
    let script = format!(
        "printf '%s\\n' \"$1\" > /tmp/requirements.txt && \
         exec python3 -m pip install{options} --no-index --no-cache-dir --find-links {WHEELS_DIR} \
         -r /tmp/requirements.txt"
    );
    vec![
        "/bin/sh".into(),
        "-c".into(),
        script,
        "pip-install".into(),
        lines.join("\n"),
    ]
}

/// `-r /src/<path>` for each requirement file, as the steps that read the files (unpinned
/// requirements) see them through the `requirements` mount.
fn requirement_file_args(service: &ServiceSettings, py: &PythonSettings) -> Vec<String> {
    py.requirements
        .iter()
        .filter_map(|file| join_in_context(&service.path, file))
        .flat_map(|path| ["-r".to_owned(), format!("{REQUIREMENTS_MOUNT}/{path}")])
        .collect()
}

/// `six==1.16.0 idna==3.20`: a group as its step name shows it.
fn shown_group(group: &[&PinnedRequirement]) -> String {
    let shown: Vec<&str> = group.iter().map(|r| r.shown.as_str()).collect();
    shown.join(" ")
}

/// `uv==VERSION --hash=… …`: the resolver's requirement line.
fn uv_requirement() -> String {
    let mut line = format!("uv=={UV_VERSION}");
    for digest in UV_WHEEL_SHA256 {
        line.push_str(" --hash=sha256:");
        line.push_str(digest);
    }
    line
}

/// The `pip_flags` that change what resolves, as `uv pip compile` takes them (indexes, links,
/// pre-releases, binary choices); the rest only concern building wheels.
fn uv_flags(pip_flags: &[String]) -> Vec<String> {
    const WITH_VALUE: [&str; 7] = [
        "--index-url",
        "-i",
        "--extra-index-url",
        "--find-links",
        "-f",
        "--no-binary",
        "--only-binary",
    ];
    let mut out = Vec::new();
    let mut flags = pip_flags.iter().peekable();
    while let Some(flag) = flags.next() {
        let name = flag.split('=').next().unwrap_or(flag);
        if flag == "--pre" {
            out.push("--prerelease=allow".to_owned());
        } else if WITH_VALUE.contains(&name) {
            out.push(flag.clone());
            if !flag.contains('=')
                && let Some(value) = flags.next_if(|value| !value.starts_with('-'))
            {
                out.push(value.clone());
            }
        }
    }
    out
}

/// What a python service installs, and how (see `Planner::python`).
enum Dependencies {
    /// `requirements: []` and no packages.
    Nothing,
    /// A complete pinned closure (the files, or the lock stage's answer): built per bucket.
    Pinned(PinnedRequirements),
    /// The files as they are, in one `pip wheel -r` step (direct references, or no lock).
    Files,
}

/// The lock stage's report, mounted read-only into the step that proves the set complete: the
/// lock stage is then part of the image's graph, so `--cache-to …,mode=max` exports it and a
/// fresh machine finds it CACHED. The step's own lines already follow the report.
fn lock_mount(lock: StageId) -> Mount {
    Mount::stage_root(LOCK_DIR, lock)
}

/// The requirements of one wheel step, and that step's stage.
struct WheelGroup<'p> {
    wheels: StageId,
    requirements: Vec<&'p PinnedRequirement>,
}

/// How many buckets `count` pinned requirements go into for groups of about `group_size`: a power
/// of two, so it changes (and every bucket with it) only when the count doubles or halves.
fn bucket_count(count: usize, group_size: usize) -> usize {
    let wanted = count.div_ceil(group_size.max(1)).max(1);
    wanted.next_power_of_two().min(count.max(1))
}

/// A requirement's bucket: stable across runs and machines (a hash of its normalised name).
fn bucket_of(name: &PackageName, buckets: usize) -> usize {
    let digest = Sha256::digest(name.as_ref().as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    // u64 → usize is lossless on the 64-bit targets we build for; modulo keeps it in range.
    (u64::from_be_bytes(head) % buckets.max(1) as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_powers_of_two_and_stable() {
        assert_eq!(bucket_count(1, 4), 1);
        assert_eq!(bucket_count(12, 4), 4);
        assert_eq!(bucket_count(30, 4), 8);
        assert_eq!(bucket_count(30, 1), 30);
        assert_eq!(bucket_count(3, 1), 3);
        let name = |n: &str| -> PackageName { n.parse().expect("a package name") };
        // The same name lands in the same bucket whatever its spelling: the key is the
        // normalised name, and it hashes to the bucket it always did.
        assert_eq!(name("Pydantic_Core").as_ref(), "pydantic-core");
        assert_eq!(
            bucket_of(&name("Pydantic_Core"), 8),
            bucket_of(&name("pydantic.core"), 8)
        );
        let spread: std::collections::BTreeSet<usize> = [
            "fastapi", "uvicorn", "pydantic", "anyio", "idna", "click", "h11", "sniffio",
        ]
        .iter()
        .map(|n| bucket_of(&name(n), 4))
        .collect();
        assert!(spread.len() >= 3, "names spread over buckets: {spread:?}");
    }

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(-1), "1969-12-31T23:59:59Z");
    }

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

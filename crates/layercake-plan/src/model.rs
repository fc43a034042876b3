//! The build plan: stages and steps as plain data. No IO, no LLB types.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use crate::engine::EngineFeatures;
use crate::image_config::ImageConfig;
pub use crate::stage_id::{Part, RunsOn, StageId, StageKind};

pub use buildkit_llb::{CacheSharing, Platform};

/// A platform as the plan writes it (its snapshots, `layercake plan --json`): `os`,
/// `architecture`, then `variant` when there is one, rather than in the image-spec form of
/// [`Platform`]'s own serde.
fn plan_platform<S: Serializer>(platform: &Platform, serializer: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename = "Platform")]
    struct PlanPlatform<'a> {
        os: &'a str,
        architecture: &'a str,
        #[serde(skip_serializing_if = "str::is_empty")]
        variant: &'a str,
        #[serde(rename = "os.version", skip_serializing_if = "str::is_empty")]
        os_version: &'a str,
        #[serde(rename = "os.features", skip_serializing_if = "<[String]>::is_empty")]
        os_features: &'a [String],
    }
    PlanPlatform {
        os: &platform.os,
        architecture: &platform.architecture,
        variant: &platform.variant,
        os_version: &platform.os_version,
        os_features: &platform.os_features,
    }
    .serialize(serializer)
}

/// Everything needed to build one service for one platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The service (the `--target`).
    pub service: String,
    /// The platform of the image being built.
    #[serde(serialize_with = "plan_platform")]
    pub platform: Platform,
    /// What the build reads from the context: every path any stage copies or mounts.
    pub context: ContextInput,
    /// Stages in dependency order: every stage appears after the stages it reads from.
    pub stages: Vec<Stage>,
    /// The stage whose result is the image.
    pub output: StageId,
    /// The final image configuration, before the base image's configuration is merged in.
    pub image: ImageConfig,
    /// The engine the plan was made for ([`crate::PlanOptions::engine`]): lowering writes the
    /// ops for exactly it. Not part of the plan's printed form.
    #[serde(skip)]
    pub engine: EngineFeatures,
}

impl Plan {
    /// Looks a stage up by id.
    pub fn stage(&self, id: &StageId) -> Option<&Stage> {
        self.stages.iter().find(|stage| &stage.id == id)
    }

    /// The image whose layers the stage's result starts with: its base image, its base stage's,
    /// or for a merge its first input's (those layers come first in the result). None when the
    /// result starts from scratch or is a mount or a diff.
    pub fn base_image(&self, id: &StageId) -> Option<(&str, &Platform)> {
        let mut stage = self.stage(id)?;
        loop {
            if stage.output != StageOutput::Root {
                return None;
            }
            stage = match &stage.base {
                Base::Image(reference) => return Some((reference, &stage.platform)),
                Base::Stage(below) => self.stage(below)?,
                Base::Merge(parts) => self.stage(parts.first()?)?,
                Base::Scratch | Base::Frontend => return None,
            };
        }
    }

    /// Every distinct base image the plan needs, with the platform it is needed for.
    pub fn base_images(&self) -> Vec<(String, Platform)> {
        let mut images: Vec<(String, Platform)> = Vec::new();
        for stage in &self.stages {
            if let Base::Image(reference) = &stage.base {
                let key = (reference.clone(), stage.platform.clone());
                if !images.contains(&key) {
                    images.push(key);
                }
            }
        }
        images
    }

    /// The platforms for which the plan uses the frontend's own image (merges it or copies out
    /// of it).
    pub fn frontend_platforms(&self) -> Vec<Platform> {
        let mut platforms: Vec<Platform> = Vec::new();
        for stage in &self.stages {
            let uses = stage.base == Base::Frontend
                || stage.steps.iter().any(|step| match step {
                    Step::Copy(copy) => matches!(copy.from, FileSource::Frontend { .. }),
                    Step::Run(run) => run.mounts.iter().any(|m| {
                        matches!(
                            m,
                            Mount::ReadOnly {
                                source: FileSource::Frontend { .. },
                                ..
                            }
                        )
                    }),
                    Step::WriteFile(_) => false,
                });
            if uses && !platforms.contains(&stage.platform) {
                platforms.push(stage.platform.clone());
            }
        }
        platforms
    }
}

/// The build context as the plan uses it: one local source, narrowed to what is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContextInput {
    /// Paths (relative to the context root) that the build reads; BuildKit transfers only these.
    pub follow_paths: Vec<String>,
    /// Patterns (relative to the context root) that stand for a service folder in the
    /// transfer: the service's `include`, under its folder.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub include_patterns: Vec<String>,
    /// Patterns left out of the transfer after `.dockerignore`'s: what the copies leave out
    /// anyway (a service's `exclude`, a node service's `node_modules` and output folder).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclude_patterns: Vec<String>,
}

/// One stage: a starting file system and the steps applied to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    pub id: StageId,
    /// What the stage is for, in a few words (shown by `layercake plan`).
    pub purpose: String,
    /// Where the steps run; `platform` is that platform.
    pub runs_on: RunsOn,
    #[serde(serialize_with = "plan_platform")]
    pub platform: Platform,
    pub base: Base,
    pub steps: Vec<Step>,
    /// Which file system is the stage's result.
    pub output: StageOutput,
    /// Set by `--no-cache` (all stages, or the ones named): every step runs again.
    pub ignore_cache: bool,
    /// Exported to the cache even with `mode=min`: dependency stages are what CI must keep.
    pub export_cache: bool,
    /// The result is derived from a secret's value (a salted digest of it): the stage runs in
    /// every build and its op is marked `export_cache: false` (BuildKit 0.13 still exports it
    /// with `mode=max`; see docs/security.md).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub secret_derived: bool,
}

/// Where a stage starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// An empty file system.
    Scratch,
    /// An image, by reference (pinned by digest when the gateway resolves it).
    Image(String),
    /// The result of an earlier stage.
    Stage(StageId),
    /// The results of earlier stages laid over each other (BuildKit's MergeOp, or copies on
    /// engines without it). The image configuration is the first stage's.
    Merge(Vec<StageId>),
    /// The frontend's own image for the stage's platform: one layer, the static binary at
    /// `PROBE_PATH`. Merged as it is, its layer keeps the blob the frontend image was pulled with.
    Frontend,
}

/// Which file system a stage hands on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageOutput {
    /// The root file system after the last step.
    Root,
    /// The writable mount at this path of the stage's last step. Dependency stages use it so their
    /// result holds only what they produce (the wheels, `node_modules`), not the tool image.
    Mount(String),
    /// Only what the steps changed in the base (BuildKit's DiffOp): a layer that can be merged
    /// onto the base with others made the same way. Needs an engine with MergeOp and DiffOp.
    Diff,
}

/// A step: one LLB op, with a readable name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Run(RunStep),
    Copy(CopyStep),
    WriteFile(WriteFileStep),
}

impl Step {
    /// The step's name as BuildKit's progress shows it.
    pub fn name(&self) -> &str {
        match self {
            Step::Run(step) => &step.name,
            Step::Copy(step) => &step.name,
            Step::WriteFile(step) => &step.name,
        }
    }
}

/// A command run in the stage's root file system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunStep {
    pub name: String,
    pub args: Vec<String>,
    /// Environment on top of the base image's (sorted; the base's PATH etc. is added when lowering).
    pub env: BTreeMap<String, String>,
    pub cwd: String,
    pub user: String,
    pub mounts: Vec<Mount>,
    pub network: Network,
}

/// How a run step reaches the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// The engine's default (sandboxed network).
    Default,
    /// No network at all: steps that only work on local files.
    None,
}

/// A mount of a run step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mount {
    /// A read-only view of files; keyed by their content, so the step re-runs only when they change.
    ReadOnly { target: String, source: FileSource },
    /// A writable mount whose result the stage can hand on ([`StageOutput::Mount`]); starts empty or
    /// from a stage's result.
    Output {
        target: String,
        from: Option<StageId>,
    },
    /// A persistent download cache (pip, npm, apt). Never exported: correctness must not depend on it.
    Cache {
        target: String,
        id: String,
        sharing: CacheSharing,
    },
    /// A BuildKit secret as a file.
    SecretFile {
        target: String,
        id: String,
        required: bool,
    },
    /// A BuildKit secret as an environment variable.
    SecretEnv {
        name: String,
        id: String,
        required: bool,
    },
    /// The client's default SSH agent socket.
    Ssh { required: bool },
    /// An in-memory scratch directory.
    Tmpfs { target: String },
}

impl Mount {
    /// A read-only mount of a stage's whole result at `target`.
    pub fn stage_root(target: &str, stage: StageId) -> Mount {
        Mount::ReadOnly {
            target: target.to_owned(),
            source: FileSource::Stage {
                stage,
                path: "/".into(),
            },
        }
    }
}

/// Where copied or mounted files come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileSource {
    /// The build context; `path` is relative to its root.
    Context { path: String },
    /// An earlier stage's result.
    Stage { stage: StageId, path: String },
    /// The frontend's own image (the health probe binary comes from there).
    Frontend { path: String },
}

/// A copy into the stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyStep {
    pub name: String,
    pub from: FileSource,
    pub dest: String,
    /// Copy the contents of a directory source rather than the directory itself.
    pub contents_only: bool,
    /// Only paths matching these patterns (relative to the source) are copied; empty = all.
    pub include: Vec<String>,
    /// Paths matching these patterns are left out.
    pub exclude: Vec<String>,
    /// `uid:gid` of the copied files, when not the source's.
    pub owner: Option<String>,
}

impl CopyStep {
    /// A copy of the whole of `from` (the directory itself, when it is one) to `dest`, owned as
    /// in the source; [`CopyStep::contents`], [`CopyStep::including`] and
    /// [`CopyStep::excluding`] narrow it.
    pub fn new(name: impl Into<String>, from: FileSource, dest: impl Into<String>) -> CopyStep {
        CopyStep {
            name: name.into(),
            from,
            dest: dest.into(),
            contents_only: false,
            include: Vec::new(),
            exclude: Vec::new(),
            owner: None,
        }
    }

    /// Copies a directory's contents rather than the directory.
    pub fn contents(mut self) -> CopyStep {
        self.contents_only = true;
        self
    }

    /// Copies only the paths matching `patterns`.
    pub fn including(mut self, patterns: Vec<String>) -> CopyStep {
        self.include = patterns;
        self
    }

    /// Leaves out the paths matching `patterns`.
    pub fn excluding(mut self, patterns: Vec<String>) -> CopyStep {
        self.exclude = patterns;
        self
    }
}

/// A file written by the frontend (generated configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WriteFileStep {
    pub name: String,
    pub path: String,
    pub contents: String,
    pub mode: u32,
}

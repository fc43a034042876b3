//! [`Plan`] → LLB, mechanically: one stage after another, one op per step.

use std::collections::BTreeMap;

use buildkit_llb as llb;
use thiserror::Error;

use crate::engine::EngineFeatures;
use crate::ignore::literal_pattern;
use crate::image_config::{ImageConfig, env_to_map};
use crate::model::{
    Base, CopyStep, FileSource, Mount, Network, Plan, Platform, RunStep, Stage, StageId,
    StageOutput, Step, WriteFileStep,
};
use crate::planner::PROBE_PATH;

/// The PATH of an image whose configuration says nothing (BuildKit's own default).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A base image as the gateway resolved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedImage {
    /// `sha256:…` of the manifest: the LLB pins the image to it.
    pub digest: Option<String>,
    pub config: ImageConfig,
    /// The config as the registry serves it. Handed to the exporter whole: with
    /// `rewrite-timestamp` it leaves the layers listed in its `rootfs` alone.
    pub raw_config: Vec<u8>,
}

/// Facts from outside the plan that the LLB needs. What the engine can do is not among them: the
/// plan carries it ([`Plan::engine`]).
#[derive(Debug, Clone, Default)]
pub struct LowerInputs {
    /// The local source holding the build context (`context` for docker buildx).
    pub context_name: String,
    /// `.dockerignore` patterns, applied where the context is transferred.
    pub context_excludes: Vec<String>,
    /// `BUILDKIT_SESSION_ID`: which client session serves the local source.
    pub session_id: Option<String>,
    /// Base images by (reference, platform); missing ones are used unpinned with an empty config.
    pub images: BTreeMap<(String, Platform), ResolvedImage>,
    /// The frontend's own image (the HTTP health probe is copied from it), pinned if possible.
    pub frontend_image: Option<String>,
    /// `image-resolve-mode`.
    pub resolve_mode: llb::ResolveMode,
    /// `force-network-mode`: the network of steps that would use the default one.
    pub network: llb::NetMode,
    /// `add-hosts`: (host, ip) entries in every step's /etc/hosts.
    pub extra_hosts: Vec<(String, String)>,
    /// The frontend image is one layer holding only the binary at [`PROBE_PATH`] (as both of
    /// its recipes build it) on every platform the plan uses it for. [`Base::Frontend`] is then
    /// the image itself, whose layer keeps the blob it was pulled with. Otherwise the binary is
    /// copied out of it onto scratch, so nothing else of that image reaches the result.
    pub frontend_is_probe_layer: bool,
}

/// The LLB of a plan and the image configuration that goes with it.
#[derive(Debug, Clone)]
pub struct Lowered {
    pub output: llb::Output,
    /// The final image configuration: the plan's over the base image's.
    pub image: ImageConfig,
}

/// Why a plan could not be lowered.
#[derive(Debug, Error)]
pub enum LowerError {
    #[error("stage `{0}` is used before it is built")]
    StageOrder(StageId),
    #[error("the health probe comes from the frontend image, and its reference is unknown")]
    NoFrontendImage,
    #[error(
        "stage `{0}` hands on a diff of its base, which needs BuildKit 0.10 or newer (DiffOp, MergeOp)"
    )]
    NoDiffOp(StageId),
    #[error(transparent)]
    Llb(#[from] llb::LlbError),
}

/// Lowers `plan` to LLB.
pub fn lower(plan: &Plan, inputs: &LowerInputs) -> Result<Lowered, LowerError> {
    let mut lowering = Lowering {
        inputs,
        engine: plan.engine,
        context: None,
        frontend: BTreeMap::new(),
        stages: BTreeMap::new(),
        follow_paths: plan.context.follow_paths.clone(),
        include_patterns: plan.context.include_patterns.clone(),
        exclude_patterns: plan.context.exclude_patterns.clone(),
    };
    for stage in &plan.stages {
        let lowered = lowering.stage(stage)?;
        lowering.stages.insert(stage.id.clone(), lowered);
    }
    let output = lowering
        .stages
        .get(&plan.output)
        .ok_or_else(|| LowerError::StageOrder(plan.output.clone()))?;
    let base_config = output.config.clone();
    Ok(Lowered {
        output: output.output.clone(),
        image: plan.image.over(&base_config),
    })
}

/// A lowered stage: its result and the image configuration its steps ran with.
#[derive(Clone)]
struct LoweredStage {
    output: llb::Output,
    config: ImageConfig,
}

struct Lowering<'i> {
    inputs: &'i LowerInputs,
    engine: EngineFeatures,
    context: Option<llb::Output>,
    frontend: BTreeMap<Platform, llb::Output>,
    stages: BTreeMap<StageId, LoweredStage>,
    follow_paths: Vec<String>,
    include_patterns: Vec<String>,
    exclude_patterns: Vec<String>,
}

/// A copy with the options every layercake copy uses: create the destination, follow symlinks,
/// and the step's owner. The source is a path, never a wildcard: a folder named `web[1]` is that
/// folder, and `*` is a file named `*` (only the one-by-one fallback asks for wildcards).
fn file_copy(
    source: llb::Output,
    src: impl Into<String>,
    dest: &str,
    step: &CopyStep,
) -> llb::FileCopy {
    let copy = llb::FileCopy::new(source, src, dest)
        .create_dest_path(true)
        .follow_symlinks(true);
    match &step.owner {
        Some(owner) => copy.owner(llb::Owner::parse(owner)),
        None => copy,
    }
}

/// Marshals a file op of `stage`, skipping the cache when the stage must.
fn finish_file_op(stage: &Stage, op: llb::FileOp) -> Result<llb::Output, LowerError> {
    let op = if stage.ignore_cache {
        op.ignore_cache()
    } else {
        op
    };
    Ok(op.build()?)
}

impl Lowering<'_> {
    /// The client's build-context local, as every source of it is named and keyed.
    fn context_local(&self) -> llb::Local {
        let name = if self.inputs.context_name.is_empty() {
            "context"
        } else {
            self.inputs.context_name.as_str()
        };
        let local = llb::Local::new(name).shared_key_hint(name);
        match &self.inputs.session_id {
            Some(session) => local.session_id(session),
            None => local,
        }
    }

    fn context(&mut self) -> llb::Output {
        if let Some(context) = &self.context {
            return context.clone();
        }
        let mut local = self
            .context_local()
            .follow_paths(self.follow_paths.iter().map(|p| literal_pattern(p)))
            .custom_name("[context] load build context");
        // Narrowed to the include patterns and every followed path (so the transfer holds the
        // same files whether or not BuildKit adds followed paths to the includes itself); a
        // followed `.` is the whole context anyway.
        if !self.include_patterns.is_empty() && !self.follow_paths.iter().any(|p| p == ".") {
            let includes: Vec<String> = self
                .include_patterns
                .iter()
                .cloned()
                .chain(self.follow_paths.iter().map(|p| literal_pattern(p)))
                .collect();
            local = local.include_patterns(includes);
        }
        // `.dockerignore` first, in its order; then what the plan's copies leave out anyway.
        let excludes: Vec<String> = self
            .inputs
            .context_excludes
            .iter()
            .chain(&self.exclude_patterns)
            .cloned()
            .collect();
        if !excludes.is_empty() {
            local = local.exclude_patterns(excludes);
        }
        let output = local.build();
        self.context = Some(output.clone());
        output
    }

    /// The frontend image for `platform`: the probe must run where the image runs, so a
    /// multi-platform frontend image gives each image its own architecture's binary.
    fn frontend(&mut self, platform: &Platform) -> Result<llb::Output, LowerError> {
        if let Some(frontend) = self.frontend.get(platform) {
            return Ok(frontend.clone());
        }
        let reference = self
            .inputs
            .frontend_image
            .as_ref()
            .ok_or(LowerError::NoFrontendImage)?;
        let output = llb::Image::new(reference)
            .platform(platform.clone())
            .custom_name(format!("[frontend] {reference}"))
            .build();
        self.frontend.insert(platform.clone(), output.clone());
        Ok(output)
    }

    fn stage_result(&self, id: &StageId) -> Result<&LoweredStage, LowerError> {
        self.stages
            .get(id)
            .ok_or_else(|| LowerError::StageOrder(id.clone()))
    }

    fn base(&mut self, stage: &Stage) -> Result<LoweredStage, LowerError> {
        Ok(match &stage.base {
            Base::Scratch => LoweredStage {
                output: llb::Output::scratch(),
                config: ImageConfig::default(),
            },
            Base::Frontend => {
                let image = self.frontend(&stage.platform)?;
                let output = if self.inputs.frontend_is_probe_layer {
                    image
                } else {
                    let copy = llb::FileCopy::new(image, PROBE_PATH, PROBE_PATH)
                        .create_dest_path(true)
                        .follow_symlinks(true);
                    finish_file_op(
                        stage,
                        llb::FileOp::new(llb::Output::scratch())
                            .copy(copy)
                            .custom_name(stage.id.vertex_name("copy health probe")),
                    )?
                };
                LoweredStage {
                    output,
                    config: ImageConfig::default(),
                }
            }
            Base::Stage(id) => self.stage_result(id)?.clone(),
            Base::Merge(ids) => {
                let outputs = ids
                    .iter()
                    .map(|id| Ok(self.stage_result(id)?.output.clone()))
                    .collect::<Result<Vec<_>, LowerError>>()?;
                // Later steps run with the first input's environment (the runtime base image's
                // PATH when install layers are merged onto it), and the image config builds on it.
                let config = match ids.first() {
                    Some(first) => self.stage_result(first)?.config.clone(),
                    None => ImageConfig::default(),
                };
                let name = stage
                    .id
                    .vertex_name(&format!("merge {} results", outputs.len()));
                let output = if self.engine.merge_diff() {
                    let merge = llb::Merge::new(outputs).custom_name(name);
                    if stage.ignore_cache {
                        merge.ignore_cache().build()
                    } else {
                        merge.build()
                    }
                } else {
                    let mut op = llb::FileOp::new(llb::Output::scratch()).custom_name(name);
                    if stage.ignore_cache {
                        op = op.ignore_cache();
                    }
                    for output in outputs {
                        op = op.copy(
                            llb::FileCopy::new(output, "/", "/")
                                .dir_contents_only(true)
                                .allow_wildcard(true)
                                .allow_empty_wildcard(true),
                        );
                    }
                    op.build()?
                };
                LoweredStage { output, config }
            }
            Base::Image(reference) => {
                let resolved = self
                    .inputs
                    .images
                    .get(&(reference.clone(), stage.platform.clone()));
                let mut image = llb::Image::new(reference)
                    .platform(stage.platform.clone())
                    .resolve_mode(self.inputs.resolve_mode)
                    // One op for every stage on this image: named for the service.
                    .custom_name(format!("[{}] FROM {reference}", stage.id.service));
                if let Some(digest) = resolved.and_then(|r| r.digest.as_ref()) {
                    image = image.pinned(digest);
                }
                LoweredStage {
                    output: image.build(),
                    config: resolved.map(|r| r.config.clone()).unwrap_or_default(),
                }
            }
        })
    }

    /// The files a copy or read-only mount reads: an output and a path inside it.
    fn source(
        &mut self,
        source: &FileSource,
        platform: &Platform,
    ) -> Result<(llb::Output, String), LowerError> {
        Ok(match source {
            FileSource::Context { path } => (self.context(), format!("/{path}")),
            FileSource::Stage { stage, path } => {
                (self.stage_result(stage)?.output.clone(), path.clone())
            }
            FileSource::Frontend { path } => (self.frontend(platform)?, path.clone()),
        })
    }

    fn stage(&mut self, stage: &Stage) -> Result<LoweredStage, LowerError> {
        let base = self.base(stage)?;
        let mut root = base.output.clone();
        let mut result = None;
        let last = stage.steps.len().saturating_sub(1);
        for (index, step) in stage.steps.iter().enumerate() {
            match step {
                Step::Run(run) => {
                    let exec = self.run(stage, run, &root, &base.config, index == last)?;
                    root = exec.root();
                    if let (true, StageOutput::Mount(path)) = (index == last, &stage.output) {
                        result = exec.mount(path);
                    }
                }
                Step::Copy(copy) => root = self.copy(stage, copy, root)?,
                Step::WriteFile(write) => root = self.write(stage, write, root)?,
            }
        }
        let output = match (&stage.output, result) {
            (StageOutput::Diff, _) => {
                if !self.engine.merge_diff() {
                    return Err(LowerError::NoDiffOp(stage.id.clone()));
                }
                let diff = llb::Diff::new(base.output, root)
                    .custom_name(stage.id.vertex_name("changed files as a layer"));
                if stage.ignore_cache {
                    diff.ignore_cache().build()
                } else {
                    diff.build()
                }
            }
            (_, Some(mount)) => mount,
            (_, None) => root,
        };
        Ok(LoweredStage {
            output,
            config: base.config,
        })
    }

    fn run(
        &mut self,
        stage: &Stage,
        step: &RunStep,
        root: &llb::Output,
        image: &ImageConfig,
        last: bool,
    ) -> Result<llb::ExecState, LowerError> {
        // The base image's environment first (PATH above all), then the step's own.
        let mut env = env_to_map(&image.config.env);
        env.entry("PATH".to_owned())
            .or_insert_with(|| DEFAULT_PATH.to_owned());
        env.extend(step.env.clone());
        let mut exec = llb::Exec::new(step.args.iter().cloned())
            .root(root.clone())
            .cwd(&step.cwd)
            .user(&step.user)
            .envs(env)
            .platform(stage.platform.clone())
            .network(match step.network {
                Network::Default => self.inputs.network,
                Network::None => llb::NetMode::None,
            })
            .custom_name(&step.name);
        for (host, ip) in &self.inputs.extra_hosts {
            exec = exec.extra_host(host, ip);
        }
        for mount in &step.mounts {
            exec = match mount {
                Mount::ReadOnly { target, source } => {
                    let (output, path) = self.source(source, &stage.platform)?;
                    let mut mount = llb::Mount::readonly(output, target);
                    if path != "/" {
                        mount = mount.selector(path);
                    }
                    exec.mount(mount)
                }
                Mount::Output { target, from } => {
                    let start = match from {
                        Some(id) => self.stage_result(id)?.output.clone(),
                        None => llb::Output::scratch(),
                    };
                    let mut mount = llb::Mount::layer(start, target);
                    if from.is_some() && self.engine.mount_content_cache() {
                        mount = mount.content_cache(llb::ContentCache::Off);
                    }
                    exec.mount(mount)
                }
                Mount::Cache {
                    target,
                    id,
                    sharing,
                } => exec.mount(llb::Mount::cache(target, id).sharing(*sharing)),
                Mount::SecretFile {
                    target,
                    id,
                    required,
                } => {
                    let secret = llb::Secret::file(id, target);
                    exec.secret(if *required { secret } else { secret.optional() })
                }
                Mount::SecretEnv { name, id, required } => {
                    let secret = llb::Secret::env(id, name);
                    exec.secret(if *required { secret } else { secret.optional() })
                }
                Mount::Ssh { required } => {
                    let ssh = llb::SshMount::new("default");
                    exec.ssh(if *required { ssh } else { ssh.optional() })
                }
                Mount::Tmpfs { target } => exec.mount(llb::Mount::tmpfs(target)),
            };
        }
        if stage.ignore_cache {
            exec = exec.ignore_cache();
        }
        if stage.export_cache && last {
            exec = exec.export_cache(true);
        }
        if stage.secret_derived {
            // Asks BuildKit to keep a secret's digest out of exported caches. BuildKit 0.13 honours
            // it with `mode=min` only: `mode=max` still exports the layer (docs/security.md).
            exec = exec.export_cache(false);
        }
        Ok(exec.build()?)
    }

    fn copy(
        &mut self,
        stage: &Stage,
        step: &CopyStep,
        root: llb::Output,
    ) -> Result<llb::Output, LowerError> {
        if !self.engine.copy_patterns()
            && step.include.is_empty()
            && !step.exclude.is_empty()
            && !step.exclude.iter().any(|p| p.starts_with('!'))
            && let FileSource::Context { path } = &step.from
        {
            return self.copy_from_filtered_context(stage, step, root, path);
        }
        let (source, path) = self.source(&step.from, &stage.platform)?;
        if !self.engine.copy_patterns()
            && step.exclude.is_empty()
            && !step.include.is_empty()
            && step.include.iter().all(|p| is_plain_path(p))
        {
            return self.copy_files_one_by_one(stage, step, root, source, &path);
        }
        let mut copy =
            file_copy(source, path, &step.dest, step).dir_contents_only(step.contents_only);
        if !step.include.is_empty() {
            copy = copy.include_patterns(step.include.iter().cloned());
        }
        if !step.exclude.is_empty() {
            copy = copy.exclude_patterns(step.exclude.iter().cloned());
        }
        finish_file_op(
            stage,
            llb::FileOp::new(root).copy(copy).custom_name(&step.name),
        )
    }

    /// The fallback for engines without include patterns: one copy action per named file, in
    /// one file op. Each file becomes a one-match wildcard (its last character in brackets), so
    /// a file that is absent is skipped, as it would be with include patterns.
    fn copy_files_one_by_one(
        &mut self,
        stage: &Stage,
        step: &CopyStep,
        root: llb::Output,
        source: llb::Output,
        path: &str,
    ) -> Result<llb::Output, LowerError> {
        let mut op = llb::FileOp::new(root).custom_name(&step.name);
        for file in &step.include {
            op = op.copy(
                file_copy(
                    source.clone(),
                    one_match_wildcard(&join_path(path, file)),
                    &join_path(&step.dest, file),
                    step,
                )
                .allow_wildcard(true)
                .allow_empty_wildcard(true),
            );
        }
        finish_file_op(stage, op)
    }

    /// The fallback for a context copy with excludes on engines without copy patterns: the
    /// excludes move to a local source of their own (local sources have always filtered), so the
    /// copy itself needs no patterns. The service folder is transferred once more, filtered.
    fn copy_from_filtered_context(
        &mut self,
        stage: &Stage,
        step: &CopyStep,
        root: llb::Output,
        path: &str,
    ) -> Result<llb::Output, LowerError> {
        let folder = path.trim_matches('/');
        // Copy excludes are relative to the copied folder; local excludes to the context root.
        let excludes = self.inputs.context_excludes.iter().cloned().chain(
            step.exclude
                .iter()
                .map(|p| join_path(folder, p).trim_start_matches('/').to_owned()),
        );
        let local = self
            .context_local()
            .follow_paths([if folder.is_empty() {
                ".".to_owned()
            } else {
                literal_pattern(folder)
            }])
            .exclude_patterns(excludes)
            .custom_name(format!(
                "[context] load {} without {}",
                if folder.is_empty() { "." } else { folder },
                step.exclude.join(", ")
            ));
        let copy = file_copy(local.build(), format!("/{folder}"), &step.dest, step)
            .dir_contents_only(step.contents_only);
        finish_file_op(
            stage,
            llb::FileOp::new(root).copy(copy).custom_name(&step.name),
        )
    }

    fn write(
        &mut self,
        stage: &Stage,
        step: &WriteFileStep,
        root: llb::Output,
    ) -> Result<llb::Output, LowerError> {
        let parent = step.path.rsplit_once('/').map_or("/", |(dir, _)| dir);
        let mut op = llb::FileOp::new(root)
            .mkdir(
                llb::Mkdir::new(if parent.is_empty() { "/" } else { parent }, 0o755)
                    .make_parents(true),
            )
            .mkfile(llb::Mkfile::new(
                &step.path,
                step.mode,
                step.contents.as_bytes().to_vec(),
            ))
            .custom_name(&step.name);
        if stage.ignore_cache {
            op = op.ignore_cache();
        }
        Ok(op.build()?)
    }
}

/// A path with no glob syntax, which the exact-copies fallback can name directly.
fn is_plain_path(pattern: &str) -> bool {
    !pattern.is_empty() && !pattern.contains(['*', '?', '[', ']', '\\', '!'])
}

fn join_path(dir: &str, file: &str) -> String {
    let dir = dir.trim_end_matches('/');
    let file = file.trim_start_matches("./").trim_start_matches('/');
    if dir.is_empty() || dir == "." {
        format!("/{file}")
    } else if dir.starts_with('/') {
        format!("{dir}/{file}")
    } else {
        format!("/{dir}/{file}")
    }
}

/// `a/b.txt` → `a/b.tx[t]`: matches exactly that file, and nothing when it is absent.
fn one_match_wildcard(path: &str) -> String {
    let mut out: String = path.to_owned();
    match out.pop() {
        Some(last) if last != '/' => {
            out.push('[');
            out.push(last);
            out.push(']');
            out
        }
        Some(last) => {
            out.push(last);
            out
        }
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_and_wildcards() {
        assert!(is_plain_path("requirements.txt"));
        assert!(is_plain_path("backend/requirements/prod.txt"));
        assert!(!is_plain_path("*.txt"));
        assert!(!is_plain_path("req[1].txt"));
        assert!(!is_plain_path("!secret"));
        assert!(!is_plain_path(""));
    }

    #[test]
    fn joined_paths_are_absolute_in_the_source() {
        assert_eq!(join_path("", "requirements.txt"), "/requirements.txt");
        assert_eq!(
            join_path("backend", "package.json"),
            "/backend/package.json"
        );
        assert_eq!(join_path("/", "a/b.txt"), "/a/b.txt");
        assert_eq!(join_path("/app/", "./x"), "/app/x");
    }

    #[test]
    fn one_match_wildcards_bracket_the_last_character() {
        assert_eq!(
            one_match_wildcard("/backend/requirements.txt"),
            "/backend/requirements.tx[t]"
        );
        assert_eq!(one_match_wildcard("/.npmrc"), "/.npmr[c]");
        assert_eq!(one_match_wildcard("/é"), "/[é]");
    }
}

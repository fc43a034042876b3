//! `layercake dockerfile`: the Dockerfile a person would write for a service's plan.
//!
//! It is printed for review and migration; layercake itself never builds from it. It is made
//! from the same [`Plan`] the frontend lowers to LLB, stage by stage, so it shows exactly what
//! layercake builds. Where LLB can say more than a Dockerfile, the nearest Dockerfile form is
//! used and a comment says so:
//!
//! - A stage whose result is a writable mount (the wheels, `node_modules`) becomes a working
//!   stage plus a `FROM scratch` stage that copies that folder out.
//! - `COPY --exclude` needs a labs Dockerfile frontend; the excluded patterns are listed in a
//!   comment instead (put them in `.dockerignore`).
//! - Optional files of an include list (`.npmrc`) become one-character globs, which BuildKit
//!   allows to match nothing.
//! - A run step's environment is passed through `env`, so it does not leak into the image the
//!   way `ENV` or `ARG` would.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use layercake_plan::{
    Base, CacheSharing, CopyStep, EngineFeatures, FileSource, ImageConfig, Mount, Network, Plan,
    PlanOptions, Platform, RunStep, RunsOn, Stage, StageId, StageOutput, Step, WriteFileStep, plan,
};

use super::error::ToolError;
use super::spec_file::{open_context, read_plan_files, read_spec, write_stdout};
use crate::cli::DockerfileArgs;
use crate::load::{choose_target, parse_build_args};

/// What the Dockerfile is made from besides the plan.
pub struct DockerfileInputs<'a> {
    /// The frontend image (the health probe binary is copied from it).
    pub frontend_image: &'a str,
    /// Whether a context path exists: missing optional files become empty-matching globs.
    pub exists: &'a dyn Fn(&str) -> bool,
    /// The command line shown in the header.
    pub command: String,
}

pub fn dockerfile_command(args: &DockerfileArgs) -> Result<ExitCode, ToolError> {
    let build_args = parse_build_args(&args.build_args).map_err(ToolError::Usage)?;
    let loaded = read_spec(&args.spec, &build_args)?;
    let target = choose_target(&loaded.spec, args.target.as_deref())?;
    let context = open_context(&args.spec, args.context.as_ref())?;
    let files = read_plan_files(&loaded, &target, &context)?;
    let options = PlanOptions {
        // A Dockerfile cannot take a step's changes as a layer: one `pip install` over all wheels.
        engine: EngineFeatures::all().with_merge_diff(false),
        ..PlanOptions::new(Platform::linux_amd64())
    };
    let plan = plan(&loaded.services, &target, &files, &options)?;
    let problems = unwritable(&plan);
    if !problems.is_empty() {
        return Err(ToolError::Usage(format!(
            "service `{target}` cannot be written as a Dockerfile that means the same: {}",
            problems.join("; ")
        )));
    }
    let exists = |path: &str| context.exists(path);
    let inputs = DockerfileInputs {
        frontend_image: &args.frontend_image,
        exists: &exists,
        command: format!(
            "layercake dockerfile {} --target {target}",
            args.spec.display()
        ),
    };
    write_stdout(&render_dockerfile(&plan, &inputs))?;
    Ok(ExitCode::SUCCESS)
}

/// A JSON string: the quoting of Dockerfile exec forms.
fn json(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

fn json_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| json(i)).collect();
    format!("[{}]", items.join(", "))
}

/// A double-quoted ENV/LABEL value: `$` would be expanded by the Dockerfile.
fn quoted_value(text: &str) -> String {
    json(text).replace('$', "\\$")
}

fn stage_name(plan: &Plan, id: &StageId) -> String {
    let name = if *id == plan.output {
        id.service.clone()
    } else {
        format!("{}-{}", id.service, id.name())
    };
    name.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn has_glob(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

/// `dir` + `path`; relative when `dir` is (context paths), absolute when it starts with `/`.
fn join(dir: &str, path: &str) -> String {
    let absolute = dir.starts_with('/');
    let dir = dir.trim_end_matches('/');
    let path = path.trim_start_matches('/');
    match (dir.is_empty(), path.is_empty()) {
        (true, true) if absolute => "/".into(),
        (true, true) => ".".into(),
        (true, false) if absolute => format!("/{path}"),
        (true, false) => path.into(),
        (false, true) => dir.into(),
        (false, false) => format!("{dir}/{path}"),
    }
}

/// `.npmrc` → `.npmr[c]`: a glob that may match nothing, for a file that is not there now.
fn optional(path: &str) -> String {
    let mut chars: Vec<char> = path.chars().collect();
    match chars.pop() {
        Some(last) if last != '/' => {
            let head: String = chars.into_iter().collect();
            format!("{head}[{last}]")
        }
        _ => path.to_owned(),
    }
}

/// Go-style duration, as HEALTHCHECK flags take it.
fn duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

struct Writer<'a> {
    plan: &'a Plan,
    inputs: &'a DockerfileInputs<'a>,
    out: String,
}

/// Whether `text` can stand bare in an instruction (not in JSON): no control character (a line
/// break would start a new instruction) and no trailing `\` (it would continue the line).
fn bare_ok(text: &str) -> bool {
    !text.chars().any(char::is_control) && !text.trim_end().ends_with('\\')
}

/// The values a Dockerfile would have to carry bare (WORKDIR, USER, STOPSIGNAL, FROM, `ENV`
/// names, mount options) that it cannot carry as they are. Everything else goes in JSON or
/// quotes. The spec validation refuses these already; this is the writer's own guarantee that
/// no value becomes an instruction.
fn unwritable(plan: &Plan) -> Vec<String> {
    let mut bare: Vec<(&str, &str)> = Vec::new();
    let config = &plan.image.config;
    bare.extend(config.user.iter().map(|u| ("the user", u.as_str())));
    bare.extend(
        config
            .working_dir
            .iter()
            .map(|w| ("the workdir", w.as_str())),
    );
    bare.extend(
        config
            .stop_signal
            .iter()
            .map(|s| ("the stop signal", s.as_str())),
    );
    for entry in &config.env {
        let name = entry
            .split_once('=')
            .map_or(entry.as_str(), |(name, _)| name);
        bare.push(("an env name", name));
    }
    for stage in &plan.stages {
        if let Base::Image(reference) = &stage.base {
            bare.push(("an image", reference));
        }
        for step in &stage.steps {
            if let Step::Run(run) = step {
                bare.push(("a step's user", &run.user));
                bare.push(("a step's folder", &run.cwd));
            }
        }
    }
    bare.into_iter()
        .filter(|(_, text)| !bare_ok(text) || (text.is_empty()))
        .map(|(what, text)| format!("{what} `{}`", layercake_spec::shown(text)))
        .collect()
}

/// A `--mount` option (`key=value`) as the Dockerfile's CSV reads it: quoted when it holds a
/// comma or a quote, so a value cannot add options.
fn mount_option(option: String) -> String {
    if option.contains([',', '"']) {
        format!("\"{}\"", option.replace('"', "\"\""))
    } else {
        option
    }
}

/// A COPY source or destination that the plain form would split or misread.
fn needs_json(word: &str) -> bool {
    word.is_empty()
        || word.starts_with("--")
        || word
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\\'))
}

/// `COPY flags sources… dest`, in JSON form when a word needs it.
fn copy_line(flags: &str, words: &[String]) -> String {
    if words.iter().any(|w| needs_json(w)) {
        format!("COPY {flags}{}", json_list(words))
    } else {
        format!("COPY {flags}{}", words.join(" "))
    }
}

pub fn render_dockerfile(plan: &Plan, inputs: &DockerfileInputs<'_>) -> String {
    let mut writer = Writer {
        plan,
        inputs,
        out: String::new(),
    };
    let _ = writeln!(
        writer.out,
        "# Generated by `{}` from the plan layercake builds,\n\
         # for review and migration; layercake does not use it (and pins base images by digest).\n\
         # Build: docker buildx build -f Dockerfile --target {} <context>",
        inputs.command, plan.service
    );
    for stage in &plan.stages {
        writer.stage(stage);
    }
    writer.image_config(&plan.image);
    writer.out
}

impl Writer<'_> {
    fn name(&self, id: &StageId) -> String {
        stage_name(self.plan, id)
    }

    fn stage(&mut self, stage: &Stage) {
        let name = self.name(&stage.id);
        // A mount result needs a working stage and a scratch stage holding just that folder.
        // A diff (never planned here: the engine has no `merge_diff`) falls back to the whole root file
        // system, which merges to the same files.
        let work = match &stage.output {
            StageOutput::Root | StageOutput::Diff => name.clone(),
            StageOutput::Mount(_) => format!("{name}-work"),
        };
        let platform = if stage.runs_on == RunsOn::Build && stage.base != Base::Scratch {
            "--platform=$BUILDPLATFORM "
        } else {
            ""
        };
        let _ = writeln!(
            self.out,
            "\n# {}: {}",
            layercake_spec::shown(&stage.id.to_string()),
            layercake_spec::shown(&stage.purpose)
        );
        if stage.ignore_cache {
            let _ = writeln!(
                self.out,
                "# layercake runs this stage in every build: --no-cache-filter {work}"
            );
        }
        match &stage.base {
            Base::Scratch => {
                let _ = writeln!(self.out, "FROM {platform}scratch AS {work}");
            }
            Base::Image(reference) => {
                let _ = writeln!(self.out, "FROM {platform}{reference} AS {work}");
            }
            // Never planned here (no `merge_diff`), but it means just this.
            Base::Frontend => {
                let _ = writeln!(self.out, "FROM {} AS {work}", self.inputs.frontend_image);
            }
            Base::Stage(id) => {
                let _ = writeln!(self.out, "FROM {} AS {work}", self.name(id));
            }
            Base::Merge(parts) => {
                let _ = writeln!(self.out, "FROM scratch AS {work}");
                for part in parts {
                    let _ = writeln!(self.out, "COPY --from={} / /", self.name(part));
                }
            }
        }
        let mut user: Option<String> = None;
        // In the image's stage, assume the base starts at `/` (as base images do) rather than
        // write `WORKDIR /`, which would become the image's working directory.
        let mut cwd: Option<String> = (stage.id == self.plan.output).then(|| "/".to_owned());
        for step in &stage.steps {
            let _ = writeln!(self.out, "# {}", layercake_spec::shown(step.name()));
            match step {
                Step::Run(run) => self.run(run, &mut user, &mut cwd),
                Step::Copy(copy) => self.copy(copy),
                Step::WriteFile(write) => self.write_file(write),
            }
        }
        if let StageOutput::Mount(path) = &stage.output {
            let _ = writeln!(self.out, "\nFROM scratch AS {name}");
            let _ = writeln!(
                self.out,
                "COPY --from={work} {}/ /",
                path.trim_end_matches('/')
            );
        }
    }

    fn run(&mut self, run: &RunStep, user: &mut Option<String>, cwd: &mut Option<String>) {
        if user.as_deref() != Some(run.user.as_str()) {
            let _ = writeln!(self.out, "USER {}", run.user);
            *user = Some(run.user.clone());
        }
        // WORKDIR would leave the folder in the image, inside a read-only mount's mount point;
        // `env -C` changes directory without creating anything.
        let chdir = run.mounts.iter().any(|mount| {
            matches!(mount, Mount::ReadOnly { target, .. }
                if run.cwd == *target
                    || run.cwd.starts_with(&format!("{}/", target.trim_end_matches('/'))))
        });
        if !chdir && cwd.as_deref() != Some(run.cwd.as_str()) {
            let _ = writeln!(self.out, "WORKDIR {}", run.cwd);
            *cwd = Some(run.cwd.clone());
        }
        let mut flags = Vec::new();
        if run.network == Network::None {
            flags.push("--network=none".to_owned());
        }
        for mount in &run.mounts {
            match mount {
                Mount::Output { target, from } => {
                    // The writable mount's starting content, laid where the step sees it.
                    match from {
                        Some(id) => {
                            let from = format!("--from={} ", self.name(id));
                            let line = copy_line(&from, &["/".to_owned(), target.clone()]);
                            let _ = writeln!(self.out, "{line}");
                        }
                        None => {
                            let _ = writeln!(
                                self.out,
                                "RUN {}",
                                json_list(&["mkdir".into(), "-p".into(), target.clone()])
                            );
                        }
                    }
                }
                Mount::ReadOnly { target, source } => {
                    let from = match source {
                        FileSource::Context { path } => {
                            mount_option(format!("source={}", join(path, "")))
                        }
                        FileSource::Stage { stage, path } => format!(
                            "from={},{}",
                            self.name(stage),
                            mount_option(format!("source={}", join("/", path)))
                        ),
                        FileSource::Frontend { path } => format!(
                            "from={},{}",
                            self.inputs.frontend_image,
                            mount_option(format!("source={path}"))
                        ),
                    };
                    flags.push(format!(
                        "--mount=type=bind,{from},{}",
                        mount_option(format!("target={target}"))
                    ));
                }
                Mount::Cache {
                    target,
                    id,
                    sharing,
                } => {
                    let sharing = match sharing {
                        CacheSharing::Shared => "shared",
                        CacheSharing::Private => "private",
                        CacheSharing::Locked => "locked",
                    };
                    flags.push(format!(
                        "--mount=type=cache,{},{},sharing={sharing}",
                        mount_option(format!("id={id}")),
                        mount_option(format!("target={target}"))
                    ));
                }
                Mount::SecretFile {
                    target,
                    id,
                    required,
                } => flags.push(format!(
                    "--mount=type=secret,id={id},{},required={required}",
                    mount_option(format!("target={target}"))
                )),
                Mount::SecretEnv { name, id, required } => flags.push(format!(
                    // `env=` needs Dockerfile syntax 1.10 or later.
                    "--mount=type=secret,id={id},env={name},required={required}"
                )),
                Mount::Ssh { required } => {
                    flags.push(format!("--mount=type=ssh,required={required}"));
                }
                Mount::Tmpfs { target } => flags.push(format!(
                    "--mount=type=tmpfs,{}",
                    mount_option(format!("target={target}"))
                )),
            }
        }
        let mut args = Vec::new();
        if chdir {
            args.extend(["env".to_owned(), "-C".to_owned(), run.cwd.clone()]);
        } else if !run.env.is_empty() {
            args.push("env".to_owned());
        }
        args.extend(run.env.iter().map(|(k, v)| format!("{k}={v}")));
        args.extend(run.args.iter().cloned());
        let mut line = String::from("RUN");
        for flag in flags {
            let _ = write!(line, " {flag} \\\n   ");
        }
        let _ = writeln!(self.out, "{line} {}", json_list(&args));
    }

    fn copy(&mut self, copy: &CopyStep) {
        let mut flags = String::new();
        let (dir, is_context) = match &copy.from {
            FileSource::Context { path } => (path.clone(), true),
            FileSource::Stage { stage, path } => {
                let _ = write!(flags, "--from={} ", self.name(stage));
                (join("/", path), false)
            }
            FileSource::Frontend { path } => {
                let _ = write!(flags, "--from={} ", self.inputs.frontend_image);
                (path.clone(), false)
            }
        };
        if let Some(owner) = &copy.owner {
            let _ = write!(flags, "--chown={owner} ");
        }
        if !copy.exclude.is_empty() {
            let _ = writeln!(
                self.out,
                "# layercake leaves out {} here (COPY --exclude needs a labs Dockerfile frontend: list them in .dockerignore)",
                layercake_spec::shown(&copy.exclude.join(", "))
            );
        }
        let source = |pattern: &str| {
            let full = join(&dir, pattern);
            if is_context && !has_glob(&full) && !(self.inputs.exists)(&full) {
                optional(&full)
            } else {
                full
            }
        };
        if copy.include.is_empty() {
            let line = copy_line(&flags, &[source(""), copy.dest.clone()]);
            let _ = writeln!(self.out, "{line}");
            return;
        }
        let flat = copy
            .include
            .iter()
            .all(|p| !p.contains('/') && !has_glob(p));
        if flat {
            let mut words: Vec<String> = copy.include.iter().map(|p| source(p)).collect();
            words.push(format!("{}/", copy.dest.trim_end_matches('/')));
            let line = copy_line(&flags, &words);
            let _ = writeln!(self.out, "{line}");
            return;
        }
        // Nested includes keep their relative path under the destination.
        for pattern in &copy.include {
            let dest = if has_glob(pattern) {
                let parent = pattern.rsplit_once('/').map_or("", |(p, _)| p);
                format!("{}/", join(&copy.dest, parent).trim_end_matches('/'))
            } else {
                join(&copy.dest, pattern)
            };
            let line = copy_line(&flags, &[source(pattern), dest]);
            let _ = writeln!(self.out, "{line}");
        }
    }

    fn write_file(&mut self, write: &WriteFileStep) {
        let mut delimiter = "LAYERCAKE_EOF".to_owned();
        while write.contents.lines().any(|l| l == delimiter) {
            delimiter.push('_');
        }
        let mut contents = write.contents.clone();
        if !contents.ends_with('\n') {
            contents.push('\n');
        }
        let _ = write!(
            self.out,
            "COPY --chmod={:04o} <<\"{delimiter}\" {}\n{contents}{delimiter}\n",
            write.mode, write.path
        );
    }

    fn image_config(&mut self, image: &ImageConfig) {
        let config = &image.config;
        let _ = writeln!(self.out, "\n# the image configuration");
        if let Some(user) = &config.user {
            let _ = writeln!(self.out, "USER {user}");
        }
        if let Some(dir) = &config.working_dir {
            let _ = writeln!(self.out, "WORKDIR {dir}");
        }
        for port in config.exposed_ports.keys() {
            let _ = writeln!(self.out, "EXPOSE {port}");
        }
        let env: BTreeMap<String, String> = image.env_map();
        for (key, value) in &env {
            let _ = writeln!(self.out, "ENV {key}={}", quoted_value(value));
        }
        if !config.volumes.is_empty() {
            let volumes: Vec<String> = config.volumes.keys().cloned().collect();
            let _ = writeln!(self.out, "VOLUME {}", json_list(&volumes));
        }
        for (key, value) in &config.labels {
            let _ = writeln!(self.out, "LABEL {}={}", json(key), quoted_value(value));
        }
        if let Some(signal) = &config.stop_signal {
            let _ = writeln!(self.out, "STOPSIGNAL {signal}");
        }
        if let Some(check) = &config.healthcheck {
            let mut flags = String::new();
            for (flag, value) in [
                ("interval", check.interval),
                ("timeout", check.timeout),
                ("start-period", check.start_period),
                ("start-interval", check.start_interval),
            ] {
                if !value.is_zero() {
                    let _ = write!(flags, "--{flag}={} ", duration(value));
                }
            }
            if check.retries != 0 {
                let _ = write!(flags, "--retries={} ", check.retries);
            }
            match check.test.split_first() {
                Some((kind, rest)) if kind == "CMD" => {
                    let _ = writeln!(self.out, "HEALTHCHECK {flags}CMD {}", json_list(rest));
                }
                Some((kind, rest)) if kind == "CMD-SHELL" => {
                    let script = rest.join(" ");
                    if bare_ok(&script) {
                        let _ = writeln!(self.out, "HEALTHCHECK {flags}CMD {script}");
                    } else {
                        // Docker runs CMD-SHELL with /bin/sh -c: the same, in JSON.
                        let exec = ["/bin/sh".to_owned(), "-c".to_owned(), script];
                        let _ = writeln!(self.out, "HEALTHCHECK {flags}CMD {}", json_list(&exec));
                    }
                }
                _ => {
                    let _ = writeln!(self.out, "HEALTHCHECK NONE");
                }
            }
        }
        if let Some(shell) = &config.shell {
            let _ = writeln!(self.out, "SHELL {}", json_list(shell));
        }
        match (&config.entrypoint, &config.cmd) {
            (Some(entrypoint), _) => {
                let _ = writeln!(self.out, "ENTRYPOINT {}", json_list(entrypoint));
            }
            // Our own command replaces the base image's entrypoint too (see ImageConfig::over).
            (None, Some(_)) => {
                let _ = writeln!(self.out, "ENTRYPOINT []");
            }
            (None, None) => {}
        }
        if let Some(cmd) = &config.cmd {
            let _ = writeln!(self.out, "CMD {}", json_list(cmd));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_files_become_globs_that_may_match_nothing() {
        assert_eq!(optional("frontend/.npmrc"), "frontend/.npmr[c]");
        assert_eq!(
            join("", "backend/requirements.txt"),
            "backend/requirements.txt"
        );
        assert_eq!(join("/", "dist"), "/dist");
        assert_eq!(join("", ""), ".");
    }

    #[test]
    fn values_keep_their_dollars() {
        assert_eq!(quoted_value("a $HOME \"b\""), r#""a \$HOME \"b\"""#);
        assert_eq!(duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(duration(Duration::from_secs(30)), "30s");
    }
}

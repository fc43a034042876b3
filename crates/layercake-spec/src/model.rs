use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::{ErrorKind, SpecError};
use crate::location::Spanned;

/// The user the runtime image runs as when the spec says nothing.
pub const DEFAULT_USER: &str = "app";
/// uid and gid of a non-root user created by layercake, unless the spec gives others.
pub const DEFAULT_UID: u32 = 10001;
/// The app directory of python services when `workdir` is not given.
pub const DEFAULT_WORKDIR: &str = "/app";
/// The port nginx listens on (non-root can't bind 80).
pub const DEFAULT_NGINX_PORT: u16 = 8080;
pub const DEFAULT_NGINX_IMAGE: &str = "nginx:stable";
pub const DEFAULT_HEALTHCHECK_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_HEALTHCHECK_START_PERIOD: Duration = Duration::from_secs(5);
pub const DEFAULT_HEALTHCHECK_RETRIES: u32 = 3;

/// A validated `layercake.yaml`, with every default filled in.
///
/// Strings that may hold `${...}` are kept as written; [`Spec::resolve_args`] expands them.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The file name the spec was parsed under (used in error messages).
    pub file: String,
    /// The image named by a `# syntax=` line at the top, if any.
    pub syntax: Option<String>,
    /// The service built when no `--target` is given.
    pub default: Option<Spanned<String>>,
    /// Declared build args and their defaults.
    pub args: BTreeMap<String, Spanned<String>>,
    /// The services, in file order.
    pub services: Vec<Service>,
}

impl Spec {
    /// The service called `name`.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name.value == name)
    }

    /// The node service that `service`'s `asset` copies from. This is validation's check, so
    /// a validated spec always has it; the error names the asset's `from`.
    pub fn asset_source(
        &self,
        service: &Service,
        asset: &Asset,
    ) -> Result<(&Service, &NodeSpec), SpecError> {
        let context = format!("in `assets.from` of service `{}`", service.name.value);
        let kind = match self.service(&asset.from.value) {
            Some(from) => match from.node() {
                Some(node) => return Ok((from, node)),
                None => ErrorKind::AssetNotNode {
                    name: asset.from.value.clone(),
                    context,
                },
            },
            None => ErrorKind::UnknownService {
                name: asset.from.value.clone(),
                context,
                suggestion: crate::validate::suggest::closest(
                    &asset.from.value,
                    self.services
                        .iter()
                        .filter(|s| s.node().is_some())
                        .map(|s| s.name.value.as_str()),
                ),
            },
        };
        Err(SpecError::new(&self.file, Some(asset.from.location), kind))
    }

    /// The service built when no target is given: `default:`, or the only service there is.
    pub fn default_service(&self) -> Option<&Service> {
        match &self.default {
            Some(name) => self.service(&name.value),
            None if self.services.len() == 1 => self.services.first(),
            None => None,
        }
    }

    /// Service names in file order.
    pub fn service_names(&self) -> impl Iterator<Item = &str> {
        self.services.iter().map(|s| s.name.value.as_str())
    }
}

/// One buildable target.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// The service name (a valid `--target`).
    pub name: Spanned<String>,
    pub description: Option<Spanned<String>>,
    /// Folder inside the build context, normalized: no `./`, no trailing `/`, `.` for the root.
    pub path: Spanned<String>,
    /// Copy only these, relative to `path` (empty: all of `path`).
    pub include: Vec<Spanned<String>>,
    /// Extra ignore patterns, relative to `path`, on top of `.dockerignore`.
    pub exclude: Vec<Spanned<String>>,
    pub kind: ServiceKind,
    /// Node services only: how the built files are served. `None`: a scratch image of the files.
    pub serve: Option<Serve>,
    /// Python services only: other services' built output copied into the app dir.
    pub assets: Vec<Asset>,
    pub command: Option<Command>,
    pub entrypoint: Option<Command>,
    /// Absolute; python services default to [`DEFAULT_WORKDIR`], node services have none
    /// unless given.
    pub workdir: Option<Spanned<String>>,
    /// The exposed port; nginx-served services default to [`DEFAULT_NGINX_PORT`].
    pub port: Option<Spanned<u16>>,
    /// Runtime environment (values may hold `${...}`).
    pub env: BTreeMap<String, Spanned<String>>,
    pub user: User,
    pub healthcheck: Option<Healthcheck>,
    pub volumes: Vec<Spanned<String>>,
    /// Image labels (values may hold `${...}`).
    pub labels: BTreeMap<String, Spanned<String>>,
    pub stop_signal: Option<Spanned<String>>,
    /// Secrets the dependency steps (pip wheel / npm ci) may read.
    pub secrets: Vec<Secret>,
    /// Forward the default ssh agent to the dependency steps.
    pub ssh: bool,
}

impl Service {
    /// `relative` (a path relative to the service folder) as a path inside the build context,
    /// normalized (`.` for the context root). Validation guarantees the paths in the spec stay
    /// inside the context; a path that would leave it is clamped at the root.
    pub fn context_path(&self, relative: &str) -> String {
        crate::paths::join(&self.path.value, relative)
    }

    pub fn python(&self) -> Option<&PythonSpec> {
        match &self.kind {
            ServiceKind::Python(python) => Some(python),
            ServiceKind::Node(_) => None,
        }
    }

    pub fn node(&self) -> Option<&NodeSpec> {
        match &self.kind {
            ServiceKind::Node(node) => Some(node),
            ServiceKind::Python(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ServiceKind {
    Python(PythonSpec),
    Node(NodeSpec),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PythonSpec {
    /// Digits and dots: `3`, `3.11`, `3.11.9`. None: the project's (`.python-version`,
    /// `requires-python`, Poetry's `python`), found when the build reads the service folder.
    pub version: Option<Spanned<String>>,
    /// Runtime base; default `python:<version>-slim` (may hold `${...}`). None: that default
    /// for the version the build finds.
    pub image: Option<Spanned<String>>,
    /// Base of the wheels stage; default: `image` (may hold `${...}`).
    pub builder_image: Option<Spanned<String>>,
    /// What lists the dependencies.
    pub project: PythonProject,
    /// Extra flags for `pip wheel`.
    pub pip_flags: Vec<Spanned<String>>,
    /// Env for the wheel build only.
    pub pip_env: BTreeMap<String, Spanned<String>>,
    pub packages: Packages,
    /// Run in the runtime stage after the code copy (may hold `${...}`).
    pub build_steps: Vec<Command>,
}

/// What lists a python service's dependencies.
#[derive(Debug, Clone, PartialEq)]
pub enum PythonProject {
    /// Found from the service folder's files when the build reads them: `uv.lock` (with its
    /// `pyproject.toml`), else `requirements.txt`. What a uv project installs is given anyway.
    Detect(ProjectOptions),
    /// Requirement files relative to the service `path` (`requirements:`; empty for none).
    Requirements(Vec<Spanned<String>>),
    /// `project: uv`: `pyproject.toml` and `uv.lock` in the service folder.
    Uv(ProjectOptions),
    /// `project: poetry`: `pyproject.toml` and `poetry.lock` in the service folder.
    Poetry(ProjectOptions),
    /// `project: pep621`: the service folder's `pyproject.toml`, resolved in the lock stage.
    Pep621(ProjectOptions),
}

impl PythonProject {
    /// The requirement files the spec names (none for a uv project or one to detect).
    pub fn requirement_files(&self) -> &[Spanned<String>] {
        match self {
            PythonProject::Requirements(files) => files,
            PythonProject::Detect(_)
            | PythonProject::Uv(_)
            | PythonProject::Poetry(_)
            | PythonProject::Pep621(_) => &[],
        }
    }
}

/// What a uv (or PEP 621) project's service installs besides the project's main dependencies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectOptions {
    /// `[dependency-groups]` to install (the dev group is not, unless named).
    pub groups: Vec<Spanned<String>>,
    /// Extras of the project.
    pub extras: Vec<Spanned<String>>,
    /// The workspace member the service is (its `[project].name`); default: the folder's own
    /// project.
    pub package: Option<Spanned<String>>,
}

/// Packages beside the requirement files: apt's, and pip's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Packages {
    /// apt packages only in the wheels stage (compilers, -dev headers, git).
    pub build: Vec<Spanned<String>>,
    /// apt packages in the runtime image.
    pub runtime: Vec<Spanned<String>>,
    /// PEP 508 requirements installed with the requirement files (`uwsgi`, `psycopg[c]>=3`).
    pub pip: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    pub version: Spanned<String>,
    /// Build base; default `node:<version>` (may hold `${...}`).
    pub image: Spanned<String>,
    pub install: NpmInstall,
    pub install_flags: Vec<Spanned<String>>,
    /// Copy `.npmrc` (when present in the service folder) into the deps step.
    pub npmrc: bool,
    /// `npm run <script>`; default `build`.
    pub script: Spanned<String>,
    /// Folder relative to `path` holding the built files; default `dist`.
    pub output: Spanned<String>,
    /// Build-time env for `npm run` (values may hold `${...}`).
    pub env: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpmInstall {
    /// `npm ci` (the default).
    Ci,
    /// `npm install`.
    Install,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Serve {
    Nginx(NginxServe),
}

#[derive(Debug, Clone, PartialEq)]
pub struct NginxServe {
    /// Default [`DEFAULT_NGINX_IMAGE`] (may hold `${...}`).
    pub image: Spanned<String>,
    /// Unknown paths fall back to `/index.html`.
    pub spa: bool,
    /// A server-block config file relative to the service `path`, used instead of the
    /// generated one.
    pub config: Option<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    /// A node service.
    pub from: Spanned<String>,
    /// Relative to the app dir (workdir).
    pub to: Spanned<String>,
}

/// A command: exec form (a list) or shell form (a string run by `/bin/sh -c`).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Exec(Vec<Spanned<String>>),
    Shell(Spanned<String>),
    /// A shell form whose `${...}` were expanded by [`Spec::resolve_args`]: each reference is
    /// now a positional parameter (`${1}`, `${2}`, …) of the script and its value one argument
    /// after it, so a build arg reaches the shell as a value, the way a Dockerfile's `ARG`
    /// reaches `RUN` as an environment variable, and is never parsed as shell syntax.
    ShellArgs {
        /// The shell: `/bin/sh` for a shell form, or the one an exec form names
        /// (`[bash, -c, "…"]`).
        shell: String,
        script: Spanned<String>,
        args: Vec<String>,
    },
}

/// Shells whose `-c SCRIPT` an exec form may run (`[sh, -c, "…"]`): the script is shell code, so
/// build args in it are handed over as positional parameters, as in a shell form.
const SHELLS: [&str; 6] = ["sh", "bash", "dash", "ash", "zsh", "ksh"];

impl Command {
    /// `[SHELL, -c, SCRIPT, …]`: the index of the script when the exec form runs a shell script.
    pub fn exec_shell_script(args: &[Spanned<String>]) -> Option<usize> {
        let shell = args.first()?.value.rsplit('/').next()?;
        (SHELLS.contains(&shell) && args.get(1).is_some_and(|a| a.value == "-c") && args.len() >= 3)
            .then_some(2)
    }
}

/// `$0` of a shell-form command with arguments (what the shell names itself in its messages).
pub const SHELL_ARG0: &str = "sh";

impl Command {
    /// The argv an image config or exec op wants.
    pub fn argv(&self) -> Vec<String> {
        match self {
            Self::Exec(args) => args.iter().map(|a| a.value.clone()).collect(),
            Self::Shell(script) => vec!["/bin/sh".into(), "-c".into(), script.value.clone()],
            Self::ShellArgs {
                shell,
                script,
                args,
            } => {
                let mut argv = vec![
                    shell.clone(),
                    "-c".into(),
                    script.value.clone(),
                    SHELL_ARG0.into(),
                ];
                argv.extend(args.iter().cloned());
                argv
            }
        }
    }

    /// Every string in it, for interpolation and error reporting.
    pub fn parts(&self) -> Vec<&Spanned<String>> {
        match self {
            Self::Exec(args) => args.iter().collect(),
            Self::Shell(script) | Self::ShellArgs { script, .. } => vec![script],
        }
    }

    /// The strings still to expand (an expanded shell form has none).
    pub(crate) fn parts_mut(&mut self) -> Vec<&mut Spanned<String>> {
        match self {
            Self::Exec(args) => args.iter_mut().collect(),
            Self::Shell(script) => vec![script],
            Self::ShellArgs { .. } => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum User {
    /// Run as root (explicit opt-out).
    Root,
    /// A non-root user layercake creates in the runtime image.
    NonRoot {
        name: Spanned<String>,
        uid: u32,
        gid: u32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Healthcheck {
    pub probe: HealthProbe,
    pub interval: Duration,
    pub timeout: Duration,
    pub start_period: Duration,
    pub retries: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HealthProbe {
    /// GET `http://127.0.0.1:<port><path>`, healthy on 2xx/3xx. `port` is resolved: the
    /// healthcheck's own, else the service's.
    Http {
        path: Spanned<String>,
        port: u16,
    },
    Command(Command),
    /// Disable the base image's healthcheck.
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Secret {
    /// The `--secret id=...`.
    pub id: Spanned<String>,
    pub target: SecretTarget,
    /// Fail the build when the secret is not given (default true).
    pub required: bool,
    /// Re-run the dependency steps when the secret's value changes (default false): a salted
    /// digest of it, never the value, becomes an input of those steps.
    pub rebuild_on_change: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SecretTarget {
    /// Exposed as this environment variable.
    Env(Spanned<String>),
    /// Mounted as a file at this absolute path (default `/run/secrets/<id>`).
    File(Spanned<String>),
}

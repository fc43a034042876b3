//! A service with every default filled in and every `${VAR}` replaced: what the planner reads.
//! (The spec is what the user wrote; settings are what it means for this build.)

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// One service, resolved.
pub type ServiceSettings = Service<Toolchain>;

/// A service, resolved, with what builds it: any [`Toolchain`] ([`ServiceSettings`]), or one
/// known to be node (an asset's source: validation proved it is one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service<T> {
    pub name: String,
    pub description: Option<String>,
    /// The service folder, relative to the context root, without leading or trailing `/`
    /// (empty for the root itself).
    pub path: String,
    /// Only these paths (relative to `path`) are copied; empty = everything.
    pub include: Vec<String>,
    /// Extra ignore patterns (relative to `path`).
    pub exclude: Vec<String>,
    pub toolchain: T,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub workdir: String,
    pub port: Option<u16>,
    pub env: BTreeMap<String, String>,
    pub user: RunAs,
    pub healthcheck: Option<HealthSettings>,
    pub volumes: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub stop_signal: Option<String>,
    pub secrets: Vec<SecretUse>,
    pub ssh: bool,
}

/// What builds the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Toolchain {
    Python(PythonSettings),
    Node(NodeSettings),
}

/// What lists a python service's dependencies, as the spec gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PythonProject {
    /// Found from the service folder's files: `uv.lock`, else `requirements.txt`.
    Detect(Selection),
    /// Requirement files, relative to the service folder (none: `requirements: []`).
    Requirements(Vec<String>),
    /// `pyproject.toml` and `uv.lock` in the service folder.
    Uv(Selection),
    /// `pyproject.toml` and `poetry.lock` in the service folder.
    Poetry(Selection),
    /// A `pyproject.toml` with a `[project]` table and no lock: its dependencies (and the
    /// extras and groups named) resolved in the lock stage.
    Pyproject(Selection),
}

/// What a uv project's service installs besides the project's main dependencies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Selection {
    pub groups: Vec<String>,
    pub extras: Vec<String>,
    /// The workspace member (its `[project].name`); None: the folder's own project.
    pub package: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PythonSettings {
    /// None: the project's (see `python_runtime.rs`).
    pub version: Option<String>,
    /// Runtime base image; None: `python:<version>-slim`.
    pub image: Option<String>,
    /// Base image of the wheels stage; None: `image`.
    pub builder_image: Option<String>,
    /// What lists the dependencies (see `python_project.rs` for what is detected).
    pub project: PythonProject,
    pub pip_flags: Vec<String>,
    pub pip_env: BTreeMap<String, String>,
    pub build_packages: Vec<String>,
    pub runtime_packages: Vec<String>,
    /// PEP 508 requirements the spec adds beside the files (`packages.pip`), resolved with them
    /// in the lock stage.
    pub pip_packages: Vec<String>,
    /// Commands run after the code is copied (argv form).
    pub build_steps: Vec<Vec<String>>,
    /// Built files of other services copied into this one.
    pub assets: Vec<AssetCopy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetCopy {
    /// The node service whose build output is copied.
    pub from: Service<NodeSettings>,
    /// Relative to the workdir.
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeSettings {
    pub version: String,
    pub image: String,
    pub install: NpmInstall,
    pub install_flags: Vec<String>,
    pub npmrc: bool,
    pub script: String,
    /// Relative to the service folder.
    pub output: String,
    pub env: BTreeMap<String, String>,
    pub serve: Option<NginxSettings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NpmInstall {
    /// `npm ci`: exactly the lockfile; fails when it is out of sync.
    Ci,
    /// `npm install`: for projects without a lockfile.
    Install,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NginxSettings {
    pub image: String,
    pub spa: bool,
    /// A server-block file, relative to the service folder, used instead of the generated one.
    pub config: Option<String>,
}

/// Who the container runs as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunAs {
    Root,
    User { name: String, uid: u32, gid: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthSettings {
    pub probe: HealthProbe,
    pub interval: Duration,
    pub timeout: Duration,
    pub start_period: Duration,
    pub retries: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthProbe {
    Http {
        path: String,
        /// The port to probe: the health check's own or the service's, as validation required.
        port: u16,
    },
    /// Exec form.
    Command(Vec<String>),
    /// Shell form.
    Shell(String),
    /// Turn the base image's health check off.
    Disabled,
}

/// A BuildKit secret the dependency steps may read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretUse {
    pub id: String,
    pub expose: SecretExpose,
    pub required: bool,
    /// The steps that read it re-run when its value changes: they get a salted digest of it as
    /// an input (see `secret_digest.rs`).
    pub rebuild_on_change: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretExpose {
    Env(String),
    File(String),
}

#[cfg(test)]
impl ServiceSettings {
    /// A python service `api` in `path` with the defaults the unit tests need.
    pub(crate) fn python_for_tests(path: &str, project: PythonProject) -> (Self, PythonSettings) {
        let py = PythonSettings {
            version: Some("3.11".into()),
            image: Some("python:3.11-slim".into()),
            builder_image: Some("python:3.11-slim".into()),
            project,
            pip_flags: Vec::new(),
            pip_env: BTreeMap::new(),
            build_packages: Vec::new(),
            runtime_packages: Vec::new(),
            pip_packages: Vec::new(),
            build_steps: Vec::new(),
            assets: Vec::new(),
        };
        let service = Service {
            name: "api".into(),
            description: None,
            path: path.into(),
            include: Vec::new(),
            exclude: Vec::new(),
            toolchain: Toolchain::Python(py.clone()),
            command: None,
            entrypoint: None,
            workdir: "/app".into(),
            port: None,
            env: BTreeMap::new(),
            user: RunAs::Root,
            healthcheck: None,
            volumes: Vec::new(),
            labels: BTreeMap::new(),
            stop_signal: None,
            secrets: Vec::new(),
            ssh: false,
        };
        (service, py)
    }
}

use std::collections::{BTreeMap, BTreeSet};

use buildkit_proto::pb;

use crate::caps;
use crate::error::LlbError;
use crate::options::{OpOptions, op_options_methods};
use crate::output::{InputList, Node, Output};
use crate::platform::Platform;

/// The network an exec op runs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NetMode {
    /// BuildKit's default isolated network with outbound access.
    #[default]
    Sandbox,
    /// The host's network (needs the `network.host` entitlement).
    Host,
    /// No network at all.
    None,
}

/// The security mode of an exec op.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecurityMode {
    /// The normal sandbox.
    #[default]
    Sandbox,
    /// Privileged (needs the `security.insecure` entitlement).
    Insecure,
}

/// How concurrent builds share a cache mount. Serialises as `shared`, `private`, `locked`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheSharing {
    /// Many writers at once.
    #[default]
    Shared,
    /// A second writer gets a fresh directory.
    Private,
    /// A second writer waits.
    Locked,
}

/// Whether BuildKit may key an op by the content of a mount's input (`Mount.contentCache`).
///
/// By default it hashes every file of an input mounted whole or read-only. That lets an op stay
/// cached when its input was rebuilt with the same content, and costs a walk of the input's files
/// on every cache check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContentCache {
    /// BuildKit decides (content-keyed where that is safe, except for the root mount).
    #[default]
    Default,
    /// Always key by content (only allowed where BuildKit's default would).
    On,
    /// Key by the input's definition only: no walk of its files.
    Off,
}

#[derive(Clone, Debug)]
enum MountKind {
    Layer {
        source: Output,
        readonly: bool,
    },
    Cache {
        id: String,
        sharing: CacheSharing,
        base: Output,
    },
    Tmpfs {
        size: i64,
    },
}

/// A filesystem mounted into an exec op (other than the root).
#[derive(Clone, Debug)]
pub struct Mount {
    dest: String,
    selector: String,
    content_cache: ContentCache,
    kind: MountKind,
}

impl Mount {
    /// A writable layer from `source` at `dest`; the changed layer is an output of the op
    /// ([`ExecState::mount`]).
    pub fn layer(source: Output, dest: impl Into<String>) -> Self {
        Self {
            dest: dest.into(),
            selector: String::new(),
            content_cache: ContentCache::Default,
            kind: MountKind::Layer {
                source,
                readonly: false,
            },
        }
    }

    /// A read-only bind of `source` at `dest`. With [`Mount::selector`] only one path of
    /// `source` is mounted, so the op's cache key depends only on that path's content.
    pub fn readonly(source: Output, dest: impl Into<String>) -> Self {
        Self {
            dest: dest.into(),
            selector: String::new(),
            content_cache: ContentCache::Default,
            kind: MountKind::Layer {
                source,
                readonly: true,
            },
        }
    }

    /// A persistent cache directory at `dest`, shared across builds by `id`.
    pub fn cache(dest: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            dest: dest.into(),
            selector: String::new(),
            content_cache: ContentCache::Default,
            kind: MountKind::Cache {
                id: id.into(),
                sharing: CacheSharing::Shared,
                base: Output::scratch(),
            },
        }
    }

    /// An in-memory tmpfs at `dest`.
    pub fn tmpfs(dest: impl Into<String>) -> Self {
        Self {
            dest: dest.into(),
            selector: String::new(),
            content_cache: ContentCache::Default,
            kind: MountKind::Tmpfs { size: 0 },
        }
    }

    /// Mounts only this path of the source (`Mount.selector`), for layer and cache mounts.
    pub fn selector(mut self, path: impl Into<String>) -> Self {
        self.selector = path.into();
        self
    }

    /// Whether the op may be keyed by this mount's content ([`ContentCache`]); needs
    /// [`caps::EXEC_MOUNT_CONTENT_CACHE`] unless left at the default.
    pub fn content_cache(mut self, mode: ContentCache) -> Self {
        self.content_cache = mode;
        self
    }

    /// Sharing mode of a cache mount (ignored by other mounts).
    pub fn sharing(mut self, mode: CacheSharing) -> Self {
        if let MountKind::Cache { sharing, .. } = &mut self.kind {
            *sharing = mode;
        }
        self
    }

    /// Initial content of a cache mount the first time its id is used (ignored by other mounts).
    pub fn base(mut self, output: Output) -> Self {
        if let MountKind::Cache { base, .. } = &mut self.kind {
            *base = output;
        }
        self
    }

    /// Size limit in bytes of a tmpfs mount (ignored by other mounts).
    pub fn size(mut self, bytes: i64) -> Self {
        if let MountKind::Tmpfs { size } = &mut self.kind {
            *size = bytes;
        }
        self
    }

    /// The mount point.
    pub fn dest(&self) -> &str {
        &self.dest
    }

    fn source(&self) -> Option<&Output> {
        match &self.kind {
            MountKind::Layer { source, .. } => Some(source),
            MountKind::Cache { base, .. } => Some(base),
            MountKind::Tmpfs { .. } => None,
        }
        .filter(|output| !output.is_scratch())
    }

    fn has_output(&self) -> bool {
        matches!(
            self.kind,
            MountKind::Layer {
                readonly: false,
                ..
            }
        )
    }
}

/// A secret exposed to an exec op, as a file or as an environment variable.
#[derive(Clone, Debug)]
pub struct Secret {
    id: String,
    target: SecretTarget,
    uid: u32,
    gid: u32,
    mode: u32,
    optional: bool,
}

#[derive(Clone, Debug)]
enum SecretTarget {
    File(String),
    Env(String),
}

impl Secret {
    /// Secret `id` mounted as a file at `path` (mode 0400, root-owned by default).
    pub fn file(id: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            target: SecretTarget::File(path.into()),
            uid: 0,
            gid: 0,
            mode: 0o400,
            optional: false,
        }
    }

    /// Secret `id` in the environment variable `name` (`ExecOp.secretenv`).
    pub fn env(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            target: SecretTarget::Env(name.into()),
            uid: 0,
            gid: 0,
            mode: 0o400,
            optional: false,
        }
    }

    /// Owner and mode of a secret file.
    pub fn owner(mut self, uid: u32, gid: u32, mode: u32) -> Self {
        self.uid = uid;
        self.gid = gid;
        self.mode = mode;
        self
    }

    /// Do not fail when the client does not provide the secret.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
}

/// The client's SSH agent socket exposed to an exec op.
#[derive(Clone, Debug)]
pub struct SshMount {
    id: String,
    path: String,
    uid: u32,
    gid: u32,
    mode: u32,
    optional: bool,
}

impl SshMount {
    /// The agent with this id (`default` is what `--ssh default` provides); mounted at
    /// `/run/buildkit/ssh_agent.<n>` unless [`SshMount::path`] is set, mode 0600.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            path: String::new(),
            uid: 0,
            gid: 0,
            mode: 0o600,
            optional: false,
        }
    }

    /// Where the socket appears.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Owner and mode of the socket.
    pub fn owner(mut self, uid: u32, gid: u32, mode: u32) -> Self {
        self.uid = uid;
        self.gid = gid;
        self.mode = mode;
        self
    }

    /// Do not fail when the client exposes no agent.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
}

/// An `ExecOp`: runs a command on a root filesystem with extra mounts.
///
/// ```
/// use buildkit_llb::{CacheSharing, Exec, Image, Local, Mount};
/// let base = Image::new("python:3.11-slim").build();
/// let ctx = Local::new("context").build();
/// let run = Exec::new(["pip", "wheel", "-r", "/src/requirements.txt"])
///     .root(base)
///     .cwd("/src")
///     .env("PIP_NO_COLOR", "1")
///     .mount(Mount::readonly(ctx, "/src/requirements.txt").selector("backend/requirements.txt"))
///     .mount(Mount::cache("/root/.cache/pip", "pip").sharing(CacheSharing::Locked))
///     .custom_name("pip wheel")
///     .build()
///     .unwrap();
/// let wheels = run.root();
/// assert_eq!(wheels.index(), 0);
/// ```
#[derive(Clone, Debug)]
pub struct Exec {
    args: Vec<String>,
    root: Output,
    env: BTreeMap<String, String>,
    cwd: String,
    user: String,
    hostname: String,
    network: NetMode,
    security: SecurityMode,
    extra_hosts: Vec<(String, String)>,
    mounts: Vec<Mount>,
    secrets: Vec<Secret>,
    ssh: Vec<SshMount>,
    valid_exit_codes: Vec<i32>,
    platform: Option<Platform>,
    options: OpOptions,
}

impl Exec {
    /// A command (argv, no shell) on an empty root; set the root with [`Exec::root`].
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            args: args.into_iter().map(Into::into).collect(),
            root: Output::scratch(),
            env: BTreeMap::new(),
            cwd: "/".to_owned(),
            user: String::new(),
            hostname: String::new(),
            network: NetMode::Sandbox,
            security: SecurityMode::Sandbox,
            extra_hosts: Vec::new(),
            mounts: Vec::new(),
            secrets: Vec::new(),
            ssh: Vec::new(),
            valid_exit_codes: Vec::new(),
            platform: None,
            options: OpOptions::default(),
        }
    }

    /// The root filesystem (mounted writable at `/`; the result is [`ExecState::root`]).
    pub fn root(mut self, root: Output) -> Self {
        self.root = root;
        self
    }

    /// Working directory (default `/`).
    pub fn cwd(mut self, cwd: impl Into<String>) -> Self {
        self.cwd = cwd.into();
        self
    }

    /// Sets one environment variable. Variables are written sorted by name as `K=V`, so the
    /// order of calls never changes the op.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Sets several environment variables (see [`Exec::env`]).
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        for (key, value) in vars {
            self.env.insert(key.into(), value.into());
        }
        self
    }

    /// The user to run as (`name`, `uid`, `uid:gid`, …).
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = user.into();
        self
    }

    /// The container hostname.
    pub fn hostname(mut self, hostname: impl Into<String>) -> Self {
        self.hostname = hostname.into();
        self
    }

    /// The network mode.
    pub fn network(mut self, network: NetMode) -> Self {
        self.network = network;
        self
    }

    /// The security mode.
    pub fn security(mut self, security: SecurityMode) -> Self {
        self.security = security;
        self
    }

    /// Adds an `/etc/hosts` entry.
    pub fn extra_host(mut self, host: impl Into<String>, ip: impl Into<String>) -> Self {
        self.extra_hosts.push((host.into(), ip.into()));
        self
    }

    /// Adds a mount. Mounts are written sorted by destination, as BuildKit does.
    pub fn mount(mut self, mount: Mount) -> Self {
        self.mounts.push(mount);
        self
    }

    /// Exposes a secret (file or environment variable).
    pub fn secret(mut self, secret: Secret) -> Self {
        self.secrets.push(secret);
        self
    }

    /// Exposes an SSH agent socket; `SSH_AUTH_SOCK` is set to the first one unless already set.
    pub fn ssh(mut self, ssh: SshMount) -> Self {
        self.ssh.push(ssh);
        self
    }

    /// Exit codes that count as success (default: only 0).
    pub fn valid_exit_codes(mut self, codes: impl IntoIterator<Item = i32>) -> Self {
        self.valid_exit_codes = codes.into_iter().collect();
        self
    }

    /// The platform to run on; defaults to the root's platform (e.g. from [`crate::Image::platform`]).
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }

    op_options_methods!();

    /// Marshals the exec op.
    pub fn build(self) -> Result<ExecState, LlbError> {
        if self.args.is_empty() {
            return Err(LlbError::EmptyArgs);
        }
        if self.cwd.is_empty() {
            return Err(LlbError::EmptyCwd);
        }
        // Position 0 is the root; the rest are the added mounts in call order.
        let mut all: Vec<(Option<usize>, Mount)> =
            vec![(None, Mount::layer(self.root.clone(), "/"))];
        all.extend(
            self.mounts
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, m)| (Some(i), m)),
        );
        let mut seen = BTreeSet::new();
        for (_, mount) in &all {
            if !mount.dest.starts_with('/') {
                return Err(LlbError::RelativeMountDest(mount.dest.clone()));
            }
            if !seen.insert(mount.dest.clone()) {
                return Err(LlbError::DuplicateMountDest(mount.dest.clone()));
            }
        }
        // BuildKit sorts mounts by destination (byte order) before numbering inputs and outputs.
        all.sort_by(|a, b| a.1.dest.cmp(&b.1.dest));

        let mut op_caps = BTreeSet::from([caps::EXEC_META_BASE]);
        let mut env = self.env.clone();
        let ssh_paths: Vec<String> = self
            .ssh
            .iter()
            .enumerate()
            .map(|(n, ssh)| {
                if ssh.path.is_empty() {
                    format!("/run/buildkit/ssh_agent.{n}")
                } else {
                    ssh.path.clone()
                }
            })
            .collect();
        if let Some(first) = ssh_paths.first() {
            env.entry("SSH_AUTH_SOCK".to_owned())
                .or_insert_with(|| first.clone());
        }
        if !self.valid_exit_codes.is_empty() {
            op_caps.insert(caps::EXEC_VALID_EXIT_CODE);
        }
        let meta = pb::Meta {
            args: self.args.clone(),
            env: env
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect(),
            cwd: self.cwd.clone(),
            user: self.user.clone(),
            proxy_env: None,
            extra_hosts: self
                .extra_hosts
                .iter()
                .map(|(host, ip)| pb::HostIp {
                    host: host.clone(),
                    ip: ip.clone(),
                })
                .collect(),
            hostname: self.hostname.clone(),
            ulimit: Vec::new(),
            cgroup_parent: String::new(),
            remove_mount_stubs_recursive: true,
            valid_exit_codes: self.valid_exit_codes.clone(),
        };
        let network = match self.network {
            NetMode::Sandbox => pb::NetMode::Unset,
            NetMode::Host => pb::NetMode::Host,
            NetMode::None => pb::NetMode::None,
        };
        if self.network != NetMode::Sandbox {
            op_caps.insert(caps::EXEC_META_NETWORK);
        }
        let security = match self.security {
            SecurityMode::Sandbox => pb::SecurityMode::Sandbox,
            SecurityMode::Insecure => {
                op_caps.insert(caps::EXEC_META_SECURITY);
                pb::SecurityMode::Insecure
            }
        };

        let mut inputs = InputList::default();
        let mut deps: Vec<Output> = Vec::new();
        let mut pb_mounts = Vec::new();
        let mut outputs: BTreeMap<Option<usize>, i64> = BTreeMap::new();
        let mut next_output = 0_i64;
        for (position, mount) in &all {
            if !mount.selector.is_empty() {
                op_caps.insert(caps::EXEC_MOUNT_SELECTOR);
            }
            let input = match mount.source() {
                Some(source) => {
                    if !deps.contains(source) {
                        deps.push(source.clone());
                    }
                    inputs.add(source)
                }
                None => -1,
            };
            let output = if mount.has_output() {
                let index = next_output;
                next_output += 1;
                outputs.insert(*position, index);
                index
            } else {
                -1
            };
            let mut pb_mount = pb::Mount {
                input,
                selector: mount.selector.clone(),
                dest: mount.dest.clone(),
                output,
                readonly: matches!(mount.kind, MountKind::Layer { readonly: true, .. }),
                content_cache: match mount.content_cache {
                    ContentCache::Default => pb::MountContentCache::Default,
                    ContentCache::On => pb::MountContentCache::On,
                    ContentCache::Off => pb::MountContentCache::Off,
                } as i32,
                ..Default::default()
            };
            if mount.content_cache != ContentCache::Default {
                op_caps.insert(caps::EXEC_MOUNT_CONTENT_CACHE);
            }
            match &mount.kind {
                MountKind::Layer { .. } => {
                    if input >= 0 {
                        op_caps.insert(caps::EXEC_MOUNT_BIND);
                    }
                }
                MountKind::Cache { id, sharing, .. } => {
                    op_caps.insert(caps::EXEC_MOUNT_CACHE);
                    op_caps.insert(caps::EXEC_MOUNT_CACHE_SHARING);
                    pb_mount.mount_type = pb::MountType::Cache as i32;
                    pb_mount.cache_opt = Some(pb::CacheOpt {
                        id: id.clone(),
                        sharing: match sharing {
                            CacheSharing::Shared => pb::CacheSharingOpt::Shared,
                            CacheSharing::Private => pb::CacheSharingOpt::Private,
                            CacheSharing::Locked => pb::CacheSharingOpt::Locked,
                        } as i32,
                    });
                }
                MountKind::Tmpfs { size } => {
                    op_caps.insert(caps::EXEC_MOUNT_TMPFS);
                    if *size > 0 {
                        op_caps.insert(caps::EXEC_MOUNT_TMPFS_SIZE);
                    }
                    pb_mount.mount_type = pb::MountType::Tmpfs as i32;
                    pb_mount.tmpfs_opt = Some(pb::TmpfsOpt { size: *size });
                }
            }
            pb_mounts.push(pb_mount);
        }

        let mut secret_env = Vec::new();
        if !self.secrets.is_empty() {
            op_caps.insert(caps::EXEC_MOUNT_SECRET);
        }
        for secret in &self.secrets {
            match &secret.target {
                SecretTarget::Env(name) => {
                    op_caps.insert(caps::EXEC_SECRET_ENV);
                    secret_env.push(pb::SecretEnv {
                        id: secret.id.clone(),
                        name: name.clone(),
                        optional: secret.optional,
                    });
                }
                SecretTarget::File(path) => pb_mounts.push(pb::Mount {
                    input: -1,
                    dest: path.clone(),
                    mount_type: pb::MountType::Secret as i32,
                    secret_opt: Some(pb::SecretOpt {
                        id: secret.id.clone(),
                        uid: secret.uid,
                        gid: secret.gid,
                        mode: secret.mode,
                        optional: secret.optional,
                    }),
                    ..Default::default()
                }),
            }
        }
        if !self.ssh.is_empty() {
            op_caps.insert(caps::EXEC_MOUNT_SSH);
        }
        for (ssh, path) in self.ssh.iter().zip(&ssh_paths) {
            pb_mounts.push(pb::Mount {
                input: -1,
                dest: path.clone(),
                mount_type: pb::MountType::Ssh as i32,
                ssh_opt: Some(pb::SshOpt {
                    id: ssh.id.clone(),
                    uid: ssh.uid,
                    gid: ssh.gid,
                    mode: ssh.mode,
                    optional: ssh.optional,
                }),
                ..Default::default()
            });
        }

        let platform = self
            .platform
            .clone()
            .or_else(|| self.root.platform().cloned());
        let op = pb::Op {
            inputs: inputs.inputs,
            platform: platform.as_ref().map(Platform::to_pb),
            constraints: self.options.worker_constraints_pb(),
            op: Some(pb::op::Op::Exec(pb::ExecOp {
                meta: Some(meta),
                mounts: pb_mounts,
                network: network as i32,
                security: security as i32,
                secretenv: secret_env,
                cdi_devices: Vec::new(),
            })),
        };
        let node = Node::finish(
            &op,
            deps,
            self.options.metadata(&op_caps),
            self.options.locations.clone(),
            platform,
        );
        let root = outputs
            .get(&None)
            .map(|index| Output::new(node.clone(), *index));
        let mounts = self
            .mounts
            .iter()
            .enumerate()
            .map(|(position, mount)| {
                (
                    mount.dest.clone(),
                    outputs
                        .get(&Some(position))
                        .map(|index| Output::new(node.clone(), *index)),
                )
            })
            .collect();
        Ok(ExecState {
            root: root.unwrap_or_else(|| Output::new(node, 0)),
            mounts,
        })
    }
}

/// The results of a built [`Exec`].
#[derive(Clone, Debug)]
pub struct ExecState {
    root: Output,
    mounts: Vec<(String, Option<Output>)>,
}

impl ExecState {
    /// The root filesystem after the command ran (output 0).
    pub fn root(&self) -> Output {
        self.root.clone()
    }

    /// The result of the `mount_index`-th [`Exec::mount`] call (0-based), if that mount is a
    /// writable layer; read-only, cache and tmpfs mounts have no output.
    pub fn output(&self, mount_index: usize) -> Option<Output> {
        self.mounts
            .get(mount_index)
            .and_then(|(_, output)| output.clone())
    }

    /// The result of the writable layer mounted at `dest`.
    pub fn mount(&self, dest: &str) -> Option<Output> {
        self.mounts
            .iter()
            .find(|(mount_dest, _)| mount_dest == dest)
            .and_then(|(_, output)| output.clone())
    }
}

use std::collections::{BTreeMap, BTreeSet};

use buildkit_proto::pb;

use crate::caps;
use crate::gojson::go_json_string_array;
use crate::options::{OpOptions, op_options_methods};
use crate::output::{Node, Output};
use crate::paths::go_path_join;
use crate::platform::Platform;

/// Source attribute keys, spelled exactly as BuildKit's `solver/pb/attr.go`.
pub mod attr {
    /// `image.resolvemode`
    pub const IMAGE_RESOLVE_MODE: &str = "image.resolvemode";
    /// `image.recordtype`
    pub const IMAGE_RECORD_TYPE: &str = "image.recordtype";
    /// `image.layerlimit`
    pub const IMAGE_LAYER_LIMIT: &str = "image.layerlimit";
    /// `image.checksum`
    pub const IMAGE_CHECKSUM: &str = "image.checksum";
    /// `local.session`
    pub const LOCAL_SESSION_ID: &str = "local.session";
    /// `local.unique`
    pub const LOCAL_UNIQUE_ID: &str = "local.unique";
    /// `local.includepattern`
    pub const LOCAL_INCLUDE_PATTERNS: &str = "local.includepattern";
    /// `local.followpaths`
    pub const LOCAL_FOLLOW_PATHS: &str = "local.followpaths";
    /// `local.excludepatterns`
    pub const LOCAL_EXCLUDE_PATTERNS: &str = "local.excludepatterns";
    /// `local.sharedkeyhint`
    pub const LOCAL_SHARED_KEY_HINT: &str = "local.sharedkeyhint";
    /// `local.differ`
    pub const LOCAL_DIFFER: &str = "local.differ";
    /// `git.keepgitdir`
    pub const GIT_KEEP_GIT_DIR: &str = "git.keepgitdir";
    /// `git.fullurl`
    pub const GIT_FULL_URL: &str = "git.fullurl";
    /// `git.authheadersecret`
    pub const GIT_AUTH_HEADER_SECRET: &str = "git.authheadersecret";
    /// `git.authtokensecret`
    pub const GIT_AUTH_TOKEN_SECRET: &str = "git.authtokensecret";
    /// `git.knownsshhosts`
    pub const GIT_KNOWN_SSH_HOSTS: &str = "git.knownsshhosts";
    /// `git.mountsshsock`
    pub const GIT_MOUNT_SSH_SOCK: &str = "git.mountsshsock";
    /// `git.checksum`
    pub const GIT_CHECKSUM: &str = "git.checksum";
    /// `git.skipsubmodules`
    pub const GIT_SKIP_SUBMODULES: &str = "git.skipsubmodules";
    /// `http.checksum`
    pub const HTTP_CHECKSUM: &str = "http.checksum";
    /// `http.filename`
    pub const HTTP_FILENAME: &str = "http.filename";
    /// `http.perm`
    pub const HTTP_PERM: &str = "http.perm";
    /// `http.uid`
    pub const HTTP_UID: &str = "http.uid";
    /// `http.gid`
    pub const HTTP_GID: &str = "http.gid";
}

/// Builds a `SourceOp` node. Empty attribute values are never written: BuildKit's Go encoder
/// and prost disagree on how to encode an empty map value, so one would break digest parity.
fn source_node(
    identifier: String,
    attrs: BTreeMap<String, String>,
    platform: Option<Platform>,
    options: &OpOptions,
    op_caps: &BTreeSet<&'static str>,
) -> Output {
    let attrs = attrs
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .collect();
    let op = pb::Op {
        inputs: Vec::new(),
        platform: platform.as_ref().map(Platform::to_pb),
        constraints: options.worker_constraints_pb(),
        op: Some(pb::op::Op::Source(pb::SourceOp { identifier, attrs })),
    };
    let node = Node::finish(
        &op,
        Vec::new(),
        options.metadata(op_caps),
        options.locations.clone(),
        platform,
    );
    Output::new(node, 0)
}

/// How BuildKit resolves an image reference: the `image.resolvemode` attribute, the
/// `ResolveMode` of image resolution requests, and a frontend's `image-resolve-mode` option.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResolveMode {
    /// The default: use a local copy when the reference is a digest, else check the registry.
    /// Written as no attribute at all, as BuildKit does.
    #[default]
    Default,
    /// Always check the registry (`pull`).
    ForcePull,
    /// Prefer an image already present on the worker (`local`).
    PreferLocal,
}

impl ResolveMode {
    /// The spelling of resolution requests and options: `default`, `pull`, `local`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResolveMode::Default => "default",
            ResolveMode::ForcePull => "pull",
            ResolveMode::PreferLocal => "local",
        }
    }
}

/// A `docker-image://` source: a registry image as the root filesystem.
///
/// ```
/// use buildkit_llb::{Image, Platform};
/// let base = Image::new("python:3.11-slim")
///     .platform(Platform::new("linux", "amd64"))
///     .build();
/// assert!(!base.is_scratch());
/// ```
#[derive(Clone, Debug)]
pub struct Image {
    reference: String,
    platform: Option<Platform>,
    resolve_mode: ResolveMode,
    record_type: String,
    layer_limit: Option<u32>,
    checksum: String,
    options: OpOptions,
}

impl Image {
    /// An image by reference; the reference is normalised as BuildKit does
    /// (`python:3.11` → `docker.io/library/python:3.11`, no tag → `:latest`).
    pub fn new(reference: impl AsRef<str>) -> Self {
        Self {
            reference: normalize_image_reference(reference.as_ref()),
            platform: None,
            resolve_mode: ResolveMode::Default,
            record_type: String::new(),
            layer_limit: None,
            checksum: String::new(),
            options: OpOptions::default(),
        }
    }

    /// Pins the reference to a known manifest digest (`name:tag@sha256:…`), as BuildKit does
    /// after resolving an image config. Replaces any digest already in the reference.
    pub fn pinned(mut self, digest: impl AsRef<str>) -> Self {
        let name = match self.reference.split_once('@') {
            Some((name, _)) => name.to_owned(),
            None => self.reference.clone(),
        };
        self.reference = format!("{name}@{}", digest.as_ref());
        self
    }

    /// The platform to pull for; also inherited by exec ops run on this image.
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }

    /// How to resolve the reference.
    pub fn resolve_mode(mut self, mode: ResolveMode) -> Self {
        self.resolve_mode = mode;
        self
    }

    /// Sets `image.recordtype` (e.g. `internal` marks helper images in build history).
    pub fn record_type(mut self, record_type: impl Into<String>) -> Self {
        self.record_type = record_type.into();
        self
    }

    /// Uses only the first `limit` layers of the image (`image.layerlimit`).
    pub fn layer_limit(mut self, limit: u32) -> Self {
        self.layer_limit = Some(limit);
        self
    }

    /// Requires the resolved image to have this digest (`image.checksum`).
    pub fn checksum(mut self, digest: impl Into<String>) -> Self {
        self.checksum = digest.into();
        self
    }

    op_options_methods!();

    /// The normalised reference that goes into the identifier.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// Marshals the source op.
    pub fn build(self) -> Output {
        let mut op_caps = BTreeSet::from([caps::SOURCE_IMAGE]);
        let mut attrs = BTreeMap::new();
        match self.resolve_mode {
            ResolveMode::Default => {}
            ResolveMode::ForcePull => {
                attrs.insert(
                    attr::IMAGE_RESOLVE_MODE.to_owned(),
                    self.resolve_mode.as_str().to_owned(),
                );
                op_caps.insert(caps::SOURCE_IMAGE_RESOLVE_MODE);
            }
            ResolveMode::PreferLocal => {
                attrs.insert(
                    attr::IMAGE_RESOLVE_MODE.to_owned(),
                    self.resolve_mode.as_str().to_owned(),
                );
            }
        }
        if !self.record_type.is_empty() {
            attrs.insert(attr::IMAGE_RECORD_TYPE.to_owned(), self.record_type.clone());
        }
        if let Some(limit) = self.layer_limit {
            attrs.insert(attr::IMAGE_LAYER_LIMIT.to_owned(), limit.to_string());
            op_caps.insert(caps::SOURCE_IMAGE_LAYER_LIMIT);
        }
        if !self.checksum.is_empty() {
            attrs.insert(attr::IMAGE_CHECKSUM.to_owned(), self.checksum.clone());
            op_caps.insert(caps::SOURCE_IMAGE_CHECKSUM);
        }
        source_node(
            format!("docker-image://{}", self.reference),
            attrs,
            self.platform.clone(),
            &self.options,
            &op_caps,
        )
    }
}

/// Normalises an image reference like Docker's `ParseNormalizedNamed` + `TagNameOnly`.
/// Malformed references are passed through for BuildKit to reject, as BuildKit's client does.
pub fn normalize_image_reference(reference: &str) -> String {
    let (name, digest) = match reference.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (reference, None),
    };
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_ascii_uppercase() || c.is_whitespace())
    {
        return reference.to_owned();
    }
    let (domain, rest) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first, rest.to_owned())
        }
        _ => ("docker.io", name.to_owned()),
    };
    let domain = if domain == "index.docker.io" {
        "docker.io"
    } else {
        domain
    };
    let rest = if domain == "docker.io" && !rest.contains('/') {
        format!("library/{rest}")
    } else {
        rest
    };
    let last_component = rest.rsplit('/').next().unwrap_or_default();
    let tagged = last_component.contains(':');
    let mut normalized = format!("{domain}/{rest}");
    if !tagged && digest.is_none() {
        normalized.push_str(":latest");
    }
    if let Some(digest) = digest {
        normalized.push('@');
        normalized.push_str(digest);
    }
    normalized
}

/// How BuildKit decides which local files changed since the last transfer (`local.differ`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Differ {
    /// Re-send every file (`none`).
    None,
    /// Compare file metadata (`metadata`, BuildKit's default).
    Metadata,
}

/// A `local://` source: files from the client (the build context, the spec's folder, …).
///
/// No random unique id is generated (BuildKit's Go client does): the source is keyed by its
/// name, patterns and the optional [`Local::shared_key_hint`] / [`Local::session_id`] /
/// [`Local::unique_id`], so the same inputs always give the same digest.
#[derive(Clone, Debug)]
pub struct Local {
    name: String,
    include_patterns: Vec<String>,
    exclude_patterns: Vec<String>,
    follow_paths: Vec<String>,
    shared_key_hint: String,
    session_id: String,
    unique_id: String,
    differ: Option<(Differ, bool)>,
    options: OpOptions,
}

impl Local {
    /// The client directory exposed under `name` (e.g. `context`, `dockerfile`).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            include_patterns: Vec::new(),
            exclude_patterns: Vec::new(),
            follow_paths: Vec::new(),
            shared_key_hint: String::new(),
            session_id: String::new(),
            unique_id: String::new(),
            differ: None,
            options: OpOptions::default(),
        }
    }

    /// Transfers only paths matching these patterns (`local.includepattern`).
    pub fn include_patterns<I, S>(mut self, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.include_patterns = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// Skips paths matching these patterns, e.g. `.dockerignore` (`local.excludepatterns`).
    pub fn exclude_patterns<I, S>(mut self, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.exclude_patterns = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// Also transfers the targets of these symlinked paths (`local.followpaths`).
    pub fn follow_paths<I, S>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.follow_paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Lets transfers with the same hint share the worker-side copy (`local.sharedkeyhint`).
    pub fn shared_key_hint(mut self, hint: impl Into<String>) -> Self {
        self.shared_key_hint = hint.into();
        self
    }

    /// Reads from this client session (`local.session`), e.g. `BUILDKIT_SESSION_ID`.
    pub fn session_id(mut self, id: impl Into<String>) -> Self {
        self.session_id = id.into();
        self
    }

    /// Sets `local.unique` (BuildKit's client puts a random id here when there is no session).
    pub fn unique_id(mut self, id: impl Into<String>) -> Self {
        self.unique_id = id.into();
        self
    }

    /// Chooses the change detection (`local.differ`); `required` records the
    /// `source.local.differ` cap so an older BuildKit refuses instead of ignoring it.
    pub fn differ(mut self, differ: Differ, required: bool) -> Self {
        self.differ = Some((differ, required));
        self
    }

    op_options_methods!();

    /// Marshals the source op.
    pub fn build(self) -> Output {
        let mut op_caps = BTreeSet::from([caps::SOURCE_LOCAL]);
        let mut attrs = BTreeMap::new();
        if !self.session_id.is_empty() {
            attrs.insert(attr::LOCAL_SESSION_ID.to_owned(), self.session_id.clone());
            op_caps.insert(caps::SOURCE_LOCAL_SESSION_ID);
        } else if !self.unique_id.is_empty() {
            attrs.insert(attr::LOCAL_UNIQUE_ID.to_owned(), self.unique_id.clone());
            op_caps.insert(caps::SOURCE_LOCAL_UNIQUE);
        }
        if !self.include_patterns.is_empty() {
            attrs.insert(
                attr::LOCAL_INCLUDE_PATTERNS.to_owned(),
                go_json_string_array(&self.include_patterns),
            );
            op_caps.insert(caps::SOURCE_LOCAL_INCLUDE_PATTERNS);
        }
        if !self.follow_paths.is_empty() {
            attrs.insert(
                attr::LOCAL_FOLLOW_PATHS.to_owned(),
                go_json_string_array(&self.follow_paths),
            );
            op_caps.insert(caps::SOURCE_LOCAL_FOLLOW_PATHS);
        }
        if !self.exclude_patterns.is_empty() {
            attrs.insert(
                attr::LOCAL_EXCLUDE_PATTERNS.to_owned(),
                go_json_string_array(&self.exclude_patterns),
            );
            op_caps.insert(caps::SOURCE_LOCAL_EXCLUDE_PATTERNS);
        }
        if !self.shared_key_hint.is_empty() {
            attrs.insert(
                attr::LOCAL_SHARED_KEY_HINT.to_owned(),
                self.shared_key_hint.clone(),
            );
            op_caps.insert(caps::SOURCE_LOCAL_SHARED_KEY_HINT);
        }
        if let Some((differ, required)) = self.differ {
            let value = match differ {
                Differ::None => "none",
                Differ::Metadata => "metadata",
            };
            attrs.insert(attr::LOCAL_DIFFER.to_owned(), value.to_owned());
            if required {
                op_caps.insert(caps::SOURCE_LOCAL_DIFFER);
            }
        }
        source_node(
            format!("local://{}", self.name),
            attrs,
            None,
            &self.options,
            &op_caps,
        )
    }
}

/// A `git://` source: a repository checkout.
#[derive(Clone, Debug)]
pub struct Git {
    remote: String,
    reference: String,
    subdir: String,
    keep_git_dir: bool,
    checksum: String,
    skip_submodules: bool,
    auth_token_secret: String,
    auth_header_secret: String,
    custom_auth: bool,
    known_ssh_hosts: String,
    mount_ssh_sock: String,
    options: OpOptions,
}

impl Git {
    /// A repository by URL (`https://…`, `ssh://…`, `git://…` or `user@host:path`); a URL
    /// without a scheme gets `https://`, as BuildKit does.
    pub fn new(remote: impl Into<String>) -> Self {
        Self {
            remote: remote.into(),
            reference: String::new(),
            subdir: String::new(),
            keep_git_dir: false,
            checksum: String::new(),
            skip_submodules: false,
            auth_token_secret: "GIT_AUTH_TOKEN".to_owned(),
            auth_header_secret: "GIT_AUTH_HEADER".to_owned(),
            custom_auth: false,
            known_ssh_hosts: String::new(),
            mount_ssh_sock: String::new(),
            options: OpOptions::default(),
        }
    }

    /// The branch, tag or commit to check out.
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = reference.into();
        self
    }

    /// Uses only this directory of the repository.
    pub fn subdir(mut self, subdir: impl AsRef<str>) -> Self {
        self.subdir = go_path_join("/", subdir.as_ref())
            .trim_start_matches('/')
            .to_owned();
        self
    }

    /// Keeps the `.git` directory (`git.keepgitdir`).
    pub fn keep_git_dir(mut self) -> Self {
        self.keep_git_dir = true;
        self
    }

    /// Requires the checked-out commit to be this one (`git.checksum`).
    pub fn checksum(mut self, commit: impl Into<String>) -> Self {
        self.checksum = commit.into();
        self
    }

    /// Does not check out submodules (`git.skipsubmodules`).
    pub fn skip_submodules(mut self) -> Self {
        self.skip_submodules = true;
        self
    }

    /// The secret holding an HTTP auth token (default `GIT_AUTH_TOKEN`).
    pub fn auth_token_secret(mut self, id: impl Into<String>) -> Self {
        self.auth_token_secret = id.into();
        self.custom_auth = true;
        self
    }

    /// The secret holding a full HTTP auth header (default `GIT_AUTH_HEADER`).
    pub fn auth_header_secret(mut self, id: impl Into<String>) -> Self {
        self.auth_header_secret = id.into();
        self.custom_auth = true;
        self
    }

    /// `known_hosts` lines for SSH remotes (`git.knownsshhosts`).
    pub fn known_ssh_hosts(mut self, hosts: impl Into<String>) -> Self {
        self.known_ssh_hosts = hosts.into();
        self
    }

    /// The SSH agent id to use for SSH remotes (`git.mountsshsock`, default `default`).
    pub fn mount_ssh_sock(mut self, id: impl Into<String>) -> Self {
        self.mount_ssh_sock = id.into();
        self
    }

    op_options_methods!();

    /// Marshals the source op.
    pub fn build(self) -> Output {
        let mut op_caps = BTreeSet::from([caps::SOURCE_GIT]);
        let mut url = self.remote.clone();
        let mut parsed = parse_git_url(&url);
        if parsed.is_none() && !has_scheme(&url) {
            url = format!("https://{url}");
            parsed = parse_git_url(&url);
        }
        let mut identifier = match &parsed {
            Some(remote) => {
                url = remote.remote.clone();
                format!("{}{}", remote.host, go_path_join("/", &remote.path))
            }
            None => url.clone(),
        };
        if parsed.is_some() && (!self.reference.is_empty() || !self.subdir.is_empty()) {
            identifier.push('#');
            identifier.push_str(&self.reference);
            if !self.subdir.is_empty() {
                identifier.push(':');
                identifier.push_str(&self.subdir);
                op_caps.insert(caps::SOURCE_GIT_SUBDIR);
            }
        }
        let mut attrs = BTreeMap::new();
        if self.keep_git_dir {
            attrs.insert(attr::GIT_KEEP_GIT_DIR.to_owned(), "true".to_owned());
            op_caps.insert(caps::SOURCE_GIT_KEEP_DIR);
        }
        if !url.is_empty() {
            attrs.insert(attr::GIT_FULL_URL.to_owned(), url);
            op_caps.insert(caps::SOURCE_GIT_FULL_URL);
        }
        if !self.auth_token_secret.is_empty() {
            attrs.insert(
                attr::GIT_AUTH_TOKEN_SECRET.to_owned(),
                self.auth_token_secret.clone(),
            );
        }
        if !self.auth_header_secret.is_empty() {
            attrs.insert(
                attr::GIT_AUTH_HEADER_SECRET.to_owned(),
                self.auth_header_secret.clone(),
            );
        }
        if self.custom_auth {
            op_caps.insert(caps::SOURCE_GIT_HTTP_AUTH);
        }
        if parsed.as_ref().is_some_and(|remote| remote.ssh) {
            if !self.known_ssh_hosts.is_empty() {
                attrs.insert(
                    attr::GIT_KNOWN_SSH_HOSTS.to_owned(),
                    self.known_ssh_hosts.clone(),
                );
            }
            op_caps.insert(caps::SOURCE_GIT_KNOWN_SSH_HOSTS);
            let sock = if self.mount_ssh_sock.is_empty() {
                "default".to_owned()
            } else {
                self.mount_ssh_sock.clone()
            };
            attrs.insert(attr::GIT_MOUNT_SSH_SOCK.to_owned(), sock);
            op_caps.insert(caps::SOURCE_GIT_MOUNT_SSH_SOCK);
        }
        if !self.checksum.is_empty() {
            attrs.insert(attr::GIT_CHECKSUM.to_owned(), self.checksum.clone());
            op_caps.insert(caps::SOURCE_GIT_CHECKSUM);
        }
        if self.skip_submodules {
            attrs.insert(attr::GIT_SKIP_SUBMODULES.to_owned(), "true".to_owned());
            op_caps.insert(caps::SOURCE_GIT_SKIP_SUBMODULES);
        }
        source_node(
            format!("git://{identifier}"),
            attrs,
            None,
            &self.options,
            &op_caps,
        )
    }
}

struct GitRemote {
    host: String,
    path: String,
    /// The URL without fragment and query.
    remote: String,
    ssh: bool,
}

fn has_scheme(url: &str) -> bool {
    url.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

/// A small version of BuildKit's `gitutil.ParseURL`: scheme URLs of the four git protocols, or
/// scp-style `user@host:path`.
fn parse_git_url(url: &str) -> Option<GitRemote> {
    if has_scheme(url) {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https" | "ssh" | "git") {
            return None;
        }
        let without_fragment = rest.split('#').next().unwrap_or_default();
        let without_query = without_fragment.split('?').next().unwrap_or_default();
        let (authority, path) = match without_query.find('/') {
            Some(at) => (&without_query[..at], &without_query[at..]),
            None => (without_query, ""),
        };
        let host = authority.rsplit('@').next().unwrap_or_default();
        let remote_end = url.len() - rest.len() + without_query.len();
        return Some(GitRemote {
            host: host.to_owned(),
            path: path.to_owned(),
            remote: url[..remote_end].to_owned(),
            ssh: scheme == "ssh",
        });
    }
    let without_fragment = url.split('#').next().unwrap_or_default();
    let (user_host, path) = without_fragment.split_once(':')?;
    let host = match user_host.split_once('@') {
        Some((user, host)) if !user.is_empty() && !user.contains('/') => host,
        Some(_) => return None,
        None => user_host,
    };
    if host.is_empty() || host.contains('/') || path.is_empty() {
        return None;
    }
    let path = path.split('?').next().unwrap_or_default();
    Some(GitRemote {
        host: host.to_owned(),
        path: path.to_owned(),
        remote: format!("{user_host}:{path}"),
        ssh: true,
    })
}

/// An `http(s)://` source: one downloaded file.
#[derive(Clone, Debug)]
pub struct Http {
    url: String,
    checksum: String,
    filename: String,
    perm: u32,
    uid: u32,
    gid: u32,
    options: OpOptions,
}

impl Http {
    /// A file by URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            checksum: String::new(),
            filename: String::new(),
            perm: 0,
            uid: 0,
            gid: 0,
            options: OpOptions::default(),
        }
    }

    /// Requires the download to have this digest, `sha256:…` (`http.checksum`).
    pub fn checksum(mut self, digest: impl Into<String>) -> Self {
        self.checksum = digest.into();
        self
    }

    /// Names the downloaded file (`http.filename`).
    pub fn filename(mut self, name: impl Into<String>) -> Self {
        self.filename = name.into();
        self
    }

    /// Permission bits of the file, e.g. `0o755` (`http.perm`).
    pub fn perm(mut self, mode: u32) -> Self {
        self.perm = mode & 0o777;
        self
    }

    /// Owner of the file (`http.uid` / `http.gid`; 0 is not written).
    pub fn chown(mut self, uid: u32, gid: u32) -> Self {
        self.uid = uid;
        self.gid = gid;
        self
    }

    op_options_methods!();

    /// Marshals the source op.
    pub fn build(self) -> Output {
        let mut op_caps = BTreeSet::from([caps::SOURCE_HTTP]);
        let mut attrs = BTreeMap::new();
        if !self.checksum.is_empty() {
            attrs.insert(attr::HTTP_CHECKSUM.to_owned(), self.checksum.clone());
            op_caps.insert(caps::SOURCE_HTTP_CHECKSUM);
        }
        if !self.filename.is_empty() {
            attrs.insert(attr::HTTP_FILENAME.to_owned(), self.filename.clone());
        }
        if self.perm != 0 {
            attrs.insert(attr::HTTP_PERM.to_owned(), format!("0{:o}", self.perm));
            op_caps.insert(caps::SOURCE_HTTP_PERM);
        }
        if self.uid != 0 {
            attrs.insert(attr::HTTP_UID.to_owned(), self.uid.to_string());
            op_caps.insert(caps::SOURCE_HTTP_UID_GID);
        }
        if self.gid != 0 {
            attrs.insert(attr::HTTP_GID.to_owned(), self.gid.to_string());
            op_caps.insert(caps::SOURCE_HTTP_UID_GID);
        }
        source_node(self.url.clone(), attrs, None, &self.options, &op_caps)
    }
}

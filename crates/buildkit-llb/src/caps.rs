//! LLB capability ids, spelled exactly as BuildKit's `solver/pb/caps.go` (v0.32.2).

use std::collections::BTreeSet;
use std::fmt;

/// `source.image`
pub const SOURCE_IMAGE: &str = "source.image";
/// `source.image.resolvemode` (recorded only for the force-pull mode, as BuildKit does)
pub const SOURCE_IMAGE_RESOLVE_MODE: &str = "source.image.resolvemode";
/// `source.image.layerlimit`
pub const SOURCE_IMAGE_LAYER_LIMIT: &str = "source.image.layerlimit";
/// `source.image.checksum`
pub const SOURCE_IMAGE_CHECKSUM: &str = "source.image.checksum";
/// `source.local`
pub const SOURCE_LOCAL: &str = "source.local";
/// `source.local.unique`
pub const SOURCE_LOCAL_UNIQUE: &str = "source.local.unique";
/// `source.local.sessionid`
pub const SOURCE_LOCAL_SESSION_ID: &str = "source.local.sessionid";
/// `source.local.includepatterns`
pub const SOURCE_LOCAL_INCLUDE_PATTERNS: &str = "source.local.includepatterns";
/// `source.local.followpaths`
pub const SOURCE_LOCAL_FOLLOW_PATHS: &str = "source.local.followpaths";
/// `source.local.excludepatterns`
pub const SOURCE_LOCAL_EXCLUDE_PATTERNS: &str = "source.local.excludepatterns";
/// `source.local.sharedkeyhint`
pub const SOURCE_LOCAL_SHARED_KEY_HINT: &str = "source.local.sharedkeyhint";
/// `source.local.differ`
pub const SOURCE_LOCAL_DIFFER: &str = "source.local.differ";
/// `source.git`
pub const SOURCE_GIT: &str = "source.git";
/// `source.git.keepgitdir`
pub const SOURCE_GIT_KEEP_DIR: &str = "source.git.keepgitdir";
/// `source.git.fullurl`
pub const SOURCE_GIT_FULL_URL: &str = "source.git.fullurl";
/// `source.git.httpauth`
pub const SOURCE_GIT_HTTP_AUTH: &str = "source.git.httpauth";
/// `source.git.knownsshhosts`
pub const SOURCE_GIT_KNOWN_SSH_HOSTS: &str = "source.git.knownsshhosts";
/// `source.git.mountsshsock`
pub const SOURCE_GIT_MOUNT_SSH_SOCK: &str = "source.git.mountsshsock";
/// `source.git.subdir`
pub const SOURCE_GIT_SUBDIR: &str = "source.git.subdir";
/// `source.git.checksum`
pub const SOURCE_GIT_CHECKSUM: &str = "source.git.checksum";
/// `source.git.skipsubmodules`
pub const SOURCE_GIT_SKIP_SUBMODULES: &str = "source.git.skipsubmodules";
/// `source.http`
pub const SOURCE_HTTP: &str = "source.http";
/// `source.http.checksum`
pub const SOURCE_HTTP_CHECKSUM: &str = "source.http.checksum";
/// `source.http.perm`
pub const SOURCE_HTTP_PERM: &str = "source.http.perm";
/// `soruce.http.uidgid`: BuildKit's own (misspelled) id, kept verbatim because it is the protocol.
pub const SOURCE_HTTP_UID_GID: &str = "soruce.http.uidgid";
/// `exec.meta.base`
pub const EXEC_META_BASE: &str = "exec.meta.base";
/// `exec.meta.network`
pub const EXEC_META_NETWORK: &str = "exec.meta.network";
/// `exec.meta.security`
pub const EXEC_META_SECURITY: &str = "exec.meta.security";
/// `exec.mount.bind`
pub const EXEC_MOUNT_BIND: &str = "exec.mount.bind";
/// `exec.mount.cache`
pub const EXEC_MOUNT_CACHE: &str = "exec.mount.cache";
/// `exec.mount.cache.sharing`
pub const EXEC_MOUNT_CACHE_SHARING: &str = "exec.mount.cache.sharing";
/// `exec.mount.selector`
pub const EXEC_MOUNT_SELECTOR: &str = "exec.mount.selector";
/// `exec.mount.tmpfs`
pub const EXEC_MOUNT_TMPFS: &str = "exec.mount.tmpfs";
/// `exec.mount.tmpfs.size`
pub const EXEC_MOUNT_TMPFS_SIZE: &str = "exec.mount.tmpfs.size";
/// `exec.mount.secret`
pub const EXEC_MOUNT_SECRET: &str = "exec.mount.secret";
/// `exec.mount.ssh`
pub const EXEC_MOUNT_SSH: &str = "exec.mount.ssh";
/// `exec.mount.cache.content` (BuildKit 0.13+: a mount's [`crate::ContentCache`] mode)
pub const EXEC_MOUNT_CONTENT_CACHE: &str = "exec.mount.cache.content";
/// `exec.secretenv`
pub const EXEC_SECRET_ENV: &str = "exec.secretenv";
/// `exec.validexitcode`
pub const EXEC_VALID_EXIT_CODE: &str = "exec.validexitcode";
/// `file.base`
pub const FILE_BASE: &str = "file.base";
/// `file.copy.includeexcludepatterns`
pub const FILE_COPY_INCLUDE_EXCLUDE_PATTERNS: &str = "file.copy.includeexcludepatterns";
/// `file.copy.requiredpaths`
pub const FILE_COPY_REQUIRED_PATHS: &str = "file.copy.requiredpaths";
/// `file.copy.alwaysreplaceexistingdestpaths`
pub const FILE_COPY_ALWAYS_REPLACE_EXISTING_DEST_PATHS: &str =
    "file.copy.alwaysreplaceexistingdestpaths";
/// `file.copy.modestring`
pub const FILE_COPY_MODE_STRING: &str = "file.copy.modestring";
/// `file.rm.wildcard`
pub const FILE_RM_WILDCARD: &str = "file.rm.wildcard";
/// `constraints`
pub const CONSTRAINTS: &str = "constraints";
/// `platform`
pub const PLATFORM: &str = "platform";
/// `meta.ignorecache`
pub const META_IGNORE_CACHE: &str = "meta.ignorecache";
/// `meta.description`
pub const META_DESCRIPTION: &str = "meta.description";
/// `meta.exportcache`
pub const META_EXPORT_CACHE: &str = "meta.exportcache";
/// `mergeop`
pub const MERGE_OP: &str = "mergeop";
/// `diffop`
pub const DIFF_OP: &str = "diffop";

/// A sorted set of LLB cap ids, e.g. the caps a definition needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caps(BTreeSet<String>);

impl Caps {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one cap id.
    pub fn insert(&mut self, cap: impl Into<String>) {
        self.0.insert(cap.into());
    }

    /// Whether `cap` is in the set.
    pub fn contains(&self, cap: &str) -> bool {
        self.0.contains(cap)
    }

    /// The ids, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The ids of this set that `supported` lacks (e.g. the caps BuildKit's `Ping` answer did
    /// not list), sorted. Empty means the graph can be solved.
    pub fn missing_from<'a, I>(&self, supported: I) -> Vec<String>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let supported: BTreeSet<&str> = supported.into_iter().collect();
        self.0
            .iter()
            .filter(|cap| !supported.contains(cap.as_str()))
            .cloned()
            .collect()
    }

    /// The underlying set.
    pub fn into_set(self) -> BTreeSet<String> {
        self.0
    }
}

impl<S: Into<String>> FromIterator<S> for Caps {
    fn from_iter<T: IntoIterator<Item = S>>(iter: T) -> Self {
        Self(iter.into_iter().map(Into::into).collect())
    }
}

impl fmt::Display for Caps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for cap in &self.0 {
            if !first {
                f.write_str(",")?;
            }
            f.write_str(cap)?;
            first = false;
        }
        Ok(())
    }
}

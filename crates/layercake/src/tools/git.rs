//! What the images are tagged and labelled with, read from git (as a subprocess: `git` is on
//! every CI runner, and a git library would be a large dependency for four questions).

use std::path::Path;
use std::process::{Command, Stdio};

/// The commit being built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The full commit id.
    pub sha: String,
    /// The tag on HEAD, if HEAD is tagged exactly.
    pub tag: Option<String>,
    /// Commit time, Unix seconds: the reproducible "created" time (not the clock).
    pub time: i64,
    /// The `origin` remote as a browsable https URL, if there is one.
    pub source: Option<String>,
}

/// Reads the HEAD commit of the repository holding `dir`; `None` outside a repository (or
/// without git), where images get only the `latest` tag.
pub fn head_commit(dir: &Path) -> Option<Commit> {
    let sha = git(dir, &["rev-parse", "--verify", "HEAD"])?;
    let time = git(dir, &["log", "-1", "--format=%ct", "HEAD"])?
        .parse()
        .ok()?;
    let tag = git(dir, &["describe", "--tags", "--exact-match", "HEAD"]);
    let source = git(dir, &["config", "--get", "remote.origin.url"]).map(|url| browsable(&url));
    Some(Commit {
        sha,
        tag,
        time,
        source,
    })
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_owned())
}

/// `git@github.com:o/r.git` and `https://user:token@host/o/r.git` → `https://host/o/r`: the
/// label is public, so credentials never go in it.
pub fn browsable(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    let url = url.strip_suffix(".git").unwrap_or(url);
    if let Some(rest) = url.strip_prefix("git@")
        && let Some((host, path)) = rest.split_once(':')
    {
        return format!("https://{host}/{path}");
    }
    for scheme in ["https://", "http://", "ssh://", "git://"] {
        if let Some(rest) = url.strip_prefix(scheme) {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            return format!("https://{host}/{path}");
        }
    }
    url.to_owned()
}

/// A git tag as a Docker tag: `[A-Za-z0-9_.-]`, not starting with `.` or `-`, at most 128.
pub fn docker_tag(text: &str) -> String {
    let mut tag: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    while tag.starts_with(['.', '-']) {
        tag.remove(0);
    }
    tag.truncate(128);
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remotes_become_https_without_credentials() {
        assert_eq!(
            browsable("git@github.com:acme/shop.git"),
            "https://github.com/acme/shop"
        );
        assert_eq!(
            browsable("https://x-access-token:abc@github.com/acme/shop.git"),
            "https://github.com/acme/shop"
        );
        assert_eq!(
            browsable("ssh://git@gitlab.com/acme/shop"),
            "https://gitlab.com/acme/shop"
        );
    }

    #[test]
    fn git_tags_become_docker_tags() {
        assert_eq!(docker_tag("v1.2.3"), "v1.2.3");
        assert_eq!(docker_tag("release/2024+1"), "release-2024-1");
        assert_eq!(docker_tag("-x"), "x");
        assert_eq!(docker_tag(&"a".repeat(200)).len(), 128);
    }
}

//! The build context on disk, read as strictly as the frontend reads it through BuildKit: for
//! `check`, `plan`, `llb`, `dockerfile` and `init`.
//!
//! - Symlinks are resolved inside the context, the way BuildKit resolves them in the context
//!   snapshot it transferred: an absolute target starts at the context root, `..` stops there.
//!   A link to `/etc/passwd` names `<context>/etc/passwd`, which is (almost always) not there,
//!   so nothing outside the context is ever opened, and so never printed.
//! - Only regular files are read: never a device, a FIFO, a socket or a folder.
//! - A file larger than [`MAX_CONTEXT_FILE_BYTES`] is refused; reading stops there.
//! - What `.dockerignore` (or `<spec>.dockerignore`) excludes is not in the context: reading it
//!   is an error naming the file and the rule, as in the frontend.

use std::ffi::OsString;
use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use layercake_plan::{ContextFiles, IgnoreError, IgnoreRules};

use crate::load::MAX_CONTEXT_FILE_BYTES;

/// How many symlinks one path may pass through (Linux's own limit).
const MAX_SYMLINKS: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("`{path}` is not a regular file but {kind}; layercake reads only regular files")]
    NotAFile { path: String, kind: &'static str },
    #[error(
        "`{path}` is larger than {limit} bytes, the limit for a file layercake reads from the context"
    )]
    TooLarge { path: String, limit: usize },
    #[error("`{path}` passes through more than {MAX_SYMLINKS} symlinks")]
    SymlinkLoop { path: String },
    #[error(
        "`{path}` is excluded from the build context by `{pattern}` ({file}:{line}), and the build needs it; remove that line, or add `!{path}` after it"
    )]
    Excluded {
        path: String,
        pattern: String,
        file: String,
        line: u32,
    },
    #[error("cannot read `{path}` in the build context: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Ignore(#[from] IgnoreError),
}

/// A build context folder.
pub struct ContextDir {
    root: PathBuf,
    rules: Option<IgnoreRules>,
}

impl ContextDir {
    /// The context at `root`, with no ignore rules (for `init`, which looks at a project).
    pub fn plain(root: &Path) -> ContextDir {
        ContextDir {
            root: root.to_path_buf(),
            rules: None,
        }
    }

    /// The context at `root` with its ignore rules: `<spec>.dockerignore` beside the spec
    /// when there is one (it wins, as in the frontend), else the context's `.dockerignore`.
    pub fn open(root: &Path, spec: &Path) -> Result<ContextDir, ContextError> {
        let mut context = ContextDir::plain(root);
        let spec_ignore = {
            let mut name = spec.as_os_str().to_owned();
            name.push(".dockerignore");
            PathBuf::from(name)
        };
        let spec_ignore_name = spec_ignore
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (name, text) = match read_regular(&spec_ignore, &spec_ignore_name)? {
            Some(text) => (spec_ignore_name, Some(text)),
            None => (".dockerignore".to_owned(), context.read(".dockerignore")?),
        };
        if let Some(text) = text {
            context.rules = Some(IgnoreRules::parse(&name, &text)?);
        }
        Ok(context)
    }

    /// The exclude patterns for the context transfer, in the order written.
    pub fn excludes(&self) -> Vec<String> {
        self.rules
            .as_ref()
            .map(IgnoreRules::excludes)
            .unwrap_or_default()
    }

    /// The files of `paths` that are there (a reader for [`layercake_plan::gather`]). One of
    /// `optional` that the ignore rules leave out is not there; any other is an error saying so.
    pub fn read_existing(
        &self,
        paths: &[String],
        optional: &std::collections::BTreeSet<String>,
    ) -> Result<ContextFiles, ContextError> {
        let mut found = ContextFiles::new();
        for path in paths {
            let ignored = self.rules.as_ref().is_some_and(|r| r.is_excluded(path));
            if ignored && optional.contains(path) {
                continue;
            }
            if let Some(contents) = self.read(path)? {
                found.insert(path.clone(), contents);
            }
        }
        Ok(found)
    }

    /// The file at `path` (relative to the context), `None` when it is not there.
    pub fn read(&self, path: &str) -> Result<Option<String>, ContextError> {
        if let Some(rules) = &self.rules
            && path != ".dockerignore"
            && let Some(rule) = rules.excluded_by(path)
        {
            return Err(ContextError::Excluded {
                path: path.to_owned(),
                pattern: rule.as_exclude(),
                file: rules.file.clone(),
                line: rule.line,
            });
        }
        match self.resolve(path)? {
            Some(full) => read_regular(&full, path),
            None => Ok(None),
        }
    }

    /// Whether `path` is a file or folder in the context (after the ignore rules).
    pub fn exists(&self, path: &str) -> bool {
        !self.rules.as_ref().is_some_and(|r| r.is_excluded(path))
            && self.resolve(path).ok().flatten().is_some()
    }

    /// Where `path` is once its symlinks are resolved inside the context; `None` when some
    /// part of it is missing.
    fn resolve(&self, path: &str) -> Result<Option<PathBuf>, ContextError> {
        let io = |source| ContextError::Io {
            path: path.to_owned(),
            source,
        };
        // Parts still to walk, the next one last.
        let mut pending: Vec<OsString> = parts(Path::new(path));
        pending.reverse();
        let mut resolved: Vec<OsString> = Vec::new();
        let mut links = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                resolved.pop();
                continue;
            }
            let candidate = self
                .root
                .join(resolved.iter().collect::<PathBuf>())
                .join(&part);
            let meta = match std::fs::symlink_metadata(&candidate) {
                Ok(meta) => meta,
                Err(error) if is_missing(&error) => return Ok(None),
                Err(error) => return Err(io(error)),
            };
            if meta.file_type().is_symlink() {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(ContextError::SymlinkLoop {
                        path: path.to_owned(),
                    });
                }
                let target = std::fs::read_link(&candidate).map_err(io)?;
                if target.has_root() {
                    resolved.clear();
                }
                let mut target_parts = parts(&target);
                target_parts.reverse();
                pending.extend(target_parts);
            } else {
                resolved.push(part);
            }
        }
        Ok(Some(self.root.join(resolved.iter().collect::<PathBuf>())))
    }
}

/// A path's normal parts and `..`s (`.`, roots and prefixes dropped).
fn parts(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_owned()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => None,
        })
        .collect()
}

fn is_missing(error: &std::io::Error) -> bool {
    // ENOTDIR: a part of the path is a file.
    error.kind() == std::io::ErrorKind::NotFound || error.raw_os_error() == Some(20)
}

/// Reads `full` if it is a regular file, within the size limit. `shown` names it in errors.
/// Symlinks at `full` itself are followed (the caller resolved the context ones).
pub fn read_regular(full: &Path, shown: &str) -> Result<Option<String>, ContextError> {
    Ok(read_regular_bytes(full, shown, MAX_CONTEXT_FILE_BYTES)?
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

/// [`read_regular`] as bytes, with its own limit (the spec has a smaller one).
pub fn read_regular_bytes(
    full: &Path,
    shown: &str,
    limit: usize,
) -> Result<Option<Vec<u8>>, ContextError> {
    let io = |source| ContextError::Io {
        path: shown.to_owned(),
        source,
    };
    let meta = match std::fs::metadata(full) {
        Ok(meta) => meta,
        Err(error) if is_missing(&error) => return Ok(None),
        Err(error) => return Err(io(error)),
    };
    check_regular(&meta, shown)?;
    // Opened without blocking, so a FIFO swapped in after the check cannot hang the read; the
    // opened file is checked again.
    let file = open_nonblocking(full).map_err(io)?;
    check_regular(&file.metadata().map_err(io)?, shown)?;
    let mut bytes = Vec::new();
    file.take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > limit {
        return Err(ContextError::TooLarge {
            path: shown.to_owned(),
            limit,
        });
    }
    Ok(Some(bytes))
}

fn check_regular(meta: &std::fs::Metadata, shown: &str) -> Result<(), ContextError> {
    use std::os::unix::fs::FileTypeExt as _;
    let kind = meta.file_type();
    let what = if kind.is_file() {
        return Ok(());
    } else if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "not a file"
    };
    Err(ContextError::NotAFile {
        path: shown.to_owned(),
        kind: what,
    })
}

fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    // O_NONBLOCK; O_NOCTTY: a terminal device never becomes the controlling one.
    const O_NONBLOCK: i32 = 0o4000;
    const O_NOCTTY: i32 = 0o400;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK | O_NOCTTY)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("layercake-ctx-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn symlinks_resolve_inside_the_context() {
        let root = scratch("links");
        std::fs::create_dir_all(root.join("backend")).unwrap();
        std::fs::write(root.join("shared.txt"), "shared").unwrap();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(root.join("etc/hostname"), "inside").unwrap();
        symlink("/etc/passwd", root.join("backend/passwd")).unwrap();
        symlink("/etc/hostname", root.join("backend/hostname")).unwrap();
        symlink("../../../../../../etc/passwd", root.join("backend/climb")).unwrap();
        symlink("../shared.txt", root.join("backend/shared")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        let context = ContextDir::plain(&root);
        assert_eq!(context.read("backend/passwd").unwrap(), None);
        assert_eq!(context.read("backend/climb").unwrap(), None);
        // Absolute targets start at the context root, as in BuildKit's snapshot.
        assert_eq!(
            context.read("backend/hostname").unwrap().as_deref(),
            Some("inside")
        );
        assert_eq!(
            context.read("backend/shared").unwrap().as_deref(),
            Some("shared")
        );
        assert!(matches!(
            context.read("loop"),
            Err(ContextError::SymlinkLoop { .. })
        ));
        assert!(!context.exists("backend/passwd"));
        assert!(context.exists("backend/shared"));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let root = scratch("kinds");
        std::fs::create_dir_all(root.join("dir")).unwrap();
        std::fs::write(root.join("big"), vec![b'x'; MAX_CONTEXT_FILE_BYTES + 1]).unwrap();
        symlink("/dev/zero", root.join("zero")).unwrap();
        let context = ContextDir::plain(&root);
        assert!(matches!(
            context.read("dir"),
            Err(ContextError::NotAFile {
                kind: "a folder",
                ..
            })
        ));
        assert!(matches!(
            context.read("big"),
            Err(ContextError::TooLarge { .. })
        ));
        // `/dev/zero` inside the context root is not there.
        assert_eq!(context.read("zero").unwrap(), None);
        assert!(matches!(
            read_regular(Path::new("/dev/zero"), "zero"),
            Err(ContextError::NotAFile {
                kind: "a device",
                ..
            })
        ));
        let _ = std::fs::remove_dir_all(&root);
    }

    /// A file whose absence is an answer (a probe of what the folder holds) that the rules
    /// leave out is simply not there; a file the build needs is an error naming the rule.
    #[test]
    fn an_ignored_optional_file_is_absent_and_an_ignored_needed_one_an_error() {
        let root = scratch("ignore-optional");
        std::fs::write(root.join(".dockerignore"), "*.lock\n").unwrap();
        std::fs::write(root.join("uv.lock"), "x").unwrap();
        std::fs::write(root.join("requirements.txt"), "x").unwrap();
        std::fs::write(root.join("layercake.yaml"), "x").unwrap();
        let context = ContextDir::open(&root, &root.join("layercake.yaml")).unwrap();
        let paths = ["uv.lock".to_owned(), "requirements.txt".to_owned()];
        let optional: std::collections::BTreeSet<String> = paths.iter().cloned().collect();
        let found = context.read_existing(&paths, &optional).unwrap();
        assert_eq!(found.keys().collect::<Vec<_>>(), ["requirements.txt"]);
        let error = context
            .read_existing(&paths, &Default::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("`uv.lock` is excluded"), "{error}");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn dockerignore_excludes_reads() {
        let root = scratch("ignore");
        std::fs::write(root.join(".dockerignore"), "*\n!app.py\n").unwrap();
        std::fs::write(root.join("app.py"), "x").unwrap();
        std::fs::write(root.join("requirements.txt"), "x").unwrap();
        std::fs::write(root.join("layercake.yaml"), "x").unwrap();
        let context = ContextDir::open(&root, &root.join("layercake.yaml")).unwrap();
        assert_eq!(context.read("app.py").unwrap().as_deref(), Some("x"));
        let error = context.read("requirements.txt").unwrap_err().to_string();
        assert!(
            error.starts_with(
                "`requirements.txt` is excluded from the build context by `*` (.dockerignore:1)"
            ),
            "{error}"
        );
        // `<spec>.dockerignore` wins.
        std::fs::write(root.join("layercake.yaml.dockerignore"), "app.py\n").unwrap();
        let context = ContextDir::open(&root, &root.join("layercake.yaml")).unwrap();
        assert!(context.read("requirements.txt").unwrap().is_some());
        assert!(
            context
                .read("app.py")
                .unwrap_err()
                .to_string()
                .contains("layercake.yaml.dockerignore:1")
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}

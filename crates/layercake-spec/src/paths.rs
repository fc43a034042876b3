//! Relative paths inside the build context. Pure string work: parsing never touches the disk.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path is empty")]
    Empty,
    #[error("`{0}` is absolute; paths here are relative to the service folder")]
    Absolute(String),
    #[error("`{0}` leaves the build context")]
    Escapes(String),
    #[error("`{0}` must be an absolute path (starting with `/`)")]
    NotAbsolute(String),
}

/// Normalizes a relative path: drops `.` and empty segments, folds `name/..`. Leading `..`
/// segments are kept (they may still land inside the context once joined with a base).
pub(crate) fn normalize_relative(path: &str) -> Result<String, PathError> {
    if path.trim().is_empty() {
        return Err(PathError::Empty);
    }
    if path.starts_with('/') || path.starts_with('\\') {
        return Err(PathError::Absolute(path.to_owned()));
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." if segments.last().is_some_and(|last| *last != "..") => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    Ok(if segments.is_empty() {
        ".".to_owned()
    } else {
        segments.join("/")
    })
}

/// `relative` joined onto `base` (both relative to the context root); an error when the result
/// leaves the context.
pub(crate) fn join_checked(base: &str, relative: &str) -> Result<String, PathError> {
    let relative = normalize_relative(relative)?;
    let mut segments: Vec<&str> = base
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    for segment in relative.split('/') {
        match segment {
            "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err(PathError::Escapes(relative.clone()));
                }
            }
            other => segments.push(other),
        }
    }
    Ok(if segments.is_empty() {
        ".".to_owned()
    } else {
        segments.join("/")
    })
}

/// Like [`join_checked`], clamping at the context root instead of failing (for paths that were
/// validated already).
pub(crate) fn join(base: &str, relative: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in base.split('/').chain(relative.split('/')) {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    if segments.is_empty() {
        ".".to_owned()
    } else {
        segments.join("/")
    }
}

/// An absolute path inside an image (workdir, volumes, secret files): must start with `/`.
pub(crate) fn check_absolute(path: &str) -> Result<(), PathError> {
    if path.is_empty() {
        Err(PathError::Empty)
    } else if path.starts_with('/') {
        Ok(())
    } else {
        Err(PathError::NotAbsolute(path.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(normalize_relative("./a//b/./c/").unwrap(), "a/b/c");
        assert_eq!(normalize_relative(".").unwrap(), ".");
        assert_eq!(normalize_relative("a/../b").unwrap(), "b");
        assert_eq!(normalize_relative("a/..").unwrap(), ".");
        assert_eq!(normalize_relative("../x").unwrap(), "../x");
        assert_eq!(normalize_relative("../../x/../y").unwrap(), "../../y");
    }

    #[test]
    fn rejects_absolute_and_empty() {
        assert_eq!(
            normalize_relative("/etc"),
            Err(PathError::Absolute("/etc".into()))
        );
        assert_eq!(normalize_relative(""), Err(PathError::Empty));
        assert_eq!(normalize_relative("  "), Err(PathError::Empty));
    }

    #[test]
    fn join_stays_inside_the_context() {
        assert_eq!(join_checked(".", "app").unwrap(), "app");
        assert_eq!(
            join_checked("backend", "../shared/req.txt").unwrap(),
            "shared/req.txt"
        );
        assert_eq!(join_checked("backend", "..").unwrap(), ".");
        assert_eq!(join_checked("a/b", "../../c").unwrap(), "c");
        assert_eq!(
            join_checked("backend", "../../x"),
            Err(PathError::Escapes("../../x".into()))
        );
        assert_eq!(
            join_checked(".", "../x"),
            Err(PathError::Escapes("../x".into()))
        );
        assert_eq!(
            join_checked("a", "b/../../.."),
            Err(PathError::Escapes("../..".into()))
        );
    }

    #[test]
    fn join_clamps() {
        assert_eq!(
            join("backend", "requirements/prod.txt"),
            "backend/requirements/prod.txt"
        );
        assert_eq!(join(".", "."), ".");
        assert_eq!(join("a", "../../b"), "b");
    }

    #[test]
    fn absolute_paths() {
        assert!(check_absolute("/data").is_ok());
        assert_eq!(
            check_absolute("data"),
            Err(PathError::NotAbsolute("data".into()))
        );
        assert_eq!(check_absolute(""), Err(PathError::Empty));
    }
}

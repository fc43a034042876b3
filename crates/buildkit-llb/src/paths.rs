/// Go's `path.Clean`: lexical cleanup of a slash-separated path.
pub(crate) fn go_path_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            part => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// Go's `path.Join` of two elements.
pub(crate) fn go_path_join(first: &str, second: &str) -> String {
    let joined = match (first.is_empty(), second.is_empty()) {
        (true, true) => return String::new(),
        (true, false) => second.to_owned(),
        (false, true) => first.to_owned(),
        (false, false) => format!("{first}/{second}"),
    };
    go_path_clean(&joined)
}

/// BuildKit's `normalizePath` for file-op paths: cleaned, made absolute under `parent`, and
/// with `keep_slash` a trailing `/` or `/.` kept (it means "into this directory").
pub(crate) fn normalize_file_path(parent: &str, path: &str, keep_slash: bool) -> String {
    let mut cleaned = go_path_clean(path);
    if !cleaned.starts_with('/') {
        cleaned = go_path_join(&go_path_join("/", parent), &cleaned);
    }
    if keep_slash {
        if path.ends_with('/') && !cleaned.ends_with('/') {
            cleaned.push('/');
        } else if path.ends_with("/.") {
            if cleaned != "/" {
                cleaned.push('/');
            }
            cleaned.push('.');
        }
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go() {
        for (input, want) in [
            ("", "."),
            ("/", "/"),
            ("a/b/../c", "a/c"),
            ("/../a", "/a"),
            ("../a", "../a"),
            ("a/../..", ".."),
            ("//a//b/./", "/a/b"),
        ] {
            assert_eq!(go_path_clean(input), want, "{input}");
        }
    }

    #[test]
    fn normalize_keeps_directory_markers() {
        assert_eq!(normalize_file_path("/", "app/", true), "/app/");
        assert_eq!(normalize_file_path("/", "app/", false), "/app");
        assert_eq!(normalize_file_path("/", "/app/.", true), "/app/.");
        assert_eq!(normalize_file_path("/", "/.", true), "/.");
        assert_eq!(normalize_file_path("/work", "x/../y", false), "/work/y");
    }
}

//! Just enough of pip's requirements-file format to know which files a requirements file pulls
//! in (`-r`, `-c`) and whether every requirement is pinned.

/// One logical line of a requirements file (continuations joined, comments removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequirementLine {
    /// `-r other.txt` / `--requirement other.txt`: path as written (relative to this file's folder).
    Include { path: String, line: usize },
    /// `-c constraints.txt` / `--constraint constraints.txt`.
    Constraint { path: String, line: usize },
    /// A requirement specifier, URL or editable; `pinned` when it is `name==version`.
    Requirement {
        text: String,
        name: Option<String>,
        pinned: bool,
        line: usize,
    },
    /// A global option such as `--index-url`, kept as written.
    Option { text: String, line: usize },
}

/// Parses a requirements file into logical lines; `line` numbers are 1-based, of the first
/// physical line.
pub fn parse_requirements(contents: &str) -> Vec<RequirementLine> {
    let mut out = Vec::new();
    let mut pending = String::new();
    let mut start = 0;
    for (index, raw) in contents.lines().enumerate() {
        if pending.is_empty() {
            start = index + 1;
        }
        let without_comment = strip_comment(raw);
        if let Some(head) = without_comment.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(without_comment);
        let logical = pending.trim().to_owned();
        pending.clear();
        if !logical.is_empty() {
            out.push(classify(&logical, start));
        }
    }
    let logical = pending.trim();
    if !logical.is_empty() {
        out.push(classify(logical, start));
    }
    out
}

/// Files a requirements file refers to (`-r`, `-c`), as written.
pub fn referenced_files(contents: &str) -> Vec<String> {
    parse_requirements(contents)
        .into_iter()
        .filter_map(|line| match line {
            RequirementLine::Include { path, .. } | RequirementLine::Constraint { path, .. } => {
                Some(path)
            }
            _ => None,
        })
        .collect()
}

// pip treats `#` as a comment when it starts the line or follows whitespace.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

fn option_value<'a>(logical: &'a str, short: &str, long: &str) -> Option<&'a str> {
    let value = if let Some(rest) = logical.strip_prefix(long) {
        // `--requirement=x` or `--requirement x`; `--requirementx` is something else.
        match rest.strip_prefix('=') {
            Some(value) => value,
            None if rest.starts_with(char::is_whitespace) => rest,
            None => return None,
        }
    } else {
        // pip's option parser also takes `-rfile`.
        let rest = logical.strip_prefix(short)?;
        rest.strip_prefix('=').unwrap_or(rest)
    };
    let value = value.trim();
    (!value.is_empty()).then_some(value)
}

fn classify(logical: &str, line: usize) -> RequirementLine {
    if let Some(path) = option_value(logical, "-r", "--requirement") {
        return RequirementLine::Include {
            path: path.to_owned(),
            line,
        };
    }
    if let Some(path) = option_value(logical, "-c", "--constraint") {
        return RequirementLine::Constraint {
            path: path.to_owned(),
            line,
        };
    }
    if logical.starts_with('-') && !logical.starts_with("-e") && !logical.starts_with("--editable")
    {
        return RequirementLine::Option {
            text: logical.to_owned(),
            line,
        };
    }
    let (name, pinned) = requirement_name_and_pin(logical);
    RequirementLine::Requirement {
        text: logical.to_owned(),
        name,
        pinned,
        line,
    }
}

// `name[extra]==1.2.3 ; marker --hash=sha256:…` → (Some("name"), true).
fn requirement_name_and_pin(logical: &str) -> (Option<String>, bool) {
    if logical.starts_with("-e") || logical.starts_with("--editable") || logical.contains("://") {
        return (None, false);
    }
    let spec = logical
        .split(" --hash")
        .next()
        .unwrap_or(logical)
        .split(';')
        .next()
        .unwrap_or(logical)
        .trim();
    let name_end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .unwrap_or(spec.len());
    let name = &spec[..name_end];
    if name.is_empty() {
        return (None, false);
    }
    let mut rest = spec[name_end..].trim_start();
    if rest.starts_with('[') {
        rest = rest
            .find(']')
            .map_or("", |end| rest[end + 1..].trim_start());
    }
    let pinned = rest
        .strip_prefix("==")
        .map(|version| {
            let version = version.trim();
            !version.is_empty()
                && !version.contains('*')
                && !version.contains(',')
                && !version.starts_with('=')
        })
        .unwrap_or(false);
    (Some(name.to_owned()), pinned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_included_and_constraint_files() {
        let text =
            "-r base.txt\n--requirement=dev/extra.txt\n-c constraints.txt\nfastapi==0.115.0\n";
        assert_eq!(
            referenced_files(text),
            vec!["base.txt", "dev/extra.txt", "constraints.txt"]
        );
    }

    #[test]
    fn pins_extras_markers_hashes_and_continuations() {
        let text = "uvicorn[standard]==0.30.6 ; python_version >= '3.8' \\\n    --hash=sha256:abc\n\
                    requests>=2\nflask==2.*\n# comment\nhttpx == 0.27.2  # trailing\n\
                    git+https://github.com/x/y.git#egg=y\n--index-url https://example/simple\n";
        let lines = parse_requirements(text);
        let pins: Vec<(Option<String>, bool)> = lines
            .iter()
            .filter_map(|l| match l {
                RequirementLine::Requirement { name, pinned, .. } => Some((name.clone(), *pinned)),
                _ => None,
            })
            .collect();
        assert_eq!(
            pins,
            vec![
                (Some("uvicorn".into()), true),
                (Some("requests".into()), false),
                (Some("flask".into()), false),
                (Some("httpx".into()), true),
                (None, false),
            ]
        );
        assert!(matches!(
            lines.last(),
            Some(RequirementLine::Option { line: 8, .. })
        ));
    }
}

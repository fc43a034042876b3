//! pip's requirements-file format, parsed once into typed lines: PEP 508 requirements (parsed by
//! `pep508_rs`, names normalised), their `--hash` options, includes (`-r`, `-c`), direct
//! references (`-e`, URLs, paths) and global options (`--index-url`).
//!
//! A logical line is split the way pip splits it: continuations joined, a `#` at the start or
//! after whitespace starts a comment, and the requirement is every space-separated token before
//! the first one that starts with `-`.

use std::fmt;

use pep508_rs::pep440_rs::{Operator, Version};
use pep508_rs::{MarkerTree, PackageName, VersionOrUrl};
use thiserror::Error;

/// One logical line of a requirements file.
#[derive(Debug, Clone)]
pub struct RequirementLine {
    /// 1-based number of its first physical line.
    pub line: usize,
    pub kind: LineKind,
}

#[derive(Debug, Clone)]
pub enum LineKind {
    /// `-r other.txt` / `--requirement other.txt`: path as written (relative to this file's folder).
    Include(String),
    /// `-c constraints.txt` / `--constraint constraints.txt`.
    Constraint(String),
    /// A PEP 508 requirement by name (`fastapi>=0.100 ; python_version < "3.13"`).
    Requirement(Requirement),
    /// An editable, a URL or a local path: pip installs it as written, it has no version to pin.
    Direct(String),
    /// A global option such as `--index-url`, kept as written.
    Option(String),
}

/// A requirement by name, as one line of one file wrote it.
#[derive(Debug, Clone)]
pub struct Requirement {
    /// The requirements file (context-relative) and the line it is on.
    pub file: String,
    pub line: usize,
    /// The logical line as written, `--hash` options and markers included.
    pub text: String,
    pub name: PackageName,
    /// `Some` when the line pins one version (`==1.2.3` or `===1.2.3`, no wildcard).
    pub pin: Option<Version>,
    pub marker: MarkerTree,
    /// The line's `--hash=algo:digest` values.
    pub hashes: Vec<String>,
}

impl Requirement {
    /// The line without its `--hash` options: what installs from built wheels (a wheel built
    /// from an sdist never matches the sdist's hash, which the wheel step checked).
    pub fn unhashed(&self) -> &str {
        self.text.split(" --hash").next().unwrap_or("").trim()
    }

    /// `name==version` for step names and messages (the line itself when it pins nothing).
    pub fn shown(&self) -> String {
        match &self.pin {
            Some(version) => format!("{}=={version}", self.name),
            None => self.unhashed().to_owned(),
        }
    }

    /// Where the line is, for messages: `backend/requirements.txt:12`.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// A line pip would refuse, with its position.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub struct RequirementsError {
    pub file: String,
    pub line: usize,
    /// 1-based character column in that line.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for RequirementsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// A parsed requirements file.
#[derive(Debug, Clone)]
pub struct RequirementsFile {
    pub lines: Vec<RequirementLine>,
    /// Its header says a locking tool wrote it (pip-compile, uv, PDM): the file is a complete
    /// closure for the environment it was compiled for, not a list of top-level wishes.
    pub generated_lock: bool,
}

impl RequirementsFile {
    /// Parses `contents` of the context-relative `file`.
    pub fn parse(file: &str, contents: &str) -> Result<RequirementsFile, RequirementsError> {
        let mut lines = Vec::new();
        for (number, column, logical) in logical_lines(contents) {
            if let Some(kind) = classify(file, number, column, &logical)? {
                lines.push(RequirementLine { line: number, kind });
            }
        }
        Ok(RequirementsFile {
            lines,
            generated_lock: is_generated_lock(contents),
        })
    }

    /// Files it refers to (`-r`, `-c`), as written, in the order written.
    pub fn referenced_files(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().filter_map(|line| match &line.kind {
            LineKind::Include(path) | LineKind::Constraint(path) => Some(path.as_str()),
            _ => None,
        })
    }

    pub fn requirements(&self) -> impl Iterator<Item = &Requirement> {
        self.lines.iter().filter_map(|line| match &line.kind {
            LineKind::Requirement(requirement) => Some(requirement),
            _ => None,
        })
    }
}

/// The header comment the locking tools write at the top of their output.
fn is_generated_lock(contents: &str) -> bool {
    contents
        .lines()
        .take_while(|line| line.trim_start().starts_with('#') || line.trim().is_empty())
        .any(|line| {
            let line = line.to_ascii_lowercase();
            line.contains("autogenerated by pip-compile")
                || line.contains("autogenerated by uv")
                || line.contains("@generated by pdm")
        })
}

/// `(first physical line, column of its first character, logical line)` for every non-empty
/// logical line: continuations joined, comments removed.
fn logical_lines(contents: &str) -> Vec<(usize, usize, String)> {
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
        push_logical(&mut out, start, &pending);
        pending.clear();
    }
    push_logical(&mut out, start, &pending);
    out
}

fn push_logical(out: &mut Vec<(usize, usize, String)>, line: usize, text: &str) {
    let trimmed = text.trim();
    if !trimmed.is_empty() {
        let column = text.chars().take_while(|c| c.is_whitespace()).count() + 1;
        out.push((line, column, trimmed.to_owned()));
    }
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

fn classify(
    file: &str,
    line: usize,
    column: usize,
    logical: &str,
) -> Result<Option<LineKind>, RequirementsError> {
    if let Some(path) = option_value(logical, "-r", "--requirement") {
        return Ok(Some(LineKind::Include(path.to_owned())));
    }
    if let Some(path) = option_value(logical, "-c", "--constraint") {
        return Ok(Some(LineKind::Constraint(path.to_owned())));
    }
    if logical.starts_with("-e") || logical.starts_with("--editable") {
        return Ok(Some(LineKind::Direct(logical.to_owned())));
    }
    if logical.starts_with('-') {
        return Ok(Some(LineKind::Option(logical.to_owned())));
    }
    // pip: the requirement is the tokens before the first option token.
    let mut spec_end = logical.len();
    let mut offset = 0;
    for token in logical.split(' ') {
        if token.starts_with('-') {
            spec_end = offset;
            break;
        }
        offset += token.len() + 1;
    }
    let spec = logical[..spec_end.min(logical.len())].trim();
    let options = &logical[spec_end.min(logical.len())..];
    if is_direct_reference(spec) {
        return Ok(Some(LineKind::Direct(logical.to_owned())));
    }
    let parsed = spec
        .parse::<pep508_rs::Requirement>()
        .map_err(|error| RequirementsError {
            file: file.to_owned(),
            line,
            column: column + spec[..error.start.min(spec.len())].chars().count(),
            message: format!("`{spec}` is not a requirement: {}", error.message),
        })?;
    if matches!(parsed.version_or_url, Some(VersionOrUrl::Url(_))) {
        return Ok(Some(LineKind::Direct(logical.to_owned())));
    }
    let pin = match &parsed.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specifiers)) => match specifiers.as_ref() {
            [only] if matches!(only.operator(), Operator::Equal | Operator::ExactEqual) => {
                Some(only.version().clone())
            }
            _ => None,
        },
        _ => None,
    };
    let hashes = hash_options(options);
    Ok(Some(LineKind::Requirement(Requirement {
        file: file.to_owned(),
        line,
        text: logical.to_owned(),
        name: parsed.name,
        pin,
        marker: parsed.marker,
        hashes,
    })))
}

/// A URL, a path or an archive name: pip installs these as written (`./pkg`, `git+https://…`,
/// `pkg.whl`).
fn is_direct_reference(spec: &str) -> bool {
    let head = spec.split(';').next().unwrap_or(spec).trim();
    head.contains("://")
        || head.starts_with('.')
        || head.starts_with('/')
        || head.starts_with('~')
        || head.ends_with(".whl")
        || head.ends_with(".tar.gz")
        || head.ends_with(".zip")
}

/// `--hash=sha256:…` / `--hash sha256:…` values of a line's option part.
fn hash_options(options: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut tokens = options.split_whitespace();
    while let Some(token) = tokens.next() {
        if let Some(value) = token.strip_prefix("--hash=") {
            hashes.push(value.to_owned());
        } else if token == "--hash"
            && let Some(value) = tokens.next()
        {
            hashes.push(value.to_owned());
        }
    }
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> RequirementsFile {
        match RequirementsFile::parse("req.txt", text) {
            Ok(parsed) => parsed,
            Err(error) => unreachable!("{error}"),
        }
    }

    #[test]
    fn finds_included_and_constraint_files_in_order() {
        let text =
            "-r base.txt\n--requirement=dev/extra.txt\n-c constraints.txt\nfastapi==0.115.0\n";
        let parsed = parse(text);
        let files: Vec<&str> = parsed.referenced_files().collect();
        assert_eq!(files, vec!["base.txt", "dev/extra.txt", "constraints.txt"]);
    }

    #[test]
    fn pins_extras_markers_hashes_and_continuations() {
        let text = "uvicorn[standard]==0.30.6 ; python_version >= '3.8' \\\n    --hash=sha256:abc\n\
                    requests>=2\nflask==2.*\n# comment\nHTTPX == 0.27.2  # trailing\n\
                    git+https://github.com/x/y.git#egg=y\n--index-url https://example/simple\n\
                    Pydantic_Core===2.1\n";
        let parsed = parse(text);
        let pins: Vec<(String, Option<String>)> = parsed
            .requirements()
            .map(|r| (r.name.to_string(), r.pin.as_ref().map(ToString::to_string)))
            .collect();
        assert_eq!(
            pins,
            vec![
                ("uvicorn".into(), Some("0.30.6".into())),
                ("requests".into(), None),
                ("flask".into(), None),
                ("httpx".into(), Some("0.27.2".into())),
                ("pydantic-core".into(), Some("2.1".into())),
            ]
        );
        let uvicorn = parsed.requirements().next();
        assert_eq!(
            uvicorn.map(|r| r.hashes.clone()),
            Some(vec!["sha256:abc".to_owned()])
        );
        assert_eq!(
            uvicorn.map(Requirement::unhashed),
            Some("uvicorn[standard]==0.30.6 ; python_version >= '3.8'")
        );
        assert!(parsed.lines.iter().any(|l| matches!(
            &l.kind,
            LineKind::Direct(text) if text.starts_with("git+")
        )));
        assert!(
            parsed
                .lines
                .iter()
                .any(|l| l.line == 8 && matches!(l.kind, LineKind::Option(_)))
        );
    }

    #[test]
    fn a_line_pip_would_refuse_is_an_error_with_its_column() {
        let error = RequirementsFile::parse("api/requirements.txt", "ok==1\n  fastapi>=>1\n")
            .err()
            .map(|e| (e.line, e.column, e.to_string()));
        let Some((line, column, text)) = error else {
            unreachable!("parsed")
        };
        assert_eq!(line, 2);
        assert!(column > 3, "column {column}");
        assert!(text.starts_with("api/requirements.txt:2:"), "{text}");
    }

    #[test]
    fn markers_are_parsed_and_disjointness_is_known() {
        let parsed = parse(
            "numpy==1.26.4 ; python_version < '3.12'\nnumpy==2.1.3 ; python_version >= '3.12'\n",
        );
        let numpys: Vec<&Requirement> = parsed.requirements().collect();
        assert_eq!(numpys.len(), 2);
        assert!(numpys[0].marker.is_disjoint(&numpys[1].marker));
    }

    #[test]
    fn lock_headers_are_recognised() {
        assert!(
            parse("#\n# This file is autogenerated by pip-compile with Python 3.11\nsix==1\n")
                .generated_lock
        );
        assert!(parse("# This file was autogenerated by uv via the following command:\n#    uv pip compile\nsix==1\n").generated_lock);
        assert!(!parse("six==1\n# autogenerated by pip-compile\n").generated_lock);
    }
}

use std::fmt;

use crate::location::Location;

/// What is wrong, without where. [`SpecError`] adds the file, position and snippet.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    #[error("the spec is {size} bytes; the limit is {limit} bytes (1 MiB)")]
    TooLarge { size: usize, limit: usize },
    #[error("cannot read the spec: {reason}")]
    Encoding { reason: String },
    #[error("invalid YAML: {message}")]
    Yaml { message: String },
    #[error("the spec is empty: it needs at least a `services:` mapping")]
    Empty,
    #[error("the spec must be a mapping (`key: value` lines) at the top level, found {found}")]
    NotAMapping { found: &'static str },
    #[error("unknown key `{key}` {context}{}", did_you_mean(suggestion.as_deref()))]
    UnknownKey {
        key: String,
        context: String,
        suggestion: Option<String>,
    },
    #[error("duplicate key `{key}` {context} (first given on line {first_line})")]
    DuplicateKey {
        key: String,
        context: String,
        first_line: u32,
    },
    #[error("missing required key `{key}` {context}")]
    MissingKey { key: String, context: String },
    #[error("`{key}` {context} must be {expected}, found {found}")]
    WrongType {
        key: String,
        context: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("invalid `{key}` {context}: {reason}")]
    InvalidValue {
        key: String,
        context: String,
        reason: String,
    },
    #[error("the spec has no services")]
    NoServices,
    #[error(
        "invalid service name `{name}`: service names are `--target` names, so they must match \
         `^[a-z][a-z0-9_-]{{0,62}}$`"
    )]
    InvalidServiceName { name: String },
    #[error("service `{service}` must have exactly one of `python` or `node`, {found}")]
    ServiceKind {
        service: String,
        found: &'static str,
    },
    #[error("`{key}` is only for {allowed} services, and `{service}` is a {kind} service")]
    WrongServiceKind {
        key: &'static str,
        service: String,
        allowed: &'static str,
        kind: &'static str,
    },
    #[error("unknown service `{name}` {context}{}", did_you_mean(suggestion.as_deref()))]
    UnknownService {
        name: String,
        context: String,
        suggestion: Option<String>,
    },
    #[error("`{name}` {context} is a python service; assets can only come from node services")]
    AssetNotNode { name: String, context: String },
    #[error("`${{{name}}}` {context} is not a declared build arg{}", did_you_mean(suggestion.as_deref()))]
    UndeclaredArg {
        name: String,
        context: String,
        suggestion: Option<String>,
    },
    #[error("bad interpolation {context}: {reason}")]
    Interpolation { context: String, reason: String },
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" (did you mean `{s}`?)"))
}

/// One problem in a spec, with where it is. `Display` renders it the way rustc does:
///
/// ```text
/// error: unknown key `pyhton` in service `api` (did you mean `python`?)
///  --> layercake.yaml:5:5
///   |
/// 5 |     pyhton:
///   |     ^^^^^^
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError(Box<Inner>);

// Boxed: errors travel in `Result`s, and the happy path shouldn't pay for their size.
#[derive(Debug, Clone, PartialEq)]
struct Inner {
    file: String,
    location: Option<Location>,
    kind: ErrorKind,
    help: Option<String>,
    snippet: Option<Snippet>,
}

#[derive(Debug, Clone, PartialEq)]
struct Snippet {
    line_text: String,
    width: usize,
}

impl SpecError {
    pub(crate) fn new(file: &str, location: Option<Location>, kind: ErrorKind) -> Self {
        Self(Box::new(Inner {
            file: file.to_owned(),
            location,
            kind,
            help: None,
            snippet: None,
        }))
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.0.help = Some(help.into());
        self
    }

    /// Copies the offending line out of `text`, underlining `width` characters.
    pub(crate) fn with_snippet(mut self, text: &str, width: usize) -> Self {
        if let Some(location) = self.0.location {
            let index = usize::try_from(location.line.saturating_sub(1)).unwrap_or(usize::MAX);
            if let Some(line_text) = text.lines().nth(index) {
                self.0.snippet = Some(Snippet {
                    line_text: line_text.trim_end().to_owned(),
                    width: width.max(1),
                });
            }
        }
        self
    }

    /// The spec's file name, as given to [`crate::parse`].
    pub fn file(&self) -> &str {
        &self.0.file
    }

    /// Where the problem is; `None` for whole-file problems (too large).
    pub fn location(&self) -> Option<Location> {
        self.0.location
    }

    /// 1-based line, when the problem has a position.
    pub fn line(&self) -> Option<u32> {
        self.0.location.map(|l| l.line)
    }

    /// 1-based column (in characters), when the problem has a position.
    pub fn column(&self) -> Option<u32> {
        self.0.location.map(|l| l.column)
    }

    /// The one-line message, without position or snippet.
    /// The message, one line, with control, bidi and invisible characters escaped.
    pub fn message(&self) -> String {
        crate::text::shown(&self.0.kind.to_string()).into_owned()
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// An extra hint on how to fix it, if there is one.
    pub fn help(&self) -> Option<&str> {
        self.0.help.as_deref()
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Inner {
            file,
            location,
            kind,
            help,
            snippet,
        } = &*self.0;
        // Values quoted in a message are shown escaped: a spec cannot hide text or send
        // terminal sequences through an error.
        let kind = crate::text::shown(&kind.to_string()).into_owned();
        let help = help.as_deref().map(crate::text::shown);
        let file = crate::text::shown(file);
        write!(f, "error: {kind}")?;
        let Some(location) = location else {
            write!(f, "\n --> {file}")?;
            if let Some(help) = help {
                write!(f, "\n  = help: {help}")?;
            }
            return Ok(());
        };
        let number = location.line.to_string();
        let pad = " ".repeat(number.len());
        write!(f, "\n{pad}--> {file}:{}:{}", location.line, location.column)?;
        if let Some(snippet) = snippet {
            let column = usize::try_from(location.column.saturating_sub(1)).unwrap_or(0);
            let (shown, column) = snippet_window(&snippet.line_text, column);
            // Tabs keep their width in the marker line so the caret lines up.
            let lead: String = shown
                .chars()
                .take(column)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let rest = shown.chars().count().saturating_sub(column);
            let width = snippet.width.min(rest).max(1);
            write!(f, "\n{pad} |")?;
            write!(f, "\n{number} | {shown}")?;
            write!(f, "\n{pad} | {lead}{}", "^".repeat(width))?;
        }
        if let Some(help) = help {
            write!(f, "\n{pad} |\n{pad} = help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecError {}

/// Lines longer than this are cut around the error, so a minified or hostile spec cannot
/// flood the terminal (or BuildKit's progress output) with one line.
const SNIPPET_MAX_CHARS: usize = 100;
/// How much of the line before the error column stays visible in a cut line.
const SNIPPET_CONTEXT_BEFORE: usize = 40;

/// The part of `line` to print and the error column within it. Control characters become
/// U+FFFD (one column each, so the caret stays aligned): a spec must not be able to send
/// terminal escape sequences through an error message.
fn snippet_window(line: &str, column: usize) -> (String, usize) {
    let clean = |c: char| {
        if c != '\t' && crate::text::shown(c.encode_utf8(&mut [0; 4])).len() != c.len_utf8() {
            '\u{fffd}'
        } else {
            c
        }
    };
    let total = line.chars().count();
    if total <= SNIPPET_MAX_CHARS {
        return (line.chars().map(clean).collect(), column);
    }
    let start = column
        .saturating_sub(SNIPPET_CONTEXT_BEFORE)
        .min(total.saturating_sub(SNIPPET_MAX_CHARS));
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    shown.extend(line.chars().skip(start).take(SNIPPET_MAX_CHARS).map(clean));
    if start.saturating_add(SNIPPET_MAX_CHARS) < total {
        shown.push('…');
    }
    let shift = usize::from(start > 0);
    (shown, column.saturating_sub(start).saturating_add(shift))
}

/// All the problems found in one spec, in file order (at least one).
#[derive(Debug, Clone, PartialEq)]
pub struct SpecErrors(Vec<SpecError>);

impl SpecErrors {
    pub(crate) fn new(mut errors: Vec<SpecError>) -> Self {
        // File order reads best; the sort is stable so same-place errors keep their order.
        errors.sort_by_key(|e| e.0.location.unwrap_or_default());
        Self(errors)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, SpecError> {
        self.0.iter()
    }

    /// The first problem in file order.
    pub fn first(&self) -> Option<&SpecError> {
        self.0.first()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<SpecError> {
        self.0
    }
}

impl From<SpecError> for SpecErrors {
    fn from(error: SpecError) -> Self {
        Self(vec![error])
    }
}

impl IntoIterator for SpecErrors {
    type Item = SpecError;
    type IntoIter = std::vec::IntoIter<SpecError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a SpecErrors {
    type Item = &'a SpecError;
    type IntoIter = std::slice::Iter<'a, SpecError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            error.fmt(f)?;
        }
        if self.0.len() > 1 {
            write!(f, "\n\nerror: {} problems in the spec", self.0.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

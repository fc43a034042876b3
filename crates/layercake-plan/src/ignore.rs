//! `.dockerignore` as Docker means it: the rules apply in the order written, the last rule that
//! matches a path decides, and `!` re-includes. A rule matches a path when it matches the path
//! itself or one of its parent folders (so `docs` leaves out everything under `docs/`).
//!
//! Pattern syntax (moby's): `*` any run of characters but `/`, `?` one character but `/`,
//! `[a-z]` / `[^a-z]` a class, `\` makes the next character literal, `**` any number of
//! folders (`**/x`, `a/**/b`, `a/**`). Patterns are rooted at the context (`*.md` is
//! `README.md`, not `docs/x.md`); a leading `/` and `./` are dropped, `a/../b` is `b`.
//!
//! The same rules go to BuildKit (in order: its file sync applies them the same way) and decide
//! here whether a file the plan reads is in the context at all.

use std::collections::BTreeMap;

use thiserror::Error;

/// A `.dockerignore` that cannot be used, with where.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}:{line}:{column}: {reason}")]
pub struct IgnoreError {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub reason: String,
}

/// One rule: a line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreRule {
    /// 1-based line in the file it came from.
    pub line: u32,
    /// `!`: the rule re-includes what it matches.
    pub negated: bool,
    /// The pattern as BuildKit takes it (cleaned, no leading `/`, without the `!`).
    pub pattern: String,
    tokens: Vec<Token>,
}

impl IgnoreRule {
    /// The rule as BuildKit's exclude list wants it.
    pub fn as_exclude(&self) -> String {
        if self.negated {
            format!("!{}", self.pattern)
        } else {
            self.pattern.clone()
        }
    }

    /// Whether the pattern matches `path` itself (not its parents).
    fn matches_exactly(&self, path: &str) -> bool {
        let chars: Vec<char> = path.chars().collect();
        Matcher {
            tokens: &self.tokens,
            text: &chars,
            memo: BTreeMap::new(),
        }
        .at(0, 0)
    }

    /// Whether the pattern matches `path` or one of its parent folders (moby's
    /// "matches or parent matches").
    pub fn matches(&self, path: &str) -> bool {
        if self.matches_exactly(path) {
            return true;
        }
        let mut end = 0;
        while let Some(slash) = path[end..].find('/') {
            end += slash;
            if self.matches_exactly(&path[..end]) {
                return true;
            }
            end += 1;
        }
        false
    }
}

/// The rules of one `.dockerignore`, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreRules {
    /// The file they came from, for messages.
    pub file: String,
    pub rules: Vec<IgnoreRule>,
}

impl IgnoreRules {
    /// Parses `.dockerignore` text. Lines starting with `#` are comments, blank lines are
    /// skipped, surrounding white space is trimmed; a pattern that cannot match anything the
    /// way it is written (an unclosed `[`, a lone `!`) is an error at its line.
    pub fn parse(file: &str, text: &str) -> Result<IgnoreRules, IgnoreError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rules = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
            if raw.starts_with('#') {
                continue;
            }
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                continue;
            }
            let column = u32::try_from(raw.len() - raw.trim_start().len() + 1).unwrap_or(1);
            let error = |reason: String| IgnoreError {
                file: file.to_owned(),
                line,
                column,
                reason,
            };
            let (negated, pattern) = match trimmed.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, trimmed),
            };
            if pattern.is_empty() {
                return Err(error("`!` alone is not a pattern".to_owned()));
            }
            let pattern = clean(pattern);
            let tokens = compile(&pattern).map_err(|reason| {
                error(format!("`{}`: {reason}", layercake_spec::shown(trimmed)))
            })?;
            rules.push(IgnoreRule {
                line,
                negated,
                pattern,
                tokens,
            });
        }
        Ok(IgnoreRules {
            file: file.to_owned(),
            rules,
        })
    }

    /// The patterns for BuildKit, in the order written (`!` kept).
    pub fn excludes(&self) -> Vec<String> {
        self.rules.iter().map(IgnoreRule::as_exclude).collect()
    }

    /// The rule that leaves `path` (relative to the context) out, if the last rule matching it
    /// excludes it.
    pub fn excluded_by(&self, path: &str) -> Option<&IgnoreRule> {
        let path = clean(path);
        self.rules
            .iter()
            .rev()
            .find(|rule| rule.matches(&path))
            .filter(|rule| !rule.negated)
    }

    pub fn is_excluded(&self, path: &str) -> bool {
        self.excluded_by(path).is_some()
    }
}

/// Lexical cleaning as Go's `filepath.Clean`, then no leading `/`.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(last) if *last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return if rooted { "/".into() } else { ".".into() };
    }
    parts.join("/")
}

/// A literal path as a pattern that matches exactly it: `*`, `?`, `[`, `]` and `\` escaped.
/// Paths the spec names (`path`, requirement files, …) are paths, not patterns, wherever
/// BuildKit takes patterns (include patterns, follow paths).
pub fn literal_pattern(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `*`: any run of characters but `/`.
    Star,
    /// `?`: one character but `/`.
    One,
    /// `[...]`: one character in (or, negated, not in) the ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// `**/` (or `**` before more pattern): nothing, or any path ending in `/`.
    Folders,
    /// `**` at the end: anything.
    Rest,
}

fn compile(pattern: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                tokens.push(if i >= chars.len() {
                    Token::Rest
                } else {
                    Token::Folders
                });
                continue;
            }
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::One),
            '\\' => match chars.get(i + 1) {
                Some(c) => {
                    tokens.push(Token::Char(*c));
                    i += 1;
                }
                None => tokens.push(Token::Char('\\')),
            },
            '[' => {
                let (token, next) = class(&chars, i + 1)?;
                tokens.push(token);
                i = next;
                continue;
            }
            c => tokens.push(Token::Char(c)),
        }
        i += 1;
    }
    Ok(tokens)
}

/// A class starting after its `[`; returns it and the index after its `]`.
fn class(chars: &[char], start: usize) -> Result<(Token, usize), String> {
    let mut i = start;
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let literal = |i: &mut usize| -> Result<char, String> {
        let c = *chars.get(*i).ok_or("`[` is never closed")?;
        *i += 1;
        if c == '\\' {
            let escaped = *chars.get(*i).ok_or("`[` is never closed")?;
            *i += 1;
            Ok(escaped)
        } else {
            Ok(c)
        }
    };
    loop {
        match chars.get(i) {
            None => return Err("`[` is never closed".to_owned()),
            Some(']') if !ranges.is_empty() => break,
            Some(']') => return Err("`[]` is an empty class".to_owned()),
            Some(_) => {
                let low = literal(&mut i)?;
                let high = if chars.get(i) == Some(&'-') && chars.get(i + 1) != Some(&']') {
                    i += 1;
                    literal(&mut i)?
                } else {
                    low
                };
                if high < low {
                    return Err(format!("`{low}-{high}` is not a range"));
                }
                ranges.push((low, high));
            }
        }
    }
    Ok((Token::Class { negated, ranges }, i + 1))
}

struct Matcher<'a> {
    tokens: &'a [Token],
    text: &'a [char],
    memo: BTreeMap<(usize, usize), bool>,
}

impl Matcher<'_> {
    fn at(&mut self, t: usize, s: usize) -> bool {
        if let Some(known) = self.memo.get(&(t, s)) {
            return *known;
        }
        let result = self.step(t, s);
        self.memo.insert((t, s), result);
        result
    }

    fn step(&mut self, t: usize, s: usize) -> bool {
        let Some(token) = self.tokens.get(t) else {
            return s == self.text.len();
        };
        let here = self.text.get(s).copied();
        match token {
            Token::Rest => true,
            Token::Char(c) => here == Some(*c) && self.at(t + 1, s + 1),
            Token::One => here.is_some_and(|c| c != '/') && self.at(t + 1, s + 1),
            Token::Class { negated, ranges } => {
                here.is_some_and(|c| {
                    ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
                }) && self.at(t + 1, s + 1)
            }
            Token::Star => {
                let mut k = s;
                loop {
                    if self.at(t + 1, k) {
                        return true;
                    }
                    match self.text.get(k) {
                        Some(c) if *c != '/' => k += 1,
                        _ => return false,
                    }
                }
            }
            Token::Folders => {
                if self.at(t + 1, s) {
                    return true;
                }
                (s..self.text.len())
                    .filter(|k| self.text[*k] == '/')
                    .collect::<Vec<_>>()
                    .into_iter()
                    .any(|k| self.at(t + 1, k + 1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str) -> IgnoreRule {
        IgnoreRules::parse(".dockerignore", pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .rules
            .remove(0)
    }

    /// The pattern semantics of moby's pattern matcher, case by case (the cases are its test
    /// table's meaning, written here: a pattern, a path, whether the pattern itself matches).
    #[test]
    fn patterns_mean_what_they_mean_in_docker() {
        let cases: &[(&str, &str, bool)] = &[
            ("**", "file", true),
            ("**", "dir/file", true),
            ("**/", "dir/file", true),
            ("**/file", "file", true),
            ("**/file", "dir/file", true),
            ("**/file", "dir/dir/file", true),
            ("**/file", "dir/dir/file.txt", false),
            ("**/file*", "dir/dir/file.txt", true),
            ("**/file*txt", "dir/dir/file.txt", true),
            ("**/file*.txt", "dir/dir/file.txt", true),
            ("**/**/*.txt", "dir/dir/file.txt", true),
            ("**/**/*.txt2", "dir/dir/file.txt", false),
            ("**/*.txt", "file.txt", true),
            ("**/**/*.txt", "file.txt", true),
            ("a**/*.txt", "a/file.txt", true),
            ("a**/*.txt", "a/dir/file.txt", true),
            ("a**/*.txt", "a/dir/dir/file.txt", true),
            ("a/*.txt", "a/dir/file.txt", false),
            ("a/*.txt", "a/file.txt", true),
            ("a/*.txt**", "a/file.txt", true),
            ("a[b-d]e", "ae", false),
            ("a[b-d]e", "ace", true),
            ("a[b-d]e", "aae", false),
            ("a[^b-d]e", "aze", true),
            (".*", ".foo", true),
            (".*", "foo", false),
            ("abc.def", "abcdef", false),
            ("abc.def", "abc.def", true),
            ("abc.def", "abcZdef", false),
            ("abc?def", "abcZdef", true),
            ("abc?def", "abcdef", false),
            ("a\\\\", "a\\", true),
            ("**/foo/bar", "foo/bar", true),
            ("**/foo/bar", "dir/foo/bar", true),
            ("**/foo/bar", "dir/dir2/foo/bar", true),
            ("abc/**", "abc", false),
            ("abc/**", "abc/def", true),
            ("abc/**", "abc/def/ghi", true),
            ("**/.foo", ".foo", true),
            ("**/.foo", "bar.foo", false),
            ("a(b)c/def", "a(b)c/def", true),
            ("a(b)c/def", "a(b)c/xyz", false),
            ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
            (
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                true,
            ),
            ("dir/**/file", "dir/file", true),
            ("dir/**/file", "dir/a/b/file", true),
            ("dir/**/file", "dirx/file", false),
            ("abc", "abc", true),
            ("*", "abc", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*", "abc", true),
            ("a*", "ab/c", false),
            ("a*/b", "abc/b", true),
            ("a*/b", "a/c/b", false),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
            ("a*b?c*x", "abxbbxdbxebxczzx", true),
            ("a*b?c*x", "abxbbxdbxebxczzy", false),
            ("ab[c]", "abc", true),
            ("ab[b-d]", "abc", true),
            ("ab[e-g]", "abc", false),
            ("ab[^c]", "abc", false),
            ("ab[^b-d]", "abc", false),
            ("ab[^e-g]", "abc", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "ab", false),
            ("a?b", "a☺b", true),
            ("a[^a]b", "a☺b", true),
            ("a???b", "a☺b", false),
            ("a[^a][^a][^a]b", "a☺b", false),
            ("[a-ζ]*", "α", true),
            ("*[a-ζ]", "A", false),
            ("a?b", "a/b", false),
            ("a*b", "a/b", false),
            ("[\\]a]", "]", true),
            ("[\\-]", "-", true),
            ("[x\\-]", "x", true),
            ("[x\\-]", "-", true),
            ("[x\\-]", "z", false),
            ("[\\-x]", "x", true),
            ("[\\-x]", "-", true),
            ("[\\-x]", "a", false),
            ("*x", "xxx", true),
            ("web[1]", "web1", true),
            ("web\\[1\\]", "web[1]", true),
            ("web\\[1\\]", "web1", false),
            // Rooted at the context: `*.md` is not `docs/x.md`.
            ("*.md", "docs/x.md", false),
            ("/app.py", "app.py", true),
            ("./app.py", "app.py", true),
            ("a/../b", "b", true),
        ];
        for (pattern, path, want) in cases {
            assert_eq!(
                rule(pattern).matches_exactly(path),
                *want,
                "pattern `{pattern}` on `{path}`"
            );
        }
    }

    #[test]
    fn literal_patterns_match_exactly_their_path() {
        for path in [
            "web[1]",
            "a*b",
            "what?",
            "back\\slash",
            "plain/path.txt",
            "[",
            "**",
        ] {
            let pattern = literal_pattern(path);
            let rule = rule(&pattern);
            assert!(rule.matches_exactly(path), "{path} as {pattern}");
        }
        assert!(!rule(&literal_pattern("web[1]")).matches_exactly("web1"));
        assert!(!rule(&literal_pattern("*")).matches_exactly("app.py"));
        assert_eq!(literal_pattern("backend/req.txt"), "backend/req.txt");
    }

    #[test]
    fn bad_patterns_are_errors_at_their_line() {
        for pattern in ["[", "[^", "[^bc", "a[", "[]a]", "[z-a]"] {
            let text = format!("# comment\nok\n  {pattern}\n");
            let error = IgnoreRules::parse(".dockerignore", &text).unwrap_err();
            assert_eq!((error.line, error.column), (3, 3), "{pattern}: {error}");
            assert!(
                error.to_string().starts_with(".dockerignore:3:3: "),
                "{error}"
            );
        }
        let error = IgnoreRules::parse(".dockerignore", "a\n!\n").unwrap_err();
        assert_eq!(error.line, 2);
    }

    fn excluded(text: &str, path: &str) -> bool {
        IgnoreRules::parse(".dockerignore", text)
            .unwrap()
            .is_excluded(path)
    }

    #[test]
    fn rules_apply_in_order_and_the_last_match_wins() {
        // An allowlist: everything out, then the one file back in.
        let allow = "*\n!app.py\n";
        assert!(!excluded(allow, "app.py"));
        assert!(excluded(allow, "other.py"));
        assert!(
            excluded(allow, "sub/app.py"),
            "`*` matches the folder `sub`"
        );
        // The same lines the other way round: `*` comes last and wins.
        assert!(excluded("!app.py\n*\n", "app.py"));
        // A folder out, one file of it back in.
        let docs = "docs\n!docs/README.md\n";
        assert!(!excluded(docs, "docs/README.md"));
        assert!(excluded(docs, "docs/other.md"));
        assert!(excluded(docs, "docs/sub/README.md"));
        // Out, in, out again.
        let nested = "a\n!a/b\na/b/c\n";
        assert!(excluded(nested, "a/x"));
        assert!(!excluded(nested, "a/b/d"));
        assert!(excluded(nested, "a/b/c"));
        assert!(excluded(nested, "a/b/c/d"));
        // `**` at any depth, a re-include under it.
        let pyc = "**/*.pyc\n!keep/*.pyc\n";
        assert!(excluded(pyc, "x.pyc"));
        assert!(excluded(pyc, "a/b/x.pyc"));
        assert!(!excluded(pyc, "keep/x.pyc"));
        assert!(excluded(pyc, "keep/sub/x.pyc"));
    }

    #[test]
    fn comments_blank_lines_and_spaces() {
        let text =
            "\u{feff}# comment\n\n  node_modules  \n/dist\n!dist/keep.txt\n**/__pycache__\n \t\n";
        let rules = IgnoreRules::parse(".dockerignore", text).unwrap();
        assert_eq!(
            rules.excludes(),
            ["node_modules", "dist", "!dist/keep.txt", "**/__pycache__"]
        );
        assert_eq!(rules.rules[1].line, 4);
        // Only a `#` in the first column starts a comment, as in Docker.
        assert_eq!(IgnoreRules::parse("f", " #x\n").unwrap().excludes(), ["#x"]);
        let rule = IgnoreRules::parse("f", "a\ndist\n").unwrap();
        assert_eq!(rule.excluded_by("dist/x/y").map(|r| r.line), Some(2));
        assert_eq!(rule.excluded_by("./dist"), rule.rules.get(1));
        assert_eq!(rule.excluded_by("b"), None);
    }
}

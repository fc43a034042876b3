//! `${VAR}`, `${VAR:-default}` and `$$` in the string values that allow them.

use std::collections::BTreeMap;

use crate::location::{Location, Spanned};

/// Why a value could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolateError {
    #[error("{reason}")]
    Syntax { location: Location, reason: String },
    #[error("`${{{name}}}` is not a declared build arg")]
    Undeclared { location: Location, name: String },
}

impl InterpolateError {
    /// The location of the value that holds the bad reference.
    pub fn location(&self) -> Location {
        match self {
            Self::Syntax { location, .. } | Self::Undeclared { location, .. } => *location,
        }
    }
}

/// One piece of a value: text, or a reference to a build arg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    Text(&'a str),
    Arg {
        name: &'a str,
        default: Option<&'a str>,
    },
}

/// Splits a value into text and `${...}` references. `$$` is a literal `$`; a `$` not followed by
/// `{` or `$` is kept as is (so `$HOME` in a shell command passes through to the shell).
pub(crate) fn pieces(value: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(dollar) = rest.find('$') {
        let (text, tail) = rest.split_at(dollar);
        if !text.is_empty() {
            out.push(Piece::Text(text));
        }
        if let Some(after) = tail.strip_prefix("$$") {
            out.push(Piece::Text("$"));
            rest = after;
        } else if let Some(body) = tail.strip_prefix("${") {
            let close = body.find('}').ok_or_else(|| {
                format!("`{tail}` has no closing `}}` (write `$$` for a literal `$`)")
            })?;
            let inner = &body[..close];
            let (name, default) = match inner.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (inner, None),
            };
            if !is_arg_name(name) {
                let shown = format!("${{{inner}}}");
                return Err(
                    if name.contains(':') || name.contains('-') || name.contains('?') {
                        format!(
                            "`{shown}`: only `${{NAME}}` and `${{NAME:-default}}` are supported"
                        )
                    } else {
                        format!("`{shown}`: `{name}` is not a valid build arg name")
                    },
                );
            }
            out.push(Piece::Arg { name, default });
            rest = &body[close + 1..];
        } else {
            out.push(Piece::Text("$"));
            rest = &tail[1..];
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

/// A build arg name: a letter or `_`, then letters, digits and `_`.
pub(crate) fn is_arg_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Expands `${VAR}`, `${VAR:-default}` and `$$` in `value`.
///
/// A name takes its value from `args` (the build args given to the build), else from its
/// `declared` default. `${VAR:-default}` uses `default` when that value is missing or empty.
/// `${VAR}` naming an arg that is neither declared nor given a default is an error at the value.
pub fn interpolate(
    value: &Spanned<String>,
    args: &BTreeMap<String, String>,
    declared: &BTreeMap<String, Spanned<String>>,
) -> Result<String, InterpolateError> {
    let mut out = String::with_capacity(value.value.len());
    for piece in checked_pieces(value)? {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Arg { name, default } => {
                out.push_str(&arg_value(value, name, default, args, declared)?);
            }
        }
    }
    Ok(out)
}

/// Expands a shell-form script the way a shell receives a Dockerfile `ARG`: as a value, never
/// as script text. Each `${NAME}` / `${NAME:-default}` becomes the positional parameter
/// `${N}` and its value the N-th argument; `$$` becomes the `$` the shell sees. The values
/// are quoted or not by the script as written (`"${NAME}"` stays one word, like `"$NAME"`).
pub fn interpolate_shell(
    value: &Spanned<String>,
    args: &BTreeMap<String, String>,
    declared: &BTreeMap<String, Spanned<String>>,
) -> Result<(String, Vec<String>), InterpolateError> {
    let mut script = String::with_capacity(value.value.len());
    let mut values: Vec<String> = Vec::new();
    for piece in checked_pieces(value)? {
        match piece {
            Piece::Text(text) => script.push_str(text),
            Piece::Arg { name, default } => {
                values.push(arg_value(value, name, default, args, declared)?);
                script.push_str(&format!("${{{}}}", values.len()));
            }
        }
    }
    Ok((script, values))
}

fn checked_pieces(value: &Spanned<String>) -> Result<Vec<Piece<'_>>, InterpolateError> {
    pieces(&value.value).map_err(|reason| InterpolateError::Syntax {
        location: value.location,
        reason,
    })
}

/// The value of one reference: the given build arg, else its declared default, else the
/// reference's own `:-default` (which also replaces an empty value).
fn arg_value(
    value: &Spanned<String>,
    name: &str,
    default: Option<&str>,
    args: &BTreeMap<String, String>,
    declared: &BTreeMap<String, Spanned<String>>,
) -> Result<String, InterpolateError> {
    let found = args
        .get(name)
        .map(String::as_str)
        .or_else(|| declared.get(name).map(|d| d.value.as_str()));
    let chosen = match (found, default) {
        (Some(""), Some(d)) => d,
        (Some(v), _) => v,
        (None, Some(d)) => d,
        (None, None) => {
            return Err(InterpolateError::Undeclared {
                location: value.location,
                name: name.to_owned(),
            });
        }
    };
    if chosen.contains('\0') {
        return Err(InterpolateError::Syntax {
            location: value.location,
            reason: format!("the value of build arg `{name}` holds a NUL character"),
        });
    }
    Ok(chosen.to_owned())
}

/// The build arg names a value refers to, in order of appearance (repeats kept once).
pub fn referenced_args(value: &Spanned<String>) -> Result<Vec<String>, InterpolateError> {
    let pieces = pieces(&value.value).map_err(|reason| InterpolateError::Syntax {
        location: value.location,
        reason,
    })?;
    let mut names: Vec<String> = Vec::new();
    for piece in pieces {
        if let Piece::Arg { name, .. } = piece
            && !names.iter().any(|n| n == name)
        {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spanned(s: &str) -> Spanned<String> {
        Spanned::new(s.to_owned(), Location::new(3, 7))
    }

    fn declared(pairs: &[(&str, &str)]) -> BTreeMap<String, Spanned<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), spanned(v)))
            .collect()
    }

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn expands_declared_defaults_and_given_args() {
        let declared = declared(&[("API_URL", "/api"), ("V", "dev")]);
        let none = given(&[]);
        assert_eq!(
            interpolate(&spanned("${API_URL}/x"), &none, &declared).unwrap(),
            "/api/x"
        );
        let args = given(&[("V", "1.2")]);
        assert_eq!(
            interpolate(&spanned("app:${V}"), &args, &declared).unwrap(),
            "app:1.2"
        );
    }

    #[test]
    fn defaults_apply_when_missing_or_empty() {
        let declared = declared(&[("EMPTY", "")]);
        let none = given(&[]);
        assert_eq!(
            interpolate(&spanned("${LOG:-info}"), &none, &declared).unwrap(),
            "info"
        );
        assert_eq!(
            interpolate(&spanned("${EMPTY:-x}"), &none, &declared).unwrap(),
            "x"
        );
        assert_eq!(
            interpolate(&spanned("${EMPTY}"), &none, &declared).unwrap(),
            ""
        );
        let args = given(&[("LOG", "debug")]);
        assert_eq!(
            interpolate(&spanned("${LOG:-info}"), &args, &declared).unwrap(),
            "debug"
        );
        assert_eq!(
            interpolate(&spanned("${X:-}"), &none, &declared).unwrap(),
            ""
        );
        assert_eq!(
            interpolate(&spanned("${X:-a:-b}"), &none, &declared).unwrap(),
            "a:-b"
        );
    }

    #[test]
    fn dollars() {
        let none = given(&[]);
        let declared = declared(&[]);
        assert_eq!(
            interpolate(&spanned("$$HOME"), &none, &declared).unwrap(),
            "$HOME"
        );
        assert_eq!(
            interpolate(&spanned("echo $HOME $"), &none, &declared).unwrap(),
            "echo $HOME $"
        );
        assert_eq!(
            interpolate(&spanned("$${X}"), &none, &declared).unwrap(),
            "${X}"
        );
        assert_eq!(
            interpolate(&spanned("a$$$$b"), &none, &declared).unwrap(),
            "a$$b"
        );
        assert_eq!(
            interpolate(&spanned("plain"), &none, &declared).unwrap(),
            "plain"
        );
    }

    #[test]
    fn undeclared_is_an_error_at_the_value() {
        let err = interpolate(
            &spanned("${API_ULR}"),
            &given(&[]),
            &declared(&[("API_URL", "")]),
        )
        .unwrap_err();
        assert_eq!(
            err,
            InterpolateError::Undeclared {
                location: Location::new(3, 7),
                name: "API_ULR".into()
            }
        );
        // A given build arg still satisfies an undeclared name.
        assert_eq!(
            interpolate(&spanned("${X}"), &given(&[("X", "1")]), &declared(&[])).unwrap(),
            "1"
        );
    }

    #[test]
    fn syntax_errors() {
        let none = given(&[]);
        let declared = declared(&[]);
        for bad in ["${X", "${}", "${1X}", "${X:?err}", "${X-d}", "${a b}"] {
            let err = interpolate(&spanned(bad), &none, &declared).unwrap_err();
            assert!(
                matches!(err, InterpolateError::Syntax { .. }),
                "{bad}: {err:?}"
            );
            assert_eq!(err.location(), Location::new(3, 7));
        }
    }

    #[test]
    fn lists_referenced_args() {
        let names = referenced_args(&spanned("${A}-${B:-x}-$${C}-${A}")).unwrap();
        assert_eq!(names, vec!["A".to_string(), "B".to_string()]);
    }
}

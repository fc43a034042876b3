//! The value kinds sections share: strings, lists, maps, booleans, ports, durations, commands,
//! versions, images.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::duration::parse_duration;
use crate::error::ErrorKind;
use crate::location::Spanned;
use crate::model::Command;
use crate::text::{config_text_problem, shown, value_problem};
use crate::yaml::{Node, Value};

use super::checker::Checker;
use super::context::Ctx;

impl Checker<'_> {
    /// A string; plain numbers and booleans are taken as written (`8000` → `"8000"`).
    pub(super) fn string(&mut self, node: &Node, key: &str, ctx: &Ctx) -> Option<Spanned<String>> {
        match (&node.value, &node.raw) {
            (Value::Str(s), _) => {
                // NUL ends a string in argv, env and most files: what ran would not be this.
                if let Some(problem) = value_problem(s) {
                    self.invalid(node, key, ctx, problem);
                    return None;
                }
                Some(Spanned::new(s.clone(), node.location))
            }
            (Value::Bool(_) | Value::Int(_) | Value::Float(_), Some(raw)) => {
                Some(Spanned::new(raw.clone(), node.location))
            }
            _ => {
                self.wrong_type(node, key, ctx, "a string");
                None
            }
        }
    }

    pub(super) fn nonempty_string(
        &mut self,
        node: &Node,
        key: &str,
        ctx: &Ctx,
    ) -> Option<Spanned<String>> {
        let value = self.string(node, key, ctx)?;
        if value.value.trim().is_empty() {
            self.invalid(node, key, ctx, "it is empty");
            return None;
        }
        Some(value)
    }

    pub(super) fn bool(&mut self, node: &Node, key: &str, ctx: &Ctx) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.wrong_type(node, key, ctx, "`true` or `false`");
                None
            }
        }
    }

    /// A list of strings; with `single`, one string alone counts as a list of one.
    pub(super) fn string_list(
        &mut self,
        node: &Node,
        key: &str,
        ctx: &Ctx,
        single: bool,
    ) -> Vec<Spanned<String>> {
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| self.nonempty_string(item, &format!("{key}[{i}]"), ctx))
                .collect(),
            Value::Str(_) if single => self.nonempty_string(node, key, ctx).into_iter().collect(),
            _ => {
                let expected = if single {
                    "a string or a list of strings"
                } else {
                    "a list of strings"
                };
                self.wrong_type(node, key, ctx, expected);
                Vec::new()
            }
        }
    }

    pub(super) fn string_map(
        &mut self,
        node: &Node,
        key: &str,
        parent: &Ctx,
    ) -> BTreeMap<String, Spanned<String>> {
        let inner = parent.child(key);
        let mut out = BTreeMap::new();
        let Some(fields) = self.fields(node, key, parent, &inner, None, &|_| None) else {
            return out;
        };
        for (name, key_node, value) in fields.entries {
            // Env names and label keys land in the image config as they are.
            if let Some(problem) = config_text_problem(name) {
                self.invalid(
                    key_node,
                    key,
                    parent,
                    format!("`{}` is not a valid name: {problem}", shown(name)),
                );
                continue;
            }
            // An environment variable name has no `=` and no white space (no shell and no
            // Dockerfile `ENV` could name it).
            let env_like = key != "labels";
            if name.is_empty()
                || name.contains('=')
                || env_like && name.contains(char::is_whitespace)
            {
                self.invalid(
                    key_node,
                    key,
                    parent,
                    format!("`{name}` is not a valid name"),
                );
                continue;
            }
            if let Some(v) = self.string(value, name, &inner) {
                out.insert(name.to_owned(), v);
            }
        }
        out
    }

    pub(super) fn port(&mut self, node: &Node, key: &str, ctx: &Ctx) -> Option<Spanned<u16>> {
        match node.value {
            Value::Int(n) => match u16::try_from(n) {
                Ok(port) if port > 0 => Some(Spanned::new(port, node.location)),
                _ => {
                    self.invalid(node, key, ctx, format!("{n} is not a port (1 to 65535)"));
                    None
                }
            },
            Value::Str(ref s) if s.parse::<u16>().is_ok() => {
                self.report_help(
                    node,
                    ErrorKind::WrongType {
                        key: key.to_owned(),
                        context: ctx.describe(),
                        expected: "an integer",
                        found: node.kind_name(),
                    },
                    format!("write it without quotes: `{key}: {s}`"),
                );
                None
            }
            _ => {
                self.wrong_type(node, key, ctx, "an integer");
                None
            }
        }
    }

    pub(super) fn duration(&mut self, node: &Node, key: &str, ctx: &Ctx) -> Option<Duration> {
        match &node.value {
            Value::Str(s) => match parse_duration(s) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.invalid(node, key, ctx, e.to_string());
                    None
                }
            },
            Value::Int(n) => {
                self.report_help(
                    node,
                    ErrorKind::WrongType {
                        key: key.to_owned(),
                        context: ctx.describe(),
                        expected: "a duration with a unit",
                        found: node.kind_name(),
                    },
                    format!("write the unit, like `{key}: {n}s`"),
                );
                None
            }
            _ => {
                self.wrong_type(node, key, ctx, "a duration like `30s`");
                None
            }
        }
    }

    pub(super) fn command(&mut self, node: &Node, key: &str, ctx: &Ctx) -> Option<Command> {
        match &node.value {
            Value::Str(_) => self.nonempty_string(node, key, ctx).map(Command::Shell),
            Value::Seq(items) if items.is_empty() => {
                self.invalid(node, key, ctx, "the list is empty");
                None
            }
            Value::Seq(items) => {
                let mut args = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    args.push(self.string(item, &format!("{key}[{i}]"), ctx)?);
                }
                Some(Command::Exec(args))
            }
            _ => {
                self.wrong_type(
                    node,
                    key,
                    ctx,
                    "a list (exec form) or a string (shell form)",
                );
                None
            }
        }
    }

    pub(super) fn version(&mut self, node: &Node, ctx: &Ctx) -> Option<Spanned<String>> {
        match &node.value {
            Value::Str(s) => {
                if is_version(s) {
                    Some(Spanned::new(s.clone(), node.location))
                } else {
                    self.invalid(
                        node,
                        "version",
                        ctx,
                        format!("`{s}` is not a version: use digits and dots, like \"3.11\""),
                    );
                    None
                }
            }
            Value::Int(_) | Value::Float(_) => {
                let raw = node.raw.clone().unwrap_or_default();
                let read_as = match node.value {
                    Value::Float(f) if f.to_string() != raw => {
                        format!(" (YAML reads `{raw}` as the number {f})")
                    }
                    _ => String::new(),
                };
                self.report_help(
                    node,
                    ErrorKind::WrongType {
                        key: "version".to_owned(),
                        context: ctx.describe(),
                        expected: "a quoted string",
                        found: "a number",
                    },
                    format!("quote it: `version: \"{raw}\"`{read_as}"),
                );
                None
            }
            _ => {
                self.wrong_type(node, "version", ctx, "a quoted string like \"3.11\"");
                None
            }
        }
    }

    pub(super) fn image(&mut self, node: &Node, key: &str, ctx: &Ctx) -> Option<Spanned<String>> {
        let value = self.nonempty_string(node, key, ctx)?;
        if value.value.chars().any(char::is_whitespace) {
            self.invalid(
                node,
                key,
                ctx,
                format!("`{}` is not an image reference", value.value),
            );
            return None;
        }
        Some(value)
    }
}

/// Digits and dots, one to three parts: `3`, `3.11`, `3.11.9`.
fn is_version(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() <= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for ok in ["3", "3.11", "3.11.9", "18", "20.10.0"] {
            assert!(is_version(ok), "{ok}");
        }
        for bad in [
            "",
            "3.",
            ".3",
            "3..1",
            "3.11.9.1",
            "v3",
            "3.11-slim",
            "latest",
            "3.x",
        ] {
            assert!(!is_version(bad), "{bad}");
        }
    }
}

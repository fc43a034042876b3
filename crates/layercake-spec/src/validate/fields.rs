//! A mapping's entries: string keys, no duplicates, no unknown keys (with "did you mean").

use crate::error::ErrorKind;
use crate::yaml::{Node, Value};

use super::checker::Checker;
use super::context::Ctx;
use super::suggest::closest;

/// A mapping's entries, keyed by their (string) key.
pub(super) struct Fields<'n> {
    pub(super) entries: Vec<(&'n str, &'n Node, &'n Node)>,
}

impl<'n> Fields<'n> {
    pub(super) fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }

    pub(super) fn key(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, k, _)| *k)
    }
}

impl Checker<'_> {
    /// The entries of a mapping with string keys, reporting duplicates and keys not in
    /// `allowed`. `hint` may explain an unknown key better than "did you mean".
    pub(super) fn fields<'n>(
        &mut self,
        node: &'n Node,
        key: &str,
        parent: &Ctx,
        inner: &Ctx,
        allowed: Option<&[&str]>,
        hint: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Fields<'n>> {
        let Value::Map(map) = &node.value else {
            self.wrong_type(node, key, parent, "a mapping");
            return None;
        };
        let mut entries: Vec<(&'n str, &'n Node, &'n Node)> = Vec::new();
        for (k, v) in map {
            let Value::Str(name) = &k.value else {
                self.report(
                    k,
                    ErrorKind::WrongType {
                        key: k.raw.clone().unwrap_or_else(|| "?".to_owned()),
                        context: inner.describe(),
                        expected: "a string key",
                        found: k.kind_name(),
                    },
                );
                continue;
            };
            if let Some((_, first, _)) = entries.iter().find(|(n, _, _)| *n == name.as_str()) {
                let first_line = first.location.line;
                self.report(
                    k,
                    ErrorKind::DuplicateKey {
                        key: name.clone(),
                        context: inner.describe(),
                        first_line,
                    },
                );
                continue;
            }
            if let Some(allowed) = allowed
                && !allowed.contains(&name.as_str())
            {
                let kind = ErrorKind::UnknownKey {
                    key: name.clone(),
                    context: inner.describe(),
                    suggestion: closest(name, allowed.iter().copied()),
                };
                match hint(name) {
                    Some(help) => self.report_help(k, kind, help),
                    None => self.report(k, kind),
                }
                continue;
            }
            entries.push((name.as_str(), k, v));
        }
        Some(Fields { entries })
    }
}

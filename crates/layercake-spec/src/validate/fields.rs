//! A mapping's entries: string keys, no duplicates, no unknown keys (with "did you mean").

use crate::error::ErrorKind;
use crate::keys::Section;
use crate::yaml::{Node, Value};

use super::checker::Checker;
use super::context::Ctx;
use super::suggest::closest;

/// A mapping's entries, keyed by their (string) key.
pub(super) struct Fields<'n> {
    pub(super) entries: Vec<(&'n str, &'n Node, &'n Node)>,
    section: Option<&'static Section>,
}

impl<'n> Fields<'n> {
    pub(super) fn get(&self, key: &str) -> Option<&'n Node> {
        self.described(key);
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }

    pub(super) fn key(&self, key: &str) -> Option<&'n Node> {
        self.described(key);
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, k, _)| *k)
    }

    /// Validation asks a section only for keys of its description (`keys.rs`): a key missing
    /// there would be refused as unknown before it could ever be read.
    fn described(&self, key: &str) {
        debug_assert!(
            self.section.is_none_or(|section| section.has(key)),
            "`{key}` is not in its section in keys.rs"
        );
    }
}

impl Checker<'_> {
    /// The entries of a mapping with string keys, reporting duplicates and, when the mapping is
    /// a `section`, the keys it does not take (its free keys aside). `hint` may explain an
    /// unknown key better than "did you mean".
    pub(super) fn fields<'n>(
        &mut self,
        node: &'n Node,
        key: &str,
        parent: &Ctx,
        inner: &Ctx,
        section: Option<&'static Section>,
        hint: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Fields<'n>> {
        let Value::Map(map) = &node.value else {
            self.wrong_type(node, key, parent, "a mapping");
            return None;
        };
        // The free keys written here are suggestions too, before the section's own.
        let free: Vec<&'n str> = match section.and_then(|s| s.free_prefix) {
            Some(prefix) => map
                .iter()
                .filter_map(|(k, _)| match &k.value {
                    Value::Str(s) if s.starts_with(prefix) => Some(s.as_str()),
                    _ => None,
                })
                .collect(),
            None => Vec::new(),
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
            if let Some(section) = section
                && !section.has(name)
                && !free.contains(&name.as_str())
            {
                let kind = ErrorKind::UnknownKey {
                    key: name.clone(),
                    context: inner.describe(),
                    suggestion: closest(
                        name,
                        free.iter()
                            .copied()
                            .chain(section.names().map(|n| -> &'n str { n })),
                    ),
                };
                match hint(name) {
                    Some(help) => self.report_help(k, kind, help),
                    None => self.report(k, kind),
                }
                continue;
            }
            entries.push((name.as_str(), k, v));
        }
        Some(Fields { entries, section })
    }
}

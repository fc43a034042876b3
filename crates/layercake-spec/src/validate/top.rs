//! The top level: `# syntax=`, `services:`, `args:` and `default:`.

use std::collections::BTreeMap;

use crate::error::{ErrorKind, SpecError};
use crate::interpolate::is_arg_name;
use crate::keys;
use crate::location::Spanned;
use crate::model::Spec;
use crate::yaml::{Node, Value};

use super::checker::Checker;
use super::context::Ctx;
use super::suggest::{closest, misspelt};

impl Checker<'_> {
    pub(super) fn spec(&mut self, root: &Node) -> Spec {
        let mut spec = Spec {
            file: self.file.to_owned(),
            syntax: syntax_directive(self.text),
            default: None,
            args: BTreeMap::new(),
            services: Vec::new(),
        };
        match &root.value {
            Value::Map(_) => {}
            Value::Null => {
                self.errors.push(
                    SpecError::new(self.file, None, ErrorKind::Empty)
                        .with_help("start from `services:` with one service; see docs/spec.md"),
                );
                return spec;
            }
            _ => {
                let found = root.kind_name();
                self.report(root, ErrorKind::NotAMapping { found });
                return spec;
            }
        }
        let top = Ctx::default();
        let hint = |key: &str| {
            if keys::SERVICE.has(key) || key == "version" {
                Some(format!(
                    "`{key}` belongs to a service: `services: {{ NAME: {{ {key}: ... }} }}`"
                ))
            } else {
                Some("the top level has `services:`, `args:` and `default:`".to_owned())
            }
        };
        let Some(fields) = self.fields(root, "spec", &top, &top, Some(&keys::TOP), &hint) else {
            return spec;
        };

        if let Some(args) = fields.get("args") {
            spec.args = self.args(args);
        }
        match fields.get("services") {
            Some(services) => spec.services = self.services(services, fields.key("services")),
            None if misspelt(root, &["services"]) => {}
            None => self.errors.push(
                self.at_location(
                    root.location,
                    ErrorKind::MissingKey {
                        key: "services".to_owned(),
                        context: top.describe(),
                    },
                )
                .with_help("every spec needs `services:` with at least one service"),
            ),
        }
        if let Some(default) = fields.get("default")
            && let Some(name) = self.nonempty_string(default, "default", &top)
        {
            if !spec.services.is_empty() && spec.service(&name.value).is_none() {
                let suggestion = closest(&name.value, spec.service_names());
                self.report(
                    default,
                    ErrorKind::UnknownService {
                        name: name.value.clone(),
                        context: "in `default`".to_owned(),
                        suggestion,
                    },
                );
            }
            spec.default = Some(name);
        }
        self.check_assets(&spec);
        self.check_interpolation(&spec);
        spec
    }

    fn args(&mut self, node: &Node) -> BTreeMap<String, Spanned<String>> {
        let top = Ctx::default();
        let ctx = top.child("args");
        let mut out = BTreeMap::new();
        let Some(fields) = self.fields(node, "args", &top, &ctx, None, &|_| None) else {
            return out;
        };
        for (name, key, value) in fields.entries {
            if !is_arg_name(name) {
                self.invalid(
                    key,
                    "args",
                    &top,
                    format!("`{name}` is not a build arg name (letters, digits and `_`)"),
                );
                continue;
            }
            // `NAME:` with no value declares the arg with an empty default.
            let default = match value.value {
                Value::Null => Some(Spanned::new(String::new(), value.location)),
                _ => self.string(value, name, &ctx),
            };
            if let Some(default) = default {
                out.insert(name.to_owned(), default);
            }
        }
        out
    }
}

/// The `# syntax=` directive among the leading comment lines, as BuildKit reads it.
fn syntax_directive(text: &str) -> Option<String> {
    for line in text.lines() {
        let Some(comment) = line.trim_start().strip_prefix('#') else {
            break;
        };
        if let Some((key, value)) = comment.split_once('=')
            && key.trim().eq_ignore_ascii_case("syntax")
        {
            let value = value.trim();
            return (!value.is_empty()).then(|| value.to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_line() {
        assert_eq!(
            syntax_directive("# syntax=layercake:dev\nservices: {}\n").as_deref(),
            Some("layercake:dev")
        );
        assert_eq!(
            syntax_directive("# a comment\n#syntax = img:1 \nx: 1").as_deref(),
            Some("img:1")
        );
        assert_eq!(syntax_directive("services: {}\n# syntax=x"), None);
    }
}

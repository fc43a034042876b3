//! Path values: relative paths that stay in the build context, include/exclude patterns,
//! absolute paths.

use crate::error::ErrorKind;
use crate::location::Spanned;
use crate::paths::{PathError, check_absolute, join_checked, normalize_relative};
use crate::text::{config_text_problem, shown};
use crate::yaml::{Node, Value};

use super::checker::Checker;
use super::context::Ctx;

impl Checker<'_> {
    /// A relative path under the service folder; returned normalized (as written, relative to
    /// the folder), checked to stay in the context once joined with `base`.
    pub(super) fn relative_path(
        &mut self,
        node: &Node,
        key: &str,
        ctx: &Ctx,
        base: &str,
    ) -> Option<Spanned<String>> {
        let value = self.string(node, key, ctx)?;
        self.check_relative(node, key, ctx, base, &value.value)
            .map(|normalized| Spanned::new(normalized, value.location))
    }

    pub(super) fn check_relative(
        &mut self,
        node: &Node,
        key: &str,
        ctx: &Ctx,
        base: &str,
        path: &str,
    ) -> Option<String> {
        // A path lands in copies, mounts, step names and Dockerfile lines as it is.
        if let Some(problem) = config_text_problem(path) {
            self.invalid(node, key, ctx, problem);
            return None;
        }
        let result = normalize_relative(path).and_then(|normalized| {
            join_checked(base, &normalized)
                .map(|_| normalized)
                .map_err(|_| PathError::Escapes(path.to_owned()))
        });
        match result {
            Ok(normalized) => Some(normalized),
            Err(e) => {
                let help = (base != "." && matches!(e, PathError::Escapes(_)))
                    .then(|| format!("it is relative to the service folder `{base}`"));
                let kind = ErrorKind::InvalidValue {
                    key: key.to_owned(),
                    context: ctx.describe(),
                    reason: e.to_string(),
                };
                match help {
                    Some(help) => self.report_help(node, kind, help),
                    None => self.report(node, kind),
                }
                None
            }
        }
    }

    /// Include/exclude patterns: relative, globs allowed, `!` negation allowed in excludes.
    pub(super) fn patterns(
        &mut self,
        node: &Node,
        key: &str,
        ctx: &Ctx,
        base: &str,
    ) -> Vec<Spanned<String>> {
        let items = self.string_list(node, key, ctx, false);
        let mut out = Vec::new();
        let nodes: Vec<&Node> = match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ => Vec::new(),
        };
        for (item, item_node) in items.into_iter().zip(nodes) {
            let (negated, pattern) = match item.value.strip_prefix('!') {
                Some(rest) if key == "exclude" => (true, rest),
                _ => (false, item.value.as_str()),
            };
            if let Some(normalized) = self.check_relative(item_node, key, ctx, base, pattern) {
                // The patterns filter the copy of the service folder: one that climbs out of
                // it could match nothing there, and the copy would silently miss the file.
                if normalized == ".." || normalized.starts_with("../") {
                    let kind = ErrorKind::InvalidValue {
                        key: key.to_owned(),
                        context: ctx.describe(),
                        reason: format!(
                            "`{}` climbs out of the service folder `{base}`, and `{key}` only \
                             filters what is copied from that folder",
                            shown(&item.value)
                        ),
                    };
                    self.report_help(
                        item_node,
                        kind,
                        "set `path` to a folder holding both, and list what the service needs \
                         under `include`",
                    );
                    continue;
                }
                let value = if negated {
                    format!("!{normalized}")
                } else {
                    normalized
                };
                out.push(Spanned::new(value, item.location));
            }
        }
        out
    }

    pub(super) fn absolute_path(
        &mut self,
        node: &Node,
        key: &str,
        ctx: &Ctx,
    ) -> Option<Spanned<String>> {
        let value = self.string(node, key, ctx)?;
        if let Some(problem) = config_text_problem(&value.value) {
            self.invalid(node, key, ctx, problem);
            return None;
        }
        match check_absolute(&value.value) {
            Ok(()) => Some(value),
            Err(e) => {
                self.invalid(node, key, ctx, e.to_string());
                None
            }
        }
    }
}

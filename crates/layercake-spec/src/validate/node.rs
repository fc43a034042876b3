//! `node:`.

use crate::keys;
use crate::location::Spanned;
use crate::model::{NodeSpec, NpmInstall};
use crate::yaml::Node;

use super::checker::Checker;
use super::context::Ctx;
use super::services::move_out_hint;

impl Checker<'_> {
    pub(super) fn node(&mut self, node: &Node, service: &Ctx, base: &str) -> Option<NodeSpec> {
        let ctx = service.child("node");
        let hint = |key: &str| move_out_hint(key, "node");
        let fields = self.fields(node, "node", service, &ctx, Some(&keys::NODE), &hint)?;
        // Defaults for this section point at the section.
        let owner = node.location;
        let version = match fields.get("version") {
            Some(v) => self.version(v, &ctx),
            None => {
                self.missing(node, "version", &ctx, "like `version: \"22\"`");
                None
            }
        };
        let image = match fields.get("image") {
            Some(n) => self.image(n, "image", &ctx),
            None => version
                .as_ref()
                .map(|v| Spanned::new(format!("node:{}", v.value), v.location)),
        };
        let install = match fields.get("install") {
            Some(n) => match self
                .string(n, "install", &ctx)
                .as_deref()
                .map(String::as_str)
            {
                Some("ci") => NpmInstall::Ci,
                Some("install") => NpmInstall::Install,
                Some(other) => {
                    let reason = format!("`{other}` is neither `ci` nor `install`");
                    self.invalid(n, "install", &ctx, reason);
                    NpmInstall::Ci
                }
                None => NpmInstall::Ci,
            },
            None => NpmInstall::Ci,
        };
        let install_flags = fields
            .get("install_flags")
            .map(|n| self.string_list(n, "install_flags", &ctx, false))
            .unwrap_or_default();
        let npmrc = fields
            .get("npmrc")
            .and_then(|n| self.bool(n, "npmrc", &ctx))
            .unwrap_or(true);
        let script = match fields.get("script") {
            Some(n) => self.nonempty_string(n, "script", &ctx),
            None => Some(Spanned::new("build".to_owned(), owner)),
        };
        let output = match fields.get("output") {
            Some(n) => self.relative_path(n, "output", &ctx, base),
            None => Some(Spanned::new("dist".to_owned(), owner)),
        };
        let env = fields
            .get("env")
            .map(|n| self.string_map(n, "env", &ctx))
            .unwrap_or_default();
        Some(NodeSpec {
            version: version?,
            image: image?,
            install,
            install_flags,
            npmrc,
            script: script?,
            output: output?,
            env,
        })
    }
}

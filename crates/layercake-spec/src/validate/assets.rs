//! `assets:`, and that each names a node service (`Spec::asset_source`, which the settings
//! conversion reads the source with too).

use crate::keys;
use crate::model::{Asset, Spec};
use crate::yaml::{Node, Value};

use super::checker::Checker;
use super::context::Ctx;

impl Checker<'_> {
    pub(super) fn assets(&mut self, node: &Node, service: &Ctx) -> Vec<Asset> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type(node, "assets", service, "a list of `{ from, to }`");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let key = format!("assets[{i}]");
            let ctx = service.child(&key);
            let Some(fields) =
                self.fields(item, &key, service, &ctx, Some(&keys::ASSET), &|_| None)
            else {
                continue;
            };
            let from = match fields.get("from") {
                Some(n) => self.nonempty_string(n, "from", &ctx),
                None => {
                    self.missing(item, "from", &ctx, "naming a node service");
                    None
                }
            };
            let to = match fields.get("to") {
                Some(n) => self.relative_path(n, "to", &ctx, "."),
                None => {
                    self.missing(item, "to", &ctx, "a folder relative to the workdir");
                    None
                }
            };
            if let (Some(from), Some(to)) = (from, to) {
                out.push(Asset { from, to });
            }
        }
        out
    }

    pub(super) fn check_assets(&mut self, spec: &Spec) {
        for service in &spec.services {
            for asset in &service.assets {
                if let Err(error) = spec.asset_source(service, asset) {
                    self.errors.push(error.with_snippet(self.text, 1));
                }
            }
        }
    }
}

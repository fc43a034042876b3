//! `assets:`, and that each names a node service.

use crate::error::ErrorKind;
use crate::keys;
use crate::model::{Asset, Spec};
use crate::yaml::{Node, Value};

use super::checker::Checker;
use super::context::Ctx;
use super::suggest::closest;

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
                let context = format!("in `assets.from` of service `{}`", service.name.value);
                let kind = match spec.service(&asset.from.value) {
                    Some(from) if from.node().is_some() => continue,
                    Some(_) => ErrorKind::AssetNotNode {
                        name: asset.from.value.clone(),
                        context,
                    },
                    None => ErrorKind::UnknownService {
                        name: asset.from.value.clone(),
                        context,
                        suggestion: closest(
                            &asset.from.value,
                            spec.services
                                .iter()
                                .filter(|s| s.node().is_some())
                                .map(|s| s.name.value.as_str()),
                        ),
                    },
                };
                let error = self.at_location(asset.from.location, kind);
                self.errors.push(error);
            }
        }
    }
}

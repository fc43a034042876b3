//! `secrets:`.

use crate::interpolate::is_arg_name;
use crate::keys;
use crate::location::Spanned;
use crate::model::{Secret, SecretTarget};
use crate::yaml::{Node, Value};

use super::checker::Checker;
use super::context::Ctx;

impl Checker<'_> {
    pub(super) fn secrets(&mut self, node: &Node, service: &Ctx) -> Vec<Secret> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type(node, "secrets", service, "a list of `{ id, env | target }`");
            return Vec::new();
        };
        let mut out: Vec<Secret> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let key = format!("secrets[{i}]");
            let ctx = service.child(&key);
            let Some(fields) =
                self.fields(item, &key, service, &ctx, Some(&keys::SECRET), &|_| None)
            else {
                continue;
            };
            let Some(id_node) = fields.get("id") else {
                self.missing(item, "id", &ctx, "the `--secret id=...` of the build");
                continue;
            };
            let Some(id) = self.nonempty_string(id_node, "id", &ctx) else {
                continue;
            };
            if !id
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            {
                let reason = format!("`{}` is not a secret id (letters, digits, `_-.`)", id.value);
                self.invalid(id_node, "id", &ctx, reason);
                continue;
            }
            if out.iter().any(|s| s.id.value == id.value) {
                let reason = format!("secret `{}` is listed twice", id.value);
                self.invalid(id_node, "id", &ctx, reason);
                continue;
            }
            let target = match (fields.get("env"), fields.get("target")) {
                (Some(_), Some(_)) => {
                    if let Some(k) = fields.key("target") {
                        self.invalid(k, "target", &ctx, "give `env` or `target`, not both");
                    }
                    continue;
                }
                (Some(env), None) => {
                    let Some(name) = self.nonempty_string(env, "env", &ctx) else {
                        continue;
                    };
                    if !is_arg_name(&name.value) {
                        let reason =
                            format!("`{}` is not an environment variable name", name.value);
                        self.invalid(env, "env", &ctx, reason);
                        continue;
                    }
                    SecretTarget::Env(name)
                }
                (None, Some(target)) => match self.absolute_path(target, "target", &ctx) {
                    Some(path) => SecretTarget::File(path),
                    None => continue,
                },
                (None, None) => SecretTarget::File(Spanned::new(
                    format!("/run/secrets/{}", id.value),
                    id.location,
                )),
            };
            let required = fields
                .get("required")
                .and_then(|n| self.bool(n, "required", &ctx))
                .unwrap_or(true);
            let rebuild_on_change = fields
                .get("rebuild_on_change")
                .and_then(|n| self.bool(n, "rebuild_on_change", &ctx))
                .unwrap_or(false);
            out.push(Secret {
                id,
                target,
                required,
                rebuild_on_change,
            });
        }
        out
    }
}

//! `user:`.

use crate::error::ErrorKind;
use crate::keys;
use crate::model::{DEFAULT_UID, User};
use crate::yaml::{Node, Value};

use super::checker::Checker;
use super::context::Ctx;

impl Checker<'_> {
    pub(super) fn user(&mut self, node: &Node, ctx: &Ctx) -> Option<User> {
        let (name, uid, gid) = match &node.value {
            Value::Str(_) => (self.nonempty_string(node, "user", ctx)?, None, None),
            Value::Map(_) => {
                let inner = ctx.child("user");
                let fields =
                    self.fields(node, "user", ctx, &inner, Some(&keys::USER), &|_| None)?;
                let name = match fields.get("name") {
                    Some(n) => self.nonempty_string(n, "name", &inner)?,
                    None => {
                        self.missing(node, "name", &inner, "like `name: app`");
                        return None;
                    }
                };
                let mut id = |key: &str| -> Option<Option<u32>> {
                    match fields.get(key) {
                        None => Some(None),
                        Some(n) => match n.value {
                            Value::Int(v) if (1..=i128::from(u32::MAX)).contains(&v) => {
                                u32::try_from(v).ok().map(Some)
                            }
                            Value::Int(0) => {
                                self.report_help(
                                    n,
                                    ErrorKind::InvalidValue {
                                        key: key.to_owned(),
                                        context: inner.describe(),
                                        reason: "0 is root".to_owned(),
                                    },
                                    "to run as root, write `user: root`",
                                );
                                None
                            }
                            _ => {
                                self.wrong_type(n, key, &inner, "a positive integer");
                                None
                            }
                        },
                    }
                };
                let uid = id("uid")?;
                let gid = id("gid")?;
                (name, uid, gid)
            }
            _ => {
                self.wrong_type(node, "user", ctx, "a user name or `{ name, uid, gid }`");
                return None;
            }
        };
        if name.value == "root" {
            if uid.is_some() || gid.is_some() {
                self.invalid(node, "user", ctx, "root is uid 0; write `user: root`");
                return None;
            }
            return Some(User::Root);
        }
        if !is_user_name(&name.value) {
            let reason = format!(
                "`{}` is not a user name (lowercase letters, digits, `_` and `-`)",
                name.value
            );
            self.invalid(node, "user", ctx, reason);
            return None;
        }
        let uid = uid.unwrap_or(DEFAULT_UID);
        Some(User::NonRoot {
            name,
            uid,
            gid: gid.unwrap_or(uid),
        })
    }
}

fn is_user_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && name.len() <= 32
}

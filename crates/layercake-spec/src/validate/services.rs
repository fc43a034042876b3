//! `services:` and the keys every service has.

use crate::error::ErrorKind;
use crate::keys;
use crate::location::Spanned;
use crate::model::{
    DEFAULT_NGINX_PORT, DEFAULT_UID, DEFAULT_USER, DEFAULT_WORKDIR, Service, ServiceKind, User,
};
use crate::paths::check_absolute;
use crate::text::{config_text_problem, shown};
use crate::yaml::{Node, Value};

use super::checker::Checker;
use super::context::Ctx;
use super::fields::Fields;
use super::suggest::misspelt;

impl Checker<'_> {
    pub(super) fn services(&mut self, node: &Node, key: Option<&Node>) -> Vec<Service> {
        let top = Ctx::default();
        let ctx = top.child("services");
        let Some(fields) = self.fields(node, "services", &top, &ctx, None, &|_| None) else {
            return Vec::new();
        };
        if matches!(&node.value, Value::Map(map) if map.is_empty()) {
            self.report_help(
                key.unwrap_or(node),
                ErrorKind::NoServices,
                "add at least one service, like `api: { python: { version: \"3.12\" } }`",
            );
        }
        let mut services = Vec::new();
        for (name, key, value) in fields.entries {
            if !is_service_name(name) {
                let kind = ErrorKind::InvalidServiceName {
                    name: name.to_owned(),
                };
                let lower = name.to_ascii_lowercase().replace(['.', ' '], "-");
                if lower != name && is_service_name(&lower) {
                    self.report_help(key, kind, format!("try `{lower}`"));
                } else {
                    self.report(key, kind);
                }
                // Still check what is inside, so one run reports everything.
                let _ = self.service(name, key, value);
                continue;
            }
            if let Some(service) = self.service(name, key, value) {
                services.push(service);
            }
        }
        services
    }

    fn service(&mut self, name: &str, key: &Node, node: &Node) -> Option<Service> {
        let parent = Ctx::default().child("services");
        let ctx = Ctx::service(name);
        let hint = |key: &str| {
            let python = keys::PYTHON.has(key);
            let node = keys::NODE.has(key);
            (python || node).then(|| {
                let under = match (python, node) {
                    (true, true) => "`python:` or `node:`",
                    (true, false) => "`python:`",
                    _ => "`node:`",
                };
                format!("`{key}` goes under {under}")
            })
        };
        let fields = self.fields(node, name, &parent, &ctx, Some(&keys::SERVICE), &hint)?;
        let name = Spanned::new(name.to_owned(), key.location);

        let path = match fields.get("path") {
            Some(node) => self.relative_path(node, "path", &ctx, "."),
            None => Some(Spanned::new(".".to_owned(), name.location)),
        }
        .unwrap_or_else(|| Spanned::new(".".to_owned(), name.location));
        let base = path.value.clone();

        let kind = match (fields.get("python"), fields.get("node")) {
            (Some(python), None) => self.python(python, &ctx, &base).map(ServiceKind::Python),
            (None, Some(node)) => self.node(node, &ctx, &base).map(ServiceKind::Node),
            (None, None) if misspelt(node, &["python", "node"]) => None,
            (None, None) => {
                self.report_help(
                    key,
                    ErrorKind::ServiceKind {
                        service: name.value.clone(),
                        found: "found neither",
                    },
                    "add `python: { version: \"3.12\" }` or `node: { version: \"22\" }`",
                );
                None
            }
            (Some(_), Some(_)) => {
                let second = match (fields.key("python"), fields.key("node")) {
                    (Some(p), Some(n)) if n.location > p.location => n,
                    (Some(p), _) => p,
                    (None, Some(n)) => n,
                    (None, None) => key,
                };
                self.report_help(
                    second,
                    ErrorKind::ServiceKind {
                        service: name.value.clone(),
                        found: "found both",
                    },
                    "split it into two services",
                );
                None
            }
        };
        let is_python = fields.get("python").is_some();
        let is_node = fields.get("node").is_some() && !is_python;

        let description = fields
            .get("description")
            .and_then(|n| self.string(n, "description", &ctx));
        let include = fields
            .get("include")
            .map(|n| self.patterns(n, "include", &ctx, &base))
            .unwrap_or_default();
        let exclude = fields
            .get("exclude")
            .map(|n| self.patterns(n, "exclude", &ctx, &base))
            .unwrap_or_default();

        let serve = match fields.get("serve") {
            Some(_) if is_python => {
                self.report_kind(&fields, "serve", &name.value, "node", "python");
                None
            }
            Some(node) => self.serve(node, &ctx, &base),
            None => None,
        };
        let assets = match fields.get("assets") {
            Some(_) if is_node => {
                self.report_kind(&fields, "assets", &name.value, "python", "node");
                Vec::new()
            }
            Some(node) => self.assets(node, &ctx),
            None => Vec::new(),
        };

        let command = fields
            .get("command")
            .and_then(|n| self.command(n, "command", &ctx));
        let entrypoint = fields
            .get("entrypoint")
            .and_then(|n| self.command(n, "entrypoint", &ctx));
        let workdir = match fields.get("workdir") {
            Some(node) => self.absolute_path(node, "workdir", &ctx),
            None if is_python => Some(Spanned::new(DEFAULT_WORKDIR.to_owned(), name.location)),
            None => None,
        };
        let mut port = fields.get("port").and_then(|n| self.port(n, "port", &ctx));
        if port.is_none() && fields.get("port").is_none() && serve.is_some() {
            port = Some(Spanned::new(DEFAULT_NGINX_PORT, name.location));
        }
        let env = fields
            .get("env")
            .map(|n| self.string_map(n, "env", &ctx))
            .unwrap_or_default();
        let user = match fields.get("user") {
            Some(node) => self.user(node, &ctx),
            None => None,
        }
        .unwrap_or_else(|| User::NonRoot {
            name: Spanned::new(DEFAULT_USER.to_owned(), name.location),
            uid: DEFAULT_UID,
            gid: DEFAULT_UID,
        });
        let healthcheck = fields
            .get("healthcheck")
            .and_then(|n| self.healthcheck(n, &ctx, port.as_ref()));
        let volumes = match fields.get("volumes") {
            Some(node) => {
                let items = self.string_list(node, "volumes", &ctx, false);
                let mut out = Vec::new();
                for item in items {
                    let checked = match config_text_problem(&item.value) {
                        Some(problem) => Err(problem),
                        None => check_absolute(&item.value).map_err(|e| e.to_string()),
                    };
                    match checked {
                        Ok(()) => out.push(item),
                        Err(e) => self.errors.push(self.at_location(
                            item.location,
                            ErrorKind::InvalidValue {
                                key: "volumes".to_owned(),
                                context: ctx.describe(),
                                reason: e,
                            },
                        )),
                    }
                }
                out
            }
            None => Vec::new(),
        };
        let labels = fields
            .get("labels")
            .map(|n| self.string_map(n, "labels", &ctx))
            .unwrap_or_default();
        let stop_signal = fields.get("stop_signal").and_then(|n| {
            let signal = self.nonempty_string(n, "stop_signal", &ctx)?;
            if !is_signal(&signal.value) {
                let reason = format!(
                    "`{}` is not a signal (a name like `SIGTERM` or `SIGRTMIN+3`, or a number)",
                    shown(&signal.value)
                );
                self.invalid(n, "stop_signal", &ctx, reason);
                return None;
            }
            Some(signal)
        });
        let secrets = fields
            .get("secrets")
            .map(|n| self.secrets(n, &ctx))
            .unwrap_or_default();
        let ssh = fields
            .get("ssh")
            .and_then(|n| self.bool(n, "ssh", &ctx))
            .unwrap_or(false);

        // A node service without `serve` is a scratch image of files: nothing can run in it.
        if is_node && serve.is_none() {
            for key in ["command", "entrypoint", "healthcheck", "user", "workdir"] {
                if let Some(key_node) = fields.key(key) {
                    self.report_help(
                        key_node,
                        ErrorKind::InvalidValue {
                            key: key.to_owned(),
                            context: ctx.describe(),
                            reason: "this service has no `serve:`, so its image holds only the \
                                     built files and nothing runs in it"
                                .to_owned(),
                        },
                        "add `serve: { nginx: {} }`, or remove this key",
                    );
                }
            }
        }

        Some(Service {
            name,
            description,
            path,
            include,
            exclude,
            kind: kind?,
            serve,
            assets,
            command,
            entrypoint,
            workdir,
            port,
            env,
            user,
            healthcheck,
            volumes,
            labels,
            stop_signal,
            secrets,
            ssh,
        })
    }

    fn report_kind(
        &mut self,
        fields: &Fields<'_>,
        key: &'static str,
        service: &str,
        allowed: &'static str,
        kind: &'static str,
    ) {
        if let Some(key_node) = fields.key(key) {
            self.report(
                key_node,
                ErrorKind::WrongServiceKind {
                    key,
                    service: service.to_owned(),
                    allowed,
                    kind,
                },
            );
        }
    }
}

pub(super) fn move_out_hint(key: &str, section: &str) -> Option<String> {
    keys::SERVICE
        .has(key)
        .then(|| format!("`{key}` is a service key: move it out of `{section}:`, one level up"))
}

/// `--target` names: `^[a-z][a-z0-9_-]{0,62}$`.
fn is_service_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && name.len() <= 63
}

/// A stop signal as Docker takes it: `SIGTERM`, `TERM`, `SIGRTMIN+3`, or a number.
fn is_signal(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 32
        && (text.chars().all(|c| c.is_ascii_digit())
            || text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names() {
        assert!(is_service_name("api"));
        assert!(is_service_name("web-2_x"));
        assert!(is_service_name(&format!("a{}", "b".repeat(62))));
        assert!(!is_service_name(&format!("a{}", "b".repeat(63))));
        for bad in ["", "Api", "1api", "-api", "api.v2", "api v2", "ápi"] {
            assert!(!is_service_name(bad), "{bad}");
        }
    }
}

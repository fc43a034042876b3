//! `healthcheck:`.

use std::time::Duration;

use crate::error::ErrorKind;
use crate::keys;
use crate::location::Spanned;
use crate::model::{
    DEFAULT_HEALTHCHECK_INTERVAL, DEFAULT_HEALTHCHECK_RETRIES, DEFAULT_HEALTHCHECK_START_PERIOD,
    DEFAULT_HEALTHCHECK_TIMEOUT, HealthProbe, Healthcheck,
};
use crate::yaml::{Node, Value};

use super::checker::Checker;
use super::context::Ctx;

impl Checker<'_> {
    pub(super) fn healthcheck(
        &mut self,
        node: &Node,
        service: &Ctx,
        port: Option<&Spanned<u16>>,
    ) -> Option<Healthcheck> {
        let ctx = service.child("healthcheck");
        let fields = self.fields(
            node,
            "healthcheck",
            service,
            &ctx,
            Some(&keys::HEALTHCHECK),
            &|_| None,
        )?;
        let probes: Vec<&str> = keys::HEALTHCHECK
            .one_of
            .iter()
            .copied()
            .filter(|k| fields.get(k).is_some())
            .collect();
        let probe = match probes.as_slice() {
            ["http"] => {
                let path_node = fields.get("http")?;
                let path = self.nonempty_string(path_node, "http", &ctx)?;
                if !path.value.starts_with('/') {
                    let reason = format!("`{}` must start with `/`", path.value);
                    self.invalid(path_node, "http", &ctx, reason);
                    return None;
                }
                let port = match fields.get("port") {
                    Some(n) => self.port(n, "port", &ctx)?.value,
                    None => match port {
                        Some(p) => p.value,
                        None => {
                            self.report_help(
                                path_node,
                                ErrorKind::InvalidValue {
                                    key: "http".to_owned(),
                                    context: ctx.describe(),
                                    reason: "there is no port to probe".to_owned(),
                                },
                                "set `port:` on the service or in `healthcheck`",
                            );
                            return None;
                        }
                    },
                };
                HealthProbe::Http { path, port }
            }
            ["command"] => {
                let command = self.command(fields.get("command")?, "command", &ctx)?;
                HealthProbe::Command(command)
            }
            ["none"] => {
                let none_node = fields.get("none")?;
                match self.bool(none_node, "none", &ctx)? {
                    true => HealthProbe::None,
                    false => {
                        self.invalid(
                            none_node,
                            "none",
                            &ctx,
                            "`none: false` means nothing; remove it, or give `http` or `command`",
                        );
                        return None;
                    }
                }
            }
            [] => {
                self.report_help(
                    node,
                    ErrorKind::MissingKey {
                        key: "http".to_owned(),
                        context: ctx.describe(),
                    },
                    "a healthcheck needs one of `http: /path`, `command: [...]` or `none: true`",
                );
                return None;
            }
            [_] => return None,
            [_, second, ..] => {
                let second_node = fields.key(second)?;
                self.invalid(
                    second_node,
                    second,
                    &ctx,
                    "a healthcheck takes only one of `http`, `command` and `none`",
                );
                return None;
            }
        };
        if fields.get("port").is_some()
            && !matches!(probe, HealthProbe::Http { .. })
            && let Some(key) = fields.key("port")
        {
            self.invalid(key, "port", &ctx, "`port` is only used with `http`");
        }
        let mut duration = |key: &str, default: Duration| match fields.get(key) {
            Some(n) => self.duration(n, key, &ctx),
            None => Some(default),
        };
        let interval = duration("interval", DEFAULT_HEALTHCHECK_INTERVAL);
        let timeout = duration("timeout", DEFAULT_HEALTHCHECK_TIMEOUT);
        let start_period = duration("start_period", DEFAULT_HEALTHCHECK_START_PERIOD);
        // Docker takes 0 as "inherit" and rejects anything under 1ms.
        for (key, value) in [("interval", interval), ("timeout", timeout)] {
            if let (Some(d), Some(n)) = (value, fields.get(key))
                && d < Duration::from_millis(1)
            {
                self.invalid(n, key, &ctx, "it must be at least 1ms");
            }
        }
        let retries = match fields.get("retries") {
            Some(n) => match n.value {
                Value::Int(v) => match u32::try_from(v) {
                    Ok(r) => Some(r),
                    Err(_) => {
                        self.invalid(
                            n,
                            "retries",
                            &ctx,
                            format!("{v} is not a count (0 or more)"),
                        );
                        None
                    }
                },
                _ => {
                    self.wrong_type(n, "retries", &ctx, "an integer");
                    None
                }
            },
            None => Some(DEFAULT_HEALTHCHECK_RETRIES),
        };
        Some(Healthcheck {
            probe,
            interval: interval?,
            timeout: timeout?,
            start_period: start_period?,
            retries: retries?,
        })
    }
}

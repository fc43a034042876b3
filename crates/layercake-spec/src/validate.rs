//! The spanned YAML tree → a validated [`Spec`] with defaults filled in. Every problem found is
//! collected (not just the first), so one run of `layercake check` shows them all.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::duration::parse_duration;
use crate::error::{ErrorKind, SpecError, SpecErrors};
use crate::interpolate::{Piece, is_arg_name, pieces};
use crate::location::{Location, Spanned};
use crate::model::*;
use crate::paths::{PathError, check_absolute, join_checked, normalize_relative};
use crate::text::{config_text_problem, shown, value_problem};
use crate::yaml::{self, Node, Value};

/// Specs bigger than this are refused before any parsing.
pub const MAX_SPEC_BYTES: usize = 1024 * 1024;

/// The keys each section accepts (shared with the JSON Schema, which a test keeps in step).
pub(crate) mod keys {
    pub const TOP: &[&str] = &["default", "args", "services"];
    pub const SERVICE: &[&str] = &[
        "description",
        "path",
        "include",
        "exclude",
        "python",
        "node",
        "serve",
        "assets",
        "command",
        "entrypoint",
        "workdir",
        "port",
        "env",
        "user",
        "healthcheck",
        "volumes",
        "labels",
        "stop_signal",
        "secrets",
        "ssh",
    ];
    pub const PYTHON: &[&str] = &[
        "version",
        "image",
        "builder_image",
        "requirements",
        "pip_flags",
        "pip_env",
        "packages",
        "build_steps",
    ];
    pub const NODE: &[&str] = &[
        "version",
        "image",
        "install",
        "install_flags",
        "npmrc",
        "script",
        "output",
        "env",
    ];
    pub const PACKAGES: &[&str] = &["build", "pip", "runtime"];
    pub const SERVE: &[&str] = &["nginx"];
    pub const NGINX: &[&str] = &["image", "spa", "config"];
    pub const ASSET: &[&str] = &["from", "to"];
    pub const USER: &[&str] = &["name", "uid", "gid"];
    pub const HEALTHCHECK: &[&str] = &[
        "http",
        "command",
        "none",
        "port",
        "interval",
        "timeout",
        "start_period",
        "retries",
    ];
    pub const SECRET: &[&str] = &["id", "env", "target", "required", "rebuild_on_change"];
}

/// Parses and validates a spec. `file_name` is only used in messages; nothing is read.
///
/// All problems found are returned together, in file order.
pub fn parse(file_name: &str, text: &str) -> Result<Spec, SpecErrors> {
    if text.len() > MAX_SPEC_BYTES {
        return Err(SpecError::new(
            file_name,
            None,
            ErrorKind::TooLarge {
                size: text.len(),
                limit: MAX_SPEC_BYTES,
            },
        )
        .with_help("a layercake spec is a few dozen lines; is this the right file?")
        .into());
    }
    let root = yaml::load(text).map_err(|error| {
        SpecError::new(
            file_name,
            error.location,
            ErrorKind::Yaml {
                message: error.message,
            },
        )
        .with_snippet(text, 1)
    })?;
    let mut checker = Checker {
        file: file_name,
        text,
        errors: Vec::new(),
    };
    let spec = checker.spec(&root);
    if checker.errors.is_empty() {
        Ok(spec)
    } else {
        Err(SpecErrors::new(checker.errors))
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

/// Where in the spec a value sits, for messages: `in service `api``, `in `python` of service
/// `api``, `in `args``, `at the top level`.
#[derive(Clone, Default)]
struct Ctx {
    service: Option<String>,
    path: Vec<String>,
}

impl Ctx {
    fn child(&self, key: &str) -> Ctx {
        let mut path = self.path.clone();
        path.push(key.to_owned());
        Ctx {
            service: self.service.clone(),
            path,
        }
    }

    fn service(name: &str) -> Ctx {
        Ctx {
            service: Some(name.to_owned()),
            path: Vec::new(),
        }
    }

    fn describe(&self) -> String {
        let path = self.path.join(".");
        match (&self.service, path.is_empty()) {
            (None, true) => "at the top level".to_owned(),
            (None, false) => format!("in `{path}`"),
            (Some(service), true) => format!("in service `{service}`"),
            (Some(service), false) => format!("in `{path}` of service `{service}`"),
        }
    }
}

/// A mapping's entries, keyed by their (string) key.
struct Fields<'n> {
    entries: Vec<(&'n str, &'n Node, &'n Node)>,
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }

    fn key(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, k, _)| *k)
    }
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<SpecError>,
}

impl Checker<'_> {
    fn report(&mut self, node: &Node, kind: ErrorKind) {
        let error = self.at(node, kind);
        self.errors.push(error);
    }

    fn report_help(&mut self, node: &Node, kind: ErrorKind, help: impl Into<String>) {
        let error = self.at(node, kind).with_help(help);
        self.errors.push(error);
    }

    fn at(&self, node: &Node, kind: ErrorKind) -> SpecError {
        SpecError::new(self.file, Some(node.location), kind).with_snippet(self.text, node.width)
    }

    fn at_location(&self, location: Location, kind: ErrorKind) -> SpecError {
        SpecError::new(self.file, Some(location), kind).with_snippet(self.text, 1)
    }

    /// Narrows a value's location to where `needle` sits in its line (when it is on that line),
    /// and how wide it is; otherwise the value's start.
    fn find_in_line(&self, location: Location, needle: &str) -> (Location, usize) {
        let index = usize::try_from(location.line.saturating_sub(1)).unwrap_or(usize::MAX);
        let start = usize::try_from(location.column.saturating_sub(1)).unwrap_or(0);
        let found = self.text.lines().nth(index).and_then(|line| {
            let chars: Vec<char> = line.chars().collect();
            let rest: String = chars.get(start..)?.iter().collect();
            let at = rest.find(needle).filter(|_| !needle.is_empty())?;
            let column = start + rest[..at].chars().count() + 1;
            Some((u32::try_from(column).ok()?, needle.chars().count()))
        });
        match found {
            Some((column, width)) => (Location::new(location.line, column), width),
            None => (location, 1),
        }
    }

    fn wrong_type(&mut self, node: &Node, key: &str, ctx: &Ctx, expected: &'static str) {
        self.report(
            node,
            ErrorKind::WrongType {
                key: key.to_owned(),
                context: ctx.describe(),
                expected,
                found: node.kind_name(),
            },
        );
    }

    fn invalid(&mut self, node: &Node, key: &str, ctx: &Ctx, reason: impl Into<String>) {
        self.report(
            node,
            ErrorKind::InvalidValue {
                key: key.to_owned(),
                context: ctx.describe(),
                reason: reason.into(),
            },
        );
    }

    /// The entries of a mapping with string keys, reporting duplicates and keys not in
    /// `allowed`. `hint` may explain an unknown key better than "did you mean".
    fn fields<'n>(
        &mut self,
        node: &'n Node,
        key: &str,
        parent: &Ctx,
        inner: &Ctx,
        allowed: Option<&[&str]>,
        hint: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Fields<'n>> {
        let Value::Map(map) = &node.value else {
            self.wrong_type(node, key, parent, "a mapping");
            return None;
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
            if let Some(allowed) = allowed
                && !allowed.contains(&name.as_str())
            {
                let kind = ErrorKind::UnknownKey {
                    key: name.clone(),
                    context: inner.describe(),
                    suggestion: closest(name, allowed.iter().copied()),
                };
                match hint(name) {
                    Some(help) => self.report_help(k, kind, help),
                    None => self.report(k, kind),
                }
                continue;
            }
            entries.push((name.as_str(), k, v));
        }
        Some(Fields { entries })
    }

    /// A string; plain numbers and booleans are taken as written (`8000` → `"8000"`).
    fn string(&mut self, node: &Node, key: &str, ctx: &Ctx) -> Option<Spanned<String>> {
        match (&node.value, &node.raw) {
            (Value::Str(s), _) => {
                // NUL ends a string in argv, env and most files: what ran would not be this.
                if let Some(problem) = value_problem(s) {
                    self.invalid(node, key, ctx, problem);
                    return None;
                }
                Some(Spanned::new(s.clone(), node.location))
            }
            (Value::Bool(_) | Value::Int(_) | Value::Float(_), Some(raw)) => {
                Some(Spanned::new(raw.clone(), node.location))
            }
            _ => {
                self.wrong_type(node, key, ctx, "a string");
                None
            }
        }
    }

    fn nonempty_string(&mut self, node: &Node, key: &str, ctx: &Ctx) -> Option<Spanned<String>> {
        let value = self.string(node, key, ctx)?;
        if value.value.trim().is_empty() {
            self.invalid(node, key, ctx, "it is empty");
            return None;
        }
        Some(value)
    }

    fn bool(&mut self, node: &Node, key: &str, ctx: &Ctx) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.wrong_type(node, key, ctx, "`true` or `false`");
                None
            }
        }
    }

    /// A list of strings; with `single`, one string alone counts as a list of one.
    fn string_list(
        &mut self,
        node: &Node,
        key: &str,
        ctx: &Ctx,
        single: bool,
    ) -> Vec<Spanned<String>> {
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| self.nonempty_string(item, &format!("{key}[{i}]"), ctx))
                .collect(),
            Value::Str(_) if single => self.nonempty_string(node, key, ctx).into_iter().collect(),
            _ => {
                let expected = if single {
                    "a string or a list of strings"
                } else {
                    "a list of strings"
                };
                self.wrong_type(node, key, ctx, expected);
                Vec::new()
            }
        }
    }

    fn string_map(
        &mut self,
        node: &Node,
        key: &str,
        parent: &Ctx,
    ) -> BTreeMap<String, Spanned<String>> {
        let inner = parent.child(key);
        let mut out = BTreeMap::new();
        let Some(fields) = self.fields(node, key, parent, &inner, None, &|_| None) else {
            return out;
        };
        for (name, key_node, value) in fields.entries {
            // Env names and label keys land in the image config as they are.
            if let Some(problem) = config_text_problem(name) {
                self.invalid(
                    key_node,
                    key,
                    parent,
                    format!("`{}` is not a valid name: {problem}", shown(name)),
                );
                continue;
            }
            // An environment variable name has no `=` and no white space (no shell and no
            // Dockerfile `ENV` could name it).
            let env_like = key != "labels";
            if name.is_empty()
                || name.contains('=')
                || env_like && name.contains(char::is_whitespace)
            {
                self.invalid(
                    key_node,
                    key,
                    parent,
                    format!("`{name}` is not a valid name"),
                );
                continue;
            }
            if let Some(v) = self.string(value, name, &inner) {
                out.insert(name.to_owned(), v);
            }
        }
        out
    }

    fn port(&mut self, node: &Node, key: &str, ctx: &Ctx) -> Option<Spanned<u16>> {
        match node.value {
            Value::Int(n) => match u16::try_from(n) {
                Ok(port) if port > 0 => Some(Spanned::new(port, node.location)),
                _ => {
                    self.invalid(node, key, ctx, format!("{n} is not a port (1 to 65535)"));
                    None
                }
            },
            Value::Str(ref s) if s.parse::<u16>().is_ok() => {
                self.report_help(
                    node,
                    ErrorKind::WrongType {
                        key: key.to_owned(),
                        context: ctx.describe(),
                        expected: "an integer",
                        found: node.kind_name(),
                    },
                    format!("write it without quotes: `{key}: {s}`"),
                );
                None
            }
            _ => {
                self.wrong_type(node, key, ctx, "an integer");
                None
            }
        }
    }

    fn duration(&mut self, node: &Node, key: &str, ctx: &Ctx) -> Option<Duration> {
        match &node.value {
            Value::Str(s) => match parse_duration(s) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.invalid(node, key, ctx, e.to_string());
                    None
                }
            },
            Value::Int(n) => {
                self.report_help(
                    node,
                    ErrorKind::WrongType {
                        key: key.to_owned(),
                        context: ctx.describe(),
                        expected: "a duration with a unit",
                        found: node.kind_name(),
                    },
                    format!("write the unit, like `{key}: {n}s`"),
                );
                None
            }
            _ => {
                self.wrong_type(node, key, ctx, "a duration like `30s`");
                None
            }
        }
    }

    /// A relative path under the service folder; returned normalized (as written, relative to
    /// the folder), checked to stay in the context once joined with `base`.
    fn relative_path(
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

    fn check_relative(
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
    fn patterns(&mut self, node: &Node, key: &str, ctx: &Ctx, base: &str) -> Vec<Spanned<String>> {
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

    fn absolute_path(&mut self, node: &Node, key: &str, ctx: &Ctx) -> Option<Spanned<String>> {
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

    fn command(&mut self, node: &Node, key: &str, ctx: &Ctx) -> Option<Command> {
        match &node.value {
            Value::Str(_) => self.nonempty_string(node, key, ctx).map(Command::Shell),
            Value::Seq(items) if items.is_empty() => {
                self.invalid(node, key, ctx, "the list is empty");
                None
            }
            Value::Seq(items) => {
                let mut args = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    args.push(self.string(item, &format!("{key}[{i}]"), ctx)?);
                }
                Some(Command::Exec(args))
            }
            _ => {
                self.wrong_type(
                    node,
                    key,
                    ctx,
                    "a list (exec form) or a string (shell form)",
                );
                None
            }
        }
    }

    fn version(&mut self, node: &Node, ctx: &Ctx) -> Option<Spanned<String>> {
        match &node.value {
            Value::Str(s) => {
                if is_version(s) {
                    Some(Spanned::new(s.clone(), node.location))
                } else {
                    self.invalid(
                        node,
                        "version",
                        ctx,
                        format!("`{s}` is not a version: use digits and dots, like \"3.11\""),
                    );
                    None
                }
            }
            Value::Int(_) | Value::Float(_) => {
                let raw = node.raw.clone().unwrap_or_default();
                let read_as = match node.value {
                    Value::Float(f) if f.to_string() != raw => {
                        format!(" (YAML reads `{raw}` as the number {f})")
                    }
                    _ => String::new(),
                };
                self.report_help(
                    node,
                    ErrorKind::WrongType {
                        key: "version".to_owned(),
                        context: ctx.describe(),
                        expected: "a quoted string",
                        found: "a number",
                    },
                    format!("quote it: `version: \"{raw}\"`{read_as}"),
                );
                None
            }
            _ => {
                self.wrong_type(node, "version", ctx, "a quoted string like \"3.11\"");
                None
            }
        }
    }

    fn image(&mut self, node: &Node, key: &str, ctx: &Ctx) -> Option<Spanned<String>> {
        let value = self.nonempty_string(node, key, ctx)?;
        if value.value.chars().any(char::is_whitespace) {
            self.invalid(
                node,
                key,
                ctx,
                format!("`{}` is not an image reference", value.value),
            );
            return None;
        }
        Some(value)
    }

    // ---- the spec ----

    fn spec(&mut self, root: &Node) -> Spec {
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
        // `x-` keys are free for YAML anchors (`x-common: &common ...`), as in Compose.
        let top_keys: Vec<&str> = match &root.value {
            Value::Map(map) => map
                .iter()
                .filter_map(|(k, _)| match &k.value {
                    Value::Str(s) if s.starts_with("x-") => Some(s.as_str()),
                    _ => None,
                })
                .chain(keys::TOP.iter().copied())
                .collect(),
            _ => keys::TOP.to_vec(),
        };
        let hint = |key: &str| {
            if keys::SERVICE.contains(&key) || key == "version" {
                Some(format!(
                    "`{key}` belongs to a service: `services: {{ NAME: {{ {key}: ... }} }}`"
                ))
            } else {
                Some("the top level has `services:`, `args:` and `default:`".to_owned())
            }
        };
        let Some(fields) = self.fields(root, "spec", &top, &top, Some(&top_keys), &hint) else {
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

    fn services(&mut self, node: &Node, key: Option<&Node>) -> Vec<Service> {
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
            let python = keys::PYTHON.contains(&key);
            let node = keys::NODE.contains(&key);
            (python || node).then(|| {
                let under = match (python, node) {
                    (true, true) => "`python:` or `node:`",
                    (true, false) => "`python:`",
                    _ => "`node:`",
                };
                format!("`{key}` goes under {under}")
            })
        };
        let fields = self.fields(node, name, &parent, &ctx, Some(keys::SERVICE), &hint)?;
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

    fn python(&mut self, node: &Node, service: &Ctx, base: &str) -> Option<PythonSpec> {
        let ctx = service.child("python");
        let hint = |key: &str| move_out_hint(key, "python");
        let fields = self.fields(node, "python", service, &ctx, Some(keys::PYTHON), &hint)?;
        // Defaults for this section point at the section.
        let owner = node.location;
        let version = match fields.get("version") {
            Some(v) => self.version(v, &ctx),
            None => {
                self.missing(node, "version", &ctx, "like `version: \"3.12\"`");
                None
            }
        };
        let image = match fields.get("image") {
            Some(n) => self.image(n, "image", &ctx),
            None => version
                .as_ref()
                .map(|v| Spanned::new(format!("python:{}-slim", v.value), v.location)),
        };
        let builder_image = match fields.get("builder_image") {
            Some(n) => self.image(n, "builder_image", &ctx),
            None => image.clone(),
        };
        let requirements = match fields.get("requirements") {
            Some(n) => {
                // `requirements: []`: a service without requirement files (its packages, if
                // any, come from `packages.pip`).
                let items = self.string_list(n, "requirements", &ctx, true);
                let item_nodes: Vec<&Node> = match &n.value {
                    Value::Seq(items) => items.iter().collect(),
                    _ => vec![n],
                };
                let mut out = Vec::new();
                for (item, item_node) in items.iter().zip(item_nodes) {
                    if let Some(normalized) =
                        self.check_relative(item_node, "requirements", &ctx, base, &item.value)
                    {
                        out.push(Spanned::new(normalized, item.location));
                    }
                }
                out
            }
            None => vec![Spanned::new("requirements.txt".to_owned(), owner)],
        };
        let pip_flags = fields
            .get("pip_flags")
            .map(|n| self.string_list(n, "pip_flags", &ctx, false))
            .unwrap_or_default();
        let pip_env = fields
            .get("pip_env")
            .map(|n| self.string_map(n, "pip_env", &ctx))
            .unwrap_or_default();
        let packages = match fields.get("packages") {
            Some(n) => self.packages(n, &ctx),
            None => Packages::default(),
        };
        let build_steps = match fields.get("build_steps") {
            Some(n) => match &n.value {
                Value::Seq(items) => items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| self.command(item, &format!("build_steps[{i}]"), &ctx))
                    .collect(),
                _ => {
                    self.wrong_type(n, "build_steps", &ctx, "a list of commands");
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        Some(PythonSpec {
            version: version?,
            image: image?,
            builder_image: builder_image?,
            requirements,
            pip_flags,
            pip_env,
            packages,
            build_steps,
        })
    }

    fn missing(&mut self, node: &Node, key: &str, ctx: &Ctx, help: &str) {
        self.report_help(
            node,
            ErrorKind::MissingKey {
                key: key.to_owned(),
                context: ctx.describe(),
            },
            format!("add `{key}`, {help}"),
        );
    }

    fn packages(&mut self, node: &Node, python: &Ctx) -> Packages {
        let ctx = python.child("packages");
        let Some(fields) = self.fields(
            node,
            "packages",
            python,
            &ctx,
            Some(keys::PACKAGES),
            &|_| {
                Some(
                    "`packages` has `build:` (apt, wheels stage), `runtime:` (apt, final image) \
                     and `pip:` (requirements beside the files)"
                        .to_owned(),
                )
            },
        ) else {
            return Packages::default();
        };
        let mut list = |key: &str| -> Vec<Spanned<String>> {
            let Some(n) = fields.get(key) else {
                return Vec::new();
            };
            let items = self.string_list(n, key, &ctx, false);
            let mut out = Vec::new();
            for item in items {
                // They become apt-get arguments: only a Debian package name (with an optional
                // `:arch` and `=version`) is one, never an option, a path or shell text.
                if !is_apt_package(&item.value) {
                    let error = self.at_location(
                        item.location,
                        ErrorKind::InvalidValue {
                            key: key.to_owned(),
                            context: ctx.describe(),
                            reason: format!(
                                "`{}` is not an apt package name (Debian names: lowercase \
                                 letters, digits and `+-.`, then optionally `:arch` and \
                                 `=version`)",
                                shown(&item.value)
                            ),
                        },
                    );
                    self.errors.push(error);
                } else {
                    out.push(item);
                }
            }
            out
        };
        let build = list("build");
        let runtime = list("runtime");
        let pip = fields
            .get("pip")
            .map(|n| self.pip_packages(n, &ctx))
            .unwrap_or_default();
        Packages {
            build,
            runtime,
            pip,
        }
    }

    /// `packages.pip`: PEP 508 requirements by name; they become arguments of the lock step.
    fn pip_packages(&mut self, node: &Node, ctx: &Ctx) -> Vec<Spanned<String>> {
        let mut out = Vec::new();
        for item in self.string_list(node, "pip", ctx, false) {
            // Not interpolated: what is written is what pip gets.
            let problem = {
                match item.value.parse::<pep508_rs::Requirement>() {
                    Err(error) => Some(format!(
                        "`{}` is not a PEP 508 requirement: {}",
                        item.value, error.message
                    )),
                    Ok(requirement)
                        if matches!(
                            requirement.version_or_url,
                            Some(pep508_rs::VersionOrUrl::Url(_))
                        ) =>
                    {
                        Some(format!(
                            "`{}` is a direct reference; list URL and path requirements in a \
                             requirements file",
                            item.value
                        ))
                    }
                    Ok(_) => None,
                }
            };
            match problem {
                Some(reason) => {
                    let error = self.at_location(
                        item.location,
                        ErrorKind::InvalidValue {
                            key: "pip".to_owned(),
                            context: ctx.describe(),
                            reason,
                        },
                    );
                    self.errors.push(error);
                }
                None => out.push(item),
            }
        }
        out
    }

    fn node(&mut self, node: &Node, service: &Ctx, base: &str) -> Option<NodeSpec> {
        let ctx = service.child("node");
        let hint = |key: &str| move_out_hint(key, "node");
        let fields = self.fields(node, "node", service, &ctx, Some(keys::NODE), &hint)?;
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

    fn serve(&mut self, node: &Node, service: &Ctx, base: &str) -> Option<Serve> {
        let ctx = service.child("serve");
        let fields = self.fields(node, "serve", service, &ctx, Some(keys::SERVE), &|_| {
            Some("`serve` has one server today: `nginx:`".to_owned())
        })?;
        let Some(nginx) = fields.get("nginx") else {
            self.missing(node, "nginx", &ctx, "like `serve: { nginx: {} }`");
            return None;
        };
        let owner = fields.key("nginx").map_or(node.location, |k| k.location);
        let nginx_ctx = ctx.child("nginx");
        // `nginx:` alone (null) means all defaults.
        let empty = Node {
            location: nginx.location,
            width: 1,
            raw: None,
            value: Value::Map(Vec::new()),
        };
        let nginx_node = if matches!(nginx.value, Value::Null) {
            &empty
        } else {
            nginx
        };
        let fields = self.fields(
            nginx_node,
            "nginx",
            &ctx,
            &nginx_ctx,
            Some(keys::NGINX),
            &|_| None,
        )?;
        let image = match fields.get("image") {
            Some(n) => self.image(n, "image", &nginx_ctx),
            None => Some(Spanned::new(DEFAULT_NGINX_IMAGE.to_owned(), owner)),
        };
        let spa = fields
            .get("spa")
            .and_then(|n| self.bool(n, "spa", &nginx_ctx))
            .unwrap_or(true);
        let config = fields
            .get("config")
            .and_then(|n| self.relative_path(n, "config", &nginx_ctx, base));
        Some(Serve::Nginx(NginxServe {
            image: image?,
            spa,
            config,
        }))
    }

    fn assets(&mut self, node: &Node, service: &Ctx) -> Vec<Asset> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type(node, "assets", service, "a list of `{ from, to }`");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let key = format!("assets[{i}]");
            let ctx = service.child(&key);
            let Some(fields) = self.fields(item, &key, service, &ctx, Some(keys::ASSET), &|_| None)
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

    fn user(&mut self, node: &Node, ctx: &Ctx) -> Option<User> {
        let (name, uid, gid) = match &node.value {
            Value::Str(_) => (self.nonempty_string(node, "user", ctx)?, None, None),
            Value::Map(_) => {
                let inner = ctx.child("user");
                let fields = self.fields(node, "user", ctx, &inner, Some(keys::USER), &|_| None)?;
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

    fn healthcheck(
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
            Some(keys::HEALTHCHECK),
            &|_| None,
        )?;
        let probes: Vec<&str> = ["http", "command", "none"]
            .into_iter()
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

    fn secrets(&mut self, node: &Node, service: &Ctx) -> Vec<Secret> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type(node, "secrets", service, "a list of `{ id, env | target }`");
            return Vec::new();
        };
        let mut out: Vec<Secret> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let key = format!("secrets[{i}]");
            let ctx = service.child(&key);
            let Some(fields) =
                self.fields(item, &key, service, &ctx, Some(keys::SECRET), &|_| None)
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

    // ---- checks across services ----

    fn check_assets(&mut self, spec: &Spec) {
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

    fn check_interpolation(&mut self, spec: &Spec) {
        let mut spec = spec.clone();
        let declared = spec.args.clone();
        let mut found = Vec::new();
        crate::resolve::for_each_interpolated(&mut spec, &mut |value, context| {
            match pieces(&value.value) {
                Err(reason) => {
                    // Underline from the bad `${` to the end of its line.
                    let needle = value.value.find("${").map_or_else(String::new, |i| {
                        value.value[i..]
                            .chars()
                            .take_while(|c| *c != '\n')
                            .collect()
                    });
                    let kind = ErrorKind::Interpolation {
                        context: context.to_owned(),
                        reason,
                    };
                    found.push((value.location, kind, needle));
                }
                Ok(pieces) => {
                    for piece in pieces {
                        let Piece::Arg {
                            name,
                            default: None,
                        } = piece
                        else {
                            continue;
                        };
                        if declared.contains_key(name) {
                            continue;
                        }
                        let kind = ErrorKind::UndeclaredArg {
                            name: name.to_owned(),
                            context: context.to_owned(),
                            suggestion: closest(name, declared.keys().map(String::as_str)),
                        };
                        found.push((value.location, kind, format!("${{{name}}}")));
                    }
                }
            }
        });
        let mut seen = std::collections::BTreeSet::new();
        for (location, kind, needle) in found {
            // A defaulted `builder_image` is a copy of `image`: report the place once.
            if !seen.insert((location, needle.clone())) {
                continue;
            }
            let undeclared = matches!(kind, ErrorKind::UndeclaredArg { .. });
            let (location, width) = self.find_in_line(location, &needle);
            let mut error =
                SpecError::new(self.file, Some(location), kind).with_snippet(self.text, width);
            if undeclared {
                error = error
                    .with_help("declare it under `args:`, or give a default: `${NAME:-default}`");
            }
            self.errors.push(error);
        }
    }
}

fn move_out_hint(key: &str, section: &str) -> Option<String> {
    keys::SERVICE
        .contains(&key)
        .then(|| format!("`{key}` is a service key: move it out of `{section}:`, one level up"))
}

/// Whether `node` has a key that is a near miss for one of `wanted` (already reported as an
/// unknown key with a "did you mean"), so the missing key need not be reported too.
fn misspelt(node: &Node, wanted: &[&str]) -> bool {
    let Value::Map(map) = &node.value else {
        return false;
    };
    map.iter().any(|(k, _)| match &k.value {
        Value::Str(key) => {
            !wanted.contains(&key.as_str()) && closest(key, wanted.iter().copied()).is_some()
        }
        _ => false,
    })
}

/// The most similar candidate, if any is close enough to be a likely typo.
fn closest<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<String> {
    candidates
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_owned())
}

/// `--target` names: `^[a-z][a-z0-9_-]{0,62}$`.
fn is_service_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && name.len() <= 63
}

/// Digits and dots, one to three parts: `3`, `3.11`, `3.11.9`.
pub(crate) fn is_version(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() <= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// A Debian package name (`[a-z0-9][a-z0-9+.-]+`, policy 5.6.1), optionally `:arch` and
/// `=version` (`[epoch:]upstream[-revision]`, policy 5.6.12), as `apt-get install` takes it.
pub(crate) fn is_apt_package(text: &str) -> bool {
    let (name, version) = match text.split_once('=') {
        Some((name, version)) => (name, Some(version)),
        None => (text, None),
    };
    let (name, arch) = match name.split_once(':') {
        Some((name, arch)) => (name, Some(arch)),
        None => (name, None),
    };
    let mut chars = name.chars();
    let name_ok = name.len() >= 2
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '-' | '.'));
    let arch_ok = arch.is_none_or(|a| {
        !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    let version_ok = version.is_none_or(|v| {
        v.chars().next().is_some_and(|c| c.is_ascii_digit())
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '~' | ':'))
    });
    name_ok && arch_ok && version_ok
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

fn is_user_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && name.len() <= 32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for ok in ["3", "3.11", "3.11.9", "18", "20.10.0"] {
            assert!(is_version(ok), "{ok}");
        }
        for bad in [
            "",
            "3.",
            ".3",
            "3..1",
            "3.11.9.1",
            "v3",
            "3.11-slim",
            "latest",
            "3.x",
        ] {
            assert!(!is_version(bad), "{bad}");
        }
    }

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

    #[test]
    fn suggestions() {
        assert_eq!(
            closest("pyhton", keys::SERVICE.iter().copied()).as_deref(),
            Some("python")
        );
        assert_eq!(closest("zzz", keys::SERVICE.iter().copied()), None);
    }
}

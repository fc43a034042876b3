//! `python:` and its `packages:`.

use crate::error::ErrorKind;
use crate::keys;
use crate::location::Spanned;
use crate::model::{Packages, ProjectOptions, PythonProject, PythonSpec};
use crate::text::shown;
use crate::yaml::{Node, Value};

use super::checker::Checker;
use super::context::Ctx;
use super::services::move_out_hint;

impl Checker<'_> {
    pub(super) fn python(&mut self, node: &Node, service: &Ctx, base: &str) -> Option<PythonSpec> {
        let ctx = service.child("python");
        let hint = |key: &str| move_out_hint(key, "python");
        let fields = self.fields(node, "python", service, &ctx, Some(&keys::PYTHON), &hint)?;
        // Without `version`, the build takes the project's (and the images for it).
        let version = fields.get("version").map(|v| self.version(v, &ctx));
        let image = match fields.get("image") {
            Some(n) => Some(self.image(n, "image", &ctx)),
            None => version.clone().map(|version| {
                version.map(|v| Spanned::new(format!("python:{}-slim", v.value), v.location))
            }),
        };
        let builder_image = match fields.get("builder_image") {
            Some(n) => Some(self.image(n, "builder_image", &ctx)),
            None => image.clone(),
        };
        let requirements = fields.get("requirements").map(|n| {
            {
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
        });
        let project = self.project(&fields, &ctx, requirements);
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
        // Given but invalid (reported): no spec. Not given: the build's to find.
        let valid = |value: Option<Option<Spanned<String>>>| match value {
            Some(None) => Err(()),
            Some(Some(value)) => Ok(Some(value)),
            None => Ok(None),
        };
        Some(PythonSpec {
            version: valid(version).ok()?,
            image: valid(image).ok()?,
            builder_image: valid(builder_image).ok()?,
            project,
            pip_flags,
            pip_env,
            packages,
            build_steps,
        })
    }

    /// `requirements:`, `project:` and what a pyproject.toml project installs (`groups`,
    /// `extras`, `package`), which only such a project (given or detected) takes.
    fn project(
        &mut self,
        fields: &super::fields::Fields<'_>,
        ctx: &Ctx,
        requirements: Option<Vec<Spanned<String>>>,
    ) -> PythonProject {
        let options = ProjectOptions {
            groups: fields
                .get("groups")
                .map(|n| self.string_list(n, "groups", ctx, false))
                .unwrap_or_default(),
            extras: fields
                .get("extras")
                .map(|n| self.string_list(n, "extras", ctx, false))
                .unwrap_or_default(),
            package: fields
                .get("package")
                .and_then(|n| self.nonempty_string(n, "package", ctx)),
        };
        let uv_keys: Vec<(&str, &Node)> = ["groups", "extras", "package"]
            .into_iter()
            .filter_map(|key| fields.get(key).map(|node| (key, node)))
            .collect();
        let kind = fields.get("project").map(|n| {
            let value = self.string(n, "project", ctx);
            (n, value.as_deref().map(String::as_str).map(str::to_owned))
        });
        match (requirements, kind) {
            (Some(files), None) => {
                if let Some((key, node)) = uv_keys.first() {
                    self.invalid(
                        node,
                        key,
                        ctx,
                        "`groups`, `extras` and `package` are for uv, Poetry and pyproject.toml \
                         projects; this service installs its `requirements:` files",
                    );
                }
                PythonProject::Requirements(files)
            }
            (Some(files), Some((node, _))) => {
                self.invalid(
                    node,
                    "project",
                    ctx,
                    "`requirements:` already says the dependencies are those files: give \
                     `project` or `requirements`, not both",
                );
                PythonProject::Requirements(files)
            }
            (None, None) => PythonProject::Detect(options),
            (None, Some((node, value))) => match value.as_deref() {
                Some("uv") => PythonProject::Uv(options),
                Some("poetry") => PythonProject::Poetry(options),
                Some("pep621") => PythonProject::Pep621(options),
                Some("requirements") => {
                    if let Some((key, node)) = uv_keys.first() {
                        self.invalid(
                            node,
                            key,
                            ctx,
                            "`groups`, `extras` and `package` are for uv, Poetry and \
                             pyproject.toml projects, not `project: requirements`",
                        );
                    }
                    PythonProject::Requirements(vec![Spanned::new(
                        "requirements.txt".to_owned(),
                        node.location,
                    )])
                }
                Some(other) => {
                    let reason =
                        format!("`{other}` is not `uv`, `poetry`, `pep621` or `requirements`");
                    self.invalid(node, "project", ctx, reason);
                    PythonProject::Detect(options)
                }
                None => PythonProject::Detect(options),
            },
        }
    }

    fn packages(&mut self, node: &Node, python: &Ctx) -> Packages {
        let ctx = python.child("packages");
        let Some(fields) = self.fields(
            node,
            "packages",
            python,
            &ctx,
            Some(&keys::PACKAGES),
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
}

/// A Debian package name (`[a-z0-9][a-z0-9+.-]+`, policy 5.6.1), optionally `:arch` and
/// `=version` (`[epoch:]upstream[-revision]`, policy 5.6.12), as `apt-get install` takes it.
fn is_apt_package(text: &str) -> bool {
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

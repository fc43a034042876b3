//! Build-arg expansion over a whole spec.

use std::collections::BTreeMap;

use crate::error::{ErrorKind, SpecError, SpecErrors};
use crate::interpolate::{InterpolateError, interpolate, interpolate_shell, referenced_args};
use crate::location::{Location, Spanned};
use crate::model::{Command, Serve, ServiceKind, Spec};
use crate::text::shown;

/// Calls `f` on every string that may hold `${...}`, with a description of where it is.
/// This list is the contract: image, builder_image, command, entrypoint, env values,
/// node.env values, labels values, build_steps.
pub(crate) fn for_each_interpolated(
    spec: &mut Spec,
    f: &mut dyn FnMut(&mut Spanned<String>, &str),
) {
    for service in &mut spec.services {
        let name = service.name.value.clone();
        let at = |field: &str| format!("in `{field}` of service `{name}`");
        match &mut service.kind {
            ServiceKind::Python(python) => {
                for image in [&mut python.image, &mut python.builder_image]
                    .into_iter()
                    .flatten()
                {
                    f(image, &at("python.image"));
                }
                for step in &mut python.build_steps {
                    for part in step.parts_mut() {
                        f(part, &at("python.build_steps"));
                    }
                }
            }
            ServiceKind::Node(node) => {
                f(&mut node.image, &at("node.image"));
                for (key, value) in &mut node.env {
                    f(value, &at(&format!("node.env.{key}")));
                }
            }
        }
        if let Some(Serve::Nginx(nginx)) = &mut service.serve {
            f(&mut nginx.image, &at("serve.nginx.image"));
        }
        for (field, command) in [
            ("command", &mut service.command),
            ("entrypoint", &mut service.entrypoint),
        ] {
            if let Some(command) = command {
                for part in command.parts_mut() {
                    f(part, &at(field));
                }
            }
        }
        for (key, value) in &mut service.env {
            f(value, &at(&format!("env.{key}")));
        }
        for (key, value) in &mut service.labels {
            f(value, &at(&format!("labels.{key}")));
        }
    }
}

/// Calls `f` on every shell-form-capable command: `command`, `entrypoint`, `build_steps`.
fn for_each_shell_command(spec: &mut Spec, f: &mut dyn FnMut(&mut Command, &str)) {
    for service in &mut spec.services {
        let name = service.name.value.clone();
        let at = |field: &str| format!("in `{field}` of service `{name}`");
        if let ServiceKind::Python(python) = &mut service.kind {
            for step in &mut python.build_steps {
                f(step, &at("python.build_steps"));
            }
        }
        if let Some(command) = &mut service.command {
            f(command, &at("command"));
        }
        if let Some(command) = &mut service.entrypoint {
            f(command, &at("entrypoint"));
        }
    }
}

/// An image reference after expansion: no spaces or control characters (it lands in an LLB
/// source and a Dockerfile's `FROM` line).
fn is_image_text(text: &str) -> bool {
    !text.is_empty() && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl Spec {
    /// The spec with every `${...}` expanded, taking values from `args` (the build args given
    /// to the build, e.g. `--build-arg`) over the declared defaults.
    pub fn resolve_args(&self, args: &BTreeMap<String, String>) -> Result<Spec, SpecErrors> {
        let mut spec = self.clone();
        let mut errors = Vec::new();
        let declared = self.args.clone();
        let file = self.file.clone();
        // Shell forms first: their references become positional parameters, so the generic
        // pass below (which would paste values into the script) no longer sees them.
        // An exec form that runs a shell script (`[sh, -c, "…${X}"]`) is shell code too.
        for_each_shell_command(&mut spec, &mut |command, context| {
            let (shell, script) = match command {
                Command::Shell(script) => ("/bin/sh".to_owned(), script.clone()),
                Command::Exec(parts) => match Command::exec_shell_script(parts) {
                    Some(index)
                        if parts[..index].iter().all(|p| !p.value.contains("${"))
                            && parts[index].value.contains("${") =>
                    {
                        if parts.len() > index + 1 {
                            // Its own `$0 $1 …` follow: our parameters cannot be numbered
                            // around them, and pasting values in would make them shell code.
                            errors.push(SpecError::new(
                                &file,
                                Some(parts[index].location),
                                ErrorKind::Interpolation {
                                    context: context.to_owned(),
                                    reason: "a `-c` script given its own arguments cannot \
                                             take build args; pass the value as one of those \
                                             arguments instead"
                                        .to_owned(),
                                },
                            ));
                            *command = Command::ShellArgs {
                                shell: parts[0].value.clone(),
                                script: parts[index].clone(),
                                args: Vec::new(),
                            };
                            return;
                        }
                        (parts[0].value.clone(), parts[index].clone())
                    }
                    _ => return,
                },
                Command::ShellArgs { .. } => return,
            };
            match interpolate_shell(&script, args, &declared) {
                Ok((_, values)) if values.is_empty() => {}
                Ok((expanded, values)) => {
                    *command = Command::ShellArgs {
                        shell,
                        script: Spanned::new(expanded, script.location),
                        args: values,
                    };
                }
                Err(error) => {
                    errors.push(to_spec_error(&file, context, error));
                    // Reported once: the pass below skips it.
                    *command = Command::ShellArgs {
                        shell,
                        script,
                        args: Vec::new(),
                    };
                }
            }
        });
        for_each_interpolated(&mut spec, &mut |value, context| match interpolate(
            value, args, &declared,
        ) {
            Ok(expanded) if context.contains("image`") && !is_image_text(&expanded) => {
                errors.push(SpecError::new(
                    &file,
                    Some(value.location),
                    ErrorKind::Interpolation {
                        context: context.to_owned(),
                        reason: format!("`{}` is not an image reference", shown(&expanded)),
                    },
                ));
            }
            Ok(expanded) => value.value = expanded,
            Err(error) => errors.push(to_spec_error(&file, context, error)),
        });
        if errors.is_empty() {
            Ok(spec)
        } else {
            Err(SpecErrors::new(errors))
        }
    }

    /// One value expanded the same way as [`Spec::resolve_args`] does.
    pub fn interpolate(
        &self,
        value: &Spanned<String>,
        args: &BTreeMap<String, String>,
    ) -> Result<String, SpecError> {
        interpolate(value, args, &self.args)
            .map_err(|error| to_spec_error(&self.file, "in this value", error))
    }

    /// Every build arg the spec refers to with `${...}`, and where.
    pub fn referenced_args(&self) -> BTreeMap<String, Vec<Location>> {
        let mut spec = self.clone();
        let mut out: BTreeMap<String, Vec<Location>> = BTreeMap::new();
        for_each_interpolated(&mut spec, &mut |value, _| {
            // Validation already rejected malformed references.
            for name in referenced_args(value).unwrap_or_default() {
                out.entry(name).or_default().push(value.location);
            }
        });
        for locations in out.values_mut() {
            locations.sort();
            locations.dedup();
        }
        out
    }
}

fn to_spec_error(file: &str, context: &str, error: InterpolateError) -> SpecError {
    let location = Some(error.location());
    let kind = match error {
        InterpolateError::Syntax { reason, .. } => ErrorKind::Interpolation {
            context: context.to_owned(),
            reason,
        },
        InterpolateError::Undeclared { name, .. } => ErrorKind::UndeclaredArg {
            name,
            context: context.to_owned(),
            suggestion: None,
        },
    };
    SpecError::new(file, location, kind)
}

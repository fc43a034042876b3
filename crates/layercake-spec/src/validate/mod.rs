//! The spanned YAML tree → a validated [`Spec`] with defaults filled in. Every problem found is
//! collected (not just the first), so one run of `layercake check` shows them all.

mod assets;
mod checker;
mod context;
mod fields;
mod healthcheck;
mod interpolation;
mod node;
mod paths;
mod python;
mod secrets;
mod serve;
mod services;
mod suggest;
mod top;
mod user;
mod values;

use crate::error::{ErrorKind, SpecError, SpecErrors};
use crate::model::Spec;
use crate::yaml;

use checker::Checker;

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

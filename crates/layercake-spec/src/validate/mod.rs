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
pub(crate) mod suggest;
mod top;
mod user;
mod values;

use crate::error::{ErrorKind, SpecError, SpecErrors};
use crate::model::Spec;
use crate::yaml;

use checker::Checker;

/// Specs bigger than this are refused before any parsing.
pub const MAX_SPEC_BYTES: usize = 1024 * 1024;

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

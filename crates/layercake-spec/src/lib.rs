//! The `layercake.yaml` spec: model, parser, validation and build-arg interpolation.
//!
//! ```
//! let text = r#"
//! services:
//!   api:
//!     python: { version: "3.12" }
//!     command: [uvicorn, app.main:app]
//!     port: 8000
//! "#;
//! let spec = layercake_spec::parse("layercake.yaml", text).unwrap();
//! let api = spec.service("api").unwrap();
//! assert_eq!(api.python().unwrap().image.as_ref().unwrap().value, "python:3.12-slim");
//! ```
//!
//! Parsing is pure (no IO) and goes in two steps: YAML → a tree of spanned nodes
//! (`serde-saphyr`), then that tree → a validated [`Spec`] with every default filled in. All the
//! problems found are reported together ([`SpecErrors`]), each with file, line, column and a
//! rustc-style snippet. Values later stages may point at are [`Spanned`].
//!
//! Strings that may hold `${VAR}`, `${VAR:-default}` or `$$` (images, commands, build steps,
//! env and label values) are kept as written; [`Spec::resolve_args`] expands them with the
//! build args given to a build. Validation already checks that every `${VAR}` without a
//! default names an arg declared under `args:`.
//!
//! [`json_schema`] describes the same format as a JSON Schema for editors. It is generated from
//! the one description of the format's keys (`keys.rs`) that validation takes its known keys from.

mod duration;
mod encoding;
mod error;
mod interpolate;
mod keys;
mod location;
mod model;
mod paths;
mod resolve;
mod schema;
mod text;
mod validate;
mod yaml;

pub use duration::{DurationError, parse_duration};
pub use encoding::parse_bytes;
pub use error::{ErrorKind, SpecError, SpecErrors};
pub use interpolate::{InterpolateError, interpolate, referenced_args};
pub use location::{Location, Spanned};
pub use model::*;
pub use paths::PathError;
pub use schema::json_schema;
pub use text::{config_text_problem, shown, shown_lines, value_problem};
pub use validate::{MAX_SPEC_BYTES, parse};

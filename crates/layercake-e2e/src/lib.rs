//! A small harness for driving the real engine from tests: layercake builds through
//! `docker buildx build`, then the images and containers they produce.
//!
//! ```no_run
//! use layercake_e2e::Engine;
//!
//! # fn main() -> Result<(), layercake_e2e::HarnessError> {
//! let engine = Engine::new("cold_api")?;
//! let project = engine.project("example")?;          // a private copy of testdata/example
//! let image = engine.image_name("api");              // removed again when `engine` drops
//! let report = engine.build(&project).target("api").tag(&image).run()?;
//! report.ensure_success()?;
//! assert!(report.step("[api wheels")?.executed());   // pip printed something: it ran
//! # Ok(()) }
//! ```
//!
//! - [`Engine`] hands out unique image names, registry references, project copies and
//!   containers, and removes all of them when dropped, also when a test fails.
//! - [`Build`] runs `docker buildx build --progress=rawjson` in a project copy; the
//!   [`BuildReport`] tells per step (matched by name prefix, like `[api wheels`) whether it
//!   existed, was cached, ran, printed process output, or failed.
//! - Containers: [`Engine::run`], [`Engine::wait_healthy`], [`Engine::exec`], and
//!   [`http_get`] for a published port.
//! - Images and the local registry: [`Engine::image_files`], [`Engine::image_user`],
//!   [`Engine::save_image`], [`registry_blobs`], [`registry_platforms`], and
//!   [`find_marker`] to grep layers (gzip or plain tar) for a string.
//!
//! Every call shells out to the `docker`, `curl`, `tar` and `gzip` on the host; the tests
//! assume the rig (`scripts/rig.sh`) and the `layercake:dev` frontend image exist. With
//! `LAYERCAKE_FRONTEND=<image>`, specs that have a `# syntax=` line are built by that image
//! instead (passed as the `BUILDKIT_SYNTAX` build arg, which wins over the line).

mod build;
mod command;
mod engine;
mod error;
mod http;
mod project;
mod registry;
mod report;
mod scan;

pub use build::{Build, buildx_has_call, frontend_override};
pub use engine::{Container, Engine, string_list};
pub use error::HarnessError;
pub use http::{HttpResponse, http_get};
pub use project::Project;
pub use registry::{REGISTRY, RegistryBlob, registry_blobs, registry_manifest, registry_platforms};
pub use report::{BuildReport, Step};
pub use scan::{contains, find_marker};

//! # buildkit-frontend
//!
//! A small runtime for writing a [BuildKit] gateway frontend in Rust: the
//! program that `# syntax=<image>` starts, which turns a build file into LLB
//! and hands the result back to BuildKit. It knows nothing about any
//! particular build-file format.
//!
//! BuildKit starts the frontend image's entrypoint and serves the
//! `LLBBridge` gRPC API on the process's **stdin/stdout**; the frontend is
//! the client. This crate provides:
//!
//! - **Transport** ([`connect_stdio`]): HTTP/2 gRPC over non-blocking pipe
//!   handles for fd 0/1 (a socket also works), 16 MiB message limits, and a
//!   clear error when started from a terminal. Nothing is ever written to
//!   stdout by this crate.
//! - **Options** ([`BuildEnv`], [`FrontendOpts`]): the
//!   `BUILDKIT_FRONTEND_OPT_<n>` options, session id and workers, with typed
//!   helpers for what `docker buildx build` sends: `filename`, `target`,
//!   `build-arg:*`, `label:*`, `platform` (normalised like BuildKit),
//!   `cache-imports`/`cache-from`, `no-cache`, `image-resolve-mode`,
//!   `force-network-mode`, `add-hosts`, `SOURCE_DATE_EPOCH`, `requestid`…
//! - **Client** ([`Client`]): `Ping` capabilities, image resolution,
//!   `Solve` (with the user's cache imports: BuildKit does not add
//!   `--cache-from` to a frontend's solves), file reads, `Inputs`, `Warn`,
//!   `Return`.
//! - **Results** ([`ImageResults`], [`FrontendResult`], [`subrequests`]):
//!   single- and multi-platform image results with `refs.platforms`, and
//!   `--call` answers (`targets`, `outline`, `subrequests.describe`).
//! - **Entry** ([`run`]): connect, ping, call your handler, `Return` its
//!   result or error (shown to the user by buildx, with a source snippet if
//!   the error carries a [`SourceLocation`]), exit 0.
//! - **Testing** (`testing`, cargo feature `testing`): a fake `LLBBridge`
//!   that records what a frontend asks for, and a runner that starts a
//!   frontend binary on OS pipes to it, as BuildKit does.
//!
//! ```no_run
//! use buildkit_frontend::{BuildError, Client, FrontendResult, run};
//!
//! async fn build(client: Client) -> Result<FrontendResult, BuildError> {
//!     let target = client.opts().target().unwrap_or("default").to_string();
//!     Err(BuildError::new(format!("nothing to build for {target}")))
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     run(build)
//! }
//! ```
//!
//! [BuildKit]: https://github.com/moby/buildkit

mod client;
mod error;
mod opts;
mod result;
mod run;
pub mod subrequests;
#[cfg(feature = "testing")]
pub mod testing;
mod transport;

/// Platforms are buildkit-llb's: the ones the options parse are the ones LLB ops take.
pub use buildkit_llb::{
    NetMode, NoCache, Platform, PlatformError, ResolveMode, parse_platform_list,
};
pub use client::{Caps, Client, ResolvedImage, Warning, caps};
pub use error::{BuildError, ClientError, SourceLocation, SourceRange};
pub use opts::{BuildEnv, CacheImport, FrontendOpts, HostIp, OptsError, WorkerInfo};
pub use result::{
    FrontendResult, IMAGE_BASE_CONFIG_KEY, IMAGE_CONFIG_KEY, ImageResults, PLATFORMS_KEY,
    PlatformImage, ResultError, SOURCE_DATE_EPOCH_KEY, SolvedRef,
};
pub use run::{Outcome, run, serve};
pub use transport::{MAX_MESSAGE_SIZE, TransportError, connect_io, connect_stdio};

//! # buildkit-llb
//!
//! A typed, deterministic builder for [BuildKit](https://github.com/moby/buildkit) LLB graphs,
//! for Rust frontends. It writes the same bytes, and so the same op digests and cache keys, as
//! BuildKit's own Go client (`client/llb`, tracked at v0.32.2), using the wire types of
//! `buildkit-proto`.
//!
//! - **Values are immutable.** Every builder ends in `build()`, which marshals the op at once
//!   and returns an [`Output`] (an `Arc`'d op plus an output index) that is cheap to clone and
//!   can feed any number of later ops. [`Output::scratch`] is the empty filesystem.
//! - **Sources**: [`Image`], [`Local`], [`Git`], [`Http`], with attribute keys exactly as
//!   BuildKit's `solver/pb/attr.go` ([`attr`]).
//! - **Exec**: [`Exec`] with env (always sorted), cwd, user, network, security, extra hosts,
//!   [`Mount`]s (writable layers, read-only binds with selectors, cache mounts, tmpfs),
//!   [`Secret`] files and env vars, and [`SshMount`]s. [`ExecState`] gives the root and each
//!   writable mount's result.
//! - **Files**: [`FileOp`] chaining [`FileCopy`], [`Mkdir`], [`Mkfile`] and [`Rm`] actions,
//!   encoded with BuildKit's input / relative-output indices.
//! - **Merge / diff**: [`Merge`], [`Diff`].
//! - **Metadata** on every builder: `custom_name`, `description`, `ignore_cache`,
//!   `export_cache`, `progress_group`, `worker_constraint`, `source_location` ([`SourceMap`]),
//!   and the LLB caps each op needs, recorded as BuildKit does ([`caps`]).
//! - **Marshal**: [`Definition::new`] gives the `pb.Definition` for a `SolveRequest`, ops in
//!   dependency order, deduplicated by digest, with the terminal op; [`Definition::required_caps`]
//!   lists the caps to check against `Ping`; [`Definition::to_json`] is a readable dump.
//!
//! No map that reaches the wire is a `HashMap`: the same graph gives the same bytes every run.
//!
//! ```
//! use buildkit_llb::{CacheSharing, FileCopy, Definition, Exec, FileOp, Image, Local, Mount, Platform};
//!
//! let base = Image::new("python:3.11-slim").platform(Platform::new("linux", "amd64")).build();
//! let ctx = Local::new("context").include_patterns(["backend/requirements.txt"]).build();
//! let wheels = Exec::new(["pip", "wheel", "--wheel-dir", "/wheels", "-r", "/src/requirements.txt"])
//!     .root(base.clone())
//!     .cwd("/src")
//!     .mount(Mount::readonly(ctx, "/src/requirements.txt").selector("backend/requirements.txt"))
//!     .mount(Mount::cache("/root/.cache/pip", "pip-3.11-linux-amd64").sharing(CacheSharing::Locked))
//!     .custom_name("[api wheels 1/1] pip wheel")
//!     .build()
//!     .unwrap();
//! let image = FileOp::new(base)
//!     .copy(FileCopy::new(wheels.root(), "/wheels", "/wheels").create_dest_path(true))
//!     .build()
//!     .unwrap();
//! let definition = Definition::new(&image);
//! assert!(definition.required_caps().contains("exec.mount.cache"));
//! let request_definition = definition.into_pb(); // SolveRequest.definition
//! assert_eq!(request_definition.def.len(), 5);
//! ```

mod definition;
mod digest;
mod dump;
mod error;
mod exec;
mod file;
mod gojson;
mod merge;
mod options;
mod output;
mod paths;
mod platform;
mod source;
mod sourcemap;

pub mod caps;
#[cfg(feature = "testing")]
pub mod testing;

pub use buildkit_proto::pb;
pub use caps::Caps;
pub use definition::Definition;
pub use digest::Digest;
pub use error::LlbError;
pub use exec::{
    CacheSharing, ContentCache, Exec, ExecState, Mount, NetMode, Secret, SecurityMode, SshMount,
};
pub use file::{FileCopy, FileOp, Mkdir, Mkfile, Owner, Rm, UserRef};
pub use merge::{Diff, Merge};
pub use options::{CUSTOM_NAME_KEY, NoCache, OpOptions};
pub use output::Output;
pub use platform::{Platform, PlatformError, parse_platform_list};
pub use source::{Differ, Git, Http, Image, Local, ResolveMode, attr, normalize_image_reference};
pub use sourcemap::{Position, Range, SourceLocation, SourceMap};

//! Test doubles for frontends built on this crate (cargo feature `testing`, off by default).
//!
//! [`FakeBridge`] plays BuildKit's side of the gateway: a tonic `LLBBridge` server that
//! answers `Ping` with the caps you give it, records every `Solve`, `ReadFile`, `Warn` and
//! `Return`, serves files from in-memory trees (one per `local://` source, found by decoding
//! each solved definition), and resolves every image to a fake but well-formed digest and a
//! config whose `Env` holds [`FAKE_IMAGE_PATH`].
//!
//! Serve it in-process with [`serve_on`] (any duplex stream, e.g. `tokio::io::duplex`), or
//! run a real frontend binary as BuildKit does, stdin/stdout on OS pipes, with
//! [`run_frontend`]:
//!
//! ```no_run
//! use std::process::Command;
//! use std::time::Duration;
//! use buildkit_frontend::testing::{FakeBridge, run_frontend};
//!
//! let fake = FakeBridge::default().with_local("dockerfile", [("build.yaml", "x: 1\n")]);
//! let mut command = Command::new("/path/to/frontend");
//! command.env("BUILDKIT_FRONTEND_OPT_0", "filename=build.yaml");
//! let run = run_frontend(&fake, command, Duration::from_secs(30))?;
//! assert!(run.status.success() && run.stdout_was_grpc());
//! assert_eq!(fake.returns().len(), 1);
//! # Ok::<(), std::io::Error>(())
//! ```

mod child;
mod fake;

pub use child::{FrontendRun, HTTP2_PREFACE, run_frontend};
pub use fake::{
    FAKE_IMAGE_PATH, FakeBridge, LocalSource, Recorded, default_image_config, fake_digest, serve_on,
};

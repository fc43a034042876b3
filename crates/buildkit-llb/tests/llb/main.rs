//! buildkit-llb's integration tests: one test binary, a module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod definition;
mod determinism;
mod ops;
mod snapshots;

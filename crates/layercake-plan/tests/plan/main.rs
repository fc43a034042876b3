//! layercake-plan's integration tests: one test binary, a module per concern.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

mod determinism;
mod llb_structure;
mod snapshots;
mod uv;

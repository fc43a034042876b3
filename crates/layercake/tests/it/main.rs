//! The binary's integration tests: one test binary, a module per concern (the CLI, the
//! frontend against a fake BuildKit, the tools, hostile input). Tests that need the real engine
//! are `#[ignore]`d for a plain `cargo test` (scripts/e2e.sh runs them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;
mod tools_support;

mod cli_commands;
mod frontend_build;
mod frontend_calls;
mod frontend_context;
mod hostile_cli;
mod hostile_compat;
mod hostile_contexts;
mod hostile_determinism;
mod hostile_engine;
mod tools_bake;
mod tools_ci;
mod tools_dockerfile;
mod tools_init;
mod tools_schema;

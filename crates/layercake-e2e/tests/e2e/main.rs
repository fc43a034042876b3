//! The end-to-end suite against the real engine (scripts/e2e.sh runs it): one test binary,
//! a module per concern. Every test is `#[ignore]`d for a plain `cargo test`.

mod common;

mod cold;
mod dockerignore;
mod frontend;
mod multi_platform;
mod poetry;
mod pyproject;
mod rebuilds;
mod registry_cache;
mod reproducible;
mod requirements;
mod secrets;
mod uv;
mod versions;
mod wheels;

//! The spec crate's integration tests: one test binary, a module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bad_specs;
mod hostile;
mod landing;
mod ok_specs;

//! The CI and platform-team commands: `bake`, `ci github`, `schema`, `init`, `dockerfile`.
//! Each turns the spec (or a project folder) into a file another tool reads; none talks to
//! BuildKit.

mod bake;
mod ci;
mod dockerfile;
mod error;
mod git;
mod init;
mod schema;
pub mod spec_file;

pub use bake::bake_command;
pub use ci::ci_command;
pub use dockerfile::dockerfile_command;
pub use init::init_command;
pub use schema::schema_command;

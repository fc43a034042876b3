//! Command-line flags: parsed and validated here, acted on elsewhere.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "layercake",
    version,
    about = "Fast, well-cached images from a short service spec, built by BuildKit"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run as a BuildKit gateway frontend (the frontend image's entrypoint; talks gRPC on stdio).
    Frontend,
    /// Print the build plan of a service: its stages, steps, inputs and image config.
    Plan(BuildArgs),
    /// Write the LLB of a service to stdout (protobuf bytes, or a readable JSON dump).
    Llb(LlbArgs),
    /// List the spec's services (the valid --target values).
    Targets(SpecArg),
    /// Check a spec and the dependency files it reads (lockfiles, pins), offline.
    Check(CheckArgs),
    /// HTTP health probe used inside images without Python or curl: exits 0 on a 2xx/3xx answer.
    Probe(ProbeArgs),
}

#[derive(Debug, Args)]
pub struct SpecArg {
    /// The spec file (layercake.yaml).
    pub spec: PathBuf,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The spec file (layercake.yaml).
    pub spec: PathBuf,
    /// The service to build; default: the spec's `default`, or its only service.
    #[arg(long)]
    pub target: Option<String>,
    /// Target platform, e.g. linux/amd64.
    #[arg(long, default_value = "linux/amd64")]
    pub platform: String,
    /// A build arg, KEY=VALUE (repeatable).
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// The build context; default: the folder holding the spec.
    #[arg(long)]
    pub context: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LlbArgs {
    #[command(flatten)]
    pub build: BuildArgs,
    /// Reference of the frontend image (the HTTP health probe is copied from it).
    #[arg(long, default_value = "layercake:dev")]
    pub frontend_image: String,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The spec file (layercake.yaml).
    pub spec: PathBuf,
    /// The build context; default: the folder holding the spec.
    #[arg(long)]
    pub context: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The URL to GET, http:// only (the probe runs next to the server).
    pub url: String,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 5)]
    pub timeout: u64,
}

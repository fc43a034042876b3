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
    /// Write a `docker buildx bake` file (JSON): one target per service, git tags, registry cache.
    Bake(BakeArgs),
    /// Print a CI workflow that builds and tests the spec's services with the registry cache.
    Ci(CiArgs),
    /// Print the JSON Schema of layercake.yaml (for editor completion and validation).
    Schema,
    /// Find Python and npm projects in a folder and write a starter layercake.yaml.
    Init(InitArgs),
    /// Print a Dockerfile equivalent to a service's build (for review and migration).
    Dockerfile(DockerfileArgs),
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
    /// Fail (exit 1) on warnings too, not only on errors.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The URL to GET: http:// to an IP address or localhost (the probe runs next to the server
    /// and resolves no names).
    pub url: String,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 5)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct BakeArgs {
    /// The spec file (layercake.yaml).
    pub spec: PathBuf,
    /// The build context; default: the folder holding the spec.
    #[arg(long)]
    pub context: Option<PathBuf>,
    /// Registry (and namespace) for tags and cache, e.g. ghcr.io/acme.
    #[arg(long)]
    pub registry: Option<String>,
    /// Application name in image names (`<app>-<service>`); default: the context folder's name.
    #[arg(long)]
    pub app: Option<String>,
    /// Target platform(s), e.g. linux/amd64,linux/arm64 (repeatable).
    #[arg(long = "platform", value_delimiter = ',')]
    pub platforms: Vec<String>,
    /// Push the images (bake output `type=registry`).
    #[arg(long)]
    pub push: bool,
    /// Write the bake file here instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CiArgs {
    #[command(subcommand)]
    pub provider: CiProvider,
}

#[derive(Debug, Subcommand)]
pub enum CiProvider {
    /// A GitHub Actions workflow.
    Github(CiGithubArgs),
}

#[derive(Debug, Args)]
pub struct CiGithubArgs {
    /// The spec file (layercake.yaml), as the workflow names it (relative to the repository root).
    pub spec: PathBuf,
    /// Registry (and namespace) for images and cache; default: ghcr.io/${{ github.repository_owner }}.
    #[arg(long)]
    pub registry: Option<String>,
    /// Application name in image names; default: the spec folder's name.
    #[arg(long)]
    pub app: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The project folder; default: the current folder.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Overwrite an existing layercake.yaml.
    #[arg(long)]
    pub force: bool,
    /// The `# syntax=` frontend image written on the first line.
    #[arg(long, default_value = "ghcr.io/layercake/layercake:1")]
    pub syntax: String,
}

#[derive(Debug, Args)]
pub struct DockerfileArgs {
    /// The spec file (layercake.yaml).
    pub spec: PathBuf,
    /// The service; default: the spec's `default`, or its only service.
    #[arg(long)]
    pub target: Option<String>,
    /// A build arg, KEY=VALUE (repeatable).
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// The build context; default: the folder holding the spec.
    #[arg(long)]
    pub context: Option<PathBuf>,
    /// Reference of the frontend image (the HTTP health probe is copied from it).
    #[arg(long, default_value = "layercake:dev")]
    pub frontend_image: String,
}

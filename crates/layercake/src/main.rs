//! `layercake`: the BuildKit frontend (`layercake frontend`, the image's entrypoint) and the
//! command line around the same spec → plan → LLB pipeline.

mod cli;
mod context_fs;
mod frontend;
mod load;
mod local;
mod probe;
mod tools;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Frontend => frontend::main(),
        cli::Command::Probe(args) => probe::main(&args),
        command => local::main(command),
    }
}

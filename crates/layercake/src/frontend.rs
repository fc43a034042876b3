//! `layercake frontend`: the BuildKit gateway handler.

use std::process::ExitCode;

pub fn main() -> ExitCode {
    eprintln!("layercake frontend: not wired yet");
    ExitCode::from(1)
}

use std::process::ExitCode;

use super::error::ToolError;
use crate::cli::InitArgs;

pub fn init_command(_args: &InitArgs) -> Result<ExitCode, ToolError> {
    Ok(ExitCode::SUCCESS)
}

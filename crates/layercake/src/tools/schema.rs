//! `layercake schema`: the spec's JSON Schema, for editors (yaml-language-server) and CI linters.

use std::process::ExitCode;

use super::error::ToolError;
use super::spec_file::write_stdout;

pub fn schema_command() -> Result<ExitCode, ToolError> {
    let mut text = serde_json::to_string_pretty(&layercake_spec::json_schema())
        .map_err(|e| ToolError::Usage(e.to_string()))?;
    text.push('\n');
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

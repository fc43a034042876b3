//! Reading a spec and the context files its plan needs, from disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use layercake_plan::{ContextFiles, files_to_read};

use super::error::ToolError;
use crate::load::{LoadedSpec, load};

pub fn read_spec(
    path: &Path,
    build_args: &BTreeMap<String, String>,
) -> Result<LoadedSpec, ToolError> {
    let bytes = std::fs::read(path).map_err(|source| ToolError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    load(&name, &bytes, build_args).map_err(|errors| {
        let rendered: Vec<String> = errors.iter().map(ToString::to_string).collect();
        ToolError::Spec(rendered.join("\n"))
    })
}

/// The build context: the one given, else the folder holding the spec.
pub fn context_dir(spec: &Path, context: Option<&PathBuf>) -> PathBuf {
    context.cloned().unwrap_or_else(|| {
        spec.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    })
}

/// Reads the files the planner asks for until it asks for nothing new.
pub fn read_plan_files(
    loaded: &LoadedSpec,
    target: &str,
    context: &Path,
) -> Result<ContextFiles, ToolError> {
    let mut files = ContextFiles::new();
    loop {
        let wanted = files_to_read(&loaded.services, target, &files)?;
        if wanted.is_empty() {
            return Ok(files);
        }
        for path in wanted {
            let full = context.join(&path);
            let contents = std::fs::read_to_string(&full)
                .map_err(|source| ToolError::Read { path: full, source })?;
            files.insert(path, contents);
        }
    }
}

pub fn write_stdout(text: &str) -> Result<(), ToolError> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(ToolError::Stdout)
}

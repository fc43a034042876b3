//! Reading a spec and the context files its plan needs, from disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use layercake_plan::{ContextFiles, FileScope, GatherError, gather};

use super::error::ToolError;
use crate::context_fs::{ContextDir, ContextError, read_regular_bytes};
use crate::load::{LoadedSpec, at_location, load, naming_location};

pub fn read_spec(
    path: &Path,
    build_args: &BTreeMap<String, String>,
) -> Result<LoadedSpec, ToolError> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    // A regular file of at most the spec limit: never a device or a FIFO, never read on past
    // the limit.
    let limit = layercake_spec::MAX_SPEC_BYTES;
    let bytes = match read_regular_bytes(path, &path.display().to_string(), limit) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Err(ToolError::Read {
                path: path.to_path_buf(),
                source: std::io::ErrorKind::NotFound.into(),
            });
        }
        Err(ContextError::TooLarge { .. }) => {
            let size = std::fs::metadata(path).map_or(0, |m| m.len());
            return Err(ToolError::Spec(format!(
                "error: the spec is {size} bytes; the limit is {limit} bytes (1 MiB)\n --> {name}"
            )));
        }
        Err(error) => return Err(error.into()),
    };
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

/// The build context with its ignore rules, read as strictly as the frontend reads it.
pub fn open_context(spec: &Path, context: Option<&PathBuf>) -> Result<ContextDir, ToolError> {
    Ok(ContextDir::open(&context_dir(spec, context), spec)?)
}

/// Reads the files the plan of `target` needs (following includes); a missing one is an error
/// positioned at the spec value that named it.
pub fn read_plan_files(
    loaded: &LoadedSpec,
    target: &str,
    context: &ContextDir,
) -> Result<ContextFiles, ToolError> {
    let gathered = gather(
        &loaded.services,
        FileScope::Plan { target },
        |wanted, optional| context.read_existing(wanted, optional),
    )
    .map_err(|e| match e {
        GatherError::Plan(e) => ToolError::Missing(at_location(
            &loaded.spec.file,
            crate::load::folder_location(&loaded.spec, target),
            &e.to_string(),
        )),
        GatherError::Read(e) => ToolError::from(e),
    })?;
    if let Some(path) = gathered.missing.first() {
        let location = naming_location(&loaded.spec, target, path);
        return Err(ToolError::Missing(at_location(
            &loaded.spec.file,
            location,
            &format!("service `{target}`: `{path}` was not found in the build context"),
        )));
    }
    Ok(gathered.files)
}

pub fn write_stdout(text: &str) -> Result<(), ToolError> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(ToolError::Stdout)
}

//! Which Python a service runs: the spec's `version`, or the project's — `.python-version`,
//! else `requires-python`'s lower bound, else Poetry's `python` constraint — and the images for
//! it.

use std::str::FromStr;

use pep508_rs::pep440_rs::{Operator, VersionSpecifiers};

use crate::error::PlanError;
use crate::planner::{ContextFiles, join_in_context};
use crate::settings::{PythonSettings, ServiceSettings};

/// The Python of a service, as the build uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PythonRuntime {
    /// Digits and dots, as an image tag takes it: `3.12`, `3.12.4`.
    pub version: String,
    pub image: String,
    pub builder_image: String,
    /// Where the version comes from, for `--call outline`.
    pub from: &'static str,
}

/// The files that may say the version when the spec does not (read if they exist).
pub(crate) fn version_files(service: &ServiceSettings, py: &PythonSettings) -> Vec<String> {
    if py.version.is_some() {
        return Vec::new();
    }
    [".python-version", "pyproject.toml"]
        .iter()
        .filter_map(|file| join_in_context(&service.path, file))
        .collect()
}

pub(crate) fn python_runtime(
    service: &ServiceSettings,
    py: &PythonSettings,
    known: &ContextFiles,
) -> Result<PythonRuntime, PlanError> {
    let (version, from) = match &py.version {
        Some(version) => (version.clone(), "the spec"),
        None => project_version(service, known).ok_or_else(|| PlanError::NoPythonVersion {
            service: service.name.clone(),
        })?,
    };
    let image = py
        .image
        .clone()
        .unwrap_or_else(|| format!("python:{version}-slim"));
    let builder_image = py.builder_image.clone().unwrap_or_else(|| image.clone());
    Ok(PythonRuntime {
        version,
        image,
        builder_image,
        from,
    })
}

fn project_version(
    service: &ServiceSettings,
    known: &ContextFiles,
) -> Option<(String, &'static str)> {
    let read = |file: &str| join_in_context(&service.path, file).and_then(|p| known.get(&p));
    if let Some(version) = read(".python-version").and_then(|text| pinned_version(text)) {
        return Some((version, ".python-version"));
    }
    let pyproject: toml::Table = toml::from_str(read("pyproject.toml")?).ok()?;
    let requires = pyproject
        .get("project")
        .and_then(|project| project.get("requires-python"))
        .and_then(toml::Value::as_str);
    if let Some(version) = requires.and_then(lower_bound) {
        return Some((version, "requires-python in pyproject.toml"));
    }
    let poetry = pyproject
        .get("tool")
        .and_then(|tool| tool.get("poetry"))
        .and_then(|poetry| poetry.get("dependencies"))
        .and_then(|dependencies| dependencies.get("python"))
        .and_then(toml::Value::as_str);
    poetry
        .and_then(poetry_lower_bound)
        .map(|version| (version, "Poetry's python in pyproject.toml"))
}

/// `.python-version`'s first version line (`3.12`, `3.12.4`); a line naming another
/// interpreter (`pypy3.10`, `3.13t`) is none.
fn pinned_version(text: &str) -> Option<String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))?;
    is_version(line).then(|| line.to_owned())
}

fn is_version(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

/// The lowest `major.minor` a `requires-python` admits: `>=3.11`, `~=3.11`, `==3.12.*`,
/// `>=3.10,<4`. An open range (`<4`) has none.
fn lower_bound(requires: &str) -> Option<String> {
    let specifiers = VersionSpecifiers::from_str(requires).ok()?;
    specifiers
        .iter()
        .filter(|specifier| {
            matches!(
                specifier.operator(),
                Operator::GreaterThanEqual
                    | Operator::TildeEqual
                    | Operator::Equal
                    | Operator::EqualStar
                    | Operator::ExactEqual
            )
        })
        .map(|specifier| specifier.version().release().to_vec())
        .max()
        .and_then(|release| {
            let major = release.first()?;
            let minor = release.get(1).copied().unwrap_or(0);
            Some(format!("{major}.{minor}"))
        })
}

/// The lowest `major.minor` of a Poetry constraint: `^3.11`, `~3.11`, `>=3.11,<4.0`, `3.12.*`.
fn poetry_lower_bound(constraint: &str) -> Option<String> {
    let first = constraint.split([',', '|']).next()?.trim();
    let version = first
        .trim_start_matches(['^', '~', '>', '=', ' '])
        .trim_end_matches(".*");
    let parts: Vec<&str> = version.split('.').take(2).collect();
    let candidate = match parts.as_slice() {
        [major] => format!("{major}.0"),
        [major, minor] => format!("{major}.{minor}"),
        _ => return None,
    };
    is_version(&candidate).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_the_files_projects_have() {
        assert_eq!(pinned_version("3.12\n").as_deref(), Some("3.12"));
        assert_eq!(
            pinned_version("# pyenv\n3.12.4\n").as_deref(),
            Some("3.12.4")
        );
        assert_eq!(pinned_version("pypy3.10\n"), None);
        assert_eq!(pinned_version("3.13t\n"), None);
        assert_eq!(lower_bound(">=3.11").as_deref(), Some("3.11"));
        assert_eq!(lower_bound(">=3.10,<4").as_deref(), Some("3.10"));
        assert_eq!(lower_bound("~=3.12").as_deref(), Some("3.12"));
        assert_eq!(lower_bound("==3.12.*").as_deref(), Some("3.12"));
        assert_eq!(lower_bound("<4"), None);
        assert_eq!(poetry_lower_bound("^3.11").as_deref(), Some("3.11"));
        assert_eq!(poetry_lower_bound(">=3.10,<4.0").as_deref(), Some("3.10"));
        assert_eq!(poetry_lower_bound("~3.12").as_deref(), Some("3.12"));
        assert_eq!(poetry_lower_bound("*"), None);
    }
}

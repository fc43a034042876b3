//! A PEP 621 project without a lock: the requirements its `pyproject.toml` lists (main
//! dependencies, the extras and dependency groups a service names), which the lock stage
//! resolves as it resolves requirement files, and whether the project itself is a package.

use std::collections::BTreeMap;

use pep508_rs::PackageName;
use serde::Deserialize;

use crate::locked::same_extra;
use crate::settings::Selection;

/// What a service installs from a `pyproject.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PyprojectRequirements {
    /// `[project].name`, normalised.
    pub name: PackageName,
    /// PEP 508 requirements, as written: the main dependencies, then each selected extra's and
    /// group's, in the order the spec names them.
    pub requirements: Vec<String>,
    /// The project has a `[build-system]`: it is a package, built from its code.
    pub is_package: bool,
}

/// Why a `pyproject.toml` cannot be installed from.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PyprojectError {
    #[error("pyproject.toml:{line}:{column}: {message}")]
    Toml {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("pyproject.toml has no [project] table")]
    NoProject,
    #[error("pyproject.toml: `{0}` is not a valid project name")]
    Name(String),
    #[error(
        "pyproject.toml: the dependencies are `dynamic` (the build backend computes them): give \
         the service `requirements:` files instead"
    )]
    Dynamic,
    #[error("pyproject.toml has no extra `{name}` (extras: {known})")]
    UnknownExtra { name: String, known: String },
    #[error("pyproject.toml has no dependency group `{name}` (groups: {known})")]
    UnknownGroup { name: String, known: String },
    #[error(
        "pyproject.toml: dependency group `{group}` includes `{included}`, which it does not have"
    )]
    UnknownInclude { group: String, included: String },
    #[error("pyproject.toml: `{text}` is not a PEP 508 requirement: {message}")]
    Requirement { text: String, message: String },
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Pyproject {
    project: Option<Project>,
    build_system: Option<toml::Table>,
    #[serde(default)]
    dependency_groups: BTreeMap<String, Vec<GroupEntry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Project {
    name: String,
    #[serde(default)]
    dependencies: Vec<String>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    dynamic: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum GroupEntry {
    Requirement(String),
    Include {
        #[serde(rename = "include-group")]
        include_group: String,
    },
}

/// Whether `text` is a PEP 621 project (it has a `[project]` table); a file that does not
/// parse is not one (reading it as one reports why).
pub(crate) fn has_project_table(text: &str) -> bool {
    toml::from_str::<toml::Table>(text).is_ok_and(|table| table.contains_key("project"))
}

pub(crate) fn pyproject_requirements(
    text: &str,
    selection: &Selection,
) -> Result<PyprojectRequirements, PyprojectError> {
    let pyproject: Pyproject = toml::from_str(text).map_err(|error| {
        let (line, column) = error
            .span()
            .map(|span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                (line, column)
            })
            .unwrap_or((1, 1));
        PyprojectError::Toml {
            line,
            column,
            message: error.message().to_owned(),
        }
    })?;
    let project = pyproject.project.ok_or(PyprojectError::NoProject)?;
    if project
        .dynamic
        .iter()
        .any(|field| field == "dependencies" || field == "optional-dependencies")
    {
        return Err(PyprojectError::Dynamic);
    }
    let name: PackageName = project
        .name
        .parse()
        .map_err(|_| PyprojectError::Name(project.name.clone()))?;
    let mut requirements = project.dependencies;
    for extra in &selection.extras {
        let found = project
            .optional_dependencies
            .iter()
            .find(|(name, _)| same_extra(name, extra));
        match found {
            Some((_, listed)) => requirements.extend(listed.iter().cloned()),
            None => {
                return Err(PyprojectError::UnknownExtra {
                    name: extra.clone(),
                    known: known(project.optional_dependencies.keys()),
                });
            }
        }
    }
    for group in &selection.groups {
        let mut seen = Vec::new();
        group_requirements(
            &pyproject.dependency_groups,
            group,
            &mut seen,
            &mut requirements,
        )?;
    }
    // Each becomes an argument of a pip or uv step: only a requirement may, never an option.
    for text in &requirements {
        if let Err(error) = text.parse::<pep508_rs::Requirement>() {
            return Err(PyprojectError::Requirement {
                text: text.clone(),
                message: error.message.to_string(),
            });
        }
    }
    Ok(PyprojectRequirements {
        name,
        requirements,
        is_package: pyproject.build_system.is_some(),
    })
}

fn known<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// A group's requirements, with the groups it includes (PEP 735), each group once.
fn group_requirements(
    groups: &BTreeMap<String, Vec<GroupEntry>>,
    group: &str,
    seen: &mut Vec<String>,
    out: &mut Vec<String>,
) -> Result<(), PyprojectError> {
    let Some((name, entries)) = groups.iter().find(|(name, _)| same_extra(name, group)) else {
        return Err(PyprojectError::UnknownGroup {
            name: group.to_owned(),
            known: known(groups.keys()),
        });
    };
    if seen.contains(name) {
        return Ok(());
    }
    seen.push(name.clone());
    for entry in entries {
        match entry {
            GroupEntry::Requirement(requirement) => out.push(requirement.clone()),
            GroupEntry::Include { include_group } => {
                if !groups.keys().any(|name| same_extra(name, include_group)) {
                    return Err(PyprojectError::UnknownInclude {
                        group: name.clone(),
                        included: include_group.clone(),
                    });
                }
                group_requirements(groups, include_group, seen, out)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = r#"
[project]
name = "Cake_Shop"
version = "1.0.0"
dependencies = ["flask>=3", "gunicorn"]

[project.optional-dependencies]
Postgres = ["psycopg[binary]>=3.2"]

[dependency-groups]
test = ["pytest>=8"]
dev = [{ include-group = "test" }, "ruff"]

[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"
"#;

    fn select(extras: &[&str], groups: &[&str]) -> Selection {
        Selection {
            extras: extras.iter().map(|s| (*s).to_owned()).collect(),
            groups: groups.iter().map(|s| (*s).to_owned()).collect(),
            package: None,
        }
    }

    #[test]
    fn main_dependencies_then_the_named_extras_and_groups() {
        let main = pyproject_requirements(APP, &select(&[], &[])).expect("main");
        assert_eq!(main.name.as_ref(), "cake-shop");
        assert_eq!(main.requirements, ["flask>=3", "gunicorn"]);
        assert!(main.is_package);
        let all = pyproject_requirements(APP, &select(&["postgres"], &["dev"])).expect("all");
        assert_eq!(
            all.requirements,
            [
                "flask>=3",
                "gunicorn",
                "psycopg[binary]>=3.2",
                "pytest>=8",
                "ruff"
            ]
        );
        assert!(has_project_table(APP));
        assert!(!has_project_table("[tool.poetry]\nname = \"x\"\n"));
    }

    #[test]
    fn what_cannot_be_installed_is_said() {
        let error = |text: &str, selection: Selection| {
            pyproject_requirements(text, &selection)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(error(APP, select(&["redis"], &[])).contains("extras: Postgres"));
        assert!(error(APP, select(&[], &["docs"])).contains("groups: dev, test"));
        assert_eq!(
            error(
                "[project]\nname = \"x\"\ndynamic = [\"dependencies\"]\n",
                select(&[], &[])
            ),
            PyprojectError::Dynamic.to_string()
        );
        assert!(error("[project\nname = 1\n", select(&[], &[])).starts_with("pyproject.toml:1:"));
        assert!(
            error(
                "[project]\nname = \"x\"\ndependencies = [\"--index-url=http://evil\"]\n",
                select(&[], &[])
            )
            .contains("is not a PEP 508 requirement")
        );
        let virtual_app = "[project]\nname = \"site\"\ndependencies = [\"django\"]\n";
        let read = pyproject_requirements(virtual_app, &select(&[], &[])).expect("read");
        assert!(!read.is_package);
    }
}

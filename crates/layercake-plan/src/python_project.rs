//! Which kind of python project a service is: what the spec says, or what its folder's files
//! show (`uv.lock`, else `poetry.lock`, else `requirements.txt`, else a pyproject.toml
//! `[project]`). Decided once, from the files the build read.

use std::borrow::Cow;

use crate::error::PlanError;
use crate::planner::{ContextFiles, join_in_context};
use crate::pyproject::has_project_table;
use crate::settings::{PythonProject, PythonSettings, Selection, ServiceSettings};

/// The files that say what a service folder is. The build asks for all of them at once; an
/// absent one is no error.
const PROBES: [&str; 4] = [
    "uv.lock",
    "pyproject.toml",
    "requirements.txt",
    "poetry.lock",
];

/// A python service's dependencies, as the build reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Project<'s> {
    /// Requirement files, relative to the service folder.
    Requirements(Cow<'s, [String]>),
    /// A uv project: `pyproject.toml` and `uv.lock` in the service folder.
    Uv(&'s Selection),
    /// A Poetry project: `pyproject.toml` and `poetry.lock` in the service folder.
    Poetry(&'s Selection),
    /// A PEP 621 `pyproject.toml` without a lock, resolved in the lock stage.
    Pyproject(&'s Selection),
}

impl Project<'_> {
    /// `--call outline`'s word for it, and why.
    pub fn describe(&self, py: &PythonSettings) -> String {
        let why = match py.project {
            PythonProject::Detect(_) => "found in the service folder",
            PythonProject::Requirements(_)
            | PythonProject::Uv(_)
            | PythonProject::Poetry(_)
            | PythonProject::Pyproject(_) => "as the spec says",
        };
        match self {
            Project::Requirements(files) if files.is_empty() => {
                format!("python project: no requirement files ({why})")
            }
            Project::Requirements(files) => {
                format!(
                    "python project: requirement files {} ({why})",
                    files.join(", ")
                )
            }
            Project::Uv(_) => format!("python project: uv (pyproject.toml and uv.lock, {why})"),
            Project::Poetry(_) => {
                format!("python project: Poetry (pyproject.toml and poetry.lock, {why})")
            }
            Project::Pyproject(_) => format!(
                "python project: pyproject.toml without a lock (its [project] dependencies, {why})"
            ),
        }
    }

    /// The requirement files the service declares (none for a project with a pyproject.toml).
    pub fn requirement_files(&self) -> &[String] {
        match self {
            Project::Requirements(files) => files,
            Project::Uv(_) | Project::Poetry(_) | Project::Pyproject(_) => &[],
        }
    }
}

/// The context paths of a uv project's two files.
pub(crate) fn uv_files(service: &ServiceSettings) -> Option<(String, String)> {
    locked_files(service, "uv.lock")
}

/// The context paths of the service's `pyproject.toml` and of `lock` beside it.
pub(crate) fn locked_files(service: &ServiceSettings, lock: &str) -> Option<(String, String)> {
    Some((
        join_in_context(&service.path, "pyproject.toml")?,
        join_in_context(&service.path, lock)?,
    ))
}

/// The pyproject.toml of the workspace member the service is, once uv.lock (which says where
/// the member is) was read; None for the folder's own project.
pub(crate) fn member_pyproject(
    service: &ServiceSettings,
    selection: &Selection,
    known: &ContextFiles,
) -> Option<Result<String, crate::uv_lock::UvLockError>> {
    let package = selection.package.as_deref()?;
    let (_, lock) = uv_files(service)?;
    let text = known.get(&lock)?;
    Some(crate::uv_lock::uv_member_path(text, package).map(|member| {
        let folder = join_in_context(&service.path, &member).unwrap_or_default();
        join_in_context(&folder, "pyproject.toml").unwrap_or_default()
    }))
}

/// What the build reads to tell the project kind: nothing when the spec says it.
pub(crate) fn probes(service: &ServiceSettings, py: &PythonSettings) -> Vec<String> {
    match py.project {
        PythonProject::Detect(_) => PROBES
            .iter()
            .filter_map(|file| join_in_context(&service.path, file))
            .collect(),
        PythonProject::Requirements(_)
        | PythonProject::Uv(_)
        | PythonProject::Poetry(_)
        | PythonProject::Pyproject(_) => Vec::new(),
    }
}

/// Whether the build has read what tells the project kind (for a project to detect: one of
/// its probes exists; the first round of reading asks for all of them).
pub(crate) fn decided(
    service: &ServiceSettings,
    py: &PythonSettings,
    known: &ContextFiles,
) -> bool {
    match py.project {
        PythonProject::Detect(_) => probes(service, py).iter().any(|p| known.contains_key(p)),
        PythonProject::Requirements(_)
        | PythonProject::Uv(_)
        | PythonProject::Poetry(_)
        | PythonProject::Pyproject(_) => true,
    }
}

/// The service's project. `known` holds the probes that exist, once they were read.
pub(crate) fn project<'s>(
    service: &ServiceSettings,
    py: &'s PythonSettings,
    known: &ContextFiles,
) -> Result<Project<'s>, PlanError> {
    let selection = match &py.project {
        PythonProject::Requirements(files) => return Ok(Project::Requirements(Cow::from(files))),
        PythonProject::Uv(selection) => return Ok(Project::Uv(selection)),
        PythonProject::Poetry(selection) => return Ok(Project::Poetry(selection)),
        PythonProject::Pyproject(selection) => return Ok(Project::Pyproject(selection)),
        PythonProject::Detect(selection) => selection,
    };
    let has = |file: &str| {
        join_in_context(&service.path, file).is_some_and(|path| known.contains_key(&path))
    };
    let folder = if service.path.is_empty() {
        ".".to_owned()
    } else {
        format!("{}/", service.path)
    };
    if has("uv.lock") {
        return Ok(Project::Uv(selection));
    }
    if has("poetry.lock") && has("pyproject.toml") {
        return Ok(Project::Poetry(selection));
    }
    let pyproject = join_in_context(&service.path, "pyproject.toml").and_then(|p| known.get(&p));
    let pep621 = pyproject.is_some_and(|text| has_project_table(text));
    if !has("requirements.txt") && !has("poetry.lock") && pep621 {
        return Ok(Project::Pyproject(selection));
    }
    if has("requirements.txt") {
        if *selection != Selection::default() {
            return Err(PlanError::SelectionWithoutProject {
                service: service.name.clone(),
                folder,
            });
        }
        return Ok(Project::Requirements(Cow::Owned(vec![
            "requirements.txt".to_owned(),
        ])));
    }
    Err(PlanError::NoPythonProject {
        service: service.name.clone(),
        found: if has("poetry.lock") {
            "a poetry.lock without its pyproject.toml"
        } else if has("pyproject.toml") {
            "its pyproject.toml has no [project] table: give `requirements:`"
        } else {
            "neither uv.lock nor requirements.txt"
        },
        folder,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python_service(project: PythonProject) -> (ServiceSettings, PythonSettings) {
        ServiceSettings::python_for_tests("backend", project)
    }

    fn files(paths: &[&str]) -> ContextFiles {
        paths
            .iter()
            .map(|p| ((*p).to_owned(), String::new()))
            .collect()
    }

    #[test]
    fn a_folder_is_a_uv_project_when_it_has_a_uv_lock_else_its_requirements() {
        let (service, py) = python_service(PythonProject::Detect(Selection::default()));
        assert_eq!(
            probes(&service, &py),
            [
                "backend/uv.lock",
                "backend/pyproject.toml",
                "backend/requirements.txt",
                "backend/poetry.lock"
            ]
        );
        assert!(!decided(&service, &py, &files(&[])));
        // uv.lock wins over a requirements.txt exported beside it.
        let both = files(&[
            "backend/uv.lock",
            "backend/pyproject.toml",
            "backend/requirements.txt",
        ]);
        assert!(decided(&service, &py, &both));
        assert!(matches!(project(&service, &py, &both), Ok(Project::Uv(_))));
        let requirements = files(&["backend/requirements.txt"]);
        assert_eq!(
            project(&service, &py, &requirements).map(|p| p.requirement_files().to_vec()),
            Ok(vec!["requirements.txt".to_owned()])
        );
        // What the spec says is not second-guessed by the files.
        let (given, py_given) =
            python_service(PythonProject::Requirements(vec!["prod.txt".into()]));
        assert!(probes(&given, &py_given).is_empty());
        assert_eq!(
            project(&given, &py_given, &both).map(|p| p.requirement_files().to_vec()),
            Ok(vec!["prod.txt".to_owned()])
        );
    }

    #[test]
    fn a_pyproject_with_a_project_table_and_no_lock_is_a_pep621_project() {
        let (service, py) = python_service(PythonProject::Detect(Selection::default()));
        let mut known = files(&[]);
        known.insert(
            "backend/pyproject.toml".into(),
            "[project]\nname = \"x\"\ndependencies = [\"flask\"]\n".into(),
        );
        assert!(matches!(
            project(&service, &py, &known),
            Ok(Project::Pyproject(_))
        ));
        // A requirements.txt beside it is what the project installs, as before.
        known.insert("backend/requirements.txt".into(), String::new());
        assert!(matches!(
            project(&service, &py, &known),
            Ok(Project::Requirements(_))
        ));
    }

    #[test]
    fn a_folder_without_a_project_says_what_it_holds() {
        let (service, py) = python_service(PythonProject::Detect(Selection::default()));
        let message = |paths: &[&str]| {
            project(&service, &py, &files(paths))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(message(&[]).contains("neither uv.lock nor requirements.txt"));
        // (The probes are empty here: a pyproject.toml without a [project] table.)
        assert!(message(&["backend/pyproject.toml"]).contains("no [project] table"));
        assert!(message(&["backend/poetry.lock"]).contains("without its pyproject.toml"));
        assert!(matches!(
            project(
                &service,
                &py,
                &files(&["backend/pyproject.toml", "backend/poetry.lock"])
            ),
            Ok(Project::Poetry(_))
        ));
        // uv options with no uv.lock to apply them to.
        let (service, py) = python_service(PythonProject::Detect(Selection {
            groups: vec!["prod".into()],
            ..Selection::default()
        }));
        assert!(matches!(
            project(&service, &py, &files(&["backend/requirements.txt"])),
            Err(PlanError::SelectionWithoutProject { .. })
        ));
    }
}

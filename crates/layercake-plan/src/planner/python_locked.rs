//! A project with a lock (uv or Poetry): its locked packages, and the project itself when it is
//! a package (built as a wheel from the code, installed without its dependencies, which the
//! lock's packages are).

use pep508_rs::PackageName;

use crate::error::PlanError;
use crate::locked::LockedClosure;
use crate::model::{
    Base, CopyStep, FileSource, Mount, Network, Part, RunsOn, StageId, StageKind, StageOutput,
};
use crate::poetry_lock::{PoetrySelection, poetry_closure, poetry_lock_stale};
use crate::python_deps::PinnedRequirements;
use crate::python_project::{Project, locked_files, member_pyproject};
use crate::settings::{PythonSettings, ServiceSettings};
use crate::uv_lock::{UvSelection, uv_closure, uv_lock_stale};

use super::steps::{quiet_pip, sh_with_args};
use super::{ContextFiles, Planner};

/// Where the project's source is mounted (read-only) in its wheel step, and where it is copied
/// to be built: a build backend may write into the tree it builds.
const PROJECT_SOURCE: &str = "/src";
const PROJECT_WHEEL_DIR: &str = "/project";

/// What a locked project's service installs: the lock's packages, and the project when it is
/// one.
pub(crate) struct LockedDependencies {
    pub(super) pinned: PinnedRequirements,
    /// The project when it is a package (built from its code), not a virtual project.
    pub(super) package: Option<LocalBuild>,
    /// The workspace members it needs, built from their folders.
    pub(super) members: Vec<LocalBuild>,
}

/// A package built from the context: the project itself, or a workspace member it needs.
#[derive(Debug, Clone)]
pub(crate) struct LocalBuild {
    pub(crate) name: PackageName,
    /// Its folder in the context.
    pub(crate) folder: String,
    /// What installs it: its name, under the marker of the environments that need it.
    pub(crate) requirement: String,
    /// Which member it is; None for the project itself.
    pub(crate) member: Option<Part>,
}

impl LocalBuild {
    /// The project itself, from `folder`.
    pub(crate) fn project(name: PackageName, folder: String) -> LocalBuild {
        LocalBuild {
            requirement: name.to_string(),
            name,
            folder,
            member: None,
        }
    }

    /// Its stages: the files, the wheel, the install layer.
    fn kinds(&self) -> (StageKind, StageKind, StageKind) {
        match self.member {
            None => (
                StageKind::ProjectSource,
                StageKind::ProjectWheel,
                StageKind::ProjectInstall,
            ),
            Some(part) => (
                StageKind::MemberSource(part),
                StageKind::MemberWheel(part),
                StageKind::MemberInstall(part),
            ),
        }
    }

    fn what(&self) -> &'static str {
        match self.member {
            None => "the project",
            Some(_) => "a workspace member",
        }
    }
}

/// Reads the service's `pyproject.toml` and its lock (`uv.lock`, `poetry.lock`): the lock must
/// be the project's, and not out of date with it. None for a project without a lock.
pub(crate) fn locked_dependencies(
    service: &ServiceSettings,
    py: &PythonSettings,
    project: &Project<'_>,
    files: &ContextFiles,
) -> Result<Option<LockedDependencies>, PlanError> {
    let (lock_name, selection) = match project {
        Project::Uv(selection) => ("uv.lock", *selection),
        Project::Poetry(selection) => ("poetry.lock", *selection),
        Project::Requirements(_) | Project::Pyproject(_) => return Ok(None),
    };
    if !py.pip_packages.is_empty() {
        return Err(PlanError::PipPackagesInLockedProject {
            service: service.name.clone(),
            lock: lock_name,
        });
    }
    let missing = |path: &str| PlanError::MissingFile {
        service: service.name.clone(),
        path: path.to_owned(),
    };
    let (pyproject_path, lock_path) =
        locked_files(service, lock_name).ok_or_else(|| PlanError::OutsideContext {
            service: service.name.clone(),
            path: service.path.clone(),
        })?;
    let pyproject = files
        .get(&pyproject_path)
        .ok_or_else(|| missing(&pyproject_path))?;
    let lock = files.get(&lock_path).ok_or_else(|| missing(&lock_path))?;
    let stale = |reason| PlanError::LockStale {
        service: service.name.clone(),
        lock: lock_name,
        reason,
    };
    let closure: LockedClosure = match project {
        Project::Uv(_) => {
            let failed = |error| PlanError::UvLock {
                service: service.name.clone(),
                error,
            };
            // A workspace member is checked against its own pyproject.toml.
            let checked = match member_pyproject(service, selection, files) {
                None => pyproject,
                Some(path) => {
                    let path = path.map_err(failed)?;
                    files.get(&path).ok_or_else(|| missing(&path))?
                }
            };
            let package = selection.package.as_deref();
            if let Some(reason) = uv_lock_stale(checked, lock, package).map_err(failed)? {
                return Err(stale(reason));
            }
            let uv = UvSelection {
                package,
                groups: &selection.groups,
                extras: &selection.extras,
            };
            uv_closure(pyproject, lock, &uv).map_err(failed)?
        }
        _ => {
            if selection.package.is_some() {
                return Err(PlanError::PackageWithoutWorkspace {
                    service: service.name.clone(),
                });
            }
            let failed = |error| PlanError::PoetryLock {
                service: service.name.clone(),
                error,
            };
            if let Some(reason) = poetry_lock_stale(pyproject, lock).map_err(failed)? {
                return Err(stale(reason));
            }
            let poetry = PoetrySelection {
                groups: &selection.groups,
                extras: &selection.extras,
            };
            poetry_closure(pyproject, lock, &poetry).map_err(failed)?
        }
    };
    let folder =
        crate::planner::join_in_context(&service.path, &closure.root_path).ok_or_else(|| {
            PlanError::OutsideContext {
                service: service.name.clone(),
                path: closure.root_path.clone(),
            }
        })?;
    let count = closure.locals.len();
    let members =
        closure
            .locals
            .iter()
            .enumerate()
            .map(|(index, local)| {
                let folder = crate::planner::join_in_context(&service.path, &local.path)
                    .ok_or_else(|| PlanError::OutsideContext {
                        service: service.name.clone(),
                        path: local.path.clone(),
                    })?;
                let mut requirement = local.name.to_string();
                if let Some(marker) = local.marker.as_ref().and_then(|m| m.contents()) {
                    requirement.push_str(&format!(" ; {marker}"));
                }
                Ok(LocalBuild {
                    name: local.name.clone(),
                    folder,
                    requirement,
                    member: Some(Part {
                        number: index + 1,
                        of: count,
                    }),
                })
            })
            .collect::<Result<_, PlanError>>()?;
    Ok(Some(LockedDependencies {
        pinned: PinnedRequirements::from_closure(&closure),
        package: closure
            .package()
            .map(|root| LocalBuild::project(root.clone(), folder)),
        members,
    }))
}

impl Planner<'_> {
    /// `project`: the project built as a wheel from its folder, on the wheels' base (its build
    /// backend comes from the index, as pip's build isolation fetches it). Keyed by the folder's
    /// files but its lock (`project-source`), so a code change rebuilds it and a lock bump
    /// does not.
    pub(super) fn project_wheel(
        &mut self,
        service: &ServiceSettings,
        py: &PythonSettings,
        builder: &Base,
        local: &LocalBuild,
    ) -> StageId {
        let name = service.name.as_str();
        let (source_kind, wheel_kind, _) = local.kinds();
        let (package, folder) = (&local.name, &local.folder);
        // The folder as the code copy takes it (the service's `include` and `exclude`, which
        // are relative to the service folder: a workspace member is taken whole), without the
        // lock, which the wheel does not depend on.
        let mut copy = self.context_copy(service, "", "/");
        if folder != &service.path {
            copy = CopyStep::new(
                "",
                FileSource::Context {
                    path: folder.clone(),
                },
                "/",
            )
            .contents();
        }
        copy.name = format!("copy {folder}/ (not its lock)");
        copy.exclude
            .extend(["uv.lock".to_owned(), "poetry.lock".to_owned()]);
        let mut source = self.draft(
            name,
            source_kind,
            "a local package's files but its lock: the key of its wheel",
            RunsOn::Target,
            Base::Scratch,
        );
        source.copy(copy);
        let source = self.finish(source, StageOutput::Root, false);

        let mut draft = self.draft(
            name,
            wheel_kind,
            "a local package, built as a wheel from its code",
            RunsOn::Target,
            builder.clone(),
        );
        let args = sh_with_args(
            "cp -R \"$1/.\" /tmp/project && cd /tmp/project && \
             exec python3 -m pip wheel --no-deps --no-cache-dir --wheel-dir \"$2\" .",
            [PROJECT_SOURCE.to_owned(), PROJECT_WHEEL_DIR.to_owned()],
        );
        let secrets = self.dependency_secrets(service, &draft);
        draft.run(
            &format!("pip wheel {package} ({})", local.what()),
            args,
            |step| {
                step.env = py.pip_env.clone();
                quiet_pip(step);
                step.mounts
                    .push(Mount::stage_root(PROJECT_SOURCE, source.clone()));
                step.mounts.push(Mount::Output {
                    target: PROJECT_WHEEL_DIR.into(),
                    from: None,
                });
                step.mounts.push(Mount::Tmpfs {
                    target: "/tmp".into(),
                });
                step.mounts.extend(secrets);
            },
        );
        self.finish(draft, StageOutput::Mount(PROJECT_WHEEL_DIR.into()), false)
    }

    /// The project's install onto `system`, without dependencies and with the network off, as
    /// a layer of its own.
    pub(super) fn project_layer(
        &mut self,
        service: &ServiceSettings,
        system: &StageId,
        wheel: &StageId,
        local: &LocalBuild,
    ) -> StageId {
        let (_, _, install_kind) = local.kinds();
        let mut draft = self.draft(
            &service.name,
            install_kind,
            "a local package, installed from its wheel without its dependencies",
            RunsOn::Target,
            Base::Stage(system.clone()),
        );
        draft.run(
            &project_install_label(local),
            project_install_args(local),
            |step| project_install_step(step, wheel),
        );
        self.finish(draft, StageOutput::Diff, true)
    }
}

/// `pip install --no-deps {name} (the project)`.
pub(super) fn project_install_label(local: &LocalBuild) -> String {
    format!("pip install --no-deps {} ({})", local.name, local.what())
}

/// `pip install --no-deps` of a local package from its wheel alone (skipped where its marker
/// does not hold).
pub(super) fn project_install_args(local: &LocalBuild) -> Vec<String> {
    sh_with_args(
        "exec python3 -m pip install --no-deps --no-index --no-cache-dir --find-links \"$1\" \"$2\"",
        [PROJECT_WHEEL_DIR.to_owned(), local.requirement.clone()],
    )
}

/// What the project's install needs: its wheel, no network, nothing but its files written.
pub(super) fn project_install_step(step: &mut crate::model::RunStep, wheel: &StageId) {
    Planner::pip_install_step(step);
    step.network = Network::None;
    step.mounts
        .push(Mount::stage_root(PROJECT_WHEEL_DIR, wheel.clone()));
}

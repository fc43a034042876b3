//! The stages of a python service: requirements, builder, wheels, system, installs, code, runtime.

use std::collections::BTreeMap;

use crate::error::PlanError;
use crate::image_config::ImageConfig;
use crate::model::{
    Base, CopyStep, FileSource, Mount, Network, RunsOn, StageId, StageKind, StageOutput,
};
use crate::python_deps::{
    PinnedRequirement, PinnedRequirements, Route, collect, requirement_closure,
};
use crate::python_project::{Project, project};
use crate::python_runtime::{PythonRuntime, python_runtime};
use crate::settings::{PythonSettings, ServiceSettings};

use super::draft::StageDraft;
use super::health::{HttpProber, healthcheck};
use super::image::Process;
use super::python_install::{pip_install_lines, requirement_file_args};
use super::python_locked::{
    LocalBuild, locked_dependencies, project_install_args, project_install_label,
    project_install_step,
};
use super::steps::{display_dir, quiet_pip, strings};
use super::{ContextFiles, LOCK_DIR, Planner, REQUIREMENTS_MOUNT, WHEELS_DIR, join_in_context};

impl Planner<'_> {
    /// The code (and assets) copied onto scratch, to be merged last (like `COPY --link`): the
    /// merge needs none of the layers below it, so layers restored from a registry cache are
    /// not downloaded and unpacked just to copy the code onto them.
    pub(super) fn code_layer(&mut self, name: &str, code: Vec<CopyStep>) -> StageId {
        let mut code_layer = self.draft(
            name,
            StageKind::Code,
            "the code (and assets) alone, as the image's last layer",
            RunsOn::Target,
            Base::Scratch,
        );
        for copy in code {
            code_layer.copy(copy);
        }
        self.finish(code_layer, StageOutput::Root, false)
    }

    /// The runtime image's own steps, before anything is installed: its apt packages, its user.
    pub(super) fn system_steps(
        &self,
        draft: &mut StageDraft,
        service: &ServiceSettings,
        py: &PythonSettings,
        python: &PythonRuntime,
    ) {
        if !py.runtime_packages.is_empty() {
            self.apt_install(draft, &python.image, &py.runtime_packages);
        }
        Self::create_user(draft, &service.user);
    }

    /// The `requirements` stage: exactly the requirement files, at their context paths; the key
    /// of the steps that read the files (the unpinned `pip wheel`, the single `pip install`).
    /// Made once, by the first step that needs it: with pinned requirements and install layers
    /// no step does, as every step gets its own lines.
    pub(super) fn requirements_stage(
        &mut self,
        service: &ServiceSettings,
        files: &[String],
    ) -> StageId {
        let id = StageId::new(&service.name, StageKind::Requirements);
        if self.stages.iter().any(|stage| stage.id == id) {
            return id;
        }
        let mut requirements = self.draft(
            &service.name,
            StageKind::Requirements,
            "the requirement files, nothing else: the key of the steps that read them",
            RunsOn::Target,
            Base::Scratch,
        );
        for path in files {
            self.follow_paths.insert(path.clone());
        }
        requirements.copy(
            CopyStep::new(
                format!("copy {}", files.join(" ")),
                FileSource::Context {
                    path: String::new(),
                },
                "/",
            )
            .contents()
            // Paths, not patterns: `req[1].txt` is that file.
            .including(
                files
                    .iter()
                    .map(|f| crate::ignore::literal_pattern(f))
                    .collect(),
            ),
        );
        self.finish(requirements, StageOutput::Root, false)
    }

    /// The wheels' base: the builder image, with build packages in a `builder` stage of its own
    /// when the spec lists any. Made once.
    pub(super) fn builder_base(
        &mut self,
        service: &ServiceSettings,
        py: &PythonSettings,
        python: &PythonRuntime,
    ) -> Base {
        if py.build_packages.is_empty() {
            return Base::Image(python.builder_image.clone());
        }
        let id = StageId::new(&service.name, StageKind::Builder);
        if self.stages.iter().any(|stage| stage.id == id) {
            return Base::Stage(id);
        }
        let mut builder = self.draft(
            &service.name,
            StageKind::Builder,
            "the wheel-building image with its build packages",
            RunsOn::Target,
            Base::Image(python.builder_image.clone()),
        );
        self.apt_install(&mut builder, &python.builder_image, &py.build_packages);
        Base::Stage(self.finish(builder, StageOutput::Root, false))
    }

    pub(super) fn python(
        &mut self,
        service: &ServiceSettings,
        py: &PythonSettings,
        files: &ContextFiles,
    ) -> Result<(StageId, ImageConfig), PlanError> {
        let name = service.name.as_str();
        let python = python_runtime(service, py, files)?;
        let project = project(service, py, files)?;
        let declared = project.requirement_files();
        let locked = locked_dependencies(service, py, &project, files)?;
        let requirement_files = requirement_closure(service, py, files)?;
        let collected = collect(service, py, &requirement_files, files)?;
        let mut copied_files = requirement_files.clone();
        copied_files.sort();
        // `requirements.txt -r dev.txt` and `-r requirements.txt -r dev.txt uwsgi`, for step names.
        let mut shown = declared.join(" -r ");
        let mut shown_args: Vec<String> = declared.iter().map(|f| format!("-r {f}")).collect();
        shown_args.extend(collected.packages.iter().cloned());
        let shown_args = shown_args.join(" ");
        // What the step names call the set: the files and packages, or the project's file.
        match &project {
            Project::Uv(_) => shown = "uv.lock".to_owned(),
            Project::Poetry(_) => shown = "poetry.lock".to_owned(),
            Project::Pyproject(_) => shown = "pyproject.toml".to_owned(),
            Project::Requirements(_) if !collected.packages.is_empty() => {
                if !shown.is_empty() {
                    shown.push(' ');
                }
                shown.push_str(&collected.packages.join(" "));
            }
            Project::Requirements(_) => {}
        }

        // What is installed, and how: nothing; a pinned closure (the files themselves, or the
        // lock stage's answer), built per bucket; or the files in one `pip wheel -r` step.
        let mut lock_stage = None;
        let locked_pinned = locked.as_ref().map(|locked| &locked.pinned);
        let dependencies = match (locked_pinned, collected.route(), &self.options.lock) {
            // A uv or Poetry project: the lock's packages, pinned, are the closure.
            (Some(pinned), ..) if pinned.requirements.is_empty() => Dependencies::Nothing,
            (Some(pinned), ..) => Dependencies::Pinned(pinned.clone()),
            (None, Route::Nothing, _) => Dependencies::Nothing,
            (None, Route::Closure, _) => {
                Dependencies::Pinned(PinnedRequirements::from_files(&collected))
            }
            (None, Route::Lock, Some(lock)) => {
                let (_, stage) = self.lock_stages(
                    service,
                    py,
                    declared,
                    &requirement_files,
                    &collected.packages,
                    &python,
                );
                lock_stage = Some(stage);
                Dependencies::Pinned(PinnedRequirements::from_lock(&collected, lock))
            }
            // Direct references, or no lock answer (the CLI, the Dockerfile renderer).
            (None, Route::Files | Route::Lock, _) => {
                // 1. requirements: the requirement files, for the steps that read them.
                if !copied_files.is_empty() {
                    self.requirements_stage(service, &copied_files);
                }
                Dependencies::Files
            }
        };

        // 2. builder, 3. wheels: with a pinned closure, one `pip wheel --no-deps` per group of a
        // few requirements, each keyed by its own lines only, merged into one folder; otherwise
        // one `pip wheel` over the files. Either way the result holds only wheels.
        let (wheels, groups) = match &dependencies {
            Dependencies::Nothing => (None, None),
            Dependencies::Pinned(pinned) => {
                let builder = self.builder_base(service, py, &python);
                let (wheels, groups) =
                    self.wheel_per_requirement(service, py, &python, &builder, pinned);
                (Some(wheels), Some(groups))
            }
            Dependencies::Files => {
                let builder = self.builder_base(service, py, &python);
                let requirements = (!copied_files.is_empty())
                    .then(|| self.requirements_stage(service, &copied_files));
                let mut wheels = self.draft(
                    name,
                    StageKind::Wheels,
                    "every wheel the service needs, built once per requirements change",
                    RunsOn::Target,
                    builder,
                );
                let mut args =
                    strings(&["python3", "-m", "pip", "wheel", "--wheel-dir", WHEELS_DIR]);
                args.extend(requirement_file_args(service, declared));
                args.extend(collected.packages.iter().cloned());
                args.extend(py.pip_flags.iter().cloned());
                let cwd = format!("{REQUIREMENTS_MOUNT}/{}", service.path)
                    .trim_end_matches('/')
                    .to_owned();
                let cache = self.pip_cache(&python);
                let secrets = self.dependency_secrets(service, &wheels);
                wheels.run(&format!("pip wheel {shown_args}"), args, |step| {
                    Self::pip_wheel_step(py, cache, secrets, step);
                    if let Some(requirements) = requirements {
                        step.cwd = cwd.clone();
                        step.mounts
                            .push(Mount::stage_root(REQUIREMENTS_MOUNT, requirements));
                    }
                });
                (
                    Some(self.finish(wheels, StageOutput::Mount(WHEELS_DIR.into()), true)),
                    None,
                )
            }
        };

        // Packages built from the code: the workspace members the project needs, then the
        // project itself when it is a package. Each a wheel of its own folder.
        let mut local_builds: Vec<LocalBuild> = Vec::new();
        if let Some(locked) = &locked {
            local_builds.extend(locked.members.iter().cloned());
            local_builds.extend(locked.package.iter().cloned());
        }
        local_builds.extend(collected.package.iter().cloned());
        let mut project_wheels: Vec<(StageId, LocalBuild)> = Vec::new();
        if !local_builds.is_empty() {
            let builder = self.builder_base(service, py, &python);
            for local in local_builds {
                let wheel = self.project_wheel(service, py, &builder, &local);
                project_wheels.push((wheel, local));
            }
        }

        // Assets from node services are built before the runtime needs them.
        let mut asset_sources = Vec::new();
        for asset in &py.assets {
            let build = self.node_build(&asset.from, &asset.from.toolchain)?;
            asset_sources.push((asset, build, asset.from.toolchain.output.clone()));
        }

        // The code, then the assets: the last layers of the image.
        let mut code = vec![self.context_copy(
            service,
            &format!("copy {} to {}", display_dir(&service.path), service.workdir),
            &service.workdir,
        )];
        for (asset, build, output) in asset_sources {
            let dest = join_in_context(&service.workdir, &asset.to).unwrap_or_default();
            code.push(
                CopyStep::new(
                    format!("copy {} build output to /{dest}", asset.from.name),
                    FileSource::Stage {
                        stage: build,
                        path: format!("/{output}"),
                    },
                    format!("/{dest}"),
                )
                .contents(),
            );
        }

        // 4. runtime: packages, user, the installed wheels (network off), code last. With the
        // wheels in groups and an engine that merges, each group is installed as its own layer
        // onto `system` (the runtime image with its packages and user) and the layers are merged;
        // otherwise one `pip install` over all wheels.
        let merged = match (&groups, &wheels) {
            (Some(groups), Some(wheels)) => Some((groups, wheels)),
            _ => None,
        }
        .filter(|_| self.options.engine.merge_diff());
        let nothing_to_install = matches!(dependencies, Dependencies::Nothing);
        let mut runtime = match merged {
            _ if nothing_to_install && self.options.engine.merge_diff() => {
                let mut system = self.draft(
                    name,
                    StageKind::System,
                    "the runtime image with its packages and user",
                    RunsOn::Target,
                    Base::Image(python.image.clone()),
                );
                self.system_steps(&mut system, service, py, &python);
                let system = self.finish(system, StageOutput::Root, false);
                let mut parts = vec![system.clone()];
                for (wheel, local) in &project_wheels {
                    parts.push(self.project_layer(service, &system, wheel, local));
                }
                parts.push(self.code_layer(name, code));
                self.draft(
                    name,
                    StageKind::Runtime,
                    "the image: the code merged onto the runtime image (no requirements)",
                    RunsOn::Target,
                    Base::Merge(parts),
                )
            }
            Some((groups, wheels)) => {
                let mut system = self.draft(
                    name,
                    StageKind::System,
                    "the runtime image with its packages and user: the base of every install layer",
                    RunsOn::Target,
                    Base::Image(python.image.clone()),
                );
                self.system_steps(&mut system, service, py, &python);
                let system = self.finish(system, StageOutput::Root, false);
                let layers = self.install_layers(
                    service,
                    &system,
                    wheels,
                    groups,
                    &shown,
                    lock_stage.as_ref(),
                );
                let mut parts = vec![system.clone()];
                parts.extend(layers);
                for (wheel, local) in &project_wheels {
                    parts.push(self.project_layer(service, &system, wheel, local));
                }
                parts.push(self.code_layer(name, code));
                self.draft(
                    name,
                    StageKind::Runtime,
                    "the image: the install layers and the code merged onto the runtime image",
                    RunsOn::Target,
                    Base::Merge(parts),
                )
            }
            None => {
                let mut runtime = self.draft(
                    name,
                    StageKind::Runtime,
                    "the image: runtime packages, installed wheels, then the code",
                    RunsOn::Target,
                    Base::Image(python.image.clone()),
                );
                self.system_steps(&mut runtime, service, py, &python);
                let wheels_mount = wheels.map(|wheels| Mount::stage_root(WHEELS_DIR, wheels));
                let lock_mount = lock_stage.clone().map(lock_mount);
                if let (Dependencies::Pinned(pinned), Some(wheels_mount)) =
                    (&dependencies, wheels_mount.clone())
                {
                    // Old engines and `layercake dockerfile`: one install of the pinned lines
                    // without their hashes, as the install layers take them (a wheel built from
                    // an sdist never matches the sdist's hash). With dependencies, from the
                    // wheels alone: it proves the wheel set is complete.
                    let all: Vec<&PinnedRequirement> = pinned.requirements.iter().collect();
                    runtime.run(
                        &format!(
                            "pip install --no-index: the {} pinned requirements of {shown}",
                            all.len()
                        ),
                        pip_install_lines(&[], &all),
                        |step| {
                            Self::pip_install_step(step);
                            step.mounts.push(wheels_mount);
                            step.mounts.extend(lock_mount);
                        },
                    );
                } else if let Some(wheels_mount) = wheels_mount {
                    let requirements = (!copied_files.is_empty())
                        .then(|| self.requirements_stage(service, &copied_files));
                    let mut args = strings(&[
                        "python3",
                        "-m",
                        "pip",
                        "install",
                        "--no-index",
                        "--no-cache-dir",
                        "--find-links",
                        WHEELS_DIR,
                    ]);
                    args.extend(requirement_file_args(service, declared));
                    args.extend(collected.packages.iter().cloned());
                    runtime.run(
                        &format!("pip install --no-index {shown_args}"),
                        args,
                        |step| {
                            quiet_pip(step);
                            // The working directory stays `/`: one inside a mount would be
                            // created in the image as an empty folder. Requirement paths are
                            // absolute, and pip resolves `-r`/`-c` includes against the
                            // including file anyway. Installing from the wheels alone proves the
                            // wheel set is complete.
                            step.network = Network::None;
                            step.mounts.push(wheels_mount);
                            if let Some(requirements) = requirements {
                                step.mounts
                                    .push(Mount::stage_root(REQUIREMENTS_MOUNT, requirements));
                            }
                        },
                    );
                }
                for (wheel, local) in &project_wheels {
                    runtime.run(
                        &project_install_label(local),
                        project_install_args(local),
                        |step| project_install_step(step, wheel),
                    );
                }
                for copy in code {
                    runtime.copy(copy);
                }
                runtime
            }
        };
        for command in &py.build_steps {
            runtime.run(&command.join(" "), command.clone(), |step| {
                step.cwd = service.workdir.clone();
                step.env = service.env.clone();
            });
        }
        let runtime = self.finish(runtime, StageOutput::Root, false);

        let mut env = BTreeMap::from([
            ("PYTHONDONTWRITEBYTECODE".to_owned(), "1".to_owned()),
            ("PYTHONUNBUFFERED".to_owned(), "1".to_owned()),
        ]);
        env.extend(service.env.clone());
        let health = service
            .healthcheck
            .as_ref()
            .map(|h| healthcheck(h, HttpProber::Python));
        let image = self.image_config(service, Process::of(service), env, health);
        Ok((runtime, image))
    }
}

/// What a python service installs, and how (see `Planner::python`).
pub(super) enum Dependencies {
    /// `requirements: []` and no packages.
    Nothing,
    /// A complete pinned closure (the files, or the lock stage's answer): built per bucket.
    Pinned(PinnedRequirements),
    /// The files as they are, in one `pip wheel -r` step (direct references, or no lock).
    Files,
}

/// The lock stage's report, mounted read-only into the step that proves the set complete: the
/// lock stage is then part of the image's graph, so `--cache-to …,mode=max` exports it and a
/// fresh machine finds it CACHED. The step's own lines already follow the report.
pub(super) fn lock_mount(lock: StageId) -> Mount {
    Mount::stage_root(LOCK_DIR, lock)
}

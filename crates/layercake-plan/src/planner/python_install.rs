//! The install layers of a python service: `pip install --no-deps` per bucket, and `resolve`.

use crate::model::{Base, Mount, Network, Part, RunStep, RunsOn, StageId, StageKind, StageOutput};
use crate::python_deps::PinnedRequirement;
use crate::settings::ServiceSettings;

use super::python::lock_mount;
use super::python_wheels::{WheelGroup, shown_group};
use super::steps::quiet_pip;
use super::{Planner, REQUIREMENTS_MOUNT, WHEELS_DIR, join_in_context};

impl Planner<'_> {
    /// One layer per wheel group: `pip install --no-deps` of the group's wheels onto `system`,
    /// taken as a diff, so a changed pin reinstalls and re-exports one small layer. The first
    /// id returned is the `resolve` stage: it resolves every requirement from the merged wheels
    /// alone (network off), the proof that the set is complete which the single `pip install`
    /// gave. It runs beside the installs and adds only an empty layer to the image.
    pub(super) fn install_layers(
        &mut self,
        service: &ServiceSettings,
        system: &StageId,
        wheels: &StageId,
        groups: &[WheelGroup<'_>],
        shown: &str,
        lock: Option<&StageId>,
    ) -> Vec<StageId> {
        let name = service.name.as_str();
        let mut layers = Vec::with_capacity(groups.len() + 1);

        let mut resolve = self.draft(
            name,
            StageKind::Resolve,
            "proves the wheel set is complete: every requirement resolves from the wheels alone",
            RunsOn::Target,
            Base::Stage(system.clone()),
        );
        // Over the pinned lines (hashes dropped, as for the installs), not the files: a wheel
        // built from an sdist would fail the files' `--hash` check.
        let all: Vec<&PinnedRequirement> = groups
            .iter()
            .flat_map(|group| group.requirements.iter().copied())
            .collect();
        let args = pip_install_lines(&["--dry-run"], &all);
        resolve.run(
            &format!(
                "pip install --dry-run --no-index: the {} pinned requirements of {shown}",
                all.len()
            ),
            args,
            |step| {
                Self::pip_install_step(step);
                step.mounts
                    .push(Mount::stage_root(WHEELS_DIR, wheels.clone()));
                step.mounts.extend(lock.cloned().map(lock_mount));
            },
        );
        layers.push(self.finish(resolve, StageOutput::Diff, true));

        let total = groups.len();
        for (index, group) in groups.iter().enumerate() {
            let mut draft = self.draft(
                name,
                StageKind::InstallGroup(Part {
                    number: index + 1,
                    of: total,
                }),
                "the installed files of a few requirements, as a layer keyed by their wheels",
                RunsOn::Target,
                Base::Stage(system.clone()),
            );
            // Installed by requirement line, not by wheel file, so pip records `name==version`
            // (a file path would show in `pip freeze` as `name @ file:///wheels/…`).
            let args = pip_install_lines(&["--no-deps"], &group.requirements);
            let shown = shown_group(&group.requirements);
            draft.run(&shown, args, |step| {
                Self::pip_install_step(step);
                step.mounts
                    .push(Mount::stage_root(WHEELS_DIR, group.wheels.clone()));
            });
            layers.push(self.finish(draft, StageOutput::Diff, true));
        }
        layers
    }

    /// What every `pip install` from the wheels shares: no network (the wheels are all there is),
    /// no cache, and nothing written outside the installed files (the step may be a layer).
    pub(super) fn pip_install_step(step: &mut RunStep) {
        quiet_pip(step);
        // pip's own modules stay uncompiled; the installed packages are still byte-compiled
        // (pip compiles them explicitly).
        step.env
            .insert("PYTHONDONTWRITEBYTECODE".into(), "1".into());
        step.network = Network::None;
        step.mounts.push(Mount::Tmpfs {
            target: "/tmp".into(),
        });
    }
}

pub(super) fn pip_install_lines(
    options: &[&str],
    requirements: &[&PinnedRequirement],
) -> Vec<String> {
    let lines: Vec<&str> = requirements.iter().map(|r| r.unhashed.as_str()).collect();
    let options: String = options.iter().map(|option| format!(" {option}")).collect();
    let script = format!(
        "printf '%s\\n' \"$1\" > /tmp/requirements.txt && \
         exec python3 -m pip install{options} --no-index --no-cache-dir --find-links {WHEELS_DIR} \
         -r /tmp/requirements.txt"
    );
    vec![
        "/bin/sh".into(),
        "-c".into(),
        script,
        "pip-install".into(),
        lines.join("\n"),
    ]
}

/// `-r /src/<path>` for each requirement file, as the steps that read the files (unpinned
/// requirements) see them through the `requirements` mount.
pub(super) fn requirement_file_args(service: &ServiceSettings, declared: &[String]) -> Vec<String> {
    declared
        .iter()
        .filter_map(|file| join_in_context(&service.path, file))
        .flat_map(|path| ["-r".to_owned(), format!("{REQUIREMENTS_MOUNT}/{path}")])
        .collect()
}

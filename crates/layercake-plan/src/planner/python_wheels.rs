//! The wheels of a python service: `pip wheel` steps, one per bucket of pinned lines.

use pep508_rs::PackageName;
use sha2::{Digest as _, Sha256};

use crate::model::{
    Base, CacheSharing, Mount, Part, RunStep, RunsOn, StageId, StageKind, StageOutput,
};
use crate::python_deps::{PinnedRequirement, PinnedRequirements};
use crate::python_runtime::PythonRuntime;
use crate::settings::{PythonSettings, ServiceSettings};

use super::steps::{quiet_pip, strings};
use super::{Planner, WHEELS_DIR};

impl Planner<'_> {
    pub(super) fn pip_cache(&self, python: &PythonRuntime) -> Mount {
        Mount::Cache {
            target: "/root/.cache/pip".into(),
            id: self.cache_id("pip", &python.version, Some(&self.options.platform)),
            sharing: CacheSharing::Shared,
        }
    }

    /// What every `pip wheel` step shares: env, the output folder, the download cache, the
    /// secrets ([`Planner::dependency_secrets`]).
    pub(super) fn pip_wheel_step(
        py: &PythonSettings,
        cache: Mount,
        secrets: Vec<Mount>,
        step: &mut RunStep,
    ) {
        step.env = py.pip_env.clone();
        quiet_pip(step);
        step.env
            .insert("PIP_CACHE_DIR".into(), "/root/.cache/pip".into());
        step.mounts.push(Mount::Output {
            target: WHEELS_DIR.into(),
            from: None,
        });
        step.mounts.push(cache);
        step.mounts.extend(secrets);
    }

    /// Wheel stages for a pinned requirement set, then `wheels` merging their results.
    ///
    /// Requirements go into buckets by a hash of their name, so a changed pin, an added or a
    /// removed requirement changes one bucket's step and no other. Each bucket is one `pip wheel
    /// --no-deps` over its lines only. One requirement per bucket is the finest cache grain, but
    /// every step pays pip's start-up: `wheel_group_size` trades the two (see docs/benchmarks.md).
    pub(super) fn wheel_per_requirement<'p>(
        &mut self,
        service: &ServiceSettings,
        py: &PythonSettings,
        python: &PythonRuntime,
        builder: &Base,
        pinned: &'p PinnedRequirements,
    ) -> (StageId, Vec<WheelGroup<'p>>) {
        let name = service.name.as_str();
        let buckets = bucket_count(pinned.requirements.len(), self.options.wheel_group_size);
        let mut groups: Vec<Vec<&PinnedRequirement>> = vec![Vec::new(); buckets];
        for requirement in &pinned.requirements {
            groups[bucket_of(&requirement.name, buckets)].push(requirement);
        }
        groups.retain(|group| !group.is_empty());
        let total = groups.len();
        let mut parts = Vec::with_capacity(total);
        let mut built = Vec::with_capacity(total);
        for (index, group) in groups.into_iter().enumerate() {
            let mut draft = self.draft(
                name,
                StageKind::WheelGroup(Part {
                    number: index + 1,
                    of: total,
                }),
                "wheels of a few requirements, keyed by their lines only",
                RunsOn::Target,
                builder.clone(),
            );
            // The step sees only its own lines (plus the files' global options), written to a
            // file so `--hash` options and markers keep working.
            let mut contents: Vec<&str> = pinned.options.iter().map(String::as_str).collect();
            contents.extend(group.iter().map(|r| r.line.as_str()));
            let mut args = strings(&[
                "/bin/sh",
                "-c",
                "printf '%s\\n' \"$1\" > /tmp/requirements.txt && shift && \
                 exec python3 -m pip wheel --no-deps --wheel-dir /wheels -r /tmp/requirements.txt \"$@\"",
                "pip-wheel",
            ]);
            args.push(contents.join("\n"));
            args.extend(py.pip_flags.iter().cloned());
            let cache = self.pip_cache(python);
            let secrets = self.dependency_secrets(service, &draft);
            draft.run(&shown_group(&group), args, |step| {
                Self::pip_wheel_step(py, cache, secrets, step)
            });
            let id = self.finish(draft, StageOutput::Mount(WHEELS_DIR.into()), true);
            parts.push(id.clone());
            built.push(WheelGroup {
                wheels: id,
                requirements: group,
            });
        }
        let wheels = self.draft(
            name,
            StageKind::Wheels,
            "the wheels of every requirement, merged",
            RunsOn::Target,
            Base::Merge(parts),
        );
        (self.finish(wheels, StageOutput::Root, false), built)
    }
}

/// `pip install` from the wheels alone of exactly these requirement lines (without hashes),
/// written to a requirements file on the step's tmpfs so markers keep working.
/// `six==1.16.0 idna==3.20`: a group as its step name shows it.
pub(super) fn shown_group(group: &[&PinnedRequirement]) -> String {
    let shown: Vec<&str> = group.iter().map(|r| r.shown.as_str()).collect();
    shown.join(" ")
}

/// The requirements of one wheel step, and that step's stage.
pub(super) struct WheelGroup<'p> {
    pub(super) wheels: StageId,
    pub(super) requirements: Vec<&'p PinnedRequirement>,
}

/// How many buckets `count` pinned requirements go into for groups of about `group_size`: a power
/// of two, so it changes (and every bucket with it) only when the count doubles or halves.
pub(super) fn bucket_count(count: usize, group_size: usize) -> usize {
    let wanted = count.div_ceil(group_size.max(1)).max(1);
    wanted.next_power_of_two().min(count.max(1))
}

/// A requirement's bucket: stable across runs and machines (a hash of its normalised name).
pub(super) fn bucket_of(name: &PackageName, buckets: usize) -> usize {
    let digest = Sha256::digest(name.as_ref().as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    // u64 → usize is lossless on the 64-bit targets we build for; modulo keeps it in range.
    (u64::from_be_bytes(head) % buckets.max(1) as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_powers_of_two_and_stable() {
        assert_eq!(bucket_count(1, 4), 1);
        assert_eq!(bucket_count(12, 4), 4);
        assert_eq!(bucket_count(30, 4), 8);
        assert_eq!(bucket_count(30, 1), 30);
        assert_eq!(bucket_count(3, 1), 3);
        let name = |n: &str| -> PackageName { n.parse().expect("a package name") };
        // The same name lands in the same bucket whatever its spelling: the key is the
        // normalised name, and it hashes to the bucket it always did.
        assert_eq!(name("Pydantic_Core").as_ref(), "pydantic-core");
        assert_eq!(
            bucket_of(&name("Pydantic_Core"), 8),
            bucket_of(&name("pydantic.core"), 8)
        );
        let spread: std::collections::BTreeSet<usize> = [
            "fastapi", "uvicorn", "pydantic", "anyio", "idna", "click", "h11", "sniffio",
        ]
        .iter()
        .map(|n| bucket_of(&name(n), 4))
        .collect();
        assert!(spread.len() >= 3, "names spread over buckets: {spread:?}");
    }
}

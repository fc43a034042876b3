//! The lock stage of a python service: uv resolves the requirement files for the platform.

use crate::lock::LOCK_REPORT;
use crate::model::{Base, CacheSharing, Mount, RunsOn, StageId, StageKind, StageOutput};
use crate::python_runtime::PythonRuntime;
use crate::settings::{PythonSettings, ServiceSettings};

use super::python_install::requirement_file_args;
use super::steps::{quiet_pip, strings};
use super::{LOCK_DIR, Planner, REQUIREMENTS_MOUNT};

/// Where the lock stage's resolver is installed (the `uv` stage's output mount).
const UV_DIR: &str = "/tool";

/// Where the spec's `packages.pip` file is mounted in the lock step.
const PACKAGES_MOUNT: &str = "/extra";

/// The resolver of the lock stage: a uv release, installed from its wheel by version and hash
/// (PyPI's files for linux: x86_64, aarch64 (also musl), i686, armv7l, ppc64le, s390x, musl
/// x86_64). Resolving the example closure of 25 packages with pip 23 took 4.9–7.1 s (it
/// downloads every distribution to read its metadata); uv takes 0.6 s.
const UV_VERSION: &str = "0.13.9";
const UV_WHEEL_SHA256: [&str; 7] = [
    "d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19",
    "5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe",
    "db5c8df7145c21ffea9c0f74e38823bac3af60cbadf0e26b8633f08627b17bab",
    "16963d19594e18d746a70c7fce82237bde4f2cac4cfcf0ca2b84796fe9d0c6e9",
    "c5dbdb7c8737cd183a9dce95b39cfd1f3d54ec2a27a1bb58f160293f9ba2c805",
    "a6e845f387e4ed55bb59342957a9179e24a631fcc7668bda3426ae1cef8ed4b9",
    "2c45530751517d6c3bbc69a19473f6effe47cce047bede01ffd8af7ea7b36b25",
];

/// pip's index settings in `pip_env` and the names uv reads them under.
const PIP_TO_UV_ENV: [(&str, &str); 4] = [
    ("PIP_INDEX_URL", "UV_INDEX_URL"),
    ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"),
    ("PIP_FIND_LINKS", "UV_FIND_LINKS"),
    ("PIP_PRE", "UV_PRERELEASE"),
];

impl Planner<'_> {
    /// The `requirements`, `builder`, `uv` and `lock` stages: uv (a pinned release, installed by
    /// hash) resolves the requirement files and the spec's packages for the wheels' base image's
    /// own interpreter on this platform, and writes the closure, hashed, as a requirements file
    /// into the `lock` stage's output. Keyed only by the files' contents, the packages, the
    /// image and the platform, so the same files give the same lock, CACHED, on a fresh machine
    /// with registry cache too. Returns the builder base and the lock stage.
    /// `declared` are the files the service names, `requirement_files` those with their
    /// includes, `packages` the requirements beside them (`Collected::packages`).
    pub(super) fn lock_stages(
        &mut self,
        service: &ServiceSettings,
        py: &PythonSettings,
        declared: &[String],
        requirement_files: &[String],
        packages: &[String],
        python: &PythonRuntime,
    ) -> (Base, StageId) {
        let name = service.name.as_str();
        let platform = self.options.platform.clone();
        let mut copied = requirement_files.to_vec();
        copied.sort();
        let requirements = (!copied.is_empty()).then(|| self.requirements_stage(service, &copied));
        // The requirements beside the files as a file of their own: uv reads requirements from
        // files, and a value never becomes part of a command line it could be parsed from.
        let listed = packages;
        let packages = (!listed.is_empty()).then(|| {
            let mut draft = self.draft(
                name,
                StageKind::Packages,
                "the requirements beside the files (`packages.pip`, a pyproject.toml's \
                 dependencies), as a requirements file",
                RunsOn::Target,
                Base::Scratch,
            );
            let mut contents = listed.join("\n");
            contents.push('\n');
            draft.write("write packages.txt", "/packages.txt", contents);
            self.finish(draft, StageOutput::Root, false)
        });
        let builder = self.builder_base(service, py, python);

        let mut tool = self.draft(
            name,
            StageKind::Resolver,
            "the lock stage's resolver: a pinned uv release, installed by hash",
            RunsOn::Target,
            builder.clone(),
        );
        let mut args = strings(&[
            "/bin/sh",
            "-c",
            "printf '%s\\n' \"$1\" > /tmp/uv.txt && \
             exec python3 -m pip install --no-deps --no-cache-dir --only-binary=:all: \
             --target /tool -r /tmp/uv.txt",
            "pip-install",
        ]);
        args.push(uv_requirement());
        let secrets = self.dependency_secrets(service, &tool);
        tool.run(
            &format!("pip install uv=={UV_VERSION} (by hash)"),
            args,
            |step| {
                step.env = py.pip_env.clone();
                quiet_pip(step);
                step.mounts.push(Mount::Output {
                    target: UV_DIR.into(),
                    from: None,
                });
                step.mounts.extend(secrets);
            },
        );
        let tool = self.finish(tool, StageOutput::Mount(UV_DIR.into()), true);

        let mut lock = self.draft(
            name,
            StageKind::Lock,
            "the complete pinned closure of the requirements for this platform, as uv resolves it",
            RunsOn::Target,
            builder.clone(),
        );
        let mut args = vec![
            format!("{UV_DIR}/bin/uv"),
            "pip".into(),
            "compile".into(),
            // Index certificates from the image's own store (corporate proxies, private CAs).
            "--system-certs".into(),
            "--python".into(),
            "python3".into(),
            "--generate-hashes".into(),
            "--output-file".into(),
            format!("{LOCK_DIR}/{LOCK_REPORT}"),
        ];
        args.extend(uv_flags(&py.pip_flags));
        args.extend(
            requirement_file_args(service, declared)
                .into_iter()
                .filter(|arg| arg != "-r"),
        );
        if packages.is_some() {
            args.push(format!("{PACKAGES_MOUNT}/packages.txt"));
        }
        let mut resolved: Vec<&str> = declared.iter().map(String::as_str).collect();
        resolved.extend(listed.iter().map(String::as_str));
        let label = format!(
            "uv pip compile: resolve {} for {}",
            resolved.join(" "),
            platform
        );
        let cache = Mount::Cache {
            target: "/root/.cache/uv".into(),
            id: self.cache_id("uv", UV_VERSION, Some(&platform)),
            sharing: CacheSharing::Shared,
        };
        let secrets = self.dependency_secrets(service, &lock);
        lock.run(&label, args, |step| {
            step.env = py.pip_env.clone();
            // pip's index settings, as uv reads them.
            for (pip, uv) in PIP_TO_UV_ENV {
                if let Some(value) = py.pip_env.get(pip) {
                    step.env.insert(uv.into(), value.clone());
                }
            }
            step.env
                .insert("UV_CACHE_DIR".into(), "/root/.cache/uv".into());
            step.env.insert("UV_NO_PROGRESS".into(), "1".into());
            // Resolve for the image's interpreter; never download one.
            step.env
                .insert("UV_PYTHON_DOWNLOADS".into(), "never".into());
            step.mounts.push(Mount::Output {
                target: LOCK_DIR.into(),
                from: None,
            });
            step.mounts.push(cache);
            step.mounts.push(Mount::stage_root(UV_DIR, tool));
            if let Some(requirements) = requirements {
                step.mounts
                    .push(Mount::stage_root(REQUIREMENTS_MOUNT, requirements));
            }
            if let Some(packages) = packages {
                step.mounts
                    .push(Mount::stage_root(PACKAGES_MOUNT, packages));
            }
            step.mounts.extend(secrets);
            // A private index given as a secret env for pip reaches uv under uv's name.
            let twins: Vec<Mount> = step
                .mounts
                .iter()
                .filter_map(|mount| match mount {
                    Mount::SecretEnv { name, id, required } => PIP_TO_UV_ENV
                        .iter()
                        .find(|(pip, _)| pip == name)
                        .map(|(_, uv)| Mount::SecretEnv {
                            name: (*uv).to_owned(),
                            id: id.clone(),
                            required: *required,
                        }),
                    _ => None,
                })
                .collect();
            step.mounts.extend(twins);
        });
        let lock = self.finish(lock, StageOutput::Mount(LOCK_DIR.into()), true);
        (builder, lock)
    }
}

/// `uv==VERSION --hash=… …`: the resolver's requirement line.
pub(super) fn uv_requirement() -> String {
    let mut line = format!("uv=={UV_VERSION}");
    for digest in UV_WHEEL_SHA256 {
        line.push_str(" --hash=sha256:");
        line.push_str(digest);
    }
    line
}

/// The `pip_flags` that change what resolves, as `uv pip compile` takes them (indexes, links,
/// pre-releases, binary choices); the rest only concern building wheels.
pub(super) fn uv_flags(pip_flags: &[String]) -> Vec<String> {
    const WITH_VALUE: [&str; 7] = [
        "--index-url",
        "-i",
        "--extra-index-url",
        "--find-links",
        "-f",
        "--no-binary",
        "--only-binary",
    ];
    let mut out = Vec::new();
    let mut flags = pip_flags.iter().peekable();
    while let Some(flag) = flags.next() {
        let name = flag.split('=').next().unwrap_or(flag);
        if flag == "--pre" {
            out.push("--prerelease=allow".to_owned());
        } else if WITH_VALUE.contains(&name) {
            out.push(flag.clone());
            if !flag.contains('=')
                && let Some(value) = flags.next_if(|value| !value.starts_with('-'))
            {
                out.push(value.clone());
            }
        }
    }
    out
}

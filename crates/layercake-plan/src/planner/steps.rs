//! Steps more than one toolchain plans: shell arguments, pip's quiet settings, cache ids,
//! copies from the context, apt packages, the user, the secrets of dependency steps.

use crate::model::{CacheSharing, CopyStep, FileSource, Mount, Network, Platform, RunStep, Step};
use crate::secret_digest::{digest_mount, digest_stage};
use crate::settings::{RunAs, SecretExpose, Service};

use super::Planner;
use super::draft::StageDraft;

/// No pip self-update check, no warning about running as root (the step is a build, not a host).
pub(super) fn quiet_pip(step: &mut RunStep) {
    step.env
        .insert("PIP_DISABLE_PIP_VERSION_CHECK".into(), "1".into());
    step.env
        .insert("PIP_ROOT_USER_ACTION".into(), "ignore".into());
}

/// `/bin/sh -c SCRIPT sh ARGS…`: a fixed script whose values arrive as `$1`, `$2`, … (or
/// `"$@"`), so no value is ever parsed as shell syntax.
pub(super) fn sh_with_args(script: &str, args: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut argv = vec![
        "/bin/sh".to_owned(),
        "-c".to_owned(),
        script.to_owned(),
        "sh".to_owned(),
    ];
    argv.extend(args);
    argv
}

pub(super) fn escape_step_name(mut step: Step) -> Step {
    let name = match &mut step {
        Step::Run(s) => &mut s.name,
        Step::Copy(s) => &mut s.name,
        Step::WriteFile(s) => &mut s.name,
    };
    if let std::borrow::Cow::Owned(escaped) = layercake_spec::shown(name) {
        *name = escaped;
    }
    step
}

pub(super) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Planner<'_> {
    pub(super) fn cache_id(
        &self,
        tool: &str,
        version: &str,
        platform: Option<&Platform>,
    ) -> String {
        let mut id = format!("{}layercake-{tool}-{version}", self.options.cache_namespace);
        if let Some(platform) = platform {
            id.push('-');
            // A short, path-safe form of the platform: `linux-arm64-v8`.
            id.push_str(&platform.to_string().replace('/', "-"));
        }
        id
    }

    pub(super) fn context_copy<T>(
        &mut self,
        service: &Service<T>,
        name: &str,
        dest: &str,
    ) -> CopyStep {
        self.transfer_folder(service);
        CopyStep::new(
            name,
            FileSource::Context {
                path: service.path.clone(),
            },
            dest,
        )
        .contents()
        .including(service.include.clone())
        .excluding(service.exclude.clone())
    }

    /// Puts the service folder in the context transfer as its copies take it.
    pub(super) fn transfer_folder<T>(&mut self, service: &Service<T>) {
        // The transfer carries what the copy takes: the service's `include` (under its folder)
        // rather than the whole folder, and none of what its `exclude` leaves out. (Excludes
        // with a `!` would re-include past `.dockerignore` there: then the folder goes whole.)
        let under = |pattern: &str| {
            if service.path.is_empty() {
                pattern.to_owned()
            } else {
                format!(
                    "{}/{pattern}",
                    crate::ignore::literal_pattern(&service.path)
                )
            }
        };
        if service.include.is_empty() {
            self.follow_paths.insert(if service.path.is_empty() {
                ".".into()
            } else {
                service.path.clone()
            });
        } else {
            self.include_patterns
                .extend(service.include.iter().map(|p| under(p)));
        }
        if !service.exclude.iter().any(|p| p.starts_with('!')) {
            self.exclude_patterns
                .extend(service.exclude.iter().map(|p| under(p)));
        }
    }

    pub(super) fn apt_install(&self, draft: &mut StageDraft, image: &str, packages: &[String]) {
        let platform = draft.platform.clone();
        let image_key: String = image
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let archives = self.cache_id("apt-archives", &image_key, Some(&platform));
        let lists = self.cache_id("apt-lists", &image_key, Some(&platform));
        // The names are arguments of a fixed script, never part of it (they are validated as
        // Debian package names too).
        let label = format!("apt-get install {}", packages.join(" "));
        let args = sh_with_args(
            "apt-get update && apt-get install -y --no-install-recommends \"$@\"",
            packages.iter().cloned(),
        );
        draft.run(&label, args, |step| {
            step.env
                .insert("DEBIAN_FRONTEND".into(), "noninteractive".into());
            // Package lists and downloads live in locked cache mounts: never in a layer, and two
            // builds never write them at once.
            step.mounts.push(Mount::Cache {
                target: "/var/cache/apt".into(),
                id: archives,
                sharing: CacheSharing::Locked,
            });
            step.mounts.push(Mount::Cache {
                target: "/var/lib/apt/lists".into(),
                id: lists,
                sharing: CacheSharing::Locked,
            });
        });
    }

    pub(super) fn create_user(draft: &mut StageDraft, user: &RunAs) {
        if let RunAs::User { name, uid, gid } = user {
            // Debian-style images have useradd; Alpine-style ones busybox adduser.
            // $1 name, $2 uid, $3 gid: values of a fixed script.
            let script = "if command -v useradd >/dev/null 2>&1; then \
                 groupadd --system --gid \"$3\" \"$1\" && \
                 useradd --system --uid \"$2\" --gid \"$3\" --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \"$1\"; \
                 else addgroup -S -g \"$3\" \"$1\" && adduser -S -D -H -u \"$2\" -G \"$1\" -s /sbin/nologin \"$1\"; fi";
            let label = format!("create user {name} ({uid}:{gid})");
            let args = sh_with_args(script, [name.clone(), uid.to_string(), gid.to_string()]);
            draft.run(&label, args, |step| step.network = Network::None);
        }
    }

    /// The mounts of the service's secrets (and SSH agent) for a dependency step of `draft`;
    /// a `rebuild_on_change` secret comes with its digest, whose stage is made (on `draft`'s
    /// base) the first time a step mounts it.
    pub(super) fn dependency_secrets<T>(
        &mut self,
        service: &Service<T>,
        draft: &StageDraft,
    ) -> Vec<Mount> {
        let mut mounts = Vec::new();
        for secret in &service.secrets {
            mounts.push(match &secret.expose {
                SecretExpose::Env(name) => Mount::SecretEnv {
                    name: name.clone(),
                    id: secret.id.clone(),
                    required: secret.required,
                },
                SecretExpose::File(target) => Mount::SecretFile {
                    target: target.clone(),
                    id: secret.id.clone(),
                    required: secret.required,
                },
            });
            if secret.rebuild_on_change {
                let key = (service.name.clone(), secret.id.clone());
                let digest = match self.secret_digests.get(&key) {
                    Some(digest) => digest.clone(),
                    None => {
                        let stage = digest_stage(
                            &service.name,
                            secret,
                            draft.runs_on,
                            &draft.platform,
                            &draft.base,
                        );
                        let id = stage.id.clone();
                        self.stages.push(stage);
                        self.secret_digests.insert(key, id.clone());
                        id
                    }
                };
                mounts.push(digest_mount(&secret.id, digest));
            }
        }
        if service.ssh {
            mounts.push(Mount::Ssh { required: true });
        }
        mounts
    }
}

/// A service folder as a step name shows it: `backend/`, or `.` for the context root.
pub(super) fn display_dir(path: &str) -> String {
    if path.is_empty() {
        ".".into()
    } else {
        format!("{path}/")
    }
}

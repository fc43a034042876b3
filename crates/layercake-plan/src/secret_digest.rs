//! `rebuild_on_change` secrets: the steps that read such a secret re-run when its value changes,
//! and stay cached while it does not, with no secret value in any key.
//!
//! For each opted-in secret of a service, a one-step stage (`<service>/secret-<id>`) mounts the
//! secret as a file and writes a salted sha256 of it into a mount of its own; the stage skips
//! the cache (it runs in every build) and is marked `export_cache: false`. Every step
//! that mounts the secret also gets that digest file as a read-only mount with a selector on the
//! one file: BuildKit keys a read-only mount by the selected content, so the step's key follows
//! the digest, not the digest stage's re-run. docs/security.md has the measurements.
//!
//! The digest stage runs on the base of the first step that uses the secret (the wheels builder,
//! the node image), which the build pulls anyway; it needs `/bin/sh` and `sha256sum` there
//! (coreutils and busybox both have it). The planner makes the stage when a step first mounts
//! the secret (`Planner::dependency_secrets`).

use std::collections::BTreeMap;

use crate::model::{
    Base, FileSource, Mount, Network, Platform, RunStep, RunsOn, Stage, StageId, StageKind,
    StageOutput, Step,
};
use crate::settings::SecretUse;

/// The digest stage's output mount: its result holds only the digest file.
const DIGEST_DIR: &str = "/digest";
const DIGEST_FILE: &str = "secret.sha256";
/// Where the digest stage mounts the secret (the dependency steps keep their own target or env).
const SECRET_INPUT: &str = "/run/secrets/layercake-digest-input";
/// Where the steps that read a secret see its digest: `<dir>/<id>.sha256`, read-only.
pub const DIGEST_MOUNT_DIR: &str = "/run/layercake/secret-digests";
/// Versioned so a change of the construction changes every digest (and re-runs the steps once).
const SALT_PREFIX: &str = "layercake-secret-digest-v1";

/// `$1` salt, `$2` the secret file, `$3` the digest file. The secret is read from the mount only:
/// it is in no argument and no variable. An absent optional secret digests as `absent`. A missing
/// or broken `sha256sum` fails the step rather than writing a constant that would hide changes.
const SCRIPT: &str = r#"set -eu
if [ -f "$2" ]; then
  sum=$( { printf '%s\0' "$1"; cat "$2"; } | sha256sum )
  sum=${sum%% *}
  case $sum in
    *[!0-9a-f]* | '') echo "layercake: sha256sum gave no digest; the base image needs sha256sum for rebuild_on_change" >&2; exit 1 ;;
  esac
  [ ${#sum} -eq 64 ] || { echo "layercake: sha256sum gave no sha256 digest" >&2; exit 1; }
else
  sum=absent
fi
echo "sha256:$sum" > "$3""#;

/// The salt of a secret's digest: public and stable (service name and secret id), so the same
/// value gives the same digest in every build, and a digest is no lookup in a table of digests
/// of common values, nor comparable across services.
pub fn digest_salt(service: &str, id: &str) -> String {
    format!("{SALT_PREFIX} service={service} secret={id}")
}

/// What the digest stage writes for `value` (`sha256:<hex>` and a newline): for tests that look
/// for the digest where it must not be. The frontend never sees the value.
pub fn secret_digest(service: &str, id: &str, value: &[u8]) -> String {
    use sha2::{Digest as _, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(digest_salt(service, id).as_bytes());
    hasher.update([0u8]);
    hasher.update(value);
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}\n")
}

/// The stage that digests `secret` of `service`, on the base (and platform) of the first stage
/// that mounts it: `<service>/secret-<id>`. It skips the cache: it must see the value of this
/// build.
pub(crate) fn digest_stage(
    service: &str,
    secret: &SecretUse,
    runs_on: RunsOn,
    platform: &Platform,
    base: &Base,
) -> Stage {
    let id = StageId::new(service, StageKind::SecretDigest(secret.id.clone()));
    let step = RunStep {
        name: format!("{} sha256 of secret {}", id.step_label(1, 1), secret.id),
        args: vec![
            "/bin/sh".into(),
            "-c".into(),
            SCRIPT.into(),
            "secret-digest".into(),
            digest_salt(service, &secret.id),
            SECRET_INPUT.into(),
            format!("{DIGEST_DIR}/{DIGEST_FILE}"),
        ],
        env: BTreeMap::new(),
        cwd: "/".into(),
        user: "0:0".into(),
        mounts: vec![
            Mount::SecretFile {
                target: SECRET_INPUT.into(),
                id: secret.id.clone(),
                required: secret.required,
            },
            Mount::Output {
                target: DIGEST_DIR.into(),
                from: None,
            },
        ],
        network: Network::None,
    };
    Stage {
        id,
        purpose: format!(
            "a salted sha256 of secret `{}`, read by the steps that use the secret so they re-run \
             when it changes (runs in every build)",
            secret.id
        ),
        runs_on,
        platform: platform.clone(),
        base: base.clone(),
        steps: vec![Step::Run(step)],
        output: StageOutput::Mount(DIGEST_DIR.into()),
        ignore_cache: true,
        export_cache: false,
        secret_derived: true,
    }
}

/// The digest file of `secret`, as the steps that mount the secret read it: selected alone, so
/// the step's key is its content.
pub(crate) fn digest_mount(secret: &str, digest: StageId) -> Mount {
    Mount::ReadOnly {
        target: format!("{DIGEST_MOUNT_DIR}/{secret}.sha256"),
        source: FileSource::Stage {
            stage: digest,
            path: format!("/{DIGEST_FILE}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_differ_per_service_and_secret() {
        assert_ne!(digest_salt("api", "token"), digest_salt("web", "token"));
        assert_ne!(digest_salt("api", "a"), digest_salt("api", "b"));
        assert!(digest_salt("api", "token").starts_with(SALT_PREFIX));
    }

    fn run_script(
        dir: &std::path::Path,
        secret: &std::path::Path,
        path_var: &str,
    ) -> (bool, String) {
        let out = dir.join("digest");
        let status = std::process::Command::new("/bin/sh")
            .args(["-c", SCRIPT, "secret-digest", &digest_salt("api", "token")])
            .arg(secret)
            .arg(&out)
            .env_clear()
            .env("PATH", path_var)
            .status()
            .unwrap();
        (
            status.success(),
            std::fs::read_to_string(&out).unwrap_or_default(),
        )
    }

    /// The script as the digest stage runs it (host `sh` and `sha256sum`): the salted digest of
    /// the file's bytes, `absent` without the file, and a failure, not a constant, without
    /// `sha256sum`.
    #[test]
    fn the_script_writes_the_salted_digest_of_the_mounted_file() {
        use sha2::{Digest as _, Sha256};
        let dir = std::env::temp_dir().join(format!("layercake-digest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let secret = dir.join("secret");
        std::fs::write(&secret, b"hunter2\n").unwrap();
        let path = "/usr/local/bin:/usr/bin:/bin";

        let mut salted = digest_salt("api", "token").into_bytes();
        salted.push(0);
        salted.extend_from_slice(b"hunter2\n");
        let hex: String = Sha256::digest(&salted)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let first = format!("sha256:{hex}\n");
        assert_eq!(secret_digest("api", "token", b"hunter2\n"), first);
        assert_eq!(run_script(&dir, &secret, path), (true, first.clone()));

        std::fs::write(&secret, b"hunter3\n").unwrap();
        let second = secret_digest("api", "token", b"hunter3\n");
        assert_ne!(first, second);
        assert_eq!(run_script(&dir, &secret, path), (true, second));

        let (ok, absent) = run_script(&dir, &dir.join("missing"), path);
        assert_eq!((ok, absent.as_str()), (true, "sha256:absent\n"));

        std::fs::remove_file(dir.join("digest")).unwrap();
        let (ok, written) = run_script(&dir, &secret, "/nonexistent");
        assert!(!ok && written.is_empty(), "without sha256sum: {written:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

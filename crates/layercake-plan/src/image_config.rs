//! Docker image configuration (image spec v1), our own serde type: `oci-spec` drops `Healthcheck`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The image configuration BuildKit's image exporter receives as `containerimage.config`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// RFC 3339; set only from `SOURCE_DATE_EPOCH`, so builds stay reproducible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default)]
    pub config: ContainerConfig,
}

/// The part of the image configuration that describes the container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exposed_ports: BTreeMap<String, Empty>,
    /// `KEY=value`, sorted by key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// `Some(vec![])` clears the base image's entrypoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Empty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// `{}` in JSON: Docker's encoding of a set member (ports, volumes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// Docker's health check; durations are integers in nanoseconds on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    /// `["NONE"]`, `["CMD", args…]` or `["CMD-SHELL", command]`.
    pub test: Vec<String>,
    #[serde(default, with = "nanos", skip_serializing_if = "Duration::is_zero")]
    pub interval: Duration,
    #[serde(default, with = "nanos", skip_serializing_if = "Duration::is_zero")]
    pub timeout: Duration,
    #[serde(default, with = "nanos", skip_serializing_if = "Duration::is_zero")]
    pub start_period: Duration,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: u32,
    /// How often to probe during the start period (Docker 25+; older engines ignore it).
    #[serde(default, with = "nanos", skip_serializing_if = "Duration::is_zero")]
    pub start_interval: Duration,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

mod nanos {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        // u64 nanoseconds cover 584 years; the spec's durations are far below that.
        s.serialize_u64(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let n = i64::deserialize(d)?;
        Ok(Duration::from_nanos(n.max(0).unsigned_abs()))
    }
}

impl ImageConfig {
    /// Parses a base image's configuration as the registry serves it.
    pub fn from_json(bytes: &[u8]) -> Result<ImageConfig, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Serialises deterministically (struct field order, sorted maps).
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain structs and BTreeMaps to a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The image's environment as a map (later entries win, as in Docker).
    pub fn env_map(&self) -> BTreeMap<String, String> {
        env_to_map(&self.config.env)
    }

    /// This configuration laid over `base`: what a service's image looks like on its base image.
    /// Set fields win; environments merge by key; labels merge; the result's env is sorted.
    pub fn over(&self, base: &ImageConfig) -> ImageConfig {
        let mut env = base.env_map();
        env.extend(self.env_map());
        let mut labels = base.config.labels.clone();
        labels.extend(self.config.labels.clone());
        let mut exposed_ports = base.config.exposed_ports.clone();
        exposed_ports.extend(self.config.exposed_ports.clone());
        let mut volumes = base.config.volumes.clone();
        volumes.extend(self.config.volumes.clone());
        let pick = |ours: &Option<String>, theirs: &Option<String>| ours.clone().or(theirs.clone());
        // A service that sets its own command must not inherit the base image's entrypoint
        // (nginx's official image wraps everything in a root-only entrypoint script).
        let entrypoint = match (&self.config.entrypoint, &self.config.cmd) {
            (Some(ours), _) => non_empty(ours.clone()),
            (None, Some(_)) => None,
            (None, None) => base.config.entrypoint.clone(),
        };
        ImageConfig {
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            variant: self.variant.clone(),
            created: self.created.clone(),
            config: ContainerConfig {
                user: pick(&self.config.user, &base.config.user),
                exposed_ports,
                env: map_to_env(&env),
                entrypoint,
                cmd: self.config.cmd.clone().or(base.config.cmd.clone()),
                volumes,
                working_dir: pick(&self.config.working_dir, &base.config.working_dir),
                labels,
                stop_signal: pick(&self.config.stop_signal, &base.config.stop_signal),
                healthcheck: self
                    .config
                    .healthcheck
                    .clone()
                    .or(base.config.healthcheck.clone()),
                shell: self.config.shell.clone().or(base.config.shell.clone()),
            },
        }
    }
}

fn non_empty(v: Vec<String>) -> Option<Vec<String>> {
    if v.is_empty() { None } else { Some(v) }
}

/// `KEY=value` entries to a map; an entry without `=` is a key with an empty value.
pub fn env_to_map(env: &[String]) -> BTreeMap<String, String> {
    env.iter()
        .map(|entry| match entry.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (entry.clone(), String::new()),
        })
        .collect()
}

/// A map to sorted `KEY=value` entries.
pub fn map_to_env(env: &BTreeMap<String, String>) -> Vec<String> {
    env.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthcheck_durations_are_nanoseconds() {
        let hc = Healthcheck {
            test: vec!["CMD".into(), "true".into()],
            interval: Duration::from_secs(30),
            timeout: Duration::from_millis(1500),
            start_period: Duration::ZERO,
            retries: 3,
            start_interval: Duration::ZERO,
        };
        let json = serde_json::to_string(&hc).unwrap();
        assert_eq!(
            json,
            r#"{"Test":["CMD","true"],"Interval":30000000000,"Timeout":1500000000,"Retries":3}"#
        );
        let back: Healthcheck = serde_json::from_str(&json).unwrap();
        assert_eq!(back, hc);
    }

    #[test]
    fn overlay_merges_env_sorted_and_keeps_base_path() {
        let base = ImageConfig::from_json(
            br#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/bin:/usr/bin","LANG=C.UTF-8"],"Entrypoint":["/docker-entrypoint.sh"],"Cmd":["nginx"],"Labels":{"maintainer":"x"}}}"#,
        )
        .unwrap();
        let mut ours = ImageConfig {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..ImageConfig::default()
        };
        ours.config.env = vec!["B=2".into(), "A=1".into(), "LANG=en".into()];
        ours.config.cmd = Some(vec!["serve".into()]);
        let merged = ours.over(&base);
        assert_eq!(
            merged.config.env,
            vec!["A=1", "B=2", "LANG=en", "PATH=/usr/local/bin:/usr/bin"]
        );
        assert_eq!(
            merged.config.entrypoint, None,
            "own command drops base entrypoint"
        );
        assert_eq!(merged.config.cmd, Some(vec!["serve".to_string()]));
        assert_eq!(
            merged.config.labels.get("maintainer").map(String::as_str),
            Some("x")
        );
    }
}

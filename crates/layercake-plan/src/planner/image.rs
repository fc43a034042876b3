//! The image config of a service: labels, `created`, env, user, health check.

use std::collections::BTreeMap;

use crate::image_config::{ContainerConfig, Empty, Healthcheck, ImageConfig, map_to_env};
use crate::settings::{RunAs, ServiceSettings, Toolchain};

use super::{Planner, image_variant};

/// What the container runs: the service's own settings, or what a planner puts in their place
/// (nginx's command, port and stop signal), so no planner edits a copy of the settings.
pub(super) struct Process {
    pub port: Option<u16>,
    pub command: Option<Vec<String>>,
    pub stop_signal: Option<String>,
}

impl Process {
    /// The service's own.
    pub fn of(service: &ServiceSettings) -> Process {
        Process {
            port: service.port,
            command: service.command.clone(),
            stop_signal: service.stop_signal.clone(),
        }
    }
}

impl Planner<'_> {
    pub(super) fn created(&self) -> Option<String> {
        self.options.source_date_epoch.map(rfc3339_utc)
    }

    pub(super) fn labels(&self, service: &ServiceSettings) -> BTreeMap<String, String> {
        let mut labels = service.labels.clone();
        labels.extend(self.options.labels.clone());
        labels
    }

    pub(super) fn image_config(
        &self,
        service: &ServiceSettings,
        process: Process,
        env: BTreeMap<String, String>,
        healthcheck: Option<Healthcheck>,
    ) -> ImageConfig {
        let platform = &self.options.platform;
        ImageConfig {
            architecture: platform.architecture.clone(),
            os: platform.os.clone(),
            variant: image_variant(platform),
            created: self.created(),
            config: ContainerConfig {
                user: Some(match &service.user {
                    RunAs::Root => "0:0".to_owned(),
                    // Numeric, so Kubernetes' runAsNonRoot can verify it.
                    RunAs::User { uid, gid, .. } => format!("{uid}:{gid}"),
                }),
                exposed_ports: process
                    .port
                    .map(|port| (format!("{port}/tcp"), Empty {}))
                    .into_iter()
                    .collect(),
                env: map_to_env(&env),
                entrypoint: service.entrypoint.clone(),
                cmd: process.command,
                volumes: service
                    .volumes
                    .iter()
                    .map(|v| (v.clone(), Empty {}))
                    .collect(),
                working_dir: Some(service.workdir.clone())
                    .filter(|_| matches!(service.toolchain, Toolchain::Python(_))),
                labels: self.labels(service),
                stop_signal: process.stop_signal,
                healthcheck,
                shell: None,
            },
        }
    }
}

/// Seconds since the epoch → `YYYY-MM-DDTHH:MM:SSZ` in UTC (Howard Hinnant's civil-from-days,
/// proleptic Gregorian): image `created` times and OCI labels, from `SOURCE_DATE_EPOCH` or a commit.
pub fn rfc3339_utc(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(-1), "1969-12-31T23:59:59Z");
    }
}

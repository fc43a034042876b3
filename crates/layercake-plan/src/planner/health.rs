//! Health checks: the default for nginx images, and how a probe runs in the image.

use std::time::Duration;

use crate::image_config::Healthcheck;
use crate::settings::{HealthProbe, HealthSettings};

use super::PROBE_PATH;

/// Probe interval during a health check's start period.
const START_INTERVAL: Duration = Duration::from_secs(1);

/// nginx services get an HTTP check of `/` on the port nginx listens on unless the spec says
/// otherwise.
pub(super) fn default_http_health(port: u16) -> HealthSettings {
    HealthSettings {
        probe: HealthProbe::Http {
            path: "/".into(),
            port,
        },
        interval: Duration::from_secs(30),
        timeout: Duration::from_secs(5),
        start_period: Duration::from_secs(5),
        retries: 3,
    }
}

/// How an HTTP health check runs inside the image.
pub(super) enum HttpProber {
    /// The image has Python: urllib, nothing added.
    Python,
    /// The frontend's static binary, copied to [`PROBE_PATH`].
    Probe,
}

pub(super) fn healthcheck(settings: &HealthSettings, prober: HttpProber) -> Healthcheck {
    let test = match &settings.probe {
        HealthProbe::Disabled => vec!["NONE".to_owned()],
        HealthProbe::Command(args) => std::iter::once("CMD".to_owned())
            .chain(args.iter().cloned())
            .collect(),
        HealthProbe::Shell(script) => vec!["CMD-SHELL".to_owned(), script.clone()],
        HealthProbe::Http { path, port } => {
            let url = format!("http://127.0.0.1:{port}{path}");
            match prober {
                HttpProber::Python => {
                    let timeout = settings.timeout.as_secs().max(1);
                    vec![
                        "CMD".to_owned(),
                        "python3".to_owned(),
                        "-c".to_owned(),
                        format!(
                            "import urllib.request; urllib.request.urlopen('{url}', timeout={timeout})"
                        ),
                    ]
                }
                HttpProber::Probe => vec![
                    "CMD".to_owned(),
                    PROBE_PATH.to_owned(),
                    "probe".to_owned(),
                    url,
                ],
            }
        }
    };
    // During the start period probe often, so a container is reported healthy seconds after it
    // is ready instead of a whole interval later.
    let start_interval = if settings.start_period.is_zero() {
        Duration::ZERO
    } else {
        settings.interval.min(START_INTERVAL)
    };
    Healthcheck {
        test,
        interval: settings.interval,
        timeout: settings.timeout,
        start_period: settings.start_period,
        retries: settings.retries,
        start_interval,
    }
}

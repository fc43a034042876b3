//! The nginx image that serves a node service's output.

use crate::error::PlanError;
use crate::image_config::ImageConfig;
use crate::model::{Base, CopyStep, FileSource, RunsOn, StageId, StageKind, StageOutput};
use crate::nginx;
use crate::settings::{HealthProbe, NginxSettings, RunAs, ServiceSettings};

use super::health::{HttpProber, default_http_health, healthcheck};
use super::image::Process;
use super::steps::strings;
use super::{PROBE_PATH, Planner, join_in_context};

impl Planner<'_> {
    pub(super) fn nginx(
        &mut self,
        service: &ServiceSettings,
        settings: &NginxSettings,
        built: FileSource,
    ) -> Result<(StageId, ImageConfig), PlanError> {
        let port = service.port.unwrap_or(match service.user {
            RunAs::Root => 80,
            RunAs::User { .. } => 8080,
        });
        let mut serve = self.draft(
            &service.name,
            StageKind::Serve,
            if self.options.engine.merge_diff() {
                "nginx with its user and config: the base of the image"
            } else {
                "nginx with its user and config, the health probe and the built files"
            },
            RunsOn::Target,
            Base::Image(settings.image.clone()),
        );
        Self::create_user(&mut serve, &service.user);
        serve.write("write nginx.conf", nginx::MAIN_CONF, nginx::main_conf());
        match &settings.config {
            Some(config) => {
                let path = join_in_context(&service.path, config).ok_or_else(|| {
                    PlanError::OutsideContext {
                        service: service.name.clone(),
                        path: config.clone(),
                    }
                })?;
                self.follow_paths.insert(path.clone());
                serve.copy(CopyStep::new(
                    format!("copy {config}"),
                    FileSource::Context { path },
                    nginx::SERVER_CONF,
                ));
            }
            None => serve.write(
                "write conf.d/default.conf",
                nginx::SERVER_CONF,
                nginx::server_conf(port, settings.spa),
            ),
        }
        let health = service
            .healthcheck
            .clone()
            .or_else(|| Some(default_http_health(port)));
        let probe = matches!(
            health.as_ref().map(|h| &h.probe),
            Some(HealthProbe::Http { .. })
        );
        let output = CopyStep::new("copy build output", built, nginx::HTML_ROOT).contents();
        let serve = if self.options.engine.merge_diff() {
            // The probe and the built files are layers of their own, merged onto nginx (like
            // `COPY --link`). The probe layer is the frontend image's own layer, blob and all:
            // no build compresses it again, and a registry that has the frontend image stores
            // it once. The built files merge last without the layers below them, so a
            // fresh machine does not download nginx's layers from the cache to copy onto them.
            let serve = self.finish(serve, StageOutput::Root, false);
            let mut parts = vec![serve];
            if probe {
                let probe = self.draft(
                    &service.name,
                    StageKind::Probe,
                    "the frontend image itself: its one layer holds the health probe",
                    RunsOn::Target,
                    Base::Frontend,
                );
                parts.push(self.finish(probe, StageOutput::Root, false));
            }
            let mut html = self.draft(
                &service.name,
                StageKind::Html,
                "the built files alone, as the image's last layer",
                RunsOn::Target,
                Base::Scratch,
            );
            html.copy(output);
            parts.push(self.finish(html, StageOutput::Root, false));
            let image = self.draft(
                &service.name,
                StageKind::Image,
                "the image: the probe and the built files merged onto nginx",
                RunsOn::Target,
                Base::Merge(parts),
            );
            self.finish(image, StageOutput::Root, false)
        } else {
            if probe {
                serve.copy(CopyStep::new(
                    "copy health probe",
                    FileSource::Frontend {
                        path: PROBE_PATH.into(),
                    },
                    PROBE_PATH,
                ));
            }
            serve.copy(output);
            self.finish(serve, StageOutput::Root, false)
        };
        let health = health.as_ref().map(|h| healthcheck(h, HttpProber::Probe));
        let process = Process {
            port: Some(port),
            command: Some(strings(&["nginx", "-g", "daemon off;"])),
            // nginx finishes in-flight requests on SIGQUIT.
            stop_signal: service
                .stop_signal
                .clone()
                .or_else(|| Some("SIGQUIT".into())),
        };
        let image = self.image_config(service, process, service.env.clone(), health);
        Ok((serve, image))
    }
}

//! The stages of an npm service: manifests, deps, sources, build, then dist or serve.

use crate::error::PlanError;
use crate::image_config::{ContainerConfig, ImageConfig};
use crate::model::{
    Base, CacheSharing, CopyStep, FileSource, Mount, RunsOn, StageId, StageKind, StageOutput,
};
use crate::settings::{NodeSettings, NpmInstall, Service, ServiceSettings};

use super::steps::{display_dir, strings};
use super::{Planner, image_variant, join_in_context};

const NODE_APP_DIR: &str = "/app";

impl Planner<'_> {
    /// The `manifests`, `deps`, `sources` and `build` stages of a node service; returns `build`.
    pub(super) fn node_build<T>(
        &mut self,
        service: &Service<T>,
        node: &NodeSettings,
    ) -> Result<StageId, PlanError> {
        let build_id = StageId::new(&service.name, StageKind::Build);
        if self.stages.iter().any(|stage| stage.id == build_id) {
            return Ok(build_id);
        }
        let name = service.name.as_str();

        // 1. manifests: package.json, the lockfile and .npmrc, nothing else.
        let mut manifests = self.draft(
            name,
            StageKind::Manifests,
            "package.json, the lockfile and .npmrc: the key of the npm install",
            RunsOn::Build,
            Base::Scratch,
        );
        let mut wanted = strings(&["package.json", "package-lock.json"]);
        if node.npmrc {
            wanted.push(".npmrc".into());
        }
        for file in &wanted {
            if let Some(path) = join_in_context(&service.path, file) {
                self.follow_paths.insert(path);
            }
        }
        manifests.copy(
            CopyStep::new(
                format!("copy {}", wanted.join(" ")),
                FileSource::Context {
                    path: service.path.clone(),
                },
                "/",
            )
            .contents()
            .including(wanted),
        );
        let manifests = self.finish(manifests, StageOutput::Root, false);

        // 2. deps: npm ci into the /app mount, so the result is the app folder with node_modules.
        let mut deps = self.draft(
            name,
            StageKind::Deps,
            "node_modules, installed once per lockfile change",
            RunsOn::Build,
            Base::Image(node.image.clone()),
        );
        let (verb, label) = match node.install {
            NpmInstall::Ci => ("ci", "npm ci"),
            NpmInstall::Install => ("install", "npm install"),
        };
        let mut args = strings(&["npm", verb, "--no-audit", "--no-fund"]);
        args.extend(node.install_flags.iter().cloned());
        let label = std::iter::once(label)
            .chain(node.install_flags.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        let npm_cache = self.cache_id("npm", &node.version, None);
        let secrets = self.dependency_secrets(service, &deps);
        deps.run(&label, args, |step| {
            step.cwd = NODE_APP_DIR.into();
            step.env
                .insert("npm_config_update_notifier".into(), "false".into());
            step.mounts.push(Mount::Output {
                target: NODE_APP_DIR.into(),
                from: Some(manifests),
            });
            step.mounts.push(Mount::Cache {
                target: "/root/.npm".into(),
                id: npm_cache,
                sharing: CacheSharing::Shared,
            });
            step.mounts.extend(secrets);
        });
        let deps = self.finish(deps, StageOutput::Mount(NODE_APP_DIR.into()), true);

        // 3. sources: the code laid over the installed app folder.
        let mut sources = self.draft(
            name,
            StageKind::Sources,
            "the code on top of node_modules",
            RunsOn::Build,
            Base::Stage(deps),
        );
        let mut copy = self.context_copy(
            service,
            &format!("copy {}", display_dir(&service.path)),
            "/",
        );
        // A stray local node_modules or old build output must never shadow the built ones,
        // and is not transferred either.
        copy.exclude.push("node_modules".into());
        // `output` is a path: as an exclude pattern, escaped.
        copy.exclude
            .push(crate::ignore::literal_pattern(&node.output));
        for left_out in ["node_modules", node.output.as_str()] {
            self.exclude_patterns
                .insert(match join_in_context(&service.path, left_out) {
                    Some(path) => crate::ignore::literal_pattern(&path),
                    None => continue,
                });
        }
        sources.copy(copy);
        let sources = self.finish(sources, StageOutput::Root, false);

        // 4. build: npm run <script>.
        let mut build = self.draft(
            name,
            StageKind::Build,
            "the built files (platform independent: runs on the build platform)",
            RunsOn::Build,
            Base::Image(node.image.clone()),
        );
        let args = strings(&["npm", "run", node.script.as_str()]);
        build.run(&format!("npm run {}", node.script), args, |step| {
            step.cwd = NODE_APP_DIR.into();
            step.env = node.env.clone();
            step.env
                .insert("npm_config_update_notifier".into(), "false".into());
            step.mounts.push(Mount::Output {
                target: NODE_APP_DIR.into(),
                from: Some(sources),
            });
        });
        Ok(self.finish(build, StageOutput::Mount(NODE_APP_DIR.into()), false))
    }

    pub(super) fn node(
        &mut self,
        service: &ServiceSettings,
        node: &NodeSettings,
    ) -> Result<(StageId, ImageConfig), PlanError> {
        let build = self.node_build(service, node)?;
        let built = FileSource::Stage {
            stage: build,
            path: format!("/{}", node.output),
        };
        let name = service.name.as_str();
        match &node.serve {
            None => {
                let mut dist = self.draft(
                    name,
                    StageKind::Dist,
                    "only the built files",
                    RunsOn::Target,
                    Base::Scratch,
                );
                dist.copy(CopyStep::new(format!("copy {}", node.output), built, "/").contents());
                let dist = self.finish(dist, StageOutput::Root, false);
                let image = ImageConfig {
                    architecture: self.options.platform.architecture.clone(),
                    os: self.options.platform.os.clone(),
                    variant: image_variant(&self.options.platform),
                    created: self.created(),
                    config: ContainerConfig {
                        labels: self.labels(service),
                        ..ContainerConfig::default()
                    },
                };
                Ok((dist, image))
            }
            Some(nginx_settings) => self.nginx(service, nginx_settings, built),
        }
    }
}

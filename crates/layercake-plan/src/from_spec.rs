//! A validated spec whose `${...}` are already expanded → [`ServiceSettings`] for every service.

use layercake_spec as spec;

use crate::settings::{
    AssetCopy, HealthProbe, HealthSettings, NginxSettings, NodeSettings, NpmInstall, PythonProject,
    PythonSettings, RunAs, SecretExpose, SecretUse, Selection, Service, ServiceSettings, Toolchain,
};

/// Every service of `spec`, resolved, in file order. Call it on the result of
/// `Spec::resolve_args`, so no `${...}` is left. A service's `assets` carry the node services
/// they copy from, as validation proved them (`Spec::asset_source`: a validated spec never
/// gets the error).
pub fn services_from_spec(spec: &spec::Spec) -> Result<Vec<ServiceSettings>, spec::SpecError> {
    spec.services.iter().map(|s| service(spec, s)).collect()
}

fn values(items: &[spec::Spanned<String>]) -> Vec<String> {
    items.iter().map(|item| item.value.clone()).collect()
}

fn map(
    items: &std::collections::BTreeMap<String, spec::Spanned<String>>,
) -> std::collections::BTreeMap<String, String> {
    items
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect()
}

// The spec keeps `.` for the context root; the plan uses the empty path.
fn folder(path: &str) -> String {
    if path == "." {
        String::new()
    } else {
        path.trim_matches('/').to_owned()
    }
}

fn service(spec: &spec::Spec, s: &spec::Service) -> Result<ServiceSettings, spec::SpecError> {
    let toolchain = match &s.kind {
        spec::ServiceKind::Python(py) => Toolchain::Python(PythonSettings {
            version: py.version.as_ref().map(|v| v.value.clone()),
            image: py.image.as_ref().map(|v| v.value.clone()),
            builder_image: py.builder_image.as_ref().map(|v| v.value.clone()),
            project: match &py.project {
                spec::PythonProject::Detect(uv) => PythonProject::Detect(selection(uv)),
                spec::PythonProject::Requirements(files) => {
                    PythonProject::Requirements(values(files))
                }
                spec::PythonProject::Uv(uv) => PythonProject::Uv(selection(uv)),
                spec::PythonProject::Poetry(uv) => PythonProject::Poetry(selection(uv)),
                spec::PythonProject::Pep621(uv) => PythonProject::Pyproject(selection(uv)),
            },
            pip_flags: values(&py.pip_flags),
            pip_env: map(&py.pip_env),
            build_packages: values(&py.packages.build),
            runtime_packages: values(&py.packages.runtime),
            pip_packages: values(&py.packages.pip),
            build_steps: py.build_steps.iter().map(spec::Command::argv).collect(),
            assets: s
                .assets
                .iter()
                .map(|asset| {
                    let (from, node) = spec.asset_source(s, asset)?;
                    Ok(AssetCopy {
                        from: settings(from, node_settings(from, node)),
                        to: asset.to.value.clone(),
                    })
                })
                .collect::<Result<_, spec::SpecError>>()?,
        }),
        spec::ServiceKind::Node(node) => Toolchain::Node(node_settings(s, node)),
    };
    Ok(settings(s, toolchain))
}

fn selection(options: &spec::ProjectOptions) -> Selection {
    Selection {
        groups: values(&options.groups),
        extras: values(&options.extras),
        package: options.package.as_ref().map(|p| p.value.clone()),
    }
}

fn node_settings(s: &spec::Service, node: &spec::NodeSpec) -> NodeSettings {
    NodeSettings {
        version: node.version.value.clone(),
        image: node.image.value.clone(),
        install: match node.install {
            spec::NpmInstall::Ci => NpmInstall::Ci,
            spec::NpmInstall::Install => NpmInstall::Install,
        },
        install_flags: values(&node.install_flags),
        npmrc: node.npmrc,
        script: node.script.value.clone(),
        output: folder(&node.output.value),
        env: map(&node.env),
        serve: s.serve.as_ref().map(|serve| match serve {
            spec::Serve::Nginx(nginx) => NginxSettings {
                image: nginx.image.value.clone(),
                spa: nginx.spa,
                config: nginx.config.as_ref().map(|c| c.value.clone()),
            },
        }),
    }
}

fn settings<T>(s: &spec::Service, toolchain: T) -> Service<T> {
    Service {
        name: s.name.value.clone(),
        description: s.description.as_ref().map(|d| d.value.clone()),
        path: folder(&s.path.value),
        include: values(&s.include),
        exclude: values(&s.exclude),
        toolchain,
        command: s.command.as_ref().map(spec::Command::argv),
        entrypoint: s.entrypoint.as_ref().map(spec::Command::argv),
        workdir: s
            .workdir
            .as_ref()
            .map_or_else(|| spec::DEFAULT_WORKDIR.to_owned(), |w| w.value.clone()),
        port: s.port.as_ref().map(|p| p.value),
        env: map(&s.env),
        user: match &s.user {
            spec::User::Root => RunAs::Root,
            spec::User::NonRoot { name, uid, gid } => RunAs::User {
                name: name.value.clone(),
                uid: *uid,
                gid: *gid,
            },
        },
        healthcheck: s.healthcheck.as_ref().map(|h| HealthSettings {
            probe: match &h.probe {
                spec::HealthProbe::Http { path, port } => HealthProbe::Http {
                    path: path.value.clone(),
                    port: *port,
                },
                spec::HealthProbe::Command(spec::Command::Exec(args)) => {
                    HealthProbe::Command(values(args))
                }
                spec::HealthProbe::Command(spec::Command::Shell(script)) => {
                    HealthProbe::Shell(script.value.clone())
                }
                // Healthchecks take no build args, so this never comes up; as written, it is
                // a command with its arguments.
                spec::HealthProbe::Command(command @ spec::Command::ShellArgs { .. }) => {
                    HealthProbe::Command(command.argv())
                }
                spec::HealthProbe::None => HealthProbe::Disabled,
            },
            interval: h.interval,
            timeout: h.timeout,
            start_period: h.start_period,
            retries: h.retries,
        }),
        volumes: values(&s.volumes),
        labels: map(&s.labels),
        stop_signal: s.stop_signal.as_ref().map(|v| v.value.clone()),
        secrets: s
            .secrets
            .iter()
            .map(|secret| SecretUse {
                id: secret.id.value.clone(),
                expose: match &secret.target {
                    spec::SecretTarget::Env(name) => SecretExpose::Env(name.value.clone()),
                    spec::SecretTarget::File(path) => SecretExpose::File(path.value.clone()),
                },
                required: secret.required,
                rebuild_on_change: secret.rebuild_on_change,
            })
            .collect(),
        ssh: s.ssh,
    }
}

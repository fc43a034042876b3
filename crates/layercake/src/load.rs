//! Spec text → resolved services and the chosen target: shared by the CLI and the frontend.

use std::collections::BTreeMap;

use layercake_plan::{PlanError, ServiceSettings, join_in_context, services_from_spec};
use layercake_spec::{Location, Serve, Spec, SpecErrors};

/// The largest context file layercake reads (requirement files, manifests, lockfiles,
/// `.dockerignore`), in the CLI and the frontend alike: far below the gRPC message limit.
pub const MAX_CONTEXT_FILE_BYTES: usize = 8 * 1024 * 1024;

/// Where the spec names a context file the plan reads: the requirement file's own value, the
/// nginx config, else the service's `path` (npm manifests, files named by other files).
pub fn naming_location(spec: &Spec, target: &str, path: &str) -> Option<Location> {
    let service = spec.service(target)?;
    let base = if service.path.value == "." {
        ""
    } else {
        service.path.value.as_str()
    };
    let names = |value: &str| join_in_context(base, value).as_deref() == Some(path);
    if let Some(python) = service.python()
        && let Some(requirement) = python
            .project
            .requirement_files()
            .iter()
            .find(|r| names(&r.value))
    {
        return Some(requirement.location);
    }
    if let Some(Serve::Nginx(nginx)) = &service.serve
        && let Some(config) = nginx.config.as_ref().filter(|c| names(&c.value))
    {
        return Some(config.location);
    }
    Some(service.path.location)
}

/// Where the spec says what a service's folder holds: its `path` (what the build found there is
/// what a plan error while reading it is about).
pub fn folder_location(spec: &Spec, target: &str) -> Option<Location> {
    Some(spec.service(target)?.path.location)
}

/// `file:line:col: message` when the place is known.
pub fn at_location(file: &str, location: Option<Location>, message: &str) -> String {
    match location {
        Some(at) => format!("{file}:{}:{}: {message}", at.line, at.column),
        None => message.to_owned(),
    }
}

/// A parsed spec and its services with build args applied.
pub struct LoadedSpec {
    pub spec: Spec,
    pub services: Vec<ServiceSettings>,
}

/// Parses and validates the spec's bytes (size, encoding and YAML problems all come back with a
/// position), then expands `${...}` with `build_args`.
pub fn load(
    file_name: &str,
    bytes: &[u8],
    build_args: &BTreeMap<String, String>,
) -> Result<LoadedSpec, SpecErrors> {
    let spec = layercake_spec::parse_bytes(file_name, bytes)?;
    let resolved = spec.resolve_args(build_args)?;
    let services = services_from_spec(&resolved)?;
    Ok(LoadedSpec { spec, services })
}

/// The service to build: the requested one, else `default:`, else the only service.
pub fn choose_target(spec: &Spec, requested: Option<&str>) -> Result<String, PlanError> {
    let names = || spec.service_names().map(str::to_owned).collect::<Vec<_>>();
    match requested.filter(|t| !t.is_empty()) {
        Some(target) if spec.service(target).is_some() => Ok(target.to_owned()),
        Some(target) => Err(PlanError::UnknownTarget {
            target: target.to_owned(),
            services: names(),
        }),
        None => spec
            .default_service()
            .map(|service| service.name.value.clone())
            .ok_or_else(|| PlanError::NoTarget { services: names() }),
    }
}

/// `KEY=VALUE` flags to a map (a flag without `=` sets an empty value, as docker does not;
/// we refuse it instead).
pub fn parse_build_args(flags: &[String]) -> Result<BTreeMap<String, String>, String> {
    flags
        .iter()
        .map(|flag| {
            flag.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| format!("--build-arg `{flag}` is not KEY=VALUE"))
        })
        .collect()
}

//! `layercake bake`: a `docker buildx bake` file (JSON) with one target per service.
//!
//! The bake file is the whole CI build in one place: every service from the same spec, tags
//! from git, and a registry cache per service with `mode=max`, so a fresh CI machine finds
//! every dependency layer of an unchanged service.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use super::error::ToolError;
use layercake_plan::rfc3339_utc;

use super::git::{Commit, docker_tag, head_commit};
use super::spec_file::{context_dir, read_spec, write_stdout};
use crate::cli::BakeArgs;

/// The bake file, as buildx reads it (`bake/bake.go`: `group` and `target`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BakeFile {
    pub group: BTreeMap<String, BakeGroup>,
    pub target: BTreeMap<String, BakeTarget>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BakeGroup {
    pub targets: Vec<String>,
}

/// One service's build; field names are buildx's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BakeTarget {
    pub context: String,
    pub dockerfile: String,
    pub target: String,
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    #[serde(rename = "cache-from", skip_serializing_if = "Vec::is_empty")]
    pub cache_from: Vec<String>,
    #[serde(rename = "cache-to", skip_serializing_if = "Vec::is_empty")]
    pub cache_to: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<String>,
}

/// Everything the bake file is made of; no IO.
#[derive(Debug, Clone)]
pub struct BakeInputs {
    /// The services, in spec order (the `default` group keeps it).
    pub services: Vec<String>,
    /// The context as the bake file names it (relative to where bake runs).
    pub context: String,
    /// The spec, relative to the context.
    pub dockerfile: String,
    pub app: String,
    pub registry: Option<String>,
    pub platforms: Vec<String>,
    pub push: bool,
    pub commit: Option<Commit>,
}

pub fn bake_file(inputs: &BakeInputs) -> BakeFile {
    let mut targets = BTreeMap::new();
    for service in &inputs.services {
        let repository = match &inputs.registry {
            Some(registry) => format!(
                "{}/{}-{service}",
                registry.trim_end_matches('/'),
                inputs.app
            ),
            None => format!("{}-{service}", inputs.app),
        };
        let mut tags = vec![format!("{repository}:latest")];
        let mut labels = BTreeMap::new();
        let mut args = BTreeMap::new();
        if let Some(commit) = &inputs.commit {
            tags.push(format!("{repository}:{}", commit.sha));
            if let Some(tag) = commit
                .tag
                .as_deref()
                .map(docker_tag)
                .filter(|t| !t.is_empty())
            {
                tags.push(format!("{repository}:{tag}"));
            }
            labels.insert(
                "org.opencontainers.image.revision".to_owned(),
                commit.sha.clone(),
            );
            labels.insert(
                "org.opencontainers.image.created".to_owned(),
                rfc3339_utc(commit.time),
            );
            if let Some(source) = &commit.source {
                labels.insert("org.opencontainers.image.source".to_owned(), source.clone());
            }
            // The image's own `created` (and BuildKit's layer times) from the commit too.
            args.insert("SOURCE_DATE_EPOCH".to_owned(), commit.time.to_string());
        }
        let (cache_from, cache_to) = match &inputs.registry {
            Some(_) => {
                let cache = format!("type=registry,ref={repository}:buildcache");
                (vec![cache.clone()], vec![format!("{cache},mode=max")])
            }
            None => (Vec::new(), Vec::new()),
        };
        let output = if inputs.push {
            vec!["type=registry".to_owned()]
        } else {
            Vec::new()
        };
        targets.insert(
            service.clone(),
            BakeTarget {
                context: inputs.context.clone(),
                dockerfile: inputs.dockerfile.clone(),
                target: service.clone(),
                tags,
                labels,
                args,
                cache_from,
                cache_to,
                platforms: inputs.platforms.clone(),
                output,
            },
        );
    }
    let mut group = BTreeMap::new();
    group.insert(
        "default".to_owned(),
        BakeGroup {
            targets: inputs.services.clone(),
        },
    );
    BakeFile {
        group,
        target: targets,
    }
}

pub fn bake_command(args: &BakeArgs) -> Result<ExitCode, ToolError> {
    let loaded = read_spec(&args.spec, &BTreeMap::new())?;
    let context = context_dir(&args.spec, args.context.as_ref());
    let dockerfile = spec_in_context(&args.spec, &context, args.context.is_some())?;
    let app = match &args.app {
        Some(app) => app.clone(),
        None => app_name(&context)?,
    };
    let repository_name = format!("{app}-x");
    if !is_repository_component(&repository_name) {
        return Err(ToolError::Usage(format!(
            "`{app}` cannot be part of an image name (lowercase letters, digits, `.`, `_`, `-`); pass --app"
        )));
    }
    for platform in &args.platforms {
        if platform.split('/').count() < 2 || platform.split('/').any(str::is_empty) {
            return Err(ToolError::Usage(format!(
                "--platform `{platform}` is not os/arch[/variant]"
            )));
        }
    }
    let inputs = BakeInputs {
        services: loaded.spec.service_names().map(str::to_owned).collect(),
        context: context.display().to_string(),
        dockerfile,
        app,
        registry: args.registry.clone(),
        platforms: args.platforms.clone(),
        push: args.push,
        commit: head_commit(&context),
    };
    let mut json = serde_json::to_string_pretty(&bake_file(&inputs))
        .map_err(|e| ToolError::Usage(e.to_string()))?;
    json.push('\n');
    match &args.output {
        Some(path) => std::fs::write(path, json).map_err(|source| ToolError::Write {
            path: path.clone(),
            source,
        })?,
        None => write_stdout(&json)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The spec's path relative to the context (buildx resolves `dockerfile` against `context`).
fn spec_in_context(spec: &Path, context: &Path, explicit: bool) -> Result<String, ToolError> {
    if !explicit && let Some(name) = spec.file_name() {
        return Ok(name.to_string_lossy().into_owned());
    }
    let canonical = |path: &Path| {
        std::fs::canonicalize(path).map_err(|source| ToolError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let spec = canonical(spec)?;
    let context = canonical(context)?;
    Ok(spec
        .strip_prefix(&context)
        .map_or_else(|_| spec.clone(), Path::to_path_buf)
        .display()
        .to_string())
}

/// The context folder's name, lowercased, as the image names' prefix.
fn app_name(context: &Path) -> Result<String, ToolError> {
    let absolute: PathBuf = std::fs::canonicalize(context).map_err(|source| ToolError::Read {
        path: context.to_path_buf(),
        source,
    })?;
    let name = absolute
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches(['.', '_', '-']).to_owned();
    if name.is_empty() {
        return Err(ToolError::Usage(format!(
            "cannot name the app after {}; pass --app",
            absolute.display()
        )));
    }
    Ok(name)
}

/// A path component of an image name as the distribution spec allows it.
fn is_repository_component(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.iter().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> BakeInputs {
        BakeInputs {
            services: vec!["web".into(), "api".into()],
            context: ".".into(),
            dockerfile: "layercake.yaml".into(),
            app: "shop".into(),
            registry: Some("ghcr.io/acme/".into()),
            platforms: vec![],
            push: true,
            commit: Some(Commit {
                sha: "0123abcd".into(),
                tag: Some("v1.0".into()),
                time: 1_700_000_000,
                source: Some("https://github.com/acme/shop".into()),
            }),
        }
    }

    #[test]
    fn one_target_per_service_with_git_tags_and_registry_cache() {
        let file = bake_file(&inputs());
        assert_eq!(file.group["default"].targets, vec!["web", "api"]);
        let api = &file.target["api"];
        assert_eq!(api.target, "api");
        assert_eq!(
            api.tags,
            vec![
                "ghcr.io/acme/shop-api:latest",
                "ghcr.io/acme/shop-api:0123abcd",
                "ghcr.io/acme/shop-api:v1.0"
            ]
        );
        assert_eq!(
            api.cache_from,
            vec!["type=registry,ref=ghcr.io/acme/shop-api:buildcache"]
        );
        assert_eq!(
            api.cache_to,
            vec!["type=registry,ref=ghcr.io/acme/shop-api:buildcache,mode=max"]
        );
        assert_eq!(api.output, vec!["type=registry"]);
        assert_eq!(
            api.labels["org.opencontainers.image.created"],
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(api.args["SOURCE_DATE_EPOCH"], "1700000000");
    }

    #[test]
    fn without_registry_or_git_only_local_latest_tags() {
        let mut inputs = inputs();
        inputs.registry = None;
        inputs.commit = None;
        inputs.push = false;
        let web = &bake_file(&inputs).target["web"];
        assert_eq!(web.tags, vec!["shop-web:latest"]);
        assert!(web.cache_from.is_empty() && web.cache_to.is_empty());
        assert!(web.labels.is_empty() && web.output.is_empty() && web.args.is_empty());
    }

    #[test]
    fn image_name_components_are_checked() {
        assert!(is_repository_component("shop-x"));
        assert!(!is_repository_component("Shop-x"));
        assert!(!is_repository_component("-x"));
    }
}

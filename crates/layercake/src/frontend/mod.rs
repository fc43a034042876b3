//! `layercake frontend`: the BuildKit gateway handler. All IO of a build lives here: options,
//! reading the spec and context files, resolving base images, solving, returning the result.
//! Everything in between is the pure pipeline of `layercake-plan`.

mod context;
mod subrequest;

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use buildkit_frontend::{
    BuildError, Client, ClientError, FrontendResult, ImageResults, PlatformImage, ResolveMode,
    SourceLocation, SourceRange, subrequests,
};
use buildkit_llb::Definition;
use layercake_plan::{
    EngineFeatures, GatherError, ImageConfig, LowerInputs, PlanOptions, Platform, ResolvedImage,
    lower, plan,
};
use layercake_spec::SpecErrors;
use tokio::task::JoinSet;

use crate::load::{LoadedSpec, choose_target, load};
use context::{ContextReader, SpecFile};

/// The image's entrypoint.
pub fn main() -> ExitCode {
    let started = Instant::now();
    buildkit_frontend::run(move |client| async move {
        // Whatever an error quotes (a value, a file name) is shown escaped in BuildKit's output.
        let result = build(client.clone()).await.map_err(|mut error| {
            if let std::borrow::Cow::Owned(shown) = layercake_spec::shown_lines(&error.message) {
                error.message = shown;
            }
            error
        });
        report_timings(&client, started);
        result
    })
}

/// With `--build-arg LAYERCAKE_FRONTEND_TIMINGS=1`: one line on stderr, which BuildKit writes to
/// its daemon log, with the frontend process's own time from its start to its first Solve and to
/// its result, by its own clock. BuildKit's progress cannot tell this apart from the container
/// start before it; `make bench` reads the line (docs/benchmarks.md).
fn report_timings(client: &Client, started: Instant) {
    if !matches!(
        client.opts().build_arg("LAYERCAKE_FRONTEND_TIMINGS"),
        Some("1" | "true")
    ) {
        return;
    }
    let ms = |elapsed: Duration| format!("{:.1}", elapsed.as_secs_f64() * 1000.0);
    let first_solve = client
        .first_solve_sent()
        .map_or_else(|| "-".to_owned(), |at| ms(at.duration_since(started)));
    eprintln!(
        "layercake frontend timings: session={} start_to_first_solve_ms={first_solve} start_to_result_ms={}",
        client.env().session_id,
        ms(started.elapsed())
    );
}

/// Turns spec errors into one BuildKit error pointing at the first one's line.
pub(crate) fn spec_error(spec: &SpecFile, errors: &SpecErrors) -> BuildError {
    let message = errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let mut error = BuildError::new(message);
    if let Some(line) = errors.first().and_then(|e| e.line()) {
        error = error.with_location(spec.location(line));
    }
    error
}

fn opts_error(error: impl std::fmt::Display) -> BuildError {
    BuildError::new(format!("layercake: {error}"))
}

async fn build(client: Client) -> Result<FrontendResult, BuildError> {
    let opts = client.opts();
    let reader = ContextReader::new(&client);
    let spec_file = reader.read_spec().await?;
    let build_args = opts.build_args();

    if let Some(request) = opts.request_id() {
        return subrequest::answer(&client, &reader, &spec_file, request, &build_args).await;
    }

    let loaded = load(&spec_file.name, &spec_file.bytes, &build_args)
        .map_err(|errors| spec_error(&spec_file, &errors))?;
    let target = choose_target(&loaded.spec, opts.target()).map_err(|e| {
        let mut error = BuildError::new(e.to_string());
        if let Some(name) = opts.target() {
            error.message = format!("{} (asked for with --target {name})", error.message);
        }
        error
    })?;

    let files = read_plan_files(&reader, &spec_file, &loaded, &target).await?;
    let build_platform = client.env().build_platform();
    let mut platforms = opts.platforms().map_err(opts_error)?;
    if platforms.is_empty() {
        platforms.push(build_platform.clone());
    }
    let no_cache = opts.no_cache();
    let resolve_mode = opts.image_resolve_mode().map_err(opts_error)?;
    let epoch = opts.source_date_epoch().map_err(opts_error)?;
    let cache_imports = opts.cache_imports().map_err(opts_error)?;
    let network = opts.network_mode().map_err(opts_error)?;
    let extra_hosts: Vec<(String, String)> = opts
        .extra_hosts()
        .map_err(opts_error)?
        .into_iter()
        .map(|h| (h.host, h.ip.to_string()))
        .collect();

    // A tuning knob for measurements (docs/benchmarks.md), not part of the spec.
    let wheel_group_size = match opts.build_arg("LAYERCAKE_WHEEL_GROUP_SIZE") {
        None => layercake_plan::DEFAULT_WHEEL_GROUP_SIZE,
        Some(text) => text.parse().map_err(|_| {
            BuildError::new(format!(
                "build arg LAYERCAKE_WHEEL_GROUP_SIZE=`{text}` is not a number"
            ))
        })?,
    };
    let engine = EngineFeatures::from_caps(&client.caps().llb);
    // The plan's platforms are `os/arch[/variant]`: no OS version or features reach the LLB or
    // the image resolution (the result is still keyed by the full platform).
    let plan_options = |platform: &Platform| PlanOptions {
        platform: platform.clone().without_os_options(),
        build_platform: build_platform.clone().without_os_options(),
        labels: opts.labels(),
        no_cache: no_cache.clone(),
        cache_namespace: opts
            .build_arg("BUILDKIT_CACHE_MOUNT_NS")
            .map(|ns| format!("{ns}-"))
            .unwrap_or_default(),
        source_date_epoch: epoch,
        wheel_group_size,
        engine,
        lock: None,
    };
    let image_failure = |reference: &str, platform: &Platform, error: ClientError| {
        format!("cannot resolve base image `{reference}` for {platform}: {error}")
    };
    let frontend_image = context::frontend_image(opts.get("source"), &build_args);
    // `.dockerignore` order is its meaning (the last matching rule wins): never sorted.
    let lower_inputs =
        |images, context_excludes: Vec<String>, frontend_is_probe_layer| LowerInputs {
            context_name: opts.context_key().to_owned(),
            context_excludes,
            session_id: Some(client.env().session_id.clone()).filter(|s| !s.is_empty()),
            images,
            frontend_image: frontend_image.clone(),
            resolve_mode,
            network,
            extra_hosts: extra_hosts.clone(),
            frontend_is_probe_layer,
        };

    // The lock stage of every platform that needs one: solved first, the requirements.txt it
    // compiled read back, so the plans below are made per package from the resolved closure.
    let lock_plans = platforms
        .iter()
        .map(|platform| {
            layercake_plan::lock_plan(&loaded.services, &target, &files, &plan_options(platform))
                .map_err(|e| BuildError::new(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut images = BTreeMap::new();
    let mut locks = vec![None; platforms.len()];
    if lock_plans.iter().any(Option::is_some) {
        let wanted = wanted_images(lock_plans.iter().flatten(), &images);
        let (resolved, context_excludes) = tokio::try_join!(
            resolve_images(&client, wanted, resolve_mode, image_failure),
            reader.dockerignore(&spec_file),
        )?;
        images.extend(resolved);
        let inputs = lower_inputs(images.clone(), context_excludes, false);
        let mut solving = JoinSet::new();
        for (index, lock_plan) in lock_plans.into_iter().enumerate() {
            let Some(lock_plan) = lock_plan else {
                continue;
            };
            let lowered = lower(&lock_plan, &inputs).map_err(|e| BuildError::new(e.to_string()))?;
            let definition = Definition::new(&lowered.output);
            check_caps(&client, &definition)?;
            let (client, cache_imports, target) =
                (client.clone(), cache_imports.clone(), target.clone());
            solving.spawn(async move {
                (
                    index,
                    solve_lock(&client, definition, &cache_imports, &target).await,
                )
            });
        }
        while let Some(joined) = solving.join_next().await {
            let (index, lock) =
                joined.map_err(|e| BuildError::new(format!("the lock stage stopped: {e}")))?;
            locks[index] = Some(lock?);
        }
    }

    let plans = platforms
        .iter()
        .zip(locks)
        .map(|(platform, lock)| {
            let options = PlanOptions {
                lock,
                ..plan_options(platform)
            };
            plan(&loaded.services, &target, &files, &options)
                .map_err(|e| BuildError::new(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;

    // Every base image of every platform not resolved yet, at once (pinned by digest in the LLB).
    let wanted = wanted_images(plans.iter(), &images);
    // The context's `.dockerignore` (when no plan file read brought it along) travels while the
    // base images and the frontend's own image resolve: all are round trips to the client or the
    // registry.
    let (resolved, context_excludes, frontend_is_probe_layer) = tokio::try_join!(
        resolve_images(&client, wanted, resolve_mode, image_failure),
        reader.dockerignore(&spec_file),
        inspect_frontend_image(&client, frontend_image.as_deref(), &plans)
    )?;
    images.extend(resolved);
    let inputs = lower_inputs(images, context_excludes, frontend_is_probe_layer);

    let mut results =
        ImageResults::new(opts.multi_platform().map_err(opts_error)? || plans.len() > 1);
    for (plan, platform) in plans.iter().zip(&platforms) {
        let lowered = lower(plan, &inputs).map_err(|e| BuildError::new(e.to_string()))?;
        let definition = Definition::new(&lowered.output);
        check_caps(&client, &definition)?;
        let solved = client
            .solve(definition.into_pb(), &cache_imports, false)
            .await
            .map_err(|e| BuildError::new(e.to_string()))?;
        let base_config = base_config(&inputs, plan);
        results
            .add(PlatformImage {
                platform: platform.clone(),
                reference: solved,
                config: lowered.image.to_json(),
                base_config,
                epoch,
            })
            .map_err(opts_error)?;
    }
    results.finish().map_err(opts_error)
}

/// The configuration of the image the result's layers start with (merged images included), as
/// the registry serves it. With `rewrite-timestamp` the exporter leaves the layers its `rootfs`
/// lists alone, so the base image's layers keep their blobs.
fn base_config(inputs: &LowerInputs, plan: &layercake_plan::Plan) -> Option<Vec<u8>> {
    let (reference, platform) = plan.base_image(&plan.output)?;
    inputs
        .images
        .get(&(reference.to_owned(), platform.clone()))
        .map(|image| image.raw_config.clone())
        .filter(|raw| !raw.is_empty())
}

/// The label both frontend-image recipes set: the image is one layer holding only the binary at
/// this path, so nginx images can merge that layer as it is (blob and all).
const PROBE_LAYER_LABEL: &str = "layercake.probe-layer";

/// What the frontend reads of its own image's config.
#[derive(serde::Deserialize)]
struct FrontendImageConfig {
    #[serde(default)]
    config: FrontendContainerConfig,
    #[serde(default)]
    rootfs: FrontendRootfs,
}

#[derive(Default, serde::Deserialize)]
struct FrontendContainerConfig {
    #[serde(rename = "Labels", default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Default, serde::Deserialize)]
struct FrontendRootfs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// Whether an image config describes the one-layer probe image of the recipes.
fn is_probe_layer(config: &[u8]) -> bool {
    serde_json::from_slice::<FrontendImageConfig>(config).is_ok_and(|image| {
        image.rootfs.diff_ids.len() == 1
            && image
                .config
                .labels
                .as_ref()
                .and_then(|labels| labels.get(PROBE_LAYER_LABEL))
                .is_some_and(|path| path == layercake_plan::PROBE_PATH)
    })
}

/// The health probe is the frontend's own binary, from the frontend image for each image's
/// platform. Resolves that image for every such platform: fails early and clearly when one is
/// missing, and tells whether every one is the one-layer probe image, which the images can then
/// merge as it is (`LowerInputs::frontend_is_probe_layer`).
async fn inspect_frontend_image(
    client: &Client,
    frontend_image: Option<&str>,
    plans: &[layercake_plan::Plan],
) -> Result<bool, BuildError> {
    let Some(reference) = frontend_image else {
        return Ok(false);
    };
    let platforms: BTreeSet<Platform> = plans
        .iter()
        .flat_map(layercake_plan::Plan::frontend_platforms)
        .collect();
    if platforms.is_empty() {
        return Ok(false);
    }
    let wanted = platforms
        .into_iter()
        .map(|platform| (reference.to_owned(), platform))
        .collect();
    let resolved = resolve_images(
        client,
        wanted,
        ResolveMode::Default,
        |_, platform, error| {
            format!(
                "the HTTP health probe comes from the frontend image `{reference}`, which has no \
                 {platform} variant ({error}); publish the frontend image for {platform} \
                 (docs/publishing.md) or give the service a `healthcheck: {{ command: … }}`"
            )
        },
    )
    .await?;
    Ok(resolved
        .values()
        .all(|image| is_probe_layer(&image.raw_config)))
}

/// Fails early, naming what is missing, when the engine lacks an LLB capability the graph needs.
fn check_caps(client: &Client, definition: &Definition) -> Result<(), BuildError> {
    let supported = &client.caps().llb;
    if supported.is_empty() {
        // An engine that reports no LLB caps at all: nothing to check against; the solve decides.
        return Ok(());
    }
    let missing = definition.required_caps().missing_from(supported.iter());
    if missing.is_empty() {
        Ok(())
    } else {
        Err(BuildError::new(format!(
            "this BuildKit does not support LLB capabilities {} that the build needs; \
             upgrade the engine (Docker 23+ / BuildKit 0.11+) or drop the spec features that need them",
            missing.join(", ")
        )))
    }
}

/// The (image, platform) pairs `plans` start from that `known` does not hold yet, each once.
fn wanted_images<'p>(
    plans: impl Iterator<Item = &'p layercake_plan::Plan>,
    known: &BTreeMap<(String, Platform), ResolvedImage>,
) -> Vec<(String, Platform)> {
    let mut wanted: Vec<(String, Platform)> = Vec::new();
    for plan in plans {
        for image in plan.base_images() {
            if !known.contains_key(&image) && !wanted.contains(&image) {
                wanted.push(image);
            }
        }
    }
    wanted
}

/// Solves a lock stage (with the user's cache imports: a fresh machine finds it in the registry
/// cache) and reads the closure uv wrote from its result.
async fn solve_lock(
    client: &Client,
    definition: Definition,
    cache_imports: &[buildkit_frontend::CacheImport],
    target: &str,
) -> Result<layercake_plan::Lock, BuildError> {
    let failed = |e: &dyn std::fmt::Display| {
        BuildError::new(format!("service `{target}`: the lock stage: {e}"))
    };
    let solved = client
        .solve(definition.into_pb(), cache_imports, true)
        .await
        .map_err(|e| failed(&e))?;
    let report = client
        .read_file(&solved.id, layercake_plan::LOCK_REPORT, None)
        .await
        .map_err(|e| failed(&e))?;
    layercake_plan::Lock::from_compiled(&String::from_utf8_lossy(&report)).map_err(|e| failed(&e))
}

/// Reads the requirement files the plan needs, following `-r`/`-c` includes.
async fn read_plan_files(
    reader: &ContextReader<'_>,
    spec_file: &SpecFile,
    loaded: &LoadedSpec,
    target: &str,
) -> Result<layercake_plan::ContextFiles, BuildError> {
    let gathered = layercake_plan::gather_async(
        &loaded.services,
        layercake_plan::FileScope::Plan { target },
        |wanted, optional| async move { reader.read_context_files(&wanted, &optional).await },
    )
    .await
    .map_err(|e| match e {
        GatherError::Plan(e) => {
            let location = crate::load::folder_location(&loaded.spec, target);
            let mut error = BuildError::new(crate::load::at_location(
                &loaded.spec.file,
                location,
                &e.to_string(),
            ));
            if let Some(at) = location {
                error = error.with_location(spec_file.location(at.line));
            }
            error
        }
        GatherError::Read(e) => e,
    })?;
    if let Some(path) = gathered.missing.first() {
        // Positioned at the spec value that named the file (or the service's path).
        let location = crate::load::naming_location(&loaded.spec, target, path);
        let mut error = BuildError::new(crate::load::at_location(
            &loaded.spec.file,
            location,
            &format!("service `{target}`: `{path}` was not found in the build context"),
        ));
        if let Some(at) = location {
            error = error.with_location(spec_file.location(at.line));
        }
        return Err(error);
    }
    Ok(gathered.files)
}

/// Resolves every (image, platform) at once. `failure` words the error for an image that cannot
/// be resolved, from its reference, its platform and the engine's reason.
async fn resolve_images(
    client: &Client,
    wanted: Vec<(String, Platform)>,
    mode: ResolveMode,
    failure: impl Fn(&str, &Platform, ClientError) -> String,
) -> Result<BTreeMap<(String, Platform), ResolvedImage>, BuildError> {
    let mut tasks = JoinSet::new();
    for (reference, platform) in wanted {
        let client = client.clone();
        tasks.spawn(async move {
            let resolved = client
                .resolve_image(
                    // BuildKit wants the full name (docker.io/library/python:3.11-slim).
                    &buildkit_llb::normalize_image_reference(&reference),
                    Some(&platform),
                    mode,
                    &format!("[internal] load metadata for {reference}"),
                )
                .await;
            (reference, platform, resolved)
        });
    }
    let mut images = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (reference, platform, resolved) =
            joined.map_err(|e| BuildError::new(format!("image resolution stopped: {e}")))?;
        let resolved = resolved.map_err(|e| BuildError::new(failure(&reference, &platform, e)))?;
        let config = ImageConfig::from_json(&resolved.config).map_err(|e| {
            BuildError::new(format!("image `{reference}` has an unreadable config: {e}"))
        })?;
        images.insert(
            (reference, platform),
            ResolvedImage {
                digest: Some(resolved.digest).filter(|d| !d.is_empty()),
                config,
                raw_config: resolved.config,
            },
        );
    }
    Ok(images)
}

/// A location in the spec file, for errors and subrequest answers.
impl SpecFile {
    pub(crate) fn location(&self, line: u32) -> SourceLocation {
        SourceLocation {
            filename: self.name.clone(),
            data: self.text.as_bytes().to_vec(),
            language: "yaml".into(),
            ranges: vec![SourceRange::line(i32::try_from(line).unwrap_or(i32::MAX))],
        }
    }
}

/// Subrequest ids this frontend answers (`docker buildx build --call …`).
pub(crate) fn described() -> Vec<subrequests::RequestDescription> {
    vec![
        subrequests::RequestDescription::outline(),
        subrequests::RequestDescription::targets(),
        subrequest::lint_description(),
        subrequests::RequestDescription::describe(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_labelled_one_layer_image_is_merged_as_the_probe() {
        let config = |labels: &str, layers: &str| {
            format!(
                r#"{{"config":{{"Labels":{labels}}},"rootfs":{{"type":"layers","diff_ids":{layers}}}}}"#
            )
        };
        let label = r#"{"layercake.probe-layer":"/usr/local/bin/layercake"}"#;
        assert!(is_probe_layer(config(label, r#"["sha256:a"]"#).as_bytes()));
        // Two layers: rebuilt on top of another image, which must not reach nginx images.
        assert!(!is_probe_layer(
            config(label, r#"["sha256:a","sha256:b"]"#).as_bytes()
        ));
        assert!(!is_probe_layer(
            config("null", r#"["sha256:a"]"#).as_bytes()
        ));
        assert!(!is_probe_layer(
            config(
                r#"{"layercake.probe-layer":"/layercake"}"#,
                r#"["sha256:a"]"#
            )
            .as_bytes()
        ));
        assert!(!is_probe_layer(b"not json"));
    }
}

//! A build secret reaches the dependency step only: it is in no image layer, not in the image
//! config and in no blob of the registry cache; without it, the build fails. With
//! `rebuild_on_change`, a new value re-runs the dependency step and the same value keeps it
//! cached, and neither the values nor their digest land anywhere.

use crate::common::*;
use layercake_e2e::{Engine, Project, find_marker, registry_blobs};

/// The example project with `secret` (a flow mapping) as the api's one secret, and a marker in
/// the api's code that must reach the image: it proves the scans do find what is there.
fn example_with_secret(
    engine: &Engine,
    secret: &str,
) -> Result<(Project, String), Box<dyn std::error::Error>> {
    let project = engine.project("example")?;
    project.replace(
        "layercake.yaml",
        "    port: 8000\n",
        &format!("    port: 8000\n    secrets: [{secret}]\n"),
    )?;
    let code_marker = marker("code");
    project.append(
        "backend/app/main.py",
        &format!("\nCODE_MARKER = \"{code_marker}\"\n"),
    )?;
    Ok((project, code_marker))
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn a_secret_stays_out_of_layers_config_and_registry_cache_and_is_required() -> TestResult {
    let engine = Engine::new("secrets")?;
    let (project, code_marker) = example_with_secret(&engine, "{id: pip_token, env: PIP_TOKEN}")?;
    let secret = marker("secret");
    let image = engine.image_name("api");
    let cache = format!("{}:buildcache", engine.registry_repo("cache"));

    // Pruned first, so the wheels step really runs with the secret mounted.
    engine.prune()?;
    let report = engine
        .build(&project)
        .target("api")
        .tag(&image)
        .secret_env("pip_token", "PIP_TOKEN", &secret)
        .cache_to_registry(&cache)
        .run()?;
    report.ensure_success()?;
    assert!(
        numbered_steps(&report, API_WHEELS)?
            .iter()
            .all(|step| step.executed()),
        "{}",
        report.summary()
    );
    assert!(
        !report.everything().contains(&secret),
        "the secret shows in the build output"
    );

    let saved = engine.save_image(&image)?;
    assert!(
        !find_marker(&saved, &code_marker)?.is_empty(),
        "control: the code marker is not found in the saved image"
    );
    let leaked = find_marker(&saved, &secret)?;
    assert!(leaked.is_empty(), "the secret is in the image: {leaked:?}");
    let config = engine.image_inspect(&image)?.to_string();
    assert!(
        config.contains("10001:10001"),
        "control: not the image config: {config}"
    );
    assert!(
        !config.contains(&secret),
        "the secret is in the image config: {config}"
    );

    let blobs_dir = engine.scratch_dir("cache-blobs")?;
    let blobs = registry_blobs(&cache, &blobs_dir)?;
    assert!(
        blobs.len() > 2,
        "the registry cache holds almost nothing: {blobs:?}"
    );
    assert!(
        !find_marker(&blobs_dir, &code_marker)?.is_empty(),
        "control: the code marker is not in the registry cache ({} blobs)",
        blobs.len()
    );
    let leaked = find_marker(&blobs_dir, &secret)?;
    assert!(
        leaked.is_empty(),
        "the secret is in the registry cache: {leaked:?}"
    );

    // Required: on a fresh machine a build without the secret fails (and says which one).
    engine.rmi(&image)?;
    engine.prune()?;
    let without = engine.build(&project).target("api").tag(&image).run()?;
    assert!(
        !without.success(),
        "built without the required secret:\n{}",
        without.summary()
    );
    assert!(
        without.messages().contains("pip_token"),
        "the failure does not name the secret:\n{}",
        without.messages()
    );
    Ok(())
}

const API_DIGEST: &str = "[api secret-pip_token 1/1]";

/// Every wheel step of the report: all cached (`true`) or all run with output (`false`).
fn wheels_cached(report: &layercake_e2e::BuildReport) -> Result<bool, Box<dyn std::error::Error>> {
    let steps = numbered_steps(report, API_WHEELS)?;
    if steps.iter().all(|s| s.cached() && !s.executed()) {
        Ok(true)
    } else if steps.iter().all(|s| s.executed()) {
        Ok(false)
    } else {
        Err(format!("wheel steps partly cached:\n{}", report.summary()).into())
    }
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn a_rebuild_on_change_secret_reruns_the_dependency_step_only_when_its_value_changes() -> TestResult
{
    let engine = Engine::new("secret-rebuild")?;
    let (project, code_marker) = example_with_secret(
        &engine,
        "{id: pip_token, env: PIP_TOKEN, rebuild_on_change: true}",
    )?;
    // Fresh values: the LLB is the same as in any earlier run of this test on this engine, so
    // the first build runs the wheel steps only because the value is new, not because of a prune.
    let (a, b) = (marker("secret-a"), marker("secret-b"));
    let digests = [
        layercake_plan::secret_digest("api", "pip_token", a.as_bytes()),
        layercake_plan::secret_digest("api", "pip_token", b.as_bytes()),
    ];
    let image = engine.image_name("api");
    let cache = format!("{}:buildcache", engine.registry_repo("cache"));
    let build = |value: &str| {
        engine
            .build(&project)
            .target("api")
            .tag(&image)
            .secret_env("pip_token", "PIP_TOKEN", value)
    };
    let mut outputs = Vec::new();

    // 1. value A, never seen: the wheels are built (with the registry cache exported, mode=max).
    let first = build(&a).cache_to_registry(&cache).run()?;
    first.ensure_success()?;
    assert!(
        !wheels_cached(&first)?,
        "value A is new:\n{}",
        first.summary()
    );
    assert!(first.step(API_DIGEST)?.ran(), "{}", first.summary());
    outputs.push(first.everything());

    // 2. A again: the digest step runs (it always does), the wheel steps are cached.
    let again = build(&a).run()?;
    again.ensure_success()?;
    let digest_step = again.step(API_DIGEST)?;
    assert!(
        digest_step.ran() && !digest_step.cached(),
        "the digest step must run in every build:\n{}",
        again.summary()
    );
    assert!(
        wheels_cached(&again)?,
        "same value, yet the wheels re-ran:\n{}",
        again.summary()
    );
    outputs.push(again.everything());

    // 3. B: the wheel steps run again (this time the cache is exported with mode=min).
    let min_cache = format!("{}:buildcache", engine.registry_repo("min-cache"));
    let changed = build(&b)
        .arg("--cache-to")
        .arg(&format!("type=registry,ref={min_cache},mode=min"))
        .run()?;
    changed.ensure_success()?;
    assert!(
        !wheels_cached(&changed)?,
        "value B re-runs the wheels:\n{}",
        changed.summary()
    );
    outputs.push(changed.everything());

    // 4. Back to A: its earlier result is found by content, so the wheels are cached again.
    let back = build(&a).run()?;
    back.ensure_success()?;
    assert!(
        wheels_cached(&back)?,
        "value A was built before:\n{}",
        back.summary()
    );
    outputs.push(back.everything());

    // Neither value, nor its digest, in any build output, image layer or the image config;
    // the values in no blob of either exported cache, the digests in none of the mode=min one.
    // (With mode=max BuildKit 0.13 exports the digest stage's layer although the op says
    // `export_cache: false`: measured, see docs/security.md.)
    let values = [a.as_str(), b.as_str()];
    let needles = [a.as_str(), b.as_str(), digests[0].trim(), digests[1].trim()];
    for (n, output) in outputs.iter().enumerate() {
        for needle in needles {
            assert!(
                !output.contains(needle),
                "build {}: output shows {needle}",
                n + 1
            );
        }
    }
    let saved = engine.save_image(&image)?;
    assert!(
        !find_marker(&saved, &code_marker)?.is_empty(),
        "control: the code marker is not found in the saved image"
    );
    let config = engine.image_inspect(&image)?.to_string();
    assert!(
        config.contains("10001:10001"),
        "control: not the image config: {config}"
    );
    let blobs_dir = engine.scratch_dir("cache-blobs")?;
    let blobs = registry_blobs(&cache, &blobs_dir)?;
    assert!(
        !find_marker(&blobs_dir, &code_marker)?.is_empty(),
        "control: the code marker is not in the registry cache ({} blobs)",
        blobs.len()
    );
    for needle in needles {
        let in_image = find_marker(&saved, needle)?;
        assert!(
            in_image.is_empty(),
            "{needle} is in the image: {in_image:?}"
        );
        assert!(!config.contains(needle), "{needle} is in the image config");
    }
    for value in values {
        let in_cache = find_marker(&blobs_dir, value)?;
        assert!(
            in_cache.is_empty(),
            "{value} is in the mode=max registry cache: {in_cache:?}"
        );
    }
    let min_dir = engine.scratch_dir("min-cache-blobs")?;
    let min_blobs = registry_blobs(&min_cache, &min_dir)?;
    assert!(
        min_blobs.len() > 2,
        "the mode=min cache holds almost nothing: {min_blobs:?}"
    );
    for needle in needles {
        let in_cache = find_marker(&min_dir, needle)?;
        assert!(
            in_cache.is_empty(),
            "{needle} is in the mode=min registry cache: {in_cache:?}"
        );
    }
    Ok(())
}

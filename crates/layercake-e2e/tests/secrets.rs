//! A build secret reaches the dependency step only: it is in no image layer, not in the image
//! config and in no blob of the registry cache; without it, the build fails.

mod common;

use common::*;
use layercake_e2e::{Engine, find_marker, registry_blobs};

#[test]
#[ignore = "needs the real engine: make e2e"]
fn a_secret_stays_out_of_layers_config_and_registry_cache_and_is_required() -> TestResult {
    let engine = Engine::new("secrets")?;
    let project = engine.project("example")?;
    project.replace(
        "layercake.yaml",
        "    port: 8000\n",
        "    port: 8000\n    secrets: [{id: pip_token, env: PIP_TOKEN}]\n",
    )?;
    // A marker that must reach the image: proves the scans below do find what is there.
    let code_marker = marker("code");
    project.append(
        "backend/app/main.py",
        &format!("\nCODE_MARKER = \"{code_marker}\"\n"),
    )?;
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

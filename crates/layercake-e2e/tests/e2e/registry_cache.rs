//! Registry cache (`mode=max`): on a fresh machine (built image removed, BuildKit cache pruned)
//! a code change rebuilds with no dependency step executed, for api and web.
//!
//! A step restored from the registry may print no CACHED line, so "executed" means: the step's
//! process printed something (pip and npm always do).

use crate::common::*;
use layercake_e2e::{Engine, Project};

struct Scenario<'a> {
    target: &'a str,
    dependencies: &'a [&'a str],
    /// Steps that must run again after the code change.
    rerun: &'a [&'a str],
    edit: fn(&Project, &str) -> TestResult,
    /// Prints the file in the image that must hold the marker afterwards.
    show: &'a [&'a str],
}

fn fresh_machine_rebuild_from_registry_cache(scenario: &Scenario<'_>) -> TestResult {
    let engine = Engine::new(&format!("registry_cache_{}", scenario.target))?;
    let project = engine.project("example")?;
    let image = engine.image_name(scenario.target);
    let cache = format!("{}:buildcache", engine.registry_repo("cache"));

    engine.prune()?;
    let first = engine
        .build(&project)
        .target(scenario.target)
        .tag(&image)
        .cache_to_registry(&cache)
        .run()?;
    first.ensure_success()?;
    for dependency in scenario.dependencies {
        // The check below could not fail if the dependency steps never printed anything.
        for step in numbered_steps(&first, dependency)? {
            assert!(
                step.executed(),
                "cold build, {} printed nothing:\n{}",
                step.name(),
                first.summary()
            );
        }
    }

    // A fresh CI machine: no built image (its layers would stay local) and no BuildKit cache.
    engine.rmi(&image)?;
    engine.prune()?;

    let marker = marker("registry-cache");
    (scenario.edit)(&project, &marker)?;
    let second = engine
        .build(&project)
        .target(scenario.target)
        .tag(&image)
        .cache_from_registry(&cache)
        .run()?;
    second.ensure_success()?;
    for dependency in scenario.dependencies {
        for step in numbered_steps(&second, dependency)? {
            assert!(
                !step.executed(),
                "{} executed despite the registry cache:\n{}\n--- its log ---\n{}",
                step.name(),
                second.summary(),
                step.log_text()
            );
        }
    }
    for step in scenario.rerun {
        assert!(
            second.step(step)?.ran(),
            "{step} did not run after the code change:\n{}",
            second.summary()
        );
    }
    let shown = engine.run_once(&image, &[], scenario.show)?;
    assert!(
        shown.contains(&marker),
        "the code change is not in the image"
    );
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn api_fresh_machine_with_registry_cache_executes_no_dependency_step() -> TestResult {
    fresh_machine_rebuild_from_registry_cache(&Scenario {
        target: "api",
        dependencies: &[API_WHEELS, API_INSTALL, API_RESOLVE],
        rerun: &[API_CODE],
        edit: |project, marker| {
            project.append("backend/app/main.py", &format!("\nMARKER = \"{marker}\"\n"))?;
            Ok(())
        },
        show: &["cat", "/app/app/main.py"],
    })
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn web_fresh_machine_with_registry_cache_executes_no_dependency_step() -> TestResult {
    fresh_machine_rebuild_from_registry_cache(&Scenario {
        target: "web",
        dependencies: &[WEB_NPM_CI],
        rerun: &[WEB_BUILD, WEB_HTML_COPY],
        edit: |project, marker| {
            project.append(
                "frontend/src/main.js",
                &format!("\nconsole.log('{marker}');\n"),
            )?;
            Ok(())
        },
        show: &["sh", "-c", "cat /usr/share/nginx/html/assets/*.js"],
    })
}

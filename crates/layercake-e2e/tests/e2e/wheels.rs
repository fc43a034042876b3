//! Per-requirement wheel caching (issue 9): with a fully pinned requirements file, one changed pin
//! rebuilds one wheel step and reinstalls one install layer — on the same machine, and on a fresh
//! machine with registry cache only.
//!
//! testdata/realistic/api pins 29 requirements (8 with compiled wheels); the tests add a 30th
//! (`six`, which nothing else needs, so the set stays complete). "Executed" means the
//! step's process printed something (pip always does); a step restored from the registry cache may
//! print no CACHED line, so CACHED lines are not what is counted.

use crate::common::*;
use layercake_e2e::{BuildReport, Engine, Project};

/// Every wheel step: `[api wheels 3/8] idna==3.20` and `[api wheels 2/8] anyio==… click==…`.
const WHEEL_STEPS: &str = "[api wheels";
/// Every install layer: `[api install 3/8] idna==3.20`.
const INSTALL_STEPS: &str = "[api install";
const OLD_PIN: &str = "idna==3.20";
const NEW_PIN: &str = "idna==3.10";

/// The realistic api with 30 pinned requirements.
fn thirty_pins(project: &Project) -> TestResult {
    let path = "api/requirements.txt";
    let text = project.read(path)? + "six==1.16.0\n";
    let pins = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#') && line.contains("=="))
        .count();
    assert_eq!(pins, 30, "the fixture no longer pins 29 requirements");
    project.write(path, &text)?;
    Ok(())
}

fn bump_pin(project: &Project) -> TestResult {
    let path = "api/requirements.txt";
    let text = project.read(path)?;
    assert!(
        text.contains(OLD_PIN),
        "the fixture no longer pins {OLD_PIN}"
    );
    project.write(path, &text.replace(OLD_PIN, NEW_PIN))?;
    Ok(())
}

/// The numbered steps under `prefix` that executed, by name; and how many there were.
fn executed_steps(report: &BuildReport, prefix: &str) -> (Vec<String>, usize) {
    // `[api wheels] merge 8 results` and `[api install] changed files as a layer (2/8)` share
    // the prefix but run no process.
    let steps: Vec<_> = report
        .steps_with_prefix(prefix)
        .into_iter()
        .filter(|step| step.is_numbered())
        .collect();
    let executed = steps
        .iter()
        .filter(|step| step.executed())
        .map(|step| step.name().to_owned())
        .collect();
    (executed, steps.len())
}

fn assert_only_the_bumped_wheel_ran(report: &BuildReport) {
    assert_only_the_bumped_step_ran(report, WHEEL_STEPS);
    // The install layers follow the wheel groups: one reinstalls, the others come from the cache.
    assert_only_the_bumped_step_ran(report, INSTALL_STEPS);
}

fn assert_only_the_bumped_step_ran(report: &BuildReport, prefix: &str) {
    let (executed, total) = executed_steps(report, prefix);
    assert!(
        total > 1,
        "expected several `{prefix}` steps:\n{}",
        report.summary()
    );
    assert_eq!(
        executed.len(),
        1,
        "exactly one `{prefix}` step must run after one pin changed:\n{}",
        report.summary()
    );
    assert!(
        executed[0].contains(NEW_PIN),
        "the step that ran is not the bumped one: {}",
        executed[0]
    );
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn one_changed_pin_rebuilds_one_wheel_step() -> TestResult {
    let engine = Engine::new("one_pin_same_machine")?;
    let project = engine.project("realistic")?;
    thirty_pins(&project)?;
    let image = engine.image_name("api");
    // Another test may have built the bumped bucket already; start from an empty cache.
    engine.prune()?;
    let first = engine.build(&project).target("api").tag(&image).run()?;
    first.ensure_success()?;

    bump_pin(&project)?;
    let second = engine.build(&project).target("api").tag(&image).run()?;
    second.ensure_success()?;
    assert_only_the_bumped_wheel_ran(&second);
    let version = engine.run_once(
        &image,
        &[],
        &["python3", "-c", "import idna; print(idna.__version__)"],
    )?;
    assert_eq!(
        version.trim(),
        "3.10",
        "the image does not have the bumped pin"
    );
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn one_changed_pin_on_a_fresh_machine_rebuilds_one_wheel_step() -> TestResult {
    let engine = Engine::new("one_pin_fresh_machine")?;
    let project = engine.project("realistic")?;
    thirty_pins(&project)?;
    let image = engine.image_name("api");
    let cache = format!("{}:buildcache", engine.registry_repo("wheels"));

    engine.prune()?;
    let first = engine
        .build(&project)
        .target("api")
        .tag(&image)
        .cache_to_registry(&cache)
        .run()?;
    first.ensure_success()?;
    for prefix in [WHEEL_STEPS, INSTALL_STEPS] {
        let (executed, total) = executed_steps(&first, prefix);
        assert_eq!(
            executed.len(),
            total,
            "a cold build runs every `{prefix}` step"
        );
    }

    // A fresh CI machine: no built image and no BuildKit cache, only the registry cache.
    engine.rmi(&image)?;
    engine.prune()?;

    bump_pin(&project)?;
    let second = engine
        .build(&project)
        .target("api")
        .tag(&image)
        .cache_from_registry(&cache)
        .run()?;
    second.ensure_success()?;
    assert_only_the_bumped_wheel_ran(&second);
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn a_pinned_set_missing_a_dependency_fails_in_resolve() -> TestResult {
    // Each group installs with `--no-deps`, so only `resolve` can notice that a requirement's own
    // dependency is not pinned: `starlette` is fastapi's, and no wheel of it is built.
    let engine = Engine::new("pinned_set_incomplete")?;
    let project = engine.project("example")?;
    let path = "backend/requirements.txt";
    let text = project.read(path)?;
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| !line.starts_with("starlette=="))
        .collect();
    assert!(
        kept.len() < text.lines().count(),
        "the fixture no longer pins starlette"
    );
    project.write(path, &(kept.join("\n") + "\n"))?;

    let report = engine.build(&project).target("api").run()?;
    assert!(
        !report.success(),
        "built without starlette:\n{}",
        report.summary()
    );
    let resolve = report.step(API_RESOLVE)?;
    assert!(
        resolve.error().is_some() && resolve.log_text().contains("starlette"),
        "the failure is not resolve's, naming starlette:\n{}\n--- its log ---\n{}",
        report.summary(),
        resolve.log_text()
    );
    // The install layers themselves do not check dependencies: none of them failed on its own
    // (one still running when `resolve` failed is cancelled by BuildKit).
    for step in numbered_steps(&report, "[api install")? {
        if let Some(error) = step.error() {
            assert!(
                error.contains("canceled"),
                "{} failed: {error}\n{}",
                step.name(),
                report.summary()
            );
        }
    }
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn hashed_pins_install_wheels_built_from_sdists() -> TestResult {
    // `pip-compile --generate-hashes` output. docopt has only an sdist: its wheel is built here
    // and cannot match the sdist's hash, so only the wheel step may check hashes.
    let engine = Engine::new("hashed_pins")?;
    let project = engine.project("example")?;
    project.write(
        "backend/requirements.txt",
        "docopt==0.6.2 \\\n    \
         --hash=sha256:49b3a825280bd66b3aa83585ef59c4a8c82f2c8a522dbe754a8bc8d08c85c491\n\
         six==1.16.0 \\\n    \
         --hash=sha256:1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926 \\\n    \
         --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254\n",
    )?;
    let image = engine.image_name("api");
    let report = engine.build(&project).target("api").tag(&image).run()?;
    report.ensure_success()?;
    for prefix in [WHEEL_STEPS, INSTALL_STEPS] {
        let (executed, total) = executed_steps(&report, prefix);
        assert!(
            total > 0 && executed.len() == total,
            "every `{prefix}` step must run in this new build:\n{}",
            report.summary()
        );
    }
    let freeze = engine.run_once(&image, &[], &["python3", "-m", "pip", "freeze"])?;
    for pin in ["docopt==0.6.2", "six==1.16.0"] {
        assert!(
            freeze.lines().any(|line| line == pin),
            "`pip freeze` in the image does not show {pin}:\n{freeze}"
        );
    }
    Ok(())
}

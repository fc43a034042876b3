//! Per-requirement wheel caching (issue 9): with a fully pinned requirements file, one changed pin
//! rebuilds one wheel step — on the same machine, and on a fresh machine with registry cache only.
//!
//! testdata/realistic/api pins 29 requirements (8 with compiled wheels). "Executed" means the
//! step's process printed something (pip always does); a step restored from the registry cache may
//! print no CACHED line, so CACHED lines are not what is counted.

mod common;

use common::*;
use layercake_e2e::{BuildReport, Engine, Project};

/// Every wheel step: `[api wheel 3/8] idna==3.20` and `[api wheels 2/8] anyio==… click==…`.
const WHEEL_STEPS: &str = "[api wheel";
const OLD_PIN: &str = "idna==3.20";
const NEW_PIN: &str = "idna==3.10";

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

/// The wheel steps that executed, by name; and how many wheel steps there were.
fn executed_wheel_steps(report: &BuildReport) -> (Vec<String>, usize) {
    // `[api wheels] merge 8 results` shares the prefix but runs no process.
    let steps: Vec<_> = report
        .steps_with_prefix(WHEEL_STEPS)
        .into_iter()
        .filter(|step| !step.name().contains("] merge "))
        .collect();
    let executed = steps
        .iter()
        .filter(|step| step.executed())
        .map(|step| step.name().to_owned())
        .collect();
    (executed, steps.len())
}

fn assert_only_the_bumped_wheel_ran(report: &BuildReport) {
    let (executed, total) = executed_wheel_steps(report);
    assert!(
        total > 1,
        "expected several wheel steps:\n{}",
        report.summary()
    );
    assert_eq!(
        executed.len(),
        1,
        "exactly one wheel step must run after one pin changed:\n{}",
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
    let (executed, total) = executed_wheel_steps(&first);
    assert_eq!(executed.len(), total, "a cold build runs every wheel step");

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

//! Requirement files as projects write them (issue 22), on the real engine: top-level pins only,
//! ranges with a package the spec adds, a universal lock with marker-split pins, and a conflict.
//! Each image must hold exactly the resolved closure (beside the base image's own packages),
//! every package of it must import, and one changed top-level pin must rebuild only its group,
//! on a fresh machine with registry cache too.
//!
//! testdata/pyreqs holds the projects; its README says what each one is.

use std::collections::BTreeMap;

use crate::common::python_image::*;
use crate::common::*;
use layercake_e2e::{BuildReport, Engine, Project};

const BASE: &str = "python:3.11-slim";

fn executed_names(report: &BuildReport, prefix: &str) -> Vec<String> {
    report
        .steps_with_prefix(prefix)
        .into_iter()
        .filter(|step| step.is_numbered() && step.executed())
        .map(|step| step.name().to_owned())
        .collect()
}

fn lock_step(report: &BuildReport, service: &str) -> Result<bool, Box<dyn std::error::Error>> {
    let step = report.step(&format!("[{service} lock 1/1]"))?;
    Ok(step.executed())
}

fn healthy(engine: &Engine, image: &str) -> TestResult {
    let container = engine.run(image, &["-p", "127.0.0.1::8000"], &[])?;
    engine.wait_healthy(&container, HEALTHY_WITHIN)?;
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn top_level_pins_are_resolved_once_and_cached_per_package() -> TestResult {
    let engine = Engine::new("reqs_top_level")?;
    let project = engine.project("pyreqs")?;
    let image = engine.image_name("toplevel");
    let report = engine
        .build(&project)
        .target("toplevel")
        .tag(&image)
        .run()?;
    report.ensure_success()?;
    // The six top-level pins resolved to their closure, each package in a group of its own
    // steps: what used to stop at `resolve` with "Could not find a version that satisfies".
    let closure = planned_closure(&report, "toplevel");
    for top in [
        "fastapi",
        "uvicorn",
        "sqlalchemy",
        "orjson",
        "httpx",
        "python-multipart",
    ] {
        assert!(closure.contains_key(top), "{top} not planned: {closure:?}");
    }
    for dependency in ["starlette", "pydantic-core", "anyio", "uvloop", "greenlet"] {
        assert!(
            closure.contains_key(dependency),
            "{dependency} (a dependency) not planned: {closure:?}"
        );
    }
    assert!(
        numbered_steps(&report, "[toplevel wheels")?.len() > 1,
        "{}",
        report.summary()
    );
    assert!(numbered_steps(&report, "[toplevel install")?.len() > 1);
    assert_image_holds_exactly(&engine, BASE, &image, &closure, None)?;
    healthy(&engine, &image)?;

    // The same files: the lock stage and every dependency step come from the cache.
    let again = engine
        .build(&project)
        .target("toplevel")
        .tag(&image)
        .run()?;
    again.ensure_success()?;
    assert!(!lock_step(&again, "toplevel")?, "{}", again.summary());
    assert!(executed_names(&again, "[toplevel wheels").is_empty());
    assert_eq!(planned_closure(&again, "toplevel"), closure);
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn one_bumped_top_level_pin_on_a_fresh_machine_rebuilds_only_its_group() -> TestResult {
    let engine = Engine::new("reqs_bump_fresh")?;
    let project = engine.project("pyreqs")?;
    let image = engine.image_name("toplevel");
    let cache = format!("{}:buildcache", engine.registry_repo("reqs"));
    engine.prune()?;
    engine
        .build(&project)
        .target("toplevel")
        .tag(&image)
        .cache_to_registry(&cache)
        .run()?
        .ensure_success()?;

    // A fresh machine, the same files: the lock itself comes from the registry cache.
    engine.rmi(&image)?;
    engine.prune()?;
    let same = engine
        .build(&project)
        .target("toplevel")
        .tag(&image)
        .cache_from_registry(&cache)
        .run()?;
    same.ensure_success()?;
    assert!(!lock_step(&same, "toplevel")?, "{}", same.summary());
    assert!(
        executed_names(&same, "[toplevel wheels").is_empty(),
        "{}",
        same.summary()
    );

    // A fresh machine, one top-level pin bumped: the lock runs again (its files changed), and
    // only the group holding that package builds and installs.
    engine.rmi(&image)?;
    engine.prune()?;
    project.replace(
        "toplevel/requirements.txt",
        "orjson==3.10.12",
        "orjson==3.10.11",
    )?;
    let bumped = engine
        .build(&project)
        .target("toplevel")
        .tag(&image)
        .cache_from_registry(&cache)
        .run()?;
    bumped.ensure_success()?;
    assert!(lock_step(&bumped, "toplevel")?, "{}", bumped.summary());
    for prefix in ["[toplevel wheels", "[toplevel install"] {
        let ran = executed_names(&bumped, prefix);
        assert_eq!(ran.len(), 1, "{prefix}: {ran:?}\n{}", bumped.summary());
        assert!(ran[0].contains("orjson==3.10.11"), "{ran:?}");
    }
    let closure = planned_closure(&bumped, "toplevel");
    assert_eq!(closure.get("orjson").map(String::as_str), Some("3.10.11"));
    assert_image_holds_exactly(&engine, BASE, &image, &closure, None)?;
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn ranges_and_spec_packages_are_resolved_together() -> TestResult {
    let engine = Engine::new("reqs_ranges")?;
    let project = engine.project("pyreqs")?;
    let image = engine.image_name("ranges");
    let report = engine.build(&project).target("ranges").tag(&image).run()?;
    report.ensure_success()?;
    let closure = planned_closure(&report, "ranges");
    for name in [
        "fastapi",
        "uvicorn",
        "httpx",
        "python-multipart",
        "starlette",
    ] {
        assert!(
            closure.contains_key(name),
            "{name} not planned: {closure:?}\n{}",
            report.summary()
        );
    }
    assert_image_holds_exactly(&engine, BASE, &image, &closure, None)?;
    healthy(&engine, &image)
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn a_universal_lock_installs_the_pin_whose_markers_hold() -> TestResult {
    let engine = Engine::new("reqs_universal")?;
    let project = engine.project("pyreqs")?;
    let text = project.read("universal/requirements.txt")?;
    assert!(
        text.contains("click==8.1.8 ; python_full_version < '3.10'")
            && text.contains("click==8.5.1 ; python_full_version >= '3.10'"),
        "the fixture no longer splits click by markers"
    );
    let image = engine.image_name("universal");
    let report = engine
        .build(&project)
        .target("universal")
        .tag(&image)
        .run()?;
    report.ensure_success()?;
    // uv's header: a complete closure, no lock stage.
    assert!(
        report.step("[universal lock").is_err(),
        "{}",
        report.summary()
    );
    // The image's own Python evaluates the markers of every line of the file: each package is
    // installed at the version of the line that holds (click 8.5.1, fastapi 0.165.0, …), and
    // packages whose every line is for other interpreters (exceptiongroup) are absent.
    assert_image_holds_exactly(
        &engine,
        BASE,
        &image,
        &BTreeMap::new(),
        Some("/app/requirements.txt"),
    )?;
    let got = inspect(
        &engine,
        &image,
        &BTreeMap::new(),
        Some("/app/requirements.txt"),
    )?;
    assert_eq!(
        got.installed.get("click").map(String::as_str),
        Some("8.5.1")
    );
    assert!(!got.installed.contains_key("exceptiongroup"));
    healthy(&engine, &image)
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn two_files_pinning_one_package_twice_fail_naming_both_lines() -> TestResult {
    let engine = Engine::new("reqs_conflict")?;
    let project: Project = engine.project("pyreqs")?;
    let report = engine.build(&project).target("conflict").run()?;
    assert!(!report.success(), "built: {}", report.summary());
    let everything = report.everything();
    for needle in [
        "conflict/requirements.txt:3",
        "conflict/requirements-dev.txt:3",
        "httpx",
    ] {
        assert!(
            everything.contains(needle),
            "`{needle}` not said:\n{everything}"
        );
    }
    // Refused while planning: the spec and the requirement files were read, no step ran.
    report.step("[internal] load spec")?;
    assert!(
        report.steps_with_prefix("[conflict").is_empty(),
        "{}",
        report.summary()
    );
    Ok(())
}

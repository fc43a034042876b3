//! uv projects (issue 18), on the real engine: testdata/uv/api is a FastAPI project as `uv init`,
//! `uv add` and `uv lock` leave it (pyproject.toml with an extra and a dev group, uv.lock, no
//! requirements.txt), and a package (hatchling): its own code is built as a wheel.
//!
//! testdata/uv/api.expected.txt is `uv export` of the same selection (the `cache` extra, no dev
//! group): the image must hold exactly those packages (their markers evaluated by the image's
//! Python) and the project, and every one must import.

use std::collections::BTreeMap;

use crate::common::python_image::*;
use crate::common::*;
use layercake_e2e::{BuildReport, Engine, Project, http_get};

const BASE: &str = "python:3.14-slim";
const WHEELS: &str = "[api wheels";
const INSTALLS: &str = "[api install";
const PROJECT_WHEEL: &str = "[api project 1/1]";

fn executed_names(report: &BuildReport, prefix: &str) -> Vec<String> {
    report
        .steps_with_prefix(prefix)
        .into_iter()
        .filter(|step| step.is_numbered() && step.executed())
        .map(|step| step.name().to_owned())
        .collect()
}

/// The image holds `uv export`'s packages and the project itself, nothing of the dev group.
fn assert_holds_the_export(engine: &Engine, image: &str) -> TestResult {
    let expected = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/uv/api.expected.txt"),
    )?;
    let project = BTreeMap::from([("cake-api".to_owned(), "0.3.0".to_owned())]);
    let lines = format!("lines:{expected}");
    assert_image_holds_exactly(engine, BASE, image, &project, Some(&lines))?;
    let got = inspect(engine, image, &BTreeMap::new(), None)?;
    for dev in ["pytest", "httpx", "pluggy", "iniconfig"] {
        assert!(
            !got.installed.contains_key(dev),
            "`{dev}` (dev group) is in the image"
        );
    }
    Ok(())
}

fn serve(engine: &Engine, image: &str, path: &str) -> Result<String, Box<dyn std::error::Error>> {
    let container = engine.run(image, &["-p", "127.0.0.1::8000"], &[])?;
    engine.wait_healthy(&container, HEALTHY_WITHIN)?;
    assert_eq!(engine.exec(&container, &["id", "-u"])?, "10001");
    let answer = http_get(container.host_port(8000)?, path)?;
    assert_eq!(answer.status, 200, "{answer:?}");
    Ok(answer.body)
}

fn build(
    engine: &Engine,
    project: &Project,
    image: &str,
) -> Result<BuildReport, Box<dyn std::error::Error>> {
    let report = engine.build(project).target("api").tag(image).run()?;
    report.ensure_success()?;
    Ok(report)
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn a_uv_project_installs_its_lock_and_itself_and_a_code_change_reinstalls_nothing() -> TestResult {
    let engine = Engine::new("uv_project")?;
    let project = engine.project("uv")?;
    let image = engine.image_name("api");
    let report = build(&engine, &project, &image)?;
    // The lock is the closure: no lock stage, the packages in groups of their own steps.
    assert!(
        report.steps_with_prefix("[api lock").is_empty(),
        "{}",
        report.summary()
    );
    assert!(
        numbered_steps(&report, WHEELS)?.len() > 1,
        "{}",
        report.summary()
    );
    report.step(PROJECT_WHEEL)?;
    assert_holds_the_export(&engine, &image)?;
    let orders = serve(&engine, &image, "/orders")?;
    assert!(orders.contains("lemon drizzle"), "{orders}");

    // A code change: the project's wheel is built again from the code; no locked package is
    // built or installed again.
    let marker = marker("uv-code");
    project.append(
        "api/app/main.py",
        &format!(
            "\n\n@app.get(\"/e2e\")\ndef e2e() -> dict[str, str]:\n    return {{\"marker\": \"{marker}\"}}\n"
        ),
    )?;
    let again = build(&engine, &project, &image)?;
    for prefix in [WHEELS, INSTALLS] {
        let ran = executed_names(&again, prefix);
        assert!(ran.is_empty(), "{prefix} ran on a code change: {ran:?}");
    }
    assert!(again.step(PROJECT_WHEEL)?.executed(), "{}", again.summary());
    assert!(serve(&engine, &image, "/e2e")?.contains(&marker));
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn one_bumped_lock_entry_on_a_fresh_machine_rebuilds_only_its_group() -> TestResult {
    let engine = Engine::new("uv_bump_fresh")?;
    let project = engine.project("uv")?;
    let image = engine.image_name("api");
    let cache = format!("{}:buildcache", engine.registry_repo("uv"));
    engine.prune()?;
    engine
        .build(&project)
        .target("api")
        .tag(&image)
        .cache_to_registry(&cache)
        .run()?
        .ensure_success()?;

    // A fresh machine, `uv lock --upgrade-package idna==3.10`: the entry as uv wrote it.
    engine.rmi(&image)?;
    engine.prune()?;
    let entry = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/uv/idna-3.10.lock-entry"),
    )?;
    let entry: String = entry
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect();
    let lock = project.read("api/uv.lock")?;
    let start = lock
        .find("[[package]]\nname = \"idna\"\n")
        .ok_or("uv.lock has no idna entry")?;
    let end = start
        + lock[start..]
            .find("\n\n[[package]]")
            .ok_or("the idna entry is the last")?
        + 1;
    project.write(
        "api/uv.lock",
        &format!("{}{}{}", &lock[..start], entry, &lock[end..]),
    )?;
    let bumped = engine
        .build(&project)
        .target("api")
        .tag(&image)
        .cache_from_registry(&cache)
        .run()?;
    bumped.ensure_success()?;
    for prefix in [WHEELS, INSTALLS] {
        let ran = executed_names(&bumped, prefix);
        assert_eq!(ran.len(), 1, "{prefix}: {ran:?}\n{}", bumped.summary());
        assert!(ran[0].contains("idna==3.10"), "{ran:?}");
    }
    assert!(
        !bumped.step(PROJECT_WHEEL)?.executed(),
        "the project's code did not change:\n{}",
        bumped.summary()
    );
    let got = inspect(&engine, &image, &BTreeMap::new(), None)?;
    assert_eq!(got.installed.get("idna").map(String::as_str), Some("3.10"));
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn a_lock_out_of_date_with_pyproject_fails_the_build_naming_the_change() -> TestResult {
    let engine = Engine::new("uv_stale")?;
    let project = engine.project("uv")?;
    project.replace(
        "api/pyproject.toml",
        "\"pydantic-settings>=2.4\",",
        "\"pydantic-settings>=2.4\",\n    \"rich>=13\",",
    )?;
    let report = engine.build(&project).target("api").run()?;
    assert!(!report.success(), "{}", report.summary());
    let text = report.messages();
    assert!(
        text.contains("uv.lock is out of date with pyproject.toml") && text.contains("rich"),
        "{text}"
    );
    Ok(())
}

/// testdata/uv-workspace: a uv workspace (two services and a shared package, one uv.lock). The
/// api service is its `cake-api` member: the image holds that member's closure (`uv export
/// --package cake-api`), the shared package and the member itself, built from their folders,
/// and nothing of the worker's; a change to the worker re-runs none of the api's dependency
/// steps.
#[test]
#[ignore = "needs the real engine: make e2e"]
fn a_workspace_member_gets_its_own_closure_and_the_members_it_needs() -> TestResult {
    let engine = Engine::new("uv_workspace")?;
    let project = engine.project("uv-workspace")?;
    let image = engine.image_name("api");
    let report = engine.build(&project).target("api").tag(&image).run()?;
    report.ensure_success()?;
    report.step("[api member 1/1] pip wheel cake-common")?;
    report.step("[api project 1/1] pip wheel cake-api")?;
    let expected = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/uv-workspace.expected.txt"),
    )?;
    let members = BTreeMap::from([
        ("cake-api".to_owned(), "0.1.0".to_owned()),
        ("cake-common".to_owned(), "0.1.0".to_owned()),
    ]);
    assert_image_holds_exactly(
        &engine,
        BASE,
        &image,
        &members,
        Some(&format!("lines:{expected}")),
    )?;
    let got = inspect(&engine, &image, &BTreeMap::new(), None)?;
    for other in ["redis", "cake-worker"] {
        assert!(
            !got.installed.contains_key(other),
            "{other} is in the image"
        );
    }
    let menu = serve(&engine, &image, "/menu")?;
    assert!(menu.contains("black forest"), "{menu}");

    // The worker changes: nothing the api installs is built or installed again.
    project.append(
        "services/worker/src/cake_worker/__init__.py",
        &format!("\n# {}\n", marker("uv-worker")),
    )?;
    let again = build(&engine, &project, &image)?;
    for prefix in [WHEELS, INSTALLS, "[api member", "[api project"] {
        let ran = executed_names(&again, prefix);
        assert!(ran.is_empty(), "{prefix} ran on a worker change: {ran:?}");
    }
    Ok(())
}

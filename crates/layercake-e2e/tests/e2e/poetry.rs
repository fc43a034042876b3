//! A Poetry 2 project (issue 18), on the real engine: testdata/poetry/api is FastAPI with
//! `[project]` dependencies, a dev group and poetry-core as its build system, locked by Poetry
//! 2.1.3. poetry.lock is the closure; testdata/poetry/api.expected.txt is `poetry export` of
//! the main group: the image must hold exactly those packages and the project.

use std::collections::BTreeMap;

use crate::common::python_image::*;
use crate::common::*;
use layercake_e2e::{Engine, http_get};

const BASE: &str = "python:3.14-slim";

#[test]
#[ignore = "needs the real engine: make e2e"]
fn a_poetry_project_installs_its_lock_and_itself_and_a_stale_lock_is_refused() -> TestResult {
    let engine = Engine::new("poetry_project")?;
    let project = engine.project("poetry")?;
    let image = engine.image_name("api");
    let report = engine.build(&project).target("api").tag(&image).run()?;
    report.ensure_success()?;
    assert!(
        report.steps_with_prefix("[api lock").is_empty(),
        "{}",
        report.summary()
    );
    assert!(numbered_steps(&report, "[api wheels")?.len() > 1);
    let expected = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/poetry/api.expected.txt"),
    )?;
    let own = BTreeMap::from([("cake-orders".to_owned(), "1.4.0".to_owned())]);
    assert_image_holds_exactly(
        &engine,
        BASE,
        &image,
        &own,
        Some(&format!("lines:{expected}")),
    )?;
    let installed = inspect(&engine, &image, &BTreeMap::new(), None)?;
    assert!(
        !installed.installed.contains_key("pytest"),
        "the dev group is in the image"
    );

    let container = engine.run(&image, &["-p", "127.0.0.1::8000"], &[])?;
    engine.wait_healthy(&container, HEALTHY_WITHIN)?;
    assert_eq!(engine.exec(&container, &["id", "-u"])?, "10001");
    let queue = http_get(container.host_port(8000)?, "/queue")?;
    assert!(queue.body.contains("black forest"), "{queue:?}");
    drop(container);

    // A dependency added to pyproject.toml without `poetry lock`: a clear error, no build.
    project.replace(
        "api/pyproject.toml",
        "\"uvicorn[standard] (>=0.30)\",",
        "\"uvicorn[standard] (>=0.30)\",\n    \"rich (>=13)\",",
    )?;
    let stale = engine.build(&project).target("api").run()?;
    assert!(!stale.success(), "{}", stale.summary());
    let text = stale.messages();
    assert!(
        text.contains("poetry.lock is out of date with pyproject.toml") && text.contains("rich"),
        "{text}"
    );
    Ok(())
}

/// testdata/poetry1: a Poetry 1.x project (`[tool.poetry.dependencies]`, lock from Poetry
/// 1.8.5) whose spec gives no Python version: Poetry's `python = "^3.11"` says 3.11.
#[test]
#[ignore = "needs the real engine: make e2e"]
fn a_poetry_1_project_runs_the_python_its_constraint_names_with_exactly_its_lock() -> TestResult {
    let engine = Engine::new("poetry1_project")?;
    let project = engine.project("poetry1")?;
    let image = engine.image_name("web");
    let report = engine.build(&project).target("web").tag(&image).run()?;
    report.ensure_success()?;
    report.step("[web] FROM python:3.11-slim")?;
    let expected = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/poetry1/web.expected.txt"),
    )?;
    let own = BTreeMap::from([("cake-web".to_owned(), "0.9.2".to_owned())]);
    assert_image_holds_exactly(
        &engine,
        "python:3.11-slim",
        &image,
        &own,
        Some(&format!("lines:{expected}")),
    )?;
    let container = engine.run(&image, &["-p", "127.0.0.1::8000"], &[])?;
    engine.wait_healthy(&container, HEALTHY_WITHIN)?;
    let page = http_get(container.host_port(8000)?, "/")?;
    assert!(page.body.contains("<h1>Cakes</h1>"), "{page:?}");
    Ok(())
}

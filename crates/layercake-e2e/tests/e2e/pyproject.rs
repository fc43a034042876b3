//! A PEP 621 project without a lock (issue 18), on the real engine: testdata/pep621/site lists
//! its dependencies as ranges in pyproject.toml (an extra named by the spec) and is a
//! setuptools package. The lock stage resolves them; the image holds exactly that closure and
//! the project; a code change rebuilds the project's wheel and nothing of its dependencies.

use std::collections::BTreeMap;

use crate::common::python_image::*;
use crate::common::*;
use layercake_e2e::{Engine, http_get};

const BASE: &str = "python:3.14-slim";

#[test]
#[ignore = "needs the real engine: make e2e"]
fn a_pyproject_without_a_lock_is_resolved_once_and_its_code_change_reinstalls_nothing() -> TestResult
{
    let engine = Engine::new("pep621_site")?;
    let project = engine.project("pep621")?;
    let image = engine.image_name("site");
    let report = engine.build(&project).target("site").tag(&image).run()?;
    report.ensure_success()?;
    report.step("[site lock 1/1]")?;
    let mut closure = planned_closure(&report, "site");
    for package in ["flask", "werkzeug", "jinja2", "gunicorn", "markdown"] {
        assert!(closure.contains_key(package), "{package}: {closure:?}");
    }
    assert!(
        !closure.contains_key("pytest"),
        "the test group: {closure:?}"
    );
    closure.insert("cake-site".into(), "2.1.0".into());
    assert_image_holds_exactly(&engine, BASE, &image, &closure, None)?;

    let container = engine.run(&image, &["-p", "127.0.0.1::8000"], &[])?;
    engine.wait_healthy(&container, HEALTHY_WITHIN)?;
    assert_eq!(engine.exec(&container, &["id", "-u"])?, "10001");
    let page = http_get(container.host_port(8000)?, "/")?;
    assert!(page.body.contains("<h1>Cakes</h1>"), "{page:?}");
    drop(container);

    // A code change: the same dependencies (the lock is CACHED), only the project's wheel and
    // the code layer are built again.
    let marker = marker("pep621-code");
    project.append(
        "site/shop/__init__.py",
        &format!("\n\n@app.get(\"/e2e\")\ndef e2e() -> str:\n    return \"{marker}\"\n"),
    )?;
    let again = engine.build(&project).target("site").tag(&image).run()?;
    again.ensure_success()?;
    assert!(
        !again.step("[site lock 1/1]")?.executed(),
        "{}",
        again.summary()
    );
    for prefix in ["[site wheels", "[site install"] {
        let ran: Vec<_> = again
            .steps_with_prefix(prefix)
            .into_iter()
            .filter(|step| step.is_numbered() && step.executed())
            .map(|step| step.name().to_owned())
            .collect();
        assert!(ran.is_empty(), "{prefix} ran on a code change: {ran:?}");
    }
    assert!(again.step("[site project 1/1]")?.executed());
    let container = engine.run(&image, &["-p", "127.0.0.1::8000"], &[])?;
    engine.wait_healthy(&container, HEALTHY_WITHIN)?;
    let answer = http_get(container.host_port(8000)?, "/e2e")?;
    assert!(answer.body.contains(&marker), "{answer:?}");
    let installed = inspect(&engine, &image, &BTreeMap::new(), None)?;
    assert_eq!(
        installed.installed.get("cake-site").map(String::as_str),
        Some("2.1.0")
    );
    Ok(())
}

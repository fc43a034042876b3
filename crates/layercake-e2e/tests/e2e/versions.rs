//! Today's versions, not only the example's 3.11 and 18 (issue 16): a FastAPI service on Python
//! 3.14 with top-level pins and compiled dependencies (cp314 wheels), and a Vite 8 app whose
//! dependencies carry native bindings, built on Node 24. testdata/versions holds the project.

use std::collections::BTreeMap;

use crate::common::python_image::*;
use crate::common::*;
use layercake_e2e::{Engine, http_get};

#[test]
#[ignore = "needs the real engine: make e2e"]
fn a_python_3_14_service_resolves_builds_and_runs_on_3_14() -> TestResult {
    let engine = Engine::new("versions_py314")?;
    let project = engine.project("versions")?;
    let image = engine.image_name("api");
    let report = engine.build(&project).target("api").tag(&image).run()?;
    report.ensure_success()?;
    // Three top-level pins: the lock stage resolved them for 3.14 …
    let closure = planned_closure(&report, "api");
    for package in ["fastapi", "uvicorn", "orjson", "pydantic-core", "starlette"] {
        assert!(closure.contains_key(package), "{package}: {closure:?}");
    }
    // … and the image runs the interpreter the spec asked for, with exactly that closure
    // installed (compiled packages among it) and every package importing.
    let version = engine.run_once(
        &image,
        &["--entrypoint", ""],
        &[
            "python3",
            "-c",
            "import sys; print('%d.%d' % sys.version_info[:2])",
        ],
    )?;
    assert_eq!(version.trim(), "3.14");
    assert_image_holds_exactly(&engine, "python:3.14-slim", &image, &closure, None)?;
    let abi = engine.run_once(
        &image,
        &["--entrypoint", ""],
        &[
            "python3",
            "-c",
            "import sys, orjson, pydantic_core\n\
             print(' '.join(sorted(m.__name__ for m in list(sys.modules.values())\n\
                 if getattr(m, '__file__', '') and 'cpython-314-x86_64' in m.__file__)))",
        ],
    )?;
    // Both compiled packages loaded their cp314 extension modules.
    let native: Vec<&str> = abi.split_whitespace().collect();
    for package in ["orjson", "pydantic_core"] {
        assert!(
            native.iter().any(|m| m.split('.').next() == Some(package)),
            "no cp314 extension of {package} loaded: {abi}"
        );
    }

    let container = engine.run(&image, &["-p", "127.0.0.1::8000"], &[])?;
    engine.wait_healthy(&container, HEALTHY_WITHIN)?;
    assert_eq!(engine.exec(&container, &["id", "-u"])?, "10001");
    let health = http_get(container.host_port(8000)?, "/health")?;
    assert_eq!(health.status, 200, "{health:?}");
    let body: serde_json::Value = serde_json::from_str(&health.body)?;
    assert_eq!(body["status"], "ok", "{body}");
    let python = body["python"].as_str().unwrap_or_default();
    assert!(python.starts_with("3.14."), "{body}");
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn a_node_24_app_with_native_bindings_builds_and_is_served() -> TestResult {
    let engine = Engine::new("versions_node24")?;
    let project = engine.project("versions")?;
    let image = engine.image_name("web");
    let report = engine.build(&project).target("web").tag(&image).run()?;
    report.ensure_success()?;
    // The recipe's stages (run now or cached from an earlier run: the image is what is checked).
    report.step(WEB_NPM_CI)?;
    report.step(WEB_BUILD)?;

    let container = engine.run(&image, &["-p", "127.0.0.1::8080"], &[])?;
    engine.wait_healthy(&container, HEALTHY_WITHIN)?;
    let port = container.host_port(8080)?;
    // The project's postbuild script records the Node that ran the build.
    let info = http_get(port, "/build-info.json")?;
    assert_eq!(info.status, 200, "{info:?}");
    let info: BTreeMap<String, String> = serde_json::from_str(&info.body)?;
    let node = info.get("node").map(String::as_str).unwrap_or_default();
    assert!(node.starts_with("v24."), "{info:?}");
    // Vite 8 bundles with rolldown, whose native binding npm ci picked for linux-x64: the page
    // and the script it names are served.
    let index = http_get(port, "/")?;
    assert_eq!(index.status, 200, "{index:?}");
    let script = index
        .body
        .split('"')
        .find(|part| part.starts_with("/assets/") && part.ends_with(".js"))
        .ok_or_else(|| format!("no /assets/*.js in the page: {}", index.body))?
        .to_owned();
    let bundle = http_get(port, &script)?;
    assert_eq!(bundle.status, 200, "{script}: {bundle:?}");
    assert!(bundle.body.contains("Built with Node 24"), "{script}");
    Ok(())
}

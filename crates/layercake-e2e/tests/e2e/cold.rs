//! Cold builds of the example services: they build, become healthy, run as uid 10001 and answer.

use crate::common::*;
use layercake_e2e::{Engine, frontend_override, http_get};

#[test]
#[ignore = "needs the real engine: make e2e"]
fn cold_api_builds_runs_as_non_root_and_answers_health() -> TestResult {
    let engine = Engine::new("cold_api")?;
    let project = engine.project("example")?;
    let image = engine.image_name("api");
    engine.prune()?;

    let report = engine.build(&project).target("api").tag(&image).run()?;
    report.ensure_success()?;
    // Cold: nothing to reuse, so pip really ran in every dependency step.
    let dependency_steps = [API_WHEELS, API_INSTALL, API_RESOLVE]
        .into_iter()
        .map(|prefix| numbered_steps(&report, prefix))
        .collect::<Result<Vec<_>, _>>()?;
    for step in dependency_steps.into_iter().flatten() {
        assert!(
            step.executed(),
            "{} printed nothing:\n{}",
            step.name(),
            report.summary()
        );
    }

    assert_eq!(engine.image_user(&image)?, "10001:10001");
    let container = engine.run(&image, &["-p", "127.0.0.1::8000"], &[])?;
    engine.wait_healthy(&container, HEALTHY_WITHIN)?;
    assert_eq!(engine.exec(&container, &["id", "-u"])?, "10001");

    let health = http_get(container.host_port(8000)?, "/api/health")?;
    assert_eq!(health.status, 200, "{health:?}");
    let body: serde_json::Value = serde_json::from_str(&health.body)?;
    assert_eq!(body, serde_json::json!({"status": "ok"}));
    let items = http_get(container.host_port(8000)?, "/api/items")?;
    assert_eq!(items.status, 200, "{items:?}");
    assert!(items.body.contains("sponge"), "{items:?}");
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn cold_web_builds_runs_as_non_root_and_serves_the_spa() -> TestResult {
    let engine = Engine::new("cold_web")?;
    let project = engine.project("example")?;
    let image = engine.image_name("web");
    engine.prune()?;

    let report = engine.build(&project).target("web").tag(&image).run()?;
    report.ensure_success()?;
    assert!(report.step(WEB_NPM_CI)?.executed(), "{}", report.summary());
    assert!(report.step(WEB_BUILD)?.executed(), "{}", report.summary());

    assert_eq!(engine.image_user(&image)?, "10001:10001");
    // The health probe is the frontend image's one layer, merged as it is (the same diff, so the
    // same blob), just below the built files.
    let frontend = frontend_override().unwrap_or_else(|| "layercake:dev".to_owned());
    let probe = engine.image_layers(&frontend)?;
    let web = engine.image_layers(&image)?;
    assert_eq!(probe.len(), 1, "the frontend image {frontend}: {probe:?}");
    assert_eq!(
        web.iter().rev().nth(1),
        probe.first(),
        "the web image's layers {web:?}"
    );
    let container = engine.run(&image, &["-p", "127.0.0.1::8080"], &[])?;
    engine.wait_healthy(&container, HEALTHY_WITHIN)?;
    assert_eq!(engine.exec(&container, &["id", "-u"])?, "10001");

    let port = container.host_port(8080)?;
    let index = http_get(port, "/")?;
    assert_eq!(index.status, 200, "{index:?}");
    assert!(
        index.body.to_ascii_lowercase().contains("<!doctype html"),
        "{index:?}"
    );
    assert!(
        index
            .header("content-type")
            .is_some_and(|t| t.contains("text/html")),
        "{index:?}"
    );
    // A client-side route the server knows nothing about falls back to index.html.
    let deep = http_get(port, "/cakes/42/reviews")?;
    assert_eq!(deep.status, 200, "{deep:?}");
    assert_eq!(deep.body, index.body);
    // A real static asset is served as itself, not as the fallback.
    let asset = http_get(port, "/cake.svg")?;
    assert_eq!(asset.status, 200, "{asset:?}");
    assert!(asset.body.contains("<svg"), "{asset:?}");
    Ok(())
}

//! The good specs in testdata/specs/ok parse, with the values and defaults the schema promises.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use layercake_spec::*;

fn specs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/specs")
}

fn parse_ok(name: &str) -> Spec {
    let path = specs_dir().join("ok").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    match parse("layercake.yaml", &text) {
        Ok(spec) => spec,
        Err(errors) => panic!("{name} should parse:\n{errors}"),
    }
}

#[test]
fn every_ok_spec_parses_and_matches_its_snapshot() {
    let mut names: Vec<String> = std::fs::read_dir(specs_dir().join("ok"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert!(names.len() >= 3, "{names:?}");
    for name in names {
        let spec = parse_ok(&name);
        let stem = name.trim_end_matches(".yaml").to_owned();
        insta::with_settings!({ input_file => specs_dir().join("ok").join(&name), omit_expression => true }, {
            insta::assert_debug_snapshot!(format!("ok__{stem}"), spec);
        });
    }
}

#[test]
fn minimal_python_gets_the_schema_defaults() {
    let spec = parse_ok("python-minimal.yaml");
    assert_eq!(spec.syntax.as_deref(), Some("layercake:dev"));
    assert_eq!(spec.default_service().unwrap().name.value, "api");
    let api = spec.service("api").unwrap();
    let python = api.python().unwrap();
    assert_eq!(python.image.as_ref().unwrap().value, "python:3.12-slim");
    assert_eq!(
        python.builder_image.as_ref().unwrap().value,
        "python:3.12-slim"
    );
    // No `requirements:`: the project kind is read from the service folder when building.
    assert_eq!(
        python.project,
        layercake_spec::PythonProject::Detect(layercake_spec::ProjectOptions::default())
    );
    assert_eq!(api.path.value, ".");
    assert_eq!(api.workdir.as_ref().unwrap().value, DEFAULT_WORKDIR);
    assert_eq!(api.port.as_ref().unwrap().value, 8000);
    assert_eq!(api.port.as_ref().unwrap().location, Location::new(7, 11));
    assert_eq!(
        api.user,
        User::NonRoot {
            name: Spanned::new("app".into(), Location::new(3, 3)),
            uid: 10001,
            gid: 10001
        }
    );
    assert_eq!(
        api.command.as_ref().unwrap().argv(),
        [
            "uvicorn",
            "app.main:app",
            "--host",
            "0.0.0.0",
            "--port",
            "8000"
        ]
    );
    assert!(api.healthcheck.is_none());
}

#[test]
fn minimal_node_gets_the_schema_defaults() {
    let spec = parse_ok("node-minimal.yaml");
    let web = spec.service("web").unwrap();
    let node = web.node().unwrap();
    assert_eq!(node.image.value, "node:22");
    assert_eq!(node.install, NpmInstall::Ci);
    assert!(node.npmrc);
    assert_eq!(node.script.value, "build");
    assert_eq!(node.output.value, "dist");
    let Some(Serve::Nginx(nginx)) = &web.serve else {
        panic!("nginx expected");
    };
    assert_eq!(nginx.image.value, "nginx:stable");
    assert!(nginx.spa);
    assert_eq!(nginx.config, None);
    assert_eq!(web.port.as_ref().unwrap().value, DEFAULT_NGINX_PORT);
    assert_eq!(web.workdir, None);
}

#[test]
fn full_spec_keeps_file_order_and_every_key() {
    let spec = parse_ok("full.yaml");
    assert_eq!(
        spec.service_names().collect::<Vec<_>>(),
        ["api", "web", "assets", "worker"]
    );
    assert_eq!(spec.default_service().unwrap().name.value, "api");
    let api = spec.service("api").unwrap();
    assert_eq!(
        api.context_path("../shared/constraints.txt"),
        "shared/constraints.txt"
    );
    assert_eq!(
        api.context_path(&api.python().unwrap().project.requirement_files()[1]),
        "backend/requirements/prod.txt"
    );
    let health = api.healthcheck.as_ref().unwrap();
    assert_eq!(health.start_period, Duration::from_secs(90));
    assert_eq!(
        health.probe,
        HealthProbe::Http {
            path: Spanned::new("/api/health".into(), Location::new(49, 13)),
            port: 8000
        }
    );
    let web = spec.service("web").unwrap();
    assert_eq!(
        web.healthcheck.as_ref().unwrap().timeout,
        Duration::from_millis(1500)
    );
    assert_eq!(spec.service("worker").unwrap().user, User::Root);
    assert_eq!(
        spec.service("worker")
            .unwrap()
            .command
            .as_ref()
            .unwrap()
            .argv(),
        ["/bin/sh", "-c", "celery -A app.worker worker"]
    );
    assert_eq!(
        spec.service("worker")
            .unwrap()
            .healthcheck
            .as_ref()
            .unwrap()
            .probe,
        HealthProbe::None
    );
}

#[test]
fn resolve_args_expands_every_interpolated_field() {
    let spec = parse_ok("full.yaml");
    let none = BTreeMap::new();
    let resolved = spec.resolve_args(&none).unwrap();
    let api = resolved.service("api").unwrap();
    assert_eq!(
        api.python().unwrap().image.as_ref().unwrap().value,
        "python:3.11-slim"
    );
    assert_eq!(api.env["LOG_LEVEL"].value, "info");
    assert_eq!(api.env["PRICE"].value, "$5");
    assert_eq!(api.labels["org.opencontainers.image.version"].value, "dev");
    let web = resolved.service("web").unwrap();
    assert_eq!(web.node().unwrap().env["VITE_API_URL"].value, "/api");
    // Locations survive expansion.
    assert_eq!(api.env["LOG_LEVEL"].location, Location::new(43, 18));

    let given: BTreeMap<String, String> = [
        ("APP_VERSION", "1.4.2"),
        ("LOG_LEVEL", "debug"),
        ("PY_BASE", "registry.example/python:3.11"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let resolved = spec.resolve_args(&given).unwrap();
    let api = resolved.service("api").unwrap();
    assert_eq!(
        api.python().unwrap().image.as_ref().unwrap().value,
        "registry.example/python:3.11"
    );
    assert_eq!(api.env["LOG_LEVEL"].value, "debug");
    assert_eq!(
        api.labels["org.opencontainers.image.version"].value,
        "1.4.2"
    );
    // The original is untouched.
    assert_eq!(
        spec.service("api").unwrap().env["LOG_LEVEL"].value,
        "${LOG_LEVEL:-info}"
    );
}

#[test]
fn referenced_args_lists_names_and_places() {
    let spec = parse_ok("full.yaml");
    let used = spec.referenced_args();
    assert_eq!(
        used.keys().map(String::as_str).collect::<Vec<_>>(),
        ["API_URL", "APP_VERSION", "LOG_LEVEL", "PY_BASE"]
    );
    assert_eq!(used["PY_BASE"], [Location::new(23, 14)]);
    assert_eq!(used["API_URL"], [Location::new(80, 28)]);
}

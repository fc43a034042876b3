//! `layercake init`: finds the projects, writes a spec that parses, plans and passes `check`,
//! and never overwrites a spec by accident.

use crate::tools_support;

use std::path::Path;

use tools_support::*;

fn init(dir: &Path, extra: &[&str]) -> std::process::Output {
    layercake()
        .arg("init")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn example_without_its_spec_gets_one_that_plans_both_services() {
    let dir = example_copy("init-example");
    std::fs::remove_file(dir.join("layercake.yaml")).unwrap();
    let output = init(&dir, &[]);
    assert!(output.status.success(), "{output:?}");
    assert!(output.stdout.is_empty(), "init prints nothing on stdout");
    let spec_path = dir.join("layercake.yaml");
    let text = std::fs::read_to_string(&spec_path).unwrap();
    assert!(text.starts_with("# syntax=ghcr.io/layercake/layercake:1\n"));

    let spec = layercake_spec::parse("layercake.yaml", &text).unwrap();
    let names: Vec<&str> = spec.service_names().collect();
    assert_eq!(names, ["backend", "frontend"]);
    let backend = spec.service("backend").unwrap();
    assert_eq!(
        backend.python().unwrap().version.as_ref().unwrap().value,
        "3.11"
    );

    let targets = stdout(layercake().arg("targets").arg(&spec_path));
    assert_eq!(targets, "backend\nfrontend\n");
    let backend_plan = stdout(
        layercake()
            .args(["plan", "--target", "backend", "--json"])
            .arg(&spec_path),
    );
    let backend_plan: serde_json::Value = serde_json::from_str(&backend_plan).unwrap();
    assert_eq!(
        backend_plan["image"]["config"]["Cmd"],
        serde_json::json!([
            "uvicorn",
            "app.main:app",
            "--host",
            "0.0.0.0",
            "--port",
            "8000"
        ])
    );
    assert!(backend_plan["image"]["config"]["Healthcheck"].is_object());
    let frontend_plan = stdout(
        layercake()
            .args(["plan", "--target", "frontend", "--json"])
            .arg(&spec_path),
    );
    let frontend_plan: serde_json::Value = serde_json::from_str(&frontend_plan).unwrap();
    assert_eq!(
        frontend_plan["image"]["config"]["ExposedPorts"],
        serde_json::json!({ "8080/tcp": {} })
    );
    let check = stdout(layercake().arg("check").arg(&spec_path));
    assert!(check.contains("no problems found"), "{check}");
}

#[test]
fn refuses_to_overwrite_without_force() {
    let dir = example_copy("init-force");
    let before = std::fs::read_to_string(dir.join("layercake.yaml")).unwrap();
    let output = init(&dir, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.join("layercake.yaml")).unwrap(),
        before
    );
    let output = init(&dir, &["--force", "--syntax", "layercake:dev"]);
    assert!(output.status.success());
    let after = std::fs::read_to_string(dir.join("layercake.yaml")).unwrap();
    assert!(after.starts_with("# syntax=layercake:dev\n"));
    assert_ne!(after, before);
}

fn write(dir: &Path, path: &str, contents: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

fn spec_of(dir: &Path) -> String {
    let output = init(dir, &[]);
    assert!(output.status.success(), "{output:?}");
    std::fs::read_to_string(dir.join("layercake.yaml")).unwrap()
}

#[test]
fn versions_and_commands_come_from_the_project_files() {
    let dir = scratch_dir("init-guesses");
    write(
        &dir,
        "svc/django/requirements.txt",
        "Django==5.0\ngunicorn==22.0\n",
    );
    write(&dir, "svc/django/.python-version", "3.12.1\n");
    write(&dir, "svc/django/shop/wsgi.py", "");
    write(&dir, "flaskapp/requirements.txt", "flask==3.0\n");
    write(
        &dir,
        "flaskapp/pyproject.toml",
        "[project]\nrequires-python = \">=3.10\"\n",
    );
    write(&dir, "flaskapp/app.py", "");
    write(
        &dir,
        "admin/package.json",
        r#"{"name":"admin","engines":{"node":">=20.5"},"dependencies":{"@angular/core":"17.0.0"}}"#,
    );
    write(&dir, "admin/package-lock.json", "{}");
    write(
        &dir,
        "admin/angular.json",
        r#"{"projects":{"admin":{"architect":{"build":{"builder":"@angular-devkit/build-angular:application","options":{"outputPath":"dist/admin"}}}}}}"#,
    );
    write(
        &dir,
        "cra/package.json",
        r#"{"dependencies":{"react-scripts":"5.0.1"}}"#,
    );
    write(&dir, "cra/package-lock.json", "{}");
    write(&dir, "cra/.nvmrc", "v16.20.0\n");
    // Not projects: too deep, dependencies, and a package.json without a lockfile.
    write(&dir, "a/b/c/requirements.txt", "flask\n");
    write(&dir, "cra/node_modules/x/package.json", "{}");
    write(&dir, "cra/node_modules/x/package-lock.json", "{}");
    write(&dir, "nolock/package.json", "{}");

    let text = spec_of(&dir);
    let spec = layercake_spec::parse("layercake.yaml", &text).unwrap();
    let names: Vec<&str> = spec.service_names().collect();
    assert_eq!(names, ["admin", "cra", "flaskapp", "django"], "{text}");
    assert!(text.contains("path: svc/django\n"), "{text}");
    assert_eq!(
        spec.service("django")
            .unwrap()
            .python()
            .unwrap()
            .version
            .as_ref()
            .unwrap()
            .value,
        "3.12.1"
    );
    assert_eq!(
        spec.service("flaskapp")
            .unwrap()
            .python()
            .unwrap()
            .version
            .as_ref()
            .unwrap()
            .value,
        "3.10"
    );
    assert!(
        text.contains(r#"command: [gunicorn, "--bind", "0.0.0.0:8000", shop.wsgi]"#),
        "{text}"
    );
    assert!(
        text.contains(r#"command: [flask, "--app", app, run,"#),
        "{text}"
    );
    assert!(text.contains("version: \"20\""), "{text}");
    assert!(text.contains("output: dist/admin/browser"), "{text}");
    assert!(text.contains("version: \"16\""), "{text}");
    assert!(text.contains("output: build"), "{text}");
}

#[test]
fn defaults_when_nothing_says_otherwise_and_an_empty_folder_is_an_error() {
    let dir = scratch_dir("init-defaults");
    write(&dir, "requirements.txt", "requests==2.31\n");
    write(
        &dir,
        "web/package.json",
        r#"{"devDependencies":{"vite":"5"}}"#,
    );
    write(&dir, "web/package-lock.json", "{}");
    let text = spec_of(&dir);
    let spec = layercake_spec::parse("layercake.yaml", &text).unwrap();
    let python = spec.services.iter().find(|s| s.python().is_some()).unwrap();
    assert_eq!(
        python.python().unwrap().version.as_ref().unwrap().value,
        "3.11"
    );
    assert!(
        python.command.is_none(),
        "no framework, no guessed command:\n{text}"
    );
    assert!(spec.service("web").is_some(), "{text}");
    assert!(text.contains("version: \"18\""));
    assert!(
        !text.contains("output:"),
        "vite builds into the default dist:\n{text}"
    );

    let empty = scratch_dir("init-empty");
    let output = init(&empty, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no project found"));
    assert!(!empty.join("layercake.yaml").exists());
}

#[test]
fn a_uv_project_gets_a_spec_without_requirement_files_that_plans_from_its_lock() {
    let dir = scratch_dir("init-uv").join("shop");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/uv/api");
    copy_tree(&source, &dir.join("api"));
    let text = spec_of(&dir);
    let spec = layercake_spec::parse("layercake.yaml", &text).unwrap();
    let api = spec.service("api").unwrap();
    let python = api.python().unwrap();
    // From .python-version; the project kind left to detection; the framework from
    // pyproject.toml's dependencies.
    assert_eq!(python.version.as_ref().unwrap().value, "3.14");
    assert!(python.project.requirement_files().is_empty(), "{text}");
    assert!(text.contains("uvicorn"), "{text}");
    let check = layercake()
        .arg("check")
        .arg(dir.join("layercake.yaml"))
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
    let plan = stdout(layercake().arg("plan").arg(dir.join("layercake.yaml")));
    assert!(plan.contains("[api wheels 1/"), "{plan}");
    assert!(plan.contains("pip wheel cake-api (the project)"), "{plan}");
}

#[test]
fn poetry_and_lockless_pyproject_projects_get_specs_that_check_and_plan() {
    let dir = scratch_dir("init-pyprojects").join("shop");
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    copy_tree(&testdata.join("poetry/api"), &dir.join("orders"));
    copy_tree(&testdata.join("pep621/site"), &dir.join("site"));
    let text = spec_of(&dir);
    let spec = layercake_spec::parse("layercake.yaml", &text).unwrap();
    assert_eq!(spec.service_names().collect::<Vec<_>>(), ["orders", "site"]);
    for name in ["orders", "site"] {
        let python = spec.service(name).unwrap().python().unwrap();
        assert!(python.project.requirement_files().is_empty(), "{text}");
        // From requires-python's lower bound.
        assert_eq!(python.version.as_ref().unwrap().value, "3.11", "{text}");
    }
    let check = layercake()
        .arg("check")
        .arg(dir.join("layercake.yaml"))
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
    let orders = stdout(
        layercake()
            .args(["plan", "--target", "orders"])
            .arg(dir.join("layercake.yaml")),
    );
    assert!(orders.contains("poetry.lock"), "{orders}");
    assert!(
        orders.contains("pip wheel cake-orders (the project)"),
        "{orders}"
    );
}

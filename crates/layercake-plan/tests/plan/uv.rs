//! uv and Poetry projects planned from their real files: uv.lock is the closure (no lock stage), the dev
//! group stays out unless named, a package is built from its folder, a workspace member from
//! its own, and a lock out of date with pyproject.toml is refused.

use layercake_plan::{
    Base, FileSource, Mount, PlanError, PlanOptions, Platform, Stage, Step, plan,
};

use crate::common::{fixtures, read_context_files, services_from_text, workspace};

/// Every argument of every run step of the plan's wheel stages.
fn wheel_lines(stages: &[Stage]) -> String {
    stages
        .iter()
        .filter(|stage| stage.id.name().starts_with("wheels-"))
        .flat_map(|stage| &stage.steps)
        .filter_map(|step| match step {
            Step::Run(run) => Some(run.args.join(" ")),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The context folder the project's wheel is built from, and what its copy leaves out; the
/// wheel step mounts exactly that stage.
fn project_source(stages: &[Stage]) -> Option<(String, Vec<String>)> {
    let source = stages.iter().find(|s| s.id.name() == "project-source")?;
    let wheel = stages.iter().find(|s| s.id.name() == "project")?;
    let mounted = wheel.steps.iter().any(|step| match step {
        Step::Run(run) => run.mounts.iter().any(|mount| {
            matches!(mount, Mount::ReadOnly { source: FileSource::Stage { stage, .. }, .. }
                if stage == &source.id)
        }),
        _ => false,
    });
    assert!(mounted, "the wheel step does not mount {}", source.id);
    source.steps.iter().find_map(|step| match step {
        Step::Copy(copy) => match &copy.from {
            FileSource::Context { path } => Some((path.clone(), copy.exclude.clone())),
            _ => None,
        },
        _ => None,
    })
}

const SPEC: &str =
    "services:\n  api:\n    path: uv/api\n    python: { version: \"3.14\" GROUPS }\n";

fn uv_plan(groups: &str) -> Result<layercake_plan::Plan, PlanError> {
    let text = SPEC.replace("GROUPS", groups);
    let services = services_from_text("layercake.yaml", &text);
    let files = read_context_files(&services, "api", &workspace().join("testdata"));
    plan(
        &services,
        "api",
        &files,
        &PlanOptions::new(Platform::linux_amd64()),
    )
}

#[test]
fn a_uv_project_is_built_from_its_lock_without_the_dev_group_unless_named() {
    let plan = uv_plan("").expect("plan");
    assert!(
        plan.stages.iter().all(|s| s.id.name() != "lock"),
        "uv.lock is the closure: no lock stage"
    );
    let lines = wheel_lines(&plan.stages);
    for package in ["fastapi==", "uvicorn==", "pydantic-settings==", "idna=="] {
        assert!(lines.contains(package), "{package} not built:\n{lines}");
    }
    // Hashes checked, and a platform-only package under its marker.
    assert!(lines.contains("--hash=sha256:"), "{lines}");
    assert!(lines.contains("uvloop==0.23.0 ; "), "{lines}");
    for dev in ["pytest==", "httpx==", "redis=="] {
        assert!(
            !lines.contains(dev),
            "{dev} built without being asked for:\n{lines}"
        );
    }
    // The project is a package: built from its folder (but its lock, so a lock bump does not
    // rebuild it), installed as a layer of its own.
    let (folder, excluded) = project_source(&plan.stages).expect("a project source");
    assert_eq!(folder, "uv/api");
    assert!(excluded.contains(&"uv.lock".to_owned()), "{excluded:?}");
    assert!(plan.stages.iter().any(|s| s.id.name() == "project-install"));

    let with_dev = uv_plan(", groups: [dev], extras: [cache]").expect("plan");
    let lines = wheel_lines(&with_dev.stages);
    for package in ["pytest==", "httpx==", "redis=="] {
        assert!(lines.contains(package), "{package} not built:\n{lines}");
    }
    let unknown = uv_plan(", groups: [docs]").err().map(|e| e.to_string());
    assert!(
        unknown
            .as_deref()
            .is_some_and(|m| m.contains("docs") && m.contains("dev")),
        "{unknown:?}"
    );
}

#[test]
fn a_workspace_member_is_checked_against_and_built_from_its_own_folder() {
    let text =
        "services:\n  api:\n    path: uv/ws\n    python: { version: \"3.14\", package: api }\n";
    let services = services_from_text("layercake.yaml", text);
    let files = read_context_files(&services, "api", &fixtures());
    assert!(
        files.contains_key("uv/ws/api/pyproject.toml"),
        "{:?}",
        files.keys()
    );
    let plan = plan(
        &services,
        "api",
        &files,
        &PlanOptions::new(Platform::linux_amd64()),
    )
    .expect("plan");
    assert!(wheel_lines(&plan.stages).contains("idna=="));
    assert_eq!(
        project_source(&plan.stages)
            .map(|(folder, _)| folder)
            .as_deref(),
        Some("uv/ws/api")
    );
    assert!(matches!(
        plan.stages
            .iter()
            .find(|s| s.id.name() == "project")
            .map(|s| &s.base),
        Some(Base::Image(_))
    ));
}

#[test]
fn a_lock_out_of_date_with_pyproject_is_refused_naming_the_change() {
    let services = services_from_text("layercake.yaml", &SPEC.replace("GROUPS", ""));
    let mut files = read_context_files(&services, "api", &workspace().join("testdata"));
    let pyproject = files
        .get_mut("uv/api/pyproject.toml")
        .expect("pyproject.toml read");
    *pyproject = pyproject.replace(
        "\"fastapi>=0.115\",",
        "\"fastapi>=0.115\",\n    \"rich>=13\",",
    );
    let error = plan(
        &services,
        "api",
        &files,
        &PlanOptions::new(Platform::linux_amd64()),
    )
    .err();
    assert!(
        matches!(&error, Some(PlanError::LockStale { reason, .. }) if reason.contains("rich>=13")),
        "{error:?}"
    );
}

#[test]
fn a_poetry_project_is_built_from_its_lock_and_a_stale_one_is_refused() {
    let text = "services:\n  api:\n    path: poetry/api\n    python: { version: \"3.14\" }\n";
    let services = services_from_text("layercake.yaml", text);
    let mut files = read_context_files(&services, "api", &workspace().join("testdata"));
    let options = PlanOptions::new(Platform::linux_amd64());
    let planned = plan(&services, "api", &files, &options).expect("plan");
    assert!(planned.stages.iter().all(|s| s.id.name() != "lock"));
    let lines = wheel_lines(&planned.stages);
    assert!(
        lines.contains("fastapi==") && lines.contains("uvloop==0.23.0 ; "),
        "{lines}"
    );
    assert!(!lines.contains("pytest=="), "the dev group: {lines}");
    let (folder, excluded) = project_source(&planned.stages).expect("a project source");
    assert_eq!(folder, "poetry/api");
    assert!(excluded.contains(&"poetry.lock".to_owned()), "{excluded:?}");

    let pyproject = files
        .get_mut("poetry/api/pyproject.toml")
        .expect("pyproject.toml read");
    *pyproject = pyproject.replace(
        "\"uvicorn[standard] (>=0.30)\",",
        "\"uvicorn[standard] (>=0.30)\",\n    \"rich (>=13)\",",
    );
    let error = plan(&services, "api", &files, &options).err();
    assert!(
        matches!(&error, Some(PlanError::LockStale { lock: "poetry.lock", reason, .. }) if reason.contains("rich")),
        "{error:?}"
    );
}

/// Without `python.version`, the project's Python: `.python-version` (testdata/uv), else
/// `requires-python`'s lower bound (testdata/pep621); neither is a clear error.
#[test]
fn without_a_spec_version_the_project_says_which_python() {
    let image_of = |path: &str, target_files: &std::path::Path| {
        let text = format!("services:\n  api:\n    path: {path}\n    python: {{}}\n");
        let services = services_from_text("layercake.yaml", &text);
        let files = read_context_files(&services, "api", target_files);
        plan(
            &services,
            "api",
            &files,
            &PlanOptions::new(Platform::linux_amd64()),
        )
        .map(|plan| {
            plan.base_images()
                .into_iter()
                .map(|(image, _)| image)
                .collect::<Vec<_>>()
        })
    };
    let testdata = workspace().join("testdata");
    assert_eq!(
        image_of("uv/api", &testdata).expect("plan"),
        ["python:3.14-slim"]
    );
    assert_eq!(
        image_of("pep621/site", &testdata).expect("plan"),
        ["python:3.11-slim"]
    );
    // A requirements.txt and nothing that names a Python.
    let none = image_of("example/backend", &testdata);
    assert!(
        matches!(none, Err(PlanError::NoPythonVersion { .. })),
        "{none:?}"
    );
}

//! `layercake ci github`: the checked-in example workflow is exactly what the command prints,
//! and the workflow has the jobs and cache wiring the CI guide promises.

use crate::tools_support;

use serde_json::Value;
use tools_support::*;

fn example_workflow() -> String {
    stdout(
        layercake()
            .current_dir(example_dir())
            .args(["ci", "github", "layercake.yaml"]),
    )
}

#[test]
fn docs_example_is_the_generated_workflow() {
    let checked_in =
        std::fs::read_to_string(repo_root().join("docs/ci/github-actions.yml")).unwrap();
    assert_eq!(
        checked_in,
        example_workflow(),
        "regenerate: (cd testdata/example && layercake ci github layercake.yaml) > docs/ci/github-actions.yml"
    );
}

#[test]
fn workflow_builds_with_bake_tests_in_parallel_and_deploys_on_dispatch() {
    let text = example_workflow();
    let workflow: Value = serde_saphyr::from_str(&text).unwrap();
    assert!(
        workflow["on"]["workflow_dispatch"].is_null()
            && workflow["on"].get("workflow_dispatch").is_some()
    );
    assert!(
        workflow["on"]["push"].get("paths").is_none(),
        "no paths: filters"
    );
    let jobs = workflow["jobs"].as_object().unwrap();
    assert_eq!(
        jobs.keys().map(String::as_str).collect::<Vec<_>>(),
        ["build", "deploy", "test"]
    );
    let build_steps: Vec<String> = jobs["build"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let all = build_steps.join("\n");
    for needle in [
        "actions/checkout@v4",
        "docker/setup-buildx-action@v3",
        "docker/login-action@v3",
        "layercake bake",
        "--registry",
        "docker buildx bake -f docker-bake.json",
    ] {
        assert!(all.contains(needle), "build job lacks {needle}");
    }
    assert_eq!(
        jobs["test"]["strategy"]["matrix"]["service"],
        serde_json::json!(["api", "web"])
    );
    assert_eq!(jobs["test"]["needs"], "build");
    assert_eq!(
        jobs["deploy"]["if"],
        "github.event_name == 'workflow_dispatch'"
    );
    assert_eq!(
        jobs["deploy"]["needs"],
        serde_json::json!(["build", "test"])
    );
    assert_eq!(workflow["env"]["APP"], "example");
}

#[test]
fn registry_flag_logs_in_to_that_host() {
    let text = stdout(layercake().current_dir(example_dir()).args([
        "ci",
        "github",
        "layercake.yaml",
        "--registry",
        "registry.example:5000/team",
        "--app",
        "shop",
    ]));
    let workflow: Value = serde_saphyr::from_str(&text).unwrap();
    let login = workflow["jobs"]["build"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["uses"] == "docker/login-action@v3")
        .unwrap();
    assert_eq!(login["with"]["registry"], "registry.example:5000");
    assert!(text.contains("REGISTRY=registry.example:5000/team"));
    assert_eq!(workflow["env"]["APP"], "shop");
}

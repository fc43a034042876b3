//! `layercake frontend` as BuildKit runs it, for everything but a successful build: missing
//! LLB caps, `--call` subrequests, spec errors with their source range, and the
//! ResolveImageConfig path of an engine without the source-meta resolver.

use crate::support;

use base64::Engine as _;
use buildkit_frontend::caps;
use support::{
    all_llb_caps, build_solves, example_fake, example_spec, fake_with_spec, metadata,
    metadata_json, result, returned_error, run,
};

#[test]
fn missing_llb_cap_fails_naming_it() {
    let mut fake = example_fake();
    fake.llb_caps
        .retain(|(id, _)| id != buildkit_llb::caps::EXEC_MOUNT_CACHE);
    assert_eq!(fake.llb_caps.len(), all_llb_caps().len() - 1);
    run(&fake, &["target=api"]);

    let error = returned_error(&fake);
    assert!(
        error.message.contains("exec.mount.cache"),
        "the error names the missing cap: {}",
        error.message
    );
    assert!(build_solves(&fake).is_empty(), "nothing was built");
}

#[test]
fn targets_lists_the_services() {
    let fake = example_fake();
    run(&fake, &["requestid=frontend.targets"]);
    let result = result(&fake);
    let json = metadata_json(&result, "result.json");
    let names: Vec<&str> = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "web"]);
    assert_eq!(json["targets"][0]["default"], true, "`default: api`");
    assert!(metadata(&result, "result.txt").contains("web"));
    assert!(build_solves(&fake).is_empty());
}

#[test]
fn outline_of_the_target() {
    let fake = example_fake();
    run(&fake, &["requestid=frontend.outline", "target=api"]);
    let json = metadata_json(&result(&fake), "result.json");
    assert_eq!(json["name"], "api");
    let caches: Vec<&str> = json["cache"]
        .as_array()
        .unwrap_or_else(|| panic!("a cache list: {json}"))
        .iter()
        .map(|c| c["ID"].as_str().or(c["id"].as_str()).unwrap())
        .collect();
    assert!(
        caches.iter().any(|id| id.contains("pip")),
        "the pip cache mount: {caches:?}"
    );
}

#[test]
fn lint_reports_status_and_warnings() {
    let fake = example_fake();
    run(&fake, &["requestid=frontend.lint"]);
    let first = result(&fake);
    let status = metadata(&first, "result.statuscode");
    let json = metadata_json(&first, "result.json");
    let warnings = json["warnings"].as_array().expect("a warnings list");
    assert_eq!(
        status,
        if warnings.is_empty() { "0" } else { "1" },
        "status follows the warnings: {json}"
    );
    assert_eq!(json["sources"][0]["filename"], "layercake.yaml");

    // A spec error is a lint answer too, with status 1 and the error's line.
    let broken = example_spec().replace("    port: 8000\n", "    port: 8000\n    prot: 8000\n");
    let line = broken.lines().position(|l| l.contains("prot:")).unwrap() + 1;
    let fake = fake_with_spec("layercake.yaml", &broken);
    run(&fake, &["requestid=frontend.lint"]);
    let answer = result(&fake);
    assert_eq!(metadata(&answer, "result.statuscode"), "1");
    let json = metadata_json(&answer, "result.json");
    assert_eq!(
        json["buildError"]["location"]["ranges"][0]["start"]["line"],
        line
    );
}

#[test]
fn describe_lists_the_subrequests() {
    let fake = example_fake();
    run(&fake, &["requestid=frontend.subrequests.describe"]);
    let json = metadata_json(&result(&fake), "result.json");
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    for name in [
        "frontend.outline",
        "frontend.targets",
        "frontend.lint",
        "frontend.subrequests.describe",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
}

#[test]
fn unknown_subrequest_is_an_error() {
    let fake = example_fake();
    run(&fake, &["requestid=frontend.nonsense"]);
    let error = returned_error(&fake);
    assert!(
        error.message.contains("frontend.nonsense"),
        "{}",
        error.message
    );
}

#[test]
fn spec_error_points_at_its_line() {
    // An unknown key, in a spec with a custom name (the `filename` option).
    let broken = example_spec().replace(
        "    path: backend\n",
        "    path: backend\n    colour: blue\n",
    );
    let line = broken.lines().position(|l| l.contains("colour:")).unwrap() + 1;
    let fake = fake_with_spec("app.layercake.yaml", &broken);
    run(&fake, &["filename=app.layercake.yaml", "target=api"]);

    let error = returned_error(&fake);
    assert!(
        error
            .message
            .contains(&format!("app.layercake.yaml:{line}")),
        "the message names file and line {line}: {}",
        error.message
    );
    assert!(error.message.contains("colour"), "{}", error.message);
    let source = error
        .details
        .iter()
        .find(|d| d.type_url == "github.com/moby/buildkit/errdefs.Source+json")
        .unwrap_or_else(|| panic!("a source detail: {:?}", error.details));
    let detail: serde_json::Value = serde_json::from_slice(&source.value).unwrap();
    assert_eq!(detail["info"]["filename"], "app.layercake.yaml");
    let data = base64::engine::general_purpose::STANDARD
        .decode(detail["info"]["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(data, broken.as_bytes(), "the snippet source is the spec");
    assert_eq!(detail["ranges"][0]["start"]["line"], line);
    assert!(build_solves(&fake).is_empty());
}

#[test]
fn images_resolve_through_image_config_without_the_meta_resolver() {
    let fake = example_fake().with_gateway_caps([caps::FRONTEND_INPUTS]);
    run(&fake, &["target=api", "platform=linux/arm64"]);
    let _ = result(&fake);
    let recorded = fake.recorded();
    assert!(recorded.meta.is_empty());
    assert!(!recorded.image_configs.is_empty());
    for request in &recorded.image_configs {
        assert_eq!(request.platform.as_ref().unwrap().architecture, "arm64");
        assert!(request.r#ref.starts_with("docker.io/"), "{}", request.r#ref);
    }
}

#[test]
fn build_args_reach_the_image() {
    let spec = example_spec()
        .replace("default: api\n", "default: api\nargs:\n  RELEASE: dev\n")
        .replace(
            "    path: backend\n",
            "    path: backend\n    labels:\n      release: \"${RELEASE}\"\n",
        );
    let fake = fake_with_spec("layercake.yaml", &spec);
    run(&fake, &["target=api", "build-arg:RELEASE=2.4.1"]);
    let image = metadata_json(&result(&fake), "containerimage.config");
    assert_eq!(image["config"]["Labels"]["release"], "2.4.1");

    let fake = fake_with_spec("layercake.yaml", &spec);
    run(&fake, &["target=api"]);
    let image = metadata_json(&result(&fake), "containerimage.config");
    assert_eq!(image["config"]["Labels"]["release"], "dev", "the default");
}

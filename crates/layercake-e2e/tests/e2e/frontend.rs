//! The frontend's own behaviour through buildx: selecting it with BUILDKIT_SYNTAX, the
//! `--call` subrequests (targets, outline, check) and spec errors with their place.

use crate::common::*;
use layercake_e2e::{BuildReport, Engine, Project, buildx_has_call};

/// `--call check` found problems: the frontend's verdict (`result.statuscode` 1) and, with a
/// buildx that has `--call` (0.14+), the exit status made from it. This rig's buildx 0.13 only
/// has `--print lint`, which prints the answer and exits 0 whatever the verdict.
fn assert_check_found_problems(report: &BuildReport, said: &str) {
    assert_eq!(
        report.call_status(),
        Some(1),
        "check's result.statuscode is not 1 although it reported a problem:\n{said}\nmetadata: {:?}",
        report.metadata()
    );
    if buildx_has_call() {
        assert!(
            !report.success(),
            "check exited 0 although it found a problem:\n{said}"
        );
    } else {
        eprintln!("e2e: buildx has no --call: its exit status cannot carry check's verdict");
    }
}

/// The example spec with a build arg and a secret on `api`, for the outline.
fn with_arg_and_secret(project: &Project) -> TestResult {
    project.replace(
        "layercake.yaml",
        "default: api\n",
        "default: api\nargs:\n  APP_VERSION: dev\n",
    )?;
    project.replace(
        "layercake.yaml",
        "    port: 8000\n",
        "    port: 8000\n    env:\n      APP_VERSION: \"${APP_VERSION}\"\n    secrets:\n      - id: pip_token\n        env: PIP_TOKEN\n",
    )?;
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn buildkit_syntax_build_arg_selects_layercake_without_a_syntax_line() -> TestResult {
    let engine = Engine::new("buildkit_syntax")?;
    let project = engine.project("example")?;
    let spec = project.read("layercake.yaml")?;
    let (first, rest) = spec.split_once('\n').ok_or("empty spec")?;
    assert_eq!(first, "# syntax=layercake:dev");
    project.write("plain.yaml", rest)?;
    let image = engine.image_name("api");

    let report = engine
        .build(&project)
        .spec("plain.yaml")
        .target("api")
        .tag(&image)
        .build_arg("BUILDKIT_SYNTAX", "layercake:dev")
        .run()?;
    report.ensure_success()?;
    numbered_steps(&report, API_WHEELS)?;
    report.step(API_CODE)?;
    assert_eq!(engine.image_user(&image)?, "10001:10001");

    // Control: without the build arg the engine's own Dockerfile frontend gets the YAML and fails.
    let without = engine
        .build(&project)
        .spec("plain.yaml")
        .target("api")
        .run()?;
    assert!(
        !without.success(),
        "a spec without `# syntax=` built without BUILDKIT_SYNTAX:\n{}",
        without.summary()
    );
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn call_targets_lists_services_with_descriptions() -> TestResult {
    let engine = Engine::new("call_targets")?;
    let project = engine.project("example")?;
    let report = engine.build(&project).call("targets").run()?;
    report.ensure_success()?;
    let out = report.stdout();
    let line = |name: &str| {
        out.lines()
            .find(|line| line.split_whitespace().next() == Some(name))
    };
    let api = line("api").ok_or_else(|| format!("no api line in:\n{out}"))?;
    assert!(
        api.contains("FastAPI backend (health probe and a small item catalogue)"),
        "{out}"
    );
    let web = line("web").ok_or_else(|| format!("no web line in:\n{out}"))?;
    assert!(
        web.contains("Vite single-page app served by nginx"),
        "{out}"
    );
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn call_outline_shows_build_args_secrets_and_cache_ids() -> TestResult {
    let engine = Engine::new("call_outline")?;
    let project = engine.project("example")?;
    with_arg_and_secret(&project)?;

    let text = engine.build(&project).target("api").call("outline").run()?;
    text.ensure_success()?;
    let out = text.stdout();
    assert!(out.contains("TARGET:") && out.contains("api"), "{out}");
    let arg = out
        .lines()
        .find(|line| line.starts_with("APP_VERSION"))
        .ok_or_else(|| format!("no build arg APP_VERSION in:\n{out}"))?;
    assert_eq!(arg.split_whitespace().nth(1), Some("dev"), "{out}");
    let secret = out
        .lines()
        .find(|line| line.starts_with("pip_token"))
        .ok_or_else(|| format!("no secret pip_token in:\n{out}"))?;
    assert_eq!(
        secret.split_whitespace().nth(1),
        Some("true"),
        "required: {out}"
    );

    // The text form has no cache section; the JSON form carries the cache mount ids.
    let json = engine
        .build(&project)
        .target("api")
        .call("outline,format=json")
        .run()?;
    json.ensure_success()?;
    let start = json
        .stdout()
        .find('{')
        .ok_or_else(|| format!("no JSON in:\n{}", json.stdout()))?;
    let outline: serde_json::Value = serde_json::from_str(&json.stdout()[start..])?;
    let cache_ids: Vec<&str> = outline["cache"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["ID"].as_str().or_else(|| entry["id"].as_str()))
        .collect();
    assert!(
        cache_ids.iter().any(|id| id.contains("pip")),
        "no pip cache id in {outline}"
    );
    assert_eq!(outline["args"][0]["name"], "APP_VERSION", "{outline}");
    assert_eq!(outline["secrets"][0]["name"], "pip_token", "{outline}");
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn call_check_succeeds_on_the_clean_example() -> TestResult {
    let engine = Engine::new("call_check_clean")?;
    let project = engine.project("example")?;
    let report = engine.build(&project).call("check").run()?;
    assert!(
        report.success(),
        "check failed on the clean example:\n{}",
        report.everything()
    );
    let said = format!("{}{}", report.stdout(), report.messages());
    assert!(!said.contains("WARNING"), "{said}");
    assert_eq!(
        report.call_status(),
        Some(0),
        "metadata: {:?}",
        report.metadata()
    );
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn call_check_reports_a_package_pinned_twice_and_fails() -> TestResult {
    // An unpinned name is fine now (the lock stage resolves it); two pins of one package that
    // can both apply are what the build could not do.
    let engine = Engine::new("call_check_conflict")?;
    let project = engine.project("example")?;
    project.append("backend/requirements.txt", "requests\nIDNA==3.7\n")?;
    let report = engine.build(&project).call("check").run()?;
    let said = format!("{}{}", report.stdout(), report.messages());
    assert!(
        said.contains("ConflictingPins") && said.contains("idna") && !said.contains("requests"),
        "the problem is not reported (or an unpinned name is):\n{said}"
    );
    assert_check_found_problems(&report, &said);
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn call_check_reports_package_json_out_of_step_with_the_lockfile_and_fails() -> TestResult {
    let engine = Engine::new("call_check_lockfile")?;
    let project = engine.project("example")?;
    project.replace(
        "frontend/package.json",
        "\"vite\": \"5.4.21\"",
        "\"is-number\": \"7.0.0\",\n    \"vite\": \"5.4.21\"",
    )?;
    let report = engine.build(&project).call("check").run()?;
    let said = format!("{}{}", report.stdout(), report.messages());
    assert!(
        said.contains("is-number") || said.contains("package-lock.json"),
        "the problem is not reported:\n{said}"
    );
    assert_check_found_problems(&report, &said);
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn a_typo_in_the_spec_fails_the_build_naming_file_and_line() -> TestResult {
    let engine = Engine::new("spec_typo")?;
    let project = engine.project("example")?;
    project.replace("layercake.yaml", "    port: 8000\n", "    prot: 8000\n")?;
    let line = project
        .read("layercake.yaml")?
        .lines()
        .position(|line| line == "    prot: 8000")
        .ok_or("the typo is not in the spec")?
        + 1;

    let report = engine.build(&project).target("api").run()?;
    assert!(
        !report.success(),
        "a spec with a typo built:\n{}",
        report.summary()
    );
    let said = report.messages();
    assert!(
        said.contains(&format!("layercake.yaml:{line}")),
        "no `layercake.yaml:{line}` in:\n{said}"
    );
    assert!(said.contains("prot"), "the typo is not named:\n{said}");
    Ok(())
}

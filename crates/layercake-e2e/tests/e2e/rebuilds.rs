//! Rebuilds after an edit: code changes never re-run a dependency step, dependency changes do.

use crate::common::*;
use layercake_e2e::{BuildReport, Engine, Project};

fn build(
    engine: &Engine,
    project: &Project,
    target: &str,
    image: &str,
) -> Result<BuildReport, Box<dyn std::error::Error>> {
    let report = engine.build(project).target(target).tag(image).run()?;
    report.ensure_success()?;
    Ok(report)
}

fn add_api_route(project: &Project, marker: &str) -> TestResult {
    project.append(
        "backend/app/main.py",
        &format!(
            "\n\n@app.get(\"/api/e2e\")\ndef e2e() -> dict[str, str]:\n    return {{\"marker\": \"{marker}\"}}\n"
        ),
    )?;
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn api_code_change_reuses_wheels_and_install() -> TestResult {
    let engine = Engine::new("api_code_change")?;
    let project = engine.project("example")?;
    let image = engine.image_name("api");
    build(&engine, &project, "api", &image)?;

    let marker = marker("api-code");
    add_api_route(&project, &marker)?;
    let report = build(&engine, &project, "api", &image)?;
    for dependency in [API_WHEELS, API_INSTALL, API_RESOLVE] {
        for step in numbered_steps(&report, dependency)? {
            assert!(
                step.cached() && !step.executed(),
                "{} re-ran:\n{}",
                step.name(),
                report.summary()
            );
        }
    }
    let code = report.step(API_CODE)?;
    assert!(
        code.ran() && !code.cached(),
        "the code copy did not run:\n{}",
        report.summary()
    );
    let main_py = engine.run_once(&image, &[], &["cat", "/app/app/main.py"])?;
    assert!(
        main_py.contains(&marker),
        "the new code is not in the image:\n{main_py}"
    );
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn web_code_change_reuses_npm_ci() -> TestResult {
    let engine = Engine::new("web_code_change")?;
    let project = engine.project("example")?;
    let image = engine.image_name("web");
    build(&engine, &project, "web", &image)?;

    let marker = marker("web-code");
    project.append(
        "frontend/src/main.js",
        &format!("\nconsole.log('{marker}');\n"),
    )?;
    let report = build(&engine, &project, "web", &image)?;
    let npm_ci = report.step(WEB_NPM_CI)?;
    assert!(
        npm_ci.cached() && !npm_ci.executed(),
        "npm ci re-ran:\n{}",
        report.summary()
    );
    let npm_build = report.step(WEB_BUILD)?;
    assert!(
        npm_build.executed() && !npm_build.cached(),
        "npm run build did not run:\n{}",
        report.summary()
    );
    assert!(report.step(WEB_HTML_COPY)?.ran(), "{}", report.summary());
    let bundle = engine.run_once(
        &image,
        &[],
        &["sh", "-c", "cat /usr/share/nginx/html/assets/*.js"],
    )?;
    assert!(
        bundle.contains(&marker),
        "the new code is not in the served bundle"
    );

    // Nothing changed: every numbered step is CACHED and runs nothing. `npm run build` mounts
    // the sources keyed by their definition (contentCache off), which must still hit.
    let again = build(&engine, &project, "web", &image)?;
    let numbered: Vec<_> = again.steps().filter(|s| s.is_numbered()).collect();
    assert!(
        numbered.len() >= 4,
        "too few steps to judge:\n{}",
        again.summary()
    );
    for step in numbered {
        assert!(
            step.cached() && !step.ran(),
            "{} ran in a no-op rebuild:\n{}",
            step.name(),
            again.summary()
        );
    }
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn api_requirements_change_rebuilds_wheels() -> TestResult {
    let engine = Engine::new("api_requirements_change")?;
    let project = engine.project("example")?;
    let image = engine.image_name("api");
    build(&engine, &project, "api", &image)?;

    project.append("backend/requirements.txt", "six==1.16.0\n")?;
    let report = build(&engine, &project, "api", &image)?;
    // The wheel step (or the group) that holds the new pin ran and built it.
    let ran: Vec<_> = numbered_steps(&report, API_WHEELS)?
        .into_iter()
        .filter(|step| step.executed() && !step.cached())
        .collect();
    assert!(
        ran.iter().any(|step| step.log_text().contains("six")),
        "no wheel step re-ran for six:\n{}",
        report.summary()
    );
    // Only the install layer of that group is made again, and `resolve` checks the new set.
    let installed: Vec<_> = numbered_steps(&report, API_INSTALL)?
        .into_iter()
        .filter(|step| step.executed() && !step.cached())
        .collect();
    assert!(
        installed.len() == 1 && installed[0].name().contains("six==1.16.0"),
        "expected exactly the install of the group holding six to re-run:\n{}",
        report.summary()
    );
    let resolve = report.step(API_RESOLVE)?;
    assert!(
        resolve.executed() && !resolve.cached(),
        "the wheel set was not resolved again:\n{}",
        report.summary()
    );
    let version = engine.run_once(
        &image,
        &[],
        &["python3", "-c", "import six; print(six.__version__)"],
    )?;
    assert_eq!(version, "1.16.0");
    Ok(())
}

#[test]
#[ignore = "needs the real engine: make e2e"]
fn web_lockfile_change_reruns_npm_ci() -> TestResult {
    let engine = Engine::new("web_lockfile_change")?;
    let project = engine.project("example")?;
    let image = engine.image_name("web");
    let first = build(&engine, &project, "web", &image)?;
    let added_before = first.step(WEB_NPM_CI)?.log_text();

    // package.json and package-lock.json change together, as `npm install` leaves them.
    let npm = std::process::Command::new("npm")
        .args([
            "install",
            "--package-lock-only",
            "--omit-lockfile-registry-resolved=false",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--save-dev",
            "--save-exact",
            "is-number@7.0.0",
        ])
        .current_dir(project.file("frontend"))
        .output()?;
    assert!(
        npm.status.success(),
        "host npm failed: {}",
        String::from_utf8_lossy(&npm.stderr)
    );
    assert!(
        project
            .read("frontend/package-lock.json")?
            .contains("is-number-7.0.0.tgz")
    );

    let report = build(&engine, &project, "web", &image)?;
    let npm_ci = report.step(WEB_NPM_CI)?;
    assert!(
        npm_ci.executed() && !npm_ci.cached(),
        "npm ci did not re-run:\n{}",
        report.summary()
    );
    assert_ne!(
        npm_ci.log_text(),
        added_before,
        "npm ci printed the same as before the change"
    );
    assert!(report.step(WEB_BUILD)?.executed(), "{}", report.summary());
    Ok(())
}

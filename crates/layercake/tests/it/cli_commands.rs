//! The `layercake` command line, run as a child process: exit codes, what goes to stdout and
//! stderr, and the offline commands on the testdata projects.

// Test helpers outside #[test] fns may fail loudly too.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn layercake(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_layercake"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run layercake: {e}"))
}

fn testdata(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh folder for one test's project.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    dir
}

fn write(dir: &Path, rel: &str, contents: &str) {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

#[test]
fn plan_prints_the_stages() {
    let out = layercake(&[
        "plan",
        &testdata("example/layercake.yaml"),
        "--target",
        "api",
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("service api for linux/amd64\n"),
        "{stdout}"
    );
    for stage in [
        "stage api/wheels-1",
        "stage api/install-2",
        "stage api/resolve",
        "stage api/code",
        "stage api/runtime",
        "pip install --dry-run",
    ] {
        assert!(stdout.contains(stage), "missing `{stage}`:\n{stdout}");
    }
    let out = layercake(&[
        "plan",
        &testdata("example/layercake.yaml"),
        "--target",
        "web",
    ]);
    assert_eq!(code(&out), 0);
    let stdout = text(&out.stdout);
    for stage in [
        "stage web/manifests",
        "stage web/deps",
        "stage web/sources",
        "stage web/build",
        "stage web/serve",
    ] {
        assert!(stdout.contains(stage), "missing `{stage}`:\n{stdout}");
    }
}

#[test]
fn plan_json_is_the_plan() {
    let out = layercake(&[
        "plan",
        &testdata("realistic/layercake.yaml"),
        "--target",
        "web",
        "--json",
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let plan: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan["service"], "web");
    assert_eq!(plan["output"]["stage"], "image");
    // The default target (`default: api`) when --target is left out.
    let out = layercake(&["plan", &testdata("realistic/layercake.yaml"), "--json"]);
    assert_eq!(code(&out), 0);
    let plan: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan["service"], "api");
}

#[test]
fn llb_writes_a_definition_and_nothing_on_stderr() {
    for target in ["api", "web"] {
        let out = layercake(&[
            "llb",
            &testdata("example/layercake.yaml"),
            "--target",
            target,
        ]);
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
        assert!(out.stderr.is_empty(), "{target}: {}", text(&out.stderr));
        let definition = buildkit_llb::Definition::decode(&out.stdout)
            .unwrap_or_else(|e| panic!("{target}: stdout is not a Definition: {e}"));
        assert!(definition.ops().len() > 3, "{target}");
        assert!(definition.head().is_some());
        // The JSON dump is the same graph.
        let json = layercake(&[
            "llb",
            &testdata("example/layercake.yaml"),
            "--target",
            target,
            "--json",
        ]);
        assert_eq!(code(&json), 0);
        assert!(json.stderr.is_empty());
        assert_eq!(
            text(&json.stdout).trim_end(),
            definition.to_json_string(),
            "{target}"
        );
    }
}

#[test]
fn llb_bytes_are_identical_across_runs() {
    for (spec, target) in [
        ("example/layercake.yaml", "api"),
        ("example/layercake.yaml", "web"),
        ("realistic/layercake.yaml", "api"),
        ("realistic/layercake.yaml", "web"),
    ] {
        let first = layercake(&["llb", &testdata(spec), "--target", target]);
        assert_eq!(code(&first), 0);
        assert!(!first.stdout.is_empty());
        for _ in 0..4 {
            let again = layercake(&["llb", &testdata(spec), "--target", target]);
            assert!(again.stdout == first.stdout, "{spec} {target} differs");
        }
    }
}

#[test]
fn targets_lists_services_and_the_default() {
    let out = layercake(&["targets", &testdata("example/layercake.yaml")]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with("api (default)"), "{stdout}");
    assert!(
        lines[1].starts_with("web ") && !lines[1].contains("(default)"),
        "{stdout}"
    );
}

#[test]
fn invalid_spec_exits_1_naming_file_line_and_column() {
    let dir = scratch("invalid");
    write(
        &dir,
        "layercake.yaml",
        "# syntax=layercake:dev\nservices:\n  api:\n    python:\n      version: \"3.11\"\n    prot: 8000\n",
    );
    let spec = dir.join("layercake.yaml");
    let spec = spec.to_string_lossy();
    for command in ["plan", "llb", "targets", "check"] {
        let out = layercake(&[command, &spec]);
        assert_eq!(code(&out), 1, "{command}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "{command}: {}", text(&out.stdout));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("layercake.yaml:6:5"),
            "{command}: no file:line:col in\n{stderr}"
        );
        assert!(stderr.contains("prot"), "{command}: {stderr}");
    }
    // Every spec of the bad corpus fails the same way, with a position.
    let bad = Path::new(&testdata("specs/bad")).to_path_buf();
    let mut checked = 0;
    for entry in std::fs::read_dir(&bad).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let out = layercake(&["targets", &path.to_string_lossy()]);
        assert_eq!(code(&out), 1, "{}", path.display());
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        assert!(
            text(&out.stderr).contains(&name.unwrap_or_default()),
            "{}: {}",
            path.display(),
            text(&out.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} bad specs");
}

#[test]
fn plan_errors_exit_1() {
    let spec = testdata("example/layercake.yaml");
    let out = layercake(&["plan", &spec, "--target", "nope"]);
    assert_eq!(code(&out), 1);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("unknown target `nope`"), "{stderr}");
    assert!(stderr.contains("api, web"), "{stderr}");
    // A requirements file that is not there.
    let dir = scratch("missing-reqs");
    write(
        &dir,
        "layercake.yaml",
        "# syntax=layercake:dev\nservices:\n  api:\n    python:\n      version: \"3.11\"\n",
    );
    let out = layercake(&["llb", &dir.join("layercake.yaml").to_string_lossy()]);
    assert_eq!(code(&out), 1);
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("requirements.txt"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["nonsense"][..],
        &["plan"][..],
        &["plan", "x.yaml", "--no-such-flag"][..],
        &["probe"][..],
    ] {
        let out = layercake(args);
        assert_eq!(code(&out), 2, "{args:?}: {}", text(&out.stderr));
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

/// `layercake check` on a one-service python project: `python_keys` are extra lines of the
/// `python:` mapping (indented six spaces), `requirements` the requirements.txt.
fn check_python_project(name: &str, python_keys: &str, requirements: &str) -> Output {
    let dir = scratch(name);
    write(
        &dir,
        "layercake.yaml",
        &format!(
            "# syntax=layercake:dev\nservices:\n  api:\n    python:\n      version: \"3.11\"\n\
             {python_keys}    port: 8000\n    healthcheck: {{ http: /health }}\n"
        ),
    );
    write(&dir, "requirements.txt", requirements);
    layercake(&["check", &dir.join("layercake.yaml").to_string_lossy()])
}

#[test]
fn check_passes_a_clean_project() {
    let out = check_python_project("check-clean", "", "fastapi==0.115.12\nuvicorn==0.34.2\n");
    assert_eq!(code(&out), 0, "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("no problems found"));
}

#[test]
fn check_accepts_top_level_pins_and_ranges() {
    // The most common requirements.txt: what the project imports, pinned or not. The lock stage
    // resolves the rest, so there is nothing to warn about.
    let out = check_python_project(
        "check-top-level",
        "",
        "fastapi==0.115.12\nuvicorn[standard]>=0.30\nhttpx\n",
    );
    assert_eq!(code(&out), 0, "{}{}", text(&out.stdout), text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("no problems found"), "{stdout}");
}

#[test]
fn check_names_a_file_that_is_not_a_requirements_file() {
    let dir = scratch("check-pyproject");
    write(
        &dir,
        "layercake.yaml",
        "# syntax=layercake:dev\nservices:\n  api:\n    python:\n      version: \"3.11\"\n      \
         requirements: pyproject.toml\n    port: 8000\n    healthcheck: { http: /health }\n",
    );
    write(
        &dir,
        "pyproject.toml",
        "[project]\nname = \"app\"\ndependencies = [\"fastapi>=0.100\"]\n",
    );
    let out = layercake(&["check", &dir.join("layercake.yaml").to_string_lossy()]);
    assert_eq!(code(&out), 1, "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("NotARequirementsFile"), "{stdout}");
    assert!(stdout.contains("pyproject.toml"), "{stdout}");
    assert!(!stdout.contains("not pinned"), "{stdout}");
}

#[test]
fn check_fails_on_two_pins_of_one_package_naming_both_lines() {
    let dir = scratch("check-conflict");
    write(
        &dir,
        "layercake.yaml",
        "# syntax=layercake:dev\nservices:\n  api:\n    python:\n      version: \"3.11\"\n      \
         requirements: [requirements.txt, extra.txt]\n    port: 8000\n    healthcheck: { http: /health }\n",
    );
    write(&dir, "requirements.txt", "fastapi==0.115.12\nidna==3.10\n");
    write(&dir, "extra.txt", "# more\nIDNA==3.7\n");
    let out = layercake(&["check", &dir.join("layercake.yaml").to_string_lossy()]);
    assert_eq!(code(&out), 1, "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("ConflictingPins"), "{stdout}");
    assert!(stdout.contains("requirements.txt:2"), "{stdout}");
    assert!(stdout.contains("extra.txt:2"), "{stdout}");
}

#[test]
fn check_positions_a_line_pip_would_refuse() {
    let out = check_python_project("check-bad-line", "", "fastapi==0.115.12\nuvicorn>=>0.30\n");
    assert_eq!(code(&out), 1, "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("InvalidRequirement"), "{stdout}");
    assert!(stdout.contains("requirements.txt:2:"), "{stdout}");
}

#[test]
fn check_exits_0_on_warnings_and_1_with_strict() {
    let out = check_python_project(
        "check-strict",
        "      pip_flags: [--no-binary=markupsafe,pyyaml]\n",
        "markupsafe==3.0.2\npyyaml==6.0.2\n",
    );
    // A warning: reported, exit 0 (the build works).
    assert_eq!(code(&out), 0, "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("Warning PipFlagNotAnOption"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-check-strict");
    let strict = layercake(&[
        "check",
        "--strict",
        &dir.join("layercake.yaml").to_string_lossy(),
    ]);
    assert_eq!(code(&strict), 1, "{}", text(&strict.stdout));
    assert!(text(&strict.stdout).contains("PipFlagNotAnOption"));
}

#[test]
fn check_warns_on_a_pip_flag_split_by_a_flow_list_comma() {
    let out = check_python_project(
        "check-pip-flags",
        "      pip_flags: [--no-binary=markupsafe,pyyaml]\n",
        "markupsafe==3.0.2\npyyaml==6.0.2\n",
    );
    assert_eq!(code(&out), 0, "a warning: {}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("PipFlagNotAnOption"), "{stdout}");
    assert!(stdout.contains("`pyyaml`"), "{stdout}");
}

#[test]
fn check_fails_on_lockfile_drift() {
    let dir = scratch("check-drift");
    write(
        &dir,
        "layercake.yaml",
        "# syntax=layercake:dev\nservices:\n  web:\n    path: web\n    node:\n      version: \"18\"\n",
    );
    write(
        &dir,
        "web/package.json",
        r#"{"name":"w","devDependencies":{"vite":"^5.4.21","left-pad":"^1.3.0"}}"#,
    );
    write(
        &dir,
        "web/package-lock.json",
        r#"{"lockfileVersion":3,"packages":{"":{"devDependencies":{"vite":"^5.4.21"}}}}"#,
    );
    let spec = dir.join("layercake.yaml");
    let out = layercake(&["check", &spec.to_string_lossy()]);
    assert_eq!(code(&out), 1, "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("LockfileOutOfSync"), "{stdout}");
    assert!(stdout.contains("left-pad"), "{stdout}");
    // In sync again: clean.
    write(
        &dir,
        "web/package-lock.json",
        r#"{"lockfileVersion":3,"packages":{"":{"devDependencies":{"vite":"^5.4.21","left-pad":"^1.3.0"}}}}"#,
    );
    let out = layercake(&["check", &spec.to_string_lossy()]);
    assert_eq!(code(&out), 0, "{}", text(&out.stdout));
}

#[test]
fn check_on_the_testdata_projects() {
    for project in ["example", "realistic"] {
        let out = layercake(&["check", &testdata(&format!("{project}/layercake.yaml"))]);
        assert_eq!(code(&out), 0, "{project}: {}", text(&out.stdout));
    }
}

/// Answers one HTTP request with `answer`; returns the port.
fn serve_once(answer: &'static str) -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let handle = std::thread::spawn(move || {
        let Ok((mut conn, _)) = listener.accept() else {
            return String::new();
        };
        let mut buf = [0u8; 1024];
        let n = conn.read(&mut buf).unwrap_or(0);
        let _ = conn.write_all(answer.as_bytes());
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    (port, handle)
}

#[test]
fn probe_exits_0_on_200() {
    let (port, server) = serve_once("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let out = layercake(&["probe", &format!("http://127.0.0.1:{port}/api/health")]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let request = server.join().unwrap_or_default();
    assert!(request.starts_with("GET /api/health HTTP/1."), "{request}");
}

#[test]
fn probe_exits_1_on_503() {
    let (port, server) = serve_once("HTTP/1.1 503 Service Unavailable\r\n\r\n");
    let out = layercake(&["probe", &format!("http://127.0.0.1:{port}/")]);
    assert_eq!(code(&out), 1);
    assert!(text(&out.stderr).contains("503"), "{}", text(&out.stderr));
    let _ = server.join();
}

#[test]
fn probe_exits_1_when_nothing_listens() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    drop(listener);
    let out = layercake(&[
        "probe",
        "--timeout",
        "2",
        &format!("http://127.0.0.1:{port}/"),
    ]);
    assert_eq!(code(&out), 1);
    assert!(!out.stderr.is_empty());
}

//! Faults on the real engine (`cargo test -p layercake --test hostile_engine -- --ignored`):
//! unreachable and empty cache sources, a client killed mid-build, failing `pip wheel` and
//! `npm ci`, and a requirements file that is a symlink out of the context.
//!
//! Needs `make rig frontend-image` (the main engine, the local registry on 127.0.0.1:5000 and
//! the stand-in base images). `LAYERCAKE_FRONTEND` (default `layercake:dev`) is the frontend
//! image, named in each spec's `# syntax=` line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn frontend() -> String {
    std::env::var("LAYERCAKE_FRONTEND").unwrap_or_else(|_| "layercake:dev".to_owned())
}

/// A fresh project folder holding `files` (path, contents), the spec first.
fn project(name: &str, spec: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("hostile-engine-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let spec = format!("# syntax={}\n{spec}", frontend());
    std::fs::write(dir.join("layercake.yaml"), spec).unwrap();
    for (path, contents) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    dir
}

fn buildx(dir: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new("docker");
    command
        .args(["buildx", "build", "--progress=plain", "-f"])
        .arg(dir.join("layercake.yaml"))
        .args(extra)
        .arg(dir);
    command
}

fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

const API_SPEC: &str = "services:\n  api:\n    python: { version: \"3.11\" }\n    \
                        command: [python, -m, http.server]\n";

#[test]
#[ignore = "needs the real engine"]
fn unreachable_and_empty_cache_sources_do_not_fail_the_build() {
    let dir = project("cache-from", API_SPEC, &[("requirements.txt", "")]);
    let out = buildx(
        &dir,
        &[
            "--cache-from",
            "type=registry,ref=127.0.0.1:5999/nothing",
            "--cache-from",
            "type=registry,ref=127.0.0.1:5000/layercake-hostile/never-pushed:cache",
            "--build-arg",
            "HOSTILE=cache-from",
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
}

/// Processes whose command line or environment contains `marker`: our frontend (build args
/// reach its options) and our build step, never another build on the shared engine.
fn processes_with(marker: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        let mut seen = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        seen.extend(std::fs::read(entry.path().join("environ")).unwrap_or_default());
        if String::from_utf8_lossy(&seen)
            .replace('\0', " ")
            .contains(marker)
        {
            pids.push(pid);
        }
    }
    pids
}

#[test]
#[ignore = "needs the real engine"]
fn a_killed_client_ends_the_build_and_the_engine_keeps_working() {
    use std::io::{BufRead, BufReader};
    // A step that sleeps for a duration no other build uses, to find it in /proc.
    let seconds = format!("{}.{}", 300 + std::process::id() % 500, std::process::id());
    let marker = format!("sleep {seconds}");
    let spec = format!(
        "services:\n  api:\n    python:\n      version: \"3.11\"\n      \
         build_steps: [\"{marker}\"]\n    command: [python, -m, http.server]\n"
    );
    let dir = project("kill", &spec, &[("requirements.txt", "")]);
    let mut child = buildx(
        &dir,
        &[
            "--no-cache",
            "--build-arg",
            &format!("HOSTILE_KILL={seconds}"),
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // Drain the progress in a thread (the step prints nothing while it sleeps) and wait
    // until the sleeping step shows up as a process.
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
            .join("\n")
    });
    let started = Instant::now();
    while processes_with(&marker).is_empty() {
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            panic!("the step never ran: {}", reader.join().unwrap());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = reader.join();
    let killed = Instant::now();
    while !processes_with(&marker).is_empty()
        || !processes_with(&format!("HOSTILE_KILL={seconds}")).is_empty()
    {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "build still running 30 s after the client died: {:?}",
            processes_with(&marker)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The engine still builds.
    let again = project("kill-after", API_SPEC, &[("requirements.txt", "")]);
    let out = buildx(&again, &[]).output().unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
}

#[test]
#[ignore = "needs the real engine"]
fn a_failing_pip_wheel_names_the_step_and_shows_pips_error() {
    // A top-level pin that does not exist fails in the lock stage (uv's resolution); the same
    // pin in a compiled lock (no lock stage) fails in its wheel step (pip). Either way the step
    // is named and the tool's own error is shown.
    for (name, requirements, step, error) in [
        (
            "pip-fails-lock",
            "requests==0.0.0.424242\n",
            "uv pip compile",
            "there is no version of requests==0.0.0.424242",
        ),
        (
            "pip-fails-wheel",
            "# This file is autogenerated by pip-compile with Python 3.11\nrequests==0.0.0.424242\n",
            "pip wheel",
            "No matching distribution found for requests==0.0.0.424242",
        ),
    ] {
        let dir = project(name, API_SPEC, &[("requirements.txt", requirements)]);
        let out = buildx(&dir, &["--no-cache"]).output().unwrap();
        let text = output_text(&out);
        assert!(!out.status.success(), "{text}");
        assert!(text.contains(step), "{name}: no step name `{step}`: {text}");
        assert!(text.contains(error), "{name}: no `{error}`: {text}");
    }
}

#[test]
#[ignore = "needs the real engine"]
fn a_failing_npm_ci_names_the_step_and_shows_npms_error() {
    let spec = "services:\n  web:\n    node: { version: \"18\" }\n    serve: { nginx: {} }\n";
    let package = r#"{ "name": "x", "version": "1.0.0", "scripts": { "build": "mkdir -p dist" },
  "dependencies": { "left-pad": "1.3.0" } }"#;
    // A lockfile from before the dependency was added: out of sync with package.json.
    let lock = r#"{ "name": "x", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": { "": { "name": "x", "version": "1.0.0" } } }"#;
    let dir = project(
        "npm-fails",
        spec,
        &[("package.json", package), ("package-lock.json", lock)],
    );
    let out = buildx(&dir, &["--no-cache"]).output().unwrap();
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("npm ci"), "no step name: {text}");
    assert!(text.contains("in sync"), "no npm error: {text}");
}

#[test]
#[ignore = "needs the real engine"]
fn a_requirements_symlink_out_of_the_context_does_not_leak_the_host_file() {
    let dir = project("symlink", API_SPEC, &[]);
    std::os::unix::fs::symlink("/etc/passwd", dir.join("requirements.txt")).unwrap();
    let out = buildx(&dir, &["--no-cache"]).output().unwrap();
    let text = output_text(&out);
    // BuildKit transfers the link as a link; inside the context snapshot /etc/passwd does not
    // exist, so the frontend cannot read it. The host file must never show up.
    assert!(!text.contains("root:x:0:0"), "{text}");
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("requirements.txt"), "{text}");
}

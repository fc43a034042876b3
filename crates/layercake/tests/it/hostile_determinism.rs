//! Determinism across processes: `layercake llb` and `layercake plan --json` run as child
//! processes give byte-identical output for every testdata spec and target. Each process gets
//! its own random HashMap seeds, so many processes stand in for many machines. The image
//! config changes only where the user asked (build args feeding labels).

use std::path::{Path, PathBuf};
use std::process::Command;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn run(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_layercake"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// (spec, build context): the two projects, and every spec in testdata/specs/ok against the
/// planner tests' context fixture (which holds the requirement files they name).
fn specs() -> Vec<(String, String)> {
    let path = |p: PathBuf| p.to_string_lossy().into_owned();
    let mut out = vec![
        (
            path(testdata().join("example/layercake.yaml")),
            path(testdata().join("example")),
        ),
        (
            path(testdata().join("realistic/layercake.yaml")),
            path(testdata().join("realistic")),
        ),
    ];
    let ok_context =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../layercake-plan/tests/fixtures/ok-context");
    let mut ok: Vec<PathBuf> = std::fs::read_dir(testdata().join("specs/ok"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    ok.sort();
    out.extend(
        ok.into_iter()
            .map(|spec| (path(spec), path(ok_context.clone()))),
    );
    out
}

fn targets(spec: &str) -> Vec<String> {
    String::from_utf8(run(&["targets", spec]))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

const RUNS: usize = 100;

#[test]
fn llb_bytes_are_identical_across_a_hundred_processes() {
    let mut checked = 0;
    for (spec, context) in specs() {
        for target in targets(&spec) {
            for platform in ["linux/amd64", "linux/386"] {
                let args = [
                    "llb",
                    &spec,
                    "--target",
                    &target,
                    "--platform",
                    platform,
                    "--context",
                    &context,
                ];
                let first = run(&args);
                assert!(!first.is_empty());
                for _ in 1..RUNS {
                    assert!(
                        run(&args) == first,
                        "{spec} {target} {platform}: LLB differs"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 14, "{checked}");
}

#[test]
fn plan_json_and_image_config_are_identical_across_processes() {
    for (spec, context) in specs() {
        for target in targets(&spec) {
            let args = [
                "plan",
                &spec,
                "--target",
                &target,
                "--json",
                "--context",
                &context,
            ];
            let first = run(&args);
            for _ in 1..20 {
                assert!(run(&args) == first, "{spec} {target}: plan differs");
            }
        }
    }
}

#[test]
fn image_config_varies_only_in_what_the_build_args_feed() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-determinism-labels");
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("layercake.yaml");
    std::fs::write(
        &spec,
        "args: { VERSION: dev }\nservices:\n  api:\n    python: { version: \"3.12\" }\n    \
         command: [python, -m, app]\n    labels: { org.opencontainers.image.version: \"${VERSION}\" }\n",
    )
    .unwrap();
    std::fs::write(dir.join("requirements.txt"), "").unwrap();
    let spec = spec.to_string_lossy().into_owned();
    let image = |version: &str| -> serde_json::Value {
        let arg = format!("VERSION={version}");
        let out = run(&["plan", &spec, "--json", "--build-arg", &arg]);
        let plan: serde_json::Value = serde_json::from_slice(&out).unwrap();
        plan["image"].clone()
    };
    let (one, two) = (image("1.0.0"), image("2.0.0"));
    assert_eq!(image("1.0.0"), one, "same args, different config");
    let label = "/config/Labels/org.opencontainers.image.version";
    assert_eq!(
        one.pointer(label).and_then(|v| v.as_str()),
        Some("1.0.0"),
        "{one:#}"
    );
    assert_eq!(
        two.pointer(label).and_then(|v| v.as_str()),
        Some("2.0.0"),
        "{two:#}"
    );
    // Put the label back and the two configs are the same.
    let mut two_as_one = two.clone();
    *two_as_one.pointer_mut(label).unwrap() = serde_json::json!("1.0.0");
    assert_eq!(two_as_one, one);
}

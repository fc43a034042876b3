//! Hostile specs through the command line (`layercake plan`, a child process): exit 1, a
//! `file:line:col` message on stderr, nothing on stdout, and quickly (no hang).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Generous: the point is "no hang", on a busy 2-core machine with a debug build.
const LIMIT: Duration = Duration::from_secs(5);

fn hostile_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/hostile")
}

fn plan(spec: &Path) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_layercake"))
        .arg("plan")
        .arg(spec)
        .output()
        .unwrap();
    (out, started.elapsed())
}

fn refused(spec: &Path) -> String {
    let (out, took) = plan(spec);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let name = spec.display();
    assert!(took < LIMIT, "{name} took {took:?}");
    assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
    assert!(out.stdout.is_empty(), "{name}: something on stdout");
    assert!(stderr.starts_with("error: "), "{name}: {stderr}");
    for line in stderr.lines() {
        assert!(
            line.chars().count() < 400,
            "{name}: a {}-char line",
            line.len()
        );
    }
    stderr
}

/// `FILE:LINE:COL` right after the arrow (the CLI names the file by its name, the way BuildKit
/// users see it, or by the path given), both numbers at least 1.
fn has_position(stderr: &str, path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    stderr.lines().any(|line| {
        let Some(at) = line.trim_start().strip_prefix("--> ") else {
            return false;
        };
        let mut parts = at.rsplitn(3, ':');
        let number = |p: Option<&str>| {
            p.and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| n >= 1)
        };
        let column_ok = number(parts.next());
        let line_ok = number(parts.next());
        column_ok && line_ok && parts.next().is_some_and(|file| file.ends_with(&name))
    })
}

/// Files whose refusal comes before parsing, as a whole-file message (no line to point at).
const WHOLE_FILE: &[&str] = &["empty.yaml"];
/// Refused for their encoding (`layercake_spec::parse_bytes`), with the position of the first
/// bad byte; checked on their own below.
const ENCODING: &[&str] = &["not-utf8.yaml", "utf16-bom.yaml"];

#[test]
fn every_hostile_spec_is_refused_with_file_line_and_column() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(hostile_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "{files:?}");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if ENCODING.contains(&name.as_str()) {
            continue;
        }
        let stderr = refused(&path);
        if WHOLE_FILE.contains(&name.as_str()) {
            assert!(stderr.contains(&format!("--> {name}")), "{stderr}");
        } else {
            assert!(
                has_position(&stderr, &path),
                "{name}: no file:line:col in {stderr}"
            );
        }
    }
}

#[test]
fn not_utf8_is_refused_with_a_position() {
    for name in ENCODING {
        let path = hostile_dir().join(name);
        let stderr = refused(&path);
        assert!(has_position(&stderr, &path), "{name}: {stderr}");
        assert!(stderr.contains("UTF"), "{name}: {stderr}");
    }
}

#[test]
fn a_generated_ten_megabyte_spec_gets_the_size_message() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-cli-10mb");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("layercake.yaml");
    let mut text = String::from("services:\n  api:\n    python: { version: \"3.12\" }\n");
    while text.len() < 10 * 1024 * 1024 {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&path, &text).unwrap();
    let stderr = refused(&path);
    assert!(
        stderr.contains("the limit is 1048576 bytes (1 MiB)"),
        "{stderr}"
    );
}

#[test]
fn referenced_files_outside_the_context_are_refused_before_reading_them() {
    // The spec names ../ paths: refused by validation, nothing outside the context is read.
    let path = hostile_dir().join("dotdot-requirements.yaml");
    let stderr = refused(&path);
    assert!(stderr.contains("leaves the build context"), "{stderr}");
    assert!(!stderr.contains("root:"), "{stderr}");
}

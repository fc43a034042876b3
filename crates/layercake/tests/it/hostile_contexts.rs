//! Hostile build contexts (testdata/hostile-contexts/*): symlinks out of the context, FIFOs,
//! devices, huge files, `.dockerignore` rules, literal paths, `init` into a symlink. Each case
//! runs through the CLI (a child process) here, and through the frontend on the real engine
//! (`--ignored`). Each asserts the exit code, the positioned message, a time under a second,
//! and that nothing from outside the context appears in any output.
//!
//! A case is a folder: the context, plus `case.txt`:
//!
//! ```text
//! # what the case is
//! setup: symlink PATH -> TARGET   (TARGET: a path, @outside, @outside-relative, @outside-dir)
//! setup: fifo PATH
//! setup: big PATH BYTES
//! run: ARGS…                      (layercake ARGS, in the context folder)
//! exit: CODE
//! stderr: TEXT / stdout: TEXT / stdout-not: TEXT   (substrings, may repeat)
//! then: ARGS… / then-exit: CODE   (a second command, after the first)
//! engine: TEXT                    (the engine build fails with TEXT in its output)
//! ```
//!
//! `@outside` is a file outside the context holding a marker; no output may ever show it, nor
//! `/etc/passwd`'s first line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(1);
const PASSWD_ROOT: &str = "root:x:0:0";

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/hostile-contexts")
}

#[derive(Default, Debug)]
struct Case {
    name: String,
    setup: Vec<String>,
    run: Vec<String>,
    exit: i32,
    stderr: Vec<String>,
    stdout: Vec<String>,
    stdout_not: Vec<String>,
    then: Vec<String>,
    then_exit: Option<i32>,
    engine: Vec<String>,
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

fn cases() -> Vec<Case> {
    let mut names: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(corpus().join(&name).join("case.txt"))
                .unwrap_or_else(|e| panic!("{name}/case.txt: {e}"));
            let mut case = Case {
                name,
                ..Case::default()
            };
            for line in text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.is_empty())
            {
                let (key, value) = line.split_once(": ").unwrap_or((line, ""));
                match key {
                    "setup" => case.setup.push(value.to_owned()),
                    "run" => case.run = words(value),
                    "exit" => case.exit = value.parse().unwrap(),
                    "stderr" => case.stderr.push(value.to_owned()),
                    "stdout" => case.stdout.push(value.to_owned()),
                    "stdout-not" => case.stdout_not.push(value.to_owned()),
                    "then" => case.then = words(value),
                    "then-exit" => case.then_exit = Some(value.parse().unwrap()),
                    "engine" => case.engine.push(value.to_owned()),
                    other => panic!("{}: unknown key `{other}`", case.name),
                }
            }
            assert!(!case.run.is_empty(), "{}: no `run:`", case.name);
            case
        })
        .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_name() == "case.txt" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The case's context, freshly laid out under `kind`, and the marker of its outside file.
struct Laid {
    context: PathBuf,
    outside_file: PathBuf,
    marker: String,
}

fn lay_out(case: &Case, kind: &str) -> Laid {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("hostile-contexts-{kind}"))
        .join(&case.name);
    let _ = std::fs::remove_dir_all(&base);
    let context = base.join("context");
    let outside = base.join("outside");
    copy_tree(&corpus().join(&case.name), &context);
    std::fs::create_dir_all(&outside).unwrap();
    let marker = format!("OUTSIDE-THE-CONTEXT-{}", case.name);
    let outside_file = outside.join("secret.txt");
    std::fs::write(&outside_file, format!("{marker}\n")).unwrap();
    std::fs::write(outside.join("requirements.txt"), format!("{marker}==1\n")).unwrap();
    for step in &case.setup {
        let parts = words(step);
        match parts.as_slice() {
            [kind, path, arrow, target] if kind == "symlink" && arrow == "->" => {
                let link = context.join(path);
                std::fs::create_dir_all(link.parent().unwrap()).unwrap();
                let _ = std::fs::remove_file(&link);
                let target = match target.as_str() {
                    "@outside" => outside_file.clone(),
                    "@outside-dir" => outside.clone(),
                    "@outside-relative" => {
                        let climb = "../".repeat(link.components().count() + 2);
                        PathBuf::from(format!(
                            "{climb}{}",
                            outside_file.to_string_lossy().trim_start_matches('/')
                        ))
                    }
                    other => PathBuf::from(other),
                };
                std::os::unix::fs::symlink(target, link).unwrap();
            }
            [kind, path] if kind == "fifo" => {
                let fifo = context.join(path);
                std::fs::create_dir_all(fifo.parent().unwrap()).unwrap();
                let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
                assert!(status.success(), "mkfifo {}", fifo.display());
            }
            [kind, path, bytes] if kind == "big" => {
                let mut text = b"flask==3.0.0\n".to_vec();
                text.resize(bytes.parse().unwrap(), b'#');
                let big = context.join(path);
                // git keeps no empty folders: a case's folder may exist only through this file.
                std::fs::create_dir_all(big.parent().unwrap()).unwrap();
                std::fs::write(big, text).unwrap();
            }
            _ => panic!("{}: bad setup `{step}`", case.name),
        }
    }
    Laid {
        context,
        outside_file,
        marker,
    }
}

fn layercake(context: &Path, args: &[String]) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_layercake"))
        .args(args)
        .current_dir(context)
        .output()
        .unwrap();
    (out, started.elapsed())
}

fn assert_nothing_from_outside(case: &Case, laid: &Laid, what: &str, text: &str) {
    assert!(
        !text.contains(&laid.marker),
        "{}: {what} shows the file outside the context:\n{text}",
        case.name
    );
    assert!(
        !text.contains(PASSWD_ROOT),
        "{}: {what} shows /etc/passwd:\n{text}",
        case.name
    );
}

#[test]
fn every_hostile_context_through_the_cli() {
    let cases = cases();
    assert!(cases.len() >= 15, "only {} cases", cases.len());
    for case in &cases {
        let laid = lay_out(case, "cli");
        let (out, took) = layercake(&laid.context, &case.run);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let name = &case.name;
        assert!(took < LIMIT, "{name}: took {took:?}");
        assert_eq!(
            out.status.code(),
            Some(case.exit),
            "{name}: `layercake {}`\nstdout: {stdout}\nstderr: {stderr}",
            case.run.join(" ")
        );
        for wanted in &case.stderr {
            assert!(
                stderr.contains(wanted),
                "{name}: stderr lacks {wanted:?}:\n{stderr}"
            );
        }
        for wanted in &case.stdout {
            assert!(
                stdout.contains(wanted),
                "{name}: stdout lacks {wanted:?}:\n{stdout}"
            );
        }
        for unwanted in &case.stdout_not {
            assert!(
                !stdout.contains(unwanted),
                "{name}: stdout has {unwanted:?}:\n{stdout}"
            );
        }
        if case.exit != 0 {
            // `check` reports findings on stdout; failures go to stderr.
            assert!(
                !(stdout.trim().is_empty() && stderr.trim().is_empty()),
                "{name}: failed without a message"
            );
        }
        // Nothing that acts on a terminal or hides text is ever printed as it is.
        for (what, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            if case.run[0] != "llb" {
                assert!(
                    !text.contains(['\u{1b}', '\u{7}', '\u{202e}']),
                    "{name}: {what} has a raw control or bidi character: {text:?}"
                );
            }
        }
        assert_nothing_from_outside(case, &laid, "stdout", &stdout);
        assert_nothing_from_outside(case, &laid, "stderr", &stderr);
        // The file outside is never written either.
        assert_eq!(
            std::fs::read_to_string(&laid.outside_file).unwrap(),
            format!("{}\n", laid.marker),
            "{name}: the file outside the context changed"
        );
        if !case.then.is_empty() {
            let (out, took) = layercake(&laid.context, &case.then);
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(took < LIMIT, "{name}: then took {took:?}");
            assert_eq!(out.status.code(), case.then_exit, "{name}: then: {text}");
            assert!(
                !text.contains(['\u{1b}', '\u{7}', '\u{202e}']),
                "{name}: then printed a raw control or bidi character: {text:?}"
            );
            assert_nothing_from_outside(case, &laid, "then", &text);
        }
    }
}

fn frontend() -> String {
    std::env::var("LAYERCAKE_FRONTEND").unwrap_or_else(|_| "layercake:dev".to_owned())
}

/// The same contexts through the frontend: the build fails with the same message, and no
/// output shows anything from outside the context.
#[test]
#[ignore = "needs the real engine (LAYERCAKE_FRONTEND names the frontend image)"]
fn every_hostile_context_through_the_frontend() {
    let mut ran = 0;
    for case in cases().iter().filter(|c| !c.engine.is_empty()) {
        let laid = lay_out(case, "engine");
        let spec = laid.context.join("layercake.yaml");
        let text = std::fs::read_to_string(&spec).unwrap();
        std::fs::write(&spec, format!("# syntax={}\n{text}", frontend())).unwrap();
        let mut command = Command::new("docker");
        command
            .args(["buildx", "build", "--progress=plain", "-f"])
            .arg(&spec);
        if let Some(at) = case.run.iter().position(|a| a == "--target") {
            command.args(["--target", &case.run[at + 1]]);
        }
        let out = command.arg(&laid.context).output().unwrap();
        let output = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let name = &case.name;
        assert!(
            !out.status.success(),
            "{name}: the build succeeded:\n{output}"
        );
        for wanted in &case.engine {
            assert!(
                output.contains(wanted),
                "{name}: no {wanted:?} in:\n{output}"
            );
        }
        assert_nothing_from_outside(case, &laid, "the build output", &output);
        ran += 1;
    }
    assert!(ran >= 8, "only {ran} engine cases");
}

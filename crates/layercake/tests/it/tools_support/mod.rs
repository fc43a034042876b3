//! Shared by the tools_*.rs tests: the binary, scratch folders, copies of the example.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn example_dir() -> PathBuf {
    repo_root().join("testdata/example")
}

pub fn layercake() -> Command {
    Command::new(env!("CARGO_BIN_EXE_layercake"))
}

/// Runs a command; panics with its output unless it succeeds.
pub fn ok(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

pub fn stdout(command: &mut Command) -> String {
    String::from_utf8(ok(command).stdout).unwrap()
}

/// A fresh, empty folder under the target dir, unique per test and run.
pub fn scratch_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir =
        std::env::temp_dir().join(format!("layercake-tools-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "node_modules" || name == "dist" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of testdata/example in a new folder.
pub fn example_copy(name: &str) -> PathBuf {
    let dir = scratch_dir(name).join("shop");
    copy_tree(&example_dir(), &dir);
    dir
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = ok(Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_AUTHOR_DATE", "2024-03-01T12:00:00+01:00")
        .env("GIT_COMMITTER_DATE", "2024-03-01T12:00:00+01:00"));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Makes `dir` a git repository with one commit (at a fixed time) and an origin remote.
pub fn git_repo(dir: &Path) -> String {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "initial"]);
    git(
        dir,
        &["remote", "add", "origin", "git@github.com:acme/shop.git"],
    );
    git(dir, &["rev-parse", "HEAD"])
}

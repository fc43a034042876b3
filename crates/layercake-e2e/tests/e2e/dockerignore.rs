//! `.dockerignore` is honoured: a file it names never reaches the image.

use crate::common::*;
use layercake_e2e::Engine;

#[test]
#[ignore = "needs the real engine: make e2e"]
fn dockerignored_file_is_not_in_the_api_image() -> TestResult {
    let engine = Engine::new("dockerignore")?;
    let project = engine.project("example")?;
    assert!(
        project.file("backend/secret-notes.txt").is_file(),
        "the project lost its ignored file"
    );
    assert!(
        project
            .read(".dockerignore")?
            .lines()
            .any(|line| line == "backend/secret-notes.txt")
    );
    let image = engine.image_name("api");
    engine
        .build(&project)
        .target("api")
        .tag(&image)
        .run()?
        .ensure_success()?;

    let files = engine.image_files(&image)?;
    // Control: the rest of backend/ is there, where the code copy puts it.
    assert!(
        files.contains("app/app/main.py"),
        "no app/app/main.py among {} files",
        files.len()
    );
    assert!(
        files.contains("app/requirements.txt"),
        "no app/requirements.txt"
    );
    let leaked: Vec<&String> = files
        .iter()
        .filter(|path| path.ends_with("secret-notes.txt"))
        .collect();
    assert!(leaked.is_empty(), "ignored file in the image: {leaked:?}");
    Ok(())
}

/// An allowlist `.dockerignore` (everything out, then what the build needs back in) means what
/// it means in Docker: the rules apply in order, so the image has the listed code and nothing
/// else. Sorted, the `!` lines came first and `*` won: the build "succeeded" with an empty /app.
#[test]
#[ignore = "needs the real engine: make e2e"]
fn an_allowlist_dockerignore_sends_exactly_what_it_lists() -> TestResult {
    let engine = Engine::new("dockerignore_allowlist")?;
    let project = engine.project("example")?;
    project.write(
        ".dockerignore",
        "*\n!backend\nbackend/secret-notes.txt\n**/__pycache__\n",
    )?;
    let image = engine.image_name("api");
    engine
        .build(&project)
        .target("api")
        .tag(&image)
        .run()?
        .ensure_success()?;
    let files = engine.image_files(&image)?;
    assert!(
        files.contains("app/app/main.py"),
        "the allowlisted code is missing: {} files",
        files.len()
    );
    assert!(files.contains("app/requirements.txt"));
    let leaked: Vec<&String> = files
        .iter()
        .filter(|path| path.ends_with("secret-notes.txt"))
        .collect();
    assert!(
        leaked.is_empty(),
        "the re-excluded file is in the image: {leaked:?}"
    );
    Ok(())
}

//! `layercake dockerfile`: the Dockerfile mirrors the plan, and (real engine) the builtin
//! Dockerfile frontend builds it into an image with the same files as layercake's.

use crate::tools_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use tools_support::*;

fn dockerfile(target: &str) -> String {
    stdout(layercake().current_dir(example_dir()).args([
        "dockerfile",
        "layercake.yaml",
        "--target",
        target,
    ]))
}

#[test]
fn api_dockerfile_has_the_wheel_stages_the_offline_install_and_the_config() {
    let text = dockerfile("api");
    for line in [
        "FROM python:3.11-slim AS api-wheels-1-work",
        "--mount=type=cache,id=layercake-pip-3.11-linux-amd64,target=/root/.cache/pip,sharing=shared",
        "COPY --from=api-wheels-1-work /wheels/ /",
        "FROM scratch AS api-wheels",
        "--mount=type=bind,from=api-wheels,source=/,target=/wheels",
        "RUN --network=none",
        // One install of the pinned lines, hashes dropped, from the wheels alone.
        "# [api runtime 2/3] pip install --no-index: the 12 pinned requirements of requirements.txt",
        "--mount=type=tmpfs,target=/tmp",
        "exec python3 -m pip install --no-index --no-cache-dir --find-links /wheels -r /tmp/requirements.txt",
        "FROM python:3.11-slim AS api",
        "COPY backend /app",
        "USER 10001:10001",
        "WORKDIR /app",
        "EXPOSE 8000/tcp",
        "ENV PYTHONUNBUFFERED=\"1\"",
        "HEALTHCHECK --interval=30s --timeout=10s --start-period=5s --start-interval=1s --retries=3 CMD [\"python3\"",
        "CMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"8000\"]",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    // Every step gets its pinned lines: no step reads the requirement file.
    assert!(!text.contains("AS api-requirements"), "{text}");
    // The output stage comes last, so a plain `docker build` builds the image.
    let last_from = text.lines().rfind(|l| l.starts_with("FROM ")).unwrap();
    assert_eq!(last_from, "FROM python:3.11-slim AS api");
    // The pip install runs in `/`: a working directory inside its read-only mount would be
    // created in the image as an empty folder.
    assert!(!text.contains("WORKDIR /src"), "{text}");
    assert!(
        !text.contains("/src/backend\", \"python3\", \"-m\", \"pip\", \"install"),
        "{text}"
    );
}

#[test]
fn web_dockerfile_builds_on_the_build_platform_and_writes_nginx_config() {
    let text = dockerfile("web");
    for line in [
        "FROM scratch AS web-manifests",
        // .npmrc is optional: a glob that may match nothing
        "COPY frontend/package.json frontend/package-lock.json frontend/.npmr[c] /",
        "FROM --platform=$BUILDPLATFORM node:18 AS web-build-work",
        "COPY --from=web-sources / /app",
        "COPY --from=web-build /dist /usr/share/nginx/html",
        "COPY --chmod=0644 <<\"LAYERCAKE_EOF\" /etc/nginx/conf.d/default.conf",
        "COPY --from=layercake:dev /usr/local/bin/layercake /usr/local/bin/layercake",
        "STOPSIGNAL SIGQUIT",
        "ENTRYPOINT []",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    assert!(text.contains("layercake leaves out node_modules, dist"));
    assert!(
        !text.contains("WORKDIR /\n"),
        "the image keeps nginx's working directory"
    );
}

#[test]
fn output_does_not_depend_on_the_run() {
    assert_eq!(dockerfile("api"), dockerfile("api"));
}

/// Every path in the image's file system, minus what the engine writes into every container.
fn files_of(image: &str) -> BTreeSet<String> {
    let created = ok(Command::new("docker").args(["create", image]));
    let id = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let export = Command::new("sh")
        .arg("-c")
        .arg(format!("docker export {id} | tar -t"))
        .output()
        .unwrap();
    ok(Command::new("docker").args(["rm", &id]));
    assert!(export.status.success());
    const VOLATILE: [&str; 5] = [
        ".dockerenv",
        "etc/hostname",
        "etc/hosts",
        "etc/resolv.conf",
        "etc/mtab",
    ];
    String::from_utf8(export.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .filter(|p| !VOLATILE.contains(&p.trim_end_matches('/')))
        .collect()
}

fn build(context: &Path, file: &Path, target: &str, tag: &str) {
    ok(Command::new("docker").current_dir(context).args([
        "buildx",
        "build",
        "-q",
        "--load",
        "-f",
        file.to_str().unwrap(),
        "--target",
        target,
        "-t",
        tag,
        ".",
    ]));
}

#[test]
#[ignore = "needs the real engine"]
fn builtin_dockerfile_frontend_builds_the_same_files() {
    let work = scratch_dir("dockerfile-e2e");
    let run = std::process::id();
    for target in ["api", "web"] {
        let file = work.join(format!("Dockerfile.{target}"));
        std::fs::write(&file, dockerfile(target)).unwrap();
        let ours = format!("tools-e2e-lc-{target}:{run}");
        let theirs = format!("tools-e2e-df-{target}:{run}");
        build(&example_dir(), Path::new("layercake.yaml"), target, &ours);
        build(&example_dir(), &file, target, &theirs);
        let ours_files = files_of(&ours);
        let theirs_files = files_of(&theirs);
        let only_ours: Vec<&String> = ours_files.difference(&theirs_files).collect();
        let only_theirs: Vec<&String> = theirs_files.difference(&ours_files).collect();
        assert!(
            only_ours.is_empty() && only_theirs.is_empty(),
            "{target}: only in layercake's image: {only_ours:?}; only in the Dockerfile's: {only_theirs:?}"
        );
        assert!(ours_files.len() > 1000, "{target}: suspiciously few files");
        for image in [&ours, &theirs] {
            ok(Command::new("docker").args(["rmi", "-f", image]));
        }
    }
}

/// Values that hold line breaks, quotes, commas and Dockerfile syntax stay values: every line
/// of the output is a comment, an instruction layercake writes, a RUN flag continuation or a
/// heredoc line, and no injected instruction appears.
#[test]
fn no_value_becomes_an_instruction() {
    let dir = scratch_dir("dockerfile-hostile");
    std::fs::create_dir_all(dir.join("my app")).unwrap();
    std::fs::write(dir.join("my app/requirements.txt"), "flask==3.0.0\n").unwrap();
    std::fs::write(
        dir.join("layercake.yaml"),
        r#"args: { NAME: x }
services:
  api:
    path: "my app"
    python:
      version: "3.12"
      build_steps:
        - "echo ${NAME}\nRUN echo INJECTED-STEP"
        - [echo, "a\nRUN echo INJECTED-EXEC"]
    command: ["run", "\nCMD INJECTED-CMD"]
    env: { GREETING: "hi\nENV INJECTED=1" }
    labels: { "org.example\"x": "v\nLABEL injected=1" }
    secrets: [{ id: tok, target: "/run/secrets/a,target=/etc/passwd" }]
    healthcheck: { command: "exit 0\nRUN echo INJECTED-HEALTH" }
"#,
    )
    .unwrap();
    let out = stdout(layercake().current_dir(&dir).args([
        "dockerfile",
        "layercake.yaml",
        "--target",
        "api",
        "--build-arg",
        "NAME=\nRUN echo INJECTED-ARG",
    ]));
    let instructions = [
        "FROM ",
        "RUN ",
        "COPY ",
        "USER ",
        "WORKDIR ",
        "ENV ",
        "LABEL ",
        "EXPOSE ",
        "VOLUME ",
        "STOPSIGNAL ",
        "HEALTHCHECK ",
        "ENTRYPOINT ",
        "CMD ",
        "SHELL ",
    ];
    let mut heredoc: Option<String> = None;
    let mut continued = false;
    for line in out.lines() {
        if let Some(end) = &heredoc {
            if line == end {
                heredoc = None;
            }
            continue;
        }
        assert!(
            !line.contains("INJECTED") || line.starts_with("# ") || line.contains("\\n"),
            "a value became a line: {line:?}\n{out}"
        );
        let is_instruction = instructions.iter().any(|i| line.starts_with(i));
        assert!(
            line.is_empty() || line.starts_with('#') || is_instruction || continued,
            "unexpected line {line:?}\n{out}"
        );
        continued = line.ends_with('\\');
        if let Some((_, rest)) = line.split_once("<<\"") {
            heredoc = rest.split_once('"').map(|(end, _)| end.to_owned());
        }
    }
    assert!(!out.contains("\nRUN echo INJECTED"), "{out}");
    assert!(
        out.contains("\"target=/run/secrets/a,target=/etc/passwd\""),
        "{out}"
    );
    assert!(
        out.contains("COPY [\"my app\", \"/app\"]") || out.contains("\"my app"),
        "{out}"
    );
}

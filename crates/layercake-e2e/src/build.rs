//! `docker buildx build` of a project copy, as a builder.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use crate::command::run_any;
use crate::{BuildReport, Engine, HarnessError, Project};

/// A `docker buildx build --progress=rawjson -f <spec> … .` run in a project copy.
#[derive(Debug, Clone)]
#[must_use = "a Build does nothing until `run`"]
pub struct Build<'e> {
    engine: &'e Engine,
    dir: PathBuf,
    /// The `-t` names, whose resulting image ids the engine removes on drop.
    tags: Vec<String>,
    spec: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl<'e> Build<'e> {
    pub(crate) fn new(engine: &'e Engine, project: &Project) -> Self {
        Self {
            engine,
            dir: project.path().to_path_buf(),
            tags: Vec::new(),
            spec: String::from("layercake.yaml"),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// The spec file, relative to the project (default `layercake.yaml`).
    pub fn spec(mut self, file: &str) -> Self {
        file.clone_into(&mut self.spec);
        self
    }

    /// `--target SERVICE`.
    pub fn target(self, service: &str) -> Self {
        self.arg("--target").arg(service)
    }

    /// `-t IMAGE` (the image goes to the local image store).
    pub fn tag(mut self, image: &str) -> Self {
        self.tags.push(image.to_owned());
        self.arg("-t").arg(image)
    }

    /// `--build-arg NAME=VALUE`.
    pub fn build_arg(self, name: &str, value: &str) -> Self {
        self.arg("--build-arg").arg(&format!("{name}={value}"))
    }

    /// `--cache-to type=registry,ref=REF,mode=max`.
    pub fn cache_to_registry(self, reference: &str) -> Self {
        self.arg("--cache-to")
            .arg(&format!("type=registry,ref={reference},mode=max"))
    }

    /// `--cache-from type=registry,ref=REF`.
    pub fn cache_from_registry(self, reference: &str) -> Self {
        self.arg("--cache-from")
            .arg(&format!("type=registry,ref={reference}"))
    }

    /// `--secret id=ID,env=VAR` with `VAR=value` in the build command's environment.
    pub fn secret_env(mut self, id: &str, variable: &str, value: &str) -> Self {
        self.env.push((variable.to_owned(), value.to_owned()));
        self.arg("--secret").arg(&format!("id={id},env={variable}"))
    }

    /// `--platform a,b`.
    pub fn platform(self, platforms: &str) -> Self {
        self.arg("--platform").arg(platforms)
    }

    /// `--output SPEC`, e.g. `type=image,name=…,push=true`.
    pub fn output(self, spec: &str) -> Self {
        self.arg("--output").arg(spec)
    }

    /// `--call METHOD` (`targets`, `outline`, `check`, with `,format=json` if wanted).
    /// buildx before 0.14 has no `--call`: there it is the experimental `--print`, and
    /// `check` is called `lint`.
    pub fn call(mut self, method: &str) -> Self {
        if buildx_has_call() {
            return self.arg("--call").arg(method);
        }
        self.env
            .push((String::from("BUILDX_EXPERIMENTAL"), String::from("1")));
        let method = match method.strip_prefix("check") {
            Some(rest) => format!("lint{rest}"),
            None => method.to_owned(),
        };
        self.arg("--print").arg(&method)
    }

    /// Any other argument, as is.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    /// The command line, for messages.
    pub fn describe(&self) -> String {
        format!(
            "docker buildx build --progress=rawjson -f {} {} .",
            self.spec,
            self.args.join(" ")
        )
    }

    /// Runs the build. A failing build is a report with `success() == false`, not an error.
    pub fn run(self) -> Result<BuildReport, HarnessError> {
        let mut args = vec![
            String::from("buildx"),
            String::from("build"),
            String::from("--progress=rawjson"),
            String::from("-f"),
            self.spec.clone(),
        ];
        // buildx writes the exporter response here, including a subrequest's
        // `result.statuscode`, which buildx before 0.14 does not turn into its exit status.
        let metadata_file = self.engine.scratch_dir("meta")?.join("metadata.json");
        args.push(String::from("--metadata-file"));
        args.push(metadata_file.to_string_lossy().into_owned());
        // `LAYERCAKE_FRONTEND` (scripts/e2e.sh checks it exists) replaces the image a spec's
        // `# syntax=` line names; a spec without that line, or a test that sets BUILDKIT_SYNTAX
        // itself, is left as it is.
        let has_syntax_line = std::fs::read_to_string(self.dir.join(&self.spec))
            .is_ok_and(|text| text.starts_with("# syntax="));
        if let Some(frontend) = frontend_override()
            && has_syntax_line
            && !self.args.iter().any(|a| a.starts_with("BUILDKIT_SYNTAX="))
        {
            args.push(String::from("--build-arg"));
            args.push(format!("BUILDKIT_SYNTAX={frontend}"));
            eprintln!("e2e: frontend image {frontend} (LAYERCAKE_FRONTEND)");
        }
        args.extend(self.args.iter().cloned());
        args.push(String::from("."));
        eprintln!("e2e: {}", self.describe());
        let start = Instant::now();
        let ran = run_any("docker", &args, Some(&self.dir), &self.env)?;
        let seconds = start.elapsed().as_secs_f64();
        for tag in &self.tags {
            self.engine.track_image_id(tag);
        }
        let mut report = BuildReport::parse(
            ran.success,
            ran.status.clone(),
            ran.stdout_text(),
            &ran.stderr_text(),
            seconds,
        );
        if let Ok(text) = std::fs::read_to_string(&metadata_file) {
            report.set_metadata(serde_json::from_str(&text)?);
        }
        eprintln!(
            "e2e: exit {} after {seconds:.1}s\n{}",
            ran.status,
            report.summary()
        );
        Ok(report)
    }
}

/// The frontend image `LAYERCAKE_FRONTEND` names, if set and not empty.
pub fn frontend_override() -> Option<String> {
    std::env::var("LAYERCAKE_FRONTEND")
        .ok()
        .filter(|image| !image.trim().is_empty())
}

/// The installed buildx knows `--call` (0.14 and later). Older ones have the experimental
/// `--print` instead, which always exits 0 after printing a subrequest's answer.
pub fn buildx_has_call() -> bool {
    static HAS_CALL: OnceLock<bool> = OnceLock::new();
    *HAS_CALL.get_or_init(|| {
        run_any("docker", &["buildx", "build", "--help"], None, &[])
            .is_ok_and(|ran| ran.stdout_text().contains("--call"))
    })
}

//! The test's handle on the engine: unique names, and cleanup of everything it made.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::command::{docker, run_any, run_ok};
use crate::registry::REGISTRY;
use crate::{Build, HarnessError, Project};

/// One test's use of the engine. Every container, image, registry reference and temporary
/// directory it hands out is removed when it drops, whether the test passed or not.
#[derive(Debug)]
pub struct Engine {
    label: String,
    serial: Cell<u32>,
    containers: RefCell<Vec<String>>,
    images: RefCell<Vec<String>>,
    /// Ids of images built under a tracked name: a rebuild under the same name leaves the
    /// earlier one dangling, and those must go too.
    image_ids: RefCell<Vec<String>>,
    dirs: RefCell<Vec<PathBuf>>,
}

/// A container started by [`Engine::run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    name: String,
}

impl Container {
    /// The container's name (unique per test).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host port a container port was published on (`-p 127.0.0.1::PORT`).
    pub fn host_port(&self, container_port: u16) -> Result<u16, HarnessError> {
        let text = docker(&["port", &self.name, &format!("{container_port}/tcp")])?;
        text.lines()
            .filter_map(|line| line.rsplit_once(':'))
            .find_map(|(_, port)| port.trim().parse().ok())
            .ok_or_else(|| HarnessError::unexpected("docker port", text.clone()))
    }

    /// The container's log (stdout and stderr).
    pub fn log(&self) -> String {
        run_any("docker", &["logs", &self.name], None, &[])
            .map(|ran| format!("{}{}", ran.stdout_text(), ran.stderr_text()))
            .unwrap_or_else(|error| error.to_string())
    }
}

impl Engine {
    /// A handle for the test `label` (used in every name it hands out).
    pub fn new(label: &str) -> Result<Self, HarnessError> {
        let label: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        Ok(Self {
            label,
            serial: Cell::new(0),
            containers: RefCell::new(Vec::new()),
            images: RefCell::new(Vec::new()),
            image_ids: RefCell::new(Vec::new()),
            dirs: RefCell::new(Vec::new()),
        })
    }

    /// A name no other test or run uses: `e2e-<label>-<what>-<pid>-<n>-<clock>`.
    pub fn unique(&self, what: &str) -> String {
        let serial = self.serial.get() + 1;
        self.serial.set(serial);
        let clock = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_micros());
        format!(
            "e2e-{}-{what}-{}-{serial}-{clock}",
            self.label,
            std::process::id()
        )
    }

    /// A fresh temporary directory, removed on drop.
    pub fn scratch_dir(&self, what: &str) -> Result<PathBuf, HarnessError> {
        let dir = std::env::temp_dir().join(self.unique(what));
        fs::create_dir_all(&dir).map_err(|e| HarnessError::io(&dir, e))?;
        self.dirs.borrow_mut().push(dir.clone());
        Ok(dir)
    }

    /// A private copy of `testdata/<name>` (removed when the project drops).
    pub fn project(&self, name: &str) -> Result<Project, HarnessError> {
        Project::copy_of(name, std::env::temp_dir().join(self.unique("ctx")))
    }

    /// A unique local image name, removed on drop.
    pub fn image_name(&self, what: &str) -> String {
        let name = format!("{}:test", self.unique(what));
        self.track_image(&name);
        name
    }

    /// A unique repository in the local registry: `127.0.0.1:5000/e2e/<unique>`.
    /// Local images named after it (pulled or tagged) are removed on drop via
    /// [`Engine::track_image`]; the registry keeps its copy.
    pub fn registry_repo(&self, what: &str) -> String {
        format!("{REGISTRY}/e2e/{}", self.unique(what))
    }

    /// Removes this image (by name) on drop.
    pub fn track_image(&self, name: &str) {
        self.images.borrow_mut().push(name.to_owned());
    }

    /// A `docker buildx build` of `project`.
    pub fn build(&self, project: &Project) -> Build<'_> {
        Build::new(self, project)
    }

    /// Remembers the id an image name has now, to remove it on drop once it is dangling.
    pub(crate) fn track_image_id(&self, name: &str) {
        if let Ok(id) = docker(&["image", "inspect", "-f", "{{.Id}}", name]) {
            let mut ids = self.image_ids.borrow_mut();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }

    /// `docker run -d --name <unique> OPTIONS… IMAGE COMMAND…`.
    pub fn run(
        &self,
        image: &str,
        options: &[&str],
        command: &[&str],
    ) -> Result<Container, HarnessError> {
        let (name, _) = self.docker_run("ctr", "-d", image, options, command)?;
        Ok(Container { name })
    }

    /// `docker run --rm OPTIONS… IMAGE COMMAND…`, returning its trimmed stdout.
    pub fn run_once(
        &self,
        image: &str,
        options: &[&str],
        command: &[&str],
    ) -> Result<String, HarnessError> {
        let (_, stdout) = self.docker_run("once", "--rm", image, options, command)?;
        Ok(stdout)
    }

    /// `docker run MODE --name <unique> OPTIONS… IMAGE COMMAND…` with the container recorded for
    /// clean-up; its name and stdout.
    fn docker_run(
        &self,
        prefix: &str,
        mode: &str,
        image: &str,
        options: &[&str],
        command: &[&str],
    ) -> Result<(String, String), HarnessError> {
        let name = self.unique(prefix);
        self.containers.borrow_mut().push(name.clone());
        let mut args = vec!["run", mode, "--name", &name];
        args.extend_from_slice(options);
        args.push(image);
        args.extend_from_slice(command);
        let stdout = docker(&args)?;
        Ok((name, stdout))
    }

    /// Polls the container's health until `healthy`; fails early if it stops or turns
    /// `unhealthy`, and with its health log and container log on timeout.
    pub fn wait_healthy(
        &self,
        container: &Container,
        timeout: Duration,
    ) -> Result<(), HarnessError> {
        let start = Instant::now();
        let format =
            "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}";
        loop {
            let state = docker(&["inspect", "-f", format, container.name()])?;
            let (status, health) = state.split_once(' ').unwrap_or((state.as_str(), ""));
            let why = match (status, health) {
                (_, "healthy") => {
                    eprintln!(
                        "e2e: {} healthy after {:.1}s",
                        container.name(),
                        start.elapsed().as_secs_f64()
                    );
                    return Ok(());
                }
                (_, "none") => Some(String::from("the image has no HEALTHCHECK")),
                (_, "unhealthy") => Some(String::from("it turned unhealthy")),
                ("exited" | "dead", _) => Some(format!("it stopped ({status})")),
                _ if start.elapsed() > timeout => Some(format!("still `{state}`")),
                _ => None,
            };
            if let Some(why) = why {
                let health = docker(&["inspect", "-f", "{{json .State.Health}}", container.name()])
                    .unwrap_or_else(|error| error.to_string());
                let log = container.log();
                eprintln!("e2e: container log of {}:\n{log}", container.name());
                return Err(HarnessError::NotHealthy {
                    container: container.name().to_owned(),
                    seconds: timeout.as_secs(),
                    why,
                    health,
                    log,
                });
            }
            sleep(Duration::from_millis(500));
        }
    }

    /// `docker exec CONTAINER COMMAND…`, returning its trimmed stdout.
    pub fn exec(&self, container: &Container, command: &[&str]) -> Result<String, HarnessError> {
        let mut args = vec!["exec", container.name()];
        args.extend_from_slice(command);
        docker(&args)
    }

    /// The image's config as `docker image inspect` shows it (the first object).
    pub fn image_inspect(&self, image: &str) -> Result<Value, HarnessError> {
        let text = docker(&["image", "inspect", image])?;
        let mut all: Value = serde_json::from_str(&text)?;
        all.get_mut(0)
            .map(Value::take)
            .ok_or_else(|| HarnessError::unexpected("docker image inspect", text))
    }

    /// The image's layers (diff ids), base first, as `docker image inspect` lists them.
    pub fn image_layers(&self, image: &str) -> Result<Vec<String>, HarnessError> {
        Ok(string_list(&self.image_inspect(image)?["RootFS"]["Layers"]))
    }

    /// The image config's `User`.
    pub fn image_user(&self, image: &str) -> Result<String, HarnessError> {
        docker(&["image", "inspect", "-f", "{{.Config.User}}", image])
    }

    /// Every path in the image's file system (`docker create` + `docker export | tar -t`),
    /// without a leading `./` or `/` and without a trailing `/`.
    pub fn image_files(&self, image: &str) -> Result<BTreeSet<String>, HarnessError> {
        let name = self.unique("files");
        self.containers.borrow_mut().push(name.clone());
        docker(&["create", "--name", &name, image])?;
        let listing = run_ok(
            "bash",
            &[
                "-c",
                "set -o pipefail; docker export \"$1\" | tar -t",
                "bash",
                &name,
            ],
        )?;
        let _ = docker(&["rm", "-f", &name]);
        Ok(listing
            .stdout_text()
            .lines()
            .map(|line| {
                line.trim_start_matches("./")
                    .trim_start_matches('/')
                    .trim_end_matches('/')
                    .to_owned()
            })
            .filter(|line| !line.is_empty())
            .collect())
    }

    /// `docker save IMAGE`, unpacked into a fresh directory (returned).
    pub fn save_image(&self, image: &str) -> Result<PathBuf, HarnessError> {
        let dir = self.scratch_dir("save")?;
        let tar = dir.join("image.tar");
        let tar_text = tar.to_string_lossy().into_owned();
        docker(&["save", "-o", &tar_text, image])?;
        let unpacked = dir.join("unpacked");
        fs::create_dir_all(&unpacked).map_err(|e| HarnessError::io(&unpacked, e))?;
        run_ok(
            "tar",
            &["-xf", &tar_text, "-C", &unpacked.to_string_lossy()],
        )?;
        Ok(unpacked)
    }

    /// `docker buildx prune -af`: BuildKit's whole cache (global: tests run serially).
    pub fn prune(&self) -> Result<(), HarnessError> {
        docker(&["buildx", "prune", "-af"]).map(|_| ())
    }

    /// `docker rmi -f IMAGE`; an image that is already gone is fine.
    pub fn rmi(&self, image: &str) -> Result<(), HarnessError> {
        let ran = run_any("docker", &["rmi", "-f", image], None, &[])?;
        if ran.success || ran.stderr_text().contains("No such image") {
            Ok(())
        } else {
            Err(HarnessError::Failed {
                command: format!("docker rmi -f {image}"),
                status: ran.status.clone(),
                stdout: ran.stdout_text(),
                stderr: ran.stderr_text(),
            })
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // Best effort on every resource: one that is already gone must not hide the others.
        for name in self.containers.borrow().iter() {
            let _ = run_any("docker", &["rm", "-f", "-v", name], None, &[]);
        }
        for image in self.images.borrow().iter() {
            let _ = self.rmi(image);
        }
        // Without -f: an id that some other name still uses (an identical image someone else
        // tagged) stays.
        for id in self.image_ids.borrow().iter() {
            let _ = run_any("docker", &["rmi", id], None, &[]);
        }
        for dir in self.dirs.borrow().iter() {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

/// The strings of a JSON array (diff ids, tags); anything else is an empty list.
pub fn string_list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

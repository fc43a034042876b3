//! `layercake init`: look at a project folder and write a starter `layercake.yaml`.
//!
//! Detection reads a handful of well-known files (requirements.txt, package.json,
//! package-lock.json, .python-version, pyproject.toml, .nvmrc, angular.json) and guesses only
//! what those files say; anything it cannot know is left to the spec's defaults.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use layercake_plan::RequirementsFile;

use super::error::ToolError;
use crate::cli::InitArgs;
use crate::context_fs::ContextDir;

/// Folders never searched: dependencies and tool state, not projects.
const SKIPPED: [&str; 5] = ["node_modules", ".git", ".venv", "venv", "__pycache__"];
const MAX_DEPTH: usize = 2;
const PYTHON_DEFAULT: &str = "3.11";
const NODE_DEFAULT: &str = "18";

/// A project found in the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The folder, relative to the project root, `/`-separated; empty for the root.
    pub path: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Python {
        version: String,
        /// A uv or Poetry project (pyproject.toml and its lock): no requirement file to name.
        uv: bool,
        command: Option<Vec<String>>,
        port: Option<u16>,
    },
    Node {
        version: String,
        /// `None`: the spec's default (`dist`).
        output: Option<String>,
    },
}

pub fn init_command(args: &InitArgs) -> Result<ExitCode, ToolError> {
    let target = args.dir.join("layercake.yaml");
    match std::fs::symlink_metadata(&target) {
        // Never written through: a link could point anywhere on the host.
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(ToolError::Write {
                path: target,
                source: std::io::Error::other(
                    "it is a symlink; layercake init never writes through one",
                ),
            });
        }
        Ok(meta) if !meta.is_file() => {
            return Err(ToolError::Write {
                path: target,
                source: std::io::Error::other("it is not a regular file"),
            });
        }
        Ok(_) if !args.force => return Err(ToolError::Exists { path: target }),
        _ => {}
    }
    let found = detect(&args.dir)?;
    if found.is_empty() {
        return Err(ToolError::NothingFound {
            dir: args.dir.clone(),
        });
    }
    let root_name = std::fs::canonicalize(&args.dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let text = render(&args.syntax, &found, &root_name);
    // Only a spec `layercake check` accepts is written: folder names and file contents are
    // input too.
    crate::load::load(
        "layercake.yaml",
        text.as_bytes(),
        &std::collections::BTreeMap::new(),
    )
    .map_err(|errors| {
        ToolError::Spec(format!(
            "layercake init made a spec it would refuse, so it wrote nothing:\n{errors}"
        ))
    })?;
    write_new(&args.dir, &target, &text)?;
    let names: Vec<String> = found.iter().map(|f| f.path.clone()).collect();
    eprintln!(
        "wrote {} ({} service{}: {}); check it with `layercake check {}`",
        target.display(),
        found.len(),
        if found.len() == 1 { "" } else { "s" },
        names
            .iter()
            .map(|n| if n.is_empty() { "." } else { n.as_str() })
            .collect::<Vec<_>>()
            .join(", "),
        target.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to `target` without following a symlink: into a new file beside it (created,
/// never opened if it exists), then renamed over `target` (a rename replaces a link, it does
/// not write through it).
fn write_new(dir: &Path, target: &Path, text: &str) -> Result<(), ToolError> {
    use std::io::Write as _;
    let temporary = dir.join(format!(".layercake.yaml.{}.tmp", std::process::id()));
    let error = |source| ToolError::Write {
        path: target.to_path_buf(),
        source,
    };
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
        })
        .and_then(|()| std::fs::rename(&temporary, target));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.map_err(error)
}

/// Every project in `root` and its subfolders down to [`MAX_DEPTH`], in path order.
pub fn detect(root: &Path) -> Result<Vec<Found>, ToolError> {
    let mut folders = Vec::new();
    collect_folders(root, String::new(), 0, &mut folders)?;
    let mut found = Vec::new();
    for (dir, path) in folders {
        if pyproject_project(&dir) || has_file(&dir, "requirements.txt") {
            found.push(Found {
                path: path.clone(),
                kind: python_project(&dir),
            });
        }
        if has_file(&dir, "package.json") && has_file(&dir, "package-lock.json") {
            found.push(Found {
                path,
                kind: node_project(&dir),
            });
        }
    }
    Ok(found)
}

fn collect_folders(
    dir: &Path,
    relative: String,
    depth: usize,
    out: &mut Vec<(PathBuf, String)>,
) -> Result<(), ToolError> {
    out.push((dir.to_path_buf(), relative.clone()));
    if depth == MAX_DEPTH {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|source| ToolError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    // Sorted, so the spec's service order does not depend on the file system.
    let mut children = BTreeSet::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && !SKIPPED.contains(&name.as_str()) && !name.starts_with('.') {
            children.insert(name);
        }
    }
    for name in children {
        let child_relative = if relative.is_empty() {
            name.clone()
        } else {
            format!("{relative}/{name}")
        };
        collect_folders(&dir.join(&name), child_relative, depth + 1, out)?;
    }
    Ok(())
}

/// A file of the project folder, read as strictly as a build context (no symlink out of the
/// folder, no devices or FIFOs, the size limit); `None` when it cannot be read.
fn read(dir: &Path, name: &str) -> Option<String> {
    ContextDir::plain(dir).read(name).ok().flatten()
}

/// Whether the project folder holds a regular file `name` (resolved inside the folder).
fn has_file(dir: &Path, name: &str) -> bool {
    ContextDir::plain(dir).read(name).is_ok_and(|f| f.is_some())
}

/// `3.12`, `3.12.1` → kept; anything else (`pypy3.10`, `system`) → `None`.
fn plain_version(text: &str, max_parts: usize) -> Option<String> {
    let text = text.trim().trim_start_matches('v');
    let parts: Vec<&str> = text.split('.').collect();
    let ok = !parts.is_empty()
        && parts.len() <= max_parts
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    ok.then(|| text.to_owned())
}

/// The first `N` or `N.M` in a version constraint (`>=3.10,<4` → `3.10`, `^20.1` → `20.1`).
fn first_version(text: &str) -> Option<String> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let rest = text.get(start..)?;
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let parts: Vec<&str> = rest
        .get(..end)?
        .split('.')
        .filter(|p| !p.is_empty())
        .take(2)
        .collect();
    (!parts.is_empty()).then(|| parts.join("."))
}

fn python_version(dir: &Path) -> String {
    if let Some(version) = read(dir, ".python-version")
        .and_then(|t| t.lines().next().map(str::to_owned))
        .and_then(|line| plain_version(&line, 3))
    {
        return version;
    }
    let requires = read(dir, "pyproject.toml").and_then(|text| {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with("requires-python"))
            .and_then(|l| l.split_once('='))
            .and_then(|(_, value)| first_version(value))
    });
    requires.unwrap_or_else(|| PYTHON_DEFAULT.to_owned())
}

/// Requirement names, PEP 503-normalised: a uv project's `[project].dependencies`, else
/// requirements.txt's; none when the file does not parse (`check` says why).
fn requirement_names(dir: &Path, pyproject: bool) -> BTreeSet<String> {
    let text = if pyproject {
        // `[project].dependencies`, or Poetry 1.x's `[tool.poetry.dependencies]` names.
        let table = read(dir, "pyproject.toml")
            .and_then(|text| toml::from_str::<toml::Table>(&text).ok())
            .unwrap_or_default();
        let listed = table
            .get("project")
            .and_then(|p| p.get("dependencies"))
            .and_then(toml::Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(toml::Value::as_str)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            });
        let poetry = || {
            table
                .get("tool")
                .and_then(|t| t.get("poetry"))
                .and_then(|p| p.get("dependencies"))
                .and_then(toml::Value::as_table)
                .map(|deps| {
                    deps.keys()
                        .filter(|name| *name != "python")
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };
        listed.unwrap_or_else(poetry).join("\n")
    } else {
        read(dir, "requirements.txt").unwrap_or_default()
    };
    RequirementsFile::parse("requirements.txt", &text)
        .map(|parsed| parsed.requirements().map(|r| r.name.to_string()).collect())
        .unwrap_or_default()
}

/// The folder's dependencies are its pyproject.toml's (with uv.lock or poetry.lock, or a
/// `[project]` table and no requirements.txt), as the build detects it.
fn pyproject_project(dir: &Path) -> bool {
    let locked = has_file(dir, "uv.lock") || has_file(dir, "poetry.lock");
    let table =
        read(dir, "pyproject.toml").and_then(|text| toml::from_str::<toml::Table>(&text).ok());
    match table {
        None => false,
        Some(_) if locked => true,
        Some(table) => table.contains_key("project") && !has_file(dir, "requirements.txt"),
    }
}

fn python_project(dir: &Path) -> Kind {
    // What the build detects: a lock beside pyproject.toml, else requirements.txt, else a
    // pyproject.toml with a [project] table.
    let uv = pyproject_project(dir);
    let names = requirement_names(dir, uv);
    let has = |name: &str| names.contains(name);
    let module = asgi_module(dir);
    let bind = "0.0.0.0:8000";
    let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let command = if has("django") {
        let project = django_project(dir);
        if has("gunicorn") {
            Some(strings(&[
                "gunicorn",
                "--bind",
                bind,
                &format!("{}.wsgi", project.as_deref().unwrap_or("project")),
            ]))
        } else {
            Some(strings(&["python", "manage.py", "runserver", bind]))
        }
    } else if has("uvicorn") {
        Some(strings(&[
            "uvicorn", &module, "--host", "0.0.0.0", "--port", "8000",
        ]))
    } else if has("gunicorn") {
        Some(strings(&["gunicorn", "--bind", bind, &module]))
    } else if has("flask") {
        let app = module.split(':').next().unwrap_or("app");
        Some(strings(&[
            "flask", "--app", app, "run", "--host", "0.0.0.0", "--port", "8000",
        ]))
    } else {
        None
    };
    Kind::Python {
        version: python_version(dir),
        uv,
        port: command.as_ref().map(|_| 8000),
        command,
    }
}

/// `module:app` for uvicorn/gunicorn, from the usual file layouts.
fn asgi_module(dir: &Path) -> String {
    let candidates = [
        ("app/main.py", "app.main:app"),
        ("src/main.py", "src.main:app"),
        ("main.py", "main:app"),
        ("app.py", "app:app"),
        ("wsgi.py", "wsgi:app"),
    ];
    candidates
        .iter()
        .find(|(file, _)| has_file(dir, file))
        .map_or("main:app", |(_, module)| module)
        .to_owned()
}

/// The Django project package: the folder next to manage.py holding `wsgi.py`.
fn django_project(dir: &Path) -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && has_file(&e.path(), "wsgi.py"))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.into_iter().next()
}

fn node_project(dir: &Path) -> Kind {
    let package: serde_json::Value = read(dir, "package.json")
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let engines = package
        .pointer("/engines/node")
        .and_then(serde_json::Value::as_str)
        .and_then(first_version)
        .and_then(|v| v.split('.').next().map(str::to_owned));
    let nvmrc = read(dir, ".nvmrc")
        .and_then(|t| t.lines().next().map(str::to_owned))
        .and_then(|line| plain_version(&line, 3))
        .and_then(|v| v.split('.').next().map(str::to_owned));
    let version = engines.or(nvmrc).unwrap_or_else(|| NODE_DEFAULT.to_owned());
    let depends_on = |name: &str| {
        ["dependencies", "devDependencies"]
            .iter()
            .any(|section| package.get(section).and_then(|d| d.get(name)).is_some())
    };
    let output = if depends_on("@angular/core") || has_file(dir, "angular.json") {
        Some(angular_output(dir, &package))
    } else if depends_on("react-scripts") {
        Some("build".to_owned())
    } else {
        // Vite and most others build into dist, the spec's default.
        None
    };
    Kind::Node { version, output }
}

/// Angular's output folder: angular.json's `outputPath` (plus `browser` for the application
/// builder of Angular 17+), else `dist/<package name>/browser`.
fn angular_output(dir: &Path, package: &serde_json::Value) -> String {
    let angular: Option<serde_json::Value> =
        read(dir, "angular.json").and_then(|t| serde_json::from_str(&t).ok());
    let build = angular.as_ref().and_then(|a| {
        let projects = a.get("projects")?.as_object()?;
        let name = a
            .get("defaultProject")
            .and_then(serde_json::Value::as_str)
            .filter(|n| projects.contains_key(*n));
        let project = match name {
            Some(n) => projects.get(n)?,
            None => projects.values().next()?,
        };
        project.pointer("/architect/build")
    });
    if let Some(build) = build {
        let application = build
            .get("builder")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|b| b.ends_with(":application"));
        let output = build.pointer("/options/outputPath");
        let (base, browser) = match output {
            Some(serde_json::Value::String(path)) => (Some(path.clone()), None),
            Some(object) => (
                object
                    .get("base")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned),
                object
                    .get("browser")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned),
            ),
            None => (None, None),
        };
        if let Some(base) = base {
            let base = base.trim_end_matches('/').to_owned();
            return match (application, browser) {
                (true, Some(b)) if b.is_empty() => base,
                (true, Some(b)) => format!("{base}/{b}"),
                (true, None) => format!("{base}/browser"),
                (false, _) => base,
            };
        }
    }
    let name = package
        .get("name")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("app");
    format!("dist/{name}/browser")
}

/// A service name (`^[a-z][a-z0-9_-]{0,62}$`) from a folder name.
fn service_name(folder: &str, fallback: &str) -> String {
    let lowered: String = folder
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = lowered.trim_start_matches(|c: char| !c.is_ascii_lowercase());
    let mut name: String = trimmed.chars().take(63).collect();
    if name.is_empty() {
        name = fallback.to_owned();
    }
    name
}

/// A YAML scalar: plain when that reads back as the same string, else double-quoted (a JSON
/// string is a valid YAML double-quoted scalar).
fn scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./-".contains(&b))
        && text.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && !matches!(
            text.to_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain {
        text.to_owned()
    } else {
        serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
    }
}

fn list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| scalar(i)).collect();
    format!("[{}]", items.join(", "))
}

/// The spec text.
pub fn render(syntax: &str, found: &[Found], root_name: &str) -> String {
    let mut used = BTreeSet::new();
    let mut out = String::new();
    let _ = writeln!(out, "# syntax={syntax}");
    let _ = writeln!(
        out,
        "# Written by `layercake init`. Reference: docs/spec.md; check with `layercake check`."
    );
    let _ = writeln!(out, "\nservices:");
    for project in found {
        let folder = project.path.rsplit('/').next().unwrap_or_default();
        let folder = if folder.is_empty() { root_name } else { folder };
        let (fallback, suffix) = match project.kind {
            Kind::Python { .. } => ("api", "api"),
            Kind::Node { .. } => ("web", "web"),
        };
        let mut name = service_name(folder, fallback);
        if used.contains(&name) {
            name = format!("{name}-{suffix}");
        }
        let mut n = 2;
        while used.contains(&name) {
            name = format!("{}-{n}", service_name(folder, fallback));
            n += 1;
        }
        used.insert(name.clone());
        let _ = writeln!(out, "  {name}:");
        if !project.path.is_empty() {
            let _ = writeln!(out, "    path: {}", scalar(&project.path));
        }
        match &project.kind {
            Kind::Python {
                version,
                uv,
                command,
                port,
            } => {
                let _ = writeln!(out, "    python:");
                let _ = writeln!(out, "      version: \"{version}\"");
                if *uv {
                    let _ = writeln!(
                        out,
                        "      # pyproject.toml's dependencies (its lock's, when it has one): the main ones; add `extras:` or `groups:`"
                    );
                } else {
                    let _ = writeln!(out, "      requirements: requirements.txt");
                }
                match command {
                    Some(command) => {
                        let _ = writeln!(out, "    command: {}", list(command));
                    }
                    None => {
                        let _ = writeln!(
                            out,
                            "    # command: [python, main.py]   # no web framework recognised: say how to start it"
                        );
                    }
                }
                if let Some(port) = port {
                    let _ = writeln!(out, "    port: {port}");
                    // Healthy once the port accepts connections: true of any server, unlike a
                    // guessed URL. An `http:` check on a real endpoint is better.
                    let _ = writeln!(out, "    healthcheck:");
                    let _ = writeln!(
                        out,
                        "      command: [python3, -c, \"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5)\"]"
                    );
                    let _ = writeln!(
                        out,
                        "      # http: /health   # better: a cheap endpoint of the app (and drop `command`)"
                    );
                }
            }
            Kind::Node { version, output } => {
                let _ = writeln!(out, "    node:");
                let _ = writeln!(out, "      version: \"{version}\"");
                if let Some(output) = output {
                    let _ = writeln!(out, "      output: {}", scalar(output));
                }
                let _ = writeln!(out, "    serve:");
                let _ = writeln!(out, "      nginx:");
                let _ = writeln!(out, "        spa: true");
                let _ = writeln!(out, "    healthcheck:");
                let _ = writeln!(out, "      http: /");
            }
        }
        out.push('\n');
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_constraints() {
        assert_eq!(first_version(">=3.10,<4").as_deref(), Some("3.10"));
        assert_eq!(first_version("^20.11.1").as_deref(), Some("20.11"));
        assert_eq!(first_version("18.x").as_deref(), Some("18"));
        assert_eq!(first_version("lts/*"), None);
        assert_eq!(plain_version("v20.11.0\n", 3).as_deref(), Some("20.11.0"));
        assert_eq!(plain_version("pypy3.10", 3), None);
    }

    #[test]
    fn scalars_are_quoted_only_when_yaml_would_misread_them() {
        assert_eq!(scalar("app.main:app"), "\"app.main:app\"");
        assert_eq!(scalar("uvicorn"), "uvicorn");
        assert_eq!(scalar("8000"), "\"8000\"");
        assert_eq!(scalar("0.0.0.0"), "\"0.0.0.0\"");
        assert_eq!(scalar("--host"), "\"--host\"");
        assert_eq!(scalar("no"), "\"no\"");
        assert_eq!(scalar("dist/app/browser"), "dist/app/browser");
    }

    #[test]
    fn service_names_follow_the_spec_rule() {
        assert_eq!(service_name("Backend", "api"), "backend");
        assert_eq!(service_name("2fa service", "api"), "fa-service");
        assert_eq!(service_name("123", "api"), "api");
    }
}

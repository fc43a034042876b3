//! Checks a careful reviewer would make: dependency files that break caching or `npm ci`,
//! and image settings that are usually a mistake. Pure: the caller reads the files.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::PlanError;
use crate::planner::locked_dependencies;
use crate::planner::{ContextFiles, Wanted, files_to_read, join_in_context};
use crate::python_deps::{collect, requirement_closure};
use crate::python_project::{Project, locked_files, project};
use crate::settings::{NpmInstall, PythonSettings, RunAs, ServiceSettings, Toolchain};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The build will fail or behave wrongly.
    Error,
    /// The build works, but slower or less safely than it could.
    Warning,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable id, e.g. `UnpinnedRequirements`.
    pub rule: &'static str,
    pub severity: Severity,
    pub service: String,
    pub message: String,
    /// The file it is about (context-relative), when it is not the spec itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line in `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// Files the checks of `services` read (beyond requirement files): npm manifests.
pub fn lint_files(services: &[ServiceSettings]) -> Vec<String> {
    let mut files = Vec::new();
    for service in services {
        if let Toolchain::Node(_) = service.toolchain {
            for name in ["package.json", "package-lock.json"] {
                if let Some(path) = join_in_context(&service.path, name) {
                    files.push(path);
                }
            }
        }
    }
    files
}

/// What the checks of `services` still need that `known` lacks: the npm manifests and every
/// service's requirement files, following `-r`/`-c` includes as `known` fills up. Asked round by
/// round by [`crate::gather`] (`FileScope::Checks`), which never asks for a path twice.
pub(crate) fn lint_files_to_read(services: &[ServiceSettings], known: &ContextFiles) -> Wanted {
    let mut wanted = Wanted {
        required: lint_files(services),
        optional: Vec::new(),
    };
    for service in services {
        // A service whose requirement paths leave the context gets its finding from `lint`.
        if let Ok(more) = files_to_read(services, &service.name, known, &Default::default()) {
            wanted.optional.extend(more.optional);
            wanted.required.extend(more.required);
        }
    }
    for list in [&mut wanted.required, &mut wanted.optional] {
        list.retain(|path| !known.contains_key(path));
        list.sort();
        list.dedup();
    }
    let required = wanted.required.clone();
    wanted.optional.retain(|path| !required.contains(path));
    wanted
}

/// Runs every check on `services`; `files` holds whatever of [`lint_files`] and the requirement
/// files exists (a missing key means the file does not exist).
pub fn lint(services: &[ServiceSettings], files: &ContextFiles) -> Vec<Finding> {
    let mut findings = Vec::new();
    for service in services {
        let mut add = |rule, severity, message: String, file: Option<String>, line| {
            findings.push(Finding {
                rule,
                severity,
                service: service.name.clone(),
                message,
                file,
                line,
            });
        };
        if service.user == RunAs::Root {
            add(
                "RootUser",
                Severity::Warning,
                "the image runs as root; drop `user: root` unless the process needs it".into(),
                None,
                None,
            );
        }
        match &service.toolchain {
            Toolchain::Python(py) => {
                if service.healthcheck.is_none() {
                    add(
                        "NoHealthcheck",
                        Severity::Warning,
                        "no healthcheck: orchestrators cannot tell when the service is ready; \
                         add `healthcheck: { http: /health }`"
                            .into(),
                        None,
                        None,
                    );
                }
                for item in stray_pip_flag_items(&py.pip_flags) {
                    add(
                        "PipFlagNotAnOption",
                        Severity::Warning,
                        format!(
                            "`pip_flags` item `{item}` is neither an option nor the value of the \
                             option before it, so pip reads it as one more requirement of every \
                             wheel step. In a YAML flow list a comma starts a new item: quote a \
                             flag that holds commas, e.g. `\"--no-binary=markupsafe,pyyaml\"`"
                        ),
                        None,
                        None,
                    );
                }
                let project = match project(service, py, files) {
                    Ok(project) => project,
                    Err(error) => {
                        let (rule, severity, message, file, line) = plan_error_finding(&error);
                        add(rule, severity, message, file, line);
                        continue;
                    }
                };
                // A uv or Poetry project: the lock read as the build reads it (stale,
                // unreadable, something it cannot build).
                let lock = match &project {
                    Project::Uv(_) => Some("uv.lock"),
                    Project::Poetry(_) => Some("poetry.lock"),
                    Project::Requirements(_) | Project::Pyproject(_) => None,
                };
                if let Some(lock) = lock {
                    if let Err(error) = locked_dependencies(service, py, &project, files) {
                        let (rule, severity, message, file, line) = plan_error_finding(&error);
                        let file = file.or_else(|| locked_files(service, lock).map(|(_, l)| l));
                        add(rule, severity, message, file, line);
                    }
                    continue;
                }
                let mut all_present = true;
                for file in project.requirement_files() {
                    let Some(path) = join_in_context(&service.path, file) else {
                        continue;
                    };
                    if !files.contains_key(&path) {
                        all_present = false;
                        add(
                            "MissingRequirements",
                            Severity::Error,
                            format!("`{path}` does not exist in the build context"),
                            Some(path.clone()),
                            None,
                        );
                    }
                }
                if all_present {
                    for finding in requirement_findings(service, py, files) {
                        let (rule, severity, message, file, line) = finding;
                        add(rule, severity, message, file, line);
                    }
                }
            }
            Toolchain::Node(node) => {
                let manifest = join_in_context(&service.path, "package.json").unwrap_or_default();
                let lockfile =
                    join_in_context(&service.path, "package-lock.json").unwrap_or_default();
                let Some(manifest_text) = files.get(&manifest) else {
                    add(
                        "MissingPackageJson",
                        Severity::Error,
                        format!("`{manifest}` does not exist in the build context"),
                        Some(manifest.clone()),
                        None,
                    );
                    continue;
                };
                // Not JSON: say where, as file:line:col, and check nothing else of it.
                let broken: Vec<(String, usize, String)> = [
                    (&manifest, Some(manifest_text)),
                    (&lockfile, files.get(&lockfile)),
                ]
                .into_iter()
                .filter_map(|(path, text)| Some((path, json_error(path, text?)?)))
                .map(|(path, (line, message))| (path.clone(), line, message))
                .collect();
                if !broken.is_empty() {
                    for (path, line, message) in broken {
                        add(
                            "InvalidJson",
                            Severity::Error,
                            message,
                            Some(path),
                            Some(line),
                        );
                    }
                    continue;
                }
                match files.get(&lockfile) {
                    None if node.install == NpmInstall::Ci => add(
                        "MissingLockfile",
                        Severity::Error,
                        format!(
                            "`{lockfile}` is missing, and `npm ci` needs it: run `npm install` and \
                             commit the lockfile (or set `install: install`)"
                        ),
                        Some(lockfile.clone()),
                        None,
                    ),
                    None => {}
                    Some(lock_text) => {
                        for problem in lockfile_drift(manifest_text, lock_text) {
                            add(
                                "LockfileOutOfSync",
                                Severity::Error,
                                format!(
                                    "{problem}: `npm ci` will refuse it; run `npm install` and commit \
                                     package-lock.json"
                                ),
                                Some(lockfile.clone()),
                                None,
                            );
                        }
                    }
                }
            }
        }
    }
    findings
}

type RawFinding = (
    &'static str,
    Severity,
    String,
    Option<String>,
    Option<usize>,
);

/// What the build would do wrong with a service's requirements, found the way the plan reads
/// them: the same parse, the same includes, the same conflict rule. Top-level pins, ranges and
/// unpinned names are fine: the lock stage resolves them.
fn requirement_findings(
    service: &ServiceSettings,
    py: &PythonSettings,
    files: &ContextFiles,
) -> Vec<RawFinding> {
    let closure = match requirement_closure(service, py, files) {
        Ok(closure) => closure,
        Err(error) => return vec![plan_error_finding(&error)],
    };
    let mut findings = Vec::new();
    for path in closure.iter().filter(|path| !files.contains_key(*path)) {
        findings.push((
            "MissingRequirements",
            Severity::Error,
            format!("`{path}` is included with `-r`/`-c` but does not exist in the build context"),
            Some(path.clone()),
            None,
        ));
    }
    if !findings.is_empty() {
        return findings;
    }
    match collect(service, py, &closure, files) {
        Err(error) => findings.push(plan_error_finding(&error)),
        Ok(collected) => {
            if let Some((file, line, text)) = collected.direct.first() {
                findings.push((
                    "DirectReferences",
                    Severity::Warning,
                    format!(
                        "{} requirement(s) are editables, URLs or paths (first: `{text}`): they \
                         have no version to cache by, so the service's wheels are built in one \
                         step over its requirement files and any change to them rebuilds every \
                         wheel. Build such a package from the service's code, or publish it to \
                         an index and pin it",
                        collected.direct.len()
                    ),
                    Some(file.clone()),
                    Some(*line),
                ));
            }
        }
    }
    findings
}

fn plan_error_finding(error: &PlanError) -> RawFinding {
    match error {
        PlanError::Requirements(error) => (
            "InvalidRequirement",
            Severity::Error,
            error.to_string(),
            Some(error.file.clone()),
            Some(error.line),
        ),
        PlanError::NotARequirementsFile { file, .. } => (
            "NotARequirementsFile",
            Severity::Error,
            error.to_string(),
            Some(file.clone()),
            None,
        ),
        PlanError::LockStale { .. } => {
            ("LockStale", Severity::Error, error.to_string(), None, None)
        }
        PlanError::UvLock { .. } | PlanError::PoetryLock { .. } => (
            "UnreadableLock",
            Severity::Error,
            error.to_string(),
            None,
            None,
        ),
        PlanError::MissingFile { path, .. } => (
            "MissingProjectFile",
            Severity::Error,
            error.to_string(),
            Some(path.clone()),
            None,
        ),
        PlanError::NoPythonProject { .. } | PlanError::SelectionWithoutProject { .. } => (
            "NoPythonProject",
            Severity::Error,
            error.to_string(),
            None,
            None,
        ),
        PlanError::ConflictingPins { .. } => (
            "ConflictingPins",
            Severity::Error,
            error.to_string(),
            None,
            None,
        ),
        _ => (
            "RequirementFiles",
            Severity::Error,
            error.to_string(),
            None,
            None,
        ),
    }
}

/// `pip_flags` items that are neither an option (`-x`, `--x`, `--x=v`) nor the value of the option
/// before them (`--index-url`, `URL` as two items): a comma split `[--no-binary=a,b]` leaves `b`.
fn stray_pip_flag_items(flags: &[String]) -> Vec<&str> {
    let mut stray = Vec::new();
    let mut value_may_follow = false;
    for flag in flags {
        if flag.starts_with('-') {
            // `--index-url URL` takes its value as the next item; `--index-url=URL` does not.
            value_may_follow = !flag.contains('=');
        } else {
            if !value_may_follow {
                stray.push(flag.as_str());
            }
            value_may_follow = false;
        }
    }
    stray
}

const DEPENDENCY_KINDS: [&str; 3] = ["dependencies", "devDependencies", "optionalDependencies"];

/// Where `text` (the file at `path`) stops being JSON: its line, and `path:line:col: …`.
fn json_error(path: &str, text: &str) -> Option<(usize, String)> {
    let error = serde_json::from_str::<serde_json::Value>(text).err()?;
    let (line, column) = (error.line(), error.column());
    let shown_column = column.max(1);
    let full = error.to_string();
    let reason = full
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&full);
    Some((
        line,
        format!("{path}:{line}:{shown_column}: not valid JSON: {reason}"),
    ))
}

/// Differences between package.json's dependencies and what the lockfile recorded for the root
/// package (`packages[""]`, lockfile v2/v3).
fn lockfile_drift(manifest: &str, lockfile: &str) -> Vec<String> {
    let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
    let (Some(manifest), Some(lock)) = (parse(manifest), parse(lockfile)) else {
        return vec!["package.json or package-lock.json is not valid JSON".into()];
    };
    let Some(root) = lock.get("packages").and_then(|p| p.get("")) else {
        return vec![
            "the lockfile has no root package entry (lockfileVersion 1?); regenerate it with npm 7 or newer"
                .into(),
        ];
    };
    let deps = |value: &serde_json::Value| -> BTreeMap<String, String> {
        DEPENDENCY_KINDS
            .iter()
            .filter_map(|kind| value.get(kind).and_then(|d| d.as_object()))
            .flat_map(|map| {
                map.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            })
            .collect()
    };
    let wanted = deps(&manifest);
    let locked = deps(root);
    let mut problems = Vec::new();
    for (name, spec) in &wanted {
        match locked.get(name) {
            None => problems.push(format!(
                "`{name}` is in package.json but not in the lockfile"
            )),
            Some(locked_spec) if locked_spec != spec => problems.push(format!(
                "`{name}` is `{spec}` in package.json but `{locked_spec}` in the lockfile"
            )),
            Some(_) => {}
        }
    }
    for name in locked.keys().filter(|name| !wanted.contains_key(*name)) {
        problems.push(format!(
            "`{name}` is in the lockfile but no longer in package.json"
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stray_pip_flag_items_are_the_ones_no_option_takes() {
        let flags = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        // `[--no-binary=markupsafe,pyyaml]` in YAML flow syntax: two items.
        let split = flags(&["--no-binary=markupsafe", "pyyaml"]);
        assert_eq!(stray_pip_flag_items(&split), ["pyyaml"]);
        assert_eq!(stray_pip_flag_items(&flags(&["pyyaml"])), ["pyyaml"]);
        let fine = flags(&[
            "--prefer-binary",
            "--extra-index-url",
            "https://pypi.example/simple",
            "-f",
            "/wheels",
            "--no-binary=markupsafe,pyyaml",
        ]);
        assert!(stray_pip_flag_items(&fine).is_empty());
        // A value is taken once: the item after it is stray again.
        let twice = flags(&["--index-url", "https://a/simple", "https://b/simple"]);
        assert_eq!(stray_pip_flag_items(&twice), ["https://b/simple"]);
    }

    #[test]
    fn drift_finds_added_changed_and_removed_dependencies() {
        let manifest = r#"{"dependencies":{"react":"^18.3.1","zod":"^3"},"devDependencies":{"vite":"^5.4.0"}}"#;
        let lock = r#"{"lockfileVersion":3,"packages":{"":{"dependencies":{"react":"^18.2.0","left-pad":"1"},"devDependencies":{"vite":"^5.4.0"}}}}"#;
        let problems = lockfile_drift(manifest, lock);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("`react` is `^18.3.1`"));
        assert!(problems[1].contains("`zod` is in package.json but not"));
        assert!(problems[2].contains("`left-pad` is in the lockfile"));
    }

    #[test]
    fn json_errors_name_file_line_and_column() {
        let (line, message) = json_error("web/package.json", "{\n  \"a\": 1,\n  oops\n}").unwrap();
        assert_eq!(line, 3);
        assert!(
            message.starts_with("web/package.json:3:3: not valid JSON: "),
            "{message}"
        );
        assert!(!message.contains(" at line "), "{message}");
        assert_eq!(json_error("x", "{}"), None);
    }

    #[test]
    fn in_sync_lockfile_has_no_drift() {
        let manifest = r#"{"devDependencies":{"vite":"^5.4.0"}}"#;
        let lock = r#"{"packages":{"":{"devDependencies":{"vite":"^5.4.0"}}}}"#;
        assert!(lockfile_drift(manifest, lock).is_empty());
    }
}

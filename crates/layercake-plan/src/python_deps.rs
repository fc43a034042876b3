//! What a python service installs, decided once: its requirement files (with their `-r`/`-c`
//! includes, in the order they are listed), the spec's extra packages, and — when that is not
//! already a complete closure — the lock stage's answer. The planner turns the answer into steps.

use std::collections::BTreeMap;

use pep508_rs::PackageName;

use crate::error::PlanError;
use crate::lock::Lock;
use crate::locked::LockedClosure;
use crate::planner::{ContextFiles, LocalBuild, join_in_context};
use crate::pyproject::pyproject_requirements;
use crate::python_project::{Project, project};
use crate::requirements::{LineKind, Requirement, RequirementsFile};
use crate::settings::{PythonSettings, ServiceSettings};

/// How deep `-r` includes may nest: deeper is a loop in all but name, or a hostile context.
pub const MAX_INCLUDE_DEPTH: usize = 16;
/// The most bytes a service's requirement files may hold together: they travel in gRPC messages
/// and their lines become step arguments, and BuildKit's messages stop at 16 MiB.
pub const MAX_REQUIREMENT_BYTES: usize = 4 * 1024 * 1024;

/// The requirement files of a service, context-relative: the declared ones, then what they
/// include, depth first in the order written (pip's order). Files not in `known` yet are listed
/// but not followed; the caller reads them and asks again.
pub(crate) fn requirement_closure(
    service: &ServiceSettings,
    py: &PythonSettings,
    known: &ContextFiles,
) -> Result<Vec<String>, PlanError> {
    let mut ordered: Vec<String> = Vec::new();
    let mut bytes = 0usize;
    // (path, depth, the file that named it): a stack, pushed in reverse to visit in order.
    let mut stack: Vec<(String, usize, Option<String>)> = Vec::new();
    let declared = match project(service, py, known)? {
        Project::Requirements(files) => files,
        Project::Uv(_) | Project::Poetry(_) | Project::Pyproject(_) => return Ok(Vec::new()),
    };
    for file in declared.iter().rev() {
        let path =
            join_in_context(&service.path, file).ok_or_else(|| PlanError::OutsideContext {
                service: service.name.clone(),
                path: file.clone(),
            })?;
        stack.push((path, 0, None));
    }
    while let Some((path, depth, named_by)) = stack.pop() {
        if ordered.contains(&path) {
            continue;
        }
        if depth > MAX_INCLUDE_DEPTH {
            return Err(PlanError::IncludesTooDeep {
                service: service.name.clone(),
                file: named_by.unwrap_or_default(),
                limit: MAX_INCLUDE_DEPTH,
            });
        }
        ordered.push(path.clone());
        let Some(contents) = known.get(&path) else {
            continue;
        };
        bytes += contents.len();
        if bytes > MAX_REQUIREMENT_BYTES {
            return Err(PlanError::RequirementsTooLarge {
                service: service.name.clone(),
                file: path,
                limit: MAX_REQUIREMENT_BYTES,
            });
        }
        let Ok(parsed) = RequirementsFile::parse(&path, contents) else {
            // Reported with its position when the requirements are collected.
            continue;
        };
        let parent = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let included: Vec<&str> = parsed.referenced_files().collect();
        for reference in included.into_iter().rev() {
            // An absolute path names the machine's file system, never the context.
            let included = (!reference.starts_with('/'))
                .then(|| join_in_context(parent, reference))
                .flatten()
                .ok_or_else(|| PlanError::IncludeOutsideContext {
                    service: service.name.clone(),
                    file: path.clone(),
                    include: reference.to_owned(),
                })?;
            stack.push((included, depth + 1, Some(path.clone())));
        }
    }
    Ok(ordered)
}

/// Every requirement of a service's files and its spec, read once.
#[derive(Debug)]
pub(crate) struct Collected {
    /// Global option lines (`--index-url`, …), in first-seen order: every pip step needs them.
    pub options: Vec<String>,
    /// Requirements by name, in the order the files list them; a line repeated exactly is kept
    /// once, pins of one package under disjoint markers are all kept.
    pub requirements: Vec<Requirement>,
    /// Editables, URLs and paths: installed as written, with no version to cache by.
    pub direct: Vec<(String, usize, String)>,
    /// Every file that holds requirements was written by a locking tool.
    all_generated: bool,
    /// Requirements beside the files, resolved with them: a PEP 621 project's (its
    /// dependencies, extras and groups), then the spec's `packages.pip`.
    pub packages: Vec<String>,
    /// A PEP 621 project that is a package (it is built from its code).
    pub package: Option<LocalBuild>,
}

impl Collected {
    /// Whether the files are already the complete pinned closure, so no lock stage is needed:
    /// every requirement pins one version and either a locking tool wrote every file (its
    /// header says so) or every line carries `--hash` (pip's hash-checking mode refuses a
    /// closure with a dependency missing). A hand-written file of `==` pins is most often the
    /// top-level packages only, so it is resolved. Either way `resolve` proves the set complete
    /// at build time, with the network off.
    pub fn is_complete_closure(&self) -> bool {
        !self.requirements.is_empty()
            && self.direct.is_empty()
            && self.packages.is_empty()
            && self.requirements.iter().all(|r| r.pin.is_some())
            && (self.all_generated || self.requirements.iter().all(|r| !r.hashes.is_empty()))
    }

    /// Nothing to install at all (`requirements: []` and no packages).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty() && self.direct.is_empty() && self.packages.is_empty()
    }

    /// How the set is built: the one decision the plan, the lock plan and `--call outline`
    /// share.
    pub fn route(&self) -> Route {
        if self.is_empty() {
            Route::Nothing
        } else if self.is_complete_closure() {
            Route::Closure
        } else if !self.direct.is_empty() {
            Route::Files
        } else {
            Route::Lock
        }
    }
}

/// How a service's requirement set is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Nothing to install.
    Nothing,
    /// The files are the complete pinned closure: built per package as they are.
    Closure,
    /// Editables, URLs or paths: one `pip wheel -r` step over the files.
    Files,
    /// Resolved in the lock stage, then built per package from its answer.
    Lock,
}

/// Reads every requirement of `files` (the service's closure, in order) and the spec's packages.
/// Two pins of one package to different versions whose markers can both hold are an error
/// naming both lines.
pub(crate) fn collect(
    service: &ServiceSettings,
    py: &PythonSettings,
    files: &[String],
    contents: &ContextFiles,
) -> Result<Collected, PlanError> {
    let mut options: Vec<String> = Vec::new();
    let mut requirements: Vec<Requirement> = Vec::new();
    let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut direct = Vec::new();
    let mut all_generated = true;
    for path in files {
        let Some(text) = contents.get(path) else {
            return Err(PlanError::MissingFile {
                service: service.name.clone(),
                path: path.clone(),
            });
        };
        let parsed = RequirementsFile::parse(path, text).map_err(|error| {
            if looks_like_another_format(path, text) {
                PlanError::NotARequirementsFile {
                    service: service.name.clone(),
                    file: path.clone(),
                }
            } else {
                PlanError::Requirements(error)
            }
        })?;
        let mut holds_requirements = false;
        for line in parsed.lines {
            match line.kind {
                LineKind::Requirement(requirement) => {
                    holds_requirements = true;
                    let same_name = by_name.entry(requirement.name.to_string()).or_default();
                    let mut repeated = false;
                    for &index in same_name.iter() {
                        let earlier: &Requirement = &requirements[index];
                        if earlier.pin == requirement.pin && earlier.marker == requirement.marker {
                            repeated = true;
                            break;
                        }
                        let both_pinned = earlier.pin.is_some() && requirement.pin.is_some();
                        if both_pinned && !earlier.marker.is_disjoint(&requirement.marker) {
                            return Err(PlanError::ConflictingPins {
                                service: service.name.clone(),
                                name: requirement.name.to_string(),
                                first: format!("{} (`{}`)", earlier.location(), earlier.unhashed()),
                                second: format!(
                                    "{} (`{}`)",
                                    requirement.location(),
                                    requirement.unhashed()
                                ),
                            });
                        }
                    }
                    if !repeated {
                        same_name.push(requirements.len());
                        requirements.push(requirement);
                    }
                }
                LineKind::Direct(text) => {
                    holds_requirements = true;
                    direct.push((path.clone(), line.line, text));
                }
                LineKind::Option(text) => {
                    if !options.contains(&text) {
                        options.push(text);
                    }
                }
                LineKind::Include(_) | LineKind::Constraint(_) => {}
            }
        }
        if holds_requirements && !parsed.generated_lock {
            all_generated = false;
        }
    }
    let mut packages = Vec::new();
    let mut package = None;
    if let Project::Pyproject(selection) = project(service, py, contents)? {
        let path = join_in_context(&service.path, "pyproject.toml").ok_or_else(|| {
            PlanError::OutsideContext {
                service: service.name.clone(),
                path: service.path.clone(),
            }
        })?;
        let text = contents.get(&path).ok_or_else(|| PlanError::MissingFile {
            service: service.name.clone(),
            path: path.clone(),
        })?;
        let read =
            pyproject_requirements(text, selection).map_err(|error| PlanError::Pyproject {
                service: service.name.clone(),
                error,
            })?;
        packages = read.requirements;
        package = read
            .is_package
            .then(|| LocalBuild::project(read.name, service.path.clone()));
    }
    packages.extend(py.pip_packages.iter().cloned());
    Ok(Collected {
        options,
        requirements,
        direct,
        all_generated,
        packages,
        package,
    })
}

/// A file given as `requirements:` that is plainly something else (pyproject.toml, a lock of
/// another tool): said as such instead of as its first unparsable line.
fn looks_like_another_format(path: &str, text: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let other_extension = [".toml", ".lock", ".json", ".yaml", ".yml", ".cfg", ".py"]
        .iter()
        .any(|ext| name.ends_with(ext));
    other_extension
        || text.lines().any(|line| {
            let line = line.trim();
            line.starts_with('[') && line.ends_with(']') || line.starts_with('{')
        })
}

/// One requirement of a wheel step and its install layer.
#[derive(Debug, Clone)]
pub(crate) struct PinnedRequirement {
    /// The bucket key.
    pub name: PackageName,
    /// The line the wheel step builds (`--hash` options and markers included).
    pub line: String,
    /// The line without `--hash`: what installs from the built wheel.
    pub unhashed: String,
    /// `name==version`, for step names.
    pub shown: String,
}

/// A pinned closure, ready to be built one bucket at a time.
#[derive(Debug, Clone)]
pub(crate) struct PinnedRequirements {
    /// Global option lines (`--index-url`, …), kept for every wheel step.
    pub options: Vec<String>,
    /// Sorted by name; one name may have several lines (disjoint markers).
    pub requirements: Vec<PinnedRequirement>,
}

impl PinnedRequirements {
    /// The files' own lines, when they are a complete closure.
    pub fn from_files(collected: &Collected) -> PinnedRequirements {
        let mut requirements: Vec<PinnedRequirement> = collected
            .requirements
            .iter()
            .map(|r| PinnedRequirement {
                name: r.name.clone(),
                line: r.text.clone(),
                unhashed: r.unhashed().to_owned(),
                shown: r.shown(),
            })
            .collect();
        requirements.sort_by(|a, b| a.name.cmp(&b.name));
        PinnedRequirements {
            options: collected.options.clone(),
            requirements,
        }
    }

    /// The lock stage's closure. Its hashes pin the files of each release the index lists
    /// (pip's hash-checking mode wants all lines hashed or none, so they are used only when
    /// every package has some).
    pub fn from_lock(collected: &Collected, lock: &Lock) -> PinnedRequirements {
        let hashed = lock.packages.iter().all(|p| !p.hashes.is_empty());
        let requirements = lock
            .packages
            .iter()
            .map(|package| {
                let pin = format!("{}=={}", package.name, package.version);
                let mut line = pin.clone();
                if hashed {
                    for hash in &package.hashes {
                        line.push_str(" --hash=");
                        line.push_str(hash);
                    }
                }
                PinnedRequirement {
                    name: package.name.clone(),
                    line,
                    unhashed: pin.clone(),
                    shown: pin,
                }
            })
            .collect();
        PinnedRequirements {
            options: collected.options.clone(),
            requirements,
        }
    }
}

impl PinnedRequirements {
    /// A locked project's packages (uv.lock, poetry.lock): each pinned, under the marker of the environments that
    /// need it (pip skips a line whose marker does not hold for the image), with the hashes of
    /// the release's files.
    pub fn from_closure(closure: &LockedClosure) -> PinnedRequirements {
        let hashed = closure.packages.iter().all(|p| !p.hashes.is_empty());
        let requirements = closure
            .packages
            .iter()
            .map(|package| {
                let pin = format!("{}=={}", package.name, package.version);
                let mut unhashed = pin.clone();
                if let Some(marker) = package.marker.as_ref().and_then(|m| m.contents()) {
                    unhashed.push_str(&format!(" ; {marker}"));
                }
                let mut line = unhashed.clone();
                if hashed {
                    for hash in &package.hashes {
                        line.push_str(" --hash=");
                        line.push_str(hash);
                    }
                }
                PinnedRequirement {
                    name: package.name.clone(),
                    line,
                    unhashed,
                    shown: pin,
                }
            })
            .collect();
        PinnedRequirements {
            options: Vec::new(),
            requirements,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::LockedPackage;

    fn collected(files: &[(&str, &str)]) -> Result<Collected, PlanError> {
        let contents: ContextFiles = files
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect();
        let paths: Vec<String> = files.iter().map(|(p, _)| (*p).to_owned()).collect();
        let (service, py) = service_with(paths.clone());
        collect(&service, &py, &paths, &contents)
    }

    fn closure(declared: &[&str], files: &ContextFiles) -> Result<Vec<String>, PlanError> {
        let (service, py) = service_with(declared.iter().map(|s| (*s).to_owned()).collect());
        requirement_closure(&service, &py, files)
    }

    #[test]
    fn includes_are_followed_in_the_order_written_and_bounded() {
        let files: ContextFiles = [
            ("req.txt", "-r b.txt\n-r a.txt\nsix==1\n"),
            ("b.txt", "-r c.txt\n"),
            ("a.txt", "-r req.txt\n"),
            ("c.txt", "idna==3\n"),
        ]
        .iter()
        .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
        .collect();
        assert_eq!(
            closure(&["req.txt"], &files),
            Ok(vec![
                "req.txt".into(),
                "b.txt".into(),
                "c.txt".into(),
                "a.txt".into()
            ])
        );
        // A chain deeper than the limit is refused, naming the file that went too deep.
        let chain: ContextFiles = (0..=MAX_INCLUDE_DEPTH + 1)
            .map(|i| (format!("r{i}.txt"), format!("-r r{}.txt\n", i + 1)))
            .collect();
        assert!(matches!(
            closure(&["r0.txt"], &chain),
            Err(PlanError::IncludesTooDeep { .. })
        ));
        // `-r /etc/passwd` and `-r ../../x` are refused, naming what was written.
        for include in ["/etc/passwd", "../../x.txt"] {
            let files: ContextFiles = [("req.txt".to_owned(), format!("-r {include}\n"))]
                .into_iter()
                .collect();
            let error = closure(&["req.txt"], &files).err().map(|e| e.to_string());
            assert!(
                error
                    .as_deref()
                    .is_some_and(|m| m.contains(include) && m.contains("req.txt")),
                "{include}: {error:?}"
            );
        }
        let big: ContextFiles = [
            (
                "a.txt".to_owned(),
                format!("-r b.txt\n# {}\n", "x".repeat(MAX_REQUIREMENT_BYTES / 2)),
            ),
            (
                "b.txt".to_owned(),
                format!("# {}\n", "x".repeat(MAX_REQUIREMENT_BYTES / 2)),
            ),
        ]
        .into_iter()
        .collect();
        assert!(matches!(
            closure(&["a.txt"], &big),
            Err(PlanError::RequirementsTooLarge { file, .. }) if file == "b.txt"
        ));
    }

    #[test]
    fn ten_thousand_pins_are_read_in_one_pass() {
        let mut text = String::from("# This file is autogenerated by pip-compile\n");
        for i in 0..10_000 {
            text.push_str(&format!("package-{i}==1.{i}\n"));
        }
        let Ok(c) = collected(&[("r.txt", &text)]) else {
            unreachable!("collected")
        };
        assert!(c.is_complete_closure());
        let pinned = PinnedRequirements::from_files(&c);
        assert_eq!(pinned.requirements.len(), 10_000);
        assert!(
            pinned
                .requirements
                .windows(2)
                .all(|w| w[0].name <= w[1].name)
        );
    }

    fn service_with(paths: Vec<String>) -> (ServiceSettings, PythonSettings) {
        ServiceSettings::python_for_tests("", crate::settings::PythonProject::Requirements(paths))
    }

    #[test]
    fn top_level_pins_are_not_a_closure_but_a_compiled_file_is() {
        let top = collected(&[("requirements.txt", "fastapi==0.104.1\nuvicorn==0.24.0\n")]);
        assert!(top.is_ok_and(|c| !c.is_complete_closure()));
        let compiled = collected(&[(
            "requirements.txt",
            "# This file is autogenerated by pip-compile with Python 3.11\nsix==1.16.0\n",
        )]);
        assert!(compiled.is_ok_and(|c| c.is_complete_closure()));
        let hashed = collected(&[("r.txt", "six==1.16.0 --hash=sha256:aa\n")]);
        assert!(hashed.is_ok_and(|c| c.is_complete_closure()));
        let ranges = collected(&[("r.txt", "# autogenerated by pip-compile\nsix>=1\n")]);
        assert!(ranges.is_ok_and(|c| !c.is_complete_closure()));
    }

    #[test]
    fn marker_split_pins_are_both_kept() {
        let text = "# This file was autogenerated by uv via the following command:\n\
                    numpy==1.26.4 ; python_full_version < '3.12'\n\
                    numpy==2.1.3 ; python_full_version >= '3.12'\n";
        let Ok(c) = collected(&[("r.txt", text)]) else {
            unreachable!("collected")
        };
        let pinned = PinnedRequirements::from_files(&c);
        let lines: Vec<&str> = pinned
            .requirements
            .iter()
            .map(|r| r.line.as_str())
            .collect();
        assert_eq!(
            lines,
            vec![
                "numpy==1.26.4 ; python_full_version < '3.12'",
                "numpy==2.1.3 ; python_full_version >= '3.12'"
            ]
        );
    }

    #[test]
    fn two_pins_that_can_both_apply_name_both_lines() {
        let error = collected(&[
            ("a.txt", "six==1.16.0\n"),
            ("b.txt", "# x\nSix==1.17.0 ; python_version >= '3'\n"),
        ])
        .err()
        .map(|e| e.to_string());
        let Some(message) = error else {
            unreachable!("no conflict found")
        };
        assert!(message.contains("a.txt:1"), "{message}");
        assert!(message.contains("b.txt:2"), "{message}");
        // The same pin twice is not a conflict.
        assert!(collected(&[("a.txt", "six==1\n"), ("b.txt", "six==1\n")]).is_ok());
    }

    #[test]
    fn another_format_is_named_as_such() {
        let error = collected(&[("pyproject.toml", "[project]\nname = \"app\"\n")])
            .err()
            .map(|e| e.to_string());
        assert!(
            error
                .as_deref()
                .is_some_and(|m| m.contains("not a requirements file")),
            "{error:?}"
        );
    }

    #[test]
    fn a_lock_becomes_hashed_pins_only_when_every_package_has_a_hash() {
        let Ok(c) = collected(&[("r.txt", "fastapi\n")]) else {
            unreachable!("collected")
        };
        let package = |name: &str, hash: Option<&str>| LockedPackage {
            name: name.parse().expect("a package name"),
            version: "1.0".into(),
            hashes: hash.map(str::to_owned).into_iter().collect(),
        };
        let all = Lock {
            packages: vec![
                package("a", Some("sha256:1")),
                package("b", Some("sha256:2")),
            ],
        };
        let lines: Vec<String> = PinnedRequirements::from_lock(&c, &all)
            .requirements
            .into_iter()
            .map(|r| r.line)
            .collect();
        assert_eq!(
            lines,
            vec!["a==1.0 --hash=sha256:1", "b==1.0 --hash=sha256:2"]
        );
        let some = Lock {
            packages: vec![package("a", Some("sha256:1")), package("b", None)],
        };
        let lines: Vec<String> = PinnedRequirements::from_lock(&c, &some)
            .requirements
            .into_iter()
            .map(|r| r.line)
            .collect();
        assert_eq!(lines, vec!["a==1.0", "b==1.0"]);
    }
}

//! A uv project's locked closure: the packages of `uv.lock` one project of it installs (its
//! dependencies, the extras and dependency groups asked for, transitively), each with the
//! environments it is needed in, read from the text of `pyproject.toml` and `uv.lock`.
//!
//! uv locks universally: one `uv.lock` serves every platform and Python version, so a package
//! can be needed only under a marker (`uvloop` off Windows), and one name can be locked twice for
//! disjoint environments (a forked resolution). The walk carries markers along: a package's
//! marker is the OR over the paths reaching it of the AND of the markers on each path. Pip
//! evaluates them for the target later.
//!
//! [`uv_lock_stale`] is the cheap half of `uv lock --check`: whether the lock still records the
//! requirements the pyproject.toml declares.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use pep508_rs::pep440_rs::VersionSpecifiers;
use pep508_rs::{ExtraName, MarkerTree, PackageName, VersionOrUrl};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::locked::{
    ClosurePackage, LocalPackage, LockedClosure, RootKind, line_column, same_extra, sort_packages,
};

const PYPROJECT: &str = "pyproject.toml";
const UV_LOCK: &str = "uv.lock";

/// Which part of a uv project a service installs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct UvSelection<'a> {
    /// The workspace member (its `[project].name`); None: the project of the pyproject.toml given.
    pub package: Option<&'a str>,
    /// `[dependency-groups]` to add (none by default: the dev group is not installed unless named).
    pub groups: &'a [String],
    /// Extras of the root package (`[project.optional-dependencies]`) to add.
    pub extras: &'a [String],
}

/// A uv project layercake cannot read, or a lock it cannot install. The caller names the service.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum UvLockError {
    #[error("{file}:{line}:{column}: {message}")]
    Toml {
        file: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    TomlNoSpan { file: &'static str, message: String },
    #[error("uv.lock version {0} is not supported (layercake reads version 1)")]
    LockVersion(i64),
    #[error("pyproject.toml has no [project] table")]
    NoProject,
    #[error("pyproject.toml is the project `{found}`, not `{expected}`")]
    OtherProject { expected: String, found: String },
    #[error("{file}: `{text}` is not a valid {what}: {message}")]
    Invalid {
        file: &'static str,
        what: &'static str,
        text: String,
        message: String,
    },
    #[error("uv.lock does not list the project `{0}`: run `uv lock`")]
    RootNotLocked(String),
    #[error(
        "no workspace member named `{name}` in uv.lock (members: {})",
        listed(members)
    )]
    UnknownMember { name: String, members: Vec<String> },
    #[error(
        "uv.lock: the project `{package}` comes from {kind} ({location}); a project layercake \
         installs is editable or virtual"
    )]
    RootNotLocal {
        package: String,
        kind: &'static str,
        location: String,
    },
    #[error(
        "uv.lock: package `{package}` comes from {kind} ({location}), which layercake cannot \
         build yet"
    )]
    Unbuildable {
        package: String,
        kind: &'static str,
        location: String,
    },
    #[error("uv.lock: `{package}` needs `{dependency}`, which the lock does not list")]
    MissingDependency { package: String, dependency: String },
    #[error(
        "uv.lock: `{package}` needs `{dependency}`{}, which matches {count} entries of the lock",
        version.as_ref().map(|v| format!(" {v}")).unwrap_or_default()
    )]
    AmbiguousDependency {
        package: String,
        dependency: String,
        version: Option<String>,
        count: usize,
    },
    #[error("uv.lock: package `{0}` has no version")]
    NoVersion(String),
    #[error(
        "`{package}` has no dependency group `{group}` (groups: {})",
        listed(groups)
    )]
    UnknownGroup {
        package: String,
        group: String,
        groups: Vec<String>,
    },
    #[error("`{package}` has no extra `{extra}` (extras: {})", listed(extras))]
    UnknownExtra {
        package: String,
        extra: String,
        extras: Vec<String>,
    },
}

fn listed(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

// ---------------------------------------------------------------------------------------------
// The files, as serde reads them (only the fields layercake uses; unknown ones are ignored).

#[derive(Deserialize)]
struct LockVersionOnly {
    version: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct LockFile {
    requires_python: Option<String>,
    #[serde(default)]
    manifest: Manifest,
    #[serde(default, rename = "package")]
    packages: Vec<LockPackage>,
}

#[derive(Deserialize, Default)]
struct Manifest {
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct LockPackage {
    name: String,
    version: Option<String>,
    source: Option<Source>,
    #[serde(default)]
    dependencies: Vec<LockDependency>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<LockDependency>>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Vec<LockDependency>>,
    sdist: Option<Artifact>,
    #[serde(default)]
    wheels: Vec<Artifact>,
    #[serde(default)]
    metadata: Metadata,
}

/// Where a locked package comes from: exactly one of these is set.
#[derive(Deserialize, Default, Clone, PartialEq, Eq)]
struct Source {
    registry: Option<String>,
    editable: Option<String>,
    #[serde(rename = "virtual")]
    virtual_: Option<String>,
    git: Option<String>,
    path: Option<String>,
    url: Option<String>,
    directory: Option<String>,
}

impl Source {
    /// What kind of source it is and its location, for messages.
    fn describe(&self) -> (&'static str, &str) {
        let kinds = [
            ("a registry", &self.registry),
            ("an editable local project", &self.editable),
            ("a virtual local project", &self.virtual_),
            ("git", &self.git),
            ("a local path", &self.path),
            ("a URL", &self.url),
            ("a local directory", &self.directory),
        ];
        kinds
            .into_iter()
            .find_map(|(kind, value)| value.as_deref().map(|v| (kind, v)))
            .unwrap_or(("an unknown source", "?"))
    }
}

#[derive(Deserialize)]
struct LockDependency {
    name: String,
    version: Option<String>,
    source: Option<Source>,
    #[serde(default)]
    extra: Vec<String>,
    marker: Option<String>,
}

#[derive(Deserialize)]
struct Artifact {
    hash: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Metadata {
    #[serde(default)]
    requires_dist: Vec<MetadataRequirement>,
    #[serde(default)]
    requires_dev: BTreeMap<String, Vec<MetadataRequirement>>,
    #[serde(default)]
    provides_extras: Vec<String>,
}

/// A requirement as the lock records the pyproject.toml's, already split into fields.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct MetadataRequirement {
    name: String,
    specifier: Option<String>,
    #[serde(default)]
    extras: Vec<String>,
    marker: Option<String>,
    url: Option<String>,
    git: Option<String>,
    path: Option<String>,
    editable: Option<String>,
    directory: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Pyproject {
    project: Option<Project>,
    #[serde(default)]
    dependency_groups: BTreeMap<String, Vec<GroupEntry>>,
    #[serde(default)]
    tool: Tool,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Project {
    name: String,
    requires_python: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<String>>,
    /// Fields the build backend fills in (`dynamic = ["dependencies"]`).
    #[serde(default)]
    dynamic: Vec<String>,
}

/// PEP 735: a requirement, or `{ include-group = "other" }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum GroupEntry {
    Requirement(String),
    Include {
        #[serde(rename = "include-group")]
        include_group: String,
    },
}

#[derive(Deserialize, Default)]
struct Tool {
    #[serde(default)]
    uv: ToolUv,
}

#[derive(Deserialize, Default)]
struct ToolUv {
    /// `[tool.uv.sources]`: names whose lock metadata records the source instead of a specifier.
    #[serde(default)]
    sources: BTreeMap<String, toml::Value>,
}

// ---------------------------------------------------------------------------------------------
// Parsing helpers.

fn parse_toml<T: DeserializeOwned>(file: &'static str, text: &str) -> Result<T, UvLockError> {
    toml::from_str(text).map_err(|error| {
        let message = error.message().trim().to_owned();
        match error.span() {
            Some(span) => {
                let (line, column) = line_column(text, span);
                UvLockError::Toml {
                    file,
                    line,
                    column,
                    message,
                }
            }
            None => UvLockError::TomlNoSpan { file, message },
        }
    })
}

fn parse_lock(text: &str) -> Result<LockFile, UvLockError> {
    let LockVersionOnly { version } = parse_toml(UV_LOCK, text)?;
    if version != 1 {
        return Err(UvLockError::LockVersion(version));
    }
    parse_toml(UV_LOCK, text)
}

fn invalid(
    file: &'static str,
    what: &'static str,
    text: &str,
    message: impl ToString,
) -> UvLockError {
    UvLockError::Invalid {
        file,
        what,
        text: text.to_owned(),
        message: message.to_string(),
    }
}

fn package_name(file: &'static str, name: &str) -> Result<PackageName, UvLockError> {
    PackageName::from_str(name).map_err(|e| invalid(file, "package name", name, e))
}

fn marker(file: &'static str, text: Option<&str>) -> Result<MarkerTree, UvLockError> {
    match text {
        None => Ok(MarkerTree::TRUE),
        Some(text) => MarkerTree::from_str(text).map_err(|e| invalid(file, "marker", text, e)),
    }
}

fn marker_text(marker: &MarkerTree) -> Option<String> {
    marker.try_to_string()
}

// ---------------------------------------------------------------------------------------------
// The closure.

/// The locked packages `selection` installs, read from a project's `pyproject.toml` (the one next
/// to `uv.lock`: a workspace's root) and its `uv.lock`.
pub(crate) fn uv_closure(
    pyproject: &str,
    lock: &str,
    selection: &UvSelection<'_>,
) -> Result<LockedClosure, UvLockError> {
    let pyproject: Pyproject = parse_toml(PYPROJECT, pyproject)?;
    let lock = parse_lock(lock)?;
    let index = LockIndex::new(&lock)?;

    let root = root_index(&pyproject, &lock, &index, selection.package)?;
    let root_package = &lock.packages[root];
    let root_name = index.names[root].clone();
    let source = root_package.source.clone().unwrap_or_default();
    let root_path = source
        .editable
        .clone()
        .or_else(|| source.virtual_.clone())
        .unwrap_or_else(|| ".".to_owned());
    let root_kind = if source.editable.is_some() {
        RootKind::Package
    } else if source.virtual_.is_some() {
        RootKind::Virtual
    } else {
        let (kind, location) = source.describe();
        return Err(UvLockError::RootNotLocal {
            package: root_name.to_string(),
            kind,
            location: location.to_owned(),
        });
    };

    let mut walk = Walk {
        lock: &lock,
        index: &index,
        root,
        reached: HashMap::new(),
        queue: Vec::new(),
    };
    walk.reach(root, None, MarkerTree::TRUE);
    for extra in selection.extras {
        let found = root_package
            .optional_dependencies
            .keys()
            .chain(&root_package.metadata.provides_extras)
            .find(|name| same_extra(name, extra));
        match found {
            Some(name) => walk.reach(root, Some(name.clone()), MarkerTree::TRUE),
            None => {
                return Err(UvLockError::UnknownExtra {
                    package: root_name.to_string(),
                    extra: extra.clone(),
                    extras: known_extras(root_package),
                });
            }
        }
    }
    for group in selection.groups {
        let found = root_package
            .dev_dependencies
            .iter()
            .find(|(name, _)| same_extra(name, group));
        match found {
            Some((_, dependencies)) => walk.follow(root, dependencies, &MarkerTree::TRUE)?,
            None if root_package
                .metadata
                .requires_dev
                .keys()
                .any(|name| same_extra(name, group)) => {}
            None => {
                let mut groups: Vec<String> = root_package
                    .dev_dependencies
                    .keys()
                    .chain(root_package.metadata.requires_dev.keys())
                    .cloned()
                    .collect();
                groups.sort();
                groups.dedup();
                return Err(UvLockError::UnknownGroup {
                    package: root_name.to_string(),
                    group: group.clone(),
                    groups,
                });
            }
        }
    }
    walk.run()?;

    let mut packages = Vec::new();
    let mut locals = Vec::new();
    let mut reached: Vec<(usize, MarkerTree)> = walk
        .reached
        .into_iter()
        .filter(|((package, extra), _)| extra.is_none() && *package != root)
        .map(|((package, _), marker)| (package, marker))
        .collect();
    reached.sort_by_key(|(package, _)| *package);
    for (package, marker) in reached {
        let locked = &lock.packages[package];
        let source = locked.source.clone().unwrap_or_default();
        if let Some(path) = &source.editable {
            locals.push(LocalPackage {
                name: index.names[package].clone(),
                path: path.clone(),
                marker: marker.contents().map(|_| marker),
            });
            continue;
        }
        if source.virtual_.is_some() {
            // A virtual member is not a package: only its dependencies are installed.
            continue;
        }
        let version = locked
            .version
            .clone()
            .ok_or_else(|| UvLockError::NoVersion(locked.name.clone()))?;
        let hashes = locked
            .sdist
            .iter()
            .chain(&locked.wheels)
            .filter_map(|artifact| artifact.hash.clone())
            .collect();
        packages.push(ClosurePackage {
            name: index.names[package].clone(),
            version,
            marker: marker.contents().map(|_| marker),
            hashes,
        });
    }
    sort_packages(&mut packages);
    locals.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(LockedClosure {
        root: Some(root_name),
        root_kind,
        root_path,
        packages,
        locals,
    })
}

/// The folder of the workspace member `package`, relative to uv.lock's (what its own
/// pyproject.toml, which the staleness check reads, sits in).
pub(crate) fn uv_member_path(lock: &str, package: &str) -> Result<String, UvLockError> {
    let lock = parse_lock(lock)?;
    let index = LockIndex::new(&lock)?;
    let none = Pyproject {
        project: None,
        dependency_groups: BTreeMap::new(),
        tool: Tool::default(),
    };
    let root = root_index(&none, &lock, &index, Some(package))?;
    let source = lock.packages[root].source.clone().unwrap_or_default();
    Ok(source
        .editable
        .or(source.virtual_)
        .unwrap_or_else(|| ".".to_owned()))
}

fn known_extras(package: &LockPackage) -> Vec<String> {
    let mut extras: Vec<String> = package
        .optional_dependencies
        .keys()
        .chain(&package.metadata.provides_extras)
        .cloned()
        .collect();
    extras.sort();
    extras.dedup();
    extras
}

/// The lock's packages by normalised name (several entries when the resolution forked).
struct LockIndex {
    names: Vec<PackageName>,
    by_name: HashMap<PackageName, Vec<usize>>,
}

impl LockIndex {
    fn new(lock: &LockFile) -> Result<LockIndex, UvLockError> {
        let mut names = Vec::with_capacity(lock.packages.len());
        let mut by_name: HashMap<PackageName, Vec<usize>> = HashMap::new();
        for (i, package) in lock.packages.iter().enumerate() {
            let name = package_name(UV_LOCK, &package.name)?;
            by_name.entry(name.clone()).or_default().push(i);
            names.push(name);
        }
        Ok(LockIndex { names, by_name })
    }

    /// The entry a dependency of `from` names: the only one of that name, or the one with its
    /// `version` (and `source`, when it gives one).
    fn resolve(
        &self,
        lock: &LockFile,
        from: usize,
        dependency: &LockDependency,
    ) -> Result<usize, UvLockError> {
        let name = package_name(UV_LOCK, &dependency.name)?;
        let candidates: Vec<usize> = self
            .by_name
            .get(&name)
            .map(|all| {
                all.iter()
                    .copied()
                    .filter(|&i| {
                        let package = &lock.packages[i];
                        dependency
                            .version
                            .as_ref()
                            .is_none_or(|v| package.version.as_ref() == Some(v))
                            && dependency
                                .source
                                .as_ref()
                                .is_none_or(|s| package.source.as_ref() == Some(s))
                    })
                    .collect()
            })
            .unwrap_or_default();
        match candidates.as_slice() {
            [one] => Ok(*one),
            [] => Err(UvLockError::MissingDependency {
                package: self.names[from].to_string(),
                dependency: match &dependency.version {
                    Some(version) => format!("{name} {version}"),
                    None => name.to_string(),
                },
            }),
            many => Err(UvLockError::AmbiguousDependency {
                package: self.names[from].to_string(),
                dependency: name.to_string(),
                version: dependency.version.clone(),
                count: many.len(),
            }),
        }
    }
}

/// The lock entry of the selected project.
fn root_index(
    pyproject: &Pyproject,
    lock: &LockFile,
    index: &LockIndex,
    package: Option<&str>,
) -> Result<usize, UvLockError> {
    let name = match package {
        Some(member) => {
            let name = package_name(PYPROJECT, member)?;
            let is_member = |i: &usize| {
                let source = lock.packages[*i].source.as_ref();
                source.is_some_and(|s| s.editable.is_some() || s.virtual_.is_some())
            };
            if !index
                .by_name
                .get(&name)
                .is_some_and(|all| all.iter().any(is_member))
            {
                let mut members: Vec<String> = if lock.manifest.members.is_empty() {
                    (0..lock.packages.len())
                        .filter(is_member)
                        .map(|i| index.names[i].to_string())
                        .collect()
                } else {
                    lock.manifest.members.clone()
                };
                members.sort();
                return Err(UvLockError::UnknownMember {
                    name: member.to_owned(),
                    members,
                });
            }
            name
        }
        None => {
            let project = pyproject.project.as_ref().ok_or(UvLockError::NoProject)?;
            package_name(PYPROJECT, &project.name)?
        }
    };
    let entries = index
        .by_name
        .get(&name)
        .map(Vec::as_slice)
        .unwrap_or_default();
    // A registry package may share a member's name only in odd setups; prefer the local one.
    entries
        .iter()
        .copied()
        .find(|&i| {
            lock.packages[i]
                .source
                .as_ref()
                .is_some_and(|s| s.editable.is_some() || s.virtual_.is_some())
        })
        .or(entries.first().copied())
        .ok_or_else(|| UvLockError::RootNotLocked(name.to_string()))
}

/// The walk from the root: a node is a package, or one extra of a package (its optional
/// dependencies), with the marker it was reached under so far.
struct Walk<'l> {
    lock: &'l LockFile,
    index: &'l LockIndex,
    root: usize,
    reached: HashMap<(usize, Option<String>), MarkerTree>,
    queue: Vec<(usize, Option<String>, MarkerTree)>,
}

impl Walk<'_> {
    /// Queues a node unless it was reached under a marker at least as wide already.
    fn reach(&mut self, package: usize, extra: Option<String>, marker: MarkerTree) {
        if marker.is_false() {
            return;
        }
        let key = (package, extra.clone());
        let widened = match self.reached.get(&key) {
            Some(old) => {
                let mut widened = old.clone();
                widened.or(marker);
                if &widened == old {
                    return;
                }
                widened
            }
            None => marker,
        };
        self.reached.insert(key, widened.clone());
        self.queue.push((package, extra, widened));
    }

    /// Reaches the targets of `dependencies` of `from`, under `marker`.
    fn follow(
        &mut self,
        from: usize,
        dependencies: &[LockDependency],
        marker: &MarkerTree,
    ) -> Result<(), UvLockError> {
        for dependency in dependencies {
            let target = self.index.resolve(self.lock, from, dependency)?;
            if target != self.root {
                let package = &self.lock.packages[target];
                let source = package.source.clone().unwrap_or_default();
                // A workspace member is built from its folder (its own dependencies are
                // walked as any package's); other local or remote sources are not built yet.
                let member = source.editable.is_some() || source.virtual_.is_some();
                if source.registry.is_none() && !member {
                    let (kind, location) = source.describe();
                    return Err(UvLockError::Unbuildable {
                        package: self.index.names[target].to_string(),
                        kind,
                        location: location.to_owned(),
                    });
                }
            }
            let mut along = marker.clone();
            along.and(self::marker(UV_LOCK, dependency.marker.as_deref())?);
            self.reach(target, None, along.clone());
            for extra in &dependency.extra {
                self.reach(target, Some(extra.clone()), along.clone());
            }
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), UvLockError> {
        while let Some((package, extra, marker)) = self.queue.pop() {
            let lock = self.lock;
            let locked = &lock.packages[package];
            let dependencies = match &extra {
                None => Some(&locked.dependencies),
                Some(extra) => locked
                    .optional_dependencies
                    .iter()
                    .find(|(name, _)| same_extra(name, extra))
                    .map(|(_, dependencies)| dependencies),
            };
            if let Some(dependencies) = dependencies {
                self.follow(package, dependencies, &marker)?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Staleness.

/// Whether `lock` was made from `pyproject` (the pyproject.toml of the project checked: a
/// workspace member's own): its requirements, extras' and dependency groups' requirements, and
/// `requires-python`, compared with what the lock recorded for that project. `package`, when
/// given, must be that project's name. Returns the first difference as a sentence, or `None`.
///
/// For a workspace, `requires-python` is not compared (the lock holds the members' intersection).
pub(crate) fn uv_lock_stale(
    pyproject: &str,
    lock: &str,
    package: Option<&str>,
) -> Result<Option<String>, UvLockError> {
    let pyproject: Pyproject = parse_toml(PYPROJECT, pyproject)?;
    let lock = parse_lock(lock)?;
    let index = LockIndex::new(&lock)?;
    let project = pyproject.project.as_ref().ok_or(UvLockError::NoProject)?;
    if let Some(expected) = package
        && package_name(PYPROJECT, expected)? != package_name(PYPROJECT, &project.name)?
    {
        return Err(UvLockError::OtherProject {
            expected: expected.to_owned(),
            found: project.name.clone(),
        });
    }
    let root = root_index(&pyproject, &lock, &index, None)?;
    let metadata = &lock.packages[root].metadata;
    let sourced: Vec<PackageName> = pyproject
        .tool
        .uv
        .sources
        .keys()
        .filter_map(|name| PackageName::from_str(name).ok())
        .collect();

    // [project] dependencies and optional dependencies ↔ requires-dist, unless the build
    // backend computes them (then only uv, running it, can tell).
    let dynamic = project
        .dynamic
        .iter()
        .any(|field| field == "dependencies" || field == "optional-dependencies");
    let mut declared = Vec::new();
    for text in &project.dependencies {
        declared.push(declared_key(text, None, &sourced)?);
    }
    for (extra, requirements) in &project.optional_dependencies {
        let extra =
            ExtraName::from_str(extra).map_err(|e| invalid(PYPROJECT, "extra name", extra, e))?;
        for text in requirements {
            declared.push(declared_key(text, Some(&extra), &sourced)?);
        }
    }
    let recorded = metadata
        .requires_dist
        .iter()
        .map(|requirement| recorded_key(requirement, &sourced))
        .collect::<Result<Vec<_>, _>>()?;
    if !dynamic && let Some(reason) = first_difference(&declared, &recorded, "") {
        return Ok(Some(reason));
    }

    // [dependency-groups] ↔ requires-dev.
    let mut groups: BTreeMap<ExtraName, Vec<Keyed>> = BTreeMap::new();
    for group in pyproject.dependency_groups.keys() {
        let mut keys = Vec::new();
        for text in group_requirements(&pyproject.dependency_groups, group, 0)? {
            keys.push(declared_key(&text, None, &sourced)?);
        }
        let name =
            ExtraName::from_str(group).map_err(|e| invalid(PYPROJECT, "group name", group, e))?;
        groups.entry(name).or_default().extend(keys);
    }
    let mut recorded_groups: BTreeMap<ExtraName, Vec<Keyed>> = BTreeMap::new();
    for (group, requirements) in &metadata.requires_dev {
        let name =
            ExtraName::from_str(group).map_err(|e| invalid(UV_LOCK, "group name", group, e))?;
        let keys = requirements
            .iter()
            .map(|requirement| recorded_key(requirement, &sourced))
            .collect::<Result<Vec<_>, _>>()?;
        recorded_groups.entry(name).or_default().extend(keys);
    }
    for (group, declared) in &groups {
        let recorded = recorded_groups
            .get(group)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let context = format!("'s dependency group `{group}`");
        if let Some(reason) = first_difference(declared, recorded, &context) {
            return Ok(Some(reason));
        }
    }
    for (group, recorded) in &recorded_groups {
        if !groups.contains_key(group) && !recorded.is_empty() {
            return Ok(Some(format!(
                "uv.lock has the dependency group `{group}`, which pyproject.toml no longer \
                 declares: run `uv lock`"
            )));
        }
    }

    // requires-python.
    if lock.manifest.members.is_empty() {
        let declared = python_key(PYPROJECT, project.requires_python.as_deref())?;
        let recorded = python_key(UV_LOCK, lock.requires_python.as_deref())?;
        if declared != recorded {
            return Ok(Some(format!(
                "pyproject.toml requires Python `{}`, uv.lock was made for `{}`: run `uv lock`",
                declared.as_deref().unwrap_or("any"),
                recorded.as_deref().unwrap_or("any"),
            )));
        }
    }
    Ok(None)
}

/// A group's requirements with `{ include-group = … }` expanded.
fn group_requirements(
    groups: &BTreeMap<String, Vec<GroupEntry>>,
    group: &str,
    depth: usize,
) -> Result<Vec<String>, UvLockError> {
    let Some((_, entries)) = groups.iter().find(|(name, _)| same_extra(name, group)) else {
        return Err(invalid(
            PYPROJECT,
            "group include",
            group,
            "no such dependency group",
        ));
    };
    if depth > groups.len() {
        return Err(invalid(
            PYPROJECT,
            "group include",
            group,
            "the groups include each other",
        ));
    }
    let mut requirements = Vec::new();
    for entry in entries {
        match entry {
            GroupEntry::Requirement(text) => requirements.push(text.clone()),
            GroupEntry::Include { include_group } => {
                requirements.extend(group_requirements(groups, include_group, depth + 1)?);
            }
        }
    }
    Ok(requirements)
}

fn python_key(file: &'static str, text: Option<&str>) -> Result<Option<String>, UvLockError> {
    text.map(|text| {
        VersionSpecifiers::from_str(text)
            .map(|specifiers| specifiers_key(&specifiers))
            .map_err(|e| invalid(file, "requires-python", text, e))
    })
    .transpose()
}

/// Specifiers in a fixed order (`<2,>=1` and `>=1, <2` are one requirement).
fn specifiers_key(specifiers: &VersionSpecifiers) -> String {
    let mut parts: Vec<String> = specifiers.iter().map(ToString::to_string).collect();
    parts.sort();
    parts.join(", ")
}

/// One requirement, normalised: `name[extras] specifiers ; marker`. A name with a
/// `[tool.uv.sources]` entry leaves out its version or URL (the lock records the source).
fn requirement_key(
    name: &PackageName,
    mut extras: Vec<ExtraName>,
    version: String,
    marker: &MarkerTree,
    sourced: &[PackageName],
) -> String {
    extras.sort();
    extras.dedup();
    let mut key = name.to_string();
    if !extras.is_empty() {
        let extras: Vec<String> = extras.iter().map(ToString::to_string).collect();
        key.push_str(&format!("[{}]", extras.join(",")));
    }
    if !sourced.contains(name) && !version.is_empty() {
        key.push_str(&version);
    }
    if let Some(marker) = marker_text(marker) {
        key.push_str(&format!(" ; {marker}"));
    }
    key
}

/// A requirement's normalised form, and how a message shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Keyed {
    key: String,
    shown: String,
}

fn declared_key(
    text: &str,
    extra: Option<&ExtraName>,
    sourced: &[PackageName],
) -> Result<Keyed, UvLockError> {
    let mut requirement = pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(text)
        .map_err(|e| invalid(PYPROJECT, "requirement", text, e))?;
    if let Some(extra) = extra {
        requirement = requirement.with_extra_marker(extra);
    }
    let version = match &requirement.version_or_url {
        None => String::new(),
        Some(VersionOrUrl::VersionSpecifier(specifiers)) => specifiers_key(specifiers),
        Some(VersionOrUrl::Url(url)) => format!(" @ {url}"),
    };
    let key = requirement_key(
        &requirement.name,
        requirement.extras,
        version,
        &requirement.marker,
        sourced,
    );
    let shown = match extra {
        Some(extra) => format!("`{}` (extra `{extra}`)", text.trim()),
        None => format!("`{}`", text.trim()),
    };
    Ok(Keyed { key, shown })
}

fn recorded_key(
    requirement: &MetadataRequirement,
    sourced: &[PackageName],
) -> Result<Keyed, UvLockError> {
    let name = package_name(UV_LOCK, &requirement.name)?;
    let extras = requirement
        .extras
        .iter()
        .map(|extra| {
            ExtraName::from_str(extra).map_err(|e| invalid(UV_LOCK, "extra name", extra, e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let url = [
        &requirement.url,
        &requirement.git,
        &requirement.path,
        &requirement.editable,
        &requirement.directory,
    ]
    .into_iter()
    .find_map(Option::as_deref);
    let version = match (&requirement.specifier, url) {
        (_, Some(url)) => format!(" @ {url}"),
        (Some(specifier), None) => specifiers_key(
            &VersionSpecifiers::from_str(specifier)
                .map_err(|e| invalid(UV_LOCK, "version specifier", specifier, e))?,
        ),
        (None, None) => String::new(),
    };
    let marker = marker(UV_LOCK, requirement.marker.as_deref())?;
    let key = requirement_key(&name, extras, version, &marker, sourced);
    Ok(Keyed {
        shown: format!("`{key}`"),
        key,
    })
}

/// The first requirement one side has and the other lacks (counted: order does not matter,
/// repeats do), as the sentence [`uv_lock_stale`] returns.
fn first_difference(declared: &[Keyed], recorded: &[Keyed], context: &str) -> Option<String> {
    let mut declared = declared.to_vec();
    let mut recorded = recorded.to_vec();
    declared.sort();
    recorded.sort();
    for entry in &declared {
        match recorded.iter().position(|r| r.key == entry.key) {
            Some(i) => {
                recorded.remove(i);
            }
            None => {
                return Some(format!(
                    "pyproject.toml{context} requires {}, which uv.lock does not have: run \
                     `uv lock`",
                    entry.shown
                ));
            }
        }
    }
    recorded.first().map(|entry| {
        format!(
            "uv.lock has {}, which pyproject.toml{context} no longer requires: run `uv lock`",
            entry.shown
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP_PYPROJECT: &str = include_str!("../tests/fixtures/uv/app/pyproject.toml");
    const APP_LOCK: &str = include_str!("../tests/fixtures/uv/app/uv.lock");
    const VIRT_PYPROJECT: &str = include_str!("../tests/fixtures/uv/virt/pyproject.toml");
    const VIRT_LOCK: &str = include_str!("../tests/fixtures/uv/virt/uv.lock");
    const WS_PYPROJECT: &str = include_str!("../tests/fixtures/uv/ws/pyproject.toml");
    const WS_API_PYPROJECT: &str = include_str!("../tests/fixtures/uv/ws/api/pyproject.toml");
    const WS_LOCK: &str = include_str!("../tests/fixtures/uv/ws/uv.lock");
    const FORK_PYPROJECT: &str = include_str!("../tests/fixtures/uv/fork/pyproject.toml");
    const FORK_LOCK: &str = include_str!("../tests/fixtures/uv/fork/uv.lock");

    fn closure(pyproject: &str, lock: &str, selection: UvSelection<'_>) -> LockedClosure {
        match uv_closure(pyproject, lock, &selection) {
            Ok(closure) => closure,
            Err(error) => panic!("{error}"),
        }
    }

    fn error(pyproject: &str, lock: &str, selection: UvSelection<'_>) -> String {
        match uv_closure(pyproject, lock, &selection) {
            Ok(closure) => panic!("expected an error, got {closure:?}"),
            Err(error) => error.to_string(),
        }
    }

    fn names(closure: &LockedClosure) -> Vec<String> {
        closure
            .packages
            .iter()
            .map(|p| format!("{}=={}", p.name, p.version))
            .collect()
    }

    fn package<'c>(closure: &'c LockedClosure, name: &str) -> &'c ClosurePackage {
        match closure.packages.iter().find(|p| p.name.as_ref() == name) {
            Some(package) => package,
            None => panic!("{name} is not in {:?}", names(closure)),
        }
    }

    fn marker_of(closure: &LockedClosure, name: &str) -> Option<String> {
        package(closure, name).marker.as_ref().and_then(marker_text)
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    fn stale(pyproject: &str, lock: &str, package: Option<&str>) -> Option<String> {
        match uv_lock_stale(pyproject, lock, package) {
            Ok(reason) => reason,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn an_app_installs_its_dependencies_and_their_extras_without_the_dev_group() {
        let app = closure(APP_PYPROJECT, APP_LOCK, UvSelection::default());
        assert_eq!(app.root.as_ref().map(AsRef::as_ref), Some("app"));
        assert_eq!(app.root_kind, RootKind::Package);
        assert_eq!(
            names(&app),
            [
                "anyio==4.16.0",
                "click==8.5.1",
                "h11==0.16.0",
                "httptools==0.9.0",
                "idna==3.21",
                "python-dotenv==1.2.4",
                "pyyaml==6.0.4",
                "typing-extensions==4.16.0",
                "uvicorn==0.55.0",
                "uvloop==0.23.0",
                "watchfiles==1.3.0",
                "websockets==17.4",
            ]
        );
        // uvloop comes only with uvicorn's `standard` extra, and only off Windows, Cygwin, PyPy.
        // (`uv export --no-dev` writes the same markers.)
        assert_eq!(
            marker_of(&app, "uvloop").as_deref(),
            Some(
                "platform_python_implementation != 'PyPy' and sys_platform != 'cygwin' and \
                 sys_platform != 'win32'"
            )
        );
        // Reached through watchfiles -> anyio, under anyio's marker.
        assert_eq!(
            marker_of(&app, "typing-extensions").as_deref(),
            Some("python_full_version < '3.15'")
        );
        assert_eq!(marker_of(&app, "httptools"), None);
        assert_eq!(marker_of(&app, "uvicorn"), None);
        // Every file's hash: the sdist's, then each wheel's, as the lock lists them.
        let uvloop = package(&app, "uvloop");
        assert_eq!(uvloop.hashes.len(), 37);
        assert_eq!(
            uvloop.hashes[0],
            "sha256:28d160f51ab4da3b187063652e643dea6831072add4adc1e6d62afbe73b6be27"
        );
        assert!(uvloop.hashes.iter().all(|h| h.starts_with("sha256:")));
        let wheels = APP_LOCK.matches("uvloop-0.23.0-").count();
        assert_eq!(uvloop.hashes.len(), wheels + 1);
    }

    #[test]
    fn groups_and_extras_are_added_when_selected() {
        let dev = strings(&["dev"]);
        let extra = strings(&["extra-six"]);
        let with_dev = closure(
            APP_PYPROJECT,
            APP_LOCK,
            UvSelection {
                groups: &dev,
                ..UvSelection::default()
            },
        );
        assert!(names(&with_dev).contains(&"iniconfig==2.3.1".to_owned()));
        assert!(!names(&with_dev).iter().any(|n| n.starts_with("six==")));
        let with_extra = closure(
            APP_PYPROJECT,
            APP_LOCK,
            UvSelection {
                extras: &extra,
                ..UvSelection::default()
            },
        );
        assert!(names(&with_extra).contains(&"six==1.17.0".to_owned()));
        assert!(
            !names(&with_extra)
                .iter()
                .any(|n| n.starts_with("iniconfig"))
        );
        assert_eq!(marker_of(&with_extra, "six"), None);
        let default = closure(APP_PYPROJECT, APP_LOCK, UvSelection::default());
        assert_eq!(with_dev.packages.len(), default.packages.len() + 1);
    }

    #[test]
    fn unknown_groups_and_extras_name_the_ones_there_are() {
        let test = strings(&["test"]);
        assert_eq!(
            error(
                APP_PYPROJECT,
                APP_LOCK,
                UvSelection {
                    groups: &test,
                    ..UvSelection::default()
                }
            ),
            "`app` has no dependency group `test` (groups: dev)"
        );
        assert_eq!(
            error(
                APP_PYPROJECT,
                APP_LOCK,
                UvSelection {
                    extras: &test,
                    ..UvSelection::default()
                }
            ),
            "`app` has no extra `test` (extras: extra-six)"
        );
    }

    #[test]
    fn a_virtual_project_is_not_a_package_and_included_groups_are_expanded() {
        let virt = closure(VIRT_PYPROJECT, VIRT_LOCK, UvSelection::default());
        assert_eq!(virt.root.as_ref().map(AsRef::as_ref), Some("virt"));
        assert_eq!(virt.root_kind, RootKind::Virtual);
        assert_eq!(names(&virt), ["idna==3.21"]);
        let dev = strings(&["dev"]);
        let with_dev = closure(
            VIRT_PYPROJECT,
            VIRT_LOCK,
            UvSelection {
                groups: &dev,
                ..UvSelection::default()
            },
        );
        assert_eq!(names(&with_dev), ["idna==3.21", "six==1.17.0"]);
        assert_eq!(stale(VIRT_PYPROJECT, VIRT_LOCK, None), None);
        let edited = VIRT_PYPROJECT.replace("lint = [\"six\"]", "lint = [\"six>=1.16\"]");
        assert_eq!(
            stale(&edited, VIRT_LOCK, None).as_deref(),
            Some(
                "pyproject.toml's dependency group `dev` requires `six>=1.16`, which uv.lock \
                 does not have: run `uv lock`"
            )
        );
    }

    #[test]
    fn a_workspace_member_is_selected_by_name() {
        let api = closure(
            WS_PYPROJECT,
            WS_LOCK,
            UvSelection {
                package: Some("api"),
                ..UvSelection::default()
            },
        );
        assert_eq!(api.root.as_ref().map(AsRef::as_ref), Some("api"));
        assert_eq!(api.root_kind, RootKind::Package);
        assert_eq!(names(&api), ["idna==3.21"]);
        let worker = closure(
            WS_PYPROJECT,
            WS_LOCK,
            UvSelection {
                package: Some("Worker"),
                ..UvSelection::default()
            },
        );
        assert_eq!(names(&worker), ["six==1.17.0"]);
        let root = closure(WS_PYPROJECT, WS_LOCK, UvSelection::default());
        assert_eq!(root.root.as_ref().map(AsRef::as_ref), Some("ws"));
        assert!(root.packages.is_empty());
        assert_eq!(
            error(
                WS_PYPROJECT,
                WS_LOCK,
                UvSelection {
                    package: Some("web"),
                    ..UvSelection::default()
                }
            ),
            "no workspace member named `web` in uv.lock (members: api, worker, ws)"
        );
        assert_eq!(stale(WS_API_PYPROJECT, WS_LOCK, Some("api")), None);
        assert_eq!(
            uv_lock_stale(WS_PYPROJECT, WS_LOCK, Some("api")).map_err(|e| e.to_string()),
            Err("pyproject.toml is the project `ws`, not `api`".to_owned())
        );
    }

    #[test]
    fn a_virtual_workspace_root_needs_no_project_table() {
        let root = "[tool.uv.workspace]\nmembers = [\"api\", \"worker\"]\n";
        let api = closure(
            root,
            WS_LOCK,
            UvSelection {
                package: Some("api"),
                ..UvSelection::default()
            },
        );
        assert_eq!(names(&api), ["idna==3.21"]);
        assert_eq!(
            error(root, WS_LOCK, UvSelection::default()),
            "pyproject.toml has no [project] table"
        );
    }

    #[test]
    fn a_forked_dependency_without_its_version_is_ambiguous() {
        let lock = FORK_LOCK.replacen("version = \"1.26.4\", ", "", 1);
        assert_ne!(lock, FORK_LOCK);
        assert_eq!(
            error(FORK_PYPROJECT, &lock, UvSelection::default()),
            "uv.lock: `fork` needs `numpy`, which matches 3 entries of the lock"
        );
    }

    #[test]
    fn a_dependency_on_another_member_is_built_from_its_folder_with_its_dependencies() {
        let lock = WS_LOCK.replace(
            "dependencies = [\n    { name = \"six\" },\n]",
            "dependencies = [\n    { name = \"api\" },\n    { name = \"six\" },\n]",
        );
        assert_ne!(lock, WS_LOCK);
        let worker = closure(
            WS_PYPROJECT,
            &lock,
            UvSelection {
                package: Some("worker"),
                ..UvSelection::default()
            },
        );
        // `api` is a member: built from `api/`, and its own dependency (idna) installed.
        assert_eq!(
            worker.locals,
            [LocalPackage {
                name: PackageName::from_str("api").expect("name"),
                path: "api".into(),
                marker: None,
            }]
        );
        assert_eq!(names(&worker), ["idna==3.21", "six==1.17.0"]);
    }

    #[test]
    fn a_forked_resolution_keeps_every_version_under_its_own_marker() {
        let fork = closure(FORK_PYPROJECT, FORK_LOCK, UvSelection::default());
        assert_eq!(fork.root_kind, RootKind::Virtual);
        assert_eq!(
            names(&fork),
            ["numpy==1.26.4", "numpy==2.4.6", "numpy==2.5.5"]
        );
        let markers: Vec<MarkerTree> = fork
            .packages
            .iter()
            .map(|p| p.marker.clone().unwrap_or_default())
            .collect();
        for (i, a) in markers.iter().enumerate() {
            assert!(a.contents().is_some(), "numpy {i} has no marker");
            for b in &markers[i + 1..] {
                assert!(a.is_disjoint(b), "{a:?} and {b:?} overlap");
            }
        }
        assert_eq!(
            marker_text(&markers[0]).as_deref(),
            Some("python_full_version < '3.11'")
        );
        assert!(fork.packages.iter().all(|p| !p.hashes.is_empty()));
        assert_eq!(stale(FORK_PYPROJECT, FORK_LOCK, None), None);
        // uv rewrote `python_version` to `python_full_version`; both are one marker.
        let written = FORK_PYPROJECT.replace("python_full_version", "python_version");
        assert_eq!(stale(&written, FORK_LOCK, None), None);
    }

    #[test]
    fn an_unchanged_pyproject_is_not_stale_and_edits_are_named() {
        assert_eq!(stale(APP_PYPROJECT, APP_LOCK, None), None);
        assert_eq!(stale(APP_PYPROJECT, APP_LOCK, Some("app")), None);
        // Order does not matter.
        let reordered = APP_PYPROJECT.replace(
            "dependencies = [\n    \"uvicorn[standard]>=0.30\",\n]",
            "dependencies = [\n    \"uvicorn [standard] >= 0.30\",\n]",
        );
        assert_ne!(reordered, APP_PYPROJECT);
        assert_eq!(stale(&reordered, APP_LOCK, None), None);

        let added = APP_PYPROJECT.replace(
            "\"uvicorn[standard]>=0.30\",",
            "\"uvicorn[standard]>=0.30\",\n    \"httpx>=0.27\",",
        );
        assert_eq!(
            stale(&added, APP_LOCK, None).as_deref(),
            Some(
                "pyproject.toml requires `httpx>=0.27`, which uv.lock does not have: run `uv lock`"
            )
        );
        let changed = APP_PYPROJECT.replace("uvicorn[standard]>=0.30", "uvicorn[standard]>=0.31");
        assert!(
            stale(&changed, APP_LOCK, None)
                .is_some_and(|r| r.contains("`uvicorn[standard]>=0.31`"))
        );
        let removed = APP_PYPROJECT.replace("\"uvicorn[standard]>=0.30\",", "");
        assert_eq!(
            stale(&removed, APP_LOCK, None).as_deref(),
            Some(
                "uv.lock has `uvicorn[standard]>=0.30`, which pyproject.toml no longer requires: \
                 run `uv lock`"
            )
        );
        let dynamic = added.replace("[project]\n", "[project]\ndynamic = [\"dependencies\"]\n");
        assert_eq!(stale(&dynamic, APP_LOCK, None), None);
        let extra = APP_PYPROJECT.replace("\"six>=1.17.0\"", "\"six>=1.16\"");
        assert!(
            stale(&extra, APP_LOCK, None)
                .is_some_and(|r| r.contains("requires `six>=1.16` (extra `extra-six`), which"))
        );
        let group =
            APP_PYPROJECT.replace("\"iniconfig>=2\",", "\"iniconfig>=2\",\n    \"pytest\",");
        assert_eq!(
            stale(&group, APP_LOCK, None).as_deref(),
            Some(
                "pyproject.toml's dependency group `dev` requires `pytest`, which uv.lock does \
                 not have: run `uv lock`"
            )
        );
        let python = APP_PYPROJECT.replace(
            "requires-python = \">=3.12\"",
            "requires-python = \">=3.11\"",
        );
        assert_eq!(
            stale(&python, APP_LOCK, None).as_deref(),
            Some(
                "pyproject.toml requires Python `>=3.11`, uv.lock was made for `>=3.12`: run `uv lock`"
            )
        );
    }

    #[test]
    fn toml_mistakes_have_a_line_and_column() {
        let broken = APP_LOCK.replacen("version = \"4.16.0\"", "version = 4.16.0\"", 1);
        let message = error(APP_PYPROJECT, &broken, UvSelection::default());
        let line = APP_LOCK
            .lines()
            .position(|l| l == "version = \"4.16.0\"")
            .map(|i| i + 1)
            .unwrap_or_default();
        assert!(
            message.starts_with(&format!("uv.lock:{line}:")),
            "{message}"
        );
        let pyproject = "[project\nname = \"x\"\n";
        let message = error(pyproject, APP_LOCK, UvSelection::default());
        assert!(message.starts_with("pyproject.toml:1:9: "), "{message}");
        assert_eq!(line_column("ab\ncdé\nf", 7..8), (2, 4));
    }

    #[test]
    fn other_lock_versions_and_missing_projects_are_refused() {
        let v2 = APP_LOCK.replacen("version = 1\n", "version = 2\n", 1);
        assert_eq!(
            error(APP_PYPROJECT, &v2, UvSelection::default()),
            "uv.lock version 2 is not supported (layercake reads version 1)"
        );
        assert_eq!(
            error("[tool.uv]\n", APP_LOCK, UvSelection::default()),
            "pyproject.toml has no [project] table"
        );
        assert_eq!(
            error(VIRT_PYPROJECT, APP_LOCK, UvSelection::default()),
            "uv.lock does not list the project `virt`: run `uv lock`"
        );
    }

    const GIT_PYPROJECT: &str = "[project]\nname = \"svc\"\nversion = \"0.1.0\"\n\
        requires-python = \">=3.12\"\ndependencies = [\"mylib\", \"six\"]\n\n\
        [tool.uv.sources]\nmylib = { git = \"https://example.com/mylib\", rev = \"v1\" }\n";
    const GIT_LOCK: &str = r#"version = 1
revision = 3
requires-python = ">=3.12"

[[package]]
name = "mylib"
version = "1.0.0"
source = { git = "https://example.com/mylib?rev=v1#0123456789abcdef0123456789abcdef01234567" }

[[package]]
name = "six"
version = "1.17.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://example.com/six-1.17.0-py2.py3-none-any.whl", hash = "sha256:aa", size = 1 }]

[[package]]
name = "svc"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "mylib" },
    { name = "six" },
    { name = "starlette" },
]

[package.metadata]
requires-dist = [
    { name = "mylib", git = "https://example.com/mylib?rev=v1" },
    { name = "six" },
]
"#;

    #[test]
    fn git_and_missing_dependencies_are_named() {
        assert_eq!(
            error(GIT_PYPROJECT, GIT_LOCK, UvSelection::default()),
            "uv.lock: package `mylib` comes from git \
             (https://example.com/mylib?rev=v1#0123456789abcdef0123456789abcdef01234567), which \
             layercake cannot build yet"
        );
        let no_git = GIT_LOCK.replace("    { name = \"mylib\" },\n", "");
        assert_eq!(
            error(GIT_PYPROJECT, &no_git, UvSelection::default()),
            "uv.lock: `svc` needs `starlette`, which the lock does not list"
        );
        // A name with a [tool.uv.sources] entry compares without its URL.
        assert_eq!(stale(GIT_PYPROJECT, GIT_LOCK, None), None);
    }

    #[test]
    fn a_dependency_cycle_ends() {
        let lock = GIT_LOCK
            .replace("    { name = \"mylib\" },\n", "")
            .replace("    { name = \"starlette\" },\n", "")
            .replace(
                "source = { registry = \"https://pypi.org/simple\" }\n",
                "source = { registry = \"https://pypi.org/simple\" }\n\
                 dependencies = [{ name = \"svc\" }, { name = \"six\", marker = \"os_name == 'nt'\" }]\n",
            );
        let svc = closure(GIT_PYPROJECT, &lock, UvSelection::default());
        assert_eq!(names(&svc), ["six==1.17.0"]);
        assert_eq!(marker_of(&svc, "six"), None);
        assert_eq!(package(&svc, "six").hashes, ["sha256:aa"]);
    }
}

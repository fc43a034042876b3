//! A Poetry project's locked closure: the packages of `poetry.lock` the project installs (its
//! main dependencies, the extras and dependency groups asked for, transitively), each with the
//! environments it is needed in, read from the text of `pyproject.toml` and `poetry.lock`.
//!
//! The sibling of [`crate::uv_lock`]. Unlike `uv.lock`, `poetry.lock` does not list the project
//! itself: the root's requirements come from pyproject.toml — Poetry 1.x's
//! `[tool.poetry.dependencies]` (constraints like `^0.115`, tables with `extras`, `markers`,
//! `python`, `optional`) or Poetry 2.x's PEP 621 `[project] dependencies`; groups live in
//! `[tool.poetry.group.<name>.dependencies]` (or the older `[tool.poetry.dev-dependencies]`,
//! the group `dev`). Poetry locks universally too, so the walk carries markers along as
//! uv_lock's does: AND along a path, OR over the paths. A dependency's `python` constraint is a
//! `python_version` marker; its `extra == …` clauses are dropped (the walk follows an optional
//! dependency only when an extra that names it was asked for).
//!
//! [`poetry_lock_stale`] is the cheap half of `poetry check --lock`: the lock's `content-hash`
//! (a sha256 of the dependency-related parts of pyproject.toml, checked against locks made by
//! Poetry 1.8 and 2.1), and before it whether every requirement's name is locked at all, for a
//! message that names what is missing.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use pep508_rs::pep440_rs::{Operator, Version, VersionSpecifiers};
use pep508_rs::{MarkerTree, PackageName, VersionOrUrl};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::locked::{
    ClosurePackage, LockedClosure, RootKind, line_column, same_extra, sort_packages,
};

const PYPROJECT: &str = "pyproject.toml";
const POETRY_LOCK: &str = "poetry.lock";

/// Which part of a Poetry project a service installs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PoetrySelection<'a> {
    /// Groups (`[tool.poetry.group.<name>]`) to add to the main dependencies (none by default:
    /// the dev group is not installed unless named).
    pub groups: &'a [String],
    /// Extras of the project (`[project.optional-dependencies]`, `[tool.poetry.extras]`) to add.
    pub extras: &'a [String],
}

/// A Poetry project layercake cannot read, or a lock it cannot install. The caller names the
/// service.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum PoetryLockError {
    #[error("{file}:{line}:{column}: {message}")]
    Toml {
        file: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    TomlNoSpan { file: &'static str, message: String },
    #[error("poetry.lock version {0} is not supported (layercake reads versions 1.x and 2.x)")]
    LockVersion(String),
    #[error("pyproject.toml has neither a [tool.poetry] nor a [project] table")]
    NoProject,
    #[error("{file}: `{text}` is not a valid {what}: {message}")]
    Invalid {
        file: &'static str,
        what: &'static str,
        text: String,
        message: String,
    },
    #[error(
        "poetry.lock: package `{package}` comes from {kind} ({location}), which layercake cannot \
         build yet"
    )]
    Unbuildable {
        package: String,
        kind: String,
        location: String,
    },
    #[error("poetry.lock: `{package}` needs `{dependency}`, which the lock does not list")]
    MissingDependency { package: String, dependency: String },
    #[error(
        "poetry.lock: `{package}` needs `{dependency}` `{constraint}`, which matches {count} \
         entries of the lock"
    )]
    AmbiguousDependency {
        package: String,
        dependency: String,
        constraint: String,
        count: usize,
    },
    #[error(
        "the project has no dependency group `{group}` (groups: {})",
        listed(groups)
    )]
    UnknownGroup { group: String, groups: Vec<String> },
    #[error("the project has no extra `{extra}` (extras: {})", listed(extras))]
    UnknownExtra { extra: String, extras: Vec<String> },
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

#[derive(Deserialize, Default)]
struct Pyproject {
    project: Option<Project>,
    #[serde(default)]
    tool: Tool,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Project {
    name: Option<String>,
    dependencies: Option<Vec<String>>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    dynamic: Vec<String>,
}

#[derive(Deserialize, Default)]
struct Tool {
    poetry: Option<ToolPoetry>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct ToolPoetry {
    name: Option<String>,
    package_mode: Option<bool>,
    #[serde(default)]
    dependencies: BTreeMap<String, Dependency>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Dependency>,
    #[serde(default)]
    group: BTreeMap<String, Group>,
    #[serde(default)]
    extras: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize, Default)]
struct Group {
    #[serde(default)]
    dependencies: BTreeMap<String, Dependency>,
}

/// A dependency as Poetry writes one, in pyproject.toml and in poetry.lock: a constraint, a
/// table, or several tables (one per environment).
#[derive(Deserialize)]
#[serde(untagged)]
enum Dependency {
    Constraint(String),
    One(DependencyTable),
    Many(Vec<DependencyTable>),
}

#[derive(Deserialize, Default, Clone)]
struct DependencyTable {
    version: Option<String>,
    markers: Option<String>,
    python: Option<String>,
    platform: Option<String>,
    #[serde(default)]
    extras: Vec<String>,
    #[serde(default)]
    optional: bool,
}

impl Dependency {
    fn tables(&self) -> Vec<DependencyTable> {
        match self {
            Dependency::Constraint(version) => vec![DependencyTable {
                version: Some(version.clone()),
                ..DependencyTable::default()
            }],
            Dependency::One(table) => vec![table.clone()],
            Dependency::Many(tables) => tables.clone(),
        }
    }
}

#[derive(Deserialize)]
struct LockFile {
    #[serde(default, rename = "package")]
    packages: Vec<LockPackage>,
    #[serde(default)]
    metadata: LockMetadata,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct LockMetadata {
    lock_version: Option<String>,
    content_hash: Option<String>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    #[serde(default)]
    files: Vec<LockFileEntry>,
    #[serde(default)]
    dependencies: BTreeMap<String, Dependency>,
    #[serde(default)]
    extras: BTreeMap<String, Vec<String>>,
    source: Option<LockSource>,
}

#[derive(Deserialize)]
struct LockFileEntry {
    hash: Option<String>,
}

#[derive(Deserialize)]
struct LockSource {
    #[serde(rename = "type")]
    kind: String,
    url: Option<String>,
    reference: Option<String>,
    resolved_reference: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Parsing helpers.

fn parse_toml<T: DeserializeOwned>(file: &'static str, text: &str) -> Result<T, PoetryLockError> {
    toml::from_str(text).map_err(|error| {
        let message = error.message().trim().to_owned();
        match error.span() {
            Some(span) => {
                let (line, column) = line_column(text, span);
                PoetryLockError::Toml {
                    file,
                    line,
                    column,
                    message,
                }
            }
            None => PoetryLockError::TomlNoSpan { file, message },
        }
    })
}

fn parse_lock(text: &str) -> Result<LockFile, PoetryLockError> {
    let lock: LockFile = parse_toml(POETRY_LOCK, text)?;
    if let Some(version) = &lock.metadata.lock_version {
        let major = version.split('.').next().unwrap_or_default();
        if major != "1" && major != "2" {
            return Err(PoetryLockError::LockVersion(version.clone()));
        }
    }
    Ok(lock)
}

fn invalid(
    file: &'static str,
    what: &'static str,
    text: &str,
    message: impl ToString,
) -> PoetryLockError {
    PoetryLockError::Invalid {
        file,
        what,
        text: text.to_owned(),
        message: message.to_string(),
    }
}

fn package_name(file: &'static str, name: &str) -> Result<PackageName, PoetryLockError> {
    PackageName::from_str(name).map_err(|e| invalid(file, "package name", name, e))
}

fn marker(file: &'static str, text: &str) -> Result<MarkerTree, PoetryLockError> {
    MarkerTree::from_str(text).map_err(|e| invalid(file, "marker", text, e))
}

/// A Poetry version constraint (`^1.2`, `~1.2.3`, `>=1,<2 || >3`, `1.2.*`, `*`) as PEP 440
/// specifiers: an OR of ANDs. Empty: any version.
fn constraint(file: &'static str, text: &str) -> Result<Vec<VersionSpecifiers>, PoetryLockError> {
    let mut any_of = Vec::new();
    for alternative in text.split("||").flat_map(|part| part.split('|')) {
        // `>= 1.0` is `>=1.0`; commas and spaces both separate the parts of an AND.
        let mut joined = String::new();
        let mut after_operator = false;
        for c in alternative.trim().chars() {
            if c.is_whitespace() && after_operator {
                continue;
            }
            after_operator = matches!(c, '<' | '>' | '=' | '!' | '~' | '^');
            joined.push(c);
        }
        let mut specifiers = Vec::new();
        for part in joined.split([',', ' ']).filter(|p| !p.is_empty()) {
            specifiers.extend(specifier(part).ok_or_else(|| {
                invalid(file, "version constraint", text, "not a Poetry constraint")
            })?);
        }
        let joined = specifiers.join(", ");
        any_of.push(
            VersionSpecifiers::from_str(&joined)
                .map_err(|e| invalid(file, "version constraint", text, e))?,
        );
    }
    Ok(any_of)
}

/// One part of a Poetry constraint as PEP 440 specifiers (none for `*`).
fn specifier(part: &str) -> Option<Vec<String>> {
    if part == "*" {
        return Some(Vec::new());
    }
    if let Some(version) = part.strip_prefix('^') {
        let release = release(version)?;
        let first = release.iter().position(|&n| n != 0);
        let bump = first.unwrap_or(release.len() - 1);
        return Some(vec![
            format!(">={version}"),
            format!("<{}", bumped(&release, bump)),
        ]);
    }
    if let Some(version) = part.strip_prefix('~').filter(|v| !v.starts_with('=')) {
        let release = release(version)?;
        let bump = if release.len() == 1 { 0 } else { 1 };
        return Some(vec![
            format!(">={version}"),
            format!("<{}", bumped(&release, bump)),
        ]);
    }
    if part.starts_with(['<', '>', '=', '!', '~']) {
        return Some(vec![part.to_owned()]);
    }
    Some(vec![format!("=={part}")])
}

/// The release numbers of a version (`1.2.3b1` → 1, 2, 3).
fn release(version: &str) -> Option<Vec<u64>> {
    let version = Version::from_str(version).ok()?;
    let release = version.release().to_vec();
    (!release.is_empty()).then_some(release)
}

/// `release` up to `at`, with `at` bumped (`1.2.3`, 1 → `1.3`).
fn bumped(release: &[u64], at: usize) -> String {
    let mut parts: Vec<u64> = release[..=at].to_vec();
    parts[at] += 1;
    parts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// A Python constraint (`>=3.8,<4.0`, `^3.8`) as a marker:
/// `python_version >= '3.8' and python_version < '4.0'`.
fn python_marker(file: &'static str, text: &str) -> Result<MarkerTree, PoetryLockError> {
    let mut any = MarkerTree::FALSE;
    for specifiers in constraint(file, text)? {
        let mut all = MarkerTree::TRUE;
        for specifier in specifiers.iter() {
            let version = specifier.version();
            let variable = if version.release().len() > 2 || version.any_prerelease() {
                "python_full_version"
            } else {
                "python_version"
            };
            let (operator, suffix) = match specifier.operator() {
                Operator::EqualStar => ("==", ".*"),
                Operator::NotEqualStar => ("!=", ".*"),
                other => (operator_text(other), ""),
            };
            all.and(marker(
                file,
                &format!("{variable} {operator} '{version}{suffix}'"),
            )?);
        }
        any.or(all);
    }
    Ok(any)
}

fn operator_text(operator: &Operator) -> &'static str {
    match operator {
        Operator::Equal | Operator::EqualStar => "==",
        Operator::ExactEqual => "===",
        Operator::NotEqual | Operator::NotEqualStar => "!=",
        Operator::TildeEqual => "~=",
        Operator::LessThan => "<",
        Operator::LessThanEqual => "<=",
        Operator::GreaterThan => ">",
        Operator::GreaterThanEqual => ">=",
    }
}

/// An edge of the walk: a requirement on a locked package, under the environments it holds in.
struct Edge {
    name: PackageName,
    /// A Poetry constraint or PEP 440 specifiers: picks among several entries of the name.
    constraint: Option<String>,
    marker: MarkerTree,
    extras: Vec<String>,
    optional: bool,
}

impl Edge {
    /// The edges of one Poetry dependency (one per table). `extra == …` clauses are dropped:
    /// whether an optional dependency is followed is the walk's business.
    fn poetry(
        file: &'static str,
        name: &str,
        dependency: &Dependency,
    ) -> Result<Vec<Edge>, PoetryLockError> {
        let name = package_name(file, name)?;
        dependency
            .tables()
            .into_iter()
            .map(|table| {
                let mut along = match &table.markers {
                    Some(text) => marker(file, text)?.simplify_extras_with(|_| true),
                    None => MarkerTree::TRUE,
                };
                if let Some(python) = &table.python {
                    along.and(python_marker(file, python)?);
                }
                if let Some(platform) = &table.platform {
                    along.and(marker(file, &format!("sys_platform == '{platform}'"))?);
                }
                Ok(Edge {
                    name: name.clone(),
                    constraint: table.version.clone(),
                    marker: along,
                    extras: table.extras.clone(),
                    optional: table.optional,
                })
            })
            .collect()
    }

    /// The edge of a PEP 508 requirement (`[project] dependencies`).
    fn pep508(text: &str) -> Result<Edge, PoetryLockError> {
        let requirement = pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(text)
            .map_err(|e| invalid(PYPROJECT, "requirement", text, e))?;
        let constraint = match &requirement.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(specifiers)) if !specifiers.is_empty() => {
                Some(specifiers.to_string())
            }
            _ => None,
        };
        Ok(Edge {
            name: requirement.name,
            constraint,
            marker: requirement.marker.simplify_extras_with(|_| true),
            extras: requirement.extras.iter().map(ToString::to_string).collect(),
            optional: false,
        })
    }
}

/// The name a `[package.extras]` entry (`uvloop (>=0.14) ; sys_platform != "win32"`) or a
/// `[tool.poetry.extras]` entry names.
fn extra_entry_name(entry: &str) -> &str {
    let end = entry
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(entry.len());
    &entry[..end]
}

// ---------------------------------------------------------------------------------------------
// The project's own requirements.

/// What pyproject.toml declares: main requirements, extras' and groups' (by name as written).
struct Declared {
    name: Option<PackageName>,
    package: bool,
    main: Vec<Edge>,
    extras: Vec<(String, Vec<Edge>)>,
    groups: Vec<(String, Vec<Edge>)>,
}

fn poetry_edges(deps: &BTreeMap<String, Dependency>) -> Result<Vec<Edge>, PoetryLockError> {
    let mut edges = Vec::new();
    for (name, dependency) in deps {
        if name.eq_ignore_ascii_case("python") {
            continue;
        }
        edges.extend(Edge::poetry(PYPROJECT, name, dependency)?);
    }
    Ok(edges)
}

fn declared(pyproject: &Pyproject) -> Result<Declared, PoetryLockError> {
    let poetry = pyproject.tool.poetry.as_ref();
    let project = pyproject.project.as_ref();
    if poetry.is_none() && project.is_none() {
        return Err(PoetryLockError::NoProject);
    }
    let empty = ToolPoetry::default();
    let poetry = poetry.unwrap_or(&empty);
    let name = project
        .and_then(|p| p.name.as_deref())
        .or(poetry.name.as_deref())
        .map(|name| package_name(PYPROJECT, name))
        .transpose()?;
    let tool_edges = poetry_edges(&poetry.dependencies)?;

    // PEP 621 dependencies, unless absent or left to [tool.poetry.dependencies] (`dynamic`).
    let pep621 = project
        .filter(|p| !p.dynamic.iter().any(|f| f == "dependencies"))
        .and_then(|p| p.dependencies.as_ref());
    let (main, optional): (Vec<Edge>, Vec<Edge>) = match pep621 {
        Some(requirements) => (
            requirements
                .iter()
                .map(|text| Edge::pep508(text))
                .collect::<Result<_, _>>()?,
            tool_edges,
        ),
        None => tool_edges.into_iter().partition(|edge| !edge.optional),
    };

    let mut extras = Vec::new();
    if let Some(project) = project.filter(|p| !p.optional_dependencies.is_empty()) {
        for (extra, requirements) in &project.optional_dependencies {
            let edges = requirements
                .iter()
                .map(|text| Edge::pep508(text))
                .collect::<Result<_, _>>()?;
            extras.push((extra.clone(), edges));
        }
    } else {
        for (extra, names) in &poetry.extras {
            let mut edges = Vec::new();
            for entry in names {
                let name = package_name(PYPROJECT, extra_entry_name(entry))?;
                let found: Vec<&Edge> = optional.iter().filter(|e| e.name == name).collect();
                if found.is_empty() {
                    edges.push(Edge {
                        name,
                        constraint: None,
                        marker: MarkerTree::TRUE,
                        extras: Vec::new(),
                        optional: true,
                    });
                }
                for edge in found {
                    edges.push(Edge {
                        name: edge.name.clone(),
                        constraint: edge.constraint.clone(),
                        marker: edge.marker.clone(),
                        extras: edge.extras.clone(),
                        optional: true,
                    });
                }
            }
            extras.push((extra.clone(), edges));
        }
    }

    let mut groups = Vec::new();
    for (group, table) in &poetry.group {
        groups.push((group.clone(), poetry_edges(&table.dependencies)?));
    }
    if !poetry.dev_dependencies.is_empty() {
        let edges = poetry_edges(&poetry.dev_dependencies)?;
        match groups.iter_mut().find(|(name, _)| same_extra(name, "dev")) {
            Some((_, group)) => group.extend(edges),
            None => groups.push(("dev".to_owned(), edges)),
        }
    }
    Ok(Declared {
        name,
        package: poetry.package_mode != Some(false),
        main,
        extras,
        groups,
    })
}

// ---------------------------------------------------------------------------------------------
// The closure.

/// The locked packages `selection` installs, read from a Poetry project's `pyproject.toml` and
/// its `poetry.lock`.
pub(crate) fn poetry_closure(
    pyproject: &str,
    lock: &str,
    selection: &PoetrySelection<'_>,
) -> Result<LockedClosure, PoetryLockError> {
    let pyproject: Pyproject = parse_toml(PYPROJECT, pyproject)?;
    let declared = declared(&pyproject)?;
    let lock = parse_lock(lock)?;
    let index = LockIndex::new(&lock)?;

    let mut roots: Vec<&Edge> = declared.main.iter().collect();
    for extra in selection.extras {
        match declared
            .extras
            .iter()
            .find(|(name, _)| same_extra(name, extra))
        {
            Some((_, edges)) => roots.extend(edges),
            None => {
                return Err(PoetryLockError::UnknownExtra {
                    extra: extra.clone(),
                    extras: declared.extras.iter().map(|(n, _)| n.clone()).collect(),
                });
            }
        }
    }
    for group in selection.groups {
        if same_extra(group, "main") {
            continue;
        }
        match declared
            .groups
            .iter()
            .find(|(name, _)| same_extra(name, group))
        {
            Some((_, edges)) => roots.extend(edges),
            None => {
                return Err(PoetryLockError::UnknownGroup {
                    group: group.clone(),
                    groups: declared.groups.iter().map(|(n, _)| n.clone()).collect(),
                });
            }
        }
    }

    let mut walk = Walk {
        lock: &lock,
        index: &index,
        reached: HashMap::new(),
        queue: Vec::new(),
    };
    let from = declared
        .name
        .as_ref()
        .map_or_else(|| PYPROJECT.to_owned(), ToString::to_string);
    for edge in roots {
        walk.edge(&from, edge, &MarkerTree::TRUE)?;
    }
    walk.run()?;

    let mut reached: Vec<(usize, MarkerTree)> = walk
        .reached
        .into_iter()
        .filter(|((_, extra), _)| extra.is_none())
        .map(|((package, _), marker)| (package, marker))
        .collect();
    reached.sort_by_key(|(package, _)| *package);
    let mut packages: Vec<ClosurePackage> = reached
        .into_iter()
        .map(|(package, marker)| {
            let locked = &lock.packages[package];
            ClosurePackage {
                name: index.names[package].clone(),
                version: locked.version.clone(),
                marker: marker.contents().map(|_| marker),
                hashes: locked
                    .files
                    .iter()
                    .filter_map(|file| file.hash.clone())
                    .collect(),
            }
        })
        .collect();
    sort_packages(&mut packages);
    Ok(LockedClosure {
        root: declared.name,
        root_kind: if declared.package {
            RootKind::Package
        } else {
            RootKind::Virtual
        },
        root_path: ".".to_owned(),
        packages,
        // Poetry's path dependencies are refused while walking (not built yet).
        locals: Vec::new(),
    })
}

/// The lock's packages by normalised name (several entries for a multiple-constraint
/// dependency).
struct LockIndex {
    names: Vec<PackageName>,
    by_name: HashMap<PackageName, Vec<usize>>,
}

impl LockIndex {
    fn new(lock: &LockFile) -> Result<LockIndex, PoetryLockError> {
        let mut names = Vec::with_capacity(lock.packages.len());
        let mut by_name: HashMap<PackageName, Vec<usize>> = HashMap::new();
        for (i, package) in lock.packages.iter().enumerate() {
            let name = package_name(POETRY_LOCK, &package.name)?;
            by_name.entry(name.clone()).or_default().push(i);
            names.push(name);
        }
        Ok(LockIndex { names, by_name })
    }

    /// The entry `edge` of `from` names: the only one of that name, or the only one whose
    /// version satisfies the edge's constraint.
    fn resolve(&self, lock: &LockFile, from: &str, edge: &Edge) -> Result<usize, PoetryLockError> {
        let all = self
            .by_name
            .get(&edge.name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let missing = || PoetryLockError::MissingDependency {
            package: from.to_owned(),
            dependency: edge.name.to_string(),
        };
        match all {
            [] => return Err(missing()),
            [one] => return Ok(*one),
            _ => {}
        }
        let text = edge.constraint.as_deref().unwrap_or("*");
        let any_of = constraint(POETRY_LOCK, text)?;
        let matching: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| {
                Version::from_str(&lock.packages[i].version)
                    .is_ok_and(|v| any_of.iter().any(|s| s.contains(&v)))
            })
            .collect();
        match matching.as_slice() {
            [one] => Ok(*one),
            [] => Err(missing()),
            many => Err(PoetryLockError::AmbiguousDependency {
                package: from.to_owned(),
                dependency: edge.name.to_string(),
                constraint: text.to_owned(),
                count: many.len(),
            }),
        }
    }
}

/// The walk from the project: a node is a package, or one extra of a package (the optional
/// dependencies it names), with the marker it was reached under so far.
struct Walk<'l> {
    lock: &'l LockFile,
    index: &'l LockIndex,
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

    /// Reaches the target of `edge` of `from` (and its extras), under `marker`.
    fn edge(
        &mut self,
        from: &str,
        edge: &Edge,
        marker: &MarkerTree,
    ) -> Result<(), PoetryLockError> {
        let target = self.index.resolve(self.lock, from, edge)?;
        if let Some(source) = &self.lock.packages[target].source
            && !matches!(source.kind.as_str(), "legacy" | "pypi")
        {
            let location = match source
                .resolved_reference
                .as_ref()
                .or(source.reference.as_ref())
            {
                Some(reference) if !reference.is_empty() => {
                    format!("{}@{reference}", source.url.as_deref().unwrap_or_default())
                }
                _ => source.url.clone().unwrap_or_default(),
            };
            return Err(PoetryLockError::Unbuildable {
                package: self.index.names[target].to_string(),
                kind: match source.kind.as_str() {
                    "git" => "git".to_owned(),
                    "directory" => "a local directory".to_owned(),
                    "file" => "a local file".to_owned(),
                    "url" => "a URL".to_owned(),
                    other => format!("a `{other}` source"),
                },
                location,
            });
        }
        let mut along = marker.clone();
        along.and(edge.marker.clone());
        self.reach(target, None, along.clone());
        for extra in &edge.extras {
            self.reach(target, Some(extra.clone()), along.clone());
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), PoetryLockError> {
        while let Some((package, extra, marker)) = self.queue.pop() {
            let lock = self.lock;
            let locked = &lock.packages[package];
            let from = self.index.names[package].to_string();
            // The names an extra brings in; None: the package itself (its required ones).
            let named: Option<Vec<PackageName>> = match &extra {
                None => None,
                Some(extra) => {
                    let Some((_, entries)) = locked
                        .extras
                        .iter()
                        .find(|(name, _)| same_extra(name, extra))
                    else {
                        continue;
                    };
                    Some(
                        entries
                            .iter()
                            .filter_map(|e| PackageName::from_str(extra_entry_name(e)).ok())
                            .collect(),
                    )
                }
            };
            for (name, dependency) in &locked.dependencies {
                for edge in Edge::poetry(POETRY_LOCK, name, dependency)? {
                    let follow = match &named {
                        None => !edge.optional,
                        Some(names) => names.contains(&edge.name),
                    };
                    if follow {
                        self.edge(&from, &edge, &marker)?;
                    }
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Staleness.

/// Whether `lock` was made from `pyproject`: every requirement's name (main, every extra, every
/// group) must be locked, and the lock's `content-hash` must be that of the pyproject.toml's
/// dependency-related parts. Returns the first difference as a sentence, or `None`.
pub(crate) fn poetry_lock_stale(
    pyproject: &str,
    lock: &str,
) -> Result<Option<String>, PoetryLockError> {
    let table: toml::Table = parse_toml(PYPROJECT, pyproject)?;
    let parsed: Pyproject = parse_toml(PYPROJECT, pyproject)?;
    let declared = declared(&parsed)?;
    let lock = parse_lock(lock)?;
    let index = LockIndex::new(&lock)?;
    let everything = declared
        .main
        .iter()
        .map(|edge| (edge, String::new()))
        .chain(declared.extras.iter().flat_map(|(extra, edges)| {
            edges
                .iter()
                .map(move |e| (e, format!("'s extra `{extra}`")))
        }))
        .chain(declared.groups.iter().flat_map(|(group, edges)| {
            edges
                .iter()
                .map(move |e| (e, format!("'s group `{group}`")))
        }));
    for (edge, context) in everything {
        if !index.by_name.contains_key(&edge.name) {
            return Ok(Some(format!(
                "pyproject.toml{context} requires `{}`, which poetry.lock does not have: run \
                 `poetry lock`",
                edge.name
            )));
        }
    }
    // PEP 735 `[dependency-groups]` (Poetry 2.2) may be hashed too: that recipe is unchecked.
    if let Some(recorded) = &lock.metadata.content_hash
        && !table.contains_key("dependency-groups")
    {
        let computed = content_hash(&table);
        if &computed != recorded {
            return Ok(Some(format!(
                "pyproject.toml's dependencies changed since poetry.lock was made (its \
                 content-hash is {recorded}, pyproject.toml's is {computed}): run `poetry lock`"
            )));
        }
    }
    Ok(None)
}

/// Poetry's `content-hash`: the sha256 of a JSON document (Python's `json.dumps` with sorted
/// keys) of `[project]`'s `requires-python`, `dependencies` and `optional-dependencies`, and of
/// `[tool.poetry]`'s `dependencies`, `source`, `extras`, `dev-dependencies` and `group`. Without
/// `[project]` content, the `[tool.poetry]` parts are the document, the first four `null` when
/// absent; with it, the document is `{"project": …, "tool": {"poetry": …}}` and absent parts
/// are left out. Checked against the locks of Poetry 1.8.5 and 2.1.3 in the fixtures.
fn content_hash(pyproject: &toml::Table) -> String {
    use sha2::{Digest as _, Sha256};
    let section = |table: &toml::Table, key: &str| -> toml::Table {
        table
            .get(key)
            .and_then(toml::Value::as_table)
            .cloned()
            .unwrap_or_default()
    };
    let project = section(pyproject, "project");
    let tool = section(pyproject, "tool");
    let poetry = section(&tool, "poetry");

    let mut project_parts = BTreeMap::new();
    for key in ["requires-python", "dependencies", "optional-dependencies"] {
        if let Some(value) = project.get(key) {
            project_parts.insert(key.to_owned(), Json::Value(value.clone()));
        }
    }
    let mut poetry_parts = BTreeMap::new();
    for key in [
        "dependencies",
        "source",
        "extras",
        "dev-dependencies",
        "group",
    ] {
        match poetry.get(key) {
            Some(value) => {
                poetry_parts.insert(key.to_owned(), Json::Value(value.clone()));
            }
            None if key != "group" && project_parts.is_empty() => {
                poetry_parts.insert(key.to_owned(), Json::Null);
            }
            None => {}
        }
    }
    let document = if project_parts.is_empty() {
        Json::Object(poetry_parts)
    } else {
        let tool = BTreeMap::from([("poetry".to_owned(), Json::Object(poetry_parts))]);
        Json::Object(BTreeMap::from([
            ("project".to_owned(), Json::Object(project_parts)),
            ("tool".to_owned(), Json::Object(tool)),
        ]))
    };
    let mut text = String::new();
    document.write(&mut text);
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The document [`content_hash`] hashes.
enum Json {
    Null,
    Value(toml::Value),
    Object(BTreeMap<String, Json>),
}

impl Json {
    /// As Python's `json.dumps(…, sort_keys=True)` writes it: `", "` and `": "` separators,
    /// non-ASCII escaped.
    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Value(value) => write_value(value, out),
            Json::Object(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_string(key, out);
                    out.push_str(": ");
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_value(value: &toml::Value, out: &mut String) {
    match value {
        toml::Value::String(text) => write_string(text, out),
        toml::Value::Integer(n) => out.push_str(&n.to_string()),
        toml::Value::Float(f) => out.push_str(&format!("{f:?}")),
        toml::Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        toml::Value::Datetime(d) => write_string(&d.to_string(), out),
        toml::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(item, out);
            }
            out.push(']');
        }
        toml::Value::Table(table) => {
            let sorted: BTreeMap<&String, &toml::Value> = table.iter().collect();
            out.push('{');
            for (i, (key, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(key, out);
                out.push_str(": ");
                write_value(item, out);
            }
            out.push('}');
        }
    }
}

fn write_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP1_PYPROJECT: &str = include_str!("../tests/fixtures/poetry/app1/pyproject.toml");
    const APP1_LOCK: &str = include_str!("../tests/fixtures/poetry/app1/poetry.lock");
    const APP2_PYPROJECT: &str = include_str!("../tests/fixtures/poetry/app2/pyproject.toml");
    const APP2_LOCK: &str = include_str!("../tests/fixtures/poetry/app2/poetry.lock");
    const NOPKG_PYPROJECT: &str = include_str!("../tests/fixtures/poetry/nopkg/pyproject.toml");
    const NOPKG_LOCK: &str = include_str!("../tests/fixtures/poetry/nopkg/poetry.lock");

    fn closure(pyproject: &str, lock: &str, groups: &[&str], extras: &[&str]) -> LockedClosure {
        let groups = strings(groups);
        let extras = strings(extras);
        let selection = PoetrySelection {
            groups: &groups,
            extras: &extras,
        };
        match poetry_closure(pyproject, lock, &selection) {
            Ok(closure) => closure,
            Err(error) => panic!("{error}"),
        }
    }

    fn error(pyproject: &str, lock: &str, groups: &[&str], extras: &[&str]) -> String {
        let groups = strings(groups);
        let extras = strings(extras);
        let selection = PoetrySelection {
            groups: &groups,
            extras: &extras,
        };
        match poetry_closure(pyproject, lock, &selection) {
            Ok(closure) => panic!("expected an error, got {closure:?}"),
            Err(error) => error.to_string(),
        }
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    fn names(closure: &LockedClosure) -> Vec<String> {
        closure
            .packages
            .iter()
            .map(|p| format!("{}=={}", p.name, p.version))
            .collect()
    }

    /// `poetry export --without-hashes` output (stored next to the fixture) as `name==version`,
    /// extras and markers aside, sorted as the closure is.
    fn exported(text: &str) -> Vec<String> {
        let mut pins: Vec<(PackageName, String)> = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let pin = line.split(" ;").next().unwrap_or(line).trim();
                let (name, version) = pin.split_once("==").unwrap_or((pin, ""));
                let name = name.split('[').next().unwrap_or(name);
                (PackageName::from_str(name).unwrap(), version.to_owned())
            })
            .collect();
        pins.sort();
        pins.into_iter().map(|(n, v)| format!("{n}=={v}")).collect()
    }

    fn package<'c>(closure: &'c LockedClosure, name: &str) -> &'c ClosurePackage {
        match closure.packages.iter().find(|p| p.name.as_ref() == name) {
            Some(package) => package,
            None => panic!("{name} is not in {:?}", names(closure)),
        }
    }

    fn marker_of(closure: &LockedClosure, name: &str) -> Option<String> {
        package(closure, name)
            .marker
            .as_ref()
            .and_then(MarkerTree::try_to_string)
    }

    fn stale(pyproject: &str, lock: &str) -> Option<String> {
        match poetry_lock_stale(pyproject, lock) {
            Ok(reason) => reason,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn a_poetry_1_app_installs_what_poetry_export_does() {
        let app = closure(APP1_PYPROJECT, APP1_LOCK, &[], &[]);
        assert_eq!(app.root.as_ref().map(AsRef::as_ref), Some("app1"));
        assert_eq!(app.root_kind, RootKind::Package);
        assert_eq!(app.root_path, ".");
        // `poetry export --without-hashes` (Poetry 1.8.5, poetry-plugin-export 1.8).
        assert_eq!(
            names(&app),
            exported(include_str!(
                "../tests/fixtures/poetry/app1/export-main.txt"
            ))
        );
        assert!(!names(&app).iter().any(|n| n.starts_with("pytest==")));
        assert!(!names(&app).iter().any(|n| n.starts_with("rich==")));
        // uvloop comes with uvicorn's `standard` extra, off Windows, Cygwin and PyPy.
        assert_eq!(
            marker_of(&app, "uvloop").as_deref(),
            Some(
                "platform_python_implementation != 'PyPy' and sys_platform != 'cygwin' and \
                 sys_platform != 'win32'"
            )
        );
        assert_eq!(
            marker_of(&app, "colorama").as_deref(),
            Some("sys_platform == 'win32'")
        );
        assert_eq!(marker_of(&app, "uvicorn"), None);
        assert_eq!(marker_of(&app, "httptools"), None);
        let uvloop = package(&app, "uvloop");
        let files = APP1_LOCK.matches("{file = \"uvloop-0.23.0").count();
        assert!(files > 1);
        assert_eq!(uvloop.hashes.len(), files);
        assert!(
            app.packages
                .iter()
                .all(|p| !p.hashes.is_empty() && p.hashes.iter().all(|h| h.starts_with("sha256:")))
        );
    }

    #[test]
    fn a_poetry_1_app_adds_its_dev_group_and_extras_when_selected() {
        let dev = closure(APP1_PYPROJECT, APP1_LOCK, &["dev"], &[]);
        assert_eq!(
            names(&dev),
            exported(include_str!(
                "../tests/fixtures/poetry/app1/export-with-dev.txt"
            ))
        );
        assert!(names(&dev).contains(&"pytest==8.4.2".to_owned()));
        let fancy = closure(APP1_PYPROJECT, APP1_LOCK, &[], &["fancy"]);
        assert_eq!(
            names(&fancy),
            exported(include_str!(
                "../tests/fixtures/poetry/app1/export-extra-fancy.txt"
            ))
        );
        assert!(names(&fancy).contains(&"rich==13.9.4".to_owned()));
        // The older `[tool.poetry.dev-dependencies]` is the group `dev`.
        let legacy = APP1_PYPROJECT.replace(
            "[tool.poetry.group.dev.dependencies]",
            "[tool.poetry.dev-dependencies]",
        );
        assert_eq!(
            names(&closure(&legacy, APP1_LOCK, &["dev"], &[])),
            names(&dev)
        );
    }

    #[test]
    fn a_poetry_2_app_reads_its_project_table() {
        let app = closure(APP2_PYPROJECT, APP2_LOCK, &[], &[]);
        assert_eq!(app.root.as_ref().map(AsRef::as_ref), Some("app2"));
        assert_eq!(app.root_kind, RootKind::Package);
        // `poetry export --without-hashes` (Poetry 2.1.3, poetry-plugin-export).
        assert_eq!(
            names(&app),
            exported(include_str!(
                "../tests/fixtures/poetry/app2/export-main.txt"
            ))
        );
        assert_eq!(
            marker_of(&app, "click").as_deref(),
            Some("sys_platform != 'emscripten'")
        );
        assert_eq!(
            marker_of(&app, "typing-extensions").as_deref(),
            Some("python_full_version < '3.15'")
        );
        let all = closure(APP2_PYPROJECT, APP2_LOCK, &["dev"], &["yaml"]);
        assert_eq!(
            names(&all),
            exported(include_str!(
                "../tests/fixtures/poetry/app2/export-with-dev-extra-yaml.txt"
            ))
        );
        assert!(names(&all).contains(&"pyyaml==6.0.4".to_owned()));
        assert!(names(&all).contains(&"pytest==8.4.2".to_owned()));
    }

    #[test]
    fn a_project_in_non_package_mode_is_not_built() {
        let app = closure(NOPKG_PYPROJECT, NOPKG_LOCK, &[], &[]);
        assert_eq!(app.root, None);
        assert_eq!(app.root_kind, RootKind::Virtual);
        assert_eq!(app.package(), None);
        assert_eq!(
            names(&app),
            exported(include_str!(
                "../tests/fixtures/poetry/nopkg/export-main.txt"
            ))
        );
        assert_eq!(
            marker_of(&app, "colorama").as_deref(),
            Some("sys_platform == 'win32'")
        );
    }

    #[test]
    fn unknown_groups_and_extras_name_the_ones_there_are() {
        assert_eq!(
            error(APP1_PYPROJECT, APP1_LOCK, &["docs"], &[]),
            "the project has no dependency group `docs` (groups: dev)"
        );
        assert_eq!(
            error(APP1_PYPROJECT, APP1_LOCK, &[], &["yaml"]),
            "the project has no extra `yaml` (extras: fancy)"
        );
        assert_eq!(
            error(NOPKG_PYPROJECT, NOPKG_LOCK, &[], &["x"]),
            "the project has no extra `x` (extras: none)"
        );
    }

    #[test]
    fn the_content_hash_of_poetry_1_and_2_is_checked_and_missing_names_are_named() {
        assert_eq!(stale(APP1_PYPROJECT, APP1_LOCK), None);
        assert_eq!(stale(APP2_PYPROJECT, APP2_LOCK), None);
        assert_eq!(stale(NOPKG_PYPROJECT, NOPKG_LOCK), None);
        let rich = APP2_PYPROJECT.replace("\"httpx>=0.27\",", "\"httpx>=0.27\",\n    \"rich\",");
        assert_eq!(
            stale(&rich, APP2_LOCK).as_deref(),
            Some(
                "pyproject.toml requires `rich`, which poetry.lock does not have: run \
                 `poetry lock`"
            )
        );
        let mypy = APP1_PYPROJECT.replace("pytest = \"^8.0\"", "pytest = \"^8.0\"\nmypy = \"*\"");
        assert_eq!(
            stale(&mypy, APP1_LOCK).as_deref(),
            Some(
                "pyproject.toml's group `dev` requires `mypy`, which poetry.lock does not \
                 have: run `poetry lock`"
            )
        );
        // A changed constraint: every name is locked, the hash tells.
        let bumped = APP1_PYPROJECT.replace("fastapi = \"^0.115\"", "fastapi = \"^0.116\"");
        let reason = stale(&bumped, APP1_LOCK).unwrap_or_default();
        assert!(
            reason.starts_with("pyproject.toml's dependencies changed"),
            "{reason}"
        );
        // Parts that are not hashed do not matter.
        let described = APP2_PYPROJECT.replace("A Poetry 2.x app", "Another description");
        assert_eq!(stale(&described, APP2_LOCK), None);
    }

    #[test]
    fn toml_mistakes_have_a_line_and_column() {
        let broken = APP1_LOCK.replacen("version = \"0.8.0\"", "version = 0.8.0\"", 1);
        let line = APP1_LOCK
            .lines()
            .position(|l| l == "version = \"0.8.0\"")
            .map(|i| i + 1)
            .unwrap_or_default();
        let message = error(APP1_PYPROJECT, &broken, &[], &[]);
        assert!(
            message.starts_with(&format!("poetry.lock:{line}:")),
            "{message}"
        );
        let message = error("[tool.poetry\nname = \"x\"\n", APP1_LOCK, &[], &[]);
        assert!(message.starts_with("pyproject.toml:1:13: "), "{message}");
        assert_eq!(
            error("[build-system]\n", APP1_LOCK, &[], &[]),
            "pyproject.toml has neither a [tool.poetry] nor a [project] table"
        );
        let future = APP1_LOCK.replace("lock-version = \"2.0\"", "lock-version = \"3.0\"");
        assert_eq!(
            error(APP1_PYPROJECT, &future, &[], &[]),
            "poetry.lock version 3.0 is not supported (layercake reads versions 1.x and 2.x)"
        );
    }

    const GIT_PYPROJECT: &str = "[tool.poetry]\npackage-mode = false\n\n\
        [tool.poetry.dependencies]\npython = \"^3.11\"\n\
        mylib = { git = \"https://example.com/mylib.git\", tag = \"v1\" }\nsix = \"*\"\n";
    const GIT_LOCK: &str = r#"[[package]]
name = "mylib"
version = "1.0.0"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
files = []
develop = false

[package.source]
type = "git"
url = "https://example.com/mylib.git"
reference = "v1"
resolved_reference = "0123456789abcdef0123456789abcdef01234567"

[[package]]
name = "six"
version = "1.17.0"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
files = [{file = "six-1.17.0-py2.py3-none-any.whl", hash = "sha256:aa"}]

[package.dependencies]
numpy = [
    {version = ">=1.26,<2", markers = "python_version < \"3.13\""},
    {version = ">=2.1", python = ">=3.13"},
]

[[package]]
name = "numpy"
version = "1.26.4"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
files = [{file = "numpy-1.26.4.tar.gz", hash = "sha256:n1"}]

[[package]]
name = "numpy"
version = "2.1.0"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
files = [{file = "numpy-2.1.0.tar.gz", hash = "sha256:n2"}]

[[package]]
name = "legacy-lib"
version = "0.1"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
files = [{file = "legacy_lib-0.1.tar.gz", hash = "sha256:ll"}]

[package.source]
type = "legacy"
url = "https://pypi.example.com/simple"
reference = "internal"

[metadata]
lock-version = "2.1"
python-versions = "^3.11"
content-hash = "0000"
"#;

    #[test]
    fn git_sources_are_refused_and_multiple_constraints_pick_by_version() {
        assert_eq!(
            error(GIT_PYPROJECT, GIT_LOCK, &[], &[]),
            "poetry.lock: package `mylib` comes from git \
             (https://example.com/mylib.git@0123456789abcdef0123456789abcdef01234567), which \
             layercake cannot build yet"
        );
        let pyproject = GIT_PYPROJECT.replace(
            "mylib = { git = \"https://example.com/mylib.git\", tag = \"v1\" }\n",
            "legacy-lib = { version = \"*\", source = \"internal\" }\n",
        );
        // A secondary index (`legacy`) is a registry; each constraint of a multiple-constraint
        // dependency picks the entry whose version satisfies it, under its own marker.
        let svc = closure(&pyproject, GIT_LOCK, &[], &[]);
        assert_eq!(
            names(&svc),
            [
                "legacy-lib==0.1",
                "numpy==1.26.4",
                "numpy==2.1.0",
                "six==1.17.0"
            ]
        );
        let numpy: Vec<Option<String>> = svc
            .packages
            .iter()
            .filter(|p| p.name.as_ref() == "numpy")
            .map(|p| p.marker.as_ref().and_then(MarkerTree::try_to_string))
            .collect();
        assert_eq!(
            numpy,
            [
                Some("python_full_version < '3.13'".to_owned()),
                Some("python_full_version >= '3.13'".to_owned())
            ]
        );
        assert_eq!(package(&svc, "numpy").hashes, ["sha256:n1"]);
        // A constraint two entries satisfy is not guessed at.
        let vague = GIT_LOCK.replace(">=1.26,<2", ">=1.26");
        assert_eq!(
            error(&pyproject, &vague, &[], &[]),
            "poetry.lock: `six` needs `numpy` `>=1.26`, which matches 2 entries of the lock"
        );
        let no_six = GIT_LOCK.replace("name = \"six\"", "name = \"seven\"");
        assert_eq!(
            error(&pyproject, &no_six, &[], &[]),
            "poetry.lock: `pyproject.toml` needs `six`, which the lock does not list"
        );
    }

    #[test]
    fn poetry_constraints_become_specifiers_and_python_markers() {
        let text = |c: &str| {
            constraint(PYPROJECT, c)
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(text("^0.115"), [">=0.115, <0.116"]);
        assert_eq!(text("^3.11"), [">=3.11, <4"]);
        assert_eq!(text("^0.0.3"), [">=0.0.3, <0.0.4"]);
        assert_eq!(text("~1.2.3"), [">=1.2.3, <1.3"]);
        assert_eq!(text("~=1.2"), ["~=1.2"]);
        assert_eq!(text("*"), [""]);
        assert_eq!(text("1.2.*"), ["==1.2.*"]);
        assert_eq!(text(">= 1.0, < 2.0 || >3"), [">=1.0, <2.0", ">3"]);
        let python = |c: &str| python_marker(PYPROJECT, c).unwrap().try_to_string();
        assert_eq!(
            python(">=3.8,<4.0").as_deref(),
            Some("python_full_version >= '3.8' and python_full_version < '4.0'")
        );
    }
}

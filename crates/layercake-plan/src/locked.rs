//! What a locked Python project installs, whichever tool locked it (`uv.lock`, `poetry.lock`):
//! the project itself, and the closure of pinned packages it needs.

use std::cmp::Ordering;
use std::ops::Range;
use std::str::FromStr;

use pep508_rs::pep440_rs::Version;
use pep508_rs::{ExtraName, MarkerTree, PackageName};

/// How the selected project itself is installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RootKind {
    /// A package, built from the code (uv: `source = { editable = "." }`; Poetry: the default
    /// package mode).
    Package,
    /// Not a package: its code is copied, nothing is built (uv: `source = { virtual = "." }`;
    /// Poetry: `package-mode = false`).
    Virtual,
}

/// One locked package the selection installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClosurePackage {
    pub name: PackageName,
    /// As the lock writes it.
    pub version: String,
    /// The environments it is needed in; `None`: always.
    pub marker: Option<MarkerTree>,
    /// `sha256:…` of the release's files, in the lock's order.
    pub hashes: Vec<String>,
}

/// The locked closure of a selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LockedClosure {
    /// The selected project, normalised; `None` for a project without a name (a Poetry project
    /// in non-package mode needs none).
    pub root: Option<PackageName>,
    pub root_kind: RootKind,
    /// The root's folder, relative to the lock's (`.`, or a uv workspace member's path).
    pub root_path: String,
    /// Every package to install besides the root, sorted by name, then version.
    pub packages: Vec<ClosurePackage>,
    /// Local projects the root needs (uv workspace members), built from their folders like the
    /// root, sorted by name.
    pub locals: Vec<LocalPackage>,
}

/// A project of the same workspace that the root needs: built as a wheel from its folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LocalPackage {
    pub name: PackageName,
    /// Its folder, relative to the lock's.
    pub path: String,
    /// The environments it is needed in; `None`: always.
    pub marker: Option<MarkerTree>,
}

impl LockedClosure {
    /// The project to build as a package, when it is one.
    pub(crate) fn package(&self) -> Option<&PackageName> {
        match self.root_kind {
            RootKind::Package => self.root.as_ref(),
            RootKind::Virtual => None,
        }
    }
}

/// 1-based line and character column of a byte span's start.
pub(crate) fn line_column(text: &str, span: Range<usize>) -> (usize, usize) {
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// PEP 440 order when both parse, else text order.
pub(crate) fn compare_versions(a: &str, b: &str) -> Ordering {
    match (Version::from_str(a), Version::from_str(b)) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => a.cmp(b),
    }
}

/// Extra and group names compare normalised (`Extra_Six` is `extra-six`).
pub(crate) fn same_extra(a: &str, b: &str) -> bool {
    match (ExtraName::from_str(a), ExtraName::from_str(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Sorts a closure's packages by name, then version.
pub(crate) fn sort_packages(packages: &mut [ClosurePackage]) {
    packages.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then_with(|| compare_versions(&a.version, &b.version))
    });
}

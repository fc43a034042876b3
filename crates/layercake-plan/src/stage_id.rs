//! What a stage is and where it runs: its name in the plan, in BuildKit's progress and in
//! `--no-cache-filter` all come from here.

use std::fmt;

use serde::{Serialize, Serializer};

/// What a stage is for. Its [`StageKind::name`] is the word progress shows (`[api wheels 2/4]`)
/// and `--no-cache-filter` matches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StageKind {
    /// Python: the spec's `packages.pip` as a requirements file.
    Packages,
    /// Python: the lock stage's resolver (a pinned uv).
    Resolver,
    /// Python: the complete pinned closure, resolved for the target.
    Lock,
    /// Python: the requirement files alone, the key of the steps that read them.
    Requirements,
    /// Python: the wheel-building image with its build packages.
    Builder,
    /// Python: the wheels of one group of pinned requirements.
    WheelGroup(Part),
    /// Python: every wheel (one `pip wheel` step, or the groups merged).
    Wheels,
    /// Python: the runtime image with its packages and user.
    System,
    /// Python: the proof that the wheel set is complete.
    Resolve,
    /// Python: one group's installed files, as a layer.
    InstallGroup(Part),
    /// Python: a uv project's files but its lock, the key of its wheel.
    ProjectSource,
    /// Python: a uv project that is a package, built as a wheel from its code.
    ProjectWheel,
    /// Python: that wheel installed without dependencies, as a layer.
    ProjectInstall,
    /// Python: a workspace member the project needs, its files but the lock.
    MemberSource(Part),
    /// Python: that member built as a wheel.
    MemberWheel(Part),
    /// Python: that wheel installed without dependencies, as a layer.
    MemberInstall(Part),
    /// Python: the code (and assets) alone, as a layer.
    Code,
    /// Python: the image.
    Runtime,
    /// Node: package.json, the lockfile and .npmrc.
    Manifests,
    /// Node: `node_modules`.
    Deps,
    /// Node: the code over `node_modules`.
    Sources,
    /// Node: the build script's output.
    Build,
    /// Node: only the built files (a service without `serve`).
    Dist,
    /// nginx: the server with its user and config.
    Serve,
    /// nginx: the frontend image's layer that holds the health probe.
    Probe,
    /// nginx: the built files alone, as a layer.
    Html,
    /// nginx: the image.
    Image,
    /// A salted digest of a `rebuild_on_change` secret (the secret's id).
    SecretDigest(String),
}

/// One of several stages of the same kind that split a step by package group: `2` of `4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Part {
    /// 1-based.
    pub number: usize,
    pub of: usize,
}

impl StageKind {
    /// The word progress shows and `--no-cache-filter` matches; the parts of a split stage
    /// share it (`wheels`), and so do the stages they join.
    pub fn name(&self) -> &str {
        match self {
            StageKind::Packages => "packages",
            StageKind::Resolver => "uv",
            StageKind::Lock => "lock",
            StageKind::Requirements => "requirements",
            StageKind::Builder => "builder",
            StageKind::WheelGroup(_) | StageKind::Wheels => "wheels",
            StageKind::System => "system",
            StageKind::Resolve => "resolve",
            StageKind::InstallGroup(_) => "install",
            StageKind::ProjectSource => "project-source",
            StageKind::ProjectWheel => "project",
            StageKind::ProjectInstall => "project-install",
            StageKind::MemberSource(_) => "member-source",
            StageKind::MemberWheel(_) => "member",
            StageKind::MemberInstall(_) => "member-install",
            StageKind::Code => "code",
            StageKind::Runtime => "runtime",
            StageKind::Manifests => "manifests",
            StageKind::Deps => "deps",
            StageKind::Sources => "sources",
            StageKind::Build => "build",
            StageKind::Dist => "dist",
            StageKind::Serve => "serve",
            StageKind::Probe => "probe",
            StageKind::Html => "html",
            StageKind::Image => "image",
            StageKind::SecretDigest(_) => "secret",
        }
    }

    /// The part this stage is, for a split one.
    pub fn part(&self) -> Option<Part> {
        match self {
            StageKind::WheelGroup(part)
            | StageKind::InstallGroup(part)
            | StageKind::MemberSource(part)
            | StageKind::MemberWheel(part)
            | StageKind::MemberInstall(part) => Some(*part),
            _ => None,
        }
    }

    /// The stage a user knows this one as, when it is one of several that a single stage of
    /// the first design was split into: the install layers, their base and the code layer are
    /// `runtime`; nginx's parts are `serve`. `--no-cache-filter` accepts that name too.
    pub fn family(&self) -> Option<&'static str> {
        match self {
            StageKind::System
            | StageKind::Resolve
            | StageKind::InstallGroup(_)
            | StageKind::ProjectInstall
            | StageKind::MemberInstall(_)
            | StageKind::Code => Some("runtime"),
            StageKind::ProjectSource
            | StageKind::ProjectWheel
            | StageKind::MemberSource(_)
            | StageKind::MemberWheel(_) => Some("wheels"),
            StageKind::Probe | StageKind::Html | StageKind::Image => Some("serve"),
            _ => None,
        }
    }
}

/// Where a stage's steps run: the image's platform, or the engine's own for work whose result
/// does not depend on the target (the npm build).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunsOn {
    Target,
    Build,
}

/// Names a stage: `api/wheels`, `api/wheels-2`, `web/build`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StageId {
    pub service: String,
    pub kind: StageKind,
}

impl StageId {
    pub fn new(service: &str, kind: StageKind) -> StageId {
        StageId {
            service: service.to_owned(),
            kind,
        }
    }

    /// The stage's own name, unique in its service: `wheels-2`, `secret-npm_token`, `deps`.
    pub fn name(&self) -> String {
        match &self.kind {
            StageKind::SecretDigest(secret) => format!("secret-{secret}"),
            kind => match kind.part() {
                Some(part) => format!("{}-{}", kind.name(), part.number),
                None => kind.name().to_owned(),
            },
        }
    }

    /// How BuildKit's progress names the stage's vertices: `[api wheels 2/4] …` for its steps
    /// (`number` of `total`, or the part for a split stage, whose one step it is), and
    /// `[api wheels] …` for what joins or diffs its results.
    pub fn step_label(&self, number: usize, total: usize) -> String {
        let (number, total) = match self.kind.part() {
            Some(part) => (part.number, part.of),
            None => (number, total),
        };
        format!("[{} {} {number}/{total}]", self.service, self.word())
    }

    /// A vertex of the stage that is not one of its steps (a merge, a diff): `[api wheels]
    /// merge 4 results`, `[api install] changed files as a layer (2/4)`.
    pub fn vertex_name(&self, what: &str) -> String {
        let mut name = format!("[{} {}] {what}", self.service, self.word());
        if let Some(part) = self.kind.part() {
            name.push_str(&format!(" ({}/{})", part.number, part.of));
        }
        name
    }

    fn word(&self) -> String {
        match &self.kind {
            StageKind::SecretDigest(_) => self.name(),
            kind => kind.name().to_owned(),
        }
    }

    /// The names `--no-cache-filter` matches the stage by: its service, its name, its kind's
    /// word and family, each also as `service/name`.
    pub fn filter_names(&self) -> Vec<String> {
        let mut names = vec![self.service.clone(), self.name(), self.to_string()];
        for word in [Some(self.kind.name()), self.kind.family()]
            .into_iter()
            .flatten()
        {
            names.push(word.to_owned());
            names.push(format!("{}/{word}", self.service));
        }
        names
    }
}

impl fmt::Display for StageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.service, self.name())
    }
}

/// As the plan prints it: `{"service": "api", "stage": "wheels-2"}`.
impl Serialize for StageId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename = "StageId")]
        struct Shown<'a> {
            service: &'a str,
            stage: String,
        }
        Shown {
            service: &self.service,
            stage: self.name(),
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels_agree_for_whole_and_split_stages() {
        let part = Part { number: 2, of: 4 };
        let group = StageId::new("api", StageKind::WheelGroup(part));
        assert_eq!(group.to_string(), "api/wheels-2");
        assert_eq!(group.step_label(1, 1), "[api wheels 2/4]");
        assert_eq!(group.vertex_name("merge"), "[api wheels] merge (2/4)");
        let merged = StageId::new("api", StageKind::Wheels);
        assert_eq!(merged.to_string(), "api/wheels");
        assert_eq!(merged.step_label(1, 3), "[api wheels 1/3]");
        let install = StageId::new("api", StageKind::InstallGroup(part));
        assert_eq!(install.to_string(), "api/install-2");
        assert_eq!(install.step_label(1, 1), "[api install 2/4]");
        assert_eq!(
            install.vertex_name("changed files as a layer"),
            "[api install] changed files as a layer (2/4)"
        );
        assert_eq!(
            merged.vertex_name("merge 4 results"),
            "[api wheels] merge 4 results"
        );
        let secret = StageId::new("web", StageKind::SecretDigest("npm_token".into()));
        assert_eq!(secret.to_string(), "web/secret-npm_token");
        assert_eq!(secret.step_label(1, 1), "[web secret-npm_token 1/1]");
    }

    #[test]
    fn no_cache_filter_names_cover_the_stage_its_word_and_family() {
        let install = StageId::new("api", StageKind::InstallGroup(Part { number: 3, of: 8 }));
        let names = install.filter_names();
        for name in [
            "api",
            "install-3",
            "api/install-3",
            "install",
            "runtime",
            "api/runtime",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        assert!(!names.iter().any(|n| n == "wheels"));
    }
}

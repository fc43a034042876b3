//! Shared by the planner tests: load a spec from testdata, read the context files the planner asks
//! for (the way the CLI does), plan, lower, and walk the resulting LLB by digest.

// Each test file uses some of these; helpers may fail loudly, as tests do.
#![allow(dead_code, clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use buildkit_llb::{Definition, pb};
use layercake_plan::{
    ContextFiles, FileScope, Lock, LockedPackage, LowerInputs, PackageName, Plan, PlanOptions,
    Platform, RequirementsFile, ServiceSettings, gather, lock_plan, lower, plan,
    services_from_spec,
};

/// The workspace root (testdata lives there).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A spec and the build context it is planned against.
#[derive(Debug, Clone)]
pub struct Project {
    /// Short name used in snapshot names: `example`, `ok-full`.
    pub name: String,
    pub spec: PathBuf,
    pub context: PathBuf,
}

impl Project {
    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.spec)
            .unwrap_or_else(|e| panic!("read {}: {e}", self.spec.display()))
    }

    pub fn services(&self) -> Vec<ServiceSettings> {
        services_from_text(&self.spec_file_name(), &self.text())
    }

    fn spec_file_name(&self) -> String {
        self.spec
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The spec's services, in file order (every valid `--target`).
    pub fn targets(&self) -> Vec<String> {
        self.services().into_iter().map(|s| s.name).collect()
    }

    pub fn plan(&self, target: &str, options: &PlanOptions) -> Plan {
        plan_text(
            &self.spec_file_name(),
            &self.text(),
            &self.context,
            target,
            options,
        )
    }

    /// The plan `layercake plan` shows: no lock stage answer.
    pub fn plan_without_lock(&self, target: &str) -> Plan {
        plan_text_without_lock(
            &self.spec_file_name(),
            &self.text(),
            &self.context,
            target,
            &PlanOptions::new(Platform::linux_amd64()),
        )
    }

    pub fn plan_amd64(&self, target: &str) -> Plan {
        self.plan(target, &PlanOptions::new(Platform::linux_amd64()))
    }
}

/// Every spec the snapshot and determinism tests cover: the two example projects, every spec in
/// `testdata/specs/ok` (planned against `tests/fixtures/ok-context`, which holds the requirement
/// files they name) and the nested-requirements fixture.
pub fn projects() -> Vec<Project> {
    let testdata = workspace().join("testdata");
    let mut out = vec![
        Project {
            name: "example".into(),
            spec: testdata.join("example/layercake.yaml"),
            context: testdata.join("example"),
        },
        Project {
            name: "realistic".into(),
            spec: testdata.join("realistic/layercake.yaml"),
            context: testdata.join("realistic"),
        },
    ];
    let ok = testdata.join("specs/ok");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(&ok)
        .unwrap_or_else(|e| panic!("read {}: {e}", ok.display()))
        .map(|entry| entry.map(|e| e.path()).unwrap_or_default())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    specs.sort();
    assert!(!specs.is_empty(), "no specs in {}", ok.display());
    for spec in specs {
        let stem = spec
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(Project {
            name: format!("ok-{stem}"),
            spec,
            context: fixtures().join("ok-context"),
        });
    }
    out.push(nested_reqs());
    out.push(Project {
        name: "hashed-pins".into(),
        spec: fixtures().join("hashed-pins/layercake.yaml"),
        context: fixtures().join("hashed-pins"),
    });
    out
}

pub fn project(name: &str) -> Project {
    projects()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no project {name}"))
}

/// A service whose requirements file sits in a subfolder and pulls in `-r base.txt` and
/// `-c constraints.txt` (and, through base.txt, `../common.txt`).
pub fn nested_reqs() -> Project {
    Project {
        name: "nested-reqs".into(),
        spec: fixtures().join("nested-reqs/layercake.yaml"),
        context: fixtures().join("nested-reqs"),
    }
}

/// Parses, validates and resolves (no build args) a spec text.
pub fn services_from_text(file_name: &str, text: &str) -> Vec<ServiceSettings> {
    let spec = layercake_spec::parse(file_name, text).unwrap_or_else(|e| panic!("{e}"));
    let resolved = spec
        .resolve_args(&BTreeMap::new())
        .unwrap_or_else(|e| panic!("{e}"));
    services_from_spec(&resolved)
}

/// Reads what the plan of `target` needs from `context`, as `layercake plan` does; a test
/// project always has every file it names.
pub fn read_context_files(
    services: &[ServiceSettings],
    target: &str,
    context: &Path,
) -> ContextFiles {
    let gathered = gather(services, FileScope::Plan { target }, |wanted| {
        wanted
            .iter()
            .filter_map(|path| {
                std::fs::read_to_string(context.join(path))
                    .ok()
                    .map(|text| (path.clone(), text))
            })
            .map(Ok::<_, std::convert::Infallible>)
            .collect()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        gathered.missing.is_empty(),
        "{target}: missing {:?}",
        gathered.missing
    );
    gathered.files
}

pub fn plan_text(
    file_name: &str,
    text: &str,
    context: &Path,
    target: &str,
    options: &PlanOptions,
) -> Plan {
    let services = services_from_text(file_name, text);
    let files = read_context_files(&services, target, context);
    // As the frontend does: a set that needs the lock stage is planned from its answer.
    let mut options = options.clone();
    let needs_lock = lock_plan(&services, target, &files, &options)
        .unwrap_or_else(|e| panic!("lock plan {target}: {e}"))
        .is_some();
    if needs_lock && options.lock.is_none() {
        options.lock = Some(test_lock(&files));
    }
    plan(&services, target, &files, &options).unwrap_or_else(|e| panic!("plan {target}: {e}"))
}

/// The plan without the lock stage's answer, as `layercake plan` and `layercake dockerfile` see
/// it: sets that need a lock are built in one `pip wheel -r` step over the files.
pub fn plan_text_without_lock(
    file_name: &str,
    text: &str,
    context: &Path,
    target: &str,
    options: &PlanOptions,
) -> Plan {
    let services = services_from_text(file_name, text);
    let files = read_context_files(&services, target, context);
    plan(&services, target, &files, options).unwrap_or_else(|e| panic!("plan {target}: {e}"))
}

/// What the lock stage would answer if pip resolved nothing beyond the files: every named
/// requirement at its pinned version (`1.0` when it pins none), sorted by name.
pub fn test_lock(files: &ContextFiles) -> Lock {
    let mut packages: BTreeMap<PackageName, LockedPackage> = BTreeMap::new();
    for (path, text) in files {
        let Ok(parsed) = RequirementsFile::parse(path, text) else {
            continue;
        };
        for requirement in parsed.requirements() {
            let name = requirement.name.clone();
            let version = requirement
                .pin
                .as_ref()
                .map_or_else(|| "1.0".to_owned(), ToString::to_string);
            packages.entry(name.clone()).or_insert(LockedPackage {
                name,
                version,
                hashes: Vec::new(),
            });
        }
    }
    Lock {
        packages: packages.into_values().collect(),
    }
}

/// The lowering inputs `layercake llb` uses.
pub fn cli_inputs() -> LowerInputs {
    LowerInputs {
        context_name: "context".into(),
        frontend_image: Some("layercake:dev".into()),
        // As the frontend sees an image built by its recipes (it checks; this cannot).
        frontend_is_probe_layer: true,
        ..LowerInputs::default()
    }
}

pub fn definition(plan: &Plan) -> Definition {
    let lowered = lower(plan, &cli_inputs()).unwrap_or_else(|e| panic!("lower: {e}"));
    Definition::new(&lowered.output)
}

/// A decoded LLB graph, addressed by op digest.
pub struct Graph {
    pub ops: BTreeMap<String, pb::Op>,
    pub metadata: BTreeMap<String, pb::OpMetadata>,
    /// (digest, output index) of the result.
    pub head: (String, i64),
}

/// One op of the image's layer chain: the op and, for copies, where they copy to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainLink {
    pub digest: String,
    pub name: String,
    /// Exec: the mount whose output the chain follows; file op: the copy/mkfile destinations.
    pub paths: Vec<String>,
}

impl Graph {
    pub fn new(definition: &Definition) -> Graph {
        let decoded = Definition::decode(&definition.encode_to_vec())
            .unwrap_or_else(|e| panic!("decode: {e}"));
        let mut ops = BTreeMap::new();
        let mut terminal = None;
        for (digest, op) in decoded.ops() {
            if op.op.is_none() {
                terminal = op.inputs.first().map(|i| (i.digest.clone(), i.index));
            } else {
                ops.insert(digest.as_str().to_owned(), op.clone());
            }
        }
        Graph {
            ops,
            metadata: decoded.as_pb().metadata.clone(),
            head: terminal.unwrap_or_else(|| panic!("no terminal op")),
        }
    }

    pub fn op(&self, digest: &str) -> &pb::Op {
        self.ops
            .get(digest)
            .unwrap_or_else(|| panic!("no op {digest}"))
    }

    pub fn name(&self, digest: &str) -> &str {
        self.metadata
            .get(digest)
            .and_then(|m| m.description.get(buildkit_llb::CUSTOM_NAME_KEY))
            .map_or("", String::as_str)
    }

    pub fn ignores_cache(&self, digest: &str) -> bool {
        self.metadata.get(digest).is_some_and(|m| m.ignore_cache)
    }

    /// The one op whose custom name contains `needle`.
    pub fn find(&self, needle: &str) -> String {
        let found: Vec<&String> = self
            .ops
            .keys()
            .filter(|d| self.name(d).contains(needle))
            .collect();
        assert_eq!(found.len(), 1, "ops named like `{needle}`: {found:?}");
        found[0].clone()
    }

    pub fn exec(&self, digest: &str) -> &pb::ExecOp {
        match &self.op(digest).op {
            Some(pb::op::Op::Exec(exec)) => exec,
            other => panic!("{} is not an exec: {other:?}", self.name(digest)),
        }
    }

    pub fn file(&self, digest: &str) -> &pb::FileOp {
        match &self.op(digest).op {
            Some(pb::op::Op::File(file)) => file,
            other => panic!("{} is not a file op: {other:?}", self.name(digest)),
        }
    }

    /// The copy actions of a file op.
    pub fn copies(&self, digest: &str) -> Vec<&pb::FileActionCopy> {
        self.file(digest)
            .actions
            .iter()
            .filter_map(|a| match &a.action {
                Some(pb::file_action::Action::Copy(copy)) => Some(copy),
                _ => None,
            })
            .collect()
    }

    pub fn is_context(&self, digest: &str) -> bool {
        matches!(&self.op(digest).op, Some(pb::op::Op::Source(s)) if s.identifier.starts_with("local://"))
    }

    pub fn inputs(&self, digest: &str) -> Vec<String> {
        self.op(digest)
            .inputs
            .iter()
            .map(|i| i.digest.clone())
            .collect()
    }

    /// Whether `from` reaches the build context without passing through any op in `avoid`.
    pub fn reaches_context_avoiding(&self, from: &str, avoid: &BTreeSet<String>) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(digest) = stack.pop() {
            if avoid.contains(&digest) || !seen.insert(digest.clone()) {
                continue;
            }
            if self.is_context(&digest) {
                return true;
            }
            stack.extend(self.inputs(&digest));
        }
        false
    }

    /// Every op `from` depends on, itself included.
    pub fn ancestors(&self, from: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(digest) = stack.pop() {
            if seen.insert(digest.clone()) {
                stack.extend(self.inputs(&digest));
            }
        }
        seen
    }

    /// The ops whose output is a layer of the result, from the head down to the base image: for
    /// an exec the mount whose output is taken, for a file op the action chain's base. A merge
    /// lists its inputs' layers last input first, so its first input (the base) ends the list; a
    /// diff lists its upper side's ops down to (not including) its lower side.
    pub fn layer_chain(&self) -> Vec<ChainLink> {
        let mut chain = Vec::new();
        // (edge, where a diff's upper side stops)
        let mut stack: Vec<((String, i64), Option<String>)> = vec![(self.head.clone(), None)];
        while let Some(((digest, index), stop)) = stack.pop() {
            if stop.as_deref() == Some(digest.as_str()) {
                continue;
            }
            let op = self.op(&digest);
            let name = self.name(&digest).to_owned();
            let edge = |i: i64| {
                usize::try_from(i)
                    .ok()
                    .map(|i| (op.inputs[i].digest.clone(), op.inputs[i].index))
            };
            let mut paths = Vec::new();
            match &op.op {
                Some(pb::op::Op::Exec(exec)) => {
                    let mount = exec
                        .mounts
                        .iter()
                        .find(|m| m.output == index)
                        .unwrap_or_else(|| panic!("{name}: no mount gives output {index}"));
                    paths.push(mount.dest.clone());
                    if let Some(next) = edge(mount.input) {
                        stack.push((next, stop));
                    }
                }
                Some(pb::op::Op::File(file)) => {
                    let inputs = op.inputs.len();
                    let mut action = file
                        .actions
                        .iter()
                        .find(|a| a.output == index)
                        .unwrap_or_else(|| panic!("{name}: no action gives output {index}"));
                    loop {
                        match &action.action {
                            Some(pb::file_action::Action::Copy(c)) => paths.push(c.dest.clone()),
                            Some(pb::file_action::Action::Mkfile(m)) => paths.push(m.path.clone()),
                            Some(pb::file_action::Action::Mkdir(m)) => paths.push(m.path.clone()),
                            _ => {}
                        }
                        match usize::try_from(action.input) {
                            Ok(i) if i < inputs => {
                                stack.push((
                                    (op.inputs[i].digest.clone(), op.inputs[i].index),
                                    stop,
                                ));
                                break;
                            }
                            Ok(i) => action = &file.actions[i - inputs],
                            Err(_) => break,
                        }
                    }
                }
                Some(pb::op::Op::Merge(merge)) => {
                    for input in &merge.inputs {
                        if let Some(next) = edge(input.input) {
                            stack.push((next, stop.clone()));
                        }
                    }
                }
                Some(pb::op::Op::Diff(diff)) => {
                    let lower = diff
                        .lower
                        .as_ref()
                        .and_then(|l| edge(l.input))
                        .map(|(digest, _)| digest);
                    if let Some(next) = diff.upper.as_ref().and_then(|u| edge(u.input)) {
                        stack.push((next, lower));
                    }
                }
                _ => {}
            }
            chain.push(ChainLink {
                digest: digest.clone(),
                name,
                paths,
            });
        }
        chain
    }
}

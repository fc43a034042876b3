//! Shared by the planner tests: load a spec from testdata, read the context files the planner asks
//! for (the way the CLI does), plan, lower, and walk the resulting LLB by digest.

// Each test file uses some of these; helpers may fail loudly, as tests do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use buildkit_llb::Definition;
use layercake_plan::{
    ContextFiles, FileScope, Lock, LockedPackage, LowerInputs, PackageName, Plan, PlanOptions,
    Platform, RequirementsFile, ServiceSettings, gather, lock_plan, lower, plan,
    services_from_spec,
};

/// The workspace root (testdata lives there).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixtures() -> PathBuf {
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

/// Every spec the snapshot and determinism tests cover: the example projects, every spec in
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
        Project {
            name: "uv".into(),
            spec: testdata.join("uv/layercake.yaml"),
            context: testdata.join("uv"),
        },
        Project {
            name: "uv-workspace".into(),
            spec: testdata.join("uv-workspace/layercake.yaml"),
            context: testdata.join("uv-workspace"),
        },
        Project {
            name: "poetry".into(),
            spec: testdata.join("poetry/layercake.yaml"),
            context: testdata.join("poetry"),
        },
        Project {
            name: "poetry1".into(),
            spec: testdata.join("poetry1/layercake.yaml"),
            context: testdata.join("poetry1"),
        },
        Project {
            name: "pep621".into(),
            spec: testdata.join("pep621/layercake.yaml"),
            context: testdata.join("pep621"),
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
    services_from_spec(&resolved).unwrap_or_else(|e| panic!("{e}"))
}

/// Reads what the plan of `target` needs from `context`, as `layercake plan` does; a test
/// project always has every file it names.
pub fn read_context_files(
    services: &[ServiceSettings],
    target: &str,
    context: &Path,
) -> ContextFiles {
    let gathered = gather(services, FileScope::Plan { target }, |wanted, _optional| {
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

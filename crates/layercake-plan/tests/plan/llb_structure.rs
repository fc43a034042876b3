//! The caching claims, proved on the LLB itself: decode the Definition and walk op inputs.

// Test helpers outside #[test] fns may fail loudly too.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use buildkit_llb::pb;
use buildkit_llb::testing::Graph;
use layercake_plan::{EngineFeatures, NoCache, PlanOptions, Platform};

fn graph(project: &str, target: &str) -> Graph {
    let plan = common::project(project).plan_amd64(target);
    Graph::new(&common::definition(&plan))
}

fn graph_with(project: &str, target: &str, options: &PlanOptions) -> Graph {
    let plan = common::project(project).plan(target, options);
    Graph::new(&common::definition(&plan))
}

fn platform(os: &str, arch: &str) -> Platform {
    Platform::new(os, arch)
}

/// Proves `exec` sees the context only through `gate` (a copy from the context whose include
/// patterns are `include`), and returns the gate's copy.
fn context_only_through(g: &Graph, exec: &str, gate: &str, include: &[&str]) {
    assert!(
        g.reaches_context_avoiding(exec, &BTreeSet::new()),
        "{} does not read the context at all",
        g.name(exec)
    );
    let avoid = BTreeSet::from([gate.to_owned()]);
    assert!(
        !g.reaches_context_avoiding(exec, &avoid),
        "{} reaches the build context without going through `{}`",
        g.name(exec),
        g.name(gate)
    );
    // The gate reads the context directly, and only through patterns naming exactly the files.
    let inputs = g.inputs(gate);
    assert_eq!(inputs.len(), 1, "{} has inputs {inputs:?}", g.name(gate));
    assert!(
        g.is_context(&inputs[0]),
        "{} is not a context copy",
        g.name(gate)
    );
    let copies = g.copies(gate);
    assert_eq!(copies.len(), 1);
    let mut got: Vec<&str> = copies[0]
        .include_patterns
        .iter()
        .map(String::as_str)
        .collect();
    let mut want = include.to_vec();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "include patterns of {}", g.name(gate));
    assert!(copies[0].exclude_patterns.is_empty());
}

/// Every exec that builds wheels: one `pip wheel` over the requirement files, or (when every
/// requirement is pinned) one `pip wheel --no-deps` per requirement.
fn wheel_execs(g: &Graph) -> Vec<String> {
    g.ops
        .keys()
        .filter(|d| match &g.op(d).op {
            Some(pb::op::Op::Exec(exec)) => exec
                .meta
                .as_ref()
                .is_some_and(|m| m.args.join(" ").contains("pip wheel")),
            _ => false,
        })
        .cloned()
        .collect()
}

fn exec_args(g: &Graph, digest: &str) -> Option<String> {
    match &g.op(digest).op {
        Some(pb::op::Op::Exec(exec)) => exec.meta.as_ref().map(|m| m.args.join(" ")),
        _ => None,
    }
}

/// Every exec that installs wheels into the image: one `pip install` over all of them, or (when
/// the wheels are built in groups) one `pip install --no-deps` per group.
fn install_execs(g: &Graph) -> Vec<String> {
    g.ops
        .keys()
        .filter(|d| {
            exec_args(g, d).is_some_and(|a| {
                a.contains("pip install")
                    && !a.contains("--dry-run")
                    && !a.contains("--target /tool")
            })
        })
        .cloned()
        .collect()
}

/// The `resolve` exec that proves a grouped wheel set complete (`pip install --dry-run`).
fn resolve_exec(g: &Graph) -> Option<String> {
    g.ops
        .keys()
        .find(|d| exec_args(g, d).is_some_and(|a| a.contains("pip install --dry-run")))
        .cloned()
}

/// The lock stage's exec: uv resolves the requirement files into a compiled requirements file.
fn lock_exec(g: &Graph) -> Option<String> {
    g.ops
        .keys()
        .find(|d| exec_args(g, d).is_some_and(|a| a.contains("uv pip compile")))
        .cloned()
}

/// The lock stage's resolver install: `pip install --target /tool` of uv, by hash.
fn resolver_exec(g: &Graph) -> Option<String> {
    g.ops
        .keys()
        .find(|d| exec_args(g, d).is_some_and(|a| a.contains("--target /tool")))
        .cloned()
}

/// The steps that download packages: the wheel builds, the lock stage's resolution and its
/// resolver's install.
fn dependency_execs(g: &Graph) -> Vec<String> {
    let mut execs = wheel_execs(g);
    execs.extend(lock_exec(g));
    execs.extend(resolver_exec(g));
    execs
}

/// The wheel builds never see the context except through the requirements copy, and the
/// install step sees it only through that copy too.
fn python_dependency_key(project: &str, requirement_files: &[&str]) {
    python_dependency_key_with(
        project,
        requirement_files,
        &PlanOptions::new(Platform::linux_amd64()),
    );
    // Engines without DiffOp/MergeOp: one install, of the pinned lines when every line is pinned.
    let old_engine = PlanOptions {
        engine: EngineFeatures::all().with_merge_diff(false),
        ..PlanOptions::new(Platform::linux_amd64())
    };
    python_dependency_key_with(project, requirement_files, &old_engine);
}

fn python_dependency_key_with(project: &str, requirement_files: &[&str], options: &PlanOptions) {
    let g = graph_with(project, "api", options);
    let wheels = wheel_execs(&g);
    assert!(!wheels.is_empty(), "{project}: no pip wheel step");
    let installs = install_execs(&g);
    let resolve = resolve_exec(&g);
    // The pinned lines go to pip through a file the step writes itself.
    let takes_lines = |exec: &String| {
        g.exec(exec)
            .meta
            .as_ref()
            .is_some_and(|m| m.args.join(" ").contains("> /tmp/requirements.txt"))
    };
    let per_package = resolve.is_some() || (installs.len() == 1 && takes_lines(&installs[0]));
    // Every project here is planned per package (its lines, or the lock's answer): a silent
    // fall back to one `pip wheel -r` over the files must fail, not pass the other branch.
    assert!(
        per_package,
        "{project}: not planned per package: {} wheel step(s), {} install(s), resolve {resolve:?}",
        wheels.len(),
        installs.len()
    );
    {
        // Pinned, with install layers or (old engines) one install: every wheel step, install
        // and `resolve` gets its own pinned lines as arguments; none reads the build context,
        // not even the requirement files. Only the lock stage, when the files needed one, reads
        // them; the step that proves the set complete mounts its report (so the lock is in the
        // image's graph, for `mode=max`), and nothing else.
        let lock: BTreeSet<String> = lock_exec(&g).into_iter().collect();
        for exec in wheels.iter().chain(&installs).chain(resolve.iter()) {
            assert!(
                !g.reaches_context_avoiding(exec, &lock),
                "{project}: {} reads the build context",
                g.name(exec)
            );
        }
        for exec in &wheels {
            assert!(
                !g.reaches_context_avoiding(exec, &BTreeSet::new()),
                "{project}: {} reads the build context",
                g.name(exec)
            );
        }
        let copies: Vec<&String> = g
            .ops
            .keys()
            .filter(|d| g.name(d).starts_with("[api requirements"))
            .collect();
        match lock.first() {
            None => assert!(
                copies.is_empty(),
                "{project}: a requirements copy nothing reads"
            ),
            Some(lock) => {
                // The lock is keyed by exactly the requirement files (their includes too),
                // read through the one requirements copy.
                assert_eq!(copies.len(), 1, "{project}: {copies:?}");
                context_only_through(&g, lock, copies[0], requirement_files);
            }
        }
    }
}

#[test]
fn pip_wheel_sees_only_the_requirement_files() {
    python_dependency_key("example", &["backend/requirements.txt"]);
    python_dependency_key("realistic", &["api/requirements.txt"]);
    python_dependency_key(
        "ok-full",
        &[
            "backend/requirements.txt",
            "backend/requirements/prod.txt",
            "shared/constraints.txt",
        ],
    );
}

#[test]
fn hashed_pins_reach_pip_wheel_and_no_install_on_any_engine() {
    for merge_layers in [true, false] {
        let options = PlanOptions {
            engine: EngineFeatures::all().with_merge_diff(merge_layers),
            ..PlanOptions::new(Platform::linux_amd64())
        };
        let g = graph_with("hashed-pins", "api", &options);
        let wheels = wheel_execs(&g);
        assert!(!wheels.is_empty());
        for wheel in &wheels {
            let args = exec_args(&g, wheel).unwrap_or_default();
            assert!(args.contains("--hash=sha256:"), "{args}");
        }
        // Two pins make one group: one install either way, and `resolve` with install layers.
        let installs = install_execs(&g);
        assert_eq!(installs.len(), 1);
        assert_eq!(resolve_exec(&g).is_some(), merge_layers);
        for exec in installs.iter().chain(resolve_exec(&g).iter()) {
            let args = exec_args(&g, exec).unwrap_or_default();
            assert!(!args.contains("--hash"), "{args}");
            assert!(
                args.contains("==1.16.0") || args.contains("==0.6.2"),
                "{args}"
            );
        }
    }
}

#[test]
fn pip_wheel_sees_the_closure_of_r_and_c_includes() {
    // prod.txt: -r base.txt, -c constraints.txt; base.txt: --requirement ../common.txt.
    // dev.txt sits next to them and must not be part of the key.
    let closure = [
        "svc/common.txt",
        "svc/requirements/base.txt",
        "svc/requirements/constraints.txt",
        "svc/requirements/prod.txt",
    ];
    python_dependency_key("nested-reqs", &closure);
    // base.txt has an unpinned line: the lock stage resolves the files, reading them through
    // the requirements copy, laid out as in the context (pip resolves -r/-c relative to the
    // file). Without its answer (`layercake plan`, `layercake dockerfile`) one pip wheel over the
    // files reads them the same way.
    let g = graph("nested-reqs", "api");
    let lock = lock_exec(&g).unwrap_or_else(|| panic!("nested-reqs has no lock stage"));
    let no_lock = common::project("nested-reqs").plan_without_lock("api");
    let no_lock = Graph::new(&common::definition(&no_lock));
    let wheels = wheel_execs(&no_lock);
    assert_eq!(wheels.len(), 1);
    assert!(lock_exec(&no_lock).is_none());
    for (g, exec) in [(&g, &lock), (&no_lock, &wheels[0])] {
        let gate = g.find("[api requirements");
        context_only_through(g, exec, &gate, &closure);
        let exec = g.exec(exec);
        let args = exec
            .meta
            .as_ref()
            .map(|m| m.args.clone())
            .unwrap_or_default();
        // pip takes `-r FILE`, uv the files themselves.
        assert!(
            args.windows(2)
                .any(|w| w[0] == "-r" && w[1] == "/src/svc/requirements/prod.txt")
                || args.iter().any(|a| a == "/src/svc/requirements/prod.txt"),
            "{args:?}"
        );
        assert!(exec.mounts.iter().any(|m| m.dest == "/src" && m.readonly));
    }
}

#[test]
fn pinned_wheels_are_keyed_by_their_own_line() {
    // example/backend/requirements.txt is pip-compile output: every requirement pinned.
    let g = graph("example", "api");
    let wheels = wheel_execs(&g);
    let text = std::fs::read_to_string(
        common::project("example")
            .context
            .join("backend/requirements.txt"),
    )
    .unwrap_or_default();
    let pins: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(pins.len() >= 10, "{pins:?}");
    // pip-compile output is a complete closure: no lock stage, and grouped wheel builds.
    assert!(lock_exec(&g).is_none());
    assert!(wheels.len() > 1, "{} wheel steps", wheels.len());
    // Each pinned line is handed to exactly one wheel build, which reads nothing else from the
    // context: a new pin rebuilds only its own wheels.
    for pin in pins {
        let holders: Vec<&String> = wheels
            .iter()
            .filter(|d| {
                g.exec(d)
                    .meta
                    .as_ref()
                    .is_some_and(|m| m.args.iter().any(|a| a.lines().any(|l| l == pin)))
            })
            .collect();
        assert_eq!(holders.len(), 1, "{pin}: {holders:?}");
        assert!(!g.reaches_context_avoiding(holders[0], &BTreeSet::new()));
    }
}

#[test]
fn npm_ci_sees_only_the_manifests() {
    for (project, include) in [
        (
            "example",
            &["package.json", "package-lock.json", ".npmrc"][..],
        ),
        (
            "realistic",
            &["package.json", "package-lock.json", ".npmrc"][..],
        ),
        // `npmrc: false`
        ("ok-full", &["package.json", "package-lock.json"][..]),
    ] {
        let g = graph(project, "web");
        let npm = g.find("[web deps 1/1] npm ci");
        let gate = g.find("[web manifests");
        context_only_through(&g, &npm, &gate, include);
    }
}

#[test]
fn npm_build_reads_the_installed_modules_and_the_sources() {
    let g = graph("example", "web");
    let build = g.find("npm run build");
    let deps = g.find("npm ci");
    let sources = g.find("[web sources");
    let ancestors = g.ancestors(&build);
    assert!(ancestors.contains(&deps) && ancestors.contains(&sources));
    // A stray local node_modules or dist must never shadow the built ones.
    let copy = &g.copies(&sources)[0];
    assert_eq!(copy.exclude_patterns, vec!["node_modules", "dist"]);
}

fn mount<'a>(exec: &'a pb::ExecOp, dest: &str) -> &'a pb::Mount {
    exec.mounts
        .iter()
        .find(|m| m.dest == dest)
        .unwrap_or_else(|| panic!("no mount at {dest}: {:?}", exec.mounts))
}

/// Where the install step's /wheels comes from: the wheel execs' /wheels outputs, directly or
/// through one op that lays them over each other.
fn wheels_feed(g: &Graph, install: &str) -> (String, i64) {
    let exec = g.exec(install);
    let wheels = mount(exec, "/wheels");
    assert!(wheels.readonly, "/wheels is writable");
    assert_eq!(wheels.output, -1, "/wheels has an output");
    let input = &g.op(install).inputs[usize::try_from(wheels.input).unwrap_or(usize::MAX)];
    (input.digest.clone(), input.index)
}

fn assert_is_wheels_output(g: &Graph, digest: &str, index: i64) {
    let out = mount(g.exec(digest), "/wheels").output;
    assert_eq!(
        out,
        index,
        "{}: took output {index}, /wheels is {out}",
        g.name(digest)
    );
    assert_ne!(index, 0, "{}: its root was taken", g.name(digest));
}

#[test]
fn pip_install_runs_offline_from_read_only_wheels() {
    for (project, grouped) in [
        ("example", true),
        ("realistic", true),
        ("nested-reqs", true),
        ("ok-python-minimal", true),
    ] {
        let g = graph(project, "api");
        let wheels = wheel_execs(&g);
        let installs = install_execs(&g);
        let resolve = resolve_exec(&g);
        for exec in installs.iter().chain(&resolve) {
            assert_eq!(
                g.exec(exec).network,
                pb::NetMode::None as i32,
                "{project}: {}",
                g.name(exec)
            );
        }
        if !grouped {
            assert!(resolve.is_none(), "{project}");
            assert_eq!((installs.len(), wheels.len()), (1, 1), "{project}");
            let (feed, index) = wheels_feed(&g, &installs[0]);
            assert_eq!(feed, wheels[0], "{project}");
            assert_is_wheels_output(&g, &feed, index);
            continue;
        }
        // One install per wheel group, each reading exactly its own group's wheels.
        assert!(!wheels.is_empty(), "{project}");
        assert_eq!(installs.len(), wheels.len(), "{project}");
        let mut fed: Vec<String> = Vec::new();
        for install in &installs {
            let (feed, index) = wheels_feed(&g, install);
            assert!(wheels.contains(&feed), "{project}: {}", g.name(install));
            assert_is_wheels_output(&g, &feed, index);
            let args = exec_args(&g, install).unwrap_or_default();
            assert!(
                args.contains("--no-deps") && args.contains("--no-index"),
                "{project}: {args}"
            );
            fed.push(feed);
        }
        fed.sort();
        fed.dedup();
        assert_eq!(
            fed.len(),
            wheels.len(),
            "{project}: a group is installed twice"
        );
        // `resolve` reads the merge of all of them: its inputs are exactly the wheel execs (a
        // merge of one is that one).
        let resolve = resolve.unwrap_or_else(|| panic!("{project}: no resolve step"));
        let (feed, index) = wheels_feed(&g, &resolve);
        if wheels == [feed.clone()] {
            assert_is_wheels_output(&g, &feed, index);
            continue;
        }
        let op = g.op(&feed);
        let mut inputs: Vec<String> = op.inputs.iter().map(|i| i.digest.clone()).collect();
        inputs.sort();
        inputs.dedup();
        let mut want = wheels.clone();
        want.sort();
        assert_eq!(inputs, want, "{project}: {}", g.name(&feed));
        for input in &op.inputs {
            assert_is_wheels_output(&g, &input.digest, input.index);
        }
    }
}

#[test]
fn the_code_is_the_last_layer_of_the_runtime() {
    for (project, source, dest) in [
        ("example", "/backend", "/app"),
        ("realistic", "/api", "/app"),
        ("ok-python-minimal", "/", "/app"),
        ("nested-reqs", "/svc", "/app"),
    ] {
        let g = graph(project, "api");
        let (head, _) = &g.head;
        let installs = install_execs(&g);
        // The code copy comes straight from the context.
        let assert_code_copy = |copy: &str| {
            let copies = g.copies(copy);
            assert_eq!(copies.len(), 1, "{project}");
            assert_eq!(
                (copies[0].src.as_str(), copies[0].dest.as_str()),
                (source, dest),
                "{project}"
            );
            assert!(g.inputs(copy).iter().any(|d| g.is_context(d)), "{project}");
        };
        let Some(resolve) = resolve_exec(&g) else {
            // One install: the code is copied onto it.
            assert!(
                g.name(head).starts_with("[api runtime"),
                "{project}: {}",
                g.name(head)
            );
            assert_code_copy(head);
            assert_eq!(installs.len(), 1, "{project}");
            assert!(g.inputs(head).contains(&installs[0]), "{project}");
            continue;
        };
        // Install layers: the image is a merge of the runtime base, one diff per install (and
        // `resolve`), and last the code, copied onto scratch so that it needs no layer below it.
        let Some(pb::op::Op::Merge(merge)) = &g.op(head).op else {
            panic!("{project}: the image is not a merge but {}", g.name(head));
        };
        let inputs = g.inputs(head);
        assert_eq!(merge.inputs.len(), inputs.len(), "{project}");
        let (code, below) = inputs
            .split_last()
            .unwrap_or_else(|| panic!("{project}: empty merge"));
        assert!(
            g.name(code).starts_with("[api code"),
            "{project}: {}",
            g.name(code)
        );
        assert_code_copy(code);
        assert_eq!(
            g.inputs(code).len(),
            1,
            "{project}: the code copy has a base"
        );
        let mut diffed: BTreeSet<String> = BTreeSet::new();
        for input in &below[1..] {
            assert!(
                matches!(g.op(input).op, Some(pb::op::Op::Diff(_))),
                "{project}: {} is merged whole",
                g.name(input)
            );
            diffed.extend(g.inputs(input));
        }
        let mut want: BTreeSet<String> = installs.iter().cloned().collect();
        want.insert(resolve);
        // Each diff's lower side is the runtime base, the merge's first input.
        want.insert(below[0].clone());
        assert_eq!(diffed, want, "{project}");
    }
}

#[test]
fn wheels_never_land_in_an_image_layer() {
    for project in ["example", "realistic", "nested-reqs", "ok-python-minimal"] {
        let g = graph(project, "api");
        let wheels = wheel_execs(&g);
        assert!(!wheels.is_empty());
        let installs = install_execs(&g);
        let feeds: Vec<String> = installs
            .iter()
            .chain(&resolve_exec(&g))
            .map(|exec| wheels_feed(&g, exec).0)
            .collect();
        let chain = g.layer_chain();
        assert!(chain.len() >= 3, "{project}: {chain:?}");
        for install in &installs {
            assert!(
                chain.iter().any(|link| &link.digest == install),
                "{project}: {} is not a layer",
                g.name(install)
            );
        }
        for link in &chain {
            assert!(
                !wheels.contains(&link.digest) && !feeds.contains(&link.digest),
                "{project}: {} is a layer of the image",
                link.name
            );
            for path in &link.paths {
                assert!(
                    !path.starts_with("/wheels"),
                    "{project}: {} puts {path} in the image",
                    link.name
                );
            }
            if let Some(pb::op::Op::Exec(exec)) = &g.op(&link.digest).op {
                assert_eq!(link.paths, vec!["/"], "{project}: {}", link.name);
                for m in exec.mounts.iter().filter(|m| m.dest.starts_with("/wheels")) {
                    assert!(m.readonly, "{project}: {} writes /wheels", link.name);
                }
            }
        }
        // The chain ends at the runtime base image (its op may carry the name of another stage
        // on the same image: identical ops are one op).
        let last = chain.last().map(|l| l.digest.clone()).unwrap_or_default();
        match &g.op(&last).op {
            Some(pb::op::Op::Source(source)) => assert!(
                source.identifier.starts_with("docker-image://")
                    && source.identifier.ends_with("-slim"),
                "{project}: {}",
                source.identifier
            ),
            other => panic!("{project}: the chain ends at {other:?}"),
        }
    }
}

#[test]
fn npm_build_runs_on_the_build_platform() {
    let mut options = PlanOptions::new(platform("linux", "386"));
    options.build_platform = Platform::linux_amd64();
    for project in ["example", "realistic", "ok-node-minimal"] {
        let g = graph_with(project, "web", &options);
        let platform_of = |d: &str| g.op(d).platform.as_ref().map(|p| p.architecture.clone());
        for step in ["npm ci", "npm run build", "[web] FROM node"] {
            assert_eq!(
                platform_of(&g.find(step)).as_deref(),
                Some("amd64"),
                "{project}: {step}"
            );
        }
        let mut serve_ops = 0;
        for digest in g.ops.keys() {
            let name = g.name(digest);
            if !(name.starts_with("[web serve") || name.starts_with("[web] FROM nginx")) {
                continue;
            }
            serve_ops += 1;
            let op = g.op(digest);
            match &op.op {
                // Execs and the base image say where they run.
                Some(pb::op::Op::Exec(_) | pb::op::Op::Source(_)) => {
                    assert_eq!(
                        platform_of(digest).as_deref(),
                        Some("386"),
                        "{project}: {name}"
                    );
                }
                // File ops carry no platform (BuildKit runs them in-process); they must not
                // claim the build platform.
                _ => assert_ne!(
                    platform_of(digest).as_deref(),
                    Some("amd64"),
                    "{project}: {name}"
                ),
            }
        }
        assert!(serve_ops >= 3, "{project}: {serve_ops} serve ops");
        // The final image's base is the 386 nginx.
        let chain = g.layer_chain();
        let base = chain.last().map(|l| l.digest.clone()).unwrap_or_default();
        assert_eq!(platform_of(&base).as_deref(), Some("386"), "{project}");
    }
}

fn cache_ids(g: &Graph) -> BTreeMap<String, Vec<String>> {
    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for digest in g.ops.keys() {
        if let Some(pb::op::Op::Exec(exec)) = &g.op(digest).op {
            for m in &exec.mounts {
                if let Some(cache) = &m.cache_opt {
                    ids.entry(g.name(digest).to_owned())
                        .or_default()
                        .push(cache.id.clone());
                }
            }
        }
    }
    ids
}

#[test]
fn cache_mount_ids_are_namespaced_by_tool_version_and_platform() {
    let arm = PlanOptions::new(Platform::new("linux", "arm64"));
    let g = graph_with("ok-full", "api", &arm);
    let ids = cache_ids(&g);
    let all: Vec<&String> = ids.values().flatten().collect();
    assert!(
        all.contains(&&"layercake-pip-3.11-linux-arm64".to_owned()),
        "{ids:?}"
    );
    assert!(
        all.contains(&&"layercake-apt-archives-python-3.11-slim-linux-arm64".to_owned()),
        "{ids:?}"
    );
    assert!(
        all.contains(&&"layercake-apt-lists-python-3.11-linux-arm64".to_owned()),
        "{ids:?}"
    );
    // Every pip and apt cache says which platform it holds files for.
    for (step, step_ids) in &ids {
        for id in step_ids {
            if id.contains("-pip-") || id.contains("-apt-") {
                assert!(id.ends_with("-linux-arm64"), "{step}: {id}");
            }
        }
    }
    // Two python versions never share a pip cache.
    let worker = graph_with("ok-full", "worker", &arm);
    let worker_ids: Vec<String> = cache_ids(&worker).into_values().flatten().collect();
    assert!(
        worker_ids.contains(&"layercake-pip-3-linux-arm64".to_owned()),
        "{worker_ids:?}"
    );
    // The npm cache (tarballs, platform independent) is keyed by tool and node version.
    let web = cache_ids(&graph("ok-full", "web"));
    assert_eq!(
        web.values().flatten().collect::<Vec<_>>(),
        vec!["layercake-npm-18"]
    );

    // BUILDKIT_CACHE_MOUNT_NS prefixes every id.
    let mut namespaced = PlanOptions::new(Platform::linux_amd64());
    namespaced.cache_namespace = "team-a/".into();
    let g = graph_with("ok-full", "api", &namespaced);
    let ids: Vec<String> = cache_ids(&g).into_values().flatten().collect();
    assert!(!ids.is_empty());
    for id in &ids {
        assert!(id.starts_with("team-a/layercake-"), "{id}");
    }
}

#[test]
fn secrets_are_mounts_never_environment_values() {
    let g = graph("ok-full", "api");
    let wheels = dependency_execs(&g);
    assert!(!wheels.is_empty());
    let lock = lock_exec(&g);
    for digest in &wheels {
        let wheel = g.exec(digest);
        let name = g.name(digest);
        let mut want = vec![pb::SecretEnv {
            id: "pip_index".into(),
            name: "PIP_INDEX_URL".into(),
            optional: false,
        }];
        // uv reads the index under its own name: the same secret, mounted twice.
        if lock.as_ref() == Some(digest) {
            want.push(pb::SecretEnv {
                id: "pip_index".into(),
                name: "UV_INDEX_URL".into(),
                optional: false,
            });
        }
        assert_eq!(wheel.secretenv, want, "{name}");
        let secret_mounts: BTreeMap<&str, (&str, bool)> = wheel
            .mounts
            .iter()
            .filter(|m| m.mount_type == pb::MountType::Secret as i32)
            .map(|m| {
                let opt = m.secret_opt.as_ref();
                (
                    m.dest.as_str(),
                    (
                        opt.map_or("", |o| o.id.as_str()),
                        opt.is_some_and(|o| o.optional),
                    ),
                )
            })
            .collect();
        assert_eq!(
            secret_mounts,
            BTreeMap::from([
                ("/root/.netrc", ("netrc", true)),
                ("/run/secrets/cert", ("cert", false)),
            ]),
            "{name}"
        );
        assert!(
            wheel
                .mounts
                .iter()
                .any(|m| m.mount_type == pb::MountType::Ssh as i32),
            "{name}"
        );
    }
    // No op anywhere carries a secret's name or id as an environment value.
    for digest in g.ops.keys() {
        if let Some(pb::op::Op::Exec(exec)) = &g.op(digest).op {
            let env = exec
                .meta
                .as_ref()
                .map(|m| m.env.clone())
                .unwrap_or_default();
            for entry in env {
                assert!(
                    !entry.starts_with("PIP_INDEX_URL="),
                    "{}: {entry}",
                    g.name(digest)
                );
            }
            // Only the dependency step may read secrets: never a step that makes a layer.
            if !wheels.contains(digest) {
                assert!(exec.secretenv.is_empty(), "{}", g.name(digest));
                assert!(
                    exec.mounts
                        .iter()
                        .all(|m| m.mount_type != pb::MountType::Secret as i32),
                    "{}",
                    g.name(digest)
                );
            }
        }
    }
}

/// Which ops are marked ignore-cache, by the stage their name says they belong to.
/// The stage a user names for a stage or step: the wheel groups are `wheels`; the install
/// layers, `resolve`, their base `system` and the `code` layer are `runtime`, as the
/// single-install stage was.
fn stage_family(stage: &str) -> &str {
    if stage.starts_with("wheel") {
        "wheels"
    } else if stage.starts_with("install") || ["resolve", "system", "code"].contains(&stage) {
        "runtime"
    } else {
        stage
    }
}

fn ignored_stages(g: &Graph) -> BTreeSet<String> {
    g.ops
        .keys()
        .filter(|d| g.ignores_cache(d))
        .map(|d| {
            let name = g.name(d);
            // `[api wheels 1/2] …`, `[api install] … (2/4)` → `api/wheels`, `api/runtime`
            let inner = name.trim_start_matches('[');
            let mut words = inner.split_whitespace();
            let service = words.next().unwrap_or("");
            let stage = words.next().unwrap_or("").trim_end_matches(']');
            format!("{service}/{}", stage_family(stage))
        })
        .collect()
}

fn stages_of(g: &Graph) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for digest in g.ops.keys() {
        let name = g.name(digest);
        if let Some(rest) = name.strip_prefix('[') {
            let mut words = rest.split_whitespace();
            // Steps are `[service stage n/m] …`; sources `[api] FROM …`, `[context] …`.
            if let (Some(service), Some(stage)) = (words.next(), words.next())
                && !service.contains(['/', ']'])
            {
                let stage = stage_family(stage.trim_end_matches(']'));
                *counts.entry(format!("{service}/{stage}")).or_insert(0) += 1;
            }
        }
    }
    counts
}

fn no_cache_graph(project: &str, target: &str, names: &[&str]) -> Graph {
    let mut options = PlanOptions::new(Platform::linux_amd64());
    options.no_cache = NoCache::Only(names.iter().map(|s| (*s).to_owned()).collect());
    graph_with(project, target, &options)
}

#[test]
fn no_cache_filters_mark_exactly_the_named_stages() {
    let none = graph("ok-full", "api");
    assert!(ignored_stages(&none).is_empty());

    // `--no-cache-filter wheels` must rebuild the wheels: exactly the steps that build them.
    for project in ["nested-reqs", "ok-full"] {
        let g = no_cache_graph(project, "api", &["wheels"]);
        let ignored: BTreeSet<String> = g
            .ops
            .keys()
            .filter(|d| g.ignores_cache(d))
            .cloned()
            .collect();
        let wheels: BTreeSet<String> = wheel_execs(&g).into_iter().collect();
        assert!(!wheels.is_empty());
        let names = |set: &BTreeSet<String>| -> Vec<String> {
            set.iter().map(|d| g.name(d).to_owned()).collect()
        };
        assert!(
            wheels.is_subset(&ignored),
            "{project}: wheel builds still cached: {:?}",
            names(&wheels.difference(&ignored).cloned().collect())
        );
        for digest in &ignored {
            assert!(
                g.name(digest).contains("wheel"),
                "{project}: {} ignores the cache",
                g.name(digest)
            );
        }
    }

    let g = no_cache_graph("ok-full", "api", &["api/runtime", "web/build"]);
    assert_eq!(
        ignored_stages(&g),
        BTreeSet::from(["api/runtime".to_owned(), "web/build".to_owned()])
    );
    // `runtime` covers every install layer of a grouped wheel set, and `resolve`.
    let installs = install_execs(&g);
    assert!(installs.len() > 1, "ok-full: {} installs", installs.len());
    for exec in installs.iter().chain(&resolve_exec(&g)) {
        assert!(g.ignores_cache(exec), "{} is cached", g.name(exec));
    }

    // A service name covers all its stages, and only its own.
    let g = no_cache_graph("ok-full", "api", &["web"]);
    let web_stages: BTreeSet<String> = stages_of(&g)
        .into_keys()
        .filter(|s| s.starts_with("web/"))
        .collect();
    assert_eq!(web_stages.len(), 4, "{web_stages:?}");
    assert_eq!(ignored_stages(&g), web_stages);

    // A name that matches nothing marks nothing.
    assert!(ignored_stages(&no_cache_graph("example", "api", &["serve"])).is_empty());

    // --no-cache: everything with a stage.
    let mut options = PlanOptions::new(Platform::linux_amd64());
    options.no_cache = NoCache::All;
    let g = graph_with("example", "api", &options);
    let all: BTreeSet<String> = stages_of(&g).into_keys().collect();
    assert_eq!(ignored_stages(&g), all);
}

#[test]
fn dependency_stages_export_their_cache() {
    let exported = |g: &Graph| -> BTreeSet<String> {
        g.ops
            .keys()
            .filter(|d| {
                g.metadata
                    .get(*d)
                    .and_then(|m| m.export_cache.as_ref())
                    .is_some_and(|e| e.value)
            })
            .cloned()
            .collect()
    };
    // The wheel builds, and with grouped wheels their install layers and `resolve`: a fresh CI
    // machine with a `mode=min` cache reinstalls nothing that did not change.
    for project in ["example", "nested-reqs"] {
        let g = graph(project, "api");
        let mut want: BTreeSet<String> = dependency_execs(&g).into_iter().collect();
        want.extend(install_execs(&g));
        want.extend(resolve_exec(&g));
        assert_eq!(exported(&g), want, "{project}");
    }
    let g = graph("example", "web");
    assert_eq!(exported(&g), BTreeSet::from([g.find("npm ci")]));
}

/// The read-only digest mounts of an exec: (dest, selector, the op feeding it, its output index).
fn digest_mounts(g: &Graph, digest: &str) -> BTreeMap<String, (String, String, i64)> {
    let op = g.op(digest);
    g.exec(digest)
        .mounts
        .iter()
        .filter(|m| m.dest.starts_with(layercake_plan::DIGEST_MOUNT_DIR))
        .map(|m| {
            assert!(m.readonly, "{}: {} is writable", g.name(digest), m.dest);
            assert_eq!(m.output, -1, "{}: {}", g.name(digest), m.dest);
            let input = &op.inputs[usize::try_from(m.input).unwrap()];
            (
                m.dest.clone(),
                (m.selector.clone(), input.digest.clone(), input.index),
            )
        })
        .collect()
}

#[test]
fn rebuild_on_change_secrets_key_the_dependency_steps_by_a_digest_file() {
    let g = graph("ok-secret-rebuild", "api");
    let pip_index = g.find("[api secret-pip_index 1/1]");
    let netrc = g.find("[api secret-netrc 1/1]");

    // The digest steps: secret as a file (never env), no network, re-run every build, never
    // exported; the one writable mount is the result the dependency steps read.
    for (digest, id, optional) in [(&pip_index, "pip_index", false), (&netrc, "netrc", true)] {
        let exec = g.exec(digest);
        let name = g.name(digest);
        assert!(exec.secretenv.is_empty(), "{name}");
        let secrets: Vec<(&str, bool)> = exec
            .mounts
            .iter()
            .filter_map(|m| m.secret_opt.as_ref().map(|o| (o.id.as_str(), o.optional)))
            .collect();
        assert_eq!(secrets, vec![(id, optional)], "{name}");
        assert_eq!(exec.network, pb::NetMode::None as i32, "{name}");
        assert!(g.ignores_cache(digest), "{name}");
        assert_eq!(
            g.metadata[digest.as_str()].export_cache,
            Some(pb::ExportCache { value: false }),
            "{name}"
        );
        let args = exec.meta.as_ref().unwrap().args.join(" ");
        assert!(
            args.contains(&layercake_plan::digest_salt("api", id)),
            "{name}: {args}"
        );
    }
    let digest_output = |digest: &str| {
        let exec = g.exec(digest);
        let mount = exec.mounts.iter().find(|m| m.dest == "/digest").unwrap();
        (digest.to_owned(), mount.output)
    };

    // Every wheel bucket reads both opted-in digests, read-only, selecting the one file; `cert`
    // (not opted in) has none.
    let wheels = dependency_execs(&g);
    assert!(!wheels.is_empty());
    for wheel in &wheels {
        let mounts = digest_mounts(&g, wheel);
        let want = BTreeMap::from([
            (
                format!("{}/netrc.sha256", layercake_plan::DIGEST_MOUNT_DIR),
                (
                    "/secret.sha256".to_owned(),
                    digest_output(&netrc).0,
                    digest_output(&netrc).1,
                ),
            ),
            (
                format!("{}/pip_index.sha256", layercake_plan::DIGEST_MOUNT_DIR),
                (
                    "/secret.sha256".to_owned(),
                    digest_output(&pip_index).0,
                    digest_output(&pip_index).1,
                ),
            ),
        ]);
        assert_eq!(mounts, want, "{}", g.name(wheel));
    }

    // Only the digest steps and the dependency steps see a secret; nothing else reads a digest.
    for digest in g.ops.keys() {
        if let Some(pb::op::Op::Exec(exec)) = &g.op(digest).op {
            let reads_secret = exec.mounts.iter().any(|m| m.secret_opt.is_some());
            let is_digest = *digest == pip_index || *digest == netrc;
            assert_eq!(
                reads_secret,
                is_digest || wheels.contains(digest),
                "{}",
                g.name(digest)
            );
            if !wheels.contains(digest) {
                assert!(digest_mounts(&g, digest).is_empty(), "{}", g.name(digest));
            }
        }
    }

    // The unpinned `pip wheel` and `npm ci` read theirs too.
    let loose = graph("ok-secret-rebuild", "loose");
    let loose_wheels = wheel_execs(&loose);
    let [pip_wheel] = loose_wheels.as_slice() else {
        panic!("one pip wheel step")
    };
    assert_eq!(
        digest_mounts(&loose, pip_wheel)
            .into_keys()
            .collect::<Vec<_>>(),
        vec![format!(
            "{}/pip_index.sha256",
            layercake_plan::DIGEST_MOUNT_DIR
        )]
    );
    let web = graph("ok-secret-rebuild", "web");
    let npm_ci = web.find("[web deps 1/1] npm ci");
    let digest = web.find("[web secret-npm_token 1/1]");
    assert_eq!(
        digest_mounts(&web, &npm_ci)
            .into_values()
            .map(|(_, from, _)| from)
            .collect::<Vec<_>>(),
        vec![digest]
    );

    // Without the option there is no digest stage at all.
    let plain = graph("ok-full", "api");
    assert!(plain.ops.keys().all(|d| !plain.name(d).contains("secret-")));
}

fn source_identifier(g: &Graph, digest: &str) -> Option<String> {
    match &g.op(digest).op {
        Some(pb::op::Op::Source(source)) => Some(source.identifier.clone()),
        _ => None,
    }
}

fn web_graph(project: &str, options: &PlanOptions, inputs: &layercake_plan::LowerInputs) -> Graph {
    let plan = common::project(project).plan("web", options);
    let lowered = layercake_plan::lower(&plan, inputs).unwrap_or_else(|e| panic!("lower: {e}"));
    Graph::new(&buildkit_llb::Definition::new(&lowered.output))
}

/// The one copy of `digest`: (source path, destination, the op it copies from, whether it copies
/// onto scratch).
fn only_copy(g: &Graph, digest: &str) -> (String, String, String, bool) {
    let op = g.op(digest);
    let actions = &g.file(digest).actions;
    assert_eq!(actions.len(), 1, "{}", g.name(digest));
    let Some(pb::file_action::Action::Copy(copy)) = &actions[0].action else {
        panic!("{} is not a copy", g.name(digest));
    };
    let from = usize::try_from(actions[0].secondary_input)
        .unwrap_or_else(|_| panic!("{}: no source input", g.name(digest)));
    (
        copy.src.clone(),
        copy.dest.clone(),
        op.inputs[from].digest.clone(),
        actions[0].input == -1,
    )
}

#[test]
fn nginx_images_merge_the_frontend_image_as_their_probe_layer() {
    const PROBE: &str = "/usr/local/bin/layercake";
    const FRONTEND: &str = "docker-image://docker.io/library/layercake:dev";
    let amd64 = PlanOptions::new(Platform::linux_amd64());
    for project in ["example", "realistic", "ok-node-minimal"] {
        // The frontend image is the one-layer probe image: the image merges it as it is, between
        // nginx (with its user and config) and the built files, which are copied onto scratch.
        let g = web_graph(project, &amd64, &common::cli_inputs());
        let (head, _) = &g.head;
        assert!(
            matches!(g.op(head).op, Some(pb::op::Op::Merge(_))),
            "{project}: {}",
            g.name(head)
        );
        let parts = g.inputs(head);
        assert_eq!(parts.len(), 3, "{project}");
        assert!(g.name(&parts[0]).starts_with("[web serve"), "{project}");
        assert_eq!(
            source_identifier(&g, &parts[1]).as_deref(),
            Some(FRONTEND),
            "{project}"
        );
        let (_, dest, _, onto_scratch) = only_copy(&g, &parts[2]);
        assert_eq!(
            (dest.as_str(), onto_scratch),
            ("/usr/share/nginx/html", true),
            "{project}"
        );

        // Any other frontend image: only the binary is copied out of it, onto scratch.
        let inputs = layercake_plan::LowerInputs {
            frontend_is_probe_layer: false,
            ..common::cli_inputs()
        };
        let g = web_graph(project, &amd64, &inputs);
        let parts = g.inputs(&g.head.0);
        assert_eq!(parts.len(), 3, "{project}");
        let (src, dest, from, onto_scratch) = only_copy(&g, &parts[1]);
        assert_eq!(
            (src.as_str(), dest.as_str(), onto_scratch),
            (PROBE, PROBE, true),
            "{project}"
        );
        assert_eq!(source_identifier(&g, &from).as_deref(), Some(FRONTEND));

        // Engines without MergeOp: the binary is copied onto nginx, the built files last.
        let no_merge = PlanOptions {
            engine: EngineFeatures::all().with_merge_diff(false),
            ..amd64.clone()
        };
        let g = web_graph(project, &no_merge, &common::cli_inputs());
        let (head, _) = &g.head;
        let (_, dest, _, onto_scratch) = only_copy(&g, head);
        assert_eq!(
            (dest.as_str(), onto_scratch),
            ("/usr/share/nginx/html", false),
            "{project}"
        );
        let below = g.op(head).inputs[0].digest.clone();
        let (src, dest, from, _) = only_copy(&g, &below);
        assert_eq!((src.as_str(), dest.as_str()), (PROBE, PROBE), "{project}");
        assert_eq!(source_identifier(&g, &from).as_deref(), Some(FRONTEND));
    }
}

#[test]
fn the_image_a_result_starts_with_is_found_through_merges() {
    let amd64 = PlanOptions::new(Platform::linux_amd64());
    let single = PlanOptions {
        engine: EngineFeatures::all().with_merge_diff(false),
        ..amd64.clone()
    };
    for options in [&amd64, &single] {
        for (target, image) in [("api", "python:3.11-slim"), ("web", "nginx:stable")] {
            let plan = common::project("example").plan(target, options);
            assert_eq!(
                plan.base_image(&plan.output),
                Some((image, &Platform::linux_amd64())),
                "{target}, {:?}",
                options.engine
            );
        }
    }
    // The built files alone (no `serve`) start from scratch.
    let plan = common::project("ok-full").plan("assets", &amd64);
    assert_eq!(plan.base_image(&plan.output), None);
}

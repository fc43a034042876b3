//! `layercake frontend` as BuildKit runs it: the real binary, stdin/stdout on OS pipes to a
//! fake LLBBridge that serves the example project. Builds of both example services, checked
//! through the options, the LLB the build Solve received, and the returned result.

use crate::support;

use std::collections::BTreeSet;

use buildkit_frontend::testing::{FAKE_IMAGE_PATH, fake_digest};
use buildkit_llb::caps;
use buildkit_proto::{gateway, pb};
use support::{
    Graph, SESSION, build_solves, example_fake, loaded_locals, metadata, metadata_json, result, run,
};

const CACHE_IMPORTS: &str = r#"cache-imports=[{"Type":"registry","Attrs":{"ref":"reg.example/app-api:buildcache"}},{"Type":"gha","Attrs":{"scope":"api"}}]"#;

const FRONTEND_IMAGE: &str = "reg.example/layercake:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn platform(os: &str, architecture: &str) -> pb::Platform {
    pb::Platform {
        os: os.into(),
        architecture: architecture.into(),
        ..Default::default()
    }
}

/// (type, main attr) of each cache import of a solve.
fn imports(solve: &gateway::SolveRequest) -> Vec<(String, String)> {
    solve
        .cache_imports
        .iter()
        .map(|c| {
            let attr = c.attrs.get("ref").or(c.attrs.get("scope")).cloned();
            (c.r#type.clone(), attr.unwrap_or_default())
        })
        .collect()
}

/// Every `docker-image://` source is pinned to the digest the fake resolved for it on the
/// op's platform; returns the (unpinned) references.
/// `given` images (the frontend's own, pinned by the caller) are kept as they are.
fn assert_images_pinned(graph: &Graph, given: &[&str]) -> BTreeSet<String> {
    let mut references = BTreeSet::new();
    for (op, source) in graph.sources() {
        let Some(image) = source.identifier.strip_prefix("docker-image://") else {
            continue;
        };
        if given.contains(&image) {
            continue;
        }
        let (reference, digest) = image
            .split_once('@')
            .unwrap_or_else(|| panic!("base image not pinned by digest: {image}"));
        let op_platform = op.platform.clone().expect("image ops carry a platform");
        assert_eq!(
            digest,
            fake_digest(reference, &op_platform),
            "{reference} pinned to the digest resolved for {op_platform:?}"
        );
        references.insert(reference.to_owned());
    }
    references
}

/// Every run step starts from the base image's PATH.
fn assert_env_has_base_path(graph: &Graph) {
    for (_, exec) in graph.execs() {
        let meta = exec.meta.as_ref().unwrap();
        assert!(
            meta.env.contains(&format!("PATH={FAKE_IMAGE_PATH}")),
            "{:?} runs without the base image's PATH: {:?}",
            meta.args,
            meta.env
        );
    }
}

/// Without DiffOp (BuildKit < 0.10) the runtime installs every wheel in one `pip install` of the
/// pinned lines, hashes dropped as for the install layers: it reads nothing of the context.
#[test]
fn without_diffop_one_install_of_the_pinned_lines() {
    let mut fake = example_fake();
    fake.llb_caps.retain(|(id, _)| id != caps::DIFF_OP);
    run(&fake, &["target=api"]);
    let solves = build_solves(&fake);
    assert_eq!(solves.len(), 1, "{:?}", fake.recorded().returns);
    let graph = Graph::from_pb(solves[0].definition.as_ref().unwrap());
    for (op, exec) in graph.execs_mentioning("pip wheel") {
        let views = graph.context_views(op);
        assert!(
            views.is_empty(),
            "{:?} reads the context, but gets its pinned lines: {views:?}",
            exec.meta.as_ref().unwrap().args
        );
    }
    assert!(
        graph.execs_mentioning("--dry-run").is_empty(),
        "no resolve step"
    );
    let installs = graph.execs_mentioning("pip install");
    assert_eq!(installs.len(), 1, "one install");
    let (install, exec) = installs[0];
    let args = &exec.meta.as_ref().unwrap().args;
    assert!(
        !args.join(" ").contains("--no-deps"),
        "with dependencies: {args:?}"
    );
    let lines = args.last().unwrap();
    let requirements = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/example/backend/requirements.txt"),
    )
    .unwrap();
    let pins = requirements
        .lines()
        .filter(|line| line.contains("=="))
        .count();
    assert_eq!(lines.lines().count(), pins, "every pinned line: {lines}");
    assert!(!lines.contains("--hash"), "{lines}");
    assert!(
        graph.context_views(install).is_empty(),
        "pip install reads nothing of the context"
    );
}

/// `LAYERCAKE_FRONTEND_TIMINGS=1` writes one line of the process's own times to stderr (BuildKit's
/// daemon log), never to stdout, the gRPC channel; without it the frontend writes nothing.
#[test]
fn timings_line_goes_to_stderr_only_when_asked() {
    let fake = example_fake();
    let quiet = run(&fake, &["target=api"]);
    assert!(
        !quiet.stderr.contains("timings"),
        "unasked: {}",
        quiet.stderr
    );

    let fake = example_fake();
    let timed = run(
        &fake,
        &["target=api", "build-arg:LAYERCAKE_FRONTEND_TIMINGS=1"],
    );
    let line = timed
        .stderr
        .lines()
        .find(|l| l.starts_with("layercake frontend timings: "))
        .unwrap_or_else(|| panic!("no timings line in: {}", timed.stderr));
    let value = |key: &str| -> f64 {
        let field = line
            .split_whitespace()
            .find_map(|f| f.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in `{line}`"));
        field.parse().unwrap_or_else(|_| panic!("{key}={field}"))
    };
    // Both are measured from the process start; the first Solve comes before the result.
    let first_solve = value("start_to_first_solve_ms");
    let to_result = value("start_to_result_ms");
    assert!(first_solve >= 0.0 && first_solve <= to_result, "{line}");
    assert!(line.contains(&format!("session={SESSION}")), "{line}");
    // The build itself is the same: one Return, with a result.
    result(&fake);
}

#[test]
fn api_single_platform_build() {
    let fake = example_fake();
    run(
        &fake,
        &[
            "filename=layercake.yaml",
            "target=api",
            "platform=linux/amd64",
            "label:org.opencontainers.image.source=https://example.com/app",
            "label:team=backend",
            "build-arg:UNUSED=1",
            CACHE_IMPORTS,
            "cache-from=reg.example/legacy:cache",
        ],
    );

    // The spec came from the `dockerfile` local, the requirement files from `context`.
    assert!(
        loaded_locals(&fake).is_superset(&BTreeSet::from(["dockerfile".into(), "context".into()])),
        "{:?}",
        loaded_locals(&fake)
    );
    {
        let recorded = fake.recorded();
        let read_paths: BTreeSet<&str> = recorded
            .reads
            .iter()
            .map(|r| r.file_path.as_str())
            .collect();
        assert!(read_paths.contains("layercake.yaml"), "{read_paths:?}");
        assert!(
            read_paths.contains("backend/requirements.txt"),
            "{read_paths:?}"
        );
        // With the metaresolver cap, images go through ResolveSourceMeta.
        assert!(recorded.image_configs.is_empty());
        let resolved: BTreeSet<String> = recorded
            .meta
            .iter()
            .map(|m| m.source.as_ref().unwrap().identifier.clone())
            .collect();
        assert!(
            resolved.contains("docker-image://docker.io/library/python:3.11-slim"),
            "{resolved:?}"
        );
        for (reference, local) in &recorded.locals {
            assert_eq!(
                local.attrs.get("local.session").map(String::as_str),
                Some(SESSION),
                "{reference} loads {} without the client session",
                local.name
            );
        }
    }

    let solves = build_solves(&fake);
    assert_eq!(solves.len(), 1, "one build Solve for one platform");
    let solve = &solves[0];
    assert_eq!(
        imports(solve),
        [
            (
                "registry".to_string(),
                "reg.example/app-api:buildcache".to_string()
            ),
            ("gha".to_string(), "api".to_string()),
            (
                "registry".to_string(),
                "reg.example/legacy:cache".to_string()
            ),
        ]
    );

    // The LLB: the requirements are pinned and the engine has DiffOp, so every wheel step,
    // install layer and `resolve` gets its own pinned lines as arguments and sees nothing of the
    // build context, not even the requirements file.
    let graph = Graph::from_pb(solve.definition.as_ref().unwrap());
    let wheels = graph.execs_mentioning("pip wheel");
    let installs = graph.execs_mentioning("pip install");
    assert!(!wheels.is_empty(), "a pip wheel step");
    assert!(installs.len() > 1, "install layers and resolve");
    assert!(
        installs.iter().any(|(_, exec)| exec
            .meta
            .as_ref()
            .unwrap()
            .args
            .join(" ")
            .contains("--dry-run")),
        "a resolve step"
    );
    for (op, exec) in wheels.iter().chain(&installs) {
        let views = graph.context_views(op);
        assert!(
            views.is_empty(),
            "{:?} sees the context: {views:?}",
            exec.meta.as_ref().unwrap().args
        );
    }

    let references = assert_images_pinned(&graph, &[]);
    assert!(
        references.contains("docker.io/library/python:3.11-slim"),
        "{references:?}"
    );
    assert_env_has_base_path(&graph);

    // The result: one ref (the build Solve's) and the image config.
    let result = result(&fake);
    let Some(gateway::result::Result::Ref(reference)) = &result.result else {
        panic!("a single ref, got {:?}", result.result);
    };
    let build_index = fake
        .recorded()
        .solves
        .iter()
        .position(|s| s == solve)
        .unwrap();
    assert_eq!(reference.id, format!("ref-{}", build_index + 1));

    let image = metadata_json(&result, "containerimage.config");
    assert_eq!(image["architecture"], "amd64");
    assert_eq!(image["os"], "linux");
    let config = &image["config"];
    assert_eq!(config["User"], "10001:10001");
    let health = &config["Healthcheck"];
    assert_eq!(health["Interval"], 30_000_000_000_u64);
    assert_eq!(health["Timeout"], 10_000_000_000_u64);
    assert_eq!(health["StartPeriod"], 5_000_000_000_u64);
    assert_eq!(health["Retries"], 3);
    assert_eq!(health["Test"][0], "CMD");
    let env: Vec<&str> = config["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut sorted = env.clone();
    sorted.sort_unstable();
    assert_eq!(env, sorted, "Env is sorted");
    assert!(
        env.contains(&format!("PATH={FAKE_IMAGE_PATH}").as_str()),
        "{env:?}"
    );
    assert_eq!(
        config["Labels"]["org.opencontainers.image.source"],
        "https://example.com/app"
    );
    assert_eq!(config["Labels"]["team"], "backend");
    assert_eq!(config["Cmd"][0], "uvicorn");
}

#[test]
fn web_two_platform_build() {
    let fake = example_fake();
    run(
        &fake,
        &[
            "filename=layercake.yaml",
            "target=web",
            "platform=linux/amd64,linux/arm64",
            // The health probe is copied from the frontend image: BuildKit names it in
            // /run/config/buildkit/metadata/frontend.bin, which a test cannot provide, so the
            // documented fallback names it.
            &format!("build-arg:BUILDKIT_SYNTAX={FRONTEND_IMAGE}"),
            // The legacy form: a comma-separated list of registry refs.
            "cache-from=reg.example/app-web:buildcache,reg.example/app-web:main",
        ],
    );

    let solves = build_solves(&fake);
    assert_eq!(
        solves.len(),
        2,
        "one build Solve per platform; returned {:?}",
        fake.returns()[0].error
    );
    for solve in &solves {
        assert_eq!(
            imports(solve),
            [
                (
                    "registry".to_string(),
                    "reg.example/app-web:buildcache".to_string()
                ),
                (
                    "registry".to_string(),
                    "reg.example/app-web:main".to_string()
                ),
            ]
        );
    }

    for (solve, arch) in solves.iter().zip(["amd64", "arm64"]) {
        let graph = Graph::from_pb(solve.definition.as_ref().unwrap());
        let (npm_op, _) = graph.exec_running(&["npm", "ci"]);
        let views = graph.context_views(npm_op);
        assert_eq!(views.len(), 1, "npm ci sees the context one way: {views:?}");
        let Some(Some(included)) = views.first() else {
            panic!("npm ci sees the whole context: {views:?}");
        };
        let included: BTreeSet<&str> = included.iter().map(String::as_str).collect();
        assert_eq!(
            included,
            BTreeSet::from(["package.json", "package-lock.json", ".npmrc"]),
            "npm ci sees only the npm manifests"
        );

        let references = assert_images_pinned(&graph, &[FRONTEND_IMAGE]);
        assert!(
            graph
                .sources()
                .any(|(_, s)| s.identifier == format!("docker-image://{FRONTEND_IMAGE}")),
            "the health probe comes from the frontend image"
        );
        assert!(
            references.iter().any(|r| r.contains("nginx")),
            "{references:?}"
        );
        assert_env_has_base_path(&graph);
        // The final image's base (nginx) is for the target platform.
        let nginx_platforms: BTreeSet<String> = graph
            .sources()
            .filter(|(_, s)| s.identifier.contains("nginx"))
            .map(|(op, _)| op.platform.clone().unwrap().architecture)
            .collect();
        assert_eq!(nginx_platforms, BTreeSet::from([arch.to_string()]));
        // The static build runs on the build platform (the worker's, amd64).
        let (build_op, _) = graph.exec_running(&["npm", "run", "build"]);
        assert_eq!(
            build_op.platform.as_ref().unwrap(),
            &platform("linux", "amd64"),
            "the static build of the {arch} image runs on the build platform"
        );
    }

    let result = result(&fake);
    let Some(gateway::result::Result::Refs(map)) = &result.result else {
        panic!("refs keyed by platform, got {:?}", result.result);
    };
    let keys: Vec<&str> = map.refs.keys().map(String::as_str).collect();
    assert_eq!(keys, ["linux/amd64", "linux/arm64"]);
    let solve_ids: Vec<String> = {
        let recorded = fake.recorded();
        solves
            .iter()
            .map(|s| {
                let i = recorded.solves.iter().position(|r| r == s).unwrap();
                format!("ref-{}", i + 1)
            })
            .collect()
    };
    assert_eq!(map.refs["linux/amd64"].id, solve_ids[0]);
    assert_eq!(map.refs["linux/arm64"].id, solve_ids[1]);

    let platforms = metadata_json(&result, "refs.platforms");
    let listed: Vec<(&str, &str)> = platforms["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap(),
                p["platform"]["architecture"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, [("linux/amd64", "amd64"), ("linux/arm64", "arm64")]);
    for (id, arch) in listed {
        let image = metadata_json(&result, &format!("containerimage.config/{id}"));
        assert_eq!(image["architecture"], arch);
        assert_eq!(image["config"]["User"], "10001:10001");
        assert!(image["config"]["Healthcheck"]["Test"].is_array());
    }
    assert!(
        !result.metadata.contains_key("containerimage.config"),
        "a multi-platform result has only per-platform configs"
    );
    let _ = metadata(&result, "refs.platforms");
}

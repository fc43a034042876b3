//! Lowering for old engines (BuildKit v0.8, Docker 20.10): with `EngineFeatures::none()` (no
//! MergeOp/DiffOp, no copy patterns) the LLB of every testdata target needs neither MergeOp nor
//! copy include/exclude patterns, and still copies the same dependency files. scripts/compat.sh
//! builds the example this way on a real v0.8 engine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use buildkit_llb::{Definition, caps};
use layercake_plan::{
    ContextFiles, EngineFeatures, FileScope, LowerInputs, PlanOptions, Platform, gather, lower,
    plan, services_from_spec,
};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn definitions(spec: &Path, context: &Path, old_engine: bool) -> Vec<(String, Definition)> {
    let inputs = inputs();
    let text = std::fs::read_to_string(spec).unwrap();
    let parsed = layercake_spec::parse("layercake.yaml", &text).unwrap();
    let services = services_from_spec(&parsed.resolve_args(&BTreeMap::new()).unwrap()).unwrap();
    let mut out = Vec::new();
    for service in &services {
        let files = gather(
            &services,
            FileScope::Plan {
                target: &service.name,
            },
            |wanted, optional| {
                // Every required file is there; a probe for the project kind may not be.
                wanted
                    .iter()
                    .filter_map(|path| match std::fs::read_to_string(context.join(path)) {
                        Ok(text) => Some(Ok((path.clone(), text))),
                        Err(e)
                            if optional.contains(path)
                                && e.kind() == std::io::ErrorKind::NotFound =>
                        {
                            None
                        }
                        Err(e) => Some(Err(e)),
                    })
                    .collect::<Result<ContextFiles, std::io::Error>>()
            },
        )
        .unwrap()
        .files;
        let planned = plan(
            &services,
            &service.name,
            &files,
            &PlanOptions {
                engine: if old_engine {
                    EngineFeatures::none()
                } else {
                    EngineFeatures::all()
                },
                ..PlanOptions::new(Platform::linux_amd64())
            },
        )
        .unwrap();
        let lowered = lower(&planned, &inputs).unwrap();
        out.push((service.name.clone(), Definition::new(&lowered.output)));
    }
    out
}

fn inputs() -> LowerInputs {
    LowerInputs {
        context_name: "context".into(),
        frontend_image: Some("layercake:dev".into()),
        ..LowerInputs::default()
    }
}

#[test]
fn old_engine_lowering_needs_no_merge_op_and_no_copy_patterns() {
    for project in ["example", "realistic"] {
        let spec = testdata().join(project).join("layercake.yaml");
        let context = testdata().join(project);
        let new = definitions(&spec, &context, false);
        let old = definitions(&spec, &context, true);
        assert_eq!(new.len(), old.len());
        // The new-engine LLB does use patterns, so the fallback is really exercised.
        assert!(
            new.iter().any(|(_, d)| d
                .required_caps()
                .contains(caps::FILE_COPY_INCLUDE_EXCLUDE_PATTERNS)),
            "{project}: no copy patterns to fall back from"
        );
        for (service, definition) in &old {
            let needed = definition.required_caps();
            for cap in [caps::FILE_COPY_INCLUDE_EXCLUDE_PATTERNS, caps::MERGE_OP] {
                assert!(
                    !needed.contains(cap),
                    "{project}/{service} still needs {cap}"
                );
            }
        }
    }
}

#[test]
fn old_engine_copies_name_each_dependency_file_and_filter_the_sources() {
    let spec = testdata().join("example/layercake.yaml");
    let old = definitions(&spec, &testdata().join("example"), true);
    let dump = |service: &str| {
        let (_, definition) = old.iter().find(|(s, _)| s == service).unwrap();
        definition.to_json_string()
    };
    let api = dump("api");
    // Pinned requirements: every step gets its own lines, so no step reads the file.
    assert!(!api.contains("requirements.tx[t]"), "{api}");
    assert!(api.contains("idna==3.20"), "{api}");
    let web = dump("web");
    // The manifests copy names each file (bracketed: a one-match wildcard).
    for file in ["package.jso[n]", "package-lock.jso[n]", ".npmr[c]"] {
        assert!(web.contains(file), "{file} not copied: {web}");
    }
    // The source copy's excludes moved to a filtered local source.
    assert!(web.contains("frontend/node_modules"), "{web}");
    assert!(web.contains("frontend/dist"), "{web}");
}

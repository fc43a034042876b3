//! The whole pure pipeline on arbitrary input: bytes → spec (parse_bytes) → resolve_args →
//! services → gather (the files each plan reads) → plan (every service) → lower (with and
//! without MergeOp) → LLB bytes. Errors are fine; a panic, an abort or a hang is a bug.
//!
//! Input layout: the spec, optionally followed by `\n#--files--\n` and text served as the
//! content of every file the planner asks for (requirement files), and by `\n#--args--\n` and
//! `KEY=VALUE` lines used as build args.
#![no_main]

use std::collections::BTreeMap;

use layercake_plan::{
    ContextFiles, EngineFeatures, FileScope, LowerInputs, PlanOptions, Platform, gather, lower,
    plan, services_from_spec,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| run(data));

fn split<'a>(data: &'a [u8], marker: &[u8]) -> (&'a [u8], &'a [u8]) {
    data.windows(marker.len())
        .position(|w| w == marker)
        .map_or((data, &[][..]), |at| {
            (&data[..at], &data[at + marker.len()..])
        })
}

fn run(data: &[u8]) {
    let (rest, args) = split(data, b"\n#--args--\n");
    let (spec_bytes, file_text) = split(rest, b"\n#--files--\n");
    let file_text = String::from_utf8_lossy(file_text).into_owned();
    let build_args: BTreeMap<String, String> = String::from_utf8_lossy(args)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();

    let Ok(spec) = layercake_spec::parse_bytes("fuzz.yaml", spec_bytes) else {
        return;
    };
    let Ok(resolved) = spec.resolve_args(&build_args) else {
        return;
    };
    // Validation proved every asset's source: a validated spec always converts.
    let services = services_from_spec(&resolved).expect("a validated spec converts to settings");
    for service in &services {
        // What the CLI gathers, every requested file holding the fuzzed text.
        let scope = FileScope::Plan {
            target: &service.name,
        };
        // A planner error here (a path out of the context…) is planned without files: plan
        // reports it too.
        let files = gather(&services, scope, |wanted, _optional| {
            Ok::<_, std::convert::Infallible>(
                wanted
                    .iter()
                    .map(|path| (path.clone(), file_text.clone()))
                    .collect::<ContextFiles>(),
            )
        })
        .map(|gathered| gathered.files)
        .unwrap_or_default();
        // Old engines (no MergeOp/DiffOp) get a plan without diff layers, as the frontend does.
        for merge_diff in [true, false] {
            let options = PlanOptions {
                engine: EngineFeatures::all()
                    .with_merge_diff(merge_diff)
                    .with_mount_content_cache(false),
                ..PlanOptions::new(Platform::linux_amd64())
            };
            let Ok(planned) = plan(&services, &service.name, &files, &options) else {
                continue;
            };
            let inputs = LowerInputs {
                context_name: "context".into(),
                frontend_image: Some("layercake:dev".into()),
                ..LowerInputs::default()
            };
            if let Ok(lowered) = lower(&planned, &inputs) {
                let bytes = buildkit_llb::Definition::new(&lowered.output).encode_to_vec();
                assert!(!bytes.is_empty());
            }
        }
    }
}

//! The frontend's reads and transfers of the context follow `.dockerignore` as Docker does:
//! rules in the order written (the last match wins, `!` re-includes), and a file the plan
//! needs that they leave out is an error naming both, never read.

use crate::support;

use buildkit_frontend::caps;
use buildkit_frontend::testing::FakeBridge;
use support::{
    Graph, all_llb_caps, build_solves, example_files, example_spec, returned_error, run,
};

fn fake_with_dockerignore(dockerignore: &str) -> FakeBridge {
    let mut files = example_files();
    files.insert(".dockerignore".into(), dockerignore.as_bytes().to_vec());
    FakeBridge::default()
        .with_local("dockerfile", [("layercake.yaml", example_spec())])
        .with_local("context", files)
        .with_gateway_caps([caps::FRONTEND_INPUTS, caps::SOURCE_META_RESOLVER])
        .with_llb_caps(all_llb_caps())
}

/// The exclude patterns of the build's `context` local.
fn context_excludes(fake: &FakeBridge) -> Vec<String> {
    let solves = build_solves(fake);
    let graph = Graph::from_pb(solves[0].definition.as_ref().unwrap());
    let patterns: Vec<String> = graph
        .sources()
        .filter(|(_, source)| source.identifier == "local://context")
        .filter_map(|(_, source)| source.attrs.get("local.excludepatterns").cloned())
        .collect();
    assert_eq!(
        patterns.len(),
        1,
        "one context local with excludes: {patterns:?}"
    );
    serde_json::from_str(&patterns[0]).unwrap()
}

#[test]
fn an_allowlist_dockerignore_keeps_its_order() {
    // Everything out, then what the build needs back in: sorted, `!` lines would come first
    // and `*` would win, sending an empty context.
    let text = "*\n!backend\n!frontend\nbackend/secret-notes.txt\n";
    let fake = fake_with_dockerignore(text);
    run(&fake, &["filename=layercake.yaml", "target=api"]);
    assert_eq!(
        context_excludes(&fake),
        ["*", "!backend", "!frontend", "backend/secret-notes.txt"]
    );
}

#[test]
fn a_requirement_file_the_dockerignore_excludes_is_an_error_naming_both() {
    let fake = fake_with_dockerignore("# reqs are generated\n**/requirements*.txt\n");
    run(&fake, &["filename=layercake.yaml", "target=api"]);
    let error = returned_error(&fake);
    assert!(
        error.message.contains(
            "`backend/requirements.txt` is excluded from the build context by `**/requirements*.txt` (.dockerignore:2)"
        ),
        "{}",
        error.message
    );
    assert!(build_solves(&fake).is_empty(), "nothing was built");
}

#[test]
fn a_re_included_requirement_file_is_read() {
    let fake = fake_with_dockerignore("backend\n!backend/requirements.txt\n");
    run(&fake, &["filename=layercake.yaml", "target=api"]);
    assert_eq!(
        context_excludes(&fake),
        ["backend", "!backend/requirements.txt"]
    );
}

#[test]
fn a_bad_dockerignore_pattern_is_an_error_at_its_line() {
    let fake = fake_with_dockerignore("ok\nnode_modules/[abc\n");
    run(&fake, &["filename=layercake.yaml", "target=api"]);
    let error = returned_error(&fake);
    assert!(
        error
            .message
            .starts_with(".dockerignore:2:1: `node_modules/[abc`: `[` is never closed"),
        "{}",
        error.message
    );
}

#[test]
fn a_requirement_file_over_the_limit_is_refused_without_reading_it_whole() {
    let mut files = example_files();
    let mut big = b"flask==3.0.0\n".to_vec();
    big.resize(8 * 1024 * 1024 + 100, b'#');
    files.insert("backend/requirements.txt".into(), big);
    let fake = FakeBridge::default()
        .with_local("dockerfile", [("layercake.yaml", example_spec())])
        .with_local("context", files)
        .with_gateway_caps([caps::FRONTEND_INPUTS, caps::SOURCE_META_RESOLVER])
        .with_llb_caps(all_llb_caps());
    run(&fake, &["filename=layercake.yaml", "target=api"]);
    let error = returned_error(&fake);
    assert!(
        error
            .message
            .contains("`backend/requirements.txt` is larger than 8388608 bytes"),
        "{}",
        error.message
    );
    let recorded = fake.recorded();
    let read = recorded
        .reads
        .iter()
        .find(|r| r.file_path == "backend/requirements.txt")
        .unwrap();
    assert_eq!(
        read.range.as_ref().map(|r| r.length),
        Some(8 * 1024 * 1024 + 1)
    );
}

#[test]
fn a_missing_requirement_file_is_an_error_at_the_spec_value_that_named_it() {
    let mut files = example_files();
    files.remove("backend/requirements.txt");
    let fake = FakeBridge::default()
        .with_local("dockerfile", [("layercake.yaml", example_spec())])
        .with_local("context", files)
        .with_gateway_caps([caps::FRONTEND_INPUTS, caps::SOURCE_META_RESOLVER])
        .with_llb_caps(all_llb_caps());
    run(&fake, &["filename=layercake.yaml", "target=api"]);
    let error = returned_error(&fake);
    // testdata/example/layercake.yaml names it on line 13, after `requirements: ` (column 21).
    assert!(
        error.message.starts_with(
            "layercake.yaml:13:21: service `api`: `backend/requirements.txt` was not found"
        ),
        "{}",
        error.message
    );
    assert!(build_solves(&fake).is_empty(), "nothing was built");
}

//! Shared by the `layercake frontend` tests: the example project as the fake BuildKit's
//! client directories, running the binary against it, and reading what it sent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use buildkit_frontend::testing::{FakeBridge, FrontendRun, run_frontend};
pub use buildkit_llb::testing::Graph;
use buildkit_proto::{gateway, google_rpc};

pub const SESSION: &str = "sess-layercake-test";
/// The worker BuildKit reports: the build platform.
pub const WORKERS: &str = r#"[{"ID":"w0","Platforms":[{"architecture":"amd64","os":"linux"}]}]"#;

pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/example")
}

/// Every file of testdata/example, by context-relative path.
pub fn example_files() -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                out.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(&example_dir(), &example_dir(), &mut files);
    files
}

pub fn example_spec() -> String {
    std::fs::read_to_string(example_dir().join("layercake.yaml")).unwrap()
}

/// Every LLB cap buildkit-llb knows: what a current BuildKit reports.
pub fn all_llb_caps() -> Vec<&'static str> {
    use buildkit_llb::caps::*;
    vec![
        SOURCE_IMAGE,
        SOURCE_IMAGE_RESOLVE_MODE,
        SOURCE_IMAGE_LAYER_LIMIT,
        SOURCE_IMAGE_CHECKSUM,
        SOURCE_LOCAL,
        SOURCE_LOCAL_UNIQUE,
        SOURCE_LOCAL_SESSION_ID,
        SOURCE_LOCAL_INCLUDE_PATTERNS,
        SOURCE_LOCAL_FOLLOW_PATHS,
        SOURCE_LOCAL_EXCLUDE_PATTERNS,
        SOURCE_LOCAL_SHARED_KEY_HINT,
        SOURCE_LOCAL_DIFFER,
        SOURCE_GIT,
        SOURCE_GIT_KEEP_DIR,
        SOURCE_GIT_FULL_URL,
        SOURCE_GIT_HTTP_AUTH,
        SOURCE_GIT_KNOWN_SSH_HOSTS,
        SOURCE_GIT_MOUNT_SSH_SOCK,
        SOURCE_GIT_SUBDIR,
        SOURCE_GIT_CHECKSUM,
        SOURCE_GIT_SKIP_SUBMODULES,
        SOURCE_HTTP,
        SOURCE_HTTP_CHECKSUM,
        SOURCE_HTTP_PERM,
        SOURCE_HTTP_UID_GID,
        EXEC_META_BASE,
        EXEC_META_NETWORK,
        EXEC_META_SECURITY,
        EXEC_MOUNT_BIND,
        EXEC_MOUNT_CACHE,
        EXEC_MOUNT_CACHE_SHARING,
        EXEC_MOUNT_SELECTOR,
        EXEC_MOUNT_TMPFS,
        EXEC_MOUNT_TMPFS_SIZE,
        EXEC_MOUNT_SECRET,
        EXEC_MOUNT_SSH,
        EXEC_SECRET_ENV,
        EXEC_VALID_EXIT_CODE,
        FILE_BASE,
        FILE_COPY_INCLUDE_EXCLUDE_PATTERNS,
        FILE_COPY_REQUIRED_PATHS,
        FILE_COPY_ALWAYS_REPLACE_EXISTING_DEST_PATHS,
        FILE_COPY_MODE_STRING,
        FILE_RM_WILDCARD,
        CONSTRAINTS,
        PLATFORM,
        META_IGNORE_CACHE,
        META_DESCRIPTION,
        META_EXPORT_CACHE,
        MERGE_OP,
        DIFF_OP,
    ]
}

/// A BuildKit that serves `spec_name` (in the `dockerfile` local) and the example project
/// (the `context` local), with every LLB cap and no frontend inputs.
pub fn fake_with_spec(spec_name: &str, spec: &str) -> FakeBridge {
    use buildkit_frontend::caps;
    FakeBridge::default()
        .with_local("dockerfile", [(spec_name, spec)])
        .with_local("context", example_files())
        .with_gateway_caps([caps::FRONTEND_INPUTS, caps::SOURCE_META_RESOLVER])
        .with_llb_caps(all_llb_caps())
}

pub fn example_fake() -> FakeBridge {
    fake_with_spec("layercake.yaml", &example_spec())
}

/// Runs `layercake frontend` against `fake` with these frontend options, as BuildKit starts
/// it; checks it spoke only gRPC on stdout and exited 0.
pub fn run(fake: &FakeBridge, opts: &[&str]) -> FrontendRun {
    let mut command = Command::new(env!("CARGO_BIN_EXE_layercake"));
    command
        .arg("frontend")
        .env_clear()
        .env("BUILDKIT_SESSION_ID", SESSION)
        .env("BUILDKIT_WORKERS", WORKERS)
        .env("BUILDKIT_EXPORTEDPRODUCT", "buildkit");
    for (i, opt) in opts.iter().enumerate() {
        command.env(format!("BUILDKIT_FRONTEND_OPT_{i}"), opt);
    }
    let run = run_frontend(fake, command, Duration::from_secs(60)).unwrap();
    assert!(
        run.status.success(),
        "layercake frontend exited with {}; stderr:\n{}",
        run.status,
        run.stderr
    );
    assert!(
        run.stdout_was_grpc(),
        "stdout did not start as HTTP/2: {:?}",
        String::from_utf8_lossy(&run.stdout_start)
    );
    run
}

/// The one Return the fake got.
pub fn returned(fake: &FakeBridge) -> gateway::ReturnRequest {
    let returns = fake.returns();
    assert_eq!(returns.len(), 1, "exactly one Return: {returns:#?}");
    returns[0].clone()
}

/// The returned result; fails the test when the frontend returned an error.
pub fn result(fake: &FakeBridge) -> gateway::Result {
    let ret = returned(fake);
    if let Some(error) = &ret.error {
        panic!("the frontend returned an error: {}", error.message);
    }
    ret.result.expect("a result")
}

/// The returned error; fails the test when the frontend returned a result.
pub fn returned_error(fake: &FakeBridge) -> google_rpc::Status {
    let ret = returned(fake);
    assert!(
        ret.result.is_none(),
        "an error, not a result: {:?}",
        ret.result
    );
    ret.error.expect("an error")
}

pub fn metadata(result: &gateway::Result, key: &str) -> String {
    let Some(value) = result.metadata.get(key) else {
        panic!(
            "no metadata `{key}`; have {:?}",
            result.metadata.keys().collect::<Vec<_>>()
        );
    };
    String::from_utf8(value.clone()).unwrap()
}

pub fn metadata_json(result: &gateway::Result, key: &str) -> serde_json::Value {
    serde_json::from_str(&metadata(result, key)).unwrap()
}

/// The solves of build graphs (the ones with a run step), in order.
pub fn build_solves(fake: &FakeBridge) -> Vec<gateway::SolveRequest> {
    fake.recorded()
        .solves
        .iter()
        .filter(|solve| {
            Graph::from_pb(solve.definition.as_ref().unwrap())
                .execs()
                .next()
                .is_some()
        })
        .cloned()
        .collect()
}

/// Names of the `local://` sources of the other solves (spec and context loads).
pub fn loaded_locals(fake: &FakeBridge) -> BTreeSet<String> {
    fake.recorded()
        .locals
        .values()
        .map(|local| local.name.clone())
        .collect()
}

//! Compiles `proto/*.proto` with protox (pure Rust, no `protoc`) and generates
//! prost messages plus the tonic LLBBridge client (and server behind the
//! `server` feature).

use std::error::Error;

const PROTOS: &[&str] = &[
    "proto/ops.proto",
    "proto/caps.proto",
    "proto/worker.proto",
    "proto/stat.proto",
    "proto/policy.proto",
    "proto/errdefs.proto",
    "proto/google/rpc/status.proto",
    "proto/gateway.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=proto");
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }

    let descriptors = protox::compile(PROTOS, ["proto"])?;
    let server = std::env::var_os("CARGO_FEATURE_SERVER").is_some();

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(server)
        .build_transport(false)
        // BTreeMap everywhere: HashMap iteration order would make encoded ops,
        // and therefore LLB digests and cache keys, differ from run to run.
        .btree_map(".")
        .include_file("generated.rs")
        .compile_fds(descriptors)?;
    Ok(())
}

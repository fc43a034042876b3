//! # buildkit-proto
//!
//! BuildKit's wire protocol as Rust types: the LLB graph messages and the
//! gateway `LLBBridge` API that a frontend talks to over its stdin/stdout.
//!
//! The `.proto` files in `proto/` are this project's own transcription of the
//! messages and calls we use, tracking BuildKit [`BUILDKIT_RELEASE`]. Names,
//! packages, field numbers and types match upstream exactly, since they are
//! the protocol. They are compiled at build time with `protox` (no `protoc`)
//! and `tonic-prost-build`; every protobuf `map` becomes a
//! [`BTreeMap`](std::collections::BTreeMap) so encoding is deterministic and
//! LLB digests (BuildKit's cache keys) are stable from run to run.
//!
//! | module | protobuf package | holds |
//! | --- | --- | --- |
//! | [`pb`] | `pb` | LLB: `Op`, `ExecOp`, `FileOp`, `SourceOp`, `MergeOp`, `DiffOp`, `Definition`, source maps |
//! | [`gateway`] | `moby.buildkit.v1.frontend` | `LLBBridge` client (`gateway::llb_bridge_client`), `SolveRequest`, `Result`, `ReturnRequest`, … |
//! | [`apicaps`] | `moby.buildkit.v1.apicaps` | `APICap` |
//! | [`types`] | `moby.buildkit.v1.types` | `WorkerRecord` |
//! | [`sourcepolicy`] | `moby.buildkit.v1.sourcepolicy` | `Policy` |
//! | [`fsutil`] | `fsutil.types` | `Stat` |
//! | [`errdefs`] | `errdefs` | typed error details such as `Source` |
//! | [`google_rpc`] | `google.rpc` | `Status` |
//!
//! With the `server` feature the `LLBBridge` server trait is generated too
//! (`gateway::llb_bridge_server`), which lets tests stand in for BuildKit.
//!
//! ```
//! use buildkit_proto::pb;
//! use prost::Message;
//!
//! let op = pb::Op {
//!     op: Some(pb::op::Op::Source(pb::SourceOp {
//!         identifier: "docker-image://docker.io/library/alpine:latest".into(),
//!         ..Default::default()
//!     })),
//!     ..Default::default()
//! };
//! let bytes = op.encode_to_vec();
//! assert_eq!(pb::Op::decode(bytes.as_slice()).unwrap(), op);
//! ```

mod generated;
mod release;

pub use generated::errdefs;
pub use generated::fsutil::types as fsutil;
pub use generated::google::rpc as google_rpc;
pub use generated::moby::buildkit::v1::apicaps;
pub use generated::moby::buildkit::v1::frontend as gateway;
pub use generated::moby::buildkit::v1::sourcepolicy;
pub use generated::moby::buildkit::v1::types;
pub use generated::pb;
pub use release::{BUILDKIT_COMMIT, BUILDKIT_RELEASE};

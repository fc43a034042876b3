//! Checks field numbers on the wire against BuildKit v0.32.2: a transcription
//! mistake in `proto/` would show up here as a wrong tag.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use buildkit_proto::{gateway, google_rpc, pb};
use prost::Message;

/// One decoded top-level field: (number, wire type, length-delimited payload).
type Field = (u32, u8, Vec<u8>);

fn varint(bytes: &[u8], pos: &mut usize) -> u64 {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = bytes[*pos];
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return value;
        }
        shift += 7;
    }
}

/// Splits an encoded message into its top-level fields.
fn fields(bytes: &[u8]) -> Vec<Field> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let key = varint(bytes, &mut pos);
        let number = u32::try_from(key >> 3).unwrap();
        let wire = u8::try_from(key & 7).unwrap();
        match wire {
            0 => {
                let v = varint(bytes, &mut pos);
                out.push((number, wire, v.to_le_bytes().to_vec()));
            }
            2 => {
                let len = usize::try_from(varint(bytes, &mut pos)).unwrap();
                out.push((number, wire, bytes[pos..pos + len].to_vec()));
                pos += len;
            }
            other => panic!("unexpected wire type {other}"),
        }
    }
    out
}

/// The payload of the only field with this number.
fn field(bytes: &[u8], number: u32) -> Vec<u8> {
    let found: Vec<_> = fields(bytes)
        .into_iter()
        .filter(|f| f.0 == number)
        .collect();
    assert_eq!(found.len(), 1, "field {number} in {:?}", fields(bytes));
    found[0].2.clone()
}

fn numbers(bytes: &[u8]) -> Vec<u32> {
    fields(bytes).into_iter().map(|f| f.0).collect()
}

fn exec_op() -> pb::Op {
    pb::Op {
        inputs: vec![pb::Input {
            digest: "sha256:abc".into(),
            index: 0,
        }],
        op: Some(pb::op::Op::Exec(pb::ExecOp {
            meta: Some(pb::Meta {
                args: vec!["pip".into(), "wheel".into()],
                cwd: "/src".into(),
                ulimit: vec![pb::Ulimit {
                    name: "nofile".into(),
                    soft: 1,
                    hard: 2,
                }],
                ..Default::default()
            }),
            mounts: vec![pb::Mount {
                input: -1,
                dest: "/root/.cache/pip".into(),
                output: -1,
                mount_type: pb::MountType::Cache.into(),
                cache_opt: Some(pb::CacheOpt {
                    id: "pip".into(),
                    sharing: pb::CacheSharingOpt::Locked.into(),
                }),
                ..Default::default()
            }],
            network: pb::NetMode::None.into(),
            ..Default::default()
        })),
        platform: Some(pb::Platform {
            architecture: "arm64".into(),
            os: "linux".into(),
            variant: "v8".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn exec_op_field_numbers() {
    let bytes = exec_op().encode_to_vec();
    assert_eq!(numbers(&bytes), vec![1, 2, 10]);

    let exec = field(&bytes, 2);
    assert_eq!(numbers(&exec), vec![1, 2, 3]);
    // NetMode NONE is 2.
    assert_eq!(field(&exec, 3)[0], 2);

    let meta = field(&exec, 1);
    assert_eq!(numbers(&meta), vec![1, 1, 3, 9]);
    assert_eq!(field(&meta, 3), b"/src");

    let mount = field(&exec, 2);
    // input, dest, output, mountType, cacheOpt
    assert_eq!(numbers(&mount), vec![1, 3, 4, 6, 20]);
    assert_eq!(field(&mount, 3), b"/root/.cache/pip");
    assert_eq!(field(&mount, 6)[0], 3, "MountType CACHE is 3");
    let cache = field(&mount, 20);
    assert_eq!(field(&cache, 1), b"pip");
    assert_eq!(field(&cache, 2)[0], 2, "LOCKED is 2");

    let platform = field(&bytes, 10);
    assert_eq!(field(&platform, 1), b"arm64");
    assert_eq!(field(&platform, 2), b"linux");
    assert_eq!(field(&platform, 3), b"v8");
}

#[test]
fn file_and_source_op_field_numbers() {
    let file = pb::Op {
        op: Some(pb::op::Op::File(pb::FileOp {
            actions: vec![pb::FileAction {
                input: 0,
                secondary_input: 1,
                output: 0,
                action: Some(pb::file_action::Action::Copy(pb::FileActionCopy {
                    src: "/requirements.txt".into(),
                    dest: "/src/requirements.txt".into(),
                    create_dest_path: true,
                    mode: -1,
                    ..Default::default()
                })),
            }],
        })),
        ..Default::default()
    };
    let bytes = file.encode_to_vec();
    assert_eq!(numbers(&bytes), vec![4]);
    let file_op = field(&bytes, 4);
    assert_eq!(numbers(&file_op), vec![2]);
    let action = field(&file_op, 2);
    // input 0 is a default and not encoded.
    assert_eq!(numbers(&action), vec![2, 4]);
    let copy = field(&action, 4);
    assert_eq!(numbers(&copy), vec![1, 2, 4, 8]);

    let source = pb::Op {
        op: Some(pb::op::Op::Source(pb::SourceOp {
            identifier: "local://context".into(),
            attrs: BTreeMap::from([("local.session".to_string(), "s".to_string())]),
        })),
        ..Default::default()
    };
    let bytes = source.encode_to_vec();
    let source_op = field(&bytes, 3);
    assert_eq!(numbers(&source_op), vec![1, 2]);

    let merge = pb::Op {
        op: Some(pb::op::Op::Merge(pb::MergeOp {
            inputs: vec![pb::MergeInput { input: 1 }],
        })),
        ..Default::default()
    };
    assert_eq!(numbers(&merge.encode_to_vec()), vec![6]);
    let diff = pb::Op {
        op: Some(pb::op::Op::Diff(pb::DiffOp::default())),
        ..Default::default()
    };
    assert_eq!(numbers(&diff.encode_to_vec()), vec![7]);
}

#[test]
fn definition_round_trips_with_metadata() {
    let op_bytes = exec_op().encode_to_vec();
    let definition = pb::Definition {
        def: vec![op_bytes.clone()],
        metadata: BTreeMap::from([(
            "sha256:abc".to_string(),
            pb::OpMetadata {
                ignore_cache: true,
                description: BTreeMap::from([(
                    "llb.customname".to_string(),
                    "[api 1/2] pip wheel".to_string(),
                )]),
                export_cache: Some(pb::ExportCache { value: true }),
                ..Default::default()
            },
        )]),
        source: None,
    };
    let bytes = definition.encode_to_vec();
    assert_eq!(numbers(&bytes), vec![1, 2]);
    assert_eq!(field(&bytes, 1), op_bytes);

    let entry = field(&bytes, 2);
    assert_eq!(field(&entry, 1), b"sha256:abc");
    let metadata = field(&entry, 2);
    assert_eq!(numbers(&metadata), vec![1, 2, 4]);

    let decoded = pb::Definition::decode(bytes.as_slice()).unwrap();
    assert_eq!(decoded, definition);
    assert_eq!(
        pb::Op::decode(decoded.def[0].as_slice()).unwrap(),
        exec_op()
    );
}

#[test]
fn maps_encode_in_key_order() {
    let keys = ["zeta", "alpha", "mu", "beta", "omega", "kappa"];
    let mut attrs = BTreeMap::new();
    for key in keys {
        attrs.insert(key.to_string(), "v".to_string());
    }
    let op = pb::SourceOp {
        identifier: "x".into(),
        attrs,
    };
    let bytes = op.encode_to_vec();
    let encoded_keys: Vec<Vec<u8>> = fields(&bytes)
        .into_iter()
        .filter(|f| f.0 == 2)
        .map(|f| field(&f.2, 1))
        .collect();
    let mut sorted = keys.map(|k| k.as_bytes().to_vec()).to_vec();
    sorted.sort();
    assert_eq!(encoded_keys, sorted);
}

#[test]
fn gateway_field_numbers() {
    let solve = gateway::SolveRequest {
        definition: Some(pb::Definition::default()),
        allow_result_return: true,
        cache_imports: vec![gateway::CacheOptionsEntry {
            r#type: "registry".into(),
            attrs: BTreeMap::from([("ref".to_string(), "r/cache".to_string())]),
        }],
        evaluate: true,
        ..Default::default()
    };
    let bytes = solve.encode_to_vec();
    assert_eq!(numbers(&bytes), vec![1, 5, 12, 14]);
    let entry = field(&bytes, 12);
    assert_eq!(field(&entry, 1), b"registry");

    let ret = gateway::ReturnRequest {
        result: Some(gateway::Result {
            result: Some(gateway::result::Result::Refs(gateway::RefMap {
                refs: BTreeMap::from([(
                    "linux/amd64".to_string(),
                    gateway::Ref {
                        id: "r1".into(),
                        def: None,
                    },
                )]),
            })),
            metadata: BTreeMap::from([("refs.platforms".to_string(), b"{}".to_vec())]),
            ..Default::default()
        }),
        error: Some(google_rpc::Status {
            code: 2,
            message: "boom".into(),
            details: vec![],
        }),
    };
    let bytes = ret.encode_to_vec();
    assert_eq!(numbers(&bytes), vec![1, 2]);
    let result = field(&bytes, 1);
    assert_eq!(numbers(&result), vec![4, 10]);
    let status = field(&bytes, 2);
    assert_eq!(numbers(&status), vec![1, 2]);
    assert_eq!(field(&status, 2), b"boom");

    let warn = gateway::WarnRequest {
        level: 1,
        ranges: vec![pb::Range::default()],
        info: Some(pb::SourceInfo::default()),
        ..Default::default()
    };
    assert_eq!(numbers(&warn.encode_to_vec()), vec![2, 6, 7]);

    let read = gateway::ReadFileRequest {
        r#ref: "r".into(),
        file_path: "layercake.yaml".into(),
        range: Some(gateway::FileRange {
            offset: 1,
            length: 2,
        }),
        mount_index: 0,
    };
    assert_eq!(numbers(&read.encode_to_vec()), vec![1, 2, 3]);
}

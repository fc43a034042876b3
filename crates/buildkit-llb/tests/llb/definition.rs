//! Marshalling a graph into a `pb.Definition` the way BuildKit's Go client does.

// Test helpers outside #[test] fns may unwrap and panic too: a failure is the point.

use std::collections::BTreeSet;

use buildkit_llb::pb;
use buildkit_llb::{
    Definition, Digest, Exec, FileCopy, FileOp, Image, LlbError, Local, Merge, Mount, Output,
    Platform, Range, SourceMap,
};
use prost::Message as _;

fn sample() -> (Output, Output, Output) {
    let base = Image::new("python:3.11-slim")
        .platform(Platform::new("linux", "amd64"))
        .build();
    let ctx = Local::new("context").build();
    let run = Exec::new(["pip", "wheel", "."])
        .root(base.clone())
        .mount(Mount::readonly(ctx.clone(), "/src"))
        .custom_name("wheel")
        .build()
        .unwrap();
    (base, ctx, run.root())
}

#[test]
fn ops_in_dependency_order_with_terminal_op() {
    let (base, ctx, run) = sample();
    let definition = Definition::new(&run);
    let pb = definition.as_pb();
    assert_eq!(pb.def.len(), 4);
    // Every digest is the sha256 of the op bytes; every input points at an earlier op.
    let mut seen = BTreeSet::new();
    for (position, bytes) in pb.def.iter().enumerate() {
        let digest = Digest::of(bytes);
        assert_eq!(definition.ops()[position].0, digest);
        let op = pb::Op::decode(bytes.as_slice()).unwrap();
        for input in &op.inputs {
            assert!(
                seen.contains(&input.digest),
                "input of op {position} not yet defined"
            );
        }
        assert!(
            pb.metadata.contains_key(digest.as_str()),
            "metadata for {digest}"
        );
        seen.insert(digest.to_string());
    }
    assert_eq!(pb.metadata.len(), 4);
    // BuildKit visits an exec's inputs in sorted-mount order: root first.
    assert_eq!(pb.def[0], base.op_bytes().unwrap());
    assert_eq!(pb.def[1], ctx.op_bytes().unwrap());
    assert_eq!(pb.def[2], run.op_bytes().unwrap());
    // The terminal op has only the target edge, no platform or constraints.
    let terminal = pb::Op::decode(pb.def[3].as_slice()).unwrap();
    assert_eq!(
        terminal,
        pb::Op {
            inputs: vec![run.to_pb_input().unwrap()],
            ..Default::default()
        }
    );
    assert_eq!(definition.head(), Some(run.digest().unwrap().as_str()));
    let terminal_caps: Vec<&String> = pb.metadata[Digest::of(&pb.def[3]).as_str()]
        .caps
        .keys()
        .collect();
    assert_eq!(
        terminal_caps,
        ["constraints", "meta.description", "platform"]
    );
    assert_eq!(
        pb.metadata[run.digest().unwrap().as_str()].description["llb.customname"],
        "wheel"
    );
    // No source maps: BuildKit still writes an empty Source.
    assert_eq!(pb.source, Some(pb::Source::default()));
}

#[test]
fn shared_and_identical_ops_appear_once() {
    let ctx = Local::new("context").build();
    let twin = Local::new("context").custom_name("twin").build();
    assert_eq!(ctx.digest(), twin.digest());
    let base = Image::new("node:18").build();
    let a = FileOp::new(base.clone())
        .copy(FileCopy::new(ctx.clone(), "/a", "/a"))
        .build()
        .unwrap();
    let b = FileOp::new(base.clone())
        .copy(FileCopy::new(twin.clone(), "/b", "/b"))
        .build()
        .unwrap();
    let merged = Merge::new([a.clone(), b.clone()]).build();
    let definition = Definition::new(&merged);
    let digests: Vec<&Digest> = definition.ops().iter().map(|(d, _)| d).collect();
    // base, ctx, a, b, merge, terminal: the twin local is the same op, written once, and
    // its metadata merged into the one entry.
    assert_eq!(digests.len(), 6);
    assert_eq!(BTreeSet::from_iter(digests.iter()).len(), 6);
    let ctx_meta = &definition.as_pb().metadata[ctx.digest().unwrap().as_str()];
    assert_eq!(ctx_meta.description["llb.customname"], "twin");
}

#[test]
fn file_op_inputs_visited_like_buildkit() {
    // BuildKit's FileOp.Inputs() walks from the last action back: base, then copy sources
    // last-to-first. That decides where the sources land in Definition.def.
    let base = Image::new("node:18").build();
    let first = Local::new("first").build();
    let second = Local::new("second").build();
    let out = FileOp::new(base.clone())
        .copy(FileCopy::new(first.clone(), "/a", "/a"))
        .copy(FileCopy::new(second.clone(), "/b", "/b"))
        .build()
        .unwrap();
    let definition = Definition::new(&out);
    let order: Vec<&Digest> = definition.ops().iter().map(|(d, _)| d).collect();
    assert_eq!(
        order[..4],
        [
            base.digest().unwrap(),
            second.digest().unwrap(),
            first.digest().unwrap(),
            out.digest().unwrap()
        ]
    );
}

#[test]
fn round_trips_through_bytes() {
    let (_, _, run) = sample();
    let definition = Definition::new(&run);
    let bytes = definition.encode_to_vec();
    let decoded = Definition::decode(&bytes).unwrap();
    assert_eq!(decoded, definition);
    assert_eq!(decoded.encode_to_vec(), bytes);
    assert_eq!(decoded.required_caps(), definition.required_caps());
    let from_pb = Definition::from_pb(definition.clone().into_pb()).unwrap();
    assert_eq!(from_pb.to_json(), definition.to_json());

    assert!(matches!(
        Definition::decode(&[0xff, 0xff]),
        Err(LlbError::DecodeDefinition(_))
    ));
    let broken = pb::Definition {
        def: vec![vec![0x0a, 0x05, 0x01]],
        ..Default::default()
    };
    assert!(matches!(
        Definition::from_pb(broken),
        Err(LlbError::DecodeOp { index: 0, .. })
    ));
}

#[test]
fn scratch_gives_an_empty_definition() {
    let definition = Definition::new(&Output::scratch());
    assert_eq!(definition.as_pb(), &pb::Definition::default());
    assert_eq!(definition.head(), None);
    assert!(definition.required_caps().is_empty());
}

#[test]
fn required_caps_cover_the_graph() {
    let (_, _, run) = sample();
    let caps = Definition::new(&run).required_caps();
    let listed: Vec<&str> = caps.iter().collect();
    assert_eq!(
        listed,
        [
            "constraints",
            "exec.meta.base",
            "exec.mount.bind",
            "meta.description",
            "platform",
            "source.image",
            "source.local",
        ]
    );
    let supported = [
        "constraints",
        "exec.meta.base",
        "exec.mount.bind",
        "platform",
        "source.image",
    ];
    assert_eq!(
        caps.missing_from(supported),
        ["meta.description", "source.local"]
    );
}

#[test]
fn source_maps_are_collected_once_per_file() {
    let spec = SourceMap::new("layercake.yaml", "yaml", b"services:\n  api: {}\n".to_vec());
    let same_file = SourceMap::new("layercake.yaml", "yaml", b"services:\n  api: {}\n".to_vec());
    let other = SourceMap::new("other.yaml", "yaml", b"x".to_vec());
    let base = Image::new("alpine")
        .source_location(spec.location([Range::lines(2, 2)]))
        .build();
    let run = Exec::new(["true"])
        .root(base.clone())
        .source_location(same_file.location([Range::new(1, 0, 2, 4)]))
        .source_location(other.location([Range::lines(1, 1)]))
        .build()
        .unwrap()
        .root();
    let definition = Definition::new(&run);
    let source = definition.as_pb().source.clone().unwrap();
    let files: Vec<&str> = source
        .infos
        .iter()
        .map(|info| info.filename.as_str())
        .collect();
    assert_eq!(files, ["layercake.yaml", "other.yaml"]);
    assert_eq!(source.infos[0].language, "yaml");
    let run_locations = &source.locations[run.digest().unwrap().as_str()].locations;
    assert_eq!(run_locations.len(), 2);
    assert_eq!(run_locations[0].source_index, 0);
    assert_eq!(run_locations[1].source_index, 1);
    assert_eq!(
        run_locations[0].ranges,
        [pb::Range {
            start: Some(pb::Position {
                line: 1,
                character: 0
            }),
            end: Some(pb::Position {
                line: 2,
                character: 4
            }),
        }]
    );
    let base_locations = &source.locations[base.digest().unwrap().as_str()].locations;
    assert_eq!(base_locations[0].source_index, 0);
    // Source locations are metadata: they do not change op digests.
    assert_eq!(base.digest(), Image::new("alpine").build().digest());
}

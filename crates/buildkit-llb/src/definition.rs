use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use buildkit_proto::pb;
use prost::Message as _;

use crate::caps::{self, Caps};
use crate::digest::Digest;
use crate::error::LlbError;
use crate::output::{Node, Output};
use crate::sourcemap::SourceMap;

/// A marshalled LLB graph: BuildKit's `pb.Definition` plus the decoded ops, ready to send in a
/// gateway `SolveRequest.definition`.
///
/// Built from an [`Output`] exactly as BuildKit's Go client marshals a state: ops in dependency
/// order (inputs first), each op once, then a terminal op whose single input is the target;
/// `metadata` keyed by `sha256:<hex>` of each op's bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    pb: pb::Definition,
    ops: Vec<(Digest, pb::Op)>,
}

impl Definition {
    /// Marshals the graph that produces `target`. Scratch gives an empty definition.
    pub fn new(target: &Output) -> Self {
        let Some(root) = target.node() else {
            return Self {
                pb: pb::Definition::default(),
                ops: Vec::new(),
            };
        };
        let mut marshal = Marshal::default();
        marshal.visit(root);

        let mut terminal_caps: BTreeMap<String, bool> = [caps::CONSTRAINTS, caps::PLATFORM]
            .into_iter()
            .map(|cap| (cap.to_owned(), true))
            .collect();
        for metadata in marshal.metadata.values() {
            if metadata.ignore_cache {
                terminal_caps.insert(caps::META_IGNORE_CACHE.to_owned(), true);
            }
            if !metadata.description.is_empty() {
                terminal_caps.insert(caps::META_DESCRIPTION.to_owned(), true);
            }
            if metadata.export_cache.is_some() {
                terminal_caps.insert(caps::META_EXPORT_CACHE.to_owned(), true);
            }
        }
        let terminal = pb::Op {
            inputs: target.to_pb_input().into_iter().collect(),
            ..Default::default()
        };
        let terminal_bytes = terminal.encode_to_vec();
        let terminal_digest = Digest::of(&terminal_bytes);
        marshal.def.push(terminal_bytes);
        let terminal_metadata = marshal
            .metadata
            .entry(terminal_digest.to_string())
            .or_default();
        terminal_metadata.caps = terminal_caps;

        let source = pb::Source {
            locations: marshal.locations,
            infos: marshal.maps.iter().map(SourceMap::to_info).collect(),
        };
        let mut ops = marshal.ops;
        ops.push((terminal_digest, terminal));
        Self {
            pb: pb::Definition {
                def: marshal.def,
                metadata: marshal.metadata,
                source: Some(source),
            },
            ops,
        }
    }

    /// Wraps a received `pb.Definition`, checking that every op decodes.
    pub fn from_pb(definition: pb::Definition) -> Result<Self, LlbError> {
        let ops = definition
            .def
            .iter()
            .enumerate()
            .map(|(index, bytes)| {
                pb::Op::decode(bytes.as_slice())
                    .map(|op| (Digest::of(bytes), op))
                    .map_err(|source| LlbError::DecodeOp { index, source })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            pb: definition,
            ops,
        })
    }

    /// Decodes a serialized `pb.Definition` (e.g. `buildctl debug dump-llb` input).
    pub fn decode(bytes: &[u8]) -> Result<Self, LlbError> {
        let definition = pb::Definition::decode(bytes).map_err(LlbError::DecodeDefinition)?;
        Self::from_pb(definition)
    }

    /// The serialized `pb.Definition`.
    pub fn encode_to_vec(&self) -> Vec<u8> {
        self.pb.encode_to_vec()
    }

    /// The wire form.
    pub fn as_pb(&self) -> &pb::Definition {
        &self.pb
    }

    /// The wire form, for `SolveRequest.definition`.
    pub fn into_pb(self) -> pb::Definition {
        self.pb
    }

    /// The ops in definition order with their digests (the terminal op last).
    pub fn ops(&self) -> &[(Digest, pb::Op)] {
        &self.ops
    }

    /// The digest of the target op (the terminal op's input), `None` when empty.
    pub fn head(&self) -> Option<&str> {
        self.ops
            .last()
            .and_then(|(_, op)| op.inputs.first())
            .map(|input| input.digest.as_str())
    }

    /// The LLB caps this graph needs: every cap recorded in its ops' metadata. Check them
    /// against the caps BuildKit's `Ping` reports with [`Caps::missing_from`].
    pub fn required_caps(&self) -> Caps {
        self.pb
            .metadata
            .values()
            .flat_map(|metadata| metadata.caps.iter())
            .filter(|(_, on)| **on)
            .map(|(cap, _)| cap.clone())
            .collect()
    }

    /// A readable, deterministic JSON view (like `buildctl debug dump-llb`): one object per op
    /// with its digest, the decoded op, its metadata and source locations.
    pub fn to_json(&self) -> serde_json::Value {
        crate::dump::definition_to_json(self)
    }

    /// [`Definition::to_json`] pretty-printed.
    pub fn to_json_string(&self) -> String {
        let value = self.to_json();
        serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
    }
}

impl From<&Output> for Definition {
    fn from(output: &Output) -> Self {
        Self::new(output)
    }
}

impl From<Definition> for pb::Definition {
    fn from(definition: Definition) -> Self {
        definition.pb
    }
}

/// The walk state of one marshal (BuildKit's `marshal` + `sourceMapCollector`).
#[derive(Default)]
struct Marshal {
    visited: BTreeSet<usize>,
    written: BTreeSet<Digest>,
    def: Vec<Vec<u8>>,
    ops: Vec<(Digest, pb::Op)>,
    metadata: BTreeMap<String, pb::OpMetadata>,
    maps: Vec<SourceMap>,
    locations: BTreeMap<String, pb::Locations>,
}

impl Marshal {
    fn visit(&mut self, node: &Arc<Node>) {
        // Pointer identity only decides "seen already"; output order comes from the graph.
        let key = Arc::as_ptr(node) as usize;
        if self.visited.contains(&key) {
            return;
        }
        for dep in &node.deps {
            if let Some(dep) = dep.node() {
                self.visit(dep);
            }
        }
        self.visited.insert(key);
        let digest = node.digest.to_string();
        merge_metadata(
            self.metadata.entry(digest.clone()).or_default(),
            &node.metadata,
        );
        for location in &node.locations {
            let index = match self.maps.iter().position(|map| *map == location.map) {
                Some(index) => index,
                None => {
                    self.maps.push(location.map.clone());
                    self.maps.len() - 1
                }
            };
            self.locations
                .entry(digest.clone())
                .or_default()
                .locations
                .push(pb::Location {
                    source_index: index as i32,
                    ranges: location.ranges.iter().map(|range| range.to_pb()).collect(),
                });
        }
        if self.written.insert(node.digest.clone()) {
            self.def.push(node.bytes.clone());
            // The bytes were produced from a pb::Op, so they decode; an empty op is the
            // harmless fallback should that ever not hold.
            let op = pb::Op::decode(node.bytes.as_slice()).unwrap_or_default();
            self.ops.push((node.digest.clone(), op));
        }
    }
}

/// BuildKit's `mergeMetadata`: two ops with one digest share one metadata entry.
fn merge_metadata(into: &mut pb::OpMetadata, from: &pb::OpMetadata) {
    into.ignore_cache |= from.ignore_cache;
    into.description
        .extend(from.description.iter().map(|(k, v)| (k.clone(), v.clone())));
    if from.export_cache.is_some() {
        into.export_cache = from.export_cache;
    }
    into.caps
        .extend(from.caps.iter().map(|(k, v)| (k.clone(), *v)));
    if from.progress_group.is_some() {
        into.progress_group = from.progress_group.clone();
    }
    if from.linux_resources.is_some() {
        into.linux_resources = from.linux_resources.clone();
    }
}

use std::fmt;
use std::sync::Arc;

use buildkit_proto::pb;
use prost::Message as _;

use crate::digest::Digest;
use crate::platform::Platform;
use crate::sourcemap::SourceLocation;

/// One marshalled op of the graph: built once, immutable, shared by every [`Output`] of it.
pub(crate) struct Node {
    /// The deterministic protobuf bytes of the `pb.Op`.
    pub(crate) bytes: Vec<u8>,
    /// sha256 of `bytes`.
    pub(crate) digest: Digest,
    /// The outputs this op reads, in the order BuildKit's marshaller visits them (which is not
    /// always the order of `Op.inputs`); drives the order of `Definition.def`.
    pub(crate) deps: Vec<Output>,
    pub(crate) metadata: pb::OpMetadata,
    pub(crate) locations: Vec<SourceLocation>,
    /// The platform a consumer of this op inherits (image and exec platform, passed along
    /// through file ops, merges and diffs like BuildKit's state platform).
    pub(crate) platform: Option<Platform>,
}

impl Node {
    pub(crate) fn finish(
        op: &pb::Op,
        deps: Vec<Output>,
        metadata: pb::OpMetadata,
        locations: Vec<SourceLocation>,
        platform: Option<Platform>,
    ) -> Arc<Node> {
        let bytes = op.encode_to_vec();
        let digest = Digest::of(&bytes);
        Arc::new(Node {
            bytes,
            digest,
            deps,
            metadata,
            locations,
            platform,
        })
    }
}

/// One result of an op: the op plus an output index. Immutable and cheap to clone.
///
/// [`Output::scratch`] is the empty filesystem (no op); everything that takes an input accepts
/// it, as BuildKit's `llb.Scratch()`.
#[derive(Clone)]
pub struct Output {
    node: Option<Arc<Node>>,
    index: i64,
}

impl Output {
    /// The empty filesystem.
    pub fn scratch() -> Self {
        Self {
            node: None,
            index: 0,
        }
    }

    pub(crate) fn new(node: Arc<Node>, index: i64) -> Self {
        Self {
            node: Some(node),
            index,
        }
    }

    /// Whether this is [`Output::scratch`].
    pub fn is_scratch(&self) -> bool {
        self.node.is_none()
    }

    /// The digest of the op producing this output (`None` for scratch).
    pub fn digest(&self) -> Option<&Digest> {
        self.node.as_ref().map(|node| &node.digest)
    }

    /// The output index within its op.
    pub fn index(&self) -> i64 {
        self.index
    }

    /// The platform that ops consuming this output inherit, if known.
    pub fn platform(&self) -> Option<&Platform> {
        self.node.as_ref().and_then(|node| node.platform.as_ref())
    }

    /// The marshalled bytes of the producing op (`None` for scratch).
    pub fn op_bytes(&self) -> Option<&[u8]> {
        self.node.as_ref().map(|node| node.bytes.as_slice())
    }

    /// The `pb.Input` edge pointing at this output (`None` for scratch).
    pub fn to_pb_input(&self) -> Option<pb::Input> {
        self.node.as_ref().map(|node| pb::Input {
            digest: node.digest.to_string(),
            index: self.index,
        })
    }

    pub(crate) fn node(&self) -> Option<&Arc<Node>> {
        self.node.as_ref()
    }
}

impl PartialEq for Output {
    /// Outputs are equal when they name the same op digest and index.
    fn eq(&self, other: &Self) -> bool {
        self.digest() == other.digest() && self.index == other.index
    }
}

impl Eq for Output {}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.digest() {
            Some(digest) => write!(f, "Output({digest}#{})", self.index),
            None => f.write_str("Output(scratch)"),
        }
    }
}

/// Collects the `pb.Input`s of one op, reusing the index of an equal edge as BuildKit does.
#[derive(Default)]
pub(crate) struct InputList {
    pub(crate) inputs: Vec<pb::Input>,
}

impl InputList {
    /// The input index of `output`, adding it if new; `-1` for scratch.
    pub(crate) fn add(&mut self, output: &Output) -> i64 {
        let Some(input) = output.to_pb_input() else {
            return -1;
        };
        if let Some(position) = self.inputs.iter().position(|known| *known == input) {
            return position as i64;
        }
        self.inputs.push(input);
        (self.inputs.len() - 1) as i64
    }

    /// Always adds `output` (merge ops list duplicates), returning its index.
    pub(crate) fn push(&mut self, input: pb::Input) -> i64 {
        self.inputs.push(input);
        (self.inputs.len() - 1) as i64
    }
}

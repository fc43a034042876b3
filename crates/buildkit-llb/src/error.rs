/// Everything that can go wrong while building or reading an LLB graph.
#[derive(Debug, thiserror::Error)]
pub enum LlbError {
    /// An exec op was given no arguments.
    #[error("exec op needs at least one argument")]
    EmptyArgs,
    /// An exec op was given an empty working directory.
    #[error("exec op needs a working directory")]
    EmptyCwd,
    /// A mount destination is not an absolute path.
    #[error("mount destination {0:?} must be an absolute path")]
    RelativeMountDest(String),
    /// Two mounts of one exec op share a destination.
    #[error("two mounts of one exec op target {0:?}")]
    DuplicateMountDest(String),
    /// A file op was built with no actions.
    #[error("file op needs at least one action")]
    EmptyFileOp,
    /// An entry of `Definition.def` is not a valid `pb.Op`.
    #[error("op {index} of the definition does not decode: {source}")]
    DecodeOp {
        /// Position in `Definition.def`.
        index: usize,
        /// The protobuf error.
        source: prost::DecodeError,
    },
    /// A serialized `pb.Definition` does not decode.
    #[error("definition does not decode: {0}")]
    DecodeDefinition(#[source] prost::DecodeError),
}

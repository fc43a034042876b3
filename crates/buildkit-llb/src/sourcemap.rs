use std::sync::Arc;

use buildkit_proto::pb;

/// A source file that ops can point back into (e.g. the user's spec), emitted into
/// `Definition.source.infos` so BuildKit can show the offending lines when a step fails.
///
/// Cheap to clone. Maps with equal filename, language, data and definition are emitted once.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceMap(Arc<SourceMapData>);

#[derive(Debug, PartialEq)]
struct SourceMapData {
    filename: String,
    language: String,
    data: Vec<u8>,
    definition: Option<pb::Definition>,
}

impl SourceMap {
    /// A source file: its name as shown to the user, its language (e.g. `yaml`, may be empty)
    /// and its bytes.
    pub fn new(
        filename: impl Into<String>,
        language: impl Into<String>,
        data: impl Into<Vec<u8>>,
    ) -> Self {
        Self(Arc::new(SourceMapData {
            filename: filename.into(),
            language: language.into(),
            data: data.into(),
            definition: None,
        }))
    }

    /// The same map with the LLB definition that produced the file (BuildKit's
    /// `SourceInfo.definition`, e.g. the local source the spec was read from).
    pub fn with_definition(self, definition: pb::Definition) -> Self {
        Self(Arc::new(SourceMapData {
            filename: self.0.filename.clone(),
            language: self.0.language.clone(),
            data: self.0.data.clone(),
            definition: Some(definition),
        }))
    }

    /// The file name.
    pub fn filename(&self) -> &str {
        &self.0.filename
    }

    /// A location in this file covering `ranges`, to attach to an op.
    pub fn location(&self, ranges: impl IntoIterator<Item = Range>) -> SourceLocation {
        SourceLocation {
            map: self.clone(),
            ranges: ranges.into_iter().collect(),
        }
    }

    pub(crate) fn to_info(&self) -> pb::SourceInfo {
        pb::SourceInfo {
            filename: self.0.filename.clone(),
            data: self.0.data.clone(),
            definition: self.0.definition.clone(),
            language: self.0.language.clone(),
        }
    }
}

/// A position in a source file. BuildKit counts lines from 1; `character` is the column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// Line number (1-based by BuildKit convention).
    pub line: i32,
    /// Column.
    pub character: i32,
}

/// A span of a source file, `start` to `end`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Range {
    /// First position.
    pub start: Position,
    /// Last position.
    pub end: Position,
}

impl Range {
    /// The span from `start_line:start_character` to `end_line:end_character`.
    pub fn new(start_line: i32, start_character: i32, end_line: i32, end_character: i32) -> Self {
        Self {
            start: Position {
                line: start_line,
                character: start_character,
            },
            end: Position {
                line: end_line,
                character: end_character,
            },
        }
    }

    /// Whole lines `start..=end` (characters 0), the form the Dockerfile frontend uses.
    pub fn lines(start: i32, end: i32) -> Self {
        Self::new(start, 0, end, 0)
    }

    pub(crate) fn to_pb(self) -> pb::Range {
        pb::Range {
            start: Some(pb::Position {
                line: self.start.line,
                character: self.start.character,
            }),
            end: Some(pb::Position {
                line: self.end.line,
                character: self.end.character,
            }),
        }
    }
}

/// Ranges of one [`SourceMap`] that an op came from.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceLocation {
    pub(crate) map: SourceMap,
    pub(crate) ranges: Vec<Range>,
}

//! Errors: [`ClientError`] for failed calls to BuildKit, [`BuildError`] for
//! what a frontend reports back as the build's failure.

use buildkit_proto::{google_rpc, pb};
use prost::Message as _;
use serde::Serialize;

use crate::opts::OptsError;
use crate::transport::TransportError;

/// A failed LLBBridge call or an unexpected reply.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{call} failed: {}", .status.message())]
    Rpc {
        call: &'static str,
        status: tonic::Status,
    },
    #[error("{call}: BuildKit sent no {what}")]
    MissingField {
        call: &'static str,
        what: &'static str,
    },
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl ClientError {
    pub(crate) fn rpc(call: &'static str) -> impl FnOnce(tonic::Status) -> ClientError {
        move |status| ClientError::Rpc { call, status }
    }

    /// The gRPC status of a failed call.
    pub fn status(&self) -> Option<&tonic::Status> {
        match self {
            ClientError::Rpc { status, .. } => Some(status),
            _ => None,
        }
    }

    /// Whether a file read failed because the path does not exist (BuildKit
    /// reports a wrapped ENOENT with code Unknown, so the text is checked too).
    pub fn is_not_found(&self) -> bool {
        self.status().is_some_and(|s| {
            s.code() == tonic::Code::NotFound
                || s.message().contains("no such file or directory")
                || s.message().contains("not found")
        })
    }
}

/// A range in the user's build file; lines are 1-based.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceRange {
    pub start_line: i32,
    pub start_column: i32,
    pub end_line: i32,
    pub end_column: i32,
}

impl SourceRange {
    /// The whole of one line.
    pub fn line(line: i32) -> Self {
        SourceRange {
            start_line: line,
            start_column: 0,
            end_line: line,
            end_column: 0,
        }
    }

    pub fn to_pb(self) -> pb::Range {
        pb::Range {
            start: Some(pb::Position {
                line: self.start_line,
                character: self.start_column,
            }),
            end: Some(pb::Position {
                line: self.end_line,
                character: self.end_column,
            }),
        }
    }
}

/// A build file plus the ranges an error or warning points at. buildx prints
/// the lines of `data` around the ranges under the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceLocation {
    pub filename: String,
    /// The file's contents.
    pub data: Vec<u8>,
    /// e.g. `yaml`; BuildKit uses it for highlighting hints only.
    pub language: String,
    pub ranges: Vec<SourceRange>,
}

impl SourceLocation {
    pub fn source_info(&self) -> pb::SourceInfo {
        pb::SourceInfo {
            filename: self.filename.clone(),
            data: self.data.clone(),
            definition: None,
            language: self.language.clone(),
        }
    }

    pub fn pb_ranges(&self) -> Vec<pb::Range> {
        self.ranges.iter().map(|r| r.to_pb()).collect()
    }
}

/// The failure a frontend hands back to BuildKit with `Return`; buildx shows
/// `message` (and the source snippet, if any) to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BuildError {
    pub message: String,
    pub code: tonic::Code,
    /// Boxed: errors travel in `Result`s everywhere, and the location carries the whole file.
    pub location: Option<Box<SourceLocation>>,
    /// Set for "unsupported subrequest", which buildx recognises by type.
    pub unsupported_subrequest: Option<String>,
    /// Typed details passed through from a failed BuildKit call (e.g. which
    /// step failed), so buildx can show them as for a Dockerfile build.
    pub details: Vec<prost_types::Any>,
}

/// Type URLs BuildKit registers for its typed error details; their payloads
/// are JSON, not protobuf.
const SOURCE_DETAIL_TYPE: &str = "github.com/moby/buildkit/errdefs.Source+json";
const SUBREQUEST_DETAIL_TYPE: &str = "github.com/moby/buildkit/errdefs.Subrequest+json";

impl BuildError {
    /// A plain failure (gRPC code Unknown, as BuildKit uses for build errors).
    pub fn new(message: impl Into<String>) -> Self {
        BuildError {
            message: message.into(),
            code: tonic::Code::Unknown,
            location: None,
            unsupported_subrequest: None,
            details: Vec::new(),
        }
    }

    /// Points the error at ranges of the build file.
    pub fn with_location(mut self, location: SourceLocation) -> Self {
        self.location = Some(Box::new(location));
        self
    }

    pub fn with_code(mut self, code: tonic::Code) -> Self {
        self.code = code;
        self
    }

    /// The error for a `requestid` this frontend does not implement.
    pub fn unsupported_subrequest(name: &str) -> Self {
        BuildError {
            message: format!("unsupported request {name}"),
            code: tonic::Code::Unknown,
            location: None,
            unsupported_subrequest: Some(name.to_string()),
            details: Vec::new(),
        }
    }

    /// The `google.rpc.Status` for `ReturnRequest.error`, with BuildKit's
    /// typed details (JSON payloads under its registered type URLs).
    pub fn to_status(&self) -> google_rpc::Status {
        let mut details = self.details.clone();
        if let Some(name) = &self.unsupported_subrequest
            && let Ok(value) = serde_json::to_vec(&SubrequestDetail { name })
        {
            details.push(prost_types::Any {
                type_url: SUBREQUEST_DETAIL_TYPE.to_string(),
                value,
            });
        }
        if let Some(location) = &self.location
            && let Ok(value) = serde_json::to_vec(&SourceDetail::from(location.as_ref()))
        {
            details.push(prost_types::Any {
                type_url: SOURCE_DETAIL_TYPE.to_string(),
                value,
            });
        }
        let code = match self.code {
            // OK would make BuildKit drop the details and the failure.
            tonic::Code::Ok => tonic::Code::Unknown,
            code => code,
        };
        google_rpc::Status {
            code: code as i32,
            message: self.message.clone(),
            details,
        }
    }
}

impl From<ClientError> for BuildError {
    /// Keeps BuildKit's own message and typed details for build failures
    /// (`Solve`, `Evaluate`), as the Dockerfile frontend passes them on;
    /// other failed calls get the call name as context.
    fn from(err: ClientError) -> Self {
        let ClientError::Rpc { call, status } = &err else {
            return BuildError::new(err.to_string());
        };
        let message = if matches!(*call, "Solve" | "Evaluate") {
            status.message().to_string()
        } else {
            err.to_string()
        };
        let details = google_rpc::Status::decode(status.details())
            .map(|s| s.details)
            .unwrap_or_default();
        BuildError {
            details,
            ..BuildError::new(message).with_code(status.code())
        }
    }
}

impl From<OptsError> for BuildError {
    fn from(err: OptsError) -> Self {
        BuildError::new(err.to_string()).with_code(tonic::Code::InvalidArgument)
    }
}

// JSON shapes of BuildKit's errdefs.Subrequest and errdefs.Source as Go's
// encoding/json writes them (zero values omitted, bytes as base64).

#[derive(Serialize)]
struct SubrequestDetail<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct SourceDetail {
    info: SourceInfoJson,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ranges: Vec<RangeJson>,
}

#[derive(Serialize)]
struct SourceInfoJson {
    #[serde(skip_serializing_if = "String::is_empty")]
    filename: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    data: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    language: String,
}

#[derive(Serialize)]
struct RangeJson {
    start: PositionJson,
    end: PositionJson,
}

#[derive(Serialize)]
struct PositionJson {
    #[serde(skip_serializing_if = "is_zero")]
    line: i32,
    #[serde(skip_serializing_if = "is_zero")]
    character: i32,
}

fn is_zero(v: &i32) -> bool {
    *v == 0
}

impl From<&SourceLocation> for SourceDetail {
    fn from(location: &SourceLocation) -> Self {
        use base64::Engine as _;
        SourceDetail {
            info: SourceInfoJson {
                filename: location.filename.clone(),
                data: base64::engine::general_purpose::STANDARD.encode(&location.data),
                language: location.language.clone(),
            },
            ranges: location
                .ranges
                .iter()
                .map(|r| RangeJson {
                    start: PositionJson {
                        line: r.start_line,
                        character: r.start_column,
                    },
                    end: PositionJson {
                        line: r.end_line,
                        character: r.end_column,
                    },
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_error_status() {
        let status = BuildError::new("service \"api\" not found").to_status();
        assert_eq!(status.code, 2);
        assert_eq!(status.message, "service \"api\" not found");
        assert!(status.details.is_empty());
        assert_eq!(
            BuildError::new("x")
                .with_code(tonic::Code::Ok)
                .to_status()
                .code,
            2
        );
    }

    #[test]
    fn source_detail_matches_buildkit_json() {
        let err = BuildError::new("bad key").with_location(SourceLocation {
            filename: "layercake.yaml".into(),
            data: b"a: 1\n".to_vec(),
            language: "yaml".into(),
            ranges: vec![SourceRange {
                start_line: 3,
                start_column: 0,
                end_line: 3,
                end_column: 7,
            }],
        });
        let status = err.to_status();
        assert_eq!(status.details.len(), 1);
        assert_eq!(status.details[0].type_url, SOURCE_DETAIL_TYPE);
        let json: serde_json::Value = serde_json::from_slice(&status.details[0].value).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "info": {"filename": "layercake.yaml", "data": "YTogMQo=", "language": "yaml"},
                "ranges": [{"start": {"line": 3}, "end": {"line": 3, "character": 7}}]
            })
        );
    }

    #[test]
    fn client_errors_keep_buildkit_details() {
        let detail = prost_types::Any {
            type_url: "github.com/moby/buildkit/errdefs.Vertex+json".into(),
            value: br#"{"digest":"sha256:abc"}"#.to_vec(),
        };
        let encoded = google_rpc::Status {
            code: 2,
            message: "exit code: 1".into(),
            details: vec![detail.clone()],
        }
        .encode_to_vec();
        let status =
            tonic::Status::with_details(tonic::Code::Unknown, "exit code: 1", encoded.into());
        let err = BuildError::from(ClientError::Rpc {
            call: "Solve",
            status,
        });
        assert_eq!(err.message, "exit code: 1");
        assert_eq!(err.to_status().details, vec![detail]);

        let err = BuildError::from(ClientError::Rpc {
            call: "ReadFile",
            status: tonic::Status::not_found("gone"),
        });
        assert_eq!(err.message, "ReadFile failed: gone");
        assert_eq!(err.to_status().code, tonic::Code::NotFound as i32);
        assert!(err.details.is_empty());
    }

    #[test]
    fn unsupported_subrequest_detail() {
        let status = BuildError::unsupported_subrequest("frontend.lint").to_status();
        assert_eq!(status.message, "unsupported request frontend.lint");
        assert_eq!(status.details[0].type_url, SUBREQUEST_DETAIL_TYPE);
        assert_eq!(status.details[0].value, br#"{"name":"frontend.lint"}"#);
    }
}

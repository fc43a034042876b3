//! Subrequests (`requestid`, sent by `docker buildx build --call …`): typed
//! answers whose JSON matches BuildKit's `frontend/subrequests` types.
//!
//! An answer is metadata only: `result.json` (pretty JSON; buildx re-renders
//! known versions from it), `result.txt` (the text buildx prints for
//! versions it does not know) and `version`; lint adds
//! `result.statuscode`. An unknown request id should be answered with
//! [`crate::BuildError::unsupported_subrequest`].

use serde::Serialize;

use crate::error::SourceRange;
use crate::result::FrontendResult;

/// `--call subrequests.describe`.
pub const DESCRIBE: &str = "frontend.subrequests.describe";
/// `--call targets`.
pub const TARGETS: &str = "frontend.targets";
/// `--call outline`.
pub const OUTLINE: &str = "frontend.outline";
/// `--call check`.
pub const LINT: &str = "frontend.lint";

/// Version of the describe, targets and outline payloads.
pub const VERSION: &str = "1.0.0";

/// A metadata-only result from its three parts.
pub fn subrequest_result(json: Vec<u8>, text: Vec<u8>, version: &str) -> FrontendResult {
    let mut out = FrontendResult::metadata_only();
    out.add_metadata("result.json", json)
        .add_metadata("result.txt", text)
        .add_metadata("version", version.as_bytes().to_vec());
    out
}

fn pretty_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Our types hold only strings, numbers and lists: serialising cannot fail.
    serde_json::to_vec_pretty(value).unwrap_or_default()
}

/// A name with a description, as in describe payloads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Named {
    pub name: String,
    pub description: String,
}

/// One entry of the `frontend.subrequests.describe` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestDescription {
    pub name: String,
    pub version: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub description: String,
    pub opts: Vec<Named>,
    pub inputs: Vec<Named>,
    pub metadata: Vec<Named>,
    pub refs: Vec<Named>,
}

impl RequestDescription {
    fn rpc(name: &str, description: &str, opts: Vec<Named>) -> Self {
        RequestDescription {
            name: name.into(),
            version: VERSION.into(),
            kind: "rpc".into(),
            description: description.into(),
            opts,
            inputs: Vec::new(),
            metadata: ["result.json", "result.txt"]
                .map(|n| Named {
                    name: n.into(),
                    description: String::new(),
                })
                .to_vec(),
            refs: Vec::new(),
        }
    }

    /// BuildKit's description of `frontend.outline`.
    pub fn outline() -> Self {
        RequestDescription::rpc(
            OUTLINE,
            "List all parameters current build target supports",
            vec![Named {
                name: "target".into(),
                description: "Target build stage".into(),
            }],
        )
    }

    /// BuildKit's description of `frontend.targets`.
    pub fn targets() -> Self {
        RequestDescription::rpc(
            TARGETS,
            "List all targets current build supports",
            Vec::new(),
        )
    }

    /// BuildKit's description of `frontend.lint` (adjust the description).
    pub fn lint() -> Self {
        let mut lint = RequestDescription::rpc(LINT, "Lint a Dockerfile", Vec::new());
        lint.metadata.push(Named {
            name: "result.statuscode".into(),
            description: String::new(),
        });
        lint
    }

    /// BuildKit's description of `frontend.subrequests.describe`.
    pub fn describe() -> Self {
        RequestDescription::rpc(DESCRIBE, "List available subrequest types", Vec::new())
    }
}

/// The `frontend.subrequests.describe` answer for these requests.
pub fn describe_result(requests: &[RequestDescription]) -> FrontendResult {
    let rows: Vec<Vec<String>> = requests
        .iter()
        .map(|r| {
            vec![
                r.name
                    .strip_prefix("frontend.")
                    .unwrap_or(&r.name)
                    .to_string(),
                r.version.clone(),
                r.description.clone(),
            ]
        })
        .collect();
    let text = table(&["NAME", "VERSION", "DESCRIPTION"], &rows, 1);
    subrequest_result(pretty_json(&requests), text.into_bytes(), VERSION)
}

/// A location in source `source_index` of a targets/outline answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    #[serde(rename = "sourceIndex", skip_serializing_if = "is_zero")]
    pub source_index: i32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<RangeJson>,
}

impl Location {
    pub fn new(source_index: i32, ranges: &[SourceRange]) -> Self {
        Location {
            source_index,
            ranges: ranges.iter().map(|r| RangeJson::from(*r)).collect(),
        }
    }
}

/// A range in Go's JSON form of `pb.Range`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RangeJson {
    pub start: PositionJson,
    pub end: PositionJson,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PositionJson {
    #[serde(skip_serializing_if = "is_zero")]
    pub line: i32,
    #[serde(skip_serializing_if = "is_zero")]
    pub character: i32,
}

impl From<SourceRange> for RangeJson {
    fn from(r: SourceRange) -> Self {
        RangeJson {
            start: PositionJson {
                line: r.start_line,
                character: r.start_column,
            },
            end: PositionJson {
                line: r.end_line,
                character: r.end_column,
            },
        }
    }
}

fn is_zero(v: &i32) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

/// Raw source files referenced by `Location::source_index`, base64 in JSON
/// (Go `[][]byte`).
fn serialize_sources<S: serde::Serializer>(sources: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
    use base64::Engine as _;
    use serde::ser::SerializeSeq as _;
    let mut seq = s.serialize_seq(Some(sources.len()))?;
    for source in sources {
        seq.serialize_element(&base64::engine::general_purpose::STANDARD.encode(source))?;
    }
    seq.end()
}

/// One `frontend.targets` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Target {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "is_false")]
    pub default: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub base: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub platform: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// The `frontend.targets` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TargetList {
    pub targets: Vec<Target>,
    /// Go marshals a nil slice as `null`; we always send a list.
    #[serde(serialize_with = "serialize_sources")]
    pub sources: Vec<Vec<u8>>,
}

impl TargetList {
    pub fn to_result(&self) -> FrontendResult {
        let rows: Vec<Vec<String>> = self
            .targets
            .iter()
            .map(|t| {
                let name = match (t.name.is_empty(), t.default) {
                    (true, true) => "(default)".to_string(),
                    (false, true) => format!("{} (default)", t.name),
                    _ => t.name.clone(),
                };
                vec![name, t.description.clone()]
            })
            .collect();
        let text = table(&["TARGET", "DESCRIPTION"], &rows, 1);
        subrequest_result(pretty_json(self), text.into_bytes(), VERSION)
    }
}

/// A build argument in an outline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutlineArg {
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// A secret or SSH socket in an outline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutlineRequirement {
    pub name: String,
    #[serde(skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// A cache mount in an outline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutlineCache {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// The `frontend.outline` answer for one target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outline {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<OutlineArg>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<OutlineRequirement>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssh: Vec<OutlineRequirement>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cache: Vec<OutlineCache>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "serialize_sources"
    )]
    pub sources: Vec<Vec<u8>>,
}

impl Outline {
    pub fn to_result(&self) -> FrontendResult {
        let mut text = String::new();
        if !self.name.is_empty() || !self.description.is_empty() {
            let name = if self.name.is_empty() {
                "(default)"
            } else {
                &self.name
            };
            let mut rows = vec![vec!["TARGET:".to_string(), name.to_string()]];
            if !self.description.is_empty() {
                rows.push(vec!["DESCRIPTION:".to_string(), self.description.clone()]);
            }
            text.push_str(&table_rows(&rows, 1));
            text.push('\n');
        }
        if !self.args.is_empty() {
            let rows: Vec<Vec<String>> = self
                .args
                .iter()
                .map(|a| vec![a.name.clone(), a.value.clone(), a.description.clone()])
                .collect();
            text.push_str(&table(&["BUILD ARG", "VALUE", "DESCRIPTION"], &rows, 3));
            text.push('\n');
        }
        for (title, list) in [("SECRET", &self.secrets), ("SSH", &self.ssh)] {
            if !list.is_empty() {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|s| {
                        vec![
                            s.name.clone(),
                            if s.required {
                                "true".into()
                            } else {
                                String::new()
                            },
                        ]
                    })
                    .collect();
                text.push_str(&table(&[title, "REQUIRED"], &rows, 3));
                text.push('\n');
            }
        }
        subrequest_result(pretty_json(self), text.into_bytes(), VERSION)
    }
}

/// Version of the lint payload.
pub const LINT_VERSION: &str = "1.0.0";

/// A source file of a lint answer (Go's JSON of `pb.SourceInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LintSource {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub filename: String,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "serialize_base64"
    )]
    pub data: Vec<u8>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub language: String,
}

fn serialize_base64<S: serde::Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
    use base64::Engine as _;
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(data))
}

/// One lint finding. `location.source_index` indexes
/// [`LintResults::sources`]; use -1 for a finding without a place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LintWarning {
    #[serde(rename = "ruleName")]
    pub rule_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// Always sent: buildx's printer dereferences it.
    pub location: Location,
}

/// A build file that failed to parse, in a lint answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LintBuildError {
    pub message: String,
    pub location: Location,
}

/// The `frontend.lint` answer (`--call check`). buildx exits with
/// `result.statuscode` (1 when there are warnings or an error).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LintResults {
    pub warnings: Vec<LintWarning>,
    pub sources: Vec<LintSource>,
    #[serde(rename = "buildError", skip_serializing_if = "Option::is_none")]
    pub build_error: Option<LintBuildError>,
}

impl LintResults {
    pub fn to_result(&self) -> FrontendResult {
        let mut warnings: Vec<&LintWarning> = self.warnings.iter().collect();
        // BuildKit's order: placeless first (by rule), then by file and line.
        warnings.sort_by(|a, b| {
            let key = |w: &LintWarning| {
                let placed = w.location.source_index >= 0;
                let file = usize::try_from(w.location.source_index)
                    .ok()
                    .and_then(|i| self.sources.get(i))
                    .map(|s| s.filename.clone())
                    .unwrap_or_default();
                let line = w.location.ranges.first().map(|r| r.start.line);
                (placed, file, line.is_some(), line, w.rule_name.clone())
            };
            key(a).cmp(&key(b))
        });
        let mut text = String::new();
        for w in warnings {
            text.push_str(&format!("\nWARNING: {}", w.rule_name));
            if !w.url.is_empty() {
                text.push_str(&format!(" - {}", w.url));
            }
            text.push_str(&format!("\n{}\n", w.detail));
            if let Some(source) = usize::try_from(w.location.source_index)
                .ok()
                .and_then(|i| self.sources.get(i))
            {
                text.push_str(&source_snippet(source, &w.location.ranges));
            }
        }
        let status = if self.warnings.is_empty() && self.build_error.is_none() {
            "0"
        } else {
            "1"
        };
        let mut out = subrequest_result(pretty_json(self), text.into_bytes(), LINT_VERSION);
        out.add_metadata("result.statuscode", status.as_bytes().to_vec());
        out
    }
}

/// The lines around `ranges`, marked `>>>`, as BuildKit prints a source.
fn source_snippet(source: &LintSource, ranges: &[RangeJson]) -> String {
    let text = String::from_utf8_lossy(&source.data);
    let lines: Vec<&str> = text.split('\n').collect();
    let Some(first) = ranges.iter().map(|r| r.start.line).min() else {
        return String::new();
    };
    let last = ranges
        .iter()
        .map(|r| r.start.line.max(r.end.line))
        .max()
        .unwrap_or(first);
    let count = i32::try_from(lines.len()).unwrap_or(i32::MAX);
    if first < 1 || first > count {
        return String::new();
    }
    let (mut start, mut end) = (first, last.min(count));
    let pad = if start == end { 4 } else { 2 };
    let mut p = 0;
    while p < pad {
        if start > 1 {
            start -= 1;
            p += 1;
        }
        if end != count {
            end += 1;
            p += 1;
        }
        p += 1;
    }
    let mut out = format!("{}:{first}\n--------------------\n", source.filename);
    for i in start..=end {
        let marked = ranges
            .iter()
            .any(|r| r.start.line <= i && r.start.line.max(r.end.line) >= i);
        let prefix = if marked { ">>>" } else { "   " };
        let line = usize::try_from(i - 1)
            .ok()
            .and_then(|i| lines.get(i))
            .unwrap_or(&"");
        out.push_str(&format!(" {i:>3} | {prefix} {line}\n"));
    }
    out.push_str("--------------------\n");
    out
}

/// A table as Go's `tabwriter` (padding `padding`, space-padded) lays it out:
/// every cell but the last in a row is padded to its column's width.
fn table(header: &[&str], rows: &[Vec<String>], padding: usize) -> String {
    let mut all = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    all.extend(rows.iter().cloned());
    table_rows(&all, padding)
}

fn table_rows(rows: &[Vec<String>], padding: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows {
        // The last cell is not tab-terminated, so it sets no width.
        for (i, cell) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i] + padding - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(result: &FrontendResult, key: &str) -> String {
        String::from_utf8(result.metadata()[key].clone()).unwrap()
    }

    #[test]
    fn targets_answer() {
        let list = TargetList {
            targets: vec![
                Target {
                    name: "api".into(),
                    default: true,
                    description: "FastAPI backend".into(),
                    location: Some(Location::new(0, &[SourceRange::line(4)])),
                    ..Target::default()
                },
                Target {
                    name: "web".into(),
                    description: "SPA".into(),
                    ..Target::default()
                },
            ],
            sources: vec![b"x".to_vec()],
        };
        let result = list.to_result();
        assert_eq!(meta(&result, "version"), "1.0.0");
        assert_eq!(
            meta(&result, "result.txt"),
            "TARGET        DESCRIPTION\napi (default) FastAPI backend\nweb           SPA\n"
        );
        let json: serde_json::Value = serde_json::from_str(&meta(&result, "result.json")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "targets": [
                    {"name": "api", "default": true, "description": "FastAPI backend",
                     "location": {"ranges": [{"start": {"line": 4}, "end": {"line": 4}}]}},
                    {"name": "web", "description": "SPA"}
                ],
                "sources": ["eA=="]
            })
        );
        assert!(meta(&result, "result.json").contains("\n  \"targets\""));
        assert!(result.as_proto().result.is_none());
    }

    #[test]
    fn outline_answer() {
        let outline = Outline {
            name: "api".into(),
            description: "backend".into(),
            args: vec![OutlineArg {
                name: "PYTHON".into(),
                value: "3.12".into(),
                description: "interpreter".into(),
                location: None,
            }],
            secrets: vec![OutlineRequirement {
                name: "pipconf".into(),
                required: false,
                location: None,
            }],
            cache: vec![OutlineCache {
                id: "pip".into(),
                location: None,
            }],
            ..Outline::default()
        };
        let result = outline.to_result();
        assert_eq!(
            meta(&result, "result.txt"),
            "TARGET:      api\nDESCRIPTION: backend\n\n\
             BUILD ARG   VALUE   DESCRIPTION\nPYTHON      3.12    interpreter\n\n\
             SECRET    REQUIRED\npipconf   \n\n"
        );
        let json: serde_json::Value = serde_json::from_str(&meta(&result, "result.json")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "name": "api", "description": "backend",
                "args": [{"name": "PYTHON", "description": "interpreter", "value": "3.12"}],
                "secrets": [{"name": "pipconf"}],
                "cache": [{"ID": "pip"}]
            })
        );
    }

    #[test]
    fn describe_answer() {
        let result = describe_result(&[
            RequestDescription::outline(),
            RequestDescription::targets(),
            RequestDescription::describe(),
        ]);
        assert_eq!(
            meta(&result, "result.txt"),
            "NAME                 VERSION DESCRIPTION\n\
             outline              1.0.0   List all parameters current build target supports\n\
             targets              1.0.0   List all targets current build supports\n\
             subrequests.describe 1.0.0   List available subrequest types\n"
        );
        let json: serde_json::Value = serde_json::from_str(&meta(&result, "result.json")).unwrap();
        assert_eq!(json[0]["name"], "frontend.outline");
        assert_eq!(json[0]["type"], "rpc");
        assert_eq!(json[0]["opts"][0]["name"], "target");
        assert_eq!(json[2]["metadata"][1]["name"], "result.txt");
        assert_eq!(json[2]["inputs"], serde_json::json!([]));
    }

    #[test]
    fn lint_answer() {
        let results = LintResults {
            warnings: vec![
                LintWarning {
                    rule_name: "UnpinnedImage".into(),
                    description: "Base images should be pinned".into(),
                    url: "https://example.invalid/rules/unpinned".into(),
                    detail: "python:3.12 has no digest".into(),
                    location: Location::new(0, &[SourceRange::line(3)]),
                },
                LintWarning {
                    rule_name: "NoLockfile".into(),
                    detail: "web has no package-lock.json".into(),
                    location: Location {
                        source_index: -1,
                        ranges: Vec::new(),
                    },
                    ..LintWarning::default()
                },
            ],
            sources: vec![LintSource {
                filename: "layercake.yaml".into(),
                data: b"a\nb\nc\nd\ne\nf\ng\n".to_vec(),
                language: "yaml".into(),
            }],
            build_error: None,
        };
        let result = results.to_result();
        assert_eq!(meta(&result, "result.statuscode"), "1");
        assert_eq!(
            meta(&result, "result.txt"),
            "\nWARNING: NoLockfile\nweb has no package-lock.json\n\
             \nWARNING: UnpinnedImage - https://example.invalid/rules/unpinned\npython:3.12 has no digest\n\
             layercake.yaml:3\n--------------------\n   \
             1 |     a\n   2 |     b\n   3 | >>> c\n   4 |     d\n   5 |     e\n\
             --------------------\n"
        );
        let json: serde_json::Value = serde_json::from_str(&meta(&result, "result.json")).unwrap();
        assert_eq!(json["warnings"][0]["ruleName"], "UnpinnedImage");
        assert_eq!(
            json["warnings"][0]["location"]["ranges"][0]["start"]["line"],
            3
        );
        assert_eq!(json["warnings"][1]["location"]["sourceIndex"], -1);
        assert_eq!(json["sources"][0]["filename"], "layercake.yaml");
        assert_eq!(json["sources"][0]["data"], "YQpiCmMKZAplCmYKZwo=");
        assert!(json.get("buildError").is_none());

        assert_eq!(
            meta(&LintResults::default().to_result(), "result.statuscode"),
            "0"
        );
    }
}

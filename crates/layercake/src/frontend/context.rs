//! Reading from the client: the spec file, `.dockerignore`, and the context files the plan
//! depends on (requirement files, npm manifests).

use std::collections::BTreeMap;
use std::sync::Mutex;

use buildkit_frontend::{BuildError, Client, SourceLocation, SourceRange};
use buildkit_llb::{Definition, Local, pb};
use layercake_plan::{IgnoreRules, literal_pattern};
use prost::Message as _;

/// The spec as read from the client.
pub struct SpecFile {
    /// The file name (`filename` option, the basename of `-f`).
    pub name: String,
    /// The bytes as read: what the parser checks (size, encoding).
    pub bytes: Vec<u8>,
    /// For messages and source snippets (invalid UTF-8 shown as U+FFFD).
    pub text: String,
    /// `<filename>.dockerignore` next to the spec, when present: it wins over the context's.
    pub dockerignore: Option<String>,
}

/// Where BuildKit mounts the frontend image's own definition for the frontend process.
const FRONTEND_DEFINITION: &str = "/run/config/buildkit/metadata/frontend.bin";
const DEFAULT_SPEC_NAME: &str = "layercake.yaml";
const DOCKERIGNORE: &str = ".dockerignore";

/// Reads files through the gateway; remembers what it read.
pub struct ContextReader<'c> {
    client: &'c Client,
    /// Context-relative path → contents (`None`: does not exist).
    cache: Mutex<BTreeMap<String, Option<String>>>,
    /// `<spec>.dockerignore`, once the spec is read (`Some(None)`: there is none).
    spec_dockerignore: Mutex<Option<Option<String>>>,
}

fn not_found_or(error: buildkit_frontend::ClientError, what: &str) -> Result<(), BuildError> {
    if error.is_not_found() {
        Ok(())
    } else {
        Err(BuildError::new(format!("cannot read {what}: {error}")))
    }
}

impl<'c> ContextReader<'c> {
    pub fn new(client: &'c Client) -> Self {
        ContextReader {
            client,
            cache: Mutex::new(BTreeMap::new()),
            spec_dockerignore: Mutex::new(None),
        }
    }

    /// A local source of exactly these files: their paths are literal, not patterns.
    fn local(&self, name: &str, paths: &[String], label: String) -> Local {
        let patterns: Vec<String> = paths.iter().map(|p| literal_pattern(p)).collect();
        let mut local = Local::new(name)
            .include_patterns(patterns.iter().cloned())
            .follow_paths(patterns)
            .shared_key_hint(name)
            .custom_name(label);
        let session = &self.client.env().session_id;
        if !session.is_empty() {
            local = local.session_id(session);
        }
        local
    }

    async fn solve_local(&self, local: Local) -> Result<String, BuildError> {
        let definition = Definition::new(&local.build());
        let solved = self
            .client
            .solve(definition.into_pb(), &[], false)
            .await
            .map_err(|e| BuildError::new(format!("cannot load files from the client: {e}")))?;
        Ok(solved.id)
    }

    /// The spec (and a `<spec>.dockerignore` beside it).
    pub async fn read_spec(&self) -> Result<SpecFile, BuildError> {
        let opts = self.client.opts();
        let name = opts.filename().unwrap_or(DEFAULT_SPEC_NAME).to_owned();
        let ignore_name = format!("{name}.dockerignore");
        let key = opts.dockerfile_key();
        let reference = match self.input(key).await? {
            Some(definition) => {
                self.client
                    .solve(definition, &[], false)
                    .await
                    .map_err(|e| BuildError::new(format!("cannot load the spec input: {e}")))?
                    .id
            }
            None => {
                let label = format!("[internal] load spec {name}");
                self.solve_local(self.local(key, &[name.clone(), ignore_name.clone()], label))
                    .await?
            }
        };
        let bytes = self
            .client
            .read_file(&reference, &name, None)
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    BuildError::new(format!(
                        "the spec `{name}` was not found; pass it with -f (e.g. -f layercake.yaml)"
                    ))
                } else {
                    BuildError::new(format!("cannot read the spec `{name}`: {e}"))
                }
            })?;
        let dockerignore = match self.client.read_file(&reference, &ignore_name, None).await {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(error) => {
                not_found_or(error, &ignore_name)?;
                None
            }
        };
        *self
            .spec_dockerignore
            .lock()
            .map_err(|_| BuildError::new("context cache poisoned"))? = Some(dockerignore.clone());
        Ok(SpecFile {
            name,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
            dockerignore,
        })
    }

    /// A definition the client sent as a frontend input (`Inputs`), if the engine supports it.
    async fn input(&self, key: &str) -> Result<Option<pb::Definition>, BuildError> {
        if !self
            .client
            .has_gateway_cap(buildkit_frontend::caps::FRONTEND_INPUTS)
        {
            return Ok(None);
        }
        let mut inputs = self
            .client
            .inputs()
            .await
            .map_err(|e| BuildError::new(format!("cannot list frontend inputs: {e}")))?;
        Ok(inputs.remove(key))
    }

    /// Reads context files (and `.dockerignore`) in one transfer; missing files are `None`.
    /// Reads `paths` from the context; one of `optional` that `.dockerignore` leaves out is
    /// not there, any other is an error naming the rule.
    pub async fn read_context_files(
        &self,
        paths: &[String],
        optional: &std::collections::BTreeSet<String>,
    ) -> Result<BTreeMap<String, String>, BuildError> {
        let mut wanted: Vec<String> = {
            let cache = self
                .cache
                .lock()
                .map_err(|_| BuildError::new("context cache poisoned"))?;
            paths
                .iter()
                .chain(std::iter::once(&DOCKERIGNORE.to_owned()))
                .filter(|p| !cache.contains_key(*p))
                .cloned()
                .collect()
        };
        wanted.sort();
        wanted.dedup();
        if !wanted.is_empty() {
            let key = self.client.opts().context_key();
            let label = format!(
                "[internal] load {} from the build context",
                wanted.join(", ")
            );
            let reference = self.solve_local(self.local(key, &wanted, label)).await?;
            // One byte past the limit: enough to tell a file is too large, never more.
            let limit = crate::load::MAX_CONTEXT_FILE_BYTES;
            let range = Some((
                0,
                i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1),
            ));
            for path in wanted {
                let contents = match self.client.read_file(&reference, &path, range).await {
                    Ok(bytes) if bytes.len() > limit => {
                        return Err(BuildError::new(format!(
                            "`{}` is larger than {limit} bytes, the limit for a file layercake \
                             reads from the context",
                            layercake_spec::shown(&path)
                        )));
                    }
                    Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
                    Err(error) => {
                        not_found_or(error, &path)?;
                        None
                    }
                };
                self.cache
                    .lock()
                    .map_err(|_| BuildError::new("context cache poisoned"))?
                    .insert(path, contents);
            }
        }
        // What `.dockerignore` leaves out is not in the context, for the plan's reads as for
        // every transfer: a file it excludes is an error naming both, never read.
        let mut ignored = std::collections::BTreeSet::new();
        if let Some((name, rules)) = self.rules()? {
            // (`.dockerignore` itself is read whatever it says, as Docker reads it.)
            for path in paths.iter().filter(|p| *p != DOCKERIGNORE) {
                if let Some(rule) = rules.excluded_by(path) {
                    if optional.contains(path) {
                        ignored.insert(path.clone());
                        continue;
                    }
                    return Err(excluded_error(path, &name, &rule.as_exclude(), rule.line));
                }
            }
        }
        let cache = self
            .cache
            .lock()
            .map_err(|_| BuildError::new("context cache poisoned"))?;
        Ok(paths
            .iter()
            .filter(|p| !ignored.contains(*p))
            .filter_map(|p| Some((p.clone(), cache.get(p)?.clone()?)))
            .collect())
    }

    /// The ignore rules in force, once known: `<spec>.dockerignore`, else the context's
    /// `.dockerignore` (after a read brought it along). With the file's name.
    fn rules(&self) -> Result<Option<(String, IgnoreRules)>, BuildError> {
        let spec = self
            .spec_dockerignore
            .lock()
            .map_err(|_| BuildError::new("context cache poisoned"))?
            .clone();
        let (name, text) = match spec {
            Some(Some(text)) => (self.spec_ignore_name(), text),
            _ => {
                let cache = self
                    .cache
                    .lock()
                    .map_err(|_| BuildError::new("context cache poisoned"))?;
                match cache.get(DOCKERIGNORE) {
                    Some(Some(text)) => (DOCKERIGNORE.to_owned(), text.clone()),
                    _ => return Ok(None),
                }
            }
        };
        parse_ignore(&name, &text).map(|rules| Some((name, rules)))
    }

    fn spec_ignore_name(&self) -> String {
        format!(
            "{}.dockerignore",
            self.client.opts().filename().unwrap_or(DEFAULT_SPEC_NAME)
        )
    }

    /// Exclude patterns for the context, in the order written (the order is their meaning):
    /// `<spec>.dockerignore`, else the context's `.dockerignore`.
    pub async fn dockerignore(&self, spec: &SpecFile) -> Result<Vec<String>, BuildError> {
        let (name, text) = match &spec.dockerignore {
            Some(text) => (self.spec_ignore_name(), Some(text.clone())),
            None => {
                let key = DOCKERIGNORE.to_owned();
                let text = self
                    .read_context_files(std::slice::from_ref(&key), &Default::default())
                    .await?
                    .remove(&key);
                (key, text)
            }
        };
        match text {
            Some(text) => Ok(parse_ignore(&name, &text)?.excludes()),
            None => Ok(Vec::new()),
        }
    }
}

/// A `.dockerignore` as rules; a bad pattern is an error at its line.
fn parse_ignore(name: &str, text: &str) -> Result<IgnoreRules, BuildError> {
    IgnoreRules::parse(name, text).map_err(|error| {
        let line = i32::try_from(error.line).unwrap_or(i32::MAX);
        BuildError::new(layercake_spec::shown(&error.to_string()).into_owned()).with_location(
            SourceLocation {
                filename: name.to_owned(),
                data: text.as_bytes().to_vec(),
                language: String::new(),
                ranges: vec![SourceRange::line(line)],
            },
        )
    })
}

/// A file the plan needs that the ignore rules leave out of the context.
pub(crate) fn excluded_error(path: &str, file: &str, pattern: &str, line: u32) -> BuildError {
    BuildError::new(
        layercake_spec::shown(&format!(
            "`{path}` is excluded from the build context by `{pattern}` ({file}:{line}), and \
             the build needs it; remove that line, or add `!{path}` after it"
        ))
        .into_owned(),
    )
}

/// The frontend's own image reference, for copying the health probe into images: from the
/// definition BuildKit mounts for the frontend (pinned by digest), else the `source` option the
/// Dockerfile frontend sets when it forwards a `# syntax=` build, else `BUILDKIT_SYNTAX`.
pub fn frontend_image(
    source: Option<&str>,
    build_args: &BTreeMap<String, String>,
) -> Option<String> {
    std::fs::read(FRONTEND_DEFINITION)
        .ok()
        .and_then(|bytes| image_of_definition(&bytes))
        .or_else(|| source.filter(|s| !s.is_empty()).map(str::to_owned))
        .or_else(|| build_args.get("BUILDKIT_SYNTAX").cloned())
}

/// The image a marshalled definition loads (its `docker-image://` source), with its digest.
pub fn image_of_definition(bytes: &[u8]) -> Option<String> {
    let definition = pb::Definition::decode(bytes).ok()?;
    definition.def.iter().find_map(|op| {
        let op = pb::Op::decode(op.as_slice()).ok()?;
        match op.op? {
            pb::op::Op::Source(source) => source
                .identifier
                .strip_prefix("docker-image://")
                .map(str::to_owned),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use buildkit_llb::Image;

    #[test]
    fn dockerignore_lines_become_patterns_in_their_order() {
        let text =
            "# comment\n\n  node_modules  \n/dist\n!dist/keep.txt\n**/__pycache__\n*\n!app.py\n";
        assert_eq!(
            parse_ignore(".dockerignore", text).unwrap().excludes(),
            vec![
                "node_modules",
                "dist",
                "!dist/keep.txt",
                "**/__pycache__",
                "*",
                "!app.py"
            ]
        );
        let error = parse_ignore(".dockerignore", "ok\n[bad\n").unwrap_err();
        assert!(
            error.message.starts_with(".dockerignore:2:1: "),
            "{}",
            error.message
        );
    }

    #[test]
    fn frontend_image_comes_from_its_definition() {
        let image = Image::new("127.0.0.1:5000/layercake:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef").build();
        let bytes = Definition::new(&image).encode_to_vec();
        assert_eq!(
            image_of_definition(&bytes).as_deref(),
            Some(
                "127.0.0.1:5000/layercake:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            )
        );
        assert_eq!(image_of_definition(b"not a definition"), None);
    }
}

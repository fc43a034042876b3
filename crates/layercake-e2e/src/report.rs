//! What a `docker buildx build --progress=rawjson` said, step by step.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use serde_json::Value;

use crate::HarnessError;

/// One build step (all the vertexes that carried its name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    name: String,
    digests: Vec<String>,
    cached: bool,
    started: bool,
    completed: bool,
    error: Option<String>,
    log: Vec<u8>,
}

impl Step {
    /// The step's full name, e.g. `[api wheels 1/1] pip wheel -r requirements.txt`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The digests of the vertexes carrying this name (several in a multi-platform build).
    pub fn digests(&self) -> &[String] {
        &self.digests
    }

    /// The name carries a step counter (`[api wheels 1/4] …`, `[api runtime 2/3] …`), as
    /// the steps of a stage do; a stage-level vertex such as `[api wheels] merge 4 results`
    /// (joining outputs, running no process) does not.
    pub fn is_numbered(&self) -> bool {
        let Some((head, _)) = self.name.split_once(']') else {
            return false;
        };
        let Some((_, counter)) = head.rsplit_once(' ') else {
            return false;
        };
        counter.split_once('/').is_some_and(|(n, m)| {
            [n, m]
                .iter()
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        })
    }

    /// BuildKit reported the step as `CACHED`. A step restored from a registry cache may
    /// not say so; see [`Step::executed`].
    pub fn cached(&self) -> bool {
        self.cached
    }

    /// The step started (cached steps start too).
    pub fn started(&self) -> bool {
        self.started
    }

    /// The step completed.
    pub fn completed(&self) -> bool {
        self.completed
    }

    /// The error BuildKit attached to the step, if it failed.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The step's process output (stdout and stderr of its command, as logged).
    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&self.log).into_owned()
    }

    /// The step's process printed something, so its command really ran in this build.
    /// This is the trustworthy "did it execute" test: pip and npm always print.
    pub fn executed(&self) -> bool {
        !self.log.is_empty()
    }

    /// The step did work in this build: it printed output, or it started without being
    /// reported as cached (a layer pulled from a registry cache also counts as that).
    pub fn ran(&self) -> bool {
        self.executed() || (self.started && !self.cached)
    }
}

/// The outcome of one build: exit status, its steps by name and everything it printed.
#[derive(Debug, Clone)]
pub struct BuildReport {
    success: bool,
    status: String,
    steps: BTreeMap<String, Step>,
    /// The stderr lines that were not progress JSON (buildx's own `ERROR: …` lines).
    messages: String,
    stdout: String,
    seconds: f64,
    metadata: Option<Value>,
}

impl BuildReport {
    /// The report of a build or bake run by other means than [`crate::Build`]: its exit status
    /// and what it wrote to stderr with `--progress=rawjson`.
    pub fn from_progress(success: bool, stderr: &str) -> Self {
        Self::parse(success, String::new(), String::new(), stderr, 0.0)
    }

    pub(crate) fn parse(
        success: bool,
        status: String,
        stdout: String,
        stderr: &str,
        seconds: f64,
    ) -> Self {
        let mut report = Self {
            success,
            status,
            steps: BTreeMap::new(),
            messages: String::new(),
            stdout,
            seconds,
            metadata: None,
        };
        let mut names_by_digest: BTreeMap<String, String> = BTreeMap::new();
        let mut chunk: Option<String> = None;
        // rawjson prints SolveStatus objects one after another: buildx before 0.14 pretty-prints
        // each (it opens with a line `{` and closes with a line `}`), later ones write one object
        // a line. Anything else is buildx's plain text.
        for line in stderr.lines() {
            match chunk.as_mut() {
                None if line == "{" => chunk = Some(String::from("{\n")),
                None if line.starts_with('{') && line.ends_with('}') => {
                    match serde_json::from_str::<Value>(line) {
                        Ok(status) => report.absorb(&status, &mut names_by_digest),
                        Err(_) => {
                            report.messages.push_str(line);
                            report.messages.push('\n');
                        }
                    }
                }
                None => {
                    report.messages.push_str(line);
                    report.messages.push('\n');
                }
                Some(text) => {
                    text.push_str(line);
                    text.push('\n');
                    if line == "}" {
                        let text = std::mem::take(text);
                        chunk = None;
                        match serde_json::from_str::<Value>(&text) {
                            Ok(status) => report.absorb(&status, &mut names_by_digest),
                            Err(_) => report.messages.push_str(&text),
                        }
                    }
                }
            }
        }
        if let Some(text) = chunk {
            report.messages.push_str(&text);
        }
        report
    }

    fn absorb(&mut self, status: &Value, names_by_digest: &mut BTreeMap<String, String>) {
        for vertex in array(status, "vertexes") {
            let Some(digest) = vertex.get("digest").and_then(Value::as_str) else {
                continue;
            };
            let name = vertex
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(digest)
                .to_owned();
            names_by_digest.insert(digest.to_owned(), name.clone());
            let step = self.steps.entry(name.clone()).or_default();
            step.name = name;
            if !step.digests.iter().any(|known| known == digest) {
                step.digests.push(digest.to_owned());
            }
            step.cached |= vertex
                .get("cached")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            step.started |= vertex.get("started").is_some_and(|v| !v.is_null());
            step.completed |= vertex.get("completed").is_some_and(|v| !v.is_null());
            if let Some(error) = vertex.get("error").and_then(Value::as_str)
                && !error.is_empty()
            {
                step.error = Some(error.to_owned());
            }
        }
        for log in array(status, "logs") {
            let (Some(digest), Some(data)) = (
                log.get("vertex").and_then(Value::as_str),
                log.get("data").and_then(Value::as_str),
            ) else {
                continue;
            };
            let Some(name) = names_by_digest.get(digest) else {
                continue;
            };
            if let (Some(step), Ok(bytes)) = (
                self.steps.get_mut(name),
                base64::engine::general_purpose::STANDARD.decode(data),
            ) {
                step.log.extend_from_slice(&bytes);
            }
        }
    }

    pub(crate) fn set_metadata(&mut self, metadata: Value) {
        self.metadata = Some(metadata);
    }

    /// What buildx wrote to `--metadata-file` (the exporter response), if anything.
    pub fn metadata(&self) -> Option<&Value> {
        self.metadata.as_ref()
    }

    /// A subrequest's own verdict, `result.statuscode` in the metadata (`--call check`
    /// answers 1 when it found problems); buildx 0.14+ exits with it.
    pub fn call_status(&self) -> Option<i64> {
        self.metadata
            .as_ref()?
            .get("result.statuscode")?
            .as_str()?
            .trim()
            .parse()
            .ok()
    }

    /// The build exited 0.
    pub fn success(&self) -> bool {
        self.success
    }

    /// Wall time of the `docker buildx build` command.
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// `Ok` when the build succeeded, else an error holding everything it said.
    pub fn ensure_success(&self) -> Result<&Self, HarnessError> {
        if self.success {
            Ok(self)
        } else {
            Err(HarnessError::BuildFailed {
                status: self.status.clone(),
                output: self.everything(),
            })
        }
    }

    /// Every step, by name.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.steps.values()
    }

    /// The steps whose name starts with `prefix` (e.g. `[api runtime`).
    pub fn steps_with_prefix(&self, prefix: &str) -> Vec<&Step> {
        self.steps
            .values()
            .filter(|step| step.name.starts_with(prefix))
            .collect()
    }

    /// The steps whose name starts with `prefix`; an error when there is none. For a
    /// dependency that may be split in several steps (`[api wheels` matches `[api wheels 1/4]`
    /// and `[api wheels 2/4]`).
    pub fn steps_named(&self, prefix: &str) -> Result<Vec<&Step>, HarnessError> {
        let steps = self.steps_with_prefix(prefix);
        if steps.is_empty() {
            return Err(HarnessError::NoSuchStep {
                prefix: prefix.to_owned(),
                names: self.summary(),
            });
        }
        Ok(steps)
    }

    /// The one step whose name starts with `prefix`; an error when none or several match.
    pub fn step(&self, prefix: &str) -> Result<&Step, HarnessError> {
        match self.steps_with_prefix(prefix).as_slice() {
            [one] => Ok(one),
            [] => Err(HarnessError::NoSuchStep {
                prefix: prefix.to_owned(),
                names: self.summary(),
            }),
            many => Err(HarnessError::AmbiguousStep {
                prefix: prefix.to_owned(),
                names: many
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            }),
        }
    }

    /// What the build printed on stdout (the answer of `--call`).
    pub fn stdout(&self) -> &str {
        &self.stdout
    }

    /// buildx's own messages (stderr lines that were not progress JSON) and every step error.
    pub fn messages(&self) -> String {
        let mut text = self.messages.clone();
        for step in self.steps.values() {
            if let Some(error) = &step.error {
                let _ = writeln!(text, "{}: {error}", step.name);
            }
        }
        text
    }

    /// Everything: stdout, messages, step errors and every step's log.
    pub fn everything(&self) -> String {
        let mut text = format!(
            "--- stdout ---\n{}\n--- messages ---\n{}",
            self.stdout,
            self.messages()
        );
        text.push_str("--- steps ---\n");
        text.push_str(&self.summary());
        for step in self.steps.values().filter(|step| step.executed()) {
            let _ = write!(text, "--- log of {} ---\n{}\n", step.name, step.log_text());
        }
        text
    }

    /// One line per step: cached / ran / output / error flags and the name.
    pub fn summary(&self) -> String {
        let mut text = String::new();
        for step in self.steps.values() {
            let _ = writeln!(
                text,
                "{:6} {:3} {:6} {:5} {}",
                if step.cached { "CACHED" } else { "" },
                if step.ran() { "ran" } else { "" },
                if step.executed() { "output" } else { "" },
                if step.error.is_some() { "ERROR" } else { "" },
                step.name
            );
        }
        text
    }
}

fn array<'a>(status: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    status
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
  "vertexes": [
    {
      "digest": "sha256:aa",
      "name": "[api wheels 1/1] pip wheel -r requirements.txt",
      "started": "2026-11-25T20:57:05Z"
    }
  ]
}
{
  "logs": [
    {
      "vertex": "sha256:aa",
      "stream": 1,
      "data": "Q29sbGVjdGluZw==",
      "timestamp": "2026-11-25T20:57:06Z"
    }
  ]
}
{
  "vertexes": [
    {
      "digest": "sha256:bb",
      "name": "[api runtime 2/3] pip install",
      "started": "2026-11-25T20:57:05Z",
      "completed": "2026-11-25T20:57:05Z",
      "cached": true
    },
    {
      "digest": "sha256:cc",
      "name": "[api runtime 3/3] copy backend/ to /app",
      "started": "2026-11-25T20:57:05Z",
      "completed": "2026-11-25T20:57:05Z",
      "error": "boom"
    }
  ]
}
ERROR: failed to solve: boom
"#;

    #[test]
    fn parses_steps_logs_and_messages() {
        let report = BuildReport::parse(false, "1".into(), String::new(), SAMPLE, 0.0);
        let wheels = report.step("[api wheels").unwrap();
        assert!(wheels.executed() && wheels.ran() && !wheels.cached());
        assert_eq!(wheels.log_text(), "Collecting");
        let install = report.step("[api runtime 2/3]").unwrap();
        assert!(install.cached() && !install.ran() && !install.executed());
        assert_eq!(
            report.step("[api runtime 3/3]").unwrap().error(),
            Some("boom")
        );
        assert!(report.messages().contains("ERROR: failed to solve: boom"));
        assert!(matches!(
            report.step("[api runtime"),
            Err(HarnessError::AmbiguousStep { .. })
        ));
        assert!(matches!(
            report.step("[web"),
            Err(HarnessError::NoSuchStep { .. })
        ));
        assert!(report.ensure_success().is_err());
    }

    #[test]
    fn parses_one_object_a_line_as_newer_buildx_writes_it() {
        // Every pretty-printed object of the sample, re-emitted on one line.
        let mut one_line = String::new();
        let mut object = String::new();
        for line in SAMPLE.lines() {
            if line == "{" || !object.is_empty() {
                object.push_str(line);
                if line == "}" {
                    let value: Value = serde_json::from_str(&object).unwrap();
                    one_line.push_str(&serde_json::to_string(&value).unwrap());
                    one_line.push('\n');
                    object.clear();
                }
            } else {
                one_line.push_str(line);
                one_line.push('\n');
            }
        }
        assert!(!one_line.contains("\n{\n"), "{one_line}");
        let report = BuildReport::parse(false, "1".into(), String::new(), &one_line, 0.0);
        let wheels = report.step("[api wheels").unwrap();
        assert!(wheels.executed() && !wheels.cached());
        assert_eq!(wheels.log_text(), "Collecting");
        assert!(report.step("[api runtime 2/3]").unwrap().cached());
        assert!(report.messages().contains("ERROR: failed to solve: boom"));
    }

    #[test]
    fn numbered_steps_have_a_counter() {
        let named = |name: &str| Step {
            name: name.to_owned(),
            ..Step::default()
        };
        assert!(named("[api wheels 1/4] click==8.5.1").is_numbered());
        assert!(named("[api wheels 12/30] idna==3.20").is_numbered());
        assert!(!named("[api wheels] merge 4 results").is_numbered());
        assert!(!named("[api] FROM python:3.11-slim").is_numbered());
        assert!(!named("[internal] load spec layercake.yaml").is_numbered());
        assert!(!named("exporting to image").is_numbered());
        assert!(!named("[api x 1/] y").is_numbered());
    }
}

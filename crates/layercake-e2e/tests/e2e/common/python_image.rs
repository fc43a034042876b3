//! Python images under test: what is installed in them, what imports, and the closure a build
//! planned (from its wheel steps' names).

use std::collections::BTreeMap;

use layercake_e2e::{BuildReport, Engine};
use serde_json::Value;

use super::TestResult;

/// Run in an image: the installed distributions (PEP 503 names → versions), the expected ones
/// that are missing or at another version, and every import of the expected ones that fails.
/// The expected set comes as JSON in argv[1]; with argv[2] = a requirements file (a path in the
/// image, or `lines:` and the file's text), the lines of that file whose markers hold for this
/// interpreter are added to it (pip's own marker code, so the image's Python decides, as it did
/// when installing).
const INSPECT: &str = r##"
import importlib, importlib.metadata as md, json, re, sys
def norm(name): return re.sub(r"[-_.]+", "-", name).lower()
expected = {norm(k): v for k, v in json.loads(sys.argv[1]).items()}
if len(sys.argv) > 2:
    from pip._vendor.packaging.requirements import Requirement
    given = sys.argv[2]
    text = given[len("lines:"):] if given.startswith("lines:") else open(given).read()
    for line in text.splitlines():
        line = line.split(" #")[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate():
            (spec,) = req.specifier
            expected[norm(req.name)] = spec.version
installed = {norm(d.metadata["Name"]): d.version for d in md.distributions()}
mismatch = {n: [v, installed.get(n)] for n, v in expected.items() if installed.get(n) != v}
errors = []
for d in md.distributions():
    if norm(d.metadata["Name"]) not in expected:
        continue
    tops = (d.read_text("top_level.txt") or "").split()
    if not tops:
        tops = sorted({
            p.parts[0] if len(p.parts) > 1 else p.parts[0].split(".")[0]
            for p in (d.files or [])
            if p.suffix in (".py", ".so") and p.parts[0] not in ("..", "__pycache__", "bin")
            and not p.parts[0].endswith((".dist-info", ".data"))
        })
    for top in tops:
        if not top.isidentifier():
            continue
        try:
            importlib.import_module(top)
        except Exception as error:
            errors.append(f"{d.metadata['Name']}: import {top}: {error!r}")
print(json.dumps({"installed": installed, "mismatch": mismatch, "errors": errors, "expected": expected}))
"##;

pub struct Inspection {
    pub installed: BTreeMap<String, String>,
    pub expected: BTreeMap<String, String>,
    pub mismatch: Value,
    pub errors: Vec<String>,
}

pub fn inspect(
    engine: &Engine,
    image: &str,
    expected: &BTreeMap<String, String>,
    requirements_file: Option<&str>,
) -> Result<Inspection, Box<dyn std::error::Error>> {
    let expected_json = serde_json::to_string(expected)?;
    let mut command = vec!["python3", "-c", INSPECT, &expected_json];
    command.extend(requirements_file);
    let out = engine.run_once(image, &["--entrypoint", ""], &command)?;
    let value: Value = serde_json::from_str(out.trim())?;
    let map = |key: &str| -> BTreeMap<String, String> {
        value[key]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Inspection {
        installed: map("installed"),
        expected: map("expected"),
        mismatch: value["mismatch"].clone(),
        errors: layercake_e2e::string_list(&value["errors"]),
    })
}

/// The closure the build planned, from its wheel steps' names: `[svc wheels 3/8] idna==3.20`
/// and `[svc wheels 2/8] anyio==4.16.0 click==8.5.1`.
pub fn planned_closure(report: &BuildReport, service: &str) -> BTreeMap<String, String> {
    let prefix = format!("[{service} wheels");
    report
        .steps_with_prefix(&prefix)
        .into_iter()
        .filter(|step| step.is_numbered())
        .filter_map(|step| {
            step.name()
                .split_once("] ")
                .map(|(_, pins)| pins.to_owned())
        })
        .flat_map(|pins| {
            pins.split_whitespace()
                .filter_map(|pin| pin.split_once("=="))
                .map(|(name, version)| (name.to_owned(), version.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The image holds exactly the base image's packages and `closure`, at those versions, and
/// every package of `closure` imports.
pub fn assert_image_holds_exactly(
    engine: &Engine,
    base_image: &str,
    image: &str,
    closure: &BTreeMap<String, String>,
    requirements_file: Option<&str>,
) -> TestResult {
    let base = inspect(engine, base_image, &BTreeMap::new(), None)?;
    let got = inspect(engine, image, closure, requirements_file)?;
    assert!(
        got.expected.len() >= 10,
        "a closure of {} packages: {:?}",
        got.expected.len(),
        got.expected
    );
    assert_eq!(
        got.mismatch,
        Value::Object(serde_json::Map::new()),
        "packages of the lock missing or at another version ([wanted, installed])"
    );
    assert!(got.errors.is_empty(), "imports failed: {:#?}", got.errors);
    for (name, version) in &got.installed {
        let from_base = base.installed.get(name) == Some(version);
        assert!(
            got.expected.get(name) == Some(version) || from_base,
            "`{name}=={version}` is in the image but in neither the lock nor the base image"
        );
    }
    Ok(())
}

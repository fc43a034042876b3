//! `layercake schema`: a JSON Schema that the project's own specs satisfy and that catches
//! mistakes an editor should underline.

use crate::tools_support;

use serde_json::Value;
use tools_support::*;

fn schema() -> Value {
    serde_json::from_str(&stdout(layercake().arg("schema"))).unwrap()
}

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

fn errors(validator: &jsonschema::Validator, spec: &Value) -> Vec<String> {
    validator
        .iter_errors(spec)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn printed_schema_is_the_spec_crates_schema() {
    assert_eq!(schema(), layercake_spec::json_schema());
}

#[test]
fn example_and_realistic_specs_are_valid() {
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let mut specs = vec![
        example_dir().join("layercake.yaml"),
        repo_root().join("testdata/realistic/layercake.yaml"),
    ];
    let ok_dir = repo_root().join("testdata/specs/ok");
    for entry in std::fs::read_dir(&ok_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            specs.push(path);
        }
    }
    assert!(specs.len() > 2, "no specs found under {}", ok_dir.display());
    for path in &specs {
        let spec = yaml(&std::fs::read_to_string(path).unwrap());
        let problems = errors(&validator, &spec);
        assert!(problems.is_empty(), "{}: {problems:?}", path.display());
    }
}

#[test]
fn typical_mistakes_are_schema_errors() {
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let cases = [
        // misspelt key
        "services:\n  api:\n    pyhton: { version: \"3.11\" }\n",
        // unquoted version: a number
        "services:\n  api:\n    python: { version: 3.11 }\n",
        // port out of range
        "services:\n  api:\n    python: { version: \"3.11\" }\n    port: 70000\n",
        // bad service name
        "services:\n  Api:\n    python: { version: \"3.11\" }\n",
    ];
    for case in cases {
        assert!(
            !errors(&validator, &yaml(case)).is_empty(),
            "accepted by the schema:\n{case}"
        );
    }
}

/// The tutorial's recipe works as written: the file `layercake schema` is saved to is the one
/// the modeline names, the modeline is the spec's second line (BuildKit reads the first), and
/// the spec it shows is valid for the schema and for layercake.
#[test]
fn docs_show_the_editor_modeline() {
    let docs = std::fs::read_to_string(repo_root().join("docs/tutorial.md")).unwrap();
    let saved_to = docs
        .lines()
        .find_map(|line| line.trim().strip_prefix("layercake schema > "))
        .expect("the tutorial saves the schema with `layercake schema > FILE`");
    let block = docs
        .split("```yaml\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(block, _)| block))
        .find(|block| block.contains("yaml-language-server"))
        .expect("a yaml block with the modeline");
    let lines: Vec<&str> = block.lines().collect();
    assert!(lines[0].starts_with("# syntax="), "{block}");
    assert_eq!(
        lines[1],
        format!("# yaml-language-server: $schema={saved_to}"),
        "{block}"
    );
    let validator = jsonschema::validator_for(&schema()).unwrap();
    assert_eq!(errors(&validator, &yaml(block)), Vec::<String>::new());
    layercake_spec::parse("layercake.yaml", block).unwrap();
}

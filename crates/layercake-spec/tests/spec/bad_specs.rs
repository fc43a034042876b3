//! Every file in testdata/specs/bad is refused, and its rendered error matches a snapshot.

use std::path::PathBuf;

use layercake_spec::{MAX_SPEC_BYTES, parse};

fn bad_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/specs/bad")
}

fn render_errors(text: &str) -> String {
    match parse("layercake.yaml", text) {
        Ok(spec) => panic!("should be refused, parsed as {spec:#?}"),
        Err(errors) => errors.to_string(),
    }
}

#[test]
fn every_bad_spec_is_refused_with_its_snapshot() {
    let mut names: Vec<String> = std::fs::read_dir(bad_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert!(names.len() >= 30, "{names:?}");
    for name in names {
        let path = bad_dir().join(&name);
        let text = std::fs::read_to_string(&path).unwrap();
        let rendered = render_errors(&text);
        let stem = name.trim_end_matches(".yaml").to_owned();
        insta::with_settings!({ input_file => &path, omit_expression => true }, {
            insta::assert_snapshot!(format!("bad__{stem}"), rendered);
        });
    }
}

#[test]
fn too_large_is_refused_before_parsing() {
    // Valid YAML, but over the limit: the size check must come first.
    let mut text = String::from("services:\n  api:\n    python: { version: \"3.12\" }\n");
    while text.len() <= MAX_SPEC_BYTES {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    let errors = parse("layercake.yaml", &text).unwrap_err();
    assert_eq!(errors.len(), 1);
    let error = errors.first().unwrap();
    assert_eq!(error.line(), None);
    let rendered = errors
        .to_string()
        .replace(&text.len().to_string(), "<size>");
    insta::assert_snapshot!("bad__too-large", rendered);
}

#[test]
fn exactly_at_the_limit_is_parsed() {
    let mut text = String::from("services:\n  api:\n    python: { version: \"3.12\" }\n");
    let pad = MAX_SPEC_BYTES - text.len();
    text.push('#');
    text.push_str(&"x".repeat(pad - 1));
    assert_eq!(text.len(), MAX_SPEC_BYTES);
    assert!(parse("layercake.yaml", &text).is_ok());
}

#[test]
fn error_accessors_point_at_the_offending_key() {
    let text = std::fs::read_to_string(bad_dir().join("unknown-key.yaml")).unwrap();
    let errors = parse("layercake.yaml", &text).unwrap_err();
    let error = errors.first().unwrap();
    assert_eq!(error.file(), "layercake.yaml");
    assert_eq!((error.line(), error.column()), (Some(5), Some(5)));
    assert_eq!(
        error.message(),
        "unknown key `pyhton` in service `api` (did you mean `python`?)"
    );
}

#[test]
fn all_errors_are_reported_in_file_order() {
    let text = std::fs::read_to_string(bad_dir().join("many-errors.yaml")).unwrap();
    let errors = parse("layercake.yaml", &text).unwrap_err();
    let lines: Vec<Option<u32>> = errors.iter().map(|e| e.line()).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
    assert!(errors.len() >= 3, "{errors}");
}

#[test]
fn too_many_values_without_anchors_is_not_called_an_alias_bomb() {
    let mut text = String::from("services:\n  api:\n    python: { version: \"3.12\" }\n    env:\n");
    for i in 0..25_000 {
        text.push_str(&format!("      K{i}: v\n"));
    }
    let rendered = parse("layercake.yaml", &text).unwrap_err().to_string();
    assert!(rendered.contains("more than 20000 values"), "{rendered}");
    assert!(!rendered.contains("alias"), "{rendered}");
    // With anchors, the question is fair.
    let bomb = format!("x-a: &a [v, v]\n{text}");
    let rendered = parse("layercake.yaml", &bomb).unwrap_err().to_string();
    assert!(rendered.contains("is this an alias bomb?"), "{rendered}");
}

//! Hostile specs (testdata/hostile, plus a few generated here): every one is refused quickly
//! with a positioned, readable error, and none of them panics, hangs or floods the output.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use layercake_spec::{ErrorKind, MAX_SPEC_BYTES, SpecErrors, parse, parse_bytes};

/// "No hang", with room for a slow debug build on a busy 2-core machine.
const LIMIT: Duration = Duration::from_secs(5);

fn hostile_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/hostile")
}

fn refuse(name: &str, bytes: &[u8]) -> SpecErrors {
    let started = Instant::now();
    let result = parse_bytes(name, bytes);
    let took = started.elapsed();
    assert!(took < LIMIT, "{name} took {took:?}");
    match result {
        Ok(spec) => panic!("{name} should be refused, parsed as {spec:#?}"),
        Err(errors) => errors,
    }
}

/// Whole-file problems (size) have no position; everything else must have one.
fn assert_positioned(name: &str, errors: &SpecErrors) {
    let rendered = errors.to_string();
    for error in errors {
        if !matches!(error.kind(), ErrorKind::TooLarge { .. } | ErrorKind::Empty) {
            let line = error
                .line()
                .unwrap_or_else(|| panic!("{name}: no line in {rendered}"));
            let column = error.column().unwrap();
            assert!(line >= 1 && column >= 1, "{name}: {rendered}");
            assert!(
                rendered.contains(&format!("{name}:{line}:{column}")),
                "{name}: no file:line:col in {rendered}"
            );
        }
    }
    // A snippet never echoes a whole hostile line, nor control characters (terminal escapes).
    for line in rendered.lines() {
        assert!(
            line.chars().count() < 400,
            "{name}: a {}-char line",
            line.len()
        );
        assert!(
            !line.chars().any(|c| c.is_control() && c != '\t'),
            "{name}: control character in {line:?}"
        );
    }
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(hostile_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_hostile_file_is_refused_quickly_with_a_position() {
    let files = corpus();
    assert!(files.len() >= 30, "{}", files.len());
    for (name, bytes) in files {
        let errors = refuse(&name, &bytes);
        assert_positioned(&name, &errors);
    }
}

/// The message each kind of hostile input gets: specific, in the user's terms (no Rust enum
/// names from the YAML library).
#[test]
fn hostile_files_get_the_right_message() {
    let expected: &[(&str, &str)] = &[
        ("alias-bomb.yaml", "is this an alias bomb?"),
        ("deep-flow-nesting.yaml", "nests deeper than"),
        ("deep-flow-map-nesting.yaml", "nests deeper than"),
        ("deep-block-nesting.yaml", "nests deeper than"),
        ("not-utf8.yaml", "not valid UTF-8 (byte 0xe9)"),
        ("utf16-bom.yaml", "the file is UTF-16"),
        ("empty.yaml", "the spec is empty"),
        ("duplicate-keys.yaml", "duplicate key `port`"),
        ("absolute-path.yaml", "is absolute"),
        ("dotdot-escape.yaml", "leaves the build context"),
        ("dotdot-requirements.yaml", "leaves the build context"),
        ("dotdot-assets.yaml", "leaves the build context"),
        ("unknown-keys.yaml", "did you mean `pip_flags`?"),
        ("bad-duration.yaml", "is too long"),
        ("huge-port.yaml", "must be an integer"),
        ("huge-float.yaml", "non-finite float"),
        ("custom-tag.yaml", "unsupported tag"),
        ("many-documents.yaml", "one YAML document"),
        ("control-chars.yaml", "unexpected character"),
        ("interp-unterminated.yaml", "has no closing `}`"),
    ];
    let files = corpus();
    for (name, needle) in expected {
        let (_, bytes) = files.iter().find(|(n, _)| n == name).unwrap();
        let rendered = refuse(name, bytes).to_string();
        assert!(rendered.contains(needle), "{name}: {rendered}");
        assert!(
            ![
                "breached",
                "Nodes {",
                "Depth {",
                "Aliases {",
                "recursion limit"
            ]
            .iter()
            .any(|leak| rendered.contains(leak)),
            "{name}: library wording leaks: {rendered}"
        );
    }
}

#[test]
fn not_utf8_points_at_the_first_bad_byte() {
    let errors = refuse(
        "layercake.yaml",
        b"services:\n  api:\n    description: \"ab\xff\"\n",
    );
    let error = errors.first().unwrap();
    assert_eq!((error.line(), error.column()), (Some(3), Some(21)));
    assert!(error.to_string().contains("save the spec as UTF-8"));
}

#[test]
fn a_utf8_byte_order_mark_is_accepted() {
    let text = "services:\n  api:\n    python: { version: \"3.12\" }\n";
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
    let spec = parse_bytes("layercake.yaml", &with_bom).unwrap();
    assert!(spec.service("api").is_some());
}

#[test]
fn ten_megabytes_are_refused_by_size_before_anything_else() {
    // Generated, not committed: 10 MB of otherwise valid YAML, and of garbage.
    let mut valid = String::from("services:\n  api:\n    python: { version: \"3.12\" }\n");
    while valid.len() < 10 * 1024 * 1024 {
        valid.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    let garbage: Vec<u8> = (0..10 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    for bytes in [valid.as_bytes(), garbage.as_slice()] {
        let errors = refuse("layercake.yaml", bytes);
        assert_eq!(errors.len(), 1);
        let error = errors.first().unwrap();
        assert!(
            matches!(error.kind(), ErrorKind::TooLarge { .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains("the limit is 1048576 bytes (1 MiB)")
        );
    }
    // The str API applies the same limit.
    assert!(matches!(
        parse("layercake.yaml", &valid)
            .unwrap_err()
            .first()
            .unwrap()
            .kind(),
        ErrorKind::TooLarge { .. }
    ));
}

#[test]
fn ten_thousand_levels_of_nesting_are_refused_without_overflowing_the_stack() {
    let shapes = [
        format!("services: {}{}\n", "[".repeat(10_000), "]".repeat(10_000)),
        format!(
            "services: {}1{}\n",
            "{a: ".repeat(10_000),
            "}".repeat(10_000)
        ),
        format!(
            "services:\n  api:\n    command:\n      {}x\n",
            "- ".repeat(10_000)
        ),
        // Unclosed: the parser must not recurse to the end either.
        format!("services: {}\n", "[".repeat(10_000)),
    ];
    for (i, text) in shapes.iter().enumerate() {
        assert!(text.len() < MAX_SPEC_BYTES);
        let errors = refuse(&format!("nesting-{i}.yaml"), text.as_bytes());
        assert_positioned(&format!("nesting-{i}.yaml"), &errors);
    }
}

#[test]
fn alias_bombs_of_every_shape_are_refused_quickly() {
    // Wide (billion laughs), and deep-but-narrow chains that double at each level.
    let mut laughs = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        laughs.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    laughs.push_str("services:\n  api:\n    python: { version: \"3.12\" }\n    command: *a9\n");
    let mut doubling = String::from("x0: &x0 {a: 1}\n");
    for i in 1..64 {
        let prev = i - 1;
        doubling.push_str(&format!("x{i}: &x{i} {{a: *x{prev}, b: *x{prev}}}\n"));
    }
    doubling.push_str("services: *x63\n");
    for (name, text) in [("laughs.yaml", laughs), ("doubling.yaml", doubling)] {
        let errors = refuse(name, text.as_bytes());
        assert_positioned(name, &errors);
    }
}

#[test]
fn a_spec_just_under_the_limit_of_many_small_values_still_parses_quickly() {
    // The YAML budget is sized for real specs; make sure it does not refuse a big honest one.
    let mut text = String::from("services:\n  api:\n    python: { version: \"3.12\" }\n    env:\n");
    for i in 0..2_000 {
        text.push_str(&format!("      VAR_{i}: value-{i}\n"));
    }
    let started = Instant::now();
    let spec = parse_bytes("layercake.yaml", text.as_bytes()).unwrap();
    assert!(started.elapsed() < LIMIT);
    assert!(spec.service("api").is_some());
}

#[test]
fn random_mutations_of_real_specs_never_panic() {
    // A tiny, dependency-free mutation fuzzer (the cargo-fuzz target in fuzz/ goes further):
    // flip, insert and delete bytes of every testdata spec with a fixed-seed generator.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let seeds: Vec<Vec<u8>> = [
        "example/layercake.yaml",
        "realistic/layercake.yaml",
        "specs/ok/full.yaml",
    ]
    .iter()
    .map(|p| std::fs::read(root.join(p)).unwrap())
    .collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"{}[]:,-&*!|>'\"#%@`\n \t$0123456789abcz.\\\xff\x00";
    let started = Instant::now();
    for round in 0..3_000 {
        let mut bytes = seeds[round % seeds.len()].clone();
        for _ in 0..1 + next() % 8 {
            let at = (next() as usize) % (bytes.len() + 1);
            let byte = alphabet[(next() as usize) % alphabet.len()];
            match next() % 3 {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => {}
            }
        }
        // Ok or Err are both fine; rendering the errors must not panic either.
        if let Err(errors) = parse_bytes("fuzz.yaml", &bytes) {
            let _ = errors.to_string();
        }
    }
    assert!(started.elapsed() < Duration::from_secs(120));
}

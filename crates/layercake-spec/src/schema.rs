//! A JSON Schema of `layercake.yaml`, for editors (`# yaml-language-server: $schema=...`) and
//! `layercake schema`, generated from the keys validation takes ([`crate::keys`]). It describes
//! shapes; the parser remains the authority on values (paths inside the context, declared args,
//! cross-service references).

use serde_json::{Map, Value, json};

use crate::keys::{self, Key, Section, Shape};

/// The JSON Schema (draft 2020-12) of the spec.
pub fn json_schema() -> Value {
    let mut schema = section(&keys::TOP);
    schema.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    schema.insert("title".into(), json!("layercake.yaml"));
    Value::Object(schema)
}

fn section(section: &Section) -> Map<String, Value> {
    let properties: Map<String, Value> = section
        .keys
        .iter()
        .map(|key| (key.name.to_owned(), property(key)))
        .collect();
    let mut out = Map::new();
    out.insert("type".into(), json!("object"));
    out.insert("additionalProperties".into(), json!(false));
    out.insert("properties".into(), Value::Object(properties));
    let required: Vec<&str> = section
        .keys
        .iter()
        .filter(|key| key.required)
        .map(|key| key.name)
        .collect();
    if !required.is_empty() {
        out.insert("required".into(), json!(required));
    }
    if !section.one_of.is_empty() {
        let one_of: Vec<Value> = section
            .one_of
            .iter()
            .map(|name| json!({ "required": [name] }))
            .collect();
        out.insert("oneOf".into(), Value::Array(one_of));
    }
    if let Some(pair) = section.exclusive {
        out.insert("not".into(), json!({ "required": pair }));
    }
    if let Some(prefix) = section.free_prefix {
        out.insert(
            "patternProperties".into(),
            json!({ format!("^{prefix}"): {} }),
        );
    }
    out
}

fn property(key: &Key) -> Value {
    let mut value = shape(&key.shape);
    if let (Some(doc), Value::Object(map)) = (key.doc, &mut value) {
        map.insert("description".into(), json!(doc));
    }
    value
}

fn shape(of: &Shape) -> Value {
    match of {
        Shape::Str => json!({ "type": "string" }),
        Shape::NonEmpty => json!({ "type": "string", "minLength": 1 }),
        Shape::Pattern(pattern) => json!({ "type": "string", "pattern": pattern }),
        Shape::Relative => json!({ "type": "string", "minLength": 1, "pattern": "^[^/]" }),
        Shape::Absolute => json!({ "type": "string", "pattern": "^/" }),
        Shape::Version => json!({
            "description": "Quoted digits and dots: \"3\", \"3.11\", \"3.11.9\".",
            "type": "string",
            "pattern": "^[0-9]+(\\.[0-9]+){0,2}$"
        }),
        Shape::Duration => json!({
            "description": "Go-style duration: 1h2m3s, 90s, 1.5s, 500ms.",
            "type": "string",
            "pattern": "^\\+?(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$"
        }),
        Shape::Port => json!({ "type": "integer", "minimum": 1, "maximum": 65535 }),
        Shape::Bool => json!({ "type": "boolean" }),
        Shape::True => json!({ "const": true }),
        Shape::Count => json!({ "type": "integer", "minimum": 0 }),
        Shape::Id => json!({ "type": "integer", "minimum": 1 }),
        Shape::Command => json!({
            "description": "A list (exec form) or a string (run with /bin/sh -c).",
            "oneOf": [
                shape(&Shape::NonEmpty),
                { "type": "array", "minItems": 1, "items": shape(&Shape::Scalar) }
            ]
        }),
        Shape::Choice(choices) => json!({ "enum": choices }),
        Shape::List(item) => json!({ "type": "array", "items": shape(item) }),
        Shape::OneOrList(item) => json!({
            "oneOf": [shape(item), { "type": "array", "items": shape(item) }]
        }),
        Shape::Map {
            names,
            values,
            nonempty,
        } => {
            let mut map = Map::new();
            map.insert("type".into(), json!("object"));
            if *nonempty {
                map.insert("minProperties".into(), json!(1));
            }
            if let Some(pattern) = names {
                map.insert("propertyNames".into(), json!({ "pattern": pattern }));
            }
            map.insert("additionalProperties".into(), shape(values));
            Value::Object(map)
        }
        Shape::Scalar => json!({ "type": ["string", "number", "boolean"] }),
        Shape::ScalarOrNull => json!({ "type": ["string", "number", "boolean", "null"] }),
        Shape::Section(inner) => Value::Object(section(inner)),
        Shape::SectionOrNull(inner) => {
            let mut map = section(inner);
            map.insert("type".into(), json!(["object", "null"]));
            Value::Object(map)
        }
        Shape::StrOrSection(doc, inner) => json!({
            "oneOf": [{ "type": "string", "description": doc }, Value::Object(section(inner))]
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::error::ErrorKind;

    const SERVICE: &str = "/properties/services/additionalProperties";

    /// For each section, where the schema describes it, and a spec that is valid as it is and
    /// in which `@` marks the place of a key of that section.
    fn cases() -> Vec<(String, &'static str)> {
        let at = |path: &str| format!("{SERVICE}{path}");
        vec![
            (
                String::new(),
                "services: { api: { python: { version: \"3.12\" } } }\n@\n",
            ),
            (
                at(""),
                "services:\n  api:\n    python: { version: \"3.12\" }\n    @\n",
            ),
            (
                at("/properties/python"),
                "services:\n  api:\n    python:\n      version: \"3.12\"\n      @\n",
            ),
            (
                at("/properties/python/properties/packages"),
                "services:\n  api:\n    python:\n      version: \"3.12\"\n      packages:\n        \
                 build: []\n        @\n",
            ),
            (
                at("/properties/node"),
                "services:\n  web:\n    node:\n      version: \"22\"\n      @\n",
            ),
            (
                at("/properties/serve"),
                "services:\n  web:\n    node: { version: \"22\" }\n    serve:\n      nginx: {}\n      \
                 @\n",
            ),
            (
                at("/properties/serve/properties/nginx"),
                "services:\n  web:\n    node: { version: \"22\" }\n    serve:\n      nginx:\n        \
                 image: nginx\n        @\n",
            ),
            (
                at("/properties/assets/items"),
                "services:\n  web:\n    node: { version: \"22\" }\n  api:\n    python: { version: \
                 \"3.12\" }\n    assets:\n      -\n        from: web\n        to: static\n        @\n",
            ),
            (
                at("/properties/user/oneOf/1"),
                "services:\n  api:\n    python: { version: \"3.12\" }\n    user:\n      name: app\n      \
                 @\n",
            ),
            (
                at("/properties/healthcheck"),
                "services:\n  api:\n    python: { version: \"3.12\" }\n    port: 8000\n    \
                 healthcheck:\n      http: /\n      @\n",
            ),
            (
                at("/properties/secrets/items"),
                "services:\n  api:\n    python: { version: \"3.12\" }\n    secrets:\n      -\n        \
                 id: token\n        @\n",
            ),
        ]
    }

    /// Every section in the key description, with where the schema puts it.
    fn sections(section: &'static Section, at: String, out: &mut Vec<(String, &'static Section)>) {
        for key in section.keys {
            shape_sections(&key.shape, format!("{at}/properties/{}", key.name), out);
        }
        out.push((at, section));
    }

    fn shape_sections(of: &'static Shape, at: String, out: &mut Vec<(String, &'static Section)>) {
        match of {
            Shape::Section(inner) | Shape::SectionOrNull(inner) => sections(inner, at, out),
            Shape::StrOrSection(_, inner) => sections(inner, format!("{at}/oneOf/1"), out),
            Shape::List(item) => shape_sections(item, format!("{at}/items"), out),
            Shape::OneOrList(item) => shape_sections(item, format!("{at}/oneOf/0"), out),
            Shape::Map { values, .. } => {
                shape_sections(values, format!("{at}/additionalProperties"), out);
            }
            _ => {}
        }
    }

    /// `template` with `line` in place of `key`'s own line when it has one, else at the marker;
    /// and the (1-based) number of that line.
    fn with_line(template: &str, key: &str, line: &str) -> (String, u32) {
        let mut lines: Vec<String> = template.lines().map(str::to_owned).collect();
        let marker = lines.iter().position(|l| l.trim() == "@").unwrap();
        let indent = lines[marker].trim_end_matches('@').to_owned();
        let own = lines.iter().position(|l| {
            l.strip_prefix(indent.as_str())
                .is_some_and(|rest| rest.starts_with(&format!("{key}:")))
        });
        let mut at = own.unwrap_or(marker);
        lines[at] = format!("{indent}{line}");
        if own.is_some() {
            lines.remove(marker);
            if marker < at {
                at -= 1;
            }
        }
        (lines.join("\n") + "\n", u32::try_from(at + 1).unwrap())
    }

    fn problems_on(text: &str, line: u32) -> Vec<ErrorKind> {
        match crate::parse("layercake.yaml", text) {
            Ok(_) => Vec::new(),
            Err(errors) => errors
                .iter()
                .filter(|e| e.line() == Some(line))
                .map(|e| e.kind().clone())
                .collect(),
        }
    }

    /// For every section, the keys validation accepts are the keys the schema lists: each key
    /// the schema lists is taken by validation (not an unknown key) and read by it (a value of
    /// no shape any key takes is reported on its line), a key it does not list is an unknown
    /// key, and every section of the description is checked.
    #[test]
    fn validation_takes_exactly_the_keys_the_schema_lists() {
        let schema = json_schema();
        let mut described = Vec::new();
        sections(&keys::TOP, String::new(), &mut described);
        let cases = cases();
        assert_eq!(
            described
                .iter()
                .map(|(at, _)| at.clone())
                .collect::<BTreeSet<_>>(),
            cases
                .iter()
                .map(|(at, _)| at.clone())
                .collect::<BTreeSet<_>>(),
            "a section without a case here, or a case for no section"
        );
        for (at, template) in &cases {
            let (_, section) = described.iter().find(|(a, _)| a == at).unwrap();
            let listed: BTreeSet<&str> = schema
                .pointer(at)
                .and_then(|s| s["properties"].as_object())
                .unwrap_or_else(|| panic!("no section in the schema at `{at}`"))
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(listed, section.names().collect::<BTreeSet<_>>(), "{at}");

            let (valid, _) = with_line(template, "@", "");
            if let Err(errors) = crate::parse("layercake.yaml", &valid) {
                panic!("{at}: the template is not valid:\n{valid}\n{errors}");
            }
            for key in &listed {
                let (text, line) = with_line(template, key, &format!("{key}: {{ \"?\": [] }}"));
                let problems = problems_on(&text, line);
                assert!(
                    !problems.is_empty(),
                    "{at}: validation did not read `{key}`:\n{text}"
                );
                for problem in &problems {
                    assert!(
                        !matches!(
                            problem,
                            ErrorKind::UnknownKey { key: k, .. } | ErrorKind::DuplicateKey { key: k, .. }
                                if k == key
                        ),
                        "{at}: validation does not take `{key}`: {problem:?}\n{text}"
                    );
                }
            }
            let (text, line) = with_line(template, "zz_unlisted", "zz_unlisted: 1");
            assert!(
                problems_on(&text, line).iter().any(
                    |p| matches!(p, ErrorKind::UnknownKey { key, .. } if key == "zz_unlisted")
                ),
                "{at}: a key the schema does not list is not refused:\n{text}"
            );
            if let Some(prefix) = section.free_prefix {
                assert!(
                    schema
                        .pointer(&format!("{at}/patternProperties/^{prefix}"))
                        .is_some(),
                    "{at}: the schema does not free `{prefix}` keys"
                );
                let (text, line) = with_line(template, "", &format!("{prefix}zz: {{ \"?\": [] }}"));
                assert_eq!(problems_on(&text, line), Vec::new(), "{at}:\n{text}");
            }
        }
    }
}

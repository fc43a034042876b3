//! A JSON Schema of `layercake.yaml`, for editors (`# yaml-language-server: $schema=...`) and
//! `layercake schema`. It describes shapes; the parser remains the authority on values (paths
//! inside the context, declared args, cross-service references).

use serde_json::{Value, json};

/// The JSON Schema (draft 2020-12) of the spec.
pub fn json_schema() -> Value {
    let string_list = json!({ "type": "array", "items": { "type": "string" } });
    let scalar = json!({ "type": ["string", "number", "boolean"] });
    let string_map = json!({ "type": "object", "additionalProperties": scalar });
    let command = json!({
        "description": "A list (exec form) or a string (run with /bin/sh -c).",
        "oneOf": [
            { "type": "string", "minLength": 1 },
            { "type": "array", "minItems": 1, "items": scalar }
        ]
    });
    let version = json!({
        "description": "Quoted digits and dots: \"3\", \"3.11\", \"3.11.9\".",
        "type": "string",
        "pattern": "^[0-9]+(\\.[0-9]+){0,2}$"
    });
    let duration = json!({
        "description": "Go-style duration: 1h2m3s, 90s, 1.5s, 500ms.",
        "type": "string",
        "pattern": "^\\+?(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$"
    });
    let port = json!({ "type": "integer", "minimum": 1, "maximum": 65535 });
    let relative = json!({ "type": "string", "minLength": 1, "pattern": "^[^/]" });
    let absolute = json!({ "type": "string", "pattern": "^/" });

    let python = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["version"],
        "properties": {
            "version": version,
            "image": { "type": "string", "description": "Runtime base; default python:<version>-slim." },
            "builder_image": { "type": "string", "description": "Wheels-stage base; default: image." },
            "requirements": { "oneOf": [relative, { "type": "array", "items": relative }] },
            "pip_flags": string_list,
            "pip_env": string_map,
            "packages": {
                "type": "object",
                "additionalProperties": false,
                "properties": { "build": string_list, "runtime": string_list, "pip": string_list }
            },
            "build_steps": { "type": "array", "items": command }
        }
    });
    let node = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["version"],
        "properties": {
            "version": version,
            "image": { "type": "string", "description": "Build base; default node:<version>." },
            "install": { "enum": ["ci", "install"] },
            "install_flags": string_list,
            "npmrc": { "type": "boolean" },
            "script": { "type": "string", "minLength": 1 },
            "output": relative,
            "env": string_map
        }
    });
    let serve = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["nginx"],
        "properties": {
            "nginx": {
                "type": ["object", "null"],
                "additionalProperties": false,
                "properties": {
                    "image": { "type": "string" },
                    "spa": { "type": "boolean" },
                    "config": relative
                }
            }
        }
    });
    let healthcheck = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "http": { "type": "string", "pattern": "^/" },
            "command": command,
            "none": { "const": true },
            "port": port,
            "interval": duration,
            "timeout": duration,
            "start_period": duration,
            "retries": { "type": "integer", "minimum": 0 }
        },
        "oneOf": [
            { "required": ["http"] },
            { "required": ["command"] },
            { "required": ["none"] }
        ]
    });
    let user = json!({
        "oneOf": [
            { "type": "string", "description": "A user name, or \"root\" to opt out." },
            {
                "type": "object",
                "additionalProperties": false,
                "required": ["name"],
                "properties": {
                    "name": { "type": "string" },
                    "uid": { "type": "integer", "minimum": 1 },
                    "gid": { "type": "integer", "minimum": 1 }
                }
            }
        ]
    });
    let secret = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["id"],
        "properties": {
            "id": { "type": "string", "pattern": "^[A-Za-z0-9_.-]+$" },
            "env": { "type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$" },
            "target": absolute,
            "required": { "type": "boolean" },
            "rebuild_on_change": { "type": "boolean" }
        },
        "not": { "required": ["env", "target"] }
    });
    let asset = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["from", "to"],
        "properties": { "from": { "type": "string" }, "to": relative }
    });
    let service = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "description": { "type": "string" },
            "path": relative,
            "include": { "type": "array", "items": relative },
            "exclude": string_list,
            "python": python,
            "node": node,
            "serve": serve,
            "assets": { "type": "array", "items": asset },
            "command": command,
            "entrypoint": command,
            "workdir": absolute,
            "port": port,
            "env": string_map,
            "user": user,
            "healthcheck": healthcheck,
            "volumes": { "type": "array", "items": absolute },
            "labels": string_map,
            "stop_signal": { "type": "string" },
            "secrets": { "type": "array", "items": secret },
            "ssh": { "type": "boolean" }
        },
        "oneOf": [{ "required": ["python"] }, { "required": ["node"] }]
    });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "layercake.yaml",
        "type": "object",
        "additionalProperties": false,
        "required": ["services"],
        "patternProperties": { "^x-": {} },
        "properties": {
            "default": { "type": "string" },
            "args": {
                "type": "object",
                "propertyNames": { "pattern": "^[A-Za-z_][A-Za-z0-9_]*$" },
                "additionalProperties": { "type": ["string", "number", "boolean", "null"] }
            },
            "services": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": { "pattern": "^[a-z][a-z0-9_-]{0,62}$" },
                "additionalProperties": service
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::keys;

    fn property_names(value: &Value) -> Vec<String> {
        let mut names: Vec<String> = value["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        names.sort();
        names
    }

    /// The schema and the parser must accept the same keys.
    #[test]
    fn schema_keys_match_the_parser() {
        let schema = json_schema();
        assert_eq!(property_names(&schema), sorted(keys::TOP));
        let service = &schema["properties"]["services"]["additionalProperties"];
        assert_eq!(property_names(service), sorted(keys::SERVICE));
        let props = &service["properties"];
        assert_eq!(property_names(&props["python"]), sorted(keys::PYTHON));
        assert_eq!(
            property_names(&props["python"]["properties"]["packages"]),
            sorted(keys::PACKAGES)
        );
        assert_eq!(property_names(&props["node"]), sorted(keys::NODE));
        assert_eq!(property_names(&props["serve"]), sorted(keys::SERVE));
        assert_eq!(
            property_names(&props["serve"]["properties"]["nginx"]),
            sorted(keys::NGINX)
        );
        assert_eq!(
            property_names(&props["assets"]["items"]),
            sorted(keys::ASSET)
        );
        assert_eq!(
            property_names(&props["user"]["oneOf"][1]),
            sorted(keys::USER)
        );
        assert_eq!(
            property_names(&props["healthcheck"]),
            sorted(keys::HEALTHCHECK)
        );
        assert_eq!(
            property_names(&props["secrets"]["items"]),
            sorted(keys::SECRET)
        );
    }
}

//! YAML text → a small tree of spanned nodes. Validation works on this tree rather than on
//! derived serde structs so that every message (unknown keys, wrong types, duplicates) is ours
//! and every node, keys included, knows where it is.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Options};
use std::fmt;

use crate::location::Location;

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub location: Location,
    /// How many characters to underline in an error about this node.
    pub width: usize,
    /// The scalar exactly as written (plain scalars only; quoted strings come as `Str`).
    pub raw: Option<String>,
    pub value: Value,
}

#[derive(Debug, Clone)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// What went wrong in the YAML layer, before our own validation.
pub(crate) struct YamlError {
    pub message: String,
    pub location: Option<Location>,
}

pub(crate) fn load(text: &str) -> Result<Node, YamlError> {
    let mut options = Options::default();
    // YAML 1.2 core: `yes`, `on`, `y` stay strings.
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    options.underscored_numbers_as_strings = true;
    options.reject_unsupported_tags = true;
    // Duplicates reach our visitor so we can name both places.
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    // We render snippets ourselves, the same way for YAML and validation errors.
    options.with_snippet = false;
    options.budget = Some(budget());
    let raw = serde_saphyr::from_str_with_options::<serde_saphyr::Spanned<RawValue>>(text, options)
        .map_err(|error| {
            let location = error.location().and_then(convert_location);
            let mut message = error.to_string();
            if let Some(at) = location {
                let suffix = format!(" at line {}, column {}", at.line, at.column);
                if let Some(stripped) = message.strip_suffix(&suffix) {
                    message = stripped.to_owned();
                }
            }
            YamlError {
                message: plain_message(message, text.contains('&')),
                location,
            }
        })?;
    Ok(to_node(raw, text))
}

/// A real spec has a few hundred nodes, a handful of levels and rarely an alias; these limits
/// are far above that yet stop alias bombs and deep nesting within milliseconds, before they
/// cost memory or stack.
const MAX_NODES: usize = 20_000;
const MAX_ALIASES: usize = 1_000;
const MAX_DEPTH: usize = 32;

fn budget() -> serde_saphyr::budget::Budget {
    let mut budget = serde_saphyr::budget::Budget::default();
    budget.max_nodes = MAX_NODES;
    budget.max_aliases = MAX_ALIASES;
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    budget.max_events = 4 * MAX_NODES;
    budget.max_recorded_anchor_events = 4 * MAX_NODES;
    budget
}

/// Rewords the library's messages that speak of its own API rather than of the YAML.
fn plain_message(message: String, has_anchors: bool) -> String {
    if let Some(breach) = message.strip_prefix("budget breached: ") {
        budget_message(breach, has_anchors)
    } else if message.starts_with("recursion limit exceeded") {
        format!("the YAML nests deeper than {MAX_DEPTH} levels")
    } else if message.starts_with("multiple YAML documents") {
        "the spec must be one YAML document (remove the `---` separator)".to_owned()
    } else if message.starts_with("recursive references") {
        "an alias refers to the node it is inside".to_owned()
    } else {
        message
    }
}

/// The budget errors name a Rust enum variant (`Nodes { nodes: 20001 }`); say it in words.
/// "Alias bomb" only when the spec has anchors (`&name`): without them it has no aliases.
fn budget_message(breach: &str, has_anchors: bool) -> String {
    let limit = |what: &str, limit: usize| {
        let bomb = if has_anchors {
            "; is this an alias bomb?"
        } else {
            ""
        };
        format!("the spec has more than {limit} {what}{bomb}")
    };
    if breach.starts_with("Depth") || breach.starts_with("FlowNesting") {
        format!("the YAML nests deeper than {MAX_DEPTH} levels")
    } else if breach.starts_with("Nodes") || breach.starts_with("Events") {
        let what = if has_anchors {
            "values (counting every alias expanded)"
        } else {
            "values"
        };
        limit(what, MAX_NODES)
    } else if breach.starts_with("Aliases") || breach.starts_with("AliasAnchorRatio") {
        limit("aliases (`*name`)", MAX_ALIASES)
    } else if breach.starts_with("RecordedAnchor") {
        limit("values inside anchors", 4 * MAX_NODES)
    } else {
        let kind = breach.split([' ', '{']).next().unwrap_or(breach);
        format!("the spec exceeds a YAML safety limit ({kind})")
    }
}

fn convert_location(location: serde_saphyr::Location) -> Option<Location> {
    let line = u32::try_from(location.line()).ok()?;
    let column = u32::try_from(location.column()).ok()?;
    (line > 0).then_some(Location::new(line, column.max(1)))
}

fn to_node(spanned: serde_saphyr::Spanned<RawValue>, text: &str) -> Node {
    let location = convert_location(spanned.referenced).unwrap_or(Location::new(1, 1));
    let value = match spanned.value {
        RawValue::Null => Value::Null,
        RawValue::Bool(b) => Value::Bool(b),
        RawValue::Int(i) => Value::Int(i),
        RawValue::Float(f) => Value::Float(f),
        RawValue::Str(s) => Value::Str(s),
        RawValue::Seq(items) => Value::Seq(items.into_iter().map(|i| to_node(i, text)).collect()),
        RawValue::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (to_node(k, text), to_node(v, text)))
                .collect(),
        ),
    };
    let raw = match value {
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
            // The defining site, so an alias yields the anchored scalar's text.
            let span = spanned.defined.span();
            span.byte_offset()
                .zip(span.byte_len())
                .and_then(|(start, len)| {
                    let start = usize::try_from(start).ok()?;
                    let end = start.checked_add(usize::try_from(len).ok()?)?;
                    text.get(start..end)
                })
                .map(|s| s.trim().to_owned())
        }
        _ => None,
    };
    let width = match value {
        Value::Seq(_) | Value::Map(_) => 1,
        _ => usize::try_from(spanned.referenced.span().len()).unwrap_or(1),
    };
    Node {
        location,
        width,
        raw,
        value,
    }
}

/// The serde-facing twin of [`Value`]; children keep saphyr's spans until [`to_node`].
enum RawValue {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<serde_saphyr::Spanned<RawValue>>),
    Map(
        Vec<(
            serde_saphyr::Spanned<RawValue>,
            serde_saphyr::Spanned<RawValue>,
        )>,
    ),
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawValueVisitor)
    }
}

struct RawValueVisitor;

impl<'de> Visitor<'de> for RawValueVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Int(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        Ok(RawValue::Int(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawValue, E> {
        Ok(RawValue::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawValue, E> {
        Ok(i128::try_from(v).map_or(RawValue::Float(v as f64), RawValue::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawValue, E> {
        Ok(RawValue::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::Str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawValue, D::Error> {
        RawValue::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawValue::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(RawValue::Map(entries))
    }
}

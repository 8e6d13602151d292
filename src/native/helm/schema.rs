//! `values.schema.json` validation (`pkg/chart/common/util/jsonschema.go`) with the
//! `jsonschema` crate; messages in the shape Helm's validator (santhosh-tekuri/jsonschema
//! v6) prints them: `- at '/path': got string, want integer`. Remote `$ref`s are not
//! fetched (the crate is built without its resolvers).

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value as Json;

use crate::template::{Map, Value};

use super::render::RChart;

/// `ValidateAgainstSchema`: the chart's schema and each subchart's, against their values.
pub fn validate_chart(c: &RChart, vals: &Map) -> Result<(), String> {
    let mut sb = String::new();
    if let Some(schema) = &c.schema {
        if let Err(e) = validate_single(vals, schema) {
            sb.push_str(&format!("{}:\n{e}", c.meta.name));
        }
    }
    for d in &c.deps {
        match vals.get(&d.meta.name) {
            None | Some(Value::Nil) => continue,
            Some(Value::Map(m)) => {
                if let Err(e) = validate_chart(d, m) {
                    sb.push_str(&e);
                }
            }
            Some(other) => sb.push_str(&format!(
                "{}:\ninvalid type for values: expected object (map), got {}\n",
                d.meta.name,
                other.go_type()
            )),
        }
    }
    if sb.is_empty() {
        Ok(())
    } else {
        Err(sb)
    }
}

fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn num(v: &Json) -> String {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        Some(f) => format!("{f}"),
        None => v.to_string(),
    }
}

fn quoted(v: &Json) -> String {
    match v {
        Json::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

/// One schema against one chart's values.
pub fn validate_single(vals: &Map, schema: &[u8]) -> Result<(), String> {
    let schema: Json = serde_json::from_slice(schema)
        .map_err(|e| format!("failed to parse values.schema.json: {e}"))?;
    let validator = jsonschema::validator_for(&schema).map_err(|e| e.to_string())?;
    let instance: Json = serde_json::from_str(
        &crate::template::value_to_json(&Value::Map(vals.clone().into()))
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let mut lines: Vec<(String, String)> = Vec::new();
    for e in validator.iter_errors(&instance) {
        let path = e.instance_path().as_str().to_string();
        let inst = e.instance().clone().into_owned();
        let msg = match e.kind() {
            ValidationErrorKind::Type { kind } => {
                let want = match kind {
                    TypeKind::Single(t) => t.to_string(),
                    TypeKind::Multiple(ts) => ts
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
                format!("got {}, want {want}", json_type(&inst))
            }
            ValidationErrorKind::Required { property } => {
                format!("missing property {}", quoted(property))
            }
            ValidationErrorKind::Minimum { limit } => {
                format!("minimum: got {}, want {}", num(&inst), num(limit))
            }
            ValidationErrorKind::Maximum { limit } => {
                format!("maximum: got {}, want {}", num(&inst), num(limit))
            }
            ValidationErrorKind::ExclusiveMinimum { limit } => {
                format!("exclusiveMinimum: got {}, want {}", num(&inst), num(limit))
            }
            ValidationErrorKind::ExclusiveMaximum { limit } => {
                format!("exclusiveMaximum: got {}, want {}", num(&inst), num(limit))
            }
            ValidationErrorKind::MinLength { limit } => format!(
                "minLength: got {}, want {limit}",
                inst.as_str().map(|s| s.chars().count()).unwrap_or(0)
            ),
            ValidationErrorKind::MaxLength { limit } => format!(
                "maxLength: got {}, want {limit}",
                inst.as_str().map(|s| s.chars().count()).unwrap_or(0)
            ),
            ValidationErrorKind::MinItems { limit } => format!(
                "minItems: got {}, want {limit}",
                inst.as_array().map(Vec::len).unwrap_or(0)
            ),
            ValidationErrorKind::MaxItems { limit } => format!(
                "maxItems: got {}, want {limit}",
                inst.as_array().map(Vec::len).unwrap_or(0)
            ),
            ValidationErrorKind::Enum { options } => format!(
                "value must be one of {}",
                options
                    .as_array()
                    .map(|a| a.iter().map(quoted).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default()
            ),
            ValidationErrorKind::Constant { expected_value } => {
                format!("value must be {}", quoted(expected_value))
            }
            ValidationErrorKind::Pattern { pattern } => {
                format!("{} does not match pattern '{pattern}'", quoted(&inst))
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let names: Vec<String> = unexpected.iter().map(|u| format!("'{u}'")).collect();
                format!("additional properties {} not allowed", names.join(", "))
            }
            ValidationErrorKind::FalseSchema => "false schema".into(),
            _ => e.to_string(),
        };
        lines.push((path, msg));
    }
    if lines.is_empty() {
        return Ok(());
    }
    // santhosh-tekuri/jsonschema stops at a type mismatch: no other keyword of that
    // location is reported (a null where an enum of strings is wanted: the type only)
    let typed: Vec<String> = lines
        .iter()
        .filter(|(_, m)| m.starts_with("got "))
        .map(|(p, _)| p.clone())
        .collect();
    lines.retain(|(p, m)| m.starts_with("got ") || !typed.contains(p));
    // Helm's validator reports in its own traversal order; ours is sorted by path
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    for (p, m) in lines {
        out.push_str(&format!("- at '{p}': {m}\n"));
    }
    Ok(()).and(Err(out))
}

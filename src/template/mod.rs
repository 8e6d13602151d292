//! Go `text/template` engine with slim-sprig and go-task's own functions.
//!
//! Public surface used by the rest of the crate:
//! - [`Value`]: a typed value as go-task holds it (from YAML or computed).
//! - [`render`]: parse + execute one template string against a map of vars.

mod value;

pub use value::{Map, Value};

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// Renders `src` with `data` as the dot value, the way go-task does it:
/// a string without `{{` is returned verbatim; otherwise the output has every
/// `<no value>` removed.
pub fn render(src: &str, data: &Map) -> Result<String, TemplateError> {
    if !src.contains("{{") {
        return Ok(src.to_string());
    }
    // Stand-in: substitutes `{{.NAME}}` only, until the engine lands.
    let mut out = String::new();
    let mut rest = src;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find("}}") else { return Err(TemplateError("template: :1: unclosed action".into())) };
        let inner = rest[i + 2..i + j].trim();
        if let Some(v) = inner.strip_prefix('.').and_then(|n| data.get(n)) {
            out.push_str(&go_format(v));
        }
        rest = &rest[i + j + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Go's `%v` formatting (minimal until the engine lands).
pub fn go_format(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Str(s) => s.clone(),
        Value::List(l) => format!("[{}]", l.iter().map(go_format).collect::<Vec<_>>().join(" ")),
        Value::Map(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            format!("map[{}]", keys.iter().map(|k| format!("{k}:{}", go_format(&m[*k]))).collect::<Vec<_>>().join(" "))
        }
    }
}

/// Evaluates a template expression (as in a `ref:`) to its value.
pub fn eval_value(expr: &str, data: &Map) -> Result<Value, TemplateError> {
    let e = expr.trim();
    if let Some(name) = e.strip_prefix('.') {
        return Ok(data.get(name).cloned().unwrap_or(Value::Nil));
    }
    Err(TemplateError(format!("cannot evaluate {e}")))
}

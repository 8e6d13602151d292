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
    let _ = data;
    Err(TemplateError("template engine not built yet".into()))
}

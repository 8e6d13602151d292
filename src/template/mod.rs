//! Go `text/template` engine with slim-sprig and go-task's own functions.
//!
//! Public surface used by the rest of the crate:
//! - [`Value`]: a typed value as go-task holds it (from YAML or computed).
//! - [`render`]: parse + execute one template string against a map of vars,
//!   with go-task's post-processing (`<no value>` removed).
//! - [`Template`]: a parsed template that can be executed many times.
//! - [`go_format`]: Go's `%v` of a value.
//! - [`parse_yaml_value`]: YAML text to a [`Value`] with go-yaml v3 typing.
//!
//! Go strings are byte strings. Values keep valid UTF-8 as `Value::Str` and
//! fall back to `Value::Bytes` only when an operation produces invalid UTF-8
//! (e.g. `trunc` in the middle of a character); [`render_bytes`] returns the
//! exact bytes, [`render`] converts them lossily.

mod exec;
mod funcs;
mod gofmt;
mod gotime;
mod lex;
mod parse;
pub(crate) mod patch;
mod strconv;
mod val;
mod value;
mod yaml_emit;
mod yaml_value;

use std::collections::HashMap;

pub use funcs::helm::{WARN_END as HELM_WARN_END, WARN_START as HELM_WARN_START};
pub use gotime::{parse_duration as parse_go_duration, set_fixed_now, GoTime, Loc};
pub use value::{go_format, Kind, Map, Value};
pub use yaml_value::parse_yaml_value;

use thiserror::Error;

/// A template parse or execution error. Its text is Go's error message,
/// e.g. `template: :1: function "nosuchfunc" not defined`.
#[derive(Debug, Error, Clone, PartialEq)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// A parsed template (with its `define`d sub-templates).
#[derive(Debug)]
pub struct Template {
    name: String,
    src: String,
    trees: HashMap<String, parse::List>,
    /// Helm mode: Helm's function map, `include`/`tpl`, `.Files`/`.Capabilities` methods.
    helm: bool,
    /// For a set of files (Helm): each file's parse name and text…
    files: Vec<(String, String)>,
    /// …and the file each tree came from.
    origins: HashMap<String, usize>,
}

impl Template {
    /// Parses `src` as an unnamed template (as go-task does).
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        Template::parse_named("", src)
    }

    /// Parses `src` under a template name (it appears in error messages).
    pub fn parse_named(name: &str, src: &str) -> Result<Template, TemplateError> {
        let set = parse::parse(name, src).map_err(TemplateError)?;
        Ok(Template {
            name: name.to_string(),
            src: src.to_string(),
            trees: set.trees,
            helm: false,
            files: Vec::new(),
            origins: HashMap::new(),
        })
    }

    /// An empty Helm template set (Go's `template.New("gotpl")` with Helm's functions).
    pub fn new_helm_set() -> Template {
        Template {
            name: "gotpl".into(),
            src: String::new(),
            trees: HashMap::new(),
            helm: true,
            files: Vec::new(),
            origins: HashMap::new(),
        }
    }

    /// Helm's `t.New(name).Parse(src)`: adds the file's trees to the set; a later
    /// definition replaces an earlier one unless it is empty.
    pub fn add_file(&mut self, name: &str, src: &str) -> Result<(), TemplateError> {
        let set = parse::parse_flavor(name, src, self.helm).map_err(TemplateError)?;
        let idx = self.files.len();
        self.files.push((name.to_string(), src.to_string()));
        for (n, tree) in set.trees {
            if parse::is_empty_tree(&tree) && self.trees.contains_key(&n) {
                continue;
            }
            self.trees.insert(n.clone(), tree);
            self.origins.insert(n, idx);
        }
        Ok(())
    }

    /// `ExecuteTemplate(name, data)` on a set.
    pub fn execute_template(&self, name: &str, data: &Map) -> Result<Vec<u8>, TemplateError> {
        let mut out = Vec::new();
        let Some(root) = self.trees.get(name) else {
            return Err(TemplateError(format!(
                "template: no template {} associated with template {}",
                strconv::quote(name),
                strconv::quote(&self.name)
            )));
        };
        let mut st = exec::State::new(self, data, Some(&mut out));
        st.enter(name);
        st.run(root, val::Val::Data(data)).map_err(TemplateError)?;
        Ok(out)
    }

    /// `execute_template` with changes to maps (`set`, `unset`, `merge`) kept in `patches`
    /// across executions over the same data (Helm's templates share their values).
    pub(crate) fn execute_template_patched<'a>(
        &self,
        name: &str,
        data: &'a Map,
        patches: &mut patch::Patches<'a>,
    ) -> Result<Vec<u8>, TemplateError> {
        let mut out = Vec::new();
        let Some(root) = self.trees.get(name) else {
            return Err(TemplateError(format!(
                "template: no template {} associated with template {}",
                strconv::quote(name),
                strconv::quote(&self.name)
            )));
        };
        let mut st = exec::State::new(self, data, Some(&mut out));
        st.swap_patches(patches);
        st.enter(name);
        let r = st.run(root, val::Val::Data(data));
        st.swap_patches(patches);
        drop(st);
        r.map_err(TemplateError)?;
        Ok(out)
    }

    /// Executes the template with `data` as dot; returns the raw bytes.
    pub fn execute_bytes(&self, data: &Map) -> Result<Vec<u8>, TemplateError> {
        let mut out = Vec::with_capacity(self.src.len() + 16);
        let root = self.trees.get(&self.name).ok_or_else(|| {
            TemplateError(format!(
                "template: {}: {} is an incomplete or empty template",
                self.name,
                strconv::quote(&self.name)
            ))
        })?;
        let mut st = exec::State::new(self, data, Some(&mut out));
        st.run(root, val::Val::Data(data)).map_err(TemplateError)?;
        Ok(out)
    }

    /// Executes the template with `data` as dot. Invalid UTF-8 in the output
    /// (only possible from byte-level string functions) is replaced.
    pub fn execute(&self, data: &Map) -> Result<String, TemplateError> {
        Ok(bytes_to_string(self.execute_bytes(data)?))
    }

    /// Executes and applies go-task's post-processing (every `<no value>`
    /// removed), like [`render`] for a template parsed once.
    pub fn render(&self, data: &Map) -> Result<String, TemplateError> {
        Ok(bytes_to_string(strip_no_value(self.execute_bytes(data)?)))
    }

    /// Go-task's `Resolve`: the value of a template made of one action
    /// (used for `ref:` variables). `Value::Nil` when the action yields none.
    pub fn resolve(&self, data: &Map) -> Result<Value, TemplateError> {
        let root = self
            .trees
            .get(&self.name)
            .map(|r| r.as_slice())
            .unwrap_or(&[]);
        let root_list: &parse::List = match self.trees.get(&self.name) {
            Some(r) => r,
            None => return Ok(Value::Nil),
        };
        let _ = root;
        let mut st = exec::State::new(self, data, None);
        let v = st
            .resolve(root_list, val::Val::Data(data))
            .map_err(TemplateError)?;
        Ok(v.to_value())
    }
}

fn bytes_to_string(b: Vec<u8>) -> String {
    match String::from_utf8(b) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Renders `src` with `data` as the dot value, the way go-task does it:
/// a string without `{{` is returned verbatim; otherwise the output has every
/// `<no value>` removed.
pub fn render(src: &str, data: &Map) -> Result<String, TemplateError> {
    if !src.contains("{{") {
        return Ok(src.to_string());
    }
    render_bytes(src, data).map(bytes_to_string)
}

/// [`render`] returning the exact bytes (Go strings may hold invalid UTF-8).
pub fn render_bytes(src: &str, data: &Map) -> Result<Vec<u8>, TemplateError> {
    if !src.contains("{{") {
        return Ok(src.as_bytes().to_vec());
    }
    let t = Template::parse(src)?;
    let out = t.execute_bytes(data)?;
    Ok(strip_no_value(out))
}

/// Resolves a `ref:` expression (`.FOO`, `index .LIST 0`, ...) to a value,
/// like go-task's `ResolveRef`: `.` is the data itself.
pub fn resolve_ref(expr: &str, data: &Map) -> Result<Value, TemplateError> {
    if expr == "." {
        return Ok(Value::Map(data.clone().into()));
    }
    let t = Template::parse_named("resolver", &format!("{{{{{}}}}}", expr))?;
    t.resolve(data)
}

/// Go's `json.Marshal` of a value (HTML-escaped, as `toJson`).
pub fn value_to_json(v: &Value) -> Result<String, String> {
    funcs::json::to_json(v, true, false)
}

/// `json.Unmarshal` into `interface{}` (numbers are float64).
pub fn json_to_value(text: &str) -> Result<Value, String> {
    funcs::json::from_json(text)
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    strconv::quote(s)
}

/// go-task blanks every `<no value>` in a rendered string.
pub fn strip_no_value(out: Vec<u8>) -> Vec<u8> {
    const NV: &[u8] = b"<no value>";
    if !out.windows(NV.len()).any(|w| w == NV) {
        return out;
    }
    let mut res = Vec::with_capacity(out.len());
    let mut i = 0;
    while i < out.len() {
        if out[i..].starts_with(NV) {
            i += NV.len();
        } else {
            res.push(out[i]);
            i += 1;
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parens(n: usize) -> String {
        format!("{{{{{}1{}}}}}", "(".repeat(n), ")".repeat(n))
    }

    #[test]
    fn nesting_up_to_gos_limit_works_on_a_small_stack_and_beyond_is_an_error() {
        // tokio and `std::thread` workers have 2 MiB stacks; so does this thread
        let r = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let ok = render(&parens(parse::MAX_PAREN_DEPTH), &Map::new()).unwrap();
                let ifs = format!("{}x{}", "{{if 1}}".repeat(20_000), "{{end}}".repeat(20_000));
                let deep_if = render(&ifs, &Map::new()).unwrap();
                let err = render(&parens(parse::MAX_PAREN_DEPTH + 1), &Map::new())
                    .unwrap_err()
                    .to_string();
                (ok, deep_if, err)
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(r.0, "1");
        assert_eq!(r.1, "x");
        assert_eq!(r.2, "template: :1: max expression depth exceeded");
    }

    fn data() -> Map {
        let mut m = Map::new();
        m.insert("S".into(), Value::str("hello"));
        m.insert("I".into(), Value::Int(42));
        m.insert("N".into(), Value::Nil);
        m.insert(
            "L".into(),
            Value::List(vec![Value::Int(1), Value::str("two"), Value::Nil]),
        );
        let mut inner = Map::new();
        inner.insert("a".into(), Value::Int(1));
        m.insert("M".into(), Value::Map(inner.into()));
        m
    }

    fn r(src: &str) -> Result<String, String> {
        render(src, &data()).map_err(|e| e.0)
    }

    #[test]
    fn text_without_actions_is_verbatim() {
        assert_eq!(r("a<no value>b").unwrap(), "a<no value>b");
        assert_eq!(r("x{{1}} <no value>").unwrap(), "x1 ");
        assert_eq!(r("{{\"<no \"}}value>").unwrap(), "");
    }

    #[test]
    fn missing_and_nil() {
        assert_eq!(r("[{{.NOPE}}|{{.N}}|{{index .L 2}}]").unwrap(), "[||]");
        assert_eq!(
            r("{{print .NOPE}}|{{printf \"%s\" .N}}").unwrap(),
            "<nil>|%!s(<nil>)"
        );
        assert_eq!(
            r("{{.N.x}}").unwrap_err(),
            "template: :1:4: executing \"\" at <.N.x>: nil pointer evaluating interface {}.x"
        );
        assert_eq!(
            r("{{len .NOPE}}").unwrap_err(),
            "template: :1:2: executing \"\" at <len .NOPE>: error calling len: reflect: call of reflect.Value.Type on zero Value"
        );
    }

    #[test]
    fn parse_errors_carry_lines() {
        assert_eq!(
            r("a\n{{nosuch}}").unwrap_err(),
            "template: :2: function \"nosuch\" not defined"
        );
        assert_eq!(
            r("{{if true}}x").unwrap_err(),
            "template: :1: unexpected EOF"
        );
        assert_eq!(
            r("{{3-}}").unwrap_err(),
            "template: :1: bad number syntax: \"3-\""
        );
        assert_eq!(
            r("{{break}}").unwrap_err(),
            "template: :1: {{break}} outside {{range}}"
        );
    }

    #[test]
    fn trim_markers() {
        assert_eq!(r("a  {{- .S -}}  b").unwrap(), "ahellob");
        assert_eq!(r("{{-3}}").unwrap(), "-3");
        assert_eq!(r("a {{- /* c */ -}} b").unwrap(), "ab");
    }

    #[test]
    fn control_flow() {
        assert_eq!(
            r("{{range $i, $v := .L}}{{$i}}={{$v}};{{end}}").unwrap(),
            "0=1;1=two;2=;"
        );
        assert_eq!(
            r("{{range 3}}{{if eq . 1}}{{continue}}{{end}}{{.}}{{end}}").unwrap(),
            "02"
        );
        assert_eq!(
            r("{{with .E}}a{{else with .S}}{{.}}{{end}}").unwrap(),
            "hello"
        );
        assert_eq!(
            r("{{define \"T\"}}[{{.}}]{{end}}{{template \"T\" .I}}").unwrap(),
            "[42]"
        );
        assert_eq!(
            r("{{range .S}}{{end}}").unwrap_err(),
            "template: :1:8: executing \"\" at <.S>: range can't iterate over hello"
        );
    }

    #[test]
    fn maps_are_references() {
        assert_eq!(
            r("{{$d := dict}}{{$_ := set $d \"k\" 1}}{{$d}}").unwrap(),
            "map[k:1]"
        );
        assert_eq!(r("{{$_ := set .M \"z\" 2}}{{.M}}").unwrap(), "map[a:1 z:2]");
        // The caller's data is not modified.
        let d = data();
        render("{{$_ := set .M \"z\" 2}}", &d).unwrap();
        assert_eq!(go_format(&d["M"]), "map[a:1]");
    }

    #[test]
    fn cached_template_and_resolve() {
        let t = Template::parse("{{.S}}{{.NOPE}}").unwrap();
        assert_eq!(t.execute(&data()).unwrap(), "hello<no value>");
        assert_eq!(t.render(&data()).unwrap(), "hello");
        assert_eq!(resolve_ref(".L", &data()).unwrap(), data()["L"].clone());
        assert_eq!(
            resolve_ref("index .L 1", &data()).unwrap(),
            Value::str("two")
        );
        assert_eq!(resolve_ref(".NOPE", &data()).unwrap(), Value::Nil);
    }

    #[test]
    fn bytes_survive() {
        assert_eq!(
            render_bytes("{{trunc 2 \"h\u{e9}llo\"}}", &data()).unwrap(),
            vec![0x68, 0xc3]
        );
        assert_eq!(
            render("{{trunc 2 \"h\u{e9}llo\"}}", &data()).unwrap(),
            "h\u{fffd}"
        );
    }

    #[test]
    fn deep_recursion_is_an_error() {
        let e = r("{{define \"T\"}}{{template \"T\"}}{{end}}{{template \"T\"}}").unwrap_err();
        assert!(
            e.ends_with("exceeded maximum template depth (100000)"),
            "{}",
            e
        );
    }
}

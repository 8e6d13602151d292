//! Chart values as Helm holds them: YAML read through sigs.k8s.io/yaml (so every number
//! is a float64), `toYaml`, Helm's coalescing (`pkg/chart/common/util/coalesce.go`) and
//! the `--set` family of flags (`pkg/strvals`).

use crate::template::{Map, Value};

use super::yaml::{self, Yaml};

/// A YAML value as `sigs.k8s.io/yaml.Unmarshal` into `interface{}` gives it (YAML →
/// JSON → `encoding/json`): numbers are float64, keys are strings.
pub fn from_yaml(y: &Yaml) -> Value {
    match y {
        Yaml::Null => Value::Nil,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Int(i) => Value::Float(*i as f64),
        Yaml::UInt(u) => Value::Float(*u as f64),
        Yaml::Float(f) => Value::Float(*f),
        Yaml::Str(s) => Value::Str(s.clone()),
        Yaml::Seq(l) => Value::List(l.iter().map(from_yaml).collect()),
        Yaml::Map(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(k.key_string(), from_yaml(v));
            }
            Value::Map(out.into())
        }
    }
}

fn err_text(e: yaml::YamlError) -> String {
    format!("error converting YAML to JSON: {e}")
}

/// `yaml.Unmarshal(data, &map[string]any{})`: empty/null documents give an empty map.
pub fn parse_yaml_map(text: &str) -> Result<Map, String> {
    match yaml::parse(text).map_err(err_text)? {
        Yaml::Null => Ok(Map::new()),
        y @ Yaml::Map(_) => match from_yaml(&y) {
            Value::Map(m) => Ok(m.into_inner()),
            _ => Ok(Map::new()),
        },
        other => Err(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&other)
        )),
    }
}

/// `yaml.Unmarshal(data, &[]any{})`.
pub fn parse_yaml_list(text: &str) -> Result<Vec<Value>, String> {
    match yaml::parse(text).map_err(err_text)? {
        Yaml::Null => Ok(vec![]),
        y @ Yaml::Seq(_) => match from_yaml(&y) {
            Value::List(l) => Ok(l),
            _ => Ok(vec![]),
        },
        other => Err(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&other)
        )),
    }
}

fn json_kind(y: &Yaml) -> &'static str {
    match y {
        Yaml::Str(_) => "string",
        Yaml::Bool(_) => "bool",
        Yaml::Seq(_) => "array",
        Yaml::Map(_) => "object",
        _ => "number",
    }
}

/// `sigs.k8s.io/yaml.Marshal`: `encoding/json`, then the JSON read and written by yaml.v2.
pub fn to_yaml(v: &Value) -> Result<String, String> {
    let json = crate::template::value_to_json(v)?;
    let y = yaml::parse(&json).map_err(|e| e.to_string())?;
    Ok(yaml::emit(&y))
}

/// BurntSushi/toml's encoder for the shapes values have (tables of scalars, arrays and
/// sub-tables); keys sorted.
pub fn to_toml(v: &Value) -> Result<String, String> {
    let Value::Map(m) = v else {
        return Err("toml: top-level values must be Go maps or structs".into());
    };
    let mut out = String::new();
    toml_table(&mut out, m, &mut Vec::new());
    Ok(out)
}

fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        crate::template::go_quote(k)
    }
}

fn toml_scalar(v: &Value) -> Option<String> {
    Some(match v {
        Value::Str(s) => crate::template::go_quote(s),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) | Value::Int64(i) => i.to_string(),
        Value::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e17 {
                format!("{f:.1}")
            } else {
                format!("{f}")
            }
        }
        Value::List(l) => {
            let items: Vec<String> = l.iter().filter_map(toml_scalar).collect();
            format!("[{}]", items.join(", "))
        }
        _ => return None,
    })
}

fn toml_table(out: &mut String, m: &Map, path: &mut Vec<String>) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    // keys are indented by the depth of their table, headers by one less
    let indent = "  ".repeat(path.len());
    for k in &keys {
        if matches!(m[*k], Value::Map(_)) {
            continue;
        }
        if let Some(s) = toml_scalar(&m[*k]) {
            out.push_str(&format!("{indent}{} = {}\n", toml_key(k), s));
        }
    }
    for k in &keys {
        if let Value::Map(sub) = &m[*k] {
            path.push(toml_key(k));
            if path.len() == 1 && !out.is_empty() {
                out.push('\n');
            }
            let ind = "  ".repeat(path.len() - 1);
            out.push_str(&format!("{ind}[{}]\n", path.join(".")));
            toml_table(out, sub, path);
            path.pop();
        }
    }
}

// ---- coalescing -------------------------------------------------------------------------

fn is_table(v: &Value) -> bool {
    matches!(v, Value::Map(_))
}

/// `coalesceTablesFullKey` (`merge`: MergeTables, which keeps nulls).
pub fn coalesce_tables(dst: &mut Map, src: &Map, merge: bool) {
    let mut src = src.clone();
    let src_non_nil: std::collections::HashSet<String> = src
        .iter()
        .filter(|(_, v)| !matches!(v, Value::Nil))
        .map(|(k, _)| k.clone())
        .collect();
    for (k, v) in dst.iter() {
        if matches!(v, Value::Nil) {
            src.insert(k.clone(), Value::Nil);
        }
    }
    for (k, v) in src {
        match dst.get_mut(&k) {
            Some(Value::Nil) if !merge && src_non_nil.contains(&k) => {
                dst.shift_remove(&k);
            }
            None => {
                dst.insert(k, v);
            }
            Some(Value::Map(dm)) => {
                if let Value::Map(sm) = &v {
                    coalesce_tables(dm, sm, merge);
                }
            }
            Some(_) => {}
        }
    }
}

fn clean_nil(m: &mut Map) {
    m.retain(|_, v| !matches!(v, Value::Nil));
    for v in m.values_mut() {
        if let Value::Map(sub) = v {
            clean_nil(sub);
        }
    }
}

/// The pieces of a chart coalescing needs.
pub trait ValuesChart {
    fn name(&self) -> &str;
    fn values(&self) -> &Map;
    fn deps(&self) -> Vec<&Self>;
}

/// `CoalesceValues`/`MergeValues`: the chart's defaults under `vals`, recursively for
/// its subcharts, with globals passed down.
pub fn coalesce<C: ValuesChart>(c: &C, vals: &Map, merge: bool) -> Map {
    let mut dest = vals.clone();
    coalesce_rec(c, &mut dest, merge);
    dest
}

fn coalesce_rec<C: ValuesChart>(c: &C, dest: &mut Map, merge: bool) {
    coalesce_values(c, dest, merge);
    for sub in c.deps() {
        let name = sub.name().to_string();
        match dest.get(&name) {
            None => {
                dest.insert(name.clone(), Value::Map(Map::new().into()));
            }
            Some(v) if !is_table(v) => {
                // Helm returns a "type mismatch" error here; keep the value
                continue;
            }
            _ => {}
        }
        let globals = dest.get("global").cloned();
        if let Some(Value::Map(dv)) = dest.get_mut(&name) {
            coalesce_globals(dv, globals.as_ref());
            coalesce_rec(sub, dv, merge);
        }
    }
}

fn coalesce_globals(dest: &mut Map, src_global: Option<&Value>) {
    let mut dg = match dest.get("global") {
        None => Map::new(),
        Some(Value::Map(m)) => (**m).clone(),
        Some(_) => return,
    };
    let sg = match src_global {
        None => Map::new(),
        Some(Value::Map(m)) => (**m).clone(),
        Some(_) => return,
    };
    for (k, v) in sg {
        if let Value::Map(vm) = &v {
            let mut vv = (**vm).clone();
            match dg.get(&k) {
                None => {
                    dg.insert(k, Value::Map(vv.into()));
                }
                Some(Value::Map(dm)) => {
                    coalesce_tables(&mut vv, dm, true);
                    dg.insert(k, Value::Map(vv.into()));
                }
                Some(_) => {}
            }
        } else if matches!(dg.get(&k), Some(Value::Map(_))) {
        } else {
            dg.insert(k, v);
        }
    }
    dest.insert("global".into(), Value::Map(dg.into()));
}

fn coalesce_values<C: ValuesChart>(c: &C, v: &mut Map, merge: bool) {
    let sub_names: Vec<String> = c.deps().iter().map(|d| d.name().to_string()).collect();
    for (key, val) in c.values().clone() {
        match v.get_mut(&key) {
            Some(Value::Nil) if !merge => {
                v.shift_remove(&key);
            }
            Some(Value::Map(dest)) => {
                if let Value::Map(mut src) = val {
                    let m = merge || sub_names.contains(&key);
                    if !m {
                        clean_nil(&mut src);
                    }
                    coalesce_tables(dest, &src, m);
                }
            }
            Some(_) => {}
            None => {
                let mut val = val;
                if !merge {
                    if matches!(val, Value::Nil) {
                        continue;
                    }
                    if let Value::Map(sub) = &mut val {
                        clean_nil(sub);
                    }
                }
                v.insert(key, val);
            }
        }
    }
}

/// `values.Options.MergeValues`' `mergeMaps`: later values override, maps merge.
pub fn merge_maps(a: &mut Map, b: Map) {
    for (k, v) in b {
        if let Value::Map(bm) = v {
            if let Some(Value::Map(am)) = a.get_mut(&k) {
                merge_maps(am, bm.into_inner());
                continue;
            }
            a.insert(k, Value::Map(bm));
        } else {
            a.insert(k, v);
        }
    }
}

/// `Values.Table("a.b.c")`: the map at a dotted path.
pub fn table<'m>(m: &'m Map, path: &str) -> Option<&'m Map> {
    let mut cur = m;
    for part in path.split('.') {
        match cur.get(part) {
            Some(Value::Map(sub)) => cur = sub,
            _ => return None,
        }
    }
    Some(cur)
}

/// `Values.PathValue("a.b.c")`: a non-table value at a dotted path.
pub fn path_value<'m>(m: &'m Map, path: &str) -> Option<&'m Value> {
    let (parent, key) = match path.rsplit_once('.') {
        Some((p, k)) => (table(m, p)?, k),
        None => (m, path),
    };
    match parent.get(key) {
        Some(Value::Map(_)) | None => None,
        Some(v) => Some(v),
    }
}

/// Reads a file of at most `max` bytes (`--values`, `--set-file`): a larger one is an error.
pub fn read_limited(path: &std::path::Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| super::loader::io_msg(&e))?;
    let mut data = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut data)
        .map_err(|e| super::loader::io_msg(&e))?;
    if data.len() as u64 > max {
        return Err(format!("file is larger than the maximum size {max}"));
    }
    Ok(data)
}

// ---- --set ------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
pub enum SetKind {
    Typed,
    String,
    Json,
    File,
}

enum Seg {
    Key(String),
    Index(usize),
}

/// Parses one `--set`-style argument (`a.b=c,d[0]=e`) into `into`.
pub fn parse_set(s: &str, kind: SetKind, into: &mut Map) -> Result<(), String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        // the key path
        let mut segs: Vec<Seg> = Vec::new();
        let mut cur = String::new();
        loop {
            if i >= chars.len() {
                return Err(format!("key {:?} has no value", cur));
            }
            let c = chars[i];
            match c {
                '\\' if i + 1 < chars.len() => {
                    cur.push(chars[i + 1]);
                    i += 2;
                }
                '=' => {
                    if !cur.is_empty() {
                        segs.push(Seg::Key(std::mem::take(&mut cur)));
                    }
                    i += 1;
                    break;
                }
                '.' => {
                    if !cur.is_empty() {
                        segs.push(Seg::Key(std::mem::take(&mut cur)));
                    }
                    i += 1;
                }
                '[' => {
                    if !cur.is_empty() {
                        segs.push(Seg::Key(std::mem::take(&mut cur)));
                    }
                    let end = chars[i..]
                        .iter()
                        .position(|&c| c == ']')
                        .ok_or_else(|| format!("key {:?} has no value", s))?;
                    let idx: String = chars[i + 1..i + end].iter().collect();
                    let n: usize = idx
                        .parse()
                        .map_err(|_| format!("failed to parse index: {idx}"))?;
                    if n > 65536 {
                        return Err(format!(
                            "index of {n} is greater than maximum supported index value of 65536"
                        ));
                    }
                    segs.push(Seg::Index(n));
                    i += end + 1;
                }
                ',' => {
                    return Err(format!("key {:?} has no value (cannot end with ,)", cur));
                }
                _ => {
                    cur.push(c);
                    i += 1;
                }
            }
        }
        if segs.is_empty() {
            return Err(format!("key {:?} has no value", s));
        }
        // the value
        let mut raw = String::new();
        let mut list: Option<Vec<String>> = None;
        if kind != SetKind::Json && chars.get(i) == Some(&'{') {
            let mut items = Vec::new();
            let mut cur = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '}' {
                match chars[i] {
                    '\\' if i + 1 < chars.len() => {
                        cur.push(chars[i + 1]);
                        i += 2;
                        continue;
                    }
                    ',' => items.push(std::mem::take(&mut cur)),
                    c => cur.push(c),
                }
                i += 1;
            }
            items.push(cur);
            i += 1;
            list = Some(items);
        } else if kind == SetKind::Json {
            // a JSON value runs to the end of the argument or the next top-level comma
            let mut depth = 0i32;
            let mut in_str = false;
            while i < chars.len() {
                let c = chars[i];
                if in_str {
                    raw.push(c);
                    if c == '\\' && i + 1 < chars.len() {
                        raw.push(chars[i + 1]);
                        i += 1;
                    } else if c == '"' {
                        in_str = false;
                    }
                } else {
                    match c {
                        '"' => in_str = true,
                        '{' | '[' => depth += 1,
                        '}' | ']' => depth -= 1,
                        ',' if depth == 0 => break,
                        _ => {}
                    }
                    raw.push(c);
                }
                i += 1;
            }
        } else {
            while i < chars.len() && chars[i] != ',' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    raw.push(chars[i + 1]);
                    i += 2;
                    continue;
                }
                raw.push(chars[i]);
                i += 1;
            }
        }
        if chars.get(i) == Some(&',') {
            i += 1;
        }
        let value = match (kind, list) {
            (SetKind::Json, _) => crate::template::json_to_value(&raw)
                .map_err(|e| format!("failed to parse json value: {e}"))?,
            (k, Some(items)) => Value::List(items.iter().map(|x| typed(x, k)).collect()),
            (SetKind::File, None) => {
                let data = read_limited(std::path::Path::new(&raw), super::loader::MAX_FILE_SIZE)
                    .map_err(|e| format!("open {raw}: {e}"))?;
                Value::Str(String::from_utf8_lossy(&data).into_owned())
            }
            (k, None) => typed(&raw, k),
        };
        set_path(into, &segs, value)?;
    }
    Ok(())
}

fn typed(s: &str, kind: SetKind) -> Value {
    if kind == SetKind::String {
        return Value::Str(s.to_string());
    }
    if s.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if s.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if s.eq_ignore_ascii_case("null") {
        return Value::Nil;
    }
    if s == "0" {
        return Value::Int64(0);
    }
    if !s.is_empty() && !s.starts_with('0') {
        if let Ok(i) = s.parse::<i64>() {
            if !s.starts_with('+') {
                return Value::Int64(i);
            }
        }
    }
    Value::Str(s.to_string())
}

fn set_path(m: &mut Map, segs: &[Seg], value: Value) -> Result<(), String> {
    let Seg::Key(k) = &segs[0] else {
        return Err("a list index needs a name".into());
    };
    if segs.len() == 1 {
        m.insert(k.clone(), value);
        return Ok(());
    }
    let slot = m.entry(k.clone()).or_insert(Value::Nil);
    set_in(slot, &segs[1..], value)
}

fn set_in(slot: &mut Value, segs: &[Seg], value: Value) -> Result<(), String> {
    match &segs[0] {
        Seg::Key(_) => {
            if !matches!(slot, Value::Map(_)) {
                *slot = Value::Map(Map::new().into());
            }
            let Value::Map(m) = slot else { unreachable!() };
            set_path(m, segs, value)
        }
        Seg::Index(n) => {
            if !matches!(slot, Value::List(_)) {
                *slot = Value::List(Vec::new());
            }
            let Value::List(l) = slot else { unreachable!() };
            if l.len() <= *n {
                l.resize(*n + 1, Value::Nil);
            }
            if segs.len() == 1 {
                l[*n] = value;
                Ok(())
            } else {
                set_in(&mut l[*n], &segs[1..], value)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_flags() {
        let mut m = Map::new();
        parse_set(
            "a.b=1,c=true,d=x\\,y,e[1]=z,f={p,q},g=0123",
            SetKind::Typed,
            &mut m,
        )
        .unwrap();
        let j = crate::template::value_to_json(&Value::Map(m.into())).unwrap();
        assert_eq!(
            j,
            r#"{"a":{"b":1},"c":true,"d":"x,y","e":[null,"z"],"f":["p","q"],"g":"0123"}"#
        );
        let mut m = Map::new();
        parse_set("a={\"x\":[1,2]},b=3", SetKind::Json, &mut m).unwrap();
        assert_eq!(
            crate::template::value_to_json(&Value::Map(m.into())).unwrap(),
            r#"{"a":{"x":[1,2]},"b":3}"#
        );
    }

    #[test]
    fn yaml_numbers_are_floats() {
        let m = parse_yaml_map("a: 1000000\nb: [1, x]\n").unwrap();
        assert_eq!(m["a"], Value::Float(1e6));
        // encoding/json writes 1e6 as 1000000 (exponents only from 1e21)
        assert_eq!(
            to_yaml(&Value::Map(m.into())).unwrap(),
            "a: 1000000\nb:\n- 1\n- x\n"
        );
    }
}

//! YAML text → [`Value`] with go-yaml v3's typing of `interface{}` targets:
//! plain scalars resolve to int/uint64/float64/bool/nil/time.Time/string,
//! mappings with only string keys become `map[string]interface{}`, others
//! `map[interface{}]interface{}`.

use saphyr_parser::{Event, Parser, ScalarStyle};

use super::gotime::{self, Loc};
use super::strconv as sc;
use super::value::{Map, Value};

/// Result of resolving a scalar the way go-yaml v3 does.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Merge,
    Str,
    Val(Value),
}

/// go-yaml v3 `resolve("", s)` for a plain scalar.
pub(crate) fn resolve_plain(s: &str) -> Resolved {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Val(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Resolved::Val(Value::Bool(false)),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Val(Value::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Val(Value::Float(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Val(Value::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    let c = s.as_bytes()[0];
    match c {
        b'.' => {
            if let Ok(f) = sc::parse_float(s) {
                return Resolved::Val(Value::Float(f));
            }
        }
        b'+' | b'-' | b'0'..=b'9' => {
            if let Some(t) = parse_timestamp(s) {
                return Resolved::Val(Value::Time(t));
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            if let Ok(i) = sc::parse_int(&plain, true) {
                return Resolved::Val(Value::Int(i));
            }
            if let Ok(u) = sc::parse_uint(&plain, true) {
                return Resolved::Val(Value::Uint(u));
            }
            if yaml_style_float(&plain) {
                if let Ok(f) = sc::parse_float(&plain) {
                    return Resolved::Val(Value::Float(f));
                }
            }
            let (neg, body) = match plain.strip_prefix('-') {
                Some(b) => (true, b),
                None => (false, plain.as_str()),
            };
            for (p, base) in [("0b", 2), ("0o", 8)] {
                if let Some(d) = body.strip_prefix(p) {
                    if let Ok(v) =
                        i64::from_str_radix(&format!("{}{}", if neg { "-" } else { "" }, d), base)
                    {
                        return Resolved::Val(Value::Int(v));
                    }
                    if !neg {
                        if let Ok(v) = u64::from_str_radix(d, base) {
                            return Resolved::Val(Value::Uint(v));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    Resolved::Str
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == st {
            return false;
        }
    } else {
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == st {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == st {
            return false;
        }
    }
    i == b.len()
}

fn parse_timestamp(s: &str) -> Option<gotime::GoTime> {
    let b = s.as_bytes();
    let i = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if i != 4 || i == b.len() || b[i] != b'-' {
        return None;
    }
    for layout in [
        "2006-1-2T15:4:5.999999999Z07:00",
        "2006-1-2t15:4:5.999999999Z07:00",
        "2006-1-2 15:4:5.999999999",
        "2006-1-2",
    ] {
        if let Ok(t) = gotime::parse_in_location(layout, s, Loc::Utc) {
            return Some(t);
        }
    }
    None
}

fn short_tag(handle: &str, suffix: &str) -> String {
    if handle == "!!" || handle == "tag:yaml.org,2002:" {
        format!("!!{}", suffix)
    } else if handle.is_empty() && suffix.starts_with("tag:yaml.org,2002:") {
        format!("!!{}", &suffix["tag:yaml.org,2002:".len()..])
    } else {
        format!("{}{}", handle, suffix)
    }
}

fn scalar_value(v: &str, style: ScalarStyle, tag: Option<String>) -> Result<Resolved, String> {
    let quoted = !matches!(style, ScalarStyle::Plain);
    match tag.as_deref() {
        None | Some("!") if quoted => Ok(Resolved::Val(Value::str(v))),
        // A plain `<<` key merges mappings (go-yaml's isMerge).
        None if v == "<<" => Ok(Resolved::Merge),
        Some("!!merge") if v == "<<" => Ok(Resolved::Merge),
        None => Ok(resolve_plain(v)),
        Some("!!str") => Ok(Resolved::Val(Value::str(v))),
        Some("!!binary") => {
            let clean: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            match super::funcs::b64_decode(clean.as_bytes()).ok() {
                Some(b) => Ok(Resolved::Val(Value::from_bytes(b))),
                None => Err("!!binary value contains invalid base64 data".into()),
            }
        }
        Some(t @ ("!!int" | "!!float" | "!!bool" | "!!null" | "!!timestamp")) => {
            let r = resolve_plain(v);
            let rtag = match &r {
                Resolved::Null => "!!null",
                Resolved::Merge => "!!merge",
                Resolved::Str => "!!str",
                Resolved::Val(Value::Int(_)) | Resolved::Val(Value::Uint(_)) => "!!int",
                Resolved::Val(Value::Float(_)) => "!!float",
                Resolved::Val(Value::Bool(_)) => "!!bool",
                Resolved::Val(Value::Time(_)) => "!!timestamp",
                _ => "!!str",
            };
            if rtag == t {
                return Ok(r);
            }
            if t == "!!float" {
                if let Resolved::Val(Value::Int(i)) = r {
                    return Ok(Resolved::Val(Value::Float(i as f64)));
                }
            }
            Err(format!("cannot decode {} `{}` as a {}", rtag, v, t))
        }
        Some(_) => Ok(Resolved::Val(Value::str(v))),
    }
}

enum Frame {
    Seq(Vec<Value>, usize),
    /// entries, pending key, anchor, pending key is `<<`, key lines
    Map(Vec<(Value, Value)>, Option<Value>, usize, bool, Vec<usize>),
}

/// libyaml's wording and line numbering for a saphyr error.
fn yaml_err(e: &saphyr_parser::ScanError, text: &str) -> String {
    let info = e.info();
    let mut msg = match info.rfind(", ") {
        Some(i) if info.starts_with("while") => info[i + 2..].to_string(),
        _ => info.to_string(),
    };
    let mut scanner = false;
    if msg.contains("unknown anchor") {
        let idx = e.marker().index();
        let name: String = text
            .char_indices()
            .skip_while(|(i, _)| *i < idx)
            .skip_while(|(_, c)| *c == '*')
            .take_while(|(_, c)| !c.is_whitespace() && !",[]{}".contains(*c))
            .map(|(_, c)| c)
            .collect();
        return format!("yaml: unknown anchor '{}' referenced", name);
    } else if msg.starts_with("unexpected character") || msg.starts_with("found character") {
        msg = "found character that cannot start any token".into();
        scanner = true;
    } else if msg.starts_with("found unexpected end of stream")
        || msg.starts_with("mapping values are not allowed")
    {
        scanner = true;
    } else if msg == "misplaced bracket" || msg.starts_with("invalid trailing content") {
        msg = "did not find expected key".into();
    } else if msg == "simple key expected" {
        msg = "could not find expected ':'".into();
    } else if msg.starts_with("expected ") {
        msg = format!("did not find {}", msg);
    }
    // libyaml counts lines from 0 and reports parser problems at that line,
    // scanner problems one line later; saphyr's lines are 1-based. Line 0
    // is not printed.
    let line = e.marker().line().saturating_sub(1);
    let line = if scanner && line == 0 {
        0
    } else if scanner {
        line + 1
    } else {
        line
    };
    if line == 0 {
        return format!("yaml: {}", msg);
    }
    format!("yaml: line {}: {}", line, msg)
}

/// libyaml rejects a tab where a block token starts.
fn tab_indent_error(text: &str) -> Option<String> {
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('\t') {
            let rest = line.trim_start_matches([' ', '\t']);
            if !rest.is_empty() && !rest.starts_with('#') {
                return Some(if n == 0 {
                    "yaml: found character that cannot start any token".to_string()
                } else {
                    format!(
                        "yaml: line {}: found character that cannot start any token",
                        n + 1
                    )
                });
            }
        }
    }
    None
}

fn finish_map(entries: Vec<(Value, Value)>) -> Value {
    if entries.iter().all(|(k, _)| matches!(k, Value::Str(_))) {
        let mut m = Map::new();
        for (k, v) in entries {
            if let Value::Str(k) = k {
                m.insert(k, v);
            }
        }
        Value::Map(m.into())
    } else {
        Value::AnyMap(entries)
    }
}

fn merge_into(entries: &mut Vec<(Value, Value)>, v: &Value) {
    let add = |entries: &mut Vec<(Value, Value)>, k: Value, x: Value| {
        if !entries.iter().any(|(e, _)| *e == k) {
            entries.push((k, x));
        }
    };
    match v {
        Value::Map(m) => {
            for (k, x) in m {
                add(entries, Value::Str(k.clone()), x.clone());
            }
        }
        Value::AnyMap(m) => {
            for (k, x) in m {
                add(entries, k.clone(), x.clone());
            }
        }
        Value::List(l) => {
            for item in l {
                merge_into(entries, item);
            }
        }
        _ => {}
    }
}

/// Parses the first YAML document of `text` into a [`Value`].
pub fn parse_yaml_value(text: &str) -> Result<Value, String> {
    match parse_events(text) {
        // libyaml accepts a tab after a mapping colon; saphyr does not.
        Err(e)
            if e.contains("must be followed by a valid YAML whitespace")
                && text.contains(":\t") =>
        {
            parse_events(&text.replace(":\t", ": "))
        }
        Err(e) => Err(e),
        Ok(v) => match tab_indent_error(text) {
            Some(e) => Err(e),
            None => Ok(v),
        },
    }
}

fn parse_events(text: &str) -> Result<Value, String> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: std::collections::HashMap<usize, Value> = std::collections::HashMap::new();
    let mut result: Option<Value> = None;
    let mut in_doc = false;
    loop {
        let Some(ev) = parser.next_event() else { break };
        let (ev, span) = ev.map_err(|e| yaml_err(&e, text))?;
        let line = span.start.line();
        // A completed node to attach to the parent (value, anchor, is-merge-key).
        let mut done: Option<(Value, usize, bool)> = None;
        match ev {
            Event::StreamStart | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                if result.is_some() {
                    break;
                }
                in_doc = true;
            }
            Event::DocumentEnd => {
                if in_doc {
                    break;
                }
            }
            Event::Alias(id) => {
                let v = anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| "yaml: unknown anchor referenced".to_string())?;
                done = Some((v, 0, false));
            }
            Event::Scalar(v, style, anchor, tag) => {
                let tag = tag.map(|t| short_tag(&t.handle, &t.suffix));
                let r = scalar_value(&v, style, tag).map_err(|e| format!("yaml: {}", e))?;
                done = Some(match r {
                    Resolved::Null => (Value::Nil, anchor, false),
                    Resolved::Merge => (Value::str("<<"), anchor, true),
                    Resolved::Str => (Value::str(v.as_ref()), anchor, false),
                    Resolved::Val(x) => (x, anchor, false),
                });
            }
            Event::SequenceStart(anchor, _) => stack.push(Frame::Seq(Vec::new(), anchor)),
            Event::SequenceEnd => {
                if let Some(Frame::Seq(l, a)) = stack.pop() {
                    done = Some((Value::List(l), a, false));
                }
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(Vec::new(), None, anchor, false, Vec::new()))
            }
            Event::MappingEnd => {
                if let Some(Frame::Map(e, _, a, _, _)) = stack.pop() {
                    done = Some((finish_map(e), a, false));
                }
            }
        }
        if let Some((v, anchor, is_merge)) = done {
            if anchor != 0 {
                anchors.insert(anchor, v.clone());
            }
            match stack.last_mut() {
                None => result = Some(v),
                Some(Frame::Seq(l, _)) => l.push(v),
                Some(Frame::Map(entries, key, _, merge, lines)) => match key.take() {
                    None => {
                        if matches!(v, Value::List(_) | Value::Map(_) | Value::AnyMap(_)) {
                            let mut b = Vec::new();
                            super::gofmt::sprintf(&mut b, b"yaml: invalid map key: %#v", &[&v]);
                            return Err(String::from_utf8_lossy(&b).into_owned());
                        }
                        if !is_merge {
                            if let Some(i) = entries.iter().position(|(e, _)| *e == v) {
                                let mut b = Vec::new();
                                super::gofmt::sprintf(&mut b, b"%#v", &[&v]);
                                return Err(format!(
                                    "yaml: unmarshal errors:\n  line {}: mapping key {} already defined at line {}",
                                    line,
                                    String::from_utf8_lossy(&b),
                                    lines[i]
                                ));
                            }
                        }
                        lines.push(line);
                        *key = Some(v);
                        *merge = is_merge;
                    }
                    Some(k) => {
                        if *merge {
                            merge_into(entries, &v);
                            *merge = false;
                            lines.pop();
                        } else {
                            entries.push((k, v));
                        }
                    }
                },
            }
        }
    }
    Ok(result.unwrap_or(Value::Nil))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        assert_eq!(parse_yaml_value("0x1F").unwrap(), Value::Int(31));
        assert_eq!(parse_yaml_value("017").unwrap(), Value::Int(15));
        assert_eq!(parse_yaml_value("1_000").unwrap(), Value::Int(1000));
        assert_eq!(parse_yaml_value("on").unwrap(), Value::str("on"));
        assert_eq!(parse_yaml_value("True").unwrap(), Value::Bool(true));
        assert_eq!(parse_yaml_value("~").unwrap(), Value::Nil);
        assert_eq!(parse_yaml_value("5.").unwrap(), Value::Float(5.0));
        assert_eq!(
            parse_yaml_value("18446744073709551615").unwrap(),
            Value::Uint(u64::MAX)
        );
        assert_eq!(parse_yaml_value("!!float 1").unwrap(), Value::Float(1.0));
        assert!(matches!(
            parse_yaml_value("2001-12-14").unwrap(),
            Value::Time(_)
        ));
    }

    #[test]
    fn collections() {
        let v = parse_yaml_value("{1: a, b: c}").unwrap();
        assert_eq!(v.go_type(), "map[interface {}]interface {}");
        let v = parse_yaml_value("a: 1\nb: [x, y]").unwrap();
        assert_eq!(super::super::go_format(&v), "map[a:1 b:[x y]]");
        let v = parse_yaml_value("a: &x {k: 1}\nb: *x").unwrap();
        assert_eq!(super::super::go_format(&v), "map[a:map[k:1] b:map[k:1]]");
    }
}

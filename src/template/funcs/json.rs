//! Go `encoding/json` as sprig uses it: Marshal (plain, indented, without
//! HTML escaping) and Unmarshal into `interface{}` with Go's error texts.

use super::super::strconv::{decode_rune, format_float};
use super::super::val::Val;
use super::super::value::{Map, Value};
use super::{a_any, a_str, def, ok, ok_iface, FuncDef, Ty};

pub fn register(v: &mut Vec<FuncDef>) {
    def(v, "fromJson", &[Ty::Str], None, |_, a| {
        ok_iface(from_json(&a_str(&a[0])).unwrap_or(Value::Nil))
    });
    def(v, "mustFromJson", &[Ty::Str], None, |_, a| {
        from_json(&a_str(&a[0])).map(Val::own_iface)
    });
    def(v, "toJson", &[Ty::Any], None, |_, a| {
        ok(Value::Str(
            to_json(&a_any(&a[0]), true, false).unwrap_or_default(),
        ))
    });
    def(v, "mustToJson", &[Ty::Any], None, |_, a| {
        to_json(&a_any(&a[0]), true, false).map(|s| Val::own(Value::Str(s)))
    });
    def(v, "toPrettyJson", &[Ty::Any], None, |_, a| {
        ok(Value::Str(
            to_json(&a_any(&a[0]), true, true).unwrap_or_default(),
        ))
    });
    def(v, "mustToPrettyJson", &[Ty::Any], None, |_, a| {
        to_json(&a_any(&a[0]), true, true).map(|s| Val::own(Value::Str(s)))
    });
    def(v, "toRawJson", &[Ty::Any], None, |_, a| {
        to_json(&a_any(&a[0]), false, false).map(|s| Val::own(Value::Str(s)))
    });
    def(v, "mustToRawJson", &[Ty::Any], None, |_, a| {
        to_json(&a_any(&a[0]), false, false).map(|s| Val::own(Value::Str(s)))
    });
}

/// `json.Marshal` (`pretty`: `MarshalIndent(v, "", "  ")`).
pub fn to_json(v: &Value, escape_html: bool, pretty: bool) -> Result<String, String> {
    let mut out = String::new();
    enc(
        &mut out,
        v,
        escape_html,
        if pretty { Some(0) } else { None },
    )?;
    Ok(out)
}

fn newline(out: &mut String, indent: Option<usize>) {
    if let Some(n) = indent {
        out.push('\n');
        for _ in 0..n {
            out.push_str("  ");
        }
    }
}

fn enc(out: &mut String, v: &Value, html: bool, indent: Option<usize>) -> Result<(), String> {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Uint8(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&json_float(*f)?),
        Value::Complex(..) => return Err("json: unsupported type: complex128".into()),
        Value::Str(_) | Value::Bytes(_) => enc_str(out, v.go_bytes().unwrap(), html),
        Value::Time(t) => enc_str(out, t.rfc3339nano().as_bytes(), html),
        Value::Map(_) | Value::StrMap(_) | Value::AnyMap(_) => {
            let mut entries: Vec<(String, Value)> = match v {
                Value::Map(m) => m.iter().map(|(k, x)| (k.clone(), x.clone())).collect(),
                Value::StrMap(m) => m
                    .iter()
                    .map(|(k, x)| (k.clone(), Value::Str(x.clone())))
                    .collect(),
                // Interface keys work when they hold strings or integers.
                Value::AnyMap(m) => {
                    let mut e = Vec::new();
                    for (k, x) in m {
                        let key = match k {
                            Value::Str(s) => s.clone(),
                            Value::Int(i) | Value::Int64(i) => i.to_string(),
                            Value::Uint(u) => u.to_string(),
                            Value::Uint8(u) => u.to_string(),
                            _ => {
                                return Err(
                                    "json: unsupported type: map[interface {}]interface {}".into()
                                )
                            }
                        };
                        e.push((key, x.clone()));
                    }
                    e
                }
                _ => Vec::new(),
            };
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            if entries.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            let inner = indent.map(|n| n + 1);
            for (i, (k, x)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, inner);
                enc_str(out, k.as_bytes(), html);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                enc(out, x, html, inner)?;
            }
            newline(out, indent);
            out.push('}');
        }
        _ => {
            let items = v.slice_items().unwrap_or_default();
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            let inner = indent.map(|n| n + 1);
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, inner);
                enc(out, x, html, inner)?;
            }
            newline(out, indent);
            out.push(']');
        }
    }
    Ok(())
}

fn json_float(f: f64) -> Result<String, String> {
    if f.is_nan() || f.is_infinite() {
        return Err(format!(
            "json: unsupported value: {}",
            format_float(f, b'g', -1)
        ));
    }
    let abs = f.abs();
    let fmt = if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        b'e'
    } else {
        b'f'
    };
    let mut s = format_float(f, fmt, -1);
    if fmt == b'e' {
        let b = s.as_bytes();
        let n = b.len();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            let last = b[n - 1] as char;
            s.truncate(n - 2);
            s.push(last);
        }
    }
    Ok(s)
}

fn enc_str(out: &mut String, s: &[u8], html: bool) {
    out.push('"');
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c < 0x80 {
            match c {
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                b'\n' => out.push_str("\\n"),
                b'\r' => out.push_str("\\r"),
                b'\t' => out.push_str("\\t"),
                0x08 => out.push_str("\\b"),
                0x0c => out.push_str("\\f"),
                b'<' | b'>' | b'&' if html => out.push_str(&format!("\\u00{:02x}", c)),
                c if c < 0x20 => out.push_str(&format!("\\u00{:02x}", c)),
                c => out.push(c as char),
            }
            i += 1;
            continue;
        }
        let (r, w) = decode_rune(&s[i..]);
        match r {
            None => out.push_str("\\ufffd"),
            Some('\u{2028}') => out.push_str("\\u2028"),
            Some('\u{2029}') => out.push_str("\\u2029"),
            Some(ch) => out.push(ch),
        }
        i += w.max(1);
    }
    out.push('"');
}

// ---- decoding ----

fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".into(),
        b'"' => "'\"'".into(),
        _ => {
            let q = super::super::strconv::quote_bytes(&[c], false);
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

struct Dec<'s> {
    s: &'s [u8],
    i: usize,
    /// Position in the document (object keys and array indexes), for
    /// unmarshal type errors.
    path: Vec<(bool, String)>,
}

const EOF_ERR: &str = "unexpected end of JSON input";
const NUM_CTX: &str = "in numeric literal";

impl<'s> Dec<'s> {
    fn err(&self, c: u8, ctx: &str) -> String {
        format!("invalid character {} {}", quote_char(c), ctx)
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn value(&mut self) -> Result<Value, String> {
        self.ws();
        let Some(c) = self.peek() else {
            return Err(EOF_ERR.into());
        };
        match c {
            b'{' => {
                self.i += 1;
                let mut m = Map::new();
                self.ws();
                match self.peek() {
                    None => return Err(EOF_ERR.into()),
                    Some(b'}') => {
                        self.i += 1;
                        return Ok(Value::Map(m.into()));
                    }
                    _ => {}
                }
                loop {
                    self.ws();
                    match self.peek() {
                        None => return Err(EOF_ERR.into()),
                        Some(b'"') => {}
                        Some(c) => {
                            return Err(self.err(c, "looking for beginning of object key string"))
                        }
                    }
                    let k = self.string()?;
                    self.ws();
                    match self.peek() {
                        None => return Err(EOF_ERR.into()),
                        Some(b':') => self.i += 1,
                        Some(c) => return Err(self.err(c, "after object key")),
                    }
                    self.path
                        .push((true, String::from_utf8_lossy(&k).into_owned()));
                    let v = self.value()?;
                    self.path.pop();
                    m.insert(String::from_utf8_lossy(&k).into_owned(), v);
                    self.ws();
                    match self.peek() {
                        None => return Err(EOF_ERR.into()),
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Value::Map(m.into()));
                        }
                        Some(c) => return Err(self.err(c, "after object key:value pair")),
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut l = Vec::new();
                self.ws();
                match self.peek() {
                    None => return Err(EOF_ERR.into()),
                    Some(b']') => {
                        self.i += 1;
                        return Ok(Value::List(l));
                    }
                    _ => {}
                }
                loop {
                    self.path.push((false, l.len().to_string()));
                    l.push(self.value()?);
                    self.path.pop();
                    self.ws();
                    match self.peek() {
                        None => return Err(EOF_ERR.into()),
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Value::List(l));
                        }
                        Some(c) => return Err(self.err(c, "after array element")),
                    }
                }
            }
            b'"' => Ok(Value::from_bytes(self.string()?)),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'n' => self.literal(b"null", Value::Nil),
            b'-' | b'0'..=b'9' => self.number(),
            c => Err(self.err(c, "looking for beginning of value")),
        }
    }

    fn literal(&mut self, lit: &[u8], v: Value) -> Result<Value, String> {
        let name = std::str::from_utf8(lit).unwrap();
        for (k, &want) in lit.iter().enumerate() {
            match self.s.get(self.i + k) {
                None => return Err(EOF_ERR.into()),
                Some(&c) if c != want => {
                    return Err(self.err(
                        c,
                        &format!("in literal {} (expecting {})", name, quote_char(want)),
                    ))
                }
                _ => {}
            }
        }
        self.i += lit.len();
        Ok(v)
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        let s = self.s;
        let at = |i: usize| s.get(i).copied();
        let mut i = self.i;
        if at(i) == Some(b'-') {
            i += 1;
            match at(i) {
                None => return Err(EOF_ERR.into()),
                Some(b'0'..=b'9') => {}
                Some(c) => return Err(self.err(c, NUM_CTX)),
            }
        }
        if at(i) == Some(b'0') {
            i += 1;
        } else {
            while matches!(at(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        if at(i) == Some(b'.') {
            i += 1;
            match at(i) {
                None => return Err(EOF_ERR.into()),
                Some(b'0'..=b'9') => {}
                Some(c) => return Err(self.err(c, NUM_CTX)),
            }
            while matches!(at(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        if matches!(at(i), Some(b'e') | Some(b'E')) {
            i += 1;
            if matches!(at(i), Some(b'+') | Some(b'-')) {
                i += 1;
            }
            match at(i) {
                None => return Err(EOF_ERR.into()),
                Some(b'0'..=b'9') => {}
                Some(c) => return Err(self.err(c, NUM_CTX)),
            }
            while matches!(at(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        self.i = i;
        let text = std::str::from_utf8(&s[start..i]).unwrap();
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => {
                let p: String = self.path.iter().map(|(_, s)| format!(".{}", s)).collect();
                let into = if self.path.is_empty() {
                    "Go value".to_string()
                } else if self.path.iter().any(|(k, _)| *k) {
                    format!("Go struct field {}", p)
                } else {
                    p
                };
                Err(format!(
                    "json: cannot unmarshal number {} into {} of type float64",
                    text, into
                ))
            }
        }
    }

    fn string(&mut self) -> Result<Vec<u8>, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(EOF_ERR.into());
            };
            self.i += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return Err(EOF_ERR.into());
                    };
                    self.i += 1;
                    match e {
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'u' => {
                            let esc_start = self.i - 2;
                            let mut r: u32 = 0;
                            for _ in 0..4 {
                                let Some(h) = self.peek() else {
                                    return Err(EOF_ERR.into());
                                };
                                let Some(d) = (h as char).to_digit(16) else {
                                    let end = (esc_start + 6).min(self.s.len());
                                    return Err(format!(
                                        "invalid escape sequence `{}` in string",
                                        String::from_utf8_lossy(&self.s[esc_start..end])
                                    ));
                                };
                                r = r * 16 + d;
                                self.i += 1;
                            }
                            // Surrogate pairs.
                            let mut ch = char::from_u32(r);
                            if (0xd800..0xdc00).contains(&r)
                                && self.s.get(self.i) == Some(&b'\\')
                                && self.s.get(self.i + 1) == Some(&b'u')
                            {
                                let hex = std::str::from_utf8(
                                    self.s.get(self.i + 2..self.i + 6).unwrap_or(b""),
                                )
                                .ok()
                                .and_then(|h| u32::from_str_radix(h, 16).ok());
                                if let Some(lo) = hex.filter(|lo| (0xdc00..0xe000).contains(lo)) {
                                    ch = char::from_u32(
                                        0x10000 + ((r - 0xd800) << 10) + (lo - 0xdc00),
                                    );
                                    self.i += 6;
                                }
                            }
                            let ch = ch.unwrap_or('\u{fffd}');
                            let mut b = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                        }
                        c => {
                            let _ = c;
                            let st = self.i - 2;
                            let end = (st + 2).min(self.s.len());
                            return Err(format!(
                                "invalid escape sequence `{}` in string",
                                String::from_utf8_lossy(&self.s[st..end])
                            ));
                        }
                    }
                }
                c if c < 0x20 => return Err(self.err(c, "in string")),
                c => out.push(c),
            }
        }
    }
}

/// `json.Unmarshal(text, &interface{})`.
pub fn from_json(text: &str) -> Result<Value, String> {
    let mut d = Dec {
        s: text.as_bytes(),
        i: 0,
        path: Vec::new(),
    };
    let v = d.value()?;
    d.ws();
    if let Some(c) = d.peek() {
        return Err(d.err(c, "after top-level value"));
    }
    Ok(v)
}

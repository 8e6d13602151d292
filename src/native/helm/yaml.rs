//! The YAML that Helm's Go stack (yaml.v2 via sigs.k8s.io/yaml) reads and writes.
//!
//! Parsing: saphyr events, resolved with yaml.v2's YAML 1.1 rules (`yes`/`on` are bools,
//! `0755` is octal, timestamps stay strings). Emitting: a reimplementation of yaml.v2's block
//! emitter for the value shapes Chart.yaml and Chart.lock produce (sorted keys with yaml.v2's
//! "natural" order, indentless sequences, quoting decisions, folding at column 80).

use std::cmp::Ordering;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// A YAML value after yaml.v2 tag resolution.
#[derive(Clone, Debug, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Yaml>),
    /// Keys in document order (duplicates already collapsed, last wins).
    Map(Vec<(Yaml, Yaml)>),
}

impl Yaml {
    /// The key text as sigs.k8s.io/yaml turns a map key into a JSON key.
    pub fn key_string(&self) -> String {
        match self {
            Yaml::Null => "null".into(),
            Yaml::Bool(b) => b.to_string(),
            Yaml::Int(i) => i.to_string(),
            Yaml::UInt(u) => u.to_string(),
            Yaml::Float(f) => go_format_float(*f, 64),
            Yaml::Str(s) => s.clone(),
            Yaml::Seq(_) | Yaml::Map(_) => String::new(),
        }
    }
}

/// A YAML syntax error with its position.
/// (`line` 0: an error yaml.v2 reports without a position, such as excessive aliasing.)
#[derive(Debug, Clone, thiserror::Error)]
#[error("yaml: {}{msg}", if *line > 0 { format!("line {line}: ") } else { String::new() })]
pub struct YamlError {
    pub line: usize,
    pub msg: String,
}

/// Parses the first document of `src` (an empty document is `Null`).
pub fn parse(src: &str) -> Result<Yaml, YamlError> {
    match parse_strict_indent(src) {
        Err(e) if e.msg.contains("indentation") => {
            reindent_flow(src, e.line).map_or(Err(e.clone()), |fixed| parse(&fixed).map_err(|_| e))
        }
        r => r,
    }
}

/// go-yaml (yaml.v2 and v3) accepts the lines of a flow collection at the indentation of
/// the key that holds it (`args: [` … `]` with `]` under `args`); saphyr, following the
/// spec, does not. Given the line of such an error, indents that line one column more than
/// the nearest line above it that is not more indented (where the collection opened), so
/// the retry parses as go-yaml does. Extra indentation inside a flow collection changes
/// nothing: line folding drops leading white space. `None` when the line cannot be fixed.
pub fn reindent_flow(src: &str, line: usize) -> Option<String> {
    const MAX_FIXES: usize = 10_000;
    let mut lines: Vec<String> = src.split('\n').map(str::to_string).collect();
    let mut at = line.checked_sub(1)?;
    for _ in 0..MAX_FIXES {
        let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
        let cur = lines.get(at)?;
        let mine = indent(cur);
        let opener = lines[..at].iter().rev().find(|l| {
            !l.trim().is_empty() && !l.trim_start().starts_with('#') && indent(l) <= mine
        })?;
        let want = indent(opener) + 1;
        if want <= mine || !(opener.contains('[') || opener.contains('{')) {
            return None;
        }
        lines[at].insert_str(0, &" ".repeat(want - mine));
        // every later line of the same collection at the same indentation needs it too
        let fixed = lines.join("\n");
        match parse_strict_indent(&fixed) {
            Err(e) if e.msg.contains("indentation") && e.line > at + 1 => at = e.line - 1,
            _ => return Some(fixed),
        }
    }
    None
}

fn parse_strict_indent(src: &str) -> Result<Yaml, YamlError> {
    let mut parser = Parser::new_from_str(src);
    let mut anchors: std::collections::HashMap<usize, Yaml> = Default::default();
    // Stack of open collections: (value, anchor, pending key for maps)
    enum Open {
        Seq(Vec<Yaml>, usize),
        Map(Vec<(Yaml, Yaml)>, usize, Option<Yaml>),
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut result: Option<Yaml> = None;
    // yaml.v2's alias budget (the same rule as go-yaml v3, see taskfile::yaml): decode
    // operations so far, those due to alias expansion, what each anchor costs to expand,
    // and the count when each open collection started.
    let (mut decodes, mut alias_decodes) = (0u64, 0u64);
    let mut anchor_cost: std::collections::HashMap<usize, u64> = Default::default();
    let mut starts: Vec<u64> = Vec::new();
    // yaml.v2 Unmarshal reads only the first document.
    let mut docs = 0;
    loop {
        let next = parser.next();
        let Some(ev) = next else { break };
        let (ev, span) = ev.map_err(|e| YamlError {
            line: e.marker().line(),
            msg: e.info().to_string(),
        })?;
        let line = span.start.line();
        let mut complete: Option<Yaml> = None;
        match ev {
            Event::DocumentStart(_) => {
                docs += 1;
                if docs > 1 {
                    break;
                }
            }
            Event::StreamEnd => break,
            Event::Alias(id) => {
                let cost = anchor_cost.get(&id).copied().unwrap_or(1);
                if crate::taskfile::yaml::excessive_aliasing(
                    decodes + 1 + cost,
                    alias_decodes + cost,
                ) {
                    return Err(YamlError {
                        line: 0,
                        msg: crate::taskfile::yaml::EXCESSIVE_ALIASING.into(),
                    });
                }
                decodes += 1 + cost;
                alias_decodes += cost;
                complete = Some(anchors.get(&id).cloned().ok_or_else(|| YamlError {
                    line,
                    msg: format!("unknown anchor {id} referenced"),
                })?);
            }
            Event::Scalar(v, style, anchor, tag) => {
                let val = resolve_event(
                    &v,
                    style,
                    tag.as_deref()
                        .map(|t| (t.handle.as_str(), t.suffix.as_str())),
                )
                .map_err(|msg| YamlError { line, msg })?;
                decodes += 1;
                if anchor > 0 {
                    anchors.insert(anchor, val.clone());
                    anchor_cost.insert(anchor, 1);
                }
                complete = Some(val);
            }
            Event::SequenceStart(anchor, _) => {
                starts.push(decodes);
                decodes += 1;
                stack.push(Open::Seq(Vec::new(), anchor))
            }
            Event::MappingStart(anchor, _) => {
                starts.push(decodes);
                decodes += 1;
                stack.push(Open::Map(Vec::new(), anchor, None))
            }
            Event::SequenceEnd => {
                let start = starts.pop().unwrap_or(0);
                if let Some(Open::Seq(v, anchor)) = stack.pop() {
                    let y = Yaml::Seq(v);
                    if anchor > 0 {
                        anchors.insert(anchor, y.clone());
                        anchor_cost.insert(anchor, decodes - start);
                    }
                    complete = Some(y);
                }
            }
            Event::MappingEnd => {
                let start = starts.pop().unwrap_or(0);
                if let Some(Open::Map(v, anchor, _)) = stack.pop() {
                    let y = Yaml::Map(v);
                    if anchor > 0 {
                        anchors.insert(anchor, y.clone());
                        anchor_cost.insert(anchor, decodes - start);
                    }
                    complete = Some(y);
                }
            }
            _ => {}
        }
        if let Some(val) = complete {
            match stack.last_mut() {
                None => {
                    if result.is_none() {
                        result = Some(val);
                    }
                }
                Some(Open::Seq(v, _)) => v.push(val),
                Some(Open::Map(entries, _, pending)) => match pending.take() {
                    None => *pending = Some(val),
                    Some(key) => {
                        if key == Yaml::Str("<<".into()) {
                            merge_into(entries, val);
                        } else {
                            insert(entries, key, val);
                        }
                    }
                },
            }
        }
    }
    Ok(result.unwrap_or(Yaml::Null))
}

fn insert(entries: &mut Vec<(Yaml, Yaml)>, key: Yaml, val: Yaml) {
    if let Some(e) = entries.iter_mut().find(|(k, _)| *k == key) {
        e.1 = val;
    } else {
        entries.push((key, val));
    }
}

fn merge_into(entries: &mut Vec<(Yaml, Yaml)>, val: Yaml) {
    let maps = match val {
        Yaml::Map(m) => vec![m],
        Yaml::Seq(s) => s
            .into_iter()
            .filter_map(|x| match x {
                Yaml::Map(m) => Some(m),
                _ => None,
            })
            .collect(),
        _ => vec![],
    };
    for m in maps {
        for (k, v) in m {
            if !entries.iter().any(|(ek, _)| *ek == k) {
                entries.push((k, v));
            }
        }
    }
}

fn resolve_event(v: &str, style: ScalarStyle, tag: Option<(&str, &str)>) -> Result<Yaml, String> {
    if let Some((handle, suffix)) = tag {
        let std = handle == "!!" || handle == "tag:yaml.org,2002:";
        if std {
            return match suffix {
                "str" | "binary" => Ok(Yaml::Str(v.to_string())),
                "null" | "bool" | "int" | "float" | "timestamp" => {
                    let r = resolve_plain(v);
                    if matches!(r, Yaml::Str(_)) && suffix != "timestamp" {
                        Err(format!("cannot decode !!str `{v}` as a !!{suffix}"))
                    } else {
                        Ok(r)
                    }
                }
                _ => Ok(Yaml::Str(v.to_string())),
            };
        }
        return Ok(Yaml::Str(v.to_string()));
    }
    if style == ScalarStyle::Plain {
        Ok(resolve_plain(v))
    } else {
        Ok(Yaml::Str(v.to_string()))
    }
}

/// yaml.v2 `resolve("", s)` for a plain scalar.
pub fn resolve_plain(s: &str) -> Yaml {
    let Some(first) = s.bytes().next() else {
        return Yaml::Null;
    };
    let hint = match first {
        b'+' | b'-' => 'S',
        b'0'..=b'9' => 'D',
        b'.' => '.',
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => 'M',
        _ => return Yaml::Str(s.to_string()),
    };
    match s {
        "~" | "null" | "Null" | "NULL" => return Yaml::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Yaml::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Yaml::Bool(false)
        }
        ".nan" | ".NaN" | ".NAN" => return Yaml::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Yaml::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Yaml::Float(f64::NEG_INFINITY),
        "<<" => return Yaml::Str(s.to_string()),
        _ => {}
    }
    match hint {
        '.' => {
            if let Some(f) = go_parse_float(s) {
                return Yaml::Float(f);
            }
        }
        'D' | 'S' => {
            if is_timestamp(s) {
                return Yaml::Str(s.to_string());
            }
            let plain: String = s.chars().filter(|c| *c != '_').collect();
            if let Some(i) = go_parse_int(&plain) {
                return i;
            }
            if is_yaml_float(&plain) {
                if let Some(f) = go_parse_float(&plain) {
                    return Yaml::Float(f);
                }
            }
            if let Some(b) = plain.strip_prefix("0b") {
                if let Ok(i) = i64::from_str_radix(b, 2) {
                    return Yaml::Int(i);
                }
            } else if let Some(b) = plain.strip_prefix("-0b") {
                if let Ok(i) = i64::from_str_radix(b, 2) {
                    return Yaml::Int(-i);
                }
            }
        }
        _ => {}
    }
    Yaml::Str(s.to_string())
}

/// Would yaml.v2 read this plain scalar as something other than a string? (for quoting)
fn resolves_to_non_string(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    if matches!(s.as_bytes()[0], b'0'..=b'9' | b'+' | b'-') && is_timestamp(s) {
        return true;
    }
    !matches!(resolve_plain(s), Yaml::Str(_))
}

/// Go `strconv.ParseInt(s, 0, 64)` then `ParseUint`.
fn go_parse_int(s: &str) -> Option<Yaml> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) =
        if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, d)
        } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, d)
        } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, d)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let u = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        if u <= i64::MAX as u64 + 1 {
            return Some(Yaml::Int((u as i128).wrapping_neg() as i64));
        }
        return None;
    }
    if u <= i64::MAX as u64 {
        Some(Yaml::Int(u as i64))
    } else {
        Some(Yaml::UInt(u))
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

fn go_parse_float(s: &str) -> Option<f64> {
    // Go accepts "inf"/"infinity"/"nan" too, but those never reach here with a '.'/digit hint.
    if s.chars()
        .all(|c| c.is_ascii_digit() || "+-.eE_".contains(c))
    {
        s.replace('_', "").parse().ok()
    } else {
        None
    }
}

/// yaml.v2 `parseTimestamp`: `YYYY-M-D`, optionally followed by `T`/`t`/` ` and a time.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i != 4 || i == b.len() || b[i] != b'-' {
        return false;
    }
    let num = |i: &mut usize, max: usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - st < max {
            *i += 1;
        }
        *i > st
    };
    i += 1;
    if !num(&mut i, 2) || i >= b.len() || b[i] != b'-' {
        return false;
    }
    i += 1;
    if !num(&mut i, 2) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    if !(b[i] == b'T' || b[i] == b't' || b[i] == b' ') {
        return false;
    }
    i += 1;
    if !num(&mut i, 2) || i >= b.len() || b[i] != b':' {
        return false;
    }
    i += 1;
    if !num(&mut i, 2) || i >= b.len() || b[i] != b':' {
        return false;
    }
    i += 1;
    if !num(&mut i, 2) {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if !num(&mut i, 9) {
            return false;
        }
    }
    if i == b.len() {
        return true;
    }
    // zone: Z or ±hh:mm (the space layout has none)
    let rest = &s[i..];
    rest == "Z"
        || (rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && rest.as_bytes()[3] == b':'
            && rest[1..3].chars().all(|c| c.is_ascii_digit())
            && rest[4..].chars().all(|c| c.is_ascii_digit()))
}

/// Go `strconv.FormatFloat(f, 'g', -1, bits)`.
pub fn go_format_float(f: f64, bits: u32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Shortest round-trip digits in scientific form, e.g. "1.234567e6".
    let sci = if bits == 32 {
        format!("{:e}", f as f32)
    } else {
        format!("{f:e}")
    };
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if neg { "-" } else { "" };
    let nd = digits.len() as i32;
    // Go: for the shortest form, %e is used when exp < -4 || exp >= 6.
    let use_exp = !(-4..6).contains(&exp);
    if use_exp {
        let mut m = String::new();
        m.push_str(&digits[..1]);
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let es = if exp < 0 { '-' } else { '+' };
        let ea = exp.abs();
        return format!("{sign}{m}e{es}{ea:02}");
    }
    let dp = exp + 1; // digits before the decimal point
    let out = if dp <= 0 {
        format!("0.{}{}", "0".repeat((-dp) as usize), digits)
    } else if dp >= nd {
        format!("{}{}", digits, "0".repeat((dp - nd) as usize))
    } else {
        format!("{}.{}", &digits[..dp as usize], &digits[dp as usize..])
    };
    format!("{sign}{out}")
}

// ---------------------------------------------------------------------------------------
// Emitter

/// yaml.v2 `Marshal` of `v` (maps are sorted here).
pub fn emit(v: &Yaml) -> String {
    let mut e = Emitter::default();
    match v {
        Yaml::Map(m) if !m.is_empty() => e.map(m, 0, false),
        Yaml::Seq(s) if !s.is_empty() => e.seq(s, 0, false),
        other => {
            // libyaml indents a root scalar's continuation lines (folded words, literal
            // block lines) by its best indent, 2
            e.scalar_or_empty(other, 2, false);
            e.newline();
        }
    }
    e.out
}

#[derive(Default)]
struct Emitter {
    out: String,
    column: usize,
}

const BEST_WIDTH: usize = 80;

impl Emitter {
    fn put(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += s.chars().count();
    }
    fn newline(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }
    fn indent_to(&mut self, n: usize) {
        for _ in 0..n {
            self.out.push(' ');
        }
        self.column = n;
    }

    /// Block mapping whose keys start at column `indent`; `inline` when the cursor already
    /// sits there (after `- `).
    fn map(&mut self, m: &[(Yaml, Yaml)], indent: usize, inline: bool) {
        let mut entries: Vec<&(Yaml, Yaml)> = m.iter().collect();
        entries.sort_by(|a, b| key_cmp(&a.0, &b.0));
        for (i, (k, v)) in entries.into_iter().enumerate() {
            if i > 0 || !inline {
                self.indent_to(indent);
            }
            self.scalar(k, indent + 2, true);
            self.put(":");
            match v {
                Yaml::Map(sub) if !sub.is_empty() => {
                    self.newline();
                    self.map(sub, indent + 2, false);
                }
                Yaml::Seq(sub) if !sub.is_empty() => {
                    self.newline();
                    self.seq(sub, indent, false);
                }
                other => {
                    self.put(" ");
                    self.scalar_or_empty(other, indent + 2, false);
                    self.newline();
                }
            }
        }
    }

    fn seq(&mut self, s: &[Yaml], indent: usize, inline: bool) {
        for (i, item) in s.iter().enumerate() {
            if i > 0 || !inline {
                self.indent_to(indent);
            }
            self.put("- ");
            match item {
                Yaml::Map(sub) if !sub.is_empty() => self.map(sub, indent + 2, true),
                Yaml::Seq(sub) if !sub.is_empty() => self.seq(sub, indent + 2, true),
                other => {
                    self.scalar_or_empty(other, indent + 2, false);
                    self.newline();
                }
            }
        }
    }

    fn scalar_or_empty(&mut self, v: &Yaml, indent: usize, key: bool) {
        match v {
            Yaml::Map(_) => self.put("{}"),
            Yaml::Seq(_) => self.put("[]"),
            other => self.scalar(other, indent, key),
        }
    }

    fn scalar(&mut self, v: &Yaml, indent: usize, key: bool) {
        match v {
            Yaml::Null => self.put("null"),
            Yaml::Bool(b) => self.put(if *b { "true" } else { "false" }),
            Yaml::Int(i) => self.put(&i.to_string()),
            Yaml::UInt(u) => self.put(&u.to_string()),
            Yaml::Float(f) => {
                let s = go_format_float(*f, 64);
                let s = match s.as_str() {
                    "+Inf" => ".inf".to_string(),
                    "-Inf" => "-.inf".to_string(),
                    "NaN" => ".nan".to_string(),
                    _ => s,
                };
                self.put(&s)
            }
            Yaml::Str(s) => self.string(s, indent, key),
            Yaml::Seq(_) | Yaml::Map(_) => self.put("{}"),
        }
    }

    fn string(&mut self, s: &str, indent: usize, key: bool) {
        let can_plain = !resolves_to_non_string(s) && !is_base60_float(s);
        let a = analyze(s);
        #[derive(PartialEq)]
        enum Style {
            Plain,
            Single,
            Double,
            Literal,
        }
        let mut style = if s.contains('\n') {
            Style::Literal
        } else if can_plain {
            Style::Plain
        } else {
            Style::Double
        };
        if style == Style::Plain && (!a.block_plain_allowed || (s.is_empty() && key)) {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || key) {
            style = Style::Double;
        }
        let breaks = !key;
        match style {
            Style::Plain => self.write_folded(s, indent, breaks, false),
            Style::Single => {
                self.put("'");
                self.write_folded(s, indent, breaks, true);
                self.put("'");
            }
            Style::Double => self.write_double(s, indent, breaks),
            Style::Literal => self.write_literal(s, indent),
        }
    }

    fn write_folded(&mut self, s: &str, indent: usize, allow_breaks: bool, single: bool) {
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                let ok_pos = !single || (i > 0 && i + 1 < chars.len());
                if allow_breaks && !spaces && self.column > BEST_WIDTH && ok_pos && !next_space {
                    self.newline();
                    self.indent_to(indent);
                } else {
                    self.put(" ");
                }
                spaces = true;
            } else {
                if single && c == '\'' {
                    self.put("'");
                }
                let mut b = [0u8; 4];
                self.put(c.encode_utf8(&mut b));
                spaces = false;
            }
        }
    }

    fn write_double(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.put("\"");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable_char(c) || c == '\u{feff}' || is_break_char(c) || c == '"' || c == '\\'
            {
                let esc = match c {
                    '\0' => "\\0".to_string(),
                    '\u{7}' => "\\a".into(),
                    '\u{8}' => "\\b".into(),
                    '\t' => "\\t".into(),
                    '\n' => "\\n".into(),
                    '\u{b}' => "\\v".into(),
                    '\u{c}' => "\\f".into(),
                    '\r' => "\\r".into(),
                    '\u{1b}' => "\\e".into(),
                    '"' => "\\\"".into(),
                    '\\' => "\\\\".into(),
                    '\u{85}' => "\\N".into(),
                    '\u{a0}' => "\\_".into(),
                    '\u{2028}' => "\\L".into(),
                    '\u{2029}' => "\\P".into(),
                    c if (c as u32) <= 0xff => format!("\\x{:02X}", c as u32),
                    c if (c as u32) <= 0xffff => format!("\\u{:04X}", c as u32),
                    c => format!("\\U{:08X}", c as u32),
                };
                self.put(&esc);
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                {
                    self.newline();
                    self.indent_to(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.put("\\");
                    }
                } else {
                    self.put(" ");
                }
                spaces = true;
            } else {
                let mut b = [0u8; 4];
                self.put(c.encode_utf8(&mut b));
                spaces = false;
            }
        }
        self.put("\"");
    }

    fn write_literal(&mut self, s: &str, indent: usize) {
        let mut hdr = String::from("|");
        if s.starts_with(' ') || s.starts_with('\n') {
            hdr.push('2');
        }
        let trailing = s.len() - s.trim_end_matches('\n').len();
        if trailing == 0 {
            hdr.push('-');
        } else if trailing >= 2 || s.chars().all(|c| c == '\n') {
            hdr.push('+');
        }
        self.put(&hdr);
        let body = s.strip_suffix('\n').unwrap_or(s);
        for line in body.split('\n') {
            self.newline();
            if !line.is_empty() {
                self.indent_to(indent);
                self.put(line);
            }
        }
        // the caller writes the final newline
    }
}

fn is_break_char(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// yaml.v2's byte-level `is_printable` (note: 4-byte UTF-8 is "not printable").
fn is_printable_char(c: char) -> bool {
    let u = c as u32;
    u == 0x0a
        || (0x20..=0x7e).contains(&u)
        || u == 0x85
        || (0xa0..=0xd7ff).contains(&u)
        || ((0xe000..=0xfffd).contains(&u) && u != 0xfeff)
}

struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// yaml.v2 `yaml_emitter_analyze_scalar` (block context only).
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut previous_space, mut previous_break) =
        (false, false, false, false);
    let mut line_breaks = false;
    let mut special = false;
    let mut preceded_by_ws = true;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_ws = i + 1 >= chars.len()
            || matches!(chars[i + 1], ' ' | '\t')
            || is_break_char(chars[i + 1]);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' if followed_by_ws => block_indicators = true,
                '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable_char(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i == chars.len() - 1 {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break_char(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i == chars.len() - 1 {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_ws = matches!(c, ' ' | '\t' | '\0') || is_break_char(c);
    }
    let mut a = Analysis {
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() && i - st < 2 {
            i += 1;
        }
        let g = &s[st..i];
        let ok = match g.len() {
            1 => true,
            2 => g.as_bytes()[0] <= b'5',
            _ => false,
        };
        if !ok {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// yaml.v2 `keyList.Less` for string keys (letters after other runes, digit runs numeric).
fn key_cmp(a: &Yaml, b: &Yaml) -> Ordering {
    let (Yaml::Str(a), Yaml::Str(b)) = (a, b) else {
        return a.key_string().cmp(&b.key_string());
    };
    if less(a, b) {
        Ordering::Less
    } else if less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let n = ar.len().min(br.len());
    for i in 0..n {
        if ar[i] == br[i] {
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i as isize - 1;
            while j >= 0 && ar[j as usize].is_ascii_digit() {
                if ar[j as usize] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
                j -= 1;
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

#[cfg(test)]
mod tests {
    /// Issue 14: a flow collection closed at its parent key's indentation (bitnami
    /// chainloop's values.yaml) parses as go-yaml parses it.
    #[test]
    fn flow_collection_at_parent_indentation() {
        let src = "a:\n  b:\n    args: [\n      \"x\",\n      \"y\"\n    ]\n    c: {\n    d: 1\n    }\n    e: [\n    1, 2]\n";
        let v = super::parse(src).unwrap();
        assert_eq!(
            super::emit(&v),
            "a:\n  b:\n    args:\n    - x\n    - \"y\"\n    c:\n      d: 1\n    e:\n    - 1\n    - 2\n"
        );
        // a real indentation error is still one
        assert!(super::parse("a:\n  b: 1\n c: 2\n").is_err());
    }

    use super::*;

    /// "Billion laughs": 9 levels of 9 aliases each would expand to 9^9 scalars.
    pub(crate) fn alias_bomb(levels: usize) -> String {
        let mut s = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..levels {
            s.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                vec![format!("*a{}", i - 1); 9].join(", ")
            ));
        }
        s
    }

    #[test]
    fn alias_bombs_are_refused_before_expanding() {
        let t = std::time::Instant::now();
        let e = parse(&alias_bomb(9)).unwrap_err();
        assert!(
            e.to_string() == "yaml: document contains excessive aliasing",
            "{e:?}"
        );
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        // three levels (910 decodes) stay under go-yaml's 1,000-decode floor
        assert!(parse(&alias_bomb(3)).is_ok());
    }

    #[test]
    fn ordinary_aliasing_is_allowed() {
        // many aliases, but most of the document is its own content
        let mut s = String::from("base: &b {x: 1, y: 2}\n");
        for i in 0..2000 {
            s.push_str(&format!("k{i}: {{v: {i}, w: *b}}\n"));
        }
        assert!(parse(&s).is_ok());
    }

    fn s(x: &str) -> Yaml {
        Yaml::Str(x.into())
    }

    #[test]
    fn resolution() {
        assert_eq!(resolve_plain("1.0"), Yaml::Float(1.0));
        assert_eq!(resolve_plain("yes"), Yaml::Bool(true));
        assert_eq!(resolve_plain("0755"), Yaml::Int(493));
        assert_eq!(resolve_plain("1.2.3"), s("1.2.3"));
        assert_eq!(resolve_plain("2001-12-14"), s("2001-12-14"));
        assert_eq!(resolve_plain("~"), Yaml::Null);
        assert_eq!(resolve_plain("1e3"), Yaml::Float(1000.0));
    }

    #[test]
    fn floats_like_go() {
        assert_eq!(go_format_float(1.10, 32), "1.1");
        assert_eq!(go_format_float(1.0, 32), "1");
        assert_eq!(go_format_float(1234567.0, 32), "1.234567e+06");
        assert_eq!(go_format_float(100000.0, 64), "100000");
        assert_eq!(go_format_float(0.0001, 64), "0.0001");
        assert_eq!(go_format_float(0.00001, 64), "1e-05");
        assert_eq!(go_format_float(1e21, 64), "1e+21");
    }

    #[test]
    fn emit_shapes() {
        let doc =
            parse("b: '1'\na: [x, z]\nc: {d: '>=1.20.0-0', e: ''}\nf: true\ng: 'a: b'\n").unwrap();
        assert_eq!(
            emit(&doc),
            "a:\n- x\n- z\nb: \"1\"\nc:\n  d: '>=1.20.0-0'\n  e: \"\"\nf: true\ng: 'a: b'\n"
        );
    }

    #[test]
    fn folding_at_80() {
        let long = "word ".repeat(30);
        let long = long.trim_end();
        let doc = Yaml::Map(vec![(s("description"), s(long))]);
        let out = emit(&doc);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 1);
        assert!(lines[1].starts_with("  word"));
        assert_eq!(parse(&out).unwrap(), doc);
    }

    #[test]
    fn natural_key_order() {
        assert!(less("a2", "a10"));
        assert!(less("a.b", "ab"));
        assert!(less("apiVersion", "appVersion"));
    }

    #[test]
    fn literal_multiline() {
        let doc = Yaml::Map(vec![(s("k"), s("a\nb\n"))]);
        assert_eq!(emit(&doc), "k: |\n  a\n  b\n");
        let doc = Yaml::Map(vec![(s("k"), s("a\nb"))]);
        assert_eq!(emit(&doc), "k: |-\n  a\n  b\n");
    }
}

//! `yaml.Marshal` of go-yaml v3 for template values: 4-space indentation,
//! block style, empty collections in flow style, map keys in v3's natural
//! order, and libyaml's scalar style choice (plain, quoted or literal).

use super::value::Value;
use super::yaml_value::{resolve_plain, Resolved};

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Analysis {
    multiline: bool,
    flow_plain: bool,
    block_plain: bool,
    single: bool,
    block: bool,
}

fn is_printable(b: &[u8], i: usize) -> bool {
    let c = b[i];
    let n1 = b.get(i + 1).copied().unwrap_or(0);
    let n2 = b.get(i + 2).copied().unwrap_or(0);
    c == 0x0a
        || (0x20..=0x7e).contains(&c)
        || (c == 0xc2 && n1 >= 0xa0)
        || (c > 0xc2 && c < 0xed)
        || (c == 0xed && n1 < 0xa0)
        || c == 0xee
        || (c == 0xef && !(n1 == 0xbb && n2 == 0xbf) && !(n1 == 0xbf && (n2 == 0xbe || n2 == 0xbf)))
}

fn width(c: u8) -> usize {
    if c & 0x80 == 0 {
        1
    } else if c & 0xe0 == 0xc0 {
        2
    } else if c & 0xf0 == 0xe0 {
        3
    } else if c & 0xf8 == 0xf0 {
        4
    } else {
        1
    }
}

fn is_space(b: &[u8], i: usize) -> bool {
    b.get(i) == Some(&b' ')
}

fn is_break(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        Some(b'\r') | Some(b'\n') => true,
        Some(0xc2) => b.get(i + 1) == Some(&0x85),
        Some(0xe2) => {
            b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8) | Some(0xa9))
        }
        _ => false,
    }
}

fn is_blankz(b: &[u8], i: usize) -> bool {
    i >= b.len() || matches!(b[i], b' ' | b'\t' | 0) || is_break(b, i)
}

fn analyze(v: &[u8]) -> Analysis {
    if v.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain: false,
            block_plain: true,
            single: true,
            block: false,
        };
    }
    let (mut block_ind, mut flow_ind, mut line_breaks, mut special) = (false, false, false, false);
    let mut tabs = false;
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    if v.len() >= 3 && (v.starts_with(b"---") || v.starts_with(b"...")) {
        block_ind = true;
        flow_ind = true;
    }
    let mut preceded_ws = true;
    let mut i = 0;
    while i < v.len() {
        let w = width(v[i]);
        let followed_ws = i + w >= v.len() || is_blankz(v, i + w);
        if i == 0 {
            match v[i] {
                b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>'
                | b'\'' | b'"' | b'%' | b'@' | b'`' => {
                    flow_ind = true;
                    block_ind = true;
                }
                b'?' | b':' => {
                    flow_ind = true;
                    if followed_ws {
                        block_ind = true;
                    }
                }
                b'-' => {
                    if followed_ws {
                        flow_ind = true;
                        block_ind = true;
                    }
                }
                _ => {}
            }
        } else {
            match v[i] {
                b',' | b'?' | b'[' | b']' | b'{' | b'}' => flow_ind = true,
                b':' => {
                    flow_ind = true;
                    if followed_ws {
                        block_ind = true;
                    }
                }
                b'#' => {
                    if preceded_ws {
                        flow_ind = true;
                        block_ind = true;
                    }
                }
                _ => {}
            }
        }
        if v[i] == b'\t' {
            tabs = true;
        } else if !is_printable(v, i) {
            special = true;
        }
        if is_space(v, i) {
            if i == 0 {
                leading_space = true;
            }
            if i + w == v.len() {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(v, i) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + w == v.len() {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_ws = is_blankz(v, i);
        i += w;
    }
    let mut a = Analysis {
        multiline: line_breaks,
        flow_plain: true,
        block_plain: true,
        single: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.flow_plain = false;
        a.block_plain = false;
        a.single = false;
    }
    if space_break || tabs || special {
        a.flow_plain = false;
        a.block_plain = false;
        a.single = false;
    }
    if space_break || special {
        a.block = false;
    }
    if line_breaks {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if flow_ind {
        a.flow_plain = false;
    }
    if block_ind {
        a.block_plain = false;
    }
    a
}

struct Emitter {
    out: Vec<u8>,
    column: i64,
    indent: i64,
    indents: Vec<i64>,
    whitespace: bool,
    indention: bool,
    flow_level: usize,
}

const BEST_INDENT: i64 = 4;

impl Emitter {
    fn put(&mut self, c: u8) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push(b'\n');
        self.column = 0;
        self.indention = true;
    }

    fn write(&mut self, v: &[u8], i: &mut usize) {
        let w = width(v[*i]).min(v.len() - *i);
        self.out.extend_from_slice(&v[*i..*i + w]);
        self.column += 1;
        *i += w;
    }

    fn write_break(&mut self, v: &[u8], i: &mut usize) {
        if v[*i] == b'\n' {
            self.put_break();
            *i += 1;
        } else {
            self.write(v, i);
            self.column = 0;
            self.indention = true;
        }
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(b' ');
        }
        self.whitespace = true;
    }

    fn write_indicator(&mut self, ind: &[u8], need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(b' ');
        }
        for &c in ind {
            self.put(c);
        }
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    /// `yaml_emitter_increase_indent`; `in_seq_item` is whether the
    /// enclosing state is a block sequence item.
    fn increase_indent(&mut self, flow: bool, in_seq_item: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if in_seq_item {
            self.indent += 2;
        } else {
            self.indent = BEST_INDENT * ((self.indent + BEST_INDENT) / BEST_INDENT);
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn node(&mut self, v: &Value, simple_key: bool, in_seq_item: bool) -> Result<(), String> {
        match v {
            Value::Map(_) | Value::StrMap(_) | Value::AnyMap(_) => {
                let entries = sorted_entries(v);
                if entries.is_empty() || self.flow_level > 0 {
                    self.write_indicator(b"{", true, true, false);
                    self.increase_indent(true, in_seq_item);
                    self.flow_level += 1;
                    self.flow_level -= 1;
                    self.pop_indent();
                    self.write_indicator(b"}", false, false, false);
                    return Ok(());
                }
                self.increase_indent(false, in_seq_item);
                for (k, x) in entries {
                    self.write_indent();
                    if is_simple_key(&k) {
                        self.node(&k, true, false)?;
                        self.write_indicator(b":", false, false, false);
                    } else {
                        self.write_indicator(b"?", true, false, true);
                        self.node(&k, false, false)?;
                        self.write_indent();
                        self.write_indicator(b":", true, false, true);
                    }
                    self.node(&x, false, false)?;
                }
                self.pop_indent();
                Ok(())
            }
            Value::List(_) | Value::StrList(_) | Value::IntList(_) | Value::ListList(_) => {
                let items = v.slice_items().unwrap_or_default();
                if items.is_empty() || self.flow_level > 0 {
                    self.write_indicator(b"[", true, true, false);
                    self.increase_indent(true, in_seq_item);
                    self.pop_indent();
                    self.write_indicator(b"]", false, false, false);
                    return Ok(());
                }
                self.increase_indent(false, in_seq_item);
                for x in &items {
                    self.write_indent();
                    self.write_indicator(b"-", true, false, true);
                    self.node(x, false, true)?;
                }
                self.pop_indent();
                Ok(())
            }
            _ => {
                let (text, style) = scalar_text(v)?;
                self.scalar(text.as_bytes(), style, simple_key, in_seq_item);
                Ok(())
            }
        }
    }

    fn scalar(&mut self, v: &[u8], requested: Style, simple_key: bool, in_seq_item: bool) {
        let a = analyze(v);
        let mut style = requested;
        if simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain {
            if (self.flow_level > 0 && !a.flow_plain) || (self.flow_level == 0 && !a.block_plain) {
                style = Style::Single;
            }
            if v.is_empty() && (self.flow_level > 0 || simple_key) {
                style = Style::Single;
            }
        }
        if style == Style::Single && !a.single {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block || self.flow_level > 0 || simple_key) {
            style = Style::Double;
        }
        self.increase_indent(true, in_seq_item);
        match style {
            Style::Plain => {
                if !v.is_empty() && !self.whitespace {
                    self.put(b' ');
                }
                let mut i = 0;
                while i < v.len() {
                    self.write(v, &mut i);
                }
                if !v.is_empty() {
                    self.whitespace = false;
                }
                self.indention = false;
            }
            Style::Single => {
                self.write_indicator(b"'", true, false, false);
                let mut i = 0;
                let mut breaks = false;
                while i < v.len() {
                    if is_break(v, i) {
                        if !breaks && v[i] == b'\n' {
                            self.put_break();
                        }
                        self.write_break(v, &mut i);
                        breaks = true;
                    } else {
                        if breaks {
                            self.write_indent();
                        }
                        if v[i] == b'\'' {
                            self.put(b'\'');
                        }
                        self.write(v, &mut i);
                        self.indention = false;
                        breaks = false;
                    }
                }
                self.write_indicator(b"'", false, false, false);
                self.whitespace = false;
                self.indention = false;
            }
            Style::Double => {
                self.write_indicator(b"\"", true, false, false);
                let mut i = 0;
                while i < v.len() {
                    let bom = v[i..].starts_with(&[0xef, 0xbb, 0xbf]);
                    if !is_printable(v, i) || bom || is_break(v, i) || v[i] == b'"' || v[i] == b'\\'
                    {
                        let (r, w) = super::strconv::decode_rune(&v[i..]);
                        let cp = r.map(|c| c as u32).unwrap_or(v[i] as u32);
                        i += w.max(1);
                        self.put(b'\\');
                        let simple = match cp {
                            0x00 => Some(b'0'),
                            0x07 => Some(b'a'),
                            0x08 => Some(b'b'),
                            0x09 => Some(b't'),
                            0x0a => Some(b'n'),
                            0x0b => Some(b'v'),
                            0x0c => Some(b'f'),
                            0x0d => Some(b'r'),
                            0x1b => Some(b'e'),
                            0x22 => Some(b'"'),
                            0x5c => Some(b'\\'),
                            0x85 => Some(b'N'),
                            0xa0 => Some(b'_'),
                            0x2028 => Some(b'L'),
                            0x2029 => Some(b'P'),
                            _ => None,
                        };
                        match simple {
                            Some(c) => self.put(c),
                            None => {
                                let (p, n) = if cp <= 0xff {
                                    (b'x', 2)
                                } else if cp <= 0xffff {
                                    (b'u', 4)
                                } else {
                                    (b'U', 8)
                                };
                                self.put(p);
                                for k in (0..n).rev() {
                                    let d = ((cp >> (k * 4)) & 0xf) as u8;
                                    self.put(if d < 10 { b'0' + d } else { b'A' + d - 10 });
                                }
                            }
                        }
                    } else {
                        self.write(v, &mut i);
                    }
                }
                self.write_indicator(b"\"", false, false, false);
                self.whitespace = false;
                self.indention = false;
            }
            Style::Literal => {
                self.write_indicator(b"|", true, false, false);
                if is_space(v, 0) || is_break(v, 0) {
                    self.write_indicator(&[b'0' + BEST_INDENT as u8], false, false, false);
                }
                let chomp = if v.is_empty() {
                    Some(b'-')
                } else {
                    let mut i = v.len() - 1;
                    while i > 0 && v[i] & 0xc0 == 0x80 {
                        i -= 1;
                    }
                    if !is_break(v, i) {
                        Some(b'-')
                    } else if i == 0 {
                        Some(b'+')
                    } else {
                        let mut j = i - 1;
                        while j > 0 && v[j] & 0xc0 == 0x80 {
                            j -= 1;
                        }
                        if is_break(v, j) {
                            Some(b'+')
                        } else {
                            None
                        }
                    }
                };
                if let Some(c) = chomp {
                    self.write_indicator(&[c], false, false, false);
                }
                self.put_break();
                self.whitespace = true;
                let mut breaks = true;
                let mut i = 0;
                while i < v.len() {
                    if is_break(v, i) {
                        self.write_break(v, &mut i);
                        breaks = true;
                    } else {
                        if breaks {
                            self.write_indent();
                        }
                        self.write(v, &mut i);
                        self.indention = false;
                        breaks = false;
                    }
                }
            }
        }
        self.pop_indent();
    }
}

fn is_simple_key(k: &Value) -> bool {
    match k {
        Value::Map(_) | Value::StrMap(_) | Value::AnyMap(_) => k.len() == Some(0),
        Value::List(_) | Value::StrList(_) | Value::IntList(_) | Value::ListList(_) => {
            k.len() == Some(0)
        }
        _ => match scalar_text(k) {
            Ok((t, _)) => !t.contains('\n') && t.len() <= 128,
            Err(_) => false,
        },
    }
}

fn scalar_text(v: &Value) -> Result<(String, Style), String> {
    Ok(match v {
        Value::Nil => ("null".into(), Style::Plain),
        Value::Bool(b) => ((if *b { "true" } else { "false" }).into(), Style::Plain),
        Value::Int(i) | Value::Int64(i) => (i.to_string(), Style::Plain),
        Value::Uint(u) => (u.to_string(), Style::Plain),
        Value::Uint8(u) => (u.to_string(), Style::Plain),
        Value::Float(f) => {
            let s = super::strconv::format_float(*f, b'g', -1);
            let s = match s.as_str() {
                "+Inf" => ".inf".to_string(),
                "-Inf" => "-.inf".to_string(),
                "NaN" => ".nan".to_string(),
                _ => s,
            };
            (s, Style::Plain)
        }
        Value::Complex(..) => return Err("cannot marshal type: complex128".into()),
        Value::Time(t) => (t.rfc3339nano(), Style::Plain),
        Value::Bytes(b) => (super::funcs::b64_encode_pub(b), Style::Plain),
        Value::Str(s) => {
            let can_plain =
                resolve_plain(s) == Resolved::Str && !is_base60_float(s) && !is_old_bool(s);
            let style = if s.contains('\n') {
                Style::Literal
            } else if can_plain {
                Style::Plain
            } else {
                Style::Double
            };
            (s.clone(), style)
        }
        _ => (String::new(), Style::Plain),
    })
}

fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !(b[0] == b'+' || b[0] == b'-' || b[0].is_ascii_digit()) || !s.contains(':')
    {
        return false;
    }
    let mut i = 0;
    if b[0] == b'+' || b[0] == b'-' {
        i = 1;
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
        if g.is_empty() || (g.len() == 2 && g.as_bytes()[0] > b'5') {
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

/// go-yaml v3's key order: numbers before strings, natural order inside
/// strings ("a2" < "a10").
fn key_less(a: &Value, b: &Value) -> bool {
    fn num(v: &Value) -> Option<f64> {
        match v {
            Value::Int(i) | Value::Int64(i) => Some(*i as f64),
            Value::Uint(u) => Some(*u as f64),
            Value::Uint8(u) => Some(*u as f64),
            Value::Float(f) => Some(*f),
            Value::Bool(b) => Some(*b as i64 as f64),
            _ => None,
        }
    }
    fn kind_rank(v: &Value) -> u8 {
        // reflect.Kind numeric order: Bool=1, Int=2, Int64=6, Uint8=8,
        // Uint64=11, Float64=14, Map=21, Slice=23, String=24, Struct=25.
        match v {
            // A nil interface key keeps kind Interface.
            Value::Nil => 20,
            Value::Bool(_) => 1,
            Value::Int(_) => 2,
            Value::Int64(_) => 6,
            Value::Uint8(_) => 8,
            Value::Uint(_) => 11,
            Value::Float(_) => 14,
            Value::Map(_) | Value::StrMap(_) | Value::AnyMap(_) => 21,
            Value::List(_) | Value::StrList(_) | Value::IntList(_) | Value::ListList(_) => 23,
            Value::Str(_) | Value::Bytes(_) => 24,
            _ => 25,
        }
    }
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        if x != y {
            return x < y;
        }
        return kind_rank(a) < kind_rank(b);
    }
    let (Some(sa), Some(sb)) = (a.go_str(), b.go_str()) else {
        return kind_rank(a) < kind_rank(b);
    };
    let ar: Vec<char> = sa.chars().collect();
    let br: Vec<char> = sb.chars().collect();
    let mut digits = false;
    let n = ar.len().min(br.len());
    for i in 0..n {
        if ar[i] == br[i] {
            digits = ar[i].is_ascii_digit();
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return if digits { al } else { bl };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .saturating_mul(10)
                .saturating_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .saturating_mul(10)
                .saturating_add(br[bi] as i64 - '0' as i64);
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

fn sorted_entries(v: &Value) -> Vec<(Value, Value)> {
    let mut e: Vec<(Value, Value)> = match v {
        Value::Map(m) => m
            .iter()
            .map(|(k, x)| (Value::Str(k.clone()), x.clone()))
            .collect(),
        Value::StrMap(m) => m
            .iter()
            .map(|(k, x)| (Value::Str(k.clone()), Value::Str(x.clone())))
            .collect(),
        Value::AnyMap(m) => m.clone(),
        _ => Vec::new(),
    };
    e.sort_by(|a, b| {
        if key_less(&a.0, &b.0) {
            std::cmp::Ordering::Less
        } else if key_less(&b.0, &a.0) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
    e
}

/// `yaml.Marshal(v)` as go-yaml v3 writes it.
pub fn to_yaml(v: &Value) -> Result<String, String> {
    let mut e = Emitter {
        out: Vec::new(),
        column: 0,
        indent: -1,
        indents: Vec::new(),
        whitespace: true,
        indention: true,
        flow_level: 0,
    };
    e.node(v, false, false)?;
    // Document end: an implicit end only finishes the line.
    e.indent = -1;
    e.write_indent();
    Ok(String::from_utf8(e.out).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::parse_yaml_value;

    fn y(src: &str) -> String {
        to_yaml(&parse_yaml_value(src).unwrap()).unwrap()
    }

    #[test]
    fn emits_like_go_yaml_v3() {
        assert_eq!(y("{a: s, z: [1, {}]}"), "a: s\nz:\n    - 1\n    - {}\n");
        assert_eq!(
            y("[{a: 1, b: 2}, [x, p]]"),
            "- a: 1\n  b: 2\n- - x\n  - p\n"
        );
        assert_eq!(
            to_yaml(&Value::str("multi\nline")).unwrap(),
            "|-\n    multi\n    line\n"
        );
        assert_eq!(to_yaml(&Value::str("123")).unwrap(), "\"123\"\n");
        assert_eq!(to_yaml(&Value::str("a: b")).unwrap(), "'a: b'\n");
        assert_eq!(to_yaml(&Value::str("")).unwrap(), "\"\"\n");
        assert_eq!(to_yaml(&Value::Nil).unwrap(), "null\n");
        assert_eq!(y("{k: \"x\\n\"}"), "k: |\n    x\n");
    }
}

//! `shell.Fields` of mvdan.cc/sh as go-task's `splitArgs` uses it: shell
//! words with quoting, parameter and arithmetic expansion, tilde and brace
//! expansion and field splitting, no globbing and no command substitution.

/// One piece of a word: literal text (never split) or expansion output
/// (split on IFS when unquoted), or a brace group to expand.
#[derive(Clone, Debug)]
enum Part {
    Lit(String),
    Exp(String),
    Brace(Vec<Vec<Part>>),
}

struct P<'s> {
    s: &'s [u8],
    i: usize,
    env: &'s dyn Fn(&str) -> Option<String>,
}

fn pos(s: &[u8], i: usize) -> (usize, usize) {
    let mut line = 1;
    let mut col = 1;
    for &c in &s[..i.min(s.len())] {
        if c == b'\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

const OPS: &[&str] = &[
    ";;&", ";&", ";;", "||", "&&", "|&", ">>", "<<", "&>", ">|", "<>", "<&", ">&", "|", "&", ";",
    ">", "<", "(", ")",
];

impl<'s> P<'s> {
    fn err_at(&self, i: usize, msg: &str) -> String {
        let (l, c) = pos(self.s, i);
        format!("{}:{}: {}", l, c, msg)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn var(&self, name: &str) -> String {
        (self.env)(name).unwrap_or_default()
    }

    /// `$...` at self.i (which points at `$`).
    fn dollar(&mut self, quoted: bool) -> Result<Option<String>, String> {
        let start = self.i;
        let s = self.s;
        let next = s.get(self.i + 1).copied();
        match next {
            Some(b'(') => {
                if s.get(self.i + 2) == Some(&b'(') {
                    // $(( arithmetic ))
                    let body_start = self.i + 3;
                    let mut depth = 0i32;
                    let mut j = body_start;
                    while j + 1 < s.len() {
                        match s[j] {
                            b'(' => depth += 1,
                            b')' if depth > 0 => depth -= 1,
                            b')' if s[j + 1] == b')' => break,
                            _ => {}
                        }
                        j += 1;
                    }
                    if j + 1 >= s.len() {
                        return Err(self.err_at(start, "reached EOF without matching $(( with ))"));
                    }
                    let expr = String::from_utf8_lossy(&s[body_start..j]).into_owned();
                    self.i = j + 2;
                    let v = arith(&expr, &|n| self.var(n)).map_err(|e| self.err_at(start, &e))?;
                    return Ok(Some(v.to_string()));
                }
                let (l, c) = pos(s, start);
                Err(format!("unexpected command substitution at {}:{}", l, c))
            }
            Some(b'{') => {
                let Some(end) = s[self.i + 2..].iter().position(|&c| c == b'}') else {
                    return Err(self.err_at(start, "reached EOF without matching ${ with }"));
                };
                let body = String::from_utf8_lossy(&s[self.i + 2..self.i + 2 + end]).into_owned();
                self.i += 3 + end;
                let name_len = body
                    .bytes()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    .count()
                    .max(if body.starts_with(|c: char| "#?*@$!-".contains(c)) {
                        1
                    } else {
                        0
                    });
                let (name, op) = body.split_at(name_len);
                let val = (self.env)(name);
                let v = if let Some(d) = op.strip_prefix(":-") {
                    match val {
                        Some(v) if !v.is_empty() => v,
                        _ => d.to_string(),
                    }
                } else if let Some(d) = op.strip_prefix('-') {
                    val.unwrap_or_else(|| d.to_string())
                } else if let Some(d) = op.strip_prefix(":+") {
                    match val {
                        Some(v) if !v.is_empty() => d.to_string(),
                        _ => String::new(),
                    }
                } else if let Some(d) = op.strip_prefix('+') {
                    if val.is_some() {
                        d.to_string()
                    } else {
                        String::new()
                    }
                } else {
                    val.unwrap_or_default()
                };
                Ok(Some(v))
            }
            Some(b'\'') if !quoted => {
                // $'...' ANSI-C quoting.
                self.i += 2;
                let mut out = Vec::new();
                loop {
                    let Some(c) = self.peek() else {
                        return Err(self.err_at(start, "reached EOF without closing quote `'`"));
                    };
                    self.i += 1;
                    match c {
                        b'\'' => break,
                        b'\\' => {
                            let Some(e) = self.peek() else { continue };
                            self.i += 1;
                            match e {
                                b'n' => out.push(b'\n'),
                                b't' => out.push(b'\t'),
                                b'r' => out.push(b'\r'),
                                b'a' => out.push(7),
                                b'b' => out.push(8),
                                b'e' | b'E' => out.push(0x1b),
                                b'f' => out.push(12),
                                b'v' => out.push(11),
                                b'\\' | b'\'' | b'"' | b'?' => out.push(e),
                                b'x' => {
                                    let mut v = 0u32;
                                    let mut n = 0;
                                    while n < 2
                                        && self.peek().is_some_and(|c| c.is_ascii_hexdigit())
                                    {
                                        v = v * 16
                                            + (self.peek().unwrap() as char).to_digit(16).unwrap();
                                        self.i += 1;
                                        n += 1;
                                    }
                                    out.push(v as u8);
                                }
                                b'u' | b'U' => {
                                    let max = if e == b'u' { 4 } else { 8 };
                                    let mut v = 0u32;
                                    let mut n = 0;
                                    while n < max
                                        && self.peek().is_some_and(|c| c.is_ascii_hexdigit())
                                    {
                                        v = v * 16
                                            + (self.peek().unwrap() as char).to_digit(16).unwrap();
                                        self.i += 1;
                                        n += 1;
                                    }
                                    let ch = char::from_u32(v).unwrap_or('\u{fffd}');
                                    let mut b = [0u8; 4];
                                    out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                                }
                                b'0'..=b'7' => {
                                    let mut v = (e - b'0') as u32;
                                    let mut n = 1;
                                    while n < 3
                                        && self.peek().is_some_and(|c| (b'0'..=b'7').contains(&c))
                                    {
                                        v = v * 8 + (self.peek().unwrap() - b'0') as u32;
                                        self.i += 1;
                                        n += 1;
                                    }
                                    out.push(v as u8);
                                }
                                other => {
                                    out.push(b'\\');
                                    out.push(other);
                                }
                            }
                        }
                        c => out.push(c),
                    }
                }
                Ok(Some(format!("\u{0}{}", String::from_utf8_lossy(&out))))
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let st = self.i + 1;
                let mut j = st;
                while j < s.len() && (s[j].is_ascii_alphanumeric() || s[j] == b'_') {
                    j += 1;
                }
                let name = String::from_utf8_lossy(&s[st..j]).into_owned();
                self.i = j;
                Ok(Some(self.var(&name)))
            }
            Some(c) if c.is_ascii_digit() || b"#?*@$!-".contains(&c) => {
                self.i += 2;
                Ok(Some(self.var(&(c as char).to_string())))
            }
            _ => {
                self.i += 1;
                Ok(None)
            }
        }
    }

    /// Parses one word into parts; stops at unquoted blanks.
    fn word(&mut self) -> Result<Vec<Part>, String> {
        let mut parts: Vec<Part> = Vec::new();
        let mut lit = String::new();
        let flush = |lit: &mut String, parts: &mut Vec<Part>| {
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(lit)));
            }
        };
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\n' => break,
                b'\'' => {
                    let st = self.i;
                    let Some(end) = self.s[self.i + 1..].iter().position(|&c| c == b'\'') else {
                        return Err(self.err_at(st, "reached EOF without closing quote `'`"));
                    };
                    lit.push_str(&String::from_utf8_lossy(
                        &self.s[self.i + 1..self.i + 1 + end],
                    ));
                    self.i += end + 2;
                    // An empty quoted string still makes a word.
                    flush(&mut lit, &mut parts);
                    parts.push(Part::Lit(String::new()));
                }
                b'"' => {
                    let st = self.i;
                    self.i += 1;
                    parts.push(Part::Lit(String::new()));
                    loop {
                        let Some(c) = self.peek() else {
                            return Err(self.err_at(st, "reached EOF without closing quote `\"`"));
                        };
                        match c {
                            b'"' => {
                                self.i += 1;
                                break;
                            }
                            b'\\' => {
                                let n = self.s.get(self.i + 1).copied();
                                match n {
                                    Some(b'$') | Some(b'`') | Some(b'"') | Some(b'\\') => {
                                        lit.push(n.unwrap() as char);
                                        self.i += 2;
                                    }
                                    Some(b'\n') => self.i += 2,
                                    _ => {
                                        lit.push('\\');
                                        self.i += 1;
                                    }
                                }
                            }
                            b'`' => {
                                let (l, c) = pos(self.s, self.i);
                                return Err(format!(
                                    "unexpected command substitution at {}:{}",
                                    l, c
                                ));
                            }
                            b'$' => match self.dollar(true)? {
                                Some(v) => lit.push_str(&v),
                                None => lit.push('$'),
                            },
                            _ => {
                                let ch = std::str::from_utf8(&self.s[self.i..])
                                    .ok()
                                    .and_then(|t| t.chars().next())
                                    .unwrap_or(self.s[self.i] as char);
                                lit.push(ch);
                                self.i += ch.len_utf8();
                            }
                        }
                    }
                    flush(&mut lit, &mut parts);
                }
                b'\\' => {
                    match self.s.get(self.i + 1) {
                        Some(b'\n') => {}
                        Some(&n) => lit.push(n as char),
                        None => lit.push('\\'),
                    }
                    self.i += 2;
                }
                b'`' => {
                    let (l, c) = pos(self.s, self.i);
                    return Err(format!("unexpected command substitution at {}:{}", l, c));
                }
                b'$' => {
                    let before = self.i;
                    match self.dollar(false)? {
                        Some(v) if v.starts_with('\u{0}') => {
                            lit.push_str(&v[1..]);
                            flush(&mut lit, &mut parts);
                        }
                        Some(v) => {
                            flush(&mut lit, &mut parts);
                            parts.push(Part::Exp(v));
                        }
                        None => {
                            let _ = before;
                            lit.push('$');
                        }
                    }
                }
                b'{' => {
                    flush(&mut lit, &mut parts);
                    match self.brace()? {
                        Some(b) => parts.push(b),
                        None => {
                            lit.push('{');
                            self.i += 1;
                        }
                    }
                }
                _ => {
                    if let Some(op) = OPS
                        .iter()
                        .find(|op| self.s[self.i..].starts_with(op.as_bytes()))
                    {
                        if !(*op == "(" || *op == ")") || true {
                            let (l, c) = pos(self.s, self.i);
                            return Err(format!("{}:{}: `{}` is not a valid word", l, c, op));
                        }
                    }
                    let ch = std::str::from_utf8(&self.s[self.i..])
                        .ok()
                        .and_then(|t| t.chars().next())
                        .unwrap_or(self.s[self.i] as char);
                    lit.push(ch);
                    self.i += ch.len_utf8().max(1);
                }
            }
        }
        flush(&mut lit, &mut parts);
        Ok(parts)
    }

    /// A brace expansion at self.i (`{a,b}` or `{1..3}`); `None` if the
    /// braces do not form one.
    fn brace(&mut self) -> Result<Option<Part>, String> {
        let s = self.s;
        let st = self.i;
        let mut depth = 0;
        let mut j = st;
        let mut commas = Vec::new();
        while j < s.len() {
            match s[j] {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                b',' if depth == 1 => commas.push(j),
                b' ' | b'\t' | b'\n' | b'\'' | b'"' | b'$' | b'\\' => return Ok(None),
                _ => {}
            }
            j += 1;
        }
        if j >= s.len() {
            return Ok(None);
        }
        let inner = &s[st + 1..j];
        if commas.is_empty() {
            let t = String::from_utf8_lossy(inner).into_owned();
            if let Some((a, b)) = t.split_once("..") {
                let seq: Option<Vec<String>> = match (a.parse::<i64>(), b.parse::<i64>()) {
                    (Ok(x), Ok(y)) => {
                        let v: Vec<i64> = if x <= y {
                            (x..=y).collect()
                        } else {
                            (y..=x).rev().collect()
                        };
                        Some(v.iter().map(|n| n.to_string()).collect())
                    }
                    _ if a.len() == 1 && b.len() == 1 => {
                        let (x, y) = (a.as_bytes()[0], b.as_bytes()[0]);
                        let v: Vec<u8> = if x <= y {
                            (x..=y).collect()
                        } else {
                            (y..=x).rev().collect()
                        };
                        Some(v.iter().map(|c| (*c as char).to_string()).collect())
                    }
                    _ => None,
                };
                if let Some(seq) = seq {
                    self.i = j + 1;
                    return Ok(Some(Part::Brace(
                        seq.into_iter().map(|x| vec![Part::Lit(x)]).collect(),
                    )));
                }
            }
            return Ok(None);
        }
        let mut alts = Vec::new();
        let mut prev = st + 1;
        for &c in commas.iter().chain(std::iter::once(&j)) {
            let sub = &s[prev..c];
            let mut p = P {
                s: sub,
                i: 0,
                env: self.env,
            };
            alts.push(p.word()?);
            prev = c + 1;
        }
        self.i = j + 1;
        Ok(Some(Part::Brace(alts)))
    }
}

/// Expands brace groups into alternative part lists.
fn expand_braces(parts: &[Part]) -> Vec<Vec<Part>> {
    let mut out: Vec<Vec<Part>> = vec![Vec::new()];
    for p in parts {
        match p {
            Part::Brace(alts) => {
                let mut next = Vec::new();
                for prefix in &out {
                    for alt in alts {
                        for exp in expand_braces(alt) {
                            let mut v = prefix.clone();
                            v.extend(exp);
                            next.push(v);
                        }
                    }
                }
                out = next;
            }
            other => {
                for v in out.iter_mut() {
                    v.push(other.clone());
                }
            }
        }
    }
    out
}

/// Field splitting of one expanded word.
fn fields_of(parts: &[Part], out: &mut Vec<String>) {
    let mut cur = String::new();
    let mut has = false;
    for p in parts {
        match p {
            Part::Lit(s) => {
                cur.push_str(s);
                has = true;
            }
            Part::Exp(v) => {
                let mut pieces = v.split([' ', '\t', '\n']).peekable();
                if v.starts_with([' ', '\t', '\n']) && has && !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
                while let Some(piece) = pieces.next() {
                    if !piece.is_empty() {
                        cur.push_str(piece);
                        has = true;
                    }
                    if pieces.peek().is_some() && has {
                        out.push(std::mem::take(&mut cur));
                        has = false;
                    }
                }
            }
            Part::Brace(_) => {}
        }
    }
    if has {
        out.push(cur);
    }
}

fn home_of(user: &str) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 5 && f[0] == user).then(|| f[5].to_string())
    })
}

/// `shell.Fields(s, env)`.
pub fn fields(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<String>, String> {
    let b = s.as_bytes();
    let mut p = P { s: b, i: 0, env };
    let mut out = Vec::new();
    loop {
        while p.peek().is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n')) {
            p.i += 1;
        }
        let Some(c) = p.peek() else { break };
        if c == b'#' {
            while p.peek().is_some_and(|c| c != b'\n') {
                p.i += 1;
            }
            continue;
        }
        // Tilde expansion at the start of a word.
        let mut tilde: Option<String> = None;
        if c == b'~' {
            let end = b[p.i..]
                .iter()
                .position(|c| matches!(c, b'/' | b' ' | b'\t' | b'\n'))
                .map(|k| p.i + k)
                .unwrap_or(b.len());
            let user = &s[p.i + 1..end];
            if user
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
            {
                let home = if user.is_empty() {
                    (p.env)("HOME")
                } else {
                    home_of(user)
                };
                if let Some(h) = home {
                    tilde = Some(h);
                    p.i = end;
                }
            }
        }
        let mut parts = p.word()?;
        if let Some(h) = tilde {
            parts.insert(0, Part::Lit(h));
        }
        for alt in expand_braces(&parts) {
            fields_of(&alt, &mut out);
        }
    }
    Ok(out)
}

/// Shell arithmetic for `$((...))`: integers, + - * / % and parentheses,
/// variables by name.
fn arith(expr: &str, var: &dyn Fn(&str) -> String) -> Result<i64, String> {
    struct A<'e> {
        t: Vec<char>,
        i: usize,
        var: &'e dyn Fn(&str) -> String,
    }
    impl A<'_> {
        fn ws(&mut self) {
            while self.i < self.t.len() && self.t[self.i].is_whitespace() {
                self.i += 1;
            }
        }
        fn atom(&mut self) -> Result<i64, String> {
            self.ws();
            let Some(&c) = self.t.get(self.i) else {
                return Err("missing operand".into());
            };
            if c == '(' {
                self.i += 1;
                let v = self.sum()?;
                self.ws();
                self.i += 1;
                return Ok(v);
            }
            if c == '-' || c == '+' {
                self.i += 1;
                let v = self.atom()?;
                return Ok(if c == '-' { -v } else { v });
            }
            let st = self.i;
            while self.i < self.t.len()
                && (self.t[self.i].is_alphanumeric()
                    || self.t[self.i] == '_'
                    || self.t[self.i] == '$')
            {
                self.i += 1;
            }
            let w: String = self.t[st..self.i].iter().collect();
            if w.is_empty() {
                return Err(format!("invalid arithmetic operator: {}", c));
            }
            if let Ok(n) = w.parse::<i64>() {
                return Ok(n);
            }
            let name = w.trim_start_matches('$');
            Ok((self.var)(name).trim().parse::<i64>().unwrap_or(0))
        }
        fn prod(&mut self) -> Result<i64, String> {
            let mut v = self.atom()?;
            loop {
                self.ws();
                match self.t.get(self.i) {
                    Some('*') => {
                        self.i += 1;
                        v = v.wrapping_mul(self.atom()?);
                    }
                    Some('/') | Some('%') => {
                        let op = self.t[self.i];
                        self.i += 1;
                        let d = self.atom()?;
                        if d == 0 {
                            return Err("division by zero".into());
                        }
                        v = if op == '/' {
                            v.wrapping_div(d)
                        } else {
                            v.wrapping_rem(d)
                        };
                    }
                    _ => return Ok(v),
                }
            }
        }
        fn sum(&mut self) -> Result<i64, String> {
            let mut v = self.prod()?;
            loop {
                self.ws();
                match self.t.get(self.i) {
                    Some('+') => {
                        self.i += 1;
                        v = v.wrapping_add(self.prod()?);
                    }
                    Some('-') => {
                        self.i += 1;
                        v = v.wrapping_sub(self.prod()?);
                    }
                    _ => return Ok(v),
                }
            }
        }
    }
    let mut a = A {
        t: expr.chars().collect(),
        i: 0,
        var,
    };
    a.sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Result<Vec<String>, String> {
        fields(s, &|n| match n {
            "HOME" => Some("/h".into()),
            "V" => Some("a b".into()),
            _ => None,
        })
    }

    #[test]
    fn words() {
        assert_eq!(
            f("a 'b c' \"d e\" f\\ g").unwrap(),
            vec!["a", "b c", "d e", "f g"]
        );
        assert_eq!(f("$V \"$V\"").unwrap(), vec!["a", "b", "a b"]);
        assert_eq!(
            f("{a,b}c x{1..3}").unwrap(),
            vec!["ac", "bc", "x1", "x2", "x3"]
        );
        assert_eq!(f("~/x a~ #c").unwrap(), vec!["/h/x", "a~"]);
        assert_eq!(f("a$((1+2))b").unwrap(), vec!["a3b"]);
        assert_eq!(f("a\\").unwrap(), vec!["a\\"]);
        assert_eq!(f("a || b").unwrap_err(), "1:3: `||` is not a valid word");
        assert_eq!(
            f("a 'b").unwrap_err(),
            "1:3: reached EOF without closing quote `'`"
        );
        assert_eq!(
            f("\"$(x)\"").unwrap_err(),
            "unexpected command substitution at 1:2"
        );
    }
}

//! Go RE2 syntax on top of the `regex` crate: checks a pattern the way
//! Go's `regexp/syntax` parser does (same error codes and expressions) and
//! rewrites the places where the two differ (`\d`, `\w`, `\s`, `\b` are
//! ASCII-only in Go; octal and `\Q...\E` escapes; escaped punctuation).

const ERR_MISSING_PAREN: &str = "missing closing )";
const ERR_MISSING_BRACKET: &str = "missing closing ]";
const ERR_UNEXPECTED_PAREN: &str = "unexpected )";
const ERR_MISSING_REPEAT: &str = "missing argument to repetition operator";
const ERR_INVALID_REPEAT_OP: &str = "invalid nested repetition operator";
const ERR_INVALID_REPEAT_SIZE: &str = "invalid repeat count";
const ERR_INVALID_ESCAPE: &str = "invalid escape sequence";
const ERR_TRAILING_BACKSLASH: &str = "trailing backslash at end of expression";
const ERR_INVALID_CHAR_RANGE: &str = "invalid character class range";
const ERR_INVALID_PERL_OP: &str = "invalid or unsupported Perl syntax";
const ERR_INVALID_NAMED_CAPTURE: &str = "invalid named capture";

pub struct GoErr {
    code: &'static str,
    expr: String,
}

impl std::fmt::Display for GoErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "error parsing regexp: {}: `{}`", self.code, self.expr)
    }
}

fn err(code: &'static str, expr: &str) -> GoErr {
    GoErr {
        code,
        expr: expr.to_string(),
    }
}

const POSIX: &[&str] = &[
    "[:alnum:]",
    "[:alpha:]",
    "[:ascii:]",
    "[:blank:]",
    "[:cntrl:]",
    "[:digit:]",
    "[:graph:]",
    "[:lower:]",
    "[:print:]",
    "[:punct:]",
    "[:space:]",
    "[:upper:]",
    "[:word:]",
    "[:xdigit:]",
];

fn perl_class(c: char, in_class: bool) -> Option<&'static str> {
    Some(match (c, in_class) {
        ('d', false) => "[0-9]",
        ('D', _) => "[^0-9]",
        ('w', false) => "[0-9A-Za-z_]",
        ('W', _) => "[^0-9A-Za-z_]",
        ('s', false) => "[\\t\\n\\x0C\\r ]",
        ('S', _) => "[^\\t\\n\\x0C\\r ]",
        ('d', true) => "0-9",
        ('w', true) => "0-9A-Za-z_",
        ('s', true) => "\\t\\n\\x0C\\r ",
        _ => return None,
    })
}

fn lit(out: &mut String, c: char) {
    out.push_str(&format!("\\x{{{:X}}}", c as u32));
}

/// `parseEscape`: a single-character escape at `s` (starting with `\`).
/// Returns the character and the rest.
fn parse_escape(s: &str) -> Result<(char, &str), GoErr> {
    let t = &s[1..];
    let mut it = t.chars();
    let Some(c) = it.next() else {
        return Err(err(ERR_TRAILING_BACKSLASH, ""));
    };
    let mut rest = it.as_str();
    let bad = |rest: &str| err(ERR_INVALID_ESCAPE, &s[..s.len() - rest.len()]);
    match c {
        'a' => return Ok(('\x07', rest)),
        'f' => return Ok(('\x0c', rest)),
        'n' => return Ok(('\n', rest)),
        'r' => return Ok(('\r', rest)),
        't' => return Ok(('\t', rest)),
        'v' => return Ok(('\x0b', rest)),
        '0'..='7' => {
            if c != '0' && !rest.starts_with(|d: char| ('0'..='7').contains(&d)) {
                return Err(bad(rest));
            }
            let mut r = c as u32 - '0' as u32;
            for _ in 1..3 {
                match rest.chars().next() {
                    Some(d @ '0'..='7') => {
                        r = r * 8 + (d as u32 - '0' as u32);
                        rest = &rest[1..];
                    }
                    _ => break,
                }
            }
            return Ok((char::from_u32(r).unwrap_or('\0'), rest));
        }
        'x' => {
            let mut it = rest.chars();
            let Some(c1) = it.next() else {
                return Err(bad(rest));
            };
            rest = it.as_str();
            if c1 == '{' {
                let mut r: u32 = 0;
                let mut n = 0;
                loop {
                    let mut it = rest.chars();
                    let Some(h) = it.next() else {
                        return Err(bad(rest));
                    };
                    rest = it.as_str();
                    if h == '}' {
                        break;
                    }
                    let Some(v) = h.to_digit(16) else {
                        return Err(bad(rest));
                    };
                    r = r * 16 + v;
                    if r > 0x10ffff {
                        return Err(bad(rest));
                    }
                    n += 1;
                }
                if n == 0 {
                    return Err(bad(rest));
                }
                return Ok((char::from_u32(r).unwrap_or('\u{fffd}'), rest));
            }
            let mut it = rest.chars();
            let Some(c2) = it.next() else {
                return Err(bad(rest));
            };
            rest = it.as_str();
            match (c1.to_digit(16), c2.to_digit(16)) {
                (Some(x), Some(y)) => return Ok((char::from_u32(x * 16 + y).unwrap(), rest)),
                _ => return Err(bad(rest)),
            }
        }
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => return Ok((c, rest)),
        _ => {}
    }
    Err(bad(rest))
}

/// `\p{Name}` / `\pN` at `s`: returns (translated text, rest).
fn unicode_class(s: &str) -> Result<Option<(String, &str)>, GoErr> {
    let b = s.as_bytes();
    if b.len() < 2 || b[0] != b'\\' || (b[1] != b'p' && b[1] != b'P') {
        return Ok(None);
    }
    let t = &s[2..];
    let Some(c) = t.chars().next() else {
        return Err(err(ERR_INVALID_CHAR_RANGE, s));
    };
    let (name, rest, seq) = if c != '{' {
        (
            &t[..c.len_utf8()],
            &t[c.len_utf8()..],
            &s[..2 + c.len_utf8()],
        )
    } else {
        match t.find('}') {
            None => return Err(err(ERR_INVALID_CHAR_RANGE, s)),
            Some(end) => (&t[1..end], &t[end + 1..], &s[..2 + end + 1]),
        }
    };
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '^');
    if !name_ok || regex::Regex::new(seq).is_err() {
        return Err(err(ERR_INVALID_CHAR_RANGE, seq));
    }
    Ok(Some((seq.to_string(), rest)))
}

/// Checks `pat` with Go's rules and returns an equivalent Rust pattern.
pub fn translate(pat: &str) -> Result<String, GoErr> {
    let mut out = String::with_capacity(pat.len() + 8);
    let mut t = pat;
    // Parser stack: what can take a repetition operator.
    #[derive(PartialEq, Clone, Copy)]
    enum St {
        Paren,
        Bar,
        Atom,
    }
    let mut stack: Vec<St> = Vec::new();
    let mut depth = 0usize;
    let mut last_repeat: Option<&str> = None;
    while !t.is_empty() {
        let mut repeat: Option<&str> = None;
        let c = t.chars().next().unwrap();
        match c {
            '(' => {
                if t.starts_with("(?") {
                    let start_p = t.len() > 4 && t.as_bytes()[2] == b'P' && t.as_bytes()[3] == b'<';
                    let start_n = t.len() > 3 && t.as_bytes()[2] == b'<';
                    if start_p || start_n {
                        let expr_start = if start_n { 3 } else { 4 };
                        let Some(end) = t.find('>') else {
                            return Err(err(ERR_INVALID_NAMED_CAPTURE, t));
                        };
                        let name = &t[expr_start..end];
                        if name.is_empty() || !name.chars().all(|c| c == '_' || c.is_alphanumeric())
                        {
                            return Err(err(ERR_INVALID_NAMED_CAPTURE, &t[..end + 1]));
                        }
                        out.push_str("(?P<");
                        out.push_str(name);
                        out.push('>');
                        stack.push(St::Paren);
                        depth += 1;
                        t = &t[end + 1..];
                    } else {
                        // Flags.
                        let mut rest = &t[2..];
                        let mut sign = 1;
                        let mut saw = false;
                        let mut flags = String::new();
                        let done;
                        loop {
                            let Some(fc) = rest.chars().next() else {
                                return Err(err(ERR_INVALID_PERL_OP, &t[..t.len() - rest.len()]));
                            };
                            rest = &rest[fc.len_utf8()..];
                            match fc {
                                'i' | 'm' | 's' | 'U' => {
                                    flags.push(fc);
                                    saw = true;
                                }
                                '-' => {
                                    if sign < 0 {
                                        return Err(err(
                                            ERR_INVALID_PERL_OP,
                                            &t[..t.len() - rest.len()],
                                        ));
                                    }
                                    sign = -1;
                                    saw = false;
                                    flags.push('-');
                                }
                                ':' | ')' => {
                                    if sign < 0 && !saw {
                                        return Err(err(
                                            ERR_INVALID_PERL_OP,
                                            &t[..t.len() - rest.len()],
                                        ));
                                    }
                                    done = fc;
                                    break;
                                }
                                _ => {
                                    return Err(err(
                                        ERR_INVALID_PERL_OP,
                                        &t[..t.len() - rest.len()],
                                    ))
                                }
                            }
                        }
                        if done == ':' {
                            out.push_str(&format!("(?{}:", flags));
                            stack.push(St::Paren);
                            depth += 1;
                        } else if !flags.is_empty() {
                            out.push_str(&format!("(?{})", flags));
                        }
                        t = rest;
                    }
                } else {
                    out.push('(');
                    stack.push(St::Paren);
                    depth += 1;
                    t = &t[1..];
                }
            }
            '|' => {
                out.push('|');
                stack.push(St::Bar);
                t = &t[1..];
            }
            ')' => {
                if depth == 0 {
                    return Err(err(ERR_UNEXPECTED_PAREN, pat));
                }
                while let Some(s) = stack.pop() {
                    if s == St::Paren {
                        break;
                    }
                }
                depth -= 1;
                stack.push(St::Atom);
                out.push(')');
                t = &t[1..];
            }
            '^' | '$' | '.' => {
                out.push(c);
                stack.push(St::Atom);
                t = &t[1..];
            }
            '[' => {
                let rest = class(t, &mut out)?;
                stack.push(St::Atom);
                t = rest;
            }
            '*' | '+' | '?' | '{' => {
                let before = t;
                let mut after;
                if c == '{' {
                    match parse_repeat(t) {
                        None => {
                            lit(&mut out, '{');
                            stack.push(St::Atom);
                            t = &t[1..];
                            last_repeat = None;
                            continue;
                        }
                        Some((min, max, a)) => {
                            after = a;
                            if min > 1000 || max > 1000 || (max >= 0 && min > max) {
                                return Err(err(
                                    ERR_INVALID_REPEAT_SIZE,
                                    &before[..before.len() - after.len()],
                                ));
                            }
                        }
                    }
                } else {
                    after = &t[1..];
                }
                let op_text = &before[..before.len() - after.len()];
                if after.starts_with('?') {
                    after = &after[1..];
                }
                if let Some(lr) = last_repeat {
                    return Err(err(ERR_INVALID_REPEAT_OP, &lr[..lr.len() - after.len()]));
                }
                if !matches!(stack.last(), Some(St::Atom)) {
                    return Err(err(
                        ERR_MISSING_REPEAT,
                        &before[..before.len() - after.len()],
                    ));
                }
                out.push_str(&before[..before.len() - after.len()]);
                let _ = op_text;
                repeat = Some(before);
                t = after;
            }
            '\\' => {
                let b = t.as_bytes();
                if b.len() >= 2 {
                    match b[1] {
                        b'A' | b'z' => {
                            out.push_str(&t[..2]);
                            stack.push(St::Atom);
                            t = &t[2..];
                            last_repeat = None;
                            continue;
                        }
                        b'b' | b'B' => {
                            out.push_str(&format!("(?-u:{})", &t[..2]));
                            stack.push(St::Atom);
                            t = &t[2..];
                            last_repeat = None;
                            continue;
                        }
                        b'C' => return Err(err(ERR_INVALID_ESCAPE, &t[..2])),
                        b'Q' => {
                            let body = &t[2..];
                            let (l, r) = match body.find("\\E") {
                                Some(i) => (&body[..i], &body[i + 2..]),
                                None => (body, ""),
                            };
                            for ch in l.chars() {
                                lit(&mut out, ch);
                                stack.push(St::Atom);
                            }
                            t = r;
                            last_repeat = None;
                            continue;
                        }
                        _ => {}
                    }
                }
                if let Some((txt, rest)) = unicode_class(t)? {
                    out.push_str(&txt);
                    stack.push(St::Atom);
                    t = rest;
                } else if b.len() >= 2 && perl_class(b[1] as char, false).is_some() {
                    out.push_str(perl_class(b[1] as char, false).unwrap());
                    stack.push(St::Atom);
                    t = &t[2..];
                } else {
                    let (ch, rest) = parse_escape(t)?;
                    lit(&mut out, ch);
                    stack.push(St::Atom);
                    t = rest;
                }
            }
            _ => {
                out.push(c);
                stack.push(St::Atom);
                t = &t[c.len_utf8()..];
            }
        }
        last_repeat = repeat;
    }
    if depth > 0 {
        return Err(err(ERR_MISSING_PAREN, pat));
    }
    Ok(out)
}

/// `{n}`, `{n,}`, `{n,m}` at `s`; max is -1 for "no max".
fn parse_repeat(s: &str) -> Option<(i64, i64, &str)> {
    let b = s.as_bytes();
    let mut i = 1;
    let num = |i: &mut usize| -> Option<i64> {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        if st == *i {
            return None;
        }
        // Go rejects leading zeros only in the sense of "01" being fine.
        Some(s[st..*i].parse::<i64>().unwrap_or(i64::MAX).min(1_000_000))
    };
    let min = num(&mut i)?;
    let max;
    if i < b.len() && b[i] == b',' {
        i += 1;
        if i < b.len() && b[i] == b'}' {
            max = -1;
        } else {
            max = num(&mut i)?;
        }
    } else {
        max = min;
    }
    if i >= b.len() || b[i] != b'}' {
        return None;
    }
    Some((min, max, &s[i + 1..]))
}

/// A bracket class at `s` (starting with `[`), appended to `out`.
fn class<'s>(s: &'s str, out: &mut String) -> Result<&'s str, GoErr> {
    let mut t = &s[1..];
    out.push('[');
    if t.starts_with('^') {
        out.push('^');
        t = &t[1..];
    }
    let mut first = true;
    loop {
        if t.is_empty() {
            return Err(err(ERR_MISSING_BRACKET, s));
        }
        if t.starts_with(']') && !first {
            break;
        }
        first = false;
        if t.len() > 2 && t.starts_with("[:") {
            if let Some(i) = t[2..].find(":]") {
                let name = &t[..i + 4];
                if !POSIX.contains(&name)
                    && !POSIX.contains(&name.replacen("[:^", "[:", 1).as_str())
                {
                    return Err(err(ERR_INVALID_CHAR_RANGE, name));
                }
                out.push_str(name);
                t = &t[i + 4..];
                continue;
            }
        }
        if let Some((txt, rest)) = unicode_class(t)? {
            out.push_str(&txt);
            t = rest;
            continue;
        }
        let b = t.as_bytes();
        if b.len() >= 2 && b[0] == b'\\' {
            if let Some(p) = perl_class(b[1] as char, true) {
                out.push_str(p);
                t = &t[2..];
                continue;
            }
        }
        let rng = t;
        let (lo, rest) = class_char(t, s)?;
        t = rest;
        let mut hi = lo;
        if t.len() >= 2 && t.starts_with('-') && !t[1..].starts_with(']') {
            let (h, rest) = class_char(&t[1..], s)?;
            t = rest;
            hi = h;
            if hi < lo {
                return Err(err(ERR_INVALID_CHAR_RANGE, &rng[..rng.len() - t.len()]));
            }
        }
        lit(out, lo);
        if hi != lo {
            out.push('-');
            lit(out, hi);
        }
    }
    out.push(']');
    Ok(&t[1..])
}

fn class_char<'s>(t: &'s str, whole: &str) -> Result<(char, &'s str), GoErr> {
    if t.is_empty() {
        return Err(err(ERR_MISSING_BRACKET, whole));
    }
    if t.starts_with('\\') {
        return parse_escape(t);
    }
    let c = t.chars().next().unwrap();
    Ok((c, &t[c.len_utf8()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(p: &str) -> String {
        translate(p)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn go_errors() {
        assert_eq!(e("("), "error parsing regexp: missing closing ): `(`");
        assert_eq!(e("["), "error parsing regexp: missing closing ]: `[`");
        assert_eq!(
            e("a**"),
            "error parsing regexp: invalid nested repetition operator: `**`"
        );
        assert_eq!(
            e("a{1001}"),
            "error parsing regexp: invalid repeat count: `{1001}`"
        );
        assert_eq!(
            e("[b-a]"),
            "error parsing regexp: invalid character class range: `b-a`"
        );
        assert_eq!(
            e("\\8"),
            "error parsing regexp: invalid escape sequence: `\\8`"
        );
        assert_eq!(
            e("(?z)"),
            "error parsing regexp: invalid or unsupported Perl syntax: `(?z`"
        );
        assert_eq!(
            e("[[:foo:]]"),
            "error parsing regexp: invalid character class range: `[:foo:]`"
        );
        assert_eq!(
            e("a\\"),
            "error parsing regexp: trailing backslash at end of expression: ``"
        );
        assert_eq!(
            e("*"),
            "error parsing regexp: missing argument to repetition operator: `*`"
        );
        assert_eq!(e("a)"), "error parsing regexp: unexpected ): `a)`");
    }

    #[test]
    fn ascii_classes() {
        let r = regex::Regex::new(&translate("^\\d+$").ok().unwrap()).unwrap();
        assert!(r.is_match("123"));
        assert!(!r.is_match("\u{663}"));
    }
}

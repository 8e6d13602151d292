//! Brace expansion (`{a,b}`, `{1..5}`, `{a..e..2}`), as mvdan's syntax.SplitBraces and
//! expand.Braces: only unquoted literal text forms braces; an unmatched or invalid brace
//! stays literal.

use super::ast::{Part, Word};

enum B {
    P(Part),
    Brace { seq: bool, elems: Vec<Vec<B>> },
}

/// mvdan's limit on the number of words one brace expansion may produce.
pub const LIMIT: usize = 16 << 10;

fn push_lit(acc: &mut Vec<B>, s: &str) {
    if s.is_empty() {
        return;
    }
    if let Some(B::P(Part::Lit(l))) = acc.last_mut() {
        l.push_str(s);
    } else {
        acc.push(B::P(Part::Lit(s.to_string())));
    }
}

/// The literal text of an element, when it is only literal text.
fn lit_of(e: &[B]) -> Option<String> {
    let mut s = String::new();
    for b in e {
        match b {
            B::P(Part::Lit(l)) => s.push_str(l),
            _ => return None,
        }
    }
    Some(s)
}

fn flatten_into(acc: &mut Vec<B>, seq: bool, elems: Vec<Vec<B>>, close: bool) {
    push_lit(acc, "{");
    for (i, e) in elems.into_iter().enumerate() {
        if i > 0 {
            push_lit(acc, if seq { ".." } else { "," });
        }
        for b in e {
            match b {
                B::P(Part::Lit(l)) => push_lit(acc, &l),
                b => acc.push(b),
            }
        }
    }
    if close {
        push_lit(acc, "}");
    }
}

fn split(word: &Word) -> Vec<B> {
    // Stack of open braces: (seq, elems); the accumulator is the last elem of the top one.
    let mut top: Vec<B> = vec![];
    let mut open: Vec<(bool, Vec<Vec<B>>)> = vec![];
    fn acc<'a>(top: &'a mut Vec<B>, open: &'a mut [(bool, Vec<Vec<B>>)]) -> &'a mut Vec<B> {
        match open.last_mut() {
            Some((_, elems)) => elems.last_mut().expect("an open brace has an element"),
            None => top,
        }
    }
    for p in word {
        let Part::Lit(s) = p else {
            acc(&mut top, &mut open).push(B::P(p.clone()));
            continue;
        };
        let b = s.as_bytes();
        let mut last = 0;
        let mut j = 0;
        while j < b.len() {
            match b[j] {
                b'{' => {
                    push_lit(acc(&mut top, &mut open), &s[last..j]);
                    open.push((false, vec![vec![]]));
                    last = j + 1;
                }
                b',' if !open.is_empty() => {
                    push_lit(acc(&mut top, &mut open), &s[last..j]);
                    let (seq, elems) = open.last_mut().expect("checked");
                    if *seq {
                        let mut merged = std::mem::take(elems);
                        let mut first = merged.remove(0);
                        for e in merged {
                            push_lit(&mut first, "..");
                            first.extend(e);
                        }
                        *seq = false;
                        elems.push(first);
                    }
                    elems.push(vec![]);
                    last = j + 1;
                }
                b'.' if !open.is_empty() && b.get(j + 1) == Some(&b'.') => {
                    let (seq, elems) = open.last().expect("checked");
                    if !*seq && elems.len() > 1 {
                        j += 1;
                        continue;
                    }
                    push_lit(acc(&mut top, &mut open), &s[last..j]);
                    let (seq, elems) = open.last_mut().expect("checked");
                    *seq = true;
                    elems.push(vec![]);
                    j += 1;
                    last = j + 1;
                }
                b'}' if !open.is_empty() => {
                    push_lit(acc(&mut top, &mut open), &s[last..j]);
                    last = j + 1;
                    let (seq, elems) = open.pop().expect("checked");
                    let a = acc(&mut top, &mut open);
                    if elems.len() == 1 {
                        flatten_into(a, false, elems, true);
                    } else if !seq {
                        a.push(B::Brace { seq, elems });
                    } else {
                        let ok = valid_seq(&elems);
                        if ok {
                            a.push(B::Brace { seq, elems });
                        } else {
                            flatten_into(a, true, elems, true);
                        }
                    }
                }
                _ => {}
            }
            j += 1;
        }
        push_lit(acc(&mut top, &mut open), &s[last..]);
    }
    // Unclosed braces stay literal.
    while let Some((seq, elems)) = open.pop() {
        let a = acc(&mut top, &mut open);
        flatten_into(a, seq, elems, false);
    }
    top
}

fn valid_seq(elems: &[Vec<B>]) -> bool {
    if elems.len() > 3 {
        return false;
    }
    let mut chars = [false; 2];
    for (i, e) in elems[..2].iter().enumerate() {
        let Some(v) = lit_of(e) else { return false };
        if v.parse::<i64>().is_ok() {
        } else if v.len() == 1 && v.as_bytes()[0].is_ascii_alphabetic() {
            chars[i] = true;
        } else {
            return false;
        }
    }
    if elems.len() == 3
        && lit_of(&elems[2])
            .and_then(|v| v.parse::<i64>().ok())
            .is_none()
    {
        return false;
    }
    chars[0] == chars[1]
}

fn leading_zeros(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    s.len() > 1 && s.starts_with('0')
}

fn to_word(bs: &[B], out: &mut Word) {
    for b in bs {
        if let B::P(p) = b {
            match (p, out.last_mut()) {
                (Part::Lit(s), Some(Part::Lit(l))) => l.push_str(s),
                _ => out.push(p.clone()),
            }
        }
    }
}

/// Expands `bs` after `prefix`, pushing each resulting word; false once over the limit.
fn rec(prefix: &[B], bs: &[B], out: &mut Vec<Word>) -> bool {
    let Some(i) = bs.iter().position(|b| matches!(b, B::Brace { .. })) else {
        let mut w = vec![];
        to_word(prefix, &mut w);
        to_word(bs, &mut w);
        out.push(w);
        return out.len() <= LIMIT;
    };
    let B::Brace { seq, elems } = &bs[i] else {
        return true;
    };
    let mut left: Vec<B> = prefix.iter().map(clone_b).collect();
    left.extend(bs[..i].iter().map(clone_b));
    let rest = &bs[i + 1..];
    if *seq {
        let (fl, tl) = (
            lit_of(&elems[0]).unwrap_or_default(),
            lit_of(&elems[1]).unwrap_or_default(),
        );
        let (from, to, chars) = match (fl.parse::<i64>(), tl.parse::<i64>()) {
            (Ok(a), Ok(b)) => (a, b, false),
            _ => (fl.as_bytes()[0] as i64, tl.as_bytes()[0] as i64, true),
        };
        let width = if !chars && (leading_zeros(&fl) || leading_zeros(&tl)) {
            fl.len().max(tl.len())
        } else {
            0
        };
        let up = from <= to;
        let mut incr = elems
            .get(2)
            .and_then(|e| lit_of(e))
            .and_then(|v| v.parse::<i64>().ok())
            .map(|n| n.saturating_abs())
            .filter(|n| *n != 0)
            .unwrap_or(1);
        if !up {
            incr = -incr;
        }
        let mut n = from;
        while (up && n <= to) || (!up && n >= to) {
            let v = if chars {
                char::from_u32(n as u32)
                    .map(String::from)
                    .unwrap_or_default()
            } else if width > 0 {
                if n < 0 {
                    format!("-{:0w$}", -n, w = width - 1)
                } else {
                    format!("{n:0width$}")
                }
            } else {
                n.to_string()
            };
            let mut next = vec![B::P(Part::Lit(v))];
            next.extend(rest.iter().map(clone_b));
            if !rec(&left, &next, out) {
                return false;
            }
            match n.checked_add(incr) {
                Some(m) => n = m,
                None => break,
            }
        }
        return true;
    }
    for e in elems {
        let mut next: Vec<B> = e.iter().map(clone_b).collect();
        next.extend(rest.iter().map(clone_b));
        if !rec(&left, &next, out) {
            return false;
        }
    }
    true
}

fn clone_b(b: &B) -> B {
    match b {
        B::P(p) => B::P(p.clone()),
        B::Brace { seq, elems } => B::Brace {
            seq: *seq,
            elems: elems
                .iter()
                .map(|e| e.iter().map(clone_b).collect())
                .collect(),
        },
    }
}

/// The words `w` brace-expands to; `None` when it has no brace to expand.
pub fn expand(w: &Word) -> Result<Option<Vec<Word>>, String> {
    if !w
        .iter()
        .any(|p| matches!(p, Part::Lit(s) if s.contains('{')))
    {
        return Ok(None);
    }
    let bs = split(w);
    if !bs.iter().any(|b| matches!(b, B::Brace { .. })) {
        return Ok(None);
    }
    let mut out = vec![];
    if !rec(&[], &bs, &mut out) {
        return Err(format!("brace expansion would exceed {LIMIT} elements"));
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(s: &str) -> Vec<String> {
        let w = vec![Part::Lit(s.to_string())];
        match expand(&w).unwrap() {
            None => vec![s.to_string()],
            Some(ws) => ws
                .into_iter()
                .map(|w| {
                    w.into_iter()
                        .map(|p| match p {
                            Part::Lit(s) => s,
                            _ => String::new(),
                        })
                        .collect()
                })
                .collect(),
        }
    }

    #[test]
    fn braces() {
        assert_eq!(ex("a{b,c}d"), ["abd", "acd"]);
        assert_eq!(ex("{1..3}"), ["1", "2", "3"]);
        assert_eq!(ex("{3..1}"), ["3", "2", "1"]);
        assert_eq!(ex("{01..03}"), ["01", "02", "03"]);
        assert_eq!(ex("{a..e..2}"), ["a", "c", "e"]);
        assert_eq!(ex("{a,b}{1,2}"), ["a1", "a2", "b1", "b2"]);
        assert_eq!(ex("{a}"), ["{a}"]);
        assert_eq!(ex("{a,b"), ["{a,b"]);
        assert_eq!(ex("{1..x}"), ["{1..x}"]);
        assert_eq!(ex("x{a,{b,c}}"), ["xa", "xb", "xc"]);
    }
}

//! The two wildcard dialects go-task's globbing goes through.
//!
//! * [`go_match`]: Go's `path/filepath.Match` (used by go-task's fast `dir/**/name` walk and
//!   by its gitignore matcher). `*` and `?` match anything but `/`, leading dots included;
//!   `[^…]` negates; a malformed pattern is an error even when the name does not match.
//! * [`ShellPattern`]: one path element of an mvdan/sh glob (shell pathname expansion
//!   without dotglob/extglob). A `*` at the start of the element never matches a leading
//!   `.`; `?` and brackets may. `[!…]` and `[^…]` negate, `[[:alpha:]]` classes exist,
//!   an unmatched `[` is literal.

pub use crate::gomatch::go_match;
#[cfg(test)]
use crate::gomatch::BadPattern;

/// mvdan's `pattern.HasMeta`: an unescaped `*` or `?`, or a `[` closed by a `]`.
pub fn has_meta(pat: &str) -> bool {
    let b = pat.as_bytes();
    let mut open = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'*' | b'?' => return true,
            b'[' => open = true,
            b']' if open => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// mvdan's `pattern.QuoteMeta`: makes quoted text literal inside a pattern.
pub fn quote_meta(s: &str, out: &mut String) {
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Removes pattern escapes from a path element that has no wildcard.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some(n) => out.push(n),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A syntax error in a shell pattern: the shell then treats the word literally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellSyntaxError(pub String);

#[derive(Debug, Clone)]
enum Tok {
    /// `*`; `leading` when it starts the element (cannot match a leading dot).
    Star {
        leading: bool,
    },
    Any,
    Lit(char),
    Class {
        negated: bool,
        items: Vec<ClassItem>,
    },
}

#[derive(Debug, Clone)]
enum ClassItem {
    Range(char, char),
    Named(fn(char) -> bool),
}

/// One compiled path element of a shell glob.
#[derive(Debug, Clone)]
pub struct ShellPattern {
    toks: Vec<Tok>,
}

impl ShellPattern {
    pub fn new(pat: &str) -> Result<Self, ShellSyntaxError> {
        let chars: Vec<char> = pat.chars().collect();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            match c {
                '*' => {
                    let leading = i == 1;
                    // `**` inside an element (no globstar here) is a plain star.
                    if chars.get(i) == Some(&'*') {
                        i += 1;
                    }
                    toks.push(Tok::Star { leading });
                }
                '?' => toks.push(Tok::Any),
                '\\' => match chars.get(i) {
                    Some(&n) => {
                        toks.push(Tok::Lit(n));
                        i += 1;
                    }
                    None => return Err(ShellSyntaxError("\\ at end of pattern".into())),
                },
                '[' => match parse_bracket(&chars, i)? {
                    Some((tok, next)) => {
                        toks.push(tok);
                        i = next;
                    }
                    None => toks.push(Tok::Lit('[')),
                },
                c => toks.push(Tok::Lit(c)),
            }
        }
        Ok(ShellPattern { toks })
    }

    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        let mut toks: &[Tok] = &self.toks;
        if let Some(Tok::Star { leading: true }) = toks.first() {
            if name.first() == Some(&'.') {
                // The leading star can only match the empty string here.
                toks = &toks[1..];
            }
        }
        match_toks(toks, &name)
    }
}

fn tok_matches(t: &Tok, c: char) -> bool {
    match t {
        Tok::Any => c != '/',
        Tok::Lit(l) => *l == c,
        Tok::Class { negated, items } => {
            let hit = items.iter().any(|it| match it {
                ClassItem::Range(lo, hi) => *lo <= c && c <= *hi,
                ClassItem::Named(f) => f(c),
            });
            hit != *negated
        }
        Tok::Star { .. } => true,
    }
}

/// Iterative wildcard matching with single-star backtracking (stars never cross `/`,
/// and element names hold none).
fn match_toks(toks: &[Tok], name: &[char]) -> bool {
    let (mut t, mut n) = (0usize, 0usize);
    let mut back: Option<(usize, usize)> = None;
    while n < name.len() {
        if t < toks.len() {
            match &toks[t] {
                Tok::Star { .. } => {
                    back = Some((t, n));
                    t += 1;
                    continue;
                }
                tok if tok_matches(tok, name[n]) => {
                    t += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
        }
        match back {
            Some((bt, bn)) if name[bn] != '/' => {
                back = Some((bt, bn + 1));
                t = bt + 1;
                n = bn + 1;
            }
            _ => return false,
        }
    }
    toks[t..].iter().all(|t| matches!(t, Tok::Star { .. }))
}

/// Parses a bracket expression whose `[` is just before `start`.
/// `Ok(None)`: unmatched, so the `[` is literal.
fn parse_bracket(chars: &[char], start: usize) -> Result<Option<(Tok, usize)>, ShellSyntaxError> {
    let mut i = start;
    let next = |i: &mut usize| -> Option<char> {
        let c = chars.get(*i).copied();
        if c.is_some() {
            *i += 1;
        }
        c
    };
    let mut negated = false;
    // Atoms in order; `None` stands for an unescaped `-` (a range operator in context).
    let mut atoms: Vec<Option<ClassAtom>> = Vec::new();
    let mut deferred: Option<ShellSyntaxError> = None;
    let mut class_err: Option<ShellSyntaxError> = None;
    let Some(mut c) = next(&mut i) else {
        return Ok(None);
    };
    if c == '!' || c == '^' {
        negated = true;
        match next(&mut i) {
            Some(n) => c = n,
            None => return Ok(None),
        }
    }
    if c == ']' {
        atoms.push(Some(ClassAtom::Char(']')));
        match next(&mut i) {
            Some(n) => c = n,
            None => return Ok(None),
        }
    }
    loop {
        match c {
            '\\' => match next(&mut i) {
                None => {
                    return match class_err {
                        Some(e) => Err(e),
                        None => Ok(None),
                    }
                }
                Some(e) => atoms.push(Some(ClassAtom::Char(e))),
            },
            '-' => {
                let before = if i >= 2 { chars[i - 2] } else { '\0' };
                let after = chars.get(i).copied().unwrap_or('\0');
                if after != ']' && before > after && deferred.is_none() {
                    deferred = Some(ShellSyntaxError(format!("invalid range: {before}-{after}")));
                }
                atoms.push(None);
            }
            ']' => {
                if let Some(e) = deferred {
                    return Err(e);
                }
                return Ok(Some((
                    Tok::Class {
                        negated,
                        items: build_items(atoms),
                    },
                    i,
                )));
            }
            '[' => {
                let rest: String = chars[i..].iter().collect();
                let (n, err) = char_class(&rest);
                if let Some(e) = err {
                    if class_err.is_none() {
                        class_err = Some(e.clone());
                    }
                    if deferred.is_none() {
                        deferred = Some(e);
                    }
                }
                if n > 0 {
                    let body: String = rest.chars().take(n).collect();
                    i += n;
                    match named_class(&body) {
                        Some(f) => atoms.push(Some(ClassAtom::Named(f))),
                        None => atoms.push(Some(ClassAtom::Char('['))),
                    }
                } else {
                    atoms.push(Some(ClassAtom::Char('[')));
                }
            }
            c => atoms.push(Some(ClassAtom::Char(c))),
        }
        match next(&mut i) {
            Some(n) => c = n,
            None => {
                return match class_err {
                    Some(e) => Err(e),
                    None => Ok(None),
                }
            }
        }
    }
}

#[derive(Clone, Copy)]
enum ClassAtom {
    Char(char),
    Named(fn(char) -> bool),
}

/// Reads atoms as a regexp character class does: `a-z` is a range, a `-` first or
/// last is literal.
fn build_items(atoms: Vec<Option<ClassAtom>>) -> Vec<ClassItem> {
    let mut items = Vec::new();
    let mut k = 0;
    while k < atoms.len() {
        match atoms[k] {
            Some(ClassAtom::Char(lo)) => {
                if let (Some(None), Some(Some(ClassAtom::Char(hi)))) =
                    (atoms.get(k + 1), atoms.get(k + 2))
                {
                    items.push(ClassItem::Range(lo, *hi));
                    k += 3;
                    continue;
                }
                items.push(ClassItem::Range(lo, lo));
            }
            Some(ClassAtom::Named(f)) => items.push(ClassItem::Named(f)),
            None => items.push(ClassItem::Range('-', '-')),
        }
        k += 1;
    }
    items
}

/// Length of a `[:name:]`-style element after a `[` inside brackets, with its error.
fn char_class(s: &str) -> (usize, Option<ShellSyntaxError>) {
    if s.starts_with('.') || s.starts_with('=') {
        let sep = if s.starts_with('.') { ".]" } else { "=]" };
        let err = Some(ShellSyntaxError("collating features not available".into()));
        return match s[1..].find(sep) {
            Some(p) => (s[1..1 + p].chars().count() + 3, err),
            None => (0, err),
        };
    }
    let Some(name) = s.strip_prefix(':') else {
        return (0, None);
    };
    let Some(end) = name.find(":]") else {
        return (
            0,
            Some(ShellSyntaxError(
                "[[: was not matched with a closing :]".into(),
            )),
        );
    };
    let name = &name[..end];
    let n = name.chars().count() + 3;
    if named_class(&format!(":{name}:]")).is_some() {
        (n, None)
    } else {
        (
            n,
            Some(ShellSyntaxError(format!(
                "invalid character class: {name:?}"
            ))),
        )
    }
}

fn named_class(body: &str) -> Option<fn(char) -> bool> {
    let name = body.strip_prefix(':')?.strip_suffix(":]")?;
    Some(match name {
        "alnum" => |c: char| c.is_ascii_alphanumeric(),
        "alpha" => |c: char| c.is_ascii_alphabetic(),
        "ascii" => |c: char| c.is_ascii(),
        "blank" => |c: char| c == ' ' || c == '\t',
        "cntrl" => |c: char| c.is_ascii_control(),
        "digit" => |c: char| c.is_ascii_digit(),
        "graph" => |c: char| c.is_ascii_graphic(),
        "lower" => |c: char| c.is_ascii_lowercase(),
        "print" => |c: char| c == ' ' || c.is_ascii_graphic(),
        "punct" => |c: char| c.is_ascii_punctuation(),
        "space" => |c: char| matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r'),
        "upper" => |c: char| c.is_ascii_uppercase(),
        "word" => |c: char| c.is_ascii_alphanumeric() || c == '_',
        "xdigit" => |c: char| c.is_ascii_hexdigit(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_match_basics() {
        let ok = |p: &str, n: &str| go_match(p, n).unwrap();
        assert!(ok("*.txt", "a.txt"));
        assert!(
            ok("*.txt", ".hidden.txt"),
            "Go's Match has no leading-dot rule"
        );
        assert!(!ok("*.txt", "a.txt.bak"));
        assert!(ok("a?c", "abc"));
        assert!(!ok("a?c", "a/c"));
        assert!(ok("[a-c]x", "bx"));
        assert!(ok("[^a-c]x", "dx"));
        assert!(!ok("[^a-c]x", "ax"));
        assert!(ok("\\*", "*"));
        assert!(ok("*", ""));
        assert!(!ok("*", "a/b"));
        assert!(ok("a*b*c", "axxbyyc"));
        assert!(ok("é?", "éà"));
        assert_eq!(go_match("[", "x"), Err(BadPattern));
        assert_eq!(
            go_match("a[", "b"),
            Err(BadPattern),
            "malformed even on mismatch"
        );
        assert_eq!(go_match("[a-]", "a"), Err(BadPattern));
        assert_eq!(go_match("x\\", "x"), Err(BadPattern));
    }

    #[test]
    fn shell_pattern_leading_dot_rules() {
        let m = |p: &str, n: &str| ShellPattern::new(p).unwrap().matches(n);
        assert!(m("*.txt", "a.txt"));
        assert!(!m("*.txt", ".b.txt"));
        // mvdan's `([^/.][^/]*)?` lets the leading star match nothing.
        assert!(m("*.txt", ".txt"));
        assert!(m(".*", ".hidden"));
        assert!(m("?b", ".b"), "? may match a leading dot in mvdan");
        assert!(m("a*", "a.b"));
        assert!(m("**.txt", "x.txt"));
        assert!(!m("**.txt", ".x.txt"));
    }

    #[test]
    fn shell_pattern_brackets() {
        let m = |p: &str, n: &str| ShellPattern::new(p).unwrap().matches(n);
        assert!(m("[abc].txt", "b.txt"));
        assert!(m("[!abc].txt", "d.txt"));
        assert!(m("[^abc].txt", "d.txt"));
        assert!(!m("[!abc].txt", "a.txt"));
        assert!(m("[a-c]", "b"));
        assert!(m("[a-]", "-"));
        assert!(m("[]a]", "]"));
        assert!(m("[[:digit:]]x", "7x"));
        assert!(!m("[[:digit:]]x", "ax"));
        assert!(m("[\\-]", "-"));
        assert!(m("a[b", "a[b"), "an unmatched bracket is literal");
        assert!(ShellPattern::new("[z-a]").is_err());
        assert!(ShellPattern::new("[[:nope:]]").is_err());
        assert!(ShellPattern::new("x\\").is_err());
    }

    #[test]
    fn meta_helpers() {
        assert!(has_meta("a*"));
        assert!(has_meta("[ab]"));
        assert!(!has_meta("a[b"));
        assert!(!has_meta("a\\*"));
        let mut s = String::new();
        quote_meta("a*b[c\\", &mut s);
        assert_eq!(s, "a\\*b\\[c\\\\");
        assert_eq!(unescape("a\\*b"), "a*b");
    }
}

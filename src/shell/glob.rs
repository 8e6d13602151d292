//! Shell pattern matching (`*`, `?`, `[…]`, backslash escapes) and pathname expansion.

use std::path::Path;

#[derive(Debug, Clone)]
enum Tok {
    Ch(char),
    Any,
    Star,
    Class(bool, Vec<(char, char)>),
    /// An extended pattern `@(a|b)`, `?(…)`, `*(…)`, `+(…)`, `!(…)`: operator, alternatives.
    Ext(char, Vec<Vec<Tok>>),
}

fn compile(pat: &str) -> Vec<Tok> {
    compile_with(pat, false)
}

/// The extended pattern group opening at `cs[i]` (`@(` …): its alternatives' text and the
/// index one past its `)`; `None` when it does not close.
fn ext_group(cs: &[char], i: usize) -> Option<(Vec<String>, usize)> {
    let mut alts = vec![String::new()];
    let mut depth = 0;
    let mut j = i + 2;
    while j < cs.len() {
        let c = cs[j];
        match c {
            '\\' if j + 1 < cs.len() => {
                alts.last_mut()?.push(c);
                alts.last_mut()?.push(cs[j + 1]);
                j += 2;
                continue;
            }
            '(' => depth += 1,
            ')' if depth == 0 => return Some((alts, j + 1)),
            ')' => depth -= 1,
            '|' if depth == 0 => {
                alts.push(String::new());
                j += 1;
                continue;
            }
            _ => {}
        }
        alts.last_mut()?.push(c);
        j += 1;
    }
    None
}

fn compile_with(pat: &str, ext: bool) -> Vec<Tok> {
    let cs: Vec<char> = pat.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < cs.len() {
        if ext && matches!(cs[i], '!' | '@' | '+' | '*' | '?') && cs.get(i + 1) == Some(&'(') {
            if let Some((alts, end)) = ext_group(&cs, i) {
                let alts = alts.iter().map(|a| compile_with(a, true)).collect();
                out.push(Tok::Ext(cs[i], alts));
                i = end;
                continue;
            }
        }
        match cs[i] {
            '\\' if i + 1 < cs.len() => {
                out.push(Tok::Ch(cs[i + 1]));
                i += 2;
                continue;
            }
            '*' => out.push(Tok::Star),
            '?' => out.push(Tok::Any),
            '[' => {
                let mut j = i + 1;
                let neg = j < cs.len() && (cs[j] == '!' || cs[j] == '^');
                if neg {
                    j += 1;
                }
                let mut ranges = vec![];
                let mut first = true;
                let mut closed = false;
                while j < cs.len() {
                    if cs[j] == ']' && !first {
                        closed = true;
                        break;
                    }
                    first = false;
                    // a POSIX class `[:name:]` (ASCII, as Go's regexp classes mvdan uses)
                    if cs[j] == '[' && cs.get(j + 1) == Some(&':') {
                        let rest: String = cs[j + 2..].iter().collect();
                        if let Some(end) = rest.find(":]") {
                            let name = &rest[..end];
                            if let Some(rs) = posix_class(name) {
                                ranges.extend_from_slice(rs);
                                j += 2 + name.chars().count() + 2;
                                continue;
                            }
                        }
                    }
                    let mut c = cs[j];
                    if c == '\\' && j + 1 < cs.len() {
                        j += 1;
                        c = cs[j];
                    }
                    if j + 2 < cs.len() && cs[j + 1] == '-' && cs[j + 2] != ']' {
                        ranges.push((c, cs[j + 2]));
                        j += 3;
                    } else {
                        ranges.push((c, c));
                        j += 1;
                    }
                }
                if closed {
                    out.push(Tok::Class(neg, ranges));
                    i = j + 1;
                    continue;
                }
                out.push(Tok::Ch('['));
            }
            c => out.push(Tok::Ch(c)),
        }
        i += 1;
    }
    out
}

/// The ASCII ranges of a POSIX bracket class, as RE2 defines them.
fn posix_class(name: &str) -> Option<&'static [(char, char)]> {
    Some(match name {
        "alpha" => &[('A', 'Z'), ('a', 'z')],
        "digit" => &[('0', '9')],
        "alnum" => &[('0', '9'), ('A', 'Z'), ('a', 'z')],
        "upper" => &[('A', 'Z')],
        "lower" => &[('a', 'z')],
        "space" => &[('\t', '\r'), (' ', ' ')],
        "blank" => &[('\t', '\t'), (' ', ' ')],
        "punct" => &[('!', '/'), (':', '@'), ('[', '`'), ('{', '~')],
        "print" => &[(' ', '~')],
        "graph" => &[('!', '~')],
        "cntrl" => &[('\0', '\x1f'), ('\x7f', '\x7f')],
        "xdigit" => &[('0', '9'), ('A', 'F'), ('a', 'f')],
        "word" => &[('0', '9'), ('A', 'Z'), ('a', 'z'), ('_', '_')],
        "ascii" => &[('\0', '\x7f')],
        _ => return None,
    })
}

fn any_alt(alts: &[Vec<Tok>], s: &[char]) -> bool {
    alts.iter().any(|a| m(a, s))
}

/// `s` as one or more (`min` 1) or zero or more (`min` 0) matches of the alternatives.
fn repeat(alts: &[Vec<Tok>], s: &[char], min: u32) -> bool {
    if s.is_empty() {
        return min == 0 || any_alt(alts, s);
    }
    (1..=s.len()).any(|k| any_alt(alts, &s[..k]) && repeat(alts, &s[k..], 0))
}

fn ext_m(op: char, alts: &[Vec<Tok>], s: &[char]) -> bool {
    match op {
        '@' => any_alt(alts, s),
        '?' => s.is_empty() || any_alt(alts, s),
        '!' => !any_alt(alts, s),
        '+' => repeat(alts, s, 1),
        _ => repeat(alts, s, 0),
    }
}

fn m(p: &[Tok], s: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(Tok::Star) => (0..=s.len()).any(|k| m(&p[1..], &s[k..])),
        Some(Tok::Ext(op, alts)) => {
            (0..=s.len()).any(|k| ext_m(*op, alts, &s[..k]) && m(&p[1..], &s[k..]))
        }
        Some(t) => {
            let Some(&c) = s.first() else { return false };
            let ok = match t {
                Tok::Ch(x) => *x == c,
                Tok::Any => true,
                Tok::Class(neg, rs) => rs.iter().any(|(a, b)| *a <= c && c <= *b) != *neg,
                Tok::Star | Tok::Ext(..) => unreachable!(),
            };
            ok && m(&p[1..], &s[1..])
        }
    }
}

/// Whether `s` matches the whole pattern.
pub fn matches(pat: &str, s: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    m(&compile(pat), &s)
}

/// mvdan's limits on `!(…)` (Go's regexp has no negative lookahead): one group, with a
/// prefix and suffix free of glob characters; the error it reports otherwise.
pub fn neg_check(pat: &str) -> Result<(), String> {
    let cs: Vec<char> = pat.chars().collect();
    let mut groups = vec![];
    let mut i = 0;
    while i < cs.len() {
        match cs[i] {
            '\\' => i += 1,
            '!' | '@' | '+' | '*' | '?' if cs.get(i + 1) == Some(&'(') => {
                if let Some((_, end)) = ext_group(&cs, i) {
                    if cs[i] == '!' {
                        groups.push((i, end));
                    }
                    i = end;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    match groups.as_slice() {
        [] => Ok(()),
        [(a, b)] => {
            let pre: String = cs[..*a].iter().collect();
            let suf: String = cs[*b..].iter().collect();
            if has_meta(&pre) || has_meta(&suf) {
                Err("extglob !(...) is only supported with a fixed prefix and suffix".into())
            } else {
                Ok(())
            }
        }
        _ => Err("multiple extglob !(...) groups are not supported yet".into()),
    }
}

/// Whether `s` matches the whole pattern with extended operators, as mvdan's `case` and
/// `[[ == ]]` (always extended there); a `!(…)` mvdan cannot match never matches.
pub fn matches_ext(pat: &str, s: &str) -> bool {
    if neg_check(pat).is_err() {
        return false;
    }
    let s: Vec<char> = s.chars().collect();
    m(&compile_with(pat, true), &s)
}

/// Whether a pattern has an unescaped glob character (`[` only with a `]` after it, so
/// the command `[` costs no directory read).
pub fn has_meta(pat: &str) -> bool {
    let mut esc = false;
    for (i, c) in pat.char_indices() {
        if esc {
            esc = false;
            continue;
        }
        match c {
            '\\' => esc = true,
            '*' | '?' => return true,
            '[' if pat[i + 1..].contains(']') => return true,
            _ => {}
        }
    }
    false
}

/// Removes pattern escapes.
pub fn unescape(pat: &str) -> String {
    let mut out = String::new();
    let mut esc = false;
    for c in pat.chars() {
        if !esc && c == '\\' {
            esc = true;
            continue;
        }
        esc = false;
        out.push(c);
    }
    out
}

/// Byte offsets of the shortest / longest prefix or suffix of `s` matching `pat`.
pub fn trim(s: &str, pat: &str, suffix: bool, longest: bool) -> String {
    let idx: Vec<usize> = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .collect();
    let p = compile(pat);
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let order: Vec<usize> = if longest {
        (0..=n).rev().collect()
    } else {
        (0..=n).collect()
    };
    for k in order {
        if suffix {
            if m(&p, &chars[n - k..]) {
                return s[..idx[n - k]].to_string();
            }
        } else if m(&p, &chars[..k]) {
            return s[idx[k]..].to_string();
        }
    }
    s.to_string()
}

/// `${s/pat/with}`: first (or every) longest match replaced.
pub fn replace(s: &str, pat: &str, with: &str, all: bool) -> String {
    let p = compile(pat);
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut done = false;
    while i < chars.len() {
        if !done {
            if let Some(k) = (i + 1..=chars.len()).rev().find(|&k| m(&p, &chars[i..k])) {
                out.push_str(with);
                i = k;
                done = !all;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// `shopt` options that change pathname expansion.
#[derive(Clone, Copy, Default)]
pub struct Opts {
    pub dotglob: bool,
    pub nocase: bool,
    pub globstar: bool,
    /// shopt extglob: extended operators in patterns.
    pub ext: bool,
}

/// Every directory under `base` (relative paths joined as `join` does), depth first, sorted.
/// Symbolic links to directories are followed, as mvdan does, down to a depth that stops a
/// link cycle.
fn walk_dirs(dir: &Path, prefix: &str, dot: bool, files: bool, out: &mut Vec<String>) {
    walk_dirs_at(dir, prefix, dot, files, out, 0)
}

fn walk_dirs_at(
    dir: &Path,
    prefix: &str,
    dot: bool,
    files: bool,
    out: &mut Vec<String>,
    depth: u32,
) {
    if depth > 40 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<(String, bool)> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let is_dir = match e.file_type() {
                Ok(t) if t.is_symlink() => e.path().is_dir(),
                Ok(t) => t.is_dir(),
                Err(_) => false,
            };
            e.file_name().into_string().ok().map(|n| (n, is_dir))
        })
        .filter(|(n, _)| dot || !n.starts_with('.'))
        .collect();
    names.sort();
    for (n, is_dir) in names {
        let p = if prefix.is_empty() {
            n.clone()
        } else if prefix.ends_with('/') {
            format!("{prefix}{n}")
        } else {
            format!("{prefix}/{n}")
        };
        if is_dir {
            out.push(p.clone());
            walk_dirs_at(&dir.join(&n), &p, dot, files, out, depth + 1);
        } else if files {
            out.push(p);
        }
    }
}

/// Pathname expansion of `pat` relative to `cwd`: sorted matches, or empty.
pub fn expand(pat: &str, cwd: &Path, o: Opts) -> Vec<String> {
    let abs = pat.starts_with('/');
    let comps: Vec<&str> = pat.split('/').filter(|c| !c.is_empty()).collect();
    let trailing = pat.ends_with('/') && !comps.is_empty();
    let mut cur: Vec<String> = vec![if abs { "/".into() } else { String::new() }];
    for (ci, comp) in comps.iter().enumerate() {
        let last = ci + 1 == comps.len();
        let mut next = vec![];
        for base in &cur {
            let dir = if base.is_empty() {
                cwd.to_path_buf()
            } else if abs {
                Path::new(base).to_path_buf()
            } else {
                cwd.join(base)
            };
            let join = |n: &str| {
                if base.is_empty() {
                    n.to_string()
                } else if base.ends_with('/') {
                    format!("{base}{n}")
                } else {
                    format!("{base}/{n}")
                }
            };
            if o.globstar && *comp == "**" {
                // Zero or more directories (and, as the last component, every file but
                // for `**/`). Last, it matches the directory before it too (`x/**` gives
                // `x/`, mvdan's regexp matching zero elements).
                if !last {
                    next.push(base.clone());
                } else if !base.is_empty() {
                    // (`x/**/` gives `x/` too: the slash is added below.)
                    let b = base.trim_end_matches('/');
                    next.push(if trailing { b.into() } else { format!("{b}/") });
                }
                let mut found = vec![];
                walk_dirs(&dir, base, o.dotglob, last && !trailing, &mut found);
                next.extend(found);
                continue;
            }
            if !has_meta(comp) {
                let name = unescape(comp);
                let p = join(&name);
                let full = if abs { p.clone().into() } else { cwd.join(&p) };
                if last && !trailing {
                    if std::fs::symlink_metadata(&full).is_ok() {
                        next.push(p);
                    }
                } else if full.is_dir() {
                    next.push(p);
                }
                continue;
            }
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            let tokens = if o.nocase {
                compile_with(&comp.to_lowercase(), o.ext)
            } else {
                compile_with(comp, o.ext)
            };
            let mut names: Vec<String> = rd
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                // Only a `*` that starts the component skips names with a leading dot in
                // mvdan's pattern package (`?hidden` and `[.]hidden` match `.hidden`;
                // `*(…)` is an extended operator, not a star).
                .filter(|n| {
                    !n.starts_with('.')
                        || o.dotglob
                        || !comp.starts_with('*')
                        || (o.ext && comp.starts_with("*("))
                })
                .filter(|n| {
                    let chars: Vec<char> = if o.nocase {
                        n.to_lowercase().chars().collect()
                    } else {
                        n.chars().collect()
                    };
                    m(&tokens, &chars)
                })
                .collect();
            names.sort();
            for n in names {
                let p = join(&n);
                let full = if abs { p.clone().into() } else { cwd.join(&p) };
                if (!last || trailing) && !full.is_dir() {
                    continue;
                }
                next.push(p);
            }
        }
        cur = next;
        if cur.is_empty() {
            return vec![];
        }
    }
    if trailing {
        cur = cur.into_iter().map(|c| c + "/").collect();
    }
    cur.sort();
    cur
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("*.txt", "a.txt"));
        assert!(!matches("*.txt", "a.md"));
        assert!(matches("[a-c]?", "bz"));
        assert!(matches("[!a]x", "bx"));
        assert!(!matches("\\*", "a"));
        assert_eq!(trim("a/b/c", "*/", false, false), "b/c");
        assert_eq!(trim("a/b/c", "*/", false, true), "c");
        assert_eq!(trim("x.tar.gz", ".*", true, false), "x.tar");
        assert_eq!(trim("x.tar.gz", ".*", true, true), "x");
        assert_eq!(replace("aXbXc", "X", "-", true), "a-b-c");
        assert_eq!(replace("aXbXc", "X", "-", false), "a-bXc");
    }

    #[test]
    fn extended() {
        assert!(matches_ext("@(ab|c)", "ab"));
        assert!(matches_ext("@(ab|c)", "c"));
        assert!(!matches_ext("@(ab|c)", "abc"));
        assert!(matches_ext("+(a|b)", "abba"));
        assert!(!matches_ext("+(a|b)", ""));
        assert!(matches_ext("x*(y)z", "xz"));
        assert!(matches_ext("x*(y)z", "xyyz"));
        assert!(matches_ext("?(a).txt", ".txt"));
        assert!(matches_ext("a!(x)c", "abc"));
        assert!(!matches_ext("a!(x)c", "axc"));
        assert!(matches_ext("!(x)", "abc"));
        // mvdan's limits: two negations, or one next to a glob, never match.
        assert!(!matches_ext("!(a)!(b)", "ab"));
        assert!(!matches_ext("*.!(txt)", "a.md"));
        assert!(neg_check("*.!(txt)").is_err());
        assert!(matches_ext("+([ab]).txt", "ab.txt"));
        // Without extglob the operators are plain characters.
        assert!(matches("@(a)", "@(a)"));
    }
}

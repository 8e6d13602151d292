//! Shell pattern matching (`*`, `?`, `[…]`, backslash escapes) and pathname expansion.

use std::path::Path;

#[derive(Debug, Clone)]
enum Tok {
    Ch(char),
    Any,
    Star,
    Class(bool, Vec<(char, char)>),
}

fn compile(pat: &str) -> Vec<Tok> {
    let cs: Vec<char> = pat.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < cs.len() {
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

fn m(p: &[Tok], s: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(Tok::Star) => (0..=s.len()).any(|k| m(&p[1..], &s[k..])),
        Some(t) => {
            let Some(&c) = s.first() else { return false };
            let ok = match t {
                Tok::Ch(x) => *x == c,
                Tok::Any => true,
                Tok::Class(neg, rs) => rs.iter().any(|(a, b)| *a <= c && c <= *b) != *neg,
                Tok::Star => unreachable!(),
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
}

/// Every directory under `base` (relative paths joined as `join` does), depth first, sorted.
fn walk_dirs(dir: &Path, prefix: &str, dot: bool, files: bool, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<(String, bool)> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
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
            walk_dirs(&dir.join(&n), &p, dot, files, out);
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
                // Zero or more directories (and, as the last component, every file).
                if !last {
                    next.push(base.clone());
                }
                let mut found = vec![];
                walk_dirs(&dir, base, o.dotglob, last, &mut found);
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
            let mut names: Vec<String> = rd
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| {
                    !n.starts_with('.')
                        || o.dotglob
                        || comp.starts_with('.')
                        || comp.starts_with("\\.")
                })
                .filter(|n| {
                    if o.nocase {
                        matches(&comp.to_lowercase(), &n.to_lowercase())
                    } else {
                        matches(comp, n)
                    }
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
}

//! The shell-word step go-task puts a `sources`/`generates` entry through before globbing
//! (mvdan/sh `expand.Fields` with globstar and nullglob): blanks, `&`, `(` and `)` are
//! escaped first, then quotes, `$VAR`/`${VAR}` from the process environment, brace
//! expansion (`{a,b}`, `{1..3}`), and field splitting of unquoted expansions.
//!
//! The result is a list of [`Field`]s: either a pattern to glob (quoted text escaped) or a
//! literal path. Command substitution and other shell syntax are refused with an error,
//! which makes go-task ignore the whole entry, as it does when its expansion fails.

use super::pattern::{has_meta, quote_meta};

/// One field after expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// Contains wildcards: glob `pattern` (quoted characters are escaped in it); if the
    /// pattern turns out malformed the shell uses `literal` instead.
    Glob { pattern: String, literal: String },
    /// No wildcards: a path used as is.
    Literal(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordError(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Atom {
    /// An unquoted character that may take part in brace syntax.
    C(char),
    /// A backslash-escaped unquoted character (literal for braces, yet still a
    /// wildcard later: mvdan unescapes literals before globbing).
    Esc(char),
    /// Quoted text (single or double quotes); never a wildcard or a brace.
    Q(String),
    /// The value of an unquoted `$VAR`: split on blanks.
    Split(String),
}

#[derive(Debug, Clone)]
enum Node {
    A(Atom),
    Brace { elems: Vec<Vec<Node>>, seq: bool },
}

const BRACE_LIMIT: usize = 16 << 10;

/// go-task's `escape()`: blanks and `&()` would otherwise be shell syntax.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if matches!(c, ' ' | '&' | '(' | ')') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Expands one (already dir-joined) sources/generates entry into fields.
pub fn expand_fields(
    entry: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Field>, WordError> {
    let words = split_words(&escape(entry), env)?;
    let mut out = Vec::new();
    let mut count = 0usize;
    for word in words {
        for w in expand_braces(&word)? {
            count += 1;
            if count > BRACE_LIMIT {
                return Err(WordError(format!(
                    "brace expansion would exceed {BRACE_LIMIT} elements"
                )));
            }
            for field in word_fields(&w) {
                out.push(classify(&field));
            }
        }
    }
    Ok(out)
}

fn classify(parts: &[(String, bool)]) -> Field {
    let candidate = parts
        .iter()
        .any(|(s, quoted)| !quoted && s.contains(['*', '?', '[']));
    if candidate {
        let mut esc = String::new();
        for (s, quoted) in parts {
            if *quoted {
                quote_meta(s, &mut esc);
            } else {
                esc.push_str(s);
            }
        }
        if has_meta(&esc) {
            return Field::Glob {
                pattern: esc,
                literal: parts.iter().map(|(s, _)| s.as_str()).collect(),
            };
        }
    }
    Field::Literal(parts.iter().map(|(s, _)| s.as_str()).collect())
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Reads a `$…` expansion starting after the `$`; returns its value (None: a literal `$`).
fn param(
    chars: &[char],
    i: &mut usize,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, WordError> {
    match chars.get(*i).copied() {
        Some('{') => {
            let start = *i + 1;
            let Some(len) = chars[start..].iter().position(|&c| c == '}') else {
                return Err(WordError("reached EOF without matching ${ with }".into()));
            };
            let name: String = chars[start..start + len].iter().collect();
            *i = start + len + 1;
            let mut it = name.chars();
            let valid = it.next().is_some_and(is_name_start) && it.all(is_name_char);
            if !valid {
                return Err(WordError(format!(
                    "unsupported parameter expansion ${{{name}}}"
                )));
            }
            Ok(Some(env(&name).unwrap_or_default()))
        }
        Some(c) if is_name_start(c) => {
            let start = *i;
            while *i < chars.len() && is_name_char(chars[*i]) {
                *i += 1;
            }
            let name: String = chars[start..*i].iter().collect();
            Ok(Some(env(&name).unwrap_or_default()))
        }
        Some(c) if c.is_ascii_digit() || matches!(c, '@' | '*' | '#' | '?' | '$' | '!' | '-') => {
            *i += 1;
            // Positional and special parameters of a shell that ran nothing.
            Ok(Some(if matches!(c, '#' | '?') {
                "0".into()
            } else {
                String::new()
            }))
        }
        Some('(') | Some('\'') | Some('"') => Err(WordError(
            "command substitution and $'…' quoting are not supported in globs".into(),
        )),
        _ => Ok(None),
    }
}

/// Tokenizes into words of atoms.
fn split_words(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Vec<Atom>>, WordError> {
    let chars: Vec<char> = s.chars().collect();
    let mut words: Vec<Vec<Atom>> = Vec::new();
    let mut cur: Vec<Atom> = Vec::new();
    let mut in_word = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' => match chars.get(i).copied() {
                Some('\n') => i += 1,
                Some(n) => {
                    cur.push(Atom::Esc(n));
                    i += 1;
                    in_word = true;
                }
                None => {
                    cur.push(Atom::C('\\'));
                    in_word = true;
                }
            },
            '\'' => {
                let Some(len) = chars[i..].iter().position(|&c| c == '\'') else {
                    return Err(WordError("reached EOF without closing quote '".into()));
                };
                cur.push(Atom::Q(chars[i..i + len].iter().collect()));
                i += len + 1;
                in_word = true;
            }
            '"' => {
                let mut text = String::new();
                loop {
                    let Some(&d) = chars.get(i) else {
                        return Err(WordError("reached EOF without closing quote \"".into()));
                    };
                    i += 1;
                    match d {
                        '"' => break,
                        '\\' => match chars.get(i).copied() {
                            Some('\n') => i += 1,
                            Some(n @ ('$' | '`' | '"' | '\\')) => {
                                text.push(n);
                                i += 1;
                            }
                            _ => text.push('\\'),
                        },
                        '$' => match param(&chars, &mut i, env)? {
                            Some(v) => text.push_str(&v),
                            None => text.push('$'),
                        },
                        '`' => {
                            return Err(WordError("command substitution is not supported".into()))
                        }
                        d => text.push(d),
                    }
                }
                cur.push(Atom::Q(text));
                in_word = true;
            }
            '$' => {
                match param(&chars, &mut i, env)? {
                    Some(v) => cur.push(Atom::Split(v)),
                    None => cur.push(Atom::C('$')),
                }
                in_word = true;
            }
            '`' | ';' | '|' | '&' | '<' | '>' | '(' | ')' => {
                return Err(WordError(format!(
                    "{c} can only be used in a shell command"
                )));
            }
            c => {
                cur.push(Atom::C(c));
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// The unquoted literal text of a brace element, if it is only that.
fn lit_text(nodes: &[Node]) -> Option<String> {
    let mut s = String::new();
    for n in nodes {
        match n {
            Node::A(Atom::C(c)) => s.push(*c),
            _ => return None,
        }
    }
    Some(s)
}

fn push_chars(acc: &mut Vec<Node>, s: &str) {
    acc.extend(s.chars().map(|c| Node::A(Atom::C(c))));
}

/// Parses brace syntax the way mvdan's `SplitBraces` does; malformed braces stay literal.
fn parse_braces(atoms: &[Atom]) -> Vec<Node> {
    let mut top: Vec<Node> = Vec::new();
    // Each open brace: its elements (the last is being filled) and whether it is `x..y`.
    let mut open: Vec<(Vec<Vec<Node>>, bool)> = Vec::new();

    fn acc<'a>(
        top: &'a mut Vec<Node>,
        open: &'a mut [(Vec<Vec<Node>>, bool)],
    ) -> &'a mut Vec<Node> {
        match open.last_mut() {
            Some((elems, _)) => elems.last_mut().expect("a brace always has an element"),
            None => top,
        }
    }

    let mut k = 0;
    while k < atoms.len() {
        let atom = &atoms[k];
        k += 1;
        match atom {
            Atom::C('{') => open.push((vec![Vec::new()], false)),
            Atom::C(',') if !open.is_empty() => {
                let (elems, seq) = open.last_mut().expect("checked");
                if *seq {
                    // `{1..2,3}` is a list whose `..` are literal.
                    let mut merged = std::mem::take(&mut elems[0]);
                    for e in elems.drain(1..) {
                        push_chars(&mut merged, "..");
                        merged.extend(e);
                    }
                    elems[0] = merged;
                    *seq = false;
                }
                elems.push(Vec::new());
            }
            Atom::C('.') if !open.is_empty() && atoms.get(k) == Some(&Atom::C('.')) => {
                let (elems, seq) = open.last_mut().expect("checked");
                if !*seq && elems.len() > 1 {
                    // `{1,2..3}`: literal dots.
                    acc(&mut top, &mut open).push(Node::A(Atom::C('.')));
                    continue;
                }
                *seq = true;
                elems.push(Vec::new());
                k += 1;
            }
            Atom::C('}') if !open.is_empty() => {
                let (elems, seq) = open.pop().expect("checked");
                let target = acc(&mut top, &mut open);
                if elems.len() == 1 {
                    target.push(Node::A(Atom::C('{')));
                    target.extend(elems.into_iter().next().expect("one element"));
                    target.push(Node::A(Atom::C('}')));
                } else if !seq {
                    target.push(Node::Brace { elems, seq: false });
                } else if sequence_ok(&elems) {
                    target.push(Node::Brace { elems, seq: true });
                } else {
                    target.push(Node::A(Atom::C('{')));
                    for (i, e) in elems.into_iter().enumerate() {
                        if i > 0 {
                            push_chars(target, "..");
                        }
                        target.extend(e);
                    }
                    target.push(Node::A(Atom::C('}')));
                }
            }
            a => acc(&mut top, &mut open).push(Node::A(a.clone())),
        }
    }
    // Braces never closed fall back to text.
    while let Some((elems, seq)) = open.pop() {
        let target = acc(&mut top, &mut open);
        target.push(Node::A(Atom::C('{')));
        for (i, e) in elems.into_iter().enumerate() {
            if i > 0 {
                push_chars(target, if seq { ".." } else { "," });
            }
            target.extend(e);
        }
    }
    top
}

fn sequence_ok(elems: &[Vec<Node>]) -> bool {
    if elems.len() > 3 {
        return false;
    }
    let mut chars = [false; 2];
    for (i, e) in elems[..2].iter().enumerate() {
        let v = lit_text(e).unwrap_or_default();
        if v.parse::<i64>().is_ok() {
        } else if v.len() == 1 && v.as_bytes()[0].is_ascii_alphabetic() {
            chars[i] = true;
        } else {
            return false;
        }
    }
    if elems.len() == 3
        && lit_text(&elems[2])
            .unwrap_or_default()
            .parse::<i64>()
            .is_err()
    {
        return false;
    }
    chars[0] == chars[1]
}

fn has_leading_zeros(s: &str) -> bool {
    let d = s.strip_prefix('-').unwrap_or(s);
    d.len() > 1 && d.starts_with('0')
}

fn sequence_values(elems: &[Vec<Node>]) -> Vec<String> {
    let from_s = lit_text(&elems[0]).unwrap_or_default();
    let to_s = lit_text(&elems[1]).unwrap_or_default();
    let (from, to, chars) = match (from_s.parse::<i64>(), to_s.parse::<i64>()) {
        (Ok(a), Ok(b)) => (a, b, false),
        _ => (from_s.as_bytes()[0] as i64, to_s.as_bytes()[0] as i64, true),
    };
    let width = if !chars && (has_leading_zeros(&from_s) || has_leading_zeros(&to_s)) {
        from_s.len().max(to_s.len())
    } else {
        0
    };
    let mut incr = 1i64;
    if elems.len() > 2 {
        let n = lit_text(&elems[2])
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0)
            .saturating_abs();
        if n != 0 {
            incr = n;
        }
    }
    let upward = from <= to;
    if !upward {
        incr = -incr;
    }
    let mut out = Vec::new();
    let mut n = from;
    while (upward && n <= to) || (!upward && n >= to) {
        out.push(if chars {
            ((n as u8) as char).to_string()
        } else if width > 0 {
            format!("{n:0width$}")
        } else {
            n.to_string()
        });
        if out.len() > BRACE_LIMIT {
            break;
        }
        n = match n.checked_add(incr) {
            Some(v) => v,
            None => break,
        };
    }
    out
}

/// Every word a brace-expanded word stands for, in order.
fn expand_braces(atoms: &[Atom]) -> Result<Vec<Vec<Atom>>, WordError> {
    if !atoms.contains(&Atom::C('{')) {
        return Ok(vec![atoms.to_vec()]);
    }
    let nodes = parse_braces(atoms);
    let mut out = Vec::new();
    expand_nodes(&nodes, Vec::new(), &mut out)?;
    Ok(out)
}

fn expand_nodes(
    nodes: &[Node],
    prefix: Vec<Atom>,
    out: &mut Vec<Vec<Atom>>,
) -> Result<(), WordError> {
    let mut prefix = prefix;
    for (i, n) in nodes.iter().enumerate() {
        match n {
            Node::A(a) => prefix.push(a.clone()),
            Node::Brace { elems, seq } => {
                let rest = &nodes[i + 1..];
                if *seq {
                    for v in sequence_values(elems) {
                        let mut p = prefix.clone();
                        p.extend(v.chars().map(Atom::C));
                        expand_nodes(rest, p, out)?;
                    }
                } else {
                    for e in elems {
                        let mut alt: Vec<Node> = e.clone();
                        alt.extend_from_slice(rest);
                        expand_nodes(&alt, prefix.clone(), out)?;
                    }
                }
                return Ok(());
            }
        }
    }
    out.push(prefix);
    if out.len() > BRACE_LIMIT {
        return Err(WordError(format!(
            "brace expansion would exceed {BRACE_LIMIT} elements"
        )));
    }
    Ok(())
}

/// Splits a word into fields of `(text, quoted)` parts.
fn word_fields(atoms: &[Atom]) -> Vec<Vec<(String, bool)>> {
    let mut fields = Vec::new();
    let mut cur: Vec<(String, bool)> = Vec::new();
    let mut allow_empty = false;
    let push = |cur: &mut Vec<(String, bool)>, c: char, quoted: bool| match cur.last_mut() {
        Some((s, q)) if *q == quoted => s.push(c),
        _ => cur.push((c.to_string(), quoted)),
    };
    for a in atoms {
        match a {
            Atom::C(c) | Atom::Esc(c) => push(&mut cur, *c, false),
            Atom::Q(s) => {
                allow_empty = true;
                cur.push((s.clone(), true));
            }
            Atom::Split(v) => {
                let mut in_field = false;
                for c in v.chars() {
                    if matches!(c, ' ' | '\t' | '\n') {
                        if in_field || !cur.is_empty() {
                            fields.push(std::mem::take(&mut cur));
                        }
                        in_field = false;
                    } else {
                        push(&mut cur, c, false);
                        in_field = true;
                    }
                }
            }
        }
    }
    if !cur.is_empty() {
        fields.push(cur);
    } else if allow_empty && fields.is_empty() {
        fields.push(vec![(String::new(), true)]);
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "SUB" => Some("src".into()),
            "TWO" => Some("a b".into()),
            _ => None,
        }
    }

    /// Globs as `g:PATTERN`, literals as `l:PATH`.
    fn fields(s: &str) -> Vec<String> {
        expand_fields(s, &env)
            .unwrap()
            .into_iter()
            .map(|f| match f {
                Field::Glob { pattern, .. } => format!("g:{pattern}"),
                Field::Literal(l) => format!("l:{l}"),
            })
            .collect()
    }

    fn g(s: &str) -> String {
        format!("g:{s}")
    }

    fn l(s: &str) -> String {
        format!("l:{s}")
    }

    #[test]
    fn plain_and_globs() {
        assert_eq!(fields("/d/src/*.txt"), vec![g("/d/src/*.txt")]);
        assert_eq!(fields("/d/my file.txt"), vec![l("/d/my file.txt")]);
        assert_eq!(fields("/d/a&(b).txt"), vec![l("/d/a&(b).txt")]);
    }

    #[test]
    fn braces() {
        assert_eq!(
            fields("/d/{a,b/c}.txt"),
            vec![l("/d/a.txt"), l("/d/b/c.txt")]
        );
        assert_eq!(
            fields("/d/f{1..3}"),
            vec![l("/d/f1"), l("/d/f2"), l("/d/f3")]
        );
        assert_eq!(
            fields("/d/f{08..10}"),
            vec![l("/d/f08"), l("/d/f09"), l("/d/f10")]
        );
        assert_eq!(fields("/d/{a..c..2}"), vec![l("/d/a"), l("/d/c")]);
        assert_eq!(fields("/d/{x}"), vec![l("/d/{x}")]);
        assert_eq!(fields("/d/{a,b"), vec![l("/d/{a,b")]);
        assert_eq!(fields("/d/{1..b}"), vec![l("/d/{1..b}")]);
        assert_eq!(
            fields("/d/{a,{b,c}}*"),
            vec![g("/d/a*"), g("/d/b*"), g("/d/c*")]
        );
        assert_eq!(fields("/d/\\{a,b}"), vec![l("/d/{a,b}")]);
    }

    #[test]
    fn quotes_protect_wildcards() {
        assert_eq!(fields("/d/'*'.txt"), vec![l("/d/*.txt")]);
        assert_eq!(fields("/d/\"*\"/*.txt"), vec![g("/d/\\*/*.txt")]);
    }

    #[test]
    fn env_expansion_and_splitting() {
        assert_eq!(fields("/d/$SUB/*.go"), vec![g("/d/src/*.go")]);
        assert_eq!(fields("/d/${SUB}x"), vec![l("/d/srcx")]);
        assert_eq!(fields("/d/$TWO"), vec![l("/d/a"), l("b")]);
        assert_eq!(fields("/d/\"$TWO\""), vec![l("/d/a b")]);
        assert_eq!(fields("/d/$NOPE"), vec![l("/d/")]);
        assert_eq!(fields("/d/a$"), vec![l("/d/a$")]);
    }

    #[test]
    fn unsupported_syntax_is_an_error() {
        // go-task escapes parentheses first, so `$(…)` is plain text.
        assert_eq!(fields("/d/$(ls)"), vec![l("/d/$(ls)")]);
        assert!(expand_fields("/d/`ls`", &env).is_err());
        assert!(expand_fields("/d/a;b", &env).is_err());
        assert!(expand_fields("/d/'open", &env).is_err());
    }
}

//! `.env` files, parsed the way go-task reads them (it uses godotenv 1.5.1).
//!
//! Public API:
//! - [`parse`]: bytes → ordered `(key, value)` pairs, or a [`ParseError`] with the line.
//! - [`read_file`]: one file; errors read `error reading env file PATH: …` like go-task's.
//! - [`load`]: several files in order, missing ones skipped, the **first** file that sets
//!   a key wins (go-task's set-if-absent merge).
//!
//! The grammar follows godotenv, quirks included, because users' files were written
//! against it:
//! - `KEY=value`, `KEY: value` (YAML style), optional `export ` prefix; key characters are
//!   letters, digits, `_` and `.`; blanks inside a key are dropped silently.
//! - unquoted values run to the end of the line, a ` #` starts an inline comment, and they
//!   are trimmed; `$VAR`/`${VAR}` are expanded from keys set earlier **in the same file**
//!   (never from the process environment; only names made of `A-Z0-9_`).
//! - single-quoted values are raw; double-quoted values may span lines, `\n`/`\r` become
//!   newline/CR, `\x` becomes `x` (except `\$`, which keeps a literal `$`), then `$VAR` is
//!   expanded as above.
//! - a later definition of a key in the same file replaces the earlier value.

use std::path::{Path, PathBuf};

/// A syntax error inside a dotenv file. `Display` gives godotenv's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// 1-based line where the offending statement or character is.
    pub line: usize,
    /// godotenv's message, e.g. `unexpected character "\n" in variable name near "X\n"`.
    pub message: String,
}

/// Why a dotenv file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DotenvError {
    /// The file exists but does not parse.
    #[error("error reading env file {}: {source}", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: ParseError,
    },
    /// The file exists but cannot be read.
    #[error("error reading env file {}: {}", path.display(), go_io_message(.op, path, source))]
    Io {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
}

impl DotenvError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            DotenvError::Parse { path, .. } | DotenvError::Io { path, .. } => path,
        }
    }

    /// The 1-based line of a parse error.
    pub fn line(&self) -> Option<usize> {
        match self {
            DotenvError::Parse { source, .. } => Some(source.line),
            DotenvError::Io { .. } => None,
        }
    }

    /// go-task exits with 1 for dotenv errors (its generic code).
    pub fn exit_code(&self) -> i32 {
        1
    }
}

/// Go's `*PathError` wording (`open /x: permission denied`), which go-task prints.
fn go_io_message(op: &str, path: &Path, err: &std::io::Error) -> String {
    let text = match err.raw_os_error() {
        Some(code) => errno_text(code),
        None => err.to_string(),
    };
    format!("{op} {}: {text}", path.display())
}

fn errno_text(code: i32) -> String {
    // Go's syscall error strings are strerror's, lowercased at the start.
    let s = std::io::Error::from_raw_os_error(code).to_string();
    let s = match s.rfind(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    };
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().collect::<String>() + chars.as_str(),
        None => s,
    }
}

/// Parses a whole dotenv file. Keys keep the order in which they first appear.
pub fn parse(src: &[u8]) -> Result<Vec<(String, String)>, ParseError> {
    let text = String::from_utf8_lossy(src).replace("\r\n", "\n");
    let mut out = EnvMap::default();
    let mut pos = 0usize;
    while let Some(start) = statement_start(&text, pos) {
        let (key, value_at) = locate_key(&text, start)?;
        let (value, rest) = extract_value(&text, value_at, &out)?;
        out.set(key, value);
        match rest {
            Some(r) => pos = r,
            None => break,
        }
    }
    Ok(out.entries)
}

/// Reads and parses one file.
pub fn read_file(path: &Path) -> Result<Vec<(String, String)>, DotenvError> {
    let data = std::fs::read(path).map_err(|source| DotenvError::Io {
        path: path.to_path_buf(),
        op: if source.raw_os_error() == Some(21) {
            "read"
        } else {
            "open"
        },
        source,
    })?;
    parse(&data).map_err(|source| DotenvError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads the files in order (already templated and joined with the Taskfile's dir),
/// skipping those that do not exist; for a key set by several files the first wins.
pub fn load<P: AsRef<Path>>(
    paths: impl IntoIterator<Item = P>,
) -> Result<Vec<(String, String)>, DotenvError> {
    let mut merged = EnvMap::default();
    for p in paths {
        let p = p.as_ref();
        if let Err(e) = std::fs::metadata(p) {
            if e.kind() == std::io::ErrorKind::NotFound {
                continue;
            }
        }
        for (k, v) in read_file(p)? {
            if merged.get(&k).is_none() {
                merged.set(k, v);
            }
        }
    }
    Ok(merged.entries)
}

/// An insertion-ordered map; files are small, so a linear scan is fine.
#[derive(Default)]
struct EnvMap {
    entries: Vec<(String, String)>,
}

impl EnvMap {
    fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, key: String, value: String) {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(e) => e.1 = value,
            None => self.entries.push((key, value)),
        }
    }
}

/// godotenv's notion of a blank inside a line (no line breaks).
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

fn line_of(text: &str, byte_pos: usize) -> usize {
    1 + text.as_bytes()[..byte_pos.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Skips blanks, blank lines and `#` comment lines; `None` at the end of the file.
fn statement_start(text: &str, mut pos: usize) -> Option<usize> {
    loop {
        let rel = text[pos..].find(|c: char| !c.is_whitespace())?;
        let start = pos + rel;
        if !text[start..].starts_with('#') {
            return Some(start);
        }
        // A comment running to the end of the file ends the statements.
        pos = start + text[start..].find('\n')?;
    }
}

/// Returns the key and the byte offset where its value starts.
fn locate_key(text: &str, start: usize) -> Result<(String, usize), ParseError> {
    let mut s = start + (text[start..].len() - text[start..].trim_start_matches(is_space).len());
    if let Some(after) = text[s..].strip_prefix("export") {
        if after.starts_with(is_space) {
            let trimmed = after.trim_start_matches(is_space);
            s = text.len() - trimmed.len();
        }
    }
    let src = &text[s..];
    let bytes = src.as_bytes();
    let mut key_end = None;
    for (i, &b) in bytes.iter().enumerate() {
        // godotenv walks bytes and reads each as a Latin-1 rune; kept for compatibility.
        let r = b as char;
        if is_space(r) {
            continue;
        }
        match b {
            b'=' | b':' => {
                key_end = Some(i);
                break;
            }
            b'_' => {}
            _ if r.is_alphabetic() || r.is_numeric() || r == '.' => {}
            _ => {
                return Err(ParseError {
                    line: line_of(text, s + i),
                    message: format!(
                        "unexpected character {} in variable name near {}",
                        go_quote(&r.to_string()),
                        go_quote(src)
                    ),
                });
            }
        }
    }
    if src.is_empty() {
        return Err(ParseError {
            line: line_of(text, s),
            message: "zero length string".to_string(),
        });
    }
    // Without `=` or `:` godotenv takes an empty key and reads the line as its value.
    let (key, offset) = match key_end {
        Some(i) => (src[..i].trim_end().to_string(), i + 1),
        None => (String::new(), 0),
    };
    let rest = &src[offset..];
    let value_at = s + offset + (rest.len() - rest.trim_start_matches(is_space).len());
    Ok((key, value_at))
}

/// Reads a value at `at`; returns it and where the next statement may start
/// (`None` at end of input).
fn extract_value(
    text: &str,
    at: usize,
    vars: &EnvMap,
) -> Result<(String, Option<usize>), ParseError> {
    let src = &text[at..];
    let quote = match src.as_bytes().first() {
        Some(&q @ (b'"' | b'\'')) => q,
        _ => {
            let end = match src.find(['\n', '\r']) {
                Some(e) => e,
                None if src.is_empty() => return Ok((String::new(), None)),
                None => src.len(),
            };
            let line: Vec<char> = src[..end].chars().collect();
            let mut end_of_var = line.len();
            if end_of_var == 0 {
                return Ok((String::new(), Some(at + end)));
            }
            // The last ` #` on the line starts an inline comment.
            for i in (1..line.len()).rev() {
                if line[i] == '#' && is_space(line[i - 1]) {
                    end_of_var = i;
                    break;
                }
            }
            let value: String = line[..end_of_var].iter().collect();
            let value = value.trim_matches(is_space);
            return Ok((expand_variables(value, vars), Some(at + end)));
        }
    };
    let bytes = src.as_bytes();
    for i in 1..bytes.len() {
        if bytes[i] != quote || bytes[i - 1] == b'\\' {
            continue;
        }
        let q = quote as char;
        let raw = src[..i].trim_end_matches(q).trim_start_matches(q);
        let value = if quote == b'"' {
            expand_variables(&expand_escapes(raw), vars)
        } else {
            raw.to_string()
        };
        return Ok((value, Some(at + i + 1)));
    }
    let end = src.find('\n').unwrap_or(src.len());
    Err(ParseError {
        line: line_of(text, at),
        message: format!("unterminated quoted value {}", &src[..end]),
    })
}

/// Double-quote escapes: `\n`, `\r`; other `\x` → `x`, but `\$` is kept for expansion.
fn expand_escapes(s: &str) -> String {
    // Pass 1: `\n`/`\r` (a backslash pair is consumed as a unit and left alone).
    let mut first = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.peek().copied() {
                Some(n) if n != '\n' => {
                    it.next();
                    match n {
                        'n' => first.push('\n'),
                        'r' => first.push('\r'),
                        _ => {
                            first.push('\\');
                            first.push(n);
                        }
                    }
                }
                _ => first.push('\\'),
            }
        } else {
            first.push(c);
        }
    }
    // Pass 2: drop the backslash before anything but `$`.
    let mut out = String::with_capacity(first.len());
    let mut it = first.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.peek().copied() {
                Some(n) if n != '$' => {
                    it.next();
                    out.push(n);
                }
                _ => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `$NAME`, `${NAME}` and `\$NAME` (kept literal) as godotenv's expansion regexp
/// `(\\)?(\$)(\()?\{?([A-Z0-9_]+)?\}?` treats them.
fn expand_variables(v: &str, vars: &EnvMap) -> String {
    let b = v.as_bytes();
    let mut out = String::with_capacity(v.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        let escaped = b[i] == b'\\' && b.get(i + 1) == Some(&b'$');
        if !(escaped || b[i] == b'$') {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = if escaped { i + 2 } else { i + 1 };
        if b.get(j) == Some(&b'(') {
            j += 1;
        }
        if b.get(j) == Some(&b'{') {
            j += 1;
        }
        let name_start = j;
        while j < b.len() && (b[j].is_ascii_uppercase() || b[j].is_ascii_digit() || b[j] == b'_') {
            j += 1;
        }
        let name = &v[name_start..j];
        if b.get(j) == Some(&b'}') {
            j += 1;
        }
        out.push_str(&v[copied..start]);
        if escaped {
            out.push_str(&v[start + 1..j]);
        } else if !name.is_empty() {
            out.push_str(vars.get(name).unwrap_or(""));
        } else {
            out.push_str(&v[start..j]);
        }
        copied = j;
        i = j;
    }
    out.push_str(&v[copied..]);
    out
}

/// Go's `strconv.Quote`, close enough for error messages.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if !go_is_print(c) => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32))
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn go_is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    let u = c as u32;
    !(c.is_control()
        || c.is_whitespace()
        || matches!(u, 0xad | 0x61c | 0x180e | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064 | 0xfeff)
        || (0xe000..=0xf8ff).contains(&u)
        || u >= 0xf0000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Vec<(String, String)> {
        parse(s.as_bytes()).unwrap()
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn plain_export_yaml_and_comments() {
        let src = "# header\nA=1\n\nexport B=two words\nC: yaml\n  D = spaced  \nexportE=x\n";
        assert_eq!(
            p(src),
            kv(&[
                ("A", "1"),
                ("B", "two words"),
                ("C", "yaml"),
                ("D", "spaced"),
                ("exportE", "x")
            ])
        );
    }

    #[test]
    fn inline_comments_need_a_blank_before_hash() {
        assert_eq!(
            p("A=x # c\nB=x#notcomment\nC=a # b # c\n"),
            kv(&[("A", "x"), ("B", "x#notcomment"), ("C", "a # b")])
        );
    }

    #[test]
    fn quotes_and_escapes() {
        let src = "S='raw \\n $A'\nA=1\nD=\"l1\\nl2 \\\"q\\\" \\$A ${A} $A\"\nM=\"multi\nline\"\nE=\"\"\n";
        assert_eq!(
            p(src),
            kv(&[
                ("S", "raw \\n $A"),
                ("A", "1"),
                ("D", "l1\nl2 \"q\" $A 1 1"),
                ("M", "multi\nline"),
                ("E", "")
            ])
        );
    }

    #[test]
    fn expansion_uses_only_earlier_keys_of_the_file() {
        let src = "LATER=$B\nB=bee\nU=$B-${B}-$NOPE-$lower\nQ='$B'\n";
        assert_eq!(
            p(src),
            kv(&[
                ("LATER", ""),
                ("B", "bee"),
                ("U", "bee-bee--$lower"),
                ("Q", "$B")
            ])
        );
    }

    #[test]
    fn godotenv_oddities_observed_with_go_task() {
        // Recorded from go-task 3.54: blanks inside a key survive, `$(` is not special,
        // double-quoted `\\\\` collapses pairwise, an unclosed `${` still expands.
        let src = "A B=1\nX=$(A)\nY=\"a\\\\\\\\nb\"\nZ=${A\n";
        assert_eq!(
            p(src),
            kv(&[("A B", "1"), ("X", ")"), ("Y", "a\\\\nb"), ("Z", "")])
        );
    }

    #[test]
    fn duplicate_key_last_value_wins_first_position_kept() {
        assert_eq!(p("A=1\nB=2\nA=3\n"), kv(&[("A", "3"), ("B", "2")]));
    }

    #[test]
    fn crlf_and_no_trailing_newline() {
        assert_eq!(p("A=1\r\nB=2"), kv(&[("A", "1"), ("B", "2")]));
        assert_eq!(p("A="), kv(&[("A", "")]));
        assert_eq!(p("A=\nB=x\n"), kv(&[("A", ""), ("B", "x")]));
    }

    #[test]
    fn parse_error_matches_godotenv_text_and_line() {
        // The dotenv_parse_error conformance case.
        let err = parse(b"#intentional parse error\nSOME_VAR\n").unwrap_err();
        assert_eq!(
            err.message,
            r#"unexpected character "\n" in variable name near "SOME_VAR\n""#
        );
        assert_eq!(err.line, 2);
        let err = parse(b"A=1\nB-C=2\n").unwrap_err();
        assert_eq!(
            err.message,
            r#"unexpected character "-" in variable name near "B-C=2\n""#
        );
        assert_eq!(err.line, 2);
    }

    #[test]
    fn unterminated_quote() {
        let err = parse(b"A=1\nB=\"open\nC=2\n").unwrap_err();
        assert_eq!(err.message, "unterminated quoted value \"open");
        assert_eq!(err.line, 2);
    }

    #[test]
    fn file_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(".env-with-error");
        std::fs::write(&f, "#intentional parse error\nSOME_VAR\n").unwrap();
        let err = read_file(&f).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "error reading env file {}: unexpected character \"\\n\" in variable name near \"SOME_VAR\\n\"",
                f.display()
            )
        );
        assert_eq!(err.line(), Some(2));
        assert_eq!(err.exit_code(), 1);
        let d = dir.path().join("adir");
        std::fs::create_dir(&d).unwrap();
        let err = read_file(&d).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "error reading env file {}: read {}: is a directory",
                d.display(),
                d.display()
            )
        );
    }

    #[test]
    fn load_skips_missing_and_first_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.env");
        let b = dir.path().join("b.env");
        std::fs::write(&a, "X=from-a\nY=ya\n").unwrap();
        std::fs::write(&b, "X=from-b\nZ=zb\n").unwrap();
        let got = load([dir.path().join("missing.env"), a, b]).unwrap();
        assert_eq!(got, kv(&[("X", "from-a"), ("Y", "ya"), ("Z", "zb")]));
    }

    #[test]
    fn go_quote_escapes() {
        assert_eq!(
            go_quote("a\"b\\\t\u{1}\u{a0}é"),
            "\"a\\\"b\\\\\\t\\x01\\u00a0é\""
        );
    }
}

//! go-task's own template functions (internal/templater/funcs.go).

use std::fmt;

use super::super::val::Val;
use super::super::value::{Map, Value};
use super::sprig::path_clean;
use super::{a_any, a_int, a_map, a_str, def, ok, ok_iface, Ctx, FuncDef, Ty};

use Ty::{Any, Int, MapSI, Str};

pub fn register(v: &mut Vec<FuncDef>) {
    def(v, "OS", &[], None, |_, _| {
        ok(Value::str(std::env::consts::OS))
    });
    def(v, "ARCH", &[], None, |_, _| ok(Value::str(go_arch())));
    def(v, "numCPU", &[], None, |_, _| {
        ok(Value::Int(
            std::thread::available_parallelism()
                .map(|n| n.get() as i64)
                .unwrap_or(1),
        ))
    });
    def(v, "catLines", &[Str], None, |_, a| {
        ok(Value::Str(
            a_str(&a[0]).replace("\r\n", " ").replace('\n', " "),
        ))
    });
    def(v, "splitLines", &[Str], None, |_, a| {
        let s = a_str(&a[0]).replace("\r\n", "\n");
        ok(Value::StrList(s.split('\n').map(str::to_string).collect()))
    });
    for name in ["fromSlash", "toSlash", "FromSlash", "ToSlash"] {
        def(v, name, &[Str], None, |_, a| {
            ok(Value::str(a_str(&a[0]).as_ref()))
        });
    }
    for name in ["exeExt", "ExeExt"] {
        def(v, name, &[], None, |_, _| {
            ok(Value::str(if cfg!(windows) { ".exe" } else { "" }))
        });
    }
    for name in ["shellQuote", "q"] {
        def(v, name, &[Str], None, |_, a| {
            shell_quote(super::a_bytes(&a[0])).map(|s| Val::own(Value::Str(s)))
        });
    }
    def(v, "splitArgs", &[Str], None, |_, a| {
        split_args(&a_str(&a[0])).map(|l| Val::own(Value::StrList(l)))
    });
    def(v, "IsSH", &[], None, |_, _| ok(Value::Bool(true)));
    def(v, "joinPath", &[], Some(Str), |_, a| {
        let parts: Vec<String> = a.iter().map(|x| a_str(x).into_owned()).collect();
        ok(Value::Str(join_path(&parts)))
    });
    def(v, "joinEnv", &[], Some(Str), |_, a| {
        let parts: Vec<String> = a.iter().map(|x| a_str(x).into_owned()).collect();
        ok(Value::Str(parts.join(if cfg!(windows) {
            ";"
        } else {
            ":"
        })))
    });
    def(v, "joinUrl", &[], Some(Str), |_, a| {
        if a.is_empty() {
            return ok(Value::str(""));
        }
        let elems: Vec<String> = a.iter().map(|x| a_str(x).into_owned()).collect();
        let u = url_parse(&elems[0])?;
        ok(Value::Str(u.join_path(&elems[1..]).to_string()))
    });
    def(v, "relPath", &[Str, Str], None, |_, a| {
        rel_path(&a_str(&a[0]), &a_str(&a[1])).map(|s| Val::own(Value::Str(s)))
    });
    def(v, "absPath", &[Str], None, |_, a| {
        let p = a_str(&a[0]);
        if p.starts_with('/') {
            return ok(Value::Str(path_clean(&p)));
        }
        let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
        ok(Value::Str(join_path(&[
            cwd.to_string_lossy().into_owned(),
            p.into_owned(),
        ])))
    });
    def(v, "merge", &[MapSI], Some(MapSI), |_, a| {
        let mut res = Map::new();
        for m in &a {
            for (k, x) in a_map(m) {
                res.insert(k.clone(), x.clone());
            }
        }
        ok(Value::Map(res.into()))
    });
    def(v, "spew", &[], Some(Any), |_, a| {
        let mut out = String::new();
        for x in &a {
            spew(&mut out, &a_any(x));
        }
        ok(Value::Str(out))
    });
    def(v, "fromYaml", &[Str], None, |_, a| {
        ok_iface(super::super::yaml_value::parse_yaml_value(&a_str(&a[0])).unwrap_or(Value::Nil))
    });
    def(v, "mustFromYaml", &[Str], None, |_, a| {
        super::super::yaml_value::parse_yaml_value(&a_str(&a[0])).map(Val::own_iface)
    });
    // An unmarshalable type panics inside yaml.Marshal, so toYaml fails too.
    def(v, "toYaml", &[Any], None, |_, a| {
        super::super::yaml_emit::to_yaml(&a_any(&a[0])).map(|s| Val::own(Value::Str(s)))
    });
    def(v, "mustToYaml", &[Any], None, |_, a| {
        super::super::yaml_emit::to_yaml(&a_any(&a[0])).map(|s| Val::own(Value::Str(s)))
    });
    def(v, "uuid", &[], None, |_, _| ok(Value::Str(uuid_v4())));
    def(v, "randIntN", &[Int], None, |_, a| {
        let n = a_int(&a[0]);
        if n <= 0 {
            return Err("invalid argument to IntN".into());
        }
        ok(Value::Int((rand_u64() % n as u64) as i64))
    });
    let _ = |_: &mut Ctx| ();
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// A small non-cryptographic generator (splitmix64 seeded from the clock
/// and the process' hasher keys), enough for `randInt`/`uuid`.
pub(crate) fn rand_u64() -> u64 {
    use std::cell::Cell;
    use std::hash::{BuildHasher, Hasher};
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
            h.finish()
        });
    }
    STATE.with(|s| {
        let mut z = s.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        s.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&rand_u64().to_le_bytes());
    b[8..].copy_from_slice(&rand_u64().to_le_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = super::sprig::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Go's `filepath.Join`.
pub(crate) fn join_path(elems: &[String]) -> String {
    let parts: Vec<&str> = elems
        .iter()
        .map(|s| s.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    path_clean(&parts.join("/"))
}

/// Go's `filepath.Rel`.
pub(crate) fn rel_path(basepath: &str, targpath: &str) -> Result<String, String> {
    let base = path_clean(basepath);
    let targ = path_clean(targpath);
    if targ == base {
        return Ok(".".into());
    }
    let base = if base == "." { String::new() } else { base };
    let base_slashed = base.starts_with('/');
    let targ_slashed = targ.starts_with('/');
    if base_slashed != targ_slashed {
        return Err(format!(
            "Rel: can't make {} relative to {}",
            targpath, basepath
        ));
    }
    let (b, t) = (base.as_bytes(), targ.as_bytes());
    let (bl, tl) = (b.len(), t.len());
    let (mut b0, mut bi, mut t0, mut ti) = (0, 0, 0, 0);
    loop {
        while bi < bl && b[bi] != b'/' {
            bi += 1;
        }
        while ti < tl && t[ti] != b'/' {
            ti += 1;
        }
        if targ[t0..ti] != base[b0..bi] {
            break;
        }
        if bi < bl {
            bi += 1;
        }
        if ti < tl {
            ti += 1;
        }
        b0 = bi;
        t0 = ti;
        if b0 >= bl && t0 >= tl {
            break;
        }
    }
    if &base[b0..bi] == ".." {
        return Err(format!(
            "Rel: can't make {} relative to {}",
            targpath, basepath
        ));
    }
    if b0 != bl {
        let seps = base[b0..bl].matches('/').count();
        let mut s = String::from("..");
        for _ in 0..seps {
            s.push_str("/..");
        }
        if t0 != tl {
            s.push('/');
            s.push_str(&targ[t0..]);
        }
        return Ok(s);
    }
    Ok(targ[t0..].to_string())
}

/// mvdan.cc/sh `syntax.Quote(s, LangBash)` over Go string bytes.
pub(crate) fn shell_quote(s: &[u8]) -> Result<String, String> {
    use super::super::strconv::{decode_rune, is_print};
    if s.is_empty() {
        return Ok("''".into());
    }
    let mut shell_chars = false;
    let mut non_printable = false;
    let mut offs = 0;
    while offs < s.len() {
        let (r, size) = decode_rune(&s[offs..]);
        match r {
            Some(c) => {
                if ";\"'()$|&><` \t\r\n\\#{~*?[=".contains(c) {
                    shell_chars = true;
                }
                if c == '\0' {
                    return Err(format!(
                        "cannot quote character at byte {}: shell strings cannot contain null bytes",
                        offs
                    ));
                }
                if !is_print(c) || c == '\u{fffd}' {
                    non_printable = true;
                }
            }
            None => non_printable = true,
        }
        offs += size.max(1);
    }
    const KEYWORDS: &[&str] = &[
        "!", "[[", "]]", "case", "coproc", "do", "done", "elif", "else", "esac", "fi", "for",
        "function", "if", "in", "select", "then", "time", "until", "while", "{", "}",
    ];
    let text = String::from_utf8_lossy(s);
    if !shell_chars && !non_printable && !KEYWORDS.contains(&text.as_ref()) {
        return Ok(text.into_owned());
    }
    if non_printable {
        let mut out = String::from("$'");
        let mut i = 0;
        while i < s.len() {
            let (r, size) = decode_rune(&s[i..]);
            match r {
                Some(c @ ('\'' | '\\')) => {
                    out.push('\\');
                    out.push(c);
                }
                Some(c) if is_print(c) && c != '\u{fffd}' => out.push(c),
                Some('\x07') => out.push_str("\\a"),
                Some('\x08') => out.push_str("\\b"),
                Some('\x0c') => out.push_str("\\f"),
                Some('\n') => out.push_str("\\n"),
                Some('\r') => out.push_str("\\r"),
                Some('\t') => out.push_str("\\t"),
                Some('\x0b') => out.push_str("\\v"),
                Some(c) if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
                None => out.push_str(&format!("\\x{:02x}", s[i])),
                Some(c) if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
                Some(c) => out.push_str(&format!("\\U{:08x}", c as u32)),
            }
            i += size.max(1);
        }
        out.push('\'');
        return Ok(out);
    }
    if !text.contains('\'') {
        return Ok(format!("'{}'", text));
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        if matches!(c, '"' | '\\' | '`' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// mvdan.cc/sh `shell.Fields(s, nil)`: the environment supplies variables.
pub(crate) fn split_args(s: &str) -> Result<Vec<String>, String> {
    super::shell::fields(s, &|n| std::env::var(n).ok())
}

/// go-spew's `Sdump` of one value.
fn spew(out: &mut String, v: &Value) {
    if let Value::Nil = v {
        out.push_str("(interface {}) <nil>\n");
        return;
    }
    spew_value(out, v, 0, false);
    out.push('\n');
}

fn spew_value(out: &mut String, v: &Value, depth: usize, no_indent: bool) {
    if !no_indent {
        out.push_str(&" ".repeat(depth));
    }
    if let Value::Nil = v {
        out.push_str("(interface {}) <nil>");
        return;
    }
    out.push('(');
    out.push_str(v.go_type());
    out.push_str(") ");
    let len = v.len().unwrap_or(0);
    if len != 0 {
        if v.is_slice() {
            out.push_str(&format!("(len={} cap={}) ", len, len));
        } else {
            out.push_str(&format!("(len={}) ", len));
        }
    }
    match v {
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Uint8(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&super::super::strconv::format_float(*f, b'g', -1)),
        Value::Complex(r, i) => {
            let rs = super::super::strconv::format_float(*r, b'g', -1);
            let is = super::super::strconv::format_float(*i, b'g', -1);
            out.push_str(&format!(
                "({}{}{}i)",
                rs,
                if is.starts_with('-') { "" } else { "+" },
                is
            ));
        }
        Value::Str(_) | Value::Bytes(_) => out.push_str(&super::super::strconv::quote_bytes(
            v.go_bytes().unwrap(),
            false,
        )),
        Value::Time(t) => out.push_str(&t.go_string()),
        Value::Map(_) | Value::StrMap(_) | Value::AnyMap(_) => {
            out.push_str("{\n");
            // go-spew does not sort keys; Go's iteration order of small maps
            // is in practice the insertion order, which we keep.
            let entries: Vec<(Value, Value)> = match v {
                Value::Map(m) => {
                    let e: Vec<_> = m
                        .iter()
                        .map(|(k, x)| (Value::Str(k.clone()), x.clone()))
                        .collect();
                    e
                }
                Value::StrMap(m) => {
                    let e: Vec<_> = m
                        .iter()
                        .map(|(k, x)| (Value::Str(k.clone()), Value::Str(x.clone())))
                        .collect();
                    e
                }
                Value::AnyMap(m) => m.clone(),
                _ => Vec::new(),
            };
            let n = entries.len();
            for (i, (k, x)) in entries.iter().enumerate() {
                spew_value(out, k, depth + 1, false);
                out.push_str(": ");
                spew_value(out, x, depth + 1, true);
                out.push_str(if i + 1 < n { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(depth));
            out.push('}');
        }
        _ => {
            out.push_str("{\n");
            let items = v.slice_items().unwrap_or_default();
            let n = items.len();
            for (i, x) in items.iter().enumerate() {
                spew_value(out, x, depth + 1, false);
                out.push_str(if i + 1 < n { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(depth));
            out.push('}');
        }
    }
}

// ---- net/url ----

#[derive(Default, Clone, Debug)]
pub(crate) struct Url {
    pub scheme: String,
    pub opaque: String,
    pub user: Option<String>,
    pub host: String,
    pub path: String,
    pub raw_path: String,
    pub force_query: bool,
    pub raw_query: String,
    pub fragment: String,
}

fn unhex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            match (
                b.get(i + 1).and_then(|c| unhex(*c)),
                b.get(i + 2).and_then(|c| unhex(*c)),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                _ => {
                    let bad = &s[i..(i + 3).min(s.len())];
                    return Err(format!(
                        "invalid URL escape {}",
                        super::super::strconv::quote(bad)
                    ));
                }
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn should_escape(c: u8, mode: u8) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            b'p' => c == b'?',
            b'f' => false,
            _ => true,
        },
        b'!' | b'(' | b')' | b'*' if mode == b'f' => false,
        _ => true,
    }
}

fn escape(s: &str, mode: u8) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if should_escape(c, mode) {
            out.push_str(&format!("%{:02X}", c));
        } else {
            out.push(c as char);
        }
    }
    out
}

/// Go's `url.Parse` (the parts sprig and go-task use).
pub(crate) fn url_parse(raw: &str) -> Result<Url, String> {
    let err = |e: &str| format!("parse {}: {}", super::super::strconv::quote(raw), e);
    let (u, frag) = match raw.find('#') {
        Some(i) => (&raw[..i], Some(&raw[i + 1..])),
        None => (raw, None),
    };
    if raw.bytes().any(|c| c < 0x20 || c == 0x7f) {
        return Err(err("net/url: invalid control character in URL"));
    }
    let mut url = Url::default();
    let mut rest = u;
    // scheme
    for (i, c) in u.bytes().enumerate() {
        if c.is_ascii_alphabetic() {
            continue;
        }
        if c.is_ascii_digit() || c == b'+' || c == b'-' || c == b'.' {
            if i == 0 {
                break;
            }
            continue;
        }
        if c == b':' {
            if i == 0 {
                return Err(err("missing protocol scheme"));
            }
            url.scheme = u[..i].to_ascii_lowercase();
            rest = &u[i + 1..];
        }
        break;
    }
    if let Some(i) = rest.find('?') {
        url.raw_query = rest[i + 1..].to_string();
        url.force_query = rest[i + 1..].is_empty();
        rest = &rest[..i];
    }
    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            url.opaque = rest.to_string();
            if let Some(f) = frag {
                url.fragment = unescape(f).map_err(|e| err(&e))?;
            }
            return Ok(url);
        }
        let seg = rest.split('/').next().unwrap_or("");
        if seg.contains(':') {
            return Err(err("first path segment in URL cannot contain colon"));
        }
    }
    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let after = &rest[2..];
        let (auth, r) = match after.find('/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, ""),
        };
        match auth.rfind('@') {
            Some(i) => {
                url.user = Some(auth[..i].to_string());
                url.host = auth[i + 1..].to_string();
            }
            None => url.host = auth.to_string(),
        }
        rest = r;
    }
    url.path = unescape(rest).map_err(|e| err(&e))?;
    if escape(&url.path, b'p') != rest {
        url.raw_path = rest.to_string();
    }
    if let Some(f) = frag {
        url.fragment = unescape(f).map_err(|e| err(&e))?;
    }
    Ok(url)
}

impl Url {
    pub fn hostname(&self) -> String {
        let h = &self.host;
        if h.starts_with('[') {
            if let Some(i) = h.find(']') {
                return h[1..i].to_string();
            }
        }
        match h.rfind(':') {
            Some(i) => h[..i].to_string(),
            None => h.clone(),
        }
    }

    fn escaped_path(&self) -> String {
        if !self.raw_path.is_empty()
            && valid_encoded(&self.raw_path)
            && unescape(&self.raw_path).ok().as_deref() == Some(self.path.as_str())
        {
            return self.raw_path.clone();
        }
        if self.path == "*" {
            return "*".into();
        }
        escape(&self.path, b'p')
    }

    /// Go's `URL.JoinPath`.
    pub fn join_path(&self, elems: &[String]) -> Url {
        let mut all = vec![self.escaped_path()];
        all.extend(elems.iter().cloned());
        let p = if !all[0].starts_with('/') {
            all[0] = format!("/{}", all[0]);
            join_path_slash(&all)[1..].to_string()
        } else {
            join_path_slash(&all)
        };
        let mut p = p;
        if all.last().is_some_and(|l| l.ends_with('/')) && !p.ends_with('/') {
            p.push('/');
        }
        let mut u = self.clone();
        u.path = unescape(&p).unwrap_or(p.clone());
        u.raw_path = if escape(&u.path, b'p') != p {
            p
        } else {
            String::new()
        };
        u
    }
}

/// Go's `validEncoded(s, encodePath)`.
fn valid_encoded(s: &str) -> bool {
    s.bytes().all(|c| {
        matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'['
                | b']'
                | b'%'
        ) || !should_escape(c, b'p')
    })
}

/// Go's `path.Join`.
fn join_path_slash(elems: &[String]) -> String {
    let parts: Vec<&str> = elems
        .iter()
        .map(|s| s.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    path_clean(&parts.join("/"))
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = String::new();
        if !self.scheme.is_empty() {
            buf.push_str(&self.scheme);
            buf.push(':');
        }
        if !self.opaque.is_empty() {
            buf.push_str(&self.opaque);
        } else {
            if !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some() {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    buf.push_str("//");
                }
                if let Some(u) = &self.user {
                    buf.push_str(u);
                    buf.push('@');
                }
                buf.push_str(&self.host);
            }
            let path = self.escaped_path();
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                buf.push('/');
            }
            if buf.is_empty() {
                let seg = path.split('/').next().unwrap_or("");
                if seg.contains(':') {
                    buf.push_str("./");
                }
            }
            buf.push_str(&path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            buf.push('?');
            buf.push_str(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            buf.push('#');
            buf.push_str(&escape(&self.fragment, b'f'));
        }
        f.write_str(&buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rel() {
        assert_eq!(rel_path("/a/b", "/a/c/d").unwrap(), "../c/d");
        assert_eq!(rel_path("/a", "/a").unwrap(), ".");
        assert!(rel_path("/a", "b").is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote(b"it's a test").unwrap(), "\"it's a test\"");
        assert_eq!(shell_quote(b"$x\n").unwrap(), "$'$x\\n'");
        assert_eq!(shell_quote(b"\xff").unwrap(), "$'\\xff'");
        assert_eq!(shell_quote(b"plain").unwrap(), "plain");
        assert_eq!(split_args("  x   'y z' ").unwrap(), vec!["x", "y z"]);
    }
}

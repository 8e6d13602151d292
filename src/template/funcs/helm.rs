//! Helm's additions to the function map (`pkg/engine/funcs.go`, `engine.go`) and the
//! parts of full sprig v3 that slim-sprig lacks and charts use. Registered under a
//! `helm.` prefix: only templates parsed in Helm mode see them (see [`super::lookup_in`]).

use std::rc::Rc;

use super::super::val::Val;
use super::super::value::{Map, Value};
use super::{a_any, a_map, a_str, ok, ok_iface, Ctx, FuncDef, Imp, Special, Ty};

use Ty::{Any, MapSI, Str};

/// Helm wraps the messages of `required` and `fail` so that the final error shows them
/// without the template call chain.
pub const WARN_START: &str = "HELM_ERR_START";
pub const WARN_END: &str = "HELM_ERR_END";

fn hdef(
    v: &mut Vec<FuncDef>,
    name: &'static str,
    params: &'static [Ty],
    variadic: Option<Ty>,
    imp: Imp,
) {
    v.push(FuncDef {
        name,
        params,
        variadic,
        imp,
        special: Special::None,
    });
}

fn no_imp<'a>(_: &mut Ctx, _: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    Err("not implemented".into())
}

pub fn register(v: &mut Vec<FuncDef>) {
    use crate::native::helm::values as hv;
    v.push(FuncDef {
        name: "helm.include",
        params: &[Str, Any],
        variadic: None,
        imp: no_imp,
        special: Special::Include,
    });
    v.push(FuncDef {
        name: "helm.tpl",
        params: &[Str, Any],
        variadic: None,
        imp: no_imp,
        special: Special::Tpl,
    });
    hdef(v, "helm.required", &[Str, Any], None, |_, a| {
        let val = a_any(&a[1]);
        let missing = matches!(val.as_ref(), Value::Nil)
            || matches!(val.as_ref(), Value::Str(s) if s.is_empty());
        if missing && crate::native::helm::lint::lint_mode() {
            return ok(Value::str(""));
        }
        match val.as_ref() {
            Value::Nil => Err(format!("{WARN_START}{}{WARN_END}", a_str(&a[0]))),
            Value::Str(s) if s.is_empty() => Err(format!("{WARN_START}{}{WARN_END}", a_str(&a[0]))),
            _ => Ok(a[1].clone()),
        }
    });
    hdef(v, "helm.fail", &[Str], None, |_, a| {
        if crate::native::helm::lint::lint_mode() {
            return ok(Value::str(""));
        }
        Err(format!("{WARN_START}{}{WARN_END}", a_str(&a[0])))
    });
    hdef(v, "helm.lookup", &[Str, Str, Str, Str], None, |_, _| {
        ok(Value::Map(Map::new().into()))
    });
    hdef(v, "helm.getHostByName", &[Str], None, |_, _| {
        ok(Value::str(""))
    });
    hdef(v, "helm.toYaml", &[Any], None, |_, a| {
        ok(Value::Str(
            hv::to_yaml(&a_any(&a[0]))
                .map(|s| s.trim_end_matches('\n').to_string())
                .unwrap_or_default(),
        ))
    });
    hdef(v, "helm.mustToYaml", &[Any], None, |_, a| {
        hv::to_yaml(&a_any(&a[0]))
            .map(|s| Val::own(Value::Str(s.trim_end_matches('\n').to_string())))
    });
    hdef(v, "helm.toYamlPretty", &[Any], None, |_, a| {
        ok(Value::Str(
            hv::to_yaml(&a_any(&a[0]))
                .map(|s| s.trim_end_matches('\n').to_string())
                .unwrap_or_default(),
        ))
    });
    hdef(v, "helm.fromYaml", &[Str], None, |_, a| {
        ok(Value::Map(
            match hv::parse_yaml_map(&a_str(&a[0])) {
                Ok(m) => m,
                Err(e) => {
                    let mut m = Map::new();
                    m.insert("Error".into(), Value::Str(e));
                    m
                }
            }
            .into(),
        ))
    });
    hdef(v, "helm.fromYamlArray", &[Str], None, |_, a| {
        ok(Value::List(match hv::parse_yaml_list(&a_str(&a[0])) {
            Ok(l) => l,
            Err(e) => vec![Value::Str(e)],
        }))
    });
    hdef(v, "helm.fromJson", &[Str], None, |_, a| {
        let mut m = Map::new();
        match super::json::from_json(&a_str(&a[0])) {
            Ok(Value::Map(x)) => m = x.into_inner(),
            Ok(Value::Nil) => {}
            Ok(other) => {
                m.insert(
                    "Error".into(),
                    Value::Str(format!(
                        "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                        json_kind(&other)
                    )),
                );
            }
            Err(e) => {
                m.insert("Error".into(), Value::Str(e));
            }
        }
        ok(Value::Map(m.into()))
    });
    hdef(v, "helm.fromJsonArray", &[Str], None, |_, a| {
        ok(Value::List(match super::json::from_json(&a_str(&a[0])) {
            Ok(Value::List(l)) => l,
            Ok(Value::Nil) => vec![],
            Ok(other) => vec![Value::Str(format!(
                "json: cannot unmarshal {} into Go value of type []interface {{}}",
                json_kind(&other)
            ))],
            Err(e) => vec![Value::Str(e)],
        }))
    });
    hdef(v, "helm.toToml", &[Any], None, |_, a| {
        ok(Value::Str(match hv::to_toml(&a_any(&a[0])) {
            Ok(s) | Err(s) => s,
        }))
    });
    hdef(v, "helm.mustToToml", &[Any], None, |_, a| {
        hv::to_toml(&a_any(&a[0])).map(|s| Val::own(Value::Str(s)))
    });
    // full sprig (Masterminds/sprig v3) functions slim-sprig lacks
    hdef(v, "helm.merge", &[MapSI], Some(MapSI), |c, a| {
        merge(c, a, false)
    });
    hdef(v, "helm.mustMerge", &[MapSI], Some(MapSI), |c, a| {
        merge(c, a, false)
    });
    hdef(v, "helm.mergeOverwrite", &[MapSI], Some(MapSI), |c, a| {
        merge(c, a, true)
    });
    hdef(
        v,
        "helm.mustMergeOverwrite",
        &[MapSI],
        Some(MapSI),
        |c, a| merge(c, a, true),
    );
    hdef(v, "helm.deepCopy", &[Any], None, |_, a| {
        ok_iface(a_any(&a[0]).into_owned())
    });
    hdef(v, "helm.mustDeepCopy", &[Any], None, |_, a| {
        ok_iface(a_any(&a[0]).into_owned())
    });
    hdef(v, "helm.semverCompare", &[Str, Str], None, |_, a| {
        use crate::native::helm::semver;
        let c = a_str(&a[0]);
        let v = semver::parse_lenient(&a_str(&a[1])).map_err(|e| e.to_string())?;
        semver::satisfies(&c, &v).map(|b| Val::own(Value::Bool(b)))
    });
    hdef(v, "helm.sha512sum", &[Str], None, |_, a| {
        use sha2::Digest;
        let d = sha2::Sha512::digest(a_str(&a[0]).as_bytes());
        ok(Value::Str(d.iter().map(|b| format!("{b:02x}")).collect()))
    });
    hdef(v, "helm.uuidv4", &[], None, |_, _| {
        use rand::RngCore;
        let mut b = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        ok(Value::Str(format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )))
    });
    hdef(v, "helm.randAlphaNum", &[Ty::Int], None, |_, a| {
        rand_from(
            a,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        )
    });
    hdef(v, "helm.randAlpha", &[Ty::Int], None, |_, a| {
        rand_from(a, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    });
    hdef(v, "helm.randNumeric", &[Ty::Int], None, |_, a| {
        rand_from(a, b"0123456789")
    });
    hdef(v, "helm.randAscii", &[Ty::Int], None, |_, a| {
        let chars: Vec<u8> = (32u8..127).collect();
        rand_from(a, &chars)
    });
    // sprig's `shuffle` (xstrings.Shuffle): the runes in random order
    hdef(v, "helm.shuffle", &[Str], None, |_, a| {
        use rand::seq::SliceRandom;
        let mut cs: Vec<char> = a_str(&a[0]).chars().collect();
        cs.shuffle(&mut rand::thread_rng());
        ok(Value::Str(cs.into_iter().collect()))
    });
    hdef(v, "helm.randBytes", &[Ty::Int], None, |_, a| {
        use base64::Engine;
        use rand::RngCore;
        let n = super::a_int(&a[0]);
        if n < 0 {
            return Err("negative count".into());
        }
        let mut b = vec![0u8; n.min(1 << 20) as usize];
        rand::thread_rng().fill_bytes(&mut b);
        ok(Value::Str(
            base64::engine::general_purpose::STANDARD.encode(b),
        ))
    });
    // goutils.Uncapitalize: first letter of each whitespace-separated word lowered
    hdef(v, "helm.untitle", &[Str], None, |_, a| {
        ok(Value::Str(per_word(&a_str(&a[0]), |c, out| {
            out.extend(c.to_lowercase())
        })))
    });
    // goutils.Initials: the first letter of each word
    hdef(v, "helm.initials", &[Str], None, |_, a| {
        let s = a_str(&a[0]);
        ok(Value::Str(
            s.split(char::is_whitespace)
                .filter_map(|w| w.chars().next())
                .collect(),
        ))
    });
    // semver: a Version whose fields (Major, Minor, Patch, Prerelease, Metadata, Original)
    // templates read, as a map
    hdef(v, "helm.semver", &[Str], None, |_, a| {
        let s = a_str(&a[0]);
        let ver = crate::native::helm::semver::parse_lenient(&s).map_err(|e| e.to_string())?;
        let mut m = Map::new();
        m.insert("Major".into(), Value::Uint(ver.major));
        m.insert("Minor".into(), Value::Uint(ver.minor));
        m.insert("Patch".into(), Value::Uint(ver.patch));
        m.insert("Prerelease".into(), Value::Str(ver.pre));
        m.insert("Metadata".into(), Value::Str(ver.build));
        m.insert("Original".into(), Value::Str(s.into_owned()));
        ok(Value::Map(m.into()))
    });
    hdef(v, "helm.abbrev", &[Ty::Int, Str], None, |_, a| {
        ok(Value::Str(abbrev(&a_str(&a[1]), 0, super::a_int(&a[0]))))
    });
    hdef(
        v,
        "helm.abbrevboth",
        &[Ty::Int, Ty::Int, Str],
        None,
        |_, a| {
            ok(Value::Str(abbrev(
                &a_str(&a[2]),
                super::a_int(&a[0]),
                super::a_int(&a[1]),
            )))
        },
    );
    hdef(v, "helm.wrap", &[Ty::Int, Str], None, |_, a| {
        ok(Value::Str(wrap_custom(
            &a_str(&a[1]),
            super::a_int(&a[0]),
            "\n",
            false,
        )))
    });
    hdef(v, "helm.wrapWith", &[Ty::Int, Str, Str], None, |_, a| {
        ok(Value::Str(wrap_custom(
            &a_str(&a[2]),
            super::a_int(&a[0]),
            &a_str(&a[1]),
            true,
        )))
    });
    hdef(v, "helm.nospace", &[Str], None, |_, a| {
        ok(Value::Str(
            a_str(&a[0])
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect(),
        ))
    });
    hdef(v, "helm.snakecase", &[Str], None, |_, a| {
        ok(Value::Str(words_case(&a_str(&a[0]), '_')))
    });
    hdef(v, "helm.kebabcase", &[Str], None, |_, a| {
        ok(Value::Str(words_case(&a_str(&a[0]), '-')))
    });
    hdef(v, "helm.camelcase", &[Str], None, |_, a| {
        let s = a_str(&a[0]);
        let mut out = String::new();
        for w in s.split(['_', ' ', '-']).filter(|w| !w.is_empty()) {
            let mut cs = w.chars();
            if let Some(f) = cs.next() {
                out.extend(f.to_uppercase());
                out.push_str(cs.as_str());
            }
        }
        ok(Value::Str(out))
    });
    hdef(v, "helm.swapcase", &[Str], None, |_, a| {
        ok(Value::Str(
            a_str(&a[0])
                .chars()
                .flat_map(|c| -> Vec<char> {
                    if c.is_uppercase() {
                        c.to_lowercase().collect()
                    } else {
                        c.to_uppercase().collect()
                    }
                })
                .collect(),
        ))
    });
    for (name, op) in [
        ("helm.addf", 0u8),
        ("helm.subf", 1),
        ("helm.mulf", 2),
        ("helm.divf", 3),
    ] {
        let imp: Imp = match op {
            0 => |_, a| float_fold(a, |x, y| x + y),
            1 => |_, a| float_fold(a, |x, y| x - y),
            2 => |_, a| float_fold(a, |x, y| x * y),
            _ => |_, a| float_fold(a, |x, y| x / y),
        };
        hdef(v, name, &[Any], Some(Any), imp);
    }
    hdef(v, "helm.add1f", &[Any], None, |_, a| {
        ok(Value::Float(to_f64(&a_any(&a[0])) + 1.0))
    });
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Str(_) => "string",
        Value::Bool(_) => "bool",
        Value::List(_) => "array",
        Value::Map(_) => "object",
        _ => "number",
    }
}

fn rand_from<'a>(a: Vec<Val<'a>>, chars: &[u8]) -> Result<Val<'a>, String> {
    use rand::Rng;
    let n = super::a_int(&a[0]).max(0) as usize;
    let mut r = rand::thread_rng();
    ok(Value::Str(
        (0..n)
            .map(|_| chars[r.gen_range(0..chars.len())] as char)
            .collect(),
    ))
}

fn words_case(s: &str, sep: char) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c == '_' || c == '-' || c == ' ' {
            if !out.is_empty() && !out.ends_with(sep) {
                out.push(sep);
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !out.ends_with(sep) {
            out.push(sep);
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        out.extend(c.to_lowercase());
    }
    out
}

fn to_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Uint(u) => *u as f64,
        Value::Uint8(u) => *u as f64,
        Value::Float(f) => *f,
        Value::Str(s) => s.trim().parse().unwrap_or(0.0),
        Value::Bool(b) => *b as u8 as f64,
        _ => 0.0,
    }
}

fn float_fold<'a>(a: Vec<Val<'a>>, f: fn(f64, f64) -> f64) -> Result<Val<'a>, String> {
    let mut it = a.iter().map(|x| to_f64(&a_any(x)));
    let first = it.next().unwrap_or(0.0);
    ok(Value::Float(it.fold(first, f)))
}

/// Go's reflect zero test as mergo uses it.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) | Value::Int64(i) => *i == 0,
        Value::Uint(u) => *u == 0,
        Value::Float(f) => *f == 0.0,
        Value::Str(s) => s.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// mergo's map merge: without `overwrite` a key is set only when the destination lacks it
/// or holds an empty value; maps merge recursively.
pub fn merge_into(dst: &mut Map, src: &Map, overwrite: bool) {
    for (k, sv) in src {
        match (dst.get_mut(k), sv) {
            (Some(Value::Map(dm)), Value::Map(sm)) => merge_into(dm, sm, overwrite),
            (Some(dv), _) => {
                if is_empty(dv) || (overwrite && !is_empty(sv)) {
                    *dv = sv.clone();
                }
            }
            (None, _) => {
                dst.insert(k.clone(), sv.clone());
            }
        }
    }
}

fn merge<'a>(ctx: &mut Ctx, a: Vec<Val<'a>>, overwrite: bool) -> Result<Val<'a>, String> {
    let mut m = a_map(&a[0]).clone();
    for s in &a[1..] {
        merge_into(&mut m, a_map(s), overwrite);
    }
    let new = Rc::new(Value::Map(m.into()));
    let key = match &a[0] {
        Val::Own(rc, _) => Some(Rc::as_ptr(rc) as usize),
        Val::Ref(v, _) => Some(*v as *const Value as usize),
        Val::Data(m) => Some(*m as *const Map as usize),
        Val::Missing => None,
    };
    if let Some(k) = key {
        ctx.rebind = Some((k, new.clone()));
    }
    Ok(Val::Own(new, false))
}

/// Applies `f` to the first character of each whitespace-separated word.
fn per_word(s: &str, f: impl Fn(char, &mut String)) -> String {
    let mut out = String::with_capacity(s.len());
    let mut next = true;
    for c in s.chars() {
        if c.is_whitespace() {
            next = true;
            out.push(c);
        } else if next {
            next = false;
            f(c, &mut out);
        } else {
            out.push(c);
        }
    }
    out
}

/// goutils.AbbreviateFull (byte offsets, as Go's): "..." marks what was cut.
fn abbrev(s: &str, offset: i64, max: i64) -> String {
    let len = s.len() as i64;
    if s.is_empty() || (offset <= 0 && max < 4) || (offset > 0 && max < 7) || len <= max {
        return s.to_string();
    }
    let mut offset = offset.min(len);
    if len - offset < max - 3 {
        offset = len - (max - 3);
    }
    let cut = |a: i64, b: i64| {
        String::from_utf8_lossy(&s.as_bytes()[a as usize..b as usize]).into_owned()
    };
    if offset <= 4 {
        return cut(0, max - 3) + "...";
    }
    if offset + max - 3 < len {
        return "...".to_string() + &abbrev(&cut(offset, len), 0, max - 3);
    }
    "...".to_string() + &cut(len - (max - 3), len)
}

/// goutils.WrapCustom: breaks lines at spaces so none exceeds `width` (long words are
/// split only when `long_words`).
fn wrap_custom(s: &str, width: i64, nl: &str, long_words: bool) -> String {
    let width = width.max(1) as usize;
    let b = s.as_bytes();
    let n = b.len();
    let mut offset = 0usize;
    let mut out = String::new();
    let sub = |a: usize, z: usize| String::from_utf8_lossy(&b[a..z]).into_owned();
    while n - offset > width {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = (width + offset + 1).min(n);
        let space = sub(offset, end).rfind(' ').map(|i| i + offset);
        match space {
            Some(sp) if sp >= offset => {
                out += &sub(offset, sp);
                out += nl;
                offset = sp + 1;
            }
            _ => {
                let from = width + offset;
                if long_words {
                    out += &sub(offset, width + offset);
                    out += nl;
                    offset += width;
                } else {
                    match sub(from, n).find(' ') {
                        Some(i) => {
                            out += &sub(offset, from + i);
                            out += nl;
                            offset = from + i + 1;
                        }
                        None => {
                            out += &sub(offset, n);
                            offset = n;
                        }
                    }
                }
            }
        }
    }
    out += &sub(offset, n);
    out
}

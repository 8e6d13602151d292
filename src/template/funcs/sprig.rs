//! slim-sprig v3.0.0: strings, numbers, conversion, defaults, reflection,
//! regular expressions, dates, paths, encodings and URLs.

use super::super::gotime::{self, GoTime, Loc};
use super::super::strconv as sc;
use super::super::val::Val;
use super::super::value::{Map, Value};
use super::Ctx;
use super::{
    a_any, a_bool, a_bytes, a_float, a_int, a_map, a_str, def, ok, ok_iface, sprint, strval,
    FuncDef, Ty,
};

use Ty::{Any, Bool, Float, Int, MapSI, Str, Time};

pub fn register(v: &mut Vec<FuncDef>) {
    def(v, "hello", &[], None, |_, _| ok(Value::str("Hello!")));
    // dates
    def(v, "ago", &[Any], None, ago);
    def(v, "date", &[Str, Any], None, date);
    def(v, "date_in_zone", &[Str, Any, Str], None, date_in_zone);
    def(v, "dateInZone", &[Str, Any, Str], None, date_in_zone);
    def(v, "date_modify", &[Str, Time], None, date_modify);
    def(v, "dateModify", &[Str, Time], None, date_modify);
    def(v, "must_date_modify", &[Str, Time], None, must_date_modify);
    def(v, "mustDateModify", &[Str, Time], None, must_date_modify);
    def(v, "duration", &[Any], None, duration);
    def(v, "durationRound", &[Any], None, duration_round);
    def(v, "htmlDate", &[Any], None, |_, a| {
        ok(Value::Str(date_fmt("2006-01-02", &a_any(&a[0]), "Local")))
    });
    def(v, "htmlDateInZone", &[Any, Str], None, |_, a| {
        ok(Value::Str(date_fmt(
            "2006-01-02",
            &a_any(&a[0]),
            &a_str(&a[1]),
        )))
    });
    def(v, "mustToDate", &[Str, Str], None, |_, a| {
        gotime::parse_in_location(&a_str(&a[0]), &a_str(&a[1]), Loc::Local)
            .map(|t| Val::own(Value::Time(t)))
    });
    def(v, "now", &[], None, |_, _| ok(Value::Time(GoTime::now())));
    def(v, "toDate", &[Str, Str], None, |_, a| {
        let t = gotime::parse_in_location(&a_str(&a[0]), &a_str(&a[1]), Loc::Local)
            .unwrap_or_else(|_| GoTime::zero());
        ok(Value::Time(t))
    });
    def(v, "unixEpoch", &[Time], None, |_, a| match a[0].as_ref() {
        Some(Value::Time(t)) => ok(Value::Str(t.unix_seconds().to_string())),
        _ => ok(Value::str("0")),
    });
    // strings
    def(v, "trunc", &[Int, Str], None, trunc);
    def(v, "trim", &[Str], None, |_, a| {
        ok(Value::str(a_str(&a[0]).trim()))
    });
    def(v, "upper", &[Str], None, |_, a| {
        ok(Value::Str(go_upper(&a_str(&a[0]))))
    });
    def(v, "lower", &[Str], None, |_, a| {
        ok(Value::Str(go_lower(&a_str(&a[0]))))
    });
    def(v, "title", &[Str], None, |_, a| {
        ok(Value::Str(go_title(&a_str(&a[0]))))
    });
    def(v, "substr", &[Int, Int, Str], None, substr);
    def(v, "repeat", &[Int, Str], None, repeat);
    def(v, "trimall", &[Str, Str], None, trim_all);
    def(v, "trimAll", &[Str, Str], None, trim_all);
    def(v, "trimSuffix", &[Str, Str], None, |_, a| {
        let (x, s) = (a_str(&a[0]), a_str(&a[1]));
        ok(Value::str(s.strip_suffix(x.as_ref()).unwrap_or(&s)))
    });
    def(v, "trimPrefix", &[Str, Str], None, |_, a| {
        let (x, s) = (a_str(&a[0]), a_str(&a[1]));
        ok(Value::str(s.strip_prefix(x.as_ref()).unwrap_or(&s)))
    });
    def(v, "contains", &[Str, Str], None, |_, a| {
        ok(Value::Bool(a_str(&a[1]).contains(a_str(&a[0]).as_ref())))
    });
    def(v, "hasPrefix", &[Str, Str], None, |_, a| {
        ok(Value::Bool(a_str(&a[1]).starts_with(a_str(&a[0]).as_ref())))
    });
    def(v, "hasSuffix", &[Str, Str], None, |_, a| {
        ok(Value::Bool(a_str(&a[1]).ends_with(a_str(&a[0]).as_ref())))
    });
    def(v, "quote", &[], Some(Any), quote);
    def(v, "squote", &[], Some(Any), squote);
    def(v, "cat", &[], Some(Any), cat);
    def(v, "indent", &[Int, Str], None, |_, a| {
        ok(Value::Str(indent(a_int(&a[0]), &a_str(&a[1]))?))
    });
    def(v, "nindent", &[Int, Str], None, |_, a| {
        ok(Value::Str(format!(
            "\n{}",
            indent(a_int(&a[0]), &a_str(&a[1]))?
        )))
    });
    def(v, "replace", &[Str, Str, Str], None, |_, a| {
        ok(Value::Str(go_replace(
            &a_str(&a[2]),
            &a_str(&a[0]),
            &a_str(&a[1]),
        )))
    });
    def(v, "plural", &[Str, Str, Int], None, |_, a| {
        ok(Value::str(
            if a_int(&a[2]) == 1 {
                a_str(&a[0])
            } else {
                a_str(&a[1])
            }
            .as_ref(),
        ))
    });
    def(v, "sha1sum", &[Str], None, |_, a| {
        use sha1::Digest;
        ok(Value::Str(hex(&sha1::Sha1::digest(a_bytes(&a[0])))))
    });
    def(v, "sha256sum", &[Str], None, |_, a| {
        use sha2::Digest;
        ok(Value::Str(hex(&sha2::Sha256::digest(a_bytes(&a[0])))))
    });
    def(v, "adler32sum", &[Str], None, |_, a| {
        ok(Value::Str(adler32(a_bytes(&a[0])).to_string()))
    });
    def(v, "toString", &[Any], None, |_, a| {
        ok(Value::Str(strval(&a_any(&a[0]))))
    });
    // conversion and numbers
    def(v, "atoi", &[Str], None, |_, a| {
        // strconv.Atoi returns the clamped value with a range error, which
        // sprig ignores.
        let s = a_str(&a[0]);
        let v = match sc::parse_int(&s, false) {
            Ok(i) => i,
            Err(sc::NumErr::Range) if s.starts_with('-') => i64::MIN,
            Err(sc::NumErr::Range) => i64::MAX,
            Err(_) => 0,
        };
        ok(Value::Int(v))
    });
    def(v, "int64", &[Any], None, |_, a| {
        ok(Value::Int64(to_int64(&a_any(&a[0]))))
    });
    def(v, "int", &[Any], None, |_, a| {
        ok(Value::Int(to_int64(&a_any(&a[0]))))
    });
    def(v, "float64", &[Any], None, |_, a| {
        ok(Value::Float(to_float64(&a_any(&a[0]))))
    });
    def(v, "seq", &[], Some(Int), seq);
    def(v, "toDecimal", &[Any], None, |_, a| {
        let s = sprint(&a_any(&a[0]));
        ok(Value::Int64(parse_int_base(&s, 8).unwrap_or(0)))
    });
    def(v, "split", &[Str, Str], None, |_, a| {
        let parts = go_split(&a_str(&a[1]), &a_str(&a[0]), -1);
        ok(Value::StrMap(
            parts
                .into_iter()
                .enumerate()
                .map(|(i, p)| (format!("_{}", i), p))
                .collect(),
        ))
    });
    def(v, "splitList", &[Str, Str], None, |_, a| {
        ok(Value::StrList(go_split(&a_str(&a[1]), &a_str(&a[0]), -1)))
    });
    def(v, "splitn", &[Str, Int, Str], None, |_, a| {
        let parts = go_split(&a_str(&a[2]), &a_str(&a[0]), a_int(&a[1]));
        ok(Value::StrMap(
            parts
                .into_iter()
                .enumerate()
                .map(|(i, p)| (format!("_{}", i), p))
                .collect(),
        ))
    });
    def(v, "until", &[Int], None, |_, a| {
        let c = a_int(&a[0]);
        ok(Value::IntList(until_step(0, c, if c < 0 { -1 } else { 1 })))
    });
    def(v, "untilStep", &[Int, Int, Int], None, |_, a| {
        ok(Value::IntList(until_step(
            a_int(&a[0]),
            a_int(&a[1]),
            a_int(&a[2]),
        )))
    });
    def(v, "add1", &[Any], None, |_, a| {
        ok(Value::Int64(to_int64(&a_any(&a[0])).wrapping_add(1)))
    });
    def(v, "add", &[], Some(Any), |_, a| {
        ok(Value::Int64(
            a.iter()
                .fold(0i64, |s, x| s.wrapping_add(to_int64(&a_any(x)))),
        ))
    });
    def(v, "sub", &[Any, Any], None, |_, a| {
        ok(Value::Int64(
            to_int64(&a_any(&a[0])).wrapping_sub(to_int64(&a_any(&a[1]))),
        ))
    });
    def(v, "div", &[Any, Any], None, |_, a| {
        let d = to_int64(&a_any(&a[1]));
        if d == 0 {
            return Err("runtime error: integer divide by zero".into());
        }
        ok(Value::Int64(to_int64(&a_any(&a[0])).wrapping_div(d)))
    });
    def(v, "mod", &[Any, Any], None, |_, a| {
        let d = to_int64(&a_any(&a[1]));
        if d == 0 {
            return Err("runtime error: integer divide by zero".into());
        }
        ok(Value::Int64(to_int64(&a_any(&a[0])).wrapping_rem(d)))
    });
    def(v, "mul", &[Any], Some(Any), |_, a| {
        let mut val = to_int64(&a_any(&a[0]));
        for x in &a[1..] {
            val = val.wrapping_mul(to_int64(&a_any(x)));
        }
        ok(Value::Int64(val))
    });
    def(v, "randInt", &[Int, Int], None, |_, a| {
        let (min, max) = (a_int(&a[0]), a_int(&a[1]));
        let n = max.wrapping_sub(min);
        if n <= 0 {
            return Err("invalid argument to Intn".into());
        }
        ok(Value::Int(
            (super::task::rand_u64() % n as u64) as i64 + min,
        ))
    });
    def(v, "biggest", &[Any], Some(Any), max_i);
    def(v, "max", &[Any], Some(Any), max_i);
    def(v, "min", &[Any], Some(Any), min_i);
    def(v, "maxf", &[Any], Some(Any), |_, a| {
        let mut m = to_float64(&a_any(&a[0]));
        for x in &a[1..] {
            m = go_max(m, to_float64(&a_any(x)));
        }
        ok(Value::Float(m))
    });
    def(v, "minf", &[Any], Some(Any), |_, a| {
        let mut m = to_float64(&a_any(&a[0]));
        for x in &a[1..] {
            m = go_min(m, to_float64(&a_any(x)));
        }
        ok(Value::Float(m))
    });
    def(v, "ceil", &[Any], None, |_, a| {
        ok(Value::Float(to_float64(&a_any(&a[0])).ceil()))
    });
    def(v, "floor", &[Any], None, |_, a| {
        ok(Value::Float(to_float64(&a_any(&a[0])).floor()))
    });
    def(v, "round", &[Any, Int], Some(Float), round);
    // defaults
    def(v, "default", &[Any], Some(Any), |_, mut a| {
        if a.len() < 2 || empty(&a_any(&a[1])) {
            return Ok(a.swap_remove(0).iface_of());
        }
        Ok(a.swap_remove(1).iface_of())
    });
    def(v, "empty", &[Any], None, |_, a| {
        ok(Value::Bool(empty(&a_any(&a[0]))))
    });
    def(v, "coalesce", &[], Some(Any), |_, a| {
        for x in a {
            if !empty(&a_any(&x)) {
                return Ok(x.iface_of());
            }
        }
        ok_iface(Value::Nil)
    });
    def(v, "all", &[], Some(Any), |_, a| {
        ok(Value::Bool(a.iter().all(|x| !empty(&a_any(x)))))
    });
    def(v, "any", &[], Some(Any), |_, a| {
        ok(Value::Bool(a.iter().any(|x| !empty(&a_any(x)))))
    });
    def(v, "ternary", &[Any, Any, Bool], None, |_, mut a| {
        let b = a_bool(&a[2]);
        a.truncate(2);
        Ok(if b {
            a.swap_remove(0)
        } else {
            a.swap_remove(1)
        }
        .iface_of())
    });
    // reflection
    def(v, "typeOf", &[Any], None, |_, a| {
        ok(Value::str(a_any(&a[0]).go_type()))
    });
    def(v, "typeIs", &[Str, Any], None, |_, a| {
        ok(Value::Bool(a_str(&a[0]) == a_any(&a[1]).go_type()))
    });
    def(v, "typeIsLike", &[Str, Any], None, |_, a| {
        let t = a_any(&a[1]).go_type();
        let target = a_str(&a[0]);
        ok(Value::Bool(target == t || format!("*{}", target) == t))
    });
    def(v, "kindOf", &[Any], None, |_, a| {
        ok(Value::str(a_any(&a[0]).kind().name()))
    });
    def(v, "kindIs", &[Str, Any], None, |_, a| {
        ok(Value::Bool(a_str(&a[0]) == a_any(&a[1]).kind().name()))
    });
    def(v, "deepEqual", &[Any, Any], None, |_, a| {
        ok(Value::Bool(a_any(&a[0]) == a_any(&a[1])))
    });
    // os
    def(v, "env", &[Str], None, |_, a| {
        ok(Value::Str(
            std::env::var(a_str(&a[0]).as_ref()).unwrap_or_default(),
        ))
    });
    def(v, "expandenv", &[Str], None, |_, a| {
        ok(Value::Str(os_expand(&a_str(&a[0]), |n| {
            std::env::var(n).unwrap_or_default()
        })))
    });
    def(v, "getHostByName", &[Str], None, |_, a| {
        use std::net::ToSocketAddrs;
        let addrs: Vec<String> = (a_str(&a[0]).as_ref(), 0)
            .to_socket_addrs()
            .map(|it| it.map(|s| s.ip().to_string()).collect())
            .unwrap_or_default();
        if addrs.is_empty() {
            return Err("invalid argument to Intn".into());
        }
        ok(Value::Str(
            addrs[(super::task::rand_u64() % addrs.len() as u64) as usize].clone(),
        ))
    });
    // paths
    def(v, "base", &[Str], None, |_, a| {
        ok(Value::Str(path_base(&a_str(&a[0]))))
    });
    def(v, "dir", &[Str], None, |_, a| {
        ok(Value::Str(path_dir(&a_str(&a[0]))))
    });
    def(v, "clean", &[Str], None, |_, a| {
        ok(Value::Str(path_clean(&a_str(&a[0]))))
    });
    def(v, "ext", &[Str], None, |_, a| {
        ok(Value::Str(path_ext(&a_str(&a[0]))))
    });
    def(v, "isAbs", &[Str], None, |_, a| {
        ok(Value::Bool(a_str(&a[0]).starts_with('/')))
    });
    def(v, "osBase", &[Str], None, |_, a| {
        ok(Value::Str(path_base(&a_str(&a[0]))))
    });
    def(v, "osClean", &[Str], None, |_, a| {
        ok(Value::Str(path_clean(&a_str(&a[0]))))
    });
    def(v, "osDir", &[Str], None, |_, a| {
        ok(Value::Str(path_dir(&a_str(&a[0]))))
    });
    def(v, "osExt", &[Str], None, |_, a| {
        ok(Value::Str(path_ext(&a_str(&a[0]))))
    });
    def(v, "osIsAbs", &[Str], None, |_, a| {
        ok(Value::Bool(a_str(&a[0]).starts_with('/')))
    });
    // encodings
    def(v, "b64enc", &[Str], None, |_, a| {
        ok(Value::Str(b64_encode(a_bytes(&a[0]))))
    });
    def(v, "b64dec", &[Str], None, |_, a| {
        ok(match b64_decode(a_bytes(&a[0])) {
            Ok(b) => Value::from_bytes(b),
            Err(e) => Value::Str(e),
        })
    });
    def(v, "b32enc", &[Str], None, |_, a| {
        ok(Value::Str(b32_encode(a_bytes(&a[0]))))
    });
    def(v, "b32dec", &[Str], None, |_, a| {
        ok(match b32_decode(a_bytes(&a[0])) {
            Ok(b) => Value::from_bytes(b),
            Err(e) => Value::Str(e),
        })
    });
    // flow
    def(v, "fail", &[Str], None, |_, a| {
        Err(a_str(&a[0]).into_owned())
    });
    // regex
    def(v, "regexMatch", &[Str, Str], None, |_, a| {
        ok(Value::Bool(
            compile(&a_str(&a[0]))
                .map(|r| r.is_match(&a_str(&a[1])))
                .unwrap_or(false),
        ))
    });
    def(v, "mustRegexMatch", &[Str, Str], None, |_, a| {
        let r = compile(&a_str(&a[0]))?;
        ok(Value::Bool(r.is_match(&a_str(&a[1]))))
    });
    def(v, "regexFindAll", &[Str, Str, Int], None, |_, a| {
        let r = must_compile(&a_str(&a[0]))?;
        ok(Value::StrList(find_all(&r, &a_str(&a[1]), a_int(&a[2]))))
    });
    def(v, "mustRegexFindAll", &[Str, Str, Int], None, |_, a| {
        let r = compile(&a_str(&a[0]))?;
        ok(Value::StrList(find_all(&r, &a_str(&a[1]), a_int(&a[2]))))
    });
    def(v, "regexFind", &[Str, Str], None, |_, a| {
        let r = must_compile(&a_str(&a[0]))?;
        ok(Value::str(
            r.find(&a_str(&a[1])).map(|m| m.as_str()).unwrap_or(""),
        ))
    });
    def(v, "mustRegexFind", &[Str, Str], None, |_, a| {
        let r = compile(&a_str(&a[0]))?;
        ok(Value::str(
            r.find(&a_str(&a[1])).map(|m| m.as_str()).unwrap_or(""),
        ))
    });
    def(v, "regexReplaceAll", &[Str, Str, Str], None, |_, a| {
        let r = must_compile(&a_str(&a[0]))?;
        ok(Value::Str(
            r.replace_all(&a_str(&a[1]), a_str(&a[2]).as_ref())
                .into_owned(),
        ))
    });
    def(v, "mustRegexReplaceAll", &[Str, Str, Str], None, |_, a| {
        let r = compile(&a_str(&a[0]))?;
        ok(Value::Str(
            r.replace_all(&a_str(&a[1]), a_str(&a[2]).as_ref())
                .into_owned(),
        ))
    });
    def(
        v,
        "regexReplaceAllLiteral",
        &[Str, Str, Str],
        None,
        |_, a| {
            let r = must_compile(&a_str(&a[0]))?;
            ok(Value::Str(
                r.replace_all(&a_str(&a[1]), regex::NoExpand(&a_str(&a[2])))
                    .into_owned(),
            ))
        },
    );
    def(
        v,
        "mustRegexReplaceAllLiteral",
        &[Str, Str, Str],
        None,
        |_, a| {
            let r = compile(&a_str(&a[0]))?;
            ok(Value::Str(
                r.replace_all(&a_str(&a[1]), regex::NoExpand(&a_str(&a[2])))
                    .into_owned(),
            ))
        },
    );
    def(v, "regexSplit", &[Str, Str, Int], None, |_, a| {
        let r = must_compile(&a_str(&a[0]))?;
        ok(Value::StrList(regex_split(
            &r,
            &a_str(&a[0]),
            &a_str(&a[1]),
            a_int(&a[2]),
        )))
    });
    def(v, "mustRegexSplit", &[Str, Str, Int], None, |_, a| {
        let r = compile(&a_str(&a[0]))?;
        ok(Value::StrList(regex_split(
            &r,
            &a_str(&a[0]),
            &a_str(&a[1]),
            a_int(&a[2]),
        )))
    });
    def(v, "regexQuoteMeta", &[Str], None, |_, a| {
        ok(Value::Str(quote_meta(&a_str(&a[0]))))
    });
    // urls
    def(v, "urlParse", &[Str], None, |_, a| {
        let u = super::task::url_parse(&a_str(&a[0]))
            .map_err(|e| format!("unable to parse url: {}", e))?;
        let mut m = Map::new();
        m.insert("fragment".into(), Value::Str(u.fragment.clone()));
        m.insert("host".into(), Value::Str(u.host.clone()));
        m.insert("hostname".into(), Value::Str(u.hostname()));
        m.insert("opaque".into(), Value::Str(u.opaque.clone()));
        m.insert("path".into(), Value::Str(u.path.clone()));
        m.insert("query".into(), Value::Str(u.raw_query.clone()));
        m.insert("scheme".into(), Value::Str(u.scheme.clone()));
        m.insert(
            "userinfo".into(),
            Value::Str(u.user.clone().unwrap_or_default()),
        );
        ok(Value::Map(m.into()))
    });
    def(v, "urlJoin", &[MapSI], None, |_, a| {
        let d = a_map(&a[0]);
        let get = |k: &str| -> Result<String, String> {
            match d.get(k) {
                None => Ok(String::new()),
                Some(Value::Str(s)) => Ok(s.clone()),
                Some(Value::Nil) => {
                    Err("runtime error: invalid memory address or nil pointer dereference".into())
                }
                Some(other) => Err(format!(
                    "unable to parse {} key, must be of type string, but {} found",
                    k,
                    other.kind().name()
                )),
            }
        };
        let u = super::task::Url {
            scheme: get("scheme")?,
            host: get("host")?,
            path: get("path")?,
            raw_query: get("query")?,
            opaque: get("opaque")?,
            fragment: get("fragment")?,
            user: {
                let ui = get("userinfo")?;
                if ui.is_empty() {
                    None
                } else {
                    Some(ui)
                }
            },
            ..Default::default()
        };
        ok(Value::Str(u.to_string()))
    });
}

impl<'a> Val<'a> {
    /// The value as a Go function returning `interface{}` hands it back.
    fn iface_of(self) -> Val<'a> {
        match self {
            Val::Missing => Val::nil(),
            Val::Ref(v, _) => Val::Ref(v, true),
            Val::Own(v, _) => Val::Own(v, true),
            d => d,
        }
    }
}

pub(crate) fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for c in b {
        s.push_str(&format!("{:02x}", c));
    }
    s
}

fn adler32(b: &[u8]) -> u32 {
    let (mut a, mut s) = (1u32, 0u32);
    for &c in b {
        a = (a + c as u32) % 65521;
        s = (s + a) % 65521;
    }
    (s << 16) | a
}

/// sprig's `toInt64`.
pub(crate) fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Str(_) | Value::Bytes(_) => sc::parse_int(&v.go_str().unwrap(), false).unwrap_or(0),
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Uint8(u) => *u as i64,
        Value::Uint(u) => (*u).min(i64::MAX as u64) as i64,
        Value::Float(f) => go_f2i(*f),
        Value::Bool(b) => *b as i64,
        _ => 0,
    }
}

/// Go's float64 → int64 conversion as amd64 does it.
pub(crate) fn go_f2i(f: f64) -> i64 {
    if f.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// sprig's `toFloat64`.
pub(crate) fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Str(_) | Value::Bytes(_) => sc::parse_float(&v.go_str().unwrap()).unwrap_or(0.0),
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Uint8(u) => *u as f64,
        Value::Uint(u) => *u as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => *b as i64 as f64,
        _ => 0.0,
    }
}

fn parse_int_base(s: &str, base: u32) -> Option<i64> {
    let (neg, d) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if d.is_empty() || !d.bytes().all(|c| (c as char).is_digit(base)) {
        return None;
    }
    let v = i128::from_str_radix(d, base).ok()?;
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

/// sprig/defaults `empty`.
pub(crate) fn empty(v: &Value) -> bool {
    !matches!(v, Value::Time(_)) && !v.truthy()
}

fn go_max(a: f64, b: f64) -> f64 {
    if a.is_infinite() && a > 0.0 || b.is_infinite() && b > 0.0 {
        return f64::INFINITY;
    }
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { b } else { a };
    }
    a.max(b)
}

fn go_min(a: f64, b: f64) -> f64 {
    if a.is_infinite() && a < 0.0 || b.is_infinite() && b < 0.0 {
        return f64::NEG_INFINITY;
    }
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { a } else { b };
    }
    a.min(b)
}

fn max_i<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let mut m = to_int64(&a_any(&a[0]));
    for x in &a[1..] {
        m = m.max(to_int64(&a_any(x)));
    }
    ok(Value::Int64(m))
}

fn min_i<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let mut m = to_int64(&a_any(&a[0]));
    for x in &a[1..] {
        m = m.min(to_int64(&a_any(x)));
    }
    ok(Value::Int64(m))
}

fn round<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let round_on = if a.len() > 2 { a_float(&a[2]) } else { 0.5 };
    let val = to_float64(&a_any(&a[0]));
    let places = a_int(&a[1]) as f64;
    let pow = 10f64.powf(places);
    let digit = pow * val;
    let div = digit - digit.trunc();
    let r = if div >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    ok(Value::Float(r / pow))
}

pub(crate) fn until_step(start: i64, stop: i64, step: i64) -> Vec<i64> {
    let mut v = Vec::new();
    if stop < start {
        if step >= 0 {
            return v;
        }
        let mut i = start;
        while i > stop {
            v.push(i);
            i += step;
        }
        return v;
    }
    if step <= 0 {
        return v;
    }
    let mut i = start;
    while i < stop {
        v.push(i);
        i += step;
    }
    v
}

fn seq<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let p: Vec<i64> = a.iter().map(a_int).collect();
    let join = |v: Vec<i64>| {
        v.iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let s = match p.len() {
        1 => {
            let (start, end) = (1, p[0]);
            let inc = if end < start { -1 } else { 1 };
            join(until_step(start, end + inc, inc))
        }
        2 => {
            let (start, end) = (p[0], p[1]);
            let step = if end < start { -1 } else { 1 };
            join(until_step(start, end + step, step))
        }
        3 => {
            let (start, step, end) = (p[0], p[1], p[2]);
            let mut inc = 1;
            if end < start {
                inc = -1;
                if step > 0 {
                    return ok(Value::str(""));
                }
            }
            join(until_step(start, end + inc, step))
        }
        _ => String::new(),
    };
    ok(Value::Str(s))
}

fn trunc<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let c = a_int(&a[0]);
    let s = a_bytes(&a[1]);
    let n = s.len() as i64;
    let out = if c < 0 && n + c > 0 {
        &s[(n + c) as usize..]
    } else if c >= 0 && n > c {
        &s[..c as usize]
    } else {
        s
    };
    ok(Value::from_bytes(out.to_vec()))
}

fn substr<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let (start, end) = (a_int(&a[0]), a_int(&a[1]));
    let s = a_bytes(&a[2]);
    let n = s.len() as i64;
    let out = if start < 0 {
        if end < 0 {
            return Err(format!(
                "runtime error: slice bounds out of range [:{}]",
                end
            ));
        }
        if end > n {
            return Err(format!(
                "runtime error: slice bounds out of range [:{}] with length {}",
                end, n
            ));
        }
        &s[..end as usize]
    } else if end < 0 || end > n {
        if start > n {
            return Err(format!(
                "runtime error: slice bounds out of range [{}:{}]",
                start, n
            ));
        }
        &s[start as usize..]
    } else {
        if start > end {
            return Err(format!(
                "runtime error: slice bounds out of range [{}:{}]",
                start, end
            ));
        }
        &s[start as usize..end as usize]
    };
    ok(Value::from_bytes(out.to_vec()))
}

fn repeat<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let c = a_int(&a[0]);
    if c < 0 {
        return Err("strings: negative Repeat count".into());
    }
    let s = a_bytes(&a[1]);
    if (s.len() as u128) * (c as u128) > (1u128 << 40) {
        return Err("strings: Repeat output length overflow".into());
    }
    ok(Value::from_bytes(s.repeat(c as usize)))
}

fn trim_all<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let cut: Vec<char> = a_str(&a[0]).chars().collect();
    ok(Value::str(a_str(&a[1]).trim_matches(|c| cut.contains(&c))))
}

fn simple_map(s: &str, upper: bool) -> String {
    s.chars()
        .map(|c| {
            let mut it: Vec<char> = if upper {
                c.to_uppercase().collect()
            } else {
                c.to_lowercase().collect()
            };
            if it.len() == 1 {
                it.pop().unwrap()
            } else {
                c
            }
        })
        .collect()
}

pub(crate) fn go_upper(s: &str) -> String {
    simple_map(s, true)
}

pub(crate) fn go_lower(s: &str) -> String {
    simple_map(s, false)
}

/// Go's deprecated `strings.Title`.
fn go_title(s: &str) -> String {
    let is_sep = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else if c.is_alphabetic() || c.is_numeric() {
            false
        } else {
            c.is_whitespace()
        }
    };
    let mut prev = ' ';
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_sep(prev) {
            // unicode.ToTitle differs from ToUpper for the Latin digraphs.
            match c {
                '\u{1c4}'..='\u{1c6}' => out.push('\u{1c5}'),
                '\u{1c7}'..='\u{1c9}' => out.push('\u{1c8}'),
                '\u{1ca}'..='\u{1cc}' => out.push('\u{1cb}'),
                '\u{1f1}'..='\u{1f3}' => out.push('\u{1f2}'),
                _ => out.push_str(&simple_map(&c.to_string(), true)),
            }
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

fn quote<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let parts: Vec<String> = a
        .iter()
        .filter_map(|x| {
            let v = a_any(x);
            if matches!(*v, Value::Nil) {
                None
            } else {
                Some(sc::quote(&strval(&v)))
            }
        })
        .collect();
    ok(Value::Str(parts.join(" ")))
}

fn squote<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let parts: Vec<String> = a
        .iter()
        .filter_map(|x| {
            let v = a_any(x);
            if matches!(*v, Value::Nil) {
                None
            } else {
                Some(format!("'{}'", sprint(&v)))
            }
        })
        .collect();
    ok(Value::Str(parts.join(" ")))
}

fn cat<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let parts: Vec<String> = a
        .iter()
        .filter_map(|x| {
            let v = a_any(x);
            if matches!(*v, Value::Nil) {
                None
            } else {
                Some(sprint(&v))
            }
        })
        .collect();
    ok(Value::Str(parts.join(" ")))
}

fn indent(n: i64, s: &str) -> Result<String, String> {
    if n < 0 {
        return Err("strings: negative Repeat count".into());
    }
    let pad = " ".repeat(n as usize);
    Ok(format!("{}{}", pad, s.replace('\n', &format!("\n{}", pad))))
}

/// Go's `strings.Replace(s, old, new, -1)` (an empty `old` inserts
/// between characters).
pub(crate) fn go_replace(s: &str, old: &str, new: &str) -> String {
    if old.is_empty() {
        let mut out = String::with_capacity(s.len() + new.len() * (s.len() + 1));
        out.push_str(new);
        for c in s.chars() {
            out.push(c);
            out.push_str(new);
        }
        return out;
    }
    s.replace(old, new)
}

/// Go's `strings.SplitN(s, sep, n)` (n < 0: all).
pub(crate) fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let chars: Vec<String> = s.chars().map(|c| c.to_string()).collect();
        if n > 0 && (n as usize) < chars.len() {
            let mut out: Vec<String> = chars[..n as usize - 1].to_vec();
            let used: usize = out.iter().map(|c| c.len()).sum();
            out.push(s[used..].to_string());
            return out;
        }
        return chars;
    }
    if n < 0 {
        s.split(sep).map(str::to_string).collect()
    } else {
        s.splitn(n as usize, sep).map(str::to_string).collect()
    }
}

/// Go's `os.Expand`.
pub(crate) fn os_expand(s: &str, mapping: impl Fn(&str) -> String) -> String {
    let b = s.as_bytes();
    let mut buf: Option<String> = None;
    let mut i = 0;
    let mut j = 0;
    let special = |c: u8| {
        matches!(
            c,
            b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-' | b'0'..=b'9'
        )
    };
    while j < b.len() {
        if b[j] == b'$' && j + 1 < b.len() {
            let out = buf.get_or_insert_with(String::new);
            out.push_str(&s[i..j]);
            let rest = &s[j + 1..];
            let rb = rest.as_bytes();
            let (name, w): (&str, usize) = if rb[0] == b'{' {
                if rb.len() > 2 && special(rb[1]) && rb[2] == b'}' {
                    (&rest[1..2], 3)
                } else {
                    match rest[1..].find('}') {
                        Some(0) => ("", 2),
                        Some(k) => (&rest[1..k + 1], k + 2),
                        None => ("", 1),
                    }
                }
            } else if special(rb[0]) {
                (&rest[..1], 1)
            } else {
                let k = rb
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                    .count();
                (&rest[..k], k)
            };
            if name.is_empty() && w > 0 {
                // invalid syntax: eaten
            } else if name.is_empty() {
                out.push('$');
            } else {
                out.push_str(&mapping(name));
            }
            j += w;
            i = j + 1;
        }
        j += 1;
    }
    match buf {
        None => s.to_string(),
        Some(mut out) => {
            if i <= s.len() {
                out.push_str(&s[i.min(s.len())..]);
            }
            out
        }
    }
}

// ---- paths (Go's path package; filepath is the same on Unix) ----

pub(crate) fn path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if let Some(last) = parts.last() {
                    if *last != ".." {
                        parts.pop();
                        continue;
                    }
                }
                if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    if rooted {
        format!("/{}", body)
    } else if body.is_empty() {
        ".".into()
    } else {
        body
    }
}

pub(crate) fn path_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    match t.rfind('/') {
        Some(i) => t[i + 1..].to_string(),
        None => t.to_string(),
    }
}

pub(crate) fn path_dir(p: &str) -> String {
    let i = p.rfind('/').map(|i| i + 1).unwrap_or(0);
    path_clean(&p[..i])
}

pub(crate) fn path_ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        if c == '/' {
            break;
        }
        if c == '.' {
            return p[i..].to_string();
        }
    }
    String::new()
}

// ---- encodings ----

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub(crate) fn b64_encode(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for ch in b.chunks(3) {
        let n = (ch[0] as u32) << 16
            | (*ch.get(1).unwrap_or(&0) as u32) << 8
            | *ch.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= ch.len() {
                out.push(B64[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's `base64.StdEncoding.DecodeString` with its error offsets.
pub(crate) fn b64_decode(src: &[u8]) -> Result<Vec<u8>, String> {
    let dec = |c: u8| B64.iter().position(|&x| x == c).map(|p| p as u32);
    let err = |n: usize| format!("illegal base64 data at input byte {}", n);
    let mut out = Vec::new();
    let mut si = 0;
    loop {
        let mut dbuf = [0u32; 4];
        let mut dlen = 4;
        let mut j = 0;
        let mut trailing_err = None;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(err(si - j));
            }
            let c = src[si];
            si += 1;
            if let Some(d) = dec(c) {
                dbuf[j] = d;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' {
                return Err(err(si - 1));
            }
            match j {
                0 | 1 => return Err(err(si - 1)),
                2 => {
                    while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                        si += 1;
                    }
                    if si == src.len() {
                        return Err(err(src.len()));
                    }
                    if src[si] != b'=' {
                        return Err(err(si - 1));
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                si += 1;
            }
            if si < src.len() {
                trailing_err = Some(err(si));
            }
            dlen = j;
            break;
        }
        let val = dbuf[0] << 18 | dbuf[1] << 12 | dbuf[2] << 6 | dbuf[3];
        let bytes = [(val >> 16) as u8, (val >> 8) as u8, val as u8];
        out.extend_from_slice(&bytes[..dlen - 1]);
        if let Some(e) = trailing_err {
            return Err(e);
        }
        if dlen < 4 {
            return Ok(out);
        }
    }
}

fn b32_encode(b: &[u8]) -> String {
    let mut out = String::new();
    for ch in b.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..ch.len()].copy_from_slice(ch);
        let n = buf.iter().fold(0u64, |a, &c| a << 8 | c as u64);
        let nchars = (ch.len() * 8).div_ceil(5);
        for k in 0..8 {
            if k < nchars {
                out.push(B32[((n >> (35 - 5 * k)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b32_decode(src: &[u8]) -> Result<Vec<u8>, String> {
    let src: Vec<u8> = src
        .iter()
        .copied()
        .filter(|&c| c != b'\r' && c != b'\n')
        .collect();
    let err = |n: usize| format!("illegal base32 data at input byte {}", n);
    let olen = src.len();
    let mut s: &[u8] = &src;
    let mut out = Vec::new();
    let mut end = false;
    while !s.is_empty() && !end {
        let mut dbuf = [0u8; 8];
        let mut dlen = 8;
        let mut j = 0;
        while j < 8 {
            if s.is_empty() {
                return Err(err(olen - s.len() - j));
            }
            let c = s[0];
            s = &s[1..];
            if c == b'=' && j >= 2 && s.len() < 8 {
                if s.len() + j < 8 - 1 {
                    return Err(err(olen));
                }
                for k in 0..8 - 1 - j {
                    if s.len() > k && s[k] != b'=' {
                        return Err(err(olen - s.len() + k - 1));
                    }
                }
                dlen = j;
                end = true;
                if dlen == 1 || dlen == 3 || dlen == 6 {
                    return Err(err(olen - s.len() - 1));
                }
                break;
            }
            match B32.iter().position(|&x| x == c) {
                Some(p) => dbuf[j] = p as u8,
                None => return Err(err(olen - s.len() - 1)),
            }
            j += 1;
        }
        let n = dbuf.iter().fold(0u64, |a, &c| a << 5 | c as u64);
        let bytes = n.to_be_bytes();
        let nbytes = match dlen {
            8 => 5,
            7 => 4,
            5 => 3,
            4 => 2,
            2 => 1,
            _ => 0,
        };
        out.extend_from_slice(&bytes[3..3 + nbytes]);
    }
    Ok(out)
}

// ---- regular expressions ----

/// Compiles a Go RE2 pattern; errors use Go's wording where the kinds match.
pub(crate) fn compile(pat: &str) -> Result<regex::Regex, String> {
    let tr = super::goregex::translate(pat).map_err(|e| e.to_string())?;
    regex::Regex::new(&tr).map_err(|e| go_regex_error(pat, &e))
}

fn must_compile(pat: &str) -> Result<regex::Regex, String> {
    compile(pat).map_err(|e| format!("regexp: Compile({}): {}", backquote(pat), e))
}

fn backquote(s: &str) -> String {
    if sc::can_backquote(s.as_bytes()) {
        format!("`{}`", s)
    } else {
        sc::quote(s)
    }
}

fn go_regex_error(pat: &str, e: &regex::Error) -> String {
    let msg = e.to_string();
    let code = if msg.contains("unclosed group") {
        ("missing closing )", pat.to_string())
    } else if msg.contains("unclosed character class") {
        let i = pat.rfind('[').unwrap_or(0);
        ("missing closing ]", pat[i..].to_string())
    } else if msg.contains("unopened group") {
        ("unexpected )", pat.to_string())
    } else if msg.contains("repetition operator missing expression") {
        let i = pat.find(['*', '+', '?']).unwrap_or(0);
        (
            "missing argument to repetition operator",
            pat[i..(i + 1).min(pat.len())].to_string(),
        )
    } else if msg.contains("incomplete escape") {
        ("trailing backslash at end of expression", String::new())
    } else if msg.contains("escape") {
        let i = pat.find('\\').unwrap_or(0);
        (
            "invalid escape sequence",
            pat[i..(i + 2).min(pat.len())].to_string(),
        )
    } else if msg.contains("invalid character class range") || msg.contains("class range") {
        ("invalid character class range", String::new())
    } else if msg.contains("repetition quantifier") || msg.contains("decimal") {
        ("invalid repeat count", String::new())
    } else {
        ("invalid or unsupported Perl syntax", String::new())
    };
    if code.1.is_empty() {
        format!("error parsing regexp: {}", code.0)
    } else {
        format!("error parsing regexp: {}: {}", code.0, backquote(&code.1))
    }
}

/// Go's `FindAllString` with its empty-match rules.
fn find_all(r: &regex::Regex, s: &str, n: i64) -> Vec<String> {
    find_all_idx(r, s, n)
        .into_iter()
        .map(|(a, b)| s[a..b].to_string())
        .collect()
}

fn find_all_idx(r: &regex::Regex, s: &str, n: i64) -> Vec<(usize, usize)> {
    let n = if n < 0 { s.len() as i64 + 1 } else { n };
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut prev_end: Option<usize> = None;
    while (out.len() as i64) < n && pos <= s.len() {
        let Some(m) = r.find_at(s, pos) else { break };
        let mut accept = true;
        if m.end() == m.start() && m.start() == pos {
            if Some(m.start()) == prev_end {
                accept = false;
            }
            pos += s[pos..].chars().next().map(|c| c.len_utf8()).unwrap_or(1);
        } else if m.end() == m.start() {
            if Some(m.start()) == prev_end {
                accept = false;
            }
            pos = m.end()
                + s[m.end()..]
                    .chars()
                    .next()
                    .map(|c| c.len_utf8())
                    .unwrap_or(1);
        } else {
            pos = m.end();
        }
        prev_end = Some(m.end());
        if accept {
            out.push((m.start(), m.end()));
        }
    }
    out
}

/// Go's `Regexp.Split`.
fn regex_split(r: &regex::Regex, expr: &str, s: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if !expr.is_empty() && s.is_empty() {
        return vec![String::new()];
    }
    let matches = find_all_idx(r, s, n);
    let mut out: Vec<String> = Vec::new();
    let (mut beg, mut end) = (0usize, 0usize);
    for (a, b) in matches {
        if n > 0 && out.len() as i64 == n - 1 {
            break;
        }
        end = a;
        if b != 0 {
            out.push(s[beg..end].to_string());
        }
        beg = b;
    }
    if end != s.len() {
        out.push(s[beg..].to_string());
    }
    out
}

fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// ---- dates ----

fn ago<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let now = GoTime::now();
    let t = match a_any(&a[0]).as_ref() {
        Value::Time(t) => t.clone(),
        Value::Int64(i) | Value::Int(i) => GoTime::from_unix(*i, Loc::Local),
        _ => now.clone(),
    };
    let d = (now.unix - t.unix) as i128 * 1_000_000_000 + now.nanos as i128 - t.nanos as i128;
    let secs = ((d + if d >= 0 { 500_000_000 } else { -500_000_000 }) / 1_000_000_000) as i64;
    ok(Value::Str(gotime::duration_string(
        secs.saturating_mul(1_000_000_000),
    )))
}

fn date_fmt(layout: &str, d: &Value, zone: &str) -> String {
    let t = match d {
        Value::Time(t) => t.clone(),
        Value::Int64(i) | Value::Int(i) => GoTime::from_unix(*i, Loc::Local),
        _ => GoTime::now(),
    };
    let loc = gotime::load_location(zone).unwrap_or(Loc::Utc);
    t.in_loc(loc).format(layout)
}

fn date<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    ok(Value::Str(date_fmt(&a_str(&a[0]), &a_any(&a[1]), "Local")))
}

fn date_in_zone<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    ok(Value::Str(date_fmt(
        &a_str(&a[0]),
        &a_any(&a[1]),
        &a_str(&a[2]),
    )))
}

fn time_arg(v: &Val) -> GoTime {
    match v.as_ref() {
        Some(Value::Time(t)) => t.clone(),
        _ => GoTime::zero(),
    }
}

fn date_modify<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let t = time_arg(&a[1]);
    match gotime::parse_duration(&a_str(&a[0])) {
        Ok(d) => ok(Value::Time(t.add_nanos(d))),
        Err(_) => ok(Value::Time(t)),
    }
}

fn must_date_modify<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let t = time_arg(&a[1]);
    let d = gotime::parse_duration(&a_str(&a[0]))?;
    ok(Value::Time(t.add_nanos(d)))
}

fn duration<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let n: i64 = match a_any(&a[0]).as_ref() {
        Value::Str(s) => sc::parse_int(s, false).unwrap_or(0),
        Value::Int64(i) => *i,
        _ => 0,
    };
    ok(Value::Str(gotime::duration_string(
        n.wrapping_mul(1_000_000_000),
    )))
}

fn duration_round<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let d: i64 = match a_any(&a[0]).as_ref() {
        Value::Str(s) => gotime::parse_duration(s).unwrap_or(0),
        Value::Int64(i) => *i,
        Value::Time(t) => {
            let now = GoTime::now();
            ((now.unix - t.unix) as i128 * 1_000_000_000 + now.nanos as i128 - t.nanos as i128)
                as i64
        }
        _ => 0,
    };
    let u = d.unsigned_abs();
    let hour = 3_600_000_000_000u64;
    let (year, month, day, minute, second) = (
        hour * 24 * 365,
        hour * 24 * 30,
        hour * 24,
        60_000_000_000u64,
        1_000_000_000u64,
    );
    let s = if u > year {
        format!("{}y", u / year)
    } else if u > month {
        format!("{}mo", u / month)
    } else if u > day {
        format!("{}d", u / day)
    } else if u > hour {
        format!("{}h", u / hour)
    } else if u > minute {
        format!("{}m", u / minute)
    } else if u > second {
        format!("{}s", u / second)
    } else {
        "0s".to_string()
    };
    ok(Value::Str(s))
}

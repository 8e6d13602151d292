//! Go's `text/template` builtin functions.

use super::super::gofmt;
use super::super::val::Val;
use super::super::value::{Kind, Value};
use super::{a_bytes, def, ok, FuncDef, Special, Ty};

fn special(v: &mut Vec<FuncDef>, name: &'static str, sp: Special) {
    v.push(FuncDef {
        name,
        params: &[Ty::RV],
        variadic: Some(Ty::RV),
        imp: unreachable_imp,
        special: sp,
    });
}

fn unreachable_imp<'a>(_: &mut super::Ctx, _: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    Err("unreachable".into())
}

pub fn register(v: &mut Vec<FuncDef>) {
    special(v, "and", Special::And);
    special(v, "or", Special::Or);
    special(v, "call", Special::Call);
    def(v, "html", &[], Some(Ty::Any), html);
    def(v, "index", &[Ty::RV], Some(Ty::RV), index);
    def(v, "js", &[], Some(Ty::Any), js);
    def(v, "len", &[Ty::RV], None, length);
    def(v, "not", &[Ty::RV], None, not);
    def(v, "print", &[], Some(Ty::Any), print);
    def(v, "printf", &[Ty::Str], Some(Ty::Any), printf);
    def(v, "println", &[], Some(Ty::Any), println);
    def(v, "urlquery", &[], Some(Ty::Any), urlquery);
    def(v, "eq", &[Ty::RV], Some(Ty::RV), eq);
    def(v, "ne", &[Ty::RV, Ty::RV], None, ne);
    def(v, "lt", &[Ty::RV, Ty::RV], None, lt);
    def(v, "le", &[Ty::RV, Ty::RV], None, le);
    def(v, "gt", &[Ty::RV, Ty::RV], None, gt);
    def(v, "ge", &[Ty::RV, Ty::RV], None, ge);
}

fn vals(args: &[Val]) -> Vec<Value> {
    args.iter().map(|a| a.to_value()).collect()
}

fn print<'a>(_: &mut super::Ctx, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let v = vals(&args);
    let refs: Vec<&Value> = v.iter().collect();
    let mut b = Vec::new();
    gofmt::sprint(&mut b, &refs);
    ok(Value::from_bytes(b))
}

fn println<'a>(_: &mut super::Ctx, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let v = vals(&args);
    let refs: Vec<&Value> = v.iter().collect();
    let mut b = Vec::new();
    gofmt::sprintln(&mut b, &refs);
    ok(Value::from_bytes(b))
}

fn printf<'a>(_: &mut super::Ctx, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let f = a_bytes(&args[0]).to_vec();
    let v = vals(&args[1..]);
    let refs: Vec<&Value> = v.iter().collect();
    ok(gofmt::sprintf_value(&f, &refs))
}

/// `evalArgs`: one string argument as is, otherwise `fmt.Sprint` where an
/// invalid (nil) argument prints as `<no value>`.
fn eval_args(args: &[Val]) -> Vec<u8> {
    if args.len() == 1 {
        if let Some(b) = args[0].as_ref().and_then(|v| v.go_bytes()) {
            return b.to_vec();
        }
    }
    let v: Vec<Value> = args
        .iter()
        .map(|a| match a.value() {
            None => Value::str("<no value>"),
            Some(x) if matches!(*x, Value::Nil) => Value::str("<no value>"),
            Some(x) => x.into_owned(),
        })
        .collect();
    let refs: Vec<&Value> = v.iter().collect();
    let mut b = Vec::new();
    gofmt::sprint(&mut b, &refs);
    b
}

pub(crate) fn html_escape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        match c {
            0 => out.extend_from_slice("\u{fffd}".as_bytes()),
            b'"' => out.extend_from_slice(b"&#34;"),
            b'\'' => out.extend_from_slice(b"&#39;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            _ => out.push(c),
        }
    }
    out
}

fn html<'a>(_: &mut super::Ctx, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    ok(Value::from_bytes(html_escape(&eval_args(&args))))
}

fn js<'a>(_: &mut super::Ctx, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let s = eval_args(&args);
    let mut out = Vec::with_capacity(s.len());
    let hex = b"0123456789ABCDEF";
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c < 0x80 {
            match c {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\'' => out.extend_from_slice(b"\\'"),
                b'"' => out.extend_from_slice(b"\\\""),
                b'<' => out.extend_from_slice(b"\\u003C"),
                b'>' => out.extend_from_slice(b"\\u003E"),
                b'&' => out.extend_from_slice(b"\\u0026"),
                b'=' => out.extend_from_slice(b"\\u003D"),
                c if c < b' ' => {
                    out.extend_from_slice(b"\\u00");
                    out.push(hex[(c >> 4) as usize]);
                    out.push(hex[(c & 0xf) as usize]);
                }
                c => out.push(c),
            }
            i += 1;
        } else {
            let (r, w) = super::super::strconv::decode_rune(&s[i..]);
            let r = r.unwrap_or('\u{fffd}');
            if super::super::strconv::is_print(r) {
                out.extend_from_slice(&s[i..i + w]);
            } else {
                out.extend_from_slice(format!("\\u{:04X}", r as u32).as_bytes());
            }
            i += w.max(1);
        }
    }
    ok(Value::from_bytes(out))
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(c as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{:02X}", c)),
        }
    }
    out
}

fn urlquery<'a>(_: &mut super::Ctx, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    ok(Value::Str(query_escape(&eval_args(&args))))
}

fn length<'a>(_: &mut super::Ctx, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let item = &args[0];
    if item.is_nil_iface() {
        return Err("len of nil pointer".into());
    }
    match item {
        Val::Missing => Err("reflect: call of reflect.Value.Type on zero Value".into()),
        Val::Data(m) => ok(Value::Int(m.len() as i64)),
        _ => {
            let v = item.as_ref().unwrap();
            match v.len() {
                Some(n) => ok(Value::Int(n as i64)),
                None => Err(format!("len of type {}", v.go_type())),
            }
        }
    }
}

fn not<'a>(_: &mut super::Ctx, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    ok(Value::Bool(!super::super::exec::is_true(&args[0])))
}

fn index<'a>(_: &mut super::Ctx, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let mut it = args.into_iter();
    let mut item = it.next().unwrap().indirect();
    if item.is_missing() {
        return Err("index of untyped nil".into());
    }
    for idx in it {
        let idx = idx.indirect();
        if item.is_nil_iface() {
            return Err("index of nil pointer".into());
        }
        item = match item.kind() {
            Kind::Slice | Kind::String => {
                let len = item.as_ref().and_then(|v| v.len()).unwrap_or(0);
                let x: i64 = match idx.as_ref() {
                    None => return Err("cannot index slice/array with nil".into()),
                    Some(Value::Int(i)) | Some(Value::Int64(i)) => *i,
                    Some(Value::Uint(u)) => *u as i64,
                    Some(Value::Uint8(u)) => *u as i64,
                    Some(other) => {
                        return Err(format!(
                            "cannot index slice/array with type {}",
                            other.go_type()
                        ))
                    }
                };
                if x < 0 || x as usize > len {
                    return Err(format!("index out of range: {}", x));
                }
                let x = x as usize;
                if item.kind() == Kind::String {
                    let b = item.as_ref().and_then(|v| v.go_bytes()).unwrap_or(b"");
                    match b.get(x) {
                        Some(c) => Val::own(Value::Uint8(*c)),
                        None => return Err("reflect: string index out of range".into()),
                    }
                } else {
                    match item.index(x) {
                        Some(e) => e,
                        None => return Err("reflect: slice index out of range".into()),
                    }
                }
            }
            Kind::Map => {
                let is_any_map = matches!(item.as_ref(), Some(Value::AnyMap(_)));
                if is_any_map {
                    let key = idx.to_value();
                    let m = match item.as_ref() {
                        Some(Value::AnyMap(m)) => m,
                        _ => unreachable!(),
                    };
                    match m.iter().find(|(k, _)| *k == key) {
                        Some((_, v)) => Val::own_iface(v.clone()),
                        None => Val::nil(),
                    }
                } else {
                    let key = match idx.as_ref() {
                        None => {
                            if idx.is_missing() {
                                return Err("value is nil; should be of type string".into());
                            }
                            return Err("value is nil; should be of type string".into());
                        }
                        Some(Value::Str(s)) => s.clone(),
                        Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
                        Some(other) => {
                            return Err(format!(
                                "value has type {}; should be string",
                                other.go_type()
                            ))
                        }
                    };
                    match item.map_get(&key) {
                        Some(Val::Missing) | None => {
                            if matches!(item.as_ref(), Some(Value::StrMap(_))) {
                                Val::own(Value::str(""))
                            } else {
                                Val::nil()
                            }
                        }
                        Some(v) => v,
                    }
                }
            }
            _ => return Err(format!("can't index item of type {}", item.type_name())),
        };
    }
    Ok(item)
}

#[derive(PartialEq, Clone, Copy)]
enum BK {
    Invalid,
    Bool,
    Complex,
    Int,
    Float,
    Str,
    Uint,
}

fn basic_kind(v: Option<&Value>) -> BK {
    match v {
        Some(Value::Bool(_)) => BK::Bool,
        Some(Value::Int(_)) | Some(Value::Int64(_)) => BK::Int,
        Some(Value::Uint(_)) | Some(Value::Uint8(_)) => BK::Uint,
        Some(Value::Float(_)) => BK::Float,
        Some(Value::Complex(..)) => BK::Complex,
        Some(Value::Str(_)) | Some(Value::Bytes(_)) => BK::Str,
        _ => BK::Invalid,
    }
}

fn as_i(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        _ => 0,
    }
}

fn as_u(v: &Value) -> u64 {
    match v {
        Value::Uint(u) => *u,
        Value::Uint8(u) => *u as u64,
        _ => 0,
    }
}

fn as_f(v: &Value) -> f64 {
    match v {
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

const BAD_TYPE: &str = "invalid type for comparison";
const BAD_CMP: &str = "incompatible types for comparison";

fn eq_vals(a1: &Val, rest: &[Val]) -> Result<bool, String> {
    let a1 = a1.clone().indirect();
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let v1 = a1.value();
    let k1 = basic_kind(v1.as_deref());
    for arg in rest {
        let arg = arg.clone().indirect();
        let v2 = arg.value();
        let k2 = basic_kind(v2.as_deref());
        let truth;
        if k1 != k2 {
            truth = match (k1, k2) {
                (BK::Int, BK::Uint) => {
                    let i = as_i(v1.as_deref().unwrap());
                    i >= 0 && i as u64 == as_u(v2.as_deref().unwrap())
                }
                (BK::Uint, BK::Int) => {
                    let i = as_i(v2.as_deref().unwrap());
                    i >= 0 && as_u(v1.as_deref().unwrap()) == i as u64
                }
                _ => {
                    if !a1.is_missing() && !arg.is_missing() {
                        return Err(BAD_CMP.into());
                    }
                    false
                }
            };
        } else {
            truth = match k1 {
                BK::Bool | BK::Complex | BK::Float | BK::Int | BK::Str | BK::Uint => {
                    let (x, y) = (v1.as_deref().unwrap(), v2.as_deref().unwrap());
                    match k1 {
                        BK::Bool => x == y,
                        BK::Complex => x == y,
                        BK::Float => as_f(x) == as_f(y),
                        BK::Int => as_i(x) == as_i(y),
                        BK::Str => x.go_bytes() == y.go_bytes(),
                        _ => as_u(x) == as_u(y),
                    }
                }
                BK::Invalid => {
                    let kind1 = a1.kind();
                    let kind2 = arg.kind();
                    if kind1 != kind2 && kind1 != Kind::Invalid && kind2 != Kind::Invalid {
                        let (x, y) = (a1.to_value(), arg.to_value());
                        let mut b = Vec::new();
                        gofmt::sprintf(
                            &mut b,
                            b"non-comparable types %s: %v, %s: %v",
                            &[&x, &Value::str(x.go_type()), &Value::str(y.go_type()), &y],
                        );
                        return Err(String::from_utf8_lossy(&b).into_owned());
                    }
                    if a1.is_missing() || arg.is_missing() {
                        a1.is_missing() == arg.is_missing()
                    } else {
                        let y = arg.to_value();
                        if matches!(y, Value::Time(_)) {
                            a1.to_value() == y
                        } else {
                            let mut b = Vec::new();
                            gofmt::sprintf(
                                &mut b,
                                b"non-comparable type %s: %v",
                                &[&y, &Value::str(y.go_type())],
                            );
                            return Err(String::from_utf8_lossy(&b).into_owned());
                        }
                    }
                }
            };
        }
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt_vals(a1: &Val, a2: &Val) -> Result<bool, String> {
    let a1 = a1.clone().indirect();
    let a2 = a2.clone().indirect();
    let (v1, v2) = (a1.value(), a2.value());
    let k1 = basic_kind(v1.as_deref());
    if k1 == BK::Invalid {
        return Err(BAD_TYPE.into());
    }
    let k2 = basic_kind(v2.as_deref());
    if k2 == BK::Invalid {
        return Err(BAD_TYPE.into());
    }
    let (x, y) = (v1.as_deref().unwrap(), v2.as_deref().unwrap());
    if k1 != k2 {
        return match (k1, k2) {
            (BK::Int, BK::Uint) => Ok(as_i(x) < 0 || (as_i(x) as u64) < as_u(y)),
            (BK::Uint, BK::Int) => Ok(as_i(y) >= 0 && as_u(x) < as_i(y) as u64),
            _ => Err(BAD_CMP.into()),
        };
    }
    match k1 {
        BK::Bool | BK::Complex => Err(BAD_TYPE.into()),
        BK::Float => Ok(as_f(x) < as_f(y)),
        BK::Int => Ok(as_i(x) < as_i(y)),
        BK::Str => Ok(x.go_bytes() < y.go_bytes()),
        BK::Uint => Ok(as_u(x) < as_u(y)),
        BK::Invalid => Err(BAD_TYPE.into()),
    }
}

fn eq<'a>(_: &mut super::Ctx, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    ok(Value::Bool(eq_vals(&args[0], &args[1..])?))
}

fn ne<'a>(_: &mut super::Ctx, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    ok(Value::Bool(!eq_vals(&args[0], &args[1..])?))
}

fn lt<'a>(_: &mut super::Ctx, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    ok(Value::Bool(lt_vals(&args[0], &args[1])?))
}

fn le_vals(a: &Val, b: &Val) -> Result<bool, String> {
    let l = lt_vals(a, b)?;
    if l {
        return Ok(true);
    }
    eq_vals(a, std::slice::from_ref(b))
}

fn le<'a>(_: &mut super::Ctx, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    ok(Value::Bool(le_vals(&args[0], &args[1])?))
}

fn gt<'a>(_: &mut super::Ctx, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    ok(Value::Bool(!le_vals(&args[0], &args[1])?))
}

fn ge<'a>(_: &mut super::Ctx, args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    ok(Value::Bool(!lt_vals(&args[0], &args[1])?))
}

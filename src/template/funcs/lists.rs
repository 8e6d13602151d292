//! slim-sprig list and dict functions.

use std::rc::Rc;

use super::super::val::Val;
use super::super::value::{Map, Value};
use super::sprig::{empty, to_int64};
use super::{a_any, a_int, a_map, a_str, def, kind_name, ok, ok_iface, strval, Ctx, FuncDef, Ty};

use Ty::{Any, Int, MapSI, Str};

const NIL_DEREF: &str = "runtime error: invalid memory address or nil pointer dereference";

pub fn register(v: &mut Vec<FuncDef>) {
    def(v, "list", &[], Some(Any), list);
    def(v, "tuple", &[], Some(Any), list);
    def(v, "dict", &[], Some(Any), dict);
    def(v, "get", &[MapSI, Str], None, |_, a| {
        let m = a_map(&a[0]);
        match m.get(a_str(&a[1]).as_ref()) {
            Some(x) => ok_iface(x.clone()),
            None => ok_iface(Value::str("")),
        }
    });
    def(v, "set", &[MapSI, Str, Any], None, set);
    def(v, "unset", &[MapSI, Str], None, unset);
    def(v, "hasKey", &[MapSI, Str], None, |_, a| {
        ok(Value::Bool(
            a_map(&a[0]).contains_key(a_str(&a[1]).as_ref()),
        ))
    });
    def(v, "pluck", &[Str], Some(MapSI), |_, a| {
        let key = a_str(&a[0]);
        let res: Vec<Value> = a[1..]
            .iter()
            .filter_map(|d| a_map(d).get(key.as_ref()).cloned())
            .collect();
        ok(Value::List(res))
    });
    def(v, "keys", &[], Some(MapSI), |_, a| {
        let res: Vec<String> = a
            .iter()
            .flat_map(|d| a_map(d).keys().cloned().collect::<Vec<_>>())
            .collect();
        ok(Value::StrList(res))
    });
    def(v, "pick", &[MapSI], Some(Str), |_, a| {
        let d = a_map(&a[0]);
        let mut res = Map::new();
        for k in &a[1..] {
            let k = a_str(k);
            if let Some(x) = d.get(k.as_ref()) {
                res.insert(k.into_owned(), x.clone());
            }
        }
        ok(Value::Map(res.into()))
    });
    def(v, "omit", &[MapSI], Some(Str), |_, a| {
        let d = a_map(&a[0]);
        let omit: Vec<String> = a[1..].iter().map(|k| a_str(k).into_owned()).collect();
        let res: Map = d
            .iter()
            .filter(|(k, _)| !omit.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        ok(Value::Map(res.into()))
    });
    def(v, "values", &[MapSI], None, |_, a| {
        ok(Value::List(a_map(&a[0]).values().cloned().collect()))
    });
    def(v, "append", &[Any, Any], None, |_, a| push(a, false));
    def(v, "push", &[Any, Any], None, |_, a| push(a, false));
    def(v, "mustAppend", &[Any, Any], None, |_, a| push(a, false));
    def(v, "mustPush", &[Any, Any], None, |_, a| push(a, false));
    def(v, "prepend", &[Any, Any], None, |_, a| push(a, true));
    def(v, "mustPrepend", &[Any, Any], None, |_, a| push(a, true));
    def(v, "first", &[Any], None, |_, a| pick_one(a, "first", true));
    def(v, "mustFirst", &[Any], None, |_, a| {
        pick_one(a, "first", true)
    });
    def(v, "last", &[Any], None, |_, a| pick_one(a, "last", false));
    def(v, "mustLast", &[Any], None, |_, a| {
        pick_one(a, "last", false)
    });
    def(v, "rest", &[Any], None, |_, a| sub_list(a, "rest", 1, 0));
    def(v, "mustRest", &[Any], None, |_, a| {
        sub_list(a, "rest", 1, 0)
    });
    def(v, "initial", &[Any], None, |_, a| {
        sub_list(a, "initial", 0, 1)
    });
    def(v, "mustInitial", &[Any], None, |_, a| {
        sub_list(a, "initial", 0, 1)
    });
    def(v, "reverse", &[Any], None, reverse);
    def(v, "mustReverse", &[Any], None, reverse);
    def(v, "uniq", &[Any], None, uniq);
    def(v, "mustUniq", &[Any], None, uniq);
    def(v, "without", &[Any], Some(Any), without);
    def(v, "mustWithout", &[Any], Some(Any), without);
    def(v, "has", &[Any, Any], None, has);
    def(v, "mustHas", &[Any, Any], None, has);
    def(v, "slice", &[Any], Some(Any), slice);
    def(v, "mustSlice", &[Any], Some(Any), slice);
    def(v, "concat", &[], Some(Any), concat);
    def(v, "dig", &[], Some(Any), dig);
    def(v, "chunk", &[Int, Any], None, chunk);
    def(v, "mustChunk", &[Int, Any], None, chunk);
    def(v, "compact", &[Any], None, compact);
    def(v, "mustCompact", &[Any], None, compact);
    def(v, "join", &[Str, Any], None, |_, a| {
        ok(Value::Str(
            strslice(&a_any(&a[1])).join(a_str(&a[0]).as_ref()),
        ))
    });
    def(v, "sortAlpha", &[Any], None, |_, a| {
        let v = a_any(&a[0]);
        if v.is_slice() {
            let mut s = strslice(&v);
            s.sort();
            return ok(Value::StrList(s));
        }
        ok(Value::StrList(vec![strval(&v)]))
    });
    def(v, "toStrings", &[Any], None, |_, a| {
        ok(Value::StrList(strslice(&a_any(&a[0]))))
    });
}

/// sprig's `strslice`.
pub(crate) fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::StrList(l) => l.clone(),
        Value::Nil => Vec::new(),
        _ => match v.slice_items() {
            Some(items) => items
                .iter()
                .filter(|x| !matches!(x, Value::Nil))
                .map(strval)
                .collect(),
            None => vec![strval(v)],
        },
    }
}

fn list<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    ok(Value::List(a.iter().map(|x| x.to_value()).collect()))
}

fn dict<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let mut m = Map::new();
    let mut i = 0;
    while i < a.len() {
        let key = strval(&a_any(&a[i]));
        let val = if i + 1 < a.len() {
            a[i + 1].to_value()
        } else {
            Value::str("")
        };
        m.insert(key, val);
        i += 2;
    }
    ok(Value::Map(m.into()))
}

fn map_update<'a>(
    ctx: &mut Ctx,
    target: &Val<'a>,
    f: impl FnOnce(&mut Map),
) -> Result<Val<'a>, String> {
    let mut m = a_map(target).clone();
    f(&mut m);
    let new = Rc::new(Value::Map(m.into()));
    let key = match target {
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

fn set<'a>(ctx: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let key = a_str(&a[1]).into_owned();
    let val = a[2].to_value();
    map_update(ctx, &a[0], |m| {
        m.insert(key, val);
    })
}

fn unset<'a>(ctx: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let key = a_str(&a[1]).into_owned();
    map_update(ctx, &a[0], |m| {
        m.shift_remove(&key);
    })
}

/// The elements of a slice argument, or sprig's "Cannot X on type K" error
/// (a nil argument panics in `reflect.TypeOf(nil).Kind()`).
fn items(v: &Value, what: &str) -> Result<Vec<Value>, String> {
    if let Value::Nil = v {
        return Err(NIL_DEREF.into());
    }
    v.slice_items()
        .ok_or_else(|| format!("Cannot {} type {}", what, kind_name(v)))
}

fn push<'a>(a: Vec<Val<'a>>, front: bool) -> Result<Val<'a>, String> {
    let l = a_any(&a[0]);
    let what = if front { "prepend on" } else { "push on" };
    let mut it = items(&l, what)?;
    let x = a[1].to_value();
    if front {
        it.insert(0, x);
    } else {
        it.push(x);
    }
    ok(Value::List(it))
}

fn pick_one<'a>(a: Vec<Val<'a>>, what: &str, first: bool) -> Result<Val<'a>, String> {
    let l = a_any(&a[0]);
    let it = items(&l, &format!("find {} on", what))?;
    let x = if first {
        it.into_iter().next()
    } else {
        it.into_iter().last()
    };
    ok_iface(x.unwrap_or(Value::Nil))
}

fn sub_list<'a>(
    a: Vec<Val<'a>>,
    what: &str,
    skip_front: usize,
    skip_back: usize,
) -> Result<Val<'a>, String> {
    let l = a_any(&a[0]);
    let it = items(&l, &format!("find {} on", what))?;
    if it.is_empty() {
        return ok(Value::List(Vec::new()));
    }
    let n = it.len();
    ok(Value::List(it[skip_front..n - skip_back].to_vec()))
}

fn reverse<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let mut it = items(&a_any(&a[0]), "find reverse on")?;
    it.reverse();
    ok(Value::List(it))
}

fn uniq<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let it = items(&a_any(&a[0]), "find uniq on")?;
    let mut dest: Vec<Value> = Vec::new();
    for x in it {
        if !dest.contains(&x) {
            dest.push(x);
        }
    }
    ok(Value::List(dest))
}

fn without<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let it = items(&a_any(&a[0]), "find without on")?;
    let omit: Vec<Value> = a[1..].iter().map(|x| x.to_value()).collect();
    ok(Value::List(
        it.into_iter().filter(|x| !omit.contains(x)).collect(),
    ))
}

fn has<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let hay = a_any(&a[1]);
    if let Value::Nil = *hay {
        return ok(Value::Bool(false));
    }
    let it = items(&hay, "find has on")?;
    let needle = a[0].to_value();
    ok(Value::Bool(it.contains(&needle)))
}

fn slice<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let l = a_any(&a[0]);
    if let Value::Nil = *l {
        return Err(NIL_DEREF.into());
    }
    let Some(n) = l.slice_items().map(|v| v.len()) else {
        return Err(format!(
            "list should be type of slice or array but {}",
            kind_name(&l)
        ));
    };
    if n == 0 {
        return ok_iface(Value::Nil);
    }
    let start = if a.len() > 1 {
        to_int64(&a_any(&a[1]))
    } else {
        0
    };
    let end = if a.len() > 2 {
        to_int64(&a_any(&a[2]))
    } else {
        n as i64
    };
    if start < 0 || end < start || end > n as i64 {
        return Err("reflect.Value.Slice: slice index out of bounds".into());
    }
    let (s, e) = (start as usize, end as usize);
    let out = match l.as_ref() {
        Value::List(x) => Value::List(x[s..e].to_vec()),
        Value::StrList(x) => Value::StrList(x[s..e].to_vec()),
        Value::IntList(x) => Value::IntList(x[s..e].to_vec()),
        Value::ListList(x) => Value::ListList(x[s..e].to_vec()),
        _ => Value::Nil,
    };
    ok_iface(out)
}

fn concat<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let mut res = Vec::new();
    for x in &a {
        let v = a_any(x);
        if let Value::Nil = *v {
            return Err(NIL_DEREF.into());
        }
        match v.slice_items() {
            Some(it) => res.extend(it),
            None => return Err(format!("Cannot concat type {} as list", kind_name(&v))),
        }
    }
    ok_iface(Value::List(res))
}

fn conv_err(v: &Value, want: &str) -> String {
    let got = if let Value::Nil = v {
        "nil"
    } else {
        v.go_type()
    };
    format!(
        "interface conversion: interface {{}} is {}, not {}",
        got, want
    )
}

fn dig<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    if a.len() < 3 {
        return Err("dig needs at least three arguments".into());
    }
    let vals: Vec<Value> = a.iter().map(|x| x.to_value()).collect();
    let Value::Map(dict) = &vals[vals.len() - 1] else {
        return Err(conv_err(&vals[vals.len() - 1], "map[string]interface {}"));
    };
    let def = vals[vals.len() - 2].clone();
    let mut keys = Vec::new();
    for k in &vals[..vals.len() - 2] {
        match k {
            Value::Str(s) => keys.push(s.clone()),
            other => return Err(conv_err(other, "string")),
        }
    }
    let mut cur = dict;
    for (i, k) in keys.iter().enumerate() {
        let Some(step) = cur.get(k) else {
            return ok_iface(def);
        };
        if i == keys.len() - 1 {
            return ok_iface(step.clone());
        }
        match step {
            Value::Map(m) => cur = m,
            other => return Err(conv_err(other, "map[string]interface {}")),
        }
    }
    ok_iface(def)
}

fn chunk<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let size = a_int(&a[0]);
    let l = a_any(&a[1]);
    let it = items(&l, "chunk")?;
    let n = it.len() as i64;
    let cs_f = ((n - 1) as f64 / size as f64).floor() + 1.0;
    let cs = super::sprig::go_f2i(cs_f);
    if cs < 0 {
        return Err("runtime error: makeslice: len out of range".into());
    }
    let mut out = Vec::new();
    for i in 0..cs {
        let mut clen = size;
        if i == cs - 1 {
            clen = (n as f64 % size as f64).floor() as i64;
            if clen == 0 {
                clen = size;
            }
        }
        let mut c = Vec::new();
        for j in 0..clen {
            let ix = i * size + j;
            match it.get(ix as usize) {
                Some(x) if ix >= 0 => c.push(x.clone()),
                _ => return Err("reflect: slice index out of range".to_string()),
            }
        }
        out.push(c);
    }
    ok(Value::ListList(out))
}

fn compact<'a>(_: &mut Ctx, a: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let it = items(&a_any(&a[0]), "compact on")?;
    ok(Value::List(it.into_iter().filter(|x| !empty(x)).collect()))
}

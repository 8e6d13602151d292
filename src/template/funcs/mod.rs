//! The function map: Go's builtins, slim-sprig v3 and go-task's own
//! functions, each with its Go parameter types (they decide how arguments
//! are checked and which error a wrong argument gives).

use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

use super::val::Val;
use super::value::{Map, Value};

mod builtin;
mod goregex;
pub(crate) mod helm;
mod helm_crypto;
pub(crate) mod json;
mod lists;
mod shell;
mod sprig;
mod task;

pub(crate) use sprig::b64_decode;

pub(crate) fn b64_encode_pub(b: &[u8]) -> String {
    sprig::b64_encode(b)
}

pub type FuncId = u16;

/// Go parameter types that matter for argument checking.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ty {
    /// `interface{}`
    Any,
    /// `reflect.Value` (builtins that see the raw value)
    RV,
    Str,
    Int,
    Float,
    Bool,
    /// `map[string]interface{}`
    MapSI,
    /// `time.Time`
    Time,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Any => "interface {}",
            Ty::RV => "reflect.Value",
            Ty::Str => "string",
            Ty::Int => "int",
            Ty::Float => "float64",
            Ty::Bool => "bool",
            Ty::MapSI => "map[string]interface {}",
            Ty::Time => "time.Time",
        }
    }

    /// Go's `canBeNil` for the type.
    pub fn can_be_nil(self) -> bool {
        matches!(self, Ty::Any | Ty::RV | Ty::MapSI)
    }

    /// Whether a value of this dynamic type is assignable to the parameter.
    pub fn accepts(self, v: &Value) -> bool {
        match self {
            Ty::Any | Ty::RV => true,
            Ty::Str => matches!(v, Value::Str(_) | Value::Bytes(_)),
            Ty::Int => matches!(v, Value::Int(_)),
            Ty::Float => matches!(v, Value::Float(_)),
            Ty::Bool => matches!(v, Value::Bool(_)),
            Ty::MapSI => matches!(v, Value::Map(_)),
            Ty::Time => matches!(v, Value::Time(_)),
        }
    }
}

/// Side effects a call asks the executor to apply.
#[derive(Default)]
pub struct Ctx {
    /// Go maps are references: the call changed its first argument (a map) in place into
    /// this map (`merge`); the executor records the change over the map's identity.
    pub rebind: Option<(usize, Rc<Value>)>,
}

pub type Imp = for<'a> fn(&mut Ctx, Vec<Val<'a>>) -> Result<Val<'a>, String>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Special {
    None,
    And,
    Or,
    Call,
    /// Helm's `include NAME DATA`.
    Include,
    /// Helm's `tpl TEXT DATA`.
    Tpl,
}

pub struct FuncDef {
    pub name: &'static str,
    pub params: &'static [Ty],
    pub variadic: Option<Ty>,
    pub imp: Imp,
    pub special: Special,
}

fn all_funcs() -> Vec<FuncDef> {
    let mut v = Vec::with_capacity(256);
    builtin::register(&mut v);
    json::register(&mut v);
    sprig::register(&mut v);
    lists::register(&mut v);
    task::register(&mut v);
    helm::register(&mut v);
    helm_crypto::register(&mut v);
    v
}

struct Registry {
    funcs: Vec<FuncDef>,
    by_name: HashMap<&'static str, FuncId>,
}

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let funcs = all_funcs();
        let mut by_name = HashMap::new();
        // Later registrations win, like maps.Copy over the sprig map.
        for (i, f) in funcs.iter().enumerate() {
            by_name.insert(f.name, i as FuncId);
        }
        Registry { funcs, by_name }
    })
}

pub fn lookup(name: &str) -> Option<FuncId> {
    registry().by_name.get(name).copied()
}

/// go-task's own functions (and sprig's `env`/`expandenv`, which Helm removes): not in
/// Helm's function map.
const NOT_IN_HELM: &[&str] = &[
    "OS",
    "ARCH",
    "numCPU",
    "catLines",
    "splitLines",
    "splitArgs",
    "IsSH",
    "joinPath",
    "joinEnv",
    "joinUrl",
    "relPath",
    "absPath",
    "spew",
    "uuid",
    "randIntN",
    "env",
    "expandenv",
    "fromSlash",
    "toSlash",
    "exeExt",
    "shellQuote",
    "q",
    "mustFromYaml",
];

/// Looks a function up in go-task's map or (`helm`) in Helm's.
pub fn lookup_in(name: &str, helm: bool) -> Option<FuncId> {
    if !helm {
        return lookup(name);
    }
    if let Some(id) = registry().by_name.get(format!("helm.{name}").as_str()) {
        return Some(*id);
    }
    if NOT_IN_HELM.contains(&name) {
        return None;
    }
    lookup(name)
}

pub fn get(id: FuncId) -> &'static FuncDef {
    &registry().funcs[id as usize]
}

/// Shorthand for registering a function.
pub(crate) fn def(
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

// ---- argument accessors (types were checked by the executor) ----

static EMPTY_MAP: OnceLock<Map> = OnceLock::new();

pub(crate) fn a_str<'v>(v: &'v Val) -> Cow<'v, str> {
    match v.as_ref() {
        Some(x) => x.go_str().unwrap_or(Cow::Borrowed("")),
        None => Cow::Borrowed(""),
    }
}

pub(crate) fn a_bytes<'v>(v: &'v Val) -> &'v [u8] {
    v.as_ref().and_then(|x| x.go_bytes()).unwrap_or(b"")
}

pub(crate) fn a_int(v: &Val) -> i64 {
    match v.as_ref() {
        Some(Value::Int(i)) => *i,
        _ => 0,
    }
}

pub(crate) fn a_float(v: &Val) -> f64 {
    match v.as_ref() {
        Some(Value::Float(f)) => *f,
        _ => 0.0,
    }
}

pub(crate) fn a_bool(v: &Val) -> bool {
    matches!(v.as_ref(), Some(Value::Bool(true)))
}

pub(crate) fn a_map<'v>(v: &'v Val) -> &'v Map {
    match v {
        Val::Data(m) => m,
        _ => match v.as_ref() {
            Some(Value::Map(m)) => m,
            _ => EMPTY_MAP.get_or_init(Map::new),
        },
    }
}

/// The dynamic value of an `interface{}` argument (`Nil` for nil).
pub(crate) fn a_any<'v>(v: &'v Val) -> Cow<'v, Value> {
    v.value().unwrap_or(Cow::Owned(Value::Nil))
}

pub(crate) fn ok<'a>(v: Value) -> Result<Val<'a>, String> {
    Ok(Val::own(v))
}

pub(crate) fn ok_iface<'a>(v: Value) -> Result<Val<'a>, String> {
    Ok(Val::own_iface(v))
}

/// Go's `%v` of a value (what `fmt.Sprint` prints).
pub(crate) fn sprint(v: &Value) -> String {
    super::gofmt::sprint_value(v)
}

/// sprig's `strval`: strings as is, everything else through `%v`.
pub(crate) fn strval(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Time(t) => t.go_string(),
        other => sprint(other),
    }
}

/// The `reflect.Kind` name sprig puts in "Cannot X on type K" errors.
pub(crate) fn kind_name(v: &Value) -> &'static str {
    v.kind().name()
}

//! The executor's value: Go's `reflect.Value` as far as templates need it.
//! It tells an invalid value (missing key) from a nil interface, and whether
//! the static type is `interface{}` (only visible in error messages).

use std::borrow::Cow;
use std::rc::Rc;

use super::value::{Map, Value};

#[derive(Clone, Debug)]
pub enum Val<'a> {
    /// The zero `reflect.Value` (a missing map key, an absent pipeline).
    Missing,
    /// The data map handed to `Execute` (kept borrowed, never copied).
    Data(&'a Map),
    /// A value borrowed from the data; the flag says its static type is
    /// `interface{}` (map and `[]interface{}` elements).
    Ref(&'a Value, bool),
    /// A computed value.
    Own(Rc<Value>, bool),
}

impl<'a> Val<'a> {
    /// A computed value of a concrete type (nil becomes a nil interface).
    pub fn own(v: Value) -> Val<'a> {
        let iface = matches!(v, Value::Nil);
        Val::Own(Rc::new(v), iface)
    }

    /// A computed value whose static type is `interface{}`.
    pub fn own_iface(v: Value) -> Val<'a> {
        Val::Own(Rc::new(v), true)
    }

    pub fn nil() -> Val<'a> {
        Val::own_iface(Value::Nil)
    }

    pub fn is_missing(&self) -> bool {
        matches!(self, Val::Missing)
    }

    /// The Go value, `None` for an invalid `reflect.Value`.
    pub fn value(&self) -> Option<Cow<'_, Value>> {
        match self {
            Val::Missing => None,
            Val::Data(m) => Some(Cow::Owned(Value::Map((*m).clone().into()))),
            Val::Ref(v, _) => Some(Cow::Borrowed(v)),
            Val::Own(v, _) => Some(Cow::Borrowed(v.as_ref())),
        }
    }

    /// Borrowed view for values that are not the root data map.
    pub fn as_ref(&self) -> Option<&Value> {
        match self {
            Val::Ref(v, _) => Some(v),
            Val::Own(v, _) => Some(v.as_ref()),
            _ => None,
        }
    }

    /// The value (nil for invalid), cloned out.
    pub fn to_value(&self) -> Value {
        match self.value() {
            Some(v) => v.into_owned(),
            None => Value::Nil,
        }
    }

    pub fn iface(&self) -> bool {
        match self {
            Val::Ref(_, i) | Val::Own(_, i) => *i,
            _ => false,
        }
    }

    /// A nil interface (valid, but holding nothing).
    pub fn is_nil_iface(&self) -> bool {
        matches!(self.as_ref(), Some(Value::Nil))
    }

    /// Go's `indirectInterface`: a nil interface becomes invalid, a non-nil
    /// one its concrete value.
    pub fn indirect(self) -> Val<'a> {
        match self {
            Val::Ref(Value::Nil, _) => Val::Missing,
            Val::Own(ref v, _) if matches!(v.as_ref(), Value::Nil) => Val::Missing,
            Val::Ref(v, _) => Val::Ref(v, false),
            Val::Own(v, _) => Val::Own(v, false),
            other => other,
        }
    }

    /// The Go type name as reflect reports it (`interface {}` for a value
    /// whose static type is the empty interface).
    pub fn type_name(&self) -> Cow<'static, str> {
        if self.iface() {
            return Cow::Borrowed("interface {}");
        }
        match self {
            Val::Missing => Cow::Borrowed("<nil>"),
            Val::Data(_) => Cow::Borrowed("map[string]interface {}"),
            Val::Ref(v, _) => Cow::Borrowed(v.go_type()),
            Val::Own(v, _) => Cow::Borrowed(v.go_type()),
        }
    }

    pub fn kind(&self) -> super::value::Kind {
        match self {
            Val::Missing => super::value::Kind::Invalid,
            Val::Data(_) => super::value::Kind::Map,
            Val::Ref(v, _) => v.kind(),
            Val::Own(v, _) => v.kind(),
        }
    }

    /// Looks `key` up if this is a map with string-compatible keys:
    /// `Some(Missing)` when absent, `None` if not a map.
    pub fn map_get(&self, key: &str) -> Option<Val<'a>> {
        match self {
            Val::Data(m) => Some(
                m.get(key)
                    .map(|v| Val::Ref(v, true))
                    .unwrap_or(Val::Missing),
            ),
            Val::Ref(v, _) => Some(map_lookup(v, key, Val::Ref)),
            Val::Own(v, _) => Some(map_lookup(v.as_ref(), key, |x, i| {
                Val::Own(Rc::new(x.clone()), i)
            })),
            Val::Missing => None,
        }
        .filter(|_| self.kind() == super::value::Kind::Map)
    }

    /// Element `i` of a slice, with Go's static element type.
    pub fn index(&self, i: usize) -> Option<Val<'a>> {
        if let Val::Ref(Value::List(l), _) = self {
            return l.get(i).map(|x| Val::Ref(x, true));
        }
        let v = self.as_ref()?;
        let iface = v.slice_elem_is_iface();
        let e = v.slice_elem(i)?;
        Some(Val::Own(Rc::new(e), iface))
    }
}

fn map_lookup<'b, 'a>(v: &'b Value, key: &str, mk: impl Fn(&'b Value, bool) -> Val<'a>) -> Val<'a> {
    match v {
        Value::Map(m) => m.get(key).map(|x| mk(x, true)).unwrap_or(Val::Missing),
        Value::StrMap(m) => m
            .get(key)
            .map(|s| Val::own(Value::Str(s.clone())))
            .unwrap_or(Val::Missing),
        Value::AnyMap(m) => m
            .iter()
            .find(|(k, _)| matches!(k, Value::Str(s) if s == key))
            .map(|(_, x)| mk(x, true))
            .unwrap_or(Val::Missing),
        _ => Val::Missing,
    }
}

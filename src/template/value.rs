use std::borrow::Cow;

use indexmap::IndexMap;

use super::gotime::GoTime;

/// Variables keep their insertion order (the order they were declared in).
pub type Map = IndexMap<String, Value>;

/// A map inside a value, shared on clone (a Go map is a reference; templates copy values
/// often — `dict "context" $`, a materialized root — and a deep copy of a chart's values
/// and files for each was most of `helm template`'s time). Writing through it copies the
/// map first if another value shares it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct MapRef(std::sync::Arc<Map>);

impl MapRef {
    /// The map, unshared (copied only if another value holds it too).
    pub fn into_inner(self) -> Map {
        std::sync::Arc::try_unwrap(self.0).unwrap_or_else(|rc| (*rc).clone())
    }
}

impl std::ops::Deref for MapRef {
    type Target = Map;
    fn deref(&self) -> &Map {
        &self.0
    }
}

impl std::ops::DerefMut for MapRef {
    fn deref_mut(&mut self) -> &mut Map {
        std::sync::Arc::make_mut(&mut self.0)
    }
}

impl From<Map> for MapRef {
    fn from(m: Map) -> MapRef {
        MapRef(std::sync::Arc::new(m))
    }
}

impl FromIterator<(String, Value)> for MapRef {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(it: I) -> MapRef {
        Map::from_iter(it).into()
    }
}

impl IntoIterator for MapRef {
    type Item = (String, Value);
    type IntoIter = indexmap::map::IntoIter<String, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_inner().into_iter()
    }
}

impl<'m> IntoIterator for &'m MapRef {
    type Item = (&'m String, &'m Value);
    type IntoIter = indexmap::map::Iter<'m, String, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A value as a go-task template sees it. YAML scalars resolve to these the
/// way go-yaml v3 decodes into `interface{}`.
///
/// Each variant stands for one Go dynamic type, because templates can observe
/// the type (`printf "%T"`, `typeOf`, `%d` of a string, `eq` across types).
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// An untyped nil (`interface{}(nil)`).
    #[default]
    Nil,
    Bool(bool),
    /// Go `int`.
    Int(i64),
    /// Go `uint64`.
    Uint(u64),
    /// Go `float64`.
    Float(f64),
    /// Go `string` holding valid UTF-8.
    Str(String),
    /// `[]interface {}`.
    List(Vec<Value>),
    /// `map[string]interface {}`.
    Map(MapRef),
    /// Go `int64` (what sprig's arithmetic returns).
    Int64(i64),
    /// Go `uint8` (a byte, from `index` on a string).
    Uint8(u8),
    /// Go `complex128` (only from literals such as `1i`).
    Complex(f64, f64),
    /// A Go `string` whose bytes are not valid UTF-8 (e.g. `trunc` cut a
    /// character in two). Go strings are byte strings; we keep the common
    /// valid case as `Str` and only fall back to raw bytes when needed.
    Bytes(Vec<u8>),
    /// `[]string`.
    StrList(Vec<String>),
    /// `[]int`.
    IntList(Vec<i64>),
    /// `[][]interface {}` (from `chunk`).
    ListList(Vec<Vec<Value>>),
    /// `map[string]string` (from `split`/`splitn`).
    StrMap(IndexMap<String, String>),
    /// `map[interface {}]interface {}` (YAML mappings with non-string keys).
    AnyMap(Vec<(Value, Value)>),
    /// `time.Time`.
    Time(GoTime),
}

/// Go's `reflect.Kind` as far as templates can tell kinds apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Invalid,
    Bool,
    Int,
    Int64,
    Uint8,
    Uint64,
    Float64,
    Complex128,
    String,
    Slice,
    Map,
    Struct,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Invalid => "invalid",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Int64 => "int64",
            Kind::Uint8 => "uint8",
            Kind::Uint64 => "uint64",
            Kind::Float64 => "float64",
            Kind::Complex128 => "complex128",
            Kind::String => "string",
            Kind::Slice => "slice",
            Kind::Map => "map",
            Kind::Struct => "struct",
        }
    }
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    /// Builds a Go string from bytes, keeping `Str` when they are UTF-8.
    pub fn from_bytes(b: Vec<u8>) -> Value {
        match String::from_utf8(b) {
            Ok(s) => Value::Str(s),
            Err(e) => Value::Bytes(e.into_bytes()),
        }
    }

    /// Go's `reflect.Kind` of the dynamic value.
    pub fn kind(&self) -> Kind {
        match self {
            Value::Nil => Kind::Invalid,
            Value::Bool(_) => Kind::Bool,
            Value::Int(_) => Kind::Int,
            Value::Int64(_) => Kind::Int64,
            Value::Uint(_) => Kind::Uint64,
            Value::Uint8(_) => Kind::Uint8,
            Value::Float(_) => Kind::Float64,
            Value::Complex(..) => Kind::Complex128,
            Value::Str(_) | Value::Bytes(_) => Kind::String,
            Value::List(_) | Value::StrList(_) | Value::IntList(_) | Value::ListList(_) => {
                Kind::Slice
            }
            Value::Map(_) | Value::StrMap(_) | Value::AnyMap(_) => Kind::Map,
            Value::Time(_) => Kind::Struct,
        }
    }

    /// Go's type name as `%T` prints it (`<nil>` for nil).
    pub fn go_type(&self) -> &'static str {
        match self {
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Uint(_) => "uint64",
            Value::Uint8(_) => "uint8",
            Value::Float(_) => "float64",
            Value::Complex(..) => "complex128",
            Value::Str(_) | Value::Bytes(_) => "string",
            Value::List(_) => "[]interface {}",
            Value::StrList(_) => "[]string",
            Value::IntList(_) => "[]int",
            Value::ListList(_) => "[][]interface {}",
            Value::Map(_) => "map[string]interface {}",
            Value::StrMap(_) => "map[string]string",
            Value::AnyMap(_) => "map[interface {}]interface {}",
            Value::Time(_) => "time.Time",
        }
    }

    /// Template truth (`if`, `with`, `and`, `or`, `not`): the zero value of
    /// a type and empty collections are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Uint(u) => *u != 0,
            Value::Uint8(u) => *u != 0,
            Value::Float(f) => *f != 0.0,
            Value::Complex(r, i) => *r != 0.0 || *i != 0.0,
            Value::Time(_) => true,
            _ => self.len().unwrap_or(0) > 0,
        }
    }

    /// `len` for strings (bytes), slices and maps.
    pub fn len(&self) -> Option<usize> {
        Some(match self {
            Value::Str(s) => s.len(),
            Value::Bytes(b) => b.len(),
            Value::List(l) => l.len(),
            Value::StrList(l) => l.len(),
            Value::IntList(l) => l.len(),
            Value::ListList(l) => l.len(),
            Value::Map(m) => m.len(),
            Value::StrMap(m) => m.len(),
            Value::AnyMap(m) => m.len(),
            _ => return None,
        })
    }

    pub fn is_empty(&self) -> bool {
        !self.truthy()
    }

    /// The text of a Go string value.
    pub fn go_str(&self) -> Option<Cow<'_, str>> {
        match self {
            Value::Str(s) => Some(Cow::Borrowed(s.as_str())),
            Value::Bytes(b) => Some(String::from_utf8_lossy(b)),
            _ => None,
        }
    }

    /// The bytes of a Go string value.
    pub fn go_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Str(s) => Some(s.as_bytes()),
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// Element `i` of a slice value, as the value Go would box in an
    /// `interface{}`.
    pub fn slice_elem(&self, i: usize) -> Option<Value> {
        Some(match self {
            Value::List(l) => l.get(i)?.clone(),
            Value::StrList(l) => Value::Str(l.get(i)?.clone()),
            Value::IntList(l) => Value::Int(*l.get(i)?),
            Value::ListList(l) => Value::List(l.get(i)?.clone()),
            _ => return None,
        })
    }

    /// All elements of a slice value (see [`Value::slice_elem`]).
    pub fn slice_items(&self) -> Option<Vec<Value>> {
        Some(match self {
            Value::List(l) => l.clone(),
            Value::StrList(l) => l.iter().map(|s| Value::Str(s.clone())).collect(),
            Value::IntList(l) => l.iter().map(|i| Value::Int(*i)).collect(),
            Value::ListList(l) => l.iter().map(|x| Value::List(x.clone())).collect(),
            _ => return None,
        })
    }

    /// Whether the static element type of this slice is `interface{}`.
    pub fn slice_elem_is_iface(&self) -> bool {
        matches!(self, Value::List(_))
    }

    pub fn is_slice(&self) -> bool {
        self.kind() == Kind::Slice
    }

    pub fn is_map(&self) -> bool {
        self.kind() == Kind::Map
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Value {
        Value::StrList(v)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Map(m.into())
    }
}

/// Go's `%v` of a value (`<nil>` for nil, `map[k:v]` with sorted keys, ...).
pub fn go_format(v: &Value) -> String {
    super::gofmt::sprint_value(v)
}

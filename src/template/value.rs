use indexmap::IndexMap;

/// Variables keep their insertion order (the order they were declared in).
pub type Map = IndexMap<String, Value>;

/// A value as a go-task template sees it. YAML scalars resolve to these the
/// way go-yaml v3 decodes into `interface{}`.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Map(Map),
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }
}

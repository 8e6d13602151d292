//! Chart metadata (`Chart.yaml`), `Chart.lock`, validation, and their serialisations as
//! Helm produces them (JSON config blob, re-serialised YAML).

use serde_json::{Map, Value};

use super::yaml::{self, go_format_float, Yaml};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Maintainer {
    pub name: String,
    pub email: String,
    pub url: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    pub import_values: Vec<Value>,
    pub alias: String,
}

/// `Chart.yaml` as Helm's `chart.Metadata`. `None` entries are YAML nulls in lists.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metadata {
    pub name: String,
    pub home: String,
    pub sources: Vec<String>,
    pub version: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub maintainers: Vec<Option<Maintainer>>,
    pub icon: String,
    pub api_version: String,
    pub condition: String,
    pub tags: String,
    pub app_version: String,
    pub deprecated: bool,
    /// Sorted by key.
    pub annotations: Vec<(String, String)>,
    pub kube_version: String,
    /// `None` when absent (Go nil), which matters for the dependency check.
    pub dependencies: Option<Vec<Option<Dependency>>>,
    pub type_: String,
}

/// `Chart.lock` / `requirements.lock`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lock {
    /// RFC 3339 text as Go re-formats it (RFC3339Nano).
    pub generated: String,
    pub digest: String,
    pub dependencies: Option<Vec<Option<Dependency>>>,
}

// ---- decoding (sigs.k8s.io/yaml: YAML → JSON → struct, case-insensitive keys) -----------

fn kind(y: &Yaml) -> &'static str {
    match y {
        Yaml::Null => "null",
        Yaml::Bool(_) => "bool",
        Yaml::Int(_) | Yaml::UInt(_) | Yaml::Float(_) => "number",
        Yaml::Str(_) => "string",
        Yaml::Seq(_) => "array",
        Yaml::Map(_) => "object",
    }
}

fn type_err(y: &Yaml, field: &str, ty: &str) -> String {
    format!(
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field {field} of type {ty}",
        kind(y)
    )
}

/// A scalar converted for a Go string target (numbers and bools become text).
fn as_string(y: &Yaml, field: &str) -> Result<String, String> {
    match y {
        Yaml::Null => Ok(String::new()),
        Yaml::Str(s) => Ok(s.clone()),
        Yaml::Bool(b) => Ok(b.to_string()),
        Yaml::Int(i) => Ok(i.to_string()),
        Yaml::UInt(u) => Ok(u.to_string()),
        Yaml::Float(f) => Ok(go_format_float(*f, 32)),
        _ => Err(type_err(y, field, "string")),
    }
}

fn as_string_list(y: &Yaml, field: &str) -> Result<Vec<String>, String> {
    match y {
        Yaml::Null => Ok(Vec::new()),
        Yaml::Seq(items) => items.iter().map(|i| as_string(i, field)).collect(),
        _ => Err(type_err(y, field, "[]string")),
    }
}

fn as_bool(y: &Yaml, field: &str) -> Result<bool, String> {
    match y {
        Yaml::Null => Ok(false),
        Yaml::Bool(b) => Ok(*b),
        _ => Err(type_err(y, field, "bool")),
    }
}

/// Map entries with JSON keys, in the order Go would assign them (sorted JSON keys).
fn entries<'a>(y: &'a Yaml, field: &str, ty: &str) -> Result<Vec<(String, &'a Yaml)>, String> {
    match y {
        Yaml::Map(m) => {
            let mut v: Vec<(String, &Yaml)> = Vec::new();
            for (k, val) in m {
                let k = k.key_string();
                if let Some(e) = v.iter_mut().find(|(ek, _)| *ek == k) {
                    e.1 = val;
                } else {
                    v.push((k, val));
                }
            }
            v.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(v)
        }
        _ => Err(type_err(y, field, ty)),
    }
}

/// encoding/json field matching: exact name, else case-insensitive.
fn field_for<'f>(key: &str, fields: &[&'f str]) -> Option<&'f str> {
    fields
        .iter()
        .find(|f| **f == key)
        .or_else(|| fields.iter().find(|f| f.eq_ignore_ascii_case(key)))
        .copied()
}

fn yaml_to_json(y: &Yaml) -> Value {
    match y {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Int(i) => Value::from(*i),
        Yaml::UInt(u) => Value::from(*u),
        Yaml::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Yaml::Str(s) => Value::String(s.clone()),
        Yaml::Seq(s) => Value::Array(s.iter().map(yaml_to_json).collect()),
        Yaml::Map(m) => {
            let mut o = Map::new();
            let mut keys: Vec<(String, &Yaml)> =
                m.iter().map(|(k, v)| (k.key_string(), v)).collect();
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, v) in keys {
                o.insert(k, yaml_to_json(v));
            }
            Value::Object(o)
        }
    }
}

const DEP_FIELDS: &[&str] = &[
    "name",
    "version",
    "repository",
    "condition",
    "tags",
    "enabled",
    "import-values",
    "alias",
];

fn decode_dependency(y: &Yaml, prefix: &str) -> Result<Option<Dependency>, String> {
    if *y == Yaml::Null {
        return Ok(None);
    }
    let mut d = Dependency::default();
    for (k, v) in entries(y, prefix, "chart.Dependency")? {
        let Some(f) = field_for(&k, DEP_FIELDS) else {
            continue;
        };
        let path = format!("{prefix}.{f}");
        match f {
            "name" => d.name = as_string(v, &path)?,
            "version" => d.version = as_string(v, &path)?,
            "repository" => d.repository = as_string(v, &path)?,
            "condition" => d.condition = as_string(v, &path)?,
            "tags" => d.tags = as_string_list(v, &path)?,
            "enabled" => d.enabled = as_bool(v, &path)?,
            "import-values" => {
                d.import_values = match v {
                    Yaml::Null => Vec::new(),
                    Yaml::Seq(s) => s.iter().map(yaml_to_json).collect(),
                    _ => return Err(type_err(v, &path, "[]interface {}")),
                }
            }
            "alias" => d.alias = as_string(v, &path)?,
            _ => {}
        }
    }
    Ok(Some(d))
}

fn decode_dependencies(y: &Yaml, prefix: &str) -> Result<Option<Vec<Option<Dependency>>>, String> {
    match y {
        Yaml::Null => Ok(None),
        Yaml::Seq(items) => items
            .iter()
            .map(|i| decode_dependency(i, prefix))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        _ => Err(type_err(y, prefix, "[]*chart.Dependency")),
    }
}

/// Chart.yaml's fields (Helm's `chart.Metadata`): the loader and `lint --strict` read this list.
pub(super) const META_FIELDS: &[&str] = &[
    "name",
    "home",
    "sources",
    "version",
    "description",
    "keywords",
    "maintainers",
    "icon",
    "apiVersion",
    "condition",
    "tags",
    "appVersion",
    "deprecated",
    "annotations",
    "kubeVersion",
    "dependencies",
    "type",
];

impl Metadata {
    /// Decodes `Chart.yaml` bytes (errors are the text after `cannot load Chart.yaml: `).
    pub fn from_yaml(data: &[u8]) -> Result<Metadata, String> {
        let mut m = Metadata::default();
        m.merge_yaml(data)?;
        Ok(m)
    }

    /// Decodes YAML into this metadata (fields present in the document overwrite), as
    /// `yaml.Unmarshal(data, &metadata)` does (used for requirements.yaml too).
    pub fn merge_yaml(&mut self, data: &[u8]) -> Result<(), String> {
        let text = std::str::from_utf8(data)
            .map_err(|_| "yaml: invalid leading UTF-8 octet".to_string())?;
        let doc = yaml::parse(text).map_err(|e| format!("error converting YAML to JSON: {e}"))?;
        if doc == Yaml::Null {
            return Ok(());
        }
        for (k, v) in entries(&doc, "Metadata", "chart.Metadata")? {
            let Some(f) = field_for(&k, META_FIELDS) else {
                continue;
            };
            let path = format!("Metadata.{f}");
            match f {
                "name" => self.name = as_string(v, &path)?,
                "home" => self.home = as_string(v, &path)?,
                "sources" => self.sources = as_string_list(v, &path)?,
                "version" => self.version = as_string(v, &path)?,
                "description" => self.description = as_string(v, &path)?,
                "keywords" => self.keywords = as_string_list(v, &path)?,
                "maintainers" => {
                    self.maintainers = match v {
                        Yaml::Null => Vec::new(),
                        Yaml::Seq(items) => {
                            let mut out = Vec::new();
                            for it in items {
                                if *it == Yaml::Null {
                                    out.push(None);
                                    continue;
                                }
                                let mut mt = Maintainer::default();
                                for (mk, mv) in entries(it, &path, "chart.Maintainer")? {
                                    let p = format!("{path}.{mk}");
                                    match field_for(&mk, &["name", "email", "url"]) {
                                        Some("name") => mt.name = as_string(mv, &p)?,
                                        Some("email") => mt.email = as_string(mv, &p)?,
                                        Some("url") => mt.url = as_string(mv, &p)?,
                                        _ => {}
                                    }
                                }
                                out.push(Some(mt));
                            }
                            out
                        }
                        _ => return Err(type_err(v, &path, "[]*chart.Maintainer")),
                    }
                }
                "icon" => self.icon = as_string(v, &path)?,
                "apiVersion" => self.api_version = as_string(v, &path)?,
                "condition" => self.condition = as_string(v, &path)?,
                "tags" => self.tags = as_string(v, &path)?,
                "appVersion" => self.app_version = as_string(v, &path)?,
                "deprecated" => self.deprecated = as_bool(v, &path)?,
                "annotations" => {
                    self.annotations = match v {
                        Yaml::Null => Vec::new(),
                        _ => {
                            let mut a = Vec::new();
                            for (ak, av) in entries(v, &path, "map[string]string")? {
                                a.push((ak, as_string(av, &path)?));
                            }
                            a
                        }
                    }
                }
                "kubeVersion" => self.kube_version = as_string(v, &path)?,
                "dependencies" => self.dependencies = decode_dependencies(v, &path)?,
                "type" => self.type_ = as_string(v, &path)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Replaces Unicode spaces with ' ' and drops non-printable characters in the fields
    /// Helm sanitises (annotations and lists other than the ones named are left alone).
    pub fn sanitize(&mut self) {
        let s = |x: &mut String| *x = sanitize_string(x);
        s(&mut self.name);
        s(&mut self.description);
        s(&mut self.home);
        s(&mut self.icon);
        s(&mut self.condition);
        s(&mut self.tags);
        s(&mut self.app_version);
        s(&mut self.kube_version);
        self.sources
            .iter_mut()
            .for_each(|x| *x = sanitize_string(x));
        self.keywords
            .iter_mut()
            .for_each(|x| *x = sanitize_string(x));
        for m in self.maintainers.iter_mut().flatten() {
            s(&mut m.name);
            s(&mut m.email);
            s(&mut m.url);
        }
        if let Some(deps) = &mut self.dependencies {
            for d in deps.iter_mut().flatten() {
                s(&mut d.name);
                s(&mut d.version);
                s(&mut d.repository);
                s(&mut d.condition);
                d.tags.iter_mut().for_each(|x| *x = sanitize_string(x));
            }
        }
    }

    /// `Metadata.Validate` (sanitises first, as Helm does).
    pub fn validate(&mut self) -> Result<(), String> {
        self.sanitize();
        let v = |m: String| Err(format!("validation: {m}"));
        if self.api_version.is_empty() {
            return v("chart.metadata.apiVersion is required".into());
        }
        if self.name.is_empty() {
            return v("chart.metadata.name is required".into());
        }
        if self.name == "." || self.name == ".." {
            return v(format!(
                "chart.metadata.name {:?} is not allowed",
                self.name
            ));
        }
        let base = self.name.rsplit('/').next().unwrap_or("");
        if self.name.ends_with('/') || base != self.name {
            return v(format!("chart.metadata.name {:?} is invalid", self.name));
        }
        if self.version.is_empty() {
            return v("chart.metadata.version is required".into());
        }
        if super::semver::parse_lenient(&self.version).is_err() {
            return v(format!(
                "chart.metadata.version {:?} is invalid",
                self.version
            ));
        }
        if !matches!(self.type_.as_str(), "" | "application" | "library") {
            return v("chart.metadata.type must be application or library".into());
        }
        if self.maintainers.iter().any(Option::is_none) {
            return v("maintainers must not contain empty or null nodes".into());
        }
        let mut seen = std::collections::HashSet::new();
        for d in self.dependencies.iter().flatten() {
            let Some(d) = d else {
                return v("dependencies must not contain empty or null nodes".into());
            };
            if !d.alias.is_empty()
                && !d
                    .alias
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return v(format!(
                    "dependency {:?} has disallowed characters in the alias",
                    d.name
                ));
            }
            let key = if d.alias.is_empty() {
                &d.name
            } else {
                &d.alias
            };
            if !seen.insert(key.clone()) {
                return v(format!(
                    "more than one dependency with name or alias {key:?}"
                ));
            }
        }
        Ok(())
    }

    /// `json.Marshal(Metadata)`: struct order, omitempty (dependency name/repository always).
    pub fn to_json_value(&self, with_dependencies: bool) -> Value {
        let mut o = Map::new();
        let mut s = |k: &str, v: &str| {
            if !v.is_empty() {
                o.insert(k.into(), Value::String(v.into()));
            }
        };
        s("name", &self.name);
        s("home", &self.home);
        if !self.sources.is_empty() {
            o.insert("sources".into(), strings(&self.sources));
        }
        put(&mut o, "version", &self.version);
        put(&mut o, "description", &self.description);
        if !self.keywords.is_empty() {
            o.insert("keywords".into(), strings(&self.keywords));
        }
        if !self.maintainers.is_empty() {
            let list = self
                .maintainers
                .iter()
                .map(|m| match m {
                    None => Value::Null,
                    Some(m) => {
                        let mut mo = Map::new();
                        put(&mut mo, "name", &m.name);
                        put(&mut mo, "email", &m.email);
                        put(&mut mo, "url", &m.url);
                        Value::Object(mo)
                    }
                })
                .collect();
            o.insert("maintainers".into(), Value::Array(list));
        }
        put(&mut o, "icon", &self.icon);
        put(&mut o, "apiVersion", &self.api_version);
        put(&mut o, "condition", &self.condition);
        put(&mut o, "tags", &self.tags);
        put(&mut o, "appVersion", &self.app_version);
        if self.deprecated {
            o.insert("deprecated".into(), Value::Bool(true));
        }
        if !self.annotations.is_empty() {
            let mut a: Vec<&(String, String)> = self.annotations.iter().collect();
            a.sort_by(|x, y| x.0.cmp(&y.0));
            let mut ao = Map::new();
            for (k, v) in a {
                ao.insert(k.clone(), Value::String(v.clone()));
            }
            o.insert("annotations".into(), Value::Object(ao));
        }
        put(&mut o, "kubeVersion", &self.kube_version);
        if with_dependencies {
            if let Some(deps) = &self.dependencies {
                if !deps.is_empty() {
                    o.insert("dependencies".into(), deps_json(deps));
                }
            }
        }
        put(&mut o, "type", &self.type_);
        Value::Object(o)
    }

    /// The config blob Helm pushes: compact Go JSON of the metadata.
    pub fn to_config_json(&self) -> String {
        crate::native::oci::json::to_go_json(&self.to_json_value(true))
    }

    /// `Chart.yaml` as Helm writes it into a package (v1 charts drop `dependencies`).
    pub fn to_chart_yaml(&self, for_package: bool) -> String {
        let with_deps = !(for_package && self.api_version == "v1");
        yaml::emit(&json_to_yaml(&self.to_json_value(with_deps)))
    }
}

fn put(o: &mut Map<String, Value>, k: &str, v: &str) {
    if !v.is_empty() {
        o.insert(k.into(), Value::String(v.into()));
    }
}

fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().map(|s| Value::String(s.clone())).collect())
}

pub(crate) fn dep_json(d: &Dependency) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), Value::String(d.name.clone()));
    put(&mut o, "version", &d.version);
    o.insert("repository".into(), Value::String(d.repository.clone()));
    put(&mut o, "condition", &d.condition);
    if !d.tags.is_empty() {
        o.insert("tags".into(), strings(&d.tags));
    }
    if d.enabled {
        o.insert("enabled".into(), Value::Bool(true));
    }
    if !d.import_values.is_empty() {
        o.insert(
            "import-values".into(),
            Value::Array(d.import_values.clone()),
        );
    }
    put(&mut o, "alias", &d.alias);
    Value::Object(o)
}

fn deps_json(deps: &[Option<Dependency>]) -> Value {
    Value::Array(
        deps.iter()
            .map(|d| d.as_ref().map(dep_json).unwrap_or(Value::Null))
            .collect(),
    )
}

/// JSON → yaml.v2 value (as `yaml.JSONToYAML` sees it).
pub fn json_to_yaml(v: &Value) -> Yaml {
    match v {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Yaml::Int(i)
            } else if let Some(u) = n.as_u64() {
                Yaml::UInt(u)
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                // yaml.v2 reads an integral JSON float such as 1e+06 back as a number too.
                yaml::resolve_plain(&go_format_float(f, 64))
            }
        }
        Value::String(s) => Yaml::Str(s.clone()),
        Value::Array(a) => Yaml::Seq(a.iter().map(json_to_yaml).collect()),
        Value::Object(o) => Yaml::Map(
            o.iter()
                .map(|(k, v)| (Yaml::Str(k.clone()), json_to_yaml(v)))
                .collect(),
        ),
    }
}

/// Go `unicode.IsSpace` → ' ', non-printable removed.
pub fn sanitize_string(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control() || is_format_char(c) || is_private_use(c) {
                None
            } else {
                Some(c)
            }
        })
        .collect()
}

fn is_format_char(c: char) -> bool {
    matches!(c as u32,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x8E2 | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0001 | 0xE0020..=0xE007F)
}

fn is_private_use(c: char) -> bool {
    matches!(c as u32, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD)
}

impl Lock {
    pub fn from_yaml(data: &[u8]) -> Result<Lock, String> {
        let text = std::str::from_utf8(data)
            .map_err(|_| "yaml: invalid leading UTF-8 octet".to_string())?;
        let doc = yaml::parse(text).map_err(|e| format!("error converting YAML to JSON: {e}"))?;
        let mut l = Lock {
            generated: "0001-01-01T00:00:00Z".into(),
            ..Default::default()
        };
        if doc == Yaml::Null {
            return Ok(l);
        }
        for (k, v) in entries(&doc, "Lock", "chart.Lock")? {
            let Some(f) = field_for(&k, &["generated", "digest", "dependencies"]) else {
                continue;
            };
            let path = format!("Lock.{f}");
            match f {
                "generated" if *v != Yaml::Null => {
                    let s = as_string(v, &path)?;
                    l.generated = reformat_rfc3339(&s).ok_or_else(|| {
                            format!(
                                "error unmarshaling JSON: while decoding JSON: parsing time \"\\\"{s}\\\"\" as \"\\\"2006-01-02T15:04:05Z07:00\\\"\": cannot parse"
                            )
                        })?;
                }
                "digest" => l.digest = as_string(v, &path)?,
                "dependencies" => l.dependencies = decode_dependencies(v, &path)?,
                _ => {}
            }
        }
        Ok(l)
    }

    /// `yaml.Marshal(Lock)`: keys dependencies, digest, generated.
    pub fn to_yaml(&self) -> String {
        let mut o = Map::new();
        o.insert("generated".into(), Value::String(self.generated.clone()));
        o.insert("digest".into(), Value::String(self.digest.clone()));
        o.insert(
            "dependencies".into(),
            match &self.dependencies {
                None => Value::Null,
                Some(d) => deps_json(d),
            },
        );
        yaml::emit(&json_to_yaml(&Value::Object(o)))
    }
}

/// RFC 3339 → Go's RFC3339Nano text (trailing fraction zeros trimmed, `Z` for UTC).
pub(crate) fn reformat_rfc3339(s: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.timestamp_subsec_nanos();
    let frac = if nanos == 0 {
        String::new()
    } else {
        let f = format!("{nanos:09}");
        format!(".{}", f.trim_end_matches('0'))
    };
    let off = t.offset().local_minus_utc();
    let zone = if off == 0 {
        "Z".to_string()
    } else {
        let sign = if off < 0 { '-' } else { '+' };
        let a = off.abs();
        format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
    };
    Some(format!("{base}{frac}{zone}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_like_helm() {
        let m = Metadata::from_yaml(
            b"Name: tricky\nversion: 1.0\nappVersion: 1.10\napiVersion: v2\nunknown: x\n",
        )
        .unwrap();
        assert_eq!(m.name, "tricky");
        assert_eq!(m.version, "1");
        assert_eq!(m.app_version, "1.1");
        let e = Metadata::from_yaml(b"keywords: foo\n").unwrap_err();
        assert!(
            e.contains(
                "cannot unmarshal string into Go struct field Metadata.keywords of type []string"
            ),
            "{e}"
        );
    }

    #[test]
    fn chart_yaml_reserialised() {
        let m = Metadata::from_yaml(
            b"apiVersion: v2\nname: x\nversion: 0.1.0\nkubeVersion: '>=1.20.0-0'\ndeprecated: false\nkeywords: [a, b]\nmaintainers:\n  - name: Me\n    email: me@x\nannotations:\n  b: '1'\n  a: yes\n",
        )
        .unwrap();
        assert_eq!(
            m.to_chart_yaml(true),
            "annotations:\n  a: \"true\"\n  b: \"1\"\napiVersion: v2\nkeywords:\n- a\n- b\nkubeVersion: '>=1.20.0-0'\nmaintainers:\n- email: me@x\n  name: Me\nname: x\nversion: 0.1.0\n"
        );
    }

    #[test]
    fn lock_roundtrip() {
        let l = Lock::from_yaml(b"dependencies:\n- name: a\n  version: 1.0.0\n  repository: r\ndigest: sha256:x\ngenerated: \"2016-09-13T17:25:17.265485185-06:00\"\n").unwrap();
        assert_eq!(
            l.to_yaml(),
            "dependencies:\n- name: a\n  repository: r\n  version: 1.0.0\ndigest: sha256:x\ngenerated: \"2016-09-13T17:25:17.265485185-06:00\"\n"
        );
    }
}

//! `helm lint [CHART…]`: Helm 4's rules (`pkg/chart/v2/lint/rules`) and output
//! (`pkg/cmd/lint.go`).

use std::path::{Path, PathBuf};

use crate::template::{Map, Value};

use super::args::{flag, FlagSpec};
use super::chart::Metadata;
use super::render::{self, Caps, RChart, ReleaseOpts};
use super::yaml::Yaml;
use super::{parse_flags, CmdError, CmdResult};

pub const INFO: u8 = 1;
pub const WARNING: u8 = 2;
pub const ERROR: u8 = 3;

/// One finding: severity, path, message.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub severity: u8,
    pub path: String,
    pub err: String,
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = ["UNKNOWN", "INFO", "WARNING", "ERROR"][self.severity as usize];
        write!(f, "[{sev}] {}: {}", self.path, self.err)
    }
}

#[derive(Default)]
struct Linter {
    messages: Vec<Message>,
    chart_dir: PathBuf,
}

impl Linter {
    fn rule(&mut self, severity: u8, path: &str, r: Result<(), String>) -> bool {
        match r {
            Ok(()) => true,
            Err(e) => {
                self.messages.push(Message {
                    severity,
                    path: path.to_string(),
                    err: e,
                });
                false
            }
        }
    }
}

thread_local! {
    static LINT_MODE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether templates render in lint mode (`required` and `fail` do not fail).
pub fn lint_mode() -> bool {
    LINT_MODE.with(|m| m.get())
}

/// Options of one lint run.
#[derive(Clone, Default)]
pub struct LintOpts {
    pub namespace: String,
    pub kube: Option<Caps>,
    pub skip_schema: bool,
}

/// The result for one path: messages, or an error that stopped it (`result.Errors`
/// without messages).
pub struct LintResult {
    pub messages: Vec<Message>,
    pub error: Option<String>,
}

/// `lintChart` + `lint.RunAll` for one chart directory or archive.
pub fn lint_path(path: &str, vals: &Map, o: &LintOpts) -> LintResult {
    let mut tmp = None;
    let dir = if path.ends_with(".tgz") || path.ends_with(".tar.gz") {
        let t = match TempDir::new() {
            Ok(t) => t,
            Err(e) => {
                return LintResult {
                    messages: vec![],
                    error: Some(format!("unable to create temp dir to extract tarball: {e}")),
                }
            }
        };
        let files =
            match super::values::read_limited(Path::new(path), super::loader::MAX_CHART_SIZE)
                .and_then(|d| super::loader::archive_files(&d))
            {
                Ok(f) => f,
                Err(e) => {
                    return LintResult {
                        messages: vec![],
                        error: Some(format!("unable to extract tarball: {e}")),
                    }
                }
            };
        let top = "chart".to_string();
        for f in &files {
            let p = t.path().join(&top).join(&f.name);
            if let Some(parent) = p.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let _ = std::fs::write(&p, &f.data);
        }
        let d = t.path().join(top);
        tmp = Some(t);
        d
    } else {
        PathBuf::from(path)
    };
    if let Err(e) = std::fs::metadata(dir.join("Chart.yaml")) {
        return LintResult {
            messages: vec![],
            error: Some(format!(
                "unable to check Chart.yaml file in chart: stat {}: {}",
                dir.join("Chart.yaml").display(),
                super::loader::io_msg(&e)
            )),
        };
    }
    let mut l = Linter {
        messages: vec![],
        // filepath.Abs: absolute and cleaned
        chart_dir: PathBuf::from(super::loader::go_path_clean(
            &std::path::absolute(&dir)
                .unwrap_or(dir.clone())
                .to_string_lossy(),
        )),
    };
    chartfile(&mut l);
    values_rule(&mut l, vals, o.skip_schema);
    templates(&mut l, vals, o);
    dependencies(&mut l);
    crds(&mut l);
    drop(tmp);
    LintResult {
        messages: l.messages,
        error: None,
    }
}

/// A temporary directory removed on drop (archives are linted from an extracted copy).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("helm-lint-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---- Chart.yaml -------------------------------------------------------------------------

fn chartfile(l: &mut Linter) {
    let p = l.chart_dir.join("Chart.yaml");
    let is_dir = p.is_dir();
    l.rule(
        ERROR,
        "Chart.yaml",
        if is_dir {
            Err("should be a file, not a directory".into())
        } else {
            Ok(())
        },
    );
    let data = match super::values::read_limited(&p, super::loader::MAX_FILE_SIZE) {
        Ok(d) => d,
        Err(e) => {
            l.rule(
                ERROR,
                "Chart.yaml",
                Err(format!("unable to parse YAML\n\t{e}")),
            );
            return;
        }
    };
    let cf = match Metadata::from_yaml(&data) {
        Ok(m) => m,
        Err(e) => {
            l.rule(
                ERROR,
                "Chart.yaml",
                Err(format!("unable to parse YAML\n\t{e}")),
            );
            return;
        }
    };
    let raw = super::yaml::parse(&String::from_utf8_lossy(&data)).unwrap_or(Yaml::Null);
    // strict: unknown fields
    if let Yaml::Map(entries) = &raw {
        for (k, _) in entries {
            let k = k.key_string();
            if !super::chart::META_FIELDS.contains(&k.as_str()) {
                l.rule(
                    WARNING,
                    "Chart.yaml",
                    Err(format!("failed to strictly parse chart metadata file\n\terror unmarshaling JSON: while decoding JSON: json: unknown field \"{k}\"")),
                );
                break;
            }
        }
    }
    let r = if cf.name.is_empty() {
        Err("name is required".to_string())
    } else if cf.name.rsplit('/').next() != Some(cf.name.as_str()) {
        Err(format!("chart name {:?} is invalid", cf.name))
    } else {
        Ok(())
    };
    l.rule(ERROR, "Chart.yaml", r);
    let r = if cf.api_version.is_empty() {
        Err("apiVersion is required. The value must be either \"v1\" or \"v2\"".to_string())
    } else if cf.api_version != "v1" && cf.api_version != "v2" {
        Err(format!(
            "apiVersion '{}' is not valid. The value must be either \"v1\" or \"v2\"",
            cf.api_version
        ))
    } else {
        Ok(())
    };
    l.rule(ERROR, "Chart.yaml", r);
    for key in ["version", "appVersion"] {
        if let Some(v) = yaml_get(&raw, key) {
            let t = match v {
                Yaml::Str(_) => None,
                Yaml::Int(_) | Yaml::UInt(_) | Yaml::Float(_) => Some("float64"),
                Yaml::Bool(_) => Some("bool"),
                Yaml::Null => Some("<nil>"),
                Yaml::Seq(_) => Some("[]interface {}"),
                Yaml::Map(_) => Some("map[string]interface {}"),
            };
            let r = match t {
                Some(t) => Err(format!(
                    "{key} should be of type string but it's of type {t}"
                )),
                None => Ok(()),
            };
            l.rule(ERROR, "Chart.yaml", r);
        }
        if key == "version" {
            let r = if cf.version.is_empty() {
                Err("version is required".to_string())
            } else {
                match super::semver::parse_lenient(&cf.version) {
                    Err(_) => Err(format!("version '{}' is not a valid SemVer", cf.version)),
                    Ok(v) => {
                        let zero = super::semver::parse_lenient("0.0.0-0").unwrap();
                        if v.cmp_precedence(&zero) != std::cmp::Ordering::Greater {
                            Err(format!(
                                "version {} is less than or equal to 0.0.0-0",
                                cf.version
                            ))
                        } else {
                            Ok(())
                        }
                    }
                }
            };
            l.rule(ERROR, "Chart.yaml", r);
        }
    }
    let mut r = Ok(());
    for m in &cf.maintainers {
        match m {
            None => {
                r = Err("a maintainer entry is empty".to_string());
                break;
            }
            Some(m) if m.name.is_empty() => {
                r = Err("each maintainer requires a name".to_string());
                break;
            }
            Some(m) if !m.email.is_empty() && !is_email(&m.email) => {
                r = Err(format!(
                    "invalid email '{}' for maintainer '{}'",
                    m.email, m.name
                ));
                break;
            }
            Some(m) if !m.url.is_empty() && !is_url(&m.url) => {
                r = Err(format!(
                    "invalid url '{}' for maintainer '{}'",
                    m.url, m.name
                ));
                break;
            }
            _ => {}
        }
    }
    l.rule(ERROR, "Chart.yaml", r);
    let r = match cf
        .sources
        .iter()
        .find(|s| s.is_empty() || !is_request_url(s))
    {
        Some(s) => Err(format!("invalid source URL '{s}'")),
        None => Ok(()),
    };
    l.rule(ERROR, "Chart.yaml", r);
    l.rule(
        INFO,
        "Chart.yaml",
        if cf.icon.is_empty() {
            Err("icon is recommended".into())
        } else {
            Ok(())
        },
    );
    l.rule(
        ERROR,
        "Chart.yaml",
        if !cf.icon.is_empty() && !is_request_url(&cf.icon) {
            Err(format!("invalid icon URL '{}'", cf.icon))
        } else {
            Ok(())
        },
    );
    l.rule(
        ERROR,
        "Chart.yaml",
        if !cf.type_.is_empty() && cf.api_version != "v2" {
            Err(format!(
                "chart type is not valid in apiVersion '{}'. It is valid in apiVersion 'v2'",
                cf.api_version
            ))
        } else {
            Ok(())
        },
    );
    let ndeps = cf.dependencies.as_ref().map(Vec::len).unwrap_or(0);
    l.rule(
        ERROR,
        "Chart.yaml",
        if ndeps > 0 && cf.api_version != "v2" {
            Err(format!("dependencies are not valid in the Chart file with apiVersion '{}'. They are valid in apiVersion 'v2'", cf.api_version))
        } else {
            Ok(())
        },
    );
    l.rule(
        WARNING,
        "Chart.yaml",
        match super::semver::parse_strict(&cf.version) {
            Ok(_) => Ok(()),
            Err(_) => Err(format!("version '{}' is not a valid SemVerV2", cf.version)),
        },
    );
}

fn yaml_get<'y>(m: &'y Yaml, k: &str) -> Option<&'y Yaml> {
    match m {
        Yaml::Map(e) => e
            .iter()
            .find(|(kk, _)| kk.key_string() == k)
            .map(|(_, v)| v),
        _ => None,
    }
}

fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((a, b)) => {
            !a.is_empty()
                && b.contains('.')
                && !b.starts_with('.')
                && !b.ends_with('.')
                && !s.contains(' ')
        }
        None => false,
    }
}

fn is_request_url(s: &str) -> bool {
    match s.split_once("://") {
        Some((scheme, rest)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.is_empty()
                && !s.contains(' ')
        }
        None => false,
    }
}

fn is_url(s: &str) -> bool {
    if s.contains(' ') || s.len() >= 2083 || s.starts_with('.') {
        return false;
    }
    let rest = s.split_once("://").map(|(_, r)| r).unwrap_or(s);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or(host);
    let host = host.split(':').next().unwrap_or(host);
    !host.is_empty() && (host.contains('.') || host == "localhost")
}

// ---- values.yaml ------------------------------------------------------------------------

fn values_rule(l: &mut Linter, overrides: &Map, skip_schema: bool) {
    let vf = l.chart_dir.join("values.yaml");
    if !l.rule(
        INFO,
        "values.yaml",
        if vf.exists() {
            Ok(())
        } else {
            Err("file does not exist".into())
        },
    ) {
        return;
    }
    let r = (|| {
        let data = super::values::read_limited(&vf, super::loader::MAX_FILE_SIZE)?;
        let vals = super::values::parse_yaml_map(&String::from_utf8_lossy(&data))
            .map_err(|e| format!("unable to parse YAML: {e}"))?;
        let mut co = Map::new();
        super::values::coalesce_tables(&mut co, overrides, false);
        super::values::coalesce_tables(&mut co, &vals, false);
        let schema = std::fs::read(l.chart_dir.join("values.schema.json")).unwrap_or_default();
        if schema.is_empty() || skip_schema {
            return Ok(());
        }
        super::schema::validate_single(&co, &schema)
    })();
    l.rule(ERROR, "values.yaml", r);
}

// ---- templates --------------------------------------------------------------------------

fn templates(l: &mut Linter, vals: &Map, o: &LintOpts) {
    let tdir = l.chart_dir.join("templates");
    if !l.rule(
        WARNING,
        "templates/",
        if tdir.exists() {
            Ok(())
        } else {
            Err("directory does not exist".into())
        },
    ) {
        return;
    }
    if !l.rule(
        ERROR,
        "templates/",
        if tdir.is_dir() {
            Ok(())
        } else {
            Err("not a directory".into())
        },
    ) {
        return;
    }
    let mut warn = |_m: String| {};
    let chart =
        match super::loader::load(&l.chart_dir, &mut warn).and_then(|c| RChart::from_chart(&c)) {
            Ok(c) => c,
            Err(e) => {
                l.rule(ERROR, "templates/", Err(e));
                return;
            }
        };
    let caps = o.kube.clone().unwrap_or_default();
    let rel = ReleaseOpts {
        name: "test-release".into(),
        namespace: o.namespace.clone(),
        revision: 0,
        is_upgrade: false,
    };
    let (c, top) = match render::render_values(&chart, vals, &rel, &caps, o.skip_schema, &mut warn)
    {
        Ok(x) => x,
        Err(e) => {
            l.rule(ERROR, "templates/", Err(e));
            return;
        }
    };
    // Helm's lint run leaves .Release.IsInstall false and Revision 0 (ReleaseOptions zero)
    let top = {
        let mut t = top;
        if let Some(Value::Map(r)) = t.get_mut("Release") {
            r.insert("IsInstall".into(), Value::Bool(false));
        }
        t
    };
    LINT_MODE.with(|m| m.set(true));
    let rendered = render::render_templates(&c, &top);
    LINT_MODE.with(|m| m.set(false));
    let rendered = match rendered {
        Ok(r) => r,
        Err(e) => {
            l.rule(ERROR, "templates/", Err(e));
            return;
        }
    };
    for t in &chart.templates {
        let name = t.name.clone();
        // filepath.Ext: from the last '.' of the base name
        let base = name.rsplit('/').next().unwrap_or("");
        let ext = base
            .rfind('.')
            .map(|i| base[i..].to_string())
            .unwrap_or_default();
        l.rule(
            ERROR,
            &name,
            if [".yaml", ".yml", ".tpl", ".txt"].contains(&ext.as_str()) {
                Ok(())
            } else {
                Err(format!("file extension '{ext}' not valid. Valid extensions are .yaml, .yml, .tpl, or .txt"))
            },
        );
        let lext = ext.to_lowercase();
        if lext != ".yaml" && lext != ".yml" {
            continue;
        }
        let Some(content) = rendered.get(&format!("{}/{name}", chart.meta.name)) else {
            continue;
        };
        if content.trim().is_empty() {
            continue;
        }
        l.rule(WARNING, &name, top_indent(content));
        for doc in yaml_documents(content) {
            let y = match super::yaml::parse(&doc) {
                Ok(y) => y,
                Err(e) => {
                    l.rule(
                        ERROR,
                        &name,
                        Err(format!(
                            "unable to parse YAML: error converting YAML to JSON: {e}"
                        )),
                    );
                    return;
                }
            };
            if y == Yaml::Null {
                continue;
            }
            let Yaml::Map(_) = y else {
                l.rule(ERROR, &name, Err(format!("unable to parse YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type rules.k8sYamlStruct", json_kind(&y))));
                return;
            };
            let get_ci = |m: &Yaml, k: &str| -> Option<Yaml> {
                match m {
                    Yaml::Map(e) => e
                        .iter()
                        .rev()
                        .find(|(kk, _)| kk.key_string().eq_ignore_ascii_case(k))
                        .map(|(_, v)| v.clone()),
                    _ => None,
                }
            };
            let s = |v: Option<Yaml>| match v {
                Some(Yaml::Str(s)) => s,
                _ => String::new(),
            };
            let api = s(yaml_get(&y, "apiVersion").cloned());
            let kind = s(get_ci(&y, "kind"));
            let meta = get_ci(&y, "metadata").unwrap_or(Yaml::Null);
            let mname = s(get_ci(&meta, "name"));
            l.rule(WARNING, &name, validate_metadata_name(&kind, &mname));
            l.rule(WARNING, &name, deprecation(&api, &kind, &caps));
            let r = if ["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"]
                .contains(&kind.as_str())
                && !content.contains("matchLabels")
                && !content.contains("matchExpressions")
            {
                Err(format!(
                    "a {kind} must contain matchLabels or matchExpressions, and {mname:?} does not"
                ))
            } else {
                Ok(())
            };
            l.rule(ERROR, &name, r);
            let first_is_list = yaml_documents(content)
                .first()
                .and_then(|d| super::yaml::parse(d).ok())
                .map(|y| matches!(yaml_get(&y, "kind"), Some(Yaml::Str(k)) if k == "List"))
                .unwrap_or(false);
            if kind == "List" && first_is_list && content.contains("helm.sh/resource-policy") {
                l.rule(
                    ERROR,
                    &name,
                    Err(
                        "annotation 'helm.sh/resource-policy' within List objects are ignored"
                            .into(),
                    ),
                );
            }
        }
    }
}

fn json_kind(y: &Yaml) -> &'static str {
    match y {
        Yaml::Str(_) => "string",
        Yaml::Bool(_) => "bool",
        Yaml::Seq(_) => "array",
        Yaml::Map(_) => "object",
        _ => "number",
    }
}

/// The documents k8s' YAML reader sees: split at lines that are `---` (plus trailing
/// space/comment).
fn yaml_documents(content: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    for line in content.split_inclusive('\n') {
        let t = line.trim_end();
        if t == "---" || (t.starts_with("--- ") || t.starts_with("---\t")) {
            docs.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push_str(line);
    }
    docs.push(cur);
    docs.into_iter().filter(|d| !d.trim().is_empty()).collect()
}

fn top_indent(content: &str) -> Result<(), String> {
    for line in content.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            return Err(format!(
                "document starts with an illegal indent: {}, which may cause parsing problems",
                crate::template::go_quote(line)
            ));
        }
        return Ok(());
    }
    Ok(())
}

const DNS1123_SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1123_LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_LABEL: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

fn label_ok(l: &str, first_alpha: bool) -> bool {
    let b = l.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && (if first_alpha {
            b[0].is_ascii_lowercase()
        } else {
            b[0] != b'-'
        })
        && b[b.len() - 1] != b'-'
}

fn validate_metadata_name(kind: &str, name: &str) -> Result<(), String> {
    let mut msgs: Vec<String> = Vec::new();
    match kind.to_lowercase().as_str() {
        "service" => {
            if name.len() > 63 {
                msgs.push("must be no more than 63 characters".into());
            }
            if !label_ok(name, true) {
                msgs.push(DNS1035_LABEL.into());
            }
        }
        "namespace" => {
            if name.len() > 63 {
                msgs.push("must be no more than 63 characters".into());
            }
            if !label_ok(name, false) {
                msgs.push(DNS1123_LABEL.into());
            }
        }
        "certificatesigningrequest" => {}
        "role" | "clusterrole" | "rolebinding" | "clusterrolebinding" => {
            if name == "." || name == ".." {
                msgs.push(format!("may not be '{name}'"));
            }
            for c in ["/", "%"] {
                if name.contains(c) {
                    msgs.push(format!("may not contain '{c}'"));
                }
            }
        }
        _ => {
            if name.len() > 253 {
                msgs.push("must be no more than 253 characters".into());
            }
            if !name.split('.').all(|l| label_ok(l, false)) {
                msgs.push(DNS1123_SUBDOMAIN.into());
            }
        }
    }
    if msgs.is_empty() {
        return Ok(());
    }
    let errs: Vec<String> = msgs
        .iter()
        .map(|m| {
            format!(
                "metadata.name: Invalid value: {}: {m}",
                crate::template::go_quote(name)
            )
        })
        .collect();
    let agg = if errs.len() == 1 {
        errs[0].clone()
    } else {
        format!("[{}]", errs.join(", "))
    };
    Err(format!(
        "object name does not conform to Kubernetes naming requirements: {}: {agg}",
        crate::template::go_quote(name)
    ))
}

/// Deprecated API versions as Helm 4.2.3 reports them (k8s' prerelease-lifecycle tags of
/// the client-go v0.36 scheme, observed through helm-python-sdk): (apiVersion, kind,
/// deprecated in, removed in, replacement).
#[allow(clippy::type_complexity)]
const DEPRECATED: &[(&str, &str, (u32, u32), Option<(u32, u32)>, Option<&str>)] = &[
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
        (1, 16),
        Some((1, 22)),
        Some("admissionregistration.k8s.io/v1 MutatingWebhookConfiguration"),
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
        (1, 16),
        Some((1, 22)),
        Some("admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration"),
    ),
    (
        "apps/v1beta1",
        "ControllerRevision",
        (1, 8),
        Some((1, 16)),
        Some("apps/v1 ControllerRevision"),
    ),
    (
        "apps/v1beta1",
        "Deployment",
        (1, 8),
        Some((1, 16)),
        Some("apps/v1 Deployment"),
    ),
    (
        "apps/v1beta1",
        "StatefulSet",
        (1, 8),
        Some((1, 16)),
        Some("apps/v1 StatefulSet"),
    ),
    (
        "apps/v1beta2",
        "ControllerRevision",
        (1, 9),
        Some((1, 16)),
        Some("apps/v1 ControllerRevision"),
    ),
    (
        "apps/v1beta2",
        "DaemonSet",
        (1, 9),
        Some((1, 16)),
        Some("apps/v1 DaemonSet"),
    ),
    (
        "apps/v1beta2",
        "Deployment",
        (1, 9),
        Some((1, 16)),
        Some("apps/v1 Deployment"),
    ),
    (
        "apps/v1beta2",
        "ReplicaSet",
        (1, 9),
        Some((1, 16)),
        Some("apps/v1 ReplicaSet"),
    ),
    (
        "apps/v1beta2",
        "StatefulSet",
        (1, 9),
        Some((1, 16)),
        Some("apps/v1 StatefulSet"),
    ),
    (
        "batch/v1beta1",
        "CronJob",
        (1, 21),
        Some((1, 25)),
        Some("batch/v1 CronJob"),
    ),
    (
        "certificates.k8s.io/v1beta1",
        "CertificateSigningRequest",
        (1, 19),
        Some((1, 22)),
        Some("certificates.k8s.io/v1 CertificateSigningRequest"),
    ),
    (
        "coordination.k8s.io/v1beta1",
        "Lease",
        (1, 19),
        Some((1, 22)),
        Some("coordination.k8s.io/v1 Lease"),
    ),
    (
        "discovery.k8s.io/v1beta1",
        "EndpointSlice",
        (1, 21),
        Some((1, 25)),
        Some("discovery.k8s.io/v1 EndpointSlice"),
    ),
    (
        "events.k8s.io/v1beta1",
        "Event",
        (1, 22),
        Some((1, 25)),
        None,
    ),
    (
        "extensions/v1beta1",
        "DaemonSet",
        (1, 8),
        Some((1, 16)),
        Some("apps/v1 DaemonSet"),
    ),
    (
        "extensions/v1beta1",
        "Deployment",
        (1, 8),
        Some((1, 16)),
        Some("apps/v1 Deployment"),
    ),
    (
        "extensions/v1beta1",
        "Ingress",
        (1, 14),
        Some((1, 22)),
        Some("networking.k8s.io/v1 Ingress"),
    ),
    (
        "extensions/v1beta1",
        "NetworkPolicy",
        (1, 9),
        Some((1, 16)),
        Some("networking.k8s.io/v1 NetworkPolicy"),
    ),
    (
        "extensions/v1beta1",
        "ReplicaSet",
        (1, 8),
        Some((1, 16)),
        Some("apps/v1 ReplicaSet"),
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "FlowSchema",
        (1, 23),
        Some((1, 26)),
        Some("flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema"),
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
        (1, 23),
        Some((1, 26)),
        Some("flowcontrol.apiserver.k8s.io/v1beta3 PriorityLevelConfiguration"),
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "FlowSchema",
        (1, 26),
        Some((1, 29)),
        Some("flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema"),
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "PriorityLevelConfiguration",
        (1, 26),
        Some((1, 29)),
        Some("flowcontrol.apiserver.k8s.io/v1beta3 PriorityLevelConfiguration"),
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "FlowSchema",
        (1, 29),
        Some((1, 32)),
        Some("flowcontrol.apiserver.k8s.io/v1 FlowSchema"),
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "PriorityLevelConfiguration",
        (1, 29),
        Some((1, 32)),
        Some("flowcontrol.apiserver.k8s.io/v1 PriorityLevelConfiguration"),
    ),
    (
        "networking.k8s.io/v1beta1",
        "Ingress",
        (1, 19),
        Some((1, 22)),
        Some("networking.k8s.io/v1 Ingress"),
    ),
    (
        "networking.k8s.io/v1beta1",
        "IngressClass",
        (1, 19),
        Some((1, 22)),
        Some("networking.k8s.io/v1 IngressClassList"),
    ),
    (
        "node.k8s.io/v1beta1",
        "RuntimeClass",
        (1, 22),
        Some((1, 25)),
        None,
    ),
    (
        "policy/v1beta1",
        "PodDisruptionBudget",
        (1, 21),
        Some((1, 25)),
        Some("policy/v1 PodDisruptionBudget"),
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRole",
        (1, 17),
        Some((1, 22)),
        Some("rbac.authorization.k8s.io/v1 ClusterRole"),
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRoleBinding",
        (1, 17),
        Some((1, 22)),
        Some("rbac.authorization.k8s.io/v1 ClusterRoleBinding"),
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "Role",
        (1, 17),
        Some((1, 22)),
        Some("rbac.authorization.k8s.io/v1 Role"),
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "RoleBinding",
        (1, 17),
        Some((1, 22)),
        Some("rbac.authorization.k8s.io/v1 RoleBinding"),
    ),
    (
        "scheduling.k8s.io/v1beta1",
        "PriorityClass",
        (1, 14),
        Some((1, 22)),
        Some("scheduling.k8s.io/v1 PriorityClass"),
    ),
    (
        "storage.k8s.io/v1beta1",
        "CSIDriver",
        (1, 19),
        Some((1, 22)),
        Some("storage.k8s.io/v1 CSIDriver"),
    ),
    (
        "storage.k8s.io/v1beta1",
        "CSINode",
        (1, 17),
        Some((1, 22)),
        Some("storage.k8s.io/v1 CSINode"),
    ),
    (
        "storage.k8s.io/v1beta1",
        "StorageClass",
        (1, 19),
        Some((1, 22)),
        Some("storage.k8s.io/v1 StorageClass"),
    ),
    (
        "storage.k8s.io/v1beta1",
        "VolumeAttachment",
        (1, 19),
        Some((1, 22)),
        Some("storage.k8s.io/v1 VolumeAttachment"),
    ),
];

fn deprecation(api: &str, kind: &str, caps: &Caps) -> Result<(), String> {
    if api.is_empty() || kind.is_empty() {
        return Ok(());
    }
    let major: u32 = caps.kube_major.parse().unwrap_or(0);
    let minor: u32 = caps.kube_minor.parse().unwrap_or(0);
    let Some((_, _, dep, removed, repl)) =
        DEPRECATED.iter().find(|(a, k, ..)| *a == api && *k == kind)
    else {
        return Ok(());
    };
    if (major, minor) < *dep {
        return Ok(());
    }
    let mut msg = format!("{api} {kind} is deprecated in v{}.{}+", dep.0, dep.1);
    if let Some(r) = removed {
        msg.push_str(&format!(", unavailable in v{}.{}+", r.0, r.1));
    }
    if let Some(r) = repl {
        msg.push_str(&format!("; use {r}"));
    }
    Err(msg)
}

// ---- dependencies, CRDs -----------------------------------------------------------------

fn dependencies(l: &mut Linter) {
    let mut warn = |_m: String| {};
    let c = match super::loader::load_dir(&l.chart_dir, &mut warn) {
        Ok(c) => c,
        Err(e) => {
            l.rule(ERROR, "", Err(format!("unable to load chart\n\t{e}")));
            return;
        }
    };
    let dir = l.chart_dir.display().to_string();
    let reqs: Vec<_> = c.metadata.dependencies.iter().flatten().flatten().collect();
    let missing: Vec<String> = c
        .dependencies
        .iter()
        .filter(|d| !reqs.iter().any(|r| r.name == d.metadata.name))
        .map(|d| d.metadata.name.clone())
        .collect();
    l.rule(
        ERROR,
        &dir,
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "chart metadata is missing these dependencies: {}",
                missing.join(",")
            ))
        },
    );
    let mut seen = std::collections::HashSet::new();
    let mut shadow = Vec::new();
    for r in &reqs {
        let key = if r.alias.is_empty() {
            &r.name
        } else {
            &r.alias
        };
        if !seen.insert(key.clone()) {
            shadow.push(key.clone());
        }
    }
    l.rule(
        ERROR,
        &dir,
        if shadow.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "multiple dependencies with name or alias: {}",
                shadow.join(",")
            ))
        },
    );
    let missing: Vec<String> = reqs
        .iter()
        .filter(|r| !c.dependencies.iter().any(|d| d.metadata.name == r.name))
        .map(|r| r.name.clone())
        .collect();
    l.rule(
        WARNING,
        &dir,
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "chart directory is missing these dependencies: {}",
                missing.join(",")
            ))
        },
    );
}

fn crds(l: &mut Linter) {
    let p = l.chart_dir.join("crds");
    if !p.exists() {
        return;
    }
    if !l.rule(
        ERROR,
        "crds/",
        if p.is_dir() {
            Ok(())
        } else {
            Err("not a directory".into())
        },
    ) {
        return;
    }
    let mut warn = |_m: String| {};
    let c = match super::loader::load(&l.chart_dir, &mut warn).and_then(|c| RChart::from_chart(&c))
    {
        Ok(c) => c,
        Err(e) => {
            l.rule(ERROR, "crds/", Err(e));
            return;
        }
    };
    let mut list = Vec::new();
    render::crd_objects(&c, "", &mut list);
    for (full, data) in list {
        let name = full.trim_start_matches('/').to_string();
        for doc in yaml_documents(&data) {
            let y = match super::yaml::parse(&doc) {
                Ok(y) => y,
                Err(e) => {
                    l.rule(
                        ERROR,
                        &name,
                        Err(format!(
                            "unable to parse YAML: error converting YAML to JSON: {e}"
                        )),
                    );
                    return;
                }
            };
            if y == Yaml::Null {
                continue;
            }
            let api = match yaml_get(&y, "apiVersion") {
                Some(Yaml::Str(s)) => s.clone(),
                _ => String::new(),
            };
            let kind = match yaml_get(&y, "kind") {
                Some(Yaml::Str(s)) => s.clone(),
                _ => String::new(),
            };
            l.rule(
                ERROR,
                &name,
                if api.starts_with("apiextensions.k8s.io") {
                    Ok(())
                } else {
                    Err("apiVersion is not in 'apiextensions.k8s.io'".into())
                },
            );
            l.rule(
                ERROR,
                &name,
                if kind == "CustomResourceDefinition" {
                    Ok(())
                } else {
                    Err("object kind is not 'CustomResourceDefinition'".into())
                },
            );
        }
    }
}

// ---- the command ------------------------------------------------------------------------

const FLAGS: &[FlagSpec] = &[
    flag("strict", None, false),
    flag("with-subcharts", None, false),
    flag("quiet", None, false),
    flag("skip-schema-validation", None, false),
    flag("kube-version", None, true),
];

fn subchart_paths(p: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(p) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            subchart_paths(&path, out);
        } else if name == "Chart.yaml" {
            out.push(p.display().to_string());
        } else if name.ends_with(".tgz") || name.ends_with(".tar.gz") {
            out.push(path.display().to_string());
        }
    }
}

pub fn run(args: &[String]) -> CmdResult {
    let mut specs: Vec<FlagSpec> = FLAGS.to_vec();
    specs.extend_from_slice(super::tmplcmd::VALUE_FLAGS);
    let p = parse_flags("lint", args, &specs)?;
    if p.positional.is_empty() {
        return Err(
            "\"helm lint\" requires at least 1 argument\n\nUsage:  helm lint PATH [flags]".into(),
        );
    }
    let mut kube = None;
    if let Some(kv) = p.get("kube-version").filter(|s| !s.is_empty()) {
        let (v, maj, min) = render::parse_kube_version(kv)
            .map_err(|e| CmdError::Fail(format!("invalid kube version '{kv}': {e}")))?;
        kube = Some(Caps {
            kube_version: v,
            kube_major: maj,
            kube_minor: min,
            ..Caps::default()
        });
    }
    let mut paths = p.positional.clone();
    if p.bool("with-subcharts") {
        for x in p.positional.clone() {
            subchart_paths(&Path::new(&x).join("charts"), &mut paths);
        }
    }
    let namespace = p
        .get("namespace")
        .map(String::from)
        .or_else(|| {
            std::env::var("HELM_NAMESPACE")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "default".into());
    let vals = super::tmplcmd::user_values(&p)?;
    let opts = LintOpts {
        namespace,
        kube,
        skip_schema: p.bool("skip-schema-validation"),
    };
    let strict = p.bool("strict");
    let quiet = p.bool("quiet");
    let lowest = if strict { WARNING } else { ERROR };
    let mut out = String::new();
    let mut failed = 0;
    let mut errors_or_warnings = 0;
    for path in &paths {
        let r = lint_path(path, &vals, &opts);
        let errors: Vec<String> = match &r.error {
            Some(e) => vec![e.clone()],
            None => r
                .messages
                .iter()
                .filter(|m| m.severity >= lowest)
                .map(|m| m.err.clone())
                .collect(),
        };
        let has = r.messages.iter().any(|m| m.severity > INFO) || !errors.is_empty();
        if has {
            errors_or_warnings += 1;
        }
        if quiet && !has {
            continue;
        }
        out.push_str(&format!("==> Linting {path}\n"));
        if r.messages.is_empty() {
            for e in &errors {
                out.push_str(&format!("Error {e}\n"));
            }
        }
        for m in &r.messages {
            if !quiet || m.severity > INFO {
                out.push_str(&format!("{m}\n"));
            }
        }
        if !errors.is_empty() {
            failed += 1;
        }
        out.push('\n');
    }
    print!("{out}");
    let summary = format!("{} chart(s) linted, {failed} chart(s) failed", paths.len());
    if failed > 0 {
        return Err(summary.into());
    }
    if !quiet || errors_or_warnings > 0 {
        println!("{summary}");
    }
    Ok(())
}

//! Helm 4's offline rendering (`helm template`, the install dry run): dependency
//! processing (`condition`, `tags`, aliases, `import-values`), values coalescing, the
//! engine (`pkg/engine`) on oxtask's Go template engine, and the manifest sorter
//! (`pkg/release/v1/util`).

use serde_json::Value as Json;

use crate::template::{Map, Template, Value};

use super::chart::{Dependency, Metadata};
use super::loader::{BufferedFile, Chart};
use super::values::{self, ValuesChart};

/// A chart prepared for rendering.
#[derive(Clone, Debug)]
pub struct RChart {
    pub meta: Metadata,
    pub values: Map,
    pub templates: Vec<BufferedFile>,
    pub files: Vec<BufferedFile>,
    pub deps: Vec<RChart>,
    pub schema: Option<Vec<u8>>,
}

impl ValuesChart for RChart {
    fn name(&self) -> &str {
        &self.meta.name
    }
    fn values(&self) -> &Map {
        &self.values
    }
    fn deps(&self) -> Vec<&Self> {
        self.deps.iter().collect()
    }
}

impl RChart {
    pub fn from_chart(c: &Chart) -> Result<RChart, String> {
        let vals = match &c.values {
            None => Map::new(),
            Some(b) => values::parse_yaml_map(&String::from_utf8_lossy(b))
                .map_err(|e| format!("cannot load values.yaml: {e}"))?,
        };
        Ok(RChart {
            meta: c.metadata.clone(),
            values: vals,
            templates: c.templates.clone(),
            files: c.files.clone(),
            deps: c
                .dependencies
                .iter()
                .map(RChart::from_chart)
                .collect::<Result<_, _>>()?,
            schema: c.schema.clone(),
        })
    }
}

/// `IsCompatibleRange`: an unparsable constraint or version is not compatible.
pub fn compatible(constraint: &str, version: &str) -> bool {
    if constraint.trim().is_empty() {
        return false;
    }
    match super::semver::parse_lenient(version) {
        Ok(v) => super::semver::satisfies(constraint, &v).unwrap_or(false),
        Err(_) => false,
    }
}

/// `ProcessDependencies`: drops disabled subcharts, applies aliases, imports values.
pub fn process_dependencies(c: &mut RChart, vals: &Map, warn: &mut dyn FnMut(String)) {
    dependency_enabled(c, vals, "", warn);
    import_values_rec(c, warn);
}

fn dependency_enabled(c: &mut RChart, v: &Map, path: &str, warn: &mut dyn FnMut(String)) {
    let Some(reqs) = c.meta.dependencies.clone() else {
        return;
    };
    let mut reqs: Vec<Dependency> = reqs.into_iter().flatten().collect();
    let mut chart_deps: Vec<RChart> = c
        .deps
        .iter()
        .filter(|e| {
            !reqs
                .iter()
                .any(|r| e.meta.name == r.name && compatible(&r.version, &e.meta.version))
        })
        .cloned()
        .collect();
    for r in reqs.iter_mut() {
        if let Some(found) = c
            .deps
            .iter()
            .find(|d| d.meta.name == r.name && compatible(&r.version, &d.meta.version))
        {
            let mut out = found.clone();
            if !r.alias.is_empty() {
                out.meta.name = r.alias.clone();
            }
            chart_deps.push(out);
        }
        if !r.alias.is_empty() {
            r.name = r.alias.clone();
        }
    }
    c.deps = chart_deps;
    for r in reqs.iter_mut() {
        r.enabled = true;
    }
    let cvals = values::coalesce(c, v, false);
    // tags
    if let Some(Value::Map(vt)) = cvals.get("tags") {
        for r in reqs.iter_mut() {
            let (mut has_true, mut has_false) = (false, false);
            for k in &r.tags {
                match vt.get(k) {
                    Some(Value::Bool(true)) => has_true = true,
                    Some(Value::Bool(false)) => has_false = true,
                    Some(_) => warn(format!(
                        "Warning: Tag '{k}' for chart {} returned non-bool value",
                        r.name
                    )),
                    None => {}
                }
            }
            r.enabled = has_true || !has_false;
        }
    }
    // conditions
    for r in reqs.iter_mut() {
        for cond in r.condition.trim().split(',') {
            if cond.is_empty() {
                continue;
            }
            match values::path_value(&cvals, &format!("{path}{cond}")) {
                Some(Value::Bool(b)) => {
                    r.enabled = *b;
                    break;
                }
                Some(_) => warn(format!(
                    "Warning: Condition path '{cond}' for chart {} returned non-bool value",
                    r.name
                )),
                None => {}
            }
        }
    }
    let disabled: Vec<String> = reqs
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    c.deps.retain(|d| !disabled.contains(&d.meta.name));
    reqs.retain(|r| !disabled.contains(&r.name));
    for d in c.deps.iter_mut() {
        let sub = format!("{path}{}.", d.meta.name);
        dependency_enabled(d, &cvals, &sub, warn);
    }
    c.meta.dependencies = Some(reqs.into_iter().map(Some).collect());
}

fn path_to_map(path: &str, data: Map) -> Map {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for part in path.split('.').rev() {
        let mut m = Map::new();
        m.insert(part.to_string(), Value::Map(cur.into()));
        cur = m;
    }
    cur
}

fn import_values_rec(c: &mut RChart, warn: &mut dyn FnMut(String)) {
    for d in c.deps.iter_mut() {
        import_values_rec(d, warn);
    }
    let Some(reqs) = c.meta.dependencies.as_mut() else {
        return;
    };
    let cvals = {
        let tmp = RChart {
            meta: Metadata::default(),
            values: c.values.clone(),
            templates: vec![],
            files: vec![],
            deps: c.deps.clone(),
            schema: None,
        };
        let mut t = tmp;
        t.meta.name = c.meta.name.clone();
        values::coalesce(&t, &Map::new(), true)
    };
    let mut b = Map::new();
    for r in reqs.iter_mut().flatten() {
        let mut out = Vec::new();
        for iv in &r.import_values {
            let (child, parent) = match iv {
                Json::Object(o) => (json_sprint(o.get("child")), json_sprint(o.get("parent"))),
                Json::String(s) => (format!("exports.{s}"), ".".to_string()),
                _ => continue,
            };
            out.push(serde_json::json!({"child": child, "parent": parent}));
            match values::table(&cvals, &format!("{}.{child}", r.name)) {
                Some(t) => {
                    let add = path_to_map(&parent, t.clone());
                    values::coalesce_tables(&mut b, &add, true);
                }
                None => warn(format!(
                    "Warning: ImportValues missing table from chart {}: {}.{child}",
                    r.name, r.name
                )),
            }
        }
        r.import_values = out;
    }
    let mut merged = cvals;
    values::coalesce_tables(&mut merged, &b, true);
    c.values = merged;
}

fn json_sprint(v: Option<&Json>) -> String {
    match v {
        None | Some(Json::Null) => "<nil>".into(),
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

// ---- render values ----------------------------------------------------------------------

/// `.Capabilities` inputs.
#[derive(Clone, Debug)]
pub struct Caps {
    pub kube_version: String,
    pub kube_major: String,
    pub kube_minor: String,
    pub api_versions: Vec<String>,
}

/// Helm 4.2.3's `DefaultCapabilities` (client-go v0.36 scheme).
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha2",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

impl Default for Caps {
    fn default() -> Self {
        Caps {
            kube_version: "v1.36.0".into(),
            kube_major: "1".into(),
            kube_minor: "36".into(),
            api_versions: DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// `common.ParseKubeVersion` (k8s `ParseGeneric`: `[v]MAJOR.MINOR[.PATCH][suffix]`).
pub fn parse_kube_version(s: &str) -> Result<(String, String, String), String> {
    let body = s.trim().strip_prefix('v').unwrap_or(s.trim());
    let numeric: String = body
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let parts: Vec<&str> = numeric.split('.').collect();
    let bad = || format!("could not parse \"{s}\" as version");
    if parts.len() < 2 || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(bad());
    }
    let major: u64 = parts[0].parse().map_err(|_| bad())?;
    let minor: u64 = parts[1].parse().map_err(|_| bad())?;
    let git = if s.starts_with('v') {
        s.to_string()
    } else {
        format!("v{s}")
    };
    Ok((git, major.to_string(), minor.to_string()))
}

/// `.Release` options.
#[derive(Clone, Debug)]
pub struct ReleaseOpts {
    pub name: String,
    pub namespace: String,
    pub revision: i64,
    pub is_upgrade: bool,
}

fn s(v: &str) -> Value {
    Value::Str(v.to_string())
}

fn str_list(l: &[String]) -> Value {
    Value::List(l.iter().map(|x| s(x)).collect())
}

/// `MetadataAsMap` (Go field names), plus `IsRoot`.
pub fn metadata_map(m: &Metadata, is_root: bool) -> Map {
    let mut o = Map::new();
    o.insert("Name".into(), s(&m.name));
    o.insert("Home".into(), s(&m.home));
    o.insert("Sources".into(), str_list(&m.sources));
    o.insert("Version".into(), s(&m.version));
    o.insert("Description".into(), s(&m.description));
    o.insert("Keywords".into(), str_list(&m.keywords));
    o.insert(
        "Maintainers".into(),
        Value::List(
            m.maintainers
                .iter()
                .map(|mt| match mt {
                    None => Value::Nil,
                    Some(mt) => {
                        let mut x = Map::new();
                        x.insert("Name".into(), s(&mt.name));
                        x.insert("Email".into(), s(&mt.email));
                        x.insert("URL".into(), s(&mt.url));
                        Value::Map(x.into())
                    }
                })
                .collect(),
        ),
    );
    o.insert("Icon".into(), s(&m.icon));
    o.insert("APIVersion".into(), s(&m.api_version));
    o.insert("Condition".into(), s(&m.condition));
    o.insert("Tags".into(), s(&m.tags));
    o.insert("AppVersion".into(), s(&m.app_version));
    o.insert("Deprecated".into(), Value::Bool(m.deprecated));
    o.insert(
        "Annotations".into(),
        if m.annotations.is_empty() {
            Value::Nil
        } else {
            Value::StrMap(m.annotations.iter().cloned().collect())
        },
    );
    o.insert("KubeVersion".into(), s(&m.kube_version));
    o.insert(
        "Dependencies".into(),
        Value::List(
            m.dependencies
                .iter()
                .flatten()
                .map(|d| match d {
                    None => Value::Nil,
                    Some(d) => {
                        let mut x = Map::new();
                        x.insert("Name".into(), s(&d.name));
                        x.insert("Version".into(), s(&d.version));
                        x.insert("Repository".into(), s(&d.repository));
                        x.insert("Condition".into(), s(&d.condition));
                        x.insert("Tags".into(), str_list(&d.tags));
                        x.insert("Enabled".into(), Value::Bool(d.enabled));
                        x.insert(
                            "ImportValues".into(),
                            Value::List(
                                d.import_values
                                    .iter()
                                    .map(|j| {
                                        crate::template::json_to_value(&j.to_string())
                                            .unwrap_or(Value::Nil)
                                    })
                                    .collect(),
                            ),
                        );
                        x.insert("Alias".into(), s(&d.alias));
                        Value::Map(x.into())
                    }
                })
                .collect(),
        ),
    );
    o.insert("Type".into(), s(&m.type_));
    o.insert("IsRoot".into(), Value::Bool(is_root));
    o
}

fn capabilities(c: &Caps) -> Value {
    let mut kv = Map::new();
    kv.insert("Version".into(), s(&c.kube_version));
    kv.insert("Major".into(), s(&c.kube_major));
    kv.insert("Minor".into(), s(&c.kube_minor));
    let mut hv = Map::new();
    hv.insert("Version".into(), s(super::help::HELM_VERSION));
    hv.insert("GitCommit".into(), s(""));
    hv.insert("GitTreeState".into(), s(""));
    hv.insert("GoVersion".into(), s("go1.26.6"));
    hv.insert("KubeClientVersion".into(), s("v1.36"));
    let mut m = Map::new();
    m.insert("APIVersions".into(), Value::StrList(c.api_versions.clone()));
    m.insert("KubeVersion".into(), Value::Map(kv.into()));
    m.insert("HelmVersion".into(), Value::Map(hv.into()));
    Value::Map(m.into())
}

fn files_value(files: &[BufferedFile]) -> Value {
    let mut m = Map::new();
    for f in files {
        m.insert(f.name.clone(), Value::Bytes(f.data.clone()));
    }
    Value::Map(m.into())
}

struct Renderable {
    src: String,
    /// Index of the chart's data map (shared by its templates, as Helm shares `next`).
    chart: usize,
    base_path: String,
}

/// Helm's `recAllTpls`: each chart's data map (`roots`, without `.Template`, which is set
/// per template) and its templates.
fn all_templates(
    c: &RChart,
    full_path: &str,
    is_root: bool,
    parent_next: &Map,
    out: &mut Vec<(String, Renderable)>,
    roots: &mut Vec<Map>,
) -> Map {
    let mut next = Map::new();
    next.insert(
        "Chart".into(),
        Value::Map(metadata_map(&c.meta, is_root).into()),
    );
    next.insert("Files".into(), files_value(&c.files));
    next.insert(
        "Release".into(),
        parent_next.get("Release").cloned().unwrap_or_default(),
    );
    next.insert(
        "Capabilities".into(),
        parent_next.get("Capabilities").cloned().unwrap_or_default(),
    );
    let vals = if is_root {
        parent_next
            .get("Values")
            .cloned()
            .unwrap_or(Value::Map(Map::new().into()))
    } else {
        match parent_next.get("Values") {
            Some(Value::Map(pv)) => match pv.get(&c.meta.name) {
                Some(Value::Map(m)) => Value::Map(m.clone()),
                _ => Value::Map(Map::new().into()),
            },
            _ => Value::Map(Map::new().into()),
        }
    };
    next.insert("Values".into(), vals);
    let mut subcharts = Map::new();
    for d in &c.deps {
        let sub_path = format!("{full_path}/charts/{}", d.meta.name);
        let sub = all_templates(d, &sub_path, false, &next, out, roots);
        subcharts.insert(d.meta.name.clone(), Value::Map(sub.into()));
    }
    next.insert("Subcharts".into(), Value::Map(subcharts.into()));
    let library = c.meta.type_ == "library";
    let chart = roots.len();
    for t in &c.templates {
        let base = t.name.rsplit('/').next().unwrap_or(&t.name);
        if library && !base.starts_with('_') {
            continue;
        }
        out.push((
            format!("{full_path}/{}", t.name),
            Renderable {
                src: String::from_utf8_lossy(&t.data).into_owned(),
                chart,
                base_path: format!("{full_path}/templates"),
            },
        ));
    }
    roots.push(next.clone());
    next
}

/// `sortTemplates`: most path separators first, then reverse lexical order.
fn sort_templates(names: &mut [String]) {
    names.sort_by(|a, b| {
        let (ca, cb) = (a.matches('/').count(), b.matches('/').count());
        cb.cmp(&ca).then_with(|| b.cmp(a))
    });
}

/// Helm's engine: every template of the chart and its subcharts, rendered. Keys are
/// `CHART/templates/FILE` paths.
pub fn render_templates(
    c: &RChart,
    top: &Map,
) -> Result<std::collections::BTreeMap<String, String>, String> {
    let mut list = Vec::new();
    let mut roots = Vec::new();
    all_templates(c, &c.meta.name, true, top, &mut list, &mut roots);
    let mut names: Vec<String> = list.iter().map(|(n, _)| n.clone()).collect();
    sort_templates(&mut names);
    let by_name: std::collections::HashMap<&str, &Renderable> =
        list.iter().map(|(n, r)| (n.as_str(), r)).collect();
    let mut set = Template::new_helm_set();
    for n in &names {
        set.add_file(n, &by_name[n.as_str()].src)
            .map_err(|e| cleanup_parse_error(n, &e.0))?;
    }
    // one set of changes for all: a template sees what `set` did in the ones rendered before
    let mut patches = crate::template::patch::Patches::with_roots(roots.iter().collect());
    let mut out = std::collections::BTreeMap::new();
    for n in &names {
        let base = n.rsplit('/').next().unwrap_or(n);
        if base.starts_with('_') {
            continue;
        }
        let r = by_name[n.as_str()];
        let root = &roots[r.chart];
        let mut tm = Map::new();
        tm.insert("Name".into(), s(n));
        tm.insert("BasePath".into(), s(&r.base_path));
        patches.set_root_key(root, "Template", Value::Map(tm.into()));
        let bytes = run_big_stack(|| set.execute_template_patched(n, root, &mut patches))
            .map_err(|e| reformat_exec_error(n, &e.0))?;
        let text = String::from_utf8_lossy(&bytes).replace("<no value>", "");
        out.insert(n.clone(), text);
    }
    Ok(out)
}

/// Runs `f` with stack growth available (deep `include` chains).
pub fn run_big_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(256 * 1024, 8 * 1024 * 1024, f)
}

fn cleanup_parse_error(filename: &str, err: &str) -> String {
    let tokens: Vec<&str> = err.split(": ").collect();
    if tokens.len() == 1 {
        return format!("parse error in ({filename}): {err}");
    }
    format!(
        "parse error at ({}): {}",
        tokens[1],
        tokens[tokens.len() - 1]
    )
}

fn reformat_exec_error(filename: &str, err: &str) -> String {
    let tokens: Vec<&str> = err.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return format!("execution error in ({filename}): {err}");
    }
    let location = tokens[1];
    if let Some(start) = tokens[2].find(crate::template::HELM_WARN_START) {
        let rest = &tokens[2][start + crate::template::HELM_WARN_START.len()..];
        if let Some(end) = rest.rfind(crate::template::HELM_WARN_END) {
            return format!("execution error at ({location}): {}", &rest[..end]);
        }
    }
    // the TraceableError chain: "LOCATION\n  executing "NAME" at <X>:\n    MESSAGE", one per
    // wrapped template error
    let mut out: Vec<String> = Vec::new();
    let mut rest = err;
    loop {
        let Some(r) = rest.strip_prefix("template: ") else {
            return err.to_string();
        };
        if r.starts_with("no template ") {
            out.push(rest.to_string());
            break;
        }
        let Some((loc, after)) = r.split_once(": executing \"") else {
            match r.rfind(": ") {
                Some(i) => {
                    let msg = &r[i + 2..];
                    out.push(format!("{}\n  {}", &r[..i], cut_template(msg)));
                }
                None => return err.to_string(),
            }
            break;
        };
        let (Some((func, after)), true) = (after.split_once('"'), true) else {
            return err.to_string();
        };
        let Some(after) = after.strip_prefix(" at <") else {
            return err.to_string();
        };
        let Some((at, msg)) = after.split_once(">: ") else {
            return err.to_string();
        };
        let entry = format!(
            "{loc}\n  executing \"{func}\" at <{at}>:\n    {}",
            cut_template(msg)
        );
        if out.last() != Some(&entry) {
            out.push(entry);
        }
        // a wrapped error ("error calling F: …") continues the chain only if it is a
        // template error itself; otherwise Helm prints the error as it is
        if let Some(call) = msg.strip_prefix("error calling ") {
            match call.split_once(": ") {
                Some((_, inner)) if inner.starts_with("template: ") => {
                    rest = inner;
                    continue;
                }
                _ => return err.to_string(),
            }
        }
        break;
    }
    out.join("\n")
}

fn cut_template(msg: &str) -> &str {
    match msg.find(" template:") {
        Some(i) => &msg[..i],
        None => msg,
    }
}

// ---- manifests ----------------------------------------------------------------------------

/// Helm's `InstallOrder`.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// One document of a rendered file.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub path: String,
    pub content: String,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub annotations: Vec<(String, String)>,
    pub has_metadata: bool,
}

/// A hook document.
#[derive(Clone, Debug)]
pub struct Hook {
    pub path: String,
    pub manifest: String,
    pub kind: String,
    pub events: Vec<String>,
}

/// `SplitManifests`: documents separated by `(?:^|\s*\n)---\s*`, leading space trimmed.
pub fn split_manifests(big: &str) -> Vec<String> {
    let text = big.trim_start();
    let b = text.as_bytes();
    let mut docs = Vec::new();
    let mut start = 0;
    let mut i = 0;
    // at the very start
    let mut pieces: Vec<(usize, usize)> = Vec::new(); // (end of doc, start of next)
    if text.starts_with("---") {
        let mut j = 3;
        while j < b.len() && (b[j] as char).is_ascii_whitespace() {
            j += 1;
        }
        pieces.push((0, j));
        i = j;
        start = j;
    }
    while i < b.len() {
        if b[i] == b'\n' && text[i + 1..].starts_with("---") {
            // back over whitespace before the newline
            let mut s0 = i;
            while s0 > start && (b[s0 - 1] as char).is_ascii_whitespace() {
                s0 -= 1;
            }
            let mut j = i + 4;
            while j < b.len() && (b[j] as char).is_ascii_whitespace() {
                j += 1;
            }
            pieces.push((s0, j));
            start = j;
            i = j;
            continue;
        }
        i += 1;
    }
    let mut prev = 0;
    for (end, next) in pieces {
        docs.push(text[prev..end.max(prev)].to_string());
        prev = next;
    }
    docs.push(text[prev.min(text.len())..].to_string());
    docs.into_iter()
        .filter(|d| !d.trim().is_empty())
        .map(|d| d.trim_start().to_string())
        .collect()
}

fn yaml_str(y: Option<&super::yaml::Yaml>) -> String {
    use super::yaml::Yaml;
    match y {
        Some(Yaml::Str(s)) => s.clone(),
        Some(Yaml::Null) | None => String::new(),
        Some(other) => other.key_string(),
    }
}

fn yaml_get<'y>(m: &'y super::yaml::Yaml, k: &str) -> Option<&'y super::yaml::Yaml> {
    match m {
        super::yaml::Yaml::Map(e) => e
            .iter()
            .find(|(kk, _)| kk.key_string() == k)
            .map(|(_, v)| v),
        _ => None,
    }
}

/// `SortManifests(files, nil, InstallOrder)`: (hooks, manifests).
pub fn sort_manifests(
    files: &std::collections::BTreeMap<String, String>,
) -> Result<(Vec<Hook>, Vec<Manifest>), String> {
    use super::yaml::Yaml;
    let mut hooks = Vec::new();
    let mut generic = Vec::new();
    for (path, content) in files {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with('_') || content.trim().is_empty() {
            continue;
        }
        for m in split_manifests(content) {
            let head = super::yaml::parse(&m).map_err(|e| {
                format!("YAML parse error on {path}: error converting YAML to JSON: {e}")
            })?;
            let head = match head {
                Yaml::Map(_) | Yaml::Null => head,
                _ => {
                    return Err(format!(
                        "YAML parse error on {path}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type util.SimpleHead",
                        match head { Yaml::Seq(_) => "array", Yaml::Str(_) => "string", Yaml::Bool(_) => "bool", _ => "number" }
                    ))
                }
            };
            let meta = yaml_get(&head, "metadata");
            let mut annotations = Vec::new();
            if let Some(Yaml::Map(a)) = meta.and_then(|m| yaml_get(m, "annotations")) {
                for (k, v) in a {
                    match v {
                        Yaml::Str(s) => annotations.push((k.key_string(), s.clone())),
                        Yaml::Null => annotations.push((k.key_string(), String::new())),
                        other => {
                            return Err(format!(
                                "YAML parse error on {path}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field .metadata.annotations of type string",
                                match other { Yaml::Bool(_) => "bool", Yaml::Seq(_) => "array", Yaml::Map(_) => "object", _ => "number" }
                            ))
                        }
                    }
                }
            }
            let man = Manifest {
                path: path.clone(),
                content: m.clone(),
                api_version: yaml_str(yaml_get(&head, "apiVersion")),
                kind: yaml_str(yaml_get(&head, "kind")),
                name: yaml_str(meta.and_then(|m| yaml_get(m, "name"))),
                has_metadata: matches!(meta, Some(Yaml::Map(_))),
                annotations,
            };
            let hook = man
                .annotations
                .iter()
                .find(|(k, _)| k == "helm.sh/hook")
                .map(|(_, v)| v.clone());
            let Some(hook_types) = hook else {
                generic.push(man);
                continue;
            };
            let mut events = Vec::new();
            let mut unknown = false;
            for t in hook_types.split(',') {
                let t = t.trim().to_lowercase();
                let ev = match t.as_str() {
                    "pre-install" | "post-install" | "pre-delete" | "post-delete"
                    | "pre-upgrade" | "post-upgrade" | "pre-rollback" | "post-rollback"
                    | "test" => t.clone(),
                    "test-success" => "test".into(),
                    _ => {
                        unknown = true;
                        break;
                    }
                };
                events.push(ev);
            }
            if unknown {
                continue;
            }
            hooks.push(Hook {
                path: path.clone(),
                manifest: m,
                kind: man.kind.clone(),
                events,
            });
        }
    }
    let rank = |k: &str| INSTALL_ORDER.iter().position(|x| *x == k);
    let less = |a: &str, b: &str| -> std::cmp::Ordering {
        match (rank(a), rank(b)) {
            (None, None) => a.cmp(b),
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(_), None) => std::cmp::Ordering::Less,
            (Some(x), Some(y)) => x.cmp(&y),
        }
    };
    generic.sort_by(|a, b| less(&a.kind, &b.kind));
    hooks.sort_by(|a, b| less(&a.kind, &b.kind));
    Ok((hooks, generic))
}

/// gobwas/glob with `/` as separator, as `Files.Glob` uses it (`*`, `?`, `**`, `[…]`,
/// `{a,b}`).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    fn m(p: &[char], n: &[char]) -> bool {
        if p.is_empty() {
            return n.is_empty();
        }
        match p[0] {
            '*' if p.get(1) == Some(&'*') => (0..=n.len()).any(|i| m(&p[2..], &n[i..])),
            '*' => {
                for i in 0..=n.len() {
                    if m(&p[1..], &n[i..]) {
                        return true;
                    }
                    if i < n.len() && n[i] == '/' {
                        break;
                    }
                }
                false
            }
            '?' => !n.is_empty() && n[0] != '/' && m(&p[1..], &n[1..]),
            '[' => {
                let Some(end) = p.iter().position(|&c| c == ']') else {
                    return !n.is_empty() && n[0] == '[' && m(&p[1..], &n[1..]);
                };
                if n.is_empty() {
                    return false;
                }
                let mut set = &p[1..end];
                let neg = matches!(set.first(), Some('!') | Some('^'));
                if neg {
                    set = &set[1..];
                }
                let mut hit = false;
                let mut i = 0;
                while i < set.len() {
                    if i + 2 < set.len() && set[i + 1] == '-' {
                        hit |= set[i] <= n[0] && n[0] <= set[i + 2];
                        i += 3;
                    } else {
                        hit |= set[i] == n[0];
                        i += 1;
                    }
                }
                hit != neg && m(&p[end + 1..], &n[1..])
            }
            '{' => {
                let Some(end) = p.iter().position(|&c| c == '}') else {
                    return false;
                };
                let alts: String = p[1..end].iter().collect();
                alts.split(',').any(|a| {
                    let mut q: Vec<char> = a.chars().collect();
                    q.extend_from_slice(&p[end + 1..]);
                    m(&q, n)
                })
            }
            '\\' if p.len() > 1 => !n.is_empty() && n[0] == p[1] && m(&p[2..], &n[1..]),
            c => !n.is_empty() && n[0] == c && m(&p[1..], &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    m(&p, &n)
}

/// The CRD files of the chart and its (enabled) subcharts: (`CHART/crds/FILE`, text).
pub fn crd_objects(c: &RChart, full_path: &str, out: &mut Vec<(String, String)>) {
    for f in &c.files {
        if f.name.starts_with("crds/")
            && [".yaml", ".yml", ".json"]
                .iter()
                .any(|e| f.name.ends_with(e))
        {
            out.push((
                format!("{full_path}/{}", f.name),
                String::from_utf8_lossy(&f.data).into_owned(),
            ));
        }
    }
    for d in &c.deps {
        crd_objects(d, &format!("{full_path}/charts/{}", d.meta.name), out);
    }
}

/// Everything `helm template` needs from one render.
pub struct Rendered {
    pub files: std::collections::BTreeMap<String, String>,
    pub hooks: Vec<Hook>,
    pub manifests: Vec<Manifest>,
    pub crds: Vec<(String, String)>,
    pub notes: String,
}

/// The values the templates see at the top (`ToRenderValues`), after dependency
/// processing; also returns the processed chart.
pub fn render_values(
    chart: &RChart,
    user: &Map,
    rel: &ReleaseOpts,
    caps: &Caps,
    skip_schema: bool,
    warn: &mut dyn FnMut(String),
) -> Result<(RChart, Map), String> {
    let mut c = chart.clone();
    process_dependencies(&mut c, user, warn);
    let vals = values::coalesce(&c, user, false);
    if !skip_schema {
        super::schema::validate_chart(&c, &vals).map_err(|e| format!("{SCHEMA_ERR_PREFIX}{e}"))?;
    }
    let mut top = Map::new();
    top.insert(
        "Chart".into(),
        Value::Map(metadata_map(&c.meta, true).into()),
    );
    top.insert("Capabilities".into(), capabilities(caps));
    let mut r = Map::new();
    r.insert("Name".into(), s(&rel.name));
    r.insert("Namespace".into(), s(&rel.namespace));
    r.insert("IsUpgrade".into(), Value::Bool(rel.is_upgrade));
    r.insert("IsInstall".into(), Value::Bool(!rel.is_upgrade));
    r.insert("Revision".into(), Value::Int(rel.revision));
    r.insert("Service".into(), s("Helm"));
    top.insert("Release".into(), Value::Map(r.into()));
    top.insert("Values".into(), Value::Map(vals.into()));
    Ok((c, top))
}

/// How a schema failure starts (`helm template` adds no `--debug` hint to it).
pub const SCHEMA_ERR_PREFIX: &str =
    "values don't meet the specifications of the schema(s) in the following chart(s):\n";

/// Renders a chart as the install dry run does.
pub fn render_opts(
    chart: &RChart,
    user: &Map,
    rel: &ReleaseOpts,
    caps: &Caps,
    skip_schema: bool,
    warn: &mut dyn FnMut(String),
) -> Result<Rendered, String> {
    if !chart.meta.kube_version.is_empty()
        && !compatible(&chart.meta.kube_version, &caps.kube_version)
    {
        return Err(format!(
            "chart requires kubeVersion: {} which is incompatible with Kubernetes {}",
            chart.meta.kube_version, caps.kube_version
        ));
    }
    let (c, top) = render_values(chart, user, rel, caps, skip_schema, warn)?;
    let mut files = render_templates(&c, &top)?;
    let notes_key = format!("{}/templates/NOTES.txt", c.meta.name);
    let notes = files.get(&notes_key).cloned().unwrap_or_default();
    files.retain(|k, _| !k.ends_with("NOTES.txt"));
    let (hooks, manifests) = sort_manifests(&files)?;
    let mut crds = Vec::new();
    crd_objects(&c, &c.meta.name, &mut crds);
    Ok(Rendered {
        files,
        hooks,
        manifests,
        crds,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_helm() {
        let d = split_manifests("\n---\na: 1\n---\n\nb: 2\n  \n---   \nc: 3\n");
        assert_eq!(d, vec!["a: 1", "b: 2", "c: 3\n"]);
        assert_eq!(
            split_manifests("a: 1\n--- # x\nb: 2"),
            vec!["a: 1", "# x\nb: 2"]
        );
    }

    #[test]
    fn globs() {
        assert!(glob_match("files/*.txt", "files/a.txt"));
        assert!(!glob_match("files/*.txt", "files/x/a.txt"));
        assert!(glob_match("files/**.txt", "files/x/a.txt"));
        assert!(glob_match("{a,b}/*", "b/c"));
    }
}

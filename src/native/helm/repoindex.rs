//! `helm repo index DIR [--url URL] [--merge INDEX] [--json]` (pkg/cmd/repo_index.go,
//! pkg/repo/v1/index.go): every chart archive in DIR and its direct subdirectories,
//! written to DIR/index.yaml as `sigs.k8s.io/yaml` writes Helm's IndexFile (JSON field
//! names, keys sorted). `generated` and each new entry's `created` are the wall clock, or
//! `SOURCE_DATE_EPOCH` when set, so an index can be reproduced.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::args::flag;
use super::chart::{self, Metadata};
use super::yaml::{self, Yaml};
use super::{loader, parse_flags, semver, CmdResult};

/// One `ChartVersion`: the chart's metadata plus where and when.
struct Entry {
    meta: Metadata,
    /// The remaining ChartVersion fields in struct order (urls, created, removed, digest,
    /// and the deprecated ones), as JSON.
    extra: Vec<(&'static str, Value)>,
}

impl Entry {
    fn json(&self) -> Value {
        let mut o = match self.meta.to_json_value(true) {
            Value::Object(o) => o,
            _ => Map::new(),
        };
        for (k, v) in &self.extra {
            o.insert((*k).to_string(), v.clone());
        }
        Value::Object(o)
    }
}

/// Go's `path.Join`: empty elements ignored, the result cleaned, `""` when all are empty.
fn path_join(a: &str, b: &str) -> String {
    let parts: Vec<&str> = [a, b].into_iter().filter(|s| !s.is_empty()).collect();
    if parts.is_empty() {
        return String::new();
    }
    loader::go_path_clean(&parts.join("/"))
}

/// `urlutil.URLJoin`: the base URL's path joined with `rel`.
fn url_join(base: &str, rel: &str) -> String {
    match url::Url::parse(base) {
        Ok(mut u) => {
            let joined = path_join(u.path(), rel);
            u.set_path(&joined);
            u.to_string()
        }
        // a relative base (no scheme) is a path
        Err(_) => path_join(base, rel),
    }
}

/// Archives `DIR/*.tgz` then `DIR/*/*.tgz`, each group in name order (`filepath.Glob`).
fn archives(dir: &Path) -> Vec<PathBuf> {
    let tgz = |d: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".tgz"))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let mut out = tgz(dir);
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    subdirs.sort();
    let mut more: Vec<PathBuf> = subdirs.iter().flat_map(|s| tgz(s)).collect();
    more.sort();
    out.extend(more);
    out
}

fn index_directory(dir: &Path, base_url: &str, now: &str) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    let mut quiet = |_m: String| {};
    for arch in archives(dir) {
        let rel = arch.strip_prefix(dir).unwrap_or(&arch);
        let fname = rel
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let parent = rel
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent_url = url_join(base_url, &parent);
        let Ok(ch) = loader::load(&arch, &mut quiet) else {
            continue;
        };
        let data = std::fs::read(&arch)
            .map_err(|e| format!("open {}: {}", arch.display(), loader::io_msg(&e)))?;
        let digest = super::super::oci::sha256_digest(&data);
        let digest = digest.trim_start_matches("sha256:").to_string();
        let mut meta = ch.metadata;
        if meta.api_version.is_empty() {
            meta.api_version = "v1".into();
        }
        meta.validate().map_err(|e| {
            format!("failed adding to {fname} to index: validate failed for {fname}: {e}")
        })?;
        let url = if parent_url.is_empty() {
            fname.clone()
        } else {
            url_join(&parent_url, &fname)
        };
        out.push(Entry {
            meta,
            extra: vec![
                ("urls", Value::Array(vec![Value::String(url)])),
                ("created", Value::String(now.to_string())),
                ("digest", Value::String(digest)),
            ],
        });
    }
    Ok(out)
}

fn map_get<'a>(y: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    match y {
        Yaml::Map(m) => m
            .iter()
            .find(|(k, _)| k.key_string() == key)
            .map(|(_, v)| v),
        _ => None,
    }
}

fn scalar(y: &Yaml) -> String {
    match y {
        Yaml::Str(s) => s.clone(),
        Yaml::Null => String::new(),
        o => o.key_string(),
    }
}

/// `LoadIndexFile` for `--merge`: entries that do not validate are skipped.
fn load_index(path: &Path) -> Result<Vec<Entry>, String> {
    let data = std::fs::read(path)
        .map_err(|e| format!("open {}: {}", path.display(), loader::io_msg(&e)))?;
    let wrap = |m: String| format!("error loading {}: {m}", path.display());
    if data.is_empty() {
        return Err(wrap("empty index.yaml file".into()));
    }
    let text =
        String::from_utf8(data).map_err(|_| wrap("yaml: invalid leading UTF-8 octet".into()))?;
    let doc =
        yaml::parse(&text).map_err(|e| wrap(format!("error converting YAML to JSON: {e}")))?;
    let mut out = Vec::new();
    if let Some(Yaml::Map(names)) = map_get(&doc, "entries") {
        for (name, versions) in names {
            let Yaml::Seq(versions) = versions else {
                continue;
            };
            for cv in versions {
                if !matches!(cv, Yaml::Map(_)) {
                    continue;
                }
                let Ok(mut meta) = Metadata::from_yaml(yaml::emit(cv).as_bytes()) else {
                    continue;
                };
                if meta.api_version.is_empty() {
                    meta.api_version = "v1".into();
                }
                if meta.validate().is_err() {
                    super::warn(format!(
                        "skipping loading invalid entry for chart {:?} {:?} from {}",
                        name.key_string(),
                        meta.version,
                        path.display()
                    ));
                    continue;
                }
                let mut extra = Vec::new();
                let urls = match map_get(cv, "urls") {
                    Some(Yaml::Seq(u)) => u.iter().map(|x| Value::String(scalar(x))).collect(),
                    _ => Vec::new(),
                };
                extra.push(("urls", Value::Array(urls)));
                let created = map_get(cv, "created").map(scalar).unwrap_or_default();
                let created = chart::reformat_rfc3339(&created)
                    .unwrap_or_else(|| "0001-01-01T00:00:00Z".into());
                extra.push(("created", Value::String(created)));
                if matches!(map_get(cv, "removed"), Some(Yaml::Bool(true))) {
                    extra.push(("removed", Value::Bool(true)));
                }
                for (k, field) in [
                    ("digest", "digest"),
                    ("checksum", "checksum"),
                    ("engine", "engine"),
                    ("tillerVersion", "tillerVersion"),
                    ("url", "url"),
                ] {
                    let v = map_get(cv, field).map(scalar).unwrap_or_default();
                    if !v.is_empty() {
                        extra.push((k, Value::String(v)));
                    }
                }
                out.push(Entry { meta, extra });
            }
        }
    }
    if map_get(&doc, "apiVersion")
        .map(scalar)
        .unwrap_or_default()
        .is_empty()
    {
        return Err(wrap("no API version specified".into()));
    }
    Ok(out)
}

/// `IndexFile.Has`: the exact version, or one the version read as a constraint accepts.
fn has(entries: &[Entry], name: &str, version: &str) -> bool {
    let same: Vec<&Entry> = entries.iter().filter(|e| e.meta.name == name).collect();
    if same.iter().any(|e| e.meta.version == version) {
        return true;
    }
    same.iter().any(|e| {
        semver::parse_lenient(&e.meta.version)
            .ok()
            .and_then(|v| semver::satisfies(version, &v).ok())
            .unwrap_or(false)
    })
}

/// The index as JSON (Helm's struct order; entries by name, newest version first).
fn index_json(mut entries: Vec<Entry>, generated: &str) -> Value {
    let mut names: Vec<String> = entries.iter().map(|e| e.meta.name.clone()).collect();
    names.sort();
    names.dedup();
    let mut by_name = Map::new();
    for n in names {
        let mut vs: Vec<Entry> = Vec::new();
        let mut i = 0;
        while i < entries.len() {
            if entries[i].meta.name == n {
                vs.push(entries.remove(i));
            } else {
                i += 1;
            }
        }
        // sort.Reverse(ChartVersions): newest first, unparsable versions last
        vs.sort_by(|a, b| {
            let pa = semver::parse_lenient(&a.meta.version).ok();
            let pb = semver::parse_lenient(&b.meta.version).ok();
            match (pa, pb) {
                (Some(x), Some(y)) => y.cmp_precedence(&x),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        });
        by_name.insert(n, Value::Array(vs.iter().map(Entry::json).collect()));
    }
    let mut o = Map::new();
    o.insert("apiVersion".into(), Value::String("v1".into()));
    o.insert("generated".into(), Value::String(generated.into()));
    o.insert("entries".into(), Value::Object(by_name));
    Value::Object(o)
}

/// `json.MarshalIndent(v, "", "  ")`.
fn go_json_indent(v: &Value, depth: usize, out: &mut String) {
    let pad = |d: usize| "  ".repeat(d);
    match v {
        Value::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for (i, x) in a.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                go_json_indent(x, depth + 1, out);
                if i + 1 < a.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&pad(depth));
            out.push(']');
        }
        Value::Object(m) if !m.is_empty() => {
            out.push_str("{\n");
            for (i, (k, x)) in m.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                crate::native::oci::json::write_str(out, k);
                out.push_str(": ");
                go_json_indent(x, depth + 1, out);
                if i + 1 < m.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&pad(depth));
            out.push('}');
        }
        other => out.push_str(&crate::native::oci::json::to_go_json(other)),
    }
}

fn write_index(
    entries: Vec<Entry>,
    generated: &str,
    dest: &Path,
    json: bool,
) -> Result<(), String> {
    let v = index_json(entries, generated);
    let text = if json {
        let mut s = String::new();
        go_json_indent(&v, 0, &mut s);
        s
    } else {
        yaml::emit(&chart::json_to_yaml(&v))
    };
    super::save::write_atomic(dest, text.as_bytes(), 0o644)
        .map_err(|e| format!("open {}: {e}", dest.display()))
}

pub fn run(args: &[String]) -> CmdResult {
    let p = parse_flags(
        "repo index",
        args,
        &[
            flag("url", None, true),
            flag("merge", None, true),
            flag("json", None, false),
        ],
    )?;
    if p.positional.len() != 1 {
        return Err(
            "\"helm repo index\" requires 1 argument\n\nUsage:  helm repo index [DIR] [flags]"
                .into(),
        );
    }
    let dir = std::path::absolute(&p.positional[0]).map_err(|e| e.to_string())?;
    let dir = PathBuf::from(loader::go_path_clean(&dir.to_string_lossy()));
    let now = super::deps::generated_now(false)?;
    let json = p.bool("json");
    let mut entries = index_directory(&dir, &p.str("url"), &now)?;
    if let Some(merge) = p.get("merge").filter(|m| !m.is_empty()) {
        let mpath = Path::new(merge);
        let old = if !mpath.exists() {
            // Helm writes an empty index there first
            write_index(Vec::new(), &now, mpath, json)?;
            Vec::new()
        } else {
            load_index(mpath).map_err(|e| format!("merge failed: {e}"))?
        };
        for e in old {
            if !has(&entries, &e.meta.name, &e.meta.version) {
                entries.push(e);
            }
        }
    }
    write_index(entries, &now, &dir.join("index.yaml"), json)?;
    Ok(())
}

//! `helm search repo [KEYWORD…]` over the cached indexes of repositories.yaml, as Helm 4's
//! pkg/cmd/search_repo.go and pkg/cmd/search/search.go do it: every version of every chart
//! is a line `NAME\vREPO/NAME\vDESCRIPTION\vKEYWORDS`; a match scores the number of `\v`
//! before it; results sort by score, then name, then newest version; the version
//! constraint (`>0.0.0`, `>0.0.0-0` with `--devel`, or `--version`) keeps the first version
//! of each name (all of them with `--versions`). `helm search hub` needs Artifact Hub and
//! falls through.

use super::args::{flag, Parsed};
use super::deps::{map_get, yaml_str};
use super::yaml::Yaml;
use super::{parse_flags, semver, CmdError, CmdResult};

const SEP: char = '\u{b}';
const MAX_SCORE: usize = 25;

struct Hit {
    name: String,
    score: usize,
    version: String,
    app_version: String,
    description: String,
}

/// One chart version of a cached index.
struct Line {
    name: String,
    text: String,
    version: String,
    app_version: String,
    description: String,
}

pub fn run(args: &[String]) -> CmdResult {
    let Some(pos) = args.iter().position(|a| !a.starts_with('-')) else {
        return Err(CmdError::FallThrough("search".into()));
    };
    let mut rest = args.to_vec();
    if rest.remove(pos) != "repo" {
        return Err(CmdError::FallThrough("search".into()));
    }
    let p = parse_flags(
        "search repo",
        &rest,
        &[
            flag("regexp", Some('r'), false),
            flag("versions", Some('l'), false),
            flag("devel", None, false),
            flag("version", None, true),
            flag("max-col-width", None, true),
            flag("fail-on-no-result", None, false),
            flag("output", Some('o'), true),
        ],
    )?;
    let format = p.get("output").unwrap_or("table").to_string();
    if !matches!(format.as_str(), "table" | "json" | "yaml") {
        return Err(format!("invalid format type {format:?}").into());
    }
    let width: usize = match p.get("max-col-width") {
        None => 50,
        Some(w) => w.parse().map_err(|_| {
            format!("invalid argument {w:?} for \"--max-col-width\" flag: strconv.ParseUint: parsing {w:?}: invalid syntax")
        })?,
    };
    let mut version = p.str("version");
    if version.is_empty() {
        version = if p.bool("devel") {
            ">0.0.0-0"
        } else {
            ">0.0.0"
        }
        .into();
    }
    let lines = build_index(&p)?;
    let mut hits: Vec<Hit> = if p.positional.is_empty() {
        lines.into_iter().map(|l| hit(l, 0)).collect()
    } else {
        let q = p.positional.join(" ");
        search(lines, &q, p.bool("regexp"))?
    };
    hits.sort_by(|a, b| {
        a.score.cmp(&b.score).then_with(|| {
            if a.name == b.name {
                match (
                    semver::parse_lenient(&a.version),
                    semver::parse_lenient(&b.version),
                ) {
                    (Ok(x), Ok(y)) => y.cmp_precedence(&x),
                    _ => std::cmp::Ordering::Equal,
                }
            } else {
                a.name.cmp(&b.name)
            }
        })
    });
    // applyConstraint
    semver::satisfies(
        &version,
        &semver::parse_lenient("0.0.0").expect("a version"),
    )
    .map_err(|e| format!("an invalid version/constraint format: {e}"))?;
    let mut kept: Vec<Hit> = Vec::new();
    for h in hits {
        if !p.bool("versions") && kept.iter().any(|k| k.name == h.name) {
            continue;
        }
        let Ok(v) = semver::parse_lenient(&h.version) else {
            continue;
        };
        if semver::satisfies(&version, &v)? {
            kept.push(h);
        }
    }
    if kept.is_empty() && p.bool("fail-on-no-result") {
        return Err("no results found".into());
    }
    match format.as_str() {
        "table" => {
            if kept.is_empty() {
                println!("No results found");
                return Ok(());
            }
            let mut rows = vec![[
                "NAME".to_string(),
                "CHART VERSION".into(),
                "APP VERSION".into(),
                "DESCRIPTION".into(),
            ]];
            for h in &kept {
                rows.push([
                    h.name.clone(),
                    h.version.clone(),
                    h.app_version.clone(),
                    h.description.clone(),
                ]);
            }
            println!("{}", super::depcmd::table(&rows, width));
        }
        "json" => {
            // encoding/json: struct field order, HTML characters escaped
            let q = |s: &str| {
                serde_json::to_string(s)
                    .unwrap_or_default()
                    .replace('<', "\\u003c")
                    .replace('>', "\\u003e")
                    .replace('&', "\\u0026")
            };
            let items: Vec<String> = kept
                .iter()
                .map(|h| {
                    format!(
                        "{{\"name\":{},\"version\":{},\"app_version\":{},\"description\":{}}}",
                        q(&h.name),
                        q(&h.version),
                        q(&h.app_version),
                        q(&h.description)
                    )
                })
                .collect();
            println!("[{}]", items.join(","));
        }
        _ => {
            // sigs.k8s.io/yaml: through JSON, so keys sorted
            use crate::template::{Map, Value};
            let list: Vec<Value> = kept
                .iter()
                .map(|h| {
                    let mut m = Map::new();
                    m.insert("app_version".into(), Value::Str(h.app_version.clone()));
                    m.insert("description".into(), Value::Str(h.description.clone()));
                    m.insert("name".into(), Value::Str(h.name.clone()));
                    m.insert("version".into(), Value::Str(h.version.clone()));
                    Value::from(m)
                })
                .collect();
            print!("{}", super::values::to_yaml(&Value::List(list))?);
        }
    }
    Ok(())
}

fn hit(l: Line, score: usize) -> Hit {
    Hit {
        name: l.name,
        score,
        version: l.version,
        app_version: l.app_version,
        description: l.description,
    }
}

/// `calcScore`: the number of separators before the match.
fn score(index: usize, line: &str) -> usize {
    line.char_indices()
        .filter(|&(i, c)| c == SEP && i < index)
        .count()
}

fn search(lines: Vec<Line>, q: &str, re: bool) -> Result<Vec<Hit>, String> {
    let mut out = Vec::new();
    if re {
        let m = regex::Regex::new(q).map_err(|e| format!("error parsing regexp: {e}"))?;
        for l in lines {
            if let Some(f) = m.find(&l.text) {
                let s = score(f.start(), &l.text);
                if s < MAX_SCORE {
                    out.push(hit(l, s));
                }
            }
        }
    } else {
        let q = q.to_lowercase();
        for l in lines {
            let lv = l.text.to_lowercase();
            if let Some(i) = lv.find(&q) {
                let s = score(i, &lv);
                if s < MAX_SCORE {
                    out.push(hit(l, s));
                }
            }
        }
    }
    Ok(out)
}

/// `buildIndex`: every version of every chart of each repository's cached index (a missing
/// or corrupt one is Helm's warning, and skipped).
fn build_index(p: &Parsed) -> Result<Vec<Line>, CmdError> {
    let repos = super::repo::load(&super::env::repository_config(p))
        .ok()
        .flatten()
        .map(|f| f.repos)
        .unwrap_or_default();
    if repos.is_empty() {
        return Err("no repositories configured".into());
    }
    let cache = super::repo::cache_dir(p);
    let mut out: Vec<Line> = Vec::new();
    for r in &repos {
        let path = cache.join(format!("{}-index.yaml", r.name));
        let loaded = super::values::read_limited(&path, super::deps::MAX_DOWNLOAD as u64)
            .map_err(|e| format!("open {}: {e}", path.display()))
            .and_then(|b| {
                String::from_utf8(b)
                    .map_err(|_| format!("error loading {}: not UTF-8", path.display()))
            })
            .and_then(|t| {
                super::yaml::parse(&t).map_err(|e| format!("error loading {}: {e}", path.display()))
            });
        let doc = match loaded {
            Ok(d) => d,
            Err(e) => {
                eprintln!(
                    "level=WARN msg=\"repo is corrupt or missing\" repo={} error={}",
                    slog_value(&r.name),
                    slog_value(&e)
                );
                continue;
            }
        };
        let Some(Yaml::Map(entries)) = map_get(&doc, "entries") else {
            continue;
        };
        for (k, v) in entries {
            let Yaml::Seq(items) = v else { continue };
            let chart = k.key_string();
            let full = format!("{}/{chart}", r.name);
            let mut seen: Vec<String> = Vec::new();
            for cv in items {
                let s = |key: &str| map_get(cv, key).map(yaml_str).unwrap_or_default();
                let (name, version) = (s("name"), s("version"));
                // loadIndex drops entries without a name or a valid version
                if name.is_empty() || semver::parse_lenient(&version).is_err() {
                    continue;
                }
                // one line per NAME$$VERSION (a repeated version replaces the earlier one)
                if let Some(i) = seen.iter().position(|x| *x == version) {
                    out.retain(|l| !(l.name == full && l.version == seen[i]));
                }
                seen.push(version.clone());
                let keywords = match map_get(cv, "keywords") {
                    Some(Yaml::Seq(ks)) => ks.iter().map(yaml_str).collect::<Vec<_>>().join(" "),
                    _ => String::new(),
                };
                let description = s("description");
                out.push(Line {
                    text: format!(
                        "{name}{SEP}{}/{name}{SEP}{description}{SEP}{keywords}",
                        r.name
                    ),
                    name: full.clone(),
                    version,
                    app_version: s("appVersion"),
                    description,
                });
            }
        }
    }
    Ok(out)
}

/// How log/slog's text handler writes a value: bare unless it needs quoting.
fn slog_value(s: &str) -> String {
    let needs = s.is_empty()
        || s.chars().any(|c| {
            c.is_whitespace() || c == '"' || c == '=' || c.is_control() || !c.is_ascii_graphic()
        });
    if needs {
        serde_json::to_string(s).unwrap_or_default()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_counts_separators_before_the_match() {
        let l = format!("web{SEP}r/web{SEP}a web server{SEP}http nginx");
        assert_eq!(score(0, &l), 0);
        assert_eq!(score(l.find("r/").unwrap(), &l), 1);
        assert_eq!(score(l.find("a web").unwrap(), &l), 2);
        assert_eq!(score(l.find("nginx").unwrap(), &l), 3);
    }
}

//! `helm dependency list|update|build` (pkg/cmd/dependency*.go, pkg/action/dependency.go,
//! pkg/downloader/manager.go). Update and build share the resolver of `package -u`
//! ([`super::deps`]).

use std::path::{Path, PathBuf};

use super::args::flag;
use super::chart::Dependency;
use super::{loader, parse_flags, semver, CmdError, CmdResult};

pub fn run(args: &[String]) -> CmdResult {
    let Some(pos) = args.iter().position(|a| !a.starts_with('-')) else {
        print!("{}", super::help::help("dependency").unwrap_or_default());
        return Ok(());
    };
    let mut rest = args.to_vec();
    let sub = rest.remove(pos);
    match sub.as_str() {
        "list" | "ls" => list(&rest),
        "update" | "up" => update_or_build(&rest, "update"),
        "build" => update_or_build(&rest, "build"),
        other => Err(CmdError::FallThrough(format!("dependency {other}"))),
    }
}

/// `filepath.Clean` of the chart argument ("." without one).
fn chart_arg(positional: &[String], cmd: &str, usage: &str) -> Result<PathBuf, CmdError> {
    if positional.len() > 1 {
        return Err(format!(
            "\"helm dependency {cmd}\" accepts at most 1 argument\n\nUsage:  helm dependency {usage} [flags]"
        )
        .into());
    }
    let raw = positional.first().map(String::as_str).unwrap_or(".");
    Ok(PathBuf::from(loader::go_path_clean(raw)))
}

fn update_or_build(args: &[String], cmd: &str) -> CmdResult {
    let mut specs = super::registry::TLS_FLAGS.to_vec();
    specs.extend_from_slice(&[
        flag("verify", None, false),
        flag("keyring", None, true),
        flag("skip-refresh", None, false),
    ]);
    let p = parse_flags(&format!("dependency {cmd}"), args, &specs)?;
    if p.bool("verify") {
        return Err(CmdError::FallThrough(format!("dependency {cmd} --verify")));
    }
    let usage = if cmd == "update" {
        "update CHART"
    } else {
        "build CHART"
    };
    let dir = chart_arg(&p.positional, cmd, usage)?;
    let opts = super::deps::Options {
        flags: &p,
        mtime: super::package::archive_mtime(false)?,
        reproducible: false,
        verbose: true,
    };
    if cmd == "update" {
        super::deps::update(&dir, &opts)
    } else {
        super::deps::build(&dir, &opts)
    }
}

fn list(args: &[String]) -> CmdResult {
    let p = parse_flags(
        "dependency list",
        args,
        &[flag("max-col-width", None, true)],
    )?;
    let width: usize = match p.get("max-col-width") {
        None => 80,
        Some(w) => w.parse().map_err(|_| {
            format!("invalid argument {w:?} for \"--max-col-width\" flag: strconv.ParseUint: parsing {w:?}: invalid syntax")
        })?,
    };
    let dir = chart_arg(&p.positional, "list", "list CHART")?;
    let ch = loader::load(&dir, &mut super::warn)?;
    let charts = dir.join("charts");
    let Some(deps) = &ch.metadata.dependencies else {
        println!("WARNING: no dependencies at {}", charts.display());
        return Ok(());
    };
    let deps: Vec<&Dependency> = deps.iter().flatten().collect();
    let mut rows = vec![[
        "NAME".to_string(),
        "VERSION".into(),
        "REPOSITORY".into(),
        "STATUS".into(),
    ]];
    for d in &deps {
        rows.push([
            d.name.clone(),
            d.version.clone(),
            d.repository.clone(),
            status(&charts, d, &ch).to_string(),
        ]);
    }
    println!("{}", table(&rows, width));
    println!();
    // printMissing: what charts/ holds that Chart.yaml does not name
    let mut quiet = |_m: String| {};
    for (path, is_dir) in dir_entries(&charts, |_| true) {
        if !is_dir && !path.to_string_lossy().ends_with(".tgz") {
            continue;
        }
        let shown = crate::template::go_quote(&path.to_string_lossy());
        match loader::load(&path, &mut quiet) {
            Err(_) => println!("WARNING: {shown} is not a chart."),
            Ok(c) => {
                if !deps.iter().any(|d| d.name == c.name()) {
                    println!("WARNING: {shown} is not in Chart.yaml.");
                }
            }
        }
    }
    Ok(())
}

/// The entries of `dir` whose name passes `keep`, in name order (as `filepath.Glob`).
fn dir_entries(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<(PathBuf, bool)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<(PathBuf, bool)> = rd
        .flatten()
        .filter(|e| keep(&e.file_name().to_string_lossy()))
        .map(|e| {
            let p = e.path();
            let is_dir = std::fs::metadata(&p).map(|m| m.is_dir()).unwrap_or(false);
            (p, is_dir)
        })
        .collect();
    v.sort();
    v
}

/// Whether a chart's version satisfies the dependency (`None`: "invalid version").
fn version_ok(d: &Dependency, version: &str) -> Option<bool> {
    if version == d.version {
        return Some(true);
    }
    let zero = semver::parse_strict("0.0.0").ok()?;
    semver::satisfies(&d.version, &zero).ok()?;
    let v = semver::parse_lenient(version).ok()?;
    semver::satisfies(&d.version, &v).ok()
}

fn archive_status(path: &Path, d: &Dependency) -> &'static str {
    let mut quiet = |_m: String| {};
    let Ok(c) = loader::load(path, &mut quiet) else {
        return "corrupt";
    };
    if c.name() != d.name {
        return "misnamed";
    }
    match version_ok(d, &c.metadata.version) {
        None => "invalid version",
        Some(false) => "wrong version",
        Some(true) => "ok",
    }
}

/// `dependencyStatus`.
fn status(charts: &Path, d: &Dependency, parent: &loader::Chart) -> &'static str {
    let prefix = format!("{}-", d.name);
    let archives: Vec<PathBuf> =
        dir_entries(charts, |n| n.starts_with(&prefix) && n.ends_with(".tgz"))
            .into_iter()
            .map(|(p, _)| p)
            .collect();
    if archives.len() > 1 {
        let found: Vec<&PathBuf> = archives
            .iter()
            .filter(|a| {
                let stem = a.file_name().unwrap_or_default().to_string_lossy();
                let stem = stem.trim_end_matches(".tgz");
                semver::parse_strict(stem.strip_prefix(&prefix).unwrap_or(stem)).is_ok()
            })
            .collect();
        if found.len() == 1 {
            return archive_status(found[0], d);
        } else if found.len() > 1 {
            return "too many matches";
        }
    } else if archives.len() == 1 {
        return archive_status(&archives[0], d);
    }
    let Some(sub) = parent
        .dependencies
        .iter()
        .rev()
        .find(|c| c.name() == d.name)
    else {
        return "missing";
    };
    match version_ok(d, &sub.metadata.version) {
        None => "invalid version",
        Some(false) => "wrong version",
        Some(true) => "unpacked",
    }
}

/// gosuri/uitable: cells padded to the column width (at most `max`, longer cells cut with
/// `...`), columns joined by a tab, rows by a newline.
pub(crate) fn table(rows: &[[String; 4]], max: usize) -> String {
    let mut widths = [0usize; 4];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            let w = c.chars().count();
            let w = if max != 0 { w.min(max) } else { w };
            widths[i] = widths[i].max(w);
        }
    }
    let cell = |s: &str, n: usize| -> String {
        let len = s.chars().count();
        if n == 0 || len == n {
            return s.to_string();
        }
        if len < n {
            return format!("{s}{}", " ".repeat(n - len));
        }
        let mut out = String::new();
        for (w, c) in s.chars().enumerate() {
            out.push(c);
            if w + 1 >= n.saturating_sub(3) {
                break;
            }
        }
        out + "..."
    };
    rows.iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, c)| cell(c, widths[i]))
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

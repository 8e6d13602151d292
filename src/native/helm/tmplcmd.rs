//! `helm template [NAME] CHART`: Helm 4's `install --dry-run=client --replace`, printed as
//! `pkg/cmd/template.go` prints it.

use std::path::{Path, PathBuf};

use crate::template::Map;

use super::args::{flag, FlagSpec, Parsed};
use super::render::{self, Caps, RChart, ReleaseOpts};
use super::values::{self, SetKind};
use super::{parse_flags, CmdError, CmdResult};

/// The values flags (`pkg/cli/values.Options`) shared by `template` and `lint`.
pub const VALUE_FLAGS: &[FlagSpec] = &[
    flag("values", Some('f'), true),
    flag("set", None, true),
    flag("set-string", None, true),
    flag("set-file", None, true),
    flag("set-json", None, true),
    flag("set-literal", None, true),
];

const FLAGS: &[FlagSpec] = &[
    flag("show-only", Some('s'), true),
    flag("output-dir", None, true),
    flag("include-crds", None, false),
    flag("skip-crds", None, false),
    flag("skip-tests", None, false),
    flag("no-hooks", None, false),
    flag("is-upgrade", None, false),
    flag("kube-version", None, true),
    flag("api-versions", Some('a'), true),
    flag("release-name", None, false),
    flag("skip-schema-validation", None, false),
    flag("dry-run", None, true),
    flag("create-namespace", None, false),
    flag("description", None, true),
    flag("replace", None, false),
    flag("disable-openapi-validation", None, false),
    flag("hide-notes", None, false),
    // Install's flags that `helm template` accepts and that change nothing in what it
    // renders (they drive a cluster): accepted, as Helm accepts them.
    flag("hide-secret", None, false),
    flag("force-replace", None, false),
    flag("force", None, false),
    flag("force-conflicts", None, false),
    flag("server-side", None, false),
    flag("timeout", None, true),
    flag("wait", None, false),
    flag("wait-for-jobs", None, false),
    flag("rollback-on-failure", None, false),
    flag("atomic", None, false),
    flag("render-subchart-notes", None, false),
    flag("labels", Some('l'), true),
    flag("take-ownership", None, false),
    flag("validate", None, false),
    flag("enable-dns", None, false),
    flag("generate-name", Some('g'), false),
    flag("name-template", None, true),
    flag("dependency-update", None, false),
    flag("post-renderer", None, true),
    flag("post-renderer-args", None, true),
];

/// `values.Options.MergeValues`: files, then `--set-json`, `--set`, `--set-string`,
/// `--set-file`, `--set-literal`.
pub fn user_values(p: &Parsed) -> Result<Map, String> {
    let mut base = Map::new();
    for f in p.all("values") {
        let data = values::read_limited(Path::new(&f), super::loader::MAX_FILE_SIZE)
            .map_err(|e| format!("open {f}: {e}"))?;
        let m = values::parse_yaml_map(&String::from_utf8_lossy(&data))
            .map_err(|e| format!("failed to parse {f}: {e}"))?;
        values::merge_maps(&mut base, m);
    }
    for (flag, kind, what) in [
        ("set-json", SetKind::Json, "--set-json"),
        ("set", SetKind::Typed, "--set"),
        ("set-string", SetKind::String, "--set-string"),
        ("set-file", SetKind::File, "--set-file"),
        ("set-literal", SetKind::String, "--set-literal"),
    ] {
        for v in p.all(flag) {
            let mut m = Map::new();
            if flag == "set-literal" {
                match v.split_once('=') {
                    Some((k, val)) => {
                        values::parse_set(&format!("{}=x", k), SetKind::String, &mut m)
                            .map_err(|e| format!("failed parsing {what} data: {e}"))?;
                        set_leaf(&mut m, val);
                    }
                    None => {
                        return Err(format!(
                            "failed parsing {what} data: key {v:?} has no value"
                        ))
                    }
                }
            } else {
                values::parse_set(&v, kind, &mut m)
                    .map_err(|e| format!("failed parsing {what} data: {e}"))?;
            }
            values::merge_maps(&mut base, m);
        }
    }
    Ok(base)
}

fn set_leaf(m: &mut Map, val: &str) {
    for v in m.values_mut() {
        match v {
            crate::template::Value::Map(sub) => set_leaf(sub, val),
            other => *other = crate::template::Value::Str(val.to_string()),
        }
    }
}

/// `chartutil.ValidateReleaseName`.
pub fn validate_release_name(name: &str) -> Result<(), String> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.is_empty() || name.len() > 53 || !name.split('.').all(label_ok) {
        return Err(format!("release name {name:?}: invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53"));
    }
    Ok(())
}

/// `Install.NameAndChart` as `helm template` drives it (its ReleaseName is preset to
/// `release-name`, so `--generate-name` alone changes nothing; `--name-template` wins).
fn name_and_chart(p: &Parsed) -> Result<(String, String), CmdError> {
    let tpl = p.str("name-template");
    match p.positional.len() {
        0 => Err("\"helm template\" requires at least 1 argument\n\nUsage:  helm template [NAME] [CHART] [flags]".into()),
        1 if !tpl.is_empty() => {
            let t = crate::template::Template::parse_named("name-template", &tpl)
                .map_err(|e| e.to_string())?;
            let name = t.execute(&Map::new()).map_err(|e| e.to_string())?;
            Ok((name, p.positional[0].clone()))
        }
        1 => Ok(("release-name".to_string(), p.positional[0].clone())),
        2 => {
            if p.bool("generate-name") {
                return Err("cannot set --generate-name and also specify a name".into());
            }
            if !tpl.is_empty() {
                return Err("cannot set --name-template and also specify a name".into());
            }
            Ok((p.positional[0].clone(), p.positional[1].clone()))
        }
        _ => Err(format!("expected at most two arguments, unexpected arguments: {}", p.positional[2..].join(", ")).into()),
    }
}

/// `action.CheckDependencies` fails: a dependency of Chart.yaml is not in charts/.
fn missing_dependencies(ch: &super::loader::Chart) -> bool {
    let Some(reqs) = &ch.metadata.dependencies else {
        return false;
    };
    reqs.iter()
        .flatten()
        .any(|r| !ch.dependencies.iter().any(|d| d.metadata.name == r.name))
}

/// `LocateChart` for a chart of a chart repository (`--repo`, `REPO/CHART`, an archive
/// URL): its archive; `None` for a local path.
fn remote_chart(p: &Parsed, arg: &str) -> Result<Option<Vec<u8>>, CmdError> {
    let local = p.get("repo").is_none_or(str::is_empty)
        && (Path::new(arg).exists() || Path::new(arg).is_absolute() || arg.starts_with('.'));
    if local {
        return Ok(None);
    }
    super::chartrepo::locate(p, arg).map(Some)
}

/// Resolves the CHART argument to a local path, as `LocateChart` does for local charts.
pub fn locate_chart(arg: &str) -> Result<PathBuf, CmdError> {
    let p = PathBuf::from(arg);
    if p.exists() {
        return Ok(p);
    }
    if p.is_absolute() || arg.starts_with('.') {
        return Err(CmdError::Fail(format!("path {arg:?} not found")));
    }
    Err(CmdError::FallThrough("template".into()))
}

/// Capabilities from `--kube-version` and `--api-versions`.
pub fn caps_from(p: &Parsed) -> Result<Caps, String> {
    let mut caps = Caps::default();
    if let Some(kv) = p.get("kube-version").filter(|s| !s.is_empty()) {
        let (v, maj, min) = render::parse_kube_version(kv)
            .map_err(|e| format!("invalid kube version '{kv}': {e}"))?;
        caps.kube_version = v;
        caps.kube_major = maj;
        caps.kube_minor = min;
    }
    for a in p.all("api-versions") {
        caps.api_versions
            .extend(a.split(',').filter(|s| !s.is_empty()).map(String::from));
    }
    Ok(caps)
}

/// Checks run before rendering (`runInstall`): installable type, dependencies present.
pub fn check_chart(c: &RChart) -> Result<(), String> {
    if !(c.meta.type_.is_empty() || c.meta.type_ == "application") {
        return Err(format!("{} charts are not installable", c.meta.type_));
    }
    if let Some(reqs) = &c.meta.dependencies {
        let missing: Vec<String> = reqs
            .iter()
            .flatten()
            .filter(|r| !c.deps.iter().any(|d| d.meta.name == r.name))
            .map(|r| r.name.clone())
            .collect();
        if !missing.is_empty() {
            return Err(format!("an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: {}", missing.join(", ")));
        }
    }
    Ok(())
}

/// Go's `filepath.Match` (`*` and `?` stop at `/`).
fn path_match(pattern: &str, name: &str) -> bool {
    render::glob_match(&pattern.replace("**", "*"), name)
}

fn write_to_file(
    dir: &Path,
    name: &str,
    data: &str,
    append: bool,
    out: &mut String,
) -> Result<(), String> {
    let file = dir.join(name);
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("mkdir {}: {}", parent.display(), super::loader::io_msg(&e)))?;
    }
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .append(append)
        .truncate(!append)
        .open(&file)
        .map_err(|e| format!("open {}: {}", file.display(), super::loader::io_msg(&e)))?;
    write!(f, "---\n# Source: {name}\n{data}\n").map_err(|e| e.to_string())?;
    out.push_str(&format!("wrote {}\n", file.display()));
    Ok(())
}

pub fn run(args: &[String]) -> CmdResult {
    let mut specs: Vec<FlagSpec> = FLAGS.to_vec();
    specs.extend_from_slice(VALUE_FLAGS);
    specs.extend_from_slice(super::registry::TLS_FLAGS);
    specs.extend_from_slice(super::registry::CHART_PATH_FLAGS);
    let p = parse_flags("template", args, &specs)?;
    if (p.has("dry-run") && p.get("dry-run") == Some("server")) || p.bool("validate") {
        return Err(CmdError::FallThrough("template".into()));
    }
    // A post-renderer is a Helm 4 plugin.
    if p.get("post-renderer").is_some_and(|v| !v.is_empty()) {
        return Err(CmdError::FallThrough("template --post-renderer".into()));
    }
    let (name, chart_arg) = name_and_chart(&p)?;
    validate_release_name(&name)?;
    let caps = caps_from(&p)?;
    // runInstall's order: LocateChart (path check or download), MergeValues, loader.Load.
    enum Located {
        Local(PathBuf),
        Archive(Vec<u8>),
    }
    let located = if chart_arg.starts_with("oci://") {
        let mut version = p.str("version");
        if version.is_empty() && p.bool("devel") {
            version = ">0.0.0-0".into();
        }
        let pulled = super::registry::fetch_chart(
            || super::registry::client_from(&p, "insecure-skip-tls-verify"),
            &chart_arg,
            &version,
            false,
        )?;
        Located::Archive(pulled.chart)
    } else if let Some(data) = remote_chart(&p, &chart_arg)? {
        Located::Archive(data)
    } else {
        let path = locate_chart(&chart_arg)?;
        if p.bool("verify") {
            return Err(CmdError::FallThrough("template --verify".into()));
        }
        Located::Local(path)
    };
    let user = user_values(&p)?;
    let mut warn = |m: String| super::warn(m);
    let chart = match located {
        Located::Archive(data) => super::loader::load_archive(&data, &mut warn)?,
        Located::Local(path) => {
            let ch = super::loader::load(&path, &mut warn)?;
            if p.bool("dependency-update") && path.is_dir() && missing_dependencies(&ch) {
                // runInstall: a chart missing dependencies is updated, then read again
                let opts = super::deps::Options {
                    flags: &p,
                    mtime: super::package::archive_mtime(false)?,
                    reproducible: false,
                    verbose: true,
                };
                super::deps::update(&path, &opts)?;
                super::loader::load(&path, &mut warn)
                    .map_err(|e| format!("failed reloading chart after repo update: {e}"))?
            } else {
                ch
            }
        }
    };
    let rc = RChart::from_chart(&chart)?;
    check_chart(&rc)?;
    let namespace = p
        .get("namespace")
        .map(String::from)
        .or_else(|| {
            std::env::var("HELM_NAMESPACE")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "default".into());
    let rel = ReleaseOpts {
        name: name.clone(),
        namespace,
        revision: 1,
        is_upgrade: p.bool("is-upgrade"),
    };
    let skip_schema = p.bool("skip-schema-validation");
    let r = render::render_opts(&rc, &user, &rel, &caps, skip_schema, &mut warn).map_err(|e| {
        if e.starts_with(render::SCHEMA_ERR_PREFIX) {
            e
        } else {
            format!("{e}\n\nUse --debug flag to render out invalid YAML")
        }
    })?;
    let output_dir = p
        .get("output-dir")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    let use_rel_name = p.bool("release-name");
    let mut printed = String::new();
    // the release manifest (renderResources)
    let mut b = String::new();
    let mut written = std::collections::HashSet::new();
    let man_dir = output_dir.as_ref().map(|d| {
        if use_rel_name {
            d.join(&name)
        } else {
            d.clone()
        }
    });
    if p.bool("include-crds") && !p.bool("skip-crds") {
        for (n, data) in &r.crds {
            match &output_dir {
                None => b.push_str(&format!("---\n# Source: {n}\n{data}\n")),
                Some(d) => {
                    write_to_file(d, n, data, written.contains(n), &mut printed)?;
                    written.insert(n.clone());
                }
            }
        }
    }
    for m in &r.manifests {
        match &man_dir {
            None => b.push_str(&format!("---\n# Source: {}\n{}\n", m.path, m.content)),
            Some(d) => {
                write_to_file(
                    d,
                    &m.path,
                    &m.content,
                    written.contains(&m.path),
                    &mut printed,
                )?;
                written.insert(m.path.clone());
            }
        }
    }
    let mut manifests = format!("{}\n", b.trim());
    if !p.bool("no-hooks") {
        let mut hook_written = std::collections::HashSet::new();
        for h in &r.hooks {
            if p.bool("skip-tests") && h.events.iter().any(|e| e == "test") {
                continue;
            }
            match &man_dir {
                None => manifests.push_str(&format!("---\n# Source: {}\n{}\n", h.path, h.manifest)),
                Some(d) => {
                    let append = hook_written.contains(&h.path) || d.join(&h.path).exists();
                    write_to_file(d, &h.path, &h.manifest, append, &mut printed)?;
                    hook_written.insert(h.path.clone());
                }
            }
        }
    }
    let show = p.all("show-only");
    if !show.is_empty() {
        let docs = render::split_manifests(&manifests);
        let mut chosen = Vec::new();
        for f in &show {
            let f = f.replace('\\', "/");
            let mut missing = true;
            for d in &docs {
                let Some(rest) = d.strip_prefix("# Source: ") else {
                    continue;
                };
                let first_line = rest.lines().next().unwrap_or("");
                let Some((_, path)) = first_line.split_once('/') else {
                    continue;
                };
                if !path_match(&f, path) {
                    continue;
                }
                chosen.push(d.clone());
                missing = false;
            }
            if missing {
                print!("{printed}");
                return Err(format!("could not find template {f} in chart").into());
            }
        }
        for d in chosen {
            printed.push_str(&format!("---\n{d}\n"));
        }
    } else {
        printed.push_str(&manifests);
    }
    print!("{printed}");
    Ok(())
}

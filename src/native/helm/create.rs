//! `helm create NAME`: Helm 4.2.3's starter chart (pkg/chart/v2/util/create.go), byte for
//! byte. The files under `starter/` are what Helm writes, with the chart name replaced by
//! `<CHARTNAME>` (Helm's own placeholder for the templates; Chart.yaml and values.yaml
//! take the name at the same places).

use std::path::{Path, PathBuf};

use super::args::flag;
use super::{parse_flags, CmdError, CmdResult};

/// (path in the chart, content) in the order Helm writes them.
const FILES: &[(&str, &str)] = &[
    ("Chart.yaml", include_str!("starter/Chart.yaml")),
    ("values.yaml", include_str!("starter/values.yaml")),
    (".helmignore", include_str!("starter/helmignore")),
    (
        "templates/ingress.yaml",
        include_str!("starter/templates/ingress.yaml"),
    ),
    (
        "templates/httproute.yaml",
        include_str!("starter/templates/httproute.yaml"),
    ),
    (
        "templates/deployment.yaml",
        include_str!("starter/templates/deployment.yaml"),
    ),
    (
        "templates/service.yaml",
        include_str!("starter/templates/service.yaml"),
    ),
    (
        "templates/serviceaccount.yaml",
        include_str!("starter/templates/serviceaccount.yaml"),
    ),
    (
        "templates/hpa.yaml",
        include_str!("starter/templates/hpa.yaml"),
    ),
    (
        "templates/NOTES.txt",
        include_str!("starter/templates/NOTES.txt"),
    ),
    (
        "templates/_helpers.tpl",
        include_str!("starter/templates/_helpers.tpl"),
    ),
    (
        "templates/tests/test-connection.yaml",
        include_str!("starter/templates/tests/test-connection.yaml"),
    ),
];

const MAX_NAME: usize = 250;

/// Helm's chart-name rule (`^[a-zA-Z0-9._-]+$`, at most 250 characters).
fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(format!(
            "chart name must be between 1 and {MAX_NAME} characters"
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return Err(
            "chart name must match the regular expression \"^[a-zA-Z0-9._-]+$\"".to_string(),
        );
    }
    Ok(())
}

/// Go's `filepath.Abs` (lexically cleaned, relative to the working directory).
fn abs(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::from("/");
    for c in joined.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

/// The files of the starter chart for `name`.
pub fn starter_files(name: &str) -> Vec<(&'static str, String)> {
    FILES
        .iter()
        .map(|(p, c)| (*p, c.replace("<CHARTNAME>", name)))
        .collect()
}

/// `chartutil.CreateFrom`: the starter chart (`$HELM_DATA_HOME/starters/NAME`, or an
/// absolute path) with Helm's new Chart.yaml in place of its own and `<CHARTNAME>` replaced
/// in its templates and values.yaml, saved as `SaveDir` saves a chart (subcharts as
/// archives in charts/).
/// Helm's refusal to create a chart where a file of that name is.
fn not_a_file(dir: &Path) -> Result<(), String> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => Err(format!(
            "file {} already exists and is not a directory",
            dir.display()
        )),
        _ => Ok(()),
    }
}

fn create_from(name: &str, dest: &Path, starter: &str) -> CmdResult {
    let src = if Path::new(starter).is_absolute() {
        PathBuf::from(starter)
    } else {
        super::env::data_home().join("starters").join(starter)
    };
    let mut ch = super::loader::load(&src, &mut super::warn)
        .map_err(|e| format!("could not load {}: {e}", src.display()))?;
    ch.metadata = super::chart::Metadata {
        name: name.to_string(),
        description: "A Helm chart for Kubernetes".into(),
        type_: "application".into(),
        version: "0.1.0".into(),
        app_version: "0.1.0".into(),
        api_version: "v2".into(),
        ..Default::default()
    };
    let transform = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .replace("<CHARTNAME>", name)
            .into_bytes()
    };
    for t in &mut ch.templates {
        t.data = transform(&t.data);
    }
    if let Some(v) = &mut ch.values {
        *v = transform(v);
        super::values::parse_yaml_map(&String::from_utf8_lossy(v))
            .map_err(|e| format!("transforming values file: {e}"))?;
    }
    validate_name(name)?;
    let outdir = dest.join(name);
    not_a_file(&outdir)?;
    let write = |rel: &str, data: &[u8]| -> Result<(), String> {
        let f = outdir.join(rel);
        if let Some(parent) = f.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("mkdir {}: {}", parent.display(), crate::shell::go_err(&e)))?;
        }
        super::save::write_atomic(&f, data, 0o644)
            .map_err(|e| format!("open {}: {}", f.display(), crate::shell::go_err(&e)))
    };
    write("Chart.yaml", ch.metadata.to_chart_yaml(true).as_bytes())?;
    if let Some(v) = &ch.values {
        write("values.yaml", v)?;
    }
    if let Some(s) = &ch.schema {
        write("values.schema.json", s)?;
    }
    for f in ch.templates.iter().chain(ch.files.iter()) {
        write(&f.name, &f.data)?;
    }
    for dep in &ch.dependencies {
        let data =
            super::save::archive(dep, None).map_err(|e| format!("saving {}: {e}", dep.name()))?;
        write(
            &format!("charts/{}-{}.tgz", dep.name(), dep.metadata.version),
            &data,
        )?;
    }
    Ok(())
}

pub fn run(args: &[String]) -> CmdResult {
    let p = parse_flags(
        "create",
        args,
        &[
            flag("starter", Some('p'), true),
            flag("chart-api-version", None, true),
        ],
    )?;
    match p.get("chart-api-version") {
        None | Some("v2") | Some("") => {}
        Some("v3") => {
            return Err(CmdError::FallThrough(
                "create --chart-api-version v3".into(),
            ))
        }
        Some(o) => {
            return Err(format!("unsupported chart API version: {o} (supported: v2, v3)").into())
        }
    }
    if p.positional.len() != 1 {
        return Err(
            "\"helm create\" requires 1 argument\n\nUsage:  helm create NAME [flags]".into(),
        );
    }
    let arg = &p.positional[0];
    println!("Creating {arg}");
    // filepath.Base / filepath.Dir of the argument
    let trimmed = arg.trim_end_matches('/');
    let (dir, name) = match trimmed.rfind('/') {
        Some(i) => (if i == 0 { "/" } else { &trimmed[..i] }, &trimmed[i + 1..]),
        None => (".", trimmed),
    };
    let name = if name.is_empty() { "/" } else { name };
    if let Some(starter) = p.get("starter").filter(|s| !s.is_empty()) {
        return create_from(name, Path::new(dir), starter);
    }
    validate_name(name)?;
    let path = abs(Path::new(dir));
    match std::fs::metadata(&path) {
        Err(e) => {
            return Err(format!("stat {}: {}", path.display(), crate::shell::go_err(&e)).into())
        }
        Ok(m) if !m.is_dir() => return Err(format!("no such directory {}", path.display()).into()),
        Ok(_) => {}
    }
    let cdir = path.join(name);
    not_a_file(&cdir)?;
    for (rel, content) in starter_files(name) {
        let file = cdir.join(rel);
        if file.exists() {
            // Helm points its warning stream at the command's output
            println!(
                "WARNING: File {} already exists. Overwriting.",
                crate::template::go_quote(&file.display().to_string())
            );
        }
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("mkdir {}: {}", parent.display(), crate::shell::go_err(&e)))?;
        }
        std::fs::write(&file, content)
            .map_err(|e| format!("open {}: {}", file.display(), crate::shell::go_err(&e)))?;
    }
    let charts = cdir.join("charts");
    std::fs::create_dir_all(&charts)
        .map_err(|e| format!("mkdir {}: {}", charts.display(), crate::shell::go_err(&e)))?;
    Ok(())
}

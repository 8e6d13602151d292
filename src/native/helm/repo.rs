//! `helm repo add|list|remove|update` over repositories.yaml (pkg/cmd/repo_*.go,
//! pkg/repo/v1/repo.go, chartrepo.go), and the lookup `dependency build` does in it.
//! Repositories that need credentials or client TLS are handed to a real helm: the
//! entries are written and read here, but downloads with them are not made natively.

use std::path::{Path, PathBuf};

use super::args::{flag, Parsed};
use super::yaml::Yaml;
use super::{parse_flags, CmdError, CmdResult};
use crate::template::{Map, Value};

/// One repositories.yaml entry (`repo.Entry`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Entry {
    pub name: String,
    pub url: String,
    pub username: String,
    pub password: String,
    pub cert_file: String,
    pub key_file: String,
    pub ca_file: String,
    pub insecure_skip_tls_verify: bool,
    pub pass_credentials_all: bool,
}

/// repositories.yaml (`repo.File`): `apiVersion` and `generated` are kept as read (a file
/// Helm starts from nothing has `""` and Go's zero time).
#[derive(Debug)]
pub struct RepoFile {
    pub api_version: String,
    pub generated: String,
    pub repos: Vec<Entry>,
}

/// Larger than any real repositories.yaml.
const MAX_REPO_FILE: u64 = 16 << 20;

use super::deps::{map_get as yget, yaml_str as ystr};

/// `repo.LoadFile`; a missing file is an empty one (`Ok(None)` tells it apart).
pub fn load(path: &Path) -> Result<Option<RepoFile>, String> {
    let text = match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "couldn't load repositories file ({}): {e}",
                path.display()
            ))
        }
        Ok(m) if m.len() > MAX_REPO_FILE => {
            return Err(format!(
                "{}: larger than {MAX_REPO_FILE} bytes",
                path.display()
            ))
        }
        Ok(_) => std::fs::read_to_string(path)
            .map_err(|e| format!("couldn't load repositories file ({}): {e}", path.display()))?,
    };
    let doc =
        super::yaml::parse(&text).map_err(|e| format!("error converting YAML to JSON: {e}"))?;
    let mut f = RepoFile {
        api_version: yget(&doc, "apiVersion").map(ystr).unwrap_or_default(),
        generated: yget(&doc, "generated")
            .map(ystr)
            .unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
        repos: vec![],
    };
    if let Some(Yaml::Seq(items)) = yget(&doc, "repositories") {
        for it in items {
            if matches!(it, Yaml::Null) {
                continue;
            }
            let s = |k: &str| yget(it, k).map(ystr).unwrap_or_default();
            let b = |k: &str| matches!(yget(it, k), Some(Yaml::Bool(true)));
            f.repos.push(Entry {
                name: s("name"),
                url: s("url"),
                username: s("username"),
                password: s("password"),
                cert_file: s("certFile"),
                key_file: s("keyFile"),
                ca_file: s("caFile"),
                insecure_skip_tls_verify: b("insecure_skip_tls_verify"),
                pass_credentials_all: b("pass_credentials_all"),
            });
        }
    }
    Ok(Some(f))
}

/// `File.WriteFile(path, 0600)`: sigs.k8s.io/yaml's rendering (keys sorted), written to a
/// temporary file beside it and renamed, so a failure leaves the old file whole.
pub fn write(path: &Path, f: &RepoFile) -> Result<(), String> {
    let s = |v: &str| Value::Str(v.to_string());
    let mut top = Map::new();
    top.insert("apiVersion".into(), s(&f.api_version));
    top.insert("generated".into(), s(&f.generated));
    let list = f
        .repos
        .iter()
        .map(|e| {
            let mut m = Map::new();
            m.insert("caFile".into(), s(&e.ca_file));
            m.insert("certFile".into(), s(&e.cert_file));
            m.insert(
                "insecure_skip_tls_verify".into(),
                Value::Bool(e.insecure_skip_tls_verify),
            );
            m.insert("keyFile".into(), s(&e.key_file));
            m.insert("name".into(), s(&e.name));
            m.insert(
                "pass_credentials_all".into(),
                Value::Bool(e.pass_credentials_all),
            );
            m.insert("password".into(), s(&e.password));
            m.insert("url".into(), s(&e.url));
            m.insert("username".into(), s(&e.username));
            Value::from(m)
        })
        .collect();
    top.insert("repositories".into(), Value::List(list));
    let text = super::values::to_yaml(&Value::from(top))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    write_atomic(path, text.as_bytes(), 0o600)
}

/// The helm writer's temp-file-and-rename, its error naming the file.
fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<(), String> {
    super::save::write_atomic(path, data, mode).map_err(|e| format!("{}: {e}", path.display()))
}

/// `--repository-cache`, `$HELM_REPOSITORY_CACHE`, or the cache home's `repository`.
pub fn cache_dir(p: &Parsed) -> PathBuf {
    if let Some(v) = p.get("repository-cache") {
        return PathBuf::from(v);
    }
    std::env::var_os("HELM_REPOSITORY_CACHE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| super::env::cache_home().join("repository"))
}

/// `urlutil.Equal`: the same URL but for a trailing slash of the path.
pub fn url_equal(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// `ChartRepository.DownloadIndexFile`: fetches `URL/index.yaml`, checks it is an index,
/// and writes `NAME-index.yaml` and `NAME-charts.txt` into the cache.
pub fn download_index(e: &Entry, cache: &Path) -> Result<String, String> {
    let url = format!("{}/index.yaml", e.url.trim_end_matches('/'));
    let data = super::deps::fetch_with(&super::deps::HttpOpts::from_entry(e), &url)?;
    let text =
        String::from_utf8(data.clone()).map_err(|_| "index.yaml is not UTF-8".to_string())?;
    let doc = super::yaml::parse(&text).map_err(|e| format!("error unmarshaling JSON: {e}"))?;
    if yget(&doc, "apiVersion")
        .map(ystr)
        .unwrap_or_default()
        .is_empty()
    {
        return Err("no API version specified".into());
    }
    let mut names: Vec<String> = match yget(&doc, "entries") {
        Some(Yaml::Map(m)) => m.iter().map(|(k, _)| k.key_string()).collect(),
        _ => vec![],
    };
    names.sort();
    let charts: String = names.iter().map(|n| format!("{n}\n")).collect();
    std::fs::create_dir_all(cache).map_err(|err| err.to_string())?;
    write_atomic(
        &cache.join(format!("{}-charts.txt", e.name)),
        charts.as_bytes(),
        0o644,
    )?;
    let idx = cache.join(format!("{}-index.yaml", e.name));
    write_atomic(&idx, &data, 0o644)?;
    Ok(text)
}

pub fn run(args: &[String]) -> CmdResult {
    let Some(pos) = args.iter().position(|a| !a.starts_with('-')) else {
        return Err(CmdError::FallThrough("repo".into()));
    };
    let mut rest = args.to_vec();
    let sub = rest.remove(pos);
    match sub.as_str() {
        "index" => super::repoindex::run(&rest),
        "add" => add(&rest),
        "list" | "ls" => list(&rest),
        "remove" | "rm" => remove(&rest),
        "update" | "up" => update(&rest),
        other => Err(CmdError::FallThrough(format!("repo {other}"))),
    }
}

fn add(args: &[String]) -> CmdResult {
    let p = parse_flags(
        "repo add",
        args,
        &[
            flag("force-update", None, false),
            flag("allow-deprecated-repos", None, false),
            flag("no-update", None, false),
            flag("pass-credentials", None, false),
            flag("timeout", None, true),
            flag("username", None, true),
            flag("password", None, true),
            flag("password-stdin", None, false),
            flag("ca-file", None, true),
            flag("cert-file", None, true),
            flag("key-file", None, true),
            flag("insecure-skip-tls-verify", None, false),
        ],
    )?;
    if p.positional.len() != 2 {
        return Err(format!(
            "\"helm repo add\" requires 2 arguments\n\nUsage:  helm repo add [NAME] [URL] [flags]"
        )
        .into());
    }
    let (name, url) = (p.positional[0].clone(), p.positional[1].clone());
    // repo_add.go's deprecatedRepos
    if !p.bool("allow-deprecated-repos") {
        for (old, new) in [
            (
                "//kubernetes-charts.storage.googleapis.com",
                "https://charts.helm.sh/stable",
            ),
            (
                "//kubernetes-charts-incubator.storage.googleapis.com",
                "https://charts.helm.sh/incubator",
            ),
        ] {
            if url.contains(old) {
                return Err(
                    format!("repo {url:?} is no longer available; try {new:?} instead").into(),
                );
            }
        }
    }
    let file_path = super::env::repository_config(&p);
    let mut f = load(&file_path)?.unwrap_or(RepoFile {
        api_version: String::new(),
        generated: "0001-01-01T00:00:00Z".into(),
        repos: vec![],
    });
    let username = p.str("username");
    let mut password = p.str("password");
    if !username.is_empty() && password.is_empty() {
        password = read_password(p.bool("password-stdin"))?;
    }
    let e = Entry {
        name: name.clone(),
        url: url.clone(),
        username,
        password,
        pass_credentials_all: p.bool("pass-credentials"),
        cert_file: p.str("cert-file"),
        key_file: p.str("key-file"),
        ca_file: p.str("ca-file"),
        insecure_skip_tls_verify: p.bool("insecure-skip-tls-verify"),
    };
    if name.contains('/') {
        return Err(format!(
            "repository name ({name}) contains '/', please specify a different name without '/'"
        )
        .into());
    }
    if !p.bool("force-update") {
        if let Some(old) = f.repos.iter().find(|r| r.name == name) {
            if *old != e {
                return Err(format!(
                    "repository name ({name}) already exists, please specify a different name"
                )
                .into());
            }
            println!("{name:?} already exists with the same configuration, skipping");
            return Ok(());
        }
    }
    download_index(&e, &cache_dir(&p)).map_err(|err| {
        format!("looks like {url:?} is not a valid chart repository or cannot be reached: {err}")
    })?;
    match f.repos.iter_mut().find(|r| r.name == name) {
        Some(r) => *r = e,
        None => f.repos.push(e),
    }
    write(&file_path, &f)?;
    println!("{name:?} has been added to your repositories");
    Ok(())
}

/// `repo add --username U` without a password: the whole of stdin (one trailing newline
/// removed) with `--password-stdin`, else a prompt on the terminal without echo, as Helm's
/// term.ReadPassword (which fails when stdin is no terminal).
fn read_password(from_stdin: bool) -> Result<String, String> {
    use std::io::Read;
    if from_stdin {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(1 << 20)
            .read_to_end(&mut buf)
            .map_err(|e| e.to_string())?;
        let s = String::from_utf8_lossy(&buf).into_owned();
        let s = s.strip_suffix('\n').unwrap_or(&s);
        return Ok(s.strip_suffix('\r').unwrap_or(s).to_string());
    }
    print!("Password: ");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let r = read_password_tty();
    println!();
    r
}

#[cfg(unix)]
fn read_password_tty() -> Result<String, String> {
    // SAFETY: termios calls on fd 0 with a zeroed struct tcgetattr fills in; echo is put
    // back before returning.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &mut t) != 0 {
            return Err("inappropriate ioctl for device".into());
        }
        let old = t;
        t.c_lflag &= !libc::ECHO;
        t.c_lflag |= libc::ICANON | libc::ISIG;
        libc::tcsetattr(0, libc::TCSANOW, &t);
        let mut line = String::new();
        let r = std::io::stdin().read_line(&mut line);
        libc::tcsetattr(0, libc::TCSANOW, &old);
        r.map_err(|e| e.to_string())?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }
}

#[cfg(not(unix))]
fn read_password_tty() -> Result<String, String> {
    Err("reading a password from the terminal is not supported here".into())
}

fn list(args: &[String]) -> CmdResult {
    let p = parse_flags(
        "repo list",
        args,
        &[
            flag("output", Some('o'), true),
            flag("no-headers", None, false),
        ],
    )?;
    let out = p.get("output").unwrap_or("table");
    // repo_list.go ignores a file it cannot load: no repositories
    let repos = load(&super::env::repository_config(&p))
        .ok()
        .flatten()
        .map(|f| f.repos)
        .unwrap_or_default();
    match out {
        "table" => {
            if repos.is_empty() {
                eprintln!("no repositories to show");
                return Ok(());
            }
            let mut rows: Vec<[String; 2]> = vec![];
            if !p.bool("no-headers") {
                rows.push(["NAME".into(), "URL".into()]);
            }
            for r in &repos {
                rows.push([r.name.clone(), r.url.clone()]);
            }
            // uitable: cells padded to the column width, tab-separated
            let w = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0);
            for r in rows {
                let pad = w - r[0].chars().count();
                println!("{}{}\t{}", r[0], " ".repeat(pad), r[1]);
            }
            Ok(())
        }
        "json" | "yaml" => {
            let list: Vec<Value> = repos
                .iter()
                .map(|r| {
                    let mut m = Map::new();
                    m.insert("name".into(), Value::Str(r.name.clone()));
                    m.insert("url".into(), Value::Str(r.url.clone()));
                    Value::from(m)
                })
                .collect();
            if out == "json" {
                // encoding/json: struct field order, HTML characters escaped
                let j: Vec<serde_json::Value> = repos
                    .iter()
                    .map(|r| serde_json::json!({"name": r.name, "url": r.url}))
                    .collect();
                let text = serde_json::to_string(&j).map_err(|e| e.to_string())?;
                println!(
                    "{}",
                    text.replace('<', "\\u003c")
                        .replace('>', "\\u003e")
                        .replace('&', "\\u0026")
                );
            } else {
                print!("{}", super::values::to_yaml(&Value::List(list))?);
            }
            Ok(())
        }
        o => Err(format!("invalid format type {o:?}").into()),
    }
}

fn remove(args: &[String]) -> CmdResult {
    let p = parse_flags("repo remove", args, &[])?;
    if p.positional.is_empty() {
        return Err(
            "\"helm repo remove\" requires at least 1 argument\n\nUsage:  helm repo remove [REPO1 [REPO2 ...]] [flags]"
                .to_string()
                .into(),
        );
    }
    let file_path = super::env::repository_config(&p);
    let mut f = match load(&file_path) {
        Ok(Some(f)) if !f.repos.is_empty() => f,
        Ok(_) => return Err("no repositories configured".to_string().into()),
        Err(e) => return Err(e.into()),
    };
    let cache = cache_dir(&p);
    for name in &p.positional {
        let before = f.repos.len();
        f.repos.retain(|r| &r.name != name);
        if f.repos.len() == before {
            return Err(format!("no repo named {name:?} found").into());
        }
        write(&file_path, &f)?;
        for file in [format!("{name}-charts.txt"), format!("{name}-index.yaml")] {
            let path = cache.join(&file);
            if path.exists() {
                std::fs::remove_file(&path)
                    .map_err(|e| format!("can't remove index file {}: {e}", path.display()))?;
            }
        }
        println!("{name:?} has been removed from your repositories");
    }
    Ok(())
}

fn update(args: &[String]) -> CmdResult {
    let p = parse_flags(
        "repo update",
        args,
        &[
            flag("fail-on-repo-update-fail", None, false),
            flag("timeout", None, true),
        ],
    )?;
    let f = load(&super::env::repository_config(&p))?;
    let repos = f.map(|f| f.repos).unwrap_or_default();
    if repos.is_empty() {
        return Err("no repositories found. You must add one before updating"
            .to_string()
            .into());
    }
    for n in &p.positional {
        if !repos.iter().any(|r| &r.name == n) {
            return Err(
                format!("no repositories found matching '{n}'.  Nothing will be updated").into(),
            );
        }
    }
    let chosen: Vec<&Entry> = repos
        .iter()
        .filter(|r| p.positional.is_empty() || p.positional.contains(&r.name))
        .collect();
    refresh(&chosen, &p, p.bool("fail-on-repo-update-fail"))
}

/// `updateCharts`: each repository's index fetched again, then Helm's closing line.
pub fn refresh(repos: &[&Entry], p: &Parsed, fail_on_error: bool) -> CmdResult {
    println!("Hang tight while we grab the latest from your chart repositories...");
    let cache = cache_dir(p);
    let mut failed = vec![];
    for r in repos {
        match download_index(r, &cache) {
            Ok(_) => println!(
                "...Successfully got an update from the {:?} chart repository",
                r.name
            ),
            Err(e) => {
                println!(
                    "...Unable to get an update from the {:?} chart repository ({}):\n\t{e}",
                    r.name, r.url
                );
                failed.push(r.url.clone());
            }
        }
    }
    if fail_on_error && !failed.is_empty() {
        return Err(format!(
            "failed to update the following repositories: [{}]",
            failed.join(" ")
        )
        .into());
    }
    println!("Update Complete. ⎈Happy Helming!⎈");
    Ok(())
}

//! `helm dependency update` as `helm package -u` runs it (Helm's `downloader.Manager.Update`):
//! resolve every `dependencies:` entry (`file://`, `oci://`, `http(s)://` chart repository,
//! or none = already in `charts/`), download the archives into a temporary directory inside
//! the chart, move them into `charts/`, delete outdated archives, and write `Chart.lock`
//! (`requirements.lock` for apiVersion v1) when its digest changed.
//!
//! Repository aliases (`@name`, `alias:name`) need Helm's repositories.yaml and fall through
//! to a real helm.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::args::Parsed;
use super::chart::{self, Dependency, Lock};
use super::yaml::Yaml;
use super::{loader, semver, CmdError};
use crate::native::oci::{self, Location, Reference, Repo};

/// Options of the update (the TLS/auth flags of `helm package`).
pub struct Options<'a> {
    pub flags: &'a Parsed,
    /// Entry mtime for archives packaged from `file://` dependencies (`None`: each file's).
    pub mtime: Option<u64>,
    /// `--reproducible`: without `SOURCE_DATE_EPOCH` the lock's `generated` is the epoch, so
    /// the packaged Chart.lock does not carry the wall clock.
    pub reproducible: bool,
    /// Print the progress lines `helm dependency update|build` prints (`package -u` of
    /// oxtask stays quiet).
    pub verbose: bool,
}

impl Options<'_> {
    fn say(&self, line: &str) {
        if self.verbose {
            println!("{line}");
        }
    }
}

/// What one dependency resolved to.
enum Source {
    /// `repository: ""`: the chart is expected in `charts/NAME`; nothing to download.
    InCharts,
    Local(PathBuf),
    Oci(String),
    /// Download URL and the index's digest (hex, may be empty).
    Http(String, String),
}

struct Resolved {
    locked: Dependency,
    source: Source,
}

/// Runs the update for the chart directory `dir`. No `dependencies:` → nothing happens.
pub fn update(dir: &Path, opts: &Options) -> Result<(), CmdError> {
    // Helm hands the manager an absolute chart path; local paths and errors are based on it.
    let abs = std::path::absolute(dir).map_err(|e| e.to_string())?;
    let dir = PathBuf::from(loader::go_path_clean(&abs.to_string_lossy()));
    let dir = dir.as_path();
    let md = std::fs::metadata(dir)
        .map_err(|e| format!("could not find {}: {}", dir.display(), loader::io_msg(&e)))?;
    if !md.is_dir() {
        return Err("only unpacked charts can be updated".into());
    }
    let ch = loader::load_dir(dir, &mut super::warn)?;
    let Some(reqs) = ch.metadata.dependencies.clone() else {
        return Ok(());
    };
    let mut reqs: Vec<Dependency> = reqs.into_iter().flatten().collect();
    let entries = managed_repos(&mut reqs, opts)?;
    let unmanaged: Vec<Dependency> = reqs
        .iter()
        .filter(|d| {
            !entries
                .iter()
                .any(|e| super::repo::url_equal(&e.url, &d.repository))
        })
        .cloned()
        .collect();
    announce_http_repos(&unmanaged, opts);
    refresh_repos(&entries, opts)?;
    let resolved = resolve(dir, &reqs, opts)?;
    let mut locked: Vec<Dependency> = resolved.iter().map(|r| r.locked.clone()).collect();
    download_all(dir, &reqs, &resolved, &mut locked, opts)?;
    let digest = hash_req(&reqs, &locked);
    if ch.lock.as_ref().is_some_and(|l| l.digest == digest) {
        return Ok(());
    }
    let lock = Lock {
        generated: generated_now(opts.reproducible)?,
        digest,
        dependencies: Some(locked.into_iter().map(Some).collect()),
    };
    write_lock(dir, &lock, ch.metadata.api_version == "v1")?;
    Ok(())
}

/// `resolveRepoNames` over repositories.yaml: `@name` and `alias:name` become the entry's
/// URL (as Helm rewrites the dependency), an unknown alias is an error. Returns the file's
/// entries. Downloads with credentials or client TLS are left to a real helm.
fn managed_repos(
    reqs: &mut [Dependency],
    opts: &Options,
) -> Result<Vec<super::repo::Entry>, CmdError> {
    let entries = super::repo::load(&super::env::repository_config(opts.flags))?
        .map(|f| f.repos)
        .unwrap_or_default();
    let mut missing = vec![];
    for d in reqs.iter_mut() {
        let alias = d
            .repository
            .strip_prefix('@')
            .or_else(|| d.repository.strip_prefix("alias:"));
        let found = match alias {
            Some(a) => entries.iter().find(|e| e.name == a),
            None => entries
                .iter()
                .find(|e| super::repo::url_equal(&e.url, &d.repository)),
        };
        match (alias, found) {
            (Some(_), Some(e)) => d.repository = e.url.clone(),
            (Some(_), None) => missing.push(d.repository.clone()),
            _ => {}
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "no repository definition for {}. Please add them via 'helm repo add'",
            missing.join(", ")
        )
        .into());
    }
    Ok(entries)
}

/// `UpdateRepositories`: every repository of the file is refreshed (`--skip-refresh`: none).
fn refresh_repos(entries: &[super::repo::Entry], opts: &Options) -> Result<(), CmdError> {
    if entries.is_empty() || opts.flags.bool("skip-refresh") {
        return Ok(());
    }
    let mut all: Vec<&super::repo::Entry> = vec![];
    for e in entries {
        if !all.iter().any(|x| super::repo::url_equal(&x.url, &e.url)) {
            all.push(e);
        }
    }
    if opts.verbose {
        super::repo::refresh(&all, opts.flags, false)?;
    }
    Ok(())
}

/// `ensureMissingRepos`: chart repositories given by URL are refreshed first (Helm sees no
/// repositories.yaml entry for them).
fn announce_http_repos(reqs: &[Dependency], opts: &Options) {
    let mut urls: Vec<&str> = reqs
        .iter()
        .map(|d| d.repository.as_str())
        .filter(|r| r.starts_with("http://") || r.starts_with("https://"))
        .collect();
    if urls.is_empty() {
        return;
    }
    urls.sort_by_key(|u| u.trim_end_matches('/'));
    urls.dedup_by_key(|u| u.trim_end_matches('/'));
    opts.say("Getting updates for unmanaged Helm repositories...");
    for u in urls {
        let index = format!("{}/index.yaml", u.trim_end_matches('/'));
        match http_get(opts, u, &index) {
            Ok(_) => opts.say(&format!(
                "...Successfully got an update from the {u:?} chart repository"
            )),
            Err(e) => opts.say(&format!(
                "...Unable to get an update from the {u:?} chart repository:\n\t{e}"
            )),
        }
    }
}

/// `Manager.Build`: with a Chart.lock whose digest matches Chart.yaml, fetches exactly the
/// locked versions; without a lock it is an update.
pub fn build(dir: &Path, opts: &Options) -> Result<(), CmdError> {
    let abs = std::path::absolute(dir).map_err(|e| e.to_string())?;
    let dir = PathBuf::from(loader::go_path_clean(&abs.to_string_lossy()));
    let dir = dir.as_path();
    let md = std::fs::metadata(dir)
        .map_err(|e| format!("could not find {}: {}", dir.display(), loader::io_msg(&e)))?;
    if !md.is_dir() {
        return Err("only unpacked charts can be updated".into());
    }
    let ch = loader::load_dir(dir, &mut super::warn)?;
    let Some(lock) = ch.lock.clone() else {
        return update(dir, opts);
    };
    let reqs: Vec<Dependency> = ch
        .metadata
        .dependencies
        .clone()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    let locked: Vec<Dependency> = lock
        .dependencies
        .clone()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    let mut reqs = reqs;
    let entries = managed_repos(&mut reqs, opts)?;
    if hash_req(&reqs, &locked) != lock.digest {
        return Err(if ch.metadata.api_version == "v1" {
            "the lock file (requirements.lock) is out of sync with the dependencies file (requirements.yaml). Please update the dependencies"
        } else {
            "the lock file (Chart.lock) is out of sync with the dependencies file (Chart.yaml). Please update the dependencies with 'helm dependency update'"
        }
        .into());
    }
    // hasAllRepos: a repository given by URL must be one of repositories.yaml
    let entry_of = |url: &str| {
        entries
            .iter()
            .find(|e| super::repo::url_equal(&e.url, url.trim_end_matches('/')))
    };
    let missing: Vec<&str> = locked
        .iter()
        .map(|d| d.repository.as_str())
        .filter(|r| !r.is_empty() && !r.starts_with("file://") && !r.starts_with("oci://"))
        .filter(|r| entry_of(r).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "no repository definition for {}. Please add the missing repos via 'helm repo add'",
            missing.join(", ")
        )
        .into());
    }
    refresh_repos(&entries, opts)?;
    let mut resolved = Vec::new();
    for d in &locked {
        let source = if d.repository.is_empty() {
            Source::InCharts
        } else if d.repository.starts_with("file://") {
            Source::Local(local_path(&d.repository, dir)?)
        } else if d.repository.starts_with("http://") || d.repository.starts_with("https://") {
            // the locked version exactly, from the repository's index
            let mut want = d.clone();
            want.version = format!("={}", d.version);
            match resolve_http(&d.repository, &want, opts)? {
                Some((_, url, digest)) => Source::Http(url, digest),
                None => {
                    return Err(format!(
                        "chart {:?} version {:?} not found in repo {}",
                        d.name, d.version, d.repository
                    )
                    .into())
                }
            }
        } else {
            let base = d
                .repository
                .trim_start_matches("oci://")
                .trim_end_matches('/');
            Source::Oci(format!("oci://{base}/{}", d.name))
        };
        resolved.push(Resolved {
            locked: d.clone(),
            source,
        });
    }
    let mut out = locked.clone();
    download_all(dir, &locked, &resolved, &mut out, opts)
}

/// `resolver.HashReq`: sha256 of Go's `json.Marshal([2][]*Dependency{req, lock})`.
pub fn hash_req(req: &[Dependency], lock: &[Dependency]) -> String {
    let list = |ds: &[Dependency]| Value::Array(ds.iter().map(chart::dep_json).collect());
    let v = Value::Array(vec![list(req), list(lock)]);
    oci::sha256_digest(oci::json::to_go_json(&v).as_bytes())
}

/// `time.Now()` as Go's RFC3339Nano, or `SOURCE_DATE_EPOCH` (UTC) when set.
pub(crate) fn generated_now(reproducible: bool) -> Result<String, String> {
    if let Ok(s) = std::env::var("SOURCE_DATE_EPOCH") {
        if !s.trim().is_empty() {
            let secs: i64 = s.trim().parse().map_err(|_| {
                format!("invalid SOURCE_DATE_EPOCH {s:?}: expected a non-negative integer")
            })?;
            let t = chrono::DateTime::from_timestamp(secs, 0)
                .ok_or_else(|| format!("invalid SOURCE_DATE_EPOCH {s:?}"))?;
            return Ok(t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
    }
    if reproducible {
        return Ok("1970-01-01T00:00:00Z".into());
    }
    let now = chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, false);
    Ok(chart::reformat_rfc3339(&now).unwrap_or(now))
}

fn constraint_ok(d: &Dependency) -> Result<(), String> {
    let zero = semver::parse_strict("0.0.0").expect("valid");
    semver::satisfies(&d.version, &zero)
        .map(|_| ())
        .map_err(|e| {
            format!(
                "dependency {:?} has an invalid version/constraint format: {e}",
                d.name
            )
        })
}

/// `resolver.GetLocalPath`.
fn local_path(repo: &str, chart_dir: &Path) -> Result<PathBuf, String> {
    let p = repo.strip_prefix("file://").unwrap_or(repo);
    let path = if p.starts_with('/') {
        PathBuf::from(loader::go_path_clean(p))
    } else {
        PathBuf::from(loader::go_path_clean(&format!(
            "{}/{}",
            chart_dir.display(),
            p
        )))
    };
    match std::fs::metadata(&path) {
        Ok(_) => Ok(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(format!("directory {} not found", path.display()))
        }
        Err(e) => Err(format!("stat {}: {}", path.display(), loader::io_msg(&e))),
    }
}

fn missing_msg(d: &Dependency) -> String {
    format!(
        "{:?} (repository {:?}, version {:?})",
        d.name, d.repository, d.version
    )
}

fn lock_entry(d: &Dependency, version: &str) -> Dependency {
    Dependency {
        name: d.name.clone(),
        repository: d.repository.clone(),
        version: version.to_string(),
        ..Default::default()
    }
}

fn resolve(dir: &Path, reqs: &[Dependency], opts: &Options) -> Result<Vec<Resolved>, CmdError> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for d in reqs {
        constraint_ok(d)?;
        let repo = d.repository.as_str();
        if repo.is_empty() {
            local_path(&format!("charts/{}", d.name), dir)?;
            out.push(Resolved {
                locked: lock_entry(d, &d.version),
                source: Source::InCharts,
            });
        } else if repo.starts_with("file://") {
            let path = local_path(repo, dir)?;
            let ch = loader::load_dir(&path, &mut super::warn)?;
            let ok = match semver::parse_lenient(&ch.metadata.version) {
                Ok(v) => semver::satisfies(&d.version, &v)?,
                Err(_) => false,
            };
            if !ok {
                missing.push(missing_msg(d));
                continue;
            }
            out.push(Resolved {
                locked: lock_entry(d, &ch.metadata.version),
                source: Source::Local(path),
            });
        } else if let Some(base) = repo.strip_prefix("oci://") {
            match resolve_oci(base, d, opts)? {
                Some(v) => out.push(Resolved {
                    locked: lock_entry(d, &v),
                    source: Source::Oci(format!("oci://{}/{}", base.trim_end_matches('/'), d.name)),
                }),
                None => missing.push(missing_msg(d)),
            }
        } else if repo.starts_with("http://") || repo.starts_with("https://") {
            match resolve_http(repo, d, opts)? {
                Some((v, url, digest)) => out.push(Resolved {
                    locked: lock_entry(d, &v),
                    source: Source::Http(url, digest),
                }),
                None => missing.push(missing_msg(d)),
            }
        } else {
            let mut msg =
                format!("no repository definition for {repo}. Please add them via 'helm repo add'");
            if !repo.contains("//") {
                msg.push_str("\nNote that repositories must be URLs or aliases. For example, to refer to the \"example\"\nrepository, use \"https://charts.example.com/\" or \"@example\" instead of\n\"example\". Don't forget to add the repo, too ('helm repo add').");
            }
            return Err(msg.into());
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "can't get a valid version for {} subchart(s): {}. Make sure a matching chart version exists in the repo, or change the version constraint in Chart.yaml",
            missing.len(),
            missing.join(", ")
        )
        .into());
    }
    Ok(out)
}

/// An exact version is used as given (as Helm does); otherwise the highest tag satisfying the
/// constraint.
fn resolve_oci(base: &str, d: &Dependency, opts: &Options) -> Result<Option<String>, CmdError> {
    if semver::parse_lenient(&d.version).is_ok() {
        return Ok(Some(d.version.clone()));
    }
    let refname = format!("{}/{}", base.trim_end_matches('/'), d.name);
    let loc = Location::Registry(Reference::parse(&refname).map_err(|e| e.to_string())?);
    let mut client_err = None;
    let repo = Repo::open(&loc, false, || {
        super::registry::client_from(opts.flags, "insecure-skip-tls-verify").map_err(|e| {
            let m = match e {
                CmdError::Fail(m) | CmdError::FallThrough(m) | CmdError::UnknownFlag(_, m) => m,
            };
            client_err = Some(m.clone());
            oci::OciError::Tls(m)
        })
    })
    .map_err(|e| client_err.take().unwrap_or_else(|| e.to_string()))?;
    let tags = oci::block_on(async { repo.list_tags().await })
        .map_err(|e| e.to_string())?
        .map_err(|e| {
            format!(
                "could not retrieve list of tags for repository {}: {e}",
                d.repository
            )
        })?;
    let mut vs: Vec<semver::Version> = tags
        .iter()
        .filter_map(|t| semver::parse_lenient(&t.replace('_', "+")).ok())
        .collect();
    vs.sort_by(|a, b| b.cmp_precedence(a));
    for v in vs {
        if semver::satisfies(&d.version, &v)? {
            return Ok(Some(v.original));
        }
    }
    Ok(None)
}

/// How one HTTP download is made (Helm's HTTP getter options): TLS files, and basic auth
/// sent to the repository's own scheme and host only, unless `pass_credentials_all`.
#[derive(Clone, Debug, Default)]
pub struct HttpOpts {
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub insecure: bool,
    pub username: String,
    pub password: String,
    pub pass_credentials_all: bool,
    /// The repository URL the credentials belong to.
    pub base_url: String,
}

impl HttpOpts {
    /// From a command's `--ca-file`/`--cert-file`/`--key-file`/`--insecure-skip-tls-verify`
    /// and `--username`/`--password`/`--pass-credentials`, for `base_url`.
    pub fn from_flags(p: &Parsed, base_url: &str) -> HttpOpts {
        let path = |k: &str| p.get(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        HttpOpts {
            ca_file: path("ca-file"),
            cert_file: path("cert-file"),
            key_file: path("key-file"),
            insecure: p.bool("insecure-skip-tls-verify"),
            username: p.str("username"),
            password: p.str("password"),
            pass_credentials_all: p.bool("pass-credentials"),
            base_url: base_url.to_string(),
        }
    }

    /// From a repositories.yaml entry.
    pub fn from_entry(e: &super::repo::Entry) -> HttpOpts {
        let path = |v: &str| (!v.is_empty()).then(|| PathBuf::from(v));
        HttpOpts {
            ca_file: path(&e.ca_file),
            cert_file: path(&e.cert_file),
            key_file: path(&e.key_file),
            insecure: e.insecure_skip_tls_verify,
            username: e.username.clone(),
            password: e.password.clone(),
            pass_credentials_all: e.pass_credentials_all,
            base_url: e.url.clone(),
        }
    }

    /// httpgetter: credentials go with a request only to the repository's scheme and host
    /// (port included), or anywhere with pass_credentials_all.
    fn basic_for(&self, url: &str) -> Option<(&str, &str)> {
        if self.username.is_empty() || self.password.is_empty() {
            return None;
        }
        if self.pass_credentials_all {
            return Some((&self.username, &self.password));
        }
        let (a, b) = (
            url::Url::parse(&self.base_url).ok()?,
            url::Url::parse(url).ok()?,
        );
        (a.scheme() == b.scheme()
            && a.host_str() == b.host_str()
            && a.port_or_known_default() == b.port_or_known_default())
        .then_some((&self.username, &self.password))
    }
}

fn http_client_of(o: &HttpOpts) -> Result<reqwest::Client, String> {
    let tls = oci::tls::build_config(
        o.insecure,
        o.ca_file.as_deref(),
        o.cert_file.as_deref(),
        o.key_file.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    reqwest::Client::builder()
        .user_agent(format!("Helm/{}", super::HELM_COMPAT_VERSION))
        .connect_timeout(std::time::Duration::from_secs(30))
        .timeout(std::time::Duration::from_secs(120))
        .use_preconfigured_tls(tls)
        .build()
        .map_err(|e| e.to_string())
}

/// Larger than any chart archive or repository index Helm would read.
pub(crate) const MAX_DOWNLOAD: usize = 512 << 20;

/// GET `url` (`failed to fetch URL : STATUS` as Helm's HTTP getter words it), with the
/// settings of the repositories.yaml entry for `repo` when there is one, else the flags.
fn http_get(opts: &Options, repo: &str, url: &str) -> Result<Vec<u8>, String> {
    let entries = super::repo::load(&super::env::repository_config(opts.flags))
        .ok()
        .flatten()
        .map(|f| f.repos)
        .unwrap_or_default();
    let o = match entries
        .iter()
        .find(|e| super::repo::url_equal(&e.url, repo))
    {
        Some(e) => HttpOpts::from_entry(e),
        None => HttpOpts::from_flags(opts.flags, repo),
    };
    fetch_with(&o, url)
}

/// GET `url` with the TLS flags of `p` (no credentials).
pub fn fetch(p: &Parsed, url: &str) -> Result<Vec<u8>, String> {
    let mut o = HttpOpts::from_flags(p, url);
    o.username.clear();
    o.password.clear();
    fetch_with(&o, url)
}

/// GET `url`: at most [`MAX_DOWNLOAD`] bytes, 120 s in all (Helm's getter default).
pub fn fetch_with(o: &HttpOpts, url: &str) -> Result<Vec<u8>, String> {
    let client = http_client_of(o)?;
    let url_s = url.to_string();
    let basic = o
        .basic_for(url)
        .map(|(u, p)| (u.to_string(), p.to_string()));
    oci::block_on(async move {
        let mut req = client.get(&url_s);
        if let Some((u, p)) = basic {
            req = req.basic_auth(u, Some(p));
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| format!("Get \"{url_s}\": {e}"))?;
        let st = resp.status();
        if !st.is_success() {
            return Err(format!("failed to fetch {url_s} : {st}"));
        }
        let mut out = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| format!("Get \"{url_s}\": {e}"))?
        {
            if out.len() + chunk.len() > MAX_DOWNLOAD {
                return Err(format!("Get \"{url_s}\": larger than {MAX_DOWNLOAD} bytes"));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    })
    .map_err(|e| e.to_string())?
}

pub(super) fn yaml_str(y: &Yaml) -> String {
    match y {
        Yaml::Null | Yaml::Seq(_) | Yaml::Map(_) => String::new(),
        other => other.key_string(),
    }
}

pub(super) fn map_get<'a>(y: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    match y {
        Yaml::Map(m) => m
            .iter()
            .find(|(k, _)| k.key_string() == key)
            .map(|(_, v)| v),
        _ => None,
    }
}

/// Fetches `REPO/index.yaml` and picks the highest version of `d.name` satisfying the
/// constraint that has a download URL. Returns (version, absolute URL, digest).
fn resolve_http(
    repo: &str,
    d: &Dependency,
    opts: &Options,
) -> Result<Option<(String, String, String)>, CmdError> {
    let base = repo.trim_end_matches('/');
    let index_url = format!("{base}/index.yaml");
    let unreachable = |e: String| {
        format!("looks like {repo:?} is not a valid chart repository or cannot be reached: {e}")
    };
    let data = http_get(opts, repo, &index_url).map_err(unreachable)?;
    let text =
        String::from_utf8(data).map_err(|_| unreachable("index.yaml is not UTF-8".into()))?;
    let doc = super::yaml::parse(&text)
        .map_err(|e| unreachable(format!("error unmarshaling JSON: {e}")))?;
    if map_get(&doc, "apiVersion")
        .map(yaml_str)
        .unwrap_or_default()
        .is_empty()
    {
        return Err(unreachable("no API version specified".into()).into());
    }
    let Some(Yaml::Seq(versions)) = map_get(&doc, "entries").and_then(|e| map_get(e, &d.name))
    else {
        return Err(format!("{} chart not found in repo {}", d.name, d.repository).into());
    };
    let mut cands: Vec<(semver::Version, String, String)> = Vec::new();
    for cv in versions {
        let Ok(v) =
            semver::parse_lenient(&map_get(cv, "version").map(yaml_str).unwrap_or_default())
        else {
            continue;
        };
        let url = match map_get(cv, "urls") {
            Some(Yaml::Seq(u)) if !u.is_empty() => yaml_str(&u[0]),
            _ => continue,
        };
        let digest = map_get(cv, "digest").map(yaml_str).unwrap_or_default();
        cands.push((v, url, digest));
    }
    cands.sort_by(|a, b| b.0.cmp_precedence(&a.0));
    for (v, url, digest) in cands {
        if semver::satisfies(&d.version, &v)? {
            let abs = resolve_url(repo, &url)?;
            return Ok(Some((v.original, abs, digest)));
        }
    }
    Ok(None)
}

/// `repo.ResolveReferenceURL`: a relative chart URL is resolved against the repository URL
/// taken as a directory.
pub(crate) fn resolve_url(repo: &str, chart_url: &str) -> Result<String, String> {
    if let Ok(u) = url::Url::parse(chart_url) {
        return Ok(u.to_string());
    }
    let mut base =
        url::Url::parse(repo).map_err(|e| format!("failed to parse {repo} as URL: {e}"))?;
    if !base.path().ends_with('/') {
        let p = format!("{}/", base.path());
        base.set_path(&p);
    }
    base.join(chart_url)
        .map(|u| u.to_string())
        .map_err(|e| format!("failed to parse {chart_url} as URL: {e}"))
}

/// Removes the temporary download directory however the update ends.
struct TmpDir(PathBuf);

impl Drop for TmpDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn download_all(
    dir: &Path,
    reqs: &[Dependency],
    resolved: &[Resolved],
    locked: &mut [Dependency],
    opts: &Options,
) -> Result<(), CmdError> {
    let dest = dir.join("charts");
    match std::fs::metadata(&dest) {
        Ok(md) if !md.is_dir() => {
            return Err(format!("{:?} is not a directory", dest.display().to_string()).into())
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&dest)
                .map_err(|e| format!("mkdir {}: {}", dest.display(), loader::io_msg(&e)))?;
        }
        Err(e) => {
            return Err(format!(
                "unable to retrieve file info for '{}': {}",
                dest.display(),
                loader::io_msg(&e)
            )
            .into())
        }
    }
    let tmp = TmpDir(dir.join(format!("tmpcharts-{}", std::process::id())));
    std::fs::create_dir_all(&tmp.0)
        .map_err(|e| format!("mkdir {}: {}", tmp.0.display(), loader::io_msg(&e)))?;
    opts.say(&format!("Saving {} charts", resolved.len()));
    let mut downloaded: Vec<String> = Vec::new();
    for (i, r) in resolved.iter().enumerate() {
        let d = &reqs[i];
        if let Source::Oci(u) | Source::Http(u, _) = &r.source {
            if downloaded.contains(u) {
                opts.say(&format!(
                    "Already downloaded {} from repo {}",
                    d.name, d.repository
                ));
                continue;
            }
            downloaded.push(u.clone());
            opts.say(&format!(
                "Downloading {} from repo {}",
                d.name, d.repository
            ));
        }
        let step = fetch_one(dir, &dest, &tmp.0, d, r, locked, i, opts);
        if let Err(CmdError::Fail(m)) = &step {
            opts.say(&format!("Save error occurred:  {m}"));
        }
        step?;
    }
    safe_move(reqs, &tmp.0, &dest, opts)
}

/// Fetches one dependency into the temporary directory (or checks the one in `charts/`).
#[allow(clippy::too_many_arguments)]
fn fetch_one(
    _dir: &Path,
    dest: &Path,
    tmp: &Path,
    d: &Dependency,
    r: &Resolved,
    locked: &mut [Dependency],
    i: usize,
    opts: &Options,
) -> Result<(), CmdError> {
    {
        match &r.source {
            Source::InCharts => {
                opts.say(&format!("Dependency {} did not declare a repository. Assuming it exists in the charts directory", d.name));
                let path = dest.join(&d.name);
                let ch = loader::load_dir(&path, &mut super::warn)
                    .map_err(|e| format!("unable to load chart '{}': {e}", path.display()))?;
                let v = semver::parse_lenient(&ch.metadata.version).map_err(|e| {
                    format!(
                        "invalid version {} for dependency {}: {e}",
                        d.version, d.name
                    )
                })?;
                if !semver::satisfies(&d.version, &v)? {
                    return Err(format!(
                        "dependency {} at version {} does not satisfy the constraint {}",
                        d.name, ch.metadata.version, d.version
                    )
                    .into());
                }
            }
            Source::Local(path) => {
                let ch = loader::load_dir(path, &mut super::warn)?;
                super::package::package_to(&ch, tmp, opts.mtime)?;
                locked[i].version = ch.metadata.version.clone();
            }
            Source::Oci(reference) => {
                let version = r.locked.version.clone();
                let pulled = super::registry::fetch_chart(
                    || super::registry::client_from(opts.flags, "insecure-skip-tls-verify"),
                    reference,
                    &version,
                    false,
                )
                .map_err(|e| match e {
                    CmdError::Fail(m) => {
                        CmdError::Fail(format!("could not download {reference}:{version}: {m}"))
                    }
                    other => other,
                })?;
                let name = format!("{}-{}.tgz", pulled.meta.name, pulled.meta.version);
                super::save::write_atomic(&tmp.join(name), &pulled.chart, 0o644)
                    .map_err(|e| format!("failed to save: {e}"))?;
            }
            Source::Http(url, digest) => {
                let data = http_get(opts, &d.repository, url)
                    .map_err(|e| format!("could not download {url}: {e}"))?;
                let want = digest.strip_prefix("sha256:").unwrap_or(digest);
                if !want.is_empty() {
                    let got = hex::encode(Sha256::digest(&data));
                    if !got.eq_ignore_ascii_case(want) {
                        return Err(format!(
                            "could not download {url}: digest mismatch: index.yaml has sha256:{want}, the download is sha256:{got}"
                        )
                        .into());
                    }
                }
                let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
                let base = parsed
                    .path_segments()
                    .and_then(|mut s| s.next_back().map(str::to_string))
                    .filter(|s| !s.is_empty() && s != "." && s != "..")
                    .unwrap_or_else(|| format!("{}-{}.tgz", d.name, r.locked.version));
                super::save::write_atomic(&tmp.join(base), &data, 0o644)
                    .map_err(|e| format!("failed to save: {e}"))?;
            }
        }
    }
    Ok(())
}

/// `safeMoveDeps`: move the verified downloads into `charts/`, then delete archives there
/// that were not just downloaded, unless they belong to a dependency without repository.
fn safe_move(
    reqs: &[Dependency],
    source: &Path,
    dest: &Path,
    opts: &Options,
) -> Result<(), CmdError> {
    let list = |p: &Path| -> Result<Vec<(String, bool)>, String> {
        let mut v = Vec::new();
        for e in std::fs::read_dir(p)
            .map_err(|e| format!("open {}: {}", p.display(), loader::io_msg(&e)))?
        {
            let e = e.map_err(|e| loader::io_msg(&e))?;
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            v.push((e.file_name().to_string_lossy().into_owned(), is_dir));
        }
        v.sort();
        Ok(v)
    };
    let sources = list(source)?;
    let dests = list(dest)?;
    let mut quiet = |_m: String| {};
    let mut moved = Vec::new();
    for (name, is_dir) in &sources {
        if *is_dir {
            continue;
        }
        let from = source.join(name);
        if let Err(e) = loader::load(&from, &mut quiet) {
            return Err(format!("could not verify {} for moving: {e}", from.display()).into());
        }
        std::fs::rename(&from, dest.join(name)).map_err(|e| {
            format!(
                "unable to move {} to charts dir: {}",
                from.display(),
                loader::io_msg(&e)
            )
        })?;
        moved.push(name.clone());
    }
    opts.say("Deleting outdated charts");
    for (name, is_dir) in &dests {
        if *is_dir || moved.contains(name) {
            continue;
        }
        let path = dest.join(name);
        // Only chart archives are removed; other files are left alone as Helm does.
        let Ok(ch) = loader::load(&path, &mut quiet) else {
            continue;
        };
        let local = reqs
            .iter()
            .any(|d| d.repository.is_empty() && d.name == ch.name());
        if !local {
            std::fs::remove_file(&path).map_err(|e| {
                format!(
                    "could not delete {}: {}",
                    path.display(),
                    loader::io_msg(&e)
                )
            })?;
        }
    }
    Ok(())
}

/// `writeLock`: refuses a symlinked lock file; written atomically with mode 0644.
fn write_lock(dir: &Path, lock: &Lock, legacy: bool) -> Result<(), String> {
    let name = if legacy {
        "requirements.lock"
    } else {
        "Chart.lock"
    };
    let dest = dir.join(name);
    match std::fs::symlink_metadata(&dest) {
        Ok(md) if md.file_type().is_symlink() => {
            let link = std::fs::read_link(&dest).map_err(|e| {
                format!(
                    "error reading symlink for {:?}: {}",
                    dest.display().to_string(),
                    loader::io_msg(&e)
                )
            })?;
            return Err(format!(
                "the {name} file is a symlink to {:?}",
                link.display().to_string()
            ));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(format!(
                "error getting info for {:?}: {}",
                dest.display().to_string(),
                loader::io_msg(&e)
            ))
        }
    }
    super::save::write_atomic(&dest, lock.to_yaml().as_bytes(), 0o644)
        .map_err(|e| format!("write {}: {e}", dest.display()))
}

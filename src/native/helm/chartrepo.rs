//! Charts from chart repositories (an `index.yaml` over HTTP), as Helm 4's ChartDownloader
//! finds them for `helm pull`, `helm show` and `helm template`: `REPO/CHART` through
//! repositories.yaml and the cached `REPO-index.yaml` (no refresh: `helm repo update` does
//! that), `CHART --repo URL` through a freshly downloaded index, or an absolute `http(s)://`
//! archive URL (pkg/downloader/chart_downloader.go, pkg/repo/v1/chartrepo.go, index.go).
//!
//! Credentials and TLS files come from the repositories.yaml entry of the repository, or
//! from `--username`/`--password`/`--ca-file`/… for `--repo URL` and archive URLs; basic
//! auth goes only to the repository's own host unless `pass_credentials_all`.

use std::path::Path;

use super::args::Parsed;
use super::deps::{map_get, yaml_str, HttpOpts};
use super::yaml::Yaml;
use super::{semver, CmdError};

/// A downloaded chart archive: bytes, the file name Helm gives it (the last element of the
/// URL's path), the URL it came from, and its provenance file when one was asked for.
pub struct Fetched {
    pub data: Vec<u8>,
    pub file_name: String,
    pub url: String,
    pub prov: Option<Vec<u8>>,
    /// `WARNING: Verification not found for …` when `--prov` found none (printed by the caller
    /// on stdout, where Helm's pull writes its output).
    pub warning: Option<String>,
}

/// What to do about the `.prov` beside the archive (downloader.VerifyNever/Always/Later).
#[derive(Clone, Copy, PartialEq)]
pub enum Prov {
    Never,
    Always,
    Later,
}

/// One version of a chart in an index: version, first URL, digest.
#[derive(Debug)]
struct IndexVersion {
    version: String,
    url: String,
    digest: String,
}

/// The entries of an index by chart name, each list newest first (`loadIndex`: entries
/// without a valid version are dropped, then `SortEntries`).
fn load_index(text: &str) -> Result<Vec<(String, Vec<IndexVersion>)>, String> {
    let doc = super::yaml::parse(text).map_err(|e| format!("error unmarshaling JSON: {e}"))?;
    let mut out = Vec::new();
    if let Some(Yaml::Map(m)) = map_get(&doc, "entries") {
        for (k, v) in m {
            let mut vs: Vec<(semver::Version, IndexVersion)> = Vec::new();
            if let Yaml::Seq(items) = v {
                for cv in items {
                    let version = map_get(cv, "version").map(yaml_str).unwrap_or_default();
                    let Ok(sv) = semver::parse_lenient(&version) else {
                        continue;
                    };
                    if map_get(cv, "name")
                        .map(yaml_str)
                        .unwrap_or_default()
                        .is_empty()
                    {
                        continue;
                    }
                    let url = match map_get(cv, "urls") {
                        Some(Yaml::Seq(u)) if !u.is_empty() => yaml_str(&u[0]),
                        _ => String::new(),
                    };
                    let digest = map_get(cv, "digest").map(yaml_str).unwrap_or_default();
                    vs.push((
                        sv,
                        IndexVersion {
                            version,
                            url,
                            digest,
                        },
                    ));
                }
            }
            // newest first; a stable sort keeps the file's order among equal versions
            vs.sort_by(|a, b| b.0.cmp_precedence(&a.0));
            out.push((k.key_string(), vs.into_iter().map(|(_, v)| v).collect()));
        }
    }
    if map_get(&doc, "apiVersion")
        .map(yaml_str)
        .unwrap_or_default()
        .is_empty()
    {
        return Err("no API version specified".into());
    }
    Ok(out)
}

/// `IndexFile.Get`: an exact version string first, then the newest version meeting the
/// constraint (`*` without one: the newest stable version).
fn index_get<'a>(
    index: &'a [(String, Vec<IndexVersion>)],
    name: &str,
    version: &str,
) -> Result<&'a IndexVersion, String> {
    let Some((_, vs)) = index.iter().find(|(n, _)| n == name) else {
        return Err("no chart name found".into());
    };
    if vs.is_empty() {
        return Err("no chart version found".into());
    }
    let constraint = if version.is_empty() { "*" } else { version };
    if !version.is_empty() {
        if let Some(v) = vs.iter().find(|v| v.version == version) {
            return Ok(v);
        }
    }
    for v in vs {
        let Ok(sv) = semver::parse_lenient(&v.version) else {
            continue;
        };
        if semver::satisfies(constraint, &sv)? {
            return Ok(v);
        }
    }
    Err(format!("no chart version found for {name}-{version}"))
}

fn read_cached_index(cache: &Path, name: &str) -> Result<String, String> {
    let path = cache.join(format!("{name}-index.yaml"));
    let data =
        super::values::read_limited(&path, super::deps::MAX_DOWNLOAD as u64).map_err(|e| {
            format!(
                "no cached repo found. (try 'helm repo update'): open {}: {e}",
                path.display()
            )
        })?;
    String::from_utf8(data).map_err(|_| {
        format!(
            "no cached repo found. (try 'helm repo update'): error loading {}: not UTF-8",
            path.display()
        )
    })
}

/// `ResolveChartVersion` for everything but `oci://`: the archive URL, the index digest and
/// how to download it.
fn resolve(
    p: &Parsed,
    chart_ref: &str,
    version: &str,
) -> Result<(String, String, HttpOpts), CmdError> {
    if let Some(repo_url) = p.get("repo").filter(|r| !r.is_empty()) {
        // FindChartInRepoURL: a fresh index of that URL, with the command's credentials
        let o = HttpOpts::from_flags(p, repo_url);
        let index_url = format!("{}/index.yaml", repo_url.trim_end_matches('/'));
        let unreachable = |e: String| {
            format!(
                "looks like {repo_url:?} is not a valid chart repository or cannot be reached: {e}"
            )
        };
        let data = super::deps::fetch_with(&o, &index_url).map_err(unreachable)?;
        let text = String::from_utf8(data).map_err(|_| unreachable("not UTF-8".into()))?;
        let index = load_index(&text).map_err(unreachable)?;
        let mut what = format!("chart {chart_ref:?}");
        if !version.is_empty() {
            what = format!("{what} version {version:?}");
        }
        let cv = index_get(&index, chart_ref, version)
            .map_err(|_| format!("{what} not found in {repo_url} repository"))?;
        if cv.url.is_empty() {
            return Err(format!("{what} has no downloadable URLs").into());
        }
        let url = super::deps::resolve_url(repo_url, &cv.url)
            .map_err(|e| format!("failed to make chart URL absolute: {e}"))?;
        // LocateChart passes the credentials on only to the repository's own host (or with
        // --pass-credentials); HttpOpts applies that rule per request
        let o = owner_of_url(p, &repo_entries(p)?, &url)?.unwrap_or(o);
        return Ok((url, String::new(), o));
    }
    let file = repo_entries(p)?;
    if let Ok(u) = url::Url::parse(chart_ref) {
        if u.has_host() && !u.path().is_empty() {
            if !matches!(u.scheme(), "http" | "https") {
                return Err(format!("scheme \"{}\" not supported", u.scheme()).into());
            }
            let o = owner_of_url(p, &file, chart_ref)?
                .unwrap_or_else(|| HttpOpts::from_flags(p, chart_ref));
            return Ok((chart_ref.to_string(), String::new(), o));
        }
    }
    let Some((repo_name, chart_name)) = chart_ref.split_once('/') else {
        return Err(format!(
            "non-absolute URLs should be in form of repo_name/path_to_chart, got: {chart_ref}"
        )
        .into());
    };
    let Some(entry) = file.iter().find(|e| e.name == repo_name) else {
        return Err(format!("repo {repo_name} not found").into());
    };
    if entry.url.is_empty() {
        return Err(format!("no URL found for repository {repo_name}").into());
    }
    let text = read_cached_index(&super::repo::cache_dir(p), &entry.name)?;
    let index = load_index(&text).map_err(|e| {
        format!("no cached repo found. (try 'helm repo update'): error loading index: {e}")
    })?;
    let cv = index_get(&index, chart_name, version).map_err(|e| {
        format!(
            "chart {chart_name:?} matching {version} not found in {} index. (try 'helm repo update'): {e}",
            entry.name
        )
    })?;
    if cv.url.is_empty() {
        return Err(format!("chart {chart_ref:?} has no downloadable URLs").into());
    }
    let url = super::deps::resolve_url(&entry.url, &cv.url)
        .map_err(|_| format!("invalid chart URL format: {chart_ref}"))?;
    Ok((url, cv.digest.clone(), entry_opts(p, entry)))
}

/// The entry's TLS files and credentials where it has them, the command's otherwise
/// (ResolveChartVersion layers the entry's settings over the command's options).
fn entry_opts(p: &Parsed, e: &super::repo::Entry) -> HttpOpts {
    let mut o = HttpOpts::from_flags(p, &e.url);
    let from = HttpOpts::from_entry(e);
    if from.ca_file.is_some() || from.cert_file.is_some() || from.key_file.is_some() {
        o.ca_file = from.ca_file;
        o.cert_file = from.cert_file;
        o.key_file = from.key_file;
    }
    if !e.username.is_empty() && !e.password.is_empty() {
        o.username = from.username;
        o.password = from.password;
        o.pass_credentials_all = from.pass_credentials_all;
    }
    o.insecure |= e.insecure_skip_tls_verify;
    o
}

/// The entries of repositories.yaml (none when it does not exist).
fn repo_entries(p: &Parsed) -> Result<Vec<super::repo::Entry>, CmdError> {
    Ok(super::repo::load(&super::env::repository_config(p))?
        .map(|f| f.repos)
        .unwrap_or_default())
}

/// `scanReposForURL`: an archive URL that one of repositories.yaml's cached indexes lists
/// takes that repository's settings. Every repository needs its cached index, as in Helm.
fn owner_of_url(
    p: &Parsed,
    file: &[super::repo::Entry],
    url: &str,
) -> Result<Option<HttpOpts>, CmdError> {
    let cache = super::repo::cache_dir(p);
    for e in file {
        let text = read_cached_index(&cache, &e.name)?;
        let Ok(index) = load_index(&text) else {
            continue;
        };
        let listed = index
            .iter()
            .flat_map(|(_, vs)| vs.iter())
            .any(|v| super::repo::url_equal(&v.url, url));
        if listed {
            return Ok(Some(entry_opts(p, e)));
        }
    }
    Ok(None)
}

/// Downloads the chart `chart_ref` names (not `oci://`, not a local path), checking the
/// index's digest when it gives one.
pub fn fetch(p: &Parsed, chart_ref: &str, version: &str, prov: Prov) -> Result<Fetched, CmdError> {
    let (url, digest, opts) = resolve(p, chart_ref, version)?;
    let parsed = url::Url::parse(&url).map_err(|_| format!("invalid chart URL format: {url}"))?;
    // filepath.Base(u.Path); a name that is no plain file name is refused rather than
    // written (it comes from the remote index)
    let path = parsed.path().trim_end_matches('/');
    let file_name = percent_decode(path.rsplit('/').next().unwrap_or_default());
    if file_name.is_empty()
        || file_name == "."
        || file_name == ".."
        || file_name.contains(['/', '\\', '\0'])
    {
        return Err(format!("invalid chart file name {file_name:?} in {url}").into());
    }
    let data = super::deps::fetch_with(&opts, &url)?;
    let want = digest.strip_prefix("sha256:").unwrap_or(&digest);
    if !want.is_empty() {
        use sha2::{Digest, Sha256};
        let got = hex::encode(Sha256::digest(&data));
        if !got.eq_ignore_ascii_case(want) {
            return Err(format!(
                "{url}: digest mismatch: the index has sha256:{want}, the download is sha256:{got}"
            )
            .into());
        }
    }
    let mut out = Fetched {
        data,
        file_name,
        url: url.clone(),
        prov: None,
        warning: None,
    };
    if prov != Prov::Never {
        let prov_url = format!("{url}.prov");
        match super::deps::fetch_with(&opts, &prov_url) {
            Ok(b) => out.prov = Some(b),
            Err(e) if prov == Prov::Later => {
                out.warning = Some(format!(
                    "WARNING: Verification not found for {chart_ref}: {e}\n"
                ))
            }
            Err(_) => return Err(format!("failed to fetch provenance {prov_url:?}").into()),
        }
    }
    Ok(out)
}

/// `LocateChart` for a chart that is not a local path nor `oci://` (`helm show`, `helm
/// template`): the archive's bytes, its provenance checked first under `--verify`.
pub fn locate(p: &Parsed, name: &str) -> Result<Vec<u8>, CmdError> {
    let name = name.trim();
    let mut version = p.str("version").trim().to_string();
    if version.is_empty() && p.bool("devel") {
        version = ">0.0.0-0".into();
    }
    let check = p.bool("verify");
    let f = fetch(
        p,
        name,
        &version,
        if check { Prov::Always } else { Prov::Never },
    )?;
    if check {
        let keyring = p
            .get("keyring")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(super::package::default_keyring);
        verify_prov(&f.file_name, &f.data, f.prov.as_deref(), &keyring)?;
    }
    Ok(f.data)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Verifies a downloaded archive against its provenance file (`--verify`) in a private
/// temporary directory, so nothing is written where the user asked before the check passed;
/// returns Helm's lines.
pub fn verify_prov(
    file_name: &str,
    data: &[u8],
    prov: Option<&[u8]>,
    keyring: &Path,
) -> Result<String, CmdError> {
    // a fresh directory (create_dir refuses one that exists), removed however this ends
    let dir = std::env::temp_dir().join(format!(
        "oxtask-verify-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    struct Gone<'a>(&'a Path);
    impl Drop for Gone<'_> {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(self.0);
        }
    }
    let _gone = Gone(&dir);
    let t = dir.join(file_name);
    std::fs::write(&t, data).map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join(format!("{file_name}.prov")),
        prov.unwrap_or_default(),
    )
    .map_err(|e| e.to_string())?;
    Ok(super::prov::verify_file(&t, keyring)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = "apiVersion: v1\nentries:\n  web:\n  - name: web\n    version: 1.0.0\n    urls: [web-1.0.0.tgz]\n  - name: web\n    version: 2.0.0-rc.1\n    urls: [web-2.0.0-rc.1.tgz]\n  - name: web\n    version: 1.5.0\n    urls: [https://cdn.example/web-1.5.0.tgz]\n  - name: web\n    version: not-semver\n    urls: [x.tgz]\n";

    #[test]
    fn index_get_follows_helms_order() {
        let idx = load_index(INDEX).unwrap();
        // no version: the newest stable one
        assert_eq!(index_get(&idx, "web", "").unwrap().version, "1.5.0");
        // a constraint admitting pre-releases
        assert_eq!(
            index_get(&idx, "web", ">0.0.0-0").unwrap().version,
            "2.0.0-rc.1"
        );
        assert_eq!(index_get(&idx, "web", "~1.0").unwrap().version, "1.0.0");
        assert_eq!(
            index_get(&idx, "web", "3.x").unwrap_err(),
            "no chart version found for web-3.x"
        );
        assert_eq!(
            index_get(&idx, "nope", "").unwrap_err(),
            "no chart name found"
        );
        // an entry without a valid version is dropped when the index is read
        assert!(index_get(&idx, "web", "not-semver").is_err());
        assert_eq!(
            load_index("entries: {}\n").unwrap_err(),
            "no API version specified"
        );
    }

    #[test]
    fn reference_urls_resolve_against_the_repository() {
        assert_eq!(
            crate::native::helm::deps::resolve_url("http://h/charts", "web-1.0.0.tgz").unwrap(),
            "http://h/charts/web-1.0.0.tgz"
        );
        assert_eq!(
            crate::native::helm::deps::resolve_url("http://h/charts/", "https://cdn/x.tgz")
                .unwrap(),
            "https://cdn/x.tgz"
        );
        assert_eq!(percent_decode("a%20b.tgz"), "a b.tgz");
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}

//! `helm registry login|logout`, `helm push`, `helm pull`, `helm show`.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::args::{flag, FlagSpec, Parsed};
use super::chart::Metadata;
use super::{loader, parse_flags, CmdError, CmdResult};
use crate::native::oci::{
    self, Client, ClientOptions, ConfigFile, Credential, Location, Reference, Repo,
};

pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
pub const CHART_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
pub const PROV_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.provenance.v1.prov";
pub const LEGACY_CHART_MEDIA_TYPE: &str = "application/tar+gzip";

const UNDERSCORE_NOTE: &str = "\nOCI artifact references (e.g. tags) do not support the plus sign (+). To support\nstoring semantic versions, Helm adopts the convention of changing plus (+) to\nan underscore (_) in chart version tags when pushing to a registry and back to\na plus (+) when pulling from a registry.\n";

/// ChartPathOptions besides the TLS/auth ones: where a chart comes from and its checks.
pub(crate) const CHART_PATH_FLAGS: &[FlagSpec] = &[
    flag("version", None, true),
    flag("devel", None, false),
    flag("repo", None, true),
    flag("verify", None, false),
    flag("keyring", None, true),
    flag("pass-credentials", None, false),
];

pub(crate) const TLS_FLAGS: &[FlagSpec] = &[
    flag("cert-file", None, true),
    flag("key-file", None, true),
    flag("ca-file", None, true),
    flag("insecure-skip-tls-verify", None, false),
    flag("plain-http", None, false),
    flag("username", None, true),
    flag("password", None, true),
];

fn user_agent() -> String {
    format!("Helm/{}", super::HELM_COMPAT_VERSION)
}

fn opt_path(p: &Parsed, k: &str) -> Option<PathBuf> {
    p.get(k).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// Registry client configured from the TLS/auth flags shared by push, pull and show.
pub(crate) fn client_from(p: &Parsed, insecure_flag: &str) -> Result<Client, CmdError> {
    let (u, pw) = (p.str("username"), p.str("password"));
    let credential = if !u.is_empty() && !pw.is_empty() {
        Some(Credential::basic(&u, &pw))
    } else {
        None
    };
    if let Some(rc) = p.get("registry-config") {
        // the credential store reads $HELM_REGISTRY_CONFIG; honour --registry-config too
        std::env::set_var("HELM_REGISTRY_CONFIG", rc);
    }
    Client::new(ClientOptions {
        plain_http: p.bool("plain-http"),
        insecure_skip_tls_verify: p.bool(insecure_flag),
        ca_file: opt_path(p, "ca-file"),
        cert_file: opt_path(p, "cert-file"),
        key_file: opt_path(p, "key-file"),
        user_agent: user_agent(),
        credential,
        anonymous: false,
    })
    .map_err(|e| CmdError::Fail(e.to_string()))
}

fn run_async<T>(f: impl std::future::Future<Output = Result<T, String>>) -> Result<T, CmdError> {
    oci::block_on(f)
        .map_err(|e| CmdError::Fail(e.to_string()))?
        .map_err(CmdError::Fail)
}

// ---- registry login / logout --------------------------------------------------------------

pub fn registry_cmd(args: &[String]) -> CmdResult {
    let Some(pos) = args.iter().position(|a| !a.starts_with('-')) else {
        return Err(CmdError::FallThrough("registry".into()));
    };
    let mut rest = args.to_vec();
    let sub = rest.remove(pos);
    match sub.as_str() {
        "login" => login(&rest),
        "logout" => logout(&rest),
        other => Err(CmdError::FallThrough(format!("registry {other}"))),
    }
}

fn config_path(p: &Parsed) -> PathBuf {
    match p.get("registry-config") {
        Some(r) if !r.is_empty() => PathBuf::from(r),
        _ => oci::credentials::helm_registry_config_path(),
    }
}

/// Host normalisation of `helm registry login` (v3.18+): drop a scheme, cut at `/`.
pub fn strip_url(host: &str) -> String {
    let h = host
        .strip_prefix("oci://")
        .or_else(|| host.strip_prefix("http://"))
        .or_else(|| host.strip_prefix("https://"))
        .unwrap_or(host);
    h.split('/').next().unwrap_or(h).to_string()
}

fn login(args: &[String]) -> CmdResult {
    let specs = [
        flag("username", Some('u'), true),
        flag("password", Some('p'), true),
        flag("password-stdin", None, false),
        flag("insecure", None, false),
        flag("cert-file", None, true),
        flag("key-file", None, true),
        flag("ca-file", None, true),
        flag("plain-http", None, false),
    ];
    let p = parse_flags("registry login", args, &specs)?;
    if p.positional.len() != 1 {
        return Err(
            "\"helm registry login\" requires 1 argument\n\nUsage:  helm registry login [host] [flags]".into(),
        );
    }
    let host = strip_url(&p.positional[0]);
    let mut username = p.str("username");
    let mut password = p.str("password");
    if p.bool("password-stdin") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| e.to_string())?;
        let mut s = String::from_utf8_lossy(&buf).into_owned();
        if s.ends_with('\n') {
            s.pop();
        }
        if s.ends_with('\r') {
            s.pop();
        }
        password = s;
    } else if password.is_empty() {
        if username.is_empty() {
            eprint!("Username: ");
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            username = line.trim().to_string();
        }
        let prompt = if username.is_empty() {
            "Token: "
        } else {
            "Password: "
        };
        password = rpassword::prompt_password(prompt).map_err(|e| e.to_string())?;
        if password.is_empty() {
            return Err(if username.is_empty() {
                "token required"
            } else {
                "password required"
            }
            .into());
        }
    } else {
        eprintln!("WARNING: Using --password via the CLI is insecure. Use --password-stdin.");
    }
    let cred = if username.is_empty() {
        Credential {
            identity_token: password.clone(),
            ..Default::default()
        }
    } else {
        Credential::basic(&username, &password)
    };
    if cred.username.contains(':') {
        return Err(oci::CredentialError::ColonInUsername.to_string().into());
    }
    let client = Client::new(ClientOptions {
        plain_http: p.bool("plain-http"),
        insecure_skip_tls_verify: p.bool("insecure"),
        ca_file: opt_path(&p, "ca-file"),
        cert_file: opt_path(&p, "cert-file"),
        key_file: opt_path(&p, "key-file"),
        user_agent: user_agent(),
        credential: Some(cred.clone()),
        anonymous: false,
    })
    .map_err(|e| CmdError::Fail(e.to_string()))?;
    let h = host.clone();
    run_async(async move {
        // OAuth2 password grant first (as Helm), then the plain token flow.
        if client.ping(&h, true).await.is_ok() {
            return Ok(());
        }
        let fresh = Client::new(client.options().clone()).map_err(|e| e.to_string())?;
        fresh
            .ping(&h, false)
            .await
            .map_err(|e| format!("authenticating to {h:?}: {e}"))
    })?;
    let path = config_path(&p);
    let mut cfg = ConfigFile::load(&path).map_err(|e| e.to_string())?;
    cfg.put(&host, &cred).map_err(|e| e.to_string())?;
    // Helm 4 hands the registry client the command's stdout (pkg/cmd/root.go); Helm 3 wrote
    // these lines to stderr.
    println!("Login Succeeded");
    Ok(())
}

fn logout(args: &[String]) -> CmdResult {
    let p = parse_flags("registry logout", args, &[])?;
    if p.positional.len() != 1 {
        return Err("\"helm registry logout\" requires 1 argument\n\nUsage:  helm registry logout [host] [flags]".into());
    }
    let host = &p.positional[0];
    let path = config_path(&p);
    let mut cfg = ConfigFile::load(&path).map_err(|e| e.to_string())?;
    println!("Removing login credentials for {host}");
    cfg.delete(host).map_err(|e| e.to_string())?;
    Ok(())
}

// ---- push -------------------------------------------------------------------------------

/// OCI annotations Helm derives from the chart (`generateOCIAnnotations`).
pub fn oci_annotations(meta: &Metadata, created: &str) -> Vec<(String, String)> {
    let mut a: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: &str| {
        if !v.trim().is_empty() {
            a.retain(|(ek, _)| ek != k);
            a.push((k.to_string(), v.to_string()));
        }
    };
    add("org.opencontainers.image.description", &meta.description);
    add("org.opencontainers.image.title", &meta.name);
    add("org.opencontainers.image.version", &meta.version);
    add("org.opencontainers.image.url", &meta.home);
    add("org.opencontainers.image.created", created);
    if let Some(s) = meta.sources.first() {
        add("org.opencontainers.image.source", s);
    }
    let authors: Vec<String> = meta
        .maintainers
        .iter()
        .flatten()
        .map(|m| {
            if m.email.is_empty() {
                m.name.clone()
            } else {
                format!("{} ({})", m.name, m.email)
            }
        })
        .collect();
    add("org.opencontainers.image.authors", &authors.join(", "));
    for (k, v) in &meta.annotations {
        if k == "org.opencontainers.image.version" || k == "org.opencontainers.image.title" {
            continue;
        }
        a.retain(|(ek, _)| ek != k);
        a.push((k.clone(), v.clone()));
    }
    a.sort_by(|x, y| x.0.cmp(&y.0));
    a
}

fn descriptor(media_type: &str, data: &[u8]) -> Value {
    let mut o = Map::new();
    o.insert("mediaType".into(), Value::String(media_type.into()));
    o.insert("digest".into(), Value::String(oci::sha256_digest(data)));
    o.insert("size".into(), Value::from(data.len() as u64));
    Value::Object(o)
}

/// The manifest bytes Helm pushes (no top-level mediaType, layers sorted by digest).
pub fn helm_manifest(
    config: &[u8],
    chart: &[u8],
    prov: Option<&[u8]>,
    annotations: &[(String, String)],
) -> Vec<u8> {
    let mut layers = vec![descriptor(CHART_MEDIA_TYPE, chart)];
    if let Some(p) = prov {
        layers.push(descriptor(PROV_MEDIA_TYPE, p));
    }
    layers.sort_by(|a, b| a["digest"].as_str().cmp(&b["digest"].as_str()));
    let mut m = Map::new();
    m.insert("schemaVersion".into(), Value::from(2));
    m.insert("config".into(), descriptor(CONFIG_MEDIA_TYPE, config));
    m.insert("layers".into(), Value::Array(layers));
    if !annotations.is_empty() {
        let mut a = Map::new();
        for (k, v) in annotations {
            a.insert(k.clone(), Value::String(v.clone()));
        }
        m.insert("annotations".into(), Value::Object(a));
    }
    oci::json::to_go_json(&Value::Object(m)).into_bytes()
}

/// `created` annotation: the file's mtime as RFC 3339 in the local zone (`Z` for UTC).
pub fn created_from_mtime(path: &Path) -> String {
    let t = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| std::time::SystemTime::now());
    let dt: chrono::DateTime<chrono::Local> = t.into();
    dt.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `oci://host/ns` → `host/ns` (or the scheme errors Helm prints). `oci-layout://DIR`
/// passes through unchanged: it names an OCI image layout directory.
fn strip_oci(remote: &str) -> Result<String, String> {
    if remote.starts_with(oci::LAYOUT_SCHEME) {
        return Ok(remote.to_string());
    }
    match remote.strip_prefix("oci://") {
        Some(r) => Ok(r.to_string()),
        None => match remote.split_once("://") {
            Some((scheme, _)) => Err(format!("scheme {scheme:?} not supported")),
            None => Err("scheme prefix missing from remote (e.g. \"oci://\")".into()),
        },
    }
}

/// Applies Helm's `+` → `_` tag conversion to the last `:` segment of `raw`.
fn mangle_tag(raw: &str) -> String {
    let base = raw.split('@').next().unwrap_or(raw);
    match base.rsplit_once(':') {
        Some((_, tag)) if !tag.contains('/') && tag.contains('+') => {
            raw.replace(tag, &tag.replace('+', "_"))
        }
        _ => raw.to_string(),
    }
}

pub fn push(args: &[String]) -> CmdResult {
    let mut specs = TLS_FLAGS.to_vec();
    specs.push(flag("output", Some('o'), true));
    let p = parse_flags("push", args, &specs)?;
    if p.positional.len() < 2 {
        return Err("\"helm push\" requires at least 2 arguments\n\nUsage:  helm push [chart] [remote] [flags]".into());
    }
    let output = p.str("output");
    if !matches!(output.as_str(), "" | "table" | "json" | "yaml") {
        return Err(format!("invalid format type {output:?}").into());
    }
    let chart_path = Path::new(&p.positional[0]);
    let md = std::fs::metadata(chart_path)
        .map_err(|_| format!("{}: no such file", chart_path.display()))?;
    if md.is_dir() {
        return Err("cannot push directory, must provide chart archive (.tgz)".into());
    }
    let remote = strip_oci(&p.positional[1])?;
    let data = std::fs::read(chart_path)
        .map_err(|e| format!("{}: {}", chart_path.display(), loader::io_msg(&e)))?;
    let ch = loader::load_archive_file(chart_path, &mut super::warn)?;
    let prov_path = PathBuf::from(format!("{}.prov", chart_path.display()));
    let prov = std::fs::read(&prov_path).ok();
    let meta = &ch.metadata;
    // As for a registry, the chart name is appended: `oci-layout://DIR` holds one layout
    // per chart (`DIR/<name>`), tagged with the version.
    let raw_ref = format!(
        "{}:{}",
        loader::go_path_clean(&format!("{}/{}", remote, meta.name)),
        meta.version
    );
    let location = if let Some(dir) = remote.strip_prefix(oci::LAYOUT_SCHEME) {
        if dir.trim_end_matches('/').is_empty() {
            return Err(format!(
                "{remote:?} names no directory (expected {}DIR)",
                oci::LAYOUT_SCHEME
            )
            .into());
        }
        let dir = Path::new(dir).join(&meta.name);
        Location::Layout {
            dir: PathBuf::from(loader::go_path_clean(&dir.to_string_lossy())),
            reference: meta.version.replace('+', "_"),
        }
    } else {
        Location::Registry(Reference::parse(&mangle_tag(&raw_ref)).map_err(|e| e.to_string())?)
    };
    let config = meta.to_config_json().into_bytes();
    let annotations = oci_annotations(meta, &created_from_mtime(chart_path));
    let manifest = helm_manifest(&config, &data, prov.as_deref(), &annotations);
    let repo = Repo::open(&location, true, || {
        client_from(&p, "insecure-skip-tls-verify").map_err(|e| match e {
            CmdError::Fail(m) | CmdError::FallThrough(m) | CmdError::UnknownFlag(_, m) => {
                oci::OciError::Tls(m)
            }
        })
    })
    .map_err(|e| e.to_string())?;
    let tag = location.reference().to_string();
    let total = config.len() + data.len() + prov.as_ref().map_or(0, Vec::len);
    let digest = run_async(async move {
        let e = |e: oci::OciError| e.to_string();
        let progress = super::progress::Progress::start("Pushing", total);
        // Blobs first, manifest last: a failure never leaves a tag pointing at missing data.
        repo.push_blob(&config).await.map_err(e)?;
        progress.advance(config.len());
        repo.push_blob(&data).await.map_err(e)?;
        progress.advance(data.len());
        if let Some(pv) = &prov {
            repo.push_blob(pv).await.map_err(e)?;
            progress.advance(pv.len());
        }
        let d = repo
            .push_manifest(&tag, oci::OCI_MANIFEST, &manifest)
            .await
            .map_err(e);
        progress.finish();
        d
    })?;
    let shown = location.to_string();
    match output.as_str() {
        "json" | "yaml" => {
            let mut o = Map::new();
            o.insert("ref".into(), Value::String(shown.clone()));
            o.insert("digest".into(), Value::String(digest.clone()));
            o.insert("name".into(), Value::String(meta.name.clone()));
            o.insert("version".into(), Value::String(meta.version.clone()));
            o.insert(
                "tag".into(),
                Value::String(location.reference().to_string()),
            );
            let v = Value::Object(o);
            if output == "json" {
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                print!("{}", super::yaml::emit(&super::chart::json_to_yaml(&v)));
            }
        }
        _ => {
            println!("Pushed: {shown}");
            println!("Digest: {digest}");
        }
    }
    if location.reference().contains('_') {
        print!("{shown} contains an underscore.\n{UNDERSCORE_NOTE}");
    }
    Ok(())
}

// ---- pull / show ------------------------------------------------------------------------

/// A chart fetched from a registry or an OCI image layout.
pub struct Pulled {
    pub reference: Location,
    pub digest: String,
    pub meta: Metadata,
    pub chart: Vec<u8>,
    pub prov: Option<Vec<u8>>,
}

/// Resolves `oci://…` or `oci-layout://DIR` (+ `--version`) and downloads the chart (and
/// prov when asked). `client` builds the registry client; a layout needs none.
pub fn fetch_chart(
    client: impl FnOnce() -> Result<Client, CmdError>,
    src: &str,
    version: &str,
    want_prov: bool,
) -> Result<Pulled, CmdError> {
    let rest = strip_oci(src)?;
    let mut reference = if rest.starts_with(oci::LAYOUT_SCHEME) {
        Location::parse(&mangle_tag(&rest))?
    } else {
        Location::Registry(Reference::parse(&mangle_tag(&rest)).map_err(|e| e.to_string())?)
    };
    let version = version.to_string();
    if !reference.reference().is_empty() && !reference.is_digest() && !version.is_empty() {
        let tag_v = reference.reference().replace('_', "+");
        if tag_v != version {
            return Err(
                format!("chart reference and version mismatch: {version} is not {tag_v}").into(),
            );
        }
    }
    let mut client_err = None;
    let repo = Repo::open(&reference, false, || {
        client().map_err(|e| {
            let m = match e {
                CmdError::Fail(m) | CmdError::FallThrough(m) | CmdError::UnknownFlag(_, m) => m,
            };
            client_err = Some(m.clone());
            oci::OciError::Tls(m)
        })
    })
    .map_err(|e| client_err.take().unwrap_or_else(|| e.to_string()))?;
    run_async(async move {
        let e = |e: oci::OciError| e.to_string();
        let repo_name = reference.repo_name();
        if reference.reference().is_empty() {
            // a version `semver.NewVersion` accepts (`v0.1.0`, `1.2`) is the tag itself
            let tag = if super::semver::parse_lenient(&version).is_ok() {
                version.replace('+', "_")
            } else {
                let tags = repo.list_tags().await.map_err(e)?;
                let mut vs: Vec<(super::semver::Version, String)> = tags
                    .iter()
                    .filter_map(|t| {
                        super::semver::parse_strict(&t.replace('_', "+"))
                            .ok()
                            .map(|v| (v, t.clone()))
                    })
                    .collect();
                vs.sort_by(|a, b| b.0.cmp_precedence(&a.0));
                let mut found = None;
                for (v, t) in vs {
                    if super::semver::satisfies(&version, &v)? {
                        found = Some(t);
                        break;
                    }
                }
                found.ok_or_else(|| {
                    if version.is_empty() {
                        let shown = if repo_name.starts_with(oci::LAYOUT_SCHEME) {
                            repo_name.clone()
                        } else {
                            format!("oci://{repo_name}")
                        };
                        format!("Unable to locate any tags in provided repository: {shown}")
                    } else {
                        format!(
                            "could not locate a version matching provided version string {version}"
                        )
                    }
                })?
            };
            reference = reference.with_reference(&tag);
        }
        let m = repo.get_manifest(reference.reference()).await.map_err(e)?;
        let mv: Value =
            serde_json::from_slice(&m.bytes).map_err(|x| format!("invalid manifest: {x}"))?;
        let cfg_desc = &mv["config"];
        if cfg_desc["mediaType"].as_str() != Some(CONFIG_MEDIA_TYPE) {
            return Err(format!(
                "could not load config with mediatype {CONFIG_MEDIA_TYPE}"
            ));
        }
        let layers = mv["layers"].as_array().cloned().unwrap_or_default();
        let find = |mt: &str| {
            layers
                .iter()
                .find(|l| l["mediaType"].as_str() == Some(mt))
                .map(|l| {
                    (
                        l["digest"].as_str().unwrap_or_default().to_string(),
                        l["size"].as_u64(),
                    )
                })
        };
        let chart_digest = match find(CHART_MEDIA_TYPE) {
            Some(d) => d,
            None => match find(LEGACY_CHART_MEDIA_TYPE) {
                Some(d) => {
                    println!("Warning: chart media type {LEGACY_CHART_MEDIA_TYPE} is deprecated");
                    d
                }
                None => {
                    return Err(format!(
                        "manifest does not contain a layer with mediatype {CHART_MEDIA_TYPE}"
                    ))
                }
            },
        };
        let cfg = (
            cfg_desc["digest"].as_str().unwrap_or_default().to_string(),
            cfg_desc["size"].as_u64(),
        );
        let config = fetch_layer(&repo, "config", &cfg, oci::MAX_METADATA_SIZE).await?;
        let meta: Metadata = {
            let text = String::from_utf8_lossy(&config).into_owned();
            Metadata::from_yaml(text.as_bytes())
                .map_err(|x| format!("unable to load chart config: {x}"))?
        };
        // A compressed chart bigger than Helm's limit on the decompressed chart cannot load.
        let chart = fetch_layer(&repo, "chart", &chart_digest, loader::MAX_CHART_SIZE).await?;
        let prov = if want_prov {
            match find(PROV_MEDIA_TYPE) {
                Some(d) => {
                    Some(fetch_layer(&repo, "provenance", &d, oci::MAX_METADATA_SIZE).await?)
                }
                None => {
                    return Err(format!(
                        "manifest does not contain a layer with mediatype {PROV_MEDIA_TYPE}"
                    ))
                }
            }
        } else {
            None
        };
        Ok(Pulled {
            reference,
            digest: m.digest,
            meta,
            chart,
            prov,
        })
    })
    .inspect(say_pulled)
}

/// What Helm 4's registry client prints after every chart it pulls (`pull`, `show`,
/// `template`, `dependency update|build`, `package -u`): to the command's stdout.
fn say_pulled(pulled: &Pulled) {
    println!("Pulled: {}", pulled.reference);
    println!("Digest: {}", pulled.digest);
    if pulled.reference.reference().contains('_') {
        print!(
            "{} contains an underscore.\n{UNDERSCORE_NOTE}",
            pulled.reference
        );
    }
}

/// Downloads the blob of a manifest descriptor `(digest, size)`: the size must be given and
/// at most `limit`, and the bytes must match both.
async fn fetch_layer(
    repo: &Repo,
    what: &str,
    (digest, size): &(String, Option<u64>),
    limit: u64,
) -> Result<Vec<u8>, String> {
    let Some(size) = *size else {
        return Err(format!(
            "manifest {what} layer {digest:?} has no size (refused)"
        ));
    };
    if size > limit {
        return Err(format!(
            "manifest {what} layer {digest} is {size} bytes, over the {limit}-byte limit (refused)"
        ));
    }
    repo.fetch_blob_sized(digest, size)
        .await
        .map_err(|e| e.to_string())
}

/// The file name `helm pull` writes: the last path segment of the repository and the tag
/// (`_` back to `+`) that was requested or resolved, as Helm's chart downloader builds it
/// from the reference — never from the chart's own metadata, which the registry controls.
/// A digest reference gives `<name>@sha256-<hex>.tgz`, as Helm's does.
pub fn pulled_file_name(reference: &Location) -> Result<String, String> {
    let base = match reference {
        Location::Registry(r) => r
            .repository
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string(),
        Location::Layout { dir, .. } => dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let r = reference.reference();
    let name = if reference.is_digest() {
        format!("{base}@{}.tgz", r.replacen(':', "-", 1))
    } else {
        format!("{base}-{}.tgz", r.replace('_', "+"))
    };
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "._-+@".contains(c);
    if base.is_empty() || base.starts_with('.') || r.is_empty() || !name.chars().all(ok_char) {
        return Err(format!(
            "refusing to write chart file {name:?}: the name must be a plain file name made of the repository's last path segment and the version"
        ));
    }
    Ok(name)
}

pub fn pull(args: &[String]) -> CmdResult {
    let mut specs = TLS_FLAGS.to_vec();
    specs.extend_from_slice(&[
        flag("destination", Some('d'), true),
        flag("untar", None, false),
        flag("untardir", None, true),
        flag("prov", None, false),
    ]);
    specs.extend_from_slice(CHART_PATH_FLAGS);
    specs.extend_from_slice(COSIGN_PULL_FLAGS);
    let p = parse_flags("pull", args, &specs)?;
    let cosign_opts = cosign_verify_options(&p)?;
    if p.positional.is_empty() {
        return Err("\"helm pull\" requires at least 1 argument\n\nUsage:  helm pull [chart URL | repo/chartname] [...] [flags]".into());
    }
    // Helm pulls each argument in turn
    for src in &p.positional {
        pull_one(&p, src, cosign_opts.as_ref())?;
    }
    Ok(())
}

/// `helm pull` of a chart repository's chart (`REPO/CHART`, `--repo URL CHART`, an
/// archive URL): nothing is printed but `--verify`'s lines (or `--prov`'s warning).
fn pull_from_repository(p: &Parsed, src: &str) -> CmdResult {
    use super::chartrepo::{self, Prov};
    let verify = p.bool("verify");
    let mut version = p.str("version");
    if version.is_empty() && p.bool("devel") {
        version = ">0.0.0-0".into();
    }
    let mode = if verify {
        Prov::Always
    } else if p.bool("prov") {
        Prov::Later
    } else {
        Prov::Never
    };
    let f = chartrepo::fetch(p, src, &version, mode)?;
    if let Some(w) = &f.warning {
        print!("{w}");
    }
    let ch = loader::load_archive(&f.data, &mut super::warn)?;
    if verify {
        print!(
            "{}",
            super::chartrepo::verify_prov(
                &f.file_name,
                &f.data,
                f.prov.as_deref(),
                &keyring_of(p)
            )?
        );
    }
    write_pulled(p, &ch, &f.file_name, &f.data, f.prov.as_deref())
}

/// `--keyring`, or Helm's default keyring.
fn keyring_of(p: &Parsed) -> PathBuf {
    p.get("keyring")
        .map(PathBuf::from)
        .unwrap_or_else(super::package::default_keyring)
}

/// Writes a pulled chart where `helm pull` puts it: unpacked under `--untar`, else the
/// archive (and its provenance file) in `--destination`.
fn write_pulled(
    p: &Parsed,
    ch: &loader::Chart,
    fname: &str,
    data: &[u8],
    prov: Option<&[u8]>,
) -> CmdResult {
    let dest = PathBuf::from(
        p.get("destination")
            .filter(|d| !d.is_empty())
            .unwrap_or("."),
    );
    std::fs::create_dir_all(&dest)
        .map_err(|e| format!("{}: {}", dest.display(), loader::io_msg(&e)))?;
    if p.bool("untar") {
        let udir = dest.join(p.get("untardir").filter(|d| !d.is_empty()).unwrap_or("."));
        expand(&udir, ch, data)?;
    } else {
        let out = dest.join(fname);
        super::save::write_atomic(&out, data, 0o644).map_err(|e| e.to_string())?;
        if let Some(pv) = prov {
            let pp = dest.join(format!("{fname}.prov"));
            super::save::write_atomic(&pp, pv, 0o644).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn pull_one(
    p: &Parsed,
    src: &str,
    cosign_opts: Option<&crate::native::cosign::VerifyOptions>,
) -> CmdResult {
    if !src.starts_with("oci://") && !src.starts_with(oci::LAYOUT_SCHEME) {
        if cosign_opts.is_some() {
            return Err("--verify-cosign needs an oci:// chart".into());
        }
        return pull_from_repository(p, src);
    }
    let verify = p.bool("verify");
    let pulled = fetch_chart(
        || client_from(p, "insecure-skip-tls-verify"),
        src,
        &p.str("version"),
        verify || p.bool("prov"),
    )?;
    // Refuse hostile archives before writing anything.
    let ch = loader::load_archive(&pulled.chart, &mut super::warn)?;
    if let Some(o) = cosign_opts {
        // The signature is checked on the digest of the manifest just downloaded (not on the
        // tag again), so what is written below is exactly what was verified.
        verify_signature(&pulled, o)?;
    }
    let fname = pulled_file_name(&pulled.reference)?;
    if verify {
        print!(
            "{}",
            super::chartrepo::verify_prov(
                &fname,
                &pulled.chart,
                pulled.prov.as_deref(),
                &keyring_of(p)
            )?
        );
    }
    write_pulled(p, &ch, &fname, &pulled.chart, pulled.prov.as_deref())
}

/// oxtask's extension to `helm pull`: `--verify-cosign` refuses a chart unless a cosign
/// signature on its manifest digest verifies (identity and issuer, or `--cosign-key`).
pub const COSIGN_PULL_FLAGS: &[FlagSpec] = &[
    flag("verify-cosign", None, false),
    flag("certificate-identity", None, true),
    flag("certificate-identity-regexp", None, true),
    flag("certificate-oidc-issuer", None, true),
    flag("certificate-oidc-issuer-regexp", None, true),
    flag("cosign-key", None, true),
    flag("trusted-root", None, true),
    flag("insecure-ignore-tlog", None, false),
];

/// The cosign policy of `helm pull --verify-cosign`, or `None` without that flag (then the
/// policy flags are refused: they would silently do nothing).
fn cosign_verify_options(
    p: &Parsed,
) -> Result<Option<crate::native::cosign::VerifyOptions>, CmdError> {
    let opt = |k: &str| p.get(k).filter(|v| !v.is_empty()).map(str::to_string);
    if !p.bool("verify-cosign") {
        if let Some(f) = COSIGN_PULL_FLAGS[1..]
            .iter()
            .find(|f| p.get(f.long).is_some())
        {
            return Err(format!("--{} requires --verify-cosign", f.long).into());
        }
        return Ok(None);
    }
    let o = crate::native::cosign::VerifyOptions {
        key: opt("cosign-key"),
        certificate_identity: opt("certificate-identity"),
        certificate_identity_regexp: opt("certificate-identity-regexp"),
        certificate_oidc_issuer: opt("certificate-oidc-issuer"),
        certificate_oidc_issuer_regexp: opt("certificate-oidc-issuer-regexp"),
        trusted_root: opt("trusted-root").map(PathBuf::from),
        insecure_ignore_tlog: p.bool("insecure-ignore-tlog"),
        registry: crate::native::cosign::RegistryOpts {
            allow_http: p.bool("plain-http"),
            allow_insecure: p.bool("insecure-skip-tls-verify"),
            ca_file: opt_path(p, "ca-file"),
        },
        ..Default::default()
    };
    if o.key.is_none() {
        if o.certificate_identity.is_none() && o.certificate_identity_regexp.is_none() {
            return Err("--verify-cosign needs --certificate-identity (or --certificate-identity-regexp) or --cosign-key".into());
        }
        if o.certificate_oidc_issuer.is_none() && o.certificate_oidc_issuer_regexp.is_none() {
            return Err("--verify-cosign needs --certificate-oidc-issuer (or --certificate-oidc-issuer-regexp) or --cosign-key".into());
        }
    }
    Ok(Some(o))
}

fn verify_signature(
    pulled: &Pulled,
    o: &crate::native::cosign::VerifyOptions,
) -> Result<(), CmdError> {
    let image = format!("{}@{}", pulled.reference.repo_name(), pulled.digest);
    let v = crate::native::cosign::verify_image(&image, o).map_err(|e| {
        format!("chart {image} is not signed as required, nothing was written: {e}")
    })?;
    for s in &v.signatures {
        match (&s.subject, &s.issuer) {
            (Some(sub), Some(iss)) => {
                eprintln!("Verified: cosign signature by {sub} (issuer {iss})")
            }
            _ => eprintln!("Verified: cosign signature with the given key"),
        }
    }
    if o.insecure_ignore_tlog {
        eprintln!("WARNING: the transparency log was not checked (--insecure-ignore-tlog)");
    }
    Ok(())
}

/// `chartutil.Expand`: writes the archive's files under `<dir>/<chart name>/` (names were
/// already checked by the loader: no absolute paths, no `..`, no links).
pub fn expand(dir: &Path, ch: &loader::Chart, data: &[u8]) -> Result<(), String> {
    let name = ch.name();
    if name.contains('/') || name.contains('\\') || name == "." || name == ".." {
        return Err(format!(
            "chart name {name:?} must not contain path separators"
        ));
    }
    let target = dir.join(name);
    if target.exists() {
        return Err(format!(
            "failed to untar: a file or directory with the name {} already exists",
            target.display()
        ));
    }
    for f in loader::archive_files(data)? {
        let out = target.join(&f.name);
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("{}: {}", parent.display(), loader::io_msg(&e)))?;
        }
        super::save::write_atomic(&out, &f.data, 0o644)
            .map_err(|e| format!("{}: {e}", out.display()))?;
    }
    Ok(())
}

pub fn show(args: &[String]) -> CmdResult {
    let Some(pos) = args.iter().position(|a| !a.starts_with('-')) else {
        return Err(CmdError::FallThrough("show".into()));
    };
    let mut rest = args.to_vec();
    let what = rest.remove(pos);
    if !matches!(
        what.as_str(),
        "chart" | "values" | "readme" | "all" | "crds"
    ) {
        return Err(CmdError::FallThrough(format!("show {what}")));
    }
    let mut specs = TLS_FLAGS.to_vec();
    specs.extend_from_slice(CHART_PATH_FLAGS);
    if what == "values" {
        specs.push(flag("jsonpath", None, true));
    }
    let p = parse_flags(&format!("show {what}"), &rest, &specs)?;
    if p.positional.len() != 1 {
        return Err(format!(
            "\"helm show {what}\" requires 1 argument\n\nUsage:  helm show {what} [CHART] [flags]"
        )
        .into());
    }
    let src = &p.positional[0];
    let ch = if src.starts_with("oci://") || src.starts_with(oci::LAYOUT_SCHEME) {
        let pulled = fetch_chart(
            || client_from(&p, "insecure-skip-tls-verify"),
            src,
            &p.str("version"),
            false,
        )?;
        loader::load_archive(&pulled.chart, &mut super::warn)?
    } else if p.get("repo").is_none_or(str::is_empty) && Path::new(src).exists() {
        if p.bool("verify") {
            return Err(CmdError::FallThrough(format!("show {what} --verify")));
        }
        loader::load(Path::new(src), &mut super::warn)?
    } else if p.get("repo").is_none_or(str::is_empty)
        && (Path::new(src).is_absolute() || src.starts_with('.'))
    {
        return Err(format!("path {src:?} not found").into());
    } else {
        let data = super::chartrepo::locate(&p, src)?;
        loader::load_archive(&data, &mut super::warn)?
    };
    let jsonpath = p.get("jsonpath").filter(|t| !t.is_empty());
    print!("{}", show_text(&ch, &what, jsonpath)?);
    Ok(())
}

/// What `helm show WHAT` prints (action.Show.Run): `all` joins chart, values, readme and
/// CRDs with `---` lines.
pub fn show_text(ch: &loader::Chart, what: &str, jsonpath: Option<&str>) -> Result<String, String> {
    let all = what == "all";
    let mut out = String::new();
    if what == "chart" || all {
        out.push_str(&ch.metadata.to_chart_yaml(false));
        out.push('\n');
    }
    if what == "values" || all {
        if let Some(v) = &ch.values {
            if all {
                out.push_str("---\n");
            }
            match jsonpath {
                // client-go's JSONPath over the values; an action that fails prints nothing
                Some(t) => {
                    super::jsonpath::check(t)
                        .map_err(|e| format!("error parsing jsonpath {t}: {e}"))?;
                    let vals = super::yaml::parse(&String::from_utf8_lossy(v))
                        .unwrap_or(super::yaml::Yaml::Map(vec![]));
                    if let Ok(Some(text)) = super::jsonpath::execute(t, &vals) {
                        out.push_str(&text);
                    }
                }
                None => {
                    out.push_str(&String::from_utf8_lossy(v));
                    out.push('\n');
                }
            }
        }
    }
    if what == "readme" || all {
        let readme = ch.files.iter().find(|f| {
            let l = f.name.to_ascii_lowercase();
            matches!(l.as_str(), "readme.md" | "readme.txt" | "readme")
        });
        if let Some(f) = readme {
            if all {
                out.push_str("---\n");
            }
            out.push_str(&String::from_utf8_lossy(&f.data));
            out.push('\n');
        }
    }
    if what == "crds" || all {
        let mut crds = Vec::new();
        crd_files(ch, &mut crds);
        for data in crds {
            if !data.starts_with(b"---") {
                out.push_str("---\n");
            }
            out.push_str(&String::from_utf8_lossy(data));
            out.push('\n');
        }
    }
    Ok(out)
}

/// `Chart.CRDObjects`: `crds/*.{yaml,yml,json}` of the chart, then of each subchart.
fn crd_files<'a>(ch: &'a loader::Chart, out: &mut Vec<&'a [u8]>) {
    for f in &ch.files {
        let lower = f.name.to_ascii_lowercase();
        let ext_ok = [".yaml", ".yml", ".json"]
            .iter()
            .any(|e| lower.ends_with(e));
        if f.name.starts_with("crds/") && ext_ok {
            out.push(&f.data);
        }
    }
    for d in &ch.dependencies {
        crd_files(d, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulled_file_names_come_from_the_reference() {
        let l = |s: &str| Location::parse(s).unwrap();
        assert_eq!(
            pulled_file_name(&l("h:5000/ns/chart:1.0.0_b.1")).unwrap(),
            "chart-1.0.0+b.1.tgz"
        );
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            pulled_file_name(&l(&format!("h/c@{d}"))).unwrap(),
            format!("c@sha256-{}.tgz", "a".repeat(64))
        );
        assert_eq!(
            pulled_file_name(&l("oci-layout://out/charts/lc:0.1.0")).unwrap(),
            "lc-0.1.0.tgz"
        );
        assert!(pulled_file_name(&l("oci-layout://out/..:0.1.0")).is_err());
        assert!(pulled_file_name(&l("h/c")).is_err());
    }

    #[test]
    fn secrets_are_redacted() {
        let args: Vec<String> = [
            "pull",
            "oci://u:pw123@h/c:1",
            "--password",
            "p4ss",
            "--registry-token=tkn",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            crate::native::redact_secrets("bad \"u:pw123@h\" p4ss tkn oci://a:b@c/", &args),
            "bad \"u:xxxxx@h\" xxxxx xxxxx oci://a:xxxxx@c/"
        );
    }

    #[test]
    fn tags_and_remotes() {
        assert_eq!(mangle_tag("h/ns/c:1.0.0+b.1"), "h/ns/c:1.0.0_b.1");
        assert_eq!(mangle_tag("h:5000/ns/c:1.0.0"), "h:5000/ns/c:1.0.0");
        assert_eq!(strip_oci("oci://h/x").unwrap(), "h/x");
        assert_eq!(
            strip_oci("https://h/x").unwrap_err(),
            "scheme \"https\" not supported"
        );
        assert!(strip_oci("h/x")
            .unwrap_err()
            .starts_with("scheme prefix missing"));
        assert_eq!(strip_url("https://h:5000/x/y"), "h:5000");
    }

    #[test]
    fn annotations_override_rules() {
        let mut m = Metadata::from_yaml(b"name: c\nversion: 1.0.0\ndescription: d\nhome: https://h\nsources: [https://s]\nmaintainers: [{name: A, email: a@x}, {name: B}]\nannotations: {org.opencontainers.image.title: nope, org.opencontainers.image.created: later}\n").unwrap();
        m.api_version = "v2".into();
        let a = oci_annotations(&m, "2020-01-01T00:00:00Z");
        let get = |k: &str| a.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
        assert_eq!(get("org.opencontainers.image.title"), Some("c"));
        assert_eq!(get("org.opencontainers.image.created"), Some("later"));
        assert_eq!(get("org.opencontainers.image.authors"), Some("A (a@x), B"));
        assert_eq!(get("org.opencontainers.image.url"), Some("https://h"));
        assert_eq!(get("org.opencontainers.image.source"), Some("https://s"));
    }
}

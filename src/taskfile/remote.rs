//! Remote Taskfiles over HTTP(S), as go-task 3.53+ reads them: a HEAD probe (falling back to
//! the default Taskfile names under the URL), a cache under `<cache dir>/remote`, a trust
//! prompt keyed on the content's sha256, `checksum:` pinning, `--offline`/`--download`/
//! `--expiry`, one `--timeout` for the whole read, `--insecure` for plain http.
//!
//! Cache layout is go-task's own (`http.<host>.<dir>.<file>.<sha256(url)>.{yaml,checksum,
//! timestamp}`), so a project can switch between go-task and oxtask and keep its cache and
//! trust decisions.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use thiserror::Error;

/// go-task's default for `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Content types the HEAD probe accepts as "this URL is a Taskfile".
const ALLOWED_CONTENT_TYPES: [&str; 6] = [
    "text/plain",
    "text/yaml",
    "text/x-yaml",
    "application/yaml",
    "application/x-yaml",
    "application/octet-stream",
];

const UNTRUSTED_PROMPT: &str = "The task you are attempting to run depends on the remote Taskfile at \"{}\".\n--- Make sure you trust the source of this Taskfile before continuing ---\nContinue?";
const CHANGED_PROMPT: &str = "The Taskfile at \"{}\" has changed since you last used it!\n--- Make sure you trust the source of this Taskfile before continuing ---\nContinue?";

#[derive(Debug, Clone)]
pub struct RemoteOptions {
    pub insecure: bool,
    pub download: bool,
    pub offline: bool,
    /// `host` or `host:port`, compared exactly with the URL's authority.
    pub trusted_hosts: Vec<String>,
    /// Budget for reading every remote Taskfile of one load.
    pub timeout: Duration,
    /// How long a cached copy is used without asking the server (0: always ask).
    pub expiry: Duration,
    /// go-task's `TempDir.Remote`; the cache itself is its `remote/` subdirectory.
    pub cache_dir: PathBuf,
    pub cacert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub cert_key: Option<PathBuf>,
    pub assume_yes: bool,
    pub verbose: bool,
    pub color: bool,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            insecure: false,
            download: false,
            offline: false,
            trusted_hosts: vec![],
            timeout: DEFAULT_TIMEOUT,
            expiry: Duration::ZERO,
            cache_dir: PathBuf::from(".task"),
            cacert: None,
            cert: None,
            cert_key: None,
            assume_yes: false,
            verbose: false,
            color: false,
        }
    }
}

impl RemoteOptions {
    /// The directory `--clear-cache` removes.
    pub fn cache_path(&self) -> PathBuf {
        self.cache_dir.join("remote")
    }
}

/// go-task's messages (without the `task: ` prefix the caller adds) and exit codes.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RemoteError {
    #[error("No Taskfile found at \"{0}\"")]
    NotFound(String),
    #[error("Download of \"{uri}\" failed{}", status.map(|s| format!(" with status code {s} ({})", status_text(s))).unwrap_or_default())]
    FetchFailed { uri: String, status: Option<u16> },
    #[error("Taskfile \"{0}\" not trusted by user")]
    NotTrusted(String),
    #[error("Taskfile \"{0}\" cannot be downloaded over an insecure connection. You can override this by using the --insecure flag")]
    NotSecure(String),
    #[error("Taskfile \"{0}\" was not found in the cache. Remove the --offline flag to use a remote copy or download it using the --download flag")]
    CacheNotFound(String),
    #[error("Network connection timed out after {} while attempting to download Taskfile \"{uri}\"", go_duration(*timeout))]
    Timeout { uri: String, timeout: Duration },
    #[error("The checksum of the Taskfile at \"{uri}\" does not match!\ngot: \"{actual}\"\nwant: \"{expected}\"")]
    ChecksumMismatch {
        uri: String,
        expected: String,
        actual: String,
    },
    /// Bad TLS material, an unreadable cache, a malformed URL.
    #[error("{0}")]
    Other(String),
}

impl RemoteError {
    pub fn exit_code(&self) -> i32 {
        match self {
            RemoteError::NotFound(_) => 100,
            RemoteError::FetchFailed { .. } => 103,
            RemoteError::NotTrusted(_) => 104,
            RemoteError::NotSecure(_) => 105,
            RemoteError::CacheNotFound(_) => 106,
            RemoteError::Timeout { .. } => 108,
            RemoteError::ChecksumMismatch { .. } => 111,
            RemoteError::Other(_) => 1,
        }
    }

    /// Errors go-task raises while creating the include's node, which `optional: true` skips.
    pub fn skippable_when_optional(&self) -> bool {
        matches!(self, RemoteError::NotSecure(_) | RemoteError::Other(_))
    }
}

/// Go's `http.StatusText` for the codes a server plausibly answers.
fn status_text(code: u16) -> &'static str {
    match code {
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        410 => "Gone",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        other => reqwest::StatusCode::from_u16(other)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or(""),
    }
}

/// Go's `time.Duration.String()`.
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    let frac = |v: u128, unit: u128| -> String {
        let whole = v / unit;
        let rest = v % unit;
        if rest == 0 {
            return whole.to_string();
        }
        let digits = unit.to_string().len() - 1;
        let s = format!("{whole}.{rest:0digits$}");
        s.trim_end_matches('0').to_string()
    };
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", frac(ns, 1_000));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", frac(ns, 1_000_000));
    }
    let h = ns / 3_600_000_000_000;
    let m = (ns / 60_000_000_000) % 60;
    let s = frac(ns % 60_000_000_000, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m{s}s"),
        (h, m) => format!("{h}h{m}m{s}s"),
    }
}

/// Go's `time.ParseDuration`, with its error texts (pflag prints them for bad flags).
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    let invalid = || format!("time: invalid duration \"{s}\"");
    let mut rest = s;
    let neg = rest.starts_with('-');
    rest = rest.strip_prefix(['-', '+']).unwrap_or(rest);
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let n_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..n_end];
        if num.is_empty() || num == "." {
            return Err(invalid());
        }
        let n: f64 = num.parse().map_err(|_| invalid())?;
        rest = &rest[n_end..];
        let u_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..u_end];
        let mult = match unit {
            "" => return Err(format!("time: missing unit in duration \"{s}\"")),
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            other => {
                return Err(format!(
                    "time: unknown unit \"{other}\" in duration \"{s}\""
                ))
            }
        };
        total += n * mult;
        rest = &rest[u_end..];
    }
    if neg {
        // A negative budget: nothing may be downloaded.
        return Ok(Duration::ZERO);
    }
    Ok(Duration::from_secs_f64(total))
}

/// True for the entrypoints this module reads.
pub fn is_remote(s: &str) -> bool {
    let l = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// Resolves an include written in a remote Taskfile against that file's URL (RFC 3986).
pub fn join(base: &str, reference: &str) -> Result<String, RemoteError> {
    let b =
        url::Url::parse(base).map_err(|e| RemoteError::Other(format!("parse \"{base}\": {e}")))?;
    let j = b
        .join(reference)
        .map_err(|e| RemoteError::Other(format!("parse \"{reference}\": {e}")))?;
    Ok(j.to_string())
}

/// sha256 of a Taskfile's bytes, lowercase hex: what `checksum:` pins.
pub fn checksum(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// A pinned `checksum:` must match the file's sha256 (local or remote).
pub fn verify_pinned(
    location: &str,
    content: &[u8],
    pinned: Option<&str>,
) -> Result<(), RemoteError> {
    let Some(want) = pinned.filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let got = checksum(content);
    if got != want {
        return Err(RemoteError::ChecksumMismatch {
            uri: location.to_string(),
            expected: want.to_string(),
            actual: got,
        });
    }
    Ok(())
}

/// The pieces of a URL string as Go's `url.URL` keeps them (authority as written, so
/// `host:443` stays `host:443` for `--trusted-hosts`).
struct RawUrl<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    host: &'a str,
    path: &'a str,
}

fn split_url(s: &str) -> Option<RawUrl<'_>> {
    let (scheme, rest) = s.split_once("://")?;
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    let (userinfo, host) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let after = &rest[auth_end..];
    let path_end = after.find(['?', '#']).unwrap_or(after.len());
    Some(RawUrl {
        scheme,
        userinfo,
        host,
        path: &after[..path_end],
    })
}

/// Go's `url.Redacted()`: a password in the URL never reaches a message or the cache key.
pub fn redact(s: &str) -> String {
    let Some(u) = split_url(s) else {
        return s.to_string();
    };
    match u.userinfo.and_then(|ui| ui.split_once(':')) {
        Some((user, _)) => {
            let start = u.scheme.len() + 3;
            let at = start + u.userinfo.map(str::len).unwrap_or(0);
            format!("{}{user}:xxxxx{}", &s[..start], &s[at..])
        }
        None => s.to_string(),
    }
}

/// go-task's cache key: `http.<host>.<last dir>.<file>.<sha256 of the redacted URL>`.
fn cache_key(location: &str) -> String {
    let (host, path) = split_url(location)
        .map(|u| (u.host, u.path))
        .unwrap_or(("", ""));
    let sum = checksum(location.as_bytes());
    let (dir, file) = match path.rfind('/') {
        Some(i) => (&path[..=i], &path[i + 1..]),
        None => ("", path),
    };
    // filepath.Base of the directory part.
    let trimmed = dir.trim_end_matches('/');
    let last_dir = if dir.is_empty() {
        "."
    } else if trimmed.is_empty() {
        "/"
    } else {
        trimmed.rsplit('/').next().unwrap_or(trimmed)
    };
    let prefix = if last_dir.len() > 1 {
        format!("{last_dir}.{file}")
    } else {
        file.to_string()
    };
    format!("http.{host}.{prefix}.{sum}")
}

/// A remote Taskfile, read.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL as go-task shows it (password redacted): the Taskfile's location.
    pub location: String,
    pub content: Vec<u8>,
    /// Where the cached copy lives (written on every successful download).
    pub cache_file: PathBuf,
}

enum NetError {
    /// The load's time budget ran out.
    Timeout,
    Fail(RemoteError),
}

/// One load's remote reads: shares the HTTP clients, the deadline and the prompt.
pub struct Remote {
    opts: RemoteOptions,
    /// Shown in the timeout message, as go-task names the root Taskfile there.
    root: String,
    deadline: Instant,
    /// Keyed by (loopback: no proxy, https: TLS material loaded).
    clients: Mutex<HashMap<(bool, bool), reqwest::Client>>,
    prompt_lock: Mutex<()>,
}

impl Remote {
    /// Starts the `--timeout` budget now; `root` is the entrypoint's location.
    pub fn new(opts: RemoteOptions, root: &str) -> Self {
        let deadline = Instant::now() + opts.timeout;
        Remote {
            opts,
            root: redact(root),
            deadline,
            clients: Mutex::new(HashMap::new()),
            prompt_lock: Mutex::new(()),
        }
    }

    pub fn options(&self) -> &RemoteOptions {
        &self.opts
    }

    fn debug(&self, msg: &str) {
        if self.opts.verbose {
            self.stdout(msg, crate::color::Color::Magenta);
        }
    }

    fn stdout(&self, msg: &str, color: crate::color::Color) {
        let mut o = std::io::stdout().lock();
        if self.opts.color && std::io::stdout().is_terminal() {
            let _ = o.write_all(crate::color::paint(color, msg).as_bytes());
        } else {
            let _ = o.write_all(msg.as_bytes());
        }
        let _ = o.flush();
    }

    /// go-task's prompt: `--yes` answers it, no terminal refuses it, else `y`/`yes` accepts.
    fn prompt(&self, msg: &str) -> bool {
        let _g = self.prompt_lock.lock().unwrap_or_else(|p| p.into_inner());
        if self.opts.assume_yes {
            self.stdout(
                &format!("{msg} [assuming yes]\n"),
                crate::color::Color::Yellow,
            );
            return true;
        }
        if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
            return false;
        }
        self.stdout(&format!("{msg} [y/N]: "), crate::color::Color::Yellow);
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line).is_err() {
            return false;
        }
        matches!(line.trim().to_lowercase().as_str(), "y" | "yes")
    }

    fn is_trusted(&self, location: &str) -> bool {
        let host = split_url(location).map(|u| u.host).unwrap_or("");
        self.opts.trusted_hosts.iter().any(|h| h == host)
    }

    /// Checks that the URL may be used at all (go-task does this when it creates the node,
    /// before `optional:` is considered).
    pub fn check(&self, url: &str) -> Result<(), RemoteError> {
        if url
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
            && !self.opts.insecure
        {
            return Err(RemoteError::NotSecure(redact(url)));
        }
        if self.opts.cert.is_some() != self.opts.cert_key.is_some() {
            return Err(RemoteError::Other(
                "both --cert and --cert-key must be provided together".into(),
            ));
        }
        url::Url::parse(url)
            .map_err(|e| RemoteError::Other(format!("parse \"{}\": {e}", redact(url))))?;
        Ok(())
    }

    /// Reads one remote Taskfile through the cache, asking for trust when its content is new.
    pub fn fetch(&self, url: &str, pinned: Option<&str>) -> Result<Fetched, RemoteError> {
        self.check(url)?;
        let location = redact(url);
        let pinned = pinned.filter(|p| !p.is_empty());
        let dir = self.opts.cache_path();
        let key = cache_key(&location);
        let file = dir.join(format!("{key}.yaml"));
        let sum_file = dir.join(format!("{key}.checksum"));
        let ts_file = dir.join(format!("{key}.timestamp"));

        let now = SystemTime::now();
        let stamp = std::fs::read_to_string(&ts_file)
            .ok()
            .and_then(|s| parse_rfc3339(s.trim()));
        let cache_valid = stamp.is_some_and(|t| t <= now && now < t + self.opts.expiry);
        let found = |content: Vec<u8>| Fetched {
            location: location.clone(),
            content,
            cache_file: file.clone(),
        };

        self.debug(&format!(
            "checking cache for \"{location}\" in \"{}\"\n",
            file.display()
        ));
        let cached = match std::fs::read(&file) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(RemoteError::Other(format!("open {}: {e}", file.display()))),
        };
        match &cached {
            None => {
                self.debug("no cache found\n");
                if self.opts.offline {
                    return Err(RemoteError::CacheNotFound(location));
                }
            }
            Some(b) if !cache_valid => {
                let expired_at = stamp
                    .map(|t| t + self.opts.expiry)
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                self.debug(&format!(
                    "cache expired at {}\n",
                    format_rfc3339(expired_at)
                ));
                if self.opts.offline {
                    self.debug("in offline mode, using expired cache\n");
                    verify_pinned(&location, b, pinned)?;
                    return Ok(found(b.clone()));
                }
            }
            Some(b) => {
                self.debug("cache found\n");
                if !self.opts.download {
                    verify_pinned(&location, b, pinned)?;
                    return Ok(found(b.clone()));
                }
            }
        }

        self.debug(&format!("downloading remote file: {location}\n"));
        let body = match self.download(url, &location) {
            Ok(b) => b,
            Err(NetError::Timeout) => match cached {
                // Out of time, but a cached copy exists: go-task falls back to it.
                Some(b) => {
                    let what = if cache_valid {
                        "using cache"
                    } else {
                        "using expired cache"
                    };
                    self.debug(&format!(
                        "failed to fetch remote file: context deadline exceeded: {what}\n"
                    ));
                    verify_pinned(&location, &b, pinned)?;
                    return Ok(found(b));
                }
                None => {
                    return Err(RemoteError::Timeout {
                        uri: self.root.clone(),
                        timeout: self.opts.timeout,
                    })
                }
            },
            Err(NetError::Fail(e)) => return Err(e),
        };
        self.debug(&format!("found remote file at \"{location}\"\n"));
        verify_pinned(&location, &body, pinned)?;
        let sum = checksum(&body);
        if pinned.is_none() {
            let known = std::fs::read_to_string(&sum_file).unwrap_or_default();
            let prompt = if known.is_empty() {
                Some(UNTRUSTED_PROMPT)
            } else if known != sum {
                Some(CHANGED_PROMPT)
            } else {
                None
            };
            if let Some(p) = prompt {
                if !self.is_trusted(&location) && !self.prompt(&p.replace("{}", &location)) {
                    return Err(RemoteError::NotTrusted(location));
                }
            }
        }
        write_atomic(&sum_file, sum.as_bytes())?;
        write_atomic(&ts_file, format_rfc3339(now).as_bytes())?;
        self.debug(&format!(
            "caching \"{location}\" to \"{}\"\n",
            file.display()
        ));
        write_atomic(&file, &body)?;
        Ok(found(body))
    }

    fn remaining(&self) -> Option<Duration> {
        let r = self.deadline.saturating_duration_since(Instant::now());
        (!r.is_zero()).then_some(r)
    }

    fn client(&self, url: &url::Url) -> Result<reqwest::Client, NetError> {
        // Go never sends loopback traffic through a proxy; reqwest would.
        let direct = match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        let key = (direct, url.scheme() == "https");
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let c = build_client(&self.opts, key.1, direct).map_err(NetError::Fail)?;
        clients.insert(key, c.clone());
        Ok(c)
    }

    /// go-task's RemoteExists + GET: HEAD the URL; unless it answers 200 with a YAML-ish
    /// type, try the default Taskfile names under it; then download what was found.
    fn download(&self, raw: &str, location: &str) -> Result<Vec<u8>, NetError> {
        let url = url::Url::parse(raw).map_err(|e| {
            NetError::Fail(RemoteError::Other(format!("parse \"{location}\": {e}")))
        })?;
        let client = self.client(&url)?;
        let failed = |status: Option<u16>| {
            NetError::Fail(RemoteError::FetchFailed {
                uri: location.to_string(),
                status,
            })
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| NetError::Fail(RemoteError::Other(e.to_string())))?;
        // Its own thread, so that a caller already inside a runtime does not block it.
        std::thread::scope(|s| {
            s.spawn(|| {
                rt.block_on(async {
                    let send = |req: reqwest::RequestBuilder| async {
                        let Some(left) = self.remaining() else {
                            return Err(NetError::Timeout);
                        };
                        match req.timeout(left).send().await {
                            Ok(r) => Ok(r),
                            Err(e) if e.is_timeout() || self.remaining().is_none() => {
                                Err(NetError::Timeout)
                            }
                            Err(_) => Err(failed(None)),
                        }
                    };
                    let head = send(client.head(url.clone())).await?;
                    let ctype = head
                        .headers()
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    let ok = head.status() == reqwest::StatusCode::OK
                        && ALLOWED_CONTENT_TYPES.iter().any(|t| ctype.contains(t));
                    let target = if ok {
                        url.clone()
                    } else {
                        let mut hit = None;
                        for name in crate::taskfile::TASKFILE_NAMES {
                            let mut alt = url.clone();
                            alt.set_path(&format!("{}/{name}", url.path().trim_end_matches('/')));
                            let r = send(client.head(alt.clone())).await?;
                            if r.status() == reqwest::StatusCode::OK {
                                hit = Some(alt);
                                break;
                            }
                        }
                        hit.ok_or_else(|| {
                            NetError::Fail(RemoteError::NotFound(location.to_string()))
                        })?
                    };
                    let resp = send(client.get(target)).await?;
                    if resp.status() != reqwest::StatusCode::OK {
                        return Err(failed(Some(resp.status().as_u16())));
                    }
                    match resp.bytes().await {
                        Ok(b) => Ok(b.to_vec()),
                        Err(e) if e.is_timeout() || self.remaining().is_none() => {
                            Err(NetError::Timeout)
                        }
                        Err(e) => Err(NetError::Fail(RemoteError::Other(format!(
                            "reading \"{location}\": {e}"
                        )))),
                    }
                })
            })
            .join()
            .unwrap_or_else(|_| Err(failed(None)))
        })
    }
}

/// The HTTP client go-task's buildHTTPClient describes: `--insecure` skips verification,
/// `--cacert` replaces the system roots, `--cert`/`--cert-key` add a client identity.
fn build_client(
    opts: &RemoteOptions,
    tls: bool,
    direct: bool,
) -> Result<reqwest::Client, RemoteError> {
    let mut b =
        reqwest::Client::builder().user_agent(concat!("oxtask/", env!("CARGO_PKG_VERSION")));
    if direct {
        b = b.no_proxy();
    }
    // Trust material is only read when a https URL needs it.
    if tls {
        if opts.insecure {
            b = b.danger_accept_invalid_certs(true);
        }
        match &opts.cacert {
            Some(ca) => {
                let data = std::fs::read(ca).map_err(|e| {
                    RemoteError::Other(format!(
                        "failed to read CA certificate: {}",
                        go_io_error("open", ca, &e)
                    ))
                })?;
                let certs = reqwest::Certificate::from_pem_bundle(&data)
                    .ok()
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| RemoteError::Other("failed to parse CA certificate".into()))?;
                for c in certs {
                    b = b.add_root_certificate(c);
                }
            }
            None => {
                for c in system_roots() {
                    b = b.add_root_certificate(c);
                }
            }
        }
        if let (Some(cert), Some(key)) = (&opts.cert, &opts.cert_key) {
            let load = || -> Result<reqwest::Identity, String> {
                let mut pem = std::fs::read(cert).map_err(|e| go_io_error("open", cert, &e))?;
                pem.push(b'\n');
                pem.extend(std::fs::read(key).map_err(|e| go_io_error("open", key, &e))?);
                reqwest::Identity::from_pem(&pem).map_err(|e| e.to_string())
            };
            let id = load().map_err(|e| {
                RemoteError::Other(format!("failed to load client certificate: {e}"))
            })?;
            b = b.identity(id);
        }
    }
    b.build().map_err(|e| RemoteError::Other(e.to_string()))
}

/// An I/O error worded like Go's `*PathError` (`open ca.pem: no such file or directory`).
fn go_io_error(op: &str, path: &Path, e: &std::io::Error) -> String {
    let msg = e.to_string();
    let msg = msg.split(" (os error").next().unwrap_or(&msg).to_string();
    let mut c = msg.chars();
    let msg = match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => msg,
    };
    format!("{op} {}: {msg}", path.display())
}

/// The platform's trust store plus `SSL_CERT_FILE` (rustls-native-certs reads only the
/// variables when they are set, so the distribution bundle is added too).
fn system_roots() -> Vec<reqwest::Certificate> {
    let mut out = vec![];
    for c in rustls_native_certs::load_native_certs().certs {
        if let Ok(c) = reqwest::Certificate::from_der(c.as_ref()) {
            out.push(c);
        }
    }
    let mut files: Vec<PathBuf> = vec![];
    if let Some(f) = std::env::var_os("SSL_CERT_FILE") {
        files.push(f.into());
    }
    files.push("/etc/ssl/certs/ca-certificates.crt".into());
    for f in files {
        if let Ok(data) = std::fs::read(&f) {
            if let Ok(certs) = reqwest::Certificate::from_pem_bundle(&data) {
                out.extend(certs);
            }
        }
    }
    out
}

/// Writes through a temp file in the same directory and renames, so the cache never holds
/// a half-written Taskfile or checksum.
fn write_atomic(path: &Path, data: &[u8]) -> Result<(), RemoteError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let err = |e: std::io::Error| RemoteError::Other(format!("{}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(err)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("x"),
        std::process::id()
    ));
    let r = std::fs::write(&tmp, data).and_then(|_| std::fs::rename(&tmp, path));
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r.map_err(err)
}

/// `time.RFC3339` in UTC, as go-task stamps the cache.
fn format_rfc3339(t: SystemTime) -> String {
    let dt: chrono::DateTime<chrono::Utc> = t.into();
    dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc).into())
}

/// One-shot form for callers that read a single URL.
pub fn resolve(url: &str, opts: &RemoteOptions) -> Result<(PathBuf, String), RemoteError> {
    let f = Remote::new(opts.clone(), url).fetch(url, None)?;
    Ok((
        f.cache_file,
        String::from_utf8_lossy(&f.content).into_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keys_match_go_task() {
        // File names go-task 3.54 wrote for these URLs.
        assert_eq!(
            cache_key("http://127.0.0.1:18765/Taskfile.yml"),
            "http.127.0.0.1:18765.Taskfile.yml.5765ed19f83e5d1b087892f750900b2c8f6ba164a63bcb7e0561d3801cbce774"
        );
        assert_eq!(
            cache_key("http://127.0.0.1:18765/sub/Other.yml"),
            "http.127.0.0.1:18765.sub.Other.yml.198ad9c88b11837304e0e30f1d33ca76dcfd49f3531dab397b78174b3d70d455"
        );
        assert_eq!(
            cache_key("https://example.com"),
            format!("http.example.com..{}", checksum(b"https://example.com"))
        );
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("https://u:secret@h/x.yml"),
            "https://u:xxxxx@h/x.yml"
        );
        assert_eq!(redact("https://u@h/x.yml"), "https://u@h/x.yml");
        assert_eq!(redact("https://h/x.yml"), "https://h/x.yml");
        assert_eq!(
            cache_key(&redact("https://u:secret@h/x.yml")),
            cache_key("https://u:xxxxx@h/x.yml")
        );
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(Duration::from_secs(10)), "10s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(go_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(go_duration(Duration::from_secs(3725)), "1h2m5s");
        assert_eq!(parse_go_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(
            parse_go_duration("5").unwrap_err(),
            "time: missing unit in duration \"5\""
        );
        assert_eq!(
            parse_go_duration("xx").unwrap_err(),
            "time: invalid duration \"xx\""
        );
        assert_eq!(
            parse_go_duration("5y").unwrap_err(),
            "time: unknown unit \"y\" in duration \"5y\""
        );
    }

    #[test]
    fn hosts_and_joins() {
        assert!(is_remote("HTTPS://x"));
        assert!(!is_remote("./http.yml"));
        assert_eq!(
            join("http://h:1/a/Taskfile.yml", "./sub/O.yml").unwrap(),
            "http://h:1/a/sub/O.yml"
        );
        assert_eq!(
            join("http://h:1/a/Taskfile.yml", "https://o/x.yml").unwrap(),
            "https://o/x.yml"
        );
        assert_eq!(
            split_url("https://u:p@h:443/p?q").map(|u| u.host),
            Some("h:443")
        );
    }

    #[test]
    fn pinned_checksums() {
        assert!(verify_pinned("x", b"abc", None).is_ok());
        assert!(verify_pinned(
            "x",
            b"abc",
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        )
        .is_ok());
        let e = verify_pinned("x", b"abc", Some("foo")).unwrap_err();
        assert_eq!(e.exit_code(), 111);
        assert_eq!(
            e.to_string(),
            "The checksum of the Taskfile at \"x\" does not match!\ngot: \"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"\nwant: \"foo\""
        );
    }
}

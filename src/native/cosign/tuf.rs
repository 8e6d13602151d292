//! A TUF (The Update Framework, spec 1.0.x) client, as cosign and sigstore-go use to get
//! the Sigstore trust material (`trusted_root.json`, `signing_config.v0.2.json`) from a
//! TUF repository: the public-good one at <https://tuf-repo-cdn.sigstore.dev> by default.
//!
//! It follows the specification's "detailed client workflow": root rotation
//! (`N+1.root.json` until not found, each signed by a threshold of the old and of the new
//! root keys), timestamp, snapshot and targets with signature thresholds, version rollback
//! and expiry checks, consistent-snapshot file names, delegations (pre-order DFS) and
//! length + hash checked target downloads. Signatures cover the securesystemslib ("OLPC")
//! canonical JSON of `signed`. Key IDs are taken as the metadata declares them (Sigstore's
//! are not recomputable from the key content).
//!
//! Cache layout (sigstore-go's): `$TUF_ROOT` or `$HOME/.sigstore/root`, holding
//! `remote.json` (the mirror chosen by `cosign initialize`), `<mirror-as-path>.json` (time
//! of the last refresh) and `<mirror-as-path>/` with `root.json`, `timestamp.json`,
//! `snapshot.json`, `targets.json`, delegated roles and `targets/`. See docs/cosign.md.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};

use super::Error;

/// The public-good Sigstore TUF repository.
pub const DEFAULT_MIRROR: &str = "https://tuf-repo-cdn.sigstore.dev";

/// Initial root of the public-good repository: version 15 (expires 2026-11-20), from
/// github.com/sigstore/root-signing `metadata/root_history/15.root.json` (commit 55a34db,
/// also `metadata/root.json` there). An expired initial root is fine: the client only
/// starts from it and follows the signed rotations the mirror serves.
pub const PUBLIC_GOOD_ROOT: &[u8] = include_bytes!("tuf_public_good_root.json");

// Download limits (python-tuf's defaults, root and timestamp a bit larger).
const ROOT_LIMIT: u64 = 512 * 1024;
const TIMESTAMP_LIMIT: u64 = 512 * 1024;
const SNAPSHOT_LIMIT: u64 = 2_000_000;
const TARGETS_LIMIT: u64 = 5_000_000;
const MAX_ROOT_ROTATIONS: u64 = 256;
const MAX_DELEGATIONS: usize = 32;

/// How long cached metadata is used without asking the mirror (sigstore-go: one day).
pub const DEFAULT_CACHE_VALIDITY: Duration = Duration::from_secs(24 * 3600);

// ---------------------------------------------------------------------------------------
// Canonical JSON
// ---------------------------------------------------------------------------------------

/// securesystemslib / OLPC canonical JSON: object keys sorted, no whitespace, strings with
/// only `\` and `"` escaped (everything else verbatim UTF-8), integers only.
pub fn canonical_json(v: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    write_canonical(v, &mut out)?;
    Ok(out)
}

fn write_canonical_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for b in s.bytes() {
        if b == b'\\' || b == b'"' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

fn write_canonical(v: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                out.extend_from_slice(n.to_string().as_bytes());
            } else {
                return Err(format!("canonical JSON has no non-integer numbers ({n})"));
            }
        }
        Value::String(s) => write_canonical_str(s, out),
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(x, out)?;
            }
            out.push(b']');
        }
        Value::Object(m) => {
            // Byte order of UTF-8 equals code point order, which is what Python sorts by.
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical_str(k, out);
                out.push(b':');
                write_canonical(&m[k], out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Keys and signatures
// ---------------------------------------------------------------------------------------

enum KeyVerifier {
    P256(p256::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    RsaPss(rsa::RsaPublicKey),
}

impl KeyVerifier {
    fn from_json(k: &Value) -> Result<KeyVerifier, String> {
        let kt = k["keytype"].as_str().unwrap_or_default();
        let scheme = k["scheme"].as_str().unwrap_or_default();
        let public = k["keyval"]["public"]
            .as_str()
            .ok_or("key has no keyval.public")?
            .trim();
        match (kt, scheme) {
            ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => {
                use p256::pkcs8::DecodePublicKey;
                let pk = if public.starts_with("-----BEGIN") {
                    p256::PublicKey::from_public_key_pem(public)
                        .map_err(|e| format!("bad ECDSA P-256 PEM key: {e}"))?
                } else {
                    // go-tuf once wrote the SEC1 point as hex.
                    let raw = hex::decode(public).map_err(|_| "bad ECDSA key encoding")?;
                    p256::PublicKey::from_sec1_bytes(&raw).map_err(|_| "bad ECDSA P-256 key")?
                };
                Ok(KeyVerifier::P256(p256::ecdsa::VerifyingKey::from(&pk)))
            }
            ("ed25519", "ed25519") => {
                let raw: [u8; 32] = hex::decode(public)
                    .ok()
                    .and_then(|r| r.try_into().ok())
                    .ok_or("bad ed25519 key (want 32 hex-encoded bytes)")?;
                Ok(KeyVerifier::Ed25519(
                    ed25519_dalek::VerifyingKey::from_bytes(&raw).map_err(|_| "bad ed25519 key")?,
                ))
            }
            ("rsa", "rsassa-pss-sha256") => {
                use rsa::pkcs8::DecodePublicKey;
                Ok(KeyVerifier::RsaPss(
                    rsa::RsaPublicKey::from_public_key_pem(public)
                        .map_err(|e| format!("bad RSA PEM key: {e}"))?,
                ))
            }
            _ => Err(format!("unsupported key type {kt:?} / scheme {scheme:?}")),
        }
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        use p256::ecdsa::signature::Verifier;
        match self {
            KeyVerifier::P256(k) => {
                p256::ecdsa::Signature::from_der(sig).is_ok_and(|s| k.verify(msg, &s).is_ok())
            }
            KeyVerifier::Ed25519(k) => {
                ed25519_dalek::Signature::from_slice(sig).is_ok_and(|s| k.verify(msg, &s).is_ok())
            }
            KeyVerifier::RsaPss(k) => {
                let vk = rsa::pss::VerifyingKey::<Sha256>::new(k.clone());
                rsa::pss::Signature::try_from(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
            }
        }
    }
}

type Keys = HashMap<String, KeyVerifier>;

/// Keys of a root or a delegation; keys of types this client cannot use are left out
/// (they then count toward no threshold) rather than failing the whole document.
fn parse_keys(v: &Value) -> Keys {
    let mut out = HashMap::new();
    if let Some(m) = v.as_object() {
        for (id, k) in m {
            if let Ok(kv) = KeyVerifier::from_json(k) {
                out.insert(id.clone(), kv);
            }
        }
    }
    out
}

#[derive(Clone, Debug)]
struct Role {
    keyids: Vec<String>,
    threshold: usize,
}

impl Role {
    fn from_json(v: &Value, what: &str) -> Result<Role, String> {
        let keyids = v["keyids"]
            .as_array()
            .ok_or_else(|| format!("{what}: role has no keyids"))?
            .iter()
            .map(|k| k.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("{what}: keyids must be strings"))?;
        let threshold = v["threshold"]
            .as_u64()
            .filter(|t| *t >= 1)
            .ok_or_else(|| format!("{what}: role threshold must be a positive integer"))?;
        Ok(Role {
            keyids,
            threshold: threshold as usize,
        })
    }
}

/// Parsed metadata envelope: `signed`, its canonical bytes and the signatures.
struct Md {
    raw: Vec<u8>,
    signed: Value,
    canonical: Vec<u8>,
    sigs: Vec<(String, Vec<u8>)>,
    version: u64,
    expires: u64,
    expires_str: String,
}

impl Md {
    fn parse(raw: &[u8], typ: &str) -> Result<Md, String> {
        let v: Value =
            serde_json::from_slice(raw).map_err(|e| format!("not valid JSON metadata: {e}"))?;
        let signed = v
            .get("signed")
            .filter(|s| s.is_object())
            .ok_or("metadata has no \"signed\" object")?
            .clone();
        let t = signed["_type"].as_str().unwrap_or_default();
        if t != typ {
            return Err(format!("expected _type {typ:?}, got {t:?}"));
        }
        let spec = signed["spec_version"].as_str().unwrap_or_default();
        if spec.split('.').next() != Some("1") {
            return Err(format!("unsupported spec_version {spec:?}"));
        }
        let version = signed["version"]
            .as_u64()
            .filter(|v| *v >= 1)
            .ok_or("version must be a positive integer")?;
        let expires_str = signed["expires"]
            .as_str()
            .ok_or("metadata has no expires")?
            .to_string();
        let expires = super::trust::rfc3339_to_unix(&expires_str)
            .ok_or_else(|| format!("bad expires {expires_str:?}"))?;
        let mut sigs = Vec::new();
        for s in v["signatures"]
            .as_array()
            .ok_or("metadata has no signatures list")?
        {
            let keyid = s["keyid"].as_str().ok_or("signature without keyid")?;
            // Empty or malformed signatures (root-signing leaves "" for absent signers)
            // simply count for nothing.
            if let Some(sig) = s["sig"].as_str().and_then(|h| hex::decode(h).ok()) {
                sigs.push((keyid.to_string(), sig));
            }
        }
        let canonical = canonical_json(&signed)?;
        Ok(Md {
            raw: raw.to_vec(),
            signed,
            canonical,
            sigs,
            version,
            expires,
            expires_str,
        })
    }

    fn expired(&self, now: u64) -> bool {
        self.expires <= now
    }
}

/// Counts valid signatures by distinct keys of `role`; each key ID counts once.
fn count_valid(md: &Md, keys: &Keys, role: &Role) -> usize {
    let mut good: HashSet<&str> = HashSet::new();
    for (kid, sig) in &md.sigs {
        if good.contains(kid.as_str()) || !role.keyids.iter().any(|k| k == kid) {
            continue;
        }
        if keys.get(kid).is_some_and(|k| k.verify(&md.canonical, sig)) {
            good.insert(kid);
        }
    }
    good.len()
}

fn verify_role(md: &Md, keys: &Keys, role: &Role, what: &str) -> Result<(), String> {
    let n = count_valid(md, keys, role);
    if n >= role.threshold {
        Ok(())
    } else {
        Err(format!(
            "{what}: {n} valid signature(s), the threshold is {}",
            role.threshold
        ))
    }
}

struct Root {
    md: Md,
    keys: Keys,
    roles: HashMap<String, Role>,
    consistent_snapshot: bool,
}

impl Root {
    fn parse(raw: &[u8]) -> Result<Root, String> {
        let md = Md::parse(raw, "root")?;
        let keys = parse_keys(&md.signed["keys"]);
        let mut roles = HashMap::new();
        for r in ["root", "timestamp", "snapshot", "targets"] {
            let def = md
                .signed
                .get("roles")
                .and_then(|x| x.get(r))
                .ok_or_else(|| format!("root defines no {r} role"))?;
            roles.insert(r.to_string(), Role::from_json(def, r)?);
        }
        let consistent_snapshot = md.signed["consistent_snapshot"].as_bool().unwrap_or(false);
        Ok(Root {
            md,
            keys,
            roles,
            consistent_snapshot,
        })
    }

    fn verify(&self, md: &Md, role: &str, what: &str) -> Result<(), String> {
        verify_role(md, &self.keys, &self.roles[role], what)
    }
}

/// `meta` entry of timestamp/snapshot, or a target's file info.
#[derive(Clone, Debug)]
struct FileInfo {
    version: u64,
    length: Option<u64>,
    hashes: Vec<(String, Vec<u8>)>,
}

fn parse_hashes(v: &Value) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    if let Some(m) = v.as_object() {
        for (alg, h) in m {
            let bytes = h
                .as_str()
                .and_then(|s| hex::decode(s).ok())
                .ok_or_else(|| format!("bad {alg} hash"))?;
            out.push((alg.clone(), bytes));
        }
    }
    Ok(out)
}

impl FileInfo {
    fn meta(v: &Value, what: &str) -> Result<FileInfo, String> {
        let version = v["version"]
            .as_u64()
            .filter(|x| *x >= 1)
            .ok_or_else(|| format!("meta for {what} has no valid version"))?;
        Ok(FileInfo {
            version,
            length: v["length"].as_u64(),
            hashes: parse_hashes(&v["hashes"])?,
        })
    }

    fn target(v: &Value, what: &str) -> Result<FileInfo, String> {
        let length = v["length"]
            .as_u64()
            .ok_or_else(|| format!("target {what} has no length"))?;
        let hashes = parse_hashes(&v["hashes"])?;
        if hashes.is_empty() {
            return Err(format!("target {what} has no hashes"));
        }
        Ok(FileInfo {
            version: 0,
            length: Some(length),
            hashes,
        })
    }

    /// Length and every hash (sha256/sha512) must match; other algorithms are refused so
    /// that a file is never accepted unchecked.
    fn check(&self, data: &[u8], what: &str) -> Result<(), String> {
        if let Some(l) = self.length {
            if data.len() as u64 != l {
                return Err(format!(
                    "{what}: length {} does not match the expected {l}",
                    data.len()
                ));
            }
        }
        for (alg, want) in &self.hashes {
            let got = match alg.as_str() {
                "sha256" => Sha256::digest(data).to_vec(),
                "sha512" => Sha512::digest(data).to_vec(),
                _ => return Err(format!("{what}: unsupported hash algorithm {alg:?}")),
            };
            if &got != want {
                return Err(format!("{what}: {alg} hash does not match"));
            }
        }
        Ok(())
    }
}

struct Timestamp {
    md: Md,
    snapshot: FileInfo,
}

impl Timestamp {
    fn parse(raw: &[u8]) -> Result<Timestamp, String> {
        let md = Md::parse(raw, "timestamp")?;
        let snapshot = FileInfo::meta(&md.signed["meta"]["snapshot.json"], "snapshot.json")?;
        Ok(Timestamp { md, snapshot })
    }
}

struct Snapshot {
    md: Md,
    meta: HashMap<String, FileInfo>,
}

impl Snapshot {
    fn parse(raw: &[u8]) -> Result<Snapshot, String> {
        let md = Md::parse(raw, "snapshot")?;
        let mut meta = HashMap::new();
        for (name, v) in md.signed["meta"]
            .as_object()
            .ok_or("snapshot has no meta")?
        {
            meta.insert(name.clone(), FileInfo::meta(v, name)?);
        }
        if !meta.contains_key("targets.json") {
            return Err("snapshot lists no targets.json".into());
        }
        Ok(Snapshot { md, meta })
    }
}

struct DelegatedRole {
    name: String,
    role: Role,
    terminating: bool,
    paths: Option<Vec<String>>,
    hash_prefixes: Option<Vec<String>>,
}

impl DelegatedRole {
    fn matches(&self, target: &str) -> bool {
        if let Some(paths) = &self.paths {
            // Glob per path segment: `*` never crosses a `/` (as Go's filepath.Match).
            return paths
                .iter()
                .any(|p| crate::gomatch::go_match(p, target).unwrap_or(false));
        }
        if let Some(prefixes) = &self.hash_prefixes {
            let h = hex::encode(Sha256::digest(target.as_bytes()));
            return prefixes.iter().any(|p| h.starts_with(p.as_str()));
        }
        false
    }
}

struct Targets {
    md: Md,
    targets: HashMap<String, FileInfo>,
    keys: Keys,
    delegations: Vec<DelegatedRole>,
}

impl Targets {
    fn parse(raw: &[u8]) -> Result<Targets, String> {
        let md = Md::parse(raw, "targets")?;
        let mut targets = HashMap::new();
        if let Some(m) = md.signed["targets"].as_object() {
            for (name, v) in m {
                targets.insert(name.clone(), FileInfo::target(v, name)?);
            }
        }
        let d = &md.signed["delegations"];
        let keys = parse_keys(&d["keys"]);
        let mut delegations = Vec::new();
        for r in d["roles"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let name = r["name"]
                .as_str()
                .ok_or("delegated role without name")?
                .to_string();
            let strs = |v: &Value| -> Option<Vec<String>> {
                v.as_array().map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
            };
            delegations.push(DelegatedRole {
                role: Role::from_json(r, &name)?,
                terminating: r["terminating"].as_bool().unwrap_or(false),
                paths: strs(&r["paths"]),
                hash_prefixes: strs(&r["path_hash_prefixes"]),
                name,
            });
        }
        Ok(Targets {
            md,
            targets,
            keys,
            delegations,
        })
    }
}

// ---------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------

/// Failure classes: a network failure may fall back to a valid cache; anything else (bad
/// signature, rollback, expiry, hash mismatch) never does.
#[derive(Debug)]
enum TufErr {
    Network(String),
    Invalid(String),
}

impl TufErr {
    fn text(&self) -> &str {
        match self {
            TufErr::Network(s) | TufErr::Invalid(s) => s,
        }
    }
}

/// Where and how to talk to a TUF repository.
#[derive(Clone, Debug)]
pub struct TufOptions {
    /// Cache base directory (`$TUF_ROOT` or `$HOME/.sigstore/root`).
    pub cache_dir: PathBuf,
    /// Repository base URL.
    pub mirror: String,
    /// Initial trusted root; `None`: the embedded public-good root for the default
    /// mirror, else the cached `root.json` of that mirror.
    pub root: Option<Vec<u8>>,
    /// Use cached metadata without asking the mirror when refreshed this recently;
    /// `None` always refreshes (a cache still serves when the mirror is unreachable).
    pub cache_validity: Option<Duration>,
    /// The instant (Unix seconds) metadata expiry and cache age are judged at; `None`: the
    /// system clock. Tests fix it so no result depends on the wall clock.
    pub now: Option<u64>,
}

/// `$TUF_ROOT`, else `$HOME/.sigstore/root` (cosign's TUF cache).
pub fn cache_base() -> PathBuf {
    if let Some(d) = std::env::var_os("TUF_ROOT").filter(|v| !v.is_empty()) {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".sigstore").join("root")
}

/// sigstore-go's `URLToPath`: scheme stripped, `/` and `:` to `-`, lower case.
pub fn url_to_path(url: &str) -> String {
    let s = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    s.replace(['/', ':'], "-").to_lowercase()
}

fn normalize_mirror(m: &str) -> String {
    m.trim().trim_end_matches('/').to_string()
}

impl TufOptions {
    /// cosign's choice: cache `$TUF_ROOT`/`$HOME/.sigstore/root`; mirror `$TUF_MIRROR`,
    /// else the one `cosign initialize` stored in `remote.json`, else the public good;
    /// initial root `$TUF_ROOT_JSON` when set.
    pub fn from_env() -> Result<TufOptions, Error> {
        let cache_dir = cache_base();
        let mirror = match std::env::var("TUF_MIRROR").ok().filter(|v| !v.is_empty()) {
            Some(m) => m,
            None => {
                let p = cache_dir.join("remote.json");
                match std::fs::read(&p) {
                    Ok(b) => serde_json::from_slice::<Value>(&b)
                        .ok()
                        .and_then(|v| v["mirror"].as_str().map(str::to_string))
                        .filter(|m| !m.is_empty())
                        .ok_or_else(|| {
                            Error::Trust(format!("{}: no \"mirror\" in it", p.display()))
                        })?,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        DEFAULT_MIRROR.to_string()
                    }
                    Err(e) => return Err(Error::Trust(format!("reading {}: {e}", p.display()))),
                }
            }
        };
        let root = match std::env::var_os("TUF_ROOT_JSON").filter(|v| !v.is_empty()) {
            Some(p) => Some(std::fs::read(&p).map_err(|e| {
                Error::Trust(format!(
                    "reading TUF_ROOT_JSON {}: {e}",
                    Path::new(&p).display()
                ))
            })?),
            None => None,
        };
        Ok(TufOptions {
            cache_dir,
            mirror: normalize_mirror(&mirror),
            root,
            cache_validity: Some(DEFAULT_CACHE_VALIDITY),
            now: None,
        })
    }

    /// This mirror's metadata directory inside the cache.
    pub fn metadata_dir(&self) -> PathBuf {
        self.cache_dir
            .join(url_to_path(&normalize_mirror(&self.mirror)))
    }
}

/// Writes `data` to `path` through a temporary file and a rename.
fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(name);
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A TUF client with verified, current top-level metadata.
pub struct Client {
    mirror: String,
    dir: PathBuf,
    http: reqwest::Client,
    now: u64,
    root: Root,
    timestamp: Option<Timestamp>,
    snapshot: Option<Snapshot>,
    targets: Option<Targets>,
    delegated: HashMap<String, Targets>,
}

impl Client {
    /// Opens the repository: loads the trusted root and the cache, then refreshes from
    /// the mirror unless the cache is recent enough (see [`TufOptions::cache_validity`]).
    /// When the mirror cannot be reached, verified unexpired cached metadata is used.
    pub async fn open(opts: &TufOptions) -> Result<Client, Error> {
        let mirror = normalize_mirror(&opts.mirror);
        let dir = opts.metadata_dir();
        let err = |m: String| Error::Trust(format!("TUF repository {mirror}: {m}"));
        let cached_root = std::fs::read(dir.join("root.json")).ok();
        let anchor: Vec<u8> = match (&opts.root, mirror == DEFAULT_MIRROR) {
            (Some(r), _) => r.clone(),
            (None, true) => PUBLIC_GOOD_ROOT.to_vec(),
            (None, false) => cached_root.clone().ok_or_else(|| {
                err(format!(
                    "no cached root.json in {} (run `cosign initialize --mirror {mirror} --root ROOT.json`)",
                    dir.display()
                ))
            })?,
        };
        let mut root = Root::parse(&anchor).map_err(|e| err(format!("initial root: {e}")))?;
        root.verify(
            &root.md,
            "root",
            "initial root.json is not signed by its own keys",
        )
        .map_err(err)?;
        // A newer root verified on an earlier run (and self-consistent) replaces the
        // initial one, so the rotation chain is not walked again every time.
        if let Some(c) = cached_root.as_deref().and_then(|b| Root::parse(b).ok()) {
            if c.md.version > root.md.version && c.verify(&c.md, "root", "").is_ok() {
                root = c;
            }
        }
        let http = reqwest::Client::builder()
            .user_agent(format!("oxtask-cosign/{}", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(20))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| err(format!("HTTP client: {}", super::http_error(&e))))?;
        let mut c = Client {
            mirror: mirror.clone(),
            dir,
            http,
            now: opts.now.unwrap_or_else(now_unix),
            root,
            timestamp: None,
            snapshot: None,
            targets: None,
            delegated: HashMap::new(),
        };
        c.load_cached();
        let stamp = opts
            .cache_dir
            .join(format!("{}.json", url_to_path(&mirror)));
        let recent = opts.cache_validity.is_some_and(|v| {
            std::fs::read(&stamp)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|j| {
                    j["lastTimestamp"]
                        .as_str()
                        .and_then(super::trust::rfc3339_to_unix)
                })
                .is_some_and(|t| t <= c.now && c.now - t < v.as_secs())
        });
        if recent && c.offline_usable().is_ok() {
            return Ok(c);
        }
        match c.refresh().await {
            Ok(()) => {
                // the same instant expiry was judged at (a fixed one in tests)
                let ts = chrono::DateTime::from_timestamp(c.now as i64, 0)
                    .unwrap_or_default()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                // Only a hint for the next run: failing to write it is not an error.
                let _ = write_atomic(
                    &stamp,
                    serde_json::json!({ "lastTimestamp": ts })
                        .to_string()
                        .as_bytes(),
                );
                Ok(c)
            }
            Err(TufErr::Network(e)) => match c.offline_usable() {
                Ok(()) => {
                    eprintln!(
                        "WARNING: TUF repository {mirror} could not be reached ({e}); using the cached metadata (valid until {})",
                        c.cached_valid_until()
                    );
                    Ok(c)
                }
                Err(why) => Err(err(format!("{e} (and no usable cache: {why})"))),
            },
            Err(TufErr::Invalid(e)) => Err(err(e)),
        }
    }

    /// Trusted root version (after updates).
    pub fn root_version(&self) -> u64 {
        self.root.md.version
    }

    /// Loads cached timestamp/snapshot/targets whose signatures verify with the trusted
    /// root. They serve as rollback references even when expired or outdated.
    fn load_cached(&mut self) {
        let read = |n: &str| std::fs::read(self.dir.join(n)).ok();
        self.timestamp = read("timestamp.json")
            .and_then(|b| Timestamp::parse(&b).ok())
            .filter(|t| self.root.verify(&t.md, "timestamp", "").is_ok());
        self.snapshot = read("snapshot.json")
            .and_then(|b| Snapshot::parse(&b).ok())
            .filter(|s| self.root.verify(&s.md, "snapshot", "").is_ok());
        self.targets = read("targets.json")
            .and_then(|b| Targets::parse(&b).ok())
            .filter(|t| self.root.verify(&t.md, "targets", "").is_ok());
    }

    /// Cached metadata fit for use without the mirror: consistent and unexpired.
    fn offline_usable(&self) -> Result<(), String> {
        let now = self.now;
        if self.root.md.expired(now) {
            return Err(format!(
                "root.json (version {}) expired at {}",
                self.root.md.version, self.root.md.expires_str
            ));
        }
        let ts = self.timestamp.as_ref().ok_or("no cached timestamp.json")?;
        if ts.md.expired(now) {
            return Err(format!(
                "cached timestamp.json expired at {}",
                ts.md.expires_str
            ));
        }
        let sn = self.snapshot.as_ref().ok_or("no cached snapshot.json")?;
        if sn.md.version != ts.snapshot.version || sn.md.expired(now) {
            return Err("cached snapshot.json is outdated or expired".into());
        }
        let tg = self.targets.as_ref().ok_or("no cached targets.json")?;
        if tg.md.version != sn.meta["targets.json"].version || tg.md.expired(now) {
            return Err("cached targets.json is outdated or expired".into());
        }
        Ok(())
    }

    fn cached_valid_until(&self) -> String {
        [
            Some(&self.root.md),
            self.timestamp.as_ref().map(|t| &t.md),
            self.snapshot.as_ref().map(|s| &s.md),
            self.targets.as_ref().map(|t| &t.md),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|m| m.expires)
        .map(|m| m.expires_str.clone())
        .unwrap_or_default()
    }

    fn persist(&self, name: &str, data: &[u8]) -> Result<(), TufErr> {
        write_atomic(&self.dir.join(name), data)
            .map_err(|e| TufErr::Invalid(format!("writing {}: {e}", self.dir.join(name).display())))
    }

    /// GET with a size limit; `Ok(None)` for 404/403 (what a bucket answers for a file
    /// that is not there).
    async fn fetch(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, TufErr> {
        let url = format!("{}/{path}", self.mirror);
        let mut resp = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| TufErr::Network(format!("GET {url}: {}", super::http_error(&e))))?;
        let st = resp.status();
        if st == reqwest::StatusCode::NOT_FOUND || st == reqwest::StatusCode::FORBIDDEN {
            return Ok(None);
        }
        if !st.is_success() {
            return Err(TufErr::Network(format!("GET {url}: HTTP {st}")));
        }
        if resp.content_length().is_some_and(|l| l > limit) {
            return Err(TufErr::Invalid(format!(
                "{url}: larger than the {limit} bytes allowed"
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| TufErr::Network(format!("GET {url}: {}", super::http_error(&e))))?
        {
            body.extend_from_slice(&chunk);
            if body.len() as u64 > limit {
                return Err(TufErr::Invalid(format!(
                    "{url}: larger than the {limit} bytes allowed"
                )));
            }
        }
        Ok(Some(body))
    }

    async fn fetch_required(&self, path: &str, limit: u64) -> Result<Vec<u8>, TufErr> {
        self.fetch(path, limit)
            .await?
            .ok_or_else(|| TufErr::Network(format!("{}/{path}: not found (HTTP 404)", self.mirror)))
    }

    async fn refresh(&mut self) -> Result<(), TufErr> {
        self.update_root().await?;
        self.update_timestamp().await?;
        self.update_snapshot().await?;
        self.update_targets().await?;
        Ok(())
    }

    /// Spec 5.3: follow root rotations one version at a time.
    async fn update_root(&mut self) -> Result<(), TufErr> {
        let start = self.root.md.version;
        for _ in 0..MAX_ROOT_ROTATIONS {
            let next = self.root.md.version + 1;
            let name = format!("{next}.root.json");
            let Some(raw) = self.fetch(&name, ROOT_LIMIT).await? else {
                break;
            };
            let inv = |e: String| TufErr::Invalid(format!("{name}: {e}"));
            let new = Root::parse(&raw).map_err(inv)?;
            self.root
                .verify(
                    &new.md,
                    "root",
                    &format!(
                        "not signed by the keys of root version {}",
                        self.root.md.version
                    ),
                )
                .map_err(inv)?;
            new.verify(&new.md, "root", "not signed by its own root keys")
                .map_err(inv)?;
            if new.md.version != next {
                return Err(inv(format!(
                    "declares version {}, expected {next}",
                    new.md.version
                )));
            }
            self.root = new;
        }
        if self.root.md.expired(self.now) {
            return Err(TufErr::Invalid(format!(
                "root.json (version {}) expired at {}",
                self.root.md.version, self.root.md.expires_str
            )));
        }
        let on_disk = std::fs::read(self.dir.join("root.json")).ok();
        if on_disk.as_deref() != Some(self.root.md.raw.as_slice()) {
            self.persist("root.json", &self.root.md.raw)?;
        }
        if self.root.md.version != start {
            // Rotated timestamp/snapshot/targets keys invalidate cached files signed by
            // the old ones (fast-forward attack recovery, spec 5.3.11).
            self.load_cached();
        }
        Ok(())
    }

    /// Spec 5.4.
    async fn update_timestamp(&mut self) -> Result<(), TufErr> {
        let raw = self
            .fetch_required("timestamp.json", TIMESTAMP_LIMIT)
            .await?;
        let inv = |e: String| TufErr::Invalid(format!("timestamp.json: {e}"));
        let new = Timestamp::parse(&raw).map_err(inv)?;
        self.root
            .verify(&new.md, "timestamp", "not signed by the timestamp role")
            .map_err(inv)?;
        let mut keep_old = false;
        if let Some(old) = &self.timestamp {
            if new.md.version < old.md.version {
                return Err(inv(format!(
                    "version {} is older than the trusted version {} (rollback)",
                    new.md.version, old.md.version
                )));
            }
            if new.snapshot.version < old.snapshot.version {
                return Err(inv(format!(
                    "names snapshot version {}, older than the trusted {} (rollback)",
                    new.snapshot.version, old.snapshot.version
                )));
            }
            keep_old = new.md.version == old.md.version;
        }
        if !keep_old {
            self.timestamp = Some(new);
        }
        let ts = self.timestamp.as_ref().expect("set above");
        if ts.md.expired(self.now) {
            return Err(inv(format!(
                "version {} expired at {}",
                ts.md.version, ts.md.expires_str
            )));
        }
        if !keep_old {
            self.persist("timestamp.json", &ts.md.raw)?;
        }
        Ok(())
    }

    /// Spec 5.5.
    async fn update_snapshot(&mut self) -> Result<(), TufErr> {
        let meta = self
            .timestamp
            .as_ref()
            .expect("timestamp first")
            .snapshot
            .clone();
        let current = self
            .snapshot
            .as_ref()
            .is_some_and(|s| s.md.version == meta.version);
        if !current {
            let name = if self.root.consistent_snapshot {
                format!("{}.snapshot.json", meta.version)
            } else {
                "snapshot.json".to_string()
            };
            let inv = |e: String| TufErr::Invalid(format!("{name}: {e}"));
            let raw = self
                .fetch_required(&name, meta.length.unwrap_or(SNAPSHOT_LIMIT))
                .await?;
            meta.check(&raw, "as listed in timestamp.json")
                .map_err(inv)?;
            let new = Snapshot::parse(&raw).map_err(inv)?;
            self.root
                .verify(&new.md, "snapshot", "not signed by the snapshot role")
                .map_err(inv)?;
            if new.md.version != meta.version {
                return Err(inv(format!(
                    "version {} differs from the {} timestamp.json names",
                    new.md.version, meta.version
                )));
            }
            if let Some(old) = &self.snapshot {
                if old.md.version > new.md.version {
                    return Err(inv(format!(
                        "version {} is older than the trusted version {} (rollback)",
                        new.md.version, old.md.version
                    )));
                }
                for (file, m) in &old.meta {
                    match new.meta.get(file) {
                        None => return Err(inv(format!("{file} is no longer listed (rollback)"))),
                        Some(n) if n.version < m.version => {
                            return Err(inv(format!(
                                "{file} version {} is older than the trusted version {} (rollback)",
                                n.version, m.version
                            )))
                        }
                        _ => {}
                    }
                }
            }
            self.snapshot = Some(new);
        }
        let sn = self.snapshot.as_ref().expect("set above");
        if sn.md.expired(self.now) {
            return Err(TufErr::Invalid(format!(
                "snapshot.json version {} expired at {}",
                sn.md.version, sn.md.expires_str
            )));
        }
        if !current {
            self.persist("snapshot.json", &sn.md.raw)?;
        }
        Ok(())
    }

    /// Spec 5.6.
    async fn update_targets(&mut self) -> Result<(), TufErr> {
        let meta = self.snapshot.as_ref().expect("snapshot first").meta["targets.json"].clone();
        let current = self
            .targets
            .as_ref()
            .is_some_and(|t| t.md.version == meta.version);
        if !current {
            let name = if self.root.consistent_snapshot {
                format!("{}.targets.json", meta.version)
            } else {
                "targets.json".to_string()
            };
            let inv = |e: String| TufErr::Invalid(format!("{name}: {e}"));
            let raw = self
                .fetch_required(&name, meta.length.unwrap_or(TARGETS_LIMIT))
                .await?;
            meta.check(&raw, "as listed in snapshot.json")
                .map_err(inv)?;
            let new = Targets::parse(&raw).map_err(inv)?;
            self.root
                .verify(&new.md, "targets", "not signed by the targets role")
                .map_err(inv)?;
            if new.md.version != meta.version {
                return Err(inv(format!(
                    "version {} differs from the {} snapshot.json names",
                    new.md.version, meta.version
                )));
            }
            self.targets = Some(new);
        }
        let tg = self.targets.as_ref().expect("set above");
        if tg.md.expired(self.now) {
            return Err(TufErr::Invalid(format!(
                "targets.json version {} expired at {}",
                tg.md.version, tg.md.expires_str
            )));
        }
        if !current {
            self.persist("targets.json", &tg.md.raw)?;
        }
        Ok(())
    }

    /// Loads (cache or mirror) and verifies delegated role `name`, delegated by
    /// `parent` (a role already loaded).
    async fn load_delegated(&mut self, name: &str, parent: &str) -> Result<(), TufErr> {
        if self.delegated.contains_key(name) {
            return Ok(());
        }
        let inv = |e: String| TufErr::Invalid(format!("delegated role {name}: {e}"));
        let meta = self
            .snapshot
            .as_ref()
            .expect("refreshed")
            .meta
            .get(&format!("{name}.json"))
            .cloned()
            .ok_or_else(|| inv("not listed in snapshot.json".into()))?;
        let file = format!("{}.json", url_escape(name));
        let verify = |c: &Client, t: &Targets| -> Result<(), String> {
            let p = if parent == "targets" {
                c.targets.as_ref().expect("refreshed")
            } else {
                &c.delegated[parent]
            };
            let d = p
                .delegations
                .iter()
                .find(|d| d.name == name)
                .ok_or("parent does not delegate to it")?;
            verify_role(&t.md, &p.keys, &d.role, "not signed by its delegated keys")
        };
        let cached = std::fs::read(self.dir.join(&file))
            .ok()
            .and_then(|b| Targets::parse(&b).ok())
            .filter(|t| t.md.version == meta.version && verify(self, t).is_ok());
        let t = match cached {
            Some(t) => t,
            None => {
                let remote = if self.root.consistent_snapshot {
                    format!("{}.{file}", meta.version)
                } else {
                    file.clone()
                };
                let raw = self
                    .fetch_required(&remote, meta.length.unwrap_or(TARGETS_LIMIT))
                    .await?;
                meta.check(&raw, "as listed in snapshot.json")
                    .map_err(inv)?;
                let t = Targets::parse(&raw).map_err(inv)?;
                verify(self, &t).map_err(inv)?;
                if t.md.version != meta.version {
                    return Err(inv(format!(
                        "version {} differs from the {} snapshot.json names",
                        t.md.version, meta.version
                    )));
                }
                self.persist(&file, &t.md.raw)?;
                t
            }
        };
        if t.md.expired(self.now) {
            return Err(inv(format!("expired at {}", t.md.expires_str)));
        }
        self.delegated.insert(name.to_string(), t);
        Ok(())
    }

    /// Spec 5.6.7: pre-order depth-first search of the delegation tree.
    async fn find_target(&mut self, target: &str) -> Result<Option<FileInfo>, TufErr> {
        let mut stack: Vec<(String, String)> = vec![("targets".into(), String::new())];
        let mut visited: HashSet<String> = HashSet::new();
        while let Some((role, parent)) = stack.pop() {
            if visited.len() >= MAX_DELEGATIONS {
                break;
            }
            if !visited.insert(role.clone()) {
                continue;
            }
            if role != "targets" {
                self.load_delegated(&role, &parent).await?;
            }
            let t = if role == "targets" {
                self.targets.as_ref().expect("refreshed")
            } else {
                &self.delegated[&role]
            };
            if let Some(info) = t.targets.get(target) {
                return Ok(Some(info.clone()));
            }
            let mut children = Vec::new();
            for d in &t.delegations {
                if d.matches(target) {
                    children.push((d.name.clone(), role.clone()));
                    if d.terminating {
                        stack.clear();
                        break;
                    }
                }
            }
            stack.extend(children.into_iter().rev());
        }
        Ok(None)
    }

    /// The verified content of target `name`, from the local cache when its length and
    /// hashes still match, else downloaded from the mirror. `Ok(None)`: not a target of
    /// this repository.
    pub async fn get_target(&mut self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        let mirror = self.mirror.clone();
        let err = |m: String| Error::Trust(format!("TUF repository {mirror}: {m}"));
        if name.is_empty()
            || name.starts_with('/')
            || name
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(err(format!("refusing target name {name:?}")));
        }
        let Some(info) = self
            .find_target(name)
            .await
            .map_err(|e| err(e.text().to_string()))?
        else {
            return Ok(None);
        };
        let local = self.dir.join("targets").join(name);
        if let Ok(b) = std::fs::read(&local) {
            if info.check(&b, name).is_ok() {
                return Ok(Some(b));
            }
        }
        let remote = if self.root.consistent_snapshot {
            let hash = info
                .hashes
                .iter()
                .find(|(a, _)| a == "sha256")
                .or_else(|| info.hashes.first())
                .map(|(_, h)| hex::encode(h))
                .unwrap_or_default();
            match name.rsplit_once('/') {
                Some((d, b)) => format!("targets/{d}/{hash}.{b}"),
                None => format!("targets/{hash}.{name}"),
            }
        } else {
            format!("targets/{name}")
        };
        let data = self
            .fetch(&remote, info.length.unwrap_or(TARGETS_LIMIT))
            .await
            .map_err(|e| err(e.text().to_string()))?
            .ok_or_else(|| err(format!("target {name}: {mirror}/{remote} not found")))?;
        info.check(&data, &format!("target {name}"))
            .map_err(|e| err(format!("{e} (tampered or corrupt download)")))?;
        write_atomic(&local, &data)
            .map_err(|e| err(format!("writing {}: {e}", local.display())))?;
        Ok(Some(data))
    }
}

/// python-tuf's `quote(rolename, "")` for delegated role file names.
fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Fetches target `name` with the options from the environment (see
/// [`TufOptions::from_env`]). `Ok(None)` when the repository has no such target.
pub async fn fetch_target(name: &str) -> Result<Option<Vec<u8>>, Error> {
    let opts = TufOptions::from_env()?;
    let mut c = Client::open(&opts).await?;
    c.get_target(name).await
}

/// Reads `--root` for `cosign initialize`: a file, an http(s) URL or `env://VAR`, checked
/// against `--root-checksum` (`HEX`, `sha256:HEX` or `sha512:HEX`) when given.
pub async fn load_root_arg(root: &str, checksum: Option<&str>) -> Result<Vec<u8>, Error> {
    let bytes = if root.starts_with("http://") || root.starts_with("https://") {
        let http = super::sign::http_client()?;
        let resp =
            http.get(root).send().await.map_err(|e| {
                Error::Trust(format!("loading URL {root}: {}", super::http_error(&e)))
            })?;
        let st = resp.status();
        if !st.is_success() {
            return Err(Error::Trust(format!(
                "loading URL {root}: server returned HTTP {}",
                st.as_u16()
            )));
        }
        resp.bytes()
            .await
            .map_err(|e| Error::Trust(format!("loading URL {root}: {}", super::http_error(&e))))?
            .to_vec()
    } else if let Some(var) = root.strip_prefix("env://") {
        std::env::var(var)
            .map_err(|_| Error::Trust(format!("loading URL: env var ${var} not found")))?
            .into_bytes()
    } else {
        std::fs::read(root).map_err(|e| Error::Trust(format!("reading {root}: {e}")))?
    };
    if let Some(sum) = checksum.filter(|s| !s.is_empty()) {
        let (alg, want) = match sum.split_once(':') {
            Some((a, w)) => (a, w),
            None => ("sha256", sum),
        };
        if want.contains(':') {
            return Err(Error::Usage(format!(
                "wrong checksum input format, must have at most 1 colon: {sum}"
            )));
        }
        let got = match alg {
            "sha256" => hex::encode(Sha256::digest(&bytes)),
            "sha512" => hex::encode(Sha512::digest(&bytes)),
            _ => {
                return Err(Error::Usage(format!(
                    "unsupported checksum algorithm: {alg}"
                )))
            }
        };
        if !got.eq_ignore_ascii_case(want) {
            return Err(Error::Trust(format!(
                "incorrect checksum for file {root}: expected {want} but got {got}"
            )));
        }
    }
    Ok(bytes)
}

/// `cosign initialize`: records the mirror in `remote.json`, clears that mirror's old
/// cache, then fetches and verifies the metadata and the Sigstore targets.
pub async fn initialize(
    mirror: Option<&str>,
    root: Option<&str>,
    root_checksum: Option<&str>,
) -> Result<(), Error> {
    let root_bytes = match root.filter(|r| !r.is_empty()) {
        Some(r) => {
            if root_checksum.is_none_or(str::is_empty)
                && (r.starts_with("http://") || r.starts_with("https://"))
            {
                eprintln!("WARNING: Fetching initial root from URL without providing its checksum is deprecated and will be disallowed in a future Cosign release. Please provide the initial root checksum via the --root-checksum argument.");
            }
            Some(load_root_arg(r, root_checksum).await?)
        }
        None => None,
    };
    let cache_dir = cache_base();
    let mirror = normalize_mirror(mirror.filter(|m| !m.is_empty()).unwrap_or(DEFAULT_MIRROR));
    let opts = TufOptions {
        cache_dir: cache_dir.clone(),
        mirror: mirror.clone(),
        root: root_bytes,
        cache_validity: None,
        now: None,
    };
    let io =
        |what: &str, p: &Path, e: std::io::Error| Error::Io(format!("{what} {}: {e}", p.display()));
    // Like cosign, start afresh (only this mirror's files: TUF_ROOT may hold other data).
    let mdir = opts.metadata_dir();
    if mdir.exists() {
        std::fs::remove_dir_all(&mdir).map_err(|e| io("clearing", &mdir, e))?;
    }
    let _ = std::fs::remove_file(cache_dir.join(format!("{}.json", url_to_path(&mirror))));
    std::fs::create_dir_all(&cache_dir).map_err(|e| io("creating", &cache_dir, e))?;
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o700));
    }
    let remote = cache_dir.join("remote.json");
    write_atomic(
        &remote,
        serde_json::json!({ "mirror": mirror })
            .to_string()
            .as_bytes(),
    )
    .map_err(|e| io("storing remote", &remote, e))?;

    let mut c = Client::open(&opts).await?;
    match c.get_target("signing_config.v0.2.json").await {
        Ok(Some(b)) => {
            if let Err(e) = super::trust::SigningConfig::from_json(&b) {
                eprintln!("WARNING: Could not fetch signing_config.json from the TUF mirror (encountered error: {e}). It is recommended to use a signing config file rather than provide service URLs when signing.");
            }
        }
        Ok(None) => eprintln!("WARNING: Could not fetch signing_config.json from the TUF mirror (encountered error: target \"signing_config.v0.2.json\" not found). It is recommended to use a signing config file rather than provide service URLs when signing."),
        Err(e) => eprintln!("WARNING: Could not fetch signing_config.json from the TUF mirror (encountered error: {e}). It is recommended to use a signing config file rather than provide service URLs when signing."),
    }
    let tr = c.get_target("trusted_root.json").await?.ok_or_else(|| {
        Error::Trust(format!(
            "TUF repository {mirror}: target \"trusted_root.json\" not found"
        ))
    })?;
    super::trust::TrustedRoot::from_json(&tr)
        .map_err(|e| Error::Trust(format!("TUF target trusted_root.json: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_matches_securesystemslib() {
        let v = json!({"b": [1, -2, true, null], "a": "x\"y\\z\n\u{e9}", "A": {"z": 0, "y": {}}});
        assert_eq!(
            String::from_utf8(canonical_json(&v).unwrap()).unwrap(),
            "{\"A\":{\"y\":{},\"z\":0},\"a\":\"x\\\"y\\\\z\n\u{e9}\",\"b\":[1,-2,true,null]}"
        );
        assert!(canonical_json(&json!({"f": 1.5})).is_err());
        // Keys sort by code point, not by UTF-16 or locale.
        let v = json!({"\u{e9}": 1, "z": 2, "Z": 3});
        assert_eq!(
            String::from_utf8(canonical_json(&v).unwrap()).unwrap(),
            "{\"Z\":3,\"z\":2,\"\u{e9}\":1}"
        );
    }

    fn p256_key() -> (p256::ecdsa::SigningKey, Value) {
        use p256::pkcs8::EncodePublicKey;
        let sk = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let pem = sk
            .verifying_key()
            .to_public_key_pem(p256::pkcs8::LineEnding::LF)
            .unwrap();
        let k = json!({"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256",
            "keyval": {"public": pem}});
        (sk, k)
    }

    fn sign_p256(sk: &p256::ecdsa::SigningKey, msg: &[u8]) -> String {
        use p256::ecdsa::signature::Signer;
        let s: p256::ecdsa::Signature = sk.sign(msg);
        hex::encode(s.to_der().as_bytes())
    }

    #[test]
    fn threshold_counts_each_key_once() {
        let (k1, j1) = p256_key();
        let (k2, j2) = p256_key();
        let (k3, _) = p256_key();
        let signed = json!({"_type": "timestamp", "spec_version": "1.0", "version": 1,
            "expires": "2030-01-01T00:00:00Z", "meta": {"snapshot.json": {"version": 1}}});
        let msg = canonical_json(&signed).unwrap();
        let keys = parse_keys(&json!({"k1": j1, "k2": j2}));
        let role = Role {
            keyids: vec!["k1".into(), "k2".into()],
            threshold: 2,
        };
        let doc = |sigs: Vec<(&str, String)>| {
            let sigs: Vec<Value> = sigs
                .into_iter()
                .map(|(k, s)| json!({"keyid": k, "sig": s}))
                .collect();
            let raw = serde_json::to_vec(&json!({"signed": signed, "signatures": sigs})).unwrap();
            Md::parse(&raw, "timestamp").unwrap()
        };
        // The same key twice is one signature.
        let s1 = sign_p256(&k1, &msg);
        let md = doc(vec![("k1", s1.clone()), ("k1", s1.clone())]);
        assert_eq!(count_valid(&md, &keys, &role), 1);
        assert!(verify_role(&md, &keys, &role, "t").is_err());
        // Two distinct keys reach the threshold.
        let md = doc(vec![("k1", s1.clone()), ("k2", sign_p256(&k2, &msg))]);
        assert_eq!(count_valid(&md, &keys, &role), 2);
        assert!(verify_role(&md, &keys, &role, "t").is_ok());
        // A signature under a key ID of the role made by another key does not count, nor
        // does a key outside the role, nor an empty signature.
        let md = doc(vec![
            ("k1", s1.clone()),
            ("k2", sign_p256(&k3, &msg)),
            ("k3", sign_p256(&k3, &msg)),
            ("k2", String::new()),
        ]);
        assert_eq!(count_valid(&md, &keys, &role), 1);
        // A signature over other bytes does not count.
        let md = doc(vec![("k1", sign_p256(&k1, b"other"))]);
        assert_eq!(count_valid(&md, &keys, &role), 0);
    }

    #[test]
    fn public_good_root_verifies_itself() {
        let r = Root::parse(PUBLIC_GOOD_ROOT).unwrap();
        assert_eq!(r.md.version, 15);
        assert!(r.consistent_snapshot);
        // Real Sigstore ECDSA keys over real canonical JSON: 5 of 5 sign, threshold 3.
        assert_eq!(count_valid(&r.md, &r.keys, &r.roles["root"]), 5);
        r.verify(&r.md, "root", "root").unwrap();
        assert_eq!(r.roles["timestamp"].threshold, 1);
        // Flipping one byte of `signed` breaks every signature.
        let mut v: Value = serde_json::from_slice(PUBLIC_GOOD_ROOT).unwrap();
        v["signed"]["version"] = json!(16);
        let r2 = Root::parse(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert_eq!(count_valid(&r2.md, &r2.keys, &r2.roles["root"]), 0);
    }

    #[test]
    fn url_paths_like_sigstore_go() {
        assert_eq!(url_to_path(DEFAULT_MIRROR), "tuf-repo-cdn.sigstore.dev");
        assert_eq!(
            url_to_path("http://127.0.0.1:8080/Repo/x"),
            "127.0.0.1-8080-repo-x"
        );
    }

    #[test]
    fn file_info_checks_length_and_hashes() {
        let data = b"hello";
        let fi = FileInfo {
            version: 0,
            length: Some(5),
            hashes: vec![
                ("sha256".into(), Sha256::digest(data).to_vec()),
                ("sha512".into(), Sha512::digest(data).to_vec()),
            ],
        };
        fi.check(data, "t").unwrap();
        assert!(fi.check(b"hellO", "t").unwrap_err().contains("sha256"));
        assert!(fi.check(b"hello!", "t").unwrap_err().contains("length"));
        let odd = FileInfo {
            hashes: vec![("md5".into(), vec![0; 16])],
            ..fi
        };
        assert!(odd.check(data, "t").is_err());
    }

    #[test]
    fn delegation_patterns() {
        let d = DelegatedRole {
            name: "r".into(),
            role: Role {
                keyids: vec![],
                threshold: 1,
            },
            terminating: false,
            paths: Some(vec!["*.json".into(), "dir/*".into()]),
            hash_prefixes: None,
        };
        assert!(d.matches("trusted_root.json"));
        assert!(d.matches("dir/a.pem"));
        assert!(!d.matches("dir/sub/a.pem"));
        assert!(!d.matches("x/trusted_root.json"));
        assert_eq!(url_escape("a/b c"), "a%2Fb%20c");
    }
}

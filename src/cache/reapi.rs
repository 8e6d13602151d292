//! REAPI cache backend: `grpc://HOST:PORT[/INSTANCE]` and `grpcs://HOST[:PORT][/INSTANCE]`.
//!
//! Stores task results in any Remote Execution API v2 server's ActionCache and CAS (BuildGrid,
//! bazel-remote, Buildbarn, BuildBuddy, NativeLink). No server code of our own: a cache key maps
//! to a synthetic Action, a cache entry to that Action's ActionResult.
//!
//! Key → Action digest (stable: changing it orphans every shared entry, so it is versioned):
//! - `Command { arguments: ["oxtask-cache-entry", "v1", hex(key)] }`, every other field empty;
//! - `Action { command_digest: sha256(Command), input_root_digest: sha256("")/0 }` (the empty
//!   Directory encodes to zero bytes), every other field empty;
//! - the Action digest is SHA-256 over the Action's protobuf encoding (prost writes fields in tag
//!   order, so the bytes are deterministic). `put` uploads Command and Action to the CAS too, so
//!   servers and UIs that look them up find them.
//!
//! Entry → ActionResult: `output_files` (path, digest, `is_executable` = any x bit of the mode,
//! the full mode in `node_properties.unix_mode`), `stdout_digest`/`stderr_digest` (absent when
//! empty), `exit_code` 0. Every blob read back is checked against its digest and size; an entry
//! failing any check is `CacheError::Corrupt`, one whose blobs were evicted is a miss.
//!
//! Every `get`/`put` has one time budget — `ReapiOptions::timeout`, plus one second per MB it
//! transfers — and each call gets what is left of it as its deadline; every read has a size
//! limit.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bazel_remote_apis::build::bazel::remote::execution::v2 as re;
use bazel_remote_apis::google::bytestream as bs;
use prost::Message;
use re::action_cache_client::ActionCacheClient;
use re::capabilities_client::CapabilitiesClient;
use re::content_addressable_storage_client::ContentAddressableStorageClient;
use sha2::{Digest as _, Sha256};
use tonic::metadata::{Ascii, AsciiMetadataKey, MetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Status};

use super::{Backend, CacheError, Entry, Key, OutputFile};

/// Connection options. Secrets come from the environment only (the core wires
/// `OXTASK_CACHE_TOKEN`, `OXTASK_CACHE_TLS_CA`, `OXTASK_CACHE_TLS_CERT`, `OXTASK_CACHE_TLS_KEY`).
#[derive(Clone)]
pub struct ReapiOptions {
    pub bearer_token: Option<String>,
    pub ca_cert: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub timeout: Duration,
}

impl Default for ReapiOptions {
    fn default() -> Self {
        ReapiOptions {
            bearer_token: None,
            ca_cert: None,
            client_cert: None,
            client_key: None,
            timeout: super::FAILURE_BUDGET,
        }
    }
}

// Hand-written so a `{:?}` never prints the token.
impl std::fmt::Debug for ReapiOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReapiOptions")
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("ca_cert", &self.ca_cert)
            .field("client_cert", &self.client_cert)
            .field("client_key", &self.client_key)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Largest single blob (one output file, stdout or stderr) we read or write.
pub const MAX_BLOB_BYTES: u64 = 1 << 30;
/// Largest whole entry held in memory.
pub const MAX_ENTRY_BYTES: u64 = 2 << 30;
/// Most output files in one entry.
pub const MAX_FILES: usize = 100_000;
/// Decoding limit for unary responses (ActionResult, batch replies).
const MAX_MESSAGE: usize = 16 << 20;
/// Our cap on one batch request/response, whatever the server allows: gRPC servers commonly
/// refuse messages over 4 MiB.
const DEFAULT_BATCH: u64 = 4 << 20;
/// Bytes reserved per blob in a batch for its digest and framing.
const BATCH_OVERHEAD: u64 = 1024;
/// ByteStream write chunk.
const CHUNK: usize = 1 << 20;
/// Most digests in one FindMissingBlobs request.
const FIND_MISSING_CHUNK: usize = 10_000;
/// TLS files are small; anything bigger is not one.
const PEM_LIMIT: u64 = 1 << 20;

const SHA256: i32 = re::digest_function::Value::Sha256 as i32;
/// sha256 of the empty string: the empty blob every CAS has implicitly.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// First argument of the synthetic Command (see the module docs).
pub const COMMAND_MARKER: &str = "oxtask-cache-entry";
/// Version of the key → Action mapping.
pub const MAPPING_VERSION: &str = "v1";

#[derive(Clone, Copy, Debug)]
struct Caps {
    /// Largest total for one BatchReadBlobs/BatchUpdateBlobs.
    batch_limit: u64,
    /// 0 = no server limit.
    max_blob: u64,
    update_enabled: bool,
}

/// A connection to one REAPI instance. Cheap to keep: the channel connects lazily, on the
/// first `get`/`put`, which also checks the server's capabilities once.
pub struct ReapiBackend {
    rt: tokio::runtime::Runtime,
    channel: Channel,
    instance: String,
    name: String,
    auth: Option<(AsciiMetadataKey, MetadataValue<Ascii>)>,
    timeout: Duration,
    caps: Mutex<Option<Caps>>,
}

struct ParsedUrl {
    tls: bool,
    /// As it goes in a URI (IPv6 in brackets).
    host: String,
    port: u16,
    instance: String,
}

impl ParsedUrl {
    fn name(&self) -> String {
        let scheme = if self.tls { "grpcs" } else { "grpc" };
        let mut s = format!("{scheme}://{}:{}", self.host, self.port);
        if !self.instance.is_empty() {
            s.push('/');
            s.push_str(&self.instance);
        }
        s
    }

    fn is_loopback(&self) -> bool {
        let h = self.host.trim_start_matches('[').trim_end_matches(']');
        h.eq_ignore_ascii_case("localhost")
            || h.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// Path segments REAPI reserves in resource names, so never part of an instance name.
const RESERVED_SEGMENTS: &[&str] = &[
    "blobs",
    "uploads",
    "actions",
    "actionResults",
    "operations",
    "capabilities",
    "compressed-blobs",
];

fn parse_url(url: &str) -> Result<ParsedUrl, CacheError> {
    // The raw text may hold credentials: messages describe it, never echo it.
    const FORM: &str = "expected grpc://HOST:PORT[/INSTANCE] or grpcs://HOST[:PORT][/INSTANCE]";
    let u = url::Url::parse(url)
        .map_err(|e| CacheError::Protocol(format!("invalid REAPI cache URL ({e}); {FORM}")))?;
    let tls = match u.scheme() {
        "grpc" => false,
        "grpcs" => true,
        _ => {
            return Err(CacheError::Protocol(format!(
                "unsupported REAPI cache URL scheme; {FORM}"
            )))
        }
    };
    if !u.username().is_empty() || u.password().is_some() {
        return Err(CacheError::Auth(
            "credentials in the REAPI cache URL are not accepted; set OXTASK_CACHE_TOKEN".into(),
        ));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(CacheError::Protocol(format!(
            "REAPI cache URL has a query or fragment; {FORM}"
        )));
    }
    let host = match u.host_str() {
        Some(h) if !h.is_empty() => h.to_string(),
        _ => {
            return Err(CacheError::Protocol(format!(
                "REAPI cache URL has no host; {FORM}"
            )))
        }
    };
    let port = match (u.port(), tls) {
        (Some(p), _) => p,
        (None, true) => 443,
        (None, false) => {
            return Err(CacheError::Protocol(format!(
                "grpc:// cache URL needs a port; {FORM}"
            )))
        }
    };
    let instance = u.path().trim_matches('/').to_string();
    for seg in instance.split('/').filter(|s| !s.is_empty()) {
        if RESERVED_SEGMENTS.contains(&seg) || seg == "." || seg == ".." {
            return Err(CacheError::Protocol(format!(
                "REAPI instance name may not contain the segment {seg:?}"
            )));
        }
    }
    if instance.split('/').any(|s| s.is_empty()) && !instance.is_empty() {
        return Err(CacheError::Protocol(
            "REAPI instance name has an empty segment".into(),
        ));
    }
    Ok(ParsedUrl {
        tls,
        host,
        port,
        instance,
    })
}

fn read_limited(path: &Path, what: &str) -> Result<Vec<u8>, CacheError> {
    let f = std::fs::File::open(path)
        .map_err(|e| CacheError::Io(format!("{what} {}: {e}", path.display())))?;
    let mut v = Vec::new();
    f.take(PEM_LIMIT + 1)
        .read_to_end(&mut v)
        .map_err(|e| CacheError::Io(format!("{what} {}: {e}", path.display())))?;
    if v.len() as u64 > PEM_LIMIT {
        return Err(CacheError::Io(format!(
            "{what} {}: larger than {PEM_LIMIT} bytes",
            path.display()
        )));
    }
    Ok(v)
}

/// Parses the URL, loads TLS material and prepares a lazy channel. Does no network I/O: an
/// unreachable server shows on the first `get`/`put`.
pub fn connect(url: &str, o: &ReapiOptions) -> Result<ReapiBackend, CacheError> {
    let p = parse_url(url)?;
    let name = p.name();
    if o.timeout.is_zero() {
        return Err(CacheError::Protocol(format!(
            "{name}: timeout must be positive"
        )));
    }
    let auth = match &o.bearer_token {
        None => None,
        Some(t) => {
            // A bearer token over plaintext is readable by anyone on the path; loopback is
            // the one place that is not a network.
            if !p.tls && !p.is_loopback() {
                return Err(CacheError::Auth(format!(
                    "{name}: refusing to send the token over plaintext grpc:// to a non-loopback host; use grpcs://"
                )));
            }
            let (key, value) = token_header(t.trim());
            let bad = || {
                CacheError::Auth(format!(
                    "{name}: the token is not a valid header value (control or non-ASCII characters)"
                ))
            };
            let key = AsciiMetadataKey::from_bytes(key.as_bytes()).map_err(|_| bad())?;
            let mut v: MetadataValue<Ascii> = value.parse().map_err(|_| bad())?;
            v.set_sensitive(true);
            Some((key, v))
        }
    };
    let has_tls_files = o.ca_cert.is_some() || o.client_cert.is_some() || o.client_key.is_some();
    if has_tls_files && !p.tls {
        return Err(CacheError::Protocol(format!(
            "{name}: TLS certificate options need a grpcs:// URL"
        )));
    }
    let uri = format!(
        "{}://{}:{}",
        if p.tls { "https" } else { "http" },
        p.host,
        p.port
    );
    let mut ep = Endpoint::from_shared(uri)
        .map_err(|e| CacheError::Protocol(format!("{name}: {e}")))?
        // No channel-wide request timeout: each call sets its own deadline, longer for
        // ByteStream transfers (a channel-wide one would cut large uploads short).
        .connect_timeout(o.timeout)
        .tcp_nodelay(true)
        .user_agent(concat!("oxtask/", env!("CARGO_PKG_VERSION")))
        .map_err(|e| CacheError::Protocol(format!("{name}: {e}")))?;
    if p.tls {
        let domain = p.host.trim_start_matches('[').trim_end_matches(']');
        let mut tls = ClientTlsConfig::new()
            .domain_name(domain)
            .timeout(o.timeout);
        tls = match &o.ca_cert {
            Some(ca) => tls.ca_certificate(Certificate::from_pem(read_limited(
                ca,
                "TLS CA certificate",
            )?)),
            None => tls.with_native_roots(),
        };
        match (&o.client_cert, &o.client_key) {
            (Some(c), Some(k)) => {
                let cert = read_limited(c, "TLS client certificate")?;
                let key = read_limited(k, "TLS client key")?;
                tls = tls.identity(Identity::from_pem(cert, key));
            }
            (None, None) => {}
            _ => {
                return Err(CacheError::Auth(format!(
                    "{name}: a TLS client certificate and key must be given together"
                )))
            }
        }
        ep = ep
            .tls_config(tls)
            .map_err(|e| CacheError::Auth(format!("{name}: TLS configuration rejected: {e}")))?;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CacheError::Io(format!("{name}: cannot start the I/O runtime: {e}")))?;
    // The lazy channel spawns its worker on the runtime it is created in.
    let channel = {
        let _g = rt.enter();
        ep.connect_lazy()
    };
    Ok(ReapiBackend {
        rt,
        channel,
        instance: p.instance,
        name,
        auth,
        timeout: o.timeout,
        caps: Mutex::new(None),
    })
}

/// The header a token travels in: `authorization: Bearer TOKEN`, or for services that take a
/// key in a header of their own (BuildBuddy's `x-buildbuddy-api-key`) a token written
/// `x-NAME=VALUE` goes as `x-NAME: VALUE`, and `authorization=SCHEME CREDENTIALS` as it is
/// (`Basic …` for bazel-remote's htpasswd). Base64 padding cannot be mistaken for this: the
/// name must be `authorization` or start with `x-`, and the value be non-empty.
fn token_header(t: &str) -> (String, String) {
    if let Some((h, v)) = t.split_once('=') {
        let name_ok = h == "authorization"
            || (h.len() > 2
                && h.starts_with("x-")
                && h.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
        if name_ok && !v.is_empty() {
            return (h.to_string(), v.to_string());
        }
    }
    ("authorization".to_string(), format!("Bearer {t}"))
}

/// SHA-256 digest of a blob.
fn digest_of(data: &[u8]) -> re::Digest {
    re::Digest {
        hash: hex::encode(Sha256::digest(data)),
        size_bytes: data.len() as i64,
    }
}

/// The synthetic Command and Action for a key, encoded, and the Action's digest.
pub fn action_for(key: &Key) -> (Vec<u8>, Vec<u8>, re::Digest) {
    let command = re::Command {
        arguments: vec![
            COMMAND_MARKER.to_string(),
            MAPPING_VERSION.to_string(),
            hex::encode(key),
        ],
        ..Default::default()
    };
    let command = command.encode_to_vec();
    let action = re::Action {
        command_digest: Some(digest_of(&command)),
        input_root_digest: Some(digest_of(&re::Directory::default().encode_to_vec())),
        ..Default::default()
    };
    let action = action.encode_to_vec();
    let d = digest_of(&action);
    (command, action, d)
}

/// A relative '/'-separated path with no empty, `.` or `..` component.
pub fn valid_output_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\0')
        && !p.contains('\\')
        && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Checks a server-sent digest's form and limits.
fn check_digest(d: Option<&re::Digest>, what: &str, name: &str) -> Result<re::Digest, CacheError> {
    let d = d.ok_or_else(|| CacheError::Corrupt(format!("{name}: {what} has no digest")))?;
    let ok_hash = d.hash.len() == 64
        && d.hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !ok_hash {
        return Err(CacheError::Corrupt(format!(
            "{name}: {what} has a malformed SHA-256 digest"
        )));
    }
    if d.size_bytes < 0 || d.size_bytes as u64 > MAX_BLOB_BYTES {
        return Err(CacheError::Corrupt(format!(
            "{name}: {what} claims {} bytes (limit {MAX_BLOB_BYTES})",
            d.size_bytes
        )));
    }
    if d.size_bytes == 0 && d.hash != EMPTY_SHA256 {
        return Err(CacheError::Corrupt(format!(
            "{name}: {what} is empty but its digest is not the empty blob's"
        )));
    }
    Ok(d.clone())
}

fn verify(data: &[u8], d: &re::Digest, name: &str) -> Result<(), CacheError> {
    if data.len() as i64 != d.size_bytes || hex::encode(Sha256::digest(data)) != d.hash {
        return Err(CacheError::Corrupt(format!(
            "{name}: blob {}/{} read back with a different digest ({} bytes)",
            d.hash,
            d.size_bytes,
            data.len()
        )));
    }
    Ok(())
}

/// Server text goes into our messages: keep it short and printable.
fn clean(msg: &str) -> String {
    let mut s: String = msg
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    if msg.chars().count() > 300 {
        s.push('…');
    }
    s
}

fn status_err(name: &str, what: &str, s: &Status) -> CacheError {
    let m = format!("{name}: {what}: {:?}: {}", s.code(), clean(s.message()));
    match s.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => CacheError::Unreachable(m),
        Code::Unauthenticated | Code::PermissionDenied => CacheError::Auth(m),
        // The server found the stored bytes damaged (BuildGrid: a short blob file).
        Code::DataLoss => CacheError::Corrupt(m),
        _ => CacheError::Protocol(m),
    }
}

/// Queues a blob for upload once (the empty blob never: every CAS has it); returns its digest.
fn add_blob<'a>(
    have: &mut HashSet<String>,
    blobs: &mut Vec<(re::Digest, &'a [u8])>,
    data: &'a [u8],
) -> re::Digest {
    let d = digest_of(data);
    if !data.is_empty() && have.insert(d.hash.clone()) {
        blobs.push((d.clone(), data));
    }
    d
}

/// Groups small blobs into batches whose sizes plus overhead stay within `limit`; blobs too big
/// for any batch go to ByteStream. Returns (batches of indexes, ByteStream indexes).
fn plan_batches(sizes: &[u64], limit: u64) -> (Vec<Vec<usize>>, Vec<usize>) {
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut large = Vec::new();
    let mut cur = Vec::new();
    let mut cur_size = 0u64;
    for (i, &s) in sizes.iter().enumerate() {
        let cost = s + BATCH_OVERHEAD;
        if cost > limit {
            large.push(i);
            continue;
        }
        if cur_size + cost > limit {
            batches.push(std::mem::take(&mut cur));
            cur_size = 0;
        }
        cur.push(i);
        cur_size += cost;
    }
    if !cur.is_empty() {
        batches.push(cur);
    }
    (batches, large)
}

/// Extra time for moving `size` bytes: a microsecond per byte (1 MB/s), so a big blob has
/// time, a small entry adds next to nothing, and a trickling server still ends.
fn transfer_allowance(size: u64) -> Duration {
    Duration::from_micros(size)
}

/// Time left before `deadline` (zero once passed).
fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

impl ReapiBackend {
    fn req<T>(&self, msg: T, timeout: Duration) -> tonic::Request<T> {
        let mut r = tonic::Request::new(msg);
        r.set_timeout(timeout);
        if let Some(a) = &self.auth {
            r.metadata_mut().insert(a.0.clone(), a.1.clone());
        }
        r
    }

    async fn timed<T, F>(&self, what: &str, limit: Duration, fut: F) -> Result<T, CacheError>
    where
        F: Future<Output = Result<T, Status>>,
    {
        match tokio::time::timeout(limit, fut).await {
            Err(_) => Err(CacheError::Unreachable(format!(
                "{}: {what} timed out (cache timeout {} ms)",
                self.name,
                self.timeout.as_millis()
            ))),
            Ok(Err(s)) => Err(status_err(&self.name, what, &s)),
            Ok(Ok(v)) => Ok(v),
        }
    }

    /// As [`Self::timed`], with NOT_FOUND as `Ok(None)`.
    async fn timed_opt<T, F>(
        &self,
        what: &str,
        limit: Duration,
        fut: F,
    ) -> Result<Option<T>, CacheError>
    where
        F: Future<Output = Result<T, Status>>,
    {
        let r = self
            .timed(what, limit, async {
                match fut.await {
                    Ok(v) => Ok(Some(v)),
                    Err(s) if s.code() == Code::NotFound => Ok(None),
                    Err(s) => Err(s),
                }
            })
            .await?;
        Ok(r)
    }

    /// Runs a future on our runtime; from inside another runtime, on a scoped thread (a
    /// runtime cannot block inside another one).
    fn run<T: Send, F: Future<Output = T> + Send>(&self, fut: F) -> Result<T, CacheError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(self.rt.block_on(fut));
        }
        std::thread::scope(|s| {
            s.spawn(|| self.rt.block_on(fut))
                .join()
                .map_err(|_| CacheError::Io(format!("{}: cache thread failed", self.name)))
        })
    }

    async fn caps(&self, deadline: Instant) -> Result<Caps, CacheError> {
        if let Some(c) = *self.caps.lock().unwrap_or_else(|e| e.into_inner()) {
            return Ok(c);
        }
        let mut client =
            CapabilitiesClient::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE);
        let r = self
            .timed(
                "GetCapabilities",
                left(deadline),
                client.get_capabilities(self.req(
                    re::GetCapabilitiesRequest {
                        instance_name: self.instance.clone(),
                    },
                    left(deadline),
                )),
            )
            .await?
            .into_inner();
        let n = &self.name;
        if let Some(h) = &r.high_api_version {
            if h.major < 2 {
                return Err(CacheError::Protocol(format!(
                    "{n}: server speaks REAPI up to v{}.{}; v2 is needed",
                    h.major, h.minor
                )));
            }
        }
        if let Some(l) = &r.low_api_version {
            if l.major > 2 {
                return Err(CacheError::Protocol(format!(
                    "{n}: server speaks REAPI from v{}.{}; v2 is needed",
                    l.major, l.minor
                )));
            }
        }
        let cc = r.cache_capabilities.ok_or_else(|| {
            CacheError::Protocol(format!("{n}: server offers no CAS/ActionCache"))
        })?;
        if !cc.digest_functions.contains(&SHA256) {
            return Err(CacheError::Protocol(format!(
                "{n}: server does not offer SHA-256 digests"
            )));
        }
        let server_batch = u64::try_from(cc.max_batch_total_size_bytes).unwrap_or(0);
        let caps = Caps {
            batch_limit: if server_batch > 0 {
                server_batch.min(DEFAULT_BATCH)
            } else {
                DEFAULT_BATCH
            },
            max_blob: u64::try_from(cc.max_cas_blob_size_bytes).unwrap_or(0),
            update_enabled: cc
                .action_cache_update_capabilities
                .is_some_and(|u| u.update_enabled),
        };
        *self.caps.lock().unwrap_or_else(|e| e.into_inner()) = Some(caps);
        Ok(caps)
    }

    fn cas(&self) -> ContentAddressableStorageClient<Channel> {
        ContentAddressableStorageClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE)
    }

    fn resource(&self, tail: &str) -> String {
        if self.instance.is_empty() {
            tail.to_string()
        } else {
            format!("{}/{tail}", self.instance)
        }
    }

    async fn get_async(&self, key: &Key) -> Result<Option<Entry>, CacheError> {
        // One budget for the whole lookup, so a server slow on every call still costs at most
        // the timeout (plus transfer time for the bytes the entry names).
        let mut deadline = Instant::now() + self.timeout;
        let caps = self.caps(deadline).await?;
        let n = &self.name;
        let (_, _, action_digest) = action_for(key);
        let mut ac =
            ActionCacheClient::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE);
        let got = self
            .timed_opt(
                "GetActionResult",
                left(deadline),
                ac.get_action_result(self.req(
                    re::GetActionResultRequest {
                        instance_name: self.instance.clone(),
                        action_digest: Some(action_digest),
                        inline_stdout: true,
                        inline_stderr: true,
                        digest_function: SHA256,
                        ..Default::default()
                    },
                    left(deadline),
                )),
            )
            .await;
        let Some(ar) = got?.map(|r| r.into_inner()) else {
            return Ok(None);
        };
        if ar.exit_code != 0 {
            return Err(CacheError::Corrupt(format!(
                "{n}: entry has exit code {}",
                ar.exit_code
            )));
        }
        // Older servers still fill the deprecated symlink lists.
        #[allow(deprecated)]
        let legacy_links =
            !ar.output_file_symlinks.is_empty() || !ar.output_directory_symlinks.is_empty();
        if !ar.output_directories.is_empty() || !ar.output_symlinks.is_empty() || legacy_links {
            return Err(CacheError::Corrupt(format!(
                "{n}: entry has directories or symlinks, which oxtask never stores"
            )));
        }
        if ar.output_files.len() > MAX_FILES {
            return Err(CacheError::Corrupt(format!(
                "{n}: entry has {} files (limit {MAX_FILES})",
                ar.output_files.len()
            )));
        }

        // Each part: where its bytes come from (inline or the CAS).
        enum Src {
            Inline(Vec<u8>),
            Cas(re::Digest),
            Empty,
        }
        let mut seen = HashSet::new();
        let mut files = Vec::with_capacity(ar.output_files.len());
        let mut total = 0u64;
        for f in &ar.output_files {
            if !valid_output_path(&f.path) {
                return Err(CacheError::Corrupt(format!(
                    "{n}: entry has an unsafe output path {:?}",
                    clean(&f.path)
                )));
            }
            if !seen.insert(f.path.as_str()) {
                return Err(CacheError::Corrupt(format!(
                    "{n}: entry lists {:?} twice",
                    clean(&f.path)
                )));
            }
            let d = check_digest(f.digest.as_ref(), &format!("file {:?}", clean(&f.path)), n)?;
            total += d.size_bytes as u64;
            let unix = f
                .node_properties
                .as_ref()
                .and_then(|p| p.unix_mode.as_ref())
                .map(|m| m.value);
            let mode = match unix {
                Some(m) if m & !0o7777 != 0 => {
                    return Err(CacheError::Corrupt(format!(
                        "{n}: file {:?} has mode {m:o}",
                        clean(&f.path)
                    )))
                }
                Some(m) if (m & 0o111 != 0) != f.is_executable => {
                    return Err(CacheError::Corrupt(format!(
                        "{n}: file {:?}: mode {m:o} contradicts is_executable",
                        clean(&f.path)
                    )))
                }
                Some(m) => m,
                None if f.is_executable => 0o755,
                None => 0o644,
            };
            let src = if !f.contents.is_empty() {
                verify(&f.contents, &d, n)?;
                Src::Inline(f.contents.clone())
            } else if d.size_bytes == 0 {
                Src::Empty
            } else {
                Src::Cas(d)
            };
            files.push((f.path.clone(), mode, src));
        }
        let mut log = |raw: &[u8], d: Option<&re::Digest>, what: &str| -> Result<Src, CacheError> {
            match d {
                None if raw.is_empty() => Ok(Src::Empty),
                None => Err(CacheError::Corrupt(format!("{n}: {what} has no digest"))),
                Some(_) => {
                    let d = check_digest(d, what, n)?;
                    total += d.size_bytes as u64;
                    if !raw.is_empty() {
                        verify(raw, &d, n)?;
                        Ok(Src::Inline(raw.to_vec()))
                    } else if d.size_bytes == 0 {
                        Ok(Src::Empty)
                    } else {
                        Ok(Src::Cas(d))
                    }
                }
            }
        };
        // A file cannot also be a directory of another listed file ("a" and "a/b").
        for f in &ar.output_files {
            let mut parents = f.path.match_indices('/').map(|(i, _)| &f.path[..i]);
            if let Some(p) = parents.find(|p| seen.contains(p)) {
                return Err(CacheError::Corrupt(format!(
                    "{n}: entry lists {:?} both as a file and as a directory",
                    clean(p)
                )));
            }
        }
        let stdout = log(&ar.stdout_raw, ar.stdout_digest.as_ref(), "stdout")?;
        let stderr = log(&ar.stderr_raw, ar.stderr_digest.as_ref(), "stderr")?;
        if total > MAX_ENTRY_BYTES {
            return Err(CacheError::Corrupt(format!(
                "{n}: entry holds {total} bytes (limit {MAX_ENTRY_BYTES})"
            )));
        }

        let mut want: Vec<re::Digest> = Vec::new();
        let mut wanted = HashSet::new();
        for s in files.iter().map(|f| &f.2).chain([&stdout, &stderr]) {
            if let Src::Cas(d) = s {
                if wanted.insert(d.hash.clone()) {
                    want.push(d.clone());
                }
            }
        }
        deadline += transfer_allowance(want.iter().map(|d| d.size_bytes as u64).sum());
        let Some(blobs) = self.read_blobs(caps, want, deadline).await? else {
            return Ok(None);
        };
        let take = |s: Src| -> Result<Vec<u8>, CacheError> {
            match s {
                Src::Inline(v) => Ok(v),
                Src::Empty => Ok(Vec::new()),
                // Parts may share a blob, so copy rather than move.
                Src::Cas(d) => blobs.get(&d.hash).cloned().ok_or_else(|| {
                    CacheError::Protocol(format!("{n}: blob {} was not read", d.hash))
                }),
            }
        };
        let mut entry = Entry {
            files: Vec::with_capacity(files.len()),
            stdout: Vec::new(),
            stderr: Vec::new(),
        };
        for (path, mode, src) in files {
            entry.files.push(OutputFile {
                path,
                mode,
                content: take(src)?,
            });
        }
        entry.stdout = take(stdout)?;
        entry.stderr = take(stderr)?;
        Ok(Some(entry))
    }

    /// Reads and verifies blobs. `None` when any is missing (an evicted entry: a miss).
    async fn read_blobs(
        &self,
        caps: Caps,
        want: Vec<re::Digest>,
        deadline: Instant,
    ) -> Result<Option<HashMap<String, Vec<u8>>>, CacheError> {
        let n = &self.name;
        let mut out = HashMap::with_capacity(want.len());
        let sizes: Vec<u64> = want.iter().map(|d| d.size_bytes as u64).collect();
        let (batches, large) = plan_batches(&sizes, caps.batch_limit);
        let mut cas = self.cas();
        for batch in batches {
            let digests: Vec<re::Digest> = batch.iter().map(|&i| want[i].clone()).collect();
            let resp = self
                .timed(
                    "BatchReadBlobs",
                    left(deadline),
                    cas.batch_read_blobs(self.req(
                        re::BatchReadBlobsRequest {
                            instance_name: self.instance.clone(),
                            digests: digests.clone(),
                            digest_function: SHA256,
                            ..Default::default()
                        },
                        left(deadline),
                    )),
                )
                .await?
                .into_inner();
            let asked: HashMap<&str, &re::Digest> =
                digests.iter().map(|d| (d.hash.as_str(), d)).collect();
            for r in resp.responses {
                let Some(rd) = r.digest.as_ref() else {
                    return Err(CacheError::Protocol(format!(
                        "{n}: BatchReadBlobs answered a blob without a digest"
                    )));
                };
                let Some(&d) = asked.get(rd.hash.as_str()) else {
                    return Err(CacheError::Protocol(format!(
                        "{n}: BatchReadBlobs answered a blob it was not asked for"
                    )));
                };
                let code = r.status.as_ref().map_or(0, |s| s.code);
                if code == Code::NotFound as i32 {
                    return Ok(None);
                }
                if code != 0 {
                    let msg = r
                        .status
                        .as_ref()
                        .map(|s| clean(&s.message))
                        .unwrap_or_default();
                    return Err(CacheError::Protocol(format!(
                        "{n}: BatchReadBlobs: blob {}: status {code}: {msg}",
                        d.hash
                    )));
                }
                if r.compressor != 0 {
                    return Err(CacheError::Protocol(format!(
                        "{n}: BatchReadBlobs answered compressed data it was not asked for"
                    )));
                }
                verify(&r.data, d, n)?;
                out.insert(d.hash.clone(), r.data);
            }
            if let Some(d) = digests.iter().find(|d| !out.contains_key(&d.hash)) {
                return Err(CacheError::Protocol(format!(
                    "{n}: BatchReadBlobs left out blob {}",
                    d.hash
                )));
            }
        }
        for i in large {
            let d = &want[i];
            match self.bytestream_read(d, deadline).await? {
                Some(data) => {
                    out.insert(d.hash.clone(), data);
                }
                None => return Ok(None),
            }
        }
        Ok(Some(out))
    }

    async fn bytestream_read(
        &self,
        d: &re::Digest,
        deadline: Instant,
    ) -> Result<Option<Vec<u8>>, CacheError> {
        let n = &self.name;
        let size = d.size_bytes as u64;
        let limit = left(deadline);
        let resource = self.resource(&format!("blobs/{}/{}", d.hash, d.size_bytes));
        let mut client = bs::byte_stream_client::ByteStreamClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE);
        let fut = async {
            let mut stream = client
                .read(self.req(
                    bs::ReadRequest {
                        resource_name: resource,
                        read_offset: 0,
                        read_limit: 0,
                    },
                    limit,
                ))
                .await?
                .into_inner();
            let mut data = Vec::with_capacity(size.min(64 << 20) as usize);
            while let Some(chunk) = stream.message().await? {
                if (data.len() + chunk.data.len()) as u64 > size {
                    // Longer than its digest says: stop reading, verify() reports it.
                    data.extend_from_slice(&chunk.data[..1.min(chunk.data.len())]);
                    break;
                }
                data.extend_from_slice(&chunk.data);
            }
            Ok::<_, Status>(data)
        };
        let Some(data) = self.timed_opt("ByteStream.Read", limit, fut).await? else {
            return Ok(None);
        };
        verify(&data, d, n)?;
        Ok(Some(data))
    }

    async fn put_async(&self, key: &Key, entry: &Entry) -> Result<(), CacheError> {
        let bytes: u64 = entry
            .files
            .iter()
            .map(|f| f.content.len() as u64)
            .sum::<u64>()
            + entry.stdout.len() as u64
            + entry.stderr.len() as u64;
        let deadline = Instant::now() + self.timeout + transfer_allowance(bytes);
        let caps = self.caps(deadline).await?;
        let n = &self.name;
        if !caps.update_enabled {
            return Err(CacheError::Auth(format!(
                "{n}: server does not allow ActionCache updates for this client"
            )));
        }
        if entry.files.len() > MAX_FILES {
            return Err(CacheError::Io(format!(
                "{n}: entry has {} files (limit {MAX_FILES})",
                entry.files.len()
            )));
        }
        let mut seen = HashSet::new();
        for f in &entry.files {
            if !valid_output_path(&f.path) || !seen.insert(f.path.as_str()) {
                return Err(CacheError::Io(format!(
                    "{n}: refusing to store output path {:?}",
                    clean(&f.path)
                )));
            }
        }
        let (command, action, action_digest) = action_for(key);

        // Every blob to store, once each.
        let mut blobs: Vec<(re::Digest, &[u8])> = Vec::new();
        let mut have = HashSet::new();
        let mut result = re::ActionResult {
            exit_code: 0,
            ..Default::default()
        };
        let mut total = 0u64;
        for f in &entry.files {
            let size = f.content.len() as u64;
            if size > MAX_BLOB_BYTES || (caps.max_blob > 0 && size > caps.max_blob) {
                return Err(CacheError::Io(format!(
                    "{n}: {:?} is {size} bytes, more than the cache takes",
                    clean(&f.path)
                )));
            }
            total += size;
            let d = add_blob(&mut have, &mut blobs, &f.content);
            result.output_files.push(re::OutputFile {
                path: f.path.clone(),
                digest: Some(d),
                is_executable: f.mode & 0o111 != 0,
                node_properties: Some(re::NodeProperties {
                    unix_mode: Some(bazel_remote_apis::google::protobuf::UInt32Value {
                        value: f.mode & 0o7777,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        for (data, slot) in [
            (&entry.stdout, &mut result.stdout_digest),
            (&entry.stderr, &mut result.stderr_digest),
        ] {
            if !data.is_empty() {
                total += data.len() as u64;
                *slot = Some(add_blob(&mut have, &mut blobs, data));
            }
        }
        if total > MAX_ENTRY_BYTES {
            return Err(CacheError::Io(format!(
                "{n}: entry holds {total} bytes (limit {MAX_ENTRY_BYTES})"
            )));
        }
        add_blob(&mut have, &mut blobs, &command);
        add_blob(&mut have, &mut blobs, &action);

        let missing = self.find_missing(&blobs, deadline).await?;
        let upload: Vec<(re::Digest, &[u8])> = blobs
            .iter()
            .filter(|(d, _)| missing.contains(&d.hash))
            .map(|(d, b)| (d.clone(), *b))
            .collect();
        self.upload(caps, &upload, deadline).await?;

        let mut ac =
            ActionCacheClient::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE);
        self.timed(
            "UpdateActionResult",
            left(deadline),
            ac.update_action_result(self.req(
                re::UpdateActionResultRequest {
                    instance_name: self.instance.clone(),
                    action_digest: Some(action_digest),
                    action_result: Some(result),
                    digest_function: SHA256,
                    ..Default::default()
                },
                left(deadline),
            )),
        )
        .await?;
        Ok(())
    }

    async fn find_missing(
        &self,
        blobs: &[(re::Digest, &[u8])],
        deadline: Instant,
    ) -> Result<HashSet<String>, CacheError> {
        let mut missing = HashSet::new();
        let mut cas = self.cas();
        for chunk in blobs.chunks(FIND_MISSING_CHUNK) {
            let resp = self
                .timed(
                    "FindMissingBlobs",
                    left(deadline),
                    cas.find_missing_blobs(self.req(
                        re::FindMissingBlobsRequest {
                            instance_name: self.instance.clone(),
                            blob_digests: chunk.iter().map(|(d, _)| d.clone()).collect(),
                            digest_function: SHA256,
                        },
                        left(deadline),
                    )),
                )
                .await?
                .into_inner();
            missing.extend(resp.missing_blob_digests.into_iter().map(|d| d.hash));
        }
        Ok(missing)
    }

    async fn upload(
        &self,
        caps: Caps,
        blobs: &[(re::Digest, &[u8])],
        deadline: Instant,
    ) -> Result<(), CacheError> {
        let n = &self.name;
        let sizes: Vec<u64> = blobs.iter().map(|(_, b)| b.len() as u64).collect();
        let (batches, large) = plan_batches(&sizes, caps.batch_limit);
        let mut cas = self.cas();
        for batch in batches {
            let requests = batch
                .iter()
                .map(|&i| re::batch_update_blobs_request::Request {
                    digest: Some(blobs[i].0.clone()),
                    data: blobs[i].1.to_vec(),
                    compressor: 0,
                })
                .collect();
            let resp = self
                .timed(
                    "BatchUpdateBlobs",
                    left(deadline),
                    cas.batch_update_blobs(self.req(
                        re::BatchUpdateBlobsRequest {
                            instance_name: self.instance.clone(),
                            requests,
                            digest_function: SHA256,
                        },
                        left(deadline),
                    )),
                )
                .await?
                .into_inner();
            for r in resp.responses {
                let code = r.status.as_ref().map_or(0, |s| s.code);
                if code != 0 {
                    let msg = r
                        .status
                        .as_ref()
                        .map(|s| clean(&s.message))
                        .unwrap_or_default();
                    let hash = r.digest.map(|d| d.hash).unwrap_or_default();
                    return Err(CacheError::Protocol(format!(
                        "{n}: BatchUpdateBlobs: blob {hash}: status {code}: {msg}"
                    )));
                }
            }
        }
        for i in large {
            self.bytestream_write(&blobs[i].0, blobs[i].1, deadline)
                .await?;
        }
        Ok(())
    }

    async fn bytestream_write(
        &self,
        d: &re::Digest,
        data: &[u8],
        deadline: Instant,
    ) -> Result<(), CacheError> {
        let n = &self.name;
        let limit = left(deadline);
        let mut uuid = [0u8; 16];
        rand::Rng::fill(&mut rand::thread_rng(), &mut uuid[..]);
        uuid[6] = (uuid[6] & 0x0f) | 0x40;
        uuid[8] = (uuid[8] & 0x3f) | 0x80;
        let u = hex::encode(uuid);
        let uuid = format!(
            "{}-{}-{}-{}-{}",
            &u[0..8],
            &u[8..12],
            &u[12..16],
            &u[16..20],
            &u[20..32]
        );
        let resource = self.resource(&format!("uploads/{uuid}/blobs/{}/{}", d.hash, d.size_bytes));
        let chunks: Vec<bs::WriteRequest> = data
            .chunks(CHUNK)
            .enumerate()
            .map(|(i, c)| bs::WriteRequest {
                resource_name: if i == 0 {
                    resource.clone()
                } else {
                    String::new()
                },
                write_offset: (i * CHUNK) as i64,
                finish_write: (i + 1) * CHUNK >= data.len(),
                data: c.to_vec(),
            })
            .collect();
        let mut client = bs::byte_stream_client::ByteStreamClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE);
        let resp = self
            .timed(
                "ByteStream.Write",
                limit,
                client.write(self.req(tokio_stream::iter(chunks), limit)),
            )
            .await?
            .into_inner();
        // A server that already has the blob may end early reporting the full size.
        if resp.committed_size != d.size_bytes {
            return Err(CacheError::Protocol(format!(
                "{n}: ByteStream.Write committed {} of {} bytes",
                resp.committed_size, d.size_bytes
            )));
        }
        Ok(())
    }
}

impl Backend for ReapiBackend {
    fn get(&self, key: &Key) -> Result<Option<Entry>, CacheError> {
        self.run(self.get_async(key))?
    }

    fn put(&self, key: &Key, entry: &Entry) -> Result<(), CacheError> {
        self.run(self.put_async(key, entry))?
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let p = parse_url("grpc://127.0.0.1:50051").unwrap();
        assert!(!p.tls);
        assert_eq!(
            (p.host.as_str(), p.port, p.instance.as_str()),
            ("127.0.0.1", 50051, "")
        );
        assert_eq!(p.name(), "grpc://127.0.0.1:50051");
        let p = parse_url("grpcs://cache.example.com/main/ci").unwrap();
        assert!(p.tls);
        assert_eq!((p.port, p.instance.as_str()), (443, "main/ci"));
        assert_eq!(p.name(), "grpcs://cache.example.com:443/main/ci");
        let p = parse_url("grpc://[::1]:9092/").unwrap();
        assert_eq!(p.host, "[::1]");
        assert!(p.is_loopback());
        assert!(parse_url("grpc://localhost:1").unwrap().is_loopback());
        assert!(!parse_url("grpc://10.0.0.1:1").unwrap().is_loopback());
        for bad in [
            "grpc://h",           // no port
            "http://h:1",         // scheme
            "grpc://h:1/x/blobs", // reserved segment
            "grpc://h:1/a//b",    // empty segment
            "grpc://h:1/a?x=1",   // query
            "grpc://:1",          // no host
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn url_credentials_are_refused_and_never_echoed() {
        let e = parse_url("grpcs://user:s3cr3t@h:1/i")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("OXTASK_CACHE_TOKEN"), "{e}");
        assert!(!e.contains("s3cr3t") && !e.contains("user"), "{e}");
        let e = parse_url("grpcs://t0ken@h:1").err().unwrap().to_string();
        assert!(!e.contains("t0ken"), "{e}");
        let e = parse_url("grpc//s3cr3t@").err().unwrap().to_string();
        assert!(!e.contains("s3cr3t"), "{e}");
    }

    #[test]
    fn token_over_plaintext_only_to_loopback() {
        let o = ReapiOptions {
            bearer_token: Some("s3cr3t".into()),
            ..Default::default()
        };
        let e = connect("grpc://cache.internal:9092", &o)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("grpcs://") && !e.contains("s3cr3t"), "{e}");
        assert!(connect("grpc://127.0.0.1:9092", &o).is_ok());
        let bad = ReapiOptions {
            bearer_token: Some("s3cr3t\n".into()),
            ..Default::default()
        };
        assert!(
            connect("grpc://127.0.0.1:9092", &bad).is_ok(),
            "surrounding whitespace is trimmed"
        );
        let bad = ReapiOptions {
            bearer_token: Some("s3c\u{7}r3t".into()),
            ..Default::default()
        };
        let e = connect("grpc://127.0.0.1:9092", &bad)
            .err()
            .unwrap()
            .to_string();
        assert!(!e.contains("s3c"), "{e}");
        assert!(!format!("{o:?}").contains("s3cr3t"));
    }

    #[test]
    fn token_headers() {
        assert_eq!(
            token_header("abc.def"),
            ("authorization".into(), "Bearer abc.def".into())
        );
        assert_eq!(
            token_header("dG9rZW4="),
            ("authorization".into(), "Bearer dG9rZW4=".into())
        );
        assert_eq!(
            token_header("x-buildbuddy-api-key=K3Y"),
            ("x-buildbuddy-api-key".into(), "K3Y".into())
        );
        assert_eq!(
            token_header("authorization=Basic dTpw"),
            ("authorization".into(), "Basic dTpw".into())
        );
        assert_eq!(
            token_header("x-a="),
            ("authorization".into(), "Bearer x-a=".into())
        );
        assert_eq!(token_header("X-A=b").0, "authorization");
    }

    #[test]
    fn tls_options_need_grpcs_and_pairs() {
        let o = ReapiOptions {
            ca_cert: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        assert!(connect("grpc://127.0.0.1:1", &o).is_err());
        let e = connect("grpcs://127.0.0.1:1", &o)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
        let o = ReapiOptions {
            client_cert: Some("/nonexistent/c.pem".into()),
            ..Default::default()
        };
        assert!(matches!(
            connect("grpcs://127.0.0.1:1", &o),
            Err(CacheError::Auth(_))
        ));
    }

    /// The key → Action mapping, rebuilt byte by byte from the protobuf wire format as the
    /// module docs describe it: a change here orphans every shared cache entry.
    #[test]
    fn action_mapping_is_the_documented_one() {
        let key: Key = std::array::from_fn(|i| i as u8 * 7);
        fn field(tag: u8, body: &[u8]) -> Vec<u8> {
            assert!(body.len() < 128);
            let mut v = vec![(tag << 3) | 2, body.len() as u8];
            v.extend_from_slice(body);
            v
        }
        let mut command = Vec::new();
        for arg in ["oxtask-cache-entry", "v1", &hex::encode(key)] {
            command.extend(field(1, arg.as_bytes()));
        }
        fn digest_msg(data: &[u8]) -> Vec<u8> {
            let mut d = field(1, hex::encode(Sha256::digest(data)).as_bytes());
            if !data.is_empty() {
                assert!(data.len() < 128);
                d.extend([0x10, data.len() as u8]);
            }
            d
        }
        let mut action = field(1, &digest_msg(&command));
        action.extend(field(2, &digest_msg(b"")));
        let (c, a, d) = action_for(&key);
        assert_eq!(c, command);
        assert_eq!(a, action);
        assert_eq!(d.hash, hex::encode(Sha256::digest(&action)));
        assert_eq!(d.size_bytes, action.len() as i64);
        // Distinct keys, distinct actions.
        let mut other = key;
        other[31] ^= 1;
        assert_ne!(action_for(&other).2, d);
    }

    #[test]
    fn batches_respect_the_limit() {
        let limit = 10_000;
        let sizes = [100, 5_000, 20_000, 4_000, 0, 9_000, 8_976, 8_977];
        let (batches, large) = plan_batches(&sizes, limit);
        assert_eq!(large, vec![2, 5, 7]);
        let mut all: Vec<usize> = batches
            .iter()
            .flatten()
            .copied()
            .chain(large.clone())
            .collect();
        all.sort();
        assert_eq!(all, (0..sizes.len()).collect::<Vec<_>>());
        for b in &batches {
            let total: u64 = b.iter().map(|&i| sizes[i] + BATCH_OVERHEAD).sum();
            assert!(total <= limit, "{b:?}");
        }
    }

    #[test]
    fn output_paths() {
        for ok in ["a", "dist/app.js", "a/b/c.txt", ".hidden", "a..b"] {
            assert!(valid_output_path(ok), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a/",
            "a\\..\\b",
            "a\0",
        ] {
            assert!(!valid_output_path(bad), "{bad:?}");
        }
    }

    #[test]
    fn digests_are_checked() {
        let d = digest_of(b"hello");
        assert!(verify(b"hello", &d, "n").is_ok());
        assert!(matches!(
            verify(b"hellO", &d, "n"),
            Err(CacheError::Corrupt(_))
        ));
        assert!(matches!(
            verify(b"hell", &d, "n"),
            Err(CacheError::Corrupt(_))
        ));
        assert_eq!(digest_of(b"").hash, EMPTY_SHA256);
        let mut up = d.clone();
        up.hash = up.hash.to_uppercase();
        assert!(check_digest(Some(&up), "x", "n").is_err());
        let huge = re::Digest {
            hash: d.hash.clone(),
            size_bytes: MAX_BLOB_BYTES as i64 + 1,
        };
        assert!(check_digest(Some(&huge), "x", "n").is_err());
        let neg = re::Digest {
            hash: d.hash.clone(),
            size_bytes: -1,
        };
        assert!(check_digest(Some(&neg), "x", "n").is_err());
        assert!(check_digest(None, "x", "n").is_err());
    }

    #[test]
    fn transfer_allowances_grow_with_size() {
        assert_eq!(transfer_allowance(0), Duration::ZERO);
        assert_eq!(transfer_allowance(100), Duration::from_micros(100));
        assert_eq!(transfer_allowance(10_000_000), Duration::from_secs(10));
    }
}

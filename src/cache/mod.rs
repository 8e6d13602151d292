//! A task cache shared between machines (issue 17): a task with `sources` and `generates`
//! is keyed by a digest of its compiled definition and its sources' content; the value is
//! its generated files (content and mode) and its output. A hit restores the files and
//! replays the output instead of running anything. See docs/cache.md.
//!
//! This module knows nothing of the runner: `run` computes the key material (it owns the
//! globbing and the compiled task) and calls [`Cache::get`] / [`Cache::put`] /
//! [`restore`]. Backends: `file://DIR` ([`file`]), `oci://HOST/REPO` ([`oci`]) and
//! `grpc://`/`grpcs://` REAPI servers ([`reapi`]).
//!
//! Safety: an entry is data from elsewhere. Every path it names is checked before anything
//! is written (relative, no `..`, inside the task's `generates`, no symlink on the way),
//! every blob is digest- and size-checked, and an entry failing any check is ignored (the
//! task runs). A backend that fails is disabled for the rest of the run after one warning.

pub mod file;
pub mod format;
pub mod oci;
pub mod reapi;

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// SHA-256 over the task's cache-key material ([`KeyMaterial`]).
pub type Key = [u8; 32];

/// One generated file: path relative to the task dir, '/'-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub path: String,
    pub mode: u32,
    pub content: Vec<u8>,
}

/// What a cached task left behind (it exited 0).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub files: Vec<OutputFile>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

#[derive(Debug)]
pub enum CacheError {
    Unreachable(String),
    Protocol(String),
    Corrupt(String),
    Auth(String),
    Io(String),
}

impl std::fmt::Display for CacheError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Messages are built from redacted URLs only (see `redact`): never credentials.
        match self {
            CacheError::Unreachable(m) => write!(f, "cache unreachable: {m}"),
            CacheError::Protocol(m) => write!(f, "cache protocol error: {m}"),
            CacheError::Corrupt(m) => write!(f, "cache entry refused: {m}"),
            CacheError::Auth(m) => write!(f, "cache authentication failed: {m}"),
            CacheError::Io(m) => write!(f, "cache I/O error: {m}"),
        }
    }
}

impl std::error::Error for CacheError {}

pub trait Backend: Send + Sync {
    /// Ok(None) on a miss. An entry that fails any integrity check is Err(Corrupt), never returned.
    fn get(&self, key: &Key) -> Result<Option<Entry>, CacheError>;
    fn put(&self, key: &Key, entry: &Entry) -> Result<(), CacheError>;
    /// For messages: the URL without credentials.
    fn name(&self) -> String;
    /// Called once at the end of a run, after the last store: a backend that keeps its own
    /// size bound applies it here.
    fn prune(&self) -> Result<(), CacheError> {
        Ok(())
    }
}

/// Version of the key material and entry formats: bumping it invalidates every entry.
pub const FORMAT_VERSION: &str = "oxtask-cache-1";

/// Largest entry restored or stored (all files and logs): larger outputs are not cached.
pub const MAX_ENTRY_SIZE: u64 = 1 << 30;
/// Most files in one entry.
pub const MAX_FILES: usize = 100_000;

/// How long one failing backend may hold a run up before the cache is switched off, unless
/// `--cache-timeout` / `OXTASK_CACHE_TIMEOUT` says otherwise (a slow link to a far registry).
/// 1.5 s so that a hanging server, with the connection set-up around the one call that
/// waits, costs a run under 2 s in all (measured 2.08 s with a 2 s bound).
pub const FAILURE_BUDGET: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Restore hits, never write.
    Read,
    #[default]
    ReadWrite,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        match s.trim() {
            "read" | "r" | "ro" => Some(Mode::Read),
            "readwrite" | "rw" | "read-write" | "" => Some(Mode::ReadWrite),
            _ => None,
        }
    }
}

/// What `--cache*` / `OXTASK_CACHE*` configure.
#[derive(Debug, Clone)]
pub struct Settings {
    pub url: String,
    pub mode: Mode,
    /// cosign public key (`FILE` or `env://VAR`): only entries it verifies are restored.
    pub verify_key: Option<String>,
    /// cosign private key (`FILE` or `env://VAR`, password in `COSIGN_PASSWORD`).
    pub sign_key: Option<String>,
    pub plain_http: bool,
    /// The bound of every metadata call (blob transfers get one second per MiB more):
    /// [`FAILURE_BUDGET`] unless configured.
    pub timeout: Duration,
    /// `file://` only: after a run, least recently used entries are deleted until the store
    /// holds at most this many bytes.
    pub max_size: Option<u64>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            url: String::new(),
            mode: Mode::default(),
            verify_key: None,
            sign_key: None,
            plain_http: false,
            timeout: FAILURE_BUDGET,
            max_size: None,
        }
    }
}

/// Opens the backend a URL names. Nothing is contacted yet for remote backends beyond what
/// their constructor needs.
pub fn connect(s: &Settings) -> Result<Box<dyn Backend>, CacheError> {
    let url = s.url.trim();
    if let Some(rest) = url.strip_prefix("file://") {
        return Ok(Box::new(file::FileBackend::open(
            Path::new(rest),
            s.max_size,
        )?));
    }
    if url.starts_with("oci://") {
        return Ok(Box::new(oci::OciBackend::connect(url, s)?));
    }
    if url.starts_with("grpc://") || url.starts_with("grpcs://") {
        // REAPI secrets and TLS files come from the environment only (never flags, so they
        // stay out of process listings).
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let o = reapi::ReapiOptions {
            bearer_token: var("OXTASK_CACHE_TOKEN"),
            ca_cert: var("OXTASK_CACHE_TLS_CA").map(PathBuf::from),
            client_cert: var("OXTASK_CACHE_TLS_CERT").map(PathBuf::from),
            client_key: var("OXTASK_CACHE_TLS_KEY").map(PathBuf::from),
            timeout: s.timeout,
        };
        return Ok(Box::new(reapi::connect(url, &o)?));
    }
    Err(CacheError::Protocol(format!(
        "unsupported cache URL {:?} (use file://DIR, oci://HOST/REPO, grpc://HOST:PORT or grpcs://HOST:PORT)",
        redact(url)
    )))
}

/// A size as `--cache-max-size` takes it: bytes, or a number with `K`/`M`/`G`/`T` (powers of
/// 1000), `KB`/`MB`/`GB`/`TB` (the same), or `KiB`/`MiB`/`GiB`/`TiB` (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| {
        "expected a number of bytes, optionally with a unit (10GiB, 500MB)".to_string()
    })?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KB" | "k" | "kB" => 1000,
        "M" | "MB" => 1_000_000,
        "G" | "GB" => 1_000_000_000,
        "T" | "TB" => 1_000_000_000_000,
        "Ki" | "KiB" => 1 << 10,
        "Mi" | "MiB" => 1 << 20,
        "Gi" | "GiB" => 1 << 30,
        "Ti" | "TiB" => 1 << 40,
        u => {
            return Err(format!(
                "unknown unit {u:?} (use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
            ))
        }
    };
    n.checked_mul(mult).ok_or_else(|| "too large".to_string())
}

/// `scheme://user:pass@host/…` → `scheme://host/…`: URLs in messages never carry secrets.
pub fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (auth, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            let host = auth.rsplit_once('@').map(|(_, h)| h).unwrap_or(auth);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_string(),
    }
}

/// The run-wide cache: the backend opened on first use, switched off after its first
/// failure (one warning), so an unreachable server costs at most one failed call. Stores
/// go through one background uploader, so a miss does not wait for the upload (the next
/// task starts at once); dropping the cache waits for the queued uploads.
pub struct Cache {
    inner: Arc<Inner>,
    uploader: Mutex<Option<Uploader>>,
}

struct Uploader {
    tx: std::sync::mpsc::SyncSender<(Key, Entry)>,
    worker: std::thread::JoinHandle<()>,
}

struct Inner {
    settings: Settings,
    backend: OnceLock<Option<Box<dyn Backend>>>,
    disabled: AtomicBool,
    warned: AtomicBool,
    warn: Box<dyn Fn(&str) + Send + Sync>,
    stats: Mutex<Stats>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cache({})", redact(&self.inner.settings.url))
    }
}

/// Counters for `--verbose` and the benchmark.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub hits: usize,
    pub misses: usize,
    pub refused: usize,
    pub stored: usize,
}

impl Inner {
    fn backend(&self) -> Option<&dyn Backend> {
        if self.disabled.load(Ordering::SeqCst) {
            return None;
        }
        self.backend
            .get_or_init(|| match connect(&self.settings) {
                Ok(b) => Some(b),
                Err(e) => {
                    self.fail(&redact(&self.settings.url), &e);
                    None
                }
            })
            .as_deref()
    }

    fn fail(&self, name: &str, e: &CacheError) {
        self.disabled.store(true, Ordering::SeqCst);
        if !self.warned.swap(true, Ordering::SeqCst) {
            (self.warn)(&format!(
                "task: warning: cache {name}: {e}; continuing without the cache\n"
            ));
        }
    }

    fn store(&self, key: &Key, entry: &Entry) {
        let Some(b) = self.backend() else { return };
        match b.put(key, entry) {
            Ok(()) => self.stats.lock().unwrap().stored += 1,
            // Another writer's entry, or a refused write: the run goes on.
            Err(CacheError::Corrupt(_)) => {}
            Err(e) => self.fail(&b.name(), &e),
        }
    }
}

impl Cache {
    /// `warn` prints the one warning (the runner passes its printer).
    pub fn new(settings: Settings, warn: Box<dyn Fn(&str) + Send + Sync>) -> Cache {
        Cache {
            inner: Arc::new(Inner {
                settings,
                backend: OnceLock::new(),
                disabled: AtomicBool::new(false),
                warned: AtomicBool::new(false),
                warn,
                stats: Mutex::new(Stats::default()),
            }),
            uploader: Mutex::new(None),
        }
    }

    /// A cache over an already opened backend (tests, embedding).
    pub fn with_backend(
        settings: Settings,
        backend: Box<dyn Backend>,
        warn: Box<dyn Fn(&str) + Send + Sync>,
    ) -> Cache {
        let c = Cache::new(settings, warn);
        let _ = c.inner.backend.set(Some(backend));
        c
    }

    pub fn stats(&self) -> Stats {
        *self.inner.stats.lock().unwrap()
    }

    pub fn mode(&self) -> Mode {
        self.inner.settings.mode
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The backend's name for messages.
    pub fn name(&self) -> String {
        match self.inner.backend.get() {
            Some(Some(b)) => b.name(),
            _ => redact(&self.inner.settings.url),
        }
    }

    /// A hit, or None (miss, refused entry, or the cache is off). A refused entry is
    /// reported (verbose callers print it) but never fails the run.
    pub fn get(&self, key: &Key) -> Lookup {
        let inner = &self.inner;
        let Some(b) = inner.backend() else {
            return Lookup::Off;
        };
        match b.get(key) {
            Ok(Some(e)) => {
                inner.stats.lock().unwrap().hits += 1;
                Lookup::Hit(e)
            }
            Ok(None) => {
                inner.stats.lock().unwrap().misses += 1;
                Lookup::Miss
            }
            Err(CacheError::Corrupt(m)) => {
                inner.stats.lock().unwrap().refused += 1;
                Lookup::Refused(m)
            }
            Err(e) => {
                inner.fail(&b.name(), &e);
                Lookup::Off
            }
        }
    }

    /// Queues an entry for the uploader unless the mode is read-only or the cache is off;
    /// failures switch the cache off. At most a few entries wait (the queue is bounded).
    pub fn put(&self, key: &Key, entry: Entry) {
        let st = &self.inner.settings;
        // A reader that verifies signatures but cannot sign stores nothing: its entries
        // could not pass its own check, and would replace signed ones.
        let unsigned_verifier = st.verify_key.is_some() && st.sign_key.is_none();
        if st.mode == Mode::Read || unsigned_verifier || self.inner.disabled.load(Ordering::SeqCst)
        {
            return;
        }
        let size: usize = entry.files.iter().map(|f| f.content.len()).sum::<usize>()
            + entry.stdout.len()
            + entry.stderr.len();
        if size as u64 > MAX_ENTRY_SIZE || entry.files.len() > MAX_FILES {
            return;
        }
        let mut up = self.uploader.lock().unwrap();
        if up.is_none() {
            let (tx, rx) = std::sync::mpsc::sync_channel::<(Key, Entry)>(4);
            let inner = self.inner.clone();
            let worker = std::thread::Builder::new()
                .name("oxtask-cache-upload".into())
                .spawn(move || {
                    for (k, e) in rx {
                        inner.store(&k, &e);
                    }
                });
            match worker {
                Ok(worker) => *up = Some(Uploader { tx, worker }),
                Err(_) => {
                    drop(up);
                    self.inner.store(key, &entry);
                    return;
                }
            }
        }
        if let Some(u) = up.as_ref() {
            let _ = u.tx.send((*key, entry));
        }
    }

    /// Waits for every queued upload.
    pub fn flush(&self) {
        let up = self.uploader.lock().unwrap().take();
        if let Some(u) = up {
            drop(u.tx);
            let _ = u.worker.join();
            // Once per run, after the run's last store: a store only grows by what was stored.
            if self.stats().stored > 0 {
                if let Some(b) = self.inner.backend() {
                    if let Err(e) = b.prune() {
                        (self.inner.warn)(&format!(
                            "task: warning: cache {}: pruning: {e}\n",
                            b.name()
                        ));
                    }
                }
            }
        }
    }
}

impl Drop for Cache {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Result of [`Cache::get`].
#[derive(Debug)]
pub enum Lookup {
    Hit(Entry),
    Miss,
    /// An entry existed but failed a check (digest, path, signature): ignored.
    Refused(String),
    /// No cache (disabled after a failure, or none configured).
    Off,
}

// ---- the key -----------------------------------------------------------------------

/// Everything a task's key covers, as the runner compiled it. Absolute paths under the
/// root are written relative to it so two clones in different directories share keys.
#[derive(Debug, Default, Clone)]
pub struct KeyMaterial {
    /// The root Taskfile's directory (absolute).
    pub root: PathBuf,
    /// The Taskfile that defines the task.
    pub taskfile: PathBuf,
    /// The task's directory (absolute).
    pub dir: PathBuf,
    /// Each command after templating, in order (deferred ones marked by the caller).
    pub cmds: Vec<String>,
    /// The env the Taskfile adds to commands (names and values).
    pub env: Vec<(String, String)>,
    /// Vars the Taskfile declares for this call (names and values as Go prints them).
    pub vars: Vec<(String, String)>,
    /// `generates` patterns after templating (`!` marks an exclude).
    pub generates: Vec<String>,
    /// `sources` files (absolute), in any order.
    pub sources: Vec<PathBuf>,
}

impl KeyMaterial {
    /// `s` with the root directory replaced by a placeholder.
    fn portable(&self, s: &str) -> String {
        let root = self.root.to_string_lossy();
        if root.len() > 1 {
            s.replace(&*root, "${ROOT}")
        } else {
            s.to_string()
        }
    }

    fn rel(&self, p: &Path) -> String {
        match p.strip_prefix(&self.root) {
            Ok(r) => format!("${{ROOT}}/{}", r.to_string_lossy()),
            Err(_) => p.to_string_lossy().into_owned(),
        }
    }

    /// The key: SHA-256 over length-prefixed fields, with the platform and
    /// [`FORMAT_VERSION`]; each source contributes its path (relative to the task dir) and
    /// the SHA-256 of its content. An unreadable source is an error (no key, no caching).
    pub fn key(&self, platform: &str) -> std::io::Result<Key> {
        let mut h = Sha256::new();
        let mut field = |tag: &str, v: &[u8]| {
            h.update((tag.len() as u64).to_le_bytes());
            h.update(tag.as_bytes());
            h.update((v.len() as u64).to_le_bytes());
            h.update(v);
        };
        field("version", FORMAT_VERSION.as_bytes());
        field("platform", platform.as_bytes());
        field("taskfile", self.rel(&self.taskfile).as_bytes());
        field("dir", self.rel(&self.dir).as_bytes());
        for c in &self.cmds {
            field("cmd", self.portable(c).as_bytes());
        }
        let mut env = self.env.clone();
        env.sort();
        for (k, v) in &env {
            field("env", format!("{k}={}", self.portable(v)).as_bytes());
        }
        let mut vars = self.vars.clone();
        vars.sort();
        for (k, v) in &vars {
            field("var", format!("{k}={}", self.portable(v)).as_bytes());
        }
        for g in &self.generates {
            field("generates", self.portable(g).as_bytes());
        }
        let mut sources: Vec<(String, &PathBuf)> = self
            .sources
            .iter()
            .map(|p| {
                let r = p
                    .strip_prefix(&self.dir)
                    .map(|r| r.to_string_lossy().into_owned())
                    .unwrap_or_else(|_| self.rel(p));
                (r, p)
            })
            .collect();
        sources.sort();
        sources.dedup();
        for (r, p) in sources {
            let d = hash_file(p)?;
            field("source", r.as_bytes());
            field("content", &d);
        }
        Ok(h.finalize().into())
    }
}

fn hash_file(p: &Path) -> std::io::Result<[u8; 32]> {
    use std::io::Read;
    let mut f = std::fs::File::open(p)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

pub fn key_hex(k: &Key) -> String {
    hex::encode(k)
}

// ---- paths -------------------------------------------------------------------------

/// Which relative paths a task's `generates` allow: each templated pattern relative to the
/// task dir (`**` spans directories, other elements are Go `filepath.Match` patterns).
#[derive(Debug, Clone, Default)]
pub struct Generates {
    include: Vec<Vec<String>>,
    exclude: Vec<Vec<String>>,
}

impl Generates {
    /// `patterns`: (pattern, is_exclude), as templated; `dir`: the task dir. A pattern
    /// outside the task dir allows nothing.
    pub fn new(dir: &Path, patterns: &[(String, bool)]) -> Generates {
        let mut g = Generates::default();
        for (p, excl) in patterns {
            let rel = if Path::new(p).is_absolute() {
                match Path::new(p).strip_prefix(dir) {
                    Ok(r) => r.to_string_lossy().into_owned(),
                    Err(_) => continue,
                }
            } else {
                p.clone()
            };
            let mut elems = vec![];
            let mut ok = true;
            for e in rel.split('/') {
                match e {
                    "" | "." => {}
                    ".." => ok = false,
                    e => elems.push(e.to_string()),
                }
            }
            if !ok || elems.is_empty() {
                continue;
            }
            if *excl {
                g.exclude.push(elems);
            } else {
                g.include.push(elems);
            }
        }
        g
    }

    pub fn allows(&self, rel: &str) -> bool {
        let parts: Vec<&str> = rel.split('/').collect();
        self.include.iter().any(|p| match_elems(p, &parts))
            && !self.exclude.iter().any(|p| match_elems(p, &parts))
    }
}

fn match_elems(pat: &[String], path: &[&str]) -> bool {
    match pat.first() {
        None => path.is_empty(),
        Some(p) if p == "**" => (0..=path.len()).any(|i| match_elems(&pat[1..], &path[i..])),
        Some(p) => match path.first() {
            Some(name) => {
                crate::gomatch::go_match(p, name).unwrap_or(false)
                    && match_elems(&pat[1..], &path[1..])
            }
            None => false,
        },
    }
}

/// A path an entry may name: relative, '/'-separated, no `.`/`..`/empty elements, no NUL
/// or backslash tricks, not too long.
pub fn safe_rel_path(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 4096
        && !p.starts_with('/')
        && !p.contains('\0')
        && p.split('/').all(|e| !e.is_empty() && e != "." && e != "..")
}

/// Checks every file of `e` against the task's `generates` and the path rules.
pub fn validate(e: &Entry, gen: &Generates) -> Result<(), CacheError> {
    if e.files.len() > MAX_FILES {
        return Err(CacheError::Corrupt("too many files".into()));
    }
    let mut seen = std::collections::HashSet::new();
    for f in &e.files {
        if !safe_rel_path(&f.path) {
            return Err(CacheError::Corrupt(format!(
                "unsafe path {:?} in entry",
                f.path
            )));
        }
        if !gen.allows(&f.path) {
            return Err(CacheError::Corrupt(format!(
                "path {:?} is not among the task's generates",
                f.path
            )));
        }
        if !seen.insert(f.path.as_str()) {
            return Err(CacheError::Corrupt(format!("path {:?} twice", f.path)));
        }
    }
    // A file may not also be a directory of another (`a` and `a/b`).
    for f in &e.files {
        let mut prefix = String::new();
        for part in f
            .path
            .split('/')
            .collect::<Vec<_>>()
            .split_last()
            .map(|x| x.1)
            .unwrap_or(&[])
        {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if seen.contains(prefix.as_str()) {
                return Err(CacheError::Corrupt(format!(
                    "path {:?} is both a file and a directory",
                    prefix
                )));
            }
        }
    }
    Ok(())
}

/// Restores `e` under `dir` (the task dir) after [`validate`]: parents are made as real
/// directories; any existing symlink on the way refuses the whole entry before anything is
/// written; each file is written to a temp file beside it and renamed into place (a symlink
/// at the final path is replaced, never followed). Modes keep only the permission bits.
pub fn restore(dir: &Path, e: &Entry, gen: &Generates) -> Result<(), CacheError> {
    validate(e, gen)?;
    // First pass: nothing is written unless every path is safe on disk.
    for f in &e.files {
        let mut cur = dir.to_path_buf();
        let parts: Vec<&str> = f.path.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            cur.push(part);
            match std::fs::symlink_metadata(&cur) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(CacheError::Corrupt(format!(
                        "{} is a symlink: refusing to restore {:?} through it",
                        cur.display(),
                        f.path
                    )))
                }
                Ok(m) if !m.is_dir() => {
                    return Err(CacheError::Corrupt(format!(
                        "{} is not a directory",
                        cur.display()
                    )))
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let target = dir.join(&f.path);
        if let Ok(m) = std::fs::symlink_metadata(&target) {
            if m.is_dir() {
                return Err(CacheError::Corrupt(format!(
                    "{} is a directory",
                    target.display()
                )));
            }
        }
    }
    for f in &e.files {
        let target = dir.join(&f.path);
        let parent = target.parent().unwrap_or(dir);
        make_dirs(dir, parent)?;
        write_file(&target, &f.content, f.mode & 0o777)
            .map_err(|err| CacheError::Io(format!("writing {}: {err}", target.display())))?;
    }
    Ok(())
}

/// Makes `parent` (under `base`) one level at a time, refusing symlinks made meanwhile.
fn make_dirs(base: &Path, parent: &Path) -> Result<(), CacheError> {
    let rel = parent.strip_prefix(base).unwrap_or(Path::new(""));
    let mut cur = base.to_path_buf();
    for c in rel.components() {
        let Component::Normal(c) = c else {
            return Err(CacheError::Corrupt("unsafe directory".into()));
        };
        cur.push(c);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.is_dir() && !m.file_type().is_symlink() => {}
            Ok(_) => {
                return Err(CacheError::Corrupt(format!(
                    "{} is not a plain directory",
                    cur.display()
                )))
            }
            Err(_) => match std::fs::create_dir(&cur) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let m = std::fs::symlink_metadata(&cur)
                        .map_err(|e| CacheError::Io(e.to_string()))?;
                    if !m.is_dir() || m.file_type().is_symlink() {
                        return Err(CacheError::Corrupt(format!(
                            "{} is not a plain directory",
                            cur.display()
                        )));
                    }
                }
                Err(e) => return Err(CacheError::Io(format!("mkdir {}: {e}", cur.display()))),
            },
        }
    }
    Ok(())
}

/// Temp file beside `path` (exclusive create), then rename over it.
pub(crate) fn write_file(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let mut last = None;
    for _ in 0..16 {
        let tmp = dir.join(format!(
            ".{name}.oxtask-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
        {
            Ok(mut f) => {
                let r = f
                    .write_all(data)
                    .and_then(|_| f.set_permissions(std::fs::Permissions::from_mode(mode)))
                    .and_then(|_| std::fs::rename(&tmp, path));
                if r.is_err() {
                    let _ = std::fs::remove_file(&tmp);
                }
                return r;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no temp file")))
}

/// Reads the generated files of a finished task: every regular file its `generates`
/// globs matched (`files`, absolute), relative to `dir`. None when any of them cannot be
/// cached (outside the task dir, a symlink, unreadable, too large): the task is then
/// simply not stored.
pub fn collect(dir: &Path, files: &[PathBuf], gen: &Generates) -> Option<Vec<OutputFile>> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = vec![];
    let mut total = 0u64;
    for p in files {
        let rel = p
            .strip_prefix(dir)
            .ok()?
            .to_string_lossy()
            .replace('\\', "/");
        if !safe_rel_path(&rel) || !gen.allows(&rel) {
            return None;
        }
        let m = std::fs::symlink_metadata(p).ok()?;
        if m.is_dir() {
            continue;
        }
        if !m.is_file() {
            return None;
        }
        total += m.len();
        if total > MAX_ENTRY_SIZE {
            return None;
        }
        let content = std::fs::read(p).ok()?;
        out.push(OutputFile {
            path: rel,
            mode: m.permissions().mode() & 0o777,
            content,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    if out.is_empty() {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_units() {
        assert_eq!(parse_size("1234"), Ok(1234));
        assert_eq!(parse_size("10GiB"), Ok(10 << 30));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size(" 2 Ki "), Ok(2048));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5PB").unwrap_err().contains("unknown unit"));
        assert_eq!(parse_size("99999999999TiB"), Err("too large".into()));
    }

    #[test]
    fn generates_match_like_globs() {
        let g = Generates::new(
            Path::new("/t"),
            &[
                ("out/*.txt".into(), false),
                ("dist/**/*.js".into(), false),
                ("/t/abs.bin".into(), false),
                ("/elsewhere/x".into(), false),
                ("dist/skip.js".into(), true),
            ],
        );
        assert!(g.allows("out/a.txt"));
        assert!(!g.allows("out/a/b.txt"));
        assert!(g.allows("dist/a.js"));
        assert!(g.allows("dist/x/y/a.js"));
        assert!(!g.allows("dist/skip.js"));
        assert!(g.allows("abs.bin"));
        assert!(!g.allows("x"));
        assert!(!g.allows("../t/out/a.txt"));
    }

    #[test]
    fn unsafe_paths_are_refused() {
        for p in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a\0b",
        ] {
            assert!(!safe_rel_path(p), "{p:?}");
        }
        assert!(safe_rel_path("a/b.c"));
    }

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(redact("oci://u:p@h:5000/r/x"), "oci://h:5000/r/x");
        assert_eq!(redact("grpcs://tok@h"), "grpcs://h");
        assert_eq!(redact("file:///tmp/c"), "file:///tmp/c");
    }

    #[test]
    fn keys_are_portable_between_clones() {
        let mk = |root: &str| {
            let m = KeyMaterial {
                root: root.into(),
                taskfile: format!("{root}/Taskfile.yml").into(),
                dir: format!("{root}/sub").into(),
                cmds: vec![format!("cp {root}/a out")],
                ..Default::default()
            };
            m.key("linux/amd64").unwrap()
        };
        assert_eq!(mk("/a/clone1"), mk("/b/clone2"));
        let base = KeyMaterial::default();
        let mut other = base.clone();
        other.cmds.push("x".into());
        assert_ne!(base.key("p").unwrap(), other.key("p").unwrap());
        assert_ne!(base.key("p").unwrap(), base.key("q").unwrap());
    }
}

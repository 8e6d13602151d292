//! Up-to-date checks for tasks with `sources`/`generates` (go-task's "fingerprints"),
//! reading and writing go-task's own `.task/` state so a repository can switch between
//! go-task and oxtask without rebuilding.
//!
//! # API
//!
//! ```no_run
//! use std::path::Path;
//! use oxtask::run::fingerprint::{self, Fingerprint, GlobSpec, Method};
//!
//! let sources = vec![GlobSpec::include("src/**/*.rs"), GlobSpec::exclude("src/gen.rs")];
//! let generates = vec![GlobSpec::include("target/out")];
//! let method = Method::from_name("checksum"); // task `method:`, else Taskfile's, else ""
//! let fp = Fingerprint {
//!     task: "build",          // t.Task: names the timestamp file
//!     name: "build",          // t.Name(): the label if set, else the task name; names the checksum file
//!     dir: Path::new("/repo"), // the task's absolute dir
//!     sources: &sources,
//!     generates: &generates,
//!     method: &method,
//!     temp_dir: Path::new("/repo/.task"), // --temp-dir > TASK_TEMP_DIR > <root>/.task
//!     dry: false,
//!     use_gitignore: false,   // task `use_gitignore:` else the Taskfile's
//! };
//! // The runner, unless --force applies to the task (go-task's order):
//! fp.validate_method()?;   // go-task fails on an invalid method even without sources
//! let status = None;       // Some(all `status:` commands exited 0) when the task has status
//! let sources_ok = if sources.is_empty() { None } else { Some(fp.is_up_to_date()?) };
//! let up_to_date = fingerprint::combine(status, sources_ok); // && preconditions met
//! // After a failing command: fp.on_task_failed();
//! // {{.CHECKSUM}} / {{.TIMESTAMP}} when the task's fields reference them:
//! let var = fp.special_var()?; // Some(SpecialVar::Checksum(..)) or Some(SpecialVar::Timestamp(..))
//! // `for: sources` / `for: generates`:
//! let items = fingerprint::for_items(Path::new("/repo"), &sources, false);
//! # Ok::<(), fingerprint::FingerprintError>(())
//! ```
//!
//! # State files (go-task's formats)
//! - checksum: `<temp>/checksum/<name with non-alphanumerics as '-'>` holds
//!   `format!("{:x}{:x}\n", hi, lo)` of the xxh3-128 over, per source in bytewise order,
//!   its base name then its content. Written while checking (not with `--dry`) whenever it
//!   differs; removed when the task fails.
//! - timestamp: `<temp>/timestamp/<task>` is an empty file whose mtime is the time of the
//!   last check; it counts as one of the generated files.
//!
//! # Speed
//! Directory walks and `stat`s run on all cores. The checksum of a large source set
//! (≥ [`CACHE_MIN_FILES`] files) is remembered in
//! `<temp>/checksum/.oxtask-cache/<name>` keyed by a digest of every source's path,
//! device, inode, size, mtime and ctime, so an unchanged tree is checked without reading
//! any content. go-task's format hashes all contents as one stream, so when anything
//! changed every file is read again (in parallel, hashed in order). Files changed within
//! [`RACY_WINDOW`] of the check are not trusted to the cache (a write in the same clock
//! tick would leave the metadata unchanged). Small sets are not cached: hashing them
//! costs less than the cache, and the `.task/` tree stays exactly go-task's.

mod gitignore;
pub mod glob;
mod par;
mod pattern;
mod shword;

use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use xxhash_rust::xxh3::Xxh3;

pub use glob::{FileMeta, GlobError, GlobSpec, Matched};

/// Source sets at least this large get a metadata cache for their checksum.
pub const CACHE_MIN_FILES: usize = 128;

/// Files modified this recently are too fresh for the metadata cache.
pub const RACY_WINDOW: Duration = Duration::from_secs(2);

/// How a task decides whether its sources changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Checksum,
    Timestamp,
    None,
    /// An unknown name: an error when a check is needed, `checksum` for everything else.
    Invalid(String),
}

impl Method {
    /// `""` (no method anywhere) means `checksum`, go-task's default.
    pub fn from_name(name: &str) -> Method {
        match name {
            "" | "checksum" => Method::Checksum,
            "timestamp" => Method::Timestamp,
            "none" => Method::None,
            other => Method::Invalid(other.to_string()),
        }
    }

    /// go-task's `Kind`: which special variable the method provides.
    pub fn kind(&self) -> &'static str {
        match self {
            Method::Timestamp => "timestamp",
            Method::None => "none",
            Method::Checksum | Method::Invalid(_) => "checksum",
        }
    }

    /// The special variable the method fills (`CHECKSUM`/`TIMESTAMP`), if any.
    pub fn var_name(&self) -> Option<&'static str> {
        match self {
            Method::Checksum => Some("CHECKSUM"),
            Method::Timestamp => Some("TIMESTAMP"),
            Method::None | Method::Invalid(_) => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FingerprintError {
    /// Printed by go-task as `task: Failed to run task "x": task: invalid method "y"`.
    #[error("task: invalid method \"{0}\"")]
    InvalidMethod(String),
    /// A state file or source could not be read or written (Go's `op path: reason`).
    #[error("{op} {}: {}", path.display(), glob::go_errno(source))]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Glob(#[from] GlobError),
}

fn io_err<'p>(op: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> FingerprintError + 'p {
    move |source| FingerprintError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// The value of `{{.CHECKSUM}}` or `{{.TIMESTAMP}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecialVar {
    /// The sources' checksum, as stored in the checksum file (without the newline).
    Checksum(String),
    /// The newest source mtime (the Unix epoch when there are no sources). Go templates
    /// see a `time.Time`: `{{.TIMESTAMP}}` prints [`go_time_string`], `.Unix` the seconds.
    Timestamp(SystemTime),
}

impl SpecialVar {
    pub fn name(&self) -> &'static str {
        match self {
            SpecialVar::Checksum(_) => "CHECKSUM",
            SpecialVar::Timestamp(_) => "TIMESTAMP",
        }
    }
}

/// go-task's overall verdict: with status commands and sources, both must pass; with
/// neither the task always runs. `None` = the task has no such check.
pub fn combine(status_ok: Option<bool>, sources_ok: Option<bool>) -> bool {
    match (status_ok, sources_ok) {
        (Some(a), Some(b)) => a && b,
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => false,
    }
}

/// `[^[:alnum:]]` → `-`, per character: how go-task names state files.
pub fn normalize_filename(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Expanded `sources`/`generates` (go-task's `Globs`): paths joined with `dir`, excludes
/// applied, .gitignore-filtered when asked, sorted bytewise.
pub fn expand_globs(dir: &Path, specs: &[GlobSpec], use_gitignore: bool) -> Vec<PathBuf> {
    glob::globs(dir, specs, use_gitignore, false)
        .into_iter()
        .map(|m| m.path)
        .collect()
}

/// Items of `for: sources` / `for: generates`: the expanded paths relative to `dir`.
pub fn for_items(dir: &Path, specs: &[GlobSpec], use_gitignore: bool) -> Vec<String> {
    let base = glob::abs(dir);
    expand_globs(dir, specs, use_gitignore)
        .into_iter()
        .map(|p| {
            glob::rel(&base, &glob::abs(&p))
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// Go's `time.Time.String()` for a file time, in UTC
/// (`2006-01-02 15:04:05.999999999 +0000 UTC`).
pub fn go_time_string(t: SystemTime) -> String {
    let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            let mut s = -(d.as_secs() as i64);
            let mut n = d.subsec_nanos();
            if n > 0 {
                s -= 1;
                n = 1_000_000_000 - n;
            }
            (s, n)
        }
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push_str(" +0000 UTC");
    s
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Everything the up-to-date check of one compiled task needs.
#[derive(Debug, Clone, Copy)]
pub struct Fingerprint<'a> {
    /// The task's name (`t.Task`); names the timestamp file.
    pub task: &'a str,
    /// The label if set, else the task name (`t.Name()`); names the checksum file.
    pub name: &'a str,
    /// The task's directory (absolute).
    pub dir: &'a Path,
    pub sources: &'a [GlobSpec],
    pub generates: &'a [GlobSpec],
    pub method: &'a Method,
    /// `--temp-dir`, `TASK_TEMP_DIR`, or `.task` beside the root Taskfile.
    pub temp_dir: &'a Path,
    /// `--dry`: compute but write no state.
    pub dry: bool,
    pub use_gitignore: bool,
}

impl Fingerprint<'_> {
    /// go-task rejects an invalid method on every up-to-date check, sources or not.
    pub fn validate_method(&self) -> Result<(), FingerprintError> {
        match self.method {
            Method::Invalid(m) => Err(FingerprintError::InvalidMethod(m.clone())),
            _ => Ok(()),
        }
    }

    pub fn checksum_file(&self) -> PathBuf {
        self.temp_dir
            .join("checksum")
            .join(normalize_filename(self.name))
    }

    pub fn timestamp_file(&self) -> PathBuf {
        self.temp_dir
            .join("timestamp")
            .join(normalize_filename(self.task))
    }

    fn cache_file(&self) -> PathBuf {
        self.temp_dir
            .join("checksum")
            .join(".oxtask-cache")
            .join(normalize_filename(self.name))
    }

    /// The sources part of go-task's check (`false` without sources). Writes the
    /// checksum file or touches the timestamp file as go-task does, unless `dry`.
    pub fn is_up_to_date(&self) -> Result<bool, FingerprintError> {
        self.validate_method()?;
        if self.sources.is_empty() {
            return Ok(false);
        }
        match self.method {
            Method::Checksum => self.checksum_up_to_date(),
            Method::Timestamp => self.timestamp_up_to_date(),
            Method::None | Method::Invalid(_) => Ok(false),
        }
    }

    /// After a failed command: forget the checksum so the next run retries.
    pub fn on_task_failed(&self) -> Result<(), FingerprintError> {
        self.validate_method()?;
        if self.sources.is_empty() || *self.method != Method::Checksum {
            return Ok(());
        }
        let f = self.checksum_file();
        std::fs::remove_file(&f).map_err(io_err("remove", &f))
    }

    /// `{{.CHECKSUM}}`/`{{.TIMESTAMP}}`: only the one of the task's method, only with
    /// sources; nothing for `none` or an invalid method. Costs a glob (and a hash):
    /// call it only when the task references the variable.
    pub fn special_var(&self) -> Result<Option<SpecialVar>, FingerprintError> {
        if self.sources.is_empty() {
            return Ok(None);
        }
        match self.method {
            Method::Checksum => Ok(Some(SpecialVar::Checksum(self.checksum()?))),
            Method::Timestamp => {
                let files = glob::globs(self.dir, self.sources, self.use_gitignore, true);
                let newest = files
                    .iter()
                    .filter_map(|m| m.meta.map(|x| x.mtime))
                    .max()
                    .map(meta_time)
                    .unwrap_or(UNIX_EPOCH);
                Ok(Some(SpecialVar::Timestamp(newest)))
            }
            Method::None | Method::Invalid(_) => Ok(None),
        }
    }

    /// The brief's pair form of [`Self::special_var`]: `(CHECKSUM, TIMESTAMP as Go prints it)`.
    pub fn special_vars(&self) -> Result<(Option<String>, Option<String>), FingerprintError> {
        Ok(match self.special_var()? {
            Some(SpecialVar::Checksum(c)) => (Some(c), None),
            Some(SpecialVar::Timestamp(t)) => (None, Some(go_time_string(t))),
            None => (None, None),
        })
    }

    /// Every non-exclude `generates` entry must match something.
    fn generates_exist(&self) -> Result<bool, FingerprintError> {
        for g in self.generates.iter().filter(|g| !g.exclude) {
            match glob::glob_one(self.dir, &g.pattern, false) {
                Err(e) if e.is_not_exist() => return Ok(false),
                Err(e) => return Err(e.into()),
                Ok(v) if v.is_empty() => return Ok(false),
                Ok(_) => {}
            }
        }
        Ok(true)
    }

    fn checksum_up_to_date(&self) -> Result<bool, FingerprintError> {
        let file = self.checksum_file();
        let old = std::fs::read(&file)
            .map(|d| String::from_utf8_lossy(&d).trim().to_string())
            .unwrap_or_default();
        // go-task treats an unreadable source as "not up to date", not as an error.
        let Ok(new) = self.checksum() else {
            return Ok(false);
        };
        if !self.dry && old != new {
            let _ = std::fs::create_dir_all(self.temp_dir.join("checksum"));
            write_atomic(&file, format!("{new}\n").as_bytes()).map_err(io_err("open", &file))?;
        }
        if !self.generates_exist()? {
            return Ok(false);
        }
        Ok(old == new)
    }

    fn timestamp_up_to_date(&self) -> Result<bool, FingerprintError> {
        let sources = glob::globs(self.dir, self.sources, self.use_gitignore, true);
        if !self.generates_exist()? {
            return Ok(false);
        }
        let generates = glob::globs(self.dir, self.generates, self.use_gitignore, true);
        let ts_file = self.timestamp_file();
        let mut newest_output: Option<(i64, i64)> = generates
            .iter()
            .filter_map(|m| m.meta.map(|x| x.mtime))
            .max();
        match std::fs::metadata(&ts_file) {
            Ok(m) => {
                let t = FileMeta::of(&m).mtime;
                newest_output = Some(newest_output.map_or(t, |n| n.max(t)));
            }
            Err(_) if !self.dry => {
                let parent = self.temp_dir.join("timestamp");
                std::fs::create_dir_all(&parent).map_err(io_err("mkdir", &parent))?;
                std::fs::File::create(&ts_file).map_err(io_err("open", &ts_file))?;
            }
            Err(_) => {}
        }
        let check_time = SystemTime::now();
        let Some(newest_output) = newest_output else {
            return Ok(false);
        };
        let changed = sources
            .iter()
            .any(|m| m.meta.is_some_and(|x| x.mtime > newest_output));
        if !self.dry {
            std::fs::File::open(&ts_file)
                .and_then(|f| {
                    f.set_times(
                        std::fs::FileTimes::new()
                            .set_accessed(check_time)
                            .set_modified(check_time),
                    )
                })
                .map_err(io_err("chtimes", &ts_file))?;
        }
        Ok(!changed)
    }

    /// go-task's checksum of the sources, through the metadata cache for large sets.
    fn checksum(&self) -> Result<String, FingerprintError> {
        let scan_start = SystemTime::now();
        let files = glob::globs(self.dir, self.sources, self.use_gitignore, true);
        let cacheable = files.len() >= CACHE_MIN_FILES && files.iter().all(|m| m.meta.is_some());
        let digest = cacheable.then(|| meta_digest(&files));
        let cache_file = self.cache_file();
        if let Some(d) = digest {
            if let Some(sum) = read_cache(&cache_file, d) {
                return Ok(sum);
            }
        }
        let (hi, lo) = hash_sources(&files)?;
        let sum = format!("{hi:x}{lo:x}");
        if let Some(d) = digest {
            let fresh_after = scan_start
                .checked_sub(RACY_WINDOW)
                .map(system_time_parts)
                .unwrap_or((i64::MIN, 0));
            let racy = files.iter().any(|m| {
                m.meta
                    .is_some_and(|x| x.mtime >= fresh_after || x.ctime >= fresh_after)
            });
            if !self.dry && !racy {
                // The cache only saves time; failing to write it changes nothing.
                let _ = std::fs::create_dir_all(cache_file.parent().unwrap_or(self.temp_dir));
                let _ = write_atomic(
                    &cache_file,
                    format!("{CACHE_MAGIC}\n{d:032x}\n{sum}\n").as_bytes(),
                );
            }
        }
        Ok(sum)
    }
}

const CACHE_MAGIC: &str = "oxtask-checksum-cache 1";

fn meta_time((s, n): (i64, i64)) -> SystemTime {
    if s >= 0 {
        UNIX_EPOCH + Duration::new(s as u64, n as u32)
    } else {
        UNIX_EPOCH - Duration::from_secs(s.unsigned_abs()) + Duration::from_nanos(n as u64)
    }
}

fn system_time_parts(t: SystemTime) -> (i64, i64) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos() as i64),
        Err(_) => (i64::MIN, 0),
    }
}

/// Identifies a source set and the metadata of every file in it.
fn meta_digest(files: &[Matched]) -> u128 {
    let mut h = Xxh3::new();
    for m in files {
        h.update(m.path.as_os_str().as_bytes());
        h.update(&[0]);
        if let Some(x) = m.meta {
            for v in [
                x.dev,
                x.ino,
                x.size,
                x.mtime.0 as u64,
                x.mtime.1 as u64,
                x.ctime.0 as u64,
                x.ctime.1 as u64,
            ] {
                h.update(&v.to_le_bytes());
            }
        }
    }
    h.digest128()
}

fn read_cache(path: &Path, digest: u128) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    if lines.next()? != CACHE_MAGIC {
        return None;
    }
    if lines.next()? != format!("{digest:032x}") {
        return None;
    }
    let sum = lines.next()?;
    (!sum.is_empty() && sum.bytes().all(|b| b.is_ascii_hexdigit())).then(|| sum.to_string())
}

/// Writes through a temporary file and a rename, so readers never see half a file.
fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    // Unique per write: the same task may be checked from two threads at once.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp-{}-{seq}", std::process::id()));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

/// Files larger than this are streamed by the hashing thread instead of read ahead.
const READ_AHEAD_MAX_FILE: u64 = 8 << 20;
/// Bytes read ahead in one parallel batch.
const READ_AHEAD_BATCH_BYTES: u64 = 64 << 20;
const READ_AHEAD_BATCH_FILES: usize = 8192;

/// xxh3-128 over base name + content of each file, in the given order. Small files are
/// read ahead in parallel; the hash itself is one stream, as go-task's format requires.
fn hash_sources(files: &[Matched]) -> Result<(u64, u64), FingerprintError> {
    let mut h = Xxh3::new();
    let mut i = 0;
    while i < files.len() {
        let start = i;
        let mut bytes = 0u64;
        while i < files.len() && i - start < READ_AHEAD_BATCH_FILES {
            let size = files[i].meta.map_or(0, |m| m.size);
            if size > READ_AHEAD_MAX_FILE || bytes + size > READ_AHEAD_BATCH_BYTES {
                break;
            }
            bytes += size;
            i += 1;
        }
        if i > start {
            let contents = par::map(&files[start..i], |m| std::fs::read(&m.path));
            for (m, c) in files[start..i].iter().zip(contents) {
                let c = c.map_err(io_err("open", &m.path))?;
                h.update(base_name(&m.path));
                h.update(&c);
            }
        } else {
            // A large file: stream it.
            let m = &files[i];
            h.update(base_name(&m.path));
            let mut f = std::fs::File::open(&m.path).map_err(io_err("open", &m.path))?;
            let mut buf = vec![0u8; 128 << 10];
            loop {
                let n = f.read(&mut buf).map_err(io_err("read", &m.path))?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            i += 1;
        }
    }
    let d = h.digest128();
    Ok(((d >> 64) as u64, d as u64))
}

/// Go's `filepath.Base` of a file path.
fn base_name(p: &Path) -> &[u8] {
    let b = p.as_os_str().as_bytes();
    let trimmed = {
        let mut e = b.len();
        while e > 1 && b[e - 1] == b'/' {
            e -= 1;
        }
        &b[..e]
    };
    match trimmed.iter().rposition(|&c| c == b'/') {
        Some(i) if trimmed.len() > 1 => &trimmed[i + 1..],
        _ => trimmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names() {
        assert_eq!(Method::from_name(""), Method::Checksum);
        assert_eq!(Method::from_name("timestamp"), Method::Timestamp);
        assert_eq!(Method::from_name("none").var_name(), None);
        let bad = Method::from_name("checksums");
        assert_eq!(bad.kind(), "checksum");
        assert_eq!(
            FingerprintError::InvalidMethod("checksums".into()).to_string(),
            "task: invalid method \"checksums\""
        );
    }

    #[test]
    fn state_file_names() {
        assert_eq!(normalize_filename("included:build"), "included-build");
        assert_eq!(normalize_filename("my text file.txt"), "my-text-file-txt");
        assert_eq!(normalize_filename("é/x"), "--x");
    }

    #[test]
    fn combine_rules() {
        assert!(!combine(None, None));
        assert!(combine(Some(true), None));
        assert!(!combine(Some(true), Some(false)));
        assert!(combine(None, Some(true)));
    }

    #[test]
    fn go_time_format() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 120_000_000);
        assert_eq!(go_time_string(t), "2023-11-14 22:13:20.12 +0000 UTC");
        assert_eq!(go_time_string(UNIX_EPOCH), "1970-01-01 00:00:00 +0000 UTC");
    }

    #[test]
    fn base_names() {
        assert_eq!(base_name(Path::new("/a/b/c.txt")), b"c.txt");
        assert_eq!(base_name(Path::new("c.txt")), b"c.txt");
        assert_eq!(base_name(Path::new("/")), b"/");
    }
}

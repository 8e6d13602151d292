//! Expansion of `sources`/`generates` entries into files, as go-task 3.54 does it.
//!
//! Per entry (joined with the task dir unless absolute):
//! 1. **Fast path** (go-task's `FastRecursiveGlob`): `ROOT/**/NAME` with a literal ROOT
//!    and a NAME without `/` or braces walks ROOT and matches file names with Go's
//!    `filepath.Match`, which (unlike the shell) lets `*` match dot files and descends
//!    into dot directories. A symlink to a directory anywhere under ROOT sends the entry
//!    to the general path instead; a broken symlink makes the entry match nothing.
//! 2. **General path** (mvdan/sh field expansion with globstar and nullglob): shell
//!    words, braces, `$VAR`, then a glob per path element where `*` skips dot files and
//!    `**` recurses (following symlinked directories). Every result is `stat`ed; one that
//!    fails makes the whole entry match nothing, directories are dropped.
//!
//! The entries are applied in order: a file matched by an `exclude:` entry is dropped
//! unless a later plain entry matches it again. Results are sorted bytewise, like Go
//! sorts strings, which the checksum depends on.

use std::collections::HashMap;
use std::fs::Metadata;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::gitignore;
use super::par;
use super::pattern::{go_match, has_meta, unescape, ShellPattern};
use super::shword::{expand_fields, Field};

/// One `sources`/`generates` entry: a pattern, or an `exclude:` pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GlobSpec {
    pub pattern: String,
    pub exclude: bool,
}

impl GlobSpec {
    pub fn include(pattern: impl Into<String>) -> Self {
        GlobSpec {
            pattern: pattern.into(),
            exclude: false,
        }
    }

    pub fn exclude(pattern: impl Into<String>) -> Self {
        GlobSpec {
            pattern: pattern.into(),
            exclude: true,
        }
    }
}

/// The parts of a file's `stat` the fingerprints use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileMeta {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
}

impl FileMeta {
    pub fn of(m: &Metadata) -> Self {
        FileMeta {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}

/// A matched file; `meta` is filled when the caller asked for it.
#[derive(Debug, Clone)]
pub struct Matched {
    pub path: PathBuf,
    pub meta: Option<FileMeta>,
}

/// Why one entry matched nothing.
#[derive(Debug, thiserror::Error)]
pub enum GlobError {
    /// `stat`/`lstat`/`open` failed on a path (Go's `*PathError` wording).
    #[error("{op} {}: {}", path.display(), go_errno(source))]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("syntax error in pattern")]
    BadPattern,
    #[error("{0}")]
    Word(String),
}

impl GlobError {
    /// Go's `os.IsNotExist`.
    pub fn is_not_exist(&self) -> bool {
        matches!(self, GlobError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

/// Go's text for an errno (`no such file or directory`).
pub fn go_errno(e: &io::Error) -> String {
    let s = e.to_string();
    let s = match s.rfind(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    };
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

fn io_err(op: &'static str, path: &Path, source: io::Error) -> GlobError {
    GlobError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

pub use crate::gomatch::clean;

/// go-task's `filepathext.SmartJoin(dir, pattern)`: absolute patterns (and ones still
/// naming a `{{.ROOT_DIR}}`-like variable) are kept as they are.
pub fn smart_join(dir: &Path, pattern: &str) -> String {
    let special = [".ROOT_DIR", ".TASKFILE_DIR", ".USER_WORKING_DIR"]
        .iter()
        .any(|s| pattern.contains(s));
    if pattern.starts_with('/') || special {
        return pattern.to_string();
    }
    let d = dir.to_string_lossy();
    if d.is_empty() {
        clean(pattern)
    } else if pattern.is_empty() {
        clean(&d)
    } else {
        clean(&format!("{d}/{pattern}"))
    }
}

/// Go's `filepath.Abs`: joined with the working directory and cleaned (no symlinks).
pub fn abs(p: &Path) -> PathBuf {
    let s = p.to_string_lossy();
    if s.starts_with('/') {
        return PathBuf::from(clean(&s));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    PathBuf::from(clean(&format!("{}/{s}", cwd.to_string_lossy())))
}

/// Go's `filepath.Rel(base, target)` for two clean paths of the same kind.
pub fn rel(base: &Path, target: &Path) -> PathBuf {
    let b = clean(&base.to_string_lossy());
    let t = clean(&target.to_string_lossy());
    if b == t {
        return PathBuf::from(".");
    }
    let bc: Vec<&str> = b
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let tc: Vec<&str> = t
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let common = bc.iter().zip(&tc).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; bc.len() - common];
    parts.extend(&tc[common..]);
    PathBuf::from(parts.join("/"))
}

fn meta_if(want: bool, m: &Metadata) -> Option<FileMeta> {
    want.then(|| FileMeta::of(m))
}

/// Events that stop go-task's fast walk, in walk order.
enum Stop {
    /// A symlink to a directory: use the general path.
    Fallback,
    Fail(GlobError),
}

/// go-task's fast path. `None` means "use the general path".
fn fast_glob(pattern: &str, want_meta: bool) -> Option<Result<Vec<Matched>, GlobError>> {
    let pattern = clean(pattern);
    const MARKER: &str = "/**/";
    let idx = pattern.find(MARKER)?;
    let after = &pattern[idx + MARKER.len()..];
    if after.contains(MARKER) {
        return None;
    }
    let root = &pattern[..idx];
    let name = after;
    if root.is_empty() || name.is_empty() || name.contains('/') {
        return None;
    }
    if root.contains("**") || root.contains(['*', '?', '[', ']', '{', '}']) {
        return None;
    }
    if name.contains(['{', '}']) {
        return None;
    }
    let root = PathBuf::from(root);
    match std::fs::symlink_metadata(&root) {
        Err(e) => return Some(Err(io_err("lstat", &root, e))),
        Ok(m) if !m.is_dir() => return None,
        Ok(_) => {}
    }
    let bad_pattern = go_match(name, "").is_err();

    enum Out {
        Hit(Matched),
        Stop(PathBuf, Stop),
    }
    let results = par::walk(vec![root], |dir, next, out: &mut Vec<Out>| {
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => {
                out.push(Out::Stop(
                    dir.to_path_buf(),
                    Stop::Fail(io_err("open", dir, e)),
                ));
                return;
            }
        };
        for entry in rd {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    out.push(Out::Stop(
                        dir.to_path_buf(),
                        Stop::Fail(io_err("readdirent", dir, e)),
                    ));
                    return;
                }
            };
            let path = entry.path();
            let ft = match entry.file_type() {
                Ok(ft) => ft,
                Err(e) => {
                    out.push(Out::Stop(
                        path.clone(),
                        Stop::Fail(io_err("lstat", &path, e)),
                    ));
                    continue;
                }
            };
            if ft.is_dir() {
                next.push(path);
                continue;
            }
            let mut meta = None;
            if ft.is_symlink() {
                match std::fs::metadata(&path) {
                    Err(e) => {
                        out.push(Out::Stop(
                            path.clone(),
                            Stop::Fail(io_err("stat", &path, e)),
                        ));
                        continue;
                    }
                    Ok(m) if m.is_dir() => {
                        out.push(Out::Stop(path, Stop::Fallback));
                        continue;
                    }
                    Ok(m) => meta = meta_if(want_meta, &m),
                }
            }
            if bad_pattern {
                out.push(Out::Stop(path, Stop::Fail(GlobError::BadPattern)));
                continue;
            }
            let fname = path.file_name().unwrap_or_default();
            if go_match(name, &fname.to_string_lossy()) != Ok(true) {
                continue;
            }
            if want_meta && meta.is_none() {
                match entry.metadata() {
                    Ok(m) => meta = Some(FileMeta::of(&m)),
                    Err(e) => {
                        out.push(Out::Stop(
                            path.clone(),
                            Stop::Fail(io_err("lstat", &path, e)),
                        ));
                        continue;
                    }
                }
            }
            out.push(Out::Hit(Matched { path, meta }));
        }
    });
    let mut hits = Vec::with_capacity(results.len());
    let mut first_stop: Option<(PathBuf, Stop)> = None;
    for r in results {
        match r {
            Out::Hit(m) => hits.push(m),
            // Go walks in lexical order and stops at the first event; `Path`'s ordering
            // compares element by element, which is that order.
            Out::Stop(p, s) => {
                if first_stop.as_ref().is_none_or(|(q, _)| p < *q) {
                    first_stop = Some((p, s));
                }
            }
        }
    }
    match first_stop {
        Some((_, Stop::Fallback)) => None,
        Some((_, Stop::Fail(e))) => Some(Err(e)),
        None => Some(Ok(hits)),
    }
}

/// mvdan's `pathJoin2`: joins without cleaning.
fn join2(dir: &Path, elem: &str) -> PathBuf {
    if dir.as_os_str().is_empty() {
        return PathBuf::from(elem);
    }
    let mut s = dir.as_os_str().to_os_string();
    if !dir.as_os_str().as_bytes().ends_with(b"/") {
        s.push("/");
    }
    s.push(elem);
    PathBuf::from(s)
}

fn join2_os(dir: &Path, elem: &std::ffi::OsStr) -> PathBuf {
    if dir.as_os_str().is_empty() {
        return PathBuf::from(elem);
    }
    let mut s = dir.as_os_str().to_os_string();
    if !dir.as_os_str().as_bytes().ends_with(b"/") {
        s.push("/");
    }
    s.push(elem);
    PathBuf::from(s)
}

/// Where a (possibly relative) glob match lives on disk.
fn on_disk(base: &Path, m: &Path) -> PathBuf {
    if m.is_absolute() {
        m.to_path_buf()
    } else {
        base.join(m)
    }
}

fn is_dir_target(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_dir())
}

enum ShellGlobError {
    Syntax,
    Io(GlobError),
}

/// mvdan's `Config.glob` with globstar: one path element at a time.
fn shell_glob(base: &Path, pat: &str) -> Result<Vec<PathBuf>, ShellGlobError> {
    let mut parts: Vec<&str> = pat.split('/').collect();
    let mut matches: Vec<PathBuf> = vec![PathBuf::new()];
    if pat.starts_with('/') {
        matches = vec![PathBuf::from("/")];
        parts.remove(0);
    }
    let last = parts.len().saturating_sub(1);
    for (i, part) in parts.iter().enumerate() {
        let want_dir = i < last;
        match *part {
            "" | "." | ".." => {
                for m in &mut matches {
                    *m = join2(m, part);
                }
            }
            p if !has_meta(p) => {
                let lit = unescape(p);
                matches = par::map(&matches, |m| {
                    let candidate = join2(m, &lit);
                    match std::fs::metadata(on_disk(base, &candidate)) {
                        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                        Ok(md) if md.is_dir() => Some(candidate),
                        _ if want_dir => None,
                        _ => Some(candidate),
                    }
                })
                .into_iter()
                .flatten()
                .collect();
            }
            "**" => {
                // Every directory below (or, last, every entry), depth first; names
                // starting with a dot are skipped; the starting dir itself counts.
                let roots: Vec<PathBuf> = matches.iter().map(|m| join2(m, "")).collect();
                let mut found: Vec<PathBuf> = roots.clone();
                found.extend(par::walk(roots, |dir, next, out: &mut Vec<PathBuf>| {
                    let Ok(rd) = std::fs::read_dir(on_disk(base, dir)) else {
                        return;
                    };
                    for entry in rd.flatten() {
                        let name = entry.file_name();
                        if name.as_bytes().first() == Some(&b'.') {
                            continue;
                        }
                        let child = join2_os(dir, &name);
                        let is_dir = match entry.file_type() {
                            Ok(ft) if ft.is_dir() => true,
                            Ok(ft) if ft.is_symlink() => is_dir_target(&on_disk(base, &child)),
                            _ => false,
                        };
                        if want_dir && !is_dir {
                            continue;
                        }
                        if is_dir {
                            next.push(child.clone());
                        }
                        out.push(child);
                    }
                }));
                matches = found;
            }
            p => {
                let pattern = ShellPattern::new(p).map_err(|_| ShellGlobError::Syntax)?;
                let lists = par::map(&matches, |m| -> Result<Vec<PathBuf>, GlobError> {
                    let full = on_disk(base, m);
                    let rd = std::fs::read_dir(&full).map_err(|e| io_err("open", &full, e))?;
                    let mut out = Vec::new();
                    for entry in rd.flatten() {
                        let name = entry.file_name();
                        if want_dir {
                            match entry.file_type() {
                                Ok(ft) if ft.is_dir() => {}
                                Ok(ft) if ft.is_symlink() => {
                                    if !is_dir_target(&full.join(&name)) {
                                        continue;
                                    }
                                }
                                _ => continue,
                            }
                        }
                        if pattern.matches(&name.to_string_lossy()) {
                            out.push(join2_os(m, &name));
                        }
                    }
                    Ok(out)
                });
                let mut next = Vec::new();
                for l in lists {
                    next.extend(l.map_err(ShellGlobError::Io)?);
                }
                matches = next;
            }
        }
    }
    sort_bytes(&mut matches);
    if matches.first().is_some_and(|m| m.as_os_str().is_empty()) {
        matches.remove(0);
    }
    Ok(matches)
}

fn sort_bytes(v: &mut [PathBuf]) {
    v.sort_unstable_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
}

fn env_lookup(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// The general path: shell fields, globbing, then a `stat` of every result.
fn general_glob(pattern: &str, want_meta: bool) -> Result<Vec<Matched>, GlobError> {
    let fields = expand_fields(pattern, &env_lookup).map_err(|e| GlobError::Word(e.0))?;
    let base = std::env::var_os("PWD")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("/"));
    let mut paths: Vec<PathBuf> = Vec::new();
    for f in fields {
        match f {
            Field::Literal(l) => paths.push(PathBuf::from(l)),
            Field::Glob { pattern, literal } => match shell_glob(&base, &pattern) {
                Ok(m) => paths.extend(m),
                Err(ShellGlobError::Syntax) => paths.push(PathBuf::from(literal)),
                Err(ShellGlobError::Io(e)) => return Err(e),
            },
        }
    }
    // The same file can come twice (`{a,a}`, `**/**`, a split `$X`); go-task's map
    // keeps it once. (The fast walk never repeats a file.)
    let mut seen = std::collections::HashSet::with_capacity(paths.len());
    paths.retain(|p| seen.insert(p.as_os_str().to_os_string()));
    let stats = par::map(&paths, |p| std::fs::metadata(on_disk(&base, p)));
    let mut out = Vec::with_capacity(paths.len());
    for (p, st) in paths.into_iter().zip(stats) {
        match st {
            Err(e) => return Err(io_err("stat", &p, e)),
            Ok(m) if m.is_dir() => {}
            Ok(m) => out.push(Matched {
                meta: meta_if(want_meta, &m),
                path: p,
            }),
        }
    }
    Ok(out)
}

/// go-task's `glob(dir, g)`: one entry, unsorted, possibly with duplicates.
pub fn glob_one(dir: &Path, pattern: &str, want_meta: bool) -> Result<Vec<Matched>, GlobError> {
    let joined = smart_join(dir, pattern);
    if let Some(r) = fast_glob(&joined, want_meta) {
        return r;
    }
    general_glob(&joined, want_meta)
}

/// go-task's `Globs`: all entries with excludes applied, optionally filtered through
/// .gitignore, sorted bytewise. An entry that fails to expand is skipped.
pub fn globs(dir: &Path, specs: &[GlobSpec], use_gitignore: bool, want_meta: bool) -> Vec<Matched> {
    let mut list = globs_unsorted(dir, specs, use_gitignore, want_meta);
    sort_matched(&mut list);
    list
}

/// Bytewise order of the paths, as Go sorts strings.
pub fn sort_matched(list: &mut [Matched]) {
    list.sort_unstable_by(|a, b| {
        a.path
            .as_os_str()
            .as_bytes()
            .cmp(b.path.as_os_str().as_bytes())
    });
}

/// [`globs`] in no particular order, for callers that do not need one.
pub fn globs_unsorted(
    dir: &Path,
    specs: &[GlobSpec],
    use_gitignore: bool,
    want_meta: bool,
) -> Vec<Matched> {
    let mut list: Vec<Matched> = if specs.len() == 1 && !specs[0].exclude {
        glob_one(dir, &specs[0].pattern, want_meta).unwrap_or_default()
    } else {
        // Keyed by the path's bytes, like go-task's map of strings (`Path` equality
        // would merge `a/./b` with `a/b`); a later entry overrides an earlier one.
        let mut map: HashMap<std::ffi::OsString, (bool, Option<FileMeta>)> = HashMap::new();
        for spec in specs {
            let Ok(found) = glob_one(dir, &spec.pattern, want_meta) else {
                continue;
            };
            for m in found {
                map.insert(m.path.into_os_string(), (!spec.exclude, m.meta));
            }
        }
        map.into_iter()
            .filter(|(_, (keep, _))| *keep)
            .map(|(path, (_, meta))| Matched {
                path: PathBuf::from(path),
                meta,
            })
            .collect()
    };
    if use_gitignore && !list.is_empty() {
        let abs_dir = abs(dir);
        let abs_paths: Vec<PathBuf> = list.iter().map(|m| abs(&m.path)).collect();
        let refs: Vec<&Path> = abs_paths.iter().map(|p| p.as_path()).collect();
        let mut keep = vec![true; list.len()];
        gitignore::filter(&abs_dir, &refs, &mut keep);
        let mut k = keep.into_iter();
        list.retain(|_| k.next().unwrap_or(true));
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_like_go() {
        assert_eq!(clean("/a/./b/../c//d/"), "/a/c/d");
        assert_eq!(clean("a/../../b"), "../b");
        assert_eq!(clean("/../x"), "/x");
        assert_eq!(clean(""), ".");
        assert_eq!(clean("./"), ".");
    }

    #[test]
    fn smart_join_keeps_absolute() {
        assert_eq!(smart_join(Path::new("/d"), "./src/*.txt"), "/d/src/*.txt");
        assert_eq!(smart_join(Path::new("/d/sub"), "../rel.txt"), "/d/rel.txt");
        assert_eq!(smart_join(Path::new("/d"), "/abs//x"), "/abs//x");
    }

    #[test]
    fn rel_like_go() {
        assert_eq!(
            rel(Path::new("/d/sub"), Path::new("/d/rel.txt")),
            PathBuf::from("../rel.txt")
        );
        assert_eq!(
            rel(Path::new("/d"), Path::new("/d/a/b")),
            PathBuf::from("a/b")
        );
        assert_eq!(rel(Path::new("/d"), Path::new("/d")), PathBuf::from("."));
    }
}

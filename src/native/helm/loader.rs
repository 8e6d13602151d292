//! Chart loading as Helm's `pkg/chart/loader`: directories (with `.helmignore`, symlinks
//! followed, sorted walk) and archives (hostile entry names rejected).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::chart::{Lock, Metadata};
use super::ignore::Rules;

pub const MAX_FILE_SIZE: u64 = 5 * 1024 * 1024;
pub const MAX_CHART_SIZE: u64 = 100 * 1024 * 1024;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A file of a chart: path relative to the chart root (`/`-separated) and its bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct BufferedFile {
    pub name: String,
    pub data: Vec<u8>,
    /// Modification time in Unix seconds (rounded as Go's tar writer rounds), when known:
    /// Helm 4 writes it into packaged archives.
    pub mtime: Option<i64>,
}

/// A loaded chart (Helm's `chart.Chart`).
#[derive(Clone, Debug, Default)]
pub struct Chart {
    pub metadata: Metadata,
    pub lock: Option<Lock>,
    /// Raw `values.yaml` bytes when the file exists (BOM stripped).
    pub values: Option<Vec<u8>>,
    pub schema: Option<Vec<u8>>,
    pub templates: Vec<BufferedFile>,
    pub files: Vec<BufferedFile>,
    /// Subcharts, sorted by directory/archive name (Helm's order is random).
    pub dependencies: Vec<Chart>,
    /// mtimes of Chart.yaml, values.yaml and values.schema.json (Helm 4 keeps them).
    pub mod_time: Option<i64>,
    pub values_mod_time: Option<i64>,
    pub schema_mod_time: Option<i64>,
}

impl Chart {
    pub fn name(&self) -> &str {
        &self.metadata.name
    }
}

/// Loads a chart from a directory or an archive file (`loader.Load`).
pub fn load(path: &Path, warn: &mut dyn FnMut(String)) -> Result<Chart, String> {
    let md =
        std::fs::metadata(path).map_err(|e| format!("stat {}: {}", path.display(), io_msg(&e)))?;
    if md.is_dir() {
        load_dir(path, warn)
    } else {
        load_archive_file(path, warn)
    }
}

/// Go-style text for common I/O errors.
pub fn io_msg(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_ascii_lowercase(),
                None => s,
            }
        }
    }
}

/// `loader.LoadDir`.
pub fn load_dir(dir: &Path, warn: &mut dyn FnMut(String)) -> Result<Chart, String> {
    let top = std::path::absolute(dir).map_err(|e| e.to_string())?;
    let mut rules = match std::fs::read(top.join(".helmignore")) {
        Ok(data) => Rules::parse(&data)?,
        Err(_) => Rules::default(),
    };
    rules.add_defaults();
    let mut files = Vec::new();
    walk(&top, "", &rules, &mut files, 0, warn)?;
    load_files(files, warn)
}

fn walk(
    dir: &Path,
    rel: &str,
    rules: &Rules,
    out: &mut Vec<BufferedFile>,
    depth: usize,
    warn: &mut dyn FnMut(String),
) -> Result<(), String> {
    if depth > 64 {
        return Err(format!(
            "{}: too many levels of symbolic links",
            dir.display()
        ));
    }
    let rd =
        std::fs::read_dir(dir).map_err(|e| format!("open {}: {}", dir.display(), io_msg(&e)))?;
    let mut names: Vec<std::ffi::OsString> =
        rd.filter_map(|e| e.ok().map(|e| e.file_name())).collect();
    names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
    for name in names {
        let full: PathBuf = dir.join(&name);
        let n = if rel.is_empty() {
            name.to_string_lossy().into_owned()
        } else {
            format!("{rel}/{}", name.to_string_lossy())
        };
        let lmd = std::fs::symlink_metadata(&full)
            .map_err(|e| format!("lstat {}: {}", full.display(), io_msg(&e)))?;
        let md = if lmd.file_type().is_symlink() {
            let resolved = std::fs::canonicalize(&full).map_err(|e| {
                format!(
                    "error evaluating symlink {}: {}",
                    full.display(),
                    io_msg(&e)
                )
            })?;
            warn(format!(
                "found symbolic link in path: {} resolves to {}. Contents of linked file included and used",
                full.display(),
                resolved.display()
            ));
            std::fs::metadata(&resolved)
                .map_err(|e| format!("lstat {}: {}", resolved.display(), io_msg(&e)))?
        } else {
            lmd
        };
        if md.is_dir() {
            if rules.ignore(&n, true) {
                continue;
            }
            walk(&full, &n, rules, out, depth + 1, warn)?;
            continue;
        }
        if rules.ignore(&n, false) {
            continue;
        }
        if !md.is_file() {
            return Err(format!(
                "cannot load irregular file {} as it has file mode type bits set",
                full.display()
            ));
        }
        if md.len() > MAX_FILE_SIZE {
            return Err(format!(
                "chart file {:?} is larger than the maximum file size {MAX_FILE_SIZE}",
                name.to_string_lossy()
            ));
        }
        let data =
            std::fs::read(&full).map_err(|e| format!("open {}: {}", full.display(), io_msg(&e)))?;
        let data = data.strip_prefix(BOM).map(<[u8]>::to_vec).unwrap_or(data);
        let mtime = md.modified().ok().and_then(round_secs);
        out.push(BufferedFile {
            name: n,
            data,
            mtime,
        });
    }
    Ok(())
}

/// `loader.LoadFile` for an archive on disk (content sniffing as Helm).
pub fn load_archive_file(path: &Path, warn: &mut dyn FnMut(String)) -> Result<Chart, String> {
    let data =
        std::fs::read(path).map_err(|e| format!("open {}: {}", path.display(), io_msg(&e)))?;
    let name = path.display().to_string();
    if !data.starts_with(&[0x1f, 0x8b, 0x08]) {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".yml") || lower.ends_with(".yaml") {
            return Err(format!(
                "file '{name}' seems to be a YAML file, but expected a gzipped archive"
            ));
        }
        return Err(format!(
            "file '{name}' does not appear to be a gzipped archive; got '{}'",
            sniff_content_type(&data)
        ));
    }
    load_archive(&data, warn).map_err(|e| {
        if e.starts_with("gzip:") {
            format!("file '{name}' does not appear to be a valid chart file (details: {e})")
        } else {
            e
        }
    })
}

fn sniff_content_type(data: &[u8]) -> &'static str {
    let head = &data[..data.len().min(512)];
    if head.is_empty() {
        return "text/plain; charset=utf-8";
    }
    let binary = head
        .iter()
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b));
    if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}

/// Archive entry names → chart files (`loader.LoadArchiveFiles`).
pub fn archive_files(data: &[u8]) -> Result<Vec<BufferedFile>, String> {
    let gz = flate2::read::MultiGzDecoder::new(data);
    let mut ar = tar::Archive::new(SpecialHeaderLimit::new(gz));
    let mut files = Vec::new();
    let mut total: u64 = 0;
    let entries = ar.entries().map_err(|e| gz_err(&e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| gz_err(&e))?;
        let et = entry.header().entry_type();
        if et.is_dir()
            || et.is_pax_local_extensions()
            || et.is_pax_global_extensions()
            || et.is_gnu_longname()
            || et.is_gnu_longlink()
        {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if et.is_symlink() || et.is_hard_link() {
            // Helm would read these as empty files; a link in a chart archive is never
            // legitimate and could point outside the extraction directory, so refuse it.
            return Err(format!("chart illegally contains a link: {raw:?}"));
        }
        let n = clean_entry_name(&raw)?;
        let size = entry.header().size().unwrap_or(0);
        if size > MAX_FILE_SIZE {
            return Err(format!(
                "decompressed chart file {raw:?} is larger than the maximum file size {MAX_FILE_SIZE}"
            ));
        }
        total += size;
        // Helm fails when the remaining budget reaches 0: exactly 100 MiB is too much
        if total >= MAX_CHART_SIZE {
            return Err(format!(
                "decompressed chart is larger than the maximum size {MAX_CHART_SIZE}"
            ));
        }
        let mut buf = Vec::with_capacity(size as usize);
        entry
            .by_ref()
            .take(MAX_FILE_SIZE + 1)
            .read_to_end(&mut buf)
            .map_err(|e| gz_err(&e))?;
        let buf = buf.strip_prefix(BOM).map(<[u8]>::to_vec).unwrap_or(buf);
        let mtime = entry
            .header()
            .mtime()
            .ok()
            .and_then(|m| i64::try_from(m).ok());
        files.push(BufferedFile {
            name: n,
            data: buf,
            mtime,
        });
    }
    Ok(files)
}

/// Go's archive/tar limit on PAX extended headers and GNU long names/links
/// (`maxSpecialFileSize`): the tar crate would read any size into memory.
pub const MAX_SPECIAL_FILE_SIZE: u64 = 1 << 20;
const FIELD_TOO_LONG: &str = "archive/tar: header field too long";

/// Passes a tar stream through while following its 512-byte blocks, and fails the read
/// that reaches a PAX (`x`, `g`) or GNU long-name (`L`, `K`) header whose body is over
/// [`MAX_SPECIAL_FILE_SIZE`], before the tar crate buffers that body.
struct SpecialHeaderLimit<R> {
    inner: R,
    /// Bytes of the current header block seen so far (a header may span reads).
    header: Vec<u8>,
    /// Bytes of entry data (padded to 512) still to pass before the next header.
    body_left: u64,
    /// The next block is a GNU sparse extension block, not a header.
    sparse_ext: bool,
    /// Data size of the sparse entry whose extension blocks are being read.
    sparse_size: u64,
}

impl<R> SpecialHeaderLimit<R> {
    fn new(inner: R) -> Self {
        SpecialHeaderLimit {
            inner,
            header: Vec::with_capacity(512),
            body_left: 0,
            sparse_ext: false,
            sparse_size: 0,
        }
    }

    fn track(&mut self, mut buf: &[u8]) -> std::io::Result<()> {
        while !buf.is_empty() {
            if self.body_left > 0 {
                let n = (self.body_left.min(buf.len() as u64)) as usize;
                self.body_left -= n as u64;
                buf = &buf[n..];
                continue;
            }
            let n = (512 - self.header.len()).min(buf.len());
            self.header.extend_from_slice(&buf[..n]);
            buf = &buf[n..];
            if self.header.len() < 512 {
                break;
            }
            let h = std::mem::take(&mut self.header);
            if self.sparse_ext {
                self.sparse_ext = h[504] != 0;
                if !self.sparse_ext {
                    self.body_left = self.sparse_size.div_ceil(512).saturating_mul(512);
                }
                continue;
            }
            let size = tar_size(&h[124..136]);
            if h[156] == b'S' && h[482] != 0 {
                self.sparse_ext = true;
                self.sparse_size = size;
                continue;
            }
            if matches!(h[156], b'x' | b'g' | b'L' | b'K') && size > MAX_SPECIAL_FILE_SIZE {
                return Err(std::io::Error::other(FIELD_TOO_LONG));
            }
            // directories, links and the like carry no data whatever the size says
            // (the tar crate reads `size` bytes for every entry type, so follow it)
            // A size near u64::MAX (base-256 field) must not overflow the rounding.
            self.body_left = size.div_ceil(512).saturating_mul(512);
        }
        Ok(())
    }
}

/// A tar header's size field: octal, or base-256 when the high bit is set.
fn tar_size(f: &[u8]) -> u64 {
    if f[0] & 0x80 != 0 {
        let mut v: u64 = (f[0] & 0x7f) as u64;
        for &b in &f[1..] {
            v = v.saturating_mul(256).saturating_add(b as u64);
        }
        return v;
    }
    let s: String = f
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as char)
        .collect();
    u64::from_str_radix(s.trim(), 8).unwrap_or(0)
}

impl<R: Read> Read for SpecialHeaderLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.track(&buf[..n])?;
        Ok(n)
    }
}

fn gz_err(e: &std::io::Error) -> String {
    let s = e.to_string();
    if s.contains("invalid gzip header") || s.contains("corrupt deflate") {
        "gzip: invalid header".into()
    } else {
        s
    }
}

/// Drops the first path component and applies Helm's safety checks.
pub fn clean_entry_name(raw: &str) -> Result<String, String> {
    let delim = if raw.contains('\\') { '\\' } else { '/' };
    let parts: Vec<&str> = raw.split(delim).collect();
    let n = parts[1..].join("/");
    if n.starts_with('/') {
        return Err("chart illegally contains absolute paths".into());
    }
    let n = go_path_clean(&n);
    if n == "." {
        return Err(format!(
            "chart illegally contains content outside the base directory: {raw:?}"
        ));
    }
    if n.starts_with("..") {
        return Err("chart illegally references parent directory".into());
    }
    let b = n.as_bytes();
    if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/' {
        return Err("chart contains illegally named files".into());
    }
    if parts[0] == "Chart.yaml" {
        return Err("chart yaml not in base directory".into());
    }
    Ok(n)
}

/// Go `path.Clean`.
pub use crate::gomatch::clean as go_path_clean;

/// Unix seconds rounded to the nearest second (Go's tar writer rounds `ModTime`).
pub fn round_secs(t: std::time::SystemTime) -> Option<i64> {
    let (neg, d) = match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => (false, d),
        Err(e) => (true, e.duration()),
    };
    let secs = i64::try_from(d.as_secs()).ok()?;
    let up = i64::from(d.subsec_nanos() >= 500_000_000);
    Some(if neg { -(secs + up) } else { secs + up })
}

/// `loader.LoadArchive` from bytes.
pub fn load_archive(data: &[u8], warn: &mut dyn FnMut(String)) -> Result<Chart, String> {
    let files = archive_files(data)?;
    if files.is_empty() {
        return Err("no files in chart archive".into());
    }
    load_files(files, warn)
}

/// `loader.LoadFiles`.
pub fn load_files(files: Vec<BufferedFile>, warn: &mut dyn FnMut(String)) -> Result<Chart, String> {
    let mut c = Chart::default();
    let mut have_meta = false;
    for f in &files {
        if f.name == "Chart.yaml" {
            have_meta = true;
            c.mod_time = f.mtime;
            c.metadata
                .merge_yaml(&f.data)
                .map_err(|e| format!("cannot load Chart.yaml: {e}"))?;
            if c.metadata.api_version.is_empty() {
                c.metadata.api_version = "v1".into();
            }
        }
    }
    let mut subcharts: std::collections::BTreeMap<String, Vec<BufferedFile>> = Default::default();
    let dep_warning = "Warning: Dependencies are handled in Chart.yaml since apiVersion \"v2\". We recommend migrating dependencies to Chart.yaml.";
    for f in files {
        match f.name.as_str() {
            "Chart.yaml" => {}
            "Chart.lock" => {
                c.lock = Some(
                    Lock::from_yaml(&f.data).map_err(|e| format!("cannot load Chart.lock: {e}"))?,
                );
            }
            "values.yaml" => {
                let text = std::str::from_utf8(&f.data)
                    .map_err(|_| "cannot load values.yaml: error converting YAML to JSON: yaml: invalid leading UTF-8 octet".to_string())?;
                let v = super::yaml::parse(text).map_err(|e| {
                    format!("cannot load values.yaml: error converting YAML to JSON: {e}")
                })?;
                if !matches!(v, super::yaml::Yaml::Map(_) | super::yaml::Yaml::Null) {
                    return Err("cannot load values.yaml: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal into Go value of type map[string]interface {}".into());
                }
                c.values_mod_time = f.mtime;
                c.values = Some(f.data);
            }
            "values.schema.json" => {
                c.schema_mod_time = f.mtime;
                c.schema = Some(f.data);
            }
            "requirements.yaml" => {
                have_meta = true;
                if c.metadata.api_version != "v1" {
                    warn(dep_warning.into());
                }
                c.metadata
                    .merge_yaml(&f.data)
                    .map_err(|e| format!("cannot load requirements.yaml: {e}"))?;
                if c.metadata.api_version == "v1" {
                    c.files.push(f);
                }
            }
            "requirements.lock" => {
                c.lock = Some(
                    Lock::from_yaml(&f.data)
                        .map_err(|e| format!("cannot load requirements.lock: {e}"))?,
                );
                have_meta = true;
                if c.metadata.api_version.is_empty() {
                    c.metadata.api_version = "v1".into();
                }
                if c.metadata.api_version != "v1" {
                    warn(dep_warning.into());
                }
                if c.metadata.api_version == "v1" {
                    c.files.push(f);
                }
            }
            n if n.starts_with("templates/") => c.templates.push(f),
            n if n.starts_with("charts/") => {
                if n.ends_with(".prov") {
                    c.files.push(f);
                    continue;
                }
                let fname = &n["charts/".len()..];
                let cname = fname.split('/').next().unwrap_or("").to_string();
                subcharts.entry(cname).or_default().push(BufferedFile {
                    name: fname.to_string(),
                    data: f.data,
                    mtime: f.mtime,
                });
            }
            _ => c.files.push(f),
        }
    }
    if !have_meta {
        return Err("Chart.yaml file is missing".into());
    }
    c.metadata.validate()?;
    for (n, files) in subcharts {
        if n.starts_with('_') || n.starts_with('.') {
            continue;
        }
        let parent = c.metadata.name.clone();
        let wrap = |e: String| format!("error unpacking subchart {n} in {parent}: {e}");
        let sc = if n.ends_with(".tgz") {
            let file = &files[0];
            if file.name != n {
                return Err(format!(
                    "error unpacking tar in {parent}: expected {n}, got {}",
                    file.name
                ));
            }
            load_archive(&file.data, warn).map_err(wrap)?
        } else {
            let buff: Vec<BufferedFile> = files
                .into_iter()
                .filter_map(|f| {
                    f.name.split_once('/').map(|(_, rest)| BufferedFile {
                        name: rest.to_string(),
                        data: f.data,
                        mtime: f.mtime,
                    })
                })
                .collect();
            load_files(buff, warn).map_err(wrap)?
        };
        c.dependencies.push(sc);
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn header(name: &str, flag: u8, size: u64) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = flag;
        h[257..263].copy_from_slice(b"ustar ");
        h[263..265].copy_from_slice(b" \0");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| b as u32).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    #[test]
    fn oversized_long_name_headers_are_refused_before_buffering() {
        for flag in [b'L', b'x'] {
            let size = MAX_SPECIAL_FILE_SIZE + 1;
            let mut tar = header("././@LongLink", flag, size);
            tar.extend(std::iter::repeat_n(
                b'a',
                (size.div_ceil(512) * 512) as usize,
            ));
            tar.extend(header("c/Chart.yaml", b'0', 0));
            tar.extend([0u8; 1024]);
            assert_eq!(
                archive_files(&gz(&tar)).unwrap_err(),
                "archive/tar: header field too long"
            );
        }
        // at the limit it is read (and the name applies to the next entry)
        let name = format!("c/{}", "n".repeat(300));
        let mut tar = header("././@LongLink", b'L', name.len() as u64 + 1);
        let mut body = name.clone().into_bytes();
        body.push(0);
        body.resize(512, 0);
        tar.extend(body);
        tar.extend(header("c/short", b'0', 0));
        tar.extend([0u8; 1024]);
        let files = archive_files(&gz(&tar)).unwrap();
        assert_eq!(files[0].name, "n".repeat(300));
    }

    #[test]
    fn chart_size_limits_use_helms_messages() {
        let mut tar = header("c/big", b'0', MAX_FILE_SIZE + 1);
        tar.extend(vec![
            0u8;
            ((MAX_FILE_SIZE + 1).div_ceil(512) * 512) as usize
        ]);
        tar.extend([0u8; 1024]);
        assert_eq!(
            archive_files(&gz(&tar)).unwrap_err(),
            format!("decompressed chart file \"c/big\" is larger than the maximum file size {MAX_FILE_SIZE}")
        );
        // 21 files of 5 MiB: the 21st passes 100 MiB (headers only: sizes are checked
        // before any data is read, so the data can be short)
        let mut tar = Vec::new();
        for i in 0..21 {
            tar.extend(header(&format!("c/f{i}"), b'0', MAX_FILE_SIZE));
            tar.extend(vec![0u8; MAX_FILE_SIZE as usize]);
        }
        tar.extend([0u8; 1024]);
        assert_eq!(
            archive_files(&gz(&tar)).unwrap_err(),
            format!("decompressed chart is larger than the maximum size {MAX_CHART_SIZE}")
        );
    }

    #[test]
    fn entry_names() {
        assert_eq!(
            clean_entry_name("chart/templates/a.yaml").unwrap(),
            "templates/a.yaml"
        );
        assert_eq!(clean_entry_name("/Chart.yaml").unwrap(), "Chart.yaml");
        assert_eq!(clean_entry_name("c:\\Chart.yaml").unwrap(), "Chart.yaml");
        assert!(clean_entry_name("Chart.yaml").is_err());
        assert!(clean_entry_name("x/../../etc")
            .unwrap_err()
            .contains("parent"));
        assert_eq!(go_path_clean("a/./b/../c"), "a/c");
    }
}

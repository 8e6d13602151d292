//! `chartutil.Save`: the package archive exactly as Helm lays it out (entry order, USTAR
//! headers, Go's gzip header), written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::loader::Chart;

/// gzip header bytes Helm (v3.21.4, v4.2.3) writes: FEXTRA|FCOMMENT, MTIME 0, OS 255, its
/// 41-byte "extra" and the comment `Helm`.
pub const GZIP_EXTRA: &[u8] = b"+aHR0cHM6Ly95b3V0dS5iZS96OVV6MWljandyTQo=";

/// An archive entry: path inside the tar, bytes, and the mtime Helm 4 gives it (the
/// file's own; `None` = the time of packaging).
pub type Entry = (String, Vec<u8>, Option<i64>);

/// Archive entries in Helm's order.
pub fn entries(c: &Chart) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    collect(c, "", &mut out)?;
    Ok(out)
}

fn join(base: &str, name: &str) -> String {
    super::loader::go_path_clean(&format!("{base}/{name}"))
}

fn collect(c: &Chart, prefix: &str, out: &mut Vec<Entry>) -> Result<(), String> {
    let base = if prefix.is_empty() {
        super::loader::go_path_clean(c.name())
    } else {
        join(prefix, c.name())
    };
    out.push((
        join(&base, "Chart.yaml"),
        c.metadata.to_chart_yaml(true).into_bytes(),
        c.mod_time,
    ));
    if c.metadata.api_version == "v2" {
        if let Some(l) = &c.lock {
            // Helm 4 stamps the lock with its `generated` time (the zero time = now)
            let t = chrono::DateTime::parse_from_rfc3339(&l.generated)
                .ok()
                .filter(|t| t.timestamp() > -62135596800)
                .map(|t| t.timestamp() + i64::from(t.timestamp_subsec_nanos() >= 500_000_000));
            out.push((join(&base, "Chart.lock"), l.to_yaml().into_bytes(), t));
        }
    }
    if let Some(v) = &c.values {
        out.push((join(&base, "values.yaml"), v.clone(), c.values_mod_time));
    }
    if let Some(s) = &c.schema {
        if serde_json::from_slice::<serde::de::IgnoredAny>(s).is_err() {
            return Err("Invalid JSON in values.schema.json".into());
        }
        out.push((
            join(&base, "values.schema.json"),
            s.clone(),
            c.schema_mod_time,
        ));
    }
    for f in &c.templates {
        out.push((join(&base, &f.name), f.data.clone(), f.mtime));
    }
    for f in &c.files {
        out.push((join(&base, &f.name), f.data.clone(), f.mtime));
    }
    for d in &c.dependencies {
        collect(d, &join(&base, "charts"), out)?;
    }
    Ok(())
}

fn octal(field: &mut [u8], v: u64) {
    // zero-padded octal with a trailing NUL, as Go's formatOctal
    let n = field.len() - 1;
    let s = format!("{:0width$o}", v, width = n);
    let b = s.as_bytes();
    let start = b.len().saturating_sub(n);
    field[..n].copy_from_slice(&b[start..]);
    field[n] = 0;
}

fn header(name: &str, prefix: &str, size: u64, mtime: u64, mode: u64, typeflag: u8) -> [u8; 512] {
    let mut h = [0u8; 512];
    let nb = name.as_bytes();
    h[..nb.len().min(100)].copy_from_slice(&nb[..nb.len().min(100)]);
    octal(&mut h[100..108], mode);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], mtime);
    h[156] = typeflag;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    octal(&mut h[329..337], 0);
    octal(&mut h[337..345], 0);
    let pb = prefix.as_bytes();
    h[345..345 + pb.len().min(155)].copy_from_slice(&pb[..pb.len().min(155)]);
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let s = format!("{sum:06o}");
    h[148..154].copy_from_slice(s.as_bytes());
    h[154] = 0;
    h[155] = b' ';
    h
}

/// Go `splitUSTARPath`.
fn split_ustar(name: &str) -> Option<(&str, &str)> {
    let len = name.len();
    if len <= 100 || !name.is_ascii() {
        return None;
    }
    let mut length = len;
    if length > 156 {
        length = 156;
    } else if name.as_bytes()[length - 1] == b'/' {
        length -= 1;
    }
    let i = name[..length].rfind('/')?;
    let nlen = len - i - 1;
    if i == 0 || nlen > 100 || nlen == 0 || i > 155 {
        return None;
    }
    Some((&name[..i], &name[i + 1..]))
}

fn pad(w: &mut Vec<u8>) {
    let r = w.len() % 512;
    if r != 0 {
        w.extend(std::iter::repeat_n(0u8, 512 - r));
    }
}

/// The uncompressed tar stream (USTAR, mode 0644, uid/gid 0, no directory entries). Each
/// entry's mtime is `fixed` when given (reproducible archives), else its own, else `now`.
pub fn tar_bytes(entries: &[Entry], fixed: Option<u64>, now: u64) -> Vec<u8> {
    let mut w = Vec::new();
    for (name, data, own) in entries {
        // a negative time (before 1970) cannot be written as USTAR octal: use now
        let mtime = fixed.unwrap_or_else(|| own.and_then(|t| u64::try_from(t).ok()).unwrap_or(now));
        if name.len() <= 100 && name.is_ascii() {
            w.extend_from_slice(&header(name, "", data.len() as u64, mtime, 0o644, b'0'));
        } else if let Some((prefix, base)) = split_ustar(name) {
            w.extend_from_slice(&header(base, prefix, data.len() as u64, mtime, 0o644, b'0'));
        } else {
            // PAX extended header carrying the path, as Go writes it.
            let rec = pax_record("path", name);
            let (dir, file) = match name.rfind('/') {
                Some(i) => (&name[..i], &name[i + 1..]),
                None => ("", name.as_str()),
            };
            let xname = super::loader::go_path_clean(&format!("{dir}/PaxHeaders.0/{file}"));
            let xname: String = xname.chars().filter(char::is_ascii).take(100).collect();
            w.extend_from_slice(&header(&xname, "", rec.len() as u64, 0, 0, b'x'));
            w.extend_from_slice(rec.as_bytes());
            pad(&mut w);
            let short: String = name.chars().filter(char::is_ascii).take(100).collect();
            w.extend_from_slice(&header(&short, "", data.len() as u64, mtime, 0o644, b'0'));
        }
        w.extend_from_slice(data);
        pad(&mut w);
    }
    w.extend(std::iter::repeat_n(0u8, 1024));
    w
}

fn pax_record(k: &str, v: &str) -> String {
    let base = k.len() + v.len() + 3; // ' ' '=' '\n'
    let mut n = base + 1;
    loop {
        let total = base + n.to_string().len();
        if total == n {
            break;
        }
        n = total;
    }
    format!("{n} {k}={v}\n")
}

/// gzip with Helm's header and Go-level-6-equivalent compression.
pub fn gzip(tar: &[u8]) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new()
        .extra(GZIP_EXTRA)
        .comment("Helm")
        .operating_system(255)
        .mtime(0)
        .write(Vec::new(), flate2::Compression::new(6));
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(tar);
    enc.finish().unwrap_or_default()
}

/// The `.tgz` bytes for `c`: entries keep their files' mtimes (Helm 4), or all get `fixed`.
pub fn archive(c: &Chart, fixed: Option<u64>) -> Result<Vec<u8>, String> {
    let e = entries(c)?;
    Ok(gzip(&tar_bytes(&e, fixed, now_secs())))
}

/// The wall clock in Unix seconds, rounded as Go's tar writer rounds.
pub fn now_secs() -> u64 {
    super::loader::round_secs(std::time::SystemTime::now())
        .and_then(|t| u64::try_from(t).ok())
        .unwrap_or(0)
}

/// Writes `data` to `path` via a temp file in the same directory + rename (never leaves a
/// partial archive), with mode 0644 as Helm's `os.Create` under the usual umask.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let base = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{base}.tmp{}", std::process::id()));
    let res = (|| {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, mode);
        let mut f = o.open(&tmp)?;
        // No fsync (Helm does none either): the rename alone guarantees that readers never
        // see a partial archive.
        f.write_all(data)?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    let _ = mode;
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_header_matches_helm() {
        let gz = gzip(b"hello");
        let want = hex::decode("1f8b08140000000000ff29002b6148523063484d364c79393562335630645335695a5339364f5656364d576c6a616e647954516f3d48656c6d00").unwrap();
        assert_eq!(&gz[..want.len()], &want[..]);
    }

    #[test]
    fn ustar_header_fields() {
        let t = tar_bytes(
            &[("c/Chart.yaml".into(), b"x".to_vec(), None)],
            None,
            0o1234,
        );
        assert_eq!(t.len(), 512 + 512 + 1024);
        let h = &t[..512];
        assert_eq!(&h[100..108], b"0000644\0");
        assert_eq!(&h[108..116], b"0000000\0");
        assert_eq!(&h[124..136], b"00000000001\0");
        assert_eq!(&h[136..148], b"00000001234\0");
        assert_eq!(&h[257..265], b"ustar\x0000");
        assert_eq!(&h[329..345], b"0000000\x000000000\0");
        assert_eq!(h[154], 0);
        assert_eq!(h[155], b' ');
        // tar crate can read it back
        let mut ar = tar::Archive::new(&t[..]);
        let names: Vec<String> = ar
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, vec!["c/Chart.yaml"]);
    }

    #[test]
    fn long_names() {
        let long = format!("c/{}/f.txt", "d".repeat(120));
        let uni = "c/ünï.txt".to_string();
        let t = tar_bytes(
            &[
                (long.clone(), b"1".to_vec(), None),
                (uni.clone(), b"2".to_vec(), None),
            ],
            None,
            0,
        );
        let mut ar = tar::Archive::new(&t[..]);
        let names: Vec<String> = ar
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, vec![long, uni]);
    }
}

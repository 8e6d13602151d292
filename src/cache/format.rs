//! Entry encodings shared by the backends: the output tree as a tar (regular files with
//! their modes) and the logs as JSON. Decoding is bounded and refuses anything but regular
//! files; paths are checked later by [`super::validate`] against the task's `generates`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use super::{CacheError, Entry, OutputFile, MAX_ENTRY_SIZE, MAX_FILES};

pub const TREE_MEDIA_TYPE: &str = "application/vnd.oxtask.cache.tree.v1.tar";
pub const LOGS_MEDIA_TYPE: &str = "application/vnd.oxtask.cache.logs.v1+json";

fn corrupt(m: impl Into<String>) -> CacheError {
    CacheError::Corrupt(m.into())
}

/// The files as a tar: fixed owner and time so equal outputs give equal bytes (and equal
/// digests between machines).
pub fn encode_tree(files: &[OutputFile]) -> Result<Vec<u8>, CacheError> {
    let mut b = tar::Builder::new(Vec::new());
    for f in files {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(f.content.len() as u64);
        h.set_mode(f.mode & 0o777);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        b.append_data(&mut h, &f.path, f.content.as_slice())
            .map_err(|e| CacheError::Io(format!("encoding {:?}: {e}", f.path)))?;
    }
    b.into_inner()
        .map_err(|e| CacheError::Io(format!("encoding tree: {e}")))
}

pub fn decode_tree(data: &[u8]) -> Result<Vec<OutputFile>, CacheError> {
    use std::io::Read;
    let mut a = tar::Archive::new(data);
    let mut files = vec![];
    let mut total = 0u64;
    let entries = a
        .entries()
        .map_err(|e| corrupt(format!("tree is not a tar: {e}")))?;
    for ent in entries {
        let mut ent = ent.map_err(|e| corrupt(format!("tree: {e}")))?;
        let kind = ent.header().entry_type();
        if !kind.is_file() {
            return Err(corrupt(format!(
                "tree holds a {kind:?} entry (only regular files are restored)"
            )));
        }
        let path = String::from_utf8(ent.path_bytes().into_owned())
            .map_err(|_| corrupt("tree path is not UTF-8"))?;
        let mode = ent
            .header()
            .mode()
            .map_err(|e| corrupt(format!("tree: {e}")))?;
        let size = ent.size();
        total += size;
        if total > MAX_ENTRY_SIZE || files.len() >= MAX_FILES {
            return Err(corrupt("tree too large"));
        }
        let mut content = Vec::with_capacity(size.min(1 << 20) as usize);
        ent.by_ref()
            .take(size)
            .read_to_end(&mut content)
            .map_err(|e| corrupt(format!("tree: {e}")))?;
        if content.len() as u64 != size {
            return Err(corrupt(format!("tree: {path:?} is truncated")));
        }
        files.push(OutputFile {
            path,
            mode: mode & 0o777,
            content,
        });
    }
    Ok(files)
}

pub fn encode_logs(e: &Entry) -> Vec<u8> {
    let v = serde_json::json!({
        "exitCode": 0,
        "stdout": B64.encode(&e.stdout),
        "stderr": B64.encode(&e.stderr),
    });
    serde_json::to_vec(&v).unwrap_or_default()
}

/// (stdout, stderr); only an exit status of 0 is ever cached.
pub fn decode_logs(data: &[u8]) -> Result<(Vec<u8>, Vec<u8>), CacheError> {
    let v: serde_json::Value =
        serde_json::from_slice(data).map_err(|e| corrupt(format!("logs are not JSON: {e}")))?;
    if v["exitCode"].as_i64() != Some(0) {
        return Err(corrupt("logs record a failing run"));
    }
    let field = |k: &str| -> Result<Vec<u8>, CacheError> {
        B64.decode(v[k].as_str().unwrap_or_default())
            .map_err(|_| corrupt(format!("logs: {k} is not base64")))
    };
    Ok((field("stdout")?, field("stderr")?))
}

/// One self-checking blob for the file backend:
/// `MAGIC\n<key hex>\n<sha256 hex of body>\n<body length>\n<body>` where the body is
/// the tree's length (8 bytes LE), the tree, then the logs.
pub const MAGIC: &str = "oxtask-cache-entry 1";

pub fn encode_entry(key_hex: &str, e: &Entry) -> Result<Vec<u8>, CacheError> {
    Ok(encode_entry_parts(
        key_hex,
        &encode_tree(&e.files)?,
        &encode_logs(e),
    ))
}

/// [`encode_entry`] from an already encoded tree and logs.
pub fn encode_entry_parts(key_hex: &str, tree: &[u8], logs: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut body = Vec::with_capacity(8 + tree.len() + logs.len());
    body.extend_from_slice(&(tree.len() as u64).to_le_bytes());
    body.extend_from_slice(tree);
    body.extend_from_slice(logs);
    let digest = hex::encode(Sha256::digest(&body));
    let mut out = format!("{MAGIC}\n{key_hex}\n{digest}\n{}\n", body.len()).into_bytes();
    out.extend_from_slice(&body);
    out
}

pub fn decode_entry(key_hex: &str, data: &[u8]) -> Result<Entry, CacheError> {
    use sha2::{Digest, Sha256};
    let mut rest = data;
    let mut line = || -> Result<&str, CacheError> {
        let i = rest
            .iter()
            .take(200)
            .position(|&b| b == b'\n')
            .ok_or_else(|| corrupt("entry header is cut short"))?;
        let l = std::str::from_utf8(&rest[..i]).map_err(|_| corrupt("entry header"))?;
        rest = &rest[i + 1..];
        Ok(l)
    };
    if line()? != MAGIC {
        return Err(corrupt("not an oxtask cache entry"));
    }
    if line()? != key_hex {
        return Err(corrupt("entry is stored under another key"));
    }
    let digest = line()?.to_string();
    let len: u64 = line()?
        .parse()
        .map_err(|_| corrupt("entry length is not a number"))?;
    if rest.len() as u64 != len {
        return Err(corrupt(format!(
            "entry is {} bytes where its header says {len} (truncated?)",
            rest.len()
        )));
    }
    if hex::encode(Sha256::digest(rest)) != digest {
        return Err(corrupt("entry digest mismatch"));
    }
    if rest.len() < 8 {
        return Err(corrupt("entry body is cut short"));
    }
    let tlen = u64::from_le_bytes(rest[..8].try_into().unwrap_or_default());
    let body = &rest[8..];
    if tlen > body.len() as u64 {
        return Err(corrupt("entry tree is cut short"));
    }
    let (tree, logs) = body.split_at(tlen as usize);
    let files = decode_tree(tree)?;
    let (stdout, stderr) = decode_logs(logs)?;
    Ok(Entry {
        files,
        stdout,
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Entry {
        Entry {
            files: vec![
                OutputFile {
                    path: "out/a.bin".into(),
                    mode: 0o755,
                    content: vec![0, 1, 2, 255],
                },
                OutputFile {
                    path: format!("{}/long", "d".repeat(150)),
                    mode: 0o644,
                    content: b"x".to_vec(),
                },
            ],
            stdout: b"hello\n".to_vec(),
            stderr: b"warn\n".to_vec(),
        }
    }

    #[test]
    fn entries_round_trip_and_detect_damage() {
        let e = sample();
        let bytes = encode_entry("k", &e).unwrap();
        assert_eq!(decode_entry("k", &bytes).unwrap(), e);
        assert!(decode_entry("other", &bytes).is_err());
        assert!(decode_entry("k", &bytes[..bytes.len() - 1]).is_err());
        let mut flipped = bytes.clone();
        let n = flipped.len();
        flipped[n - 3] ^= 1;
        assert!(decode_entry("k", &flipped).is_err());
    }

    #[test]
    fn trees_are_deterministic() {
        let e = sample();
        assert_eq!(
            encode_tree(&e.files).unwrap(),
            encode_tree(&e.files).unwrap()
        );
    }
}

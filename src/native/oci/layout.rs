//! OCI image layout directories (image-spec `image-layout.md`): the on-disk format skopeo
//! (`oci:DIR:TAG`), oras (`--oci-layout DIR:TAG`) and containerd read and write.
//!
//! ```text
//! DIR/oci-layout            {"imageLayoutVersion":"1.0.0"}
//! DIR/index.json            image index; a tag is the `org.opencontainers.image.ref.name`
//!                           annotation of a manifest descriptor
//! DIR/blobs/sha256/<hex>    content-addressed blobs (manifests included)
//! ```
//!
//! One layout is one repository. Referrers (OCI 1.1 `subject`) are found by scanning the
//! manifests the index lists, as oras does for layouts. Every file is written to a temp
//! name and renamed; `index.json` updates hold an exclusive lock (`flock`) on
//! `DIR/.index.lock`, so concurrent writers (parallel tasks) never lose a tag.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::{sha256_digest, Manifest, OciError, Referrers, OCI_INDEX, OCI_MANIFEST};

/// The annotation that names a tag in `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
const LAYOUT_FILE: &str = "oci-layout";
const LAYOUT_VERSION: &str = "1.0.0";

/// An OCI image layout directory.
#[derive(Clone, Debug)]
pub struct Layout {
    root: PathBuf,
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> OciError {
    OciError::Layout(format!("{what} {}: {e}", path.display()))
}

impl Layout {
    /// Opens an existing layout (its `oci-layout` file must say version 1.0.0).
    pub fn open(root: &Path) -> Result<Layout, OciError> {
        let f = root.join(LAYOUT_FILE);
        let text = match std::fs::read(&f) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(OciError::NotFound(format!(
                    "{}: not an OCI image layout (no {LAYOUT_FILE} file)",
                    root.display()
                )))
            }
            Err(e) => return Err(io_err("reading", &f, e)),
        };
        let v: Value = serde_json::from_slice(&text)
            .map_err(|e| OciError::Layout(format!("{}: invalid JSON: {e}", f.display())))?;
        match v["imageLayoutVersion"].as_str() {
            Some(LAYOUT_VERSION) => Ok(Layout {
                root: root.to_path_buf(),
            }),
            other => Err(OciError::Layout(format!(
                "{}: unsupported imageLayoutVersion {other:?}",
                f.display()
            ))),
        }
    }

    /// Opens the layout at `root`, creating the directory, `oci-layout` and an empty
    /// `index.json` when they do not exist yet.
    pub fn create(root: &Path) -> Result<Layout, OciError> {
        std::fs::create_dir_all(root.join("blobs/sha256"))
            .map_err(|e| io_err("creating", root, e))?;
        let f = root.join(LAYOUT_FILE);
        if !f.exists() {
            write_atomic(&f, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        let layout = Layout::open(root)?;
        let idx = root.join("index.json");
        if !idx.exists() {
            let _lock = layout.lock()?;
            if !idx.exists() {
                write_atomic(&idx, &index_bytes(Vec::new()))?;
            }
        }
        Ok(layout)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn blob_path(&self, digest: &str) -> Result<PathBuf, OciError> {
        let (alg, hex) = digest
            .split_once(':')
            .filter(|_| super::reference::valid_digest(digest))
            .ok_or_else(|| OciError::InvalidReference(format!("invalid digest {digest:?}")))?;
        Ok(self.root.join("blobs").join(alg).join(hex))
    }

    /// Stores `data` under its digest unless already there. Returns the digest and whether
    /// bytes were written.
    pub fn push_blob(&self, data: &[u8]) -> Result<(String, bool), OciError> {
        let digest = sha256_digest(data);
        let p = self.blob_path(&digest)?;
        if p.is_file() {
            return Ok((digest, false));
        }
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io_err("creating", dir, e))?;
        }
        write_atomic(&p, data)?;
        Ok((digest, true))
    }

    /// Reads a blob and checks it against its digest.
    pub fn fetch_blob(&self, digest: &str) -> Result<Vec<u8>, OciError> {
        let p = self.blob_path(digest)?;
        let data = match std::fs::read(&p) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(OciError::NotFound(format!(
                    "{}: blob {digest} not found",
                    self.root.display()
                )))
            }
            Err(e) => return Err(io_err("reading", &p, e)),
        };
        let got = sha256_digest(&data);
        if digest.starts_with("sha256:") && got != digest {
            return Err(OciError::DigestMismatch {
                expected: digest.into(),
                actual: got,
            });
        }
        Ok(data)
    }

    /// The descriptors `index.json` lists.
    fn index(&self) -> Result<Vec<Value>, OciError> {
        let p = self.root.join("index.json");
        let text = match std::fs::read(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("reading", &p, e)),
        };
        let v: Value = serde_json::from_slice(&text)
            .map_err(|e| OciError::Layout(format!("{}: invalid JSON: {e}", p.display())))?;
        Ok(v["manifests"].as_array().cloned().unwrap_or_default())
    }

    fn lock(&self) -> Result<IndexLock, OciError> {
        let p = self.root.join(".index.lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(|e| io_err("opening", &p, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd;
            // SAFETY: flock on a descriptor we own; released when the file is closed.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
                return Err(io_err("locking", &p, std::io::Error::last_os_error()));
            }
        }
        Ok(IndexLock { _file: f })
    }

    /// Stores a manifest (or index) and records it in `index.json`: under the tag
    /// `reference`, or untagged when `reference` is its digest. A tag moves: the previous
    /// holder keeps its entry only if something else still names it. Returns the digest.
    pub fn push_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String, OciError> {
        let digest = sha256_digest(bytes);
        let is_digest = reference.contains(':');
        if is_digest && reference != digest {
            return Err(OciError::DigestMismatch {
                expected: reference.into(),
                actual: digest,
            });
        }
        if !is_digest && !super::reference::valid_tag(reference) {
            return Err(OciError::InvalidReference(format!(
                "invalid reference: invalid tag {reference:?}"
            )));
        }
        self.push_blob(bytes)?;
        let mut desc = Map::new();
        desc.insert("mediaType".into(), json!(media_type));
        desc.insert("digest".into(), json!(digest));
        desc.insert("size".into(), json!(bytes.len()));
        if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
            // Descriptors carry artifactType so readers can filter without fetching.
            let at = v["artifactType"]
                .as_str()
                .or_else(|| v["config"]["mediaType"].as_str())
                .filter(|_| v["artifactType"].is_string() || v["subject"].is_object());
            if let Some(at) = at {
                desc.insert("artifactType".into(), json!(at));
            }
            if let Some(a) = v["annotations"]
                .as_object()
                .filter(|_| v["subject"].is_object())
            {
                desc.insert("annotations".into(), Value::Object(a.clone()));
            }
        }
        let _lock = self.lock()?;
        let mut manifests = self.index()?;
        if is_digest {
            if manifests
                .iter()
                .any(|m| m["digest"].as_str() == Some(digest.as_str()))
            {
                return Ok(digest);
            }
        } else {
            // The tag moves: the entry that held it goes (its blobs stay).
            manifests.retain(|m| tag_of(m) != Some(reference));
            let mut ann = desc
                .get("annotations")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            ann.insert(REF_NAME.into(), json!(reference));
            desc.insert("annotations".into(), Value::Object(ann));
        }
        manifests.push(Value::Object(desc));
        write_atomic(&self.root.join("index.json"), &index_bytes(manifests))?;
        Ok(digest)
    }

    /// Reads a manifest by tag or digest.
    pub fn get_manifest(&self, reference: &str) -> Result<Manifest, OciError> {
        let manifests = self.index()?;
        let desc = if reference.contains(':') {
            manifests
                .iter()
                .find(|m| m["digest"].as_str() == Some(reference))
                .cloned()
        } else {
            manifests
                .iter()
                .rev()
                .find(|m| tag_of(m) == Some(reference))
                .cloned()
        };
        let (digest, media_type) = match &desc {
            Some(d) => (
                d["digest"].as_str().unwrap_or_default().to_string(),
                d["mediaType"].as_str().map(str::to_string),
            ),
            // An untagged manifest reached by digest (e.g. a child of an index).
            None if reference.contains(':') && self.blob_path(reference)?.is_file() => {
                (reference.to_string(), None)
            }
            None => {
                return Err(OciError::NotFound(format!(
                    "{}: {reference}: not found",
                    self.root.display()
                )))
            }
        };
        let bytes = self.fetch_blob(&digest)?;
        let media_type = media_type.unwrap_or_else(|| {
            serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["mediaType"].as_str().map(str::to_string))
                .unwrap_or_else(|| OCI_MANIFEST.to_string())
        });
        Ok(Manifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// Tag (or digest) → manifest digest.
    pub fn resolve(&self, reference: &str) -> Result<String, OciError> {
        Ok(self.get_manifest(reference)?.digest)
    }

    /// Every tag of the layout, in index order.
    pub fn list_tags(&self) -> Result<Vec<String>, OciError> {
        Ok(self
            .index()?
            .iter()
            .filter_map(|m| tag_of(m).map(str::to_string))
            .collect())
    }

    /// Manifests in the index whose `subject` is `digest` (optionally of one artifact
    /// type), as an image index: a layout always "supports" referrers.
    pub fn referrers(
        &self,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, OciError> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for d in self.index()? {
            let Some(md) = d["digest"].as_str() else {
                continue;
            };
            if !seen.insert(md.to_string()) {
                continue;
            }
            let Ok(bytes) = self.fetch_blob(md) else {
                continue;
            };
            let Ok(m) = serde_json::from_slice::<Value>(&bytes) else {
                continue;
            };
            if m["subject"]["digest"].as_str() != Some(digest) {
                continue;
            }
            let at = m["artifactType"]
                .as_str()
                .or_else(|| m["config"]["mediaType"].as_str())
                .unwrap_or_default()
                .to_string();
            if artifact_type.is_some_and(|want| want != at) {
                continue;
            }
            let mut desc = Map::new();
            desc.insert(
                "mediaType".into(),
                json!(m["mediaType"].as_str().unwrap_or(OCI_MANIFEST)),
            );
            desc.insert("digest".into(), json!(md));
            desc.insert("size".into(), json!(bytes.len()));
            desc.insert("artifactType".into(), json!(at));
            if let Some(a) = m["annotations"].as_object() {
                desc.insert("annotations".into(), Value::Object(a.clone()));
            }
            out.push(Value::Object(desc));
        }
        Ok(Referrers::Supported(index_bytes(out)))
    }
}

/// Held while `index.json` is read, changed and replaced.
struct IndexLock {
    _file: std::fs::File,
}

fn tag_of(desc: &Value) -> Option<&str> {
    desc["annotations"][REF_NAME].as_str()
}

fn index_bytes(manifests: Vec<Value>) -> Vec<u8> {
    let v = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests,
    });
    serde_json::to_vec(&v).expect("serialising JSON cannot fail")
}

/// Writes `data` to a unique temp file beside `path`, then renames it into place.
fn write_atomic(path: &Path, data: &[u8]) -> Result<(), OciError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let base = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = dir.join(format!(".{base}.{}.{nanos}.tmp", std::process::id()));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err("writing", path, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(config: &str) -> Vec<u8> {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{}","size":2}},"layers":[],"annotations":{{"x":"{config}"}}}}"#,
            sha256_digest(b"{}")
        )
        .into_bytes()
    }

    #[test]
    fn tags_move_and_blobs_are_checked() {
        let d = tempfile::tempdir().unwrap();
        let l = Layout::create(&d.path().join("repo")).unwrap();
        assert!(Layout::open(&d.path().join("repo")).is_ok());
        assert!(matches!(Layout::open(d.path()), Err(OciError::NotFound(_))));
        l.push_blob(b"{}").unwrap();
        let a = l
            .push_manifest("1.0.0", OCI_MANIFEST, &manifest("a"))
            .unwrap();
        assert_eq!(l.resolve("1.0.0").unwrap(), a);
        let b = l
            .push_manifest("1.0.0", OCI_MANIFEST, &manifest("b"))
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(l.resolve("1.0.0").unwrap(), b);
        assert_eq!(l.list_tags().unwrap(), vec!["1.0.0".to_string()]);
        assert_eq!(l.get_manifest(&b).unwrap().bytes, manifest("b"));
        assert!(l.get_manifest("2.0.0").unwrap_err().is_not_found());
        assert!(l.push_manifest("bad tag", OCI_MANIFEST, b"{}").is_err());
        // A tampered blob is refused.
        let p = l.blob_path(&b).unwrap();
        std::fs::write(&p, b"{}").unwrap();
        assert!(matches!(
            l.get_manifest("1.0.0"),
            Err(OciError::DigestMismatch { .. })
        ));
        // Nothing but the layout's own files are left behind.
        let names: Vec<String> = std::fs::read_dir(l.root())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    }

    #[test]
    fn referrers_are_found_by_subject() {
        let d = tempfile::tempdir().unwrap();
        let l = Layout::create(d.path()).unwrap();
        let img = l
            .push_manifest("v1", OCI_MANIFEST, &manifest("img"))
            .unwrap();
        let r = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","artifactType":"application/x-sig","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{}","size":2}},"layers":[],"subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{img}","size":1}}}}"#,
            sha256_digest(b"{}")
        );
        let rd = sha256_digest(r.as_bytes());
        l.push_manifest(&rd, OCI_MANIFEST, r.as_bytes()).unwrap();
        // idempotent by digest
        l.push_manifest(&rd, OCI_MANIFEST, r.as_bytes()).unwrap();
        let Referrers::Supported(idx) = l.referrers(&img, Some("application/x-sig")).unwrap()
        else {
            panic!("layouts always answer referrers");
        };
        let v: Value = serde_json::from_slice(&idx).unwrap();
        assert_eq!(v["manifests"].as_array().unwrap().len(), 1);
        assert_eq!(v["manifests"][0]["digest"], json!(rd));
        let Referrers::Supported(idx) = l.referrers(&img, Some("other")).unwrap() else {
            panic!()
        };
        let v: Value = serde_json::from_slice(&idx).unwrap();
        assert!(v["manifests"].as_array().unwrap().is_empty());
        assert_eq!(l.list_tags().unwrap(), vec!["v1".to_string()]);
    }
}

//! `file://DIR`: one self-checking file per key (`DIR/v1/<2 hex>/<key hex>`), written to a
//! temp file in the same directory and renamed into place, so readers never see half an
//! entry and two writers of one key each install a whole one (the last rename wins; both
//! hold the same outputs for the same key).
//!
//! With a size bound (`--cache-max-size`), a hit sets its entry's modification time to now
//! and, after a run that stored something, the least recently used entries are deleted until
//! the store fits. A reader that already opened a deleted entry still reads it whole (Unix
//! keeps an open file); one that opens it later sees a miss.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{format, key_hex, Backend, CacheError, Entry, Key, MAX_ENTRY_SIZE};

pub struct FileBackend {
    root: PathBuf,
    max_size: Option<u64>,
}

impl FileBackend {
    /// The directory is made when missing.
    pub fn open(dir: &Path, max_size: Option<u64>) -> Result<FileBackend, CacheError> {
        if dir.as_os_str().is_empty() || !dir.is_absolute() {
            return Err(CacheError::Protocol(format!(
                "file:// cache needs an absolute directory (file:///path), got {:?}",
                dir.display().to_string()
            )));
        }
        let root = dir.join("v1");
        std::fs::create_dir_all(&root)
            .map_err(|e| CacheError::Unreachable(format!("{}: {e}", root.display())))?;
        Ok(FileBackend { root, max_size })
    }

    pub fn path_of(&self, key: &Key) -> PathBuf {
        let h = key_hex(key);
        self.root.join(&h[..2]).join(h)
    }
}

impl Backend for FileBackend {
    fn get(&self, key: &Key) -> Result<Option<Entry>, CacheError> {
        let p = self.path_of(key);
        let f = match std::fs::File::open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CacheError::Io(format!("{}: {e}", p.display()))),
        };
        if self.max_size.is_some() {
            // Recency for pruning; a read-only store simply keeps its old times.
            let _ = f.set_modified(std::time::SystemTime::now());
        }
        let mut data = vec![];
        f.take(MAX_ENTRY_SIZE + 4096)
            .read_to_end(&mut data)
            .map_err(|e| CacheError::Io(format!("{}: {e}", p.display())))?;
        format::decode_entry(&key_hex(key), &data)
            .map(Some)
            .map_err(|e| match e {
                CacheError::Corrupt(m) => CacheError::Corrupt(format!("{}: {m}", p.display())),
                o => o,
            })
    }

    fn put(&self, key: &Key, entry: &Entry) -> Result<(), CacheError> {
        let p = self.path_of(key);
        if p.exists() {
            // Same key, same outputs: the entry is already there.
            return Ok(());
        }
        let data = format::encode_entry(&key_hex(key), entry)?;
        let dir = p.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)
            .map_err(|e| CacheError::Io(format!("{}: {e}", dir.display())))?;
        super::write_file(&p, &data, 0o644)
            .map_err(|e| CacheError::Io(format!("{}: {e}", p.display())))
    }

    fn prune(&self) -> Result<(), CacheError> {
        let Some(max) = self.max_size else {
            return Ok(());
        };
        let io = |p: &Path, e: std::io::Error| CacheError::Io(format!("{}: {e}", p.display()));
        // Entries only: `<2 hex>/<64 hex>`; temp files of writers in flight are left alone.
        let mut entries = vec![];
        let mut total = 0u64;
        for d in std::fs::read_dir(&self.root).map_err(|e| io(&self.root, e))? {
            let d = d.map_err(|e| io(&self.root, e))?;
            let name = d.file_name();
            let name = name.to_string_lossy();
            if name.len() != 2 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            let Ok(files) = std::fs::read_dir(d.path()) else {
                continue;
            };
            for f in files.flatten() {
                let n = f.file_name();
                let n = n.to_string_lossy();
                if n.len() != 64
                    || !n.starts_with(&*name)
                    || !n.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    continue;
                }
                // An entry deleted meanwhile by another run's prune is skipped.
                let Ok(m) = f.metadata() else { continue };
                if !m.is_file() {
                    continue;
                }
                let t = m.modified().unwrap_or(std::time::UNIX_EPOCH);
                total += m.len();
                entries.push((t, m.len(), f.path()));
            }
        }
        if total <= max {
            return Ok(());
        }
        entries.sort();
        for (_, len, path) in entries {
            if total <= max {
                break;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => total -= len,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => total -= len,
                Err(e) => return Err(io(&path, e)),
            }
        }
        Ok(())
    }

    fn name(&self) -> String {
        format!(
            "file://{}",
            self.root.parent().unwrap_or(&self.root).display()
        )
    }
}

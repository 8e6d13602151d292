//! `file://DIR`: one self-checking file per key (`DIR/v1/<2 hex>/<key hex>`), written to a
//! temp file in the same directory and renamed into place, so readers never see half an
//! entry and two writers of one key each install a whole one (the last rename wins; both
//! hold the same outputs for the same key).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{format, key_hex, Backend, CacheError, Entry, Key, MAX_ENTRY_SIZE};

pub struct FileBackend {
    root: PathBuf,
}

impl FileBackend {
    /// The directory is made when missing.
    pub fn open(dir: &Path) -> Result<FileBackend, CacheError> {
        if dir.as_os_str().is_empty() || !dir.is_absolute() {
            return Err(CacheError::Protocol(format!(
                "file:// cache needs an absolute directory (file:///path), got {:?}",
                dir.display().to_string()
            )));
        }
        let root = dir.join("v1");
        std::fs::create_dir_all(&root)
            .map_err(|e| CacheError::Unreachable(format!("{}: {e}", root.display())))?;
        Ok(FileBackend { root })
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

    fn name(&self) -> String {
        format!(
            "file://{}",
            self.root.parent().unwrap_or(&self.root).display()
        )
    }
}

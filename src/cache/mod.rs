//! Shared task-output cache: the contract every backend implements (see issue 17).
//!
//! Only the items of the shared contract live here on this branch; the core cache (key
//! material, the `file://` and `oci://` backends, the run integration) is built beside it.

pub mod reapi;

/// SHA-256 over a task's cache-key material.
pub type Key = [u8; 32];

/// One `generates` file: `path` is relative to the task dir and '/'-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub path: String,
    pub mode: u32,
    pub content: Vec<u8>,
}

/// A cached task result: its output files and the commands' stdout/stderr (exit status 0).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub files: Vec<OutputFile>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Why a cache call failed. The texts never carry credentials.
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
        match self {
            CacheError::Unreachable(m) => write!(f, "cache unreachable: {m}"),
            CacheError::Protocol(m) => write!(f, "cache protocol error: {m}"),
            CacheError::Corrupt(m) => write!(f, "cache entry corrupt: {m}"),
            CacheError::Auth(m) => write!(f, "cache authentication failed: {m}"),
            CacheError::Io(m) => write!(f, "cache I/O error: {m}"),
        }
    }
}

impl std::error::Error for CacheError {}

/// A cache store. Calls are synchronous; a backend may run its own runtime inside.
pub trait Backend: Send + Sync {
    /// Ok(None) on a miss. An entry that fails any integrity check is Err(Corrupt), never returned.
    fn get(&self, key: &Key) -> Result<Option<Entry>, CacheError>;
    fn put(&self, key: &Key, entry: &Entry) -> Result<(), CacheError>;
    /// For messages: the URL without credentials.
    fn name(&self) -> String;
}

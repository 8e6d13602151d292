//! REAPI backend (`grpc://` / `grpcs://HOST:PORT[/INSTANCE]`): written on its own branch;
//! this placeholder keeps the contract so the core builds alone.

use std::path::PathBuf;
use std::time::Duration;

use super::{Backend, CacheError, Entry, Key};

pub struct ReapiOptions {
    pub bearer_token: Option<String>,
    pub ca_cert: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub timeout: Duration,
}

pub struct ReapiBackend;

impl Backend for ReapiBackend {
    fn get(&self, _key: &Key) -> Result<Option<Entry>, CacheError> {
        Err(CacheError::Protocol("REAPI backend not built".into()))
    }
    fn put(&self, _key: &Key, _entry: &Entry) -> Result<(), CacheError> {
        Err(CacheError::Protocol("REAPI backend not built".into()))
    }
    fn name(&self) -> String {
        "grpc://".into()
    }
}

pub fn connect(_url: &str, _o: &ReapiOptions) -> Result<ReapiBackend, CacheError> {
    Err(CacheError::Protocol("REAPI backend not built".into()))
}

//! `oci://HOST[:PORT]/REPO`: one OCI artifact per key, tagged with the key's hex, in the
//! registry client helm and cosign use (same credential stores: Helm's registry config,
//! Docker's config and its helpers).
//!
//! Manifest: `artifactType` `application/vnd.oxtask.cache.v1+json`, the empty config, two
//! layers (the output tree as a tar, the logs as JSON) and the key in an annotation, so a
//! manifest copied under another tag is refused. With `--cache-sign-key` each entry gets a
//! cosign signature (simple-signing payload over the manifest digest, the legacy
//! `sha256-<hex>.sig` tag, verifiable with `cosign verify --key`); with
//! `--cache-verify-key` an entry without a valid signature by that key is never restored.
//!
//! Transport: HTTPS; a loopback registry (`localhost`, 127.0.0.0/8, `[::1]`) may answer
//! over plain HTTP when HTTPS cannot be spoken (as Docker allows); `--cache-plain-http`
//! forces HTTP. Every call is bounded: metadata calls by the failure budget ([`super::FAILURE_BUDGET`] unless configured), blob
//! transfers by a time that grows with their size.

use std::future::Future;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use indexmap::IndexMap;
use serde_json::{json, Value};

use super::{format, key_hex, Backend, CacheError, Entry, Key, Settings, MAX_ENTRY_SIZE};
use crate::native::cosign::{keys, payload, pki, store};
use crate::native::oci::{self, Client, ClientOptions, OciError, Repo};

pub const ARTIFACT_TYPE: &str = "application/vnd.oxtask.cache.v1+json";
pub const ANN_KEY: &str = "dev.oxtask.cache.key";
const EMPTY_CONFIG: &[u8] = b"{}";
const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";

pub struct OciBackend {
    rt: tokio::runtime::Runtime,
    repo: Repo,
    host: String,
    repository: String,
    sign: Option<keys::SigningKey>,
    verify: Option<pki::PublicKey>,
    /// The failure budget (`Settings::timeout`).
    budget: Duration,
}

fn is_loopback(host: &str) -> bool {
    let h = match host.strip_prefix('[') {
        Some(v6) => return v6.split(']').next() == Some("::1"),
        None => host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host),
    };
    h == "localhost" || h.starts_with("127.")
}

fn map_err(e: OciError) -> CacheError {
    // Registry errors never carry passwords or tokens (see crate::native::oci).
    match &e {
        OciError::Transport { .. } | OciError::Tls(_) => CacheError::Unreachable(e.to_string()),
        OciError::Status { status, .. } if *status == 401 || *status == 403 => {
            CacheError::Auth(e.to_string())
        }
        OciError::Status { .. } => CacheError::Unreachable(e.to_string()),
        OciError::BasicCredentialNotFound
        | OciError::MissingBasicCredential
        | OciError::Auth(_)
        | OciError::Credentials(_) => CacheError::Auth(e.to_string()),
        OciError::DigestMismatch { .. } | OciError::TooLarge { .. } => {
            CacheError::Corrupt(e.to_string())
        }
        _ => CacheError::Protocol(e.to_string()),
    }
}

/// Time allowed for moving `size` bytes: at least the failure budget, plus a second per MiB.
fn data_timeout(budget: Duration, size: u64) -> Duration {
    budget + Duration::from_secs(size >> 20)
}

impl OciBackend {
    pub fn connect(url: &str, s: &Settings) -> Result<OciBackend, CacheError> {
        let rest = url.strip_prefix("oci://").unwrap_or(url);
        let (host, repository) = rest.split_once('/').ok_or_else(|| {
            CacheError::Protocol("oci:// cache URL needs a repository: oci://HOST/REPO".into())
        })?;
        if host.contains('@') {
            return Err(CacheError::Protocol(
                "oci:// cache URL must not hold credentials (use `helm registry login` or docker login)"
                    .into(),
            ));
        }
        let repository = repository.trim_end_matches('/').to_string();
        if host.is_empty() || !oci::reference::valid_repository(&repository) {
            return Err(CacheError::Protocol(format!(
                "invalid oci:// cache URL {:?}",
                super::redact(url)
            )));
        }
        let verify = match &s.verify_key {
            Some(k) => Some(
                keys::load_public_key(k)
                    .map_err(|e| CacheError::Auth(format!("cache verify key: {e}")))?,
            ),
            None => None,
        };
        let sign = match &s.sign_key {
            Some(k) => Some(load_signing_key(k)?),
            None => None,
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| CacheError::Io(format!("starting runtime: {e}")))?;
        let host = host.to_string();
        let client = rt.block_on(choose_client(&host, s.plain_http, s.timeout))?;
        let repo = Repo::Registry {
            client: Box::new(client),
            host: host.clone(),
            repository: repository.clone(),
        };
        Ok(OciBackend {
            rt,
            repo,
            host,
            repository,
            sign,
            verify,
            budget: s.timeout,
        })
    }

    fn run<T>(
        &self,
        limit: Duration,
        what: &str,
        f: impl Future<Output = Result<T, OciError>>,
    ) -> Result<T, CacheError> {
        self.rt.block_on(async {
            match tokio::time::timeout(limit, f).await {
                Ok(r) => r.map_err(map_err),
                Err(_) => Err(CacheError::Unreachable(format!(
                    "{what}: no answer within {:?}",
                    limit
                ))),
            }
        })
    }

    fn target(&self, digest: &str) -> store::Target {
        store::Target {
            registry: self.host.clone(),
            repository: self.repository.clone(),
            digest: digest.to_string(),
        }
    }

    /// Some signature layer of `digest` by the verify key over a payload naming `digest`
    /// and `key`.
    fn verified(&self, pk: &pki::PublicKey, digest: &str, key: &str) -> Result<(), CacheError> {
        let t = self.target(digest);
        let sigs = self.rt.block_on(async {
            tokio::time::timeout(self.budget * 4, store::load_signatures(&self.repo, &t)).await
        });
        let sigs = match sigs {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                return Err(CacheError::Corrupt(format!(
                    "entry signature unreadable: {e}"
                )))
            }
            Err(_) => return Err(CacheError::Unreachable("signature: no answer".into())),
        };
        for s in &sigs {
            let Some(sig) = s
                .annotation(store::ANN_SIGNATURE)
                .and_then(|b| B64.decode(b).ok())
            else {
                continue;
            };
            if pk.verify(&s.payload, &sig, pk.default_hash()).is_err() {
                continue;
            }
            let Ok(p) = payload::parse_simple_signing(&s.payload) else {
                continue;
            };
            if p.digest == digest && p.optional[ANN_KEY].as_str() == Some(key) {
                return Ok(());
            }
        }
        Err(CacheError::Corrupt(
            "entry is not signed by the cache verify key (refused)".into(),
        ))
    }
}

fn load_signing_key(k: &str) -> Result<keys::SigningKey, CacheError> {
    let bytes =
        keys::read_key_ref(k).map_err(|e| CacheError::Auth(format!("cache sign key: {e}")))?;
    let text = String::from_utf8_lossy(&bytes);
    let pw = if text.contains("ENCRYPTED") {
        keys::read_password(false).map_err(|e| CacheError::Auth(format!("cache sign key: {e}")))?
    } else {
        zeroize::Zeroizing::new(Vec::new())
    };
    keys::decrypt_private_key(&bytes, &pw)
        .map_err(|e| CacheError::Auth(format!("cache sign key: {e}")))
}

/// HTTPS, or plain HTTP when forced, or for a loopback registry that does not speak TLS.
async fn choose_client(
    host: &str,
    plain_http: bool,
    budget: Duration,
) -> Result<Client, CacheError> {
    let opts = |plain| ClientOptions {
        plain_http: plain,
        user_agent: format!("oxtask-cache/{}", env!("CARGO_PKG_VERSION")),
        ..Default::default()
    };
    let ping = |c: Client| async move {
        match tokio::time::timeout(budget, c.ping(host, false)).await {
            // 401 means it answered and wants credentials, which each call negotiates.
            Ok(Ok(())) => Ok(c),
            Ok(Err(e)) if e.status().is_some() => Ok(c),
            Ok(Err(e)) => Err(map_err(e)),
            Err(_) => Err(CacheError::Unreachable(format!(
                "{host}: no answer within {budget:?}"
            ))),
        }
    };
    if plain_http {
        return ping(Client::new(opts(true)).map_err(map_err)?).await;
    }
    let https = ping(Client::new(opts(false)).map_err(map_err)?).await;
    match https {
        Err(CacheError::Unreachable(m)) if is_loopback(host) && !m.contains("no answer") => {
            ping(Client::new(opts(true)).map_err(map_err)?).await
        }
        r => r,
    }
}

impl Backend for OciBackend {
    fn get(&self, key: &Key) -> Result<Option<Entry>, CacheError> {
        let tag = key_hex(key);
        let m = match self.rt.block_on(async {
            tokio::time::timeout(self.budget, self.repo.get_manifest(&tag)).await
        }) {
            Ok(Ok(m)) => m,
            Ok(Err(e)) if e.is_not_found() => return Ok(None),
            Ok(Err(e)) => return Err(map_err(e)),
            Err(_) => {
                return Err(CacheError::Unreachable(format!(
                    "manifest {tag}: no answer within {:?}",
                    self.budget
                )))
            }
        };
        let v: Value = serde_json::from_slice(&m.bytes)
            .map_err(|_| CacheError::Corrupt("manifest is not JSON".into()))?;
        if v["artifactType"].as_str() != Some(ARTIFACT_TYPE) {
            return Err(CacheError::Corrupt("not an oxtask cache artifact".into()));
        }
        if v["annotations"][ANN_KEY].as_str() != Some(tag.as_str()) {
            return Err(CacheError::Corrupt(
                "manifest names another key (refused)".into(),
            ));
        }
        let layers = v["layers"].as_array().cloned().unwrap_or_default();
        let find = |mt: &str| -> Result<(String, u64), CacheError> {
            let l = layers
                .iter()
                .find(|l| l["mediaType"].as_str() == Some(mt))
                .ok_or_else(|| CacheError::Corrupt(format!("manifest has no {mt} layer")))?;
            let d = l["digest"].as_str().unwrap_or_default().to_string();
            let size = l["size"]
                .as_u64()
                .filter(|s| *s <= MAX_ENTRY_SIZE)
                .ok_or_else(|| CacheError::Corrupt("layer size missing or too large".into()))?;
            Ok((d, size))
        };
        let (tree_d, tree_n) = find(format::TREE_MEDIA_TYPE)?;
        let (logs_d, logs_n) = find(format::LOGS_MEDIA_TYPE)?;
        if let Some(pk) = &self.verify {
            self.verified(pk, &m.digest, &tag)?;
        }
        // Both blobs at once, each digest- and size-checked against its descriptor.
        let (tree, logs) = self
            .run(data_timeout(self.budget, tree_n + logs_n), "blobs", async {
                tokio::try_join!(
                    self.repo.fetch_blob_sized(&tree_d, tree_n),
                    self.repo.fetch_blob_sized(&logs_d, logs_n)
                )
            })
            .map_err(|e| match e {
                // A blob that does not match its descriptor is a bad entry, not a bad server.
                CacheError::Protocol(m) => CacheError::Corrupt(m),
                o => o,
            })?;
        let files = format::decode_tree(&tree)?;
        let (stdout, stderr) = format::decode_logs(&logs)?;
        Ok(Some(Entry {
            files,
            stdout,
            stderr,
        }))
    }

    fn put(&self, key: &Key, entry: &Entry) -> Result<(), CacheError> {
        let tag = key_hex(key);
        // A signed entry already there (another machine, a concurrent writer) is not signed
        // again (each signature would add a layer). Unsigned pushes are idempotent: equal
        // outputs give equal blobs and an equal manifest, so no lookup is spent on them.
        if let Some(k) = &self.sign {
            match self.rt.block_on(async {
                tokio::time::timeout(self.budget, self.repo.get_manifest(&tag)).await
            }) {
                // Kept only when it carries our signature: an entry someone else put under
                // this tag is replaced by ours.
                Ok(Ok(m)) if self.verified(&k.public_key(), &m.digest, &tag).is_ok() => {
                    return Ok(())
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) if e.is_not_found() => {}
                Ok(Err(e)) => return Err(map_err(e)),
                Err(_) => return Err(CacheError::Unreachable("manifest: no answer".into())),
            }
        }
        let tree = format::encode_tree(&entry.files)?;
        let logs = format::encode_logs(entry);
        let total = (tree.len() + logs.len()) as u64;
        let desc = |mt: &str, data: &[u8]| json!({"mediaType": mt, "digest": oci::sha256_digest(data), "size": data.len()});
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": oci::OCI_MANIFEST,
            "artifactType": ARTIFACT_TYPE,
            "config": desc(EMPTY_MEDIA_TYPE, EMPTY_CONFIG),
            "layers": [desc(format::TREE_MEDIA_TYPE, &tree), desc(format::LOGS_MEDIA_TYPE, &logs)],
            "annotations": {ANN_KEY: tag, "dev.oxtask.cache.format": super::FORMAT_VERSION},
        });
        let bytes =
            serde_json::to_vec(&manifest).map_err(|e| CacheError::Io(format!("manifest: {e}")))?;
        let digest = self.run(data_timeout(self.budget, total), "push", async {
            // Blobs in parallel; the manifest (which makes the entry visible) last.
            tokio::try_join!(
                self.repo.push_blob(EMPTY_CONFIG),
                self.repo.push_blob(&tree),
                self.repo.push_blob(&logs)
            )?;
            self.repo
                .push_manifest(&tag, oci::OCI_MANIFEST, &bytes)
                .await
        })?;
        if let Some(k) = &self.sign {
            let mut opt = IndexMap::new();
            opt.insert(ANN_KEY.to_string(), tag.clone());
            let t = self.target(&digest);
            let p = payload::simple_signing(&t.repo_name(), &digest, &opt);
            let sig = B64.encode(k.sign(&p));
            let mut ann = IndexMap::new();
            ann.insert(store::ANN_SIGNATURE.to_string(), sig);
            let r = self.rt.block_on(async {
                tokio::time::timeout(
                    data_timeout(self.budget, p.len() as u64) * 2,
                    store::append_signature(&self.repo, &t, &p, &ann),
                )
                .await
            });
            match r {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(CacheError::Protocol(format!("signing entry: {e}"))),
                Err(_) => return Err(CacheError::Unreachable("signature push: no answer".into())),
            }
        }
        Ok(())
    }

    fn name(&self) -> String {
        format!("oci://{}/{}", self.host, self.repository)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost:5000",
            "127.0.0.1:1",
            "127.9.9.9",
            "[::1]:5000",
            "localhost",
        ] {
            assert!(super::is_loopback(h), "{h}");
        }
        for h in [
            "example.com",
            "10.0.0.1:5000",
            "[::2]:1",
            "localhost.evil.com",
        ] {
            assert!(!super::is_loopback(h), "{h}");
        }
    }
}

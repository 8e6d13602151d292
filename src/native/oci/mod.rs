//! One OCI registry client for the native `helm` and `cosign`.
//!
//! # API (stable; cosign and helm both build on it)
//! ```text
//! Reference::parse("host[:port]/repo[:tag|@sha256:…]") -> Result<Reference, String>
//! Client::new(ClientOptions { plain_http, insecure_skip_tls_verify, ca_file, cert_file,
//!                             key_file, user_agent, credential, anonymous }) -> Result<Client>
//! // all async; `host` = "host[:port]", `repo` = repository path
//! client.ping(host, force_oauth2)                           -> Result<()>      GET /v2/
//! client.blob_exists(host, repo, digest)                    -> Result<bool>    HEAD blob
//! client.push_blob(host, repo, &bytes)                      -> Result<(digest, uploaded)>
//!        (HEAD, then monolithic POST + PUT ?digest= when missing)
//! client.push_manifest(host, repo, tag_or_digest, media_type, &bytes) -> Result<digest>
//!        (the bytes are sent exactly as given: never re-serialised)
//! client.get_manifest(host, repo, tag_or_digest)           -> Result<Manifest{bytes, media_type, digest}>
//! client.resolve(host, repo, tag)                           -> Result<digest>
//! client.list_tags(host, repo)                              -> Result<Vec<String>>
//! client.referrers(host, repo, digest, artifact_type)       -> Result<Referrers::{Supported(index bytes), Unsupported}>
//! client.fetch_blob(host, repo, digest)                     -> Result<Vec<u8>> (digest-checked)
//! credentials_for(host) -> Option<Credential>   Helm's registry config, Docker's config,
//!                                               docker-credential-* helpers, GITHUB_TOKEN (ghcr.io)
//! ConfigFile::load(path)/get/put/delete/save    Docker-format credential files (0600, atomic)
//! sha256_digest(&bytes) -> "sha256:<hex>";  json::to_go_json(&Value) (Go encoding/json bytes)
//! block_on(fut)                                  run a future from sync code (current-thread runtime)
//! ```
//! Auth: anonymous, then on 401 the `WWW-Authenticate` challenge is answered: `Basic` with the
//! credential, `Bearer` through the token endpoint (GET with basic creds or anonymous; OAuth2
//! POST for identity tokens or `force_oauth2`), tokens cached per host and scope. TLS: system
//! store + `SSL_CERT_FILE`/`SSL_CERT_DIR` + `ca_file`, optional client cert, optional skip
//! verify; `plain_http` uses `http://`. No error message ever carries a password or token.
//!
//! Why not `oci-client` for the transport: it re-serialises manifests (its push rejects
//! annotation values with newlines, which cosign needs) and hides the blob/manifest order
//! Helm's wire behaviour depends on; a thin reqwest layer keeps the bytes exact.

mod client;
pub mod credentials;
pub mod json;
pub mod layout;
pub mod reference;
pub mod repo;
pub(crate) mod tls;

pub use client::{
    clean_scopes, pull_scope, push_scope, Client, ClientOptions, Manifest, Referrers,
};
pub use credentials::{credentials_for, ConfigFile, Credential, CredentialError};
pub use layout::Layout;
pub use reference::Reference;
pub use repo::{Location, Repo, LAYOUT_SCHEME};

use sha2::{Digest, Sha256};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// `Accept` for manifest reads.
pub const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// Errors of the registry layer. Display texts follow ORAS where it has one
/// (`GET "url": response status code 401: unauthorized: …`).
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("{0}")]
    InvalidReference(String),
    #[error("{0}")]
    Tls(String),
    #[error("{method} \"{url}\": {msg}")]
    Transport {
        method: String,
        url: String,
        msg: String,
    },
    #[error("{method} \"{url}\": response status code {status}: {detail}")]
    Status {
        method: String,
        url: String,
        status: u16,
        detail: String,
    },
    #[error("basic credential not found")]
    BasicCredentialNotFound,
    #[error("missing username or password for basic auth")]
    MissingBasicCredential,
    #[error("{0}")]
    Auth(String),
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { expected: String, actual: String },
    #[error("{0}")]
    Protocol(String),
    /// An OCI image layout directory could not be read or written.
    #[error("{0}")]
    Layout(String),
    /// A tag, manifest or blob that is not in an OCI image layout.
    #[error("{0}")]
    NotFound(String),
    /// An answer over its size limit (refused before it is all read).
    #[error("{what}: over the {limit}-byte limit (refused)")]
    TooLarge { what: String, limit: u64 },
}

impl OciError {
    /// HTTP status of a registry answer, if this error is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            OciError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for "no such manifest/blob" from either backend (HTTP 404, or missing in a layout).
    pub fn is_not_found(&self) -> bool {
        matches!(self, OciError::NotFound(_)) || self.status() == Some(404)
    }
}

/// Largest manifest, image index, tag list page (and all pages together), referrers answer,
/// token answer or config blob read from a registry: 4 MiB (ORAS and containerd use the
/// same bound for manifests). Larger answers are refused, not truncated.
pub const MAX_METADATA_SIZE: u64 = 4 << 20;
/// Largest blob fetched without a size from its descriptor (cosign's default
/// `COSIGN_MAX_ATTACHMENT_SIZE`, 128 MiB). Blobs with a descriptor are read to exactly its
/// size.
pub const MAX_UNSIZED_BLOB: u64 = 128 << 20;
/// Environment variable: seconds to wait for a registry connection, and for each read
/// once connected (default 30 s to connect, 60 s between reads).
pub const TIMEOUT_ENV: &str = "OXTASK_REGISTRY_TIMEOUT";
pub const DEFAULT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
pub const DEFAULT_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The connect and idle timeouts: [`TIMEOUT_ENV`] (whole or fractional seconds > 0) sets
/// both; unset or invalid keeps the defaults.
pub fn registry_timeouts() -> (std::time::Duration, std::time::Duration) {
    match std::env::var(TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
    {
        Some(s) => {
            let d = std::time::Duration::from_secs_f64(s);
            (d, d)
        }
        None => (DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT),
    }
}

/// Checks `data` against `digest` (`sha256:` or `sha512:`); `what` names the content in
/// the error.
pub fn verify_digest(data: &[u8], digest: &str, what: &str) -> Result<(), OciError> {
    let actual = match digest.split_once(':') {
        Some(("sha256", _)) => sha256_digest(data),
        Some(("sha512", _)) => format!("sha512:{}", hex::encode(sha2::Sha512::digest(data))),
        _ => {
            return Err(OciError::Protocol(format!(
                "{what}: unsupported digest {digest:?} (only sha256 and sha512 can be verified)"
            )))
        }
    };
    if actual != digest {
        return Err(OciError::Protocol(format!(
            "{what}: digest mismatch: expected {digest}, got {actual} (refused)"
        )));
    }
    Ok(())
}

/// Replaces the password of any `scheme://user:password@` in `s` with `xxxxx` (as Go's
/// `url.Redacted`), so references never echo credentials.
pub fn redact_userinfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c == '"' || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => out.push_str(&format!("{user}:xxxxx")),
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `sha256:<lowercase hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// Runs `fut` to completion on a fresh current-thread runtime (for sync callers such as the
/// helm CLI). Do not call from inside an async context.
pub fn block_on<F: std::future::Future>(fut: F) -> std::io::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(fut))
}

#[cfg(test)]
mod hostile_tests {
    use super::*;

    #[test]
    fn userinfo_is_redacted() {
        assert_eq!(
            redact_userinfo("GET \"oci://bob:s3cret@h:5000/a/b\": boom"),
            "GET \"oci://bob:xxxxx@h:5000/a/b\": boom"
        );
        assert_eq!(redact_userinfo("https://h/x@y"), "https://h/x@y");
        assert_eq!(redact_userinfo("http://tok@h/"), "http://tok@h/");
        assert_eq!(redact_userinfo("no url"), "no url");
    }

    #[test]
    fn digests_are_verified() {
        let d = sha256_digest(b"x");
        assert!(verify_digest(b"x", &d, "m").is_ok());
        let e = verify_digest(b"y", &d, "manifest a:1")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("manifest a:1: digest mismatch: expected sha256:"),
            "{e}"
        );
        assert!(verify_digest(b"x", "md5:00", "m").is_err());
    }

    #[test]
    fn timeouts_come_from_the_environment() {
        // (only read here; the variable is not set by other unit tests)
        let (c, i) = registry_timeouts();
        if std::env::var_os(TIMEOUT_ENV).is_none() {
            assert_eq!((c, i), (DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT));
        }
    }
}

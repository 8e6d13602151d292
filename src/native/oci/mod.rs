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

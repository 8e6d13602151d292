//! The registry client: distribution API calls with the Docker/ORAS auth flow.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;

use base64::Engine;
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode, Url};

use super::credentials::{credentials_for, Credential};
use super::{
    sha256_digest, verify_digest, OciError, ACCEPT_MANIFESTS, MAX_METADATA_SIZE, MAX_UNSIZED_BLOB,
    OCI_INDEX,
};

/// How to reach registries and whose credentials to use.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// Use `http://` instead of `https://`.
    pub plain_http: bool,
    /// Accept any server certificate.
    pub insecure_skip_tls_verify: bool,
    /// Extra PEM CA bundle trusted on top of the system store.
    pub ca_file: Option<PathBuf>,
    /// Client certificate and key (PEM), both or neither.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// `User-Agent` header; empty means `oxtask/<version>`.
    pub user_agent: String,
    /// A credential used for every host. When `None`, [`credentials_for`] is asked per host
    /// unless `anonymous` is set.
    pub credential: Option<Credential>,
    /// Never send credentials.
    pub anonymous: bool,
}

/// Manifest bytes as served, with the media type and the digest of exactly these bytes.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub digest: String,
}

/// Result of the referrers API.
#[derive(Clone, Debug)]
pub enum Referrers {
    /// The registry implements `GET /v2/<name>/referrers/<digest>`: the image index bytes.
    Supported(Vec<u8>),
    /// 404 (or a non-index answer): the caller should use the tag-schema fallback
    /// (`sha256-<hex>` tags).
    Unsupported,
}

#[derive(Clone)]
enum HostAuth {
    Basic(String),
    /// Bearer tokens by scope key.
    Bearer(HashMap<String, String>),
}

/// An OCI distribution client (one per command; it caches auth per host and scope).
pub struct Client {
    http: reqwest::Client,
    opts: ClientOptions,
    cache: Mutex<HashMap<String, HostAuth>>,
}

struct Req {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<bytes::Bytes>,
}

#[derive(Debug, Default)]
struct Challenge {
    scheme: String,
    params: BTreeMap<String, String>,
}

/// `repository:<name>:pull`
pub fn pull_scope(repo: &str) -> String {
    format!("repository:{repo}:pull")
}

/// `repository:<name>:pull,push`
pub fn push_scope(repo: &str) -> String {
    format!("repository:{repo}:pull,push")
}

impl Client {
    pub fn new(opts: ClientOptions) -> Result<Client, OciError> {
        let ua = if opts.user_agent.is_empty() {
            format!("oxtask/{}", env!("CARGO_PKG_VERSION"))
        } else {
            opts.user_agent.clone()
        };
        // A registry that accepts the connection and never answers (or stalls mid-body)
        // must not hang the command: bounded connect, and a bound on each read.
        let (connect, idle) = super::registry_timeouts();
        let mut b = reqwest::Client::builder()
            .user_agent(ua)
            .connect_timeout(connect)
            .read_timeout(idle)
            .redirect(reqwest::redirect::Policy::limited(10));
        if !opts.plain_http {
            let tls = super::tls::build_config(
                opts.insecure_skip_tls_verify,
                opts.ca_file.as_deref(),
                opts.cert_file.as_deref(),
                opts.key_file.as_deref(),
            )?;
            b = b.use_preconfigured_tls(tls);
        }
        let http = b.build().map_err(|e| OciError::Tls(error_chain(&e)))?;
        Ok(Client {
            http,
            opts,
            cache: Mutex::new(HashMap::new()),
        })
    }

    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    fn scheme(&self) -> &'static str {
        if self.opts.plain_http {
            "http"
        } else {
            "https"
        }
    }

    /// Base URL of a registry's API (`docker.io` goes to its real API host).
    pub fn base_url(&self, host: &str) -> String {
        let api = if host == "docker.io" {
            "registry-1.docker.io"
        } else {
            host
        };
        format!("{}://{}", self.scheme(), api)
    }

    fn url(&self, host: &str, path: &str) -> Result<Url, OciError> {
        let s = format!("{}{}", self.base_url(host), path);
        Url::parse(&s).map_err(|e| OciError::InvalidReference(format!("invalid URL {s:?}: {e}")))
    }

    fn credential(&self, host: &str) -> Option<Credential> {
        if self.opts.anonymous {
            return None;
        }
        if let Some(c) = &self.opts.credential {
            return Some(c.clone());
        }
        credentials_for(host)
    }

    // ---- API ----------------------------------------------------------------------

    /// `GET /v2/`: checks that the registry answers and that the credential is accepted.
    /// With `force_oauth2`, bearer challenges use the OAuth2 password grant (POST) first,
    /// as `helm registry login` does.
    pub async fn ping(&self, host: &str, force_oauth2: bool) -> Result<(), OciError> {
        let req = Req::new(Method::GET, self.url(host, "/v2/")?);
        let resp = self.send(host, &[], req, force_oauth2).await?;
        match resp.status() {
            s if s.is_success() => Ok(()),
            _ => Err(status_error(&Method::GET, resp).await),
        }
    }

    /// `HEAD /v2/<repo>/blobs/<digest>`.
    pub async fn blob_exists(
        &self,
        host: &str,
        repo: &str,
        digest: &str,
    ) -> Result<bool, OciError> {
        let url = self.url(host, &format!("/v2/{repo}/blobs/{digest}"))?;
        let resp = self
            .send(
                host,
                &[pull_scope(repo)],
                Req::new(Method::HEAD, url),
                false,
            )
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(status_error(&Method::HEAD, resp).await),
        }
    }

    /// Uploads `data` (monolithic POST + PUT `?digest=`) unless the registry already has it.
    /// Returns the digest and whether bytes were sent.
    pub async fn push_blob(
        &self,
        host: &str,
        repo: &str,
        data: &[u8],
    ) -> Result<(String, bool), OciError> {
        let digest = sha256_digest(data);
        if self.blob_exists(host, repo, &digest).await? {
            return Ok((digest, false));
        }
        let scopes = [push_scope(repo)];
        let url = self.url(host, &format!("/v2/{repo}/blobs/uploads/"))?;
        let mut req = Req::new(Method::POST, url);
        req.headers
            .insert("content-length", HeaderValue::from_static("0"));
        let resp = self.send(host, &scopes, req, false).await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(status_error(&Method::POST, resp).await);
        }
        let loc = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                OciError::Protocol("blob upload: registry sent no Location header".into())
            })?;
        let mut put_url = resp
            .url()
            .join(loc)
            .map_err(|e| OciError::Protocol(format!("blob upload: bad Location {loc:?}: {e}")))?;
        put_url.query_pairs_mut().append_pair("digest", &digest);
        let mut req = Req::new(Method::PUT, put_url);
        req.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        req.body = Some(bytes::Bytes::copy_from_slice(data));
        let resp = self.send(host, &scopes, req, false).await?;
        if resp.status() != StatusCode::CREATED {
            return Err(status_error(&Method::PUT, resp).await);
        }
        Ok((digest, true))
    }

    /// `PUT /v2/<repo>/manifests/<reference>` with exactly `bytes` (never re-serialised).
    /// `reference` is a tag or a digest. Returns the manifest digest.
    pub async fn push_manifest(
        &self,
        host: &str,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String, OciError> {
        let digest = sha256_digest(bytes);
        let url = self.url(host, &format!("/v2/{repo}/manifests/{reference}"))?;
        let mut req = Req::new(Method::PUT, url);
        req.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_str(media_type)
                .map_err(|_| OciError::Protocol(format!("invalid media type {media_type:?}")))?,
        );
        req.body = Some(bytes::Bytes::copy_from_slice(bytes));
        let resp = self.send(host, &[push_scope(repo)], req, false).await?;
        if resp.status() != StatusCode::CREATED && !resp.status().is_success() {
            return Err(status_error(&Method::PUT, resp).await);
        }
        Ok(digest)
    }

    /// `GET /v2/<repo>/manifests/<reference>` (manifest or index). When `reference` is a
    /// digest the bytes are checked against it.
    pub async fn get_manifest(
        &self,
        host: &str,
        repo: &str,
        reference: &str,
    ) -> Result<Manifest, OciError> {
        let url = self.url(host, &format!("/v2/{repo}/manifests/{reference}"))?;
        let mut req = Req::new(Method::GET, url);
        req.headers
            .insert(ACCEPT, HeaderValue::from_static(ACCEPT_MANIFESTS));
        let resp = self.send(host, &[pull_scope(repo)], req, false).await?;
        if !resp.status().is_success() {
            return Err(status_error(&Method::GET, resp).await);
        }
        let ct = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(';').next().unwrap_or(s).trim().to_string());
        let claimed = resp
            .headers()
            .get("docker-content-digest")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string());
        let what = format!("manifest {repo}:{reference}");
        let bytes = read_body(resp, MAX_METADATA_SIZE, &what).await?;
        let digest = sha256_digest(&bytes);
        // The bytes must be what was asked for (a digest reference) and what the registry
        // says they are (its Docker-Content-Digest header).
        if reference.contains(':') {
            verify_digest(&bytes, reference, &what)?;
        }
        if let Some(c) = claimed.filter(|c| !c.is_empty()) {
            verify_digest(&bytes, &c, &format!("{what} (Docker-Content-Digest)"))?;
        }
        let media_type = match ct {
            Some(ct) if !ct.is_empty() && ct != "application/json" => ct,
            _ => serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["mediaType"].as_str().map(str::to_string))
                .unwrap_or_else(|| super::OCI_MANIFEST.to_string()),
        };
        Ok(Manifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// Resolves a tag (or digest) to the manifest digest (`HEAD`, falling back to `GET`).
    pub async fn resolve(
        &self,
        host: &str,
        repo: &str,
        reference: &str,
    ) -> Result<String, OciError> {
        let url = self.url(host, &format!("/v2/{repo}/manifests/{reference}"))?;
        let mut req = Req::new(Method::HEAD, url);
        req.headers
            .insert(ACCEPT, HeaderValue::from_static(ACCEPT_MANIFESTS));
        let resp = self.send(host, &[pull_scope(repo)], req, false).await?;
        if !resp.status().is_success() {
            return Err(status_error(&Method::HEAD, resp).await);
        }
        if let Some(d) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
        {
            if super::reference::valid_digest(d) {
                return Ok(d.to_string());
            }
        }
        Ok(self.get_manifest(host, repo, reference).await?.digest)
    }

    /// All tags (`GET /v2/<repo>/tags/list`, following `Link` pagination).
    pub async fn list_tags(&self, host: &str, repo: &str) -> Result<Vec<String>, OciError> {
        let mut tags = Vec::new();
        let mut url = self.url(host, &format!("/v2/{repo}/tags/list"))?;
        let mut budget = MAX_METADATA_SIZE;
        for _ in 0..1000 {
            let resp = self
                .send(
                    host,
                    &[pull_scope(repo)],
                    Req::new(Method::GET, url.clone()),
                    false,
                )
                .await?;
            if !resp.status().is_success() {
                return Err(status_error(&Method::GET, resp).await);
            }
            let next = resp
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_next_link)
                .and_then(|l| url.join(&l).ok());
            let page = read_body(resp, budget, &format!("tag list of {repo}")).await?;
            budget -= page.len() as u64;
            let body: serde_json::Value = serde_json::from_slice(&page)
                .map_err(|e| OciError::Protocol(format!("tags list: {e}")))?;
            if let Some(a) = body["tags"].as_array() {
                tags.extend(a.iter().filter_map(|t| t.as_str().map(str::to_string)));
            }
            match next {
                Some(n) => url = n,
                None => break,
            }
        }
        Ok(tags)
    }

    /// `GET /v2/<repo>/referrers/<digest>[?artifactType=…]`.
    pub async fn referrers(
        &self,
        host: &str,
        repo: &str,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, OciError> {
        let mut url = self.url(host, &format!("/v2/{repo}/referrers/{digest}"))?;
        if let Some(t) = artifact_type {
            url.query_pairs_mut().append_pair("artifactType", t);
        }
        let mut req = Req::new(Method::GET, url);
        req.headers
            .insert(ACCEPT, HeaderValue::from_static(OCI_INDEX));
        let resp = self.send(host, &[pull_scope(repo)], req, false).await?;
        match resp.status() {
            StatusCode::NOT_FOUND => Ok(Referrers::Unsupported),
            s if s.is_success() => {
                let ct = resp
                    .headers()
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let bytes =
                    read_body(resp, MAX_METADATA_SIZE, &format!("referrers of {digest}")).await?;
                if ct.starts_with(OCI_INDEX) {
                    Ok(Referrers::Supported(bytes))
                } else {
                    Ok(Referrers::Unsupported)
                }
            }
            _ => Err(status_error(&Method::GET, resp).await),
        }
    }

    /// `GET /v2/<repo>/blobs/<digest>`; the bytes are checked against the digest. At most
    /// [`MAX_UNSIZED_BLOB`] bytes: prefer [`Client::fetch_blob_sized`] with the descriptor.
    pub async fn fetch_blob(
        &self,
        host: &str,
        repo: &str,
        digest: &str,
    ) -> Result<Vec<u8>, OciError> {
        self.fetch_blob_sized(host, repo, digest, None).await
    }

    /// `GET /v2/<repo>/blobs/<digest>` for a descriptor: exactly `size` bytes (more is
    /// refused without reading on, fewer is an error) matching `digest`.
    pub async fn fetch_blob_sized(
        &self,
        host: &str,
        repo: &str,
        digest: &str,
        size: Option<u64>,
    ) -> Result<Vec<u8>, OciError> {
        if !super::reference::valid_digest(digest) {
            return Err(OciError::Protocol(format!(
                "invalid blob digest {digest:?} (refused)"
            )));
        }
        let url = self.url(host, &format!("/v2/{repo}/blobs/{digest}"))?;
        let resp = self
            .send(host, &[pull_scope(repo)], Req::new(Method::GET, url), false)
            .await?;
        if !resp.status().is_success() {
            return Err(status_error(&Method::GET, resp).await);
        }
        let what = format!("blob {digest}");
        let bytes = read_body(resp, size.unwrap_or(MAX_UNSIZED_BLOB), &what).await?;
        if let Some(n) = size {
            if bytes.len() as u64 != n {
                return Err(OciError::Protocol(format!(
                    "{what}: {} bytes where the manifest says {n} (refused)",
                    bytes.len()
                )));
            }
        }
        verify_digest(&bytes, digest, &what)?;
        Ok(bytes)
    }

    // ---- transport and auth -------------------------------------------------------

    /// Sends `req`, retrying an idempotent request (GET, HEAD, PUT) that the registry
    /// answers with a retryable status ([`retryable_status`]) as Helm's oras-go and
    /// cosign's go-containerregistry do: at most [`MAX_ATTEMPTS`] attempts, waiting
    /// [`retry_wait`] between them. Transport errors (refused, reset, timed out) are not
    /// retried, so a stalled registry fails after one timeout.
    async fn exec(&self, req: &Req, auth: Option<&str>) -> Result<reqwest::Response, OciError> {
        let idempotent = matches!(req.method, Method::GET | Method::HEAD | Method::PUT);
        send_retrying(&req.method, req.url.as_str(), idempotent, || {
            let mut rb = self
                .http
                .request(req.method.clone(), req.url.clone())
                .headers(req.headers.clone());
            if let Some(a) = auth {
                rb = rb.header(AUTHORIZATION, a);
            }
            if let Some(b) = &req.body {
                rb = rb.body(b.clone());
            }
            rb
        })
        .await
    }

    fn same_origin(&self, host: &str, url: &Url) -> bool {
        Url::parse(&self.base_url(host)).is_ok_and(|b| b.origin() == url.origin())
    }

    fn cached(&self, host: &str, key: &str) -> Option<String> {
        let cache = self.cache.lock().ok()?;
        match cache.get(host)? {
            HostAuth::Basic(h) => Some(h.clone()),
            HostAuth::Bearer(t) => t.get(key).map(|t| format!("Bearer {t}")),
        }
    }

    async fn send(
        &self,
        host: &str,
        scopes: &[String],
        req: Req,
        force_oauth2: bool,
    ) -> Result<reqwest::Response, OciError> {
        // Credentials belong to the registry's own origin (as oras-go's per-host credential
        // lookup): a request that goes elsewhere (an upload `Location` or a `Link` page on
        // another host) is sent without them and its challenges are not answered.
        // Redirects are followed by reqwest, which drops `Authorization` across hosts.
        if !self.same_origin(host, &req.url) {
            return self.exec(&req, None).await;
        }
        let key = scope_key(scopes);
        let pre = self.cached(host, &key);
        let resp = self.exec(&req, pre.as_deref()).await?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        // A 401 from another origin (after a redirect) is not answered with credentials.
        if resp.url().origin() != req.url.origin() {
            return Ok(resp);
        }
        let Some(ch) = resp
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_challenge)
        else {
            return Ok(resp);
        };
        let header = match ch.scheme.as_str() {
            "basic" => {
                let cred = self
                    .credential(host)
                    .ok_or(OciError::BasicCredentialNotFound)?;
                if cred.username.is_empty() || cred.password.is_empty() {
                    return Err(OciError::MissingBasicCredential);
                }
                let h = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD
                        .encode(format!("{}:{}", cred.username, cred.password))
                );
                if let Ok(mut c) = self.cache.lock() {
                    c.insert(host.to_string(), HostAuth::Basic(h.clone()));
                }
                h
            }
            "bearer" => {
                let mut all: Vec<String> = scopes.to_vec();
                if let Some(s) = ch.params.get("scope") {
                    all.extend(s.split(' ').filter(|s| !s.is_empty()).map(str::to_string));
                }
                let all = clean_scopes(&all);
                let token = self
                    .fetch_token(host, &req.url, &ch, &all, force_oauth2)
                    .await?;
                if let Ok(mut c) = self.cache.lock() {
                    let e = c
                        .entry(host.to_string())
                        .or_insert_with(|| HostAuth::Bearer(HashMap::new()));
                    if let HostAuth::Basic(_) = e {
                        *e = HostAuth::Bearer(HashMap::new());
                    }
                    if let HostAuth::Bearer(m) = e {
                        m.insert(key.clone(), token.clone());
                        m.insert(scope_key(&all), token.clone());
                    }
                }
                format!("Bearer {token}")
            }
            _ => return Ok(resp),
        };
        self.exec(&req, Some(&header)).await
    }

    async fn fetch_token(
        &self,
        host: &str,
        registry_url: &Url,
        ch: &Challenge,
        scopes: &[String],
        force_oauth2: bool,
    ) -> Result<String, OciError> {
        let realm = ch
            .params
            .get("realm")
            .ok_or_else(|| OciError::Auth("bearer challenge without realm".into()))?;
        let realm_url = validate_realm(realm, registry_url)?;
        let service = ch.params.get("service").cloned().unwrap_or_default();
        let cred = self.credential(host).unwrap_or_default();
        if !cred.registry_token.is_empty() {
            return Ok(cred.registry_token);
        }
        if !cred.identity_token.is_empty()
            || (force_oauth2 && !cred.username.is_empty() && !cred.password.is_empty())
        {
            match self.oauth2_token(&realm_url, &service, scopes, &cred).await {
                Ok(t) => return Ok(t),
                // Registries without OAuth2 support answer the POST with an error; the GET
                // flow below is the fallback, as ORAS does on login.
                Err(e) if cred.identity_token.is_empty() => {
                    let _ = e;
                }
                Err(e) => return Err(e),
            }
        }
        let mut url = realm_url.clone();
        {
            let mut q = url.query_pairs_mut();
            for s in scopes {
                q.append_pair("scope", s);
            }
            if !service.is_empty() {
                q.append_pair("service", &service);
            }
        }
        // The token endpoint is retried like any idempotent registry request (oras-go's
        // auth client goes through the same retrying transport).
        let resp = send_retrying(&Method::GET, realm_url.as_str(), true, || {
            let rb = self.http.get(url.clone());
            if !cred.username.is_empty() || !cred.password.is_empty() {
                rb.basic_auth(&cred.username, Some(&cred.password))
            } else {
                rb
            }
        })
        .await?;
        if !resp.status().is_success() {
            return Err(status_error_url(&Method::GET, realm_url.as_str(), resp).await);
        }
        let body = read_body(resp, MAX_METADATA_SIZE, "token response").await?;
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| OciError::Auth(format!("invalid token response: {e}")))?;
        v["token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .or_else(|| v["access_token"].as_str().filter(|t| !t.is_empty()))
            .map(str::to_string)
            .ok_or_else(|| OciError::Auth("empty token returned".into()))
    }

    async fn oauth2_token(
        &self,
        realm: &Url,
        service: &str,
        scopes: &[String],
        cred: &Credential,
    ) -> Result<String, OciError> {
        let mut form: Vec<(&str, String)> = Vec::new();
        if !cred.identity_token.is_empty() {
            form.push(("grant_type", "refresh_token".into()));
            form.push(("refresh_token", cred.identity_token.clone()));
        } else {
            form.push(("grant_type", "password".into()));
            form.push(("username", cred.username.clone()));
            form.push(("password", cred.password.clone()));
        }
        form.push(("service", service.into()));
        form.push(("client_id", "oxtask".into()));
        if !scopes.is_empty() {
            form.push(("scope", scopes.join(" ")));
        }
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", k, urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        // A token POST creates nothing, so it may be repeated (oras-go's retrying transport
        // repeats it too). Only with a refresh token, though: the password grant is a probe
        // that falls back to the GET flow, which retries by itself.
        let retry = !cred.identity_token.is_empty();
        let resp = send_retrying(&Method::POST, realm.as_str(), retry, || {
            self.http
                .post(realm.clone())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body.clone())
        })
        .await?;
        if !resp.status().is_success() {
            return Err(status_error_url(&Method::POST, realm.as_str(), resp).await);
        }
        let body = read_body(resp, MAX_METADATA_SIZE, "token response").await?;
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| OciError::Auth(format!("invalid token response: {e}")))?;
        v["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| OciError::Auth("empty token returned".into()))
    }
}

impl Req {
    fn new(method: Method, url: Url) -> Req {
        Req {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
        }
    }
}

/// Sends the request `build` makes; when `retry`, again (a fresh request each time) while
/// the answer has a retryable status ([`retryable_status`]): at most [`MAX_ATTEMPTS`]
/// attempts, [`retry_wait`] apart. Transport errors end it at once. `url` names the
/// request in errors.
async fn send_retrying(
    method: &Method,
    url: &str,
    retry: bool,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<reqwest::Response, OciError> {
    let mut attempt = 0u32;
    loop {
        let resp = build()
            .send()
            .await
            .map_err(|e| transport(method, url, &e))?;
        let status = resp.status().as_u16();
        if !retry || attempt + 1 >= MAX_ATTEMPTS || !retryable_status(status) {
            return Ok(resp);
        }
        let wait = retry_wait(attempt, status, resp.headers());
        drop(resp);
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// Attempts per idempotent request, the first included (oras-go: 1 + 5 retries).
pub const MAX_ATTEMPTS: u32 = 6;
/// Shortest and longest wait between two attempts (oras-go's `MinWait`/`MaxWait`); a
/// `Retry-After` beyond the cap is cut to it.
pub const RETRY_MIN_WAIT: std::time::Duration = std::time::Duration::from_millis(200);
pub const RETRY_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// 408, 429 and the 5xx answers Helm (oras-go) and cosign (go-containerregistry) both
/// retry; 501 Not Implemented and 505 are final.
pub fn retryable_status(s: u16) -> bool {
    matches!(s, 408 | 429) || ((500..600).contains(&s) && s != 501 && s != 505)
}

/// Wait before attempt `attempt + 1`: a `Retry-After` on a 429 or 503 when the registry
/// sends one, else 250 ms doubled per attempt with ±10% jitter (oras-go's
/// `DefaultBackoff`); always within [`RETRY_MIN_WAIT`], [`RETRY_MAX_WAIT`].
pub fn retry_wait(attempt: u32, status: u16, headers: &HeaderMap) -> std::time::Duration {
    retry_wait_at(attempt, status, headers, std::time::SystemTime::now())
}

/// [`retry_wait`] with the current time given (a `Retry-After` date is relative to it).
pub fn retry_wait_at(
    attempt: u32,
    status: u16,
    headers: &HeaderMap,
    now: std::time::SystemTime,
) -> std::time::Duration {
    use std::time::Duration;
    let after = if status == 429 || status == 503 {
        headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now))
    } else {
        None
    };
    let d = after.unwrap_or_else(|| {
        let base = 250f64 * 2f64.powi(attempt.min(16) as i32);
        let jitter = 0.9 + 0.2 * rand::random::<f64>();
        Duration::from_secs_f64(base * jitter / 1000.0)
    });
    d.clamp(RETRY_MIN_WAIT, RETRY_MAX_WAIT)
}

/// A `Retry-After` value (RFC 9110 10.2.3): delay seconds, or an HTTP date in any of the
/// three forms a recipient must accept (IMF-fixdate, RFC 850, asctime), as the time left
/// until then (zero for a date already past). `None` when it is neither, or zero seconds
/// (then the backoff applies). Capped at an hour before the caller's own cap.
pub fn parse_retry_after(v: &str, now: std::time::SystemTime) -> Option<std::time::Duration> {
    use std::time::Duration;
    const HOUR: u64 = 3600;
    let v = v.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // Digits beyond u64 are a very long time, not garbage.
        let secs = v.parse::<u64>().unwrap_or(u64::MAX);
        return (secs > 0).then(|| Duration::from_secs(secs.min(HOUR)));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v)
        .ok()
        .filter(|_| v.ends_with(" GMT"))
        .map(|d| d.with_timezone(&chrono::Utc))
        .or_else(|| {
            ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
                .iter()
                .find_map(|f| chrono::NaiveDateTime::parse_from_str(v, f).ok())
                .map(|n| n.and_utc())
        })?;
    let now = chrono::DateTime::<chrono::Utc>::from(now);
    let left = (when - now).num_milliseconds().max(0) as u64;
    Some(Duration::from_millis(left.min(HOUR * 1000)))
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn scope_key(scopes: &[String]) -> String {
    clean_scopes(scopes).join(" ")
}

/// Merges `type:name:actions` scopes per resource, sorting actions and resources.
pub fn clean_scopes(scopes: &[String]) -> Vec<String> {
    let mut map: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    let mut other = std::collections::BTreeSet::new();
    for s in scopes {
        match s.rsplit_once(':') {
            Some((res, actions)) if res.contains(':') => {
                let e = map.entry(res.to_string()).or_default();
                for a in actions.split(',').filter(|a| !a.is_empty()) {
                    e.insert(a.to_string());
                }
            }
            _ => {
                other.insert(s.clone());
            }
        }
    }
    let mut out: Vec<String> = map
        .into_iter()
        .map(|(r, a)| {
            if a.contains("*") {
                format!("{r}:*")
            } else {
                format!("{r}:{}", a.into_iter().collect::<Vec<_>>().join(","))
            }
        })
        .collect();
    out.extend(other);
    out
}

/// Realm checks (as ORAS): https, or http only when the registry itself is on http; an IP
/// literal realm on loopback/private/link-local/unspecified space must be the registry host.
fn validate_realm(realm: &str, registry: &Url) -> Result<Url, OciError> {
    let u =
        Url::parse(realm).map_err(|e| OciError::Auth(format!("invalid realm {realm:?}: {e}")))?;
    match u.scheme() {
        "https" => {}
        "http" if registry.scheme() == "http" => {}
        s => {
            return Err(OciError::Auth(format!(
                "realm {realm:?}: scheme {s:?} not allowed for a registry reached over {}",
                registry.scheme()
            )))
        }
    }
    if let Some(url::Host::Ipv4(ip)) = u.host() {
        let internal =
            ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified();
        if internal && u.host_str() != registry.host_str() {
            return Err(OciError::Auth(format!(
                "realm {realm:?}: internal address not allowed"
            )));
        }
    }
    if let Some(url::Host::Ipv6(ip)) = u.host() {
        let internal = ip.is_loopback()
            || ip.is_unspecified()
            || (ip.segments()[0] & 0xfe00) == 0xfc00
            || (ip.segments()[0] & 0xffc0) == 0xfe80;
        if internal && u.host_str() != registry.host_str() {
            return Err(OciError::Auth(format!(
                "realm {realm:?}: internal address not allowed"
            )));
        }
    }
    Ok(u)
}

/// Parses `Scheme k="v", k2=v2`.
fn parse_challenge(h: &str) -> Option<Challenge> {
    let h = h.trim();
    let (scheme, rest) = match h.find(' ') {
        Some(i) => (&h[..i], &h[i + 1..]),
        None => (h, ""),
    };
    let mut ch = Challenge {
        scheme: scheme.to_ascii_lowercase(),
        ..Default::default()
    };
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b',') {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let key = rest[ks..i].trim().to_ascii_lowercase();
        i += 1;
        let mut val = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                let c = rest[i..].chars().next()?;
                val.push(c);
                i += c.len_utf8();
            }
            i += 1;
        } else {
            let vs = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            val = rest[vs..i].trim().to_string();
        }
        ch.params.insert(key, val);
    }
    Some(ch)
}

fn parse_next_link(h: &str) -> Option<String> {
    for part in h.split(',') {
        let part = part.trim();
        if part.contains("rel=\"next\"") || part.contains("rel=next") {
            let s = part.find('<')?;
            let e = part.find('>')?;
            return Some(part[s + 1..e].to_string());
        }
    }
    None
}

/// Go's net/http wording, which Helm and cosign print, for a TLS handshake answered in
/// plain HTTP (a registry without TLS reached without `--plain-http`).
pub const HTTP_RESPONSE_TO_HTTPS: &str = "http: server gave HTTP response to HTTPS client";

/// True when the chain holds rustls' complaint about a first record that is no TLS record
/// (what an HTTP response to our ClientHello looks like).
fn http_response_to_https(e: &(dyn std::error::Error + 'static)) -> bool {
    let is_it = |r: &rustls::Error| {
        matches!(
            r,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)
        )
    };
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.downcast_ref::<rustls::Error>().is_some_and(is_it) {
            return true;
        }
        // io::Error::source() skips the wrapped error itself: look inside.
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io
                .get_ref()
                .and_then(|i| i.downcast_ref::<rustls::Error>())
                .is_some_and(is_it)
            {
                return true;
            }
        }
        cur = err.source();
    }
    // The connector may hand the TLS error over boxed in a way downcasting cannot see
    // through; its Debug form still names rustls' variant.
    format!("{e:?}").contains("InvalidMessage(InvalidContentType)")
}

/// Error chain without reqwest's outer "error sending request for url (…)" repetition.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    if http_response_to_https(e) {
        return HTTP_RESPONSE_TO_HTTPS.to_string();
    }
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        if !s.starts_with("error sending request") && !parts.iter().any(|p| p == &s) {
            parts.push(s);
        }
        cur = err.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

fn transport(method: &Method, url: &str, e: &reqwest::Error) -> OciError {
    let msg = if e.is_timeout() {
        let (connect, idle) = super::registry_timeouts();
        format!(
            "the registry did not answer in time (connect timeout {}s, read timeout {}s; set {} in seconds to change): {}",
            connect.as_secs_f64(),
            idle.as_secs_f64(),
            super::TIMEOUT_ENV,
            error_chain(e)
        )
    } else {
        error_chain(e)
    };
    OciError::Transport {
        method: method.to_string(),
        url: super::redact_userinfo(&strip_query(url)),
        msg,
    }
}

/// Reads a response body, refusing it (without reading on) once it passes `limit` bytes;
/// a `Content-Length` over the limit is refused before any of the body is read.
async fn read_body(
    mut resp: reqwest::Response,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, OciError> {
    let too_large = || OciError::TooLarge {
        what: what.to_string(),
        limit,
    };
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let url = resp.url().to_string();
    let mut out = Vec::new();
    loop {
        let chunk = resp
            .chunk()
            .await
            .map_err(|e| transport(&Method::GET, &url, &e))?;
        let Some(c) = chunk else { break };
        if out.len() as u64 + c.len() as u64 > limit {
            return Err(too_large());
        }
        out.extend_from_slice(&c);
    }
    Ok(out)
}

fn strip_query(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

async fn status_error(method: &Method, resp: reqwest::Response) -> OciError {
    let url = resp.url().to_string();
    status_error_url(method, &url, resp).await
}

async fn status_error_url(method: &Method, url: &str, resp: reqwest::Response) -> OciError {
    let status = resp.status();
    // Only the start of an error body is of use; a huge or stalled one is cut short.
    let body = read_body(resp, 64 << 10, "error response")
        .await
        .unwrap_or_default();
    let mut detail = String::new();
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
        if let Some(errs) = v["errors"].as_array() {
            detail = errs
                .iter()
                .map(|e| {
                    format!(
                        "{}: {}",
                        e["code"].as_str().unwrap_or("").to_ascii_lowercase(),
                        e["message"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
        }
    }
    if detail.is_empty() {
        detail = status.canonical_reason().unwrap_or("").to_string();
    }
    OciError::Status {
        method: method.to_string(),
        url: super::redact_userinfo(&strip_query(url)),
        status: status.as_u16(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.example/token");
        assert_eq!(c.params["scope"], "repository:a/b:pull,push");
        let c = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(c.scheme, "basic");
    }

    #[test]
    fn scopes_merge() {
        let s = clean_scopes(&[
            "repository:a:push".into(),
            "repository:a:pull".into(),
            "repository:b:pull".into(),
        ]);
        assert_eq!(s, vec!["repository:a:pull,push", "repository:b:pull"]);
    }

    #[test]
    fn realms() {
        let reg = Url::parse("https://127.0.0.1:5000/v2/").unwrap();
        assert!(validate_realm("https://127.0.0.1:5000/token", &reg).is_ok());
        assert!(validate_realm("https://10.0.0.1/token", &reg).is_err());
        assert!(validate_realm("http://auth.example/token", &reg).is_err());
        let plain = Url::parse("http://127.0.0.1:5000/v2/").unwrap();
        assert!(validate_realm("http://127.0.0.1:5000/token", &plain).is_ok());
    }

    #[test]
    fn retry_policy() {
        for s in [408, 429, 500, 502, 503, 504, 522] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [200, 201, 301, 400, 401, 403, 404, 501, 505] {
            assert!(!retryable_status(s), "{s}");
        }
        let none = HeaderMap::new();
        let mut ra = HeaderMap::new();
        ra.insert("retry-after", HeaderValue::from_static("1"));
        assert_eq!(retry_wait(0, 429, &ra), std::time::Duration::from_secs(1));
        assert_eq!(retry_wait(0, 503, &ra), std::time::Duration::from_secs(1));
        ra.insert("retry-after", HeaderValue::from_static("86400"));
        assert_eq!(retry_wait(0, 429, &ra), RETRY_MAX_WAIT);
        let w = retry_wait(0, 500, &ra);
        assert!(
            w >= RETRY_MIN_WAIT && w <= std::time::Duration::from_millis(275),
            "{w:?}"
        );
        assert_eq!(retry_wait(10, 500, &none), RETRY_MAX_WAIT);
    }

    #[test]
    fn retry_after_dates() {
        use std::time::{Duration, UNIX_EPOCH};
        // 1994-11-06T08:49:37Z, the RFC's example date, as "now".
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777);
        let p = |v: &str| parse_retry_after(v, now);
        // The three date forms, 2 s ahead.
        for v in [
            "Sun, 06 Nov 1994 08:49:39 GMT",
            "Sunday, 06-Nov-94 08:49:39 GMT",
            "Sun Nov  6 08:49:39 1994",
        ] {
            assert_eq!(p(v), Some(Duration::from_secs(2)), "{v}");
        }
        // A date past is "now"; a date far ahead is an hour before the caller's cap.
        assert_eq!(p("Sat, 05 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        assert_eq!(
            p("Sat, 06 Nov 2094 08:49:37 GMT"),
            Some(Duration::from_secs(3600))
        );
        // Seconds, capped; zero and junk leave it to the backoff.
        assert_eq!(p("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            p("99999999999999999999999"),
            Some(Duration::from_secs(3600))
        );
        for v in [
            "0",
            "",
            "soon",
            "-1",
            "1.5",
            "Sun, 06 Nov 1994 08:49:39 +0100",
        ] {
            assert_eq!(p(v), None, "{v:?}");
        }
        // In the wait: the date's distance, within the 200 ms – 3 s bounds.
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:39 GMT"),
        );
        assert_eq!(retry_wait_at(0, 429, &h, now), Duration::from_secs(2));
        assert_eq!(retry_wait_at(0, 503, &h, now), Duration::from_secs(2));
        h.insert(
            "retry-after",
            HeaderValue::from_static("Mon, 07 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(retry_wait_at(0, 429, &h, now), RETRY_MAX_WAIT);
        h.insert(
            "retry-after",
            HeaderValue::from_static("Sat, 05 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(retry_wait_at(0, 429, &h, now), RETRY_MIN_WAIT);
        // Not on other statuses.
        let w = retry_wait_at(0, 500, &h, now);
        assert!(w <= Duration::from_millis(275), "{w:?}");
    }

    #[test]
    fn links() {
        assert_eq!(
            parse_next_link(r#"</v2/x/tags/list?n=2&last=b>; rel="next""#).as_deref(),
            Some("/v2/x/tags/list?n=2&last=b")
        );
    }
}

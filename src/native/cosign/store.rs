//! Where signatures live in a registry, on top of the shared OCI client:
//! - cosign's legacy layout: an image tagged `sha256-<hex>.sig` whose layers are
//!   simple-signing payloads annotated with signature, certificate, chain and Rekor bundle;
//! - the Sigstore bundle format: an OCI 1.1 referrer manifest whose one layer is the
//!   bundle, found through the referrers API or the referrers tag schema (`sha256-<hex>`).

use indexmap::IndexMap;
use serde_json::{json, Map, Value};

use crate::native::oci::{
    self, Client, ClientOptions, Layout, Location, OciError, Referrers, Repo,
};

use super::payload::SIMPLE_SIGNING_MEDIA_TYPE;
use super::Error;

pub const ANN_SIGNATURE: &str = "dev.cosignproject.cosign/signature";
pub const ANN_CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
pub const ANN_CHAIN: &str = "dev.sigstore.cosign/chain";
pub const ANN_BUNDLE: &str = "dev.sigstore.cosign/bundle";
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// An image named by registry, repository and digest (after tag resolution). For an OCI
/// image layout, `registry` is empty and `repository` is the directory.
#[derive(Clone, Debug)]
pub struct Target {
    pub registry: String,
    pub repository: String,
    pub digest: String,
}

impl Target {
    /// `registry/repository` (or `oci-layout://DIR`), what cosign puts in
    /// `docker-reference` and prints.
    pub fn repo_name(&self) -> String {
        if self.registry.is_empty() {
            format!("{}{}", oci::LAYOUT_SCHEME, self.repository)
        } else {
            format!("{}/{}", self.registry, self.repository)
        }
    }
    pub fn sig_tag(&self) -> String {
        format!("{}.sig", self.digest.replace(':', "-"))
    }
    pub fn referrers_tag(&self) -> String {
        self.digest.replace(':', "-")
    }
}

/// Registry access options from cosign's flags.
#[derive(Clone, Debug, Default)]
pub struct RegistryOpts {
    pub allow_http: bool,
    pub allow_insecure: bool,
    /// Extra CA bundle (PEM) on top of the system store and `SSL_CERT_FILE` (helm's
    /// `--ca-file` when `helm pull --verify-cosign` looks up signatures).
    pub ca_file: Option<std::path::PathBuf>,
}

fn is_loopback(host: &str) -> bool {
    let h = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    h == "localhost" || h.starts_with("127.") || h == "[::1]"
}

/// Connects like cosign's registry library: HTTPS first; plain HTTP when allowed
/// (`--allow-http-registry`) or for loopback hosts, if HTTPS cannot be spoken.
pub async fn connect(host: &str, opts: &RegistryOpts) -> Result<Client, Error> {
    let base = ClientOptions {
        insecure_skip_tls_verify: opts.allow_insecure,
        ca_file: opts.ca_file.clone(),
        user_agent: format!("oxtask-cosign/{}", env!("CARGO_PKG_VERSION")),
        ..Default::default()
    };
    let https = Client::new(base.clone()).map_err(reg_err)?;
    let https_err = match https.ping(host, false).await {
        Ok(()) => return Ok(https),
        Err(e @ (OciError::Transport { .. } | OciError::Tls(_)))
            if opts.allow_http || is_loopback(host) =>
        {
            e
        }
        Err(e) if e.status().is_some() => return Ok(https),
        Err(e) => return Err(Error::Registry(format!("accessing registry {host}: {e}"))),
    };
    let http = Client::new(ClientOptions {
        plain_http: true,
        ..base
    })
    .map_err(reg_err)?;
    // Plain HTTP only if a registry answers there (200, or 401 asking for credentials);
    // otherwise the HTTPS failure (e.g. an unknown CA) is the real story.
    match http.ping(host, false).await {
        Ok(()) => Ok(http),
        Err(e) if e.status() == Some(401) => Ok(http),
        Err(e @ (OciError::BasicCredentialNotFound | OciError::MissingBasicCredential)) => {
            Err(Error::Registry(format!("accessing registry {host}: {e}")))
        }
        Err(_) => Err(Error::Registry(format!(
            "accessing registry {host}: {https_err}"
        ))),
    }
}

pub fn reg_err(e: OciError) -> Error {
    Error::Registry(e.to_string())
}

fn not_found(e: &OciError) -> bool {
    e.is_not_found()
}

/// Opens the repository `image` names — a registry (`host/repo[:tag|@digest]`, Docker Hub
/// short names allowed) or an OCI image layout (`oci-layout://DIR[:tag|@digest]`) — and
/// resolves the image to its digest.
pub async fn open(
    image: &str,
    opts: &RegistryOpts,
    warn_tag: bool,
) -> Result<(Repo, Target), Error> {
    let loc = if image.starts_with(oci::LAYOUT_SCHEME) {
        Location::parse(image)
            .map_err(|e| Error::Usage(format!("parsing reference {image:?}: {e}")))?
    } else {
        Location::Registry(super::parse_image_ref(image)?)
    };
    let repo = match &loc {
        Location::Registry(r) => Repo::Registry {
            client: Box::new(connect(&r.registry, opts).await?),
            host: r.registry.clone(),
            repository: r.repository.clone(),
        },
        Location::Layout { dir, .. } => Repo::Layout(Layout::open(dir).map_err(|e| {
            if e.is_not_found() {
                Error::NotFound(format!("image {loc} not found: {e}"))
            } else {
                reg_err(e)
            }
        })?),
    };
    let t = resolve(&repo, &loc, warn_tag).await?;
    Ok((repo, t))
}

/// Resolves `loc` (tag or digest) in `repo` to a digest. A tag gets cosign's warning.
pub async fn resolve(repo: &Repo, loc: &Location, warn_tag: bool) -> Result<Target, Error> {
    let r = loc;
    let digest = if r.is_digest() {
        // The image must exist (cosign signs unknown digests too, but a typo is likelier).
        repo.get_manifest(r.reference())
            .await
            .map_err(|e| manifest_err(e, r))?
            .digest
    } else {
        let tag = if r.reference().is_empty() {
            "latest"
        } else {
            r.reference()
        };
        if warn_tag {
            eprintln!(
                "WARNING: Image reference {r} uses a tag, not a digest, to identify the image to sign.\n    \
                 The tag is resolved once, now, to the digest that gets signed; if the tag moves later,\n    \
                 the signature stays with the old image. Pass IMAGE@sha256:<digest> to sign exactly\n    \
                 what you mean (a push prints the digest)."
            );
        }
        repo.resolve(tag).await.map_err(|e| manifest_err(e, r))?
    };
    let (registry, repository) = match loc {
        Location::Registry(r) => (r.registry.clone(), r.repository.clone()),
        Location::Layout { dir, .. } => (String::new(), dir.display().to_string()),
    };
    Ok(Target {
        registry,
        repository,
        digest,
    })
}

fn manifest_err(e: OciError, r: &Location) -> Error {
    if not_found(&e) {
        Error::NotFound(format!("image {r} not found: {e}"))
    } else {
        reg_err(e)
    }
}

/// One signature layer of the legacy layout.
#[derive(Clone, Debug)]
pub struct SigLayer {
    pub payload: Vec<u8>,
    pub annotations: Map<String, Value>,
}

impl SigLayer {
    pub fn annotation(&self, k: &str) -> Option<&str> {
        self.annotations.get(k).and_then(Value::as_str)
    }
}

async fn sig_manifest(repo: &Repo, t: &Target) -> Result<Option<Value>, Error> {
    match repo.get_manifest(&t.sig_tag()).await {
        Ok(m) => serde_json::from_slice(&m.bytes).map(Some).map_err(|e| {
            Error::Registry(format!(
                "signature manifest {} is not JSON: {e}",
                t.sig_tag()
            ))
        }),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(reg_err(e)),
    }
}

/// All legacy-layout signatures of `t` (empty when there are none).
pub async fn load_signatures(repo: &Repo, t: &Target) -> Result<Vec<SigLayer>, Error> {
    let Some(m) = sig_manifest(repo, t).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for l in m["layers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let Some(d) = l["digest"].as_str() else {
            continue;
        };
        let payload = repo.fetch_blob(d).await.map_err(reg_err)?;
        out.push(SigLayer {
            payload,
            annotations: l["annotations"].as_object().cloned().unwrap_or_default(),
        });
    }
    Ok(out)
}

fn descriptor(media_type: &str, data: &[u8]) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("mediaType".into(), json!(media_type));
    d.insert("size".into(), json!(data.len()));
    d.insert("digest".into(), json!(oci::sha256_digest(data)));
    d
}

/// The config of a signature image as cosign's registry library writes it.
fn sig_config(diff_ids: &[String]) -> Vec<u8> {
    let history: Vec<Value> = diff_ids
        .iter()
        .map(|_| json!({"created": "0001-01-01T00:00:00Z"}))
        .collect();
    let v = json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": history,
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "config": {}
    });
    serde_json::to_vec(&v).expect("serialising JSON cannot fail")
}

/// Adds a signature layer to `sha256-<hex>.sig`, keeping the signatures already there.
/// Blobs go first and the tag moves last, in one manifest PUT: a failure leaves the
/// old signature image in place.
pub async fn append_signature(
    repo: &Repo,
    t: &Target,
    payload: &[u8],
    annotations: &IndexMap<String, String>,
) -> Result<(), Error> {
    let mut layers: Vec<Value> = match sig_manifest(repo, t).await? {
        Some(m) => m["layers"].as_array().cloned().unwrap_or_default(),
        None => Vec::new(),
    };
    let mut desc = descriptor(SIMPLE_SIGNING_MEDIA_TYPE, payload);
    // Go marshals the annotation map with sorted keys.
    let mut sorted: Vec<(&String, &String)> = annotations.iter().collect();
    sorted.sort();
    desc.insert(
        "annotations".into(),
        Value::Object(
            sorted
                .into_iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect(),
        ),
    );
    let new_layer = Value::Object(desc);
    if layers.contains(&new_layer) {
        return Ok(());
    }
    repo.push_blob(payload).await.map_err(reg_err)?;
    layers.push(new_layer);
    let diff_ids: Vec<String> = layers
        .iter()
        .filter_map(|l| l["digest"].as_str().map(str::to_string))
        .collect();
    let config = sig_config(&diff_ids);
    repo.push_blob(&config).await.map_err(reg_err)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": oci::OCI_MANIFEST,
        "config": Value::Object(descriptor(OCI_CONFIG, &config)),
        "layers": layers,
    });
    let bytes = serde_json::to_vec(&manifest).expect("serialising JSON cannot fail");
    repo.push_manifest(&t.sig_tag(), oci::OCI_MANIFEST, &bytes)
        .await
        .map_err(reg_err)?;
    Ok(())
}

/// Pushes a Sigstore bundle as an OCI 1.1 referrer of `t`; where the registry has no
/// referrers API, also records it in the `sha256-<hex>` referrers tag index.
pub async fn push_bundle_referrer(
    repo: &Repo,
    t: &Target,
    bundle: &[u8],
    predicate_type: &str,
    created: &str,
) -> Result<String, Error> {
    let subject = repo.get_manifest(&t.digest).await.map_err(reg_err)?;
    let config = b"{}";
    repo.push_blob(config).await.map_err(reg_err)?;
    repo.push_blob(bundle).await.map_err(reg_err)?;
    let mut config_desc = descriptor(OCI_EMPTY, config);
    config_desc.insert("artifactType".into(), json!(BUNDLE_MEDIA_TYPE));
    let mut subject_desc = Map::new();
    subject_desc.insert("mediaType".into(), json!(subject.media_type));
    subject_desc.insert("size".into(), json!(subject.bytes.len()));
    subject_desc.insert("digest".into(), json!(subject.digest));
    let annotations = json!({
        "dev.sigstore.bundle.content": "dsse-envelope",
        "dev.sigstore.bundle.predicateType": predicate_type,
        "org.opencontainers.image.created": created,
    });
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": oci::OCI_MANIFEST,
        "config": Value::Object(config_desc),
        "layers": [Value::Object(descriptor(BUNDLE_MEDIA_TYPE, bundle))],
        "annotations": annotations.clone(),
        "subject": Value::Object(subject_desc),
        "artifactType": BUNDLE_MEDIA_TYPE,
    });
    let bytes = serde_json::to_vec(&manifest).expect("serialising JSON cannot fail");
    let digest = oci::sha256_digest(&bytes);
    repo.push_manifest(&digest, oci::OCI_MANIFEST, &bytes)
        .await
        .map_err(reg_err)?;
    let supported = matches!(
        repo.referrers(&t.digest, None).await.map_err(reg_err)?,
        Referrers::Supported(_)
    );
    if !supported {
        // Referrers tag schema (OCI distribution spec 1.1, "unavailable referrers API").
        let mut manifests: Vec<Value> = match repo.get_manifest(&t.referrers_tag()).await {
            Ok(m) => serde_json::from_slice::<Value>(&m.bytes)
                .ok()
                .and_then(|v| v["manifests"].as_array().cloned())
                .unwrap_or_default(),
            Err(e) if not_found(&e) => Vec::new(),
            Err(e) => return Err(reg_err(e)),
        };
        manifests.retain(|m| m["digest"].as_str() != Some(digest.as_str()));
        let mut d = descriptor(oci::OCI_MANIFEST, &bytes);
        d.insert("annotations".into(), annotations);
        d.insert("artifactType".into(), json!(BUNDLE_MEDIA_TYPE));
        manifests.push(Value::Object(d));
        let index = json!({
            "schemaVersion": 2,
            "mediaType": oci::OCI_INDEX,
            "manifests": manifests,
        });
        let ib = serde_json::to_vec(&index).expect("serialising JSON cannot fail");
        repo.push_manifest(&t.referrers_tag(), oci::OCI_INDEX, &ib)
            .await
            .map_err(reg_err)?;
    }
    Ok(digest)
}

/// The Sigstore bundles attached to `t` as referrers (API or tag schema).
pub async fn load_bundles(repo: &Repo, t: &Target) -> Result<Vec<Vec<u8>>, Error> {
    let index: Value = match repo
        .referrers(&t.digest, Some(BUNDLE_MEDIA_TYPE))
        .await
        .map_err(reg_err)?
    {
        Referrers::Supported(b) => serde_json::from_slice(&b).unwrap_or(Value::Null),
        Referrers::Unsupported => match repo.get_manifest(&t.referrers_tag()).await {
            Ok(m) => serde_json::from_slice(&m.bytes).unwrap_or(Value::Null),
            Err(e) if not_found(&e) => Value::Null,
            Err(e) => return Err(reg_err(e)),
        },
    };
    let mut out = Vec::new();
    for d in index["manifests"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        // go-containerregistry's referrers-tag fallback (used by cosign v3) records the
        // config media type (the OCI empty descriptor) as the entry's artifactType, not the
        // manifest's: open those too and judge by the manifest's own layers.
        match d["artifactType"].as_str() {
            None | Some(BUNDLE_MEDIA_TYPE) | Some(OCI_EMPTY) => {}
            Some(_) => continue,
        }
        let Some(md) = d["digest"].as_str() else {
            continue;
        };
        let m = repo.get_manifest(md).await.map_err(reg_err)?;
        let mv: Value = serde_json::from_slice(&m.bytes).unwrap_or(Value::Null);
        if mv["subject"]["digest"].as_str() != Some(t.digest.as_str()) {
            continue;
        }
        for l in mv["layers"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if l["mediaType"].as_str() != Some(BUNDLE_MEDIA_TYPE) {
                continue;
            }
            if let Some(ld) = l["digest"].as_str() {
                out.push(repo.fetch_blob(ld).await.map_err(reg_err)?);
            }
        }
    }
    Ok(out)
}

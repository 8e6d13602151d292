//! `cosign sign`: key-based or keyless (Fulcio + Rekor) signing of an image digest,
//! stored in cosign's legacy layout or as a Sigstore bundle referrer.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use indexmap::IndexMap;
use serde_json::json;

use super::fulcio::{self, FulcioCert};
use super::keys::{self, SigningKey};
use super::payload::{self, COSIGN_SIGN_PREDICATE, INTOTO_PAYLOAD_TYPE};
use super::pki::{self, sha256};
use super::rekor::{self, LogEntry};
use super::store::{
    self, RegistryOpts, Target, ANN_BUNDLE, ANN_CERTIFICATE, ANN_CHAIN, ANN_SIGNATURE,
    BUNDLE_MEDIA_TYPE,
};
use super::trust::{SigningConfig, TrustedRoot};
use super::{oidc, Error};

#[derive(Clone, Debug)]
pub struct SignOptions {
    /// `FILE` or `env://VAR`; keyless when `None`.
    pub key: Option<String>,
    pub annotations: IndexMap<String, String>,
    pub tlog_upload: bool,
    pub upload: bool,
    pub fulcio_url: Option<String>,
    pub rekor_url: Option<String>,
    pub signing_config: Option<PathBuf>,
    pub trusted_root: Option<PathBuf>,
    pub identity_token: Option<String>,
    pub new_bundle_format: bool,
    pub registry: RegistryOpts,
    pub yes: bool,
    pub output_signature: Option<PathBuf>,
    pub output_certificate: Option<PathBuf>,
    pub output_payload: Option<PathBuf>,
}

impl Default for SignOptions {
    fn default() -> Self {
        SignOptions {
            key: None,
            annotations: IndexMap::new(),
            tlog_upload: true,
            upload: true,
            fulcio_url: None,
            rekor_url: None,
            signing_config: None,
            trusted_root: None,
            identity_token: None,
            new_bundle_format: false,
            registry: RegistryOpts::default(),
            yes: false,
            output_signature: None,
            output_certificate: None,
            output_payload: None,
        }
    }
}

/// Endpoints: the signing config (flag, then `SIGSTORE_SIGNING_CONFIG`), else the TUF
/// repository's `signing_config.v0.2.json`, else the public-good services;
/// `--fulcio-url`/`--rekor-url` override either. The TUF repository is only asked when a
/// service this signing needs (Fulcio when keyless, Rekor when uploading) is not named by
/// a flag.
pub(crate) async fn endpoints(o: &SignOptions) -> Result<SigningConfig, Error> {
    let from_env = std::env::var_os("SIGSTORE_SIGNING_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let need_tuf =
        (o.key.is_none() && o.fulcio_url.is_none()) || (o.tlog_upload && o.rekor_url.is_none());
    let mut c = match o.signing_config.clone().or(from_env) {
        Some(p) => SigningConfig::load(&p)?,
        // A TUF failure is reported by the trusted-root lookup keyless signing makes next;
        // key-based signing then uses the public-good services as before.
        None if need_tuf => super::trust::tuf_signing_config()
            .await
            .ok()
            .flatten()
            .unwrap_or_else(SigningConfig::public_good),
        None => SigningConfig::public_good(),
    };
    if let Some(u) = &o.fulcio_url {
        c.fulcio_url = u.clone();
    }
    if let Some(u) = &o.rekor_url {
        c.rekor_url = Some(u.clone());
    }
    Ok(c)
}

pub(crate) fn confirm_upload(o: &SignOptions) -> Result<(), Error> {
    // CI has no terminal: no prompt there (cosign's seed command runs without --yes).
    if o.yes || !o.tlog_upload || !std::io::stdin().is_terminal() {
        return Ok(());
    }
    eprint!(
        "\n\tThe signature, the signing certificate and the identity in it (which may be an email\n\
         \taddress) will be recorded in a public transparency log, permanently.\n\
         Are you sure you would like to continue? [y/N] "
    );
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Error::Io(format!("reading answer: {e}")))?;
    if matches!(line.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(Error::Usage("signing aborted".into()))
    }
}

pub(crate) struct Signer {
    pub(crate) key: SigningKey,
    pub(crate) cert: Option<FulcioCert>,
}

impl Signer {
    /// PEM of what verifies the signature: the certificate, else the public key.
    pub(crate) fn verifier_pem(&self) -> String {
        match &self.cert {
            Some(c) => c.leaf.to_pem(),
            None => self.key.public_key_pem(),
        }
    }
}

pub(crate) fn http_client() -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .user_agent(format!("oxtask-cosign/{}", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(30))
        .timeout(std::time::Duration::from_secs(180))
        .build()
        .map_err(|e| Error::Io(format!("HTTP client: {}", super::http_error(&e))))
}

/// Signs `image`. Prints cosign's progress lines on stderr.
pub async fn sign(image: &str, o: &SignOptions) -> Result<Target, Error> {
    let http = http_client()?;
    let ep = endpoints(o).await?;
    let trust = signing_trust(o).await?;
    let (client, t) = store::open(image, &o.registry, true).await?;

    let signer = make_signer(o, &http, &ep, trust.as_ref()).await?;
    confirm_upload(o)?;

    if o.new_bundle_format {
        sign_bundle(&client, &http, &ep, &t, &signer, trust.as_ref(), o).await?;
    } else {
        sign_legacy(&client, &http, &ep, &t, &signer, trust.as_ref(), o).await?;
    }
    Ok(t)
}

/// The signing key: `--key`, else an ephemeral key with a Fulcio certificate (keyless).
pub(crate) async fn make_signer(
    o: &SignOptions,
    http: &reqwest::Client,
    ep: &SigningConfig,
    trust: Option<&TrustedRoot>,
) -> Result<Signer, Error> {
    Ok(match &o.key {
        Some(k) => {
            let bytes = keys::read_key_ref(k)?;
            let pw = if is_encrypted(&bytes) {
                keys::read_password(false)?
            } else {
                zeroize::Zeroizing::new(Vec::new())
            };
            Signer {
                key: keys::decrypt_private_key(&bytes, &pw)?,
                cert: None,
            }
        }
        None => {
            let token = oidc::obtain(o.identity_token.as_deref(), http).await?;
            let key = SigningKey::generate();
            let trust =
                trust.ok_or_else(|| Error::Trust("keyless signing needs a trusted root".into()))?;
            let cert =
                fulcio::request_certificate(http, &ep.fulcio_url, &token, &key, trust).await?;
            eprintln!("Successfully verified SCT...");
            Signer {
                key,
                cert: Some(cert),
            }
        }
    })
}

/// Trust material for signing: a keyless signature we could not check ourselves is not
/// used. Key-based signing without the log needs none (and then does not ask TUF for it).
pub(crate) async fn signing_trust(o: &SignOptions) -> Result<Option<TrustedRoot>, Error> {
    if o.key.is_some() && !o.tlog_upload && o.trusted_root.is_none() {
        return Ok(None);
    }
    match super::trust::resolve_trusted_root(o.trusted_root.as_deref()).await {
        Ok(t) => Ok(Some(t)),
        Err(e) if o.key.is_none() => Err(e),
        Err(_) => Ok(None),
    }
}

/// Blocking form of [`sign`] for sync callers. Must not be called inside a runtime.
pub fn sign_image(image: &str, o: &SignOptions) -> Result<Target, Error> {
    crate::native::oci::block_on(sign(image, o))
        .map_err(|e| Error::Io(format!("starting runtime: {e}")))?
}

fn is_encrypted(pem_bytes: &[u8]) -> bool {
    let s = String::from_utf8_lossy(pem_bytes);
    s.contains(keys::SIGSTORE_PRIVATE_KEY_PEM) || s.contains(keys::COSIGN_PRIVATE_KEY_PEM)
}

pub(crate) async fn log_entry(
    http: &reqwest::Client,
    ep: &SigningConfig,
    proposed: &serde_json::Value,
    trust: Option<&TrustedRoot>,
    keyless: bool,
) -> Result<LogEntry, Error> {
    let url = ep.rekor_url.as_deref().ok_or_else(|| {
        Error::Trust(
            "signing config names no Rekor v1 service (Rekor v2 logs are not supported); \
             pass --rekor-url or --tlog-upload=false"
                .into(),
        )
    })?;
    let e = rekor::create_entry(http, url, proposed).await?;
    // Check the log's promise before pushing anything. A key-based signer may use a log
    // its (default) trust root does not know; keyless signing never does.
    let known =
        trust.is_some_and(|t| pki::unhex(&e.log_id).is_some_and(|id| t.tlog_by_id(&id).is_some()));
    if known || keyless {
        let t = trust
            .ok_or_else(|| Error::Trust("no trusted root to check the Rekor answer".into()))?;
        rekor::verify_set(&e, t)
            .map_err(|err| Error::Rekor(format!("Rekor's answer does not verify: {err}")))?;
    }
    eprintln!("tlog entry created with index: {}", e.log_index);
    Ok(e)
}

pub(crate) fn write_output(path: &Option<PathBuf>, data: &[u8]) -> Result<(), Error> {
    if let Some(p) = path {
        keys::write_atomic(p, data, 0o600)?;
    }
    Ok(())
}

async fn sign_legacy(
    client: &crate::native::oci::Repo,
    http: &reqwest::Client,
    ep: &SigningConfig,
    t: &Target,
    signer: &Signer,
    trust: Option<&TrustedRoot>,
    o: &SignOptions,
) -> Result<(), Error> {
    let payload = payload::simple_signing(&t.repo_name(), &t.digest, &o.annotations);
    let sig = signer.key.sign(&payload);
    let sig_b64 = B64.encode(&sig);
    let mut ann = IndexMap::new();
    ann.insert(ANN_SIGNATURE.to_string(), sig_b64.clone());
    if let Some(c) = &signer.cert {
        ann.insert(ANN_CERTIFICATE.to_string(), c.leaf.to_pem());
        ann.insert(ANN_CHAIN.to_string(), c.chain_pem());
    }
    if o.tlog_upload {
        let proposed = rekor::hashedrekord(&sig, &signer.verifier_pem(), &sha256(&payload));
        let e = log_entry(http, ep, &proposed, trust, signer.cert.is_some()).await?;
        ann.insert(ANN_BUNDLE.to_string(), rekor::cosign_bundle_json(&e));
    }
    write_output(&o.output_signature, sig_b64.as_bytes())?;
    write_output(&o.output_payload, &payload)?;
    write_output(&o.output_certificate, signer.verifier_pem().as_bytes())?;
    if o.upload {
        eprintln!("Pushing signature to: {}", t.repo_name());
        store::append_signature(client, t, &payload, &ann).await?;
    }
    Ok(())
}

pub(crate) fn rfc3339_now() -> String {
    let secs = oidc::now() as i64;
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // civil from days (Howard Hinnant)
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

async fn sign_bundle(
    client: &crate::native::oci::Repo,
    http: &reqwest::Client,
    ep: &SigningConfig,
    t: &Target,
    signer: &Signer,
    trust: Option<&TrustedRoot>,
    o: &SignOptions,
) -> Result<(), Error> {
    let statement = payload::statement(&t.digest, &o.annotations)?;
    let sig = signer
        .key
        .sign(&payload::pae(INTOTO_PAYLOAD_TYPE, &statement));
    let envelope = payload::envelope_json(INTOTO_PAYLOAD_TYPE, &statement, &sig);
    let mut vm = serde_json::Map::new();
    match &signer.cert {
        Some(c) => {
            vm.insert(
                "certificate".into(),
                json!({ "rawBytes": B64.encode(&c.leaf.der) }),
            );
        }
        None => {
            let hint = B64.encode(sha256(&signer.key.public_key().spki_der()));
            vm.insert("publicKey".into(), json!({ "hint": hint }));
        }
    }
    // A signed timestamp over the signature when the signing config names a TSA (cosign v3),
    // first, as sigstore-go does: a TSA failure then leaves nothing in the log.
    if let Some(url) = &ep.tsa_url {
        let tsas = trust.map(|t| t.tsas.as_slice()).filter(|t| !t.is_empty());
        let ts = super::tsa::request(http, url, &sig, tsas).await?;
        vm.insert(
            "timestampVerificationData".into(),
            super::tsa::bundle_json(&ts),
        );
    }
    let mut entries = Vec::new();
    if o.tlog_upload {
        let proposed = rekor::dsse(&envelope.to_string(), &signer.verifier_pem());
        let e = log_entry(http, ep, &proposed, trust, signer.cert.is_some()).await?;
        entries.push(rekor::to_bundle_tlog_entry(&e, "dsse")?);
    }
    vm.insert("tlogEntries".into(), serde_json::Value::Array(entries));
    let bundle = json!({
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": serde_json::Value::Object(vm),
        "dsseEnvelope": envelope,
    });
    let bytes = serde_json::to_vec(&bundle).expect("serialising JSON cannot fail");
    write_output(&o.output_signature, B64.encode(&sig).as_bytes())?;
    write_output(&o.output_payload, &statement)?;
    write_output(&o.output_certificate, signer.verifier_pem().as_bytes())?;
    if o.upload {
        eprintln!("Pushing signature to: {}", t.repo_name());
        store::push_bundle_referrer(client, t, &bytes, COSIGN_SIGN_PREDICATE, &rfc3339_now())
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_format() {
        let s = super::rfc3339_now();
        assert_eq!(s.len(), 20);
        assert!(s.ends_with('Z') && s.as_bytes()[10] == b'T');
    }
}

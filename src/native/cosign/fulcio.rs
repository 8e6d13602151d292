//! Fulcio v2 client: a short-lived code-signing certificate for an ephemeral key.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use der::EncodePem;
use serde_json::json;
use x509_cert::builder::{Builder, RequestBuilder};

use super::keys::SigningKey;
use super::oidc::IdToken;
use super::pki::{verify_embedded_sct, Cert};
use super::trust::TrustedRoot;
use super::Error;

/// The leaf certificate and the rest of the chain (intermediates, root) Fulcio sent.
#[derive(Clone, Debug)]
pub struct FulcioCert {
    pub leaf: Cert,
    pub chain: Vec<Cert>,
}

impl FulcioCert {
    pub fn chain_pem(&self) -> String {
        self.chain.iter().map(Cert::to_pem).collect()
    }
}

/// A PKCS#10 CSR signed by `key`: the proof of possession Fulcio checks. Using a CSR
/// (rather than a signed `sub`/`email` challenge) works for tokens without email.
fn csr_pem(key: &SigningKey) -> Result<String, Error> {
    let req = RequestBuilder::new(x509_cert::name::Name::default(), &key.0)
        .map_err(|e| Error::Fulcio(format!("building CSR: {e}")))?
        .build::<p256::ecdsa::DerSignature>()
        .map_err(|e| Error::Fulcio(format!("signing CSR: {e}")))?;
    req.to_pem(der::pem::LineEnding::LF)
        .map_err(|e| Error::Fulcio(format!("encoding CSR: {e}")))
}

/// `POST {base}/api/v2/signingCert`, then checks the answer: the certificate is for
/// our key, chains to a CA of the trusted root, and its SCT verifies against a CT log
/// of the trusted root.
pub async fn request_certificate(
    http: &reqwest::Client,
    base: &str,
    token: &IdToken,
    key: &SigningKey,
    trust: &TrustedRoot,
) -> Result<FulcioCert, Error> {
    let body = json!({
        "credentials": { "oidcIdentityToken": token.raw() },
        "certificateSigningRequest": B64.encode(csr_pem(key)?),
    });
    let url = format!("{}/api/v2/signingCert", base.trim_end_matches('/'));
    let v = super::post_json(
        http,
        &url,
        &body,
        "Fulcio",
        "getting signing certificate from",
    )
    .await
    .map_err(Error::Fulcio)?;
    let chain_pems =
        if let Some(c) = v["signedCertificateEmbeddedSct"]["chain"]["certificates"].as_array() {
            c.clone()
        } else if v["signedCertificateDetachedSct"].is_object() {
            return Err(Error::Fulcio(
            "Fulcio returned a detached SCT; only certificates with embedded SCTs are supported"
                .into(),
        ));
        } else {
            return Err(Error::Fulcio(
                "Fulcio answer has no certificate chain".into(),
            ));
        };
    let mut certs = Vec::new();
    for p in &chain_pems {
        let s = p
            .as_str()
            .ok_or_else(|| Error::Fulcio("certificate is not a string".into()))?;
        certs.extend(Cert::from_pem_chain(s.as_bytes())?);
    }
    if certs.is_empty() {
        return Err(Error::Fulcio("Fulcio returned no certificate".into()));
    }
    let leaf = certs.remove(0);
    if leaf.public_key()? != key.public_key() {
        return Err(Error::Fulcio(
            "Fulcio's certificate is not for the key we sent".into(),
        ));
    }
    let issued = FulcioCert { leaf, chain: certs };
    // Same checks a verifier will make, so a bad CA/CT setup fails before anything is pushed.
    let ca = super::verify::chain_to_trusted_ca(&issued.leaf, trust, super::oidc::now())?;
    let issuer = ca
        .chain
        .first()
        .ok_or_else(|| Error::Trust("empty CA chain".into()))?;
    verify_embedded_sct(&issued.leaf, issuer, &trust.ctlogs)?;
    Ok(issued)
}

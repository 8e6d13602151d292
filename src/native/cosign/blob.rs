//! `cosign sign-blob` and `cosign verify-blob`: signatures over arbitrary files, as
//! Sigstore bundles (a message signature with a `hashedrekord` log entry, or an in-toto
//! DSSE envelope) or in cosign's legacy blob bundle (`base64Signature`, `cert`,
//! `rekorBundle`). Verification goes through the same checks as image bundles
//! ([`super::verify`]).

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

use super::pki::{self, Cert, PublicKey};
use super::rekor;
use super::sign::{self, SignOptions};
use super::store::BUNDLE_MEDIA_TYPE;
use super::verify::{self, Blob, Ctx, Matchers, Subject, VerifyOptions};
use super::Error;

/// `verify-blob`'s inputs beyond the shared verification options.
#[derive(Clone, Debug, Default)]
pub struct VerifyBlobOptions {
    pub verify: VerifyOptions,
    /// A Sigstore bundle or cosign's legacy blob bundle.
    pub bundle: Option<PathBuf>,
    /// `--signature`: base64 signature, or a file holding it (raw or base64).
    pub signature: Option<String>,
    /// `--certificate`: PEM certificate (legacy verification only).
    pub certificate: Option<PathBuf>,
    /// `--new-bundle-format` (default true): a Sigstore bundle is verified as one.
    pub new_bundle_format: bool,
}

/// The artifact argument: a file (`-` = stdin), else `sha256:HEX` (as cosign: a file of
/// that name wins).
pub fn load_blob(blob_ref: &str) -> Result<Blob, Error> {
    let read = if blob_ref == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b).map(|_| b)
    } else {
        std::fs::read(blob_ref)
    };
    match read {
        Ok(b) => Ok(Blob::from_bytes(b)),
        Err(e) => match blob_ref.split_once(':') {
            Some((alg, hex)) => {
                if alg != "sha256" {
                    return Err(Error::Usage(format!(
                        "unsupported artifact digest algorithm {alg:?} (only sha256:HEX)"
                    )));
                }
                let d = pki::unhex(hex).filter(|d| d.len() == 32).ok_or_else(|| {
                    Error::Usage(format!(
                        "invalid artifact digest {blob_ref:?}: expected sha256: and 64 hex digits"
                    ))
                })?;
                let mut sha256 = [0u8; 32];
                sha256.copy_from_slice(&d);
                Ok(Blob {
                    sha256,
                    bytes: None,
                })
            }
            None => Err(Error::Io(format!("open {blob_ref}: {e}"))),
        },
    }
}

/// Whether a bundle file is a Sigstore bundle (else cosign's legacy blob bundle).
fn is_sigstore_bundle(v: &Value) -> bool {
    v["mediaType"]
        .as_str()
        .is_some_and(|m| m.starts_with("application/vnd.dev.sigstore.bundle"))
}

/// `cosign verify-blob`: Ok when the signature over `blob_ref` passes every check. Every
/// error exits 1, as cosign's verify-blob (the codes 10–13 are for images).
pub async fn verify_blob(blob_ref: &str, o: &VerifyBlobOptions) -> Result<(), Error> {
    verify_blob_inner(blob_ref, o).await.map_err(|e| match e {
        Error::NoCertificate(m)
        | Error::NoMatching(m)
        | Error::NoSignatures(m)
        | Error::NotFound(m) => Error::Verify(m),
        e => e,
    })
}

async fn verify_blob_inner(blob_ref: &str, o: &VerifyBlobOptions) -> Result<(), Error> {
    let v = &o.verify;
    let n = |x: bool| usize::from(x);
    if n(v.key.is_some()) + n(o.certificate.is_some()) + n(o.bundle.is_some()) == 0 {
        return Err(Error::Usage(
            "provide a key with --key or --sk, a certificate to verify against with --certificate, or a bundle with --bundle".into(),
        ));
    }
    if n(v.key.is_some())
        + n(v.certificate_identity.is_some())
        + n(v.certificate_identity_regexp.is_some())
        > 1
    {
        return Err(Error::Usage(
            "exactly one of: key reference (--key) or certificate identity \
             (--certificate-identity or --certificate-identity-regexp), must be provided. \
             To determine which to use, inspect the bundle's 'verificationMaterial' field: \
             if 'publicKey' is present, use key reference; if 'certificate' or \
             'x509CertificateChain' is present, use certificate identity"
                .into(),
        ));
    }
    if v.key.is_some() && o.certificate.is_some() {
        return Err(Error::Usage(
            "exactly one of: key reference (--key), certificate (--cert) or hardware token (--sk) must be provided".into(),
        ));
    }
    if v.key.is_none() {
        if v.certificate_identity.is_none() && v.certificate_identity_regexp.is_none() {
            return Err(Error::Usage(
                "--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode".into(),
            ));
        }
        if v.certificate_oidc_issuer.is_none() && v.certificate_oidc_issuer_regexp.is_none() {
            return Err(Error::Usage(
                "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode".into(),
            ));
        }
    }
    let m = Matchers::new(v)?;
    let key = v
        .key
        .as_deref()
        .map(super::keys::load_public_key)
        .transpose()?;

    let bundle: Option<(Vec<u8>, Value)> = match &o.bundle {
        Some(p) => {
            let bytes = std::fs::read(p)
                .map_err(|e| Error::Io(format!("reading bundle {}: {e}", p.display())))?;
            let json: Value = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Verify(format!("bundle {} is not JSON: {e}", p.display())))?;
            Some((bytes, json))
        }
        None => None,
    };
    let new_format =
        o.new_bundle_format && bundle.as_ref().is_some_and(|(_, j)| is_sigstore_bundle(j));
    // Key-based verification without the log needs no trust root (nor a TUF lookup).
    let offline_key = key.is_some() && v.insecure_ignore_tlog;

    if new_format {
        if o.certificate.is_some() {
            return Err(Error::Usage("unsupported: certificate must be in bundle and may not be provided using --certificate when using --new-bundle-format".into()));
        }
        if o.signature.is_some() {
            return Err(Error::Usage(
                "unsupported: signature may not be provided using --signature when using --new-bundle-format".into(),
            ));
        }
        let trust = if offline_key && v.trusted_root.is_none() {
            None
        } else {
            match super::trust::resolve_trusted_root(v.trusted_root.as_deref()).await {
                Ok(t) => Some(t),
                Err(_) if offline_key => None,
                Err(e) => return Err(e),
            }
        };
        let blob = load_blob(blob_ref)?;
        let ctx = Ctx { trust, key, m };
        let (bytes, _) = bundle.expect("new_format implies a bundle");
        verify::verify_bundle(&bytes, Subject::Blob(&blob), &ctx, v)?;
        eprintln!("Verified OK");
        return Ok(());
    }

    // cosign's legacy blob verification: --signature/--certificate, or its own bundle.
    let blob = load_blob(blob_ref)?;
    let Some(bytes) = blob.bytes.as_deref() else {
        return Err(Error::Usage(format!(
            "open {blob_ref}: no such file (a sha256: digest can only be verified against a Sigstore bundle)"
        )));
    };
    if v.trusted_root.is_some() {
        return Err(Error::Usage(
            "--trusted-root only supported with --new-bundle-format".into(),
        ));
    }
    if v.use_signed_timestamps {
        return Err(Error::Usage(
            "when specifying --use-signed-timestamps or --timestamp-certificate-chain, you must also specify --rfc3161-timestamp-path".into(),
        ));
    }
    let legacy = bundle.as_ref().map(|(_, j)| j);
    let mut cert: Option<Cert> = match &o.certificate {
        Some(p) => Some(load_cert(p)?),
        None => None,
    };
    let mut key = key;
    if let Some(b) = legacy {
        match b["cert"].as_str().filter(|c| !c.is_empty()) {
            Some(c) => {
                let pem = B64.decode(c).unwrap_or_else(|_| c.as_bytes().to_vec());
                match Cert::from_pem_chain(&pem)
                    .ok()
                    .and_then(|v| v.into_iter().next())
                {
                    Some(bc) => {
                        if cert.as_ref().is_some_and(|c| c.der != bc.der) {
                            return Err(Error::Verify(
                                "the cert passed in does not match the cert in the provided bundle"
                                    .into(),
                            ));
                        }
                        if key.is_none() {
                            cert = Some(bc);
                        }
                    }
                    None => {
                        let k = super::keys::parse_public_key_pem(&pem).map_err(|e| {
                            Error::Verify(format!("loading verifier from bundle: {e}"))
                        })?;
                        if key.is_none() {
                            key = Some(k);
                        }
                    }
                }
            }
            None if key.is_none() && cert.is_none() => {
                return Err(Error::Verify(
                    "bundle does not contain cert for verification, please provide public key"
                        .into(),
                ))
            }
            None => {}
        }
    }
    let sig_text: Vec<u8> = match (&o.signature, legacy) {
        (Some(s), _) => match std::fs::read(s) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => s.as_bytes().to_vec(),
            Err(e) => return Err(Error::Io(format!("reading signature {s}: {e}"))),
        },
        (None, Some(b)) => b["base64Signature"]
            .as_str()
            .ok_or_else(|| Error::Verify("bundle has no base64Signature".into()))?
            .as_bytes()
            .to_vec(),
        (None, None) => return Err(Error::Usage("missing flag '--signature'".into())),
    };
    let trimmed = String::from_utf8_lossy(&sig_text).trim().to_string();
    let sig = B64.decode(&trimmed).unwrap_or(sig_text);
    let verifier: PublicKey = match (&key, &cert) {
        (Some(k), _) => k.clone(),
        (None, Some(c)) => c.public_key()?,
        (None, None) => {
            return Err(Error::NoCertificate(
                "no certificate found on signature".into(),
            ))
        }
    };
    verifier
        .verify(bytes, &sig, verifier.default_hash())
        .map_err(|_| {
            Error::Verify("invalid signature when validating ASN.1 encoded signature".into())
        })?;
    let now = super::oidc::now();
    let needs_trust = !v.insecure_ignore_tlog || (key.is_none() && cert.is_some());
    let trust = if needs_trust {
        Some(super::trust::resolve_trusted_root(None).await?)
    } else {
        None
    };
    if !v.insecure_ignore_tlog {
        let rb = legacy
            .map(|b| &b["rekorBundle"])
            .filter(|r| !r.is_null())
            .ok_or_else(|| {
                Error::Verify(
                    "no transparency log entry: pass a --bundle holding one (rekorBundle), or \
                     --insecure-ignore-tlog (oxtask does not search the log online)"
                        .into(),
                )
            })?;
        let e = rekor::from_cosign_bundle(rb)?;
        // As the v0.1 bundle cosign makes of it, through sigstore-verify (as `.sig`).
        let vcert = if key.is_some() { None } else { cert.as_ref() };
        let ctx = Ctx {
            trust,
            key: key.clone(),
            m,
        };
        super::sigverify::verify_legacy(&e, &sig, bytes, vcert, &ctx, v)?;
    } else if key.is_none() {
        if let Some(c) = &cert {
            // Without the log, cosign judges the certificate at the current time.
            let trust = trust.as_ref().expect("resolved above");
            verify::check_certificate(c, trust, now, &m, v)?;
        }
    }
    eprintln!("Verified OK");
    Ok(())
}

fn load_cert(p: &Path) -> Result<Cert, Error> {
    let b = std::fs::read(p)
        .map_err(|e| Error::Io(format!("reading certificate {}: {e}", p.display())))?;
    let pem = B64.decode(String::from_utf8_lossy(&b).trim()).unwrap_or(b);
    Cert::from_pem_chain(&pem)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Verify(format!("{}: no certificate", p.display())))
}

/// `sign-blob`'s inputs beyond the shared signing options.
#[derive(Clone, Debug, Default)]
pub struct SignBlobOptions {
    pub sign: SignOptions,
    /// Where to write the bundle.
    pub bundle: Option<PathBuf>,
}

/// `cosign sign-blob`: signs `path` (`-` = stdin). With `--new-bundle-format` (cosign v3's
/// default) writes a Sigstore bundle v0.3 (message signature, `hashedrekord` entry, TSA
/// timestamp when the signing config names one); otherwise prints the base64 signature
/// and writes cosign's legacy blob bundle when `--bundle` is given.
pub async fn sign_blob(path: &str, o: &SignBlobOptions) -> Result<(), Error> {
    let so = &o.sign;
    if so.new_bundle_format && o.bundle.is_none() {
        return Err(Error::Usage(
            "must specify --bundle with --new-bundle-format".into(),
        ));
    }
    let data = if path == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)
            .map_err(|e| Error::Io(format!("reading payload: {e}")))?;
        b
    } else {
        eprintln!("Using payload from: {path}");
        std::fs::read(path).map_err(|e| Error::Io(format!("reading payload: open {path}: {e}")))?
    };
    let http = sign::http_client()?;
    let ep = sign::endpoints(so).await?;
    let trust = sign::signing_trust(so).await?;
    let signer = sign::make_signer(so, &http, &ep, trust.as_ref()).await?;
    sign::confirm_upload(so)?;
    let digest = pki::sha256(&data);
    let sig = signer.key.sign(&data);

    let mut timestamp = None;
    if so.new_bundle_format {
        if let Some(url) = &ep.tsa_url {
            let tsas = trust
                .as_ref()
                .map(|t| t.tsas.as_slice())
                .filter(|t| !t.is_empty());
            timestamp = Some(super::tsa::request(&http, url, &sig, tsas).await?);
        }
    }
    let entry = if so.tlog_upload {
        let proposed = rekor::hashedrekord(&sig, &signer.verifier_pem(), &digest);
        Some(sign::log_entry(&http, &ep, &proposed, trust.as_ref(), signer.cert.is_some()).await?)
    } else {
        None
    };

    if so.new_bundle_format {
        let mut vm = serde_json::Map::new();
        match &signer.cert {
            Some(c) => {
                vm.insert(
                    "certificate".into(),
                    json!({ "rawBytes": B64.encode(&c.leaf.der) }),
                );
            }
            None => {
                let hint = B64.encode(pki::sha256(&signer.key.public_key().spki_der()));
                vm.insert("publicKey".into(), json!({ "hint": hint }));
            }
        }
        let entries = match &entry {
            Some(e) => vec![rekor::to_bundle_tlog_entry(e, "hashedrekord")?],
            None => Vec::new(),
        };
        vm.insert("tlogEntries".into(), Value::Array(entries));
        if let Some(ts) = &timestamp {
            vm.insert(
                "timestampVerificationData".into(),
                super::tsa::bundle_json(ts),
            );
        }
        let bundle = json!({
            "mediaType": BUNDLE_MEDIA_TYPE,
            "verificationMaterial": Value::Object(vm),
            "messageSignature": {
                "messageDigest": { "algorithm": "SHA2_256", "digest": B64.encode(digest) },
                "signature": B64.encode(&sig),
            },
        });
        let p = o.bundle.as_ref().expect("checked above");
        let bytes = serde_json::to_vec(&bundle).expect("serialising JSON cannot fail");
        super::keys::write_atomic(p, &bytes, 0o600)?;
        eprintln!("Wrote bundle to file {}", p.display());
        return Ok(());
    }

    let sig_b64 = B64.encode(&sig);
    if let Some(p) = &o.bundle {
        let mut b = serde_json::Map::new();
        b.insert("base64Signature".into(), json!(sig_b64));
        b.insert(
            "cert".into(),
            json!(B64.encode(signer.verifier_pem().as_bytes())),
        );
        if let Some(e) = &entry {
            let rb: Value = serde_json::from_str(&rekor::cosign_bundle_json(e))
                .expect("cosign bundle JSON is valid");
            b.insert("rekorBundle".into(), rb);
        }
        let bytes = serde_json::to_vec(&Value::Object(b)).expect("serialising JSON cannot fail");
        super::keys::write_atomic(p, &bytes, 0o600)?;
        eprintln!("Wrote bundle to file {}", p.display());
    }
    match &so.output_signature {
        Some(p) => {
            super::keys::write_atomic(p, sig_b64.as_bytes(), 0o600)?;
            eprintln!("Wrote signature to file {}", p.display());
        }
        None => println!("{sig_b64}"),
    }
    if let (Some(p), Some(c)) = (&so.output_certificate, &signer.cert) {
        super::keys::write_atomic(p, B64.encode(c.leaf.to_pem()).as_bytes(), 0o600)?;
        eprintln!("Wrote certificate to file {}", p.display());
    }
    Ok(())
}

//! Sigstore bundle verification of blobs (`verify-blob`, `verify-blob-attestation`) on
//! sigstore-verify, the Sigstore project's Rust verifier (docs/cosign.md, "sigstore-verify,
//! measured"), with oxtask's policy around it: identity and issuer regexps (the crate
//! matches exactly, so it runs with `any_identity` and the certificate is matched here),
//! `--use-signed-timestamps` (the crate has no such knob), and the checks where oxtask is
//! stricter than the crate (more than 32 or duplicate log entries, a Rekor checkpoint
//! origin that is not the log's host, a chain carrying a trust anchor, no log entry at all).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use sigstore_verify::trust_root::TrustedRoot as CoreRoot;
use sigstore_verify::types::{Artifact, Bundle, DerPublicKey, Sha256Hash};
use sigstore_verify::{
    PublicKeyVerificationPolicy, VerificationPolicy, VerificationResult, Verifier,
};

use super::payload::INTOTO_PAYLOAD_TYPE;
use super::pki::Cert;
use super::rekor::{self, LogEntry};
use super::verify::{self, Ctx, Subject, VerifiedSignature, VerifyOptions};
use super::Error;

/// The SHA-256 an image digest (`sha256:HEX`) names.
fn image_sha256(digest: &str) -> Result<[u8; 32], Error> {
    digest
        .strip_prefix("sha256:")
        .and_then(super::pki::unhex)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| Error::Verify(format!("image digest {digest:?} is not sha256:HEX")))
}

fn refused(e: impl std::fmt::Display) -> Error {
    Error::Verify(format!("bundle verification failed: {e}"))
}

/// The bundle's signing certificate (v0.3 `certificate`, or the leaf of a v0.1/v0.2
/// `x509CertificateChain`), parsed.
fn signing_cert(vm: &Value) -> Result<Option<Cert>, Error> {
    let raw = match vm["certificate"]["rawBytes"].as_str() {
        Some(r) => Some(r),
        None => vm["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str(),
    };
    raw.map(|r| {
        let der = B64
            .decode(r)
            .map_err(|_| Error::Verify("bundle certificate is not base64".into()))?;
        Cert::from_der(&der)
    })
    .transpose()
}

/// Verifies a Sigstore bundle about `subject`: for a blob, a message signature over it or a
/// DSSE envelope holding an in-toto statement that names it; for an image (signature or
/// attestation), a DSSE envelope whose statement names the image digest. The DSSE payload
/// is returned for the caller's predicate check.
pub(crate) fn verify_bundle(
    bytes: &[u8],
    subject: Subject,
    ctx: &Ctx,
    o: &VerifyOptions,
) -> Result<VerifiedSignature, Error> {
    let b: Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::Verify(format!("bundle is not JSON: {e}")))?;
    let version = verify::bundle_version(b["mediaType"].as_str().unwrap_or_default())?;
    let vm = &b["verificationMaterial"];
    if !vm.is_object() {
        return Err(Error::Verify("bundle has no verificationMaterial".into()));
    }
    if !vm["x509CertificateChain"].is_null() && version >= verify::BundleVersion::V0_3 {
        return Err(Error::Verify(
            "bundle v0.3 verification material must be a single certificate, not an x509CertificateChain".into(),
        ));
    }

    if !matches!(subject, Subject::Blob(_)) && b["dsseEnvelope"].is_null() {
        return Err(Error::Verify(
            "bundle holds a message signature, not the DSSE envelope of an image signature".into(),
        ));
    }
    // oxtask's pre-checks, stricter than the crate.
    let entries = verify::bundle_tlog_entries(vm)?;
    let mut parsed: Vec<LogEntry> = Vec::with_capacity(entries.len());
    for v in &entries {
        let e = rekor::from_bundle_tlog_entry(v)?;
        if parsed
            .iter()
            .any(|p| p.log_id == e.log_id && p.log_index == e.log_index)
        {
            return Err(Error::Verify(
                "bundle has duplicate transparency log entries".into(),
            ));
        }
        parsed.push(e);
    }
    check_log_times(&parsed)?;
    if !o.insecure_ignore_tlog {
        let trust = verify::need_trust(ctx)?;
        if parsed.is_empty() {
            return Err(Error::Verify("bundle has no transparency log entry".into()));
        }
        for e in &parsed {
            rekor::check_checkpoint_origin(e, trust)?;
        }
    }
    let cert = match &ctx.key {
        Some(_) => None,
        None => Some(
            signing_cert(vm)?
                .ok_or_else(|| Error::NoCertificate("no certificate found in bundle".into()))?,
        ),
    };
    if ctx.key.is_none() && !vm["x509CertificateChain"].is_null() {
        verify::check_bundle_chain(&vm["x509CertificateChain"], verify::need_trust(ctx)?)?;
    }
    // The signature (and a message signature's digest) checked first with the bundle's key,
    // so a forged signature is refused as such even where the crate would first trip on
    // something bound to the original signature (an RFC 3161 token over it, a log entry).
    let key = match (&ctx.key, &cert) {
        (Some(k), _) => k.clone(),
        (None, Some(c)) => c.public_key()?,
        (None, None) => unreachable!("keyless verification has a certificate here"),
    };
    verify::bundle_content(&b, &key, subject)?;
    let stamps = &vm["timestampVerificationData"]["rfc3161Timestamps"];
    if o.use_signed_timestamps && stamps.as_array().is_none_or(Vec::is_empty) {
        return Err(Error::Verify(
            "--use-signed-timestamps: the bundle has no RFC 3161 timestamp".into(),
        ));
    }

    let digest = |hex: &[u8; 32]| {
        Sha256Hash::try_from(hex.as_slice())
            .map(Artifact::from_digest)
            .map_err(refused)
    };
    let artifact = match subject {
        Subject::Blob(blob) => match &blob.bytes {
            Some(b) => Artifact::from_blob(b),
            None => digest(&blob.sha256)?,
        },
        Subject::Image(t) | Subject::Attestation(t) => digest(&image_sha256(&t.digest)?)?,
    };
    let result = run_core(&String::from_utf8_lossy(bytes), artifact, ctx, o)?;

    // oxtask's policy after it.
    if let Some(c) = &cert {
        if !result.certificate_verified() {
            return Err(Error::Verify(
                "the signing certificate was not verified".into(),
            ));
        }
        ctx.m.check(c)?;
    }
    if o.use_signed_timestamps && result.verified_timestamps().is_empty() {
        return Err(Error::Verify(
            "--use-signed-timestamps: no RFC 3161 timestamp verified".into(),
        ));
    }
    let payload = match b["dsseEnvelope"]["payload"].as_str() {
        Some(p) => {
            let payload = B64
                .decode(p)
                .map_err(|_| Error::Verify("DSSE payload is not base64".into()))?;
            let payload_type = b["dsseEnvelope"]["payloadType"]
                .as_str()
                .unwrap_or_default();
            if payload_type != INTOTO_PAYLOAD_TYPE {
                return Err(Error::Verify(
                    "bundle does not hold an in-toto DSSE envelope".into(),
                ));
            }
            match subject {
                Subject::Blob(blob) => verify::check_blob_statement(payload_type, &payload, blob)?,
                Subject::Image(t) => verify::check_image_statement(&payload, t)?,
                Subject::Attestation(t) => {
                    verify::check_statement_digest(&payload, t)?;
                }
            }
            payload
        }
        None => Vec::new(),
    };
    Ok(VerifiedSignature {
        subject: cert
            .as_ref()
            .and_then(|c| c.san_identities().into_iter().next()),
        issuer: cert.as_ref().and_then(Cert::oidc_issuer),
        payload,
        certificate: cert,
        tlog_entry: if o.insecure_ignore_tlog {
            None
        } else {
            parsed.into_iter().next()
        },
    })
}

/// sigstore-verify itself: the bundle against the trusted root, with an any-identity
/// (keyless) or public-key policy.
fn run_core(
    bundle_json: &str,
    artifact: Artifact,
    ctx: &Ctx,
    o: &VerifyOptions,
) -> Result<VerificationResult, Error> {
    // The core.
    super::crypto::install();
    // Callers route --insecure-ignore-tlog elsewhere, so a trusted root is always needed.
    let trust = verify::need_trust(ctx)?;
    if trust.json.is_empty() {
        return Err(Error::Trust("trusted root: no JSON to verify with".into()));
    }
    let root_json = String::from_utf8_lossy(&trust.json);
    let root =
        CoreRoot::from_json(&root_json).map_err(|e| Error::Trust(format!("trusted root: {e}")))?;
    let verifier = Verifier::new(&root).map_err(|e| Error::Trust(format!("trusted root: {e}")))?;
    let bundle =
        Bundle::from_json(bundle_json).map_err(|e| Error::Verify(format!("bundle: {e}")))?;
    match &ctx.key {
        Some(k) => {
            let mut p = PublicKeyVerificationPolicy::new(DerPublicKey::from(k.spki_der()));
            if o.insecure_ignore_tlog {
                p = p.skip_tlog_unsafe();
            }
            verifier.verify(artifact, &bundle, &p)
        }
        None => {
            let mut p = VerificationPolicy::any_identity();
            if o.insecure_ignore_tlog {
                p = p.skip_tlog_unsafe();
            }
            if o.insecure_ignore_sct {
                p = p.skip_sct();
            }
            verifier.verify(artifact, &bundle, &p)
        }
    }
    .map_err(refused)
}

/// Log entries with an integrated time in the future are refused here, naming it (the
/// crate's bundle parser refuses far-future times as out of range, without saying so).
fn check_log_times(entries: &[LogEntry]) -> Result<(), Error> {
    let now = super::oidc::now();
    for e in entries {
        if e.integrated_time > 0
            && e.integrated_time as u64 > now.saturating_add(rekor::MAX_CLOCK_SKEW_SECS)
        {
            return Err(Error::Verify(format!(
                "transparency log entry: integrated time {} is in the future",
                e.integrated_time
            )));
        }
    }
    Ok(())
}

/// The legacy `.sig` layout (simple-signing payload, signature, certificate and cosign's
/// bundle annotation with its SET) as the v0.1 bundle cosign makes of it internally: a
/// message signature over the payload and the `hashedrekord` entry with its SET, verified
/// by the same core. The caller has checked the signature and checks the payload.
pub(crate) fn verify_legacy(
    e: &LogEntry,
    sig: &[u8],
    payload: &[u8],
    cert: Option<&Cert>,
    ctx: &Ctx,
    o: &VerifyOptions,
) -> Result<(), Error> {
    let trust = verify::need_trust(ctx)?;
    check_log_times(std::slice::from_ref(e))?;
    rekor::check_checkpoint_origin(e, trust)?;
    let mut vm = json!({ "tlogEntries": [rekor::to_bundle_tlog_entry(e, "hashedrekord")?] });
    match cert {
        Some(c) => {
            vm["x509CertificateChain"] =
                json!({ "certificates": [{ "rawBytes": B64.encode(&c.der) }] })
        }
        None => vm["publicKey"] = json!({ "hint": "" }),
    }
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "verificationMaterial": vm,
        "messageSignature": { "signature": B64.encode(sig) },
    });
    let result = run_core(&bundle.to_string(), Artifact::from_blob(payload), ctx, o)?;
    if let Some(c) = cert {
        if !result.certificate_verified() {
            return Err(Error::Verify(
                "the signing certificate was not verified".into(),
            ));
        }
        ctx.m.check(c)?;
    }
    Ok(())
}

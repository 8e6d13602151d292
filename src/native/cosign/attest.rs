//! `cosign attest-blob` and `cosign verify-blob-attestation`: an in-toto statement about a
//! file (its SHA-256 as the subject, a predicate and its type), signed as a DSSE envelope
//! and written as a Sigstore bundle v0.3 with a `dsse` log entry. Verification is the
//! bundle verifier's ([`super::verify`]): signature, log entry, certificate and identity,
//! the subject digest against the artifact; then the predicate type.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

use super::blob::load_blob;
use super::payload::{self, INTOTO_PAYLOAD_TYPE, INTOTO_STATEMENT_V1};
use super::pki;
use super::rekor;
use super::sign::{self, SignOptions};
use super::store::BUNDLE_MEDIA_TYPE;
use super::verify::{self, Blob, Ctx, Matchers, Subject, VerifyOptions};
use super::Error;

/// cosign's predicate type for `--type custom` (the predicate file wrapped as `Data`).
pub const CUSTOM_PREDICATE: &str = "https://cosign.sigstore.dev/attestation/v1";

/// `--type`: cosign's names for predicate types and the URIs they stand for; anything
/// else must be a URI (absolute, or an absolute path as Go's `url.ParseRequestURI`).
pub fn predicate_type_uri(t: &str) -> Result<String, Error> {
    let uri = match t {
        "custom" => CUSTOM_PREDICATE,
        "slsaprovenance" | "slsaprovenance02" => "https://slsa.dev/provenance/v0.2",
        "slsaprovenance1" => "https://slsa.dev/provenance/v1",
        "spdx" | "spdxjson" => "https://spdx.dev/Document",
        "cyclonedx" => "https://cyclonedx.org/bom",
        "link" => "https://in-toto.io/Link/v1",
        "vuln" => "https://cosign.sigstore.dev/attestation/vuln/v1",
        "openvex" => "https://openvex.dev/ns",
        _ => {
            let scheme_ok = t.split_once(':').is_some_and(|(s, rest)| {
                !s.is_empty()
                    && !rest.is_empty()
                    && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            });
            if (scheme_ok || t.starts_with('/')) && !t.chars().any(char::is_whitespace) {
                return Ok(t.to_string());
            }
            return Err(Error::Usage(format!("invalid predicate type: {t}")));
        }
    };
    Ok(uri.to_string())
}

/// The in-toto statement cosign makes for `--predicate`/`--type`: subject `name` (the
/// file's base name) with its SHA-256; the predicate as cosign shapes it per type.
pub fn statement(
    name: &str,
    sha256_hex: &str,
    predicate: &[u8],
    type_flag: &str,
    now_rfc3339: &str,
) -> Result<Vec<u8>, Error> {
    let uri = predicate_type_uri(type_flag)?;
    let pred: Value = if uri == CUSTOM_PREDICATE {
        json!({
            "Data": String::from_utf8_lossy(predicate),
            "Timestamp": now_rfc3339,
        })
    } else if type_flag == "spdx" {
        // cosign's legacy SPDX predicate: the document as a string.
        Value::String(String::from_utf8_lossy(predicate).into_owned())
    } else {
        let v: Value = serde_json::from_slice(predicate).map_err(|e| {
            Error::Usage(format!(
                "invalid JSON payload for predicate type {uri}: {e}"
            ))
        })?;
        if !v.is_object() {
            return Err(Error::Usage(format!(
                "invalid JSON payload for predicate type {uri}: the predicate must be a JSON object"
            )));
        }
        v
    };
    let st = json!({
        "_type": INTOTO_STATEMENT_V1,
        "subject": [{ "name": name, "digest": { "sha256": sha256_hex } }],
        "predicateType": uri,
        "predicate": pred,
    });
    Ok(serde_json::to_vec(&st).expect("serialising JSON cannot fail"))
}

/// A statement given with `--statement`: an in-toto statement (v1 or v0.1) with a
/// subject and a predicate type.
fn check_statement(b: &[u8]) -> Result<(), Error> {
    let v: Value =
        serde_json::from_slice(b).map_err(|e| Error::Usage(format!("invalid statement: {e}")))?;
    let ty = v["_type"].as_str().unwrap_or_default();
    if !ty.starts_with("https://in-toto.io/Statement/") {
        return Err(Error::Usage(
            "invalid statement: _type is not an in-toto statement".into(),
        ));
    }
    if v["predicateType"].as_str().unwrap_or_default().is_empty() {
        return Err(Error::Usage("invalid statement: no predicateType".into()));
    }
    if v["subject"].as_array().is_none_or(|s| s.is_empty()) {
        return Err(Error::Usage("invalid statement: no subject".into()));
    }
    Ok(())
}

/// `attest-blob`'s inputs beyond the shared signing options.
#[derive(Clone, Debug, Default)]
pub struct AttestBlobOptions {
    pub sign: SignOptions,
    pub bundle: Option<PathBuf>,
    pub predicate: Option<PathBuf>,
    pub statement: Option<PathBuf>,
    /// `--type` (default `custom`).
    pub predicate_type: String,
    /// `--hash`: the artifact's SHA-256 (hex) instead of reading it.
    pub hash: Option<String>,
}

fn read_file(p: &Path, what: &str) -> Result<Vec<u8>, Error> {
    std::fs::read(p)
        .map_err(|e| Error::Io(format!("could not read {what}: open {}: {e}", p.display())))
}

/// `cosign attest-blob`: writes a Sigstore bundle v0.3 holding the DSSE-signed statement.
pub async fn attest_blob(artifact: Option<&str>, o: &AttestBlobOptions) -> Result<(), Error> {
    let so = &o.sign;
    if !so.new_bundle_format {
        return Err(Error::Usage(
            "oxtask's attest-blob writes Sigstore bundles only: --new-bundle-format=false is not supported".into(),
        ));
    }
    let Some(bundle_path) = &o.bundle else {
        return Err(Error::Usage(
            "must specify --bundle with --new-bundle-format".into(),
        ));
    };
    let statement = match (&o.predicate, &o.statement) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(Error::Usage(
                "one of --predicate or --statement must be set".into(),
            ))
        }
        (None, Some(p)) => {
            eprintln!("Using statement from: {}", p.display());
            let b = read_file(p, "statement")?;
            check_statement(&b)?;
            b
        }
        (Some(p), None) => {
            let art = artifact.ok_or_else(|| {
                Error::Usage("attest-blob needs the artifact (a file, or - for stdin)".into())
            })?;
            let hex = match &o.hash {
                Some(h) => {
                    let h = h.to_ascii_lowercase();
                    if pki::unhex(&h).is_none_or(|d| d.len() != 32) {
                        return Err(Error::Usage(format!(
                            "invalid --hash {h:?}: expected 64 hex digits (SHA-256)"
                        )));
                    }
                    h
                }
                None => {
                    let data = if art == "-" {
                        let mut b = Vec::new();
                        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)
                            .map_err(|e| Error::Io(format!("reading payload: {e}")))?;
                        b
                    } else {
                        eprintln!("Using payload from: {art}");
                        std::fs::read(art).map_err(|e| Error::Io(format!("open {art}: {e}")))?
                    };
                    pki::hex(&pki::sha256(&data))
                }
            };
            let name = Path::new(art)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| art.to_string());
            let pred = read_file(p, "predicate")?;
            statement(&name, &hex, &pred, &o.predicate_type, &sign::rfc3339_now())?
        }
    };

    let bytes = dsse_bundle(so, &statement).await?;
    super::keys::write_atomic(bundle_path, &bytes, 0o600)?;
    eprintln!("Wrote bundle to file {}", bundle_path.display());
    Ok(())
}

/// Signs `statement` as a DSSE envelope (key, else keyless) and returns the Sigstore
/// bundle v0.3: verification material, the TSA's timestamp when the signing config names
/// one, the `dsse` log entry unless `--tlog-upload=false`.
async fn dsse_bundle(so: &SignOptions, statement: &[u8]) -> Result<Vec<u8>, Error> {
    let http = sign::http_client()?;
    let ep = sign::endpoints(so).await?;
    let trust = sign::signing_trust(so).await?;
    let signer = sign::make_signer(so, &http, &ep, trust.as_ref()).await?;
    sign::confirm_upload(so)?;
    let sig = signer
        .key
        .sign(&payload::pae(INTOTO_PAYLOAD_TYPE, statement));
    let envelope = payload::envelope_json(INTOTO_PAYLOAD_TYPE, statement, &sig);

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
    if let Some(url) = &ep.tsa_url {
        let tsas = trust
            .as_ref()
            .map(|t| t.tsas.as_slice())
            .filter(|t| !t.is_empty());
        let ts = super::tsa::request(&http, url, &sig, tsas).await?;
        vm.insert(
            "timestampVerificationData".into(),
            super::tsa::bundle_json(&ts),
        );
    }
    let mut entries = Vec::new();
    if so.tlog_upload {
        let proposed = rekor::dsse(&envelope.to_string(), &signer.verifier_pem());
        let e =
            sign::log_entry(&http, &ep, &proposed, trust.as_ref(), signer.cert.is_some()).await?;
        entries.push(rekor::to_bundle_tlog_entry(&e, "dsse")?);
    }
    vm.insert("tlogEntries".into(), Value::Array(entries));
    let bundle = json!({
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": Value::Object(vm),
        "dsseEnvelope": envelope,
    });
    let bytes = serde_json::to_vec(&bundle).expect("serialising JSON cannot fail");
    Ok(bytes)
}

/// `verify-blob-attestation`'s inputs beyond the shared verification options.
#[derive(Clone, Debug, Default)]
pub struct VerifyBlobAttestationOptions {
    pub verify: VerifyOptions,
    pub bundle: Option<PathBuf>,
    /// `--type` (default `custom`).
    pub predicate_type: String,
    /// `--digest` (hex) with `--digestAlg` (sha256 only), when no artifact is given.
    pub digest: Option<String>,
    pub digest_alg: Option<String>,
    pub new_bundle_format: bool,
}

/// `cosign verify-blob-attestation`: Ok when the bundle's attestation passes every check.
pub async fn verify_blob_attestation(
    artifact: Option<&str>,
    o: &VerifyBlobAttestationOptions,
) -> Result<(), Error> {
    inner(artifact, o).await.map_err(|e| match e {
        Error::NoCertificate(m)
        | Error::NoMatching(m)
        | Error::NoSignatures(m)
        | Error::NotFound(m) => Error::Verify(m),
        e => e,
    })
}

async fn inner(artifact: Option<&str>, o: &VerifyBlobAttestationOptions) -> Result<(), Error> {
    let v = &o.verify;
    let Some(bundle_path) = &o.bundle else {
        return Err(Error::Usage(
            "please specify path to the DSSE envelope signature via --signature or --bundle".into(),
        ));
    };
    if !o.new_bundle_format {
        return Err(Error::Usage(
            "oxtask verifies attestations in Sigstore bundles only: --new-bundle-format=false is not supported".into(),
        ));
    }
    let n = |x: bool| usize::from(x);
    if n(v.key.is_some())
        + n(v.certificate_identity.is_some())
        + n(v.certificate_identity_regexp.is_some())
        > 1
    {
        return Err(Error::Usage(
            "exactly one of: key reference (--key) or certificate identity \
             (--certificate-identity or --certificate-identity-regexp), must be provided"
                .into(),
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
    let want_type = predicate_type_uri(&o.predicate_type)?;
    // The artifact: a file (its digest is computed), else --digest/--digestAlg, else a
    // sha256:HEX argument. Without one the subject cannot be checked: refused.
    let blob: Blob = match (artifact, &o.digest) {
        (Some(a), d) => {
            if d.is_some() {
                eprintln!("WARNING: Ignoring provided --digest in favor of provided blob");
            }
            load_blob(a)?
        }
        (None, Some(d)) => {
            let alg = o.digest_alg.as_deref().unwrap_or("sha256");
            if alg != "sha256" {
                return Err(Error::Usage(format!(
                    "unsupported --digestAlg {alg:?}: oxtask checks sha256 subjects only"
                )));
            }
            load_blob(&format!("sha256:{}", d.to_ascii_lowercase()))?
        }
        (None, None) => {
            return Err(Error::Usage(
                "provide the artifact, or its digest with --digest (the statement's subject is always checked)".into(),
            ))
        }
    };
    let bytes = std::fs::read(bundle_path)
        .map_err(|e| Error::Io(format!("reading bundle {}: {e}", bundle_path.display())))?;
    let json: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Verify(format!("bundle {} is not JSON: {e}", bundle_path.display())))?;
    if json["dsseEnvelope"].is_null() {
        return Err(Error::Verify(
            "bundle does not contain a DSSE envelope".into(),
        ));
    }
    let m = Matchers::new(v)?;
    let key = v
        .key
        .as_deref()
        .map(super::keys::load_public_key)
        .transpose()?;
    let offline_key = key.is_some() && v.insecure_ignore_tlog;
    let trust = if offline_key && v.trusted_root.is_none() {
        None
    } else {
        match super::trust::resolve_trusted_root(v.trusted_root.as_deref()).await {
            Ok(t) => Some(t),
            Err(_) if offline_key => None,
            Err(e) => return Err(e),
        }
    };
    let ctx = Ctx { trust, key, m };
    let verified = verify::verify_bundle(&bytes, Subject::Blob(&blob), &ctx, v)?;
    let st: Value = serde_json::from_slice(&verified.payload)
        .map_err(|_| Error::Verify("in-toto statement is not JSON".into()))?;
    let got = st["predicateType"].as_str().unwrap_or_default();
    if got != want_type {
        return Err(Error::Verify(format!(
            "invalid predicate type, expected {} got {got}",
            o.predicate_type
        )));
    }
    eprintln!("Verified OK");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicate_types() {
        assert_eq!(predicate_type_uri("custom").unwrap(), CUSTOM_PREDICATE);
        assert_eq!(
            predicate_type_uri("slsaprovenance1").unwrap(),
            "https://slsa.dev/provenance/v1"
        );
        assert_eq!(
            predicate_type_uri("https://example.com/p/v1").unwrap(),
            "https://example.com/p/v1"
        );
        assert!(predicate_type_uri("notatype").is_err());
        assert!(predicate_type_uri("").is_err());
    }

    #[test]
    fn statements() {
        let h = "ab".repeat(32);
        let s = statement("a.txt", &h, b"hello", "custom", "2026-01-01T00:00:00Z").unwrap();
        let v: Value = serde_json::from_slice(&s).unwrap();
        assert_eq!(v["_type"], INTOTO_STATEMENT_V1);
        assert_eq!(v["subject"][0]["name"], "a.txt");
        assert_eq!(v["subject"][0]["digest"]["sha256"], h.as_str());
        assert_eq!(v["predicate"]["Data"], "hello");
        let s = statement("a", &h, br#"{"x":1}"#, "openvex", "t").unwrap();
        let v: Value = serde_json::from_slice(&s).unwrap();
        assert_eq!(v["predicateType"], "https://openvex.dev/ns");
        assert_eq!(v["predicate"]["x"], 1);
        assert!(statement("a", &h, b"not json", "cyclonedx", "t").is_err());
        assert!(statement("a", &h, b"[1]", "cyclonedx", "t").is_err());
        assert!(check_statement(b"{}").is_err());
        assert!(check_statement(b"nope").is_err());
    }
}

/// `attest`'s inputs beyond the shared signing options (registry options in `sign`).
#[derive(Clone, Debug, Default)]
pub struct AttestOptions {
    pub sign: SignOptions,
    pub predicate: PathBuf,
    /// `--type` (default `custom`).
    pub predicate_type: String,
}

/// `cosign attest IMAGE`: an in-toto statement about the image digest (subject name: the
/// repository), signed as a DSSE envelope in a Sigstore bundle and attached as an OCI 1.1
/// referrer (`dev.sigstore.bundle.predicateType` annotation), as cosign 3 does by default.
pub async fn attest_image(image: &str, o: &AttestOptions) -> Result<(), Error> {
    let so = &o.sign;
    if !so.new_bundle_format {
        return Err(Error::Usage(
            "oxtask's attest stores Sigstore bundles as OCI referrers only: --new-bundle-format=false (the .att tag) is not supported".into(),
        ));
    }
    let uri = predicate_type_uri(&o.predicate_type)?;
    let pred = read_file(&o.predicate, "predicate")?;
    if pred.is_empty() {
        return Err(Error::Usage("predicate cannot be empty".into()));
    }
    let (client, t) = super::store::open(image, &so.registry, true).await?;
    let (alg, hex) = t.digest.split_once(':').unwrap_or(("", ""));
    if alg != "sha256" {
        return Err(Error::Usage(format!(
            "unsupported image digest {}: only sha256",
            t.digest
        )));
    }
    let st = statement(
        &t.repo_name(),
        hex,
        &pred,
        &o.predicate_type,
        &sign::rfc3339_now(),
    )?;
    let bytes = dsse_bundle(so, &st).await?;
    if so.upload {
        eprintln!("Pushing attestation to: {}", t.repo_name());
        super::store::push_bundle_referrer(&client, &t, &bytes, &uri, &sign::rfc3339_now()).await?;
    }
    Ok(())
}

/// The DSSE envelope as cosign prints it (Go's JSON of its protobuf type): `payload`,
/// `payloadType`, `signatures` of `sig` and, only when not empty, `keyid`.
fn printed_envelope(env: &Value) -> Value {
    let sigs: Vec<Value> = env["signatures"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    let mut o = serde_json::Map::new();
                    o.insert("sig".into(), s["sig"].clone());
                    if let Some(k) = s["keyid"].as_str().filter(|k| !k.is_empty()) {
                        o.insert("keyid".into(), Value::String(k.to_string()));
                    }
                    Value::Object(o)
                })
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({
        "payload": env["payload"],
        "payloadType": env["payloadType"],
        "signatures": sigs,
    })
}

/// What `verify-attestation` found: the digest checked, and each passing attestation's
/// DSSE envelope (printed as cosign prints it) with the verification result.
pub struct AttestationVerification {
    pub verification: verify::Verification,
    pub envelopes: Vec<Value>,
}

/// `cosign verify-attestation IMAGE`: Ok when at least one Sigstore bundle referrer of
/// the image passes every check (signature, log, certificate and identity, statement
/// subject = the image digest) and has the `--type` predicate type. Every failure is
/// exit 1, as in cosign 3.1.1 (its attestation errors have no exit code of their own,
/// unlike `verify`'s 10/11/12).
pub async fn verify_attestation(
    image: &str,
    o: &VerifyOptions,
    type_flag: &str,
) -> Result<AttestationVerification, Error> {
    verify_attestation_inner(image, o, type_flag)
        .await
        .map_err(|e| match e {
            Error::NoCertificate(m)
            | Error::NoMatching(m)
            | Error::NoSignatures(m)
            | Error::NotFound(m) => Error::Verify(m),
            e => e,
        })
}

async fn verify_attestation_inner(
    image: &str,
    o: &VerifyOptions,
    type_flag: &str,
) -> Result<AttestationVerification, Error> {
    if o.key.is_none() {
        if o.certificate_identity.is_none() && o.certificate_identity_regexp.is_none() {
            return Err(Error::Usage(
                "--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode".into(),
            ));
        }
        if o.certificate_oidc_issuer.is_none() && o.certificate_oidc_issuer_regexp.is_none() {
            return Err(Error::Usage(
                "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode".into(),
            ));
        }
    } else if o.certificate_identity.is_some() || o.certificate_identity_regexp.is_some() {
        return Err(Error::Usage(
            "exactly one of: key reference (--key) or certificate identity \
             (--certificate-identity or --certificate-identity-regexp), must be provided"
                .into(),
        ));
    }
    let want = predicate_type_uri(type_flag)?;
    let m = Matchers::new(o)?;
    let key = o
        .key
        .as_deref()
        .map(super::keys::load_public_key)
        .transpose()?;
    let offline_key = key.is_some() && o.insecure_ignore_tlog;
    let trust = if offline_key && o.trusted_root.is_none() {
        None
    } else {
        match super::trust::resolve_trusted_root(o.trusted_root.as_deref()).await {
            Ok(t) => Some(t),
            Err(_) if offline_key => None,
            Err(e) => return Err(e),
        }
    };
    let ctx = Ctx { trust, key, m };
    let (client, t) = super::store::open(image, &o.registry, false).await?;
    let bundles = super::store::load_bundles(&client, &t).await?;
    if bundles.is_empty() {
        return Err(Error::Verify(format!(
            "no matching attestations: no Sigstore bundle is attached to {}@{}",
            t.repo_name(),
            t.digest
        )));
    }
    let mut ok = Vec::new();
    let mut envelopes = Vec::new();
    let mut reasons = Vec::new();
    // Predicate types of the attestations that verified, as cosign lists them when none
    // has the wanted one.
    let mut found_types = Vec::new();
    for b in &bundles {
        match verify::verify_bundle(b, Subject::Attestation(&t), &ctx, o) {
            Ok(vs) => {
                let got = serde_json::from_slice::<Value>(&vs.payload)
                    .ok()
                    .and_then(|st| st["predicateType"].as_str().map(str::to_string))
                    .unwrap_or_default();
                if got != want {
                    found_types.push(got);
                    continue;
                }
                let env = serde_json::from_slice::<Value>(b)
                    .map(|v| printed_envelope(&v["dsseEnvelope"]))
                    .unwrap_or(Value::Null);
                envelopes.push(env);
                ok.push(vs);
            }
            Err(e) => reasons.push(e.to_string()),
        }
    }
    if ok.is_empty() && found_types.is_empty() {
        return Err(Error::Verify(format!(
            "no matching attestations: {}",
            reasons.join("\n ")
        )));
    }
    if ok.is_empty() {
        return Err(Error::Verify(format!(
            "none of the attestations matched the predicate type: {type_flag}, found: {}",
            found_types.join(",")
        )));
    }
    Ok(AttestationVerification {
        verification: verify::Verification {
            target: t,
            signatures: ok,
            tlog_checked: !o.insecure_ignore_tlog,
            ca_checked: o.key.is_none(),
        },
        envelopes,
    })
}

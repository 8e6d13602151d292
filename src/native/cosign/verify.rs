//! `cosign verify`: every check cosign makes on an image signature, for both storage
//! layouts, and the library entry point [`verify_image`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use indexmap::IndexMap;
use regex::Regex;
use serde_json::{json, Value};

use super::payload::{self, parse_simple_signing, COSIGN_SIGN_PREDICATE, INTOTO_PAYLOAD_TYPE};
use super::pki::{self, verify_embedded_sct, Cert, PublicKey};
use super::rekor::{self, LogEntry};
use super::store::{
    self, RegistryOpts, SigLayer, Target, ANN_BUNDLE, ANN_CERTIFICATE, ANN_SIGNATURE,
};
use super::trust::{CertAuthority, TrustedRoot};
use super::Error;

/// What a signature must satisfy. Keyless needs an identity and an issuer (exact or
/// regexp, like cosign); `key` switches to key-based verification.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// `FILE` or `env://VAR` holding a PEM public key (or certificate).
    pub key: Option<String>,
    pub certificate_identity: Option<String>,
    pub certificate_identity_regexp: Option<String>,
    pub certificate_oidc_issuer: Option<String>,
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// Sigstore trusted root JSON; else `SIGSTORE_TRUSTED_ROOT`.
    pub trusted_root: Option<PathBuf>,
    pub insecure_ignore_tlog: bool,
    pub insecure_ignore_sct: bool,
    /// Require an RFC 3161 timestamp in each bundle (`--use-signed-timestamps`).
    pub use_signed_timestamps: bool,
    /// Look for Sigstore bundles (OCI referrers) instead of `.sig` tags.
    pub new_bundle_format: bool,
    /// Annotations the signed payload must carry (`-a k=v`).
    pub annotations: IndexMap<String, String>,
    pub registry: RegistryOpts,
}

/// One signature that passed every check.
#[derive(Clone, Debug)]
pub struct VerifiedSignature {
    /// The signed payload (simple-signing JSON, or the in-toto statement).
    pub payload: Vec<u8>,
    pub certificate: Option<Cert>,
    /// Certificate SAN (first) and OIDC issuer, for keyless signatures.
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub tlog_entry: Option<LogEntry>,
}

/// The outcome of `verify_image`: the digest checked and the signatures that passed.
#[derive(Clone, Debug)]
pub struct Verification {
    pub target: Target,
    pub signatures: Vec<VerifiedSignature>,
    pub tlog_checked: bool,
    pub ca_checked: bool,
}

pub(crate) struct Matchers {
    identity: Option<String>,
    identity_re: Option<Regex>,
    issuer: Option<String>,
    issuer_re: Option<Regex>,
}

impl Matchers {
    pub(crate) fn new(o: &VerifyOptions) -> Result<Matchers, Error> {
        let re = |s: &Option<String>, what: &str| -> Result<Option<Regex>, Error> {
            s.as_deref()
                .map(|r| Regex::new(r).map_err(|e| Error::Usage(format!("invalid {what}: {e}"))))
                .transpose()
        };
        Ok(Matchers {
            identity: o.certificate_identity.clone(),
            identity_re: re(
                &o.certificate_identity_regexp,
                "--certificate-identity-regexp",
            )?,
            issuer: o.certificate_oidc_issuer.clone(),
            issuer_re: re(
                &o.certificate_oidc_issuer_regexp,
                "--certificate-oidc-issuer-regexp",
            )?,
        })
    }

    /// cosign's rule: the issuer must match, and one SAN must match the identity.
    /// Regexps are searched unanchored, as Go's `MatchString` does.
    pub(crate) fn check(&self, cert: &Cert) -> Result<(), Error> {
        let issuer = cert.oidc_issuer().unwrap_or_default();
        let issuer_ok = match (&self.issuer, &self.issuer_re) {
            (Some(i), _) => *i == issuer,
            (None, Some(r)) => r.is_match(&issuer),
            (None, None) => true,
        };
        let sans = cert.san_identities();
        let id_ok = match (&self.identity, &self.identity_re) {
            (Some(i), _) => sans.iter().any(|s| s == i),
            (None, Some(r)) => sans.iter().any(|s| r.is_match(s)),
            (None, None) => true,
        };
        if issuer_ok && id_ok {
            Ok(())
        } else {
            Err(Error::Verify(format!(
                "none of the expected identities matched what was in the certificate, got subjects [{}] with issuer {}",
                sans.join(", "),
                issuer
            )))
        }
    }
}

/// Finds the trusted CA whose chain issued `leaf`, checking signatures up to a
/// self-signed root and every certificate's validity at time `at`.
pub fn chain_to_trusted_ca<'a>(
    leaf: &Cert,
    trust: &'a TrustedRoot,
    at: u64,
) -> Result<&'a CertAuthority, Error> {
    let valid = |c: &Cert| c.not_before() <= at && at <= c.not_after();
    for ca in &trust.cas {
        if ca.valid_from.is_some_and(|s| at < s) || ca.valid_until.is_some_and(|e| at > e) {
            continue;
        }
        let (Some(issuer), Some(root)) = (ca.chain.first(), ca.chain.last()) else {
            continue;
        };
        if leaf.verify_issued_by(issuer).is_err() {
            continue;
        }
        let links_ok = ca
            .chain
            .windows(2)
            .all(|w| w[0].verify_issued_by(&w[1]).is_ok() && w[1].is_ca());
        if !links_ok || root.verify_issued_by(root).is_err() || !issuer.is_ca() {
            continue;
        }
        if !valid(leaf) {
            return Err(Error::Verify(
                "certificate was not valid when the signature was made (outside its validity window)".into(),
            ));
        }
        if !ca.chain.iter().all(valid) {
            return Err(Error::Verify(
                "a CA certificate of the chain was not valid at signing time".into(),
            ));
        }
        return Ok(ca);
    }
    Err(Error::Verify(
        "certificate does not chain to a trusted Fulcio root (x509: certificate signed by unknown authority)".into(),
    ))
}

/// Checks a keyless certificate: code-signing use, chain, identity, SCT.
pub(crate) fn check_certificate(
    cert: &Cert,
    trust: &TrustedRoot,
    at: u64,
    m: &Matchers,
    o: &VerifyOptions,
) -> Result<(), Error> {
    if !cert.has_code_signing_eku() {
        return Err(Error::Verify(
            "certificate is not for code signing (extended key usage)".into(),
        ));
    }
    let ca = chain_to_trusted_ca(cert, trust, at)?;
    m.check(cert)?;
    if !o.insecure_ignore_sct {
        let issuer = ca
            .chain
            .first()
            .ok_or_else(|| Error::Trust("empty CA chain".into()))?;
        verify_embedded_sct(cert, issuer, &trust.ctlogs)?;
    }
    Ok(())
}

pub(crate) struct Ctx {
    pub(crate) trust: Option<TrustedRoot>,
    pub(crate) key: Option<PublicKey>,
    pub(crate) m: Matchers,
}

pub(crate) fn need_trust(ctx: &Ctx) -> Result<&TrustedRoot, Error> {
    ctx.trust.as_ref().ok_or_else(|| {
        Error::Trust(
            "no trusted root: pass --trusted-root FILE or set SIGSTORE_TRUSTED_ROOT \
             (or --insecure-ignore-tlog with --key)"
                .into(),
        )
    })
}

fn verify_legacy(
    l: &SigLayer,
    t: &Target,
    ctx: &Ctx,
    o: &VerifyOptions,
) -> Result<VerifiedSignature, Error> {
    let sig_b64 = l
        .annotation(ANN_SIGNATURE)
        .ok_or_else(|| Error::Verify("signature layer has no signature annotation".into()))?;
    let sig = B64
        .decode(sig_b64.trim())
        .map_err(|_| Error::Verify("signature annotation is not base64".into()))?;
    let cert = match (&ctx.key, l.annotation(ANN_CERTIFICATE)) {
        (Some(_), _) => None,
        (None, Some(p)) if !p.trim().is_empty() => Some(
            Cert::from_pem_chain(p.as_bytes())?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    Error::Verify("certificate annotation holds no certificate".into())
                })?,
        ),
        (None, _) => {
            return Err(Error::NoCertificate(
                "no certificate found on signature".into(),
            ))
        }
    };
    let key = match (&ctx.key, &cert) {
        (Some(k), _) => k.clone(),
        (None, Some(c)) => c.public_key()?,
        (None, None) => {
            return Err(Error::NoCertificate(
                "no certificate found on signature".into(),
            ))
        }
    };
    key.verify(&l.payload, &sig, key.default_hash())
        .map_err(|_| {
            Error::Verify("invalid signature when validating ASN.1 encoded signature".into())
        })?;

    let mut tlog_entry = None;
    if !o.insecure_ignore_tlog {
        need_trust(ctx)?;
        let b = l.annotation(ANN_BUNDLE).ok_or_else(|| {
            Error::Verify("signature not found in transparency log (no bundle annotation)".into())
        })?;
        let v: Value = serde_json::from_str(b)
            .map_err(|_| Error::Verify("bundle annotation is not JSON".into()))?;
        let e = rekor::from_cosign_bundle(&v)?;
        // As a v0.1 bundle through sigstore-verify: the SET proves the entry.
        super::sigverify::verify_legacy(&e, &sig, &l.payload, cert.as_ref(), ctx, o)?;
        tlog_entry = Some(e);
    } else if let Some(c) = &cert {
        // Without the log, cosign judges the certificate at the current time.
        check_certificate(c, need_trust(ctx)?, super::oidc::now(), &ctx.m, o)?;
    }
    let p = parse_simple_signing(&l.payload)?;
    if p.kind != "cosign container image signature" {
        return Err(Error::Verify(format!(
            "unexpected payload type {:?}",
            p.kind
        )));
    }
    if p.digest != t.digest {
        return Err(Error::Verify(format!(
            "invalid or missing digest in claim: payload names {}, image is {}",
            if p.digest.is_empty() {
                "nothing"
            } else {
                &p.digest
            },
            t.digest
        )));
    }
    for (k, v) in &o.annotations {
        if p.optional[k].as_str() != Some(v.as_str()) {
            return Err(Error::Verify(format!(
                "missing or incorrect annotation {k}={v}"
            )));
        }
    }
    Ok(VerifiedSignature {
        subject: cert
            .as_ref()
            .and_then(|c| c.san_identities().into_iter().next()),
        issuer: cert.as_ref().and_then(Cert::oidc_issuer),
        payload: l.payload.clone(),
        certificate: cert,
        tlog_entry,
    })
}

/// At most this many transparency log entries in a bundle (as sigstore-go).
pub(crate) const MAX_TLOG_ENTRIES: usize = 32;

/// The Sigstore bundle versions this verifier knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum BundleVersion {
    V0_1,
    V0_2,
    V0_3,
}

impl BundleVersion {
    fn name(self) -> &'static str {
        match self {
            BundleVersion::V0_1 => "v0.1",
            BundleVersion::V0_2 => "v0.2",
            BundleVersion::V0_3 => "v0.3",
        }
    }
}

/// The bundle version a media type names; anything but the known media types is refused.
pub(crate) fn bundle_version(mt: &str) -> Result<BundleVersion, Error> {
    match mt {
        "application/vnd.dev.sigstore.bundle+json;version=0.1" => Ok(BundleVersion::V0_1),
        "application/vnd.dev.sigstore.bundle+json;version=0.2" => Ok(BundleVersion::V0_2),
        "application/vnd.dev.sigstore.bundle+json;version=0.3"
        | "application/vnd.dev.sigstore.bundle.v0.3+json" => Ok(BundleVersion::V0_3),
        _ => Err(Error::Verify(format!(
            "unsupported bundle media type {mt:?} (known: bundle v0.1, v0.2, v0.3)"
        ))),
    }
}

/// A (v0.1/v0.2) bundle's certificate chain must not carry a trust anchor: the roots
/// come from the trusted root only. Refuses self-signed certificates and any certificate
/// that is a trusted CA's root.
pub(crate) fn check_bundle_chain(chain: &Value, trust: &TrustedRoot) -> Result<(), Error> {
    let certs = chain["certificates"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, c) in certs.iter().enumerate() {
        let der = c["rawBytes"]
            .as_str()
            .and_then(|d| B64.decode(d).ok())
            .ok_or_else(|| {
                Error::Verify(format!(
                    "bundle x509CertificateChain: certificate {i} is not base64"
                ))
            })?;
        let cert = Cert::from_der(&der)?;
        let is_root = cert.verify_issued_by(&cert).is_ok()
            || trust
                .cas
                .iter()
                .any(|ca| ca.chain.last().is_some_and(|r| r.der == der));
        if is_root {
            return Err(Error::Verify(
                "bundle x509CertificateChain includes a root certificate (trust anchor); \
                 roots must come from the trusted root only"
                    .into(),
            ));
        }
    }
    Ok(())
}

/// What a bundle must be about.
#[derive(Clone, Copy)]
pub(crate) enum Subject<'a> {
    /// An image digest: a DSSE envelope holding cosign's in-toto statement for it.
    Image(&'a Target),
    /// A blob: a message signature over it, or an in-toto statement naming it.
    Blob(&'a Blob),
    /// An image digest: a DSSE envelope holding an in-toto statement (any predicate type:
    /// the caller checks it) naming the digest.
    Attestation(&'a Target),
}

/// The artifact `verify-blob` checks: its SHA-256 digest, and its bytes when given as a
/// file (a `sha256:HEX` argument gives the digest only).
#[derive(Clone, Debug)]
pub struct Blob {
    pub sha256: [u8; 32],
    pub bytes: Option<Vec<u8>>,
}

impl Blob {
    pub fn from_bytes(bytes: Vec<u8>) -> Blob {
        Blob {
            sha256: pki::sha256(&bytes),
            bytes: Some(bytes),
        }
    }
}

/// The signed content of a bundle.
pub(crate) enum Content {
    /// DSSE envelope: the payload (PAE-signed).
    Dsse {
        payload_type: String,
        payload: Vec<u8>,
    },
    /// Message signature over the artifact, with the digest the bundle claims for it.
    Message,
}

fn message_hash(alg: &str) -> Result<pki::Hash, Error> {
    match alg {
        "SHA2_256" => Ok(pki::Hash::Sha256),
        "SHA2_384" => Ok(pki::Hash::Sha384),
        "SHA2_512" => Ok(pki::Hash::Sha512),
        _ => Err(Error::Verify(format!(
            "bundle messageDigest: unsupported hash algorithm {alg:?}"
        ))),
    }
}

/// Reads and checks a bundle's signed content against `key`; returns the signature bytes
/// and what was signed. A message signature must be over `blob` and its `messageDigest`
/// must be the blob's digest.
pub(crate) fn bundle_content(
    b: &Value,
    key: &PublicKey,
    subject: Subject,
) -> Result<(Vec<u8>, Content), Error> {
    let env = &b["dsseEnvelope"];
    let msg = &b["messageSignature"];
    match (env.is_null(), msg.is_null()) {
        (false, false) => {
            return Err(Error::Verify(
                "bundle holds both a dsseEnvelope and a messageSignature".into(),
            ))
        }
        (true, true) => {
            return Err(Error::Verify(
                "bundle holds neither a dsseEnvelope nor a messageSignature".into(),
            ))
        }
        _ => {}
    }
    if !env.is_null() {
        let payload_type = env["payloadType"].as_str().unwrap_or_default().to_string();
        if payload_type != INTOTO_PAYLOAD_TYPE {
            return Err(Error::Verify(
                "bundle does not hold an in-toto DSSE envelope".into(),
            ));
        }
        let payload = env["payload"]
            .as_str()
            .and_then(|p| B64.decode(p).ok())
            .ok_or_else(|| Error::Verify("DSSE payload is not base64".into()))?;
        let sigs = env["signatures"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        if sigs.len() != 1 {
            return Err(Error::Verify(
                "DSSE envelope must carry exactly one signature".into(),
            ));
        }
        let sig = sigs[0]["sig"]
            .as_str()
            .and_then(|s| B64.decode(s).ok())
            .ok_or_else(|| Error::Verify("DSSE signature is not base64".into()))?;
        key.verify(
            &payload::pae(&payload_type, &payload),
            &sig,
            key.default_hash(),
        )
        .map_err(|_| Error::Verify("DSSE signature does not verify".into()))?;
        return Ok((
            sig,
            Content::Dsse {
                payload_type,
                payload,
            },
        ));
    }
    let Subject::Blob(blob) = subject else {
        return Err(Error::Verify(
            "bundle holds a message signature, not the DSSE envelope of an image signature".into(),
        ));
    };
    let sig = msg["signature"]
        .as_str()
        .and_then(|s| B64.decode(s).ok())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::Verify("bundle messageSignature: signature is not base64".into()))?;
    let md = &msg["messageDigest"];
    let alg = message_hash(md["algorithm"].as_str().unwrap_or_default())?;
    let claimed = md["digest"]
        .as_str()
        .and_then(|s| B64.decode(s).ok())
        .ok_or_else(|| Error::Verify("bundle messageDigest: digest is not base64".into()))?;
    let actual = match (&blob.bytes, alg) {
        (Some(bytes), _) => alg.digest(bytes),
        (None, pki::Hash::Sha256) => blob.sha256.to_vec(),
        (None, _) => {
            return Err(Error::Verify(
                "the bundle's message digest is not SHA-256; verify the artifact file, not its sha256: digest".into(),
            ))
        }
    };
    if claimed != actual {
        return Err(Error::Verify(
            "bundle messageDigest does not match the artifact's digest".into(),
        ));
    }
    let checked = match &blob.bytes {
        Some(bytes) => key.verify(bytes, &sig, key.default_hash()),
        None if key.default_hash() == pki::Hash::Sha256 => key.verify_digest(&blob.sha256, &sig),
        None => Err(Error::Verify(
            "this key signs SHA-384 digests; verify the artifact file, not its sha256: digest"
                .into(),
        )),
    };
    checked.map_err(|_| {
        Error::Verify("invalid signature when validating ASN.1 encoded signature".into())
    })?;
    Ok((sig, Content::Message))
}

pub(crate) fn verify_bundle(
    bytes: &[u8],
    subject: Subject,
    ctx: &Ctx,
    o: &VerifyOptions,
) -> Result<VerifiedSignature, Error> {
    // Bundles verify on sigstore-verify (super::sigverify), except under
    // --insecure-ignore-tlog: cosign then accepts a bundle with neither log entry nor
    // timestamp, judged at the current time; the crate refuses such bundles.
    if !o.insecure_ignore_tlog {
        return super::sigverify::verify_bundle(bytes, subject, ctx, o);
    }
    let b: Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::Verify(format!("bundle is not JSON: {e}")))?;
    let mt = b["mediaType"].as_str().unwrap_or_default();
    let version = bundle_version(mt)?;
    let vm = &b["verificationMaterial"];
    if !vm.is_object() {
        return Err(Error::Verify("bundle has no verificationMaterial".into()));
    }
    let present: Vec<&str> = ["publicKey", "certificate", "x509CertificateChain"]
        .into_iter()
        .filter(|k| !vm[*k].is_null())
        .collect();
    if present.len() > 1 {
        return Err(Error::Verify(format!(
            "bundle verification material holds more than one of {}",
            present.join(", ")
        )));
    }
    let chain = &vm["x509CertificateChain"];
    if !chain.is_null() && version >= BundleVersion::V0_3 {
        return Err(Error::Verify(
            "bundle v0.3 verification material must be a single certificate, not an x509CertificateChain".into(),
        ));
    }
    let cert_der = if chain.is_null() {
        vm["certificate"]["rawBytes"].as_str()
    } else {
        let certs = chain["certificates"]
            .as_array()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                Error::Verify("bundle x509CertificateChain holds no certificate".into())
            })?;
        Some(certs[0]["rawBytes"].as_str().ok_or_else(|| {
            Error::Verify("bundle x509CertificateChain: certificate has no rawBytes".into())
        })?)
    };
    if !chain.is_null() && ctx.key.is_none() {
        check_bundle_chain(chain, need_trust(ctx)?)?;
    }
    let cert = match (&ctx.key, cert_der) {
        (Some(_), _) => None,
        (None, Some(d)) => {
            Some(Cert::from_der(&B64.decode(d).map_err(|_| {
                Error::Verify("bundle certificate is not base64".into())
            })?)?)
        }
        (None, None) => {
            return Err(Error::NoCertificate(
                "no certificate found in bundle".into(),
            ))
        }
    };
    let key = match (&ctx.key, &cert) {
        (Some(k), _) => k.clone(),
        (None, Some(c)) => c.public_key()?,
        (None, None) => {
            return Err(Error::NoCertificate(
                "no certificate found on signature".into(),
            ))
        }
    };
    let (sig, content) = bundle_content(&b, &key, subject)?;

    // The bundle's log entries, held to its version's rules whether or not they are used.
    let entries = bundle_tlog_entries(vm)?;
    let required = if version == BundleVersion::V0_1 {
        rekor::Required::Promise
    } else {
        rekor::Required::Proof
    };
    let mut parsed = Vec::with_capacity(entries.len());
    for v in &entries {
        let e = rekor::from_bundle_tlog_entry(v)?;
        if parsed
            .iter()
            .any(|p: &LogEntry| p.log_id == e.log_id && p.log_index == e.log_index)
        {
            return Err(Error::Verify(
                "bundle has duplicate transparency log entries".into(),
            ));
        }
        match required {
            rekor::Required::Promise if e.set.is_none() => {
                return Err(Error::Verify(
                    "bundle v0.1 transparency log entry has no inclusion promise (signed entry timestamp)".into(),
                ))
            }
            rekor::Required::Proof if e.inclusion_proof.is_none() => {
                return Err(Error::Verify(format!(
                    "bundle {} transparency log entry has no inclusion proof",
                    version.name()
                )))
            }
            _ => {}
        }
        parsed.push(e);
    }

    // Only --insecure-ignore-tlog reaches here (see above): log entries are held to their
    // bundle version's rules but not verified, as cosign does under that flag.
    debug_assert!(o.insecure_ignore_tlog);
    let now = super::oidc::now();
    // Times something trusted signed: RFC 3161 timestamps.
    let mut signed_times = Vec::new();
    // Signed timestamps: each must verify; the certificate must be valid at each time.
    let stamps = match &vm["timestampVerificationData"]["rfc3161Timestamps"] {
        Value::Null => Vec::new(),
        Value::Array(a) => a.clone(),
        _ => {
            return Err(Error::Verify(
                "bundle rfc3161Timestamps is not a list".into(),
            ))
        }
    };
    if o.use_signed_timestamps && stamps.is_empty() {
        return Err(Error::Verify(
            "--use-signed-timestamps: the bundle has no RFC 3161 timestamp".into(),
        ));
    }
    for s in &stamps {
        let der = s["signedTimestamp"]
            .as_str()
            .and_then(|x| B64.decode(x).ok())
            .ok_or_else(|| Error::Verify("signed timestamp is not base64".into()))?;
        let t = super::tsa::verify(&der, &sig, &need_trust(ctx)?.tsas)?;
        if t > now.saturating_add(rekor::MAX_CLOCK_SKEW_SECS) {
            return Err(Error::Verify(format!(
                "RFC 3161 timestamp {t} is in the future"
            )));
        }
        signed_times.push(t);
    }
    if let Some(c) = &cert {
        let trust = need_trust(ctx)?;
        if signed_times.is_empty() {
            // Without a timestamp, cosign judges at the current time.
            check_certificate(c, trust, now, &ctx.m, o)?;
        }
        for &t in &signed_times {
            check_certificate(c, trust, t, &ctx.m, o)?;
        }
    }
    let payload = match (content, subject) {
        (Content::Dsse { payload, .. }, Subject::Image(t)) => {
            check_image_statement(&payload, t)?;
            payload
        }
        (Content::Dsse { payload, .. }, Subject::Attestation(t)) => {
            check_statement_digest(&payload, t)?;
            payload
        }
        (
            Content::Dsse {
                payload,
                payload_type,
            },
            Subject::Blob(blob),
        ) => {
            check_blob_statement(&payload_type, &payload, blob)?;
            payload
        }
        (Content::Message, _) => Vec::new(),
    };
    Ok(VerifiedSignature {
        subject: cert
            .as_ref()
            .and_then(|c| c.san_identities().into_iter().next()),
        issuer: cert.as_ref().and_then(Cert::oidc_issuer),
        payload,
        certificate: cert,
        tlog_entry: None,
    })
}

/// The statement of an image signature names the image's digest and is cosign's.
pub(crate) fn check_image_statement(payload: &[u8], t: &Target) -> Result<(), Error> {
    let st = check_statement_digest(payload, t)?;
    if st["predicateType"].as_str() != Some(COSIGN_SIGN_PREDICATE) {
        return Err(Error::Verify(
            "statement is not a cosign signature (predicateType)".into(),
        ));
    }
    Ok(())
}

/// An in-toto statement about an image names the image's digest among its subjects.
pub(crate) fn check_statement_digest(payload: &[u8], t: &Target) -> Result<Value, Error> {
    let st: Value = serde_json::from_slice(payload)
        .map_err(|_| Error::Verify("statement is not JSON".into()))?;
    let (alg, hex) = t.digest.split_once(':').unwrap_or(("", ""));
    let names_digest = st["subject"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .any(|s| s["digest"][alg].as_str() == Some(hex));
    if alg.is_empty() || hex.is_empty() || !names_digest {
        return Err(Error::Verify(format!(
            "invalid or missing digest in claim: statement does not name {}",
            t.digest
        )));
    }
    Ok(st)
}

/// An in-toto statement about a blob must name the blob's SHA-256 among its subjects.
pub(crate) fn check_blob_statement(
    payload_type: &str,
    payload: &[u8],
    blob: &Blob,
) -> Result<(), Error> {
    if payload_type != INTOTO_PAYLOAD_TYPE {
        return Err(Error::Verify(format!(
            "DSSE payload type {payload_type:?} is not an in-toto statement"
        )));
    }
    let st: Value = serde_json::from_slice(payload)
        .map_err(|_| Error::Verify("in-toto statement is not JSON".into()))?;
    let want = pki::hex(&blob.sha256);
    let subjects = st["subject"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if !subjects
        .iter()
        .any(|s| s["digest"]["sha256"].as_str() == Some(want.as_str()))
    {
        return Err(Error::Verify(format!(
            "provided artifact digest does not match any digest in the in-toto statement's subjects (sha256:{want})"
        )));
    }
    Ok(())
}

/// Verifies the signatures of `image` (`registry/repo[:tag|@digest]`); Ok when at least
/// one signature passes every check. Errors: `NoSignatures` (exit 10), `NotFound` (11),
/// `NoMatching` with each signature's reason (12), `NoCertificate` (13).
pub async fn verify_image_async(image: &str, o: &VerifyOptions) -> Result<Verification, Error> {
    if o.key.is_none() {
        if o.certificate_identity.is_none() && o.certificate_identity_regexp.is_none() {
            return Err(Error::Usage(
                "--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode"
                    .into(),
            ));
        }
        if o.certificate_oidc_issuer.is_none() && o.certificate_oidc_issuer_regexp.is_none() {
            return Err(Error::Usage(
                "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode"
                    .into(),
            ));
        }
    }
    let m = Matchers::new(o)?;
    let key = o
        .key
        .as_deref()
        .map(super::keys::load_public_key)
        .transpose()?;
    // Key-based verification without the log needs no trust root (nor a TUF lookup).
    let no_trust_needed = key.is_some() && o.insecure_ignore_tlog;
    let trust = if no_trust_needed && o.trusted_root.is_none() {
        None
    } else {
        match super::trust::resolve_trusted_root(o.trusted_root.as_deref()).await {
            Ok(t) => Some(t),
            Err(_) if no_trust_needed => None,
            Err(e) => return Err(e),
        }
    };
    let ctx = Ctx { trust, key, m };
    let (client, t) = store::open(image, &o.registry, false).await?;
    let mut ok = Vec::new();
    let mut reasons = Vec::new();
    // Like cosign v3: without --new-bundle-format both kinds count (the legacy `.sig`
    // tag and bundle referrers); with it only bundles do.
    let layers = if o.new_bundle_format {
        Vec::new()
    } else {
        store::load_signatures(&client, &t).await?
    };
    let bundles = store::load_bundles(&client, &t).await?;
    if layers.is_empty() && bundles.is_empty() {
        return Err(Error::NoSignatures("no signatures found".into()));
    }
    let results = layers.iter().map(|l| verify_legacy(l, &t, &ctx, o)).chain(
        bundles
            .iter()
            .map(|b| verify_bundle(b, Subject::Image(&t), &ctx, o)),
    );
    for r in results {
        match r {
            Ok(v) => ok.push(v),
            Err(e) => reasons.push(e),
        }
    }
    if ok.is_empty() {
        if reasons.iter().all(|e| matches!(e, Error::NoCertificate(_))) {
            return Err(reasons.remove(0));
        }
        let msgs: Vec<String> = reasons.iter().map(ToString::to_string).collect();
        return Err(Error::NoMatching(format!(
            "no matching signatures: {}",
            msgs.join("\n ")
        )));
    }
    Ok(Verification {
        target: t,
        signatures: ok,
        tlog_checked: !o.insecure_ignore_tlog,
        ca_checked: o.key.is_none(),
    })
}

/// Blocking form of [`verify_image_async`] for sync callers (the consumer's `task`
/// flow). Must not be called from inside an async runtime.
pub fn verify_image(image: &str, o: &VerifyOptions) -> Result<Verification, Error> {
    crate::native::oci::block_on(verify_image_async(image, o))
        .map_err(|e| Error::Io(format!("starting runtime: {e}")))?
}

const GH_EXTENSIONS: [(&str, &str); 5] = [
    (pki::OID_GH_WORKFLOW_TRIGGER, "githubWorkflowTrigger"),
    (pki::OID_GH_WORKFLOW_SHA, "githubWorkflowSha"),
    (pki::OID_GH_WORKFLOW_NAME, "githubWorkflowName"),
    (pki::OID_GH_WORKFLOW_REPO, "githubWorkflowRepository"),
    (pki::OID_GH_WORKFLOW_REF, "githubWorkflowRef"),
];

/// cosign's JSON output: the payloads, with `optional` extended by the certificate's
/// subject, issuer, GitHub workflow extensions and the Rekor bundle (Go map: sorted keys).
pub fn json_output(v: &Verification) -> String {
    let items: Vec<Value> = v
        .signatures
        .iter()
        .map(|s| {
            let mut p: Value = serde_json::from_slice(&s.payload).unwrap_or(Value::Null);
            let mut opt: BTreeMap<String, Value> = p["optional"]
                .as_object()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            if let Some(c) = &s.certificate {
                opt.insert(
                    "Subject".into(),
                    json!(s.subject.clone().unwrap_or_default()),
                );
                if let Some(i) = &s.issuer {
                    opt.insert("Issuer".into(), json!(i));
                    opt.insert(pki::OID_FULCIO_ISSUER_V1.into(), json!(i));
                }
                for (oid, name) in GH_EXTENSIONS {
                    if let Some(val) = c.fulcio_string(oid) {
                        opt.insert(name.into(), json!(val));
                        opt.insert(oid.into(), json!(val));
                    }
                }
            }
            if let Some(e) = &s.tlog_entry {
                let b: Value =
                    serde_json::from_str(&rekor::cosign_bundle_json(e)).unwrap_or(Value::Null);
                opt.insert("Bundle".into(), b);
            }
            if !opt.is_empty() && p.is_object() {
                p["optional"] = Value::Object(opt.into_iter().collect());
            }
            p
        })
        .collect();
    serde_json::to_string(&items).unwrap_or_default()
}

/// The lines cosign prints on stderr before the JSON.
pub fn header(image: &str, v: &Verification, key_based: bool) -> String {
    let mut s = format!(
        "\nVerification for {image} --\nThe following checks were performed on each of these signatures:\n  - The cosign claims were validated\n"
    );
    if v.tlog_checked {
        s.push_str("  - Existence of the claims in the transparency log was verified offline\n");
    }
    if key_based {
        s.push_str("  - The signatures were verified against the specified public key\n");
    }
    if v.ca_checked {
        s.push_str("  - The code-signing certificate was verified using trusted certificate authority certificates\n");
    }
    s
}

/// A bundle's `tlogEntries`, bounded: a list of at most [`MAX_TLOG_ENTRIES`].
pub(super) fn bundle_tlog_entries(vm: &Value) -> Result<Vec<Value>, Error> {
    let entries = match &vm["tlogEntries"] {
        Value::Null => Vec::new(),
        Value::Array(a) => a.clone(),
        _ => return Err(Error::Verify("bundle tlogEntries is not a list".into())),
    };
    if entries.len() > MAX_TLOG_ENTRIES {
        return Err(Error::Verify(format!(
            "bundle has too many transparency log entries ({} > {MAX_TLOG_ENTRIES})",
            entries.len()
        )));
    }
    Ok(entries)
}

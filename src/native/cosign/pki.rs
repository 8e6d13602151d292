//! Public keys, ECDSA verification, X.509 certificates (chains, Fulcio's extensions) and
//! embedded Signed Certificate Timestamps (RFC 6962).

use der::{Decode, Encode};
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::{DecodePublicKey, EncodePublicKey};
use x509_cert::Certificate;

use super::Error;

pub const OID_FULCIO_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
pub const OID_FULCIO_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
pub const OID_GH_WORKFLOW_TRIGGER: &str = "1.3.6.1.4.1.57264.1.2";
pub const OID_GH_WORKFLOW_SHA: &str = "1.3.6.1.4.1.57264.1.3";
pub const OID_GH_WORKFLOW_NAME: &str = "1.3.6.1.4.1.57264.1.4";
pub const OID_GH_WORKFLOW_REPO: &str = "1.3.6.1.4.1.57264.1.5";
pub const OID_GH_WORKFLOW_REF: &str = "1.3.6.1.4.1.57264.1.6";
const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
const OID_CT_POISON: &str = "1.3.6.1.4.1.11129.2.4.3";
const OID_SAN: &str = "2.5.29.17";
const OID_EKU: &str = "2.5.29.37";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_EKU_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
const OID_ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const OID_RSA_SHA256: &str = "1.2.840.113549.1.1.11";
const OID_RSA_SHA384: &str = "1.2.840.113549.1.1.12";
const OID_RSA_SHA512: &str = "1.2.840.113549.1.1.13";
const OID_ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const OID_ECDSA_SHA512: &str = "1.2.840.10045.4.3.4";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub fn digest(self, msg: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(msg).to_vec(),
            Hash::Sha384 => Sha384::digest(msg).to_vec(),
            Hash::Sha512 => Sha512::digest(msg).to_vec(),
        }
    }
}

pub fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A public key of the kinds Sigstore uses: ECDSA P-256/P-384, and Ed25519 (Rekor v2
/// log keys).
#[derive(Clone, Debug, PartialEq)]
pub enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the 32 key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

impl PublicKey {
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, Error> {
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::P384(k));
        }
        if let Some(raw) = der.strip_prefix(&ED25519_SPKI_PREFIX[..]) {
            if let Ok(k) = <[u8; 32]>::try_from(raw)
                .map_err(|_| ())
                .and_then(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).map_err(|_| ()))
            {
                return Ok(PublicKey::Ed25519(k));
            }
        }
        Err(Error::Key(
            "unsupported public key: only ECDSA P-256, P-384 and Ed25519 keys are supported".into(),
        ))
    }

    pub fn spki_der(&self) -> Vec<u8> {
        let d = match self {
            PublicKey::P256(k) => k.to_public_key_der(),
            PublicKey::P384(k) => k.to_public_key_der(),
            PublicKey::Ed25519(k) => return [&ED25519_SPKI_PREFIX[..], k.as_bytes()].concat(),
        };
        d.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// The hash the key is used with by default (cosign: P-256/SHA-256, P-384/SHA-384).
    pub fn default_hash(&self) -> Hash {
        match self {
            PublicKey::P256(_) | PublicKey::Ed25519(_) => Hash::Sha256,
            PublicKey::P384(_) => Hash::Sha384,
        }
    }

    /// Verifies an ASN.1 DER ECDSA signature over `msg` hashed with `hash`; for an
    /// Ed25519 key, a (pure) Ed25519 signature over `msg` itself.
    pub fn verify(&self, msg: &[u8], sig_der: &[u8], hash: Hash) -> Result<(), Error> {
        if let PublicKey::Ed25519(k) = self {
            let sig = ed25519_dalek::Signature::from_slice(sig_der)
                .map_err(|_| Error::Verify("malformed signature".into()))?;
            return k
                .verify_strict(msg, &sig)
                .map_err(|_| Error::Verify("invalid signature".into()));
        }
        self.verify_digest(&hash.digest(msg), sig_der)
    }

    /// Verifies an ASN.1 DER ECDSA signature over an already computed digest.
    pub fn verify_digest(&self, digest: &[u8], sig_der: &[u8]) -> Result<(), Error> {
        use ecdsa::signature::hazmat::PrehashVerifier;
        let ok = match self {
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(sig_der)
                .ok()
                .map(|s| k.verify_prehash(digest, &s).is_ok()),
            PublicKey::P384(k) => p384::ecdsa::Signature::from_der(sig_der)
                .ok()
                .map(|s| k.verify_prehash(digest, &s).is_ok()),
            PublicKey::Ed25519(_) => {
                return Err(Error::Verify(
                    "an Ed25519 key cannot verify a signature over a digest".into(),
                ))
            }
        };
        match ok {
            Some(true) => Ok(()),
            Some(false) => Err(Error::Verify("invalid signature".into())),
            None => Err(Error::Verify("malformed signature".into())),
        }
    }
}

/// RSA PKCS#1 v1.5 signature by the key of `issuer_spki` (certificate chains of private
/// Sigstore instances may use RSA CAs).
fn verify_rsa_pkcs1(issuer_spki: &[u8], alg: &str, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    let bad = || Error::Verify("x509: certificate signed by unknown authority".into());
    let key = rsa::RsaPublicKey::from_public_key_der(issuer_spki).map_err(|_| bad())?;
    let sig = rsa::pkcs1v15::Signature::try_from(sig).map_err(|_| bad())?;
    let ok = match alg {
        OID_RSA_SHA256 => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key).verify(msg, &sig),
        OID_RSA_SHA384 => rsa::pkcs1v15::VerifyingKey::<Sha384>::new(key).verify(msg, &sig),
        _ => rsa::pkcs1v15::VerifyingKey::<Sha512>::new(key).verify(msg, &sig),
    };
    ok.map_err(|_| bad())
}

/// A parsed certificate that keeps its exact DER bytes.
#[derive(Clone, Debug)]
pub struct Cert {
    pub der: Vec<u8>,
    pub cert: Certificate,
}

/// Splits a DER TLV at the start of `b`: (header length, total length).
pub(crate) fn tlv(b: &[u8]) -> Option<(usize, usize)> {
    let first = *b.get(1)?;
    let (hl, len) = if first < 0x80 {
        (2, first as usize)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (2 + n, len)
    };
    let end = hl.checked_add(len)?;
    (end <= b.len()).then_some((hl, end))
}

impl Cert {
    pub fn from_der(der: &[u8]) -> Result<Cert, Error> {
        let cert = Certificate::from_der(der)
            .map_err(|e| Error::Verify(format!("parsing certificate: {e}")))?;
        Ok(Cert {
            der: der.to_vec(),
            cert,
        })
    }

    /// All `CERTIFICATE` blocks of a PEM text, in order.
    pub fn from_pem_chain(text: &[u8]) -> Result<Vec<Cert>, Error> {
        let blocks = pem::parse_many(text)
            .map_err(|e| Error::Verify(format!("parsing certificate PEM: {e}")))?;
        blocks
            .iter()
            .filter(|b| b.tag() == "CERTIFICATE")
            .map(|b| Cert::from_der(b.contents()))
            .collect()
    }

    pub fn to_pem(&self) -> String {
        pem::encode_config(
            &pem::Pem::new("CERTIFICATE", self.der.clone()),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        )
    }

    /// The TBSCertificate exactly as encoded in the certificate.
    fn tbs_raw(&self) -> Result<&[u8], Error> {
        let (hl, _) =
            tlv(&self.der).ok_or_else(|| Error::Verify("malformed certificate".into()))?;
        let inner = &self.der[hl..];
        let (_, end) = tlv(inner).ok_or_else(|| Error::Verify("malformed certificate".into()))?;
        Ok(&inner[..end])
    }

    pub fn spki_der(&self) -> Vec<u8> {
        self.cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .unwrap_or_default()
    }

    pub fn public_key(&self) -> Result<PublicKey, Error> {
        PublicKey::from_spki_der(&self.spki_der())
    }

    /// Checks that `issuer`'s key signed this certificate.
    pub fn verify_issued_by(&self, issuer: &Cert) -> Result<(), Error> {
        let alg = self.cert.signature_algorithm.oid.to_string();
        let sig = self
            .cert
            .signature
            .as_bytes()
            .ok_or_else(|| Error::Verify("malformed certificate signature".into()))?;
        let hash = match alg.as_str() {
            OID_ECDSA_SHA256 => Hash::Sha256,
            OID_ECDSA_SHA384 => Hash::Sha384,
            OID_ECDSA_SHA512 => Hash::Sha512,
            OID_RSA_SHA256 | OID_RSA_SHA384 | OID_RSA_SHA512 => {
                return verify_rsa_pkcs1(&issuer.spki_der(), &alg, self.tbs_raw()?, sig)
            }
            other => {
                return Err(Error::Verify(format!(
                    "certificate signature algorithm {other} is not supported"
                )))
            }
        };
        issuer
            .public_key()?
            .verify(self.tbs_raw()?, sig, hash)
            .map_err(|_| Error::Verify("x509: certificate signed by unknown authority".into()))
    }

    pub fn not_before(&self) -> u64 {
        self.cert
            .tbs_certificate
            .validity
            .not_before
            .to_unix_duration()
            .as_secs()
    }

    pub fn not_after(&self) -> u64 {
        self.cert
            .tbs_certificate
            .validity
            .not_after
            .to_unix_duration()
            .as_secs()
    }

    pub fn extension(&self, oid: &str) -> Option<&[u8]> {
        self.cert
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id.to_string() == oid)
            .map(|e| e.extn_value.as_bytes())
    }

    pub fn is_ca(&self) -> bool {
        self.extension(OID_BASIC_CONSTRAINTS)
            .and_then(|v| x509_cert::ext::pkix::BasicConstraints::from_der(v).ok())
            .map(|b| b.ca)
            .unwrap_or(false)
    }

    pub fn has_code_signing_eku(&self) -> bool {
        self.extension(OID_EKU)
            .and_then(|v| x509_cert::ext::pkix::ExtendedKeyUsage::from_der(v).ok())
            .map(|e| e.0.iter().any(|o| o.to_string() == OID_EKU_CODE_SIGNING))
            .unwrap_or(false)
    }

    /// Subject alternative names that can be identities: URIs, emails, and
    /// otherName UTF-8 strings (Fulcio's username SAN).
    pub fn san_identities(&self) -> Vec<String> {
        use x509_cert::ext::pkix::name::GeneralName;
        let Some(v) = self.extension(OID_SAN) else {
            return Vec::new();
        };
        let Ok(san) = x509_cert::ext::pkix::SubjectAltName::from_der(v) else {
            return Vec::new();
        };
        san.0
            .iter()
            .filter_map(|g| match g {
                GeneralName::UniformResourceIdentifier(s) => Some(s.to_string()),
                GeneralName::Rfc822Name(s) => Some(s.to_string()),
                GeneralName::OtherName(o) => o
                    .value
                    .decode_as::<der::asn1::Utf8StringRef<'_>>()
                    .ok()
                    .map(|s| s.as_str().to_string()),
                _ => None,
            })
            .collect()
    }

    /// A Fulcio extension's string value: v2 OIDs hold a DER UTF8String, the
    /// legacy (v1) ones the raw bytes.
    pub fn fulcio_string(&self, oid: &str) -> Option<String> {
        let v = self.extension(oid)?;
        if let Ok(s) = der::asn1::Utf8StringRef::from_der(v) {
            return Some(s.as_str().to_string());
        }
        String::from_utf8(v.to_vec()).ok()
    }

    /// The OIDC issuer Fulcio recorded (1.3.6.1.4.1.57264.1.8, else .1.1).
    pub fn oidc_issuer(&self) -> Option<String> {
        self.fulcio_string(OID_FULCIO_ISSUER_V2)
            .or_else(|| self.fulcio_string(OID_FULCIO_ISSUER_V1))
    }

    /// The precertificate TBS the CT log signed: this TBS without the SCT list
    /// (and without the poison extension), re-encoded.
    fn precert_tbs(&self) -> Result<Vec<u8>, Error> {
        let mut tbs = self.cert.tbs_certificate.clone();
        if let Some(exts) = tbs.extensions.as_mut() {
            exts.retain(|e| {
                let o = e.extn_id.to_string();
                o != OID_SCT_LIST && o != OID_CT_POISON
            });
        }
        tbs.to_der()
            .map_err(|e| Error::Verify(format!("encoding precertificate: {e}")))
    }
}

/// A log's public key as named in a trusted root (Rekor or CT log).
#[derive(Clone, Debug)]
pub struct LogKey {
    pub key_id: Vec<u8>,
    pub key: PublicKey,
    pub valid_from: Option<u64>,
    pub valid_until: Option<u64>,
    pub base_url: String,
}

impl LogKey {
    pub fn valid_at(&self, t: u64) -> bool {
        self.valid_from.is_none_or(|s| t >= s) && self.valid_until.is_none_or(|e| t <= e)
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<usize> {
        self.take(2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
    }
}

struct Sct<'a> {
    version: u8,
    log_id: &'a [u8],
    timestamp: &'a [u8],
    extensions: &'a [u8],
    hash_alg: u8,
    signature: &'a [u8],
}

fn parse_sct_list(list: &[u8]) -> Option<Vec<Sct<'_>>> {
    let mut r = Reader(list);
    let total = r.u16()?;
    let mut body = Reader(r.take(total)?);
    let mut out = Vec::new();
    while !body.0.is_empty() {
        let n = body.u16()?;
        let mut s = Reader(body.take(n)?);
        let version = s.u8()?;
        let log_id = s.take(32)?;
        let timestamp = s.take(8)?;
        let ext_len = s.u16()?;
        let extensions = s.take(ext_len)?;
        let hash_alg = s.u8()?;
        let _sig_alg = s.u8()?;
        let sig_len = s.u16()?;
        let signature = s.take(sig_len)?;
        out.push(Sct {
            version,
            log_id,
            timestamp,
            extensions,
            hash_alg,
            signature,
        });
    }
    Some(out)
}

/// Verifies that `leaf` carries an embedded SCT signed by one of `ctlogs` over the
/// precertificate issued by `issuer` (RFC 6962 §3.2, precert_entry).
pub fn verify_embedded_sct(leaf: &Cert, issuer: &Cert, ctlogs: &[LogKey]) -> Result<(), Error> {
    let ext = leaf
        .extension(OID_SCT_LIST)
        .ok_or_else(|| Error::Verify("certificate has no embedded SCT".into()))?;
    let list = der::asn1::OctetStringRef::from_der(ext)
        .map_err(|_| Error::Verify("malformed SCT list extension".into()))?;
    let scts = parse_sct_list(list.as_bytes())
        .ok_or_else(|| Error::Verify("malformed SCT list".into()))?;
    let tbs = leaf.precert_tbs()?;
    let issuer_key_hash = sha256(&issuer.spki_der());
    let mut last = String::from("no SCT from a trusted CT log");
    for sct in scts {
        let Some(log) = ctlogs.iter().find(|l| l.key_id == sct.log_id) else {
            continue;
        };
        let mut data = Vec::with_capacity(tbs.len() + 64);
        data.push(sct.version);
        data.push(0); // certificate_timestamp
        data.extend_from_slice(sct.timestamp);
        data.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
        data.extend_from_slice(&issuer_key_hash);
        let l = tbs.len() as u32;
        data.extend_from_slice(&l.to_be_bytes()[1..]);
        data.extend_from_slice(&tbs);
        data.extend_from_slice(&(sct.extensions.len() as u16).to_be_bytes());
        data.extend_from_slice(sct.extensions);
        let hash = match sct.hash_alg {
            4 => Hash::Sha256,
            5 => Hash::Sha384,
            6 => Hash::Sha512,
            _ => {
                last = "unsupported SCT hash algorithm".into();
                continue;
            }
        };
        let ts_ms = u64::from_be_bytes(sct.timestamp.try_into().unwrap_or([0; 8]));
        if !log.valid_at(ts_ms / 1000) {
            last = "SCT made outside the CT log key's validity".into();
            continue;
        }
        match log.key.verify(&data, sct.signature, hash) {
            Ok(()) => return Ok(()),
            Err(_) => last = "SCT signature does not verify".into(),
        }
    }
    Err(Error::Verify(format!("verifying SCT: {last}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        assert_eq!(
            unhex(&hex(&[0, 1, 0xab, 0xff])).unwrap(),
            vec![0, 1, 0xab, 0xff]
        );
        assert!(unhex("abc").is_none());
        assert!(unhex("zz").is_none());
    }

    #[test]
    fn tlv_lengths() {
        assert_eq!(tlv(&[0x30, 0x02, 1, 2]), Some((2, 4)));
        assert_eq!(tlv(&[0x30, 0x81, 0x01, 9]), Some((3, 4)));
        assert_eq!(tlv(&[0x30, 0x05, 1]), None);
    }
}

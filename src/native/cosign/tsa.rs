//! RFC 3161 signed timestamps from a Sigstore timestamp authority: requested when signing
//! (if the signing config names a TSA, as cosign v3 does) and checked when verifying against
//! the trusted root's timestamp authorities. The time they prove bounds the certificate's
//! validity like a Rekor entry's integrated time does.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::pki::{Cert, Hash};
use super::trust::CertAuthority;
use super::Error;

const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const OID_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
const OID_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
const OID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
const OID_SHA384: &str = "2.16.840.1.101.3.4.2.2";
const OID_SHA512: &str = "2.16.840.1.101.3.4.2.3";
const OID_EKU: &str = "2.5.29.37";
const OID_EKU_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";

fn bad(what: &str) -> Error {
    Error::Verify(format!("signed timestamp: {what}"))
}

/// One DER element: its tag, contents and whole encoding.
#[derive(Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    body: &'a [u8],
    raw: &'a [u8],
}

fn read(b: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *b.first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-byte tags do not occur in these structures
    }
    let (hl, end) = super::pki::tlv(b)?;
    Some((
        Tlv {
            tag,
            body: &b[hl..end],
            raw: &b[..end],
        },
        &b[end..],
    ))
}

fn children(body: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (t, r) = read(rest)?;
        out.push(t);
        rest = r;
    }
    Some(out)
}

fn oid(t: &Tlv) -> Option<String> {
    if t.tag != 0x06 {
        return None;
    }
    der::asn1::ObjectIdentifier::from_bytes(t.body)
        .ok()
        .map(|o| o.to_string())
}

fn hash_by_oid(o: &str) -> Option<Hash> {
    match o {
        OID_SHA256 => Some(Hash::Sha256),
        OID_SHA384 => Some(Hash::Sha384),
        OID_SHA512 => Some(Hash::Sha512),
        _ => None,
    }
}

fn digest(h: Hash, data: &[u8]) -> Vec<u8> {
    match h {
        Hash::Sha256 => Sha256::digest(data).to_vec(),
        Hash::Sha384 => Sha384::digest(data).to_vec(),
        Hash::Sha512 => Sha512::digest(data).to_vec(),
    }
}

/// `GeneralizedTime` (YYYYMMDDHHMMSS[.f*]Z) → Unix seconds.
fn generalized_time(b: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(b).ok()?;
    let s = s.strip_suffix('Z')?;
    let main = s.split('.').next()?;
    if main.len() != 14 || !main.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &main[0..4],
        &main[4..6],
        &main[6..8],
        &main[8..10],
        &main[10..12],
        &main[12..14]
    );
    super::trust::rfc3339_to_unix(&iso)
}

/// The parts of a timestamp token that are checked.
struct Token<'a> {
    tst_info: &'a [u8],
    imprint_hash: Hash,
    imprint: &'a [u8],
    nonce: Option<&'a [u8]>,
    gen_time: u64,
    certs: Vec<Cert>,
    digest_alg: Hash,
    signed_attrs: Vec<u8>,
    message_digest: &'a [u8],
    signature: &'a [u8],
}

/// Parses a `TimeStampResp` (what Sigstore bundles store) or a bare `TimeStampToken`.
fn parse(der_bytes: &[u8]) -> Result<Token<'_>, Error> {
    let (outer, _) = read(der_bytes).ok_or_else(|| bad("not DER"))?;
    let top = children(outer.body).ok_or_else(|| bad("malformed"))?;
    // TimeStampResp = SEQUENCE { PKIStatusInfo SEQUENCE { status INTEGER, … }, token }.
    let content_info = if top.first().map(|t| t.tag) == Some(0x30) {
        let status = children(top[0].body).ok_or_else(|| bad("malformed status"))?;
        match status.first() {
            Some(s) if s.tag == 0x02 && (s.body == [0] || s.body == [1]) => {}
            _ => return Err(bad("the authority did not grant the timestamp")),
        }
        let tok = top.get(1).ok_or_else(|| bad("response carries no token"))?;
        children(tok.body).ok_or_else(|| bad("malformed token"))?
    } else {
        top
    };
    if content_info.first().and_then(oid).as_deref() != Some(OID_SIGNED_DATA) {
        return Err(bad("token is not CMS SignedData"));
    }
    let sd_wrap = content_info.get(1).filter(|t| t.tag == 0xa0);
    let sd = sd_wrap
        .and_then(|t| read(t.body))
        .map(|(t, _)| t)
        .ok_or_else(|| bad("malformed SignedData"))?;
    let sd = children(sd.body).ok_or_else(|| bad("malformed SignedData"))?;
    // version, digestAlgorithms, encapContentInfo, [0] certificates?, [1] crls?, signerInfos
    let encap = children(sd.get(2).ok_or_else(|| bad("no content"))?.body)
        .ok_or_else(|| bad("malformed content"))?;
    if encap.first().and_then(oid).as_deref() != Some(OID_TST_INFO) {
        return Err(bad("content is not a TSTInfo"));
    }
    let tst_info = encap
        .get(1)
        .filter(|t| t.tag == 0xa0)
        .and_then(|t| read(t.body))
        .filter(|(t, _)| t.tag == 0x04)
        .map(|(t, _)| t.body)
        .ok_or_else(|| bad("malformed TSTInfo wrapper"))?;
    let mut certs = Vec::new();
    if let Some(c) = sd.iter().find(|t| t.tag == 0xa0) {
        for cert in children(c.body).ok_or_else(|| bad("malformed certificates"))? {
            if cert.tag == 0x30 {
                certs.push(Cert::from_der(cert.raw)?);
            }
        }
    }
    let signer_infos = sd
        .last()
        .filter(|t| t.tag == 0x31)
        .ok_or_else(|| bad("no signer"))?;
    let si = children(signer_infos.body).ok_or_else(|| bad("malformed signer"))?;
    if si.len() != 1 {
        return Err(bad("exactly one signer expected"));
    }
    let si = children(si[0].body).ok_or_else(|| bad("malformed signer"))?;
    // version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature, …
    let digest_alg = si
        .get(2)
        .and_then(|a| children(a.body))
        .and_then(|a| a.first().and_then(oid))
        .and_then(|o| hash_by_oid(&o))
        .ok_or_else(|| bad("unsupported digest algorithm"))?;
    let attrs = si
        .get(3)
        .filter(|t| t.tag == 0xa0)
        .ok_or_else(|| bad("signer has no signed attributes"))?;
    // The signature covers the attributes encoded as a SET, not as the [0] they are stored as.
    let mut signed_attrs = attrs.raw.to_vec();
    signed_attrs[0] = 0x31;
    let mut message_digest = None;
    let mut content_type_ok = false;
    for a in children(attrs.body).ok_or_else(|| bad("malformed attributes"))? {
        let parts = children(a.body).ok_or_else(|| bad("malformed attribute"))?;
        let (Some(t), Some(vals)) = (parts.first(), parts.get(1)) else {
            continue;
        };
        let first_val = children(vals.body).and_then(|v| v.first().copied());
        match oid(t).as_deref() {
            Some(OID_MESSAGE_DIGEST) => {
                message_digest = first_val.filter(|v| v.tag == 0x04).map(|v| v.body)
            }
            Some(OID_CONTENT_TYPE) => {
                content_type_ok = first_val.and_then(|v| oid(&v)).as_deref() == Some(OID_TST_INFO)
            }
            _ => {}
        }
    }
    if !content_type_ok {
        return Err(bad("signed content type is not TSTInfo"));
    }
    let message_digest = message_digest.ok_or_else(|| bad("no message digest attribute"))?;
    let signature = si
        .get(5)
        .filter(|t| t.tag == 0x04)
        .map(|t| t.body)
        .ok_or_else(|| bad("no signature"))?;

    // TSTInfo: version, policy, messageImprint, serialNumber, genTime, accuracy?, ordering?,
    // nonce?, …
    let (ti, _) = read(tst_info).ok_or_else(|| bad("malformed TSTInfo"))?;
    let ti = children(ti.body).ok_or_else(|| bad("malformed TSTInfo"))?;
    let mi = children(ti.get(2).ok_or_else(|| bad("no message imprint"))?.body)
        .ok_or_else(|| bad("malformed message imprint"))?;
    let imprint_hash = mi
        .first()
        .and_then(|a| children(a.body))
        .and_then(|a| a.first().and_then(oid))
        .and_then(|o| hash_by_oid(&o))
        .ok_or_else(|| bad("unsupported imprint hash"))?;
    let imprint = mi
        .get(1)
        .filter(|t| t.tag == 0x04)
        .map(|t| t.body)
        .ok_or_else(|| bad("malformed message imprint"))?;
    let gen_time = ti
        .get(4)
        .filter(|t| t.tag == 0x18)
        .and_then(|t| generalized_time(t.body))
        .ok_or_else(|| bad("malformed genTime"))?;
    let nonce = ti[5..].iter().find(|t| t.tag == 0x02).map(|t| t.body);
    Ok(Token {
        tst_info,
        imprint_hash,
        imprint,
        nonce,
        gen_time,
        certs,
        digest_alg,
        signed_attrs,
        message_digest,
        signature,
    })
}

fn time_stamping_eku_ok(c: &Cert) -> bool {
    match c.extension(OID_EKU) {
        None => true,
        Some(v) => {
            use der::Decode;
            x509_cert::ext::pkix::ExtendedKeyUsage::from_der(v)
                .map(|e| e.0.iter().any(|o| o.to_string() == OID_EKU_TIME_STAMPING))
                .unwrap_or(false)
        }
    }
}

/// Verifies a signed timestamp over `signed` (the signature bytes it vouches for) against
/// the trusted timestamp authorities; returns the time it proves (Unix seconds).
pub fn verify(resp: &[u8], signed: &[u8], tsas: &[CertAuthority]) -> Result<u64, Error> {
    check(&parse(resp)?, signed, tsas)
}

fn check(tok: &Token, signed: &[u8], tsas: &[CertAuthority]) -> Result<u64, Error> {
    if digest(tok.imprint_hash, signed) != tok.imprint {
        return Err(bad("it is not over this signature"));
    }
    if digest(tok.digest_alg, tok.tst_info) != tok.message_digest {
        return Err(bad("message digest does not match its content"));
    }
    let at = tok.gen_time;
    let mut last = bad("no trusted timestamp authority signed it");
    for ca in tsas {
        if ca.valid_from.is_some_and(|f| at < f) || ca.valid_until.is_some_and(|u| at > u) {
            continue;
        }
        let Some(leaf) = ca.chain.first() else {
            continue;
        };
        // The signer is the authority's own leaf (embedded copies must be the same cert).
        if !tok.certs.is_empty() && !tok.certs.iter().any(|c| c.der == leaf.der) {
            last = bad("signed by a certificate the trusted root does not list");
            continue;
        }
        let chain_ok = ca
            .chain
            .windows(2)
            .all(|w| w[0].verify_issued_by(&w[1]).is_ok());
        if !chain_ok {
            last = bad("authority chain does not verify");
            continue;
        }
        if at < leaf.not_before() || at > leaf.not_after() {
            last = bad("time outside the authority certificate's validity");
            continue;
        }
        if !time_stamping_eku_ok(leaf) {
            last = bad("authority certificate lacks the timeStamping usage");
            continue;
        }
        let key = leaf.public_key()?;
        match key.verify(&tok.signed_attrs, tok.signature, tok.digest_alg) {
            Ok(()) => return Ok(at),
            Err(_) => last = bad("signature does not verify"),
        }
    }
    Err(last)
}

fn der_len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        vec![n as u8]
    } else {
        let b = (n as u32).to_be_bytes();
        let skip = b.iter().take_while(|&&x| x == 0).count();
        let mut v = vec![0x80 | (4 - skip) as u8];
        v.extend_from_slice(&b[skip..]);
        v
    }
}

fn tlv_enc(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend(der_len(body.len()));
    v.extend_from_slice(body);
    v
}

/// DER `TimeStampReq` for the SHA-256 of `signed`, asking for the signer certificate.
fn request_der(signed: &[u8], nonce: &[u8]) -> Vec<u8> {
    // AlgorithmIdentifier sha256 with NULL parameters.
    let alg = tlv_enc(
        0x30,
        &[
            &[
                0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
            ][..],
            &[0x05, 0x00],
        ]
        .concat(),
    );
    let imprint = tlv_enc(
        0x30,
        &[alg, tlv_enc(0x04, &Sha256::digest(signed))].concat(),
    );
    tlv_enc(
        0x30,
        &[
            vec![0x02, 0x01, 0x01],
            imprint,
            tlv_enc(0x02, nonce),
            vec![0x01, 0x01, 0xff],
        ]
        .concat(),
    )
}

/// Asks the TSA at `url` for a timestamp over `signed`; returns the DER `TimeStampResp`,
/// checked against the trust root when one is given.
pub async fn request(
    http: &reqwest::Client,
    url: &str,
    signed: &[u8],
    tsas: Option<&[CertAuthority]>,
) -> Result<Vec<u8>, Error> {
    use rand_core::RngCore;
    let mut nonce = [0u8; 8];
    rand_core::OsRng.fill_bytes(&mut nonce);
    nonce[0] = (nonce[0] & 0x7f) | 0x01; // positive, minimal encoding
    let resp = http
        .post(url)
        .header("Content-Type", "application/timestamp-query")
        .body(request_der(signed, &nonce))
        .send()
        .await
        .map_err(|e| {
            Error::Timestamp(format!(
                "timestamp authority {url}: {}",
                super::http_error(&e)
            ))
        })?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| Error::Timestamp(format!("timestamp authority {url}: {e}")))?;
    if !status.is_success() {
        let msg = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        return Err(Error::Timestamp(format!(
            "timestamp authority {url} answered {status}: {}",
            msg.trim()
        )));
    }
    let tok = parse(&body)?;
    if tok.imprint != Sha256::digest(signed).as_slice() || tok.nonce != Some(&nonce[..]) {
        return Err(bad("the authority answered for another request"));
    }
    if let Some(t) = tsas {
        check(&tok, signed, t)?;
    }
    Ok(body.to_vec())
}

/// The bundle's `timestampVerificationData` for one timestamp.
pub fn bundle_json(resp: &[u8]) -> serde_json::Value {
    serde_json::json!({ "rfc3161Timestamps": [{ "signedTimestamp": B64.encode(resp) }] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_well_formed_der() {
        let der = request_der(b"sig", &[0x12, 0x34]);
        let (top, rest) = read(&der).unwrap();
        assert!(rest.is_empty());
        let c = children(top.body).unwrap();
        assert_eq!(c.len(), 4);
        let mi = children(c[1].body).unwrap();
        assert_eq!(mi[1].body, Sha256::digest(b"sig").as_slice());
        assert_eq!(
            oid(&children(mi[0].body).unwrap()[0]).as_deref(),
            Some(OID_SHA256)
        );
        assert_eq!(c[2].body, [0x12, 0x34]);
    }

    #[test]
    fn generalized_times() {
        assert_eq!(generalized_time(b"20260101000000Z"), Some(1_767_225_600));
        assert_eq!(
            generalized_time(b"20260101000000.123Z"),
            Some(1_767_225_600)
        );
        assert_eq!(generalized_time(b"2026010100000Z"), None);
        assert_eq!(generalized_time(b"20260101000000"), None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for b in [
            &b""[..],
            b"\x30",
            b"\x30\x84\xff\xff\xff\xff",
            b"\x30\x03\x02\x01\x02",
        ] {
            assert!(verify(b, b"x", &[]).is_err());
        }
    }
}

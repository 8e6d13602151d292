//! Rekor v1 client and offline checks of its answers: the signed entry timestamp (SET),
//! the Merkle inclusion proof (RFC 9162) and the checkpoint signature.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

use super::pki::{hex, sha256, unhex, Hash, LogKey};
use super::trust::TrustedRoot;
use super::Error;

#[derive(Clone, Debug, PartialEq)]
pub struct InclusionProof {
    pub log_index: u64,
    pub root_hash: Vec<u8>,
    pub tree_size: u64,
    pub hashes: Vec<Vec<u8>>,
    pub checkpoint: String,
}

/// One transparency-log entry as cosign and bundles carry it.
#[derive(Clone, Debug, PartialEq)]
pub struct LogEntry {
    /// base64 of the canonicalized entry body
    pub body: String,
    pub integrated_time: i64,
    pub log_index: i64,
    /// hex SHA-256 of the log's public key
    pub log_id: String,
    /// base64 signed entry timestamp
    pub set: Option<String>,
    pub inclusion_proof: Option<InclusionProof>,
}

/// A `hashedrekord` v0.0.1 proposed entry. `verifier_pem` is the PEM of the
/// certificate (keyless) or the public key.
pub fn hashedrekord(sig_der: &[u8], verifier_pem: &str, payload_sha256: &[u8]) -> Value {
    json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "signature": {
                "content": B64.encode(sig_der),
                "publicKey": { "content": B64.encode(verifier_pem) }
            },
            "data": { "hash": { "algorithm": "sha256", "value": hex(payload_sha256) } }
        }
    })
}

/// A `dsse` v0.0.1 proposed entry.
pub fn dsse(envelope_json: &str, verifier_pem: &str) -> Value {
    json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": { "proposedContent": { "envelope": envelope_json, "verifiers": [B64.encode(verifier_pem)] } }
    })
}

fn parse_entry(v: &Value) -> Result<LogEntry, Error> {
    let bad = |w: &str| Error::Rekor(format!("Rekor answer: missing or invalid {w}"));
    let proof = &v["verification"]["inclusionProof"];
    let inclusion_proof = if proof.is_object() {
        Some(InclusionProof {
            log_index: proof["logIndex"]
                .as_u64()
                .ok_or_else(|| bad("inclusionProof.logIndex"))?,
            root_hash: unhex(proof["rootHash"].as_str().unwrap_or_default())
                .ok_or_else(|| bad("rootHash"))?,
            tree_size: proof["treeSize"].as_u64().ok_or_else(|| bad("treeSize"))?,
            hashes: proof["hashes"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|h| h.as_str().and_then(unhex).ok_or_else(|| bad("hashes")))
                .collect::<Result<_, _>>()?,
            checkpoint: proof["checkpoint"].as_str().unwrap_or_default().to_string(),
        })
    } else {
        None
    };
    Ok(LogEntry {
        body: v["body"].as_str().ok_or_else(|| bad("body"))?.to_string(),
        integrated_time: v["integratedTime"]
            .as_i64()
            .ok_or_else(|| bad("integratedTime"))?,
        log_index: v["logIndex"].as_i64().ok_or_else(|| bad("logIndex"))?,
        log_id: v["logID"].as_str().ok_or_else(|| bad("logID"))?.to_string(),
        set: v["verification"]["signedEntryTimestamp"]
            .as_str()
            .map(str::to_string),
        inclusion_proof,
    })
}

/// `POST {base}/api/v1/log/entries`.
pub async fn create_entry(
    http: &reqwest::Client,
    base: &str,
    proposed: &Value,
) -> Result<LogEntry, Error> {
    let url = format!("{}/api/v1/log/entries", base.trim_end_matches('/'));
    let v = super::post_json(
        http,
        &url,
        proposed,
        "Rekor",
        "creating transparency log entry at",
    )
    .await
    .map_err(Error::Rekor)?;
    let (_, entry) = v
        .as_object()
        .and_then(|o| o.iter().next())
        .ok_or_else(|| Error::Rekor("Rekor answer holds no entry".into()))?;
    parse_entry(entry)
}

/// Canonical JSON (RFC 8785: sorted keys, no spaces) of what the SET signs.
fn set_payload(e: &LogEntry) -> String {
    format!(
        "{{\"body\":{},\"integratedTime\":{},\"logID\":{},\"logIndex\":{}}}",
        Value::String(e.body.clone()),
        e.integrated_time,
        Value::String(e.log_id.clone()),
        e.log_index
    )
}

/// How far an entry's integrated time may lie ahead of this machine's clock (clock skew
/// between the log and the verifier); later times are refused.
pub const MAX_CLOCK_SKEW_SECS: u64 = 5 * 60;

/// What a transparency-log entry must carry to count, per the bundle version: a v0.1
/// bundle (and cosign's legacy `.sig` bundle annotation) needs the signed entry
/// timestamp; a v0.2+ bundle needs the inclusion proof with its signed checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Required {
    Promise,
    Proof,
}

/// Finds the log an entry names among the trusted root's transparency logs.
fn trusted_log<'a>(e: &LogEntry, trust: &'a TrustedRoot) -> Result<&'a LogKey, Error> {
    let id = unhex(&e.log_id).ok_or_else(|| {
        Error::Verify(format!(
            "transparency log entry: log ID {:?} is not hex",
            e.log_id
        ))
    })?;
    trust.tlog_by_id(&id).ok_or_else(|| {
        Error::Verify(format!(
            "transparency log entry: log ID {} is not one of the trusted root's transparency logs",
            e.log_id
        ))
    })
}

/// Checks the SET of `e` with `log`'s key (the caller has matched the log ID).
fn check_set(e: &LogEntry, log: &LogKey) -> Result<(), Error> {
    let set = e.set.as_deref().ok_or_else(|| {
        Error::Verify("transparency log entry has no signed entry timestamp".into())
    })?;
    let sig = B64.decode(set).map_err(|_| {
        Error::Verify("transparency log entry: signed entry timestamp is not base64".into())
    })?;
    log.key
        .verify(set_payload(e).as_bytes(), &sig, Hash::Sha256)
        .map_err(|_| {
            Error::Verify(
                "transparency log entry: signed entry timestamp does not verify with the log's key"
                    .into(),
            )
        })
}

/// Checks the SET with the key of the log named by `log_id` in the trusted root, and
/// that the log's key was valid at the integrated time.
pub fn verify_set(e: &LogEntry, trust: &TrustedRoot) -> Result<(), Error> {
    let log = trusted_log(e, trust)?;
    check_window(e, log)?;
    check_set(e, log)
}

fn check_window(e: &LogEntry, log: &LogKey) -> Result<(), Error> {
    if e.integrated_time <= 0 {
        return Err(Error::Verify(
            "transparency log entry has no integrated time".into(),
        ));
    }
    let t = e.integrated_time as u64;
    if log.valid_from.is_none() {
        return Err(Error::Verify(
            "transparency log key in the trusted root has no validity start (validFor.start)"
                .into(),
        ));
    }
    if !log.valid_at(t) {
        return Err(Error::Verify(format!(
            "transparency log entry: integrated time {t} is outside the log key's validity window"
        )));
    }
    Ok(())
}

/// A checkpoint (signed note): the note text and its signature lines.
#[derive(Debug, PartialEq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root_hash: Vec<u8>,
    /// The signed text: every line up to and including the one before the blank line.
    pub text: String,
    /// (name, key hint, signature) per signature line.
    pub signatures: Vec<(String, [u8; 4], Vec<u8>)>,
}

fn cp_err(what: &str) -> Error {
    Error::Verify(format!("checkpoint is malformed: {what}"))
}

/// Parses a checkpoint as Rekor writes it: `origin\nsize\nbase64(root)\n[other lines]\n`,
/// a blank line, then lines `— <name> <base64(key hint[4] || signature)>`.
pub fn parse_checkpoint(s: &str) -> Result<Checkpoint, Error> {
    let split = s
        .rfind("\n\n")
        .ok_or_else(|| cp_err("no blank line before the signatures"))?;
    let (text, sigs) = (&s[..split + 1], &s[split + 2..]);
    if sigs.is_empty() || !sigs.ends_with('\n') {
        return Err(cp_err("the signature block does not end with a newline"));
    }
    let mut lines = text.lines();
    let origin = lines.next().unwrap_or_default();
    if origin.is_empty() {
        return Err(cp_err("empty origin"));
    }
    let size: u64 = lines
        .next()
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| cp_err("tree size is not a number"))?;
    let root_hash = lines
        .next()
        .and_then(|l| B64.decode(l).ok())
        .filter(|h| h.len() == 32)
        .ok_or_else(|| cp_err("root hash is not a base64 SHA-256 hash"))?;
    let mut signatures = Vec::new();
    for l in sigs.lines() {
        let rest = l
            .strip_prefix("\u{2014} ")
            .ok_or_else(|| cp_err("a signature line does not start with an em dash"))?;
        let (name, b64) = rest
            .rsplit_once(' ')
            .ok_or_else(|| cp_err("a signature line has no key name"))?;
        let raw = B64
            .decode(b64)
            .map_err(|_| cp_err("a signature is not base64"))?;
        if name.is_empty() || raw.len() < 5 {
            return Err(cp_err("a signature line is too short"));
        }
        let hint = [raw[0], raw[1], raw[2], raw[3]];
        signatures.push((name.to_string(), hint, raw[4..].to_vec()));
    }
    if signatures.is_empty() {
        return Err(cp_err("no signature"));
    }
    Ok(Checkpoint {
        origin: origin.to_string(),
        size,
        root_hash,
        text: text.to_string(),
        signatures,
    })
}

/// The host (with port, if any) and the bare host name of a log's base URL.
fn url_host(base_url: &str) -> Option<(String, String)> {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next()?.rsplit('@').next()?;
    if host.is_empty() {
        return None;
    }
    let name = if host.starts_with('[') {
        host.split(']').next().map(|h| format!("{h}]"))?
    } else {
        host.split(':').next()?.to_string()
    };
    Some((host.to_string(), name))
}

/// Rekor v1 names its checkpoints `<log host> - <tree ID>`; the log host must be the one
/// of the trusted log's base URL (with or without its port).
fn origin_matches(origin: &str, base_url: &str) -> bool {
    let Some((host, name)) = url_host(base_url) else {
        return false;
    };
    let stem = match origin.rsplit_once(" - ") {
        Some((stem, tree)) if !tree.is_empty() && tree.bytes().all(|b| b.is_ascii_digit()) => stem,
        _ => origin,
    };
    stem == host || stem == name
}

/// The note key hint of a log key: the first four bytes of SHA-256 of its SPKI DER.
pub fn key_hint(key: &super::pki::PublicKey) -> [u8; 4] {
    let h = sha256(&key.spki_der());
    [h[0], h[1], h[2], h[3]]
}

/// The signed-note key hint of a log: for ECDSA keys the first four bytes of SHA-256 of
/// the SPKI DER (Rekor v1 and v2); for Ed25519 keys (Rekor v2) the note standard's
/// SHA-256 of `name \n 0x01 key` with the log's host name as the key name.
pub fn note_key_hint(log: &LogKey) -> [u8; 4] {
    match &log.key {
        super::pki::PublicKey::Ed25519(k) => {
            let name = url_host(&log.base_url).map(|(_, n)| n).unwrap_or_default();
            let mut b = name.into_bytes();
            b.push(b'\n');
            b.push(0x01);
            b.extend_from_slice(k.as_bytes());
            let h = sha256(&b);
            [h[0], h[1], h[2], h[3]]
        }
        k => key_hint(k),
    }
}

/// oxtask's checks before sigstore-verify: the entry's log is one of the trusted root's
/// (named first, so a fabricated entry is refused for what it is), and its checkpoint's
/// origin names the host of that log's base URL (the crate, like sigstore-go, does not
/// check it).
pub fn check_checkpoint_origin(e: &LogEntry, trust: &TrustedRoot) -> Result<(), Error> {
    let log = trusted_log(e, trust)?;
    let Some(p) = e
        .inclusion_proof
        .as_ref()
        .filter(|p| !p.checkpoint.is_empty())
    else {
        return Ok(());
    };
    let cp = parse_checkpoint(&p.checkpoint)?;
    if log.base_url.is_empty() {
        return Err(Error::Verify(
            "the trusted root gives the transparency log no baseUrl, so the checkpoint's origin cannot be checked".into(),
        ));
    }
    if !origin_matches(&cp.origin, &log.base_url) {
        return Err(Error::Verify(format!(
            "checkpoint origin {:?} is not the transparency log {}",
            cp.origin, log.base_url
        )));
    }
    Ok(())
}

/// cosign's `dev.sigstore.cosign/bundle` annotation (Go field order).
pub fn cosign_bundle_json(e: &LogEntry) -> String {
    format!(
        "{{\"SignedEntryTimestamp\":{},\"Payload\":{{\"body\":{},\"integratedTime\":{},\"logIndex\":{},\"logID\":{}}}}}",
        Value::String(e.set.clone().unwrap_or_default()),
        Value::String(e.body.clone()),
        e.integrated_time,
        e.log_index,
        Value::String(e.log_id.clone())
    )
}

pub fn from_cosign_bundle(v: &Value) -> Result<LogEntry, Error> {
    let bad = |w: &str| {
        Error::Verify(format!(
            "dev.sigstore.cosign/bundle annotation: missing or invalid {w}"
        ))
    };
    let p = &v["Payload"];
    Ok(LogEntry {
        body: p["body"]
            .as_str()
            .ok_or_else(|| bad("Payload.body"))?
            .to_string(),
        integrated_time: p["integratedTime"]
            .as_i64()
            .ok_or_else(|| bad("Payload.integratedTime"))?,
        log_index: p["logIndex"]
            .as_i64()
            .ok_or_else(|| bad("Payload.logIndex"))?,
        log_id: p["logID"]
            .as_str()
            .ok_or_else(|| bad("Payload.logID"))?
            .to_string(),
        set: Some(
            v["SignedEntryTimestamp"]
                .as_str()
                .ok_or_else(|| bad("SignedEntryTimestamp"))?
                .to_string(),
        ),
        inclusion_proof: None,
    })
}

/// The entry as a Sigstore bundle `TransparencyLogEntry` (protobuf JSON mapping).
pub fn to_bundle_tlog_entry(e: &LogEntry, kind: &str) -> Result<Value, Error> {
    let log_id = unhex(&e.log_id).ok_or_else(|| Error::Rekor("log ID is not hex".into()))?;
    let mut v = json!({
        "logIndex": e.log_index.to_string(),
        "logId": { "keyId": B64.encode(log_id) },
        "kindVersion": { "kind": kind, "version": "0.0.1" },
        "integratedTime": e.integrated_time.to_string(),
        "canonicalizedBody": e.body,
    });
    if let Some(set) = &e.set {
        v["inclusionPromise"] = json!({ "signedEntryTimestamp": set });
    }
    if let Some(p) = &e.inclusion_proof {
        v["inclusionProof"] = json!({
            "logIndex": p.log_index.to_string(),
            "rootHash": B64.encode(&p.root_hash),
            "treeSize": p.tree_size.to_string(),
            "hashes": p.hashes.iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
            "checkpoint": { "envelope": p.checkpoint },
        });
    }
    Ok(v)
}

pub fn from_bundle_tlog_entry(v: &Value) -> Result<LogEntry, Error> {
    let bad = |w: &str| Error::Verify(format!("bundle tlog entry: missing or invalid {w}"));
    // Protobuf's JSON mapping writes int64 as strings and leaves zero values out
    // (cosign v3 omits `logIndex` 0), so an absent number is 0.
    let num = |x: &Value, w: &str| -> Result<i64, Error> {
        if x.is_null() {
            return Ok(0);
        }
        x.as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| x.as_i64())
            .ok_or_else(|| bad(w))
    };
    let b64 = |x: &Value, w: &str| -> Result<Vec<u8>, Error> {
        x.as_str()
            .and_then(|s| B64.decode(s).ok())
            .ok_or_else(|| bad(w))
    };
    let p = &v["inclusionProof"];
    let inclusion_proof = if p.is_object() {
        Some(InclusionProof {
            log_index: num(&p["logIndex"], "inclusionProof.logIndex")? as u64,
            root_hash: b64(&p["rootHash"], "rootHash")?,
            tree_size: num(&p["treeSize"], "treeSize")? as u64,
            hashes: p["hashes"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|h| b64(h, "hashes"))
                .collect::<Result<_, _>>()?,
            checkpoint: p["checkpoint"]["envelope"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        })
    } else {
        None
    };
    Ok(LogEntry {
        body: v["canonicalizedBody"]
            .as_str()
            .ok_or_else(|| bad("canonicalizedBody"))?
            .to_string(),
        integrated_time: num(&v["integratedTime"], "integratedTime")?,
        log_index: num(&v["logIndex"], "logIndex")?,
        log_id: hex(&b64(&v["logId"]["keyId"], "logId")?),
        set: v["inclusionPromise"]["signedEntryTimestamp"]
            .as_str()
            .map(str::to_string),
        inclusion_proof,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use p256::ecdsa::{signature::Signer, DerSignature, SigningKey};

    fn log_key(seed: u8, base_url: &str, valid_from: Option<u64>) -> (SigningKey, LogKey) {
        let sk = SigningKey::from_bytes(&[seed; 32].into()).unwrap();
        let key = super::super::pki::PublicKey::P256(*sk.verifying_key());
        let key_id = sha256(&key.spki_der()).to_vec();
        let lk = LogKey {
            key_id,
            key,
            valid_from,
            valid_until: None,
            base_url: base_url.into(),
        };
        (sk, lk)
    }

    fn sign(sk: &SigningKey, msg: &[u8]) -> Vec<u8> {
        let s: DerSignature = sk.sign(msg);
        s.as_bytes().to_vec()
    }

    fn checkpoint(sk: &SigningKey, hint: [u8; 4], origin: &str, root: &[u8]) -> String {
        let note = format!("{origin}\n1\n{}\nTimestamp: 1\n", B64.encode(root));
        let mut raw = hint.to_vec();
        raw.extend(sign(sk, note.as_bytes()));
        format!("{note}\n\u{2014} 127.0.0.1:1 {}\n", B64.encode(raw))
    }

    #[test]
    fn checkpoint_parsing_and_origin() {
        let (sk, lk) = log_key(1, "http://127.0.0.1:1", Some(1));
        let cp = checkpoint(&sk, key_hint(&lk.key), "o - 1", &[9; 32]);
        let c = parse_checkpoint(&cp).unwrap();
        assert_eq!((c.origin.as_str(), c.size), ("o - 1", 1));
        assert_eq!(c.signatures.len(), 1);
        assert!(parse_checkpoint(cp.trim_end()).is_err());
        assert!(parse_checkpoint(&cp.replace("\n1\n", "\nx\n")).is_err());
        assert!(parse_checkpoint("o\n1\nAAAA\n\n\u{2014} n AAAAAAA=\n").is_err());
        assert!(origin_matches(
            "rekor.sigstore.dev - 1193050959916656506",
            "https://rekor.sigstore.dev"
        ));
        assert!(origin_matches(
            "127.0.0.1:8080 - 5",
            "http://127.0.0.1:8080/"
        ));
        assert!(origin_matches("log.example", "https://log.example:443"));
        assert!(!origin_matches(
            "evil.example - 5",
            "https://rekor.sigstore.dev"
        ));
        assert!(!origin_matches(
            "rekor.sigstore.dev.evil - 5",
            "https://rekor.sigstore.dev"
        ));
        assert!(!origin_matches("rekor.sigstore.dev", ""));
    }

    #[test]
    fn bundle_annotation_round_trip() {
        let e = LogEntry {
            body: "Ym9keQ==".into(),
            integrated_time: 1700000000,
            log_index: 42,
            log_id: "ab".repeat(32),
            set: Some("c2V0".into()),
            inclusion_proof: None,
        };
        let s = cosign_bundle_json(&e);
        assert!(s.starts_with("{\"SignedEntryTimestamp\":\"c2V0\",\"Payload\":{\"body\""));
        let back = from_cosign_bundle(&serde_json::from_str(&s).unwrap()).unwrap();
        assert_eq!(back, e);
        assert_eq!(
            set_payload(&e),
            format!("{{\"body\":\"Ym9keQ==\",\"integratedTime\":1700000000,\"logID\":\"{}\",\"logIndex\":42}}", "ab".repeat(32))
        );
    }
}

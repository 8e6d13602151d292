//! Rekor v1 client and offline checks of its answers: the signed entry timestamp (SET),
//! the Merkle inclusion proof (RFC 9162) and the checkpoint signature.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

use super::pki::{hex, sha256, unhex, Hash};
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

/// Checks the SET with the key of the log named by `log_id` in the trusted root.
pub fn verify_set(e: &LogEntry, trust: &TrustedRoot) -> Result<(), Error> {
    let set = e.set.as_deref().ok_or_else(|| {
        Error::Verify("transparency log entry has no signed entry timestamp".into())
    })?;
    let sig = B64
        .decode(set)
        .map_err(|_| Error::Verify("signed entry timestamp is not base64".into()))?;
    let id =
        unhex(&e.log_id).ok_or_else(|| Error::Verify("transparency log ID is not hex".into()))?;
    let log = trust.tlog_by_id(&id).ok_or_else(|| {
        Error::Verify(format!(
            "transparency log {} is not in the trusted root",
            e.log_id
        ))
    })?;
    if e.integrated_time < 0 || !log.valid_at(e.integrated_time as u64) {
        return Err(Error::Verify(
            "entry integrated outside the transparency log key's validity".into(),
        ));
    }
    log.key
        .verify(set_payload(e).as_bytes(), &sig, Hash::Sha256)
        .map_err(|_| {
            Error::Verify("transparency log entry: signed entry timestamp does not verify".into())
        })
}

fn node(l: &[u8], r: &[u8]) -> [u8; 32] {
    let mut b = Vec::with_capacity(65);
    b.push(1);
    b.extend_from_slice(l);
    b.extend_from_slice(r);
    sha256(&b)
}

/// RFC 9162 §2.1.3.2: the root implied by an inclusion proof.
fn root_from_proof(index: u64, size: u64, leaf: [u8; 32], proof: &[Vec<u8>]) -> Option<[u8; 32]> {
    if index >= size {
        return None;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = leaf;
    for p in proof {
        if s == 0 || p.len() != 32 {
            return None;
        }
        if f & 1 == 1 || f == s {
            r = node(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
}

/// Checks the inclusion proof against the entry body and the signed checkpoint.
pub fn verify_inclusion(e: &LogEntry, trust: &TrustedRoot) -> Result<(), Error> {
    let p = e
        .inclusion_proof
        .as_ref()
        .ok_or_else(|| Error::Verify("transparency log entry has no inclusion proof".into()))?;
    let body = B64
        .decode(&e.body)
        .map_err(|_| Error::Verify("log entry body is not base64".into()))?;
    let mut leaf_in = Vec::with_capacity(body.len() + 1);
    leaf_in.push(0);
    leaf_in.extend_from_slice(&body);
    let root = root_from_proof(p.log_index, p.tree_size, sha256(&leaf_in), &p.hashes)
        .ok_or_else(|| Error::Verify("inclusion proof is malformed".into()))?;
    if root.as_slice() != p.root_hash.as_slice() {
        return Err(Error::Verify(
            "inclusion proof does not lead to the log's root hash".into(),
        ));
    }
    if p.checkpoint.is_empty() {
        return Ok(());
    }
    // Signed note: body up to the blank line, then "— <name> <base64(keyhint[4] || sig)>".
    let split = p
        .checkpoint
        .find("\n\n")
        .ok_or_else(|| Error::Verify("checkpoint is malformed".into()))?;
    let text = &p.checkpoint[..split + 1];
    let mut lines = text.lines();
    let _origin = lines.next();
    let size: u64 = lines
        .next()
        .and_then(|l| l.parse().ok())
        .unwrap_or(u64::MAX);
    let root_b64 = lines.next().unwrap_or_default();
    if size != p.tree_size || B64.decode(root_b64).ok().as_deref() != Some(p.root_hash.as_slice()) {
        return Err(Error::Verify(
            "checkpoint does not match the inclusion proof".into(),
        ));
    }
    let id = unhex(&e.log_id).unwrap_or_default();
    let log = trust.tlog_by_id(&id).ok_or_else(|| {
        Error::Verify(format!(
            "transparency log {} is not in the trusted root",
            e.log_id
        ))
    })?;
    let ok = p.checkpoint[split + 2..].lines().any(|l| {
        let Some(sig_b64) = l
            .strip_prefix("\u{2014} ")
            .and_then(|r| r.rsplit(' ').next())
        else {
            return false;
        };
        match B64.decode(sig_b64) {
            Ok(raw) if raw.len() > 4 => log
                .key
                .verify(text.as_bytes(), &raw[4..], Hash::Sha256)
                .is_ok(),
            _ => false,
        }
    });
    if !ok {
        return Err(Error::Verify("checkpoint signature does not verify".into()));
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
    let bad = || Error::Verify("malformed dev.sigstore.cosign/bundle annotation".into());
    let p = &v["Payload"];
    Ok(LogEntry {
        body: p["body"].as_str().ok_or_else(bad)?.to_string(),
        integrated_time: p["integratedTime"].as_i64().ok_or_else(bad)?,
        log_index: p["logIndex"].as_i64().ok_or_else(bad)?,
        log_id: p["logID"].as_str().ok_or_else(bad)?.to_string(),
        set: Some(
            v["SignedEntryTimestamp"]
                .as_str()
                .ok_or_else(bad)?
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

    fn leaf(i: u8) -> [u8; 32] {
        sha256(&[0, i])
    }

    #[test]
    fn inclusion_proof_four_leaves() {
        let l: Vec<[u8; 32]> = (0..4).map(leaf).collect();
        let n01 = node(&l[0], &l[1]);
        let n23 = node(&l[2], &l[3]);
        let root = node(&n01, &n23);
        assert_eq!(
            root_from_proof(2, 4, l[2], &[l[3].to_vec(), n01.to_vec()]),
            Some(root)
        );
        assert_eq!(
            root_from_proof(1, 4, l[1], &[l[0].to_vec(), n23.to_vec()]),
            Some(root)
        );
        assert_ne!(
            root_from_proof(1, 4, l[2], &[l[0].to_vec(), n23.to_vec()]),
            Some(root)
        );
        // three leaves: the last one pairs with the subtree of the first two
        let root3 = node(&n01, &l[2]);
        assert_eq!(root_from_proof(2, 3, l[2], &[n01.to_vec()]), Some(root3));
        assert_eq!(root_from_proof(0, 1, l[0], &[]), Some(l[0]));
        assert_eq!(root_from_proof(1, 1, l[0], &[]), None);
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

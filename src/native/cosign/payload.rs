//! What gets signed: cosign's simple-signing payload (legacy layout) and, for the
//! Sigstore bundle format, an in-toto statement inside a DSSE envelope.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use indexmap::IndexMap;
use serde_json::{json, Value};

use super::Error;

pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
pub const INTOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
pub const INTOTO_STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";

/// The simple-signing payload as cosign's Go code marshals it: keys in struct order
/// (`critical` then `optional`), annotations (a Go map) with sorted keys, `null` when none.
pub fn simple_signing(
    docker_reference: &str,
    digest: &str,
    annotations: &IndexMap<String, String>,
) -> Vec<u8> {
    let mut sorted: Vec<(&String, &String)> = annotations.iter().collect();
    sorted.sort();
    let optional = if sorted.is_empty() {
        Value::Null
    } else {
        Value::Object(
            sorted
                .into_iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    };
    let v = json!({
        "critical": {
            "identity": { "docker-reference": docker_reference },
            "image": { "docker-manifest-digest": digest },
            "type": "cosign container image signature"
        },
        "optional": optional
    });
    serde_json::to_vec(&v).expect("serialising JSON cannot fail")
}

/// The parts of a simple-signing payload a verifier checks.
#[derive(Debug)]
pub struct SimpleSigning {
    pub docker_reference: String,
    pub digest: String,
    pub kind: String,
    pub optional: Value,
    pub raw: Value,
}

pub fn parse_simple_signing(b: &[u8]) -> Result<SimpleSigning, Error> {
    let v: Value = serde_json::from_slice(b)
        .map_err(|e| Error::Verify(format!("signature payload is not JSON: {e}")))?;
    let c = &v["critical"];
    Ok(SimpleSigning {
        docker_reference: c["identity"]["docker-reference"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        digest: c["image"]["docker-manifest-digest"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        kind: c["type"].as_str().unwrap_or_default().to_string(),
        optional: v["optional"].clone(),
        raw: v,
    })
}

/// cosign v3's statement for `sign --new-bundle-format`.
pub fn statement(digest: &str, annotations: &IndexMap<String, String>) -> Result<Vec<u8>, Error> {
    let (alg, hex) = digest
        .split_once(':')
        .ok_or_else(|| Error::Usage(format!("unable to parse digest {digest}")))?;
    let mut subject = json!({ "digest": { alg: hex } });
    if !annotations.is_empty() {
        subject["annotations"] = Value::Object(
            annotations
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        );
    }
    let v = json!({
        "_type": INTOTO_STATEMENT_V1,
        "subject": [subject],
        "predicateType": COSIGN_SIGN_PREDICATE,
        "predicate": {}
    });
    Ok(serde_json::to_vec(&v).expect("serialising JSON cannot fail"))
}

/// DSSE pre-authentication encoding: what a DSSE signature covers.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope (protobuf JSON mapping, as in bundles and Rekor dsse entries).
pub fn envelope_json(payload_type: &str, payload: &[u8], sig: &[u8]) -> Value {
    json!({
        "payload": B64.encode(payload),
        "payloadType": payload_type,
        "signatures": [{ "sig": B64.encode(sig), "keyid": "" }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_signing_matches_cosign_bytes() {
        let p = simple_signing("reg.example/a/b", "sha256:abc", &IndexMap::new());
        assert_eq!(
            String::from_utf8(p).unwrap(),
            r#"{"critical":{"identity":{"docker-reference":"reg.example/a/b"},"image":{"docker-manifest-digest":"sha256:abc"},"type":"cosign container image signature"},"optional":null}"#
        );
        let mut a = IndexMap::new();
        a.insert("z".to_string(), "1".to_string());
        a.insert("a".to_string(), "2".to_string());
        let p = String::from_utf8(simple_signing("r/x", "sha256:abc", &a)).unwrap();
        assert!(p.ends_with(r#""optional":{"a":"2","z":"1"}}"#), "{p}");
    }

    #[test]
    fn pae_encoding() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }
}

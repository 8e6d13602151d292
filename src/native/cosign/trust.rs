//! Sigstore trust material and service endpoints: the standard `TrustedRoot` and
//! `SigningConfig` JSON files (protobuf-specs JSON mapping), where to get them (flag,
//! environment, TUF), and the public-good service defaults.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::Value;

use super::pki::{Cert, LogKey, PublicKey};
use super::Error;

/// Public-good Sigstore instance (what cosign uses without flags).
pub const DEFAULT_FULCIO_URL: &str = "https://fulcio.sigstore.dev";
pub const DEFAULT_REKOR_URL: &str = "https://rekor.sigstore.dev";

/// A certificate authority: its chain (intermediates first, root last).
#[derive(Clone, Debug)]
pub struct CertAuthority {
    pub chain: Vec<Cert>,
    pub uri: String,
    pub valid_from: Option<u64>,
    pub valid_until: Option<u64>,
}

#[derive(Clone, Debug, Default)]
pub struct TrustedRoot {
    pub tlogs: Vec<LogKey>,
    pub ctlogs: Vec<LogKey>,
    pub cas: Vec<CertAuthority>,
    /// RFC 3161 timestamp authorities (chain: signing certificate first).
    pub tsas: Vec<CertAuthority>,
    /// The JSON this was parsed from, for sigstore-verify (`super::sigverify`).
    pub json: Vec<u8>,
}

/// Service endpoints for signing.
#[derive(Clone, Debug)]
pub struct SigningConfig {
    pub fulcio_url: String,
    /// Rekor v1 log; `None` when the config names none (fine with `--tlog-upload=false`).
    pub rekor_url: Option<String>,
    /// RFC 3161 timestamp authority, when the config names one (cosign v3 then uses it).
    pub tsa_url: Option<String>,
}

pub(crate) fn rfc3339_to_unix(s: &str) -> Option<u64> {
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |a: usize, n: usize| s.get(a..a + n)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (
        num(0, 4)?,
        num(5, 2)?,
        num(8, 2)?,
        num(11, 2)?,
        num(14, 2)?,
        num(17, 2)?,
    );
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = if rest == "Z" || rest == "z" {
        0
    } else {
        let sign = if rest.starts_with('-') { -1 } else { 1 };
        let hh: i64 = rest.get(1..3)?.parse().ok()?;
        let mm: i64 = rest.get(4..6)?.parse().ok()?;
        sign * (hh * 3600 + mm * 60)
    };
    // days from civil (Howard Hinnant's algorithm)
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let t = days * 86400 + h * 3600 + mi * 60 + se - offset;
    u64::try_from(t).ok()
}

fn validity(v: &Value) -> (Option<u64>, Option<u64>) {
    let f = |k: &str| v["validFor"][k].as_str().and_then(rfc3339_to_unix);
    (f("start"), f("end"))
}

fn b64_field(v: &Value, what: &str) -> Result<Vec<u8>, Error> {
    let s = v
        .as_str()
        .ok_or_else(|| Error::Trust(format!("trusted root: missing {what}")))?;
    B64.decode(s)
        .map_err(|_| Error::Trust(format!("trusted root: {what} is not base64")))
}

fn log_keys(arr: &Value, what: &str) -> Result<Vec<LogKey>, Error> {
    let mut out = Vec::new();
    for l in arr.as_array().map(Vec::as_slice).unwrap_or_default() {
        let raw = b64_field(&l["publicKey"]["rawBytes"], &format!("{what} publicKey"))?;
        let key = match PublicKey::from_spki_der(&raw) {
            Ok(k) => k,
            // Keys of other types (e.g. RSA or ML-DSA logs) are skipped, not fatal.
            Err(_) => continue,
        };
        let key_id = b64_field(&l["logId"]["keyId"], &format!("{what} logId"))?;
        let (valid_from, valid_until) = validity(&l["publicKey"]);
        out.push(LogKey {
            key_id,
            key,
            valid_from,
            valid_until,
            base_url: l["baseUrl"].as_str().unwrap_or_default().to_string(),
        });
    }
    Ok(out)
}

fn authorities(arr: &Value) -> Result<Vec<CertAuthority>, Error> {
    let mut out = Vec::new();
    for ca in arr.as_array().map(Vec::as_slice).unwrap_or_default() {
        let mut chain = Vec::new();
        for c in ca["certChain"]["certificates"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            chain.push(Cert::from_der(&b64_field(&c["rawBytes"], "certificate")?)?);
        }
        if chain.is_empty() {
            continue;
        }
        let (valid_from, valid_until) = validity(ca);
        out.push(CertAuthority {
            chain,
            uri: ca["uri"].as_str().unwrap_or_default().to_string(),
            valid_from,
            valid_until,
        });
    }
    Ok(out)
}

impl TrustedRoot {
    pub fn from_json(bytes: &[u8]) -> Result<TrustedRoot, Error> {
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::Trust(format!("trusted root: {e}")))?;
        let mt = v["mediaType"].as_str().unwrap_or_default();
        if !mt.starts_with("application/vnd.dev.sigstore.trustedroot") {
            return Err(Error::Trust(format!(
                "trusted root: unexpected mediaType {mt:?}"
            )));
        }
        let cas = authorities(&v["certificateAuthorities"])?;
        let tsas = authorities(&v["timestampAuthorities"])?;
        Ok(TrustedRoot {
            tlogs: log_keys(&v["tlogs"], "tlog")?,
            ctlogs: log_keys(&v["ctlogs"], "ctlog")?,
            cas,
            tsas,
            json: bytes.to_vec(),
        })
    }

    pub fn load(path: &Path) -> Result<TrustedRoot, Error> {
        let b = std::fs::read(path)
            .map_err(|e| Error::Trust(format!("reading trusted root {}: {e}", path.display())))?;
        TrustedRoot::from_json(&b).map_err(|e| Error::Trust(format!("{}: {e}", path.display())))
    }

    pub fn tlog_by_id(&self, id: &[u8]) -> Option<&LogKey> {
        self.tlogs.iter().find(|l| l.key_id == id)
    }
}

impl SigningConfig {
    pub fn public_good() -> SigningConfig {
        SigningConfig {
            fulcio_url: DEFAULT_FULCIO_URL.into(),
            rekor_url: Some(DEFAULT_REKOR_URL.into()),
            tsa_url: None,
        }
    }

    /// Reads a signing config (v0.2 `caUrls`/`rekorTlogUrls`, or v0.1 `caUrl`/`tlogUrls`).
    /// Services for Rekor API v1 are preferred, as this client speaks v1.
    pub fn from_json(bytes: &[u8]) -> Result<SigningConfig, Error> {
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::Trust(format!("signing config: {e}")))?;
        let mt = v["mediaType"].as_str().unwrap_or_default();
        if !mt.starts_with("application/vnd.dev.sigstore.signingconfig") {
            return Err(Error::Trust(format!(
                "signing config: unexpected mediaType {mt:?}"
            )));
        }
        // Services whose validity window covers now and whose API this client speaks (v1);
        // the list's first such entry, as sigstore-go's selection does.
        let now = super::oidc::now();
        let current = |s: &&Value| {
            let (from, until) = validity(s);
            from.is_none_or(|f| f <= now) && until.is_none_or(|u| now < u)
        };
        let pick = |key: &str| -> Option<String> {
            let arr = v[key].as_array()?;
            arr.iter()
                .filter(current)
                .find(|s| s["majorApiVersion"].as_u64().unwrap_or(1) == 1)
                .or_else(|| {
                    arr.iter()
                        .find(|s| s["majorApiVersion"].as_u64().unwrap_or(1) == 1)
                })
                .and_then(|s| s["url"].as_str())
                .map(str::to_string)
        };
        let fulcio = pick("caUrls").or_else(|| v["caUrl"].as_str().map(str::to_string));
        let rekor = pick("rekorTlogUrls").or_else(|| pick("tlogUrls"));
        Ok(SigningConfig {
            fulcio_url: fulcio
                .ok_or_else(|| Error::Trust("signing config names no CA (Fulcio) URL".into()))?,
            rekor_url: rekor,
            tsa_url: pick("tsaUrls"),
        })
    }

    pub fn load(path: &Path) -> Result<SigningConfig, Error> {
        let b = std::fs::read(path)
            .map_err(|e| Error::Trust(format!("reading signing config {}: {e}", path.display())))?;
        SigningConfig::from_json(&b).map_err(|e| Error::Trust(format!("{}: {e}", path.display())))
    }
}

/// The trusted root to use: `--trusted-root`, else `SIGSTORE_TRUSTED_ROOT`, else the TUF
/// target `trusted_root.json` of the TUF repository (the public-good one unless `cosign
/// initialize --mirror` chose another; see [`super::tuf`]).
pub async fn resolve_trusted_root(flag: Option<&Path>) -> Result<TrustedRoot, Error> {
    if let Some(p) = flag {
        return TrustedRoot::load(p);
    }
    if let Some(p) = std::env::var_os("SIGSTORE_TRUSTED_ROOT").filter(|p| !p.is_empty()) {
        return TrustedRoot::load(Path::new(&p));
    }
    let bytes = super::tuf::fetch_target("trusted_root.json")
        .await?
        .ok_or_else(|| Error::Trust("the TUF repository has no trusted_root.json target".into()))?;
    TrustedRoot::from_json(&bytes)
        .map_err(|e| Error::Trust(format!("TUF target trusted_root.json: {e}")))
}

/// The TUF repository's signing config (target `signing_config.v0.2.json`), `None` when
/// the repository has none.
pub async fn tuf_signing_config() -> Result<Option<SigningConfig>, Error> {
    match super::tuf::fetch_target("signing_config.v0.2.json").await? {
        Some(b) => SigningConfig::from_json(&b)
            .map(Some)
            .map_err(|e| Error::Trust(format!("TUF target signing_config.v0.2.json: {e}"))),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(rfc3339_to_unix("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_to_unix("2021-03-07T03:20:29.000Z"),
            Some(1615087229)
        );
        assert_eq!(
            rfc3339_to_unix("2021-03-07T04:20:29+01:00"),
            Some(1615087229)
        );
        assert_eq!(rfc3339_to_unix("nonsense"), None);
    }

    #[test]
    fn signing_config_v02_and_v01() {
        let v2 = br#"{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls":[{"url":"http://ca","majorApiVersion":1}],
            "rekorTlogUrls":[{"url":"http://r2","majorApiVersion":2},{"url":"http://r1","majorApiVersion":1}]}"#;
        let c = SigningConfig::from_json(v2).unwrap();
        assert_eq!(
            (c.fulcio_url.as_str(), c.rekor_url.as_deref()),
            ("http://ca", Some("http://r1"))
        );
        assert_eq!(c.tsa_url, None);
        // Only Rekor v2 logs: no v1 service to use.
        let v1 = br#"{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.1+json",
            "caUrl":"http://ca1","tlogUrls":[{"url":"http://r2","majorApiVersion":2}]}"#;
        assert_eq!(SigningConfig::from_json(v1).unwrap().rekor_url, None);
        // Services outside their validity window are passed over for current ones.
        let windows = br#"{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls":[{"url":"http://old-ca","majorApiVersion":1,"validFor":{"start":"2020-01-01T00:00:00Z","end":"2021-01-01T00:00:00Z"}},
                      {"url":"http://ca","majorApiVersion":1,"validFor":{"start":"2021-01-01T00:00:00Z"}}],
            "rekorTlogUrls":[{"url":"http://future","majorApiVersion":1,"validFor":{"start":"2999-01-01T00:00:00Z"}},
                             {"url":"http://r1","majorApiVersion":1,"validFor":{"start":"2021-01-01T00:00:00Z"}}],
            "tsaUrls":[{"url":"http://tsa","majorApiVersion":1,"validFor":{"start":"2021-01-01T00:00:00Z"}}]}"#;
        let c = SigningConfig::from_json(windows).unwrap();
        assert_eq!(c.fulcio_url, "http://ca");
        assert_eq!(c.rekor_url.as_deref(), Some("http://r1"));
        assert_eq!(c.tsa_url.as_deref(), Some("http://tsa"));
        let bad = br#"{"mediaType":"something/else"}"#;
        assert!(SigningConfig::from_json(bad).is_err());
    }
}

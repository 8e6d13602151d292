//! Provenance files: an OpenPGP clear-signed message block (`helm package --sign`,
//! `helm verify`), with go-crypto's conventions (SHA-512, text signature, trailing newline
//! signed, armor without CRC line, no newline after the END line).

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use pgp::composed::{
    ArmorOptions, CleartextSignedMessage, Deserializable, SignedPublicKey, SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{SignatureConfig, SignatureType, Subpacket, SubpacketData};
use pgp::types::{KeyDetails, KeyVersion, Password};
use sha2::{Digest, Sha256};

use super::args::flag;
use super::{loader, parse_flags, CmdError, CmdResult};

/// `sha256:<hex>` of a file.
pub fn digest_file(path: &Path) -> Result<String, String> {
    let data = std::fs::read(path)
        .map_err(|e| format!("open {}: {}", path.display(), loader::io_msg(&e)))?;
    Ok(format!("sha256:{}", hex::encode(Sha256::digest(&data))))
}

/// The text Helm signs: Chart.yaml of the chart re-read from the archive, `...`, files map.
pub fn message_block(tgz: &Path) -> Result<String, String> {
    let ch = loader::load_archive_file(tgz, &mut super::warn)?;
    let meta = ch.metadata.to_chart_yaml(false);
    let base = tgz
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let files = super::yaml::Yaml::Map(vec![(
        super::yaml::Yaml::Str("files".into()),
        super::yaml::Yaml::Map(vec![(
            super::yaml::Yaml::Str(base),
            super::yaml::Yaml::Str(digest_file(tgz)?),
        )]),
    )]);
    Ok(format!("{meta}\n...\n{}", super::yaml::emit(&files)))
}

/// `--passphrase-file`: first line of the file (`-` = stdin, which must not be a terminal).
pub fn read_passphrase_file(f: &str) -> Result<String, String> {
    let mut data = Vec::new();
    if f == "-" {
        use std::io::IsTerminal;
        if std::io::stdin().is_terminal() {
            return Err("specified reading passphrase from stdin, without input on stdin".into());
        }
        std::io::stdin()
            .read_to_end(&mut data)
            .map_err(|e| e.to_string())?;
    } else {
        data = std::fs::read(f).map_err(|e| format!("open {f}: {}", loader::io_msg(&e)))?;
    }
    let text = String::from_utf8_lossy(&data);
    Ok(text
        .split('\n')
        .next()
        .unwrap_or("")
        .trim_end_matches('\r')
        .to_string())
}

fn read_all(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("open {}: {}", path.display(), loader::io_msg(&e)))
}

fn is_armored(data: &[u8]) -> bool {
    let t = data
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    data[t..].starts_with(b"-----BEGIN")
}

fn secret_keys(data: &[u8]) -> Vec<SignedSecretKey> {
    if is_armored(data) {
        SignedSecretKey::from_armor_many(data)
            .map(|(it, _)| it.filter_map(Result::ok).collect())
            .unwrap_or_default()
    } else {
        SignedSecretKey::from_bytes_many(BufReader::new(data))
            .map(|it| it.filter_map(Result::ok).collect())
            .unwrap_or_default()
    }
}

/// Public keys of a keyring (armored or binary; secret keys contribute their public part).
fn public_keys(data: &[u8]) -> Vec<SignedPublicKey> {
    let mut out: Vec<SignedPublicKey> = if is_armored(data) {
        SignedPublicKey::from_armor_many(data)
            .map(|(it, _)| it.filter_map(Result::ok).collect())
            .unwrap_or_default()
    } else {
        SignedPublicKey::from_bytes_many(BufReader::new(data))
            .map(|it| it.filter_map(Result::ok).collect())
            .unwrap_or_default()
    };
    out.extend(
        secret_keys(data)
            .iter()
            .map(SignedSecretKey::signed_public_key),
    );
    out
}

fn identities_pub(k: &SignedPublicKey) -> Vec<String> {
    k.details
        .users
        .iter()
        .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
        .collect()
}

fn identities_sec(k: &SignedSecretKey) -> Vec<String> {
    k.details
        .users
        .iter()
        .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
        .collect()
}

/// Picks the key Helm would: an exact identity match, else the single identity containing
/// `id`.
fn select<'a, T>(
    keys: &'a [T],
    ids: impl Fn(&T) -> Vec<String>,
    id: &str,
) -> Result<Option<&'a T>, String> {
    for k in keys {
        if ids(k).iter().any(|u| u == id) {
            return Ok(Some(k));
        }
    }
    let matches: Vec<&T> = keys
        .iter()
        .filter(|k| ids(k).iter().any(|u| u.contains(id)))
        .collect();
    match matches.len() {
        0 => Ok(None),
        1 => Ok(Some(matches[0])),
        _ => Err(format!("more than one key contain the id {id:?}")),
    }
}

/// Signs `tgz` into `<tgz>.prov` (mode 0644, written atomically).
pub fn sign_archive(
    tgz: &Path,
    keyring: &Path,
    key_id: &str,
    passphrase: Option<&str>,
) -> Result<(), String> {
    let data = read_all(keyring).map_err(|e| format!("failed to load keyring: {e}"))?;
    let secrets = secret_keys(&data);
    let Some(key) = select(&secrets, identities_sec, key_id)? else {
        let publics = public_keys(&data);
        if select(&publics, identities_pub, key_id)?.is_some() {
            return Err(
                "provided key is not a private key. Try providing a keyring with secret keys"
                    .into(),
            );
        }
        return Err("private key not found".into());
    };
    let text = message_block(tgz)?;
    let armored = clearsign(&text, key, passphrase)?;
    let out = PathBuf::from(format!("{}.prov", tgz.display()));
    super::save::write_atomic(&out, armored.as_bytes(), 0o644)
        .map_err(|e| format!("{}: {e}", out.display()))
}

fn clearsign(
    text: &str,
    key: &SignedSecretKey,
    passphrase: Option<&str>,
) -> Result<String, String> {
    let build = |pw: &Password| -> Result<CleartextSignedMessage, pgp::errors::Error> {
        let mut config =
            SignatureConfig::from_key(rand::thread_rng(), &key.primary_key, SignatureType::Text)?;
        config.hash_alg = HashAlgorithm::Sha512;
        config.hashed_subpackets = vec![
            Subpacket::regular(SubpacketData::SignatureCreationTime(
                chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp(), 0)
                    .unwrap_or_default(),
            ))?,
            Subpacket::regular(SubpacketData::IssuerFingerprint(key.fingerprint()))?,
        ];
        if key.version() <= KeyVersion::V4 {
            config.unhashed_subpackets =
                vec![Subpacket::regular(SubpacketData::Issuer(key.key_id()))?];
        }
        CleartextSignedMessage::new(text, config, &key.primary_key, pw)
    };
    let msg = match passphrase {
        Some(p) => build(&Password::from(p)).map_err(|e| format!("failed to sign: {e}"))?,
        None => match build(&Password::empty()) {
            Ok(m) => m,
            Err(_) => {
                let ident = identities_sec(key).into_iter().next().unwrap_or_default();
                let pw = rpassword::prompt_password(format!("Password for key {ident:?} >  "))
                    .map_err(|e| e.to_string())?;
                build(&Password::from(pw.as_str())).map_err(|e| format!("failed to sign: {e}"))?
            }
        },
    };
    let s = msg
        .to_armored_string(ArmorOptions {
            headers: None,
            include_checksum: false,
        })
        .map_err(|e| e.to_string())?;
    Ok(s.trim_end_matches('\n').to_string())
}

/// Verification result lines (stdout of `helm verify`).
pub fn verify_file(tgz: &Path, keyring: &Path) -> Result<String, String> {
    let md = std::fs::metadata(tgz)
        .map_err(|e| format!("stat {}: {}", tgz.display(), loader::io_msg(&e)))?;
    if md.is_dir() {
        return Err("unpacked charts cannot be verified".into());
    }
    if !tgz.to_string_lossy().to_ascii_lowercase().ends_with(".tgz") {
        return Err("chart must be a tgz file".into());
    }
    let prov_path = PathBuf::from(format!("{}.prov", tgz.display()));
    let prov = std::fs::read(&prov_path).map_err(|e| {
        format!(
            "could not load provenance file {}: {}",
            prov_path.display(),
            loader::io_msg(&e)
        )
    })?;
    let kr = read_all(keyring).map_err(|e| format!("failed to load keyring: {e}"))?;
    let keys = public_keys(&kr);
    if keys.is_empty() {
        return Err(
            "failed to load keyring: openpgp: invalid argument: no armored data found".into(),
        );
    }
    let text = String::from_utf8_lossy(&prov).into_owned();
    let (msg, _) = CleartextSignedMessage::from_string(&text)
        .map_err(|_| "failed to decode signature: signature block not found".to_string())?;
    let mut signer: Option<&SignedPublicKey> = None;
    let mut fpr = String::new();
    'keys: for k in &keys {
        if msg.verify(&k.primary_key).is_ok() {
            signer = Some(k);
            fpr = hex::encode_upper(k.fingerprint().as_bytes());
            break;
        }
        for sk in &k.public_subkeys {
            if msg.verify(&sk.key).is_ok() {
                signer = Some(k);
                fpr = hex::encode_upper(sk.key.fingerprint().as_bytes());
                break 'keys;
            }
        }
    }
    let Some(signer) = signer else {
        return Err("openpgp: signature made by unknown entity".into());
    };
    let plain = msg.signed_text().replace("\r\n", "\n");
    let parts: Vec<&str> = plain.splitn(2, "\n...\n").collect();
    if parts.len() < 2 {
        return Err("message block must have at least two parts".into());
    }
    let files = super::yaml::parse(parts[1]).map_err(|e| e.to_string())?;
    let base = tgz
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut expected = None;
    if let super::yaml::Yaml::Map(m) = &files {
        for (k, v) in m {
            if k.key_string() == "files" {
                if let super::yaml::Yaml::Map(fm) = v {
                    for (fk, fv) in fm {
                        if fk.key_string() == base {
                            expected = Some(fv.key_string());
                        }
                    }
                }
            }
        }
    }
    let Some(expected) = expected else {
        return Err(format!(
            "provenance does not contain a SHA for a file named {base:?}"
        ));
    };
    let actual = digest_file(tgz)?;
    if expected != actual {
        return Err(format!(
            "sha256 sum does not match for {base}: {expected:?} != {actual:?}"
        ));
    }
    let mut out = String::new();
    for id in identities_pub(signer) {
        out.push_str(&format!("Signed by: {id}\n"));
    }
    out.push_str(&format!("Using Key With Fingerprint: {fpr}\n"));
    out.push_str(&format!("Chart Hash Verified: {actual}\n"));
    Ok(out)
}

pub fn verify_cmd(args: &[String]) -> CmdResult {
    let p = parse_flags("verify", args, &[flag("keyring", None, true)])?;
    if p.positional.len() != 1 {
        return Err(CmdError::Fail(
            "\"helm verify\" requires 1 argument\n\nUsage:  helm verify PATH [flags]".into(),
        ));
    }
    let keyring = p
        .get("keyring")
        .map(PathBuf::from)
        .unwrap_or_else(super::package::default_keyring);
    let out = verify_file(Path::new(&p.positional[0]), &keyring)?;
    print!("{out}");
    Ok(())
}

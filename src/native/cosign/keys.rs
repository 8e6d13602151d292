//! Keys: cosign's encrypted private-key file format, public keys, and key references.
//!
//! The private key file is PEM `ENCRYPTED SIGSTORE PRIVATE KEY` whose body is JSON
//! `{"kdf":{"name":"scrypt","params":{"N","r","p"},"salt"},"cipher":{"name":"nacl/secretbox","nonce"},"ciphertext"}`
//! (byte fields base64) sealing the PKCS#8 DER of an ECDSA P-256 key — the format of
//! go-securesystemslib's `encrypted` package that cosign uses.

use std::io::{IsTerminal, Write};

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::pki::PublicKey;
use super::Error;

pub const SIGSTORE_PRIVATE_KEY_PEM: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
pub const COSIGN_PRIVATE_KEY_PEM: &str = "ENCRYPTED COSIGN PRIVATE KEY";

/// scrypt cost written by us: securesystemslib's long-standing default, which every
/// cosign release reads. 65536 is also accepted on read (newer writers use it).
const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Sealed {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct KdfParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// An ECDSA P-256 signing key (cosign's default algorithm).
pub struct SigningKey(pub p256::ecdsa::SigningKey);

impl SigningKey {
    pub fn generate() -> SigningKey {
        SigningKey(p256::ecdsa::SigningKey::random(&mut OsRng))
    }

    /// ECDSA-SHA256 over `msg`, ASN.1 DER encoded (what cosign stores, base64'd).
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer;
        let sig: p256::ecdsa::Signature = self.0.sign(msg);
        sig.to_der().as_bytes().to_vec()
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey::P256(*self.0.verifying_key())
    }

    pub fn public_key_pem(&self) -> String {
        self.0
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("encoding a P-256 public key cannot fail")
    }
}

fn scrypt_key(
    password: &[u8],
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
) -> Result<Zeroizing<[u8; 32]>, Error> {
    let params = scrypt::Params::new(log_n, r, p, 32)
        .map_err(|e| Error::Key(format!("scrypt parameters: {e}")))?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password, salt, &params, key.as_mut())
        .map_err(|e| Error::Key(format!("scrypt: {e}")))?;
    Ok(key)
}

/// Seals `plaintext` as securesystemslib's `encrypted.Encrypt` does; returns the JSON.
fn seal(plaintext: &[u8], password: &[u8]) -> Result<Vec<u8>, Error> {
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut salt);
    OsRng.fill_bytes(&mut nonce);
    let key = scrypt_key(password, &salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    let ct = cipher
        .encrypt((&nonce).into(), plaintext)
        .map_err(|_| Error::Key("encrypting private key failed".into()))?;
    let sealed = Sealed {
        kdf: Kdf {
            name: "scrypt".into(),
            params: KdfParams {
                n: 1 << SCRYPT_LOG_N,
                r: SCRYPT_R,
                p: SCRYPT_P,
            },
            salt: B64.encode(salt),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: B64.encode(nonce),
        },
        ciphertext: B64.encode(ct),
    };
    Ok(serde_json::to_vec(&sealed).expect("serialising a struct cannot fail"))
}

fn open(json: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    let s: Sealed = serde_json::from_slice(json)
        .map_err(|e| Error::Key(format!("encrypted private key: {e}")))?;
    if s.kdf.name != "scrypt" {
        return Err(Error::Key(format!(
            "encrypted private key: unknown kdf name {:?}",
            s.kdf.name
        )));
    }
    if s.cipher.name != "nacl/secretbox" {
        return Err(Error::Key(format!(
            "encrypted private key: unknown cipher name {:?}",
            s.cipher.name
        )));
    }
    // Fixed parameter sets only: a tampered file must not make us burn memory/CPU.
    let log_n = match (s.kdf.params.n, s.kdf.params.r, s.kdf.params.p) {
        (32768, 8, 1) => 15,
        (65536, 8, 1) => 16,
        _ => {
            return Err(Error::Key(
                "encrypted private key: unexpected kdf parameters".into(),
            ))
        }
    };
    let salt = B64
        .decode(&s.kdf.salt)
        .map_err(|_| Error::Key("encrypted private key: bad salt".into()))?;
    let nonce = B64
        .decode(&s.cipher.nonce)
        .map_err(|_| Error::Key("encrypted private key: bad nonce".into()))?;
    if nonce.len() != 24 {
        return Err(Error::Key(
            "encrypted private key: incorrect nonce size".into(),
        ));
    }
    let ct = B64
        .decode(&s.ciphertext)
        .map_err(|_| Error::Key("encrypted private key: bad ciphertext".into()))?;
    let key = scrypt_key(password, &salt, log_n, 8, 1)?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    let pt = cipher
        .decrypt(nonce.as_slice().into(), ct.as_slice())
        .map_err(|_| {
            Error::Key("decrypt: encrypted: decryption failed (wrong password?)".into())
        })?;
    Ok(Zeroizing::new(pt))
}

/// The private key as cosign writes it (PEM text).
pub fn encrypt_private_key(key: &SigningKey, password: &[u8]) -> Result<String, Error> {
    let der = key
        .0
        .to_pkcs8_der()
        .map_err(|e| Error::Key(format!("encoding private key: {e}")))?;
    let sealed = seal(der.as_bytes(), password)?;
    Ok(pem::encode_config(
        &pem::Pem::new(SIGSTORE_PRIVATE_KEY_PEM, sealed),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    ))
}

/// Reads a private key: cosign's encrypted format, or an unencrypted PKCS#8 /
/// SEC1 EC PEM (cosign accepts these too).
pub fn decrypt_private_key(text: &[u8], password: &[u8]) -> Result<SigningKey, Error> {
    let p = pem::parse(text).map_err(|_| Error::Key("invalid pem block".into()))?;
    match p.tag() {
        SIGSTORE_PRIVATE_KEY_PEM | COSIGN_PRIVATE_KEY_PEM => {
            let der = open(p.contents(), password)?;
            // cosign seals PKCS#8; keys from older releases hold SEC1 (`EC PRIVATE KEY`) DER.
            p256::ecdsa::SigningKey::from_pkcs8_der(&der)
                .or_else(|_| p256::SecretKey::from_sec1_der(&der).map(Into::into))
                .map(SigningKey)
                .map_err(|_| {
                    Error::Key("unsupported private key: only ECDSA P-256 keys can sign".into())
                })
        }
        "PRIVATE KEY" => p256::ecdsa::SigningKey::from_pkcs8_der(p.contents())
            .map(SigningKey)
            .map_err(|_| {
                Error::Key("unsupported private key: only ECDSA P-256 keys can sign".into())
            }),
        "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(p.contents())
            .map(|k| SigningKey(k.into()))
            .map_err(|_| {
                Error::Key("unsupported private key: only ECDSA P-256 keys can sign".into())
            }),
        other => Err(Error::Key(format!("unsupported pem type: {other}"))),
    }
}

/// `FILE` or `env://VAR`: the bytes of a key reference.
pub fn read_key_ref(r: &str) -> Result<Vec<u8>, Error> {
    if let Some(var) = r.strip_prefix("env://") {
        return std::env::var(var)
            .map(String::into_bytes)
            .map_err(|_| Error::Key(format!("environment variable {var} is not set")));
    }
    if r.contains("://") {
        return Err(Error::Usage(format!(
            "key reference {r:?}: only files and env://VAR are supported (KMS and PKCS#11 are not)"
        )));
    }
    std::fs::read(r).map_err(|e| Error::Key(format!("reading key {r}: {e}")))
}

/// A public key from `--key` (PEM `PUBLIC KEY`, or a certificate's key).
pub fn load_public_key(r: &str) -> Result<PublicKey, Error> {
    let bytes = read_key_ref(r)?;
    parse_public_key_pem(&bytes)
}

pub fn parse_public_key_pem(bytes: &[u8]) -> Result<PublicKey, Error> {
    let p = pem::parse(bytes).map_err(|_| Error::Key("PEM decoding failed".into()))?;
    match p.tag() {
        "PUBLIC KEY" => PublicKey::from_spki_der(p.contents()),
        "CERTIFICATE" => {
            let c = super::pki::Cert::from_der(p.contents())?;
            c.public_key()
        }
        // cosign also verifies with the private key file's public half.
        t if t.contains("PRIVATE KEY") => Err(Error::Key(
            "a private key was given where a public key is expected; pass the .pub file".into(),
        )),
        t => Err(Error::Key(format!("unsupported public key PEM type {t}"))),
    }
}

pub fn public_key_pem(k: &PublicKey) -> String {
    match k {
        PublicKey::P256(v) => v.to_public_key_pem(LineEnding::LF).unwrap_or_default(),
        PublicKey::P384(v) => v.to_public_key_pem(LineEnding::LF).unwrap_or_default(),
        PublicKey::Ed25519(_) => pem::encode_config(
            &pem::Pem::new("PUBLIC KEY", k.spki_der()),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        ),
    }
}

/// How to get the password: `COSIGN_PASSWORD` (even empty), else a terminal prompt.
pub fn read_password(confirm: bool) -> Result<Zeroizing<Vec<u8>>, Error> {
    if let Some(v) = std::env::var_os("COSIGN_PASSWORD") {
        return Ok(Zeroizing::new(v.into_encoded_bytes()));
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Key(
            "no password: set COSIGN_PASSWORD (stdin is not a terminal, so cannot prompt)".into(),
        ));
    }
    let first = prompt("Enter password for private key: ")?;
    if confirm {
        let again = prompt("Enter password for private key again: ")?;
        if *first != *again {
            return Err(Error::Key("passwords do not match".into()));
        }
    }
    Ok(first)
}

fn prompt(msg: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    // Reads from the terminal with echo off, so a password never appears on screen.
    let s = rpassword::prompt_password(msg)
        .map_err(|e| Error::Key(format!("reading password: {e}")))?;
    Ok(Zeroizing::new(s.into_bytes()))
}

/// Writes `data` to `path` atomically (temp file + rename) with `mode`.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("key"),
        std::process::id()
    ));
    let res = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Io(format!("writing {}: {e}", path.display())));
    }
    Ok(())
}

/// `cosign generate-key-pair`: writes `<prefix>.key` (0600) and `<prefix>.pub`.
pub fn generate_key_pair(prefix: &str, overwrite: impl Fn(&Path) -> bool) -> Result<(), Error> {
    let key_path = format!("{prefix}.key");
    let pub_path = format!("{prefix}.pub");
    for p in [&key_path, &pub_path] {
        if Path::new(p).exists() && !overwrite(Path::new(p)) {
            return Err(Error::Usage(format!("file {p} already exists")));
        }
    }
    let password = read_password(true)?;
    let key = SigningKey::generate();
    let priv_pem = encrypt_private_key(&key, &password)?;
    write_atomic(Path::new(&key_path), priv_pem.as_bytes(), 0o600)?;
    eprintln!("Private key written to {key_path}");
    write_atomic(Path::new(&pub_path), key.public_key_pem().as_bytes(), 0o644)?;
    eprintln!("Public key written to {pub_path}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_key_round_trip_and_wrong_password() {
        let k = SigningKey::generate();
        let pem = encrypt_private_key(&k, b"hunter2").unwrap();
        assert!(!pem.contains("hunter2"));
        assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
        let back = decrypt_private_key(pem.as_bytes(), b"hunter2").unwrap();
        assert_eq!(back.public_key_pem(), k.public_key_pem());
        let err = decrypt_private_key(pem.as_bytes(), b"letmein-zz")
            .err()
            .unwrap();
        assert!(err.to_string().contains("decryption failed"), "{err}");
        assert!(!err.to_string().contains("letmein-zz"));
    }

    #[test]
    fn tampered_kdf_params_rejected() {
        let k = SigningKey::generate();
        let pem_text = encrypt_private_key(&k, b"").unwrap();
        let p = pem::parse(pem_text).unwrap();
        let json = String::from_utf8(p.contents().to_vec())
            .unwrap()
            .replace("32768", "1048576");
        let bad = pem::encode(&pem::Pem::new(SIGSTORE_PRIVATE_KEY_PEM, json.into_bytes()));
        let err = decrypt_private_key(bad.as_bytes(), b"").err().unwrap();
        assert!(err.to_string().contains("unexpected kdf parameters"));
    }
}

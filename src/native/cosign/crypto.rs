//! sigstore-crypto's `CryptoProvider` on the RustCrypto crates oxtask already builds, so
//! sigstore-verify runs without its default aws-lc-rs backend (a C build; docs/cosign.md).
//! Verification only: signing stays in `keys.rs`/`sign.rs`.

use sha2::Digest;
use sigstore_crypto::provider::{CryptoProvider, HashContext};
use sigstore_crypto::{Error, Result, SigningScheme};
use sigstore_verify::types::HashAlgorithm;

#[derive(Debug)]
pub struct RustCrypto;

static PROVIDER: RustCrypto = RustCrypto;

/// Installs the provider process-wide; called before every use of sigstore-verify (the
/// crate panics without one). A second call is a no-op.
pub fn install() {
    // Err only means a provider is already installed, which can only be this one.
    let _ = sigstore_crypto::provider::install_default_provider(&PROVIDER);
}

struct Hasher<D: Digest + Send>(D);

impl<D: Digest + Send> HashContext for Hasher<D> {
    fn update(&mut self, data: &[u8]) {
        Digest::update(&mut self.0, data)
    }
    fn finalize(self: Box<Self>) -> Vec<u8> {
        self.0.finalize().to_vec()
    }
}

fn refused(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Verification(format!("{what}: {e}"))
}

fn ecdsa_p256(key: &[u8], digest: &[u8], sig: &[u8]) -> Result<()> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let k = p256::ecdsa::VerifyingKey::from_sec1_bytes(key).map_err(|e| refused("P-256 key", e))?;
    let s = p256::ecdsa::Signature::from_der(sig).map_err(|e| refused("P-256 signature", e))?;
    k.verify_prehash(digest, &s)
        .map_err(|e| refused("P-256 signature", e))
}

fn ecdsa_p384(key: &[u8], digest: &[u8], sig: &[u8]) -> Result<()> {
    use p384::ecdsa::signature::hazmat::PrehashVerifier;
    let k = p384::ecdsa::VerifyingKey::from_sec1_bytes(key).map_err(|e| refused("P-384 key", e))?;
    let s = p384::ecdsa::Signature::from_der(sig).map_err(|e| refused("P-384 signature", e))?;
    k.verify_prehash(digest, &s)
        .map_err(|e| refused("P-384 signature", e))
}

fn rsa(scheme: SigningScheme, key: &[u8], digest: &[u8], sig: &[u8]) -> Result<()> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::traits::PublicKeyParts;
    use SigningScheme::*;
    let k = rsa::RsaPublicKey::from_pkcs1_der(key).map_err(|e| refused("RSA key", e))?;
    let bits = k.size() * 8;
    if !(2048..=8192).contains(&bits) {
        return Err(refused("RSA key", format!("{bits} bits, not 2048 to 8192")));
    }
    let r = match scheme {
        RsaPkcs1Sha256 => k.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), digest, sig),
        RsaPkcs1Sha384 => k.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha384>(), digest, sig),
        RsaPkcs1Sha512 => k.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha512>(), digest, sig),
        RsaPssSha256 => k.verify(rsa::Pss::new::<sha2::Sha256>(), digest, sig),
        RsaPssSha384 => k.verify(rsa::Pss::new::<sha2::Sha384>(), digest, sig),
        RsaPssSha512 => k.verify(rsa::Pss::new::<sha2::Sha512>(), digest, sig),
        s => return Err(Error::UnsupportedAlgorithm(format!("{s:?} is not RSA"))),
    };
    r.map_err(|e| refused("RSA signature", e))
}

impl CryptoProvider for RustCrypto {
    fn hash(&self, algorithm: HashAlgorithm) -> Result<Box<dyn HashContext>> {
        Ok(match algorithm {
            HashAlgorithm::Sha2256 => Box::new(Hasher(sha2::Sha256::new())),
            HashAlgorithm::Sha2384 => Box::new(Hasher(sha2::Sha384::new())),
            HashAlgorithm::Sha2512 => Box::new(Hasher(sha2::Sha512::new())),
            #[allow(unreachable_patterns)]
            a => return Err(Error::UnsupportedAlgorithm(format!("{a:?}"))),
        })
    }

    fn verify_raw(&self, scheme: SigningScheme, key: &[u8], data: &[u8], sig: &[u8]) -> Result<()> {
        match scheme {
            SigningScheme::Ed25519 => {
                let k: [u8; 32] = key
                    .try_into()
                    .map_err(|_| refused("Ed25519 key", format!("{} bytes, not 32", key.len())))?;
                let k = ed25519_dalek::VerifyingKey::from_bytes(&k)
                    .map_err(|e| refused("Ed25519 key", e))?;
                let s = ed25519_dalek::Signature::from_slice(sig)
                    .map_err(|e| refused("Ed25519 signature", e))?;
                // strict: no small-order keys or non-canonical signatures (as aws-lc)
                k.verify_strict(data, &s)
                    .map_err(|e| refused("Ed25519 signature", e))
            }
            _ => {
                let h = scheme
                    .hash_algorithm()
                    .ok_or_else(|| Error::UnsupportedAlgorithm(format!("{scheme:?}")))?;
                let mut c = self.hash(h)?;
                c.update(data);
                self.verify_prehashed(scheme, key, &c.finalize(), sig)
            }
        }
    }

    fn verify_prehashed(
        &self,
        scheme: SigningScheme,
        key: &[u8],
        digest: &[u8],
        sig: &[u8],
    ) -> Result<()> {
        use SigningScheme::*;
        match scheme {
            EcdsaP256Sha256 | EcdsaP256Sha384 => ecdsa_p256(key, digest, sig),
            EcdsaP384Sha256 | EcdsaP384Sha384 => ecdsa_p384(key, digest, sig),
            RsaPkcs1Sha256 | RsaPkcs1Sha384 | RsaPkcs1Sha512 | RsaPssSha256 | RsaPssSha384
            | RsaPssSha512 => rsa(scheme, key, digest, sig),
            s => Err(Error::UnsupportedAlgorithm(format!("{s:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors made and checked with OpenSSL 3.0 (`openssl dgst -sign/-verify`) over MSG;
    // Ed25519 is RFC 8032 section 7.1, test 1.
    const MSG: &[u8] = b"oxtask crypto vector";
    const P256_KEY: &str = "041487e170832556b6544b940bdb2f55298201c53b7116348e2c181875147ce6291fe9c6a0d52486be9aebb8dbdeae114ff061e2207cff6ffcfc791aea56354f76";
    const P256_SIG: &str = "3045022100aa998053e05c5006b81918c858eded60a9d07e959f84820bced750aab86a9fc70220315b49f6cfcf833ed45e2efffba049ff0db4d5b571429985a5f221b017a17fed";
    const P384_KEY: &str = "04de1cd47749affe06e81d454142f099990aac81382891166cef01d958964436dc0dc9a11da022e6e799ec2dd012f5dc1d33abaab707d19f2a5489d594882342118734a98a2839e573f051f4d55509efad3eeea2ca60f11147ff990add4bcfd459";
    const P384_SIG: &str = "306502304ba65acb231b6382b4c5e5f8251b8c904d706a4adfcfecbcd7c3c950f755b9e408bea7c5697668864974fc47162d9c26023100d824bc2ca292af9870554f49b8e63bfea1e383cdb8d25f5d90a80daff84343df755c37be6b61159f994bcab9da114cc1";
    const RSA_KEY: &str = "3082010a0282010100955e6502ec5944aa8b3976cffb155a9c26c849c823651896f6d1a69650770a0267a8a04c9165f007af6be73339a95cbd28434b16a5845b5225541d8cba63ff9dea2db158090a95ac5e25bdf22a30d9d3af03736d0f8e88fd57efa2da722d2a9d7f999734eefb72a4951d6dd40d534ae5d8a5d00478e0d0a3ecf5fd5018decf9b0aa5fd0d0d48e3d6a4f9ecf487a0f8fd34af39c9f3570b0c23b68b0b846f4b8927c9a7fed77c669b0fdebcb3b504ea3599138885e95a836a723abbe536dbf7f4a7eaf583cf2649db115f8ad348a8af2a44ff8612f18ee6261943538caed056da83ac5ef08d701c4353dfe701802d85d3ad6b9b1112123351581622e2d81eb7130203010001";
    const RSA_PKCS1_SIG: &str = "388b47177c78940e263753d3aa04a971470a5621aaeb753a3a48fa383d6d8e6d119ae5e06dc8aca643de37f1fed7557fd1d4c47fe1bdce1b03f39eb0994eb76a4f5dd42ad6c0a0e51baae4104dffa25bcffdb9a967ae34d96d45130efd48b42ae3b57d9f1694a70de7492faa5e5934b236ffaee05cd05e5ba5f9c6b95d7426fd9bfd9bc2f94faaaecd31cc2f02b9297f87094dd2e787d4ea93b0e9d2dc106163514b76359780d10fb0c8038b013a7627653c68b8e7b1870b483e775fa0a5b0b7b018104a058c82ae66f3ed710cbd955c97e20284d73126f560e17b8e5fbcd22b2980274683b4cc4d44c1892d5e70e23ba32fc2340df56209f311e740b250c456";
    const RSA_PSS_SIG: &str = "50f878d684b636d450831a9d57fbebc250c713ea85ddfd95791cf3a0f82d6bc11e5c2525bbb855293255d9460ebd7d4ee293a24d898ea7fd482dd1ee4f9c2b19b36dc9bf1c36ba911229e39ded1ec94f1f7c29ef7d081be288a3e71664fa30838c967fcba1cc2878823fd0ab8f5b9b015a52e83581ac1dcfa7c987ad7eb2e722d26e3655b6b55e1de12edf0748fdbe45f64ac477bf99ef125a8c967f84f422225db21c8fca220c55cf462179d0eb54edf64ad5a1b239627ab0bce96bb13f005082abbe253330a8e7cdf2d6dcec980454ba2ee2b772328eeed5629f5647372a57c1011d153576ed328e21a3aaeb392feb4b11b6959407f54b87ff89cd6f622350";
    const ED25519_KEY: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const ED25519_SIG: &str = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// The vector verifies, and flipping a bit of the message or of the signature's last
    /// byte is refused.
    fn check(scheme: SigningScheme, key: &str, msg: &[u8], sig: &str) {
        let (key, sig) = (h(key), h(sig));
        RustCrypto
            .verify_raw(scheme, &key, msg, &sig)
            .unwrap_or_else(|e| panic!("{scheme:?}: {e}"));
        let mut bad_msg = msg.to_vec();
        bad_msg.push(b'!');
        assert!(
            RustCrypto.verify_raw(scheme, &key, &bad_msg, &sig).is_err(),
            "{scheme:?} msg"
        );
        let mut bad_sig = sig.clone();
        *bad_sig.last_mut().unwrap() ^= 1;
        assert!(
            RustCrypto.verify_raw(scheme, &key, msg, &bad_sig).is_err(),
            "{scheme:?} sig"
        );
    }

    #[test]
    fn known_vectors_verify_and_tampering_is_refused() {
        check(SigningScheme::EcdsaP256Sha256, P256_KEY, MSG, P256_SIG);
        check(SigningScheme::EcdsaP384Sha384, P384_KEY, MSG, P384_SIG);
        check(SigningScheme::RsaPkcs1Sha256, RSA_KEY, MSG, RSA_PKCS1_SIG);
        check(SigningScheme::RsaPssSha256, RSA_KEY, MSG, RSA_PSS_SIG);
        check(SigningScheme::Ed25519, ED25519_KEY, b"", ED25519_SIG);
    }

    #[test]
    fn prehashed_matches_raw_and_scheme_mismatches_are_refused() {
        let digest = sha2::Sha256::digest(MSG);
        let p = RustCrypto;
        p.verify_prehashed(
            SigningScheme::EcdsaP256Sha256,
            &h(P256_KEY),
            &digest,
            &h(P256_SIG),
        )
        .unwrap();
        // a PKCS#1 v1.5 signature is not a PSS one, and the other way round
        let k = h(RSA_KEY);
        assert!(p
            .verify_raw(SigningScheme::RsaPssSha256, &k, MSG, &h(RSA_PKCS1_SIG))
            .is_err());
        assert!(p
            .verify_raw(SigningScheme::RsaPkcs1Sha256, &k, MSG, &h(RSA_PSS_SIG))
            .is_err());
        // the right key for the wrong curve, and a signature hashed with the wrong SHA-2
        assert!(p
            .verify_raw(
                SigningScheme::EcdsaP384Sha384,
                &h(P256_KEY),
                MSG,
                &h(P256_SIG)
            )
            .is_err());
        assert!(p
            .verify_raw(
                SigningScheme::EcdsaP256Sha384,
                &h(P256_KEY),
                MSG,
                &h(P256_SIG)
            )
            .is_err());
        assert!(p
            .verify_raw(
                SigningScheme::MlDsa44,
                &h(ED25519_KEY),
                b"",
                &h(ED25519_SIG)
            )
            .is_err());
    }

    #[test]
    fn hashes_are_sha2() {
        let p = RustCrypto;
        assert_eq!(
            hex::encode(p.sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(&hex::encode(p.sha384(b"abc"))[..16], "cb00753f45a35e8b");
        assert_eq!(&hex::encode(p.sha512(b"abc"))[..16], "ddaf35a193617aba");
    }

    #[test]
    fn short_rsa_keys_are_refused() {
        // RSA-1024 PKCS#1 public key (modulus 0xc0…01 with 128 bytes, e = 65537)
        let mut der = vec![0x30, 0x81, 0x89, 0x02, 0x81, 0x81, 0x00, 0xc0];
        der.extend(std::iter::repeat(0x11).take(126));
        der.push(0x01);
        der.extend([0x02, 0x03, 0x01, 0x00, 0x01]);
        let e = rsa(SigningScheme::RsaPkcs1Sha256, &der, &[0; 32], &[0; 128]).unwrap_err();
        assert!(e.to_string().contains("1024 bits"), "{e}");
    }

    /// aws-lc (a C library build) never enters the build: sigstore-verify's default backend
    /// must stay off. `ring` is not asserted: rustls and tonic already bring it.
    #[test]
    fn lock_file_has_no_aws_lc() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock");
        let lock = std::fs::read_to_string(path).unwrap();
        assert!(
            lock.contains("name = \"sigstore-verify\""),
            "{path}: no sigstore-verify"
        );
        for name in ["aws-lc-sys", "aws-lc-rs", "aws-lc-fips-sys"] {
            assert!(
                !lock.contains(&format!("name = \"{name}\"")),
                "{path}: {name} is in the build"
            );
        }
    }
}

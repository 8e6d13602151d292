//! sprig's certificate, key and password functions (crypto.go) for Helm mode: `genCA`,
//! `genSelfSignedCert`, `genSignedCert` (and their `WithKey` forms), `genPrivateKey`,
//! `buildCustomCert`, `htpasswd`, `bcrypt`. Keys are RSA 2048 as sprig makes them
//! (`genPrivateKey "rsa"`: 4096); PEM with `\n` line ends as Go's encoder writes.
//! A certificate is a map with `Cert` and `Key`, the fields templates read.

use std::str::FromStr;

use der::{Decode, Encode};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;

use super::super::val::Val;
use super::super::value::{Map, Value};
use super::{a_any, a_int, a_str, ok, FuncDef, Imp, Special, Ty};

fn def(v: &mut Vec<FuncDef>, name: &'static str, params: &'static [Ty], imp: Imp) {
    v.push(FuncDef {
        name,
        params,
        variadic: None,
        imp,
        special: Special::None,
    });
}

fn pem_lf(tag: &str, der: Vec<u8>) -> String {
    pem::encode_config(
        &pem::Pem::new(tag, der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// An RSA key as Go's rsa.GenerateKey makes one (sprig's genCA, genPrivateKey, …): two
/// random primes of half the size with their top two bits set (so `n` has exactly `bits`
/// bits), e = 65537. The primes are found with num-bigint, whose Montgomery
/// exponentiation is 3-4 times faster than the rsa crate's own keygen (num-bigint-dig):
/// 130 ms against 449 ms a 2048-bit key, measured (docs/helm.md); charts that make a dozen
/// certificates spent most of a `helm template` there.
fn rsa_key(bits: usize) -> Result<rsa::RsaPrivateKey, String> {
    use num_bigint::BigUint;
    let err = |e: String| format!("error generating rsa key: {e}");
    let mut rng = rand::thread_rng();
    let e = BigUint::from(65_537u32);
    let one = BigUint::from(1u32);
    let half = bits / 2;
    for _ in 0..64 {
        // The two primes are searched at once (the search is most of a chart's render time
        // where it makes keys; the key is as random either way).
        let (p, q) = std::thread::scope(|s| {
            let other = s.spawn(|| keygen::prime(half, &mut rand::thread_rng()));
            let q = keygen::prime(bits - half, &mut rng);
            (other.join().expect("prime search"), q)
        });
        if p == q {
            continue;
        }
        let n = &p * &q;
        if n.bits() != bits as u64 {
            continue;
        }
        let phi = (&p - &one) * (&q - &one);
        let Some(d) = e.modinv(&phi) else {
            continue;
        };
        let big = |x: &BigUint| rsa::BigUint::from_bytes_be(&x.to_bytes_be());
        // from_components validates the key and precomputes its CRT values.
        return rsa::RsaPrivateKey::from_components(
            big(&n),
            big(&e),
            big(&d),
            vec![big(&p), big(&q)],
        )
        .map_err(|x| err(x.to_string()));
    }
    Err(err("no key after 64 attempts".into()))
}

mod keygen {
    use num_bigint::BigUint;
    use rand::RngCore;
    use std::sync::OnceLock;

    /// The odd primes below 2^16: candidates divisible by one are sieved out before any
    /// Miller-Rabin round (a larger bound leaves fewer candidates to test: about 61 instead
    /// of 82 per 2048-bit prime than with 2^14).
    fn small_primes() -> &'static [u64] {
        static P: OnceLock<Vec<u64>> = OnceLock::new();
        P.get_or_init(|| {
            let n = 1 << 16;
            let mut comp = vec![false; n];
            let mut out = vec![];
            for i in 2..n {
                if !comp[i] {
                    if i > 2 {
                        out.push(i as u64);
                    }
                    let mut j = i * i;
                    while j < n {
                        comp[j] = true;
                        j += i;
                    }
                }
            }
            out
        })
    }

    fn random(bits: usize, rng: &mut impl RngCore) -> BigUint {
        let mut b = vec![0u8; bits.div_ceil(8)];
        rng.fill_bytes(&mut b);
        let mut x = BigUint::from_bytes_be(&b);
        let extra = b.len() * 8 - bits;
        if extra > 0 {
            x >>= extra;
        }
        x
    }

    /// Miller-Rabin with `rounds` random bases (Go's ProbablyPrime uses 20 and BPSW).
    pub(super) fn probably_prime(n: &BigUint, rounds: usize, rng: &mut impl RngCore) -> bool {
        let one = BigUint::from(1u32);
        let two = BigUint::from(2u32);
        if n < &BigUint::from(4u32) {
            return n >= &two;
        }
        if !n.bit(0) {
            return false;
        }
        let nm1 = n - &one;
        let s = nm1.trailing_zeros().unwrap_or(0);
        let d = &nm1 >> s;
        let span = n - BigUint::from(3u32);
        'rounds: for _ in 0..rounds {
            // a base in [2, n-2]
            let a = random(n.bits() as usize + 64, rng) % &span + &two;
            let mut x = a.modpow(&d, n);
            if x == one || x == nm1 {
                continue;
            }
            for _ in 1..s {
                x = (&x * &x) % n;
                if x == nm1 {
                    continue 'rounds;
                }
            }
            return false;
        }
        true
    }

    /// Miller-Rabin rounds for a prime of `bits` bits, as Go's rsa key generation counts
    /// them (FIPS 186-5 table B.1, crypto/internal/fips140/rsa millerRabinIterations).
    pub(super) fn mr_rounds(bits: usize) -> usize {
        match bits {
            3747.. => 3,
            1345.. => 4,
            476.. => 5,
            400.. => 6,
            347.. => 7,
            308.. => 8,
            55.. => 27,
            _ => 34,
        }
    }

    /// A random prime of exactly `bits` bits with its top two bits set.
    pub(super) fn prime(bits: usize, rng: &mut impl RngCore) -> BigUint {
        let sp = small_primes();
        loop {
            let mut c = random(bits, rng);
            c.set_bit(bits as u64 - 1, true);
            c.set_bit(bits as u64 - 2, true);
            c.set_bit(0, true);
            // Sieve the window c, c+2, …, c+2(W-1): offset i is crossed out when a small
            // prime divides c+2i, i.e. i ≡ (p - c mod p)·(p+1)/2 (mod p).
            const W: usize = 1 << 14;
            let mut crossed = vec![false; W];
            for &p in sp {
                let r = (&c % p).iter_u64_digits().next().unwrap_or(0);
                let mut i = (((p - r) % p) * p.div_ceil(2) % p) as usize;
                while i < W {
                    crossed[i] = true;
                    i += p as usize;
                }
            }
            for (i, _) in crossed.iter().enumerate().filter(|(_, x)| !**x) {
                let cand = &c + 2 * i as u64;
                if cand.bits() != bits as u64 {
                    break;
                }
                if probably_prime(&cand, mr_rounds(bits), rng) {
                    return cand;
                }
            }
        }
    }
}

fn key_pem(k: &rsa::RsaPrivateKey) -> Result<String, String> {
    let der = k.to_pkcs1_der().map_err(|e| e.to_string())?;
    Ok(pem_lf("RSA PRIVATE KEY", der.as_bytes().to_vec()))
}

/// `parsePrivateKeyPEM` for the RSA keys certificates are signed with here.
fn parse_key(pem_text: &str) -> Result<rsa::RsaPrivateKey, String> {
    let p = pem::parse(pem_text.as_bytes()).map_err(|_| "no PEM data in input".to_string())?;
    match p.tag() {
        "RSA PRIVATE KEY" => {
            rsa::RsaPrivateKey::from_pkcs1_der(p.contents()).map_err(|e| e.to_string())
        }
        "PRIVATE KEY" => {
            rsa::RsaPrivateKey::from_pkcs8_der(p.contents()).map_err(|e| e.to_string())
        }
        t => Err(format!("only RSA keys are supported natively (got {t:?})")),
    }
}

/// Strings of a `[]interface{}` argument (`nil` → none).
fn strings(v: &Value, what: &str) -> Result<Vec<String>, String> {
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::List(l) => l
            .iter()
            .map(|x| match x {
                Value::Str(s) => Ok(s.clone()),
                o => Err(format!(
                    "error {what}: {} is not a string",
                    super::super::value::go_format(o)
                )),
            })
            .collect(),
        o => Err(format!(
            "wrong type for value; expected []interface {{}}; got {}",
            o.go_type()
        )),
    }
}

/// RFC 4514 escaping for a CN value.
fn cn_name(cn: &str) -> Result<Name, String> {
    let mut esc = String::new();
    for (i, c) in cn.chars().enumerate() {
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && (c == '#' || c == ' '))
        {
            esc.push('\\');
        }
        esc.push(c);
    }
    if esc.ends_with(' ') {
        esc.insert(esc.len() - 1, '\\');
    }
    if cn.is_empty() {
        return Ok(Name::default());
    }
    Name::from_str(&format!("CN={esc}")).map_err(|e| e.to_string())
}

struct Template {
    cn: String,
    ips: Vec<std::net::IpAddr>,
    dns: Vec<String>,
    days: i64,
    ca: bool,
}

/// `getBaseCertTemplate` + `getCertAndKey`: a certificate for `key`, signed by
/// `signer` (issuer name `issuer`), returned as (cert PEM, key PEM).
fn make_cert(
    t: &Template,
    key: &rsa::RsaPrivateKey,
    issuer: Option<Name>,
    signer: &rsa::RsaPrivateKey,
) -> Result<Value, String> {
    use rand::RngCore;
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let mut serial = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut serial);
    serial[0] &= 0x7f;
    let serial = SerialNumber::new(&serial).map_err(|x| e(&x))?;
    let days = u64::try_from(t.days).unwrap_or(0);
    let validity =
        Validity::from_now(std::time::Duration::from_secs(days * 86_400)).map_err(|x| e(&x))?;
    let subject = cn_name(&t.cn)?;
    let spki_der = key.to_public_key().to_public_key_der().map_err(|x| e(&x))?;
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes()).map_err(|x| e(&x))?;
    let signing = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(signer.clone());
    let issuer = issuer.unwrap_or_else(|| subject.clone());
    let mut b = CertificateBuilder::new(
        Profile::Manual {
            issuer: Some(issuer),
        },
        serial,
        validity,
        subject,
        spki,
        &signing,
    )
    .map_err(|x| e(&x))?;
    let mut usage = KeyUsages::KeyEncipherment | KeyUsages::DigitalSignature;
    if t.ca {
        usage |= KeyUsages::KeyCertSign;
    }
    b.add_extension(&KeyUsage(usage)).map_err(|x| e(&x))?;
    b.add_extension(&NonCriticalEku(ExtendedKeyUsage(vec![
        der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1"),
        der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2"),
    ])))
    .map_err(|x| e(&x))?;
    b.add_extension(&BasicConstraints {
        ca: t.ca,
        path_len_constraint: None,
    })
    .map_err(|x| e(&x))?;
    if !t.dns.is_empty() || !t.ips.is_empty() {
        let mut names = Vec::new();
        for d in &t.dns {
            let ia5 = der::asn1::Ia5String::new(d).map_err(|x| e(&x))?;
            names.push(GeneralName::DnsName(ia5));
        }
        for ip in &t.ips {
            let bytes = match ip {
                std::net::IpAddr::V4(a) => a.octets().to_vec(),
                std::net::IpAddr::V6(a) => a.octets().to_vec(),
            };
            names.push(GeneralName::IpAddress(
                der::asn1::OctetString::new(bytes).map_err(|x| e(&x))?,
            ));
        }
        b.add_extension(&SubjectAltName(names)).map_err(|x| e(&x))?;
    }
    let cert = b.build::<rsa::pkcs1v15::Signature>().map_err(|x| e(&x))?;
    let der = cert.to_der().map_err(|x| e(&x))?;
    let mut m = Map::new();
    m.insert("Cert".into(), Value::Str(pem_lf("CERTIFICATE", der)));
    m.insert("Key".into(), Value::Str(key_pem(key)?));
    Ok(Value::Map(m.into()))
}

/// Extended key usage, not critical (as Go's x509 marks it; x509-cert marks it critical).
struct NonCriticalEku(ExtendedKeyUsage);

impl const_oid_shim::AssociatedOid for NonCriticalEku {
    const OID: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.29.37");
}

impl der::Encode for NonCriticalEku {
    fn encoded_len(&self) -> der::Result<der::Length> {
        self.0.encoded_len()
    }
    fn encode(&self, w: &mut impl der::Writer) -> der::Result<()> {
        self.0.encode(w)
    }
}

impl x509_cert::ext::AsExtension for NonCriticalEku {
    fn critical(&self, _: &Name, _: &[x509_cert::ext::Extension]) -> bool {
        false
    }
}

mod const_oid_shim {
    pub use der::oid::AssociatedOid;
}

/// The `Cert` and `Key` of a certificate value.
fn cert_fields(v: &Value) -> Result<(String, String), String> {
    let get = |k: &str| match v {
        Value::Map(m) => m.get(k).and_then(|x| match x {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        }),
        _ => None,
    };
    match (get("Cert"), get("Key")) {
        (Some(c), Some(k)) => Ok((c, k)),
        _ => Err("unable to decode certificate".into()),
    }
}

fn template(
    a: &[Val],
    cn: usize,
    ips: Option<usize>,
    dns: Option<usize>,
    days: usize,
    ca: bool,
) -> Result<Template, String> {
    let ips = match ips {
        Some(i) => strings(&a_any(&a[i]), "parsing ip")?
            .into_iter()
            .map(|s| s.parse().map_err(|_| format!("error parsing ip: {s}")))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let dns = match dns {
        Some(i) => strings(&a_any(&a[i]), "processing alternate dns name")?,
        None => Vec::new(),
    };
    Ok(Template {
        cn: a_str(&a[cn]).into_owned(),
        ips,
        dns,
        days: a_int(&a[days]),
        ca,
    })
}

fn ok_val<'a>(v: Value) -> Result<Val<'a>, String> {
    ok(v)
}

fn bcrypt_hash(pass: &str) -> Result<String, String> {
    // golang.org/x/crypto/bcrypt's DefaultCost
    bcrypt::hash_with_result(pass, 10)
        .map(|h| h.format_for_version(bcrypt::Version::TwoA))
        .map_err(|e| e.to_string())
}

pub fn register(v: &mut Vec<FuncDef>) {
    use Ty::{Any, Int, Str};
    def(v, "helm.genCA", &[Str, Int], |_, a| {
        let t = template(&a, 0, None, None, 1, true)?;
        let k = rsa_key(2048)?;
        ok_val(make_cert(&t, &k, None, &k)?)
    });
    def(v, "helm.genCAWithKey", &[Str, Int, Str], |_, a| {
        let t = template(&a, 0, None, None, 1, true)?;
        let k = parse_key(&a_str(&a[2])).map_err(|e| format!("error parsing private key: {e}"))?;
        ok_val(make_cert(&t, &k, None, &k)?)
    });
    def(
        v,
        "helm.genSelfSignedCert",
        &[Str, Any, Any, Int],
        |_, a| {
            let t = template(&a, 0, Some(1), Some(2), 3, false)?;
            let k = rsa_key(2048)?;
            ok_val(make_cert(&t, &k, None, &k)?)
        },
    );
    def(
        v,
        "helm.genSelfSignedCertWithKey",
        &[Str, Any, Any, Int, Str],
        |_, a| {
            let t = template(&a, 0, Some(1), Some(2), 3, false)?;
            let k =
                parse_key(&a_str(&a[4])).map_err(|e| format!("error parsing private key: {e}"))?;
            ok_val(make_cert(&t, &k, None, &k)?)
        },
    );
    fn signed<'a>(a: &[Val<'a>], key: Option<String>) -> Result<Val<'a>, String> {
        let t = template(a, 0, Some(1), Some(2), 3, false)?;
        let (ca_cert, ca_key) = cert_fields(&a_any(&a[4]))?;
        let p = pem::parse(ca_cert.as_bytes())
            .map_err(|_| "unable to decode certificate".to_string())?;
        let parsed = x509_cert::Certificate::from_der(p.contents())
            .map_err(|e| format!("error parsing certificate: decodedSignerCert.Bytes: {e}"))?;
        let signer = parse_key(&ca_key).map_err(|e| format!("error parsing private key: {e}"))?;
        let k = match key {
            Some(k) => parse_key(&k).map_err(|e| format!("error parsing private key: {e}"))?,
            None => rsa_key(2048)?,
        };
        ok_val(make_cert(
            &t,
            &k,
            Some(parsed.tbs_certificate.subject),
            &signer,
        )?)
    }
    def(
        v,
        "helm.genSignedCert",
        &[Str, Any, Any, Int, Any],
        |_, a| signed(&a, None),
    );
    def(
        v,
        "helm.genSignedCertWithKey",
        &[Str, Any, Any, Int, Any, Str],
        |_, a| {
            let k = a_str(&a[5]).into_owned();
            signed(&a, Some(k))
        },
    );
    def(v, "helm.buildCustomCert", &[Str, Str], |_, a| {
        use base64::Engine;
        let dec = |s: &str, what: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| format!("unable to decode base64 {what}: {e}"))
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        };
        let cert = dec(&a_str(&a[0]), "certificate")?;
        let key = dec(&a_str(&a[1]), "private key")?;
        pem::parse(cert.as_bytes()).map_err(|_| "unable to decode certificate".to_string())?;
        pem::parse(key.as_bytes()).map_err(|_| "unable to decode private key".to_string())?;
        let mut m = Map::new();
        m.insert("Cert".into(), Value::Str(cert));
        m.insert("Key".into(), Value::Str(key));
        ok_val(Value::Map(m.into()))
    });
    def(v, "helm.genPrivateKey", &[Str], |_, a| {
        let typ = a_str(&a[0]);
        let out = match typ.as_ref() {
            "" | "rsa" => rsa_key(4096).and_then(|k| key_pem(&k)),
            "ecdsa" => {
                // SEC 1 ECPrivateKey with the named curve, as x509.MarshalECPrivateKey
                let k = p256::SecretKey::random(&mut rand::thread_rng());
                let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(
                    &k.public_key(),
                    false,
                );
                let mut der = hex::decode("307702010104 20".replace(' ', "")).unwrap_or_default();
                der.extend_from_slice(&k.to_bytes());
                der.extend(hex::decode("a00a06082a8648ce3d030107a144034200").unwrap_or_default());
                der.extend_from_slice(point.as_bytes());
                Ok(pem_lf("EC PRIVATE KEY", der))
            }
            "ed25519" => {
                use rand::RngCore;
                let mut seed = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut seed);
                // PKCS#8 v1 for Ed25519: fixed prefix, then the 32-byte seed
                let mut der = hex::decode("302e020100300506032b657004220420").unwrap_or_default();
                der.extend_from_slice(&seed);
                Ok(pem_lf("PRIVATE KEY", der))
            }
            "dsa" => {
                Err("failed to generate private key: DSA keys are not supported natively".into())
            }
            o => Ok(format!("Unknown type {o}")),
        };
        ok_val(Value::Str(out.unwrap_or_else(|e| {
            format!("failed to generate private key: {e}")
        })))
    });
    def(v, "helm.htpasswd", &[Str, Str], |_, a| {
        let user = a_str(&a[0]);
        if user.contains(':') {
            return ok_val(Value::Str(format!("invalid username: {user}")));
        }
        ok_val(Value::Str(format!(
            "{user}:{}",
            bcrypt_hash(&a_str(&a[1]))?
        )))
    });
    def(v, "helm.bcrypt", &[Str], |_, a| {
        ok_val(Value::Str(bcrypt_hash(&a_str(&a[0]))?))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;
    use rsa::traits::PublicKeyParts;

    #[test]
    fn miller_rabin_knows_primes_and_carmichael_numbers() {
        let mut rng = rand::thread_rng();
        let pow2 = |k: u32| BigUint::from(1u32) << k;
        // 2^127 - 1 and 2^521 - 1 are (Mersenne) primes; 2^127 + 1 is not.
        assert!(keygen::probably_prime(&(pow2(127) - 1u32), 20, &mut rng));
        assert!(keygen::probably_prime(&(pow2(521) - 1u32), 20, &mut rng));
        assert!(!keygen::probably_prime(&(pow2(127) + 1u32), 20, &mut rng));
        // Carmichael numbers fool Fermat's test, not Miller-Rabin's.
        for c in [
            561u64, 1105, 1729, 2465, 2821, 6601, 8911, 41041, 825265, 321197185,
        ] {
            assert!(
                !keygen::probably_prime(&BigUint::from(c), 20, &mut rng),
                "{c}"
            );
        }
        for p in [2u64, 3, 5, 7, 65537, 2147483647] {
            assert!(
                keygen::probably_prime(&BigUint::from(p), 20, &mut rng),
                "{p}"
            );
        }
        assert!(!keygen::probably_prime(&BigUint::from(1u32), 20, &mut rng));
    }

    /// The sieve and the rounds never let a composite through: 64-bit primes from
    /// `keygen::prime`, checked with the deterministic Miller-Rabin bases for u64.
    #[test]
    fn sieved_primes_are_prime() {
        fn is_prime_u64(n: u64) -> bool {
            let mulmod = |a: u64, b: u64| ((a as u128 * b as u128) % n as u128) as u64;
            let powmod = |mut b: u64, mut e: u64| {
                let mut r = 1u64;
                b %= n;
                while e > 0 {
                    if e & 1 == 1 {
                        r = mulmod(r, b);
                    }
                    b = mulmod(b, b);
                    e >>= 1;
                }
                r
            };
            let d0 = n - 1;
            let s = d0.trailing_zeros();
            let d = d0 >> s;
            'bases: for a in [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
                let mut x = powmod(a, d);
                if x == 1 || x == n - 1 {
                    continue;
                }
                for _ in 1..s {
                    x = mulmod(x, x);
                    if x == n - 1 {
                        continue 'bases;
                    }
                }
                return false;
            }
            true
        }
        let mut rng = rand::thread_rng();
        for _ in 0..200 {
            let p = keygen::prime(64, &mut rng);
            let v = p.iter_u64_digits().next().unwrap();
            assert_eq!(p.bits(), 64);
            assert!(v >> 62 == 0b11, "top two bits set");
            assert!(is_prime_u64(v), "{v} is composite");
        }
        assert_eq!(keygen::mr_rounds(1024), 5);
        assert_eq!(keygen::mr_rounds(2048), 4);
    }

    #[test]
    fn generated_keys_are_go_shaped_and_valid() {
        let mut rng = rand::thread_rng();
        let p = keygen::prime(256, &mut rng);
        assert_eq!(p.bits(), 256);
        assert!(p.bit(255) && p.bit(254), "top two bits set");
        for bits in [1024usize, 2048] {
            let k = rsa_key(bits).unwrap();
            assert_eq!(k.n().bits(), bits);
            assert_eq!(k.e(), &rsa::BigUint::from(65537u32));
            use rsa::traits::PrivateKeyParts;
            assert_eq!(k.primes().len(), 2);
            k.validate().unwrap();
            // Signs and verifies.
            let msg = b"chart";
            let sk = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(k.clone());
            use rsa::signature::{Signer, Verifier};
            let sig = sk.sign(msg);
            let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(k.to_public_key());
            vk.verify(msg, &sig).unwrap();
        }
    }
}

//! Forgery suite (issue 11): for each element `cosign verify` relies on, a tampered and/or
//! fabricated variant of a genuine signature, refused by oxtask with the reason named, and
//! (where the real cosign v3 is installed: .ci/install-cosign-real.sh) refused by it too.
//!
//! Genuine signatures come from oxtask itself against the loopback Sigstore fixture. The
//! forgeries edit them (bundle JSON, the `.sig` bundle annotation) and, where a forgery
//! needs a log signature, sign with keys generated here: an attacker key no trust root
//! lists, and a "test log" key that the test's trusted root does list (so a forgery can be
//! correct in every element but one). Each group starts with controls that both verifiers
//! must accept, so a refusal is due to the one element changed, not to the machinery.
//! Times are fixed numbers (or taken from the fixture's own certificate), never today's date.

#[path = "support/sigstore.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use oxtask::native::cosign::pki::Cert;
use oxtask::native::oci::sha256_digest;
use p256::ecdsa::{signature::Signer, DerSignature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::*;

const BUNDLE_ANN: &str = "dev.sigstore.cosign/bundle";
/// Start of the test log's key validity (2020-01-01T00:00:00Z).
const TEST_LOG_START: i64 = 1_577_836_800;
/// 9999-12-31T23:59:59Z: in the future of any clock this suite runs on.
const FAR_FUTURE: i64 = 253_402_300_799;
/// 2017-07-14: before the test log's key was valid.
const BEFORE_WINDOW: i64 = 1_500_000_000;

fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// A transparency log signing key (ECDSA P-256), as Rekor v1 has.
struct LogKey {
    sk: SigningKey,
    spki: Vec<u8>,
}

impl LogKey {
    fn new(seed: u8) -> LogKey {
        let sk = SigningKey::from_bytes(&[seed; 32].into()).unwrap();
        let spki = sk
            .verifying_key()
            .to_public_key_der()
            .unwrap()
            .as_bytes()
            .to_vec();
        LogKey { sk, spki }
    }
    fn id(&self) -> [u8; 32] {
        sha256(&self.spki)
    }
    fn hint(&self) -> [u8; 4] {
        let h = self.id();
        [h[0], h[1], h[2], h[3]]
    }
    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let s: DerSignature = self.sk.sign(msg);
        s.as_bytes().to_vec()
    }
}

/// How to fabricate a log entry over a given body. Defaults make a correct entry of the
/// test log; each forgery changes one field.
#[derive(Clone)]
struct Fab<'a> {
    /// Key that signs SET and checkpoint.
    signer: &'a LogKey,
    /// Log ID written in the entry.
    log_id: [u8; 32],
    time: i64,
    index: i64,
    set: bool,
    /// SET signed over this time instead of `time` (a tampered SET).
    set_time: Option<i64>,
    proof: bool,
    checkpoint: bool,
    origin: String,
    hint: [u8; 4],
}

impl<'a> Fab<'a> {
    fn by(log: &'a LogKey, time: i64) -> Fab<'a> {
        Fab {
            signer: log,
            log_id: log.id(),
            time,
            index: 4242,
            set: true,
            set_time: None,
            proof: true,
            checkpoint: true,
            origin: format!("{TEST_LOG_HOST} - 77"),
            hint: log.hint(),
        }
    }

    fn set_payload(&self, body_b64: &str, time: i64) -> String {
        format!(
            "{{\"body\":\"{body_b64}\",\"integratedTime\":{time},\"logID\":\"{}\",\"logIndex\":{}}}",
            hex::encode(self.log_id),
            self.index
        )
    }

    fn checkpoint(&self, root: &[u8]) -> String {
        let note = format!(
            "{}\n1\n{}\nTimestamp: 1700000000000000000\n",
            self.origin,
            B64.encode(root)
        );
        let mut raw = self.hint.to_vec();
        raw.extend(self.signer.sign(note.as_bytes()));
        format!("{note}\n\u{2014} {TEST_LOG_HOST} {}\n", B64.encode(raw))
    }

    /// A bundle `TransparencyLogEntry` (protobuf JSON) over `body_b64` (a genuine
    /// canonicalized body), with `kind_version` copied from the genuine entry.
    fn bundle_entry(&self, body_b64: &str, kind_version: &Value) -> Value {
        let body = B64.decode(body_b64).unwrap();
        let root = sha256(&[&[0u8][..], &body].concat());
        let mut v = json!({
            "logIndex": self.index.to_string(),
            "logId": { "keyId": B64.encode(self.log_id) },
            "kindVersion": kind_version,
            "integratedTime": self.time.to_string(),
            "canonicalizedBody": body_b64,
        });
        if self.set {
            let p = self.set_payload(body_b64, self.set_time.unwrap_or(self.time));
            v["inclusionPromise"] =
                json!({ "signedEntryTimestamp": B64.encode(self.signer.sign(p.as_bytes())) });
        }
        if self.proof {
            v["inclusionProof"] = json!({
                "logIndex": "0",
                "rootHash": B64.encode(root),
                "treeSize": "1",
                "hashes": [],
            });
            if self.checkpoint {
                v["inclusionProof"]["checkpoint"] = json!({ "envelope": self.checkpoint(&root) });
            }
        }
        v
    }

    /// cosign's `dev.sigstore.cosign/bundle` annotation over `body_b64`.
    fn annotation(&self, body_b64: &str) -> String {
        let p = self.set_payload(body_b64, self.set_time.unwrap_or(self.time));
        json!({
            "SignedEntryTimestamp": B64.encode(self.signer.sign(p.as_bytes())),
            "Payload": {
                "body": body_b64,
                "integratedTime": self.time,
                "logIndex": self.index,
                "logID": hex::encode(self.log_id),
            }
        })
        .to_string()
    }
}

/// Host of the test log's `baseUrl` in the test trusted root (never contacted).
const TEST_LOG_HOST: &str = "testlog.invalid";

fn ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what}: expected acceptance, exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    );
}

struct Env {
    sig: Sigstore,
    reg: Registry,
    ox: Cosign,
    real: Option<RealCosign>,
    work: tempfile::TempDir,
    /// The fixture's trusted root plus the test log.
    root: PathBuf,
    test_log: LogKey,
    attacker: LogKey,
    /// Verdicts, for the summary printed at the end.
    table: std::cell::RefCell<Vec<String>>,
}

fn setup() -> Option<Env> {
    let real = RealCosign::find("cosign3");
    let sig = Sigstore::start()?;
    let reg = Registry::start()?;
    let work = tempfile::tempdir().unwrap();
    let test_log = LogKey::new(0x51);
    let mut tr: Value =
        serde_json::from_slice(&std::fs::read(sig.trusted_root()).unwrap()).unwrap();
    tr["tlogs"].as_array_mut().unwrap().push(json!({
        "baseUrl": format!("https://{TEST_LOG_HOST}"),
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": B64.encode(&test_log.spki),
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "validFor": { "start": "2020-01-01T00:00:00Z" }
        },
        "logId": { "keyId": B64.encode(test_log.id()) }
    }));
    let root = work.path().join("trusted_root_with_test_log.json");
    std::fs::write(&root, serde_json::to_vec_pretty(&tr).unwrap()).unwrap();
    Some(Env {
        sig,
        reg,
        ox: Cosign::new(),
        real,
        work,
        root,
        test_log,
        attacker: LogKey::new(0xa7),
        table: Default::default(),
    })
}

/// How the signature is checked: with a key file, or keyless with identity and issuer.
#[derive(Clone)]
enum Mode {
    Key(String),
    Keyless { identity: String, issuer: String },
}

impl Env {
    fn w(&self) -> &Path {
        self.work.path()
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("COSIGN_PASSWORD".into(), String::new()),
            (
                "SIGSTORE_SIGNING_CONFIG".into(),
                self.sig.signing_config().display().to_string(),
            ),
            (
                "SIGSTORE_TRUSTED_ROOT".into(),
                self.sig.trusted_root().display().to_string(),
            ),
        ]
    }

    fn run_ok(&self, args: &[&str], env: &[(String, String)]) {
        ok(&self.ox.run(self.w(), args, env), &args.join(" "));
    }

    fn image(&self, repo: &str, tag: &str) -> String {
        let d = self.reg.push_image(repo, tag, &format!("{repo}:{tag}"));
        format!("{}/{repo}@{d}", self.reg.host)
    }

    fn key_pair(&self) {
        if !self.w().join("cosign.pub").exists() {
            self.run_ok(&["generate-key-pair"], &self.env());
        }
    }

    fn sign_key(&self, image: &str, bundle: bool) {
        self.key_pair();
        let mut a = vec!["sign", "--key", "cosign.key"];
        if bundle {
            a.push("--new-bundle-format");
        }
        a.push(image);
        self.run_ok(&a, &self.env());
    }

    fn sign_keyless(&self, image: &str) {
        let tr = self.sig.trusted_root().display().to_string();
        let sc = self.sig.signing_config().display().to_string();
        let a = [
            "sign",
            "--trusted-root",
            &tr,
            "--signing-config",
            &sc,
            "--new-bundle-format",
            image,
        ];
        self.run_ok(&a, &self.sig.actions_env());
    }

    fn repo_digest<'a>(&self, image: &'a str) -> (&'a str, &'a str) {
        image
            .strip_prefix(&format!("{}/", self.reg.host))
            .and_then(|r| r.split_once('@'))
            .unwrap()
    }

    /// The referrers-tag index and the one bundle manifest attached to `image`.
    fn referrer(&self, image: &str) -> (Value, Value) {
        let (repo, digest) = self.repo_digest(image);
        let (idx, _) = self
            .reg
            .get_manifest(repo, &digest.replace(':', "-"))
            .expect("referrers tag");
        let idx: Value = serde_json::from_slice(&idx).unwrap();
        assert_eq!(idx["manifests"].as_array().unwrap().len(), 1);
        let (m, _) = self
            .reg
            .get_manifest(repo, idx["manifests"][0]["digest"].as_str().unwrap())
            .unwrap();
        (idx, serde_json::from_slice(&m).unwrap())
    }

    fn bundle(&self, image: &str) -> Value {
        let (repo, _) = self.repo_digest(image);
        let (_, m) = self.referrer(image);
        serde_json::from_slice(
            &self
                .reg
                .blob(repo, m["layers"][0]["digest"].as_str().unwrap()),
        )
        .unwrap()
    }

    /// Replaces the bundle attached to `image` with `bundle` (the referrers tag then
    /// lists only the new one).
    fn attach(&self, image: &str, bundle: &Value) {
        let (repo, digest) = self.repo_digest(image);
        let (mut idx, mut m) = self.referrer(image);
        let bytes = serde_json::to_vec(bundle).unwrap();
        m["layers"][0]["digest"] = self.reg.put_blob(repo, &bytes).into();
        m["layers"][0]["size"] = bytes.len().into();
        let mb = serde_json::to_vec(&m).unwrap();
        let md = sha256_digest(&mb);
        let mt = m["mediaType"].as_str().unwrap().to_string();
        self.reg.put_manifest(repo, &md, &mt, &mb);
        idx["manifests"][0]["digest"] = md.into();
        idx["manifests"][0]["size"] = mb.len().into();
        let ib = serde_json::to_vec(&idx).unwrap();
        let it = idx["mediaType"].as_str().unwrap().to_string();
        self.reg
            .put_manifest(repo, &digest.replace(':', "-"), &it, &ib);
    }

    fn sig_manifest(&self, image: &str) -> (String, Value) {
        let (repo, digest) = self.repo_digest(image);
        let tag = digest.replace(':', "-") + ".sig";
        let (m, _) = self.reg.get_manifest(repo, &tag).expect(".sig manifest");
        (tag, serde_json::from_slice(&m).unwrap())
    }

    /// Replaces the `dev.sigstore.cosign/bundle` annotation of the `.sig` signature.
    fn set_annotation(&self, image: &str, ann: Option<&str>) {
        let (repo, _) = self.repo_digest(image);
        let (tag, mut m) = self.sig_manifest(image);
        let a = m["layers"][0]["annotations"].as_object_mut().unwrap();
        match ann {
            Some(v) => a.insert(BUNDLE_ANN.into(), v.into()),
            None => a.remove(BUNDLE_ANN),
        };
        let mt = m["mediaType"].as_str().unwrap().to_string();
        self.reg
            .put_manifest(repo, &tag, &mt, &serde_json::to_vec(&m).unwrap());
    }

    fn verify_args(
        &self,
        root: &str,
        mode: &Mode,
        image: &str,
        real: Option<&[&str]>,
    ) -> Vec<String> {
        let mut a: Vec<String> = vec!["verify".into()];
        if let Some(extra) = real {
            a.push("--allow-http-registry".into());
            a.extend(extra.iter().map(|x| x.to_string()));
        }
        a.extend(["--trusted-root".into(), root.to_string()]);
        match mode {
            Mode::Key(k) => a.extend(["--key".into(), k.clone()]),
            Mode::Keyless { identity, issuer } => a.extend([
                "--certificate-identity".into(),
                identity.clone(),
                "--certificate-oidc-issuer".into(),
                issuer.clone(),
            ]),
        }
        a.push(image.into());
        a
    }

    /// `real_extra`: flags for the real cosign only.
    fn both_with(&self, mode: &Mode, image: &str, real_extra: &[&str]) -> (Output, Option<Output>) {
        let root = self.root.display().to_string();
        let run = |a: Vec<String>, real: &RealCosign| {
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            real.run(self.w(), &a, &[])
        };
        let a = self.verify_args(&root, mode, image, None);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let ox = self.ox.run(self.w(), &a, &[]);
        let real = self
            .real
            .as_ref()
            .map(|r| run(self.verify_args(&root, mode, image, Some(real_extra)), r));
        (ox, real)
    }

    /// Both verifiers accept (a control).
    fn accepted(&self, name: &str, mode: &Mode, image: &str) {
        self.accepted_with(name, mode, image, &[]);
    }

    fn accepted_with(&self, name: &str, mode: &Mode, image: &str, real_extra: &[&str]) {
        let (ox, real) = self.both_with(mode, image, real_extra);
        ok(&ox, &format!("{name} (oxtask)"));
        if let Some(r) = &real {
            ok(r, &format!("{name} (real cosign)"));
        }
        self.table.borrow_mut().push(format!(
            "{name:<58} oxtask: accepted   cosign 3: {}",
            if real.is_some() {
                "accepted"
            } else {
                "(not installed)"
            }
        ));
    }

    /// oxtask refuses with `reason` in its message; the real cosign refuses as well
    /// (`real_refuses`), or — where it is known to accept, noted in the docs — is not asked.
    fn refused(&self, name: &str, mode: &Mode, image: &str, reason: &str, real_refuses: bool) {
        self.refused_with(name, mode, image, reason, real_refuses.then_some(&[]));
    }

    /// `real`: `Some(flags for the real cosign)` when it must refuse too.
    fn refused_with(
        &self,
        name: &str,
        mode: &Mode,
        image: &str,
        reason: &str,
        real: Option<&[&str]>,
    ) {
        let real_refuses = real.is_some();
        let (ox, real) = self.both_with(mode, image, real.unwrap_or_default());
        let err = text(&ox.stderr);
        assert!(
            !ox.status.success(),
            "{name}: oxtask ACCEPTED a forgery\nstderr: {err}"
        );
        assert!(
            err.contains(reason),
            "{name}: oxtask refused, but not for {reason:?}:\n{err}"
        );
        let real_verdict = match (&real, real_refuses) {
            (None, _) => "(not installed)".to_string(),
            (Some(r), true) => {
                assert!(
                    !r.status.success(),
                    "{name}: the real cosign 3 accepted it (oxtask refused: {err})\nstdout: {}\nstderr: {}",
                    text(&r.stdout),
                    text(&r.stderr)
                );
                "refused".to_string()
            }
            (Some(r), false) => format!(
                "{} (not asserted: oxtask is stricter)",
                if r.status.success() {
                    "accepted"
                } else {
                    "refused"
                }
            ),
        };
        self.table.borrow_mut().push(format!(
            "{name:<58} oxtask: refused    cosign 3: {real_verdict}"
        ));
    }

    fn print_table(&self, title: &str) {
        eprintln!("\n== {title}");
        for l in self.table.borrow().iter() {
            eprintln!("{l}");
        }
    }
}

/// (name, bundle, how verified, oxtask's reason, real cosign: `Some(its extra flags)` when it
/// must refuse too).
type KeylessCase = (
    &'static str,
    Value,
    Mode,
    &'static str,
    Option<&'static [&'static str]>,
);

fn tlog0(b: &Value) -> &Value {
    &b["verificationMaterial"]["tlogEntries"][0]
}

fn with_entry(b: &Value, e: Value) -> Value {
    let mut b = b.clone();
    b["verificationMaterial"]["tlogEntries"] = json!([e]);
    b
}

fn flip_b64(s: &str, at: usize) -> String {
    let mut raw = B64.decode(s).unwrap();
    let i = at.min(raw.len() - 1);
    raw[i] ^= 0x01;
    B64.encode(raw)
}

#[test]
fn key_based_bundle_forgeries_are_refused() {
    let Some(e) = setup() else { return };
    let img = e.image("forge/key", "1");
    let other = e.image("forge/key", "2");
    e.sign_key(&img, true);
    e.sign_key(&other, true);
    let key = Mode::Key(e.w().join("cosign.pub").display().to_string());
    let genuine = e.bundle(&img);
    let genuine_other = e.bundle(&other);
    let g = tlog0(&genuine).clone();
    let body = g["canonicalizedBody"].as_str().unwrap().to_string();
    let kv = g["kindVersion"].clone();
    let t0: i64 = g["integratedTime"].as_str().unwrap().parse().unwrap();
    let log = &e.test_log;
    let att = &e.attacker;

    // Forgeries (name, bundle, oxtask's reason, real cosign refuses too).
    let mut cases: Vec<(&str, Value, &str, bool)> = Vec::new();
    // Issue 11's forgery: a log ID in no trusted root, the attacker's one-leaf proof over
    // their own body, no SET, no checkpoint.
    let mut f = Fab::by(att, t0);
    f.set = false;
    f.checkpoint = false;
    cases.push((
        "issue 11: unlogged, own log ID, own 1-leaf proof, no SET/checkpoint",
        with_entry(&genuine, f.bundle_entry(&body, &kv)),
        "is not one of the trusted root's transparency logs",
        true,
    ));
    // The same with the attacker's own signed checkpoint and SET.
    cases.push((
        "fabricated entry fully signed by an untrusted log",
        with_entry(&genuine, Fab::by(att, t0).bundle_entry(&body, &kv)),
        "is not one of the trusted root's transparency logs",
        true,
    ));
    // The forgery under a trusted log's ID: no checkpoint, no SET.
    let mut f = Fab::by(att, t0);
    f.log_id = log.id();
    f.set = false;
    f.checkpoint = false;
    cases.push((
        "trusted log ID, 1-leaf proof, no checkpoint, no SET",
        with_entry(&genuine, f.bundle_entry(&body, &kv)),
        "inclusion proof has no checkpoint",
        true,
    ));
    // A genuine entry whose log ID is changed.
    let mut x = g.clone();
    x["logId"]["keyId"] = B64.encode([7u8; 32]).into();
    cases.push((
        "genuine entry, log ID not in the trusted root",
        with_entry(&genuine, x),
        "is not one of the trusted root's transparency logs",
        true,
    ));
    // Tampered SET (signed over another time), proof and checkpoint correct.
    let mut f = Fab::by(log, t0);
    f.set_time = Some(t0 + 1);
    cases.push((
        "tampered SET (trusted log, other integrated time)",
        with_entry(&genuine, f.bundle_entry(&body, &kv)),
        "SET verification failed",
        true,
    ));
    let mut x = g.clone();
    let set = x["inclusionPromise"]["signedEntryTimestamp"]
        .as_str()
        .unwrap()
        .to_string();
    x["inclusionPromise"]["signedEntryTimestamp"] = flip_b64(&set, 40).into();
    cases.push((
        "genuine entry, SET bytes flipped",
        with_entry(&genuine, x),
        "SET verification failed",
        true,
    ));
    // Checkpoint signed by another key: the attacker's hint, or the log's hint.
    let mut f = Fab::by(log, t0);
    f.signer = att;
    f.hint = att.hint();
    let mut ent = f.bundle_entry(&body, &kv);
    ent["inclusionPromise"] = Fab::by(log, t0).bundle_entry(&body, &kv)["inclusionPromise"].clone();
    cases.push((
        "checkpoint signed by another key (its own key hint)",
        with_entry(&genuine, ent.clone()),
        "invalid checkpoint",
        true,
    ));
    let mut f = Fab::by(log, t0);
    f.signer = att;
    let mut ent = f.bundle_entry(&body, &kv);
    ent["inclusionPromise"] = Fab::by(log, t0).bundle_entry(&body, &kv)["inclusionPromise"].clone();
    cases.push((
        "checkpoint signed by another key (the log's key hint)",
        with_entry(&genuine, ent),
        "invalid checkpoint",
        true,
    ));
    // Checkpoint signed by the log's key with a wrong key hint.
    let mut f = Fab::by(log, t0);
    f.hint = [0, 0, 0, 0];
    cases.push((
        "checkpoint with a wrong key hint",
        with_entry(&genuine, f.bundle_entry(&body, &kv)),
        "invalid checkpoint",
        true,
    ));
    // Checkpoint signed by the log's key, but for another log (origin).
    let mut f = Fab::by(log, t0);
    f.origin = "rekor.evil.example - 77".into();
    cases.push((
        "checkpoint origin of another log",
        with_entry(&genuine, f.bundle_entry(&body, &kv)),
        "checkpoint origin",
        false,
    ));
    // Checkpoint text altered after signing (root hash line).
    let mut x = Fab::by(log, t0).bundle_entry(&body, &kv);
    let cp = x["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap()
        .replacen("\n1\n", "\n2\n", 1);
    x["inclusionProof"]["checkpoint"]["envelope"] = cp.into();
    cases.push((
        "checkpoint tree size altered after signing",
        with_entry(&genuine, x),
        "invalid checkpoint",
        true,
    ));
    // Proof (and checkpoint) for another leaf: the other image's genuine proof.
    let mut x = g.clone();
    x["inclusionProof"] = tlog0(&genuine_other)["inclusionProof"].clone();
    cases.push((
        "inclusion proof for another leaf",
        with_entry(&genuine, x),
        "invalid inclusion proof",
        true,
    ));
    // A whole genuine entry of another signature: every log check passes, the body not.
    cases.push((
        "genuine log entry of another signature (log body)",
        with_entry(&genuine, tlog0(&genuine_other).clone()),
        "log entry does not match the bundle",
        true,
    ));
    // Integrated time in the future / before the log key's validity, SET and proof valid.
    cases.push((
        "integrated time in the future (year 9999), SET-signed",
        with_entry(&genuine, Fab::by(log, FAR_FUTURE).bundle_entry(&body, &kv)),
        "is in the future",
        false,
    ));
    cases.push((
        "integrated time before the log key's validity window",
        with_entry(
            &genuine,
            Fab::by(log, BEFORE_WINDOW).bundle_entry(&body, &kv),
        ),
        "No log key valid at integrated time",
        true,
    ));
    // Bundle version rules.
    let mut x = g.clone();
    x.as_object_mut().unwrap().remove("inclusionProof");
    let mut b = with_entry(&genuine, x);
    cases.push((
        "v0.3 bundle whose entry has only a SET (no inclusion proof)",
        b.clone(),
        "must have an inclusion proof",
        true,
    ));
    b["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2".into();
    cases.push((
        "v0.2 bundle whose entry has only a SET (no inclusion proof)",
        b,
        "must have an inclusion proof",
        true,
    ));
    let mut x = g.clone();
    x.as_object_mut().unwrap().remove("inclusionPromise");
    let mut b = with_entry(&genuine, x);
    b["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1".into();
    cases.push((
        "v0.1 bundle whose entry has no SET (inclusion promise)",
        b,
        "must have an inclusion promise",
        true,
    ));
    let mut x = g.clone();
    x["inclusionProof"]
        .as_object_mut()
        .unwrap()
        .remove("checkpoint");
    cases.push((
        "genuine SET, inclusion proof without checkpoint",
        with_entry(&genuine, x),
        "inclusion proof has no checkpoint",
        true,
    ));
    let mut b = genuine.clone();
    b["verificationMaterial"]["tlogEntries"] = json!([]);
    cases.push((
        "no transparency log entry",
        b,
        "bundle has no transparency log entry",
        true,
    ));
    for mt in [
        "application/vnd.dev.sigstore.bundle.v0.4+json",
        "application/vnd.dev.sigstore.bundle+json;version=0.9",
        "application/vnd.dev.sigstore.bundle.v0.3+json;evil",
    ] {
        let mut b = genuine.clone();
        b["mediaType"] = mt.into();
        cases.push((
            match mt {
                "application/vnd.dev.sigstore.bundle.v0.4+json" => "media type bundle.v0.4+json",
                "application/vnd.dev.sigstore.bundle+json;version=0.9" => {
                    "media type bundle+json;version=0.9"
                }
                _ => "media type bundle.v0.3+json;evil",
            },
            b,
            "unsupported bundle media type",
            true,
        ));
    }
    // Signature, payload.
    let mut b = genuine.clone();
    let s = b["dsseEnvelope"]["signatures"][0]["sig"]
        .as_str()
        .unwrap()
        .to_string();
    b["dsseEnvelope"]["signatures"][0]["sig"] = flip_b64(&s, 20).into();
    cases.push((
        "DSSE signature bytes flipped",
        b,
        "DSSE signature does not verify",
        true,
    ));
    let mut b = genuine.clone();
    let p = B64
        .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let p = String::from_utf8(p)
        .unwrap()
        .replace("cosign/sign/v1", "cosign/sign/v2");
    b["dsseEnvelope"]["payload"] = B64.encode(p).into();
    cases.push((
        "DSSE payload altered",
        b,
        "DSSE signature does not verify",
        true,
    ));
    // Subject digest: the other image's genuine bundle.
    cases.push((
        "genuine bundle of another image (subject digest)",
        genuine_other.clone(),
        "does not match any subject",
        true,
    ));

    // Controls: the genuine bundle, and an entry made correctly by the test log (the
    // machinery the forgeries use produces what both verifiers accept).
    e.accepted("control: genuine key-signed v0.3 bundle", &key, &img);
    let made = with_entry(&genuine, Fab::by(log, t0).bundle_entry(&body, &kv));
    e.attach(&img, &made);
    e.accepted("control: entry made by the trusted test log", &key, &img);
    let mut f = Fab::by(log, t0);
    f.set = false;
    e.attach(&img, &with_entry(&genuine, f.bundle_entry(&body, &kv)));
    e.accepted(
        "control: test-log entry, proof+checkpoint, no SET",
        &key,
        &img,
    );

    for (name, b, reason, real) in cases {
        e.attach(&img, &b);
        e.refused(name, &key, &img, reason, real);
    }
    // Another key.
    e.attach(&img, &genuine);
    let other_key = e.w().join("other");
    std::fs::create_dir_all(&other_key).unwrap();
    ok(
        &e.ox.run(&other_key, &["generate-key-pair"], &e.env()),
        "generate-key-pair",
    );
    let k2 = Mode::Key(other_key.join("cosign.pub").display().to_string());
    e.refused(
        "verified with another public key",
        &k2,
        &img,
        "DSSE signature does not verify",
        true,
    );
    e.print_table("key-based bundles");
}

#[test]
fn keyless_bundle_forgeries_are_refused() {
    let Some(e) = setup() else { return };
    let img = e.image("forge/keyless", "1");
    let other = e.image("forge/keyless", "2");
    e.sign_keyless(&img);
    e.sign_keyless(&other);
    let id = Mode::Keyless {
        identity: GH_IDENTITY.into(),
        issuer: GH_ISSUER.into(),
    };
    let genuine = e.bundle(&img);
    let genuine_other = e.bundle(&other);
    let g = tlog0(&genuine).clone();
    let body = g["canonicalizedBody"].as_str().unwrap().to_string();
    let kv = g["kindVersion"].clone();
    let t0: i64 = g["integratedTime"].as_str().unwrap().parse().unwrap();
    let vm = &genuine["verificationMaterial"];
    let cert_b64 = vm["certificate"]["rawBytes"]
        .as_str()
        .expect("a v0.3 bundle holds one certificate")
        .to_string();
    let cert = Cert::from_der(&B64.decode(&cert_b64).unwrap()).unwrap();
    let stamps = vm["timestampVerificationData"]["rfc3161Timestamps"].clone();
    assert!(
        stamps.as_array().is_some_and(|a| !a.is_empty()),
        "the fixture's signing config names a TSA: the bundle must carry a timestamp"
    );
    let log = &e.test_log;
    let att = &e.attacker;
    let no_tsa = |b: &Value| {
        let mut b = b.clone();
        b["verificationMaterial"]
            .as_object_mut()
            .unwrap()
            .remove("timestampVerificationData");
        b
    };

    // (name, bundle, how verified, oxtask's reason, real cosign: Some(its extra flags) when
    // it must refuse too). cosign looks at RFC 3161 timestamps only when told to.
    const REFUSES: Option<&[&str]> = Some(&[]);
    const TSA: Option<&[&str]> = Some(&["--use-signed-timestamps"]);
    let mut cases: Vec<KeylessCase> = Vec::new();
    let mut f = Fab::by(att, t0);
    f.set = false;
    f.checkpoint = false;
    cases.push((
        "issue 11 forgery on a keyless bundle (no TSA)",
        no_tsa(&with_entry(&genuine, f.bundle_entry(&body, &kv))),
        id.clone(),
        "is not one of the trusted root's transparency logs",
        REFUSES,
    ));
    // A proven entry whose time no one signed: no SET, no TSA.
    let mut f = Fab::by(log, t0);
    f.set = false;
    cases.push((
        "proven entry, unsigned integrated time, no TSA",
        no_tsa(&with_entry(&genuine, f.bundle_entry(&body, &kv))),
        id.clone(),
        "no verified timestamp",
        REFUSES,
    ));
    // A SET-signed time at which the certificate was not yet valid.
    // Between the CA's validity start (in the trusted root) and the certificate's.
    let tr: Value = serde_json::from_slice(&std::fs::read(e.sig.trusted_root()).unwrap()).unwrap();
    let ca_start = chrono::DateTime::parse_from_rfc3339(
        tr["certificateAuthorities"][0]["validFor"]["start"]
            .as_str()
            .unwrap(),
    )
    .unwrap()
    .timestamp();
    let early = (ca_start + cert.not_before() as i64) / 2;
    assert!(ca_start < early && early < cert.not_before() as i64 && early > TEST_LOG_START);
    cases.push((
        "SET-signed integrated time outside the certificate's validity",
        no_tsa(&with_entry(
            &genuine,
            Fab::by(log, early).bundle_entry(&body, &kv),
        )),
        id.clone(),
        "certificate chain validation failed",
        REFUSES,
    ));
    // Certificate chains.
    let fulcio_root = {
        let pem = std::fs::read(e.sig.file("fulcio_root.pem")).unwrap();
        let c = Cert::from_pem_chain(&pem).unwrap();
        B64.encode(&c[0].der)
    };
    let chain =
        json!({ "certificates": [ { "rawBytes": cert_b64 }, { "rawBytes": fulcio_root } ] });
    let mut b = genuine.clone();
    b["verificationMaterial"]
        .as_object_mut()
        .unwrap()
        .remove("certificate");
    b["verificationMaterial"]["x509CertificateChain"] = chain;
    cases.push((
        "v0.3 bundle with an x509CertificateChain including the root",
        b.clone(),
        id.clone(),
        "must be a single certificate, not an x509CertificateChain",
        REFUSES,
    ));
    b["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2".into();
    cases.push((
        "v0.2 bundle whose x509CertificateChain includes the root",
        b,
        id.clone(),
        "includes a root certificate",
        REFUSES,
    ));
    // Another signing's certificate.
    let mut b = genuine.clone();
    b["verificationMaterial"]["certificate"] =
        genuine_other["verificationMaterial"]["certificate"].clone();
    cases.push((
        "certificate of another signing",
        b,
        id.clone(),
        "DSSE signature does not verify",
        REFUSES,
    ));
    // Identity and issuer.
    cases.push((
        "another identity",
        genuine.clone(),
        Mode::Keyless {
            identity:
                "https://github.com/evil/charts/.github/workflows/release.yml@refs/heads/main"
                    .into(),
            issuer: GH_ISSUER.into(),
        },
        "none of the expected identities matched",
        REFUSES,
    ));
    cases.push((
        "another issuer",
        genuine.clone(),
        Mode::Keyless {
            identity: GH_IDENTITY.into(),
            issuer: "https://accounts.google.com".into(),
        },
        "none of the expected identities matched",
        REFUSES,
    ));
    // TSA tokens: tampered, and another signature's.
    let mut b = genuine.clone();
    let tok = stamps[0]["signedTimestamp"].as_str().unwrap();
    let n = B64.decode(tok).unwrap().len();
    b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
        ["signedTimestamp"] = flip_b64(tok, n - 10).into();
    cases.push((
        "RFC 3161 timestamp token tampered",
        b,
        id.clone(),
        "timestamp",
        TSA,
    ));
    let mut b = genuine.clone();
    b["verificationMaterial"]["timestampVerificationData"] =
        genuine_other["verificationMaterial"]["timestampVerificationData"].clone();
    cases.push((
        "RFC 3161 timestamp of another signature",
        b,
        id.clone(),
        "invalid RFC 3161 timestamp",
        TSA,
    ));

    e.accepted("control: genuine keyless v0.3 bundle", &id, &img);
    let mut f = Fab::by(log, t0);
    f.set = false;
    e.attach(&img, &with_entry(&genuine, f.bundle_entry(&body, &kv)));
    // cosign judges a certificate by the log's signed time unless told to use signed
    // timestamps; oxtask takes either (as sigstore-go's observer timestamps do).
    e.accepted_with(
        "control: test-log proof without SET, time from the TSA",
        &id,
        &img,
        &["--use-signed-timestamps"],
    );
    e.attach(
        &img,
        &no_tsa(&with_entry(
            &genuine,
            Fab::by(log, t0).bundle_entry(&body, &kv),
        )),
    );
    e.accepted("control: test-log entry with SET, no TSA", &id, &img);

    for (name, b, mode, reason, real) in cases {
        e.attach(&img, &b);
        e.refused_with(name, &mode, &img, reason, real);
    }
    e.print_table("keyless bundles");
}

#[test]
fn legacy_signature_forgeries_are_refused() {
    let Some(e) = setup() else { return };
    let img = e.image("forge/legacy", "1");
    e.sign_key(&img, false);
    let key = Mode::Key(e.w().join("cosign.pub").display().to_string());
    let (_, m) = e.sig_manifest(&img);
    let genuine = m["layers"][0]["annotations"][BUNDLE_ANN]
        .as_str()
        .expect("bundle annotation")
        .to_string();
    let g: Value = serde_json::from_str(&genuine).unwrap();
    let body = g["Payload"]["body"].as_str().unwrap().to_string();
    let t0 = g["Payload"]["integratedTime"].as_i64().unwrap();
    let log = &e.test_log;

    let mut cases: Vec<(&str, String, &str, bool)> = Vec::new();
    let mut x = g.clone();
    let set = x["SignedEntryTimestamp"].as_str().unwrap().to_string();
    x["SignedEntryTimestamp"] = flip_b64(&set, 40).into();
    cases.push((
        ".sig: SET bytes flipped",
        x.to_string(),
        "SET verification failed",
        true,
    ));
    let mut x = g.clone();
    x["Payload"]["logIndex"] = (x["Payload"]["logIndex"].as_i64().unwrap() + 1).into();
    cases.push((
        ".sig: log index changed under the SET",
        x.to_string(),
        "SET verification failed",
        true,
    ));
    cases.push((
        ".sig: SET by an untrusted log",
        Fab::by(&e.attacker, t0).annotation(&body),
        "is not one of the trusted root's transparency logs",
        true,
    ));
    let mut x = g.clone();
    x.as_object_mut().unwrap().remove("SignedEntryTimestamp");
    cases.push((".sig: no SET", x.to_string(), "SignedEntryTimestamp", true));
    cases.push((
        ".sig: SET-signed integrated time in the future",
        Fab::by(log, FAR_FUTURE).annotation(&body),
        "is in the future",
        false,
    ));
    cases.push((
        ".sig: integrated time before the log key's validity",
        Fab::by(log, BEFORE_WINDOW).annotation(&body),
        "No log key valid at integrated time",
        true,
    ));

    e.accepted("control: genuine .sig with bundle annotation", &key, &img);
    e.set_annotation(&img, Some(&Fab::by(log, t0).annotation(&body)));
    e.accepted("control: .sig annotation made by the test log", &key, &img);
    for (name, ann, reason, real) in cases {
        e.set_annotation(&img, Some(&ann));
        e.refused(name, &key, &img, reason, real);
    }
    e.set_annotation(&img, None);
    e.refused(
        ".sig: no bundle annotation",
        &key,
        &img,
        "no bundle annotation",
        true,
    );
    e.print_table("legacy .sig signatures");
}

/// `helm pull --verify-cosign` uses the same verifier: the issue's forgery on a chart's
/// bundle is refused and nothing is written; the genuine bundle passes.
#[test]
fn helm_pull_verify_cosign_refuses_the_forgery() {
    use std::process::{Command, Stdio};
    let Some(e) = setup() else { return };
    let w = e.w();
    let bin = w.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_task"), bin.join("helm")).unwrap();
    let home = w.join("helm-home");
    std::fs::create_dir_all(&home).unwrap();
    let helm = |args: &[&str]| {
        Command::new(bin.join("helm"))
            .current_dir(w)
            .args(args)
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("HOME", &home)
            .env("DOCKER_CONFIG", home.join(".docker"))
            .env("HELM_REGISTRY_CONFIG", home.join("registry.json"))
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let chart = w.join("forgechart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: forgechart\nversion: 0.1.0\n",
    )
    .unwrap();
    ok(&helm(&["package", "forgechart"]), "helm package");
    let remote = format!("oci://{}/charts", e.reg.host);
    let o = helm(&["push", "forgechart-0.1.0.tgz", &remote, "--plain-http"]);
    ok(&o, "helm push");
    let digest = text(&o.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Digest: ").map(str::to_string))
        .expect("helm push prints the digest");
    let image = format!("{}/charts/forgechart@{digest}", e.reg.host);
    e.sign_key(&image, true);
    let root = e.root.display().to_string();
    let pull = |dest: &str| {
        helm(&[
            "pull",
            &format!("{remote}/forgechart"),
            "--version",
            "0.1.0",
            "--plain-http",
            "--verify-cosign",
            "--cosign-key",
            "cosign.pub",
            "--trusted-root",
            &root,
            "-d",
            dest,
        ])
    };
    std::fs::create_dir_all(w.join("genuine")).unwrap();
    ok(&pull("genuine"), "helm pull of the genuine signature");
    assert!(w.join("genuine/forgechart-0.1.0.tgz").is_file());

    let genuine = e.bundle(&image);
    let g = tlog0(&genuine);
    let t0: i64 = g["integratedTime"].as_str().unwrap().parse().unwrap();
    let mut f = Fab::by(&e.attacker, t0);
    f.set = false;
    f.checkpoint = false;
    let forged = with_entry(
        &genuine,
        f.bundle_entry(g["canonicalizedBody"].as_str().unwrap(), &g["kindVersion"]),
    );
    e.attach(&image, &forged);
    std::fs::create_dir_all(w.join("forged")).unwrap();
    let o = pull("forged");
    let err = text(&o.stderr);
    assert!(!o.status.success(), "helm pull accepted the forgery: {err}");
    assert!(
        err.contains("is not one of the trusted root's transparency logs"),
        "{err}"
    );
    assert!(!w.join("forged/forgechart-0.1.0.tgz").exists());
}

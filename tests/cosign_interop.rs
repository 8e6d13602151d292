//! oxtask's native cosign against the real cosign (v3.x and v2.x, Debian's builds), both ways:
//! what oxtask signs, real cosign verifies (and rejects for a wrong identity or root); what real
//! cosign signs, oxtask verifies. Keyless runs on the loopback Sigstore fixture, keys are
//! exchanged in cosign's encrypted format, all against a real distribution registry.

#[path = "support/sigstore.rs"]
mod support;

use std::path::Path;
use std::process::Output;

use support::*;

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    );
}

fn fails(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "expected a failure\nstdout: {}\nstderr: {}",
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stderr)
}

/// The signed digest as real cosign reports it in its JSON output (one entry per signature).
fn verified_digests(o: &Output) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("verify output is not JSON ({e}): {}", text(&o.stdout));
    });
    v.as_array()
        .expect("a JSON array")
        .iter()
        .map(|s| {
            s["critical"]["image"]["docker-manifest-digest"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

struct Env {
    sig: Sigstore,
    reg: Registry,
    ox: Cosign,
    work: tempfile::TempDir,
}

fn setup() -> Option<Env> {
    let sig = Sigstore::start()?;
    let reg = Registry::start()?;
    Some(Env {
        sig,
        reg,
        ox: Cosign::new(),
        work: tempfile::tempdir().unwrap(),
    })
}

impl Env {
    fn w(&self) -> &Path {
        self.work.path()
    }
    fn path(&self, p: std::path::PathBuf) -> String {
        p.to_string_lossy().into_owned()
    }
    fn image(&self, repo: &str, tag: &str) -> String {
        let d = self.reg.push_image(repo, tag, &format!("{repo}:{tag}"));
        format!("{}/{repo}@{d}", self.reg.host)
    }
    fn ox_sign_keyless(&self, image: &str, extra: &[&str]) {
        let (tr, sc) = (
            self.path(self.sig.trusted_root()),
            self.path(self.sig.signing_config()),
        );
        let mut args = vec!["sign", "--trusted-root", &tr, "--signing-config", &sc];
        args.extend_from_slice(extra);
        args.push(image);
        ok(&self.ox.run(self.w(), &args, &self.sig.actions_env()));
    }
    fn ox_verify(&self, image: &str, identity: &str, extra: &[&str]) -> Output {
        let tr = self.path(self.sig.trusted_root());
        let mut args = vec![
            "verify",
            "--trusted-root",
            &tr,
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            GH_ISSUER,
        ];
        args.extend_from_slice(extra);
        args.push(image);
        self.ox.run(self.w(), &args, &[])
    }
    /// The fixture's signing config without its TSA: cosign v3 sends RFC 3161 requests in
    /// DER, which the mock TSA (JSON only) does not take.
    fn signing_config_without_tsa(&self) -> String {
        let mut sc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.sig.signing_config()).unwrap()).unwrap();
        sc["tsaUrls"] = serde_json::json!([]);
        let p = self.w().join("signing_config_no_tsa.json");
        std::fs::write(&p, sc.to_string()).unwrap();
        self.path(p)
    }
}

fn cosign_verify_args<'a>(tr: &'a str, identity: &'a str, image: &'a str) -> Vec<&'a str> {
    vec![
        "verify",
        "--allow-http-registry",
        "--trusted-root",
        tr,
        "--certificate-identity",
        identity,
        "--certificate-oidc-issuer",
        GH_ISSUER,
        image,
    ]
}

#[test]
fn real_cosign_v3_verifies_oxtask_keyless_signatures() {
    let Some(c3) = RealCosign::find("cosign3") else {
        return;
    };
    let Some(e) = setup() else { return };
    let legacy = e.image("acme/chart", "1.0.0");
    let bundled = e.image("acme/chart", "2.0.0");
    e.ox_sign_keyless(&legacy, &[]);
    e.ox_sign_keyless(&bundled, &["--new-bundle-format"]);
    let tr = e.path(e.sig.trusted_root());

    for image in [&legacy, &bundled] {
        let o = c3.run(e.w(), &cosign_verify_args(&tr, GH_IDENTITY, image), &[]);
        ok(&o);
        let digest = image.split_once('@').unwrap().1;
        assert_eq!(verified_digests(&o), vec![digest.to_string()]);
        let err = text(&o.stderr);
        assert!(
            err.contains("Existence of the claims in the transparency log was verified offline"),
            "{err}"
        );

        // The oracle does check: another identity, another CA root.
        let other = "https://github.com/evil/charts/.github/workflows/release.yml@refs/heads/main";
        fails(&c3.run(e.w(), &cosign_verify_args(&tr, other, image), &[]));
        let other_root = e.path(e.sig.file("other_trusted_root.json"));
        fails(&c3.run(
            e.w(),
            &cosign_verify_args(&other_root, GH_IDENTITY, image),
            &[],
        ));
    }
}

#[test]
fn real_cosign_v2_verifies_oxtask_keyless_legacy_signature() {
    let Some(c2) = RealCosign::find("cosign2") else {
        return;
    };
    let Some(e) = setup() else { return };
    let image = e.image("acme/app", "v1");
    e.ox_sign_keyless(&image, &[]);
    let args = |identity: &'static str| {
        vec![
            "verify".to_string(),
            "--allow-http-registry".into(),
            "--certificate-identity".into(),
            identity.into(),
            "--certificate-oidc-issuer".into(),
            GH_ISSUER.into(),
            image.clone(),
        ]
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        c2.run(e.w(), &a, &e.sig.v2_trust_env())
    };
    let o = run(args(GH_IDENTITY));
    ok(&o);
    assert_eq!(
        verified_digests(&o),
        vec![image.split_once('@').unwrap().1.to_string()]
    );
    fails(&run(args("someone@example.com")));
}

#[test]
fn oxtask_verifies_real_cosign_v3_keyless_bundle() {
    let Some(c3) = RealCosign::find("cosign3") else {
        return;
    };
    let Some(e) = setup() else { return };
    let image = e.image("acme/chart", "3.0.0");
    let tok = e.path(e.sig.token_file(e.w()));
    let sc = e.signing_config_without_tsa();
    let tr = e.path(e.sig.trusted_root());
    let o = c3.run(
        e.w(),
        &[
            "sign",
            "--yes",
            "--allow-http-registry",
            "--signing-config",
            &sc,
            "--trusted-root",
            &tr,
            "--identity-token",
            &tok,
            &image,
        ],
        &[],
    );
    ok(&o);

    // cosign v3 stores a bundle referrer (here under the referrers tag: the registry has
    // no referrers API). Found with and without --new-bundle-format.
    let digest = image.split_once('@').unwrap().1;
    let id = GH_IDENTITY;
    for extra in [&[][..], &["--new-bundle-format"][..]] {
        let o = e.ox_verify(&image, id, extra);
        ok(&o);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            v[0]["subject"][0]["digest"]["sha256"].as_str(),
            Some(digest.trim_start_matches("sha256:")),
            "{v}"
        );
    }
    let o = e.ox_verify(&image, "https://github.com/evil/x", &[]);
    assert!(fails(&o).contains("no matching signatures"));
    // Real cosign agrees with itself (the bundle is well-formed, not just lenient us).
    ok(&c3.run(e.w(), &cosign_verify_args(&tr, id, &image), &[]));
}

#[test]
fn oxtask_verifies_real_cosign_v2_keyless_legacy_signature() {
    let Some(c2) = RealCosign::find("cosign2") else {
        return;
    };
    let Some(e) = setup() else { return };
    let image = e.image("acme/app", "v2");
    let o = c2.run(
        e.w(),
        &[
            "sign",
            "--yes",
            "--allow-http-registry",
            "--fulcio-url",
            &e.sig.url,
            "--rekor-url",
            &e.sig.url,
            "--identity-token",
            &e.sig.token(),
            &image,
        ],
        &e.sig.v2_trust_env(),
    );
    ok(&o);
    assert!(text(&o.stderr).contains("tlog entry created with index:"));
    let o = e.ox_verify(&image, GH_IDENTITY, &[]);
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v[0]["critical"]["image"]["docker-manifest-digest"].as_str(),
        image.split_once('@').map(|x| x.1)
    );
    // Wrong issuer.
    let tr = e.path(e.sig.trusted_root());
    let o = e.ox.run(
        e.w(),
        &[
            "verify",
            "--trusted-root",
            &tr,
            "--certificate-identity",
            GH_IDENTITY,
            "--certificate-oidc-issuer",
            "https://accounts.google.com",
            &image,
        ],
        &[],
    );
    fails(&o);
}

#[test]
fn keys_and_key_signatures_interchange_with_real_cosign() {
    let Some(c3) = RealCosign::find("cosign3") else {
        return;
    };
    let Some(e) = setup() else { return };
    let pw = |p: &str| vec![("COSIGN_PASSWORD".to_string(), p.to_string())];
    let ours = e.w().join("ours");
    let theirs = e.w().join("theirs");
    std::fs::create_dir_all(&ours).unwrap();
    std::fs::create_dir_all(&theirs).unwrap();
    ok(&e.ox.run(&ours, &["generate-key-pair"], &pw("pw-ours")));
    ok(&c3.run(&theirs, &["generate-key-pair"], &pw("pw-theirs")));
    let key = |d: &Path, f: &str| d.join(f).to_string_lossy().into_owned();

    // Real cosign signs with a key oxtask made (it decrypts our format) …
    let a = e.image("keys/app", "a");
    ok(&c3.run(
        e.w(),
        &[
            "sign",
            "--yes",
            "--allow-http-registry",
            "--use-signing-config=false",
            "--tlog-upload=false",
            "--key",
            &key(&ours, "cosign.key"),
            &a,
        ],
        &pw("pw-ours"),
    ));
    // … and oxtask verifies that signature with our public key.
    let o = e.ox.run(
        e.w(),
        &[
            "verify",
            "--insecure-ignore-tlog",
            "--key",
            &key(&ours, "cosign.pub"),
            &a,
        ],
        &[],
    );
    ok(&o);
    // A key that did not sign: rejected.
    fails(&e.ox.run(
        e.w(),
        &[
            "verify",
            "--insecure-ignore-tlog",
            "--key",
            &key(&theirs, "cosign.pub"),
            &a,
        ],
        &[],
    ));

    // oxtask signs with real cosign's key, with a Rekor entry; real cosign verifies the
    // signature and the entry's SET against the fixture's trusted root.
    let b = e.image("keys/app", "b");
    let (tr, sc) = (e.path(e.sig.trusted_root()), e.path(e.sig.signing_config()));
    ok(&e.ox.run(
        e.w(),
        &[
            "sign",
            "--key",
            &key(&theirs, "cosign.key"),
            "--trusted-root",
            &tr,
            "--signing-config",
            &sc,
            &b,
        ],
        &pw("pw-theirs"),
    ));
    let o = c3.run(
        e.w(),
        &[
            "verify",
            "--allow-http-registry",
            "--trusted-root",
            &tr,
            "--key",
            &key(&theirs, "cosign.pub"),
            &b,
        ],
        &[],
    );
    ok(&o);
    assert!(text(&o.stderr).contains("transparency log was verified offline"));
    assert_eq!(
        verified_digests(&o),
        vec![b.split_once('@').unwrap().1.to_string()]
    );
    fails(&c3.run(
        e.w(),
        &[
            "verify",
            "--allow-http-registry",
            "--trusted-root",
            &tr,
            "--key",
            &key(&ours, "cosign.pub"),
            &b,
        ],
        &[],
    ));
}

/// `HOST/repo@digest` → (repo, digest) on the test registry.
fn repo_and_digest<'a>(reg: &Registry, image: &'a str) -> (&'a str, &'a str) {
    image
        .strip_prefix(&format!("{}/", reg.host))
        .and_then(|r| r.split_once('@'))
        .expect("an image on the test registry, by digest")
}

/// The newest Sigstore bundle attached to `image` under the referrers tag.
fn attached_bundle(reg: &Registry, image: &str) -> serde_json::Value {
    let (repo, digest) = repo_and_digest(reg, image);
    let (idx, _) = reg
        .get_manifest(repo, &digest.replace(':', "-"))
        .expect("referrers tag");
    let idx: serde_json::Value = serde_json::from_slice(&idx).unwrap();
    let m = idx["manifests"].as_array().unwrap().last().unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let (m, _) = reg.get_manifest(repo, &m).unwrap();
    let m: serde_json::Value = serde_json::from_slice(&m).unwrap();
    let layer = m["layers"][0]["digest"].as_str().unwrap();
    serde_json::from_slice(&reg.blob(repo, layer)).unwrap()
}

#[test]
fn signed_timestamps_from_the_timestamp_authority() {
    use base64::Engine;
    use oxtask::native::cosign::{trust::TrustedRoot, tsa};
    let b64 = base64::engine::general_purpose::STANDARD;
    let Some(c3) = RealCosign::find("cosign3") else {
        return;
    };
    let Some(e) = setup() else { return };
    let tr = e.path(e.sig.trusted_root());

    // oxtask asks the signing config's TSA (DER request) and stores the answer in the bundle.
    let ours = e.image("acme/ts", "ours");
    e.ox_sign_keyless(&ours, &["--new-bundle-format"]);
    let b = attached_bundle(&e.reg, &ours);
    let der = b64
        .decode(
            b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
                ["signedTimestamp"]
                .as_str()
                .expect("a signed timestamp in the bundle"),
        )
        .unwrap();
    let sig = b64
        .decode(b["dsseEnvelope"]["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    let root = TrustedRoot::load(&e.sig.trusted_root()).unwrap();
    let t = tsa::verify(&der, &sig, &root.tsas).expect("timestamp verifies");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(t <= now + 5 && now - t < 600, "timestamp {t}, now {now}");
    // Over another signature, tampered, or without that authority: refused.
    assert!(tsa::verify(&der, b"another signature", &root.tsas).is_err());
    let mut bad = der.clone();
    let n = bad.len();
    bad[n - 10] ^= 0x01; // inside the CMS signature
    assert!(tsa::verify(&bad, &sig, &root.tsas).is_err());
    let other = TrustedRoot::load(&e.sig.file("other_trusted_root.json")).unwrap();
    assert!(tsa::verify(&der, &sig, &other.tsas).is_err());

    // openssl reads and verifies the same response against the TSA chain.
    if require(openssl_available(), "openssl").is_some() {
        let d = e.w();
        std::fs::write(d.join("resp.tsr"), &der).unwrap();
        let hash = {
            use sha2::Digest;
            sha2::Sha256::digest(&sig)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        let chain = e.sig.file("tsa_chain.pem");
        let o = std::process::Command::new("sh")
            .current_dir(d)
            .arg("-c")
            .arg(format!(
                "awk '/BEGIN/{{n++}} n==1' {c} > leaf.pem && awk '/BEGIN/{{n++}} n==2' {c} > root.pem && \
                 openssl ts -verify -in resp.tsr -digest {hash} -CAfile root.pem -untrusted leaf.pem",
                c = chain.display()
            ))
            .output()
            .unwrap();
        assert!(
            text(&o.stdout).contains("Verification: OK"),
            "{}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
    }
    // sigstore-go's verifier (the library behind cosign v3's bundle checks and Kyverno's
    // Sigstore bundle support) accepts the bundle for the image digest, and only for the
    // right identity.
    let sgo = repo_root().join(".ci/tools/sigstore-go/usr/bin/sigstore-go-verification");
    if require(sgo.exists(), "sigstore-go (run .ci/install-cosign-real.sh)").is_some() {
        let bf = e.w().join("bundle.json");
        std::fs::write(&bf, b.to_string()).unwrap();
        let hex = ours.split("sha256:").nth(1).unwrap();
        let run = |san: &str| {
            std::process::Command::new(&sgo)
                .args(["-trustedrootJSONpath", &tr, "-expectedSAN", san])
                .args(["-expectedIssuer", GH_ISSUER, "-artifact-digest", hex])
                .arg(&bf)
                .output()
                .unwrap()
        };
        let o = run(GH_IDENTITY);
        ok(&o);
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            r["verifiedIdentity"]["subjectAlternativeName"]["subjectAlternativeName"],
            GH_IDENTITY
        );
        let kinds: Vec<&str> = r["verifiedTimestamps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["type"].as_str())
            .collect();
        assert!(
            kinds.contains(&"Tlog") && kinds.contains(&"TimestampAuthority"),
            "{r}"
        );
        fails(&run("https://github.com/evil/x"));
    }

    // Real cosign, told to require signed timestamps, accepts it.
    let mut args = cosign_verify_args(&tr, GH_IDENTITY, &ours);
    args.insert(1, "--use-signed-timestamps");
    ok(&c3.run(e.w(), &args, &[]));

    // And cosign v3's own timestamped bundle passes oxtask's verification.
    let theirs = e.image("acme/ts", "theirs");
    let tok = e.path(e.sig.token_file(e.w()));
    let sc = e.path(e.sig.signing_config());
    ok(&c3.run(
        e.w(),
        &[
            "sign",
            "--yes",
            "--allow-http-registry",
            "--signing-config",
            &sc,
            "--trusted-root",
            &tr,
            "--identity-token",
            &tok,
            &theirs,
        ],
        &[],
    ));
    let tb = attached_bundle(&e.reg, &theirs);
    assert!(
        tb["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
            ["signedTimestamp"]
            .is_string(),
        "cosign did not timestamp: {tb}"
    );
    ok(&e.ox_verify(&theirs, GH_IDENTITY, &["--new-bundle-format"]));
}

#[test]
fn unreachable_timestamp_authority_fails_before_anything_is_logged_or_pushed() {
    let Some(e) = setup() else { return };
    let image = e.image("acme/ts", "down");
    let mut sc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(e.sig.signing_config()).unwrap()).unwrap();
    let dead = format!("http://127.0.0.1:{}/api/v1/timestamp", free_port());
    sc["tsaUrls"][0]["url"] = serde_json::json!(dead);
    let scp = e.w().join("sc_dead_tsa.json");
    std::fs::write(&scp, sc.to_string()).unwrap();
    let tr = e.path(e.sig.trusted_root());
    let o = e.ox.run(
        e.w(),
        &[
            "sign",
            "--new-bundle-format",
            "--trusted-root",
            &tr,
            "--signing-config",
            &e.path(scp),
            &image,
        ],
        &e.sig.actions_env(),
    );
    let err = fails(&o);
    assert!(err.contains("timestamp authority"), "{err}");
    assert!(!err.contains("tlog entry created"), "{err}");
    let (repo, digest) = repo_and_digest(&e.reg, &image);
    assert!(e
        .reg
        .get_manifest(repo, &digest.replace(':', "-"))
        .is_none());
}

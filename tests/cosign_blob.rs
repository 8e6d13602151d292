//! `cosign sign-blob` / `cosign verify-blob`: oxtask signs files (keyless on the loopback
//! Sigstore fixture, and with a key), and the real cosign 3.1.1 and sigstore-go's verifier
//! accept what it signs; oxtask verifies what cosign 3.1.1 signs with a key. Plus the
//! refusals and input errors of verify-blob.

#[path = "support/sigstore.rs"]
mod support;

#[path = "support/blob_env.rs"]
mod blob_env;

use std::path::{Path, PathBuf};
use std::process::Output;

use blob_env::*;
use support::*;

fn setup() -> Option<BlobEnv> {
    BlobEnv::start()
}

impl BlobEnv {
    fn digest_arg(&self) -> String {
        format!(
            "sha256:{}",
            sha256_hex(&std::fs::read(&self.artifact).unwrap())
        )
    }
    /// oxtask verify-blob, keyless, with the fixture's trusted root.
    fn ox_verify_keyless(&self, bundle: &Path, identity: &str, artifact: &str) -> Output {
        let tr = self.tr();
        self.ox.run(
            self.w(),
            &[
                "verify-blob",
                "--bundle",
                &s(bundle),
                "--trusted-root",
                &tr,
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                GH_ISSUER,
                artifact,
            ],
            &[],
        )
    }
    fn sigstore_go(&self) -> Option<PathBuf> {
        let p = repo_root().join(".ci/tools/sigstore-go/usr/bin/sigstore-go-verification");
        require(p.exists(), "sigstore-go (run .ci/install-cosign-real.sh)")?;
        Some(p)
    }
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn keyless_sign_blob_is_verified_by_oxtask_cosign3_and_sigstore_go() {
    let Some(e) = setup() else { return };
    let bundle = e.w().join("artifact.sigstore.json");
    let (tr, sc) = (e.tr(), e.sc());
    let art = s(&e.artifact);
    let err = ok(&e.ox.run(
        e.w(),
        &[
            "sign-blob",
            "--trusted-root",
            &tr,
            "--signing-config",
            &sc,
            "--bundle",
            &s(&bundle),
            "--yes",
            &art,
        ],
        &e.sig.actions_env(),
    ));
    assert!(err.contains("Wrote bundle to file"), "{err}");
    // A v0.3 bundle: certificate, message signature over the file, a hashedrekord entry
    // with SET and checkpointed proof, and the fixture TSA's timestamp.
    let b = read_json(&bundle);
    assert_eq!(
        b["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let vm = &b["verificationMaterial"];
    assert!(vm["certificate"]["rawBytes"].is_string(), "{b}");
    assert_eq!(
        b["messageSignature"]["messageDigest"]["algorithm"],
        "SHA2_256"
    );
    let entry = &vm["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["kind"], "hashedrekord");
    assert!(entry["inclusionPromise"]["signedEntryTimestamp"].is_string());
    assert!(entry["inclusionProof"]["checkpoint"]["envelope"].is_string());
    assert_eq!(
        vm["timestampVerificationData"]["rfc3161Timestamps"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{b}"
    );

    // oxtask: the file and its digest verify; another identity, another file do not.
    let out = ok(&e.ox_verify_keyless(&bundle, GH_IDENTITY, &art));
    assert!(out.contains("Verified OK"), "{out}");
    ok(&e.ox_verify_keyless(&bundle, GH_IDENTITY, &e.digest_arg()));
    let other_id = "https://github.com/evil/charts/.github/workflows/release.yml@refs/heads/main";
    let err = fails(&e.ox_verify_keyless(&bundle, other_id, &art));
    assert!(
        err.contains("none of the expected identities matched"),
        "{err}"
    );
    let other = e.w().join("other");
    std::fs::write(&other, b"another artifact\n").unwrap();
    let err = fails(&e.ox_verify_keyless(&bundle, GH_IDENTITY, &s(&other)));
    assert!(err.contains("messageDigest does not match"), "{err}");
    let err = fails(&e.ox_verify_keyless(
        &bundle,
        GH_IDENTITY,
        &format!("sha256:{}", sha256_hex(b"another artifact\n")),
    ));
    assert!(err.contains("messageDigest does not match"), "{err}");

    // cosign 3.1.1 verifies it (also requiring the signed timestamp), and only for the
    // right identity and file.
    if let Some(c3) = RealCosign::find("cosign3") {
        let args = |id: &'static str, a: String, extra: &'static [&'static str]| {
            let mut v: Vec<String> = vec!["verify-blob".into()];
            v.extend(extra.iter().map(|x| x.to_string()));
            v.extend(
                [
                    "--bundle",
                    &s(&bundle),
                    "--trusted-root",
                    &tr,
                    "--certificate-identity",
                    id,
                    "--certificate-oidc-issuer",
                    GH_ISSUER,
                    &a,
                ]
                .map(String::from),
            );
            v
        };
        let run = |v: Vec<String>| {
            let r: Vec<&str> = v.iter().map(String::as_str).collect();
            c3.run(e.w(), &r, &[])
        };
        let out = ok(&run(args(GH_IDENTITY, art.clone(), &[])));
        assert!(out.contains("Verified OK"), "{out}");
        ok(&run(args(
            GH_IDENTITY,
            art.clone(),
            &["--use-signed-timestamps"],
        )));
        ok(&run(args(GH_IDENTITY, e.digest_arg(), &[])));
        fails(&run(args(
            "https://github.com/evil/charts/.github/workflows/release.yml@refs/heads/main",
            art.clone(),
            &[],
        )));
        fails(&run(args(GH_IDENTITY, s(&other), &[])));
    }

    // sigstore-go's verifier: log entry and TSA time both verified.
    if let Some(sgo) = e.sigstore_go() {
        let run = |san: &str, artifact: &Path| {
            std::process::Command::new(&sgo)
                .args(["-trustedrootJSONpath", &tr, "-expectedSAN", san])
                .args(["-expectedIssuer", GH_ISSUER, "-artifact"])
                .arg(artifact)
                .arg(&bundle)
                .output()
                .unwrap()
        };
        let o = run(GH_IDENTITY, &e.artifact);
        ok(&o);
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
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
        fails(&run("https://github.com/evil/x", &e.artifact));
        fails(&run(GH_IDENTITY, &other));
    }
}

fn pw(p: &str) -> Vec<(String, String)> {
    vec![("COSIGN_PASSWORD".to_string(), p.to_string())]
}

#[test]
fn key_sign_blob_is_verified_by_oxtask_cosign3_and_sigstore_go() {
    let Some(e) = setup() else { return };
    ok(&e.ox.run(e.w(), &["generate-key-pair"], &pw("pw")));
    let (tr, sc) = (e.tr(), e.sc());
    let art = s(&e.artifact);
    let bundle = e.w().join("key.sigstore.json");
    ok(&e.ox.run(
        e.w(),
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--trusted-root",
            &tr,
            "--signing-config",
            &sc,
            "--bundle",
            &s(&bundle),
            "-y",
            &art,
        ],
        &pw("pw"),
    ));
    let b = read_json(&bundle);
    assert!(
        b["verificationMaterial"]["publicKey"]["hint"].is_string(),
        "{b}"
    );
    let verify = |key: &str, a: &str| {
        e.ox.run(
            e.w(),
            &[
                "verify-blob",
                "--key",
                key,
                "--bundle",
                &s(&bundle),
                "--trusted-root",
                &tr,
                a,
            ],
            &[],
        )
    };
    ok(&verify("cosign.pub", &art));
    ok(&verify("cosign.pub", &e.digest_arg()));
    // Another key refuses it.
    let other = e.w().join("other");
    std::fs::create_dir_all(&other).unwrap();
    ok(&e.ox.run(&other, &["generate-key-pair"], &pw("x")));
    let other_pub = s(&other.join("cosign.pub"));
    let err = fails(&verify(&other_pub, &art));
    assert!(err.contains("invalid signature"), "{err}");
    // Key and identity together: cosign's usage error.
    let err = fails(&e.ox.run(
        e.w(),
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--certificate-identity",
            GH_IDENTITY,
            "--bundle",
            &s(&bundle),
            &art,
        ],
        &[],
    ));
    assert!(
        err.contains("exactly one of: key reference (--key)"),
        "{err}"
    );

    if let Some(c3) = RealCosign::find("cosign3") {
        let run = |key: &str, a: &str| {
            c3.run(
                e.w(),
                &[
                    "verify-blob",
                    "--key",
                    key,
                    "--bundle",
                    &s(&bundle),
                    "--trusted-root",
                    &tr,
                    a,
                ],
                &[],
            )
        };
        let out = ok(&run("cosign.pub", &art));
        assert!(out.contains("Verified OK"), "{out}");
        ok(&run("cosign.pub", &e.digest_arg()));
        fails(&run(&other_pub, &art));
    }
    if let Some(sgo) = e.sigstore_go() {
        let run = |key: &str| {
            std::process::Command::new(&sgo)
                .args(["-trustedrootJSONpath", &tr, "-publicKey", key])
                .arg("-requireCTlog=false")
                .arg("-artifact")
                .arg(&e.artifact)
                .arg(&bundle)
                .current_dir(e.w())
                .output()
                .unwrap()
        };
        ok(&run("cosign.pub"));
        fails(&run(&other_pub));
    }

    // Legacy outputs (--new-bundle-format=false, no log): a base64 signature that both
    // oxtask and cosign 3.1.1 verify with the key.
    let sigf = e.w().join("artifact.sig");
    ok(&e.ox.run(
        e.w(),
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--new-bundle-format=false",
            "--tlog-upload=false",
            "--output-signature",
            &s(&sigf),
            &art,
        ],
        &pw("pw"),
    ));
    let legacy = |bin: &dyn Fn(&[&str]) -> Output| {
        bin(&[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--signature",
            &s(&sigf),
            "--insecure-ignore-tlog",
            &art,
        ])
    };
    ok(&legacy(&|a| e.ox.run(e.w(), a, &[])));
    if let Some(c3) = RealCosign::find("cosign3") {
        ok(&legacy(&|a| c3.run(e.w(), a, &[])));
    }
    // Without the log and without --insecure-ignore-tlog, oxtask does not search Rekor.
    let err = fails(&e.ox.run(
        e.w(),
        &[
            "verify-blob",
            "--key",
            "cosign.pub",
            "--signature",
            &s(&sigf),
            &art,
        ],
        &[("SIGSTORE_TRUSTED_ROOT".into(), tr.clone())],
    ));
    assert!(err.contains("no transparency log entry"), "{err}");
}

#[test]
fn legacy_blob_bundles_keyless_and_key() {
    let Some(e) = setup() else { return };
    ok(&e.ox.run(e.w(), &["generate-key-pair"], &pw("pw")));
    let (tr, sc) = (e.tr(), e.sc());
    let art = s(&e.artifact);
    let trust_env = vec![("SIGSTORE_TRUSTED_ROOT".to_string(), tr.clone())];
    // cosign's legacy blob bundle (--new-bundle-format=false --bundle): base64Signature,
    // cert (base64 PEM of the certificate or key) and rekorBundle (SET).
    for (name, key) in [("keyless", None), ("key", Some("cosign.key"))] {
        let bundle = e.w().join(format!("{name}.bundle"));
        let bs = s(&bundle);
        let mut args = vec![
            "sign-blob",
            "--new-bundle-format=false",
            "--trusted-root",
            &tr,
            "--signing-config",
            &sc,
            "--bundle",
            &bs,
            "--yes",
        ];
        if let Some(k) = key {
            args.extend(["--key", k]);
        }
        args.push(&art);
        let mut env = e.sig.actions_env();
        env.extend(pw("pw"));
        let o = e.ox.run(e.w(), &args, &env);
        ok(&o);
        // The base64 signature goes to stdout, as cosign prints it.
        let b = read_json(&bundle);
        assert_eq!(
            text(&o.stdout).trim(),
            b["base64Signature"].as_str().unwrap()
        );
        assert!(b["rekorBundle"]["SignedEntryTimestamp"].is_string(), "{b}");
        let mut v = vec!["verify-blob", "--bundle", &bs];
        match key {
            Some(_) => v.extend(["--key", "cosign.pub"]),
            None => v.extend([
                "--certificate-identity",
                GH_IDENTITY,
                "--certificate-oidc-issuer",
                GH_ISSUER,
            ]),
        }
        let mut good = v.clone();
        good.push(&art);
        let out = ok(&e.ox.run(e.w(), &good, &trust_env));
        assert!(out.contains("Verified OK"), "{name}: {out}");
        // Another file is refused; so is a SET over a changed log index.
        let other = e.w().join("other");
        std::fs::write(&other, b"x").unwrap();
        let os = s(&other);
        let mut bad = v.clone();
        bad.push(&os);
        fails(&e.ox.run(e.w(), &bad, &trust_env));
        let mut t = b.clone();
        let i = t["rekorBundle"]["Payload"]["logIndex"].as_i64().unwrap();
        t["rekorBundle"]["Payload"]["logIndex"] = (i + 1).into();
        let tp = e.w().join("tampered.bundle");
        std::fs::write(&tp, t.to_string()).unwrap();
        let tps = s(&tp);
        let mut tv = good.clone();
        tv[2] = &tps;
        let err = fails(&e.ox.run(e.w(), &tv, &trust_env));
        assert!(err.contains("SET verification failed"), "{name}: {err}");
        // --trusted-root is cosign's error in the legacy path.
        let mut with_tr = good.clone();
        with_tr.splice(1..1, ["--trusted-root", tr.as_str()]);
        let err = fails(&e.ox.run(e.w(), &with_tr, &[]));
        assert!(
            err.contains("--trusted-root only supported with --new-bundle-format"),
            "{err}"
        );
    }
}

#[test]
fn oxtask_verifies_cosign3_sign_blob_with_a_key() {
    let Some(c3) = RealCosign::find("cosign3") else {
        return;
    };
    let Some(e) = setup() else { return };
    ok(&c3.run(e.w(), &["generate-key-pair"], &pw("theirs")));
    let (tr, sc) = (e.tr(), e.sc());
    let art = s(&e.artifact);
    let bundle = e.w().join("theirs.sigstore.json");
    ok(&c3.run(
        e.w(),
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--trusted-root",
            &tr,
            "--signing-config",
            &sc,
            "--bundle",
            &s(&bundle),
            "--yes",
            &art,
        ],
        &pw("theirs"),
    ));
    let verify = |key: &str, a: &str| {
        e.ox.run(
            e.w(),
            &[
                "verify-blob",
                "--key",
                key,
                "--bundle",
                &s(&bundle),
                "--trusted-root",
                &tr,
                a,
            ],
            &[],
        )
    };
    let out = ok(&verify("cosign.pub", &art));
    assert!(out.contains("Verified OK"), "{out}");
    ok(&verify("cosign.pub", &e.digest_arg()));
    // Another file, another key: refused.
    let other = e.w().join("other");
    std::fs::write(&other, b"x").unwrap();
    fails(&verify("cosign.pub", &s(&other)));
    let od = e.w().join("od");
    std::fs::create_dir_all(&od).unwrap();
    ok(&e.ox.run(&od, &["generate-key-pair"], &pw("x")));
    fails(&verify(&s(&od.join("cosign.pub")), &art));

    // cosign's legacy blob bundle, as cosign 3.1.1 writes it with --new-bundle-format=false.
    let legacy = e.w().join("theirs.bundle");
    ok(&c3.run(
        e.w(),
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--new-bundle-format=false",
            "--signing-config",
            &sc,
            "--trusted-root",
            &tr,
            "--bundle",
            &s(&legacy),
            "--yes",
            &art,
        ],
        &pw("theirs"),
    ));
    let trust_env = vec![("SIGSTORE_TRUSTED_ROOT".to_string(), tr.clone())];
    let lv = |a: &str| {
        e.ox.run(
            e.w(),
            &[
                "verify-blob",
                "--key",
                "cosign.pub",
                "--bundle",
                &s(&legacy),
                a,
            ],
            &trust_env,
        )
    };
    ok(&lv(&art));
    fails(&lv(&s(&other)));
}

#[test]
fn verify_blob_input_errors_are_clear() {
    let ox = Cosign::new();
    let w = tempfile::tempdir().unwrap();
    let art = w.path().join("a");
    std::fs::write(&art, b"a").unwrap();
    let a = s(&art);
    let run = |args: &[&str]| ox.run(w.path(), args, &[]);
    let id = [
        "--certificate-identity",
        GH_IDENTITY,
        "--certificate-oidc-issuer",
        GH_ISSUER,
    ];
    // Nothing to verify with.
    let err = fails(&run(&["verify-blob", &a]));
    assert!(err.contains("provide a key with --key"), "{err}");
    // Keyless without identity.
    let bad = w.path().join("bad.json");
    std::fs::write(&bad, b"{not json").unwrap();
    let err = fails(&run(&["verify-blob", "--bundle", &s(&bad), &a]));
    assert!(err.contains("--certificate-identity"), "{err}");
    // Malformed bundles: not JSON, wrong shapes, bad base64, bad DER.
    let mut with_id = vec!["verify-blob", "--bundle"];
    let bp = s(&bad);
    with_id.push(&bp);
    with_id.extend(id);
    with_id.push(&a);
    let err = fails(&run(&with_id));
    assert!(
        err.starts_with("Error: ") && err.contains("not JSON"),
        "{err}"
    );
    let tr = w.path().join("tr.json");
    std::fs::write(
        &tr,
        br#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}"#,
    )
    .unwrap();
    let trs = s(&tr);
    for (what, body) in [
        ("array", r#"[]"#),
        (
            "bad certificate DER",
            r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"certificate":{"rawBytes":"AAAA"},"tlogEntries":[]},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AA=="},"signature":"AA=="}}"#,
        ),
        (
            "bad base64",
            r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"certificate":{"rawBytes":"%%%"}},"messageSignature":{}}"#,
        ),
        (
            "no content",
            r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"x"}}}"#,
        ),
        (
            "unknown version",
            r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.4+json","verificationMaterial":{}}"#,
        ),
    ] {
        let p = w.path().join("b.json");
        std::fs::write(&p, body).unwrap();
        let ps = s(&p);
        let mut v = vec!["verify-blob", "--trusted-root", &trs, "--bundle", &ps];
        v.extend(id);
        v.push(&a);
        let err = fails(&run(&v));
        assert!(err.starts_with("Error: "), "{what}: {err}");
        assert_eq!(run(&v).status.code(), Some(1), "{what}");
    }
    // A digest that is not sha256:HEX, and a missing file.
    let p = w.path().join("b.json");
    let ps = s(&p);
    for arg in ["sha256:zz", "sha512:00", "/nonexistent/file"] {
        let mut v = vec!["verify-blob", "--trusted-root", &trs, "--bundle", &ps];
        v.extend(id);
        v.push(arg);
        let err = fails(&run(&v));
        assert!(err.starts_with("Error: "), "{arg}: {err}");
    }
    // sign-blob with the new bundle format needs --bundle (cosign's message).
    let err = fails(&run(&["sign-blob", "--key", "k", &a]));
    assert!(
        err.contains("must specify --bundle with --new-bundle-format"),
        "{err}"
    );
}

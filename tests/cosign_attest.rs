//! `cosign attest-blob` / `cosign verify-blob-attestation`: oxtask's attestations (keyless
//! on the loopback Sigstore fixture, and with a key) are accepted by the real cosign 3.1.1;
//! oxtask verifies what cosign 3.1.1 attests with a key; and the refusals: another blob,
//! another predicate type, a tampered payload, another key or identity.

#[path = "support/sigstore.rs"]
mod support;

#[path = "support/blob_env.rs"]
mod blob_env;

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine;
use blob_env::*;
use support::*;

fn pw(p: &str) -> Vec<(String, String)> {
    vec![("COSIGN_PASSWORD".to_string(), p.to_string())]
}

const VEX: &str = r#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex-1","author":"oxtask","timestamp":"2026-01-01T00:00:00Z","version":1,"statements":[]}"#;

/// [`BlobEnv`] plus another artifact and a predicate file.
struct Env {
    base: BlobEnv,
    other: PathBuf,
    predicate: PathBuf,
}

impl std::ops::Deref for Env {
    type Target = BlobEnv;
    fn deref(&self) -> &BlobEnv {
        &self.base
    }
}

fn setup() -> Option<Env> {
    let base = BlobEnv::start()?;
    let other = base.w().join("other.tgz");
    std::fs::write(&other, b"another artifact\n").unwrap();
    let predicate = base.w().join("vex.json");
    std::fs::write(&predicate, VEX).unwrap();
    Some(Env {
        base,
        other,
        predicate,
    })
}

impl Env {
    fn digest(&self) -> String {
        sha256_hex(&std::fs::read(&self.artifact).unwrap())
    }
    /// verify-blob-attestation (by oxtask or cosign 3.1.1) with the fixture's trust root.
    fn verify(
        &self,
        run: &dyn Fn(&[&str]) -> Output,
        bundle: &Path,
        auth: &[&str],
        ty: &str,
        artifact: &[&str],
    ) -> Output {
        let tr = self.tr();
        let b = s(bundle);
        let mut a = vec![
            "verify-blob-attestation",
            "--bundle",
            &b,
            "--trusted-root",
            &tr,
            "--type",
            ty,
        ];
        a.extend_from_slice(auth);
        a.extend_from_slice(artifact);
        run(&a)
    }
}

/// sigstore-go's verifier (`sigstore-go-verification`), when installed (under CI=true its
/// absence fails the test).
fn sigstore_go() -> Option<PathBuf> {
    let p = repo_root().join(".ci/tools/sigstore-go/usr/bin/sigstore-go-verification");
    require(p.exists(), "sigstore-go (run .ci/install-cosign-real.sh)")?;
    Some(p)
}

/// Runs sigstore-go's verifier on `bundle` with `args` (identity or key, artifact).
fn sgo_run(sgo: &Path, dir: &Path, tr: &str, args: &[&str], bundle: &Path) -> Output {
    std::process::Command::new(sgo)
        .args(["-trustedrootJSONpath", tr])
        .args(args)
        .arg(bundle)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

const OTHER_ID: &str =
    "https://github.com/evil/charts/.github/workflows/release.yml@refs/heads/main";

#[test]
fn keyless_attest_blob_is_verified_by_oxtask_and_cosign3() {
    let Some(e) = setup() else { return };
    let bundle = e.w().join("vex.sigstore.json");
    let (tr, sc) = (e.tr(), e.sc());
    let art = s(&e.artifact);
    let err = ok(&e.ox.run(
        e.w(),
        &[
            "attest-blob",
            "--trusted-root",
            &tr,
            "--signing-config",
            &sc,
            "--predicate",
            &s(&e.predicate),
            "--type",
            "openvex",
            "--bundle",
            &s(&bundle),
            "--yes",
            &art,
        ],
        &e.sig.actions_env(),
    ));
    assert!(err.contains("Wrote bundle to file"), "{err}");
    // A v0.3 bundle: certificate, the DSSE envelope of an in-toto v1 statement naming the
    // file, a dsse log entry with proof.
    let b = read_json(&bundle);
    assert_eq!(
        b["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let vm = &b["verificationMaterial"];
    assert!(vm["certificate"]["rawBytes"].is_string(), "{b}");
    assert_eq!(vm["tlogEntries"][0]["kindVersion"]["kind"], "dsse");
    assert!(vm["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"].is_string());
    let env = &b["dsseEnvelope"];
    assert_eq!(env["payloadType"], "application/vnd.in-toto+json");
    let st: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(env["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(st["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(st["predicateType"], "https://openvex.dev/ns");
    assert_eq!(st["subject"][0]["name"], "chart-1.0.0.tgz");
    assert_eq!(st["subject"][0]["digest"]["sha256"], e.digest().as_str());
    assert_eq!(st["predicate"]["author"], "oxtask");

    let ox = |a: &[&str]| e.ox.run(e.w(), a, &[]);
    let id = |i: &'static str| -> [&'static str; 4] {
        [
            "--certificate-identity",
            i,
            "--certificate-oidc-issuer",
            GH_ISSUER,
        ]
    };
    let out = ok(&e.verify(&ox, &bundle, &id(GH_IDENTITY), "openvex", &[&art]));
    assert!(out.contains("Verified OK"), "{out}");
    // The type as its URI, the digest as sha256:HEX and as --digest.
    ok(&e.verify(
        &ox,
        &bundle,
        &id(GH_IDENTITY),
        "https://openvex.dev/ns",
        &[&format!("sha256:{}", e.digest())],
    ));
    let d = e.digest();
    ok(&e.verify(
        &ox,
        &bundle,
        &id(GH_IDENTITY),
        "openvex",
        &["--digest", &d, "--digestAlg", "sha256"],
    ));
    // Refusals: another identity, another blob, another predicate type.
    let err = fails(&e.verify(&ox, &bundle, &id(OTHER_ID), "openvex", &[&art]));
    assert!(
        err.contains("none of the expected identities matched"),
        "{err}"
    );
    let err = fails(&e.verify(&ox, &bundle, &id(GH_IDENTITY), "openvex", &[&s(&e.other)]));
    assert!(err.contains("does not match any subject"), "{err}");
    let err = fails(&e.verify(&ox, &bundle, &id(GH_IDENTITY), "slsaprovenance", &[&art]));
    assert!(err.contains("invalid predicate type"), "{err}");
    // The default type (custom) is not openvex either.
    let err = fails(&e.verify(&ox, &bundle, &id(GH_IDENTITY), "custom", &[&art]));
    assert!(err.contains("invalid predicate type"), "{err}");

    if let Some(c3) = RealCosign::find("cosign3") {
        let c3r = |a: &[&str]| c3.run(e.w(), a, &[]);
        let out = ok(&e.verify(&c3r, &bundle, &id(GH_IDENTITY), "openvex", &[&art]));
        assert!(out.contains("Verified OK"), "{out}");
        fails(&e.verify(&c3r, &bundle, &id(OTHER_ID), "openvex", &[&art]));
        fails(&e.verify(&c3r, &bundle, &id(GH_IDENTITY), "openvex", &[&s(&e.other)]));
        fails(&e.verify(&c3r, &bundle, &id(GH_IDENTITY), "custom", &[&art]));
    }

    // sigstore-go's verifier: the DSSE bundle, its certificate and log entry, and the
    // statement's subject against the file (and its digest).
    if let Some(sgo) = sigstore_go() {
        let run = |san: &str, artifact: &[&str]| {
            let mut a = vec!["-expectedSAN", san, "-expectedIssuer", GH_ISSUER];
            a.extend_from_slice(artifact);
            sgo_run(&sgo, e.w(), &tr, &a, &bundle)
        };
        ok(&run(GH_IDENTITY, &["-artifact", &art]));
        ok(&run(GH_IDENTITY, &["-artifact-digest", &d]));
        fails(&run(OTHER_ID, &["-artifact", &art]));
        fails(&run(GH_IDENTITY, &["-artifact", &s(&e.other)]));
    }
}

/// The bundle with its statement's predicate changed (signature left as it was).
fn tamper(src: &Path, dst: &Path) {
    let mut b = read_json(src);
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut st: serde_json::Value = serde_json::from_slice(
        &b64.decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    st["predicate"]["Data"] = serde_json::json!("forged");
    st["predicate"]["author"] = serde_json::json!("mallory");
    b["dsseEnvelope"]["payload"] = serde_json::json!(b64.encode(serde_json::to_vec(&st).unwrap()));
    std::fs::write(dst, serde_json::to_vec(&b).unwrap()).unwrap();
}

#[test]
fn key_attest_blob_is_verified_by_oxtask_and_cosign3() {
    let Some(e) = setup() else { return };
    ok(&e.ox.run(e.w(), &["generate-key-pair"], &pw("pw")));
    let (tr, sc) = (e.tr(), e.sc());
    let art = s(&e.artifact);
    let pred = e.w().join("note.txt");
    std::fs::write(&pred, b"built by oxtask CI\n").unwrap();
    let bundle = e.w().join("key.sigstore.json");
    ok(&e.ox.run(
        e.w(),
        &[
            "attest-blob",
            "--key",
            "cosign.key",
            "--trusted-root",
            &tr,
            "--signing-config",
            &sc,
            "--predicate",
            &s(&pred),
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
    let ox = |a: &[&str]| e.ox.run(e.w(), a, &[]);
    let out = ok(&e.verify(&ox, &bundle, &["--key", "cosign.pub"], "custom", &[&art]));
    assert!(out.contains("Verified OK"), "{out}");
    ok(&e.verify(
        &ox,
        &bundle,
        &["--key", "cosign.pub"],
        "https://cosign.sigstore.dev/attestation/v1",
        &[&art],
    ));
    // Another key, a tampered payload, another blob, another type: refused.
    let od = e.w().join("od");
    std::fs::create_dir_all(&od).unwrap();
    ok(&e.ox.run(&od, &["generate-key-pair"], &pw("x")));
    let other_pub = s(&od.join("cosign.pub"));
    let err = fails(&e.verify(&ox, &bundle, &["--key", &other_pub], "custom", &[&art]));
    assert!(err.contains("DSSE signature does not verify"), "{err}");
    let forged = e.w().join("forged.json");
    tamper(&bundle, &forged);
    let err = fails(&e.verify(&ox, &forged, &["--key", "cosign.pub"], "custom", &[&art]));
    assert!(err.contains("DSSE signature does not verify"), "{err}");
    fails(&e.verify(
        &ox,
        &bundle,
        &["--key", "cosign.pub"],
        "custom",
        &[&s(&e.other)],
    ));
    fails(&e.verify(&ox, &bundle, &["--key", "cosign.pub"], "vuln", &[&art]));

    if let Some(c3) = RealCosign::find("cosign3") {
        let c3r = |a: &[&str]| c3.run(e.w(), a, &[]);
        let out = ok(&e.verify(&c3r, &bundle, &["--key", "cosign.pub"], "custom", &[&art]));
        assert!(out.contains("Verified OK"), "{out}");
        fails(&e.verify(&c3r, &bundle, &["--key", &other_pub], "custom", &[&art]));
        fails(&e.verify(&c3r, &forged, &["--key", "cosign.pub"], "custom", &[&art]));
        fails(&e.verify(
            &c3r,
            &bundle,
            &["--key", "cosign.pub"],
            "custom",
            &[&s(&e.other)],
        ));
    }
    if let Some(sgo) = sigstore_go() {
        let run = |key: &str, artifact: &str, b: &Path| {
            sgo_run(
                &sgo,
                e.w(),
                &tr,
                &[
                    "-publicKey",
                    key,
                    "-requireCTlog=false",
                    "-artifact",
                    artifact,
                ],
                b,
            )
        };
        ok(&run("cosign.pub", &art, &bundle));
        fails(&run(&other_pub, &art, &bundle));
        fails(&run("cosign.pub", &art, &forged));
        fails(&run("cosign.pub", &s(&e.other), &bundle));
    }
}

#[test]
fn oxtask_verifies_cosign3_attest_blob_with_a_key() {
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
            "attest-blob",
            "--key",
            "cosign.key",
            "--trusted-root",
            &tr,
            "--signing-config",
            &sc,
            "--predicate",
            &s(&e.predicate),
            "--type",
            "openvex",
            "--bundle",
            &s(&bundle),
            "--yes",
            &art,
        ],
        &pw("theirs"),
    ));
    let ox = |a: &[&str]| e.ox.run(e.w(), a, &[]);
    let out = ok(&e.verify(&ox, &bundle, &["--key", "cosign.pub"], "openvex", &[&art]));
    assert!(out.contains("Verified OK"), "{out}");
    let d = e.digest();
    ok(&e.verify(
        &ox,
        &bundle,
        &["--key", "cosign.pub"],
        "openvex",
        &["--digest", &d, "--digestAlg", "sha256"],
    ));
    let od = e.w().join("od");
    std::fs::create_dir_all(&od).unwrap();
    ok(&e.ox.run(&od, &["generate-key-pair"], &pw("x")));
    fails(&e.verify(
        &ox,
        &bundle,
        &["--key", &s(&od.join("cosign.pub"))],
        "openvex",
        &[&art],
    ));
    let err = fails(&e.verify(
        &ox,
        &bundle,
        &["--key", "cosign.pub"],
        "openvex",
        &[&s(&e.other)],
    ));
    assert!(err.contains("does not match any subject"), "{err}");
    let err = fails(&e.verify(&ox, &bundle, &["--key", "cosign.pub"], "cyclonedx", &[&art]));
    assert!(err.contains("invalid predicate type"), "{err}");
}

#[test]
fn attest_input_errors_are_clear() {
    let ox = Cosign::new();
    let w = tempfile::tempdir().unwrap();
    let art = w.path().join("a");
    std::fs::write(&art, b"a").unwrap();
    let a = s(&art);
    let junk = w.path().join("junk.json");
    std::fs::write(&junk, b"{not json").unwrap();
    let nodsse = w.path().join("nodsse.json");
    std::fs::write(
        &nodsse,
        br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},"messageSignature":{}}"#,
    )
    .unwrap();
    let run = |args: &[&str]| ox.run(w.path(), args, &[]);
    let err = fails(&run(&["attest-blob", "--key", "k", "--bundle", "b", &a]));
    assert!(
        err.contains("one of --predicate or --statement must be set"),
        "{err}"
    );
    let err = fails(&run(&[
        "attest-blob",
        "--key",
        "k",
        "--predicate",
        &a,
        "--type",
        "nonsense",
        "--bundle",
        "b",
        &a,
    ]));
    assert!(err.contains("invalid predicate type: nonsense"), "{err}");
    let err = fails(&run(&["attest-blob", "--key", "k", "--predicate", &a, &a]));
    assert!(err.contains("must specify --bundle"), "{err}");
    let err = fails(&run(&["verify-blob-attestation", "--key", "k", &a]));
    assert!(err.contains("--bundle"), "{err}");
    let err = fails(&run(&[
        "verify-blob-attestation",
        "--key",
        "k",
        "--bundle",
        &s(&junk),
        "--insecure-ignore-tlog",
        &a,
    ]));
    assert!(err.contains("not JSON"), "{err}");
    let err = fails(&run(&[
        "verify-blob-attestation",
        "--key",
        "k",
        "--bundle",
        &s(&nodsse),
        "--insecure-ignore-tlog",
        &a,
    ]));
    assert!(
        err.contains("bundle does not contain a DSSE envelope"),
        "{err}"
    );
    let err = fails(&run(&[
        "verify-blob-attestation",
        "--certificate-identity",
        "x",
        "--bundle",
        &s(&junk),
        &a,
    ]));
    assert!(err.contains("--certificate-oidc-issuer"), "{err}");
    let err = fails(&run(&[
        "verify-blob-attestation",
        "--key",
        "k",
        "--bundle",
        &s(&nodsse),
        "--type",
        "bad type",
        &a,
    ]));
    assert!(err.contains("invalid predicate type"), "{err}");
    let err = fails(&run(&[
        "verify-blob-attestation",
        "--key",
        "k",
        "--bundle",
        &s(&nodsse),
        "--insecure-ignore-tlog",
    ]));
    assert!(err.contains("--digest"), "{err}");
}

/// The fixture's signing config without its TSA (cosign v3 sends RFC 3161 requests in DER,
/// which the mock TSA does not take).
fn signing_config_without_tsa(sig: &Sigstore, dir: &Path) -> String {
    let mut sc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sig.signing_config()).unwrap()).unwrap();
    sc["tsaUrls"] = serde_json::json!([]);
    let p = dir.join("signing_config_no_tsa.json");
    std::fs::write(&p, sc.to_string()).unwrap();
    s(&p)
}

#[test]
fn oci_attest_is_verified_by_oxtask_and_cosign3() {
    let Some(e) = setup() else { return };
    let Some(reg) = Registry::start() else { return };
    let d = reg.push_image("acme/chart", "1.0.0", "acme/chart:1.0.0");
    let image = format!("{}/acme/chart@{d}", reg.host);
    let d2 = reg.push_image("acme/chart", "2.0.0", "acme/chart:2.0.0");
    let unattested = format!("{}/acme/chart@{d2}", reg.host);
    let (tr, sc) = (e.tr(), e.sc());
    ok(&e.ox.run(
        e.w(),
        &[
            "attest",
            "--trusted-root",
            &tr,
            "--signing-config",
            &sc,
            "--predicate",
            &s(&e.predicate),
            "--type",
            "openvex",
            "--yes",
            &image,
        ],
        &e.sig.actions_env(),
    ));
    let va = |bin: &dyn Fn(&[&str]) -> Output, id: &str, ty: &str, img: &str| {
        bin(&[
            "verify-attestation",
            "--allow-http-registry",
            "--trusted-root",
            &tr,
            "--certificate-identity",
            id,
            "--certificate-oidc-issuer",
            GH_ISSUER,
            "--type",
            ty,
            img,
        ])
    };
    let ox = |a: &[&str]| e.ox.run(e.w(), a, &[]);
    let o = va(&ox, GH_IDENTITY, "openvex", &image);
    let err = ok(&o);
    assert!(err.contains("Verification for"), "{err}");
    // stdout: the DSSE envelope of the statement naming the image digest.
    let env: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(env["payloadType"], "application/vnd.in-toto+json");
    let st: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(env["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        st["subject"][0]["digest"]["sha256"].as_str(),
        Some(d.trim_start_matches("sha256:"))
    );
    assert_eq!(st["predicateType"], "https://openvex.dev/ns");
    // Refusals, all exit 1 as in cosign 3.1.1 (attestation errors have no exit code of
    // their own there), with its messages.
    let missing = format!("{}/acme/chart:9.9.9", reg.host);
    let refusals: [(&str, &str, &str, &str); 4] = [
        (
            GH_IDENTITY,
            "cyclonedx",
            &image,
            "none of the attestations matched the predicate type: cyclonedx, found: https://openvex.dev/ns",
        ),
        (OTHER_ID, "openvex", &image, "no matching attestations: "),
        (
            GH_IDENTITY,
            "openvex",
            &unattested,
            "no matching attestations: ",
        ),
        (GH_IDENTITY, "openvex", &missing, "9.9.9"),
    ];
    for (id, ty, img, msg) in refusals {
        let o = va(&ox, id, ty, img);
        let err = fails(&o);
        assert!(err.contains(msg), "{err}");
        assert_eq!(o.status.code(), Some(1), "{err}");
    }

    if let Some(c3) = RealCosign::find("cosign3") {
        let c3r = |a: &[&str]| c3.run(e.w(), a, &[]);
        let o3 = va(&c3r, GH_IDENTITY, "openvex", &image);
        ok(&o3);
        // The same envelope on stdout.
        let env3: serde_json::Value = serde_json::from_slice(&o3.stdout).unwrap();
        assert_eq!(env3["payload"], env["payload"]);
        for (id, ty, img, msg) in refusals {
            let o = va(&c3r, id, ty, img);
            let err = fails(&o);
            assert_eq!(o.status.code(), Some(1), "cosign 3.1.1: {err}");
            if !img.ends_with("9.9.9") {
                assert!(err.contains(msg), "cosign 3.1.1: {err}");
            }
        }
    }

    // sigstore-go's verifier accepts the attached bundle for the image digest.
    if let Some(sgo) = sigstore_go() {
        let bundle = e.w().join("attached.sigstore.json");
        std::fs::write(&bundle, attached_bundle(&reg, &image).to_string()).unwrap();
        let hex = d.trim_start_matches("sha256:");
        let run = |san: &str, digest: &str| {
            sgo_run(
                &sgo,
                e.w(),
                &tr,
                &[
                    "-expectedSAN",
                    san,
                    "-expectedIssuer",
                    GH_ISSUER,
                    "-artifact-digest",
                    digest,
                ],
                &bundle,
            )
        };
        ok(&run(GH_IDENTITY, hex));
        fails(&run(OTHER_ID, hex));
        fails(&run(GH_IDENTITY, d2.trim_start_matches("sha256:")));
    }
}

/// The newest Sigstore bundle attached to `image` (`HOST/repo@digest`) under the referrers
/// tag (the test registry has no referrers API).
fn attached_bundle(reg: &Registry, image: &str) -> serde_json::Value {
    let (repo, digest) = image
        .strip_prefix(&format!("{}/", reg.host))
        .and_then(|r| r.split_once('@'))
        .expect("an image on the test registry, by digest");
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

/// oxtask's `attest --key` referrer (no log, as the seed's laptop mode) is verified by
/// cosign 3.1.1's `verify-attestation --key` and by sigstore-go; outputs and exit codes match.
#[test]
fn oci_attest_with_a_key_is_verified_by_cosign3_and_sigstore_go() {
    let Some(e) = setup() else { return };
    let Some(reg) = Registry::start() else { return };
    let d = reg.push_image("acme/keyed", "1.0.0", "acme/keyed:1.0.0");
    let image = format!("{}/acme/keyed@{d}", reg.host);
    let tagged = format!("{}/acme/keyed:1.0.0", reg.host);
    ok(&e.ox.run(e.w(), &["generate-key-pair"], &pw("pw")));
    let prov = e.w().join("provenance.json");
    std::fs::write(
        &prov,
        r#"{"buildDefinition":{"buildType":"https://example.com/helm-package@v1","externalParameters":{"chart":"keyed"}},"runDetails":{"builder":{"id":"https://example.com/builder"}}}"#,
    )
    .unwrap();
    let err = ok(&e.ox.run(
        e.w(),
        &[
            "attest",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--type",
            "slsaprovenance1",
            "--predicate",
            &s(&prov),
            &image,
        ],
        &pw("pw"),
    ));
    assert!(err.contains("Pushing attestation to:"), "{err}");
    let od = e.w().join("od");
    std::fs::create_dir_all(&od).unwrap();
    ok(&e.ox.run(&od, &["generate-key-pair"], &pw("x")));
    let other_pub = s(&od.join("cosign.pub"));
    let va = |bin: &dyn Fn(&[&str]) -> Output, key: &str, ty: &str| {
        bin(&[
            "verify-attestation",
            "--allow-http-registry",
            "--key",
            key,
            "--insecure-ignore-tlog",
            "--type",
            ty,
            &tagged,
        ])
    };
    let ox = |a: &[&str]| e.ox.run(e.w(), a, &[]);
    let o = va(&ox, "cosign.pub", "slsaprovenance1");
    let err = ok(&o);
    assert!(
        err.contains("The signatures were verified against the specified public key"),
        "{err}"
    );
    let env: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let refusals = [
        (
            "cosign.pub",
            "spdxjson",
            "none of the attestations matched the predicate type: spdxjson, found: https://slsa.dev/provenance/v1",
        ),
        (other_pub.as_str(), "slsaprovenance1", "no matching attestations: "),
    ];
    for (key, ty, msg) in refusals {
        let o = va(&ox, key, ty);
        let err = fails(&o);
        assert!(err.contains(msg), "{err}");
        assert_eq!(o.status.code(), Some(1), "{err}");
    }
    if let Some(c3) = RealCosign::find("cosign3") {
        let c3r = |a: &[&str]| c3.run(e.w(), a, &[]);
        let o3 = va(&c3r, "cosign.pub", "slsaprovenance1");
        let err3 = ok(&o3);
        assert!(
            err3.contains("The signatures were verified against the specified public key"),
            "{err3}"
        );
        let env3: serde_json::Value = serde_json::from_slice(&o3.stdout).unwrap();
        assert_eq!(env3, env, "the DSSE envelope printed differs");
        for (key, ty, msg) in refusals {
            let o = va(&c3r, key, ty);
            let err = fails(&o);
            assert!(err.contains(msg), "cosign 3.1.1: {err}");
            assert_eq!(o.status.code(), Some(1), "cosign 3.1.1: {err}");
        }
    }
    // sigstore-go's verifier needs a signed time (its CLI has no "current time" option), so
    // it gets the same kind of referrer with a log entry (the fixture's Rekor and TSA).
    if let Some(sgo) = sigstore_go() {
        let d2 = reg.push_image("acme/keyed", "2.0.0", "acme/keyed:2.0.0");
        let image2 = format!("{}/acme/keyed@{d2}", reg.host);
        let (tr, sc) = (e.tr(), e.sc());
        ok(&e.ox.run(
            e.w(),
            &[
                "attest",
                "--key",
                "cosign.key",
                "--trusted-root",
                &tr,
                "--signing-config",
                &sc,
                "--type",
                "slsaprovenance1",
                "--predicate",
                &s(&prov),
                "-y",
                &image2,
            ],
            &pw("pw"),
        ));
        let bundle = e.w().join("attached.sigstore.json");
        std::fs::write(&bundle, attached_bundle(&reg, &image2).to_string()).unwrap();
        let run = |key: &str, digest: &str| {
            sgo_run(
                &sgo,
                e.w(),
                &tr,
                &[
                    "-publicKey",
                    key,
                    "-requireCTlog=false",
                    "-artifact-digest",
                    digest.trim_start_matches("sha256:"),
                ],
                &bundle,
            )
        };
        ok(&run("cosign.pub", &d2));
        fails(&run(&other_pub, &d2));
        fails(&run("cosign.pub", &d));
    }
}

#[test]
fn oxtask_verifies_cosign3_oci_attest_with_a_key() {
    let Some(c3) = RealCosign::find("cosign3") else {
        return;
    };
    let Some(e) = setup() else { return };
    let Some(reg) = Registry::start() else { return };
    let d = reg.push_image("acme/app", "1.0.0", "acme/app:1.0.0");
    let image = format!("{}/acme/app@{d}", reg.host);
    ok(&c3.run(e.w(), &["generate-key-pair"], &pw("theirs")));
    let tr = e.tr();
    let sc = signing_config_without_tsa(&e.sig, e.w());
    ok(&c3.run(
        e.w(),
        &[
            "attest",
            "--yes",
            "--allow-http-registry",
            "--key",
            "cosign.key",
            "--trusted-root",
            &tr,
            "--signing-config",
            &sc,
            "--predicate",
            &s(&e.predicate),
            "--type",
            "openvex",
            &image,
        ],
        &pw("theirs"),
    ));
    let va = |key: &str, ty: &str| {
        e.ox.run(
            e.w(),
            &[
                "verify-attestation",
                "--trusted-root",
                &tr,
                "--key",
                key,
                "--type",
                ty,
                &image,
            ],
            &[],
        )
    };
    ok(&va("cosign.pub", "openvex"));
    let err = fails(&va("cosign.pub", "custom"));
    assert!(
        err.contains("none of the attestations matched the predicate type: custom"),
        "{err}"
    );
    let od = e.w().join("od");
    std::fs::create_dir_all(&od).unwrap();
    ok(&e.ox.run(&od, &["generate-key-pair"], &pw("x")));
    fails(&va(&s(&od.join("cosign.pub")), "openvex"));
}

#[test]
fn statement_and_hash_inputs_offline_with_a_key() {
    let ox = Cosign::new();
    let w = tempfile::tempdir().unwrap();
    let wp = w.path();
    ok(&ox.run(wp, &["generate-key-pair"], &pw("pw")));
    let art = wp.join("app.bin");
    std::fs::write(&art, b"app\n").unwrap();
    let hex = sha256_hex(b"app\n");
    let ty = "https://example.com/attestation/test/v1";
    let stf = wp.join("statement.json");
    std::fs::write(
        &stf,
        serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "app.bin", "digest": {"sha256": hex}}],
            "predicateType": ty,
            "predicate": {"ok": true},
        })
        .to_string(),
    )
    .unwrap();
    let b1 = wp.join("st.json");
    ok(&ox.run(
        wp,
        &[
            "attest-blob",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--statement",
            &s(&stf),
            "--bundle",
            &s(&b1),
        ],
        &pw("pw"),
    ));
    // --hash: the digest without the file (the subject name is the argument's base name).
    let b2 = wp.join("hash.json");
    let pred = wp.join("p.json");
    std::fs::write(&pred, br#"{"ok":true}"#).unwrap();
    ok(&ox.run(
        wp,
        &[
            "attest-blob",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--predicate",
            &s(&pred),
            "--type",
            ty,
            "--hash",
            &hex,
            "--bundle",
            &s(&b2),
            "not-read.bin",
        ],
        &pw("pw"),
    ));
    for b in [&b1, &b2] {
        let v = |a: &[&str]| {
            let mut args = vec![
                "verify-blob-attestation",
                "--key",
                "cosign.pub",
                "--insecure-ignore-tlog",
                "--bundle",
            ];
            let bs = s(b);
            args.push(&bs);
            args.extend_from_slice(a);
            ox.run(wp, &args, &[])
        };
        ok(&v(&["--type", ty, &s(&art)]));
        ok(&v(&["--type", ty, "--digest", &hex]));
        fails(&v(&["--type", "custom", &s(&art)]));
        fails(&v(&["--type", ty, "--digest", &sha256_hex(b"other")]));
    }
    // Without the log and --insecure-ignore-tlog: refused (no log entry).
    let err = fails(&ox.run(
        wp,
        &[
            "verify-blob-attestation",
            "--key",
            "cosign.pub",
            "--bundle",
            &s(&b1),
            "--type",
            ty,
            "--trusted-root",
            &s(&wp.join("missing-root.json")),
            &s(&art),
        ],
        &[],
    ));
    assert!(!err.is_empty());
}

//! Keyless `cosign sign` / `cosign verify` against the loopback Sigstore fixture and a
//! real distribution registry; signatures re-checked with openssl and @sigstore/verify.

#[path = "support/sigstore.rs"]
mod support;

use std::process::Command;

use base64::Engine;
use support::*;

struct Env {
    sig: Sigstore,
    reg: Registry,
    cosign: Cosign,
    work: tempfile::TempDir,
}

fn setup() -> Option<Env> {
    let sig = Sigstore::start()?;
    let reg = Registry::start()?;
    Some(Env {
        sig,
        reg,
        cosign: Cosign::new(),
        work: tempfile::tempdir().unwrap(),
    })
}

impl Env {
    fn run(&self, args: &[&str], env: &[(String, String)]) -> std::process::Output {
        self.cosign.run(self.work.path(), args, env)
    }

    fn sign_keyless(&self, image: &str, extra: &[&str]) -> std::process::Output {
        let tr = self.sig.trusted_root();
        let sc = self.sig.signing_config();
        let mut args = vec![
            "sign",
            "--trusted-root",
            tr.to_str().unwrap(),
            "--signing-config",
            sc.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        args.push(image);
        self.run(&args, &self.sig.actions_env())
    }

    fn verify(
        &self,
        image: &str,
        identity: &str,
        issuer: &str,
        extra: &[&str],
    ) -> std::process::Output {
        let tr = self.sig.trusted_root();
        let mut args = vec![
            "verify",
            "--trusted-root",
            tr.to_str().unwrap(),
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            issuer,
        ];
        args.extend_from_slice(extra);
        args.push(image);
        self.run(&args, &[])
    }
}

fn ok(o: &std::process::Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    );
}

#[test]
fn keyless_sign_with_github_ambient_token_then_verify() {
    let Some(e) = setup() else { return };
    let digest = e.reg.push_image("acme/chart", "1.0.0", "chart-one");
    let image = format!("{}/acme/chart@{digest}", e.reg.host);
    let o = e.sign_keyless(&image, &[]);
    ok(&o);
    let err = text(&o.stderr);
    assert!(err.contains("tlog entry created with index: "), "{err}");
    assert!(
        err.contains(&format!("Pushing signature to: {}/acme/chart", e.reg.host)),
        "{err}"
    );
    // No token on any output.
    assert!(!err.contains(&e.sig.token()[..40]));

    // The legacy layout: sha256-<hex>.sig with one annotated simple-signing layer.
    let tag = digest.replace(':', "-") + ".sig";
    let (m, _) = e
        .reg
        .get_manifest("acme/chart", &tag)
        .expect("signature tag");
    let m: serde_json::Value = serde_json::from_slice(&m).unwrap();
    let layers = m["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    let l = &layers[0];
    assert_eq!(
        l["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    let ann = &l["annotations"];
    for k in [
        "dev.cosignproject.cosign/signature",
        "dev.sigstore.cosign/certificate",
        "dev.sigstore.cosign/chain",
        "dev.sigstore.cosign/bundle",
    ] {
        assert!(ann[k].is_string(), "missing {k}: {ann}");
    }
    let payload = e.reg.blob("acme/chart", l["digest"].as_str().unwrap());
    let p: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        p["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );
    assert_eq!(
        p["critical"]["identity"]["docker-reference"],
        format!("{}/acme/chart", e.reg.host)
    );
    assert_eq!(p["critical"]["type"], "cosign container image signature");

    // Independent checks with openssl: signature with the certificate's key, chain to the root.
    if require(openssl_available(), "openssl").is_some() {
        let d = e.work.path();
        std::fs::write(d.join("payload"), &payload).unwrap();
        let sig = base64::engine::general_purpose::STANDARD
            .decode(ann["dev.cosignproject.cosign/signature"].as_str().unwrap())
            .unwrap();
        std::fs::write(d.join("sig.der"), sig).unwrap();
        std::fs::write(
            d.join("leaf.pem"),
            ann["dev.sigstore.cosign/certificate"].as_str().unwrap(),
        )
        .unwrap();
        let sh = |c: &str| {
            let o = Command::new("sh")
                .arg("-c")
                .arg(c)
                .current_dir(d)
                .output()
                .unwrap();
            (o.status.success(), text(&o.stdout) + &text(&o.stderr))
        };
        let (okk, out) = sh("openssl x509 -in leaf.pem -pubkey -noout > leaf.pub && openssl dgst -sha256 -verify leaf.pub -signature sig.der payload");
        assert!(okk && out.contains("Verified OK"), "{out}");
        let root = e.sig.file("fulcio_root.pem");
        let (okk, out) = sh(&format!(
            "openssl verify -CAfile {} leaf.pem",
            root.display()
        ));
        assert!(okk, "openssl verify: {out}");
        // The Rekor promise in the bundle annotation verifies with the log's key over the
        // canonical JSON of the entry, as cosign checks it.
        let b: serde_json::Value =
            serde_json::from_str(ann["dev.sigstore.cosign/bundle"].as_str().unwrap()).unwrap();
        let pl = &b["Payload"];
        let canon = format!(
            "{{\"body\":{},\"integratedTime\":{},\"logID\":{},\"logIndex\":{}}}",
            pl["body"], pl["integratedTime"], pl["logID"], pl["logIndex"]
        );
        std::fs::write(d.join("set.json"), canon).unwrap();
        let set = base64::engine::general_purpose::STANDARD
            .decode(b["SignedEntryTimestamp"].as_str().unwrap())
            .unwrap();
        std::fs::write(d.join("set.der"), set).unwrap();
        let (okk, out) = sh(&format!(
            "openssl dgst -sha256 -verify {} -signature set.der set.json",
            e.sig.file("rekor.pub").display()
        ));
        assert!(okk && out.contains("Verified OK"), "SET: {out}");
        let other = e.sig.file("other_fulcio_root.pem");
        let (okk, _) = sh(&format!(
            "openssl verify -CAfile {} leaf.pem",
            other.display()
        ));
        assert!(!okk, "leaf must not chain to the other root");
    }

    // cosign verify: identity and issuer pinned.
    let o = e.verify(&image, GH_IDENTITY, GH_ISSUER, &[]);
    ok(&o);
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!("Verification for {image} --")),
        "{err}"
    );
    assert!(err.contains("The code-signing certificate was verified using trusted certificate authority certificates"));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let first = &out[0];
    assert_eq!(
        first["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );
    assert_eq!(first["optional"]["Subject"], GH_IDENTITY);
    assert_eq!(first["optional"]["Issuer"], GH_ISSUER);
    assert!(first["optional"]["Bundle"]["SignedEntryTimestamp"].is_string());

    // Regexp matchers (unanchored, as Go's MatchString).
    let o = e.run(
        &[
            "verify",
            "--trusted-root",
            e.sig.trusted_root().to_str().unwrap(),
            "--certificate-identity-regexp",
            "^https://github.com/acme/",
            "--certificate-oidc-issuer-regexp",
            "githubusercontent",
            &image,
        ],
        &[],
    );
    ok(&o);
}

#[test]
fn tag_is_resolved_with_warning_and_signatures_append() {
    let Some(e) = setup() else { return };
    let digest = e.reg.push_image("acme/app", "latest", "app-one");
    let by_tag = format!("{}/acme/app:latest", e.reg.host);
    let tok = e.sig.token();
    let o = e.sign_keyless(&by_tag, &["--identity-token", &tok, "-a", "build=42"]);
    ok(&o);
    assert!(text(&o.stderr).contains(&format!(
        "WARNING: Image reference {by_tag} uses a tag, not a digest"
    )));
    // A second signature (SIGSTORE_ID_TOKEN this time) is appended, not overwritten.
    let tr = e.sig.trusted_root();
    let sc = e.sig.signing_config();
    let o = e.run(
        &[
            "sign",
            "--yes",
            "--trusted-root",
            tr.to_str().unwrap(),
            "--signing-config",
            sc.to_str().unwrap(),
            &format!("{}/acme/app@{digest}", e.reg.host),
        ],
        &[
            ("SIGSTORE_ID_TOKEN".into(), tok.clone()),
            ("COSIGN_EXPERIMENTAL".into(), "1".into()),
        ],
    );
    ok(&o);
    let tag = digest.replace(':', "-") + ".sig";
    let (m, _) = e.reg.get_manifest("acme/app", &tag).unwrap();
    let m: serde_json::Value = serde_json::from_slice(&m).unwrap();
    assert_eq!(m["layers"].as_array().unwrap().len(), 2);

    // Annotation check on verify: one signature has build=42, so verify -a passes and
    // reports only that one.
    let o = e.verify(&by_tag, GH_IDENTITY, GH_ISSUER, &["-a", "build=42"]);
    ok(&o);
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out.as_array().unwrap().len(), 1);
    assert_eq!(out[0]["optional"]["build"], "42");
    let o = e.verify(&by_tag, GH_IDENTITY, GH_ISSUER, &["-a", "build=43"]);
    assert_eq!(o.status.code(), Some(12), "{}", text(&o.stderr));
}

#[test]
fn keyless_rejections() {
    let Some(e) = setup() else { return };
    let digest = e.reg.push_image("acme/neg", "v1", "neg-one");
    let other = e.reg.push_image("acme/neg", "v2", "neg-two");
    let image = format!("{}/acme/neg@{digest}", e.reg.host);
    let other_image = format!("{}/acme/neg@{other}", e.reg.host);
    ok(&e.sign_keyless(&image, &[]));

    // Wrong identity, wrong issuer: exit 12 with the reason.
    let o = e.verify(
        &image,
        "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main",
        GH_ISSUER,
        &[],
    );
    assert_eq!(o.status.code(), Some(12));
    assert!(
        text(&o.stderr).contains("none of the expected identities matched"),
        "{}",
        text(&o.stderr)
    );
    let o = e.verify(&image, GH_IDENTITY, "https://accounts.google.com", &[]);
    assert_eq!(o.status.code(), Some(12));

    // Unsigned image: exit 10.
    let o = e.verify(&other_image, GH_IDENTITY, GH_ISSUER, &[]);
    assert_eq!(o.status.code(), Some(10), "{}", text(&o.stderr));

    // The signature moved to another digest: the payload names the first image.
    let sig_tag = digest.replace(':', "-") + ".sig";
    let (m, _) = e.reg.get_manifest("acme/neg", &sig_tag).unwrap();
    e.reg.put_manifest(
        "acme/neg",
        &(other.replace(':', "-") + ".sig"),
        "application/vnd.oci.image.manifest.v1+json",
        &m,
    );
    let o = e.verify(&other_image, GH_IDENTITY, GH_ISSUER, &[]);
    assert_eq!(o.status.code(), Some(12));
    assert!(text(&o.stderr).contains("digest"), "{}", text(&o.stderr));

    // Tampered payload: same annotations, different payload bytes.
    let mut mv: serde_json::Value = serde_json::from_slice(&m).unwrap();
    let payload = e
        .reg
        .blob("acme/neg", mv["layers"][0]["digest"].as_str().unwrap());
    let tampered = String::from_utf8(payload)
        .unwrap()
        .replace("\"optional\":null", "\"optional\":{\"x\":\"y\"}");
    let d = e.reg.put_blob("acme/neg", tampered.as_bytes());
    mv["layers"][0]["digest"] = d.into();
    mv["layers"][0]["size"] = tampered.len().into();
    e.reg.put_manifest(
        "acme/neg",
        &sig_tag,
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&mv).unwrap(),
    );
    let o = e.verify(&image, GH_IDENTITY, GH_ISSUER, &[]);
    assert_eq!(o.status.code(), Some(12));
    assert!(text(&o.stderr).contains("signature"), "{}", text(&o.stderr));
}

#[test]
fn certificate_from_another_root_is_rejected() {
    let Some(e) = setup() else { return };
    let digest = e.reg.push_image("acme/other", "v1", "other-root");
    let image = format!("{}/acme/other@{digest}", e.reg.host);
    // Signed by the unrelated CA (and trusting it while signing)...
    let other_tr = e.sig.file("other_trusted_root.json");
    let o = e.run(
        &[
            "sign",
            "--trusted-root",
            other_tr.to_str().unwrap(),
            "--fulcio-url",
            &format!("{}/other", e.sig.url),
            "--rekor-url",
            &e.sig.url,
            &image,
        ],
        &e.sig.actions_env(),
    );
    ok(&o);
    // ...so it verifies against that root, and is rejected by the real one.
    let o = e.run(
        &[
            "verify",
            "--trusted-root",
            other_tr.to_str().unwrap(),
            "--certificate-identity",
            GH_IDENTITY,
            "--certificate-oidc-issuer",
            GH_ISSUER,
            &image,
        ],
        &[],
    );
    ok(&o);
    let o = e.verify(&image, GH_IDENTITY, GH_ISSUER, &[]);
    assert_eq!(o.status.code(), Some(12));
    assert!(
        text(&o.stderr).contains("certificate chain is invalid"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn signing_fails_cleanly_without_token_expired_token_or_fulcio() {
    let Some(e) = setup() else { return };
    let digest = e.reg.push_image("acme/bad", "v1", "bad-input");
    let image = format!("{}/acme/bad@{digest}", e.reg.host);
    let sig_tag = digest.replace(':', "-") + ".sig";

    // No token anywhere (no flag, no SIGSTORE_ID_TOKEN, not in Actions).
    let tr = e.sig.trusted_root();
    let sc = e.sig.signing_config();
    let o = e.run(
        &[
            "sign",
            "--trusted-root",
            tr.to_str().unwrap(),
            "--signing-config",
            sc.to_str().unwrap(),
            &image,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("no identity token"),
        "{}",
        text(&o.stderr)
    );

    let expired = std::fs::read_to_string(e.sig.file("expired_token.jwt")).unwrap();
    let o = e.sign_keyless(&image, &["--identity-token", expired.trim()]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("expired"), "{err}");
    assert!(!err.contains(&expired.trim()[..30]), "token leaked: {err}");

    // Unreachable Fulcio.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let o = e.sign_keyless(&image, &["--fulcio-url", &dead]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("signing certificate"),
        "{}",
        text(&o.stderr)
    );
    // Unreachable Rekor.
    let o = e.sign_keyless(&image, &["--rekor-url", &dead]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("transparency log"),
        "{}",
        text(&o.stderr)
    );
    // Nothing was pushed by any of these.
    assert!(e.reg.get_manifest("acme/bad", &sig_tag).is_none());
}

#[test]
fn new_bundle_format_referrer_checked_by_sigstore_verify() {
    let Some(e) = setup() else { return };
    let digest = e.reg.push_image("acme/bundle", "v1", "bundle-one");
    let image = format!("{}/acme/bundle@{digest}", e.reg.host);
    let o = e.sign_keyless(&image, &["--new-bundle-format"]);
    ok(&o);
    assert!(text(&o.stderr).contains("tlog entry created with index: "));

    // This registry has no referrers API: the referrers tag schema index lists the bundle.
    let (idx, _) = e
        .reg
        .get_manifest("acme/bundle", &digest.replace(':', "-"))
        .expect("referrers tag");
    let idx: serde_json::Value = serde_json::from_slice(&idx).unwrap();
    let desc = &idx["manifests"][0];
    assert_eq!(
        desc["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let (m, _) = e
        .reg
        .get_manifest("acme/bundle", desc["digest"].as_str().unwrap())
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&m).unwrap();
    assert_eq!(m["subject"]["digest"], digest.as_str());
    assert_eq!(
        m["annotations"]["dev.sigstore.bundle.predicateType"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    let bundle = e
        .reg
        .blob("acme/bundle", m["layers"][0]["digest"].as_str().unwrap());

    // The Sigstore project's own verifier accepts it for the right identity only.
    let bpath = e.work.path().join("bundle.json");
    std::fs::write(&bpath, &bundle).unwrap();
    let node = |san: &str| {
        Command::new("node")
            .arg(fixture_dir().join("verify-bundle.js"))
            .arg(e.sig.trusted_root())
            .arg(&bpath)
            .arg("-")
            .arg(san)
            .arg(GH_ISSUER)
            .output()
            .unwrap()
    };
    let o = node(GH_IDENTITY);
    assert!(
        o.status.success(),
        "@sigstore/verify: {}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    let o = node("https://github.com/evil/x/.github/workflows/y.yml@refs/heads/main");
    assert!(!o.status.success());

    // A tampered statement (another digest) is rejected by both verifiers.
    let mut bj: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
    let stmt = base64::engine::general_purpose::STANDARD
        .decode(bj["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let forged = String::from_utf8(stmt)
        .unwrap()
        .replace(digest.trim_start_matches("sha256:"), &"0".repeat(64));
    bj["dsseEnvelope"]["payload"] = base64::engine::general_purpose::STANDARD
        .encode(forged)
        .into();
    let forged_path = e.work.path().join("forged.json");
    std::fs::write(&forged_path, serde_json::to_vec(&bj).unwrap()).unwrap();
    let o = Command::new("node")
        .arg(fixture_dir().join("verify-bundle.js"))
        .arg(e.sig.trusted_root())
        .arg(&forged_path)
        .arg("-")
        .arg(GH_IDENTITY)
        .arg(GH_ISSUER)
        .output()
        .unwrap();
    assert!(
        !o.status.success(),
        "@sigstore/verify accepted a forged statement"
    );

    // And our verify finds it through the referrers tag.
    let o = e.verify(&image, GH_IDENTITY, GH_ISSUER, &["--new-bundle-format"]);
    ok(&o);
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        out[0]["subject"][0]["digest"]["sha256"],
        digest.trim_start_matches("sha256:")
    );
    let o = e.verify(
        &image,
        "https://github.com/evil/x",
        GH_ISSUER,
        &["--new-bundle-format"],
    );
    assert_eq!(o.status.code(), Some(12));
}

#[test]
fn registry_refusing_the_signature_is_a_clear_error() {
    let Some(mut e) = setup() else { return };
    let digest = e.reg.push_image("acme/ro", "v1", "read-only");
    let image = format!("{}/acme/ro@{digest}", e.reg.host);
    e.reg.make_read_only();
    let o = e.sign_keyless(&image, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("Error:") && err.contains("Pushing signature to:"),
        "{err}"
    );
    assert!(!err.contains(&e.sig.token()[..40]));
    assert!(e
        .reg
        .get_manifest("acme/ro", &(digest.replace(':', "-") + ".sig"))
        .is_none());
    // Verification still reads the registry: no signatures (exit 10).
    let o = e.verify(&image, GH_IDENTITY, GH_ISSUER, &[]);
    assert_eq!(o.status.code(), Some(10), "{}", text(&o.stderr));
}

#[test]
fn sct_must_come_from_a_trusted_ct_log() {
    let Some(e) = setup() else { return };
    let digest = e.reg.push_image("acme/sct", "v1", "sct");
    let image = format!("{}/acme/sct@{digest}", e.reg.host);
    ok(&e.sign_keyless(&image, &[]));
    // The same trust root, but with the unrelated instance's CT log key.
    let mut tr: serde_json::Value =
        serde_json::from_slice(&std::fs::read(e.sig.trusted_root()).unwrap()).unwrap();
    let other: serde_json::Value =
        serde_json::from_slice(&std::fs::read(e.sig.file("other_trusted_root.json")).unwrap())
            .unwrap();
    tr["ctlogs"] = other["ctlogs"].clone();
    let p = e.work.path().join("wrong_ct.json");
    std::fs::write(&p, serde_json::to_vec(&tr).unwrap()).unwrap();
    let args = |extra: &'static str| {
        let mut v = vec![
            "verify".to_string(),
            "--trusted-root".into(),
            p.display().to_string(),
            "--certificate-identity".into(),
            GH_IDENTITY.into(),
            "--certificate-oidc-issuer".into(),
            GH_ISSUER.into(),
        ];
        if !extra.is_empty() {
            v.push(extra.into());
        }
        v.push(image.clone());
        v
    };
    let a = args("");
    let o = e.run(&a.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert_eq!(o.status.code(), Some(12));
    assert!(text(&o.stderr).contains("SCT"), "{}", text(&o.stderr));
    let a = args("--insecure-ignore-sct");
    ok(&e.run(&a.iter().map(String::as_str).collect::<Vec<_>>(), &[]));
    // Signing refuses a certificate whose SCT it cannot verify: nothing is pushed.
    let digest2 = e.reg.push_image("acme/sct", "v2", "sct-two");
    let image2 = format!("{}/acme/sct@{digest2}", e.reg.host);
    let o = e.run(
        &[
            "sign",
            "--trusted-root",
            p.to_str().unwrap(),
            "--signing-config",
            e.sig.signing_config().to_str().unwrap(),
            &image2,
        ],
        &e.sig.actions_env(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("SCT"), "{}", text(&o.stderr));
    assert!(e
        .reg
        .get_manifest("acme/sct", &(digest2.replace(':', "-") + ".sig"))
        .is_none());
}

#[test]
fn hanging_fulcio_hits_the_timeout() {
    let Some(e) = setup() else { return };
    let digest = e.reg.push_image("acme/slow", "v1", "slow");
    let image = format!("{}/acme/slow@{digest}", e.reg.host);
    // Accepts connections, never answers.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let started = std::time::Instant::now();
    let o = e.sign_keyless(&image, &["--fulcio-url", &url, "--timeout", "2s"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("timed out"), "{}", text(&o.stderr));
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert!(e
        .reg
        .get_manifest("acme/slow", &(digest.replace(':', "-") + ".sig"))
        .is_none());
    drop(l);
}

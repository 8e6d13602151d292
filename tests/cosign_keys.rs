//! `cosign generate-key-pair` and key-based `sign`/`verify`, with the key format checked
//! both ways against an independent implementation (tests/fixtures/sigstore/cosign-key.js)
//! and signatures checked with openssl.

#[path = "support/sigstore.rs"]
mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

use base64::Engine;
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

fn pw(p: &str) -> Vec<(String, String)> {
    vec![("COSIGN_PASSWORD".into(), p.into())]
}

fn node_available() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        && fixture_dir().join("node_modules/tweetnacl").is_dir()
}

#[test]
fn generate_key_pair_writes_cosign_format() {
    let c = Cosign::new();
    let d = tempfile::tempdir().unwrap();
    let o = c.run(d.path(), &["generate-key-pair"], &pw("s3cret-pass"));
    ok(&o);
    let err = text(&o.stderr);
    assert!(err.contains("Private key written to cosign.key"), "{err}");
    assert!(err.contains("Public key written to cosign.pub"), "{err}");
    assert!(!err.contains("s3cret-pass"));
    let key = std::fs::read_to_string(d.path().join("cosign.key")).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    let mode = std::fs::metadata(d.path().join("cosign.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let body = pem::parse(&key).unwrap();
    let j: serde_json::Value = serde_json::from_slice(body.contents()).unwrap();
    assert_eq!(j["kdf"]["name"], "scrypt");
    assert_eq!(j["kdf"]["params"]["N"], 32768);
    assert_eq!(j["cipher"]["name"], "nacl/secretbox");
    let public = std::fs::read_to_string(d.path().join("cosign.pub")).unwrap();
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));

    // An independent implementation decrypts it to the same public key.
    if require(node_available(), "node + fixture packages").is_some() {
        let o = Command::new("node")
            .arg(fixture_dir().join("cosign-key.js"))
            .arg("public")
            .arg(d.path().join("cosign.key"))
            .env("COSIGN_PASSWORD", "s3cret-pass")
            .output()
            .unwrap();
        ok(&o);
        assert_eq!(text(&o.stdout), public);
    }

    // Existing files are not overwritten without a terminal to ask (or --force).
    let o = c.run(d.path(), &["generate-key-pair"], &pw("x"));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(d.path().join("cosign.key")).unwrap(),
        key
    );
    // No password and no terminal: a clear error, nothing written.
    let d2 = tempfile::tempdir().unwrap();
    let o = c.run(d2.path(), &["generate-key-pair"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("COSIGN_PASSWORD"));
    assert!(!d2.path().join("cosign.key").exists());
}

#[test]
fn key_based_sign_and_verify() {
    let Some(reg) = Registry::start() else { return };
    let c = Cosign::new();
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    ok(&c.run(w, &["generate-key-pair"], &pw("pw1")));
    ok(&c.run(
        w,
        &["generate-key-pair", "--output-key-prefix", "other"],
        &pw("pw2"),
    ));
    let digest = reg.push_image("keys/app", "1.0", "key-based");
    let image = format!("{}/keys/app@{digest}", reg.host);

    let o = c.run(
        w,
        &[
            "sign",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "-a",
            "team=platform",
            &image,
        ],
        &pw("pw1"),
    );
    ok(&o);
    assert!(text(&o.stderr).contains(&format!("Pushing signature to: {}/keys/app", reg.host)));
    assert!(!text(&o.stderr).contains("tlog entry created"));

    let o = c.run(
        w,
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &image,
        ],
        &[],
    );
    ok(&o);
    assert!(
        text(&o.stderr).contains("The signatures were verified against the specified public key")
    );
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        out[0]["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );
    assert_eq!(out[0]["optional"]["team"], "platform");

    // openssl checks the stored signature over the stored payload with cosign.pub.
    if require(openssl_available(), "openssl").is_some() {
        let tag = digest.replace(':', "-") + ".sig";
        let (m, _) = reg.get_manifest("keys/app", &tag).unwrap();
        let m: serde_json::Value = serde_json::from_slice(&m).unwrap();
        let l = &m["layers"][0];
        assert!(l["annotations"]["dev.sigstore.cosign/certificate"].is_null());
        std::fs::write(
            w.join("payload"),
            reg.blob("keys/app", l["digest"].as_str().unwrap()),
        )
        .unwrap();
        let sig = base64::engine::general_purpose::STANDARD
            .decode(
                l["annotations"]["dev.cosignproject.cosign/signature"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
        std::fs::write(w.join("sig.der"), sig).unwrap();
        let o = Command::new("openssl")
            .args([
                "dgst",
                "-sha256",
                "-verify",
                "cosign.pub",
                "-signature",
                "sig.der",
                "payload",
            ])
            .current_dir(w)
            .output()
            .unwrap();
        assert!(
            text(&o.stdout).contains("Verified OK"),
            "{}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
    }

    // Wrong key: exit 12.
    let o = c.run(
        w,
        &[
            "verify",
            "--key",
            "other.pub",
            "--insecure-ignore-tlog",
            &image,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(12), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("no matching signatures"));
    // Without --insecure-ignore-tlog a tlog-less signature does not pass.
    let o = c.run(
        w,
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--trusted-root",
            "/nonexistent/tr.json",
            &image,
        ],
        &[],
    );
    assert_ne!(o.status.code(), Some(0));

    // Wrong password: exit 1, password not echoed, nothing pushed beyond the first signature.
    let o = c.run(
        w,
        &["sign", "--key", "cosign.key", "--tlog-upload=false", &image],
        &pw("not-the-password"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("decryption failed"));
    assert!(!text(&o.stderr).contains("not-the-password"));

    // Key from env://VAR (the raw PEM), second signature appended.
    let pem_text = std::fs::read_to_string(w.join("other.key")).unwrap();
    let mut env = pw("pw2");
    env.push(("MY_KEY".into(), pem_text));
    ok(&c.run(
        w,
        &[
            "sign",
            "--key",
            "env://MY_KEY",
            "--tlog-upload=false",
            &image,
        ],
        &env,
    ));
    let o = c.run(
        w,
        &[
            "verify",
            "--key",
            "other.pub",
            "--insecure-ignore-tlog",
            &image,
        ],
        &[],
    );
    ok(&o);
    let tag = digest.replace(':', "-") + ".sig";
    let (m, _) = reg.get_manifest("keys/app", &tag).unwrap();
    let m: serde_json::Value = serde_json::from_slice(&m).unwrap();
    assert_eq!(m["layers"].as_array().unwrap().len(), 2);
}

#[test]
fn key_made_by_independent_implementation_signs() {
    let Some(reg) = Registry::start() else { return };
    if require(node_available(), "node + fixture packages").is_none() {
        return;
    }
    let c = Cosign::new();
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    let o = Command::new("node")
        .arg(fixture_dir().join("cosign-key.js"))
        .args(["generate", "foreign"])
        .current_dir(w)
        .env("COSIGN_PASSWORD", "pw-foreign")
        .output()
        .unwrap();
    ok(&o);
    let digest = reg.push_image("keys/foreign", "1", "foreign");
    let image = format!("{}/keys/foreign@{digest}", reg.host);
    ok(&c.run(
        w,
        &[
            "sign",
            "--key",
            "foreign.key",
            "--tlog-upload=false",
            &image,
        ],
        &pw("pw-foreign"),
    ));
    ok(&c.run(
        w,
        &[
            "verify",
            "--key",
            "foreign.pub",
            "--insecure-ignore-tlog",
            &image,
        ],
        &[],
    ));
}

#[test]
fn key_based_with_transparency_log_and_bundle_format() {
    let Some(sig) = Sigstore::start() else { return };
    let Some(reg) = Registry::start() else { return };
    let c = Cosign::new();
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    ok(&c.run(w, &["generate-key-pair"], &pw("")));
    let digest = reg.push_image("keys/tlog", "1", "tlog");
    let image = format!("{}/keys/tlog@{digest}", reg.host);
    let tr = sig.trusted_root();
    let mut env = pw("");
    env.push((
        "SIGSTORE_SIGNING_CONFIG".into(),
        sig.signing_config().display().to_string(),
    ));
    env.push(("SIGSTORE_TRUSTED_ROOT".into(), tr.display().to_string()));

    let o = c.run(w, &["sign", "--key", "cosign.key", &image], &env);
    ok(&o);
    assert!(text(&o.stderr).contains("tlog entry created with index: "));
    let o = c.run(w, &["verify", "--key", "cosign.pub", &image], &env);
    ok(&o);
    assert!(text(&o.stderr)
        .contains("Existence of the claims in the transparency log was verified offline"));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(out[0]["optional"]["Bundle"]["Payload"]["logID"].is_string());

    // Bundle format with a key: DSSE + Rekor dsse entry, verified by us.
    let digest2 = reg.push_image("keys/tlog", "2", "tlog-two");
    let image2 = format!("{}/keys/tlog@{digest2}", reg.host);
    ok(&c.run(
        w,
        &[
            "sign",
            "--key",
            "cosign.key",
            "--new-bundle-format",
            &image2,
        ],
        &env,
    ));
    ok(&c.run(
        w,
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--new-bundle-format",
            &image2,
        ],
        &env,
    ));
    // Without the flag both kinds count, as in cosign v3: the bundle is found too.
    ok(&c.run(w, &["verify", "--key", "cosign.pub", &image2], &env));
    // With it, the legacy `.sig` of the first image is not looked at: exit 10.
    let o = c.run(
        w,
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--new-bundle-format",
            &image,
        ],
        &env,
    );
    assert_eq!(o.status.code(), Some(10), "{}", text(&o.stderr));
}

#[test]
fn bad_references_and_missing_images() {
    let Some(reg) = Registry::start() else { return };
    let c = Cosign::new();
    let d = tempfile::tempdir().unwrap();
    ok(&c.run(d.path(), &["generate-key-pair"], &pw("")));
    let missing = format!("{}/none/here:v9", reg.host);
    let o = c.run(
        d.path(),
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &missing,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(11), "{}", text(&o.stderr));
    let o = c.run(
        d.path(),
        &[
            "sign",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "not a ref",
        ],
        &pw(""),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("Error:"));
    // Keyless verify needs identity and issuer.
    let o = c.run(d.path(), &["verify", &missing], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("--certificate-identity"));
}

#[test]
fn registry_credentials_from_helm_registry_config() {
    let Some(reg) = Registry::start_with_auth("ci-bot", "reg-pass-123") else {
        return;
    };
    let c = Cosign::new();
    let d = tempfile::tempdir().unwrap();
    let w = d.path();
    ok(&c.run(w, &["generate-key-pair"], &pw("")));
    // Push the image as an authenticated client.
    let digest = {
        use oxtask::native::oci::{block_on, sha256_digest, Client, ClientOptions, Credential};
        let client = Client::new(ClientOptions {
            plain_http: true,
            credential: Some(Credential::basic("ci-bot", "reg-pass-123")),
            ..Default::default()
        })
        .unwrap();
        let host = reg.host.clone();
        block_on(async move {
            let cfg = b"{}";
            client.push_blob(&host, "private/app", cfg).await.unwrap();
            let m = format!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":2}},"layers":[]}}"#,
                sha256_digest(cfg)
            );
            client
                .push_manifest(&host, "private/app", "1", "application/vnd.oci.image.manifest.v1+json", m.as_bytes())
                .await
                .unwrap()
        })
        .unwrap()
    };
    let image = format!("{}/private/app@{digest}", reg.host);

    // Without credentials: a clear registry error, exit 1.
    let o = c.run(
        w,
        &["sign", "--key", "cosign.key", "--tlog-upload=false", &image],
        &pw(""),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains(&reg.host) && (err.contains("401") || err.contains("credential")),
        "{err}"
    );

    // `helm registry login` writes this file; cosign sign and verify use it.
    let auth = base64::engine::general_purpose::STANDARD.encode("ci-bot:reg-pass-123");
    std::fs::write(
        c.home.join("registry.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host),
    )
    .unwrap();
    let o = c.run(
        w,
        &["sign", "--key", "cosign.key", "--tlog-upload=false", &image],
        &pw(""),
    );
    ok(&o);
    assert!(!text(&o.stderr).contains("reg-pass-123"));
    ok(&c.run(
        w,
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &image,
        ],
        &[],
    ));

    // Wrong password: refused, and the password is not printed.
    let bad = base64::engine::general_purpose::STANDARD.encode("ci-bot:wrong-pass-456");
    std::fs::write(
        c.home.join("registry.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{bad}"}}}}}}"#, reg.host),
    )
    .unwrap();
    let o = c.run(
        w,
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &image,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(!text(&o.stderr).contains("wrong-pass-456") && !text(&o.stderr).contains(&bad));
}
